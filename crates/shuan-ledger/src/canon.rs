//! A fast, allocation-free check that stored bytes are the canonical form of a record.
//!
//! `verify` must reject any record that is not exactly the canonical form of what it
//! parses to. Parsing every record with serde and serializing it again costs more than
//! hashing it, so [`certify`] first walks the bytes once against the grammar of the
//! canonical form (`docs/ledger.md`). It only ever says "certainly canonical": anything
//! it is unsure about (floating-point numbers, escapes in object keys, very large
//! integers, deep nesting, leap seconds) is left to the full parse-and-reserialize check,
//! which stays the reference. A test checks on random mutations that whatever this
//! accepts, the reference accepts too.

use crate::record::Seq;
use crate::time::days_in_month;

/// Deeper nesting than this is left to the reference check (serde_json stops at 128).
const MAX_DEPTH: usize = 64;

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn lit(&mut self, s: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + s.len())? == s {
            self.i += s.len();
            Some(())
        } else {
            None
        }
    }

    fn peek_lit(&self, s: &[u8]) -> bool {
        self.b.get(self.i..self.i + s.len()) == Some(s)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// A JSON string in serde_json's minimal escaping; returns its raw contents and
    /// whether they contain an escape.
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        self.lit(b"\"")?;
        let start = self.i;
        let mut escaped = false;
        let mut ascii = true;
        loop {
            let c = *self.b.get(self.i)?;
            match c {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    let e = *self.b.get(self.i + 1)?;
                    match e {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                        b'u' => {
                            let h = self.b.get(self.i + 2..self.i + 6)?;
                            // Only controls without a short form are written as \u00xx,
                            // in lower-case hex.
                            let hex = |x: u8| matches!(x, b'0'..=b'9' | b'a'..=b'f');
                            if h[0] != b'0' || h[1] != b'0' || !matches!(h[2], b'0' | b'1') {
                                return None;
                            }
                            if !hex(h[3]) {
                                return None;
                            }
                            let v = (h[2] - b'0') * 16
                                + if h[3] <= b'9' {
                                    h[3] - b'0'
                                } else {
                                    h[3] - b'a' + 10
                                };
                            if matches!(v, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return None;
                            }
                            self.i += 6;
                        }
                        _ => return None,
                    }
                }
                0..=0x1f => return None,
                0x80.. => {
                    ascii = false;
                    self.i += 1;
                }
                _ => self.i += 1,
            }
        }
        let raw = &self.b[start..self.i];
        self.i += 1;
        if !ascii && std::str::from_utf8(raw).is_err() {
            return None;
        }
        Some((raw, escaped))
    }

    fn one_of(&mut self, options: &[&[u8]]) -> Option<()> {
        for o in options {
            if self.peek_lit(o) {
                self.i += o.len();
                return Some(());
            }
        }
        None
    }

    /// An integer as serde_json prints it: no sign on zero, no leading zeros, small
    /// enough to be an i64/u64 (larger ones are left to the reference check).
    fn integer(&mut self) -> Option<()> {
        let neg = self.peek() == Some(b'-');
        if neg {
            self.i += 1;
        }
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let digits = &self.b[start..self.i];
        if digits.is_empty() || digits.len() > 18 {
            return None;
        }
        if digits[0] == b'0' && (digits.len() > 1 || neg) {
            return None;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(())
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.object(depth + 1),
            b'[' => {
                self.i += 1;
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.value(depth + 1)?;
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.lit(b"true"),
            b'f' => self.lit(b"false"),
            b'n' => self.lit(b"null"),
            b'-' | b'0'..=b'9' => self.integer(),
            _ => None,
        }
    }

    /// An object with keys in strictly increasing byte order (no duplicates).
    fn object(&mut self, depth: usize) -> Option<()> {
        self.lit(b"{")?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(());
        }
        let mut prev: Option<&[u8]> = None;
        loop {
            let (key, escaped) = self.string()?;
            // The order is that of the decoded keys; with escapes, leave it to the
            // reference check.
            if escaped || prev.is_some_and(|p| p >= key) {
                return None;
            }
            prev = Some(key);
            self.lit(b":")?;
            self.value(depth)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn two(&self, at: usize) -> Option<u32> {
        let d = self.b.get(at..at + 2)?;
        (d[0].is_ascii_digit() && d[1].is_ascii_digit())
            .then(|| ((d[0] - b'0') * 10 + (d[1] - b'0')) as u32)
    }

    /// `"YYYY-MM-DDTHH:MM:SS.ffffffZ"` naming a real instant (no leap second).
    fn time(&mut self) -> Option<()> {
        let s = self.b.get(self.i..self.i + 29)?;
        if s[0] != b'"' || s[28] != b'"' {
            return None;
        }
        let t = &s[1..28];
        let digits = |r: std::ops::Range<usize>| t[r].iter().all(u8::is_ascii_digit);
        if !(digits(0..4)
            && t[4] == b'-'
            && t[7] == b'-'
            && t[10] == b'T'
            && t[13] == b':'
            && t[16] == b':'
            && t[19] == b'.'
            && digits(20..26)
            && t[26] == b'Z')
        {
            return None;
        }
        let base = self.i + 1;
        let year = t[..4].iter().fold(0i64, |a, &c| a * 10 + (c - b'0') as i64);
        let month = self.two(base + 5)?;
        let day = self.two(base + 8)?;
        let (h, m, sec) = (
            self.two(base + 11)?,
            self.two(base + 14)?,
            self.two(base + 17)?,
        );
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || h > 23
            || m > 59
            || sec > 59
        {
            return None;
        }
        self.i += 29;
        Some(())
    }
}

/// True only if `body` is certainly the canonical form of a record numbered `seq`.
/// `false` means "not shown here": the caller runs the reference check.
pub(crate) fn certify(body: &[u8], seq: Seq) -> bool {
    certify_inner(body, seq).is_some()
}

fn certify_inner(body: &[u8], seq: Seq) -> Option<()> {
    let mut c = Cursor { b: body, i: 0 };
    c.lit(b"{\"action\":")?;
    c.string()?;
    c.lit(b",\"actor\":{")?;
    if c.peek_lit(b"\"department\":") {
        c.lit(b"\"department\":")?;
        c.string()?;
        c.lit(b",")?;
    }
    c.lit(b"\"id\":")?;
    c.string()?;
    c.lit(b",\"kind\":")?;
    c.one_of(&[b"\"user\"", b"\"system\""])?;
    if c.peek_lit(b",\"role\":") {
        c.lit(b",\"role\":")?;
        c.string()?;
    }
    c.lit(b"}")?;
    if c.peek_lit(b",\"client\":{") {
        c.lit(b",\"client\":{")?;
        // Present only with at least one field.
        if c.peek_lit(b"\"address\":") {
            c.lit(b"\"address\":")?;
            c.string()?;
            if c.peek_lit(b",\"agent\":") {
                c.lit(b",\"agent\":")?;
                c.string()?;
            }
        } else {
            c.lit(b"\"agent\":")?;
            c.string()?;
        }
        c.lit(b"}")?;
    }
    c.lit(b",\"details\":")?;
    c.object(1)?;
    c.lit(b",\"object\":")?;
    c.string()?;
    c.lit(b",\"outcome\":")?;
    c.one_of(&[b"\"allowed\"", b"\"denied\"", b"\"error\""])?;
    if c.peek_lit(b",\"purpose\":") {
        c.lit(b",\"purpose\":")?;
        c.string()?;
    }
    if c.peek_lit(b",\"request_id\":") {
        c.lit(b",\"request_id\":")?;
        c.string()?;
    }
    c.lit(b",\"seq\":")?;
    let mut digits = [0u8; 20];
    let mut n = seq;
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    c.lit(&digits[k..])?;
    c.lit(b",\"time\":")?;
    c.time()?;
    c.lit(b"}")?;
    (c.i == body.len()).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Event, Record};
    use crate::time::Timestamp;
    use proptest::prelude::*;

    fn record(json: &str, seq: Seq, t: i64) -> Vec<u8> {
        let e: Event = serde_json::from_str(json).unwrap();
        let mut out = Vec::new();
        e.prepare()
            .unwrap()
            .finish_into(&mut out, seq, Timestamp(t));
        out
    }

    const SAMPLES: &[&str] = &[
        r#"{"actor":{"kind":"user","id":"zhang.san","department":"大数据局","role":"analyst"},"action":"export","object":"pg:hr.staff.id_no","purpose":"统计","outcome":"allowed","client":{"address":"10.0.0.8","agent":"a"},"request_id":"r-1","details":{"z":1,"a":["x\n\u0001\"\\",true,null,-5,0],"m":{"b":{},"a":[]}}}"#,
        r#"{"actor":{"kind":"system","id":"s"},"action":"a","object":"o","outcome":"denied"}"#,
        r#"{"actor":{"kind":"user","id":"u","role":"r"},"action":"a","object":"o","outcome":"error","client":{"agent":"x"},"details":{"k":"\u007f€"}}"#,
    ];

    #[test]
    fn canonical_records_are_certified() {
        for (i, s) in SAMPLES.iter().enumerate() {
            for seq in [1, 9, 10, 12345, u64::MAX] {
                let b = record(s, seq, 1_767_225_600_123_456 + i as i64);
                assert!(certify(&b, seq), "{}", String::from_utf8_lossy(&b));
                assert!(!certify(&b, seq.wrapping_add(1)));
            }
        }
    }

    #[test]
    fn floats_and_escaped_keys_are_left_to_the_reference() {
        let b = record(
            r#"{"actor":{"kind":"user","id":"u"},"action":"a","object":"o","outcome":"allowed","details":{"f":1.5}}"#,
            3,
            0,
        );
        assert!(!certify(&b, 3));
        assert!(Record::from_canonical(&b).is_some());
    }

    fn reference_ok(b: &[u8], seq: Seq) -> bool {
        Record::from_canonical(b).is_some_and(|r| r.seq == seq)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        // Whatever the fast check accepts, the reference accepts.
        #[test]
        fn never_accepts_what_the_reference_rejects(
            which in 0..SAMPLES.len(),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..4), 1..4),
            t in 0i64..4_102_444_800_000_000,
        ) {
            let mut b = record(SAMPLES[which], 77, t);
            for (pos, byte, kind) in edits {
                let pos = pos % (b.len() + 1);
                // Bias towards JSON's own characters, which make plausible edits.
                const JSON_CHARS: &[u8] = b"{}[]\",:\\0123456789-. etnufEu";
                let byte = match byte % 4 {
                    0 => JSON_CHARS[(byte / 4) as usize % JSON_CHARS.len()],
                    _ => byte,
                };
                match kind {
                    0 if pos < b.len() => b[pos] = byte,
                    1 => b.insert(pos, byte),
                    2 if pos < b.len() => { b.remove(pos); }
                    _ if pos < b.len() => b[pos] ^= 1 << (byte % 8),
                    _ => {}
                }
            }
            if certify(&b, 77) {
                prop_assert!(reference_ok(&b, 77), "accepted: {}", String::from_utf8_lossy(&b));
            }
        }
    }
}
