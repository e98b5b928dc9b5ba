//! Profiles that break a rule are rejected with a message naming the file, the control and
//! what to write instead.

use shuan_comply::{Profile, ProfileError};

const HEADER: &str = r#"
id = "demo"
kind = "regulation"
short = "DM"
title = "示例市政务数据安全管理办法"
document = "示例"
source_file = "999_demo.txt"
articles = 3
"#;

const ARTICLE_1: &str = r#"
[[controls]]
id = "demo-01"
article = 1
kind = "no_requirement"
ref = "目的依据"
reason = "目的依据"
"#;

const ARTICLE_3: &str = r#"
[[controls]]
id = "demo-03-training"
article = 3
kind = "manual"
ref = "每年至少开展一次培训"
requires = "每年培训"
requires_en = "Yearly training"
document = "培训记录"
"#;

fn article_2(evidence_and_params: &str) -> String {
    format!(
        r#"
[[controls]]
id = "demo-02-backup"
article = 2
kind = "evidence"
ref = "定期备份"
requirements = ["R-10"]
requires = "定期备份"
requires_en = "Backups"
{evidence_and_params}
"#
    )
}

fn load(text: &str) -> Result<Profile, ProfileError> {
    Profile::from_toml_str(text, "profiles/demo.toml")
}

fn err(text: &str) -> String {
    match load(text) {
        Ok(_) => panic!("accepted a bad profile:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn assert_mentions(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "message lacks '{p}': {msg}");
    }
}

#[test]
fn a_well_formed_profile_loads() {
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{ARTICLE_3}",
        article_2("evidence = \"backup_recent\"\nparams = { max_age_days = 7 }")
    );
    let p = load(&text).unwrap();
    assert_eq!(p.controls.len(), 3);
    let cov = p.coverage();
    assert_eq!(
        (cov.articles, cov.evidenced, cov.manual, cov.no_requirement),
        (3, 1, 1, 1)
    );
}

#[test]
fn an_unknown_evidence_query_is_rejected_with_the_known_ones() {
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{ARTICLE_3}",
        article_2("evidence = \"backups_fresh\"")
    );
    let msg = err(&text);
    assert_mentions(
        &msg,
        &[
            "profiles/demo.toml",
            "demo-02-backup",
            "backups_fresh",
            "does not exist",
            "backup_recent",
        ],
    );
}

#[test]
fn a_missing_article_is_rejected_naming_it() {
    let text = format!("{HEADER}{ARTICLE_1}{ARTICLE_3}");
    let msg = err(&text);
    assert_mentions(
        &msg,
        &["profiles/demo.toml", "article(s) 2", "no_requirement"],
    );
}

#[test]
fn a_duplicate_control_id_is_rejected() {
    let dup = ARTICLE_3.replace("demo-03-training", "demo-01");
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{dup}",
        article_2("evidence = \"backup_recent\"\nparams = { max_age_days = 7 }")
    );
    let msg = err(&text);
    assert_mentions(
        &msg,
        &[
            "profiles/demo.toml",
            "'demo-01'",
            "used by an earlier control",
        ],
    );
}

#[test]
fn a_threshold_of_the_wrong_type_is_rejected_saying_what_is_allowed() {
    for (params, expect) in [
        (
            "params = { max_age_days = \"7\" }",
            "a whole number of days",
        ),
        ("params = { max_age_days = 7.5 }", "a whole number of days"),
        ("params = { max_age_days = 0 }", "a whole number of days"),
        (
            "params = { max_age_days = 7, verified_within_days = true }",
            "verified_within_days",
        ),
    ] {
        let text = format!(
            "{HEADER}{ARTICLE_1}{}{ARTICLE_3}",
            article_2(&format!("evidence = \"backup_recent\"\n{params}"))
        );
        let msg = err(&text);
        assert_mentions(&msg, &["profiles/demo.toml", "demo-02-backup", expect]);
    }
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{ARTICLE_3}",
        article_2("evidence = \"columns_graded\"\nparams = { min_share = 1 }")
    );
    assert_mentions(&err(&text), &["min_share", "decimal point"]);
}

#[test]
fn missing_and_unknown_parameters_are_rejected() {
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{ARTICLE_3}",
        article_2("evidence = \"backup_recent\"")
    );
    assert_mentions(
        &err(&text),
        &["demo-02-backup", "needs parameter 'max_age_days'"],
    );
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{ARTICLE_3}",
        article_2("evidence = \"backup_recent\"\nparams = { max_age_days = 7, max_age = 3 }")
    );
    assert_mentions(
        &err(&text),
        &["takes no parameter 'max_age'", "max_age_days"],
    );
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{ARTICLE_3}",
        article_2("evidence = \"governance_record_recent\"\nparams = { record = \"trainings\", within_days = 365 }")
    );
    assert_mentions(&err(&text), &["record", "\"training\""]);
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{ARTICLE_3}",
        article_2("evidence = \"encrypted_at_rest\"\nparams = { min_level = \"三级\", data_types = [\"cn_resident_id\"] }")
    );
    assert_mentions(&err(&text), &["exactly one of min_level"]);
}

#[test]
fn other_broken_rules_are_named() {
    // An article past the regulation's last.
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{ARTICLE_3}",
        article_2("evidence = \"backup_recent\"\nparams = { max_age_days = 7 }")
            .replace("article = 2", "article = 4")
    );
    assert_mentions(&err(&text), &["article = 4 is outside 1..=3"]);
    // A manual control without its document.
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{}",
        article_2("evidence = \"backup_recent\"\nparams = { max_age_days = 7 }"),
        ARTICLE_3.replace("document = \"培训记录\"", "")
    );
    assert_mentions(&err(&text), &["demo-03-training", "document"]);
    // An unknown requirement id.
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{ARTICLE_3}",
        article_2("evidence = \"backup_recent\"\nparams = { max_age_days = 7 }")
            .replace("R-10", "R-99")
    );
    assert_mentions(&err(&text), &["R-99", "R-01 … R-37"]);
    // An id outside the profile's prefix.
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{}",
        article_2("evidence = \"backup_recent\"\nparams = { max_age_days = 7 }"),
        ARTICLE_3.replace("demo-03-training", "jc-03-training")
    );
    assert_mentions(&err(&text), &["must start with 'demo-'"]);
    // A key the format does not have (a typo) is a syntax error with its line.
    let text = format!(
        "{HEADER}{ARTICLE_1}{}{}",
        article_2("evidence = \"backup_recent\"\nparams = { max_age_days = 7 }"),
        ARTICLE_3.replace("document =", "documents =")
    );
    assert_mentions(&err(&text), &["profiles/demo.toml", "documents"]);
}

#[test]
fn a_profile_file_on_disk_is_named_by_its_path() {
    let dir = std::env::temp_dir().join(format!("shuan-comply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("city.toml");
    std::fs::write(&path, format!("{HEADER}{ARTICLE_1}{ARTICLE_3}")).unwrap();
    let msg = Profile::load(path.to_str().unwrap())
        .unwrap_err()
        .to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_mentions(&msg, &["city.toml", "article(s) 2"]);
}

#[test]
fn every_builtin_profile_loads() {
    let all = Profile::builtins().unwrap();
    assert_eq!(all.len(), 8);
    for p in &all {
        assert!(!p.controls.is_empty(), "{}", p.id);
    }
}

mod never_panics {
    use proptest::prelude::*;
    use shuan_comply::Profile;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// A built-in profile with a slice cut out or replaced loads or is refused with an
        /// error; it never panics.
        #[test]
        fn a_damaged_profile_is_refused_not_a_panic(
            which in 0usize..8,
            start in 0.0f64..1.0,
            len in 0usize..400,
            insert in "[ -~=\\[\\]\"\\n一条]{0,40}",
        ) {
            let (_, _, text) = shuan_comply::profile::BUILTIN_PROFILES[which];
            let mut at = (text.len() as f64 * start) as usize;
            while !text.is_char_boundary(at) { at -= 1; }
            let mut end = (at + len).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            let damaged = format!("{}{}{}", &text[..at], insert, &text[end..]);
            let _ = Profile::from_toml_str(&damaged, "damaged.toml");
        }

        /// Arbitrary text never panics the loader.
        #[test]
        fn arbitrary_text_is_refused_not_a_panic(text in "\\PC{0,300}") {
            prop_assert!(Profile::from_toml_str(&text, "any.toml").is_err());
        }
    }
}

#[test]
fn status_ids_are_stable_in_json() {
    for s in shuan_comply::Status::ALL {
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            format!("\"{}\"", s.id())
        );
    }
    assert_eq!(
        shuan_comply::Status::ALL.map(|s| s.label()),
        ["符合", "部分符合", "不符合", "无证据", "人工"]
    );
}
