//! Static masking (静态脱敏): a per-column plan built from a scenario, applied row by row
//! (in parallel batches), with counts for the masking log.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

use serde::Serialize;
use shuan_source::{RowPosition, RowReader, SourceError};

use crate::error::{MaskError, Result};
use crate::key::MaskKeys;
use crate::ops::{ApplyCtx, Operator};
use crate::rules::{Choice, ColumnInfo, Scenario};
use crate::sink::{RowEncoder, RowSink};
use crate::watermark::Embedder;

/// Finds identifiers left in free text and replaces them (by their type tag). Supplied by
/// the caller (normally backed by `shuan-detect`'s text scanner) for scenarios with
/// `residual_scan = true`.
pub trait ResidualRedactor: Sync {
    /// `Some(redacted)` when `text` contained an identifier, else `None`.
    fn redact(&self, text: &str) -> Option<String>;
}

/// What happens to one column.
#[derive(Clone, Debug)]
pub struct ColumnPlan {
    /// The column.
    pub info: ColumnInfo,
    /// The operator and the rule that chose it.
    pub choice: Choice,
    /// Index of the entity column for date shifts.
    pub entity: Option<usize>,
}

/// The per-column plan of one table.
#[derive(Clone, Debug)]
pub struct MaskPlan {
    /// One entry per source column, in source order.
    pub columns: Vec<ColumnPlan>,
    /// Re-scan kept text values (scenario `residual_scan`).
    pub residual_scan: bool,
}

impl MaskPlan {
    /// Choose an operator for every column.
    pub fn build(scenario: &Scenario, columns: Vec<ColumnInfo>) -> Result<Self> {
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let mut out = Vec::with_capacity(columns.len());
        for info in columns {
            let choice = scenario.choose(&info);
            let entity = match &choice.operator {
                Operator::DateShift { entity: Some(e), .. } => Some(
                    names.iter().position(|n| n == e).ok_or_else(|| {
                        MaskError::Invalid(format!(
                            "rule {} shifts dates per entity column `{e}`, but table has no such column (columns: {})",
                            choice.reason,
                            names.join(", ")
                        ))
                    })?,
                ),
                _ => None,
            };
            out.push(ColumnPlan {
                info,
                choice,
                entity,
            });
        }
        Ok(MaskPlan {
            columns: out,
            residual_scan: scenario.residual_scan,
        })
    }

    /// Names of the output columns (suppressed columns removed).
    pub fn output_columns(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.choice.operator != Operator::Suppress)
            .map(|c| c.info.name.clone())
            .collect()
    }

    /// True when some operator needs the masking key.
    pub fn needs_key(&self) -> bool {
        self.columns.iter().any(|c| c.choice.operator.needs_key())
    }
}

/// Counts of one column, for the log and the summary.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ColumnStats {
    /// Column name.
    pub column: String,
    /// Detected data type id.
    pub data_type: Option<String>,
    /// Operator applied.
    pub operator: String,
    /// Rule that chose it (`file:line` or `unmatched`).
    pub rule: String,
    /// Values changed by the operator.
    pub masked: u64,
    /// Values the operator could not process (replaced by mask characters).
    pub failed: u64,
    /// Values in which the residual scan found and replaced an identifier.
    pub residual_redactions: u64,
}

/// Counts of a masking run over one table.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct MaskStats {
    /// Rows written.
    pub rows: u64,
    /// Per-column counts, in source order.
    pub columns: Vec<ColumnStats>,
}

impl MaskStats {
    fn for_plan(plan: &MaskPlan) -> Self {
        MaskStats {
            rows: 0,
            columns: plan
                .columns
                .iter()
                .map(|c| ColumnStats {
                    column: c.info.name.clone(),
                    data_type: c.info.data_type.clone(),
                    operator: c.choice.operator.name().to_string(),
                    rule: c.choice.reason.clone(),
                    ..Default::default()
                })
                .collect(),
        }
    }

    fn merge(&mut self, other: &MaskStats) {
        self.rows += other.rows;
        for (a, b) in self.columns.iter_mut().zip(&other.columns) {
            a.masked += b.masked;
            a.failed += b.failed;
            a.residual_redactions += b.residual_redactions;
        }
    }
}

/// Applies a plan to rows.
pub struct Masker<'a> {
    plan: &'a MaskPlan,
    keys: Option<&'a MaskKeys>,
    residual: Option<&'a dyn ResidualRedactor>,
    stats: MaskStats,
    threads: usize,
}

/// Rows handed to worker threads at once.
///
/// Small on purpose: a batch (rows, their strings, the encoded bytes) should stay in
/// cache while it passes from the reading thread to a worker and out. On the 200 MB
/// benchmark, 256 rows took 1.8 CPU seconds where 4096 took 2.9 (cache misses on
/// recycled rows), for a few thousand more channel hand-offs.
pub const BATCH_ROWS: usize = 256;

impl<'a> Masker<'a> {
    /// A masker; fails early when the plan needs a key and none is given, or when the
    /// scenario asks for a residual scan and no scanner is given.
    pub fn new(
        plan: &'a MaskPlan,
        keys: Option<&'a MaskKeys>,
        residual: Option<&'a dyn ResidualRedactor>,
    ) -> Result<Self> {
        if plan.needs_key() && keys.is_none() {
            let ops: Vec<&str> = plan
                .columns
                .iter()
                .filter(|c| c.choice.operator.needs_key())
                .map(|c| c.choice.operator.name())
                .collect();
            return Err(MaskError::KeyRequired(format!(
                "operators {}",
                ops.join(", ")
            )));
        }
        if plan.residual_scan && residual.is_none() {
            return Err(MaskError::Invalid(
                "scenario requires a residual scan but no scanner was supplied".into(),
            ));
        }
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(8);
        Ok(Masker {
            plan,
            keys,
            residual,
            stats: MaskStats::for_plan(plan),
            threads,
        })
    }

    /// Worker threads used by [`Masker::mask_batch`] (1 = in the calling thread).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Counts so far.
    pub fn stats(&self) -> &MaskStats {
        &self.stats
    }

    /// Mask one row in place; suppressed columns are removed.
    /// (Hashes one value at a time, without the batch precomputation: the reference
    /// the batch paths are tested against.)
    pub fn mask_row(&mut self, row: &mut Vec<Option<String>>, row_no: u64) {
        let mut stats = std::mem::take(&mut self.stats);
        let mut scratch = Scratch::default();
        mask_one(
            self.plan,
            self.keys,
            self.residual,
            row,
            row_no,
            &mut stats,
            &mut scratch,
        );
        self.stats = stats;
    }

    /// Mask rows numbered from `first_row` in the calling thread, into `self.stats`.
    fn mask_in_this_thread(&mut self, rows: &mut [Vec<Option<String>>], first_row: u64) {
        let mut stats = std::mem::take(&mut self.stats);
        let mut scratch = Scratch::default();
        self.mask_rows(rows, first_row, &mut stats, &mut scratch);
        self.stats = stats;
    }

    /// Mask a batch of rows (numbered from `first_row`) using the worker threads.
    pub fn mask_batch(&mut self, rows: &mut [Vec<Option<String>>], first_row: u64) {
        if self.threads <= 1 || rows.len() < 256 {
            self.mask_in_this_thread(rows, first_row);
            return;
        }
        let chunk = rows.len().div_ceil(self.threads);
        let (plan, keys, residual) = (self.plan, self.keys, self.residual);
        let partials: Vec<MaskStats> = std::thread::scope(|s| {
            let handles: Vec<_> = rows
                .chunks_mut(chunk)
                .enumerate()
                .map(|(ci, part)| {
                    s.spawn(move || {
                        let mut st = MaskStats::for_plan(plan);
                        let base = first_row + (ci * chunk) as u64;
                        let mut scratch = Scratch::default();
                        mask_rows(plan, keys, residual, part, base, &mut st, &mut scratch);
                        st
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("masking worker never panics"))
                .collect()
        });
        for p in &partials {
            self.stats.merge(p);
        }
    }

    /// Final counts.
    pub fn finish(self) -> MaskStats {
        self.stats
    }
}

impl Masker<'_> {
    /// Mask rows numbered from `first_row` in the calling thread, counting into `stats`.
    fn mask_rows(
        &self,
        rows: &mut [Vec<Option<String>>],
        first_row: u64,
        stats: &mut MaskStats,
        scratch: &mut Scratch,
    ) {
        mask_rows(
            self.plan,
            self.keys,
            self.residual,
            rows,
            first_row,
            stats,
            scratch,
        );
    }
}

/// Mask rows numbered from `first_row`: the keyed hashes of every pseudonymized column
/// are computed for the whole batch first (side by side, [`MaskKeys::pseudonym_macs`]),
/// then each row is masked.
fn mask_rows(
    plan: &MaskPlan,
    keys: Option<&MaskKeys>,
    residual: Option<&dyn ResidualRedactor>,
    rows: &mut [Vec<Option<String>>],
    first_row: u64,
    stats: &mut MaskStats,
    scratch: &mut Scratch,
) {
    precompute_pseudonyms(plan, keys, rows, scratch);
    for (i, row) in rows.iter_mut().enumerate() {
        mask_one(
            plan,
            keys,
            residual,
            row,
            first_row + i as u64,
            stats,
            scratch,
        );
    }
}

/// Fills `scratch.tags[i]` with the pseudonym hash of every value that [`mask_one`] will
/// pseudonymize in column `i`, in row order: exactly the present, non-empty values (the
/// same test `mask_one` applies before calling an operator).
fn precompute_pseudonyms(
    plan: &MaskPlan,
    keys: Option<&MaskKeys>,
    rows: &[Vec<Option<String>>],
    scratch: &mut Scratch,
) {
    let n = plan.columns.len();
    scratch.tags.resize_with(n, Vec::new);
    scratch.tag_next.clear();
    scratch.tag_next.resize(n, 0);
    for (i, col) in plan.columns.iter().enumerate() {
        let tags = &mut scratch.tags[i];
        match (&col.choice.operator, keys) {
            (Operator::Pseudonym { namespace, .. }, Some(keys)) => keys.pseudonym_macs(
                namespace.as_bytes(),
                rows.iter()
                    .filter_map(|r| r.get(i)?.as_deref())
                    .filter(|v| !v.is_empty())
                    .map(str::as_bytes),
                tags,
            ),
            _ => tags.clear(),
        }
    }
}

/// An error returned by a caller's hook, passed through by [`run`].
pub type HookError = Box<dyn std::error::Error + Send + Sync>;

/// Called once with the first masked batch (output columns, suppressed ones removed)
/// before anything is written; returns the watermark embedder for every row, if any.
pub type FirstBatchHook<'h, 'k> =
    Box<dyn FnOnce(&[Vec<Option<String>>]) -> Result<Option<Embedder<'k>>, HookError> + Send + 'h>;

/// Called for every malformed row the reader skipped (row errors), in source order.
pub type SkippedRowHook<'h> = Box<dyn FnMut(&SourceError) + 'h>;

/// What the caller plugs into [`run`].
#[derive(Default)]
pub struct JobHooks<'h, 'k> {
    /// See [`FirstBatchHook`] (watermarking chooses its carriers on masked rows).
    pub first_batch: Option<FirstBatchHook<'h, 'k>>,
    /// See [`SkippedRowHook`].
    pub skipped_row: Option<SkippedRowHook<'h>>,
}

/// Why a masking job stopped. The sink is dropped unfinished, so no output appears.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Reading the source failed (not a skippable row error).
    #[error("at {position}")]
    Read {
        /// Where the reader was.
        position: RowPosition,
        /// What failed.
        #[source]
        source: SourceError,
    },
    /// Writing the output failed.
    #[error(transparent)]
    Mask(#[from] MaskError),
    /// The first-batch hook failed.
    #[error("{0}")]
    Hook(HookError),
}

/// Counts of a finished job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobOutcome {
    /// Per-column counts.
    pub stats: MaskStats,
    /// Malformed rows skipped.
    pub skipped_rows: u64,
}

/// A batch on its way from the reader to the writer.
struct Batch {
    seq: u64,
    first_row: u64,
    rows: Vec<Vec<Option<String>>>,
    len: usize,
    encoded: Vec<u8>,
}

/// The ordered writing end, shared by the workers.
struct WriteState<'s, 'h, 'k> {
    sink: Option<Box<dyn RowSink + Send + 's>>,
    next_seq: u64,
    first_batch: Option<FirstBatchHook<'h, 'k>>,
    embedder: Option<Embedder<'k>>,
    error: Option<JobError>,
}

/// Stream every row of `reader` through `masker` into `sink`, then finish the sink.
///
/// The calling thread reads batches of [`BATCH_ROWS`] rows into recycled buffers
/// ([`RowReader::next_row_into`]); the masker's worker threads mask a batch each and,
/// when the sink has an encoder and no watermark is embedded, serialise it too; batches
/// are appended in source order. Memory stays bounded: at most six batches of
/// [`BATCH_ROWS`] rows per worker are alive (four queued, one masked, one written). On any error the sink is dropped without `finish`, so no partial output
/// is left behind.
pub fn run<'k>(
    reader: &mut dyn RowReader,
    masker: Masker<'k>,
    sink: Box<dyn RowSink + Send + '_>,
    hooks: JobHooks<'_, 'k>,
) -> Result<JobOutcome, JobError> {
    let JobHooks {
        first_batch,
        mut skipped_row,
    } = hooks;
    let workers = masker.threads.max(1);
    // Serialising in the workers is only right when the rows are final once masked.
    let encode_in_workers = first_batch.is_none() && sink.encoder().is_some();
    let state = Mutex::new(WriteState {
        sink: Some(sink),
        next_seq: 0,
        first_batch,
        embedder: None,
        error: None,
    });
    let turn = Condvar::new();
    let (work_tx, work_rx) = mpsc::sync_channel::<Batch>(4 * workers);
    let work_rx = Mutex::new(work_rx);
    let (free_tx, free_rx) = mpsc::channel::<Batch>();
    let failed = AtomicBool::new(false);
    let masker_ref = &masker;

    let (read, partials) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (state, turn, work_rx, free_tx, failed) =
                    (&state, &turn, &work_rx, free_tx.clone(), &failed);
                let encoder = if encode_in_workers {
                    state
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .sink
                        .as_ref()
                        .and_then(|s| s.encoder())
                } else {
                    None
                };
                scope.spawn(move || {
                    worker(masker_ref, state, turn, work_rx, free_tx, failed, encoder)
                })
            })
            .collect();
        drop(free_tx);
        let read = read_batches(reader, &work_tx, &free_rx, &failed, &mut skipped_row);
        drop(work_tx);
        let partials: Vec<MaskStats> = handles
            .into_iter()
            .map(|h| h.join().expect("masking workers do not panic"))
            .collect();
        (read, partials)
    });
    let skipped_rows = read?;
    let state = state.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = state.error {
        return Err(e);
    }
    if let Some(sink) = state.sink {
        sink.finish()?;
    }
    let mut stats = MaskStats::for_plan(masker.plan);
    for p in &partials {
        stats.merge(p);
    }
    Ok(JobOutcome {
        stats,
        skipped_rows,
    })
}

/// The reading loop of [`run`]: fills batches and hands them to the workers.
fn read_batches(
    reader: &mut dyn RowReader,
    work_tx: &mpsc::SyncSender<Batch>,
    free_rx: &mpsc::Receiver<Batch>,
    failed: &AtomicBool,
    skipped_row: &mut Option<SkippedRowHook<'_>>,
) -> Result<u64, JobError> {
    let mut seq = 0u64;
    let mut row_no = 0u64;
    let mut skipped = 0u64;
    loop {
        if failed.load(Ordering::Relaxed) {
            // A worker failed; its error is the one reported.
            return Ok(skipped);
        }
        let mut batch = free_rx.try_recv().unwrap_or_else(|_| Batch {
            seq: 0,
            first_row: 0,
            rows: Vec::with_capacity(BATCH_ROWS),
            len: 0,
            encoded: Vec::new(),
        });
        batch.len = 0;
        let mut done = false;
        while batch.len < BATCH_ROWS {
            if batch.rows.len() == batch.len {
                batch.rows.push(Vec::new());
            }
            match reader.next_row_into(&mut batch.rows[batch.len]) {
                None => {
                    done = true;
                    break;
                }
                Some(Ok(())) => batch.len += 1,
                Some(Err(e)) if e.is_row_error() => {
                    skipped += 1;
                    if let Some(f) = skipped_row.as_mut() {
                        f(&e);
                    }
                }
                Some(Err(e)) => {
                    failed.store(true, Ordering::Relaxed);
                    return Err(JobError::Read {
                        position: reader.position(),
                        source: e,
                    });
                }
            }
        }
        if batch.len > 0 {
            batch.seq = seq;
            batch.first_row = row_no;
            seq += 1;
            row_no += batch.len as u64;
            if work_tx.send(batch).is_err() {
                return Ok(skipped);
            }
        }
        if done {
            return Ok(skipped);
        }
    }
}

/// One masking worker of [`run`]: masks (and maybe encodes) batches, then appends them
/// to the sink when their turn comes.
fn worker(
    masker: &Masker<'_>,
    state: &Mutex<WriteState<'_, '_, '_>>,
    turn: &Condvar,
    work_rx: &Mutex<mpsc::Receiver<Batch>>,
    free_tx: mpsc::Sender<Batch>,
    failed: &AtomicBool,
    mut encoder: Option<Box<dyn RowEncoder>>,
) -> MaskStats {
    let mut stats = MaskStats::for_plan(masker.plan);
    let mut scratch = Scratch::default();
    loop {
        let next = work_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(mut batch) = next else { break };
        let rows = &mut batch.rows[..batch.len];
        // Once the job has failed, batches are only drained: an unmasked row must never
        // reach the sink, not even its temporary file.
        let masked = !failed.load(Ordering::Relaxed);
        if masked {
            masker.mask_rows(rows, batch.first_row, &mut stats, &mut scratch);
        }
        batch.encoded.clear();
        let mut encode_error = None;
        if let (true, Some(enc)) = (masked, encoder.as_mut()) {
            if let Err(e) = enc.encode(rows, &mut batch.encoded) {
                encode_error = Some(JobError::Mask(e));
            }
        }
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        while st.next_seq != batch.seq {
            st = turn.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        if masked && st.error.is_none() && !failed.load(Ordering::Relaxed) {
            if let Err(e) = encode_error.map_or_else(
                || write_batch(&mut st, rows, &batch.encoded, encoder.is_some()),
                Err,
            ) {
                st.error = Some(e);
                failed.store(true, Ordering::Relaxed);
            }
        }
        st.next_seq += 1;
        drop(st);
        turn.notify_all();
        // The reader may be gone; the batch is then simply dropped.
        let _ = free_tx.send(batch);
    }
    stats
}

/// Append one masked batch; runs in source order, under the write lock.
fn write_batch(
    st: &mut WriteState<'_, '_, '_>,
    rows: &mut [Vec<Option<String>>],
    encoded: &[u8],
    is_encoded: bool,
) -> Result<(), JobError> {
    if let Some(hook) = st.first_batch.take() {
        st.embedder = hook(rows).map_err(JobError::Hook)?;
    }
    let Some(sink) = st.sink.as_mut() else {
        return Ok(());
    };
    if is_encoded {
        return Ok(sink.write_encoded(encoded)?);
    }
    for row in rows.iter_mut() {
        if let Some(e) = st.embedder.as_mut() {
            e.embed(row);
        }
        sink.write_row(row)?;
    }
    Ok(())
}

/// Per-thread state of [`mask_one`]: buffers reused from row to row.
#[derive(Default)]
struct Scratch {
    /// Receives each masked value; swapped with the source value's buffer.
    out: String,
    /// Entity values of the row (date shifts), read before any column is masked.
    entities: Vec<Option<String>>,
    /// Per column, the batch's pseudonym hashes in row order (empty: compute one by one)
    /// and the next one to use.
    tags: Vec<Vec<[u8; 32]>>,
    tag_next: Vec<usize>,
}

#[allow(clippy::too_many_arguments)]
fn mask_one(
    plan: &MaskPlan,
    keys: Option<&MaskKeys>,
    residual: Option<&dyn ResidualRedactor>,
    row: &mut Vec<Option<String>>,
    row_no: u64,
    stats: &mut MaskStats,
    scratch: &mut Scratch,
) {
    row.resize(plan.columns.len(), None);
    let Scratch {
        out,
        entities,
        tags,
        tag_next,
    } = scratch;
    entities.clear();
    if plan.columns.iter().any(|c| c.entity.is_some()) {
        entities.extend(
            plan.columns
                .iter()
                .map(|c| c.entity.and_then(|i| row[i].clone())),
        );
    }
    let mut suppressed = false;
    for (i, col) in plan.columns.iter().enumerate() {
        let st = &mut stats.columns[i];
        let op = &col.choice.operator;
        if matches!(op, Operator::Suppress) {
            suppressed = true;
            continue;
        }
        let Some(value) = row[i].as_mut() else {
            continue;
        };
        if matches!(op, Operator::Keep) {
            if let (true, Some(r)) = (plan.residual_scan, residual) {
                if let Some(red) = r.redact(value) {
                    st.residual_redactions += 1;
                    *value = red;
                }
            }
            continue;
        }
        if value.is_empty() {
            continue;
        }
        // Set when the operator returned the value as it was (e.g. FPE of `无`): such a
        // cell was not masked, so the residual scan looks at it like a kept one.
        let mut unchanged = false;
        let pseudonym_tag = match (op, tags.get(i), tag_next.get_mut(i)) {
            (Operator::Pseudonym { .. }, Some(t), Some(next)) if *next < t.len() => {
                *next += 1;
                Some(&t[*next - 1])
            }
            _ => None,
        };
        let ctx = ApplyCtx {
            entity: entities.get(i).and_then(|e| e.as_deref()),
            row: row_no,
            column: &col.info.name,
            pseudonym_tag,
        };
        match op.apply_into(value, keys, &ctx, out) {
            Ok(true) => {
                if out != value {
                    st.masked += 1;
                } else {
                    unchanged = true;
                }
                // The source value's buffer becomes the next output buffer.
                std::mem::swap(value, out);
            }
            Ok(false) => {
                st.masked += 1;
                if let Some(old) = row[i].take() {
                    *out = old;
                }
            }
            Err(_) => {
                // Never pass through a value the operator could not mask.
                st.failed += 1;
                let n = value.chars().count().min(32);
                value.clear();
                value.extend(std::iter::repeat_n('*', n));
            }
        }
        // Only cells left as they were: a masked value is the operator's output (a
        // pseudonym, a generalisation, FPE's deliberately valid-looking ID), and scanning
        // every one of them would cost the hot path for nothing.
        if plan.residual_scan && unchanged {
            if let (Some(r), Some(v)) = (residual, row[i].as_mut()) {
                if let Some(red) = r.redact(v) {
                    st.residual_redactions += 1;
                    *v = red;
                }
            }
        }
    }
    if suppressed {
        let mut i = 0;
        row.retain(|_| {
            let keep = !matches!(plan.columns[i].choice.operator, Operator::Suppress);
            i += 1;
            keep
        });
    }
    stats.rows += 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn known(_: &str) -> bool {
        true
    }

    struct DigitsRedactor;
    impl ResidualRedactor for DigitsRedactor {
        fn redact(&self, text: &str) -> Option<String> {
            text.contains("13800000000")
                .then(|| text.replace("13800000000", "[手机号码]"))
        }
    }

    fn info(name: &str, t: Option<&str>) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            data_type: t.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn plan_masks_rows_and_counts() {
        let user = "[scenarios.s]\nresidual_scan=false\n[[scenarios.s.rules]]\ntypes=[\"cn_mobile\"]\nop=\"partial\"\nkeep_first=3\nkeep_last=4\n[[scenarios.s.rules]]\ncolumns=[\"^secret$\"]\nop=\"suppress\"\n[[scenarios.s.rules]]\ntypes=[\"birth_date\"]\nop=\"date_shift\"\nentity=\"id\"\n[[scenarios.s.rules]]\ntypes=[\"gps\"]\nop=\"generalize_gps\"\n";
        let rs = RuleSet::with_user(Some(("u", user)), &known).unwrap();
        let plan = MaskPlan::build(
            rs.scenario("s").unwrap(),
            vec![
                info("id", None),
                info("phone", Some("cn_mobile")),
                info("secret", None),
                info("born", Some("birth_date")),
                info("loc", Some("gps")),
            ],
        )
        .unwrap();
        assert_eq!(plan.output_columns(), ["id", "phone", "born", "loc"]);
        assert!(
            Masker::new(&plan, None, None).is_err(),
            "date_shift needs a key"
        );
        let keys = MaskKeys::from_master(&[1; 32]);
        let mut m = Masker::new(&plan, Some(&keys), None)
            .unwrap()
            .with_threads(2);
        let mut rows: Vec<Vec<Option<String>>> = (0..1000)
            .map(|i| {
                vec![
                    Some(format!("P{}", i % 10)),
                    Some("13800000000".into()),
                    Some("x".into()),
                    Some("2020-01-01".into()),
                    Some(if i == 0 {
                        "bad".into()
                    } else {
                        "22.5,113.1".into()
                    }),
                ]
            })
            .collect();
        m.mask_batch(&mut rows, 0);
        let st = m.finish();
        assert_eq!(st.rows, 1000);
        assert_eq!(rows[5].len(), 4);
        assert_eq!(rows[5][1].as_deref(), Some("138****0000"));
        assert_eq!(rows[5][2], rows[15][2], "same entity, same shift");
        assert_eq!(st.columns[1].masked, 1000);
        assert_eq!(st.columns[4].failed, 1);
        assert_eq!(rows[0][3].as_deref(), Some("***"));
    }

    #[test]
    fn residual_scan_redacts_kept_text() {
        let rs = RuleSet::builtin(&known).unwrap();
        let plan =
            MaskPlan::build(rs.scenario("open_data").unwrap(), vec![info("note", None)]).unwrap();
        assert!(Masker::new(&plan, None, None).is_err());
        let mut m = Masker::new(&plan, None, Some(&DigitsRedactor)).unwrap();
        let mut row = vec![Some("call 13800000000".to_string())];
        m.mask_row(&mut row, 0);
        assert_eq!(row[0].as_deref(), Some("call [手机号码]"));
        assert_eq!(m.stats().columns[0].residual_redactions, 1);
    }

    /// The residual scan looks at cells no operator changed — kept columns and values an
    /// operator returned as they were — and not at masked output.
    #[test]
    fn residual_scan_covers_cells_left_unmasked_only() {
        let user = "[scenarios.s]\n[[scenarios.s.rules]]\ncolumns=[\"^id$\"]\nop=\"fpe\"\nalphabet=\"digits\"\n[[scenarios.s.rules]]\ncolumns=[\"^tel$\"]\nop=\"replace\"\nwith=\"call 13800000000\"\n";
        let rs = RuleSet::with_user(Some(("u", user)), &known).unwrap();
        let scenario = rs.scenario("s").unwrap();
        assert!(scenario.residual_scan, "on unless a scenario opts out");
        let plan = MaskPlan::build(
            scenario,
            vec![info("id", None), info("tel", None), info("note", None)],
        )
        .unwrap();
        let keys = MaskKeys::from_master(&[7u8; 32]);
        let mut m = Masker::new(&plan, Some(&keys), Some(&DigitsRedactor)).unwrap();
        // FPE leaves a value without digits as it is: then the scan sees it.
        let mut row = vec![
            Some("无 13800000000".to_string()),
            Some("x".to_string()),
            Some("call 13800000000".to_string()),
        ];
        m.mask_row(&mut row, 0);
        assert_eq!(row[2].as_deref(), Some("call [手机号码]"));
        // An operator's own output is not re-scanned.
        assert_eq!(row[1].as_deref(), Some("call 13800000000"));
        let st = m.stats();
        assert_eq!(
            (
                st.columns[1].residual_redactions,
                st.columns[2].residual_redactions
            ),
            (0, 1)
        );
        let mut row = vec![Some("无".to_string()), None, None];
        m.mask_row(&mut row, 1);
        assert_eq!(row[0].as_deref(), Some("无"));
        let mut row = vec![Some("号码13800000000".to_string()), None, None];
        m.mask_row(&mut row, 2);
        assert_ne!(row[0].as_deref(), Some("号码13800000000"));
        assert_eq!(m.stats().columns[0].residual_redactions, 0);
    }

    /// Rows from memory; `fail_at` ends the table with a non-row error there, and rows
    /// whose first value is `bad` are malformed (skipped, reading goes on).
    struct MemReader {
        columns: Vec<shuan_source::ColumnMeta>,
        rows: std::vec::IntoIter<Vec<Option<String>>>,
        row: u64,
        fail_at: Option<u64>,
    }

    impl MemReader {
        fn new(names: &[&str], rows: Vec<Vec<Option<String>>>, fail_at: Option<u64>) -> Self {
            MemReader {
                columns: names
                    .iter()
                    .map(|n| shuan_source::ColumnMeta {
                        name: n.to_string(),
                        declared_type: None,
                    })
                    .collect(),
                rows: rows.into_iter(),
                row: 0,
                fail_at,
            }
        }
    }

    impl RowReader for MemReader {
        fn columns(&self) -> &[shuan_source::ColumnMeta] {
            &self.columns
        }
        fn next_row(&mut self) -> Option<std::result::Result<Vec<Option<String>>, SourceError>> {
            if self.fail_at == Some(self.row) {
                return Some(Err(SourceError::Unsupported {
                    what: "connection lost".into(),
                }));
            }
            let row = self.rows.next()?;
            self.row += 1;
            if row[0].as_deref() == Some("bad") {
                return Some(Err(SourceError::Csv {
                    path: "mem".into(),
                    line: self.row,
                    message: "malformed".into(),
                }));
            }
            Some(Ok(row))
        }
        fn position(&self) -> RowPosition {
            RowPosition {
                row: self.row,
                line: None,
            }
        }
    }

    fn people(n: usize) -> Vec<Vec<Option<String>>> {
        (0..n)
            .map(|i| {
                let first = if i % 1000 == 999 {
                    "bad".to_string()
                } else {
                    i.to_string()
                };
                vec![
                    Some(first),
                    Some(format!("138{i:08}")),
                    if i % 7 == 0 {
                        None
                    } else {
                        Some("张三".into())
                    },
                ]
            })
            .collect()
    }

    fn phone_plan() -> MaskPlan {
        let user = "[scenarios.s]\nresidual_scan=false\n[[scenarios.s.rules]]\ncolumns=[\"^phone$\"]\nop=\"partial\"\nkeep_first=3\nkeep_last=4\n[[scenarios.s.rules]]\ncolumns=[\"^name$\"]\nop=\"pseudonym\"\nformat=\"chinese_name\"\n";
        let rs = RuleSet::with_user(Some(("u", user)), &known).unwrap();
        MaskPlan::build(
            rs.scenario("s").unwrap(),
            vec![info("id", None), info("phone", None), info("name", None)],
        )
        .unwrap()
    }

    /// Batches hash pseudonyms ahead, side by side; the result must be exactly what
    /// masking each row alone gives, with NULL and empty cells, short rows, values longer
    /// than one hash block and several pseudonymized columns in between.
    #[test]
    fn batch_pseudonyms_equal_row_by_row() {
        let user = "[scenarios.s]\nresidual_scan=false\n[[scenarios.s.rules]]\ncolumns=[\"^a$\"]\nop=\"pseudonym\"\n[[scenarios.s.rules]]\ncolumns=[\"^b$\"]\nop=\"pseudonym\"\nformat=\"digits\"\nnamespace=\"people\"\n[[scenarios.s.rules]]\ncolumns=[\"^c$\"]\nop=\"pseudonym\"\nformat=\"chinese_name\"\n";
        let rs = RuleSet::with_user(Some(("u", user)), &known).unwrap();
        let plan = MaskPlan::build(
            rs.scenario("s").unwrap(),
            vec![
                info("a", None),
                info("k", None),
                info("b", None),
                info("c", None),
            ],
        )
        .unwrap();
        let keys = MaskKeys::from_master(&[3; 32]);
        let rows: Vec<Vec<Option<String>>> = (0..700usize)
            .map(|i| {
                let cell = |m: usize| match (i + m) % 6 {
                    0 => None,
                    1 => Some(String::new()),
                    2 => Some("4".repeat(i % 150)),
                    _ => Some(format!("44070319{i:010}")),
                };
                let mut r = vec![cell(0), Some(i.to_string()), cell(1), cell(2)];
                r.truncate(4 - i % 3);
                r
            })
            .collect();
        let mut one = Masker::new(&plan, Some(&keys), None).unwrap();
        let expected: Vec<_> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut r = r.clone();
                one.mask_row(&mut r, i as u64);
                r
            })
            .collect();
        for threads in [1, 2] {
            for batch in [1, 7, 256, 700] {
                let mut m = Masker::new(&plan, Some(&keys), None)
                    .unwrap()
                    .with_threads(threads);
                let mut got = rows.clone();
                for (n, chunk) in got.chunks_mut(batch).enumerate() {
                    m.mask_batch(chunk, (n * batch) as u64);
                }
                assert_eq!(got, expected, "threads {threads} batch {batch}");
                assert_eq!(m.finish(), one.stats().clone());
            }
        }
        assert_ne!(expected[3][0], rows[3][0], "pseudonymized");
    }

    #[test]
    fn run_writes_every_row_in_order_with_any_thread_count() {
        let dir = tempfile::tempdir().unwrap();
        let plan = phone_plan();
        let keys = MaskKeys::from_master(&[9; 32]);
        let header = plan.output_columns();
        let rows = people(5000);
        // Reference: the same rows masked one by one, written through write_row.
        let mut expected = String::new();
        {
            let mut m = Masker::new(&plan, Some(&keys), None).unwrap();
            let p = dir.path().join("ref.csv");
            let mut sink = Box::new(crate::sink::CsvSink::create(&p, &header, false).unwrap());
            let good = rows.iter().filter(|r| r[0].as_deref() != Some("bad"));
            for (n, row) in good.enumerate() {
                let mut row = row.clone();
                m.mask_row(&mut row, n as u64);
                sink.write_row(&row).unwrap();
            }
            sink.finish().unwrap();
            expected.push_str(&std::fs::read_to_string(&p).unwrap());
        }
        for threads in [1, 2, 3, 8] {
            let p = dir.path().join(format!("t{threads}.csv"));
            let sink = Box::new(crate::sink::CsvSink::create(&p, &header, false).unwrap());
            let masker = Masker::new(&plan, Some(&keys), None)
                .unwrap()
                .with_threads(threads);
            let mut reader = MemReader::new(&["id", "phone", "name"], rows.clone(), None);
            let mut seen = Vec::new();
            let outcome = run(
                &mut reader,
                masker,
                sink,
                JobHooks {
                    first_batch: None,
                    skipped_row: Some(Box::new(|e| seen.push(e.to_string()))),
                },
            )
            .unwrap();
            assert_eq!(outcome.skipped_rows, 5);
            assert_eq!(seen.len(), 5);
            assert_eq!(outcome.stats.rows, 4995);
            assert_eq!(outcome.stats.columns[1].masked, 4995);
            // NULL names stay NULL (every 7th row; no malformed row is one); the others
            // get a pseudonym.
            assert_eq!(outcome.stats.columns[2].masked, 4995 - 5000_u64.div_ceil(7));
            assert_eq!(
                std::fs::read_to_string(&p).unwrap(),
                expected,
                "threads {threads}"
            );
        }
    }

    /// Records what reaches a sink.
    struct Recorder(std::sync::Arc<Mutex<Vec<Vec<Option<String>>>>>);
    impl RowSink for Recorder {
        fn write_row(&mut self, row: &[Option<String>]) -> Result<()> {
            self.0.lock().unwrap().push(row.to_vec());
            Ok(())
        }
        fn finish(self: Box<Self>) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn after_a_read_error_no_unmasked_row_reaches_the_sink() {
        let plan = phone_plan();
        let keys = MaskKeys::from_master(&[9; 32]);
        for threads in [1, 2, 4] {
            let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
            let masker = Masker::new(&plan, Some(&keys), None)
                .unwrap()
                .with_threads(threads);
            let mut reader = MemReader::new(&["id", "phone", "name"], people(20_000), Some(15_000));
            let sink = Box::new(Recorder(seen.clone()));
            assert!(run(&mut reader, masker, sink, JobHooks::default()).is_err());
            let rows = seen.lock().unwrap();
            assert!(rows.len() < 15_000);
            for row in rows.iter() {
                let phone = row[1].as_deref().unwrap();
                assert!(
                    phone.contains("****"),
                    "unmasked {phone} with {threads} threads"
                );
            }
        }
    }

    #[test]
    fn run_read_error_leaves_no_output_and_hook_sees_first_batch() {
        let dir = tempfile::tempdir().unwrap();
        let plan = phone_plan();
        let keys = MaskKeys::from_master(&[9; 32]);
        let header = plan.output_columns();
        let p = dir.path().join("out.csv");
        let sink = Box::new(crate::sink::CsvSink::create(&p, &header, false).unwrap());
        let masker = Masker::new(&plan, Some(&keys), None)
            .unwrap()
            .with_threads(2);
        let mut reader = MemReader::new(&["id", "phone", "name"], people(3000), Some(2000));
        let err = run(&mut reader, masker, sink, JobHooks::default()).unwrap_err();
        match err {
            JobError::Read { position, .. } => assert_eq!(position.row, 2000),
            other => panic!("{other}"),
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no output, no temp file"
        );

        // The hook sees masked rows before anything is written; its embedder marks rows,
        // and its error stops the job without output.
        let header = vec!["id".to_string(), "phone".to_string(), "name".to_string()];
        let sink = Box::new(crate::sink::CsvSink::create(&p, &header, false).unwrap());
        let masker = Masker::new(&plan, Some(&keys), None)
            .unwrap()
            .with_threads(2);
        let mut reader = MemReader::new(&["id", "phone", "name"], people(600), None);
        let (keys_ref, header_ref) = (&keys, &header);
        let hooks = JobHooks {
            first_batch: Some(Box::new(move |rows: &[Vec<Option<String>>]| {
                assert_eq!(rows[0][1].as_deref(), Some("138****0000"));
                let carriers = vec!["id".to_string()];
                Ok(Embedder::new(keys_ref, "r", header_ref, &carriers))
            })),
            skipped_row: None,
        };
        let outcome = run(&mut reader, masker, sink, hooks).unwrap();
        assert_eq!(outcome.stats.rows, 600);
        let text = std::fs::read_to_string(&p).unwrap();
        let ids: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(ids.len(), 600);
        // The embedder changed the parity of some ids' last digits: not all still match.
        let changed = ids
            .iter()
            .enumerate()
            .filter(|(i, id)| **id != i.to_string())
            .count();
        assert!(changed > 100 && changed < 500, "{changed}");

        let q = dir.path().join("hook.csv");
        let sink = Box::new(crate::sink::CsvSink::create(&q, &header, false).unwrap());
        let masker = Masker::new(&plan, Some(&keys), None).unwrap();
        let mut reader = MemReader::new(&["id", "phone", "name"], people(600), None);
        let hooks = JobHooks {
            first_batch: Some(Box::new(|_: &[Vec<Option<String>>]| {
                Err("no carrier".into())
            })),
            skipped_row: None,
        };
        let err = run(&mut reader, masker, sink, hooks).unwrap_err();
        assert!(matches!(err, JobError::Hook(_)), "{err}");
        assert!(!q.exists());
    }

    #[test]
    fn missing_entity_column_is_reported() {
        let user = "[scenarios.s]\nresidual_scan=false\n[[scenarios.s.rules]]\ntypes=[\"birth_date\"]\nop=\"date_shift\"\nentity=\"person_id\"\n";
        let rs = RuleSet::with_user(Some(("u", user)), &known).unwrap();
        let e = MaskPlan::build(
            rs.scenario("s").unwrap(),
            vec![info("born", Some("birth_date"))],
        )
        .unwrap_err();
        assert!(e.to_string().contains("person_id"));
    }
}
