//! Emergency plans and drills (应急预案、应急演练, R-34) over HTTP.
//!
//! The security administrator adopts plans, each with the interval at which it must be
//! drilled, and records drills with their scenario, form, participants, evaluation,
//! lessons and findings (rectification items, see [`crate::routes::risk`]). A plan not
//! drilled within its interval files one `emergency_drill_overdue` alert per due date
//! (checked once a minute).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use shuan_policy::Action;
use shuan_store::platform::{EmergencyDrill, EmergencyPlan};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiResult, ErrorBody};
use crate::routes::alerts::{file_notices, Notice};
use crate::routes::identity::{check_past, check_prose, check_text};
use crate::routes::risk::{findings, item_view, unknown_named, FindingBody, RectificationView};
use crate::state::Platform;

/// The rule id of the alert a plan not drilled in time files.
pub const OVERDUE_RULE: &str = "emergency_drill_overdue";

/// The emergency endpoints.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(adopt_plan, list_plans))
        .routes(routes!(record_drill))
        .routes(routes!(list_drills))
}

/// `POST /api/v1/emergency-plans`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    /// 预案名称, 1–200 characters.
    pub title: String,
    /// The events it covers, 1–2000 characters.
    pub scope: String,
    /// The department (code).
    pub department: String,
    /// Its version, 1–50 characters.
    pub version: String,
    /// Organisation, reporting line and response steps, 1–20000 characters.
    pub summary: String,
    /// Drill it at least every this many days (1–1095).
    pub drill_interval_days: i64,
    /// When it was adopted (Unix seconds, not in the future).
    pub adopted_at: i64,
}

/// A plan in answers.
#[derive(Serialize, ToSchema)]
pub struct PlanView {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Scope.
    pub scope: String,
    /// Department.
    pub department: String,
    /// Version.
    pub version: String,
    /// Summary.
    pub summary: String,
    /// Days between drills.
    pub drill_interval_days: i64,
    /// When it was adopted.
    pub adopted_at: i64,
    /// Its latest drill.
    pub last_drill_at: Option<i64>,
    /// When the next drill is due.
    pub drill_due_at: i64,
    /// Not drilled in time.
    pub drill_overdue: bool,
    /// Who recorded it.
    pub created_by: String,
}

fn plan_view(x: &EmergencyPlan, now: i64) -> PlanView {
    PlanView {
        id: x.id,
        title: x.title.clone(),
        scope: x.scope.clone(),
        department: x.department.clone(),
        version: x.version.clone(),
        summary: x.summary.clone(),
        drill_interval_days: x.drill_interval_days,
        adopted_at: x.adopted_at,
        last_drill_at: x.last_drill_at,
        drill_due_at: x.drill_due_at(),
        drill_overdue: x.drill_due_at() < now,
        created_by: x.created_by.clone(),
    }
}

fn plan_resource(x: &EmergencyPlan) -> shuan_policy::Resource {
    resource(
        "emergency_plan",
        &x.id.to_string(),
        Some(&x.department),
        None,
    )
}

/// Adopts a plan.
#[utoipa::path(post, path = "/api/v1/emergency-plans", tag = "governance", request_body = NewPlan,
    responses((status = 201, body = PlanView), (status = "default", body = ErrorBody)))]
pub async fn adopt_plan(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewPlan>,
) -> ApiResult<(StatusCode, axum::Json<PlanView>)> {
    check_text("title", &req.title, 200)?;
    check_prose("scope", &req.scope, 2000)?;
    check_text("version", &req.version, 50)?;
    check_prose("summary", &req.summary, 20_000)?;
    if !(1..=1095).contains(&req.drill_interval_days) {
        return Err(ApiError::invalid(
            "drill_interval_days 须为 1 至 1095 天 (1 to 1,095 days)",
        ));
    }
    let now = p.clock.now();
    check_past("adopted_at", req.adopted_at, now)?;
    let mut plan = EmergencyPlan {
        id: 0,
        title: req.title.clone(),
        scope: req.scope.clone(),
        department: req.department.clone(),
        version: req.version.clone(),
        summary: req.summary.clone(),
        drill_interval_days: req.drill_interval_days,
        adopted_at: req.adopted_at,
        last_drill_at: None,
        created_by: c.name().to_string(),
        created_at: now,
    };
    let mut details = Map::new();
    details.insert("title".into(), json!(req.title));
    details.insert("version".into(), json!(req.version));
    let r = resource("emergency_plan", "new", Some(&req.department), None);
    let stored = plan.clone();
    plan.id = p
        .act(&c, Action::EmergencyManage, &r, details, move |s| {
            s.create_emergency_plan(&stored)
        })
        .await
        .map_err(unknown_named)?;
    Ok((StatusCode::CREATED, axum::Json(plan_view(&plan, now))))
}

/// Plans the caller may read, by department.
#[utoipa::path(get, path = "/api/v1/emergency-plans", tag = "governance",
    responses((status = 200, body = Vec<PlanView>), (status = "default", body = ErrorBody)))]
pub async fn list_plans(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<PlanView>>> {
    let all = p.db(|s| s.emergency_plans()).await?;
    let now = p.clock.now();
    let mine = p
        .readable(
            &c,
            Action::EmergencyRead,
            "emergency_plan",
            all,
            plan_resource,
        )
        .await?;
    Ok(axum::Json(mine.iter().map(|x| plan_view(x, now)).collect()))
}

/// `POST /api/v1/emergency-plans/{id}/drills`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDrill {
    /// When it was held (Unix seconds, not in the future, not before the plan).
    pub held_at: i64,
    /// The scenario, 1–2000 characters.
    pub scenario: String,
    /// `tabletop` (桌面推演) or `live` (实战演练).
    pub form: String,
    /// Who took part (1–500 entries of 1–100 characters).
    pub participants: Vec<String>,
    /// The evaluation (演练评估), 1–20000 characters.
    pub evaluation: String,
    /// Lessons learnt, 1–20000 characters.
    pub lessons: String,
    /// Findings (0–200), each a rectification item.
    #[serde(default)]
    pub findings: Vec<FindingBody>,
}

/// A drill in answers.
#[derive(Serialize, ToSchema)]
pub struct DrillView {
    /// Id.
    pub id: i64,
    /// The plan.
    pub plan_id: i64,
    /// Department.
    pub department: String,
    /// When it was held.
    pub held_at: i64,
    /// Scenario.
    pub scenario: String,
    /// `tabletop` or `live`.
    pub form: String,
    /// Participants.
    pub participants: Vec<String>,
    /// Evaluation.
    pub evaluation: String,
    /// Lessons.
    pub lessons: String,
    /// Findings.
    pub findings: Vec<RectificationView>,
    /// Who recorded it.
    pub created_by: String,
}

fn drill_view(d: &EmergencyDrill, now: i64) -> DrillView {
    DrillView {
        id: d.id,
        plan_id: d.plan_id,
        department: d.department.clone(),
        held_at: d.held_at,
        scenario: d.scenario.clone(),
        form: d.form.clone(),
        participants: d.participants.clone(),
        evaluation: d.evaluation.clone(),
        lessons: d.lessons.clone(),
        findings: d.findings.iter().map(|f| item_view(f, now)).collect(),
        created_by: d.created_by.clone(),
    }
}

/// Records a drill of a plan.
#[utoipa::path(post, path = "/api/v1/emergency-plans/{id}/drills", tag = "governance", request_body = NewDrill,
    params(("id" = i64, Path, description = "plan id")),
    responses((status = 201, body = DrillView), (status = "default", body = ErrorBody)))]
pub async fn record_drill(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<NewDrill>,
) -> ApiResult<(StatusCode, axum::Json<DrillView>)> {
    check_prose("scenario", &req.scenario, 2000)?;
    if req.form != "tabletop" && req.form != "live" {
        return Err(ApiError::invalid(
            "form 须为 tabletop（桌面推演）或 live（实战演练） (form: tabletop or live)",
        ));
    }
    if req.participants.is_empty() || req.participants.len() > 500 {
        return Err(ApiError::invalid(
            "participants 须有 1 至 500 项 (1 to 500 participants)",
        ));
    }
    for (n, who) in req.participants.iter().enumerate() {
        check_text(&format!("participants[{n}]"), who, 100)?;
    }
    check_prose("evaluation", &req.evaluation, 20_000)?;
    check_prose("lessons", &req.lessons, 20_000)?;
    let now = p.clock.now();
    check_past("held_at", req.held_at, now)?;
    let items = findings(&req.findings, req.held_at)?;
    let plan = p
        .db(|s| s.emergency_plans())
        .await?
        .into_iter()
        .find(|x| x.id == id);
    let Some(plan) = plan else {
        return Err(p
            .missing(&c, Action::EmergencyManage, "emergency_plan", id)
            .await);
    };
    let mut drill = EmergencyDrill {
        id: 0,
        plan_id: id,
        department: plan.department.clone(),
        held_at: req.held_at,
        scenario: req.scenario.clone(),
        form: req.form.clone(),
        participants: req.participants.clone(),
        evaluation: req.evaluation.clone(),
        lessons: req.lessons.clone(),
        findings: items,
        created_by: c.name().to_string(),
        created_at: now,
    };
    let mut details = Map::new();
    details.insert("plan".into(), json!(plan.title));
    details.insert("findings".into(), json!(req.findings.len()));
    let stored = drill.clone();
    let store = Arc::clone(&p);
    let adopted_at = plan.adopted_at;
    drill.id = p
        .act_then(
            &c,
            Action::EmergencyManage,
            &plan_resource(&plan),
            details,
            || async move {
                // Told only after the policy allowed the request: the plan's adoption
                // time is the plan's own.
                if stored.held_at < adopted_at {
                    return Err(ApiError::invalid(
                        "held_at 不能早于预案的采用时间 (a drill cannot predate its plan)",
                    ));
                }
                store.db(move |s| s.create_emergency_drill(&stored)).await
            },
        )
        .await
        .map_err(unknown_named)?;
    let drill_id = drill.id;
    let saved = p
        .db(|s| s.emergency_drills())
        .await?
        .into_iter()
        .find(|d| d.id == drill_id)
        .unwrap_or(drill);
    Ok((StatusCode::CREATED, axum::Json(drill_view(&saved, now))))
}

/// Drills the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/emergency-drills", tag = "governance",
    responses((status = 200, body = Vec<DrillView>), (status = "default", body = ErrorBody)))]
pub async fn list_drills(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<DrillView>>> {
    let all = p.db(|s| s.emergency_drills()).await?;
    let now = p.clock.now();
    let mine = p
        .readable(&c, Action::EmergencyRead, "emergency_plan", all, |d| {
            resource(
                "emergency_plan",
                &d.plan_id.to_string(),
                Some(&d.department),
                None,
            )
        })
        .await?;
    Ok(axum::Json(
        mine.iter().map(|d| drill_view(d, now)).collect(),
    ))
}

/// Files one `emergency_drill_overdue` alert per plan and missed due date; answers how
/// many were filed now.
pub async fn check_overdue(p: &Platform) -> Result<usize, ApiError> {
    let now = p.clock.now();
    let plans = p.db(|s| s.emergency_plans()).await?;
    let notices: Vec<Notice> = plans
        .into_iter()
        .filter(|x| x.drill_due_at() < now)
        .map(|x| {
            let due = x.drill_due_at();
            let when = shuan_crypto::time::format_unix(due);
            Notice {
                rule: OVERDUE_RULE,
                label: "应急演练逾期",
                // One alert per missed due date: a drill moves the due date, and a new miss
                // files again.
                key: format!("{OVERDUE_RULE}:{}:{due}", x.id),
                severity: "medium",
                actor: x.created_by.clone(),
                department: Some(x.department.clone()),
                window: (x.last_drill_at.unwrap_or(x.adopted_at), due),
                summary_zh: format!(
                    "应急预案 {}「{}」应于 {when} 前演练（每 {} 天至少一次），{}",
                    x.id,
                    x.title,
                    x.drill_interval_days,
                    x.last_drill_at.map_or_else(
                        || "尚无演练记录".to_string(),
                        |t| format!("最近一次演练于 {}", shuan_crypto::time::format_unix(t))
                    )
                ),
                summary_en: format!(
                    "emergency plan {} was due for a drill by {when} (every {} days); {}",
                    x.id,
                    x.drill_interval_days,
                    x.last_drill_at.map_or_else(
                        || "it was never drilled".to_string(),
                        |t| format!(
                            "its latest drill was at {}",
                            shuan_crypto::time::format_unix(t)
                        )
                    )
                ),
            }
        })
        .collect();
    file_notices(p, notices).await
}
