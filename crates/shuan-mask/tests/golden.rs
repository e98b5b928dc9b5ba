//! Golden vectors: masking outputs pinned to fixed values for a fixed test key.
//!
//! Pseudonyms must stay the same across releases (masked tables from different extracts
//! still join) and FPE must stay the same (`shuan unmask` of an old extract). A changed
//! key-derivation label, MAC layout, FF1 round or alphabet breaks both silently; these
//! vectors make it fail here. The expected values in `golden.json` were computed once
//! from the code of 2026-12-03 and committed. Regenerate them
//! (`SHUAN_GOLDEN_REGENERATE=1 cargo test -p shuan-mask --test golden`) only for a
//! deliberate, versioned format change: every extract made before it stops joining and
//! unmasking.

use std::collections::BTreeMap;
use std::path::PathBuf;

use shuan_mask::ff1::Ff1;
use shuan_mask::ops::PseudonymFormat;
use shuan_mask::watermark::Embedder;
use shuan_mask::{Alphabet, ApplyCtx, MaskKeys, Operator};

/// The fixed test master key: bytes 0x00, 0x01, …, 0x1f.
fn master() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn pseudonym(format: PseudonymFormat, prefix: &str, namespace: &str) -> Operator {
    Operator::Pseudonym {
        prefix: prefix.into(),
        format,
        namespace: namespace.into(),
    }
}

fn fpe(alphabet: &str, tweak: &str) -> Operator {
    Operator::Fpe {
        alphabet: Alphabet::from_name(alphabet).unwrap(),
        tweak: tweak.into(),
    }
}

/// One operator vector: (case, operator, value, entity, row, column).
type OperatorCase = (
    &'static str,
    Operator,
    &'static str,
    Option<&'static str>,
    u64,
    &'static str,
);

fn operator_cases() -> Vec<OperatorCase> {
    vec![
        (
            "pseudonym_hex_default",
            pseudonym(PseudonymFormat::Hex { len: 16 }, "", ""),
            "11010519491231002X",
            None,
            0,
            "id_no",
        ),
        (
            "pseudonym_hex_prefix_len32",
            pseudonym(PseudonymFormat::Hex { len: 32 }, "P", ""),
            "11010519491231002X",
            None,
            0,
            "id_no",
        ),
        (
            "pseudonym_hex_namespace",
            pseudonym(PseudonymFormat::Hex { len: 16 }, "P", "people"),
            "11010519491231002X",
            None,
            0,
            "id_no",
        ),
        (
            "pseudonym_digits",
            pseudonym(PseudonymFormat::Digits, "", ""),
            "138-1234-5678",
            None,
            0,
            "phone",
        ),
        (
            "pseudonym_chinese_name",
            pseudonym(PseudonymFormat::ChineseName, "", ""),
            "张三",
            None,
            0,
            "name",
        ),
        (
            "fpe_digits",
            fpe("digits", ""),
            "13800138000",
            None,
            0,
            "phone",
        ),
        (
            "fpe_digits_separators_tweak",
            fpe("digits", "t1"),
            "138-0013-8000",
            None,
            0,
            "phone",
        ),
        (
            "fpe_id_number",
            fpe("id_number", ""),
            "11010519491231002X",
            None,
            0,
            "id_no",
        ),
        (
            "fpe_alphanumeric",
            fpe("alphanumeric", ""),
            "E12345678",
            None,
            0,
            "passport",
        ),
        ("fpe_chinese", fpe("chinese", ""), "张三丰", None, 0, "name"),
        (
            "date_shift_entity",
            Operator::DateShift {
                max_days: 30,
                entity: Some("id_no".into()),
            },
            "1990-05-17 08:30:00",
            Some("11010519491231002X"),
            3,
            "visit",
        ),
        (
            "noise_relative",
            Operator::Noise { relative: 0.05 },
            "1000.00",
            None,
            7,
            "income",
        ),
    ]
}

/// Every pinned value, by case name.
fn compute() -> BTreeMap<String, String> {
    let keys = MaskKeys::from_master(&master());
    let mut out = BTreeMap::new();
    out.insert("fingerprint".into(), keys.fingerprint());
    // The keyring derivation (label `shuan-mask/v1/keyring-master`) of data key 0x10..0x1f.
    let data_key: [u8; 16] = std::array::from_fn(|i| 0x10 + i as u8);
    out.insert(
        "keyring_data_key_fingerprint".into(),
        MaskKeys::from_keyring_data_key(&data_key).fingerprint(),
    );
    // The MAC layouts: length-prefixed parts under each subkey.
    let parts: [&[u8]; 2] = [b"people", b"11010519491231002X"];
    out.insert("pseudonym_mac".into(), hex(&keys.pseudonym_mac(&parts)));
    out.insert("date_shift_mac".into(), hex(&keys.date_shift_mac(&parts)));
    out.insert("noise_mac".into(), hex(&keys.noise_mac(&parts)));
    out.insert("watermark_mac".into(), hex(&keys.watermark_mac(&parts)));
    // FF1 over SM4 under the derived FPE key, radix 10 and 36.
    let cipher = keys.fpe_cipher();
    for (radix, tweak, case) in [
        (10u32, &b""[..], "ff1_sm4_radix10"),
        (36, b"tweak", "ff1_sm4_radix36_tweak"),
    ] {
        let ff1 = Ff1::new(&cipher, radix).unwrap();
        let x: Vec<u16> = (0..12).map(|i| (i * 7 % radix as usize) as u16).collect();
        let y = ff1.encrypt(&x, tweak).unwrap();
        assert_eq!(ff1.decrypt(&y, tweak).unwrap(), x, "{case}: FF1 round trip");
        out.insert(case.into(), y.iter().map(|d| format!("{d},")).collect());
    }
    for (case, op, value, entity, row, column) in operator_cases() {
        let ctx = ApplyCtx {
            entity,
            row,
            column,
            pseudonym_tag: None,
        };
        let masked = op
            .apply(value, Some(&keys), &ctx)
            .unwrap()
            .unwrap_or_default();
        if let Operator::Fpe { .. } = op {
            assert_eq!(
                op.reverse(&masked, &keys).unwrap(),
                value,
                "{case}: FPE reverses"
            );
        }
        out.insert(case.into(), masked);
    }
    // A watermarked row: the carrier's last digit parity is the keyed bit of the row key.
    let header = vec!["id".to_string(), "amount".to_string()];
    let mut embed = Embedder::new(&keys, "市卫健委", &header, &["amount".to_string()]).unwrap();
    let mut marked = Vec::new();
    for i in 0..8 {
        let mut row = vec![Some(format!("row{i}")), Some("1234".to_string())];
        embed.embed(&mut row);
        marked.push(row[1].clone().unwrap());
    }
    out.insert("watermark_carriers".into(), marked.join(","));
    out
}

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden.json")
}

#[test]
fn masking_outputs_match_the_golden_vectors() {
    let now = compute();
    if std::env::var_os("SHUAN_GOLDEN_REGENERATE").is_some() {
        std::fs::write(
            golden_path(),
            serde_json::to_string_pretty(&now).unwrap() + "\n",
        )
        .unwrap();
    }
    let text = std::fs::read_to_string(golden_path()).unwrap();
    let pinned: BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
    assert_eq!(
        pinned.keys().collect::<Vec<_>>(),
        now.keys().collect::<Vec<_>>(),
        "the set of golden cases changed"
    );
    for (case, expected) in &pinned {
        assert_eq!(&now[case], expected, "golden vector `{case}` changed");
    }
}
