//! The auditor's search over every node's records (审计日志), and the account-hygiene
//! report (账号清理, R-14).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use shuan_policy::Action;
use shuan_store::platform::AuditFilter;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiQuery, ApiResult, ErrorBody};
use crate::state::{now, Platform};

/// Filters of `GET /api/v1/audit`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Actor (account or `api_key:<id>`).
    pub actor: Option<String>,
    /// Action id (`user.create`, `session.login` …).
    pub action: Option<String>,
    /// `allowed`, `denied` or `error`.
    pub outcome: Option<String>,
    /// From (RFC 3339).
    pub since: Option<String>,
    /// Until, exclusive (RFC 3339).
    pub until: Option<String>,
    /// One request's records.
    pub request_id: Option<String>,
    /// One node's records.
    pub node: Option<String>,
    /// At most (1–1000, default 100).
    pub limit: Option<usize>,
    /// Skip.
    pub offset: Option<usize>,
}

/// One audit record with the node it came from.
#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    /// Node (ledger id).
    pub node: String,
    /// Sequence number in that node's ledger.
    pub seq: u64,
    /// The record as the ledger stores it.
    #[schema(value_type = Object)]
    pub record: Value,
}

fn parse_time(field: &str, v: &str) -> Result<i64, ApiError> {
    shuan_ledger::Timestamp::parse(v)
        .map(|t| t.micros().div_euclid(1_000_000))
        .map_err(|_| {
            ApiError::invalid(format!(
                "{field} 须为 RFC 3339 时间，如 2026-12-01T00:00:00Z ({field}: an RFC 3339 time)"
            ))
        })
}

/// Searches the audit records of every node (auditor only).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = "default", body = ErrorBody)))]
pub async fn search(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<axum::Json<Vec<AuditEntry>>> {
    if let Some(o) = &q.outcome {
        if !matches!(o.as_str(), "allowed" | "denied" | "error") {
            return Err(ApiError::invalid("outcome 须为 allowed、denied 或 error"));
        }
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) || q.offset.unwrap_or(0) > 1_000_000 {
        return Err(ApiError::invalid(
            "limit 须在 1–1000 之间，offset 不超过 1000000",
        ));
    }
    let filter = AuditFilter {
        node: q.node.clone(),
        actor: q.actor.clone(),
        action: q.action.clone(),
        outcome: q.outcome.clone(),
        since: q
            .since
            .as_deref()
            .map(|s| parse_time("since", s))
            .transpose()?,
        until: q
            .until
            .as_deref()
            .map(|s| parse_time("until", s))
            .transpose()?,
        request_id: q.request_id.clone(),
        limit,
        offset: q.offset.unwrap_or(0),
    };
    let mut details = Map::new();
    for (k, v) in [
        ("actor", &q.actor),
        ("action", &q.action),
        ("outcome", &q.outcome),
        ("request_id", &q.request_id),
    ] {
        if let Some(v) = v {
            details.insert(k.into(), json!(v));
        }
    }
    p.authorize(
        &c,
        Action::AuditRead,
        &resource("audit", "", None, None),
        details,
    )
    .await?;
    // This node's records up to now, including the one just written, are in the store
    // before the search runs.
    crate::mirror::mirror_now(&p).await?;
    let rows = p.db(move |s| s.audit_search(&filter)).await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|r| AuditEntry {
                node: r.node,
                seq: r.seq,
                record: serde_json::from_str(&r.record_json).unwrap_or(Value::Null),
            })
            .collect(),
    ))
}

/// One account in the hygiene report.
#[derive(Serialize, ToSchema)]
pub struct HygieneItem {
    /// Account.
    pub username: String,
    /// Department.
    pub department: String,
    /// What was found (Chinese and English).
    pub finding: String,
    /// Facts behind it.
    #[schema(value_type = Object)]
    pub evidence: Value,
}

/// The account-hygiene report.
#[derive(Serialize, ToSchema)]
pub struct HygieneReport {
    /// When it was made (Unix seconds).
    pub generated_at: i64,
    /// Accounts never used.
    pub never_used: Vec<HygieneItem>,
    /// Accounts idle for 90 days or more.
    pub idle: Vec<HygieneItem>,
    /// Accounts signed in from several addresses at once (a shared-account signal).
    pub shared_signals: Vec<HygieneItem>,
    /// Vendor accounts whose contract has ended.
    pub vendors_expired: Vec<HygieneItem>,
    /// Passwords older than the policy allows.
    pub passwords_expired: Vec<HygieneItem>,
}

const IDLE_DAYS: i64 = 90;

/// The account-hygiene report: never used, idle ≥ 90 days, several addresses at once,
/// vendors past their contract, expired passwords.
#[utoipa::path(get, path = "/api/v1/reports/account-hygiene", tag = "audit",
    responses((status = 200, body = HygieneReport), (status = "default", body = ErrorBody)))]
pub async fn hygiene(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<HygieneReport>> {
    p.authorize(
        &c,
        Action::HygieneRead,
        &resource("report", "account_hygiene", None, None),
        Map::new(),
    )
    .await?;
    let now = now();
    let idle_secs = p.settings.session_idle_secs;
    let (users, sessions) = p
        .db(move |s| Ok((s.users()?, s.sessions(None, now, idle_secs)?)))
        .await?;
    let max_age = crate::routes::session::password_setting(&p)
        .await?
        .max_age_days as i64;
    let today = {
        let (y, m, d) = shuan_calendar::civil_from_days(now.div_euclid(86_400));
        format!("{y:04}-{m:02}-{d:02}")
    };
    let mut addresses: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in &sessions {
        addresses.entry(&s.username).or_default().insert(&s.address);
    }
    let mut report = HygieneReport {
        generated_at: now,
        never_used: vec![],
        idle: vec![],
        shared_signals: vec![],
        vendors_expired: vec![],
        passwords_expired: vec![],
    };
    for u in users.iter().filter(|u| !u.disabled) {
        let item = |finding: &str, evidence: Value| HygieneItem {
            username: u.username.clone(),
            department: u.department.clone(),
            finding: finding.into(),
            evidence,
        };
        match u.last_login_at {
            None => report.never_used.push(item(
                "从未使用 (never signed in)",
                json!({"created_at": u.created_at}),
            )),
            Some(t) if now - t >= IDLE_DAYS * 86_400 => report.idle.push(item(
                "长期未使用 (idle for 90 days or more)",
                json!({"last_login_at": t, "idle_days": (now - t) / 86_400}),
            )),
            _ => {}
        }
        if let Some(a) = addresses.get(u.username.as_str()).filter(|a| a.len() > 1) {
            report.shared_signals.push(item(
                "同时从多个地址登录，疑似共用账号 (signed in from several addresses at once)",
                json!({"addresses": a}),
            ));
        }
        if u.vendor {
            if let Some(end) = u
                .contract_end
                .as_deref()
                .filter(|end| *end < today.as_str())
            {
                report.vendors_expired.push(item(
                    "供应商合同已到期 (vendor contract ended)",
                    json!({"contract_end": end}),
                ));
            }
        }
        if max_age > 0 && now - u.password_changed_at > max_age * 86_400 {
            report.passwords_expired.push(item(
                "密码已过期 (password older than the policy allows)",
                json!({"password_changed_at": u.password_changed_at, "max_age_days": max_age}),
            ));
        }
    }
    Ok(axum::Json(report))
}

/// A signed checkpoint of this node's ledger.
#[derive(Serialize, ToSchema)]
pub struct CheckpointView {
    /// Records covered.
    pub size: u64,
    /// When it was signed (RFC 3339).
    pub time: String,
    /// Merkle root (hex).
    pub root: String,
}

/// This node's ledger as the store holds it, checked against the node's signed
/// checkpoints (账本校验), as `shuan audit verify --store` checks it.
#[derive(Serialize, ToSchema)]
pub struct LedgerStatus {
    /// The node (its ledger id).
    pub node: String,
    /// `ok`, `invalid` or `unverified` (no node key to check the signatures with).
    pub status: String,
    /// Records in the copy.
    pub records: u64,
    /// Records checked before the problem (all of them when there is none).
    pub checked: u64,
    /// Signed checkpoints.
    pub checkpoints: usize,
    /// Records after the newest checkpoint (not yet covered by a signature).
    pub unsigned_tail: u64,
    /// The first problem.
    pub problem: Option<String>,
    /// The newest checkpoints, newest first (at most 20).
    pub latest: Vec<CheckpointView>,
    /// When the check ran (Unix seconds).
    pub checked_at: i64,
}

/// Checks this node's audit records in the store against its signed checkpoints (the
/// auditor's ledger verification status).
#[utoipa::path(get, path = "/api/v1/audit/ledger", tag = "audit",
    responses((status = 200, body = LedgerStatus), (status = "default", body = ErrorBody)))]
pub async fn ledger_status(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<LedgerStatus>> {
    p.authorize(
        &c,
        Action::AuditRead,
        &resource("audit", "ledger", None, None),
        Map::new(),
    )
    .await?;
    crate::mirror::mirror_now(&p).await?;
    let node = p.node.clone();
    let data_dir = p.data_dir.clone();
    let store = Arc::clone(&p.store);
    let check = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let key = shuan_crypto::node::load_node_public_key(&data_dir).ok();
        let rows = store.audit_search(&AuditFilter {
            node: Some(node.clone()),
            ..AuditFilter::default()
        })?;
        let cps = store.checkpoints(Some(node.as_str()))?;
        let mut latest: Vec<CheckpointView> = cps
            .iter()
            .filter_map(|c| {
                serde_json::from_str::<shuan_ledger::Checkpoint>(&c.checkpoint_json).ok()
            })
            .map(|cp| CheckpointView {
                size: cp.size,
                time: cp.time.to_string(),
                root: shuan_crypto::hex::encode(&cp.root),
            })
            .collect();
        latest.sort_by_key(|c| std::cmp::Reverse(c.size));
        latest.truncate(20);
        Ok((
            crate::mirror::check_node_copy(&node, rows, cps, key.as_ref()),
            latest,
        ))
    })
    .await
    .map_err(ApiError::internal)??;
    let (check, latest) = check;
    Ok(axum::Json(LedgerStatus {
        node: check.node.clone(),
        status: check.status().to_string(),
        records: check.rows as u64,
        checked: check.report.records,
        checkpoints: check.report.checkpoints,
        unsigned_tail: check.report.unsigned_tail,
        problem: check.report.problem.as_ref().map(|f| f.to_string()),
        latest,
        checked_at: now(),
    }))
}
