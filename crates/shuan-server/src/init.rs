//! `shuan init`: creates the platform store, the keyring and the ledger if missing, and
//! the three initial administrators, each with a one-time password shown once. There is
//! no superuser and no default password: the three accounts can do nothing until each
//! person changes the password and enrols TOTP.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Map};
use shuan_access::{DataScope, Grant, Role};
use shuan_crypto::keyring::{KekSource, Keyring};
use shuan_ledger::{Actor, ActorKind, Client, Event, Ledger, Outcome};
use shuan_store::platform::{open_platform, Department, User};
use zeroize::Zeroizing;

use crate::state::{now, SECRETS_KEY_ID};
use crate::PASSPHRASE_ENV;

/// What went wrong initialising.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The platform has accounts already.
    #[error("the platform is already initialised: the store has {0} account(s); `shuan init` never replaces accounts (the system administrator resets a lost password)")]
    AlreadyInitialised(usize),
    /// The root department's code or name is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error("platform store: {0}")]
    Store(#[from] shuan_store::platform::PlatformStoreError),
    /// The keyring failed.
    #[error("keyring in {dir}: {message}")]
    Keyring {
        /// The data directory.
        dir: PathBuf,
        /// What failed.
        message: String,
    },
    /// The ledger failed: nothing that needs recording was done.
    #[error("audit ledger: {0}; nothing was created")]
    Ledger(String),
    /// Hashing or randomness failed.
    #[error("{0}")]
    Credentials(String),
}

/// Options of `shuan init`.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The data directory.
    pub data_dir: PathBuf,
    /// `None`: SQLite in the data directory; else a `postgres://` URL.
    pub store_url: Option<String>,
    /// 机构代码 of the top department.
    pub org_code: String,
    /// Its name.
    pub org_name: String,
}

/// One initial administrator.
#[derive(Serialize)]
pub struct InitialAccount {
    /// `sysadmin`, `secadmin`, `auditor`.
    pub username: String,
    /// Role id.
    pub role: String,
    /// Role label.
    pub role_label: String,
    /// Shown once.
    pub one_time_password: String,
}

impl std::fmt::Debug for InitialAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitialAccount")
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// What `init` made.
#[derive(Debug, Serialize)]
pub struct InitReport {
    /// The three administrators.
    pub accounts: Vec<InitialAccount>,
    /// The store (`sqlite` or `postgres`).
    pub store: String,
    /// Whether the keyring was created now.
    pub keyring_created: bool,
}

/// The three initial administrators: account, role, 姓名.
pub const INITIAL_ADMINS: [(&str, Role, &str); 3] = [
    ("sysadmin", Role::SystemAdmin, "系统管理员"),
    ("secadmin", Role::SecurityAdmin, "安全管理员"),
    ("auditor", Role::Auditor, "安全审计员"),
];

/// Opens the keyring, creating it (KEK in a file, or from `SHUAN_KEK_PASSPHRASE`) if
/// missing, and makes sure the platform secrets key exists. Returns whether it was
/// created, and the actions to record.
fn ensure_keyring(data_dir: &Path) -> Result<(Keyring, bool, Vec<&'static str>), InitError> {
    let err = |e: &dyn std::fmt::Display| InitError::Keyring {
        dir: data_dir.to_path_buf(),
        message: e.to_string(),
    };
    let passphrase = || {
        std::env::var(PASSPHRASE_ENV)
            .ok()
            .filter(|p| !p.is_empty())
            .map(Zeroizing::new)
    };
    let mut actions = Vec::new();
    let (mut keyring, created) = if shuan_crypto::keyring::keyring_path(data_dir).exists() {
        (
            Keyring::open(data_dir, passphrase).map_err(|e| err(&e))?,
            false,
        )
    } else {
        let source = match passphrase() {
            Some(p) => KekSource::Passphrase(p),
            None => KekSource::File,
        };
        actions.push("key_init");
        (Keyring::init(data_dir, source).map_err(|e| err(&e))?, true)
    };
    if keyring.active_key(SECRETS_KEY_ID).is_err() {
        keyring.create_key(SECRETS_KEY_ID).map_err(|e| err(&e))?;
        actions.push("key_create");
    }
    Ok((keyring, created, actions))
}

/// Opens the data directory's ledger (creating it if missing) with the node key.
pub fn open_ledger(data_dir: &Path, options: shuan_ledger::Options) -> Result<Ledger, String> {
    let key = shuan_crypto::node::load_or_create_node_key(data_dir).map_err(|e| e.to_string())?;
    Ledger::open_with(shuan_ledger::default_dir(data_dir), key, options).map_err(|e| e.to_string())
}

fn system_event(action: &str, object: &str, details: Map<String, serde_json::Value>) -> Event {
    Event {
        time: None,
        actor: Actor {
            kind: ActorKind::System,
            id: "shuan-init".into(),
            department: None,
            role: None,
        },
        action: action.into(),
        object: object.into(),
        purpose: Some("平台初始化 (platform initialisation)".into()),
        outcome: Outcome::Allowed,
        client: Some(Client {
            address: None,
            agent: Some(format!("shuan/{}", env!("CARGO_PKG_VERSION"))),
        }),
        request_id: None,
        details,
    }
}

/// Initialises the platform. Refuses when any account exists.
pub fn initialise(opts: &InitOptions) -> Result<InitReport, InitError> {
    crate::routes::identity::check_id("org code", &opts.org_code)
        .and_then(|_| crate::routes::identity::check_text("org name", &opts.org_name, 64))
        .map_err(|e| InitError::Invalid(e.message))?;
    std::fs::create_dir_all(&opts.data_dir).map_err(|e| InitError::Keyring {
        dir: opts.data_dir.clone(),
        message: e.to_string(),
    })?;
    let store = open_platform(&opts.data_dir, opts.store_url.as_deref())?;
    let existing = store.users()?.len();
    if existing > 0 {
        return Err(InitError::AlreadyInitialised(existing));
    }
    // The ledger first: if it cannot be written, nothing is created.
    let ledger =
        open_ledger(&opts.data_dir, shuan_ledger::Options::default()).map_err(InitError::Ledger)?;
    let (_keyring, keyring_created, key_actions) = ensure_keyring(&opts.data_dir)?;
    for action in key_actions {
        ledger
            .append(&system_event(
                action,
                &format!("key:{SECRETS_KEY_ID}"),
                Map::new(),
            ))
            .map_err(|e| InitError::Ledger(e.to_string()))?;
    }
    let now = now();
    let mut events = Vec::new();
    if store.department(&opts.org_code)?.is_none() {
        events.push(system_event(
            "department.create",
            &format!("department:{}", opts.org_code),
            Map::from_iter([("name".into(), json!(opts.org_name))]),
        ));
    }
    let mut accounts = Vec::new();
    let mut users = Vec::new();
    for (username, role, name) in INITIAL_ADMINS {
        let otp =
            shuan_auth::one_time_password().map_err(|e| InitError::Credentials(e.to_string()))?;
        let hash =
            shuan_auth::hash_password(&otp).map_err(|e| InitError::Credentials(e.to_string()))?;
        users.push((
            User {
                username: username.into(),
                display_name: name.into(),
                department: opts.org_code.clone(),
                vendor: false,
                contract_end: None,
                password_hash: hash,
                password_changed_at: now,
                must_change_password: true,
                totp: None,
                disabled: false,
                created_at: now,
                last_login_at: None,
            },
            role,
        ));
        events.push(system_event(
            "user.create",
            &format!("user:{username}"),
            Map::from_iter([("role".into(), json!(role.id()))]),
        ));
        accounts.push(InitialAccount {
            username: username.into(),
            role: role.id().into(),
            role_label: role.label().into(),
            one_time_password: otp.to_string(),
        });
    }
    // Recorded before it is done (fail-closed).
    ledger
        .append_batch(&events)
        .map_err(|e| InitError::Ledger(e.to_string()))?;
    if store.department(&opts.org_code)?.is_none() {
        store.create_department(&Department {
            code: opts.org_code.clone(),
            name: opts.org_name.clone(),
            parent: None,
            created_at: now,
        })?;
    }
    for (user, role) in &users {
        store.create_user(user)?;
        store.add_grant(
            &user.username,
            &Grant {
                role: *role,
                department: opts.org_code.clone(),
                scope: DataScope::All,
            },
            "shuan-init",
            now,
        )?;
    }
    ledger
        .close()
        .map_err(|e| InitError::Ledger(e.to_string()))?;
    Ok(InitReport {
        accounts,
        store: store.backend().into(),
        keyring_created,
    })
}
