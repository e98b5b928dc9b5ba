//! Format-preserving encryption of whole values: which characters are encrypted (the
//! alphabet) and which are kept in place (separators, other scripts).

use crate::error::{MaskError, Result};
use crate::ff1::{BlockCipher128, Ff1};

/// Which characters FF1 encrypts; every other character stays where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alphabet {
    /// ASCII digits `0-9` (radix 10): phone numbers, bank cards, account numbers.
    Digits,
    /// 18-digit resident ID (GB 11643): the first 17 digits are encrypted and the check
    /// digit is recomputed, so the output still passes the ISO 7064 MOD 11-2 check.
    IdNumber,
    /// `0-9A-Za-z` (radix 62).
    Alphanumeric,
    /// CJK Unified Ideographs U+4E00..=U+9FA5 (radix 20902): names, addresses.
    Chinese,
}

const CJK_FIRST: u32 = 0x4E00;
const CJK_LAST: u32 = 0x9FA5;

impl Alphabet {
    /// Parse the rule-file name of an alphabet.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "digits" => Alphabet::Digits,
            "id_number" => Alphabet::IdNumber,
            "alphanumeric" => Alphabet::Alphanumeric,
            "chinese" => Alphabet::Chinese,
            _ => return None,
        })
    }

    /// The rule-file name.
    pub fn name(self) -> &'static str {
        match self {
            Alphabet::Digits => "digits",
            Alphabet::IdNumber => "id_number",
            Alphabet::Alphanumeric => "alphanumeric",
            Alphabet::Chinese => "chinese",
        }
    }

    fn radix(self) -> u32 {
        match self {
            Alphabet::Digits | Alphabet::IdNumber => 10,
            Alphabet::Alphanumeric => 62,
            Alphabet::Chinese => CJK_LAST - CJK_FIRST + 1,
        }
    }

    fn to_numeral(self, c: char) -> Option<u16> {
        let u = c as u32;
        match self {
            Alphabet::Digits | Alphabet::IdNumber => c.to_digit(10).map(|d| d as u16),
            Alphabet::Alphanumeric => match c {
                '0'..='9' => Some((u - '0' as u32) as u16),
                'A'..='Z' => Some((u - 'A' as u32 + 10) as u16),
                'a'..='z' => Some((u - 'a' as u32 + 36) as u16),
                _ => None,
            },
            Alphabet::Chinese => (CJK_FIRST..=CJK_LAST)
                .contains(&u)
                .then(|| (u - CJK_FIRST) as u16),
        }
    }

    fn numeral_char(self, d: u16) -> char {
        let d = d as u32;
        let code = match self {
            Alphabet::Digits | Alphabet::IdNumber => '0' as u32 + d,
            Alphabet::Alphanumeric => match d {
                0..=9 => '0' as u32 + d,
                10..=35 => 'A' as u32 + d - 10,
                _ => 'a' as u32 + d - 36,
            },
            Alphabet::Chinese => CJK_FIRST + d,
        };
        char::from_u32(code).expect("numeral within alphabet")
    }
}

/// GB 11643 check character for the first 17 digits.
pub fn gb11643_check(digits17: &[u16]) -> char {
    const W: [u16; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = digits17
        .iter()
        .zip(W)
        .map(|(&d, w)| d as u32 * w as u32)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

/// Encrypt (or decrypt) the alphabet characters of `value` in place of themselves.
pub fn transform<C: BlockCipher128>(
    cipher: &C,
    alphabet: Alphabet,
    tweak: &[u8],
    value: &str,
    encrypt: bool,
) -> Result<String> {
    let ff1 = Ff1::new(cipher, alphabet.radix())?;
    if alphabet == Alphabet::IdNumber {
        let chars: Vec<char> = value.chars().collect();
        let ok = chars.len() == 18
            && chars[..17].iter().all(char::is_ascii_digit)
            && (chars[17].is_ascii_digit() || chars[17] == 'X' || chars[17] == 'x');
        if !ok {
            return Err(MaskError::value(
                "fpe",
                "id_number alphabet expects 18 characters: 17 digits and a check digit",
            ));
        }
        let nums: Vec<u16> = chars[..17]
            .iter()
            .map(|c| c.to_digit(10).expect("digit") as u16)
            .collect();
        let out = if encrypt {
            ff1.encrypt(&nums, tweak)?
        } else {
            ff1.decrypt(&nums, tweak)?
        };
        let mut s: String = out.iter().map(|&d| alphabet.numeral_char(d)).collect();
        s.push(gb11643_check(&out));
        return Ok(s);
    }
    let mut nums = Vec::with_capacity(value.len());
    for c in value.chars() {
        if let Some(d) = alphabet.to_numeral(c) {
            nums.push(d);
        }
    }
    if nums.is_empty() {
        // Nothing of the alphabet to hide (e.g. `无`): the value carries no identifier.
        return Ok(value.to_string());
    }
    let out = if encrypt {
        ff1.encrypt(&nums, tweak)?
    } else {
        ff1.decrypt(&nums, tweak)?
    };
    let mut it = out.into_iter();
    let mut s = String::with_capacity(value.len());
    for c in value.chars() {
        if alphabet.to_numeral(c).is_some() {
            s.push(alphabet.numeral_char(it.next().expect("same count")));
        } else {
            s.push(c);
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::MaskKeys;

    fn keys() -> MaskKeys {
        MaskKeys::from_master(&[7u8; 32])
    }

    #[test]
    fn sm4_roundtrips_every_alphabet() {
        let k = keys();
        let c = k.fpe_cipher();
        for (alpha, v) in [
            (Alphabet::Digits, "138-0013-8000"),
            (Alphabet::Digits, "6222021234567890123"),
            (Alphabet::IdNumber, "11010519491231002X"),
            (Alphabet::Alphanumeric, "E12345678"),
            (Alphabet::Chinese, "张三"),
            (Alphabet::Chinese, "广东省江门市蓬江区建设路12号"),
        ] {
            let e = transform(&c, alpha, b"t", v, true).unwrap();
            assert_ne!(e, v);
            assert_eq!(e.chars().count(), v.chars().count());
            assert_eq!(
                transform(&c, alpha, b"t", &e, false).unwrap(),
                v,
                "{alpha:?}"
            );
            // Deterministic: same key, same tweak, same output.
            assert_eq!(transform(&c, alpha, b"t", v, true).unwrap(), e);
            // Another key does not reverse it.
            let other = MaskKeys::from_master(&[8u8; 32]);
            assert_ne!(
                transform(&other.fpe_cipher(), alpha, b"t", &e, false).unwrap(),
                v
            );
        }
        let e = transform(&c, Alphabet::Digits, b"", "138-0013-8000", true).unwrap();
        assert_eq!(&e[3..4], "-");
        assert_eq!(&e[8..9], "-");
        let cjk = transform(
            &c,
            Alphabet::Chinese,
            b"",
            "广东省江门市蓬江区建设路12号",
            true,
        )
        .unwrap();
        assert!(cjk.ends_with("12号") || cjk.contains("12"));
    }

    #[test]
    fn id_number_keeps_a_valid_check_digit() {
        let k = keys();
        let c = k.fpe_cipher();
        for id in [
            "11010519491231002X",
            "440703199001011234",
            "110105194912310021",
        ] {
            let e = transform(&c, Alphabet::IdNumber, b"", id, true).unwrap();
            let d: Vec<u16> = e[..17].bytes().map(|b| (b - b'0') as u16).collect();
            assert_eq!(e.chars().last().unwrap(), gb11643_check(&d));
            let back = transform(&c, Alphabet::IdNumber, b"", &e, false).unwrap();
            assert_eq!(&back[..17], &id[..17]);
        }
        assert_eq!(
            gb11643_check(
                &"11010519491231002"
                    .bytes()
                    .map(|b| (b - b'0') as u16)
                    .collect::<Vec<_>>()
            ),
            'X'
        );
        assert!(transform(&c, Alphabet::IdNumber, b"", "12345", true).is_err());
    }
}
