//! Jobs (后台任务): the existing capabilities through the API — a scan saved to the
//! inventory (`shuan scan --save`), a masking run (`shuan mask`), a backup of the node
//! (`shuan backup create`) — each started by a request and run in the background with
//! its progress kept in the platform store's `jobs` table.
//!
//! Every start is authorized and recorded like any request (`scan.run`, `mask.run`,
//! `backup.create`); the job's end is recorded too, with the same request id (outcome
//! `allowed` when it succeeded, `error` when it failed). The use cases are the libraries'
//! (`shuan-discover`, `shuan-mask`, `shuan-crypto`), as for the CLI.
//!
//! Files: a path is read from and written to only inside the job directories — the data
//! directory's `files/` (relative paths start there) and the directories listed in
//! `SHUAN_JOB_DIRS` — and never elsewhere in the data directory (its store, ledger and
//! keyring). Links are resolved before the check. A database URL's password is used for
//! the run only: parameters, results, errors and the audit show it redacted.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use shuan_ledger::{Actor, ActorKind, Outcome};
use shuan_policy::Action;
use shuan_store::platform::Job;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::routes::identity::check_id;
use crate::state::{now, Platform, RequestMeta};

/// The data directory's folder for job files: relative paths start here.
pub const WORKSPACE_DIR: &str = "files";
/// More directories jobs may read and write, separated like `PATH`.
pub const JOB_DIRS_ENV: &str = "SHUAN_JOB_DIRS";
/// A job's progress is written to the store at most this often.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// Jobs running at once on one node; more wait as `queued`.
const JOBS_AT_ONCE: usize = 2;
/// The error text of a job found unfinished at start-up.
pub const INTERRUPTED: &str =
    "interrupted: the server stopped while the job ran (服务停止，任务中断)";

/// The jobs routes; at start-up (when built inside a runtime) also marks this node's
/// jobs left unfinished by a previous run as failed.
pub fn router(platform: &Arc<Platform>) -> OpenApiRouter<Arc<Platform>> {
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(mark_interrupted(Arc::clone(platform), now()));
        // Restore drills a previous run was killed in left their scratch copies.
        let drills = platform.data_dir.join(WORKSPACE_DIR).join("drills");
        rt.spawn_blocking(move || match shuan_crypto::backup::sweep_drill_scratch(&drills) {
            Ok(0) => {}
            Ok(n) => tracing::warn!(removed = n, "removed restore-drill scratch copies a previous run left"),
            Err(e) => tracing::error!(error = %e, "cannot remove restore-drill scratch copies a previous run left"),
        });
    }
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
        .routes(routes!(scan_job))
        .routes(routes!(mask_job))
        .routes(routes!(backup_job))
}

// ---- requests and answers ----

/// `POST /api/v1/jobs/scan`: discover, classify and grade a source and save the result
/// in the inventory (as `shuan scan --save`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanJobRequest {
    /// A file or directory (absolute, or relative to the data directory's `files/`), or
    /// a database URL: `postgres://`, `mysql://`, `sqlite://` (a password in it is used
    /// for this run only and never stored).
    pub source: String,
    /// The department (机构代码) the data belongs to.
    pub department: String,
    /// Grading profile: `gbt43697` (default), `xinyang`, or a TOML file in the job
    /// directories.
    #[serde(default)]
    pub profile: Option<String>,
    /// Non-blank values sampled per column (1–100000, default 1000).
    #[serde(default)]
    pub sample: Option<u32>,
    /// Text encoding of CSV files (`utf-8`, `gbk`, `gb18030`); detected when not given.
    #[serde(default)]
    pub encoding: Option<String>,
}

/// `POST /api/v1/jobs/mask`: mask a source into a new file or directory (as `shuan
/// mask`). The output is never one of the inputs.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaskJobRequest {
    /// A file or directory in the job directories, or a database URL.
    pub source: String,
    /// The department (机构代码) the data belongs to.
    pub department: String,
    /// Output: a `.csv`/`.jsonl` file (one table), a `.db` SQLite file, or a directory
    /// (one file per table), in the job directories.
    pub out: String,
    /// Scenario (场景): `internal_query`, `sharing` (default), `open_data`, `test_env`, or
    /// one of `rules`.
    #[serde(default)]
    pub scenario: Option<String>,
    /// A rule file (TOML) in the job directories adding or overriding scenarios.
    #[serde(default)]
    pub rules: Option<String>,
    /// Only these tables.
    #[serde(default)]
    pub tables: Vec<String>,
    /// File format of a directory output: `csv` (default) or `jsonl`.
    #[serde(default)]
    pub format: Option<String>,
    /// Replace an existing output.
    #[serde(default)]
    pub force: bool,
    /// Grading profile for level rules (as for scans).
    #[serde(default)]
    pub profile: Option<String>,
    /// Values sampled per column for discovery (1–100000, default 1000).
    #[serde(default)]
    pub sample: Option<u32>,
    /// Temporary data (临时数据, R-27): keep the output this many days (1–365), after
    /// which the node files its destruction. Outputs inside the job directory only.
    #[serde(default)]
    pub temporary_days: Option<u32>,
}

/// `POST /api/v1/jobs/backup`: an encrypted, SM2-signed backup of the node's data
/// directory (its `files/` folder left out).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct BackupJobRequest {
    /// The archive (`.sig` beside it), in the job directories; default
    /// `files/backups/backup-<time>.shuanbak` in the data directory.
    #[serde(default)]
    pub out: Option<String>,
    /// Replace an existing archive.
    #[serde(default)]
    pub force: bool,
}

/// A job in answers.
#[derive(Serialize, ToSchema)]
pub struct JobView {
    /// Id.
    pub id: i64,
    /// `scan`, `mask` or `backup`.
    pub kind: String,
    /// Who started it.
    pub owner: String,
    /// The department of its data (a backup: its owner's).
    pub department: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    /// 0.0–1.0.
    pub progress: Option<f64>,
    /// Parameters (database passwords redacted).
    #[schema(value_type = Object)]
    pub params: Value,
    /// What it did, when done.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Last change (Unix seconds).
    pub updated_at: i64,
}

fn view(j: &Job) -> JobView {
    JobView {
        id: j.id,
        kind: j.kind.clone(),
        owner: j.owner.clone(),
        department: j.department.clone(),
        status: j.status.clone(),
        progress: j.progress,
        params: j.params.clone(),
        result: j.result.clone(),
        error: j.error.clone(),
        created_at: j.created_at,
        updated_at: j.updated_at,
    }
}

/// Query of `GET /api/v1/jobs`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JobQuery {
    /// `scan`, `mask` or `backup`.
    pub kind: Option<String>,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<usize>,
}

fn job_resource(j: &Job) -> shuan_policy::Resource {
    resource(
        "job",
        &j.id.to_string(),
        Some(&j.department),
        Some(&j.owner),
    )
}

// ---- reading jobs ----

/// Jobs the caller may see (own, and those within the data scope of a role that reads
/// jobs), newest first, with their progress.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobQuery),
    responses((status = 200, body = Vec<JobView>), (status = "default", body = ErrorBody)))]
pub async fn list_jobs(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<JobQuery>,
) -> ApiResult<axum::Json<Vec<JobView>>> {
    if let Some(k) = &q.kind {
        if !matches!(k.as_str(), "scan" | "mask" | "backup") {
            return Err(ApiError::invalid("kind 须为 scan、mask 或 backup"));
        }
    }
    if let Some(s) = &q.status {
        if !matches!(s.as_str(), "queued" | "running" | "succeeded" | "failed") {
            return Err(ApiError::invalid(
                "status 须为 queued、running、succeeded 或 failed",
            ));
        }
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit 须在 1–1000 之间"));
    }
    p.authorize(
        &c,
        Action::JobRead,
        &resource("job", "", None, None),
        Map::new(),
    )
    .await?;
    let all = p.db(|s| s.jobs(None, 10_000)).await?;
    let tree = p.tree_for(&c).await?;
    Ok(axum::Json(
        all.iter()
            .filter(|j| q.kind.as_deref().is_none_or(|k| j.kind == k))
            .filter(|j| q.status.as_deref().is_none_or(|s| j.status == s))
            .filter(|j| p.allows(&c, Action::JobRead, &job_resource(j), &tree))
            .take(limit)
            .map(view)
            .collect(),
    ))
}

/// One job with its progress.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = i64, Path, description = "job id")),
    responses((status = 200, body = JobView), (status = "default", body = ErrorBody)))]
pub async fn get_job(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<JobView>> {
    let j = p
        .db(move |s| s.job(id))
        .await?
        .ok_or_else(|| ApiError::not_found("job", &id.to_string()))?;
    p.authorize(&c, Action::JobRead, &job_resource(&j), Map::new())
        .await?;
    Ok(axum::Json(view(&j)))
}

// ---- starting jobs ----

/// Starts a scan whose result is saved in the inventory; answers 202 with the job.
#[utoipa::path(post, path = "/api/v1/jobs/scan", tag = "jobs", request_body = ScanJobRequest,
    responses((status = 202, body = JobView), (status = "default", body = ErrorBody)))]
pub async fn scan_job(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<ScanJobRequest>,
) -> ApiResult<(StatusCode, axum::Json<JobView>)> {
    check_source_text(&req.source)?;
    check_department(&p, &req.department).await?;
    let sample = check_sample(req.sample)?;
    let encoding = match req.encoding.as_deref() {
        None => None,
        Some(name) => Some(shuan_source::TextEncoding::from_name(name).ok_or_else(|| {
            ApiError::invalid("encoding 须为 utf-8、gbk 或 gb18030 (unknown encoding)")
        })?),
    };
    let profile_name = req.profile.clone().unwrap_or_else(|| "gbt43697".into());
    check_short("profile", &profile_name)?;
    let shown = shuan_source::redact_url(&req.source);
    let mut details = Map::new();
    details.insert("source".into(), json!(shown));
    details.insert("department".into(), json!(req.department));
    details.insert("profile".into(), json!(profile_name));
    let r = resource("scan", "", Some(&req.department), Some(c.name()));
    p.authorize(&c, Action::ScanRun, &r, details).await?;
    let object = format!("scan:{shown}");
    let prepared = {
        let p2 = Arc::clone(&p);
        let source = req.source.clone();
        let profile_name = profile_name.clone();
        blocking(move || -> Result<_, ApiError> {
            let roots = Roots::of(&p2)?;
            let spec = roots.source_spec("source", &source)?;
            let profile = load_profile(&roots, &profile_name)?;
            Ok((spec, profile))
        })
        .await
    };
    let (spec, profile) = match prepared {
        Ok(x) => x,
        Err(e) => {
            p.record_failure(&c, Action::ScanRun, &object, &e).await;
            return Err(e);
        }
    };
    let params = json!({
        "source": shuan_source::redact_url(&spec),
        "department": req.department,
        "profile": profile_name,
        "sample": sample,
        "encoding": encoding.map(|e| e.name()),
    });
    let job = match file_job(&p, &c, "scan", &req.department, params).await {
        Ok(j) => j,
        Err(e) => {
            p.record_failure(&c, Action::ScanRun, &object, &e).await;
            return Err(e);
        }
    };
    let observer = Arc::new(ScanJobObserver {
        fraction: shuan_discover::ScanFraction::new(1),
        messages: Mutex::new(Vec::new()),
    });
    let fraction = {
        let o = Arc::clone(&observer);
        Arc::new(move || o.fraction.fraction()) as FractionFn
    };
    let data_dir = p.data_dir.clone();
    let work = move || run_scan(&data_dir, &spec, profile, sample, encoding, observer);
    spawn_job(
        Arc::clone(&p),
        job.clone(),
        &c,
        Action::ScanRun,
        fraction,
        work,
    );
    Ok((StatusCode::ACCEPTED, axum::Json(view(&job))))
}

/// Starts a masking run into a new output; answers 202 with the job.
#[utoipa::path(post, path = "/api/v1/jobs/mask", tag = "jobs", request_body = MaskJobRequest,
    responses((status = 202, body = JobView), (status = "default", body = ErrorBody)))]
pub async fn mask_job(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<MaskJobRequest>,
) -> ApiResult<(StatusCode, axum::Json<JobView>)> {
    check_source_text(&req.source)?;
    check_path_text("out", &req.out)?;
    if let Some(r) = &req.rules {
        check_path_text("rules", r)?;
    }
    check_department(&p, &req.department).await?;
    let sample = check_sample(req.sample)?;
    if req.temporary_days.is_some_and(|d| !(1..=365).contains(&d)) {
        return Err(ApiError::invalid(
            "temporary_days 须为 1 至 365 天 (temporary_days: 1 to 365)",
        ));
    }
    let scenario = req.scenario.clone().unwrap_or_else(|| "sharing".into());
    check_short("scenario", &scenario)?;
    let profile_name = req.profile.clone().unwrap_or_else(|| "gbt43697".into());
    check_short("profile", &profile_name)?;
    let format = match req.format.as_deref() {
        None | Some("csv") => shuan_mask::sink::FileFormat::Csv,
        Some("jsonl") => shuan_mask::sink::FileFormat::JsonLines,
        Some(_) => return Err(ApiError::invalid("format 须为 csv 或 jsonl")),
    };
    if req.tables.len() > 1000 {
        return Err(ApiError::invalid("tables 最多 1000 个"));
    }
    for t in &req.tables {
        check_short("tables", t)?;
    }
    let shown = shuan_source::redact_url(&req.source);
    let mut details = Map::new();
    details.insert("source".into(), json!(shown));
    details.insert("department".into(), json!(req.department));
    details.insert("out".into(), json!(req.out));
    details.insert("scenario".into(), json!(scenario));
    let r = resource("mask", "", Some(&req.department), Some(c.name()));
    p.authorize(&c, Action::MaskRun, &r, details).await?;
    let object = format!("mask:{shown}");
    let prepared = {
        let p2 = Arc::clone(&p);
        let source = req.source.clone();
        let out = req.out.clone();
        let rules = req.rules.clone();
        let scenario = scenario.clone();
        let profile_name = profile_name.clone();
        let force = req.force;
        blocking(move || -> Result<_, ApiError> {
            let roots = Roots::of(&p2)?;
            let spec = roots.source_spec("source", &source)?;
            let out = roots.output("out", &out)?;
            let rules_path = rules.map(|r| roots.input("rules", &r)).transpose()?;
            for input in input_paths(&spec).iter().chain(rules_path.iter()) {
                if out == *input || (input.is_dir() && out.starts_with(input)) {
                    return Err(ApiError::new(
                        "output_is_input",
                        format!(
                            "输出不能是输入或在输入目录中 (out {} is an input; choose another)",
                            out.display()
                        ),
                    ));
                }
            }
            if !force && out.is_file() {
                return Err(output_exists(&out));
            }
            let rule_set = shuan_mask::source_job::load_rules(rules_path.as_deref())
                .map_err(|e| ApiError::invalid(format!("规则文件无效 (rules): {e}")))?;
            rule_set
                .scenario(&scenario)
                .map_err(|e| ApiError::invalid(format!("场景无效 (scenario): {e}")))?;
            let profile = load_profile(&roots, &profile_name)?;
            shuan_mask::source_job::check_rule_levels(rule_set.scenarios(), &profile)
                .map_err(|e| ApiError::invalid(e.to_string()))?;
            Ok((spec, out, rule_set, profile))
        })
        .await
    };
    let (spec, out, rule_set, profile) = match prepared {
        Ok(x) => x,
        Err(e) => {
            p.record_failure(&c, Action::MaskRun, &object, &e).await;
            return Err(e);
        }
    };
    if req.temporary_days.is_some() {
        // Only what the node can destroy later may be temporary: files in its job
        // directory.
        let workspace =
            std::fs::canonicalize(p.data_dir.join(WORKSPACE_DIR)).map_err(ApiError::internal)?;
        if !out.starts_with(&workspace) {
            let e = ApiError::invalid(format!(
                "temporary_days 只适用于输出到数据目录 {WORKSPACE_DIR}/ 中的文件 (a retention applies to outputs in the data directory's {WORKSPACE_DIR}/ only)"
            ));
            p.record_failure(&c, Action::MaskRun, &object, &e).await;
            return Err(e);
        }
    }
    let params = json!({
        "source": shuan_source::redact_url(&spec),
        "department": req.department,
        "out": out.display().to_string(),
        "scenario": scenario,
        "rules": req.rules,
        "tables": req.tables,
        "format": if format == shuan_mask::sink::FileFormat::JsonLines { "jsonl" } else { "csv" },
        "force": req.force,
        "profile": profile_name,
        "sample": sample,
        "temporary_days": req.temporary_days,
    });
    let job = match file_job(&p, &c, "mask", &req.department, params).await {
        Ok(j) => j,
        Err(e) => {
            p.record_failure(&c, Action::MaskRun, &object, &e).await;
            return Err(e);
        }
    };
    let counter = Arc::new(shuan_mask::source_job::MaskFraction::new());
    let fraction = {
        let f = Arc::clone(&counter);
        Arc::new(move || f.fraction()) as FractionFn
    };
    let run = MaskRun {
        data_dir: p.data_dir.clone(),
        spec,
        out,
        rules: rule_set,
        scenario,
        profile,
        tables: req.tables,
        format,
        force: req.force,
        sample,
        operator: c.name().to_string(),
    };
    spawn_job(
        Arc::clone(&p),
        job.clone(),
        &c,
        Action::MaskRun,
        fraction,
        move || run_mask(run, &counter),
    );
    Ok((StatusCode::ACCEPTED, axum::Json(view(&job))))
}

/// Starts a backup of the node's data directory (system administrator); answers 202
/// with the job.
#[utoipa::path(post, path = "/api/v1/jobs/backup", tag = "jobs", request_body = BackupJobRequest,
    responses((status = 202, body = JobView), (status = "default", body = ErrorBody)))]
pub async fn backup_job(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<BackupJobRequest>,
) -> ApiResult<(StatusCode, axum::Json<JobView>)> {
    if let Some(out) = &req.out {
        check_path_text("out", out)?;
    }
    let mut details = Map::new();
    if let Some(out) = &req.out {
        details.insert("out".into(), json!(out));
    }
    p.authorize(
        &c,
        Action::BackupCreate,
        &resource("backup", "", None, None),
        details,
    )
    .await?;
    let object = "backup".to_string();
    let prepared = {
        let p2 = Arc::clone(&p);
        let out = req.out.clone();
        let force = req.force;
        blocking(move || -> Result<PathBuf, ApiError> {
            let roots = Roots::of(&p2)?;
            let out = match out {
                Some(o) => roots.output("out", &o)?,
                None => {
                    let dir = roots.workspace.join("backups");
                    std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
                    let stamp = shuan_crypto::time::now_rfc3339()
                        .replace([':', '-'], "")
                        .replace('Z', "");
                    let suffix = crate::auth::random_hex(3)?;
                    dir.join(format!("backup-{stamp}-{suffix}.shuanbak"))
                }
            };
            if out.is_dir() {
                return Err(ApiError::invalid(format!(
                    "out 须为文件，不能是目录 (out {} is a directory; name the archive file)",
                    out.display()
                )));
            }
            let sig = shuan_crypto::backup::signature_path(&out);
            if !force && (out.exists() || sig.exists()) {
                return Err(output_exists(&out));
            }
            Ok(out)
        })
        .await
    };
    let out = match prepared {
        Ok(o) => o,
        Err(e) => {
            p.record_failure(&c, Action::BackupCreate, &object, &e)
                .await;
            return Err(e);
        }
    };
    let department = c.principal.department.clone();
    let params = json!({ "out": out.display().to_string(), "force": req.force });
    let job = match file_job(&p, &c, "backup", &department, params).await {
        Ok(j) => j,
        Err(e) => {
            p.record_failure(&c, Action::BackupCreate, &object, &e)
                .await;
            return Err(e);
        }
    };
    let done = Arc::new(AtomicU64::new(0f64.to_bits()));
    let fraction = {
        let d = Arc::clone(&done);
        Arc::new(move || f64::from_bits(d.load(Ordering::Relaxed))) as FractionFn
    };
    let data_dir = p.data_dir.clone();
    spawn_job(
        Arc::clone(&p),
        job.clone(),
        &c,
        Action::BackupCreate,
        fraction,
        move || run_backup(&data_dir, &out, &done),
    );
    Ok((StatusCode::ACCEPTED, axum::Json(view(&job))))
}

// ---- checks ----

fn check_path_text(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > 4096 || value.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!(
            "{field} 须为 1–4096 字节的路径，不含控制字符 ({field}: a path of 1–4096 bytes without control characters)"
        )));
    }
    Ok(())
}

fn check_source_text(value: &str) -> Result<(), ApiError> {
    check_path_text("source", value)
}

fn check_short(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > 1024 || value.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!(
            "{field} 须为 1–1024 字节，不含控制字符 ({field}: 1–1024 bytes without control characters)"
        )));
    }
    Ok(())
}

fn check_sample(sample: Option<u32>) -> Result<usize, ApiError> {
    match sample {
        None => Ok(shuan_discover::DEFAULT_SAMPLE),
        Some(n @ 1..=100_000) => Ok(n as usize),
        Some(_) => Err(ApiError::invalid("sample 须在 1–100000 之间")),
    }
}

async fn check_department(p: &Platform, code: &str) -> Result<(), ApiError> {
    check_id("department", code)?;
    let c = code.to_string();
    p.db(move |s| s.department(&c))
        .await?
        .ok_or_else(|| ApiError::not_found("department", code))?;
    Ok(())
}

fn output_exists(out: &Path) -> ApiError {
    ApiError::new(
        "output_exists",
        format!(
            "输出已存在，如需替换请设置 force: true (the output {} exists; give force: true to replace it)",
            out.display()
        ),
    )
}

fn path_not_allowed(field: &str, path: &Path) -> ApiError {
    ApiError::new(
        "path_not_allowed",
        format!(
            "{field} 须在任务目录内：数据目录的 {WORKSPACE_DIR}/ 或 {JOB_DIRS_ENV} 所列目录，且不在数据目录的其他位置 \
             ({field} {} is outside the job directories: the data directory's {WORKSPACE_DIR}/ and those in {JOB_DIRS_ENV})",
            path.display()
        ),
    )
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

/// Where jobs may read and write.
struct Roots {
    /// `DATA_DIR/files`, canonical.
    workspace: PathBuf,
    /// `SHUAN_JOB_DIRS`, canonical, those that exist.
    extra: Vec<PathBuf>,
    /// The data directory, canonical.
    data_dir: PathBuf,
    /// The database hosts a job may connect to.
    hosts: shuan_source::SourceHosts,
}

impl Roots {
    fn of(p: &Platform) -> Result<Roots, ApiError> {
        let ws = p.data_dir.join(WORKSPACE_DIR);
        if !ws.exists() {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(&ws).map_err(ApiError::internal)?;
        }
        let workspace = std::fs::canonicalize(&ws).map_err(ApiError::internal)?;
        let data_dir = std::fs::canonicalize(&p.data_dir).map_err(ApiError::internal)?;
        let extra = std::env::var_os(JOB_DIRS_ENV)
            .map(|v| {
                std::env::split_paths(&v)
                    .filter(|d| d.is_absolute())
                    .filter_map(|d| std::fs::canonicalize(d).ok())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Roots {
            workspace,
            extra,
            data_dir,
            hosts: p.settings.source_hosts.clone(),
        })
    }

    /// Whether a canonical path may be used.
    fn allows(&self, path: &Path) -> bool {
        let in_workspace = path.starts_with(&self.workspace);
        let in_root = in_workspace || self.extra.iter().any(|r| path.starts_with(r));
        in_root && (in_workspace || !path.starts_with(&self.data_dir))
    }

    fn absolute(&self, raw: &str) -> PathBuf {
        let p = Path::new(raw);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.workspace.join(p)
        }
    }

    /// An existing file or directory to read.
    fn input(&self, field: &str, raw: &str) -> Result<PathBuf, ApiError> {
        let path = self.absolute(raw);
        match std::fs::canonicalize(&path) {
            Ok(c) if self.allows(&c) => Ok(c),
            Ok(_) => Err(path_not_allowed(field, &path)),
            // Outside the roots, existing or not, it is refused as outside: nothing is
            // told about other directories.
            Err(_) if !self.allows_lexically(&path) => Err(path_not_allowed(field, &path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::new(
                "not_found",
                format!("{field} {raw} 不存在 (no such file or directory)"),
            )),
            Err(e) => Err(ApiError::invalid(format!(
                "{field} {raw} 无法读取 (cannot be read: {e})"
            ))),
        }
    }

    /// A path inside the roots before links are resolved (for inputs that do not
    /// exist, to say "not found" only inside them).
    fn allows_lexically(&self, path: &Path) -> bool {
        let mut clean = PathBuf::new();
        for c in path.components() {
            match c {
                Component::ParentDir => {
                    clean.pop();
                }
                Component::CurDir => {}
                other => clean.push(other),
            }
        }
        self.allows(&clean)
    }

    /// A file or directory to write: its nearest existing ancestor is resolved and
    /// checked, the rest may only name new folders and the file; an existing link is
    /// refused. A trailing `/` (a directory output) is kept.
    fn output(&self, field: &str, raw: &str) -> Result<PathBuf, ApiError> {
        let path = self.absolute(raw);
        let mut rest = Vec::new();
        let mut base = path.clone();
        let canon = loop {
            match std::fs::symlink_metadata(&base) {
                Ok(m) if m.file_type().is_symlink() && rest.is_empty() => {
                    return Err(path_not_allowed(field, &path));
                }
                Ok(_) => match std::fs::canonicalize(&base) {
                    Ok(c) => break c,
                    Err(_) => return Err(path_not_allowed(field, &path)),
                },
                Err(_) => {
                    let Some(name) = base.file_name() else {
                        return Err(path_not_allowed(field, &path));
                    };
                    rest.push(name.to_os_string());
                    if !base.pop() {
                        return Err(path_not_allowed(field, &path));
                    }
                }
            }
        };
        // `..` or `.` after the existing part would leave it.
        for (component, name) in Path::new(raw).components().rev().zip(rest.iter()) {
            if !matches!(component, Component::Normal(n) if n == name) {
                return Err(path_not_allowed(field, &path));
            }
        }
        let mut out = canon;
        for name in rest.iter().rev() {
            out.push(name);
        }
        if !self.allows(&out) || out == self.workspace {
            return Err(path_not_allowed(field, &path));
        }
        if raw.ends_with('/') {
            let mut s = out.into_os_string();
            s.push("/");
            out = PathBuf::from(s);
        }
        Ok(out)
    }

    /// The source to open: a checked path, or a database URL (an `sqlite://` URL's file
    /// is checked like a path).
    fn source_spec(&self, field: &str, raw: &str) -> Result<String, ApiError> {
        if let Some((scheme, rest)) = raw.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            return match scheme.as_str() {
                "sqlite" => Ok(format!(
                    "sqlite://{}",
                    self.input(field, rest)?.display()
                )),
                "postgres" | "postgresql" | "mysql" | "mariadb" => {
                    self.hosts.check(raw).map_err(|e| source_host_refused(field, &e))?;
                    Ok(raw.to_string())
                }
                _ => Err(ApiError::invalid(format!(
                    "{field}: 不支持的地址 (use a path, postgres://, mysql:// or sqlite://; got {}://)",
                    scheme.chars().take(20).collect::<String>()
                ))),
            };
        }
        Ok(self.input(field, raw)?.display().to_string())
    }
}

/// A database URL naming a host the server may not connect to, beside its field.
pub fn source_host_refused(field: &str, e: &shuan_source::SourceHostError) -> ApiError {
    ApiError::new(
        "source_host_not_allowed",
        format!("{field} 的数据库主机不在本服务器允许连接的范围内 ({field}: {e})"),
    )
}

/// The files behind a source spec (for the output-is-input check).
fn input_paths(spec: &str) -> Vec<PathBuf> {
    match spec.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("sqlite") => vec![PathBuf::from(rest)],
        Some(_) => Vec::new(),
        None => vec![PathBuf::from(spec)],
    }
}

fn load_profile(roots: &Roots, name: &str) -> Result<shuan_classify::Profile, ApiError> {
    let builtin = !name.contains('/') && !name.ends_with(".toml");
    let spec = if builtin {
        name.to_string()
    } else {
        roots.input("profile", name)?.display().to_string()
    };
    shuan_discover::load_profile(&spec)
        .map_err(|e| ApiError::invalid(format!("分级规则无效 (profile): {e}")))
}

// ---- secrets of database URLs ----

/// The secrets a source spec carries: a URL's password (as written and decoded) and the
/// values of password parameters.
fn url_secrets(spec: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some((_, rest)) = spec.split_once("://") else {
        return out;
    };
    let user_end = rest.find([':', '@', '/', '?', '#']).unwrap_or(rest.len());
    if rest[user_end..].starts_with(':') {
        if let Some(at) = rest.rfind('@') {
            if at > user_end + 1 {
                out.push(rest[user_end + 1..at].to_string());
            }
        }
    }
    if let Some(q) = rest.find('?') {
        for pair in rest[q + 1..].split(['&', '#']) {
            if let Some((k, v)) = pair.split_once('=') {
                let secret = ["password", "pass", "pwd", "passwd", "sslpassword"]
                    .iter()
                    .any(|s| k.eq_ignore_ascii_case(s));
                if secret && !v.is_empty() {
                    out.push(v.to_string());
                }
            }
        }
    }
    let decoded: Vec<String> = out.iter().map(|s| percent_decode(s)).collect();
    out.extend(decoded);
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with every secret of `spec` replaced by `***`.
pub(crate) fn scrub(text: &str, spec: &str) -> String {
    let mut t = text.replace(spec, &shuan_source::redact_url(spec));
    for s in url_secrets(spec) {
        t = t.replace(&s, "***");
    }
    t
}

// ---- running ----

type FractionFn = Arc<dyn Fn() -> f64 + Send + Sync>;

/// A finished job's answer: its result, what its end record in the ledger says, and
/// an error if it failed (a job may fail with a partial result, e.g. a scan saved
/// without its unreadable tables).
pub(crate) struct JobEnd {
    pub(crate) result: Option<Value>,
    pub(crate) details: Map<String, Value>,
    pub(crate) error: Option<String>,
    /// The datasets it produced, for lineage (溯源): recorded once the job's end is.
    pub(crate) derived: Vec<Derived>,
}

/// A dataset a job produced from others.
pub(crate) struct Derived {
    pub(crate) operation: &'static str,
    pub(crate) inputs: Vec<String>,
    pub(crate) output: String,
    pub(crate) parameters: Value,
}

impl JobEnd {
    fn failed(error: String) -> JobEnd {
        JobEnd {
            result: None,
            details: Map::new(),
            error: Some(error),
            derived: Vec::new(),
        }
    }
}

/// Records what a finished job produced as derivations (the job's department and owner;
/// `automatic`). A failure is logged, not the job's: the job's own record already holds
/// its sources and outputs, so the trace can be rebuilt from the ledger.
pub(crate) async fn record_derived(
    p: &Platform,
    derived: Vec<Derived>,
    department: Option<String>,
    by: &str,
) {
    for d in derived {
        let derivation = shuan_store::platform::Derivation {
            id: 0,
            operation: d.operation.to_string(),
            inputs: d.inputs,
            output: d.output,
            department: department.clone(),
            parameters: d.parameters,
            automatic: true,
            recorded_by: by.to_string(),
            recorded_at: p.clock.now(),
        };
        if let Err(e) = p.db(move |s| s.record_derivation(&derivation)).await {
            tracing::error!(error = %e, "a derivation could not be recorded for lineage");
        }
    }
}

/// Jobs this process runs now, by (node, id): whatever else is unfinished at start-up
/// was interrupted.
fn running() -> &'static Mutex<BTreeSet<(String, i64)>> {
    static RUNNING: OnceLock<Mutex<BTreeSet<(String, i64)>>> = OnceLock::new();
    RUNNING.get_or_init(Default::default)
}

fn slots(node: &str) -> Arc<tokio::sync::Semaphore> {
    static SLOTS: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>> = OnceLock::new();
    let mut map = SLOTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Arc::clone(
        map.entry(node.to_string())
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(JOBS_AT_ONCE))),
    )
}

/// Files the job row (queued) for the caller; it is marked running by [`spawn_job`].
async fn file_job(
    p: &Arc<Platform>,
    c: &Caller,
    kind: &str,
    department: &str,
    mut params: Value,
) -> Result<Job, ApiError> {
    if let Some(m) = params.as_object_mut() {
        m.insert("node".into(), json!(p.node));
        m.insert("request_id".into(), json!(c.meta.request_id));
    }
    let t = now();
    let mut job = Job {
        id: 0,
        kind: kind.to_string(),
        owner: c.name().to_string(),
        department: department.to_string(),
        status: "queued".into(),
        progress: Some(0.0),
        params,
        result: None,
        error: None,
        created_at: t,
        updated_at: t,
    };
    let j = job.clone();
    job.id = p.db(move |s| s.create_job(&j)).await?;
    running()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert((p.node.clone(), job.id));
    Ok(job)
}

/// Runs `work` on the blocking pool once a slot is free, writes its progress at most
/// every [`PROGRESS_EVERY`], records its end in the ledger (the caller's request id)
/// and stores its status, result or error.
fn spawn_job(
    p: Arc<Platform>,
    mut job: Job,
    c: &Caller,
    action: Action,
    fraction: FractionFn,
    work: impl FnOnce() -> JobEnd + Send + 'static,
) {
    let actor = c.actor.clone();
    let meta = c.meta.clone();
    tokio::spawn(async move {
        let slots = slots(&p.node);
        let _permit = slots.acquire_owned().await;
        job.status = "running".into();
        job.updated_at = now();
        let j = job.clone();
        if let Err(e) = p.db(move |s| s.update_job(&j)).await {
            tracing::error!(job = job.id, error = %e, "cannot mark the job running");
        }
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let ticker = {
            let p = Arc::clone(&p);
            let mut j = job.clone();
            let fraction = Arc::clone(&fraction);
            tokio::spawn(async move {
                let mut last = 0.0f64;
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        _ = tokio::time::sleep(PROGRESS_EVERY) => {}
                    }
                    let f = (fraction)().clamp(0.0, 0.99);
                    if (f - last).abs() < 0.001 {
                        continue;
                    }
                    last = f;
                    j.progress = Some((f * 1000.0).round() / 1000.0);
                    j.updated_at = now();
                    let j2 = j.clone();
                    if let Err(e) = p.db(move |s| s.update_job(&j2)).await {
                        tracing::warn!(job = j.id, error = %e, "cannot write the job's progress");
                    }
                }
            })
        };
        let end = match tokio::task::spawn_blocking(work).await {
            Ok(end) => end,
            Err(e) => {
                tracing::error!(job = job.id, error = %e, "a job panicked");
                JobEnd::failed("内部错误 (internal error; it was logged)".into())
            }
        };
        let _ = stop_tx.send(());
        let _ = ticker.await;
        let ok = end.error.is_none();
        let mut details = end.details;
        details.insert("job".into(), json!(job.id));
        details.insert(
            "status".into(),
            json!(if ok { "succeeded" } else { "failed" }),
        );
        if let Some(e) = &end.error {
            details.insert("error".into(), json!(e));
        }
        if p.record(
            &actor,
            action.id(),
            &format!("job:{}", job.id),
            if ok { Outcome::Allowed } else { Outcome::Error },
            &meta,
            details,
        )
        .await
        .is_err()
        {
            tracing::error!(
                job = job.id,
                "the end of a job could not be recorded in the ledger"
            );
        }
        if ok {
            let days = job.params.get("temporary_days").and_then(Value::as_i64);
            if let Some(days) = days {
                let outputs: Vec<String> = end.derived.iter().map(|d| d.output.clone()).collect();
                crate::routes::temporaries::record_outputs(&p, &job, &outputs, days).await;
            }
            record_derived(&p, end.derived, Some(job.department.clone()), &job.owner).await;
        }
        job.status = if ok { "succeeded" } else { "failed" }.into();
        job.progress = Some(if ok {
            1.0
        } else {
            ((fraction)().clamp(0.0, 0.99) * 1000.0).round() / 1000.0
        });
        job.result = end.result;
        job.error = end.error;
        job.updated_at = now();
        let j = job.clone();
        if let Err(e) = p.db(move |s| s.update_job(&j)).await {
            tracing::error!(job = job.id, error = %e, "cannot store the job's end");
        }
        running()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&(p.node.clone(), job.id));
    });
}

/// Marks this node's jobs that a previous run left queued or running as failed
/// ("interrupted"), each with a ledger record under the request id that started it.
pub async fn mark_interrupted(p: Arc<Platform>, started: i64) {
    let jobs = match p.db(|s| s.jobs(None, 0)).await {
        Ok(j) => j,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look for interrupted jobs");
            return;
        }
    };
    let actor = Actor {
        kind: ActorKind::System,
        id: format!("shuan-server:{}", p.node),
        department: None,
        role: None,
    };
    for mut job in jobs {
        let unfinished = matches!(job.status.as_str(), "queued" | "running");
        let ours = job.params.get("node").and_then(Value::as_str) == Some(p.node.as_str());
        let live = running()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&(p.node.clone(), job.id));
        if !unfinished || !ours || live || job.created_at > started {
            continue;
        }
        let action = match job.kind.as_str() {
            "scan" => Action::ScanRun,
            "mask" => Action::MaskRun,
            "backup" => Action::BackupCreate,
            _ => continue,
        };
        let meta = RequestMeta {
            request_id: job
                .params
                .get("request_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            address: "local".into(),
            agent: None,
            purpose: None,
        };
        let mut details = Map::new();
        details.insert("job".into(), json!(job.id));
        details.insert("owner".into(), json!(job.owner));
        details.insert("status".into(), json!("failed"));
        details.insert("error".into(), json!(INTERRUPTED));
        let _ = p
            .record(
                &actor,
                action.id(),
                &format!("job:{}", job.id),
                Outcome::Error,
                &meta,
                details,
            )
            .await;
        job.status = "failed".into();
        job.error = Some(INTERRUPTED.into());
        job.updated_at = now();
        let j = job.clone();
        if let Err(e) = p.db(move |s| s.update_job(&j)).await {
            tracing::warn!(job = job.id, error = %e, "cannot mark an interrupted job");
        }
    }
}

struct ScanJobObserver {
    fraction: shuan_discover::ScanFraction,
    messages: Mutex<Vec<String>>,
}

impl shuan_discover::ScanObserver for ScanJobObserver {
    fn bytes_read(&self, n: u64) {
        self.fraction.bytes_read(n);
    }
    fn source_started(&self, index: usize, name: &str, tables: &[shuan_source::TableRef]) {
        self.fraction.source_started(index, name, tables);
    }
    fn table_done(&self, table: &str) {
        self.fraction.table_done(table);
    }
    fn source_done(&self, index: usize) {
        self.fraction.source_done(index);
    }
    fn message(&self, line: &str) {
        let mut m = self
            .messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() < 100 {
            m.push(line.to_string());
        }
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4)
}

fn run_scan(
    data_dir: &Path,
    spec: &str,
    profile: shuan_classify::Profile,
    sample: usize,
    encoding: Option<shuan_source::TextEncoding>,
    observer: Arc<ScanJobObserver>,
) -> JobEnd {
    let settings = shuan_discover::ScanSettings {
        profile: Arc::new(profile),
        sample,
        jobs: default_threads(),
        source_options: shuan_source::SourceOptions {
            encoding,
            ..Default::default()
        },
    };
    let outcome = shuan_discover::scan_all(
        &[spec.to_string()],
        &settings,
        Arc::clone(&observer) as Arc<dyn shuan_discover::ScanObserver>,
    );
    let messages: Vec<String> = observer
        .messages
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .map(|m| scrub(m, spec))
        .collect();
    let errors: Vec<&String> = messages
        .iter()
        .filter(|m| m.starts_with("error:"))
        .collect();
    let Some(result) = outcome.results.first() else {
        return JobEnd::failed(
            errors
                .first()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "the source could not be scanned".into()),
        );
    };
    let summary = shuan_discover::ScanSummary::of(result, &settings.profile);
    let saved = shuan_store::Store::open(data_dir)
        .and_then(|mut store| shuan_discover::save_result(&mut store, result, &settings));
    let mut details = Map::new();
    details.insert("source".into(), json!(scrub(&result.source, spec)));
    details.insert("profile".into(), json!(summary.profile));
    details.insert("tables".into(), json!(summary.tables));
    details.insert("rows_scanned".into(), json!(summary.rows_scanned));
    details.insert("sensitive_columns".into(), json!(summary.sensitive_columns));
    details.insert("highest_level".into(), json!(summary.highest_level));
    details.insert("failures".into(), json!(summary.failures));
    let scan_id = match saved {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, "cannot save a scan to the inventory");
            let mut end = JobEnd::failed(format!(
                "无法保存到资产清单 (cannot save the scan to the inventory: {})",
                scrub(&e.to_string(), spec)
            ));
            end.details = details;
            return end;
        }
    };
    details.insert("scan_id".into(), json!(scan_id));
    let tables: Vec<Value> = result
        .tables
        .iter()
        .take(200)
        .map(|t| {
            json!({
                "table": t.table,
                "level": settings.profile.level(t.grade.level).name,
                "rows_scanned": t.rows_scanned,
                "sensitive_columns": t.columns.iter().filter(|c| c.data_type.is_some()).count(),
            })
        })
        .collect();
    let result_json = json!({
        "scan_id": scan_id,
        "source": scrub(&result.source, spec),
        "profile": summary.profile,
        "tables": tables,
        "rows_scanned": summary.rows_scanned,
        "sensitive_columns": summary.sensitive_columns,
        "highest_level": summary.highest_level,
        "messages": messages,
    });
    JobEnd {
        result: Some(result_json),
        details,
        error: (!result.failures.is_empty()).then(|| {
            format!(
                "{} 个表无法读取，其余已保存 ({} table(s) could not be read; the others were saved): {}",
                result.failures.len(),
                result.failures.len(),
                scrub(&result.failures[0], spec)
            )
        }),
        // A scan reads; it produces no dataset.
        derived: Vec::new(),
    }
}

struct MaskRun {
    data_dir: PathBuf,
    spec: String,
    out: PathBuf,
    rules: shuan_mask::rules::RuleSet,
    scenario: String,
    profile: shuan_classify::Profile,
    tables: Vec<String>,
    format: shuan_mask::sink::FileFormat,
    force: bool,
    sample: usize,
    operator: String,
}

fn run_mask(run: MaskRun, fraction: &shuan_mask::source_job::MaskFraction) -> JobEnd {
    use shuan_mask::source_job::{mask_source, MaskRunError, MaskSourceRequest};
    let spec = run.spec.as_str();
    let Ok(scenario) = run.rules.scenario(&run.scenario) else {
        return JobEnd::failed(format!("unknown scenario {}", run.scenario));
    };
    let req = MaskSourceRequest {
        source_spec: spec,
        source_options: shuan_source::SourceOptions {
            progress: Some(fraction.bytes_callback()),
            ..Default::default()
        },
        tables: &run.tables,
        rules: &run.rules,
        scenario,
        profile: &run.profile,
        sample: run.sample,
        out: Some(&run.out),
        dir_format: run.format,
        force: run.force,
        threads: None,
        watermark: None,
        dry_run: false,
        database_sink: None,
        operator: &run.operator,
    };
    let mut origin = None;
    let data_dir = run.data_dir.clone();
    let mut loader =
        |create: bool| -> Result<Option<shuan_mask::MaskKeys>, shuan_mask::job::HookError> {
            if !shuan_crypto::keyring::keyring_path(&data_dir).exists() {
                return Ok(None);
            }
            let mut kr = shuan_crypto::keyring::Keyring::open(&data_dir, || {
                std::env::var(crate::PASSPHRASE_ENV)
                    .ok()
                    .filter(|s| !s.is_empty())
                    .map(zeroize::Zeroizing::new)
            })?;
            let found = shuan_mask::key::keyring_mask_key(
                &mut kr,
                shuan_mask::key::DEFAULT_MASK_KEY_ID,
                None,
                create,
            )?;
            Ok(found.map(|k| {
                origin = Some(k.origin);
                k.keys
            }))
        };
    let mut observer = fraction;
    match mask_source(&req, &mut loader, &mut observer) {
        Ok(report) => {
            let record = report.record.expect("not a dry run");
            let details = record.audit_details(origin.as_ref());
            let tables: Vec<Value> = report
                .tables
                .iter()
                .map(|t| {
                    json!({
                        "table": t.table.name,
                        "rows": t.stats.rows,
                        "masked": t.stats.columns.iter().map(|c| c.masked).sum::<u64>(),
                        "failed": t.stats.columns.iter().map(|c| c.failed).sum::<u64>(),
                        "skipped_rows": t.skipped_rows,
                        "written": t.written,
                    })
                })
                .collect();
            JobEnd {
                result: Some(json!({
                    "source": scrub(&report.source_name, spec),
                    "destinations": report.tables.iter().map(|t| t.written.clone()).collect::<Vec<_>>(),
                    "scenario": scenario.id,
                    "ruleset_sm3": record.ruleset_sm3,
                    "key_fingerprint": record.key_fingerprint,
                    "tables": tables,
                })),
                details,
                error: None,
                derived: report
                    .tables
                    .iter()
                    .map(|t| Derived {
                        operation: "mask",
                        inputs: vec![format!(
                            "{}/{}",
                            scrub(&report.source_name, spec),
                            t.table.name
                        )],
                        output: t.written.clone(),
                        parameters: json!({
                            "scenario": scenario.id,
                            "ruleset_sm3": record.ruleset_sm3,
                            "rows": t.stats.rows,
                        }),
                    })
                    .collect(),
            }
        }
        Err(e) => {
            let text = match &e {
                MaskRunError::KeyMissing(what) => format!(
                    "{what} 需要脱敏密钥：请安全管理员先初始化密钥环 (needs a masking key: the data directory has no keyring; `shuan keys init`)"
                ),
                other => shuan_source::error_chain(other),
            };
            let mut end = JobEnd::failed(scrub(&text, spec));
            if let Some(o) = origin {
                end.details.insert("key".into(), o.to_json());
            }
            end
        }
    }
}

pub(crate) fn run_backup(data_dir: &Path, out: &Path, done: &AtomicU64) -> JobEnd {
    use shuan_crypto::backup;
    let progress = |d: u64, total: u64| {
        if total > 0 {
            let f = (d as f64 / total as f64).clamp(0.0, 0.99);
            done.store(f.to_bits(), Ordering::Relaxed);
        }
    };
    let res = (|| -> Result<backup::BackupRecord, String> {
        let mut kr = shuan_crypto::keyring::Keyring::open(data_dir, || {
            std::env::var(crate::PASSPHRASE_ENV)
                .ok()
                .filter(|s| !s.is_empty())
                .map(zeroize::Zeroizing::new)
        })
        .map_err(|e| format!("opening the keyring: {e}"))?;
        backup::create_node_backup(
            &mut kr,
            &backup::NodeBackupRequest {
                source: data_dir,
                data_dir,
                archive: out,
                key_id: None,
                options: backup::CreateOptions {
                    exclude: vec![PathBuf::from(WORKSPACE_DIR)],
                    progress: Some(&progress),
                    // This server writes its store while the backup runs.
                    snapshots: Some(&|tmp: &Path| {
                        Ok(shuan_store::snapshot_databases(data_dir, tmp)
                            .map_err(|e| shuan_source::error_chain(&e))?
                            .into_iter()
                            .map(|s| backup::Substitute {
                                relative: s.relative,
                                file: s.copy,
                            })
                            .collect())
                    }),
                },
            },
        )
        .map_err(|e| shuan_source::error_chain(&e))
    })();
    match res {
        Ok(rec) => {
            if let Err(e) = backup::append_log(data_dir, &rec) {
                return JobEnd::failed(format!("writing the backup log: {e}"));
            }
            let details = match serde_json::to_value(&rec) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            };
            JobEnd {
                result: Some(json!({
                    "archive": rec.archive.display().to_string(),
                    "signature": backup::signature_path(&rec.archive).display().to_string(),
                    "files": rec.files,
                    "bytes": rec.bytes,
                    "key_id": rec.key_id,
                    "key_version": rec.key_version,
                    "archive_sm3": rec.archive_sm3,
                    "signer": rec.signer,
                })),
                details,
                error: None,
                derived: vec![Derived {
                    operation: "backup",
                    inputs: vec![format!("node-data:{}", data_dir.display())],
                    output: rec.archive.display().to_string(),
                    parameters: json!({
                        "files": rec.files,
                        "bytes": rec.bytes,
                        "archive_sm3": rec.archive_sm3,
                        "key_id": rec.key_id,
                        "key_version": rec.key_version,
                    }),
                }],
            }
        }
        Err(e) => {
            let _ = backup::append_log(data_dir, &backup::failure_record("create", out, &e));
            JobEnd::failed(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_of_database_urls_are_scrubbed() {
        let spec = "postgres://alice:s3cr%40t@db.example:5432/hr?password=other&sslmode=x";
        let text = format!("cannot connect to {spec}: password s3cr@t refused; other too");
        let s = scrub(&text, spec);
        assert!(!s.contains("s3cr"), "{s}");
        assert!(!s.contains("other"), "{s}");
        assert!(s.contains("postgres://alice@db.example:5432/hr"), "{s}");
        assert_eq!(scrub("a.csv: bad", "/data/a.csv"), "a.csv: bad");
    }
}
