//! `shuan scan`: discover, classify (分类) and grade (分级) sensitive data in files and
//! databases, print the result and optionally save it to the inventory.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use serde::Serialize;
use shuan_classify::Profile;
use shuan_source::{SourceOptions, TextEncoding};

use crate::audit_trail::AuditTrail;
use crate::context::Context;
use crate::output::{self, TextTable};
use crate::progress::Progress;
use crate::scanner::{self, ScanSettings, SourceResult, TableResult};

const EXAMPLES: &str = "\
Examples:
  # Scan a department database file and a directory of exports (CSV/XLSX/JSON/Parquet)
  shuan scan /data/dept.db /data/exports/

  # Scan every table a PostgreSQL user can read; save the result to the inventory
  shuan scan 'postgres://auditor@10.0.0.5:5432/hukou' --save

  # Grade by the Xinyang rules (一级/二级/三级) and write JSON for another tool
  shuan scan /data/dept.db --profile xinyang --format json --out result.json

  # Your department's own grading rules: a TOML file that extends a built-in profile
  shuan scan /data/dept.db --profile ./our-rules.toml

  # GBK export whose encoding is not detected right
  shuan scan export.csv --encoding gbk

Output: one block per table with its level (级别) and every sensitive column with its data
type, category (分类), level and the reason. Exit status: 0 every source scanned; 1 some
source or table failed (the others are still reported; each failure is one line on stderr
naming it); 2 usage error (bad option, unknown profile).

Database URLs may carry a password; shuan never prints it. Prefer a read-only account.";

/// Output format of `scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    /// Aligned text for people (Chinese labels).
    Table,
    /// One JSON document (the contract other tools rely on).
    Json,
    /// One CSV row per column.
    Csv,
}

#[derive(clap::Args, Debug)]
#[command(after_long_help = EXAMPLES)]
pub struct ScanArgs {
    /// Files, directories (searched recursively) or database URLs: postgres://, mysql://,
    /// sqlite://. A file is one table named after it (without extension).
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,

    /// Grading profile (分级规则): a built-in name (gbt43697, xinyang) or a TOML file.
    #[arg(long, default_value = "gbt43697", value_name = "NAME|FILE")]
    pub profile: String,

    /// Non-empty values sampled per column.
    #[arg(long, default_value_t = 1000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub sample: u32,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,

    /// Write the output to FILE instead of stdout (never a scanned file, never inside
    /// the data directory).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace FILE if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,

    /// Record the result in the inventory (数据资产清单) under the data directory.
    #[arg(long)]
    pub save: bool,

    /// Text encoding of CSV/TSV files (utf-8, gbk, gb18030); detected when not given.
    #[arg(long, value_name = "ENC")]
    pub encoding: Option<String>,

    /// Tables scanned at once per source (default: CPU count, at most 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,

    /// No progress bar (it is also hidden when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

/// Exit status 2 with a message: a usage error found after parsing.
pub fn usage_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(crate::exit::USAGE)
}

pub fn run(ctx: &Context, args: ScanArgs) -> Result<ExitCode> {
    let profile = match scanner::load_profile(&args.profile) {
        Ok(p) => Arc::new(p),
        Err(e) => return Ok(usage_error(format!("{e:#}"))),
    };
    let encoding = match args.encoding.as_deref() {
        None => None,
        Some(name) => match TextEncoding::from_name(name) {
            Some(e) => Some(e),
            None => {
                return Ok(usage_error(format!(
                    "--encoding {name}: unknown encoding; use utf-8, gbk or gb18030"
                )))
            }
        },
    };
    let progress = Progress::new(!args.no_progress);
    let source_options = SourceOptions {
        encoding,
        ..SourceOptions::default()
    };
    let settings = ScanSettings {
        profile,
        sample: args.sample as usize,
        jobs: args.jobs.map(usize::from).unwrap_or_else(default_jobs),
        source_options,
    };
    // The output is checked before any source is read: a scan of hours must not end in
    // "cannot write the report". Sources that are files are inputs it may not replace.
    let inputs: Vec<PathBuf> = args
        .sources
        .iter()
        .filter(|s| !s.contains("://"))
        .map(PathBuf::from)
        .collect();
    let rules = output::rules(ctx, inputs, args.force);
    if let Some(out) = &args.out {
        rules.check(out)?;
    }
    // Fail-closed: a scan whose result is to be saved is recorded in the audit ledger, so
    // an unwritable ledger stops it before any source is read.
    let trail = if args.save {
        let trail = AuditTrail::open(ctx)?;
        // Named without passwords, like every record of a source.
        let sources: Vec<String> = args
            .sources
            .iter()
            .map(|s| shuan_source::redact_url(s).to_string())
            .collect();
        trail.begin("scan_save", &sources.join(" "));
        Some(trail)
    } else {
        None
    };
    let outcome = scan_all(&args.sources, &settings, &progress);
    progress.finish();

    let mut out = output::Output::open(args.out.as_deref(), &rules)?;
    match args.format {
        ScanFormat::Table => write_text(&mut out, &outcome.results, &settings.profile)?,
        ScanFormat::Json => write_json(&mut out, &outcome.results, &settings.profile)?,
        ScanFormat::Csv => write_csv(&mut out, &outcome.results, &settings.profile)?,
    }
    out.finish().context("cannot write the scan result")?;

    if let Some(trail) = trail {
        for (source, id) in save(ctx, &trail, &outcome.results, &settings)? {
            eprintln!("saved scan #{id} of {source} to the inventory (已保存到资产清单)");
        }
        trail.close()?;
    }
    Ok(if outcome.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4)
}

/// Results of every source that could be opened; `failed` if any source or table failed.
pub type Outcome = shuan_discover::ScanOutcome;

/// Scans each source in turn (`shuan-discover`'s use case); failures are printed on
/// stderr as they happen, one line each.
pub fn scan_all(specs: &[String], settings: &ScanSettings, progress: &Progress) -> Outcome {
    shuan_discover::scan_all(specs, settings, Arc::new(progress.clone()))
}

/// Saves each source's result as one scan, each recorded in the audit ledger (a failed
/// save too); returns (source, scan id).
pub fn save(
    ctx: &Context,
    trail: &AuditTrail,
    results: &[SourceResult],
    settings: &ScanSettings,
) -> Result<Vec<(String, i64)>> {
    let mut store = match shuan_store::Store::open(&ctx.data_dir)
        .with_context(|| format!("cannot open the inventory in {}", ctx.data_dir.display()))
    {
        Ok(s) => s,
        Err(e) => {
            let sources: Vec<&str> = results.iter().map(|r| r.source.as_str()).collect();
            return trail.record_result(
                "scan_save",
                "inventory",
                crate::details! { "sources" => sources },
                Err(e),
            );
        }
    };
    let mut saved = Vec::new();
    for r in results {
        let summary = scanner::ScanSummary::of(r, &settings.profile);
        let mut details = crate::details! {
            "profile" => summary.profile,
            "tables" => summary.tables,
            "rows_scanned" => summary.rows_scanned,
            "sensitive_columns" => summary.sensitive_columns,
            "highest_level" => summary.highest_level,
            "failures" => summary.failures,
        };
        let result = scanner::save_result(&mut store, r, settings)
            .with_context(|| format!("cannot save the scan of {}", r.source));
        if let Ok(id) = &result {
            details.insert("scan_id".into(), serde_json::json!(id));
        }
        let id = trail.record_result("scan_save", &r.source, details, result)?;
        saved.push((r.source.clone(), id));
    }
    Ok(saved)
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    profile: &'a str,
    tables: Vec<JsonTable<'a>>,
}

#[derive(Serialize)]
struct JsonTable<'a> {
    source: &'a str,
    table: &'a str,
    rows_scanned: u64,
    row_count: Option<u64>,
    skipped_rows: u64,
    level: &'a str,
    reason: String,
    columns: Vec<JsonColumn<'a>>,
}

#[derive(Serialize)]
struct JsonColumn<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    data_type: Option<&'static str>,
    label: Option<&'static str>,
    confidence: f64,
    category: Option<&'static str>,
    level: &'a str,
    reason: &'a str,
}

fn json_table<'a>(t: &'a TableResult, profile: &'a Profile) -> JsonTable<'a> {
    JsonTable {
        source: &t.source,
        table: &t.table,
        rows_scanned: t.rows_scanned,
        row_count: t.row_count,
        skipped_rows: t.skipped_rows,
        level: &profile.level(t.grade.level).name,
        reason: t.grade.reasons.join("；"),
        columns: t
            .columns
            .iter()
            .map(|c| JsonColumn {
                name: &c.name,
                data_type: c.data_type.map(|d| d.id()),
                label: c.data_type.map(|d| d.label()),
                confidence: round3(c.confidence),
                category: c.grade.category.map(|k| k.id),
                level: &profile.level(c.grade.level).name,
                reason: &c.reason,
            })
            .collect(),
    }
}

fn round3(x: f32) -> f64 {
    (f64::from(x) * 1000.0).round() / 1000.0
}

fn write_json(out: &mut dyn Write, results: &[SourceResult], profile: &Profile) -> Result<()> {
    let doc = JsonDoc {
        profile: profile.name(),
        tables: results
            .iter()
            .flat_map(|r| r.tables.iter())
            .map(|t| json_table(t, profile))
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}

fn write_csv(out: &mut dyn Write, results: &[SourceResult], profile: &Profile) -> Result<()> {
    let mut w = crate::output::CsvWriter::new(out);
    w.write_record([
        "source",
        "table",
        "rows_scanned",
        "table_level",
        "column",
        "type",
        "label",
        "confidence",
        "category",
        "level",
        "reason",
    ])?;
    for t in results.iter().flat_map(|r| r.tables.iter()) {
        let table_level = &profile.level(t.grade.level).name;
        for c in &t.columns {
            w.write_record([
                t.source.as_str(),
                &t.table,
                &t.rows_scanned.to_string(),
                table_level,
                &c.name,
                c.data_type.map(|d| d.id()).unwrap_or(""),
                c.data_type.map(|d| d.label()).unwrap_or(""),
                &format!("{:.3}", c.confidence),
                c.grade.category.map(|k| k.id).unwrap_or(""),
                &profile.level(c.grade.level).name,
                &c.reason,
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// The human report: per table its level, reasons and sensitive columns; then a summary.
pub fn write_text(out: &mut dyn Write, results: &[SourceResult], profile: &Profile) -> Result<()> {
    writeln!(
        out,
        "分级规则 (profile): {} — {}",
        profile.name(),
        profile.title()
    )?;
    for r in results {
        writeln!(out)?;
        writeln!(out, "数据源 (source): {}", r.source)?;
        if r.tables.is_empty() {
            writeln!(out, "  （没有可读取的表 / no readable tables）")?;
        }
        for t in &r.tables {
            let level = profile.level(t.grade.level);
            let sensitive: Vec<_> = t.columns.iter().filter(|c| c.data_type.is_some()).collect();
            let rows = match t.row_count {
                Some(n) => format!("{n} 行"),
                None => format!("已读 {} 行", t.rows_scanned),
            };
            writeln!(out)?;
            writeln!(
                out,
                "  表 {}  级别: {}  {}  {} 个字段，{} 个敏感",
                t.table,
                level.name,
                rows,
                t.columns.len(),
                sensitive.len()
            )?;
            for reason in &t.grade.reasons {
                writeln!(out, "    · {reason}")?;
            }
            if !sensitive.is_empty() {
                let mut tt =
                    TextTable::new(&["字段", "数据类型", "分类", "级别", "置信度", "依据"]);
                for c in &sensitive {
                    let d = c.data_type.expect("filtered");
                    tt.row(vec![
                        c.name.clone(),
                        format!("{}({})", d.label(), d.id()),
                        c.grade.category.map(|k| k.label).unwrap_or("-").to_string(),
                        profile.level(c.grade.level).name.clone(),
                        format!("{:.2}", c.confidence),
                        output::truncate(&c.reason, 60),
                    ]);
                }
                tt.write(out, "    ")?;
            }
            let plain: Vec<&str> = t
                .columns
                .iter()
                .filter(|c| c.data_type.is_none())
                .map(|c| c.name.as_str())
                .collect();
            if !plain.is_empty() {
                writeln!(
                    out,
                    "    未发现敏感数据的字段: {}",
                    output::truncate(&plain.join("、"), 90)
                )?;
            }
            if level.catalogue {
                writeln!(
                    out,
                    "    ⚑ 列入重要数据目录 (important-data catalogue)；{}",
                    level.sharing
                )?;
            }
        }
    }
    write_summary(out, results, profile)?;
    Ok(())
}

fn write_summary(out: &mut dyn Write, results: &[SourceResult], profile: &Profile) -> Result<()> {
    let tables: Vec<&TableResult> = results.iter().flat_map(|r| r.tables.iter()).collect();
    let sensitive: usize = tables
        .iter()
        .map(|t| t.columns.iter().filter(|c| c.data_type.is_some()).count())
        .sum();
    writeln!(out)?;
    writeln!(
        out,
        "汇总 (summary): {} 个数据源，{} 个表，{} 个敏感字段",
        results.len(),
        tables.len(),
        sensitive
    )?;
    let mut by_level = TextTable::new(&["级别", "表数", "保护要求", "共享开放"]);
    for level in profile.levels().iter().rev() {
        let n = tables
            .iter()
            .filter(|t| t.grade.level == level.rank)
            .count();
        if n > 0 {
            by_level.row(vec![
                level.name.clone(),
                n.to_string(),
                output::truncate(&level.protection, 40),
                output::truncate(&level.sharing, 44),
            ]);
        }
    }
    if !by_level.is_empty() {
        by_level.write(out, "  ")?;
    }
    Ok(())
}
