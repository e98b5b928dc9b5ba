//! What the evidence engine asks for: the [`EvidenceSource`] trait and the facts it returns.
//!
//! Every method answers for one department (机构代码) and, where records are dated, one
//! period. `Ok(None)` means "the platform keeps no such records" (for example governance
//! records before the governance module exists): the engine then reports 无证据, never a
//! guess. `Ok(Some(..))` with zero records means the records are kept and there are none —
//! which can be a finding in itself. Methods that could reach millions of rows (ledger,
//! inventory columns, masking jobs, alerts, deliveries) return aggregates with a few example
//! records, so an implementation answers them with indexed `COUNT`s, not by streaming rows.

use serde::Serialize;
use shuan_access::Grant;

/// A calendar day: days since 1970-01-01 (see `shuan-calendar`).
pub type Day = i64;

/// The day of a (year, month, day) date.
pub fn day(year: i64, month: u32, day_of_month: u32) -> Day {
    shuan_calendar::days_from_civil(year, month, day_of_month)
}

/// `YYYY-MM-DD` of a day.
pub fn format_day(d: Day) -> String {
    let (y, m, dd) = shuan_calendar::civil_from_days(d);
    format!("{y:04}-{m:02}-{dd:02}")
}

/// The period a self-inspection covers, both ends included. Windows such as "within 365
/// days" are measured back from `end` (the day the department answers for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day.
    pub start: Day,
    /// Last day.
    pub end: Day,
}

impl Period {
    /// A period; `None` when `end` is before `start`.
    pub fn new(start: Day, end: Day) -> Option<Period> {
        (start <= end).then_some(Period { start, end })
    }

    /// A calendar year.
    pub fn year(year: i64) -> Period {
        Period {
            start: day(year, 1, 1),
            end: day(year, 12, 31),
        }
    }

    /// Whether `d` lies in the period.
    pub fn contains(&self, d: Day) -> bool {
        self.start <= d && d <= self.end
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}—{}", format_day(self.start), format_day(self.end))
    }
}

/// A record cited as evidence: what kind of record and its id in the platform (so a
/// report can link to it), with a short note why it is cited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordRef {
    /// Record kind, a stable snake_case id (`dataset`, `column`, `key`, `account`,
    /// `ledger_record`, `agreement`, `training` …).
    pub kind: String,
    /// The record's id.
    pub id: String,
    /// Why it is cited (Chinese), empty when obvious.
    pub note: String,
}

impl RecordRef {
    /// A cited record.
    pub fn new(kind: &str, id: impl Into<String>, note: impl Into<String>) -> RecordRef {
        RecordRef {
            kind: kind.to_string(),
            id: id.into(),
            note: note.into(),
        }
    }
}

/// The department's asset inventory (数据资产清单) as it stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InventoryFacts {
    /// Datasets (tables, files) registered.
    pub datasets: u64,
    /// Of those, with both an owner post (责任岗位) and a responsible person (责任人).
    pub datasets_with_owner: u64,
    /// A few datasets lacking one, for the reason.
    pub datasets_without_owner: Vec<RecordRef>,
    /// Columns registered.
    pub columns: u64,
    /// Of those, with a grade (分级).
    pub columns_graded: u64,
    /// A few ungraded columns.
    pub ungraded_columns: Vec<RecordRef>,
    /// Columns per level name, as the department's grading profile names them.
    pub columns_by_level: Vec<(String, u64)>,
    /// The last consistency check of the inventory against the systems (a completed scan
    /// or a recorded check), if any.
    pub last_consistency_check: Option<Day>,
}

/// The important-data catalogue (重要数据目录) against the graded inventory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportantDataFacts {
    /// Datasets graded at a level whose profile says "catalogue" (重要数据, 核心数据).
    pub datasets_at_catalogue_levels: u64,
    /// Of those, entered in the catalogue.
    pub catalogued: u64,
    /// A few that are missing from it.
    pub uncatalogued: Vec<RecordRef>,
}

/// Which columns an encryption-at-rest question is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ColumnScope {
    /// Columns graded at this level (a level name of the department's grading profile)
    /// or above.
    AtOrAboveLevel(String),
    /// Columns detected as one of these data types (detector ids).
    DataTypes(Vec<String>),
}

/// Encryption at rest of the columns in a scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EncryptionFacts {
    /// Columns in scope.
    pub columns_in_scope: u64,
    /// Of those, stored encrypted with a national algorithm (SM4 envelope).
    pub encrypted: u64,
    /// A few stored in clear.
    pub unencrypted: Vec<RecordRef>,
}

/// One key of the department's keyring.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    /// Key id.
    pub id: String,
    /// Algorithm id (`sm4`, `sm2`, `aes256` …).
    pub algorithm: String,
    /// Day of creation or last rotation, whichever is later.
    pub last_rotated: Day,
    /// Retired keys only decrypt old data and need no rotation.
    pub retired: bool,
}

/// Data connections the department's sources use (databases, file shares).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionFacts {
    /// Connections registered.
    pub connections: u64,
    /// Of those, over TLS or another encrypted channel.
    pub encrypted: u64,
    /// A few in clear.
    pub in_clear: Vec<RecordRef>,
}

/// The result of the last full verification of the department's ledger chain.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerVerification {
    /// Day of the verification.
    pub at: Day,
    /// Records checked.
    pub records_checked: u64,
    /// The first record that failed, if any.
    pub first_bad: Option<RecordRef>,
}

/// The department's audit ledger, as aggregates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LedgerFacts {
    /// Records dated in the period.
    pub records_in_period: u64,
    /// Day of the oldest record still held.
    pub oldest_retained: Option<Day>,
    /// True when no record was ever removed (the chain runs from its first record).
    pub complete_from_genesis: bool,
    /// The last verification of the chain, if one was run.
    pub last_verification: Option<LedgerVerification>,
}

/// Kinds of platform operations whose ledger records are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// Scans (discovery, grading).
    Scan,
    /// Masking and de-identification jobs.
    Masking,
    /// Sharing deliveries.
    Sharing,
    /// Key generation, rotation, use.
    Key,
    /// Backups and restores.
    Backup,
    /// Destructions.
    Destruction,
    /// Exports of data.
    Export,
}

impl OperationKind {
    /// Every kind, in a fixed order.
    pub const ALL: [OperationKind; 7] = [
        OperationKind::Scan,
        OperationKind::Masking,
        OperationKind::Sharing,
        OperationKind::Key,
        OperationKind::Backup,
        OperationKind::Destruction,
        OperationKind::Export,
    ];

    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            OperationKind::Scan => "scan",
            OperationKind::Masking => "masking",
            OperationKind::Sharing => "sharing",
            OperationKind::Key => "key",
            OperationKind::Backup => "backup",
            OperationKind::Destruction => "destruction",
            OperationKind::Export => "export",
        }
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            OperationKind::Scan => "扫描",
            OperationKind::Masking => "脱敏",
            OperationKind::Sharing => "共享交付",
            OperationKind::Key => "密钥操作",
            OperationKind::Backup => "备份恢复",
            OperationKind::Destruction => "销毁",
            OperationKind::Export => "导出",
        }
    }

    /// The kind of an id.
    pub fn from_id(id: &str) -> Option<OperationKind> {
        OperationKind::ALL.into_iter().find(|k| k.id() == id)
    }
}

/// Operations of one kind run in the period and whether each left its ledger record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperationFacts {
    /// Operations run.
    pub run: u64,
    /// Of those, with a ledger record.
    pub recorded: u64,
    /// A few without one.
    pub unrecorded: Vec<RecordRef>,
}

/// One account of the department with its grants.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    /// Account id (login name).
    pub id: String,
    /// A vendor's account (供应商).
    pub vendor: bool,
    /// The account's grants.
    pub grants: Vec<Grant>,
    /// Last day it signed in or was used, if ever.
    pub last_active: Option<Day>,
    /// Created on.
    pub created: Day,
    /// A second factor (TOTP) enrolled.
    pub second_factor: bool,
    /// Disabled accounts are kept for the record and do not count as live.
    pub disabled: bool,
}

/// One elevation (超权限处理数据的授权) in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct ElevationRecord {
    /// Elevation id.
    pub id: String,
    /// Who it was for.
    pub account: String,
    /// Approved by an account holding the chief data officer's role (首席数据官).
    pub approved_by_chief_data_officer: bool,
    /// Its request and decision are in the ledger.
    pub recorded: bool,
}

/// Masking (脱敏) in the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MaskingFacts {
    /// Masking rule sets defined for the department (per scenario).
    pub rule_sets: u64,
    /// Masking jobs run in the period.
    pub jobs: u64,
    /// Of those, recorded in the ledger.
    pub jobs_recorded: u64,
    /// A few unrecorded jobs.
    pub unrecorded: Vec<RecordRef>,
}

/// Misuse detection (违规使用识别、监控、预警) in the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFacts {
    /// Alert rules enabled.
    pub rules_enabled: u64,
    /// Alerts raised in the period.
    pub raised: u64,
    /// Of those, handled (acknowledged and closed) within the allowed days.
    pub handled_in_time: u64,
    /// A few not handled in time.
    pub overdue: Vec<RecordRef>,
}

/// One backup.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupRecord {
    /// Backup id.
    pub id: String,
    /// Day it was taken.
    pub at: Day,
    /// It completed.
    pub succeeded: bool,
    /// Day it was last verified by a test restore, if ever.
    pub verified_at: Option<Day>,
}

/// One sharing agreement (共享协议 / 授权).
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementRecord {
    /// Agreement id.
    pub id: String,
    /// Required fields it lacks (ids: `requester`, `purpose`, `method`, `scope`,
    /// `period`, `scenario`, `safeguards`).
    pub missing_fields: Vec<String>,
    /// Day it was reviewed and approved, if it was.
    pub approved_at: Option<Day>,
    /// Day of its first delivery, if any.
    pub first_delivery: Option<Day>,
}

/// Sharing in the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SharingFacts {
    /// Agreements in force during the period.
    pub agreements: Vec<AgreementRecord>,
    /// Deliveries (exchanges) in the period.
    pub deliveries: u64,
    /// Of those, made under an agreement in force and through the platform.
    pub deliveries_authorised: u64,
    /// A few that were not.
    pub unauthorised: Vec<RecordRef>,
}

/// One entry of the open-data catalogue (开放目录).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenCatalogueEntry {
    /// Entry id.
    pub id: String,
    /// Required fields it lacks (`content`, `type`, `method`, `scope`, `safeguards`,
    /// `risks`, `update_frequency`).
    pub missing_fields: Vec<String>,
    /// The data was cleaned and masked before opening.
    pub masked_before_opening: bool,
}

/// Kinds of governance records (治理记录) a department keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GovernanceKind {
    /// 数据安全培训.
    Training,
    /// 应急演练.
    EmergencyDrill,
    /// 灾难恢复演练.
    RecoveryDrill,
    /// 数据安全风险评估.
    RiskAssessment,
    /// 重要数据风险评估.
    ImportantDataAssessment,
    /// 商用密码应用安全性评估 (密评).
    CryptoEvaluation,
    /// 等级保护测评.
    ClassifiedProtectionTest,
    /// 关键信息基础设施检测评估.
    CriticalInfrastructureCheck,
    /// 漏洞扫描与恶意代码检测.
    VulnerabilityScan,
    /// 采集合规性审查.
    CollectionReview,
    /// 数据质量检查.
    QualityCheck,
    /// 自查 (self-inspection report).
    SelfInspection,
    /// 应急预案 (plan adopted or revised).
    EmergencyPlan,
    /// 数据服务调用审计.
    ServiceCallAudit,
    /// 供应链安全审查.
    SupplyChainReview,
}

impl GovernanceKind {
    /// Every kind, in a fixed order.
    pub const ALL: [GovernanceKind; 15] = [
        GovernanceKind::Training,
        GovernanceKind::EmergencyDrill,
        GovernanceKind::RecoveryDrill,
        GovernanceKind::RiskAssessment,
        GovernanceKind::ImportantDataAssessment,
        GovernanceKind::CryptoEvaluation,
        GovernanceKind::ClassifiedProtectionTest,
        GovernanceKind::CriticalInfrastructureCheck,
        GovernanceKind::VulnerabilityScan,
        GovernanceKind::CollectionReview,
        GovernanceKind::QualityCheck,
        GovernanceKind::SelfInspection,
        GovernanceKind::EmergencyPlan,
        GovernanceKind::ServiceCallAudit,
        GovernanceKind::SupplyChainReview,
    ];

    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            GovernanceKind::Training => "training",
            GovernanceKind::EmergencyDrill => "emergency_drill",
            GovernanceKind::RecoveryDrill => "recovery_drill",
            GovernanceKind::RiskAssessment => "risk_assessment",
            GovernanceKind::ImportantDataAssessment => "important_data_assessment",
            GovernanceKind::CryptoEvaluation => "crypto_evaluation",
            GovernanceKind::ClassifiedProtectionTest => "classified_protection_test",
            GovernanceKind::CriticalInfrastructureCheck => "critical_infrastructure_check",
            GovernanceKind::VulnerabilityScan => "vulnerability_scan",
            GovernanceKind::CollectionReview => "collection_review",
            GovernanceKind::QualityCheck => "quality_check",
            GovernanceKind::SelfInspection => "self_inspection",
            GovernanceKind::EmergencyPlan => "emergency_plan",
            GovernanceKind::ServiceCallAudit => "service_call_audit",
            GovernanceKind::SupplyChainReview => "supply_chain_review",
        }
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            GovernanceKind::Training => "数据安全培训",
            GovernanceKind::EmergencyDrill => "应急演练",
            GovernanceKind::RecoveryDrill => "灾难恢复演练",
            GovernanceKind::RiskAssessment => "数据安全风险评估",
            GovernanceKind::ImportantDataAssessment => "重要数据风险评估",
            GovernanceKind::CryptoEvaluation => "密码应用安全性评估",
            GovernanceKind::ClassifiedProtectionTest => "等级保护测评",
            GovernanceKind::CriticalInfrastructureCheck => "关键信息基础设施检测评估",
            GovernanceKind::VulnerabilityScan => "漏洞扫描与恶意代码检测",
            GovernanceKind::CollectionReview => "采集合规性审查",
            GovernanceKind::QualityCheck => "数据质量检查",
            GovernanceKind::SelfInspection => "自查",
            GovernanceKind::EmergencyPlan => "应急预案制定或修订",
            GovernanceKind::ServiceCallAudit => "数据服务调用审计",
            GovernanceKind::SupplyChainReview => "供应链安全审查",
        }
    }

    /// The kind of an id.
    pub fn from_id(id: &str) -> Option<GovernanceKind> {
        GovernanceKind::ALL.into_iter().find(|k| k.id() == id)
    }
}

/// One governance record (a training, drill, assessment …).
#[derive(Debug, Clone, PartialEq)]
pub struct GovernanceRecord {
    /// Record id.
    pub id: String,
    /// Day it took place (or the report's date).
    pub at: Day,
    /// Its effect was evaluated and the evaluation archived (培训效果评定, 演练评估).
    pub evaluated: bool,
    /// Findings it raised that are not yet rectified.
    pub open_findings: u32,
}

/// One data security incident (数据安全事件).
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRecord {
    /// Incident id.
    pub id: String,
    /// Day it was found.
    pub found: Day,
    /// Day it was reported to the data authority, if it was.
    pub reported: Option<Day>,
    /// Day the emergency response ended, if it has.
    pub response_ended: Option<Day>,
    /// Day the supplementary report on its handling was filed, if it was.
    pub supplementary_report: Option<Day>,
}

/// One vendor (供应商, 受托方) working on the department's systems or data.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorRecord {
    /// Vendor id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Qualification review (资格审查) done.
    pub vetted: bool,
    /// A security and confidentiality agreement (安全保密协议) in force.
    pub agreement_in_force: bool,
}

/// One rectification item (整改事项) from an inspection, assessment or drill.
#[derive(Debug, Clone, PartialEq)]
pub struct RectificationItem {
    /// Item id.
    pub id: String,
    /// Day it must be closed by.
    pub due: Day,
    /// Day it was closed, if it was.
    pub closed: Option<Day>,
}

/// One collection (采集) registered for the department.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionRecord {
    /// Collection id.
    pub id: String,
    /// Required fields it lacks (`purpose`, `use`, `channel`, `process`, `content`, `format`).
    pub missing_fields: Vec<String>,
}

/// Temporary data and test copies (临时数据、测试副本) in the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemporaryFacts {
    /// Temporaries created in the period.
    pub created: u64,
    /// Of those, removed.
    pub removed: u64,
    /// A few still held past the allowed days.
    pub overdue: Vec<RecordRef>,
}

/// Provenance (溯源) of derived datasets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineageFacts {
    /// Derived datasets (results of processing, masking, analysis).
    pub derived: u64,
    /// Of those, traced back to their source datasets.
    pub traced: u64,
    /// A few without a trace.
    pub untraced: Vec<RecordRef>,
}

/// A document uploaded as evidence for a manual control.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentRef {
    /// Document id in the platform.
    pub id: String,
    /// Title.
    pub title: String,
    /// Day uploaded.
    pub uploaded: Day,
    /// SM3 digest of the file, hex.
    pub sm3: String,
}

/// A source failed to answer (a store error). The engine stops: a failed lookup is not
/// "no evidence".
#[derive(Debug, thiserror::Error)]
#[error("evidence source failed on {what}: {message}")]
pub struct SourceError {
    /// What was asked.
    pub what: String,
    /// The store's message.
    pub message: String,
}

/// Result of a source lookup: `Ok(None)` when the platform keeps no such records.
pub type Lookup<T> = Result<Option<T>, SourceError>;

/// The facts the evidence queries need, for one department. Implemented by the server
/// over its store and ledger, and by [`crate::MemorySource`] for tests and benches.
pub trait EvidenceSource {
    /// The asset inventory.
    fn inventory(&self, department: &str) -> Lookup<InventoryFacts>;
    /// The important-data catalogue against the graded inventory.
    fn important_data(&self, department: &str) -> Lookup<ImportantDataFacts>;
    /// Encryption at rest of the columns in `scope`.
    fn encryption_at_rest(&self, department: &str, scope: &ColumnScope) -> Lookup<EncryptionFacts>;
    /// The keyring.
    fn keys(&self, department: &str) -> Lookup<Vec<KeyRecord>>;
    /// Data connections.
    fn connections(&self, department: &str) -> Lookup<ConnectionFacts>;
    /// The ledger's aggregates for the period.
    fn ledger(&self, department: &str, period: &Period) -> Lookup<LedgerFacts>;
    /// Operations of a kind in the period and their ledger records.
    fn operations(
        &self,
        department: &str,
        period: &Period,
        kind: OperationKind,
    ) -> Lookup<OperationFacts>;
    /// Accounts with their grants (a department has hundreds, not millions).
    fn accounts(&self, department: &str) -> Lookup<Vec<AccountRecord>>;
    /// Elevations in the period.
    fn elevations(&self, department: &str, period: &Period) -> Lookup<Vec<ElevationRecord>>;
    /// Masking in the period.
    fn masking(&self, department: &str, period: &Period) -> Lookup<MaskingFacts>;
    /// Alerts in the period; "in time" means handled within `handle_within_days`.
    fn alerts(
        &self,
        department: &str,
        period: &Period,
        handle_within_days: u32,
    ) -> Lookup<AlertFacts>;
    /// Backups up to the end of the period.
    fn backups(&self, department: &str, period: &Period) -> Lookup<Vec<BackupRecord>>;
    /// Sharing agreements and deliveries in the period.
    fn sharing(&self, department: &str, period: &Period) -> Lookup<SharingFacts>;
    /// The open-data catalogue.
    fn open_catalogue(&self, department: &str) -> Lookup<Vec<OpenCatalogueEntry>>;
    /// Governance records of a kind, any date up to the end of the period.
    fn governance(&self, department: &str, kind: GovernanceKind) -> Lookup<Vec<GovernanceRecord>>;
    /// Incidents found in the period.
    fn incidents(&self, department: &str, period: &Period) -> Lookup<Vec<IncidentRecord>>;
    /// Vendors.
    fn vendors(&self, department: &str) -> Lookup<Vec<VendorRecord>>;
    /// Rectification items open at any time in the period.
    fn rectifications(&self, department: &str, period: &Period) -> Lookup<Vec<RectificationItem>>;
    /// The collection register.
    fn collections(&self, department: &str) -> Lookup<Vec<CollectionRecord>>;
    /// Temporaries and test copies; "overdue" means held longer than `max_age_days`.
    fn temporaries(
        &self,
        department: &str,
        period: &Period,
        max_age_days: u32,
    ) -> Lookup<TemporaryFacts>;
    /// Provenance of derived datasets.
    fn lineage(&self, department: &str) -> Lookup<LineageFacts>;
    /// Documents uploaded for a manual control in the period.
    fn documents(
        &self,
        department: &str,
        period: &Period,
        control_id: &str,
    ) -> Lookup<Vec<DocumentRef>>;
}
