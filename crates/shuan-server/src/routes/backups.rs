//! Backup plans and restore drills (备份与恢复演练, R-10) over HTTP.
//!
//! The system administrator keeps plans: back the node up every `backup_interval_hours`
//! (the encrypted, SM2-signed backups of `shuan_crypto::backup`, the same as `POST
//! /api/v1/jobs/backup`), keep the newest `retention` archives, and drill a restore of the
//! newest every `drill_interval_hours`. The node's background task ([`run_due`], once a
//! minute) claims each due time in the store before doing the work, so on several nodes it
//! is done once. A drill restores into a scratch directory under the data directory's
//! `files/drills/` (removed afterwards), reads every file back and digests it, and checks
//! the archive against its creation record; a changed byte fails it. Every backup, prune
//! and drill is recorded in the ledger before it is done; a failed backup or drill files
//! an alert (`backup_failed`, `restore_drill_failed`).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use shuan_policy::Action;
use shuan_store::platform::{BackupPlan, PlanBackup, RestoreDrill};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::routes::alerts::{file_notice, file_notices, Notice};
use crate::routes::identity::check_text;
use crate::routes::jobs::WORKSPACE_DIR;
use crate::state::Platform;

/// Who runs scheduled work, in records.
pub const SCHEDULER: &str = "scheduler";
/// The alert of a failed scheduled backup.
pub const BACKUP_FAILED_RULE: &str = "backup_failed";
/// The alert of a failed drill.
pub const DRILL_FAILED_RULE: &str = "restore_drill_failed";

/// The backup plan endpoints.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(create_plan, list_plans))
        .routes(routes!(list_plan_backups))
        .routes(routes!(drill_plan))
        .routes(routes!(list_drills))
}

/// `POST /api/v1/backup-plans`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    /// Name, 1–100 characters (unique).
    pub name: String,
    /// Back up every this many hours (1–8760); the first backup is made at once.
    pub backup_interval_hours: i64,
    /// Archives kept, the newest (1–365); older ones are deleted, each recorded first.
    pub retention: i64,
    /// Drill a restore of the newest archive every this many hours (1–8760).
    pub drill_interval_hours: i64,
}

/// A plan in answers.
#[derive(Serialize, ToSchema)]
pub struct PlanView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Hours between backups.
    pub backup_interval_hours: i64,
    /// Archives kept.
    pub retention: i64,
    /// Hours between drills.
    pub drill_interval_hours: i64,
    /// When the next backup is due.
    pub next_backup_at: i64,
    /// When the next drill is due.
    pub next_drill_at: i64,
    /// Who made it.
    pub created_by: String,
}

fn plan_view(p: &BackupPlan) -> PlanView {
    PlanView {
        id: p.id,
        name: p.name.clone(),
        backup_interval_hours: p.backup_interval_hours,
        retention: p.retention,
        drill_interval_hours: p.drill_interval_hours,
        next_backup_at: p.next_backup_at,
        next_drill_at: p.next_drill_at,
        created_by: p.created_by.clone(),
    }
}

/// An archive a plan made.
#[derive(Serialize, ToSchema)]
pub struct PlanBackupView {
    /// Id.
    pub id: i64,
    /// The node holding it.
    pub node: String,
    /// Its path on that node.
    pub archive: String,
    /// When it was made.
    pub created_at: i64,
    /// SM3 of the archive.
    pub archive_sm3: String,
    /// Files in it.
    pub files: i64,
    /// When retention removed it.
    pub pruned_at: Option<i64>,
}

/// A drill in answers.
#[derive(Serialize, ToSchema)]
pub struct DrillView {
    /// Id.
    pub id: i64,
    /// The plan.
    pub plan_id: Option<i64>,
    /// The node it ran on.
    pub node: String,
    /// The archive drilled.
    pub archive: String,
    /// Start.
    pub started_at: i64,
    /// Duration in milliseconds.
    pub duration_ms: i64,
    /// `passed` or `failed`.
    pub status: String,
    /// The status in Chinese.
    pub status_label: String,
    /// Files restored.
    pub files: Option<i64>,
    /// Their bytes.
    pub file_bytes: Option<i64>,
    /// Content digest of the restored tree (SM3).
    pub tree_sm3: Option<String>,
    /// SM3 of the archive.
    pub archive_sm3: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// The account, or `scheduler`.
    pub run_by: String,
    /// The alert a failure raised.
    pub alert_id: Option<i64>,
}

fn drill_view(d: &RestoreDrill) -> DrillView {
    DrillView {
        id: d.id,
        plan_id: d.plan_id,
        node: d.node.clone(),
        archive: d.archive.clone(),
        started_at: d.started_at,
        duration_ms: d.duration_ms,
        status: if d.passed { "passed" } else { "failed" }.into(),
        status_label: if d.passed {
            "演练通过"
        } else {
            "演练失败"
        }
        .into(),
        files: d.files,
        file_bytes: d.file_bytes,
        tree_sm3: d.tree_sm3.clone(),
        archive_sm3: d.archive_sm3.clone(),
        error: d.error.clone(),
        run_by: d.run_by.clone(),
        alert_id: d.alert_id,
    }
}

fn plan_resource(id: &str) -> shuan_policy::Resource {
    resource("backup_plan", id, None, None)
}

/// Saves a plan.
#[utoipa::path(post, path = "/api/v1/backup-plans", tag = "governance", request_body = NewPlan,
    responses((status = 201, body = PlanView), (status = "default", body = ErrorBody)))]
pub async fn create_plan(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewPlan>,
) -> ApiResult<(StatusCode, axum::Json<PlanView>)> {
    check_text("name", &req.name, 100)?;
    for (field, v, max) in [
        ("backup_interval_hours", req.backup_interval_hours, 8760),
        ("retention", req.retention, 365),
        ("drill_interval_hours", req.drill_interval_hours, 8760),
    ] {
        if !(1..=max).contains(&v) {
            return Err(ApiError::invalid(format!(
                "{field} 须为 1 至 {max} ({field}: 1 to {max})"
            )));
        }
    }
    let now = p.clock.now();
    let mut plan = BackupPlan {
        id: 0,
        name: req.name.clone(),
        backup_interval_hours: req.backup_interval_hours,
        retention: req.retention,
        drill_interval_hours: req.drill_interval_hours,
        next_backup_at: now,
        next_drill_at: now + req.drill_interval_hours * 3600,
        created_by: c.name().to_string(),
        created_at: now,
    };
    let mut details = Map::new();
    details.insert("name".into(), json!(req.name));
    details.insert(
        "backup_interval_hours".into(),
        json!(req.backup_interval_hours),
    );
    details.insert("retention".into(), json!(req.retention));
    details.insert(
        "drill_interval_hours".into(),
        json!(req.drill_interval_hours),
    );
    let stored = plan.clone();
    plan.id = p
        .act(
            &c,
            Action::BackupCreate,
            &plan_resource("new"),
            details,
            move |s| s.create_backup_plan(&stored),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(plan_view(&plan))))
}

/// Plans, by name.
#[utoipa::path(get, path = "/api/v1/backup-plans", tag = "governance",
    responses((status = 200, body = Vec<PlanView>), (status = "default", body = ErrorBody)))]
pub async fn list_plans(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<PlanView>>> {
    let plans = p
        .act(
            &c,
            Action::BackupRead,
            &plan_resource(""),
            Map::new(),
            |s| s.backup_plans(),
        )
        .await?;
    Ok(axum::Json(plans.iter().map(plan_view).collect()))
}

/// A plan's archives, newest first.
#[utoipa::path(get, path = "/api/v1/backup-plans/{id}/backups", tag = "governance",
    params(("id" = i64, Path, description = "plan id")),
    responses((status = 200, body = Vec<PlanBackupView>), (status = "default", body = ErrorBody)))]
pub async fn list_plan_backups(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<Vec<PlanBackupView>>> {
    let list = p
        .act(
            &c,
            Action::BackupRead,
            &plan_resource(&id.to_string()),
            Map::new(),
            move |s| s.plan_backups(id),
        )
        .await?;
    Ok(axum::Json(
        list.iter()
            .map(|b| PlanBackupView {
                id: b.id,
                node: b.node.clone(),
                archive: b.archive.clone(),
                created_at: b.created_at,
                archive_sm3: b.archive_sm3.clone(),
                files: b.files,
                pruned_at: b.pruned_at,
            })
            .collect(),
    ))
}

/// The newest archive of a plan still kept, if this node holds it.
async fn newest_here(p: &Arc<Platform>, plan_id: i64) -> Result<Option<PlanBackup>, ApiError> {
    let node = p.node.clone();
    let backups = p.db(move |s| s.plan_backups(plan_id)).await?;
    Ok(backups
        .into_iter()
        .find(|b| b.pruned_at.is_none())
        .filter(|b| b.node == node))
}

/// Restores `archive` into a scratch directory, digests it, checks it against its
/// creation record, removes the scratch; stores the drill and files an alert if it
/// failed.
async fn drill(
    p: &Arc<Platform>,
    plan: Option<&BackupPlan>,
    archive: &str,
    by: &str,
) -> Result<RestoreDrill, ApiError> {
    let started = p.clock.now();
    let clock = std::time::Instant::now();
    let p2 = Arc::clone(p);
    let path = PathBuf::from(archive);
    let outcome = tokio::task::spawn_blocking(move || -> Result<_, String> {
        let keyring = crate::routes::data::open_keyring(&p2).map_err(|e| e.message)?;
        let node_key = shuan_crypto::node::load_or_create_node_key(&p2.data_dir)
            .map_err(|e| format!("loading the node key: {e}"))?;
        let made = shuan_crypto::backup::read_log(&p2.data_dir)
            .map_err(|e| format!("reading the backup log: {e}"))?
            .into_iter()
            .rev()
            .find(|r| r.action == "create" && r.result == "ok" && r.archive == path);
        // Without its creation record there is nothing to compare the restore with: the
        // drill fails rather than passing on the signature alone.
        let Some(made) = made else {
            return Err(format!(
                "the backup log has no creation record of {}; the restore cannot be compared with what was backed up",
                path.display()
            ));
        };
        let scratch = p2.data_dir.join(WORKSPACE_DIR).join("drills");
        shuan_crypto::backup::drill(
            &path,
            &keyring,
            &node_key.verifying_key(),
            &scratch,
            Some(&made),
        )
        .map_err(|e| shuan_source::error_chain(&e))
    })
    .await
    .map_err(ApiError::internal)?;
    let duration_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
    let mut d = RestoreDrill {
        id: 0,
        plan_id: plan.map(|x| x.id),
        node: p.node.clone(),
        archive: archive.to_string(),
        started_at: started,
        duration_ms,
        passed: outcome.is_ok(),
        files: None,
        file_bytes: None,
        tree_sm3: None,
        archive_sm3: None,
        error: None,
        run_by: by.to_string(),
        alert_id: None,
    };
    match &outcome {
        Ok(r) => {
            d.files = i64::try_from(r.files).ok();
            d.file_bytes = i64::try_from(r.file_bytes).ok();
            d.tree_sm3 = Some(r.tree_sm3.clone());
            d.archive_sm3 = Some(r.archive_sm3.clone());
        }
        Err(e) => {
            d.error = Some(e.clone());
            let name = plan.map_or_else(|| "—".to_string(), |x| x.name.clone());
            let notice = Notice {
                rule: DRILL_FAILED_RULE,
                label: "恢复演练失败",
                key: format!("{DRILL_FAILED_RULE}:{archive}:{started}"),
                severity: "high",
                actor: by.to_string(),
                department: None,
                window: (started, started),
                summary_zh: format!(
                    "备份计划 {name} 的恢复演练失败：备份 {archive} 无法完整恢复（{e}）"
                ),
                summary_en: format!(
                    "restore drill of plan {name} failed: {archive} did not restore whole ({e})"
                ),
            };
            d.alert_id = file_notice(p, notice).await?;
        }
    }
    let stored = d.clone();
    d.id = p.db(move |s| s.record_restore_drill(&stored)).await?;
    Ok(d)
}

/// Drills a restore of the plan's newest archive now, on this node.
#[utoipa::path(post, path = "/api/v1/backup-plans/{id}/drill", tag = "governance",
    params(("id" = i64, Path, description = "plan id")),
    responses((status = 201, body = DrillView), (status = "default", body = ErrorBody)))]
pub async fn drill_plan(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, axum::Json<DrillView>)> {
    let p2 = Arc::clone(&p);
    let by = c.name().to_string();
    let done = p
        .act_then(
            &c,
            Action::BackupCreate,
            &plan_resource(&id.to_string()),
            Map::new(),
            || async move {
                let plan = p2
                    .db(move |s| s.backup_plan(id))
                    .await?
                    .ok_or_else(|| ApiError::not_found("backup plan", &id.to_string()))?;
                let Some(newest) = newest_here(&p2, id).await? else {
                    return Err(ApiError::new(
                        "conflict",
                        "该计划在本节点没有可演练的备份 (this node holds no kept archive of the plan; wait for its backup, or drill on the node that made it)",
                    ));
                };
                drill(&p2, Some(&plan), &newest.archive, &by).await
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(drill_view(&done))))
}

/// Query of `GET /api/v1/restore-drills`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DrillQuery {
    /// Only this plan's drills.
    pub plan: Option<i64>,
    /// At most this many, newest first (1–500, default 50).
    pub limit: Option<i64>,
}

/// Drills, newest first.
#[utoipa::path(get, path = "/api/v1/restore-drills", tag = "governance", params(DrillQuery),
    responses((status = 200, body = Vec<DrillView>), (status = "default", body = ErrorBody)))]
pub async fn list_drills(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<DrillQuery>,
) -> ApiResult<axum::Json<Vec<DrillView>>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit 须为 1 至 500 (1 to 500)"));
    }
    let plan = q.plan;
    let list = p
        .act(
            &c,
            Action::BackupRead,
            &plan_resource(""),
            Map::new(),
            move |s| s.restore_drills(plan, limit),
        )
        .await?;
    Ok(axum::Json(list.iter().map(drill_view).collect()))
}

/// The next time on a schedule of `hours` after `now`, from the due time `at` (missed
/// times are not stacked up).
fn next_after(at: i64, hours: i64, now: i64) -> i64 {
    let step = hours.max(1) * 3600;
    at + ((now - at) / step + 1) * step
}

/// Makes one backup for a plan on this node, then applies its retention; answers the
/// archive recorded.
async fn backup_for(p: &Arc<Platform>, plan: &BackupPlan) -> Result<PlanBackup, ApiError> {
    let stamp = p.clock.now();
    let dir = p.data_dir.join(WORKSPACE_DIR).join("backups");
    let suffix = crate::auth::random_hex(3)?;
    let out = dir.join(format!("plan-{}-{stamp}-{suffix}.shuanbak", plan.id));
    let data_dir = p.data_dir.clone();
    let out2 = out.clone();
    let end = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(out2.parent().unwrap_or(Path::new(".")))
            .map_err(|e| format!("creating {}: {e}", out2.display()))?;
        let end = crate::routes::jobs::run_backup(&data_dir, &out2, &AtomicU64::new(0));
        match (end.error, end.result) {
            (Some(e), _) => Err(e),
            (None, Some(r)) => Ok((r, end.derived)),
            (None, None) => Err("the backup answered nothing".to_string()),
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let (result, derived) = match end {
        Ok(x) => x,
        Err(e) => {
            let notice = Notice {
                rule: BACKUP_FAILED_RULE,
                label: "备份失败",
                key: format!("{BACKUP_FAILED_RULE}:{}:{stamp}", plan.id),
                severity: "high",
                actor: SCHEDULER.into(),
                department: None,
                window: (stamp, stamp),
                summary_zh: format!("备份计划 {} 的定时备份失败：{e}", plan.name),
                summary_en: format!("scheduled backup of plan {} failed: {e}", plan.name),
            };
            file_notice(p, notice).await?;
            return Err(ApiError::internal(format!("backup failed: {e}")));
        }
    };
    let mut b = PlanBackup {
        id: 0,
        plan_id: plan.id,
        node: p.node.clone(),
        archive: out.display().to_string(),
        created_at: stamp,
        archive_sm3: result["archive_sm3"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        files: result["files"].as_i64().unwrap_or(0),
        bytes: result["bytes"].as_i64().unwrap_or(0),
        pruned_at: None,
    };
    let stored = b.clone();
    b.id = p.db(move |s| s.record_plan_backup(&stored)).await?;
    // Its lineage once the archive is the plan's record.
    crate::routes::jobs::record_derived(p, derived, None, SCHEDULER).await;
    // Retention: the newest `retention` kept archives stay; older ones on this node go,
    // each recorded before its files are deleted.
    let plan_id = plan.id;
    let kept: Vec<PlanBackup> = p
        .db(move |s| s.plan_backups(plan_id))
        .await?
        .into_iter()
        .filter(|x| x.pruned_at.is_none())
        .collect();
    for old in kept
        .iter()
        .skip(usize::try_from(plan.retention).unwrap_or(1))
        .filter(|x| x.node == p.node)
    {
        let mut details = Map::new();
        details.insert("plan".into(), json!(plan.name));
        details.insert("archive_sm3".into(), json!(old.archive_sm3));
        if let Err(e) = p.record_system("backup.prune", &old.archive, details).await {
            tracing::warn!(archive = %old.archive, error = %e, "a pruning could not be recorded; the archive is kept");
            continue;
        }
        let archive = PathBuf::from(&old.archive);
        let mut removed = true;
        for f in [
            archive.clone(),
            shuan_crypto::backup::signature_path(&archive),
        ] {
            if let Err(e) = std::fs::remove_file(&f) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(file = %f.display(), error = %e, "an old archive could not be deleted; it stays listed as kept");
                    removed = false;
                }
            }
        }
        // Marked pruned only when it is gone: an archive that could not be deleted stays
        // listed, and is tried again after the next backup.
        if !removed {
            continue;
        }
        let (id, at) = (old.id, p.clock.now());
        p.db(move |s| s.mark_plan_backup_pruned(id, at)).await?;
    }
    Ok(b)
}

/// Does the backups and drills whose time has come, each due time once across nodes:
/// claimed in the store, recorded in the ledger as the node's act (not done when that
/// cannot be written), then done. A drill is claimed only by the node that holds the
/// plan's newest archive. Answers how many backups and drills were made.
pub async fn run_due(p: &Arc<Platform>) -> Result<(usize, usize), ApiError> {
    let now = p.clock.now();
    let plans = p.db(|s| s.backup_plans()).await?;
    let (mut backups, mut drills) = (0, 0);
    for plan in &plans {
        if plan.next_backup_at <= now {
            let (id, at) = (plan.id, plan.next_backup_at);
            let next = next_after(at, plan.backup_interval_hours, now);
            if p.db(move |s| s.claim_plan_backup(id, at, next)).await? {
                let mut details = Map::new();
                details.insert("plan".into(), json!(plan.name));
                details.insert("due_at".into(), json!(at));
                match p
                    .record_system("backup.create", &format!("backup_plan:{id}"), details)
                    .await
                {
                    Err(e) => {
                        tracing::warn!(plan = id, error = %e, "a scheduled backup could not be recorded; not made")
                    }
                    Ok(_) => match backup_for(p, plan).await {
                        Ok(_) => backups += 1,
                        Err(e) => {
                            tracing::warn!(plan = id, error = %e, "a scheduled backup failed")
                        }
                    },
                }
            }
        }
        if plan.next_drill_at <= now {
            let Some(newest) = newest_here(p, plan.id).await? else {
                continue;
            };
            let (id, at) = (plan.id, plan.next_drill_at);
            let next = next_after(at, plan.drill_interval_hours, now);
            if !p.db(move |s| s.claim_plan_drill(id, at, next)).await? {
                continue;
            }
            let mut details = Map::new();
            details.insert("plan".into(), json!(plan.name));
            details.insert("archive".into(), json!(newest.archive));
            if let Err(e) = p
                .record_system("backup.drill", &format!("backup_plan:{id}"), details)
                .await
            {
                tracing::warn!(plan = id, error = %e, "a scheduled drill could not be recorded; not made");
                // Its due time is claimed already: say it was missed, as the overdue
                // check would have (the same key).
                let when = shuan_crypto::time::format_unix(at);
                let notice = Notice {
                    rule: DRILL_OVERDUE_RULE,
                    label: "恢复演练逾期",
                    key: format!("{DRILL_OVERDUE_RULE}:{id}:{at}"),
                    severity: "medium",
                    actor: SCHEDULER.into(),
                    department: None,
                    window: (at, now),
                    summary_zh: format!(
                        "备份计划 {} 的恢复演练应于 {when} 进行，因审计日志无法记录而未进行",
                        plan.name
                    ),
                    summary_en: format!(
                        "the restore drill of backup plan {} due at {when} was not made: it could not be recorded in the audit ledger",
                        plan.name
                    ),
                };
                if let Err(e) = file_notice(p, notice).await {
                    tracing::error!(plan = id, error = %e, "a missed drill could not be alerted");
                }
                continue;
            }
            // One plan's failure does not stop the others' drills.
            match drill(p, Some(plan), &newest.archive, SCHEDULER).await {
                Ok(_) => drills += 1,
                Err(e) => {
                    tracing::warn!(plan = id, error = %e, "a scheduled drill could not be recorded")
                }
            }
        }
    }
    Ok((backups, drills))
}

/// The rule id of the alert a drill not run in time files.
pub const DRILL_OVERDUE_RULE: &str = "restore_drill_overdue";

/// How long after its due time a drill may still be running or waiting for the node that
/// holds the archive before it counts as overdue.
pub const DRILL_GRACE_SECONDS: i64 = 3_600;

/// Files one `restore_drill_overdue` alert per plan and missed drill time (a plan whose
/// drill is over an hour past due: no node ran it, e.g. the one holding the archive is
/// down); answers how many were filed now.
pub async fn check_overdue(p: &Platform) -> Result<usize, ApiError> {
    let now = p.clock.now();
    let plans = p.db(|s| s.backup_plans()).await?;
    let notices: Vec<Notice> = plans
        .into_iter()
        .filter(|x| x.next_drill_at + DRILL_GRACE_SECONDS < now)
        .map(|plan| {
            let when = shuan_crypto::time::format_unix(plan.next_drill_at);
            Notice {
                rule: DRILL_OVERDUE_RULE,
                label: "恢复演练逾期",
                key: format!("{DRILL_OVERDUE_RULE}:{}:{}", plan.id, plan.next_drill_at),
                severity: "medium",
                actor: SCHEDULER.into(),
                department: None,
                window: (plan.next_drill_at, now),
                summary_zh: format!(
                    "备份计划 {} 的恢复演练应于 {when} 进行，逾期一小时以上仍未进行（保存备份的节点可能不在线）",
                    plan.name
                ),
                summary_en: format!(
                    "the restore drill of backup plan {} was due at {when} and has not run for over an hour (is the node holding the archive down?)",
                    plan.name
                ),
            }
        })
        .collect();
    file_notices(p, notices).await
}
