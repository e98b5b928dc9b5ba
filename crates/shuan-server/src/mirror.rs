//! Copies this node's audit records and signed checkpoints into the shared store, so the
//! auditor's search covers every node and each chain can be checked against its
//! checkpoints. The ledger stays the truth: the copy is read back from the ledger's own
//! files (never rebuilt from memory), only up to the last acknowledged record, and is
//! idempotent, so a restart simply continues where the store says it stopped.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use shuan_store::platform::{MirroredCheckpoint, MirroredRecord};

use crate::error::ApiError;
use crate::state::Platform;

const BATCH: usize = 500;

/// Copies every acknowledged record not yet in the store, and new checkpoints.
pub async fn mirror_now(p: &Platform) -> Result<(), ApiError> {
    let _guard = p.mirror_lock.lock().await;
    let from = p.mirrored.load(Ordering::Acquire) + 1;
    let upto = p.acked.load(Ordering::Acquire);
    let dir = p.ledger.dir().to_path_buf();
    let node = p.node.clone();
    let store = Arc::clone(&p.store);
    let cp_from = p.checkpoints_mirrored.load(Ordering::Acquire);
    let (mirrored, checkpoints) =
        tokio::task::spawn_blocking(move || -> Result<(u64, u64), String> {
            let mut last = from - 1;
            if from <= upto {
                let mut batch = Vec::with_capacity(BATCH);
                for r in shuan_ledger::reader::records(&dir, from).map_err(|e| e.to_string())? {
                    let r = r.map_err(|e| e.to_string())?;
                    if r.seq > upto {
                        break;
                    }
                    batch.push(MirroredRecord {
                        node: node.clone(),
                        seq: r.seq,
                        time: r.time.micros().div_euclid(1_000_000),
                        actor: r.actor.id.clone(),
                        action: r.action.clone(),
                        outcome: r.outcome.as_str().into(),
                        record_json: serde_json::to_string(&r).map_err(|e| e.to_string())?,
                    });
                    if batch.len() == BATCH {
                        store.mirror_records(&batch).map_err(|e| e.to_string())?;
                        last = batch.last().map(|r| r.seq).unwrap_or(last);
                        batch.clear();
                    }
                }
                if !batch.is_empty() {
                    store.mirror_records(&batch).map_err(|e| e.to_string())?;
                    last = batch.last().map(|r| r.seq).unwrap_or(last);
                }
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
            Ok((last, cp_last))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| {
            tracing::error!(error = %e, "copying audit records into the store failed");
            ApiError::new(
                "store_unavailable",
                "审计记录同步到平台数据库失败 (copying audit records into the store failed)",
            )
        })?;
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

/// Runs forever: copies records twice a second, reloads policies changed by other nodes
/// once a second, purges expired sessions and old failures once a minute.
pub async fn background(p: Arc<Platform>) {
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
        if n % 120 == 1 {
            if let Err(e) = purge_expired(&p).await {
                tracing::warn!(error = %e, "purge will be retried");
            }
        }
    }
}
