//! The catalogue of sensitive data types: stable ids and Chinese labels.

use serde::{Deserialize, Serialize};

/// A kind of sensitive data shuan can recognise.
///
/// `id()` is the stable snake_case identifier used in JSON output, profiles and the
/// inventory; it never changes once published. `label()` is the Chinese name shown to staff.
/// The variants after `Imei` are cues for sensitive categories that are recognised only from
/// column names (their values are free text that cannot be validated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    /// 居民身份证号 (GB 11643-1999, 18-digit and 15-digit legacy).
    CnResidentId,
    /// 手机号码 (mainland mobile, with optional +86/0086).
    CnMobile,
    /// 固定电话号码 (area code + subscriber number).
    CnLandline,
    /// 电子邮箱.
    Email,
    /// 银行卡号 (Luhn-checked payment card numbers).
    BankCard,
    /// 统一社会信用代码 (GB 32100-2015).
    CnUscc,
    /// 组织机构代码 (GB 11714).
    CnOrgCode,
    /// 护照号码.
    CnPassport,
    /// 港澳通行证/回乡证号码.
    CnHkMacaoPermit,
    /// 机动车号牌 (GA 36-2018).
    CnPlate,
    /// 车辆识别代号 (ISO 3779 VIN).
    Vin,
    /// IPv4 地址.
    Ipv4,
    /// IPv6 地址.
    Ipv6,
    /// MAC 地址.
    MacAddress,
    /// 姓名 (Chinese person names).
    PersonName,
    /// 地址 (Chinese postal addresses).
    Address,
    /// 出生日期.
    BirthDate,
    /// 经纬度 (GPS coordinates, precise location).
    Gps,
    /// IMEI 设备识别码.
    Imei,
    /// 性别.
    Gender,
    /// 健康生理信息 (病历, 诊断 …) — column-name cue.
    HealthInfo,
    /// 宗教信仰 — column-name cue.
    ReligiousBelief,
    /// 违法犯罪记录 (前科 …) — column-name cue.
    CriminalRecord,
    /// 性取向 — column-name cue.
    SexualOrientation,
    /// 婚史 (婚姻状况) — column-name cue.
    MaritalHistory,
    /// 民族 — column-name cue.
    Ethnicity,
    /// 生物识别信息 (指纹, 人脸 …) — column-name cue.
    Biometric,
    /// 个人财产信息 (收入, 存款 …) — column-name cue.
    PropertyInfo,
    /// 口令与密钥 (密码, token …) — column-name cue.
    Credential,
}

const ALL: &[DataType] = &[
    DataType::CnResidentId,
    DataType::CnMobile,
    DataType::CnLandline,
    DataType::Email,
    DataType::BankCard,
    DataType::CnUscc,
    DataType::CnOrgCode,
    DataType::CnPassport,
    DataType::CnHkMacaoPermit,
    DataType::CnPlate,
    DataType::Vin,
    DataType::Ipv4,
    DataType::Ipv6,
    DataType::MacAddress,
    DataType::PersonName,
    DataType::Address,
    DataType::BirthDate,
    DataType::Gps,
    DataType::Imei,
    DataType::Gender,
    DataType::HealthInfo,
    DataType::ReligiousBelief,
    DataType::CriminalRecord,
    DataType::SexualOrientation,
    DataType::MaritalHistory,
    DataType::Ethnicity,
    DataType::Biometric,
    DataType::PropertyInfo,
    DataType::Credential,
];

impl DataType {
    /// The stable snake_case identifier (e.g. `"cn_resident_id"`).
    pub fn id(self) -> &'static str {
        match self {
            DataType::CnResidentId => "cn_resident_id",
            DataType::CnMobile => "cn_mobile",
            DataType::CnLandline => "cn_landline",
            DataType::Email => "email",
            DataType::BankCard => "bank_card",
            DataType::CnUscc => "cn_uscc",
            DataType::CnOrgCode => "cn_org_code",
            DataType::CnPassport => "cn_passport",
            DataType::CnHkMacaoPermit => "cn_hk_macao_permit",
            DataType::CnPlate => "cn_plate",
            DataType::Vin => "vin",
            DataType::Ipv4 => "ipv4",
            DataType::Ipv6 => "ipv6",
            DataType::MacAddress => "mac_address",
            DataType::PersonName => "person_name",
            DataType::Address => "address",
            DataType::BirthDate => "birth_date",
            DataType::Gps => "gps",
            DataType::Imei => "imei",
            DataType::Gender => "gender",
            DataType::HealthInfo => "health_info",
            DataType::ReligiousBelief => "religious_belief",
            DataType::CriminalRecord => "criminal_record",
            DataType::SexualOrientation => "sexual_orientation",
            DataType::MaritalHistory => "marital_history",
            DataType::Ethnicity => "ethnicity",
            DataType::Biometric => "biometric",
            DataType::PropertyInfo => "property_info",
            DataType::Credential => "credential",
        }
    }

    /// The Chinese label shown to staff (e.g. `"居民身份证号"`).
    pub fn label(self) -> &'static str {
        match self {
            DataType::CnResidentId => "居民身份证号",
            DataType::CnMobile => "手机号码",
            DataType::CnLandline => "固定电话号码",
            DataType::Email => "电子邮箱",
            DataType::BankCard => "银行卡号",
            DataType::CnUscc => "统一社会信用代码",
            DataType::CnOrgCode => "组织机构代码",
            DataType::CnPassport => "护照号码",
            DataType::CnHkMacaoPermit => "港澳通行证号码",
            DataType::CnPlate => "机动车号牌",
            DataType::Vin => "车辆识别代号",
            DataType::Ipv4 => "IPv4地址",
            DataType::Ipv6 => "IPv6地址",
            DataType::MacAddress => "MAC地址",
            DataType::PersonName => "姓名",
            DataType::Address => "地址",
            DataType::BirthDate => "出生日期",
            DataType::Gps => "经纬度",
            DataType::Imei => "IMEI设备识别码",
            DataType::Gender => "性别",
            DataType::HealthInfo => "健康生理信息",
            DataType::ReligiousBelief => "宗教信仰",
            DataType::CriminalRecord => "违法犯罪记录",
            DataType::SexualOrientation => "性取向",
            DataType::MaritalHistory => "婚史",
            DataType::Ethnicity => "民族",
            DataType::Biometric => "生物识别信息",
            DataType::PropertyInfo => "个人财产信息",
            DataType::Credential => "口令密钥",
        }
    }

    /// Every data type, in a stable order.
    pub fn all() -> &'static [DataType] {
        ALL
    }

    /// The type whose [`id`](Self::id) is `id`, if any.
    pub fn from_id(id: &str) -> Option<DataType> {
        ALL.iter().copied().find(|t| t.id() == id)
    }

    /// True for the sensitive-category cues recognised only from column names.
    pub fn is_name_only(self) -> bool {
        matches!(
            self,
            DataType::HealthInfo
                | DataType::ReligiousBelief
                | DataType::CriminalRecord
                | DataType::SexualOrientation
                | DataType::MaritalHistory
                | DataType::Ethnicity
                | DataType::Biometric
                | DataType::PropertyInfo
                | DataType::Credential
        )
    }
}

impl std::fmt::Display for DataType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &t in DataType::all() {
            assert!(seen.insert(t.id()), "duplicate id {}", t.id());
            assert_eq!(DataType::from_id(t.id()), Some(t));
            assert!(!t.label().is_empty());
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.id()));
        }
        assert_eq!(DataType::from_id("nope"), None);
        assert!(DataType::HealthInfo.is_name_only());
        assert!(!DataType::CnResidentId.is_name_only());
        assert_eq!(DataType::CnResidentId.label(), "居民身份证号");
    }
}
