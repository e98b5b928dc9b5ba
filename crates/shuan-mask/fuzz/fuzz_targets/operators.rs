//! Every operator on arbitrary values: errors allowed, panics not; FPE must round-trip.
#![no_main]
use shuan_mask::ops::{AddressLevel, ApplyCtx, DateLevel, Operator, PseudonymFormat};
use shuan_mask::{Alphabet, MaskKeys};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else { return };
    let keys = MaskKeys::from_master(&[7; 32]);
    let ctx = ApplyCtx { entity: Some("e"), row: 1, column: "c", pseudonym_tag: None };
    let ops = [
        Operator::Partial { keep_first: 3, keep_last: 4, mask_char: '*', fixed: None },
        Operator::Pseudonym { prefix: String::new(), format: PseudonymFormat::Digits, namespace: String::new() },
        Operator::GeneralizeDate(DateLevel::AgeBand { width: 10, reference_year: 2026 }),
        Operator::GeneralizeAddress(AddressLevel::District),
        Operator::GeneralizeGps { grid: 0.01 },
        Operator::GeneralizeNumber { width: 100.0 },
        Operator::DateShift { max_days: 30, entity: None },
        Operator::Noise { relative: 0.1 },
    ];
    for op in &ops {
        let _ = op.apply(value, Some(&keys), &ctx);
    }
    for alphabet in [Alphabet::Digits, Alphabet::IdNumber, Alphabet::Alphanumeric, Alphabet::Chinese] {
        let op = Operator::Fpe { alphabet, tweak: "t".into() };
        if let Ok(Some(enc)) = op.apply(value, Some(&keys), &ctx) {
            if alphabet != Alphabet::IdNumber {
                assert_eq!(op.reverse(&enc, &keys).unwrap(), value);
            }
        }
    }
});
