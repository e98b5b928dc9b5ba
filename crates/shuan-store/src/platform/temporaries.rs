//! Temporary data (临时数据, R-27): files the platform made that must not outlive their
//! purpose — a masking job's output kept for a stated number of days. Each is recorded
//! with the node holding it, its department and when it expires; once expired, the node
//! holding it files a destruction for it (see the server), linked here so it is filed
//! once. Whether it was removed is its destruction's outcome. [`TemporaryStore`] is a
//! supertrait of [`super::PlatformStore`]; both backends run the one implementation here.

use serde::{Deserialize, Serialize};

use super::sharing::{bad, Cols, Exec};
use super::{PlatformStoreError, UnixTime};

/// One temporary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Temporary {
    /// Id (assigned by the store).
    pub id: i64,
    /// The node holding it.
    pub node: String,
    /// Its path on that node.
    pub path: String,
    /// Whose data it is.
    pub department: String,
    /// What made it (`job`).
    pub origin_kind: String,
    /// The job's id.
    pub origin_id: i64,
    /// When it was made.
    pub created_at: UnixTime,
    /// When it must be destroyed.
    pub expires_at: UnixTime,
    /// The destruction filed for it, once filed.
    pub destruction_id: Option<i64>,
}

/// The temporaries; a supertrait of [`super::PlatformStore`].
pub trait TemporaryStore {
    /// Records a temporary; answers its id.
    fn record_temporary(&self, t: &Temporary) -> Result<i64, PlatformStoreError>;
    /// Every temporary, by expiry.
    fn temporaries(&self) -> Result<Vec<Temporary>, PlatformStoreError>;
    /// Links the destruction filed for a temporary, if none is linked yet or the linked
    /// one failed (a failed destruction is filed again); answers whether this call
    /// linked it.
    fn link_temporary_destruction(
        &self,
        id: i64,
        destruction_id: i64,
    ) -> Result<bool, PlatformStoreError>;
}

/// Implements [`TemporaryStore`] for a backend (see `delegate_to_ops`).
macro_rules! temporary_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::TemporaryStore, $backend, $exec, temporaries {
            write "record temporary" fn record_temporary(t: &$crate::platform::Temporary) -> i64;
            read "list temporaries" fn temporaries() -> Vec<$crate::platform::Temporary>;
            write "link temporary destruction" fn link_temporary_destruction(id: i64, destruction_id: i64) -> bool;
        });
    };
}
pub(crate) use temporary_store_for;

/// The one implementation of [`TemporaryStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    pub(crate) fn record_temporary<E: Exec>(x: &mut E, t: &Temporary) -> R<i64, E> {
        let rows = x.rows(
            "INSERT INTO temporaries (node, path, department, origin_kind, origin_id, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                (&t.node).into(),
                (&t.path).into(),
                (&t.department).into(),
                (&t.origin_kind).into(),
                t.origin_id.into(),
                t.created_at.into(),
                t.expires_at.into(),
            ],
        )?;
        Ok(Cols(
            rows.first()
                .ok_or_else(|| bad("record temporary", "no id returned"))?,
        )
        .int(0)?)
    }

    pub(crate) fn temporaries<E: Exec>(x: &mut E) -> R<Vec<Temporary>, E> {
        let rows = x.rows(
            "SELECT id, node, path, department, origin_kind, origin_id, created_at, \
             expires_at, destruction_id FROM temporaries ORDER BY expires_at, id",
            &[],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let c = Cols(r);
            out.push(Temporary {
                id: c.int(0)?,
                node: c.text(1)?,
                path: c.text(2)?,
                department: c.text(3)?,
                origin_kind: c.text(4)?,
                origin_id: c.int(5)?,
                created_at: c.int(6)?,
                expires_at: c.int(7)?,
                destruction_id: c.opt_int(8)?,
            });
        }
        Ok(out)
    }

    pub(crate) fn link_temporary_destruction<E: Exec>(
        x: &mut E,
        id: i64,
        destruction_id: i64,
    ) -> R<bool, E> {
        let changed = x.exec(
            "UPDATE temporaries SET destruction_id = $1 WHERE id = $2 AND (destruction_id IS NULL \
             OR destruction_id IN (SELECT id FROM destructions WHERE status = 'failed'))",
            &[destruction_id.into(), id.into()],
        )?;
        Ok(changed == 1)
    }
}
