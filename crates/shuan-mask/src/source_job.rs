//! Masking a whole source into a destination: every table (or the chosen ones) is
//! planned by discovery and the scenario's rules, then masked into its file or table.
//! The use case behind `shuan mask SOURCE --out DEST` and the server's masking jobs, as
//! one call with a request struct and an observer for progress; the caller brings the
//! masking key (lazily: it is loaded, and created on first use, only when the scenario
//! needs it) and records the returned masking-log record in its audit ledger.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use shuan_classify::Profile;
use shuan_detect::{ColumnClassifier, DataType};
use shuan_source::{ProgressFn, SourceError, SourceOptions, TableRef};

use crate::dest::{DestRequest, Destination};
use crate::error::MaskError;
use crate::job::{HookError, JobError, MaskPlan, MaskStats, SkippedRowHook};
use crate::key::MaskKeys;
use crate::log::{MaskLogRecord, TableLog};
use crate::plan::{plan_table, PlanRequest, TextRedactor};
use crate::rules::{RuleSet, Scenario};
use crate::sink::{CsvSink, FileFormat, JsonlSink, RowSink, SqliteSink};
use crate::table_job::{mask_table_rows, TableJob, WatermarkRequest};
use crate::watermark::Registry;

/// Whether `id` is a data type `shuan-detect` knows (rule files name types by id).
pub fn known_type(id: &str) -> bool {
    DataType::from_id(id).is_some()
}

/// The built-in rule set, plus the user's rule file when one is given.
pub fn load_rules(user: Option<&Path>) -> Result<RuleSet, MaskError> {
    match user {
        None => RuleSet::builtin(&known_type),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| MaskError::Io {
                path: p.to_path_buf(),
                source: std::io::Error::new(e.kind(), format!("reading rule file: {e}")),
            })?;
            RuleSet::with_user(Some((&p.display().to_string(), &text)), &known_type)
        }
    }
}

/// Rejects rules naming a level the grading profile does not have: such a rule would
/// silently never match.
pub fn check_rule_levels<'a>(
    scenarios: impl IntoIterator<Item = &'a Scenario>,
    profile: &Profile,
) -> Result<(), MaskError> {
    let known: Vec<&str> = profile.levels().iter().map(|l| l.name.as_str()).collect();
    for scenario in scenarios {
        for rule in &scenario.rules {
            for level in &rule.selector.levels {
                if !known.contains(&level.as_str()) {
                    return Err(MaskError::Invalid(format!(
                        "scenario `{}`: level `{level}` is not a level of grading profile `{}`; \
                         use one of: {} (or choose the profile with --profile)",
                        scenario.id,
                        profile.name(),
                        known.join(", ")
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Makes the sink of a new database table: (url, table name, header, replace) → the
/// sink and how the table is named in the log. The CLI brings `shuan-sink`'s; a caller
/// without one refuses database destinations.
pub type DatabaseSinkFactory<'a> = dyn Fn(&str, &str, &[String], bool) -> Result<(Box<dyn RowSink + Send>, String), MaskError>
    + 'a;

/// Loads the masking key when the run needs it: called once, with `true` when a missing
/// keyring key is to be created (the scenario or the watermark needs one and this is not
/// a dry run). `None`: there is no key (an error only if a table's plan needs one).
pub type KeyLoader<'a> = dyn FnMut(bool) -> Result<Option<MaskKeys>, HookError> + 'a;

/// A leak-tracing watermark for one named recipient.
pub struct WatermarkSpec<'a> {
    /// The recipient (接收方).
    pub recipient: &'a str,
    /// Carrier columns; empty: chosen automatically.
    pub carriers: &'a [String],
    /// Where the extract is registered for detection.
    pub registry: &'a Registry,
}

/// Everything masking a source needs.
pub struct MaskSourceRequest<'a> {
    /// Source: file, directory, or database URL.
    pub source_spec: &'a str,
    /// Source options (progress callback, encoding).
    pub source_options: SourceOptions,
    /// Only these tables (empty: every table).
    pub tables: &'a [String],
    /// The rule set (for its hash and files in the log).
    pub rules: &'a RuleSet,
    /// The scenario of `rules` that chooses the operators.
    pub scenario: &'a Scenario,
    /// Grading profile for level-based rules.
    pub profile: &'a Profile,
    /// Non-blank values sampled per column for discovery.
    pub sample: usize,
    /// Destination; `None` only for a dry run.
    pub out: Option<&'a Path>,
    /// File format of a directory destination.
    pub dir_format: FileFormat,
    /// Replace existing destination files (and database tables).
    pub force: bool,
    /// Worker threads (default: available cores, at most 8).
    pub threads: Option<usize>,
    /// A watermark to embed, if any.
    pub watermark: Option<WatermarkSpec<'a>>,
    /// Plan only: nothing is written and no key is created.
    pub dry_run: bool,
    /// Database destinations; `None` refuses them.
    pub database_sink: Option<&'a DatabaseSinkFactory<'a>>,
    /// Who is masking, for the log.
    pub operator: &'a str,
}

/// What a masking run tells its caller as it goes; every method has a default that
/// does nothing. The bytes read come through `source_options.progress`.
pub trait MaskObserver {
    /// The source is open: its password-free name.
    fn source_opened(&mut self, _name: &str) {}
    /// The tables that will be masked, in order.
    fn tables_chosen(&mut self, _tables: &[TableRef]) {}
    /// Table `index` is being planned (discovery reads a sample).
    fn table_started(&mut self, _index: usize, _table: &TableRef) {}
    /// The masking pass over the table starts (it reads the whole table).
    fn masking_started(&mut self, _table: &TableRef) {}
    /// The reader skipped a malformed row; `count` so far in this table.
    fn skipped_row(&mut self, _table: &str, _count: u64, _error: &SourceError) {}
    /// The table is done (on a dry run: planned).
    fn table_done(&mut self, _done: &TableDone) {}
}

/// No observer.
impl MaskObserver for () {}

/// One table masked (or, on a dry run, planned).
#[derive(Clone, Debug)]
pub struct TableDone {
    /// The table.
    pub table: TableRef,
    /// The per-column plan.
    pub plan: MaskPlan,
    /// Counts (empty on a dry run).
    pub stats: MaskStats,
    /// Malformed rows skipped.
    pub skipped_rows: u64,
    /// Where it was written (empty on a dry run).
    pub written: String,
}

/// A finished masking run.
#[derive(Debug)]
pub struct MaskSourceReport {
    /// The source's password-free name.
    pub source_name: String,
    /// Tables in order.
    pub tables: Vec<TableDone>,
    /// The masking-log record to write to the audit ledger (`None` on a dry run).
    pub record: Option<MaskLogRecord>,
    /// The key's fingerprint was used (a key was loaded).
    pub keyed: bool,
}

/// Why a masking run failed. Nothing of the failing table is left behind.
#[derive(Debug, thiserror::Error)]
pub enum MaskRunError {
    /// The source could not be opened.
    #[error("opening source {spec}")]
    Open {
        /// The source, without its password.
        spec: String,
        /// Why.
        #[source]
        source: SourceError,
    },
    /// The source failed later (listing, reading a table).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A chosen table is not in the source.
    #[error("table {table} not found in {source_name}; tables: {tables}")]
    TableNotFound {
        /// The table asked for.
        table: String,
        /// The source.
        source_name: String,
        /// The tables it has.
        tables: String,
    },
    /// Nothing to mask.
    #[error("{0} has no readable table")]
    NoTables(String),
    /// No destination and not a dry run.
    #[error("give --out DEST (a .csv/.jsonl file, a directory, or a .db SQLite file)")]
    NoDestination,
    /// The masking key could not be loaded.
    #[error("loading the masking key")]
    Key(#[source] HookError),
    /// A key is needed and there is none; the text says for what.
    #[error("{0} needs a masking key")]
    KeyMissing(String),
    /// Reading a table failed while masking it.
    #[error("reading {table} at {position}")]
    Read {
        /// Table.
        table: String,
        /// Where.
        position: String,
        /// Why.
        #[source]
        source: SourceError,
    },
    /// A hook failed (the watermark).
    #[error(transparent)]
    Hook(HookError),
    /// Masking, planning, the destination or the sink failed.
    #[error(transparent)]
    Mask(#[from] MaskError),
}

/// Masks `req.source_spec` into `req.out`: see the module documentation.
pub fn mask_source(
    req: &MaskSourceRequest<'_>,
    load_keys: &mut KeyLoader<'_>,
    observer: &mut dyn MaskObserver,
) -> Result<MaskSourceReport, MaskRunError> {
    let mut source = shuan_source::open(req.source_spec, &req.source_options).map_err(|e| {
        MaskRunError::Open {
            spec: shuan_source::redact_url(req.source_spec),
            source: e,
        }
    })?;
    let source_name = source.display_name();
    observer.source_opened(&source_name);
    let mut tables = source.tables()?;
    if !req.tables.is_empty() {
        for t in req.tables {
            if !tables.iter().any(|x| &x.name == t) {
                return Err(MaskRunError::TableNotFound {
                    table: t.clone(),
                    source_name,
                    tables: tables
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        tables.retain(|t| req.tables.contains(&t.name));
    }
    if tables.is_empty() {
        return Err(MaskRunError::NoTables(source_name));
    }
    observer.tables_chosen(&tables);
    let source_paths: Vec<PathBuf> = tables.iter().filter_map(|t| t.path.clone()).collect();
    let dest = match req.out {
        None if req.dry_run => None,
        None => return Err(MaskRunError::NoDestination),
        Some(out) => Some(Destination::resolve(&DestRequest {
            out,
            source_spec: req.source_spec,
            source_name: &source_name,
            tables: &tables,
            dir_format: req.dir_format,
        })?),
    };
    check_rule_levels(req.rules.scenarios(), req.profile)?;
    let scenario = req.scenario;
    let scenario_keyed =
        req.watermark.is_some() || scenario.rules.iter().any(|r| r.operator.needs_key());
    let keys = load_keys(scenario_keyed && !req.dry_run).map_err(MaskRunError::Key)?;
    if req.watermark.is_some() && keys.is_none() {
        return Err(MaskRunError::KeyMissing("a watermark (--recipient)".into()));
    }
    let classifier = ColumnClassifier::new();
    let redactor = TextRedactor::new();
    let mut done = Vec::with_capacity(tables.len());
    for (index, table) in tables.iter().enumerate() {
        observer.table_started(index, table);
        let plan = plan_table(
            &mut *source,
            table,
            &PlanRequest {
                scenario,
                sample: req.sample,
                profile: req.profile,
                classifier: &classifier,
            },
        )?;
        if plan.needs_key() && keys.is_none() && !req.dry_run {
            return Err(MaskRunError::KeyMissing(format!(
                "scenario {}",
                scenario.id
            )));
        }
        let dest = match &dest {
            Some(d) if !req.dry_run => d,
            _ => {
                let t = TableDone {
                    table: table.clone(),
                    plan,
                    stats: MaskStats::default(),
                    skipped_rows: 0,
                    written: String::new(),
                };
                observer.table_done(&t);
                done.push(t);
                continue;
            }
        };
        let header = plan.output_columns();
        let (sink, written): (Box<dyn RowSink + Send>, String) = match dest {
            Destination::File(..) | Destination::Dir(..) => {
                let (path, fmt) = dest
                    .file_for(table, &source_paths)?
                    .expect("file and directory destinations name a file");
                let sink: Box<dyn RowSink + Send> = match fmt {
                    FileFormat::JsonLines => {
                        Box::new(JsonlSink::create(&path, &header, req.force)?)
                    }
                    _ => Box::new(CsvSink::create(&path, &header, req.force)?),
                };
                // Absolute, so that `unmask` can find this run's record from any directory.
                let written = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
                (sink, written.display().to_string())
            }
            Destination::Sqlite(db) => {
                let name = dest.table_name_for(table);
                (
                    Box::new(SqliteSink::create(db, &name, &header)?),
                    format!("{}#{}", db.display(), name),
                )
            }
            Destination::Database(url) => {
                let Some(factory) = req.database_sink else {
                    return Err(MaskError::Invalid(
                        "database destinations are not available here; give a file or directory"
                            .into(),
                    )
                    .into());
                };
                factory(url, &dest.table_name_for(table), &header, req.force)?
            }
        };
        observer.masking_started(table);
        let mut reader = source.open_table(table)?;
        let watermark = match (&req.watermark, keys.as_ref()) {
            (Some(wm), Some(_)) => Some(WatermarkRequest {
                recipient: wm.recipient,
                carriers: wm.carriers,
                registry: wm.registry,
                source: format!("{source_name}#{}", table.name),
                destination: written.clone(),
                when: crate::dates::now_rfc3339(),
            }),
            _ => None,
        };
        let outcome = {
            let mut count = 0u64;
            let obs = &mut *observer;
            let name = table.name.as_str();
            let skipped_row: SkippedRowHook = Box::new(move |e| {
                count += 1;
                obs.skipped_row(name, count, e);
            });
            let job = TableJob {
                table: &table.name,
                plan: &plan,
                keys: keys.as_ref(),
                redactor: &redactor,
                threads: req.threads,
                watermark,
            };
            // On a read error the job discards its output; the read error is the one to
            // report.
            mask_table_rows(job, reader.as_mut(), sink, Some(skipped_row)).map_err(|e| match e {
                JobError::Read { position, source } => MaskRunError::Read {
                    table: table.name.clone(),
                    position: position.to_string(),
                    source,
                },
                JobError::Hook(h) => MaskRunError::Hook(h),
                JobError::Mask(m) => MaskRunError::Mask(m),
            })?
        };
        let t = TableDone {
            table: table.clone(),
            plan,
            stats: outcome.stats,
            skipped_rows: outcome.skipped_rows,
            written,
        };
        observer.table_done(&t);
        done.push(t);
    }
    let record = (!req.dry_run).then(|| MaskLogRecord {
        event: "mask".into(),
        who: req.operator.to_string(),
        when: crate::dates::now_rfc3339(),
        source: source_name.clone(),
        destination: Some(
            done.iter()
                .map(|t| t.written.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        scenario: Some(scenario.id.clone()),
        ruleset_sm3: Some(req.rules.hash_hex()),
        rule_files: req.rules.files().to_vec(),
        key_fingerprint: keys.as_ref().map(|k| k.fingerprint()),
        recipient: req.watermark.as_ref().map(|w| w.recipient.to_string()),
        purpose: None,
        tables: done
            .iter()
            .map(|t| TableLog {
                table: t.table.name.clone(),
                rows: t.stats.rows,
                columns: t.stats.columns.clone(),
            })
            .collect(),
    });
    Ok(MaskSourceReport {
        source_name,
        tables: done,
        record,
        keyed: keys.is_some(),
    })
}

/// An observer that only keeps the fraction done (0..=1) of a masking run: bytes of the
/// masking passes over file tables when every table's size is known, else tables done.
/// Give [`MaskFraction::bytes_callback`] as the source's progress callback, and `&self`
/// as the observer.
#[derive(Debug, Default)]
pub struct MaskFraction {
    bytes_seen: Arc<AtomicU64>,
    total_bytes: AtomicU64,
    tables: AtomicUsize,
    tables_done: AtomicUsize,
    done_bytes: AtomicU64,
    base: AtomicU64,
    current_size: AtomicU64,
    masking: std::sync::atomic::AtomicBool,
}

impl MaskFraction {
    /// A fresh counter.
    pub fn new() -> MaskFraction {
        MaskFraction::default()
    }

    /// The source's progress callback (bytes read).
    pub fn bytes_callback(&self) -> ProgressFn {
        let seen = Arc::clone(&self.bytes_seen);
        Arc::new(move |n| {
            seen.fetch_add(n, Ordering::Relaxed);
        })
    }

    /// The fraction done, below 1 until the run is over (the caller says when it is).
    pub fn fraction(&self) -> f64 {
        let total = self.total_bytes.load(Ordering::Relaxed);
        let f = if total > 0 {
            let current = if self.masking.load(Ordering::Relaxed) {
                (self.bytes_seen.load(Ordering::Relaxed))
                    .saturating_sub(self.base.load(Ordering::Relaxed))
                    .min(self.current_size.load(Ordering::Relaxed))
            } else {
                0
            };
            (self.done_bytes.load(Ordering::Relaxed) + current) as f64 / total as f64
        } else {
            let n = self.tables.load(Ordering::Relaxed);
            if n == 0 {
                0.0
            } else {
                self.tables_done.load(Ordering::Relaxed) as f64 / n as f64
            }
        };
        f.clamp(0.0, 0.99)
    }
}

impl MaskObserver for &MaskFraction {
    fn tables_chosen(&mut self, tables: &[TableRef]) {
        self.tables.store(tables.len(), Ordering::Relaxed);
        let sizes: Option<u64> = tables.iter().map(|t| t.size_bytes).sum();
        self.total_bytes
            .store(sizes.unwrap_or(0), Ordering::Relaxed);
    }
    fn masking_started(&mut self, table: &TableRef) {
        self.base
            .store(self.bytes_seen.load(Ordering::Relaxed), Ordering::Relaxed);
        self.current_size
            .store(table.size_bytes.unwrap_or(0), Ordering::Relaxed);
        self.masking.store(true, Ordering::Relaxed);
    }
    fn table_done(&mut self, _done: &TableDone) {
        self.masking.store(false, Ordering::Relaxed);
        self.done_bytes.fetch_add(
            self.current_size.swap(0, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        self.tables_done.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RuleSet {
        load_rules(None).unwrap()
    }

    #[test]
    fn a_csv_is_masked_into_a_new_file_with_its_log_record_and_progress() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("people.csv");
        let mut text = String::from("name,mobile,city\n");
        for i in 0..200 {
            text.push_str(&format!("张{i},139{:08},信阳\n", i * 7919));
        }
        std::fs::write(&input, text).unwrap();
        let out = dir.path().join("people.masked.csv");
        let rules = rules();
        let profile = shuan_discover::load_profile("gbt43697").unwrap();
        let fraction = MaskFraction::new();
        let req = MaskSourceRequest {
            source_spec: input.to_str().unwrap(),
            source_options: SourceOptions {
                progress: Some(fraction.bytes_callback()),
                ..Default::default()
            },
            tables: &[],
            rules: &rules,
            scenario: rules.scenario("sharing").unwrap(),
            profile: &profile,
            sample: shuan_discover::DEFAULT_SAMPLE,
            out: Some(&out),
            dir_format: FileFormat::Csv,
            force: false,
            threads: Some(1),
            watermark: None,
            dry_run: false,
            database_sink: None,
            operator: "tester",
        };
        let keys = MaskKeys::from_master(&[7u8; 32]);
        let mut loader = |_create: bool| -> Result<Option<MaskKeys>, HookError> {
            Ok(Some(MaskKeys::from_master(&[7u8; 32])))
        };
        let mut obs = &fraction;
        let report = mask_source(&req, &mut loader, &mut obs).unwrap();
        let masked = std::fs::read_to_string(&out).unwrap();
        assert!(!masked.contains("13900007919"), "{masked}");
        assert_eq!(report.tables.len(), 1);
        assert_eq!(report.tables[0].stats.rows, 200);
        let record = report.record.unwrap();
        assert_eq!(record.who, "tester");
        assert_eq!(
            record.key_fingerprint.as_deref(),
            Some(keys.fingerprint().as_str())
        );
        let details = record.audit_details(None);
        assert_eq!(details["operator"], "tester");
        assert!(!details.contains_key("when"));
        // Progress counted the masking pass, never reaching 1 by itself.
        assert!(
            (0.9..1.0).contains(&fraction.fraction()),
            "{}",
            fraction.fraction()
        );
        // The output exists now: without force it is refused, the input never.
        assert!(mask_source(&req, &mut loader, &mut ()).is_err());
        let over_input = MaskSourceRequest {
            out: Some(&input),
            force: true,
            ..req
        };
        let e = mask_source(&over_input, &mut loader, &mut ()).unwrap_err();
        assert!(e.to_string().contains("is the source"), "{e}");
    }
}
