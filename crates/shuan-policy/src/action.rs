//! Every action of the platform's API, with its stable id (the Cedar action's id) and its
//! Chinese label.

use std::fmt;

/// An action of the API. The id is the Cedar action (`Action::"department.read"`), stored
/// in audit records and custom policies, so it never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    DepartmentRead,
    DepartmentCreate,
    DepartmentUpdate,
    DepartmentDelete,
    UserRead,
    UserCreate,
    UserUpdate,
    UserUnlock,
    UserResetCredentials,
    SessionList,
    SessionRevoke,
    GrantRead,
    GrantCreate,
    GrantDelete,
    ApiKeyRead,
    ApiKeyCreate,
    ApiKeyRevoke,
    PolicyRead,
    PolicyCreate,
    PolicyDelete,
    SettingsRead,
    SettingsUpdateSecurity,
    SettingsUpdateSystem,
    AuditRead,
    AuditExport,
    HygieneRead,
    ElevationRequest,
    ElevationRead,
    ElevationDecide,
    InventoryRead,
    CatalogueRead,
    ScanRun,
    MaskRun,
    JobRead,
    KeyRead,
    KeyRotate,
    BackupCreate,
    BackupRead,
    SourceRead,
    SourceRegister,
    ImportantDataRead,
    CatalogueUpdate,
    CatalogueLoosen,
    ShareRequestCreate,
    ShareRequestRead,
    ShareRequestReview,
    ShareRequestSignOff,
    AgreementRead,
    AgreementSuspend,
    AgreementRevoke,
    ServiceRead,
    ServicePublish,
    ServiceCall,
    AlertRead,
    AlertHandle,
    AlertRulesUpdate,
    DestructionRequest,
    DestructionRead,
    DestructionApprove,
    DestructionExecute,
    LegalHoldRead,
    LegalHoldManage,
    IncidentRead,
    IncidentManage,
    ComplaintReceive,
    ComplaintRead,
    ComplaintAssign,
    ComplaintHandle,
    ComplaintReadIdentity,
    VendorRead,
    VendorManage,
    QualityRead,
    QualityManage,
    QualityRun,
    TrainingRead,
    TrainingManage,
    RiskRead,
    RiskManage,
    RectificationClose,
    EmergencyRead,
    EmergencyManage,
    CollectionRead,
    CollectionManage,
    LineageRead,
    LineageManage,
}

impl Action {
    /// Every action, in declaration order (`Action::ALL[a.index()] == a`).
    pub const ALL: &'static [Action] = &[
        Action::DepartmentRead,
        Action::DepartmentCreate,
        Action::DepartmentUpdate,
        Action::DepartmentDelete,
        Action::UserRead,
        Action::UserCreate,
        Action::UserUpdate,
        Action::UserUnlock,
        Action::UserResetCredentials,
        Action::SessionList,
        Action::SessionRevoke,
        Action::GrantRead,
        Action::GrantCreate,
        Action::GrantDelete,
        Action::ApiKeyRead,
        Action::ApiKeyCreate,
        Action::ApiKeyRevoke,
        Action::PolicyRead,
        Action::PolicyCreate,
        Action::PolicyDelete,
        Action::SettingsRead,
        Action::SettingsUpdateSecurity,
        Action::SettingsUpdateSystem,
        Action::AuditRead,
        Action::AuditExport,
        Action::HygieneRead,
        Action::ElevationRequest,
        Action::ElevationRead,
        Action::ElevationDecide,
        Action::InventoryRead,
        Action::CatalogueRead,
        Action::ScanRun,
        Action::MaskRun,
        Action::JobRead,
        Action::KeyRead,
        Action::KeyRotate,
        Action::BackupCreate,
        Action::BackupRead,
        Action::SourceRead,
        Action::SourceRegister,
        Action::ImportantDataRead,
        Action::CatalogueUpdate,
        Action::CatalogueLoosen,
        Action::ShareRequestCreate,
        Action::ShareRequestRead,
        Action::ShareRequestReview,
        Action::ShareRequestSignOff,
        Action::AgreementRead,
        Action::AgreementSuspend,
        Action::AgreementRevoke,
        Action::ServiceRead,
        Action::ServicePublish,
        Action::ServiceCall,
        Action::AlertRead,
        Action::AlertHandle,
        Action::AlertRulesUpdate,
        Action::DestructionRequest,
        Action::DestructionRead,
        Action::DestructionApprove,
        Action::DestructionExecute,
        Action::LegalHoldRead,
        Action::LegalHoldManage,
        Action::IncidentRead,
        Action::IncidentManage,
        Action::ComplaintReceive,
        Action::ComplaintRead,
        Action::ComplaintAssign,
        Action::ComplaintHandle,
        Action::ComplaintReadIdentity,
        Action::VendorRead,
        Action::VendorManage,
        Action::QualityRead,
        Action::QualityManage,
        Action::QualityRun,
        Action::TrainingRead,
        Action::TrainingManage,
        Action::RiskRead,
        Action::RiskManage,
        Action::RectificationClose,
        Action::EmergencyRead,
        Action::EmergencyManage,
        Action::CollectionRead,
        Action::CollectionManage,
        Action::LineageRead,
        Action::LineageManage,
    ];

    /// The stable id (`department.read`, `user.reset_credentials`, `api_key.create` …).
    pub fn id(self) -> &'static str {
        match self {
            Action::DepartmentRead => "department.read",
            Action::DepartmentCreate => "department.create",
            Action::DepartmentUpdate => "department.update",
            Action::DepartmentDelete => "department.delete",
            Action::UserRead => "user.read",
            Action::UserCreate => "user.create",
            Action::UserUpdate => "user.update",
            Action::UserUnlock => "user.unlock",
            Action::UserResetCredentials => "user.reset_credentials",
            Action::SessionList => "session.list",
            Action::SessionRevoke => "session.revoke",
            Action::GrantRead => "grant.read",
            Action::GrantCreate => "grant.create",
            Action::GrantDelete => "grant.delete",
            Action::ApiKeyRead => "api_key.read",
            Action::ApiKeyCreate => "api_key.create",
            Action::ApiKeyRevoke => "api_key.revoke",
            Action::PolicyRead => "policy.read",
            Action::PolicyCreate => "policy.create",
            Action::PolicyDelete => "policy.delete",
            Action::SettingsRead => "settings.read",
            Action::SettingsUpdateSecurity => "settings.update_security",
            Action::SettingsUpdateSystem => "settings.update_system",
            Action::AuditRead => "audit.read",
            Action::AuditExport => "audit.export",
            Action::HygieneRead => "hygiene.read",
            Action::ElevationRequest => "elevation.request",
            Action::ElevationRead => "elevation.read",
            Action::ElevationDecide => "elevation.decide",
            Action::InventoryRead => "inventory.read",
            Action::CatalogueRead => "catalogue.read",
            Action::ScanRun => "scan.run",
            Action::MaskRun => "mask.run",
            Action::JobRead => "job.read",
            Action::KeyRead => "key.read",
            Action::KeyRotate => "key.rotate",
            Action::BackupCreate => "backup.create",
            Action::BackupRead => "backup.read",
            Action::SourceRead => "source.read",
            Action::SourceRegister => "source.register",
            Action::ImportantDataRead => "important_data.read",
            Action::CatalogueUpdate => "catalogue.update",
            Action::CatalogueLoosen => "catalogue.loosen",
            Action::ShareRequestCreate => "share_request.create",
            Action::ShareRequestRead => "share_request.read",
            Action::ShareRequestReview => "share_request.review",
            Action::ShareRequestSignOff => "share_request.sign_off",
            Action::AgreementRead => "agreement.read",
            Action::AgreementSuspend => "agreement.suspend",
            Action::AgreementRevoke => "agreement.revoke",
            Action::ServiceRead => "service.read",
            Action::ServicePublish => "service.publish",
            Action::ServiceCall => "service.call",
            Action::AlertRead => "alert.read",
            Action::AlertHandle => "alert.handle",
            Action::AlertRulesUpdate => "alert_rules.update",
            Action::DestructionRequest => "destruction.request",
            Action::DestructionRead => "destruction.read",
            Action::DestructionApprove => "destruction.approve",
            Action::DestructionExecute => "destruction.execute",
            Action::LegalHoldRead => "legal_hold.read",
            Action::LegalHoldManage => "legal_hold.manage",
            Action::IncidentRead => "incident.read",
            Action::IncidentManage => "incident.manage",
            Action::ComplaintReceive => "complaint.receive",
            Action::ComplaintRead => "complaint.read",
            Action::ComplaintAssign => "complaint.assign",
            Action::ComplaintHandle => "complaint.handle",
            Action::ComplaintReadIdentity => "complaint.read_identity",
            Action::VendorRead => "vendor.read",
            Action::VendorManage => "vendor.manage",
            Action::QualityRead => "quality.read",
            Action::QualityManage => "quality.manage",
            Action::QualityRun => "quality.run",
            Action::TrainingRead => "training.read",
            Action::TrainingManage => "training.manage",
            Action::RiskRead => "risk.read",
            Action::RiskManage => "risk.manage",
            Action::RectificationClose => "rectification.close",
            Action::EmergencyRead => "emergency.read",
            Action::EmergencyManage => "emergency.manage",
            Action::CollectionRead => "collection.read",
            Action::CollectionManage => "collection.manage",
            Action::LineageRead => "lineage.read",
            Action::LineageManage => "lineage.manage",
        }
    }

    /// The Chinese label the console shows.
    pub fn label(self) -> &'static str {
        match self {
            Action::DepartmentRead => "查看部门",
            Action::DepartmentCreate => "新建部门",
            Action::DepartmentUpdate => "修改部门",
            Action::DepartmentDelete => "删除部门",
            Action::UserRead => "查看账号",
            Action::UserCreate => "新建账号",
            Action::UserUpdate => "修改账号",
            Action::UserUnlock => "解锁账号",
            Action::UserResetCredentials => "重置账号凭据",
            Action::SessionList => "查看会话",
            Action::SessionRevoke => "强制下线",
            Action::GrantRead => "查看授权",
            Action::GrantCreate => "授予角色",
            Action::GrantDelete => "撤销授权",
            Action::ApiKeyRead => "查看API密钥",
            Action::ApiKeyCreate => "创建API密钥",
            Action::ApiKeyRevoke => "吊销API密钥",
            Action::PolicyRead => "查看策略",
            Action::PolicyCreate => "新增策略",
            Action::PolicyDelete => "删除策略",
            Action::SettingsRead => "查看参数设置",
            Action::SettingsUpdateSecurity => "修改安全设置",
            Action::SettingsUpdateSystem => "修改系统设置",
            Action::AuditRead => "查看审计日志",
            Action::AuditExport => "导出审计日志",
            Action::HygieneRead => "查看账号清理报告",
            Action::ElevationRequest => "申请提权",
            Action::ElevationRead => "查看提权申请",
            Action::ElevationDecide => "审批提权申请",
            Action::InventoryRead => "查看数据资产清单",
            Action::CatalogueRead => "查看数据目录",
            Action::ScanRun => "执行扫描",
            Action::MaskRun => "执行脱敏",
            Action::JobRead => "查看任务",
            Action::KeyRead => "查看密钥",
            Action::KeyRotate => "轮换密钥",
            Action::BackupCreate => "创建备份",
            Action::BackupRead => "查看备份",
            Action::SourceRead => "查看数据源",
            Action::SourceRegister => "登记数据源",
            Action::ImportantDataRead => "查看重要数据目录",
            Action::CatalogueUpdate => "修改资源目录",
            Action::CatalogueLoosen => "放宽共享开放属性",
            Action::ShareRequestCreate => "提交共享申请",
            Action::ShareRequestRead => "查看共享申请",
            Action::ShareRequestReview => "审核共享申请",
            Action::ShareRequestSignOff => "审批共享申请",
            Action::AgreementRead => "查看共享协议",
            Action::AgreementSuspend => "暂停或缩短共享协议",
            Action::AgreementRevoke => "撤销共享协议",
            Action::ServiceRead => "查看数据服务",
            Action::ServicePublish => "发布数据服务",
            Action::ServiceCall => "调用数据服务",
            Action::AlertRead => "查看滥用告警",
            Action::AlertHandle => "处置滥用告警",
            Action::AlertRulesUpdate => "调整告警规则",
            Action::DestructionRequest => "申请数据销毁",
            Action::DestructionRead => "查看数据销毁",
            Action::DestructionApprove => "审批数据销毁",
            Action::DestructionExecute => "执行数据销毁",
            Action::LegalHoldRead => "查看法律保全",
            Action::LegalHoldManage => "设置或解除法律保全",
            Action::IncidentRead => "查看安全事件",
            Action::IncidentManage => "登记和处置安全事件",
            Action::ComplaintReceive => "受理投诉举报",
            Action::ComplaintRead => "查看投诉举报",
            Action::ComplaintAssign => "交办投诉举报",
            Action::ComplaintHandle => "办理投诉举报",
            Action::ComplaintReadIdentity => "查看举报人身份",
            Action::VendorRead => "查看外包服务商和合同",
            Action::VendorManage => "登记外包服务商和合同",
            Action::QualityRead => "查看数据质量规则和检查结果",
            Action::QualityManage => "制定数据质量规则",
            Action::QualityRun => "执行数据质量检查",
            Action::TrainingRead => "查看安全培训记录",
            Action::TrainingManage => "登记安全培训",
            Action::RiskRead => "查看风险评估和整改事项",
            Action::RiskManage => "登记风险评估和整改事项",
            Action::RectificationClose => "提交整改完成",
            Action::EmergencyRead => "查看应急预案和演练",
            Action::EmergencyManage => "制定应急预案、登记应急演练",
            Action::CollectionRead => "查看数据采集登记",
            Action::CollectionManage => "登记和复核数据采集",
            Action::LineageRead => "查看数据溯源",
            Action::LineageManage => "登记外部数据加工",
        }
    }

    /// The action with this id.
    pub fn from_id(id: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.id() == id)
    }

    /// Whether the action changes nothing (reads, lists, exports). The schema's
    /// `Action::"read_only"` group holds exactly these; the auditor's forbid uses it.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Action::DepartmentRead
                | Action::UserRead
                | Action::SessionList
                | Action::GrantRead
                | Action::ApiKeyRead
                | Action::PolicyRead
                | Action::SettingsRead
                | Action::AuditRead
                | Action::AuditExport
                | Action::HygieneRead
                | Action::ElevationRead
                | Action::InventoryRead
                | Action::CatalogueRead
                | Action::JobRead
                | Action::KeyRead
                | Action::BackupRead
                | Action::SourceRead
                | Action::ImportantDataRead
                | Action::ShareRequestRead
                | Action::AgreementRead
                | Action::ServiceRead
                | Action::ServiceCall
                | Action::AlertRead
                | Action::DestructionRead
                | Action::LegalHoldRead
                | Action::IncidentRead
                | Action::ComplaintRead
                | Action::ComplaintReadIdentity
                | Action::VendorRead
                | Action::QualityRead
                | Action::TrainingRead
                | Action::RiskRead
                | Action::EmergencyRead
                | Action::CollectionRead
                | Action::LineageRead
        )
    }

    /// Position in [`Action::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}（{}）", self.label(), self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_round_trip_and_index_matches_all() {
        let mut seen = HashSet::new();
        for (i, a) in Action::ALL.iter().copied().enumerate() {
            assert_eq!(a.index(), i, "{a:?} is out of order in ALL");
            assert!(seen.insert(a.id()), "duplicate id {}", a.id());
            assert_eq!(Action::from_id(a.id()), Some(a));
            assert!(!a.label().is_empty());
        }
        assert_eq!(Action::ALL.len(), 85);
        assert_eq!(Action::from_id("department.*"), None);
    }
}
