//! Sign-in, password change, TOTP enrolment and sign-out (`/api/v1/session…`).

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use shuan_auth::TotpSecret;
use shuan_ledger::{Actor, ActorKind, Outcome};
use shuan_store::platform::Session;
use utoipa::ToSchema;
use zeroize::Zeroizing;

use crate::auth::{
    random_hex, role_needs_totp, token_hash, AnyCaller, SESSION_COOKIE, SESSION_TOKEN_PREFIX,
};
use crate::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use crate::state::{now, LockoutSetting, PasswordPolicySetting, Platform, RequestMeta};

/// `POST /api/v1/session`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Account name.
    pub username: String,
    /// Password (or the one-time password).
    pub password: String,
    /// Six-digit TOTP code, for accounts that have TOTP.
    #[serde(default)]
    pub totp: Option<String>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A new session.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token (also set as an HttpOnly cookie).
    pub token: String,
    /// The password is a one-time password: change it before anything else.
    pub must_change_password: bool,
    /// The account's role needs TOTP and it is not enrolled yet.
    pub must_enrol_totp: bool,
    /// The session ends at the latest here (Unix seconds).
    pub expires_at: i64,
}

/// `POST /api/v1/session/password`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    pub current_password: String,
    /// The new one.
    pub new_password: String,
}

/// TOTP enrolment: shown once.
#[derive(Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32 seed, for typing into an authenticator app.
    pub secret: String,
    /// `otpauth://` URI, for a QR code.
    pub otpauth_uri: String,
}

/// `POST /api/v1/session/totp/confirm`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirm {
    /// The six-digit code the app shows now.
    pub code: String,
}

/// The state of the caller's session after a change.
#[derive(Serialize, ToSchema)]
pub struct SessionState {
    /// Still must change the password.
    pub must_change_password: bool,
    /// Still must enrol TOTP.
    pub must_enrol_totp: bool,
}

fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        shuan_auth::hash_password("shuan-timing-equaliser-not-a-password").unwrap_or_default()
    })
}

fn anonymous(username: &str) -> Actor {
    Actor {
        kind: ActorKind::User,
        id: if username.is_empty() {
            "-".into()
        } else {
            username.chars().take(64).collect()
        },
        department: None,
        role: None,
    }
}

fn reason(r: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("reason".into(), Value::String(r.into()));
    m
}

pub(crate) async fn lockout_setting(p: &Platform) -> Result<LockoutSetting, ApiError> {
    Ok(p.db(|s| s.setting("lockout"))
        .await?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

pub(crate) async fn password_setting(p: &Platform) -> Result<PasswordPolicySetting, ApiError> {
    Ok(p.db(|s| s.setting("password_policy"))
        .await?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

fn session_cookie(p: &Platform, token: &str, max_age: i64) -> HeaderValue {
    let secure = if p.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Signs in (登录). Failures count towards the lockout of the account and of the
/// address; both are recorded in the audit.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = "default", body = ErrorBody)))]
pub async fn login(
    State(p): State<Arc<Platform>>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let password = Zeroizing::new(req.password);
    if req.username.is_empty() || req.username.chars().count() > 64 || password.len() > 1024 {
        return Err(ApiError::invalid(
            "用户名为 1–64 个字符，密码不超过 1024 字节 (username 1–64 characters, password at most 1024 bytes)",
        ));
    }
    let username = req.username.clone();
    let actor = anonymous(&username);
    let object = format!("user:{}", actor.id);
    let lockout = lockout_setting(&p).await?;
    let now = now();
    let since = now - lockout.window_minutes * 60;
    let (address_failures, user_failures) = {
        let (u, a) = (username.clone(), meta.address.clone());
        p.db(move |s| {
            Ok((
                s.failures_for_address(&a, since)?,
                s.failures_for_user(&u, since)?,
            ))
        })
        .await?
    };
    if address_failures >= lockout.max_failures {
        deny_login(&p, &actor, &object, &meta, reason("address_locked")).await?;
        return Err(ApiError::new(
            "too_many_requests",
            format!(
                "该地址登录失败次数过多，请 {} 分钟后再试 (too many failed sign-ins from this address)",
                lockout.window_minutes
            ),
        ));
    }
    if user_failures >= lockout.max_failures {
        deny_login(&p, &actor, &object, &meta, reason("account_locked")).await?;
        return Err(ApiError::new(
            "account_locked",
            format!(
                "账号已锁定，请 {} 分钟后再试或联系系统管理员解锁 (the account is locked after {} failed sign-ins)",
                lockout.window_minutes, lockout.max_failures
            ),
        ));
    }
    let user = {
        let u = username.clone();
        p.db(move |s| s.user(&u)).await?
    };
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let pw = password.clone();
    let password_ok = tokio::task::spawn_blocking(move || shuan_auth::verify_password(&pw, &hash))
        .await
        .map_err(ApiError::internal)?;
    let user = match user {
        Some(u) if password_ok && !u.disabled => u,
        other => {
            let why = match other {
                Some(u) if u.disabled && password_ok => "account_disabled",
                _ => "invalid_credentials",
            };
            return Err(login_failure(
                &p,
                &actor,
                &object,
                &meta,
                why,
                &lockout,
                user_failures,
                now,
            )
            .await);
        }
    };
    let grants = {
        let u = username.clone();
        p.db(move |s| s.grants(&u)).await?
    };
    let needs_totp = grants.iter().any(|g| role_needs_totp(g.grant.role));
    let totp_confirmed = user.totp.as_ref().is_some_and(|t| t.confirmed);
    if totp_confirmed {
        let Some(code) = req.totp.as_deref().filter(|c| !c.is_empty()) else {
            deny_login(&p, &actor, &object, &meta, reason("totp_required")).await?;
            return Err(ApiError::new(
                "totp_required",
                "请输入动态口令 (this account signs in with a TOTP code: add \"totp\")",
            ));
        };
        let totp = user.totp.as_ref().expect("confirmed TOTP");
        let seed = p.secrets.open(&user.username, &totp.secret_enc)?;
        let secret = TotpSecret::from_bytes(&seed);
        let step = match secret.verify(code, now as u64, totp.last_step) {
            Ok(step) => step,
            Err(e) => {
                let why = if matches!(e, shuan_auth::TotpError::Replayed) {
                    "totp_replayed"
                } else {
                    "invalid_totp"
                };
                return Err(login_failure(
                    &p,
                    &actor,
                    &object,
                    &meta,
                    why,
                    &lockout,
                    user_failures,
                    now,
                )
                .await);
            }
        };
        let u = username.clone();
        if !p.db(move |s| s.advance_totp_step(&u, step)).await? {
            return Err(login_failure(
                &p,
                &actor,
                &object,
                &meta,
                "totp_replayed",
                &lockout,
                user_failures,
                now,
            )
            .await);
        }
    }
    let must_enrol_totp = needs_totp && !totp_confirmed;
    let restricted = user.must_change_password || must_enrol_totp;
    let token = Zeroizing::new(format!("{SESSION_TOKEN_PREFIX}{}", random_hex(32)?));
    let absolute = p.settings.session_absolute_secs;
    let session = Session {
        token_hash: token_hash(&token),
        id: random_hex(8)?,
        username: username.clone(),
        kind: "api".into(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + absolute,
        address: meta.address.clone(),
        user_agent: meta.agent.clone(),
        restricted,
    };
    let mut details = Map::new();
    details.insert("session".into(), Value::String(session.id.clone()));
    details.insert("restricted".into(), Value::Bool(restricted));
    let actor = Actor {
        department: Some(user.department.clone()),
        ..actor
    };
    // Recorded before the session exists: an unrecordable sign-in does not happen.
    p.record(
        &actor,
        "session.login",
        &object,
        Outcome::Allowed,
        &meta,
        details,
    )
    .await?;
    {
        let (s2, u) = (session.clone(), username.clone());
        let created = p
            .db(move |s| {
                s.create_session(&s2)?;
                s.clear_failures_for_user(&u)?;
                s.touch_login(&u, now)
            })
            .await;
        if let Err(e) = created {
            p.record_error(&actor, &meta, "session.login", &object, &e)
                .await;
            return Err(e);
        }
    }
    p.metrics
        .logins
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body = LoginResponse {
        token: token.to_string(),
        must_change_password: user.must_change_password,
        must_enrol_totp,
        expires_at: session.expires_at,
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, session_cookie(&p, &token, absolute));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok((StatusCode::OK, headers, axum::Json(body)).into_response())
}

/// The one record of a refused sign-in (`session.login`, outcome denied, `details.reason`
/// the cause: `address_locked`, `account_locked`, `totp_required`, `invalid_credentials`,
/// `account_disabled`, `invalid_totp`, `totp_replayed`). Fail-closed: an unrecordable
/// refusal answers 503.
async fn deny_login(
    p: &Platform,
    actor: &Actor,
    object: &str,
    meta: &RequestMeta,
    details: Map<String, Value>,
) -> Result<(), ApiError> {
    p.record(
        actor,
        "session.login",
        object,
        Outcome::Denied,
        meta,
        details,
    )
    .await
    .map(|_| ())
}

#[allow(clippy::too_many_arguments)]
async fn login_failure(
    p: &Platform,
    actor: &Actor,
    object: &str,
    meta: &RequestMeta,
    why: &str,
    lockout: &LockoutSetting,
    failures_before: u64,
    now: i64,
) -> ApiError {
    p.metrics
        .login_failures
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Err(e) = deny_login(p, actor, object, meta, reason(why)).await {
        return e;
    }
    let (u, a) = (actor.id.clone(), meta.address.clone());
    if let Err(e) = p.db(move |s| s.record_login_failure(&u, &a, now)).await {
        return e;
    }
    if failures_before + 1 >= lockout.max_failures {
        let mut d = reason("too_many_failures");
        d.insert("failures".into(), json!(failures_before + 1));
        d.insert("minutes".into(), json!(lockout.window_minutes));
        if let Err(e) = p
            .record(actor, "session.lockout", object, Outcome::Denied, meta, d)
            .await
        {
            return e;
        }
    }
    match why {
        "invalid_totp" | "totp_replayed" => ApiError::new(
            "invalid_totp",
            "动态口令错误或已使用过，请等待下一个口令 (wrong or already used TOTP code)",
        ),
        _ => ApiError::new(
            "invalid_credentials",
            "用户名或密码错误 (wrong user name or password)",
        ),
    }
}

/// Signs out (退出).
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204), (status = "default", body = ErrorBody)))]
pub async fn logout(
    State(p): State<Arc<Platform>>,
    AnyCaller(c): AnyCaller,
) -> ApiResult<Response> {
    let Some(session) = c.session.clone() else {
        return Err(ApiError::invalid(
            "API 密钥没有会话可退出 (an API key has no session)",
        ));
    };
    p.act_self(
        &c.actor,
        &c.meta,
        "session.logout",
        &format!("session:{}", session.id),
        Map::new(),
        move |s| s.delete_session(&session.token_hash),
    )
    .await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, session_cookie(&p, "", 0));
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

/// Changes the caller's own password (修改密码); ends the caller's other sessions.
#[utoipa::path(post, path = "/api/v1/session/password", tag = "session", request_body = PasswordChange,
    responses((status = 200, body = SessionState), (status = "default", body = ErrorBody)))]
pub async fn change_password(
    State(p): State<Arc<Platform>>,
    AnyCaller(c): AnyCaller,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<axum::Json<SessionState>> {
    let (Some(user), Some(session)) = (c.user.clone(), c.session.clone()) else {
        return Err(ApiError::invalid(
            "API 密钥没有密码 (an API key has no password)",
        ));
    };
    let current = Zeroizing::new(req.current_password);
    let new = Zeroizing::new(req.new_password);
    if new.len() > 1024 {
        return Err(ApiError::new(
            "weak_password",
            "密码不超过 1024 字节 (at most 1024 bytes)",
        ));
    }
    let object = format!("user:{}", user.username);
    let policy = password_setting(&p).await?;
    let history = {
        let u = user.username.clone();
        p.db(move |s| s.password_history(&u)).await?
    };
    let (cur, hash) = (current.clone(), user.password_hash.clone());
    let current_ok = tokio::task::spawn_blocking(move || shuan_auth::verify_password(&cur, &hash))
        .await
        .map_err(ApiError::internal)?;
    if !current_ok {
        p.record(
            &c.actor,
            "session.password_change",
            &object,
            Outcome::Denied,
            &c.meta,
            reason("wrong_current_password"),
        )
        .await?;
        return Err(ApiError::new(
            "invalid_credentials",
            "当前密码错误 (the current password is wrong)",
        ));
    }
    let (n, name, all_history) = (new.clone(), user.username.clone(), {
        let mut h = vec![user.password_hash.clone()];
        h.extend(history);
        h
    });
    let pol = policy.policy();
    let checked = tokio::task::spawn_blocking(move || {
        pol.check(&name, &n, &all_history)?;
        shuan_auth::hash_password(&n)
    })
    .await
    .map_err(ApiError::internal)?;
    let new_hash = match checked {
        Ok(h) => h,
        Err(e) => {
            p.record(
                &c.actor,
                "session.password_change",
                &object,
                Outcome::Denied,
                &c.meta,
                reason("policy"),
            )
            .await?;
            return Err(ApiError::new("weak_password", e.to_string()));
        }
    };
    let needs_totp = c.needs_totp();
    let totp_confirmed = user.totp.as_ref().is_some_and(|t| t.confirmed);
    let keep = policy.history;
    let now = now();
    let (u, th) = (user.username.clone(), session.token_hash.clone());
    let still_restricted = needs_totp && !totp_confirmed;
    p.act_self(
        &c.actor,
        &c.meta,
        "session.password_change",
        &object,
        Map::new(),
        move |s| {
            s.set_password(&u, &new_hash, false, now, keep)?;
            // Other sessions of the account end: whoever knew the old password is out.
            for other in s.sessions(Some(&u), now, i64::MAX / 4)? {
                if other.token_hash != th {
                    s.delete_session(&other.token_hash)?;
                }
            }
            if !still_restricted {
                s.unrestrict_session(&th)?;
            }
            Ok(())
        },
    )
    .await?;
    Ok(axum::Json(SessionState {
        must_change_password: false,
        must_enrol_totp: still_restricted,
    }))
}

/// Starts TOTP enrolment (绑定动态口令): a new seed, shown once. Refused once TOTP is
/// confirmed (the system administrator resets it).
#[utoipa::path(post, path = "/api/v1/session/totp", tag = "session",
    responses((status = 200, body = TotpEnrolment), (status = "default", body = ErrorBody)))]
pub async fn totp_enrol(
    State(p): State<Arc<Platform>>,
    AnyCaller(c): AnyCaller,
) -> ApiResult<Response> {
    let Some(user) = c.user.clone() else {
        return Err(ApiError::invalid(
            "API 密钥不能绑定动态口令 (an API key has no TOTP)",
        ));
    };
    if user.must_change_password {
        return Err(ApiError::new(
            "password_change_required",
            "请先修改一次性密码 (change the one-time password first)",
        ));
    }
    let object = format!("user:{}", user.username);
    if user.totp.as_ref().is_some_and(|t| t.confirmed) {
        // Replacing a confirmed seed would let whoever holds the session move the second
        // factor: refused, and recorded like any refusal.
        return Err(p
            .refuse(
                &c.actor,
                &c.meta,
                "session.totp_enrol",
                &object,
                "totp_enrolled",
                Map::new(),
                ApiError::new(
                    "conflict",
                    "动态口令已绑定；如需更换请联系系统管理员重置 (TOTP is enrolled; a system administrator resets it)",
                ),
            )
            .await);
    }
    let secret = TotpSecret::generate().map_err(ApiError::internal)?;
    let sealed = p.secrets.seal(&user.username, secret.as_bytes())?;
    let u = user.username.clone();
    p.act_self(
        &c.actor,
        &c.meta,
        "session.totp_enrol",
        &object,
        Map::new(),
        move |s| s.set_totp(&u, &sealed),
    )
    .await?;
    let uri = secret.otpauth_uri(&p.settings.totp_issuer, &user.username);
    let base32 = uri
        .split("secret=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .unwrap_or_default()
        .to_string();
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok((
        headers,
        axum::Json(TotpEnrolment {
            secret: base32,
            otpauth_uri: uri,
        }),
    )
        .into_response())
}

/// Confirms TOTP enrolment with a current code.
#[utoipa::path(post, path = "/api/v1/session/totp/confirm", tag = "session", request_body = TotpConfirm,
    responses((status = 200, body = SessionState), (status = "default", body = ErrorBody)))]
pub async fn totp_confirm(
    State(p): State<Arc<Platform>>,
    AnyCaller(c): AnyCaller,
    ApiJson(req): ApiJson<TotpConfirm>,
) -> ApiResult<axum::Json<SessionState>> {
    let (Some(user), Some(session)) = (c.user.clone(), c.session.clone()) else {
        return Err(ApiError::invalid(
            "API 密钥不能绑定动态口令 (an API key has no TOTP)",
        ));
    };
    let Some(totp) = user.totp.clone().filter(|t| !t.confirmed) else {
        return Err(ApiError::new(
            "conflict",
            "没有待确认的动态口令：先 POST /api/v1/session/totp (no enrolment to confirm)",
        ));
    };
    let object = format!("user:{}", user.username);
    let seed = p.secrets.open(&user.username, &totp.secret_enc)?;
    let now = now();
    let step =
        match TotpSecret::from_bytes(&seed).verify(req.code.trim(), now as u64, totp.last_step) {
            Ok(step) => step,
            Err(_) => {
                p.record(
                    &c.actor,
                    "session.totp_confirm",
                    &object,
                    Outcome::Denied,
                    &c.meta,
                    reason("invalid_totp"),
                )
                .await?;
                return Err(ApiError::new(
                    "invalid_totp",
                    "动态口令错误 (wrong TOTP code)",
                ));
            }
        };
    let (u, th, must_change) = (
        user.username.clone(),
        session.token_hash.clone(),
        user.must_change_password,
    );
    let confirmed = p
        .act_self(
            &c.actor,
            &c.meta,
            "session.totp_confirm",
            &object,
            Map::new(),
            move |s| {
                let ok = s.confirm_totp(&u, step)?;
                if ok && !must_change {
                    s.unrestrict_session(&th)?;
                }
                Ok(ok)
            },
        )
        .await?;
    if !confirmed {
        let e = ApiError::new(
            "invalid_totp",
            "动态口令已使用过 (the code was already used)",
        );
        p.record_error(&c.actor, &c.meta, "session.totp_confirm", &object, &e)
            .await;
        return Err(e);
    }
    Ok(axum::Json(SessionState {
        must_change_password: must_change,
        must_enrol_totp: false,
    }))
}
