//! The report renders what the evaluation says (statuses, reasons, every article, charts
//! as inline SVG, Chinese escaped text), and its signature holds exactly for the bytes
//! signed: one changed byte, another key or an altered signature file is invalid.

use shuan_comply::source::{day, LedgerFacts};
use shuan_comply::{evaluate, MemorySource, Period, Profile, Status};
use shuan_crypto::sm2::SigningKey;
use shuan_report::{
    render_html, sign, verify, ChartData, LedgerAnchor, ReportInput, ReportSignature, Subject,
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
        },
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
