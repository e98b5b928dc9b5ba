//! Building inclusion and consistency proofs from the stored ledger.

use std::path::Path;

use crate::checkpoint::{Checkpoint, Proof, PROOF_FORMAT};
use crate::error::LedgerError;
use crate::hash::Hash;
use crate::ledger::{read_checkpoint_file, read_meta};
use crate::merkle::{consistency_ranges, inclusion_ranges, range_hashes};
use crate::reader::Entries;
use crate::record::Seq;

/// The signed checkpoints of the ledger in `dir`, oldest first.
pub fn checkpoints(dir: &Path) -> Result<Vec<Checkpoint>, LedgerError> {
    Ok(read_checkpoint_file(dir)?
        .checkpoints
        .into_iter()
        .map(|(_, c)| c)
        .collect())
}

fn not_pruned(dir: &Path) -> Result<(), LedgerError> {
    if crate::retention::read_prune_marker(dir)?.is_some() {
        return Err(LedgerError::NotFound(
            "proofs need every record from 1 on, and records of this ledger were pruned after retention".into(),
        ));
    }
    Ok(())
}

/// Proves that record `seq` is in the tree of `checkpoint` (default: the latest
/// checkpoint, which must cover `seq`).
pub fn prove_inclusion(
    dir: &Path,
    seq: Seq,
    checkpoint: Option<Checkpoint>,
) -> Result<Proof, LedgerError> {
    not_pruned(dir)?;
    let meta = read_meta(dir)?;
    let cp = match checkpoint {
        Some(c) => c,
        None => checkpoints(dir)?.pop().ok_or_else(|| {
            LedgerError::NotFound(
                "the ledger has no checkpoint yet; run `shuan audit checkpoint`".into(),
            )
        })?,
    };
    if seq == 0 || seq > cp.size {
        return Err(LedgerError::NotFound(format!(
            "record {seq} is not covered by the checkpoint of size {}; run `shuan audit checkpoint` first",
            cp.size
        )));
    }
    let ranges = inclusion_ranges(seq - 1, cp.size);
    let leaves = Entries::new(dir, 1)?
        .take(cp.size as usize)
        .map(|e| e.map(|e| e.hash));
    let path = range_hashes(&ranges, leaves)?.ok_or_else(|| {
        LedgerError::NotFound(format!("the ledger has fewer than {} records", cp.size))
    })?;
    // The record and the leaf hash before it (the rest of its leaf data).
    let mut prev: Hash = meta.genesis_hash();
    let mut record: Option<Vec<u8>> = None;
    for e in Entries::new(dir, seq.saturating_sub(1).max(1))?.take(2) {
        let e = e?;
        if e.seq + 1 == seq {
            prev = e.hash;
        } else if e.seq == seq {
            record = Some(e.body);
        }
    }
    let record = record.ok_or_else(|| LedgerError::NotFound(format!("record {seq} not found")))?;
    let record = String::from_utf8(record)
        .map_err(|_| LedgerError::NotFound(format!("record {seq} is not UTF-8")))?;
    Ok(Proof::Inclusion {
        format: PROOF_FORMAT.into(),
        ledger_id: meta.ledger_id,
        seq,
        record,
        prev_hash: prev,
        checkpoint: cp,
        path,
    })
}

/// Proves that the checkpoint of size `old` is a prefix of the one of size `new`.
pub fn prove_consistency(
    dir: &Path,
    old: &Checkpoint,
    new: &Checkpoint,
) -> Result<Proof, LedgerError> {
    not_pruned(dir)?;
    let meta = read_meta(dir)?;
    if old.size > new.size {
        return Err(LedgerError::NotFound(format!(
            "the old checkpoint (size {}) is larger than the new one (size {})",
            old.size, new.size
        )));
    }
    let ranges = consistency_ranges(old.size, new.size);
    let leaves = Entries::new(dir, 1)?
        .take(new.size as usize)
        .map(|e| e.map(|e| e.hash));
    let path = range_hashes(&ranges, leaves)?.ok_or_else(|| {
        LedgerError::NotFound(format!("the ledger has fewer than {} records", new.size))
    })?;
    Ok(Proof::Consistency {
        format: PROOF_FORMAT.into(),
        ledger_id: meta.ledger_id,
        old: old.clone(),
        new: new.clone(),
        path,
    })
}
