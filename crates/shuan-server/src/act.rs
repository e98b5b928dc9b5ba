//! One way for a handler to do something on a caller's behalf, so that every request
//! that reads protected data or changes anything ends with a record of how it ended:
//!
//! - [`Platform::act`]: ask the policy and record its answer ([`Platform::authorize`]),
//!   run the store call on the blocking pool, and when it fails record that too
//!   (outcome `error`, the same request id) before the error goes back — or `denied`
//!   when the store refused by separation of duties;
//! - [`Platform::act_then`]: the same around any fallible work (hashing a one-time
//!   password and then writing it, reading several settings);
//! - [`Platform::act_self`]: the same for what every signed-in account may do to itself
//!   (sign out, change its password, enrol TOTP, read its own profile), which the policy
//!   is not asked about but which is recorded as allowed first;
//! - [`Platform::refuse`]: a refusal by a rule the code enforces beside the policy
//!   (nobody resets their own credentials or grants themselves a role, an API key never
//!   holds an administrator's role, …), recorded as `denied` like a policy denial.
//!
//! Fail-closed as `authorize` is: when the allowed or denied record cannot be written the
//! request answers 503 and nothing is done. The `error` record is best effort: the action
//! already failed, and the client gets its error either way.

use std::future::Future;
use std::sync::atomic::Ordering;

use serde_json::{Map, Value};
use shuan_ledger::{Actor, Outcome};
use shuan_policy::{Action, Resource};
use shuan_store::platform::{PlatformStore, PlatformStoreError};

use crate::auth::{object_name, Caller};
use crate::error::ApiError;
use crate::state::{Platform, RequestMeta};

/// The error code (and rule) of a refusal by separation of duties (三员分立).
pub const SEPARATION_OF_DUTIES: &str = "separation_of_duties";

impl Platform {
    /// Authorizes `action` on `resource` for `caller` (recording allowed or denied), then
    /// runs the store call `f` on the blocking pool; if it fails, records outcome `error`
    /// with the error's code and message under the same request id, and returns the error.
    pub async fn act<T, F>(
        &self,
        caller: &Caller,
        action: Action,
        resource: &Resource,
        details: Map<String, Value>,
        f: F,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn PlatformStore) -> Result<T, PlatformStoreError> + Send + 'static,
    {
        self.act_then(caller, action, resource, details, || self.db(f))
            .await
    }

    /// [`Platform::act`] around any work: `work` is called only once the policy allowed
    /// the action and the allowance is recorded; its error is recorded as outcome `error`.
    pub async fn act_then<T, W, Fut>(
        &self,
        caller: &Caller,
        action: Action,
        resource: &Resource,
        details: Map<String, Value>,
        work: W,
    ) -> Result<T, ApiError>
    where
        W: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        self.authorize(caller, action, resource, details).await?;
        match work().await {
            Ok(v) => Ok(v),
            // Separation of duties is checked again by the store, inside the transaction
            // that would break it (two nodes cannot together get round it): its refusal
            // is a denial by rule, not a failure.
            Err(e) if e.code == SEPARATION_OF_DUTIES => Err(self
                .refuse_caller(
                    caller,
                    action,
                    &object_name(resource),
                    SEPARATION_OF_DUTIES,
                    Map::new(),
                    e,
                )
                .await),
            Err(e) => {
                self.record_failure(caller, action, &object_name(resource), &e)
                    .await;
                Err(e)
            }
        }
    }

    /// What an account may always do to itself, without asking the policy: records
    /// `action` on `object` as allowed (fail-closed), runs the store call, and records
    /// outcome `error` if it fails.
    #[allow(clippy::too_many_arguments)]
    pub async fn act_self<T, F>(
        &self,
        actor: &Actor,
        meta: &RequestMeta,
        action: &str,
        object: &str,
        details: Map<String, Value>,
        f: F,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn PlatformStore) -> Result<T, PlatformStoreError> + Send + 'static,
    {
        self.record(actor, action, object, Outcome::Allowed, meta, details)
            .await?;
        let result = self.db(f).await;
        if let Err(e) = &result {
            self.record_error(actor, meta, action, object, e).await;
        }
        result
    }

    /// A refusal by a rule beside the policy (nobody resets their own credentials, …):
    /// records outcome `denied` with `rule` and the message as the reason, and answers
    /// `error` — or 503 when the refusal cannot be recorded.
    #[allow(clippy::too_many_arguments)]
    pub async fn refuse(
        &self,
        actor: &Actor,
        meta: &RequestMeta,
        action: &str,
        object: &str,
        rule: &str,
        mut details: Map<String, Value>,
        error: ApiError,
    ) -> ApiError {
        self.metrics.denials.fetch_add(1, Ordering::Relaxed);
        details.insert("rule".into(), Value::String(rule.into()));
        details.insert("reason".into(), Value::String(error.message.clone()));
        match self
            .record(actor, action, object, Outcome::Denied, meta, details)
            .await
        {
            Ok(_) => error,
            Err(unrecorded) => unrecorded,
        }
    }

    /// [`Platform::refuse`] for a signed-in caller and a policy action.
    pub async fn refuse_caller(
        &self,
        caller: &Caller,
        action: Action,
        object: &str,
        rule: &str,
        details: Map<String, Value>,
        error: ApiError,
    ) -> ApiError {
        self.refuse(
            &caller.actor,
            &caller.meta,
            action.id(),
            object,
            rule,
            details,
            error,
        )
        .await
    }

    /// Records that an allowed action then failed (outcome `error`, with the error's code
    /// and message), for any actor. Best effort, as [`Platform::record_failure`].
    pub async fn record_error(
        &self,
        actor: &Actor,
        meta: &RequestMeta,
        action: &str,
        object: &str,
        error: &ApiError,
    ) {
        let mut details = Map::new();
        details.insert("code".into(), Value::String(error.code.into()));
        details.insert("message".into(), Value::String(error.message.clone()));
        let _ = self
            .record(actor, action, object, Outcome::Error, meta, details)
            .await;
    }
}

/// The store's answer for a thing that is not there (inside a store closure).
pub fn missing(kind: &'static str, id: impl Into<String>) -> PlatformStoreError {
    PlatformStoreError::NotFound {
        kind,
        id: id.into(),
    }
}
