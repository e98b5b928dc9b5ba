//! The security administrator's pages: 角色与授权 (grants with data scopes; a
//! separation-of-duties refusal shown beside the role), 参数设置 (password and lockout
//! policy), 访问策略 (Cedar policies with a validation preview). Through the API's
//! handlers.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use shuan_access::Role;
use shuan_policy::Action;

use super::system::{Errors, Params};
use super::view::{date, date_time, scope};
use super::{done, error_page_in, may, notice, render, Form, Frame, Signed};
use crate::error::{ApiJson, ApiPath, ApiQuery};
use crate::routes::admin::{self, NewPolicy, PolicyText, PolicyView};
use crate::routes::identity::{self, NewGrant, ScopeBody, UserQuery};
use crate::state::{LockoutSetting, PasswordPolicySetting, Platform};

// ---- 角色与授权 ----

/// An account in the list on the left of the grants page.
pub struct AccountRow {
    username: String,
    display_name: String,
    department: String,
    roles: Vec<String>,
    selected: bool,
}

/// A grant of the chosen account.
pub struct GrantRow {
    id: i64,
    role: String,
    department: String,
    scope: String,
    granted_by: String,
    granted_at: String,
}

/// The data scopes as the grant form offers them: value and label.
pub const SCOPES: &[(&str, &str)] = &[
    ("all", "全部数据"),
    ("chosen", "自定数据"),
    ("own_department", "本部门数据"),
    ("own_department_and_below", "本部门及以下数据"),
    ("self_only", "仅本人数据"),
];

#[derive(Template)]
#[template(path = "grants.html")]
struct GrantsPage {
    frame: Frame,
    accounts: Vec<AccountRow>,
    q_name: String,
    chosen: Option<String>,
    grants: Vec<GrantRow>,
    roles: Vec<(&'static str, &'static str)>,
    scopes: &'static [(&'static str, &'static str)],
    departments: Vec<(String, String)>,
    form_role: String,
    form_department: String,
    form_scope: String,
    form_chosen: Vec<String>,
    errors: Errors,
    can_create: bool,
    can_delete: bool,
}

const GRANTS_HREF: &str = "/security/grants";

struct GrantForm {
    role: String,
    department: String,
    scope: String,
    chosen: Vec<String>,
}

async fn grants_page(
    p: &Arc<Platform>,
    s: &Signed,
    q: &HashMap<String, String>,
    form: Option<GrantForm>,
    errors: Errors,
) -> Response {
    let users = match identity::list_users(
        State(Arc::clone(p)),
        s.caller.clone(),
        ApiQuery(UserQuery { department: None }),
    )
    .await
    {
        Ok(u) => u.0,
        Err(e) => return error_page_in(p, s, GRANTS_HREF, "角色与授权", e),
    };
    let departments = match identity::list_departments(State(Arc::clone(p)), s.caller.clone()).await
    {
        Ok(d) => d.0,
        Err(e) => return error_page_in(p, s, GRANTS_HREF, "角色与授权", e),
    };
    let chosen = q.get("user").filter(|u| !u.is_empty()).cloned();
    let grants = match &chosen {
        Some(u) => {
            match identity::list_grants(State(Arc::clone(p)), s.caller.clone(), ApiPath(u.clone()))
                .await
            {
                Ok(g) => g.0,
                Err(e) => return error_page_in(p, s, GRANTS_HREF, "角色与授权", e),
            }
        }
        None => Vec::new(),
    };
    let names: HashMap<&str, &str> = departments
        .iter()
        .map(|d| (d.code.as_str(), d.name.as_str()))
        .collect();
    let q_name = q.get("name").cloned().unwrap_or_default();
    let accounts = users
        .iter()
        .filter(|u| {
            q_name.is_empty()
                || u.username.contains(q_name.as_str())
                || u.display_name.contains(q_name.as_str())
        })
        .map(|u| AccountRow {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            department: names
                .get(u.department.as_str())
                .map(|n| n.to_string())
                .unwrap_or_else(|| u.department.clone()),
            roles: u.roles.iter().map(|g| g.role_label.clone()).collect(),
            selected: chosen.as_deref() == Some(u.username.as_str()),
        })
        .collect();
    let form = form.unwrap_or(GrantForm {
        role: String::new(),
        department: String::new(),
        scope: "own_department".into(),
        chosen: Vec::new(),
    });
    let page = GrantsPage {
        frame: Frame::new(p, s, GRANTS_HREF, "角色与授权").with_notice(notice(q)),
        accounts,
        q_name,
        grants: grants
            .iter()
            .map(|g| GrantRow {
                id: g.id,
                role: g.role_label.clone(),
                department: names
                    .get(g.department.as_str())
                    .map(|n| format!("{n}（{}）", g.department))
                    .unwrap_or_else(|| g.department.clone()),
                scope: scope(&g.scope),
                granted_by: g.granted_by.clone(),
                granted_at: date(g.granted_at),
            })
            .collect(),
        chosen,
        roles: Role::ALL.iter().map(|r| (r.id(), r.label())).collect(),
        scopes: SCOPES,
        departments: departments
            .iter()
            .map(|d| (d.code.clone(), d.name.clone()))
            .collect(),
        form_role: form.role,
        form_department: form.department,
        form_scope: form.scope,
        form_chosen: form.chosen,
        errors,
        can_create: may(p, &s.caller, Action::GrantCreate, "grant"),
        can_delete: may(p, &s.caller, Action::GrantDelete, "grant"),
    };
    render(StatusCode::OK, &page)
}

/// `GET /security/grants`.
pub async fn grants(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    grants_page(&p, &s, &q, None, Errors::default()).await
}

/// A data scope from the grant form's fields (also the API key form's).
pub fn scope_body(kind: &str, chosen: Vec<String>) -> Option<ScopeBody> {
    Some(match kind {
        "all" => ScopeBody::All,
        "chosen" => ScopeBody::Chosen {
            departments: chosen,
        },
        "own_department" => ScopeBody::OwnDepartment,
        "own_department_and_below" => ScopeBody::OwnDepartmentAndBelow,
        "self_only" => ScopeBody::SelfOnly,
        _ => return None,
    })
}

/// `POST /security/grants/{username}`: grants a role. Separation of duties (三员分立),
/// a vendor's limits and a duplicate are refused by the store and shown beside the role.
pub async fn grant_create(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(username): Path<String>,
    form: Form,
) -> Response {
    let f = GrantForm {
        role: form.text("role"),
        department: form.text("department"),
        scope: form.text("scope"),
        chosen: form.all("departments"),
    };
    let back: HashMap<String, String> = [("user".to_string(), username.clone())].into();
    let Some(scope_value) = scope_body(&f.scope, f.chosen.clone()) else {
        return grants_page(
            &p,
            &s,
            &back,
            Some(f),
            Errors::one("scope", "请选择数据范围。"),
        )
        .await;
    };
    if f.role.is_empty() {
        return grants_page(&p, &s, &back, Some(f), Errors::one("role", "请选择角色。")).await;
    }
    if f.department.is_empty() {
        return grants_page(
            &p,
            &s,
            &back,
            Some(f),
            Errors::one("department", "请选择部门。"),
        )
        .await;
    }
    let req = NewGrant {
        role: f.role.clone(),
        department: f.department.clone(),
        scope: scope_value,
    };
    match identity::create_grant(
        State(Arc::clone(&p)),
        s.caller.clone(),
        ApiPath(username.clone()),
        ApiJson(req),
    )
    .await
    {
        Ok(_) => done(
            &format!(
                "{GRANTS_HREF}?{}",
                serde_urlencoded::to_string([("user", &username)]).unwrap_or_default()
            ),
            &format!("已为 {username} 授予角色。"),
        ),
        Err(e) => {
            let field = match e.code {
                "invalid_scope" => "scope",
                "not_found" | "invalid_input" if e.message.starts_with("department") => {
                    "department"
                }
                // Separation of duties, a vendor's limits, a duplicate, and a grant to
                // oneself or outside the caller's scope: all about the role asked for.
                _ => "role",
            };
            if e.code == "forbidden" && !e.message.contains("自己") {
                // The policy refused the administrator: the denial page, in its words.
                return error_page_in(&p, &s, GRANTS_HREF, "角色与授权", e);
            }
            grants_page(&p, &s, &back, Some(f), Errors::one(field, e.message)).await
        }
    }
}

/// `POST /security/grants/{username}/{id}/delete`: removes a grant.
pub async fn grant_delete(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path((username, id)): Path<(String, i64)>,
    _form: Form,
) -> Response {
    match identity::delete_grant(
        State(Arc::clone(&p)),
        s.caller.clone(),
        ApiPath((username.clone(), id)),
    )
    .await
    {
        Ok(_) => done(
            &format!(
                "{GRANTS_HREF}?{}",
                serde_urlencoded::to_string([("user", &username)]).unwrap_or_default()
            ),
            &format!("已撤销 {username} 的一项授权。"),
        ),
        Err(e) => error_page_in(&p, &s, GRANTS_HREF, "角色与授权", e),
    }
}

// ---- 参数设置 ----

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    frame: Frame,
    password: HashMap<&'static str, String>,
    lockout: HashMap<&'static str, String>,
    session_idle: String,
    session_absolute: String,
    errors: Errors,
    can_update: bool,
}

const SETTINGS_HREF: &str = "/security/settings";

impl SettingsPage {
    fn value(&self, group: &str, field: &str) -> String {
        let m = if group == "password" {
            &self.password
        } else {
            &self.lockout
        };
        m.get(field).cloned().unwrap_or_default()
    }
}

async fn settings_page(
    p: &Arc<Platform>,
    s: &Signed,
    q: &HashMap<String, String>,
    typed: Option<(&'static str, HashMap<&'static str, String>)>,
    errors: Errors,
) -> Response {
    let current = match admin::get_settings(State(Arc::clone(p)), s.caller.clone()).await {
        Ok(v) => v.0,
        Err(e) => return error_page_in(p, s, SETTINGS_HREF, "参数设置", e),
    };
    let pw = current.password_policy;
    let lo = current.lockout;
    let mut password: HashMap<&'static str, String> = [
        ("min_length", pw.min_length.to_string()),
        ("min_classes", pw.min_classes.to_string()),
        ("history", pw.history.to_string()),
        ("max_age_days", pw.max_age_days.to_string()),
    ]
    .into();
    let mut lockout: HashMap<&'static str, String> = [
        ("max_failures", lo.max_failures.to_string()),
        ("window_minutes", lo.window_minutes.to_string()),
    ]
    .into();
    // What was typed stays in the form beside its error.
    match typed {
        Some(("password", t)) => password = t,
        Some((_, t)) => lockout = t,
        None => {}
    }
    let page = SettingsPage {
        frame: Frame::new(p, s, SETTINGS_HREF, "参数设置").with_notice(notice(q)),
        password,
        lockout,
        session_idle: super::view::duration(current.session_idle_secs),
        session_absolute: super::view::duration(current.session_absolute_secs),
        errors,
        can_update: may(p, &s.caller, Action::SettingsUpdateSecurity, "settings"),
    };
    render(StatusCode::OK, &page)
}

/// `GET /security/settings`.
pub async fn settings(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    settings_page(&p, &s, &q, None, Errors::default()).await
}

/// What was typed into a form, by field.
type Typed = HashMap<&'static str, String>;

/// Reads whole numbers from a form; a field that is not one gets its error beside it.
fn numbers(
    form: &Form,
    fields: &[&'static str],
) -> (Typed, Result<HashMap<&'static str, i64>, Errors>) {
    let typed: HashMap<&'static str, String> = fields
        .iter()
        .map(|f| (*f, form.text(f).trim().to_string()))
        .collect();
    let mut values = HashMap::new();
    for f in fields {
        match typed[f].parse::<i64>() {
            Ok(v) if v >= 0 => {
                values.insert(*f, v);
            }
            _ => return (typed, Err(Errors::one(f, "请输入不小于 0 的整数。"))),
        }
    }
    (typed, Ok(values))
}

/// `POST /security/settings/password`.
pub async fn settings_password(State(p): State<Arc<Platform>>, s: Signed, form: Form) -> Response {
    let fields = ["min_length", "min_classes", "history", "max_age_days"];
    let (typed, parsed) = numbers(&form, &fields);
    let v = match parsed {
        Ok(v) => v,
        Err(errors) => {
            return settings_page(&p, &s, &HashMap::new(), Some(("password", typed)), errors).await
        }
    };
    let setting = PasswordPolicySetting {
        min_length: v["min_length"] as usize,
        min_classes: v["min_classes"] as usize,
        history: v["history"] as usize,
        max_age_days: u32::try_from(v["max_age_days"]).unwrap_or(u32::MAX),
    };
    match admin::put_password_policy(State(Arc::clone(&p)), s.caller.clone(), ApiJson(setting))
        .await
    {
        Ok(_) => done(SETTINGS_HREF, "密码策略已保存。"),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, SETTINGS_HREF, "参数设置", e),
        Err(e) => {
            settings_page(
                &p,
                &s,
                &HashMap::new(),
                Some(("password", typed)),
                Errors::one("password", e.message),
            )
            .await
        }
    }
}

/// `POST /security/settings/lockout`.
pub async fn settings_lockout(State(p): State<Arc<Platform>>, s: Signed, form: Form) -> Response {
    let fields = ["max_failures", "window_minutes"];
    let (typed, parsed) = numbers(&form, &fields);
    let v = match parsed {
        Ok(v) => v,
        Err(errors) => {
            return settings_page(&p, &s, &HashMap::new(), Some(("lockout", typed)), errors).await
        }
    };
    let setting = LockoutSetting {
        max_failures: v["max_failures"] as u64,
        window_minutes: v["window_minutes"],
    };
    match admin::put_lockout(State(Arc::clone(&p)), s.caller.clone(), ApiJson(setting)).await {
        Ok(_) => done(SETTINGS_HREF, "登录失败锁定策略已保存。"),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, SETTINGS_HREF, "参数设置", e),
        Err(e) => {
            settings_page(
                &p,
                &s,
                &HashMap::new(),
                Some(("lockout", typed)),
                Errors::one("lockout", e.message),
            )
            .await
        }
    }
}

// ---- 访问策略 ----

/// A policy in the table.
pub struct PolicyRow {
    id: String,
    description: String,
    text: String,
    builtin: bool,
    created: String,
}

impl From<PolicyView> for PolicyRow {
    fn from(v: PolicyView) -> Self {
        PolicyRow {
            id: v.id,
            description: v.description,
            text: v.text,
            builtin: v.builtin,
            created: match (v.created_by, v.created_at) {
                (Some(by), Some(at)) => format!("{by}，{}", date_time(at)),
                _ => "随系统发布".into(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "policies.html")]
struct PoliciesPage {
    frame: Frame,
    rows: Vec<PolicyRow>,
    form_id: String,
    form_description: String,
    form_text: String,
    /// The validation preview: valid, policies, problems.
    preview: Option<(bool, usize, Vec<String>)>,
    errors: Errors,
    can_create: bool,
    can_delete: bool,
}

const POLICIES_HREF: &str = "/security/policies";

async fn policies_page(
    p: &Arc<Platform>,
    s: &Signed,
    q: &HashMap<String, String>,
    form: (String, String, String),
    preview: Option<(bool, usize, Vec<String>)>,
    errors: Errors,
) -> Response {
    let rows = match admin::list_policies(State(Arc::clone(p)), s.caller.clone()).await {
        Ok(v) => v.0.into_iter().map(PolicyRow::from).collect(),
        Err(e) => return error_page_in(p, s, POLICIES_HREF, "访问策略", e),
    };
    let page = PoliciesPage {
        frame: Frame::new(p, s, POLICIES_HREF, "访问策略").with_notice(notice(q)),
        rows,
        form_id: form.0,
        form_description: form.1,
        form_text: form.2,
        preview,
        errors,
        can_create: may(p, &s.caller, Action::PolicyCreate, "policy"),
        can_delete: may(p, &s.caller, Action::PolicyDelete, "policy"),
    };
    render(StatusCode::OK, &page)
}

/// `GET /security/policies`.
pub async fn policies(State(p): State<Arc<Platform>>, s: Signed, Query(q): Params) -> Response {
    policies_page(
        &p,
        &s,
        &q,
        (String::new(), String::new(), String::new()),
        None,
        Errors::default(),
    )
    .await
}

/// `POST /security/policies/validate`: the preview (checked against the schema, not
/// added).
pub async fn policy_validate(State(p): State<Arc<Platform>>, s: Signed, form: Form) -> Response {
    let typed = (form.text("id"), form.text("description"), form.text("text"));
    let req = PolicyText {
        text: typed.2.clone(),
    };
    match admin::validate_policy(State(Arc::clone(&p)), s.caller.clone(), ApiJson(req)).await {
        Ok(v) => {
            let v = v.0;
            policies_page(
                &p,
                &s,
                &HashMap::new(),
                typed,
                Some((v.valid, v.policies, v.problems)),
                Errors::default(),
            )
            .await
        }
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, POLICIES_HREF, "访问策略", e),
        Err(e) => {
            policies_page(
                &p,
                &s,
                &HashMap::new(),
                typed,
                None,
                Errors::one("text", e.message),
            )
            .await
        }
    }
}

/// `POST /security/policies`: adds a policy (validated again by the handler).
pub async fn policy_create(State(p): State<Arc<Platform>>, s: Signed, form: Form) -> Response {
    let typed = (form.text("id"), form.text("description"), form.text("text"));
    let req = NewPolicy {
        id: typed.0.clone(),
        text: typed.2.clone(),
        description: typed.1.clone(),
    };
    match admin::create_policy(State(Arc::clone(&p)), s.caller.clone(), ApiJson(req)).await {
        Ok(_) => done(POLICIES_HREF, &format!("策略 {} 已生效。", typed.0)),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, POLICIES_HREF, "访问策略", e),
        Err(e) => {
            let field = match e.code {
                "duplicate_policy" => "id",
                "invalid_input" if e.message.starts_with("id ") => "id",
                _ => "text",
            };
            policies_page(
                &p,
                &s,
                &HashMap::new(),
                typed,
                None,
                Errors::one(field, e.message),
            )
            .await
        }
    }
}

/// `POST /security/policies/{id}/delete`.
pub async fn policy_delete(
    State(p): State<Arc<Platform>>,
    s: Signed,
    Path(id): Path<String>,
    _form: Form,
) -> Response {
    match admin::delete_policy(State(Arc::clone(&p)), s.caller.clone(), ApiPath(id.clone())).await {
        Ok(_) => done(POLICIES_HREF, &format!("策略 {id} 已删除。")),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, POLICIES_HREF, "访问策略", e),
        Err(e) => {
            policies_page(
                &p,
                &s,
                &HashMap::new(),
                (String::new(), String::new(), String::new()),
                None,
                Errors::one("_", e.message),
            )
            .await
        }
    }
}
