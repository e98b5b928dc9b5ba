//! `shuan assets`: the data asset inventory (数据资产清单, R-01), what changed since the
//! previous scan of a source (the consistency check), and the important-data catalogue
//! (重要数据目录, R-03).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use shuan_store::Store;

use crate::context::Context;
use crate::output::{self, TextTable};

const EXAMPLES: &str = "\
Examples:
  shuan scan /data/dept.db --save        # fill the inventory first
  shuan assets list                      # every table, its level, sensitive columns
  shuan assets show 户籍人口              # one table, column by column
  shuan assets diff /data/dept.db        # new or newly sensitive columns since last scan
  shuan assets catalogue --format csv --out 重要数据目录.csv

The inventory lives in inventory.db in the data directory (--data-dir, SHUAN_DATA_DIR).
It holds names, types, levels and counts, never a scanned value.";

/// Output format of `assets`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AssetsFormat {
    /// Aligned text for people.
    Table,
    /// JSON.
    Json,
    /// CSV.
    Csv,
}

#[derive(clap::Args, Debug)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = AssetsFormat::Table)]
    pub format: AssetsFormat,
    /// Write to FILE instead of stdout (not inside the data directory).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

impl FormatArgs {
    /// Stdout or `--out FILE`, checked before anything is written.
    fn open(&self, ctx: &Context) -> Result<output::Output> {
        let rules = output::rules(ctx, Vec::<PathBuf>::new(), self.force);
        output::Output::open(self.out.as_deref(), &rules)
    }
}

#[derive(clap::Subcommand, Debug)]
#[command(after_long_help = EXAMPLES)]
pub enum AssetsCommand {
    /// Every table of the latest saved scan of each source, with its level (清单).
    List(FormatArgs),
    /// One table's columns: type, category, level, confidence and reason.
    Show {
        /// Table name as listed by `assets list`.
        table: String,
        /// Only the table of this source (when several sources have one of that name).
        #[arg(long, value_name = "SOURCE")]
        source: Option<String>,
        #[command(flatten)]
        fmt: FormatArgs,
    },
    /// What changed since the previous saved scan of a source (一致性核查, R-01): new
    /// tables and columns, newly sensitive columns, raised levels.
    Diff {
        /// The source as scanned (path or URL; a password in it is ignored). Without it,
        /// every source with at least one saved scan.
        source: Option<String>,
        #[command(flatten)]
        fmt: FormatArgs,
    },
    /// The important-data catalogue (重要数据目录, R-03): tables at a catalogue level.
    Catalogue(FormatArgs),
    /// Saved scans, newest first.
    Scans(FormatArgs),
}

pub fn run(ctx: &Context, cmd: AssetsCommand) -> Result<ExitCode> {
    let store = Store::open(&ctx.data_dir)
        .with_context(|| format!("cannot open the inventory in {}", ctx.data_dir.display()))?;
    match cmd {
        AssetsCommand::List(f) => list(ctx, &store, &f),
        AssetsCommand::Show { table, source, fmt } => {
            show(ctx, &store, &table, source.as_deref(), &fmt)
        }
        AssetsCommand::Diff { source, fmt } => diff(ctx, &store, source.as_deref(), &fmt),
        AssetsCommand::Catalogue(f) => catalogue(ctx, &store, &f),
        AssetsCommand::Scans(f) => scans(ctx, &store, &f),
    }
}

/// The UTF-8 byte-order mark.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn empty_hint(out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "资产清单为空 (inventory is empty): run `shuan scan SOURCE --save` or `shuan demo` first"
    )?;
    Ok(())
}

fn json_out<T: serde::Serialize>(out: &mut dyn Write, value: &T) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

fn list(ctx: &Context, store: &Store, f: &FormatArgs) -> Result<ExitCode> {
    let entries = store.list()?;
    let mut out = f.open(ctx)?;
    match f.format {
        AssetsFormat::Json => json_out(&mut out, &entries)?,
        AssetsFormat::Csv => {
            let mut w = crate::output::CsvWriter::new(&mut out);
            w.write_record([
                "source",
                "table",
                "level",
                "profile",
                "rows",
                "columns",
                "sensitive_columns",
                "catalogue",
                "scanned_at",
            ])?;
            for e in &entries {
                w.write_record([
                    e.source.as_str(),
                    &e.table,
                    &e.level,
                    &e.profile,
                    &e.rows.to_string(),
                    &e.columns.to_string(),
                    &e.sensitive_columns.to_string(),
                    if e.catalogue { "yes" } else { "no" },
                    &e.scanned_at,
                ])?;
            }
            w.flush()?;
        }
        AssetsFormat::Table => {
            if entries.is_empty() {
                empty_hint(&mut out)?;
            } else {
                let mut t = TextTable::new(&[
                    "数据源",
                    "表",
                    "级别",
                    "行数",
                    "字段",
                    "敏感字段",
                    "重要数据目录",
                    "扫描时间",
                ]);
                for e in &entries {
                    t.row(vec![
                        output::truncate(&e.source, 40),
                        e.table.clone(),
                        e.level.clone(),
                        e.rows.to_string(),
                        e.columns.to_string(),
                        e.sensitive_columns.to_string(),
                        if e.catalogue { "是".into() } else { "".into() },
                        e.scanned_at.clone(),
                    ]);
                }
                t.write(&mut out, "")?;
            }
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

fn show(
    ctx: &Context,
    store: &Store,
    table: &str,
    source: Option<&str>,
    f: &FormatArgs,
) -> Result<ExitCode> {
    let source = match source {
        Some(s) => Some(resolve_source(store, s)?),
        None => None,
    };
    let found = store.show(table, source.as_deref())?;
    if found.is_empty() {
        eprintln!(
            "error: no table '{table}' in the inventory{}; `shuan assets list` shows what is there",
            source
                .map(|s| format!(" for source {s}"))
                .unwrap_or_default()
        );
        return Ok(ExitCode::from(1));
    }
    let mut out = f.open(ctx)?;
    match f.format {
        AssetsFormat::Json => json_out(&mut out, &found)?,
        AssetsFormat::Csv => {
            let mut w = crate::output::CsvWriter::new(&mut out);
            w.write_record([
                "source",
                "table",
                "column",
                "declared_type",
                "type",
                "label",
                "category",
                "level",
                "confidence",
                "values_seen",
                "values_matched",
                "reason",
            ])?;
            for d in &found {
                for c in &d.table.columns {
                    w.write_record([
                        d.source.as_str(),
                        &d.table.name,
                        &c.name,
                        c.declared_type.as_deref().unwrap_or(""),
                        c.data_type.as_deref().unwrap_or(""),
                        c.label.as_deref().unwrap_or(""),
                        c.category.as_deref().unwrap_or(""),
                        &c.level,
                        &format!("{:.3}", c.confidence),
                        &c.values_seen.to_string(),
                        &c.values_matched.to_string(),
                        &c.reason,
                    ])?;
                }
            }
            w.flush()?;
        }
        AssetsFormat::Table => {
            for d in &found {
                let rows = d.table.row_count.unwrap_or(d.table.rows_scanned);
                writeln!(
                    out,
                    "表 {}  级别: {}  {} 行  (分级规则 {})",
                    d.table.name, d.table.level, rows, d.profile
                )?;
                writeln!(
                    out,
                    "数据源: {}  扫描时间: {}  (scan #{})",
                    d.source, d.scanned_at, d.scan_id
                )?;
                for r in d.table.reason.split('；') {
                    writeln!(out, "  · {r}")?;
                }
                let mut t = TextTable::new(&[
                    "字段",
                    "声明类型",
                    "数据类型",
                    "分类",
                    "级别",
                    "置信度",
                    "命中/样本",
                    "依据",
                ]);
                for c in &d.table.columns {
                    t.row(vec![
                        c.name.clone(),
                        c.declared_type.clone().unwrap_or_default(),
                        match (&c.label, &c.data_type) {
                            (Some(l), Some(id)) => format!("{l}({id})"),
                            _ => "-".into(),
                        },
                        c.category
                            .as_deref()
                            .and_then(shuan_classify::category)
                            .map(|k| k.label)
                            .unwrap_or("-")
                            .to_string(),
                        c.level.clone(),
                        format!("{:.2}", c.confidence),
                        format!("{}/{}", c.values_matched, c.values_seen),
                        output::truncate(&c.reason, 60),
                    ]);
                }
                t.write(&mut out, "  ")?;
                writeln!(out)?;
            }
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

fn diff(ctx: &Context, store: &Store, source: Option<&str>, f: &FormatArgs) -> Result<ExitCode> {
    let sources: Vec<String> = match source {
        Some(s) => vec![resolve_source(store, s)?],
        None => {
            let mut all: Vec<String> = store.scans(None)?.into_iter().map(|s| s.source).collect();
            all.sort();
            all.dedup();
            all
        }
    };
    let mut diffs = Vec::new();
    for s in &sources {
        match store.diff(s)? {
            Some(d) => diffs.push(d),
            None => {
                eprintln!("error: source {s} has no saved scan; run `shuan scan {s} --save` (sources saved: `shuan assets scans`)");
                return Ok(ExitCode::from(1));
            }
        }
    }
    let mut out = f.open(ctx)?;
    match f.format {
        AssetsFormat::Json => json_out(&mut out, &diffs)?,
        AssetsFormat::Csv => {
            let mut w = crate::output::CsvWriter::new(&mut out);
            w.write_record([
                "source",
                "change",
                "table",
                "column",
                "before",
                "after",
                "needs_review",
            ])?;
            for d in &diffs {
                for c in &d.changes {
                    w.write_record([
                        d.source.as_str(),
                        serde_json::to_value(c.kind)?.as_str().unwrap_or(""),
                        &c.table,
                        c.column.as_deref().unwrap_or(""),
                        c.before.as_deref().unwrap_or(""),
                        c.after.as_deref().unwrap_or(""),
                        if c.needs_review { "yes" } else { "no" },
                    ])?;
                }
            }
            w.flush()?;
        }
        AssetsFormat::Table => {
            if diffs.is_empty() {
                empty_hint(&mut out)?;
            }
            for d in &diffs {
                match &d.previous {
                    Some(p) => writeln!(
                        out,
                        "数据源 {}: scan #{} ({}) → #{} ({})",
                        d.source, p.id, p.scanned_at, d.latest.id, d.latest.scanned_at
                    )?,
                    None => writeln!(
                        out,
                        "数据源 {}: 首次扫描 #{} ({})，全部为新增 (first scan: everything is new)",
                        d.source, d.latest.id, d.latest.scanned_at
                    )?,
                }
                if d.profile_changed {
                    writeln!(
                        out,
                        "  注意：两次扫描的分级规则不同，级别变化可能来自规则本身"
                    )?;
                }
                if d.changes.is_empty() {
                    writeln!(out, "  无变化 (no changes)")?;
                } else {
                    let mut t = TextTable::new(&["变化", "表", "字段", "之前", "之后", "需复核"]);
                    for c in &d.changes {
                        t.row(vec![
                            c.kind.label().to_string(),
                            c.table.clone(),
                            c.column.clone().unwrap_or_default(),
                            c.before.clone().unwrap_or_default(),
                            c.after.clone().unwrap_or_default(),
                            if c.needs_review {
                                "是".into()
                            } else {
                                "".into()
                            },
                        ]);
                    }
                    t.write(&mut out, "  ")?;
                    let review = d.changes.iter().filter(|c| c.needs_review).count();
                    writeln!(
                        out,
                        "  {} 项变化，{} 项需复核 (need review)",
                        d.changes.len(),
                        review
                    )?;
                }
                writeln!(out)?;
            }
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

fn catalogue(ctx: &Context, store: &Store, f: &FormatArgs) -> Result<ExitCode> {
    let entries = store.catalogue()?;
    let mut out = f.open(ctx)?;
    match f.format {
        AssetsFormat::Json => json_out(&mut out, &entries)?,
        AssetsFormat::Csv => {
            // Chinese headers: the catalogue is filed with the supervisor as a spreadsheet,
            // and Excel on Chinese Windows reads UTF-8 only after a byte-order mark.
            out.write_all(UTF8_BOM)?;
            let mut w = crate::output::CsvWriter::new(&mut out);
            w.write_record([
                "数据源",
                "表",
                "级别",
                "分级规则",
                "记录数",
                "敏感字段",
                "数据分类",
                "认定依据",
                "扫描时间",
            ])?;
            for e in &entries {
                w.write_record([
                    e.source.as_str(),
                    &e.table,
                    &e.level,
                    &e.profile,
                    &e.rows.to_string(),
                    &e.sensitive_columns.join("、"),
                    &category_labels(&e.categories),
                    &e.reason,
                    &e.scanned_at,
                ])?;
            }
            w.flush()?;
        }
        AssetsFormat::Table => {
            if entries.is_empty() {
                writeln!(
                    out,
                    "重要数据目录为空 (no table at a catalogue level in the latest saved scans)"
                )?;
            }
            for e in &entries {
                writeln!(
                    out,
                    "{} / {}  级别: {}  {} 条记录  (分级规则 {}, {})",
                    e.source, e.table, e.level, e.rows, e.profile, e.scanned_at
                )?;
                writeln!(out, "  敏感字段: {}", e.sensitive_columns.join("、"))?;
                writeln!(out, "  数据分类: {}", category_labels(&e.categories))?;
                for r in e.reason.split('；') {
                    writeln!(out, "  · {r}")?;
                }
                writeln!(out)?;
            }
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// The saved source a user means: the same text (password removed), else a saved path
/// naming the same file (`dept.db` scanned from /data, asked about as `/data/dept.db`).
fn resolve_source(store: &Store, given: &str) -> Result<String> {
    // Scans are saved under the source's one canonical name (an absolute path, or a
    // password-free URL with an explicit port): look the source up the same way, so a
    // relative path or `postgresql://host/db` finds what `postgres://host:5432/db` saved.
    let canonical = shuan_source::canonical_source_name(given);
    let saved: Vec<String> = store.scans(None)?.into_iter().map(|s| s.source).collect();
    if saved.contains(&canonical) {
        return Ok(canonical);
    }
    // Inventories saved before names were canonical hold the name as typed.
    let safe = shuan_source::redact_url(given).to_string();
    if saved.contains(&safe) {
        return Ok(safe);
    }
    Ok(canonical)
}

fn category_labels(ids: &[String]) -> String {
    ids.iter()
        .map(|id| {
            shuan_classify::category(id)
                .map(|c| c.label)
                .unwrap_or(id.as_str())
        })
        .collect::<Vec<_>>()
        .join("、")
}

fn scans(ctx: &Context, store: &Store, f: &FormatArgs) -> Result<ExitCode> {
    let scans = store.scans(None)?;
    let mut out = f.open(ctx)?;
    match f.format {
        AssetsFormat::Json => json_out(&mut out, &scans)?,
        AssetsFormat::Csv => {
            let mut w = crate::output::CsvWriter::new(&mut out);
            w.write_record(["id", "source", "profile", "scanned_at", "tables"])?;
            for s in &scans {
                w.write_record([
                    s.id.to_string(),
                    s.source.clone(),
                    s.profile.clone(),
                    s.scanned_at.clone(),
                    s.tables.to_string(),
                ])?;
            }
            w.flush()?;
        }
        AssetsFormat::Table => {
            if scans.is_empty() {
                empty_hint(&mut out)?;
            } else {
                let mut t = TextTable::new(&["#", "数据源", "分级规则", "扫描时间", "表数"]);
                for s in &scans {
                    t.row(vec![
                        s.id.to_string(),
                        s.source.clone(),
                        s.profile.clone(),
                        s.scanned_at.clone(),
                        s.tables.to_string(),
                    ]);
                }
                t.write(&mut out, "")?;
            }
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}
