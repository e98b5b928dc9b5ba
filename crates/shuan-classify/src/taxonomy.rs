//! The category taxonomy (数据分类): personal-information categories of GB/T 35273-2020
//! Annex A, with the sensitive ones of Annex B and PIPL Art. 28 flagged, plus the
//! organisation identifiers that government data holds beside personal data.
//!
//! Categories are fixed in code because they come from the standard; *which* data type falls
//! in which category is data (the grading profiles), so a department can move a type without
//! a rebuild.

/// One category of the taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    /// Stable snake_case id used in profiles, JSON output and the inventory.
    pub id: &'static str,
    /// Chinese name as the standard writes it.
    pub label: &'static str,
    /// The group it belongs to (个人信息 / 组织信息).
    pub group: &'static str,
    /// Whether the category is sensitive personal information (敏感个人信息, GB/T 35273
    /// Annex B, PIPL Art. 28). Scale rules count tables holding such data.
    pub sensitive_pi: bool,
    /// Where it comes from, for the reader of an explanation.
    pub source: &'static str,
}

const PI: &str = "个人信息";
const A1: &str = "GB/T 35273-2020 附录A";
const B1: &str = "GB/T 35273-2020 附录B; 个人信息保护法第28条";

/// Every category, in the order the standard lists them.
pub const CATEGORIES: &[Category] = &[
    Category {
        id: "pi_basic",
        label: "个人基本资料",
        group: PI,
        sensitive_pi: false,
        source: A1,
    },
    Category {
        id: "pi_identity",
        label: "个人身份信息",
        group: PI,
        sensitive_pi: true,
        source: B1,
    },
    Category {
        id: "pi_biometric",
        label: "个人生物识别信息",
        group: PI,
        sensitive_pi: true,
        source: B1,
    },
    Category {
        id: "pi_network_id",
        label: "网络身份标识信息",
        group: PI,
        sensitive_pi: false,
        source: A1,
    },
    Category {
        id: "pi_credential",
        label: "个人身份鉴别信息",
        group: PI,
        sensitive_pi: true,
        source: B1,
    },
    Category {
        id: "pi_health",
        label: "个人健康生理信息",
        group: PI,
        sensitive_pi: true,
        source: B1,
    },
    Category {
        id: "pi_education_work",
        label: "个人教育工作信息",
        group: PI,
        sensitive_pi: false,
        source: A1,
    },
    Category {
        id: "pi_property",
        label: "个人财产信息",
        group: PI,
        sensitive_pi: true,
        source: B1,
    },
    Category {
        id: "pi_communication",
        label: "个人通信信息",
        group: PI,
        sensitive_pi: true,
        source: B1,
    },
    Category {
        id: "pi_contacts",
        label: "联系人信息",
        group: PI,
        sensitive_pi: false,
        source: A1,
    },
    Category {
        id: "pi_browsing",
        label: "个人上网记录",
        group: PI,
        sensitive_pi: false,
        source: A1,
    },
    Category {
        id: "pi_device",
        label: "个人常用设备信息",
        group: PI,
        sensitive_pi: false,
        source: A1,
    },
    Category {
        id: "pi_location",
        label: "个人位置信息",
        group: PI,
        sensitive_pi: true,
        source: B1,
    },
    Category {
        id: "pi_special",
        label: "个人其他敏感信息",
        group: PI,
        sensitive_pi: true,
        source: B1,
    },
    Category {
        id: "org_identity",
        label: "组织机构标识信息",
        group: "组织信息",
        sensitive_pi: false,
        source: "GB 32100-2015; GB 11714",
    },
];

/// Looks a category up by its id.
pub fn category(id: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in CATEGORIES {
            assert!(seen.insert(c.id), "duplicate {}", c.id);
            assert!(c
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()));
        }
        assert_eq!(category("pi_identity").map(|c| c.sensitive_pi), Some(true));
        assert!(category("nope").is_none());
    }
}
