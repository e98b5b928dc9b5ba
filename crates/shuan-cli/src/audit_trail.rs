//! The audit trail of the `shuan` command itself: every command that processes data or
//! touches keys (scan `--save`, masking, unmasking, key operations, encryption, backups)
//! writes its record into the data directory's audit ledger (审计日志, `shuan-ledger`).
//!
//! Fail-closed: a command opens the ledger *before* it acts, so an unwritable ledger
//! refuses the action instead of letting it happen unrecorded; the record is appended (and
//! durable) before the command reports success. An action that fails is recorded too,
//! with outcome `error` and the reason.
//!
//! The ledger admits one writing process at a time, and a scan or masking run can take
//! hours: so a command holds the ledger only while it checks it and while it appends,
//! never while it works, and concurrent commands wait for each other only that long.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use serde_json::{Map, Value};
use shuan_crypto::sm2::SigningKey;
use shuan_ledger::{Actor, ActorKind, Client, Event, Ledger, LedgerError, Outcome};

use crate::context::Context;

/// How long to wait for another `shuan` process that holds the ledger open.
const LOCK_WAIT: Duration = Duration::from_secs(15);

/// Environment variables naming the acting user's department and role (部门, 角色) for
/// the audit record, until the platform's own accounts replace OS users.
pub const DEPARTMENT_ENV: &str = "SHUAN_DEPARTMENT";
pub const ROLE_ENV: &str = "SHUAN_ROLE";

/// The ledger a command writes its records to.
#[derive(Clone)]
pub struct AuditTrail {
    dir: PathBuf,
    key: SigningKey,
    actor: Actor,
    request_id: String,
    /// The stated purpose (处理目的) of this command's records: a command's own
    /// `--purpose`, else `$SHUAN_PURPOSE`.
    purpose: Option<String>,
}

impl AuditTrail {
    /// Checks that `<data dir>/audit` opens for writing (recovering a torn tail from a
    /// crash), waiting a while if another `shuan` process is appending to it.
    pub fn open(ctx: &Context) -> Result<AuditTrail> {
        let key =
            shuan_crypto::node::load_or_create_node_key(&ctx.data_dir).with_context(|| {
                format!(
                    "cannot load the node key that signs the audit ledger (审计日志) from {}; \
                     the action was not performed",
                    ctx.data_dir.display()
                )
            })?;
        let trail = AuditTrail {
            dir: shuan_ledger::default_dir(&ctx.data_dir),
            key,
            actor: current_actor(),
            request_id: request_id(),
            purpose: std::env::var("SHUAN_PURPOSE")
                .ok()
                .filter(|p| !p.trim().is_empty()),
        };
        let ledger = trail.open_ledger().with_context(|| {
            format!(
                "cannot open the audit ledger in {}; every data or key operation must be \
                 recorded, so the action was not performed",
                trail.dir.display()
            )
        })?;
        *pending() = Some(Pending {
            trail: trail.clone(),
            action: None,
        });
        if ledger.recovery().torn_bytes > 0 {
            eprintln!(
                "note: the audit ledger had an incomplete final write from a crash; {} bytes \
                 were cut and saved under {}",
                ledger.recovery().torn_bytes,
                trail
                    .dir
                    .join(shuan_ledger::ledger::RECOVERED_DIR)
                    .display()
            );
        }
        Ok(trail)
    }

    /// Opens the ledger, waiting up to [`LOCK_WAIT`] for another process's append.
    fn open_ledger(&self) -> Result<Ledger> {
        let started = Instant::now();
        loop {
            match Ledger::open(&self.dir, self.key.clone()) {
                Ok(l) => return Ok(l),
                Err(LedgerError::Locked(_)) if started.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// States the purpose (处理目的) of the records written from now on, so that
    /// `shuan audit query` shows it in its 目的 column; it replaces `$SHUAN_PURPOSE`.
    pub fn set_purpose(&mut self, purpose: &str) {
        self.purpose = Some(purpose.to_string());
        if let Some(p) = pending().as_mut() {
            p.trail.purpose = self.purpose.clone();
        }
    }

    /// Names the action under way, so that an interrupt (Ctrl-C, SIGTERM) records it
    /// with outcome `error`; the action's own record replaces this.
    pub fn begin(&self, action: &str, object: &str) {
        if let Some(p) = pending().as_mut() {
            p.action = Some((action.to_string(), object.to_string()));
        }
    }

    /// Appends one record and returns its sequence number once it is durable; the
    /// ledger is closed again at once, signing a checkpoint over the record.
    pub fn record(
        &self,
        action: &str,
        object: &str,
        outcome: Outcome,
        mut details: Map<String, Value>,
    ) -> Result<u64> {
        if let Some(p) = pending().as_mut() {
            p.action = None;
        }
        details.insert("os_account".into(), os_account());
        let event = Event {
            time: None,
            actor: self.actor.clone(),
            action: action.to_string(),
            object: object.to_string(),
            purpose: self.purpose.clone(),
            outcome,
            client: Some(Client {
                address: None,
                agent: Some(format!("shuan-cli/{}", env!("CARGO_PKG_VERSION"))),
            }),
            request_id: Some(self.request_id.clone()),
            details,
        };
        let failed = || {
            format!(
                "cannot write the audit record for `{action}` on {object} to {}",
                self.dir.display()
            )
        };
        let ledger = self.open_ledger().with_context(failed)?;
        let seq = ledger.append(&event).with_context(failed)?;
        ledger.close().with_context(failed)?;
        Ok(seq)
    }

    /// Records the outcome of `result`: `allowed` with `details` when it is `Ok`, `error`
    /// with the message otherwise. Returns `result`, or the ledger's error if the record
    /// could not be written.
    pub fn record_result<T>(
        &self,
        action: &str,
        object: &str,
        mut details: Map<String, Value>,
        result: Result<T>,
    ) -> Result<T> {
        match result {
            Ok(v) => {
                self.record(action, object, Outcome::Allowed, details)?;
                Ok(v)
            }
            Err(e) => {
                details.insert("error".into(), Value::String(format!("{e:#}")));
                if let Err(log_err) = self.record(action, object, Outcome::Error, details) {
                    return Err(e.context(format!("{log_err:#}")));
                }
                Err(e)
            }
        }
    }

    /// Ends the command's use of the ledger: every record was durable and signed over
    /// when it was written, so there is nothing left to do; kept so commands say where
    /// their audited part ends.
    pub fn close(self) -> Result<()> {
        Ok(())
    }
}

/// The acting user: the login name from the environment (`$USER`), else the account of
/// the process's real uid, with department and role from the environment. The real uid's
/// account is recorded in every record's details as well (`os_account`), since `$USER` is
/// whatever the caller set.
pub fn current_actor() -> Actor {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let id = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| env(k))
        .or_else(|| account_name(real_uid()))
        .unwrap_or_else(|| format!("uid:{}", real_uid()));
    Actor {
        kind: ActorKind::User,
        id,
        department: env(DEPARTMENT_ENV),
        role: env(ROLE_ENV),
    }
}

fn real_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// The account of a uid, from /etc/passwd (no NSS lookups: a directory service may be
/// slow or down, and the uid itself is always recorded).
fn account_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

/// `{"uid": 1000, "name": "zhang"}` of the process's real uid.
fn os_account() -> Value {
    let uid = real_uid();
    serde_json::json!({ "uid": uid, "name": account_name(uid) })
}

/// What an interrupt handler needs to record the interrupted action.
struct Pending {
    trail: AuditTrail,
    /// (action, object) under way, if the command said.
    action: Option<(String, String)>,
}

fn pending() -> MutexGuard<'static, Option<Pending>> {
    static PENDING: Mutex<Option<Pending>> = Mutex::new(None);
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Called from the signal handler: records that the audited command `command_path` was
/// interrupted by `signal` (outcome `error`). Commands that never opened the audit trail
/// touched no protected data or keys and are not recorded.
pub fn record_interruption(command_path: &str, signal: &str) {
    let Some(p) = pending().take() else {
        eprintln!("interrupted ({signal}) before any audited action began");
        return;
    };
    let (action, object) = p
        .action
        .unwrap_or_else(|| (command_path.to_string(), String::new()));
    let details = crate::details! {
        "error" => format!("interrupted by {signal} before it finished; its temporary files were removed"),
        "signal" => signal,
        "command" => command_path,
    };
    match p.trail.record(&action, &object, Outcome::Error, details) {
        Ok(_) => eprintln!("interrupted ({signal}): recorded in the audit ledger"),
        Err(e) => {
            eprintln!("interrupted ({signal}); the interruption could not be recorded: {e:#}")
        }
    }
}

/// One id per command run, so the records of one run can be found together.
fn request_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("cli-{}-{:x}", std::process::id(), nanos)
}

/// A path as a record's object: absolute where it can be made so.
pub fn path_object(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// Builds a details map from `(key, value)` pairs.
#[macro_export]
macro_rules! details {
    ($($k:expr => $v:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = serde_json::Map::new();
        $( m.insert($k.to_string(), serde_json::json!($v)); )*
        m
    }};
}
