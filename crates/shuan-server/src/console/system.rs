//! The system administrator's pages: 部门管理 (a tree table), 用户管理 (a new account's
//! one-time password shown once), 在线用户 with 强退. Each reads and changes through the
//! API's handlers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use shuan_policy::Action;

use super::view::{date, date_time};
use super::{csv, done, error_page_in, may, notice, render, Form, Frame, Signed};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::routes::identity::{
    self, DepartmentPatch, DepartmentView, NewDepartment, NewUser, UserPatch, UserQuery, UserView,
};

/// A page's query string.
pub type Params = Query<HashMap<String, String>>;

/// The field an input error is about: the handlers' messages start with the field's
/// name (`code 只能包含…`); `None` when it is about the form as a whole.
pub fn field_of(e: &ApiError, fields: &[&'static str]) -> Option<&'static str> {
    fields
        .iter()
        .find(|f| e.message.starts_with(&format!("{f} ")))
        .copied()
}

/// Errors of a form, by field; `_` for the form as a whole.
#[derive(Default)]
pub struct Errors(pub BTreeMap<&'static str, String>);

impl Errors {
    /// The error beside `field`.
    pub fn get(&self, field: &str) -> Option<&String> {
        self.0.get(field)
    }

    /// Whether `field` has an error.
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// The error of an answer, beside its field (or above the form).
    pub fn from_api(e: &ApiError, fields: &[&'static str]) -> Errors {
        let mut m = BTreeMap::new();
        m.insert(field_of(e, fields).unwrap_or("_"), e.message.clone());
        Errors(m)
    }

    /// One error beside `field`.
    pub fn one(field: &'static str, message: impl Into<String>) -> Errors {
        let mut m = BTreeMap::new();
        m.insert(field, message.into());
        Errors(m)
    }
}

// ---- 部门管理 ----

/// A department in the tree table.
pub struct DeptRow {
    code: String,
    name: String,
    parent: String,
    depth: usize,
    created: String,
}

impl DeptRow {
    /// Indentation of the name, in em.
    pub fn indent(&self) -> String {
        format!("tree-d{}", self.depth.min(8))
    }
}

/// Departments in tree order (each after its parent), with their depth. A department
/// whose parent is missing or in a cycle is shown at the top level, never lost.
fn tree_rows(all: &[DepartmentView]) -> Vec<DeptRow> {
    let codes: std::collections::BTreeSet<&str> = all.iter().map(|d| d.code.as_str()).collect();
    let mut children: BTreeMap<Option<&str>, Vec<&DepartmentView>> = BTreeMap::new();
    for d in all {
        let parent = d
            .parent
            .as_deref()
            .filter(|p| codes.contains(p) && *p != d.code);
        children.entry(parent).or_default().push(d);
    }
    for v in children.values_mut() {
        v.sort_by(|a, b| a.code.cmp(&b.code));
    }
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    fn walk<'a>(
        node: Option<&'a str>,
        depth: usize,
        children: &BTreeMap<Option<&'a str>, Vec<&'a DepartmentView>>,
        seen: &mut std::collections::BTreeSet<&'a str>,
        out: &mut Vec<DeptRow>,
    ) {
        for d in children.get(&node).map(Vec::as_slice).unwrap_or_default() {
            if !seen.insert(d.code.as_str()) || depth > 64 {
                continue;
            }
            out.push(DeptRow {
                code: d.code.clone(),
                name: d.name.clone(),
                parent: d.parent.clone().unwrap_or_default(),
                depth,
                created: date(d.created_at),
            });
            walk(Some(d.code.as_str()), depth + 1, children, seen, out);
        }
    }
    walk(None, 0, &children, &mut seen, &mut out);
    // Departments in a cycle have no root above them: list them at the top level.
    for d in all {
        if !seen.contains(d.code.as_str()) {
            seen.insert(d.code.as_str());
            out.push(DeptRow {
                code: d.code.clone(),
                name: d.name.clone(),
                parent: d.parent.clone().unwrap_or_default(),
                depth: 0,
                created: date(d.created_at),
            });
        }
    }
    out
}

#[derive(Template)]
#[template(path = "departments.html")]
struct DepartmentsPage {
    frame: Frame,
    rows: Vec<DeptRow>,
    query: String,
    /// The form shown: `new` or the code being changed.
    editing: Option<String>,
    form_code: String,
    form_name: String,
    form_parent: String,
    errors: Errors,
    can_create: bool,
    can_update: bool,
    can_delete: bool,
}

const DEPT_HREF: &str = "/system/departments";

async fn departments_page(
    p: &Arc<crate::state::Platform>,
    s: &Signed,
    q: &HashMap<String, String>,
    form: Option<(Option<String>, String, String, String)>,
    errors: Errors,
) -> Response {
    let all = match identity::list_departments(State(Arc::clone(p)), s.caller.clone()).await {
        Ok(a) => a.0,
        Err(e) => return error_page_in(p, s, DEPT_HREF, "部门管理", e),
    };
    let query = q.get("name").cloned().unwrap_or_default();
    let mut rows = tree_rows(&all);
    if !query.is_empty() {
        rows.retain(|r| r.name.contains(query.as_str()) || r.code.contains(query.as_str()));
    }
    let (editing, form_code, form_name, form_parent) = match form {
        Some((editing, code, name, parent)) => (editing.or(Some("new".into())), code, name, parent),
        None => match (q.get("edit"), q.get("new")) {
            (Some(code), _) => {
                let d = all.iter().find(|d| &d.code == code);
                (
                    Some(code.clone()),
                    code.clone(),
                    d.map(|d| d.name.clone()).unwrap_or_default(),
                    d.and_then(|d| d.parent.clone()).unwrap_or_default(),
                )
            }
            (None, Some(parent)) => (
                Some("new".into()),
                String::new(),
                String::new(),
                parent.clone(),
            ),
            _ => (None, String::new(), String::new(), String::new()),
        },
    };
    let c = &s.caller;
    let page = DepartmentsPage {
        frame: Frame::new(p, s, DEPT_HREF, "部门管理").with_notice(notice(q)),
        rows,
        query,
        editing,
        form_code,
        form_name,
        form_parent,
        errors,
        can_create: may(p, c, Action::DepartmentCreate, "department"),
        can_update: may(p, c, Action::DepartmentUpdate, "department"),
        can_delete: may(p, c, Action::DepartmentDelete, "department"),
    };
    render(StatusCode::OK, &page)
}

/// `GET /system/departments`.
pub async fn departments(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    Query(q): Params,
) -> Response {
    departments_page(&p, &s, &q, None, Errors::default()).await
}

/// `POST /system/departments`: a new department.
pub async fn department_create(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    form: Form,
) -> Response {
    let parent = form.text("parent");
    let req = NewDepartment {
        code: form.text("code"),
        name: form.text("name"),
        parent: (!parent.is_empty()).then(|| parent.clone()),
    };
    let (code, name) = (req.code.clone(), req.name.clone());
    match identity::create_department(State(Arc::clone(&p)), s.caller.clone(), ApiJson(req)).await {
        Ok(_) => done(DEPT_HREF, &format!("已新增部门 {name}。")),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, DEPT_HREF, "部门管理", e),
        Err(e) => {
            let mut errors = Errors::from_api(&e, &["code", "name", "parent"]);
            if e.code == "exists" {
                errors = Errors::one("code", "机构代码已被使用。");
            }
            departments_page(
                &p,
                &s,
                &HashMap::new(),
                Some((None, code, name, parent)),
                errors,
            )
            .await
        }
    }
}

/// `POST /system/departments/{code}/update`: rename or move.
pub async fn department_update(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    Path(code): Path<String>,
    form: Form,
) -> Response {
    let parent = form.text("parent");
    let name = form.text("name");
    let patch = DepartmentPatch {
        name: Some(name.clone()),
        parent: Some((!parent.is_empty()).then(|| parent.clone())),
    };
    match identity::update_department(
        State(Arc::clone(&p)),
        s.caller.clone(),
        ApiPath(code.clone()),
        ApiJson(patch),
    )
    .await
    {
        Ok(_) => done(DEPT_HREF, &format!("已保存部门 {name}。")),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, DEPT_HREF, "部门管理", e),
        Err(e) => {
            let errors = Errors::from_api(&e, &["name", "parent"]);
            departments_page(
                &p,
                &s,
                &HashMap::new(),
                Some((Some(code.clone()), code, name, parent)),
                errors,
            )
            .await
        }
    }
}

/// `POST /system/departments/{code}/delete`.
pub async fn department_delete(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    Path(code): Path<String>,
    _form: Form,
) -> Response {
    match identity::delete_department(
        State(Arc::clone(&p)),
        s.caller.clone(),
        ApiPath(code.clone()),
    )
    .await
    {
        Ok(_) => done(DEPT_HREF, &format!("已删除部门 {code}。")),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, DEPT_HREF, "部门管理", e),
        Err(e) => {
            let errors = Errors::one("_", format!("部门 {code} 未删除：{}", e.message));
            departments_page(&p, &s, &HashMap::new(), None, errors).await
        }
    }
}

// ---- 用户管理 ----

/// An account in the table.
pub struct UserRow {
    username: String,
    display_name: String,
    department: String,
    roles: Vec<String>,
    state: &'static str,
    state_class: &'static str,
    disabled: bool,
    last_login: String,
    created: String,
}

fn user_row(u: &UserView, names: &HashMap<String, String>) -> UserRow {
    let (state, state_class) = if u.disabled {
        ("停用", "info")
    } else if u.must_change_password {
        ("待修改初始密码", "warning")
    } else {
        ("正常", "success")
    };
    UserRow {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        department: names
            .get(&u.department)
            .cloned()
            .unwrap_or_else(|| u.department.clone()),
        roles: u.roles.iter().map(|g| g.role_label.clone()).collect(),
        state,
        state_class,
        disabled: u.disabled,
        last_login: u
            .last_login_at
            .map(date_time)
            .unwrap_or_else(|| "从未登录".into()),
        created: date(u.created_at),
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    frame: Frame,
    rows: Vec<UserRow>,
    departments: Vec<DeptRow>,
    q_name: String,
    q_department: String,
    export_href: String,
    can_create: bool,
    can_update: bool,
    can_reset: bool,
    can_unlock: bool,
}

const USERS_HREF: &str = "/system/users";

async fn list_users_for(
    p: &Arc<crate::state::Platform>,
    s: &Signed,
    q: &HashMap<String, String>,
) -> Result<(Vec<UserView>, Vec<DepartmentView>), ApiError> {
    let department = q.get("department").filter(|d| !d.is_empty()).cloned();
    let users = identity::list_users(
        State(Arc::clone(p)),
        s.caller.clone(),
        ApiQuery(UserQuery { department }),
    )
    .await?
    .0;
    let departments = identity::list_departments(State(Arc::clone(p)), s.caller.clone())
        .await?
        .0;
    let name = q.get("name").map(String::as_str).unwrap_or_default();
    let users = users
        .into_iter()
        .filter(|u| name.is_empty() || u.username.contains(name) || u.display_name.contains(name))
        .collect();
    Ok((users, departments))
}

/// `GET /system/users`.
pub async fn users(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    Query(q): Params,
) -> Response {
    let (users, departments) = match list_users_for(&p, &s, &q).await {
        Ok(x) => x,
        Err(e) => return error_page_in(&p, &s, USERS_HREF, "用户管理", e),
    };
    let names: HashMap<String, String> = departments
        .iter()
        .map(|d| (d.code.clone(), d.name.clone()))
        .collect();
    let q_name = q.get("name").cloned().unwrap_or_default();
    let q_department = q.get("department").cloned().unwrap_or_default();
    let export_href = format!(
        "/system/users.csv?{}",
        serde_urlencoded::to_string([("name", &q_name), ("department", &q_department)])
            .unwrap_or_default()
    );
    let c = &s.caller;
    let page = UsersPage {
        frame: Frame::new(&p, &s, USERS_HREF, "用户管理").with_notice(notice(&q)),
        rows: users.iter().map(|u| user_row(u, &names)).collect(),
        departments: tree_rows(&departments),
        q_name,
        q_department,
        export_href,
        can_create: may(&p, c, Action::UserCreate, "user"),
        can_update: may(&p, c, Action::UserUpdate, "user"),
        can_reset: may(&p, c, Action::UserResetCredentials, "user"),
        can_unlock: may(&p, c, Action::UserUnlock, "user"),
    };
    render(StatusCode::OK, &page)
}

/// `GET /system/users.csv`: the same list as the page, as CSV (导出).
pub async fn users_csv(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    Query(q): Params,
) -> Response {
    let (users, departments) = match list_users_for(&p, &s, &q).await {
        Ok(x) => x,
        Err(e) => return error_page_in(&p, &s, USERS_HREF, "用户管理", e),
    };
    let names: HashMap<String, String> = departments
        .iter()
        .map(|d| (d.code.clone(), d.name.clone()))
        .collect();
    let rows = users
        .iter()
        .map(|u| {
            let r = user_row(u, &names);
            vec![
                r.username,
                r.display_name,
                r.department,
                r.roles.join("、"),
                r.state.to_string(),
                r.last_login,
                r.created,
            ]
        })
        .collect();
    csv(
        "users.csv",
        &[
            "账号",
            "姓名",
            "部门",
            "角色",
            "状态",
            "最近登录",
            "创建日期",
        ],
        rows,
    )
}

#[derive(Template)]
#[template(path = "user_form.html")]
struct UserFormPage {
    frame: Frame,
    /// `None`: a new account; else the account being changed.
    editing: Option<String>,
    username: String,
    display_name: String,
    department: String,
    vendor: bool,
    contract_end: String,
    departments: Vec<DeptRow>,
    errors: Errors,
}

const USER_FIELDS: &[&str] = &["username", "display_name", "department", "contract_end"];

async fn user_form(
    p: &Arc<crate::state::Platform>,
    s: &Signed,
    mut page: UserFormPage,
) -> Response {
    match identity::list_departments(State(Arc::clone(p)), s.caller.clone()).await {
        Ok(d) => page.departments = tree_rows(&d.0),
        Err(e) => return error_page_in(p, s, USERS_HREF, "用户管理", e),
    }
    render(StatusCode::OK, &page)
}

fn blank_user_form(p: &crate::state::Platform, s: &Signed, title: &str) -> UserFormPage {
    UserFormPage {
        frame: Frame::new(p, s, USERS_HREF, title),
        editing: None,
        username: String::new(),
        display_name: String::new(),
        department: String::new(),
        vendor: false,
        contract_end: String::new(),
        departments: Vec::new(),
        errors: Errors::default(),
    }
}

/// `GET /system/users/new`.
pub async fn user_new(State(p): State<Arc<crate::state::Platform>>, s: Signed) -> Response {
    if !may(&p, &s.caller, Action::UserCreate, "user") {
        // Asked anyway: the handler's answer (recorded) says why.
        let e = p
            .authorize(
                &s.caller,
                Action::UserCreate,
                &crate::auth::resource("user", "", None, None),
                serde_json::Map::new(),
            )
            .await
            .err()
            .unwrap_or_else(|| ApiError::new("forbidden", "没有权限"));
        return error_page_in(&p, &s, USERS_HREF, "新增用户", e);
    }
    let page = blank_user_form(&p, &s, "新增用户");
    user_form(&p, &s, page).await
}

#[derive(Template)]
#[template(path = "one_time.html")]
struct OneTimePage {
    frame: Frame,
    heading: String,
    username: String,
    password: String,
}

/// `POST /system/users`: a new account; its one-time password is shown on this answer
/// only (not cached, never logged).
pub async fn user_create(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    form: Form,
) -> Response {
    let contract_end = form.text("contract_end");
    let req = NewUser {
        username: form.text("username"),
        display_name: form.text("display_name"),
        department: form.text("department"),
        vendor: form.get("vendor") == Some("on"),
        contract_end: (!contract_end.is_empty()).then(|| contract_end.clone()),
    };
    let mut page = blank_user_form(&p, &s, "新增用户");
    page.username = req.username.clone();
    page.display_name = req.display_name.clone();
    page.department = req.department.clone();
    page.vendor = req.vendor;
    page.contract_end = contract_end;
    match identity::create_user(State(Arc::clone(&p)), s.caller.clone(), ApiJson(req)).await {
        Ok((_, created)) => render(
            StatusCode::OK,
            &OneTimePage {
                frame: Frame::new(&p, &s, USERS_HREF, "新增用户"),
                heading: format!("账号 {} 已创建", created.0.user.username),
                username: created.0.user.username.clone(),
                password: created.0.one_time_password.clone(),
            },
        ),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, USERS_HREF, "新增用户", e),
        Err(e) => {
            page.errors = if e.code == "exists" {
                Errors::one("username", "账号已存在。")
            } else if e.code == "not_found" {
                Errors::one("department", "部门不存在。")
            } else {
                Errors::from_api(&e, USER_FIELDS)
            };
            user_form(&p, &s, page).await
        }
    }
}

/// `GET /system/users/{username}`: the change form (reads the account like the API).
pub async fn user_edit(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    Path(username): Path<String>,
) -> Response {
    let u = match identity::get_user(State(Arc::clone(&p)), s.caller.clone(), ApiPath(username))
        .await
    {
        Ok(u) => u.0,
        Err(e) => return error_page_in(&p, &s, USERS_HREF, "修改用户", e),
    };
    let mut page = blank_user_form(&p, &s, "修改用户");
    page.editing = Some(u.username.clone());
    page.username = u.username;
    page.display_name = u.display_name;
    page.department = u.department;
    page.vendor = u.vendor;
    page.contract_end = u.contract_end.unwrap_or_default();
    user_form(&p, &s, page).await
}

/// `POST /system/users/{username}`: save the change form.
pub async fn user_update(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    Path(username): Path<String>,
    form: Form,
) -> Response {
    let contract_end = form.text("contract_end");
    let patch = UserPatch {
        display_name: Some(form.text("display_name")),
        department: Some(form.text("department")),
        disabled: None,
        contract_end: (!contract_end.is_empty()).then(|| contract_end.clone()),
    };
    let mut page = blank_user_form(&p, &s, "修改用户");
    page.editing = Some(username.clone());
    page.username = username.clone();
    page.display_name = form.text("display_name");
    page.department = form.text("department");
    page.contract_end = contract_end;
    match identity::update_user(
        State(Arc::clone(&p)),
        s.caller.clone(),
        ApiPath(username.clone()),
        ApiJson(patch),
    )
    .await
    {
        Ok(_) => done(USERS_HREF, &format!("已保存账号 {username}。")),
        Err(e) if e.code == "forbidden" => error_page_in(&p, &s, USERS_HREF, "修改用户", e),
        Err(e) => {
            page.errors = Errors::from_api(&e, USER_FIELDS);
            user_form(&p, &s, page).await
        }
    }
}

/// `POST /system/users/{username}/state`: 停用 (ends its sessions) or 启用. Accounts are
/// never deleted: their audit records name them.
pub async fn user_set_state(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    Path(username): Path<String>,
    form: Form,
) -> Response {
    let disable = form.get("disabled") == Some("true");
    let patch = UserPatch {
        display_name: None,
        department: None,
        disabled: Some(disable),
        contract_end: None,
    };
    match identity::update_user(
        State(Arc::clone(&p)),
        s.caller.clone(),
        ApiPath(username.clone()),
        ApiJson(patch),
    )
    .await
    {
        Ok(_) => done(
            USERS_HREF,
            &if disable {
                format!("已停用账号 {username}，其会话已结束。")
            } else {
                format!("已启用账号 {username}。")
            },
        ),
        Err(e) => error_page_in(&p, &s, USERS_HREF, "用户管理", e),
    }
}

/// `POST /system/users/{username}/reset`: a new one-time password, shown once.
pub async fn user_reset(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    Path(username): Path<String>,
    _form: Form,
) -> Response {
    match identity::reset_user(
        State(Arc::clone(&p)),
        s.caller.clone(),
        ApiPath(username.clone()),
    )
    .await
    {
        Ok(r) => render(
            StatusCode::OK,
            &OneTimePage {
                frame: Frame::new(&p, &s, USERS_HREF, "重置密码"),
                heading: format!("账号 {username} 的密码已重置，动态口令已解除绑定"),
                username,
                password: r.0.one_time_password.clone(),
            },
        ),
        Err(e) => error_page_in(&p, &s, USERS_HREF, "重置密码", e),
    }
}

/// `POST /system/users/{username}/unlock`.
pub async fn user_unlock(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    Path(username): Path<String>,
    _form: Form,
) -> Response {
    match identity::unlock_user(
        State(Arc::clone(&p)),
        s.caller.clone(),
        ApiPath(username.clone()),
    )
    .await
    {
        Ok(_) => done(USERS_HREF, &format!("已解锁账号 {username}。")),
        Err(e) => error_page_in(&p, &s, USERS_HREF, "用户管理", e),
    }
}

// ---- 在线用户 ----

/// A live session in the table.
pub struct SessionRow {
    id: String,
    username: String,
    address: String,
    agent: String,
    created: String,
    last_seen: String,
    expires: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    frame: Frame,
    rows: Vec<SessionRow>,
    q_name: String,
    can_revoke: bool,
}

const SESSIONS_HREF: &str = "/system/sessions";

/// `GET /system/sessions`.
pub async fn sessions(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    Query(q): Params,
) -> Response {
    let list = match identity::list_sessions(State(Arc::clone(&p)), s.caller.clone()).await {
        Ok(l) => l.0,
        Err(e) => return error_page_in(&p, &s, SESSIONS_HREF, "在线用户", e),
    };
    let own = s.caller.session.as_ref().map(|x| x.id.clone());
    let q_name = q.get("name").cloned().unwrap_or_default();
    let rows = list
        .into_iter()
        .filter(|x| q_name.is_empty() || x.username.contains(q_name.as_str()))
        .map(|x| SessionRow {
            current: own.as_deref() == Some(x.id.as_str()),
            id: x.id,
            username: x.username,
            address: x.address,
            agent: x
                .user_agent
                .map(|a| a.chars().take(60).collect())
                .unwrap_or_default(),
            created: date_time(x.created_at),
            last_seen: date_time(x.last_seen_at),
            expires: date_time(x.expires_at),
        })
        .collect();
    let page = SessionsPage {
        frame: Frame::new(&p, &s, SESSIONS_HREF, "在线用户").with_notice(notice(&q)),
        rows,
        q_name,
        can_revoke: may(&p, &s.caller, Action::SessionRevoke, "session"),
    };
    render(StatusCode::OK, &page)
}

/// `POST /system/sessions/{id}/revoke`: 强退.
pub async fn session_revoke(
    State(p): State<Arc<crate::state::Platform>>,
    s: Signed,
    Path(id): Path<String>,
    _form: Form,
) -> Response {
    match identity::revoke_session(State(Arc::clone(&p)), s.caller.clone(), ApiPath(id.clone()))
        .await
    {
        Ok(_) => done(SESSIONS_HREF, &format!("会话 {id} 已强制下线。")),
        Err(e) => error_page_in(&p, &s, SESSIONS_HREF, "在线用户", e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(code: &str, parent: Option<&str>) -> DepartmentView {
        DepartmentView {
            code: code.into(),
            name: format!("{code}名"),
            parent: parent.map(Into::into),
            created_at: 0,
        }
    }

    #[test]
    fn tree_rows_put_children_under_parents_and_lose_nothing() {
        let all = vec![
            d("B1", Some("B")),
            d("A", None),
            d("B", Some("A")),
            d("C", Some("missing")),
            d("X", Some("Y")),
            d("Y", Some("X")),
            d("S", Some("S")),
        ];
        let rows = tree_rows(&all);
        let order: Vec<(&str, usize)> = rows.iter().map(|r| (r.code.as_str(), r.depth)).collect();
        assert_eq!(&order[..3], &[("A", 0), ("B", 1), ("B1", 2)]);
        assert_eq!(rows.len(), all.len());
        for code in ["C", "X", "Y", "S"] {
            assert!(rows.iter().any(|r| r.code == code), "{code} lost");
        }
    }

    #[test]
    fn field_of_reads_the_handlers_field_prefix() {
        let e = ApiError::invalid("code 只能包含字母");
        assert_eq!(field_of(&e, &["name", "code"]), Some("code"));
        let e = ApiError::invalid("codex 不对");
        assert_eq!(field_of(&e, &["code"]), None);
    }
}
