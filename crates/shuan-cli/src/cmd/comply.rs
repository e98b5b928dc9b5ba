//! `shuan comply`: the compliance profiles (合规配置) — which regulations and baselines
//! are built in, how each article is covered, and the evidence queries controls may use —
//! and `comply check`, which evaluates a department against a profile from the platform's
//! records (`shuan-evidence`) and records that it did in the audit ledger.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use std::collections::BTreeMap;

use anyhow::{bail, Context as _, Result};
use serde::Serialize;
use shuan_comply::{
    Change, Comparison, ControlKind, ControlResult, Coverage, Evaluation, Period, Profile, QUERIES,
};
use shuan_evidence::{LedgerCheck, PlatformEvidence};
use shuan_store::platform::PlatformStore;

use crate::audit_trail::AuditTrail;
use crate::context::Context;
use crate::output::{self, TextTable};

const EXAMPLES: &str = "\
Examples:
  shuan comply list                          # built-in profiles and their article coverage
  shuan comply list --format csv --out coverage.csv
  shuan comply list --profile ./sz.toml      # check a city's own profile file and show it
  shuan comply show jc                       # 晋城 article by article: controls, queries
  shuan comply queries                       # the evidence queries a control may name
  shuan comply check --regulation jc --department 1101 --period 2026
  shuan comply check --regulation jc --period 2026-01-01..2026-06-30 --format csv --out h1.csv
  shuan comply diff --regulation jc --department 1101 --period 2026 --against 2025

Profiles: jm 江门, gz 广州 (draft), xy 信阳, jc 晋城, xa 兴安盟; gbt22239-l3, gbt39786,
gbt43697 for the national baselines. docs/compliance.md explains the format.";

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ComplyFormat {
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
    #[arg(long, value_enum, default_value_t = ComplyFormat::Table)]
    pub format: ComplyFormat,
    /// Write to FILE instead of stdout (not inside the data directory).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

impl FormatArgs {
    fn open(&self, ctx: &Context, inputs: Vec<PathBuf>) -> Result<output::Output> {
        let rules = output::rules(ctx, inputs, self.force);
        output::Output::open(self.out.as_deref(), &rules)
    }
}

#[derive(clap::Subcommand, Debug)]
#[command(after_long_help = EXAMPLES)]
pub enum ComplyCommand {
    /// Built-in profiles (or the files given) with their article coverage (覆盖).
    List {
        /// A profile file to load and list instead of the built-ins (repeatable).
        #[arg(long, value_name = "FILE")]
        profile: Vec<PathBuf>,
        #[command(flatten)]
        fmt: FormatArgs,
    },
    /// One profile's controls, article by article.
    Show {
        /// A built-in id (jm, gz, xy, jc, xa, gbt22239-l3, gbt39786, gbt43697) or a file.
        profile: String,
        #[command(flatten)]
        fmt: FormatArgs,
    },
    /// The evidence queries (证据查询) controls may name, with their status rules.
    Queries(FormatArgs),
    /// Evaluate a department against a profile from the platform's records (合规自查):
    /// every control 符合 / 部分符合 / 不符合 / 无证据 / 人工 with its figures and reason.
    /// Exits 0 when the check ran, whatever the statuses.
    Check {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        fmt: FormatArgs,
    },
    /// Compare two periods of one department (两期对比): evaluates both and lists the
    /// controls that improved, regressed or changed. Exits 0 when both ran.
    Diff {
        #[command(flatten)]
        target: TargetArgs,
        /// The earlier period to compare --period with: a year or FROM..TO.
        #[arg(long, value_name = "PERIOD")]
        against: String,
        #[command(flatten)]
        fmt: FormatArgs,
    },
}

/// What to evaluate: a profile, a department, a period, a store.
#[derive(clap::Args, Debug, Clone)]
pub struct TargetArgs {
    /// Profile: a built-in id (jm, gz, xy, jc, xa, gbt22239-l3, gbt39786, gbt43697) or a file.
    #[arg(long, value_name = "PROFILE")]
    pub regulation: String,
    /// Department code (机构代码); may be left out when the store has one department.
    #[arg(long, value_name = "CODE")]
    pub department: Option<String>,
    /// Period: a year (2026) or FROM..TO (2026-01-01..2026-06-30). Default: this year.
    #[arg(long, value_name = "PERIOD")]
    pub period: Option<String>,
    /// Platform store (sqlite:PATH or postgres://…). Default: platform.db in the data directory.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Do not re-verify this node's audit ledger (the integrity control then cites no
    /// verification).
    #[arg(long)]
    pub skip_ledger_verify: bool,
}

pub fn run(ctx: &Context, cmd: ComplyCommand) -> Result<ExitCode> {
    match cmd {
        ComplyCommand::List { profile, fmt } => list(ctx, &profile, &fmt),
        ComplyCommand::Show { profile, fmt } => show(ctx, &profile, &fmt),
        ComplyCommand::Queries(fmt) => queries(ctx, &fmt),
        ComplyCommand::Check { target, fmt } => check(ctx, &target, &fmt),
        ComplyCommand::Diff {
            target,
            against,
            fmt,
        } => diff(ctx, &target, &against, &fmt),
    }
}

/// Today, as days since 1970-01-01 (UTC).
pub fn today() -> shuan_comply::source::Day {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    shuan_evidence::day_of(secs)
}

/// `2026` or `2026-01-01..2026-06-30`.
pub fn parse_period(text: Option<&str>) -> Result<Period> {
    let Some(text) = text else {
        return Ok(Period::year(year_of(today())));
    };
    let day = |s: &str| -> Option<shuan_comply::source::Day> {
        let mut p = s.trim().split('-');
        let y: i64 = p.next()?.parse().ok()?;
        let m: u32 = p.next()?.parse().ok()?;
        let d: u32 = p.next()?.parse().ok()?;
        if p.next().is_some() || !(1..=12).contains(&m) || d == 0 || d > 31 {
            return None;
        }
        Some(shuan_comply::source::day(y, m, d))
    };
    let bad = || {
        anyhow::anyhow!(
            "--period {text:?}: write a year (2026) or FROM..TO (2026-01-01..2026-06-30)"
        )
    };
    if let Some((from, to)) = text.split_once("..") {
        let (from, to) = (day(from).ok_or_else(bad)?, day(to).ok_or_else(bad)?);
        return Period::new(from, to).ok_or_else(bad);
    }
    match text.trim().parse::<i64>() {
        Ok(y) if (1970..=9999).contains(&y) => Ok(Period::year(y)),
        _ => Err(bad()),
    }
}

fn year_of(d: shuan_comply::source::Day) -> i64 {
    let s = shuan_comply::source::format_day(d);
    s.get(..4).and_then(|y| y.parse().ok()).unwrap_or(1970)
}

/// A department evaluated.
pub struct Evaluated {
    pub profile: Profile,
    pub evaluation: Evaluation,
    pub department_name: Option<String>,
    pub store: Box<dyn PlatformStore>,
    /// The object named in the ledger record (`jc:1101:2026-01-01—2026-12-31`).
    pub object: String,
}

/// Opens the store and evaluates `t`. The store is never created here: a missing
/// platform.db is an error, not an empty platform.
pub fn evaluate_target(ctx: &Context, t: &TargetArgs) -> Result<Evaluated> {
    let profile =
        Profile::load(&t.regulation).with_context(|| format!("--regulation {}", t.regulation))?;
    // A period that has not ended is evaluated up to today: windows such as "a backup
    // within 7 days" are measured back from the period's end, and no record can be dated
    // after today.
    let asked = parse_period(t.period.as_deref())?;
    let period = Period::new(asked.start, asked.end.min(today()))
        .ok_or_else(|| anyhow::anyhow!("--period {asked} has not started yet"))?;
    let store = open_store(ctx, t.store.as_deref())?;
    let departments = store.departments().context("reading the departments")?;
    let department = match &t.department {
        Some(d) => {
            if !departments.iter().any(|x| &x.code == d) {
                bail!(
                    "department {d} is not in the platform store (known: {})",
                    department_list(&departments)
                );
            }
            d.clone()
        }
        None => match departments.as_slice() {
            [only] => only.code.clone(),
            [] => bail!(
                "the platform store has no departments; create one (shuan serve, 部门管理) first"
            ),
            _ => bail!(
                "the store has several departments; choose one with --department ({})",
                department_list(&departments)
            ),
        },
    };
    let department_name = departments
        .iter()
        .find(|d| d.code == department)
        .map(|d| d.name.clone());
    let ledger_dir = shuan_ledger::default_dir(&ctx.data_dir);
    let check = if t.skip_ledger_verify || !ledger_dir.is_dir() {
        LedgerCheck::Skip
    } else {
        LedgerCheck::Verify { dir: ledger_dir }
    };
    let evaluation = {
        let source = PlatformEvidence::new(&*store, &ctx.data_dir, check, today());
        shuan_comply::evaluate(&profile, &source, &department, &period)
            .context("evaluating the profile")?
    };
    let object = format!("{}:{}:{}", profile.id, department, period);
    Ok(Evaluated {
        profile,
        evaluation,
        department_name,
        store,
        object,
    })
}

fn department_list(ds: &[shuan_store::platform::Department]) -> String {
    let mut codes: Vec<&str> = ds.iter().map(|d| d.code.as_str()).take(20).collect();
    if ds.len() > 20 {
        codes.push("…");
    }
    codes.join(", ")
}

/// The platform store `url` names, else the data directory's platform.db, which must exist.
pub fn open_store(ctx: &Context, url: Option<&str>) -> Result<Box<dyn PlatformStore>> {
    use shuan_store::platform::PLATFORM_FILE;
    let url = match url.filter(|s| !s.is_empty()) {
        Some(u) => u.to_string(),
        None => {
            let p = ctx.data_dir.join(PLATFORM_FILE);
            if !p.is_file() {
                bail!(
                    "no platform store at {} (run shuan init, or give --store sqlite:PATH or --store postgres://…)",
                    p.display()
                );
            }
            format!("sqlite:{}", p.display())
        }
    };
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if !std::path::Path::new(path).is_file() {
            bail!("no platform store at {path}");
        }
    }
    // The URL is never shown: it may hold a password.
    shuan_store::platform::open_platform(&ctx.data_dir, Some(&url))
        .context("opening the platform store")
}

/// The counts per status, for ledger records and summaries.
pub fn summary_details(e: &Evaluation) -> serde_json::Map<String, serde_json::Value> {
    let mut d = serde_json::Map::new();
    d.insert("regulation".into(), e.profile.clone().into());
    d.insert("department".into(), e.department.clone().into());
    d.insert(
        "period".into(),
        format!(
            "{}..{}",
            shuan_comply::source::format_day(e.period.start),
            shuan_comply::source::format_day(e.period.end)
        )
        .into(),
    );
    d.insert("controls".into(), e.results.len().into());
    for (s, n) in e.summary() {
        d.insert(s.id().into(), n.into());
    }
    d
}

fn check(ctx: &Context, t: &TargetArgs, f: &FormatArgs) -> Result<ExitCode> {
    // Fail closed: no evaluation of the platform's records goes unrecorded.
    let trail = AuditTrail::open(ctx)?;
    let object = format!(
        "{}:{}",
        t.regulation,
        t.department.as_deref().unwrap_or("-")
    );
    trail.begin("comply.check", &object);
    let (e, mut out) = match f
        .open(ctx, Vec::new())
        .and_then(|out| Ok((evaluate_target(ctx, t)?, out)))
    {
        Ok(v) => v,
        Err(err) => {
            return trail.record_result("comply.check", &object, Default::default(), Err(err))
        }
    };
    // The record names what was evaluated and the counts per status.
    trail.record(
        "comply.check",
        &e.object,
        shuan_ledger::Outcome::Allowed,
        summary_details(&e.evaluation),
    )?;
    write_evaluation(&mut out, &e, f.format)?;
    out.finish()?;
    trail.close()?;
    Ok(ExitCode::SUCCESS)
}

/// Evaluates `t` and the same target over `against`, and compares them (earlier first).
pub fn compare_target(
    ctx: &Context,
    t: &TargetArgs,
    against: &str,
) -> Result<(Evaluated, Evaluated, Comparison)> {
    // The periods are checked before anything is evaluated (each evaluation may verify
    // the ledger): the earlier one must end before the later one starts.
    let (earlier_asked, later_asked) = (
        parse_period(Some(against))?,
        parse_period(t.period.as_deref())?,
    );
    if earlier_asked.end >= later_asked.start {
        bail!(
            "--against {against} must end before --period begins ({earlier_asked} overlaps or follows {later_asked})"
        );
    }
    let later = evaluate_target(ctx, t)?;
    let earlier_args = TargetArgs {
        period: Some(against.to_string()),
        // The department resolved for the later period, so both name the same one.
        department: Some(later.evaluation.department.clone()),
        ..t.clone()
    };
    let earlier =
        evaluate_target(ctx, &earlier_args).with_context(|| format!("--against {against}"))?;
    let comparison = shuan_comply::compare(&earlier.evaluation, &later.evaluation)?;
    Ok((earlier, later, comparison))
}

fn diff(ctx: &Context, t: &TargetArgs, against: &str, f: &FormatArgs) -> Result<ExitCode> {
    let trail = AuditTrail::open(ctx)?;
    let object = format!(
        "{}:{}",
        t.regulation,
        t.department.as_deref().unwrap_or("-")
    );
    trail.begin("comply.diff", &object);
    let (earlier, later, comparison, mut out) = match f.open(ctx, Vec::new()).and_then(|out| {
        let (a, b, c) = compare_target(ctx, t, against)?;
        Ok((a, b, c, out))
    }) {
        Ok(v) => v,
        Err(err) => {
            return trail.record_result("comply.diff", &object, Default::default(), Err(err))
        }
    };
    let mut details = summary_details(&later.evaluation);
    details.insert(
        "against".into(),
        earlier.evaluation.period.to_string().into(),
    );
    for c in [Change::Improved, Change::Regressed, Change::Changed] {
        details.insert(c.id().into(), comparison.count(c).into());
    }
    trail.record(
        "comply.diff",
        &later.object,
        shuan_ledger::Outcome::Allowed,
        details,
    )?;
    write_comparison(&mut out, &later, &comparison, f.format)?;
    out.finish()?;
    trail.close()?;
    Ok(ExitCode::SUCCESS)
}

fn write_comparison(
    out: &mut output::Output,
    later: &Evaluated,
    c: &Comparison,
    format: ComplyFormat,
) -> Result<()> {
    let status = |s: Option<shuan_comply::Status>| s.map_or("", |s| s.id());
    let label = |s: Option<shuan_comply::Status>| s.map_or("—", |s| s.label());
    match format {
        ComplyFormat::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                profile: &'a str,
                department: &'a str,
                summary: BTreeMap<&'static str, usize>,
                #[serde(flatten)]
                comparison: &'a Comparison,
            }
            let summary = [
                Change::Improved,
                Change::Regressed,
                Change::Changed,
                Change::Unchanged,
                Change::New,
                Change::Gone,
            ]
            .iter()
            .map(|ch| (ch.id(), c.count(*ch)))
            .collect();
            serde_json::to_writer_pretty(
                &mut *out,
                &Doc {
                    profile: &later.evaluation.profile,
                    department: &later.evaluation.department,
                    summary,
                    comparison: c,
                },
            )?;
            writeln!(out)?;
        }
        ComplyFormat::Csv => {
            let mut w = crate::output::CsvWriter::new(&mut *out);
            w.write_record([
                "control", "article", "clause", "before", "after", "change", "reason",
            ])?;
            for x in &c.controls {
                w.write_record([
                    x.control_id.as_str(),
                    &x.article.map(|a| a.to_string()).unwrap_or_default(),
                    x.clause.as_deref().unwrap_or(""),
                    status(x.before),
                    status(x.after),
                    x.change.id(),
                    &x.reason,
                ])?;
            }
            w.flush()?;
        }
        ComplyFormat::Table => {
            writeln!(
                out,
                "{}（{}） 部门 {} {} 对比 {}",
                later.profile.title,
                later.profile.short,
                later.evaluation.department,
                c.after_period,
                c.before_period
            )?;
            let mut t = TextTable::new(&["条", "控制项", "上期", "本期", "变动", "本期依据"]);
            for x in c.controls.iter().filter(|x| x.change != Change::Unchanged) {
                t.row(vec![
                    x.article
                        .map(|a| a.to_string())
                        .or(x.clause.as_deref().map(|c| output::truncate(c, 16)))
                        .unwrap_or_default(),
                    x.control_id.clone(),
                    label(x.before).to_string(),
                    label(x.after).to_string(),
                    x.change.label().to_string(),
                    output::truncate(&x.reason, 50),
                ]);
            }
            t.write(&mut *out, "")?;
            writeln!(
                out,
                "改进 {}，退步 {}，变化 {}，未变 {}，新增 {}，移除 {}",
                c.count(Change::Improved),
                c.count(Change::Regressed),
                c.count(Change::Changed),
                c.count(Change::Unchanged),
                c.count(Change::New),
                c.count(Change::Gone)
            )?;
        }
    }
    Ok(())
}

fn facts_text(r: &ControlResult) -> String {
    r.facts
        .iter()
        .map(|x| format!("{}={}", x.label, x.value))
        .collect::<Vec<_>>()
        .join("; ")
}

fn write_evaluation(out: &mut output::Output, e: &Evaluated, format: ComplyFormat) -> Result<()> {
    let ev = &e.evaluation;
    match format {
        ComplyFormat::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                profile: &'a str,
                title: &'a str,
                department: &'a str,
                department_name: Option<&'a str>,
                period: String,
                summary: BTreeMap<&'static str, usize>,
                results: &'a [ControlResult],
            }
            let doc = Doc {
                profile: &ev.profile,
                title: &e.profile.title,
                department: &ev.department,
                department_name: e.department_name.as_deref(),
                period: ev.period.to_string(),
                summary: ev.summary().iter().map(|(s, n)| (s.id(), *n)).collect(),
                results: &ev.results,
            };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)?;
        }
        ComplyFormat::Csv => {
            let mut w = crate::output::CsvWriter::new(&mut *out);
            w.write_record([
                "control",
                "article",
                "clause",
                "evidence_query",
                "status",
                "status_label",
                "reason",
                "facts",
                "records",
            ])?;
            for r in &ev.results {
                w.write_record([
                    r.control_id.as_str(),
                    &r.article.map(|a| a.to_string()).unwrap_or_default(),
                    r.clause.as_deref().unwrap_or(""),
                    r.evidence_query.as_deref().unwrap_or(""),
                    r.status.id(),
                    r.status.label(),
                    &r.reason,
                    &facts_text(r),
                    &r.records
                        .iter()
                        .map(|x| format!("{}:{}", x.kind, x.id))
                        .collect::<Vec<_>>()
                        .join(" "),
                ])?;
            }
            w.flush()?;
        }
        ComplyFormat::Table => {
            writeln!(
                out,
                "{}（{}） 部门 {}{} 期间 {}",
                e.profile.title,
                e.profile.short,
                ev.department,
                e.department_name
                    .as_deref()
                    .map(|n| format!("（{n}）"))
                    .unwrap_or_default(),
                ev.period
            )?;
            let mut t = TextTable::new(&["条", "控制项", "结论", "依据"]);
            for r in &ev.results {
                t.row(vec![
                    r.article
                        .map(|a| a.to_string())
                        .or(r.clause.as_deref().map(|c| output::truncate(c, 16)))
                        .unwrap_or_default(),
                    r.control_id.clone(),
                    r.status.label().to_string(),
                    output::truncate(&r.reason, 60),
                ]);
            }
            t.write(&mut *out, "")?;
            let summary: Vec<String> = ev
                .summary()
                .iter()
                .map(|(s, n)| format!("{} {n}", s.label()))
                .collect();
            writeln!(
                out,
                "\n{}（共 {} 项）",
                summary.join("，"),
                ev.results.len()
            )?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct ProfileRow {
    id: String,
    short: String,
    title: String,
    kind: shuan_comply::ProfileKind,
    #[serde(flatten)]
    coverage: Coverage,
}

fn list(ctx: &Context, files: &[PathBuf], f: &FormatArgs) -> Result<ExitCode> {
    let profiles = if files.is_empty() {
        Profile::builtins().context("a built-in compliance profile does not load")?
    } else {
        files
            .iter()
            .map(|p| Profile::from_file(p))
            .collect::<Result<Vec<_>, _>>()?
    };
    let rows: Vec<ProfileRow> = profiles
        .iter()
        .map(|p| ProfileRow {
            id: p.id.clone(),
            short: p.short.clone(),
            title: p.title.clone(),
            kind: p.kind,
            coverage: p.coverage(),
        })
        .collect();
    let mut out = f.open(ctx, files.to_vec())?;
    match f.format {
        ComplyFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        ComplyFormat::Csv => {
            let mut w = crate::output::CsvWriter::new(&mut out);
            w.write_record([
                "id",
                "short",
                "title",
                "articles",
                "evidenced",
                "manual",
                "no_requirement",
                "evidence_controls",
                "manual_controls",
            ])?;
            for r in &rows {
                let c = r.coverage;
                w.write_record([
                    r.id.clone(),
                    r.short.clone(),
                    r.title.clone(),
                    c.articles.to_string(),
                    c.evidenced.to_string(),
                    c.manual.to_string(),
                    c.no_requirement.to_string(),
                    c.evidence_controls.to_string(),
                    c.manual_controls.to_string(),
                ])?;
            }
            w.flush()?;
        }
        ComplyFormat::Table => {
            let mut t = TextTable::new(&[
                "配置",
                "简称",
                "名称",
                "条/项",
                "证据",
                "人工",
                "无要求",
                "证据控制项",
                "人工控制项",
            ]);
            for r in &rows {
                let c = r.coverage;
                t.row(vec![
                    r.id.clone(),
                    r.short.clone(),
                    output::truncate(&r.title, 44),
                    c.articles.to_string(),
                    c.evidenced.to_string(),
                    c.manual.to_string(),
                    c.no_requirement.to_string(),
                    c.evidence_controls.to_string(),
                    c.manual_controls.to_string(),
                ]);
            }
            t.write(&mut out, "")?;
            writeln!(
                out,
                "\n证据 = articles with a control evidenced by a query; 人工 = manual only (an uploaded document); 无要求 = no duty on a department"
            )?;
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct ControlRow<'a> {
    id: &'a str,
    article: Option<u32>,
    clause: Option<&'a str>,
    kind: &'static str,
    requirements: String,
    evidence: Option<&'a str>,
    requires: &'a str,
    requires_en: &'a str,
    document_or_reason: Option<&'a str>,
    status_rule: Option<&'static str>,
    reference: &'a str,
}

fn show(ctx: &Context, spec: &str, f: &FormatArgs) -> Result<ExitCode> {
    let profile = Profile::load(spec)?;
    let rows: Vec<ControlRow> = profile
        .controls
        .iter()
        .map(|c| ControlRow {
            id: &c.id,
            article: c.article,
            clause: c.clause.as_deref(),
            kind: c.kind.id(),
            requirements: c.requirements.join(" "),
            evidence: c.evidence_id.as_deref(),
            requires: &c.requires,
            requires_en: &c.requires_en,
            document_or_reason: match c.kind {
                ControlKind::Manual => c.document.as_deref(),
                ControlKind::NoRequirement => c.reason.as_deref(),
                ControlKind::Evidence => None,
            },
            status_rule: c.status_rule(),
            reference: &c.reference,
        })
        .collect();
    let inputs = if std::path::Path::new(spec).exists() {
        vec![PathBuf::from(spec)]
    } else {
        Vec::new()
    };
    let mut out = f.open(ctx, inputs)?;
    match f.format {
        ComplyFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        ComplyFormat::Csv => {
            let mut w = crate::output::CsvWriter::new(&mut out);
            w.write_record([
                "id",
                "article",
                "clause",
                "kind",
                "requirements",
                "evidence",
                "requires",
                "requires_en",
                "document_or_reason",
                "status_rule",
                "reference",
            ])?;
            for r in &rows {
                w.write_record([
                    r.id,
                    &r.article.map(|a| a.to_string()).unwrap_or_default(),
                    r.clause.unwrap_or(""),
                    r.kind,
                    &r.requirements,
                    r.evidence.unwrap_or(""),
                    r.requires,
                    r.requires_en,
                    r.document_or_reason.unwrap_or(""),
                    r.status_rule.unwrap_or(""),
                    r.reference,
                ])?;
            }
            w.flush()?;
        }
        ComplyFormat::Table => {
            writeln!(
                out,
                "{}（{}）{}",
                profile.title, profile.short, profile.document
            )?;
            let mut t = TextTable::new(&["条", "控制项", "类型", "要求", "证据查询 / 文件 / 理由"]);
            for r in &rows {
                t.row(vec![
                    r.article
                        .map(|a| a.to_string())
                        .or(r.clause.map(|c| output::truncate(c, 24)))
                        .unwrap_or_default(),
                    r.id.to_string(),
                    r.kind.to_string(),
                    output::truncate(
                        if r.requires.is_empty() {
                            r.reference
                        } else {
                            r.requires
                        },
                        40,
                    ),
                    output::truncate(r.evidence.or(r.document_or_reason).unwrap_or(""), 30),
                ]);
            }
            t.write(&mut out, "")?;
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct QueryRow {
    id: &'static str,
    label: &'static str,
    rule: &'static str,
    params: Vec<String>,
}

fn queries(ctx: &Context, f: &FormatArgs) -> Result<ExitCode> {
    let rows: Vec<QueryRow> = QUERIES
        .iter()
        .map(|q| QueryRow {
            id: q.id,
            label: q.label,
            rule: q.rule,
            params: q
                .params
                .iter()
                .map(|p| {
                    format!(
                        "{}{}: {} — {}",
                        p.name,
                        if p.required { "" } else { " (optional)" },
                        p.ty,
                        p.meaning
                    )
                })
                .collect(),
        })
        .collect();
    let mut out = f.open(ctx, Vec::new())?;
    match f.format {
        ComplyFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        ComplyFormat::Csv => {
            let mut w = crate::output::CsvWriter::new(&mut out);
            w.write_record(["id", "label", "rule", "params"])?;
            for r in &rows {
                w.write_record([r.id, r.label, r.rule, &r.params.join("; ")])?;
            }
            w.flush()?;
        }
        ComplyFormat::Table => {
            for r in &rows {
                writeln!(out, "{}  {}", r.id, r.label)?;
                writeln!(out, "  {}", r.rule)?;
                for p in &r.params {
                    writeln!(out, "  · {p}")?;
                }
            }
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}
