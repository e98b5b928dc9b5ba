//! What `shuan mask`, `shuan unmask` and `shuan watermark` need from the rest of the
//! platform: the masking key from the keyring (密钥管理), sensitivity levels (分级) from the
//! grading profile for level-based rules, and masking-log records (脱敏日志, R-17) in the
//! audit ledger.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::Value;
use shuan_classify::Profile;
use shuan_crypto::keyring::{keyring_path, KeyState};
use shuan_ledger::Outcome;
use shuan_mask::log::MaskLogRecord;
use shuan_mask::rules::Scenario;
use shuan_mask::MaskKeys;

use crate::audit_trail::AuditTrail;
use crate::context::Context;

pub use shuan_mask::key::{KeyOrigin, DEFAULT_MASK_KEY_ID};

/// How a command wants its masking key.
pub struct KeyRequest<'a> {
    /// `--key-file`, which wins over the keyring.
    pub key_file: Option<&'a Path>,
    /// Keyring data key id (`--key-id`, default [`DEFAULT_MASK_KEY_ID`]).
    pub key_id: &'a str,
    /// A specific version (`--key-version`; unmasking data masked before a rotation).
    pub key_version: Option<u32>,
    /// Create the keyring key on first use (masking), or require it to exist (unmasking).
    pub create: bool,
}

/// Loads the masking key: the key file if one is given, else the keyring's data key
/// (created on first use when `create`), else `None` when the data directory has no
/// keyring or the keyring has no such key yet. The 32-byte masking master key is HMAC-SM3(data key, label), so the data key
/// itself never leaves the keyring module and destroying it (`shuan keys destroy mask`)
/// makes every pseudonym and FPE value of that key irreversible for good.
pub fn load_mask_keys(
    ctx: &Context,
    req: &KeyRequest<'_>,
) -> Result<Option<(MaskKeys, KeyOrigin)>> {
    if let Some(p) = req.key_file {
        let keys = MaskKeys::load_file(p)?;
        return Ok(Some((keys, KeyOrigin::File(p.display().to_string()))));
    }
    if !keyring_path(&ctx.data_dir).exists() {
        return Ok(None);
    }
    let mut kr = crate::cmd::keys::open_keyring(ctx)?;
    let Some(found) =
        shuan_mask::key::keyring_mask_key(&mut kr, req.key_id, req.key_version, req.create)?
    else {
        return Ok(None);
    };
    if found.created {
        eprintln!(
            "created data key '{}' in the keyring for masking (pseudonyms, FPE); \
             back up the data directory: without this key FPE cannot be reversed",
            req.key_id
        );
    }
    Ok(Some((found.keys, found.origin)))
}

/// The masking keys of a keyring data key.
fn keys_from_data_key(data_key: &[u8; 16]) -> MaskKeys {
    MaskKeys::from_keyring_data_key(data_key)
}

/// Every masking key a detection may need: the key file or the chosen version if one is
/// given, else every version of the keyring key that is not destroyed (a watermarked
/// extract made before a rotation carries an older version's mark).
pub fn candidate_mask_keys(
    ctx: &Context,
    req: &KeyRequest<'_>,
) -> Result<Vec<(MaskKeys, KeyOrigin)>> {
    if req.key_file.is_some() || req.key_version.is_some() {
        return Ok(load_mask_keys(ctx, req)?.into_iter().collect());
    }
    if !keyring_path(&ctx.data_dir).exists() {
        return Ok(Vec::new());
    }
    let kr = crate::cmd::keys::open_keyring(ctx)?;
    let mut out = Vec::new();
    for info in kr.list() {
        if info.id == req.key_id && info.state != KeyState::Destroyed {
            let data_key = kr.key(&info.id, info.version)?;
            out.push((
                keys_from_data_key(&data_key),
                KeyOrigin::Keyring(info.id.clone(), info.version),
            ));
        }
    }
    Ok(out)
}

/// Rejects rules naming a level the grading profile does not have: such a rule would
/// silently never match.
pub fn check_rule_levels<'a>(
    scenarios: impl IntoIterator<Item = &'a Scenario>,
    profile: &Profile,
) -> Result<()> {
    Ok(shuan_mask::source_job::check_rule_levels(
        scenarios, profile,
    )?)
}

/// Writes a masking-log record (mask, unmask, watermark detection) to the audit ledger:
/// who (the ledger's actor), when (the ledger's time) and everything else as details.
pub fn record_mask_event(
    trail: &AuditTrail,
    record: &MaskLogRecord,
    key: Option<&KeyOrigin>,
    outcome: Outcome,
) -> Result<u64> {
    let details = record.audit_details(key);
    trail.record(&record.event, &record.source, outcome, details)
}

/// How one column of a masked file was made, by the masking log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedColumn {
    /// Operator name (`fpe`, `pseudonym`, …).
    pub operator: String,
    /// The rule that chose it (`file:line` or `unmatched`).
    pub rule: String,
    /// Sequence number of the ledger record.
    pub seq: u64,
}

/// The operator that made `column` of the masked file `file`, by the latest successful
/// `mask` record in the audit ledger whose destinations include that file; `None` when
/// the ledger has no such record (a file masked elsewhere).
pub fn recorded_column_operator(
    ctx: &Context,
    file: &Path,
    column: &str,
) -> Result<Option<RecordedColumn>> {
    let dir = shuan_ledger::default_dir(&ctx.data_dir);
    if !dir.exists() {
        return Ok(None);
    }
    let Ok(wanted) = std::fs::canonicalize(file) else {
        return Ok(None);
    };
    let same_file = |d: &str| std::fs::canonicalize(d.trim()).is_ok_and(|p| p == wanted);
    let mut found = None;
    for record in shuan_ledger::reader::records(&dir, 1)
        .with_context(|| format!("reading the masking log in {}", dir.display()))?
    {
        let record =
            record.with_context(|| format!("reading the masking log in {}", dir.display()))?;
        if record.action != "mask" || record.outcome != Outcome::Allowed {
            continue;
        }
        let details = &record.details;
        let Some(dests) = details.get("destination").and_then(Value::as_str) else {
            continue;
        };
        // One destination per table, in the order of `tables`.
        let Some(i) = dests.split(", ").position(same_file) else {
            continue;
        };
        let made = details
            .get("tables")
            .and_then(|t| t.get(i))
            .and_then(|t| t.get("columns"))
            .and_then(Value::as_array)
            .and_then(|cols| {
                cols.iter()
                    .find(|c| c.get("column").and_then(Value::as_str) == Some(column))
            });
        if let Some(c) = made {
            let text = |k: &str| {
                c.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            found = Some(RecordedColumn {
                operator: text("operator"),
                rule: text("rule"),
                seq: record.seq,
            });
        }
    }
    Ok(found)
}
