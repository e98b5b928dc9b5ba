//! CSV/TSV files: encoding detection, delimiter choice, bounded records.
//!
//! Rows are read as byte records (no per-field allocation by the csv crate) and decoded
//! field by field: UTF-8 is validated, GB18030 is decoded only for fields with non-ASCII
//! bytes. Malformed rows are reported and skipped; a record over the size cap ends the
//! table (the rest of the file cannot be resynchronised reliably after a runaway quote).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::files::{binary_reason, read_head};
use crate::{
    distinct_names, ColumnMeta, RowPosition, RowReader, SourceError, SourceOptions, TextEncoding,
};

const SNIFF_BYTES: usize = 64 * 1024;
const PROGRESS_STEP: u64 = 1 << 20;

/// Marker carried inside the `io::Error` that [`CappedRead`] returns.
#[derive(Debug)]
struct RecordCapReached;

impl std::fmt::Display for RecordCapReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("record size cap reached")
    }
}

impl std::error::Error for RecordCapReached {}

/// A reader that refuses to deliver more than `cap` bytes past the start of the record
/// being parsed, so one runaway record cannot take unbounded memory.
struct CappedRead<R> {
    inner: R,
    delivered: u64,
    record_start: u64,
    cap: u64,
}

impl<R: Read> Read for CappedRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let used = self.delivered.saturating_sub(self.record_start);
        if used > self.cap {
            return Err(io::Error::other(RecordCapReached));
        }
        let n = self.inner.read(buf)?;
        self.delivered += n as u64;
        Ok(n)
    }
}

/// Reports the file bytes read to the progress callback, about every MiB and at the end.
struct ProgressRead<R> {
    inner: R,
    unreported: u64,
    options: SourceOptions,
}

impl<R: Read> Read for ProgressRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.unreported += n as u64;
        if self.unreported >= PROGRESS_STEP || (n == 0 && !buf.is_empty()) {
            self.options.report(self.unreported);
            self.unreported = 0;
        }
        Ok(n)
    }
}

/// Turns UTF-16 (Excel's "Unicode text" export) into UTF-8 as it is read, so the CSV
/// parser and everything after it only see UTF-8. Unpaired surrogates become U+FFFD.
struct Utf16ToUtf8<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    raw: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    finished: bool,
}

impl<R: Read> Utf16ToUtf8<R> {
    fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Self {
        Utf16ToUtf8 {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            raw: vec![0; 64 * 1024],
            out: Vec::new(),
            out_pos: 0,
            finished: false,
        }
    }
}

impl<R: Read> Read for Utf16ToUtf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos == self.out.len() {
            if self.finished {
                return Ok(0);
            }
            let n = loop {
                match self.inner.read(&mut self.raw) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            let last = n == 0;
            self.finished = last;
            let needed = self
                .decoder
                .max_utf8_buffer_length(n)
                .ok_or_else(|| io::Error::other("UTF-16 chunk too large"))?;
            self.out.resize(needed, 0);
            let (_, read, written, _) =
                self.decoder
                    .decode_to_utf8(&self.raw[..n], &mut self.out, last);
            debug_assert_eq!(read, n);
            self.out.truncate(written);
            self.out_pos = 0;
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// The UTF-16 variant a byte-order mark announces.
pub(crate) fn utf16_bom(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    if head.starts_with(&[0xFF, 0xFE]) {
        Some(encoding_rs::UTF_16LE)
    } else if head.starts_with(&[0xFE, 0xFF]) {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Detects the encoding from a file's head: BOM, else valid UTF-8, else UTF-8 when it is
/// overwhelmingly UTF-8 (at least [`UTF8_CHARS_PER_ERROR`] well-formed multi-byte UTF-8
/// characters per invalid sequence: GBK text almost never forms them, while UTF-8 Chinese
/// also decodes as GB18030 with few errors, so comparing error counts alone took a short
/// UTF-8 file with a few bad bytes for GB18030), else whichever of UTF-8 and GB18030 has
/// fewer invalid sequences (ties go to UTF-8), so one stray bad byte in a GBK export does
/// not make the whole file unreadable. Rows with bad bytes are then reported one by one.
pub(crate) fn detect_encoding(head: &[u8]) -> TextEncoding {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return TextEncoding::Utf8;
    }
    let utf8 = utf8_stats(head);
    if utf8.errors == 0 || utf8.multibyte_chars >= UTF8_CHARS_PER_ERROR * utf8.errors {
        return TextEncoding::Utf8;
    }
    if gb18030_errors(head) < utf8.errors {
        TextEncoding::Gb18030
    } else {
        TextEncoding::Utf8
    }
}

/// Well-formed multi-byte UTF-8 characters per invalid sequence from which a head is taken
/// for UTF-8 with damage. In GBK text only about one character pair in seventy happens to
/// form a UTF-8 sequence, against one invalid sequence for nearly every GBK character.
const UTF8_CHARS_PER_ERROR: usize = 4;

/// What a byte string looks like as UTF-8.
struct Utf8Stats {
    /// Invalid sequences; a character cut by the end is not counted.
    errors: usize,
    /// Well-formed characters of two to four bytes.
    multibyte_chars: usize,
}

fn utf8_stats(mut bytes: &[u8]) -> Utf8Stats {
    let mut stats = Utf8Stats {
        errors: 0,
        multibyte_chars: 0,
    };
    let count = |valid: &[u8]| valid.iter().filter(|&&b| b >= 0xC0).count();
    loop {
        match std::str::from_utf8(bytes) {
            Ok(_) => {
                stats.multibyte_chars += count(bytes);
                return stats;
            }
            Err(e) => {
                stats.multibyte_chars += count(&bytes[..e.valid_up_to()]);
                match e.error_len() {
                    Some(len) => {
                        stats.errors += 1;
                        bytes = &bytes[e.valid_up_to() + len..];
                    }
                    None => return stats,
                }
            }
        }
    }
}

/// How far past an all-ASCII head the encoding sniffer looks for the first non-ASCII text.
const MAX_ENCODING_SCAN: u64 = 16 * 1024 * 1024;

/// The bytes to detect the encoding from: the head, unless it is all ASCII and the file goes
/// on. Then (regression, issue 10 item 7) the first lines had decided alone, so a GBK export
/// whose first 64 KiB were ASCII was read as UTF-8 and every later Chinese row was skipped:
/// the sample is the first [`SNIFF_BYTES`] from the line holding the first non-ASCII byte
/// within [`MAX_ENCODING_SCAN`].
fn encoding_sample<'a>(
    path: &Path,
    head: &'a [u8],
) -> Result<std::borrow::Cow<'a, [u8]>, SourceError> {
    if head.len() < SNIFF_BYTES || !head.is_ascii() {
        return Ok(std::borrow::Cow::Borrowed(head));
    }
    let io_error = |e| SourceError::io(path, e);
    let mut file = File::open(path).map_err(io_error)?;
    file.seek(SeekFrom::Start(head.len() as u64))
        .map_err(io_error)?;
    let mut rest = file.take(MAX_ENCODING_SCAN);
    let mut window = vec![0u8; SNIFF_BYTES];
    // The ASCII tail of the previous chunk, so a line cut by a chunk boundary is whole.
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = read_full(&mut rest, &mut window).map_err(io_error)?;
        if n == 0 {
            return Ok(std::borrow::Cow::Borrowed(head));
        }
        let chunk = &window[..n];
        if let Some(first) = chunk.iter().position(|b| !b.is_ascii()) {
            let line_start = chunk[..first]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let mut sample = if line_start == 0 {
                std::mem::take(&mut carry)
            } else {
                Vec::new()
            };
            sample.extend_from_slice(&chunk[line_start..]);
            let more = SNIFF_BYTES.saturating_sub(n - line_start);
            let mut tail = vec![0u8; more];
            let m = read_full(&mut rest, &mut tail).map_err(io_error)?;
            sample.extend_from_slice(&tail[..m]);
            return Ok(std::borrow::Cow::Owned(sample));
        }
        carry.clear();
        let last_line = chunk.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        carry.extend_from_slice(&chunk[last_line..]);
    }
}

/// Reads until `buf` is full or the input ends; the number of bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Malformed GB18030 sequences in `bytes`; a character cut by the end is not counted.
fn gb18030_errors(mut bytes: &[u8]) -> usize {
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(
        decoder
            .max_utf8_buffer_length_without_replacement(bytes.len())
            .unwrap_or(bytes.len() * 3)
            + 16,
    );
    let mut errors = 0;
    loop {
        out.clear();
        let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, false);
        bytes = &bytes[read..];
        match result {
            encoding_rs::DecoderResult::Malformed(_, _) => errors += 1,
            encoding_rs::DecoderResult::InputEmpty => return errors,
            // Cannot happen with the capacity reserved above; stop rather than loop.
            encoding_rs::DecoderResult::OutputFull => return errors,
        }
    }
}

/// The delimiter of a file: explicit, by extension, or guessed from the first line.
fn choose_delimiter(path: &Path, head: &[u8], explicit: Option<u8>) -> u8 {
    if let Some(d) = explicit {
        return d;
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("tsv" | "tab")) {
        return b'\t';
    }
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let count = |d: u8| first_line.iter().filter(|&&b| b == d).count();
    if count(b',') > 0 {
        return b',';
    }
    [b'\t', b';', b'|']
        .into_iter()
        .max_by_key(|&d| count(d))
        .filter(|&d| count(d) > 0)
        .unwrap_or(b',')
}

/// Streams the rows of one CSV/TSV file; the first record is the header.
pub(crate) struct DelimitedReader {
    path: String,
    reader: csv::Reader<CappedRead<Box<dyn Read + Send>>>,
    record: csv::ByteRecord,
    /// Reused by GB18030 validation of rows that are skipped rather than returned.
    scratch: String,
    columns: Vec<ColumnMeta>,
    encoding: TextEncoding,
    row: u64,
    line: u64,
    cap: usize,
    finished: bool,
}

impl DelimitedReader {
    pub(crate) fn open(path: &Path, options: &SourceOptions) -> Result<Self, SourceError> {
        let display = path.display().to_string();
        let head = read_head(path, SNIFF_BYTES)?;
        if let Some(reason) = binary_reason(&head) {
            return Err(SourceError::Binary {
                path: display,
                reason,
            });
        }
        let utf16 = utf16_bom(&head);
        let bom = head.starts_with(b"\xEF\xBB\xBF");
        let (encoding, delimiter) = match utf16 {
            Some(utf16) => {
                let (text, _) = utf16.decode_with_bom_removal(&head);
                let delimiter = choose_delimiter(path, text.as_bytes(), options.delimiter);
                (TextEncoding::Utf8, delimiter)
            }
            None => {
                let encoding = match options.encoding {
                    Some(encoding) => encoding,
                    None => detect_encoding(&encoding_sample(path, &head)?),
                };
                let body = if bom { &head[3..] } else { &head[..] };
                (encoding, choose_delimiter(path, body, options.delimiter))
            }
        };
        let mut file = File::open(path).map_err(|e| SourceError::io(path, e))?;
        if bom {
            file.seek(SeekFrom::Start(3))
                .map_err(|e| SourceError::io(path, e))?;
            options.report(3);
        }
        let counted = ProgressRead {
            inner: file,
            unreported: 0,
            options: options.clone(),
        };
        let text: Box<dyn Read + Send> = match utf16 {
            Some(utf16) => Box::new(Utf16ToUtf8::new(counted, utf16)),
            None => Box::new(counted),
        };
        let cap = options.record_cap();
        let capped = CappedRead {
            inner: text,
            delivered: 0,
            record_start: 0,
            cap: cap as u64,
        };
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(256 * 1024)
            .from_reader(capped);
        let mut this = DelimitedReader {
            path: display,
            reader,
            record: csv::ByteRecord::new(),
            scratch: String::new(),
            columns: Vec::new(),
            encoding,
            row: 0,
            line: 0,
            cap,
            finished: false,
        };
        if let Some(header) = this.read_raw() {
            header?;
            let names = this
                .decode_record()?
                .into_iter()
                .map(|v| v.unwrap_or_default())
                .collect();
            this.columns = distinct_names(names)
                .into_iter()
                .map(|name| ColumnMeta {
                    name,
                    declared_type: None,
                })
                .collect();
        }
        Ok(this)
    }

    /// Reads the next record's bytes into `self.record`; `None` at the end.
    fn read_raw(&mut self) -> Option<Result<(), SourceError>> {
        loop {
            if self.finished {
                return None;
            }
            let more = match self.reader.read_byte_record(&mut self.record) {
                Ok(more) => more,
                Err(e) => {
                    self.finished = true;
                    return Some(Err(self.csv_error(e)));
                }
            };
            let start = self.reader.position().byte();
            self.reader.get_mut().record_start = start;
            if !more {
                self.finished = true;
                return None;
            }
            self.line = self.record.position().map_or(self.line + 1, |p| p.line());
            // A line holding only whitespace-free emptiness (e.g. `""`) in a multi-column
            // file carries no value: not a row, not an error.
            let blank = self.record.len() == 1 && self.record[0].is_empty();
            if blank && self.columns.len() > 1 {
                continue;
            }
            return Some(Ok(()));
        }
    }

    /// The record as text, or the encoding error of its line.
    /// (The header, read while there are no columns yet, is decoded whole; rows up to the
    /// header's width, see [`Self::check_width`].)
    fn decode_record(&self) -> Result<Vec<Option<String>>, SourceError> {
        let width = self.fields_wanted();
        let mut values = Vec::with_capacity(width);
        for field in self.record.iter().take(width) {
            match decode(field, self.encoding) {
                Some(text) => values.push(Some(text)),
                None => return Err(self.encoding_error()),
            }
        }
        Ok(values)
    }

    /// The record as text into `row`, reusing its strings: the streaming path of
    /// [`RowReader::next_row_into`]. Same fields and errors as [`Self::decode_record`].
    fn decode_record_into(&mut self, row: &mut Vec<Option<String>>) -> Result<(), SourceError> {
        let width = self.fields_wanted();
        row.truncate(width);
        match self.encoding {
            TextEncoding::Utf8 => {
                // One validation of the whole record: its fields are all valid exactly
                // when the concatenation is and every field boundary is a char boundary,
                // which `str::get` checks.
                let Ok(all) = simdutf8::basic::from_utf8(self.record.as_slice()) else {
                    return Err(self.encoding_error());
                };
                let mut start = 0;
                for (i, field) in self.record.iter().take(width).enumerate() {
                    let end = start + field.len();
                    let Some(text) = all.get(start..end) else {
                        return Err(self.encoding_error());
                    };
                    start = end;
                    match row.get_mut(i) {
                        Some(Some(value)) => {
                            value.clear();
                            value.push_str(text);
                        }
                        Some(slot) => *slot = Some(text.to_owned()),
                        None => row.push(Some(text.to_owned())),
                    }
                }
            }
            TextEncoding::Gb18030 => {
                for (i, field) in self.record.iter().take(width).enumerate() {
                    if i == row.len() {
                        row.push(None);
                    }
                    let value = row[i].get_or_insert_with(String::new);
                    let ok = match std::str::from_utf8(field) {
                        Ok(text) if field.is_ascii() => {
                            value.clear();
                            value.push_str(text);
                            true
                        }
                        // Validation decodes into `value`: on success it holds the text.
                        _ => gb18030_valid(field, value),
                    };
                    if !ok {
                        return Err(self.encoding_error());
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks the record's text without building strings (GB18030: only non-ASCII fields
    /// are decoded).
    fn validate_record(&mut self) -> Result<(), SourceError> {
        let valid = match self.encoding {
            TextEncoding::Utf8 => self
                .record
                .iter()
                .take(self.fields_wanted())
                .all(|field| std::str::from_utf8(field).is_ok()),
            TextEncoding::Gb18030 => {
                let width = self.fields_wanted();
                let scratch = &mut self.scratch;
                self.record
                    .iter()
                    .take(width)
                    .all(|field| field.is_ascii() || gb18030_valid(field, scratch))
            }
        };
        if valid {
            Ok(())
        } else {
            Err(self.encoding_error())
        }
    }

    fn fields_wanted(&self) -> usize {
        if self.columns.is_empty() {
            self.record.len()
        } else {
            self.columns.len()
        }
    }

    fn encoding_error(&self) -> SourceError {
        SourceError::Encoding {
            path: self.path.clone(),
            line: self.line,
            encoding: self.encoding.name(),
        }
    }

    /// A row must have as many fields as the header. Extra fields are tolerated only when
    /// they are all empty (rows written with a trailing delimiter): no value is lost.
    fn check_width(&self) -> Result<(), SourceError> {
        let width = self.columns.len();
        if self.record.len() == width
            || (self.record.len() > width && self.record.iter().skip(width).all(<[u8]>::is_empty))
        {
            return Ok(());
        }
        Err(SourceError::Csv {
            path: self.path.clone(),
            line: self.line,
            message: format!(
                "{} fields where the header has {}",
                self.record.len(),
                self.columns.len()
            ),
        })
    }

    fn csv_error(&self, e: csv::Error) -> SourceError {
        let line = e
            .position()
            .map_or(self.line + 1, |p| p.line())
            .max(self.line + 1);
        if let csv::ErrorKind::Io(io) = e.kind() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<RecordCapReached>())
            {
                return SourceError::RecordTooLarge {
                    path: self.path.clone(),
                    line,
                    limit: self.cap,
                };
            }
            return SourceError::Io {
                path: self.path.clone(),
                source: io::Error::new(io.kind(), io.to_string()),
            };
        }
        SourceError::Csv {
            path: self.path.clone(),
            line,
            message: e.to_string(),
        }
    }
}

/// Whether `field` is valid GB18030, decoding into a reused buffer (no allocation once the
/// buffer has grown to the longest field).
fn gb18030_valid(field: &[u8], scratch: &mut String) -> bool {
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let needed = decoder
        .max_utf8_buffer_length_without_replacement(field.len())
        .unwrap_or(usize::MAX / 2);
    scratch.clear();
    if scratch.capacity() < needed {
        scratch.reserve(needed);
    }
    let (result, _) = decoder.decode_to_string_without_replacement(field, scratch, true);
    matches!(result, encoding_rs::DecoderResult::InputEmpty)
}

fn decode(field: &[u8], encoding: TextEncoding) -> Option<String> {
    match encoding {
        TextEncoding::Utf8 => std::str::from_utf8(field).ok().map(str::to_owned),
        TextEncoding::Gb18030 => {
            if field.is_ascii() {
                std::str::from_utf8(field).ok().map(str::to_owned)
            } else {
                encoding_rs::GB18030
                    .decode_without_bom_handling_and_without_replacement(field)
                    .map(|cow| cow.into_owned())
            }
        }
    }
}

impl RowReader for DelimitedReader {
    fn columns(&self) -> &[ColumnMeta] {
        &self.columns
    }

    fn next_row(&mut self) -> Option<Result<Vec<Option<String>>, SourceError>> {
        if let Err(e) = self.read_raw()? {
            return Some(Err(e));
        }
        let values = self.check_width().and_then(|()| self.decode_record());
        if values.is_ok() {
            self.row += 1;
        }
        Some(values)
    }

    fn next_row_into(&mut self, row: &mut Vec<Option<String>>) -> Option<Result<(), SourceError>> {
        if let Err(e) = self.read_raw()? {
            return Some(Err(e));
        }
        let filled = self
            .check_width()
            .and_then(|()| self.decode_record_into(row));
        if filled.is_ok() {
            self.row += 1;
        }
        Some(filled)
    }

    fn skip_row(&mut self) -> Option<Result<(), SourceError>> {
        if let Err(e) = self.read_raw()? {
            return Some(Err(e));
        }
        let checked = self.check_width().and_then(|()| self.validate_record());
        if checked.is_ok() {
            self.row += 1;
        }
        Some(checked)
    }

    fn position(&self) -> RowPosition {
        RowPosition {
            row: self.row,
            line: Some(self.line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_detected() {
        assert_eq!(detect_encoding(b"a,b\n1,2\n"), TextEncoding::Utf8);
        assert_eq!(
            detect_encoding("姓名,电话\n".as_bytes()),
            TextEncoding::Utf8
        );
        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,身份证号\n张三,110105194912310021\n");
        assert_eq!(detect_encoding(&gbk), TextEncoding::Gb18030);
        // A UTF-8 character cut at the end of the sniffed block is still UTF-8.
        let cut = &"姓名".as_bytes()[..4];
        assert_eq!(detect_encoding(cut), TextEncoding::Utf8);
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFa"), TextEncoding::Utf8);
        // One stray bad byte does not flip a GBK file to UTF-8, nor a UTF-8 file to GBK.
        let mut stray = gbk.to_vec();
        stray.extend_from_slice(b"\xFF\n");
        assert_eq!(detect_encoding(&stray), TextEncoding::Gb18030);
        let mut stray = "姓名,电话\n张三,1\n".as_bytes().to_vec();
        stray.extend_from_slice(b"\xFF\n");
        assert_eq!(detect_encoding(&stray), TextEncoding::Utf8);
    }

    /// Regression (issue 10 item 7): a 3-row UTF-8 CSV with three bad bytes was decoded as
    /// GB18030 (UTF-8 Chinese decodes as GB18030 with fewer than three errors).
    #[test]
    fn short_utf8_with_a_few_bad_bytes_stays_utf8() {
        let mut bytes = "姓名,身份证号,住址\n".as_bytes().to_vec();
        bytes.extend_from_slice("张三,110105194912310021,北京市朝阳区".as_bytes());
        bytes.extend_from_slice(b"\xFF\n");
        bytes.extend_from_slice(b"\xC0\xC1,11010519491231002X,\xFE\n");
        bytes.extend_from_slice("王五,110105194912310021,河南省信阳市\n".as_bytes());
        assert_eq!(utf8_stats(&bytes).errors, 4);
        assert!(
            gb18030_errors(&bytes) < 4,
            "the case that fooled the old rule"
        );
        assert_eq!(detect_encoding(&bytes), TextEncoding::Utf8);
        // GBK text with several stray bytes is still GBK.
        let (gbk, _, _) = encoding_rs::GBK
            .encode("姓名,身份证号,住址\n张三,110105194912310021,北京市朝阳区\n李四,1,信阳市\n");
        let mut damaged = gbk.to_vec();
        damaged.extend_from_slice(b"\xFF,\xFF\n\x80\n");
        assert_eq!(detect_encoding(&gbk), TextEncoding::Gb18030);
        assert_eq!(detect_encoding(&damaged), TextEncoding::Gb18030);
    }

    #[test]
    fn gb18030_validation_agrees_with_decoding() {
        let mut scratch = String::new();
        let (gbk, _, _) = encoding_rs::GB18030.encode("河南省信阳市𠀀€");
        let cases: Vec<Vec<u8>> = vec![
            gbk.to_vec(),
            gbk[..gbk.len() - 1].to_vec(),
            vec![0x81],
            vec![0x81, 0x30],
            vec![0xFF, 0x41],
            vec![0xB0, 0xA1, 0x80],
            b"ascii".to_vec(),
        ];
        for case in cases {
            let expected = decode(&case, TextEncoding::Gb18030).is_some();
            assert_eq!(gb18030_valid(&case, &mut scratch), expected, "{case:x?}");
        }
    }

    /// Every row through `next_row` and through `next_row_into` with one reused row.
    fn both_ways(content: &[u8], name: &str) -> (Vec<String>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let show = |r: Result<Vec<Option<String>>, SourceError>| match r {
            Ok(row) => format!("{row:?}"),
            Err(e) => format!("error {e}"),
        };
        let options = SourceOptions::default();
        let mut plain = DelimitedReader::open(&path, &options).unwrap();
        let mut a = Vec::new();
        while let Some(r) = plain.next_row() {
            a.push(format!("{} @ {}", show(r), plain.position()));
        }
        let mut reusing = DelimitedReader::open(&path, &options).unwrap();
        let mut b = Vec::new();
        // Start from a row with leftovers of another shape: they must not leak through.
        let mut row = vec![Some("stale".to_string()); 7];
        row[1] = None;
        while let Some(r) = reusing.next_row_into(&mut row) {
            b.push(format!(
                "{} @ {}",
                show(r.map(|()| row.clone())),
                reusing.position()
            ));
        }
        (a, b)
    }

    #[test]
    fn next_row_into_equals_next_row() {
        let mut bytes = "id,名,备注\n1,张三,\"a,\"\"b\"\"\n c\"\n2,,\n\n3,李四,x,\n4,王,x,y\n"
            .as_bytes()
            .to_vec();
        // Invalid UTF-8 (a stray byte, a cut character, one split by a delimiter) is
        // reported on its line and reading goes on; a valid 4-byte character is not.
        bytes.extend_from_slice(b"5,\xFF,a\n6,\xE5\x8C,b\n7,\xC3,\xA9\n");
        bytes.extend_from_slice("8,钱,🙂\n9,孙,\"\"\n".as_bytes());
        let (a, b) = both_ways(&bytes, "u.csv");
        assert_eq!(a, b);
        let errors: Vec<&String> = a.iter().filter(|l| l.starts_with("error")).collect();
        assert_eq!(
            errors.len(),
            4,
            "rows 4 (width), 5, 6 and 7 (encoding): {a:?}"
        );
        assert!(errors[3].contains("line 10"), "{a:?}");
        assert!(a.iter().any(|l| l.contains("🙂")), "{a:?}");
        assert_eq!(a.len(), 9, "{a:?}");

        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,地址\n张三,广东省江门市\nabc,\"x,y\"\n");
        let mut gbk = gbk.to_vec();
        gbk.extend_from_slice(b"\xFF\xFF,1\n");
        gbk.extend_from_slice(&encoding_rs::GBK.encode("李四,蓬江区\n").0);
        let (a, b) = both_ways(&gbk, "g.csv");
        assert_eq!(a, b);
        assert!(a[0].contains("广东省江门市"), "{a:?}");
        assert!(a.iter().any(|l| l.starts_with("error")), "{a:?}");
    }

    #[test]
    fn delimiters_are_guessed() {
        let p = Path::new("x.csv");
        assert_eq!(choose_delimiter(p, b"a,b;c\n", None), b',');
        assert_eq!(choose_delimiter(p, b"a;b;c\n", None), b';');
        assert_eq!(choose_delimiter(p, b"a|b\n", None), b'|');
        assert_eq!(choose_delimiter(p, b"a\tb\n", None), b'\t');
        assert_eq!(choose_delimiter(Path::new("x.tsv"), b"a,b\n", None), b'\t');
        assert_eq!(choose_delimiter(p, b"a,b\n", Some(b'|')), b'|');
        assert_eq!(choose_delimiter(p, b"single\n", None), b',');
    }
}
