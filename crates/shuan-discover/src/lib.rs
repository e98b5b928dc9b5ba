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
