//! The sharing pages (数据共享): the resource catalogue (资源目录) with the request form,
//! share requests with the provider steward's and chief data officer's decisions,
//! agreements (暂停 / 恢复 / 撤销), and data services with a call form that shows the
//! masked rows the caller's agreement allows. Every read and change goes through the
//! API's handlers in `routes::sharing` and `routes::gateway` — the same validation, the
//! same policy decision, the same ledger record before anything is shown or changed.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};
use shuan_policy::Action;

use super::system::{Errors, Params};
use super::view::{date, date_time};
use super::{done, error_page_in, may, notice, render, Form, Frame, Signed};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, OptionalJson};
use crate::routes::gateway::{self, ServiceView};
use crate::routes::sharing::{
    self, AgreementChange, AgreementView, ApproveShareRequest, CatalogueView, CreateShareRequest,
    RejectShareRequest, ShareRequestQuery, ShareRequestView,
};
use crate::state::Platform;

const CATALOGUE: &str = "/sharing/catalogue";
const REQUESTS: &str = "/sharing/requests";
const AGREEMENTS: &str = "/sharing/agreements";
const SERVICES: &str = "/sharing/services";

/// The answer of a call shown on the page: at most this many bytes are read.
const MAX_CALL_ANSWER: usize = 8 << 20;

/// 应用场景 ids with their labels, in the order the request form offers them.
const SCENARIOS: [(&str, &str); 4] = [
    ("sharing", "数据共享"),
    ("internal_query", "内部查询"),
    ("open_data", "数据开放"),
    ("test_env", "测试环境"),
];

fn scenario_label(id: &str) -> String {
    SCENARIOS
        .iter()
        .find(|(v, _)| *v == id)
        .map(|(_, l)| l.to_string())
        .unwrap_or_else(|| id.to_string())
}

fn request_status(s: &str) -> &'static str {
    match s {
        "pending" => "待审批",
        "approved" => "已批准",
        "rejected" => "已驳回",
        "refused" => "不予共享",
        _ => "未知",
    }
}

fn step_label(s: &str) -> &'static str {
    match s {
        "conformity" => "符合性审查",
        "steward" => "提供方数据管理员审核",
        "cdo" => "首席数据官审批",
        _ => "未知环节",
    }
}

fn agreement_status(s: &str) -> &'static str {
    match s {
        "active" => "生效",
        "suspended" => "已暂停",
        "revoked" => "已撤销",
        _ => "未知",
    }
}

/// A row filter as people read it: `qx = 越秀区`.
fn filter_text(v: &Value) -> String {
    match v {
        Value::Object(m) if m.is_empty() => "全部行".into(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k} = {}", plain(v)))
            .collect::<Vec<_>>()
            .join("，"),
        Value::Array(a) if a.is_empty() => "全部行".into(),
        Value::Array(a) => a
            .iter()
            .map(|c| {
                format!(
                    "{} {} {}",
                    plain(&c["column"]),
                    c["op"].as_str().unwrap_or("eq"),
                    plain(&c["value"])
                )
            })
            .collect::<Vec<_>>()
            .join("，"),
        Value::Null => "全部行".into(),
        other => plain(other),
    }
}

/// A JSON value as text: strings without their quotes, null as empty.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

// ---- 资源目录 ----

/// One resource in the catalogue table.
pub struct EntryRow {
    code: String,
    title: String,
    name: String,
    department: String,
    level: String,
    important: bool,
    personal: bool,
    share_type: String,
    share_label: String,
    open_label: String,
    fields: usize,
    published: String,
}

fn entry_row(e: &CatalogueView) -> EntryRow {
    EntryRow {
        code: e.code.clone(),
        title: e.title.clone(),
        name: e.name.clone(),
        department: e.department.clone(),
        level: e.level.clone(),
        important: e.important,
        personal: e.personal,
        share_type: e.share_type.clone(),
        share_label: e.share_label.clone(),
        open_label: e.open_label.clone(),
        fields: e.fields.len(),
        published: date(e.published_at),
    }
}

#[derive(Template)]
#[template(path = "sharing_catalogue.html")]
struct CataloguePage {
    frame: Frame,
    rows: Vec<EntryRow>,
    q_name: String,
    q_share: String,
}

/// `GET /sharing/catalogue`: the resources the caller may see, filtered by name and
/// 共享属性.
pub async fn catalogue(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    let list = match sharing::list_catalogue(State(Arc::clone(&p)), s.caller.clone()).await {
        Ok(l) => l.0,
        Err(e) => return error_page_in(&p, &s, CATALOGUE, "资源目录", e),
    };
    let name: String = q
        .get("name")
        .map(|v| v.trim().chars().take(100).collect())
        .unwrap_or_default();
    let share = q
        .get("share")
        .filter(|v| matches!(v.as_str(), "unconditional" | "conditional" | "none"))
        .cloned()
        .unwrap_or_default();
    let rows = list
        .iter()
        .filter(|e| {
            name.is_empty()
                || e.title.contains(&name)
                || e.name.contains(&name)
                || e.code.contains(&name)
        })
        .filter(|e| share.is_empty() || e.share_type == share)
        .map(entry_row)
        .collect();
    render(
        StatusCode::OK,
        &CataloguePage {
            frame: Frame::new(&p, &s, CATALOGUE, "资源目录").with_notice(notice(&q)),
            rows,
            q_name: name,
            q_share: share,
        },
    )
}

#[derive(Template)]
#[template(path = "sharing_entry.html")]
struct EntryPage {
    frame: Frame,
    e: CatalogueView,
    can_request: bool,
    values: HashMap<String, String>,
    chosen: Vec<String>,
    errors: Errors,
}

impl EntryPage {
    /// A submitted value, to show again beside its error.
    fn v(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }

    /// Whether a field was ticked (all of them on a fresh form: the steward trims).
    fn chosen(&self, field: &str) -> bool {
        self.chosen.iter().any(|f| f == field)
    }
}

async fn entry_page(
    p: &Arc<Platform>,
    s: &Signed,
    code: &str,
    values: HashMap<String, String>,
    chosen: Option<Vec<String>>,
    errors: Errors,
) -> Response {
    let e = match sharing::get_catalogue_entry(
        State(Arc::clone(p)),
        s.caller.clone(),
        ApiPath(code.to_string()),
    )
    .await
    {
        Ok(e) => e.0,
        Err(e) => return error_page_in(p, s, CATALOGUE, "资源目录", e),
    };
    let chosen = chosen.unwrap_or_else(|| e.fields.iter().map(|f| f.name.clone()).collect());
    let status = if errors.0.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let title = format!("资源目录 · {}", e.title);
    render(
        status,
        &EntryPage {
            frame: Frame::new(p, s, CATALOGUE, &title),
            can_request: e.share_type != "none"
                && may(p, &s.caller, Action::ShareRequestCreate, "share_request"),
            e,
            values,
            chosen,
            errors,
        },
    )
}

/// `GET /sharing/catalogue/{code}`: one resource with its fields and the request form.
pub async fn entry(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(code): Path<String>,
) -> Response {
    let values = HashMap::from([("valid_days".to_string(), "90".to_string())]);
    entry_page(&p, &s, &code, values, None, Errors::default()).await
}

const REQUEST_FIELDS: &[&str] = &[
    "fields",
    "purpose",
    "scenario",
    "basis",
    "valid_days",
    "row_filter",
    "safeguards",
];

/// `POST /sharing/catalogue/{code}/request`: files a share request (申请共享).
pub async fn request_create(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(code): Path<String>,
    form: Form,
) -> Response {
    let values: HashMap<String, String> = [
        "purpose",
        "scenario",
        "basis",
        "valid_days",
        "safeguards",
        "filter_column",
        "filter_value",
    ]
    .iter()
    .map(|k| (k.to_string(), form.text(k)))
    .collect();
    let chosen = form.all("fields");
    let again = |errors: Errors| {
        let p = Arc::clone(&p);
        let values = values.clone();
        let chosen = chosen.clone();
        let code = code.clone();
        let s = &s;
        async move { entry_page(&p, s, &code, values, Some(chosen), errors).await }
    };
    let Ok(valid_days) = form.text("valid_days").trim().parse::<i64>() else {
        return again(Errors::one(
            "valid_days",
            "valid_days 须为 1–366 的整数 (有效天数: a whole number of days)",
        ))
        .await;
    };
    let column = form.text("filter_column").trim().to_string();
    let row_filter = (!column.is_empty()).then(|| {
        let mut m = Map::new();
        m.insert(column, Value::String(form.text("filter_value")));
        Value::Object(m)
    });
    let safeguards = form.text("safeguards").trim().to_string();
    let req = CreateShareRequest {
        resource: code.clone(),
        fields: chosen.clone(),
        purpose: form.text("purpose"),
        scenario: form.text("scenario"),
        basis: form.text("basis"),
        valid_days,
        row_filter,
        safeguards: (!safeguards.is_empty()).then_some(safeguards),
    };
    match sharing::create_share_request(State(Arc::clone(&p)), s.caller.clone(), ApiJson(req)).await
    {
        Ok((_, answer)) => {
            let d = answer.0;
            let text = match (&d.agreement, d.request.status.as_str()) {
                (Some(a), _) => format!(
                    "共享申请 {} 已通过符合性审查，共享协议 {} 已生效。",
                    d.id, a.id
                ),
                (None, "pending") => format!(
                    "共享申请 {} 已提交，等待{}。",
                    d.id,
                    d.request
                        .next_step
                        .as_deref()
                        .map(step_label)
                        .unwrap_or("审批")
                ),
                (None, other) => format!("共享申请 {} {}。", d.id, request_status(other)),
            };
            done(&format!("{REQUESTS}/{}", d.id), &text)
        }
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, CATALOGUE, "资源目录", e),
        Err(e) => again(Errors::from_api(&e, REQUEST_FIELDS)).await,
    }
}

// ---- 共享申请 ----

/// One request in the table.
pub struct RequestRow {
    id: i64,
    resource: String,
    requester: String,
    department: String,
    provider: String,
    status: &'static str,
    pending: bool,
    next_step: &'static str,
    created: String,
    deadline: String,
    overdue: bool,
}

fn request_row(r: &ShareRequestView) -> RequestRow {
    RequestRow {
        id: r.id,
        resource: r.resource.clone(),
        requester: r.requester.clone(),
        department: r.department.clone(),
        provider: r.provider.clone(),
        status: request_status(&r.status),
        pending: r.status == "pending",
        next_step: r.next_step.as_deref().map(step_label).unwrap_or(""),
        created: date_time(r.created_at),
        deadline: r.deadline.map(date_time).unwrap_or_default(),
        overdue: r.overdue,
    }
}

#[derive(Template)]
#[template(path = "sharing_requests.html")]
struct RequestsPage {
    frame: Frame,
    rows: Vec<RequestRow>,
    status: String,
}

/// `GET /sharing/requests`: the requests the caller may read (their own, and those of
/// the departments their scope reaches), by status.
pub async fn requests(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    let status = q
        .get("status")
        .filter(|v| matches!(v.as_str(), "pending" | "approved" | "rejected" | "refused"))
        .cloned()
        .unwrap_or_default();
    let query = ShareRequestQuery {
        status: (!status.is_empty()).then(|| status.clone()),
        overdue: None,
    };
    let list = match sharing::list_share_requests(
        State(Arc::clone(&p)),
        s.caller.clone(),
        ApiQuery(query),
    )
    .await
    {
        Ok(l) => l.0,
        Err(e) => return error_page_in(&p, &s, REQUESTS, "共享申请", e),
    };
    render(
        StatusCode::OK,
        &RequestsPage {
            frame: Frame::new(&p, &s, REQUESTS, "共享申请").with_notice(notice(&q)),
            rows: list.iter().map(request_row).collect(),
            status,
        },
    )
}

/// One decision in the request's timeline.
pub struct DecisionRow {
    step: &'static str,
    approver: String,
    approve: bool,
    comment: String,
    at: String,
}

#[derive(Template)]
#[template(path = "sharing_request.html")]
struct RequestPage {
    frame: Frame,
    r: RequestRow,
    fields: String,
    filter: String,
    purpose: String,
    scenario: String,
    basis: String,
    safeguards: String,
    valid_days: i64,
    steps: String,
    decisions: Vec<DecisionRow>,
    reason: String,
    agreement_id: Option<i64>,
    can_decide: bool,
    own: bool,
    errors: Errors,
}

async fn request_page(
    p: &Arc<Platform>,
    s: &Signed,
    id: i64,
    q: &HashMap<String, String>,
    errors: Errors,
) -> Response {
    let r = match sharing::get_share_request(
        State(Arc::clone(p)),
        s.caller.clone(),
        ApiPath(id.to_string()),
    )
    .await
    {
        Ok(r) => r.0,
        Err(e) => return error_page_in(p, s, REQUESTS, "共享申请", e),
    };
    let own = r.requester == s.caller.name();
    let decide_action = match r.next_step.as_deref() {
        Some("steward") => Some(Action::ShareRequestReview),
        Some("cdo") => Some(Action::ShareRequestSignOff),
        _ => None,
    };
    // The policy decides on the request itself (the provider's department); a failure
    // to read the department tree only hides the form: the API decides either way.
    let tree = match decide_action {
        Some(_) if !own => p.tree_for(&s.caller).await.ok(),
        _ => None,
    };
    let can_decide = match (decide_action, tree) {
        (Some(a), Some(t)) => p.allows(
            &s.caller,
            a,
            &crate::auth::resource(
                "share_request",
                &r.id.to_string(),
                Some(&r.provider),
                Some(&r.requester),
            ),
            &t,
        ),
        _ => false,
    };
    let status = if errors.0.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let decisions = r
        .approvals
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|a| DecisionRow {
            step: step_label(&a.step),
            approver: if a.approver == "platform" {
                "平台".into()
            } else {
                a.approver.clone()
            },
            approve: a.approve,
            comment: a.comment.clone().unwrap_or_default(),
            at: date_time(a.at),
        })
        .collect();
    let page = RequestPage {
        frame: Frame::new(p, s, REQUESTS, &format!("共享申请 {}", r.id)).with_notice(notice(q)),
        fields: r.fields.join("、"),
        filter: filter_text(&r.row_filter),
        purpose: r.purpose.clone(),
        scenario: scenario_label(&r.scenario),
        basis: r.basis.clone(),
        safeguards: r.safeguards.clone().unwrap_or_default(),
        valid_days: r.valid_days,
        steps: r
            .steps
            .iter()
            .map(|s| step_label(s))
            .collect::<Vec<_>>()
            .join(" → "),
        decisions,
        reason: r.reason.clone().unwrap_or_default(),
        agreement_id: r.agreement_id,
        can_decide,
        own,
        r: request_row(&r),
        errors,
    };
    render(status, &page)
}

/// `GET /sharing/requests/{id}`: one request, its steps and decisions, and the
/// decision form when the caller decides its waiting step.
pub async fn request(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(id): Path<i64>,
    Query(q): Params,
) -> Response {
    request_page(&p, &s, id, &q, Errors::default()).await
}

/// Parses an optional whole number of a form, naming the field in the error.
fn optional_number(form: &Form, field: &'static str, what: &str) -> Result<Option<i64>, Errors> {
    let t = form.text(field);
    let t = t.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<i64>()
        .map(Some)
        .map_err(|_| Errors::one(field, format!("{field} 须为整数 ({what}: a whole number)")))
}

/// `POST /sharing/requests/{id}/decide`: `decision` = approve | reject, with a comment
/// (a refusal's reason, required) and, on the final approval, the agreement's limits.
pub async fn decide(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(id): Path<i64>,
    form: Form,
) -> Response {
    let note = form.text("note").trim().to_string();
    let note = (!note.is_empty()).then_some(note);
    let result = match form.get("decision") {
        Some("approve") => {
            let rate = match optional_number(&form, "rate_per_minute", "每分钟调用上限") {
                Ok(n) => n,
                Err(e) => return request_page(&p, &s, id, &HashMap::new(), e).await,
            };
            let rows = match optional_number(&form, "rows_per_day", "每日行数上限") {
                Ok(n) => n,
                Err(e) => return request_page(&p, &s, id, &HashMap::new(), e).await,
            };
            sharing::approve_share_request(
                State(Arc::clone(&p)),
                s.caller.clone(),
                ApiPath(id.to_string()),
                OptionalJson(ApproveShareRequest {
                    comment: note,
                    rate_per_minute: rate,
                    rows_per_day: rows,
                }),
            )
            .await
        }
        Some("reject") => {
            sharing::reject_share_request(
                State(Arc::clone(&p)),
                s.caller.clone(),
                ApiPath(id.to_string()),
                OptionalJson(RejectShareRequest { reason: note }),
            )
            .await
        }
        _ => {
            return request_page(
                &p,
                &s,
                id,
                &HashMap::new(),
                Errors::one("_", "请选择批准或驳回。"),
            )
            .await
        }
    };
    match result {
        Ok(d) => {
            let d = d.0;
            let text = match (&d.agreement, d.request.status.as_str()) {
                (Some(a), _) => format!("共享申请 {id} 已批准，共享协议 {} 已生效。", a.id),
                (None, "pending") => format!(
                    "已审核通过，等待{}。",
                    d.request
                        .next_step
                        .as_deref()
                        .map(step_label)
                        .unwrap_or("审批")
                ),
                (None, other) => format!("共享申请 {id} {}。", request_status(other)),
            };
            done(&format!("{REQUESTS}/{id}"), &text)
        }
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, REQUESTS, "共享申请", e),
        Err(e) if e.code == "reason_required" => {
            request_page(&p, &s, id, &HashMap::new(), Errors::one("note", e.message)).await
        }
        Err(e) => {
            request_page(
                &p,
                &s,
                id,
                &HashMap::new(),
                Errors::from_api(&e, &["rate_per_minute", "rows_per_day"]),
            )
            .await
        }
    }
}

// ---- 共享协议 ----

/// One agreement in the table.
pub struct AgreementRow {
    id: i64,
    request_id: i64,
    resource: String,
    provider: String,
    recipient: String,
    requester: String,
    fields: String,
    scenario: String,
    period: String,
    limits: String,
    status: &'static str,
    status_id: String,
    in_force: bool,
}

fn agreement_row(a: &AgreementView) -> AgreementRow {
    AgreementRow {
        id: a.id,
        request_id: a.request_id,
        resource: a.resource.clone(),
        provider: a.provider.clone(),
        recipient: a.recipient.clone(),
        requester: a.requester.clone(),
        fields: a.fields.join("、"),
        scenario: scenario_label(&a.scenario),
        period: format!(
            "{} 至 {}",
            date_time(a.valid_from),
            date_time(a.valid_until)
        ),
        limits: format!("{} 次/分钟，{} 行/日", a.rate_per_minute, a.rows_per_day),
        status: agreement_status(&a.status),
        status_id: a.status.clone(),
        in_force: a.in_force,
    }
}

#[derive(Template)]
#[template(path = "sharing_agreements.html")]
struct AgreementsPage {
    frame: Frame,
    rows: Vec<AgreementRow>,
    can_suspend: bool,
    can_revoke: bool,
    errors: Errors,
}

async fn agreements_page(
    p: &Arc<Platform>,
    s: &Signed,
    q: &HashMap<String, String>,
    errors: Errors,
) -> Response {
    let list = match sharing::list_agreements(State(Arc::clone(p)), s.caller.clone()).await {
        Ok(l) => l.0,
        Err(e) => return error_page_in(p, s, AGREEMENTS, "共享协议", e),
    };
    render(
        if errors.0.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &AgreementsPage {
            frame: Frame::new(p, s, AGREEMENTS, "共享协议").with_notice(notice(q)),
            rows: list.iter().map(agreement_row).collect(),
            can_suspend: may(p, &s.caller, Action::AgreementSuspend, "agreement"),
            can_revoke: may(p, &s.caller, Action::AgreementRevoke, "agreement"),
            errors,
        },
    )
}

/// `GET /sharing/agreements`.
pub async fn agreements(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    agreements_page(&p, &s, &q, Errors::default()).await
}

/// `POST /sharing/agreements/{id}/{change}`: suspend, resume or revoke, with a reason.
pub async fn agreement_change(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path((id, change)): Path<(i64, String)>,
    form: Form,
) -> Response {
    let reason = form.text("reason").trim().to_string();
    let body = OptionalJson(AgreementChange {
        reason: (!reason.is_empty()).then_some(reason),
    });
    let (state, caller, path) = (
        State(Arc::clone(&p)),
        s.caller.clone(),
        ApiPath(id.to_string()),
    );
    let (result, verb) = match change.as_str() {
        "suspend" => (
            sharing::suspend_agreement(state, caller, path, body).await,
            "暂停",
        ),
        "resume" => (
            sharing::resume_agreement(state, caller, path, body).await,
            "恢复",
        ),
        "revoke" => (
            sharing::revoke_agreement(state, caller, path, body).await,
            "撤销",
        ),
        _ => {
            return agreements_page(&p, &s, &HashMap::new(), Errors::one("_", "未知的操作。")).await
        }
    };
    match result {
        Ok(_) => done(AGREEMENTS, &format!("共享协议 {id} 已{verb}。")),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, AGREEMENTS, "共享协议", e),
        Err(e) => {
            agreements_page(
                &p,
                &s,
                &HashMap::new(),
                Errors::one("_", format!("共享协议 {id} 未能{verb}：{}", e.message)),
            )
            .await
        }
    }
}

// ---- 数据服务 ----

/// One published service in the table.
pub struct ServiceRow {
    name: String,
    resource: String,
    department: String,
    fields: String,
    params: String,
    max_rows: i64,
    created: String,
    disabled: bool,
}

/// One declared parameter, as the call form shows it.
pub struct ParamField {
    name: String,
    column: String,
    op: String,
    ty: String,
    required: bool,
    value: String,
}

fn param_fields(v: &Value, given: &HashMap<String, String>) -> Vec<ParamField> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    let name = plain(&p["name"]);
                    ParamField {
                        value: given.get(&name).cloned().unwrap_or_default(),
                        column: plain(&p["column"]),
                        op: p["op"].as_str().unwrap_or("eq").to_string(),
                        ty: p["type"].as_str().unwrap_or("string").to_string(),
                        required: p["required"].as_bool().unwrap_or(false),
                        name,
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn service_row(v: &ServiceView) -> ServiceRow {
    ServiceRow {
        name: v.name.clone(),
        resource: v.resource.clone(),
        department: v.department.clone(),
        fields: v.fields.join("、"),
        params: param_fields(&v.params, &HashMap::new())
            .iter()
            .map(|f| {
                if f.required {
                    format!("{}（必填）", f.name)
                } else {
                    f.name.clone()
                }
            })
            .collect::<Vec<_>>()
            .join("、"),
        max_rows: v.max_rows,
        created: date(v.created_at),
        disabled: v.disabled,
    }
}

#[derive(Template)]
#[template(path = "sharing_services.html")]
struct ServicesPage {
    frame: Frame,
    rows: Vec<ServiceRow>,
}

/// `GET /sharing/services`: the published services the caller may see.
pub async fn services(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    let list = match gateway::list_services(State(Arc::clone(&p)), s.caller.clone()).await {
        Ok(l) => l.0,
        Err(e) => return error_page_in(&p, &s, SERVICES, "数据服务", e),
    };
    render(
        StatusCode::OK,
        &ServicesPage {
            frame: Frame::new(&p, &s, SERVICES, "数据服务").with_notice(notice(&q)),
            rows: list.iter().map(service_row).collect(),
        },
    )
}

#[derive(Template)]
#[template(path = "sharing_call.html")]
struct CallPage {
    frame: Frame,
    service: ServiceRow,
    params: Vec<ParamField>,
    called: bool,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    agreement: String,
    error: String,
}

/// `GET /sharing/services/{name}`: the service's parameters as a form; with `call=1`,
/// calls it through the gateway under the caller's agreement (a recorded call, as over
/// the API) and shows the rows as the agreement's masking left them.
pub async fn service(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(name): Path<String>,
    Query(q): Params,
) -> Response {
    let list = match gateway::list_services(State(Arc::clone(&p)), s.caller.clone()).await {
        Ok(l) => l.0,
        Err(e) => return error_page_in(&p, &s, SERVICES, "数据服务", e),
    };
    let Some(v) = list.iter().find(|v| v.name == name) else {
        return error_page_in(
            &p,
            &s,
            SERVICES,
            "数据服务",
            ApiError::not_found("service", &name),
        );
    };
    let mut page = CallPage {
        frame: Frame::new(&p, &s, SERVICES, &format!("数据服务 · {}", v.name)),
        service: service_row(v),
        params: param_fields(&v.params, &q),
        called: q.get("call").is_some_and(|c| c == "1"),
        columns: v.fields.clone(),
        rows: Vec::new(),
        agreement: String::new(),
        error: String::new(),
    };
    if page.called {
        // Only the declared parameters that were filled in go to the gateway, which
        // checks them as it checks any caller's.
        let pairs: Vec<(String, String)> = page
            .params
            .iter()
            .filter(|f| !f.value.is_empty())
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect();
        let answer = gateway::call_service(
            State(Arc::clone(&p)),
            s.caller.clone(),
            ApiPath(name.clone()),
            ApiQuery(pairs),
            HeaderMap::new(),
        )
        .await;
        let ok = answer.status().is_success();
        let body = axum::body::to_bytes(answer.into_body(), MAX_CALL_ANSWER)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .unwrap_or(Value::Null);
        if ok {
            page.agreement = plain(&body["agreement"]);
            page.rows = body["rows"]
                .as_array()
                .map(|rows| {
                    rows.iter()
                        .map(|r| page.columns.iter().map(|c| plain(&r[c])).collect())
                        .collect()
                })
                .unwrap_or_default();
        } else {
            page.error = body["error"]["message"]
                .as_str()
                .unwrap_or("调用失败 (the call failed)")
                .to_string();
        }
    }
    render(StatusCode::OK, &page)
}
