//! The running platform: store, ledger, policy point, secret box and settings that every
//! handler reaches through `State<Arc<Platform>>`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use shuan_crypto::keyring::Keyring;
use shuan_crypto::modes::{Sm4Gcm, GCM_NONCE_LEN, GCM_TAG_LEN};
use shuan_ledger::{Actor, Client, Event, Ledger, Outcome, Seq};
use shuan_policy::PolicyPoint;
use shuan_store::platform::{PlatformStore, PlatformStoreError};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// The keyring key that encrypts TOTP seeds (and later other platform secrets).
pub const SECRETS_KEY_ID: &str = "platform-secrets";

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The clock the data-sharing rules decide by (agreement periods to the second,
/// deadlines, usage windows): the system's, shifted by an offset tests set to stand at
/// `valid_until - 1` or `valid_until` without waiting.
#[derive(Debug, Default)]
pub struct Clock {
    offset: AtomicI64,
}

impl Clock {
    /// Unix seconds now, as this clock reads.
    pub fn now(&self) -> i64 {
        now().saturating_add(self.offset.load(Ordering::Relaxed))
    }

    /// Moves the clock so that it reads `at` now (tests).
    pub fn set(&self, at: i64) {
        self.offset.store(at - now(), Ordering::Relaxed);
    }

    /// Back to the system clock.
    pub fn reset(&self) {
        self.offset.store(0, Ordering::Relaxed);
    }
}

/// How the server behaves; `ServerConfig` in `lib.rs` carries it.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// A session ends after this long without a request (default 30 minutes).
    pub session_idle_secs: i64,
    /// A session ends this long after sign-in whatever happens (default 8 hours).
    pub session_absolute_secs: i64,
    /// The shortest elevation that may be requested (default 5 minutes).
    pub min_elevation_secs: i64,
    /// Largest request body (default 1 MiB).
    pub body_limit: usize,
    /// Longest a request may take (default 30 s).
    pub request_timeout: Duration,
    /// The ledger's segment size (default: the ledger's own, 64 MiB).
    pub ledger_segment_max_bytes: Option<u64>,
    /// The issuer shown by authenticator apps.
    pub totp_issuer: String,
    /// Whether cookies get `Secure` (true when serving TLS).
    pub secure_cookies: bool,
    /// The database hosts sources and scan jobs may name (default: loopback only).
    pub source_hosts: shuan_source::SourceHosts,
    /// Where misuse alerts are sent as syslog lines over UDP (none by default).
    pub alert_syslog: Option<crate::watch::SyslogTarget>,
    /// Where misuse alerts are posted as JSON (none by default).
    pub alert_webhook: Option<crate::watch::WebhookTarget>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            session_idle_secs: 30 * 60,
            session_absolute_secs: 8 * 3600,
            min_elevation_secs: 5 * 60,
            body_limit: 1 << 20,
            request_timeout: Duration::from_secs(30),
            ledger_segment_max_bytes: None,
            totp_issuer: "shuan 数安".into(),
            secure_cookies: false,
            source_hosts: shuan_source::SourceHosts::default(),
            alert_syslog: None,
            alert_webhook: None,
        }
    }
}

/// Password policy as stored in the settings (参数设置 → 密码策略).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicySetting {
    /// Shortest password (8–128).
    pub min_length: usize,
    /// Character classes needed (1–4).
    pub min_classes: usize,
    /// Earlier passwords that may not be reused (0–24).
    pub history: usize,
    /// Days until a password must be changed (0 = never, up to 3650).
    pub max_age_days: u32,
}

impl Default for PasswordPolicySetting {
    fn default() -> Self {
        let p = shuan_auth::PasswordPolicy::default();
        PasswordPolicySetting {
            min_length: p.min_length,
            min_classes: p.min_classes,
            history: p.history,
            max_age_days: p.max_age_days,
        }
    }
}

impl PasswordPolicySetting {
    /// Refuses values outside the safe ranges.
    pub fn check(&self) -> Result<(), ApiError> {
        if !(8..=128).contains(&self.min_length)
            || !(1..=4).contains(&self.min_classes)
            || self.history > 24
            || self.max_age_days > 3650
        {
            return Err(ApiError::invalid(
                "密码策略超出允许范围：长度 8–128，字符类别 1–4，历史 0–24，有效期 0–3650 天 \
                 (min_length 8–128, min_classes 1–4, history 0–24, max_age_days 0–3650)",
            ));
        }
        Ok(())
    }

    /// The policy the credential crate checks.
    pub fn policy(&self) -> shuan_auth::PasswordPolicy {
        shuan_auth::PasswordPolicy {
            min_length: self.min_length,
            min_classes: self.min_classes,
            history: self.history,
            max_age_days: self.max_age_days,
        }
    }
}

/// Lockout (登录失败处理) as stored in the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockoutSetting {
    /// Failures that lock an account or an address (3–20; default 5).
    pub max_failures: u64,
    /// Window and lock duration in minutes (1–1440; default 10).
    pub window_minutes: i64,
}

impl Default for LockoutSetting {
    fn default() -> Self {
        LockoutSetting {
            max_failures: 5,
            window_minutes: 10,
        }
    }
}

impl LockoutSetting {
    /// Refuses values outside the safe ranges.
    pub fn check(&self) -> Result<(), ApiError> {
        if !(3..=20).contains(&self.max_failures) || !(1..=1440).contains(&self.window_minutes) {
            return Err(ApiError::invalid(
                "锁定策略超出允许范围：失败次数 3–20，时长 1–1440 分钟 (max_failures 3–20, \
                 window_minutes 1–1440)",
            ));
        }
        Ok(())
    }
}

/// Encrypts and decrypts platform secrets (TOTP seeds) with SM4-GCM under the keyring's
/// `platform-secrets` key. Format: version (u32 BE) | nonce (12) | ciphertext | tag (16);
/// the account name is the associated data, so a seed cannot be moved to another account.
pub struct SecretBox {
    data_dir: PathBuf,
    /// The active version and its key; replaced by [`SecretBox::reload`] after a rotation.
    active: RwLock<(u32, Zeroizing<[u8; 16]>)>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBox")
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}

impl SecretBox {
    /// Loads the active version of the secrets key from an open keyring.
    pub fn from_keyring(data_dir: &Path, keyring: &Keyring) -> Result<SecretBox, String> {
        let active = keyring
            .active_key(SECRETS_KEY_ID)
            .map_err(|e| format!("keyring key {SECRETS_KEY_ID}: {e}"))?;
        Ok(SecretBox {
            data_dir: data_dir.to_path_buf(),
            active: RwLock::new(active),
        })
    }

    /// The version new secrets are sealed under.
    pub fn version(&self) -> u32 {
        self.active.read().unwrap_or_else(PoisonError::into_inner).0
    }

    /// Takes the keyring's active version of the secrets key (after a rotation), so new
    /// secrets are sealed under it at once.
    pub fn reload(&self, keyring: &Keyring) -> Result<(), String> {
        let active = keyring
            .active_key(SECRETS_KEY_ID)
            .map_err(|e| format!("keyring key {SECRETS_KEY_ID}: {e}"))?;
        *self.active.write().unwrap_or_else(PoisonError::into_inner) = active;
        Ok(())
    }

    /// Seals `plain` for `account`.
    pub fn seal(&self, account: &str, plain: &[u8]) -> Result<Vec<u8>, ApiError> {
        let nonce: [u8; GCM_NONCE_LEN] = shuan_crypto::rand::bytes().map_err(ApiError::internal)?;
        let mut buf = plain.to_vec();
        let (version, key) = self
            .active
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let tag = Sm4Gcm::new(&key).encrypt(&nonce, account.as_bytes(), &mut buf);
        let mut out = Vec::with_capacity(4 + GCM_NONCE_LEN + buf.len() + GCM_TAG_LEN);
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens what [`SecretBox::seal`] made for `account`.
    pub fn open(&self, account: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, ApiError> {
        if sealed.len() < 4 + GCM_NONCE_LEN + GCM_TAG_LEN {
            return Err(ApiError::internal("sealed secret too short"));
        }
        let version = u32::from_be_bytes(sealed[..4].try_into().expect("4 bytes"));
        let nonce: [u8; GCM_NONCE_LEN] = sealed[4..4 + GCM_NONCE_LEN]
            .try_into()
            .expect("nonce length");
        let (body, tag) =
            sealed[4 + GCM_NONCE_LEN..].split_at(sealed.len() - 4 - GCM_NONCE_LEN - GCM_TAG_LEN);
        let active = self
            .active
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let key = if version == active.0 {
            active.1
        } else {
            // A seed sealed under an earlier version of the key (rotated since): the
            // keyring still holds retired versions.
            let keyring = Keyring::open(&self.data_dir, || {
                std::env::var(crate::PASSPHRASE_ENV)
                    .ok()
                    .map(Zeroizing::new)
            })
            .map_err(ApiError::internal)?;
            keyring
                .key(SECRETS_KEY_ID, version)
                .map_err(ApiError::internal)?
        };
        let mut buf = Zeroizing::new(body.to_vec());
        Sm4Gcm::new(&key)
            .decrypt(&nonce, account.as_bytes(), &mut buf, tag)
            .map_err(|_| ApiError::internal("a sealed secret failed authentication"))?;
        Ok(buf)
    }
}

/// Request facts for the audit record: id, client address, agent, stated purpose.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// `x-request-id` (given by the client or made here).
    pub request_id: String,
    /// Peer address.
    pub address: String,
    /// User agent.
    pub agent: Option<String>,
    /// `x-shuan-purpose`: the stated purpose (处理目的).
    pub purpose: Option<String>,
}

struct PolicyCache {
    generation: i64,
    point: PolicyPoint,
}

/// Everything a handler needs.
pub struct Platform {
    /// The platform's records.
    pub store: Arc<dyn PlatformStore>,
    /// This node's audit ledger.
    pub ledger: Arc<Ledger>,
    /// This node's id (its ledger id).
    pub node: String,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Seeds and other secrets.
    pub secrets: SecretBox,
    /// Behaviour.
    pub settings: ServerSettings,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// The clock of the data-sharing rules (injectable in tests).
    pub clock: Clock,
    /// The data-service gateway's connections and caches.
    pub gateway: crate::routes::gateway::Gateway,
    /// Misuse detection (滥用检测) over this node's records.
    pub watch: Arc<crate::watch::Watch>,
    policy: RwLock<PolicyCache>,
    /// Highest sequence number acknowledged by the ledger (what may be mirrored).
    pub(crate) acked: AtomicU64,
    /// Highest sequence number copied into the store.
    pub(crate) mirrored: AtomicU64,
    /// Held while copying records into the store; holds where the last copy stopped
    /// reading the ledger.
    pub(crate) mirror_lock: tokio::sync::Mutex<Option<shuan_ledger::reader::Resume>>,
    pub(crate) checkpoints_mirrored: AtomicU64,
    pub(crate) last_policy_check: AtomicI64,
}

impl Platform {
    /// Assembles the platform; loads the policies from the store.
    pub fn new(
        store: Arc<dyn PlatformStore>,
        ledger: Arc<Ledger>,
        data_dir: PathBuf,
        secrets: SecretBox,
        settings: ServerSettings,
    ) -> Result<Platform, String> {
        let generation = store.policy_generation().map_err(|e| e.to_string())?;
        let point = load_policies(&*store)?;
        let node = ledger.meta().ledger_id.clone();
        let mirrored = store.mirrored_upto(&node).map_err(|e| e.to_string())?;
        let metrics = Metrics::default();
        let mut watch = crate::watch::Watch::open(Arc::clone(&store))?;
        if let Some(target) = &settings.alert_syslog {
            let failures = Arc::clone(&metrics.alert_delivery_failures);
            let tx = crate::watch::spawn_syslog(target.clone(), &node, Arc::clone(&failures));
            watch.deliver_to(tx, failures);
        }
        if let Some(target) = &settings.alert_webhook {
            let failures = Arc::clone(&metrics.alert_delivery_failures);
            let tx = crate::watch::spawn_webhook(target.clone(), &node, Arc::clone(&failures))?;
            watch.deliver_to(tx, failures);
        }
        let watch = Arc::new(watch);
        Ok(Platform {
            store,
            ledger,
            node,
            data_dir,
            secrets,
            settings,
            metrics,
            clock: Clock::default(),
            gateway: crate::routes::gateway::Gateway::default(),
            watch,
            policy: RwLock::new(PolicyCache { generation, point }),
            acked: AtomicU64::new(0),
            mirrored: AtomicU64::new(mirrored),
            mirror_lock: tokio::sync::Mutex::new(None),
            checkpoints_mirrored: AtomicU64::new(0),
            last_policy_check: AtomicI64::new(0),
        })
    }

    /// Runs a store call on the blocking pool.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn PlatformStore) -> Result<T, PlatformStoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::from)
    }

    /// The policy point in force.
    pub fn policy(&self) -> PolicyPoint {
        self.policy
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .point
            .clone()
    }

    /// Reloads the policies if another node (or this one) changed them.
    pub async fn refresh_policies(&self) -> Result<(), ApiError> {
        let generation = self.db(|s| s.policy_generation()).await?;
        let current = self
            .policy
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .generation;
        if generation != current {
            let store = Arc::clone(&self.store);
            let point = tokio::task::spawn_blocking(move || load_policies(&*store))
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::internal)?;
            *self
                .policy
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                PolicyCache { generation, point };
        }
        self.last_policy_check.store(now(), Ordering::Relaxed);
        Ok(())
    }

    /// Appends one record of this node's own doing (no request: a deadline or an end
    /// the background task acts on), actor `shuan-server:NODE`, and waits until it is
    /// durable. Fail-closed like [`Platform::record`]: on an error, do not act.
    pub async fn record_system(
        &self,
        action: &str,
        object: &str,
        details: Map<String, Value>,
    ) -> Result<Seq, ApiError> {
        let actor = Actor {
            kind: shuan_ledger::ActorKind::System,
            id: format!("shuan-server:{}", self.node),
            department: None,
            role: None,
        };
        let meta = RequestMeta {
            request_id: String::new(),
            address: "local".into(),
            agent: None,
            purpose: None,
        };
        self.record(&actor, action, object, Outcome::Allowed, &meta, details)
            .await
    }

    /// Appends one audit record and waits until it is durable. Fail-closed: an error
    /// here must stop the request (503, nothing done).
    #[allow(clippy::too_many_arguments)]
    pub async fn record(
        &self,
        actor: &Actor,
        action: &str,
        object: &str,
        outcome: Outcome,
        meta: &RequestMeta,
        details: Map<String, Value>,
    ) -> Result<Seq, ApiError> {
        let event = Event {
            time: None,
            actor: actor.clone(),
            action: action.to_string(),
            object: object.to_string(),
            purpose: meta.purpose.clone(),
            outcome,
            client: Some(Client {
                address: Some(meta.address.clone()),
                agent: meta.agent.clone(),
            }),
            request_id: Some(meta.request_id.clone()),
            details,
        };
        match self.ledger.append_async(&event).await {
            Ok(seq) => {
                self.acked.fetch_max(seq, Ordering::AcqRel);
                self.metrics.audit_records.fetch_add(1, Ordering::Relaxed);
                Ok(seq)
            }
            Err(e) => {
                self.metrics.audit_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, action, "audit ledger append failed; request refused");
                Err(ApiError::audit_unavailable())
            }
        }
    }
}

/// The default policies plus the security administrator's, from the store.
fn load_policies(store: &dyn PlatformStore) -> Result<PolicyPoint, String> {
    let custom: Vec<(String, String)> = store
        .policies()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|p| (p.id, p.text))
        .collect();
    PolicyPoint::new(&custom).map_err(|e| e.to_string())
}
