//! Data quality (数据质量, R-07) over HTTP.
//!
//! The data steward saves rule sets on a registered source's catalogued table
//! (`shuan_govern::quality`: not null, unique, pattern, identifier checksum, range,
//! references, freshness) and runs them on demand, or every `interval_hours` from the
//! node's background task ([`run_due`], once a minute; a due time is claimed in the store
//! before it is run, so on several nodes each due time runs once, and a time missed while
//! every node was down runs once when one returns). A run is recorded in the ledger before
//! the source is read — allowed by the policy for a person, as the system for the
//! scheduler — and refused when that cannot be written. Its counts and masked samples are
//! stored; violations file one `data_quality_violation` alert for the source's department.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use shuan_govern::quality::{self, QualityError, QualityReport, Rule};
use shuan_policy::Action;
use shuan_source::columns::TableSpec;
use shuan_store::platform::{
    CatalogueEntry, QualityRuleSet, QualityRun, QualityRunStatus, ShareSource,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::routes::alerts::{file_notice, Notice};
use crate::routes::identity::check_text;
use crate::state::Platform;

/// The rule id of the alert a run with violations raises.
pub const VIOLATION_RULE: &str = "data_quality_violation";
/// Who runs scheduled rule sets, in run records.
pub const SCHEDULER: &str = "scheduler";

/// The quality endpoints.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(create_rule_set, list_rule_sets))
        .routes(routes!(get_rule_set))
        .routes(routes!(run_rule_set))
        .routes(routes!(list_runs))
        .routes(routes!(get_run))
}

/// `POST /api/v1/quality/rule-sets`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRuleSet {
    /// Name, 1–100 characters (unique).
    pub name: String,
    /// The registered source's name.
    pub source: String,
    /// The table's locator in the catalogue (`schema.table`).
    pub table: String,
    /// A column whose value (unmasked) keys each sample, so the row can be found: choose
    /// a record number, never personal data.
    #[serde(default)]
    pub key_column: Option<String>,
    /// The rules: `[{column, check: {kind: not_null | unique | pattern {regex} |
    /// identifier {data_type} | range {min, max} | references {table, column} |
    /// freshness {max_age_hours}}}]`, 1–50.
    #[schema(value_type = Vec<Object>)]
    pub rules: Value,
    /// Run every this many hours (1–8760); absent: on demand only.
    #[serde(default)]
    pub interval_hours: Option<i64>,
}

/// A rule set in answers.
#[derive(Serialize, ToSchema)]
pub struct RuleSetView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The source's id.
    pub source_id: i64,
    /// The table's locator.
    pub table: String,
    /// The source's department.
    pub department: String,
    /// The samples' key column.
    pub key_column: Option<String>,
    /// The rules.
    #[schema(value_type = Vec<Object>)]
    pub rules: Value,
    /// Hours between scheduled runs.
    pub interval_hours: Option<i64>,
    /// When the next scheduled run is due.
    pub next_run_at: Option<i64>,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

fn set_view(r: &QualityRuleSet) -> RuleSetView {
    RuleSetView {
        id: r.id,
        name: r.name.clone(),
        source_id: r.source_id,
        table: r.table_locator.clone(),
        department: r.department.clone(),
        key_column: r.key_column.clone(),
        rules: r.rules.clone(),
        interval_hours: r.interval_hours,
        next_run_at: r.next_run_at,
        created_by: r.created_by.clone(),
        created_at: r.created_at,
    }
}

/// A run in answers.
#[derive(Serialize, ToSchema)]
pub struct RunView {
    /// Id.
    pub id: i64,
    /// The rule set.
    pub rule_set_id: i64,
    /// Start.
    pub started_at: i64,
    /// End.
    pub finished_at: i64,
    /// `passed`, `violations` or `failed`.
    pub status: String,
    /// The status in Chinese.
    pub status_label: String,
    /// Rows read.
    pub rows_checked: i64,
    /// Offending rows over all rules.
    pub violations: i64,
    /// Per rule: `{rule, violations, samples: [{key, value (masked), count}], latest}`.
    #[schema(value_type = Option<Object>)]
    pub report: Option<Value>,
    /// Why a failed run failed.
    pub error: Option<String>,
    /// The account, or `scheduler`.
    pub run_by: String,
    /// The alert the violations raised.
    pub alert_id: Option<i64>,
}

fn run_view(r: &QualityRun) -> RunView {
    RunView {
        id: r.id,
        rule_set_id: r.rule_set_id,
        started_at: r.started_at,
        finished_at: r.finished_at,
        status: r.status.as_str().into(),
        status_label: r.status.label().into(),
        rows_checked: r.rows_checked,
        violations: r.violations,
        report: r.report.clone(),
        error: r.error.clone(),
        run_by: r.run_by.clone(),
        alert_id: r.alert_id,
    }
}

fn set_resource(r: &QualityRuleSet) -> shuan_policy::Resource {
    resource(
        "quality_rule_set",
        &r.id.to_string(),
        Some(&r.department),
        None,
    )
}

/// The source and catalogue entry a rule set names.
async fn source_and_entry(
    p: &Arc<Platform>,
    source_id_or_name: SourceRef,
    table: String,
) -> Result<(ShareSource, CatalogueEntry), ApiError> {
    let found = p
        .db(move |s| {
            let src = s.sources()?.into_iter().find(|x| match &source_id_or_name {
                SourceRef::Name(n) => &x.name == n,
                SourceRef::Id(id) => x.id == *id,
            });
            let Some(src) = src else { return Ok(None) };
            let entries: Vec<_> = s
                .catalogue_entries()?
                .into_iter()
                .filter(|e| e.source_id == src.id)
                .collect();
            Ok(Some((src, entries)))
        })
        .await?;
    let Some((src, entries)) = found else {
        return Err(ApiError::new(
            "not_found",
            "source：数据源未登记 (no registered source of that name; see GET /api/v1/sources)",
        ));
    };
    let Some(entry) = entries.iter().find(|e| e.locator == table).cloned() else {
        let known: Vec<&str> = entries.iter().map(|e| e.locator.as_str()).collect();
        return Err(ApiError::invalid(format!(
            "table：数据源 {} 的目录中没有表 {table}；已编目的表：{} (not in the source's catalogue; catalogued: {})",
            src.name,
            known.join("、"),
            known.join(", ")
        )));
    };
    Ok((src, entry))
}

enum SourceRef {
    Name(String),
    Id(i64),
}

fn parse_rules(rules: &Value) -> Result<Vec<Rule>, ApiError> {
    serde_json::from_value(rules.clone()).map_err(|e| {
        ApiError::invalid(format!(
            "rules：{e} (each rule is {{column, check: {{kind, …}}}}; kinds: not_null, unique, pattern, identifier, range, references, freshness)"
        ))
    })
}

/// Saves a rule set.
#[utoipa::path(post, path = "/api/v1/quality/rule-sets", tag = "governance", request_body = NewRuleSet,
    responses((status = 201, body = RuleSetView), (status = "default", body = ErrorBody)))]
pub async fn create_rule_set(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewRuleSet>,
) -> ApiResult<(StatusCode, axum::Json<RuleSetView>)> {
    check_text("name", &req.name, 100)?;
    check_text("source", &req.source, 200)?;
    check_text("table", &req.table, 400)?;
    if let Some(k) = &req.key_column {
        check_text("key_column", k, 200)?;
    }
    if req.interval_hours.is_some_and(|h| !(1..=8760).contains(&h)) {
        return Err(ApiError::invalid(
            "interval_hours 须为 1 至 8760 小时 (1 to 8,760 hours)",
        ));
    }
    let rules = parse_rules(&req.rules)?;
    // Whose data it is, for the decision; an unregistered source is refused after it.
    let name = req.source.clone();
    let department = p
        .db(move |s| {
            Ok(s.sources()?
                .into_iter()
                .find(|x| x.name == name)
                .map(|x| x.department))
        })
        .await?;
    let now = p.clock.now();
    let mut set = QualityRuleSet {
        id: 0,
        name: req.name.clone(),
        source_id: 0,
        table_locator: req.table.clone(),
        department: department.clone().unwrap_or_default(),
        key_column: req.key_column.clone(),
        rules: req.rules.clone(),
        interval_hours: req.interval_hours,
        next_run_at: req.interval_hours.map(|h| now + h * 3600),
        created_by: c.name().to_string(),
        created_at: now,
    };
    let mut details = Map::new();
    details.insert("name".into(), json!(req.name));
    details.insert("source".into(), json!(req.source));
    details.insert("table".into(), json!(req.table));
    details.insert("rules".into(), json!(rules.len()));
    let r = resource("quality_rule_set", "new", department.as_deref(), None);
    let p2 = Arc::clone(&p);
    let mut stored = set.clone();
    let source = req.source.clone();
    set = p
        .act_then(&c, Action::QualityManage, &r, details, || async move {
            let (src, entry) =
                source_and_entry(&p2, SourceRef::Name(source), stored.table_locator.clone())
                    .await?;
            let columns: Vec<String> = entry.fields.iter().map(|f| f.name.clone()).collect();
            quality::validate(&rules, &columns).map_err(|e| ApiError::invalid(e.to_string()))?;
            if let Some(k) = &stored.key_column {
                // The key is shown unmasked beside every sample: never personal data.
                if let Some(f) = entry.fields.iter().find(|f| &f.name == k) {
                    if f.personal || f.data_type.is_some() {
                        return Err(ApiError::invalid(format!(
                            "key_column：列 {k} 为个人信息或敏感数据（{}），不能作为样例的定位列；请选记录编号等非个人信息列 (the key is shown unmasked: choose a record number, not personal or sensitive data)",
                            f.label.clone().or(f.data_type.clone()).unwrap_or_else(|| f.level.clone())
                        )));
                    }
                }
                if !columns.contains(k) {
                    return Err(ApiError::invalid(format!(
                        "key_column：表中没有列 {k}；可用的列：{} (no such column; the table has: {})",
                        columns.join("、"),
                        columns.join(", ")
                    )));
                }
            }
            stored.source_id = src.id;
            stored.department = src.department.clone();
            let row = stored.clone();
            stored.id = p2.db(move |s| s.create_quality_rule_set(&row)).await?;
            Ok(stored)
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(set_view(&set))))
}

/// Rule sets the caller may read, by name.
#[utoipa::path(get, path = "/api/v1/quality/rule-sets", tag = "governance",
    responses((status = 200, body = Vec<RuleSetView>), (status = "default", body = ErrorBody)))]
pub async fn list_rule_sets(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<RuleSetView>>> {
    p.authorize(
        &c,
        Action::QualityRead,
        &resource("quality_rule_set", "", None, None),
        Map::new(),
    )
    .await?;
    let all = p.db(|s| s.quality_rule_sets()).await?;
    let tree = p.tree_for(&c).await?;
    Ok(axum::Json(
        all.iter()
            .filter(|x| p.allows(&c, Action::QualityRead, &set_resource(x), &tree))
            .map(set_view)
            .collect(),
    ))
}

async fn load_set(p: &Arc<Platform>, id: i64) -> Result<QualityRuleSet, ApiError> {
    p.db(move |s| s.quality_rule_set(id))
        .await?
        .ok_or_else(|| ApiError::not_found("quality rule set", &id.to_string()))
}

/// One rule set.
#[utoipa::path(get, path = "/api/v1/quality/rule-sets/{id}", tag = "governance",
    params(("id" = i64, Path, description = "rule set id")),
    responses((status = 200, body = RuleSetView), (status = "default", body = ErrorBody)))]
pub async fn get_rule_set(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<RuleSetView>> {
    let set = load_set(&p, id).await?;
    p.authorize(&c, Action::QualityRead, &set_resource(&set), Map::new())
        .await?;
    Ok(axum::Json(set_view(&set)))
}

/// Reads the table and checks the rules (on a blocking thread: the read streams, one row
/// in memory); stores the run — failed runs too — and files the alert for violations.
async fn execute(
    p: &Arc<Platform>,
    set: &QualityRuleSet,
    by: &str,
) -> Result<QualityRun, ApiError> {
    let (src, entry) =
        source_and_entry(p, SourceRef::Id(set.source_id), set.table_locator.clone()).await?;
    let rules = parse_rules(&set.rules)?;
    let columns: Vec<String> = entry.fields.iter().map(|f| f.name.clone()).collect();
    let (schema, table) = match entry.locator.split_once('.') {
        Some((s, t)) if src.kind != "sqlite" && src.kind != "file" => {
            (Some(s.to_string()), t.to_string())
        }
        _ => (None, entry.locator.clone()),
    };
    let spec = TableSpec { schema, table };
    let started = p.clock.now();
    let p2 = Arc::clone(p);
    let key = set.key_column.clone();
    let (name, sealed) = (src.name.clone(), src.url_sealed.clone());
    let outcome: Result<QualityReport, ApiError> = tokio::task::spawn_blocking(move || {
        let url = p2
            .secrets
            .open(&crate::routes::sharing::sealed_account(&name), &sealed)?;
        let url = std::str::from_utf8(&url)
            .map_err(|_| ApiError::internal("a sealed source URL is not UTF-8"))?;
        quality::run(
            url,
            &spec,
            &columns,
            key.as_deref(),
            &rules,
            started,
            &Default::default(),
        )
        .map_err(|e| match e {
            QualityError::Rule(r) => ApiError::invalid(r.to_string()),
            QualityError::Source(e) => {
                tracing::warn!(error = %e, "a quality run could not read its source");
                ApiError::new(
                    "quality_run_failed",
                    format!("数据源读取失败，检查未完成 (the source could not be read: {e})"),
                )
            }
        })
    })
    .await
    .map_err(ApiError::internal)?;
    let finished = p.clock.now();
    let mut run = QualityRun {
        id: 0,
        rule_set_id: set.id,
        started_at: started,
        finished_at: finished,
        status: QualityRunStatus::Failed,
        rows_checked: 0,
        violations: 0,
        report: None,
        error: None,
        run_by: by.to_string(),
        alert_id: None,
    };
    let failure = match &outcome {
        Ok(report) => {
            run.rows_checked = i64::try_from(report.rows_checked).unwrap_or(i64::MAX);
            run.violations = i64::try_from(report.violations()).unwrap_or(i64::MAX);
            run.status = if report.violations() > 0 {
                QualityRunStatus::Violations
            } else {
                QualityRunStatus::Passed
            };
            run.report = Some(serde_json::to_value(report).map_err(ApiError::internal)?);
            None
        }
        Err(e) => {
            run.error = Some(e.message.clone());
            Some(e.clone())
        }
    };
    if let Ok(report) = &outcome {
        if report.violations() > 0 {
            let broken: Vec<String> = report
                .results
                .iter()
                .filter(|r| r.violations > 0)
                .map(|r| {
                    format!(
                        "{}（{}）{} 行",
                        r.rule.column,
                        r.rule.check.label(),
                        r.violations
                    )
                })
                .collect();
            let notice = Notice {
                key: format!("{VIOLATION_RULE}:{}:{started}:{by}", set.id),
                rule: VIOLATION_RULE,
                label: "数据质量问题",
                severity: "medium",
                actor: by.to_string(),
                department: Some(set.department.clone()),
                window: (started, finished),
                summary_zh: format!(
                    "数据质量规则集 {} 检查 {} 行，发现问题：{}",
                    set.name,
                    report.rows_checked,
                    broken.join("；")
                ),
                summary_en: format!(
                    "quality rule set {}: {} rows checked, {} offending row(s) over {} rule(s)",
                    set.name,
                    report.rows_checked,
                    report.violations(),
                    broken.len()
                ),
            };
            run.alert_id = file_notice(p, notice).await?;
        }
    }
    let stored = run.clone();
    run.id = p.db(move |s| s.record_quality_run(&stored)).await?;
    match failure {
        Some(mut e) => {
            e.message = format!("{}；检查记录 {} (run {})", e.message, run.id, run.id);
            Err(e)
        }
        None => Ok(run),
    }
}

/// Runs a rule set now.
#[utoipa::path(post, path = "/api/v1/quality/rule-sets/{id}/run", tag = "governance",
    params(("id" = i64, Path, description = "rule set id")),
    responses((status = 201, body = RunView), (status = "default", body = ErrorBody)))]
pub async fn run_rule_set(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, axum::Json<RunView>)> {
    let set = load_set(&p, id).await?;
    let mut details = Map::new();
    details.insert("name".into(), json!(set.name));
    details.insert("table".into(), json!(set.table_locator));
    let p2 = Arc::clone(&p);
    let by = c.name().to_string();
    let set2 = set.clone();
    let run = p
        .act_then(
            &c,
            Action::QualityRun,
            &set_resource(&set),
            details,
            || async move { execute(&p2, &set2, &by).await },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(run_view(&run))))
}

/// Query of `GET /api/v1/quality/runs`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    /// Only this rule set's runs.
    pub rule_set: Option<i64>,
    /// At most this many, newest first (1–500, default 50).
    pub limit: Option<i64>,
}

/// Runs the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/quality/runs", tag = "governance", params(RunQuery),
    responses((status = 200, body = Vec<RunView>), (status = "default", body = ErrorBody)))]
pub async fn list_runs(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> ApiResult<axum::Json<Vec<RunView>>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit 须为 1 至 500 (1 to 500)"));
    }
    p.authorize(
        &c,
        Action::QualityRead,
        &resource("quality_rule_set", "", None, None),
        Map::new(),
    )
    .await?;
    let sets = p.db(|s| s.quality_rule_sets()).await?;
    let tree = p.tree_for(&c).await?;
    let readable: Vec<i64> = sets
        .iter()
        .filter(|x| p.allows(&c, Action::QualityRead, &set_resource(x), &tree))
        .filter(|x| q.rule_set.is_none_or(|only| only == x.id))
        .map(|x| x.id)
        .collect();
    // The newest `limit` of each readable set, then the newest `limit` of those: a
    // limit taken over every set first would let other departments' runs crowd out the
    // caller's.
    let mut runs = p
        .db(move |s| {
            let mut all = Vec::new();
            for id in readable {
                all.extend(s.quality_runs(Some(id), limit)?);
            }
            Ok(all)
        })
        .await?;
    runs.sort_by_key(|r| std::cmp::Reverse((r.started_at, r.id)));
    runs.truncate(usize::try_from(limit).unwrap_or(50));
    Ok(axum::Json(runs.iter().map(run_view).collect()))
}

/// One run with its report.
#[utoipa::path(get, path = "/api/v1/quality/runs/{id}", tag = "governance",
    params(("id" = i64, Path, description = "run id")),
    responses((status = 200, body = RunView), (status = "default", body = ErrorBody)))]
pub async fn get_run(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<RunView>> {
    let run = p
        .db(move |s| s.quality_run(id))
        .await?
        .ok_or_else(|| ApiError::not_found("quality run", &id.to_string()))?;
    let set = load_set(&p, run.rule_set_id).await?;
    p.authorize(&c, Action::QualityRead, &set_resource(&set), Map::new())
        .await?;
    Ok(axum::Json(run_view(&run)))
}

/// Runs every scheduled rule set whose time has come, once per due time across nodes:
/// the due time is moved on in the store first (the node that moves it runs it), then the
/// run is recorded in the ledger as the system's act (a run that cannot be recorded is
/// not made), then it runs. Answers the runs made.
pub async fn run_due(p: &Arc<Platform>) -> Result<Vec<QualityRun>, ApiError> {
    let now = p.clock.now();
    let due = p.db(move |s| s.due_quality_rule_sets(now)).await?;
    let mut made = Vec::new();
    for set in due {
        let (Some(at), Some(hours)) = (set.next_run_at, set.interval_hours) else {
            continue;
        };
        // The next time after now on the schedule: missed runs are not stacked up.
        let step = hours.max(1) * 3600;
        let missed = (now - at) / step + 1;
        let next = at + missed * step;
        let id = set.id;
        if !p.db(move |s| s.claim_quality_run(id, at, next)).await? {
            continue;
        }
        let mut details = Map::new();
        details.insert("name".into(), json!(set.name));
        details.insert("table".into(), json!(set.table_locator));
        details.insert("due_at".into(), json!(at));
        if let Err(e) = p
            .record_system("quality.run", &format!("quality_rule_set:{id}"), details)
            .await
        {
            tracing::warn!(rule_set = id, error = %e, "a scheduled quality run could not be recorded; not run");
            continue;
        }
        match execute(p, &set, SCHEDULER).await {
            Ok(run) => made.push(run),
            Err(e) => {
                tracing::warn!(rule_set = id, error = %e, "a scheduled quality run failed")
            }
        }
    }
    Ok(made)
}
