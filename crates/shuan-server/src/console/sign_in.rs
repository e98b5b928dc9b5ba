//! Sign-in (登录) with TOTP, the first sign-in's password change and TOTP enrolment
//! (QR code drawn by the server), and sign-out — each through the API's session handlers,
//! so lockout, password policy, replay protection and their audit records are the API's.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;

use super::{
    clear_session_cookie, cookie, csrf_token, digest_hex, error_page, render, Form,
    PRE_SESSION_COOKIE,
};
use crate::auth::{random_hex, request_token, AnyCaller};
use crate::error::{ApiError, ApiJson};
use crate::routes::session::{self, LoginRequest, PasswordChange, TotpConfirm};
use crate::state::{Platform, RequestMeta};

/// A signed-in person, restricted or not (the pages of the first sign-in).
pub struct Anyone {
    caller: AnyCaller,
    csrf: String,
}

impl FromRequestParts<Arc<Platform>> for Anyone {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        platform: &Arc<Platform>,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = request_token(&parts.headers) else {
            return Err(Redirect::to("/login").into_response());
        };
        match AnyCaller::from_request_parts(parts, platform).await {
            Ok(c) if c.0.user.is_some() => Ok(Anyone {
                caller: c,
                csrf: csrf_token(&token),
            }),
            Ok(_) => Err(Redirect::to("/login").into_response()),
            Err(e) if e.code == "unauthenticated" => Err(super::to_sign_in(parts.uri.path(), true)),
            Err(e) => Err(error_page(e)),
        }
    }
}

/// The CSRF token a form posted with these headers must carry: the session's, or before
/// there is one the pre-session cookie's.
fn expected_csrf(headers: &HeaderMap) -> Option<String> {
    match request_token(headers) {
        Some(token) => Some(csrf_token(&token)),
        None => cookie(headers, PRE_SESSION_COOKIE).map(|pre| sign_in_csrf(&pre)),
    }
}

fn sign_in_csrf(pre: &str) -> String {
    digest_hex("shuan-console-sign-in", pre)
}

/// Only a path of this site (never `//host` or `/\host`, which browsers read as another
/// host).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.len() <= 512
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    username: String,
    banner: Option<String>,
    notice: Option<String>,
    err_username: Option<String>,
    err_password: Option<String>,
    err_totp: Option<String>,
}

impl LoginPage {
    fn blank(csrf: String, next: String) -> LoginPage {
        LoginPage {
            csrf,
            next,
            username: String::new(),
            banner: None,
            notice: None,
            err_username: None,
            err_password: None,
            err_totp: None,
        }
    }
}

/// `GET /login`.
pub async fn form(
    State(p): State<Arc<Platform>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut set_cookie = None;
    let csrf = match expected_csrf(&headers) {
        Some(c) => c,
        None => {
            let pre = match random_hex(16) {
                Ok(p) => p,
                Err(e) => return error_page(e),
            };
            let secure = if p.settings.secure_cookies {
                "; Secure"
            } else {
                ""
            };
            set_cookie = Some(format!(
                "{PRE_SESSION_COOKIE}={pre}; HttpOnly; SameSite=Strict; Path=/login; Max-Age=3600{secure}"
            ));
            sign_in_csrf(&pre)
        }
    };
    let mut page = LoginPage::blank(csrf, safe_next(q.get("next").map(String::as_str)));
    if q.contains_key("expired") {
        page.banner = Some("会话已超时或已被强制下线，请重新登录。".into());
    }
    if q.contains_key("bye") {
        page.notice = Some("您已安全退出。".into());
    }
    let mut r = render(StatusCode::OK, &page);
    if let Some(c) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}

/// `POST /login`: the API's sign-in; its answer's cookie becomes the browser's session.
pub async fn submit(
    State(p): State<Arc<Platform>>,
    meta: RequestMeta,
    headers: HeaderMap,
    form: Form,
) -> Response {
    let username = form.text("username");
    let next = safe_next(form.get("next"));
    let totp = form.text("totp");
    let csrf = expected_csrf(&headers).unwrap_or_default();
    let request = LoginRequest {
        username: username.clone(),
        password: form.text("password"),
        totp: (!totp.trim().is_empty()).then(|| totp.trim().to_string()),
    };
    drop(form);
    let answer = match session::login(State(Arc::clone(&p)), meta, ApiJson(request)).await {
        Ok(r) => r,
        Err(e) => {
            let mut page = LoginPage::blank(csrf, next);
            page.username = username;
            match e.code {
                "invalid_input" => page.err_username = Some(e.message),
                "invalid_credentials" => {
                    page.err_password = Some("用户名或密码错误。".into());
                }
                "totp_required" => {
                    page.err_totp =
                        Some("该账号须输入动态口令（身份验证器中的 6 位数字）。".into());
                }
                "invalid_totp" => {
                    page.err_totp = Some("动态口令错误或已使用过，请等待下一个口令。".into());
                }
                // Lockout of the account or the address: the handler's message says how
                // long.
                _ => page.banner = Some(e.message),
            }
            let status = if e.status.is_server_error() {
                e.status
            } else {
                StatusCode::OK
            };
            return render(status, &page);
        }
    };
    let cookie = answer.headers().get(header::SET_COOKIE).cloned();
    let body = match axum::body::to_bytes(answer.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(e) => return error_page(ApiError::internal(e)),
    };
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let to = if v["must_change_password"] == Value::Bool(true) {
        "/account/password".to_string()
    } else if v["must_enrol_totp"] == Value::Bool(true) {
        "/account/totp".to_string()
    } else {
        next
    };
    let mut r = Redirect::to(&to).into_response();
    if let Some(c) = cookie {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    // The pre-session secret has done its work.
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "shuan_console_pre=; HttpOnly; SameSite=Strict; Path=/login; Max-Age=0",
        ),
    );
    r
}

/// `POST /logout`.
pub async fn sign_out(State(p): State<Arc<Platform>>, who: Anyone, _form: Form) -> Response {
    if let Err(e) = session::logout(State(p), who.caller).await {
        return error_page(e);
    }
    let mut r = Redirect::to("/login?bye=1").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, clear_session_cookie());
    r
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    csrf: String,
    first: bool,
    err_current: Option<String>,
    err_new: Option<String>,
    err_confirm: Option<String>,
}

/// `GET /account/password`.
pub async fn password_form(who: Anyone) -> Response {
    let first = who
        .caller
        .0
        .user
        .as_ref()
        .is_some_and(|u| u.must_change_password);
    render(
        StatusCode::OK,
        &PasswordPage {
            csrf: who.csrf,
            first,
            err_current: None,
            err_new: None,
            err_confirm: None,
        },
    )
}

/// `POST /account/password`: the API's password change (policy, history, other sessions
/// ended).
pub async fn password_submit(State(p): State<Arc<Platform>>, who: Anyone, form: Form) -> Response {
    let first = who
        .caller
        .0
        .user
        .as_ref()
        .is_some_and(|u| u.must_change_password);
    let mut page = PasswordPage {
        csrf: who.csrf.clone(),
        first,
        err_current: None,
        err_new: None,
        err_confirm: None,
    };
    let new = form.text("new_password");
    if new != form.text("confirm_password") {
        page.err_confirm = Some("两次输入的新密码不一致。".into());
        return render(StatusCode::OK, &page);
    }
    let change = PasswordChange {
        current_password: form.text("current_password"),
        new_password: new,
    };
    drop(form);
    match session::change_password(State(p), who.caller, ApiJson(change)).await {
        Ok(state) if state.0.must_enrol_totp => Redirect::to("/account/totp").into_response(),
        Ok(_) => super::done("/", "密码已修改。"),
        Err(e) => {
            match e.code {
                "invalid_credentials" => page.err_current = Some("当前密码错误。".into()),
                "weak_password" => page.err_new = Some(e.message),
                _ => return error_page(e),
            }
            render(StatusCode::OK, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    csrf: String,
    /// The enrolment just made: the QR code's SVG and the seed for typing in.
    enrolment: Option<(String, String)>,
    err_code: Option<String>,
}

fn totp_state(who: &Anyone) -> Option<Response> {
    let user = who.caller.0.user.as_ref()?;
    if user.must_change_password {
        return Some(Redirect::to("/account/password").into_response());
    }
    if user.totp.as_ref().is_some_and(|t| t.confirmed) {
        return Some(Redirect::to("/").into_response());
    }
    None
}

/// `GET /account/totp`: what enrolment is; the seed is made only by the POST.
pub async fn totp_intro(who: Anyone) -> Response {
    if let Some(r) = totp_state(&who) {
        return r;
    }
    render(
        StatusCode::OK,
        &TotpPage {
            csrf: who.csrf,
            enrolment: None,
            err_code: None,
        },
    )
}

/// The QR code of an `otpauth://` URI as SVG markup: black modules on white, with the
/// quiet zone, scaled by the page's stylesheet.
pub fn qr_svg(uri: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::M)
        .map_err(ApiError::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    // Inline in HTML: the XML declaration before the element has no place there.
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].to_string())
}

/// `POST /account/totp`: the API's enrolment; its seed is shown once, as a QR code and as
/// text, on a page that is not cached.
pub async fn totp_start(State(p): State<Arc<Platform>>, who: Anyone, _form: Form) -> Response {
    if let Some(r) = totp_state(&who) {
        return r;
    }
    let csrf = who.csrf.clone();
    let answer = match session::totp_enrol(State(p), who.caller).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let body = match axum::body::to_bytes(answer.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(e) => return error_page(ApiError::internal(e)),
    };
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (Some(secret), Some(uri)) = (v["secret"].as_str(), v["otpauth_uri"].as_str()) else {
        return error_page(ApiError::internal("TOTP enrolment answered without a seed"));
    };
    let svg = match qr_svg(uri) {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    // Groups of four for reading aloud or typing.
    let grouped = secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    render(
        StatusCode::OK,
        &TotpPage {
            csrf,
            enrolment: Some((svg, grouped)),
            err_code: None,
        },
    )
}

/// `POST /account/totp/confirm`.
pub async fn totp_confirm(State(p): State<Arc<Platform>>, who: Anyone, form: Form) -> Response {
    if let Some(r) = totp_state(&who) {
        return r;
    }
    let csrf = who.csrf.clone();
    let code: String = form
        .text("code")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    match session::totp_confirm(State(p), who.caller, ApiJson(TotpConfirm { code })).await {
        Ok(state) if state.0.must_change_password => {
            Redirect::to("/account/password").into_response()
        }
        Ok(_) => super::done("/", "动态口令已绑定，以后登录须输入动态口令。"),
        Err(e) if e.code == "invalid_totp" || e.code == "conflict" => render(
            StatusCode::OK,
            &TotpPage {
                csrf,
                enrolment: None,
                err_code: Some(if e.code == "conflict" {
                    "没有待确认的绑定，请重新生成二维码。".into()
                } else {
                    "动态口令错误或已使用过，请输入身份验证器当前显示的 6 位数字。".into()
                }),
            },
        ),
        Err(e) => error_page(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/system/users?x=1")), "/system/users?x=1");
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example",
            "",
            "x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn qr_code_is_svg_without_script_or_style() {
        let svg = qr_svg("otpauth://totp/shuan:sysadmin?secret=ABCDEFGH&issuer=shuan").unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("<script") && !svg.contains("style="));
    }
}
