//! Data-sharing records (数据共享, issue 12): registered data sources, the resource
//! catalogue (政务数据资源目录), share requests and each approval step, agreements
//! (共享协议), data services (数据服务) and per-agreement usage counts.
//!
//! [`SharingStore`] is a supertrait of [`super::PlatformStore`], so every platform store
//! has these methods. Both backends run the one implementation in this file ([`ops`]),
//! written against a small executor ([`Exec`]) that each backend provides over its own
//! transaction: the SQL is the same text (PostgreSQL's `$n` placeholders, turned into
//! SQLite's `?n`), values pass as [`Val`], rows come back as `Vec<Val>`. What must hold
//! across nodes is kept inside one transaction: a decision of a request step reads the
//! request under a row lock (`FOR UPDATE` on PostgreSQL; SQLite's writer is single), so of
//! concurrent approvals exactly one decides each step and the final approval creates
//! exactly one agreement; usage is counted by compare-and-set updates.
//!
//! The store keeps what the server hands it. The rules (defaults of the catalogue, which
//! steps a request takes, deadlines, what a call may do) live in `shuan-share`; the store
//! enforces only what must be true of the records: unique names and codes, 共享条件 for
//! 有条件共享 and a legal basis for 不予共享, a refusal with a reason, one decision per
//! step, steps taken in order and by different people, one agreement per request,
//! revocation final, an agreement only ever shortened.

use serde::{Deserialize, Serialize};

use super::{PlatformStoreError, UnixTime};

/// A registered data source. Its connection URL is stored only sealed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareSource {
    /// Id (assigned by the store).
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The providing department (提供方).
    pub department: String,
    /// `postgres`, `mysql`, `sqlite` or `file`.
    pub kind: String,
    /// The URL or path without password.
    pub display: String,
    /// The URL sealed by the server (SM4-GCM under the keyring).
    pub url_sealed: Vec<u8>,
    /// Grading profile of its scan.
    pub profile: String,
    /// Who registered it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
    /// Last scan.
    pub scanned_at: Option<UnixTime>,
}

impl std::fmt::Debug for ShareSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareSource")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("department", &self.department)
            .field("kind", &self.kind)
            .field("display", &self.display)
            .finish_non_exhaustive()
    }
}

/// One field (column) of a catalogue entry, as the scan graded it. No values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueField {
    /// Column name.
    pub name: String,
    /// Type the source declares.
    pub declared_type: Option<String>,
    /// Detected data type id (`cn_resident_id` …).
    pub data_type: Option<String>,
    /// Its Chinese label.
    pub label: Option<String>,
    /// Category id of the taxonomy.
    pub category: Option<String>,
    /// Level name under the profile.
    pub level: String,
    /// Level rank (0 lowest).
    pub level_rank: i64,
    /// Personal information (a `pi_*` category).
    pub personal: bool,
}

/// A resource of the catalogue (政务数据资源目录): one dataset of a registered source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    /// 资源代码 (unique, stable).
    pub code: String,
    /// The source it is read from.
    pub source_id: i64,
    /// The table as the source names it (`schema.table`, `db.table`, a file's stem).
    pub locator: String,
    /// Table name.
    pub name: String,
    /// 资源名称.
    pub title: String,
    /// 提供方 (department code, also its 机构代码).
    pub department: String,
    /// 摘要.
    pub summary: String,
    /// 格式分类 (数据库表, 电子表格 …).
    pub format: String,
    /// Fields with their detected types and levels.
    pub fields: Vec<CatalogueField>,
    /// Grading profile.
    pub profile: String,
    /// 数据分级 (level name).
    pub level: String,
    /// Level rank.
    pub level_rank: i64,
    /// The level belongs in the important-data catalogue (重要数据, 核心数据, 三级 …).
    pub important: bool,
    /// Holds personal information.
    pub personal: bool,
    /// 共享属性: `unconditional`, `conditional` or `none`.
    pub share_type: String,
    /// 共享条件 (required when conditional).
    pub share_conditions: Option<String>,
    /// 不予共享的依据 (required when none).
    pub share_basis: Option<String>,
    /// 开放属性: `unconditional`, `conditional` or `none`.
    pub open_type: String,
    /// 开放条件.
    pub open_conditions: Option<String>,
    /// 共享方式 (接口, 库表 …).
    pub share_method: String,
    /// 更新周期.
    pub update_cycle: String,
    /// Rows, when known.
    pub row_count: Option<i64>,
    /// 发布日期.
    pub published_at: UnixTime,
    /// Last change.
    pub updated_at: UnixTime,
    /// Who changed it last.
    pub updated_by: String,
    /// Bumped by every change (optimistic concurrency).
    pub version: i64,
}

/// State of a share request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareStatus {
    /// Waiting for its next step.
    Pending,
    /// Every step approved; an agreement exists.
    Approved,
    /// A step refused it (with a reason).
    Rejected,
    /// Refused at once: the resource is 不予共享 (the reason is the legal basis).
    Refused,
}

impl ShareStatus {
    /// Stable id.
    pub fn as_str(self) -> &'static str {
        match self {
            ShareStatus::Pending => "pending",
            ShareStatus::Approved => "approved",
            ShareStatus::Rejected => "rejected",
            ShareStatus::Refused => "refused",
        }
    }

    /// From the stable id.
    pub fn parse(text: &str) -> Option<ShareStatus> {
        Some(match text {
            "pending" => ShareStatus::Pending,
            "approved" => ShareStatus::Approved,
            "rejected" => ShareStatus::Rejected,
            "refused" => ShareStatus::Refused,
            _ => return None,
        })
    }
}

/// A share request (共享申请).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRequest {
    /// Id (assigned by the store).
    pub id: i64,
    /// The catalogue entry's code.
    pub resource: String,
    /// Who asks.
    pub requester: String,
    /// The requesting department (the recipient).
    pub department: String,
    /// The providing department.
    pub provider: String,
    /// Fields asked for.
    pub fields: Vec<String>,
    /// Row filter (JSON; `null` for none).
    pub row_filter: serde_json::Value,
    /// 用途.
    pub purpose: String,
    /// 应用场景: the masking scenario.
    pub scenario: String,
    /// 履职依据.
    pub basis: String,
    /// 安全保障措施.
    pub safeguards: Option<String>,
    /// Period asked for, in days.
    pub valid_days: i64,
    /// The steps it takes, in order (`conformity`, `steward`, `cdo`).
    pub steps: Vec<String>,
    /// Index of the next step.
    pub next_step: i64,
    /// State.
    pub status: ShareStatus,
    /// Filed.
    pub created_at: UnixTime,
    /// Answer due (end of the last working day).
    pub deadline: Option<UnixTime>,
    /// Decided.
    pub decided_at: Option<UnixTime>,
    /// A refusal's reason.
    pub reason: Option<String>,
    /// The agreement of an approved request.
    pub agreement_id: Option<i64>,
}

/// One decision of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Id.
    pub id: i64,
    /// The request.
    pub request_id: i64,
    /// The step decided.
    pub step: String,
    /// Who decided (`platform` for the conformity check).
    pub approver: String,
    /// Approved or refused.
    pub approve: bool,
    /// Comment, or a refusal's reason.
    pub comment: Option<String>,
    /// When.
    pub at: UnixTime,
}

/// State of an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementStatus {
    /// In force (within its period).
    Active,
    /// Held: calls refused until resumed.
    Suspended,
    /// Ended for good.
    Revoked,
}

impl AgreementStatus {
    /// Stable id.
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementStatus::Active => "active",
            AgreementStatus::Suspended => "suspended",
            AgreementStatus::Revoked => "revoked",
        }
    }

    /// From the stable id.
    pub fn parse(text: &str) -> Option<AgreementStatus> {
        Some(match text {
            "active" => AgreementStatus::Active,
            "suspended" => AgreementStatus::Suspended,
            "revoked" => AgreementStatus::Revoked,
            _ => return None,
        })
    }
}

/// What the final approval puts into the agreement besides the request's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementTerms {
    /// 共享方式 (`interface` …).
    pub method: String,
    /// In force from (inclusive).
    pub valid_from: UnixTime,
    /// Until (exclusive).
    pub valid_until: UnixTime,
    /// Calls per minute.
    pub rate_per_minute: i64,
    /// Rows per day.
    pub rows_per_day: i64,
}

/// A share agreement (共享协议).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    /// Id.
    pub id: i64,
    /// The request it came from.
    pub request_id: i64,
    /// The resource.
    pub resource: String,
    /// Providing department.
    pub provider: String,
    /// Receiving department.
    pub recipient: String,
    /// Who asked.
    pub requester: String,
    /// Fields granted.
    pub fields: Vec<String>,
    /// Row filter (JSON; `null` for none).
    pub row_filter: serde_json::Value,
    /// 用途.
    pub purpose: String,
    /// Masking scenario.
    pub scenario: String,
    /// 履职依据.
    pub basis: String,
    /// 共享方式.
    pub method: String,
    /// In force from (inclusive).
    pub valid_from: UnixTime,
    /// Until (exclusive).
    pub valid_until: UnixTime,
    /// Calls per minute.
    pub rate_per_minute: i64,
    /// Rows per day.
    pub rows_per_day: i64,
    /// Active, suspended or revoked.
    pub status: AgreementStatus,
    /// Who changed the status last.
    pub status_by: Option<String>,
    /// When.
    pub status_at: Option<UnixTime>,
    /// Why.
    pub status_reason: Option<String>,
    /// Created.
    pub created_at: UnixTime,
}

/// A data service (数据服务) published on a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataService {
    /// Unique name (the URL path segment).
    pub name: String,
    /// The resource.
    pub resource: String,
    /// The providing department.
    pub department: String,
    /// Response fields.
    pub fields: Vec<String>,
    /// Declared parameters (JSON, as `shuan-share` reads them).
    pub params: serde_json::Value,
    /// Most rows a call may answer (over it the call fails).
    pub max_rows: i64,
    /// Query time limit.
    pub timeout_ms: i64,
    /// Who published it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
    /// Withdrawn.
    pub disabled: bool,
}

/// Usage of an agreement in the current windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Calls admitted in the minute.
    pub calls_this_minute: i64,
    /// Rows answered in the day.
    pub rows_today: i64,
}

/// What [`SharingStore::record_call`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quota {
    /// Counted.
    Admitted,
    /// The minute's calls are used up.
    RateExceeded,
    /// The rows would pass the day's volume.
    VolumeExceeded,
}

/// Filters of [`SharingStore::share_requests`]; all optional, joined by AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareRequestFilter {
    /// Filed by.
    pub requester: Option<String>,
    /// Of this providing department.
    pub provider: Option<String>,
    /// In this state.
    pub status: Option<ShareStatus>,
    /// Pending with a deadline before this time (overdue).
    pub due_before: Option<UnixTime>,
}

/// The data-sharing records, over both backends. Every method is one transaction.
pub trait SharingStore {
    // Sources.
    /// Registers a source; answers its id (`id` of `s` is not read). Names are unique.
    fn create_source(&self, s: &ShareSource) -> Result<i64, PlatformStoreError>;
    /// One source.
    fn source(&self, id: i64) -> Result<Option<ShareSource>, PlatformStoreError>;
    /// Every source, by id.
    fn sources(&self) -> Result<Vec<ShareSource>, PlatformStoreError>;
    /// Records a finished scan and adds its entries (codes unique, one per table of the
    /// source), all or nothing.
    fn add_catalogue_entries(
        &self,
        source_id: i64,
        scanned_at: UnixTime,
        entries: &[CatalogueEntry],
    ) -> Result<(), PlatformStoreError>;

    // Catalogue.
    /// One entry.
    fn catalogue_entry(&self, code: &str) -> Result<Option<CatalogueEntry>, PlatformStoreError>;
    /// Every entry, by code.
    fn catalogue_entries(&self) -> Result<Vec<CatalogueEntry>, PlatformStoreError>;
    /// Replaces an entry's attributes if its version is still `e.version` (else
    /// `Conflict`); answers it with the version bumped.
    fn update_catalogue_entry(
        &self,
        e: &CatalogueEntry,
    ) -> Result<CatalogueEntry, PlatformStoreError>;

    // Requests and approvals.
    /// Files a request; answers its id (`id` of `r` is not read).
    fn create_share_request(&self, r: &ShareRequest) -> Result<i64, PlatformStoreError>;
    /// One request.
    fn share_request(&self, id: i64) -> Result<Option<ShareRequest>, PlatformStoreError>;
    /// Requests, newest first.
    fn share_requests(
        &self,
        f: &ShareRequestFilter,
    ) -> Result<Vec<ShareRequest>, PlatformStoreError>;
    /// Decides the request's next step, which must be `step` (else `Conflict`), by someone
    /// who decided no other step of it. A refusal needs a `comment` (its reason) and ends
    /// the request; an approval of the last step ends it approved and creates its
    /// agreement from the request and `terms`. Of concurrent decisions, one wins; the
    /// others answer `Conflict`.
    #[allow(clippy::too_many_arguments)]
    fn decide_share_request(
        &self,
        id: i64,
        step: &str,
        approve: bool,
        approver: &str,
        comment: Option<&str>,
        now: UnixTime,
        terms: &AgreementTerms,
    ) -> Result<(ShareRequest, Option<Agreement>), PlatformStoreError>;
    /// A request's decisions, in order.
    fn approvals(&self, request_id: i64) -> Result<Vec<Approval>, PlatformStoreError>;

    // Agreements.
    /// One agreement.
    fn agreement(&self, id: i64) -> Result<Option<Agreement>, PlatformStoreError>;
    /// Agreements, optionally of one recipient department and/or one resource, newest
    /// first.
    fn agreements(
        &self,
        recipient: Option<&str>,
        resource: Option<&str>,
    ) -> Result<Vec<Agreement>, PlatformStoreError>;
    /// Suspends, resumes or revokes. A revoked agreement changes no more (`Conflict`).
    fn set_agreement_status(
        &self,
        id: i64,
        status: AgreementStatus,
        by: &str,
        reason: Option<&str>,
        now: UnixTime,
    ) -> Result<Agreement, PlatformStoreError>;
    /// Moves `valid_until` earlier (never later: `Conflict`), not before `valid_from`.
    fn shorten_agreement(
        &self,
        id: i64,
        valid_until: UnixTime,
        by: &str,
        now: UnixTime,
    ) -> Result<Agreement, PlatformStoreError>;

    // Services.
    /// Publishes a service (names unique).
    fn create_service(&self, s: &DataService) -> Result<(), PlatformStoreError>;
    /// One service.
    fn service(&self, name: &str) -> Result<Option<DataService>, PlatformStoreError>;
    /// Every service, by name.
    fn services(&self) -> Result<Vec<DataService>, PlatformStoreError>;
    /// Withdraws or restores a service.
    fn set_service_disabled(&self, name: &str, disabled: bool) -> Result<(), PlatformStoreError>;

    // Usage (rate and volume limits).
    /// The agreement's calls in the minute starting `minute` and rows in the day starting
    /// `day`.
    fn usage(
        &self,
        agreement_id: i64,
        minute: UnixTime,
        day: UnixTime,
    ) -> Result<Usage, PlatformStoreError>;
    /// Counts one call answering `rows` rows, if the minute has a call left under
    /// `per_minute` and the day's rows stay within `rows_per_day`; else counts nothing.
    fn record_call(
        &self,
        agreement_id: i64,
        minute: UnixTime,
        day: UnixTime,
        rows: i64,
        per_minute: i64,
        rows_per_day: i64,
    ) -> Result<Quota, PlatformStoreError>;
}

/// A value passed to or read from a statement, the same for both backends.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// NULL.
    Null,
    /// An integer (BIGINT; SQLite INTEGER).
    Int(i64),
    /// Text.
    Text(String),
    /// A boolean (SQLite stores 0/1).
    Bool(bool),
    /// Bytes (BYTEA; SQLite BLOB).
    Bytes(Vec<u8>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Bool(v)
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}
impl From<&Option<String>> for Val {
    fn from(v: &Option<String>) -> Val {
        v.as_deref().map_or(Val::Null, Val::from)
    }
}

/// A statement runner over one backend's connection or transaction.
pub(crate) trait Exec {
    /// The backend's failure (its driver error, or a store refusal).
    type Fail: From<PlatformStoreError>;
    /// Appended to a `SELECT` that must lock the rows it reads until the end of the
    /// transaction (`FOR UPDATE` on PostgreSQL; nothing on SQLite, whose one writer holds
    /// the write lock from `BEGIN IMMEDIATE`).
    const FOR_UPDATE: &'static str;
    /// Runs a statement (`$n` placeholders); answers the rows changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, Self::Fail>;
    /// Runs a query; answers every row.
    fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, Self::Fail>;
    /// Whether the failure is a unique or primary-key violation.
    fn is_unique_violation(e: &Self::Fail) -> bool;
}

/// `$1` → `?1` for SQLite (statements here hold no `$` elsewhere).
pub(crate) fn sqlite_placeholders(sql: &str) -> String {
    sql.replace('$', "?")
}

pub(crate) fn bad(what: &'static str, message: impl Into<String>) -> PlatformStoreError {
    PlatformStoreError::Query {
        what,
        message: message.into(),
    }
}

/// Reading typed values out of a row of [`Val`]s.
pub(crate) struct Cols<'a>(pub(crate) &'a [Val]);

impl Cols<'_> {
    pub(crate) fn get(&self, i: usize) -> Result<&Val, PlatformStoreError> {
        self.0
            .get(i)
            .ok_or_else(|| bad("decode sharing record", format!("no column {i}")))
    }
    pub(crate) fn int(&self, i: usize) -> Result<i64, PlatformStoreError> {
        match self.get(i)? {
            Val::Int(v) => Ok(*v),
            other => Err(bad(
                "decode sharing record",
                format!("column {i}: integer expected, found {other:?}"),
            )),
        }
    }
    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>, PlatformStoreError> {
        match self.get(i)? {
            Val::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }
    pub(crate) fn text(&self, i: usize) -> Result<String, PlatformStoreError> {
        match self.get(i)? {
            Val::Text(v) => Ok(v.clone()),
            other => Err(bad(
                "decode sharing record",
                format!("column {i}: text expected, found {other:?}"),
            )),
        }
    }
    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>, PlatformStoreError> {
        match self.get(i)? {
            Val::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
    pub(crate) fn boolean(&self, i: usize) -> Result<bool, PlatformStoreError> {
        match self.get(i)? {
            Val::Bool(v) => Ok(*v),
            Val::Int(v) => Ok(*v != 0),
            other => Err(bad(
                "decode sharing record",
                format!("column {i}: boolean expected, found {other:?}"),
            )),
        }
    }
    pub(crate) fn bytes(&self, i: usize) -> Result<Vec<u8>, PlatformStoreError> {
        match self.get(i)? {
            Val::Bytes(v) => Ok(v.clone()),
            other => Err(bad(
                "decode sharing record",
                format!("column {i}: bytes expected, found {other:?}"),
            )),
        }
    }
    pub(crate) fn json<T: serde::de::DeserializeOwned>(
        &self,
        i: usize,
    ) -> Result<T, PlatformStoreError> {
        let text = self.text(i)?;
        serde_json::from_str(&text).map_err(|e| bad("decode sharing record", e.to_string()))
    }
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<Val, PlatformStoreError> {
    serde_json::to_string(value)
        .map(Val::Text)
        .map_err(|e| bad("encode sharing record", e.to_string()))
}

/// The one implementation of [`SharingStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    fn not_found<E: Exec>(kind: &'static str, id: impl ToString) -> E::Fail {
        PlatformStoreError::NotFound {
            kind,
            id: id.to_string(),
        }
        .into()
    }

    fn conflict<E: Exec>(message: String) -> E::Fail {
        PlatformStoreError::Conflict(message).into()
    }

    fn exists_or<'a, E: Exec>(
        kind: &'static str,
        id: &'a str,
    ) -> impl FnOnce(E::Fail) -> E::Fail + 'a {
        move |e| {
            if E::is_unique_violation(&e) {
                PlatformStoreError::Exists {
                    kind,
                    id: id.to_string(),
                }
                .into()
            } else {
                e
            }
        }
    }

    fn one_id<E: Exec>(rows: Vec<Vec<Val>>) -> R<i64, E> {
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| E::Fail::from(bad("insert", "no id returned")))?;
        Ok(Cols(&row).int(0)?)
    }

    // ---- sources ----

    const SOURCE_COLUMNS: &str = "id, name, department, kind, display, url_sealed, profile, \
         created_by, created_at, scanned_at";

    fn source_from(r: &[Val]) -> Result<ShareSource, PlatformStoreError> {
        let c = Cols(r);
        Ok(ShareSource {
            id: c.int(0)?,
            name: c.text(1)?,
            department: c.text(2)?,
            kind: c.text(3)?,
            display: c.text(4)?,
            url_sealed: c.bytes(5)?,
            profile: c.text(6)?,
            created_by: c.text(7)?,
            created_at: c.int(8)?,
            scanned_at: c.opt_int(9)?,
        })
    }

    fn require_department<E: Exec>(x: &mut E, code: &str) -> R<(), E> {
        if x.rows("SELECT 1 FROM departments WHERE code = $1", &[code.into()])?
            .is_empty()
        {
            return Err(not_found::<E>("department", code));
        }
        Ok(())
    }

    pub(crate) fn create_source<E: Exec>(x: &mut E, s: &ShareSource) -> R<i64, E> {
        require_department(x, &s.department)?;
        let rows = x
            .rows(
                "INSERT INTO share_sources (name, department, kind, display, url_sealed, \
                 profile, created_by, created_at, scanned_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                &[
                    (&s.name).into(),
                    (&s.department).into(),
                    (&s.kind).into(),
                    (&s.display).into(),
                    Val::Bytes(s.url_sealed.clone()),
                    (&s.profile).into(),
                    (&s.created_by).into(),
                    s.created_at.into(),
                    s.scanned_at.into(),
                ],
            )
            .map_err(exists_or::<E>("source", &s.name))?;
        one_id::<E>(rows)
    }

    pub(crate) fn source<E: Exec>(x: &mut E, id: i64) -> R<Option<ShareSource>, E> {
        let rows = x.rows(
            &format!("SELECT {SOURCE_COLUMNS} FROM share_sources WHERE id = $1"),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| source_from(r)).transpose()?)
    }

    pub(crate) fn sources<E: Exec>(x: &mut E) -> R<Vec<ShareSource>, E> {
        let rows = x.rows(
            &format!("SELECT {SOURCE_COLUMNS} FROM share_sources ORDER BY id"),
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| source_from(r))
            .collect::<Result<_, _>>()?)
    }

    // ---- catalogue ----

    const ENTRY_COLUMNS: &str = "code, source_id, locator, name, title, department, summary, \
         format, fields, profile, level, level_rank, important, personal, share_type, \
         share_conditions, share_basis, open_type, open_conditions, share_method, \
         update_cycle, row_count, published_at, updated_at, updated_by, version";

    fn entry_from(r: &[Val]) -> Result<CatalogueEntry, PlatformStoreError> {
        let c = Cols(r);
        Ok(CatalogueEntry {
            code: c.text(0)?,
            source_id: c.int(1)?,
            locator: c.text(2)?,
            name: c.text(3)?,
            title: c.text(4)?,
            department: c.text(5)?,
            summary: c.text(6)?,
            format: c.text(7)?,
            fields: c.json(8)?,
            profile: c.text(9)?,
            level: c.text(10)?,
            level_rank: c.int(11)?,
            important: c.boolean(12)?,
            personal: c.boolean(13)?,
            share_type: c.text(14)?,
            share_conditions: c.opt_text(15)?,
            share_basis: c.opt_text(16)?,
            open_type: c.text(17)?,
            open_conditions: c.opt_text(18)?,
            share_method: c.text(19)?,
            update_cycle: c.text(20)?,
            row_count: c.opt_int(21)?,
            published_at: c.int(22)?,
            updated_at: c.int(23)?,
            updated_by: c.text(24)?,
            version: c.int(25)?,
        })
    }

    fn entry_values(e: &CatalogueEntry) -> Result<Vec<Val>, PlatformStoreError> {
        Ok(vec![
            (&e.code).into(),
            e.source_id.into(),
            (&e.locator).into(),
            (&e.name).into(),
            (&e.title).into(),
            (&e.department).into(),
            (&e.summary).into(),
            (&e.format).into(),
            to_json(&e.fields)?,
            (&e.profile).into(),
            (&e.level).into(),
            e.level_rank.into(),
            e.important.into(),
            e.personal.into(),
            (&e.share_type).into(),
            (&e.share_conditions).into(),
            (&e.share_basis).into(),
            (&e.open_type).into(),
            (&e.open_conditions).into(),
            (&e.share_method).into(),
            (&e.update_cycle).into(),
            e.row_count.into(),
            e.published_at.into(),
            e.updated_at.into(),
            (&e.updated_by).into(),
            e.version.into(),
        ])
    }

    /// A CHECK violation names which rule of the entry failed, in the store's words.
    fn check_entry(e: &CatalogueEntry) -> Result<(), PlatformStoreError> {
        let kinds = ["unconditional", "conditional", "none"];
        if !kinds.contains(&e.share_type.as_str()) || !kinds.contains(&e.open_type.as_str()) {
            return Err(PlatformStoreError::Conflict(format!(
                "resource {}: share_type and open_type are unconditional, conditional or none",
                e.code
            )));
        }
        if e.share_type == "conditional" && e.share_conditions.as_deref().is_none_or(str::is_empty)
        {
            return Err(PlatformStoreError::Conflict(format!(
                "resource {}: 有条件共享须写明共享条件 (conditional sharing needs its conditions)",
                e.code
            )));
        }
        if e.share_type == "none" && e.share_basis.as_deref().is_none_or(str::is_empty) {
            return Err(PlatformStoreError::Conflict(format!(
                "resource {}: 不予共享须写明依据 (not shared needs its legal basis)",
                e.code
            )));
        }
        Ok(())
    }

    pub(crate) fn add_catalogue_entries<E: Exec>(
        x: &mut E,
        source_id: i64,
        scanned_at: UnixTime,
        entries: &[CatalogueEntry],
    ) -> R<(), E> {
        let changed = x.exec(
            "UPDATE share_sources SET scanned_at = $2 WHERE id = $1",
            &[source_id.into(), scanned_at.into()],
        )?;
        if changed == 0 {
            return Err(not_found::<E>("source", source_id));
        }
        let placeholders: Vec<String> = (1..=26).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO catalogue_entries ({ENTRY_COLUMNS}) VALUES ({})",
            placeholders.join(", ")
        );
        for e in entries {
            if e.source_id != source_id {
                return Err(conflict::<E>(format!(
                    "resource {} belongs to source {}, not {source_id}",
                    e.code, e.source_id
                )));
            }
            check_entry(e)?;
            x.exec(&sql, &entry_values(e)?)
                .map_err(exists_or::<E>("resource", &e.code))?;
        }
        Ok(())
    }

    pub(crate) fn catalogue_entry<E: Exec>(x: &mut E, code: &str) -> R<Option<CatalogueEntry>, E> {
        let rows = x.rows(
            &format!("SELECT {ENTRY_COLUMNS} FROM catalogue_entries WHERE code = $1"),
            &[code.into()],
        )?;
        Ok(rows.first().map(|r| entry_from(r)).transpose()?)
    }

    pub(crate) fn catalogue_entries<E: Exec>(x: &mut E) -> R<Vec<CatalogueEntry>, E> {
        let rows = x.rows(
            &format!("SELECT {ENTRY_COLUMNS} FROM catalogue_entries ORDER BY code"),
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| entry_from(r))
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn update_catalogue_entry<E: Exec>(
        x: &mut E,
        e: &CatalogueEntry,
    ) -> R<CatalogueEntry, E> {
        check_entry(e)?;
        let Some(current) = catalogue_entry(x, &e.code)? else {
            return Err(not_found::<E>("resource", &e.code));
        };
        if current.source_id != e.source_id || current.locator != e.locator {
            return Err(conflict::<E>(format!(
                "resource {}: its source and table cannot change",
                e.code
            )));
        }
        let mut next = e.clone();
        next.version = e.version + 1;
        let mut values = entry_values(&next)?;
        values.push(e.version.into());
        let sets: Vec<String> = ENTRY_COLUMNS
            .split(", ")
            .enumerate()
            .skip(1)
            .map(|(i, col)| format!("{} = ${}", col.trim(), i + 1))
            .collect();
        let changed = x.exec(
            &format!(
                "UPDATE catalogue_entries SET {} WHERE code = $1 AND version = $27",
                sets.join(", ")
            ),
            &values,
        )?;
        if changed == 0 {
            return Err(conflict::<E>(format!(
                "resource {} changed since version {} was read (now {}); read it again",
                e.code, e.version, current.version
            )));
        }
        Ok(next)
    }

    // ---- requests ----

    const REQUEST_COLUMNS: &str = "id, resource, requester, department, provider, fields, \
         row_filter, purpose, scenario, basis, safeguards, valid_days, steps, next_step, \
         status, created_at, deadline, decided_at, reason, agreement_id";

    fn request_from(r: &[Val]) -> Result<ShareRequest, PlatformStoreError> {
        let c = Cols(r);
        let status = c.text(14)?;
        Ok(ShareRequest {
            id: c.int(0)?,
            resource: c.text(1)?,
            requester: c.text(2)?,
            department: c.text(3)?,
            provider: c.text(4)?,
            fields: c.json(5)?,
            row_filter: c.json(6)?,
            purpose: c.text(7)?,
            scenario: c.text(8)?,
            basis: c.text(9)?,
            safeguards: c.opt_text(10)?,
            valid_days: c.int(11)?,
            steps: c.json(12)?,
            next_step: c.int(13)?,
            status: ShareStatus::parse(&status)
                .ok_or_else(|| bad("decode share request", format!("unknown status {status:?}")))?,
            created_at: c.int(15)?,
            deadline: c.opt_int(16)?,
            decided_at: c.opt_int(17)?,
            reason: c.opt_text(18)?,
            agreement_id: c.opt_int(19)?,
        })
    }

    pub(crate) fn create_share_request<E: Exec>(x: &mut E, r: &ShareRequest) -> R<i64, E> {
        if catalogue_entry(x, &r.resource)?.is_none() {
            return Err(not_found::<E>("resource", &r.resource));
        }
        if matches!(r.status, ShareStatus::Rejected | ShareStatus::Refused)
            && r.reason.as_deref().is_none_or(str::is_empty)
        {
            return Err(conflict::<E>(
                "a refused request needs its reason (拒绝须说明理由)".into(),
            ));
        }
        if r.status == ShareStatus::Approved || r.agreement_id.is_some() {
            return Err(conflict::<E>(
                "a request is approved only by deciding its steps".into(),
            ));
        }
        let rows = x.rows(
            "INSERT INTO share_requests (resource, requester, department, provider, fields, \
             row_filter, purpose, scenario, basis, safeguards, valid_days, steps, next_step, \
             status, created_at, deadline, decided_at, reason, agreement_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, NULL) RETURNING id",
            &[
                (&r.resource).into(),
                (&r.requester).into(),
                (&r.department).into(),
                (&r.provider).into(),
                to_json(&r.fields)?,
                to_json(&r.row_filter)?,
                (&r.purpose).into(),
                (&r.scenario).into(),
                (&r.basis).into(),
                (&r.safeguards).into(),
                r.valid_days.into(),
                to_json(&r.steps)?,
                r.next_step.into(),
                r.status.as_str().into(),
                r.created_at.into(),
                r.deadline.into(),
                r.decided_at.into(),
                (&r.reason).into(),
            ],
        )?;
        one_id::<E>(rows)
    }

    fn load_request<E: Exec>(x: &mut E, id: i64, lock: bool) -> R<Option<ShareRequest>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM share_requests WHERE id = $1{}",
                if lock { E::FOR_UPDATE } else { "" }
            ),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| request_from(r)).transpose()?)
    }

    pub(crate) fn share_request<E: Exec>(x: &mut E, id: i64) -> R<Option<ShareRequest>, E> {
        load_request(x, id, false)
    }

    pub(crate) fn share_requests<E: Exec>(
        x: &mut E,
        f: &ShareRequestFilter,
    ) -> R<Vec<ShareRequest>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM share_requests \
                 WHERE (CAST($1 AS TEXT) IS NULL OR requester = $1) \
                 AND (CAST($2 AS TEXT) IS NULL OR provider = $2) \
                 AND (CAST($3 AS TEXT) IS NULL OR status = $3) \
                 AND (CAST($4 AS BIGINT) IS NULL OR (status = 'pending' AND deadline < $4)) \
                 ORDER BY id DESC"
            ),
            &[
                (&f.requester).into(),
                (&f.provider).into(),
                f.status.map(ShareStatus::as_str).into(),
                f.due_before.into(),
            ],
        )?;
        Ok(rows
            .iter()
            .map(|r| request_from(r))
            .collect::<Result<_, _>>()?)
    }

    const APPROVAL_COLUMNS: &str = "id, request_id, step, approver, approve, comment, at";

    fn approval_from(r: &[Val]) -> Result<Approval, PlatformStoreError> {
        let c = Cols(r);
        Ok(Approval {
            id: c.int(0)?,
            request_id: c.int(1)?,
            step: c.text(2)?,
            approver: c.text(3)?,
            approve: c.boolean(4)?,
            comment: c.opt_text(5)?,
            at: c.int(6)?,
        })
    }

    pub(crate) fn approvals<E: Exec>(x: &mut E, request_id: i64) -> R<Vec<Approval>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {APPROVAL_COLUMNS} FROM share_approvals WHERE request_id = $1 ORDER BY id"
            ),
            &[request_id.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| approval_from(r))
            .collect::<Result<_, _>>()?)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn decide_share_request<E: Exec>(
        x: &mut E,
        id: i64,
        step: &str,
        approve: bool,
        approver: &str,
        comment: Option<&str>,
        now: UnixTime,
        terms: &AgreementTerms,
    ) -> R<(ShareRequest, Option<Agreement>), E> {
        // The row lock orders every decision of this request on every node; what follows
        // reads the request as the last decision left it.
        let Some(mut r) = load_request(x, id, true)? else {
            return Err(not_found::<E>("share_request", id));
        };
        if r.status != ShareStatus::Pending {
            return Err(conflict::<E>(format!(
                "share request {id} was already {} (已处理)",
                r.status.as_str()
            )));
        }
        let index = usize::try_from(r.next_step).unwrap_or(usize::MAX);
        let Some(expected) = r.steps.get(index).cloned() else {
            return Err(conflict::<E>(format!(
                "share request {id} has no step left to decide"
            )));
        };
        if expected != step {
            return Err(conflict::<E>(format!(
                "share request {id} waits for step {expected}, not {step}"
            )));
        }
        if !approve && comment.is_none_or(|c| c.trim().is_empty()) {
            return Err(conflict::<E>(
                "a refusal needs its reason (拒绝须说明理由)".into(),
            ));
        }
        let earlier = approvals(x, id)?;
        if let Some(a) = earlier.iter().find(|a| a.approver == approver) {
            return Err(conflict::<E>(format!(
                "{approver} already decided step {} of share request {id}; each step needs \
                 another person (每一步须由不同人员审批)",
                a.step
            )));
        }
        x.exec(
            "INSERT INTO share_approvals (request_id, step, approver, approve, comment, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                id.into(),
                step.into(),
                approver.into(),
                approve.into(),
                comment.into(),
                now.into(),
            ],
        )
        .map_err(|e| {
            if E::is_unique_violation(&e) {
                conflict::<E>(format!(
                    "step {step} of share request {id} is already decided"
                ))
            } else {
                e
            }
        })?;
        let last = index + 1 == r.steps.len();
        let mut agreement = None;
        if !approve {
            r.status = ShareStatus::Rejected;
            r.reason = comment.map(str::to_string);
            r.decided_at = Some(now);
        } else if last {
            if terms.valid_from >= terms.valid_until {
                return Err(conflict::<E>(format!(
                    "an agreement's period must not be empty ({} ≥ {})",
                    terms.valid_from, terms.valid_until
                )));
            }
            let rows = x.rows(
                "INSERT INTO share_agreements (request_id, resource, provider, recipient, \
                 requester, fields, row_filter, purpose, scenario, basis, method, valid_from, \
                 valid_until, rate_per_minute, rows_per_day, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                 'active', $16) RETURNING id",
                &[
                    id.into(),
                    (&r.resource).into(),
                    (&r.provider).into(),
                    (&r.department).into(),
                    (&r.requester).into(),
                    to_json(&r.fields)?,
                    to_json(&r.row_filter)?,
                    (&r.purpose).into(),
                    (&r.scenario).into(),
                    (&r.basis).into(),
                    (&terms.method).into(),
                    terms.valid_from.into(),
                    terms.valid_until.into(),
                    terms.rate_per_minute.into(),
                    terms.rows_per_day.into(),
                    now.into(),
                ],
            )?;
            let agreement_id = one_id::<E>(rows)?;
            r.status = ShareStatus::Approved;
            r.decided_at = Some(now);
            r.agreement_id = Some(agreement_id);
            agreement = Some(Agreement {
                id: agreement_id,
                request_id: id,
                resource: r.resource.clone(),
                provider: r.provider.clone(),
                recipient: r.department.clone(),
                requester: r.requester.clone(),
                fields: r.fields.clone(),
                row_filter: r.row_filter.clone(),
                purpose: r.purpose.clone(),
                scenario: r.scenario.clone(),
                basis: r.basis.clone(),
                method: terms.method.clone(),
                valid_from: terms.valid_from,
                valid_until: terms.valid_until,
                rate_per_minute: terms.rate_per_minute,
                rows_per_day: terms.rows_per_day,
                status: AgreementStatus::Active,
                status_by: None,
                status_at: None,
                status_reason: None,
                created_at: now,
            });
        }
        r.next_step += 1;
        x.exec(
            "UPDATE share_requests SET next_step = $2, status = $3, decided_at = $4, \
             reason = $5, agreement_id = $6 WHERE id = $1",
            &[
                id.into(),
                r.next_step.into(),
                r.status.as_str().into(),
                r.decided_at.into(),
                (&r.reason).into(),
                r.agreement_id.into(),
            ],
        )?;
        Ok((r, agreement))
    }

    // ---- agreements ----

    const AGREEMENT_COLUMNS: &str = "id, request_id, resource, provider, recipient, requester, \
         fields, row_filter, purpose, scenario, basis, method, valid_from, valid_until, \
         rate_per_minute, rows_per_day, status, status_by, status_at, status_reason, created_at";

    fn agreement_from(r: &[Val]) -> Result<Agreement, PlatformStoreError> {
        let c = Cols(r);
        let status = c.text(16)?;
        Ok(Agreement {
            id: c.int(0)?,
            request_id: c.int(1)?,
            resource: c.text(2)?,
            provider: c.text(3)?,
            recipient: c.text(4)?,
            requester: c.text(5)?,
            fields: c.json(6)?,
            row_filter: c.json(7)?,
            purpose: c.text(8)?,
            scenario: c.text(9)?,
            basis: c.text(10)?,
            method: c.text(11)?,
            valid_from: c.int(12)?,
            valid_until: c.int(13)?,
            rate_per_minute: c.int(14)?,
            rows_per_day: c.int(15)?,
            status: AgreementStatus::parse(&status)
                .ok_or_else(|| bad("decode agreement", format!("unknown status {status:?}")))?,
            status_by: c.opt_text(17)?,
            status_at: c.opt_int(18)?,
            status_reason: c.opt_text(19)?,
            created_at: c.int(20)?,
        })
    }

    fn load_agreement<E: Exec>(x: &mut E, id: i64, lock: bool) -> R<Option<Agreement>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {AGREEMENT_COLUMNS} FROM share_agreements WHERE id = $1{}",
                if lock { E::FOR_UPDATE } else { "" }
            ),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| agreement_from(r)).transpose()?)
    }

    pub(crate) fn agreement<E: Exec>(x: &mut E, id: i64) -> R<Option<Agreement>, E> {
        load_agreement(x, id, false)
    }

    pub(crate) fn agreements<E: Exec>(
        x: &mut E,
        recipient: Option<&str>,
        resource: Option<&str>,
    ) -> R<Vec<Agreement>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {AGREEMENT_COLUMNS} FROM share_agreements \
                 WHERE (CAST($1 AS TEXT) IS NULL OR recipient = $1) \
                 AND (CAST($2 AS TEXT) IS NULL OR resource = $2) \
                 ORDER BY id DESC"
            ),
            &[recipient.into(), resource.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| agreement_from(r))
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn set_agreement_status<E: Exec>(
        x: &mut E,
        id: i64,
        status: AgreementStatus,
        by: &str,
        reason: Option<&str>,
        now: UnixTime,
    ) -> R<Agreement, E> {
        let Some(mut a) = load_agreement(x, id, true)? else {
            return Err(not_found::<E>("agreement", id));
        };
        if a.status == AgreementStatus::Revoked {
            return Err(conflict::<E>(format!(
                "agreement {id} was revoked by {} and changes no more (已撤销)",
                a.status_by.as_deref().unwrap_or("someone")
            )));
        }
        a.status = status;
        a.status_by = Some(by.to_string());
        a.status_at = Some(now);
        a.status_reason = reason.map(str::to_string);
        x.exec(
            "UPDATE share_agreements SET status = $2, status_by = $3, status_at = $4, \
             status_reason = $5 WHERE id = $1",
            &[
                id.into(),
                status.as_str().into(),
                by.into(),
                now.into(),
                reason.into(),
            ],
        )?;
        Ok(a)
    }

    pub(crate) fn shorten_agreement<E: Exec>(
        x: &mut E,
        id: i64,
        valid_until: UnixTime,
        by: &str,
        now: UnixTime,
    ) -> R<Agreement, E> {
        let Some(mut a) = load_agreement(x, id, true)? else {
            return Err(not_found::<E>("agreement", id));
        };
        if a.status == AgreementStatus::Revoked {
            return Err(conflict::<E>(format!(
                "agreement {id} was revoked and changes no more (已撤销)"
            )));
        }
        if valid_until > a.valid_until {
            return Err(conflict::<E>(format!(
                "agreement {id} can only be shortened (valid_until {valid_until} is after {}); \
                 a longer period needs a new request",
                a.valid_until
            )));
        }
        if valid_until <= a.valid_from {
            return Err(conflict::<E>(format!(
                "agreement {id}: valid_until must stay after valid_from {}",
                a.valid_from
            )));
        }
        a.valid_until = valid_until;
        a.status_by = Some(by.to_string());
        a.status_at = Some(now);
        x.exec(
            "UPDATE share_agreements SET valid_until = $2, status_by = $3, status_at = $4 \
             WHERE id = $1",
            &[id.into(), valid_until.into(), by.into(), now.into()],
        )?;
        Ok(a)
    }

    // ---- services ----

    const SERVICE_COLUMNS: &str = "name, resource, department, fields, params, max_rows, \
         timeout_ms, created_by, created_at, disabled";

    fn service_from(r: &[Val]) -> Result<DataService, PlatformStoreError> {
        let c = Cols(r);
        Ok(DataService {
            name: c.text(0)?,
            resource: c.text(1)?,
            department: c.text(2)?,
            fields: c.json(3)?,
            params: c.json(4)?,
            max_rows: c.int(5)?,
            timeout_ms: c.int(6)?,
            created_by: c.text(7)?,
            created_at: c.int(8)?,
            disabled: c.boolean(9)?,
        })
    }

    pub(crate) fn create_service<E: Exec>(x: &mut E, s: &DataService) -> R<(), E> {
        if catalogue_entry(x, &s.resource)?.is_none() {
            return Err(not_found::<E>("resource", &s.resource));
        }
        if s.max_rows < 1 || s.timeout_ms < 1 {
            return Err(conflict::<E>(format!(
                "service {}: max_rows and timeout_ms must be positive",
                s.name
            )));
        }
        x.exec(
            &format!(
                "INSERT INTO data_services ({SERVICE_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            &[
                (&s.name).into(),
                (&s.resource).into(),
                (&s.department).into(),
                to_json(&s.fields)?,
                to_json(&s.params)?,
                s.max_rows.into(),
                s.timeout_ms.into(),
                (&s.created_by).into(),
                s.created_at.into(),
                s.disabled.into(),
            ],
        )
        .map_err(exists_or::<E>("service", &s.name))?;
        Ok(())
    }

    pub(crate) fn service<E: Exec>(x: &mut E, name: &str) -> R<Option<DataService>, E> {
        let rows = x.rows(
            &format!("SELECT {SERVICE_COLUMNS} FROM data_services WHERE name = $1"),
            &[name.into()],
        )?;
        Ok(rows.first().map(|r| service_from(r)).transpose()?)
    }

    pub(crate) fn services<E: Exec>(x: &mut E) -> R<Vec<DataService>, E> {
        let rows = x.rows(
            &format!("SELECT {SERVICE_COLUMNS} FROM data_services ORDER BY name"),
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| service_from(r))
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn set_service_disabled<E: Exec>(x: &mut E, name: &str, disabled: bool) -> R<(), E> {
        let n = x.exec(
            "UPDATE data_services SET disabled = $2 WHERE name = $1",
            &[name.into(), disabled.into()],
        )?;
        if n == 0 {
            return Err(not_found::<E>("service", name));
        }
        Ok(())
    }

    // ---- usage ----

    pub(crate) fn usage<E: Exec>(
        x: &mut E,
        agreement_id: i64,
        minute: UnixTime,
        day: UnixTime,
    ) -> R<Usage, E> {
        let rows = x.rows(
            "SELECT kind, calls, row_total FROM share_usage WHERE agreement_id = $1 AND \
             ((kind = 'minute' AND window_start = $2) OR (kind = 'day' AND window_start = $3))",
            &[agreement_id.into(), minute.into(), day.into()],
        )?;
        let mut usage = Usage::default();
        for row in &rows {
            let c = Cols(row);
            match c.text(0)?.as_str() {
                "minute" => usage.calls_this_minute = c.int(1)?,
                _ => usage.rows_today = c.int(2)?,
            }
        }
        Ok(usage)
    }

    pub(crate) fn record_call<E: Exec>(
        x: &mut E,
        agreement_id: i64,
        minute: UnixTime,
        day: UnixTime,
        rows: i64,
        per_minute: i64,
        rows_per_day: i64,
    ) -> R<Quota, E> {
        if load_agreement(x, agreement_id, false)?.is_none() {
            return Err(not_found::<E>("agreement", agreement_id));
        }
        let rows = rows.max(0);
        if rows > rows_per_day {
            return Ok(Quota::VolumeExceeded);
        }
        // Each window's row exists before the compare-and-set updates below.
        for (kind, start) in [("minute", minute), ("day", day)] {
            x.exec(
                "INSERT INTO share_usage (agreement_id, kind, window_start, calls, row_total) \
                 VALUES ($1, $2, $3, 0, 0) ON CONFLICT DO NOTHING",
                &[agreement_id.into(), kind.into(), start.into()],
            )?;
        }
        let took_call = x.exec(
            "UPDATE share_usage SET calls = calls + 1, row_total = row_total + $3 \
             WHERE agreement_id = $1 AND kind = 'minute' AND window_start = $2 AND calls < $4",
            &[
                agreement_id.into(),
                minute.into(),
                rows.into(),
                per_minute.into(),
            ],
        )?;
        if took_call == 0 {
            return Ok(Quota::RateExceeded);
        }
        let took_rows = x.exec(
            "UPDATE share_usage SET calls = calls + 1, row_total = row_total + $3 \
             WHERE agreement_id = $1 AND kind = 'day' AND window_start = $2 \
             AND row_total + $3 <= $4",
            &[
                agreement_id.into(),
                day.into(),
                rows.into(),
                rows_per_day.into(),
            ],
        )?;
        if took_rows == 0 {
            // Undo the minute's count: this call is refused and answers nothing.
            x.exec(
                "UPDATE share_usage SET calls = calls - 1, row_total = row_total - $3 \
                 WHERE agreement_id = $1 AND kind = 'minute' AND window_start = $2",
                &[agreement_id.into(), minute.into(), rows.into()],
            )?;
            return Ok(Quota::VolumeExceeded);
        }
        Ok(Quota::Admitted)
    }
}
