//! 后台任务 (jobs): scans into the inventory, masking runs and backups, started from a
//! form and watched with their progress — through the API's job handlers (path rules,
//! the policy's data scope, the start and end records in the ledger are theirs). A page
//! showing unfinished work reloads itself every few seconds; leaving it does not stop the
//! job, and the list brings the person back to it.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;
use shuan_policy::Action;

use super::system::{Errors, Params};
use super::view::date_time_secs;
use super::{error_page_in, may, notice, render, Form, Frame, Signed};
use crate::error::{ApiJson, ApiPath, ApiQuery};
use crate::routes::identity;
use crate::routes::jobs::{
    self, BackupJobRequest, JobQuery, JobView, MaskJobRequest, ScanJobRequest,
};
use crate::state::Platform;

const HREF: &str = "/data/jobs";
/// Seconds between reloads of a page showing unfinished jobs.
const REFRESH_SECS: u32 = 2;

/// A job as the pages show it.
pub struct JobRow {
    id: i64,
    kind: &'static str,
    owner: String,
    department: String,
    status: &'static str,
    status_class: &'static str,
    /// Per mille, for the progress bar (`None`: not known yet).
    permille: Option<u32>,
    percent: String,
    source: String,
    created: String,
    updated: String,
    unfinished: bool,
    error: String,
    params: String,
    result: String,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "scan" => "扫描入库",
        "mask" => "数据脱敏",
        "backup" => "备份",
        _ => "其他",
    }
}

fn status_label(status: &str) -> (&'static str, &'static str) {
    match status {
        "queued" => ("排队中", "info"),
        "running" => ("运行中", "warning"),
        "succeeded" => ("已完成", "success"),
        "failed" => ("失败", "danger"),
        _ => ("未知", "info"),
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn job_row(j: &JobView) -> JobRow {
    let (status, status_class) = status_label(&j.status);
    let done = j.status == "succeeded";
    let fraction = if done {
        Some(1.0)
    } else {
        j.progress.map(|f| f.clamp(0.0, 1.0))
    };
    JobRow {
        id: j.id,
        kind: kind_label(&j.kind),
        owner: j.owner.clone(),
        department: j.department.clone(),
        status,
        status_class,
        permille: fraction.map(|f| (f * 1000.0).round() as u32),
        percent: fraction
            .map(|f| format!("{:.0}%", f * 100.0))
            .unwrap_or_else(|| "—".into()),
        source: j.params["source"]
            .as_str()
            .or_else(|| j.params["out"].as_str())
            .unwrap_or_default()
            .to_string(),
        created: date_time_secs(j.created_at),
        updated: date_time_secs(j.updated_at),
        unfinished: matches!(j.status.as_str(), "queued" | "running"),
        error: j.error.clone().unwrap_or_default(),
        params: pretty(&j.params),
        result: j.result.as_ref().map(pretty).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    frame: Frame,
    rows: Vec<JobRow>,
    q_kind: String,
    q_status: String,
    can_scan: bool,
    can_mask: bool,
    can_backup: bool,
    errors: Errors,
}

/// `GET /data/jobs`: the jobs the caller may see, newest first.
pub async fn list(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    list_page(&p, &s, &q, Errors::default()).await
}

async fn list_page(
    p: &Arc<Platform>,
    s: &Signed,
    q: &HashMap<String, String>,
    errors: Errors,
) -> Response {
    let pick =
        |k: &str, allowed: &[&str]| q.get(k).filter(|v| allowed.contains(&v.as_str())).cloned();
    let kind = pick("kind", &["scan", "mask", "backup"]);
    let status = pick("status", &["queued", "running", "succeeded", "failed"]);
    let query = JobQuery {
        kind: kind.clone(),
        status: status.clone(),
        limit: Some(200),
    };
    let list = match jobs::list_jobs(State(Arc::clone(p)), s.caller.clone(), ApiQuery(query)).await
    {
        Ok(l) => l.0,
        Err(e) => return error_page_in(p, s, HREF, "后台任务", e),
    };
    let rows: Vec<JobRow> = list.iter().map(job_row).collect();
    let mut frame = Frame::new(p, s, HREF, "后台任务").with_notice(notice(q));
    if rows.iter().any(|r| r.unfinished) {
        frame.refresh_secs = REFRESH_SECS;
    }
    let c = &s.caller;
    let page = JobsPage {
        frame,
        rows,
        q_kind: kind.unwrap_or_default(),
        q_status: status.unwrap_or_default(),
        can_scan: may(p, c, Action::ScanRun, "scan"),
        can_mask: may(p, c, Action::MaskRun, "mask"),
        can_backup: may(p, c, Action::BackupCreate, "backup"),
        errors,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    frame: Frame,
    job: JobRow,
}

/// `GET /data/jobs/{id}`: one job with its progress (the page reloads itself until the
/// job ends).
pub async fn show(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(id): Path<i64>,
    Query(q): Params,
) -> Response {
    let job = match jobs::get_job(State(Arc::clone(&p)), s.caller.clone(), ApiPath(id)).await {
        Ok(j) => job_row(&j.0),
        Err(e) => return error_page_in(&p, &s, HREF, "任务详情", e),
    };
    let mut frame = Frame::new(&p, &s, HREF, &format!("任务 {id}")).with_notice(notice(&q));
    if job.unfinished {
        frame.refresh_secs = REFRESH_SECS;
    }
    render(StatusCode::OK, &JobPage { frame, job })
}

fn to_job(id: i64) -> Response {
    let q = serde_urlencoded::to_string([("ok", "任务已提交，可离开本页，稍后在后台任务中查看。")])
        .unwrap_or_default();
    Redirect::to(&format!("{HREF}/{id}?{q}")).into_response()
}

#[derive(Template)]
#[template(path = "job_form.html")]
struct JobFormPage {
    frame: Frame,
    /// `scan` or `mask`.
    kind: &'static str,
    departments: Vec<(String, String)>,
    values: HashMap<&'static str, String>,
    force: bool,
    errors: Errors,
}

impl JobFormPage {
    fn v(&self, field: &str) -> String {
        self.values.get(field).cloned().unwrap_or_default()
    }
}

const SCAN_FIELDS: &[&str] = &["source", "department", "profile", "sample", "encoding"];
const MASK_FIELDS: &[&str] = &[
    "source",
    "department",
    "out",
    "scenario",
    "rules",
    "format",
    "profile",
    "sample",
];

async fn form_page(
    p: &Arc<Platform>,
    s: &Signed,
    kind: &'static str,
    values: HashMap<&'static str, String>,
    force: bool,
    errors: Errors,
) -> Response {
    let title = if kind == "scan" {
        "新建扫描任务"
    } else {
        "新建脱敏任务"
    };
    let departments = match identity::list_departments(State(Arc::clone(p)), s.caller.clone()).await
    {
        Ok(d) => d.0.into_iter().map(|d| (d.code, d.name)).collect(),
        Err(e) => return error_page_in(p, s, HREF, title, e),
    };
    let page = JobFormPage {
        frame: Frame::new(p, s, HREF, title),
        kind,
        departments,
        values,
        force,
        errors,
    };
    render(StatusCode::OK, &page)
}

/// `GET /data/jobs/scan` and `GET /data/jobs/mask`: the start forms.
pub async fn new_form(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(kind): Path<String>,
) -> Response {
    let (kind, action) = match kind.as_str() {
        "scan" => ("scan", Action::ScanRun),
        "mask" => ("mask", Action::MaskRun),
        _ => return super::not_found_page().await,
    };
    if !may(&p, &s.caller, action, kind) {
        // Asked anyway: the policy's answer, recorded, says why.
        let e = p
            .authorize(
                &s.caller,
                action,
                &crate::auth::resource(kind, "", None, None),
                serde_json::Map::new(),
            )
            .await
            .err()
            .unwrap_or_else(|| crate::error::ApiError::new("forbidden", "没有权限"));
        return error_page_in(&p, &s, HREF, "后台任务", e);
    }
    let mut values = HashMap::new();
    values.insert("department", s.caller.principal.department.clone());
    if kind == "mask" {
        values.insert("scenario", "sharing".to_string());
        values.insert("format", "csv".to_string());
    }
    form_page(&p, &s, kind, values, false, Errors::default()).await
}

fn optional(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// A whole number field; a field that is not one gets its error beside it.
fn sample_of(values: &HashMap<&'static str, String>) -> Result<Option<u32>, Errors> {
    match optional(values.get("sample").map(String::as_str).unwrap_or_default()) {
        None => Ok(None),
        Some(v) => v
            .parse::<u32>()
            .map(Some)
            .map_err(|_| Errors::one("sample", "请输入 1–100000 之间的整数。")),
    }
}

fn typed(form: &Form, fields: &[&'static str]) -> HashMap<&'static str, String> {
    fields.iter().map(|f| (*f, form.text(f))).collect()
}

/// `POST /data/jobs/scan`.
pub async fn start_scan(State(p): State<Arc<Platform>>, s: Signed, form: Form) -> Response {
    let values = typed(&form, SCAN_FIELDS);
    let sample = match sample_of(&values) {
        Ok(v) => v,
        Err(e) => return form_page(&p, &s, "scan", values, false, e).await,
    };
    let req = ScanJobRequest {
        source: values["source"].trim().to_string(),
        department: values["department"].clone(),
        profile: optional(&values["profile"]),
        sample,
        encoding: optional(&values["encoding"]),
    };
    match jobs::scan_job(State(Arc::clone(&p)), s.caller.clone(), ApiJson(req)).await {
        Ok((_, job)) => to_job(job.0.id),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, HREF, "新建扫描任务", e),
        Err(e) => {
            let errors = Errors::from_api(&e, SCAN_FIELDS);
            form_page(&p, &s, "scan", values, false, errors).await
        }
    }
}

/// `POST /data/jobs/mask`.
pub async fn start_mask(State(p): State<Arc<Platform>>, s: Signed, form: Form) -> Response {
    let values = typed(&form, MASK_FIELDS);
    let force = form.get("force") == Some("on");
    let sample = match sample_of(&values) {
        Ok(v) => v,
        Err(e) => return form_page(&p, &s, "mask", values, force, e).await,
    };
    let req = MaskJobRequest {
        source: values["source"].trim().to_string(),
        department: values["department"].clone(),
        out: values["out"].trim().to_string(),
        scenario: optional(&values["scenario"]),
        rules: optional(&values["rules"]),
        tables: Vec::new(),
        format: optional(&values["format"]),
        force,
        profile: optional(&values["profile"]),
        sample,
        // The console's form does not offer a retention yet (the API does).
        temporary_days: None,
    };
    match jobs::mask_job(State(Arc::clone(&p)), s.caller.clone(), ApiJson(req)).await {
        Ok((_, job)) => to_job(job.0.id),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, HREF, "新建脱敏任务", e),
        Err(e) => {
            let errors = Errors::from_api(&e, MASK_FIELDS);
            form_page(&p, &s, "mask", values, force, errors).await
        }
    }
}

/// `POST /data/jobs/backup`: a backup of the node to its default place.
pub async fn start_backup(State(p): State<Arc<Platform>>, s: Signed, _form: Form) -> Response {
    match jobs::backup_job(
        State(Arc::clone(&p)),
        s.caller.clone(),
        ApiJson(BackupJobRequest::default()),
    )
    .await
    {
        Ok((_, job)) => to_job(job.0.id),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, HREF, "后台任务", e),
        Err(e) => list_page(&p, &s, &HashMap::new(), Errors::one("_", e.message)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view(status: &str, progress: Option<f64>) -> JobView {
        JobView {
            id: 7,
            kind: "scan".into(),
            owner: "zhao".into(),
            department: "CZJ".into(),
            status: status.into(),
            progress,
            params: json!({"source": "files/a.csv"}),
            result: None,
            error: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn progress_reads_as_people_expect() {
        let r = job_row(&view("running", Some(0.4567)));
        assert_eq!((r.permille, r.percent.as_str()), (Some(457), "46%"));
        assert!(r.unfinished);
        assert_eq!(r.status, "运行中");
        assert_eq!(r.source, "files/a.csv");
        // A finished job is full even when its last progress write was earlier.
        let r = job_row(&view("succeeded", Some(0.9)));
        assert_eq!((r.permille, r.unfinished), (Some(1000), false));
        // Out of range or unknown progress never panics nor overflows the bar.
        assert_eq!(job_row(&view("running", Some(7.0))).permille, Some(1000));
        assert_eq!(job_row(&view("queued", None)).percent, "—");
        assert_eq!(job_row(&view("odd", None)).status, "未知");
    }
}
