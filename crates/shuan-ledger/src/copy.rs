//! Verifying a copy of a ledger's records held outside its directory — the platform
//! store's copy of every `shuan serve` node's chain — against that ledger's signed
//! checkpoints.
//!
//! A copy keeps the records (as JSON, any key order) but not the stored leaf hashes, so
//! [`verify_copy`] rebuilds the hash chain from the ledger id's genesis hash over each
//! record's canonical form, feeds the leaves into the Merkle tree, and at every signed
//! checkpoint compares the root with the signed one; the signatures are checked with the
//! node's public key. What it finds:
//!
//! - a record missing in the middle or at the start (exact position: the numbering has a
//!   gap), records filed under another position than their own, duplicates;
//! - a record that is not a record, or that the copy's own bookkeeping contradicts (the
//!   caller says so, see [`CopiedRecord::record`]) — exact position;
//! - a record altered in place, or several rewritten together: the first checkpoint whose
//!   root no longer matches. Without the stored leaf hashes the copy cannot say which
//!   record of that stretch changed, so the finding names the first record not proven by
//!   an earlier checkpoint and the stretch it lies in;
//! - records deleted at the end, up to a signed checkpoint;
//! - a checkpoint that is not signed by the node's key, or whose sizes go down.
//!
//! Records after the newest checkpoint are checked for numbering and form only: nothing
//! signed covers them yet ([`CopyReport::unsigned_tail`]).

use shuan_crypto::sm2::VerifyingKey;

use crate::checkpoint::{genesis_hash, Checkpoint};
use crate::merkle::{empty_root, leaf_hash, Frontier};
use crate::record::{Record, Seq, MAX_RECORD_BYTES};

/// One record as a copy holds it.
#[derive(Clone, Debug)]
pub struct CopiedRecord {
    /// The position the copy files it under.
    pub seq: Seq,
    /// The record, or why the copy's own fields contradict it (e.g. a search column that
    /// disagrees with the record's JSON, or JSON that is not a record).
    pub record: Result<Record, String>,
}

impl CopiedRecord {
    /// A record from its JSON (canonical or not): a [`Record`] with its fields, nothing
    /// else.
    pub fn from_json(seq: Seq, json: &str) -> CopiedRecord {
        CopiedRecord {
            seq,
            record: serde_json::from_str::<Record>(json)
                .map_err(|e| format!("the copied record is not an audit record ({e})")),
        }
    }
}

/// The first problem of a copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyFinding {
    /// The first record that is not proven good, if the problem concerns records.
    pub seq: Option<Seq>,
    /// What is wrong.
    pub problem: String,
    /// The copy ends before a signed checkpoint does (records missing at the end). On a
    /// live node this can also be a checkpoint copied a moment before its last records.
    pub ends_early: bool,
}

impl std::fmt::Display for CopyFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(s) = self.seq {
            write!(f, "record {s}: ")?;
        }
        f.write_str(&self.problem)
    }
}

/// What [`verify_copy`] checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Records checked before the problem (all of them when there is none).
    pub records: u64,
    /// Signed checkpoints given.
    pub checkpoints: usize,
    /// Whether the checkpoints' signatures were checked (a public key was given).
    pub signatures_checked: bool,
    /// Size of the newest checkpoint, if any.
    pub last_checkpoint: Option<u64>,
    /// Records after the newest checkpoint: checked for numbering and form only (0 when
    /// there is a problem).
    pub unsigned_tail: u64,
    /// The first problem; `None` when the copy matches every checkpoint.
    pub problem: Option<CopyFinding>,
}

impl CopyReport {
    /// True if nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

fn finding(seq: Option<Seq>, problem: String) -> Option<CopyFinding> {
    Some(CopyFinding {
        seq,
        problem,
        ends_early: false,
    })
}

/// Checks `records` (in the order of their positions) copied from the ledger `ledger_id`
/// against its signed `checkpoints` (any order). With `key`, every checkpoint must be
/// signed by it; without, the chain is still checked against the checkpoints' roots, but
/// anyone able to edit the copy could have edited the checkpoints too.
pub fn verify_copy(
    ledger_id: &str,
    key: Option<&VerifyingKey>,
    checkpoints: &[Checkpoint],
    records: impl IntoIterator<Item = CopiedRecord>,
) -> CopyReport {
    let mut report = CopyReport {
        checkpoints: checkpoints.len(),
        signatures_checked: key.is_some(),
        ..CopyReport::default()
    };
    let mut cps: Vec<&Checkpoint> = checkpoints.iter().collect();
    cps.sort_by_key(|c| c.size);
    report.last_checkpoint = cps.last().map(|c| c.size);
    if let Some(key) = key {
        if let Some(c) = cps.iter().find(|c| !c.verify(key, ledger_id)) {
            report.problem = finding(
                None,
                format!(
                    "the checkpoint of size {} is not signed by this node's key (altered or forged, or the key is another node's)",
                    c.size
                ),
            );
            return report;
        }
    }
    let mut cp_idx = 0;
    while cp_idx < cps.len() && cps[cp_idx].size == 0 {
        if cps[cp_idx].root != empty_root() {
            report.problem = finding(None, "checkpoint of size 0 with a non-empty root".into());
            return report;
        }
        cp_idx += 1;
    }
    let mut prev = genesis_hash(ledger_id);
    let mut frontier = Frontier::new();
    // Records up to here are proven by a signed checkpoint.
    let mut proven: u64 = 0;
    for item in records {
        let expect = frontier.size() + 1;
        if item.seq != expect {
            report.problem = if item.seq > expect {
                let missing = if item.seq - 1 == expect {
                    "missing from the copy (deleted)".to_string()
                } else {
                    format!(
                        "records {expect}..={} are missing from the copy (deleted)",
                        item.seq - 1
                    )
                };
                finding(Some(expect), missing)
            } else {
                finding(
                    Some(item.seq),
                    format!(
                        "record {} appears again after record {} (duplicated or out of order)",
                        item.seq,
                        expect - 1
                    ),
                )
            };
            break;
        }
        let record = match item.record {
            Ok(r) => r,
            Err(why) => {
                report.problem = finding(Some(item.seq), why);
                break;
            }
        };
        if record.seq != item.seq {
            report.problem = finding(
                Some(item.seq),
                format!(
                    "the copy files record {} at position {} (records moved or renumbered)",
                    record.seq, item.seq
                ),
            );
            break;
        }
        let body = record.canonical_bytes();
        if body.len() > MAX_RECORD_BYTES {
            report.problem = finding(
                Some(item.seq),
                format!(
                    "the record is {} bytes in canonical form, more than a ledger stores",
                    body.len()
                ),
            );
            break;
        }
        prev = leaf_hash(&prev, &body);
        frontier.push(prev);
        report.records += 1;
        while cp_idx < cps.len() && cps[cp_idx].size == frontier.size() {
            let c = cps[cp_idx];
            if c.root != frontier.root() {
                let stretch = if proven + 1 == c.size {
                    "it was altered".to_string()
                } else {
                    format!(
                        "one or more of records {}..={} were altered, inserted or removed",
                        proven + 1,
                        c.size
                    )
                };
                let before = if proven == 0 {
                    String::new()
                } else {
                    format!("; records 1..={proven} match the checkpoint of size {proven}")
                };
                report.problem = finding(
                    Some(proven + 1),
                    format!(
                        "the Merkle root of the first {} records differs from the node's signed checkpoint of size {}: {stretch}{before}",
                        c.size, c.size
                    ),
                );
                break;
            }
            proven = c.size;
            cp_idx += 1;
        }
        if report.problem.is_some() {
            break;
        }
    }
    if report.problem.is_none() {
        if let Some(c) = cps.get(cp_idx) {
            let n = frontier.size();
            report.problem = Some(CopyFinding {
                seq: Some(n + 1),
                problem: format!(
                    "the node's signed checkpoint covers {} records but the copy ends after {n}: records {}..={} are missing (deleted)",
                    c.size,
                    n + 1,
                    c.size
                ),
                ends_early: true,
            });
        }
    }
    if report.problem.is_none() {
        report.unsigned_tail = frontier.size().saturating_sub(proven);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Actor, ActorKind, Event, Outcome};
    use crate::{reader, Ledger};
    use shuan_crypto::sm2::SigningKey;

    fn event(i: u64) -> Event {
        Event {
            time: None,
            actor: Actor {
                kind: ActorKind::User,
                id: format!("user{i}"),
                department: Some("D1".into()),
                role: None,
            },
            action: "user.read".into(),
            object: format!("user:u{i}"),
            purpose: None,
            outcome: Outcome::Allowed,
            client: None,
            request_id: Some(format!("r{i}")),
            details: serde_json::Map::new(),
        }
    }

    /// A ledger of `n` records with checkpoints after records 3, 7 and `n`; its id, key,
    /// checkpoints and the records as the platform store copies them (JSON).
    fn ledger(n: u64) -> (String, SigningKey, Vec<Checkpoint>, Vec<(Seq, String)>) {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::try_generate().unwrap();
        let l = Ledger::open(dir.path(), key.clone()).unwrap();
        for i in 1..=n {
            l.append(&event(i)).unwrap();
            if i == 3 || i == 7 {
                l.checkpoint().unwrap();
            }
        }
        l.checkpoint().unwrap();
        let id = l.meta().ledger_id.clone();
        l.close().unwrap();
        let cps = crate::prove::checkpoints(dir.path()).unwrap();
        let records = reader::records(dir.path(), 1)
            .unwrap()
            .map(|r| {
                let r = r.unwrap();
                (r.seq, serde_json::to_string(&r).unwrap())
            })
            .collect();
        (id, key, cps, records)
    }

    fn copied(records: &[(Seq, String)]) -> Vec<CopiedRecord> {
        records
            .iter()
            .map(|(s, j)| CopiedRecord::from_json(*s, j))
            .collect()
    }

    #[test]
    fn an_intact_copy_verifies_with_and_without_the_key() {
        let (id, key, cps, records) = ledger(10);
        let r = verify_copy(&id, Some(&key.verifying_key()), &cps, copied(&records));
        assert!(r.ok(), "{r:?}");
        assert_eq!((r.records, r.checkpoints, r.unsigned_tail), (10, 3, 0));
        assert!(r.signatures_checked);
        let r = verify_copy(&id, None, &cps, copied(&records));
        assert!(r.ok() && !r.signatures_checked);
        // Records after the newest checkpoint are an unsigned tail, not a problem.
        let r = verify_copy(&id, None, &cps[..2], copied(&records));
        assert!(r.ok());
        assert_eq!(r.unsigned_tail, 3);
    }

    #[test]
    fn an_altered_record_fails_the_next_checkpoint() {
        let (id, key, cps, mut records) = ledger(10);
        records[4].1 = records[4].1.replace("user:u5", "user:u9");
        let r = verify_copy(&id, Some(&key.verifying_key()), &cps, copied(&records));
        let p = r.problem.unwrap();
        assert_eq!(
            p.seq,
            Some(4),
            "the first record after the checkpoint of size 3"
        );
        assert!(p.problem.contains("records 4..=7"), "{p}");
        assert_eq!(r.records, 7);
    }

    #[test]
    fn missing_moved_and_duplicated_records_are_named() {
        let (id, key, cps, records) = ledger(10);
        let vk = key.verifying_key();
        let mut gap = records.clone();
        gap.remove(5);
        let p = verify_copy(&id, Some(&vk), &cps, copied(&gap))
            .problem
            .unwrap();
        assert_eq!(p.seq, Some(6));
        assert_eq!(p.to_string(), "record 6: missing from the copy (deleted)");

        let mut moved = records.clone();
        moved[5].1 = records[6].1.clone();
        moved[6].1 = records[5].1.clone();
        let p = verify_copy(&id, Some(&vk), &cps, copied(&moved))
            .problem
            .unwrap();
        assert_eq!(p.seq, Some(6));
        assert!(p.problem.contains("files record 7 at position 6"), "{p}");

        let mut dup = records.clone();
        dup.insert(3, records[2].clone());
        let p = verify_copy(&id, Some(&vk), &cps, copied(&dup))
            .problem
            .unwrap();
        assert_eq!(p.seq, Some(3));

        let mut cut = records.clone();
        cut.truncate(8);
        let p = verify_copy(&id, Some(&vk), &cps, copied(&cut))
            .problem
            .unwrap();
        assert!(p.ends_early);
        assert_eq!(p.seq, Some(9));
        assert!(p.problem.contains("records 9..=10 are missing"), "{p}");

        let mut bad = copied(&records);
        bad[1].record = Err("columns disagree".into());
        let p = verify_copy(&id, Some(&vk), &cps, bad).problem.unwrap();
        assert_eq!((p.seq, p.problem.as_str()), (Some(2), "columns disagree"));
    }

    #[test]
    fn checkpoints_must_be_signed_by_the_nodes_key() {
        let (id, _, cps, records) = ledger(10);
        let other = SigningKey::try_generate().unwrap().verifying_key();
        let p = verify_copy(&id, Some(&other), &cps, copied(&records))
            .problem
            .unwrap();
        assert!(p.problem.contains("not signed by this node's key"), "{p}");
        // Another ledger's id: neither the signatures nor the chain match.
        let (id2, key2, cps2, _) = ledger(10);
        let r = verify_copy(&id2, Some(&key2.verifying_key()), &cps2, copied(&records));
        assert!(!r.ok());
        let _ = id;
    }
}
