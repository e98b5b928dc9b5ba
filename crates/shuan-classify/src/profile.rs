//! Grading profiles: parsing, `extends`, and validation of the TOML files.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use crate::taxonomy::{self, Category};

/// The built-in profiles: (name, TOML text). `gbt43697` is the default.
pub const BUILTIN_PROFILES: &[(&str, &str)] = &[
    ("gbt43697", include_str!("../profiles/gbt43697.toml")),
    ("xinyang", include_str!("../profiles/xinyang.toml")),
];

/// Why a profile could not be loaded. Every message names the profile (its file or
/// built-in name) and the offending key, and says what is allowed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Neither a built-in name nor a readable file.
    #[error("profile '{0}' is not a built-in profile ({builtins}) and no such file exists", builtins = builtin_names())]
    NotFound(String),
    /// The file exists but could not be read.
    #[error("cannot read profile file {path}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, or a key of the wrong type or unknown.
    #[error("profile {origin}: {message}")]
    Syntax {
        /// Where the profile came from.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// Valid TOML that breaks a rule of profiles.
    #[error("profile {origin}: {message}")]
    Invalid {
        /// Where the profile came from.
        origin: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

fn builtin_names() -> String {
    BUILTIN_PROFILES
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Position of a level in its profile, lowest = 0. Comparable within one profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LevelRank(pub u8);

/// One level of a profile, with what it demands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelDef {
    /// The level's name as printed and stored (e.g. `一般数据4级`, `二级`).
    pub name: String,
    /// When data is at this level.
    pub description: String,
    /// Protection the level needs.
    pub protection: String,
    /// The share/open rule of the level (共享开放).
    pub sharing: String,
    /// Whether tables at this level belong in the important-data catalogue (重要数据目录).
    pub catalogue: bool,
    /// Its rank.
    pub rank: LevelRank,
}

/// How a profile grades one data type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TypeRule {
    /// Category in the taxonomy.
    pub category: &'static Category,
    /// Level of a column holding this type.
    pub level: LevelRank,
}

/// Raises a table that holds every one of a set of types (点面结合).
#[derive(Debug, Clone, PartialEq)]
pub struct CombinationRule {
    /// Stable rule id.
    pub name: String,
    /// Data type ids that must all be present.
    pub all_of: Vec<String>,
    /// Level the table is raised to.
    pub raise_to: LevelRank,
    /// Why, in Chinese, for the explanation.
    pub reason: String,
}

/// Raises a table by its number of records (规模).
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleRule {
    /// Stable rule id.
    pub name: String,
    /// Minimum number of records.
    pub min_rows: u64,
    /// Only when the table holds sensitive personal information.
    pub sensitive_pi: bool,
    /// Only when some column is at least this level.
    pub min_column_level: Option<LevelRank>,
    /// Level the table is raised to.
    pub raise_to: LevelRank,
    /// Why, in Chinese.
    pub reason: String,
}

/// A grading profile (分级规则): levels, type mappings and raising rules.
#[derive(Debug, Clone)]
pub struct Profile {
    name: String,
    title: String,
    levels: Vec<LevelDef>,
    pub(crate) default_level: LevelRank,
    pub(crate) types: BTreeMap<String, TypeRule>,
    pub(crate) combination_rules: Vec<CombinationRule>,
    pub(crate) scale_rules: Vec<ScaleRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Option<String>,
    title: Option<String>,
    extends: Option<String>,
    default_level: Option<String>,
    #[serde(default)]
    levels: Vec<RawLevel>,
    #[serde(default)]
    types: BTreeMap<String, RawTypeRule>,
    #[serde(default)]
    combination_rules: Vec<RawCombination>,
    #[serde(default)]
    scale_rules: Vec<RawScale>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    protection: String,
    #[serde(default)]
    sharing: String,
    #[serde(default)]
    catalogue: bool,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawTypeRule {
    category: Option<String>,
    level: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawCombination {
    name: String,
    #[serde(default)]
    all_of: Vec<String>,
    raise_to: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    disabled: bool,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawScale {
    name: String,
    min_rows: Option<u64>,
    #[serde(default)]
    sensitive_pi: bool,
    min_column_level: Option<String>,
    raise_to: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    disabled: bool,
}

impl Profile {
    /// Loads a built-in profile by name.
    pub fn builtin(name: &str) -> Result<Profile, ProfileError> {
        let text = BUILTIN_PROFILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| ProfileError::NotFound(name.to_string()))?;
        Profile::from_toml_str(text, &format!("built-in '{name}'"))
    }

    /// The default profile (`gbt43697`).
    pub fn default_profile() -> Profile {
        Profile::builtin("gbt43697").expect("built-in profile gbt43697 is valid (tested)")
    }

    /// `spec` is a built-in name, else a path to a TOML profile file.
    pub fn load(spec: &str) -> Result<Profile, ProfileError> {
        if BUILTIN_PROFILES.iter().any(|(n, _)| *n == spec) {
            return Profile::builtin(spec);
        }
        let path = Path::new(spec);
        if !path.exists() {
            return Err(ProfileError::NotFound(spec.to_string()));
        }
        Profile::from_file(path)
    }

    /// Loads a profile file.
    pub fn from_file(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Profile::from_toml_str(&text, &path.display().to_string())
    }

    /// Parses a profile from TOML text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let merged = match raw.extends.clone() {
            Some(base_name) => {
                let base_text = BUILTIN_PROFILES
                    .iter()
                    .find(|(n, _)| *n == base_name)
                    .map(|(_, t)| *t)
                    .ok_or_else(|| ProfileError::Invalid {
                        origin: origin.to_string(),
                        message: format!(
                            "extends = '{base_name}' is not a built-in profile ({})",
                            builtin_names()
                        ),
                    })?;
                let base: RawProfile =
                    toml::from_str(base_text).expect("built-in profiles parse (tested)");
                merge(base, raw)
            }
            None => raw,
        };
        build(merged, origin)
    }

    /// Checks that every known detector id is mapped and that the profile maps no id the
    /// detector does not know (a typo would silently never match).
    pub fn check_type_ids(&self, known: &[&str]) -> Result<(), ProfileError> {
        let known_set: HashSet<&str> = known.iter().copied().collect();
        let unknown: Vec<&str> = self
            .types
            .keys()
            .map(String::as_str)
            .filter(|t| !known_set.contains(t))
            .collect();
        if !unknown.is_empty() {
            return Err(ProfileError::Invalid {
                origin: self.name.clone(),
                message: format!(
                    "[types] names unknown data type id(s) {}; known ids: {}",
                    unknown.join(", "),
                    known.join(", ")
                ),
            });
        }
        let referenced = self
            .combination_rules
            .iter()
            .flat_map(|r| r.all_of.iter().map(move |t| (r, t)));
        for (rule, t) in referenced {
            if !known_set.contains(t.as_str()) {
                return Err(ProfileError::Invalid {
                    origin: self.name.clone(),
                    message: format!(
                        "combination rule '{}' names unknown data type id '{t}'",
                        rule.name
                    ),
                });
            }
        }
        let missing: Vec<&str> = known
            .iter()
            .copied()
            .filter(|t| !self.types.contains_key(*t))
            .collect();
        if !missing.is_empty() {
            return Err(ProfileError::Invalid {
                origin: self.name.clone(),
                message: format!(
                    "[types] has no line for data type id(s) {}; every type needs a category and a level",
                    missing.join(", ")
                ),
            });
        }
        Ok(())
    }

    /// The profile's name (`gbt43697`, `xinyang`, or the user file's `name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One-line title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Levels, lowest first.
    pub fn levels(&self) -> &[LevelDef] {
        &self.levels
    }

    /// The level definition of a rank (ranks come from this profile).
    pub fn level(&self, rank: LevelRank) -> &LevelDef {
        let i = usize::from(rank.0).min(self.levels.len() - 1);
        &self.levels[i]
    }

    /// Looks a level up by name.
    pub fn level_by_name(&self, name: &str) -> Option<&LevelDef> {
        self.levels.iter().find(|l| l.name == name)
    }

    /// Level of columns with nothing sensitive.
    pub fn default_level(&self) -> LevelRank {
        self.default_level
    }

    /// The mapping of one data type id.
    pub fn type_rule(&self, type_id: &str) -> Option<&TypeRule> {
        self.types.get(type_id)
    }

    /// Every mapped type id, sorted.
    pub fn type_ids(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }

    /// The combination rules.
    pub fn combination_rules(&self) -> &[CombinationRule] {
        &self.combination_rules
    }

    /// The scale rules.
    pub fn scale_rules(&self) -> &[ScaleRule] {
        &self.scale_rules
    }
}

/// Overlays a user file on its base: scalar keys and levels replace, type lines replace one
/// by one (a line may give only `level` or only `category`), rules replace by name.
fn merge(mut base: RawProfile, over: RawProfile) -> RawProfile {
    if over.name.is_some() {
        base.name = over.name;
    }
    if over.title.is_some() {
        base.title = over.title;
    }
    if over.default_level.is_some() {
        base.default_level = over.default_level;
    }
    if !over.levels.is_empty() {
        base.levels = over.levels;
    }
    for (id, rule) in over.types {
        let entry = base.types.entry(id).or_insert(RawTypeRule {
            category: None,
            level: None,
        });
        if rule.category.is_some() {
            entry.category = rule.category;
        }
        if rule.level.is_some() {
            entry.level = rule.level;
        }
    }
    for rule in over.combination_rules {
        base.combination_rules.retain(|r| r.name != rule.name);
        base.combination_rules.push(rule);
    }
    for rule in over.scale_rules {
        base.scale_rules.retain(|r| r.name != rule.name);
        base.scale_rules.push(rule);
    }
    base.extends = None;
    base
}

fn build(raw: RawProfile, origin: &str) -> Result<Profile, ProfileError> {
    let invalid = |message: String| ProfileError::Invalid {
        origin: origin.to_string(),
        message,
    };
    let name = raw
        .name
        .ok_or_else(|| invalid("missing key `name`".into()))?;
    if raw.levels.is_empty() {
        return Err(invalid(
            "no [[levels]]: a profile lists its levels lowest first (or `extends` a built-in one)"
                .into(),
        ));
    }
    if raw.levels.len() > usize::from(u8::MAX) {
        return Err(invalid("more than 255 levels".into()));
    }
    let mut levels = Vec::with_capacity(raw.levels.len());
    for (i, l) in raw.levels.into_iter().enumerate() {
        if l.name.trim().is_empty() {
            return Err(invalid(format!("[[levels]] #{} has an empty name", i + 1)));
        }
        if levels.iter().any(|x: &LevelDef| x.name == l.name) {
            return Err(invalid(format!("level '{}' is listed twice", l.name)));
        }
        levels.push(LevelDef {
            name: l.name,
            description: l.description,
            protection: l.protection,
            sharing: l.sharing,
            catalogue: l.catalogue,
            rank: LevelRank(i as u8),
        });
    }
    let level_names = levels
        .iter()
        .map(|l| l.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let find_level = |value: &str, key: &str| -> Result<LevelRank, ProfileError> {
        levels
            .iter()
            .find(|l| l.name == value)
            .map(|l| l.rank)
            .ok_or_else(|| {
                invalid(format!(
                    "{key} = '{value}' is not a level of this profile; levels are: {level_names}"
                ))
            })
    };
    let default_level = match raw.default_level.as_deref() {
        Some(v) => find_level(v, "default_level")?,
        None => levels[0].rank,
    };
    let mut types = BTreeMap::new();
    for (id, rule) in raw.types {
        let cat_id = rule.category.ok_or_else(|| {
            invalid(format!(
                "types.{id} has no `category` (and the base profile has none for it)"
            ))
        })?;
        let category = taxonomy::category(&cat_id).ok_or_else(|| {
            invalid(format!(
                "types.{id}.category = '{cat_id}' is not a category; categories are: {}",
                taxonomy::CATEGORIES
                    .iter()
                    .map(|c| c.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let level_name = rule.level.ok_or_else(|| {
            invalid(format!(
                "types.{id} has no `level` (and the base profile has none for it)"
            ))
        })?;
        let level = find_level(&level_name, &format!("types.{id}.level"))?;
        types.insert(id, TypeRule { category, level });
    }
    let mut combination_rules = Vec::new();
    for r in raw.combination_rules.into_iter().filter(|r| !r.disabled) {
        if r.all_of.len() < 2 {
            return Err(invalid(format!(
                "combination rule '{}' needs at least two types in `all_of`",
                r.name
            )));
        }
        let to = r
            .raise_to
            .ok_or_else(|| invalid(format!("combination rule '{}' has no `raise_to`", r.name)))?;
        combination_rules.push(CombinationRule {
            raise_to: find_level(&to, &format!("combination rule '{}' raise_to", r.name))?,
            name: r.name,
            all_of: r.all_of,
            reason: r.reason,
        });
    }
    let mut scale_rules = Vec::new();
    for r in raw.scale_rules.into_iter().filter(|r| !r.disabled) {
        let min_rows = r
            .min_rows
            .ok_or_else(|| invalid(format!("scale rule '{}' has no `min_rows`", r.name)))?;
        let to = r
            .raise_to
            .ok_or_else(|| invalid(format!("scale rule '{}' has no `raise_to`", r.name)))?;
        let min_column_level = match r.min_column_level {
            Some(v) => Some(find_level(
                &v,
                &format!("scale rule '{}' min_column_level", r.name),
            )?),
            None => None,
        };
        scale_rules.push(ScaleRule {
            raise_to: find_level(&to, &format!("scale rule '{}' raise_to", r.name))?,
            name: r.name,
            min_rows,
            sensitive_pi: r.sensitive_pi,
            min_column_level,
            reason: r.reason,
        });
    }
    Ok(Profile {
        title: raw.title.unwrap_or_else(|| name.clone()),
        name,
        levels,
        default_level,
        types,
        combination_rules,
        scale_rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for (name, _) in BUILTIN_PROFILES {
            let p = Profile::builtin(name).unwrap();
            assert_eq!(p.name(), *name);
            assert!(!p.types.is_empty());
            assert!(p.levels().iter().any(|l| l.catalogue));
        }
        assert!(matches!(
            Profile::load("no-such-profile"),
            Err(ProfileError::NotFound(_))
        ));
    }

    #[test]
    fn builtins_map_the_same_types() {
        let (g, x) = (
            Profile::builtin("gbt43697").unwrap(),
            Profile::builtin("xinyang").unwrap(),
        );
        let a: Vec<&str> = g.type_ids().collect();
        let b: Vec<&str> = x.type_ids().collect();
        assert_eq!(a, b);
    }

    #[test]
    fn user_file_overrides_one_line() {
        let p = Profile::from_toml_str(
            r#"
            extends = "gbt43697"
            name = "dept"
            [types]
            ipv4 = { level = "一般数据3级" }
            [[scale_rules]]
            name = "sensitive_pi_100k"
            min_rows = 50000
            sensitive_pi = true
            raise_to = "重要数据"
            "#,
            "dept.toml",
        )
        .unwrap();
        assert_eq!(p.name(), "dept");
        let ip = p.type_rule("ipv4").unwrap();
        assert_eq!(p.level(ip.level).name, "一般数据3级");
        assert_eq!(ip.category.id, "pi_network_id");
        assert_eq!(p.scale_rules().len(), 1);
        assert_eq!(p.scale_rules()[0].min_rows, 50000);
        // Untouched lines stay.
        let id = p.type_rule("cn_resident_id").unwrap();
        assert_eq!(p.level(id.level).name, "一般数据4级");
    }

    #[test]
    fn disabled_rule_removes_base_rule() {
        let p = Profile::from_toml_str(
            "extends = \"gbt43697\"\n[[scale_rules]]\nname = \"sensitive_pi_100k\"\ndisabled = true\n",
            "x.toml",
        )
        .unwrap();
        assert!(p.scale_rules().is_empty());
    }

    fn err(text: &str) -> String {
        Profile::from_toml_str(text, "bad.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn clear_errors() {
        let e = err("extends = \"gbt43697\"\n[types]\nipv4 = { level = \"5级\" }\n");
        assert!(e.contains("bad.toml") && e.contains("types.ipv4.level") && e.contains("5级"));
        assert!(e.contains("一般数据1级"), "lists the levels: {e}");
        let e = err("extends = \"gbt43697\"\n[types]\nipv4 = { category = \"pi_nope\" }\n");
        assert!(e.contains("pi_nope") && e.contains("pi_basic"), "{e}");
        let e = err("extends = \"gbt9999\"\n");
        assert!(e.contains("gbt9999") && e.contains("xinyang"), "{e}");
        let e = err("extends = \"gbt43697\"\nlevl = 3\n");
        assert!(e.contains("bad.toml") && e.contains("levl"), "{e}");
        let e = err("name = \"x\"\n");
        assert!(e.contains("[[levels]]"), "{e}");
        let e = err("name = \"x\"\n[[levels]]\nname = \"a\"\n[[levels]]\nname = \"a\"\n");
        assert!(e.contains("twice"), "{e}");
        let e = err("extends = \"gbt43697\"\n[types]\nnew_type = { level = \"一般数据2级\" }\n");
        assert!(e.contains("new_type") && e.contains("category"), "{e}");
        let e = err("[[[");
        assert!(e.contains("bad.toml"), "{e}");
    }

    #[test]
    fn check_type_ids_reports_missing_and_unknown() {
        let p = Profile::builtin("gbt43697").unwrap();
        let mut known: Vec<&str> = p.type_ids().collect();
        p.check_type_ids(&known).unwrap();
        known.push("future_type");
        let e = p.check_type_ids(&known).unwrap_err().to_string();
        assert!(e.contains("future_type") && e.contains("no line"), "{e}");
        known.retain(|t| *t != "future_type" && *t != "ipv6");
        let e = p.check_type_ids(&known).unwrap_err().to_string();
        assert!(e.contains("ipv6") && e.contains("unknown"), "{e}");
    }
}
