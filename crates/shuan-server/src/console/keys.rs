//! Keys: the system administrator's API 密钥 (keys for other systems: created with a
//! role and data scope, shown once, revoked) and the security administrator's 密钥管理
//! (the keyring's data keys: list without key material, rotate after a confirmation) —
//! through the API's handlers.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use shuan_access::Role;
use shuan_policy::Action;

use super::security::{scope_body, SCOPES};
use super::system::{Errors, Params};
use super::view::{date, date_time, scope};
use super::{done, error_page_in, may, notice, render, Form, Frame, Signed};
use crate::error::{ApiJson, ApiPath};
use crate::routes::admin::{self, NewApiKey};
use crate::routes::data;
use crate::routes::identity;
use crate::state::{now, Platform};

// ---- API 密钥 ----

const API_KEYS_HREF: &str = "/system/api-keys";

/// An API key in the table.
pub struct ApiKeyRow {
    id: String,
    name: String,
    role: String,
    department: String,
    scope: String,
    created: String,
    expires: String,
    last_used: String,
    state: &'static str,
    state_class: &'static str,
    active: bool,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct ApiKeysPage {
    frame: Frame,
    rows: Vec<ApiKeyRow>,
    roles: Vec<(&'static str, &'static str)>,
    scopes: &'static [(&'static str, &'static str)],
    departments: Vec<(String, String)>,
    values: HashMap<&'static str, String>,
    chosen: Vec<String>,
    errors: Errors,
    show_form: bool,
    can_create: bool,
    can_revoke: bool,
}

impl ApiKeysPage {
    fn v(&self, field: &str) -> String {
        self.values.get(field).cloned().unwrap_or_default()
    }
}

const API_KEY_FIELDS: &[&str] = &["name", "role", "department", "scope", "expires_in_days"];

async fn api_keys_page(
    p: &Arc<Platform>,
    s: &Signed,
    q: &HashMap<String, String>,
    typed: Option<(HashMap<&'static str, String>, Vec<String>)>,
    errors: Errors,
) -> Response {
    let keys = match admin::list_api_keys(State(Arc::clone(p)), s.caller.clone()).await {
        Ok(k) => k.0,
        Err(e) => return error_page_in(p, s, API_KEYS_HREF, "API 密钥", e),
    };
    let departments = match identity::list_departments(State(Arc::clone(p)), s.caller.clone()).await
    {
        Ok(d) => d.0,
        Err(e) => return error_page_in(p, s, API_KEYS_HREF, "API 密钥", e),
    };
    let names: HashMap<&str, &str> = departments
        .iter()
        .map(|d| (d.code.as_str(), d.name.as_str()))
        .collect();
    let t = now();
    let rows = keys
        .iter()
        .map(|k| {
            let (state, state_class) = if k.revoked_at.is_some() {
                ("已吊销", "info")
            } else if k.expires_at <= t {
                ("已过期", "warning")
            } else {
                ("有效", "success")
            };
            ApiKeyRow {
                id: k.id.clone(),
                name: k.name.clone(),
                role: Role::from_id(&k.role)
                    .map(|r| r.label().to_string())
                    .unwrap_or_else(|| k.role.clone()),
                department: names
                    .get(k.department.as_str())
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| k.department.clone()),
                scope: scope(&k.scope),
                created: format!("{}，{}", k.created_by, date(k.created_at)),
                expires: date(k.expires_at),
                last_used: k
                    .last_used_at
                    .map(date_time)
                    .unwrap_or_else(|| "从未使用".into()),
                state,
                state_class,
                active: k.revoked_at.is_none() && k.expires_at > t,
            }
        })
        .collect();
    let show_form = typed.is_some() || q.contains_key("new");
    let (values, chosen) = typed.unwrap_or_else(|| {
        let mut v = HashMap::new();
        v.insert("scope", "own_department".to_string());
        v.insert("expires_in_days", "90".to_string());
        (v, Vec::new())
    });
    let c = &s.caller;
    let page = ApiKeysPage {
        frame: Frame::new(p, s, API_KEYS_HREF, "API 密钥").with_notice(notice(q)),
        rows,
        // A key never holds an administrator's, the chief data officer's or the
        // supervisor's role (the handler refuses them): not offered.
        roles: Role::ALL
            .iter()
            .filter(|r| !r.is_top_privilege() && **r != Role::Supervisor)
            .map(|r| (r.id(), r.label()))
            .collect(),
        scopes: SCOPES,
        departments: departments
            .iter()
            .map(|d| (d.code.clone(), d.name.clone()))
            .collect(),
        values,
        chosen,
        errors,
        show_form,
        can_create: may(p, c, Action::ApiKeyCreate, "api_key"),
        can_revoke: may(p, c, Action::ApiKeyRevoke, "api_key"),
    };
    render(StatusCode::OK, &page)
}

/// `GET /system/api-keys`.
pub async fn api_keys(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    api_keys_page(&p, &s, &q, None, Errors::default()).await
}

#[derive(Template)]
#[template(path = "api_key_created.html")]
struct CreatedPage {
    frame: Frame,
    id: String,
    name: String,
    secret: String,
}

/// `POST /system/api-keys`: a new key, its secret shown on this answer only.
pub async fn api_key_create(State(p): State<Arc<Platform>>, s: Signed, form: Form) -> Response {
    let values: HashMap<&'static str, String> =
        API_KEY_FIELDS.iter().map(|f| (*f, form.text(f))).collect();
    let chosen = form.all("departments");
    let typed = (values.clone(), chosen.clone());
    let Some(scope_body) = scope_body(&values["scope"], chosen) else {
        return api_keys_page(
            &p,
            &s,
            &HashMap::new(),
            Some(typed),
            Errors::one("scope", "请选择数据范围。"),
        )
        .await;
    };
    let Ok(days) = values["expires_in_days"].trim().parse::<i64>() else {
        return api_keys_page(
            &p,
            &s,
            &HashMap::new(),
            Some(typed),
            Errors::one("expires_in_days", "请输入 1–365 之间的天数。"),
        )
        .await;
    };
    let req = NewApiKey {
        name: values["name"].trim().to_string(),
        role: values["role"].clone(),
        department: values["department"].clone(),
        scope: scope_body,
        expires_in_days: days,
    };
    match admin::create_api_key(State(Arc::clone(&p)), s.caller.clone(), ApiJson(req)).await {
        Ok((_, created)) => {
            let created = created.0;
            render(
                StatusCode::OK,
                &CreatedPage {
                    frame: Frame::new(&p, &s, API_KEYS_HREF, "新增 API 密钥"),
                    id: created.key.id.clone(),
                    name: created.key.name.clone(),
                    secret: created.api_key.clone(),
                },
            )
        }
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, API_KEYS_HREF, "API 密钥", e),
        Err(e) => {
            let mut errors = Errors::from_api(&e, API_KEY_FIELDS);
            if e.code == "separation_of_duties" || e.message.starts_with("未知角色") {
                errors = Errors::one("role", e.message);
            } else if e.code == "not_found" {
                errors = Errors::one("department", "部门不存在。");
            } else if e.code == "invalid_scope" {
                errors = Errors::one("scope", e.message);
            }
            api_keys_page(&p, &s, &HashMap::new(), Some(typed), errors).await
        }
    }
}

/// `POST /system/api-keys/{id}/revoke`.
pub async fn api_key_revoke(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(id): Path<String>,
    _form: Form,
) -> Response {
    match admin::revoke_api_key(State(Arc::clone(&p)), s.caller.clone(), ApiPath(id.clone())).await
    {
        Ok(_) => done(API_KEYS_HREF, &format!("API 密钥 {id} 已吊销。")),
        Err(e) => error_page_in(&p, &s, API_KEYS_HREF, "API 密钥", e),
    }
}

// ---- 密钥管理 ----

const KEYS_HREF: &str = "/security/keys";

/// A key version in the table.
pub struct KeyRow {
    id: String,
    version: u32,
    state: &'static str,
    state_class: &'static str,
    created: String,
    destroyed: String,
    is_default: bool,
    /// The newest active version of its key (the one 轮换 replaces).
    rotatable: bool,
}

#[derive(Template)]
#[template(path = "keys.html")]
struct KeysPage {
    frame: Frame,
    rows: Vec<KeyRow>,
    can_rotate: bool,
}

fn rfc3339_date(s: &str) -> String {
    shuan_ledger::Timestamp::parse(s)
        .map(|t| date_time(t.micros().div_euclid(1_000_000)))
        .unwrap_or_else(|_| s.to_string())
}

/// `GET /security/keys`.
pub async fn keys(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    let list = match data::list_keys(State(Arc::clone(&p)), s.caller.clone()).await {
        Ok(k) => k.0,
        Err(e) => return error_page_in(&p, &s, KEYS_HREF, "密钥管理", e),
    };
    let rows = list
        .iter()
        .map(|k| {
            let (state, state_class) = match k.state.as_str() {
                "active" => ("在用", "success"),
                "retired" => ("已停用（仅解密）", "info"),
                "destroyed" => ("已销毁", "danger"),
                _ => ("未知", "info"),
            };
            let newest = list
                .iter()
                .filter(|o| o.id == k.id)
                .map(|o| o.version)
                .max()
                == Some(k.version);
            KeyRow {
                id: k.id.clone(),
                version: k.version,
                state,
                state_class,
                created: rfc3339_date(&k.created),
                destroyed: k
                    .destroyed_at
                    .as_deref()
                    .map(rfc3339_date)
                    .unwrap_or_default(),
                is_default: k.is_default,
                rotatable: newest && k.state == "active",
            }
        })
        .collect();
    let page = KeysPage {
        frame: Frame::new(&p, &s, KEYS_HREF, "密钥管理").with_notice(notice(&q)),
        rows,
        can_rotate: may(&p, &s.caller, Action::KeyRotate, "key"),
    };
    render(StatusCode::OK, &page)
}

/// `POST /security/keys/{id}/rotate`: new data is encrypted under a new version; the old
/// versions still decrypt.
pub async fn key_rotate(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(id): Path<String>,
    _form: Form,
) -> Response {
    match data::rotate_key(State(Arc::clone(&p)), s.caller.clone(), ApiPath(id.clone())).await {
        Ok(v) => {
            let version =
                v.0.iter()
                    .filter(|k| k.id == id)
                    .map(|k| k.version)
                    .max()
                    .unwrap_or_default();
            done(
                KEYS_HREF,
                &format!("密钥 {id} 已轮换，新数据使用第 {version} 版。"),
            )
        }
        Err(e) => error_page_in(&p, &s, KEYS_HREF, "密钥管理", e),
    }
}
