//! The data-service gateway (数据服务, R-22): a provider's steward publishes a service on
//! a catalogue resource (response fields, declared parameters, a row cap); a caller of
//! the receiving department calls it with `GET /api/v1/services/{name}?PARAM=VALUE`.
//!
//! Every call is decided at the second it is made (`Platform::clock`): the agreement of
//! the caller's department for the service's resource must be in force (`[valid_from,
//! valid_until)`, not suspended or revoked), its 用途 must be the one stated, the policy
//! must allow `service.call`, only declared parameters are taken and bound as values of
//! a parameterised select (never SQL text), the agreement's row filter is added, more rows
//! than the cap fail the call (422 `row_cap_exceeded`, nothing answered — never cut
//! short), rate and volume are counted per agreement, the agreement's masking scenario
//! (`shuan-mask`) is applied to every value, and a CSV answer carries the recipient's
//! watermark. Each call — answered or refused — leaves exactly one ledger record
//! (`service.call`: caller, agreement, masked parameters, rows, latency, outcome) written
//! before the answer is sent; when it cannot be written the call answers 503 and nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use shuan_crypto::sm2::SigningKey;
use shuan_ledger::Outcome;
use shuan_mask::job::ResidualRedactor;
use shuan_mask::rules::{ColumnInfo, RuleSet};
use shuan_mask::{ApplyCtx, MaskKeys, Operator};
use shuan_policy::{AccessRequest, Action};
use shuan_share::service::{CompiledService, ParamSpec, ServiceSpec};
use shuan_source::query::{Connection, QueryError, Select};
use shuan_store::platform::{Agreement, CatalogueEntry, DataService, Quota, ShareSource};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{department_ancestors, resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::routes::identity::check_id;
use crate::routes::sharing::then_store;
use crate::state::Platform;
use crate::PASSPHRASE_ENV;

/// Default time limit of a service's query.
pub const DEFAULT_TIMEOUT_MS: i64 = 5_000;
/// Idle connections kept per source.
const POOL_PER_SOURCE: usize = 16;
/// The header naming the agreement a call is made under (else the caller department's
/// agreement in force for the service's resource is used).
pub const AGREEMENT_HEADER: &str = "x-shuan-agreement";

/// The gateway's shared state: pooled source connections and what is loaded once (the
/// node's signing key, the masking key and rules, compiled services).
#[derive(Default)]
pub struct Gateway {
    pools: Mutex<HashMap<i64, Vec<Connection>>>,
    node_key: tokio::sync::OnceCell<Arc<SigningKey>>,
    mask_keys: tokio::sync::OnceCell<Arc<MaskKeys>>,
    rules: OnceLock<Option<Arc<RuleSet>>>,
    redactor: OnceLock<Arc<shuan_mask::plan::TextRedactor>>,
    compiled: Mutex<HashMap<String, (i64, Arc<CompiledService>)>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        // A blocking database client may not be dropped on an async worker (it runs its
        // own runtime to close): the pooled connections close on a thread of their own.
        let pools = std::mem::take(self.pools.get_mut().unwrap_or_else(PoisonError::into_inner));
        if !pools.is_empty() {
            let _ = std::thread::Builder::new()
                .name("shuan-gateway-close".into())
                .spawn(move || drop(pools));
        }
    }
}

impl Gateway {
    /// The node's SM2 signing key (agreements are signed with it).
    pub async fn node_key(&self, data_dir: &std::path::Path) -> Result<Arc<SigningKey>, ApiError> {
        let dir = data_dir.to_path_buf();
        self.node_key
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || {
                    shuan_crypto::node::load_or_create_node_key(&dir)
                        .map(Arc::new)
                        .map_err(ApiError::internal)
                })
                .await
                .map_err(ApiError::internal)?
            })
            .await
            .cloned()
    }

    /// The masking key of the keyring (`mask`, created on first use), for pseudonyms
    /// and watermarks.
    async fn mask_keys(&self, data_dir: &std::path::Path) -> Result<Arc<MaskKeys>, ApiError> {
        let dir = data_dir.to_path_buf();
        self.mask_keys
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || {
                    let mut keyring = shuan_crypto::keyring::Keyring::open(&dir, || {
                        std::env::var(PASSPHRASE_ENV)
                            .ok()
                            .filter(|s| !s.is_empty())
                            .map(zeroize::Zeroizing::new)
                    })
                    .map_err(ApiError::internal)?;
                    let found = shuan_mask::key::keyring_mask_key(
                        &mut keyring,
                        shuan_mask::key::DEFAULT_MASK_KEY_ID,
                        None,
                        true,
                    )
                    .map_err(ApiError::internal)?
                    .ok_or_else(|| ApiError::internal("no masking key"))?;
                    Ok(Arc::new(found.keys))
                })
                .await
                .map_err(ApiError::internal)?
            })
            .await
            .cloned()
    }

    fn rules(&self) -> Result<Arc<RuleSet>, ApiError> {
        self.rules
            .get_or_init(|| {
                RuleSet::builtin(&shuan_mask::source_job::known_type)
                    .ok()
                    .map(Arc::new)
            })
            .clone()
            .ok_or_else(|| ApiError::internal("the built-in masking rules do not load"))
    }

    fn redactor(&self) -> Arc<shuan_mask::plan::TextRedactor> {
        Arc::clone(
            self.redactor
                .get_or_init(|| Arc::new(shuan_mask::plan::TextRedactor::new())),
        )
    }

    fn compiled(
        &self,
        svc: &DataService,
        entry: &CatalogueEntry,
    ) -> Result<Arc<CompiledService>, ApiError> {
        let mut cache = self.compiled.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, c)) = cache.get(&svc.name) {
            if *at == svc.created_at {
                return Ok(Arc::clone(c));
            }
        }
        let spec = spec_of(svc)?;
        let columns: Vec<&str> = entry.fields.iter().map(|f| f.name.as_str()).collect();
        let compiled =
            Arc::new(spec.compile(&columns, entry.personal).map_err(|r| {
                ApiError::internal(format!("stored service does not compile: {r}"))
            })?);
        cache.insert(svc.name.clone(), (svc.created_at, Arc::clone(&compiled)));
        Ok(compiled)
    }

    fn take(&self, source: i64) -> Option<Connection> {
        self.pools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(&source)
            .and_then(Vec::pop)
    }

    fn give_back(&self, source: i64, conn: Connection) {
        if conn.is_broken() {
            return;
        }
        let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        let pool = pools.entry(source).or_default();
        if pool.len() < POOL_PER_SOURCE {
            pool.push(conn);
        }
    }
}

fn spec_of(svc: &DataService) -> Result<ServiceSpec, ApiError> {
    let (params, paging) = split_params(&svc.params);
    let params: Vec<ParamSpec> = serde_json::from_value(params).map_err(ApiError::internal)?;
    Ok(ServiceSpec {
        fields: svc.fields.clone(),
        params,
        max_rows: u64::try_from(svc.max_rows).unwrap_or(1),
        paging,
    })
}

/// The gateway's routes.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(list_services, publish_service))
        .routes(routes!(call_service))
}

// ---- publishing ----

/// One declared parameter of a service.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct ParamDoc {
    /// Name in the query string.
    pub name: String,
    /// The column it filters.
    pub column: String,
    /// `eq ne lt le gt ge prefix` (default `eq`).
    #[serde(default)]
    pub op: Option<String>,
    /// `string`, `integer`, `number`, `date` or `boolean` (default `string`).
    #[serde(rename = "type", default)]
    pub ty: Option<String>,
    /// Every call must give it.
    #[serde(default)]
    pub required: Option<bool>,
    /// Smallest value (integer, number, date).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub min: Option<Value>,
    /// Largest value.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub max: Option<Value>,
    /// A regular expression the whole value must match (linear time).
    #[serde(default)]
    pub pattern: Option<String>,
    /// Shortest value.
    #[serde(default)]
    pub min_length: Option<u64>,
    /// Longest value (default 256).
    #[serde(default)]
    pub max_length: Option<u64>,
}

/// `POST /api/v1/services`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishService {
    /// Unique name (the path segment of the call).
    pub name: String,
    /// The resource's code (资源代码).
    pub resource: String,
    /// Response fields.
    pub fields: Vec<String>,
    /// Declared parameters: `{name, column, op, type, required, min, max, pattern,
    /// min_length, max_length}`.
    #[schema(value_type = Vec<ParamDoc>)]
    pub params: Vec<Value>,
    /// Most rows a call answers (1–10000); a call that would answer more fails.
    pub max_rows: u64,
    /// Accept `limit` (≤ max_rows) and `offset`.
    #[serde(default)]
    pub paging: bool,
    /// Query time limit in milliseconds (100–60000, default 5000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

/// A published service.
#[derive(Serialize, ToSchema)]
pub struct ServiceView {
    /// Name.
    pub name: String,
    /// The resource.
    pub resource: String,
    /// The providing department.
    pub department: String,
    /// Response fields.
    pub fields: Vec<String>,
    /// Declared parameters.
    #[schema(value_type = Vec<ParamDoc>)]
    pub params: Value,
    /// Row cap.
    pub max_rows: i64,
    /// Paging.
    pub paging: bool,
    /// Query time limit.
    pub timeout_ms: i64,
    /// Who published it.
    pub created_by: String,
    /// When (Unix seconds).
    pub created_at: i64,
    /// Withdrawn.
    pub disabled: bool,
}

/// The parameters are stored as `{"params": [...], "paging": bool}` when paging is on,
/// else as the list.
fn stored_params(params: &[ParamSpec], paging: bool) -> Value {
    if paging {
        json!({"params": params, "paging": true})
    } else {
        json!(params)
    }
}

fn split_params(v: &Value) -> (Value, bool) {
    match v {
        Value::Object(m) => (
            m.get("params").cloned().unwrap_or(Value::Array(vec![])),
            m.get("paging").and_then(Value::as_bool).unwrap_or(false),
        ),
        other => (other.clone(), false),
    }
}

fn service_view(s: &DataService) -> ServiceView {
    let (params, paging) = split_params(&s.params);
    ServiceView {
        name: s.name.clone(),
        resource: s.resource.clone(),
        department: s.department.clone(),
        fields: s.fields.clone(),
        params,
        max_rows: s.max_rows,
        paging,
        timeout_ms: s.timeout_ms,
        created_by: s.created_by.clone(),
        created_at: s.created_at,
        disabled: s.disabled,
    }
}

/// Publishes a data service on a resource of the caller's department (its steward).
#[utoipa::path(post, path = "/api/v1/services", tag = "sharing", request_body = PublishService,
    responses((status = 201, body = ServiceView), (status = "default", body = ErrorBody)))]
pub async fn publish_service(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<PublishService>,
) -> ApiResult<(StatusCode, axum::Json<ServiceView>)> {
    check_id("name", &req.name)?;
    check_id("resource", &req.resource)?;
    if req.fields.len() > 256 || req.params.len() > 64 {
        return Err(ApiError::new(
            "invalid_service",
            "fields 最多 256 个，params 最多 64 个 (too many fields or parameters)",
        ));
    }
    let timeout_ms = match req.timeout_ms {
        None => DEFAULT_TIMEOUT_MS,
        Some(t) if (100..=60_000).contains(&t) => t as i64,
        Some(_) => {
            return Err(ApiError::new(
                "invalid_service",
                "timeout_ms 须在 100–60000 之间",
            ))
        }
    };
    let mut params = Vec::with_capacity(req.params.len());
    for v in &req.params {
        let spec: ParamSpec = serde_json::from_value(v.clone()).map_err(|e| {
            ApiError::new(
                "invalid_service",
                format!("参数定义无效 (a parameter: {e}; fields: name, column, op, type, required, min, max, pattern, min_length, max_length)"),
            )
        })?;
        params.push(spec);
    }
    let code = req.resource.clone();
    let entry = p
        .db(move |s| s.catalogue_entry(&code))
        .await?
        .ok_or_else(|| ApiError::not_found("resource", &req.resource))?;
    let mut details = Map::new();
    details.insert("resource".into(), json!(entry.code));
    details.insert("fields".into(), json!(req.fields));
    details.insert("max_rows".into(), json!(req.max_rows));
    let object = format!("service:{}", req.name);
    p.authorize(
        &c,
        Action::ServicePublish,
        &resource("service", &req.name, Some(&entry.department), None),
        details,
    )
    .await?;
    let spec = ServiceSpec {
        fields: req.fields.clone(),
        params: params.clone(),
        max_rows: req.max_rows,
        paging: req.paging,
    };
    let columns: Vec<&str> = entry.fields.iter().map(|f| f.name.as_str()).collect();
    if let Err(r) = spec.compile(&columns, entry.personal) {
        let code = r.code;
        return Err(p
            .refuse_caller(
                &c,
                Action::ServicePublish,
                &object,
                code,
                Map::new(),
                ApiError::new(code, r.message),
            )
            .await);
    }
    let svc = DataService {
        name: req.name.clone(),
        resource: entry.code.clone(),
        department: entry.department.clone(),
        fields: req.fields,
        params: stored_params(&params, req.paging),
        max_rows: req.max_rows as i64,
        timeout_ms,
        created_by: c.name().to_string(),
        created_at: p.clock.now(),
        disabled: false,
    };
    let view = service_view(&svc);
    then_store(&p, &c, Action::ServicePublish, &object, move |s| {
        s.create_service(&svc)
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Published services the caller may see, with their parameters.
#[utoipa::path(get, path = "/api/v1/services", tag = "sharing",
    responses((status = 200, body = Vec<ServiceView>), (status = "default", body = ErrorBody)))]
pub async fn list_services(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<ServiceView>>> {
    p.authorize(
        &c,
        Action::ServiceRead,
        &resource("service", "", None, None),
        Map::new(),
    )
    .await?;
    let all = then_store(&p, &c, Action::ServiceRead, "service", |s| s.services()).await?;
    let tree = p.tree_for(&c).await?;
    Ok(axum::Json(
        all.iter()
            .filter(|s| {
                p.allows(
                    &c,
                    Action::ServiceRead,
                    &resource("service", &s.name, Some(&s.department), None),
                    &tree,
                )
            })
            .map(service_view)
            .collect(),
    ))
}

// ---- calls ----

/// A call's answer.
#[derive(Serialize, ToSchema)]
pub struct ServiceAnswer {
    /// The rows, one object per row: `{field: value}` (values as text, masked; `null` for
    /// NULL).
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Map<String, Value>>,
    /// The agreement the call was made under.
    pub agreement: i64,
    /// The service.
    pub service: String,
    /// Rows answered.
    pub count: usize,
    /// With paging: the offset of the next page when there are more rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

/// What the call's ledger record says, filled in as the call goes.
struct CallRecord {
    agreement: Option<i64>,
    resource: Option<String>,
    rows: usize,
    format: &'static str,
    watermark: Option<Vec<String>>,
}

struct Answered {
    header: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
    agreement: i64,
    next_offset: Option<u64>,
}

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().to_ascii_lowercase().starts_with("text/csv"))
        })
}

/// Calls a data service with the caller's agreement: `?PARAM=VALUE` for each declared
/// parameter. Answers `{rows, agreement}`, or CSV with `Accept: text/csv` (watermarked
/// for the recipient). Refusals: 400 for parameters (`undeclared_parameter`,
/// `invalid_parameter`, `missing_parameter`, `limit_exceeds_max_rows` …), 403 for the
/// agreement (`no_agreement`, `agreement_expired`, `agreement_revoked`,
/// `agreement_suspended`, `agreement_not_yours`, `purpose_mismatch`) and the policy,
/// 422 `row_cap_exceeded`, 429 `rate_limited` / `volume_exceeded`. Every call is in the
/// ledger before it is answered.
#[utoipa::path(get, path = "/api/v1/services/{name}", tag = "sharing",
    params(("name" = String, Path, description = "service name"),
        ("x-shuan-agreement" = Option<String>, Header, description = "the agreement to call under (default: the caller department's agreement in force)")),
    responses(
        (status = 200, description = "rows", content(
            (ServiceAnswer = "application/json"),
            (String = "text/csv"))),
        (status = "default", body = ErrorBody)))]
pub async fn call_service(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let mut rec = CallRecord {
        agreement: None,
        resource: None,
        rows: 0,
        format: if wants_csv(&headers) { "csv" } else { "json" },
        watermark: None,
    };
    let result = call(&p, &c, &name, &pairs, &headers, &mut rec).await;
    let mut details = Map::new();
    details.insert(
        "service".into(),
        json!(name.chars().take(64).collect::<String>()),
    );
    details.insert("agreement".into(), json!(rec.agreement));
    if let Some(r) = &rec.resource {
        details.insert("resource".into(), json!(r));
    }
    // Parameters are kept recognisable but never whole (they may be identifiers).
    let masked: Vec<Value> = pairs
        .iter()
        .take(shuan_share::service::MAX_QUERY_PAIRS)
        .map(|(k, v)| {
            json!([
                k.chars().take(64).collect::<String>(),
                shuan_share::service::mask_value(v)
            ])
        })
        .collect();
    details.insert("params".into(), Value::Array(masked));
    details.insert("format".into(), json!(rec.format));
    if let Some(session) = &c.session {
        details.insert("session".into(), json!(session.id));
    }
    let object = format!("service:{}", name.chars().take(64).collect::<String>());
    match result {
        Ok(answer) => {
            details.insert("rows".into(), json!(answer.rows.len()));
            if let Some(w) = &rec.watermark {
                details.insert("watermark".into(), json!(w));
            }
            details.insert(
                "latency_us".into(),
                json!(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)),
            );
            if let Err(e) = p
                .record(
                    &c.actor,
                    Action::ServiceCall.id(),
                    &object,
                    Outcome::Allowed,
                    &c.meta,
                    details,
                )
                .await
            {
                return e.into_response();
            }
            respond(answer, &name, rec)
        }
        Err(e) => {
            details.insert("rows".into(), json!(0));
            details.insert("code".into(), json!(e.code));
            details.insert("reason".into(), json!(e.message));
            details.insert(
                "latency_us".into(),
                json!(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)),
            );
            let outcome = if e.status.is_server_error() {
                Outcome::Error
            } else {
                p.metrics
                    .denials
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Outcome::Denied
            };
            match p
                .record(
                    &c.actor,
                    Action::ServiceCall.id(),
                    &object,
                    outcome,
                    &c.meta,
                    details,
                )
                .await
            {
                Ok(_) => e.into_response(),
                Err(unrecorded) => unrecorded.into_response(),
            }
        }
    }
}

fn respond(a: Answered, service: &str, rec: CallRecord) -> Response {
    if rec.format == "csv" {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(&a.header);
        for row in &a.rows {
            let _ = w.write_record(row.iter().map(|v| v.as_deref().unwrap_or("")));
        }
        let body = w.into_inner().unwrap_or_default();
        let mut resp = (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            body,
        )
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&a.agreement.to_string()) {
            resp.headers_mut().insert("x-shuan-agreement", v);
        }
        let mark = match &rec.watermark {
            Some(c) if !c.is_empty() => format!("carriers={}", c.join(",")),
            _ => "none".into(),
        };
        if let Ok(v) = HeaderValue::from_str(&mark) {
            resp.headers_mut().insert("x-shuan-watermark", v);
        }
        return resp;
    }
    let rows: Vec<Map<String, Value>> = a
        .rows
        .into_iter()
        .map(|row| {
            a.header
                .iter()
                .zip(row)
                .map(|(k, v)| (k.clone(), v.map(Value::String).unwrap_or(Value::Null)))
                .collect()
        })
        .collect();
    axum::Json(ServiceAnswer {
        count: rows.len(),
        rows,
        agreement: a.agreement,
        service: service.to_string(),
        next_offset: a.next_offset,
    })
    .into_response()
}

fn denied(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(code, message)
}

fn refusal(r: shuan_share::Refusal) -> ApiError {
    ApiError::new(r.code, r.message)
}

/// Loaded for a call in one trip to the store.
struct CallContext {
    service: DataService,
    entry: CatalogueEntry,
    source: ShareSource,
    agreements: Vec<Agreement>,
}

async fn call(
    p: &Arc<Platform>,
    c: &Caller,
    name: &str,
    pairs: &[(String, String)],
    headers: &HeaderMap,
    rec: &mut CallRecord,
) -> Result<Answered, ApiError> {
    check_id("name", name)?;
    let chosen: Option<i64> = match headers.get(AGREEMENT_HEADER) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|t| t.trim().parse::<i64>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    ApiError::invalid(format!("{AGREEMENT_HEADER} 须为协议编号 (an agreement id)"))
                })?,
        ),
    };
    let department = c.principal.department.clone();
    let name2 = name.to_string();
    let ctx = p
        .db(move |s| {
            let Some(service) = s.service(&name2)? else {
                return Ok(None);
            };
            let Some(entry) = s.catalogue_entry(&service.resource)? else {
                return Ok(None);
            };
            let Some(source) = s.source(entry.source_id)? else {
                return Ok(None);
            };
            let agreements = match chosen {
                Some(id) => s.agreement(id)?.into_iter().collect(),
                None => s.agreements(Some(&department), Some(&service.resource))?,
            };
            Ok(Some(CallContext {
                service,
                entry,
                source,
                agreements,
            }))
        })
        .await?;
    let Some(ctx) = ctx.filter(|x| !x.service.disabled) else {
        return Err(ApiError::not_found("service", name));
    };
    rec.resource = Some(ctx.entry.code.clone());
    let now = p.clock.now();
    let standing = |a: &Agreement| {
        shuan_share::agreement::standing(a.status.as_str(), a.valid_from, a.valid_until, now)
    };
    let agreement = match chosen {
        Some(id) => {
            let Some(a) = ctx.agreements.first() else {
                return Err(ApiError::not_found("agreement", &id.to_string()));
            };
            rec.agreement = Some(a.id);
            if a.recipient != c.principal.department {
                return Err(denied(
                    "agreement_not_yours",
                    format!(
                        "共享协议 {} 属于 {}，不得由 {} 使用（不得转让第三方）(agreement {} is another department's)",
                        a.id, a.recipient, c.principal.department, a.id
                    ),
                ));
            }
            if a.resource != ctx.service.resource {
                return Err(denied(
                    "no_agreement",
                    format!(
                        "共享协议 {} 不涵盖服务 {name} 的资源 {} (the agreement does not cover this service)",
                        a.id, ctx.service.resource
                    ),
                ));
            }
            a.clone()
        }
        None => {
            let in_force = ctx
                .agreements
                .iter()
                .find(|a| standing(a) == shuan_share::Standing::InForce);
            match in_force.or(ctx.agreements.first()) {
                Some(a) => a.clone(),
                None => {
                    return Err(denied(
                        "no_agreement",
                        format!(
                            "{} 没有资源 {} 的共享协议，请先提交共享申请 (no agreement of your department covers this service: POST /api/v1/share-requests)",
                            c.principal.department, ctx.service.resource
                        ),
                    ))
                }
            }
        }
    };
    rec.agreement = Some(agreement.id);
    if let Some(r) = standing(&agreement).refusal(agreement.id) {
        return Err(refusal(r));
    }
    if let Some(purpose) = &c.meta.purpose {
        if purpose.trim() != agreement.purpose.trim() {
            return Err(denied(
                "purpose_mismatch",
                format!(
                    "声明的用途与共享协议 {} 的用途不符 (the stated purpose is not the agreement's)",
                    agreement.id
                ),
            ));
        }
    }
    // The policy, decided here and recorded with the call's one record.
    let mut target = resource(
        "service",
        name,
        Some(&agreement.recipient),
        Some(&agreement.requester),
    );
    if c.principal.needs_ancestors() {
        let code = agreement.recipient.clone();
        target.ancestors = p.db(move |s| department_ancestors(s, &code)).await?;
    }
    let decision = p.policy().decide(&AccessRequest {
        principal: &c.principal,
        action: Action::ServiceCall,
        resource: &target,
    });
    if !decision.allowed {
        return Err(ApiError::new("forbidden", decision.explanation));
    }
    let compiled = p.gateway.compiled(&ctx.service, &ctx.entry)?;
    let bound = compiled.bind(pairs).map_err(refusal)?;
    let granted: Vec<String> = compiled
        .fields()
        .iter()
        .filter(|f| agreement.fields.contains(f))
        .cloned()
        .collect();
    if granted.is_empty() {
        return Err(denied(
            "fields_not_granted",
            format!(
                "服务 {name} 的字段都不在共享协议 {} 的范围内 (the agreement grants none of the service's fields)",
                agreement.id
            ),
        ));
    }
    let columns: Vec<&str> = ctx.entry.fields.iter().map(|f| f.name.as_str()).collect();
    let mut predicates = bound.predicates;
    predicates.extend(
        shuan_share::routing::parse_row_filter(&agreement.row_filter, &columns)
            .map_err(|r| ApiError::internal(format!("agreement row filter: {r}")))?,
    );
    let (schema, table) = match ctx.entry.locator.split_once('.') {
        Some((s, t)) if ctx.source.kind != "sqlite" && ctx.source.kind != "file" => {
            (Some(s.to_string()), t.to_string())
        }
        _ => (None, ctx.entry.locator.clone()),
    };
    let select = Select {
        schema,
        table,
        columns: granted.clone(),
        predicates,
        limit: bound.limit.saturating_add(1),
        offset: bound.offset,
        timeout: Duration::from_millis(u64::try_from(ctx.service.timeout_ms).unwrap_or(5_000)),
    };
    let mut answer = run_select(p, &ctx.source, select).await?;
    let over = answer.rows.len() as u64 > bound.limit;
    let mut next_offset = None;
    if over {
        if bound.limit >= compiled.max_rows() {
            return Err(denied(
                "row_cap_exceeded",
                format!(
                    "结果超过服务 {name} 的单次最大行数 {}，未返回任何数据；请用更具体的参数 (more than {} rows match: the call fails rather than answer part of them)",
                    compiled.max_rows(),
                    compiled.max_rows()
                ),
            ));
        }
        answer.rows.truncate(bound.limit as usize);
        next_offset = Some(bound.offset + bound.limit);
    }
    let (minute, day) = shuan_share::agreement::windows(now);
    let rows = answer.rows.len() as i64;
    let (id, per_minute, per_day) = (
        agreement.id,
        agreement.rate_per_minute,
        agreement.rows_per_day,
    );
    let quota = p
        .db(move |s| s.record_call(id, minute, day, rows, per_minute, per_day))
        .await?;
    match quota {
        Quota::Admitted => {}
        Quota::RateExceeded => {
            return Err(denied(
                "rate_limited",
                format!(
                    "共享协议 {id} 每分钟最多调用 {per_minute} 次，请稍后再试 (calls per minute used up)"
                ),
            ))
        }
        Quota::VolumeExceeded => {
            return Err(denied(
                "volume_exceeded",
                format!(
                    "共享协议 {id} 每日最多 {per_day} 行，本次调用将超出 (rows per day would be passed)"
                ),
            ))
        }
    }
    let keys = p.gateway.mask_keys(&p.data_dir).await?;
    let rules = p.gateway.rules()?;
    let scenario = rules
        .scenario(&agreement.scenario)
        .map_err(ApiError::internal)?;
    let mut header = Vec::with_capacity(granted.len());
    let mut operators = Vec::with_capacity(granted.len());
    let mut keep_index = Vec::with_capacity(granted.len());
    let mut carriers = Vec::new();
    for (i, f) in granted.iter().enumerate() {
        let field = ctx.entry.fields.iter().find(|x| &x.name == f);
        let info = ColumnInfo {
            table: Some(ctx.entry.name.clone()),
            name: f.clone(),
            data_type: field.and_then(|x| x.data_type.clone()),
            data_type_label: field.and_then(|x| x.label.clone()),
            level: field.map(|x| x.level.clone()),
        };
        let op = scenario.choose(&info).operator;
        if op == Operator::Suppress {
            continue;
        }
        if info.data_type.is_none()
            && op == Operator::Keep
            && !looks_like_key(f)
            && field
                .and_then(|x| x.declared_type.as_deref())
                .is_some_and(is_numeric_type)
        {
            carriers.push(f.clone());
        }
        header.push(f.clone());
        operators.push(op);
        keep_index.push(i);
    }
    let residual = scenario.residual_scan.then(|| p.gateway.redactor());
    let mut out_rows = Vec::with_capacity(answer.rows.len());
    for (r, row) in answer.rows.iter().enumerate() {
        let mut out = Vec::with_capacity(header.len());
        for (k, &i) in keep_index.iter().enumerate() {
            let value = row.get(i).cloned().flatten();
            let op = &operators[k];
            let masked = match value {
                None => None,
                Some(v) => {
                    let ctx_apply = ApplyCtx {
                        entity: None,
                        row: r as u64,
                        column: &header[k],
                        pseudonym_tag: None,
                    };
                    // A value an operator cannot take is hidden, never passed on.
                    match op.apply(&v, Some(&*keys), &ctx_apply) {
                        Ok(Some(m)) => match (&residual, op) {
                            (Some(red), Operator::Keep) => Some(red.redact(&m).unwrap_or(m)),
                            _ => Some(m),
                        },
                        Ok(None) | Err(_) => None,
                    }
                }
            };
            out.push(masked);
        }
        out_rows.push(out);
    }
    if rec.format == "csv" {
        let mut embedder =
            shuan_mask::watermark::Embedder::new(&keys, &agreement.recipient, &header, &carriers);
        if let Some(e) = embedder.as_mut() {
            for row in &mut out_rows {
                e.embed(row);
            }
        }
        if !carriers.is_empty() {
            let entry = shuan_mask::watermark::WatermarkEntry {
                recipient: agreement.recipient.clone(),
                carriers: carriers.clone(),
                key_columns: embedder
                    .as_ref()
                    .map(|e| e.key_column_names(&header))
                    .unwrap_or_default(),
                key_fingerprint: keys.fingerprint(),
                when: shuan_crypto::time::now_rfc3339(),
                source: ctx.source.display.clone(),
                destination: format!("service:{name} agreement:{}", agreement.id),
            };
            let dir = p.data_dir.clone();
            tokio::task::spawn_blocking(move || {
                shuan_mask::watermark::Registry::in_dir(&dir).append(&entry)
            })
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        }
        rec.watermark = Some(carriers);
    }
    rec.rows = out_rows.len();
    Ok(Answered {
        header,
        rows: out_rows,
        agreement: agreement.id,
        next_offset,
    })
}

/// A column whose values identify rows (`id`, `…_id`, `…编号`, `…代码`): never a watermark
/// carrier, a changed digit would point at another row.
fn looks_like_key(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "id"
        || lower.ends_with("_id")
        || lower.ends_with("id") && lower.len() <= 4
        || ["编号", "代码", "号码", "序号"]
            .iter()
            .any(|k| name.contains(k))
}

fn is_numeric_type(t: &str) -> bool {
    let t = t.to_ascii_lowercase();
    [
        "int", "numeric", "decimal", "real", "double", "float", "money", "bigint", "smallint",
    ]
    .iter()
    .any(|n| t.contains(n))
}

async fn run_select(
    p: &Arc<Platform>,
    source: &ShareSource,
    select: Select,
) -> Result<shuan_source::query::Answer, ApiError> {
    let p2 = Arc::clone(p);
    let source = source.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = match p2.gateway.take(source.id) {
            Some(c) => c,
            None => {
                let url = p2.secrets.open(
                    &crate::routes::sharing::sealed_account(&source.name),
                    &source.url_sealed,
                )?;
                let url = std::str::from_utf8(&url)
                    .map_err(|_| ApiError::internal("a sealed source URL is not UTF-8"))?;
                Connection::open(url).map_err(|e| unavailable(&e, url))?
            }
        };
        let result = conn.select(&select);
        p2.gateway.give_back(source.id, conn);
        result.map_err(|e| match e {
            QueryError::InvalidValue(m) => ApiError::new(
                "invalid_parameter",
                format!("参数值与列类型不符 (a value the column's type cannot take: {m})"),
            ),
            other => unavailable(&other, ""),
        })
    })
    .await
    .map_err(ApiError::internal)?
}

fn unavailable(e: &QueryError, url: &str) -> ApiError {
    let text = if url.is_empty() {
        e.to_string()
    } else {
        crate::routes::jobs::scrub(&e.to_string(), url)
    };
    tracing::warn!(error = %text, "data service query failed");
    ApiError::new(
        "source_unavailable",
        "数据源暂不可用或查询超时，请稍后重试 (the source cannot be reached now, or the query ran past its time limit)",
    )
}
