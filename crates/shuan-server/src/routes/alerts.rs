//! Misuse alerts (滥用告警, R-19) over the API: the list and one alert with the records
//! behind it, their handling (acknowledge, then close with a note) and the tunable rule
//! set (TOML, validated by `shuan-watch` and put in force on this node at once; other
//! nodes take it within ten seconds).
//!
//! The engine and its feeding are in [`crate::watch`]; the records in `shuan-store`; who
//! may do what the Cedar policies' (`alert.read`: security administrator, auditor,
//! supervisor; `alert.handle` and `alert_rules.update`: security administrator). Every
//! request is authorized and recorded before it acts, and a failure after an allowed
//! decision is recorded too. The evidence records themselves are answered only to a caller
//! who may also read the audit (`audit.read`): the security administrator handles alerts
//! from their summaries and references without reading the audit (三员分立, R-12).

use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use shuan_policy::Action;
use shuan_store::platform::{AlertFilter, AlertStatus, StoredAlert};
use shuan_watch::{RuleId, RuleSet, DEFAULT_RULES_TOML};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody, OptionalJson};
use crate::routes::sharing::then_store;
use crate::state::Platform;
use crate::watch::RULES_SETTING;

/// The alert routes.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(get_alert))
        .routes(routes!(acknowledge_alert))
        .routes(routes!(close_alert))
        .routes(routes!(get_rules, put_rules))
}

/// Longest rule set accepted (the defaults with comments are ~5 KiB).
const MAX_RULES_BYTES: usize = 64 * 1024;

/// A record behind an alert.
#[derive(Serialize, ToSchema)]
pub struct EvidenceView {
    /// The node (ledger id); `/api/v1/audit?node=…` finds the record there.
    pub node: String,
    /// Sequence number in that node's ledger.
    pub seq: u64,
}

/// An alert.
#[derive(Serialize, ToSchema)]
pub struct AlertView {
    /// Id.
    pub id: i64,
    /// `rule:window-start:actor`, unique.
    pub key: String,
    /// Rule id (`after_denials` …).
    pub rule: String,
    /// The rule's Chinese label.
    pub label: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// The caller the rule fired on.
    pub actor: String,
    /// Their department, when known.
    pub department: Option<String>,
    /// Start of the rule's window (Unix seconds).
    pub window_start: i64,
    /// End of the window (exclusive).
    pub window_end: i64,
    /// Time of the record that fired it.
    pub fired_at: i64,
    /// What happened, in Chinese.
    pub summary_zh: String,
    /// What happened, in English.
    pub summary_en: String,
    /// The records behind it, the latest last.
    pub evidence: Vec<EvidenceView>,
    /// How many records the rule counted.
    pub evidence_count: i64,
    /// `open`, `acknowledged` or `closed`.
    pub status: String,
    /// 待处理, 已确认 or 已关闭.
    pub status_label: String,
    /// Who acknowledged or closed it.
    pub handled_by: Option<String>,
    /// The closing note.
    pub note: Option<String>,
    /// Last change (Unix seconds).
    pub updated_at: i64,
}

fn view(a: StoredAlert) -> AlertView {
    AlertView {
        id: a.id,
        key: a.key,
        rule: a.rule,
        label: a.label,
        severity: a.severity,
        actor: a.actor,
        department: a.department,
        window_start: a.window_start,
        window_end: a.window_end,
        fired_at: a.fired_at,
        summary_zh: a.summary_zh,
        summary_en: a.summary_en,
        evidence: a
            .evidence
            .into_iter()
            .map(|e| EvidenceView {
                node: e.node,
                seq: e.seq,
            })
            .collect(),
        evidence_count: a.evidence_count,
        status: a.status.as_str().into(),
        status_label: a.status.label().into(),
        handled_by: a.handled_by,
        note: a.note,
        updated_at: a.updated_at,
    }
}

/// One alert and, for a caller who may read the audit, the records behind it.
#[derive(Serialize, ToSchema)]
pub struct AlertDetail {
    /// The alert.
    pub alert: AlertView,
    /// The evidence records as the ledger holds them (copied ones; a reference not yet
    /// copied is left out), or `null` when the caller may not read the audit.
    #[schema(value_type = Option<Vec<Object>>)]
    pub records: Option<Vec<Value>>,
}

/// Filters of `GET /api/v1/alerts`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `open`, `acknowledged` or `closed`.
    #[serde(default)]
    pub status: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    #[serde(default)]
    pub severity: Option<String>,
    /// A rule id (`volume_spike`, `enumeration`, `off_hours`, `after_denials`,
    /// `new_address`, `vendor_bulk_export`, `outside_purpose`).
    #[serde(default)]
    pub rule: Option<String>,
    /// The caller the alerts are about.
    #[serde(default)]
    pub actor: Option<String>,
    /// Fired at or after (Unix seconds).
    #[serde(default)]
    pub since: Option<i64>,
    /// At most this many (1–1000, default 100).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Skip this many.
    #[serde(default)]
    pub offset: Option<usize>,
}

fn filter_of(q: AlertQuery) -> Result<AlertFilter, ApiError> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(AlertStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "status 须为 open、acknowledged 或 closed (status: open, acknowledged or closed)",
            )
        })?),
    };
    if let Some(s) = &q.severity {
        if !["low", "medium", "high", "critical"].contains(&s.as_str()) {
            return Err(ApiError::invalid(
                "severity 须为 low、medium、high 或 critical (severity: low, medium, high or critical)",
            ));
        }
    }
    if let Some(r) = &q.rule {
        if !RuleId::ALL.iter().any(|id| id.id() == r) {
            return Err(ApiError::invalid(format!(
                "没有规则 {r} (no rule {r}; one of {})",
                RuleId::ALL.map(RuleId::id).join(", ")
            )));
        }
    }
    if let Some(a) = &q.actor {
        if a.is_empty() || a.chars().count() > 200 || a.chars().any(char::is_control) {
            return Err(ApiError::invalid(
                "actor 须为 1–200 个字符 (actor: 1–200 characters)",
            ));
        }
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit 须在 1–1000 之间 (limit: 1–1000)"));
    }
    Ok(AlertFilter {
        status,
        severity: q.severity,
        rule: q.rule,
        actor: q.actor,
        since: q.since,
        limit,
        offset: q.offset.unwrap_or(0),
    })
}

fn parse_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| ApiError::invalid("id 须为正整数 (id: a positive integer)"))
}

/// Brings this node's latest records through the engine first, so a list right after an
/// event shows its alert. A failure is logged by the copy and the stored alerts are
/// answered anyway.
async fn catch_up(p: &Platform) {
    if let Err(e) = crate::mirror::mirror_now(p).await {
        tracing::warn!(error = %e, "alerts answered without the latest records");
    }
}

/// Alerts, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery),
    responses((status = 200, body = Vec<AlertView>), (status = "default", body = ErrorBody)))]
pub async fn list_alerts(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> ApiResult<axum::Json<Vec<AlertView>>> {
    let filter = filter_of(q)?;
    let mut details = Map::new();
    details.insert(
        "filter".into(),
        json!({
            "status": filter.status.map(AlertStatus::as_str),
            "severity": filter.severity,
            "rule": filter.rule,
            "actor": filter.actor,
            "since": filter.since,
        }),
    );
    p.authorize(
        &c,
        Action::AlertRead,
        &resource("alert", "", None, None),
        details,
    )
    .await?;
    catch_up(&p).await;
    let rows = then_store(&p, &c, Action::AlertRead, "alert", move |s| {
        s.alerts(&filter)
    })
    .await?;
    Ok(axum::Json(rows.into_iter().map(view).collect()))
}

/// One alert with its evidence records (those only for a caller who may read the audit).
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts",
    params(("id" = String, Path, description = "alert id")),
    responses((status = 200, body = AlertDetail), (status = "default", body = ErrorBody)))]
pub async fn get_alert(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<AlertDetail>> {
    let id = parse_id(&id)?;
    let object = format!("alert:{id}");
    p.authorize(
        &c,
        Action::AlertRead,
        &resource("alert", &id.to_string(), None, None),
        Map::new(),
    )
    .await?;
    let audit = resource("audit", "", None, None);
    let may_read_audit = p.allows(&c, Action::AuditRead, &audit, &Default::default());
    let (alert, records) = then_store(&p, &c, Action::AlertRead, &object, move |s| {
        let Some(a) = s.alert(id)? else {
            return Err(crate::act::missing("alert", id.to_string()));
        };
        let records = if may_read_audit {
            Some(s.alert_evidence(id)?)
        } else {
            None
        };
        Ok((a, records))
    })
    .await?;
    let records = records.map(|rows| {
        rows.into_iter()
            .map(|r| serde_json::from_str(&r.record_json).unwrap_or(Value::Null))
            .collect()
    });
    Ok(axum::Json(AlertDetail {
        alert: view(alert),
        records,
    }))
}

/// Takes an open alert (已确认). An alert no longer open answers 409.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "alerts",
    params(("id" = String, Path, description = "alert id")),
    responses((status = 200, body = AlertView), (status = "default", body = ErrorBody)))]
pub async fn acknowledge_alert(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<AlertView>> {
    let id = parse_id(&id)?;
    p.authorize(
        &c,
        Action::AlertHandle,
        &resource("alert", &id.to_string(), None, None),
        {
            let mut d = Map::new();
            d.insert("status".into(), json!("acknowledged"));
            d
        },
    )
    .await?;
    let by = c.name().to_string();
    let now = p.clock.now();
    let a = then_store(
        &p,
        &c,
        Action::AlertHandle,
        &format!("alert:{id}"),
        move |s| s.acknowledge_alert(id, &by, now),
    )
    .await?;
    Ok(axum::Json(view(a)))
}

/// Body of `POST /api/v1/alerts/{id}/close`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CloseAlert {
    /// How it was handled (处置说明), required.
    #[serde(default)]
    pub note: Option<String>,
}

/// Closes an open or acknowledged alert with a note (required: 400 `note_required`).
/// Closing is final: a closed alert answers 409.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/close", tag = "alerts",
    params(("id" = String, Path, description = "alert id")),
    request_body = CloseAlert,
    responses((status = 200, body = AlertView), (status = "default", body = ErrorBody)))]
pub async fn close_alert(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
    req: OptionalJson<CloseAlert>,
) -> ApiResult<axum::Json<AlertView>> {
    let id = parse_id(&id)?;
    let note = req.0.note.unwrap_or_default();
    let object = format!("alert:{id}");
    let mut details = Map::new();
    details.insert("status".into(), json!("closed"));
    details.insert("note".into(), json!(note));
    p.authorize(
        &c,
        Action::AlertHandle,
        &resource("alert", &id.to_string(), None, None),
        details,
    )
    .await?;
    let bad = if note.trim().is_empty() {
        Some(ApiError::new(
            "note_required",
            "关闭告警须填写处置说明 (closing an alert needs a note)",
        ))
    } else if note.chars().count() > 2000 || note.chars().any(|c| c.is_control() && c != '\n') {
        Some(ApiError::invalid(
            "处置说明须为 1–2000 个字符 (note: 1–2000 characters, no control characters)",
        ))
    } else {
        None
    };
    if let Some(e) = bad {
        p.record_failure(&c, Action::AlertHandle, &object, &e).await;
        return Err(e);
    }
    let by = c.name().to_string();
    let now = p.clock.now();
    let a = then_store(&p, &c, Action::AlertHandle, &object, move |s| {
        s.close_alert(id, &by, &note, now)
    })
    .await?;
    Ok(axum::Json(view(a)))
}

/// The rule set in force.
#[derive(Serialize, ToSchema)]
pub struct RulesView {
    /// The TOML text: the stored rule set, or the commented built-in defaults.
    pub toml: String,
    /// Whether a security administrator set it (false: the built-in defaults).
    pub custom: bool,
    /// The rules as parsed (every key, defaults filled in).
    #[schema(value_type = Object)]
    pub parsed: Value,
}

fn severity(s: shuan_watch::Severity) -> Value {
    json!(s.id())
}

/// Every key of the rule set as the engine reads it.
fn parsed_view(r: &RuleSet) -> Value {
    let rule = |id: RuleId, enabled: bool, sev: shuan_watch::Severity, mut extra: Value| {
        let obj = extra.as_object_mut().expect("an object");
        obj.insert("label".into(), json!(id.label()));
        obj.insert("enabled".into(), json!(enabled));
        obj.insert("severity".into(), severity(sev));
        (id.id().to_string(), extra)
    };
    let v = &r.volume_spike;
    let e = &r.enumeration;
    let o = &r.off_hours;
    let d = &r.after_denials;
    let n = &r.new_address;
    let b = &r.vendor_bulk_export;
    let u = &r.outside_purpose;
    let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
    let offset = {
        let m = o.utc_offset_minutes;
        let sign = if m < 0 { '-' } else { '+' };
        format!("{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
    };
    let day_names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let days: Vec<&str> = day_names
        .iter()
        .zip(o.days)
        .filter(|(_, on)| *on)
        .map(|(d, _)| *d)
        .collect();
    let date = |d: &i64| {
        let (y, m, dd) = shuan_calendar::civil_from_days(*d);
        format!("{y:04}-{m:02}-{dd:02}")
    };
    let mut rules = Map::new();
    for (k, val) in [
        rule(
            RuleId::VolumeSpike,
            v.enabled,
            v.severity,
            json!({"window_minutes": v.window_minutes,
                   "measure": match v.measure { shuan_watch::rules::Measure::Calls => "calls", shuan_watch::rules::Measure::Rows => "rows" },
                   "baseline_windows": v.baseline_windows, "min_baseline_windows": v.min_baseline_windows,
                   "factor": v.factor, "min_count": v.min_count}),
        ),
        rule(
            RuleId::Enumeration,
            e.enabled,
            e.severity,
            json!({"window_minutes": e.window_minutes, "max_rows": e.max_rows,
                   "min_distinct": e.min_distinct, "max_step": e.max_step,
                   "min_sequential": e.min_sequential,
                   "sequential_severity": e.sequential_severity.id(),
                   "ignore_params": e.ignore_params}),
        ),
        rule(
            RuleId::OffHours,
            o.enabled,
            o.severity,
            json!({"utc_offset": offset, "days": days, "start": hm(o.start_minute),
                   "end": hm(o.end_minute),
                   "holidays": o.holidays.iter().map(date).collect::<Vec<_>>(),
                   "workdays": o.workdays.iter().map(date).collect::<Vec<_>>(),
                   "window_minutes": o.window_minutes, "min_calls": o.min_calls}),
        ),
        rule(
            RuleId::AfterDenials,
            d.enabled,
            d.severity,
            json!({"window_minutes": d.window_minutes, "min_denials": d.min_denials,
                   "actions": d.actions}),
        ),
        rule(
            RuleId::NewAddress,
            n.enabled,
            n.severity,
            json!({"baseline_days": n.baseline_days, "max_addresses": n.max_addresses,
                   "window_minutes": n.window_minutes}),
        ),
        rule(
            RuleId::VendorBulkExport,
            b.enabled,
            b.severity,
            json!({"roles": b.roles, "window_minutes": b.window_minutes,
                   "min_rows": b.min_rows, "min_csv_calls": b.min_csv_calls}),
        ),
        rule(
            RuleId::OutsidePurpose,
            u.enabled,
            u.severity,
            json!({"window_minutes": u.window_minutes, "min_records": u.min_records,
                   "denial_codes": u.denial_codes}),
        ),
    ] {
        rules.insert(k, val);
    }
    json!({
        "engine": {
            "service_action": r.engine.service_action,
            "max_actors": r.engine.max_actors,
            "max_evidence": r.engine.max_evidence,
        },
        "rules": rules,
    })
}

fn rules_view(p: &Platform) -> RulesView {
    let (rules, toml) = p.watch.rules();
    RulesView {
        custom: toml.is_some(),
        toml: toml.unwrap_or_else(|| DEFAULT_RULES_TOML.to_string()),
        parsed: parsed_view(&rules),
    }
}

/// The misuse rule set in force (TOML and parsed).
#[utoipa::path(get, path = "/api/v1/alert-rules", tag = "alerts",
    responses((status = 200, body = RulesView), (status = "default", body = ErrorBody)))]
pub async fn get_rules(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<RulesView>> {
    p.authorize(
        &c,
        Action::AlertRead,
        &resource("alert_rules", "", None, None),
        Map::new(),
    )
    .await?;
    Ok(axum::Json(rules_view(&p)))
}

/// Body of `PUT /api/v1/alert-rules`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutRules {
    /// The rule set as TOML; keys left out keep their defaults.
    pub toml: String,
}

/// Replaces the misuse rule set: validated (an unknown key or bad value → 400
/// `invalid_rules` naming the key), stored, and in force on this node at once.
#[utoipa::path(put, path = "/api/v1/alert-rules", tag = "alerts",
    request_body = PutRules,
    responses((status = 200, body = RulesView), (status = "default", body = ErrorBody)))]
pub async fn put_rules(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<PutRules>,
) -> ApiResult<axum::Json<RulesView>> {
    if req.toml.len() > MAX_RULES_BYTES {
        return Err(ApiError::invalid(format!(
            "规则集不得超过 {MAX_RULES_BYTES} 字节 (the rule set is limited to {MAX_RULES_BYTES} bytes)"
        )));
    }
    let mut details = Map::new();
    // The rule set is no secret, and what was put in force is part of the trail.
    details.insert("toml".into(), json!(req.toml));
    p.authorize(
        &c,
        Action::AlertRulesUpdate,
        &resource("alert_rules", "", None, None),
        details,
    )
    .await?;
    let rules = match RuleSet::from_toml(&req.toml) {
        Ok(r) => r,
        Err(e) => {
            let e = ApiError::new("invalid_rules", e.to_string());
            p.record_failure(&c, Action::AlertRulesUpdate, "alert_rules", &e)
                .await;
            return Err(e);
        }
    };
    let now = p.clock.now();
    let text = req.toml.clone();
    then_store(&p, &c, Action::AlertRulesUpdate, "alert_rules", move |s| {
        s.set_setting(RULES_SETTING, &Value::String(text), now)
    })
    .await?;
    p.watch.set_rules(rules, Some(req.toml));
    Ok(axum::Json(rules_view(&p)))
}

/// An alert the platform files about its own records (a deadline passed, a scheduled
/// run failed), as opposed to one the misuse engine raises from audit records.
pub(crate) struct Notice {
    /// The rule id (`rectification_overdue` …).
    pub rule: &'static str,
    /// The Chinese label.
    pub label: &'static str,
    /// What makes it one alert: the store files a key once, so every node may file it.
    pub key: String,
    /// `low` … `critical`.
    pub severity: &'static str,
    /// Who it concerns.
    pub actor: String,
    /// The department it concerns, when it has one.
    pub department: Option<String>,
    /// The time span it covers.
    pub window: (i64, i64),
    /// What happened, in Chinese.
    pub summary_zh: String,
    /// The same in English.
    pub summary_en: String,
}

/// Keys this process knows are filed, per node: a deadline checked every minute asks the
/// store once per key, not once a minute for as long as the deadline stays missed.
fn filed_keys() -> &'static std::sync::Mutex<std::collections::HashSet<(String, String)>> {
    static FILED: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashSet<(String, String)>>,
    > = std::sync::OnceLock::new();
    FILED.get_or_init(Default::default)
}

/// Files `n` unless its key was filed already; answers the new alert's id.
pub(crate) async fn file_notice(p: &Platform, n: Notice) -> Result<Option<i64>, ApiError> {
    let known = (p.node.clone(), n.key.clone());
    if filed_keys()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .contains(&known)
    {
        return Ok(None);
    }
    let now = p.clock.now();
    let alert = StoredAlert {
        id: 0,
        key: n.key,
        rule: n.rule.into(),
        label: n.label.into(),
        severity: n.severity.into(),
        actor: n.actor,
        department: n.department,
        window_start: n.window.0,
        window_end: n.window.1,
        fired_at: now,
        summary_zh: n.summary_zh,
        summary_en: n.summary_en,
        evidence: Vec::new(),
        evidence_count: 0,
        status: AlertStatus::Open,
        handled_by: None,
        note: None,
        updated_at: now,
    };
    let filed = p.db(move |s| s.insert_alert(&alert)).await?;
    filed_keys()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(known);
    Ok(filed)
}

/// Files each notice unless its key was filed already; answers how many were filed now
/// (the deadline checks' one loop).
pub(crate) async fn file_notices(p: &Platform, notices: Vec<Notice>) -> Result<usize, ApiError> {
    let mut filed = 0;
    for n in notices {
        if file_notice(p, n).await?.is_some() {
            filed += 1;
        }
    }
    Ok(filed)
}
