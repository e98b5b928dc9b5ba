//! Masking the rows of one table into a sink, watermark included: the use case behind
//! each table of `shuan mask`, as one call with a request struct for the CLI and a
//! server alike. The caller has planned the table ([`crate::plan::plan_table`]) and built
//! the sink; this builds the masker, chooses the watermark carriers on the first masked
//! rows, records the extract in the watermark registry and streams the rows
//! ([`crate::job::run`]).

use shuan_source::RowReader;

use crate::error::MaskError;
use crate::job::{
    FirstBatchHook, JobError, JobHooks, JobOutcome, MaskPlan, Masker, ResidualRedactor,
    SkippedRowHook,
};
use crate::key::MaskKeys;
use crate::sink::RowSink;
use crate::watermark::{choose_carriers, Embedder, Registry, WatermarkEntry};

/// A leak-tracing watermark to embed for one recipient.
pub struct WatermarkRequest<'a> {
    /// The named recipient (接收方).
    pub recipient: &'a str,
    /// Carrier columns; empty: chosen automatically ([`choose_carriers`]).
    pub carriers: &'a [String],
    /// Where the extract is registered for detection.
    pub registry: &'a Registry,
    /// The source as registered (`source#table`).
    pub source: String,
    /// The destination as registered.
    pub destination: String,
    /// Time of the registration (RFC 3339).
    pub when: String,
}

/// Everything masking one table needs besides its rows and its sink.
pub struct TableJob<'a> {
    /// Table name, for messages.
    pub table: &'a str,
    /// The per-column plan.
    pub plan: &'a MaskPlan,
    /// The masking key, when the plan or the watermark needs one.
    pub keys: Option<&'a MaskKeys>,
    /// The residual scan, used when the plan asks for it.
    pub redactor: &'a dyn ResidualRedactor,
    /// Worker threads (default: available cores, at most 8).
    pub threads: Option<usize>,
    /// A watermark to embed, if any.
    pub watermark: Option<WatermarkRequest<'a>>,
}

/// Masks every row of `reader` into `sink` (dropped unfinished on any error, so no
/// output appears). `skipped_row` sees each malformed row the reader skipped.
pub fn mask_table_rows(
    job: TableJob<'_>,
    reader: &mut dyn RowReader,
    sink: Box<dyn RowSink + Send + '_>,
    skipped_row: Option<SkippedRowHook<'_>>,
) -> Result<JobOutcome, JobError> {
    let TableJob {
        table,
        plan,
        keys,
        redactor,
        threads,
        watermark,
    } = job;
    let mut masker = Masker::new(plan, keys, plan.residual_scan.then_some(redactor))?;
    if let Some(t) = threads {
        masker = masker.with_threads(t);
    }
    let first_batch: Option<FirstBatchHook> = match watermark {
        None => None,
        Some(wm) => {
            let keys = keys.ok_or_else(|| {
                MaskError::KeyRequired(format!("a watermark for {}", wm.recipient))
            })?;
            let header = plan.output_columns();
            // Carriers are chosen on the first masked rows, in output column order.
            Some(Box::new(move |batch: &[Vec<Option<String>>]| {
                let carriers = if wm.carriers.is_empty() {
                    choose_carriers(plan, batch)
                } else {
                    wm.carriers.to_vec()
                };
                if carriers.is_empty() {
                    return Err(MaskError::Invalid(format!(
                        "no numeric column to carry the watermark in {table}; name one with --watermark-columns"
                    ))
                    .into());
                }
                let embedder =
                    Embedder::new(keys, wm.recipient, &header, &carriers).ok_or_else(|| {
                        MaskError::Invalid(format!(
                            "watermark columns {} not all in the output of {table} (columns: {})",
                            carriers.join(","),
                            header.join(",")
                        ))
                    })?;
                wm.registry.append(&WatermarkEntry {
                    recipient: wm.recipient.to_string(),
                    carriers: carriers.clone(),
                    key_columns: embedder.key_column_names(&header),
                    key_fingerprint: keys.fingerprint(),
                    when: wm.when.clone(),
                    source: wm.source.clone(),
                    destination: wm.destination.clone(),
                })?;
                Ok(Some(embedder))
            }))
        }
    };
    crate::job::run(
        reader,
        masker,
        sink,
        JobHooks {
            first_batch,
            skipped_row,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::TextRedactor;
    use crate::rules::{ColumnInfo, RuleSet};
    use crate::sink::CsvSink;

    fn run(dir: &std::path::Path, carriers: &[String], out: &str) -> Result<JobOutcome, JobError> {
        let src = dir.join("t.csv");
        let mut text = String::from("id,amount,note\n");
        for i in 0..300 {
            text.push_str(&format!("{i},{}.{:02},材料齐全\n", 1000 + i * 7, i % 100));
        }
        std::fs::write(&src, text).unwrap();
        let mut source = shuan_source::open(src.to_str().unwrap(), &Default::default()).unwrap();
        let tables = source.tables().unwrap();
        let rs = RuleSet::builtin(&|_| true).unwrap();
        let infos = ["id", "amount", "note"]
            .iter()
            .map(|n| ColumnInfo {
                name: n.to_string(),
                ..Default::default()
            })
            .collect();
        let plan = MaskPlan::build(rs.scenario("sharing").unwrap(), infos).unwrap();
        let keys = MaskKeys::from_master(&[9u8; 32]);
        let registry = Registry::in_dir(dir);
        let redactor = TextRedactor::new();
        let dest = dir.join(out);
        let sink = Box::new(CsvSink::create(&dest, &plan.output_columns(), true).unwrap());
        let mut reader = source.open_table(&tables[0]).unwrap();
        mask_table_rows(
            TableJob {
                table: "t",
                plan: &plan,
                keys: Some(&keys),
                redactor: &redactor,
                threads: Some(2),
                watermark: Some(WatermarkRequest {
                    recipient: "市卫健委",
                    carriers,
                    registry: &registry,
                    source: "t.csv#t".into(),
                    destination: dest.display().to_string(),
                    when: "2026-12-03T09:00:00Z".into(),
                }),
            },
            reader.as_mut(),
            sink,
            None,
        )
    }

    /// The carrier is chosen on the masked rows and the extract registered; a named
    /// carrier that is not in the output fails the job, registering nothing.
    #[test]
    fn a_watermarked_table_is_registered_once_with_its_carrier() {
        let dir = tempfile::tempdir().unwrap();
        let done = run(dir.path(), &[], "a.csv").unwrap();
        assert_eq!(done.stats.rows, 300);
        let entries = Registry::in_dir(dir.path()).read().unwrap();
        assert_eq!(entries.len(), 1);
        // (the numeric id qualifies too; the text column does not)
        assert_eq!(entries[0].carriers, ["id", "amount"]);
        assert_eq!(entries[0].recipient, "市卫健委");
        assert!(run(dir.path(), &["missing".to_string()], "b.csv").is_err());
        assert!(!dir.path().join("b.csv").exists());
        assert_eq!(Registry::in_dir(dir.path()).read().unwrap().len(), 1);
    }
}
