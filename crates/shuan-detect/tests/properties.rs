//! Property tests: generated valid identifiers are found with their exact span wherever
//! they sit in Chinese text; look-alikes are not; arbitrary input never panics and every
//! span is a valid, ordered, non-overlapping char range. `PROPTEST_CASES` raises the count.

mod support;

use proptest::prelude::*;
use shuan_detect::{redact, ColumnClassifier, DataType, TextScanner, REPORT_CONFIDENCE};
use support::corpus::{self, Rng};

fn scanner() -> &'static TextScanner {
    static S: std::sync::OnceLock<TextScanner> = std::sync::OnceLock::new();
    S.get_or_init(TextScanner::new)
}

/// Text around a value: never ends/starts with an ASCII letter or digit.
fn context() -> impl Strategy<Value = (String, String)> {
    let before = prop::collection::vec(
        prop::sample::select(vec![
            "，", "。", "：", "（", " ", "的", "张三", "办理", "\n", "申报", "「",
        ]),
        0..4,
    )
    .prop_map(|v| v.concat());
    let after = prop::collection::vec(
        prop::sample::select(vec![
            "，",
            "。",
            "）",
            " ",
            "已核验",
            "\n",
            "；",
            "等",
            "」",
        ]),
        0..4,
    )
    .prop_map(|v| v.concat());
    (before, after)
}

fn found_exactly(text: &str, t: DataType, start: usize, end: usize) -> bool {
    scanner().scan(text).iter().any(|f| {
        f.data_type == t && f.start == start && f.end == end && f.confidence >= REPORT_CONFIDENCE
    })
}

fn reported(text: &str) -> Vec<(DataType, String)> {
    scanner()
        .scan(text)
        .into_iter()
        .filter(|f| f.confidence >= REPORT_CONFIDENCE)
        .map(|f| (f.data_type, text[f.start..f.end].to_string()))
        .collect()
}

/// Checks the span invariants of one scan.
fn check_spans(text: &str) -> Result<(), TestCaseError> {
    let found = scanner().scan(text);
    let mut last_end = 0;
    for f in &found {
        prop_assert!(f.start < f.end && f.end <= text.len(), "bad span {f:?}");
        prop_assert!(
            text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
            "not a char boundary {f:?}"
        );
        prop_assert!(f.start >= last_end, "overlap or disorder at {f:?}");
        prop_assert!((0.0..=1.0).contains(&f.confidence));
        last_end = f.end;
        if !matches!(f.data_type, DataType::PersonName | DataType::Address) {
            let b = text.as_bytes();
            // ASCII cue words glued to a value (`IMEI862…`, `IP10.1.2.3`) are split off.
            let glued = ["IMEI", "IP", "VIN", "ID", "TEL", "MAC", "NO"]
                .iter()
                .any(|k| {
                    text[..f.start].len() >= k.len()
                        && text.as_bytes()[f.start - k.len()..f.start]
                            .eq_ignore_ascii_case(k.as_bytes())
                });
            let before = if glued {
                None
            } else {
                f.start.checked_sub(1).map(|i| b[i])
            };
            let after = b.get(f.end).copied();
            prop_assert!(
                !before.is_some_and(|c| c.is_ascii_alphanumeric())
                    && !after.is_some_and(|c| c.is_ascii_alphanumeric()),
                "identifier cut out of a longer run: {f:?} in {text:?}"
            );
        }
    }
    let _ = redact(text, &found);
    // Every finding is actually masked (an address keeps its district on purpose, and may
    // be no more than that).
    for f in found.iter().filter(|f| f.data_type != DataType::Address) {
        let value = &text[f.start..f.end];
        prop_assert_ne!(
            shuan_detect::mask_value(f.data_type, value),
            value,
            "{:?} left unmasked",
            f
        );
    }
    Ok(())
}

/// The parallel scan (pieces cut at line breaks, forced even on short texts) must give
/// exactly the single-threaded findings.
fn parallel_equals_serial(text: &str) -> Result<(), TestCaseError> {
    static SERIAL: std::sync::OnceLock<TextScanner> = std::sync::OnceLock::new();
    static PARALLEL: std::sync::OnceLock<TextScanner> = std::sync::OnceLock::new();
    let serial = SERIAL.get_or_init(|| TextScanner::new().with_threads(1));
    let parallel = PARALLEL.get_or_init(|| {
        TextScanner::new()
            .with_threads(5)
            .with_parallel_min_bytes(0)
    });
    prop_assert_eq!(serial.scan(text), parallel.scan(text), "{:?}", text);
    Ok(())
}

proptest! {
    #[test]
    fn parallel_scan_equals_single_threaded(
        pieces in prop::collection::vec(
            prop::sample::select(vec![
                "\n", "\n", "\r\n", "张三", "反映", "、", "，", "申请人", "王建国", "11010519",
                "491231002X", "110105194912", "31002X", "13800138000", "住址", "北京市朝阳区",
                "建国路88号", "501室", "要求", "a@b.cn", "192.168.1.1", "京A12345", "\t", "|",
                "姓名", " ", "-", "010", "6552", "MACde:cd:aa:97:25:5a", "欧阳",
            ]),
            0..60,
        ),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng::new(seed);
        let mut text = pieces.concat();
        // And a few labelled corpus lines, so every detector takes part.
        for _ in 0..3 {
            let idx = rng.below(corpus::TEXT_TYPES.len() as u64) as usize;
            text.push_str(&corpus::positive_line(&mut rng, idx).text);
            text.push('\n');
        }
        parallel_equals_serial(&text)?;
    }

    #[test]
    fn parallel_scan_of_arbitrary_text(s in any::<String>()) {
        parallel_equals_serial(&s)?;
    }

    /// `scan_utf8_into` (SIMD validation) agrees with std on what is UTF-8 and where it
    /// stops being so, and scans valid bytes as `scan_into` scans the string.
    #[test]
    fn scan_utf8_agrees_with_std(
        s in any::<String>(),
        cut in any::<prop::sample::Index>(),
        junk in prop::collection::vec(any::<u8>(), 0..6),
    ) {
        let mut bytes = s.clone().into_bytes();
        let at = cut.index(bytes.len() + 1);
        bytes.splice(at..at, junk);
        let mut found = vec![];
        match (scanner().scan_utf8_into(&bytes, &mut found), std::str::from_utf8(&bytes)) {
            (Ok(()), Ok(text)) => prop_assert_eq!(found, scanner().scan(text)),
            (Err(e), Err(std_e)) => {
                prop_assert_eq!(e, std_e);
                prop_assert!(found.is_empty());
            }
            (mine, theirs) => prop_assert!(false, "{:?} vs std {:?}", mine, theirs.map(|_| ())),
        }
    }
    #[test]
    fn valid_identifiers_are_found(seed in any::<u64>(), idx in 0..corpus::TEXT_TYPES.len(), (before, after) in context()) {
        let (t, gen, _) = corpus::TEXT_TYPES[idx];
        // Names, addresses, birth dates and IMEIs are cue-driven: give them their cue.
        let cue = match t {
            DataType::PersonName => "联系人：",
            DataType::Address => "住址：",
            DataType::BirthDate => "出生日期",
            DataType::Imei => "IMEI ",
            DataType::BankCard => "卡号",
            DataType::CnUscc => "信用代码",
            DataType::CnOrgCode => "机构代码",
            _ => "",
        };
        let mut rng = Rng::new(seed);
        let value = gen(&mut rng);
        let after = if matches!(t, DataType::PersonName | DataType::Address) { format!("。{after}") } else { after };
        let text = format!("{before}{cue}{value}{after}");
        let start = before.len() + cue.len();
        prop_assert!(found_exactly(&text, t, start, start + value.len()), "{t:?} {value:?} not found in {text:?}: {:?}", scanner().scan(&text));
    }

    #[test]
    fn ids_with_a_wrong_check_digit_are_not_ids(seed in any::<u64>(), (before, after) in context()) {
        let id = corpus::gen_id18(&mut Rng::new(seed));
        let good = id.as_bytes()[17];
        for bad in b"0123456789X" {
            if *bad == good {
                continue;
            }
            let text = format!("{before}身份证号{}{}{after}", &id[..17], *bad as char);
            prop_assert!(!reported(&text).iter().any(|(t, _)| *t == DataType::CnResidentId), "{text}");
        }
    }

    #[test]
    fn corrupted_check_characters_are_rejected(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let uscc = corpus::gen_uscc(&mut rng);
        let vin = corpus::gen_vin(&mut rng);
        let alt = |s: &str, pos: usize, set: &[u8]| -> Vec<String> {
            set.iter().filter(|&&c| c != s.as_bytes()[pos]).map(|&c| {
                let mut b = s.as_bytes().to_vec();
                b[pos] = c;
                String::from_utf8(b).unwrap()
            }).collect()
        };
        for u in alt(&uscc, 17, b"0123456789ABCDEFGHJKLMNPQRTUWXY") {
            prop_assert!(!reported(&format!("信用代码{u}。")).iter().any(|(t, _)| *t == DataType::CnUscc), "{u}");
        }
        for v in alt(&vin, 8, b"0123456789X") {
            prop_assert!(!reported(&format!("车架号{v}。")).iter().any(|(t, _)| *t == DataType::Vin), "{v}");
        }
    }

    #[test]
    fn timestamps_orders_amounts_hashes_are_not_reported(seed in any::<u64>(), kind in 0u8..6) {
        let mut rng = Rng::new(seed);
        let text = match kind {
            0 => format!("时间戳{}", rng.range(1_000_000_000, 1_999_999_999)),
            1 => format!("ts={}{}", rng.range(1_000_000_000, 1_999_999_999), rng.digits(3)),
            2 => { let n = rng.range(15, 22) as usize; format!("订单号20{}{}", rng.range(10, 26), rng.digits(n)) }
            3 => format!("金额：{}.{:02}元", rng.range(0, 999_999_999), rng.below(100)),
            4 => { let n = rng.pick(&[32usize, 40, 64]); format!("sha={}", rng.chars_from(b"0123456789abcdef", n)) }
            _ => format!("{}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}", rng.range(2000, 2030), rng.range(1, 12), rng.range(1, 28), rng.below(24), rng.below(60), rng.below(60), rng.below(1000)),
        };
        prop_assert_eq!(reported(&text), vec![], "{}", text);
    }

    #[test]
    fn run_on_digits_are_never_cut(prefix in "[0-9]{1,6}", seed in any::<u64>(), suffix in "[0-9A-Za-z]{1,6}", which in 0u8..2) {
        let mut rng = Rng::new(seed);
        let value = if which == 0 { corpus::gen_id18(&mut rng) } else { corpus::gen_mobile_digits(&mut rng) };
        for text in [format!("编号{prefix}{value}。"), format!("编号{value}{suffix}。")] {
            check_spans(&text)?;
            prop_assert!(!reported(&text).iter().any(|(_, s)| s == &value), "{text}");
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        check_spans(&s)?;
    }

    #[test]
    fn glued_cue_words_are_split_off(seed in any::<u64>(), kw in prop::sample::select(vec!["IMEI", "imei"])) {
        let imei = corpus::gen_imei(&mut Rng::new(seed));
        let text = format!("设备{kw}{imei}。");
        check_spans(&text)?;
        let start = "设备".len() + kw.len();
        prop_assert!(found_exactly(&text, DataType::Imei, start, start + imei.len()), "{}", text);
    }

    #[test]
    fn identifier_alphabet_soup_never_panics(s in r"[0-9A-Za-z@:.\-·+ （）()京沪粤姓名联系人住址北京市区路号出生年月日IMEIX,，/]{0,80}") {
        check_spans(&s)?;
    }

    #[test]
    fn validators_never_panic(s in any::<String>(), t in r"[京沪粤市·0-9A-Z\- :.@]{0,24}") {
        use shuan_detect::validate as v;
        for x in [s.as_str(), t.as_str()] {
            let _ = (v::cn_resident_id(x), v::cn_mobile(x), v::cn_landline(x), v::email(x), v::luhn(x), v::bank_card(x));
            let _ = (v::bank_card_shape(x), v::cn_uscc(x), v::cn_org_code(x), v::cn_passport(x), v::cn_hk_macao_permit(x));
            let _ = (v::cn_plate(x), v::vin(x), v::ipv4(x), v::ipv6(x), v::mac_address(x), v::imei(x), v::birth_date(x));
            for &dt in DataType::all() {
                let _ = shuan_detect::mask_value(dt, x);
            }
        }
    }

    #[test]
    fn classify_never_panics(name in any::<String>(), values in prop::collection::vec(any::<String>(), 0..20)) {
        let v = ColumnClassifier::new().classify(&name, values.iter().map(String::as_str));
        prop_assert!(v.values_matched <= v.values_seen && v.values_seen <= values.len());
        prop_assert!((0.0..=1.0).contains(&v.confidence));
        prop_assert!(!v.reason.is_empty());
    }
}

/// A long generated text (about 2 MB: every detector, names, tables) gives the same
/// findings on 1, 2, 3 and 8 threads with the default cut size.
#[test]
fn parallel_scan_of_a_long_text_equals_single_threaded() {
    let mut rng = Rng::new(16);
    let mut text = String::new();
    while text.len() < 2 << 20 {
        let idx = rng.below(corpus::TEXT_TYPES.len() as u64) as usize;
        text.push_str(&corpus::positive_line(&mut rng, idx).text);
        text.push_str(&corpus::negative_line(&mut rng).text);
        text.push_str(rng.pick(&["\n", "\r\n", "。", "王建国反映，", "姓名\t电话\n张伟\t1\n"]));
    }
    let serial = TextScanner::new().with_threads(1).scan(&text);
    assert!(serial.len() > 10_000, "{} findings", serial.len());
    for n in [2, 3, 8] {
        let parallel = TextScanner::new().with_threads(n).scan(&text);
        assert!(parallel == serial, "{n} threads differ from one");
    }
}
