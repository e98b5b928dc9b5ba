//! The platform's own records for shuan: the asset inventory and scan history, and (in
//! [`platform`]) the platform records — departments, accounts, role grants, sessions, API
//! keys, failed sign-ins, settings, policies, elevations, jobs, every node's audit copy, and
//! the data-sharing records (sources, resource catalogue, share requests and approvals,
//! agreements, data services, usage) — behind one [`platform::PlatformStore`] trait over
//! SQLite (one node) or PostgreSQL (several nodes).
//!
//! Owns: the embedded SQLite stores under the data directory and the PostgreSQL platform
//! store, their migrations and queries.
//! Must not: hold scanned data values beyond what the inventory needs, or a password, TOTP
//! seed or API key in clear.
//!
//! The inventory (数据资产清单, R-01) is `inventory.db` in the data directory. Each saved
//! scan of a source records its tables and their graded columns — names, detected types,
//! categories, levels, confidences, reasons and counts, never a value. Queries answer
//! "what do we hold now" ([`Store::list`], [`Store::show`]), "what changed since the previous
//! scan of this source" ([`Store::diff`], the consistency check of R-01) and "which tables
//! are important data" ([`Store::catalogue`], the important-data catalogue of R-03).
//! Migrations are the `.sql` files in `migrations/`, applied in order on open.

pub mod platform;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, TransactionBehavior};
use serde::Serialize;

/// File name of the inventory inside the data directory.
pub const INVENTORY_FILE: &str = "inventory.db";

/// How long a writer waits for another process's write to finish before failing.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs `op` again while SQLite reports the database busy or locked, for up to
/// [`BUSY_TIMEOUT`]: for the statements where SQLite returns at once instead of calling the
/// busy handler (a journal-mode switch, WAL recovery by another connection).
fn retry_while_busy<T>(mut op: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let started = std::time::Instant::now();
    loop {
        match op() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// Schema migrations, applied in order; the version is the position + 1.
const MIGRATIONS: &[(&str, &str)] = &[(
    "0001_inventory",
    include_str!("../migrations/0001_inventory.sql"),
)];

/// What went wrong with the inventory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A consistent copy of a database for a backup could not be made.
    #[error("cannot take a consistent copy of {path} for the backup")]
    Snapshot {
        /// The live database.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The data directory could not be created.
    #[error("cannot create data directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// SQLite could not open the file.
    #[error("cannot open inventory {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A migration failed.
    #[error("inventory {path}: migration {name} failed")]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// Migration name.
        name: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file was written by a newer shuan.
    #[error("inventory {path} has schema version {found}, newer than this shuan knows ({known}); upgrade shuan")]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Version in the file.
        found: i64,
        /// Newest version known.
        known: i64,
    },
    /// A query failed.
    #[error("inventory query failed ({what})")]
    Query {
        /// What was being done.
        what: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
}

fn q(what: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Query { what, source }
}

/// One graded column as recorded. No values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnRecord {
    /// Column name.
    pub name: String,
    /// Type declared by the source (database/Parquet), if any.
    pub declared_type: Option<String>,
    /// Detected data type id (`cn_resident_id` …), `None` when nothing sensitive.
    #[serde(rename = "type")]
    pub data_type: Option<String>,
    /// Chinese label of the data type.
    pub label: Option<String>,
    /// Category id of the taxonomy.
    pub category: Option<String>,
    /// Level name in the scan's profile.
    pub level: String,
    /// Rank of the level in its profile (0 = lowest).
    pub level_rank: u32,
    /// Detector confidence, 0–1.
    pub confidence: f64,
    /// Why the column got its type.
    pub reason: String,
    /// Non-empty values sampled.
    pub values_seen: u64,
    /// Sampled values that matched the type.
    pub values_matched: u64,
}

/// One scanned table as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableRecord {
    /// Table name (file name without extension for files).
    pub name: String,
    /// Rows read while scanning.
    pub rows_scanned: u64,
    /// Rows in the table, when known.
    pub row_count: Option<u64>,
    /// Level name (就高从严 and raising rules applied).
    pub level: String,
    /// Rank of the level in its profile.
    pub level_rank: u32,
    /// Whether the table belongs in the important-data catalogue.
    pub catalogue: bool,
    /// Why the table got its level.
    pub reason: String,
    /// Columns in table order.
    pub columns: Vec<ColumnRecord>,
}

/// One scan of one source, to be saved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanRecord {
    /// The source's display name, password removed.
    pub source: String,
    /// Grading profile name.
    pub profile: String,
    /// Values sampled per column.
    pub sample_size: u64,
    /// Tables scanned.
    pub tables: Vec<TableRecord>,
}

/// A saved scan, without its tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanInfo {
    /// Scan id.
    pub id: i64,
    /// Source display name.
    pub source: String,
    /// Profile name.
    pub profile: String,
    /// When, UTC RFC 3339.
    pub scanned_at: String,
    /// Tables in the scan.
    pub tables: u64,
}

/// One row of the inventory listing: a table as its source's latest scan saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InventoryEntry {
    /// Source display name.
    pub source: String,
    /// Table name.
    pub table: String,
    /// Level name.
    pub level: String,
    /// Level rank.
    pub level_rank: u32,
    /// Profile that graded it.
    pub profile: String,
    /// Rows in the table (row count if known, else rows scanned).
    pub rows: u64,
    /// Number of columns.
    pub columns: u64,
    /// Number of columns with a sensitive data type.
    pub sensitive_columns: u64,
    /// In the important-data catalogue.
    pub catalogue: bool,
    /// When scanned.
    pub scanned_at: String,
    /// The scan id.
    pub scan_id: i64,
}

/// A table of the latest scan with its columns (for `assets show`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableDetail {
    /// Source display name.
    pub source: String,
    /// Profile name.
    pub profile: String,
    /// When scanned.
    pub scanned_at: String,
    /// Scan id.
    pub scan_id: i64,
    /// The table and its columns.
    #[serde(flatten)]
    pub table: TableRecord,
}

/// What changed in one place between two scans of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A table not in the previous scan.
    NewTable,
    /// A table gone since the previous scan.
    RemovedTable,
    /// A column not in the previous scan of its table.
    NewColumn,
    /// A column gone since the previous scan.
    RemovedColumn,
    /// A column that had no sensitive type and now has one.
    NewlySensitive,
    /// A sensitive column whose type changed.
    TypeChanged,
    /// A column or table whose level went up.
    LevelRaised,
    /// A column or table whose level went down.
    LevelLowered,
    /// A column that had a sensitive type and has none now.
    NoLongerSensitive,
}

impl ChangeKind {
    /// Chinese wording for reports.
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::NewTable => "新增表",
            ChangeKind::RemovedTable => "表已删除",
            ChangeKind::NewColumn => "新增字段",
            ChangeKind::RemovedColumn => "字段已删除",
            ChangeKind::NewlySensitive => "新识别为敏感",
            ChangeKind::TypeChanged => "敏感类型变化",
            ChangeKind::LevelRaised => "级别升高",
            ChangeKind::LevelLowered => "级别降低",
            ChangeKind::NoLongerSensitive => "不再识别为敏感",
        }
    }

    /// Whether the change needs a person's attention (new or more sensitive data).
    pub fn needs_review(self) -> bool {
        matches!(
            self,
            ChangeKind::NewTable
                | ChangeKind::NewColumn
                | ChangeKind::NewlySensitive
                | ChangeKind::TypeChanged
                | ChangeKind::LevelRaised
        )
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// What kind.
    pub kind: ChangeKind,
    /// The table.
    pub table: String,
    /// The column, for column changes.
    pub column: Option<String>,
    /// Before: type and level (`cn_mobile 一般数据3级`), or `None` if new.
    pub before: Option<String>,
    /// After, or `None` if removed.
    pub after: Option<String>,
    /// Whether it needs review (see [`ChangeKind::needs_review`]).
    pub needs_review: bool,
}

/// Changes between the two latest scans of a source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// Source display name.
    pub source: String,
    /// The earlier scan (`None`: the source was scanned once, everything is new).
    pub previous: Option<ScanInfo>,
    /// The latest scan.
    pub latest: ScanInfo,
    /// True when the two scans used different profiles: level changes may come from that.
    pub profile_changed: bool,
    /// The changes, by table then column.
    pub changes: Vec<Change>,
}

/// One entry of the important-data catalogue (重要数据目录, R-03).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogueEntry {
    /// Source display name.
    pub source: String,
    /// Table name.
    pub table: String,
    /// Level name.
    pub level: String,
    /// Profile that graded it.
    pub profile: String,
    /// Rows held.
    pub rows: u64,
    /// Sensitive columns as `name（label）`.
    pub sensitive_columns: Vec<String>,
    /// Category ids present, sorted.
    pub categories: Vec<String>,
    /// Why it is important data.
    pub reason: String,
    /// When scanned.
    pub scanned_at: String,
}

/// The inventory database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) `inventory.db` in the data directory and migrates it.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::CreateDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        Store::open_file(&data_dir.join(INVENTORY_FILE))
    }

    /// Opens an inventory file directly. Several processes may have it open and save at
    /// once (parallel `scan --save`, the platform server): the file is in WAL mode (readers
    /// do not block the one writer), a writer waits up to [`BUSY_TIMEOUT`] for the write
    /// lock, and every write transaction takes that lock when it begins.
    pub fn open_file(path: &Path) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        // Persistent in the file; a no-op once set. Full sync stays on (SQLite's default),
        // so a saved scan survives a power cut.
        enable_wal(&conn).map_err(open_error)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Where the inventory lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let mig = |name: &'static str| {
            let path = path.clone();
            move |source| StoreError::Migrate { path, name, source }
        };
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(mig("pragmas"))?;
        let known = MIGRATIONS.len() as i64;
        let read_version = |conn: &Connection| -> Result<i64, StoreError> {
            let version: i64 =
                retry_while_busy(|| conn.query_row("PRAGMA user_version", [], |r| r.get(0)))
                    .map_err(mig("read version"))?;
            if version > known {
                return Err(StoreError::TooNew {
                    path: path.clone(),
                    found: version,
                    known,
                });
            }
            Ok(version)
        };
        // Up to date (the usual case): no write lock needed.
        if read_version(&self.conn)? == known {
            return Ok(());
        }
        // Another process may be migrating the same file right now: take the write lock
        // first, then read the version again, so each migration runs exactly once.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(mig("lock for migration"))?;
        let version = read_version(&tx)?;
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql).map_err(mig(name))?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .map_err(mig(name))?;
        }
        tx.commit().map_err(mig("commit migrations"))?;
        Ok(())
    }

    /// Saves one scan; returns its id. All or nothing.
    pub fn record_scan(&mut self, scan: &ScanRecord) -> Result<i64, StoreError> {
        // Immediate: the write lock is taken (or waited for) at BEGIN, never upgraded
        // from a read lock mid-transaction, which SQLite refuses without waiting.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(q("begin"))?;
        tx.execute(
            "INSERT INTO scans (source, profile, sample_size) VALUES (?1, ?2, ?3)",
            params![scan.source, scan.profile, scan.sample_size as i64],
        )
        .map_err(q("insert scan"))?;
        let scan_id = tx.last_insert_rowid();
        {
            let mut ins_table = tx
                .prepare(
                    "INSERT INTO scanned_tables (scan_id, name, rows_scanned, row_count, level, \
                     level_rank, catalogue, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(q("prepare table insert"))?;
            let mut ins_col = tx
                .prepare(
                    "INSERT INTO scanned_columns (table_id, position, name, declared_type, \
                     data_type, label, category, level, level_rank, confidence, reason, \
                     values_seen, values_matched) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .map_err(q("prepare column insert"))?;
            for t in &scan.tables {
                ins_table
                    .execute(params![
                        scan_id,
                        t.name,
                        t.rows_scanned as i64,
                        t.row_count.map(|n| n as i64),
                        t.level,
                        t.level_rank,
                        t.catalogue,
                        t.reason
                    ])
                    .map_err(q("insert table"))?;
                let table_id = tx.last_insert_rowid();
                for (pos, c) in t.columns.iter().enumerate() {
                    ins_col
                        .execute(params![
                            table_id,
                            pos as i64,
                            c.name,
                            c.declared_type,
                            c.data_type,
                            c.label,
                            c.category,
                            c.level,
                            c.level_rank,
                            c.confidence,
                            c.reason,
                            c.values_seen as i64,
                            c.values_matched as i64
                        ])
                        .map_err(q("insert column"))?;
                }
            }
        }
        tx.commit().map_err(q("commit scan"))?;
        Ok(scan_id)
    }

    /// Saved scans, newest first; only those of `source` if given.
    pub fn scans(&self, source: Option<&str>) -> Result<Vec<ScanInfo>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.id, s.source, s.profile, s.scanned_at, \
                 (SELECT COUNT(*) FROM scanned_tables t WHERE t.scan_id = s.id) \
                 FROM scans s WHERE ?1 IS NULL OR s.source = ?1 ORDER BY s.id DESC",
            )
            .map_err(q("list scans"))?;
        let rows = stmt
            .query_map(params![source], scan_info_row)
            .map_err(q("list scans"))?;
        rows.collect::<Result<_, _>>().map_err(q("list scans"))
    }

    /// Every table as the latest saved scan of its source saw it, by source then table.
    pub fn list(&self) -> Result<Vec<InventoryEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.source, t.name, t.level, t.level_rank, s.profile, \
                 COALESCE(t.row_count, t.rows_scanned), \
                 (SELECT COUNT(*) FROM scanned_columns c WHERE c.table_id = t.id), \
                 (SELECT COUNT(*) FROM scanned_columns c WHERE c.table_id = t.id \
                    AND c.data_type IS NOT NULL), \
                 t.catalogue, s.scanned_at, s.id \
                 FROM scanned_tables t JOIN scans s ON s.id = t.scan_id \
                 WHERE s.id = (SELECT MAX(id) FROM scans s2 WHERE s2.source = s.source) \
                 ORDER BY s.source, t.name",
            )
            .map_err(q("list inventory"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(InventoryEntry {
                    source: r.get(0)?,
                    table: r.get(1)?,
                    level: r.get(2)?,
                    level_rank: r.get(3)?,
                    profile: r.get(4)?,
                    rows: r.get::<_, i64>(5)?.max(0) as u64,
                    columns: r.get::<_, i64>(6)?.max(0) as u64,
                    sensitive_columns: r.get::<_, i64>(7)?.max(0) as u64,
                    catalogue: r.get(8)?,
                    scanned_at: r.get(9)?,
                    scan_id: r.get(10)?,
                })
            })
            .map_err(q("list inventory"))?;
        rows.collect::<Result<_, _>>().map_err(q("list inventory"))
    }

    /// The named table(s) in the latest scan of each source (of `source` only if given).
    /// Several sources may hold a table of the same name: all are returned.
    pub fn show(&self, table: &str, source: Option<&str>) -> Result<Vec<TableDetail>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT t.id, s.id FROM scanned_tables t JOIN scans s ON s.id = t.scan_id \
                 WHERE t.name = ?1 AND (?2 IS NULL OR s.source = ?2) \
                 AND s.id = (SELECT MAX(id) FROM scans s2 WHERE s2.source = s.source) \
                 ORDER BY s.source",
            )
            .map_err(q("find table"))?;
        let ids: Vec<(i64, i64)> = stmt
            .query_map(params![table, source], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(q("find table"))?
            .collect::<Result<_, _>>()
            .map_err(q("find table"))?;
        let mut out = Vec::new();
        for (table_id, scan_id) in ids {
            let info = self.scan_info(scan_id)?;
            out.push(TableDetail {
                source: info.source,
                profile: info.profile,
                scanned_at: info.scanned_at,
                scan_id,
                table: self.load_table(table_id)?,
            });
        }
        Ok(out)
    }

    /// The tables of one saved scan, with their columns.
    pub fn scan_tables(&self, scan_id: i64) -> Result<Vec<TableRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM scanned_tables WHERE scan_id = ?1 ORDER BY name")
            .map_err(q("scan tables"))?;
        let ids: Vec<i64> = stmt
            .query_map([scan_id], |r| r.get(0))
            .map_err(q("scan tables"))?
            .collect::<Result<_, _>>()
            .map_err(q("scan tables"))?;
        ids.into_iter().map(|id| self.load_table(id)).collect()
    }

    fn scan_info(&self, scan_id: i64) -> Result<ScanInfo, StoreError> {
        self.conn
            .query_row(
                "SELECT s.id, s.source, s.profile, s.scanned_at, \
                 (SELECT COUNT(*) FROM scanned_tables t WHERE t.scan_id = s.id) \
                 FROM scans s WHERE s.id = ?1",
                [scan_id],
                scan_info_row,
            )
            .map_err(q("scan info"))
    }

    fn load_table(&self, table_id: i64) -> Result<TableRecord, StoreError> {
        let mut table = self
            .conn
            .query_row(
                "SELECT name, rows_scanned, row_count, level, level_rank, catalogue, reason \
                 FROM scanned_tables WHERE id = ?1",
                [table_id],
                |r| {
                    Ok(TableRecord {
                        name: r.get(0)?,
                        rows_scanned: r.get::<_, i64>(1)?.max(0) as u64,
                        row_count: r.get::<_, Option<i64>>(2)?.map(|n| n.max(0) as u64),
                        level: r.get(3)?,
                        level_rank: r.get(4)?,
                        catalogue: r.get(5)?,
                        reason: r.get(6)?,
                        columns: Vec::new(),
                    })
                },
            )
            .map_err(q("load table"))?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name, declared_type, data_type, label, category, level, level_rank, \
                 confidence, reason, values_seen, values_matched FROM scanned_columns \
                 WHERE table_id = ?1 ORDER BY position",
            )
            .map_err(q("load columns"))?;
        table.columns = stmt
            .query_map([table_id], |r| {
                Ok(ColumnRecord {
                    name: r.get(0)?,
                    declared_type: r.get(1)?,
                    data_type: r.get(2)?,
                    label: r.get(3)?,
                    category: r.get(4)?,
                    level: r.get(5)?,
                    level_rank: r.get(6)?,
                    confidence: r.get(7)?,
                    reason: r.get(8)?,
                    values_seen: r.get::<_, i64>(9)?.max(0) as u64,
                    values_matched: r.get::<_, i64>(10)?.max(0) as u64,
                })
            })
            .map_err(q("load columns"))?
            .collect::<Result<_, _>>()
            .map_err(q("load columns"))?;
        Ok(table)
    }

    /// What changed between the two latest saved scans of `source`; `None` if the source
    /// was never saved.
    pub fn diff(&self, source: &str) -> Result<Option<Diff>, StoreError> {
        let scans = self.scans(Some(source))?;
        let Some(latest) = scans.first().cloned() else {
            return Ok(None);
        };
        let previous = scans.get(1).cloned();
        let after = self.scan_tables(latest.id)?;
        let before = match &previous {
            Some(p) => self.scan_tables(p.id)?,
            None => Vec::new(),
        };
        let profile_changed = previous
            .as_ref()
            .is_some_and(|p| p.profile != latest.profile);
        Ok(Some(Diff {
            source: source.to_string(),
            changes: diff_tables(&before, &after, profile_changed),
            previous,
            latest,
            profile_changed,
        }))
    }

    /// The important-data catalogue: tables of each source's latest scan whose level is a
    /// catalogue level of its profile (重要数据/核心数据; 三级 in `xinyang`).
    pub fn catalogue(&self) -> Result<Vec<CatalogueEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT t.id, s.source, t.name, t.level, s.profile, \
                 COALESCE(t.row_count, t.rows_scanned), t.reason, s.scanned_at \
                 FROM scanned_tables t JOIN scans s ON s.id = t.scan_id \
                 WHERE t.catalogue = 1 \
                 AND s.id = (SELECT MAX(id) FROM scans s2 WHERE s2.source = s.source) \
                 ORDER BY t.level_rank DESC, s.source, t.name",
            )
            .map_err(q("catalogue"))?;
        let rows: Vec<(i64, CatalogueEntry)> = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    CatalogueEntry {
                        source: r.get(1)?,
                        table: r.get(2)?,
                        level: r.get(3)?,
                        profile: r.get(4)?,
                        rows: r.get::<_, i64>(5)?.max(0) as u64,
                        sensitive_columns: Vec::new(),
                        categories: Vec::new(),
                        reason: r.get(6)?,
                        scanned_at: r.get(7)?,
                    },
                ))
            })
            .map_err(q("catalogue"))?
            .collect::<Result<_, _>>()
            .map_err(q("catalogue"))?;
        let mut out = Vec::with_capacity(rows.len());
        for (table_id, mut entry) in rows {
            let table = self.load_table(table_id)?;
            let mut cats = std::collections::BTreeSet::new();
            for c in table.columns.iter().filter(|c| c.data_type.is_some()) {
                let label = c.label.as_deref().or(c.data_type.as_deref()).unwrap_or("");
                entry
                    .sensitive_columns
                    .push(format!("{}（{}）", c.name, label));
                if let Some(cat) = &c.category {
                    cats.insert(cat.clone());
                }
            }
            entry.categories = cats.into_iter().collect();
            out.push(entry);
        }
        Ok(out)
    }
}

/// Switches the file to WAL. The switch needs a moment of exclusive access, and SQLite
/// answers "database is locked" at once, without the busy handler, when another connection
/// opens the file meanwhile (parallel first-time `scan --save`): retried until
/// [`BUSY_TIMEOUT`].
fn enable_wal(conn: &Connection) -> rusqlite::Result<()> {
    retry_while_busy(|| conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)))
        .map(|_| ())
}

fn scan_info_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScanInfo> {
    Ok(ScanInfo {
        id: r.get(0)?,
        source: r.get(1)?,
        profile: r.get(2)?,
        scanned_at: r.get(3)?,
        tables: r.get::<_, i64>(4)?.max(0) as u64,
    })
}

fn describe(c: &ColumnRecord) -> String {
    format!("{} {}", c.data_type.as_deref().unwrap_or("-"), c.level)
}

fn change(
    kind: ChangeKind,
    table: &str,
    column: Option<&str>,
    before: Option<String>,
    after: Option<String>,
) -> Change {
    Change {
        kind,
        table: table.to_string(),
        column: column.map(str::to_string),
        before,
        after,
        needs_review: kind.needs_review(),
    }
}

/// Compares two scans of the same source table by table, column by column (by name).
fn diff_tables(
    before: &[TableRecord],
    after: &[TableRecord],
    profile_changed: bool,
) -> Vec<Change> {
    let old: BTreeMap<&str, &TableRecord> = before.iter().map(|t| (t.name.as_str(), t)).collect();
    let new: BTreeMap<&str, &TableRecord> = after.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut out = Vec::new();
    let names: std::collections::BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    for name in names {
        match (old.get(name), new.get(name)) {
            (None, Some(t)) => {
                out.push(change(
                    ChangeKind::NewTable,
                    name,
                    None,
                    None,
                    Some(t.level.clone()),
                ));
                for c in t.columns.iter().filter(|c| c.data_type.is_some()) {
                    out.push(change(
                        ChangeKind::NewColumn,
                        name,
                        Some(&c.name),
                        None,
                        Some(describe(c)),
                    ));
                }
            }
            (Some(t), None) => {
                out.push(change(
                    ChangeKind::RemovedTable,
                    name,
                    None,
                    Some(t.level.clone()),
                    None,
                ));
            }
            (Some(a), Some(b)) => {
                let old_cols: BTreeMap<&str, &ColumnRecord> =
                    a.columns.iter().map(|c| (c.name.as_str(), c)).collect();
                for c in &b.columns {
                    match old_cols.get(c.name.as_str()) {
                        None => out.push(change(
                            ChangeKind::NewColumn,
                            name,
                            Some(&c.name),
                            None,
                            Some(describe(c)),
                        )),
                        Some(o) => {
                            let kind = match (&o.data_type, &c.data_type) {
                                (None, Some(_)) => Some(ChangeKind::NewlySensitive),
                                (Some(_), None) => Some(ChangeKind::NoLongerSensitive),
                                (Some(x), Some(y)) if x != y => Some(ChangeKind::TypeChanged),
                                _ => level_change(
                                    o.level_rank,
                                    c.level_rank,
                                    &o.level,
                                    &c.level,
                                    profile_changed,
                                ),
                            };
                            if let Some(kind) = kind {
                                out.push(change(
                                    kind,
                                    name,
                                    Some(&c.name),
                                    Some(describe(o)),
                                    Some(describe(c)),
                                ));
                            }
                        }
                    }
                }
                let new_cols: std::collections::HashSet<&str> =
                    b.columns.iter().map(|c| c.name.as_str()).collect();
                for o in a
                    .columns
                    .iter()
                    .filter(|o| !new_cols.contains(o.name.as_str()))
                {
                    out.push(change(
                        ChangeKind::RemovedColumn,
                        name,
                        Some(&o.name),
                        Some(describe(o)),
                        None,
                    ));
                }
                if let Some(kind) = level_change(
                    a.level_rank,
                    b.level_rank,
                    &a.level,
                    &b.level,
                    profile_changed,
                ) {
                    out.push(change(
                        kind,
                        name,
                        None,
                        Some(a.level.clone()),
                        Some(b.level.clone()),
                    ));
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// Level change by rank; when the profile changed ranks are not comparable, so only a
/// different level name is reported, as raised (the cautious reading).
fn level_change(
    old_rank: u32,
    new_rank: u32,
    old: &str,
    new: &str,
    profile_changed: bool,
) -> Option<ChangeKind> {
    if profile_changed {
        return (old != new).then_some(ChangeKind::LevelRaised);
    }
    match new_rank.cmp(&old_rank) {
        std::cmp::Ordering::Greater => Some(ChangeKind::LevelRaised),
        std::cmp::Ordering::Less => Some(ChangeKind::LevelLowered),
        std::cmp::Ordering::Equal => None,
    }
}

/// A database of a data directory copied for a backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseSnapshot {
    /// Its path relative to the directory (`platform.db`, `inventory.db`).
    pub relative: PathBuf,
    /// The consistent copy to archive in its place.
    pub copy: PathBuf,
}

/// Consistent copies, made in `into`, of the SQLite databases shuan keeps at the top of
/// `dir` (the platform store and the inventory), for a backup taken while a server or a
/// scan may be writing them. Copying the live file and its `-wal` one after the other
/// could pair a database with a log from another moment, or miss committed changes the
/// log still holds; `VACUUM INTO` writes one transaction's view, log included. A
/// directory without them gives no snapshots. `into` should be a private temporary
/// directory the caller removes.
pub fn snapshot_databases(dir: &Path, into: &Path) -> Result<Vec<DatabaseSnapshot>, StoreError> {
    let mut out = Vec::new();
    for name in [platform::PLATFORM_FILE, INVENTORY_FILE] {
        let live = dir.join(name);
        if !live.is_file() {
            continue;
        }
        let copy = into.join(name);
        let fail = |source: rusqlite::Error| StoreError::Snapshot {
            path: live.clone(),
            source,
        };
        // Read-write without create: a read-only connection cannot open a WAL database
        // whose shared-memory file is gone, and VACUUM INTO changes nothing in it.
        let conn = Connection::open_with_flags(
            &live,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(fail)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        let target = copy.to_str().ok_or_else(|| StoreError::Snapshot {
            path: live.clone(),
            source: rusqlite::Error::InvalidPath(copy.clone()),
        })?;
        retry_while_busy(|| conn.execute("VACUUM INTO ?1", [target])).map_err(fail)?;
        out.push(DatabaseSnapshot {
            relative: PathBuf::from(name),
            copy,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn snapshots_hold_what_the_write_ahead_log_still_holds() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join(INVENTORY_FILE);
        let writer = Connection::open(&live).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;
                 CREATE TABLE t(x INTEGER); WITH RECURSIVE n(i) AS
                 (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<1000) INSERT INTO t SELECT i FROM n;",
            )
            .unwrap();
        // The rows are committed but only in the log: a copy of the main file alone
        // would not have them.
        let bare = dir.path().join("bare.db");
        std::fs::copy(&live, &bare).unwrap();
        let bare_rows: Result<i64, _> = Connection::open(&bare)
            .and_then(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)));
        assert!(bare_rows.is_err(), "the main file already held the table");

        let into = tempfile::tempdir().unwrap();
        let snaps = snapshot_databases(dir.path(), into.path()).unwrap();
        assert_eq!(snaps.len(), 1, "no platform.db here, only the inventory");
        assert_eq!(snaps[0].relative, PathBuf::from(INVENTORY_FILE));
        let copy = Connection::open(&snaps[0].copy).unwrap();
        let rows: i64 = copy
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1000);
        // The writer goes on undisturbed.
        writer.execute("INSERT INTO t VALUES (1001)", []).unwrap();
        assert!(snapshot_databases(&dir.path().join("absent"), into.path())
            .unwrap()
            .is_empty());
    }

    fn col(name: &str, ty: Option<&str>, level: &str, rank: u32) -> ColumnRecord {
        ColumnRecord {
            name: name.into(),
            declared_type: Some("TEXT".into()),
            data_type: ty.map(Into::into),
            label: ty.map(|t| format!("label-{t}")),
            category: ty.map(|_| "pi_identity".into()),
            level: level.into(),
            level_rank: rank,
            confidence: if ty.is_some() { 0.98 } else { 0.0 },
            reason: "test".into(),
            values_seen: 10,
            values_matched: if ty.is_some() { 10 } else { 0 },
        }
    }

    fn table(
        name: &str,
        level: &str,
        rank: u32,
        catalogue: bool,
        columns: Vec<ColumnRecord>,
    ) -> TableRecord {
        TableRecord {
            name: name.into(),
            rows_scanned: 10,
            row_count: Some(200_000),
            level: level.into(),
            level_rank: rank,
            catalogue,
            reason: "就高从严".into(),
            columns,
        }
    }

    fn scan(source: &str, tables: Vec<TableRecord>) -> ScanRecord {
        ScanRecord {
            source: source.into(),
            profile: "gbt43697".into(),
            sample_size: 1000,
            tables,
        }
    }

    #[test]
    fn saves_lists_shows_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("sub")).unwrap();
        let t = table(
            "people",
            "重要数据",
            4,
            true,
            vec![
                col("sfzh", Some("cn_resident_id"), "一般数据4级", 3),
                col("bz", None, "一般数据1级", 0),
            ],
        );
        let id = store
            .record_scan(&scan("db.sqlite", vec![t.clone()]))
            .unwrap();
        drop(store);
        let store = Store::open(&dir.path().join("sub")).unwrap();
        let list = store.list().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].sensitive_columns, 1);
        assert_eq!(list[0].columns, 2);
        assert_eq!(list[0].rows, 200_000);
        assert_eq!(list[0].scan_id, id);
        let shown = store.show("people", None).unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].table, t);
        assert!(store.show("people", Some("other")).unwrap().is_empty());
        let cat = store.catalogue().unwrap();
        assert_eq!(cat.len(), 1);
        assert_eq!(
            cat[0].sensitive_columns,
            vec!["sfzh（label-cn_resident_id）".to_string()]
        );
        assert_eq!(cat[0].categories, vec!["pi_identity".to_string()]);
    }

    /// Regression (issue 10 item 3): parallel first-time `scan --save` runs into one data
    /// directory raced on the migration ("table scans already exists") and on the write
    /// lock. Separate connections lock the file like separate processes do.
    #[test]
    fn concurrent_first_opens_and_saves_all_succeed() {
        // The race is timing-dependent: several fresh inventories make it near-certain
        // that the old code fails at least once.
        for _ in 0..6 {
            concurrent_first_opens_and_saves_round();
        }
    }

    fn concurrent_first_opens_and_saves_round() {
        const WRITERS: usize = 16;
        let dir = tempfile::tempdir().unwrap();
        let start = std::sync::Barrier::new(WRITERS);
        let results: Vec<Result<i64, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..WRITERS)
                .map(|i| {
                    let (dir, start) = (dir.path(), &start);
                    scope.spawn(move || {
                        start.wait();
                        let mut store = Store::open(dir).map_err(|e| e.to_string())?;
                        let tables = (0..20)
                            .map(|t| {
                                let cols = vec![col("sfzh", Some("cn_resident_id"), "4级", 3)];
                                table(&format!("t{t}"), "x", 0, false, cols)
                            })
                            .collect();
                        store
                            .record_scan(&scan(&format!("/data/source-{i}.csv"), tables))
                            .map_err(|e| e.to_string())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(failures.is_empty(), "{failures:?}");
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.scans(None).unwrap().len(), WRITERS);
        assert_eq!(store.list().unwrap().len(), WRITERS * 20);
    }

    #[test]
    fn list_uses_latest_scan_per_source() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .record_scan(&scan(
                "a",
                vec![
                    table("t1", "x", 0, false, vec![]),
                    table("t2", "x", 0, true, vec![]),
                ],
            ))
            .unwrap();
        store
            .record_scan(&scan("b", vec![table("t9", "x", 0, false, vec![])]))
            .unwrap();
        store
            .record_scan(&scan("a", vec![table("t1", "x", 0, false, vec![])]))
            .unwrap();
        let list = store.list().unwrap();
        let names: Vec<(&str, &str)> = list
            .iter()
            .map(|e| (e.source.as_str(), e.table.as_str()))
            .collect();
        assert_eq!(names, [("a", "t1"), ("b", "t9")]);
        assert!(
            store.catalogue().unwrap().is_empty(),
            "t2 gone in the latest scan of a"
        );
        assert_eq!(store.scans(Some("a")).unwrap().len(), 2);
        assert_eq!(store.scans(None).unwrap().len(), 3);
    }

    #[test]
    fn diff_reports_new_and_newly_sensitive_columns() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        assert!(store.diff("src").unwrap().is_none());
        store
            .record_scan(&scan(
                "src",
                vec![
                    table(
                        "t",
                        "一般数据2级",
                        1,
                        false,
                        vec![
                            col("xm", Some("person_name"), "一般数据2级", 1),
                            col("bz", None, "一般数据1级", 0),
                            col("old", None, "一般数据1级", 0),
                        ],
                    ),
                    table("gone", "一般数据1级", 0, false, vec![]),
                ],
            ))
            .unwrap();
        let first = store.diff("src").unwrap().unwrap();
        assert!(first.previous.is_none());
        assert!(first
            .changes
            .iter()
            .any(|c| c.kind == ChangeKind::NewTable && c.table == "t"));
        store
            .record_scan(&scan(
                "src",
                vec![
                    table(
                        "t",
                        "一般数据4级",
                        3,
                        false,
                        vec![
                            col("xm", Some("person_name"), "一般数据2级", 1),
                            col("bz", Some("cn_mobile"), "一般数据3级", 2),
                            col("sfzh", Some("cn_resident_id"), "一般数据4级", 3),
                        ],
                    ),
                    table("added", "一般数据1级", 0, false, vec![]),
                ],
            ))
            .unwrap();
        let d = store.diff("src").unwrap().unwrap();
        assert!(d.previous.is_some());
        let kinds: Vec<(ChangeKind, &str, Option<&str>)> = d
            .changes
            .iter()
            .map(|c| (c.kind, c.table.as_str(), c.column.as_deref()))
            .collect();
        assert!(
            kinds.contains(&(ChangeKind::NewlySensitive, "t", Some("bz"))),
            "{kinds:?}"
        );
        assert!(kinds.contains(&(ChangeKind::NewColumn, "t", Some("sfzh"))));
        assert!(kinds.contains(&(ChangeKind::RemovedColumn, "t", Some("old"))));
        assert!(kinds.contains(&(ChangeKind::LevelRaised, "t", None)));
        assert!(kinds.contains(&(ChangeKind::NewTable, "added", None)));
        assert!(kinds.contains(&(ChangeKind::RemovedTable, "gone", None)));
        assert!(
            !kinds.iter().any(|k| k.2 == Some("xm")),
            "unchanged column not reported"
        );
    }

    #[test]
    fn refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(INVENTORY_FILE);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("PRAGMA user_version = 99").unwrap();
        }
        let err = Store::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("99") && err.contains("upgrade"), "{err}");
    }

    #[test]
    fn stores_no_values() {
        // The schema has no column that could hold a sampled value.
        let sql = MIGRATIONS
            .iter()
            .map(|m| m.1)
            .collect::<String>()
            .to_lowercase();
        assert!(!sql.contains("sample_value") && !sql.contains(" value "));
    }
}
