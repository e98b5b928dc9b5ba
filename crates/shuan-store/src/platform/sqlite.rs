//! SQLite backend of [`super::PlatformStore`] (one node): `platform.db` under the data
//! directory.
//!
//! Durability by group commit: the writer commits in WAL mode with `synchronous=NORMAL`
//! (SQLite writes the commit's frames to the `-wal` file but does not fsync it), then,
//! after releasing the writer, a write waits until the `-wal` file has been fsynced
//! since its commit ([`WalSync`]); one fsync covers every commit made before it started,
//! so concurrent writers share it. A write therefore returns only once its change
//! survives a power cut, as with `synchronous=FULL`, but the writer is not held for the
//! fsync. (SQLite's checkpoints fsync the `-wal` file before copying it and the database
//! after, so frames a checkpoint moved are durable too.) Concurrency: one writer
//! connection behind a mutex — SQLite allows one writer at a time anyway, and queueing
//! in-process threads on a mutex is cheaper and fairer than letting them spin in SQLite's
//! busy handler — and a pool of read-only connections, so readers never wait for a
//! writer (WAL readers see the last commit). Writes use `BEGIN IMMEDIATE`, which takes the
//! write lock before reading, so a check and the write it guards (separation of duties,
//! department cycles, TOTP steps) see the same state even if another process opens the
//! file too; the busy timeout makes such a process wait.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Instant;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row, Transaction};
use shuan_access::Grant;

use super::codec::{
    check_separation, clamp_i64, grant_from, json_text, parse_json, parse_status, scope_text,
    session_alive, to_i64, to_u64,
};
use super::sharing::{self, ops, Exec, Val};
use super::{
    Agreement, AgreementStatus, AgreementTerms, Approval, CatalogueEntry, DataService, Quota,
    ShareRequest, ShareRequestFilter, ShareSource, SharingStore, Usage,
};
use super::{
    ApiKey, AuditFilter, AuditSummary, Department, Elevation, ElevationStatus, Job,
    MirroredCheckpoint, MirroredRecord, PlatformStore, PlatformStoreError, Purged, Session,
    StoredGrant, StoredPolicy, TotpRecord, UnixTime, User, UserUpdate,
};
use crate::BUSY_TIMEOUT;

/// Schema migrations, applied in order; the version is the position + 1.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_platform",
        include_str!("../../migrations/platform-sqlite/0001_platform.sql"),
    ),
    (
        "0002_sharing",
        include_str!("../../migrations/platform-sqlite/0002_sharing.sql"),
    ),
    (
        "0003_alerts",
        include_str!("../../migrations/platform-sqlite/0003_alerts.sql"),
    ),
    (
        "0004_governance",
        include_str!("../../migrations/platform-sqlite/0004_governance.sql"),
    ),
    (
        "0005_incidents",
        include_str!("../../migrations/platform-sqlite/0005_incidents.sql"),
    ),
    (
        "0006_complaints",
        include_str!("../../migrations/platform-sqlite/0006_complaints.sql"),
    ),
    (
        "0007_vendors",
        include_str!("../../migrations/platform-sqlite/0007_vendors.sql"),
    ),
    (
        "0008_quality",
        include_str!("../../migrations/platform-sqlite/0008_quality.sql"),
    ),
    (
        "0009_backup_plans",
        include_str!("../../migrations/platform-sqlite/0009_backup_plans.sql"),
    ),
    (
        "0010_training",
        include_str!("../../migrations/platform-sqlite/0010_training.sql"),
    ),
    (
        "0011_risk_emergency",
        include_str!("../../migrations/platform-sqlite/0011_risk_emergency.sql"),
    ),
    (
        "0012_collections_lineage",
        include_str!("../../migrations/platform-sqlite/0012_collections_lineage.sql"),
    ),
    (
        "0013_temporaries",
        include_str!("../../migrations/platform-sqlite/0013_temporaries.sql"),
    ),
];

/// Read connections kept open between calls. More may be open at a moment of high load;
/// those are closed when returned. Opening one costs a parse of the whole schema (a
/// profile of 32 concurrent API clients found a tenth of the time there with 8 kept), so
/// as many are kept as a busy server runs requests at once; each page cache grows only
/// as it is used.
const IDLE_READERS: usize = 64;

/// The SQLite platform store.
pub struct SqlitePlatform {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Commits made through `writer` (incremented under its lock, after each commit).
    commits: AtomicU64,
    wal_sync: WalSync,
}

/// Group fsync of the `-wal` file: [`WalSync::wait_durable`] returns once an fsync that
/// started after commit `n` has finished. One caller at a time does the fsync, for every
/// commit counted when it started; the others wait for it and most find their commit
/// covered.
struct WalSync {
    wal: PathBuf,
    dir: PathBuf,
    state: Mutex<SyncState>,
    done: Condvar,
    /// Fsyncs done (for tests).
    fsyncs: AtomicU64,
}

#[derive(Default)]
struct SyncState {
    /// Every commit up to this one is durable.
    synced: u64,
    /// An fsync is under way.
    syncing: bool,
    /// The open `-wal` file and its inode; reopened when SQLite replaced the file.
    file: Option<(std::fs::File, u64)>,
}

impl WalSync {
    fn new(db: &Path) -> WalSync {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let dir = db
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        WalSync {
            wal: PathBuf::from(wal),
            dir,
            state: Mutex::new(SyncState::default()),
            done: Condvar::new(),
            fsyncs: AtomicU64::new(0),
        }
    }

    /// Returns once commit `n` is durable; `commits` is the store's commit counter.
    fn wait_durable(&self, n: u64, commits: &AtomicU64) -> Result<(), PlatformStoreError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if state.synced >= n {
                return Ok(());
            }
            if state.syncing {
                state = self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.syncing = true;
            // Every commit counted here has written its frames: the counter moves after
            // the commit returns, under the writer's lock.
            let target = commits.load(Ordering::Acquire);
            let file = state.file.take();
            drop(state);
            let (result, file) = self.fsync(file);
            state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.syncing = false;
            state.file = file;
            if result.is_ok() {
                state.synced = state.synced.max(target);
            }
            self.done.notify_all();
            result?;
        }
    }

    /// Fsyncs the `-wal` file (and the directory when the file is new to us, so its name
    /// survives too). No `-wal` file means SQLite checkpointed and removed it, which
    /// synced the database first: nothing to do.
    fn fsync(
        &self,
        file: Option<(std::fs::File, u64)>,
    ) -> (Result<(), PlatformStoreError>, Option<(std::fs::File, u64)>) {
        use std::os::unix::fs::MetadataExt;
        let failed = |e: std::io::Error| {
            PlatformStoreError::Unavailable(format!(
                "cannot make the platform store's change durable (fsync {}): {e}",
                self.wal.display()
            ))
        };
        let inode = match std::fs::metadata(&self.wal) {
            Ok(m) => m.ino(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Ok(()), None),
            Err(e) => return (Err(failed(e)), file),
        };
        let file = match file {
            Some((f, ino)) if ino == inode => f,
            _ => {
                let opened = std::fs::File::open(&self.wal).and_then(|f| {
                    std::fs::File::open(&self.dir)?.sync_all()?;
                    Ok(f)
                });
                match opened {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Ok(()), None),
                    Err(e) => return (Err(failed(e)), None),
                }
            }
        };
        let result = file.sync_data().map_err(failed);
        if result.is_ok() {
            self.fsyncs.fetch_add(1, Ordering::Relaxed);
        }
        (result, Some((file, inode)))
    }
}

impl std::fmt::Debug for SqlitePlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlitePlatform")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Why a transaction's body stopped: SQLite's own error (which may be worth retrying when
/// it is BUSY) or a refusal of the store.
enum Failure {
    Sqlite(rusqlite::Error),
    Store(PlatformStoreError),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Sqlite(e)
    }
}

impl From<PlatformStoreError> for Failure {
    fn from(e: PlatformStoreError) -> Self {
        Failure::Store(e)
    }
}

type TxResult<T> = Result<T, Failure>;

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// The extended result code of a constraint failure (`SQLITE_CONSTRAINT_UNIQUE` …).
fn constraint_code(e: &rusqlite::Error) -> Option<i32> {
    match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation => {
            Some(f.extended_code)
        }
        _ => None,
    }
}

const SQLITE_CONSTRAINT_FOREIGNKEY: i32 = 787;
const SQLITE_CONSTRAINT_PRIMARYKEY: i32 = 1555;
const SQLITE_CONSTRAINT_UNIQUE: i32 = 2067;

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        constraint_code(e),
        Some(SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY)
    )
}

/// A unique violation becomes `Exists { kind, id }`; anything else stays SQLite's.
fn exists_or<'a>(kind: &'static str, id: &'a str) -> impl FnOnce(rusqlite::Error) -> Failure + 'a {
    move |e| {
        if is_unique_violation(&e) {
            Failure::Store(PlatformStoreError::Exists {
                kind,
                id: id.to_string(),
            })
        } else {
            Failure::Sqlite(e)
        }
    }
}

/// The store's error for a SQLite error that no method turned into something more precise.
fn store_error(what: &'static str, e: rusqlite::Error) -> PlatformStoreError {
    if is_busy(&e) {
        return PlatformStoreError::Unavailable(format!(
            "the platform store stayed locked by another writer for {} s ({what})",
            BUSY_TIMEOUT.as_secs()
        ));
    }
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if matches!(
            f.code,
            ErrorCode::CannotOpen
                | ErrorCode::NotADatabase
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::ReadOnly
                | ErrorCode::PermissionDenied
                | ErrorCode::DatabaseCorrupt
        ) {
            return PlatformStoreError::Unavailable(format!("{what}: {e}"));
        }
    }
    match constraint_code(&e) {
        Some(SQLITE_CONSTRAINT_FOREIGNKEY) => PlatformStoreError::Conflict(format!(
            "{what}: a record it names does not exist, or it is still named by another \
             record"
        )),
        Some(SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY) => {
            PlatformStoreError::Conflict(format!("{what}: {e}"))
        }
        _ => PlatformStoreError::Query {
            what,
            message: e.to_string(),
        },
    }
}

fn finish<T>(what: &'static str, r: TxResult<T>) -> Result<T, PlatformStoreError> {
    r.map_err(|f| match f {
        Failure::Sqlite(e) => store_error(what, e),
        Failure::Store(e) => e,
    })
}

/// Opens one connection with the settings every connection needs.
fn open_connection(path: &Path, read_only: bool) -> Result<Connection, PlatformStoreError> {
    let unavailable = |e: rusqlite::Error| {
        PlatformStoreError::Unavailable(format!(
            "cannot open platform store {}: {e}",
            path.display()
        ))
    };
    let conn = Connection::open(path).map_err(unavailable)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(unavailable)?;
    if !read_only {
        // Switching to WAL returns BUSY at once (no busy handler) while another
        // connection holds the file, hence the retry.
        let mode: String = crate::retry_while_busy(|| {
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        })
        .map_err(unavailable)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(PlatformStoreError::Unavailable(format!(
                "platform store {}: cannot use write-ahead logging (journal mode stays \
                 {mode}); put the data directory on a local file system",
                path.display()
            )));
        }
    }
    // NORMAL: the commit does not fsync; `SqlitePlatform::write` waits for a group fsync
    // of the `-wal` file instead (see the module's doc).
    let setup = "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
    crate::retry_while_busy(|| conn.execute_batch(setup)).map_err(unavailable)?;
    if read_only {
        // A guard: any write through a reader is a bug of this file, not a silent write
        // outside the writer's lock.
        conn.execute_batch("PRAGMA query_only = ON;")
            .map_err(unavailable)?;
    }
    Ok(conn)
}

/// Creates the database file readable by its owner only, if it does not exist yet: it
/// holds password hashes and sealed TOTP seeds. SQLite gives its `-wal` and `-shm` files
/// the database file's permissions. An existing file keeps the mode its owner chose.
fn create_owner_only(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn migrate(conn: &Connection, path: &Path) -> Result<(), PlatformStoreError> {
    let schema_error = |name: &str, e: rusqlite::Error| {
        PlatformStoreError::Schema(format!(
            "platform store {}: migration {name} failed: {e}",
            path.display()
        ))
    };
    // BEGIN IMMEDIATE: a second process opening the same file at once waits here, then
    // finds the migrations done.
    crate::retry_while_busy(|| conn.execute_batch("BEGIN IMMEDIATE"))
        .map_err(|e| schema_error("(lock)", e))?;
    let result = apply_migrations(conn, path, &schema_error);
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = conn.execute_batch(end);
    result?;
    ended.map_err(|e| schema_error("(commit)", e))
}

fn apply_migrations(
    conn: &Connection,
    path: &Path,
    schema_error: &dyn Fn(&str, rusqlite::Error) -> PlatformStoreError,
) -> Result<(), PlatformStoreError> {
    let known = MIGRATIONS.len() as i64;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at INTEGER NOT NULL DEFAULT (unixepoch())
         );",
    )
    .map_err(|e| schema_error("schema_version", e))?;
    let found: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(|e| schema_error("schema_version", e))?;
    if found > known {
        return Err(PlatformStoreError::Schema(format!(
            "platform store {} has schema version {found}, newer than this shuan knows \
             ({known}); upgrade shuan, or open a store written by this version",
            path.display()
        )));
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        conn.execute_batch(sql).map_err(|e| schema_error(name, e))?;
        conn.execute(
            "INSERT INTO schema_version (version, name) VALUES (?1, ?2)",
            params![i as i64 + 1, name],
        )
        .map_err(|e| schema_error(name, e))?;
    }
    Ok(())
}

const USER_COLUMNS: &str = "username, display_name, department, vendor, contract_end, \
     password_hash, password_changed_at, must_change_password, totp_secret_enc, \
     totp_confirmed, totp_last_step, disabled, created_at, last_login_at";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<(User, Option<i64>)> {
    let secret: Option<Vec<u8>> = r.get(8)?;
    let last_step: Option<i64> = r.get(10)?;
    let totp = secret.map(|secret_enc| TotpRecord {
        secret_enc,
        confirmed: false,
        last_step: None,
    });
    let confirmed: bool = r.get(9)?;
    let user = User {
        username: r.get(0)?,
        display_name: r.get(1)?,
        department: r.get(2)?,
        vendor: r.get(3)?,
        contract_end: r.get(4)?,
        password_hash: r.get(5)?,
        password_changed_at: r.get(6)?,
        must_change_password: r.get(7)?,
        totp: totp.map(|t| TotpRecord { confirmed, ..t }),
        disabled: r.get(11)?,
        created_at: r.get(12)?,
        last_login_at: r.get(13)?,
    };
    Ok((user, last_step))
}

/// Puts the stored last step (signed in SQLite) into the record.
fn finish_user((mut user, last_step): (User, Option<i64>)) -> Result<User, PlatformStoreError> {
    if let Some(totp) = user.totp.as_mut() {
        totp.last_step = last_step.map(|s| to_u64("TOTP step", s)).transpose()?;
    }
    Ok(user)
}

const DEPARTMENT_COLUMNS: &str = "code, name, parent, created_at";

fn department_from_row(r: &Row<'_>) -> rusqlite::Result<Department> {
    Ok(Department {
        code: r.get(0)?,
        name: r.get(1)?,
        parent: r.get(2)?,
        created_at: r.get(3)?,
    })
}

const GRANT_COLUMNS: &str = "id, username, role, department, scope, granted_by, granted_at";

type GrantRow = (i64, String, String, String, String, String, i64);

fn grant_row(r: &Row<'_>) -> rusqlite::Result<GrantRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn stored_grant(
    (id, username, role, department, scope, granted_by, granted_at): GrantRow,
) -> Result<StoredGrant, PlatformStoreError> {
    Ok(StoredGrant {
        id,
        username,
        grant: grant_from(&role, department, &scope)?,
        granted_by,
        granted_at,
    })
}

const SESSION_COLUMNS: &str = "token_hash, id, username, kind, created_at, last_seen_at, \
     expires_at, address, user_agent, restricted";

fn session_from_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        token_hash: r.get(0)?,
        id: r.get(1)?,
        username: r.get(2)?,
        kind: r.get(3)?,
        created_at: r.get(4)?,
        last_seen_at: r.get(5)?,
        expires_at: r.get(6)?,
        address: r.get(7)?,
        user_agent: r.get(8)?,
        restricted: r.get(9)?,
    })
}

const API_KEY_COLUMNS: &str = "id, key_hash, name, role, department, scope, created_by, \
     created_at, expires_at, revoked_at, last_used_at";

/// An API key row with role and scope still as stored text.
type ApiKeyRow = (ApiKey, String, String);

fn api_key_row(r: &Row<'_>) -> rusqlite::Result<ApiKeyRow> {
    Ok((
        ApiKey {
            id: r.get(0)?,
            key_hash: r.get(1)?,
            name: r.get(2)?,
            role: shuan_access::Role::SystemAdmin,
            department: r.get(4)?,
            scope: shuan_access::DataScope::SelfOnly,
            created_by: r.get(6)?,
            created_at: r.get(7)?,
            expires_at: r.get(8)?,
            revoked_at: r.get(9)?,
            last_used_at: r.get(10)?,
        },
        r.get(3)?,
        r.get(5)?,
    ))
}

fn api_key((mut key, role, scope): ApiKeyRow) -> Result<ApiKey, PlatformStoreError> {
    let grant = grant_from(&role, String::new(), &scope)?;
    key.role = grant.role;
    key.scope = grant.scope;
    Ok(key)
}

const ELEVATION_COLUMNS: &str = "id, username, role, department, scope, reason, \
     duration_secs, requested_at, status, decided_by, decided_at, decision_note, expires_at";

type ElevationRow = (Elevation, String, String, String);

fn elevation_row(r: &Row<'_>) -> rusqlite::Result<ElevationRow> {
    Ok((
        Elevation {
            id: r.get(0)?,
            username: r.get(1)?,
            grant: Grant {
                role: shuan_access::Role::DataUser,
                department: r.get(3)?,
                scope: shuan_access::DataScope::SelfOnly,
            },
            reason: r.get(5)?,
            duration_secs: r.get(6)?,
            requested_at: r.get(7)?,
            status: ElevationStatus::Pending,
            decided_by: r.get(9)?,
            decided_at: r.get(10)?,
            decision_note: r.get(11)?,
            expires_at: r.get(12)?,
        },
        r.get(2)?,
        r.get(4)?,
        r.get(8)?,
    ))
}

fn elevation((mut e, role, scope, status): ElevationRow) -> Result<Elevation, PlatformStoreError> {
    e.grant = grant_from(&role, std::mem::take(&mut e.grant.department), &scope)?;
    e.status = parse_status(&status)?;
    Ok(e)
}

const JOB_COLUMNS: &str =
    "id, kind, owner, department, status, progress, params, result, error, created_at, updated_at";

type JobRow = (Job, String, Option<String>);

fn job_row(r: &Row<'_>) -> rusqlite::Result<JobRow> {
    Ok((
        Job {
            id: r.get(0)?,
            kind: r.get(1)?,
            owner: r.get(2)?,
            department: r.get(3)?,
            status: r.get(4)?,
            progress: r.get(5)?,
            params: serde_json::Value::Null,
            result: None,
            error: r.get(8)?,
            created_at: r.get(9)?,
            updated_at: r.get(10)?,
        },
        r.get(6)?,
        r.get(7)?,
    ))
}

fn job((mut j, params, result): JobRow) -> Result<Job, PlatformStoreError> {
    j.params = parse_json("decode job parameters", &params)?;
    j.result = result
        .map(|r| parse_json("decode job result", &r))
        .transpose()?;
    Ok(j)
}

const RECORD_COLUMNS: &str = "node, seq, time, actor, action, outcome, record_json, request_id";

fn record_row(r: &Row<'_>) -> rusqlite::Result<(MirroredRecord, i64)> {
    Ok((
        MirroredRecord {
            node: r.get(0)?,
            seq: 0,
            time: r.get(2)?,
            actor: r.get(3)?,
            action: r.get(4)?,
            outcome: r.get(5)?,
            record_json: r.get(6)?,
            request_id: r.get(7)?,
        },
        r.get(1)?,
    ))
}

fn department_exists(tx: &Connection, code: &str) -> rusqlite::Result<bool> {
    tx.prepare_cached("SELECT 1 FROM departments WHERE code = ?1")?
        .exists([code])
}

fn require_department(tx: &Connection, code: &str) -> TxResult<()> {
    if department_exists(tx, code)? {
        Ok(())
    } else {
        Err(PlatformStoreError::NotFound {
            kind: "department",
            id: code.to_string(),
        }
        .into())
    }
}

fn user_not_found(username: &str) -> Failure {
    Failure::Store(PlatformStoreError::NotFound {
        kind: "user",
        id: username.to_string(),
    })
}

/// Whether the account exists, for telling "no such account" from "nothing to change".
fn require_user(tx: &Connection, username: &str) -> TxResult<()> {
    let found = tx
        .prepare_cached("SELECT 1 FROM users WHERE username = ?1")?
        .exists([username])?;
    if found {
        Ok(())
    } else {
        Err(user_not_found(username))
    }
}

/// An account's grants and its approved elevations in force at `now`, as grants.
fn held_grants(
    tx: &Connection,
    username: &str,
    now: UnixTime,
    except_elevation: Option<i64>,
) -> TxResult<(Vec<Grant>, Vec<Grant>)> {
    let mut held = Vec::new();
    let mut stmt =
        tx.prepare_cached("SELECT role, department, scope FROM grants WHERE username = ?1")?;
    let rows = stmt.query_map([username], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?))
    })?;
    for row in rows {
        let (role, department, scope) = row?;
        held.push(grant_from(&role, department, &scope)?);
    }
    let mut elevated = Vec::new();
    let mut stmt = tx.prepare_cached(
        "SELECT role, department, scope FROM elevations \
         WHERE username = ?1 AND status = 'approved' AND expires_at > ?2 AND id <> ?3",
    )?;
    let rows = stmt.query_map(
        params![username, now, except_elevation.unwrap_or(-1)],
        |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?)),
    )?;
    for row in rows {
        let (role, department, scope) = row?;
        elevated.push(grant_from(&role, department, &scope)?);
    }
    Ok((held, elevated))
}

impl SqlitePlatform {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    /// The parent directory is created when missing.
    pub fn open(path: &Path) -> Result<SqlitePlatform, PlatformStoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                PlatformStoreError::Unavailable(format!(
                    "cannot create directory {} for the platform store: {e}",
                    dir.display()
                ))
            })?;
        }
        create_owner_only(path).map_err(|e| {
            PlatformStoreError::Unavailable(format!(
                "cannot create platform store {}: {e}",
                path.display()
            ))
        })?;
        let writer = open_connection(path, false)?;
        migrate(&writer, path)?;
        let store = SqlitePlatform {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            commits: AtomicU64::new(1),
            wal_sync: WalSync::new(path),
        };
        // The migrations (commit 1) are durable before the store is used.
        store.wal_sync.wait_durable(1, &store.commits)?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `body` on a read connection. Reads are single statements or run inside a
    /// deferred transaction by the caller, so each sees one committed state.
    fn read<T>(
        &self,
        what: &'static str,
        body: impl Fn(&Connection) -> TxResult<T>,
    ) -> Result<T, PlatformStoreError> {
        let idle = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_connection(&self.path, true)?,
        };
        let started = Instant::now();
        let result = loop {
            match body(&conn) {
                // A reader gets BUSY without the handler only while another connection
                // recovers the WAL; that ends quickly.
                Err(Failure::Sqlite(e)) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                other => break other,
            }
        };
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if readers.len() < IDLE_READERS {
            readers.push(conn);
        }
        drop(readers);
        finish(what, result)
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction on the writer, committing when it
    /// returns `Ok`, and returns once the commit is durable (group fsync, see the
    /// module's doc). The whole body runs again while SQLite answers BUSY without waiting
    /// (nothing was committed then).
    fn write<T>(
        &self,
        what: &'static str,
        mut body: impl FnMut(&Transaction<'_>) -> TxResult<T>,
    ) -> Result<T, PlatformStoreError> {
        // A thread that panicked mid-transaction dropped its Transaction, which rolled
        // back: the connection is fine to use after a poisoned lock.
        let mut conn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let started = Instant::now();
        let result = loop {
            let attempt = (|| {
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let value = body(&tx)?;
                tx.commit()?;
                Ok(value)
            })();
            match attempt {
                Err(Failure::Sqlite(e)) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                other => break other,
            }
        };
        // Counted under the lock, after the commit returned, so a syncer that reads the
        // counter covers this commit's frames. (A refusal commits nothing and returns
        // below without waiting; its count only makes a later fsync cover nothing more.)
        let commit = self.commits.fetch_add(1, Ordering::AcqRel) + 1;
        drop(conn);
        let value = finish(what, result)?;
        self.wal_sync.wait_durable(commit, &self.commits)?;
        Ok(value)
    }

    fn load_department(conn: &Connection, code: &str) -> TxResult<Option<Department>> {
        Ok(conn
            .prepare_cached(&format!(
                "SELECT {DEPARTMENT_COLUMNS} FROM departments WHERE code = ?1"
            ))?
            .query_row([code], department_from_row)
            .optional()?)
    }

    fn load_user(conn: &Connection, username: &str) -> TxResult<Option<User>> {
        let row = conn
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE username = ?1"
            ))?
            .query_row([username], user_from_row)
            .optional()?;
        Ok(row.map(finish_user).transpose()?)
    }

    fn load_elevation(conn: &Connection, id: i64) -> TxResult<Option<Elevation>> {
        let row = conn
            .prepare_cached(&format!(
                "SELECT {ELEVATION_COLUMNS} FROM elevations WHERE id = ?1"
            ))?
            .query_row([id], elevation_row)
            .optional()?;
        Ok(row.map(elevation).transpose()?)
    }

    /// The compare-and-set of TOTP steps: the step is taken only when it is after the
    /// stored one, in the same statement that checks it.
    fn take_totp_step(
        &self,
        what: &'static str,
        username: &str,
        step: u64,
        confirm: bool,
    ) -> Result<bool, PlatformStoreError> {
        let step = to_i64("TOTP step", step)?;
        self.write(what, |tx| {
            let sql = if confirm {
                "UPDATE users SET totp_last_step = ?2, totp_confirmed = 1 \
                 WHERE username = ?1 AND totp_secret_enc IS NOT NULL \
                 AND (totp_last_step IS NULL OR totp_last_step < ?2)"
            } else {
                "UPDATE users SET totp_last_step = ?2 \
                 WHERE username = ?1 AND totp_secret_enc IS NOT NULL \
                 AND (totp_last_step IS NULL OR totp_last_step < ?2)"
            };
            if tx.prepare_cached(sql)?.execute(params![username, step])? == 1 {
                return Ok(true);
            }
            let has_totp: Option<bool> = tx
                .prepare_cached(
                    "SELECT totp_secret_enc IS NOT NULL FROM users WHERE username = ?1",
                )?
                .query_row([username], |r| r.get(0))
                .optional()?;
            match has_totp {
                None => Err(user_not_found(username)),
                Some(false) => Err(PlatformStoreError::Conflict(format!(
                    "account {username} has no TOTP enrolment"
                ))
                .into()),
                Some(true) => Ok(false),
            }
        })
    }
}

impl PlatformStore for SqlitePlatform {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn ping(&self) -> Result<(), PlatformStoreError> {
        self.read("ping", |c| {
            c.prepare_cached("SELECT 1")?.query_row([], |_| Ok(()))?;
            Ok(())
        })
    }

    fn create_department(&self, d: &Department) -> Result<(), PlatformStoreError> {
        self.write("create department", |tx| {
            if let Some(parent) = &d.parent {
                require_department(tx, parent)?;
            }
            tx.prepare_cached(
                "INSERT INTO departments (code, name, parent, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![d.code, d.name, d.parent, d.created_at])
            .map_err(exists_or("department", &d.code))?;
            Ok(())
        })
    }

    fn department(&self, code: &str) -> Result<Option<Department>, PlatformStoreError> {
        self.read("read department", |c| Self::load_department(c, code))
    }

    fn departments(&self) -> Result<Vec<Department>, PlatformStoreError> {
        self.read("list departments", |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {DEPARTMENT_COLUMNS} FROM departments ORDER BY code"
            ))?;
            let rows = stmt.query_map([], department_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn update_department(
        &self,
        code: &str,
        name: Option<&str>,
        parent: Option<Option<&str>>,
    ) -> Result<Department, PlatformStoreError> {
        self.write("update department", |tx| {
            let Some(mut d) = Self::load_department(tx, code)? else {
                return Err(PlatformStoreError::NotFound {
                    kind: "department",
                    id: code.to_string(),
                }
                .into());
            };
            if let Some(name) = name {
                d.name = name.to_string();
            }
            if let Some(new_parent) = parent {
                if let Some(p) = new_parent {
                    require_department(tx, p)?;
                    // A cycle forms when the department is the new parent or one of its
                    // ancestors. UNION (not UNION ALL) ends the walk even on a damaged tree.
                    let cycle = tx
                        .prepare_cached(
                            "WITH RECURSIVE up(code, parent) AS ( \
                               SELECT code, parent FROM departments WHERE code = ?1 \
                               UNION SELECT d.code, d.parent FROM departments d \
                                 JOIN up ON d.code = up.parent) \
                             SELECT 1 FROM up WHERE code = ?2",
                        )?
                        .exists(params![p, code])?;
                    if cycle {
                        return Err(PlatformStoreError::Conflict(format!(
                            "moving department {code} under {p} would make a cycle ({p} is \
                             {code} or lies below it)"
                        ))
                        .into());
                    }
                }
                d.parent = new_parent.map(str::to_string);
            }
            tx.prepare_cached("UPDATE departments SET name = ?2, parent = ?3 WHERE code = ?1")?
                .execute(params![code, d.name, d.parent])?;
            Ok(d)
        })
    }

    fn delete_department(&self, code: &str) -> Result<(), PlatformStoreError> {
        self.write("delete department", |tx| {
            if !department_exists(tx, code)? {
                return Err(PlatformStoreError::NotFound {
                    kind: "department",
                    id: code.to_string(),
                }
                .into());
            }
            for (table, column, what) in [
                ("departments", "parent", "child departments"),
                ("users", "department", "accounts"),
                ("grants", "department", "role grants"),
                ("api_keys", "department", "API keys"),
            ] {
                let n: i64 = tx
                    .prepare_cached(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = ?1"))?
                    .query_row([code], |r| r.get(0))?;
                if n > 0 {
                    return Err(PlatformStoreError::Conflict(format!(
                        "department {code} still has {n} {what}; move or remove them first"
                    ))
                    .into());
                }
            }
            tx.prepare_cached("DELETE FROM departments WHERE code = ?1")?
                .execute([code])?;
            Ok(())
        })
    }

    fn create_user(&self, u: &User) -> Result<(), PlatformStoreError> {
        let last_step = u
            .totp
            .as_ref()
            .and_then(|t| t.last_step)
            .map(|s| to_i64("TOTP step", s))
            .transpose()?;
        self.write("create account", |tx| {
            require_department(tx, &u.department)?;
            tx.prepare_cached(&format!(
                "INSERT INTO users ({USER_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ))?
            .execute(params![
                u.username,
                u.display_name,
                u.department,
                u.vendor,
                u.contract_end,
                u.password_hash,
                u.password_changed_at,
                u.must_change_password,
                u.totp.as_ref().map(|t| &t.secret_enc),
                u.totp.as_ref().is_some_and(|t| t.confirmed),
                last_step,
                u.disabled,
                u.created_at,
                u.last_login_at,
            ])
            .map_err(exists_or("user", &u.username))?;
            Ok(())
        })
    }

    fn user(&self, username: &str) -> Result<Option<User>, PlatformStoreError> {
        self.read("read account", |c| Self::load_user(c, username))
    }

    fn users(&self) -> Result<Vec<User>, PlatformStoreError> {
        self.read("list accounts", |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY username"
            ))?;
            let rows = stmt.query_map([], user_from_row)?;
            let mut users = Vec::new();
            for row in rows {
                users.push(finish_user(row?)?);
            }
            Ok(users)
        })
    }

    fn update_user(&self, username: &str, update: &UserUpdate) -> Result<User, PlatformStoreError> {
        self.write("update account", |tx| {
            let Some(mut u) = Self::load_user(tx, username)? else {
                return Err(user_not_found(username));
            };
            if let Some(department) = &update.department {
                require_department(tx, department)?;
                u.department = department.clone();
            }
            if let Some(name) = &update.display_name {
                u.display_name = name.clone();
            }
            if let Some(disabled) = update.disabled {
                u.disabled = disabled;
            }
            if let Some(contract_end) = &update.contract_end {
                u.contract_end = contract_end.clone();
            }
            tx.prepare_cached(
                "UPDATE users SET display_name = ?2, department = ?3, disabled = ?4, \
                 contract_end = ?5 WHERE username = ?1",
            )?
            .execute(params![
                username,
                u.display_name,
                u.department,
                u.disabled,
                u.contract_end
            ])?;
            Ok(u)
        })
    }

    fn set_password(
        &self,
        username: &str,
        hash: &str,
        must_change: bool,
        now: UnixTime,
        keep_history: usize,
    ) -> Result<(), PlatformStoreError> {
        self.write("set password", |tx| {
            let old: Option<String> = tx
                .prepare_cached("SELECT password_hash FROM users WHERE username = ?1")?
                .query_row([username], |r| r.get(0))
                .optional()?;
            let Some(old) = old else {
                return Err(user_not_found(username));
            };
            tx.prepare_cached(
                "INSERT INTO password_history (username, password_hash, replaced_at) \
                 VALUES (?1, ?2, ?3)",
            )?
            .execute(params![username, old, now])?;
            tx.prepare_cached(
                "DELETE FROM password_history WHERE username = ?1 AND id NOT IN ( \
                   SELECT id FROM password_history WHERE username = ?1 \
                   ORDER BY id DESC LIMIT ?2)",
            )?
            .execute(params![username, clamp_i64(keep_history)])?;
            tx.prepare_cached(
                "UPDATE users SET password_hash = ?2, password_changed_at = ?3, \
                 must_change_password = ?4 WHERE username = ?1",
            )?
            .execute(params![username, hash, now, must_change])?;
            Ok(())
        })
    }

    fn password_history(&self, username: &str) -> Result<Vec<String>, PlatformStoreError> {
        self.read("read password history", |c| {
            let mut stmt = c.prepare_cached(
                "SELECT password_hash FROM password_history WHERE username = ?1 \
                 ORDER BY id DESC",
            )?;
            let rows = stmt.query_map([username], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
        })
    }

    fn set_totp(&self, username: &str, secret_enc: &[u8]) -> Result<(), PlatformStoreError> {
        self.write("start TOTP enrolment", |tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE users SET totp_secret_enc = ?2, totp_confirmed = 0 \
                     WHERE username = ?1",
                )?
                .execute(params![username, secret_enc])?;
            if n == 0 {
                return Err(user_not_found(username));
            }
            Ok(())
        })
    }

    fn confirm_totp(&self, username: &str, step: u64) -> Result<bool, PlatformStoreError> {
        self.take_totp_step("confirm TOTP", username, step, true)
    }

    fn advance_totp_step(&self, username: &str, step: u64) -> Result<bool, PlatformStoreError> {
        self.take_totp_step("record TOTP step", username, step, false)
    }

    fn clear_totp(&self, username: &str) -> Result<(), PlatformStoreError> {
        self.write("reset TOTP", |tx| {
            // The last step stays: a code seen before the reset is still refused after a
            // new enrolment within the same 30 s.
            let n = tx
                .prepare_cached(
                    "UPDATE users SET totp_secret_enc = NULL, totp_confirmed = 0 \
                     WHERE username = ?1",
                )?
                .execute([username])?;
            if n == 0 {
                return Err(user_not_found(username));
            }
            Ok(())
        })
    }

    fn touch_login(&self, username: &str, now: UnixTime) -> Result<(), PlatformStoreError> {
        self.write("record sign-in", |tx| {
            let n = tx
                .prepare_cached("UPDATE users SET last_login_at = ?2 WHERE username = ?1")?
                .execute(params![username, now])?;
            if n == 0 {
                return Err(user_not_found(username));
            }
            Ok(())
        })
    }

    fn add_grant(
        &self,
        username: &str,
        grant: &Grant,
        granted_by: &str,
        now: UnixTime,
    ) -> Result<StoredGrant, PlatformStoreError> {
        let scope = scope_text(&grant.scope)?;
        // BEGIN IMMEDIATE holds the write lock from the first read: no other grant can
        // land between reading the account's grants and inserting this one.
        self.write("add grant", |tx| {
            let vendor: Option<bool> = tx
                .prepare_cached("SELECT vendor FROM users WHERE username = ?1")?
                .query_row([username], |r| r.get(0))
                .optional()?;
            let Some(vendor) = vendor else {
                return Err(user_not_found(username));
            };
            require_department(tx, &grant.department)?;
            let (held, elevated) = held_grants(tx, username, now, None)?;
            check_separation(vendor, &held, &elevated, grant)?;
            let id: i64 = tx
                .prepare_cached(
                    "INSERT INTO grants (username, role, department, scope, granted_by, \
                     granted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                )?
                .query_row(
                    params![
                        username,
                        grant.role.id(),
                        grant.department,
                        scope,
                        granted_by,
                        now
                    ],
                    |r| r.get(0),
                )?;
            Ok(StoredGrant {
                id,
                username: username.to_string(),
                grant: grant.clone(),
                granted_by: granted_by.to_string(),
                granted_at: now,
            })
        })
    }

    fn remove_grant(&self, username: &str, id: i64) -> Result<(), PlatformStoreError> {
        self.write("remove grant", |tx| {
            let n = tx
                .prepare_cached("DELETE FROM grants WHERE id = ?1 AND username = ?2")?
                .execute(params![id, username])?;
            if n == 0 {
                return Err(PlatformStoreError::NotFound {
                    kind: "grant",
                    id: format!("{id} of {username}"),
                }
                .into());
            }
            Ok(())
        })
    }

    fn grants(&self, username: &str) -> Result<Vec<StoredGrant>, PlatformStoreError> {
        self.read("list grants", |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {GRANT_COLUMNS} FROM grants WHERE username = ?1 ORDER BY id"
            ))?;
            let rows = stmt.query_map([username], grant_row)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(stored_grant(row?)?);
            }
            Ok(out)
        })
    }

    fn all_grants(&self) -> Result<Vec<StoredGrant>, PlatformStoreError> {
        self.read("list grants", |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {GRANT_COLUMNS} FROM grants ORDER BY username, id"
            ))?;
            let rows = stmt.query_map([], grant_row)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(stored_grant(row?)?);
            }
            Ok(out)
        })
    }

    fn create_session(&self, s: &Session) -> Result<(), PlatformStoreError> {
        self.write("create session", |tx| {
            require_user(tx, &s.username)?;
            tx.prepare_cached(&format!(
                "INSERT INTO sessions ({SESSION_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ))?
            .execute(params![
                s.token_hash,
                s.id,
                s.username,
                s.kind,
                s.created_at,
                s.last_seen_at,
                s.expires_at,
                s.address,
                s.user_agent,
                s.restricted
            ])
            .map_err(exists_or("session", &s.id))?;
            Ok(())
        })
    }

    fn session_by_token(
        &self,
        token_hash: &str,
        now: UnixTime,
        idle_secs: i64,
        touch_after_secs: i64,
    ) -> Result<Option<Session>, PlatformStoreError> {
        // Read on a reader; go to the writer only when the touch is due, so most requests
        // never queue behind it.
        let read = || {
            self.read("read session", |c| {
                Ok(c.prepare_cached(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1"
                ))?
                .query_row([token_hash], session_from_row)
                .optional()?)
            })
        };
        let Some(s) = read()?.filter(|s| session_alive(s, now, idle_secs)) else {
            return Ok(None);
        };
        if now.saturating_sub(s.last_seen_at) <= touch_after_secs {
            return Ok(Some(s));
        }
        // The touch checks liveness again in its own statement: a session ended or
        // expired since the read is not revived.
        let touched = self.write("touch session", |tx| {
            Ok(tx
                .prepare_cached(&format!(
                    "UPDATE sessions SET last_seen_at = ?2 \
                     WHERE token_hash = ?1 AND last_seen_at < ?2 AND expires_at > ?2 \
                     AND last_seen_at > ?3 RETURNING {SESSION_COLUMNS}"
                ))?
                .query_row(
                    params![token_hash, now, now.saturating_sub(idle_secs)],
                    session_from_row,
                )
                .optional()?)
        })?;
        match touched {
            Some(s) => Ok(Some(s)),
            // Ended, or touched by a concurrent request: answer from what is stored now.
            None => Ok(read()?.filter(|s| session_alive(s, now, idle_secs))),
        }
    }

    fn unrestrict_session(&self, token_hash: &str) -> Result<(), PlatformStoreError> {
        self.write("unrestrict session", |tx| {
            let n = tx
                .prepare_cached("UPDATE sessions SET restricted = 0 WHERE token_hash = ?1")?
                .execute([token_hash])?;
            if n == 0 {
                return Err(PlatformStoreError::NotFound {
                    kind: "session",
                    id: "with this token".into(),
                }
                .into());
            }
            Ok(())
        })
    }

    fn sessions(
        &self,
        username: Option<&str>,
        now: UnixTime,
        idle_secs: i64,
    ) -> Result<Vec<Session>, PlatformStoreError> {
        self.read("list sessions", |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions \
                 WHERE (?1 IS NULL OR username = ?1) AND expires_at > ?2 AND last_seen_at > ?3 \
                 ORDER BY username, created_at, id"
            ))?;
            let rows = stmt.query_map(
                params![username, now, now.saturating_sub(idle_secs)],
                session_from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn delete_session(&self, token_hash: &str) -> Result<bool, PlatformStoreError> {
        self.write("end session", |tx| {
            Ok(tx
                .prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
                .execute([token_hash])?
                > 0)
        })
    }

    fn delete_session_by_id(&self, id: &str) -> Result<bool, PlatformStoreError> {
        self.write("end session", |tx| {
            Ok(tx
                .prepare_cached("DELETE FROM sessions WHERE id = ?1")?
                .execute([id])?
                > 0)
        })
    }

    fn delete_sessions_of(&self, username: &str) -> Result<u64, PlatformStoreError> {
        self.write("end sessions", |tx| {
            Ok(tx
                .prepare_cached("DELETE FROM sessions WHERE username = ?1")?
                .execute([username])? as u64)
        })
    }

    fn record_login_failure(
        &self,
        username: &str,
        address: &str,
        now: UnixTime,
    ) -> Result<(), PlatformStoreError> {
        self.write("record failed sign-in", |tx| {
            tx.prepare_cached(
                "INSERT INTO login_failures (username, address, at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![username, address, now])?;
            Ok(())
        })
    }

    fn failures_for_user(
        &self,
        username: &str,
        since: UnixTime,
    ) -> Result<u64, PlatformStoreError> {
        self.read("count failed sign-ins", |c| {
            let n: i64 = c
                .prepare_cached(
                    "SELECT COUNT(*) FROM login_failures \
                     WHERE username = ?1 AND at >= ?2 AND user_cleared = 0",
                )?
                .query_row(params![username, since], |r| r.get(0))?;
            Ok(to_u64("failure count", n)?)
        })
    }

    fn failures_for_address(
        &self,
        address: &str,
        since: UnixTime,
    ) -> Result<u64, PlatformStoreError> {
        self.read("count failed sign-ins", |c| {
            let n: i64 = c
                .prepare_cached(
                    "SELECT COUNT(*) FROM login_failures WHERE address = ?1 AND at >= ?2",
                )?
                .query_row(params![address, since], |r| r.get(0))?;
            Ok(to_u64("failure count", n)?)
        })
    }

    fn clear_failures_for_user(&self, username: &str) -> Result<(), PlatformStoreError> {
        self.write("clear failed sign-ins", |tx| {
            // The address keeps its count: see the schema.
            tx.prepare_cached("UPDATE login_failures SET user_cleared = 1 WHERE username = ?1 AND user_cleared = 0")?
                .execute([username])?;
            Ok(())
        })
    }

    fn purge_expired(
        &self,
        now: UnixTime,
        idle_secs: i64,
        failures_before: UnixTime,
    ) -> Result<Purged, PlatformStoreError> {
        self.write("purge expired sessions and failed sign-ins", |tx| {
            // The negation of `session_alive`, overflow included (saturating there).
            let sessions = tx
                .prepare_cached(
                    "DELETE FROM sessions WHERE expires_at <= ?1 \
                     OR last_seen_at <= ?1 - ?2",
                )?
                .execute(params![now, idle_secs.clamp(0, i64::MAX / 2)])?;
            let failures = tx
                .prepare_cached("DELETE FROM login_failures WHERE at < ?1")?
                .execute([failures_before])?;
            Ok(Purged {
                sessions: sessions as u64,
                failures: failures as u64,
            })
        })
    }

    fn create_api_key(&self, k: &ApiKey) -> Result<(), PlatformStoreError> {
        let scope = scope_text(&k.scope)?;
        self.write("create API key", |tx| {
            require_department(tx, &k.department)?;
            tx.prepare_cached(&format!(
                "INSERT INTO api_keys ({API_KEY_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ))?
            .execute(params![
                k.id,
                k.key_hash,
                k.name,
                k.role.id(),
                k.department,
                scope,
                k.created_by,
                k.created_at,
                k.expires_at,
                k.revoked_at,
                k.last_used_at
            ])
            .map_err(exists_or("api_key", &k.id))?;
            Ok(())
        })
    }

    fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, PlatformStoreError> {
        self.read("read API key", |c| {
            let row = c
                .prepare_cached(&format!(
                    "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?1"
                ))?
                .query_row([key_hash], api_key_row)
                .optional()?;
            Ok(row.map(api_key).transpose()?)
        })
    }

    fn api_keys(&self) -> Result<Vec<ApiKey>, PlatformStoreError> {
        self.read("list API keys", |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"
            ))?;
            let rows = stmt.query_map([], api_key_row)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(api_key(row?)?);
            }
            Ok(out)
        })
    }

    fn revoke_api_key(&self, id: &str, now: UnixTime) -> Result<(), PlatformStoreError> {
        self.write("revoke API key", |tx| {
            // A second revocation keeps the first time: that is when the key stopped.
            let n = tx
                .prepare_cached(
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                )?
                .execute(params![id, now])?;
            if n == 0 {
                return Err(PlatformStoreError::NotFound {
                    kind: "api_key",
                    id: id.to_string(),
                }
                .into());
            }
            Ok(())
        })
    }

    fn touch_api_key(&self, id: &str, now: UnixTime) -> Result<(), PlatformStoreError> {
        self.write("record API key use", |tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 \
                     AND (last_used_at IS NULL OR last_used_at <= ?2 - 60)",
                )?
                .execute(params![id, now])?;
            if n == 0 {
                let exists = tx
                    .prepare_cached("SELECT 1 FROM api_keys WHERE id = ?1")?
                    .exists([id])?;
                if !exists {
                    return Err(PlatformStoreError::NotFound {
                        kind: "api_key",
                        id: id.to_string(),
                    }
                    .into());
                }
            }
            Ok(())
        })
    }

    fn setting(&self, key: &str) -> Result<Option<serde_json::Value>, PlatformStoreError> {
        self.read("read setting", |c| {
            let text: Option<String> = c
                .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
                .query_row([key], |r| r.get(0))
                .optional()?;
            Ok(text.map(|t| parse_json("decode setting", &t)).transpose()?)
        })
    }

    fn set_setting(
        &self,
        key: &str,
        value: &serde_json::Value,
        now: UnixTime,
    ) -> Result<(), PlatformStoreError> {
        let text = json_text("encode setting", value)?;
        self.write("set setting", |tx| {
            tx.prepare_cached(
                "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 updated_at = excluded.updated_at",
            )?
            .execute(params![key, text, now])?;
            Ok(())
        })
    }

    fn add_policy(&self, p: &StoredPolicy) -> Result<(), PlatformStoreError> {
        self.write("add policy", |tx| {
            tx.prepare_cached(
                "INSERT INTO policies (id, text, description, created_by, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                p.id,
                p.text,
                p.description,
                p.created_by,
                p.created_at
            ])
            .map_err(exists_or("policy", &p.id))?;
            tx.prepare_cached("UPDATE policy_generation SET generation = generation + 1")?
                .execute([])?;
            Ok(())
        })
    }

    fn remove_policy(&self, id: &str) -> Result<(), PlatformStoreError> {
        self.write("remove policy", |tx| {
            let n = tx
                .prepare_cached("DELETE FROM policies WHERE id = ?1")?
                .execute([id])?;
            if n == 0 {
                return Err(PlatformStoreError::NotFound {
                    kind: "policy",
                    id: id.to_string(),
                }
                .into());
            }
            tx.prepare_cached("UPDATE policy_generation SET generation = generation + 1")?
                .execute([])?;
            Ok(())
        })
    }

    fn policies(&self) -> Result<Vec<StoredPolicy>, PlatformStoreError> {
        self.read("list policies", |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, text, description, created_by, created_at FROM policies ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(StoredPolicy {
                    id: r.get(0)?,
                    text: r.get(1)?,
                    description: r.get(2)?,
                    created_by: r.get(3)?,
                    created_at: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn policy_generation(&self) -> Result<i64, PlatformStoreError> {
        self.read("read policy generation", |c| {
            Ok(
                c.prepare_cached("SELECT generation FROM policy_generation WHERE id = 1")?
                    .query_row([], |r| r.get(0))?,
            )
        })
    }

    fn request_elevation(&self, e: &Elevation) -> Result<i64, PlatformStoreError> {
        let scope = scope_text(&e.grant.scope)?;
        self.write("request elevation", |tx| {
            require_user(tx, &e.username)?;
            Ok(tx
                .prepare_cached(
                    "INSERT INTO elevations (username, role, department, scope, reason, \
                     duration_secs, requested_at, status) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending') RETURNING id",
                )?
                .query_row(
                    params![
                        e.username,
                        e.grant.role.id(),
                        e.grant.department,
                        scope,
                        e.reason,
                        e.duration_secs,
                        e.requested_at
                    ],
                    |r| r.get(0),
                )?)
        })
    }

    fn elevation(&self, id: i64) -> Result<Option<Elevation>, PlatformStoreError> {
        self.read("read elevation", |c| Self::load_elevation(c, id))
    }

    fn elevations(
        &self,
        username: Option<&str>,
        status: Option<ElevationStatus>,
    ) -> Result<Vec<Elevation>, PlatformStoreError> {
        self.read("list elevations", |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {ELEVATION_COLUMNS} FROM elevations \
                 WHERE (?1 IS NULL OR username = ?1) AND (?2 IS NULL OR status = ?2) \
                 ORDER BY id DESC"
            ))?;
            let rows = stmt.query_map(
                params![username, status.map(ElevationStatus::as_str)],
                elevation_row,
            )?;
            let mut out = Vec::new();
            for row in rows {
                out.push(elevation(row?)?);
            }
            Ok(out)
        })
    }

    fn decide_elevation(
        &self,
        id: i64,
        approve: bool,
        decided_by: &str,
        note: Option<&str>,
        now: UnixTime,
    ) -> Result<Elevation, PlatformStoreError> {
        self.write("decide elevation", |tx| {
            let Some(mut e) = Self::load_elevation(tx, id)? else {
                return Err(PlatformStoreError::NotFound {
                    kind: "elevation",
                    id: id.to_string(),
                }
                .into());
            };
            if e.status != ElevationStatus::Pending {
                return Err(PlatformStoreError::Conflict(format!(
                    "elevation {id} was already {} by {}",
                    e.status.as_str(),
                    e.decided_by.as_deref().unwrap_or("someone")
                ))
                .into());
            }
            if approve {
                let vendor: bool = tx
                    .prepare_cached("SELECT vendor FROM users WHERE username = ?1")?
                    .query_row([&e.username], |r| r.get(0))
                    .optional()?
                    .ok_or_else(|| user_not_found(&e.username))?;
                let (held, mut elevated) = held_grants(tx, &e.username, now, Some(id))?;
                elevated.extend(held);
                check_separation(vendor, &[], &elevated, &e.grant)?;
                e.status = ElevationStatus::Approved;
                e.expires_at = Some(now.saturating_add(e.duration_secs));
            } else {
                e.status = ElevationStatus::Rejected;
                e.expires_at = None;
            }
            e.decided_by = Some(decided_by.to_string());
            e.decided_at = Some(now);
            e.decision_note = note.map(str::to_string);
            tx.prepare_cached(
                "UPDATE elevations SET status = ?2, decided_by = ?3, decided_at = ?4, \
                 decision_note = ?5, expires_at = ?6 WHERE id = ?1 AND status = 'pending'",
            )?
            .execute(params![
                id,
                e.status.as_str(),
                e.decided_by,
                e.decided_at,
                e.decision_note,
                e.expires_at
            ])?;
            Ok(e)
        })
    }

    fn active_elevations(
        &self,
        username: &str,
        now: UnixTime,
    ) -> Result<Vec<Elevation>, PlatformStoreError> {
        self.read("list elevations in force", |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {ELEVATION_COLUMNS} FROM elevations \
                 WHERE username = ?1 AND status = 'approved' AND expires_at > ?2 \
                 ORDER BY id"
            ))?;
            let rows = stmt.query_map(params![username, now], elevation_row)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(elevation(row?)?);
            }
            Ok(out)
        })
    }

    fn create_job(&self, j: &Job) -> Result<i64, PlatformStoreError> {
        let params_text = json_text("encode job parameters", &j.params)?;
        let result_text = j
            .result
            .as_ref()
            .map(|r| json_text("encode job result", r))
            .transpose()?;
        self.write("file job", |tx| {
            Ok(tx
                .prepare_cached(
                    "INSERT INTO jobs (kind, owner, department, status, progress, params, \
                     result, error, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
                )?
                .query_row(
                    params![
                        j.kind,
                        j.owner,
                        j.department,
                        j.status,
                        j.progress,
                        params_text,
                        result_text,
                        j.error,
                        j.created_at,
                        j.updated_at
                    ],
                    |r| r.get(0),
                )?)
        })
    }

    fn update_job(&self, j: &Job) -> Result<(), PlatformStoreError> {
        let result_text = j
            .result
            .as_ref()
            .map(|r| json_text("encode job result", r))
            .transpose()?;
        self.write("update job", |tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE jobs SET status = ?2, progress = ?3, result = ?4, error = ?5, \
                     updated_at = ?6 WHERE id = ?1",
                )?
                .execute(params![
                    j.id,
                    j.status,
                    j.progress,
                    result_text,
                    j.error,
                    j.updated_at
                ])?;
            if n == 0 {
                return Err(PlatformStoreError::NotFound {
                    kind: "job",
                    id: j.id.to_string(),
                }
                .into());
            }
            Ok(())
        })
    }

    fn job(&self, id: i64) -> Result<Option<Job>, PlatformStoreError> {
        self.read("read job", |c| {
            let row = c
                .prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"))?
                .query_row([id], job_row)
                .optional()?;
            Ok(row.map(job).transpose()?)
        })
    }

    fn jobs(&self, owner: Option<&str>, limit: usize) -> Result<Vec<Job>, PlatformStoreError> {
        let limit = if limit == 0 { -1 } else { clamp_i64(limit) };
        self.read("list jobs", |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE (?1 IS NULL OR owner = ?1) \
                 ORDER BY id DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![owner, limit], job_row)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(job(row?)?);
            }
            Ok(out)
        })
    }

    fn mirror_records(&self, records: &[MirroredRecord]) -> Result<(), PlatformStoreError> {
        let seqs = records
            .iter()
            .map(|r| to_i64("ledger sequence number", r.seq))
            .collect::<Result<Vec<_>, _>>()?;
        self.write("copy audit records", |tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO audit_mirror (node, seq, time, actor, action, outcome, \
                 request_id, record_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (node, seq) DO NOTHING",
            )?;
            for (r, seq) in records.iter().zip(&seqs) {
                stmt.execute(params![
                    r.node,
                    seq,
                    r.time,
                    r.actor,
                    r.action,
                    r.outcome,
                    r.request_id,
                    r.record_json
                ])?;
            }
            Ok(())
        })
    }

    fn mirrored_upto(&self, node: &str) -> Result<u64, PlatformStoreError> {
        self.read("read copied audit position", |c| {
            let n: i64 = c
                .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM audit_mirror WHERE node = ?1")?
                .query_row([node], |r| r.get(0))?;
            Ok(to_u64("ledger sequence number", n)?)
        })
    }

    fn audit_summary(
        &self,
        since: UnixTime,
        until: UnixTime,
    ) -> Result<AuditSummary, PlatformStoreError> {
        self.read("summarise audit records", |c| {
            let in_range: i64 = c
                .prepare_cached("SELECT COUNT(*) FROM audit_mirror WHERE time >= ?1 AND time < ?2")?
                .query_row([since, until], |r| r.get(0))?;
            let oldest: Option<i64> = c
                .prepare_cached("SELECT MIN(time) FROM audit_mirror")?
                .query_row([], |r| r.get(0))?;
            Ok(AuditSummary {
                records_in_range: to_u64("audit record count", in_range)?,
                oldest_time: oldest,
            })
        })
    }

    fn audit_search(&self, f: &AuditFilter) -> Result<Vec<MirroredRecord>, PlatformStoreError> {
        // Only the filters given become conditions, so each shape of search gets a plan
        // that uses its index.
        let mut conditions: Vec<&str> = Vec::new();
        let mut values: Vec<rusqlite::types::Value> = Vec::new();
        let text = |s: &String| rusqlite::types::Value::Text(s.clone());
        for (column, value) in [
            ("node = ?", &f.node),
            ("actor = ?", &f.actor),
            ("action = ?", &f.action),
            ("outcome = ?", &f.outcome),
            ("request_id = ?", &f.request_id),
        ] {
            if let Some(v) = value {
                conditions.push(column);
                values.push(text(v));
            }
        }
        if let Some(since) = f.since {
            conditions.push("time >= ?");
            values.push(rusqlite::types::Value::Integer(since));
        }
        if let Some(until) = f.until {
            conditions.push("time < ?");
            values.push(rusqlite::types::Value::Integer(until));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let limit = if f.limit == 0 { -1 } else { clamp_i64(f.limit) };
        values.push(rusqlite::types::Value::Integer(limit));
        values.push(rusqlite::types::Value::Integer(clamp_i64(f.offset)));
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM audit_mirror {filter} \
             ORDER BY time DESC, node DESC, seq DESC LIMIT ? OFFSET ?"
        );
        self.read("search audit records", |c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(values.iter()), record_row)?;
            let mut out = Vec::new();
            for row in rows {
                let (mut r, seq) = row?;
                r.seq = to_u64("ledger sequence number", seq)?;
                out.push(r);
            }
            Ok(out)
        })
    }

    fn mirror_checkpoint(&self, c: &MirroredCheckpoint) -> Result<(), PlatformStoreError> {
        let size = to_i64("checkpoint size", c.size)?;
        self.write("copy checkpoint", |tx| {
            tx.prepare_cached(
                "INSERT INTO audit_checkpoints (node, size, checkpoint_json) \
                 VALUES (?1, ?2, ?3) ON CONFLICT (node, size) DO NOTHING",
            )?
            .execute(params![c.node, size, c.checkpoint_json])?;
            Ok(())
        })
    }

    fn checkpoints(
        &self,
        node: Option<&str>,
    ) -> Result<Vec<MirroredCheckpoint>, PlatformStoreError> {
        self.read("list checkpoints", |c| {
            let mut stmt = c.prepare_cached(
                "SELECT node, size, checkpoint_json FROM audit_checkpoints \
                 WHERE (?1 IS NULL OR node = ?1) ORDER BY node, size",
            )?;
            let rows = stmt.query_map([node], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get(2)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (node, size, checkpoint_json) = row?;
                out.push(MirroredCheckpoint {
                    node,
                    size: to_u64("checkpoint size", size)?,
                    checkpoint_json,
                });
            }
            Ok(out)
        })
    }
}

/// The sharing records' statements on a SQLite connection (or transaction).
struct SqliteExec<'a>(&'a Connection);

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self {
            Val::Null => ToSqlOutput::Owned(Value::Null),
            Val::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Val::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Val::Bool(v) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
            Val::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
        })
    }
}

impl Exec for SqliteExec<'_> {
    type Fail = Failure;
    const FOR_UPDATE: &'static str = "";

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, Failure> {
        let sql = sharing::sqlite_placeholders(sql);
        let mut stmt = self.0.prepare_cached(&sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
    }

    fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, Failure> {
        use rusqlite::types::ValueRef;
        let sql = sharing::sqlite_placeholders(sql);
        let mut stmt = self.0.prepare_cached(&sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(match row.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(v) => Val::Int(v),
                    ValueRef::Real(v) => Val::Text(v.to_string()),
                    ValueRef::Text(v) => Val::Text(String::from_utf8_lossy(v).into_owned()),
                    ValueRef::Blob(v) => Val::Bytes(v.to_vec()),
                });
            }
            out.push(values);
        }
        Ok(out)
    }

    fn is_unique_violation(e: &Failure) -> bool {
        matches!(e, Failure::Sqlite(e) if is_unique_violation(e))
    }
}

impl SharingStore for SqlitePlatform {
    fn create_source(&self, s: &ShareSource) -> Result<i64, PlatformStoreError> {
        self.write("register source", |tx| {
            ops::create_source(&mut SqliteExec(tx), s)
        })
    }

    fn source(&self, id: i64) -> Result<Option<ShareSource>, PlatformStoreError> {
        self.read("read source", |c| ops::source(&mut SqliteExec(c), id))
    }

    fn sources(&self) -> Result<Vec<ShareSource>, PlatformStoreError> {
        self.read("list sources", |c| ops::sources(&mut SqliteExec(c)))
    }

    fn add_catalogue_entries(
        &self,
        source_id: i64,
        scanned_at: UnixTime,
        entries: &[CatalogueEntry],
    ) -> Result<(), PlatformStoreError> {
        self.write("add catalogue entries", |tx| {
            ops::add_catalogue_entries(&mut SqliteExec(tx), source_id, scanned_at, entries)
        })
    }

    fn catalogue_entry(&self, code: &str) -> Result<Option<CatalogueEntry>, PlatformStoreError> {
        self.read("read catalogue entry", |c| {
            ops::catalogue_entry(&mut SqliteExec(c), code)
        })
    }

    fn catalogue_entries(&self) -> Result<Vec<CatalogueEntry>, PlatformStoreError> {
        self.read("list catalogue", |c| {
            ops::catalogue_entries(&mut SqliteExec(c))
        })
    }

    fn update_catalogue_entry(
        &self,
        e: &CatalogueEntry,
    ) -> Result<CatalogueEntry, PlatformStoreError> {
        self.write("update catalogue entry", |tx| {
            ops::update_catalogue_entry(&mut SqliteExec(tx), e)
        })
    }

    fn create_share_request(&self, r: &ShareRequest) -> Result<i64, PlatformStoreError> {
        self.write("file share request", |tx| {
            ops::create_share_request(&mut SqliteExec(tx), r)
        })
    }

    fn share_request(&self, id: i64) -> Result<Option<ShareRequest>, PlatformStoreError> {
        self.read("read share request", |c| {
            ops::share_request(&mut SqliteExec(c), id)
        })
    }

    fn share_requests(
        &self,
        f: &ShareRequestFilter,
    ) -> Result<Vec<ShareRequest>, PlatformStoreError> {
        self.read("list share requests", |c| {
            ops::share_requests(&mut SqliteExec(c), f)
        })
    }

    fn decide_share_request(
        &self,
        id: i64,
        step: &str,
        approve: bool,
        approver: &str,
        comment: Option<&str>,
        now: UnixTime,
        terms: &AgreementTerms,
    ) -> Result<(ShareRequest, Option<Agreement>), PlatformStoreError> {
        self.write("decide share request", |tx| {
            ops::decide_share_request(
                &mut SqliteExec(tx),
                id,
                step,
                approve,
                approver,
                comment,
                now,
                terms,
            )
        })
    }

    fn approvals(&self, request_id: i64) -> Result<Vec<Approval>, PlatformStoreError> {
        self.read("list approvals", |c| {
            ops::approvals(&mut SqliteExec(c), request_id)
        })
    }

    fn agreement(&self, id: i64) -> Result<Option<Agreement>, PlatformStoreError> {
        self.read("read agreement", |c| ops::agreement(&mut SqliteExec(c), id))
    }

    fn agreements(
        &self,
        recipient: Option<&str>,
        resource: Option<&str>,
    ) -> Result<Vec<Agreement>, PlatformStoreError> {
        self.read("list agreements", |c| {
            ops::agreements(&mut SqliteExec(c), recipient, resource)
        })
    }

    fn set_agreement_status(
        &self,
        id: i64,
        status: AgreementStatus,
        by: &str,
        reason: Option<&str>,
        now: UnixTime,
    ) -> Result<Agreement, PlatformStoreError> {
        self.write("change agreement status", |tx| {
            ops::set_agreement_status(&mut SqliteExec(tx), id, status, by, reason, now)
        })
    }

    fn shorten_agreement(
        &self,
        id: i64,
        valid_until: UnixTime,
        by: &str,
        now: UnixTime,
    ) -> Result<Agreement, PlatformStoreError> {
        self.write("shorten agreement", |tx| {
            ops::shorten_agreement(&mut SqliteExec(tx), id, valid_until, by, now)
        })
    }

    fn create_service(&self, s: &DataService) -> Result<(), PlatformStoreError> {
        self.write("publish service", |tx| {
            ops::create_service(&mut SqliteExec(tx), s)
        })
    }

    fn service(&self, name: &str) -> Result<Option<DataService>, PlatformStoreError> {
        self.read("read service", |c| ops::service(&mut SqliteExec(c), name))
    }

    fn services(&self) -> Result<Vec<DataService>, PlatformStoreError> {
        self.read("list services", |c| ops::services(&mut SqliteExec(c)))
    }

    fn set_service_disabled(&self, name: &str, disabled: bool) -> Result<(), PlatformStoreError> {
        self.write("withdraw service", |tx| {
            ops::set_service_disabled(&mut SqliteExec(tx), name, disabled)
        })
    }

    fn usage(
        &self,
        agreement_id: i64,
        minute: UnixTime,
        day: UnixTime,
    ) -> Result<Usage, PlatformStoreError> {
        self.read("read usage", |c| {
            ops::usage(&mut SqliteExec(c), agreement_id, minute, day)
        })
    }

    fn record_call(
        &self,
        agreement_id: i64,
        minute: UnixTime,
        day: UnixTime,
        rows: i64,
        per_minute: i64,
        rows_per_day: i64,
    ) -> Result<Quota, PlatformStoreError> {
        self.write("count call", |tx| {
            ops::record_call(
                &mut SqliteExec(tx),
                agreement_id,
                minute,
                day,
                rows,
                per_minute,
                rows_per_day,
            )
        })
    }
}

super::alerts::alert_store_for!(SqlitePlatform, SqliteExec);

super::governance::governance_store_for!(SqlitePlatform, SqliteExec);

super::incidents::incident_store_for!(SqlitePlatform, SqliteExec);

super::complaints::complaint_store_for!(SqlitePlatform, SqliteExec);

super::vendors::vendor_store_for!(SqlitePlatform, SqliteExec);
super::quality::quality_store_for!(SqlitePlatform, SqliteExec);
super::backups::backup_plan_store_for!(SqlitePlatform, SqliteExec);
super::training::training_store_for!(SqlitePlatform, SqliteExec);
super::risk::risk_store_for!(SqlitePlatform, SqliteExec);
super::emergency::emergency_store_for!(SqlitePlatform, SqliteExec);
super::collections::collection_store_for!(SqlitePlatform, SqliteExec);
super::lineage::lineage_store_for!(SqlitePlatform, SqliteExec);
super::temporaries::temporary_store_for!(SqlitePlatform, SqliteExec);

#[cfg(test)]
mod tests {
    use super::*;

    fn department(code: String) -> Department {
        Department {
            code,
            name: "测试部门".into(),
            parent: None,
            created_at: 0,
        }
    }

    /// One after another, each write needs its own fsync: none returns before an fsync
    /// that started after its commit.
    #[test]
    fn every_sequential_write_waits_for_its_own_fsync() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlitePlatform::open(&dir.path().join("platform.db")).unwrap();
        let before = store.wal_sync.fsyncs.load(Ordering::Relaxed);
        assert!(before >= 1, "the migrations were synced");
        for i in 0..20 {
            store
                .create_department(&department(format!("d{i}")))
                .unwrap();
        }
        assert_eq!(store.wal_sync.fsyncs.load(Ordering::Relaxed) - before, 20);
        // A refused write commits nothing and waits for nothing.
        assert!(store.create_department(&department("d0".into())).is_err());
        assert_eq!(store.wal_sync.fsyncs.load(Ordering::Relaxed) - before, 20);
    }

    /// Concurrent writers share fsyncs, and every acknowledged write is there.
    #[test]
    fn concurrent_writes_share_fsyncs_and_none_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("platform.db");
        let store = SqlitePlatform::open(&path).unwrap();
        let before = store.wal_sync.fsyncs.load(Ordering::Relaxed);
        std::thread::scope(|s| {
            for t in 0..16 {
                let store = &store;
                s.spawn(move || {
                    for i in 0..50 {
                        store
                            .create_department(&department(format!("t{t}-{i}")))
                            .unwrap();
                    }
                });
            }
        });
        let fsyncs = store.wal_sync.fsyncs.load(Ordering::Relaxed) - before;
        assert!(
            (1..=800).contains(&fsyncs),
            "{fsyncs} fsyncs for 800 writes"
        );
        drop(store);
        let reopened = SqlitePlatform::open(&path).unwrap();
        assert_eq!(reopened.departments().unwrap().len(), 800);
    }
}
