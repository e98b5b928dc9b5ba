//! The report renders what the evaluation says (statuses, reasons, every article, charts
//! as inline SVG, Chinese escaped text), and its signature holds exactly for the bytes
//! signed: one changed byte, another key or an altered signature file is invalid.

use shuan_comply::source::{day, LedgerFacts};
use shuan_comply::{evaluate, MemorySource, Period, Profile, Status};
use shuan_crypto::sm2::SigningKey;
use shuan_report::{
    render_html, sign, verify, ChartData, LedgerAnchor, RectificationRow, ReportInput,
    ReportSignature, Subject,
};

fn report(with_inventory: bool) -> (String, shuan_comply::Evaluation) {
    let profile = Profile::load("jc").unwrap();
    let mut src = MemorySource::new();
    src.department("D1").ledger = Some(LedgerFacts {
        records_in_period: 1234,
        oldest_retained: Some(day(2026, 10, 1)),
        complete_from_genesis: false,
        last_verification: None,
    });
    let e = evaluate(&profile, &src, "D1", &Period::year(2026)).unwrap();
    let html = render_html(&ReportInput {
        profile: &profile,
        evaluation: &e,
        department_name: Some("测试局<script>".into()),
        generated_at: "2026-12-31T00:00:00Z".into(),
        node: "abc".into(),
        notes: vec!["说明一".into()],
        charts: ChartData {
            audit_by_month: (1..=12).map(|m| (format!("2026-{m:02}"), m * 10)).collect(),
            inventory_by_level: with_inventory
                .then(|| vec![("一般数据1级".into(), 5), ("一般数据4级".into(), 2)]),
            alerts_by_month: None,
        },
        rectifications: Vec::new(),
        comparison: None,
    })
    .unwrap();
    (html, e)
}

#[test]
fn the_report_shows_the_evaluation() {
    let (html, e) = report(true);
    let profile = Profile::load("jc").unwrap();
    // Every control of the profile has its row, no-requirement articles included.
    for c in &profile.controls {
        assert!(html.contains(&c.id), "{} missing", c.id);
    }
    // The retention finding and its reason, as the engine wrote them.
    let r = e.result("jc-17-log-retention").unwrap();
    assert_eq!(r.status, Status::NonCompliant);
    assert!(html.contains(&r.reason));
    // The summary counts agree with the evaluation.
    let non = e
        .summary()
        .iter()
        .find(|(s, _)| *s == Status::NonCompliant)
        .unwrap()
        .1;
    assert!(html.contains(&format!("不符合 {non} 项")));
    // Three inline charts, no XML declaration inside the HTML, names escaped.
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(!html.contains("<?xml"));
    assert!(html.contains("测试局&#60;script&#62;") || html.contains("测试局&lt;script&gt;"));
    assert!(!html.contains("测试局<script>"));
    // The audit total is the sum of the months.
    assert!(html.contains(&format!("本期审计记录共 {} 条", (1..=12).sum::<u64>() * 10)));
    let (without, _) = report(false);
    assert_eq!(without.matches("<svg").count(), 2);
    assert!(without.contains("未保存数据资产清单"));
    // Without items or an earlier period: the section says there are none, and there is
    // no comparison section.
    assert!(html.contains("本期无整改事项"));
    assert!(!html.contains("与上期对比"));
}

fn rectification(
    id: &str,
    due: (i64, u32, u32),
    closed: Option<(i64, u32, u32)>,
) -> RectificationRow {
    RectificationRow {
        id: id.into(),
        origin: "风险评估 #1".into(),
        finding: format!("问题{id}<b>"),
        severity: "高".into(),
        owner: "zhangsan".into(),
        due: day(due.0, due.1, due.2),
        closed: closed.map(|c| day(c.0, c.1, c.2)),
    }
}

/// The text of the table row whose first cell is `id` (tags removed).
fn row_text(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("<tr><td>{id}</td>"))
        .unwrap_or_else(|| panic!("no row {id}"));
    let end = start + html[start..].find("</tr>").unwrap();
    let mut text = String::new();
    let mut in_tag = false;
    for ch in html[start..end].chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push('|');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

#[test]
fn rectification_items_are_listed_with_their_state_at_the_period_end() {
    let profile = Profile::load("jc").unwrap();
    let src = MemorySource::new();
    let e = evaluate(&profile, &src, "D1", &Period::year(2026)).unwrap();
    let earlier = evaluate(&profile, &src, "D1", &Period::year(2025)).unwrap();
    let mut later = e.clone();
    // One control moved up against the earlier period.
    let up = later
        .results
        .iter_mut()
        .find(|r| r.status == Status::NoEvidence)
        .unwrap();
    up.status = Status::Compliant;
    let up_id = up.control_id.clone();
    let rows = vec![
        rectification("1", (2026, 6, 30), Some((2026, 6, 1))),
        rectification("2", (2026, 6, 30), Some((2026, 8, 1))),
        rectification("3", (2026, 6, 30), None),
        rectification("4", (2027, 3, 31), None),
        // Closed after the period: open as of its end, and past due then.
        rectification("5", (2026, 11, 30), Some((2027, 1, 5))),
        // Due on the period's last day and still open: overdue, as the verdict says.
        rectification("6", (2026, 12, 31), None),
    ];
    let comparison = shuan_comply::compare(&earlier, &later).unwrap();
    let html = render_html(&ReportInput {
        profile: &profile,
        evaluation: &later,
        department_name: None,
        generated_at: "2026-12-31T00:00:00Z".into(),
        node: "abc".into(),
        notes: Vec::new(),
        charts: ChartData {
            alerts_by_month: Some(vec![("2026-01".into(), 3), ("2026-02".into(), 4)]),
            ..ChartData::default()
        },
        rectifications: rows,
        comparison: Some(comparison),
    })
    .unwrap();
    for (id, state) in [
        ("1", "已整改"),
        ("2", "逾期整改"),
        ("3", "逾期未整改"),
        ("4", "整改中"),
        ("5", "逾期未整改"),
        ("6", "逾期未整改"),
    ] {
        let row = row_text(&html, id);
        assert!(row.contains(state), "item {id}: {row}");
    }
    assert!(row_text(&html, "2").contains("2026-08-01"));
    assert!(
        html.contains("已整改 1 项，逾期整改 1 项，整改中 1 项，逾期未整改 3 项"),
        "{html}"
    );
    // The finding is escaped like every other text.
    assert!(!html.contains("问题1<b>"));
    assert!(html.contains("问题1&lt;b&gt;") || html.contains("问题1&#60;b&#62;"));
    // The comparison: the control that moved is listed with both statuses; the
    // unchanged ones are counted only.
    assert!(html.contains("与上期对比"));
    assert!(html.contains("改进 1 项，退步 0 项"));
    let section = &html[html.find("与上期对比").unwrap()..html.find("逐条对照表").unwrap()];
    assert_eq!(section.matches("<tr><td>").count(), 1, "{section}");
    assert!(section.contains(&up_id));
    assert!(
        section.contains("<td>无证据</td><td>符合</td>"),
        "{section}"
    );
    let unchanged = later.results.len() - 1;
    assert!(
        html.contains(&format!("未变 {unchanged} 项")),
        "{unchanged}"
    );
}

fn signed(bytes: &[u8], key: &SigningKey) -> ReportSignature {
    sign(
        bytes,
        key,
        LedgerAnchor {
            id: "ledger".into(),
            seq: 7,
        },
        &Subject {
            file: "r.html",
            regulation: "jc",
            department: "D1",
            period: "2026-01-01—2026-12-31",
        },
    )
}

#[test]
fn the_signature_holds_for_the_signed_bytes_only() {
    let (html, _) = report(true);
    let bytes = html.into_bytes();
    let key = SigningKey::generate();
    let sig = signed(&bytes, &key);
    let parsed = ReportSignature::parse(&sig.to_json()).unwrap();
    assert_eq!(parsed, sig);
    let vk = key.verifying_key();
    let ok = verify(&bytes, &parsed, Some(&vk)).unwrap();
    assert!(ok.valid, "{:?}", ok.problems);
    assert!(verify(&bytes, &parsed, None).unwrap().valid);

    // Any one byte changed.
    for at in [0, bytes.len() / 2, bytes.len() - 1] {
        let mut tampered = bytes.clone();
        tampered[at] ^= 0x01;
        let v = verify(&tampered, &parsed, Some(&vk)).unwrap();
        assert!(!v.valid, "byte {at} flipped yet valid");
    }
    // Another node's key.
    let other = SigningKey::generate().verifying_key();
    assert!(!verify(&bytes, &parsed, Some(&other)).unwrap().valid);
    // A digest rewritten to match a changed file still fails the signature.
    let mut tampered = bytes.clone();
    tampered[10] ^= 0x20;
    let mut forged = parsed.clone();
    forged.sm3 = shuan_report::digest(&tampered);
    let v = verify(&tampered, &forged, None).unwrap();
    assert!(!v.valid);
    assert!(v.problems.iter().any(|p| p.contains("signature")));
    // A file re-signed by another key with that key embedded passes only without
    // --public-key; with the node's key it fails.
    let resigned = signed(&tampered, &SigningKey::generate());
    assert!(verify(&tampered, &resigned, None).unwrap().valid);
    assert!(!verify(&tampered, &resigned, Some(&vk)).unwrap().valid);
    // Not a signature file.
    assert!(ReportSignature::parse("{}").is_err());
    assert!(ReportSignature::parse(&sig.to_json().replace("shuan-report-sig/1", "x")).is_err());
}
