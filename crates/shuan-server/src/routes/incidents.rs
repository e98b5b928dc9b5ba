//! Security incidents (安全事件, R-34) over HTTP.
//!
//! The security administrator reports an incident with its grade (特别重大 / 重大 / 较大 /
//! 一般), department, responsible person and the alerts and audit records it concerns,
//! then follows it on its timeline: notes, the report to the supervisor (上报), the end of
//! the response — from which the supplementary report (补充报告) is due within 15 days (XY
//! 36) — the report, and closing with lessons learnt. The auditor, the chief data officer
//! and the supervisor read them. A supplementary report not in by its due second raises
//! one alert (`incident_report_overdue`) through the misuse alerts' store, checked by the
//! node's background task once a minute ([`check_deadlines`]); times are the platform's
//! clock, so tests move it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use shuan_policy::Action;
use shuan_store::platform::{Incident, IncidentEvent, IncidentStatus};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::routes::alerts::{file_notice, Notice};
use crate::routes::identity::check_text;
use crate::state::Platform;

/// The rule id of the alert an overdue supplementary report raises.
pub const OVERDUE_RULE: &str = "incident_report_overdue";

/// The incident endpoints.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(report_incident, list_incidents))
        .routes(routes!(get_incident))
        .routes(routes!(add_note))
        .routes(routes!(report_to_supervisor))
        .routes(routes!(end_response))
        .routes(routes!(submit_supplementary))
        .routes(routes!(close_incident))
}

/// The grades (事件分级) with their Chinese labels.
pub const GRADES: [(&str, &str); 4] = [
    ("especially_major", "特别重大"),
    ("major", "重大"),
    ("larger", "较大"),
    ("general", "一般"),
];

fn grade_label(id: &str) -> &'static str {
    GRADES.iter().find(|(g, _)| *g == id).map_or("", |(_, l)| l)
}

/// `POST /api/v1/incidents`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    /// 事件名称, 1–200 characters.
    pub title: String,
    /// `especially_major` (特别重大), `major` (重大), `larger` (较大) or `general` (一般).
    pub grade: String,
    /// The department it happened in (code).
    pub department: String,
    /// What happened, 1–5000 characters.
    pub description: String,
    /// When it happened (Unix seconds; not in the future).
    pub occurred_at: i64,
    /// The responsible person (an account's user name).
    pub handler: String,
    /// Misuse alerts it concerns.
    #[serde(default)]
    pub alerts: Vec<i64>,
    /// Request ids of audit records it concerns.
    #[serde(default)]
    pub audit_refs: Vec<String>,
}

/// A step's text: `note`, `report` or `lessons` by the endpoint.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepText {
    /// 说明 (notes, the report to the supervisor, the end of the response).
    #[serde(default)]
    pub note: Option<String>,
    /// 补充报告 (the supplementary report).
    #[serde(default)]
    pub report: Option<String>,
    /// 经验教训 (closing).
    #[serde(default)]
    pub lessons: Option<String>,
}

/// An incident in answers.
#[derive(Serialize, ToSchema)]
pub struct IncidentView {
    /// Id.
    pub id: i64,
    /// 事件名称.
    pub title: String,
    /// Grade id.
    pub grade: String,
    /// Grade in Chinese.
    pub grade_label: String,
    /// Department.
    pub department: String,
    /// What happened.
    pub description: String,
    /// When it happened.
    pub occurred_at: i64,
    /// Responsible person.
    pub handler: String,
    /// Alerts it concerns.
    pub alerts: Vec<i64>,
    /// Audit request ids it concerns.
    pub audit_refs: Vec<String>,
    /// `responding`, `response_ended` or `closed`.
    pub status: String,
    /// The status in Chinese.
    pub status_label: String,
    /// Who reported it.
    pub reported_by: String,
    /// When.
    pub reported_at: i64,
    /// When it was reported to the supervisor.
    pub supervisor_reported_at: Option<i64>,
    /// When the response ended.
    pub response_ended_at: Option<i64>,
    /// When the supplementary report is due.
    pub supplementary_due: Option<i64>,
    /// The supplementary report.
    pub supplementary_report: Option<String>,
    /// When it came in.
    pub supplementary_at: Option<i64>,
    /// Lessons learnt.
    pub lessons: Option<String>,
    /// When it was closed.
    pub closed_at: Option<i64>,
    /// The supplementary report is due and not in (as the platform's clock reads).
    pub overdue: bool,
    /// The timeline, oldest first (one incident only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<EventView>>,
}

/// One timeline event.
#[derive(Serialize, ToSchema)]
pub struct EventView {
    /// When.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// `reported`, `note`, `supervisor_reported`, `response_ended`, `supplementary`,
    /// `closed`.
    pub kind: String,
    /// What was said.
    pub note: String,
}

fn view(i: &Incident, now: i64, events: Option<Vec<IncidentEvent>>) -> IncidentView {
    IncidentView {
        id: i.id,
        title: i.title.clone(),
        grade: i.grade.clone(),
        grade_label: grade_label(&i.grade).into(),
        department: i.department.clone(),
        description: i.description.clone(),
        occurred_at: i.occurred_at,
        handler: i.handler.clone(),
        alerts: i.alerts.clone(),
        audit_refs: i.audit_refs.clone(),
        status: i.status.as_str().into(),
        status_label: i.status.label().into(),
        reported_by: i.reported_by.clone(),
        reported_at: i.reported_at,
        supervisor_reported_at: i.supervisor_reported_at,
        response_ended_at: i.response_ended_at,
        supplementary_due: i.supplementary_due,
        supplementary_report: i.supplementary_report.clone(),
        supplementary_at: i.supplementary_at,
        lessons: i.lessons.clone(),
        closed_at: i.closed_at,
        overdue: i.overdue_at(now),
        timeline: events.map(|es| {
            es.into_iter()
                .map(|e| EventView {
                    at: e.at,
                    actor: e.actor,
                    kind: e.kind,
                    note: e.note,
                })
                .collect()
        }),
    }
}

fn incident_resource(i: &Incident) -> shuan_policy::Resource {
    resource(
        "incident",
        &i.id.to_string(),
        Some(&i.department),
        Some(&i.reported_by),
    )
}

/// Query of `GET /api/v1/incidents`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IncidentQuery {
    /// Only in this status.
    pub status: Option<String>,
    /// Only those whose supplementary report is overdue.
    pub overdue: Option<bool>,
}

/// Reports an incident (事件登记).
#[utoipa::path(post, path = "/api/v1/incidents", tag = "governance", request_body = NewIncident,
    responses((status = 201, body = IncidentView), (status = "default", body = ErrorBody)))]
pub async fn report_incident(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewIncident>,
) -> ApiResult<(StatusCode, axum::Json<IncidentView>)> {
    check_text("title", &req.title, 200)?;
    check_text("description", &req.description, 5000)?;
    if grade_label(&req.grade).is_empty() {
        return Err(ApiError::invalid(
            "grade 须为 especially_major（特别重大）、major（重大）、larger（较大）或 general（一般） (grade is especially_major, major, larger or general)",
        ));
    }
    let now = p.clock.now();
    if req.occurred_at > now + 300 {
        return Err(ApiError::invalid(
            "occurred_at 不能晚于现在 (occurred_at is in the future)",
        ));
    }
    if req.occurred_at <= 0 {
        return Err(ApiError::invalid(
            "occurred_at 须为事件发生时间（Unix 秒） (occurred_at is the time it happened, Unix seconds)",
        ));
    }
    if req.alerts.len() > 100 || req.audit_refs.len() > 100 {
        return Err(ApiError::invalid(
            "alerts、audit_refs 各最多 100 项 (at most 100 alerts and 100 audit references)",
        ));
    }
    for (n, r) in req.audit_refs.iter().enumerate() {
        check_text(&format!("audit_refs[{n}]"), r, 100)?;
    }
    let mut i = Incident {
        id: 0,
        title: req.title.clone(),
        grade: req.grade.clone(),
        department: req.department.clone(),
        description: req.description.clone(),
        occurred_at: req.occurred_at,
        handler: req.handler.clone(),
        alerts: req.alerts.clone(),
        audit_refs: req.audit_refs.clone(),
        status: IncidentStatus::Responding,
        reported_by: c.name().to_string(),
        reported_at: now,
        supervisor_reported_by: None,
        supervisor_reported_at: None,
        response_ended_at: None,
        supplementary_due: None,
        supplementary_report: None,
        supplementary_by: None,
        supplementary_at: None,
        lessons: None,
        closed_by: None,
        closed_at: None,
    };
    let mut details = Map::new();
    details.insert("title".into(), json!(req.title));
    details.insert("grade".into(), json!(req.grade));
    details.insert("handler".into(), json!(req.handler));
    let r = resource("incident", "new", Some(&req.department), Some(c.name()));
    let i2 = i.clone();
    let p2 = Arc::clone(&p);
    i.id = p
        .act_then(&c, Action::IncidentManage, &r, details, || async move {
            // What it names must exist: the department, the person, the alerts — told
            // only to a caller the policy allowed (a refused caller cannot probe which
            // accounts or alerts exist).
            let (department, handler, alerts) =
                (i2.department.clone(), i2.handler.clone(), i2.alerts.clone());
            let missing = p2
                .db(move |s| {
                    if s.department(&department)?.is_none() {
                        return Ok(Some(format!(
                            "department：部门 {department} 不存在 (no such department)"
                        )));
                    }
                    if s.user(&handler)?.is_none() {
                        return Ok(Some(format!(
                            "handler：账号 {handler} 不存在 (no such account)"
                        )));
                    }
                    for (n, id) in alerts.iter().enumerate() {
                        if s.alert(*id)?.is_none() {
                            return Ok(Some(format!(
                                "alerts[{n}]：告警 {id} 不存在 (no such alert)"
                            )));
                        }
                    }
                    Ok(None)
                })
                .await?;
            if let Some(m) = missing {
                return Err(ApiError::invalid(m));
            }
            p2.db(move |s| s.create_incident(&i2)).await
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view(&i, now, None))))
}

/// Incidents the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "governance", params(IncidentQuery),
    responses((status = 200, body = Vec<IncidentView>), (status = "default", body = ErrorBody)))]
pub async fn list_incidents(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<IncidentQuery>,
) -> ApiResult<axum::Json<Vec<IncidentView>>> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(IncidentStatus::parse(s).ok_or_else(|| {
            ApiError::invalid("status 须为 responding、response_ended 或 closed")
        })?),
    };
    p.authorize(
        &c,
        Action::IncidentRead,
        &resource("incident", "", None, None),
        Map::new(),
    )
    .await?;
    let all = p.db(move |s| s.incidents(status)).await?;
    let tree = p.tree_for(&c).await?;
    let now = p.clock.now();
    Ok(axum::Json(
        all.iter()
            .filter(|i| q.overdue.is_none_or(|o| i.overdue_at(now) == o))
            .filter(|i| p.allows(&c, Action::IncidentRead, &incident_resource(i), &tree))
            .map(|i| view(i, now, None))
            .collect(),
    ))
}

async fn load(p: &Arc<Platform>, id: i64) -> Result<Incident, ApiError> {
    p.db(move |s| s.incident(id))
        .await?
        .ok_or_else(|| ApiError::not_found("incident", &id.to_string()))
}

/// One incident with its timeline.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "governance",
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentView), (status = "default", body = ErrorBody)))]
pub async fn get_incident(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<IncidentView>> {
    let i = load(&p, id).await?;
    p.authorize(&c, Action::IncidentRead, &incident_resource(&i), Map::new())
        .await?;
    let events = p.db(move |s| s.incident_events(id)).await?;
    Ok(axum::Json(view(&i, p.clock.now(), Some(events))))
}

/// Which step an endpoint takes.
#[derive(Clone, Copy)]
enum Step {
    Note,
    Supervisor,
    EndResponse,
    Supplementary,
    Close,
}

impl Step {
    fn field(self) -> &'static str {
        match self {
            Step::Note | Step::Supervisor | Step::EndResponse => "note",
            Step::Supplementary => "report",
            Step::Close => "lessons",
        }
    }

    fn audit(self) -> &'static str {
        match self {
            Step::Note => "note",
            Step::Supervisor => "report_to_supervisor",
            Step::EndResponse => "end_response",
            Step::Supplementary => "supplementary",
            Step::Close => "close",
        }
    }
}

async fn step(
    p: Arc<Platform>,
    c: Caller,
    id: i64,
    step: Step,
    body: StepText,
) -> ApiResult<axum::Json<IncidentView>> {
    let field = step.field();
    let (text, others) = match step {
        Step::Supplementary => (body.report, [body.note, body.lessons]),
        Step::Close => (body.lessons, [body.note, body.report]),
        _ => (body.note, [body.report, body.lessons]),
    };
    if others.iter().any(Option::is_some) {
        return Err(ApiError::invalid(format!(
            "此步骤只接受 {field} (this step takes `{field}` only)"
        )));
    }
    let text =
        text.ok_or_else(|| ApiError::invalid(format!("{field} 不能为空 ({field} is required)")))?;
    check_text(field, &text, 20_000)?;
    let i = load(&p, id).await?;
    let mut details = Map::new();
    details.insert("step".into(), json!(step.audit()));
    details.insert("title".into(), json!(i.title));
    let by = c.name().to_string();
    let now = p.clock.now();
    let updated = p
        .act(
            &c,
            Action::IncidentManage,
            &incident_resource(&i),
            details,
            move |s| match step {
                Step::Note => s.add_incident_note(id, &by, &text, now),
                Step::Supervisor => s.report_incident_to_supervisor(id, &by, &text, now),
                Step::EndResponse => s.end_incident_response(id, &by, &text, now),
                Step::Supplementary => s.submit_incident_supplementary(id, &by, &text, now),
                Step::Close => s.close_incident(id, &by, &text, now),
            },
        )
        .await?;
    Ok(axum::Json(view(&updated, now, None)))
}

/// Adds a note to the timeline (处置记录).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/notes", tag = "governance", request_body = StepText,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentView), (status = "default", body = ErrorBody)))]
pub async fn add_note(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<StepText>,
) -> ApiResult<axum::Json<IncidentView>> {
    step(p, c, id, Step::Note, b).await
}

/// Records the report to the supervisor (上报), once.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/report-to-supervisor", tag = "governance", request_body = StepText,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentView), (status = "default", body = ErrorBody)))]
pub async fn report_to_supervisor(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<StepText>,
) -> ApiResult<axum::Json<IncidentView>> {
    step(p, c, id, Step::Supervisor, b).await
}

/// Ends the response (处置结束): the supplementary report is due in 15 days.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/end-response", tag = "governance", request_body = StepText,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentView), (status = "default", body = ErrorBody)))]
pub async fn end_response(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<StepText>,
) -> ApiResult<axum::Json<IncidentView>> {
    step(p, c, id, Step::EndResponse, b).await
}

/// Submits the supplementary report (补充报告), in `report`.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/supplementary", tag = "governance", request_body = StepText,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentView), (status = "default", body = ErrorBody)))]
pub async fn submit_supplementary(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<StepText>,
) -> ApiResult<axum::Json<IncidentView>> {
    step(p, c, id, Step::Supplementary, b).await
}

/// Closes the incident (结案) with the lessons learnt, in `lessons`.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/close", tag = "governance", request_body = StepText,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentView), (status = "default", body = ErrorBody)))]
pub async fn close_incident(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<StepText>,
) -> ApiResult<axum::Json<IncidentView>> {
    step(p, c, id, Step::Close, b).await
}

/// Files one `incident_report_overdue` alert per incident whose supplementary report is
/// overdue (the store files a key once, so every node may run this); answers how many
/// were filed now.
pub async fn check_deadlines(p: &Platform) -> Result<usize, ApiError> {
    let now = p.clock.now();
    let overdue = p.db(move |s| s.overdue_incidents(now)).await?;
    let mut filed = 0;
    for i in overdue {
        let due = i.supplementary_due.unwrap_or(now);
        let notice = Notice {
            rule: OVERDUE_RULE,
            label: "安全事件补充报告逾期",
            key: format!("{OVERDUE_RULE}:{}", i.id),
            severity: "high",
            actor: i.handler.clone(),
            department: Some(i.department.clone()),
            window: (i.response_ended_at.unwrap_or(due), due),
            summary_zh: format!(
                "安全事件 {}「{}」（{}）处置结束已满 15 日，补充报告未提交（应于 {} 前提交）",
                i.id,
                i.title,
                grade_label(&i.grade),
                shuan_crypto::time::format_unix(due)
            ),
            summary_en: format!(
                "incident {} ({}): the supplementary report was due 15 days after the response ended ({}) and is not in",
                i.id,
                i.grade,
                shuan_crypto::time::format_unix(due)
            ),
        };
        if file_notice(p, notice).await?.is_some() {
            filed += 1;
            tracing::warn!(
                incident = i.id,
                "an incident's supplementary report is overdue"
            );
        }
    }
    Ok(filed)
}
