//! PostgreSQL backend of [`super::PlatformStore`]: one database shared by several
//! stateless `shuan serve` nodes.
//!
//! Every invariant is kept by the database, not by one node's memory: separation of duties
//! is checked after locking the account's row (`SELECT … FOR UPDATE`), so two nodes
//! granting conflicting roles at once are serialized; TOTP steps move by compare-and-set
//! in one `UPDATE`; department moves take one advisory lock so two moves cannot together
//! make a cycle; migrations run under an advisory lock so nodes starting together migrate
//! once. Connections come from an r2d2 pool whose manager keeps each connection's
//! prepared statements, so a hot query costs one round trip instead of two (parse, then
//! execute).

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Row, Statement};
use shuan_access::Grant;

use super::codec::{
    check_separation, clamp_i64, grant_from, json_text, parse_json, parse_status, scope_text,
    session_alive, to_i64, to_u64,
};
use super::sharing::{ops, Exec, Val};
use super::{
    Agreement, AgreementStatus, AgreementTerms, Approval, CatalogueEntry, DataService, Quota,
    ShareRequest, ShareRequestFilter, ShareSource, SharingStore, Usage,
};
use super::{
    ApiKey, AuditFilter, AuditSummary, Department, Elevation, ElevationStatus, Job,
    MirroredCheckpoint, MirroredRecord, PlatformStore, PlatformStoreError, Purged, Session,
    StoredGrant, StoredPolicy, TotpRecord, UnixTime, User, UserUpdate,
};

/// Schema migrations, applied in order; the version is the position + 1.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_platform",
        include_str!("../../migrations/platform-postgres/0001_platform.sql"),
    ),
    (
        "0002_sharing",
        include_str!("../../migrations/platform-postgres/0002_sharing.sql"),
    ),
    (
        "0003_alerts",
        include_str!("../../migrations/platform-postgres/0003_alerts.sql"),
    ),
    (
        "0004_governance",
        include_str!("../../migrations/platform-postgres/0004_governance.sql"),
    ),
    (
        "0005_incidents",
        include_str!("../../migrations/platform-postgres/0005_incidents.sql"),
    ),
    (
        "0006_complaints",
        include_str!("../../migrations/platform-postgres/0006_complaints.sql"),
    ),
    (
        "0007_vendors",
        include_str!("../../migrations/platform-postgres/0007_vendors.sql"),
    ),
    (
        "0008_quality",
        include_str!("../../migrations/platform-postgres/0008_quality.sql"),
    ),
    (
        "0009_backup_plans",
        include_str!("../../migrations/platform-postgres/0009_backup_plans.sql"),
    ),
    (
        "0010_training",
        include_str!("../../migrations/platform-postgres/0010_training.sql"),
    ),
    (
        "0011_risk_emergency",
        include_str!("../../migrations/platform-postgres/0011_risk_emergency.sql"),
    ),
    (
        "0012_collections_lineage",
        include_str!("../../migrations/platform-postgres/0012_collections_lineage.sql"),
    ),
    (
        "0013_temporaries",
        include_str!("../../migrations/platform-postgres/0013_temporaries.sql"),
    ),
];

/// Advisory lock held while migrating ("shuan_m1"): nodes starting together migrate once.
const MIGRATION_LOCK: i64 = 0x7368_7561_6e5f_6d31;
/// Advisory lock held while the department tree changes ("shuan_dt"): two moves checked
/// for cycles in parallel could each pass and together make one.
const DEPARTMENT_TREE_LOCK: i64 = 0x7368_7561_6e5f_6474;

/// Connections a node keeps at most (each PostgreSQL connection is a server process; the
/// server's default limit is 100 for all nodes together).
pub const DEFAULT_POOL_SIZE: u32 = 10;

/// How long a request waits for a pooled connection (or a new one) before the store
/// answers `Unavailable`.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// A transaction that failed on a serialization failure or deadlock is run again this many
/// times in all (nothing of it was committed).
const ATTEMPTS: usize = 5;

/// The PostgreSQL platform store.
pub struct PgPlatform {
    pool: r2d2::Pool<PgManager>,
    /// The URL without its password, for errors.
    display: String,
}

impl std::fmt::Debug for PgPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPlatform")
            .field("url", &self.display)
            .finish_non_exhaustive()
    }
}

/// Removes the password from a PostgreSQL URL (`postgres://user:pass@host` →
/// `postgres://user@host`) and the value of any `password=` query parameter. A password
/// pasted without percent-encoding may hold `@`, `/` or `?`: everything up to the last
/// `@` is then taken as user info, which may hide more than the password, never less.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        // A key=value connection string: hide every password value.
        return url
            .split(' ')
            .map(|part| match part.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => part.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ");
    };
    let rest_start = scheme_end + 3;
    let rest = &url[rest_start..];
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..rest_start]);
    let user_end = rest.find([':', '@', '/', '?', '#']).unwrap_or(rest.len());
    let host_start = match (rest[user_end..].starts_with(':'), rest.rfind('@')) {
        (true, Some(at)) if at > user_end => {
            out.push_str(&rest[..user_end]);
            at
        }
        _ => 0,
    };
    let authority_end = host_start
        + rest[host_start..]
            .find(['/', '?', '#'])
            .unwrap_or(rest.len() - host_start);
    out.push_str(&rest[host_start..authority_end]);
    let tail = &rest[authority_end..];
    match tail.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let (query, fragment) = match query.find('#') {
                Some(h) => (&query[..h], &query[h..]),
                None => (query, ""),
            };
            let parts: Vec<String> = query
                .split('&')
                .map(|pair| {
                    let key = pair.split('=').next().unwrap_or("");
                    let secret = ["password", "pass", "pwd", "passwd", "sslpassword"]
                        .iter()
                        .any(|k| key.eq_ignore_ascii_case(k));
                    if secret {
                        format!("{key}=***")
                    } else {
                        pair.to_string()
                    }
                })
                .collect();
            out.push_str(&parts.join("&"));
            out.push_str(fragment);
        }
        None => out.push_str(tail),
    }
    out
}

/// A pooled connection and the statements prepared on it.
pub struct PgConn {
    /// Always `Some` but while the connection is dropped.
    client: Option<Client>,
    statements: HashMap<String, Statement>,
}

impl PgConn {
    fn client(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .expect("a live PgConn holds its client")
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // `postgres::Client` closes its connection by blocking on a runtime of its own,
        // which panics on a thread that drives an async runtime — as when a server's
        // worker drops the last handle on the store at shutdown. Closing on a thread of
        // its own is right on every thread.
        if let Some(client) = self.client.take() {
            let _ = std::thread::Builder::new()
                .name("shuan-pg-close".into())
                .spawn(move || drop(client));
        }
    }
}

/// Opens connections for the pool.
struct PgManager {
    config: postgres::Config,
}

impl r2d2::ManageConnection for PgManager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        Ok(PgConn {
            client: Some(self.config.connect(NoTls)?),
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.client().simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client.as_ref().is_none_or(Client::is_closed)
    }
}

/// Why a transaction's body stopped: PostgreSQL's own error (which may be worth retrying)
/// or a refusal of the store.
enum Failure {
    Pg(postgres::Error),
    Store(PlatformStoreError),
}

impl From<postgres::Error> for Failure {
    fn from(e: postgres::Error) -> Self {
        Failure::Pg(e)
    }
}

impl From<PlatformStoreError> for Failure {
    fn from(e: PlatformStoreError) -> Self {
        Failure::Store(e)
    }
}

type TxResult<T> = Result<T, Failure>;

fn sqlstate(e: &postgres::Error) -> Option<&str> {
    e.as_db_error().map(|db| db.code().code())
}

/// Serialization failures and deadlocks: the transaction was rolled back and may run again.
fn is_retryable(e: &postgres::Error) -> bool {
    matches!(sqlstate(e), Some("40001" | "40P01"))
}

/// A unique violation becomes `Exists { kind, id }`; anything else stays PostgreSQL's.
fn exists_or<'a>(kind: &'static str, id: &'a str) -> impl FnOnce(postgres::Error) -> Failure + 'a {
    move |e| {
        if sqlstate(&e) == Some("23505") {
            Failure::Store(PlatformStoreError::Exists {
                kind,
                id: id.to_string(),
            })
        } else {
            Failure::Pg(e)
        }
    }
}

/// PostgreSQL's message without the parts that may quote values: the detail of a
/// constraint or data error names the offending key (which may be a token hash).
fn pg_message(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let mut text = format!("{} (SQLSTATE {code})", db.message());
        if let Some(detail) = db
            .detail()
            .filter(|_| !code.starts_with("22") && !code.starts_with("23"))
        {
            text.push_str(&format!("; {detail}"));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(&format!(": {inner_text}"));
        }
        cause = inner.source();
    }
    text
}

/// Whether the error says the server is gone or refuses connections (the node should
/// answer 503), rather than that a statement failed.
fn is_unavailable(e: &postgres::Error) -> bool {
    match sqlstate(e) {
        Some(code) => {
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
        }
        None => {
            e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
        }
    }
}

fn store_error(what: &'static str, e: postgres::Error) -> PlatformStoreError {
    if is_unavailable(&e) {
        return PlatformStoreError::Unavailable(format!("{what}: {}", pg_message(&e)));
    }
    match sqlstate(&e) {
        Some("23503") => PlatformStoreError::Conflict(format!(
            "{what}: a record it names does not exist, or it is still named by another record"
        )),
        Some("23505") => PlatformStoreError::Conflict(format!("{what}: {}", pg_message(&e))),
        _ => PlatformStoreError::Query {
            what,
            message: pg_message(&e),
        },
    }
}

fn finish<T>(what: &'static str, r: TxResult<T>) -> Result<T, PlatformStoreError> {
    r.map_err(|f| match f {
        Failure::Pg(e) => store_error(what, e),
        Failure::Store(e) => e,
    })
}

/// A client (a connection or a transaction on it) with its connection's statement cache.
struct Db<'a, C> {
    c: &'a mut C,
    statements: &'a mut HashMap<String, Statement>,
}

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

impl<C: GenericClient> Db<'_, C> {
    /// The prepared statement for `sql`, prepared once per connection. Prepared
    /// statements live as long as the connection, whether or not the transaction that
    /// prepared them commits.
    fn stmt(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.c.prepare(sql)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        let s = self.stmt(sql)?;
        self.c.query(&s, params)
    }

    fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, postgres::Error> {
        let s = self.stmt(sql)?;
        self.c.query_opt(&s, params)
    }

    fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error> {
        let s = self.stmt(sql)?;
        self.c.query_one(&s, params)
    }

    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error> {
        let s = self.stmt(sql)?;
        self.c.execute(&s, params)
    }
}

type Tx<'a, 'b> = Db<'a, postgres::Transaction<'b>>;
type Conn<'a> = Db<'a, Client>;

const USER_COLUMNS: &str = "username, display_name, department, vendor, contract_end, \
     password_hash, password_changed_at, must_change_password, totp_secret_enc, \
     totp_confirmed, totp_last_step, disabled, created_at, last_login_at";

fn user_from_row(r: &Row) -> TxResult<User> {
    let secret: Option<Vec<u8>> = r.try_get(8)?;
    let last_step: Option<i64> = r.try_get(10)?;
    let confirmed: bool = r.try_get(9)?;
    let totp = match secret {
        Some(secret_enc) => Some(TotpRecord {
            secret_enc,
            confirmed,
            last_step: last_step.map(|s| to_u64("TOTP step", s)).transpose()?,
        }),
        None => None,
    };
    Ok(User {
        username: r.try_get(0)?,
        display_name: r.try_get(1)?,
        department: r.try_get(2)?,
        vendor: r.try_get(3)?,
        contract_end: r.try_get(4)?,
        password_hash: r.try_get(5)?,
        password_changed_at: r.try_get(6)?,
        must_change_password: r.try_get(7)?,
        totp,
        disabled: r.try_get(11)?,
        created_at: r.try_get(12)?,
        last_login_at: r.try_get(13)?,
    })
}

const DEPARTMENT_COLUMNS: &str = "code, name, parent, created_at";

fn department_from_row(r: &Row) -> TxResult<Department> {
    Ok(Department {
        code: r.try_get(0)?,
        name: r.try_get(1)?,
        parent: r.try_get(2)?,
        created_at: r.try_get(3)?,
    })
}

const GRANT_COLUMNS: &str = "id, username, role, department, scope, granted_by, granted_at";

fn grant_from_row(r: &Row) -> TxResult<StoredGrant> {
    Ok(StoredGrant {
        id: r.try_get(0)?,
        username: r.try_get(1)?,
        grant: grant_from(r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)?,
        granted_by: r.try_get(5)?,
        granted_at: r.try_get(6)?,
    })
}

const SESSION_COLUMNS: &str = "token_hash, id, username, kind, created_at, last_seen_at, \
     expires_at, address, user_agent, restricted";

fn session_from_row(r: &Row) -> TxResult<Session> {
    Ok(Session {
        token_hash: r.try_get(0)?,
        id: r.try_get(1)?,
        username: r.try_get(2)?,
        kind: r.try_get(3)?,
        created_at: r.try_get(4)?,
        last_seen_at: r.try_get(5)?,
        expires_at: r.try_get(6)?,
        address: r.try_get(7)?,
        user_agent: r.try_get(8)?,
        restricted: r.try_get(9)?,
    })
}

const API_KEY_COLUMNS: &str = "id, key_hash, name, role, department, scope, created_by, \
     created_at, expires_at, revoked_at, last_used_at";

fn api_key_from_row(r: &Row) -> TxResult<ApiKey> {
    let grant = grant_from(r.try_get(3)?, r.try_get(4)?, r.try_get(5)?)?;
    Ok(ApiKey {
        id: r.try_get(0)?,
        key_hash: r.try_get(1)?,
        name: r.try_get(2)?,
        role: grant.role,
        department: grant.department,
        scope: grant.scope,
        created_by: r.try_get(6)?,
        created_at: r.try_get(7)?,
        expires_at: r.try_get(8)?,
        revoked_at: r.try_get(9)?,
        last_used_at: r.try_get(10)?,
    })
}

const ELEVATION_COLUMNS: &str = "id, username, role, department, scope, reason, \
     duration_secs, requested_at, status, decided_by, decided_at, decision_note, expires_at";

fn elevation_from_row(r: &Row) -> TxResult<Elevation> {
    Ok(Elevation {
        id: r.try_get(0)?,
        username: r.try_get(1)?,
        grant: grant_from(r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)?,
        reason: r.try_get(5)?,
        duration_secs: r.try_get(6)?,
        requested_at: r.try_get(7)?,
        status: parse_status(r.try_get(8)?)?,
        decided_by: r.try_get(9)?,
        decided_at: r.try_get(10)?,
        decision_note: r.try_get(11)?,
        expires_at: r.try_get(12)?,
    })
}

const JOB_COLUMNS: &str =
    "id, kind, owner, department, status, progress, params, result, error, created_at, updated_at";

fn job_from_row(r: &Row) -> TxResult<Job> {
    let result: Option<&str> = r.try_get(7)?;
    Ok(Job {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        owner: r.try_get(2)?,
        department: r.try_get(3)?,
        status: r.try_get(4)?,
        progress: r.try_get(5)?,
        params: parse_json("decode job parameters", r.try_get(6)?)?,
        result: result
            .map(|t| parse_json("decode job result", t))
            .transpose()?,
        error: r.try_get(8)?,
        created_at: r.try_get(9)?,
        updated_at: r.try_get(10)?,
    })
}

fn rows<T>(rows: Vec<Row>, decode: impl Fn(&Row) -> TxResult<T>) -> TxResult<Vec<T>> {
    rows.iter().map(decode).collect()
}

fn not_found(kind: &'static str, id: impl ToString) -> Failure {
    Failure::Store(PlatformStoreError::NotFound {
        kind,
        id: id.to_string(),
    })
}

fn require_department<C: GenericClient>(db: &mut Db<'_, C>, code: &str) -> TxResult<()> {
    match db.query_opt("SELECT 1 FROM departments WHERE code = $1", &[&code])? {
        Some(_) => Ok(()),
        None => Err(not_found("department", code)),
    }
}

fn require_user<C: GenericClient>(db: &mut Db<'_, C>, username: &str) -> TxResult<()> {
    match db.query_opt("SELECT 1 FROM users WHERE username = $1", &[&username])? {
        Some(_) => Ok(()),
        None => Err(not_found("user", username)),
    }
}

/// Locks the account's row for the rest of the transaction and says whether it is a
/// vendor's. Every grant or elevation decision for one account passes here, so such
/// decisions on any node run one after the other.
fn lock_user(tx: &mut Tx<'_, '_>, username: &str) -> TxResult<bool> {
    match tx.query_opt(
        "SELECT vendor FROM users WHERE username = $1 FOR UPDATE",
        &[&username],
    )? {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(not_found("user", username)),
    }
}

/// An account's grants and its approved elevations in force at `now`, as grants. Read
/// after [`lock_user`]: in READ COMMITTED each statement sees every commit made before it
/// started, including one that held the lock just before.
fn held_grants(
    tx: &mut Tx<'_, '_>,
    username: &str,
    now: UnixTime,
    except_elevation: i64,
) -> TxResult<(Vec<Grant>, Vec<Grant>)> {
    let decode = |r: &Row| -> TxResult<Grant> {
        Ok(grant_from(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)?)
    };
    let held = tx.query(
        "SELECT role, department, scope FROM grants WHERE username = $1",
        &[&username],
    )?;
    let elevated = tx.query(
        "SELECT role, department, scope FROM elevations \
         WHERE username = $1 AND status = 'approved' AND expires_at > $2 AND id <> $3",
        &[&username, &now, &except_elevation],
    )?;
    Ok((rows(held, decode)?, rows(elevated, decode)?))
}

fn load_elevation<C: GenericClient>(db: &mut Db<'_, C>, id: i64) -> TxResult<Option<Elevation>> {
    db.query_opt(
        &format!("SELECT {ELEVATION_COLUMNS} FROM elevations WHERE id = $1"),
        &[&id],
    )?
    .as_ref()
    .map(elevation_from_row)
    .transpose()
}

fn load_user<C: GenericClient>(db: &mut Db<'_, C>, username: &str) -> TxResult<Option<User>> {
    db.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"),
        &[&username],
    )?
    .as_ref()
    .map(user_from_row)
    .transpose()
}

fn load_department<C: GenericClient>(
    db: &mut Db<'_, C>,
    code: &str,
) -> TxResult<Option<Department>> {
    db.query_opt(
        &format!("SELECT {DEPARTMENT_COLUMNS} FROM departments WHERE code = $1"),
        &[&code],
    )?
    .as_ref()
    .map(department_from_row)
    .transpose()
}

fn load_session<C: GenericClient>(
    db: &mut Db<'_, C>,
    token_hash: &str,
) -> TxResult<Option<Session>> {
    db.query_opt(
        &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1"),
        &[&token_hash],
    )?
    .as_ref()
    .map(session_from_row)
    .transpose()
}

fn migrate(config: &postgres::Config, display: &str) -> Result<(), PlatformStoreError> {
    let mut client = config.connect(NoTls).map_err(|e| {
        PlatformStoreError::Unavailable(format!(
            "cannot connect to the platform store {display}: {}; check host, port, user and \
             password",
            pg_message(&e)
        ))
    })?;
    let schema_error = |name: &str, e: postgres::Error| {
        if is_unavailable(&e) {
            PlatformStoreError::Unavailable(format!("platform store {display}: {}", pg_message(&e)))
        } else {
            PlatformStoreError::Schema(format!(
                "platform store {display}: migration {name} failed: {}",
                pg_message(&e)
            ))
        }
    };
    let mut tx = client
        .transaction()
        .map_err(|e| schema_error("(begin)", e))?;
    // Released at commit or rollback, so a node that dies mid-migration frees it.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(|e| schema_error("(lock)", e))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .map_err(|e| schema_error("schema_version", e))?;
    let found: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .and_then(|r| r.try_get(0))
        .map_err(|e| schema_error("schema_version", e))?;
    let known = MIGRATIONS.len();
    let found = usize::try_from(found).unwrap_or(0);
    if found > known {
        return Err(PlatformStoreError::Schema(format!(
            "platform store {display} has schema version {found}, newer than this shuan knows \
             ({known}); upgrade shuan on this node to the version the other nodes run"
        )));
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found) {
        tx.batch_execute(sql).map_err(|e| schema_error(name, e))?;
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
            &[&version, name],
        )
        .map_err(|e| schema_error(name, e))?;
    }
    tx.commit().map_err(|e| schema_error("(commit)", e))
}

impl PgPlatform {
    /// Connects to the database at `url` (`postgres://…` or `postgresql://…`), migrates it
    /// if needed, and keeps a pool of up to [`DEFAULT_POOL_SIZE`] connections.
    pub fn connect(url: &str) -> Result<PgPlatform, PlatformStoreError> {
        Self::connect_with_pool_size(url, DEFAULT_POOL_SIZE)
    }

    /// Like [`PgPlatform::connect`] with at most `pool_size` connections (at least 1).
    pub fn connect_with_pool_size(
        url: &str,
        pool_size: u32,
    ) -> Result<PgPlatform, PlatformStoreError> {
        let display = redact_url(url);
        let mut config = postgres::Config::from_str(url).map_err(|e| {
            PlatformStoreError::Unavailable(format!(
                "invalid platform store URL {display}: {}",
                pg_message(&e)
            ))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECTION_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("shuan");
        }
        migrate(&config, &display)?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            // Connections open as load needs them; a node at rest holds one.
            .min_idle(Some(1))
            .connection_timeout(CONNECTION_TIMEOUT)
            // Checking each connection with a round trip before use would double the cost
            // of a one-statement request. A connection the server dropped fails its
            // request once (Unavailable), is seen as broken and replaced.
            .test_on_check_out(false)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build(PgManager { config })
            .map_err(|e| {
                PlatformStoreError::Unavailable(format!(
                    "cannot connect to the platform store {display}: {e}"
                ))
            })?;
        Ok(PgPlatform { pool, display })
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<PgManager>, PlatformStoreError> {
        self.pool.get().map_err(|e| {
            PlatformStoreError::Unavailable(format!(
                "no connection to the platform store {} within {} s: {e}",
                self.display,
                CONNECTION_TIMEOUT.as_secs()
            ))
        })
    }

    /// Runs `body` outside an explicit transaction: for one-statement reads (a statement
    /// is atomic by itself) and for writes that are a single statement.
    fn read<T>(
        &self,
        what: &'static str,
        body: impl FnOnce(&mut Conn<'_>) -> TxResult<T>,
    ) -> Result<T, PlatformStoreError> {
        let mut conn = self.conn()?;
        let PgConn { client, statements } = &mut *conn;
        let client = client.as_mut().expect("a live PgConn holds its client");
        let result = body(&mut Db {
            c: client,
            statements,
        });
        forget_stale_statements(statements, &result);
        finish(what, result)
    }

    /// Runs `body` in one READ COMMITTED transaction, committing when it returns `Ok`;
    /// again (up to [`ATTEMPTS`] in all) after a serialization failure or deadlock.
    fn write<T>(
        &self,
        what: &'static str,
        mut body: impl FnMut(&mut Tx<'_, '_>) -> TxResult<T>,
    ) -> Result<T, PlatformStoreError> {
        let mut conn = self.conn()?;
        let PgConn { client, statements } = &mut *conn;
        let client = client.as_mut().expect("a live PgConn holds its client");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = (|| {
                let mut tx = client.transaction()?;
                let value = body(&mut Db {
                    c: &mut tx,
                    statements,
                })?;
                tx.commit()?;
                Ok(value)
            })();
            forget_stale_statements(statements, &result);
            match result {
                Err(Failure::Pg(e)) if is_retryable(&e) && attempt < ATTEMPTS => continue,
                other => return finish(what, other),
            }
        }
    }

    /// The compare-and-set of TOTP steps: the step is taken only when it is after the
    /// stored one, checked and written by one statement, so of two nodes seeing the same
    /// code at once exactly one takes it.
    fn take_totp_step(
        &self,
        what: &'static str,
        username: &str,
        step: u64,
        confirm: bool,
    ) -> Result<bool, PlatformStoreError> {
        let step = to_i64("TOTP step", step)?;
        self.read(what, |db| {
            let sql = if confirm {
                "UPDATE users SET totp_last_step = $2, totp_confirmed = TRUE \
                 WHERE username = $1 AND totp_secret_enc IS NOT NULL \
                 AND (totp_last_step IS NULL OR totp_last_step < $2)"
            } else {
                "UPDATE users SET totp_last_step = $2 \
                 WHERE username = $1 AND totp_secret_enc IS NOT NULL \
                 AND (totp_last_step IS NULL OR totp_last_step < $2)"
            };
            if db.execute(sql, &[&username, &step])? == 1 {
                return Ok(true);
            }
            let row = db.query_opt(
                "SELECT totp_secret_enc IS NOT NULL FROM users WHERE username = $1",
                &[&username],
            )?;
            match row {
                None => Err(not_found("user", username)),
                Some(r) if !r.try_get::<_, bool>(0)? => Err(PlatformStoreError::Conflict(format!(
                    "account {username} has no TOTP enrolment"
                ))
                .into()),
                Some(_) => Ok(false),
            }
        })
    }
}

/// After a schema change by another node, a cached statement may be refused ("cached plan
/// must not change result type", or gone): forget this connection's statements so the next
/// request prepares them again.
fn forget_stale_statements<T>(statements: &mut HashMap<String, Statement>, r: &TxResult<T>) {
    if let Err(Failure::Pg(e)) = r {
        if matches!(sqlstate(e), Some("0A000" | "26000")) {
            statements.clear();
        }
    }
}

impl PlatformStore for PgPlatform {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn ping(&self) -> Result<(), PlatformStoreError> {
        self.read("ping", |db| {
            db.query_one("SELECT 1", &[])?;
            Ok(())
        })
    }

    fn create_department(&self, d: &Department) -> Result<(), PlatformStoreError> {
        self.write("create department", |tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DEPARTMENT_TREE_LOCK])?;
            if let Some(parent) = &d.parent {
                require_department(tx, parent)?;
            }
            tx.execute(
                "INSERT INTO departments (code, name, parent, created_at) VALUES ($1, $2, $3, $4)",
                &[&d.code, &d.name, &d.parent, &d.created_at],
            )
            .map_err(exists_or("department", &d.code))?;
            Ok(())
        })
    }

    fn department(&self, code: &str) -> Result<Option<Department>, PlatformStoreError> {
        self.read("read department", |db| load_department(db, code))
    }

    fn departments(&self) -> Result<Vec<Department>, PlatformStoreError> {
        self.read("list departments", |db| {
            let found = db.query(
                &format!(
                    "SELECT {DEPARTMENT_COLUMNS} FROM departments ORDER BY code COLLATE \"C\""
                ),
                &[],
            )?;
            rows(found, department_from_row)
        })
    }

    fn update_department(
        &self,
        code: &str,
        name: Option<&str>,
        parent: Option<Option<&str>>,
    ) -> Result<Department, PlatformStoreError> {
        self.write("update department", |tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DEPARTMENT_TREE_LOCK])?;
            let Some(mut d) = load_department(tx, code)? else {
                return Err(not_found("department", code));
            };
            if let Some(name) = name {
                d.name = name.to_string();
            }
            if let Some(new_parent) = parent {
                if let Some(p) = new_parent {
                    require_department(tx, p)?;
                    let cycle = tx.query_opt(
                        "WITH RECURSIVE up(code, parent) AS ( \
                           SELECT code, parent FROM departments WHERE code = $1 \
                           UNION SELECT d.code, d.parent FROM departments d \
                             JOIN up ON d.code = up.parent) \
                         SELECT 1 FROM up WHERE code = $2",
                        &[&p, &code],
                    )?;
                    if cycle.is_some() {
                        return Err(PlatformStoreError::Conflict(format!(
                            "moving department {code} under {p} would make a cycle ({p} is \
                             {code} or lies below it)"
                        ))
                        .into());
                    }
                }
                d.parent = new_parent.map(str::to_string);
            }
            tx.execute(
                "UPDATE departments SET name = $2, parent = $3 WHERE code = $1",
                &[&code, &d.name, &d.parent],
            )?;
            Ok(d)
        })
    }

    fn delete_department(&self, code: &str) -> Result<(), PlatformStoreError> {
        self.write("delete department", |tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DEPARTMENT_TREE_LOCK])?;
            require_department(tx, code)?;
            for (table, column, what) in [
                ("departments", "parent", "child departments"),
                ("users", "department", "accounts"),
                ("grants", "department", "role grants"),
                ("api_keys", "department", "API keys"),
            ] {
                let n: i64 = tx
                    .query_one(
                        &format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"),
                        &[&code],
                    )?
                    .try_get(0)?;
                if n > 0 {
                    return Err(PlatformStoreError::Conflict(format!(
                        "department {code} still has {n} {what}; move or remove them first"
                    ))
                    .into());
                }
            }
            // An account or key added in it meanwhile on another node makes this fail
            // with a foreign-key violation (Conflict), not leave it pointing nowhere.
            tx.execute("DELETE FROM departments WHERE code = $1", &[&code])?;
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
        let secret = u.totp.as_ref().map(|t| t.secret_enc.as_slice());
        let confirmed = u.totp.as_ref().is_some_and(|t| t.confirmed);
        self.write("create account", |tx| {
            require_department(tx, &u.department)?;
            tx.execute(
                &format!(
                    "INSERT INTO users ({USER_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                ),
                &[
                    &u.username,
                    &u.display_name,
                    &u.department,
                    &u.vendor,
                    &u.contract_end,
                    &u.password_hash,
                    &u.password_changed_at,
                    &u.must_change_password,
                    &secret,
                    &confirmed,
                    &last_step,
                    &u.disabled,
                    &u.created_at,
                    &u.last_login_at,
                ],
            )
            .map_err(exists_or("user", &u.username))?;
            Ok(())
        })
    }

    fn user(&self, username: &str) -> Result<Option<User>, PlatformStoreError> {
        self.read("read account", |db| load_user(db, username))
    }

    fn users(&self) -> Result<Vec<User>, PlatformStoreError> {
        self.read("list accounts", |db| {
            let found = db.query(
                &format!("SELECT {USER_COLUMNS} FROM users ORDER BY username COLLATE \"C\""),
                &[],
            )?;
            rows(found, user_from_row)
        })
    }

    fn update_user(&self, username: &str, update: &UserUpdate) -> Result<User, PlatformStoreError> {
        self.write("update account", |tx| {
            let Some(mut u) = tx
                .query_opt(
                    &format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1 FOR UPDATE"),
                    &[&username],
                )?
                .as_ref()
                .map(user_from_row)
                .transpose()?
            else {
                return Err(not_found("user", username));
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
            tx.execute(
                "UPDATE users SET display_name = $2, department = $3, disabled = $4, \
                 contract_end = $5 WHERE username = $1",
                &[
                    &username,
                    &u.display_name,
                    &u.department,
                    &u.disabled,
                    &u.contract_end,
                ],
            )?;
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
        let keep = clamp_i64(keep_history);
        self.write("set password", |tx| {
            let Some(row) = tx.query_opt(
                "SELECT password_hash FROM users WHERE username = $1 FOR UPDATE",
                &[&username],
            )?
            else {
                return Err(not_found("user", username));
            };
            let old: String = row.try_get(0)?;
            tx.execute(
                "INSERT INTO password_history (username, password_hash, replaced_at) \
                 VALUES ($1, $2, $3)",
                &[&username, &old, &now],
            )?;
            tx.execute(
                "DELETE FROM password_history WHERE username = $1 AND id NOT IN ( \
                   SELECT id FROM password_history WHERE username = $1 \
                   ORDER BY id DESC LIMIT $2)",
                &[&username, &keep],
            )?;
            tx.execute(
                "UPDATE users SET password_hash = $2, password_changed_at = $3, \
                 must_change_password = $4 WHERE username = $1",
                &[&username, &hash, &now, &must_change],
            )?;
            Ok(())
        })
    }

    fn password_history(&self, username: &str) -> Result<Vec<String>, PlatformStoreError> {
        self.read("read password history", |db| {
            let found = db.query(
                "SELECT password_hash FROM password_history WHERE username = $1 \
                 ORDER BY id DESC",
                &[&username],
            )?;
            rows(found, |r| Ok(r.try_get(0)?))
        })
    }

    fn set_totp(&self, username: &str, secret_enc: &[u8]) -> Result<(), PlatformStoreError> {
        self.read("start TOTP enrolment", |db| {
            let n = db.execute(
                "UPDATE users SET totp_secret_enc = $2, totp_confirmed = FALSE \
                 WHERE username = $1",
                &[&username, &secret_enc],
            )?;
            if n == 0 {
                return Err(not_found("user", username));
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
        self.read("reset TOTP", |db| {
            // The last step stays: a code seen before the reset is still refused after a
            // new enrolment within the same 30 s.
            let n = db.execute(
                "UPDATE users SET totp_secret_enc = NULL, totp_confirmed = FALSE \
                 WHERE username = $1",
                &[&username],
            )?;
            if n == 0 {
                return Err(not_found("user", username));
            }
            Ok(())
        })
    }

    fn touch_login(&self, username: &str, now: UnixTime) -> Result<(), PlatformStoreError> {
        self.read("record sign-in", |db| {
            let n = db.execute(
                "UPDATE users SET last_login_at = $2 WHERE username = $1",
                &[&username, &now],
            )?;
            if n == 0 {
                return Err(not_found("user", username));
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
        self.write("add grant", |tx| {
            let vendor = lock_user(tx, username)?;
            require_department(tx, &grant.department)?;
            let (held, elevated) = held_grants(tx, username, now, -1)?;
            check_separation(vendor, &held, &elevated, grant)?;
            let id: i64 = tx
                .query_one(
                    "INSERT INTO grants (username, role, department, scope, granted_by, \
                     granted_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    &[
                        &username,
                        &grant.role.id(),
                        &grant.department,
                        &scope,
                        &granted_by,
                        &now,
                    ],
                )?
                .try_get(0)?;
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
        self.read("remove grant", |db| {
            let n = db.execute(
                "DELETE FROM grants WHERE id = $1 AND username = $2",
                &[&id, &username],
            )?;
            if n == 0 {
                return Err(not_found("grant", format!("{id} of {username}")));
            }
            Ok(())
        })
    }

    fn grants(&self, username: &str) -> Result<Vec<StoredGrant>, PlatformStoreError> {
        self.read("list grants", |db| {
            let found = db.query(
                &format!("SELECT {GRANT_COLUMNS} FROM grants WHERE username = $1 ORDER BY id"),
                &[&username],
            )?;
            rows(found, grant_from_row)
        })
    }

    fn all_grants(&self) -> Result<Vec<StoredGrant>, PlatformStoreError> {
        self.read("list grants", |db| {
            let found = db.query(
                &format!("SELECT {GRANT_COLUMNS} FROM grants ORDER BY username COLLATE \"C\", id"),
                &[],
            )?;
            rows(found, grant_from_row)
        })
    }

    fn create_session(&self, s: &Session) -> Result<(), PlatformStoreError> {
        self.write("create session", |tx| {
            require_user(tx, &s.username)?;
            tx.execute(
                &format!(
                    "INSERT INTO sessions ({SESSION_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                ),
                &[
                    &s.token_hash,
                    &s.id,
                    &s.username,
                    &s.kind,
                    &s.created_at,
                    &s.last_seen_at,
                    &s.expires_at,
                    &s.address,
                    &s.user_agent,
                    &s.restricted,
                ],
            )
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
        self.read("read session", |db| {
            let Some(s) =
                load_session(db, token_hash)?.filter(|s| session_alive(s, now, idle_secs))
            else {
                return Ok(None);
            };
            if now.saturating_sub(s.last_seen_at) <= touch_after_secs {
                return Ok(Some(s));
            }
            // The touch checks liveness again in its own statement: a session ended or
            // expired since the read (on any node) is not revived.
            let idle_since = now.saturating_sub(idle_secs);
            let touched = db.query_opt(
                &format!(
                    "UPDATE sessions SET last_seen_at = $2 \
                     WHERE token_hash = $1 AND last_seen_at < $2 AND expires_at > $2 \
                     AND last_seen_at > $3 RETURNING {SESSION_COLUMNS}"
                ),
                &[&token_hash, &now, &idle_since],
            )?;
            match touched {
                Some(row) => Ok(Some(session_from_row(&row)?)),
                // Ended, or touched by a concurrent request: answer from what is stored.
                None => {
                    Ok(load_session(db, token_hash)?.filter(|s| session_alive(s, now, idle_secs)))
                }
            }
        })
    }

    fn unrestrict_session(&self, token_hash: &str) -> Result<(), PlatformStoreError> {
        self.read("unrestrict session", |db| {
            let n = db.execute(
                "UPDATE sessions SET restricted = FALSE WHERE token_hash = $1",
                &[&token_hash],
            )?;
            if n == 0 {
                return Err(not_found("session", "with this token"));
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
        let idle_since = now.saturating_sub(idle_secs);
        self.read("list sessions", |db| {
            let found = db.query(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions \
                     WHERE ($1::TEXT IS NULL OR username = $1) AND expires_at > $2 \
                     AND last_seen_at > $3 \
                     ORDER BY username COLLATE \"C\", created_at, id COLLATE \"C\""
                ),
                &[&username, &now, &idle_since],
            )?;
            rows(found, session_from_row)
        })
    }

    fn delete_session(&self, token_hash: &str) -> Result<bool, PlatformStoreError> {
        self.read("end session", |db| {
            Ok(db.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])? > 0)
        })
    }

    fn delete_session_by_id(&self, id: &str) -> Result<bool, PlatformStoreError> {
        self.read("end session", |db| {
            Ok(db.execute("DELETE FROM sessions WHERE id = $1", &[&id])? > 0)
        })
    }

    fn delete_sessions_of(&self, username: &str) -> Result<u64, PlatformStoreError> {
        self.read("end sessions", |db| {
            Ok(db.execute("DELETE FROM sessions WHERE username = $1", &[&username])?)
        })
    }

    fn record_login_failure(
        &self,
        username: &str,
        address: &str,
        now: UnixTime,
    ) -> Result<(), PlatformStoreError> {
        self.read("record failed sign-in", |db| {
            db.execute(
                "INSERT INTO login_failures (username, address, at) VALUES ($1, $2, $3)",
                &[&username, &address, &now],
            )?;
            Ok(())
        })
    }

    fn failures_for_user(
        &self,
        username: &str,
        since: UnixTime,
    ) -> Result<u64, PlatformStoreError> {
        self.read("count failed sign-ins", |db| {
            let n: i64 = db
                .query_one(
                    "SELECT COUNT(*) FROM login_failures \
                     WHERE username = $1 AND at >= $2 AND NOT user_cleared",
                    &[&username, &since],
                )?
                .try_get(0)?;
            Ok(to_u64("failure count", n)?)
        })
    }

    fn failures_for_address(
        &self,
        address: &str,
        since: UnixTime,
    ) -> Result<u64, PlatformStoreError> {
        self.read("count failed sign-ins", |db| {
            let n: i64 = db
                .query_one(
                    "SELECT COUNT(*) FROM login_failures WHERE address = $1 AND at >= $2",
                    &[&address, &since],
                )?
                .try_get(0)?;
            Ok(to_u64("failure count", n)?)
        })
    }

    fn clear_failures_for_user(&self, username: &str) -> Result<(), PlatformStoreError> {
        self.read("clear failed sign-ins", |db| {
            db.execute(
                // The address keeps its count: see the schema.
                "UPDATE login_failures SET user_cleared = TRUE \
                 WHERE username = $1 AND NOT user_cleared",
                &[&username],
            )?;
            Ok(())
        })
    }

    fn purge_expired(
        &self,
        now: UnixTime,
        idle_secs: i64,
        failures_before: UnixTime,
    ) -> Result<Purged, PlatformStoreError> {
        // Two independent deletes: each is atomic on its own, and neither needs the other.
        let idle = idle_secs.clamp(0, i64::MAX / 2);
        let sessions = self.read("purge expired sessions", |db| {
            Ok(db.execute(
                // The negation of `session_alive`.
                "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $1 - $2",
                &[&now, &idle],
            )?)
        })?;
        let failures = self.read("purge old failed sign-ins", |db| {
            Ok(db.execute(
                "DELETE FROM login_failures WHERE at < $1",
                &[&failures_before],
            )?)
        })?;
        Ok(Purged { sessions, failures })
    }

    fn create_api_key(&self, k: &ApiKey) -> Result<(), PlatformStoreError> {
        let scope = scope_text(&k.scope)?;
        self.write("create API key", |tx| {
            require_department(tx, &k.department)?;
            tx.execute(
                &format!(
                    "INSERT INTO api_keys ({API_KEY_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ),
                &[
                    &k.id,
                    &k.key_hash,
                    &k.name,
                    &k.role.id(),
                    &k.department,
                    &scope,
                    &k.created_by,
                    &k.created_at,
                    &k.expires_at,
                    &k.revoked_at,
                    &k.last_used_at,
                ],
            )
            .map_err(exists_or("api_key", &k.id))?;
            Ok(())
        })
    }

    fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, PlatformStoreError> {
        self.read("read API key", |db| {
            db.query_opt(
                &format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1"),
                &[&key_hash],
            )?
            .as_ref()
            .map(api_key_from_row)
            .transpose()
        })
    }

    fn api_keys(&self) -> Result<Vec<ApiKey>, PlatformStoreError> {
        self.read("list API keys", |db| {
            let found = db.query(
                &format!(
                    "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id COLLATE \"C\""
                ),
                &[],
            )?;
            rows(found, api_key_from_row)
        })
    }

    fn revoke_api_key(&self, id: &str, now: UnixTime) -> Result<(), PlatformStoreError> {
        self.read("revoke API key", |db| {
            // A second revocation keeps the first time: that is when the key stopped.
            let n = db.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
                &[&id, &now],
            )?;
            if n == 0 {
                return Err(not_found("api_key", id));
            }
            Ok(())
        })
    }

    fn touch_api_key(&self, id: &str, now: UnixTime) -> Result<(), PlatformStoreError> {
        self.read("record API key use", |db| {
            let n = db.execute(
                "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 \
                 AND (last_used_at IS NULL OR last_used_at <= $2::BIGINT - 60)",
                &[&id, &now],
            )?;
            if n == 0
                && db
                    .query_opt("SELECT 1 FROM api_keys WHERE id = $1", &[&id])?
                    .is_none()
            {
                return Err(not_found("api_key", id));
            }
            Ok(())
        })
    }

    fn setting(&self, key: &str) -> Result<Option<serde_json::Value>, PlatformStoreError> {
        self.read("read setting", |db| {
            match db.query_opt("SELECT value FROM settings WHERE key = $1", &[&key])? {
                Some(row) => Ok(Some(parse_json("decode setting", row.try_get(0)?)?)),
                None => Ok(None),
            }
        })
    }

    fn set_setting(
        &self,
        key: &str,
        value: &serde_json::Value,
        now: UnixTime,
    ) -> Result<(), PlatformStoreError> {
        let text = json_text("encode setting", value)?;
        self.read("set setting", |db| {
            db.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 updated_at = excluded.updated_at",
                &[&key, &text, &now],
            )?;
            Ok(())
        })
    }

    fn add_policy(&self, p: &StoredPolicy) -> Result<(), PlatformStoreError> {
        self.write("add policy", |tx| {
            tx.execute(
                "INSERT INTO policies (id, text, description, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[&p.id, &p.text, &p.description, &p.created_by, &p.created_at],
            )
            .map_err(exists_or("policy", &p.id))?;
            tx.execute(
                "UPDATE policy_generation SET generation = generation + 1",
                &[],
            )?;
            Ok(())
        })
    }

    fn remove_policy(&self, id: &str) -> Result<(), PlatformStoreError> {
        self.write("remove policy", |tx| {
            if tx.execute("DELETE FROM policies WHERE id = $1", &[&id])? == 0 {
                return Err(not_found("policy", id));
            }
            tx.execute(
                "UPDATE policy_generation SET generation = generation + 1",
                &[],
            )?;
            Ok(())
        })
    }

    fn policies(&self) -> Result<Vec<StoredPolicy>, PlatformStoreError> {
        self.read("list policies", |db| {
            let found = db.query(
                "SELECT id, text, description, created_by, created_at FROM policies \
                 ORDER BY id COLLATE \"C\"",
                &[],
            )?;
            rows(found, |r| {
                Ok(StoredPolicy {
                    id: r.try_get(0)?,
                    text: r.try_get(1)?,
                    description: r.try_get(2)?,
                    created_by: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                })
            })
        })
    }

    fn policy_generation(&self) -> Result<i64, PlatformStoreError> {
        self.read("read policy generation", |db| {
            Ok(db
                .query_one("SELECT generation FROM policy_generation WHERE id = 1", &[])?
                .try_get(0)?)
        })
    }

    fn request_elevation(&self, e: &Elevation) -> Result<i64, PlatformStoreError> {
        let scope = scope_text(&e.grant.scope)?;
        self.write("request elevation", |tx| {
            require_user(tx, &e.username)?;
            Ok(tx
                .query_one(
                    "INSERT INTO elevations (username, role, department, scope, reason, \
                     duration_secs, requested_at, status) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') RETURNING id",
                    &[
                        &e.username,
                        &e.grant.role.id(),
                        &e.grant.department,
                        &scope,
                        &e.reason,
                        &e.duration_secs,
                        &e.requested_at,
                    ],
                )?
                .try_get(0)?)
        })
    }

    fn elevation(&self, id: i64) -> Result<Option<Elevation>, PlatformStoreError> {
        self.read("read elevation", |db| load_elevation(db, id))
    }

    fn elevations(
        &self,
        username: Option<&str>,
        status: Option<ElevationStatus>,
    ) -> Result<Vec<Elevation>, PlatformStoreError> {
        let status = status.map(ElevationStatus::as_str);
        self.read("list elevations", |db| {
            let found = db.query(
                &format!(
                    "SELECT {ELEVATION_COLUMNS} FROM elevations \
                     WHERE ($1::TEXT IS NULL OR username = $1) \
                     AND ($2::TEXT IS NULL OR status = $2) ORDER BY id DESC"
                ),
                &[&username, &status],
            )?;
            rows(found, elevation_from_row)
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
            let Some(mut e) = load_elevation(tx, id)? else {
                return Err(not_found("elevation", id));
            };
            // The account's row orders this decision with grants and other decisions for
            // the same account on every node; the status is read again under that lock.
            let vendor = lock_user(tx, &e.username)?;
            let Some(current) = load_elevation(tx, id)? else {
                return Err(not_found("elevation", id));
            };
            if current.status != ElevationStatus::Pending {
                return Err(PlatformStoreError::Conflict(format!(
                    "elevation {id} was already {} by {}",
                    current.status.as_str(),
                    current.decided_by.as_deref().unwrap_or("someone")
                ))
                .into());
            }
            if approve {
                let (held, mut elevated) = held_grants(tx, &e.username, now, id)?;
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
            tx.execute(
                "UPDATE elevations SET status = $2, decided_by = $3, decided_at = $4, \
                 decision_note = $5, expires_at = $6 WHERE id = $1",
                &[
                    &id,
                    &e.status.as_str(),
                    &e.decided_by,
                    &e.decided_at,
                    &e.decision_note,
                    &e.expires_at,
                ],
            )?;
            Ok(e)
        })
    }

    fn active_elevations(
        &self,
        username: &str,
        now: UnixTime,
    ) -> Result<Vec<Elevation>, PlatformStoreError> {
        self.read("list elevations in force", |db| {
            let found = db.query(
                &format!(
                    "SELECT {ELEVATION_COLUMNS} FROM elevations \
                     WHERE username = $1 AND status = 'approved' AND expires_at > $2 \
                     ORDER BY id"
                ),
                &[&username, &now],
            )?;
            rows(found, elevation_from_row)
        })
    }

    fn create_job(&self, j: &Job) -> Result<i64, PlatformStoreError> {
        let params_text = json_text("encode job parameters", &j.params)?;
        let result_text = j
            .result
            .as_ref()
            .map(|r| json_text("encode job result", r))
            .transpose()?;
        self.read("file job", |db| {
            Ok(db
                .query_one(
                    "INSERT INTO jobs (kind, owner, department, status, progress, params, \
                     result, error, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                    &[
                        &j.kind,
                        &j.owner,
                        &j.department,
                        &j.status,
                        &j.progress,
                        &params_text,
                        &result_text,
                        &j.error,
                        &j.created_at,
                        &j.updated_at,
                    ],
                )?
                .try_get(0)?)
        })
    }

    fn update_job(&self, j: &Job) -> Result<(), PlatformStoreError> {
        let result_text = j
            .result
            .as_ref()
            .map(|r| json_text("encode job result", r))
            .transpose()?;
        self.read("update job", |db| {
            let n = db.execute(
                "UPDATE jobs SET status = $2, progress = $3, result = $4, error = $5, \
                 updated_at = $6 WHERE id = $1",
                &[
                    &j.id,
                    &j.status,
                    &j.progress,
                    &result_text,
                    &j.error,
                    &j.updated_at,
                ],
            )?;
            if n == 0 {
                return Err(not_found("job", j.id));
            }
            Ok(())
        })
    }

    fn job(&self, id: i64) -> Result<Option<Job>, PlatformStoreError> {
        self.read("read job", |db| {
            db.query_opt(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"),
                &[&id],
            )?
            .as_ref()
            .map(job_from_row)
            .transpose()
        })
    }

    fn jobs(&self, owner: Option<&str>, limit: usize) -> Result<Vec<Job>, PlatformStoreError> {
        // LIMIT NULL is no limit.
        let limit = (limit != 0).then(|| clamp_i64(limit));
        self.read("list jobs", |db| {
            let found = db.query(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1::TEXT IS NULL OR owner = $1) \
                     ORDER BY id DESC LIMIT $2"
                ),
                &[&owner, &limit],
            )?;
            rows(found, job_from_row)
        })
    }

    fn mirror_records(&self, records: &[MirroredRecord]) -> Result<(), PlatformStoreError> {
        if records.is_empty() {
            return Ok(());
        }
        // One statement over arrays: a batch costs one round trip, not one per record.
        let mut nodes = Vec::with_capacity(records.len());
        let mut seqs = Vec::with_capacity(records.len());
        let mut times = Vec::with_capacity(records.len());
        let mut actors = Vec::with_capacity(records.len());
        let mut actions = Vec::with_capacity(records.len());
        let mut outcomes = Vec::with_capacity(records.len());
        let mut request_ids = Vec::with_capacity(records.len());
        let mut jsons = Vec::with_capacity(records.len());
        for r in records {
            nodes.push(r.node.as_str());
            seqs.push(to_i64("ledger sequence number", r.seq)?);
            times.push(r.time);
            actors.push(r.actor.as_str());
            actions.push(r.action.as_str());
            outcomes.push(r.outcome.as_str());
            request_ids.push(r.request_id.as_deref());
            jsons.push(r.record_json.as_str());
        }
        self.read("copy audit records", |db| {
            db.execute(
                "INSERT INTO audit_mirror (node, seq, time, actor, action, outcome, \
                 request_id, record_json) \
                 SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::BIGINT[], $4::TEXT[], \
                   $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[]) \
                 ON CONFLICT (node, seq) DO NOTHING",
                &[
                    &nodes,
                    &seqs,
                    &times,
                    &actors,
                    &actions,
                    &outcomes,
                    &request_ids,
                    &jsons,
                ],
            )?;
            Ok(())
        })
    }

    fn mirrored_upto(&self, node: &str) -> Result<u64, PlatformStoreError> {
        self.read("read copied audit position", |db| {
            let n: i64 = db
                .query_one(
                    "SELECT COALESCE(MAX(seq), 0) FROM audit_mirror WHERE node = $1",
                    &[&node],
                )?
                .try_get(0)?;
            Ok(to_u64("ledger sequence number", n)?)
        })
    }

    fn audit_summary(
        &self,
        since: UnixTime,
        until: UnixTime,
    ) -> Result<AuditSummary, PlatformStoreError> {
        self.read("summarise audit records", |db| {
            let in_range: i64 = db
                .query_one(
                    "SELECT COUNT(*) FROM audit_mirror WHERE time >= $1 AND time < $2",
                    &[&since, &until],
                )?
                .try_get(0)?;
            let oldest: Option<i64> = db
                .query_one("SELECT MIN(time) FROM audit_mirror", &[])?
                .try_get(0)?;
            Ok(AuditSummary {
                records_in_range: to_u64("audit record count", in_range)?,
                oldest_time: oldest,
            })
        })
    }

    fn audit_search(&self, f: &AuditFilter) -> Result<Vec<MirroredRecord>, PlatformStoreError> {
        // Only the filters given become conditions, so each shape of search gets a plan
        // that uses its index (a cached generic plan of `$1 IS NULL OR …` would not).
        let mut conditions: Vec<String> = Vec::new();
        let mut values: Vec<&(dyn ToSql + Sync)> = Vec::new();
        for (column, value) in [
            ("node", &f.node),
            ("actor", &f.actor),
            ("action", &f.action),
            ("outcome", &f.outcome),
            ("request_id", &f.request_id),
        ] {
            if let Some(v) = value {
                values.push(v);
                conditions.push(format!("{column} = ${}", values.len()));
            }
        }
        if let Some(since) = &f.since {
            values.push(since);
            conditions.push(format!("time >= ${}", values.len()));
        }
        if let Some(until) = &f.until {
            values.push(until);
            conditions.push(format!("time < ${}", values.len()));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let limit = (f.limit != 0).then(|| clamp_i64(f.limit));
        let offset = clamp_i64(f.offset);
        values.push(&limit);
        values.push(&offset);
        let sql = format!(
            "SELECT node, seq, time, actor, action, outcome, record_json, request_id \
             FROM audit_mirror \
             {filter} ORDER BY time DESC, node COLLATE \"C\" DESC, seq DESC \
             LIMIT ${} OFFSET ${}",
            values.len() - 1,
            values.len()
        );
        self.read("search audit records", |db| {
            let found = db.query(&sql, &values)?;
            rows(found, |r| {
                Ok(MirroredRecord {
                    node: r.try_get(0)?,
                    seq: to_u64("ledger sequence number", r.try_get(1)?)?,
                    time: r.try_get(2)?,
                    actor: r.try_get(3)?,
                    action: r.try_get(4)?,
                    outcome: r.try_get(5)?,
                    record_json: r.try_get(6)?,
                    request_id: r.try_get(7)?,
                })
            })
        })
    }

    fn mirror_checkpoint(&self, c: &MirroredCheckpoint) -> Result<(), PlatformStoreError> {
        let size = to_i64("checkpoint size", c.size)?;
        self.read("copy checkpoint", |db| {
            db.execute(
                "INSERT INTO audit_checkpoints (node, size, checkpoint_json) \
                 VALUES ($1, $2, $3) ON CONFLICT (node, size) DO NOTHING",
                &[&c.node, &size, &c.checkpoint_json],
            )?;
            Ok(())
        })
    }

    fn checkpoints(
        &self,
        node: Option<&str>,
    ) -> Result<Vec<MirroredCheckpoint>, PlatformStoreError> {
        self.read("list checkpoints", |db| {
            let found = db.query(
                "SELECT node, size, checkpoint_json FROM audit_checkpoints \
                 WHERE ($1::TEXT IS NULL OR node = $1) ORDER BY node COLLATE \"C\", size",
                &[&node],
            )?;
            rows(found, |r| {
                Ok(MirroredCheckpoint {
                    node: r.try_get(0)?,
                    size: to_u64("checkpoint size", r.try_get(1)?)?,
                    checkpoint_json: r.try_get(2)?,
                })
            })
        })
    }
}

/// The sharing records' statements on a pooled connection or a transaction.
struct PgExec<'a, 'b, C>(&'a mut Db<'b, C>);

impl ToSql for Val {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::{IsNull, Type};
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(v) if *ty == Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
            Val::Int(v) => v.to_sql(ty, out),
            Val::Text(v) => v.to_sql(ty, out),
            Val::Bool(v) => v.to_sql(ty, out),
            Val::Bytes(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

fn pg_values(row: &Row) -> TxResult<Vec<Val>> {
    use postgres::types::Type;
    let mut out = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let v = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?
                .map_or(Val::Null, Val::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map_or(Val::Null, |v| Val::Int(i64::from(v)))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?
                .map_or(Val::Null, Val::Bool)
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?
                .map_or(Val::Null, Val::Bytes)
        } else {
            row.try_get::<_, Option<String>>(i)?
                .map_or(Val::Null, Val::Text)
        };
        out.push(v);
    }
    Ok(out)
}

impl<C: GenericClient> Exec for PgExec<'_, '_, C> {
    type Fail = Failure;
    const FOR_UPDATE: &'static str = " FOR UPDATE";

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, Failure> {
        let p: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as _).collect();
        Ok(self.0.execute(sql, &p)?)
    }

    fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, Failure> {
        let p: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as _).collect();
        self.0.query(sql, &p)?.iter().map(pg_values).collect()
    }

    fn is_unique_violation(e: &Failure) -> bool {
        matches!(e, Failure::Pg(e) if sqlstate(e) == Some("23505"))
    }
}

impl SharingStore for PgPlatform {
    fn create_source(&self, s: &ShareSource) -> Result<i64, PlatformStoreError> {
        self.write("register source", |tx| {
            ops::create_source(&mut PgExec(tx), s)
        })
    }

    fn source(&self, id: i64) -> Result<Option<ShareSource>, PlatformStoreError> {
        self.read("read source", |db| ops::source(&mut PgExec(db), id))
    }

    fn sources(&self) -> Result<Vec<ShareSource>, PlatformStoreError> {
        self.read("list sources", |db| ops::sources(&mut PgExec(db)))
    }

    fn add_catalogue_entries(
        &self,
        source_id: i64,
        scanned_at: UnixTime,
        entries: &[CatalogueEntry],
    ) -> Result<(), PlatformStoreError> {
        self.write("add catalogue entries", |tx| {
            ops::add_catalogue_entries(&mut PgExec(tx), source_id, scanned_at, entries)
        })
    }

    fn catalogue_entry(&self, code: &str) -> Result<Option<CatalogueEntry>, PlatformStoreError> {
        self.read("read catalogue entry", |db| {
            ops::catalogue_entry(&mut PgExec(db), code)
        })
    }

    fn catalogue_entries(&self) -> Result<Vec<CatalogueEntry>, PlatformStoreError> {
        self.read("list catalogue", |db| {
            ops::catalogue_entries(&mut PgExec(db))
        })
    }

    fn update_catalogue_entry(
        &self,
        e: &CatalogueEntry,
    ) -> Result<CatalogueEntry, PlatformStoreError> {
        self.write("update catalogue entry", |tx| {
            ops::update_catalogue_entry(&mut PgExec(tx), e)
        })
    }

    fn create_share_request(&self, r: &ShareRequest) -> Result<i64, PlatformStoreError> {
        self.write("file share request", |tx| {
            ops::create_share_request(&mut PgExec(tx), r)
        })
    }

    fn share_request(&self, id: i64) -> Result<Option<ShareRequest>, PlatformStoreError> {
        self.read("read share request", |db| {
            ops::share_request(&mut PgExec(db), id)
        })
    }

    fn share_requests(
        &self,
        f: &ShareRequestFilter,
    ) -> Result<Vec<ShareRequest>, PlatformStoreError> {
        self.read("list share requests", |db| {
            ops::share_requests(&mut PgExec(db), f)
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
                &mut PgExec(tx),
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
        self.read("list approvals", |db| {
            ops::approvals(&mut PgExec(db), request_id)
        })
    }

    fn agreement(&self, id: i64) -> Result<Option<Agreement>, PlatformStoreError> {
        self.read("read agreement", |db| ops::agreement(&mut PgExec(db), id))
    }

    fn agreements(
        &self,
        recipient: Option<&str>,
        resource: Option<&str>,
    ) -> Result<Vec<Agreement>, PlatformStoreError> {
        self.read("list agreements", |db| {
            ops::agreements(&mut PgExec(db), recipient, resource)
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
            ops::set_agreement_status(&mut PgExec(tx), id, status, by, reason, now)
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
            ops::shorten_agreement(&mut PgExec(tx), id, valid_until, by, now)
        })
    }

    fn create_service(&self, s: &DataService) -> Result<(), PlatformStoreError> {
        self.write("publish service", |tx| {
            ops::create_service(&mut PgExec(tx), s)
        })
    }

    fn service(&self, name: &str) -> Result<Option<DataService>, PlatformStoreError> {
        self.read("read service", |db| ops::service(&mut PgExec(db), name))
    }

    fn services(&self) -> Result<Vec<DataService>, PlatformStoreError> {
        self.read("list services", |db| ops::services(&mut PgExec(db)))
    }

    fn set_service_disabled(&self, name: &str, disabled: bool) -> Result<(), PlatformStoreError> {
        self.read("withdraw service", |db| {
            ops::set_service_disabled(&mut PgExec(db), name, disabled)
        })
    }

    fn usage(
        &self,
        agreement_id: i64,
        minute: UnixTime,
        day: UnixTime,
    ) -> Result<Usage, PlatformStoreError> {
        self.read("read usage", |db| {
            ops::usage(&mut PgExec(db), agreement_id, minute, day)
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
                &mut PgExec(tx),
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

super::alerts::alert_store_for!(PgPlatform, PgExec);

super::governance::governance_store_for!(PgPlatform, PgExec);

super::incidents::incident_store_for!(PgPlatform, PgExec);

super::complaints::complaint_store_for!(PgPlatform, PgExec);

super::vendors::vendor_store_for!(PgPlatform, PgExec);
super::quality::quality_store_for!(PgPlatform, PgExec);
super::backups::backup_plan_store_for!(PgPlatform, PgExec);
super::training::training_store_for!(PgPlatform, PgExec);
super::risk::risk_store_for!(PgPlatform, PgExec);
super::emergency::emergency_store_for!(PgPlatform, PgExec);
super::collections::collection_store_for!(PgPlatform, PgExec);
super::lineage::lineage_store_for!(PgPlatform, PgExec);
super::temporaries::temporary_store_for!(PgPlatform, PgExec);

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_the_display_form() {
        for (url, shown) in [
            (
                "postgres://shuan:s3cret@db:5432/platform",
                "postgres://shuan@db:5432/platform",
            ),
            (
                "postgresql://u:p@ss/w?rd@db/x?sslmode=disable",
                "postgresql://u@db/x?sslmode=disable",
            ),
            (
                "postgres://db/x?user=a&password=s3cret&options=-c%20x",
                "postgres://db/x?user=a&password=***&options=-c%20x",
            ),
            (
                "postgres://postgres@127.0.0.1/test",
                "postgres://postgres@127.0.0.1/test",
            ),
            (
                "host=db user=a password=s3cret",
                "host=db user=a password=***",
            ),
        ] {
            assert_eq!(redact_url(url), shown);
            assert!(!redact_url(url).contains("s3cret"));
        }
    }
}
