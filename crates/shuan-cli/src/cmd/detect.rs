//! `shuan detect` (find sensitive identifiers in free text) and `shuan redact` (mask them,
//! e.g. before text goes to an AI tool or outside the department, R-31).
//!
//! Input is streamed in chunks that end at a line break, so memory stays bounded on huge
//! files; offsets are UTF-8 byte offsets of the whole input.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use serde::Serialize;
use shuan_detect::{Finding, TextScanner};

use crate::context::Context;
use crate::output;

const DETECT_EXAMPLES: &str = "\
Examples:
  # What sensitive data is in this complaint letter?
  shuan detect letter.txt

  # From a pipe, machine-readable: one JSON object per finding (UTF-8 byte offsets)
  cat notes.txt | shuan detect - --format jsonl

  # Several files: each JSON line also names its file
  shuan detect a.txt b.txt --format jsonl

Text output shows each finding with its line, byte span, type, confidence and the value
masked; the value itself is never printed. Input must be UTF-8 (convert GBK files first,
e.g. `iconv -f GBK -t UTF-8`). Exit status: 0 done; 1 some input could not be read; 2
usage error.";

const REDACT_EXAMPLES: &str = "\
Examples:
  # Check a text before pasting it into an AI tool or sending it outside (R-31)
  shuan redact report.txt > report.redacted.txt

  echo '申请人张三，身份证号11010519491231002X，电话13800138000' | shuan redact
  # → 申请人张*，身份证号110105********002X，电话138****8000

  shuan redact letter.txt --out letter.redacted.txt   # appears only when complete

Each finding is replaced by a masked form that keeps a hint of what it was; everything
else is copied unchanged. Weak findings (e.g. a card-shaped number failing Luhn) are
masked too: redaction errs on the side of hiding.";

/// Output format of `detect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DetectFormat {
    /// One line per finding, for people.
    Text,
    /// One JSON object per line: {"type","start","end","confidence"} (+ "file").
    Jsonl,
}

#[derive(clap::Args, Debug)]
#[command(after_long_help = DETECT_EXAMPLES)]
pub struct DetectArgs {
    /// Text files to scan; `-` or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = DetectFormat::Text)]
    pub format: DetectFormat,

    /// Report findings at or above this confidence (0–1).
    #[arg(long, default_value_t = shuan_detect::REPORT_CONFIDENCE, value_name = "X")]
    pub min_confidence: f32,

    /// Write the findings to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace FILE if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
#[command(after_long_help = REDACT_EXAMPLES)]
pub struct RedactArgs {
    /// Text file to redact; `-` or nothing reads stdin. The result goes to stdout.
    #[arg(value_name = "FILE")]
    pub file: Option<String>,

    /// Write the redacted text to FILE instead of stdout; it appears only once the whole
    /// input was redacted.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace FILE if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// Chunks end at a line break once at least this much is buffered.
const CHUNK: usize = 1 << 20;
/// A chunk without any line break is cut at a character boundary past this size.
const MAX_CHUNK: usize = 8 << 20;

/// Reads UTF-8 text in chunks ending at line breaks; reports each chunk with its offset.
struct Chunker<R> {
    inner: R,
    pending: Vec<u8>,
    offset: u64,
    eof: bool,
}

impl<R: Read> Chunker<R> {
    fn new(inner: R) -> Self {
        Chunker {
            inner,
            pending: Vec::new(),
            offset: 0,
            eof: false,
        }
    }

    /// The next chunk as (offset of its first byte, its bytes). `Ok(None)` at the end.
    /// The bytes are checked as UTF-8 by the scanner (SIMD), not here: checking twice
    /// cost a seventh of a whole scan.
    fn next_chunk(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        let mut buf = vec![0u8; 64 * 1024];
        // Fill to CHUNK; past it keep reading only while no line break has been seen,
        // up to MAX_CHUNK.
        let mut searched = 0;
        let cut = loop {
            if self.pending.len() >= CHUNK || self.eof {
                if self.eof {
                    break self.pending.len();
                }
                if let Some(i) = self.pending[searched..].iter().rposition(|b| *b == b'\n') {
                    break searched + i + 1;
                }
                searched = self.pending.len();
                if self.pending.len() >= MAX_CHUNK {
                    break char_cut(&self.pending);
                }
            }
            let n = self.inner.read(&mut buf).context("read failed")?;
            if n == 0 {
                self.eof = true;
            }
            self.pending.extend_from_slice(&buf[..n]);
        };
        if cut == 0 {
            return Ok(None);
        }
        let rest = self.pending.split_off(cut);
        let bytes = std::mem::replace(&mut self.pending, rest);
        let start = self.offset;
        self.offset += bytes.len() as u64;
        Ok(Some((start, bytes)))
    }
}

/// The error for text that is not UTF-8, at byte `at` of input `label`.
fn invalid_utf8(label: &str, at: u64) -> anyhow::Error {
    anyhow::anyhow!(
        "{label}: invalid UTF-8 at byte {at}; shuan detect reads UTF-8 text (convert GBK first, e.g. iconv -f GBK -t UTF-8)"
    )
}

/// Where to cut a buffer with no line break: after the last ASCII space or punctuation if
/// one is near the end, else at the last character boundary.
fn char_cut(b: &[u8]) -> usize {
    let tail = b.len().saturating_sub(4096);
    if let Some(i) = b[tail..]
        .iter()
        .rposition(|c| c.is_ascii_whitespace() || c.is_ascii_punctuation())
    {
        return tail + i + 1;
    }
    let mut i = b.len();
    while i > 0 && (b[i - 1] & 0xC0) == 0x80 {
        i -= 1;
    }
    // i - 1 is a lead byte (or ASCII): cut before it so the character stays whole.
    i.saturating_sub(1).max(1)
}

fn open_input(name: &str) -> Result<Box<dyn Read>> {
    if name == "-" {
        return Ok(Box::new(io::stdin().lock()));
    }
    let f = File::open(name).with_context(|| format!("{name}: cannot open"))?;
    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        anyhow::bail!(
            "{name}: is a directory (detect reads text files; use `shuan scan` for directories)"
        );
    }
    Ok(Box::new(BufReader::with_capacity(256 * 1024, f)))
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(rename = "type")]
    data_type: &'static str,
    start: u64,
    end: u64,
    confidence: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
}

/// The files among `names` (not `-`), as inputs an output may not replace.
fn input_files(names: &[String]) -> Vec<PathBuf> {
    names
        .iter()
        .filter(|n| n.as_str() != "-")
        .map(PathBuf::from)
        .collect()
}

pub fn run_detect(ctx: &Context, args: DetectArgs) -> Result<ExitCode> {
    if !(0.0..=1.0).contains(&args.min_confidence) {
        return Ok(super::scan::usage_error(
            "--min-confidence must be between 0 and 1",
        ));
    }
    let files = if args.files.is_empty() {
        vec!["-".to_string()]
    } else {
        args.files.clone()
    };
    let many = files.len() > 1;
    let scanner = TextScanner::new().with_min_confidence(args.min_confidence);
    let rules = output::rules(ctx, input_files(&files), args.force);
    let mut out = output::Output::open(args.out.as_deref(), &rules)?;
    let mut failed = false;
    let mut total = 0usize;
    for name in &files {
        let label = if name == "-" {
            "<stdin>"
        } else {
            name.as_str()
        };
        let res = open_input(name).and_then(|input| {
            detect_one(
                &scanner,
                label,
                many,
                args.format,
                &mut out,
                &mut total,
                Chunker::new(input),
            )
        });
        if let Err(e) = res {
            if crate::exit::is_broken_pipe(&e) {
                // The reader went away (`| head`): stop quietly, as other filters do.
                return Ok(ExitCode::SUCCESS);
            }
            out.flush().ok();
            eprintln!("error: {e:#}");
            failed = true;
        }
    }
    if args.format == DetectFormat::Text && total == 0 && !failed {
        writeln!(out, "未发现敏感数据 (no sensitive data found)")?;
    }
    out.finish()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[allow(clippy::too_many_arguments)]
fn detect_one<R: Read>(
    scanner: &TextScanner,
    label: &str,
    many: bool,
    format: DetectFormat,
    out: &mut dyn Write,
    total: &mut usize,
    mut chunks: Chunker<R>,
) -> Result<()> {
    let mut line = 1u64;
    let mut findings: Vec<Finding> = Vec::new();
    while let Some((base, text)) = chunks
        .next_chunk()
        .with_context(|| format!("{label}: read failed"))?
    {
        if let Err(e) = scanner.scan_utf8_into(&text, &mut findings) {
            return Err(invalid_utf8(label, base + e.valid_up_to() as u64));
        }
        let mut counted = 0usize;
        for f in &findings {
            *total += 1;
            match format {
                DetectFormat::Jsonl => {
                    let j = JsonFinding {
                        data_type: f.data_type.id(),
                        start: base + f.start as u64,
                        end: base + f.end as u64,
                        confidence: (f64::from(f.confidence) * 1000.0).round() / 1000.0,
                        file: many.then_some(label),
                    };
                    serde_json::to_writer(&mut *out, &j)?;
                    writeln!(out)?;
                }
                DetectFormat::Text => {
                    line += text[counted..f.start]
                        .iter()
                        .filter(|b| **b == b'\n')
                        .count() as u64;
                    counted = f.start;
                    // Findings lie on character boundaries of text the scanner checked.
                    let value = std::str::from_utf8(&text[f.start..f.end]).unwrap_or_default();
                    let masked = shuan_detect::mask_value(f.data_type, value);
                    let prefix = if many {
                        format!("{label}:")
                    } else {
                        String::new()
                    };
                    writeln!(
                        out,
                        "{prefix}{line}: [{}..{}] {}({})  {:.2}  {}  — {}",
                        base + f.start as u64,
                        base + f.end as u64,
                        f.data_type.label(),
                        f.data_type.id(),
                        f.confidence,
                        masked,
                        f.reason
                    )?;
                }
            }
        }
        line += text[counted..].iter().filter(|b| **b == b'\n').count() as u64;
    }
    Ok(())
}

pub fn run_redact(ctx: &Context, args: RedactArgs) -> Result<ExitCode> {
    let name = args.file.clone().unwrap_or_else(|| "-".into());
    let label = if name == "-" {
        "<stdin>".to_string()
    } else {
        name.clone()
    };
    let scanner = TextScanner::new();
    let mut input = match open_input(&name) {
        Ok(i) => Chunker::new(i),
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    let rules = output::rules(ctx, input_files(std::slice::from_ref(&name)), args.force);
    let mut out = output::Output::open(args.out.as_deref(), &rules)?;
    let mut findings = Vec::new();
    let mut count = 0usize;
    loop {
        let chunk = input
            .next_chunk()
            .with_context(|| format!("{label}: read failed"))
            .and_then(|c| {
                c.map(|(base, bytes)| {
                    String::from_utf8(bytes).map_err(|e| {
                        invalid_utf8(&label, base + e.utf8_error().valid_up_to() as u64)
                    })
                })
                .transpose()
            });
        match chunk {
            Ok(Some(text)) => {
                scanner.scan_into(&text, &mut findings);
                count += findings.len();
                out.write_all(shuan_detect::redact(&text, &findings).as_bytes())?;
            }
            Ok(None) => break,
            Err(e) => {
                // `out` is dropped unfinished: a `--out` file does not appear at all
                // (on stdout, what was written stays written).
                if let output::Output::Stdout(_) = out {
                    out.finish().ok();
                }
                eprintln!("error: {e:#}");
                return Ok(ExitCode::from(1));
            }
        }
    }
    out.finish()?;
    tracing::info!("{label}: {count} finding(s) masked");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_offsets_and_characters_whole() {
        let text = "甲乙丙\n".repeat(200_000) + "尾";
        let mut c = Chunker::new(text.as_bytes());
        let mut joined = String::new();
        let mut expect = 0u64;
        while let Some((off, s)) = c.next_chunk().unwrap() {
            assert_eq!(off, expect);
            expect += s.len() as u64;
            joined.push_str(std::str::from_utf8(&s).expect("whole characters"));
        }
        assert_eq!(joined, text);
    }

    #[test]
    fn line_without_break_is_cut_on_a_char_boundary() {
        let text = "数".repeat(4 << 20); // 12 MiB, no newline
        let mut c = Chunker::new(text.as_bytes());
        let mut total = 0;
        while let Some((_, s)) = c.next_chunk().unwrap() {
            assert!(std::str::from_utf8(&s).is_ok(), "cut inside a character");
            assert!(s.len() <= MAX_CHUNK + 64 * 1024);
            total += s.len();
        }
        assert_eq!(total, text.len());
    }

    #[test]
    fn invalid_utf8_names_the_byte() {
        // The second chunk, so the position counts from the start of the input.
        let bytes = "甲\n".repeat(CHUNK / 4 + 1) + "abc";
        let mut bytes = bytes.into_bytes();
        bytes.extend_from_slice(b"\xffdef\n");
        let mut out = Vec::new();
        let err = detect_one(
            &TextScanner::new(),
            "in.txt",
            false,
            DetectFormat::Jsonl,
            &mut out,
            &mut 0,
            Chunker::new(&bytes[..]),
        )
        .unwrap_err()
        .to_string();
        let at = bytes.len() - 5;
        assert!(
            err.contains("in.txt") && err.contains(&format!("byte {at}")),
            "{err}"
        );
    }
}
