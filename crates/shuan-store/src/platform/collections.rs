//! The collection register (数据采集登记, R-04): per collection its purpose, use, legal
//! basis, channel, process, content (the fields collected, each optionally linked to an
//! inventory column and typed), format, frequency and the person responsible, with its
//! periodic compliance reviews (合规性复核). A review that stops a collection marks it
//! stopped. [`CollectionStore`] is a supertrait of [`super::PlatformStore`]; both backends
//! run the one implementation in this file.

use serde::{Deserialize, Serialize};

use super::sharing::{bad, Cols, Exec};
use super::{PlatformStoreError, UnixTime};

/// The outcomes of a review.
pub const REVIEW_OUTCOMES: &[(&str, &str)] = &[
    ("continue", "继续采集"),
    ("modify", "整改后继续"),
    ("stop", "停止采集"),
];

/// One field a collection gathers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectedField {
    /// Its name on the form or interface (姓名、身份证号 …).
    pub name: String,
    /// Its data type id (`cn_resident_id` …), when known.
    pub data_type: Option<String>,
    /// Where it is stored: a registered source, table and column, when linked.
    pub source: Option<String>,
    /// The table.
    pub table: Option<String>,
    /// The column.
    pub column: Option<String>,
}

/// One collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// Id (assigned by the store).
    pub id: i64,
    /// 采集事项名称.
    pub name: String,
    /// The collecting department.
    pub department: String,
    /// Why it is collected (采集目的).
    pub purpose: String,
    /// What it is used for (用途).
    pub use_for: String,
    /// The law, regulation or duty that allows it (采集依据).
    pub legal_basis: String,
    /// How it is gathered (采集渠道: 窗口受理、网上办事、接口 …).
    pub channel: String,
    /// The process (采集流程).
    pub process: String,
    /// The format (数据格式).
    pub format: String,
    /// How often (采集频率).
    pub frequency: String,
    /// The person responsible (an account).
    pub owner: String,
    /// The fields gathered (采集内容).
    pub fields: Vec<CollectedField>,
    /// Days between compliance reviews.
    pub review_interval_days: i64,
    /// When the next review is due.
    pub next_review_at: UnixTime,
    /// Stopped by a review.
    pub stopped: bool,
    /// Who registered it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
}

/// One compliance review of a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionReview {
    /// Id (assigned by the store).
    pub id: i64,
    /// The collection.
    pub collection_id: i64,
    /// When.
    pub reviewed_at: UnixTime,
    /// Who reviewed it.
    pub reviewer: String,
    /// One of [`REVIEW_OUTCOMES`].
    pub outcome: String,
    /// What was found and decided.
    pub note: String,
}

/// The collection register; a supertrait of [`super::PlatformStore`].
pub trait CollectionStore {
    /// Registers a collection with its fields; answers its id (`NotFound` for an unknown
    /// department or owner, nothing written).
    fn create_collection(&self, c: &Collection) -> Result<i64, PlatformStoreError>;
    /// Collections, by department and id, with their fields.
    fn collections(&self) -> Result<Vec<Collection>, PlatformStoreError>;
    /// Records a review: sets the next review `interval` days after it, and stops the
    /// collection when the outcome is `stop`. Answers the review's id (`NotFound` for an
    /// unknown collection; `Conflict` when it is already stopped).
    fn review_collection(&self, r: &CollectionReview) -> Result<i64, PlatformStoreError>;
    /// Reviews, newest first.
    fn collection_reviews(&self) -> Result<Vec<CollectionReview>, PlatformStoreError>;
}

/// Implements [`CollectionStore`] for a backend (see `delegate_to_ops`).
macro_rules! collection_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::CollectionStore, $backend, $exec, collections {
            write "register collection" fn create_collection(c: &$crate::platform::Collection) -> i64;
            read "list collections" fn collections() -> Vec<$crate::platform::Collection>;
            write "review collection" fn review_collection(r: &$crate::platform::CollectionReview) -> i64;
            read "list collection reviews" fn collection_reviews() -> Vec<$crate::platform::CollectionReview>;
        });
    };
}
pub(crate) use collection_store_for;

/// The one implementation of [`CollectionStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::super::risk::ops::{position_by_id, require_department, require_user};
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    pub(crate) fn create_collection<E: Exec>(x: &mut E, c: &Collection) -> R<i64, E> {
        require_department(x, &c.department)?;
        require_user(x, &c.owner)?;
        let rows = x.rows(
            "INSERT INTO collections (name, department, purpose, use_for, legal_basis, channel, \
             process, format, frequency, owner, review_interval_days, next_review_at, stopped, \
             created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             RETURNING id",
            &[
                (&c.name).into(),
                (&c.department).into(),
                (&c.purpose).into(),
                (&c.use_for).into(),
                (&c.legal_basis).into(),
                (&c.channel).into(),
                (&c.process).into(),
                (&c.format).into(),
                (&c.frequency).into(),
                (&c.owner).into(),
                c.review_interval_days.into(),
                c.next_review_at.into(),
                false.into(),
                (&c.created_by).into(),
                c.created_at.into(),
            ],
        )?;
        let id = Cols(
            rows.first()
                .ok_or_else(|| bad("register collection", "no id returned"))?,
        )
        .int(0)?;
        for (n, f) in c.fields.iter().enumerate() {
            x.exec(
                "INSERT INTO collection_fields (collection_id, position, name, data_type, \
                 source, table_name, column_name) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    id.into(),
                    (n as i64).into(),
                    (&f.name).into(),
                    (&f.data_type).into(),
                    (&f.source).into(),
                    (&f.table).into(),
                    (&f.column).into(),
                ],
            )?;
        }
        Ok(id)
    }

    pub(crate) fn collections<E: Exec>(x: &mut E) -> R<Vec<Collection>, E> {
        let rows = x.rows(
            "SELECT id, name, department, purpose, use_for, legal_basis, channel, process, \
             format, frequency, owner, review_interval_days, next_review_at, stopped, \
             created_by, created_at FROM collections ORDER BY department, id",
            &[],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let c = Cols(r);
            out.push(Collection {
                id: c.int(0)?,
                name: c.text(1)?,
                department: c.text(2)?,
                purpose: c.text(3)?,
                use_for: c.text(4)?,
                legal_basis: c.text(5)?,
                channel: c.text(6)?,
                process: c.text(7)?,
                format: c.text(8)?,
                frequency: c.text(9)?,
                owner: c.text(10)?,
                fields: Vec::new(),
                review_interval_days: c.int(11)?,
                next_review_at: c.int(12)?,
                stopped: c.boolean(13)?,
                created_by: c.text(14)?,
                created_at: c.int(15)?,
            });
        }
        let fields = x.rows(
            "SELECT collection_id, name, data_type, source, table_name, column_name \
             FROM collection_fields ORDER BY collection_id, position",
            &[],
        )?;
        let at = position_by_id(out.iter().map(|c| c.id));
        for r in &fields {
            let c = Cols(r);
            let id = c.int(0)?;
            if let Some(col) = at.get(&id).map(|&n| &mut out[n]) {
                col.fields.push(CollectedField {
                    name: c.text(1)?,
                    data_type: c.opt_text(2)?,
                    source: c.opt_text(3)?,
                    table: c.opt_text(4)?,
                    column: c.opt_text(5)?,
                });
            }
        }
        Ok(out)
    }

    pub(crate) fn review_collection<E: Exec>(x: &mut E, r: &CollectionReview) -> R<i64, E> {
        let found = x.rows(
            &format!(
                "SELECT review_interval_days, stopped FROM collections WHERE id = $1{}",
                E::FOR_UPDATE
            ),
            &[r.collection_id.into()],
        )?;
        let Some(row) = found.first() else {
            return Err(PlatformStoreError::NotFound {
                kind: "collection",
                id: r.collection_id.to_string(),
            }
            .into());
        };
        let c = Cols(row);
        let interval = c.int(0)?;
        if c.boolean(1)? {
            return Err(PlatformStoreError::Conflict(format!(
                "采集事项 {} 已停止，不再复核 (collection {} is stopped)",
                r.collection_id, r.collection_id
            ))
            .into());
        }
        let rows = x.rows(
            "INSERT INTO collection_reviews (collection_id, reviewed_at, reviewer, outcome, note) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[
                r.collection_id.into(),
                r.reviewed_at.into(),
                (&r.reviewer).into(),
                (&r.outcome).into(),
                (&r.note).into(),
            ],
        )?;
        let id = Cols(
            rows.first()
                .ok_or_else(|| bad("review collection", "no id returned"))?,
        )
        .int(0)?;
        x.exec(
            "UPDATE collections SET next_review_at = $1, stopped = $2 WHERE id = $3",
            &[
                (r.reviewed_at + interval * 86_400).into(),
                (r.outcome == "stop").into(),
                r.collection_id.into(),
            ],
        )?;
        Ok(id)
    }

    pub(crate) fn collection_reviews<E: Exec>(x: &mut E) -> R<Vec<CollectionReview>, E> {
        let rows = x.rows(
            "SELECT id, collection_id, reviewed_at, reviewer, outcome, note \
             FROM collection_reviews ORDER BY reviewed_at DESC, id DESC",
            &[],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let c = Cols(r);
            out.push(CollectionReview {
                id: c.int(0)?,
                collection_id: c.int(1)?,
                reviewed_at: c.int(2)?,
                reviewer: c.text(3)?,
                outcome: c.text(4)?,
                note: c.text(5)?,
            });
        }
        Ok(out)
    }
}
