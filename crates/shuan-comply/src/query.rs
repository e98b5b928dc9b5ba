//! The fixed registry of evidence queries (证据查询). A profile names a query by id and
//! gives its parameters; the loader checks both against this registry, so a typo or a
//! threshold of the wrong type is caught when the profile is loaded, not when a report is
//! due. Each query's status rule is stated here once and printed by `shuan comply list`.

use std::fmt;

use crate::source::{ColumnScope, GovernanceKind, OperationKind};

/// The type of a query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A whole number of days or a count, 1–36500.
    Days,
    /// A whole count, 1–1000.
    Count,
    /// A share between 0.0 and 1.0, written with a decimal point (`1.0`, `0.95`).
    Share,
    /// `true` or `false`.
    Bool,
    /// A string.
    Text,
    /// An array of strings.
    TextList,
    /// One of the ids listed.
    OneOf(&'static [&'static str]),
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamType::Days => f.write_str("a whole number of days (1–36500), e.g. 180"),
            ParamType::Count => f.write_str("a whole count (1–1000), e.g. 1"),
            ParamType::Share => {
                f.write_str("a share from 0.0 to 1.0 with a decimal point, e.g. 1.0")
            }
            ParamType::Bool => f.write_str("true or false"),
            ParamType::Text => f.write_str("a string in quotes"),
            ParamType::TextList => f.write_str("an array of strings, e.g. [\"cn_resident_id\"]"),
            ParamType::OneOf(ids) => write!(f, "one of \"{}\"", ids.join("\", \"")),
        }
    }
}

/// One parameter of a query.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// Name as written in the profile.
    pub name: &'static str,
    /// Its type.
    pub ty: ParamType,
    /// Whether the profile must give it.
    pub required: bool,
    /// What it means, with its default when optional.
    pub meaning: &'static str,
}

/// One query of the registry.
#[derive(Debug, Clone, Copy)]
pub struct QuerySpec {
    /// Stable id, as written in profiles (`evidence = "backup_recent"`).
    pub id: &'static str,
    /// Chinese label.
    pub label: &'static str,
    /// What it looks at and how it decides (English).
    pub rule: &'static str,
    /// Its parameters.
    pub params: &'static [ParamSpec],
}

const fn p(name: &'static str, ty: ParamType, required: bool, meaning: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        required,
        meaning,
    }
}

const OPERATION_IDS: &[&str] = &[
    "scan",
    "masking",
    "sharing",
    "key",
    "backup",
    "destruction",
    "export",
];

const GOVERNANCE_IDS: &[&str] = &[
    "training",
    "emergency_drill",
    "recovery_drill",
    "risk_assessment",
    "important_data_assessment",
    "crypto_evaluation",
    "classified_protection_test",
    "critical_infrastructure_check",
    "vulnerability_scan",
    "collection_review",
    "quality_check",
    "self_inspection",
    "emergency_plan",
    "service_call_audit",
    "supply_chain_review",
];

/// The registry: every query a profile may name.
pub const QUERIES: &[QuerySpec] = &[
    QuerySpec {
        id: "inventory_registered",
        label: "数据资产清单登记及责任人",
        rule: "compliant when datasets are registered and the share with an owner post and a responsible person reaches min_owner_share; partial when some have; non_compliant when none are registered or none has an owner",
        params: &[p("min_owner_share", ParamType::Share, false, "share of datasets with owner and responsible person (default 1.0)")],
    },
    QuerySpec {
        id: "inventory_consistency_checked",
        label: "资产清单一致性检查",
        rule: "compliant when the last consistency check (a completed scan or recorded check) is at most max_age_days before the period's end; non_compliant when older or never",
        params: &[p("max_age_days", ParamType::Days, true, "longest allowed gap since the last check")],
    },
    QuerySpec {
        id: "columns_graded",
        label: "数据分类分级覆盖",
        rule: "compliant when the share of inventory columns with a grade reaches min_share; partial when some are graded; non_compliant when none are or the inventory is empty",
        params: &[p("min_share", ParamType::Share, false, "share of columns graded (default 1.0)")],
    },
    QuerySpec {
        id: "important_data_catalogued",
        label: "重要数据目录",
        rule: "compliant when every dataset graded at a catalogue level (重要数据, 核心数据) is in the important-data catalogue; no_evidence when no dataset is at such a level; non_compliant naming the missing datasets otherwise",
        params: &[],
    },
    QuerySpec {
        id: "encrypted_at_rest",
        label: "敏感数据国密加密存储",
        rule: "compliant when the share of columns in scope stored encrypted (SM4) reaches min_share; partial when some are; non_compliant when none are; no_evidence when no column is in scope. Scope: min_level or data_types, exactly one",
        params: &[
            p("min_level", ParamType::Text, false, "columns at this level of the grading profile or above"),
            p("data_types", ParamType::TextList, false, "columns of these detector data types"),
            p("min_share", ParamType::Share, false, "share encrypted (default 1.0)"),
        ],
    },
    QuerySpec {
        id: "keys_national_and_rotated",
        label: "密钥国密算法及轮换",
        rule: "compliant when every live key uses a national algorithm (SM2/SM3/SM4) and was rotated at most max_rotation_age_days before the period's end; partial when only rotation is overdue; non_compliant when a live key uses another algorithm or no key exists",
        params: &[p("max_rotation_age_days", ParamType::Days, true, "longest allowed key age")],
    },
    QuerySpec {
        id: "connections_encrypted",
        label: "传输通道加密",
        rule: "compliant when the share of registered data connections over TLS reaches min_share; partial when some are; non_compliant when none are; no_evidence when none is registered",
        params: &[p("min_share", ParamType::Share, false, "share encrypted (default 1.0)")],
    },
    QuerySpec {
        id: "audit_log_retained",
        label: "审计日志留存期限",
        rule: "compliant when the oldest retained record is at least min_days before the period's end, or no record was ever removed; non_compliant when records younger than min_days were removed",
        params: &[p("min_days", ParamType::Days, true, "retention in days (网络安全法 第二十一条: 6 months = 180)")],
    },
    QuerySpec {
        id: "audit_log_intact",
        label: "审计日志完整性校验",
        rule: "compliant when the last full verification of the ledger chain passed at most max_verification_age_days before the period's end; partial when it passed earlier; non_compliant when it failed (naming the first bad record) or was never run",
        params: &[p("max_verification_age_days", ParamType::Days, true, "longest allowed gap since the last verification")],
    },
    QuerySpec {
        id: "operations_recorded",
        label: "操作留痕",
        rule: "compliant when every operation of the kind run in the period has its ledger record; non_compliant naming those without; no_evidence when none was run",
        params: &[p("operation", ParamType::OneOf(OPERATION_IDS), true, "the kind of operation")],
    },
    QuerySpec {
        id: "separation_of_duties",
        label: "三员分立",
        rule: "compliant when system administrator, security administrator and auditor are each held by a live account and no account holds two of them; partial when one is unfilled; non_compliant naming accounts that hold two",
        params: &[],
    },
    QuerySpec {
        id: "vendor_no_top_privilege",
        label: "最高管理权限不交供应商",
        rule: "compliant when no vendor account holds a top role (三员, 首席数据官); non_compliant naming those that do",
        params: &[],
    },
    QuerySpec {
        id: "least_privilege_scopes",
        label: "最小权限",
        rule: "compliant when no data role (data user, data steward, vendor operator) holds the 全部 data scope; non_compliant naming the grants that do",
        params: &[],
    },
    QuerySpec {
        id: "elevations_approved",
        label: "超权限处理审批记录",
        rule: "compliant when every elevation in the period was approved by the chief data officer and recorded; non_compliant naming those that were not; no_evidence when there was none",
        params: &[],
    },
    QuerySpec {
        id: "account_hygiene",
        label: "无用账号清理",
        rule: "compliant when no live account has been unused for more than max_idle_days at the period's end; non_compliant naming the idle accounts",
        params: &[p("max_idle_days", ParamType::Days, true, "days without use before an account counts as unused")],
    },
    QuerySpec {
        id: "multi_factor_auth",
        label: "多因素身份鉴别",
        rule: "compliant when the share of live accounts with a second factor reaches min_share; partial when some have; non_compliant when none has",
        params: &[p("min_share", ParamType::Share, false, "share with a second factor (default 1.0)")],
    },
    QuerySpec {
        id: "masking_rules_and_logs",
        label: "脱敏规则及脱敏日志",
        rule: "compliant when masking rule sets exist and every masking job of the period is recorded; partial when rule sets exist and no job ran; non_compliant when there is no rule set or a job is unrecorded",
        params: &[],
    },
    QuerySpec {
        id: "misuse_alerts_handled",
        label: "违规使用监控预警",
        rule: "compliant when alert rules are enabled and every alert of the period was handled within handle_within_days; non_compliant when no rule is enabled or an alert is overdue",
        params: &[p("handle_within_days", ParamType::Days, true, "days allowed to handle an alert")],
    },
    QuerySpec {
        id: "backup_recent",
        label: "备份及有效性检查",
        rule: "compliant when a successful backup is at most max_age_days before the period's end and (if verified_within_days is set) a backup was verified by a test restore within that many days; partial when only the verification is missing; non_compliant otherwise",
        params: &[
            p("max_age_days", ParamType::Days, true, "age of the latest successful backup"),
            p("verified_within_days", ParamType::Days, false, "days within which a test restore must have verified a backup (default: not required)"),
        ],
    },
    QuerySpec {
        id: "sharing_agreements_complete",
        label: "共享协议要素及审核",
        rule: "compliant when every agreement in force states requester, purpose, method, scope, period, scenario and safeguards and was approved before its first delivery; non_compliant naming those that do not; no_evidence when there is none",
        params: &[],
    },
    QuerySpec {
        id: "sharing_deliveries_authorised",
        label: "共享交换经平台并有授权",
        rule: "compliant when every delivery of the period went through the platform under an agreement in force; non_compliant naming those that did not; no_evidence when there was none",
        params: &[],
    },
    QuerySpec {
        id: "open_catalogue_complete",
        label: "开放数据目录",
        rule: "compliant when every open-data catalogue entry has all its fields and its data was masked before opening; non_compliant naming entries that do not; no_evidence when the catalogue is empty",
        params: &[],
    },
    QuerySpec {
        id: "governance_record_recent",
        label: "治理记录（培训、演练、评估等）",
        rule: "compliant when at least min_count records of the kind fall within within_days before the period's end (evaluated and with findings closed when required); partial when fewer, or when evaluation or closure is missing; non_compliant when there is none in the window",
        params: &[
            p("record", ParamType::OneOf(GOVERNANCE_IDS), true, "the kind of record"),
            p("within_days", ParamType::Days, true, "window before the period's end (365 = yearly)"),
            p("min_count", ParamType::Count, false, "records needed in the window (default 1)"),
            p("require_evaluation", ParamType::Bool, false, "each record must carry its evaluation (default false)"),
            p("require_findings_closed", ParamType::Bool, false, "findings must be rectified (default false)"),
        ],
    },
    QuerySpec {
        id: "incidents_reported",
        label: "安全事件报告",
        rule: "compliant when every incident of the period was reported and (if supplementary_within_days is set) its supplementary report filed within that many days after the response ended; non_compliant naming those that were not; no_evidence when there was none",
        params: &[p("supplementary_within_days", ParamType::Days, false, "days after the response ends for the supplementary report (信阳 第三十六条: 15)")],
    },
    QuerySpec {
        id: "vendors_bound",
        label: "供应商安全保密协议",
        rule: "compliant when every vendor has a security and confidentiality agreement in force (and was vetted, if require_vetting); non_compliant naming those without; no_evidence when there is no vendor",
        params: &[p("require_vetting", ParamType::Bool, false, "a qualification review is required (default false)")],
    },
    QuerySpec {
        id: "rectification_on_time",
        label: "整改按期完成",
        rule: "compliant when every rectification item due by the period's end was closed by its due day; non_compliant naming overdue items; no_evidence when there was none",
        params: &[],
    },
    QuerySpec {
        id: "collection_register_complete",
        label: "采集登记要素",
        rule: "compliant when every registered collection states purpose, use, channel, process, content and format; non_compliant naming those that do not; no_evidence when none is registered",
        params: &[],
    },
    QuerySpec {
        id: "temporary_data_removed",
        label: "临时数据及测试副本清除",
        rule: "compliant when no temporary or test copy is held longer than max_age_days; non_compliant naming those that are; no_evidence when none was created",
        params: &[p("max_age_days", ParamType::Days, true, "longest a temporary may live")],
    },
    QuerySpec {
        id: "lineage_recorded",
        label: "数据溯源",
        rule: "compliant when the share of derived datasets traced to their sources reaches min_share; partial when some are; non_compliant when none is; no_evidence when there is no derived dataset",
        params: &[p("min_share", ParamType::Share, false, "share traced (default 1.0)")],
    },
];

/// The spec of a query id.
pub fn query_spec(id: &str) -> Option<&'static QuerySpec> {
    QUERIES.iter().find(|q| q.id == id)
}

/// A query with its parameters checked and typed.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // the variants are the registry's entries, documented there
pub enum EvidenceQuery {
    InventoryRegistered {
        min_owner_share: f64,
    },
    InventoryConsistencyChecked {
        max_age_days: u32,
    },
    ColumnsGraded {
        min_share: f64,
    },
    ImportantDataCatalogued,
    EncryptedAtRest {
        scope: ColumnScope,
        min_share: f64,
    },
    KeysNationalAndRotated {
        max_rotation_age_days: u32,
    },
    ConnectionsEncrypted {
        min_share: f64,
    },
    AuditLogRetained {
        min_days: u32,
    },
    AuditLogIntact {
        max_verification_age_days: u32,
    },
    OperationsRecorded {
        operation: OperationKind,
    },
    SeparationOfDuties,
    VendorNoTopPrivilege,
    LeastPrivilegeScopes,
    ElevationsApproved,
    AccountHygiene {
        max_idle_days: u32,
    },
    MultiFactorAuth {
        min_share: f64,
    },
    MaskingRulesAndLogs,
    MisuseAlertsHandled {
        handle_within_days: u32,
    },
    BackupRecent {
        max_age_days: u32,
        verified_within_days: Option<u32>,
    },
    SharingAgreementsComplete,
    SharingDeliveriesAuthorised,
    OpenCatalogueComplete,
    GovernanceRecordRecent {
        record: GovernanceKind,
        within_days: u32,
        min_count: u32,
        require_evaluation: bool,
        require_findings_closed: bool,
    },
    IncidentsReported {
        supplementary_within_days: Option<u32>,
    },
    VendorsBound {
        require_vetting: bool,
    },
    RectificationOnTime,
    CollectionRegisterComplete,
    TemporaryDataRemoved {
        max_age_days: u32,
    },
    LineageRecorded {
        min_share: f64,
    },
}

/// Why a query reference in a profile is wrong. The profile loader adds the file and the
/// control.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// No such query in the registry.
    #[error("evidence query '{id}' does not exist; known queries: {known}")]
    Unknown {
        /// The id written.
        id: String,
        /// The registry's ids.
        known: String,
    },
    /// A parameter the query does not take.
    #[error("query '{query}' takes no parameter '{param}'; its parameters: {allowed}")]
    UnknownParam {
        /// The query.
        query: String,
        /// The parameter written.
        param: String,
        /// What it takes.
        allowed: String,
    },
    /// A required parameter not given.
    #[error(
        "query '{query}' needs parameter '{param}' ({expected}): add it under [controls.params]"
    )]
    MissingParam {
        /// The query.
        query: String,
        /// The parameter.
        param: String,
        /// Its type.
        expected: String,
    },
    /// A parameter of the wrong type or out of range.
    #[error("query '{query}': parameter '{param}' = {found} is not {expected}")]
    BadParam {
        /// The query.
        query: String,
        /// The parameter.
        param: String,
        /// What was written.
        found: String,
        /// What is allowed.
        expected: String,
    },
    /// Parameters that exclude each other or must come together.
    #[error("query '{query}': {message}")]
    Conflict {
        /// The query.
        query: String,
        /// What is wrong and what to write.
        message: String,
    },
}

/// Parameters as written in a profile.
pub type Params = toml::Table;

struct Checked<'a> {
    spec: &'static QuerySpec,
    params: &'a Params,
}

impl Checked<'_> {
    fn bad(&self, name: &str, ty: ParamType, v: &toml::Value) -> QueryError {
        QueryError::BadParam {
            query: self.spec.id.to_string(),
            param: name.to_string(),
            found: v.to_string(),
            expected: ty.to_string(),
        }
    }

    fn days(&self, name: &str) -> Result<Option<u32>, QueryError> {
        self.int(name, ParamType::Days, 1, 36_500)
    }

    fn count(&self, name: &str) -> Result<Option<u32>, QueryError> {
        self.int(name, ParamType::Count, 1, 1000)
    }

    fn int(&self, name: &str, ty: ParamType, lo: i64, hi: i64) -> Result<Option<u32>, QueryError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(v @ toml::Value::Integer(i)) => {
                if (lo..=hi).contains(i) {
                    Ok(Some(*i as u32))
                } else {
                    Err(self.bad(name, ty, v))
                }
            }
            Some(v) => Err(self.bad(name, ty, v)),
        }
    }

    fn share(&self, name: &str) -> Result<Option<f64>, QueryError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(v @ toml::Value::Float(f)) => {
                if (0.0..=1.0).contains(f) {
                    Ok(Some(*f))
                } else {
                    Err(self.bad(name, ParamType::Share, v))
                }
            }
            Some(v) => Err(self.bad(name, ParamType::Share, v)),
        }
    }

    fn flag(&self, name: &str) -> Result<Option<bool>, QueryError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
            Some(v) => Err(self.bad(name, ParamType::Bool, v)),
        }
    }

    fn text(&self, name: &str) -> Result<Option<String>, QueryError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
            Some(v) => Err(self.bad(name, ParamType::Text, v)),
        }
    }

    fn text_list(&self, name: &str) -> Result<Option<Vec<String>>, QueryError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(v @ toml::Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        toml::Value::String(s) if !s.trim().is_empty() => out.push(s.clone()),
                        _ => return Err(self.bad(name, ParamType::TextList, v)),
                    }
                }
                if out.is_empty() {
                    return Err(self.bad(name, ParamType::TextList, v));
                }
                Ok(Some(out))
            }
            Some(v) => Err(self.bad(name, ParamType::TextList, v)),
        }
    }

    fn one_of(&self, name: &str) -> Result<Option<String>, QueryError> {
        let ty = self
            .spec
            .params
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.ty)
            .unwrap_or(ParamType::Text);
        match self.params.get(name) {
            None => Ok(None),
            Some(v @ toml::Value::String(s)) => match ty {
                ParamType::OneOf(ids) if ids.contains(&s.as_str()) => Ok(Some(s.clone())),
                _ => Err(self.bad(name, ty, v)),
            },
            Some(v) => Err(self.bad(name, ty, v)),
        }
    }

    fn required<T>(&self, name: &str, v: Option<T>) -> Result<T, QueryError> {
        v.ok_or_else(|| {
            let expected = self
                .spec
                .params
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.ty.to_string())
                .unwrap_or_default();
            QueryError::MissingParam {
                query: self.spec.id.to_string(),
                param: name.to_string(),
                expected,
            }
        })
    }
}

impl EvidenceQuery {
    /// Checks a query id and its parameters against the registry.
    pub fn parse(id: &str, params: &Params) -> Result<EvidenceQuery, QueryError> {
        let spec = query_spec(id).ok_or_else(|| QueryError::Unknown {
            id: id.to_string(),
            known: QUERIES.iter().map(|q| q.id).collect::<Vec<_>>().join(", "),
        })?;
        for name in params.keys() {
            if !spec.params.iter().any(|s| s.name == name) {
                let allowed = if spec.params.is_empty() {
                    "none".to_string()
                } else {
                    spec.params
                        .iter()
                        .map(|s| s.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                return Err(QueryError::UnknownParam {
                    query: id.to_string(),
                    param: name.clone(),
                    allowed,
                });
            }
        }
        let c = Checked { spec, params };
        // Every parameter is type-checked, including optional ones the variant reads later.
        for s in spec.params {
            match s.ty {
                ParamType::Days => c.days(s.name).map(|_| ())?,
                ParamType::Count => c.count(s.name).map(|_| ())?,
                ParamType::Share => c.share(s.name).map(|_| ())?,
                ParamType::Bool => c.flag(s.name).map(|_| ())?,
                ParamType::Text => c.text(s.name).map(|_| ())?,
                ParamType::TextList => c.text_list(s.name).map(|_| ())?,
                ParamType::OneOf(_) => c.one_of(s.name).map(|_| ())?,
            }
            if s.required && !params.contains_key(s.name) {
                return Err(c.required::<()>(s.name, None).unwrap_err());
            }
        }
        let share = |name: &str| -> Result<f64, QueryError> { Ok(c.share(name)?.unwrap_or(1.0)) };
        let days = |name: &str| -> Result<u32, QueryError> { c.required(name, c.days(name)?) };
        Ok(match id {
            "inventory_registered" => EvidenceQuery::InventoryRegistered {
                min_owner_share: share("min_owner_share")?,
            },
            "inventory_consistency_checked" => EvidenceQuery::InventoryConsistencyChecked {
                max_age_days: days("max_age_days")?,
            },
            "columns_graded" => EvidenceQuery::ColumnsGraded {
                min_share: share("min_share")?,
            },
            "important_data_catalogued" => EvidenceQuery::ImportantDataCatalogued,
            "encrypted_at_rest" => {
                let scope = match (c.text("min_level")?, c.text_list("data_types")?) {
                    (Some(level), None) => ColumnScope::AtOrAboveLevel(level),
                    (None, Some(types)) => ColumnScope::DataTypes(types),
                    _ => {
                        return Err(QueryError::Conflict {
                            query: id.to_string(),
                            message: "give exactly one of min_level (a level name, e.g. \"一般数据4级\") or data_types (detector ids, e.g. [\"cn_resident_id\"])".to_string(),
                        })
                    }
                };
                EvidenceQuery::EncryptedAtRest {
                    scope,
                    min_share: share("min_share")?,
                }
            }
            "keys_national_and_rotated" => EvidenceQuery::KeysNationalAndRotated {
                max_rotation_age_days: days("max_rotation_age_days")?,
            },
            "connections_encrypted" => EvidenceQuery::ConnectionsEncrypted {
                min_share: share("min_share")?,
            },
            "audit_log_retained" => EvidenceQuery::AuditLogRetained {
                min_days: days("min_days")?,
            },
            "audit_log_intact" => EvidenceQuery::AuditLogIntact {
                max_verification_age_days: days("max_verification_age_days")?,
            },
            "operations_recorded" => {
                let op = c.required("operation", c.one_of("operation")?)?;
                EvidenceQuery::OperationsRecorded {
                    operation: OperationKind::from_id(&op).expect("checked against OPERATION_IDS"),
                }
            }
            "separation_of_duties" => EvidenceQuery::SeparationOfDuties,
            "vendor_no_top_privilege" => EvidenceQuery::VendorNoTopPrivilege,
            "least_privilege_scopes" => EvidenceQuery::LeastPrivilegeScopes,
            "elevations_approved" => EvidenceQuery::ElevationsApproved,
            "account_hygiene" => EvidenceQuery::AccountHygiene {
                max_idle_days: days("max_idle_days")?,
            },
            "multi_factor_auth" => EvidenceQuery::MultiFactorAuth {
                min_share: share("min_share")?,
            },
            "masking_rules_and_logs" => EvidenceQuery::MaskingRulesAndLogs,
            "misuse_alerts_handled" => EvidenceQuery::MisuseAlertsHandled {
                handle_within_days: days("handle_within_days")?,
            },
            "backup_recent" => EvidenceQuery::BackupRecent {
                max_age_days: days("max_age_days")?,
                verified_within_days: c.days("verified_within_days")?,
            },
            "sharing_agreements_complete" => EvidenceQuery::SharingAgreementsComplete,
            "sharing_deliveries_authorised" => EvidenceQuery::SharingDeliveriesAuthorised,
            "open_catalogue_complete" => EvidenceQuery::OpenCatalogueComplete,
            "governance_record_recent" => {
                let record = c.required("record", c.one_of("record")?)?;
                EvidenceQuery::GovernanceRecordRecent {
                    record: GovernanceKind::from_id(&record)
                        .expect("checked against GOVERNANCE_IDS"),
                    within_days: days("within_days")?,
                    min_count: c.count("min_count")?.unwrap_or(1),
                    require_evaluation: c.flag("require_evaluation")?.unwrap_or(false),
                    require_findings_closed: c.flag("require_findings_closed")?.unwrap_or(false),
                }
            }
            "incidents_reported" => EvidenceQuery::IncidentsReported {
                supplementary_within_days: c.days("supplementary_within_days")?,
            },
            "vendors_bound" => EvidenceQuery::VendorsBound {
                require_vetting: c.flag("require_vetting")?.unwrap_or(false),
            },
            "rectification_on_time" => EvidenceQuery::RectificationOnTime,
            "collection_register_complete" => EvidenceQuery::CollectionRegisterComplete,
            "temporary_data_removed" => EvidenceQuery::TemporaryDataRemoved {
                max_age_days: days("max_age_days")?,
            },
            "lineage_recorded" => EvidenceQuery::LineageRecorded {
                min_share: share("min_share")?,
            },
            other => unreachable!("query '{other}' is in QUERIES but not parsed"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_query_parses_with_its_required_params() {
        for spec in QUERIES {
            let mut params = Params::new();
            for s in spec.params.iter().filter(|s| s.required) {
                let v = match s.ty {
                    ParamType::Days => toml::Value::Integer(30),
                    ParamType::Count => toml::Value::Integer(1),
                    ParamType::Share => toml::Value::Float(1.0),
                    ParamType::Bool => toml::Value::Boolean(true),
                    ParamType::Text => toml::Value::String("x".into()),
                    ParamType::TextList => toml::Value::Array(vec!["x".into()]),
                    ParamType::OneOf(ids) => toml::Value::String(ids[0].into()),
                };
                params.insert(s.name.to_string(), v);
            }
            if spec.id == "encrypted_at_rest" {
                params.insert("min_level".into(), "一般数据4级".into());
            }
            EvidenceQuery::parse(spec.id, &params).unwrap_or_else(|e| panic!("{}: {e}", spec.id));
        }
    }

    #[test]
    fn ids_are_unique_and_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for q in QUERIES {
            assert!(seen.insert(q.id), "duplicate {}", q.id);
            assert!(q.id.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }
}
