//! Segment files: the append-only files that hold the records.
//!
//! ```text
//! header:  "SHUANLG1" | first_seq u64 LE | prev_hash [32] | k u8 | frontier [32; k]
//!          | SM3(all header bytes before this field) [32]
//! entry:   body_len u32 LE | canonical record [body_len] | leaf hash [32]
//! ```
//! After the last entry the file may hold zero bytes: space the writer preallocated so
//! that `fdatasync` need not commit a size change. A zero length field can never start an
//! entry (a record is never empty), so an all-zero remainder is the end of the data;
//! zeros followed by anything else are damage ([`ScanError::ZeroHole`]).
//!
//! `prev_hash` is the leaf hash of record `first_seq - 1` (the genesis hash for the first
//! segment) and `frontier` the Merkle frontier of the records before `first_seq`, so a
//! segment can be opened without reading the ones before it.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::hash::{sm3, Hash};
use crate::merkle::Frontier;
use crate::record::{Seq, MAX_RECORD_BYTES};

/// First bytes of every segment file.
pub const MAGIC: &[u8; 8] = b"SHUANLG1";

/// The chain state at the start of a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Sequence number of the segment's first record.
    pub first_seq: Seq,
    /// Leaf hash of the record before it (or the genesis hash).
    pub prev_hash: Hash,
    /// Merkle frontier of all records before it.
    pub frontier: Frontier,
}

impl SegmentHeader {
    /// The header bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 8 + 32 + 1 + 32 * 65 + 32);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.first_seq.to_le_bytes());
        out.extend_from_slice(&self.prev_hash);
        out.push(self.frontier.nodes().len() as u8);
        for n in self.frontier.nodes() {
            out.extend_from_slice(n);
        }
        let check = sm3(&out);
        out.extend_from_slice(&check);
        out
    }

    /// Reads and checks a header; returns it and its length in bytes.
    pub fn read(r: &mut impl Read) -> Result<(SegmentHeader, u64), ScanError> {
        let bad = |why: &'static str| ScanError::BadHeader(why);
        let mut fixed = [0u8; 8 + 8 + 32 + 1];
        read_full(r, &mut fixed).map_err(|e| match e {
            Short::Eof(_) => bad("file shorter than a segment header"),
            Short::Io(e) => ScanError::Io(e),
        })?;
        if &fixed[..8] != MAGIC {
            return Err(bad("not a shuan ledger segment (magic)"));
        }
        let first_seq = u64::from_le_bytes(fixed[8..16].try_into().expect("8 bytes"));
        let prev_hash: Hash = fixed[16..48].try_into().expect("32 bytes");
        let k = fixed[48] as usize;
        let mut rest = vec![0u8; k * 32 + 32];
        read_full(r, &mut rest).map_err(|e| match e {
            Short::Eof(_) => bad("header cut short"),
            Short::Io(e) => ScanError::Io(e),
        })?;
        let mut all = fixed.to_vec();
        all.extend_from_slice(&rest[..k * 32]);
        if sm3(&all)[..] != rest[k * 32..] {
            return Err(bad("header checksum mismatch"));
        }
        let nodes = rest[..k * 32]
            .chunks(32)
            .map(|c| c.try_into().expect("32 bytes"))
            .collect();
        if first_seq == 0 {
            return Err(bad("first sequence number is 0"));
        }
        let frontier =
            Frontier::from_parts(first_seq - 1, nodes).ok_or(bad("frontier size mismatch"))?;
        Ok((
            SegmentHeader {
                first_seq,
                prev_hash,
                frontier,
            },
            all.len() as u64 + 32,
        ))
    }
}

/// Why a segment could not be read further.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// An I/O error from the file system.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The header is damaged.
    #[error("bad segment header: {0}")]
    BadHeader(&'static str),
    /// The file ends inside an entry (a torn write, or a cut).
    #[error("file ends inside the record at byte offset {offset}")]
    Torn {
        /// Where the incomplete entry starts.
        offset: u64,
    },
    /// Zero bytes where an entry should start, but non-zero bytes follow later: a torn
    /// write (pages reached the disk out of order) in the last segment, damage elsewhere.
    #[error("zero bytes at byte offset {offset} where a record should start, followed by data at byte offset {data_at}")]
    ZeroHole {
        /// Where the zero bytes start.
        offset: u64,
        /// The first non-zero byte after them.
        data_at: u64,
    },
    /// An entry's length field is impossible.
    #[error("record at byte offset {offset} declares {len} bytes (limit {MAX_RECORD_BYTES})")]
    BadLength {
        /// Where the entry starts.
        offset: u64,
        /// The declared length.
        len: u64,
    },
}

enum Short {
    Eof(usize),
    Io(io::Error),
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<(), Short> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => return Err(Short::Eof(got)),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Short::Io(e)),
        }
    }
    Ok(())
}

/// One stored entry, as read.
#[derive(Debug, Clone, Copy)]
pub struct EntryPos {
    /// Byte offset of the entry (its length field) in the segment file.
    pub offset: u64,
    /// The leaf hash stored after the body.
    pub stored_hash: Hash,
}

/// Reads the entries of one segment in order.
pub struct SegmentReader<R: Read> {
    inner: R,
    offset: u64,
    /// The header read at open.
    pub header: SegmentHeader,
}

impl SegmentReader<BufReader<File>> {
    /// Opens a segment file and reads its header.
    pub fn open(path: &Path) -> Result<Self, ScanError> {
        let f = File::open(path)?;
        SegmentReader::new(BufReader::with_capacity(1 << 20, f))
    }
}

impl SegmentReader<Box<dyn Read>> {
    /// Opens a live segment file positioned at `offset`, which must be where an earlier
    /// reader of the same file reported its next entry ([`SegmentReader::offset`]):
    /// segments only grow, so that is still an entry's start. The header is read and
    /// checked first; an offset inside it reads from the first entry.
    pub fn open_at(path: &Path, offset: u64) -> Result<Self, ScanError> {
        let mut f = BufReader::with_capacity(1 << 20, File::open(path)?);
        let (header, len) = SegmentHeader::read(&mut f)?;
        let offset = offset.max(len);
        f.seek(SeekFrom::Start(offset))?;
        Ok(SegmentReader {
            inner: Box::new(f),
            offset,
            header,
        })
    }
}

impl<R: Read> SegmentReader<R> {
    /// Reads the header from `inner`.
    pub fn new(mut inner: R) -> Result<Self, ScanError> {
        let (header, len) = SegmentHeader::read(&mut inner)?;
        Ok(SegmentReader {
            inner,
            offset: len,
            header,
        })
    }

    /// Byte offset of the next entry.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The underlying reader, positioned at byte [`offset`](Self::offset).
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads the next entry's body into `body`; `Ok(None)` at a clean end of file.
    pub fn next_entry(&mut self, body: &mut Vec<u8>) -> Result<Option<EntryPos>, ScanError> {
        let offset = self.offset;
        let mut len = [0u8; 4];
        match read_full(&mut self.inner, &mut len) {
            Ok(()) => {}
            Err(Short::Eof(0)) => return Ok(None),
            Err(Short::Eof(k)) if len[..k].iter().all(|&b| b == 0) => return Ok(None),
            Err(Short::Eof(_)) => return Err(ScanError::Torn { offset }),
            Err(Short::Io(e)) => return Err(e.into()),
        }
        let n = u32::from_le_bytes(len) as usize;
        if n == 0 {
            return match first_non_zero(&mut self.inner)? {
                None => Ok(None),
                Some(at) => Err(ScanError::ZeroHole {
                    offset,
                    data_at: offset + 4 + at,
                }),
            };
        }
        if n > MAX_RECORD_BYTES {
            return Err(ScanError::BadLength {
                offset,
                len: n as u64,
            });
        }
        body.clear();
        body.resize(n + 32, 0);
        match read_full(&mut self.inner, body) {
            Ok(()) => {}
            Err(Short::Eof(_)) => return Err(ScanError::Torn { offset }),
            Err(Short::Io(e)) => return Err(e.into()),
        }
        let stored_hash: Hash = body[n..].try_into().expect("32 bytes");
        body.truncate(n);
        self.offset += 4 + n as u64 + 32;
        Ok(Some(EntryPos {
            offset,
            stored_hash,
        }))
    }
}

/// Reads `r` to its end; the position of the first non-zero byte, `None` if all are zero.
pub fn first_non_zero(r: &mut impl Read) -> io::Result<Option<u64>> {
    let mut buf = vec![0u8; 1 << 16];
    let mut pos = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(i) = buf[..n].iter().position(|&b| b != 0) {
            return Ok(Some(pos + i as u64));
        }
        pos += n as u64;
    }
}

/// Appends one entry's bytes to `out`.
pub fn encode_entry_header(out: &mut Vec<u8>, body_len: usize) {
    out.extend_from_slice(&(body_len as u32).to_le_bytes());
}

/// The file name of the segment starting at `first_seq`.
pub fn segment_file_name(first_seq: Seq) -> String {
    format!("seg-{first_seq:020}.log")
}

/// The first sequence number from a segment file name (`seg-NNN.log`).
pub fn parse_segment_file_name(name: &str) -> Option<Seq> {
    let digits = name.strip_prefix("seg-")?.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The segment files in `dir`, ordered by first sequence number.
pub fn list_segments(dir: &Path) -> io::Result<Vec<(Seq, PathBuf)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if let Some(seq) = e.file_name().to_str().and_then(parse_segment_file_name) {
            out.push((seq, e.path()));
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_damage() {
        let mut f = Frontier::new();
        for i in 0..5u8 {
            f.push([i; 32]);
        }
        let h = SegmentHeader {
            first_seq: 6,
            prev_hash: [9; 32],
            frontier: f,
        };
        let bytes = h.encode();
        let (back, len) = SegmentHeader::read(&mut &bytes[..]).unwrap();
        assert_eq!(back, h);
        assert_eq!(len as usize, bytes.len());
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x20;
            assert!(SegmentHeader::read(&mut &b[..]).is_err(), "byte {i}");
        }
        assert!(SegmentHeader::read(&mut &bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(parse_segment_file_name(&segment_file_name(42)), Some(42));
        assert_eq!(parse_segment_file_name("seg-1.log"), None);
    }
}
