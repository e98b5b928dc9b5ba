//! Masked output: CSV, JSON Lines or a SQLite table. File outputs are written to a
//! temporary file beside the destination and renamed only on success, so a failed run
//! never leaves a half-written file, and nothing is ever written over a source.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use shuan_source::quote_double;

use crate::error::{MaskError, Result};

/// Where masked rows go.
pub trait RowSink {
    /// Write one row (same length as the header).
    fn write_row(&mut self, row: &[Option<String>]) -> Result<()>;
    /// Make the output visible (rename / commit). Dropping without `finish` discards it.
    fn finish(self: Box<Self>) -> Result<()>;
    /// An encoder producing exactly the bytes [`RowSink::write_row`] would write, so
    /// worker threads can serialise batches in parallel and the sink only appends them
    /// (with [`RowSink::write_encoded`]). `None`: rows must go through `write_row`.
    fn encoder(&self) -> Option<Box<dyn RowEncoder>> {
        None
    }
    /// Append bytes made by this sink's [`RowSink::encoder`], in row order.
    fn write_encoded(&mut self, bytes: &[u8]) -> Result<()> {
        let _ = bytes;
        Err(MaskError::Invalid(
            "this output takes rows, not encoded bytes".into(),
        ))
    }
}

/// Serialises rows into a file sink's format off the writing thread.
pub trait RowEncoder: Send {
    /// Append the encoding of `rows` to `out`.
    fn encode(&mut self, rows: &[Vec<Option<String>>], out: &mut Vec<u8>) -> Result<()>;
}

/// Output format of a file destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
    /// A table in a SQLite database file.
    Sqlite,
}

impl FileFormat {
    /// Format from a destination's extension (`.csv`, `.jsonl`/`.ndjson`, `.db`/`.sqlite`/`.sqlite3`).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" | "txt" => FileFormat::Csv,
            "jsonl" | "ndjson" | "json" => FileFormat::JsonLines,
            "db" | "sqlite" | "sqlite3" => FileFormat::Sqlite,
            _ => return None,
        })
    }
}

/// Refuse `dest` when it is one of `sources` (compared after resolving links).
pub fn ensure_not_source(dest: &Path, sources: &[PathBuf]) -> Result<()> {
    let canon = |p: &Path| {
        std::fs::canonicalize(p).ok().or_else(|| {
            let parent = p
                .parent()
                .filter(|x| !x.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::canonicalize(parent)
                .ok()
                .map(|d| d.join(p.file_name().unwrap_or_default()))
        })
    };
    let d = canon(dest);
    for s in sources {
        if d.is_some() && canon(s) == d {
            return Err(MaskError::WouldOverwriteSource(dest.to_path_buf()));
        }
    }
    Ok(())
}

fn temp_beside(dest: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // `.shuan-tmp-<pid>-mask-…` in a watched directory: Ctrl-C (the CLI's interrupt
    // handler) and the sweep after a SIGKILL remove it — with SQLite's `-journal` beside
    // it, which shares the prefix — although no destructor runs then.
    shuan_output::watch_dir(dir);
    tempfile::Builder::new()
        .prefix(&format!("{}mask-", shuan_output::temp_prefix()))
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|e| MaskError::io(dir, e))
}

fn refuse_existing(dest: &Path, overwrite: bool) -> Result<()> {
    if dest.exists() && !overwrite {
        return Err(MaskError::Invalid(format!(
            "{} already exists; remove it, choose another --out, or pass --force",
            dest.display()
        )));
    }
    Ok(())
}

/// CSV output.
pub struct CsvSink {
    writer: csv::Writer<BufWriter<tempfile::NamedTempFile>>,
    dest: PathBuf,
    width: usize,
}

/// CSV encoder of a [`CsvSink`]: the same csv-core writer (default dialect) the sink's
/// `csv::Writer` drives, so the bytes are identical.
struct CsvEncoder {
    core: csv_core::Writer,
    width: usize,
}

impl CsvEncoder {
    fn encode_row(&mut self, row: &[Option<String>], out: &mut Vec<u8>) -> Result<()> {
        if row.len() != self.width {
            // What csv::Writer refuses too: every record as wide as the header.
            return Err(MaskError::Invalid(format!(
                "csv output: a row has {} fields where the header has {}",
                row.len(),
                self.width
            )));
        }
        // Fast path, what csv-core writes when no field needs quotes (no delimiter, quote,
        // CR or LF) and the record is not one lone empty field (written `""`): the
        // fields joined by commas. csv-core keeps no state between such records. Fields
        // are checked as they are copied; a field needing quotes rolls the row back.
        let start = out.len();
        let mut plain = true;
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let field = v.as_deref().unwrap_or("").as_bytes();
            if needs_quotes(field) {
                plain = false;
                break;
            }
            out.extend_from_slice(field);
        }
        if plain && (row.len() > 1 || out.len() > start) {
            out.push(b'\n');
            return Ok(());
        }
        out.truncate(start);
        let bytes: usize = row.iter().map(|v| v.as_ref().map_or(0, String::len)).sum();
        // Worst case: every byte a doubled quote, every field quoted, delimiters, `""`
        // for a lone empty field, terminator.
        let bound = 2 * bytes + 3 * row.len() + 4;
        let start = out.len();
        out.resize(start + bound, 0);
        let mut pos = start;
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                let (_, n) = self.core.delimiter(&mut out[pos..]);
                pos += n;
            }
            let field = v.as_deref().unwrap_or("").as_bytes();
            let (res, nin, n) = self.core.field(field, &mut out[pos..]);
            debug_assert!(res == csv_core::WriteResult::InputEmpty && nin == field.len());
            pos += n;
        }
        let (res, n) = self.core.terminator(&mut out[pos..]);
        debug_assert!(res == csv_core::WriteResult::InputEmpty);
        pos += n;
        out.truncate(pos);
        Ok(())
    }
}

/// Whether csv-core's default dialect quotes `field`: it holds a comma, a quote, CR or
/// LF. Eight bytes at a time (a zero byte of `x ^ c` marks `c`).
fn needs_quotes(field: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has = |x: u64, c: u8| {
        let y = x ^ (ONES * c as u64);
        y.wrapping_sub(ONES) & !y & HIGHS != 0
    };
    let special = |b: &u8| matches!(b, b',' | b'"' | b'\r' | b'\n');
    let mut words = field.chunks_exact(8);
    for w in &mut words {
        let x = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        if has(x, b',') || has(x, b'"') || has(x, b'\r') || has(x, b'\n') {
            return true;
        }
    }
    words.remainder().iter().any(special)
}

impl RowEncoder for CsvEncoder {
    fn encode(&mut self, rows: &[Vec<Option<String>>], out: &mut Vec<u8>) -> Result<()> {
        // One reservation per batch (the unquoted size), not one per row.
        let bytes: usize = rows
            .iter()
            .flatten()
            .map(|v| v.as_ref().map_or(0, String::len) + 1)
            .sum();
        out.reserve(bytes);
        rows.iter().try_for_each(|row| self.encode_row(row, out))
    }
}

impl CsvSink {
    /// Create `dest` (via a temp file) and write the header.
    pub fn create(dest: &Path, header: &[String], overwrite: bool) -> Result<Self> {
        refuse_existing(dest, overwrite)?;
        let tmp = temp_beside(dest)?;
        let mut writer = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(BufWriter::with_capacity(1 << 20, tmp));
        writer.write_record(header)?;
        Ok(CsvSink {
            writer,
            dest: dest.to_path_buf(),
            width: header.len(),
        })
    }
}

impl RowSink for CsvSink {
    fn write_row(&mut self, row: &[Option<String>]) -> Result<()> {
        self.writer
            .write_record(row.iter().map(|v| v.as_deref().unwrap_or("").as_bytes()))?;
        Ok(())
    }
    fn encoder(&self) -> Option<Box<dyn RowEncoder>> {
        Some(Box::new(CsvEncoder {
            core: csv_core::Writer::new(),
            width: self.width,
        }))
    }
    fn write_encoded(&mut self, bytes: &[u8]) -> Result<()> {
        // Rows given to write_row may still sit in the csv writer's own buffer.
        self.writer
            .flush()
            .map_err(|e| MaskError::io(&self.dest, e))?;
        self.writer
            .get_ref()
            .get_ref()
            .as_file()
            .write_all(bytes)
            .map_err(|e| MaskError::io(&self.dest, e))
    }
    fn finish(self: Box<Self>) -> Result<()> {
        let dest = self.dest.clone();
        let buf = self
            .writer
            .into_inner()
            .map_err(|e| MaskError::io(&dest, e.into_error()))?;
        let tmp = buf
            .into_inner()
            .map_err(|e| MaskError::io(&dest, e.into_error()))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| MaskError::io(&dest, e))?;
        tmp.persist(&dest)
            .map_err(|e| MaskError::io(&dest, e.error))?;
        Ok(())
    }
}

/// JSON Lines output: one object per row, keys in column order, NULL as `null`.
pub struct JsonlSink {
    out: BufWriter<tempfile::NamedTempFile>,
    keys: Vec<String>,
    dest: PathBuf,
    line: Vec<u8>,
}

impl JsonlSink {
    /// Create `dest` (via a temp file).
    pub fn create(dest: &Path, header: &[String], overwrite: bool) -> Result<Self> {
        refuse_existing(dest, overwrite)?;
        let keys = header
            .iter()
            .map(|h| serde_json::to_string(h).map_err(MaskError::from))
            .collect::<Result<Vec<_>>>()?;
        Ok(JsonlSink {
            out: BufWriter::with_capacity(1 << 20, temp_beside(dest)?),
            keys,
            dest: dest.to_path_buf(),
            line: Vec::new(),
        })
    }
}

/// One JSON Lines object for `row`, appended to `line`.
fn jsonl_line(keys: &[String], row: &[Option<String>], line: &mut Vec<u8>) -> Result<()> {
    line.push(b'{');
    for (i, (k, v)) in keys.iter().zip(row).enumerate() {
        if i > 0 {
            line.push(b',');
        }
        line.extend_from_slice(k.as_bytes());
        line.push(b':');
        match v {
            Some(s) => serde_json::to_writer(&mut *line, s)?,
            None => line.extend_from_slice(b"null"),
        }
    }
    line.extend_from_slice(b"}\n");
    Ok(())
}

/// JSON Lines encoder of a [`JsonlSink`].
struct JsonlEncoder {
    keys: Vec<String>,
}

impl RowEncoder for JsonlEncoder {
    fn encode(&mut self, rows: &[Vec<Option<String>>], out: &mut Vec<u8>) -> Result<()> {
        for row in rows {
            jsonl_line(&self.keys, row, out)?;
        }
        Ok(())
    }
}

impl RowSink for JsonlSink {
    fn write_row(&mut self, row: &[Option<String>]) -> Result<()> {
        self.line.clear();
        jsonl_line(&self.keys, row, &mut self.line)?;
        self.out
            .write_all(&self.line)
            .map_err(|e| MaskError::io(&self.dest, e))
    }
    fn encoder(&self) -> Option<Box<dyn RowEncoder>> {
        Some(Box::new(JsonlEncoder {
            keys: self.keys.clone(),
        }))
    }
    fn write_encoded(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| MaskError::io(&self.dest, e))
    }
    fn finish(self: Box<Self>) -> Result<()> {
        let dest = self.dest.clone();
        let tmp = self
            .out
            .into_inner()
            .map_err(|e| MaskError::io(&dest, e.into_error()))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| MaskError::io(&dest, e))?;
        tmp.persist(&dest)
            .map_err(|e| MaskError::io(&dest, e.error))?;
        Ok(())
    }
}

/// A new table in a SQLite database (created if missing). All rows go in one transaction,
/// committed by `finish`; the table must not exist yet.
pub struct SqliteSink {
    conn: rusqlite::Connection,
    insert: String,
    pending_rename: Option<(tempfile::TempPath, PathBuf)>,
    rows_in_tx: u64,
}

impl SqliteSink {
    /// Open (or create) `db` and create `table` with one TEXT column per header entry.
    pub fn create(db: &Path, table: &str, header: &[String]) -> Result<Self> {
        let (conn, pending_rename) = if db.exists() {
            (rusqlite::Connection::open(db)?, None)
        } else {
            let tmp = temp_beside(db)?.into_temp_path();
            (
                rusqlite::Connection::open(&tmp)?,
                Some((tmp, db.to_path_buf())),
            )
        };
        let exists: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )?;
        if exists {
            return Err(MaskError::Invalid(format!(
                "table {table} already exists in {}; drop it or choose another --table",
                db.display()
            )));
        }
        let cols: Vec<String> = header
            .iter()
            .map(|h| format!("{} TEXT", quote_double(h)))
            .collect();
        conn.execute_batch("BEGIN")?;
        conn.execute(
            &format!("CREATE TABLE {} ({})", quote_double(table), cols.join(", ")),
            [],
        )?;
        let marks: Vec<String> = (1..=header.len()).map(|i| format!("?{i}")).collect();
        let insert = format!(
            "INSERT INTO {} VALUES ({})",
            quote_double(table),
            marks.join(", ")
        );
        Ok(SqliteSink {
            conn,
            insert,
            pending_rename,
            rows_in_tx: 0,
        })
    }
}

impl RowSink for SqliteSink {
    fn write_row(&mut self, row: &[Option<String>]) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(&self.insert)?;
        stmt.execute(rusqlite::params_from_iter(row.iter()))?;
        self.rows_in_tx += 1;
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<()> {
        let SqliteSink {
            conn,
            pending_rename,
            ..
        } = *self;
        conn.execute_batch("COMMIT")?;
        conn.close().map_err(|(_, e)| MaskError::Sqlite(e))?;
        if let Some((tmp, dest)) = pending_rename {
            tmp.persist(&dest)
                .map_err(|e| MaskError::io(&dest, e.error))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_jsonl_appear_only_on_finish() {
        let dir = tempfile::tempdir().unwrap();
        let header = vec!["a".to_string(), "名".to_string()];
        let p = dir.path().join("o.csv");
        let mut s = Box::new(CsvSink::create(&p, &header, false).unwrap());
        s.write_row(&[Some("1".into()), None]).unwrap();
        assert!(!p.exists());
        s.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a,名\n1,\n");
        assert!(CsvSink::create(&p, &header, false).is_err());
        let j = dir.path().join("o.jsonl");
        let mut s = Box::new(JsonlSink::create(&j, &header, false).unwrap());
        s.write_row(&[Some("x\"y".into()), None]).unwrap();
        s.finish().unwrap();
        assert_eq!(
            std::fs::read_to_string(&j).unwrap(),
            "{\"a\":\"x\\\"y\",\"名\":null}\n"
        );
        // Dropped without finish: nothing left behind.
        {
            let mut s = CsvSink::create(&dir.path().join("gone.csv"), &header, false).unwrap();
            s.write_row(&[None, None]).unwrap();
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn needs_quotes_finds_every_special_byte_anywhere() {
        assert!(!needs_quotes(b""));
        for len in 1..20 {
            for pos in 0..len {
                for special in [b',', b'"', b'\r', b'\n'] {
                    let mut f = vec![b'a'; len];
                    f[pos] = special;
                    assert!(needs_quotes(&f), "{f:?}");
                }
                // Bytes one off the specials, and UTF-8, do not count.
                let f: Vec<u8> = (0..len)
                    .map(|i| [b'+', b'-', b'!', b'#', 0xE5, 0x0C, 0x0B][(i + pos) % 7])
                    .collect();
                assert!(!needs_quotes(&f), "{f:?}");
            }
        }
    }

    #[test]
    fn encoders_write_what_write_row_writes() {
        let dir = tempfile::tempdir().unwrap();
        let fields = [
            None,
            Some(""),
            Some("plain"),
            Some("a,b"),
            Some("say \"hi\""),
            Some("two\nlines"),
            Some("cr\r"),
            Some("广东省江门市"),
            Some(" spaced "),
            Some("#hash"),
            Some("\\back"),
        ];
        let mut rows: Vec<Vec<Option<String>>> = Vec::new();
        for (i, a) in fields.iter().enumerate() {
            for b in &fields[i..] {
                rows.push(vec![a.map(str::to_string), b.map(str::to_string)]);
            }
        }
        let one_col: Vec<Vec<Option<String>>> =
            fields.iter().map(|f| vec![f.map(str::to_string)]).collect();
        for (name, header, rows) in [
            ("two", vec!["a".to_string(), "b".to_string()], &rows),
            ("one", vec!["a".to_string()], &one_col),
        ] {
            for ext in ["csv", "jsonl"] {
                let by_row = dir.path().join(format!("{name}-rows.{ext}"));
                let by_enc = dir.path().join(format!("{name}-enc.{ext}"));
                let open = |p: &Path| -> Box<dyn RowSink> {
                    if ext == "csv" {
                        Box::new(CsvSink::create(p, &header, false).unwrap())
                    } else {
                        Box::new(JsonlSink::create(p, &header, false).unwrap())
                    }
                };
                let mut s = open(&by_row);
                for r in rows.iter() {
                    s.write_row(r).unwrap();
                }
                s.finish().unwrap();
                let mut s = open(&by_enc);
                let mut enc = s.encoder().unwrap();
                // Mixed: a row through write_row first, then encoded batches.
                s.write_row(&rows[0]).unwrap();
                for chunk in rows[1..].chunks(3) {
                    let mut bytes = Vec::new();
                    enc.encode(chunk, &mut bytes).unwrap();
                    s.write_encoded(&bytes).unwrap();
                }
                s.finish().unwrap();
                assert_eq!(
                    std::fs::read_to_string(&by_row).unwrap(),
                    std::fs::read_to_string(&by_enc).unwrap(),
                    "{name}.{ext}"
                );
            }
        }
        let p = dir.path().join("w.csv");
        let s = CsvSink::create(&p, &["a".to_string()], false).unwrap();
        let mut out = Vec::new();
        assert!(s
            .encoder()
            .unwrap()
            .encode(&[vec![None, None]], &mut out)
            .is_err());
    }

    #[test]
    fn sqlite_table_and_source_guard() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("out.db");
        let header = vec!["id".to_string(), "name".to_string()];
        let mut s = Box::new(SqliteSink::create(&db, "person_masked", &header).unwrap());
        s.write_row(&[Some("1".into()), Some("张*".into())])
            .unwrap();
        s.finish().unwrap();
        let c = rusqlite::Connection::open(&db).unwrap();
        let n: String = c
            .query_row("SELECT name FROM person_masked", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, "张*");
        drop(c);
        assert!(SqliteSink::create(&db, "person_masked", &header).is_err());
        let src = dir.path().join("src.csv");
        std::fs::write(&src, "a\n").unwrap();
        assert!(matches!(
            ensure_not_source(&src, std::slice::from_ref(&src)),
            Err(MaskError::WouldOverwriteSource(_))
        ));
        assert!(
            ensure_not_source(&dir.path().join("./src.csv"), std::slice::from_ref(&src)).is_err()
        );
        assert!(ensure_not_source(&db, &[src]).is_ok());
    }
}
