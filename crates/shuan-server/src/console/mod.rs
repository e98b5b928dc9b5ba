//! The web console (管理控制台) at `/`: server-rendered pages in the layout government
//! staff know from RuoYi/若依 consoles (left menu, top bar, breadcrumb, a query form above
//! a table), over the same handler functions as the API — every rule, every policy
//! decision and every audit record is the API's, reached in-process. The console adds
//! only presentation and the browser's own protections:
//!
//! - CSRF: the session cookie is `SameSite=Strict`; every form carries a token derived
//!   from the session token (a pre-session cookie's for the sign-in form); every POST's
//!   `Origin` (or `Referer`) must be this server's. A refused request gets a page saying
//!   why.
//! - A strict Content-Security-Policy (no inline script or style), no framing, no caching.
//! - Menus hold only the pages the policy lets the caller use; a page refused anyway says
//!   why in the policy's own words.

mod approvals;
mod audit;
mod dashboard;
mod data;
mod governance;
mod jobs;
mod keys;
mod security;
mod sharing;
mod sign_in;
mod system;
pub mod view;

use std::sync::Arc;

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use shuan_policy::Action;

use crate::auth::{request_token, resource, AnyCaller, Caller, SESSION_COOKIE};
use crate::error::ApiError;
use crate::state::Platform;

/// The console's Content-Security-Policy: only this server's script, style and images
/// (the QR code is inline SVG markup, not an image load), forms only to this server,
/// never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The form field holding the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

/// The cookie that carries the sign-in form's CSRF secret before there is a session.
const PRE_SESSION_COOKIE: &str = "shuan_console_pre";

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
struct Assets;

/// The console's routes; merged into the application by [`crate::app`].
pub fn router(platform: Arc<Platform>) -> Router {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/login", get(sign_in::form).post(sign_in::submit))
        .route("/logout", post(sign_in::sign_out))
        .route(
            "/account/password",
            get(sign_in::password_form).post(sign_in::password_submit),
        )
        .route(
            "/account/totp",
            get(sign_in::totp_intro).post(sign_in::totp_start),
        )
        .route("/account/totp/confirm", post(sign_in::totp_confirm))
        .route(
            "/system/departments",
            get(system::departments).post(system::department_create),
        )
        .route(
            "/system/departments/{code}/update",
            post(system::department_update),
        )
        .route(
            "/system/departments/{code}/delete",
            post(system::department_delete),
        )
        .route(
            "/system/users",
            get(system::users).post(system::user_create),
        )
        .route("/system/users.csv", get(system::users_csv))
        .route("/system/users/new", get(system::user_new))
        .route(
            "/system/users/{username}",
            get(system::user_edit).post(system::user_update),
        )
        .route(
            "/system/users/{username}/state",
            post(system::user_set_state),
        )
        .route("/system/users/{username}/reset", post(system::user_reset))
        .route("/system/users/{username}/unlock", post(system::user_unlock))
        .route("/system/sessions", get(system::sessions))
        .route(
            "/system/api-keys",
            get(keys::api_keys).post(keys::api_key_create),
        )
        .route("/system/api-keys/{id}/revoke", post(keys::api_key_revoke))
        .route(governance::HREF, get(governance::items))
        .route(
            "/governance/rectifications/{id}/close",
            post(governance::close),
        )
        .route("/security/keys", get(keys::keys))
        .route("/security/keys/{id}/rotate", post(keys::key_rotate))
        .route("/system/sessions/{id}/revoke", post(system::session_revoke))
        .route("/security/grants", get(security::grants))
        .route("/security/grants/{username}", post(security::grant_create))
        .route(
            "/security/grants/{username}/{id}/delete",
            post(security::grant_delete),
        )
        .route("/security/settings", get(security::settings))
        .route(
            "/security/settings/password",
            post(security::settings_password),
        )
        .route(
            "/security/settings/lockout",
            post(security::settings_lockout),
        )
        .route(
            "/security/policies",
            get(security::policies).post(security::policy_create),
        )
        .route(
            "/security/policies/validate",
            post(security::policy_validate),
        )
        .route(
            "/security/policies/{id}/delete",
            post(security::policy_delete),
        )
        .route("/audit/log", get(audit::log))
        .route("/audit/log.csv", get(audit::log_csv))
        .route("/audit/logins", get(audit::logins))
        .route("/audit/ledger", get(audit::ledger))
        .route("/approvals", get(approvals::inbox))
        .route("/approvals/{id}/decide", post(approvals::decide))
        .route("/data/inventory", get(data::inventory))
        .route("/data/inventory/table", get(data::table))
        .route("/data/jobs", get(jobs::list))
        .route("/data/jobs/new/{kind}", get(jobs::new_form))
        .route("/data/jobs/scan", post(jobs::start_scan))
        .route("/data/jobs/mask", post(jobs::start_mask))
        .route("/data/jobs/backup", post(jobs::start_backup))
        .route("/data/jobs/{id}", get(jobs::show))
        .route("/sharing/catalogue", get(sharing::catalogue))
        .route("/sharing/catalogue/{code}", get(sharing::entry))
        .route(
            "/sharing/catalogue/{code}/request",
            post(sharing::request_create),
        )
        .route("/sharing/requests", get(sharing::requests))
        .route("/sharing/requests/{id}", get(sharing::request))
        .route("/sharing/requests/{id}/decide", post(sharing::decide))
        .route("/sharing/agreements", get(sharing::agreements))
        .route(
            "/sharing/agreements/{id}/{change}",
            post(sharing::agreement_change),
        )
        .route("/sharing/services", get(sharing::services))
        .route("/sharing/services/{name}", get(sharing::service))
        .route("/assets/{file}", get(asset))
        .layer(axum::middleware::from_fn(guard))
        .with_state(platform)
}

/// Whether a path is the console's (for the application's fallback: the API answers
/// JSON, the console a page).
pub fn is_console_path(path: &str) -> bool {
    !(path.starts_with("/api/") || path == "/api" || path == "/healthz" || path == "/metrics")
}

/// The console's 404 page.
pub async fn not_found_page() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "页面不存在",
        "您访问的页面不存在，可能已被移动或地址有误。",
        None,
    )
}

/// Every console response: security headers; every POST: same-origin only.
async fn guard(req: Request, next: Next) -> Response {
    let refused = if req.method() == Method::POST {
        same_origin(req.headers()).err()
    } else {
        None
    };
    let mut response = match refused {
        Some(why) => message_page(StatusCode::FORBIDDEN, "请求被拒绝", why, Some("/")),
        None => next.run(req).await,
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    response
}

/// Checks that a state-changing request comes from a page of this server: its `Origin`
/// (or, without one, its `Referer`) names the host the request was sent to.
pub fn same_origin(headers: &HeaderMap) -> Result<(), &'static str> {
    const WHY: &str =
        "请求来源校验失败：该请求不是从本系统的页面提交的（Origin 与本站不符或缺失），\
                       为防止跨站请求伪造已拒绝。请回到控制台页面重新操作。";
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty())
        .ok_or(WHY)?;
    let origin = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(o) => o.to_string(),
        None => {
            let referer = headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .ok_or(WHY)?;
            // scheme://host[:port] of the referer.
            let after = referer.find("://").ok_or(WHY)? + 3;
            let end = referer[after..]
                .find('/')
                .map(|i| after + i)
                .unwrap_or(referer.len());
            referer[..end].to_string()
        }
    };
    let ok = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|h| h.eq_ignore_ascii_case(host));
    if ok {
        Ok(())
    } else {
        Err(WHY)
    }
}

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let Some(content) = Assets::get(&file) else {
        return not_found_page().await;
    };
    let kind = match file.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            // Names do not change with content, so only an hour.
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        content.data.into_owned(),
    )
        .into_response()
}

// ---- the CSRF token ----

fn digest_hex(label: &str, secret: &str) -> String {
    let mut h = shuan_crypto::sm3::Sm3::new();
    h.update(label.as_bytes());
    h.update(&[0]);
    h.update(secret.as_bytes());
    shuan_crypto::hex::encode(&h.finalize()[..16])
}

/// The CSRF token of a session: derived from its secret token (which only the browser's
/// HttpOnly cookie holds), so it is per session, needs no storage, and works on every
/// node. The store keeps SM3(token), a different input, so it does not reveal this.
pub fn csrf_token(session_token: &str) -> String {
    digest_hex("shuan-console-csrf", session_token)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok())
        .flat_map(|c| c.split(';'))
        .filter_map(|part| part.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// A form's fields after its CSRF token was checked against the session (or, for the
/// sign-in form, the pre-session cookie).
pub struct Form(pub Vec<(String, String)>);

impl Form {
    /// The first value of a field, trimmed of nothing (the handlers' rules judge it).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A field's value, empty when missing.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    /// Every value of a repeated field (a multiple select).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let expected = match request_token(req.headers()) {
            Some(token) => Some(csrf_token(&token)),
            None => cookie(req.headers(), PRE_SESSION_COOKIE)
                .map(|pre| digest_hex("shuan-console-sign-in", &pre)),
        };
        let body = String::from_request(req, state).await.map_err(|_| {
            message_page(
                StatusCode::BAD_REQUEST,
                "请求无效",
                "表单内容无法读取（过大或不是文本）。",
                Some("/"),
            )
        })?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_str(&body).map_err(|_| {
            message_page(
                StatusCode::BAD_REQUEST,
                "请求无效",
                "表单内容格式错误。",
                Some("/"),
            )
        })?;
        let given = fields
            .iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.as_str());
        match (expected, given) {
            (Some(e), Some(g)) if constant_time_eq(&e, g) => Ok(Form(fields)),
            _ => Err(message_page(
                StatusCode::FORBIDDEN,
                "请求被拒绝",
                "表单校验码缺失或已失效（可能页面停留过久、已重新登录，或请求来自其他网站），\
                 为防止跨站请求伪造已拒绝。请刷新页面后重新提交。",
                Some("/"),
            )),
        }
    }
}

// ---- who is signed in ----

/// A signed-in person whose session is not restricted, with the page chrome's facts.
pub struct Signed {
    /// The caller, as the API's handlers take it.
    pub caller: Caller,
    /// The session's CSRF token, for the page's forms.
    pub csrf: String,
}

impl FromRequestParts<Arc<Platform>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        platform: &Arc<Platform>,
    ) -> Result<Self, Self::Rejection> {
        let token = request_token(&parts.headers);
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let Some(token) = token else {
            return Err(to_sign_in(&back, false));
        };
        let caller = match AnyCaller::from_request_parts(parts, platform).await {
            Ok(AnyCaller(c)) => c,
            Err(e) if e.code == "unauthenticated" => return Err(to_sign_in(&back, true)),
            Err(e) => return Err(error_page(e)),
        };
        let Some(user) = caller.user.as_ref() else {
            return Err(message_page(
                StatusCode::FORBIDDEN,
                "请求被拒绝",
                "API 密钥不能使用管理控制台，请以个人账号登录。",
                Some("/login"),
            ));
        };
        if caller.session.as_ref().is_some_and(|s| s.restricted) {
            let to = if user.must_change_password {
                "/account/password"
            } else {
                "/account/totp"
            };
            return Err(Redirect::to(to).into_response());
        }
        Ok(Signed {
            caller,
            csrf: csrf_token(&token),
        })
    }
}

/// To the sign-in page; `expired`: the browser held a session that has ended (idle or
/// absolute timeout, forced sign-out), which the page says.
fn to_sign_in(back: &str, expired: bool) -> Response {
    let next = if back.starts_with('/') && !back.starts_with("//") && back != "/" {
        serde_urlencoded::to_string([("next", back)]).unwrap_or_default()
    } else {
        String::new()
    };
    let mut query = Vec::new();
    if expired {
        query.push("expired=1".to_string());
    }
    if !next.is_empty() {
        query.push(next);
    }
    let to = if query.is_empty() {
        "/login".to_string()
    } else {
        format!("/login?{}", query.join("&"))
    };
    let mut r = Redirect::to(&to).into_response();
    if expired {
        r.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_static(
                "shuan_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
            ),
        );
    }
    r
}

// ---- the page chrome ----

/// One entry of the left menu.
pub struct MenuItem {
    /// Its label.
    pub label: &'static str,
    /// Where it leads.
    pub href: &'static str,
    /// The page shown now.
    pub active: bool,
}

/// A group of the left menu.
pub struct MenuGroup {
    /// Its label.
    pub label: &'static str,
    /// Its entries the caller may use.
    pub items: Vec<MenuItem>,
}

/// The menu: group, label, page, and the action (on the platform-wide resource of its
/// kind, as the page's handler asks) that the page needs.
const MENU: &[(&str, &str, &str, Action, &str)] = &[
    (
        "系统管理",
        "部门管理",
        "/system/departments",
        Action::DepartmentRead,
        "department",
    ),
    (
        "系统管理",
        "用户管理",
        "/system/users",
        Action::UserRead,
        "user",
    ),
    (
        "系统管理",
        "在线用户",
        "/system/sessions",
        Action::SessionList,
        "session",
    ),
    (
        "系统管理",
        "API 密钥",
        "/system/api-keys",
        Action::ApiKeyRead,
        "api_key",
    ),
    (
        "安全管理",
        "角色与授权",
        "/security/grants",
        Action::GrantRead,
        "grant",
    ),
    (
        "安全管理",
        "参数设置",
        "/security/settings",
        Action::SettingsRead,
        "settings",
    ),
    (
        "安全管理",
        "访问策略",
        "/security/policies",
        Action::PolicyRead,
        "policy",
    ),
    (
        "安全管理",
        "密钥管理",
        "/security/keys",
        Action::KeyRead,
        "key",
    ),
    (
        "安全审计",
        "审计日志",
        "/audit/log",
        Action::AuditRead,
        "audit",
    ),
    (
        "安全审计",
        "登录日志",
        "/audit/logins",
        Action::AuditRead,
        "audit",
    ),
    (
        "安全审计",
        "账本校验",
        "/audit/ledger",
        Action::AuditRead,
        "audit",
    ),
    (
        "数据治理",
        "审批待办",
        "/approvals",
        Action::ElevationDecide,
        "elevation",
    ),
    (
        "数据治理",
        "数据资产清单",
        "/data/inventory",
        Action::InventoryRead,
        "inventory",
    ),
    ("数据治理", "后台任务", "/data/jobs", Action::JobRead, "job"),
    (
        "数据治理",
        "整改事项",
        governance::HREF,
        Action::RiskRead,
        OWNED,
    ),
    (
        "数据共享",
        "资源目录",
        "/sharing/catalogue",
        Action::CatalogueRead,
        "catalogue",
    ),
    (
        "数据共享",
        "共享申请",
        "/sharing/requests",
        Action::ShareRequestRead,
        "share_request",
    ),
    (
        "数据共享",
        "共享协议",
        "/sharing/agreements",
        Action::AgreementRead,
        "agreement",
    ),
    (
        "数据共享",
        "数据服务",
        "/sharing/services",
        Action::ServiceRead,
        "service",
    ),
];

/// Whether the policy would let `caller` use the page at `href` (its menu entry's action
/// on the platform-wide resource), without recording: it only decides what links to show.
pub fn may_use(p: &Platform, caller: &Caller, href: &str) -> bool {
    let tree = shuan_policy::DepartmentTree::default();
    MENU.iter()
        .filter(|(_, _, h, _, _)| *h == href)
        .any(|(_, _, _, action, kind)| {
            // A page of the caller's own records (整改事项: anyone may be made responsible
            // for one) is decided on a record the caller owns.
            let r = if *kind == OWNED {
                resource("rectification", "", None, Some(caller.name()))
            } else {
                resource(kind, "", None, None)
            };
            p.allows(caller, *action, &r, &tree)
        })
}

/// The menu kind of a page listing the caller's own rectification items.
const OWNED: &str = "own_rectification";

/// Whether the policy would allow `action` on the platform-wide resource of `kind`
/// (for showing a button), without recording.
pub fn may(p: &Platform, caller: &Caller, action: Action, kind: &str) -> bool {
    p.allows(
        caller,
        action,
        &resource(kind, "", None, None),
        &shuan_policy::DepartmentTree::default(),
    )
}

/// What every page of the signed-in console shows around its content.
pub struct Frame {
    /// The page's title (also the last breadcrumb).
    pub title: String,
    /// The breadcrumb before the title.
    pub crumbs: Vec<&'static str>,
    /// 姓名 of the caller.
    pub user_name: String,
    /// Account name.
    pub username: String,
    /// The caller's roles, labelled.
    pub roles: String,
    /// The menu, only the pages the caller may use.
    pub menu: Vec<MenuGroup>,
    /// The CSRF token for the page's forms.
    pub csrf: String,
    /// Seconds without a request after which the session ends (the page returns to the
    /// sign-in page then).
    pub idle_secs: i64,
    /// A notice after a change (保存成功 …).
    pub notice: Option<String>,
    /// Seconds after which the page reloads itself (0: never), for pages showing work
    /// in progress.
    pub refresh_secs: u32,
}

impl Frame {
    /// The chrome for `signed` on the page at `href`.
    pub fn new(p: &Platform, signed: &Signed, href: &str, title: &str) -> Frame {
        let c = &signed.caller;
        let mut menu: Vec<MenuGroup> = Vec::new();
        let mut crumbs = Vec::new();
        for (group, label, item_href, _, _) in MENU {
            // Each page once (two entries may share an action but not a page).
            if !may_use(p, c, item_href) {
                continue;
            }
            let active = *item_href == href;
            if active {
                crumbs.push(*group);
            }
            let item = MenuItem {
                label,
                href: item_href,
                active,
            };
            match menu.iter_mut().find(|g| g.label == *group) {
                Some(g) => g.items.push(item),
                None => menu.push(MenuGroup {
                    label: group,
                    items: vec![item],
                }),
            }
        }
        let mut roles: Vec<&str> = Vec::new();
        for g in &c.principal.grants {
            let l = g.role.label();
            if !roles.contains(&l) {
                roles.push(l);
            }
        }
        Frame {
            title: title.to_string(),
            crumbs,
            user_name: c
                .user
                .as_ref()
                .map(|u| u.display_name.clone())
                .unwrap_or_default(),
            username: c.name().to_string(),
            roles: roles.join("、"),
            menu,
            csrf: signed.csrf.clone(),
            idle_secs: p.settings.session_idle_secs,
            notice: None,
            refresh_secs: 0,
        }
    }

    /// With a notice.
    pub fn with_notice(mut self, notice: Option<String>) -> Frame {
        self.notice = notice;
        self
    }
}

// ---- answers ----

/// Renders a template as an HTML page.
pub fn render<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "内部错误，已记录 (internal error)",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
    back: Option<&'a str>,
}

/// A page with one message (a refused request, a missing page, an error).
pub fn message_page(
    status: StatusCode,
    title: &str,
    message: &str,
    back: Option<&str>,
) -> Response {
    render(
        status,
        &MessagePage {
            title,
            message,
            back,
        },
    )
}

#[derive(Template)]
#[template(path = "denied.html")]
struct DeniedPage {
    frame: Frame,
    reason: String,
}

/// The page for an error of a handler: a denial in the policy's words inside the
/// console's chrome, a sign-in for an ended session, a message otherwise.
pub fn error_page_in(
    p: &Platform,
    signed: &Signed,
    href: &str,
    title: &str,
    e: ApiError,
) -> Response {
    if e.code == "forbidden" {
        let frame = Frame::new(p, signed, href, title);
        return render(
            StatusCode::FORBIDDEN,
            &DeniedPage {
                frame,
                reason: e.message,
            },
        );
    }
    error_page(e)
}

/// The page for an error outside the chrome.
pub fn error_page(e: ApiError) -> Response {
    match e.code {
        "unauthenticated" => to_sign_in("/", true),
        _ => message_page(e.status, "操作未完成", &e.message, Some("/")),
    }
}

/// Back to a page after a change, with a notice in the query (`?ok=…`): the Post/
/// Redirect/Get pattern, so reloading never repeats a change.
pub fn done(to: &str, notice: &str) -> Response {
    let q = serde_urlencoded::to_string([("ok", notice)]).unwrap_or_default();
    let sep = if to.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{to}{sep}{q}")).into_response()
}

/// A notice from the query string (`ok`), at most 200 characters; escaped when shown.
pub fn notice(q: &std::collections::HashMap<String, String>) -> Option<String> {
    q.get("ok")
        .map(|s| s.chars().take(200).collect::<String>())
        .filter(|s| !s.is_empty())
}

/// A CSV download: UTF-8 with a BOM (so spreadsheet programs read the Chinese), every
/// field quoted, and cells that a spreadsheet would run as a formula neutralised.
pub fn csv(filename: &str, header: &[&str], rows: Vec<Vec<String>>) -> Response {
    fn cell(s: &str) -> String {
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{s}")
        } else {
            s.to_string()
        };
        format!("\"{}\"", s.replace('"', "\"\""))
    }
    let mut out = String::from("\u{feff}");
    out.push_str(&header.iter().map(|h| cell(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let disposition = format!("attachment; filename=\"{filename}\"");
    let mut r = (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        Body::from(out),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// The cookie that clears the session (sign-out, ended session).
pub fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn same_origin_accepts_only_this_host() {
        let ok = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(same_origin(&ok).is_ok());
        let ok_referer = headers(&[
            ("host", "gov.example:443"),
            ("referer", "https://gov.example:443/system/users?x=1"),
        ]);
        assert!(same_origin(&ok_referer).is_ok());
        for bad in [
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://evil.example"),
            ]),
            headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]),
            headers(&[("host", "127.0.0.1:8080")]),
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080.evil"),
            ]),
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("referer", "http://127.0.0.1:8080.evil/x"),
            ]),
            headers(&[("origin", "http://127.0.0.1:8080")]),
        ] {
            assert!(same_origin(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn csrf_token_is_per_session_and_not_the_stored_hash() {
        let a = csrf_token("shuan_st_aaaa");
        let b = csrf_token("shuan_st_aaab");
        assert_ne!(a, b);
        assert_eq!(a, csrf_token("shuan_st_aaaa"));
        assert!(!crate::auth::token_hash("shuan_st_aaaa").starts_with(&a));
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
        assert!(!constant_time_eq(&a, ""));
    }

    #[test]
    fn csv_neutralises_formulas_and_quotes() {
        let r = csv(
            "x.csv",
            &["名称"],
            vec![vec!["=HYPERLINK(\"x\")".into()], vec!["张三".into()]],
        );
        let body = futures_body(r);
        assert!(body.starts_with('\u{feff}'));
        assert!(body.contains("\"'=HYPERLINK(\"\"x\"\")\""));
        assert!(body.contains("\"张三\""));
    }

    fn futures_body(r: Response) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let b = axum::body::to_bytes(r.into_body(), usize::MAX)
                .await
                .unwrap();
            String::from_utf8(b.to_vec()).unwrap()
        })
    }
}
