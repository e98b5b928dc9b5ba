//! Retention (保存期限): sealed segments can be archived (gzip-compressed and signed) and,
//! only after the retention period of their newest record has ended, pruned. A signed
//! prune marker records where the remaining ledger's chain starts.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shuan_crypto::sm2::{Signature, SigningKey, VerifyingKey};

use crate::error::LedgerError;
use crate::hash::{from_hex, hash_from_hex, to_hex, Hash, Hasher};
use crate::ledger::{sync_dir, write_atomic, Ledger};
use crate::merkle::Frontier;
use crate::reader::{open_segment, segments, SegmentFile, ARCHIVE_DIR};
use crate::record::{Record, Seq};
use crate::segment::segment_file_name;
use crate::time::Timestamp;

/// The signed prune marker inside the ledger directory.
pub const PRUNE_FILE: &str = "pruned.json";

/// Where the ledger starts after records older than the retention period were pruned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneMarker {
    /// First record still kept.
    pub first_seq: Seq,
    /// Leaf hash of the last pruned record.
    #[serde(with = "crate::checkpoint::hex_hash")]
    pub prev_hash: Hash,
    /// Merkle frontier of the pruned records (hex).
    pub frontier: Vec<String>,
    /// When the prune happened.
    pub time: Timestamp,
    /// SM2 signature (DER, hex) of [`PruneMarker::message`].
    pub signature: String,
}

impl PruneMarker {
    /// The signed text.
    pub fn message(&self, ledger_id: &str) -> Vec<u8> {
        format!(
            "shuan-ledger prune v1\nledger {ledger_id}\nfirst_seq {}\nprev {}\nfrontier {}\ntime {}\n",
            self.first_seq,
            to_hex(&self.prev_hash),
            self.frontier.join(","),
            self.time
        )
        .into_bytes()
    }

    /// The frontier as hashes (empty if malformed; verification then fails).
    pub fn frontier(&self) -> Frontier {
        let nodes: Option<Vec<Hash>> = self.frontier.iter().map(|h| hash_from_hex(h)).collect();
        nodes
            .and_then(|n| Frontier::from_parts(self.first_seq.saturating_sub(1), n))
            .unwrap_or_default()
    }

    /// Checks the signature.
    pub fn verify(&self, key: &VerifyingKey, ledger_id: &str) -> bool {
        let Some(der) = from_hex(&self.signature) else {
            return false;
        };
        let Ok(sig) = Signature::from_der(&der) else {
            return false;
        };
        self.frontier().size() + 1 == self.first_seq
            && key.verify(&self.message(ledger_id), &sig).is_ok()
    }
}

/// Reads `pruned.json` if present.
pub fn read_prune_marker(dir: &Path) -> Result<Option<PruneMarker>, LedgerError> {
    let path = dir.join(PRUNE_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| LedgerError::BadMeta {
                path,
                reason: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LedgerError::Io {
            action: "reading",
            path,
            source,
        }),
    }
}

/// The signature file beside an archived segment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchiveSignature {
    file: String,
    #[serde(with = "crate::checkpoint::hex_hash")]
    sm3: Hash,
    bytes: u64,
    signature: String,
}

fn archive_message(ledger_id: &str, file: &str, sm3: &Hash, bytes: u64) -> Vec<u8> {
    format!(
        "shuan-ledger archive v1\nledger {ledger_id}\nfile {file}\nsm3 {}\nbytes {bytes}\n",
        to_hex(sm3)
    )
    .into_bytes()
}

fn sig_path(archived: &Path) -> PathBuf {
    let mut p = archived.as_os_str().to_owned();
    p.push(".sig.json");
    PathBuf::from(p)
}

fn hash_file(path: &Path) -> std::io::Result<(Hash, u64)> {
    let mut f = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut h = Hasher::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((h.finalize(), n))
}

/// Checks an archived segment's signature file; `Err` says what is wrong.
pub fn check_archive_signature(
    archived: &Path,
    key: &VerifyingKey,
    ledger_id: &str,
) -> Result<(), String> {
    let sp = sig_path(archived);
    let text = std::fs::read_to_string(&sp)
        .map_err(|e| format!("archive signature {}: {e}", sp.display()))?;
    let sig: ArchiveSignature = serde_json::from_str(&text)
        .map_err(|e| format!("archive signature {}: {e}", sp.display()))?;
    let name = archived.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let (h, n) = hash_file(archived).map_err(|e| format!("reading {}: {e}", archived.display()))?;
    if sig.file != name || sig.sm3 != h || sig.bytes != n {
        return Err(
            "archived segment does not match its signed digest (altered or replaced)".into(),
        );
    }
    let der = from_hex(&sig.signature).ok_or("archive signature is not hex")?;
    let s = Signature::from_der(&der).map_err(|_| "archive signature is malformed")?;
    key.verify(&archive_message(ledger_id, name, &h, n), &s)
        .map_err(|_| "archive signature does not verify with this key".to_string())
}

fn sign_archive(key: &SigningKey, ledger_id: &str, archived: &Path) -> Result<(), LedgerError> {
    let (h, n) = hash_file(archived).map_err(|source| LedgerError::Io {
        action: "reading",
        path: archived.to_path_buf(),
        source,
    })?;
    let name = archived
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_string();
    let sig = key.sign(&archive_message(ledger_id, &name, &h, n));
    let doc = ArchiveSignature {
        file: name,
        sm3: h,
        bytes: n,
        signature: to_hex(&sig.to_der()),
    };
    let text = serde_json::to_string_pretty(&doc).expect("serializable") + "\n";
    write_atomic(&sig_path(archived), text.as_bytes())
}

/// Newest record time in a segment (None if empty).
fn newest_time(seg: &SegmentFile) -> Result<Option<Timestamp>, LedgerError> {
    let mut r = open_segment(seg).map_err(|e| LedgerError::Corrupt {
        path: seg.path.clone(),
        offset: 0,
        reason: e.to_string(),
    })?;
    let mut body = Vec::new();
    let mut newest = None;
    loop {
        match r.next_entry(&mut body) {
            Ok(Some(pos)) => {
                let rec = Record::from_canonical(&body).ok_or_else(|| LedgerError::Corrupt {
                    path: seg.path.clone(),
                    offset: pos.offset,
                    reason: "not a canonical record".into(),
                })?;
                newest = newest.max(Some(rec.time));
            }
            Ok(None) => return Ok(newest),
            Err(e) => {
                return Err(LedgerError::Corrupt {
                    path: seg.path.clone(),
                    offset: r.offset(),
                    reason: e.to_string(),
                })
            }
        }
    }
}

impl Ledger {
    /// Compresses every sealed segment (all but the one being written) into `archive/`
    /// with a signed SM3 digest, then removes the uncompressed file. Returns the archives.
    pub fn archive_sealed(&self) -> Result<Vec<PathBuf>, LedgerError> {
        let dir = self.dir().to_path_buf();
        let adir = dir.join(ARCHIVE_DIR);
        std::fs::create_dir_all(&adir).map_err(|source| LedgerError::Io {
            action: "creating",
            path: adir.clone(),
            source,
        })?;
        let live: Vec<SegmentFile> = segments(&dir)?
            .into_iter()
            .filter(|s| !s.archived)
            .collect();
        let mut out = Vec::new();
        for seg in live.iter().take(live.len().saturating_sub(1)) {
            let name = format!("{}.gz", segment_file_name(seg.first_seq));
            let dest = adir.join(&name);
            let tmp = adir.join(format!("{name}.tmp"));
            let io = |action: &'static str, path: &Path| {
                let path = path.to_path_buf();
                move |source| LedgerError::Io {
                    action,
                    path,
                    source,
                }
            };
            let mut src = BufReader::with_capacity(
                1 << 20,
                File::open(&seg.path).map_err(io("reading", &seg.path))?,
            );
            let f = File::create(&tmp).map_err(io("creating", &tmp))?;
            let mut gz =
                flate2::write::GzEncoder::new(BufWriter::new(f), flate2::Compression::default());
            std::io::copy(&mut src, &mut gz).map_err(io("compressing into", &tmp))?;
            let f = gz
                .finish()
                .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
                .map_err(io("compressing into", &tmp))?;
            f.sync_all().map_err(io("syncing", &tmp))?;
            std::fs::rename(&tmp, &dest).map_err(io("renaming", &dest))?;
            sync_dir(&adir)?;
            sign_archive(self.signing_key(), &self.meta().ledger_id, &dest)?;
            // Only remove the original once the archive reads back identically.
            let back = open_segment(&SegmentFile {
                first_seq: seg.first_seq,
                path: dest.clone(),
                archived: true,
            })
            .map_err(|e| LedgerError::Corrupt {
                path: dest.clone(),
                offset: 0,
                reason: e.to_string(),
            })?;
            drop(back);
            let mut a = Vec::new();
            flate2::read::GzDecoder::new(File::open(&dest).map_err(io("reading", &dest))?)
                .read_to_end(&mut a)
                .map_err(io("reading back", &dest))?;
            let orig = std::fs::read(&seg.path).map_err(io("reading", &seg.path))?;
            if a != orig {
                return Err(LedgerError::Corrupt {
                    path: dest,
                    offset: 0,
                    reason: "archive does not read back identically; original kept".into(),
                });
            }
            std::fs::remove_file(&seg.path).map_err(io("removing archived original", &seg.path))?;
            sync_dir(&dir)?;
            out.push(dest);
        }
        Ok(out)
    }

    /// Deletes archived segments whose newest record is older than the retention period
    /// at `now`, oldest first, writing a signed prune marker. Live segments and anything
    /// still inside the retention period are never deleted. Returns the deleted files.
    pub fn prune_expired(&self, now: Timestamp) -> Result<Vec<PathBuf>, LedgerError> {
        let dir = self.dir().to_path_buf();
        let cutoff = now.plus_days(-(self.meta().retention_days as i64));
        let all = segments(&dir)?;
        let mut prunable = Vec::new();
        for (i, seg) in all.iter().enumerate() {
            if !seg.archived || i + 1 == all.len() {
                break;
            }
            match newest_time(seg)? {
                Some(t) if t < cutoff => prunable.push(i),
                Some(_) => break,
                None => break,
            }
        }
        let Some(&last) = prunable.last() else {
            return Ok(Vec::new());
        };
        let next = &all[last + 1];
        let header = open_segment(next)
            .map_err(|e| LedgerError::Corrupt {
                path: next.path.clone(),
                offset: 0,
                reason: e.to_string(),
            })?
            .header;
        let mut marker = PruneMarker {
            first_seq: header.first_seq,
            prev_hash: header.prev_hash,
            frontier: header.frontier.nodes().iter().map(|h| to_hex(h)).collect(),
            time: now,
            signature: String::new(),
        };
        let sig = self
            .signing_key()
            .sign(&marker.message(&self.meta().ledger_id));
        marker.signature = to_hex(&sig.to_der());
        let text = serde_json::to_string_pretty(&marker).expect("serializable") + "\n";
        write_atomic(&dir.join(PRUNE_FILE), text.as_bytes())?;
        let mut removed = Vec::new();
        for &i in &prunable {
            let p = &all[i].path;
            std::fs::remove_file(p).map_err(|source| LedgerError::Io {
                action: "removing",
                path: p.clone(),
                source,
            })?;
            let _ = std::fs::remove_file(sig_path(p));
            removed.push(p.clone());
        }
        sync_dir(&dir.join(ARCHIVE_DIR))?;
        Ok(removed)
    }
}
