//! The auditor's pages: 审计日志 (search with filters, pages, CSV export) and 登录日志,
//! through the API's audit search (which records each search in the ledger first).

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};
use shuan_policy::Action;

use super::system::{Errors, Params};
use super::view::{date_time_secs, outcome, parse_date};
use super::{csv, error_page_in, may, render, Frame, Signed};
use crate::auth::resource;
use crate::error::{ApiError, ApiQuery};
use crate::routes::audit::{self, AuditEntry, AuditQuery};
use crate::state::Platform;

/// Rows per page unless the page asks for another of [`PAGE_SIZES`].
const PAGE_ROWS: usize = 50;
/// The page sizes offered (the search's own limit is 1,000).
const PAGE_SIZES: &[usize] = &[20, 50, 100, 500, 1000];
/// Rows of one export (the search's own limit).
const EXPORT_ROWS: usize = 1000;

/// One audit record as the table shows it.
pub struct AuditRow {
    time: String,
    actor: String,
    role: String,
    action: String,
    action_id: String,
    object: String,
    outcome: &'static str,
    outcome_class: &'static str,
    address: String,
    agent: String,
    request_id: String,
    note: String,
    node_seq: String,
}

/// Why a sign-in was refused, in Chinese (the reasons `session.login` records).
fn login_reason(r: &str) -> String {
    match r {
        "invalid_credentials" => "用户名或密码错误".into(),
        "account_disabled" => "账号已停用".into(),
        "totp_required" => "未输入动态口令".into(),
        "invalid_totp" => "动态口令错误".into(),
        "totp_replayed" => "动态口令重复使用".into(),
        "account_locked" => "账号已锁定".into(),
        "address_locked" => "来源地址已锁定".into(),
        "too_many_failures" => "失败次数过多，已锁定".into(),
        other => other.to_string(),
    }
}

fn row(e: &AuditEntry) -> AuditRow {
    let r = &e.record;
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let action_id = s(&r["action"]);
    let action = Action::from_id(&action_id)
        .map(|a| a.label().to_string())
        .unwrap_or_else(|| match action_id.as_str() {
            "session.login" => "登录".into(),
            "session.logout" => "退出".into(),
            "session.lockout" => "登录锁定".into(),
            "session.password_change" => "修改密码".into(),
            "session.totp_enrol" => "绑定动态口令".into(),
            "session.totp_confirm" => "确认动态口令".into(),
            "user.read_self" => "查看本人信息".into(),
            other => other.to_string(),
        });
    let out = s(&r["outcome"]);
    let details = &r["details"];
    let mut note = Vec::new();
    if let Some(reason) = details["reason"].as_str() {
        note.push(if action_id.starts_with("session.") {
            login_reason(reason)
        } else {
            reason.to_string()
        });
    }
    if details["via_elevation"] == Value::Bool(true) {
        note.push("经超出权限申请批准".into());
    }
    let time = shuan_ledger::Timestamp::parse(&s(&r["time"]))
        .map(|t| date_time_secs(t.micros().div_euclid(1_000_000)))
        .unwrap_or_else(|_| s(&r["time"]));
    AuditRow {
        time,
        actor: s(&r["actor"]["id"]),
        role: s(&r["actor"]["role"]),
        action,
        action_id,
        object: s(&r["object"]),
        outcome: outcome(&out),
        outcome_class: match out.as_str() {
            "allowed" => "success",
            "denied" => "danger",
            _ => "warning",
        },
        address: s(&r["client"]["address"]),
        agent: r["client"]["agent"]
            .as_str()
            .map(|a| a.chars().take(40).collect())
            .unwrap_or_default(),
        request_id: s(&r["request_id"]),
        note: note.join("；"),
        node_seq: format!("{}#{}", e.node.chars().take(8).collect::<String>(), e.seq),
    }
}

/// Unix seconds as RFC 3339 in UTC (what the search takes).
fn rfc3339(unix: i64) -> String {
    let (y, m, d) = shuan_calendar::civil_from_days(unix.div_euclid(86_400));
    let t = unix.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        t / 3600,
        t % 3600 / 60,
        t % 60
    )
}

/// The search's filters from the page's query; a date that is not one is an error beside
/// its field.
fn query_of(
    q: &HashMap<String, String>,
    fixed_action: Option<&str>,
    limit: usize,
    offset: usize,
) -> Result<AuditQuery, Errors> {
    let text = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let date = |k: &'static str, plus_day: bool| -> Result<Option<String>, Errors> {
        match text(k) {
            None => Ok(None),
            Some(v) => parse_date(&v)
                .map(|t| Some(rfc3339(if plus_day { t + 86_400 } else { t })))
                .ok_or_else(|| Errors::one(k, "请输入有效日期。")),
        }
    };
    let outcome = text("outcome");
    if let Some(o) = &outcome {
        if !matches!(o.as_str(), "allowed" | "denied" | "error") {
            return Err(Errors::one("outcome", "请选择有效的结果。"));
        }
    }
    Ok(AuditQuery {
        actor: text("actor"),
        action: fixed_action.map(str::to_string).or_else(|| text("action")),
        outcome,
        since: date("since", false)?,
        // The until date is included: the search's bound is exclusive.
        until: date("until", true)?,
        request_id: text("request_id"),
        node: None,
        limit: Some(limit),
        offset: Some(offset),
    })
}

fn page_size(q: &HashMap<String, String>) -> usize {
    q.get("size")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|s| PAGE_SIZES.contains(s))
        .unwrap_or(PAGE_ROWS)
}

fn page_number(q: &HashMap<String, String>) -> usize {
    q.get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| (1..=20_000).contains(p))
        .unwrap_or(1)
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    frame: Frame,
    logins: bool,
    rows: Vec<AuditRow>,
    q: HashMap<String, String>,
    errors: Errors,
    page: usize,
    size: usize,
    sizes: &'static [usize],
    more: bool,
    prev_href: String,
    next_href: String,
    export_href: Option<String>,
    actions: Vec<(&'static str, &'static str)>,
}

impl AuditPage {
    fn q(&self, k: &str) -> String {
        self.q.get(k).cloned().unwrap_or_default()
    }
}

fn href_with(base: &str, q: &HashMap<String, String>, page: Option<usize>) -> String {
    let mut pairs: Vec<(String, String)> = q
        .iter()
        .filter(|(k, v)| k.as_str() != "page" && k.as_str() != "ok" && !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    pairs.sort();
    if let Some(p) = page {
        pairs.push(("page".into(), p.to_string()));
    }
    let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if qs.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{qs}")
    }
}

async fn search_page(
    p: &Arc<Platform>,
    s: &Signed,
    q: HashMap<String, String>,
    logins: bool,
) -> Response {
    let (href, title) = if logins {
        ("/audit/logins", "登录日志")
    } else {
        ("/audit/log", "审计日志")
    };
    let page = page_number(&q);
    let size = page_size(&q);
    let mut errors = Errors::default();
    let rows = match query_of(
        &q,
        logins.then_some("session.login"),
        size,
        (page - 1) * size,
    ) {
        Ok(query) => {
            match audit::search(State(Arc::clone(p)), s.caller.clone(), ApiQuery(query)).await {
                Ok(v) => v.0,
                Err(e) if e.code == "invalid_input" => {
                    errors = Errors::one("_", e.message);
                    Vec::new()
                }
                Err(e) => return error_page_in(p, s, href, title, e),
            }
        }
        Err(e) => {
            errors = e;
            Vec::new()
        }
    };
    let more = rows.len() == size;
    let base = if logins {
        "/audit/logins"
    } else {
        "/audit/log"
    };
    let export_href = (!logins && may(p, &s.caller, Action::AuditExport, "audit"))
        .then(|| href_with("/audit/log.csv", &q, None));
    let body = AuditPage {
        frame: Frame::new(p, s, href, title),
        logins,
        rows: rows.iter().map(row).collect(),
        errors,
        page,
        size,
        sizes: PAGE_SIZES,
        more,
        prev_href: href_with(base, &q, Some(page.saturating_sub(1).max(1))),
        next_href: href_with(base, &q, Some(page + 1)),
        export_href,
        actions: Action::ALL
            .iter()
            .map(|a| (a.id(), a.label()))
            .chain([
                ("session.login", "登录"),
                ("session.logout", "退出"),
                ("session.password_change", "修改密码"),
                ("session.totp_confirm", "确认动态口令"),
            ])
            .collect(),
        q,
    };
    render(StatusCode::OK, &body)
}

/// `GET /audit/log`.
pub async fn log(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    search_page(&p, &s, q, false).await
}

/// `GET /audit/logins`: the sign-in records.
pub async fn logins(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    search_page(&p, &s, q, true).await
}

/// `GET /audit/log.csv`: the filtered records as CSV (up to 1,000). The export is its own
/// action (`audit.export`), asked and recorded before the search (which records itself).
pub async fn log_csv(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    let query = match query_of(&q, None, EXPORT_ROWS, 0) {
        Ok(query) => query,
        Err(e) => {
            let message = e.0.values().next().cloned().unwrap_or_default();
            return error_page_in(&p, &s, "/audit/log", "审计日志", ApiError::invalid(message));
        }
    };
    let mut details = Map::new();
    for (k, v) in [
        ("actor", &query.actor),
        ("action", &query.action),
        ("outcome", &query.outcome),
        ("since", &query.since),
        ("until", &query.until),
    ] {
        if let Some(v) = v {
            details.insert(k.into(), json!(v));
        }
    }
    details.insert("format".into(), json!("csv"));
    if let Err(e) = p
        .authorize(
            &s.caller,
            Action::AuditExport,
            &resource("audit", "export", None, None),
            details,
        )
        .await
    {
        return error_page_in(&p, &s, "/audit/log", "审计日志", e);
    }
    let rows = match audit::search(State(Arc::clone(&p)), s.caller.clone(), ApiQuery(query)).await {
        Ok(v) => v.0,
        Err(e) => return error_page_in(&p, &s, "/audit/log", "审计日志", e),
    };
    let rows = rows
        .iter()
        .map(|e| {
            let r = row(e);
            vec![
                r.time,
                r.actor,
                r.role,
                r.action_id,
                r.action,
                r.object,
                r.outcome.to_string(),
                r.address,
                r.request_id,
                r.note,
                r.node_seq,
            ]
        })
        .collect();
    csv(
        "audit.csv",
        &[
            "时间",
            "操作人",
            "角色",
            "动作编号",
            "动作",
            "对象",
            "结果",
            "来源地址",
            "请求编号",
            "说明",
            "节点#序号",
        ],
        rows,
    )
}

// ---- 账本校验 ----

/// A signed checkpoint as the page shows it.
pub struct CheckpointRow {
    size: u64,
    time: String,
    root: String,
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    frame: Frame,
    node: String,
    status: &'static str,
    status_class: &'static str,
    explanation: String,
    records: String,
    checkpoints: usize,
    unsigned_tail: u64,
    problem: String,
    latest: Vec<CheckpointRow>,
    checked_at: String,
}

/// `GET /audit/ledger`: this node's audit chain in the store checked against its signed
/// checkpoints, now (the API's check, recorded as an audit read).
pub async fn ledger(State(p): State<Arc<Platform>>, s: Signed) -> Response {
    let v = match audit::ledger_status(State(Arc::clone(&p)), s.caller.clone()).await {
        Ok(v) => v.0,
        Err(e) => return error_page_in(&p, &s, "/audit/ledger", "账本校验", e),
    };
    let (status, status_class, explanation) = match v.status.as_str() {
        "ok" => (
            "完整",
            "success",
            format!(
                "全部 {} 条记录的哈希链与 {} 个签名检查点一致，签名均由本节点密钥验证通过。",
                super::view::count(v.records),
                v.checkpoints
            ),
        ),
        "unverified" => (
            "未验证",
            "warning",
            "找不到本节点的公钥，检查点的签名未能验证；记录与检查点的根一致。".to_string(),
        ),
        _ => (
            "篡改或损坏",
            "danger",
            format!(
                "在第 {} 条记录之后发现问题，请立即上报并保全证据。",
                super::view::count(v.checked)
            ),
        ),
    };
    let page = LedgerPage {
        frame: Frame::new(&p, &s, "/audit/ledger", "账本校验"),
        node: v.node,
        status,
        status_class,
        explanation,
        records: super::view::count(v.records),
        checkpoints: v.checkpoints,
        unsigned_tail: v.unsigned_tail,
        problem: v.problem.unwrap_or_default(),
        latest: v
            .latest
            .into_iter()
            .map(|c| CheckpointRow {
                size: c.size,
                time: shuan_ledger::Timestamp::parse(&c.time)
                    .map(|t| date_time_secs(t.micros().div_euclid(1_000_000)))
                    .unwrap_or(c.time),
                root: c.root,
            })
            .collect(),
        checked_at: date_time_secs(v.checked_at),
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_the_searchs_bounds() {
        let q: HashMap<String, String> = [
            ("since".to_string(), "2026-12-03".to_string()),
            ("until".to_string(), "2026-12-03".to_string()),
        ]
        .into();
        let Ok(a) = query_of(&q, None, 50, 0) else {
            panic!("dates refused")
        };
        // Beijing midnight is 16:00 UTC the day before; until covers the whole day.
        assert_eq!(a.since.as_deref(), Some("2026-12-02T16:00:00Z"));
        assert_eq!(a.until.as_deref(), Some("2026-12-03T16:00:00Z"));
        let bad: HashMap<String, String> = [("since".to_string(), "12/03/2026".to_string())].into();
        assert!(query_of(&bad, None, 50, 0).is_err_and(|e| e.has("since")));
        let bad: HashMap<String, String> = [("outcome".to_string(), "maybe".to_string())].into();
        assert!(query_of(&bad, None, 50, 0).is_err_and(|e| e.has("outcome")));
    }

    #[test]
    fn a_record_reads_in_chinese() {
        let e = AuditEntry {
            node: "abcdef0123456789".into(),
            seq: 7,
            record: json!({
                "time": "2026-12-03T01:02:03Z",
                "actor": {"kind": "user", "id": "zhang", "role": "auditor"},
                "action": "session.login",
                "object": "user:zhang",
                "outcome": "denied",
                "client": {"address": "127.0.0.1"},
                "details": {"reason": "invalid_totp"}
            }),
        };
        let r = row(&e);
        assert_eq!(r.time, "2026年12月3日 09:02:03");
        assert_eq!(r.action, "登录");
        assert_eq!(r.outcome, "拒绝");
        assert_eq!(r.note, "动态口令错误");
        assert_eq!(r.node_seq, "abcdef01#7");
        // Bad records never panic.
        let odd = AuditEntry {
            node: String::new(),
            seq: 0,
            record: Value::Null,
        };
        let r = row(&odd);
        assert_eq!(r.actor, "");
    }
}
