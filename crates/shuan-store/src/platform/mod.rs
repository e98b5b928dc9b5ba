//! The platform's records (平台记录): departments, accounts, role grants, sessions, API
//! keys, failed sign-ins, settings, policies, elevations, jobs, the copy of every node's
//! audit records and checkpoints, the data-sharing records ([`sharing`]) and the misuse
//! alerts ([`alerts`]).
//!
//! One trait, [`PlatformStore`], two backends: SQLite under the data directory for one
//! node ([`sqlite::SqlitePlatform`]), PostgreSQL for several stateless `shuan serve` nodes
//! sharing one truth ([`postgres::PgPlatform`]). Migrations are the `.sql` files under
//! `migrations/platform-sqlite/` and `migrations/platform-postgres/`, applied in order
//! when a store is opened; both backends pass the same contract tests against real
//! servers.
//!
//! The store keeps what the server hands it and enforces the invariants that must hold
//! across nodes: unique names, separation of duties at grant time (checked inside the
//! transaction that adds the grant, so two nodes cannot together break it), TOTP steps
//! that only move forward (a replayed code is refused even on another node). It never
//! sees a password, a TOTP seed or an API key in clear: only hashes and ciphertexts.
//!
//! Times are Unix seconds (UTC), `i64`.

/// Implements a records trait for a backend by running each method's one implementation
/// (`$module::ops::$name`, over the backend's [`sharing::Exec`]) in the backend's `read`
/// or `write`: the backends differ only in how they run a statement, never in what a
/// method does. Each trait lists its methods once, in its own `…_for!` macro.
macro_rules! delegate_to_ops {
    ($trait:path, $backend:ty, $exec:ident, $module:ident {
        $( $mode:ident $what:literal fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty; )*
    }) => {
        impl $trait for $backend {
            $(
                fn $name(&self $(, $arg: $ty)*) -> Result<$ret, $crate::platform::PlatformStoreError> {
                    self.$mode($what, |x| {
                        $crate::platform::$module::ops::$name(&mut $exec(x) $(, $arg)*)
                    })
                }
            )*
        }
    };
}
pub(crate) use delegate_to_ops;

pub mod alerts;
pub mod backups;
mod codec;
pub mod collections;
pub mod complaints;
pub mod emergency;
pub mod governance;
pub mod incidents;
pub mod lineage;
pub mod postgres;
pub mod quality;
pub mod risk;
pub mod sharing;
pub mod sqlite;
pub mod temporaries;
pub mod training;
pub mod vendors;

use std::path::Path;

use serde::{Deserialize, Serialize};
use shuan_access::{DataScope, Grant, GrantError, Role};

pub use alerts::{AlertEvidence, AlertFilter, AlertStatus, AlertStore, StoredAlert};
pub use backups::{BackupPlan, BackupPlanStore, PlanBackup, RestoreDrill};
pub use collections::{CollectedField, Collection, CollectionReview, CollectionStore};
pub use complaints::{Complaint, ComplaintStatus, ComplaintStore};
pub use emergency::{EmergencyDrill, EmergencyPlan, EmergencyStore};
pub use governance::{Destruction, DestructionStatus, GovernanceStore, LegalHold};
pub use incidents::{Incident, IncidentEvent, IncidentStatus, IncidentStore, SUPPLEMENTARY_DAYS};
pub use lineage::{Derivation, LineageStore};
pub use quality::{QualityRuleSet, QualityRun, QualityRunStatus, QualityStore};
pub use risk::{Rectification, RiskAssessment, RiskStore};
pub use sharing::{
    Agreement, AgreementStatus, AgreementTerms, Approval, CatalogueEntry, CatalogueField,
    DataService, Quota, ShareRequest, ShareRequestFilter, ShareSource, ShareStatus, SharingStore,
    Usage,
};
pub use temporaries::{Temporary, TemporaryStore};
pub use training::{Attendance, TrainingSession, TrainingStore};
pub use vendors::{Vendor, VendorContract, VendorStore};

/// File name of the SQLite platform store inside the data directory.
pub const PLATFORM_FILE: &str = "platform.db";

/// Opens the platform store that `store_url` names, migrating it if needed:
///
/// - `None`: SQLite at `data_dir/platform.db` (one node);
/// - `sqlite:PATH` (or `sqlite://PATH`): SQLite at `PATH`, relative to the current
///   directory when not absolute;
/// - `postgres://…` or `postgresql://…`: PostgreSQL, shared by several nodes.
///
/// Anything else is refused with [`PlatformStoreError::Unavailable`] naming the scheme and
/// the accepted forms (never the URL itself: it may hold a password).
pub fn open_platform(
    data_dir: &Path,
    store_url: Option<&str>,
) -> Result<Box<dyn PlatformStore>, PlatformStoreError> {
    let Some(url) = store_url else {
        let store = sqlite::SqlitePlatform::open(&data_dir.join(PLATFORM_FILE))?;
        return Ok(Box::new(store));
    };
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(PlatformStoreError::Unavailable(
                "platform store URL `sqlite:` names no file; write sqlite:PATH".into(),
            ));
        }
        return Ok(Box::new(sqlite::SqlitePlatform::open(Path::new(path))?));
    }
    // A scheme is what stands before `://`; in `admin:hunter2` the part before the colon
    // is no scheme and is never shown.
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some(s) if s.eq_ignore_ascii_case("postgres") || s.eq_ignore_ascii_case("postgresql") => {
            Ok(Box::new(postgres::PgPlatform::connect(url)?))
        }
        _ => {
            // Only the scheme is shown: the rest of the URL may hold a password.
            let shown = match scheme {
                Some(s)
                    if !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
                {
                    format!("scheme `{s}`")
                }
                _ => "a value without a URL scheme".to_string(),
            };
            Err(PlatformStoreError::Unavailable(format!(
                "unsupported platform store URL ({shown}); use sqlite:PATH, postgres://… or \
                 postgresql://…, or none for {PLATFORM_FILE} in the data directory"
            )))
        }
    }
}

/// Unix seconds, UTC.
pub type UnixTime = i64;

/// What went wrong in the platform store.
#[derive(Debug, thiserror::Error)]
pub enum PlatformStoreError {
    /// The store could not be reached or opened (the node should answer 503).
    #[error("platform store unavailable: {0}")]
    Unavailable(String),
    /// A migration failed or the schema is newer than this shuan.
    #[error("platform store schema: {0}")]
    Schema(String),
    /// The named thing does not exist.
    #[error("{kind} {id} not found")]
    NotFound {
        /// `department`, `user`, `grant`, `api_key`, `policy`, `elevation`, `job`, `session`.
        kind: &'static str,
        /// Its name or id.
        id: String,
    },
    /// A unique name is taken, or a row changed under the caller.
    #[error("{kind} {id} already exists")]
    Exists {
        /// What kind of record.
        kind: &'static str,
        /// Its name or id.
        id: String,
    },
    /// A change that would break a rule of the records (a department with children or
    /// members deleted, a parent that would make a cycle, …).
    #[error("{0}")]
    Conflict(String),
    /// Separation of duties refused the grant.
    #[error(transparent)]
    Grant(#[from] GrantError),
    /// Any other backend failure.
    #[error("platform store query failed ({what}): {message}")]
    Query {
        /// What was being done.
        what: &'static str,
        /// The backend's message (never a secret: statements use parameters).
        message: String,
    },
}

/// A department (部门) in the tree, named by its 机构代码.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// 机构代码 (unique, stable).
    pub code: String,
    /// 名称.
    pub name: String,
    /// Parent department's code; `None` for a root.
    pub parent: Option<String>,
    /// When it was created.
    pub created_at: UnixTime,
}

/// An account's TOTP state. The seed is SM4-GCM ciphertext under a keyring key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpRecord {
    /// Encrypted seed (the server's format: key version, nonce, ciphertext and tag).
    pub secret_enc: Vec<u8>,
    /// Whether the user confirmed enrolment with a correct code.
    pub confirmed: bool,
    /// The last accepted time step (replays at or before it are refused).
    pub last_step: Option<u64>,
}

impl std::fmt::Debug for TotpRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpRecord")
            .field("confirmed", &self.confirmed)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// An account (用户). The password is an argon2id PHC hash, never the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Login name (unique).
    pub username: String,
    /// 姓名.
    pub display_name: String,
    /// Department code.
    pub department: String,
    /// A vendor's account (供应商): never a top role.
    pub vendor: bool,
    /// For vendors: the day the contract ends (`YYYY-MM-DD`).
    pub contract_end: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// When the password was last set.
    pub password_changed_at: UnixTime,
    /// The password is a one-time password: it only allows changing it (and TOTP).
    pub must_change_password: bool,
    /// TOTP, once enrolment started.
    pub totp: Option<TotpRecord>,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
    /// Created at.
    pub created_at: UnixTime,
    /// Last successful sign-in.
    pub last_login_at: Option<UnixTime>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("department", &self.department)
            .field("vendor", &self.vendor)
            .field("must_change_password", &self.must_change_password)
            .field("totp", &self.totp)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// Fields of an account that an administrator may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// New 姓名.
    pub display_name: Option<String>,
    /// New department code (must exist).
    pub department: Option<String>,
    /// Disable or enable.
    pub disabled: Option<bool>,
    /// New contract end (`Some(None)` clears it).
    pub contract_end: Option<Option<String>>,
}

/// A role grant as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGrant {
    /// Row id.
    pub id: i64,
    /// The account.
    pub username: String,
    /// Role, department and scope.
    pub grant: Grant,
    /// Who granted it.
    pub granted_by: String,
    /// When.
    pub granted_at: UnixTime,
}

/// A signed-in session. The token is kept only as its SM3 hash (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// SM3 of the bearer token, hex.
    pub token_hash: String,
    /// A short public id (for 在线用户 and forced sign-out).
    pub id: String,
    /// The account.
    pub username: String,
    /// `browser` (cookie) or `api` (bearer).
    pub kind: String,
    /// Created.
    pub created_at: UnixTime,
    /// Last request seen.
    pub last_seen_at: UnixTime,
    /// Ends at the latest here (absolute timeout).
    pub expires_at: UnixTime,
    /// Client address at sign-in.
    pub address: String,
    /// User agent at sign-in.
    pub user_agent: Option<String>,
    /// Signed in with a one-time password or without the required TOTP: only the
    /// password change and TOTP enrolment are allowed.
    pub restricted: bool,
}

/// An API key for a system. The key is kept only as its SM3 hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Public id (also the key's prefix, shown in lists).
    pub id: String,
    /// SM3 of the whole key, hex.
    pub key_hash: String,
    /// What it is for.
    pub name: String,
    /// The role it acts with.
    pub role: Role,
    /// The department it acts in.
    pub department: String,
    /// The data it reaches.
    pub scope: DataScope,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
    /// When it stops working.
    pub expires_at: UnixTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<UnixTime>,
    /// Last use.
    pub last_used_at: Option<UnixTime>,
}

/// A policy added by the security administrator (Cedar text, validated by the server
/// before it is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPolicy {
    /// Id (unique).
    pub id: String,
    /// Cedar source.
    pub text: String,
    /// Why it exists.
    pub description: String,
    /// Who added it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
}

/// State of an over-privilege request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElevationStatus {
    /// Waiting for the chief data officer.
    Pending,
    /// Approved; in force until `expires_at`.
    Approved,
    /// Refused.
    Rejected,
}

impl ElevationStatus {
    /// Stable id.
    pub fn as_str(self) -> &'static str {
        match self {
            ElevationStatus::Pending => "pending",
            ElevationStatus::Approved => "approved",
            ElevationStatus::Rejected => "rejected",
        }
    }
}

/// A time-limited elevation: a role or scope beyond the user's grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Elevation {
    /// Id.
    pub id: i64,
    /// Who asked.
    pub username: String,
    /// What was asked for.
    pub grant: Grant,
    /// Why.
    pub reason: String,
    /// How long, once approved.
    pub duration_secs: i64,
    /// Asked at.
    pub requested_at: UnixTime,
    /// Pending, approved or rejected.
    pub status: ElevationStatus,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<UnixTime>,
    /// The decider's comment (a refusal's reason).
    pub decision_note: Option<String>,
    /// Approved elevations end here.
    pub expires_at: Option<UnixTime>,
}

/// A background job (scan, masking, backup, key rotation) and its progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Id.
    pub id: i64,
    /// `scan`, `mask`, `backup`, `key_rotate` …
    pub kind: String,
    /// Who started it.
    pub owner: String,
    /// The owner's department.
    pub department: String,
    /// `queued`, `running`, `succeeded`, `failed`.
    pub status: String,
    /// 0.0 ..= 1.0, when known.
    pub progress: Option<f64>,
    /// Parameters (no secrets).
    pub params: serde_json::Value,
    /// Result when done.
    pub result: Option<serde_json::Value>,
    /// Error when failed.
    pub error: Option<String>,
    /// Created.
    pub created_at: UnixTime,
    /// Last change.
    pub updated_at: UnixTime,
}

/// What [`PlatformStore::purge_expired`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purged {
    /// Sessions past their absolute or idle timeout.
    pub sessions: u64,
    /// Failed sign-ins older than the lockout window.
    pub failures: u64,
}

/// One node's audit record copied into the shared store, as the ledger's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirroredRecord {
    /// The node (its ledger's id).
    pub node: String,
    /// The record's sequence number in that node's ledger.
    pub seq: u64,
    /// Record time, Unix seconds (for filtering).
    pub time: UnixTime,
    /// Actor id (for filtering).
    pub actor: String,
    /// Action (for filtering).
    pub action: String,
    /// Outcome (for filtering).
    pub outcome: String,
    /// The request the record belongs to (for filtering), as in `record_json`. Given
    /// by the copier, which has the record parsed already: parsing the JSON again per
    /// record was most of the copy's cost.
    pub request_id: Option<String>,
    /// The whole record as the ledger stores it (JSON).
    pub record_json: String,
}

/// Filters of an audit search over every node's records. All are optional, joined by AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this node.
    pub node: Option<String>,
    /// Actor id equals.
    pub actor: Option<String>,
    /// Action equals.
    pub action: Option<String>,
    /// Outcome equals.
    pub outcome: Option<String>,
    /// Time ≥.
    pub since: Option<UnixTime>,
    /// Time <.
    pub until: Option<UnixTime>,
    /// Request id equals (searched in the JSON).
    pub request_id: Option<String>,
    /// At most this many (newest first); 0 means no limit.
    pub limit: usize,
    /// Skip this many.
    pub offset: usize,
}

/// Aggregates of the copied audit records, for compliance evidence (record counts and
/// retention) without reading the rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditSummary {
    /// Records of every node with `since <= time < until`.
    pub records_in_range: u64,
    /// Time of the oldest record still held, any node; `None` when there is none.
    pub oldest_time: Option<UnixTime>,
}

/// A node's signed checkpoint copied into the shared store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirroredCheckpoint {
    /// The node.
    pub node: String,
    /// Records covered.
    pub size: u64,
    /// The checkpoint as the ledger writes it (JSON).
    pub checkpoint_json: String,
}

/// The platform's records, one trait over SQLite and PostgreSQL. Every method is one
/// transaction; calls are blocking (the server runs them on its blocking pool). The
/// data-sharing records are the supertrait [`SharingStore`], the misuse alerts
/// [`AlertStore`], destructions and legal holds [`GovernanceStore`].
pub trait PlatformStore:
    SharingStore
    + AlertStore
    + GovernanceStore
    + IncidentStore
    + ComplaintStore
    + VendorStore
    + QualityStore
    + BackupPlanStore
    + TrainingStore
    + RiskStore
    + EmergencyStore
    + CollectionStore
    + LineageStore
    + TemporaryStore
    + Send
    + Sync
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// A cheap round trip (for `/healthz`).
    fn ping(&self) -> Result<(), PlatformStoreError>;

    // Departments (部门).
    /// Adds a department; the parent must exist.
    fn create_department(&self, d: &Department) -> Result<(), PlatformStoreError>;
    /// One department.
    fn department(&self, code: &str) -> Result<Option<Department>, PlatformStoreError>;
    /// All departments, ordered by code.
    fn departments(&self) -> Result<Vec<Department>, PlatformStoreError>;
    /// Renames or moves a department (a move may not make a cycle).
    fn update_department(
        &self,
        code: &str,
        name: Option<&str>,
        parent: Option<Option<&str>>,
    ) -> Result<Department, PlatformStoreError>;
    /// Deletes a department with no children, members, grants or API keys.
    fn delete_department(&self, code: &str) -> Result<(), PlatformStoreError>;

    // Accounts (用户).
    /// Adds an account; the department must exist and the name be free.
    fn create_user(&self, u: &User) -> Result<(), PlatformStoreError>;
    /// One account.
    fn user(&self, username: &str) -> Result<Option<User>, PlatformStoreError>;
    /// All accounts, ordered by name.
    fn users(&self) -> Result<Vec<User>, PlatformStoreError>;
    /// Changes what an administrator may change.
    fn update_user(&self, username: &str, update: &UserUpdate) -> Result<User, PlatformStoreError>;
    /// Sets a new password hash; the old hash goes into the history (newest kept
    /// `keep_history` deep). `must_change` marks a one-time password.
    fn set_password(
        &self,
        username: &str,
        hash: &str,
        must_change: bool,
        now: UnixTime,
        keep_history: usize,
    ) -> Result<(), PlatformStoreError>;
    /// Earlier password hashes, newest first (the current one excluded).
    fn password_history(&self, username: &str) -> Result<Vec<String>, PlatformStoreError>;
    /// Starts (or restarts) TOTP enrolment with an encrypted seed, unconfirmed.
    fn set_totp(&self, username: &str, secret_enc: &[u8]) -> Result<(), PlatformStoreError>;
    /// Marks TOTP confirmed and records `step` as used, if `step` is after the last
    /// used one. Returns false (and changes nothing) when it is not: a replay.
    fn confirm_totp(&self, username: &str, step: u64) -> Result<bool, PlatformStoreError>;
    /// Records `step` as the last used TOTP step if it is after the stored one; false
    /// when it is not (a replay, possibly on another node).
    fn advance_totp_step(&self, username: &str, step: u64) -> Result<bool, PlatformStoreError>;
    /// Removes TOTP (an administrator's reset).
    fn clear_totp(&self, username: &str) -> Result<(), PlatformStoreError>;
    /// Records a successful sign-in.
    fn touch_login(&self, username: &str, now: UnixTime) -> Result<(), PlatformStoreError>;

    // Role grants (授权).
    /// Grants a role after checking separation of duties against the account's current
    /// grants inside the same transaction (`PlatformStoreError::Grant` when refused). The
    /// account's elevations in force at `now` count for the rules between roles too.
    fn add_grant(
        &self,
        username: &str,
        grant: &Grant,
        granted_by: &str,
        now: UnixTime,
    ) -> Result<StoredGrant, PlatformStoreError>;
    /// Removes a grant by id.
    fn remove_grant(&self, username: &str, id: i64) -> Result<(), PlatformStoreError>;
    /// An account's grants.
    fn grants(&self, username: &str) -> Result<Vec<StoredGrant>, PlatformStoreError>;
    /// Every grant (for reports).
    fn all_grants(&self) -> Result<Vec<StoredGrant>, PlatformStoreError>;

    // Sessions (会话).
    /// Stores a new session.
    fn create_session(&self, s: &Session) -> Result<(), PlatformStoreError>;
    /// The session for a token hash if it exists, is not past `expires_at` and was
    /// seen within `idle_secs`; bumps `last_seen_at` to `now` when it is older than
    /// `touch_after_secs` (so a busy client does not write on every request). Precisely:
    /// alive while `now < expires_at` and `now < last_seen_at + idle_secs`; touched when
    /// `now - last_seen_at > touch_after_secs`.
    fn session_by_token(
        &self,
        token_hash: &str,
        now: UnixTime,
        idle_secs: i64,
        touch_after_secs: i64,
    ) -> Result<Option<Session>, PlatformStoreError>;
    /// Lifts the restriction of a session (after the password change / TOTP enrolment).
    fn unrestrict_session(&self, token_hash: &str) -> Result<(), PlatformStoreError>;
    /// Live sessions (在线用户), optionally of one account.
    fn sessions(
        &self,
        username: Option<&str>,
        now: UnixTime,
        idle_secs: i64,
    ) -> Result<Vec<Session>, PlatformStoreError>;
    /// Ends one session by token hash.
    fn delete_session(&self, token_hash: &str) -> Result<bool, PlatformStoreError>;
    /// Ends one session by its public id.
    fn delete_session_by_id(&self, id: &str) -> Result<bool, PlatformStoreError>;
    /// Ends every session of an account (强退); returns how many.
    fn delete_sessions_of(&self, username: &str) -> Result<u64, PlatformStoreError>;

    // Failed sign-ins and lockout (登录失败).
    /// Records a failed sign-in of `username` (which may not exist) from `address`.
    fn record_login_failure(
        &self,
        username: &str,
        address: &str,
        now: UnixTime,
    ) -> Result<(), PlatformStoreError>;
    /// Failures of an account since `since`.
    fn failures_for_user(&self, username: &str, since: UnixTime)
        -> Result<u64, PlatformStoreError>;
    /// Failures from an address since `since`.
    fn failures_for_address(
        &self,
        address: &str,
        since: UnixTime,
    ) -> Result<u64, PlatformStoreError>;
    /// Forgets an account's failures (after a good sign-in or an unlock). They still
    /// count for their addresses: the account's owner signing in does not lift an
    /// attacking address's lockout.
    fn clear_failures_for_user(&self, username: &str) -> Result<(), PlatformStoreError>;
    /// Deletes sessions no longer alive at `now` (past `expires_at`, or not seen within
    /// `idle_secs`: the rule of [`PlatformStore::session_by_token`]) and failed sign-ins
    /// older than `failures_before`, which no lockout window reaches any more. Returns
    /// how many of each went.
    fn purge_expired(
        &self,
        now: UnixTime,
        idle_secs: i64,
        failures_before: UnixTime,
    ) -> Result<Purged, PlatformStoreError>;

    // API keys.
    /// Stores a new key (its hash).
    fn create_api_key(&self, k: &ApiKey) -> Result<(), PlatformStoreError>;
    /// The key with this hash, revoked or not.
    fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, PlatformStoreError>;
    /// All keys.
    fn api_keys(&self) -> Result<Vec<ApiKey>, PlatformStoreError>;
    /// Revokes a key.
    fn revoke_api_key(&self, id: &str, now: UnixTime) -> Result<(), PlatformStoreError>;
    /// Records a use. The stored time moves only when it is a minute or more old, so a
    /// busy key does not write on every request.
    fn touch_api_key(&self, id: &str, now: UnixTime) -> Result<(), PlatformStoreError>;

    // Settings (参数设置): JSON values by key.
    /// One setting.
    fn setting(&self, key: &str) -> Result<Option<serde_json::Value>, PlatformStoreError>;
    /// Sets one setting.
    fn set_setting(
        &self,
        key: &str,
        value: &serde_json::Value,
        now: UnixTime,
    ) -> Result<(), PlatformStoreError>;

    // Policies.
    /// Adds a policy (id unique).
    fn add_policy(&self, p: &StoredPolicy) -> Result<(), PlatformStoreError>;
    /// Removes one.
    fn remove_policy(&self, id: &str) -> Result<(), PlatformStoreError>;
    /// All added policies, by id.
    fn policies(&self) -> Result<Vec<StoredPolicy>, PlatformStoreError>;
    /// A number that changes whenever the policies change (nodes reload when it moves).
    fn policy_generation(&self) -> Result<i64, PlatformStoreError>;

    // Elevations.
    /// Files a request; returns its id. It is stored pending: the `id`, `status` and
    /// decision fields of `e` are not read.
    fn request_elevation(&self, e: &Elevation) -> Result<i64, PlatformStoreError>;
    /// One request.
    fn elevation(&self, id: i64) -> Result<Option<Elevation>, PlatformStoreError>;
    /// Requests, optionally of one account and/or one status, newest first.
    fn elevations(
        &self,
        username: Option<&str>,
        status: Option<ElevationStatus>,
    ) -> Result<Vec<Elevation>, PlatformStoreError>;
    /// Approves or rejects a pending request (a decided one answers `Conflict`). An
    /// approval is checked for separation of duties like a grant, against the account's
    /// grants and other elevations in force (`PlatformStoreError::Grant` when refused).
    fn decide_elevation(
        &self,
        id: i64,
        approve: bool,
        decided_by: &str,
        note: Option<&str>,
        now: UnixTime,
    ) -> Result<Elevation, PlatformStoreError>;
    /// Approved elevations of an account in force at `now`.
    fn active_elevations(
        &self,
        username: &str,
        now: UnixTime,
    ) -> Result<Vec<Elevation>, PlatformStoreError>;

    // Jobs.
    /// Files a job; returns its id (the `id` of `j` is not read).
    fn create_job(&self, j: &Job) -> Result<i64, PlatformStoreError>;
    /// Updates status, progress, result and error.
    fn update_job(&self, j: &Job) -> Result<(), PlatformStoreError>;
    /// One job.
    fn job(&self, id: i64) -> Result<Option<Job>, PlatformStoreError>;
    /// Jobs, optionally of one owner, newest first; `limit` 0 means no limit.
    fn jobs(&self, owner: Option<&str>, limit: usize) -> Result<Vec<Job>, PlatformStoreError>;

    // Every node's audit records and checkpoints.
    /// Copies records (idempotent on `(node, seq)`).
    fn mirror_records(&self, records: &[MirroredRecord]) -> Result<(), PlatformStoreError>;
    /// The highest copied seq of a node.
    fn mirrored_upto(&self, node: &str) -> Result<u64, PlatformStoreError>;
    /// Searches every node's copied records, newest first.
    fn audit_search(&self, f: &AuditFilter) -> Result<Vec<MirroredRecord>, PlatformStoreError>;
    /// Copies a checkpoint (idempotent on `(node, size)`).
    fn mirror_checkpoint(&self, c: &MirroredCheckpoint) -> Result<(), PlatformStoreError>;
    /// Counts of the copied records of every node in `[since, until)` and the oldest
    /// record's time, answered from the time index (two indexed aggregates, no rows).
    fn audit_summary(
        &self,
        since: UnixTime,
        until: UnixTime,
    ) -> Result<AuditSummary, PlatformStoreError>;
    /// A node's copied checkpoints, oldest first; all nodes when `node` is `None`.
    fn checkpoints(
        &self,
        node: Option<&str>,
    ) -> Result<Vec<MirroredCheckpoint>, PlatformStoreError>;
}
