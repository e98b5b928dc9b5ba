//! The collection register (数据采集登记, R-04) and one data, one source (一数一源, R-05)
//! over HTTP.
//!
//! A data steward registers each collection with its purpose, use, legal basis, channel,
//! process, content (fields, typed and linked to inventory columns where known), format,
//! frequency and the person responsible, and reviews it periodically (合规性复核): continue,
//! continue after changes, or stop. Each answer lists the collected fields that another
//! department already shares through the resource catalogue (a field of the same data
//! type in a shareable catalogue entry), so re-collection is flagged where it is
//! proposed, not found in an audit later. A collection past its review date files one
//! `collection_review_overdue` alert per due date (checked once a minute).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use shuan_policy::Action;
use shuan_store::platform::collections::REVIEW_OUTCOMES;
use shuan_store::platform::{CatalogueEntry, CollectedField, Collection, CollectionReview};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiResult, ErrorBody};
use crate::routes::alerts::{file_notices, Notice};
use crate::routes::identity::{check_prose, check_text, label_of};
use crate::routes::risk::unknown_named;
use crate::routes::sharing::entry_resource;
use crate::state::Platform;

/// The rule id of the alert a collection past its review date files.
pub const OVERDUE_RULE: &str = "collection_review_overdue";

/// The collection endpoints.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(register, list))
        .routes(routes!(review, list_reviews))
}

/// One field in `POST /api/v1/collections`.
#[derive(Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct FieldBody {
    /// Its name on the form or interface, 1–100 characters.
    pub name: String,
    /// Its data type id (`cn_resident_id`, `cn_mobile` …), when known.
    #[serde(default)]
    pub data_type: Option<String>,
    /// Where it is stored: a registered source's name …
    #[serde(default)]
    pub source: Option<String>,
    /// … its table …
    #[serde(default)]
    pub table: Option<String>,
    /// … and column (all three or none).
    #[serde(default)]
    pub column: Option<String>,
}

/// `POST /api/v1/collections`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCollection {
    /// 采集事项名称, 1–200 characters.
    pub name: String,
    /// The collecting department (code).
    pub department: String,
    /// 采集目的, 1–2000 characters.
    pub purpose: String,
    /// 用途, 1–2000 characters.
    pub use_for: String,
    /// 采集依据 (law, regulation, duty), 1–2000 characters.
    pub legal_basis: String,
    /// 采集渠道, 1–500 characters.
    pub channel: String,
    /// 采集流程, 1–5000 characters.
    pub process: String,
    /// 数据格式, 1–200 characters.
    pub format: String,
    /// 采集频率, 1–100 characters.
    pub frequency: String,
    /// The person responsible (an account).
    pub owner: String,
    /// The fields collected (1–500, names unique).
    pub fields: Vec<FieldBody>,
    /// Days between compliance reviews (1–1095); the first is due that long after now.
    pub review_interval_days: i64,
}

/// A field already provided through the sharing catalogue (一数一源).
#[derive(Serialize, ToSchema)]
pub struct SharedAlready {
    /// The collected field.
    pub field: String,
    /// Its data type.
    pub data_type: String,
    /// The catalogue entry that shares it.
    pub catalogue_code: String,
    /// Its title.
    pub title: String,
    /// The department that shares it.
    pub department: String,
}

/// A collection in answers.
#[derive(Serialize, ToSchema)]
pub struct CollectionView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Department.
    pub department: String,
    /// Purpose.
    pub purpose: String,
    /// Use.
    pub use_for: String,
    /// Legal basis.
    pub legal_basis: String,
    /// Channel.
    pub channel: String,
    /// Process.
    pub process: String,
    /// Format.
    pub format: String,
    /// Frequency.
    pub frequency: String,
    /// Person responsible.
    pub owner: String,
    /// Fields.
    pub fields: Vec<FieldBody>,
    /// Days between reviews.
    pub review_interval_days: i64,
    /// When the next review is due.
    pub next_review_at: i64,
    /// Past its review date (and not stopped).
    pub review_overdue: bool,
    /// Stopped by a review.
    pub stopped: bool,
    /// Fields another department already shares (一数一源).
    pub shared_already: Vec<SharedAlready>,
    /// Who registered it.
    pub created_by: String,
}

/// The collected fields another department already shares: a shareable catalogue entry
/// (share type not `none`) of another department with a field of the same data type.
fn shared_already(c: &Collection, catalogue: &[CatalogueEntry]) -> Vec<SharedAlready> {
    let mut out = Vec::new();
    for f in &c.fields {
        let Some(t) = &f.data_type else { continue };
        for e in catalogue {
            if e.department == c.department || e.share_type == "none" {
                continue;
            }
            if e.fields.iter().any(|x| x.data_type.as_deref() == Some(t)) {
                out.push(SharedAlready {
                    field: f.name.clone(),
                    data_type: t.clone(),
                    catalogue_code: e.code.clone(),
                    title: e.title.clone(),
                    department: e.department.clone(),
                });
            }
        }
    }
    out
}

/// The catalogue entries the caller may read (`catalogue.read`): only those are named as
/// sharing a collected field, so the register shows no more of the catalogue than the
/// catalogue itself would.
async fn readable_catalogue(p: &Platform, c: &Caller) -> Result<Vec<CatalogueEntry>, ApiError> {
    let all = p.db(|s| s.catalogue_entries()).await?;
    let tree = p.tree_for(c).await?;
    Ok(all
        .into_iter()
        .filter(|e| p.allows(c, Action::CatalogueRead, &entry_resource(e), &tree))
        .collect())
}

fn view(c: &Collection, catalogue: &[CatalogueEntry], now: i64) -> CollectionView {
    CollectionView {
        id: c.id,
        name: c.name.clone(),
        department: c.department.clone(),
        purpose: c.purpose.clone(),
        use_for: c.use_for.clone(),
        legal_basis: c.legal_basis.clone(),
        channel: c.channel.clone(),
        process: c.process.clone(),
        format: c.format.clone(),
        frequency: c.frequency.clone(),
        owner: c.owner.clone(),
        fields: c
            .fields
            .iter()
            .map(|f| FieldBody {
                name: f.name.clone(),
                data_type: f.data_type.clone(),
                source: f.source.clone(),
                table: f.table.clone(),
                column: f.column.clone(),
            })
            .collect(),
        review_interval_days: c.review_interval_days,
        next_review_at: c.next_review_at,
        review_overdue: !c.stopped && c.next_review_at < now,
        stopped: c.stopped,
        shared_already: shared_already(c, catalogue),
        created_by: c.created_by.clone(),
    }
}

fn collection_resource(c: &Collection) -> shuan_policy::Resource {
    resource("collection", &c.id.to_string(), Some(&c.department), None)
}

fn check_fields(fields: &[FieldBody]) -> Result<Vec<CollectedField>, ApiError> {
    if fields.is_empty() || fields.len() > 500 {
        return Err(ApiError::invalid(
            "fields 须有 1 至 500 项 (1 to 500 fields)",
        ));
    }
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(fields.len());
    for (n, f) in fields.iter().enumerate() {
        check_text(&format!("fields[{n}].name"), &f.name, 100)?;
        if !names.insert(f.name.as_str()) {
            return Err(ApiError::invalid(format!(
                "fields[{n}].name：{} 重复 (listed twice)",
                f.name
            )));
        }
        if let Some(t) = &f.data_type {
            if shuan_detect::DataType::from_id(t).is_none() {
                return Err(ApiError::invalid(format!(
                    "fields[{n}].data_type：未知的数据类型 {t:?}，类型编号见 docs/detectors.md (unknown data type id; the ids are listed in docs/detectors.md)"
                )));
            }
        }
        let linked = [&f.source, &f.table, &f.column];
        let given = linked.iter().filter(|x| x.is_some()).count();
        if given != 0 && given != 3 {
            return Err(ApiError::invalid(format!(
                "fields[{n}]：source、table、column 须同时给出或都不给 (give all of source, table and column, or none)"
            )));
        }
        for (name, v) in ["source", "table", "column"].iter().zip(linked) {
            if let Some(v) = v {
                check_text(&format!("fields[{n}].{name}"), v, 200)?;
            }
        }
        out.push(CollectedField {
            name: f.name.clone(),
            data_type: f.data_type.clone(),
            source: f.source.clone(),
            table: f.table.clone(),
            column: f.column.clone(),
        });
    }
    Ok(out)
}

/// Registers a collection.
#[utoipa::path(post, path = "/api/v1/collections", tag = "governance", request_body = NewCollection,
    responses((status = 201, body = CollectionView), (status = "default", body = ErrorBody)))]
pub async fn register(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewCollection>,
) -> ApiResult<(StatusCode, axum::Json<CollectionView>)> {
    check_text("name", &req.name, 200)?;
    check_prose("purpose", &req.purpose, 2000)?;
    check_prose("use_for", &req.use_for, 2000)?;
    check_prose("legal_basis", &req.legal_basis, 2000)?;
    check_text("channel", &req.channel, 500)?;
    check_prose("process", &req.process, 5000)?;
    check_text("format", &req.format, 200)?;
    check_text("frequency", &req.frequency, 100)?;
    check_text("owner", &req.owner, 100)?;
    if !(1..=1095).contains(&req.review_interval_days) {
        return Err(ApiError::invalid(
            "review_interval_days 须为 1 至 1095 天 (1 to 1,095 days)",
        ));
    }
    let fields = check_fields(&req.fields)?;
    let now = p.clock.now();
    let mut col = Collection {
        id: 0,
        name: req.name.clone(),
        department: req.department.clone(),
        purpose: req.purpose.clone(),
        use_for: req.use_for.clone(),
        legal_basis: req.legal_basis.clone(),
        channel: req.channel.clone(),
        process: req.process.clone(),
        format: req.format.clone(),
        frequency: req.frequency.clone(),
        owner: req.owner.clone(),
        fields,
        review_interval_days: req.review_interval_days,
        next_review_at: now + req.review_interval_days * 86_400,
        stopped: false,
        created_by: c.name().to_string(),
        created_at: now,
    };
    let mut details = Map::new();
    details.insert("name".into(), json!(req.name));
    details.insert("fields".into(), json!(req.fields.len()));
    let r = resource("collection", "new", Some(&req.department), None);
    let stored = col.clone();
    col.id = p
        .act(&c, Action::CollectionManage, &r, details, move |s| {
            s.create_collection(&stored)
        })
        .await
        .map_err(unknown_named)?;
    let catalogue = readable_catalogue(&p, &c).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&col, &catalogue, now))))
}

/// Collections the caller may read, by department.
#[utoipa::path(get, path = "/api/v1/collections", tag = "governance",
    responses((status = 200, body = Vec<CollectionView>), (status = "default", body = ErrorBody)))]
pub async fn list(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<CollectionView>>> {
    let all = p.db(|s| s.collections()).await?;
    let now = p.clock.now();
    let mine = p
        .readable(
            &c,
            Action::CollectionRead,
            "collection",
            all,
            collection_resource,
        )
        .await?;
    let catalogue = readable_catalogue(&p, &c).await?;
    Ok(axum::Json(
        mine.iter().map(|x| view(x, &catalogue, now)).collect(),
    ))
}

/// `POST /api/v1/collections/{id}/reviews`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    /// `continue` (继续采集), `modify` (整改后继续) or `stop` (停止采集).
    pub outcome: String,
    /// What was found and decided, 1–5000 characters.
    pub note: String,
}

/// A review in answers.
#[derive(Serialize, ToSchema)]
pub struct ReviewView {
    /// Id.
    pub id: i64,
    /// The collection.
    pub collection_id: i64,
    /// When.
    pub reviewed_at: i64,
    /// Who reviewed it.
    pub reviewer: String,
    /// Outcome id.
    pub outcome: String,
    /// Outcome label.
    pub outcome_label: String,
    /// Note.
    pub note: String,
}

fn review_view(r: &CollectionReview) -> ReviewView {
    ReviewView {
        id: r.id,
        collection_id: r.collection_id,
        reviewed_at: r.reviewed_at,
        reviewer: r.reviewer.clone(),
        outcome: r.outcome.clone(),
        outcome_label: label_of(REVIEW_OUTCOMES, &r.outcome).to_string(),
        note: r.note.clone(),
    }
}

/// Records a compliance review of a collection.
#[utoipa::path(post, path = "/api/v1/collections/{id}/reviews", tag = "governance", request_body = NewReview,
    params(("id" = i64, Path, description = "collection id")),
    responses((status = 201, body = ReviewView), (status = "default", body = ErrorBody)))]
pub async fn review(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<NewReview>,
) -> ApiResult<(StatusCode, axum::Json<ReviewView>)> {
    if !REVIEW_OUTCOMES.iter().any(|(o, _)| *o == req.outcome) {
        return Err(ApiError::invalid(
            "outcome 须为 continue、modify 或 stop (one of continue, modify, stop)",
        ));
    }
    check_prose("note", &req.note, 5000)?;
    let found = p
        .db(|s| s.collections())
        .await?
        .into_iter()
        .find(|x| x.id == id);
    let Some(col) = found else {
        return Err(p
            .missing(&c, Action::CollectionManage, "collection", id)
            .await);
    };
    let mut r = CollectionReview {
        id: 0,
        collection_id: id,
        reviewed_at: p.clock.now(),
        reviewer: c.name().to_string(),
        outcome: req.outcome.clone(),
        note: req.note.clone(),
    };
    let mut details = Map::new();
    details.insert("collection".into(), json!(col.name));
    details.insert("outcome".into(), json!(req.outcome));
    let stored = r.clone();
    r.id = p
        .act(
            &c,
            Action::CollectionManage,
            &collection_resource(&col),
            details,
            move |s| s.review_collection(&stored),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(review_view(&r))))
}

/// Reviews of the collections the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/collections/{id}/reviews", tag = "governance",
    params(("id" = i64, Path, description = "collection id")),
    responses((status = 200, body = Vec<ReviewView>), (status = "default", body = ErrorBody)))]
pub async fn list_reviews(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<Vec<ReviewView>>> {
    let (cols, reviews) = p
        .db(|s| Ok((s.collections()?, s.collection_reviews()?)))
        .await?;
    let Some(col) = cols.into_iter().find(|x| x.id == id) else {
        return Err(p
            .missing(&c, Action::CollectionRead, "collection", id)
            .await);
    };
    p.authorize(
        &c,
        Action::CollectionRead,
        &collection_resource(&col),
        Map::new(),
    )
    .await?;
    Ok(axum::Json(
        reviews
            .iter()
            .filter(|r| r.collection_id == id)
            .map(review_view)
            .collect(),
    ))
}

/// Files one `collection_review_overdue` alert per collection and missed review date;
/// answers how many were filed now.
pub async fn check_reviews(p: &Platform) -> Result<usize, ApiError> {
    let now = p.clock.now();
    let cols = p.db(|s| s.collections()).await?;
    let notices: Vec<Notice> = cols
        .into_iter()
        .filter(|c| !c.stopped && c.next_review_at < now)
        .map(|c| {
            let when = shuan_crypto::time::format_unix(c.next_review_at);
            Notice {
                rule: OVERDUE_RULE,
                label: "采集合规复核逾期",
                key: format!("{OVERDUE_RULE}:{}:{}", c.id, c.next_review_at),
                severity: "low",
                actor: c.owner.clone(),
                department: Some(c.department.clone()),
                window: (c.created_at, c.next_review_at),
                summary_zh: format!(
                    "采集事项 {}「{}」应于 {when} 前完成合规性复核，尚无复核记录",
                    c.id, c.name
                ),
                summary_en: format!(
                    "collection {} was due for its compliance review by {when} and none is recorded",
                    c.id
                ),
            }
        })
        .collect();
    file_notices(p, notices).await
}
