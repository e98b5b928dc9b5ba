//! Vendors and outsourcing (外包服务商, R-32) over HTTP.
//!
//! The security administrator registers vendors and their contracts: the data security
//! clauses, the data the vendor holds that it must return or destroy at the end, and the
//! vendor accounts of its personnel (accounts marked vendor, created by the system
//! administrator). When a contract ends, the node's background task ([`end_due`], once a
//! minute) records the end in the ledger first, then disables those accounts and ends
//! their sessions in one transaction, and files one `vendor_contract_ended` alert listing
//! the data to return or destroy. Times are the platform's clock.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use shuan_policy::Action;
use shuan_store::platform::{Vendor, VendorContract};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiResult, ErrorBody};
use crate::routes::alerts::{file_notice, Notice};
use crate::routes::identity::check_text;
use crate::state::Platform;

/// The rule id of the alert a contract's end raises.
pub const ENDED_RULE: &str = "vendor_contract_ended";

/// The vendor endpoints.
pub fn router() -> OpenApiRouter<Arc<Platform>> {
    OpenApiRouter::new()
        .routes(routes!(register_vendor, list_vendors))
        .routes(routes!(register_contract, list_contracts))
        .routes(routes!(get_contract))
}

/// `POST /api/v1/vendors`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVendor {
    /// Name, 1–200 characters (unique).
    pub name: String,
    /// 统一社会信用代码: 18 characters, digits and capital letters.
    pub credit_code: String,
    /// Contact person and phone, 1–200 characters.
    pub contact: String,
}

/// A vendor in answers.
#[derive(Serialize, ToSchema)]
pub struct VendorView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// 统一社会信用代码.
    pub credit_code: String,
    /// Contact.
    pub contact: String,
    /// When it was registered.
    pub created_at: i64,
}

fn vendor_view(v: &Vendor) -> VendorView {
    VendorView {
        id: v.id,
        name: v.name.clone(),
        credit_code: v.credit_code.clone(),
        contact: v.contact.clone(),
        created_at: v.created_at,
    }
}

/// `POST /api/v1/vendor-contracts`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    /// The vendor's id.
    pub vendor_id: i64,
    /// 合同编号, 1–100 characters (unique).
    pub number: String,
    /// The contracting department (code).
    pub department: String,
    /// 服务内容, 1–2000 characters.
    pub scope: String,
    /// 数据安全条款, 1–10000 characters.
    pub data_clauses: String,
    /// Data the vendor holds, to be returned or destroyed at the end (each 1–200
    /// characters, at most 100).
    #[serde(default)]
    pub data_items: Vec<String>,
    /// The vendor accounts of its personnel (user names of accounts marked vendor).
    #[serde(default)]
    pub personnel: Vec<String>,
    /// When it starts (Unix seconds).
    pub starts_at: i64,
    /// When it ends (Unix seconds, after `starts_at`).
    pub ends_at: i64,
}

/// A contract in answers.
#[derive(Serialize, ToSchema)]
pub struct ContractView {
    /// Id.
    pub id: i64,
    /// The vendor.
    pub vendor_id: i64,
    /// 合同编号.
    pub number: String,
    /// The contracting department.
    pub department: String,
    /// 服务内容.
    pub scope: String,
    /// 数据安全条款.
    pub data_clauses: String,
    /// Data to return or destroy at the end.
    pub data_items: Vec<String>,
    /// The personnel's vendor accounts.
    pub personnel: Vec<String>,
    /// Start.
    pub starts_at: i64,
    /// End.
    pub ends_at: i64,
    /// `active` or `ended`.
    pub status: String,
    /// The status in Chinese.
    pub status_label: String,
    /// When it was ended.
    pub ended_at: Option<i64>,
    /// The accounts disabled when it ended.
    pub disabled_accounts: Vec<String>,
}

fn contract_view(c: &VendorContract) -> ContractView {
    ContractView {
        id: c.id,
        vendor_id: c.vendor_id,
        number: c.number.clone(),
        department: c.department.clone(),
        scope: c.scope.clone(),
        data_clauses: c.data_clauses.clone(),
        data_items: c.data_items.clone(),
        personnel: c.personnel.clone(),
        starts_at: c.starts_at,
        ends_at: c.ends_at,
        status: if c.ended { "ended" } else { "active" }.into(),
        status_label: if c.ended { "已终止" } else { "履行中" }.into(),
        ended_at: c.ended_at,
        disabled_accounts: c.disabled_accounts.clone(),
    }
}

fn contract_resource(c: &VendorContract) -> shuan_policy::Resource {
    resource(
        "vendor_contract",
        &c.id.to_string(),
        Some(&c.department),
        None,
    )
}

/// Registers a vendor.
#[utoipa::path(post, path = "/api/v1/vendors", tag = "governance", request_body = NewVendor,
    responses((status = 201, body = VendorView), (status = "default", body = ErrorBody)))]
pub async fn register_vendor(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewVendor>,
) -> ApiResult<(StatusCode, axum::Json<VendorView>)> {
    check_text("name", &req.name, 200)?;
    check_text("contact", &req.contact, 200)?;
    if req.credit_code.chars().count() != 18
        || !req
            .credit_code
            .chars()
            .all(|ch| ch.is_ascii_digit() || ch.is_ascii_uppercase())
    {
        return Err(ApiError::invalid(
            "credit_code 须为 18 位统一社会信用代码（数字和大写字母） (credit_code is the 18-character unified social credit code)",
        ));
    }
    let mut v = Vendor {
        id: 0,
        name: req.name.clone(),
        credit_code: req.credit_code.clone(),
        contact: req.contact.clone(),
        created_by: c.name().to_string(),
        created_at: p.clock.now(),
    };
    let mut details = Map::new();
    details.insert("name".into(), json!(req.name));
    let stored = v.clone();
    v.id = p
        .act(
            &c,
            Action::VendorManage,
            &resource("vendor", "new", None, None),
            details,
            move |s| s.create_vendor(&stored),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(vendor_view(&v))))
}

/// Vendors by name.
#[utoipa::path(get, path = "/api/v1/vendors", tag = "governance",
    responses((status = 200, body = Vec<VendorView>), (status = "default", body = ErrorBody)))]
pub async fn list_vendors(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<VendorView>>> {
    let vendors = p
        .act(
            &c,
            Action::VendorRead,
            &resource("vendor", "", None, None),
            Map::new(),
            |s| s.vendors(),
        )
        .await?;
    Ok(axum::Json(vendors.iter().map(vendor_view).collect()))
}

/// Registers a contract with its personnel's vendor accounts.
#[utoipa::path(post, path = "/api/v1/vendor-contracts", tag = "governance", request_body = NewContract,
    responses((status = 201, body = ContractView), (status = "default", body = ErrorBody)))]
pub async fn register_contract(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewContract>,
) -> ApiResult<(StatusCode, axum::Json<ContractView>)> {
    check_text("number", &req.number, 100)?;
    check_text("scope", &req.scope, 2000)?;
    check_text("data_clauses", &req.data_clauses, 10_000)?;
    if req.data_items.len() > 100 || req.personnel.len() > 100 {
        return Err(ApiError::invalid(
            "data_items、personnel 各最多 100 项 (at most 100 data items and 100 accounts)",
        ));
    }
    for (n, d) in req.data_items.iter().enumerate() {
        check_text(&format!("data_items[{n}]"), d, 200)?;
    }
    if req.starts_at <= 0 || req.ends_at <= req.starts_at {
        return Err(ApiError::invalid(
            "ends_at 须晚于 starts_at（Unix 秒） (ends_at must be after starts_at, Unix seconds)",
        ));
    }
    let mut contract = VendorContract {
        id: 0,
        vendor_id: req.vendor_id,
        number: req.number.clone(),
        department: req.department.clone(),
        scope: req.scope.clone(),
        data_clauses: req.data_clauses.clone(),
        data_items: req.data_items.clone(),
        personnel: req.personnel.clone(),
        starts_at: req.starts_at,
        ends_at: req.ends_at,
        ended: false,
        ended_at: None,
        disabled_accounts: Vec::new(),
        created_by: c.name().to_string(),
        created_at: p.clock.now(),
    };
    let mut details = Map::new();
    details.insert("number".into(), json!(req.number));
    details.insert("vendor_id".into(), json!(req.vendor_id));
    details.insert("personnel".into(), json!(req.personnel));
    let r = resource("vendor_contract", "new", Some(&req.department), None);
    let stored = contract.clone();
    let p2 = Arc::clone(&p);
    contract.id = p
        .act_then(&c, Action::VendorManage, &r, details, || async move {
            // The department and every account must be there, and every account a
            // vendor's — told only to a caller the policy allowed (a refused caller
            // cannot probe which accounts exist).
            let (department, personnel) =
                (stored.department.clone(), stored.personnel.clone());
            let missing = p2
                .db(move |s| {
                    if s.department(&department)?.is_none() {
                        return Ok(Some(format!(
                            "department：部门 {department} 不存在 (no such department)"
                        )));
                    }
                    for (n, name) in personnel.iter().enumerate() {
                        match s.user(name)? {
                            None => {
                                return Ok(Some(format!(
                                    "personnel[{n}]：账号 {name} 不存在 (no such account)"
                                )))
                            }
                            Some(u) if !u.vendor => {
                                return Ok(Some(format!(
                                    "personnel[{n}]：账号 {name} 不是外包人员账号 (not a vendor account)"
                                )))
                            }
                            Some(_) => {}
                        }
                    }
                    Ok(None)
                })
                .await?;
            if let Some(m) = missing {
                return Err(ApiError::invalid(m));
            }
            p2.db(move |s| s.create_vendor_contract(&stored)).await
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(contract_view(&contract))))
}

/// Contracts the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/vendor-contracts", tag = "governance",
    responses((status = 200, body = Vec<ContractView>), (status = "default", body = ErrorBody)))]
pub async fn list_contracts(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<ContractView>>> {
    p.authorize(
        &c,
        Action::VendorRead,
        &resource("vendor_contract", "", None, None),
        Map::new(),
    )
    .await?;
    let all = p.db(|s| s.vendor_contracts()).await?;
    let tree = p.tree_for(&c).await?;
    Ok(axum::Json(
        all.iter()
            .filter(|x| p.allows(&c, Action::VendorRead, &contract_resource(x), &tree))
            .map(contract_view)
            .collect(),
    ))
}

/// One contract.
#[utoipa::path(get, path = "/api/v1/vendor-contracts/{id}", tag = "governance",
    params(("id" = i64, Path, description = "contract id")),
    responses((status = 200, body = ContractView), (status = "default", body = ErrorBody)))]
pub async fn get_contract(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<ContractView>> {
    let contract = p
        .db(move |s| s.vendor_contract(id))
        .await?
        .ok_or_else(|| ApiError::not_found("vendor contract", &id.to_string()))?;
    p.authorize(
        &c,
        Action::VendorRead,
        &contract_resource(&contract),
        Map::new(),
    )
    .await?;
    Ok(axum::Json(contract_view(&contract)))
}

/// Ends every active contract whose end has come: the end is recorded in the ledger
/// first (a contract whose record cannot be written is left for the next run), then its
/// personnel's accounts are disabled and their sessions ended, and one alert lists the
/// data to return or destroy. Answers the contracts ended now.
pub async fn end_due(p: &Platform) -> Result<Vec<VendorContract>, ApiError> {
    let now = p.clock.now();
    let due = p.db(move |s| s.due_vendor_contracts(now)).await?;
    let mut ended = Vec::new();
    for c in due {
        let mut details = Map::new();
        details.insert("number".into(), json!(c.number));
        details.insert("personnel".into(), json!(c.personnel));
        details.insert("data_items".into(), json!(c.data_items));
        if let Err(e) = p
            .record_system(
                "vendor_contract.end",
                &format!("vendor_contract:{}", c.id),
                details,
            )
            .await
        {
            tracing::warn!(contract = c.id, error = %e, "a vendor contract's end could not be recorded; retried");
            continue;
        }
        let id = c.id;
        let done = match p.db(move |s| s.end_vendor_contract(id, now)).await {
            Ok(done) => done,
            // Another node ended it between the read and now.
            Err(e) if e.code == "conflict" => continue,
            Err(e) => return Err(e),
        };
        let items = if done.data_items.is_empty() {
            "无".to_string()
        } else {
            done.data_items.join("、")
        };
        let notice = Notice {
            key: format!("{ENDED_RULE}:{}", done.id),
            rule: ENDED_RULE,
            label: "外包合同到期",
            severity: "medium",
            actor: done.disabled_accounts.first().cloned().unwrap_or_default(),
            department: Some(done.department.clone()),
            window: (done.starts_at, done.ends_at),
            summary_zh: format!(
                "外包合同 {} 已到期：停用账号 {}；须督促服务商返还或销毁的数据：{}",
                done.number,
                if done.disabled_accounts.is_empty() {
                    "无".to_string()
                } else {
                    done.disabled_accounts.join("、")
                },
                items
            ),
            summary_en: format!(
                "vendor contract {} ended: {} account(s) disabled; data to be returned or destroyed: {}",
                done.number,
                done.disabled_accounts.len(),
                done.data_items.join(", ")
            ),
        };
        file_notice(p, notice).await?;
        ended.push(done);
    }
    Ok(ended)
}
