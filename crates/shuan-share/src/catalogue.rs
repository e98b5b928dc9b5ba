//! The resource catalogue's sharing and opening attributes (共享属性, 开放属性): their
//! defaults from the grading level, and the rules for changing them.
//!
//! Defaults follow each level of the grading profile (R-02, XY 33, GB/T 43697): the
//! lowest level is 无条件共享 and 有条件开放 (opened after review and masking); levels in
//! the important-data catalogue (重要数据, 三级) are 有条件共享 with the chief data
//! officer's approval and 不予开放; 核心数据 is 不予共享 and 不予开放; the levels between are
//! 有条件共享, opened only where the profile's text allows it. The text of the level's
//! `sharing` rule becomes the 共享条件 or the 依据, so a catalogue entry always says why.
//!
//! Changes: a data steward of the providing department may only make an entry stricter
//! (无条件 → 有条件 → 不予); anything looser needs the chief data officer. Data in the
//! important-data catalogue is never 无条件开放, whoever asks. 有条件 needs its conditions
//! and 不予 its legal basis (国务院令第809号: a refusal to share must have a basis).

use serde::{Deserialize, Serialize};
use shuan_classify::{LevelRank, Profile};

use crate::Refusal;

/// 无条件 / 有条件 / 不予, for sharing and for opening. Ordered from least to most strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Openness {
    /// 无条件.
    Unconditional,
    /// 有条件.
    Conditional,
    /// 不予.
    None,
}

impl Openness {
    /// Stable id: `unconditional`, `conditional`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Openness::Unconditional => "unconditional",
            Openness::Conditional => "conditional",
            Openness::None => "none",
        }
    }

    /// From the stable id.
    pub fn parse(text: &str) -> Option<Openness> {
        Some(match text {
            "unconditional" => Openness::Unconditional,
            "conditional" => Openness::Conditional,
            "none" => Openness::None,
            _ => return None,
        })
    }

    /// 无条件共享 / 有条件共享 / 不予共享.
    pub fn share_label(self) -> &'static str {
        match self {
            Openness::Unconditional => "无条件共享",
            Openness::Conditional => "有条件共享",
            Openness::None => "不予共享",
        }
    }

    /// 无条件开放 / 有条件开放 / 不予开放.
    pub fn open_label(self) -> &'static str {
        match self {
            Openness::Unconditional => "无条件开放",
            Openness::Conditional => "有条件开放",
            Openness::None => "不予开放",
        }
    }
}

/// The attributes of an entry that govern sharing and opening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    /// 共享属性.
    pub share: Openness,
    /// 共享条件 (conditional).
    pub share_conditions: Option<String>,
    /// 不予共享的依据 (none).
    pub share_basis: Option<String>,
    /// 开放属性.
    pub open: Openness,
    /// 开放条件.
    pub open_conditions: Option<String>,
}

/// What the profile's level means for sharing: the defaults, and whether the level
/// belongs in the important-data catalogue (then conditional sharing needs the chief data
/// officer, and it is never opened without conditions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelDefaults {
    /// The defaults of a new entry.
    pub attributes: Attributes,
    /// In the important-data catalogue (重要数据, 核心数据, 三级 …).
    pub important: bool,
}

/// Defaults of the two built-in profiles, by level name: (share, open). Levels of other
/// profiles (and of profiles that `extends` these but rename levels) follow the generic
/// rule of [`defaults`].
const BUILTIN: &[(&str, Openness, Openness)] = &[
    (
        "一般数据1级",
        Openness::Unconditional,
        Openness::Conditional,
    ),
    ("一般数据2级", Openness::Conditional, Openness::Conditional),
    ("一般数据3级", Openness::Conditional, Openness::None),
    ("一般数据4级", Openness::Conditional, Openness::None),
    ("重要数据", Openness::Conditional, Openness::None),
    ("核心数据", Openness::None, Openness::None),
    ("一级", Openness::Unconditional, Openness::Conditional),
    ("二级", Openness::Conditional, Openness::None),
    ("三级", Openness::Conditional, Openness::None),
];

/// The defaults for a table graded `rank` under `profile`.
///
/// Built-in levels take the table above; any other level: the profile's default (lowest)
/// level is 无条件共享 / 有条件开放, a level named 核心… is 不予 / 不予, a level in the
/// important-data catalogue is 有条件 (chief data officer) / 不予, and the rest 有条件 /
/// 不予. The conditions and the basis quote the profile's rule for the level.
pub fn defaults(profile: &Profile, rank: LevelRank) -> LevelDefaults {
    let level = profile.level(rank);
    let important = level.catalogue;
    let (share, open) = match BUILTIN.iter().find(|(name, _, _)| *name == level.name) {
        Some((_, share, open)) => (*share, *open),
        None if level.name.starts_with("核心") => (Openness::None, Openness::None),
        None if rank == profile.default_level() && !important => {
            (Openness::Unconditional, Openness::Conditional)
        }
        None => (Openness::Conditional, Openness::None),
    };
    // Whatever a table says, important data is never opened without conditions.
    let open = if important {
        open.max(Openness::Conditional)
    } else {
        open
    };
    let rule = format!(
        "{}「{}」：{}",
        profile.title(),
        level.name,
        if level.sharing.is_empty() {
            level.description.as_str()
        } else {
            level.sharing.as_str()
        }
    );
    let approval = if important {
        "；重要数据须经提供方首席数据官审批"
    } else {
        ""
    };
    LevelDefaults {
        attributes: Attributes {
            share,
            share_conditions: (share == Openness::Conditional).then(|| {
                format!("按履职需要申请，经提供方审核同意{approval}，签订共享协议，按协议用途、范围和期限使用，不得转让第三方（{rule}）")
            }),
            share_basis: (share == Openness::None).then(|| format!("不予共享（{rule}）")),
            open,
            open_conditions: (open == Openness::Conditional).then(|| {
                format!("开放前须经开放数据场景脱敏和重识别风险评估，签订数据利用协议（{rule}）")
            }),
        },
        important,
    }
}

/// Who asks for a change of an entry's attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changer {
    /// The providing department's data steward: stricter only.
    Steward,
    /// The chief data officer: may loosen (never 无条件开放 of important data).
    ChiefDataOfficer,
}

/// Checks a change of attributes from `current` to `proposed` of an entry that is
/// `important` or not. Answers refusals with codes `invalid_input` (missing conditions or
/// basis), `never_open` (important data made 无条件开放) and `cdo_approval_required`
/// (a steward loosening).
pub fn check_change(
    current: &Attributes,
    proposed: &Attributes,
    important: bool,
    by: Changer,
) -> Result<(), Refusal> {
    check_complete(proposed)?;
    if important && proposed.open == Openness::Unconditional {
        return Err(Refusal::new(
            "never_open",
            "重要数据和核心数据不得无条件开放 (data in the important-data catalogue is never \
             opened unconditionally, whoever asks)",
        ));
    }
    let looser_share = proposed.share < current.share;
    let looser_open = proposed.open < current.open;
    if (looser_share || looser_open) && by == Changer::Steward {
        let what = match (looser_share, looser_open) {
            (true, true) => format!(
                "{} → {}，{} → {}",
                current.share.share_label(),
                proposed.share.share_label(),
                current.open.open_label(),
                proposed.open.open_label()
            ),
            (true, false) => format!(
                "{} → {}",
                current.share.share_label(),
                proposed.share.share_label()
            ),
            _ => format!(
                "{} → {}",
                current.open.open_label(),
                proposed.open.open_label()
            ),
        };
        return Err(Refusal::new(
            "cdo_approval_required",
            format!(
                "数据管理员只能将共享/开放属性调严；放宽（{what}）须由首席数据官审批 (a data \
                 steward may only make the attributes stricter; loosening needs the chief data \
                 officer)"
            ),
        ));
    }
    Ok(())
}

/// 有条件 needs its conditions, 不予 its basis (non-blank, at most 1000 characters).
pub fn check_complete(a: &Attributes) -> Result<(), Refusal> {
    let present = |t: &Option<String>| {
        t.as_deref()
            .is_some_and(|t| !t.trim().is_empty() && t.chars().count() <= 1000)
    };
    if a.share == Openness::Conditional && !present(&a.share_conditions) {
        return Err(Refusal::new(
            "invalid_input",
            "有条件共享须写明共享条件 share_conditions (1–1000 字) (conditional sharing needs \
             its conditions)",
        ));
    }
    if a.share == Openness::None && !present(&a.share_basis) {
        return Err(Refusal::new(
            "invalid_input",
            "不予共享须写明法律、行政法规或政策依据 share_basis (1–1000 字) (not sharing needs \
             its legal basis)",
        ));
    }
    if a.open == Openness::Conditional && !present(&a.open_conditions) {
        return Err(Refusal::new(
            "invalid_input",
            "有条件开放须写明开放条件 open_conditions (1–1000 字) (conditional opening needs its \
             conditions)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(profile: &Profile, name: &str) -> LevelRank {
        profile.level_by_name(name).unwrap().rank
    }

    #[test]
    fn xinyang_shares_2_conditionally_and_never_opens_3() {
        let p = Profile::builtin("xinyang").unwrap();
        let one = defaults(&p, level(&p, "一级"));
        assert_eq!(one.attributes.share, Openness::Unconditional);
        assert!(!one.important);
        let two = defaults(&p, level(&p, "二级"));
        assert_eq!(two.attributes.share, Openness::Conditional);
        assert!(two
            .attributes
            .share_conditions
            .as_deref()
            .unwrap()
            .contains("授权部门"));
        let three = defaults(&p, level(&p, "三级"));
        assert_eq!(three.attributes.open, Openness::None);
        assert_eq!(three.attributes.share, Openness::Conditional);
        assert!(three.important);
        assert!(three
            .attributes
            .share_conditions
            .as_deref()
            .unwrap()
            .contains("首席数据官"));
    }

    #[test]
    fn gbt43697_levels() {
        let p = Profile::builtin("gbt43697").unwrap();
        let got: Vec<(String, Openness, Openness, bool)> = p
            .levels()
            .iter()
            .map(|l| {
                let d = defaults(&p, l.rank);
                (
                    l.name.clone(),
                    d.attributes.share,
                    d.attributes.open,
                    d.important,
                )
            })
            .collect();
        use Openness::*;
        assert_eq!(
            got,
            vec![
                ("一般数据1级".into(), Unconditional, Conditional, false),
                ("一般数据2级".into(), Conditional, Conditional, false),
                ("一般数据3级".into(), Conditional, None, false),
                ("一般数据4级".into(), Conditional, None, false),
                ("重要数据".into(), Conditional, None, true),
                ("核心数据".into(), None, None, true),
            ]
        );
        let core = defaults(&p, level(&p, "核心数据"));
        assert!(core.attributes.share_basis.unwrap().contains("不予共享"));
        for l in p.levels() {
            check_complete(&defaults(&p, l.rank).attributes).unwrap();
        }
    }

    #[test]
    fn a_custom_profile_follows_the_generic_rule() {
        let p = Profile::from_toml_str(
            r#"
name = "custom"
title = "自定义"
default_level = "公开"
[[levels]]
name = "公开"
description = "d"
protection = "p"
sharing = "可共享"
[[levels]]
name = "内部"
description = "d"
protection = "p"
sharing = "经审批共享"
[[levels]]
name = "机密"
description = "d"
protection = "p"
sharing = "严格控制"
catalogue = true
[[levels]]
name = "核心"
description = "d"
protection = "p"
sharing = "不共享"
catalogue = true
[types]
"#,
            "custom.toml",
        )
        .unwrap();
        let kinds: Vec<(Openness, Openness)> = p
            .levels()
            .iter()
            .map(|l| {
                let d = defaults(&p, l.rank);
                (d.attributes.share, d.attributes.open)
            })
            .collect();
        use Openness::*;
        assert_eq!(
            kinds,
            vec![
                (Unconditional, Conditional),
                (Conditional, None),
                (Conditional, None),
                (None, None)
            ]
        );
    }

    fn attrs(share: Openness, open: Openness) -> Attributes {
        Attributes {
            share,
            share_conditions: (share == Openness::Conditional).then(|| "条件".to_string()),
            share_basis: (share == Openness::None).then(|| "依据".to_string()),
            open,
            open_conditions: (open == Openness::Conditional).then(|| "条件".to_string()),
        }
    }

    #[test]
    fn stewards_only_tighten_and_important_data_is_never_opened() {
        use Openness::*;
        let all = [Unconditional, Conditional, None];
        for from_share in all {
            for from_open in all {
                for to_share in all {
                    for to_open in all {
                        for important in [false, true] {
                            let current = attrs(from_share, from_open);
                            let proposed = attrs(to_share, to_open);
                            let steward =
                                check_change(&current, &proposed, important, Changer::Steward);
                            let cdo = check_change(
                                &current,
                                &proposed,
                                important,
                                Changer::ChiefDataOfficer,
                            );
                            if important && to_open == Unconditional {
                                assert_eq!(steward.unwrap_err().code, "never_open");
                                assert_eq!(cdo.unwrap_err().code, "never_open");
                                continue;
                            }
                            cdo.unwrap();
                            let stricter = to_share >= from_share && to_open >= from_open;
                            assert_eq!(steward.is_ok(), stricter, "{current:?} → {proposed:?}");
                            if !stricter {
                                assert_eq!(steward.unwrap_err().code, "cdo_approval_required");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn conditions_and_basis_are_required() {
        let mut a = attrs(Openness::Conditional, Openness::None);
        a.share_conditions = Some("  ".into());
        assert_eq!(check_complete(&a).unwrap_err().code, "invalid_input");
        let mut b = attrs(Openness::None, Openness::None);
        b.share_basis = None;
        let e = check_change(
            &attrs(Openness::Conditional, Openness::None),
            &b,
            false,
            Changer::Steward,
        )
        .unwrap_err();
        assert!(e.message.contains("依据"), "{e}");
    }
}
