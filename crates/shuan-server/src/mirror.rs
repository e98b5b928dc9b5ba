//! Copies this node's audit records and signed checkpoints into the shared store, so the
//! auditor's search covers every node and each chain can be checked against its
//! checkpoints. The ledger stays the truth: the copy is read back from the ledger's own
//! files (never rebuilt from memory), only up to the last acknowledged record, and is
//! idempotent, so a restart simply continues where the store says it stopped.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use shuan_ledger::reader::{Entries, Resume};
use shuan_ledger::Record;
use shuan_store::platform::{MirroredCheckpoint, MirroredRecord};

use crate::error::ApiError;
use crate::state::Platform;

const BATCH: usize = 500;

/// What the misuse engine did during one copy pass.
#[derive(Default)]
struct Watched {
    raised: u64,
    dropped: u64,
    filed: u64,
}

impl Watched {
    fn observe(&mut self, watch: &crate::watch::Watch, node: &str, records: &[Record]) {
        let (raised, dropped) = watch.observe(node, records);
        self.raised += raised;
        self.dropped += dropped;
    }
}

/// Copies every acknowledged record not yet in the store, and new checkpoints.
pub async fn mirror_now(p: &Platform) -> Result<(), ApiError> {
    let mut resume_at = p.mirror_lock.lock().await;
    let resume = resume_at.take();
    let from = p.mirrored.load(Ordering::Acquire) + 1;
    let upto = p.acked.load(Ordering::Acquire);
    let dir = p.ledger.dir().to_path_buf();
    let node = p.node.clone();
    let store = Arc::clone(&p.store);
    let cp_from = p.checkpoints_mirrored.load(Ordering::Acquire);
    let watch = Arc::clone(&p.watch);
    let (mirrored, checkpoints, resume, watched) = tokio::task::spawn_blocking(
        move || -> Result<(u64, u64, Option<Resume>, Watched), String> {
            let mut last = from - 1;
            let mut resume = resume;
            let mut watched = Watched::default();
            if from <= upto {
                let mut batch = Vec::with_capacity(BATCH);
                // The same records parsed, for the misuse engine once they are copied.
                let mut parsed = Vec::with_capacity(BATCH);
                // From where the last copy stopped reading, when it stopped at `from`;
                // reading the live segment from its start each time cost the whole
                // segment per pass.
                let mut entries = match resume.take() {
                    Some(at) if at.seq == from => Entries::resume(&dir, &at),
                    _ => Entries::new(&dir, from),
                }
                .map_err(|e| e.to_string())?;
                while let Some(e) = entries.next() {
                    let e = e.map_err(|e| e.to_string())?;
                    if e.seq > upto {
                        break;
                    }
                    let r = Record::from_canonical(&e.body)
                        .ok_or_else(|| format!("record {} is not a canonical record", e.seq))?;
                    resume = entries.stopped_at();
                    batch.push(MirroredRecord {
                        node: node.clone(),
                        seq: r.seq,
                        time: r.time.micros().div_euclid(1_000_000),
                        actor: r.actor.id.clone(),
                        action: r.action.clone(),
                        outcome: r.outcome.as_str().into(),
                        request_id: r.request_id.clone(),
                        record_json: serde_json::to_string(&r).map_err(|e| e.to_string())?,
                    });
                    parsed.push(r);
                    if batch.len() == BATCH {
                        store.mirror_records(&batch).map_err(|e| e.to_string())?;
                        last = batch.last().map(|r| r.seq).unwrap_or(last);
                        batch.clear();
                        watched.observe(&watch, &node, &parsed);
                        parsed.clear();
                    }
                }
                if !batch.is_empty() {
                    store.mirror_records(&batch).map_err(|e| e.to_string())?;
                    last = batch.last().map(|r| r.seq).unwrap_or(last);
                    watched.observe(&watch, &node, &parsed);
                }
            }
            // Alerts go in after the records they cite; a failure here leaves them
            // pending for the next pass and does not undo the copy.
            match watch.file_pending(&*store) {
                Ok(f) => watched.filed = f.new,
                Err(e) => tracing::warn!(error = %e, "filing misuse alerts will be retried"),
            }
            let mut cp_last = cp_from;
            for cp in shuan_ledger::prove::checkpoints(&dir).map_err(|e| e.to_string())? {
                if cp.size > cp_last {
                    store
                        .mirror_checkpoint(&MirroredCheckpoint {
                            node: node.clone(),
                            size: cp.size,
                            checkpoint_json: cp.to_line(),
                        })
                        .map_err(|e| e.to_string())?;
                    cp_last = cp.size;
                }
            }
            // Only a position right after the last record copied is kept.
            let resume = resume.filter(|at| at.seq == last + 1);
            Ok((last, cp_last, resume, watched))
        },
    )
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| {
        tracing::error!(error = %e, "copying audit records into the store failed");
        ApiError::new(
            "store_unavailable",
            "审计记录同步到平台数据库失败 (copying audit records into the store failed)",
        )
    })?;
    *resume_at = resume;
    p.metrics
        .alerts_raised
        .fetch_add(watched.raised, Ordering::Relaxed);
    p.metrics
        .alerts_dropped
        .fetch_add(watched.dropped, Ordering::Relaxed);
    p.metrics
        .alerts_filed
        .fetch_add(watched.filed, Ordering::Relaxed);
    p.mirrored.fetch_max(mirrored, Ordering::AcqRel);
    p.checkpoints_mirrored
        .fetch_max(checkpoints, Ordering::AcqRel);
    Ok(())
}

/// Failed sign-ins older than the longest lockout window the settings allow (1440
/// minutes) can never count again, whatever the window is set to later.
const FAILURES_KEPT_SECS: i64 = 1440 * 60;

/// Deletes sessions past their timeouts and failed sign-ins no window reaches. Their
/// history is in the ledger (sign-ins, sign-outs and failures are recorded there); the
/// tables only hold what is live.
pub async fn purge_expired(p: &Platform) -> Result<(), ApiError> {
    let now = crate::state::now();
    let idle = p.settings.session_idle_secs;
    let purged = p
        .db(move |s| s.purge_expired(now, idle, now - FAILURES_KEPT_SECS))
        .await?;
    if purged.sessions + purged.failures > 0 {
        tracing::info!(
            sessions = purged.sessions,
            failures = purged.failures,
            "purged expired sessions and old failed sign-ins"
        );
    }
    Ok(())
}

/// Replays the node's recent records through the misuse engine (its baselines after a
/// restart) before the copy starts feeding it new ones.
async fn replay_recent(p: &Platform) {
    let dir = p.ledger.dir().to_path_buf();
    let node = p.node.clone();
    let upto = p.acked.load(Ordering::Acquire);
    let watch = Arc::clone(&p.watch);
    let now = shuan_ledger::Timestamp::now().micros();
    let started = std::time::Instant::now();
    match tokio::task::spawn_blocking(move || watch.replay(&dir, &node, upto, now)).await {
        Ok(Ok(n)) => tracing::info!(
            records = n,
            ms = started.elapsed().as_millis() as u64,
            "misuse engine replayed recent records"
        ),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "misuse engine replay failed; baselines start empty")
        }
        Err(e) => tracing::error!(error = %e, "misuse engine replay failed"),
    }
}

/// Runs forever: replays recent records through the misuse engine once, then copies
/// records twice a second (feeding the engine), reloads policies changed by other nodes
/// once a second and misuse rules every ten seconds, purges expired sessions and old
/// failures, raises alerts for overdue incident reports, rectification items, emergency
/// and restore drills and collection reviews, files the destruction of expired temporary
/// data, and ends due vendor contracts once a minute.
pub async fn background(p: Arc<Platform>) {
    replay_recent(&p).await;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        n += 1;
        if let Err(e) = mirror_now(&p).await {
            tracing::warn!(error = %e, "audit copy will be retried");
        }
        if n % 2 == 0 {
            if let Err(e) = p.refresh_policies().await {
                tracing::warn!(error = %e, "policy reload will be retried");
            }
        }
        if n % 20 == 0 {
            // A rule set tuned on another node.
            let store = Arc::clone(&p.store);
            let watch = Arc::clone(&p.watch);
            match tokio::task::spawn_blocking(move || watch.reload(&*store)).await {
                Ok(Err(e)) => tracing::warn!(error = %e, "misuse rule reload will be retried"),
                Err(e) => tracing::warn!(error = %e, "misuse rule reload failed"),
                Ok(Ok(())) => {}
            }
        }
        if n % 120 == 1 {
            if let Err(e) = purge_expired(&p).await {
                tracing::warn!(error = %e, "purge will be retried");
            }
            if let Err(e) = crate::routes::incidents::check_deadlines(&p).await {
                tracing::warn!(error = %e, "the incident deadline check will be retried");
            }
            if let Err(e) = crate::routes::vendors::end_due(&p).await {
                tracing::warn!(error = %e, "ending due vendor contracts will be retried");
            }
            if let Err(e) = crate::routes::risk::check_overdue(&p).await {
                tracing::warn!(error = %e, "the rectification deadline check will be retried");
            }
            if let Err(e) = crate::routes::emergency::check_overdue(&p).await {
                tracing::warn!(error = %e, "the emergency drill deadline check will be retried");
            }
            if let Err(e) = crate::routes::backups::check_overdue(&p).await {
                tracing::warn!(error = %e, "the restore drill deadline check will be retried");
            }
            if let Err(e) = crate::routes::temporaries::file_due(&p).await {
                tracing::warn!(error = %e, "filing the destruction of expired temporaries will be retried");
            }
            if let Err(e) = crate::routes::collections::check_reviews(&p).await {
                tracing::warn!(error = %e, "the collection review deadline check will be retried");
            }
            // Quality runs, backups and drills may take long: they go on beside this loop
            // (each due time is claimed in the store first, so an overlapping pass skips it).
            let runner = Arc::clone(&p);
            tokio::spawn(async move {
                if let Err(e) = crate::routes::quality::run_due(&runner).await {
                    tracing::warn!(error = %e, "scheduled quality runs will be retried");
                }
                if let Err(e) = crate::routes::backups::run_due(&runner).await {
                    tracing::warn!(error = %e, "scheduled backups and drills will be retried");
                }
            });
        }
    }
}

/// How one node's copy in the platform store fared against its signed checkpoints: what
/// `shuan audit verify --store` prints per node and the auditor's 账本校验 page shows.
#[derive(Debug, Clone)]
pub struct NodeCheck {
    /// The node (its ledger id).
    pub node: String,
    /// Rows of the copy.
    pub rows: usize,
    /// What the ledger's check found.
    pub report: shuan_ledger::CopyReport,
    /// The node's key was known (its checkpoints' signatures were checked).
    pub keyed: bool,
}

impl NodeCheck {
    /// `ok`, `invalid`, or `unverified` (intact as far as the roots go, but without the
    /// node's key the signatures were not checked).
    pub fn status(&self) -> &'static str {
        if !self.report.ok() {
            "invalid"
        } else if !self.keyed {
            "unverified"
        } else {
            "ok"
        }
    }
}

/// One node's copy: its records (any order) and checkpoints, read from the store and
/// checked against each other with the node's key when known.
pub fn check_node_copy(
    node: &str,
    rows: Vec<MirroredRecord>,
    checkpoints: Vec<MirroredCheckpoint>,
    key: Option<&shuan_crypto::sm2::VerifyingKey>,
) -> NodeCheck {
    let mut rows = rows;
    rows.sort_by_key(|r| r.seq);
    let mut cps = Vec::with_capacity(checkpoints.len());
    let mut bad_checkpoint = None;
    for c in &checkpoints {
        match serde_json::from_str::<shuan_ledger::Checkpoint>(&c.checkpoint_json) {
            Ok(cp) if cp.size == c.size => cps.push(cp),
            Ok(cp) => {
                bad_checkpoint = Some(format!(
                    "the copy files the checkpoint of size {} under size {} (the row was edited)",
                    cp.size, c.size
                ));
                break;
            }
            Err(e) => {
                bad_checkpoint = Some(format!(
                    "the copied checkpoint of size {} is not a checkpoint ({e})",
                    c.size
                ));
                break;
            }
        }
    }
    let n = rows.len();
    let report = match bad_checkpoint {
        Some(problem) => shuan_ledger::CopyReport {
            checkpoints: checkpoints.len(),
            signatures_checked: key.is_some(),
            problem: Some(shuan_ledger::CopyFinding {
                seq: None,
                problem,
                ends_early: false,
            }),
            ..Default::default()
        },
        None => shuan_ledger::verify_copy(node, key, &cps, rows.into_iter().map(copied)),
    };
    NodeCheck {
        node: node.to_string(),
        rows: n,
        report,
        keyed: key.is_some(),
    }
}

/// A copied row as the ledger's check takes it: the record, unless the row's search
/// columns contradict the record's JSON (someone edited one and not the other).
pub fn copied(row: MirroredRecord) -> shuan_ledger::CopiedRecord {
    let mut c = shuan_ledger::CopiedRecord::from_json(row.seq, &row.record_json);
    if let Ok(r) = &c.record {
        let mut differ = Vec::new();
        if r.actor.id != row.actor {
            differ.push("actor");
        }
        if r.action != row.action {
            differ.push("action");
        }
        if r.outcome.as_str() != row.outcome {
            differ.push("outcome");
        }
        if r.time.micros().div_euclid(1_000_000) != row.time {
            differ.push("time");
        }
        if !differ.is_empty() {
            c.record = Err(format!(
                "the copied row's {} disagree{} with the record it holds: the row was edited",
                differ.join(", "),
                if differ.len() == 1 { "s" } else { "" }
            ));
        }
    }
    c
}
