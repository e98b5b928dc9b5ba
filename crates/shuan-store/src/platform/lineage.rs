//! Lineage (溯源, R-06): each derivation of a dataset — an operation with its
//! parameters, its input datasets and its output — as the platform recorded it (masking
//! jobs, backups) or as a data steward registered it by hand (an external derivation). A
//! dataset is named by the text that names it where it lives: a masking input as
//! `SOURCE/TABLE`, an output or archive by its path, a node's data directory as
//! `node-data:DIR`; walking the records backwards from a name reaches its original
//! sources, forwards its consumers. [`LineageStore`] is a
//! supertrait of [`super::PlatformStore`]; both backends run the one implementation here.

use serde::{Deserialize, Serialize};

use super::sharing::{bad, Cols, Exec, Val};
use super::{PlatformStoreError, UnixTime};

/// The most derivations answered around one dataset (one more is read to tell that
/// there are more).
pub const NEIGHBOURS: usize = 100;

/// One derivation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derivation {
    /// Id (assigned by the store).
    pub id: i64,
    /// What was done (`mask`, `backup`, or what a steward wrote for an external one).
    pub operation: String,
    /// The datasets read, in order (at least one).
    pub inputs: Vec<String>,
    /// The dataset produced.
    pub output: String,
    /// The department whose data it is, when known.
    pub department: Option<String>,
    /// The operation's parameters (JSON object; never secrets).
    pub parameters: serde_json::Value,
    /// Recorded by the platform itself (`false`: registered by hand).
    pub automatic: bool,
    /// Who ran or registered it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: UnixTime,
}

/// The lineage records; a supertrait of [`super::PlatformStore`].
pub trait LineageStore {
    /// Records a derivation; answers its id.
    fn record_derivation(&self, d: &Derivation) -> Result<i64, PlatformStoreError>;
    /// The derivations that produced `dataset`, newest first: at most
    /// [`NEIGHBOURS`]` + 1`, so a caller can tell that there are more.
    fn derivations_producing(&self, dataset: &str) -> Result<Vec<Derivation>, PlatformStoreError>;
    /// The derivations that read `dataset`, newest first, as many as
    /// [`Self::derivations_producing`] answers.
    fn derivations_reading(&self, dataset: &str) -> Result<Vec<Derivation>, PlatformStoreError>;
    /// How many derivations a data steward registered by hand for `department`.
    fn count_registered_derivations(&self, department: &str) -> Result<i64, PlatformStoreError>;
    /// The latest `limit` derivations, newest first.
    fn recent_derivations(&self, limit: usize) -> Result<Vec<Derivation>, PlatformStoreError>;
}

/// Implements [`LineageStore`] for a backend (see `delegate_to_ops`).
macro_rules! lineage_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::LineageStore, $backend, $exec, lineage {
            write "record derivation" fn record_derivation(d: &$crate::platform::Derivation) -> i64;
            read "read derivations producing a dataset" fn derivations_producing(dataset: &str) -> Vec<$crate::platform::Derivation>;
            read "read derivations reading a dataset" fn derivations_reading(dataset: &str) -> Vec<$crate::platform::Derivation>;
            read "list derivations" fn recent_derivations(limit: usize) -> Vec<$crate::platform::Derivation>;
            read "count registered derivations" fn count_registered_derivations(department: &str) -> i64;
        });
    };
}
pub(crate) use lineage_store_for;

/// The one implementation of [`LineageStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    const COLUMNS: &str = "d.id, d.operation, d.output, d.department, d.parameters, \
         d.automatic, d.recorded_by, d.recorded_at";

    pub(crate) fn record_derivation<E: Exec>(x: &mut E, d: &Derivation) -> R<i64, E> {
        if d.inputs.is_empty() {
            return Err(bad(
                "record derivation",
                "a derivation reads at least one dataset",
            )
            .into());
        }
        let parameters = serde_json::to_string(&d.parameters)
            .map_err(|e| bad("record derivation", e.to_string()))?;
        let rows = x.rows(
            "INSERT INTO derivations (operation, output, department, parameters, automatic, \
             recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                (&d.operation).into(),
                (&d.output).into(),
                (&d.department).into(),
                parameters.into(),
                d.automatic.into(),
                (&d.recorded_by).into(),
                d.recorded_at.into(),
            ],
        )?;
        let id = Cols(
            rows.first()
                .ok_or_else(|| bad("record derivation", "no id returned"))?,
        )
        .int(0)?;
        for (n, input) in d.inputs.iter().enumerate() {
            x.exec(
                "INSERT INTO derivation_inputs (derivation_id, position, dataset) \
                 VALUES ($1, $2, $3)",
                &[id.into(), (n as i64).into(), input.into()],
            )?;
        }
        Ok(id)
    }

    /// Decodes derivation rows and attaches their inputs (one query for all of them).
    fn with_inputs<E: Exec>(x: &mut E, rows: &[Vec<Val>]) -> R<Vec<Derivation>, E> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let c = Cols(r);
            out.push(Derivation {
                id: c.int(0)?,
                operation: c.text(1)?,
                inputs: Vec::new(),
                output: c.text(2)?,
                department: c.opt_text(3)?,
                parameters: c.json(4)?,
                automatic: c.boolean(5)?,
                recorded_by: c.text(6)?,
                recorded_at: c.int(7)?,
            });
        }
        if out.is_empty() {
            return Ok(out);
        }
        let ids: Vec<String> = out.iter().map(|d| d.id.to_string()).collect();
        // The ids are integers the store assigned, not caller text.
        let inputs = x.rows(
            &format!(
                "SELECT derivation_id, dataset FROM derivation_inputs \
                 WHERE derivation_id IN ({}) ORDER BY derivation_id, position",
                ids.join(", ")
            ),
            &[],
        )?;
        let at = super::super::risk::ops::position_by_id(out.iter().map(|d| d.id));
        for r in &inputs {
            let c = Cols(r);
            let id = c.int(0)?;
            if let Some(&n) = at.get(&id) {
                out[n].inputs.push(c.text(1)?);
            }
        }
        Ok(out)
    }

    pub(crate) fn derivations_producing<E: Exec>(
        x: &mut E,
        dataset: &str,
    ) -> R<Vec<Derivation>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {COLUMNS} FROM derivations d WHERE d.output = $1 \
                 ORDER BY d.recorded_at DESC, d.id DESC LIMIT 101"
            ),
            &[dataset.into()],
        )?;
        with_inputs(x, &rows)
    }

    pub(crate) fn derivations_reading<E: Exec>(x: &mut E, dataset: &str) -> R<Vec<Derivation>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {COLUMNS} FROM derivations d WHERE d.id IN \
                 (SELECT derivation_id FROM derivation_inputs WHERE dataset = $1) \
                 ORDER BY d.recorded_at DESC, d.id DESC LIMIT 101"
            ),
            &[dataset.into()],
        )?;
        with_inputs(x, &rows)
    }

    pub(crate) fn count_registered_derivations<E: Exec>(x: &mut E, department: &str) -> R<i64, E> {
        let rows = x.rows(
            "SELECT COUNT(*) FROM derivations WHERE department = $1 AND automatic = $2",
            &[department.into(), false.into()],
        )?;
        Cols(
            rows.first()
                .ok_or_else(|| bad("count registered derivations", "no count returned"))?,
        )
        .int(0)
        .map_err(Into::into)
    }

    pub(crate) fn recent_derivations<E: Exec>(x: &mut E, limit: usize) -> R<Vec<Derivation>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {COLUMNS} FROM derivations d ORDER BY d.recorded_at DESC, d.id DESC \
                 LIMIT $1"
            ),
            &[(limit.min(i64::MAX as usize) as i64).into()],
        )?;
        with_inputs(x, &rows)
    }
}
