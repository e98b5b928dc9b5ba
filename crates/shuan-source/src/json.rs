//! JSON (an array of objects, or objects one after another) and JSON Lines files.
//!
//! The file is split into top-level values by a small byte scanner (strings and nesting
//! tracked), so a 10 GB array is read one element at a time with bounded memory; each
//! element is then parsed with serde_json. Columns are the keys of all objects in
//! first-seen order, found by a first pass over the file (two reads, exact columns).
//! Nested objects become dotted columns (`address.city`), arrays stay JSON text.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde_json::Value;

use crate::files::open_buffered;
use crate::{ColumnMeta, RowPosition, RowReader, SourceError, SourceOptions};

/// More keys than this are ignored (reported per row): a table is not that wide.
const MAX_COLUMNS: usize = 10_000;
const MAX_NESTING: usize = 8;
const PROGRESS_STEP: u64 = 1 << 20;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// JSON Lines: one value per line.
    Lines,
    /// Not yet known: `[` starts an array, `{` a sequence of objects.
    Start,
    Array,
    Sequence,
    Done,
}

/// A fatal problem: the rest of the file cannot be split into values.
enum Fatal {
    Error(SourceError),
}

/// Splits a byte stream into top-level JSON values.
struct Splitter {
    input: BufReader<File>,
    chunk: Vec<u8>,
    pos: usize,
    len: usize,
    mode: Mode,
    line: u64,
    cap: usize,
    path: String,
    first_value: bool,
    consumed: u64,
    unreported: u64,
    options: SourceOptions,
}

impl Splitter {
    fn new(path: &Path, lines: bool, options: &SourceOptions) -> Result<Splitter, SourceError> {
        Ok(Splitter {
            input: open_buffered(path)?,
            chunk: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
            mode: if lines { Mode::Lines } else { Mode::Start },
            line: 1,
            cap: options.record_cap(),
            path: path.display().to_string(),
            first_value: true,
            consumed: 0,
            unreported: 0,
            options: options.clone(),
        })
    }

    fn peek(&mut self) -> Result<Option<u8>, Fatal> {
        if self.pos == self.len {
            let n = loop {
                match self.input.read(&mut self.chunk) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(Fatal::Error(SourceError::Io {
                            path: self.path.clone(),
                            source: e,
                        }))
                    }
                }
            };
            self.pos = 0;
            self.len = n;
            self.unreported += n as u64;
            if self.unreported >= PROGRESS_STEP {
                self.options.report(self.unreported);
                self.unreported = 0;
            }
            if n == 0 {
                self.options.report(self.unreported);
                self.unreported = 0;
                return Ok(None);
            }
        }
        Ok(Some(self.chunk[self.pos]))
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.chunk.get(self.pos).copied();
        if let Some(b) = b {
            self.pos += 1;
            self.consumed += 1;
            if b == b'\n' {
                self.line += 1;
            }
        }
        b
    }

    fn skip_whitespace(&mut self, also_commas: bool) -> Result<(), Fatal> {
        while let Some(b) = self.peek()? {
            let skip = matches!(b, b' ' | b'\t' | b'\r' | b'\n')
                || (also_commas && b == b',')
                // A UTF-8 BOM at the very start.
                || (self.consumed < 3 && matches!(b, 0xEF | 0xBB | 0xBF));
            if !skip {
                break;
            }
            self.bump();
        }
        Ok(())
    }

    fn fatal(&self, message: impl Into<String>) -> Fatal {
        Fatal::Error(SourceError::Json {
            path: self.path.clone(),
            line: self.line,
            message: message.into(),
        })
    }

    fn push(&self, buf: &mut Vec<u8>, b: u8, start_line: u64) -> Result<(), Fatal> {
        if buf.len() >= self.cap {
            return Err(Fatal::Error(SourceError::RecordTooLarge {
                path: self.path.clone(),
                line: start_line,
                limit: self.cap,
            }));
        }
        buf.push(b);
        Ok(())
    }

    /// Fills `buf` with the next value's bytes; returns its starting line, `None` at the end.
    fn next_value(&mut self, buf: &mut Vec<u8>) -> Result<Option<u64>, Fatal> {
        buf.clear();
        match self.mode {
            Mode::Done => return Ok(None),
            Mode::Lines => return self.next_line(buf),
            Mode::Start => {
                self.skip_whitespace(false)?;
                match self.peek()? {
                    None => {
                        self.mode = Mode::Done;
                        return Ok(None);
                    }
                    Some(b'[') => {
                        self.bump();
                        self.mode = Mode::Array;
                    }
                    Some(b'{') => self.mode = Mode::Sequence,
                    Some(_) => {
                        self.mode = Mode::Done;
                        return Err(self.fatal(
                            "not JSON table data: expected an array of objects `[{...}]` or objects `{...}`",
                        ));
                    }
                }
            }
            Mode::Array | Mode::Sequence => {}
        }
        if self.mode == Mode::Array {
            self.skip_whitespace(false)?;
            if !self.first_value {
                match self.peek()? {
                    Some(b',') => {
                        self.bump();
                    }
                    Some(b']') => {
                        self.bump();
                        self.mode = Mode::Done;
                        return Ok(None);
                    }
                    None => {
                        self.mode = Mode::Done;
                        return Err(self.fatal(
                            "unexpected end of file inside the array; the file is truncated",
                        ));
                    }
                    Some(other) => {
                        self.mode = Mode::Done;
                        return Err(self.fatal(format!(
                            "expected `,` or `]` between array elements, found `{}`",
                            other as char
                        )));
                    }
                }
            }
            self.skip_whitespace(false)?;
            if self.first_value && self.peek()? == Some(b']') {
                self.bump();
                self.mode = Mode::Done;
                return Ok(None);
            }
        } else {
            self.skip_whitespace(true)?;
        }
        self.first_value = false;
        let start_line = self.line;
        let Some(first) = self.peek()? else {
            let truncated = self.mode == Mode::Array;
            self.mode = Mode::Done;
            if truncated {
                return Err(
                    self.fatal("unexpected end of file inside the array; the file is truncated")
                );
            }
            return Ok(None);
        };
        if matches!(first, b'{' | b'[' | b'"') {
            let mut depth = 0usize;
            let mut in_string = false;
            let mut escaped = false;
            loop {
                let Some(b) = self.peek()? else {
                    self.mode = Mode::Done;
                    return Err(Fatal::Error(SourceError::Json {
                        path: self.path.clone(),
                        line: start_line,
                        message: "unexpected end of file inside a value; the file is truncated"
                            .into(),
                    }));
                };
                self.bump();
                self.push(buf, b, start_line)?;
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            break;
                        }
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
        } else {
            while let Some(b) = self.peek()? {
                if matches!(b, b',' | b']' | b' ' | b'\t' | b'\r' | b'\n' | b'{' | b'[') {
                    break;
                }
                self.bump();
                self.push(buf, b, start_line)?;
            }
            if buf.is_empty() {
                // A stray `]` or `}`: consume it so reading can move on.
                self.bump();
                return Ok(Some(start_line));
            }
        }
        Ok(Some(start_line))
    }

    fn next_line(&mut self, buf: &mut Vec<u8>) -> Result<Option<u64>, Fatal> {
        loop {
            let start_line = self.line;
            let mut saw_any = false;
            while let Some(b) = self.peek()? {
                saw_any = true;
                self.bump();
                if b == b'\n' {
                    break;
                }
                self.push(buf, b, start_line)?;
            }
            if !saw_any {
                self.mode = Mode::Done;
                return Ok(None);
            }
            if start_line == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
                buf.drain(..3);
            }
            if buf.iter().all(|b| b.is_ascii_whitespace()) {
                buf.clear();
                continue;
            }
            return Ok(Some(start_line));
        }
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => serde_json::to_string(value).ok(),
    }
}

fn flatten(
    prefix: &str,
    object: &serde_json::Map<String, Value>,
    depth: usize,
    out: &mut Vec<(String, Option<String>)>,
) {
    for (key, value) in object {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) if depth < MAX_NESTING => flatten(&name, inner, depth + 1, out),
            other => out.push((name, scalar_text(other))),
        }
    }
}

/// Parses one value into (column, value) pairs; `Err` names the problem.
fn parse_record(bytes: &[u8]) -> Result<Vec<(String, Option<String>)>, String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => {
            let mut out = Vec::with_capacity(object.len());
            flatten("", &object, 0, &mut out);
            Ok(out)
        }
        Ok(_) => Err("element is not an object; expected one object per row".into()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

/// Streams the rows of a JSON or JSON Lines file.
pub(crate) struct JsonReader {
    splitter: Splitter,
    columns: Vec<ColumnMeta>,
    index: HashMap<String, usize>,
    buf: Vec<u8>,
    row: u64,
    line: u64,
}

impl JsonReader {
    pub(crate) fn open(
        path: &Path,
        lines: bool,
        options: &SourceOptions,
    ) -> Result<Self, SourceError> {
        // First pass: the columns. Progress is reported on the second pass only.
        let quiet = SourceOptions {
            progress: None,
            ..options.clone()
        };
        let mut first = Splitter::new(path, lines, &quiet)?;
        let mut names: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut buf = Vec::new();
        let mut values = 0u64;
        loop {
            match first.next_value(&mut buf) {
                Ok(Some(_)) => {
                    values += 1;
                    if let Ok(pairs) = parse_record(&buf) {
                        for (name, _) in pairs {
                            if names.len() < MAX_COLUMNS && !index.contains_key(&name) {
                                index.insert(name.clone(), names.len());
                                names.push(name);
                            }
                        }
                    }
                }
                Ok(None) => break,
                // Not a table at all: fail now rather than yield an empty table.
                Err(Fatal::Error(e)) if values == 0 => return Err(e),
                // Also reported, with its line, when the second pass gets there.
                Err(Fatal::Error(_)) => break,
            }
        }
        let columns = names
            .into_iter()
            .map(|name| ColumnMeta {
                name,
                declared_type: None,
            })
            .collect();
        Ok(JsonReader {
            splitter: Splitter::new(path, lines, options)?,
            columns,
            index,
            buf,
            row: 0,
            line: 0,
        })
    }
}

impl RowReader for JsonReader {
    fn columns(&self) -> &[ColumnMeta] {
        &self.columns
    }

    fn next_row(&mut self) -> Option<Result<Vec<Option<String>>, SourceError>> {
        let line = match self.splitter.next_value(&mut self.buf) {
            Ok(Some(line)) => line,
            Ok(None) => return None,
            Err(Fatal::Error(e)) => {
                self.splitter.mode = Mode::Done;
                return Some(Err(e));
            }
        };
        self.line = line;
        match parse_record(&self.buf) {
            Ok(pairs) => {
                let mut row = vec![None; self.columns.len()];
                for (name, value) in pairs {
                    if let Some(&i) = self.index.get(&name) {
                        row[i] = value;
                    }
                }
                self.row += 1;
                Some(Ok(row))
            }
            Err(message) => Some(Err(SourceError::Json {
                path: self.splitter.path.clone(),
                line,
                message: format!("{message}; this row is skipped"),
            })),
        }
    }

    fn position(&self) -> RowPosition {
        RowPosition {
            row: self.row,
            line: Some(self.line),
        }
    }
}
