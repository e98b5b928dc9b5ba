//! Sets of CJK ideographs (U+4E00..=U+9FFF) as bitmaps built at compile time: one load and
//! one bit test answers "is this character in the set?", where `str::contains(c)` or
//! comparing a list of words scans bytes.

const CJK_START: u32 = 0x4E00;
const CJK_LEN: usize = 0x9FFF - 0x4E00 + 1;
const WORDS: usize = CJK_LEN.div_ceil(64);

/// A set of CJK unified ideographs.
#[derive(Clone)]
pub(crate) struct CharSet([u64; WORDS]);

/// The ideograph whose UTF-8 encoding starts `b`, as an index from U+4E00, if `b` starts
/// with a three-byte character whose lead byte is E4..E9 (U+4000..U+9FFF).
#[inline]
const fn cjk_index(b: &[u8]) -> Option<usize> {
    if b.len() < 3 || b[0] < 0xE4 || b[0] > 0xE9 {
        return None;
    }
    let cp = ((b[0] as u32 & 0x0F) << 12) | ((b[1] as u32 & 0x3F) << 6) | (b[2] as u32 & 0x3F);
    if cp < CJK_START {
        return None;
    }
    Some((cp - CJK_START) as usize)
}

impl CharSet {
    /// The characters of `s` (each must be an ideograph: checked at compile time).
    pub(crate) const fn of_chars(s: &str) -> CharSet {
        let mut bits = [0u64; WORDS];
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let (_, rest) = b.split_at(i);
            let Some(k) = cjk_index(rest) else {
                panic!("CharSet::of_chars: not a CJK ideograph");
            };
            bits[k / 64] |= 1 << (k % 64);
            i += 3;
        }
        CharSet(bits)
    }

    /// The first characters of `words` (each must start with an ideograph).
    pub(crate) const fn of_first_chars(words: &[&str]) -> CharSet {
        let mut bits = [0u64; WORDS];
        let mut i = 0;
        while i < words.len() {
            let Some(k) = cjk_index(words[i].as_bytes()) else {
                panic!("CharSet::of_first_chars: a word does not start with a CJK ideograph");
            };
            bits[k / 64] |= 1 << (k % 64);
            i += 1;
        }
        CharSet(bits)
    }

    /// The first characters of those of `words` that start with an ideograph, and a mask
    /// of the first bytes of those that start with an ASCII character (bit `c` for byte
    /// `c`). A word starting with any other character is not allowed.
    pub(crate) const fn of_first_chars_and_ascii(words: &[&str]) -> (CharSet, u128) {
        let mut bits = [0u64; WORDS];
        let mut ascii = 0u128;
        let mut i = 0;
        while i < words.len() {
            let b = words[i].as_bytes();
            if b[0] < 0x80 {
                ascii |= 1 << b[0];
            } else {
                let Some(k) = cjk_index(b) else {
                    panic!("CharSet: a word starts with neither ASCII nor a CJK ideograph");
                };
                bits[k / 64] |= 1 << (k % 64);
            }
            i += 1;
        }
        (CharSet(bits), ascii)
    }

    /// Is the character starting `b` in the set?
    #[inline]
    pub(crate) fn starts(&self, b: &[u8]) -> bool {
        cjk_index(b).is_some_and(|k| self.0[k / 64] & (1 << (k % 64)) != 0)
    }

    /// Is `c` in the set?
    #[inline]
    pub(crate) fn contains(&self, c: char) -> bool {
        self.contains_cp(c as u32)
    }

    /// Is the code point `cp` in the set?
    #[inline]
    pub(crate) fn contains_cp(&self, cp: u32) -> bool {
        if !(CJK_START..CJK_START + CJK_LEN as u32).contains(&cp) {
            return false;
        }
        let k = (cp - CJK_START) as usize;
        self.0[k / 64] & (1 << (k % 64)) != 0
    }
}

impl std::fmt::Debug for CharSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n: u32 = self.0.iter().map(|w| w.count_ones()).sum();
        write!(f, "CharSet({n} characters)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_str_contains() {
        const S: &str = "的了是在一龥丁";
        static SET: CharSet = CharSet::of_chars(S);
        static FIRSTS: CharSet = CharSet::of_first_chars(&["号楼", "室", "单元"]);
        for c in ('\u{4000}'..='\u{A000}').chain(['a', '，', '😀', '\u{3000}']) {
            assert_eq!(SET.contains(c), S.contains(c), "{c}");
            let mut buf = [0u8; 4];
            assert_eq!(
                SET.starts(c.encode_utf8(&mut buf).as_bytes()),
                S.contains(c),
                "{c}"
            );
            assert_eq!(FIRSTS.contains(c), "号室单".contains(c), "{c}");
        }
        assert!(!SET.starts(b""));
        assert!(!SET.starts(&[0xE7, 0x9A]));
    }
}
