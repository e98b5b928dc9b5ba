//! Over-privilege (超出权限申请, R-13): a user asks for a role or scope beyond their
//! grants for a while, with a reason; only a chief data officer whose scope covers the
//! department approves; it ends by itself; what is done under it is marked in the audit
//! (`details.via_elevation`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use shuan_access::{Grant, Role};
use shuan_policy::Action;
use shuan_store::platform::{Elevation, ElevationStatus};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::routes::identity::{check_id, check_text, ScopeBody};
use crate::state::{now, Platform};

/// `POST /api/v1/elevations`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewElevation {
    /// Role id asked for.
    pub role: String,
    /// Department code.
    pub department: String,
    /// Data scope asked for.
    pub scope: ScopeBody,
    /// Why (申请理由).
    pub reason: String,
    /// For how long, in minutes, once approved (at most 30 days).
    pub duration_minutes: i64,
}

/// `POST /api/v1/elevations/{id}/approve|reject`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Comment; a refusal's reason.
    #[serde(default)]
    pub note: Option<String>,
}

/// An elevation in answers.
#[derive(Serialize, ToSchema)]
pub struct ElevationView {
    /// Id.
    pub id: i64,
    /// Who asked.
    pub username: String,
    /// Role id.
    pub role: String,
    /// Department.
    pub department: String,
    /// Scope.
    pub scope: ScopeBody,
    /// Why.
    pub reason: String,
    /// Duration once approved (seconds).
    pub duration_secs: i64,
    /// `pending`, `approved`, `rejected`, or `expired` (approved and over).
    pub status: String,
    /// Asked at.
    pub requested_at: i64,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<i64>,
    /// The decider's note.
    pub decision_note: Option<String>,
    /// Ends at.
    pub expires_at: Option<i64>,
}

fn view(e: &Elevation, now: i64) -> ElevationView {
    let status = match e.status {
        ElevationStatus::Approved if e.expires_at.is_some_and(|t| t <= now) => "expired".into(),
        s => s.as_str().into(),
    };
    ElevationView {
        id: e.id,
        username: e.username.clone(),
        role: e.grant.role.id().into(),
        department: e.grant.department.clone(),
        scope: (&e.grant.scope).into(),
        reason: e.reason.clone(),
        duration_secs: e.duration_secs,
        status,
        requested_at: e.requested_at,
        decided_by: e.decided_by.clone(),
        decided_at: e.decided_at,
        decision_note: e.decision_note.clone(),
        expires_at: e.expires_at,
    }
}

/// Query of `GET /api/v1/elevations`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ElevationQuery {
    /// `pending`, `approved` or `rejected`.
    pub status: Option<String>,
}

/// Asks for an elevation.
#[utoipa::path(post, path = "/api/v1/elevations", tag = "elevations", request_body = NewElevation,
    responses((status = 201, body = ElevationView), (status = "default", body = ErrorBody)))]
pub async fn request(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewElevation>,
) -> ApiResult<(StatusCode, axum::Json<ElevationView>)> {
    let Some(user) = c.user.clone() else {
        return Err(ApiError::invalid(
            "API 密钥不能申请超出权限 (an API key cannot ask for an elevation)",
        ));
    };
    let role =
        Role::from_id(&req.role).ok_or_else(|| ApiError::invalid("未知角色 (unknown role)"))?;
    check_id("department", &req.department)?;
    check_text("reason", &req.reason, 500)?;
    let max = 30 * 24 * 60;
    let min = ((p.settings.min_elevation_secs + 59) / 60).max(1);
    let secs = if (min..=max).contains(&req.duration_minutes) {
        req.duration_minutes * 60
    } else if p.settings.min_elevation_secs < 60 && req.duration_minutes == 0 {
        // Test deployments may allow elevations shorter than a minute.
        p.settings.min_elevation_secs
    } else {
        return Err(ApiError::invalid(format!(
            "duration_minutes 须在 {min}–{max} 之间"
        )));
    };
    let scope = req.scope.resolve(&p).await?;
    let grant = Grant {
        role,
        department: req.department.clone(),
        scope,
    };
    // The elevated grant must itself keep separation of duties with what is held.
    let u = user.username.clone();
    let held: Vec<Grant> = p
        .db(move |s| s.grants(&u))
        .await?
        .into_iter()
        .map(|g| g.grant)
        .collect();
    let r = resource(
        "elevation",
        "new",
        Some(&req.department),
        Some(&user.username),
    );
    let mut details = Map::new();
    details.insert("role".into(), json!(role.id()));
    details.insert("department".into(), json!(req.department));
    if let Err(e) = shuan_access::check_grant(user.vendor, &held, &grant) {
        let error = ApiError::new(e.code(), e.to_string());
        if e.code() != crate::act::SEPARATION_OF_DUTIES {
            return Err(error);
        }
        return Err(p
            .refuse_caller(
                &c,
                Action::ElevationRequest,
                "elevation:new",
                e.code(),
                details,
                error,
            )
            .await);
    }
    details.insert("reason".into(), json!(req.reason));
    let now = now();
    let mut e = Elevation {
        id: 0,
        username: user.username.clone(),
        grant,
        reason: req.reason,
        duration_secs: secs,
        requested_at: now,
        status: ElevationStatus::Pending,
        decided_by: None,
        decided_at: None,
        decision_note: None,
        expires_at: None,
    };
    let e2 = e.clone();
    e.id = p
        .act(&c, Action::ElevationRequest, &r, details, move |s| {
            s.request_elevation(&e2)
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view(&e, now))))
}

/// Elevations the caller may see: their own, and those in their scope for approvers
/// and auditors.
#[utoipa::path(get, path = "/api/v1/elevations", tag = "elevations", params(ElevationQuery),
    responses((status = 200, body = Vec<ElevationView>), (status = "default", body = ErrorBody)))]
pub async fn list(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<ElevationQuery>,
) -> ApiResult<axum::Json<Vec<ElevationView>>> {
    let status = match q.status.as_deref() {
        None => None,
        Some("pending") => Some(ElevationStatus::Pending),
        Some("approved") => Some(ElevationStatus::Approved),
        Some("rejected") => Some(ElevationStatus::Rejected),
        Some(_) => {
            return Err(ApiError::invalid(
                "status 须为 pending、approved 或 rejected",
            ))
        }
    };
    // Everyone may list (their own, and those the policy lets them see below).
    let all = p
        .act_self(
            &c.actor,
            &c.meta,
            Action::ElevationRead.id(),
            "elevation",
            Map::new(),
            move |s| s.elevations(None, status),
        )
        .await?;
    let tree = p.tree_for(&c).await?;
    let now = now();
    Ok(axum::Json(
        all.iter()
            .filter(|e| {
                e.username == c.name()
                    || p.allows(
                        &c,
                        Action::ElevationRead,
                        &resource(
                            "elevation",
                            &e.id.to_string(),
                            Some(&e.grant.department),
                            Some(&e.username),
                        ),
                        &tree,
                    )
            })
            .map(|e| view(e, now))
            .collect(),
    ))
}

async fn decide(
    p: Arc<Platform>,
    c: Caller,
    id: i64,
    approve: bool,
    note: Option<String>,
) -> ApiResult<axum::Json<ElevationView>> {
    if let Some(n) = &note {
        check_text("note", n, 500)?;
    }
    let e = p
        .db(move |s| s.elevation(id))
        .await?
        .ok_or_else(|| ApiError::not_found("elevation", &id.to_string()))?;
    let r = resource(
        "elevation",
        &id.to_string(),
        Some(&e.grant.department),
        Some(&e.username),
    );
    let mut details = Map::new();
    details.insert("approve".into(), json!(approve));
    details.insert("requester".into(), json!(e.username));
    details.insert("role".into(), json!(e.grant.role.id()));
    if let Some(n) = &note {
        details.insert("note".into(), json!(n));
    }
    let by = c.name().to_string();
    let now = now();
    let e = p
        .act(&c, Action::ElevationDecide, &r, details, move |s| {
            s.decide_elevation(id, approve, &by, note.as_deref(), now)
        })
        .await?;
    Ok(axum::Json(view(&e, now)))
}

/// Approves a pending elevation (chief data officer of the department).
#[utoipa::path(post, path = "/api/v1/elevations/{id}/approve", tag = "elevations", request_body = Decision,
    params(("id" = i64, Path, description = "elevation id")),
    responses((status = 200, body = ElevationView), (status = "default", body = ErrorBody)))]
pub async fn approve(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<Decision>,
) -> ApiResult<axum::Json<ElevationView>> {
    decide(p, c, id, true, d.note).await
}

/// Refuses a pending elevation; give the reason in `note`.
#[utoipa::path(post, path = "/api/v1/elevations/{id}/reject", tag = "elevations", request_body = Decision,
    params(("id" = i64, Path, description = "elevation id")),
    responses((status = 200, body = ElevationView), (status = "default", body = ErrorBody)))]
pub async fn reject(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<Decision>,
) -> ApiResult<axum::Json<ElevationView>> {
    decide(p, c, id, false, d.note).await
}
