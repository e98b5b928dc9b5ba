//! Complaints and reports of violations (投诉举报, R-37) over HTTP, with the reporter
//! protected.
//!
//! The security administrator receives a complaint (by hotline, letter, e-mail, the web
//! or a visit) with the reporter's name and contact, unless it is anonymous. The server
//! seals that identity (SM4-GCM under the keyring's platform key, bound to the complaint)
//! before it reaches the store or the audit ledger; no answer, list, log or record carries
//! it. The security administrator assigns a handler (承办人, never a vendor account); only
//! that handler may handle it and read who reported it (`GET …/reporter`), by a Cedar rule
//! no role overrides, and every read or refused attempt is a ledger record.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use shuan_policy::Action;
use shuan_store::platform::{Complaint, ComplaintStatus};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroizing;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiResult, ErrorBody};
use crate::routes::identity::check_text;
use crate::state::Platform;

/// The complaint endpoints.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(receive_complaint, list_complaints))
        .routes(routes!(get_complaint))
        .routes(routes!(assign_complaint))
        .routes(routes!(handle_complaint))
        .routes(routes!(read_reporter))
}

/// Channels (受理渠道) with their Chinese labels.
pub const CHANNELS: [(&str, &str); 5] = [
    ("hotline", "热线电话"),
    ("letter", "来信"),
    ("email", "电子邮件"),
    ("web", "网上举报"),
    ("visit", "来访"),
];

/// The reporter (举报人).
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reporter {
    /// Name, 1–100 characters.
    pub name: String,
    /// How to reach them (phone, address), 1–200 characters.
    pub contact: String,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reporter(..)")
    }
}

/// `POST /api/v1/complaints`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComplaint {
    /// The department complained about (code).
    pub department: String,
    /// 事由, 1–200 characters.
    pub subject: String,
    /// What was reported, 1–5000 characters.
    pub details: String,
    /// `hotline`, `letter`, `email`, `web` or `visit`.
    pub channel: String,
    /// Who reported it; absent for an anonymous report.
    #[serde(default)]
    pub reporter: Option<Reporter>,
}

/// `POST …/assign`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// The handler's user name.
    pub handler: String,
}

/// `POST …/handle`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Handling {
    /// 办理结果, 1–5000 characters.
    pub result: String,
}

/// A complaint in answers: never the reporter.
#[derive(Serialize, ToSchema)]
pub struct ComplaintView {
    /// Id.
    pub id: i64,
    /// The department complained about.
    pub department: String,
    /// 事由.
    pub subject: String,
    /// What was reported.
    pub details: String,
    /// Channel id.
    pub channel: String,
    /// Channel in Chinese.
    pub channel_label: String,
    /// No reporter was given.
    pub anonymous: bool,
    /// `received`, `assigned` or `handled`.
    pub status: String,
    /// The status in Chinese.
    pub status_label: String,
    /// Who received it.
    pub received_by: String,
    /// When.
    pub received_at: i64,
    /// The assigned handler.
    pub handler: Option<String>,
    /// When it was assigned.
    pub assigned_at: Option<i64>,
    /// 办理结果.
    pub result: Option<String>,
    /// When it was handled.
    pub handled_at: Option<i64>,
}

fn view(c: &Complaint) -> ComplaintView {
    ComplaintView {
        id: c.id,
        department: c.department.clone(),
        subject: c.subject.clone(),
        details: c.details.clone(),
        channel: c.channel.clone(),
        channel_label: CHANNELS
            .iter()
            .find(|(id, _)| *id == c.channel)
            .map_or("", |(_, l)| l)
            .into(),
        anonymous: c.reporter_sealed.is_none(),
        status: c.status.as_str().into(),
        status_label: c.status.label().into(),
        received_by: c.received_by.clone(),
        received_at: c.received_at,
        handler: c.handler.clone(),
        assigned_at: c.assigned_at,
        result: c.result.clone(),
        handled_at: c.handled_at,
    }
}

/// The policy resource: in the department complained about, owned by its handler.
fn complaint_resource(c: &Complaint) -> shuan_policy::Resource {
    resource(
        "complaint",
        &c.id.to_string(),
        Some(&c.department),
        c.handler.as_deref(),
    )
}

/// Receives a complaint (受理); the reporter is sealed before anything is stored.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "governance", request_body = NewComplaint,
    responses((status = 201, body = ComplaintView), (status = "default", body = ErrorBody)))]
pub async fn receive_complaint(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewComplaint>,
) -> ApiResult<(StatusCode, axum::Json<ComplaintView>)> {
    check_text("subject", &req.subject, 200)?;
    check_text("details", &req.details, 5000)?;
    if !CHANNELS.iter().any(|(id, _)| *id == req.channel) {
        return Err(ApiError::invalid(
            "channel 须为 hotline、letter、email、web 或 visit (channel is hotline, letter, email, web or visit)",
        ));
    }
    if let Some(r) = &req.reporter {
        check_text("reporter.name", &r.name, 100)?;
        check_text("reporter.contact", &r.contact, 200)?;
    }
    // The seal is bound to a random name of its own, so that a sealed identity copied onto
    // another complaint does not open there.
    let token: [u8; 16] = shuan_crypto::rand::bytes().map_err(ApiError::internal)?;
    let seal_account = format!("complaint-reporter:{}", shuan_crypto::hex::encode(&token));
    let sealed = match &req.reporter {
        None => None,
        Some(r) => {
            let plain = Zeroizing::new(serde_json::to_vec(r).map_err(ApiError::internal)?);
            Some(p.secrets.seal(&seal_account, &plain)?)
        }
    };
    let now = p.clock.now();
    let mut complaint = Complaint {
        id: 0,
        department: req.department.clone(),
        subject: req.subject.clone(),
        details: req.details.clone(),
        channel: req.channel.clone(),
        reporter_sealed: sealed,
        seal_account,
        status: ComplaintStatus::Received,
        received_by: c.name().to_string(),
        received_at: now,
        handler: None,
        assigned_by: None,
        assigned_at: None,
        result: None,
        handled_at: None,
    };
    // The record says that a reporter was given, never who.
    let mut details = Map::new();
    details.insert("subject".into(), json!(req.subject));
    details.insert("channel".into(), json!(req.channel));
    details.insert("anonymous".into(), json!(req.reporter.is_none()));
    let r = resource("complaint", "new", Some(&req.department), None);
    let stored = complaint.clone();
    let p2 = Arc::clone(&p);
    complaint.id = p
        .act_then(&c, Action::ComplaintReceive, &r, details, || async move {
            // Told only to a caller the policy allowed.
            let department = stored.department.clone();
            if p2.db(move |s| s.department(&department)).await?.is_none() {
                return Err(ApiError::invalid(format!(
                    "department：部门 {} 不存在 (no such department)",
                    stored.department
                )));
            }
            p2.db(move |s| s.create_complaint(&stored)).await
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view(&complaint))))
}

/// Complaints the caller may read, newest first (never the reporters).
#[utoipa::path(get, path = "/api/v1/complaints", tag = "governance",
    responses((status = 200, body = Vec<ComplaintView>), (status = "default", body = ErrorBody)))]
pub async fn list_complaints(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<ComplaintView>>> {
    p.authorize(
        &c,
        Action::ComplaintRead,
        &resource("complaint", "", None, None),
        Map::new(),
    )
    .await?;
    let all = p.db(|s| s.complaints()).await?;
    let tree = p.tree_for(&c).await?;
    Ok(axum::Json(
        all.iter()
            .filter(|x| p.allows(&c, Action::ComplaintRead, &complaint_resource(x), &tree))
            .map(view)
            .collect(),
    ))
}

async fn load(p: &Arc<Platform>, id: i64) -> Result<Complaint, ApiError> {
    p.db(move |s| s.complaint(id))
        .await?
        .ok_or_else(|| ApiError::not_found("complaint", &id.to_string()))
}

/// One complaint (without the reporter). Its handler reads it too.
#[utoipa::path(get, path = "/api/v1/complaints/{id}", tag = "governance",
    params(("id" = i64, Path, description = "complaint id")),
    responses((status = 200, body = ComplaintView), (status = "default", body = ErrorBody)))]
pub async fn get_complaint(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<ComplaintView>> {
    let complaint = load(&p, id).await?;
    let action = if complaint.handler.as_deref() == Some(c.name()) {
        Action::ComplaintHandle
    } else {
        Action::ComplaintRead
    };
    p.authorize(&c, action, &complaint_resource(&complaint), Map::new())
        .await?;
    Ok(axum::Json(view(&complaint)))
}

/// Assigns (or reassigns) a complaint to a handler (交办).
#[utoipa::path(post, path = "/api/v1/complaints/{id}/assign", tag = "governance", request_body = Assignment,
    params(("id" = i64, Path, description = "complaint id")),
    responses((status = 200, body = ComplaintView), (status = "default", body = ErrorBody)))]
pub async fn assign_complaint(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(a): ApiJson<Assignment>,
) -> ApiResult<axum::Json<ComplaintView>> {
    check_text("handler", &a.handler, 64)?;
    let complaint = load(&p, id).await?;
    let mut details = Map::new();
    details.insert("handler".into(), json!(a.handler));
    let by = c.name().to_string();
    let now = p.clock.now();
    let handler = a.handler.clone();
    let updated = p
        .act(
            &c,
            Action::ComplaintAssign,
            &complaint_resource(&complaint),
            details,
            move |s| {
                match s.user(&handler)? {
                    None => {
                        return Err(shuan_store::platform::PlatformStoreError::NotFound {
                            kind: "user",
                            id: handler.clone(),
                        })
                    }
                    Some(u) if u.vendor => {
                        return Err(shuan_store::platform::PlatformStoreError::Conflict(
                            format!(
                                "handler：{handler} 是外包人员账号，不能承办投诉举报 (a vendor account never handles complaints)"
                            ),
                        ))
                    }
                    Some(u) if u.disabled => {
                        return Err(shuan_store::platform::PlatformStoreError::Conflict(
                            format!("handler：账号 {handler} 已停用 (the account is disabled)"),
                        ))
                    }
                    Some(_) => {}
                }
                s.assign_complaint(id, &handler, &by, now)
            },
        )
        .await?;
    Ok(axum::Json(view(&updated)))
}

/// Handles an assigned complaint (办结); its handler only.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/handle", tag = "governance", request_body = Handling,
    params(("id" = i64, Path, description = "complaint id")),
    responses((status = 200, body = ComplaintView), (status = "default", body = ErrorBody)))]
pub async fn handle_complaint(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(h): ApiJson<Handling>,
) -> ApiResult<axum::Json<ComplaintView>> {
    check_text("result", &h.result, 5000)?;
    let complaint = load(&p, id).await?;
    let by = c.name().to_string();
    let now = p.clock.now();
    let updated = p
        .act(
            &c,
            Action::ComplaintHandle,
            &complaint_resource(&complaint),
            Map::new(),
            move |s| s.handle_complaint(id, &by, &h.result, now),
        )
        .await?;
    Ok(axum::Json(view(&updated)))
}

/// Who reported it: for the assigned handler only, every read recorded.
#[utoipa::path(get, path = "/api/v1/complaints/{id}/reporter", tag = "governance",
    params(("id" = i64, Path, description = "complaint id")),
    responses((status = 200, body = Reporter), (status = "default", body = ErrorBody)))]
pub async fn read_reporter(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<Reporter>> {
    let complaint = load(&p, id).await?;
    let Some(sealed) = complaint.reporter_sealed.clone() else {
        // Still decided and recorded: asking is an act on the complaint.
        p.authorize(
            &c,
            Action::ComplaintReadIdentity,
            &complaint_resource(&complaint),
            Map::new(),
        )
        .await?;
        return Err(ApiError::not_found(
            "reporter of complaint",
            &id.to_string(),
        ));
    };
    let account = complaint.seal_account.clone();
    let p2 = Arc::clone(&p);
    let reporter = p
        .act_then(
            &c,
            Action::ComplaintReadIdentity,
            &complaint_resource(&complaint),
            Map::new(),
            || async move {
                let plain = p2.secrets.open(&account, &sealed)?;
                serde_json::from_slice::<Reporter>(&plain).map_err(ApiError::internal)
            },
        )
        .await?;
    Ok(axum::Json(reporter))
}
