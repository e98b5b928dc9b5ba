//! 整改事项 (rectification items, R-33): what risk assessments and emergency drills found,
//! who must fix it and by when. Readers of the assessments see every item in their
//! scope; anyone else sees the items they are responsible for, and closes them here
//! with the evidence of what was done — through the API's handlers (the policy, the
//! audit record, the once-only close).

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use shuan_policy::Action;

use super::system::{Errors, Params};
use super::view::{date, date_time};
use super::{done, error_page_in, may, notice, render, Form, Frame, Signed};
use crate::error::{ApiJson, ApiPath, ApiQuery};
use crate::routes::risk::{self, CloseItem, ItemQuery, RectificationView};
use crate::state::Platform;

/// The page.
pub const HREF: &str = "/governance/rectifications";

/// One item in the table.
pub struct ItemRow {
    id: i64,
    origin: String,
    department: String,
    finding: String,
    severity: String,
    severity_class: &'static str,
    owner: String,
    due: String,
    overdue: bool,
    open: bool,
    closed: String,
    evidence: String,
    can_close: bool,
}

fn item_row(r: &RectificationView, me: &str, may_close_any: bool) -> ItemRow {
    let open = r.closed_at.is_none();
    ItemRow {
        id: r.id,
        origin: match r.origin_kind.as_str() {
            "risk_assessment" => format!("风险评估 {}", r.origin_id),
            "emergency_drill" => format!("应急演练 {}", r.origin_id),
            other => format!("{other} {}", r.origin_id),
        },
        department: r.department.clone(),
        finding: r.finding.clone(),
        severity: r.severity_label.clone(),
        severity_class: match r.severity.as_str() {
            "high" => "danger",
            "medium" => "warning",
            _ => "info",
        },
        owner: r.owner.clone(),
        due: date(r.due_at),
        overdue: r.overdue,
        open,
        closed: match (&r.closed_by, r.closed_at) {
            (Some(by), Some(at)) => format!("{by}，{}", date_time(at)),
            _ => String::new(),
        },
        evidence: r.evidence.clone().unwrap_or_default(),
        can_close: open && (r.owner == me || may_close_any),
    }
}

#[derive(Template)]
#[template(path = "rectifications.html")]
struct ItemsPage {
    frame: Frame,
    rows: Vec<ItemRow>,
    state: String,
    mine: bool,
    errors: Errors,
}

async fn items_page(
    p: &Arc<Platform>,
    s: &Signed,
    q: &HashMap<String, String>,
    errors: Errors,
) -> Response {
    let state = q
        .get("state")
        .filter(|v| matches!(v.as_str(), "open" | "overdue" | "closed" | "all"))
        .cloned()
        .unwrap_or_else(|| "open".into());
    // Readers of assessments see their scope; everyone else their own items.
    let mine = !may(p, &s.caller, Action::RiskRead, "rectification");
    let query = ItemQuery {
        mine: mine.then_some(true),
        open: match state.as_str() {
            "open" | "overdue" => Some(true),
            "closed" => Some(false),
            _ => None,
        },
        overdue: (state == "overdue").then_some(true),
    };
    let list =
        match risk::list_rectifications(State(Arc::clone(p)), s.caller.clone(), ApiQuery(query))
            .await
        {
            Ok(l) => l.0,
            Err(e) => return error_page_in(p, s, HREF, "整改事项", e),
        };
    let me = s.caller.name().to_string();
    let may_close_any = may(p, &s.caller, Action::RectificationClose, "rectification");
    let page = ItemsPage {
        frame: Frame::new(p, s, HREF, "整改事项").with_notice(notice(q)),
        rows: list
            .iter()
            .map(|r| item_row(r, &me, may_close_any))
            .collect(),
        state,
        mine,
        errors,
    };
    render(StatusCode::OK, &page)
}

/// `GET /governance/rectifications[?state=open|overdue|closed|all]`.
pub async fn items(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    items_page(&p, &s, &q, Errors::default()).await
}

/// `POST /governance/rectifications/{id}/close`: `evidence` = what was done.
pub async fn close(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(id): Path<i64>,
    form: Form,
) -> Response {
    let evidence = form.text("evidence").trim().to_string();
    if evidence.is_empty() {
        return items_page(
            &p,
            &s,
            &HashMap::new(),
            Errors::one("_", format!("整改事项 {id}：请填写整改情况及佐证。")),
        )
        .await;
    }
    match risk::close_rectification(
        State(Arc::clone(&p)),
        s.caller.clone(),
        ApiPath(id),
        ApiJson(CloseItem { evidence }),
    )
    .await
    {
        Ok(_) => done(HREF, &format!("整改事项 {id} 已关闭。")),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, HREF, "整改事项", e),
        Err(e) => {
            items_page(
                &p,
                &s,
                &HashMap::new(),
                Errors::one("_", format!("整改事项 {id} 未关闭：{}", e.message)),
            )
            .await
        }
    }
}
