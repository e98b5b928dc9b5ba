//! Every article (第n条) of each seed regulation appears in its profile, the profile's
//! article count is the text's, each control's quoted text is found in the article it
//! cites, and the regulations digest's R-xx citations agree with the profiles.
//!
//! The texts live in `shared/regulations`, beside the checkout (`/work/shared` next to
//! the workspace). `SHUAN_REGULATIONS_DIR` overrides the place. The test fails — never
//! skips — when the folder is missing: coverage unchecked is not coverage.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use shuan_comply::{ControlKind, Profile, ProfileKind};

/// The regulations folder relative to the workspace root (`crates/shuan-comply/../..`).
const DEFAULT_REGULATIONS_DIR: &str = "../shared/regulations";

fn regulations_dir() -> PathBuf {
    let dir = match std::env::var_os("SHUAN_REGULATIONS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(DEFAULT_REGULATIONS_DIR),
    };
    assert!(
        dir.join("README.md").is_file(),
        "the regulation texts are not at {} — the shared folder must sit beside the checkout \
         (workspace/../shared/regulations), or set SHUAN_REGULATIONS_DIR to the folder holding \
         README.md and the five NNN_*.txt texts",
        dir.display()
    );
    dir
}

fn chinese_number(s: &str) -> Option<u32> {
    let digit = |c: char| {
        "零一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|p| p as u32)
    };
    let chars: Vec<char> = s.chars().collect();
    match chars.iter().position(|&c| c == '十') {
        None if chars.len() == 1 => digit(chars[0]),
        None => None,
        Some(i) => {
            let tens = match i {
                0 => 1,
                1 => digit(chars[0])?,
                _ => return None,
            };
            let units = match &chars[i + 1..] {
                [] => 0,
                [u] => digit(*u)?,
                _ => return None,
            };
            Some(tens * 10 + units)
        }
    }
}

/// Strips what the converted texts put before a heading: spaces, Markdown `#` and `**`,
/// and Word's `[bookmark: …]` anchors (兴安盟's text has them before 第六条 and 第三十七条).
fn heading_start(line: &str) -> &str {
    let mut s = line.trim_start();
    loop {
        let before = s;
        s = s.trim_start_matches(['#', '*', ' ', '\u{3000}']);
        if let Some(rest) = s.strip_prefix("[bookmark:") {
            s = rest.split_once(']').map(|(_, r)| r).unwrap_or("");
        }
        if s == before {
            return s;
        }
    }
}

/// Articles in order, each with its text (whitespace removed: the PDFs' line breaks fall
/// mid-sentence).
fn articles(text: &str) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::new();
    for line in text.lines() {
        let s = heading_start(line);
        let number = s.strip_prefix('第').and_then(|rest| {
            let end = rest.find('条')?;
            chinese_number(&rest[..end])
        });
        match number {
            Some(n) => out.push((n, s.chars().filter(|c| !c.is_whitespace()).collect())),
            None => {
                if let Some(last) = out.last_mut() {
                    last.1.extend(line.chars().filter(|c| !c.is_whitespace()));
                }
            }
        }
    }
    out
}

fn regulation_profiles() -> Vec<Profile> {
    Profile::builtins()
        .expect("built-in profiles load")
        .into_iter()
        .filter(|p| p.kind == ProfileKind::Regulation)
        .collect()
}

#[test]
fn chinese_numbers_parse() {
    assert_eq!(chinese_number("一"), Some(1));
    assert_eq!(chinese_number("十"), Some(10));
    assert_eq!(chinese_number("十一"), Some(11));
    assert_eq!(chinese_number("二十"), Some(20));
    assert_eq!(chinese_number("三十九"), Some(39));
    assert_eq!(chinese_number("章"), None);
}

#[test]
fn every_article_of_every_seed_is_in_its_profile() {
    let dir = regulations_dir();
    let profiles = regulation_profiles();
    assert_eq!(profiles.len(), 5, "one profile per seed regulation");
    let mut files_seen = BTreeSet::new();
    for p in &profiles {
        let file = p.source_file.as_deref().expect("regulation names its text");
        files_seen.insert(file.to_string());
        let text = std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("{}: cannot read {file}: {e}", p.id));
        let found = articles(&text);
        let numbers: Vec<u32> = found.iter().map(|(n, _)| *n).collect();
        let expected: Vec<u32> = (1..=p.articles.unwrap()).collect();
        assert_eq!(
            numbers,
            expected,
            "{}: the text's articles (in order) are not 1..={} as the profile says",
            p.id,
            p.articles.unwrap()
        );
        for (n, _) in &found {
            assert!(
                p.article_controls(*n).next().is_some(),
                "{}: article {n} of {file} has no entry in the profile",
                p.id
            );
        }
    }
    let mut on_disk: BTreeSet<String> = BTreeSet::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".txt") {
            on_disk.insert(name);
        }
    }
    assert_eq!(
        files_seen, on_disk,
        "every seed text has a profile, and no profile points at a missing text"
    );
}

/// `第十五条 应……` → `应……`: a ref may start by naming its article.
fn strip_article_prefix(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix('第') {
        if let Some(end) = rest.find('条') {
            if chinese_number(&rest[..end]).is_some() {
                return &rest[end + '条'.len_utf8()..];
            }
        }
    }
    s
}

/// An evidence or manual control's `ref` quotes its article: at least one of its pieces
/// (split at ellipses and punctuation) must occur in the article it cites. This catches a
/// control filed under the wrong article. (no_requirement entries may paraphrase.)
#[test]
fn each_controls_quote_is_found_in_its_article() {
    let dir = regulations_dir();
    let mut misses = Vec::new();
    for p in regulation_profiles() {
        let text = std::fs::read_to_string(dir.join(p.source_file.as_deref().unwrap())).unwrap();
        let by_number: BTreeMap<u32, String> = articles(&text).into_iter().collect();
        for c in p
            .controls
            .iter()
            .filter(|c| c.kind != ControlKind::NoRequirement)
        {
            let article = &by_number[&c.article.unwrap()];
            let cleaned: String = c
                .reference
                .chars()
                .filter(|ch| !ch.is_whitespace())
                .collect();
            let cleaned = strip_article_prefix(&cleaned);
            let pieces: Vec<String> = cleaned
                .split(['…', '；', '。', '“', '”', '（', '）', '，', '【', '】'])
                .map(|s| s.to_string())
                .filter(|s| s.chars().count() >= 4)
                .collect();
            let hit = pieces.iter().any(|piece| article.contains(piece.as_str()));
            if !hit {
                misses.push(format!("{}: {} ({})", p.id, c.id, c.reference));
            }
        }
    }
    assert!(
        misses.is_empty(),
        "quotes not found in the cited article:\n{}",
        misses.join("\n")
    );
}

fn parse_digest(readme: &str) -> Vec<(String, String, u32)> {
    // (R-xx, short name, article) for every "JM 15", "XY 27–33", "GZ 7(2)", "JC 10–11"
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        if let Some(i) = line.find("**R-") {
            current = Some(line[i + 2..i + 6].to_string());
        } else if line.starts_with('#') {
            current = None;
        }
        let Some(r) = &current else { continue };
        let words: Vec<&str> = line.split([' ', ';', '.']).collect();
        for (i, w) in words.iter().enumerate() {
            if !["JM", "GZ", "XY", "JC", "XA"].contains(w) {
                continue;
            }
            let mut j = i + 1;
            while let Some(token) = words.get(j) {
                let token = token.trim_end_matches([',', ')', ':']);
                let base = token.split('(').next().unwrap_or("");
                let range: Vec<&str> = base.split('–').collect();
                let nums: Option<Vec<u32>> = range.iter().map(|s| s.parse().ok()).collect();
                match nums.as_deref() {
                    Some([a]) => out.push((r.clone(), w.to_string(), *a)),
                    Some([a, b]) => {
                        for n in *a..=*b {
                            out.push((r.clone(), w.to_string(), n));
                        }
                    }
                    _ => break,
                }
                if !words[j].ends_with(',') {
                    break;
                }
                j += 1;
            }
        }
    }
    out
}

/// The digest (README, R-01…R-37) cites articles; each cited article either carries that
/// R id on one of its controls, or places no duty on a department at all (the digest
/// cites some definition or authority articles for context).
#[test]
fn the_digest_and_the_profiles_agree() {
    let dir = regulations_dir();
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let cites = parse_digest(&readme);
    assert!(
        cites.len() > 100,
        "the digest parser found only {} citations",
        cites.len()
    );
    let profiles: BTreeMap<String, Profile> = regulation_profiles()
        .into_iter()
        .map(|p| (p.short.clone(), p))
        .collect();
    let mut disagreements = Vec::new();
    for (r, short, article) in &cites {
        let p = &profiles[short];
        let controls: Vec<_> = p.article_controls(*article).collect();
        let carried = controls.iter().any(|c| c.requirements.contains(r));
        let no_duty = controls
            .iter()
            .all(|c| c.kind == ControlKind::NoRequirement);
        if !carried && !no_duty {
            disagreements.push(format!(
                "{r} cites {short} {article}, whose controls do not carry it"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// docs/compliance.md's coverage table is the profiles' coverage (it is what users read).
#[test]
fn the_documented_coverage_table_is_true() {
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/compliance.md"),
    )
    .expect("docs/compliance.md exists");
    let all = Profile::builtins().unwrap();
    for p in &all {
        let prefix = format!("| `{}` |", p.id);
        let row = doc
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("docs/compliance.md has no coverage row for {}", p.id));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let c = p.coverage();
        let want = [
            c.articles,
            c.evidenced,
            c.manual,
            c.no_requirement,
            c.evidence_controls,
            c.manual_controls,
        ]
        .map(|n| n.to_string());
        assert_eq!(
            &cells[3..9],
            &want,
            "docs/compliance.md row for {} is stale: {row}",
            p.id
        );
    }
}
