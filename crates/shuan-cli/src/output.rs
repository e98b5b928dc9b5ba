//! Output helpers: where results go (stdout or `--out FILE`) and aligned text tables that
//! count Chinese characters as two columns wide.
//!
//! Every `--out FILE` goes through [`Output::open`]: the file may not be one of the
//! command's inputs nor lie in the data directory, an existing file is replaced only with
//! `--force`, and the result is written to a temporary beside it that takes the real name
//! only when the command succeeds ([`Output::finish`]) — an error or Ctrl-C leaves
//! nothing half-written (`shuan-output`).

use std::io::{self, BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use shuan_output::{AtomicFile, OutputRules};

use crate::context::Context;

/// The rules every output of a command is held to: not an input, not in the data
/// directory, no replacing without `--force`.
pub fn rules<I, P>(ctx: &Context, inputs: I, force: bool) -> OutputRules
where
    I: IntoIterator<Item = P>,
    P: Into<PathBuf>,
{
    OutputRules::new()
        .inputs(inputs)
        .protect_dir(&ctx.data_dir)
        .force(force)
}

/// Where a command's result goes.
pub enum Output {
    /// Standard output.
    Stdout(BufWriter<Stdout>),
    /// `--out FILE`, under construction.
    File(AtomicFile),
}

impl Output {
    /// Stdout when `out` is `None` or `-`, else `out` checked against `rules` and written
    /// through a temporary.
    pub fn open(out: Option<&Path>, rules: &OutputRules) -> Result<Output> {
        Ok(match out {
            Some(path) if path.as_os_str() != "-" => Output::File(AtomicFile::create(path, rules)?),
            _ => Output::Stdout(BufWriter::new(io::stdout())),
        })
    }

    /// Like [`Output::open`], a file made owner-only (0600): plaintext, secrets.
    pub fn open_private(out: Option<&Path>, rules: &OutputRules) -> Result<Output> {
        Ok(match out {
            Some(path) if path.as_os_str() != "-" => {
                Output::File(AtomicFile::create_private(path, rules)?)
            }
            _ => Output::Stdout(BufWriter::new(io::stdout())),
        })
    }

    /// The result is complete: flush stdout, or move the file into place.
    pub fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => w.flush().context("writing to standard output"),
            Output::File(f) => {
                let target = f.target().to_path_buf();
                f.commit()
                    .with_context(|| format!("cannot write {}", target.display()))
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File(f) => f.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.write_all(buf),
            Output::File(f) => f.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File(f) => f.flush(),
        }
    }
}

/// `--out FILE` and `--force`, for commands whose only inputs are shuan's own records.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct OutArgs {
    /// Write to FILE instead of stdout (not inside the data directory).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

impl OutArgs {
    /// Stdout or the checked `--out FILE`; `also_protected` (e.g. a ledger directory given
    /// with `--dir`) is kept out of reach like the data directory.
    pub fn open(&self, ctx: &Context, also_protected: &Path) -> Result<Output> {
        let rules = rules(ctx, Vec::<PathBuf>::new(), self.force).protect_dir(also_protected);
        Output::open(self.out.as_deref(), &rules)
    }
}

/// `--format` of commands that print a report: a table for people, or JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Text for people.
    Table,
    /// JSON.
    Json,
}

/// Standard output, buffered (for commands with no `--out`).
pub fn stdout() -> Output {
    Output::Stdout(BufWriter::new(io::stdout()))
}

/// Display width on a terminal: East Asian wide characters count 2.
pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    let u = u32::from(c);
    let wide = matches!(u,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD);
    if wide {
        2
    } else {
        1
    }
}

/// Cuts `s` to at most `max` display columns, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// A CSV cell as written: one a spreadsheet would run as a formula (starting with `=`,
/// `@`, a tab or a carriage return, or with `+`/`-` without being a number) gets a
/// leading `'`. Scanned names and reasons come from the data being inspected, and a
/// column named `=HYPERLINK(…)` must not become a live formula in the report a steward
/// opens. Numbers such as `-3` or `+86` keep their value.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    // Spreadsheets may trim leading spaces (ASCII, no-break, ideographic) before they
    // look, and full-width signs are common in Chinese data.
    let body = s.trim_start_matches([' ', '\u{a0}', '\u{3000}']);
    let risky = match body.chars().next() {
        Some('=' | '@' | '\t' | '\r' | '\n' | '＝' | '＠' | '＋' | '－') => true,
        // A lone sign is a placeholder, not a formula; a number keeps its value.
        Some('+' | '-') => body.len() > 1 && body.parse::<f64>().is_err(),
        _ => false,
    };
    if risky {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A CSV writer whose every cell goes through [`csv_cell`].
pub struct CsvWriter<W: Write>(csv::Writer<W>);

impl<W: Write> CsvWriter<W> {
    /// Writes to `w`.
    pub fn new(w: W) -> Self {
        CsvWriter(csv::Writer::from_writer(w))
    }

    /// Writes one record.
    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.0.write_record(
            record
                .into_iter()
                .map(|c| csv_cell(c.as_ref()).into_owned()),
        )
    }

    /// Flushes.
    pub fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A text table: header plus rows, columns padded to the widest cell.
pub struct TextTable {
    rows: Vec<Vec<String>>,
}

impl TextTable {
    /// A table with this header.
    pub fn new(header: &[&str]) -> Self {
        TextTable {
            rows: vec![header.iter().map(|s| s.to_string()).collect()],
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Whether only the header is there.
    pub fn is_empty(&self) -> bool {
        self.rows.len() <= 1
    }

    /// Writes the table, each line prefixed by `indent`.
    pub fn write(&self, out: &mut dyn Write, indent: &str) -> io::Result<()> {
        let n = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..n)
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| width(c))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            let mut line = String::from(indent);
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.push_str(&" ".repeat(widths[i] - width(cell) + 2));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
        use super::csv_cell;
        for (input, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("\tx", "'\tx"),
            (" =1+1", "' =1+1"),
            ("\u{3000}=1", "'\u{3000}=1"),
            ("＝SUM(A1)", "'＝SUM(A1)"),
            ("\n=1", "'\n=1"),
            ("-3", "-3"),
            ("-", "-"),
            ("+86", "+86"),
            ("-1.5e3", "-1.5e3"),
            ("身份证号", "身份证号"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(csv_cell(input), want, "{input:?}");
        }
        let mut buf = Vec::new();
        {
            let mut w = super::CsvWriter::new(&mut buf);
            w.write_record(["=1+1", "ok"]).unwrap();
            w.flush().unwrap();
        }
        assert_eq!(String::from_utf8(buf).unwrap(), "'=1+1,ok\n");
    }

    use super::*;

    #[test]
    fn widths_and_alignment() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("身份证号"), 8);
        assert_eq!(truncate("身份证号码", 7), "身份证…");
        let mut t = TextTable::new(&["字段", "x"]);
        t.row(vec!["sfzh".into(), "1".into()]);
        let mut buf = Vec::new();
        t.write(&mut buf, "").unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "字段  x\nsfzh  1\n");
    }
}
