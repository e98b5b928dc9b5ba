//! The hand-written sample in testdata/detect: every expected finding, nothing else.

use shuan_detect::{redact, TextScanner, REPORT_CONFIDENCE};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/detect");

#[test]
fn sample_text_findings_match_the_hand_written_list() {
    let text = std::fs::read_to_string(format!("{DIR}/sample.txt")).unwrap();
    let expected: Vec<(String, String)> =
        std::fs::read_to_string(format!("{DIR}/sample.expected.tsv"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let (t, v) = l.split_once('\t').unwrap();
                (t.to_string(), v.to_string())
            })
            .collect();
    let found: Vec<(String, String)> = TextScanner::new()
        .scan(&text)
        .into_iter()
        .filter(|f| f.confidence >= REPORT_CONFIDENCE)
        .map(|f| {
            (
                f.data_type.id().to_string(),
                text[f.start..f.end].to_string(),
            )
        })
        .collect();
    let missing: Vec<_> = expected.iter().filter(|e| !found.contains(e)).collect();
    let extra: Vec<_> = found.iter().filter(|f| !expected.contains(f)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    assert_eq!(found, expected, "order differs");
}

#[test]
fn sample_redaction_hides_every_value() {
    let text = std::fs::read_to_string(format!("{DIR}/sample.txt")).unwrap();
    let findings = TextScanner::new().scan(&text);
    let red = redact(&text, &findings);
    for value in [
        "11010519491231002X",
        "13800138000",
        "6212261234567890128",
        "6222021234567890123",
        "wang.jianguo",
        "1M8GDM9AXKP042788",
        "建国路88号",
    ] {
        assert!(!red.contains(value), "{value} still visible");
    }
    // Non-sensitive text survives.
    assert!(
        red.contains("订单号2023112212345678901")
            && red.contains("北京市人民政府关于加强政务数据安全管理的通知")
    );
    assert_eq!(red.lines().count(), text.lines().count());
}
