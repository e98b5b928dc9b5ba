//! The evidence engine: evaluates each control of a profile for one department and one
//! period, from the facts an [`EvidenceSource`] gives, into a status with its evidence and
//! its reason. It never guesses: a source with no such records gives 无证据; a source that
//! fails stops the evaluation with an error naming the control.

use serde::Serialize;
use shuan_access::{DataScope, Role};

use crate::profile::{Control, ControlKind, Profile};
use crate::query::EvidenceQuery;
use crate::source::{
    format_day, ColumnScope, Day, EvidenceSource, GovernanceKind, Lookup, Period, RecordRef,
    SourceError,
};

/// At most this many records are cited per control (the facts carry the counts).
pub const MAX_CITED: usize = 20;

/// The status of a control for a department and period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 符合.
    Compliant,
    /// 部分符合.
    Partial,
    /// 不符合.
    NonCompliant,
    /// 无证据: the platform keeps no records that could show it, or there was nothing to
    /// check in the period.
    NoEvidence,
    /// 人工: a person judges, from uploaded documents.
    Manual,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 5] = [
        Status::Compliant,
        Status::Partial,
        Status::NonCompliant,
        Status::NoEvidence,
        Status::Manual,
    ];

    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            Status::Compliant => "compliant",
            Status::Partial => "partial",
            Status::NonCompliant => "non_compliant",
            Status::NoEvidence => "no_evidence",
            Status::Manual => "manual",
        }
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Status::Compliant => "符合",
            Status::Partial => "部分符合",
            Status::NonCompliant => "不符合",
            Status::NoEvidence => "无证据",
            Status::Manual => "人工",
        }
    }
}

/// A figure the status rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    /// Stable snake_case key (`datasets`, `oldest_retained`).
    pub key: &'static str,
    /// Chinese label.
    pub label: &'static str,
    /// The value, as printed (counts as digits, days as `YYYY-MM-DD`, shares as `95.0%`).
    pub value: String,
}

/// The evaluation of one control.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlResult {
    /// The control's id.
    pub control_id: String,
    /// Its article (regulations).
    pub article: Option<u32>,
    /// Its clause (baselines).
    pub clause: Option<String>,
    /// The evidence query's id, for evidence controls.
    pub evidence_query: Option<String>,
    /// The status.
    pub status: Status,
    /// Figures.
    pub facts: Vec<Fact>,
    /// Records cited: for 不符合, the offending ones; for 人工, the uploaded documents.
    pub records: Vec<RecordRef>,
    /// Why, in Chinese.
    pub reason: String,
}

/// The evaluation of a profile for a department and a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The profile's id.
    pub profile: String,
    /// The department.
    pub department: String,
    /// The period.
    pub period: Period,
    /// One result per evidence or manual control, in profile order (no_requirement
    /// entries are coverage, not findings, and are not evaluated).
    pub results: Vec<ControlResult>,
}

impl Evaluation {
    /// Number of results per status, in [`Status::ALL`] order.
    pub fn summary(&self) -> [(Status, usize); 5] {
        Status::ALL.map(|s| (s, self.results.iter().filter(|r| r.status == s).count()))
    }

    /// The result of a control.
    pub fn result(&self, control_id: &str) -> Option<&ControlResult> {
        self.results.iter().find(|r| r.control_id == control_id)
    }
}

/// An evaluation that could not finish.
#[derive(Debug, thiserror::Error)]
#[error("evaluating control '{control}' for department {department}: {source}")]
pub struct EngineError {
    /// The control being evaluated.
    pub control: String,
    /// The department.
    pub department: String,
    /// The source's failure.
    pub source: SourceError,
}

/// Evaluates every evidence and manual control of `profile`.
pub fn evaluate(
    profile: &Profile,
    source: &dyn EvidenceSource,
    department: &str,
    period: &Period,
) -> Result<Evaluation, EngineError> {
    let mut results = Vec::with_capacity(profile.controls.len());
    for control in &profile.controls {
        if control.kind == ControlKind::NoRequirement {
            continue;
        }
        let outcome = evaluate_control(control, source, department, period).map_err(|source| {
            EngineError {
                control: control.id.clone(),
                department: department.to_string(),
                source,
            }
        })?;
        results.push(ControlResult {
            control_id: control.id.clone(),
            article: control.article,
            clause: control.clause.clone(),
            evidence_query: control.evidence_id.clone(),
            status: outcome.status,
            facts: outcome.facts,
            records: outcome.records,
            reason: outcome.reason,
        });
    }
    Ok(Evaluation {
        profile: profile.id.clone(),
        department: department.to_string(),
        period: *period,
        results,
    })
}

struct Outcome {
    status: Status,
    facts: Vec<Fact>,
    records: Vec<RecordRef>,
    reason: String,
}

impl Outcome {
    fn new(status: Status, reason: impl Into<String>) -> Outcome {
        Outcome {
            status,
            facts: Vec::new(),
            records: Vec::new(),
            reason: reason.into(),
        }
    }

    fn fact(mut self, key: &'static str, label: &'static str, value: impl ToString) -> Outcome {
        self.facts.push(Fact {
            key,
            label,
            value: value.to_string(),
        });
        self
    }

    fn cite(mut self, records: impl IntoIterator<Item = RecordRef>) -> Outcome {
        self.records.extend(
            records
                .into_iter()
                .take(MAX_CITED.saturating_sub(self.records.len())),
        );
        self
    }
}

const NOT_KEPT: &str = "平台未保存此类记录，无法提供证据";

fn no_records(what: &str) -> Outcome {
    Outcome::new(Status::NoEvidence, format!("{NOT_KEPT}（{what}）"))
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "—".to_string();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// Compliant at or above `min`, partial above zero, non-compliant at zero.
fn share_status(part: u64, whole: u64, min: f64) -> Status {
    if whole == 0 || part == 0 {
        Status::NonCompliant
    } else if part as f64 >= min * whole as f64 {
        Status::Compliant
    } else {
        Status::Partial
    }
}

fn within(at: Day, end: Day, days: u32) -> bool {
    at <= end && end.saturating_sub(at) <= i64::from(days)
}

fn live(
    accounts: &[crate::source::AccountRecord],
) -> impl Iterator<Item = &crate::source::AccountRecord> {
    accounts.iter().filter(|a| !a.disabled)
}

fn lookup<T>(
    l: Lookup<T>,
    what: &str,
    f: impl FnOnce(T) -> Outcome,
) -> Result<Outcome, SourceError> {
    Ok(match l? {
        None => no_records(what),
        Some(v) => f(v),
    })
}

fn evaluate_control(
    control: &Control,
    src: &dyn EvidenceSource,
    dept: &str,
    period: &Period,
) -> Result<Outcome, SourceError> {
    if control.kind == ControlKind::Manual {
        let doc = control.document.as_deref().unwrap_or("证明文件");
        return Ok(match src.documents(dept, period, &control.id)? {
            None => Outcome::new(
                Status::Manual,
                format!("需人工核查；平台未保存上传文件，请提供《{doc}》"),
            ),
            Some(docs) if docs.is_empty() => Outcome::new(
                Status::Manual,
                format!("需人工核查；本期尚未上传《{doc}》"),
            )
            .fact("documents", "已上传文件", 0),
            Some(docs) => {
                let n = docs.len();
                Outcome::new(
                    Status::Manual,
                    format!("需人工核查；已上传 {n} 份文件，由核查人员判断是否满足要求"),
                )
                .fact("documents", "已上传文件", n)
                .cite(docs.into_iter().map(|d| {
                    RecordRef::new(
                        "document",
                        d.id,
                        format!(
                            "{}（{}上传，SM3 {}）",
                            d.title,
                            format_day(d.uploaded),
                            d.sm3
                        ),
                    )
                }))
            }
        });
    }
    let Some(query) = &control.evidence else {
        return Ok(Outcome::new(Status::NoEvidence, "控制项未配置证据查询"));
    };
    let end = period.end;
    match query {
        EvidenceQuery::InventoryRegistered { min_owner_share } => {
            lookup(src.inventory(dept), "数据资产清单", |inv| {
                let status = share_status(inv.datasets_with_owner, inv.datasets, *min_owner_share);
                let reason = if inv.datasets == 0 {
                    "数据资产清单为空：未登记任何数据集".to_string()
                } else if status == Status::Compliant {
                    format!("已登记 {} 个数据集，均明确责任岗位与责任人", inv.datasets)
                } else {
                    format!(
                        "已登记 {} 个数据集，其中 {} 个未明确责任岗位或责任人",
                        inv.datasets,
                        inv.datasets - inv.datasets_with_owner
                    )
                };
                Outcome::new(status, reason)
                    .fact("datasets", "登记数据集", inv.datasets)
                    .fact(
                        "datasets_with_owner",
                        "明确责任人的数据集",
                        inv.datasets_with_owner,
                    )
                    .fact(
                        "owner_share",
                        "责任人覆盖率",
                        pct(inv.datasets_with_owner, inv.datasets),
                    )
                    .cite(inv.datasets_without_owner)
            })
        }
        EvidenceQuery::InventoryConsistencyChecked { max_age_days } => {
            lookup(src.inventory(dept), "数据资产清单", |inv| {
                match inv.last_consistency_check {
                    None => Outcome::new(Status::NonCompliant, "从未对数据资产清单进行一致性检查"),
                    Some(d) if within(d, end, *max_age_days) => Outcome::new(
                        Status::Compliant,
                        format!(
                            "最近一次一致性检查于 {}，在 {max_age_days} 天内",
                            format_day(d)
                        ),
                    )
                    .fact("last_check", "最近一次检查", format_day(d)),
                    Some(d) => Outcome::new(
                        Status::NonCompliant,
                        format!(
                            "最近一次一致性检查于 {}，距期末已超过 {max_age_days} 天",
                            format_day(d)
                        ),
                    )
                    .fact("last_check", "最近一次检查", format_day(d)),
                }
            })
        }
        EvidenceQuery::ColumnsGraded { min_share } => {
            lookup(src.inventory(dept), "数据资产清单", |inv| {
                let status = share_status(inv.columns_graded, inv.columns, *min_share);
                let reason = if inv.columns == 0 {
                    "清单中没有字段，无法分级".to_string()
                } else {
                    format!(
                        "{} 个字段中 {} 个已分级（{}），要求不低于 {:.0}%",
                        inv.columns,
                        inv.columns_graded,
                        pct(inv.columns_graded, inv.columns),
                        min_share * 100.0
                    )
                };
                let mut o = Outcome::new(status, reason)
                    .fact("columns", "字段", inv.columns)
                    .fact("columns_graded", "已分级字段", inv.columns_graded);
                for (level, n) in &inv.columns_by_level {
                    o.facts.push(Fact {
                        key: "columns_at_level",
                        label: "各级字段",
                        value: format!("{level}: {n}"),
                    });
                }
                o.cite(inv.ungraded_columns)
            })
        }
        EvidenceQuery::ImportantDataCatalogued => {
            lookup(src.important_data(dept), "重要数据目录", |f| {
                if f.datasets_at_catalogue_levels == 0 {
                    return Outcome::new(
                        Status::NoEvidence,
                        "本部门无定级为重要数据或核心数据的数据集，无可核查对象",
                    );
                }
                let missing = f.datasets_at_catalogue_levels.saturating_sub(f.catalogued);
                let status = if missing == 0 {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if missing == 0 {
                    format!(
                        "{} 个重要/核心数据集均已列入重要数据目录",
                        f.datasets_at_catalogue_levels
                    )
                } else {
                    format!("{missing} 个重要/核心数据集未列入重要数据目录")
                };
                Outcome::new(status, reason)
                    .fact(
                        "datasets_at_catalogue_levels",
                        "重要/核心数据集",
                        f.datasets_at_catalogue_levels,
                    )
                    .fact("catalogued", "已列入目录", f.catalogued)
                    .cite(f.uncatalogued)
            })
        }
        EvidenceQuery::EncryptedAtRest { scope, min_share } => {
            let scope_text = match scope {
                ColumnScope::AtOrAboveLevel(l) => format!("{l}及以上字段"),
                ColumnScope::DataTypes(t) => format!("类型为 {} 的字段", t.join("、")),
            };
            lookup(src.encryption_at_rest(dept, scope), "加密存储", |f| {
                if f.columns_in_scope == 0 {
                    return Outcome::new(
                        Status::NoEvidence,
                        format!("清单中没有{scope_text}，无可核查对象"),
                    );
                }
                let status = share_status(f.encrypted, f.columns_in_scope, *min_share);
                Outcome::new(
                    status,
                    format!(
                        "{scope_text}共 {} 个，国密加密存储 {} 个（{}）",
                        f.columns_in_scope,
                        f.encrypted,
                        pct(f.encrypted, f.columns_in_scope)
                    ),
                )
                .fact("columns_in_scope", "范围内字段", f.columns_in_scope)
                .fact("encrypted", "加密存储", f.encrypted)
                .cite(f.unencrypted)
            })
        }
        EvidenceQuery::KeysNationalAndRotated {
            max_rotation_age_days,
        } => lookup(src.keys(dept), "密钥", |keys| {
            let live: Vec<_> = keys.iter().filter(|k| !k.retired).collect();
            if live.is_empty() {
                return Outcome::new(
                    Status::NonCompliant,
                    "本部门没有在用密钥：敏感数据未以国密算法保护",
                );
            }
            let national = |a: &str| {
                let a = a.to_ascii_lowercase();
                a.starts_with("sm2") || a.starts_with("sm3") || a.starts_with("sm4")
            };
            let foreign: Vec<_> = live.iter().filter(|k| !national(&k.algorithm)).collect();
            let stale: Vec<_> = live
                .iter()
                .filter(|k| !within(k.last_rotated, end, *max_rotation_age_days))
                .collect();
            let status = if !foreign.is_empty() {
                Status::NonCompliant
            } else if !stale.is_empty() {
                Status::Partial
            } else {
                Status::Compliant
            };
            let reason = match status {
                Status::Compliant => format!(
                    "{} 个在用密钥均为国密算法，且在 {max_rotation_age_days} 天内轮换",
                    live.len()
                ),
                Status::Partial => format!(
                    "{} 个在用密钥超过 {max_rotation_age_days} 天未轮换",
                    stale.len()
                ),
                _ => format!("{} 个在用密钥使用非国密算法", foreign.len()),
            };
            let cited: Vec<RecordRef> = foreign
                .iter()
                .map(|k| RecordRef::new("key", &k.id, format!("算法 {}", k.algorithm)))
                .chain(stale.iter().map(|k| {
                    RecordRef::new(
                        "key",
                        &k.id,
                        format!("最近轮换 {}", format_day(k.last_rotated)),
                    )
                }))
                .collect();
            Outcome::new(status, reason)
                .fact("live_keys", "在用密钥", live.len())
                .fact("non_national", "非国密算法", foreign.len())
                .fact("overdue_rotation", "逾期未轮换", stale.len())
                .cite(cited)
        }),
        EvidenceQuery::ConnectionsEncrypted { min_share } => {
            lookup(src.connections(dept), "数据连接", |f| {
                if f.connections == 0 {
                    return Outcome::new(Status::NoEvidence, "本部门未登记数据连接，无可核查对象");
                }
                Outcome::new(
                    share_status(f.encrypted, f.connections, *min_share),
                    format!(
                        "{} 个数据连接中 {} 个使用加密通道（{}）",
                        f.connections,
                        f.encrypted,
                        pct(f.encrypted, f.connections)
                    ),
                )
                .fact("connections", "数据连接", f.connections)
                .fact("encrypted", "加密通道", f.encrypted)
                .cite(f.in_clear)
            })
        }
        EvidenceQuery::AuditLogRetained { min_days } => {
            lookup(src.ledger(dept, period), "审计账本", |f| {
                let Some(oldest) = f.oldest_retained else {
                    return Outcome::new(Status::NoEvidence, "账本中没有本部门的记录");
                };
                let base = Outcome::new(Status::Compliant, String::new())
                    .fact("oldest_retained", "最早保留记录", format_day(oldest))
                    .fact("records_in_period", "本期记录", f.records_in_period);
                if f.complete_from_genesis {
                    Outcome {
                        reason: format!("自 {} 起的记录完整保留，从未删除", format_day(oldest)),
                        ..base
                    }
                } else if end.saturating_sub(oldest) >= i64::from(*min_days) {
                    Outcome {
                        reason: format!(
                            "最早保留记录为 {}，保留期不少于 {min_days} 天",
                            format_day(oldest)
                        ),
                        ..base
                    }
                } else {
                    Outcome {
                        status: Status::NonCompliant,
                        reason: format!(
                            "早于 {} 的记录已被删除，保留期仅 {} 天，不足 {min_days} 天",
                            format_day(oldest),
                            end.saturating_sub(oldest)
                        ),
                        ..base
                    }
                }
            })
        }
        EvidenceQuery::AuditLogIntact {
            max_verification_age_days,
        } => {
            lookup(src.ledger(dept, period), "审计账本", |f| {
                let o = Outcome::new(Status::Compliant, String::new()).fact(
                    "records_in_period",
                    "本期记录",
                    f.records_in_period,
                );
                match f.last_verification {
                    None => Outcome {
                        status: Status::NonCompliant,
                        reason: "账本从未进行完整性校验".to_string(),
                        ..o
                    },
                    Some(v) => {
                        let o = o.fact("verified_at", "最近校验", format_day(v.at)).fact(
                            "records_checked",
                            "校验记录数",
                            v.records_checked,
                        );
                        if let Some(bad) = v.first_bad {
                            Outcome {
                                status: Status::NonCompliant,
                                reason: format!(
                                    "{} 的校验未通过：记录 {} 被改动或缺失",
                                    format_day(v.at),
                                    bad.id
                                ),
                                ..o
                            }
                            .cite([bad])
                        } else if within(v.at, end, *max_verification_age_days) {
                            Outcome {
                                reason: format!(
                                    "{} 校验 {} 条记录，链与签名完整",
                                    format_day(v.at),
                                    v.records_checked
                                ),
                                ..o
                            }
                        } else {
                            Outcome {
                            status: Status::Partial,
                            reason: format!("最近一次校验（{}，通过）距期末超过 {max_verification_age_days} 天", format_day(v.at)),
                            ..o
                        }
                        }
                    }
                }
            })
        }
        EvidenceQuery::OperationsRecorded { operation } => lookup(
            src.operations(dept, period, *operation),
            operation.label(),
            |f| {
                if f.run == 0 {
                    return Outcome::new(
                        Status::NoEvidence,
                        format!("本期无{}操作，无可核查对象", operation.label()),
                    );
                }
                let missing = f.run.saturating_sub(f.recorded);
                let status = if missing == 0 {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if missing == 0 {
                    format!("本期 {} 次{}操作均有账本记录", f.run, operation.label())
                } else {
                    format!(
                        "本期 {} 次{}操作中 {missing} 次没有账本记录",
                        f.run,
                        operation.label()
                    )
                };
                Outcome::new(status, reason)
                    .fact("run", "操作次数", f.run)
                    .fact("recorded", "有记录", f.recorded)
                    .cite(f.unrecorded)
            },
        ),
        EvidenceQuery::SeparationOfDuties => {
            lookup(src.accounts(dept), "账号与授权", |accounts| {
                let holders = |role: Role| {
                    live(&accounts)
                        .filter(|a| a.grants.iter().any(|g| g.role == role))
                        .count()
                };
                let counts = [Role::SystemAdmin, Role::SecurityAdmin, Role::Auditor]
                    .map(|r| (r, holders(r)));
                let conflicts: Vec<RecordRef> = live(&accounts)
                    .filter_map(|a| {
                        let mut roles: Vec<Role> = a
                            .grants
                            .iter()
                            .map(|g| g.role)
                            .filter(|r| r.is_three_admin())
                            .collect();
                        roles.sort();
                        roles.dedup();
                        (roles.len() > 1).then(|| {
                            RecordRef::new(
                                "account",
                                &a.id,
                                roles
                                    .iter()
                                    .map(|r| r.label())
                                    .collect::<Vec<_>>()
                                    .join("、"),
                            )
                        })
                    })
                    .collect();
                let unfilled: Vec<&str> = counts
                    .iter()
                    .filter(|(_, n)| *n == 0)
                    .map(|(r, _)| r.label())
                    .collect();
                let (status, reason) = if !conflicts.is_empty() {
                    (
                        Status::NonCompliant,
                        format!("{} 个账号同时持有两种及以上三员角色", conflicts.len()),
                    )
                } else if !unfilled.is_empty() {
                    (
                        Status::Partial,
                        format!("三员互斥，但未设置：{}", unfilled.join("、")),
                    )
                } else {
                    (
                        Status::Compliant,
                        "系统管理员、安全管理员、安全审计员均已设置且由不同账号担任".to_string(),
                    )
                };
                let mut o = Outcome::new(status, reason);
                for (r, n) in counts {
                    o.facts.push(Fact {
                        key: r.id(),
                        label: r.label(),
                        value: n.to_string(),
                    });
                }
                o.cite(conflicts)
            })
        }
        EvidenceQuery::VendorNoTopPrivilege => {
            lookup(src.accounts(dept), "账号与授权", |accounts| {
                let vendors = live(&accounts).filter(|a| a.vendor).count();
                let bad: Vec<RecordRef> = live(&accounts)
                    .filter(|a| a.vendor)
                    .filter_map(|a| {
                        let top: Vec<&str> = a
                            .grants
                            .iter()
                            .filter(|g| g.role.is_top_privilege())
                            .map(|g| g.role.label())
                            .collect();
                        (!top.is_empty()).then(|| {
                            RecordRef::new(
                                "account",
                                &a.id,
                                format!("供应商账号持有{}", top.join("、")),
                            )
                        })
                    })
                    .collect();
                let status = if bad.is_empty() {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if bad.is_empty() {
                    format!("{vendors} 个供应商账号均未持有最高管理权限")
                } else {
                    format!("{} 个供应商账号持有最高管理权限", bad.len())
                };
                Outcome::new(status, reason)
                    .fact("vendor_accounts", "供应商账号", vendors)
                    .cite(bad)
            })
        }
        EvidenceQuery::LeastPrivilegeScopes => {
            lookup(src.accounts(dept), "账号与授权", |accounts| {
                let data_role = |r: Role| {
                    matches!(r, Role::DataUser | Role::DataSteward | Role::VendorOperator)
                };
                let bad: Vec<RecordRef> = live(&accounts)
                    .flat_map(|a| {
                        a.grants
                            .iter()
                            .filter(|g| data_role(g.role) && g.scope == DataScope::All)
                            .map(move |g| {
                                RecordRef::new(
                                    "grant",
                                    format!("{}/{}", a.id, g.role.id()),
                                    format!("{}授予全部数据范围", g.role.label()),
                                )
                            })
                    })
                    .collect();
                let grants: usize = live(&accounts).map(|a| a.grants.len()).sum();
                let status = if bad.is_empty() {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if bad.is_empty() {
                    format!("{grants} 项授权中，数据角色均未授予全部数据范围")
                } else {
                    format!("{} 项数据角色授权为全部数据范围，超出最小必要", bad.len())
                };
                Outcome::new(status, reason)
                    .fact("grants", "授权", grants)
                    .cite(bad)
            })
        }
        EvidenceQuery::ElevationsApproved => {
            lookup(src.elevations(dept, period), "超权限授权", |els| {
                if els.is_empty() {
                    return Outcome::new(Status::NoEvidence, "本期无超权限处理授权，无可核查对象");
                }
                let bad: Vec<RecordRef> = els
                    .iter()
                    .filter(|e| !e.approved_by_chief_data_officer || !e.recorded)
                    .map(|e| {
                        let why = if !e.approved_by_chief_data_officer {
                            "未经首席数据官审批"
                        } else {
                            "无账本记录"
                        };
                        RecordRef::new("elevation", &e.id, format!("{}：{why}", e.account))
                    })
                    .collect();
                let status = if bad.is_empty() {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if bad.is_empty() {
                    format!("本期 {} 次超权限授权均经首席数据官审批并记录", els.len())
                } else {
                    format!(
                        "本期 {} 次超权限授权中 {} 次未经审批或未记录",
                        els.len(),
                        bad.len()
                    )
                };
                Outcome::new(status, reason)
                    .fact("elevations", "超权限授权", els.len())
                    .cite(bad)
            })
        }
        EvidenceQuery::AccountHygiene { max_idle_days } => {
            lookup(src.accounts(dept), "账号", |accounts| {
                let n = live(&accounts).count();
                let idle: Vec<RecordRef> = live(&accounts)
                    .filter(|a| {
                        end.saturating_sub(a.last_active.unwrap_or(a.created))
                            > i64::from(*max_idle_days)
                    })
                    .map(|a| {
                        let last = a
                            .last_active
                            .map(format_day)
                            .unwrap_or_else(|| "从未使用".to_string());
                        RecordRef::new("account", &a.id, format!("最近使用：{last}"))
                    })
                    .collect();
                let status = if idle.is_empty() {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if idle.is_empty() {
                    format!("{n} 个在用账号均在 {max_idle_days} 天内使用过")
                } else {
                    format!(
                        "{} 个在用账号超过 {max_idle_days} 天未使用，应清理或停用",
                        idle.len()
                    )
                };
                Outcome::new(status, reason)
                    .fact("live_accounts", "在用账号", n)
                    .fact("idle_accounts", "闲置账号", idle.len())
                    .cite(idle)
            })
        }
        EvidenceQuery::MultiFactorAuth { min_share } => {
            lookup(src.accounts(dept), "账号", |accounts| {
                let n = live(&accounts).count() as u64;
                if n == 0 {
                    return Outcome::new(Status::NoEvidence, "本部门没有在用账号，无可核查对象");
                }
                let with = live(&accounts).filter(|a| a.second_factor).count() as u64;
                let without: Vec<RecordRef> = live(&accounts)
                    .filter(|a| !a.second_factor)
                    .map(|a| RecordRef::new("account", &a.id, "未启用第二因素"))
                    .collect();
                Outcome::new(
                    share_status(with, n, *min_share),
                    format!(
                        "{n} 个在用账号中 {with} 个启用多因素鉴别（{}）",
                        pct(with, n)
                    ),
                )
                .fact("live_accounts", "在用账号", n)
                .fact("second_factor", "启用多因素", with)
                .cite(without)
            })
        }
        EvidenceQuery::MaskingRulesAndLogs => lookup(src.masking(dept, period), "脱敏", |f| {
            let missing = f.jobs.saturating_sub(f.jobs_recorded);
            let (status, reason) = if f.rule_sets == 0 {
                (Status::NonCompliant, "未定义任何脱敏规则集".to_string())
            } else if missing > 0 {
                (
                    Status::NonCompliant,
                    format!("本期 {} 个脱敏作业中 {missing} 个没有日志记录", f.jobs),
                )
            } else if f.jobs == 0 {
                (
                    Status::Partial,
                    format!(
                        "已定义 {} 个脱敏规则集；本期无脱敏作业，日志无法核查",
                        f.rule_sets
                    ),
                )
            } else {
                (
                    Status::Compliant,
                    format!(
                        "已定义 {} 个脱敏规则集；本期 {} 个脱敏作业均有日志记录",
                        f.rule_sets, f.jobs
                    ),
                )
            };
            Outcome::new(status, reason)
                .fact("rule_sets", "脱敏规则集", f.rule_sets)
                .fact("jobs", "脱敏作业", f.jobs)
                .fact("jobs_recorded", "有日志", f.jobs_recorded)
                .cite(f.unrecorded)
        }),
        EvidenceQuery::MisuseAlertsHandled { handle_within_days } => lookup(
            src.alerts(dept, period, *handle_within_days),
            "告警",
            |f| {
                let overdue = f.raised.saturating_sub(f.handled_in_time);
                let (status, reason) = if f.rules_enabled == 0 {
                    (
                        Status::NonCompliant,
                        "未启用任何违规使用告警规则".to_string(),
                    )
                } else if overdue > 0 {
                    (
                        Status::NonCompliant,
                        format!(
                            "本期 {} 条告警中 {overdue} 条未在 {handle_within_days} 天内处置",
                            f.raised
                        ),
                    )
                } else {
                    (
                        Status::Compliant,
                        format!(
                            "已启用 {} 条告警规则；本期 {} 条告警均按时处置",
                            f.rules_enabled, f.raised
                        ),
                    )
                };
                Outcome::new(status, reason)
                    .fact("rules_enabled", "启用规则", f.rules_enabled)
                    .fact("raised", "告警", f.raised)
                    .fact("handled_in_time", "按时处置", f.handled_in_time)
                    .cite(f.overdue)
            },
        ),
        EvidenceQuery::BackupRecent {
            max_age_days,
            verified_within_days,
        } => lookup(src.backups(dept, period), "备份", |backups| {
            let latest = backups
                .iter()
                .filter(|b| b.succeeded && b.at <= end)
                .map(|b| b.at)
                .max();
            let verified = backups
                .iter()
                .filter_map(|b| b.verified_at)
                .filter(|v| *v <= end)
                .max();
            let mut o = Outcome::new(Status::Compliant, String::new()).fact(
                "backups",
                "备份",
                backups.len(),
            );
            if let Some(l) = latest {
                o = o.fact("latest_backup", "最近成功备份", format_day(l));
            }
            if let Some(v) = verified {
                o = o.fact("latest_verification", "最近恢复验证", format_day(v));
            }
            match latest {
                None => Outcome {
                    status: Status::NonCompliant,
                    reason: "没有成功的备份".to_string(),
                    ..o
                },
                Some(l) if !within(l, end, *max_age_days) => Outcome {
                    status: Status::NonCompliant,
                    reason: format!(
                        "最近一次成功备份于 {}，距期末超过 {max_age_days} 天",
                        format_day(l)
                    ),
                    ..o
                },
                Some(l) => match verified_within_days {
                    Some(d) if !verified.is_some_and(|v| within(v, end, *d)) => Outcome {
                        status: Status::Partial,
                        reason: format!(
                            "最近备份于 {}，但 {d} 天内没有通过恢复测试验证备份有效性",
                            format_day(l)
                        ),
                        ..o
                    },
                    _ => Outcome {
                        reason: format!(
                            "最近一次成功备份于 {}，在 {max_age_days} 天内",
                            format_day(l)
                        ),
                        ..o
                    },
                },
            }
        }),
        EvidenceQuery::SharingAgreementsComplete => {
            lookup(src.sharing(dept, period), "共享协议", |f| {
                if f.agreements.is_empty() {
                    return Outcome::new(Status::NoEvidence, "本期无生效的共享协议，无可核查对象");
                }
                let bad: Vec<RecordRef> = f
                    .agreements
                    .iter()
                    .filter_map(|a| {
                        let mut why = Vec::new();
                        if !a.missing_fields.is_empty() {
                            why.push(format!("缺少要素 {}", a.missing_fields.join("、")));
                        }
                        match (a.approved_at, a.first_delivery) {
                            (None, _) => why.push("未经审核".to_string()),
                            (Some(ap), Some(first)) if ap > first => why.push(format!(
                                "{} 先交付、{} 才审核",
                                format_day(first),
                                format_day(ap)
                            )),
                            _ => {}
                        }
                        (!why.is_empty())
                            .then(|| RecordRef::new("agreement", &a.id, why.join("；")))
                    })
                    .collect();
                let n = f.agreements.len();
                let status = if bad.is_empty() {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if bad.is_empty() {
                    format!("{n} 份共享协议要素齐全，均在提供前审核")
                } else {
                    format!("{n} 份共享协议中 {} 份要素不全或未经审核", bad.len())
                };
                Outcome::new(status, reason)
                    .fact("agreements", "共享协议", n)
                    .cite(bad)
            })
        }
        EvidenceQuery::SharingDeliveriesAuthorised => {
            lookup(src.sharing(dept, period), "共享交付", |f| {
                if f.deliveries == 0 {
                    return Outcome::new(Status::NoEvidence, "本期无共享交付，无可核查对象");
                }
                let bad = f.deliveries.saturating_sub(f.deliveries_authorised);
                let status = if bad == 0 {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if bad == 0 {
                    format!("本期 {} 次共享交付均经平台、在有效协议下进行", f.deliveries)
                } else {
                    format!(
                        "本期 {} 次共享交付中 {bad} 次无有效协议或未经平台",
                        f.deliveries
                    )
                };
                Outcome::new(status, reason)
                    .fact("deliveries", "共享交付", f.deliveries)
                    .fact("deliveries_authorised", "有授权", f.deliveries_authorised)
                    .cite(f.unauthorised)
            })
        }
        EvidenceQuery::OpenCatalogueComplete => {
            lookup(src.open_catalogue(dept), "开放目录", |entries| {
                if entries.is_empty() {
                    return Outcome::new(Status::NoEvidence, "开放数据目录为空，无可核查对象");
                }
                let bad: Vec<RecordRef> = entries
                    .iter()
                    .filter(|e| !e.missing_fields.is_empty() || !e.masked_before_opening)
                    .map(|e| {
                        let mut why = Vec::new();
                        if !e.missing_fields.is_empty() {
                            why.push(format!("缺少 {}", e.missing_fields.join("、")));
                        }
                        if !e.masked_before_opening {
                            why.push("开放前未脱敏".to_string());
                        }
                        RecordRef::new("open_catalogue_entry", &e.id, why.join("；"))
                    })
                    .collect();
                let status = if bad.is_empty() {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if bad.is_empty() {
                    format!("开放目录 {} 项要素齐全且开放前已脱敏", entries.len())
                } else {
                    format!(
                        "开放目录 {} 项中 {} 项要素不全或未脱敏",
                        entries.len(),
                        bad.len()
                    )
                };
                Outcome::new(status, reason)
                    .fact("entries", "目录项", entries.len())
                    .cite(bad)
            })
        }
        EvidenceQuery::GovernanceRecordRecent {
            record,
            within_days,
            min_count,
            require_evaluation,
            require_findings_closed,
        } => lookup(src.governance(dept, *record), record.label(), |records| {
            governance(
                *record,
                &records,
                end,
                *within_days,
                *min_count,
                *require_evaluation,
                *require_findings_closed,
            )
        }),
        EvidenceQuery::IncidentsReported {
            supplementary_within_days,
        } => lookup(src.incidents(dept, period), "安全事件", |incidents| {
            if incidents.is_empty() {
                return Outcome::new(Status::NoEvidence, "本期无数据安全事件记录，无可核查对象");
            }
            let mut bad = Vec::new();
            for i in &incidents {
                if i.reported.is_none() {
                    bad.push(RecordRef::new(
                        "incident",
                        &i.id,
                        format!("{} 发现，未报告", format_day(i.found)),
                    ));
                    continue;
                }
                if let (Some(d), Some(ended)) = (supplementary_within_days, i.response_ended) {
                    let deadline = ended.saturating_add(i64::from(*d));
                    match i.supplementary_report {
                        Some(s) if s <= deadline => {}
                        Some(s) => bad.push(RecordRef::new(
                            "incident",
                            &i.id,
                            format!(
                                "应急结束 {}，补充报告 {} 超过 {d} 日",
                                format_day(ended),
                                format_day(s)
                            ),
                        )),
                        None if deadline < end => bad.push(RecordRef::new(
                            "incident",
                            &i.id,
                            format!("应急结束 {}，{d} 日内未补充上报", format_day(ended)),
                        )),
                        None => {}
                    }
                }
            }
            let status = if bad.is_empty() {
                Status::Compliant
            } else {
                Status::NonCompliant
            };
            let reason = if bad.is_empty() {
                format!("本期 {} 起事件均已报告", incidents.len())
            } else {
                format!(
                    "本期 {} 起事件中 {} 起未按规定报告",
                    incidents.len(),
                    bad.len()
                )
            };
            Outcome::new(status, reason)
                .fact("incidents", "安全事件", incidents.len())
                .cite(bad)
        }),
        EvidenceQuery::VendorsBound { require_vetting } => {
            lookup(src.vendors(dept), "供应商", |vendors| {
                if vendors.is_empty() {
                    return Outcome::new(Status::NoEvidence, "本部门未登记供应商，无可核查对象");
                }
                let bad: Vec<RecordRef> = vendors
                    .iter()
                    .filter(|v| !v.agreement_in_force || (*require_vetting && !v.vetted))
                    .map(|v| {
                        let why = if !v.agreement_in_force {
                            "无生效的安全保密协议"
                        } else {
                            "未进行资格审查"
                        };
                        RecordRef::new("vendor", &v.id, format!("{}：{why}", v.name))
                    })
                    .collect();
                let status = if bad.is_empty() {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if bad.is_empty() {
                    format!("{} 个供应商均签订安全保密协议", vendors.len())
                } else {
                    format!(
                        "{} 个供应商中 {} 个未签协议或未审查",
                        vendors.len(),
                        bad.len()
                    )
                };
                Outcome::new(status, reason)
                    .fact("vendors", "供应商", vendors.len())
                    .cite(bad)
            })
        }
        EvidenceQuery::RectificationOnTime => {
            lookup(src.rectifications(dept, period), "整改事项", |items| {
                if items.is_empty() {
                    return Outcome::new(Status::NoEvidence, "本期无整改事项，无可核查对象");
                }
                let overdue: Vec<RecordRef> = items
                    .iter()
                    .filter(|i| i.due <= end && i.closed.is_none_or(|c| c > i.due))
                    .map(|i| {
                        let how = i
                            .closed
                            .map(|c| format!("{} 才完成", format_day(c)))
                            .unwrap_or_else(|| "尚未完成".to_string());
                        RecordRef::new(
                            "rectification",
                            &i.id,
                            format!("应于 {} 前完成，{how}", format_day(i.due)),
                        )
                    })
                    .collect();
                let status = if overdue.is_empty() {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if overdue.is_empty() {
                    format!("{} 项整改事项均按期完成或未到期", items.len())
                } else {
                    format!("{} 项整改事项中 {} 项逾期", items.len(), overdue.len())
                };
                Outcome::new(status, reason)
                    .fact("items", "整改事项", items.len())
                    .fact("overdue", "逾期", overdue.len())
                    .cite(overdue)
            })
        }
        EvidenceQuery::CollectionRegisterComplete => {
            lookup(src.collections(dept), "采集登记", |cols| {
                if cols.is_empty() {
                    return Outcome::new(Status::NoEvidence, "本部门未登记数据采集，无可核查对象");
                }
                let bad: Vec<RecordRef> = cols
                    .iter()
                    .filter(|c| !c.missing_fields.is_empty())
                    .map(|c| {
                        RecordRef::new(
                            "collection",
                            &c.id,
                            format!("缺少 {}", c.missing_fields.join("、")),
                        )
                    })
                    .collect();
                let status = if bad.is_empty() {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if bad.is_empty() {
                    format!(
                        "{} 项采集均明确目的、用途、渠道、流程、内容和格式",
                        cols.len()
                    )
                } else {
                    format!("{} 项采集中 {} 项要素不全", cols.len(), bad.len())
                };
                Outcome::new(status, reason)
                    .fact("collections", "采集登记", cols.len())
                    .cite(bad)
            })
        }
        EvidenceQuery::TemporaryDataRemoved { max_age_days } => lookup(
            src.temporaries(dept, period, *max_age_days),
            "临时数据",
            |f| {
                if f.created == 0 && f.overdue.is_empty() {
                    return Outcome::new(
                        Status::NoEvidence,
                        "本期未产生临时数据或测试副本，无可核查对象",
                    );
                }
                let status = if f.overdue.is_empty() {
                    Status::Compliant
                } else {
                    Status::NonCompliant
                };
                let reason = if f.overdue.is_empty() {
                    format!("本期产生的 {} 份临时数据均已按时清除", f.created)
                } else {
                    format!(
                        "{} 份临时数据或测试副本保留超过 {max_age_days} 天",
                        f.overdue.len()
                    )
                };
                Outcome::new(status, reason)
                    .fact("created", "产生", f.created)
                    .fact("removed", "已清除", f.removed)
                    .cite(f.overdue)
            },
        ),
        EvidenceQuery::LineageRecorded { min_share } => lookup(src.lineage(dept), "溯源", |f| {
            if f.derived == 0 {
                return Outcome::new(Status::NoEvidence, "本部门没有衍生数据集，无可核查对象");
            }
            Outcome::new(
                share_status(f.traced, f.derived, *min_share),
                format!(
                    "{} 个衍生数据集中 {} 个可追溯到原始来源（{}）",
                    f.derived,
                    f.traced,
                    pct(f.traced, f.derived)
                ),
            )
            .fact("derived", "衍生数据集", f.derived)
            .fact("traced", "可溯源", f.traced)
            .cite(f.untraced)
        }),
    }
}

fn governance(
    kind: GovernanceKind,
    records: &[crate::source::GovernanceRecord],
    end: Day,
    within_days: u32,
    min_count: u32,
    require_evaluation: bool,
    require_findings_closed: bool,
) -> Outcome {
    let recent: Vec<_> = records
        .iter()
        .filter(|r| within(r.at, end, within_days))
        .collect();
    let latest = records.iter().filter(|r| r.at <= end).map(|r| r.at).max();
    let label = kind.label();
    let mut o = Outcome::new(Status::Compliant, String::new())
        .fact("in_window", "窗口内记录", recent.len())
        .fact("window_days", "窗口（天）", within_days);
    if let Some(l) = latest {
        o = o.fact("latest", "最近一次", format_day(l));
    }
    if recent.is_empty() {
        o.status = Status::NonCompliant;
        o.reason = match latest {
            None => format!("没有{label}记录"),
            Some(l) => format!(
                "最近一次{label}于 {}，距期末超过 {within_days} 天",
                format_day(l)
            ),
        };
        return o;
    }
    let unevaluated: Vec<RecordRef> = recent
        .iter()
        .filter(|r| require_evaluation && !r.evaluated)
        .map(|r| RecordRef::new(kind.id(), &r.id, format!("{} 未评估归档", format_day(r.at))))
        .collect();
    let open: Vec<RecordRef> = recent
        .iter()
        .filter(|r| require_findings_closed && r.open_findings > 0)
        .map(|r| {
            RecordRef::new(
                kind.id(),
                &r.id,
                format!("{} 项问题未整改", r.open_findings),
            )
        })
        .collect();
    let n = recent.len();
    if (n as u32) < min_count {
        o.status = Status::Partial;
        o.reason = format!("{within_days} 天内{label} {n} 次，要求至少 {min_count} 次");
    } else if !unevaluated.is_empty() {
        o.status = Status::Partial;
        o.reason = format!(
            "{within_days} 天内{label} {n} 次，其中 {} 次未对效果进行评估归档",
            unevaluated.len()
        );
    } else if !open.is_empty() {
        o.status = Status::Partial;
        o.reason = format!(
            "{within_days} 天内{label} {n} 次，其中 {} 次发现的问题未整改",
            open.len()
        );
    } else {
        o.reason = format!("{within_days} 天内{label} {n} 次，满足至少 {min_count} 次的要求");
    }
    o.cite(unevaluated).cite(open)
}
