//! Temporary data (临时数据, R-27): destroyed once its purpose is over.
//!
//! A masking job given `temporary_days` records each output file it wrote in the job
//! directory as a temporary of the job's department, expiring that many days later. Once
//! one expires, the node holding it files a destruction of the file (kind `file`, method
//! `delete_file`) as the platform (`system`), recorded in the ledger first and linked to
//! the temporary so it is filed once. The destruction then takes its usual course: the
//! department's chief data officer approves it, the security administrator executes it,
//! and its certificate proves it. `GET /api/v1/temporaries` lists them with where each
//! stands.

use std::sync::Arc;

use axum::extract::State;
use serde::Serialize;
use serde_json::{json, Map};
use shuan_govern::Target;
use shuan_policy::Action;
use shuan_store::platform::{Destruction, DestructionStatus, Job, Temporary};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::routes::destructions::job_file;
use crate::routes::jobs::WORKSPACE_DIR;
use crate::state::Platform;

/// Who files the destruction of an expired temporary (reserved: no account takes it).
pub const REQUESTER: &str = "system";

/// The temporaries endpoint.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Records a finished job's output files in the job directory as temporaries expiring
/// `days` later. An SQLite output's tables (`FILE.db#TABLE`) are its one file. Outputs
/// elsewhere are not files the node can destroy; `mask_job` refuses a retention for
/// them, so they are only logged here.
pub(crate) async fn record_outputs(p: &Platform, job: &Job, outputs: &[String], days: i64) {
    let workspace = match std::fs::canonicalize(p.data_dir.join(WORKSPACE_DIR)) {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(job = job.id, error = %e, "the job directory cannot be read; temporaries not recorded");
            return;
        }
    };
    let now = p.clock.now();
    let mut files = std::collections::BTreeSet::new();
    for out in outputs {
        let file = out
            .split_once(".db#")
            .map_or(out.clone(), |(f, _)| format!("{f}.db"));
        match std::fs::canonicalize(&file) {
            Ok(c) if c.is_file() && c.starts_with(&workspace) && c != workspace => {
                files.insert(c);
            }
            _ => {
                tracing::warn!(job = job.id, output = %out, "a temporary output that is not a file in the job directory is not tracked for destruction");
            }
        }
    }
    for f in files {
        let t = Temporary {
            id: 0,
            node: p.node.clone(),
            path: f.display().to_string(),
            department: job.department.clone(),
            origin_kind: "job".into(),
            origin_id: job.id,
            created_at: now,
            expires_at: now + days * 86_400,
            destruction_id: None,
        };
        if let Err(e) = p.db(move |s| s.record_temporary(&t)).await {
            tracing::error!(job = job.id, error = %e, "a temporary could not be recorded");
        }
    }
}

/// Files the destruction of every expired temporary this node holds that has none yet
/// (or whose destruction failed); answers how many were filed now. A temporary under a
/// legal hold is kept and not asked for; one already gone is left (nothing to destroy).
/// Each is recorded in the ledger before it is filed, and skipped when it cannot be.
pub async fn file_due(p: &Platform) -> Result<usize, ApiError> {
    let now = p.clock.now();
    let (temporaries, destructions, holds) = p
        .db(|s| {
            Ok((
                s.temporaries()?,
                s.destructions(None)?,
                s.legal_holds(true)?,
            ))
        })
        .await?;
    let failed = |id: i64| {
        destructions
            .iter()
            .any(|d| d.id == id && d.status == DestructionStatus::Failed)
    };
    let due: Vec<Temporary> = temporaries
        .into_iter()
        .filter(|t| t.node == p.node && t.expires_at <= now)
        .filter(|t| t.destruction_id.is_none_or(failed))
        .collect();
    let mut filed = 0;
    for t in due {
        let found = match job_file(p, &t.path).await {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(temporary = t.id, reason = %e.message, "an expired temporary is not there to destroy");
                continue;
            }
        };
        let target = Target::File {
            node: t.node.clone(),
            path: found.path.display().to_string(),
            instance: found.instance,
        };
        let hold_keys = target.hold_keys();
        if holds.iter().any(|h| hold_keys.contains(&h.hold_key)) {
            continue;
        }
        let key = target.target_key();
        // One live for this very file already (asked for by hand): link it, recording
        // nothing new.
        if let Some(live) = destructions.iter().find(|d| {
            d.target_key == key
                && matches!(
                    d.status,
                    DestructionStatus::Pending
                        | DestructionStatus::Approved
                        | DestructionStatus::Executing
                )
        }) {
            let (tid, did) = (t.id, live.id);
            if p.db(move |s| s.link_temporary_destruction(tid, did))
                .await?
            {
                filed += 1;
            }
            continue;
        }
        let reason = format!(
            "临时数据到期（R-27）：任务 {} 的输出，保留至 {} (temporary output of job {}, kept until {})",
            t.origin_id,
            shuan_crypto::time::format_unix(t.expires_at),
            t.origin_id,
            shuan_crypto::time::format_unix(t.expires_at)
        );
        let d = Destruction {
            id: 0,
            target: serde_json::to_string(&target).map_err(ApiError::internal)?,
            target_key: key,
            hold_keys,
            department: Some(t.department.clone()),
            label: target.label(),
            method: target.method().as_str().into(),
            reason: reason.clone(),
            status: DestructionStatus::Pending,
            requested_by: REQUESTER.into(),
            requested_at: now,
            matched: None,
            decided_by: None,
            decided_at: None,
            decision_note: None,
            executed_by: None,
            executed_at: None,
            outcome: None,
            certificate: None,
        };
        let mut details = Map::new();
        details.insert("target".into(), json!(target));
        details.insert("method".into(), json!(d.method));
        details.insert("reason".into(), json!(reason));
        details.insert("temporary".into(), json!(t.id));
        if let Err(e) = p
            .record_system(
                "destruction.request",
                &format!("temporary:{}", t.id),
                details,
            )
            .await
        {
            tracing::warn!(temporary = t.id, error = %e, "the destruction of an expired temporary could not be recorded; not filed");
            continue;
        }
        let id = match p.db(move |s| s.create_destruction(&d)).await {
            Ok(id) => id,
            // A hold placed or a request filed since this pass read them: next time.
            Err(e) if e.code == "conflict" || e.code == "exists" => {
                tracing::info!(temporary = t.id, reason = %e.message, "an expired temporary is not filed for destruction now");
                continue;
            }
            Err(e) => return Err(e),
        };
        let tid = t.id;
        if p.db(move |s| s.link_temporary_destruction(tid, id)).await? {
            filed += 1;
        }
    }
    Ok(filed)
}

/// A temporary in answers.
#[derive(Serialize, ToSchema)]
pub struct TemporaryView {
    /// Id.
    pub id: i64,
    /// The node holding it.
    pub node: String,
    /// Its path there.
    pub path: String,
    /// Department.
    pub department: String,
    /// The job that made it.
    pub job: i64,
    /// When it was made.
    pub created_at: i64,
    /// When it expires.
    pub expires_at: i64,
    /// `held` (not expired), `due` (expired, destruction not filed yet), or its
    /// destruction's status (`pending`, `approved`, `executing`, `executed`, `rejected`,
    /// `failed`).
    pub state: String,
    /// Its destruction, once filed.
    pub destruction_id: Option<i64>,
}

/// Temporaries the caller may read, by expiry, with where each stands.
#[utoipa::path(get, path = "/api/v1/temporaries", tag = "governance",
    responses((status = 200, body = Vec<TemporaryView>), (status = "default", body = ErrorBody)))]
pub async fn list(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<TemporaryView>>> {
    let (all, destructions) = p
        .db(|s| Ok((s.temporaries()?, s.destructions(None)?)))
        .await?;
    let now = p.clock.now();
    let mine = p
        .readable(&c, Action::DestructionRead, "temporary", all, |t| {
            resource("temporary", &t.id.to_string(), Some(&t.department), None)
        })
        .await?;
    Ok(axum::Json(
        mine.iter()
            .map(|t| TemporaryView {
                id: t.id,
                node: t.node.clone(),
                path: t.path.clone(),
                department: t.department.clone(),
                job: t.origin_id,
                created_at: t.created_at,
                expires_at: t.expires_at,
                state: state_of(t, &destructions, now),
                destruction_id: t.destruction_id,
            })
            .collect(),
    ))
}

/// Where a temporary stands (see [`TemporaryView::state`]).
pub fn state_of(t: &Temporary, destructions: &[Destruction], now: i64) -> String {
    match t.destruction_id {
        Some(id) => destructions
            .iter()
            .find(|d| d.id == id)
            .map_or_else(|| "pending".to_string(), |d| d.status.as_str().to_string()),
        None if t.expires_at <= now => "due".into(),
        None => "held".into(),
    }
}
