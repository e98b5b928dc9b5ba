//! The platform's evidence source (平台证据源): reads the records shuan keeps — the
//! platform store (accounts, grants, elevations, the copied audit records, the sharing
//! agreements and their service calls), the data directory (the asset inventory
//! `inventory.db`, the backup log, the keyring) and the node's ledger — and answers
//! [`shuan_comply::EvidenceSource`] with them, so the CLI (`shuan comply check`,
//! `shuan report build`) and the server evaluate the same facts.
//!
//! This crate owns reading platform records as compliance evidence, with aggregates asked
//! of the store (indexed counts, never whole tables of audit records) where the store has
//! them. It must not decide statuses, thresholds or wording — the engine in
//! `shuan-comply` does — and it never invents a figure: every kind of record the platform
//! does not keep yet (vendor vetting, connections, the open-data catalogue, uploaded
//! documents, …) answers `Ok(None)`, which the engine reports as 无证据.
//! Governance records (trainings, drills, assessments, collection reviews, quality runs),
//! incidents, rectification items, the collection register, lineage and temporaries are
//! read from the store. It writes
//! nothing, and it never creates a store or file that is not there (a missing
//! `inventory.db` is "no inventory kept", not an empty one).
//!
//! Node-wide records: the inventory, the keyring and the backup log belong to the node, not
//! to a department (they carry no department code); every department evaluated on a node
//! is answered with the node's, and [`scope_notes`] says so for reports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use shuan_access::Role;
use shuan_comply::source::{
    AccountRecord, AgreementRecord, AlertFacts, BackupRecord, CollectionRecord, ColumnScope,
    ConnectionFacts, Day, DocumentRef, ElevationRecord, EncryptionFacts, GovernanceKind,
    GovernanceRecord, ImportantDataFacts, IncidentRecord, InventoryFacts, KeyRecord, LedgerFacts,
    LedgerVerification, LineageFacts, Lookup, MaskingFacts, OpenCatalogueEntry, OperationFacts,
    OperationKind, RecordRef, RectificationItem, SharingFacts, SourceError, TemporaryFacts,
    VendorRecord,
};
use shuan_comply::{EvidenceSource, Period};
use shuan_store::platform::{Agreement, AuditFilter, ElevationStatus, PlatformStore, UnixTime};

const SECONDS_PER_DAY: i64 = 86_400;

/// At most this many example records are cited per lookup (the counts carry the rest).
const EXAMPLES: usize = 20;

/// Audit records read per page when service calls are counted.
const PAGE: usize = 5_000;

/// The ledger action of a data-service call through the gateway.
pub const SERVICE_CALL_ACTION: &str = "service.call";

/// The day (since 1970-01-01, UTC) of a Unix time.
pub fn day_of(t: UnixTime) -> Day {
    t.div_euclid(SECONDS_PER_DAY)
}

/// Audit records copied into the store in each calendar month of `period` (label
/// `YYYY-MM`), one indexed count per month, for the report's chart.
pub fn audit_by_month(
    store: &dyn PlatformStore,
    period: &Period,
) -> Result<Vec<(String, u64)>, SourceError> {
    let mut out = Vec::new();
    let mut start = period.start;
    while start <= period.end {
        let (y, m, _) = shuan_calendar::civil_from_days(start);
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let next = shuan_comply::source::day(ny, nm, 1).min(period.end + 1);
        let summary = store
            .audit_summary(start * SECONDS_PER_DAY, next * SECONDS_PER_DAY)
            .map_err(|e| failed("audit records", e))?;
        out.push((format!("{y:04}-{m:02}"), summary.records_in_range));
        start = next;
    }
    Ok(out)
}

/// Misuse and deadline alerts (告警) of the department fired in each calendar month of
/// `period` (label `YYYY-MM`), for the report's chart; alerts that name no department are
/// the node's and are not counted for a department.
pub fn alerts_by_month(
    store: &dyn PlatformStore,
    department: &str,
    period: &Period,
) -> Result<Vec<(String, u64)>, SourceError> {
    let (since, until) = period_seconds(period);
    let alerts = store
        .alerts(&shuan_store::platform::AlertFilter {
            since: Some(since),
            ..Default::default()
        })
        .map_err(|e| failed("alerts", e))?;
    let mut months: Vec<(String, u64)> = Vec::new();
    let mut start = period.start;
    while start <= period.end {
        let (y, m, _) = shuan_calendar::civil_from_days(start);
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        months.push((format!("{y:04}-{m:02}"), 0));
        start = shuan_comply::source::day(ny, nm, 1).min(period.end + 1);
    }
    for a in alerts
        .iter()
        .filter(|a| a.department.as_deref() == Some(department))
        .filter(|a| a.fired_at >= since && a.fired_at < until)
    {
        let (y, m, _) = shuan_calendar::civil_from_days(day_of(a.fired_at));
        let label = format!("{y:04}-{m:02}");
        if let Some(slot) = months.iter_mut().find(|(l, _)| *l == label) {
            slot.1 += 1;
        }
    }
    Ok(months)
}

/// The department's rectification items (整改事项) open at some time in `period` — raised
/// by its end and not closed before its start — oldest first: what the evidence engine
/// judges and what the report lists.
pub fn rectifications_in(
    store: &dyn PlatformStore,
    department: &str,
    period: &Period,
) -> Result<Vec<shuan_store::platform::risk::Rectification>, SourceError> {
    let mut items: Vec<_> = store
        .rectifications()
        .map_err(|e| failed("rectification items", e))?
        .into_iter()
        .filter(|r| r.department == department)
        .filter(|r| day_of(r.created_at) <= period.end)
        .filter(|r| r.closed_at.is_none_or(|c| day_of(c) >= period.start))
        .collect();
    items.sort_by_key(|r| (r.created_at, r.id));
    Ok(items)
}

/// What a report must say about the scope of the evidence (Chinese, one line each):
/// which records are the node's rather than the department's.
pub fn scope_notes() -> Vec<&'static str> {
    vec![
        "数据资产清单、密钥与备份记录按节点保存，不区分部门：本部门的相关结论即本节点的结论。",
        "审计记录为平台库中各节点审计日志的副本，按时间统计，不区分部门。",
        "数据资产清单未登记责任岗位与责任人，相关控制项据此判定。",
        "恢复演练记录按节点保存，不区分部门。",
        "供应商资格审查、开放目录、上传的证明材料等平台尚未保存，相应控制项为“无证据”；临时数据仅含设定了保留期的任务输出。",
    ]
}

/// Whether and how to check the node's ledger chain while gathering evidence.
#[derive(Debug, Clone)]
pub enum LedgerCheck {
    /// Do not verify; the integrity control then has no verification to cite.
    Skip,
    /// Verify the ledger in `dir` now against the node's public key in the data
    /// directory (`keys/node-sm2.pub.pem`), and cite that verification.
    Verify {
        /// The ledger directory.
        dir: PathBuf,
    },
}

/// [`EvidenceSource`] over one node's data directory and its platform store.
pub struct PlatformEvidence<'a> {
    store: &'a dyn PlatformStore,
    data_dir: PathBuf,
    ledger_check: LedgerCheck,
    today: Day,
    // The ledger verification is run once per evaluation, however many controls cite it.
    verification: std::sync::Mutex<Option<Option<LedgerVerification>>>,
}

impl<'a> PlatformEvidence<'a> {
    /// A source over `store` and the node's `data_dir`; `today` is the day verifications
    /// run now are dated.
    pub fn new(
        store: &'a dyn PlatformStore,
        data_dir: &Path,
        ledger_check: LedgerCheck,
        today: Day,
    ) -> Self {
        PlatformEvidence {
            store,
            data_dir: data_dir.to_path_buf(),
            ledger_check,
            today,
            verification: std::sync::Mutex::new(None),
        }
    }

    fn users_of(&self, department: &str) -> Result<Vec<shuan_store::platform::User>, SourceError> {
        let users = self.store.users().map_err(|e| failed("accounts", e))?;
        Ok(users
            .into_iter()
            .filter(|u| u.department == department)
            .collect())
    }

    fn verify_ledger(&self) -> Result<Option<LedgerVerification>, SourceError> {
        let mut cached = self
            .verification
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(v) = cached.as_ref() {
            return Ok(v.clone());
        }
        let v = match &self.ledger_check {
            LedgerCheck::Skip => None,
            LedgerCheck::Verify { dir } => {
                let key = shuan_crypto::node::load_node_public_key(&self.data_dir)
                    .map_err(|e| failed("node public key", e))?;
                let report = shuan_ledger::verify(dir, &key, &Default::default())
                    .map_err(|e| failed("ledger verification", e))?;
                Some(LedgerVerification {
                    at: self.today,
                    records_checked: report.records,
                    first_bad: report.problem.map(|p| {
                        RecordRef::new(
                            "ledger_record",
                            p.seq
                                .map_or_else(|| p.path.display().to_string(), |s| s.to_string()),
                            p.problem,
                        )
                    }),
                })
            }
        };
        *cached = Some(v.clone());
        Ok(v)
    }

    /// The node's inventory, when the data directory has one (never created here).
    fn inventory_store(&self) -> Result<Option<shuan_store::Store>, SourceError> {
        let path = self.data_dir.join(shuan_store::INVENTORY_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        shuan_store::Store::open_file(&path)
            .map(Some)
            .map_err(|e| failed("inventory", e))
    }

    /// Agreements the department is party to (as provider or recipient) that were in
    /// force at some time in `[since, until)`.
    fn agreements_of(
        &self,
        department: &str,
        since: UnixTime,
        until: UnixTime,
    ) -> Result<Vec<Agreement>, SourceError> {
        let all = self
            .store
            .agreements(None, None)
            .map_err(|e| failed("sharing agreements", e))?;
        Ok(all
            .into_iter()
            .filter(|a| a.provider == department || a.recipient == department)
            .filter(|a| a.valid_from < until && a.valid_until > since)
            .collect())
    }

    /// The service calls recorded in `[since, until)` that the gateway answered, as
    /// (time, agreement id); read page by page, so memory stays flat.
    fn answered_calls(
        &self,
        since: UnixTime,
        until: UnixTime,
    ) -> Result<Vec<(UnixTime, Option<i64>, String)>, SourceError> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let page = self
                .store
                .audit_search(&AuditFilter {
                    action: Some(SERVICE_CALL_ACTION.into()),
                    outcome: Some("allowed".into()),
                    since: Some(since),
                    until: Some(until),
                    limit: PAGE,
                    offset,
                    ..AuditFilter::default()
                })
                .map_err(|e| failed("service call records", e))?;
            let n = page.len();
            for r in page {
                let agreement = serde_json::from_str::<serde_json::Value>(&r.record_json)
                    .ok()
                    .and_then(|v| v.get("details")?.get("agreement")?.as_i64());
                out.push((r.time, agreement, format!("{}#{}", r.node, r.seq)));
            }
            if n < PAGE {
                return Ok(out);
            }
            offset += n;
        }
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError {
        what: what.to_string(),
        message: e.to_string(),
    }
}

/// `[start of first day, start of the day after the last)` in Unix seconds.
pub fn period_seconds(period: &Period) -> (UnixTime, UnixTime) {
    (
        period.start.saturating_mul(SECONDS_PER_DAY),
        period.end.saturating_add(1).saturating_mul(SECONDS_PER_DAY),
    )
}

/// `YYYY-MM-DD…` (RFC 3339) to a day; `None` when it is not one.
fn day_of_rfc3339(s: &str) -> Option<Day> {
    let date = s.get(..10)?;
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > 31 {
        return None;
    }
    Some(shuan_comply::source::day(y, m, d))
}

/// The keyring's key metadata (id, version, state, created) read from `keyring.json`
/// without unwrapping any key: a keyring under a passphrase cannot be opened by a report,
/// and its metadata is all the evidence needs.
fn keyring_metadata(path: &Path) -> Result<Vec<(String, bool, Day)>, SourceError> {
    let text = std::fs::read_to_string(path).map_err(|e| failed("keyring", e))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| failed("keyring", e))?;
    let unreadable = || failed("keyring", "keyring.json lists no keys in the expected form");
    let mut out = Vec::new();
    for k in v
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or_else(unreadable)?
    {
        let id = k
            .get("id")
            .and_then(|i| i.as_str())
            .ok_or_else(unreadable)?;
        for ver in k
            .get("versions")
            .and_then(|v| v.as_array())
            .ok_or_else(unreadable)?
        {
            let created = ver
                .get("created")
                .and_then(|c| c.as_str())
                .and_then(day_of_rfc3339)
                .ok_or_else(|| failed("keyring", format!("key {id}: unreadable creation time")))?;
            let active = ver.get("state").and_then(|s| s.as_str()) == Some("active");
            out.push((id.to_string(), active, created));
        }
    }
    Ok(out)
}

impl EvidenceSource for PlatformEvidence<'_> {
    /// The node's inventory (`inventory.db`): each source's latest scan. The scanner
    /// grades every column it records, so a recorded column with a level counts as graded;
    /// the inventory has no owner fields, so no dataset counts as having one; the last
    /// consistency check is the latest saved scan (each is diffed against the previous).
    fn inventory(&self, _department: &str) -> Lookup<InventoryFacts> {
        let Some(store) = self.inventory_store()? else {
            return Ok(None);
        };
        let entries = store.list().map_err(|e| failed("inventory", e))?;
        let mut facts = InventoryFacts {
            datasets: entries.len() as u64,
            ..InventoryFacts::default()
        };
        let mut scan_ids: Vec<i64> = entries.iter().map(|e| e.scan_id).collect();
        scan_ids.sort_unstable();
        scan_ids.dedup();
        let mut by_level: BTreeMap<(u32, String), u64> = BTreeMap::new();
        for id in scan_ids {
            for t in store.scan_tables(id).map_err(|e| failed("inventory", e))? {
                for c in &t.columns {
                    facts.columns += 1;
                    if c.level.trim().is_empty() {
                        if facts.ungraded_columns.len() < EXAMPLES {
                            facts.ungraded_columns.push(RecordRef::new(
                                "column",
                                format!("{}.{}", t.name, c.name),
                                "",
                            ));
                        }
                    } else {
                        facts.columns_graded += 1;
                        *by_level.entry((c.level_rank, c.level.clone())).or_default() += 1;
                    }
                }
            }
        }
        facts.columns_by_level = by_level.into_iter().map(|((_, l), n)| (l, n)).collect();
        facts.datasets_without_owner = entries
            .iter()
            .take(EXAMPLES)
            .map(|e| {
                RecordRef::new(
                    "dataset",
                    format!("{}/{}", e.source, e.table),
                    "清单未登记责任岗位与责任人",
                )
            })
            .collect();
        facts.last_consistency_check = entries
            .iter()
            .filter_map(|e| day_of_rfc3339(&e.scanned_at))
            .max();
        Ok(Some(facts))
    }

    /// The important-data catalogue is the inventory's tables graded at a catalogue level.
    fn important_data(&self, _department: &str) -> Lookup<ImportantDataFacts> {
        let Some(store) = self.inventory_store()? else {
            return Ok(None);
        };
        let entries = store.list().map_err(|e| failed("inventory", e))?;
        let catalogue = store
            .catalogue()
            .map_err(|e| failed("important-data catalogue", e))?;
        let at_levels: Vec<_> = entries.iter().filter(|e| e.catalogue).collect();
        let uncatalogued: Vec<RecordRef> = at_levels
            .iter()
            .filter(|e| {
                !catalogue
                    .iter()
                    .any(|c| c.source == e.source && c.table == e.table)
            })
            .take(EXAMPLES)
            .map(|e| {
                RecordRef::new(
                    "dataset",
                    format!("{}/{}", e.source, e.table),
                    e.level.clone(),
                )
            })
            .collect();
        let catalogued = at_levels
            .iter()
            .filter(|e| {
                catalogue
                    .iter()
                    .any(|c| c.source == e.source && c.table == e.table)
            })
            .count() as u64;
        Ok(Some(ImportantDataFacts {
            datasets_at_catalogue_levels: at_levels.len() as u64,
            catalogued,
            uncatalogued,
        }))
    }

    fn encryption_at_rest(
        &self,
        _department: &str,
        _scope: &ColumnScope,
    ) -> Lookup<EncryptionFacts> {
        // The inventory does not record whether a column is stored encrypted.
        Ok(None)
    }

    /// The node's keyring (one per node, shared by its departments). Every keyring key is
    /// an SM4 key (the keyring wraps and uses SM4-GCM only).
    fn keys(&self, _department: &str) -> Lookup<Vec<KeyRecord>> {
        let path = shuan_crypto::keyring::keyring_path(&self.data_dir);
        if !path.exists() {
            return Ok(None);
        }
        let mut keys: Vec<KeyRecord> = Vec::new();
        for (id, active, created) in keyring_metadata(&path)? {
            match keys.iter_mut().find(|k| k.id == id) {
                Some(k) => {
                    k.last_rotated = k.last_rotated.max(created);
                    k.retired &= !active;
                }
                None => keys.push(KeyRecord {
                    id,
                    algorithm: "sm4".to_string(),
                    last_rotated: created,
                    retired: !active,
                }),
            }
        }
        Ok(Some(keys))
    }

    fn connections(&self, _department: &str) -> Lookup<ConnectionFacts> {
        // Source URLs are stored sealed; whether each uses TLS is not recorded beside them.
        Ok(None)
    }

    /// The audit records copied into the platform store (every node of the platform; the
    /// ledger is kept per node, not per department), and optionally a verification of
    /// this node's chain run now.
    fn ledger(&self, _department: &str, period: &Period) -> Lookup<LedgerFacts> {
        let (since, until) = period_seconds(period);
        let summary = self
            .store
            .audit_summary(since, until)
            .map_err(|e| failed("audit records", e))?;
        Ok(Some(LedgerFacts {
            records_in_period: summary.records_in_range,
            oldest_retained: summary.oldest_time.map(day_of),
            // Not established: the copy may have started after the ledger's first record,
            // so retention is judged by the oldest record's age instead.
            complete_from_genesis: false,
            last_verification: self.verify_ledger()?,
        }))
    }

    fn operations(
        &self,
        _department: &str,
        _period: &Period,
        _kind: OperationKind,
    ) -> Lookup<OperationFacts> {
        // Operations are only known through their ledger records: there is no separate
        // register to compare the ledger with.
        Ok(None)
    }

    fn accounts(&self, department: &str) -> Lookup<Vec<AccountRecord>> {
        let users = self.users_of(department)?;
        let grants = self.store.all_grants().map_err(|e| failed("grants", e))?;
        Ok(Some(
            users
                .into_iter()
                .map(|u| AccountRecord {
                    grants: grants
                        .iter()
                        .filter(|g| g.username == u.username)
                        .map(|g| g.grant.clone())
                        .collect(),
                    last_active: u.last_login_at.map(day_of),
                    created: day_of(u.created_at),
                    second_factor: u.totp.as_ref().is_some_and(|t| t.confirmed),
                    vendor: u.vendor,
                    disabled: u.disabled,
                    id: u.username,
                })
                .collect(),
        ))
    }

    fn elevations(&self, department: &str, period: &Period) -> Lookup<Vec<ElevationRecord>> {
        let members: Vec<String> = self
            .users_of(department)?
            .into_iter()
            .map(|u| u.username)
            .collect();
        let grants = self.store.all_grants().map_err(|e| failed("grants", e))?;
        let is_cdo = |who: &str| {
            grants
                .iter()
                .any(|g| g.username == who && g.grant.role == Role::ChiefDataOfficer)
        };
        let (since, until) = period_seconds(period);
        let mut out = Vec::new();
        for e in self
            .store
            .elevations(None, None)
            .map_err(|e| failed("elevations", e))?
        {
            if !members.contains(&e.username) || e.requested_at < since || e.requested_at >= until {
                continue;
            }
            // Recorded: the request's ledger record, copied into the store, by the
            // requester within a minute of the request.
            let requests = self
                .store
                .audit_search(&AuditFilter {
                    actor: Some(e.username.clone()),
                    action: Some("elevation.request".into()),
                    since: Some(e.requested_at - 60),
                    until: Some(e.requested_at + 61),
                    limit: 1,
                    ..AuditFilter::default()
                })
                .map_err(|err| failed("audit records", err))?;
            out.push(ElevationRecord {
                id: e.id.to_string(),
                account: e.username.clone(),
                approved_by_chief_data_officer: e.status == ElevationStatus::Approved
                    && e.decided_by.as_deref().is_some_and(is_cdo),
                recorded: !requests.is_empty(),
            });
        }
        Ok(Some(out))
    }

    fn masking(&self, _department: &str, _period: &Period) -> Lookup<MaskingFacts> {
        // Masking rule sets per department are not kept; jobs are only ledger records.
        Ok(None)
    }

    fn alerts(&self, _department: &str, _period: &Period, _days: u32) -> Lookup<AlertFacts> {
        Ok(None)
    }

    /// The node's backup log (`backup-log.jsonl`): every `create` up to the end of the
    /// period, verified by the latest successful `verify` or `restore` of the same archive
    /// (matched by its SM3).
    fn backups(&self, _department: &str, period: &Period) -> Lookup<Vec<BackupRecord>> {
        let path = shuan_crypto::backup::log_path(&self.data_dir);
        if !path.is_file() {
            return Ok(None);
        }
        let log =
            shuan_crypto::backup::read_log(&self.data_dir).map_err(|e| failed("backup log", e))?;
        let mut out = Vec::new();
        for r in log.iter().filter(|r| r.action == "create") {
            let Some(at) = day_of_rfc3339(&r.time) else {
                continue;
            };
            if at > period.end {
                continue;
            }
            let ok = r.result == "ok";
            let verified_at = log
                .iter()
                .filter(|v| {
                    (v.action == "verify" || v.action == "restore")
                        && v.result == "ok"
                        && ok
                        && !r.archive_sm3.is_empty()
                        && v.archive_sm3 == r.archive_sm3
                })
                .filter_map(|v| day_of_rfc3339(&v.time))
                .filter(|d| *d <= period.end)
                .max();
            out.push(BackupRecord {
                id: if r.archive_sm3.is_empty() {
                    r.archive.display().to_string()
                } else {
                    r.archive_sm3.chars().take(16).collect()
                },
                at,
                succeeded: ok,
                verified_at,
            });
        }
        Ok(Some(out))
    }

    /// Agreements the department is party to, in force during the period, with the
    /// elements their request stated, the day of their final approval and of their first
    /// answered call; deliveries are the gateway's answered calls (`service.call`,
    /// allowed) under them, authorised when made within the agreement's period.
    fn sharing(&self, department: &str, period: &Period) -> Lookup<SharingFacts> {
        let (since, until) = period_seconds(period);
        let agreements = self.agreements_of(department, since, until)?;
        let ids: Vec<i64> = agreements.iter().map(|a| a.id).collect();
        let calls = if agreements.is_empty() {
            Vec::new()
        } else {
            self.answered_calls(since, until)?
        };
        let mut facts = SharingFacts::default();
        for a in &agreements {
            let request = self
                .store
                .share_request(a.request_id)
                .map_err(|e| failed("share requests", e))?;
            let mut missing = Vec::new();
            let blank = |s: &str| s.trim().is_empty();
            if blank(&a.requester) {
                missing.push("requester");
            }
            if blank(&a.purpose) {
                missing.push("purpose");
            }
            if blank(&a.method) {
                missing.push("method");
            }
            if a.fields.is_empty() {
                missing.push("scope");
            }
            if a.valid_until <= a.valid_from {
                missing.push("period");
            }
            if blank(&a.scenario) {
                missing.push("scenario");
            }
            if request
                .as_ref()
                .and_then(|r| r.safeguards.as_deref())
                .is_none_or(blank)
            {
                missing.push("safeguards");
            }
            let approvals = self
                .store
                .approvals(a.request_id)
                .map_err(|e| failed("approvals", e))?;
            // Approved when its request's last step was approved: the agreement exists only
            // then, so its creation is the approval when no step is on record.
            let approved_at = approvals
                .iter()
                .filter(|ap| ap.approve)
                .map(|ap| ap.at)
                .max()
                .or(Some(a.created_at))
                .map(day_of);
            let first_delivery = calls
                .iter()
                .filter(|(_, ag, _)| *ag == Some(a.id))
                .map(|(t, _, _)| *t)
                .min()
                .map(day_of);
            facts.agreements.push(AgreementRecord {
                id: a.id.to_string(),
                missing_fields: missing.into_iter().map(String::from).collect(),
                approved_at,
                first_delivery,
            });
        }
        for (t, agreement, id) in calls {
            let Some(ag) = agreement.filter(|g| ids.contains(g)) else {
                continue;
            };
            facts.deliveries += 1;
            let a = agreements.iter().find(|a| a.id == ag);
            if a.is_some_and(|a| a.valid_from <= t && t < a.valid_until) {
                facts.deliveries_authorised += 1;
            } else if facts.unauthorised.len() < EXAMPLES {
                facts.unauthorised.push(RecordRef::new(
                    "ledger_record",
                    id,
                    format!("协议 {ag} 有效期外的交付"),
                ));
            }
        }
        Ok(Some(facts))
    }

    fn open_catalogue(&self, _department: &str) -> Lookup<Vec<OpenCatalogueEntry>> {
        // The resource catalogue records the open type but not an opening's risks,
        // safeguards or masking: no open-data catalogue is kept yet.
        Ok(None)
    }

    fn governance(&self, department: &str, kind: GovernanceKind) -> Lookup<Vec<GovernanceRecord>> {
        let s = self.store;
        let open = |items: &[shuan_store::platform::Rectification]| {
            items.iter().filter(|i| i.closed_at.is_none()).count() as u32
        };
        let records = match kind {
            GovernanceKind::Training => s
                .training_sessions()
                .map_err(|e| failed("training sessions", e))?
                .into_iter()
                .filter(|t| t.department == department)
                .map(|t| GovernanceRecord {
                    id: t.id.to_string(),
                    at: day_of(t.held_at),
                    // Every attendee's evaluation (考核) is recorded with the session.
                    evaluated: !t.attendees.is_empty(),
                    open_findings: 0,
                })
                .collect(),
            GovernanceKind::EmergencyDrill => s
                .emergency_drills()
                .map_err(|e| failed("emergency drills", e))?
                .into_iter()
                .filter(|d| d.department == department)
                .map(|d| GovernanceRecord {
                    id: d.id.to_string(),
                    at: day_of(d.held_at),
                    evaluated: !d.evaluation.is_empty(),
                    open_findings: open(&d.findings),
                })
                .collect(),
            GovernanceKind::EmergencyPlan => s
                .emergency_plans()
                .map_err(|e| failed("emergency plans", e))?
                .into_iter()
                .filter(|x| x.department == department)
                .map(|x| GovernanceRecord {
                    id: x.id.to_string(),
                    at: day_of(x.adopted_at),
                    evaluated: true,
                    open_findings: 0,
                })
                .collect(),
            // Restore drills belong to the node, like its backups.
            GovernanceKind::RecoveryDrill => {
                let drills = s
                    .restore_drills(None, 10_000)
                    .map_err(|e| failed("restore drills", e))?;
                drills
                    .iter()
                    .map(|d| GovernanceRecord {
                        id: d.id.to_string(),
                        at: day_of(d.started_at),
                        // The drill's verdict is its evaluation; a failure stays open
                        // until a later drill of the same plan passes.
                        evaluated: true,
                        open_findings: u32::from(
                            !d.passed
                                && !drills.iter().any(|later| {
                                    later.plan_id == d.plan_id
                                        && later.passed
                                        && later.started_at > d.started_at
                                }),
                        ),
                    })
                    .collect()
            }
            GovernanceKind::RiskAssessment
            | GovernanceKind::ImportantDataAssessment
            | GovernanceKind::CryptoEvaluation
            | GovernanceKind::ClassifiedProtectionTest
            | GovernanceKind::VulnerabilityScan
            | GovernanceKind::SupplyChainReview => {
                let wanted = match kind {
                    GovernanceKind::RiskAssessment => "data_security",
                    GovernanceKind::ImportantDataAssessment => "important_data",
                    GovernanceKind::CryptoEvaluation => "crypto_evaluation",
                    GovernanceKind::ClassifiedProtectionTest => "classified_protection",
                    GovernanceKind::VulnerabilityScan => "vulnerability_scan",
                    _ => "supply_chain",
                };
                s.risk_assessments()
                    .map_err(|e| failed("risk assessments", e))?
                    .into_iter()
                    .filter(|a| a.department == department && a.kind == wanted)
                    .map(|a| GovernanceRecord {
                        id: a.id.to_string(),
                        at: day_of(a.assessed_at),
                        evaluated: !a.conclusion.is_empty(),
                        open_findings: open(&a.findings),
                    })
                    .collect()
            }
            GovernanceKind::CollectionReview => {
                let ours: std::collections::BTreeSet<i64> = s
                    .collections()
                    .map_err(|e| failed("collections", e))?
                    .into_iter()
                    .filter(|c| c.department == department)
                    .map(|c| c.id)
                    .collect();
                s.collection_reviews()
                    .map_err(|e| failed("collection reviews", e))?
                    .into_iter()
                    .filter(|r| ours.contains(&r.collection_id))
                    .map(|r| GovernanceRecord {
                        id: r.id.to_string(),
                        at: day_of(r.reviewed_at),
                        evaluated: true,
                        open_findings: u32::from(r.outcome == "modify"),
                    })
                    .collect()
            }
            GovernanceKind::QualityCheck => {
                let ours: std::collections::BTreeSet<i64> = s
                    .quality_rule_sets()
                    .map_err(|e| failed("quality rule sets", e))?
                    .into_iter()
                    .filter(|r| r.department == department)
                    .map(|r| r.id)
                    .collect();
                use shuan_store::platform::QualityRunStatus;
                let mut records = Vec::new();
                // Per rule set of the department, so another department's frequent runs
                // never crowd these out.
                for set in ours {
                    let runs = s
                        .quality_runs(Some(set), 10_000)
                        .map_err(|e| failed("quality runs", e))?;
                    for r in &runs {
                        // Violations stay open until a later run of the set passes.
                        let fixed = runs.iter().any(|later| {
                            later.status == QualityRunStatus::Passed
                                && later.started_at > r.started_at
                        });
                        records.push(GovernanceRecord {
                            id: r.id.to_string(),
                            at: day_of(r.started_at),
                            evaluated: r.status != QualityRunStatus::Failed,
                            open_findings: u32::from(
                                r.status == QualityRunStatus::Violations && !fixed,
                            ),
                        });
                    }
                }
                records
            }
            // Not kept by the platform yet: critical-infrastructure checks, its own
            // self-inspection reports, service-call audits.
            GovernanceKind::CriticalInfrastructureCheck
            | GovernanceKind::SelfInspection
            | GovernanceKind::ServiceCallAudit => return Ok(None),
        };
        Ok(Some(records))
    }

    fn incidents(&self, department: &str, period: &Period) -> Lookup<Vec<IncidentRecord>> {
        let all = self
            .store
            .incidents(None)
            .map_err(|e| failed("incidents", e))?;
        Ok(Some(
            all.into_iter()
                .filter(|i| i.department == department)
                .filter(|i| {
                    let found = day_of(i.occurred_at);
                    period.start <= found && found <= period.end
                })
                .map(|i| IncidentRecord {
                    id: i.id.to_string(),
                    found: day_of(i.occurred_at),
                    reported: i.supervisor_reported_at.map(day_of),
                    response_ended: i.response_ended_at.map(day_of),
                    supplementary_report: i.supplementary_at.map(day_of),
                })
                .collect(),
        ))
    }

    fn vendors(&self, _department: &str) -> Lookup<Vec<VendorRecord>> {
        // Vendors and contracts are kept, but not their qualification review (资格审查):
        // without it no vendor can be judged vetted or not.
        Ok(None)
    }

    fn rectifications(&self, department: &str, period: &Period) -> Lookup<Vec<RectificationItem>> {
        Ok(Some(
            rectifications_in(self.store, department, period)?
                .into_iter()
                .map(|r| RectificationItem {
                    id: r.id.to_string(),
                    due: day_of(r.due_at),
                    closed: r.closed_at.map(day_of),
                })
                .collect(),
        ))
    }

    fn collections(&self, department: &str) -> Lookup<Vec<CollectionRecord>> {
        let all = self
            .store
            .collections()
            .map_err(|e| failed("collections", e))?;
        Ok(Some(
            all.into_iter()
                .filter(|c| c.department == department && !c.stopped)
                .map(|c| {
                    let mut missing = Vec::new();
                    for (name, value) in [
                        ("purpose", &c.purpose),
                        ("use", &c.use_for),
                        ("channel", &c.channel),
                        ("process", &c.process),
                        ("format", &c.format),
                    ] {
                        if value.trim().is_empty() {
                            missing.push(name.to_string());
                        }
                    }
                    if c.fields.is_empty() {
                        missing.push("content".to_string());
                    }
                    CollectionRecord {
                        id: c.id.to_string(),
                        missing_fields: missing,
                    }
                })
                .collect(),
        ))
    }

    fn temporaries(
        &self,
        department: &str,
        period: &Period,
        max_age_days: u32,
    ) -> Lookup<TemporaryFacts> {
        let (temporaries, destructions) = (
            self.store
                .temporaries()
                .map_err(|e| failed("temporaries", e))?,
            self.store
                .destructions(None)
                .map_err(|e| failed("destructions", e))?,
        );
        let removed_on = |t: &shuan_store::platform::Temporary| {
            t.destruction_id.and_then(|id| {
                destructions
                    .iter()
                    .find(|d| d.id == id)
                    .filter(|d| d.status == shuan_store::platform::DestructionStatus::Executed)
                    .and_then(|d| d.executed_at)
                    .map(day_of)
            })
        };
        // Judged at the period's end, or today for a period not over yet.
        let as_of = period.end.min(self.today);
        let mut facts = TemporaryFacts::default();
        for t in temporaries.iter().filter(|t| t.department == department) {
            let made = day_of(t.created_at);
            if made > period.end {
                continue;
            }
            let removed = removed_on(t).filter(|d| *d <= period.end);
            if made >= period.start {
                facts.created += 1;
                if removed.is_some() {
                    facts.removed += 1;
                }
            }
            // Held too long: still held past the age, or removed late within the period.
            let held_days = removed.unwrap_or(as_of) - made;
            let in_period = removed.is_none_or(|r| r >= period.start);
            if in_period && held_days > i64::from(max_age_days) && facts.overdue.len() < EXAMPLES {
                let what = match removed {
                    Some(_) => format!(
                        "任务 {} 的临时输出 {} 保留 {held_days} 天后才清除",
                        t.origin_id, t.path
                    ),
                    None => format!(
                        "任务 {} 的临时输出 {} 已保留 {held_days} 天",
                        t.origin_id, t.path
                    ),
                };
                facts
                    .overdue
                    .push(RecordRef::new("temporary", t.id.to_string(), what));
            }
        }
        Ok(Some(facts))
    }

    fn lineage(&self, department: &str) -> Lookup<LineageFacts> {
        // Derived datasets: the outputs of the department's finished masking jobs, and the
        // derivations registered for it. A job output is traced when a derivation names
        // it (jobs run before lineage was kept are not).
        let jobs = self.store.jobs(None, 0).map_err(|e| failed("jobs", e))?;
        let mut facts = LineageFacts::default();
        for j in jobs
            .iter()
            .filter(|j| j.department == department && j.kind == "mask" && j.status == "succeeded")
        {
            let outputs = j
                .result
                .as_ref()
                .and_then(|r| r.get("destinations"))
                .and_then(|d| d.as_array())
                .cloned()
                .unwrap_or_default();
            for out in outputs.iter().filter_map(|o| o.as_str()) {
                facts.derived += 1;
                // Traced by a derivation of this department's (another department's
                // steward cannot vouch for this one's outputs).
                let producing = self
                    .store
                    .derivations_producing(out)
                    .map_err(|e| failed("derivations", e))?;
                if !producing
                    .iter()
                    .any(|d| d.department.as_deref() == Some(department))
                {
                    if facts.untraced.len() < EXAMPLES {
                        facts.untraced.push(RecordRef::new(
                            "job",
                            j.id.to_string(),
                            format!("脱敏输出 {out} 无溯源记录"),
                        ));
                    }
                } else {
                    facts.traced += 1;
                }
            }
        }
        // A derivation registered by hand names its inputs (the store refuses one without),
        // so each is a derived dataset traced to them.
        let registered = self
            .store
            .count_registered_derivations(department)
            .map_err(|e| failed("derivations", e))?;
        let registered = u64::try_from(registered).unwrap_or(0);
        facts.derived += registered;
        facts.traced += registered;
        Ok(Some(facts))
    }

    fn documents(
        &self,
        _department: &str,
        _period: &Period,
        _control_id: &str,
    ) -> Lookup<Vec<DocumentRef>> {
        Ok(None)
    }
}
