//! Data sharing (数据共享, issue 12) over the API: data sources registered by their
//! department's steward and scanned into the resource catalogue (政务数据资源目录), the
//! catalogue's 共享属性/开放属性 changed only stricter by a steward (looser needs the chief
//! data officer), share requests routed by 共享属性 and level, each step decided by a
//! different person, and the final approval's agreement (共享协议) signed with SM2 and
//! recorded in the ledger. The calls of data services are in [`super::gateway`].
//!
//! The rules are `shuan-share`'s; the records `shuan-store`'s; who may do what the Cedar
//! policies'. Every handler authorizes and records before it acts (`Platform::authorize`),
//! records a failure after an allowed decision (`record_failure`) and a refusal by a rule
//! as denied (`refuse_caller`), so the whole authorization trail (授权留痕) is in the
//! ledger. The clock is `Platform::clock` (tests move it).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use shuan_policy::Action;
use shuan_share::catalogue::{self, Attributes, Changer, Openness};
use shuan_share::routing::{self, Route, Step};
use shuan_store::platform::{
    Agreement, AgreementStatus, AgreementTerms, Approval, CatalogueEntry, CatalogueField,
    PlatformStore, PlatformStoreError, ShareRequest, ShareRequestFilter, ShareSource, ShareStatus,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody, OptionalJson};
use crate::routes::identity::check_id;
use crate::state::Platform;

/// The sharing routes (the gateway's are in [`super::gateway::router`]).
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(list_sources, register_source))
        .routes(routes!(list_catalogue))
        .routes(routes!(get_catalogue_entry, update_catalogue_entry))
        .routes(routes!(list_share_requests, create_share_request))
        .routes(routes!(get_share_request))
        .routes(routes!(approve_share_request))
        .routes(routes!(reject_share_request))
        .routes(routes!(list_agreements))
        .routes(routes!(get_agreement))
        .routes(routes!(suspend_agreement))
        .routes(routes!(resume_agreement))
        .routes(routes!(revoke_agreement))
}

/// Built-in grading profiles a source may be scanned with.
const PROFILES: [&str; 2] = ["gbt43697", "xinyang"];

/// The associated data a source's URL is sealed under (a sealed URL cannot be moved to
/// another source).
pub(crate) fn sealed_account(source_name: &str) -> String {
    format!("source:{source_name}")
}

fn refusal(r: shuan_share::Refusal) -> ApiError {
    ApiError::new(r.code, r.message)
}

fn text_field(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() || value.chars().count() > max || value.chars().any(char::is_control)
    {
        return Err(ApiError::invalid(format!(
            "{field} 须为 1–{max} 个字符，不含控制字符 ({field}: 1–{max} characters, no control characters)"
        )));
    }
    Ok(())
}

fn opt_text_field(field: &str, value: &Option<String>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(v) => text_field(field, v, max),
        None => Ok(()),
    }
}

/// Runs a store call for an action the policy already allowed (and the ledger holds);
/// a failure is recorded as outcome `error` before it goes back.
pub(crate) async fn then_store<T, F>(
    p: &Platform,
    c: &Caller,
    action: Action,
    object: &str,
    f: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn PlatformStore) -> Result<T, PlatformStoreError> + Send + 'static,
{
    match p.db(f).await {
        Ok(v) => Ok(v),
        Err(e) => {
            p.record_failure(c, action, object, &e).await;
            Err(e)
        }
    }
}

// ---- views ----

/// A registered data source. Its URL is never answered (only without password).
#[derive(Serialize, ToSchema)]
pub struct SourceView {
    /// Id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The providing department (提供方).
    pub department: String,
    /// `postgres`, `mysql`, `sqlite` or `file`.
    pub kind: String,
    /// The URL without its password.
    pub display: String,
    /// Grading profile of its scan.
    pub profile: String,
    /// Who registered it.
    pub created_by: String,
    /// When (Unix seconds).
    pub created_at: i64,
    /// Last scan (Unix seconds).
    pub scanned_at: Option<i64>,
}

impl From<&ShareSource> for SourceView {
    fn from(s: &ShareSource) -> SourceView {
        SourceView {
            id: s.id,
            name: s.name.clone(),
            department: s.department.clone(),
            kind: s.kind.clone(),
            display: s.display.clone(),
            profile: s.profile.clone(),
            created_by: s.created_by.clone(),
            created_at: s.created_at,
            scanned_at: s.scanned_at,
        }
    }
}

/// One field of a resource, as the scan graded it (no values).
#[derive(Serialize, ToSchema)]
pub struct FieldView {
    /// Column name.
    pub name: String,
    /// Type the source declares.
    pub declared_type: Option<String>,
    /// Detected data type id.
    pub data_type: Option<String>,
    /// Its Chinese label.
    pub label: Option<String>,
    /// Category id.
    pub category: Option<String>,
    /// Level name.
    pub level: String,
    /// Personal information.
    pub personal: bool,
}

/// A resource of the catalogue (政务数据资源目录).
#[derive(Serialize, ToSchema)]
pub struct CatalogueView {
    /// 资源代码.
    pub code: String,
    /// The table name.
    pub name: String,
    /// 资源名称.
    pub title: String,
    /// 提供方 (department code, its 机构代码).
    pub department: String,
    /// The source it is read from.
    pub source_id: i64,
    /// The table as the source names it.
    pub locator: String,
    /// 摘要.
    pub summary: String,
    /// 格式分类.
    pub format: String,
    /// Fields with their detected types and levels.
    pub fields: Vec<FieldView>,
    /// Grading profile.
    pub profile: String,
    /// 数据分级.
    pub level: String,
    /// In the important-data catalogue.
    pub important: bool,
    /// Holds personal information.
    pub personal: bool,
    /// 共享属性: `unconditional`, `conditional` or `none`.
    pub share_type: String,
    /// 无条件共享 / 有条件共享 / 不予共享.
    pub share_label: String,
    /// 共享条件.
    pub share_conditions: Option<String>,
    /// 不予共享的依据.
    pub share_basis: Option<String>,
    /// 开放属性: `unconditional`, `conditional` or `none`.
    pub open_type: String,
    /// 无条件开放 / 有条件开放 / 不予开放.
    pub open_label: String,
    /// 开放条件.
    pub open_conditions: Option<String>,
    /// 共享方式.
    pub share_method: String,
    /// 更新周期.
    pub update_cycle: String,
    /// Rows, when known.
    pub row_count: Option<i64>,
    /// 发布日期 (Unix seconds).
    pub published_at: i64,
    /// Last change (Unix seconds).
    pub updated_at: i64,
    /// Who changed it last.
    pub updated_by: String,
    /// Version (give it back in a change).
    pub version: i64,
}

fn openness(text: &str) -> Openness {
    Openness::parse(text).unwrap_or(Openness::None)
}

impl From<&CatalogueEntry> for CatalogueView {
    fn from(e: &CatalogueEntry) -> CatalogueView {
        CatalogueView {
            code: e.code.clone(),
            name: e.name.clone(),
            title: e.title.clone(),
            department: e.department.clone(),
            source_id: e.source_id,
            locator: e.locator.clone(),
            summary: e.summary.clone(),
            format: e.format.clone(),
            fields: e
                .fields
                .iter()
                .map(|f| FieldView {
                    name: f.name.clone(),
                    declared_type: f.declared_type.clone(),
                    data_type: f.data_type.clone(),
                    label: f.label.clone(),
                    category: f.category.clone(),
                    level: f.level.clone(),
                    personal: f.personal,
                })
                .collect(),
            profile: e.profile.clone(),
            level: e.level.clone(),
            important: e.important,
            personal: e.personal,
            share_type: e.share_type.clone(),
            share_label: openness(&e.share_type).share_label().into(),
            share_conditions: e.share_conditions.clone(),
            share_basis: e.share_basis.clone(),
            open_type: e.open_type.clone(),
            open_label: openness(&e.open_type).open_label().into(),
            open_conditions: e.open_conditions.clone(),
            share_method: e.share_method.clone(),
            update_cycle: e.update_cycle.clone(),
            row_count: e.row_count,
            published_at: e.published_at,
            updated_at: e.updated_at,
            updated_by: e.updated_by.clone(),
            version: e.version,
        }
    }
}

// ---- sources ----

/// `POST /api/v1/sources`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterSource {
    /// Unique name (letters, digits, `_ . -`).
    pub name: String,
    /// `postgres://…` or `mysql://…` (`mariadb://…`); the password is sealed with the
    /// keyring and never answered or logged.
    pub url: String,
    /// The providing department (机构代码).
    pub department: String,
    /// Grading profile: `gbt43697` (default) or `xinyang`.
    #[serde(default)]
    pub profile: Option<String>,
    /// Values sampled per column (1–100000, default 1000).
    #[serde(default)]
    pub sample: Option<u32>,
}

/// A registered source and the catalogue entries of its tables.
#[derive(Serialize, ToSchema)]
pub struct RegisteredSource {
    /// The source.
    pub source: SourceView,
    /// One entry per table.
    pub entries: Vec<CatalogueView>,
}

fn source_kind(url: &str) -> Option<&'static str> {
    let lower = url.get(..16).unwrap_or(url).to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        Some("postgres")
    } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
        Some("mysql")
    } else {
        None
    }
}

/// Registers a data source of a department (its steward) and scans it: each table becomes
/// a catalogue entry with the defaults of its grading level.
#[utoipa::path(post, path = "/api/v1/sources", tag = "sharing", request_body = RegisterSource,
    responses((status = 201, body = RegisteredSource), (status = "default", body = ErrorBody)))]
pub async fn register_source(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<RegisterSource>,
) -> ApiResult<(StatusCode, axum::Json<RegisteredSource>)> {
    check_id("name", &req.name)?;
    check_id("department", &req.department)?;
    if req.url.is_empty() || req.url.len() > 4096 || req.url.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "url 须为 1–4096 字节，不含控制字符 (url: 1–4096 bytes)",
        ));
    }
    let Some(kind) = source_kind(&req.url) else {
        return Err(ApiError::invalid(
            "url 须为 postgres://… 或 mysql://… (a PostgreSQL or MySQL/MariaDB URL)",
        ));
    };
    let profile_name = req.profile.clone().unwrap_or_else(|| "gbt43697".into());
    if !PROFILES.contains(&profile_name.as_str()) {
        return Err(ApiError::invalid(format!(
            "profile 须为 {} 之一 (unknown profile)",
            PROFILES.join("、")
        )));
    }
    let sample = match req.sample {
        None => shuan_discover::DEFAULT_SAMPLE,
        Some(n) if (1..=100_000).contains(&n) => n as usize,
        Some(_) => return Err(ApiError::invalid("sample 须在 1–100000 之间")),
    };
    let display = shuan_source::redact_url(&req.url);
    let mut details = Map::new();
    details.insert("url".into(), json!(display));
    details.insert("profile".into(), json!(profile_name));
    let object = format!("source:{}", req.name);
    p.authorize(
        &c,
        Action::SourceRegister,
        &resource("source", &req.name, Some(&req.department), None),
        details,
    )
    .await?;
    let result = register_work(&p, &c, req, kind, profile_name, sample, display).await;
    match result {
        Ok(v) => Ok((StatusCode::CREATED, axum::Json(v))),
        Err(e) => {
            p.record_failure(&c, Action::SourceRegister, &object, &e)
                .await;
            Err(e)
        }
    }
}

async fn register_work(
    p: &Arc<Platform>,
    c: &Caller,
    req: RegisterSource,
    kind: &'static str,
    profile_name: String,
    sample: usize,
    display: String,
) -> Result<RegisteredSource, ApiError> {
    // Checked after the decision so that the refusal is recorded, before any connection.
    p.settings
        .source_hosts
        .check(&req.url)
        .map_err(|e| crate::routes::jobs::source_host_refused("url", &e))?;
    let department = req.department.clone();
    let name = req.name.clone();
    let (dept, taken) = p
        .db({
            let department = department.clone();
            let name = name.clone();
            move |s| {
                let d = s.department(&department)?;
                let taken = s.sources()?.iter().any(|x| x.name == name);
                Ok((d, taken))
            }
        })
        .await?;
    if dept.is_none() {
        return Err(ApiError::not_found("department", &department));
    }
    if taken {
        return Err(ApiError::new(
            "exists",
            format!("数据源 {name} 已存在 (source {name} already exists)"),
        ));
    }
    let sealed = p.secrets.seal(&sealed_account(&name), req.url.as_bytes())?;
    let url = zeroize::Zeroizing::new(req.url);
    let profile = shuan_discover::load_profile(&profile_name).map_err(ApiError::internal)?;
    let scanned = tokio::task::spawn_blocking(move || {
        let settings = shuan_discover::ScanSettings {
            profile: Arc::new(profile),
            sample,
            jobs: 2,
            source_options: shuan_source::SourceOptions::default(),
        };
        let opened = shuan_discover::open_source(&url, &settings.source_options);
        let (source, tables) = match opened {
            Ok(v) => v,
            Err(e) => return Err(crate::routes::jobs::scrub(&e.to_string(), &url)),
        };
        let result = shuan_discover::scan_source(&url, source, tables, &settings, &|_: &str| {});
        if let Some(f) = result.failures.first() {
            return Err(crate::routes::jobs::scrub(f, &url));
        }
        Ok((result, settings.profile))
    })
    .await
    .map_err(ApiError::internal)?;
    let (result, profile) = scanned.map_err(|m| {
        ApiError::new(
            "source_unreachable",
            format!("无法读取数据源，请检查地址、账号和网络 (the source cannot be read: {m})"),
        )
    })?;
    let now = p.clock.now();
    let source = ShareSource {
        id: 0,
        name: name.clone(),
        department: department.clone(),
        kind: kind.into(),
        display,
        url_sealed: sealed,
        profile: profile_name.clone(),
        created_by: c.name().to_string(),
        created_at: now,
        scanned_at: None,
    };
    let tables = result.tables;
    let creator = c.name().to_string();
    let (source, entries) = p
        .db(move |s| {
            let id = s.create_source(&source)?;
            let entries: Vec<CatalogueEntry> = tables
                .iter()
                .enumerate()
                .map(|(i, t)| entry_of(t, i, id, &department, &profile, now, &creator))
                .collect();
            s.add_catalogue_entries(id, now, &entries)?;
            let source = s.source(id)?.ok_or_else(|| PlatformStoreError::NotFound {
                kind: "source",
                id: id.to_string(),
            })?;
            Ok((source, entries))
        })
        .await?;
    Ok(RegisteredSource {
        source: SourceView::from(&source),
        entries: entries.iter().map(CatalogueView::from).collect(),
    })
}

/// The catalogue entry of one scanned table, with the defaults of its level.
fn entry_of(
    t: &shuan_discover::TableResult,
    index: usize,
    source_id: i64,
    department: &str,
    profile: &shuan_classify::Profile,
    now: i64,
    by: &str,
) -> CatalogueEntry {
    let fields: Vec<CatalogueField> = t
        .columns
        .iter()
        .map(|col| {
            let category = col.grade.category;
            CatalogueField {
                name: col.name.clone(),
                declared_type: col.declared_type.clone(),
                data_type: col.data_type.map(|d| d.id().to_string()),
                label: col.data_type.map(|d| d.label().to_string()),
                category: category.map(|c| c.id.to_string()),
                level: profile.level(col.grade.level).name.clone(),
                level_rank: i64::from(col.grade.level.0),
                personal: category
                    .is_some_and(|c| c.id.starts_with("pi_") || c.group == "个人信息"),
            }
        })
        .collect();
    let level = profile.level(t.grade.level);
    let defaults = catalogue::defaults(profile, t.grade.level);
    let a = defaults.attributes;
    let personal = fields.iter().any(|f| f.personal);
    let name = t.table.rsplit('.').next().unwrap_or(&t.table).to_string();
    let typed: Vec<&str> = fields.iter().filter_map(|f| f.label.as_deref()).collect();
    let summary = if typed.is_empty() {
        format!("{} 个字段，未发现敏感数据类型", fields.len())
    } else {
        format!("{} 个字段，含：{}", fields.len(), typed.join("、"))
    };
    CatalogueEntry {
        code: format!("{department}-{source_id:04}-{:03}", index + 1),
        source_id,
        locator: t.table.clone(),
        name: name.clone(),
        title: name,
        department: department.to_string(),
        summary,
        format: "数据库表".into(),
        fields,
        profile: profile.name().to_string(),
        level: level.name.clone(),
        level_rank: i64::from(t.grade.level.0),
        important: defaults.important,
        personal,
        share_type: a.share.as_str().into(),
        share_conditions: a.share_conditions,
        share_basis: a.share_basis,
        open_type: a.open.as_str().into(),
        open_conditions: a.open_conditions,
        share_method: "接口".into(),
        update_cycle: "实时".into(),
        row_count: t.row_count.and_then(|n| i64::try_from(n).ok()),
        published_at: now,
        updated_at: now,
        updated_by: by.to_string(),
        version: 1,
    }
}

/// Registered sources (without their URLs' passwords).
#[utoipa::path(get, path = "/api/v1/sources", tag = "sharing",
    responses((status = 200, body = Vec<SourceView>), (status = "default", body = ErrorBody)))]
pub async fn list_sources(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<SourceView>>> {
    p.authorize(
        &c,
        Action::SourceRead,
        &resource("source", "", None, None),
        Map::new(),
    )
    .await?;
    let sources = then_store(&p, &c, Action::SourceRead, "source", |s| s.sources()).await?;
    let tree = p.tree_for(&c).await?;
    Ok(axum::Json(
        sources
            .iter()
            .filter(|s| {
                p.allows(
                    &c,
                    Action::SourceRead,
                    &resource("source", &s.name, Some(&s.department), None),
                    &tree,
                )
            })
            .map(SourceView::from)
            .collect(),
    ))
}

// ---- catalogue ----

pub(crate) fn entry_resource(e: &CatalogueEntry) -> shuan_policy::Resource {
    resource("catalogue_entry", &e.code, Some(&e.department), None)
}

/// The resource catalogue (政务数据资源目录): the entries the caller's scope reaches.
#[utoipa::path(get, path = "/api/v1/catalogue", tag = "sharing",
    responses((status = 200, body = Vec<CatalogueView>), (status = "default", body = ErrorBody)))]
pub async fn list_catalogue(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<CatalogueView>>> {
    p.authorize(
        &c,
        Action::CatalogueRead,
        &resource("catalogue", "", None, None),
        Map::new(),
    )
    .await?;
    let entries = then_store(&p, &c, Action::CatalogueRead, "catalogue", |s| {
        s.catalogue_entries()
    })
    .await?;
    let tree = p.tree_for(&c).await?;
    Ok(axum::Json(
        entries
            .iter()
            .filter(|e| p.allows(&c, Action::CatalogueRead, &entry_resource(e), &tree))
            .map(CatalogueView::from)
            .collect(),
    ))
}

async fn load_entry(p: &Platform, code: &str) -> Result<CatalogueEntry, ApiError> {
    let code2 = code.to_string();
    p.db(move |s| s.catalogue_entry(&code2))
        .await?
        .ok_or_else(|| ApiError::not_found("resource", code))
}

/// One catalogue entry.
#[utoipa::path(get, path = "/api/v1/catalogue/{code}", tag = "sharing",
    params(("code" = String, Path, description = "资源代码")),
    responses((status = 200, body = CatalogueView), (status = "default", body = ErrorBody)))]
pub async fn get_catalogue_entry(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<axum::Json<CatalogueView>> {
    check_id("code", &code)?;
    let e = load_entry(&p, &code).await?;
    p.authorize(&c, Action::CatalogueRead, &entry_resource(&e), Map::new())
        .await?;
    Ok(axum::Json(CatalogueView::from(&e)))
}

/// `PATCH /api/v1/catalogue/{code}`: the attributes to change (the rest stay).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCatalogue {
    /// 共享属性: `unconditional`, `conditional` or `none`.
    #[serde(default)]
    pub share_type: Option<String>,
    /// 共享条件 (needed for conditional; kept or defaulted otherwise).
    #[serde(default)]
    pub share_conditions: Option<String>,
    /// 不予共享的依据 (needed for none).
    #[serde(default)]
    pub share_basis: Option<String>,
    /// 开放属性: `unconditional`, `conditional` or `none`.
    #[serde(default)]
    pub open_type: Option<String>,
    /// 开放条件.
    #[serde(default)]
    pub open_conditions: Option<String>,
    /// 资源名称.
    #[serde(default)]
    pub title: Option<String>,
    /// 摘要.
    #[serde(default)]
    pub summary: Option<String>,
    /// 共享方式.
    #[serde(default)]
    pub share_method: Option<String>,
    /// 更新周期.
    #[serde(default)]
    pub update_cycle: Option<String>,
    /// The version read (a change made since answers 409).
    #[serde(default)]
    pub version: Option<i64>,
}

fn parse_openness(field: &str, text: &str) -> Result<Openness, ApiError> {
    Openness::parse(text).ok_or_else(|| {
        ApiError::invalid(format!(
            "{field} 须为 unconditional、conditional 或 none ({field}: unconditional | conditional | none)"
        ))
    })
}

/// Changes an entry: a data steward of the providing department only makes it stricter;
/// loosening needs the chief data officer; important data is never 无条件开放.
#[utoipa::path(patch, path = "/api/v1/catalogue/{code}", tag = "sharing",
    params(("code" = String, Path, description = "资源代码")),
    request_body = UpdateCatalogue,
    responses((status = 200, body = CatalogueView), (status = "default", body = ErrorBody)))]
pub async fn update_catalogue_entry(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(code): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateCatalogue>,
) -> ApiResult<axum::Json<CatalogueView>> {
    check_id("code", &code)?;
    let share = req
        .share_type
        .as_deref()
        .map(|t| parse_openness("share_type", t))
        .transpose()?;
    let open = req
        .open_type
        .as_deref()
        .map(|t| parse_openness("open_type", t))
        .transpose()?;
    for (field, value, max) in [
        ("share_conditions", &req.share_conditions, 1000),
        ("share_basis", &req.share_basis, 1000),
        ("open_conditions", &req.open_conditions, 1000),
        ("title", &req.title, 200),
        ("summary", &req.summary, 2000),
        ("share_method", &req.share_method, 100),
        ("update_cycle", &req.update_cycle, 100),
    ] {
        opt_text_field(field, value, max)?;
    }
    let e = load_entry(&p, &code).await?;
    let object = format!("catalogue_entry:{code}");
    let mut details = Map::new();
    details.insert("share_type".into(), json!(req.share_type));
    details.insert("open_type".into(), json!(req.open_type));
    p.authorize(&c, Action::CatalogueUpdate, &entry_resource(&e), details)
        .await?;
    let current = Attributes {
        share: openness(&e.share_type),
        share_conditions: e.share_conditions.clone(),
        share_basis: e.share_basis.clone(),
        open: openness(&e.open_type),
        open_conditions: e.open_conditions.clone(),
    };
    let share = share.unwrap_or(current.share);
    let open = open.unwrap_or(current.open);
    let proposed = Attributes {
        share,
        share_conditions: (share == Openness::Conditional)
            .then(|| req.share_conditions.clone().or(e.share_conditions.clone()))
            .flatten(),
        share_basis: (share == Openness::None)
            .then(|| req.share_basis.clone().or(e.share_basis.clone()))
            .flatten(),
        open,
        open_conditions: (open == Openness::Conditional)
            .then(|| req.open_conditions.clone().or(e.open_conditions.clone()))
            .flatten(),
    };
    if let Err(r) = catalogue::check_change(&current, &proposed, e.important, Changer::Steward) {
        let loosening = r.code == "cdo_approval_required";
        let tree = p.tree_for(&c).await?;
        let loosen_resource = entry_resource(&e);
        if loosening && p.allows(&c, Action::CatalogueLoosen, &loosen_resource, &tree) {
            p.authorize(&c, Action::CatalogueLoosen, &loosen_resource, Map::new())
                .await?;
            if let Err(r) =
                catalogue::check_change(&current, &proposed, e.important, Changer::ChiefDataOfficer)
            {
                return Err(p
                    .refuse_caller(
                        &c,
                        Action::CatalogueLoosen,
                        &object,
                        r.code,
                        Map::new(),
                        refusal(r),
                    )
                    .await);
            }
        } else {
            return Err(p
                .refuse_caller(
                    &c,
                    Action::CatalogueUpdate,
                    &object,
                    r.code,
                    Map::new(),
                    refusal(r),
                )
                .await);
        }
    }
    let mut next = e.clone();
    if let Some(v) = req.version {
        next.version = v;
    }
    next.share_type = proposed.share.as_str().into();
    next.share_conditions = proposed.share_conditions;
    next.share_basis = proposed.share_basis;
    next.open_type = proposed.open.as_str().into();
    next.open_conditions = proposed.open_conditions;
    if let Some(t) = req.title {
        next.title = t;
    }
    if let Some(t) = req.summary {
        next.summary = t;
    }
    if let Some(t) = req.share_method {
        next.share_method = t;
    }
    if let Some(t) = req.update_cycle {
        next.update_cycle = t;
    }
    next.updated_at = p.clock.now();
    next.updated_by = c.name().to_string();
    let saved = then_store(&p, &c, Action::CatalogueUpdate, &object, move |s| {
        s.update_catalogue_entry(&next)
    })
    .await?;
    Ok(axum::Json(CatalogueView::from(&saved)))
}

// ---- share requests ----

/// `POST /api/v1/share-requests`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateShareRequest {
    /// The resource's code (资源代码).
    pub resource: String,
    /// Fields needed (最小必要).
    pub fields: Vec<String>,
    /// 用途.
    pub purpose: String,
    /// 应用场景: the masking scenario (`sharing`, `open_data`, `test_env`; `internal_query`
    /// only within the providing department).
    pub scenario: String,
    /// 履职依据.
    pub basis: String,
    /// Period asked for, in days (1–366).
    pub valid_days: i64,
    /// Row filter: `{column: value}` or `[{column, op, value}]`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub row_filter: Option<Value>,
    /// 安全保障措施.
    #[serde(default)]
    pub safeguards: Option<String>,
}

/// A share request in answers.
#[derive(Serialize, ToSchema)]
pub struct ShareRequestView {
    /// Id.
    pub id: i64,
    /// The resource.
    pub resource: String,
    /// Who asked.
    pub requester: String,
    /// The requesting (receiving) department.
    pub department: String,
    /// The providing department.
    pub provider: String,
    /// Fields asked for.
    pub fields: Vec<String>,
    /// Row filter.
    #[schema(value_type = Object)]
    pub row_filter: Value,
    /// 用途.
    pub purpose: String,
    /// 应用场景.
    pub scenario: String,
    /// 履职依据.
    pub basis: String,
    /// 安全保障措施.
    pub safeguards: Option<String>,
    /// Days.
    pub valid_days: i64,
    /// Steps in order: `conformity`, `steward`, `cdo`.
    pub steps: Vec<String>,
    /// The step waiting (none when decided).
    pub next_step: Option<String>,
    /// `pending`, `approved`, `rejected` or `refused`.
    pub status: String,
    /// Filed (Unix seconds).
    pub created_at: i64,
    /// Answer due (Unix seconds; working days on the work calendar).
    pub deadline: Option<i64>,
    /// Overdue (pending past its deadline).
    pub overdue: bool,
    /// Decided (Unix seconds).
    pub decided_at: Option<i64>,
    /// A refusal's reason.
    pub reason: Option<String>,
    /// The agreement of an approved request.
    pub agreement_id: Option<i64>,
    /// Decisions so far (in the single-request answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approvals: Option<Vec<ApprovalView>>,
}

/// One decision.
#[derive(Serialize, ToSchema)]
pub struct ApprovalView {
    /// The step.
    pub step: String,
    /// Who decided (`platform` for the conformity check).
    pub approver: String,
    /// Approved or refused.
    pub approve: bool,
    /// Comment or reason.
    pub comment: Option<String>,
    /// When (Unix seconds).
    pub at: i64,
}

impl From<&Approval> for ApprovalView {
    fn from(a: &Approval) -> ApprovalView {
        ApprovalView {
            step: a.step.clone(),
            approver: a.approver.clone(),
            approve: a.approve,
            comment: a.comment.clone(),
            at: a.at,
        }
    }
}

fn request_view(r: &ShareRequest, now: i64, approvals: Option<&[Approval]>) -> ShareRequestView {
    let pending = r.status == ShareStatus::Pending;
    ShareRequestView {
        id: r.id,
        resource: r.resource.clone(),
        requester: r.requester.clone(),
        department: r.department.clone(),
        provider: r.provider.clone(),
        fields: r.fields.clone(),
        row_filter: r.row_filter.clone(),
        purpose: r.purpose.clone(),
        scenario: r.scenario.clone(),
        basis: r.basis.clone(),
        safeguards: r.safeguards.clone(),
        valid_days: r.valid_days,
        steps: r.steps.clone(),
        next_step: if pending {
            usize::try_from(r.next_step)
                .ok()
                .and_then(|i| r.steps.get(i).cloned())
        } else {
            None
        },
        status: r.status.as_str().into(),
        created_at: r.created_at,
        deadline: r.deadline,
        overdue: pending && r.deadline.is_some_and(|d| now >= d),
        decided_at: r.decided_at,
        reason: r.reason.clone(),
        agreement_id: r.agreement_id,
        approvals: approvals.map(|a| a.iter().map(ApprovalView::from).collect()),
    }
}

/// The answer of a request filed or decided: the request, and the agreement when the
/// decision (or the conformity check) made one.
#[derive(Serialize, ToSchema)]
pub struct ShareDecision {
    /// Id of the request.
    pub id: i64,
    /// The request.
    pub request: ShareRequestView,
    /// The agreement made by the final approval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<AgreementView>,
}

fn request_resource(r: &ShareRequest) -> shuan_policy::Resource {
    resource(
        "share_request",
        &r.id.to_string(),
        Some(&r.provider),
        Some(&r.requester),
    )
}

/// The masking scenarios an agreement may name.
fn scenarios() -> &'static [&'static str] {
    &shuan_mask::rules::BUILTIN_SCENARIOS
}

/// Files a share request for a resource. 无条件共享: granted after the platform's
/// conformity check (the answer holds the agreement); 有条件共享: waits for the provider's
/// steward (and chief data officer for important data), due in working days; 不予共享:
/// refused at once with its basis (403 `share_refused`).
#[utoipa::path(post, path = "/api/v1/share-requests", tag = "sharing",
    request_body = CreateShareRequest,
    responses((status = 201, body = ShareDecision), (status = "default", body = ErrorBody)))]
pub async fn create_share_request(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<CreateShareRequest>,
) -> ApiResult<(StatusCode, axum::Json<ShareDecision>)> {
    check_id("resource", &req.resource)?;
    if req.fields.len() > 256 || req.fields.iter().any(|f| f.len() > 128) {
        return Err(ApiError::invalid("fields: at most 256 names of 128 bytes"));
    }
    opt_text_field("safeguards", &req.safeguards, 1000)?;
    let e = load_entry(&p, &req.resource).await?;
    let department = c.principal.department.clone();
    let mut details = Map::new();
    details.insert("resource".into(), json!(e.code));
    details.insert("provider".into(), json!(e.department));
    details.insert("fields".into(), json!(req.fields));
    details.insert("scenario".into(), json!(req.scenario));
    let object = format!("catalogue_entry:{}", e.code);
    p.authorize(
        &c,
        Action::ShareRequestCreate,
        &resource("share_request", "", Some(&department), Some(c.name())),
        details,
    )
    .await?;
    let refuse = |r: shuan_share::Refusal| {
        let p = Arc::clone(&p);
        let object = object.clone();
        let c = &c;
        async move {
            p.refuse_caller(
                c,
                Action::ShareRequestCreate,
                &object,
                r.code,
                Map::new(),
                refusal(r),
            )
            .await
        }
    };
    let route = routing::route(
        openness(&e.share_type),
        e.important,
        e.share_basis.as_deref(),
    );
    let steps = match route {
        Route::Refused { basis } => {
            return Err(refuse(shuan_share::Refusal::new(
                "share_refused",
                format!("该资源为不予共享，不受理共享申请，可线下协商 (the resource is not shared: {basis})"),
            ))
            .await);
        }
        Route::Steps(steps) => steps,
    };
    let columns: Vec<&str> = e.fields.iter().map(|f| f.name.as_str()).collect();
    let row_filter = req.row_filter.clone().unwrap_or(Value::Null);
    let draft = routing::Draft {
        fields: &req.fields,
        purpose: &req.purpose,
        scenario: &req.scenario,
        basis: &req.basis,
        valid_days: req.valid_days,
        row_filter: &row_filter,
        department: &department,
        provider: &e.department,
    };
    if let Err(r) = routing::check_request(&draft, &columns, scenarios()) {
        return Err(refuse(r).await);
    }
    let now = p.clock.now();
    let calendar = shuan_share::WorkCalendar::builtin();
    let conformity_only = steps == [Step::Conformity];
    let request = ShareRequest {
        id: 0,
        resource: e.code.clone(),
        requester: c.name().to_string(),
        department,
        provider: e.department.clone(),
        fields: req.fields,
        row_filter,
        purpose: req.purpose,
        scenario: req.scenario,
        basis: req.basis,
        safeguards: req.safeguards,
        valid_days: req.valid_days,
        steps: steps.iter().map(|s| s.as_str().to_string()).collect(),
        next_step: 0,
        status: ShareStatus::Pending,
        created_at: now,
        deadline: (!conformity_only)
            .then(|| calendar.deadline(now, shuan_share::calendar::DEFAULT_ANSWER_DAYS)),
        decided_at: None,
        reason: None,
        agreement_id: None,
    };
    let valid_days = request.valid_days;
    let id = then_store(&p, &c, Action::ShareRequestCreate, &object, move |s| {
        s.create_share_request(&request)
    })
    .await?;
    if conformity_only {
        // 无条件共享: the platform's conformity check passed above; the platform decides
        // the step and the agreement is made at once.
        let terms = agreement_terms(now, valid_days);
        let decided = then_store(
            &p,
            &c,
            Action::ShareRequestCreate,
            &format!("share_request:{id}"),
            move |s| {
                s.decide_share_request(
                    id,
                    Step::Conformity.as_str(),
                    true,
                    "platform",
                    Some("平台符合性审查通过 (conformity check passed)"),
                    now,
                    &terms,
                )
            },
        )
        .await?;
        let (r, agreement) = decided;
        let agreement = match agreement {
            Some(a) => Some(sign_agreement(&p, &c, &a).await?),
            None => None,
        };
        return Ok((
            StatusCode::CREATED,
            axum::Json(ShareDecision {
                id,
                request: request_view(&r, now, None),
                agreement,
            }),
        ));
    }
    let r = p
        .db(move |s| s.share_request(id))
        .await?
        .ok_or_else(|| ApiError::not_found("share_request", &id.to_string()))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ShareDecision {
            id,
            request: request_view(&r, now, None),
            agreement: None,
        }),
    ))
}

fn agreement_terms(now: i64, valid_days: i64) -> AgreementTerms {
    let t = shuan_share::agreement::terms(now, valid_days);
    AgreementTerms {
        method: t.method,
        valid_from: t.valid_from,
        valid_until: t.valid_until,
        rate_per_minute: t.rate_per_minute,
        rows_per_day: t.rows_per_day,
    }
}

/// Filters of `GET /api/v1/share-requests`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShareRequestQuery {
    /// `pending`, `approved`, `rejected` or `refused`.
    #[serde(default)]
    pub status: Option<String>,
    /// Only pending requests past their deadline.
    #[serde(default)]
    pub overdue: Option<bool>,
}

/// Share requests the caller may read (their own, and those of the departments their
/// scope reaches), newest first.
#[utoipa::path(get, path = "/api/v1/share-requests", tag = "sharing",
    params(ShareRequestQuery),
    responses((status = 200, body = Vec<ShareRequestView>), (status = "default", body = ErrorBody)))]
pub async fn list_share_requests(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<ShareRequestQuery>,
) -> ApiResult<axum::Json<Vec<ShareRequestView>>> {
    let status = match q.status.as_deref() {
        None => None,
        Some(t) => Some(ShareStatus::parse(t).ok_or_else(|| {
            ApiError::invalid("status 须为 pending、approved、rejected 或 refused")
        })?),
    };
    p.authorize(
        &c,
        Action::ShareRequestRead,
        &resource("share_request", "", None, None),
        Map::new(),
    )
    .await?;
    let now = p.clock.now();
    let filter = ShareRequestFilter {
        status: if q.overdue == Some(true) {
            Some(ShareStatus::Pending)
        } else {
            status
        },
        // Due at the deadline (exclusive end): overdue once `now >= deadline`.
        due_before: (q.overdue == Some(true)).then_some(now + 1),
        ..Default::default()
    };
    let all = then_store(
        &p,
        &c,
        Action::ShareRequestRead,
        "share_request",
        move |s| s.share_requests(&filter),
    )
    .await?;
    let tree = p.tree_for(&c).await?;
    Ok(axum::Json(
        all.iter()
            .filter(|r| p.allows(&c, Action::ShareRequestRead, &request_resource(r), &tree))
            .map(|r| request_view(r, now, None))
            .collect(),
    ))
}

fn parse_id(field: &str, text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            ApiError::invalid(format!("{field} 须为正整数 ({field}: a positive integer)"))
        })
}

async fn load_request(p: &Platform, id: i64) -> Result<ShareRequest, ApiError> {
    p.db(move |s| s.share_request(id))
        .await?
        .ok_or_else(|| ApiError::not_found("share_request", &id.to_string()))
}

/// One share request with its decisions.
#[utoipa::path(get, path = "/api/v1/share-requests/{id}", tag = "sharing",
    params(("id" = String, Path, description = "request id")),
    responses((status = 200, body = ShareRequestView), (status = "default", body = ErrorBody)))]
pub async fn get_share_request(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<ShareRequestView>> {
    let id = parse_id("id", &id)?;
    let r = load_request(&p, id).await?;
    p.authorize(
        &c,
        Action::ShareRequestRead,
        &request_resource(&r),
        Map::new(),
    )
    .await?;
    let approvals = then_store(
        &p,
        &c,
        Action::ShareRequestRead,
        &format!("share_request:{id}"),
        move |s| s.approvals(id),
    )
    .await?;
    Ok(axum::Json(request_view(
        &r,
        p.clock.now(),
        Some(&approvals),
    )))
}

/// `POST /api/v1/share-requests/{id}/approve`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ApproveShareRequest {
    /// 审核意见.
    #[serde(default)]
    pub comment: Option<String>,
    /// Calls per minute the agreement allows (final approval; 1–100000, default 120).
    #[serde(default)]
    pub rate_per_minute: Option<i64>,
    /// Rows per day the agreement allows (final approval; 1–1000000000, default 100000).
    #[serde(default)]
    pub rows_per_day: Option<i64>,
}

/// `POST /api/v1/share-requests/{id}/reject`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RejectShareRequest {
    /// 拒绝理由 (required: a refusal cannot be saved without one).
    #[serde(default)]
    pub reason: Option<String>,
}

async fn decide(
    p: Arc<Platform>,
    c: Caller,
    id: String,
    approve: bool,
    comment: Option<String>,
    limits: (Option<i64>, Option<i64>),
) -> ApiResult<axum::Json<ShareDecision>> {
    let id = parse_id("id", &id)?;
    if limits.0.is_some_and(|n| !(1..=100_000).contains(&n))
        || limits.1.is_some_and(|n| !(1..=1_000_000_000).contains(&n))
    {
        return Err(ApiError::invalid(
            "rate_per_minute 须在 1–100000，rows_per_day 须在 1–1000000000 (limits out of range)",
        ));
    }
    opt_text_field(if approve { "comment" } else { "reason" }, &comment, 1000)?;
    let r = load_request(&p, id).await?;
    let object = format!("share_request:{id}");
    let pending_step = usize::try_from(r.next_step)
        .ok()
        .and_then(|i| r.steps.get(i))
        .and_then(|s| Step::parse(s));
    let step = match (r.status, pending_step) {
        (ShareStatus::Pending, Some(step)) => step,
        _ => {
            return Err(ApiError::new(
                "conflict",
                format!(
                "共享申请 {id} 已处理（{}），不能再审批 (share request {id} was already decided)",
                r.status.as_str()
            ),
            ))
        }
    };
    let action = match step {
        Step::Steward => Action::ShareRequestReview,
        Step::ChiefDataOfficer => Action::ShareRequestSignOff,
        Step::Conformity => {
            return Err(ApiError::new(
                "conflict",
                "符合性审查由平台完成 (the conformity step is the platform's)",
            ))
        }
    };
    let mut details = Map::new();
    details.insert("step".into(), json!(step.as_str()));
    details.insert("approve".into(), json!(approve));
    if let Some(t) = &comment {
        details.insert(if approve { "comment" } else { "reason" }.into(), json!(t));
    }
    p.authorize(&c, action, &request_resource(&r), details)
        .await?;
    if !approve && comment.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(p
            .refuse_caller(
                &c,
                action,
                &object,
                "reason_required",
                Map::new(),
                ApiError::new(
                    "reason_required",
                    "拒绝共享申请须说明理由 (a refusal needs its reason)",
                ),
            )
            .await);
    }
    let now = p.clock.now();
    let mut terms = agreement_terms(now, r.valid_days);
    if let Some(n) = limits.0 {
        terms.rate_per_minute = n;
    }
    if let Some(n) = limits.1 {
        terms.rows_per_day = n;
    }
    let approver = c.name().to_string();
    let (r, agreement) = then_store(&p, &c, action, &object, move |s| {
        s.decide_share_request(
            id,
            step.as_str(),
            approve,
            &approver,
            comment.as_deref(),
            now,
            &terms,
        )
    })
    .await?;
    let agreement = match agreement {
        Some(a) => Some(sign_agreement(&p, &c, &a).await?),
        None => None,
    };
    Ok(axum::Json(ShareDecision {
        id,
        request: request_view(&r, now, None),
        agreement,
    }))
}

/// Approves the request's waiting step (the provider's steward, then its chief data
/// officer for important data). The final approval answers the agreement, signed.
#[utoipa::path(post, path = "/api/v1/share-requests/{id}/approve", tag = "sharing",
    params(("id" = String, Path, description = "request id")),
    request_body = ApproveShareRequest,
    responses((status = 200, body = ShareDecision), (status = "default", body = ErrorBody)))]
pub async fn approve_share_request(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
    body: OptionalJson<ApproveShareRequest>,
) -> ApiResult<axum::Json<ShareDecision>> {
    let b = body.0;
    decide(
        p,
        c,
        id,
        true,
        b.comment,
        (b.rate_per_minute, b.rows_per_day),
    )
    .await
}

/// Refuses the request (a reason is required; 400 `reason_required` without one).
#[utoipa::path(post, path = "/api/v1/share-requests/{id}/reject", tag = "sharing",
    params(("id" = String, Path, description = "request id")),
    request_body = RejectShareRequest,
    responses((status = 200, body = ShareDecision), (status = "default", body = ErrorBody)))]
pub async fn reject_share_request(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
    body: OptionalJson<RejectShareRequest>,
) -> ApiResult<axum::Json<ShareDecision>> {
    decide(p, c, id, false, body.0.reason, (None, None)).await
}

// ---- agreements ----

/// One approver's SM2 signature of the agreement.
#[derive(Serialize, ToSchema, Clone)]
pub struct AgreementSignature {
    /// The step approved (`conformity`, `steward`, `cdo`).
    pub step: String,
    /// Who approved (`platform` for the conformity check).
    pub approver: String,
    /// When (Unix seconds).
    pub at: i64,
    /// The signed text (UTF-8): the agreement's terms, the step, the approver and the time.
    pub signed_text: String,
    /// SM2 signature (r‖s, hex) by the node's key on the approver's authenticated behalf.
    pub signature: String,
}

/// A share agreement (共享协议).
#[derive(Serialize, ToSchema)]
pub struct AgreementView {
    /// Id.
    pub id: i64,
    /// The request it came from.
    pub request_id: i64,
    /// The resource.
    pub resource: String,
    /// Providing department.
    pub provider: String,
    /// Receiving department (the only one that may call with it; no onward transfer).
    pub recipient: String,
    /// Who asked.
    pub requester: String,
    /// Fields granted.
    pub fields: Vec<String>,
    /// Row filter.
    #[schema(value_type = Object)]
    pub row_filter: Value,
    /// 用途.
    pub purpose: String,
    /// The masking scenario applied to every answer.
    pub scenario: String,
    /// 履职依据.
    pub basis: String,
    /// 共享方式.
    pub method: String,
    /// In force from (Unix seconds, inclusive).
    pub valid_from: i64,
    /// Until (Unix seconds, exclusive).
    pub valid_until: i64,
    /// Calls per minute.
    pub rate_per_minute: i64,
    /// Rows per day.
    pub rows_per_day: i64,
    /// `active`, `suspended` or `revoked`.
    pub status: String,
    /// In force now (active and within its period).
    pub in_force: bool,
    /// Who changed the status last.
    pub status_by: Option<String>,
    /// Why.
    pub status_reason: Option<String>,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// 不得转让第三方.
    pub no_onward_transfer: bool,
    /// The approvers' signatures (in the final approval's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signatures: Option<Vec<AgreementSignature>>,
}

pub(crate) fn agreement_view(a: &Agreement, now: i64) -> AgreementView {
    AgreementView {
        id: a.id,
        request_id: a.request_id,
        resource: a.resource.clone(),
        provider: a.provider.clone(),
        recipient: a.recipient.clone(),
        requester: a.requester.clone(),
        fields: a.fields.clone(),
        row_filter: a.row_filter.clone(),
        purpose: a.purpose.clone(),
        scenario: a.scenario.clone(),
        basis: a.basis.clone(),
        method: a.method.clone(),
        valid_from: a.valid_from,
        valid_until: a.valid_until,
        rate_per_minute: a.rate_per_minute,
        rows_per_day: a.rows_per_day,
        status: a.status.as_str().into(),
        in_force: shuan_share::agreement::standing(
            a.status.as_str(),
            a.valid_from,
            a.valid_until,
            now,
        ) == shuan_share::Standing::InForce,
        status_by: a.status_by.clone(),
        status_reason: a.status_reason.clone(),
        created_at: a.created_at,
        no_onward_transfer: true,
        signatures: None,
    }
}

/// The text an approver's signature covers: the agreement's terms, then the approval.
pub fn signed_text(a: &Agreement, step: &str, approver: &str, at: i64) -> String {
    let terms = json!({
        "agreement": a.id,
        "request": a.request_id,
        "resource": a.resource,
        "provider": a.provider,
        "recipient": a.recipient,
        "requester": a.requester,
        "fields": a.fields,
        "row_filter": a.row_filter,
        "purpose": a.purpose,
        "scenario": a.scenario,
        "basis": a.basis,
        "method": a.method,
        "valid_from": a.valid_from,
        "valid_until": a.valid_until,
        "rate_per_minute": a.rate_per_minute,
        "rows_per_day": a.rows_per_day,
        "no_onward_transfer": true,
        "step": step,
        "approver": approver,
        "approved_at": at,
    });
    terms.to_string()
}

/// Signs the new agreement once per approval with the node's SM2 key (each approver was
/// authenticated by the request that approved) and records the signatures in the
/// ledger (授权留痕) before the agreement is answered.
async fn sign_agreement(
    p: &Arc<Platform>,
    c: &Caller,
    a: &Agreement,
) -> Result<AgreementView, ApiError> {
    let id = a.request_id;
    let approvals = p.db(move |s| s.approvals(id)).await?;
    let key = p.gateway.node_key(&p.data_dir).await?;
    let signatures: Vec<AgreementSignature> = approvals
        .iter()
        .filter(|x| x.approve)
        .map(|x| {
            let text = signed_text(a, &x.step, &x.approver, x.at);
            let sig = key.sign(text.as_bytes());
            AgreementSignature {
                step: x.step.clone(),
                approver: x.approver.clone(),
                at: x.at,
                signature: shuan_crypto::hex::encode(&sig.to_bytes()),
                signed_text: text,
            }
        })
        .collect();
    let mut details = Map::new();
    details.insert("request".into(), json!(a.request_id));
    details.insert("resource".into(), json!(a.resource));
    details.insert("recipient".into(), json!(a.recipient));
    details.insert("valid_from".into(), json!(a.valid_from));
    details.insert("valid_until".into(), json!(a.valid_until));
    details.insert(
        "signatures".into(),
        json!(signatures
            .iter()
            .map(|s| json!({"step": s.step, "approver": s.approver, "at": s.at, "signature": s.signature}))
            .collect::<Vec<_>>()),
    );
    details.insert(
        "key".into(),
        json!(shuan_crypto::hex::encode(
            &key.verifying_key().to_sec1_bytes()
        )),
    );
    p.record(
        &c.actor,
        "agreement.sign",
        &format!("agreement:{}", a.id),
        shuan_ledger::Outcome::Allowed,
        &c.meta,
        details,
    )
    .await?;
    let mut view = agreement_view(a, p.clock.now());
    view.signatures = Some(signatures);
    Ok(view)
}

fn agreement_resource(a: &Agreement) -> shuan_policy::Resource {
    resource(
        "agreement",
        &a.id.to_string(),
        Some(&a.provider),
        Some(&a.requester),
    )
}

/// Agreements the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/agreements", tag = "sharing",
    responses((status = 200, body = Vec<AgreementView>), (status = "default", body = ErrorBody)))]
pub async fn list_agreements(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<AgreementView>>> {
    p.authorize(
        &c,
        Action::AgreementRead,
        &resource("agreement", "", None, None),
        Map::new(),
    )
    .await?;
    let all = then_store(&p, &c, Action::AgreementRead, "agreement", |s| {
        s.agreements(None, None)
    })
    .await?;
    let tree = p.tree_for(&c).await?;
    let now = p.clock.now();
    Ok(axum::Json(
        all.iter()
            .filter(|a| p.allows(&c, Action::AgreementRead, &agreement_resource(a), &tree))
            .map(|a| agreement_view(a, now))
            .collect(),
    ))
}

async fn load_agreement(p: &Platform, id: i64) -> Result<Agreement, ApiError> {
    p.db(move |s| s.agreement(id))
        .await?
        .ok_or_else(|| ApiError::not_found("agreement", &id.to_string()))
}

/// One agreement.
#[utoipa::path(get, path = "/api/v1/agreements/{id}", tag = "sharing",
    params(("id" = String, Path, description = "agreement id")),
    responses((status = 200, body = AgreementView), (status = "default", body = ErrorBody)))]
pub async fn get_agreement(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<AgreementView>> {
    let id = parse_id("id", &id)?;
    let a = load_agreement(&p, id).await?;
    p.authorize(
        &c,
        Action::AgreementRead,
        &agreement_resource(&a),
        Map::new(),
    )
    .await?;
    Ok(axum::Json(agreement_view(&a, p.clock.now())))
}

/// Body of suspend, resume and revoke.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AgreementChange {
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

async fn set_status(
    p: Arc<Platform>,
    c: Caller,
    id: String,
    status: AgreementStatus,
    reason: Option<String>,
) -> ApiResult<axum::Json<AgreementView>> {
    let id = parse_id("id", &id)?;
    opt_text_field("reason", &reason, 1000)?;
    let a = load_agreement(&p, id).await?;
    let action = if status == AgreementStatus::Revoked {
        Action::AgreementRevoke
    } else {
        Action::AgreementSuspend
    };
    let mut details = Map::new();
    details.insert("status".into(), json!(status.as_str()));
    details.insert("reason".into(), json!(reason));
    p.authorize(&c, action, &agreement_resource(&a), details)
        .await?;
    let now = p.clock.now();
    let by = c.name().to_string();
    let a = then_store(&p, &c, action, &format!("agreement:{id}"), move |s| {
        s.set_agreement_status(id, status, &by, reason.as_deref(), now)
    })
    .await?;
    Ok(axum::Json(agreement_view(&a, now)))
}

/// Suspends an agreement at once: every call under it is refused until resumed.
#[utoipa::path(post, path = "/api/v1/agreements/{id}/suspend", tag = "sharing",
    params(("id" = String, Path, description = "agreement id")),
    request_body = AgreementChange,
    responses((status = 200, body = AgreementView), (status = "default", body = ErrorBody)))]
pub async fn suspend_agreement(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
    req: OptionalJson<AgreementChange>,
) -> ApiResult<axum::Json<AgreementView>> {
    set_status(p, c, id, AgreementStatus::Suspended, req.0.reason).await
}

/// Resumes a suspended agreement (a revoked one stays revoked: 409).
#[utoipa::path(post, path = "/api/v1/agreements/{id}/resume", tag = "sharing",
    params(("id" = String, Path, description = "agreement id")),
    request_body = AgreementChange,
    responses((status = 200, body = AgreementView), (status = "default", body = ErrorBody)))]
pub async fn resume_agreement(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
    req: OptionalJson<AgreementChange>,
) -> ApiResult<axum::Json<AgreementView>> {
    set_status(p, c, id, AgreementStatus::Active, req.0.reason).await
}

/// Revokes an agreement for good, at once: the next call under it is refused.
#[utoipa::path(post, path = "/api/v1/agreements/{id}/revoke", tag = "sharing",
    params(("id" = String, Path, description = "agreement id")),
    request_body = AgreementChange,
    responses((status = 200, body = AgreementView), (status = "default", body = ErrorBody)))]
pub async fn revoke_agreement(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
    req: OptionalJson<AgreementChange>,
) -> ApiResult<axum::Json<AgreementView>> {
    set_status(p, c, id, AgreementStatus::Revoked, req.0.reason).await
}
