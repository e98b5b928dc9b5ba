//! `shuan mask`, `shuan unmask`, `shuan risk` and `shuan watermark`: masking (脱敏),
//! audited reversal, re-identification risk (重识别风险) and leak tracing (水印溯源).
//! The work is done by `shuan-mask`; this module reads sources, picks columns by
//! discovery and wires outputs, keys and the masking log.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use shuan_ledger::Outcome;
use shuan_mask::log::{current_user, MaskLogRecord, TableLog};
use shuan_mask::ops::Operator;
use shuan_mask::risk::{RiskAnalyzer, RiskOptions};
use shuan_mask::rules::RuleSet;
use shuan_mask::sink::{ensure_not_source, CsvSink, FileFormat, JsonlSink, RowSink};
use shuan_mask::source_job::{
    MaskObserver, MaskRunError, MaskSourceRequest, TableDone, WatermarkSpec,
};
use shuan_mask::watermark::{Detector, Registry, WatermarkEntry, Z_THRESHOLD};
use shuan_mask::{Alphabet, MaskKeys};
use shuan_source::{SourceOptions, TableRef};

use crate::audit_trail::AuditTrail;
use crate::context::Context;
use crate::mask_support::{self, KeyOrigin};

/// Mask a source into a new destination by scenario rules (or check a rule file).
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MaskArgs {
    #[command(subcommand)]
    command: Option<MaskCommand>,

    /// Source: file, directory, or postgres:// mysql:// sqlite:// URL.
    source: Option<String>,

    /// Scenario (场景): internal_query (内部查询), sharing (对外共享), open_data (开放数据),
    /// test_env (测试环境), or one defined in --rules.
    #[arg(long, default_value = "sharing")]
    scenario: String,

    /// Rule file (TOML) adding or overriding scenarios; see docs/masking.md.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,

    /// Destination: a .csv / .jsonl file (one table), a directory (one file per table), a
    /// .db / .sqlite SQLite database, or a postgres:// or mysql:// URL (one new table per
    /// source table, named like the source table without its schema; --force replaces).
    #[arg(long, value_name = "DEST")]
    out: Option<PathBuf>,

    /// Only these tables (repeatable; names as `shuan scan` lists them).
    #[arg(long = "table", value_name = "NAME")]
    tables: Vec<String>,

    /// File format for directory destinations.
    #[arg(long, value_enum, default_value = "csv")]
    format: DirFormat,

    /// Replace existing destination files.
    #[arg(long)]
    force: bool,

    #[command(flatten)]
    key: KeyArgs,

    /// Embed a leak-tracing watermark for this named recipient (接收方).
    #[arg(long, value_name = "NAME")]
    recipient: Option<String>,

    /// Numeric columns carrying the watermark (default: chosen automatically among
    /// numeric columns no rule masks).
    #[arg(long, value_delimiter = ',', value_name = "COLS")]
    watermark_columns: Vec<String>,

    /// Grading profile (分级规则) giving each discovered column its level, for rules with
    /// `levels = [...]`: gbt43697, xinyang, or a TOML file (as `shuan scan --profile`).
    #[arg(long, default_value = "gbt43697", value_name = "PROFILE")]
    profile: String,

    /// Non-blank values per column sampled for discovery: the same discovery and default
    /// as `shuan scan --sample`, so masking sees every column a scan grades.
    #[arg(long, default_value_t = shuan_discover::DEFAULT_SAMPLE as u32, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    sample: u32,

    /// Worker threads for masking (default: available cores, at most 8).
    #[arg(long)]
    threads: Option<usize>,

    /// Print the per-column plan and exit without writing.
    #[arg(long)]
    dry_run: bool,

    /// Who is masking, for the log (default: the OS user).
    #[arg(long, value_name = "NAME")]
    operator: Option<String>,

    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

#[derive(clap::Subcommand)]
enum MaskCommand {
    /// Rule files (规则集).
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(clap::Subcommand)]
enum RulesCommand {
    /// Validate a rule file; errors name the line and what to do.
    Check {
        /// The TOML rule file.
        file: PathBuf,
        /// Grading profile whose level names `levels = [...]` may use.
        #[arg(long, default_value = "gbt43697", value_name = "PROFILE")]
        profile: String,
    },
    /// Print the scenarios and rules in effect (built-in plus --rules).
    Show {
        /// Optional user rule file.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum DirFormat {
    Csv,
    Jsonl,
}

/// Where the masking key (pseudonyms, FPE, date shift, noise, watermarks) comes from:
/// by default the data directory's keyring (`shuan keys init`), data key `mask`.
#[derive(clap::Args)]
pub struct KeyArgs {
    /// Keyring data key for masking (created on first use). Rotating it (`shuan keys
    /// rotate mask`) gives new pseudonyms; destroying it makes FPE values irreversible.
    #[arg(long, value_name = "ID", default_value = mask_support::DEFAULT_MASK_KEY_ID)]
    key_id: String,
    /// Use this version of the keyring key instead of the active one (to reproduce or
    /// unmask an extract made before a rotation; the masking log records the version).
    #[arg(long, value_name = "N")]
    key_version: Option<u32>,
    /// A key file instead of the keyring: 64 hex digits, mode 0600. Create:
    /// `head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > mask.key; chmod 600 mask.key`.
    #[arg(long, env = "SHUAN_MASK_KEY_FILE", value_name = "FILE")]
    key_file: Option<PathBuf>,
}

impl KeyArgs {
    /// The key, if one is configured; `create` makes the keyring key on first use.
    fn request(&self, create: bool) -> mask_support::KeyRequest<'_> {
        mask_support::KeyRequest {
            key_file: self.key_file.as_deref(),
            key_id: &self.key_id,
            key_version: self.key_version,
            create,
        }
    }
    fn load(&self, ctx: &Context, create: bool) -> anyhow::Result<Option<(MaskKeys, KeyOrigin)>> {
        mask_support::load_mask_keys(ctx, &self.request(create))
    }
    fn require(&self, ctx: &Context, what: &str) -> anyhow::Result<(MaskKeys, KeyOrigin)> {
        self.load(ctx, false)?.ok_or_else(|| key_missing(what))
    }
}

fn key_missing(what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{what} needs a masking key: create the keyring with `shuan keys init` (the key `mask` \
         is then made on first use), or pass --key-file FILE (32 random bytes as hex, mode 0600)"
    )
}

/// Reverse format-preserving encryption of chosen columns (audited).
#[derive(clap::Args)]
pub struct UnmaskArgs {
    /// The masked file or table source.
    source: String,

    /// Column to reverse as NAME:ALPHABET[:TWEAK], alphabet one of digits, id_number,
    /// alphanumeric, chinese (repeatable).
    #[arg(long = "column", value_name = "NAME:ALPHABET[:TWEAK]", required = true)]
    columns: Vec<String>,

    /// Why the original values are needed (recorded in the masking log).
    #[arg(long, required = true)]
    purpose: String,

    /// Destination file (.csv or .jsonl).
    #[arg(long)]
    out: PathBuf,

    /// Replace an existing destination.
    #[arg(long)]
    force: bool,

    #[command(flatten)]
    key: KeyArgs,

    /// Who is unmasking (default: the OS user).
    #[arg(long)]
    operator: Option<String>,
}

/// Most spill partitions `shuan risk` opens at once (each is an open temporary file).
const MAX_RISK_PARTITIONS: i64 = 512;

/// Re-identification risk of a table: k-anonymity, l-diversity, records at risk.
#[derive(clap::Args)]
pub struct RiskArgs {
    /// Source (file, directory with one table, or database URL).
    source: String,

    /// Quasi-identifier columns (准标识符), comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    qi: Vec<String>,

    /// Sensitive attribute column for l-diversity.
    #[arg(long)]
    sensitive: Option<String>,

    /// Target k for "records at risk" and suggested generalizations (at least 1).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    k: u64,

    /// Table to analyse when the source has several.
    #[arg(long)]
    table: Option<String>,

    /// Spill partitions (memory use is about one partition's distinct classes). Each
    /// is an open temporary file, so at most 512 (well below the usual limit of 1024
    /// open files).
    #[arg(long, default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=MAX_RISK_PARTITIONS))]
    partitions: u32,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Leak-tracing watermarks.
#[derive(clap::Subcommand)]
pub enum WatermarkCommand {
    /// Name the recipient of a leaked copy (all or part of a watermarked extract).
    Detect {
        /// The leaked file.
        file: String,
        #[command(flatten)]
        key: KeyArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List recipients watermarked so far.
    List,
}

fn detect_known(id: &str) -> bool {
    shuan_mask::source_job::known_type(id)
}

fn load_rules(user: Option<&Path>) -> anyhow::Result<RuleSet> {
    Ok(shuan_mask::source_job::load_rules(user)?)
}

fn progress_bar(enabled: bool) -> ProgressBar {
    let target = if enabled && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(0), target);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}) {msg}",
        )
        .expect("valid template"),
    );
    bar
}

/// Rows into a new database table through `shuan-sink`.
struct DbRowSink(shuan_sink::TableSink);

impl RowSink for DbRowSink {
    fn write_row(&mut self, row: &[Option<String>]) -> shuan_mask::Result<()> {
        self.0
            .write_row(row.iter().map(|v| v.as_deref()))
            .map_err(|e| shuan_mask::MaskError::Invalid(e.to_string()))
    }
    fn finish(self: Box<Self>) -> shuan_mask::Result<()> {
        self.0
            .finish()
            .map(|_| ())
            .map_err(|e| shuan_mask::MaskError::Invalid(e.to_string()))
    }
}

fn registry(ctx: &Context) -> Registry {
    Registry::in_dir(&ctx.data_dir)
}

pub fn run_mask(ctx: &Context, args: MaskArgs) -> anyhow::Result<ExitCode> {
    if let Some(MaskCommand::Rules(cmd)) = args.command {
        return run_rules(cmd);
    }
    let Some(source_spec) = args.source.as_deref() else {
        bail!("give a SOURCE to mask (or `shuan mask rules check FILE`); see `shuan mask --help`")
    };
    // Fail-closed: the masking log is the audit ledger; no ledger, no masking. Opened
    // first so that every refusal and failure after this point (a missing or unusable
    // masking key, a destination that is the source, a read error) is recorded too.
    let trail = if args.dry_run {
        None
    } else {
        Some(AuditTrail::open(ctx)?)
    };
    let mut progress = MaskProgress {
        object: shuan_source::redact_url(source_spec),
        ..Default::default()
    };
    if let Some(trail) = &trail {
        trail.begin("mask", &progress.object);
    }
    let result = mask_source(ctx, &args, source_spec, trail.as_ref(), &mut progress);
    match (result, trail) {
        (Ok(code), Some(trail)) => {
            trail.close()?;
            Ok(code)
        }
        (result, None) => result,
        (Err(e), Some(trail)) => {
            let details = crate::details! {
                "scenario" => progress.scenario,
                "table" => progress.table,
                "tables_done" => progress.tables_done,
                "key" => progress.key.as_ref().map(KeyOrigin::to_json),
            };
            trail.record_result("mask", &progress.object, details, Err(e))
        }
    }
}

/// How far a `mask` run got, for the ledger record of a failure.
#[derive(Default)]
struct MaskProgress {
    /// The source as recorded (password-free).
    object: String,
    scenario: Option<String>,
    /// The table being masked when it failed.
    table: Option<String>,
    tables_done: Vec<String>,
    key: Option<KeyOrigin>,
}

/// What `shuan mask` shows as the run goes: the progress bar, skipped rows, each
/// table's summary (or, on a dry run, its plan); and how far it got, for the record of
/// a failure.
struct CliMaskObserver<'a> {
    progress: &'a mut MaskProgress,
    /// `id label` of the scenario, for the dry run's plan.
    scenario: String,
    bar: ProgressBar,
    dry_run: bool,
}

impl MaskObserver for CliMaskObserver<'_> {
    fn source_opened(&mut self, name: &str) {
        self.progress.object = name.to_string();
    }
    fn table_started(&mut self, _index: usize, table: &TableRef) {
        self.progress.table = Some(table.name.clone());
    }
    fn masking_started(&mut self, table: &TableRef) {
        self.bar.set_position(0);
        self.bar.set_length(table.size_bytes.unwrap_or(0));
        self.bar.set_message(table.name.clone());
    }
    fn skipped_row(&mut self, table: &str, count: u64, error: &shuan_source::SourceError) {
        if count <= 5 {
            self.bar.suspend(|| {
                eprintln!("warning: {table}: skipped a malformed row: {error}");
            });
        }
    }
    fn table_done(&mut self, done: &TableDone) {
        let table = &done.table;
        if self.dry_run {
            println!("table {} (scenario {}):", table.name, self.scenario);
            for c in &done.plan.columns {
                println!(
                    "  {:<24} {:<16} {:<20} {}",
                    c.info.name,
                    c.info.data_type.as_deref().unwrap_or("-"),
                    c.choice.operator.name(),
                    c.choice.reason
                );
            }
            return;
        }
        if done.skipped_rows > 5 {
            eprintln!(
                "warning: {}: {} malformed rows skipped in total",
                table.name, done.skipped_rows
            );
        }
        let masked: u64 = done.stats.columns.iter().map(|c| c.masked).sum();
        let failed: u64 = done.stats.columns.iter().map(|c| c.failed).sum();
        self.bar.suspend(|| {
            eprintln!(
                "{}: {} rows, {} values masked{} → {}",
                table.name,
                done.stats.rows,
                masked,
                if failed > 0 {
                    format!(", {failed} could not be processed and were fully masked")
                } else {
                    String::new()
                },
                done.written
            )
        });
        self.progress.tables_done.push(table.name.clone());
    }
}

/// The body of `shuan mask SOURCE` (`shuan-mask`'s use case): every error is recorded
/// by [`run_mask`].
fn mask_source(
    ctx: &Context,
    args: &MaskArgs,
    source_spec: &str,
    trail: Option<&AuditTrail>,
    progress: &mut MaskProgress,
) -> anyhow::Result<ExitCode> {
    let rules = load_rules(args.rules.as_deref())?;
    let scenario = rules.scenario(&args.scenario)?;
    progress.scenario = Some(scenario.id.clone());
    let bar = progress_bar(!args.no_progress && !args.dry_run);
    let cb_bar = bar.clone();
    let profile = crate::scanner::load_profile(&args.profile)
        .with_context(|| format!("grading profile {}", args.profile))?;
    let registry = registry(ctx);
    let operator = args.operator.clone().unwrap_or_else(current_user);
    let db_sink = |url: &str,
                   name: &str,
                   header: &[String],
                   force: bool|
     -> shuan_mask::Result<(Box<dyn RowSink + Send>, String)> {
        let sink = shuan_sink::TableSink::create(url, name, header, force)
            .map_err(|e| shuan_mask::MaskError::Invalid(e.to_string()))?;
        let written = sink.describe();
        Ok((Box::new(DbRowSink(sink)), written))
    };
    let req = MaskSourceRequest {
        source_spec,
        source_options: SourceOptions {
            progress: Some(Arc::new(move |n| cb_bar.inc(n))),
            ..Default::default()
        },
        tables: &args.tables,
        rules: &rules,
        scenario,
        profile: &profile,
        sample: args.sample as usize,
        out: args.out.as_deref(),
        dir_format: match args.format {
            DirFormat::Csv => FileFormat::Csv,
            DirFormat::Jsonl => FileFormat::JsonLines,
        },
        force: args.force,
        threads: args.threads,
        watermark: args.recipient.as_deref().map(|recipient| WatermarkSpec {
            recipient,
            carriers: &args.watermark_columns,
            registry: &registry,
        }),
        dry_run: args.dry_run,
        database_sink: Some(&db_sink),
        operator: &operator,
    };
    let mut key_origin = None;
    let mut loader = |create: bool| -> Result<Option<MaskKeys>, shuan_mask::job::HookError> {
        let loaded = args
            .key
            .load(ctx, create)
            .map_err(|e| -> shuan_mask::job::HookError { format!("{e:#}").into() })?;
        let (keys, origin) = loaded.unzip();
        key_origin = origin;
        Ok(keys)
    };
    let result = {
        let mut observer = CliMaskObserver {
            progress: &mut *progress,
            scenario: format!("{} {}", scenario.id, scenario.label),
            bar: bar.clone(),
            dry_run: args.dry_run,
        };
        shuan_mask::source_job::mask_source(&req, &mut loader, &mut observer)
    };
    bar.finish_and_clear();
    progress.key = key_origin.clone();
    let report = result.map_err(|e| match e {
        MaskRunError::KeyMissing(what) => key_missing(&what),
        MaskRunError::Open { source, .. } => {
            anyhow::Error::new(source).context(format!("opening source {source_spec}"))
        }
        e => anyhow::Error::new(e),
    })?;
    let Some(record) = report.record else {
        return Ok(ExitCode::SUCCESS);
    };
    progress.table = None;
    let trail = trail.expect("opened unless --dry-run");
    mask_support::record_mask_event(trail, &record, key_origin.as_ref(), Outcome::Allowed)?;
    Ok(ExitCode::SUCCESS)
}

fn run_rules(cmd: RulesCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RulesCommand::Check { file, profile } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading rule file {}", file.display()))?;
            let scenarios = RuleSet::check_file(&file.display().to_string(), &text, &detect_known)?;
            let profile = crate::scanner::load_profile(&profile)
                .with_context(|| format!("grading profile {profile}"))?;
            mask_support::check_rule_levels(&scenarios, &profile)
                .with_context(|| format!("{}", file.display()))?;
            println!(
                "{}: OK — {} scenario(s): {}",
                file.display(),
                scenarios.len(),
                scenarios
                    .iter()
                    .map(|s| format!("{} ({} rules)", s.id, s.rules.len()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Show { rules } => {
            let rs = load_rules(rules.as_deref())?;
            println!("rule set SM3 {}", rs.hash_hex());
            for s in rs.scenarios() {
                println!("\n{} ({}) — {}", s.id, s.label, s.description);
                for r in &s.rules {
                    let mut sel = Vec::new();
                    if !r.selector.types.is_empty() {
                        sel.push(format!("types={}", r.selector.types.join("|")));
                    }
                    if !r.selector.levels.is_empty() {
                        sel.push(format!("levels={}", r.selector.levels.join("|")));
                    }
                    if !r.selector.columns.is_empty() {
                        let pats: Vec<&str> =
                            r.selector.columns.iter().map(|c| c.as_str()).collect();
                        sel.push(format!("columns={}", pats.join("|")));
                    }
                    if !r.selector.fields.is_empty() {
                        sel.push(format!("fields={}", r.selector.fields.join("|")));
                    }
                    println!(
                        "  {}:{:<5} {:<50} → {}",
                        r.file,
                        r.line,
                        sel.join(" "),
                        r.operator.describe()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn open_single_table(
    spec: &str,
    table: Option<&str>,
) -> anyhow::Result<(Box<dyn shuan_source::Source>, TableRef)> {
    let mut source = shuan_source::open(spec, &SourceOptions::default())
        .with_context(|| format!("opening source {spec}"))?;
    let tables = source.tables()?;
    let t = match table {
        Some(name) => tables
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| anyhow::anyhow!("table {name} not found in {spec}"))?,
        None => {
            if tables.len() != 1 {
                bail!(
                    "{spec} has {} tables; pick one with --table ({})",
                    tables.len(),
                    tables
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            tables.into_iter().next().expect("one table")
        }
    };
    Ok((source, t))
}

pub fn run_unmask(ctx: &Context, args: UnmaskArgs) -> anyhow::Result<ExitCode> {
    // Fail-closed: no unmasking without its record in the audit ledger.
    let mut trail = AuditTrail::open(ctx)?;
    let object = shuan_source::redact_url(&args.source);
    let purpose = args.purpose.trim();
    if purpose.is_empty() {
        // Reversal is allowed only for a stated reason: a blank one is refused, and the
        // refusal is recorded like any other attempt to see original values.
        let details = crate::details! {
            "columns" => args.columns,
            "destination" => args.out.display().to_string(),
            "reason" => "no purpose stated (--purpose is empty)",
        };
        trail.record("unmask", &object, Outcome::Denied, details)?;
        return Ok(super::scan::usage_error(
            "--purpose must say why the original values are needed (it is recorded in the audit ledger), e.g. --purpose \"核对户籍信息 工单#123\"",
        ));
    }
    // The purpose goes into the ledger event's own purpose field (the 目的 column of
    // `shuan audit query`), not only into the details.
    trail.set_purpose(purpose);
    let mut origin = None;
    match unmask(ctx, &args, &mut origin) {
        Ok((record, rows, bad)) => {
            mask_support::record_mask_event(&trail, &record, origin.as_ref(), Outcome::Allowed)?;
            trail.close()?;
            eprintln!(
                "{rows} rows → {}{}",
                args.out.display(),
                if bad > 0 {
                    format!("; {bad} values could not be reversed (not FPE output under this key?) and were left as they were")
                } else {
                    String::new()
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let details = crate::details! {
                "purpose" => args.purpose,
                "columns" => args.columns,
                "destination" => args.out.display().to_string(),
                "key" => origin.as_ref().map(KeyOrigin::to_json),
            };
            trail.record_result("unmask", &object, details, Err(e))
        }
    }
}

/// Reverses the FPE columns; returns the log record, rows written and values that could
/// not be reversed.
fn unmask(
    ctx: &Context,
    args: &UnmaskArgs,
    origin: &mut Option<KeyOrigin>,
) -> anyhow::Result<(MaskLogRecord, u64, u64)> {
    let (keys, key_origin) = args.key.require(ctx, "unmask")?;
    *origin = Some(key_origin);
    let mut specs = Vec::new();
    for c in &args.columns {
        let mut parts = c.splitn(3, ':');
        let name = parts.next().unwrap_or_default().to_string();
        let alpha = parts.next().unwrap_or("digits");
        let alphabet = Alphabet::from_name(alpha).ok_or_else(|| {
            anyhow::anyhow!("--column {c}: unknown alphabet {alpha}; use digits, id_number, alphanumeric or chinese")
        })?;
        let tweak = parts.next().unwrap_or("").to_string();
        specs.push((name, Operator::Fpe { alphabet, tweak }));
    }
    let (mut source, table) = open_single_table(&args.source, None)?;
    let source_paths: Vec<PathBuf> = table.path.iter().cloned().collect();
    let source_name = source.display_name();
    ensure_not_source(&args.out, &source_paths)?;
    // FPE reverses any string of its alphabet, so a column masked otherwise (a Chinese-name
    // pseudonym under `chinese`) would "decrypt" into garbage: the masking log says which
    // operator made each column of a file this data directory masked.
    if let Some(file) = table.path.as_deref() {
        for (name, _) in &specs {
            if let Some(made) = mask_support::recorded_column_operator(ctx, file, name)? {
                if made.operator != "fpe" {
                    bail!(
                        "column {name} of {} was masked with `{}` (rule {}, masking log record {}), \
                         which cannot be reversed: only `fpe` columns can be unmasked",
                        args.source,
                        made.operator,
                        made.rule,
                        made.seq
                    );
                }
            }
        }
    }
    let mut reader = source.open_table(&table)?;
    let header: Vec<String> = reader.columns().iter().map(|c| c.name.clone()).collect();
    let mut idx = Vec::new();
    for (name, op) in &specs {
        let i = header.iter().position(|h| h == name).ok_or_else(|| {
            anyhow::anyhow!(
                "column {name} not in {} (columns: {})",
                args.source,
                header.join(", ")
            )
        })?;
        idx.push((i, op));
    }
    let mut sink: Box<dyn RowSink> = match FileFormat::from_path(&args.out) {
        Some(FileFormat::JsonLines) => Box::new(JsonlSink::create(&args.out, &header, args.force)?),
        Some(FileFormat::Csv) => Box::new(CsvSink::create(&args.out, &header, args.force)?),
        _ => bail!("--out must end in .csv or .jsonl"),
    };
    let mut counts = vec![(0u64, 0u64); idx.len()];
    let mut rows = 0u64;
    while let Some(row) = reader.next_row() {
        let mut row = match row {
            Ok(r) => r,
            Err(e) if e.is_row_error() => continue,
            Err(e) => return Err(e.into()),
        };
        for (k, (i, op)) in idx.iter().enumerate() {
            if let Some(v) = row.get_mut(*i).and_then(|v| v.as_mut()) {
                if v.is_empty() {
                    continue;
                }
                match op.reverse(v, &keys) {
                    Ok(orig) => {
                        *v = orig;
                        counts[k].0 += 1;
                    }
                    Err(_) => counts[k].1 += 1,
                }
            }
        }
        sink.write_row(&row)?;
        rows += 1;
    }
    sink.finish()?;
    let columns = specs
        .iter()
        .zip(&counts)
        .map(|((name, op), (ok, bad))| shuan_mask::job::ColumnStats {
            column: name.clone(),
            data_type: None,
            operator: format!("unmask_{}", op.name()),
            rule: format!("{op:?}"),
            masked: *ok,
            failed: *bad,
            residual_redactions: 0,
        })
        .collect();
    let record = MaskLogRecord {
        event: "unmask".into(),
        who: args.operator.clone().unwrap_or_else(current_user),
        when: shuan_mask::dates::now_rfc3339(),
        source: source_name,
        destination: Some(args.out.display().to_string()),
        scenario: None,
        ruleset_sm3: None,
        rule_files: Vec::new(),
        key_fingerprint: Some(keys.fingerprint()),
        recipient: None,
        purpose: Some(args.purpose.trim().to_string()),
        tables: vec![TableLog {
            table: table.name.clone(),
            rows,
            columns,
        }],
    };
    let bad: u64 = counts.iter().map(|c| c.1).sum();
    Ok((record, rows, bad))
}

pub fn run_risk(_ctx: &Context, args: RiskArgs) -> anyhow::Result<ExitCode> {
    let (mut source, table) = open_single_table(&args.source, args.table.as_deref())?;
    let mut reader = source.open_table(&table)?;
    let header: Vec<String> = reader.columns().iter().map(|c| c.name.clone()).collect();
    let find = |n: &str| {
        header.iter().position(|h| h == n).ok_or_else(|| {
            anyhow::anyhow!(
                "column {n} not in {} (columns: {})",
                table.name,
                header.join(", ")
            )
        })
    };
    let qi: Vec<usize> = args
        .qi
        .iter()
        .map(|n| find(n))
        .collect::<anyhow::Result<_>>()?;
    let sensitive = args.sensitive.as_deref().map(find).transpose()?;
    let mut analyzer = RiskAnalyzer::new(RiskOptions {
        qi_names: args.qi.clone(),
        partitions: args.partitions as usize,
        k_target: args.k,
        with_sensitive: sensitive.is_some(),
    })?;
    let mut projected: Vec<Option<String>> = Vec::with_capacity(qi.len() + 1);
    while let Some(row) = reader.next_row() {
        let row = match row {
            Ok(r) => r,
            Err(e) if e.is_row_error() => continue,
            Err(e) => return Err(e.into()),
        };
        projected.clear();
        projected.extend(qi.iter().map(|&i| row.get(i).cloned().flatten()));
        if let Some(s) = sensitive {
            projected.push(row.get(s).cloned().flatten());
        }
        analyzer.add(&projected)?;
    }
    let report = analyzer.finish()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_watermark(ctx: &Context, cmd: WatermarkCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        WatermarkCommand::List => {
            for e in registry(ctx).read()? {
                println!(
                    "{}  {}  carriers={}  {} → {}",
                    e.when,
                    e.recipient,
                    e.carriers.join(","),
                    e.source,
                    e.destination
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        WatermarkCommand::Detect { file, key, json } => {
            let trail = AuditTrail::open(ctx)?;
            let candidates = mask_support::candidate_mask_keys(ctx, &key.request(false))?;
            if candidates.is_empty() {
                return Err(key_missing("watermark detection"));
            }
            // Each registered extract is checked with the key version that marked it.
            let entries: Vec<(WatermarkEntry, usize)> = registry(ctx)
                .read()?
                .into_iter()
                .filter_map(|e| {
                    let k = candidates
                        .iter()
                        .position(|(k, _)| k.fingerprint() == e.key_fingerprint)?;
                    Some((e, k))
                })
                .collect();
            if entries.is_empty() {
                bail!(
                    "no watermark registered with this key in {}; extracts are registered by `shuan mask --recipient`",
                    registry(ctx).path().display()
                );
            }
            let (mut source, table) = open_single_table(&file, None)?;
            let mut reader = source.open_table(&table)?;
            let header: Vec<String> = reader.columns().iter().map(|c| c.name.clone()).collect();
            let mut detectors: Vec<Detector> = entries
                .iter()
                .filter_map(|(e, k)| Detector::new(&candidates[*k].0, e, &header))
                .collect();
            if detectors.is_empty() {
                bail!(
                    "{file}: its columns ({}) match no registered watermark",
                    header.join(", ")
                );
            }
            let mut rows = 0u64;
            while let Some(row) = reader.next_row() {
                let row = match row {
                    Ok(r) => r,
                    Err(e) if e.is_row_error() => continue,
                    Err(e) => return Err(e.into()),
                };
                rows += 1;
                for d in detectors.iter_mut() {
                    d.add(&row);
                }
            }
            let mut scores: Vec<_> = detectors.iter().map(|d| d.score()).collect();
            scores.sort_by(|a, b| b.z.total_cmp(&a.z));
            scores.dedup_by(|a, b| a.recipient == b.recipient);
            let named = scores
                .first()
                .filter(|s| s.z >= Z_THRESHOLD)
                .map(|s| s.recipient.clone());
            // The key version of the recipient named, for the log.
            let used = named
                .as_ref()
                .and_then(|r| entries.iter().find(|(e, _)| &e.recipient == r))
                .map(|(_, k)| &candidates[*k]);
            let record = MaskLogRecord {
                event: "watermark_detect".into(),
                who: current_user(),
                when: shuan_mask::dates::now_rfc3339(),
                source: file.clone(),
                destination: None,
                scenario: None,
                ruleset_sm3: None,
                rule_files: Vec::new(),
                key_fingerprint: used.map(|(k, _)| k.fingerprint()),
                recipient: named.clone(),
                purpose: None,
                tables: Vec::new(),
            };
            mask_support::record_mask_event(
                &trail,
                &record,
                used.map(|(_, o)| o),
                Outcome::Allowed,
            )?;
            trail.close()?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "rows": rows, "recipient": named, "scores": scores
                    }))?
                );
            } else {
                println!("{rows} rows read from {file}");
                for s in &scores {
                    println!(
                        "  {:<20} {:>6}/{:<6} digits agree  z = {:.1}",
                        s.recipient, s.matched, s.compared, s.z
                    );
                }
                match &named {
                    Some(r) => println!("recipient (接收方): {r}"),
                    None => println!("no recipient matches (z < {Z_THRESHOLD}); the copy may not come from a watermarked extract"),
                }
            }
            Ok(if named.is_some() {
                ExitCode::SUCCESS
            } else {
                // Checked, and no recipient's watermark is there.
                ExitCode::from(crate::exit::INVALID)
            })
        }
    }
}
