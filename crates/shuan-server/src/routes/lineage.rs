//! Lineage (溯源, R-06) over HTTP.
//!
//! The platform records a derivation for each dataset it produces (a masking job's output
//! per table, a backup archive); a data steward registers derivations made elsewhere by
//! hand. `GET /api/v1/lineage?dataset=REF` walks the records backwards to the original
//! sources (datasets nothing recorded produced) and forwards to the consumers, up to a
//! depth, showing only derivations the caller may read.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use shuan_policy::{Action, DepartmentTree};
use shuan_store::platform::lineage::NEIGHBOURS;
use shuan_store::platform::Derivation;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::routes::identity::check_text;
use crate::state::Platform;

/// The most derivations one walk returns in each direction.
pub const WALK_LIMIT: usize = 1000;

/// The most datasets one walk looks up in each direction (one store query each).
pub const VISIT_LIMIT: usize = 2000;

/// The lineage endpoints.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(walk))
        .routes(routes!(register, recent))
}

/// A derivation in answers.
#[derive(Serialize, ToSchema)]
pub struct DerivationView {
    /// Id.
    pub id: i64,
    /// What was done.
    pub operation: String,
    /// The datasets read.
    pub inputs: Vec<String>,
    /// The dataset produced.
    pub output: String,
    /// The department, when known.
    pub department: Option<String>,
    /// Parameters (JSON object).
    #[schema(value_type = Object)]
    pub parameters: Value,
    /// Recorded by the platform itself (else registered by hand).
    pub automatic: bool,
    /// Who ran or registered it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: i64,
}

fn view(d: &Derivation) -> DerivationView {
    DerivationView {
        id: d.id,
        operation: d.operation.clone(),
        inputs: d.inputs.clone(),
        output: d.output.clone(),
        department: d.department.clone(),
        parameters: d.parameters.clone(),
        automatic: d.automatic,
        recorded_by: d.recorded_by.clone(),
        recorded_at: d.recorded_at,
    }
}

fn derivation_resource(d: &Derivation) -> shuan_policy::Resource {
    resource(
        "derivation",
        &d.id.to_string(),
        d.department.as_deref(),
        None,
    )
}

/// `GET /api/v1/lineage` parameters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WalkQuery {
    /// The dataset reference (a source table `NAME/TABLE`, a file path, an archive …).
    pub dataset: String,
    /// How many derivations deep to walk each way (1–50, default 10).
    pub depth: Option<u32>,
}

/// A walk's answer.
#[derive(Serialize, ToSchema)]
pub struct LineageView {
    /// The dataset asked about.
    pub dataset: String,
    /// Derivations leading to it, nearest first.
    pub upstream: Vec<DerivationView>,
    /// The original sources reached: inputs that nothing recorded produced.
    pub origins: Vec<String>,
    /// Derivations reading it or what was made from it, nearest first.
    pub downstream: Vec<DerivationView>,
    /// The walk stopped at the depth or size limit before reaching every end.
    pub truncated: bool,
}

/// Walks the lineage of a dataset both ways.
#[utoipa::path(get, path = "/api/v1/lineage", tag = "governance", params(WalkQuery),
    responses((status = 200, body = LineageView), (status = "default", body = ErrorBody)))]
pub async fn walk(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<WalkQuery>,
) -> ApiResult<axum::Json<LineageView>> {
    check_text("dataset", &q.dataset, 1000)?;
    let depth = q.depth.unwrap_or(10);
    if !(1..=50).contains(&depth) {
        return Err(ApiError::invalid("depth 须为 1 至 50 (depth: 1 to 50)"));
    }
    let mut details = Map::new();
    details.insert("dataset".into(), json!(q.dataset));
    p.authorize(
        &c,
        Action::LineageRead,
        &resource("derivation", "", None, None),
        details,
    )
    .await?;
    let tree = p.tree_for(&c).await?;
    let (up, origins, cut_up) = walk_one_way(&p, &c, &tree, &q.dataset, depth, true).await?;
    let (down, _, cut_down) = walk_one_way(&p, &c, &tree, &q.dataset, depth, false).await?;
    let truncated = cut_up || cut_down;
    Ok(axum::Json(LineageView {
        dataset: q.dataset.clone(),
        upstream: up.iter().map(view).collect(),
        origins: origins.into_iter().collect(),
        downstream: down.iter().map(view).collect(),
        truncated,
    }))
}

/// One direction of a walk, breadth first: the derivations the caller may read, the
/// origins reached (upstream only) and whether a limit cut it short. Each dataset visited
/// costs one store query, so the datasets visited are capped as well as the derivations
/// answered; a dataset at the depth limit is looked at only to tell whether the walk
/// would have gone on.
async fn walk_one_way(
    p: &Platform,
    c: &Caller,
    tree: &DepartmentTree,
    start: &str,
    depth: u32,
    upstream: bool,
) -> Result<(Vec<Derivation>, BTreeSet<String>, bool), ApiError> {
    let mut seen_ids = BTreeSet::new();
    let mut seen_sets = BTreeSet::from([start.to_string()]);
    let mut out: Vec<Derivation> = Vec::new();
    let mut origins = BTreeSet::new();
    let mut queue = VecDeque::from([(start.to_string(), 0u32)]);
    let mut cut = false;
    let mut visited = 0usize;
    while let Some((set, level)) = queue.pop_front() {
        if visited >= VISIT_LIMIT || out.len() >= WALK_LIMIT {
            cut = true;
            break;
        }
        visited += 1;
        let name = set.clone();
        let found = if upstream {
            p.db(move |s| s.derivations_producing(&name)).await?
        } else {
            p.db(move |s| s.derivations_reading(&name)).await?
        };
        if found.len() > NEIGHBOURS {
            cut = true;
        }
        if found.is_empty() {
            // Nothing recorded made it: an original source (whatever the caller may see).
            if upstream && level > 0 {
                origins.insert(set);
            }
            continue;
        }
        if level >= depth {
            cut = true;
            continue;
        }
        for d in found.into_iter().take(NEIGHBOURS) {
            if !p.allows(c, Action::LineageRead, &derivation_resource(&d), tree)
                || !seen_ids.insert(d.id)
            {
                continue;
            }
            let next = if upstream {
                d.inputs.clone()
            } else {
                vec![d.output.clone()]
            };
            for n in next {
                if seen_sets.insert(n.clone()) {
                    queue.push_back((n, level + 1));
                }
            }
            out.push(d);
        }
    }
    Ok((out, origins, cut))
}

/// `POST /api/v1/lineage/derivations`: a derivation made outside the platform.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDerivation {
    /// What was done (加工、汇总、统计分析 …), 1–100 characters.
    pub operation: String,
    /// The datasets read (1–100, each 1–1000 characters).
    pub inputs: Vec<String>,
    /// The dataset produced, 1–1000 characters (not one of the inputs).
    pub output: String,
    /// The department whose data it is (code).
    pub department: String,
    /// Parameters (a JSON object of at most 16 KiB; never secrets).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub parameters: Option<Value>,
}

/// Registers an external derivation.
#[utoipa::path(post, path = "/api/v1/lineage/derivations", tag = "governance", request_body = NewDerivation,
    responses((status = 201, body = DerivationView), (status = "default", body = ErrorBody)))]
pub async fn register(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewDerivation>,
) -> ApiResult<(StatusCode, axum::Json<DerivationView>)> {
    check_text("operation", &req.operation, 100)?;
    check_text("output", &req.output, 1000)?;
    if req.inputs.is_empty() || req.inputs.len() > 100 {
        return Err(ApiError::invalid(
            "inputs 须有 1 至 100 项 (1 to 100 inputs)",
        ));
    }
    for (n, i) in req.inputs.iter().enumerate() {
        check_text(&format!("inputs[{n}]"), i, 1000)?;
        if *i == req.output {
            return Err(ApiError::invalid(format!(
                "inputs[{n}] 与 output 相同：数据不能由自身加工而来 (an input cannot be the output)"
            )));
        }
    }
    let parameters = req.parameters.clone().unwrap_or_else(|| json!({}));
    if !parameters.is_object() || parameters.to_string().len() > 16 * 1024 {
        return Err(ApiError::invalid(
            "parameters 须为不超过 16 KiB 的 JSON 对象 (parameters: a JSON object of at most 16 KiB)",
        ));
    }
    let known = {
        let code = req.department.clone();
        p.db(move |s| s.department(&code)).await?.is_some()
    };
    let mut d = Derivation {
        id: 0,
        operation: req.operation.clone(),
        inputs: req.inputs.clone(),
        output: req.output.clone(),
        department: Some(req.department.clone()),
        parameters,
        automatic: false,
        recorded_by: c.name().to_string(),
        recorded_at: p.clock.now(),
    };
    let mut details = Map::new();
    details.insert("operation".into(), json!(req.operation));
    details.insert("output".into(), json!(req.output));
    let r = resource("derivation", "new", Some(&req.department), None);
    let stored = d.clone();
    let store = Arc::clone(&p);
    d.id = p
        .act_then(&c, Action::LineageManage, &r, details, || async move {
            // Told only after the policy allowed the request.
            if !known {
                return Err(ApiError::invalid(format!(
                    "department：部门 {} 不存在 (no such department)",
                    stored.department.as_deref().unwrap_or_default()
                )));
            }
            store.db(move |s| s.record_derivation(&stored)).await
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view(&d))))
}

/// `GET /api/v1/lineage/derivations` parameters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecentQuery {
    /// At most this many (1–1000, default 100).
    pub limit: Option<u32>,
}

/// The latest derivations the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/lineage/derivations", tag = "governance", params(RecentQuery),
    responses((status = 200, body = Vec<DerivationView>), (status = "default", body = ErrorBody)))]
pub async fn recent(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<RecentQuery>,
) -> ApiResult<axum::Json<Vec<DerivationView>>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid(
            "limit 须为 1 至 1000 (limit: 1 to 1,000)",
        ));
    }
    let all = p.db(move |s| s.recent_derivations(limit as usize)).await?;
    let mine = p
        .readable(
            &c,
            Action::LineageRead,
            "derivation",
            all,
            derivation_resource,
        )
        .await?;
    Ok(axum::Json(mine.iter().map(view).collect()))
}
