//! Classification and grading (分类分级) for shuan.
//!
//! Owns: the category taxonomy (GB/T 35273 / GB/T 43697), grading profiles loaded from data
//! files, and the rules that turn column findings into column, table and dataset levels.
//! Must not: detect data types itself (it consumes `shuan-detect` ids) or touch sources.
//!
//! A [`Profile`] maps every data type id to a category and a level, orders its levels, and
//! carries the rules that raise a table above its highest column: combination rules
//! (点面结合: fields that identify a person together) and scale rules (规模: sensitive
//! personal information of many people is a candidate for 重要数据). Built-in profiles are
//! TOML files compiled in from `profiles/`; a user profile file has the same shape and may
//! `extends` a built-in one, overriding only what it names.

mod profile;
pub mod taxonomy;

pub use profile::{
    CombinationRule, LevelDef, LevelRank, Profile, ProfileError, ScaleRule, TypeRule,
    BUILTIN_PROFILES,
};
pub use taxonomy::{category, Category, CATEGORIES};

/// The grade of one column: what the profile says about the data type found in it.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnGrade {
    /// The data type id graded, or `None` when nothing sensitive was found.
    pub type_id: Option<String>,
    /// The category of the type, if the type is sensitive.
    pub category: Option<&'static Category>,
    /// The level (rank into the profile's levels).
    pub level: LevelRank,
}

/// The grade of one table (dataset): the level and every reason that set it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableGrade {
    /// Final level after 就高从严 and the raising rules.
    pub level: LevelRank,
    /// Why: the column(s) that set the base level and each rule that raised it, in order.
    pub reasons: Vec<String>,
    /// Names of the raising rules that fired (stable ids from the profile).
    pub rules_fired: Vec<String>,
}

/// What the table grader needs to know about one column.
#[derive(Debug, Clone, Copy)]
pub struct GradedColumn<'a> {
    /// Column name, for the explanation.
    pub name: &'a str,
    /// The column's grade.
    pub grade: &'a ColumnGrade,
}

impl Profile {
    /// Grades one column from the data type found in it (`None`: nothing sensitive).
    ///
    /// A type the profile does not map (possible only with a newer detector than the
    /// profile) gets the profile's highest *一般* treatment it can justify: the default
    /// level, with no category — callers validate profiles with [`Profile::check_type_ids`]
    /// first so this does not happen in practice.
    pub fn grade_column(&self, type_id: Option<&str>) -> ColumnGrade {
        match type_id.and_then(|t| self.types.get(t).map(|r| (t, r))) {
            Some((t, rule)) => ColumnGrade {
                type_id: Some(t.to_string()),
                category: Some(rule.category),
                level: rule.level,
            },
            None => ColumnGrade {
                type_id: type_id.map(str::to_string),
                category: None,
                level: self.default_level,
            },
        }
    }

    /// Grades a table: the highest column level (就高从严), then combination rules, then
    /// scale rules. `rows` is the number of records the table holds (its row count if known,
    /// else the rows scanned). Rules only ever raise a level.
    pub fn grade_table(&self, columns: &[GradedColumn<'_>], rows: u64) -> TableGrade {
        let mut level = self.default_level;
        let mut reasons = Vec::new();
        let mut rules_fired = Vec::new();

        let top = columns.iter().map(|c| c.grade.level).max();
        if let Some(top) = top.filter(|t| *t > self.default_level) {
            level = top;
            let names: Vec<&str> = columns
                .iter()
                .filter(|c| c.grade.level == top)
                .map(|c| c.name)
                .collect();
            reasons.push(format!(
                "就高从严：取最高字段级别 {}（{}）",
                self.level(top).name,
                names.join("、")
            ));
        } else {
            reasons.push(format!(
                "未发现敏感字段，取默认级别 {}",
                self.level(self.default_level).name
            ));
        }

        let present: std::collections::HashSet<&str> = columns
            .iter()
            .filter_map(|c| c.grade.type_id.as_deref())
            .collect();
        for rule in &self.combination_rules {
            if rule.all_of.iter().all(|t| present.contains(t.as_str())) && rule.raise_to > level {
                level = rule.raise_to;
                reasons.push(format!(
                    "组合规则 {} → {}：{}",
                    rule.name,
                    self.level(level).name,
                    rule.reason
                ));
                rules_fired.push(rule.name.clone());
            }
        }

        let has_sensitive_pi = columns
            .iter()
            .any(|c| c.grade.category.is_some_and(|cat| cat.sensitive_pi));
        for rule in &self.scale_rules {
            let applies = rows >= rule.min_rows
                && (!rule.sensitive_pi || has_sensitive_pi)
                && rule
                    .min_column_level
                    .is_none_or(|min| top.is_some_and(|t| t >= min));
            if applies && rule.raise_to > level {
                level = rule.raise_to;
                reasons.push(format!(
                    "规模规则 {}（{} 行 ≥ {}）→ {}：{}",
                    rule.name,
                    rows,
                    rule.min_rows,
                    self.level(level).name,
                    rule.reason
                ));
                rules_fired.push(rule.name.clone());
            }
        }
        TableGrade {
            level,
            reasons,
            rules_fired,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col<'a>(name: &'a str, g: &'a ColumnGrade) -> GradedColumn<'a> {
        GradedColumn { name, grade: g }
    }

    #[test]
    fn table_takes_highest_column_level() {
        let p = Profile::builtin("gbt43697").unwrap();
        let id = p.grade_column(Some("cn_resident_id"));
        let name = p.grade_column(Some("person_name"));
        let none = p.grade_column(None);
        assert_eq!(p.level(id.level).name, "一般数据4级");
        assert_eq!(id.category.unwrap().id, "pi_identity");
        assert_eq!(p.level(none.level).name, "一般数据1级");
        assert!(none.category.is_none());
        let g = p.grade_table(&[col("xm", &name), col("sfzh", &id), col("bz", &none)], 10);
        assert_eq!(p.level(g.level).name, "一般数据4级");
        assert!(g.reasons[0].contains("sfzh"), "{:?}", g.reasons);
        assert!(g.rules_fired.is_empty());
    }

    #[test]
    fn no_sensitive_columns_gives_default() {
        let p = Profile::builtin("gbt43697").unwrap();
        let none = p.grade_column(None);
        let g = p.grade_table(&[col("a", &none)], 1_000_000);
        assert_eq!(g.level, p.default_level());
        let g = p.grade_table(&[], 0);
        assert_eq!(g.level, p.default_level());
    }

    #[test]
    fn scale_rule_raises_sensitive_pi_only() {
        let p = Profile::builtin("gbt43697").unwrap();
        let id = p.grade_column(Some("cn_resident_id"));
        let ip = p.grade_column(Some("ipv4"));
        let below = p.grade_table(&[col("sfzh", &id)], 99_999);
        assert_eq!(p.level(below.level).name, "一般数据4级");
        let at = p.grade_table(&[col("sfzh", &id)], 100_000);
        assert_eq!(p.level(at.level).name, "重要数据");
        assert!(p.level(at.level).catalogue);
        assert_eq!(at.rules_fired, vec!["sensitive_pi_100k".to_string()]);
        // IP addresses are not sensitive PI: scale alone does not raise them.
        let logs = p.grade_table(&[col("ip", &ip)], 5_000_000);
        assert_eq!(p.level(logs.level).name, "一般数据2级");
    }

    #[test]
    fn combination_rule_raises() {
        let p = Profile::builtin("gbt43697").unwrap();
        let n = p.grade_column(Some("person_name"));
        let m = p.grade_column(Some("cn_mobile"));
        let a = p.grade_column(Some("address"));
        let two = p.grade_table(&[col("xm", &n), col("sj", &m)], 10);
        assert_eq!(p.level(two.level).name, "一般数据3级");
        let three = p.grade_table(&[col("xm", &n), col("sj", &m), col("dz", &a)], 10);
        assert_eq!(p.level(three.level).name, "一般数据4级");
        assert_eq!(three.rules_fired, vec!["name_phone_address".to_string()]);
    }

    #[test]
    fn xinyang_levels_and_sharing_rules() {
        let p = Profile::builtin("xinyang").unwrap();
        let names: Vec<&str> = p.levels().iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["一级", "二级", "三级"]);
        let id = p.grade_column(Some("cn_resident_id"));
        assert_eq!(p.level(id.level).name, "二级");
        assert!(p.level(id.level).sharing.contains("授权部门"));
        let three = p.levels().last().unwrap();
        assert!(three.sharing.contains("原则上不对社会开放"));
        let big = p.grade_table(&[col("sfzh", &id)], 1_000_000);
        assert_eq!(p.level(big.level).name, "三级");
    }
}
