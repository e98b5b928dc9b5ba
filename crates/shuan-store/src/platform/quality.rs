//! Data-quality rule sets and their runs (数据质量, R-07).
//!
//! A rule set names a registered source's table (by the catalogue's locator), the rules
//! (JSON, as `shuan_govern::quality` reads them) and, optionally, an interval in hours.
//! A scheduled rule set carries `next_run_at`; a node runs it only after moving that time
//! on with a compare-and-set ([`QualityStore::claim_quality_run`]), so on several nodes
//! sharing one store each due time is run once, and a due time missed while every node
//! was down is run once when one comes back (not once per missed interval). A run is
//! stored when it ends, with its counts and the report of masked samples.
//! [`QualityStore`] is a supertrait of [`super::PlatformStore`]; both backends run the one
//! implementation in this file.

use serde::{Deserialize, Serialize};

use super::sharing::{bad, to_json, Cols, Exec, Val};
use super::{PlatformStoreError, UnixTime};

/// One rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityRuleSet {
    /// Id (assigned by the store).
    pub id: i64,
    /// Name, unique.
    pub name: String,
    /// The registered source.
    pub source_id: i64,
    /// The catalogue's locator of the table.
    pub table_locator: String,
    /// The source's department (for the policy).
    pub department: String,
    /// The column samples are keyed by.
    pub key_column: Option<String>,
    /// The rules (JSON array).
    pub rules: serde_json::Value,
    /// Run every this many hours; `None`: on demand only.
    pub interval_hours: Option<i64>,
    /// When the next scheduled run is due.
    pub next_run_at: Option<UnixTime>,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityRunStatus {
    /// No rule found anything (通过).
    Passed,
    /// Some rule found offending rows (发现问题).
    Violations,
    /// The run could not complete (执行失败): the source could not be read.
    Failed,
}

impl QualityRunStatus {
    /// Every status.
    pub const ALL: [QualityRunStatus; 3] = [
        QualityRunStatus::Passed,
        QualityRunStatus::Violations,
        QualityRunStatus::Failed,
    ];

    /// Stable id.
    pub fn as_str(self) -> &'static str {
        match self {
            QualityRunStatus::Passed => "passed",
            QualityRunStatus::Violations => "violations",
            QualityRunStatus::Failed => "failed",
        }
    }

    /// From the stable id.
    pub fn parse(s: &str) -> Option<QualityRunStatus> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            QualityRunStatus::Passed => "通过",
            QualityRunStatus::Violations => "发现问题",
            QualityRunStatus::Failed => "执行失败",
        }
    }
}

/// One run of a rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityRun {
    /// Id (assigned by the store).
    pub id: i64,
    /// The rule set.
    pub rule_set_id: i64,
    /// When it started.
    pub started_at: UnixTime,
    /// When it ended.
    pub finished_at: UnixTime,
    /// How it ended.
    pub status: QualityRunStatus,
    /// Rows read.
    pub rows_checked: i64,
    /// Offending rows over all rules.
    pub violations: i64,
    /// Per rule: counts and masked samples (JSON).
    pub report: Option<serde_json::Value>,
    /// Why a failed run failed.
    pub error: Option<String>,
    /// The account that ran it, or `scheduler`.
    pub run_by: String,
    /// The alert its violations raised.
    pub alert_id: Option<i64>,
}

/// The quality records; a supertrait of [`super::PlatformStore`].
pub trait QualityStore {
    /// Saves a rule set (its `id` is not read); answers its id (`Exists` for a taken name,
    /// `NotFound` for an unknown source).
    fn create_quality_rule_set(&self, r: &QualityRuleSet) -> Result<i64, PlatformStoreError>;
    /// One rule set.
    fn quality_rule_set(&self, id: i64) -> Result<Option<QualityRuleSet>, PlatformStoreError>;
    /// Rule sets by name.
    fn quality_rule_sets(&self) -> Result<Vec<QualityRuleSet>, PlatformStoreError>;
    /// Scheduled rule sets whose next run is due at `now`, earliest first.
    fn due_quality_rule_sets(
        &self,
        now: UnixTime,
    ) -> Result<Vec<QualityRuleSet>, PlatformStoreError>;
    /// Moves a rule set's `next_run_at` from `due` to `next` if it still is `due`: true
    /// when this caller won the run.
    fn claim_quality_run(
        &self,
        id: i64,
        due: UnixTime,
        next: UnixTime,
    ) -> Result<bool, PlatformStoreError>;
    /// Stores a finished run (its `id` is not read); answers its id.
    fn record_quality_run(&self, r: &QualityRun) -> Result<i64, PlatformStoreError>;
    /// One run.
    fn quality_run(&self, id: i64) -> Result<Option<QualityRun>, PlatformStoreError>;
    /// Runs, newest first, of one rule set or of all; at most `limit`.
    fn quality_runs(
        &self,
        rule_set_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<QualityRun>, PlatformStoreError>;
}

/// Implements [`QualityStore`] for a backend (see `delegate_to_ops`).
macro_rules! quality_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::QualityStore, $backend, $exec, quality {
            write "save quality rule set" fn create_quality_rule_set(r: &$crate::platform::QualityRuleSet) -> i64;
            read "read quality rule set" fn quality_rule_set(id: i64) -> Option<$crate::platform::QualityRuleSet>;
            read "list quality rule sets" fn quality_rule_sets() -> Vec<$crate::platform::QualityRuleSet>;
            read "list due quality rule sets" fn due_quality_rule_sets(now: $crate::platform::UnixTime) -> Vec<$crate::platform::QualityRuleSet>;
            write "claim quality run" fn claim_quality_run(id: i64, due: $crate::platform::UnixTime, next: $crate::platform::UnixTime) -> bool;
            write "record quality run" fn record_quality_run(r: &$crate::platform::QualityRun) -> i64;
            read "read quality run" fn quality_run(id: i64) -> Option<$crate::platform::QualityRun>;
            read "list quality runs" fn quality_runs(rule_set_id: Option<i64>, limit: i64) -> Vec<$crate::platform::QualityRun>;
        });
    };
}
pub(crate) use quality_store_for;

/// The one implementation of [`QualityStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    const SET_COLUMNS: &str = "id, name, source_id, table_locator, department, key_column, \
         rules, interval_hours, next_run_at, created_by, created_at";
    const RUN_COLUMNS: &str = "id, rule_set_id, started_at, finished_at, status, rows_checked, \
         violations, report, error, run_by, alert_id";

    fn set_from(r: &[Val]) -> Result<QualityRuleSet, PlatformStoreError> {
        let c = Cols(r);
        Ok(QualityRuleSet {
            id: c.int(0)?,
            name: c.text(1)?,
            source_id: c.int(2)?,
            table_locator: c.text(3)?,
            department: c.text(4)?,
            key_column: c.opt_text(5)?,
            rules: c.json(6)?,
            interval_hours: c.opt_int(7)?,
            next_run_at: c.opt_int(8)?,
            created_by: c.text(9)?,
            created_at: c.int(10)?,
        })
    }

    fn run_from(r: &[Val]) -> Result<QualityRun, PlatformStoreError> {
        let c = Cols(r);
        let status = c.text(4)?;
        Ok(QualityRun {
            id: c.int(0)?,
            rule_set_id: c.int(1)?,
            started_at: c.int(2)?,
            finished_at: c.int(3)?,
            status: QualityRunStatus::parse(&status)
                .ok_or_else(|| bad("decode quality run", format!("unknown status {status:?}")))?,
            rows_checked: c.int(5)?,
            violations: c.int(6)?,
            report: match c.opt_text(7)? {
                None => None,
                Some(t) => Some(
                    serde_json::from_str(&t)
                        .map_err(|e| bad("decode quality run", e.to_string()))?,
                ),
            },
            error: c.opt_text(8)?,
            run_by: c.text(9)?,
            alert_id: c.opt_int(10)?,
        })
    }

    pub(crate) fn create_quality_rule_set<E: Exec>(x: &mut E, r: &QualityRuleSet) -> R<i64, E> {
        let known = x.rows(
            "SELECT id FROM share_sources WHERE id = $1",
            &[r.source_id.into()],
        )?;
        if known.is_empty() {
            return Err(PlatformStoreError::NotFound {
                kind: "source",
                id: r.source_id.to_string(),
            }
            .into());
        }
        let inserted = x.rows(
            "INSERT INTO quality_rule_sets (name, source_id, table_locator, department, \
             key_column, rules, interval_hours, next_run_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            &[
                (&r.name).into(),
                r.source_id.into(),
                (&r.table_locator).into(),
                (&r.department).into(),
                (&r.key_column).into(),
                to_json(&r.rules)?,
                r.interval_hours.into(),
                r.next_run_at.into(),
                (&r.created_by).into(),
                r.created_at.into(),
            ],
        );
        match inserted {
            Ok(rows) => {
                let row = rows
                    .first()
                    .ok_or_else(|| bad("save quality rule set", "no id returned"))?;
                Ok(Cols(row).int(0)?)
            }
            Err(e) if E::is_unique_violation(&e) => Err(PlatformStoreError::Exists {
                kind: "quality rule set",
                id: r.name.clone(),
            }
            .into()),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn quality_rule_set<E: Exec>(x: &mut E, id: i64) -> R<Option<QualityRuleSet>, E> {
        let rows = x.rows(
            &format!("SELECT {SET_COLUMNS} FROM quality_rule_sets WHERE id = $1"),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| set_from(r)).transpose()?)
    }

    pub(crate) fn quality_rule_sets<E: Exec>(x: &mut E) -> R<Vec<QualityRuleSet>, E> {
        let rows = x.rows(
            &format!("SELECT {SET_COLUMNS} FROM quality_rule_sets ORDER BY name"),
            &[],
        )?;
        Ok(rows.iter().map(|r| set_from(r)).collect::<Result<_, _>>()?)
    }

    pub(crate) fn due_quality_rule_sets<E: Exec>(
        x: &mut E,
        now: UnixTime,
    ) -> R<Vec<QualityRuleSet>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {SET_COLUMNS} FROM quality_rule_sets WHERE next_run_at IS NOT NULL \
                 AND next_run_at <= $1 ORDER BY next_run_at, id"
            ),
            &[now.into()],
        )?;
        Ok(rows.iter().map(|r| set_from(r)).collect::<Result<_, _>>()?)
    }

    pub(crate) fn claim_quality_run<E: Exec>(
        x: &mut E,
        id: i64,
        due: UnixTime,
        next: UnixTime,
    ) -> R<bool, E> {
        let changed = x.exec(
            "UPDATE quality_rule_sets SET next_run_at = $3 WHERE id = $1 AND next_run_at = $2",
            &[id.into(), due.into(), next.into()],
        )?;
        Ok(changed == 1)
    }

    pub(crate) fn record_quality_run<E: Exec>(x: &mut E, r: &QualityRun) -> R<i64, E> {
        let report = match &r.report {
            None => Val::Null,
            Some(v) => to_json(v)?,
        };
        let rows = x.rows(
            "INSERT INTO quality_runs (rule_set_id, started_at, finished_at, status, \
             rows_checked, violations, report, error, run_by, alert_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            &[
                r.rule_set_id.into(),
                r.started_at.into(),
                r.finished_at.into(),
                r.status.as_str().into(),
                r.rows_checked.into(),
                r.violations.into(),
                report,
                (&r.error).into(),
                (&r.run_by).into(),
                r.alert_id.into(),
            ],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| bad("record quality run", "no id returned"))?;
        Ok(Cols(row).int(0)?)
    }

    pub(crate) fn quality_run<E: Exec>(x: &mut E, id: i64) -> R<Option<QualityRun>, E> {
        let rows = x.rows(
            &format!("SELECT {RUN_COLUMNS} FROM quality_runs WHERE id = $1"),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| run_from(r)).transpose()?)
    }

    pub(crate) fn quality_runs<E: Exec>(
        x: &mut E,
        rule_set_id: Option<i64>,
        limit: i64,
    ) -> R<Vec<QualityRun>, E> {
        let rows = match rule_set_id {
            Some(id) => x.rows(
                &format!(
                    "SELECT {RUN_COLUMNS} FROM quality_runs WHERE rule_set_id = $1 \
                     ORDER BY id DESC LIMIT $2"
                ),
                &[id.into(), limit.into()],
            )?,
            None => x.rows(
                &format!("SELECT {RUN_COLUMNS} FROM quality_runs ORDER BY id DESC LIMIT $1"),
                &[limit.into()],
            )?,
        };
        Ok(rows.iter().map(|r| run_from(r)).collect::<Result<_, _>>()?)
    }
}
