//! `shuan quality check`: data-quality rules (数据质量, R-07) on one table of a source, from
//! the command line — the same engine as the platform's rule sets
//! (`shuan_govern::quality`), for a steward checking a table before registering it, or
//! for scripts. The check is recorded in the audit ledger before the source is read.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Map};
use shuan_govern::quality::{self, QualityError, QualityReport, Rule};
use shuan_ledger::Outcome;
use shuan_source::columns::TableSpec;
use shuan_source::SourceOptions;

use crate::audit_trail::AuditTrail;
use crate::context::Context;
use crate::output;

const EXAMPLES: &str = "\
Examples:
  shuan quality check postgres://reader@db/hr --table public.residents --rules rules.json
  shuan quality check people.csv --table people --rules rules.json --key 编号 --format json
  shuan quality check mysql://reader@db/hr --table hr.residents --rules rules.json --out q.csv --format csv

rules.json is a JSON array of rules, as the platform's rule sets take them:
  [{\"column\": \"身份证号\", \"check\": {\"kind\": \"not_null\"}},
   {\"column\": \"身份证号\", \"check\": {\"kind\": \"identifier\", \"data_type\": \"cn_resident_id\"}},
   {\"column\": \"编号\",     \"check\": {\"kind\": \"unique\"}},
   {\"column\": \"年龄\",     \"check\": {\"kind\": \"range\", \"min\": 0, \"max\": 150}},
   {\"column\": \"手机号\",   \"check\": {\"kind\": \"pattern\", \"regex\": \"1[3-9]\\\\d{9}\"}},
   {\"column\": \"区划\",     \"check\": {\"kind\": \"references\", \"table\": \"public.regions\", \"column\": \"code\"}},
   {\"column\": \"更新时间\", \"check\": {\"kind\": \"freshness\", \"max_age_hours\": 24}}]
--table is schema.table (PostgreSQL), database.table (MySQL), the table (SQLite) or the
file's name without extension (CSV, Excel sheet: book/Sheet). Samples are masked; --key
names a column shown unmasked beside each sample so the row can be found.
Exit status: 0 no rule found anything, 3 some rule found offending rows, 1 the check
could not run, 2 usage.";

/// How the result is written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum QualityFormat {
    /// Text for people: one line per rule with its masked samples.
    Table,
    /// The whole report (JSON).
    Json,
    /// One row per rule (CSV).
    Csv,
}

#[derive(clap::Subcommand, Debug)]
#[command(after_long_help = EXAMPLES)]
pub enum QualityCommand {
    /// Check one table against rules (exit 3 when rows break them).
    Check(CheckArgs),
}

#[derive(clap::Args, Debug)]
#[command(after_long_help = EXAMPLES)]
pub struct CheckArgs {
    /// The source: a database URL or a file (CSV/TSV, XLSX, JSON, Parquet, SQLite).
    pub source: String,
    /// The table (see the examples for how each source names it).
    #[arg(long)]
    pub table: String,
    /// The rules (JSON file, see the examples).
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    /// A column whose value keys each sample (unmasked: choose a record number).
    #[arg(long, value_name = "COLUMN")]
    pub key: Option<String>,
    /// Write the result here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace --out if it exists.
    #[arg(long)]
    pub force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = QualityFormat::Table)]
    pub format: QualityFormat,
}

pub fn run(ctx: &Context, cmd: QualityCommand) -> Result<ExitCode> {
    match cmd {
        QualityCommand::Check(args) => check(ctx, args),
    }
}

fn check(ctx: &Context, args: CheckArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.rules)
        .with_context(|| format!("cannot read the rules file {}", args.rules.display()))?;
    let rules: Vec<Rule> = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a JSON array of rules ({{\"column\", \"check\": {{\"kind\", …}}}}; see shuan quality check --help)",
            args.rules.display()
        )
    })?;
    // The columns the rules name are the ones read: the source says if one is missing.
    let mut columns: Vec<String> = Vec::new();
    for c in rules.iter().map(|r| &r.column).chain(args.key.iter()) {
        if !columns.contains(c) {
            columns.push(c.clone());
        }
    }
    let is_db = args.source.contains("://") && !args.source.starts_with("sqlite://");
    let table = match args.table.split_once('.') {
        Some((schema, table)) if is_db => TableSpec {
            schema: Some(schema.to_string()),
            table: table.to_string(),
        },
        _ => TableSpec {
            schema: None,
            table: args.table.clone(),
        },
    };
    let inputs: Vec<PathBuf> = if args.source.contains("://") {
        Vec::new()
    } else {
        vec![PathBuf::from(&args.source)]
    };
    let rules_out = output::rules(ctx, inputs, args.force);
    if let Some(out) = &args.out {
        rules_out.check(out)?;
    }
    let object = format!("{}#{}", shuan_source::redact_url(&args.source), args.table);
    let trail = AuditTrail::open(ctx)?;
    trail.begin("quality_check", &object);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let started = std::time::Instant::now();
    let result = quality::run(
        &args.source,
        &table,
        &columns,
        args.key.as_deref(),
        &rules,
        now,
        &SourceOptions::default(),
    );
    let mut details = Map::new();
    details.insert("rules".into(), json!(rules.len()));
    let report = match result {
        Ok(report) => {
            details.insert("rows_checked".into(), json!(report.rows_checked));
            details.insert("violations".into(), json!(report.violations()));
            trail.record("quality_check", &object, Outcome::Allowed, details)?;
            report
        }
        Err(e) => {
            details.insert("error".into(), json!(e.to_string()));
            trail.record("quality_check", &object, Outcome::Error, details)?;
            match e {
                QualityError::Rule(r) => bail!("{} ({})", r, args.rules.display()),
                QualityError::Source(e) => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("the quality check of {object} could not run")))
                }
            }
        }
    };
    trail.close()?;
    let elapsed = started.elapsed();
    let mut out = output::Output::open(args.out.as_deref(), &rules_out)?;
    match args.format {
        QualityFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        QualityFormat::Csv => write_csv(&mut out, &report)?,
        QualityFormat::Table => write_table(&mut out, &report)?,
    }
    out.finish().context("cannot write the quality result")?;
    eprintln!(
        "checked {} rows in {:.1} s ({:.0} rows/s)",
        report.rows_checked,
        elapsed.as_secs_f64(),
        report.rows_checked as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    Ok(if report.violations() > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn samples_text(r: &quality::RuleResult) -> String {
    let mut parts: Vec<String> = r
        .samples
        .iter()
        .map(|s| {
            let v = s.value.as_deref().unwrap_or("NULL");
            let mut t = match &s.key {
                Some(k) => format!("{k}: {v}"),
                None => v.to_string(),
            };
            if let Some(n) = s.count {
                t.push_str(&format!(" ×{n}"));
            }
            t
        })
        .collect();
    if let Some(latest) = &r.latest {
        parts.push(format!("latest {latest}"));
    }
    parts.join("; ")
}

fn write_table(out: &mut impl Write, report: &QualityReport) -> Result<()> {
    writeln!(out, "rows checked (检查行数): {}", report.rows_checked)?;
    writeln!(
        out,
        "{:<16} {:<12} {:>10}  samples (样例，已脱敏)",
        "column (列)", "check (规则)", "violations"
    )?;
    for r in &report.results {
        writeln!(
            out,
            "{:<16} {:<12} {:>10}  {}",
            r.rule.column,
            format!("{} {}", r.rule.check.kind(), r.rule.check.label()),
            r.violations,
            samples_text(r)
        )?;
    }
    writeln!(
        out,
        "{}",
        if report.violations() > 0 {
            format!("发现问题 (found): {} offending row(s)", report.violations())
        } else {
            "通过 (passed)".to_string()
        }
    )?;
    Ok(())
}

fn write_csv(out: &mut impl Write, report: &QualityReport) -> Result<()> {
    let mut w = crate::output::CsvWriter::new(out);
    w.write_record(["column", "check", "violations", "rows_checked", "samples"])?;
    for r in &report.results {
        w.write_record([
            r.rule.column.as_str(),
            r.rule.check.kind(),
            &r.violations.to_string(),
            &report.rows_checked.to_string(),
            &samples_text(r),
        ])?;
    }
    w.flush()?;
    Ok(())
}
