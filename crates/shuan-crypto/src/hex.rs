//! Hexadecimal, the one codec of the workspace's crypto-adjacent text: keyring fields,
//! digests and signatures in logs and ledgers, test vectors. Encodes lower case; decodes
//! either case. Errors name the position of the problem, never the text itself (it may
//! be key material).

/// Why text is not the expected hex.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum HexError {
    /// An odd number of digits.
    #[error("hex text has an odd number of digits ({0}); each byte is two digits")]
    OddLength(usize),
    /// A character that is not 0-9, a-f or A-F.
    #[error("hex text has a non-hex character at position {position}")]
    InvalidDigit {
        /// Byte offset of the character.
        position: usize,
    },
    /// Valid hex of the wrong size for a fixed-size value.
    #[error("hex text holds {found} bytes where {expected} are expected")]
    WrongLength {
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
}

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

const fn digit_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The bytes of hex `text` (either case, no separators or prefix).
pub fn decode(text: &str) -> Result<Vec<u8>, HexError> {
    let t = text.as_bytes();
    if !t.len().is_multiple_of(2) {
        return Err(HexError::OddLength(t.len()));
    }
    t.chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| {
            let hi = digit_value(pair[0]).ok_or(HexError::InvalidDigit { position: 2 * i })?;
            let lo = digit_value(pair[1]).ok_or(HexError::InvalidDigit {
                position: 2 * i + 1,
            })?;
            Ok((hi << 4) | lo)
        })
        .collect()
}

/// Exactly `N` bytes from hex `text`.
pub fn decode_array<const N: usize>(text: &str) -> Result<[u8; N], HexError> {
    let bytes = decode(text)?;
    let found = bytes.len();
    bytes
        .try_into()
        .map_err(|_| HexError::WrongLength { expected: N, found })
}

/// `N` bytes from hex written in the source (curve constants); a malformed constant
/// stops the build, as evaluation happens at compile time in a `const`.
pub(crate) const fn decode_const<const N: usize>(text: &str) -> [u8; N] {
    let t = text.as_bytes();
    assert!(t.len() == 2 * N, "hex constant of the wrong length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        let (Some(hi), Some(lo)) = (digit_value(t[2 * i]), digit_value(t[2 * i + 1])) else {
            panic!("hex constant with a non-hex character");
        };
        out[i] = (hi << 4) | lo;
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_case() {
        let all: Vec<u8> = (0..=255u8).collect();
        let text = encode(&all);
        assert_eq!(&text[..8], "00010203");
        assert_eq!(&text[text.len() - 4..], "feff");
        assert_eq!(decode(&text).unwrap(), all);
        assert_eq!(decode(&text.to_uppercase()).unwrap(), all);
        assert_eq!(encode(&[]), "");
        assert_eq!(decode("").unwrap(), Vec::<u8>::new());
        assert_eq!(decode_array::<2>("aBcD").unwrap(), [0xab, 0xcd]);
        const C: [u8; 3] = decode_const("00ff7A");
        assert_eq!(C, [0, 0xff, 0x7a]);
    }

    #[test]
    fn errors_name_the_position_not_the_text() {
        assert_eq!(decode("abc"), Err(HexError::OddLength(3)));
        assert_eq!(decode("0g"), Err(HexError::InvalidDigit { position: 1 }));
        assert_eq!(decode("g0"), Err(HexError::InvalidDigit { position: 0 }));
        assert_eq!(decode("00+1"), Err(HexError::InvalidDigit { position: 2 }));
        // Multi-byte characters are not digits either, and do not panic.
        assert!(matches!(decode("é00"), Err(HexError::InvalidDigit { .. })));
        assert_eq!(
            decode_array::<4>("0011"),
            Err(HexError::WrongLength {
                expected: 4,
                found: 2
            })
        );
        let secret = "5ec7e7";
        let e = decode(&format!("{secret}zz")).unwrap_err();
        assert!(!e.to_string().contains(secret));
    }
}
