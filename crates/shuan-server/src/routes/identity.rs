//! Departments (部门管理), users (用户管理), role grants (角色与授权) and online sessions
//! (在线用户).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use shuan_access::{DataScope, Grant, Role};
use shuan_ledger::Outcome;
use shuan_policy::Action;
use shuan_store::platform::{Department, StoredGrant, User, UserUpdate};
use utoipa::{IntoParams, ToSchema};
use zeroize::Zeroizing;

use crate::act::missing;
use crate::auth::{resource, Caller};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::state::{now, Platform};

/// Checks a name-like field: 1..=max characters, no control characters.
pub(crate) fn check_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n == 0 || n > max || value.chars().any(char::is_control) || value.trim() != value {
        return Err(ApiError::invalid(format!(
            "{field} 须为 1–{max} 个字符，不含控制字符和首尾空格 ({field}: 1–{max} characters, no control characters or surrounding spaces)"
        )));
    }
    Ok(())
}

/// Checks prose (a summary, an evaluation, evidence): like [`check_text`], but line
/// breaks and tabs are allowed inside it.
pub(crate) fn check_prose(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    let control = value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    if n == 0 || n > max || control || value.trim() != value {
        return Err(ApiError::invalid(format!(
            "{field} 须为 1–{max} 个字符，不含控制字符（换行除外）和首尾空白 ({field}: 1–{max} characters, no control characters other than line breaks, no surrounding blanks)"
        )));
    }
    Ok(())
}

/// Checks a time that must already have come (Unix seconds, positive, at most five
/// minutes ahead of the platform's clock for a client's clock drift).
pub(crate) fn check_past(field: &str, at: i64, now: i64) -> Result<(), ApiError> {
    if at <= 0 || at > now + 300 {
        return Err(ApiError::invalid(format!(
            "{field} 须为已发生的时间（Unix 秒，不晚于现在） ({field}: Unix seconds, not in the future)"
        )));
    }
    Ok(())
}

/// The label of `id` in a table of (id, label) pairs; empty for an id not in it.
pub(crate) fn label_of(table: &[(&str, &'static str)], id: &str) -> &'static str {
    table.iter().find(|(k, _)| *k == id).map_or("", |(_, l)| l)
}

/// Names the platform signs its own work with (a destruction of expired temporary data,
/// a scheduled run); no account may take one.
pub(crate) const RESERVED_NAMES: &[&str] = &["system", "scheduler"];

/// Checks an identifier (机构代码, account name, policy id): ASCII letters, digits, `_ . -`,
/// starting with a letter or digit, at most 64.
pub(crate) fn check_id(field: &str, value: &str) -> Result<(), ApiError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.as_bytes()[0].is_ascii_alphanumeric()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !ok {
        return Err(ApiError::invalid(format!(
            "{field} 只能包含字母、数字和 _ . -，以字母或数字开头，最长 64 ({field}: letters, digits, _ . -, starting with a letter or digit, at most 64)"
        )));
    }
    Ok(())
}

// ---- departments ----

/// A department in answers.
#[derive(Serialize, ToSchema)]
pub struct DepartmentView {
    /// 机构代码.
    pub code: String,
    /// 名称.
    pub name: String,
    /// Parent's code.
    pub parent: Option<String>,
    /// Created (Unix seconds).
    pub created_at: i64,
}

impl From<Department> for DepartmentView {
    fn from(d: Department) -> Self {
        DepartmentView {
            code: d.code,
            name: d.name,
            parent: d.parent,
            created_at: d.created_at,
        }
    }
}

/// `POST /api/v1/departments`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDepartment {
    /// 机构代码 (letters, digits, `_ . -`).
    pub code: String,
    /// 名称.
    pub name: String,
    /// Parent's code.
    #[serde(default)]
    pub parent: Option<String>,
}

/// `PATCH /api/v1/departments/{code}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentPatch {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New parent (`null` makes it a root).
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub parent: Option<Option<String>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// Lists departments.
#[utoipa::path(get, path = "/api/v1/departments", tag = "departments",
    responses((status = 200, body = Vec<DepartmentView>), (status = "default", body = ErrorBody)))]
pub async fn list_departments(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<DepartmentView>>> {
    let all = p
        .act(
            &c,
            Action::DepartmentRead,
            &resource("department", "", None, None),
            Map::new(),
            |s| s.departments(),
        )
        .await?;
    Ok(axum::Json(all.into_iter().map(Into::into).collect()))
}

/// Adds a department.
#[utoipa::path(post, path = "/api/v1/departments", tag = "departments", request_body = NewDepartment,
    responses((status = 201, body = DepartmentView), (status = "default", body = ErrorBody)))]
pub async fn create_department(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewDepartment>,
) -> ApiResult<(StatusCode, axum::Json<DepartmentView>)> {
    check_id("code", &req.code)?;
    check_text("name", &req.name, 64)?;
    if let Some(parent) = &req.parent {
        check_id("parent", parent)?;
    }
    let r = resource("department", &req.code, req.parent.as_deref(), None);
    let mut details = Map::new();
    details.insert("name".into(), json!(req.name));
    let d = Department {
        code: req.code,
        name: req.name,
        parent: req.parent,
        created_at: now(),
    };
    let d2 = d.clone();
    p.act(&c, Action::DepartmentCreate, &r, details, move |s| {
        s.create_department(&d2)
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(d.into())))
}

/// Renames or moves a department.
#[utoipa::path(patch, path = "/api/v1/departments/{code}", tag = "departments", request_body = DepartmentPatch,
    params(("code" = String, Path, description = "机构代码")),
    responses((status = 200, body = DepartmentView), (status = "default", body = ErrorBody)))]
pub async fn update_department(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(code): ApiPath<String>,
    ApiJson(req): ApiJson<DepartmentPatch>,
) -> ApiResult<axum::Json<DepartmentView>> {
    if let Some(name) = &req.name {
        check_text("name", name, 64)?;
    }
    if let Some(Some(parent)) = &req.parent {
        check_id("parent", parent)?;
    }
    let r = resource("department", &code, Some(&code), None);
    let d = p
        .act(&c, Action::DepartmentUpdate, &r, Map::new(), move |s| {
            s.update_department(
                &code,
                req.name.as_deref(),
                req.parent.as_ref().map(|o| o.as_deref()),
            )
        })
        .await?;
    Ok(axum::Json(d.into()))
}

/// Deletes a department with no sub-departments, members, grants or keys.
#[utoipa::path(delete, path = "/api/v1/departments/{code}", tag = "departments",
    params(("code" = String, Path, description = "机构代码")),
    responses((status = 204), (status = "default", body = ErrorBody)))]
pub async fn delete_department(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let r = resource("department", &code, Some(&code), None);
    p.act(&c, Action::DepartmentDelete, &r, Map::new(), move |s| {
        s.delete_department(&code)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- users ----

/// A data scope (数据范围) in requests and answers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum ScopeBody {
    /// 全部数据.
    All,
    /// 自定数据.
    Chosen {
        /// 机构代码 of the departments.
        departments: Vec<String>,
    },
    /// 本部门数据.
    OwnDepartment,
    /// 本部门及以下数据.
    OwnDepartmentAndBelow,
    /// 仅本人数据.
    SelfOnly,
}

impl From<&DataScope> for ScopeBody {
    fn from(s: &DataScope) -> Self {
        match s {
            DataScope::All => ScopeBody::All,
            DataScope::Chosen(d) => ScopeBody::Chosen {
                departments: d.iter().cloned().collect(),
            },
            DataScope::OwnDepartment => ScopeBody::OwnDepartment,
            DataScope::OwnDepartmentAndBelow => ScopeBody::OwnDepartmentAndBelow,
            DataScope::SelfOnly => ScopeBody::SelfOnly,
        }
    }
}

impl ScopeBody {
    /// The scope, its chosen departments checked to exist.
    pub(crate) async fn resolve(self, p: &Platform) -> Result<DataScope, ApiError> {
        Ok(match self {
            ScopeBody::All => DataScope::All,
            ScopeBody::OwnDepartment => DataScope::OwnDepartment,
            ScopeBody::OwnDepartmentAndBelow => DataScope::OwnDepartmentAndBelow,
            ScopeBody::SelfOnly => DataScope::SelfOnly,
            ScopeBody::Chosen { departments } => {
                let known: BTreeSet<String> = p
                    .db(|s| s.departments())
                    .await?
                    .into_iter()
                    .map(|d| d.code)
                    .collect();
                if departments.is_empty() || departments.len() > 1000 {
                    return Err(ApiError::new("invalid_scope", "自定数据范围须列出 1–1000 个部门 (a chosen scope names 1–1000 departments)"));
                }
                if let Some(unknown) = departments.iter().find(|d| !known.contains(*d)) {
                    return Err(ApiError::new(
                        "invalid_scope",
                        format!(
                            "数据范围中的部门 {unknown} 不存在 (unknown department in the scope)"
                        ),
                    ));
                }
                DataScope::Chosen(departments.into_iter().collect())
            }
        })
    }
}

/// A role grant in answers.
#[derive(Serialize, ToSchema)]
pub struct GrantView {
    /// Grant id.
    pub id: i64,
    /// Role id (`system_admin` …).
    pub role: String,
    /// Role label (系统管理员 …).
    pub role_label: String,
    /// Department code.
    pub department: String,
    /// Data scope.
    pub scope: ScopeBody,
    /// Who granted it.
    pub granted_by: String,
    /// When.
    pub granted_at: i64,
}

impl From<&StoredGrant> for GrantView {
    fn from(g: &StoredGrant) -> Self {
        GrantView {
            id: g.id,
            role: g.grant.role.id().into(),
            role_label: g.grant.role.label().into(),
            department: g.grant.department.clone(),
            scope: (&g.grant.scope).into(),
            granted_by: g.granted_by.clone(),
            granted_at: g.granted_at,
        }
    }
}

/// An account in answers (never a hash or a seed).
#[derive(Serialize, ToSchema)]
pub struct UserView {
    /// Account name.
    pub username: String,
    /// 姓名.
    pub display_name: String,
    /// Department code.
    pub department: String,
    /// A vendor's account.
    pub vendor: bool,
    /// Vendor contract end.
    pub contract_end: Option<String>,
    /// Still on its one-time password.
    pub must_change_password: bool,
    /// TOTP confirmed.
    pub totp_enrolled: bool,
    /// Disabled.
    pub disabled: bool,
    /// Created.
    pub created_at: i64,
    /// Last sign-in.
    pub last_login_at: Option<i64>,
    /// Role grants.
    pub roles: Vec<GrantView>,
}

pub(crate) fn user_view(u: &User, grants: &[StoredGrant]) -> UserView {
    UserView {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        department: u.department.clone(),
        vendor: u.vendor,
        contract_end: u.contract_end.clone(),
        must_change_password: u.must_change_password,
        totp_enrolled: u.totp.as_ref().is_some_and(|t| t.confirmed),
        disabled: u.disabled,
        created_at: u.created_at,
        last_login_at: u.last_login_at,
        roles: grants.iter().map(Into::into).collect(),
    }
}

/// `POST /api/v1/users`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Account name (letters, digits, `_ . -`).
    pub username: String,
    /// 姓名.
    pub display_name: String,
    /// Department code.
    pub department: String,
    /// A vendor's account (供应商).
    #[serde(default)]
    pub vendor: bool,
    /// For vendors: contract end, `YYYY-MM-DD`.
    #[serde(default)]
    pub contract_end: Option<String>,
}

/// A new account and its one-time password, shown once.
#[derive(Serialize, ToSchema)]
pub struct CreatedUser {
    /// The account.
    pub user: UserView,
    /// One-time password: allows only changing it (and enrolling TOTP).
    pub one_time_password: String,
}

/// `PATCH /api/v1/users/{username}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New 姓名.
    #[serde(default)]
    pub display_name: Option<String>,
    /// New department.
    #[serde(default)]
    pub department: Option<String>,
    /// Disable (ends its sessions) or enable.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// New contract end (`YYYY-MM-DD`).
    #[serde(default)]
    pub contract_end: Option<String>,
}

pub(crate) fn check_date(field: &str, v: &str) -> Result<(), ApiError> {
    let b = v.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&v[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&v[8..10].parse::<u32>().unwrap_or(0));
    if !ok {
        return Err(ApiError::invalid(format!(
            "{field} 须为 YYYY-MM-DD ({field}: a date YYYY-MM-DD)"
        )));
    }
    Ok(())
}

/// Query of `GET /api/v1/users`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Only this department.
    pub department: Option<String>,
}

/// Lists the accounts the caller may see.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery),
    responses((status = 200, body = Vec<UserView>), (status = "default", body = ErrorBody)))]
pub async fn list_users(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> ApiResult<axum::Json<Vec<UserView>>> {
    let (users, grants) = p
        .act(
            &c,
            Action::UserRead,
            &resource("user", "", q.department.as_deref(), None),
            Map::new(),
            |s| Ok((s.users()?, s.all_grants()?)),
        )
        .await?;
    let tree = p.tree_for(&c).await?;
    let out = users
        .iter()
        .filter(|u| q.department.as_ref().is_none_or(|d| &u.department == d))
        .filter(|u| {
            p.allows(
                &c,
                Action::UserRead,
                &resource("user", &u.username, Some(&u.department), Some(&u.username)),
                &tree,
            )
        })
        .map(|u| {
            let g: Vec<StoredGrant> = grants
                .iter()
                .filter(|g| g.username == u.username)
                .cloned()
                .collect();
            user_view(u, &g)
        })
        .collect();
    Ok(axum::Json(out))
}

/// Creates an account with a one-time password (shown once).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = CreatedUser), (status = "default", body = ErrorBody)))]
pub async fn create_user(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, axum::Json<CreatedUser>)> {
    check_id("username", &req.username)?;
    if RESERVED_NAMES.contains(&req.username.as_str()) {
        return Err(ApiError::invalid(format!(
            "username：{} 是平台保留的名称（平台自动发起的操作以此署名） (reserved: the platform signs its own requests with it)",
            req.username
        )));
    }
    check_text("display_name", &req.display_name, 64)?;
    check_id("department", &req.department)?;
    if let Some(d) = &req.contract_end {
        check_date("contract_end", d)?;
    }
    let r = resource(
        "user",
        &req.username,
        Some(&req.department),
        Some(&req.username),
    );
    let mut details = Map::new();
    details.insert("department".into(), json!(req.department));
    details.insert("vendor".into(), json!(req.vendor));
    let (user, otp) = p
        .act_then(&c, Action::UserCreate, &r, details, || async {
            let (otp, hash) = one_time_password().await?;
            let now = now();
            let user = User {
                username: req.username,
                display_name: req.display_name,
                department: req.department,
                vendor: req.vendor,
                contract_end: req.contract_end,
                password_hash: hash,
                password_changed_at: now,
                must_change_password: true,
                totp: None,
                disabled: false,
                created_at: now,
                last_login_at: None,
            };
            let u2 = user.clone();
            p.db(move |s| s.create_user(&u2)).await?;
            Ok((user, otp))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedUser {
            user: user_view(&user, &[]),
            one_time_password: otp.to_string(),
        }),
    ))
}

/// One account; `me` (or the caller's own name) is the caller's own profile.
#[utoipa::path(get, path = "/api/v1/users/{username}", tag = "users",
    params(("username" = String, Path, description = "account name, or `me`")),
    responses((status = 200, body = UserView), (status = "default", body = ErrorBody)))]
pub async fn get_user(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<axum::Json<UserView>> {
    let me = username == "me" || username == c.name();
    let name = if username == "me" {
        c.name().to_string()
    } else {
        username
    };
    if me {
        // Everyone may read their own profile; it is still recorded. The account and its
        // grants were read with the session for this very request, so they are shown
        // from there rather than read again. (An API key has none: its name is no
        // account's, and it is answered as a missing account after the record.)
        let object = format!("user:{name}");
        p.record(
            &c.actor,
            "user.read_self",
            &object,
            Outcome::Allowed,
            &c.meta,
            Map::new(),
        )
        .await?;
        let Some(user) = c.user.as_ref() else {
            let e = ApiError::not_found("user", &name);
            p.record_error(&c.actor, &c.meta, "user.read_self", &object, &e)
                .await;
            return Err(e);
        };
        return Ok(axum::Json(user_view(user, &c.grants)));
    }
    let n2 = name.clone();
    let (user, grants) = p.db(move |s| Ok((s.user(&n2)?, s.grants(&n2)?))).await?;
    let r = resource(
        "user",
        &name,
        user.as_ref().map(|u| u.department.as_str()),
        Some(&name),
    );
    p.act_then(&c, Action::UserRead, &r, Map::new(), || async {
        let user = user.ok_or_else(|| ApiError::not_found("user", &name))?;
        Ok(axum::Json(user_view(&user, &grants)))
    })
    .await
}

/// The account, or the store's 404 (inside a store call).
fn require_user(
    s: &dyn shuan_store::platform::PlatformStore,
    name: &str,
) -> Result<User, shuan_store::platform::PlatformStoreError> {
    s.user(name)?.ok_or_else(|| missing("user", name))
}

/// The department of an account, for the resource the policy is asked about. A missing
/// account is asked about without one (the role alone decides), and the store call then
/// answers 404 — recorded as the action's `error`.
async fn user_department(p: &Platform, name: &str) -> Result<Option<String>, ApiError> {
    let n = name.to_string();
    Ok(p.db(move |s| s.user(&n)).await?.map(|u| u.department))
}

/// A new one-time password and its argon2id hash.
async fn one_time_password() -> Result<(Zeroizing<String>, String), ApiError> {
    let otp = shuan_auth::one_time_password().map_err(ApiError::internal)?;
    let otp2 = otp.clone();
    let hash = tokio::task::spawn_blocking(move || shuan_auth::hash_password(&otp2))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok((otp, hash))
}

/// Changes an account's name, department or state; disabling ends its sessions.
#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "users", request_body = UserPatch,
    params(("username" = String, Path, description = "account name")),
    responses((status = 200, body = UserView), (status = "default", body = ErrorBody)))]
pub async fn update_user(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(username): ApiPath<String>,
    ApiJson(req): ApiJson<UserPatch>,
) -> ApiResult<axum::Json<UserView>> {
    if let Some(n) = &req.display_name {
        check_text("display_name", n, 64)?;
    }
    if let Some(d) = &req.department {
        check_id("department", d)?;
    }
    if let Some(d) = &req.contract_end {
        check_date("contract_end", d)?;
    }
    let department = user_department(&p, &username).await?;
    let r = resource("user", &username, department.as_deref(), Some(&username));
    // Moving an account into a department needs the right there too: asked second, and
    // the change is made under that answer.
    let r = match &req.department {
        Some(d) => {
            p.authorize(&c, Action::UserUpdate, &r, Map::new()).await?;
            resource("user", &username, Some(d), Some(&username))
        }
        None => r,
    };
    let update = UserUpdate {
        display_name: req.display_name,
        department: req.department,
        disabled: req.disabled,
        contract_end: req.contract_end.map(Some),
    };
    let (u, g) = p
        .act(&c, Action::UserUpdate, &r, Map::new(), move |s| {
            let updated = s.update_user(&username, &update)?;
            if update.disabled == Some(true) {
                s.delete_sessions_of(&username)?;
            }
            Ok((updated, s.grants(&username)?))
        })
        .await?;
    Ok(axum::Json(user_view(&u, &g)))
}

/// Unlocks an account locked by failed sign-ins.
#[utoipa::path(post, path = "/api/v1/users/{username}/unlock", tag = "users",
    params(("username" = String, Path, description = "account name")),
    responses((status = 204), (status = "default", body = ErrorBody)))]
pub async fn unlock_user(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let department = user_department(&p, &username).await?;
    let r = resource("user", &username, department.as_deref(), Some(&username));
    p.act(&c, Action::UserUnlock, &r, Map::new(), move |s| {
        require_user(s, &username)?;
        s.clear_failures_for_user(&username)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new one-time password (shown once).
#[derive(Serialize, ToSchema)]
pub struct ResetCredentials {
    /// One-time password.
    pub one_time_password: String,
}

/// Resets an account's password to a new one-time password and removes its TOTP; its
/// sessions end.
#[utoipa::path(post, path = "/api/v1/users/{username}/reset", tag = "users",
    params(("username" = String, Path, description = "account name")),
    responses((status = 200, body = ResetCredentials), (status = "default", body = ErrorBody)))]
pub async fn reset_user(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<axum::Json<ResetCredentials>> {
    if username == c.name() {
        return Err(p
            .refuse_caller(
                &c,
                Action::UserResetCredentials,
                &format!("user:{username}"),
                "no_self_reset",
                Map::new(),
                ApiError::new(
                    "forbidden",
                    "没有权限：不能重置自己的凭据 (nobody resets their own credentials)",
                ),
            )
            .await);
    }
    let department = user_department(&p, &username).await?;
    let r = resource("user", &username, department.as_deref(), Some(&username));
    let otp = p
        .act_then(&c, Action::UserResetCredentials, &r, Map::new(), || async {
            let (otp, hash) = one_time_password().await?;
            let keep = crate::routes::session::password_setting(&p).await?.history;
            let now = now();
            p.db(move |s| {
                s.set_password(&username, &hash, true, now, keep)?;
                s.clear_totp(&username)?;
                s.clear_failures_for_user(&username)?;
                s.delete_sessions_of(&username)?;
                Ok(())
            })
            .await?;
            Ok(otp)
        })
        .await?;
    Ok(axum::Json(ResetCredentials {
        one_time_password: otp.to_string(),
    }))
}

// ---- grants ----

/// `POST /api/v1/users/{username}/roles`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    /// Role id: system_admin, security_admin, auditor, chief_data_officer, data_steward,
    /// data_user, vendor_operator, supervisor.
    pub role: String,
    /// Department code the grant is made in.
    pub department: String,
    /// Data scope.
    pub scope: ScopeBody,
}

/// An account's role grants.
#[utoipa::path(get, path = "/api/v1/users/{username}/roles", tag = "grants",
    params(("username" = String, Path, description = "account name")),
    responses((status = 200, body = Vec<GrantView>), (status = "default", body = ErrorBody)))]
pub async fn list_grants(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<axum::Json<Vec<GrantView>>> {
    let department = user_department(&p, &username).await?;
    let r = resource("grant", &username, department.as_deref(), Some(&username));
    let grants = p
        .act(&c, Action::GrantRead, &r, Map::new(), move |s| {
            require_user(s, &username)?;
            s.grants(&username)
        })
        .await?;
    Ok(axum::Json(grants.iter().map(Into::into).collect()))
}

/// Grants a role; separation of duties is checked here (409 `separation_of_duties`).
#[utoipa::path(post, path = "/api/v1/users/{username}/roles", tag = "grants", request_body = NewGrant,
    params(("username" = String, Path, description = "account name")),
    responses((status = 201, body = GrantView), (status = "default", body = ErrorBody)))]
pub async fn create_grant(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(username): ApiPath<String>,
    ApiJson(req): ApiJson<NewGrant>,
) -> ApiResult<(StatusCode, axum::Json<GrantView>)> {
    let role = Role::from_id(&req.role).ok_or_else(|| {
        ApiError::invalid(format!(
            "未知角色 {} (unknown role; one of: {})",
            req.role.chars().take(64).collect::<String>(),
            Role::ALL
                .iter()
                .map(|r| r.id())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    check_id("department", &req.department)?;
    let scope = req.scope.resolve(&p).await?;
    let grant = Grant {
        role,
        department: req.department.clone(),
        scope,
    };
    let r = resource("grant", &username, Some(&req.department), Some(&username));
    let mut details = Map::new();
    details.insert("role".into(), json!(role.id()));
    details.insert("department".into(), json!(req.department));
    details.insert(
        "scope".into(),
        serde_json::to_value(&grant.scope).unwrap_or_default(),
    );
    if username == c.name() {
        return Err(p
            .refuse_caller(
                &c,
                Action::GrantCreate,
                &format!("grant:{username}"),
                "no_self_grant",
                details,
                ApiError::new(
                    "forbidden",
                    "没有权限：不能给自己授权 (nobody grants roles to themselves)",
                ),
            )
            .await);
    }
    let by = c.name().to_string();
    let stored = p
        .act(&c, Action::GrantCreate, &r, details, move |s| {
            s.add_grant(&username, &grant, &by, now())
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json((&stored).into())))
}

/// Removes a grant.
#[utoipa::path(delete, path = "/api/v1/users/{username}/roles/{id}", tag = "grants",
    params(("username" = String, Path, description = "account name"), ("id" = i64, Path, description = "grant id")),
    responses((status = 204), (status = "default", body = ErrorBody)))]
pub async fn delete_grant(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath((username, id)): ApiPath<(String, i64)>,
) -> ApiResult<StatusCode> {
    let u = username.clone();
    let (user, grants) = p.db(move |s| Ok((s.user(&u)?, s.grants(&u)?))).await?;
    // The grant's department decides; a grant that is not there is asked about in the
    // account's department (or, with no account either, on the role alone), and the
    // store's 404 is recorded as the action's error.
    let grant = grants.iter().find(|g| g.id == id);
    let department = grant
        .map(|g| g.grant.department.clone())
        .or_else(|| user.map(|u| u.department));
    let r = resource(
        "grant",
        &format!("{username}/{id}"),
        department.as_deref(),
        Some(&username),
    );
    let mut details = Map::new();
    if let Some(g) = grant {
        details.insert("role".into(), json!(g.grant.role.id()));
    }
    p.act(&c, Action::GrantDelete, &r, details, move |s| {
        s.remove_grant(&username, id)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- sessions (在线用户) ----

/// A live session in answers (never the token).
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// Public id (for forced sign-out).
    pub id: String,
    /// Account.
    pub username: String,
    /// Client address at sign-in.
    pub address: String,
    /// User agent.
    pub user_agent: Option<String>,
    /// Signed in at.
    pub created_at: i64,
    /// Last request.
    pub last_seen_at: i64,
    /// Ends at the latest.
    pub expires_at: i64,
}

/// Online users (在线用户).
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions",
    responses((status = 200, body = Vec<SessionView>), (status = "default", body = ErrorBody)))]
pub async fn list_sessions(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<SessionView>>> {
    let idle = p.settings.session_idle_secs;
    let sessions = p
        .act(
            &c,
            Action::SessionList,
            &resource("session", "", None, None),
            Map::new(),
            move |s| s.sessions(None, now(), idle),
        )
        .await?;
    Ok(axum::Json(
        sessions
            .into_iter()
            .map(|s| SessionView {
                id: s.id,
                username: s.username,
                address: s.address,
                user_agent: s.user_agent,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
            })
            .collect(),
    ))
}

/// Ends one session (强退).
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    responses((status = 204), (status = "default", body = ErrorBody)))]
pub async fn revoke_session(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let r = resource("session", &id, None, None);
    p.act(&c, Action::SessionRevoke, &r, Map::new(), move |s| {
        if s.delete_session_by_id(&id)? {
            Ok(())
        } else {
            Err(missing("session", "?"))
        }
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of an account (强退).
#[utoipa::path(delete, path = "/api/v1/users/{username}/sessions", tag = "sessions",
    params(("username" = String, Path, description = "account name")),
    responses((status = 204), (status = "default", body = ErrorBody)))]
pub async fn revoke_user_sessions(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let department = user_department(&p, &username).await?;
    let r = resource("session", &username, department.as_deref(), Some(&username));
    p.act(&c, Action::SessionRevoke, &r, Map::new(), move |s| {
        require_user(s, &username)?;
        s.delete_sessions_of(&username)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
