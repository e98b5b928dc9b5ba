//! `verify`: re-checks the identity file, every record's hash chain link, the canonical
//! form and numbering of every record, the Merkle root of every signed checkpoint and
//! every signature, and names the first problem with its position.

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use shuan_crypto::sm2::VerifyingKey;

use crate::checkpoint::Checkpoint;
use crate::error::LedgerError;
use crate::hash::Hash;
use crate::ledger::{read_checkpoint_file, read_meta, CHECKPOINT_FILE, META_FILE};
use crate::merkle::{empty_root, leaf_hashes, Frontier};
use crate::reader::{open_segment, segments};
use crate::record::{Record, Seq, MAX_RECORD_BYTES};
use crate::segment::ScanError;

/// Options of [`verify`].
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// Checkpoints obtained from outside the ledger directory (e.g. published to the
    /// supervising bureau). They must verify and match; they reveal truncation and
    /// rewriting by someone who also holds the node key.
    pub anchors: Vec<Checkpoint>,
}

/// The first problem found, with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The record concerned, if any.
    pub seq: Option<Seq>,
    /// The file concerned.
    pub path: PathBuf,
    /// Byte offset in the file (line number for `checkpoints.jsonl`).
    pub offset: Option<u64>,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = self.seq {
            write!(f, "record {s}: ")?;
        }
        write!(f, "{}", self.problem)?;
        write!(f, " [{}", self.path.display())?;
        if let Some(o) = self.offset {
            if self.path.ends_with(CHECKPOINT_FILE) {
                write!(f, " line {o}")?;
            } else {
                write!(f, " at byte offset {o}")?;
            }
        }
        write!(f, "]")
    }
}

/// What [`verify`] checked.
#[derive(Clone, Debug, Default)]
pub struct VerifyReport {
    /// Records checked.
    pub records: u64,
    /// Bytes of segment data checked (uncompressed).
    pub bytes: u64,
    /// Segment files checked.
    pub segments: usize,
    /// Signed checkpoints checked (including anchors).
    pub checkpoints: usize,
    /// The latest checkpoint, if any.
    pub last_checkpoint: Option<Checkpoint>,
    /// The first problem; `None` means the ledger is intact.
    pub problem: Option<Finding>,
    /// Records after the last checkpoint (protected by the chain only until signed).
    pub unsigned_tail: u64,
    /// Wall time taken.
    pub seconds: f64,
}

impl VerifyReport {
    /// True if nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Extracts `N` from the canonical suffix `"seq":N,"time":"<27 chars>"}` cheaply.
fn quick_seq(body: &[u8]) -> Option<Seq> {
    let end = body.len().checked_sub(38)?;
    if &body[end..end + 9] != b",\"time\":\"" {
        return None;
    }
    let digits_start = body[..end].iter().rposition(|b| !b.is_ascii_digit())? + 1;
    if digits_start < 6 || &body[digits_start - 6..digits_start] != b"\"seq\":" {
        return None;
    }
    std::str::from_utf8(&body[digits_start..end])
        .ok()?
        .parse()
        .ok()
}

/// A block of a segment handed to a checker: the bytes, and per complete entry in it
/// its sequence number, body position and length in `data`, byte offset in the file and
/// stored leaf hash.
struct Batch {
    data: Vec<u8>,
    items: Vec<(Seq, usize, usize, u64, Hash)>,
    path: PathBuf,
    /// Stored leaf hash of the record before the first one.
    prev: Hash,
}

/// How much of a segment is read at a time.
const BLOCK_BYTES: usize = 4 << 20;

/// Appends up to `want` bytes from `r` to `buf`; true if `r` ended first.
fn fill(r: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    let start = buf.len();
    buf.resize(start + want, 0);
    let mut got = 0;
    while got < want {
        match r.read(&mut buf[start + got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(start + got);
                return Err(e);
            }
        }
    }
    buf.truncate(start + got);
    Ok(got < want)
}

/// Checks one batch: every leaf hash from the stored previous hash, canonical form and
/// numbering. Returns the first problem.
fn check_batch(b: &Batch) -> Option<Finding> {
    // Every entry stores its leaf hash, so every leaf's inputs (the stored hash before it
    // and its body) are known up front: hashed side by side, then checked in order.
    let leaves: Vec<(&Hash, &[u8])> = std::iter::once(&b.prev)
        .chain(b.items.iter().map(|item| &item.4))
        .zip(&b.items)
        .map(|(prev, &(_, start, len, _, _))| (prev, &b.data[start..start + len]))
        .collect();
    let mut hashes = vec![[0u8; 32]; leaves.len()];
    leaf_hashes(&leaves, &mut hashes);
    for ((&(seq, _, _, offset, stored), &(_, body)), leaf) in
        b.items.iter().zip(&leaves).zip(&hashes)
    {
        if *leaf != stored {
            let problem = match quick_seq(body) {
                Some(found) if found != seq => format!(
                    "found record {found} where record {seq} belongs: records deleted, inserted or reordered"
                ),
                _ => "contents or stored hash altered (hash chain broken)".into(),
            };
            return Some(finding(Some(seq), &b.path, Some(offset), problem));
        }
        if !crate::canon::certify(body, seq) {
            match Record::from_canonical(body) {
                Some(r) if r.seq == seq => {}
                Some(r) => {
                    return Some(finding(Some(seq), &b.path, Some(offset), format!("found record {} where record {seq} belongs: records deleted, inserted or reordered", r.seq)));
                }
                None => {
                    return Some(finding(
                        Some(seq),
                        &b.path,
                        Some(offset),
                        "not a canonical audit record (altered)".into(),
                    ));
                }
            }
        }
    }
    None
}

fn finding(seq: Option<Seq>, path: &Path, offset: Option<u64>, problem: String) -> Finding {
    Finding {
        seq,
        path: path.to_path_buf(),
        offset,
        problem,
    }
}

/// Verifies the ledger in `dir` against the node's public key `key` (obtained from a
/// trusted place, not from the ledger directory). I/O errors are `Err`; damage is
/// reported in [`VerifyReport::problem`].
pub fn verify(
    dir: &Path,
    key: &VerifyingKey,
    opts: &VerifyOptions,
) -> Result<VerifyReport, LedgerError> {
    verify_with_threads(dir, key, opts, 0)
}

/// [`verify`] with `threads` checker threads beside the reading one: 0 means one per
/// core, 1 checks everything on the calling thread. The report does not depend on it.
pub fn verify_with_threads(
    dir: &Path,
    key: &VerifyingKey,
    opts: &VerifyOptions,
    threads: usize,
) -> Result<VerifyReport, LedgerError> {
    let started = Instant::now();
    let mut report = VerifyReport::default();
    let meta_path = dir.join(META_FILE);
    let meta = match read_meta(dir) {
        Ok(m) => m,
        Err(LedgerError::BadMeta { reason, .. }) => {
            report.problem = Some(finding(None, &meta_path, None, reason));
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    if !meta.verify(key) {
        report.problem = Some(finding(
            None,
            &meta_path,
            None,
            "the ledger identity is not signed by this public key (altered, or another node's ledger)".into(),
        ));
        return Ok(report);
    }
    let id = meta.ledger_id.clone();

    // Checkpoints: every line signed, sizes never shrink.
    let cp_path = dir.join(CHECKPOINT_FILE);
    let cpf = read_checkpoint_file(dir)?;
    if let Some((line, reason)) = cpf.bad_line {
        report.problem = Some(finding(
            None,
            &cp_path,
            Some(line as u64),
            format!("unreadable checkpoint: {reason}"),
        ));
        return Ok(report);
    }
    if cpf.torn {
        report.problem = Some(finding(
            None,
            &cp_path,
            Some(cpf.checkpoints.len() as u64 + 1),
            "incomplete final checkpoint line (crash or cut; opening the ledger for writing repairs a crash)".into(),
        ));
        return Ok(report);
    }
    let mut cps: Vec<(String, Checkpoint)> = Vec::new();
    let mut last_size = 0;
    for (line, c) in cpf.checkpoints {
        if !c.verify(key, &id) {
            report.problem = Some(finding(
                None,
                &cp_path,
                Some(line as u64),
                format!(
                    "checkpoint of size {} has a bad signature (altered or forged)",
                    c.size
                ),
            ));
            return Ok(report);
        }
        if c.size < last_size {
            report.problem = Some(finding(
                None,
                &cp_path,
                Some(line as u64),
                format!("checkpoint size went down from {last_size} to {}", c.size),
            ));
            return Ok(report);
        }
        last_size = c.size;
        cps.push((format!("line {line}"), c));
    }
    report.last_checkpoint = cps.last().map(|(_, c)| c.clone());
    for (i, a) in opts.anchors.iter().enumerate() {
        if !a.verify(key, &id) {
            report.problem = Some(finding(None, &cp_path, None, format!("published checkpoint #{} (size {}) does not verify with this key and ledger id", i + 1, a.size)));
            return Ok(report);
        }
        cps.push((format!("published checkpoint #{}", i + 1), a.clone()));
    }
    cps.sort_by_key(|(_, c)| c.size);
    report.checkpoints = cps.len();

    let segs = segments(dir)?;
    let prune = crate::retention::read_prune_marker(dir)?;
    if let Some(p) = &prune {
        if !p.verify(key, &id) {
            report.problem = Some(finding(
                None,
                &dir.join(crate::retention::PRUNE_FILE),
                None,
                "the prune marker is not signed by this key".into(),
            ));
            return Ok(report);
        }
    }
    let (mut expect, mut prev, mut frontier) = match &prune {
        Some(p) => (p.first_seq, p.prev_hash, p.frontier()),
        None => (1, meta.genesis_hash(), Frontier::new()),
    };
    let mut cp_idx = 0;
    // Checkpoints older than pruned data cannot be recomputed.
    while cp_idx < cps.len() && cps[cp_idx].1.size < frontier.size() {
        cp_idx += 1;
    }
    let check_cps = |frontier: &Frontier, cp_idx: &mut usize| -> Option<String> {
        while *cp_idx < cps.len() && cps[*cp_idx].1.size == frontier.size() {
            let (where_, c) = &cps[*cp_idx];
            if c.root != frontier.root() {
                return Some(format!(
                    "the Merkle root of the first {} records differs from the signed checkpoint ({where_}): records up to here were rewritten together with their hashes",
                    c.size
                ));
            }
            *cp_idx += 1;
        }
        None
    };
    if frontier.size() == 0 {
        while cp_idx < cps.len() && cps[cp_idx].1.size == 0 {
            if cps[cp_idx].1.root != empty_root() {
                report.problem = Some(finding(
                    None,
                    &cp_path,
                    None,
                    "checkpoint of size 0 with a non-empty root".into(),
                ));
                return Ok(report);
            }
            cp_idx += 1;
        }
    }

    // This thread reads the segments in big blocks, splits them into entries, follows
    // the stored hashes through the Merkle tree and checks the signed roots. Every record
    // stores its leaf hash, so the leaf hashes (the hash chain) and the canonical form of
    // different blocks can be checked independently: checker threads do that, one block
    // each. The earliest problem found by anyone is reported, the same as a check on
    // one thread would report it.
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
        n => n,
    };
    let structural = std::thread::scope(|scope| -> Result<Option<Finding>, LedgerError> {
        let mut senders = Vec::new();
        let mut workers = Vec::new();
        // Checked blocks come back for reuse: fresh 4 MiB buffers would cost a page
        // fault per page.
        let (spare_tx, spare_rx) = mpsc::channel::<Vec<u8>>();
        if threads > 1 {
            for _ in 0..threads {
                let (tx, rx) = mpsc::sync_channel::<Batch>(2);
                senders.push(tx);
                let spare_tx = spare_tx.clone();
                workers.push(scope.spawn(move || -> Option<Finding> {
                    for b in rx {
                        if let Some(f) = check_batch(&b) {
                            return Some(f);
                        }
                        let _ = spare_tx.send(b.data);
                    }
                    None
                }));
            }
        }
        let mut inline_problem: Option<Finding> = None;
        let mut next_worker = 0usize;
        // Hands a block over for checking; false once a problem was found.
        let mut send = |b: Batch| -> bool {
            if senders.is_empty() {
                inline_problem = check_batch(&b);
                let _ = spare_tx.send(b.data);
                return inline_problem.is_none();
            }
            let ok = senders[next_worker].send(b).is_ok();
            next_worker = (next_worker + 1) % senders.len();
            ok
        };
        let mut hash_problem: Option<Finding> = None;
        let nsegs = segs.len();
        'segs: for (si, seg) in segs.iter().enumerate() {
            report.segments += 1;
            // The signed digest covers the compressed bytes: check it before inflating, so
            // an altered archive is reported as such rather than as a deflate error.
            if seg.archived {
                if let Err(why) = crate::retention::check_archive_signature(&seg.path, key, &id) {
                    hash_problem = Some(finding(Some(expect), &seg.path, None, why));
                    break;
                }
            }
            let reader = match open_segment(seg) {
                Ok(r) => r,
                Err(ScanError::Io(source)) => {
                    return Err(LedgerError::Io {
                        action: "reading",
                        path: seg.path.clone(),
                        source,
                    })
                }
                Err(e) => {
                    hash_problem = Some(finding(Some(expect), &seg.path, Some(0), e.to_string()));
                    break;
                }
            };
            let h = &reader.header;
            if h.first_seq != expect {
                let problem = if h.first_seq > expect {
                    format!(
                        "records {expect}..{} are missing (segment deleted?)",
                        h.first_seq - 1
                    )
                } else {
                    format!("segment starts at record {} but record {expect} was expected (overlapping or inserted segment)", h.first_seq)
                };
                hash_problem = Some(finding(Some(expect), &seg.path, Some(0), problem));
                break;
            }
            if h.prev_hash != prev || h.frontier != frontier {
                hash_problem = Some(finding(
                    Some(expect),
                    &seg.path,
                    Some(0),
                    "segment header does not continue the previous segment's chain".into(),
                ));
                break;
            }
            let last_segment = si + 1 == nsegs;
            let io = |source| LedgerError::Io {
                action: "reading",
                path: seg.path.clone(),
                source,
            };
            let mut base = reader.offset();
            let mut src = reader.into_inner();
            let mut carry: Vec<u8> = Vec::new();
            loop {
                let mut block = spare_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(carry.len() + BLOCK_BYTES));
                block.clear();
                block.extend_from_slice(&carry);
                let eof = fill(&mut src, &mut block, BLOCK_BYTES).map_err(io)?;
                let mut batch = Batch {
                    items: Vec::with_capacity(block.len() / 256),
                    data: Vec::new(),
                    path: seg.path.clone(),
                    prev,
                };
                let mut p = 0usize;
                let mut done = false;
                let mut stop: Option<(u64, Option<String>)> = None;
                while !done && stop.is_none() {
                    let rest = &block[p..];
                    let at = base + p as u64;
                    if rest.len() < 4 && !eof {
                        break;
                    }
                    let n = match rest.get(..4) {
                        Some(l) => u32::from_le_bytes(l.try_into().expect("4 bytes")) as usize,
                        None => 0,
                    };
                    if n == 0 {
                        // Zero bytes: preallocated space if nothing but zeros follows.
                        let data_at = match rest.iter().position(|&b| b != 0) {
                            Some(i) => Some(at + i as u64),
                            None if eof => None,
                            None => crate::segment::first_non_zero(&mut src)
                                .map_err(io)?
                                .map(|i| at + rest.len() as u64 + i),
                        };
                        match data_at {
                            None => done = true,
                            Some(_) if rest.len() < 4 => stop = Some((at, None)),
                            Some(data_at) => {
                                let e = ScanError::ZeroHole {
                                    offset: at,
                                    data_at,
                                };
                                stop = Some((at, Some(e.to_string())));
                            }
                        }
                        break;
                    }
                    if n > MAX_RECORD_BYTES {
                        let e = ScanError::BadLength {
                            offset: at,
                            len: n as u64,
                        };
                        stop = Some((at, Some(e.to_string())));
                        break;
                    }
                    if rest.len() < 4 + n + 32 {
                        if eof {
                            stop = Some((at, None));
                        }
                        break;
                    }
                    let stored: Hash = rest[4 + n..4 + n + 32].try_into().expect("32 bytes");
                    let seq = expect;
                    batch.items.push((seq, p + 4, n, at, stored));
                    prev = stored;
                    frontier.push(stored);
                    report.records += 1;
                    expect += 1;
                    p += 4 + n + 32;
                    if let Some(pr) = check_cps(&frontier, &mut cp_idx) {
                        hash_problem = Some(finding(Some(seq), &seg.path, Some(at), pr));
                        done = true;
                    }
                }
                let end = base + p as u64;
                let at_end = done || stop.is_some() || (eof && p == block.len());
                if !at_end {
                    carry = block[p..].to_vec();
                    base = end;
                }
                batch.data = block;
                if !send(batch) {
                    break 'segs; // a checker found a problem
                }
                if hash_problem.is_some() {
                    break 'segs;
                }
                if let Some((offset, why)) = stop {
                    let why = why.unwrap_or_else(|| {
                        if last_segment {
                            "incomplete final record (torn write from a crash, or cut; opening the ledger for writing repairs a crash)".into()
                        } else {
                            "segment ends inside a record (cut)".into()
                        }
                    });
                    hash_problem = Some(finding(Some(expect), &seg.path, Some(offset), why));
                    break 'segs;
                }
                if at_end {
                    report.bytes += end;
                    break;
                }
            }
        }
        drop(senders);
        let mut found: Vec<Finding> = hash_problem.into_iter().collect();
        found.extend(inline_problem);
        for w in workers {
            let r = w.join().unwrap_or_else(|_| {
                Some(finding(None, dir, None, "record checker panicked".into()))
            });
            found.extend(r);
        }
        // Report whichever problem comes first in the ledger.
        Ok(found.into_iter().min_by_key(|f| f.seq.unwrap_or(0)))
    })?;
    if let Some(p) = structural {
        report.problem = Some(p);
    } else if let Some((where_, c)) = cps.get(cp_idx) {
        report.problem = Some(finding(
            Some(frontier.size() + 1),
            segs.last().map(|s| s.path.as_path()).unwrap_or(dir),
            None,
            format!(
                "missing: the signed checkpoint ({where_}) covers {} records but the ledger ends after {}: records were deleted",
                c.size,
                frontier.size()
            ),
        ));
    }
    report.unsigned_tail = frontier
        .size()
        .saturating_sub(report.last_checkpoint.as_ref().map(|c| c.size).unwrap_or(0));
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::quick_seq;

    #[test]
    fn quick_seq_reads_the_canonical_suffix() {
        assert_eq!(
            quick_seq(br#"{"a":1,"seq":123,"time":"2026-01-02T03:04:05.000000Z"}"#),
            Some(123)
        );
        assert_eq!(quick_seq(br#"{"seq":1,"time":"x"}"#), None);
    }
}
