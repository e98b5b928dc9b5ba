//! Who is calling: the request's metadata, the session or API key behind it, the
//! principal the policy sees, and the one place that asks the policy and records the
//! answer ([`Platform::authorize`]).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde_json::{json, Map, Value};
use shuan_access::{Grant, Role};
use shuan_ledger::{Actor, ActorKind, Outcome, Seq};
use shuan_policy::{AccessRequest, Action, DepartmentTree, EffectiveGrant, Principal, Resource};
use shuan_store::platform::{
    ApiKey, PlatformStore, PlatformStoreError, Session, StoredGrant, User,
};

use crate::error::ApiError;
use crate::state::{now, Platform, RequestMeta};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "shuan_session";
/// Prefix of session tokens.
pub const SESSION_TOKEN_PREFIX: &str = "shuan_st_";
/// Prefix of API keys.
pub const API_KEY_PREFIX: &str = "shuan_ak_";
/// A session's `last_seen_at` is written at most this often.
const TOUCH_AFTER_SECS: i64 = 30;

/// SM3 of a token, hex: what the store keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    shuan_crypto::hex::encode(&shuan_crypto::sm3::sm3(token.as_bytes()))
}

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; n];
    shuan_crypto::rand::fill(&mut buf).map_err(ApiError::internal)?;
    Ok(shuan_crypto::hex::encode(&buf))
}

/// Roles that must sign in with TOTP (the three administrators and the chief data officer).
pub fn role_needs_totp(role: Role) -> bool {
    role.is_three_admin() || role == Role::ChiefDataOfficer
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(request_meta(parts))
    }
}

fn request_meta(parts: &Parts) -> RequestMeta {
    if let Some(m) = parts.extensions.get::<RequestMeta>() {
        return m.clone();
    }
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
            .map(str::to_string)
    };
    let request_id = header("x-request-id")
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_else(|| random_hex(16).unwrap_or_default());
    let address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    RequestMeta {
        request_id,
        address,
        agent: header("user-agent").map(|a| a.chars().take(200).collect()),
        purpose: header("x-shuan-purpose")
            .map(|p| p.trim().chars().take(500).collect::<String>())
            .filter(|p| !p.is_empty()),
    }
}

/// The token of a request: `Authorization: Bearer …`, else the session cookie.
pub fn request_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(axum::http::header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        let (scheme, token) = v.split_once(' ')?;
        if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
            return Some(token.trim().to_string());
        }
        return None;
    }
    for cookie in headers.get_all(axum::http::header::COOKIE) {
        let Ok(cookie) = cookie.to_str() else {
            continue;
        };
        for part in cookie.split(';') {
            if let Some((k, v)) = part.trim().split_once('=') {
                if k == SESSION_COOKIE && !v.is_empty() {
                    return Some(v.to_string());
                }
            }
        }
    }
    None
}

/// An authenticated caller, possibly restricted (a one-time password, or TOTP not yet
/// enrolled): only the session endpoints accept this.
pub struct AnyCaller(pub Caller);

/// An authenticated, unrestricted caller. Clone: a console page may call several
/// handlers for one view.
#[derive(Clone)]
pub struct Caller {
    /// What the policy sees.
    pub principal: Principal,
    /// How the audit names the caller.
    pub actor: Actor,
    /// The session, for a person.
    pub session: Option<Session>,
    /// The account, for a person.
    pub user: Option<User>,
    /// The account's stored grants as read with the session (elevations are in
    /// `principal` only), so a handler showing them needs no second trip to the store.
    pub grants: Vec<StoredGrant>,
    /// The key, for a system.
    pub api_key: Option<ApiKey>,
    /// Request facts.
    pub meta: RequestMeta,
}

impl Caller {
    /// The caller's name (account, or `api_key:<id>`).
    pub fn name(&self) -> &str {
        &self.principal.username
    }

    /// Whether the caller's grants (elevations included) make TOTP mandatory.
    pub fn needs_totp(&self) -> bool {
        self.principal
            .grants
            .iter()
            .any(|g| role_needs_totp(g.role))
    }
}

impl FromRequestParts<Arc<Platform>> for AnyCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        platform: &Arc<Platform>,
    ) -> Result<Self, Self::Rejection> {
        let meta = request_meta(parts);
        let token = request_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        if token.len() > 256 {
            return Err(ApiError::unauthenticated());
        }
        let hash = token_hash(&token);
        let now = now();
        if token.starts_with(API_KEY_PREFIX) {
            let key = platform
                .db({
                    let hash = hash.clone();
                    move |s| s.api_key_by_hash(&hash)
                })
                .await?
                .filter(|k| k.revoked_at.is_none() && k.expires_at > now)
                .ok_or_else(ApiError::unauthenticated)?;
            if key.last_used_at.is_none_or(|t| now - t >= 60) {
                let id = key.id.clone();
                platform.db(move |s| s.touch_api_key(&id, now)).await?;
            }
            let grant = Grant {
                role: key.role,
                department: key.department.clone(),
                scope: key.scope.clone(),
            };
            let principal = Principal {
                username: format!("api_key:{}", key.id),
                department: key.department.clone(),
                vendor: false,
                grants: vec![EffectiveGrant::new(&grant, false)],
            };
            let actor = Actor {
                kind: ActorKind::System,
                id: principal.username.clone(),
                department: Some(key.department.clone()),
                role: Some(key.role.id().to_string()),
            };
            return Ok(AnyCaller(Caller {
                principal,
                actor,
                session: None,
                user: None,
                grants: Vec::new(),
                api_key: Some(key),
                meta,
            }));
        }
        if !token.starts_with(SESSION_TOKEN_PREFIX) {
            return Err(ApiError::unauthenticated());
        }
        let idle = platform.settings.session_idle_secs;
        // Touched often enough that a session in use never idles out, even with an idle
        // timeout shorter than a minute.
        let touch_after = TOUCH_AFTER_SECS.min(idle / 2);
        // One trip to the store for the session and everything the principal is built
        // from (each trip is a hop to the blocking pool).
        let found = platform
            .db(move |s| {
                let Some(session) = s.session_by_token(&hash, now, idle, touch_after)? else {
                    return Ok(None);
                };
                let user = s.user(&session.username)?;
                let grants = s.grants(&session.username)?;
                let elevations = s.active_elevations(&session.username, now)?;
                Ok(Some((session, user, grants, elevations)))
            })
            .await?;
        let (session, user, grants, elevations) = found.ok_or_else(ApiError::unauthenticated)?;
        let user = user
            .filter(|u| !u.disabled)
            .ok_or_else(ApiError::unauthenticated)?;
        let mut effective: Vec<EffectiveGrant> = grants
            .iter()
            .map(|g| EffectiveGrant::new(&g.grant, false))
            .collect();
        effective.extend(
            elevations
                .iter()
                .map(|e| EffectiveGrant::new(&e.grant, true)),
        );
        let roles: BTreeSet<&str> = grants.iter().map(|g| g.grant.role.id()).collect();
        let actor = Actor {
            kind: ActorKind::User,
            id: user.username.clone(),
            department: Some(user.department.clone()),
            role: (!roles.is_empty()).then(|| roles.into_iter().collect::<Vec<_>>().join(",")),
        };
        let principal = Principal {
            username: user.username.clone(),
            department: user.department.clone(),
            vendor: user.vendor,
            grants: effective,
        };
        Ok(AnyCaller(Caller {
            principal,
            actor,
            session: Some(session),
            user: Some(user),
            grants,
            api_key: None,
            meta,
        }))
    }
}

impl FromRequestParts<Arc<Platform>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        platform: &Arc<Platform>,
    ) -> Result<Self, Self::Rejection> {
        let AnyCaller(caller) = AnyCaller::from_request_parts(parts, platform).await?;
        if caller.session.as_ref().is_some_and(|s| s.restricted) {
            let user = caller.user.as_ref().expect("a session has a user");
            return Err(if user.must_change_password {
                ApiError::new(
                    "password_change_required",
                    "请先修改一次性密码：POST /api/v1/session/password (a one-time password only \
                     allows changing it)",
                )
            } else {
                ApiError::new(
                    "totp_enrolment_required",
                    "请先绑定动态口令：POST /api/v1/session/totp，再确认 (this role signs in with \
                     TOTP; enrol it first)",
                )
            });
        }
        Ok(caller)
    }
}

/// The department tree (for the ancestors of many resources at once).
pub async fn department_tree(platform: &Platform) -> Result<DepartmentTree, ApiError> {
    let departments = platform.db(|s| s.departments()).await?;
    Ok(DepartmentTree::new(
        departments.into_iter().map(|d| (d.code, d.parent)),
    ))
}

/// Departments deeper than this are not walked (bad data, or a tree no one would build);
/// a scope anchored above them then does not reach them, which denies, never allows.
const MAX_DEPTH: usize = 64;

/// The departments above `code`, nearest first, read parent by parent in one store call
/// (a few indexed reads: trees are shallow). A cycle in bad data ends the walk.
pub fn department_ancestors(
    store: &dyn PlatformStore,
    code: &str,
) -> Result<Vec<String>, PlatformStoreError> {
    let mut out: Vec<String> = Vec::new();
    let mut next = store.department(code)?.and_then(|d| d.parent);
    while let Some(parent) = next {
        if parent == code || out.contains(&parent) || out.len() >= MAX_DEPTH {
            break;
        }
        next = store.department(&parent)?.and_then(|d| d.parent);
        out.push(parent);
    }
    Ok(out)
}

/// A request the policy allowed, recorded in the ledger.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// The record's sequence number.
    pub seq: Seq,
    /// Only an elevation allowed it.
    pub via_elevation: bool,
}

impl Platform {
    /// Asks the policy whether `caller` may do `action` to `resource`, records the answer
    /// (allowed or denied) durably, and returns 403 with the policy's explanation when
    /// denied, 503 when the record cannot be written. The action is done only after this
    /// returns `Ok`, so every change and every read of protected data is in the ledger
    /// before it happens.
    pub async fn authorize(
        &self,
        caller: &Caller,
        action: Action,
        resource: &Resource,
        mut details: Map<String, Value>,
    ) -> Result<Authorized, ApiError> {
        let mut resource = std::borrow::Cow::Borrowed(resource);
        if let Some(code) = resource.department.clone() {
            if caller.principal.needs_ancestors() && resource.ancestors.is_empty() {
                let ancestors = self.db(move |s| department_ancestors(s, &code)).await?;
                resource.to_mut().ancestors = ancestors;
            }
        }
        let resource = resource.as_ref();
        let decision = self.policy().decide(&AccessRequest {
            principal: &caller.principal,
            action,
            resource,
        });
        details.insert("policies".into(), json!(decision.policies));
        if decision.via_elevation {
            details.insert("via_elevation".into(), Value::Bool(true));
        }
        if let Some(s) = &caller.session {
            details.insert("session".into(), Value::String(s.id.clone()));
        }
        let object = object_name(resource);
        if decision.allowed {
            let seq = self
                .record(
                    &caller.actor,
                    action.id(),
                    &object,
                    Outcome::Allowed,
                    &caller.meta,
                    details,
                )
                .await?;
            Ok(Authorized {
                seq,
                via_elevation: decision.via_elevation,
            })
        } else {
            self.metrics
                .denials
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            details.insert("reason".into(), Value::String(decision.explanation.clone()));
            self.record(
                &caller.actor,
                action.id(),
                &object,
                Outcome::Denied,
                &caller.meta,
                details,
            )
            .await?;
            Err(ApiError::new("forbidden", decision.explanation))
        }
    }

    /// Whether the policy would allow it, without recording (for filtering lists that
    /// were already authorized as a whole). `tree` gives the resource's ancestors: pass
    /// [`Platform::tree_for`]'s.
    pub fn allows(
        &self,
        caller: &Caller,
        action: Action,
        resource: &Resource,
        tree: &DepartmentTree,
    ) -> bool {
        let mut resource = std::borrow::Cow::Borrowed(resource);
        if let Some(code) = &resource.department {
            if caller.principal.needs_ancestors() && resource.ancestors.is_empty() {
                let ancestors = tree.ancestors(code);
                resource.to_mut().ancestors = ancestors;
            }
        }
        self.policy()
            .decide(&AccessRequest {
                principal: &caller.principal,
                action,
                resource: &resource,
            })
            .allowed
    }

    /// The answer for an id that names no record: the action is decided on the kind
    /// alone first (and recorded), so a caller without the action at all gets the same
    /// 403 as for an id that exists; one who holds it gets 404.
    pub async fn missing(&self, caller: &Caller, action: Action, kind: &str, id: i64) -> ApiError {
        let id = id.to_string();
        match self
            .authorize(caller, action, &resource(kind, &id, None, None), Map::new())
            .await
        {
            Err(e) => e,
            Ok(_) => ApiError::not_found(kind, &id),
        }
    }

    /// The items of a list the caller may read: `action` is authorized (and recorded) once
    /// on `kind` without a department, so a caller without the action at all is refused;
    /// then each item is kept when the policy allows the action on its own resource.
    pub async fn readable<T>(
        &self,
        caller: &Caller,
        action: Action,
        kind: &str,
        items: Vec<T>,
        resource_of: impl Fn(&T) -> Resource,
    ) -> Result<Vec<T>, ApiError> {
        self.authorize(caller, action, &resource(kind, "", None, None), Map::new())
            .await?;
        let tree = self.tree_for(caller).await?;
        Ok(items
            .into_iter()
            .filter(|item| self.allows(caller, action, &resource_of(item), &tree))
            .collect())
    }

    /// The department tree when deciding for `caller` reads resources' ancestors (a
    /// 本部门及以下 scope), else an empty one without asking the store.
    pub async fn tree_for(&self, caller: &Caller) -> Result<DepartmentTree, ApiError> {
        if caller.principal.needs_ancestors() {
            department_tree(self).await
        } else {
            Ok(DepartmentTree::default())
        }
    }

    /// Records that an authorized action then failed (outcome `error`, same request id).
    /// Best effort: the client gets the original error either way.
    pub async fn record_failure(
        &self,
        caller: &Caller,
        action: Action,
        object: &str,
        error: &ApiError,
    ) {
        let mut details = Map::new();
        details.insert("code".into(), Value::String(error.code.into()));
        details.insert("message".into(), Value::String(error.message.clone()));
        let _ = self
            .record(
                &caller.actor,
                action.id(),
                object,
                Outcome::Error,
                &caller.meta,
                details,
            )
            .await;
    }
}

/// How a resource is named in the audit: `kind:id`.
pub fn object_name(r: &Resource) -> String {
    if r.id.is_empty() {
        r.kind.clone()
    } else {
        format!("{}:{}", r.kind, r.id)
    }
}

/// A resource of `kind` with `id`, optionally in a department and owned by someone.
pub fn resource(kind: &str, id: &str, department: Option<&str>, owner: Option<&str>) -> Resource {
    Resource {
        kind: kind.to_string(),
        id: id.to_string(),
        department: department.map(str::to_string),
        owner: owner.map(str::to_string),
        ancestors: Vec::new(),
    }
}
