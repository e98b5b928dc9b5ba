//! Evaluation bench (issue 14: all controls of one regulation for a department with 1 M
//! ledger records and 10,000 inventory columns, target under 2 s).
//!
//! The server's evidence source does not exist yet, so this bench builds its own: a
//! SQLite file holding the ledger, inventory columns, datasets and operations of one
//! department (plus another department's records, so filters do real work), and two
//! `EvidenceSource`s over it:
//!  - `aggregate`: what the trait asks for — indexed COUNT/MIN/SUM per question;
//!  - `streaming` (the peer): the same facts computed by reading every row of the tables
//!    and filtering in Rust, as a source that fetched rows instead of aggregates would.
//!
//! Both answer every control of the profile; the bench checks they agree, then prints
//! the median of 5 evaluations each and the ratio.
//!
//! Usage: cargo run --release -p shuan-comply --example eval_bench -- [profile] [ledger-rows] [columns]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};
use shuan_comply::source::*;
use shuan_comply::{evaluate, Profile};

const DEPT: &str = "14050001";
const OTHER: &str = "14050002";
/// Level names of the default grading profile (gbt43697), lowest first.
const LEVELS: [&str; 6] = [
    "一般数据1级",
    "一般数据2级",
    "一般数据3级",
    "一般数据4级",
    "重要数据",
    "核心数据",
];

fn build(conn: &Connection, ledger_rows: u64, columns: u64) -> rusqlite::Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
         CREATE TABLE ledger(dept TEXT NOT NULL, day INTEGER NOT NULL, kind TEXT NOT NULL);
         CREATE TABLE datasets(dept TEXT NOT NULL, name TEXT NOT NULL, owner TEXT, level_rank INTEGER, catalogued INTEGER NOT NULL);
         CREATE TABLE columns(dept TEXT NOT NULL, dataset TEXT NOT NULL, name TEXT NOT NULL,
                              level_rank INTEGER, data_type TEXT, encrypted INTEGER NOT NULL);
         CREATE TABLE ops(dept TEXT NOT NULL, day INTEGER NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, recorded INTEGER NOT NULL);",
    )?;
    let start = day(2025, 6, 1);
    let span = day(2026, 12, 31) - start + 1;
    let tx = conn.unchecked_transaction()?;
    {
        let mut ins = tx.prepare("INSERT INTO ledger VALUES (?1, ?2, ?3)")?;
        let kinds = ["data.read", "mask.run", "share.deliver", "key.use", "login"];
        for i in 0..ledger_rows + ledger_rows / 10 {
            let dept = if i < ledger_rows { DEPT } else { OTHER };
            ins.execute(params![
                dept,
                start + (i as i64 * 7919) % span,
                kinds[(i % 5) as usize]
            ])?;
        }
        let mut ds = tx.prepare("INSERT INTO datasets VALUES (?1, ?2, ?3, ?4, ?5)")?;
        let datasets = (columns / 20).max(1);
        for d in 0..datasets {
            let owner = (d % 97 != 0).then(|| format!("owner-{d}"));
            let rank = (d % 6) as i64;
            ds.execute(params![
                DEPT,
                format!("ds{d}"),
                owner,
                rank,
                (rank >= 4 && d % 13 != 0) as i64
            ])?;
        }
        let mut col = tx.prepare("INSERT INTO columns VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        let types = [
            "cn_resident_id",
            "cn_mobile",
            "address",
            "person_name",
            "bank_card",
            "",
        ];
        for c in 0..columns {
            let rank = (c % 211 != 0).then_some((c % 6) as i64);
            let ty = types[(c % 6) as usize];
            let encrypted = rank.is_some_and(|r| r >= 3) && c % 101 != 0;
            col.execute(params![
                DEPT,
                format!("ds{}", c % datasets),
                format!("c{c}"),
                rank,
                ty,
                encrypted as i64
            ])?;
            col.execute(params![
                OTHER,
                format!("ds{}", c % datasets),
                format!("c{c}"),
                rank,
                ty,
                0
            ])?;
        }
        let mut op = tx.prepare("INSERT INTO ops VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for i in 0..20_000u64 {
            let kind = OperationKind::ALL[(i % 7) as usize].id();
            op.execute(params![
                DEPT,
                start + (i as i64 * 31) % span,
                kind,
                format!("op{i}"),
                (i % 5003 != 0) as i64
            ])?;
        }
    }
    tx.commit()?;
    conn.execute_batch(
        "CREATE INDEX ledger_dept_day ON ledger(dept, day);
         CREATE INDEX columns_dept ON columns(dept, level_rank, encrypted);
         CREATE INDEX datasets_dept ON datasets(dept);
         CREATE INDEX ops_dept ON ops(dept, kind, day);
         ANALYZE;",
    )
}

fn err(what: &str) -> impl Fn(rusqlite::Error) -> SourceError + '_ {
    move |e| SourceError {
        what: what.to_string(),
        message: e.to_string(),
    }
}

fn level_rank(scope: &ColumnScope) -> Option<i64> {
    match scope {
        ColumnScope::AtOrAboveLevel(l) => LEVELS.iter().position(|x| x == l).map(|p| p as i64),
        ColumnScope::DataTypes(_) => None,
    }
}

/// Facts neither source reads from SQLite: accounts and keys are small; governance
/// records are not kept (None) — as on the platform today.
fn accounts() -> Vec<AccountRecord> {
    use shuan_access::{DataScope, Grant, Role};
    (0..200)
        .map(|i| AccountRecord {
            id: format!("u{i}"),
            vendor: i % 50 == 0,
            grants: vec![Grant {
                role: [
                    Role::DataUser,
                    Role::DataSteward,
                    Role::SystemAdmin,
                    Role::SecurityAdmin,
                    Role::Auditor,
                ][i % 5],
                department: DEPT.into(),
                scope: DataScope::OwnDepartment,
            }],
            last_active: Some(day(2026, 12, 1)),
            created: day(2025, 1, 1),
            second_factor: i % 3 != 0,
            disabled: false,
        })
        .collect()
}

struct Aggregate<'c>(&'c Connection);
struct Streaming<'c>(&'c Connection);

macro_rules! common_methods {
    () => {
        fn keys(&self, _d: &str) -> Lookup<Vec<KeyRecord>> {
            Ok(Some(vec![KeyRecord {
                id: "k1".into(),
                algorithm: "sm4".into(),
                last_rotated: day(2026, 6, 1),
                retired: false,
            }]))
        }
        fn connections(&self, _d: &str) -> Lookup<ConnectionFacts> {
            Ok(None)
        }
        fn accounts(&self, _d: &str) -> Lookup<Vec<AccountRecord>> {
            Ok(Some(accounts()))
        }
        fn elevations(&self, _d: &str, _p: &Period) -> Lookup<Vec<ElevationRecord>> {
            Ok(None)
        }
        fn masking(&self, _d: &str, _p: &Period) -> Lookup<MaskingFacts> {
            Ok(None)
        }
        fn alerts(&self, _d: &str, _p: &Period, _h: u32) -> Lookup<AlertFacts> {
            Ok(None)
        }
        fn backups(&self, _d: &str, _p: &Period) -> Lookup<Vec<BackupRecord>> {
            Ok(None)
        }
        fn sharing(&self, _d: &str, _p: &Period) -> Lookup<SharingFacts> {
            Ok(None)
        }
        fn open_catalogue(&self, _d: &str) -> Lookup<Vec<OpenCatalogueEntry>> {
            Ok(None)
        }
        fn governance(&self, _d: &str, _k: GovernanceKind) -> Lookup<Vec<GovernanceRecord>> {
            Ok(None)
        }
        fn incidents(&self, _d: &str, _p: &Period) -> Lookup<Vec<IncidentRecord>> {
            Ok(None)
        }
        fn vendors(&self, _d: &str) -> Lookup<Vec<VendorRecord>> {
            Ok(None)
        }
        fn rectifications(&self, _d: &str, _p: &Period) -> Lookup<Vec<RectificationItem>> {
            Ok(None)
        }
        fn collections(&self, _d: &str) -> Lookup<Vec<CollectionRecord>> {
            Ok(None)
        }
        fn temporaries(&self, _d: &str, _p: &Period, _m: u32) -> Lookup<TemporaryFacts> {
            Ok(None)
        }
        fn lineage(&self, _d: &str) -> Lookup<LineageFacts> {
            Ok(None)
        }
        fn documents(&self, _d: &str, _p: &Period, _c: &str) -> Lookup<Vec<DocumentRef>> {
            Ok(None)
        }
    };
}

impl EvidenceSource for Aggregate<'_> {
    common_methods!();

    fn inventory(&self, d: &str) -> Lookup<InventoryFacts> {
        let c = self.0;
        let (datasets, with_owner): (u64, u64) = c
            .query_row(
                "SELECT COUNT(*), COUNT(owner) FROM datasets WHERE dept=?1",
                [d],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err("datasets"))?;
        let (columns, graded): (u64, u64) = c
            .query_row(
                "SELECT COUNT(*), COUNT(level_rank) FROM columns WHERE dept=?1",
                [d],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err("columns"))?;
        let mut st = c
            .prepare_cached("SELECT level_rank, COUNT(*) FROM columns WHERE dept=?1 AND level_rank IS NOT NULL GROUP BY level_rank")
            .map_err(err("levels"))?;
        let by_level = st
            .query_map([d], |r| {
                Ok((
                    LEVELS[r.get::<_, i64>(0)? as usize].to_string(),
                    r.get::<_, u64>(1)?,
                ))
            })
            .map_err(err("levels"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err("levels"))?;
        let mut st = c
            .prepare_cached("SELECT dataset || '.' || name FROM columns WHERE dept=?1 AND level_rank IS NULL LIMIT 20")
            .map_err(err("ungraded"))?;
        let ungraded = st
            .query_map([d], |r| {
                Ok(RecordRef::new("column", r.get::<_, String>(0)?, "未分级"))
            })
            .map_err(err("ungraded"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err("ungraded"))?;
        Ok(Some(InventoryFacts {
            datasets,
            datasets_with_owner: with_owner,
            datasets_without_owner: Vec::new(),
            columns,
            columns_graded: graded,
            ungraded_columns: ungraded,
            columns_by_level: by_level,
            last_consistency_check: Some(day(2026, 12, 20)),
        }))
    }

    fn important_data(&self, d: &str) -> Lookup<ImportantDataFacts> {
        let (n, cat): (u64, u64) = self
            .0
            .query_row("SELECT COUNT(*), COALESCE(SUM(catalogued),0) FROM datasets WHERE dept=?1 AND level_rank >= 4", [d], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(err("important"))?;
        Ok(Some(ImportantDataFacts {
            datasets_at_catalogue_levels: n,
            catalogued: cat,
            uncatalogued: Vec::new(),
        }))
    }

    fn encryption_at_rest(&self, d: &str, scope: &ColumnScope) -> Lookup<EncryptionFacts> {
        let (n, enc): (u64, u64) = match (scope, level_rank(scope)) {
            (_, Some(rank)) => self.0.query_row(
                "SELECT COUNT(*), COALESCE(SUM(encrypted),0) FROM columns WHERE dept=?1 AND level_rank >= ?2",
                params![d, rank],
                |r| Ok((r.get(0)?, r.get(1)?)),
            ),
            (ColumnScope::DataTypes(types), None) => {
                let list = types.iter().map(|t| format!("'{}'", t.replace('\'', ""))).collect::<Vec<_>>().join(",");
                self.0.query_row(
                    &format!("SELECT COUNT(*), COALESCE(SUM(encrypted),0) FROM columns WHERE dept=?1 AND data_type IN ({list})"),
                    [d],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
            }
            _ => Ok((0, 0)),
        }
        .map_err(err("encryption"))?;
        Ok(Some(EncryptionFacts {
            columns_in_scope: n,
            encrypted: enc,
            unencrypted: Vec::new(),
        }))
    }

    fn ledger(&self, d: &str, p: &Period) -> Lookup<LedgerFacts> {
        let n: u64 = self
            .0
            .query_row(
                "SELECT COUNT(*) FROM ledger WHERE dept=?1 AND day BETWEEN ?2 AND ?3",
                params![d, p.start, p.end],
                |r| r.get(0),
            )
            .map_err(err("ledger"))?;
        let oldest: Option<i64> = self
            .0
            .query_row("SELECT MIN(day) FROM ledger WHERE dept=?1", [d], |r| {
                r.get(0)
            })
            .map_err(err("ledger"))?;
        Ok(Some(LedgerFacts {
            records_in_period: n,
            oldest_retained: oldest,
            complete_from_genesis: false,
            last_verification: None,
        }))
    }

    fn operations(&self, d: &str, p: &Period, kind: OperationKind) -> Lookup<OperationFacts> {
        let (run, rec): (u64, u64) = self
            .0
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(recorded),0) FROM ops WHERE dept=?1 AND kind=?2 AND day BETWEEN ?3 AND ?4",
                params![d, kind.id(), p.start, p.end],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err("operations"))?;
        Ok(Some(OperationFacts {
            run,
            recorded: rec,
            unrecorded: Vec::new(),
        }))
    }
}

impl EvidenceSource for Streaming<'_> {
    common_methods!();

    fn inventory(&self, d: &str) -> Lookup<InventoryFacts> {
        let c = self.0;
        let mut datasets = 0;
        let mut with_owner = 0;
        let mut st = c
            .prepare("SELECT dept, owner FROM datasets")
            .map_err(err("datasets"))?;
        let mut rows = st.query([]).map_err(err("datasets"))?;
        while let Some(r) = rows.next().map_err(err("datasets"))? {
            if r.get_ref(0).map_err(err("datasets"))?.as_str().ok() == Some(d) {
                datasets += 1;
                with_owner += u64::from(
                    r.get::<_, Option<String>>(1)
                        .map_err(err("datasets"))?
                        .is_some(),
                );
            }
        }
        let (mut columns, mut graded) = (0u64, 0u64);
        let mut by_level: BTreeMap<i64, u64> = BTreeMap::new();
        let mut ungraded = Vec::new();
        let mut st = c
            .prepare("SELECT dept, dataset, name, level_rank FROM columns")
            .map_err(err("columns"))?;
        let mut rows = st.query([]).map_err(err("columns"))?;
        while let Some(r) = rows.next().map_err(err("columns"))? {
            if r.get_ref(0).map_err(err("columns"))?.as_str().ok() != Some(d) {
                continue;
            }
            columns += 1;
            match r.get::<_, Option<i64>>(3).map_err(err("columns"))? {
                Some(l) => {
                    graded += 1;
                    *by_level.entry(l).or_default() += 1;
                }
                None if ungraded.len() < 20 => {
                    let name = format!(
                        "{}.{}",
                        r.get::<_, String>(1).map_err(err("columns"))?,
                        r.get::<_, String>(2).map_err(err("columns"))?
                    );
                    ungraded.push(RecordRef::new("column", name, "未分级"));
                }
                None => {}
            }
        }
        Ok(Some(InventoryFacts {
            datasets,
            datasets_with_owner: with_owner,
            datasets_without_owner: Vec::new(),
            columns,
            columns_graded: graded,
            ungraded_columns: ungraded,
            columns_by_level: by_level
                .into_iter()
                .map(|(l, n)| (LEVELS[l as usize].to_string(), n))
                .collect(),
            last_consistency_check: Some(day(2026, 12, 20)),
        }))
    }

    fn important_data(&self, d: &str) -> Lookup<ImportantDataFacts> {
        let mut st = self
            .0
            .prepare("SELECT dept, level_rank, catalogued FROM datasets")
            .map_err(err("important"))?;
        let mut rows = st.query([]).map_err(err("important"))?;
        let (mut n, mut cat) = (0, 0);
        while let Some(r) = rows.next().map_err(err("important"))? {
            let rank: Option<i64> = r.get(1).map_err(err("important"))?;
            if r.get::<_, String>(0).map_err(err("important"))? == d && rank.is_some_and(|x| x >= 4)
            {
                n += 1;
                cat += r.get::<_, u64>(2).map_err(err("important"))?;
            }
        }
        Ok(Some(ImportantDataFacts {
            datasets_at_catalogue_levels: n,
            catalogued: cat,
            uncatalogued: Vec::new(),
        }))
    }

    fn encryption_at_rest(&self, d: &str, scope: &ColumnScope) -> Lookup<EncryptionFacts> {
        let rank = level_rank(scope);
        let mut st = self
            .0
            .prepare("SELECT dept, level_rank, data_type, encrypted FROM columns")
            .map_err(err("encryption"))?;
        let mut rows = st.query([]).map_err(err("encryption"))?;
        let (mut n, mut enc) = (0, 0);
        while let Some(r) = rows.next().map_err(err("encryption"))? {
            if r.get::<_, String>(0).map_err(err("encryption"))? != d {
                continue;
            }
            let in_scope = match (scope, rank) {
                (_, Some(min)) => r
                    .get::<_, Option<i64>>(1)
                    .map_err(err("encryption"))?
                    .is_some_and(|l| l >= min),
                (ColumnScope::DataTypes(types), None) => {
                    let t: Option<String> = r.get(2).map_err(err("encryption"))?;
                    t.is_some_and(|t| types.contains(&t))
                }
                _ => false,
            };
            if in_scope {
                n += 1;
                enc += r.get::<_, u64>(3).map_err(err("encryption"))?;
            }
        }
        Ok(Some(EncryptionFacts {
            columns_in_scope: n,
            encrypted: enc,
            unencrypted: Vec::new(),
        }))
    }

    fn ledger(&self, d: &str, p: &Period) -> Lookup<LedgerFacts> {
        let mut st = self
            .0
            .prepare("SELECT dept, day FROM ledger")
            .map_err(err("ledger"))?;
        let mut rows = st.query([]).map_err(err("ledger"))?;
        let (mut n, mut oldest) = (0u64, None::<i64>);
        while let Some(r) = rows.next().map_err(err("ledger"))? {
            if r.get_ref(0).map_err(err("ledger"))?.as_str().ok() != Some(d) {
                continue;
            }
            let day: i64 = r.get(1).map_err(err("ledger"))?;
            n += u64::from(p.contains(day));
            oldest = Some(oldest.map_or(day, |o| o.min(day)));
        }
        Ok(Some(LedgerFacts {
            records_in_period: n,
            oldest_retained: oldest,
            complete_from_genesis: false,
            last_verification: None,
        }))
    }

    fn operations(&self, d: &str, p: &Period, kind: OperationKind) -> Lookup<OperationFacts> {
        let mut st = self
            .0
            .prepare("SELECT dept, day, kind, recorded FROM ops")
            .map_err(err("operations"))?;
        let mut rows = st.query([]).map_err(err("operations"))?;
        let (mut run, mut rec) = (0, 0);
        while let Some(r) = rows.next().map_err(err("operations"))? {
            if r.get::<_, String>(0).map_err(err("operations"))? == d
                && r.get::<_, String>(2).map_err(err("operations"))? == kind.id()
                && p.contains(r.get(1).map_err(err("operations"))?)
            {
                run += 1;
                rec += r.get::<_, u64>(3).map_err(err("operations"))?;
            }
        }
        Ok(Some(OperationFacts {
            run,
            recorded: rec,
            unrecorded: Vec::new(),
        }))
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let profile_id = args.next().unwrap_or_else(|| "jc".into());
    let ledger_rows: u64 = args
        .next()
        .map(|a| a.parse().expect("ledger rows"))
        .unwrap_or(1_000_000);
    let columns: u64 = args
        .next()
        .map(|a| a.parse().expect("columns"))
        .unwrap_or(10_000);
    let profile = Profile::builtin(&profile_id).expect("a built-in profile id");
    let dir = std::env::temp_dir().join(format!("shuan-comply-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("evidence.db");
    let conn = Connection::open(&path).unwrap();
    let t = Instant::now();
    build(&conn, ledger_rows, columns).unwrap();
    eprintln!(
        "built {} ledger rows (+10% another department's), {} columns in {:.1?}",
        ledger_rows,
        columns,
        t.elapsed()
    );
    let period = Period::year(2026);
    let agg = Aggregate(&conn);
    let stream = Streaming(&conn);
    let a = evaluate(&profile, &agg, DEPT, &period).unwrap();
    let s = evaluate(&profile, &stream, DEPT, &period).unwrap();
    let statuses = |e: &shuan_comply::Evaluation| {
        e.results
            .iter()
            .map(|r| (r.control_id.clone(), r.status, r.facts.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&a), statuses(&s), "the two sources must agree");
    let time = |src: &dyn EvidenceSource| {
        median(
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    let e = evaluate(&profile, src, DEPT, &period).unwrap();
                    std::hint::black_box(e);
                    t.elapsed()
                })
                .collect(),
        )
    };
    let ta = time(&agg);
    let ts = time(&stream);
    let summary: Vec<String> = a
        .summary()
        .iter()
        .map(|(s, n)| format!("{} {n}", s.label()))
        .collect();
    println!(
        "profile {} ({} controls evaluated: {}), {} ledger records, {} columns",
        profile.id,
        a.results.len(),
        summary.join(", "),
        ledger_rows,
        columns
    );
    println!(
        "aggregate source (indexed COUNT/SUM/MIN): {:.1} ms (median of 5; target < 2000 ms)",
        ta.as_secs_f64() * 1e3
    );
    println!(
        "row-streaming source (peer, same SQLite file): {:.1} ms",
        ts.as_secs_f64() * 1e3
    );
    println!(
        "ratio streaming / aggregate: {:.1}x",
        ts.as_secs_f64() / ta.as_secs_f64()
    );
    drop(conn);
    std::fs::remove_dir_all(&dir).unwrap();
}
