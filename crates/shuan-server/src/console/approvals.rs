//! The chief data officer's approvals inbox (审批待办): elevations (超出权限申请) now;
//! sharing requests and destructions join it when the platform has them. Decisions go
//! through the API's handlers (the CDO's scope, the audit record, the requester's own
//! request refused).

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::system::{Errors, Params};
use super::view::{date_time, duration, elevation_status, scope};
use super::{done, error_page_in, notice, render, Form, Frame, Signed};
use crate::error::{ApiJson, ApiPath, ApiQuery};
use crate::routes::elevations::{self, Decision, ElevationQuery, ElevationView};
use crate::state::Platform;

const HREF: &str = "/approvals";

/// One request in the inbox.
pub struct ApprovalRow {
    id: i64,
    requester: String,
    role: String,
    department: String,
    scope: String,
    reason: String,
    duration: String,
    requested: String,
    status: &'static str,
    pending: bool,
    decided: String,
    own: bool,
}

fn approval_row(e: &ElevationView, me: &str) -> ApprovalRow {
    ApprovalRow {
        id: e.id,
        requester: e.username.clone(),
        role: shuan_access::Role::from_id(&e.role)
            .map(|r| r.label().to_string())
            .unwrap_or_else(|| e.role.clone()),
        department: e.department.clone(),
        scope: scope(&e.scope),
        reason: e.reason.clone(),
        duration: duration(e.duration_secs),
        requested: date_time(e.requested_at),
        status: elevation_status(&e.status),
        pending: e.status == "pending",
        decided: match (&e.decided_by, e.decided_at) {
            (Some(by), Some(at)) => {
                let note = e
                    .decision_note
                    .as_deref()
                    .map(|n| format!("：{n}"))
                    .unwrap_or_default();
                format!("{by}，{}{note}", date_time(at))
            }
            _ => String::new(),
        },
        own: e.username == me,
    }
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct InboxPage {
    frame: Frame,
    rows: Vec<ApprovalRow>,
    status: String,
    errors: Errors,
}

async fn inbox_page(
    p: &Arc<Platform>,
    s: &Signed,
    q: &HashMap<String, String>,
    errors: Errors,
) -> Response {
    // The inbox is the decider's page: asking for it records `elevation.decide` being
    // looked at only when a decision is made; the list itself is the API's read.
    if !super::may_use(p, &s.caller, HREF) {
        let e = p
            .authorize(
                &s.caller,
                shuan_policy::Action::ElevationDecide,
                &crate::auth::resource("elevation", "", None, None),
                serde_json::Map::new(),
            )
            .await
            .err()
            .unwrap_or_else(|| crate::error::ApiError::new("forbidden", "没有权限"));
        return error_page_in(p, s, HREF, "审批待办", e);
    }
    let status = q
        .get("status")
        .filter(|v| matches!(v.as_str(), "pending" | "approved" | "rejected" | "all"))
        .cloned()
        .unwrap_or_else(|| "pending".into());
    let query = ElevationQuery {
        status: (status != "all").then(|| status.clone()),
    };
    let list = match elevations::list(State(Arc::clone(p)), s.caller.clone(), ApiQuery(query)).await
    {
        Ok(l) => l.0,
        Err(e) => return error_page_in(p, s, HREF, "审批待办", e),
    };
    let me = s.caller.name().to_string();
    let page = InboxPage {
        frame: Frame::new(p, s, HREF, "审批待办").with_notice(notice(q)),
        rows: list.iter().map(|e| approval_row(e, &me)).collect(),
        status,
        errors,
    };
    render(StatusCode::OK, &page)
}

/// `GET /approvals`.
pub async fn inbox(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    inbox_page(&p, &s, &q, Errors::default()).await
}

/// `POST /approvals/{id}/decide`: `decision` = approve | reject, with an optional note
/// (a refusal's reason).
pub async fn decide(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(id): Path<i64>,
    form: Form,
) -> Response {
    let note = form.text("note").trim().to_string();
    let decision = Decision {
        note: (!note.is_empty()).then_some(note),
    };
    let approve = match form.get("decision") {
        Some("approve") => true,
        Some("reject") => false,
        _ => {
            return inbox_page(
                &p,
                &s,
                &HashMap::new(),
                Errors::one("_", "请选择批准或驳回。"),
            )
            .await
        }
    };
    let result = if approve {
        elevations::approve(
            State(Arc::clone(&p)),
            s.caller.clone(),
            ApiPath(id),
            ApiJson(decision),
        )
        .await
    } else {
        elevations::reject(
            State(Arc::clone(&p)),
            s.caller.clone(),
            ApiPath(id),
            ApiJson(decision),
        )
        .await
    };
    match result {
        Ok(_) => done(
            HREF,
            &format!("申请 {id} 已{}。", if approve { "批准" } else { "驳回" }),
        ),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, HREF, "审批待办", e),
        Err(e) => {
            inbox_page(
                &p,
                &s,
                &HashMap::new(),
                Errors::one("_", format!("申请 {id} 未处理：{}", e.message)),
            )
            .await
        }
    }
}
