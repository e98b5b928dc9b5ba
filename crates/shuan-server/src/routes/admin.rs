//! API keys for systems, access policies (Cedar), and settings (参数设置).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use shuan_access::Role;
use shuan_policy::{Action, PolicyPoint};
use shuan_store::platform::{ApiKey, StoredPolicy};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use crate::auth::{random_hex, resource, token_hash, Caller, API_KEY_PREFIX};
use crate::error::{ApiError, ApiJson, ApiPath, ApiResult, ErrorBody};
use crate::routes::identity::{check_id, check_text, ScopeBody};
use crate::routes::session::{lockout_setting, password_setting};
use crate::state::{now, LockoutSetting, PasswordPolicySetting, Platform};

// ---- API keys ----

/// An API key in answers (never the key).
#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    /// Public id.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// Role id.
    pub role: String,
    /// Department code.
    pub department: String,
    /// Data scope.
    pub scope: ScopeBody,
    /// Who created it.
    pub created_by: String,
    /// Created.
    pub created_at: i64,
    /// Stops working at.
    pub expires_at: i64,
    /// Revoked at.
    pub revoked_at: Option<i64>,
    /// Last used.
    pub last_used_at: Option<i64>,
}

impl From<&ApiKey> for ApiKeyView {
    fn from(k: &ApiKey) -> Self {
        ApiKeyView {
            id: k.id.clone(),
            name: k.name.clone(),
            role: k.role.id().into(),
            department: k.department.clone(),
            scope: (&k.scope).into(),
            created_by: k.created_by.clone(),
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// `POST /api/v1/api-keys`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// What it is for.
    pub name: String,
    /// Role id (not an administrator's or the chief data officer's).
    pub role: String,
    /// Department code.
    pub department: String,
    /// Data scope.
    pub scope: ScopeBody,
    /// Valid for this many days (1–365).
    pub expires_in_days: i64,
}

/// A new key, shown once.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The key record.
    pub key: ApiKeyView,
    /// The secret to put in `Authorization: Bearer …`; not retrievable later.
    pub api_key: String,
}

/// Lists API keys.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api_keys",
    responses((status = 200, body = Vec<ApiKeyView>), (status = "default", body = ErrorBody)))]
pub async fn list_api_keys(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<ApiKeyView>>> {
    let keys = p
        .act(
            &c,
            Action::ApiKeyRead,
            &resource("api_key", "", None, None),
            Map::new(),
            |s| s.api_keys(),
        )
        .await?;
    Ok(axum::Json(keys.iter().map(Into::into).collect()))
}

/// Creates an API key for a system (hashed; shown once).
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api_keys", request_body = NewApiKey,
    responses((status = 201, body = CreatedApiKey), (status = "default", body = ErrorBody)))]
pub async fn create_api_key(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewApiKey>,
) -> ApiResult<(StatusCode, axum::Json<CreatedApiKey>)> {
    check_text("name", &req.name, 64)?;
    check_id("department", &req.department)?;
    let role =
        Role::from_id(&req.role).ok_or_else(|| ApiError::invalid("未知角色 (unknown role)"))?;
    if role.is_top_privilege() || role == Role::Supervisor {
        let mut details = Map::new();
        details.insert("role".into(), json!(role.id()));
        details.insert("name".into(), json!(req.name));
        return Err(p
            .refuse_caller(
                &c,
                Action::ApiKeyCreate,
                "api_key",
                "api_key_role",
                details,
                ApiError::new(
                    "separation_of_duties",
                    format!("系统接口密钥不能持有{}角色 (an API key never holds an administrator's, the chief data officer's or the supervisor's role)", role.label()),
                ),
            )
            .await);
    }
    if !(1..=365).contains(&req.expires_in_days) {
        return Err(ApiError::invalid(
            "expires_in_days 须在 1–365 之间 (1–365 days)",
        ));
    }
    let scope = req.scope.resolve(&p).await?;
    let dept = req.department.clone();
    if p.db(move |s| s.department(&dept)).await?.is_none() {
        return Err(ApiError::not_found("department", &req.department));
    }
    let id = random_hex(6)?;
    let r = resource("api_key", &id, Some(&req.department), None);
    let mut details = Map::new();
    details.insert("role".into(), json!(role.id()));
    details.insert("name".into(), json!(req.name));
    let (key, secret) = p
        .act_then(&c, Action::ApiKeyCreate, &r, details, || async {
            let secret = Zeroizing::new(format!("{API_KEY_PREFIX}{id}_{}", random_hex(32)?));
            let now = now();
            let key = ApiKey {
                id: id.clone(),
                key_hash: token_hash(&secret),
                name: req.name,
                role,
                department: req.department,
                scope,
                created_by: c.name().to_string(),
                created_at: now,
                expires_at: now + req.expires_in_days * 86_400,
                revoked_at: None,
                last_used_at: None,
            };
            let k2 = key.clone();
            p.db(move |s| s.create_api_key(&k2)).await?;
            Ok((key, secret))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedApiKey {
            key: (&key).into(),
            api_key: secret.to_string(),
        }),
    ))
}

/// Revokes an API key.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api_keys",
    params(("id" = String, Path, description = "key id")),
    responses((status = 204), (status = "default", body = ErrorBody)))]
pub async fn revoke_api_key(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let keys = p.db(|s| s.api_keys()).await?;
    // A key that is not there is asked about on the role alone; the store's 404 is then
    // recorded as the action's error.
    let department = keys
        .iter()
        .find(|k| k.id == id)
        .map(|k| k.department.clone());
    let r = resource("api_key", &id, department.as_deref(), None);
    p.act(&c, Action::ApiKeyRevoke, &r, Map::new(), move |s| {
        s.revoke_api_key(&id, now())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- policies ----

/// A policy in answers.
#[derive(Serialize, ToSchema)]
pub struct PolicyView {
    /// Id.
    pub id: String,
    /// Cedar text.
    pub text: String,
    /// Why it exists.
    pub description: String,
    /// Shipped with shuan (cannot be removed) or added by the security administrator.
    pub builtin: bool,
    /// Who added it.
    pub created_by: Option<String>,
    /// When.
    pub created_at: Option<i64>,
}

/// `POST /api/v1/policies`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    /// Id (letters, digits, `_ . -`).
    pub id: String,
    /// Cedar text: one or more policies, validated against the schema.
    pub text: String,
    /// Why.
    #[serde(default)]
    pub description: String,
}

/// `POST /api/v1/policies/validate`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyText {
    /// Cedar text.
    pub text: String,
}

/// The validation preview.
#[derive(Serialize, ToSchema)]
pub struct PolicyValidation {
    /// Whether it would be accepted.
    pub valid: bool,
    /// Policies in the text.
    pub policies: usize,
    /// Problems, each naming its place.
    pub problems: Vec<String>,
}

/// The schema and every policy in force.
#[utoipa::path(get, path = "/api/v1/policies", tag = "policies",
    responses((status = 200, body = Vec<PolicyView>), (status = "default", body = ErrorBody)))]
pub async fn list_policies(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<Vec<PolicyView>>> {
    let stored = p
        .act(
            &c,
            Action::PolicyRead,
            &resource("policy", "", None, None),
            Map::new(),
            |s| s.policies(),
        )
        .await?;
    let mut out: Vec<PolicyView> = PolicyPoint::default_policies()
        .into_iter()
        .map(|(id, text)| PolicyView {
            id: id.to_string(),
            text: text.to_string(),
            description: "默认策略 (shipped with shuan)".into(),
            builtin: true,
            created_by: None,
            created_at: None,
        })
        .collect();
    out.extend(stored.into_iter().map(|sp| PolicyView {
        id: sp.id,
        text: sp.text,
        description: sp.description,
        builtin: false,
        created_by: Some(sp.created_by),
        created_at: Some(sp.created_at),
    }));
    Ok(axum::Json(out))
}

/// Validates a policy text against the schema without adding it.
#[utoipa::path(post, path = "/api/v1/policies/validate", tag = "policies", request_body = PolicyText,
    responses((status = 200, body = PolicyValidation), (status = "default", body = ErrorBody)))]
pub async fn validate_policy(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<PolicyText>,
) -> ApiResult<axum::Json<PolicyValidation>> {
    if req.text.len() > 64 * 1024 {
        return Err(ApiError::invalid("策略文本不超过 64 KiB (at most 64 KiB)"));
    }
    p.authorize(
        &c,
        Action::PolicyRead,
        &resource("policy", "validate", None, None),
        Map::new(),
    )
    .await?;
    Ok(axum::Json(
        match PolicyPoint::validate("preview", &req.text) {
            Ok(n) => PolicyValidation {
                valid: true,
                policies: n,
                problems: vec![],
            },
            Err(e) => PolicyValidation {
                valid: false,
                policies: 0,
                problems: vec![e.to_string()],
            },
        },
    ))
}

/// Adds a policy after validating it against the schema; it takes effect at once.
#[utoipa::path(post, path = "/api/v1/policies", tag = "policies", request_body = NewPolicy,
    responses((status = 201, body = PolicyView), (status = "default", body = ErrorBody)))]
pub async fn create_policy(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<NewPolicy>,
) -> ApiResult<(StatusCode, axum::Json<PolicyView>)> {
    check_id("id", &req.id)?;
    if req.text.len() > 64 * 1024 || req.description.chars().count() > 500 {
        return Err(ApiError::invalid("策略文本不超过 64 KiB，说明不超过 500 字 (text ≤ 64 KiB, description ≤ 500 characters)"));
    }
    if PolicyPoint::default_policies()
        .iter()
        .any(|(id, _)| *id == req.id)
    {
        return Err(ApiError::new(
            "duplicate_policy",
            format!("策略 {} 是默认策略 (a default policy has this id)", req.id),
        ));
    }
    PolicyPoint::validate(&req.id, &req.text)
        .map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    // The whole set must still build (ids unique across policies).
    let mut custom: Vec<(String, String)> = p
        .db(|s| s.policies())
        .await?
        .into_iter()
        .map(|sp| (sp.id, sp.text))
        .collect();
    custom.push((req.id.clone(), req.text.clone()));
    PolicyPoint::new(&custom).map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    let mut details = Map::new();
    details.insert("text".into(), json!(req.text));
    let sp = StoredPolicy {
        id: req.id.clone(),
        text: req.text,
        description: req.description,
        created_by: c.name().to_string(),
        created_at: now(),
    };
    let sp2 = sp.clone();
    p.act(
        &c,
        Action::PolicyCreate,
        &resource("policy", &sp.id, None, None),
        details,
        move |s| s.add_policy(&sp2),
    )
    .await?;
    p.refresh_policies().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(PolicyView {
            id: sp.id,
            text: sp.text,
            description: sp.description,
            builtin: false,
            created_by: Some(sp.created_by),
            created_at: Some(sp.created_at),
        }),
    ))
}

/// Removes an added policy (default policies cannot be removed).
#[utoipa::path(delete, path = "/api/v1/policies/{id}", tag = "policies",
    params(("id" = String, Path, description = "policy id")),
    responses((status = 204), (status = "default", body = ErrorBody)))]
pub async fn delete_policy(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let r = resource("policy", &id, None, None);
    if PolicyPoint::default_policies()
        .iter()
        .any(|(d, _)| *d == id)
    {
        return Err(p
            .refuse_caller(
                &c,
                Action::PolicyDelete,
                &format!("policy:{id}"),
                "default_policy",
                Map::new(),
                ApiError::new("conflict", "默认策略不能删除，可添加 forbid 策略收紧 (default policies stay; add a forbid policy instead)"),
            )
            .await);
    }
    p.act(&c, Action::PolicyDelete, &r, Map::new(), move |s| {
        s.remove_policy(&id)
    })
    .await?;
    p.refresh_policies().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- settings ----

/// Settings (参数设置).
#[derive(Serialize, ToSchema)]
pub struct SettingsView {
    /// Password policy (密码策略).
    pub password_policy: PasswordPolicySetting,
    /// Lockout (登录失败锁定).
    pub lockout: LockoutSetting,
    /// Session idle timeout, seconds.
    pub session_idle_secs: i64,
    /// Session absolute timeout, seconds.
    pub session_absolute_secs: i64,
}

/// Reads the settings.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings",
    responses((status = 200, body = SettingsView), (status = "default", body = ErrorBody)))]
pub async fn get_settings(
    State(p): State<Arc<Platform>>,
    c: Caller,
) -> ApiResult<axum::Json<SettingsView>> {
    let r = resource("settings", "", None, None);
    p.act_then(&c, Action::SettingsRead, &r, Map::new(), || async {
        Ok(axum::Json(SettingsView {
            password_policy: password_setting(&p).await?,
            lockout: lockout_setting(&p).await?,
            session_idle_secs: p.settings.session_idle_secs,
            session_absolute_secs: p.settings.session_absolute_secs,
        }))
    })
    .await
}

/// Sets the password policy (security administrator).
#[utoipa::path(put, path = "/api/v1/settings/password-policy", tag = "settings", request_body = PasswordPolicySetting,
    responses((status = 200, body = PasswordPolicySetting), (status = "default", body = ErrorBody)))]
pub async fn put_password_policy(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<PasswordPolicySetting>,
) -> ApiResult<axum::Json<PasswordPolicySetting>> {
    req.check()?;
    let value = serde_json::to_value(req).map_err(ApiError::internal)?;
    let mut details = Map::new();
    details.insert("value".into(), value.clone());
    p.act(
        &c,
        Action::SettingsUpdateSecurity,
        &resource("settings", "password_policy", None, None),
        details,
        move |s| s.set_setting("password_policy", &value, now()),
    )
    .await?;
    Ok(axum::Json(req))
}

/// Sets the lockout rule (security administrator).
#[utoipa::path(put, path = "/api/v1/settings/lockout", tag = "settings", request_body = LockoutSetting,
    responses((status = 200, body = LockoutSetting), (status = "default", body = ErrorBody)))]
pub async fn put_lockout(
    State(p): State<Arc<Platform>>,
    c: Caller,
    ApiJson(req): ApiJson<LockoutSetting>,
) -> ApiResult<axum::Json<LockoutSetting>> {
    req.check()?;
    let value = serde_json::to_value(req).map_err(ApiError::internal)?;
    let mut details = Map::new();
    details.insert("value".into(), value.clone());
    p.act(
        &c,
        Action::SettingsUpdateSecurity,
        &resource("settings", "lockout", None, None),
        details,
        move |s| s.set_setting("lockout", &value, now()),
    )
    .await?;
    Ok(axum::Json(req))
}
