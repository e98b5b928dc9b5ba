//! Read-only access to stored records: needs no key and no lock, so it works while a
//! writer is appending (it sees the records written so far).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::LedgerError;
use crate::hash::Hash;
use crate::record::{Record, Seq};
use crate::segment::{list_segments, parse_segment_file_name, ScanError, SegmentReader};

/// Subdirectory holding archived (compressed, signed) segments.
pub const ARCHIVE_DIR: &str = "archive";

/// One segment file, live or archived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentFile {
    /// Sequence number of its first record.
    pub first_seq: Seq,
    /// Where it is.
    pub path: PathBuf,
    /// True for a gzip-compressed segment under `archive/`.
    pub archived: bool,
}

/// All segments of the ledger in `dir`, archived ones included, by first sequence number.
pub fn segments(dir: &Path) -> Result<Vec<SegmentFile>, LedgerError> {
    let io = |source| LedgerError::Io {
        action: "listing",
        path: dir.to_path_buf(),
        source,
    };
    let mut out: Vec<SegmentFile> = list_segments(dir)
        .map_err(io)?
        .into_iter()
        .map(|(first_seq, path)| SegmentFile {
            first_seq,
            path,
            archived: false,
        })
        .collect();
    let adir = dir.join(ARCHIVE_DIR);
    if adir.is_dir() {
        for e in std::fs::read_dir(&adir).map_err(io)? {
            let e = e.map_err(io)?;
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(seq) = name.strip_suffix(".gz").and_then(parse_segment_file_name) {
                // A segment both archived and live (archiving interrupted) is read live.
                if !out.iter().any(|s| s.first_seq == seq) {
                    out.push(SegmentFile {
                        first_seq: seq,
                        path: e.path(),
                        archived: true,
                    });
                }
            }
        }
    }
    out.sort_by_key(|s| s.first_seq);
    // Segments before a prune marker are left over from an interrupted prune.
    if let Some(p) = crate::retention::read_prune_marker(dir)? {
        out.retain(|s| s.first_seq >= p.first_seq);
    }
    Ok(out)
}

/// Opens a segment for reading (decompressing an archived one).
pub fn open_segment(seg: &SegmentFile) -> Result<SegmentReader<Box<dyn Read>>, ScanError> {
    let f = File::open(&seg.path)?;
    let inner: Box<dyn Read> = if seg.archived {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::GzDecoder::new(BufReader::with_capacity(1 << 16, f)),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, f))
    };
    SegmentReader::new(inner)
}

/// One stored entry.
#[derive(Clone, Debug)]
pub struct StoredEntry {
    /// Its position (sequence number).
    pub seq: Seq,
    /// The canonical record bytes.
    pub body: Vec<u8>,
    /// The stored leaf hash.
    pub hash: Hash,
    /// The segment file.
    pub path: PathBuf,
    /// Byte offset in the (uncompressed) segment.
    pub offset: u64,
}

/// A segment being read: its reader, path and next sequence number.
type OpenSegment = (SegmentReader<Box<dyn Read>>, PathBuf, Seq);

/// Where a reader of the live ledger stopped: the next entry is `seq`, at byte `offset`
/// of the segment file `path`. A reader that follows the ledger as it grows (the copy
/// into the platform store) resumes there instead of reading the segment again from its
/// start, which made each pass cost the whole segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    /// Sequence number of the next entry.
    pub seq: Seq,
    /// The live segment file it is in (or would be appended to).
    pub path: PathBuf,
    /// Byte offset of that entry in the file.
    pub offset: u64,
}

/// Iterates the stored entries from `from_seq` on, in order, across segments. Stops at
/// a torn final entry (a crash in progress); other damage is an error.
pub struct Entries {
    segs: std::vec::IntoIter<SegmentFile>,
    cur: Option<OpenSegment>,
    from_seq: Seq,
    next_first: Option<Seq>,
    /// Where the last segment ended (cleanly or at a torn entry still being written).
    end: Option<Resume>,
}

impl Entries {
    /// Entries of the ledger in `dir` with sequence number ≥ `from_seq`.
    pub fn new(dir: &Path, from_seq: Seq) -> Result<Self, LedgerError> {
        let mut all = segments(dir)?;
        // Skip whole segments that end before from_seq.
        let keep_from = all
            .iter()
            .rposition(|s| s.first_seq <= from_seq.max(1))
            .unwrap_or(0);
        all.drain(..keep_from);
        Ok(Entries {
            segs: all.into_iter(),
            cur: None,
            from_seq,
            next_first: None,
            end: None,
        })
    }
}

impl Entries {
    /// Entries from where an earlier pass stopped ([`Entries::stopped_at`]). When that
    /// segment is no longer live (archived or pruned since), reads from `at.seq` the
    /// ordinary way.
    pub fn resume(dir: &Path, at: &Resume) -> Result<Self, LedgerError> {
        let mut all = segments(dir)?;
        let Some(i) = all.iter().position(|s| !s.archived && s.path == at.path) else {
            return Entries::new(dir, at.seq);
        };
        let reader =
            SegmentReader::open_at(&at.path, at.offset).map_err(|e| LedgerError::Corrupt {
                path: at.path.clone(),
                offset: at.offset,
                reason: e.to_string(),
            })?;
        all.drain(..=i);
        let next_first = all.first().map(|s| s.first_seq);
        Ok(Entries {
            segs: all.into_iter(),
            cur: Some((reader, at.path.clone(), at.seq)),
            from_seq: at.seq,
            next_first,
            end: None,
        })
    }

    /// Where the next entry would be read: after the last one returned, or where the
    /// last segment ended. `None` before the first segment is opened.
    pub fn stopped_at(&self) -> Option<Resume> {
        match &self.cur {
            Some((reader, path, seq)) => Some(Resume {
                seq: *seq,
                path: path.clone(),
                offset: reader.offset(),
            }),
            None => self.end.clone(),
        }
    }
}

impl Iterator for Entries {
    type Item = Result<StoredEntry, LedgerError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.cur.is_none() {
                let seg = self.segs.next()?;
                self.next_first = self.segs.as_slice().first().map(|s| s.first_seq);
                match open_segment(&seg) {
                    Ok(r) => {
                        let first = r.header.first_seq;
                        self.cur = Some((r, seg.path, first));
                    }
                    Err(e) => {
                        return Some(Err(LedgerError::Corrupt {
                            path: seg.path,
                            offset: 0,
                            reason: e.to_string(),
                        }))
                    }
                }
            }
            let (reader, path, seq) = self.cur.as_mut().expect("set above");
            let mut body = Vec::new();
            match reader.next_entry(&mut body) {
                Ok(Some(pos)) => {
                    let s = *seq;
                    *seq += 1;
                    if s < self.from_seq {
                        continue;
                    }
                    return Some(Ok(StoredEntry {
                        seq: s,
                        body,
                        hash: pos.stored_hash,
                        path: path.clone(),
                        offset: pos.offset,
                    }));
                }
                Ok(None) => {
                    if self.next_first.is_none() {
                        self.end = self.stopped_at();
                    }
                    self.cur = None;
                }
                Err(ScanError::Torn { .. } | ScanError::ZeroHole { .. })
                    if self.next_first.is_none() =>
                {
                    self.end = self.stopped_at();
                    self.cur = None;
                    self.segs = Vec::new().into_iter();
                }
                Err(e) => {
                    let path = path.clone();
                    let offset = reader.offset();
                    self.cur = None;
                    self.segs = Vec::new().into_iter();
                    return Some(Err(LedgerError::Corrupt {
                        path,
                        offset,
                        reason: e.to_string(),
                    }));
                }
            }
        }
    }
}

/// Iterates parsed records from `from_seq` on.
pub fn records(
    dir: &Path,
    from_seq: Seq,
) -> Result<impl Iterator<Item = Result<Record, LedgerError>>, LedgerError> {
    Ok(Entries::new(dir, from_seq)?.map(|e| {
        let e = e?;
        Record::from_canonical(&e.body).ok_or_else(|| LedgerError::Corrupt {
            path: e.path.clone(),
            offset: e.offset,
            reason: format!("record {} is not a canonical record", e.seq),
        })
    }))
}
