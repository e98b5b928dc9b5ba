//! Destruction (数据销毁, R-26) and legal holds (法律保全) over HTTP.
//!
//! A steward (data) or the security administrator (keys) asks, naming one target, the
//! method its kind allows and a reason; the target is resolved against what the platform
//! knows (a keyring version that is not destroyed, a registered PostgreSQL/MySQL source's
//! catalogued table, filter columns the table has, rows that match now) before anything
//! is filed. The chief data officer of the department approves or rejects (never their
//! own). The security administrator executes: one node begins it (compare-and-set), the
//! platform destroys — crypto-shredding the key version, deleting the rows in one
//! transaction, dropping the table — then checks on a fresh keyring or connection that the
//! data is gone, records the certificate's digest in the ledger and answers the signed
//! certificate. A failure at any step ends the destruction as failed with what was and
//! was not destroyed; it is never certified. An active legal hold refuses the request
//! and, placed later, the execution.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use shuan_govern::certificate::{
    body_digest, Certificate, CertificateBody, LedgerAnchor, VerificationRecord,
};
use shuan_govern::erase::{Eraser, TableName};
use shuan_govern::{HoldScope, Target};
use shuan_policy::Action;
use shuan_store::platform::{Destruction, DestructionStatus, LegalHold, ShareSource};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::routes::data::open_keyring;
use crate::routes::identity::check_text;
use crate::state::{now, Platform, SECRETS_KEY_ID};

/// The destruction and legal-hold endpoints.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(request_destruction, list_destructions))
        .routes(routes!(get_destruction))
        .routes(routes!(approve_destruction))
        .routes(routes!(reject_destruction))
        .routes(routes!(execute_destruction))
        .routes(routes!(get_certificate))
        .routes(routes!(place_hold, list_holds))
        .routes(routes!(release_hold))
}

/// `POST /api/v1/destructions`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDestruction {
    /// What to destroy: `{"kind": "key_version", "key", "version"}`, `{"kind": "rows",
    /// "source", "table", "filter": [{"column", "op": "eq|ne|lt|le|gt|ge", "value"}]}`
    /// or `{"kind": "table", "source", "table"}`. `source` is a registered source's name,
    /// `table` as the catalogue names it.
    #[schema(value_type = Object)]
    pub target: Value,
    /// Why (销毁原因), 1–500 characters.
    pub reason: String,
    /// `crypto_shred` (key_version), `delete_rows` (rows) or `drop_table` (table).
    pub method: String,
}

/// `POST /api/v1/destructions/{id}/approve|reject`, `POST /api/v1/legal-holds/{id}/release`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DecisionNote {
    /// Comment; required to reject or release.
    #[serde(default)]
    pub note: Option<String>,
}

/// A destruction in answers.
#[derive(Serialize, ToSchema)]
pub struct DestructionView {
    /// Id.
    pub id: i64,
    /// The target as requested.
    #[schema(value_type = Object)]
    pub target: Value,
    /// The target in Chinese.
    pub label: String,
    /// Method id.
    pub method: String,
    /// Whose data (none for a key).
    pub department: Option<String>,
    /// Why.
    pub reason: String,
    /// `pending`, `approved`, `rejected`, `executing`, `executed` or `failed`.
    pub status: String,
    /// The status in Chinese.
    pub status_label: String,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: i64,
    /// Rows matching when asked.
    pub matched: Option<i64>,
    /// Who approved or rejected.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<i64>,
    /// The decision's note.
    pub decision_note: Option<String>,
    /// Who executed.
    pub executed_by: Option<String>,
    /// When execution ended.
    pub executed_at: Option<i64>,
    /// What was and was not destroyed, and the check.
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<Value>,
    /// Whether a certificate is available (`GET …/certificate`).
    pub certified: bool,
}

fn view(d: &Destruction) -> DestructionView {
    DestructionView {
        id: d.id,
        target: serde_json::from_str(&d.target).unwrap_or(Value::Null),
        label: d.label.clone(),
        method: d.method.clone(),
        department: d.department.clone(),
        reason: d.reason.clone(),
        status: d.status.as_str().into(),
        status_label: d.status.label().into(),
        requested_by: d.requested_by.clone(),
        requested_at: d.requested_at,
        matched: d.matched,
        decided_by: d.decided_by.clone(),
        decided_at: d.decided_at,
        decision_note: d.decision_note.clone(),
        executed_by: d.executed_by.clone(),
        executed_at: d.executed_at,
        outcome: d
            .outcome
            .as_deref()
            .and_then(|o| serde_json::from_str(o).ok()),
        certified: d.certificate.is_some(),
    }
}

/// The answer of an execution.
#[derive(Serialize, ToSchema)]
pub struct Executed {
    /// The destruction, now executed.
    pub destruction: DestructionView,
    /// The signed certificate (销毁证明), self-contained; check it offline with
    /// `shuan destroy verify CERT.json`.
    #[schema(value_type = Object)]
    pub certificate: Value,
}

/// Query of `GET /api/v1/destructions`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DestructionQuery {
    /// Only in this status.
    pub status: Option<String>,
}

fn destruction_resource(d: &Destruction) -> shuan_policy::Resource {
    resource(
        "destruction",
        &d.id.to_string(),
        d.department.as_deref(),
        Some(&d.requested_by),
    )
}

fn target_error(e: shuan_govern::TargetError) -> ApiError {
    ApiError::invalid(e.to_string())
}

/// The registered source named `source` and its catalogued table `table` (the locator
/// the catalogue gives it), with the table's columns. Rows and tables are destroyed only
/// in PostgreSQL and MySQL/MariaDB sources.
async fn source_and_table(
    p: &Arc<Platform>,
    source: &str,
    table: &str,
) -> Result<(ShareSource, Vec<String>), ApiError> {
    let source2 = source.to_string();
    let found = p
        .db(move |s| {
            let Some(src) = s.sources()?.into_iter().find(|x| x.name == source2) else {
                return Ok(None);
            };
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
            format!("target.source：数据源 {source} 未登记 (no registered source of that name; see GET /api/v1/sources)"),
        ));
    };
    if src.kind != "postgres" && src.kind != "mysql" {
        return Err(ApiError::invalid(format!(
            "target.source：数据源 {source} 的类型为 {}，平台只能在 PostgreSQL、MySQL/MariaDB 数据源中删除记录或删除表 (rows and tables are destroyed in PostgreSQL and MySQL/MariaDB sources only)",
            src.kind
        )));
    }
    let Some(entry) = entries.iter().find(|e| e.locator == table) else {
        let known: Vec<&str> = entries.iter().map(|e| e.locator.as_str()).collect();
        return Err(ApiError::invalid(format!(
            "target.table：数据源 {source} 的目录中没有表 {table}；已编目的表：{} (not in the catalogue of the source; catalogued: {})",
            known.join("、"),
            known.join(", ")
        )));
    };
    let columns = entry.fields.iter().map(|f| f.name.clone()).collect();
    Ok((src, columns))
}

/// Runs `f` on a read-write connection to `src` (its URL unsealed only here), on a
/// blocking thread.
async fn with_eraser<T, F>(p: &Arc<Platform>, src: &ShareSource, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut Eraser) -> Result<T, ApiError> + Send + 'static,
{
    let p2 = Arc::clone(p);
    let (name, sealed) = (src.name.clone(), src.url_sealed.clone());
    tokio::task::spawn_blocking(move || {
        let url = p2
            .secrets
            .open(&crate::routes::sharing::sealed_account(&name), &sealed)?;
        let url = std::str::from_utf8(&url)
            .map_err(|_| ApiError::internal("a sealed source URL is not UTF-8"))?;
        let mut eraser = Eraser::connect(url).map_err(db_failure)?;
        f(&mut eraser)
    })
    .await
    .map_err(ApiError::internal)?
}

/// A source's refusal or failure as an answer (its messages carry the URL's display
/// form, never the password).
fn db_failure(e: shuan_govern::erase::EraseError) -> ApiError {
    use shuan_govern::erase::EraseError;
    match e {
        EraseError::Connect { .. } => {
            tracing::warn!(error = %e, "a source could not be reached for a destruction");
            ApiError::new(
                "source_unavailable",
                format!("数据源暂不可用 (the source cannot be reached: {e})"),
            )
        }
        EraseError::Unsupported(_) => ApiError::invalid(e.to_string()),
        other => ApiError::new(
            "destruction_failed",
            format!("数据源拒绝了操作 (the source refused: {other})"),
        ),
    }
}

/// Whose data the target is, for the policy's decision, from the store only: the
/// registered source's department; none for a key version or for a source that is not
/// registered (that is refused after the decision, by [`locate`], so that a caller the
/// policy refuses cannot probe which sources exist).
async fn owner(p: &Arc<Platform>, target: &Target) -> Result<Option<String>, ApiError> {
    let source = match target {
        // A key version belongs to no department: the role decides.
        Target::KeyVersion { .. } => return Ok(None),
        // A file is the department's whose temporary it is; any other file in the job
        // directory is the platform's, decided as the top department's (a grant that
        // reaches only one department does not reach it).
        Target::File { node, path, .. } => {
            let (node, key) = (node.clone(), file_path_key(p, path).display().to_string());
            return p
                .db(move |s| {
                    if let Some(t) = s
                        .temporaries()?
                        .into_iter()
                        .find(|t| t.node == node && t.path == key)
                    {
                        return Ok(Some(t.department));
                    }
                    Ok(s.departments()?
                        .into_iter()
                        .find(|d| d.parent.is_none())
                        .map(|d| d.code))
                })
                .await;
        }
        Target::Rows { source, .. } | Target::Table { source, .. } => source.clone(),
    };
    p.db(move |s| {
        Ok(s.sources()?
            .into_iter()
            .find(|x| x.name == source)
            .map(|x| x.department))
    })
    .await
}

/// Checks that the source is registered, can be destroyed in, and catalogues the table
/// and the filter's columns (from the store only: nothing is read from a keyring or
/// source here); answers the source's department.
async fn locate(p: &Arc<Platform>, target: &Target) -> Result<Option<String>, ApiError> {
    match target {
        Target::KeyVersion { .. } => Ok(None),
        Target::File { node, path, .. } => {
            if node == &p.node {
                job_file(p, path).await?;
            }
            Ok(None)
        }
        Target::Rows {
            source,
            table,
            filter,
        } => {
            let (src, columns) = source_and_table(p, source, table).await?;
            for (i, t) in filter.iter().enumerate() {
                if !columns.contains(&t.column) {
                    return Err(ApiError::invalid(format!(
                        "target.filter[{i}].column：表 {table} 没有列 {}；可用的列：{} (no such column; the table has: {})",
                        t.column,
                        columns.join("、"),
                        columns.join(", ")
                    )));
                }
            }
            Ok(Some(src.department))
        }
        Target::Table { source, table } => {
            let (src, _) = source_and_table(p, source, table).await?;
            Ok(Some(src.department))
        }
    }
}

/// The job directory's folders a file destruction never reaches: the platform's own
/// backups and restore-drill copies (they have their own retention).
const PLATFORM_FOLDERS: &[&str] = &["backups", "drills"];

/// The path a `file` target or hold names, written one way: absolute under the node's
/// canonical job directory, without `.` or empty parts (a relative path is relative to
/// the job directory). Found without reading the path itself, so it may be used before
/// the policy's decision.
pub(crate) fn file_path_key(p: &Platform, path: &str) -> std::path::PathBuf {
    let workspace = p.data_dir.join(crate::routes::jobs::WORKSPACE_DIR);
    let root = std::fs::canonicalize(&workspace).unwrap_or(workspace);
    let raw = std::path::Path::new(path);
    let mut out = if raw.is_absolute() {
        std::path::PathBuf::new()
    } else {
        root
    };
    for c in raw.components() {
        match c {
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A file a `file` target names on this node, as found now: its one spelling and what
/// identifies this file (device, inode, modification time), so that a file made again
/// at the same path is another target.
pub(crate) struct FoundFile {
    pub(crate) path: std::path::PathBuf,
    pub(crate) instance: String,
}

/// The file a `file` target names on this node: a regular file with no other name (one
/// link), inside the job directory `DATA_DIR/files` but not in the platform's own
/// folders, named directly (no link anywhere in the path). A path that is gone answers
/// `already_destroyed`.
pub(crate) async fn job_file(p: &Platform, path: &str) -> Result<FoundFile, ApiError> {
    let full = file_path_key(p, path);
    let workspace = p.data_dir.join(crate::routes::jobs::WORKSPACE_DIR);
    tokio::task::spawn_blocking(move || {
        let outside = || {
            ApiError::invalid(
                "target.path：只能销毁任务目录（数据目录的 files/，平台自己的 backups/、drills/ 除外）中直接指名的普通文件 (only a regular file named directly, without links, in the job directory DATA_DIR/files — not in its backups/ or drills/ — can be destroyed)",
            )
        };
        match std::fs::symlink_metadata(&full) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::new(
                "already_destroyed",
                "target.path：该文件已不存在 (the file no longer exists)",
            )),
            Err(e) => Err(ApiError::internal(e)),
            Ok(m) if !m.file_type().is_file() => Err(outside()),
            Ok(m) => {
                let root = std::fs::canonicalize(&workspace).map_err(|_| outside())?;
                let canon = std::fs::canonicalize(&full).map_err(ApiError::internal)?;
                let inside = canon.starts_with(&root)
                    && canon != root
                    && !PLATFORM_FOLDERS
                        .iter()
                        .any(|f| canon.starts_with(root.join(f)));
                // Through a link the same file has two spellings (and a hold on one would
                // not cover the other): only the direct one is accepted.
                if !inside || canon != full {
                    return Err(outside());
                }
                let instance = file_instance(&m);
                if instance.is_empty() {
                    return Err(ApiError::invalid(
                        "target.path：该文件还有其他名称（硬链接），不能单独销毁 (the file has other names, hard links; erasing it would erase them too)",
                    ));
                }
                Ok(FoundFile {
                    path: canon,
                    instance,
                })
            }
        }
    })
    .await
    .map_err(ApiError::internal)?
}

/// What identifies a file: device, inode and modification time; empty for a file with
/// more than one name.
#[cfg(unix)]
fn file_instance(m: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    if m.nlink() != 1 {
        return String::new();
    }
    format!("{}:{}:{}.{}", m.dev(), m.ino(), m.mtime(), m.mtime_nsec())
}

#[cfg(not(unix))]
fn file_instance(m: &std::fs::Metadata) -> String {
    let t = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("{}:{t}", m.len())
}

/// A `file` target held by another node: it is destroyed there.
fn elsewhere(node: &str, here: &str) -> ApiError {
    ApiError::invalid(format!(
        "target.node：文件在节点 {node} 上，请在该节点上办理（本节点 {here}） (the file is on node {node}; send the request to that node, this is {here})"
    ))
}

/// Checks that the target is there and not destroyed; answers the rows it covers
/// (rows and tables).
async fn present(p: &Arc<Platform>, target: &Target) -> Result<Option<i64>, ApiError> {
    match target {
        Target::File { node, path, .. } => {
            if node != &p.node {
                return Err(elsewhere(node, &p.node));
            }
            job_file(p, path).await?;
            Ok(None)
        }
        Target::KeyVersion { key, version } => {
            let p2 = Arc::clone(p);
            let keys = tokio::task::spawn_blocking(move || open_keyring(&p2).map(|k| k.list()))
                .await
                .map_err(ApiError::internal)??;
            let Some(k) = keys.iter().find(|k| &k.id == key && k.version == *version) else {
                return Err(ApiError::new(
                    "not_found",
                    format!("target：密钥 {key} 没有第 {version} 版 (key {key} has no version {version}; see GET /api/v1/keys)"),
                ));
            };
            if let Some(at) = &k.destroyed_at {
                return Err(ApiError::new(
                    "already_destroyed",
                    format!("密钥 {key} 第 {version} 版已于 {at} 销毁 (already destroyed at {at})"),
                ));
            }
            Ok(None)
        }
        Target::Rows {
            source,
            table,
            filter,
        } => {
            let (src, _) = source_and_table(p, source, table).await?;
            let t = TableName::from_locator(table);
            let predicates: Vec<_> = filter.iter().map(|f| f.predicate()).collect();
            let matched = with_eraser(p, &src, move |e| {
                if !e.table_exists(&t).map_err(db_failure)? {
                    return Err(ApiError::new(
                        "already_destroyed",
                        "target.table：该表已不存在 (the table no longer exists)",
                    ));
                }
                e.count_matching(&t, &predicates).map_err(db_failure)
            })
            .await?;
            if matched == 0 {
                return Err(ApiError::new(
                    "nothing_to_destroy",
                    "target.filter：没有符合条件的记录 (no row matches the filter now)",
                ));
            }
            Ok(i64::try_from(matched).ok())
        }
        Target::Table { source, table } => {
            let (src, _) = source_and_table(p, source, table).await?;
            let t = TableName::from_locator(table);
            let rows = with_eraser(p, &src, move |e| {
                if !e.table_exists(&t).map_err(db_failure)? {
                    return Err(ApiError::new(
                        "already_destroyed",
                        "target.table：该表已不存在 (the table no longer exists)",
                    ));
                }
                e.count_matching(&t, &[]).map_err(db_failure)
            })
            .await?;
            Ok(i64::try_from(rows).ok())
        }
    }
}

/// An active hold covering `hold_keys`, as the `legal_hold` refusal.
async fn refuse_if_held(p: &Arc<Platform>, hold_keys: &[String]) -> Result<(), ApiError> {
    let holds = p.db(|s| s.legal_holds(true)).await?;
    if let Some(h) = holds.iter().find(|h| hold_keys.contains(&h.hold_key)) {
        return Err(ApiError::new(
            "legal_hold",
            format!(
                "处于法律保全中，不能销毁：保全 {}（{}），原因：{} (under legal hold {}: {})",
                h.id, h.label, h.reason, h.id, h.reason
            ),
        ));
    }
    Ok(())
}

/// Asks for a destruction.
#[utoipa::path(post, path = "/api/v1/destructions", tag = "governance", request_body = NewDestruction,
    responses((status = 201, body = DestructionView), (status = "default", body = ErrorBody)))]
pub async fn request_destruction(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewDestruction>,
) -> ApiResult<(StatusCode, axum::Json<DestructionView>)> {
    let target: Target = serde_json::from_value(req.target.clone()).map_err(|e| {
        ApiError::invalid(format!(
            "target：{e} (kind is key_version, rows, table or file; see the API document)"
        ))
    })?;
    let mut target = target;
    if let Target::File { node, .. } = &mut target {
        // Left out: the file is on the node that took the request.
        if node.is_empty() {
            *node = p.node.clone();
        }
    }
    target.check().map_err(target_error)?;
    let method = target.check_method(&req.method).map_err(target_error)?;
    check_text("reason", &req.reason, 500)?;
    if let Target::KeyVersion { key, .. } = &target {
        if key == SECRETS_KEY_ID {
            return Err(ApiError::invalid(format!(
                "target.key：{SECRETS_KEY_ID} 是平台自用密钥（封存动态口令种子和数据源口令），只能轮换，不能销毁 (the platform's own key is rotated, never destroyed)"
            )));
        }
    }
    let department = owner(&p, &target).await?;
    let now = now();
    let mut d = Destruction {
        id: 0,
        target: serde_json::to_string(&target).map_err(ApiError::internal)?,
        target_key: target.target_key(),
        hold_keys: target.hold_keys(),
        department,
        label: target.label(),
        method: method.as_str().into(),
        reason: req.reason.clone(),
        status: DestructionStatus::Pending,
        requested_by: c.name().to_string(),
        requested_at: now,
        matched: None,
        decided_by: None,
        decided_at: None,
        decision_note: None,
        executed_by: None,
        executed_at: None,
        outcome: None,
        certificate: None,
    };
    let r = resource(
        "destruction",
        "new",
        d.department.as_deref(),
        Some(c.name()),
    );
    let mut details = Map::new();
    details.insert("target".into(), json!(target));
    details.insert("method".into(), json!(method.as_str()));
    details.insert("reason".into(), json!(req.reason));
    let mut d2 = d.clone();
    let p2 = Arc::clone(&p);
    d = p
        .act_then(&c, Action::DestructionRequest, &r, details, || async move {
            // Whether the source, table and columns exist is told only to a caller the
            // policy allowed (a refused caller learns nothing of what is registered).
            locate(&p2, &target).await?;
            let mut target = target;
            if let Target::File {
                node,
                path,
                instance,
            } = &mut target
            {
                // The file as found: written one way, and which file it is.
                if node == &p2.node {
                    let found = job_file(&p2, path).await?;
                    *path = found.path.display().to_string();
                    *instance = found.instance;
                    d2.target = serde_json::to_string(&target).map_err(ApiError::internal)?;
                    d2.target_key = target.target_key();
                    d2.hold_keys = target.hold_keys();
                    d2.label = target.label();
                }
            }
            refuse_if_held(&p2, &d2.hold_keys).await?;
            d2.matched = present(&p2, &target).await?;
            let stored = d2.clone();
            d2.id = p2.db(move |s| s.create_destruction(&stored)).await?;
            Ok(d2)
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view(&d))))
}

/// Destructions the caller may see: those they asked for, and those their roles read.
#[utoipa::path(get, path = "/api/v1/destructions", tag = "governance", params(DestructionQuery),
    responses((status = 200, body = Vec<DestructionView>), (status = "default", body = ErrorBody)))]
pub async fn list_destructions(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<DestructionQuery>,
) -> ApiResult<axum::Json<Vec<DestructionView>>> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(DestructionStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "status 须为 pending、approved、rejected、executing、executed 或 failed",
            )
        })?),
    };
    let all = p
        .act_self(
            &c.actor,
            &c.meta,
            Action::DestructionRead.id(),
            "destruction",
            Map::new(),
            move |s| s.destructions(status),
        )
        .await?;
    let tree = p.tree_for(&c).await?;
    Ok(axum::Json(
        all.iter()
            .filter(|d| p.allows(&c, Action::DestructionRead, &destruction_resource(d), &tree))
            .map(view)
            .collect(),
    ))
}

async fn load(p: &Arc<Platform>, id: i64) -> Result<Destruction, ApiError> {
    p.db(move |s| s.destruction(id))
        .await?
        .ok_or_else(|| ApiError::not_found("destruction", &id.to_string()))
}

/// One destruction.
#[utoipa::path(get, path = "/api/v1/destructions/{id}", tag = "governance",
    params(("id" = i64, Path, description = "destruction id")),
    responses((status = 200, body = DestructionView), (status = "default", body = ErrorBody)))]
pub async fn get_destruction(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<DestructionView>> {
    let d = load(&p, id).await?;
    p.authorize(
        &c,
        Action::DestructionRead,
        &destruction_resource(&d),
        Map::new(),
    )
    .await?;
    Ok(axum::Json(view(&d)))
}

/// The certificate of an executed destruction (the same document `execute` answered).
#[utoipa::path(get, path = "/api/v1/destructions/{id}/certificate", tag = "governance",
    params(("id" = i64, Path, description = "destruction id")),
    responses((status = 200, body = Object), (status = "default", body = ErrorBody)))]
pub async fn get_certificate(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<Value>> {
    let d = load(&p, id).await?;
    p.authorize(
        &c,
        Action::DestructionRead,
        &destruction_resource(&d),
        Map::new(),
    )
    .await?;
    let cert = d.certificate.ok_or_else(|| {
        ApiError::new(
            "conflict",
            format!("销毁单 {id} 当前为{}，没有销毁证明 (only an executed destruction has a certificate)", d.status.label()),
        )
    })?;
    Ok(axum::Json(
        serde_json::from_str(&cert).map_err(ApiError::internal)?,
    ))
}

async fn decide(
    p: Arc<Platform>,
    c: Caller,
    id: i64,
    approve: bool,
    note: Option<String>,
) -> ApiResult<axum::Json<DestructionView>> {
    if let Some(n) = &note {
        check_text("note", n, 500)?;
    }
    if !approve && note.is_none() {
        return Err(ApiError::new(
            "reason_required",
            "驳回须填写理由 note (a rejection needs its reason in note)",
        ));
    }
    let d = load(&p, id).await?;
    let mut details = Map::new();
    details.insert("approve".into(), json!(approve));
    details.insert("requester".into(), json!(d.requested_by));
    details.insert("target".into(), json!(d.label));
    if let Some(n) = &note {
        details.insert("note".into(), json!(n));
    }
    let by = c.name().to_string();
    let now = now();
    let d = p
        .act(
            &c,
            Action::DestructionApprove,
            &destruction_resource(&d),
            details,
            move |s| s.decide_destruction(id, approve, &by, note.as_deref(), now),
        )
        .await?;
    Ok(axum::Json(view(&d)))
}

/// Approves a pending destruction (chief data officer of the department; never one's own).
#[utoipa::path(post, path = "/api/v1/destructions/{id}/approve", tag = "governance", request_body = DecisionNote,
    params(("id" = i64, Path, description = "destruction id")),
    responses((status = 200, body = DestructionView), (status = "default", body = ErrorBody)))]
pub async fn approve_destruction(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DecisionNote>,
) -> ApiResult<axum::Json<DestructionView>> {
    decide(p, c, id, true, d.note).await
}

/// Rejects a pending destruction; the reason goes in `note`.
#[utoipa::path(post, path = "/api/v1/destructions/{id}/reject", tag = "governance", request_body = DecisionNote,
    params(("id" = i64, Path, description = "destruction id")),
    responses((status = 200, body = DestructionView), (status = "default", body = ErrorBody)))]
pub async fn reject_destruction(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DecisionNote>,
) -> ApiResult<axum::Json<DestructionView>> {
    decide(p, c, id, false, d.note).await
}

/// What one destruction did, before its check.
struct Done {
    destroyed: Value,
}

/// Destroys the target of `d` (begun by this node).
async fn destroy(p: &Arc<Platform>, target: &Target) -> Result<Done, ApiError> {
    match target {
        Target::File {
            node,
            path,
            instance,
        } => {
            if node != &p.node {
                return Err(elsewhere(node, &p.node));
            }
            let found = job_file(p, path).await?;
            if !instance.is_empty() && &found.instance != instance {
                return Err(ApiError::new(
                    "destruction_failed",
                    "target.path：文件在申请后被改动或重新生成，请重新申请销毁 (the file changed or was made again since the request; ask again)",
                ));
            }
            let shown = path.clone();
            let full = found.path;
            let expected = found.instance;
            tokio::task::spawn_blocking(move || {
                let bytes =
                    shuan_govern::erase::erase_file(&full, &|m| file_instance(m) == expected)
                        .map_err(|e| {
                            ApiError::new(
                                "destruction_failed",
                                format!("删除文件失败 (the file could not be erased: {e})"),
                            )
                        })?;
                Ok(Done {
                    destroyed: json!({"path": shown, "bytes_overwritten": bytes, "removed": true}),
                })
            })
            .await
            .map_err(ApiError::internal)?
        }
        Target::KeyVersion { key, version } => {
            let (p2, key, version) = (Arc::clone(p), key.clone(), *version);
            tokio::task::spawn_blocking(move || {
                let mut keyring = open_keyring(&p2)?;
                let versions = keyring.destroy(&key, Some(version)).map_err(|e| {
                    ApiError::new(
                        "invalid_input",
                        format!("密钥库拒绝了销毁 (the keyring refused: {e})"),
                    )
                })?;
                Ok(Done {
                    destroyed: json!({"key": key, "versions": versions, "kek_rotated": true}),
                })
            })
            .await
            .map_err(ApiError::internal)?
        }
        Target::Rows {
            source,
            table,
            filter,
        } => {
            let (src, _) = source_and_table(p, source, table).await?;
            let t = TableName::from_locator(table);
            let predicates: Vec<_> = filter.iter().map(|f| f.predicate()).collect();
            let deleted = with_eraser(p, &src, move |e| {
                e.delete_rows(&t, &predicates).map_err(db_failure)
            })
            .await?;
            Ok(Done {
                destroyed: json!({"source": source, "table": table, "rows_deleted": deleted}),
            })
        }
        Target::Table { source, table } => {
            let (src, _) = source_and_table(p, source, table).await?;
            let t = TableName::from_locator(table);
            let rows = with_eraser(p, &src, move |e| e.drop_table(&t).map_err(db_failure)).await?;
            Ok(Done {
                destroyed: json!({"source": source, "table": table, "dropped": true, "rows_held": rows}),
            })
        }
    }
}

/// Checks, on a fresh keyring or connection, that the target is gone.
async fn check_gone(p: &Arc<Platform>, target: &Target) -> Result<VerificationRecord, ApiError> {
    match target {
        Target::File { path, .. } => {
            let gone = matches!(
                job_file(p, path).await,
                Err(ApiError {
                    code: "already_destroyed",
                    ..
                })
            );
            Ok(VerificationRecord {
                check: "file_absent".into(),
                passed: gone,
                detail: if gone {
                    format!("文件 {path} 已不存在 (the file no longer exists)")
                } else {
                    format!("文件 {path} 仍然存在 (the file still exists)")
                },
            })
        }
        Target::KeyVersion { key, version } => {
            let (p2, key, version) = (Arc::clone(p), key.clone(), *version);
            tokio::task::spawn_blocking(move || {
                let keyring = open_keyring(&p2)?;
                let gone = keyring.key(&key, version).is_err();
                Ok(VerificationRecord {
                    check: "key_unreadable".into(),
                    passed: gone,
                    detail: if gone {
                        format!("重新打开密钥库后，密钥 {key} 第 {version} 版已无法取出 (reopened, the keyring no longer yields key {key} version {version}; data encrypted under it cannot be decrypted)")
                    } else {
                        format!("密钥 {key} 第 {version} 版仍可取出 (the key version is still readable)")
                    },
                })
            })
            .await
            .map_err(ApiError::internal)?
        }
        Target::Rows {
            source,
            table,
            filter,
        } => {
            let (src, _) = source_and_table(p, source, table).await?;
            let t = TableName::from_locator(table);
            let predicates: Vec<_> = filter.iter().map(|f| f.predicate()).collect();
            let left = with_eraser(p, &src, move |e| {
                e.count_matching(&t, &predicates).map_err(db_failure)
            })
            .await?;
            Ok(VerificationRecord {
                check: "no_matching_rows".into(),
                passed: left == 0,
                detail: format!("新连接上符合条件的记录数：{left} (rows matching on a fresh connection: {left})"),
            })
        }
        Target::Table { source, table } => {
            let (src, _) = source_and_table(p, source, table).await?;
            let t = TableName::from_locator(table);
            let exists =
                with_eraser(p, &src, move |e| e.table_exists(&t).map_err(db_failure)).await?;
            Ok(VerificationRecord {
                check: "table_absent".into(),
                passed: !exists,
                detail: if exists {
                    format!("表 {table} 仍然存在 (the table still exists)")
                } else {
                    format!("新连接上表 {table} 已不存在 (on a fresh connection the table no longer exists)")
                },
            })
        }
    }
}

fn rfc3339(t: Option<i64>) -> String {
    shuan_crypto::time::format_unix(t.unwrap_or(0))
}

/// Ends `id` as failed with `outcome`, then answers `error` (whose message says what was
/// and was not destroyed).
async fn fail(p: &Arc<Platform>, id: i64, outcome: Value, error: ApiError) -> ApiError {
    let text = outcome.to_string();
    let now = now();
    if let Err(e) = p
        .db(move |s| s.finish_destruction(id, false, &text, None, now))
        .await
    {
        tracing::error!(destruction = id, error = %e, "a failed destruction could not be marked failed");
    }
    error
}

/// Executes an approved destruction and answers its signed certificate.
#[utoipa::path(post, path = "/api/v1/destructions/{id}/execute", tag = "governance",
    params(("id" = i64, Path, description = "destruction id")),
    responses((status = 200, body = Executed), (status = "default", body = ErrorBody)))]
pub async fn execute_destruction(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<Executed>> {
    let d = load(&p, id).await?;
    let target: Target = serde_json::from_str(&d.target).map_err(ApiError::internal)?;
    let mut details = Map::new();
    details.insert("target".into(), json!(d.label));
    details.insert("method".into(), json!(d.method));
    let p2 = Arc::clone(&p);
    let c2 = c.clone();
    let executed = p
        .act_then(
            &c,
            Action::DestructionExecute,
            &destruction_resource(&d),
            details,
            || async move { execute(&p2, &c2, id, &target).await },
        )
        .await?;
    Ok(axum::Json(executed))
}

async fn execute(
    p: &Arc<Platform>,
    c: &Caller,
    id: i64,
    target: &Target,
) -> Result<Executed, ApiError> {
    let d = load(p, id).await?;
    if d.status == DestructionStatus::Approved {
        refuse_if_held(p, &d.hold_keys).await?;
    }
    // A file is destroyed on its node: asked elsewhere, the destruction stays approved.
    if let Target::File { node, .. } = target {
        if node != &p.node {
            return Err(elsewhere(node, &p.node));
        }
    }
    let by = c.name().to_string();
    let started = now();
    let d = p.db(move |s| s.begin_destruction(id, &by, started)).await?;
    let done = match destroy(p, target).await {
        Ok(done) => done,
        Err(e) => {
            let outcome =
                json!({"destroyed": Value::Null, "not_destroyed": d.label, "error": e.message});
            let message = format!(
                "销毁失败，未销毁任何数据：{} (the destruction failed and nothing was destroyed: {})",
                e.message, e.message
            );
            return Err(fail(p, id, outcome, ApiError::new("destruction_failed", message)).await);
        }
    };
    let verification = match check_gone(p, target).await {
        Ok(v) => v,
        Err(e) => VerificationRecord {
            check: "unverified".into(),
            passed: false,
            detail: format!("销毁后无法核验 (could not check afterwards: {})", e.message),
        },
    };
    if !verification.passed {
        let outcome = json!({"destroyed": done.destroyed, "verification": verification});
        let message = format!(
            "已执行销毁但核验未通过，不出具销毁证明：{} (destroyed as recorded, but the check failed; no certificate: {})",
            verification.detail, verification.detail
        );
        return Err(fail(p, id, outcome, ApiError::new("destruction_failed", message)).await);
    }
    let finished = now();
    let node = p.ledger.meta().ledger_id.clone();
    let body = CertificateBody {
        destruction_id: d.id,
        node: node.clone(),
        department: d.department.clone(),
        target: target.clone(),
        target_label: d.label.clone(),
        method: target.method().as_str().into(),
        method_label: target.method().label().into(),
        reason: d.reason.clone(),
        requested_by: d.requested_by.clone(),
        requested_at: rfc3339(Some(d.requested_at)),
        approved_by: d.decided_by.clone().unwrap_or_default(),
        approved_at: rfc3339(d.decided_at),
        approval_note: d.decision_note.clone(),
        executed_by: c.name().to_string(),
        executed_at: rfc3339(Some(finished)),
        destroyed: done.destroyed.clone(),
        verification: verification.clone(),
    };
    let body = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let sm3 = body_digest(&body);
    let mut details = Map::new();
    details.insert("destruction".into(), json!(id));
    details.insert("sm3".into(), json!(sm3));
    details.insert("destroyed".into(), done.destroyed.clone());
    // The digest is in the ledger before the certificate exists: a certificate is
    // anchored, or there is none.
    let seq = match p
        .record(
            &c.actor,
            "destruction.certify",
            &format!("destruction:{id}"),
            shuan_ledger::Outcome::Allowed,
            &c.meta,
            details,
        )
        .await
    {
        Ok(seq) => seq,
        Err(e) => {
            let outcome = json!({"destroyed": done.destroyed, "verification": verification, "certified": false});
            return Err(fail(p, id, outcome, e).await);
        }
    };
    let key = p.gateway.node_key(&p.data_dir).await?;
    let cert = Certificate::sign(body, &key, LedgerAnchor { id: node, seq });
    let cert_json = cert.to_json();
    let outcome =
        json!({"destroyed": done.destroyed, "verification": verification, "certified": true})
            .to_string();
    let d = p
        .db(move |s| s.finish_destruction(id, true, &outcome, Some(&cert_json), finished))
        .await?;
    Ok(Executed {
        destruction: view(&d),
        certificate: serde_json::to_value(&cert).map_err(ApiError::internal)?,
    })
}

// ---- legal holds ----

/// `POST /api/v1/legal-holds`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    /// What it keeps: `{"kind": "key", "key"}`, `{"kind": "key_version", "key",
    /// "version"}`, `{"kind": "source", "source"}`, `{"kind": "table", "source", "table"}`
    /// or `{"kind": "file", "path", "node"?}` (a path written as a file destruction's is).
    #[schema(value_type = Object)]
    pub scope: Value,
    /// Why (case number, investigation), 1–500 characters.
    pub reason: String,
}

/// A legal hold in answers.
#[derive(Serialize, ToSchema)]
pub struct HoldView {
    /// Id.
    pub id: i64,
    /// The scope as placed.
    #[schema(value_type = Object)]
    pub scope: Value,
    /// The scope in Chinese.
    pub label: String,
    /// Why.
    pub reason: String,
    /// Who placed it.
    pub placed_by: String,
    /// When.
    pub placed_at: i64,
    /// Whether it still holds.
    pub active: bool,
    /// Who released it.
    pub released_by: Option<String>,
    /// When.
    pub released_at: Option<i64>,
    /// Why it was released.
    pub release_note: Option<String>,
}

fn hold_view(h: &LegalHold) -> HoldView {
    HoldView {
        id: h.id,
        scope: serde_json::from_str(&h.scope).unwrap_or(Value::Null),
        label: h.label.clone(),
        reason: h.reason.clone(),
        placed_by: h.placed_by.clone(),
        placed_at: h.placed_at,
        active: h.released_at.is_none(),
        released_by: h.released_by.clone(),
        released_at: h.released_at,
        release_note: h.release_note.clone(),
    }
}

/// Query of `GET /api/v1/legal-holds`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HoldQuery {
    /// Only the holds in force.
    pub active: Option<bool>,
}

/// Places a legal hold: nothing it covers can be destroyed until it is released.
#[utoipa::path(post, path = "/api/v1/legal-holds", tag = "governance", request_body = NewHold,
    responses((status = 201, body = HoldView), (status = "default", body = ErrorBody)))]
pub async fn place_hold(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewHold>,
) -> ApiResult<(StatusCode, axum::Json<HoldView>)> {
    let scope: HoldScope = serde_json::from_value(req.scope.clone()).map_err(|e| {
        ApiError::invalid(format!(
            "scope：{e} (kind is key, key_version, source, table or file)"
        ))
    })?;
    scope.check().map_err(target_error)?;
    check_text("reason", &req.reason, 500)?;
    let mut scope = scope;
    if let HoldScope::File { node, path } = &mut scope {
        // Written the one way a file target is (a hold must cover every spelling).
        if node.is_empty() {
            *node = p.node.clone();
        }
        if node == &p.node {
            *path = file_path_key(&p, path).display().to_string();
        }
    }
    let mut h = LegalHold {
        id: 0,
        hold_key: scope.hold_key(),
        scope: serde_json::to_string(&scope).map_err(ApiError::internal)?,
        label: scope.label(),
        reason: req.reason.clone(),
        placed_by: c.name().to_string(),
        placed_at: now(),
        released_by: None,
        released_at: None,
        release_note: None,
    };
    let mut details = Map::new();
    details.insert("scope".into(), json!(scope));
    details.insert("reason".into(), json!(req.reason));
    let h2 = h.clone();
    h.id = p
        .act(
            &c,
            Action::LegalHoldManage,
            &resource("legal_hold", "new", None, None),
            details,
            move |s| s.place_hold(&h2),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(hold_view(&h))))
}

/// Legal holds, newest first.
#[utoipa::path(get, path = "/api/v1/legal-holds", tag = "governance", params(HoldQuery),
    responses((status = 200, body = Vec<HoldView>), (status = "default", body = ErrorBody)))]
pub async fn list_holds(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<HoldQuery>,
) -> ApiResult<axum::Json<Vec<HoldView>>> {
    let active = q.active.unwrap_or(false);
    let holds = p
        .act(
            &c,
            Action::LegalHoldRead,
            &resource("legal_hold", "", None, None),
            Map::new(),
            move |s| s.legal_holds(active),
        )
        .await?;
    Ok(axum::Json(holds.iter().map(hold_view).collect()))
}

/// Releases a legal hold; say why in `note`.
#[utoipa::path(post, path = "/api/v1/legal-holds/{id}/release", tag = "governance", request_body = DecisionNote,
    params(("id" = i64, Path, description = "legal hold id")),
    responses((status = 200, body = HoldView), (status = "default", body = ErrorBody)))]
pub async fn release_hold(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DecisionNote>,
) -> ApiResult<axum::Json<HoldView>> {
    let Some(note) = d.note else {
        return Err(ApiError::new(
            "reason_required",
            "解除保全须在 note 中说明理由 (releasing a hold needs a note)",
        ));
    };
    check_text("note", &note, 500)?;
    let mut details = Map::new();
    details.insert("note".into(), json!(note));
    let by = c.name().to_string();
    let now = now();
    let h = p
        .act(
            &c,
            Action::LegalHoldManage,
            &resource("legal_hold", &id.to_string(), None, None),
            details,
            move |s| s.release_hold(id, &by, &note, now),
        )
        .await?;
    Ok(axum::Json(hold_view(&h)))
}
