//! Compliance profiles: one TOML file per regulation or national baseline, listing its
//! controls article by article. Loading checks every rule a report relies on, and names
//! the file, the control and what to write when one is broken.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::query::{EvidenceQuery, Params, QueryError};

/// The built-in profiles: (id, file name, TOML text).
pub const BUILTIN_PROFILES: &[(&str, &str, &str)] = &[
    ("jm", "jm.toml", include_str!("../profiles/jm.toml")),
    ("gz", "gz.toml", include_str!("../profiles/gz.toml")),
    ("xy", "xy.toml", include_str!("../profiles/xy.toml")),
    ("jc", "jc.toml", include_str!("../profiles/jc.toml")),
    ("xa", "xa.toml", include_str!("../profiles/xa.toml")),
    (
        "gbt22239-l3",
        "gbt22239-l3.toml",
        include_str!("../profiles/gbt22239-l3.toml"),
    ),
    (
        "gbt39786",
        "gbt39786.toml",
        include_str!("../profiles/gbt39786.toml"),
    ),
    (
        "gbt43697",
        "gbt43697.toml",
        include_str!("../profiles/gbt43697.toml"),
    ),
];

/// The highest requirement id of the regulations digest (R-01 … R-37).
pub const MAX_REQUIREMENT: u32 = 37;

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Neither a built-in id nor a readable file.
    #[error("compliance profile '{0}' is not built in ({builtins}) and no such file exists", builtins = builtin_ids())]
    NotFound(String),
    /// The file could not be read.
    #[error("cannot read compliance profile {path}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not TOML, or a key unknown or of the wrong type.
    #[error("compliance profile {origin}: {message}")]
    Syntax {
        /// The file.
        origin: String,
        /// The parser's message with line and column.
        message: String,
    },
    /// A rule of profiles broken by the profile as a whole.
    #[error("compliance profile {origin}: {message}")]
    Invalid {
        /// The file.
        origin: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A rule broken by one control.
    #[error("compliance profile {origin}, control '{control}': {message}")]
    Control {
        /// The file.
        origin: String,
        /// The control's id (or its position when it has none).
        control: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A control's evidence query or its parameters are wrong.
    #[error("compliance profile {origin}, control '{control}': {source}")]
    Query {
        /// The file.
        origin: String,
        /// The control's id.
        control: String,
        /// What the registry said (boxed: it names four strings).
        source: Box<QueryError>,
    },
}

fn builtin_ids() -> String {
    BUILTIN_PROFILES
        .iter()
        .map(|(id, _, _)| *id)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a profile describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    /// A municipal regulation (管理办法): controls cite articles (第n条), every article listed.
    Regulation,
    /// A national standard (GB/T): controls cite clauses; only the items the platform
    /// touches are listed.
    Baseline,
}

/// How a control is evidenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlKind {
    /// By an evidence query over the platform's records and ledger.
    Evidence,
    /// By a person: an organisational duty software cannot evidence; the evidence is an
    /// uploaded document.
    Manual,
    /// The article places no duty on a department (purpose, definitions, other bodies'
    /// duties, entry into force).
    NoRequirement,
}

impl ControlKind {
    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            ControlKind::Evidence => "evidence",
            ControlKind::Manual => "manual",
            ControlKind::NoRequirement => "no_requirement",
        }
    }
}

/// One control of a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Control {
    /// Stable id, `<profile>-<article>-<slug>` (e.g. `jc-23-backup`).
    pub id: String,
    /// The article (第n条) of a regulation.
    pub article: Option<u32>,
    /// The clause of a baseline standard, as written (with "clause reference to be
    /// checked" where the number is not confirmed).
    pub clause: Option<String>,
    /// How it is evidenced.
    pub kind: ControlKind,
    /// Short quote or paraphrase of the article's text.
    pub reference: String,
    /// Requirement ids of the regulations digest (`R-10`).
    pub requirements: Vec<String>,
    /// What the control requires, in Chinese.
    pub requires: String,
    /// The same in English.
    pub requires_en: String,
    /// The evidence query (for `Evidence` controls).
    pub evidence: Option<EvidenceQuery>,
    /// The query's id as written.
    pub evidence_id: Option<String>,
    /// The document expected as evidence (for `Manual` controls).
    pub document: Option<String>,
    /// Why there is no requirement (for `NoRequirement` controls).
    pub reason: Option<String>,
}

impl Control {
    /// How the control's status is decided: its evidence query's rule from the registry
    /// (None for manual and no-requirement entries).
    pub fn status_rule(&self) -> Option<&'static str> {
        self.evidence_id
            .as_deref()
            .and_then(crate::query::query_spec)
            .map(|q| q.rule)
    }
}

/// A loaded and checked profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Stable id (`jc`, `gbt22239-l3`).
    pub id: String,
    /// Regulation or baseline.
    pub kind: ProfileKind,
    /// Short name (`JC`).
    pub short: String,
    /// Title of the document.
    pub title: String,
    /// Its number or standard id.
    pub document: String,
    /// Region (for regulations).
    pub region: Option<String>,
    /// The seed text's file name in `shared/regulations` (for regulations).
    pub source_file: Option<String>,
    /// Number of articles (条) of a regulation.
    pub articles: Option<u32>,
    /// Controls, in file order.
    pub controls: Vec<Control>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    id: String,
    kind: ProfileKind,
    short: String,
    title: String,
    document: String,
    region: Option<String>,
    source_file: Option<String>,
    articles: Option<u32>,
    #[serde(default)]
    controls: Vec<RawControl>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControl {
    id: Option<String>,
    article: Option<u32>,
    clause: Option<String>,
    kind: Option<ControlKind>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    #[serde(default)]
    requirements: Vec<String>,
    requires: Option<String>,
    requires_en: Option<String>,
    evidence: Option<String>,
    params: Option<Params>,
    document: Option<String>,
    reason: Option<String>,
}

/// Coverage of a regulation's articles by kind of control.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Articles (条) in the regulation (for a baseline: distinct clauses).
    pub articles: u32,
    /// Articles with at least one evidence control.
    pub evidenced: u32,
    /// Articles whose controls are all manual.
    pub manual: u32,
    /// Articles with no requirement on a department.
    pub no_requirement: u32,
    /// Controls evidenced by a query.
    pub evidence_controls: u32,
    /// Manual controls.
    pub manual_controls: u32,
}

impl Profile {
    /// Every built-in profile, in a fixed order.
    pub fn builtins() -> Result<Vec<Profile>, ProfileError> {
        BUILTIN_PROFILES
            .iter()
            .map(|(_, file, text)| Profile::from_toml_str(text, &format!("built-in {file}")))
            .collect()
    }

    /// A built-in profile by id.
    pub fn builtin(id: &str) -> Result<Profile, ProfileError> {
        let (_, file, text) = BUILTIN_PROFILES
            .iter()
            .find(|(i, _, _)| *i == id)
            .ok_or_else(|| ProfileError::NotFound(id.to_string()))?;
        Profile::from_toml_str(text, &format!("built-in {file}"))
    }

    /// A built-in id, else a path to a profile file.
    pub fn load(spec: &str) -> Result<Profile, ProfileError> {
        if BUILTIN_PROFILES.iter().any(|(i, _, _)| *i == spec) {
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

    /// Parses and checks a profile; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        build(raw, origin)
    }

    /// Articles (or clauses) and how their controls are evidenced.
    pub fn coverage(&self) -> Coverage {
        let mut by_unit: BTreeMap<String, Vec<ControlKind>> = BTreeMap::new();
        for c in &self.controls {
            let unit = match (c.article, &c.clause) {
                (Some(a), _) => format!("{a:04}"),
                (None, Some(clause)) => clause.clone(),
                (None, None) => c.id.clone(),
            };
            by_unit.entry(unit).or_default().push(c.kind);
        }
        let mut cov = Coverage {
            articles: self.articles.unwrap_or(by_unit.len() as u32),
            ..Coverage::default()
        };
        for kinds in by_unit.values() {
            if kinds.contains(&ControlKind::Evidence) {
                cov.evidenced += 1;
            } else if kinds.contains(&ControlKind::Manual) {
                cov.manual += 1;
            } else {
                cov.no_requirement += 1;
            }
        }
        for c in &self.controls {
            match c.kind {
                ControlKind::Evidence => cov.evidence_controls += 1,
                ControlKind::Manual => cov.manual_controls += 1,
                ControlKind::NoRequirement => {}
            }
        }
        cov
    }

    /// The controls of one article.
    pub fn article_controls(&self, article: u32) -> impl Iterator<Item = &Control> {
        self.controls
            .iter()
            .filter(move |c| c.article == Some(article))
    }
}

fn valid_requirement(r: &str) -> bool {
    r.strip_prefix("R-")
        .filter(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| (1..=MAX_REQUIREMENT).contains(&n))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

fn build(raw: RawProfile, origin: &str) -> Result<Profile, ProfileError> {
    let invalid = |message: String| ProfileError::Invalid {
        origin: origin.to_string(),
        message,
    };
    if !valid_id(&raw.id) {
        return Err(invalid(format!(
            "id = '{}' must be lowercase letters, digits and '-' (e.g. \"jc\", \"gbt22239-l3\")",
            raw.id
        )));
    }
    match raw.kind {
        ProfileKind::Regulation => {
            if raw.articles.is_none_or(|n| n == 0) {
                return Err(invalid(
                    "a regulation profile needs articles = N, the number of articles (条) in its text"
                        .to_string(),
                ));
            }
            if raw.source_file.is_none() {
                return Err(invalid(
                    "a regulation profile needs source_file = \"NNN_xxx.txt\", its text in shared/regulations"
                        .to_string(),
                ));
            }
        }
        ProfileKind::Baseline => {
            if raw.articles.is_some() {
                return Err(invalid(
                    "a baseline profile lists clauses, not articles: remove `articles`".to_string(),
                ));
            }
        }
    }
    if raw.controls.is_empty() {
        return Err(invalid("the profile has no [[controls]]".to_string()));
    }

    let prefix = format!("{}-", raw.id);
    let mut seen: HashSet<String> = HashSet::new();
    let mut controls = Vec::with_capacity(raw.controls.len());
    for (i, rc) in raw.controls.into_iter().enumerate() {
        let label = rc
            .id
            .clone()
            .unwrap_or_else(|| format!("#{} (no id)", i + 1));
        let bad = |message: String| ProfileError::Control {
            origin: origin.to_string(),
            control: label.clone(),
            message,
        };
        let id = rc.id.clone().ok_or_else(|| {
            bad(format!(
                "every control needs id = \"{prefix}<article>-<what>\", e.g. \"{prefix}23-backup\""
            ))
        })?;
        if !valid_id(&id) || !id.starts_with(&prefix) {
            return Err(bad(format!(
                "id must start with '{prefix}' and use lowercase letters, digits and '-' (e.g. \"{prefix}23-backup\")"
            )));
        }
        if !seen.insert(id.clone()) {
            return Err(bad(
                "this id is used by an earlier control; ids are stable and unique — rename one (e.g. add a suffix naming what it checks)"
                    .to_string(),
            ));
        }
        match raw.kind {
            ProfileKind::Regulation => {
                let n = raw.articles.unwrap_or(0);
                match rc.article {
                    None => {
                        return Err(bad(
                            "a regulation's control needs article = n (its 第n条)".to_string(),
                        ))
                    }
                    Some(a) if a == 0 || a > n => {
                        return Err(bad(format!(
                            "article = {a} is outside 1..={n}, the articles of this regulation (fix the number, or `articles` if the text has more)"
                        )))
                    }
                    Some(_) => {}
                }
                if rc.clause.is_some() {
                    return Err(bad(
                        "a regulation's control cites an article, not a clause: remove `clause`"
                            .to_string(),
                    ));
                }
            }
            ProfileKind::Baseline => {
                if nonempty(rc.clause.clone()).is_none() {
                    return Err(bad(
                        "a baseline's control needs clause = \"…\" (write \"clause reference to be checked\" beside a number not confirmed against the standard's text)"
                            .to_string(),
                    ));
                }
                if rc.article.is_some() {
                    return Err(bad(
                        "a baseline's control cites a clause, not an article: remove `article`"
                            .to_string(),
                    ));
                }
            }
        }
        let kind = rc.kind.ok_or_else(|| {
            bad("needs kind = \"evidence\", \"manual\" or \"no_requirement\"".to_string())
        })?;
        let reference = nonempty(rc.reference).ok_or_else(|| {
            bad("needs ref = \"…\", a short quote or paraphrase of the article's text".to_string())
        })?;
        for r in &rc.requirements {
            if !valid_requirement(r) {
                return Err(bad(format!(
                    "requirement '{r}' is not an id of the regulations digest (R-01 … R-{MAX_REQUIREMENT})"
                )));
            }
        }
        let requires = nonempty(rc.requires);
        let requires_en = nonempty(rc.requires_en);
        let mut evidence = None;
        match kind {
            ControlKind::Evidence => {
                let qid = rc.evidence.clone().ok_or_else(|| {
                    bad("an evidence control needs evidence = \"<query id>\" (`shuan comply queries` lists them; docs/compliance.md explains them)".to_string())
                })?;
                let params = rc.params.clone().unwrap_or_default();
                evidence = Some(EvidenceQuery::parse(&qid, &params).map_err(|source| {
                    ProfileError::Query {
                        origin: origin.to_string(),
                        control: id.clone(),
                        source: Box::new(source),
                    }
                })?);
                if rc.requirements.is_empty() {
                    return Err(bad(
                        "an evidence control needs requirements = [\"R-xx\", …] from the regulations digest"
                            .to_string(),
                    ));
                }
            }
            ControlKind::Manual => {
                if rc.evidence.is_some() || rc.params.is_some() {
                    return Err(bad("a manual control has no evidence query: remove `evidence`/`params`, or make it kind = \"evidence\"".to_string()));
                }
                if nonempty(rc.document.clone()).is_none() {
                    return Err(bad("a manual control needs document = \"…\", the document a person uploads as evidence".to_string()));
                }
            }
            ControlKind::NoRequirement => {
                if rc.evidence.is_some() || rc.params.is_some() || rc.document.is_some() {
                    return Err(bad("a no_requirement entry has no evidence or document: remove them, or change its kind".to_string()));
                }
                if nonempty(rc.reason.clone()).is_none() {
                    return Err(bad("a no_requirement entry needs reason = \"…\" (e.g. \"目的依据\", \"主管部门职责\", \"施行日期\")".to_string()));
                }
            }
        }
        if kind != ControlKind::NoRequirement && (requires.is_none() || requires_en.is_none()) {
            return Err(bad(
                "needs requires = \"…\" (Chinese) and requires_en = \"…\" (English): what the control requires"
                    .to_string(),
            ));
        }
        controls.push(Control {
            id,
            article: rc.article,
            clause: nonempty(rc.clause),
            kind,
            reference,
            requirements: rc.requirements,
            requires: requires.unwrap_or_default(),
            requires_en: requires_en.unwrap_or_default(),
            evidence,
            evidence_id: rc.evidence,
            document: nonempty(rc.document),
            reason: nonempty(rc.reason),
        });
    }

    if let (ProfileKind::Regulation, Some(n)) = (raw.kind, raw.articles) {
        let listed: HashSet<u32> = controls.iter().filter_map(|c| c.article).collect();
        let missing: Vec<String> = (1..=n)
            .filter(|a| !listed.contains(a))
            .map(|a| a.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(invalid(format!(
                "article(s) {} have no entry; list every article (条): as controls, or kind = \"manual\", or kind = \"no_requirement\" with a reason",
                missing.join(", ")
            )));
        }
    }

    Ok(Profile {
        id: raw.id,
        kind: raw.kind,
        short: raw.short,
        title: raw.title,
        document: raw.document,
        region: raw.region,
        source_file: raw.source_file,
        articles: raw.articles,
        controls,
    })
}
