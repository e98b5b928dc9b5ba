//! The shuan envelope file format (信封加密文件格式), version 1: chunked SM4-GCM
//! streaming encryption of files of any size in bounded memory. Documented in
//! `docs/envelope-format.md`.
//!
//! ```text
//! header:  "SHUANENC" | version=1 | alg=1 (SM4-GCM) | chunk_log2 | 0 |
//!          key_id_len (u8) | key_id (UTF-8) | key_version (u32 BE) |
//!          salt (16) | nonce_prefix (7) | header_check (16)
//! chunks:  ciphertext (2^chunk_log2 bytes, the last one 0..=that) | tag (16)
//! ```
//!
//! The file key is `HMAC-SM3(data_key, "shuan-envelope-v1 file key" ‖ salt)[..16]`, so
//! every file has its own key and GCM nonces never repeat across files. Chunk `i`'s nonce
//! is `nonce_prefix ‖ u32_be(i) ‖ final` (`final` = 1 on the last chunk only), and the
//! whole header is the associated data of every chunk: truncation at a chunk boundary,
//! reordering, swapping chunks between files and header edits all fail authentication.
//! `header_check` (`HMAC-SM3(file_key, "check" ‖ header)[..16]`) tells a wrong key apart
//! from a damaged file before any chunk is read.

use std::io::{Read, Write};
use std::path::Path;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::hmac::HmacSm3;
use crate::modes::{Sm4Gcm, GCM_TAG_LEN};
use crate::CryptoError;

/// First bytes of every envelope file.
pub const MAGIC: &[u8; 8] = b"SHUANENC";
/// The format version this code writes.
pub const VERSION: u8 = 1;
/// Algorithm id of chunked SM4-GCM.
pub const ALG_SM4_GCM: u8 = 1;
/// Default chunk size: 64 KiB.
pub const DEFAULT_CHUNK_LOG2: u8 = 16;
const SALT_LEN: usize = 16;
const PREFIX_LEN: usize = 7;
const CHECK_LEN: usize = 16;

/// Why an envelope could not be decrypted.
#[derive(thiserror::Error, Debug)]
pub enum EnvelopeError {
    /// The input does not start with the envelope magic.
    #[error("not a shuan encrypted file (missing SHUANENC header)")]
    NotShuanFile,
    /// The version or algorithm byte is unknown.
    #[error("unsupported shuan envelope version {version} / algorithm {alg}; upgrade shuan")]
    Unsupported {
        /// Version byte found.
        version: u8,
        /// Algorithm byte found.
        alg: u8,
    },
    /// The header is malformed (bad chunk size or key id).
    #[error("corrupt envelope header: {0}")]
    BadHeader(&'static str),
    /// The key does not match the file (or the header was altered).
    #[error("wrong key: the file was encrypted under key '{key_id}' version {key_version} with different key material (or its header was altered)")]
    WrongKey {
        /// Key id named in the header.
        key_id: String,
        /// Key version named in the header.
        key_version: u32,
    },
    /// The file ends early.
    #[error("truncated: the file ends after chunk {chunks_ok} before its final chunk")]
    Truncated {
        /// Chunks that authenticated before the end.
        chunks_ok: u64,
    },
    /// A chunk failed authentication.
    #[error("tampered: chunk {chunk} (byte offset {offset}) failed authentication; the file was altered or damaged")]
    Tampered {
        /// Index of the failing chunk.
        chunk: u64,
        /// Offset of that chunk in the file.
        offset: u64,
    },
    /// The key named in the header could not be obtained (unknown, destroyed, …).
    #[error("{0}")]
    KeyUnavailable(String),
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Another cryptographic error.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The parsed envelope header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Keyring key id whose data key encrypted the file.
    pub key_id: String,
    /// Version of that key.
    pub key_version: u32,
    chunk_log2: u8,
    salt: [u8; SALT_LEN],
    nonce_prefix: [u8; PREFIX_LEN],
    check: [u8; CHECK_LEN],
    /// The header bytes as read/written (associated data of every chunk).
    raw: Vec<u8>,
}

impl Header {
    fn new(key_id: &str, key_version: u32, chunk_log2: u8) -> Result<Self, EnvelopeError> {
        if key_id.is_empty() || key_id.len() > 255 {
            return Err(EnvelopeError::BadHeader("key id must be 1..=255 bytes"));
        }
        Ok(Header {
            key_id: key_id.to_string(),
            key_version,
            chunk_log2,
            salt: crate::rand::bytes()?,
            nonce_prefix: crate::rand::bytes()?,
            check: [0; CHECK_LEN],
            raw: Vec::new(),
        })
    }

    /// Bytes of the header up to (not including) the check value.
    fn body(&self) -> Vec<u8> {
        let mut h = Vec::with_capacity(64 + self.key_id.len());
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&[VERSION, ALG_SM4_GCM, self.chunk_log2, 0]);
        h.push(self.key_id.len() as u8);
        h.extend_from_slice(self.key_id.as_bytes());
        h.extend_from_slice(&self.key_version.to_be_bytes());
        h.extend_from_slice(&self.salt);
        h.extend_from_slice(&self.nonce_prefix);
        h
    }

    fn chunk_size(&self) -> usize {
        1usize << self.chunk_log2
    }

    /// Read and parse a header from `r`.
    pub fn read_from<R: Read>(r: &mut R) -> Result<Self, EnvelopeError> {
        let mut fixed = [0u8; 13];
        read_exact_or(r, &mut fixed, EnvelopeError::NotShuanFile)?;
        if &fixed[..8] != MAGIC {
            return Err(EnvelopeError::NotShuanFile);
        }
        let (version, alg, chunk_log2) = (fixed[8], fixed[9], fixed[10]);
        if version != VERSION || alg != ALG_SM4_GCM {
            return Err(EnvelopeError::Unsupported { version, alg });
        }
        if !(10..=24).contains(&chunk_log2) || fixed[11] != 0 {
            return Err(EnvelopeError::BadHeader("chunk size out of range"));
        }
        let id_len = fixed[12] as usize;
        let mut rest = vec![0u8; id_len + 4 + SALT_LEN + PREFIX_LEN + CHECK_LEN];
        read_exact_or(r, &mut rest, EnvelopeError::Truncated { chunks_ok: 0 })?;
        let key_id = std::str::from_utf8(&rest[..id_len])
            .map_err(|_| EnvelopeError::BadHeader("key id is not UTF-8"))?
            .to_string();
        if key_id.is_empty() {
            return Err(EnvelopeError::BadHeader("empty key id"));
        }
        let mut p = id_len;
        let key_version = u32::from_be_bytes(rest[p..p + 4].try_into().expect("4 bytes"));
        p += 4;
        let salt = rest[p..p + SALT_LEN].try_into().expect("salt");
        p += SALT_LEN;
        let nonce_prefix = rest[p..p + PREFIX_LEN].try_into().expect("prefix");
        p += PREFIX_LEN;
        let check = rest[p..p + CHECK_LEN].try_into().expect("check");
        let mut raw = fixed.to_vec();
        raw.extend_from_slice(&rest);
        Ok(Header {
            key_id,
            key_version,
            chunk_log2,
            salt,
            nonce_prefix,
            check,
            raw,
        })
    }
}

fn read_exact_or<R: Read>(
    r: &mut R,
    buf: &mut [u8],
    short: EnvelopeError,
) -> Result<(), EnvelopeError> {
    let n = read_full(r, buf)?;
    if n < buf.len() {
        return Err(short);
    }
    Ok(())
}

/// Read until `buf` is full or EOF; returns bytes read.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn file_key(data_key: &[u8; 16], salt: &[u8]) -> Zeroizing<[u8; 16]> {
    let mut m = HmacSm3::new(data_key);
    m.update(b"shuan-envelope-v1 file key");
    m.update(salt);
    let full = Zeroizing::new(m.finalize());
    let mut k = Zeroizing::new([0u8; 16]);
    k.copy_from_slice(&full[..16]);
    k
}

fn header_check(file_key: &[u8; 16], body: &[u8]) -> [u8; CHECK_LEN] {
    let mut m = HmacSm3::new(file_key);
    m.update(b"check");
    m.update(body);
    let full = m.finalize();
    full[..CHECK_LEN].try_into().expect("16 bytes")
}

fn nonce(prefix: &[u8; PREFIX_LEN], index: u64, last: bool) -> Result<[u8; 12], EnvelopeError> {
    let index: u32 = index
        .try_into()
        .map_err(|_| EnvelopeError::BadHeader("file has more than 2^32 chunks"))?;
    let mut n = [0u8; 12];
    n[..7].copy_from_slice(prefix);
    n[7..11].copy_from_slice(&index.to_be_bytes());
    n[11] = last as u8;
    Ok(n)
}

/// Encrypt everything from `input` into `output` under `data_key` (named
/// `key_id`/`key_version` in the header). Returns the number of plaintext bytes.
pub fn encrypt<R: Read, W: Write>(
    key_id: &str,
    key_version: u32,
    data_key: &[u8; 16],
    input: &mut R,
    output: &mut W,
) -> Result<u64, EnvelopeError> {
    encrypt_with_chunk_size(
        key_id,
        key_version,
        data_key,
        DEFAULT_CHUNK_LOG2,
        input,
        output,
    )
}

/// [`encrypt`] with a chosen chunk size `2^chunk_log2` (10..=24).
pub fn encrypt_with_chunk_size<R: Read, W: Write>(
    key_id: &str,
    key_version: u32,
    data_key: &[u8; 16],
    chunk_log2: u8,
    input: &mut R,
    output: &mut W,
) -> Result<u64, EnvelopeError> {
    if !(10..=24).contains(&chunk_log2) {
        return Err(EnvelopeError::BadHeader("chunk size out of range"));
    }
    let mut w = EnvelopeWriter::with_chunk_size(key_id, key_version, data_key, chunk_log2, output)?;
    std::io::copy(input, &mut w)?;
    let (total, _) = w.finish()?;
    Ok(total)
}

/// A [`Write`] that encrypts into the envelope format as data arrives. Call
/// [`EnvelopeWriter::finish`] at the end: it writes the final chunk (dropping the
/// writer without it leaves a file that decrypts as truncated).
pub struct EnvelopeWriter<W: Write> {
    out: W,
    gcm: Sm4Gcm,
    header: Vec<u8>,
    nonce_prefix: [u8; PREFIX_LEN],
    buf: Zeroizing<Vec<u8>>,
    chunk_size: usize,
    index: u64,
    total: u64,
}

impl<W: Write> std::fmt::Debug for EnvelopeWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnvelopeWriter { .. }")
    }
}

impl<W: Write> EnvelopeWriter<W> {
    /// Start an envelope with 64 KiB chunks; writes the header immediately.
    pub fn new(
        key_id: &str,
        key_version: u32,
        data_key: &[u8; 16],
        out: W,
    ) -> Result<Self, EnvelopeError> {
        Self::with_chunk_size(key_id, key_version, data_key, DEFAULT_CHUNK_LOG2, out)
    }

    /// Start an envelope with chunks of `2^chunk_log2` bytes (10..=24).
    pub fn with_chunk_size(
        key_id: &str,
        key_version: u32,
        data_key: &[u8; 16],
        chunk_log2: u8,
        mut out: W,
    ) -> Result<Self, EnvelopeError> {
        if !(10..=24).contains(&chunk_log2) {
            return Err(EnvelopeError::BadHeader("chunk size out of range"));
        }
        let mut header = Header::new(key_id, key_version, chunk_log2)?;
        let fk = file_key(data_key, &header.salt);
        let body = header.body();
        header.check = header_check(&fk, &body);
        let mut raw = body;
        raw.extend_from_slice(&header.check);
        out.write_all(&raw)?;
        let chunk_size = header.chunk_size();
        Ok(EnvelopeWriter {
            out,
            gcm: Sm4Gcm::new(&fk),
            header: raw,
            nonce_prefix: header.nonce_prefix,
            buf: Zeroizing::new(Vec::with_capacity(chunk_size)),
            chunk_size,
            index: 0,
            total: 0,
        })
    }

    fn emit(&mut self, last: bool) -> std::io::Result<()> {
        let nonce = nonce(&self.nonce_prefix, self.index, last)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let tag = self.gcm.encrypt(&nonce, &self.header, &mut self.buf[..]);
        self.out.write_all(&self.buf)?;
        self.out.write_all(&tag)?;
        self.total += self.buf.len() as u64;
        self.buf.clear();
        self.index += 1;
        Ok(())
    }

    /// Write the final chunk and flush; returns (plaintext bytes, the inner writer).
    pub fn finish(mut self) -> Result<(u64, W), EnvelopeError> {
        self.emit(true)?;
        self.out.flush()?;
        let total = self.total;
        // Move `out` out of a type without Drop glue of its own.
        let EnvelopeWriter { out, .. } = self;
        Ok((total, out))
    }
}

impl<W: Write> Write for EnvelopeWriter<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        // A full buffer is emitted as a non-final chunk only once more data arrives,
        // so the last chunk is always the one `finish` writes.
        if self.buf.len() == self.chunk_size {
            self.emit(false)?;
        }
        let n = (self.chunk_size - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Decrypt an envelope whose header has already been read with [`Header::read_from`]
/// from `input`, writing plaintext to `output` only chunk by chunk after each chunk's tag
/// verifies. Returns the number of plaintext bytes.
///
/// Note: on error, `output` may hold the authenticated plaintext of earlier chunks;
/// [`decrypt_file`] writes to a temporary file and removes it in that case.
pub fn decrypt<R: Read, W: Write>(
    header: &Header,
    data_key: &[u8; 16],
    input: &mut R,
    output: &mut W,
) -> Result<u64, EnvelopeError> {
    let mut reader = DecryptReader::new(header, data_key, input)?;
    while reader.open_next_chunk()? {
        output.write_all(reader.pending())?;
        reader.consume_pending();
    }
    output.flush()?;
    Ok(reader.plaintext_len())
}

/// The plaintext of an envelope as a [`Read`] stream, for consumers that cannot take a
/// writer (e.g. unpacking an archive as it is decrypted, with no plaintext copy on disk).
///
/// Each chunk's bytes are released only after its tag verified, and the end of the stream
/// (`Ok(0)`) is reported only after the final chunk verified, so a reader that reaches
/// the end has read an authentic, complete plaintext. A failure is an `io::Error` whose
/// message is the envelope error's; [`DecryptReader::failure`] returns the error itself.
pub struct DecryptReader<R: Read> {
    input: R,
    gcm: Sm4Gcm,
    header_raw: Vec<u8>,
    nonce_prefix: [u8; PREFIX_LEN],
    chunk_size: usize,
    /// One record (ciphertext + tag) and one byte more, to see whether another follows.
    buf: Zeroizing<Vec<u8>>,
    have: usize,
    /// Index of the chunk in `buf`, and whether it has been opened yet.
    index: u64,
    opened: bool,
    offset: u64,
    /// Verified plaintext of the current chunk not yet handed out: `buf[pos..end]`.
    pos: usize,
    end: usize,
    finished: bool,
    total: u64,
    failure: Option<EnvelopeError>,
}

impl<R: Read> std::fmt::Debug for DecryptReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptReader")
            .field("chunk", &self.index)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<R: Read> DecryptReader<R> {
    /// Check `data_key` against the header (a wrong key fails here, before any chunk) and
    /// start reading chunks from `input`, positioned just after the header.
    pub fn new(header: &Header, data_key: &[u8; 16], mut input: R) -> Result<Self, EnvelopeError> {
        let fk = file_key(data_key, &header.salt);
        let expected = header_check(&fk, &header.raw[..header.raw.len() - CHECK_LEN]);
        if !bool::from(expected.ct_eq(&header.check)) {
            return Err(EnvelopeError::WrongKey {
                key_id: header.key_id.clone(),
                key_version: header.key_version,
            });
        }
        let chunk_size = header.chunk_size();
        let mut buf = Zeroizing::new(vec![0u8; chunk_size + GCM_TAG_LEN + 1]);
        let have = read_full(&mut input, &mut buf[..])?;
        Ok(DecryptReader {
            input,
            gcm: Sm4Gcm::new(&fk),
            header_raw: header.raw.clone(),
            nonce_prefix: header.nonce_prefix,
            chunk_size,
            buf,
            have,
            index: 0,
            opened: false,
            offset: header.raw.len() as u64,
            pos: 0,
            end: 0,
            finished: false,
            total: 0,
            failure: None,
        })
    }

    /// Plaintext bytes released so far.
    pub fn plaintext_len(&self) -> u64 {
        self.total
    }

    /// Whether the final chunk has verified (the whole plaintext was authentic).
    pub fn is_complete(&self) -> bool {
        self.finished
    }

    /// The error that stopped the stream, if any.
    pub fn failure(&self) -> Option<&EnvelopeError> {
        self.failure.as_ref()
    }

    /// Take the error that stopped the stream, if any.
    pub fn take_failure(&mut self) -> Option<EnvelopeError> {
        self.failure.take()
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    fn consume_pending(&mut self) {
        self.pos = self.end;
    }

    /// Authenticate and decrypt the next chunk into `buf[pos..end]`; `false` once the
    /// final chunk has been opened. Call only when the pending plaintext is consumed.
    fn open_next_chunk(&mut self) -> Result<bool, EnvelopeError> {
        if self.finished {
            return Ok(false);
        }
        let rec = self.chunk_size + GCM_TAG_LEN;
        if self.opened {
            // The byte read past the previous record starts this one.
            self.offset += rec as u64;
            self.buf[0] = self.buf[rec];
            self.have = 1 + read_full(&mut self.input, &mut self.buf[1..])?;
            self.index += 1;
        }
        self.opened = true;
        let have = self.have;
        if have < GCM_TAG_LEN {
            return Err(EnvelopeError::Truncated {
                chunks_ok: self.index,
            });
        }
        let last = have <= rec;
        let n = have.min(rec) - GCM_TAG_LEN;
        let (data, tag) = self.buf[..n + GCM_TAG_LEN].split_at_mut(n);
        let tag: [u8; GCM_TAG_LEN] = (&*tag).try_into().expect("16-byte tag");
        let ok = self
            .gcm
            .decrypt(
                &nonce(&self.nonce_prefix, self.index, last)?,
                &self.header_raw,
                data,
                &tag,
            )
            .is_ok();
        if !ok {
            // A full chunk that authenticates as non-final means the rest was cut off.
            let as_middle = last
                && n == self.chunk_size
                && self
                    .gcm
                    .decrypt(
                        &nonce(&self.nonce_prefix, self.index, false)?,
                        &self.header_raw,
                        data,
                        &tag,
                    )
                    .is_ok();
            // Whatever a failed decryption left in `data` is not plaintext to keep.
            zeroize::Zeroize::zeroize(&mut data[..]);
            if as_middle {
                return Err(EnvelopeError::Truncated {
                    chunks_ok: self.index + 1,
                });
            }
            return Err(EnvelopeError::Tampered {
                chunk: self.index,
                offset: self.offset,
            });
        }
        self.pos = 0;
        self.end = n;
        self.total += n as u64;
        self.finished = last;
        Ok(true)
    }
}

impl<R: Read> Read for DecryptReader<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.pos < self.end {
                let k = out.len().min(self.end - self.pos);
                out[..k].copy_from_slice(&self.buf[self.pos..self.pos + k]);
                self.pos += k;
                return Ok(k);
            }
            if let Some(e) = &self.failure {
                return Err(std::io::Error::other(e.to_string()));
            }
            if self.finished || out.is_empty() {
                return Ok(0);
            }
            if let Err(e) = self.open_next_chunk() {
                let io = std::io::Error::other(e.to_string());
                self.failure = Some(e);
                return Err(io);
            }
        }
    }
}

/// Encrypt file `input` to `output` (written to a temporary file then renamed).
pub fn encrypt_file(
    key_id: &str,
    key_version: u32,
    data_key: &[u8; 16],
    input: &Path,
    output: &Path,
) -> Result<u64, EnvelopeError> {
    let mut inf = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(input)?);
    let mut tmp = temp_beside(output)?;
    let n = {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        let n = encrypt(key_id, key_version, data_key, &mut inf, &mut w)?;
        w.flush()?;
        n
    };
    tmp.as_file().sync_all()?;
    tmp.persist(output)
        .map_err(|e| EnvelopeError::Io(e.error))?;
    Ok(n)
}

/// Decrypt file `input` to `output`. `lookup` returns the data key for the header's key
/// id and version. Plaintext goes to a temporary file (mode 0600) beside `output` that
/// is renamed to `output` only after the final chunk's tag verifies; on any error it is
/// removed, so a wrong key or a tampered file never leaves plaintext at `output`.
pub fn decrypt_file<F>(input: &Path, output: &Path, lookup: F) -> Result<u64, EnvelopeError>
where
    F: FnOnce(&Header) -> Result<Zeroizing<[u8; 16]>, EnvelopeError>,
{
    let mut inf = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(input)?);
    let header = Header::read_from(&mut inf)?;
    let key = lookup(&header)?;
    let mut tmp = temp_beside(output)?;
    let n = {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        let n = decrypt(&header, &key, &mut inf, &mut w)?;
        w.flush()?;
        n
    };
    tmp.as_file().sync_all()?;
    tmp.persist(output)
        .map_err(|e| EnvelopeError::Io(e.error))?;
    Ok(n)
}

fn temp_beside(output: &Path) -> Result<tempfile::NamedTempFile, EnvelopeError> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Mode 0600, and a name the crash sweep recognises.
    Ok(crate::fsutil::temp_file_in(dir, "partial")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(pt: &[u8], key: &[u8; 16], log2: u8) -> Vec<u8> {
        let mut out = Vec::new();
        encrypt_with_chunk_size("default", 1, key, log2, &mut &pt[..], &mut out).unwrap();
        out
    }

    fn dec(ct: &[u8], key: &[u8; 16]) -> Result<Vec<u8>, EnvelopeError> {
        let mut r = ct;
        let h = Header::read_from(&mut r)?;
        let mut out = Vec::new();
        decrypt(&h, key, &mut r, &mut out)?;
        Ok(out)
    }

    #[test]
    fn roundtrip_sizes_around_chunk_boundaries() {
        let key = [9u8; 16];
        for len in [0usize, 1, 1023, 1024, 1025, 2048, 5000] {
            let pt: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
            let ct = enc(&pt, &key, 10);
            let chunks = len.div_ceil(1024).max(1);
            assert_eq!(
                ct.len(),
                13 + 7 + 4 + 16 + 7 + 16 + len + 16 * chunks,
                "len {len}"
            );
            assert_eq!(dec(&ct, &key).unwrap(), pt);
        }
    }

    #[test]
    fn errors_are_specific() {
        let key = [1u8; 16];
        let pt = vec![5u8; 3000];
        let ct = enc(&pt, &key, 10);
        assert!(matches!(
            dec(&ct, &[2u8; 16]),
            Err(EnvelopeError::WrongKey { .. })
        ));
        assert!(matches!(
            dec(b"PK\x03\x04 zip file", &key),
            Err(EnvelopeError::NotShuanFile)
        ));
        // Cut at a chunk boundary: the remaining last chunk is not marked final.
        let hdr = ct.len() - 3000 - 3 * 16;
        let cut = hdr + 1024 + 16;
        assert!(matches!(
            dec(&ct[..cut], &key),
            Err(EnvelopeError::Truncated { chunks_ok: 1 })
        ));
        let mut bad = ct.clone();
        bad[hdr + 1500] ^= 0x40;
        assert!(matches!(
            dec(&bad, &key),
            Err(EnvelopeError::Tampered { chunk: 1, .. })
        ));
        let mut extra = ct.clone();
        extra.push(0);
        assert!(dec(&extra, &key).is_err());
    }

    /// Every single-byte change and every truncation of a small envelope is rejected.
    #[test]
    fn every_flip_and_truncation_rejected() {
        let key = [4u8; 16];
        let pt: Vec<u8> = (0..2500u32).map(|i| (i % 251) as u8).collect();
        let ct = enc(&pt, &key, 10);
        assert_eq!(dec(&ct, &key).unwrap(), pt);
        for i in 0..ct.len() {
            for flip in [0x01u8, 0x80] {
                let mut bad = ct.clone();
                bad[i] ^= flip;
                assert!(
                    dec(&bad, &key).is_err(),
                    "flip {flip:#x} at byte {i} accepted"
                );
            }
        }
        for len in 0..ct.len() {
            assert!(
                dec(&ct[..len], &key).is_err(),
                "truncation to {len} accepted"
            );
        }
    }

    /// Random bytes behind a valid magic (and random header fields) never panic.
    #[test]
    fn random_input_never_panics() {
        let mut seed = 0x0bad_5eed_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        };
        let good = enc(&[9u8; 3000], &[4u8; 16], 10);
        for i in 0..3000 {
            let len = (i * 7) % 400;
            let mut data: Vec<u8> = if i % 2 == 0 {
                let mut d = MAGIC.to_vec();
                d.extend_from_slice(&[1, 1, 10 + (i % 20) as u8, 0]);
                d
            } else {
                good[..good.len().min(60)].to_vec()
            };
            data.extend((0..len).map(|_| next()));
            assert!(dec(&data, &[4u8; 16]).is_err());
        }
    }

    #[test]
    fn chunks_cannot_be_swapped_between_files_or_reordered() {
        let key = [4u8; 16];
        let a = enc(&[1u8; 2048], &key, 10);
        let b = enc(&[2u8; 2048], &key, 10);
        let hdr = a.len() - 2048 - 3 * 16;
        let mut mixed = a.clone();
        mixed[hdr..hdr + 1040].copy_from_slice(&b[hdr..hdr + 1040]);
        assert!(dec(&mixed, &key).is_err());
        let mut swapped = a.clone();
        let (c0, c1) = (
            a[hdr..hdr + 1040].to_vec(),
            a[hdr + 1040..hdr + 2080].to_vec(),
        );
        swapped[hdr..hdr + 1040].copy_from_slice(&c1);
        swapped[hdr + 1040..hdr + 2080].copy_from_slice(&c0);
        assert!(dec(&swapped, &key).is_err());
    }

    #[test]
    fn decrypt_file_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let key = [7u8; 16];
        let src = dir.path().join("plain");
        std::fs::write(&src, vec![3u8; 200_000]).unwrap();
        let enc_path = dir.path().join("enc");
        encrypt_file("k", 2, &key, &src, &enc_path).unwrap();
        let mut ct = std::fs::read(&enc_path).unwrap();
        let last = ct.len() - 1;
        ct[last] ^= 1;
        std::fs::write(&enc_path, &ct).unwrap();
        let out = dir.path().join("out");
        let err = decrypt_file(&enc_path, &out, |h| {
            assert_eq!((h.key_id.as_str(), h.key_version), ("k", 2));
            Ok(Zeroizing::new(key))
        })
        .unwrap_err();
        assert!(
            matches!(err, EnvelopeError::Tampered { chunk: 3, .. }),
            "{err}"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "only the two inputs remain: {names:?}");
        ct[last] ^= 1;
        std::fs::write(&enc_path, &ct).unwrap();
        decrypt_file(&enc_path, &out, |_| Ok(Zeroizing::new(key))).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), vec![3u8; 200_000]);
    }

    /// The streaming reader yields exactly the plaintext, whatever the read sizes, and
    /// never reports the end of a stream whose final chunk is missing or altered.
    #[test]
    fn decrypt_reader_streams_and_never_ends_early() {
        let key = [3u8; 16];
        let pt: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
        let ct = enc(&pt, &key, 10);
        for step in [1usize, 7, 1024, 4096] {
            let mut input = &ct[..];
            let h = Header::read_from(&mut input).unwrap();
            let mut r = DecryptReader::new(&h, &key, input).unwrap();
            let mut got = Vec::new();
            let mut buf = vec![0u8; step];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert!(got == pt, "read size {step}");
            assert!(r.is_complete());
            assert_eq!(r.plaintext_len(), pt.len() as u64);
        }
        let record = 1024 + GCM_TAG_LEN;
        // 4 full chunks and a final one of 904 bytes, each with its tag.
        let header_len = ct.len() - (pt.len() + 5 * GCM_TAG_LEN);
        let cut = &ct[..header_len + 3 * record];
        let mut flipped = ct.clone();
        flipped[header_len + 2 * record + 5] ^= 1;
        for (what, bad) in [("cut", cut.to_vec()), ("flipped", flipped)] {
            let mut input = &bad[..];
            let h = Header::read_from(&mut input).unwrap();
            let mut r = DecryptReader::new(&h, &key, input).unwrap();
            let err = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
            assert!(!r.is_complete(), "{what}");
            match (what, r.failure()) {
                ("cut", Some(EnvelopeError::Truncated { .. })) => {}
                ("flipped", Some(EnvelopeError::Tampered { chunk: 2, .. })) => {}
                other => panic!("{what}: {other:?} ({err})"),
            }
            // It stays failed.
            assert!(r.read(&mut [0u8; 16]).is_err());
        }
    }
}
