//! Risk assessments (风险评估, R-33) and rectification items (整改事项) over HTTP.
//!
//! The security administrator records an assessment (data security, important data,
//! crypto evaluation, classified protection test, vulnerability scan, supply chain) with
//! its conclusion and findings; each finding becomes an item with the person responsible
//! for it and a due date. That person — whatever their roles (`own.rectification`) — or
//! the security administrator closes it with the evidence of what was done. An item open
//! past its due date files one `rectification_overdue` alert (checked once a minute;
//! the store files a key once, so every node may check).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use shuan_policy::Action;
use shuan_store::platform::risk::{ASSESSMENT_KINDS, SEVERITIES};
use shuan_store::platform::{Rectification, RiskAssessment};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::routes::alerts::{file_notices, Notice};
use crate::routes::identity::{check_past, check_prose, check_text, label_of};
use crate::state::Platform;

/// The latest a rectification item may be due: ten years after its assessment or drill.
const MAX_DUE_SECONDS: i64 = 10 * 366 * 86_400;

/// The rule id of the alert an overdue rectification item files.
pub const OVERDUE_RULE: &str = "rectification_overdue";

/// The risk endpoints.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(record_assessment, list_assessments))
        .routes(routes!(list_rectifications))
        .routes(routes!(close_rectification))
}

/// A finding in a request: it becomes a rectification item.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingBody {
    /// What was found, 1–2000 characters.
    pub finding: String,
    /// `high`, `medium` or `low`.
    pub severity: String,
    /// The account responsible for rectifying it.
    pub owner: String,
    /// When it must be closed by (Unix seconds, after the assessment or drill).
    pub due_at: i64,
}

/// Checks findings (at most 200) and turns them into items for the store.
pub(crate) fn findings(
    list: &[FindingBody],
    not_before: i64,
) -> Result<Vec<Rectification>, ApiError> {
    if list.len() > 200 {
        return Err(ApiError::invalid(
            "findings 最多 200 项 (at most 200 findings)",
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (n, f) in list.iter().enumerate() {
        check_prose(&format!("findings[{n}].finding"), &f.finding, 2000)?;
        check_text(&format!("findings[{n}].owner"), &f.owner, 100)?;
        if !SEVERITIES.iter().any(|(id, _)| *id == f.severity) {
            return Err(ApiError::invalid(format!(
                "findings[{n}].severity 须为 high、medium 或 low (one of high, medium, low)"
            )));
        }
        if f.due_at <= not_before || f.due_at > not_before + MAX_DUE_SECONDS {
            return Err(ApiError::invalid(format!(
                "findings[{n}].due_at 须晚于评估或演练时间，且在其后十年内 (the due date must come after the assessment or drill, within ten years)"
            )));
        }
        out.push(Rectification {
            id: 0,
            origin_kind: String::new(),
            origin_id: 0,
            department: String::new(),
            finding: f.finding.clone(),
            severity: f.severity.clone(),
            owner: f.owner.clone(),
            due_at: f.due_at,
            closed_at: None,
            closed_by: None,
            evidence: None,
            created_at: 0,
        });
    }
    Ok(out)
}

/// A rectification item in answers.
#[derive(Serialize, ToSchema)]
pub struct RectificationView {
    /// Id.
    pub id: i64,
    /// `risk_assessment` or `emergency_drill`.
    pub origin_kind: String,
    /// The assessment's or drill's id.
    pub origin_id: i64,
    /// Department.
    pub department: String,
    /// What was found.
    pub finding: String,
    /// Severity id.
    pub severity: String,
    /// Severity label (高/中/低).
    pub severity_label: String,
    /// Who must rectify it.
    pub owner: String,
    /// Due date.
    pub due_at: i64,
    /// Open past its due date now.
    pub overdue: bool,
    /// When it was closed.
    pub closed_at: Option<i64>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// What was done, with its evidence.
    pub evidence: Option<String>,
}

pub(crate) fn item_view(r: &Rectification, now: i64) -> RectificationView {
    RectificationView {
        id: r.id,
        origin_kind: r.origin_kind.clone(),
        origin_id: r.origin_id,
        department: r.department.clone(),
        finding: r.finding.clone(),
        severity: r.severity.clone(),
        severity_label: label_of(SEVERITIES, &r.severity).to_string(),
        owner: r.owner.clone(),
        due_at: r.due_at,
        overdue: r.overdue_at(now),
        closed_at: r.closed_at,
        closed_by: r.closed_by.clone(),
        evidence: r.evidence.clone(),
    }
}

fn item_resource(r: &Rectification) -> shuan_policy::Resource {
    resource(
        "rectification",
        &r.id.to_string(),
        Some(&r.department),
        Some(&r.owner),
    )
}

/// An unknown department or account named in a request, told after the policy allowed
/// it (the store checks them in the transaction that writes the record).
pub(crate) fn unknown_named(e: ApiError) -> ApiError {
    if e.code == "not_found" {
        ApiError::invalid(format!(
            "department 或 owner 中有不存在的部门或账号 ({})",
            e.message
        ))
    } else {
        e
    }
}

/// `POST /api/v1/risk-assessments`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssessment {
    /// `data_security`, `important_data`, `crypto_evaluation`, `classified_protection`,
    /// `vulnerability_scan` or `supply_chain`.
    pub kind: String,
    /// 评估名称, 1–200 characters.
    pub title: String,
    /// What was assessed, 1–2000 characters.
    pub scope: String,
    /// The department assessed (code).
    pub department: String,
    /// Who assessed it, 1–200 characters (自评 or the third party's name).
    pub assessor: String,
    /// When it was completed (Unix seconds, not in the future).
    pub assessed_at: i64,
    /// The conclusion, 1–20000 characters.
    pub conclusion: String,
    /// Findings (0–200), each a rectification item.
    #[serde(default)]
    pub findings: Vec<FindingBody>,
}

/// An assessment in answers.
#[derive(Serialize, ToSchema)]
pub struct AssessmentView {
    /// Id.
    pub id: i64,
    /// Kind id.
    pub kind: String,
    /// Kind label.
    pub kind_label: String,
    /// Title.
    pub title: String,
    /// Scope.
    pub scope: String,
    /// Department.
    pub department: String,
    /// Assessor.
    pub assessor: String,
    /// When it was completed.
    pub assessed_at: i64,
    /// Conclusion.
    pub conclusion: String,
    /// Its findings.
    pub findings: Vec<RectificationView>,
    /// Findings still open.
    pub open_findings: usize,
    /// Who recorded it.
    pub created_by: String,
}

fn assessment_view(a: &RiskAssessment, now: i64) -> AssessmentView {
    AssessmentView {
        id: a.id,
        kind: a.kind.clone(),
        kind_label: label_of(ASSESSMENT_KINDS, &a.kind).to_string(),
        title: a.title.clone(),
        scope: a.scope.clone(),
        department: a.department.clone(),
        assessor: a.assessor.clone(),
        assessed_at: a.assessed_at,
        conclusion: a.conclusion.clone(),
        findings: a.findings.iter().map(|f| item_view(f, now)).collect(),
        open_findings: a.findings.iter().filter(|f| f.closed_at.is_none()).count(),
        created_by: a.created_by.clone(),
    }
}

/// Records an assessment with its findings.
#[utoipa::path(post, path = "/api/v1/risk-assessments", tag = "governance", request_body = NewAssessment,
    responses((status = 201, body = AssessmentView), (status = "default", body = ErrorBody)))]
pub async fn record_assessment(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewAssessment>,
) -> ApiResult<(StatusCode, axum::Json<AssessmentView>)> {
    if !ASSESSMENT_KINDS.iter().any(|(id, _)| *id == req.kind) {
        let ids: Vec<&str> = ASSESSMENT_KINDS.iter().map(|(id, _)| *id).collect();
        return Err(ApiError::invalid(format!(
            "kind 须为 {} 之一 (kind: one of these)",
            ids.join("、")
        )));
    }
    check_text("title", &req.title, 200)?;
    check_prose("scope", &req.scope, 2000)?;
    check_text("assessor", &req.assessor, 200)?;
    check_prose("conclusion", &req.conclusion, 20_000)?;
    let now = p.clock.now();
    check_past("assessed_at", req.assessed_at, now)?;
    let items = findings(&req.findings, req.assessed_at)?;
    let mut a = RiskAssessment {
        id: 0,
        kind: req.kind.clone(),
        title: req.title.clone(),
        scope: req.scope.clone(),
        department: req.department.clone(),
        assessor: req.assessor.clone(),
        assessed_at: req.assessed_at,
        conclusion: req.conclusion.clone(),
        findings: items,
        created_by: c.name().to_string(),
        created_at: now,
    };
    let mut details = Map::new();
    details.insert("kind".into(), json!(req.kind));
    details.insert("title".into(), json!(req.title));
    details.insert("findings".into(), json!(req.findings.len()));
    let r = resource("risk_assessment", "new", Some(&req.department), None);
    let stored = a.clone();
    a.id = p
        .act(&c, Action::RiskManage, &r, details, move |s| {
            s.create_risk_assessment(&stored)
        })
        .await
        .map_err(unknown_named)?;
    // Answer what the store holds (the items' ids and origins are its own).
    let id = a.id;
    let saved = p
        .db(move |s| s.risk_assessments())
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .unwrap_or(a);
    Ok((
        StatusCode::CREATED,
        axum::Json(assessment_view(&saved, now)),
    ))
}

/// Assessments the caller may read, newest first, with their findings.
#[utoipa::path(get, path = "/api/v1/risk-assessments", tag = "governance",
    responses((status = 200, body = Vec<AssessmentView>), (status = "default", body = ErrorBody)))]
pub async fn list_assessments(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<AssessmentView>>> {
    let all = p.db(|s| s.risk_assessments()).await?;
    let now = p.clock.now();
    let mine = p
        .readable(&c, Action::RiskRead, "risk_assessment", all, |a| {
            resource(
                "risk_assessment",
                &a.id.to_string(),
                Some(&a.department),
                None,
            )
        })
        .await?;
    Ok(axum::Json(
        mine.iter().map(|a| assessment_view(a, now)).collect(),
    ))
}

/// `GET /api/v1/rectifications` filters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// Only the caller's own items (anyone may ask for these).
    pub mine: Option<bool>,
    /// Only open (`true`) or closed (`false`) items.
    pub open: Option<bool>,
    /// Only items open past their due date.
    pub overdue: Option<bool>,
}

/// Rectification items, by due date: those the caller may read, or with `mine=true`
/// the caller's own.
#[utoipa::path(get, path = "/api/v1/rectifications", tag = "governance", params(ItemQuery),
    responses((status = 200, body = Vec<RectificationView>), (status = "default", body = ErrorBody)))]
pub async fn list_rectifications(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<ItemQuery>,
) -> ApiResult<axum::Json<Vec<RectificationView>>> {
    let all = p.db(|s| s.rectifications()).await?;
    let now = p.clock.now();
    let visible = if q.mine == Some(true) {
        // The owner's own list: authorized on a resource the caller owns.
        let me = c.name().to_string();
        p.authorize(
            &c,
            Action::RiskRead,
            &resource("rectification", "", None, Some(&me)),
            Map::new(),
        )
        .await?;
        all.into_iter().filter(|r| r.owner == me).collect()
    } else {
        p.readable(&c, Action::RiskRead, "rectification", all, item_resource)
            .await?
    };
    Ok(axum::Json(
        visible
            .iter()
            .filter(|r| q.open.is_none_or(|o| r.closed_at.is_none() == o))
            .filter(|r| q.overdue.is_none_or(|o| r.overdue_at(now) == o))
            .map(|r| item_view(r, now))
            .collect(),
    ))
}

/// `POST /api/v1/rectifications/{id}/close`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseItem {
    /// What was done, and the evidence of it (整改情况及佐证), 1–20000 characters.
    pub evidence: String,
}

/// Closes an item with its evidence (its owner or the security administrator).
#[utoipa::path(post, path = "/api/v1/rectifications/{id}/close", tag = "governance", request_body = CloseItem,
    params(("id" = i64, Path, description = "rectification item id")),
    responses((status = 200, body = RectificationView), (status = "default", body = ErrorBody)))]
pub async fn close_rectification(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CloseItem>,
) -> ApiResult<axum::Json<RectificationView>> {
    check_prose("evidence", &b.evidence, 20_000)?;
    let item = p.db(move |s| s.rectification(id)).await?;
    let Some(item) = item else {
        return Err(p
            .missing(&c, Action::RectificationClose, "rectification", id)
            .await);
    };
    let mut details = Map::new();
    details.insert("finding".into(), json!(item.finding));
    let by = c.name().to_string();
    let now = p.clock.now();
    let evidence = b.evidence;
    let closed = p
        .act(
            &c,
            Action::RectificationClose,
            &item_resource(&item),
            details,
            move |s| s.close_rectification(id, &by, now, &evidence),
        )
        .await?;
    Ok(axum::Json(item_view(&closed, now)))
}

/// Files one `rectification_overdue` alert per item open past its due date; answers how
/// many were filed now.
pub async fn check_overdue(p: &Platform) -> Result<usize, ApiError> {
    let now = p.clock.now();
    let items = p.db(|s| s.rectifications()).await?;
    let notices: Vec<Notice> = items
        .into_iter()
        .filter(|r| r.overdue_at(now))
        .map(|r| {
            let due = shuan_crypto::time::format_unix(r.due_at);
            Notice {
                rule: OVERDUE_RULE,
                label: "整改事项逾期",
                key: format!("{OVERDUE_RULE}:{}", r.id),
                severity: if r.severity == "high" {
                    "high"
                } else {
                    "medium"
                },
                actor: r.owner.clone(),
                department: Some(r.department.clone()),
                window: (r.created_at, r.due_at),
                summary_zh: format!(
                    "整改事项 {}（{}）应于 {due} 前完成，责任人 {} 尚未提交整改完成",
                    r.id, r.finding, r.owner
                ),
                summary_en: format!(
                    "rectification item {} was due by {due}; its owner {} has not closed it",
                    r.id, r.owner
                ),
            }
        })
        .collect();
    file_notices(p, notices).await
}
