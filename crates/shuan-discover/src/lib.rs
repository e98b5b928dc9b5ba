//! Discovery (数据发现) for shuan: open a source, sample each table, classify each column
//! (`shuan-detect`) and grade columns and tables (`shuan-classify`) — the one pipeline
//! behind `shuan scan`, `shuan demo` and the column choice of `shuan mask`, so that
//! scanning and masking can never disagree about what a column holds. It owns the sample
//! rule (the first [`DEFAULT_SAMPLE`] non-blank values per column unless told otherwise),
//! the parallel per-table sampling, and the conversion of results into inventory records.
//! It must not write to a source, keep sampled values beyond grading one table, or decide
//! how anything is masked (that is `shuan-mask`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use shuan_classify::{ColumnGrade, GradedColumn, Profile, ProfileError, TableGrade};
use shuan_detect::{ColumnClassifier, DataType};
use shuan_source::{Source, SourceError, SourceOptions, TableRef, TableSample};

/// Non-blank values sampled per column unless the caller says otherwise: `shuan scan`'s
/// `--sample` default, and the sample `shuan mask` decides its columns by.
pub const DEFAULT_SAMPLE: usize = 1000;

/// One graded column.
#[derive(Debug, Clone)]
pub struct ColumnResult {
    /// Column name.
    pub name: String,
    /// Type declared by the source.
    pub declared_type: Option<String>,
    /// Detected type, if any.
    pub data_type: Option<DataType>,
    /// Detector confidence.
    pub confidence: f32,
    /// Why.
    pub reason: String,
    /// Values sampled.
    pub values_seen: u64,
    /// Values matching the type.
    pub values_matched: u64,
    /// Grade under the profile.
    pub grade: ColumnGrade,
}

/// One graded table.
#[derive(Debug, Clone)]
pub struct TableResult {
    /// Where the table lives (file path or password-free URL).
    pub source: String,
    /// Table name.
    pub table: String,
    /// Rows read.
    pub rows_scanned: u64,
    /// Rows in the table, when known.
    pub row_count: Option<u64>,
    /// Malformed rows skipped while reading.
    pub skipped_rows: u64,
    /// Graded columns.
    pub columns: Vec<ColumnResult>,
    /// Table grade.
    pub grade: TableGrade,
}

/// Everything one source gave.
#[derive(Debug)]
pub struct SourceResult {
    /// Password-free name of the source.
    pub source: String,
    /// Tables graded, in the source's order.
    pub tables: Vec<TableResult>,
    /// One line per table that could not be read, naming it: these make the scan fail.
    pub failures: Vec<String>,
    /// Files skipped on purpose (links not followed, nested too deep) and malformed rows
    /// skipped: reported, not failures. (A file that cannot be read is a failure.)
    pub warnings: Vec<String>,
}

/// How to scan.
#[derive(Clone)]
pub struct ScanSettings {
    /// The grading profile.
    pub profile: Arc<Profile>,
    /// Non-empty values sampled per column.
    pub sample: usize,
    /// Worker threads per source.
    pub jobs: usize,
    /// Source options (progress callback included).
    pub source_options: SourceOptions,
}

/// Called when a table is done (for the progress bar) with its name.
pub type TableDone<'a> = &'a (dyn Fn(&str) + Sync);

/// Opens and lists a source. Separate from [`scan_source`] so the caller can size a
/// progress bar from the table list first.
pub fn open_source(
    spec: &str,
    options: &SourceOptions,
) -> Result<(Box<dyn Source>, Vec<TableRef>), SourceError> {
    let mut source = shuan_source::open(spec, options)?;
    let tables = source.tables()?;
    Ok((source, tables))
}

/// Samples and grades every table of an opened source.
pub fn scan_source(
    spec: &str,
    mut source: Box<dyn Source>,
    tables: Vec<TableRef>,
    settings: &ScanSettings,
    on_table_done: TableDone<'_>,
) -> SourceResult {
    let display = source.display_name();
    // A file skipped on purpose (a link not followed) is a warning; one that could not
    // be read is a failure: its data was not inventoried.
    let mut warnings = Vec::new();
    let mut failures = Vec::new();
    for s in source.skipped() {
        if s.unreadable {
            failures.push(format!(
                "{}: cannot be read: {}",
                s.path.display(),
                s.reason
            ));
        } else {
            warnings.push(format!("{}: skipped: {}", s.path.display(), s.reason));
        }
    }
    let classifier = ColumnClassifier::new();
    type Slot = Option<Result<(TableResult, Vec<String>), String>>;
    let slots: Vec<Mutex<Slot>> = tables.iter().map(|_| Mutex::new(None)).collect();
    let jobs = settings.jobs.clamp(1, tables.len().max(1));
    let next = AtomicUsize::new(0);
    let work = |src: &mut dyn Source| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(table) = tables.get(i) else { break };
        let result = src
            .sample_table(table, settings.sample)
            .map_err(|e| {
                format!(
                    "{} ({}): {}",
                    table.name,
                    table.source,
                    shuan_source::error_chain(&e)
                )
            })
            .and_then(|sample| {
                let notes = sample_notes(&sample);
                // A bug in a detector must cost one table, not the whole scan.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    grade_sample(sample, &classifier, &settings.profile)
                }))
                .map(|graded| (graded, notes))
                .map_err(|_| {
                    format!(
                        "{} ({}): internal error while classifying (a bug: please report it with the column names)",
                        table.name, table.source
                    )
                })
            });
        on_table_done(&table.name);
        *slots[i].lock().expect("no panics while holding") = Some(result);
    };
    if jobs <= 1 {
        work(source.as_mut());
    } else {
        std::thread::scope(|scope| {
            for _ in 1..jobs {
                scope.spawn(
                    || match shuan_source::open(spec, &settings.source_options) {
                        Ok(mut own) => work(own.as_mut()),
                        // The main handle still drains the queue; a worker that cannot open
                        // its own handle (connection limit) just does not help.
                        Err(e) => tracing::debug!("extra scan worker not started: {e}"),
                    },
                );
            }
            work(source.as_mut());
        });
    }
    let mut out = Vec::with_capacity(tables.len());
    for slot in slots {
        match slot.into_inner().expect("no panics while holding") {
            Some(Ok((t, notes))) => {
                warnings.extend(notes);
                out.push(t)
            }
            Some(Err(e)) => failures.push(e),
            None => {}
        }
    }
    SourceResult {
        source: display,
        tables: out,
        failures,
        warnings,
    }
}

/// What a scan of several sources tells its caller as it goes: `shuan scan` draws its
/// progress bar and prints its warnings from it, the server keeps a job's progress.
/// Called from the scanning threads, hence `Send + Sync`; every method has a default
/// that does nothing.
pub trait ScanObserver: Send + Sync {
    /// Bytes read from file tables (called from the reading threads, often).
    fn bytes_read(&self, _n: u64) {}
    /// Source `index` (of the request) is open and listed; its tables come next.
    fn source_started(&self, _index: usize, _name: &str, _tables: &[TableRef]) {}
    /// One table is done, graded or failed.
    fn table_done(&self, _table: &str) {}
    /// Source `index` is done (or could not be opened).
    fn source_done(&self, _index: usize) {}
    /// A line for people: `warning: …` or `error: source …` (failures name the source
    /// and table; a database URL is shown without its password).
    fn message(&self, _line: &str) {}
}

/// An observer that only keeps the fraction done (0..=1) of a scan of `sources`
/// sources: bytes read of the current source's file tables when their sizes are known,
/// else tables done. Read it with [`ScanFraction::fraction`] (the server writes it into
/// the job's progress every so often).
#[derive(Debug)]
pub struct ScanFraction {
    sources: usize,
    current: AtomicUsize,
    bytes_total: std::sync::atomic::AtomicU64,
    bytes_done: std::sync::atomic::AtomicU64,
    tables_total: AtomicUsize,
    tables_done: AtomicUsize,
}

impl ScanFraction {
    /// For a scan of `sources` sources.
    pub fn new(sources: usize) -> ScanFraction {
        ScanFraction {
            sources: sources.max(1),
            current: AtomicUsize::new(0),
            bytes_total: Default::default(),
            bytes_done: Default::default(),
            tables_total: AtomicUsize::new(0),
            tables_done: AtomicUsize::new(0),
        }
    }

    /// The fraction done, 0..=1 (1 only once every source is done).
    pub fn fraction(&self) -> f64 {
        let current = self.current.load(Ordering::Relaxed).min(self.sources);
        let bytes_total = self.bytes_total.load(Ordering::Relaxed);
        let within = if current >= self.sources {
            0.0
        } else if bytes_total > 0 {
            self.bytes_done.load(Ordering::Relaxed) as f64 / bytes_total as f64
        } else {
            let total = self.tables_total.load(Ordering::Relaxed);
            if total == 0 {
                0.0
            } else {
                self.tables_done.load(Ordering::Relaxed) as f64 / total as f64
            }
        };
        // A scan reads each file to its end once and samples it: never report a source
        // done before it is.
        ((current as f64 + within.clamp(0.0, 0.99)) / self.sources as f64).clamp(0.0, 1.0)
    }
}

impl ScanObserver for ScanFraction {
    fn bytes_read(&self, n: u64) {
        self.bytes_done.fetch_add(n, Ordering::Relaxed);
    }
    fn source_started(&self, index: usize, _name: &str, tables: &[TableRef]) {
        self.bytes_done.store(0, Ordering::Relaxed);
        self.bytes_total.store(
            tables.iter().filter_map(|t| t.size_bytes).sum(),
            Ordering::Relaxed,
        );
        self.tables_done.store(0, Ordering::Relaxed);
        self.tables_total.store(tables.len(), Ordering::Relaxed);
        self.current.store(index, Ordering::Relaxed);
    }
    fn table_done(&self, _table: &str) {
        self.tables_done.fetch_add(1, Ordering::Relaxed);
    }
    fn source_done(&self, index: usize) {
        self.current.fetch_max(index + 1, Ordering::Relaxed);
        self.bytes_total.store(0, Ordering::Relaxed);
        self.tables_total.store(0, Ordering::Relaxed);
    }
}

/// The results of [`scan_all`].
#[derive(Debug)]
pub struct ScanOutcome {
    /// One per source that could be opened, in request order.
    pub results: Vec<SourceResult>,
    /// Some source or table failed (each failure was told to the observer).
    pub failed: bool,
}

/// Scans each source in turn (the use case of `shuan scan` and of the server's scan
/// jobs): opens and lists it, samples and grades its tables, and tells `observer` what
/// happens, failures included, one line each. `settings.source_options.progress`, if
/// set, still gets the bytes read.
pub fn scan_all(
    specs: &[String],
    settings: &ScanSettings,
    observer: Arc<dyn ScanObserver>,
) -> ScanOutcome {
    let mut settings = settings.clone();
    let earlier = settings.source_options.progress.take();
    let bytes = Arc::clone(&observer);
    settings.source_options.progress = Some(Arc::new(move |n| {
        if let Some(f) = &earlier {
            f(n);
        }
        bytes.bytes_read(n);
    }));
    let mut results = Vec::new();
    let mut failed = false;
    for (index, spec) in specs.iter().enumerate() {
        let safe = shuan_source::redact_url(spec);
        let (source, tables) = match open_source(spec, &settings.source_options) {
            Ok(x) => x,
            Err(e) => {
                observer.message(&format!("error: source {safe}: {e}"));
                observer.source_done(index);
                failed = true;
                continue;
            }
        };
        observer.source_started(index, &source.display_name(), &tables);
        let done = |name: &str| observer.table_done(name);
        let result = scan_source(spec, source, tables, &settings, &done);
        for w in &result.warnings {
            observer.message(&format!("warning: {w}"));
        }
        for f in &result.failures {
            observer.message(&format!("error: source {}: table {f}", result.source));
            failed = true;
        }
        observer.source_done(index);
        results.push(result);
    }
    ScanOutcome { results, failed }
}

/// What the audit record of a saved scan says about one source's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanSummary {
    /// Grading profile.
    pub profile: String,
    /// Tables graded.
    pub tables: usize,
    /// Rows read.
    pub rows_scanned: u64,
    /// Columns holding a detected type.
    pub sensitive_columns: usize,
    /// The highest table level's name.
    pub highest_level: Option<String>,
    /// Tables that could not be read.
    pub failures: usize,
}

impl ScanSummary {
    /// The summary of `result` graded under `profile`.
    pub fn of(result: &SourceResult, profile: &Profile) -> ScanSummary {
        ScanSummary {
            profile: profile.name().to_string(),
            tables: result.tables.len(),
            rows_scanned: result.tables.iter().map(|t| t.rows_scanned).sum(),
            sensitive_columns: result
                .tables
                .iter()
                .flat_map(|t| &t.columns)
                .filter(|c| c.data_type.is_some())
                .count(),
            highest_level: result
                .tables
                .iter()
                .map(|t| t.grade.level)
                .max()
                .map(|l| profile.level(l).name.clone()),
            failures: result.failures.len(),
        }
    }
}

/// Saves one source's result in the inventory (`--save`): one scan, its tables and
/// columns, no values; answers the scan id.
pub fn save_result(
    store: &mut shuan_store::Store,
    result: &SourceResult,
    settings: &ScanSettings,
) -> Result<i64, shuan_store::StoreError> {
    store.record_scan(&to_record(result, &settings.profile, settings.sample))
}

fn sample_notes(sample: &TableSample) -> Vec<String> {
    if sample.skipped_rows == 0 {
        return Vec::new();
    }
    let mut notes = vec![format!(
        "{} ({}): {} malformed row(s) skipped",
        sample.table.name, sample.table.source, sample.skipped_rows
    )];
    notes.extend(sample.warnings.iter().take(3).map(|w| format!("  {w}")));
    notes
}

/// Classifies and grades one table sample. Values are dropped when this returns.
pub fn grade_sample(
    sample: TableSample,
    classifier: &ColumnClassifier,
    profile: &Profile,
) -> TableResult {
    let mut columns = Vec::with_capacity(sample.columns.len());
    for col in &sample.columns {
        let verdict = classifier.classify(&col.name, col.values.iter().map(String::as_str));
        let grade = profile.grade_column(verdict.data_type.map(DataType::id));
        columns.push(ColumnResult {
            name: col.name.clone(),
            declared_type: col.declared_type.clone(),
            data_type: verdict.data_type,
            confidence: verdict.confidence,
            reason: verdict.reason,
            values_seen: verdict.values_seen as u64,
            values_matched: verdict.values_matched as u64,
            grade,
        });
    }
    let rows = sample.row_count.unwrap_or(sample.rows_scanned);
    let graded: Vec<GradedColumn<'_>> = columns
        .iter()
        .map(|c| GradedColumn {
            name: &c.name,
            grade: &c.grade,
        })
        .collect();
    let grade = profile.grade_table(&graded, rows);
    TableResult {
        source: sample.table.source.clone(),
        table: sample.table.name.clone(),
        rows_scanned: sample.rows_scanned,
        row_count: sample.row_count,
        skipped_rows: sample.skipped_rows,
        columns,
        grade,
    }
}

/// Converts a source's results into an inventory record (names, types, levels — no values).
pub fn to_record(
    result: &SourceResult,
    profile: &Profile,
    sample: usize,
) -> shuan_store::ScanRecord {
    let mut seen = std::collections::HashMap::<&str, usize>::new();
    for t in &result.tables {
        *seen.entry(t.table.as_str()).or_default() += 1;
    }
    let tables = result
        .tables
        .iter()
        .map(|t| {
            // Two files of one directory may share a stem: keep them apart by path.
            let name = if seen[t.table.as_str()] > 1 {
                format!("{} ({})", t.table, t.source)
            } else {
                t.table.clone()
            };
            let level = profile.level(t.grade.level);
            shuan_store::TableRecord {
                name,
                rows_scanned: t.rows_scanned,
                row_count: t.row_count,
                level: level.name.clone(),
                level_rank: u32::from(t.grade.level.0),
                catalogue: level.catalogue,
                reason: t.grade.reasons.join("；"),
                columns: t
                    .columns
                    .iter()
                    .map(|c| shuan_store::ColumnRecord {
                        name: c.name.clone(),
                        declared_type: c.declared_type.clone(),
                        data_type: c.data_type.map(|d| d.id().to_string()),
                        label: c.data_type.map(|d| d.label().to_string()),
                        category: c.grade.category.map(|k| k.id.to_string()),
                        level: profile.level(c.grade.level).name.clone(),
                        level_rank: u32::from(c.grade.level.0),
                        confidence: f64::from(c.confidence),
                        reason: c.reason.clone(),
                        values_seen: c.values_seen,
                        values_matched: c.values_matched,
                    })
                    .collect(),
            }
        })
        .collect();
    shuan_store::ScanRecord {
        source: result.source.clone(),
        profile: profile.name().to_string(),
        sample_size: sample as u64,
        tables,
    }
}

/// Loads a profile by built-in name or file, checked against the detector's type ids.
pub fn load_profile(spec: &str) -> Result<Profile, ProfileError> {
    let profile = Profile::load(spec)?;
    let ids: Vec<&str> = DataType::all().iter().map(|d| d.id()).collect();
    profile.check_type_ids(&ids)?;
    Ok(profile)
}

/// Discovers one table for masking: the same sample rule, classifier and grading as
/// [`scan_source`], so a column `shuan scan` grades as an identifier is one masking sees
/// as that identifier. Unlike a scan it stops reading a file as soon as every column has
/// `sample` values (masking reads the whole table again anyway; a scan reads to the end
/// for the exact row count), so `rows_scanned` is the rows read for the sample and
/// `row_count` may be `None`. A `sample` of 0 is an error: it would grade every column
/// as holding nothing.
pub fn discover_table(
    source: &mut dyn Source,
    table: &TableRef,
    sample: usize,
    classifier: &ColumnClassifier,
    profile: &Profile,
) -> Result<TableResult, DiscoverError> {
    if sample == 0 {
        return Err(DiscoverError::EmptySample);
    }
    let taken = if table.path.is_some() {
        let mut reader = source.open_table(table)?;
        shuan_source::sample_rows(table, reader.as_mut(), sample, false)?
    } else {
        // Database tables: the source pushes a LIMIT down instead of streaming the table.
        source.sample_table(table, sample)?
    };
    Ok(grade_sample(taken, classifier, profile))
}

/// Why [`discover_table`] failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The table could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A sample of zero values.
    #[error("a sample of 0 values per column cannot discover anything; give at least 1 (the default is {DEFAULT_SAMPLE}, as for `shuan scan`)")]
    EmptySample,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(sample: usize) -> ScanSettings {
        ScanSettings {
            profile: Arc::new(load_profile("gbt43697").unwrap()),
            sample,
            jobs: 1,
            source_options: SourceOptions::default(),
        }
    }

    struct Lines(Mutex<Vec<String>>, ScanFraction);

    impl ScanObserver for Lines {
        fn bytes_read(&self, n: u64) {
            self.1.bytes_read(n);
        }
        fn source_started(&self, index: usize, name: &str, tables: &[TableRef]) {
            self.1.source_started(index, name, tables);
        }
        fn table_done(&self, table: &str) {
            self.1.table_done(table);
        }
        fn source_done(&self, index: usize) {
            self.1.source_done(index);
        }
        fn message(&self, line: &str) {
            self.0.lock().unwrap().push(line.to_string());
        }
    }

    /// Two sources, one missing: the scan goes on, says why the missing one failed
    /// (without a password), and the fraction ends at 1.
    #[test]
    fn scan_all_reports_failures_and_its_fraction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "n,mobile\n1,13912345678\n2,13812345678\n").unwrap();
        let specs = vec![
            path.display().to_string(),
            "sqlite:///no/such/dir/secret.db".to_string(),
        ];
        let observer = Arc::new(Lines(Mutex::new(Vec::new()), ScanFraction::new(2)));
        assert_eq!(observer.1.fraction(), 0.0);
        let outcome = scan_all(
            &specs,
            &settings(100),
            Arc::clone(&observer) as Arc<dyn ScanObserver>,
        );
        assert!(outcome.failed);
        assert_eq!(outcome.results.len(), 1);
        assert_eq!(observer.1.fraction(), 1.0);
        let lines = observer.0.lock().unwrap();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("error: source sqlite:///no/such")),
            "{lines:?}"
        );
        let summary = ScanSummary::of(&outcome.results[0], &settings(1).profile);
        assert_eq!(summary.tables, 1);
        assert_eq!(summary.sensitive_columns, 1);
        assert_eq!(summary.rows_scanned, 2);
        let mut store = shuan_store::Store::open(dir.path()).unwrap();
        assert!(save_result(&mut store, &outcome.results[0], &settings(100)).unwrap() > 0);
    }

    /// Mobile numbers after 300 placeholder values: a scan and a masking discovery with
    /// the same sample see the same column.
    #[test]
    fn masking_discovery_agrees_with_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = String::from("n,contact\n");
        for i in 0..2000 {
            let v = if i < 300 {
                "无".to_string()
            } else {
                format!("139{:08}", i * 7919 % 100_000_000)
            };
            text.push_str(&format!("{i},{v}\n"));
        }
        std::fs::write(&path, text).unwrap();
        let spec = path.to_str().unwrap();
        let s = settings(DEFAULT_SAMPLE);
        let (source, tables) = open_source(spec, &s.source_options).unwrap();
        let scanned = scan_source(spec, source, tables.clone(), &s, &|_| {});
        let (mut source, _) = open_source(spec, &s.source_options).unwrap();
        let classifier = ColumnClassifier::new();
        let found = discover_table(
            source.as_mut(),
            &tables[0],
            DEFAULT_SAMPLE,
            &classifier,
            &s.profile,
        )
        .unwrap();
        let types = |t: &TableResult| t.columns.iter().map(|c| c.data_type).collect::<Vec<_>>();
        assert_eq!(types(&found), types(&scanned.tables[0]));
        assert_eq!(found.columns[1].data_type, Some(DataType::CnMobile));
        assert_eq!(
            found.columns[1].values_seen,
            scanned.tables[0].columns[1].values_seen
        );
        // It stopped reading once every column had its sample.
        assert!(found.rows_scanned < 2000);
        assert!(matches!(
            discover_table(source.as_mut(), &tables[0], 0, &classifier, &s.profile),
            Err(DiscoverError::EmptySample)
        ));
    }
}
