//! Text scanning: one pass over the bytes. ASCII letter/digit runs are classified and
//! validated; CJK characters are checked against a bitmap of the first characters of the
//! cue words that introduce names and addresses. Validation runs only on candidates and
//! nothing is allocated except the findings themselves.
//!
//! Boundaries are "not preceded/followed by an ASCII letter or digit", not regex `\b`:
//! `身份证号11010519491231002X，` is found, while the digits inside
//! `订单号2023112212345678901` are never cut out of the longer run.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use serde::{Deserialize, Serialize};

use crate::charset::CharSet;
use crate::lexicon;
use crate::names::{self, NameModel, F_CUE, F_SURNAME};
use crate::types::DataType;
use crate::validate as v;

/// One sensitive value found in a text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What was found.
    pub data_type: DataType,
    /// UTF-8 byte offset of the first byte (always a char boundary).
    pub start: usize,
    /// UTF-8 byte offset one past the last byte (always a char boundary).
    pub end: usize,
    /// How sure the detector is, 0..=1. At or above [`REPORT_CONFIDENCE`] a finding is a
    /// positive; below it is a weak hint (e.g. a card-shaped number failing Luhn).
    pub confidence: f32,
    /// Why: which validator passed, which cue word was nearby.
    pub reason: String,
}

/// Confidence at or above which a finding counts as a positive detection (used by the
/// evaluation corpus; weaker findings are still returned so that `redact` can mask them).
pub const REPORT_CONFIDENCE: f32 = 0.5;

/// Scans free text for sensitive values. Build once and share: it is `Send + Sync`.
#[derive(Clone, Debug)]
pub struct TextScanner {
    cues: CueIndex,
    names: NameModel,
    min_confidence: f32,
    person_names: bool,
    /// Worker threads for a long text; 0: as many as the machine has.
    threads: usize,
    /// Texts shorter than this are scanned on the calling thread.
    parallel_min: usize,
}

/// A long text is cut into this many pieces per thread, handed out as workers finish.
const PIECES_PER_THREAD: usize = 4;

/// Below this many bytes a text is scanned on one thread: starting threads costs tens of
/// microseconds, about what scanning 16 KB takes.
const PARALLEL_MIN: usize = 256 << 10;

/// Cue words by their first character. Every cue starts with a CJK unified ideograph
/// (U+4E00..U+9FFF, three UTF-8 bytes), so a bitmap over that block tells in one lookup
/// whether a character can start a cue; only then are the few candidate words compared.
#[derive(Clone, Debug)]
struct CueIndex {
    /// The first two characters of every cue word.
    pairs: HashSet<u64, BuildHasherDefault<names::MulHasher>>,
    /// (first char, word, kind), sorted by first char, longer words first.
    words: Vec<(char, &'static str, CueKind)>,
}

const CJK_START: u32 = 0x4E00;
const CJK_END: u32 = 0x9FFF;

fn pair_key(a: char, b: char) -> u64 {
    (u64::from(u32::from(a)) << 32) | u64::from(u32::from(b))
}

impl CueIndex {
    fn new() -> Self {
        let mut words = Vec::new();
        let lists: [(&[&'static str], CueKind); 3] = [
            (lexicon::ADDRESS_CUES, CueKind::Address),
            (lexicon::PROVINCE_NAMES, CueKind::Province),
            (lexicon::ADDRESS_WEAK_CUES, CueKind::WeakAddress),
        ];
        for (list, kind) in lists {
            for &w in list {
                let c = w.chars().next().expect("cue words are not empty");
                assert!(
                    (CJK_START..=CJK_END).contains(&(c as u32)),
                    "cue word {w} must start with a CJK ideograph"
                );
                words.push((c, w, kind));
            }
        }
        words.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.len().cmp(&a.1.len())));
        let pairs = words
            .iter()
            .map(|w| {
                let mut cs = w.1.chars();
                let (a, b) = (cs.next(), cs.next());
                pair_key(
                    a.expect("cue words are not empty"),
                    b.expect("cue words have two characters or more"),
                )
            })
            .collect();
        CueIndex { words, pairs }
    }

    /// The longest cue word at the start of `rest`, whose first char is `c`. Every cue
    /// word has two characters or more, and the second rules most places out: cue words
    /// start with common characters (地, 上, 安, 新, 发 …), and comparing whole words at
    /// each of them showed in profiles.
    fn longest_at(&self, c: char, rest: &str) -> Option<(&'static str, CueKind)> {
        let second = rest[c.len_utf8()..].chars().next()?;
        if !self.pairs.contains(&pair_key(c, second)) {
            return None;
        }
        let from = self.words.partition_point(|w| w.0 < c);
        self.words[from..]
            .iter()
            .take_while(|w| w.0 == c)
            .find(|w| rest.starts_with(w.1))
            .map(|w| (w.1, w.2))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CueKind {
    Address,
    Province,
    /// 位于, 寄至: often before an address, often before other things (位于城区的…), so
    /// what follows must look like an address without the cue's help.
    WeakAddress,
}

impl Default for TextScanner {
    fn default() -> Self {
        Self::new()
    }
}

/// Bytes that can start an identifier run: ASCII letters and digits.
static ALNUM: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric();
        c += 1;
    }
    t
};

#[inline]
fn is_alnum(c: u8) -> bool {
    ALNUM[c as usize]
}

/// A list of cue words with the first characters they start with, so that a window is
/// searched in one pass over its characters (the list's words compared only where one of
/// them starts) instead of once per word (that search was a tenth of the scan's time).
struct Keywords {
    words: &'static [&'static str],
    /// First characters of the words starting with an ideograph.
    cjk: CharSet,
    /// First bytes of the words starting with an ASCII character (bit `c` for byte `c`).
    ascii: u128,
}

impl Keywords {
    const fn new(words: &'static [&'static str]) -> Keywords {
        let (cjk, ascii) = CharSet::of_first_chars_and_ascii(words);
        Keywords { words, cjk, ascii }
    }

    /// The index in the list of the first word (in list order) found in `b[from..to]`, or
    /// with `any`, of any word found there (the first one met).
    fn find(&self, b: &[u8], from: usize, to: usize, any: bool) -> Option<usize> {
        let mut best: Option<usize> = None;
        let mut p = from;
        while p < to {
            let c = b[p];
            let starts = if c < 0x80 {
                self.ascii & (1 << c) != 0
            } else {
                self.cjk.starts(&b[p..to])
            };
            if starts {
                for (k, w) in self.words.iter().enumerate() {
                    if best.is_some_and(|m| m <= k) {
                        break;
                    }
                    if b[p..to].starts_with(w.as_bytes()) {
                        if any || k == 0 {
                            return Some(k);
                        }
                        best = Some(k);
                        break;
                    }
                }
            }
            // Next character (from a continuation byte, the next byte: the window may start
            // inside a character).
            p += match c {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xFF => 4,
                _ => 1,
            };
        }
        best
    }
}

/// True if one of `kws` occurs in the `window` bytes before `pos`.
fn near_before(b: &[u8], pos: usize, window: usize, kws: &Keywords) -> bool {
    kws.find(b, pos.saturating_sub(window), pos, true).is_some()
}

/// The keyword (of `kws`, the first in the list's order) occurring in the `window` bytes
/// before `pos`, if any.
fn keyword_before(b: &[u8], pos: usize, window: usize, kws: &Keywords) -> Option<&'static str> {
    kws.find(b, pos.saturating_sub(window), pos, false)
        .map(|k| kws.words[k])
}

static BIRTH_KW: Keywords = Keywords::new(lexicon::BIRTH_CUES);
static ID_KW: Keywords = Keywords::new(&["身份证", "证件号", "公民身份", "身份号码", "社保", "ID"]);
static MOBILE_KW: Keywords = Keywords::new(&[
    "手机", "电话", "联系", "Tel", "tel", "TEL", "Mobile", "mobile", "致电",
]);
static CARD_KW: Keywords = Keywords::new(&[
    "银行卡",
    "卡号",
    "账号",
    "帐号",
    "账户",
    "帐户",
    "储蓄卡",
    "信用卡",
    "借记卡",
    "card",
    "Card",
]);
static IMEI_KW: Keywords = Keywords::new(&["IMEI", "imei", "设备号", "设备识别", "串号"]);
static VIN_KW: Keywords = Keywords::new(&["VIN", "vin", "车架号", "车辆识别", "识别代号"]);
static ORG_KW: Keywords = Keywords::new(&["组织机构代码", "机构代码", "组织代码"]);
static USCC_KW: Keywords = Keywords::new(&[
    "信用代码",
    "统一社会",
    "USCC",
    "企业代码",
    "社会代码",
    "营业执照",
]);
static PASSPORT_KW: Keywords = Keywords::new(&["护照", "passport", "Passport", "PASSPORT"]);
static PERMIT_KW: Keywords = Keywords::new(&["通行证", "回乡证", "港澳"]);
static GPS_KW: Keywords = Keywords::new(&[
    "经纬度",
    "经度",
    "纬度",
    "坐标",
    "定位",
    "位置",
    "lat",
    "lng",
    "lon",
    "GPS",
    "gps",
]);
static IP_KW: Keywords = Keywords::new(&["IP", "ip", "地址", "登录", "访问"]);

/// Sink for findings with the scanner's confidence floor.
struct Out<'a> {
    v: &'a mut Vec<Finding>,
    min: f32,
}

impl Out<'_> {
    fn push(
        &mut self,
        t: DataType,
        start: usize,
        end: usize,
        conf: f32,
        reason: impl Into<String>,
    ) {
        if conf >= self.min {
            self.v.push(Finding {
                data_type: t,
                start,
                end,
                confidence: conf,
                reason: reason.into(),
            });
        }
    }
}

/// Up to 8 digit groups separated by one kind of separator (`138 0013 8000`).
struct Groups {
    spans: [(usize, usize); 8],
    n: usize,
}

impl TextScanner {
    /// Builds the scanner (compiles the cue-word automaton once).
    pub fn new() -> Self {
        let cues = CueIndex::new();
        let names = NameModel::new(cues.words.iter().map(|w| w.0));
        TextScanner {
            cues,
            names,
            min_confidence: 0.0,
            person_names: true,
            threads: 0,
            parallel_min: PARALLEL_MIN,
        }
    }

    /// Whether person names are looked for in running text (default true). Without them
    /// a scan costs less; names in the name column of a table are still found.
    pub fn with_person_names(mut self, on: bool) -> Self {
        self.person_names = on;
        self
    }

    /// Scans a long text on up to `n` threads (0, the default: as many as the machine
    /// has; 1: the calling thread only). The findings are the same whatever `n`.
    pub fn with_threads(mut self, n: usize) -> Self {
        self.threads = n;
        self
    }

    /// Texts of at least `bytes` are split between threads (default 256 KiB). Lowering it
    /// is for tests that compare the parallel and the single-threaded scan.
    pub fn with_parallel_min_bytes(mut self, bytes: usize) -> Self {
        self.parallel_min = bytes;
        self
    }

    fn thread_count(&self) -> usize {
        // available_parallelism reads the cgroup limits on every call (microseconds): asked
        // once per process, and only for long texts.
        static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        match self.threads {
            0 => *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from)),
            n => n,
        }
    }

    /// Drops findings below `min` confidence (default 0: everything is returned).
    pub fn with_min_confidence(mut self, min: f32) -> Self {
        self.min_confidence = min;
        self
    }

    /// All findings in `text`, ordered by start offset, non-overlapping.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        let mut found = Vec::new();
        self.scan_into(text, &mut found);
        found
    }

    /// [`scan_into`](Self::scan_into) for bytes read from a file or a socket: checks that
    /// they are UTF-8 first, with SIMD instructions (the `simdutf8` crate: several GB/s,
    /// where `std::str::from_utf8` checked Chinese text at under 1 GB/s and was a seventh
    /// of a whole scan), and returns std's error, with its `valid_up_to`, when they are
    /// not (`out` is then left empty).
    pub fn scan_utf8_into(
        &self,
        bytes: &[u8],
        out: &mut Vec<Finding>,
    ) -> Result<(), std::str::Utf8Error> {
        match simdutf8::basic::from_utf8(bytes) {
            Ok(text) => {
                self.scan_into(text, out);
                Ok(())
            }
            Err(_) => {
                out.clear();
                // Only on the error path: the position std reports.
                Err(std::str::from_utf8(bytes)
                    .expect_err("simdutf8 and std agree on what is UTF-8"))
            }
        }
    }

    /// Like [`scan`](Self::scan) but appends to `out` (cleared first), so a caller scanning
    /// many values can reuse one vector.
    pub fn scan_into(&self, text: &str, out: &mut Vec<Finding>) {
        out.clear();
        let mut sink = Out {
            v: out,
            min: self.min_confidence,
        };
        let (names, on) = (&self.names, self.person_names);
        let threads = self.thread_count();
        let pieces = if text.len() >= self.parallel_min.max(1) && threads > 1 {
            split_points(text.as_bytes(), threads * PIECES_PER_THREAD)
        } else {
            Vec::new()
        };
        if pieces.len() <= 2 {
            scan_text(text, 0, text.len(), &self.cues, names, on, &mut sink);
        } else {
            // Each piece starts at a line break that no finding can cross, where the
            // single-threaded scan passes with no state carried over; each worker reads
            // the whole text for context before and after its piece. So the pieces'
            // findings, put end to end, are the single-threaded findings. The workers
            // (the calling thread one of them) take the next piece as they finish one, so
            // a core that another process is using slows its share, not the whole scan.
            let min = self.min_confidence;
            let ranges: Vec<(usize, usize)> = pieces.windows(2).map(|w| (w[0], w[1])).collect();
            let next = std::sync::atomic::AtomicUsize::new(0);
            let work = || {
                let mut done: Vec<(usize, Vec<Finding>)> = Vec::new();
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&(from, to)) = ranges.get(k) else {
                        break done;
                    };
                    let mut v = Vec::new();
                    let mut part = Out { v: &mut v, min };
                    scan_text(text, from, to, &self.cues, names, on, &mut part);
                    done.push((k, v));
                }
            };
            let mut parts: Vec<(usize, Vec<Finding>)> = std::thread::scope(|scope| {
                let workers: Vec<_> = (1..threads.min(ranges.len()))
                    .map(|_| scope.spawn(work))
                    .collect();
                let mut all = work();
                for w in workers {
                    all.extend(w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
                }
                all
            });
            parts.sort_unstable_by_key(|p| p.0);
            for (_, p) in parts {
                sink.v.extend(p);
            }
        }
        let mut table = Vec::new();
        names::table_names(text, &self.names, &mut table);
        for h in table {
            sink.push(h.data_type, h.start, h.end, h.confidence, h.reason);
        }
        let ordered = out.windows(2).all(|w| w[0].end <= w[1].start);
        if !ordered {
            resolve_overlaps(out);
        }
    }
}

/// A cue word at `i` (already known to start with a cue character `c`): a name or address
/// after it, or an address starting with a province name. Returns where scanning resumes.
fn cue_at(text: &str, i: usize, c: char, cues: &CueIndex, out: &mut Out<'_>) -> Option<usize> {
    let (word, kind) = cues.longest_at(c, &text[i..])?;
    let cue_end = i + word.len();
    match kind {
        CueKind::Address => {
            let (s, e) = address_after(text, cue_end, true)?;
            out.push(
                DataType::Address,
                s,
                e,
                0.8,
                format!("address markers after cue word '{word}'"),
            );
            Some(e)
        }
        CueKind::WeakAddress => {
            let (s, e) = address_after(text, cue_end, false)?;
            out.push(
                DataType::Address,
                s,
                e,
                0.75,
                format!("administrative level and street markers after '{word}'"),
            );
            Some(e)
        }
        CueKind::Province => {
            let (_, e) = address_after(text, cue_end, false)?;
            out.push(
                DataType::Address,
                i,
                e,
                0.7,
                "province name followed by district and street markers",
            );
            Some(e)
        }
    }
}

/// Where a long text is cut for parallel scanning: 0, then up to `pieces - 1` line breaks
/// near equal shares of the text, then the text's length. A cut is a `\n` with no ASCII
/// letter or digit on either side (an ID wrapped onto the next line is one finding across
/// a line break; nothing else crosses one), and the scan starts afresh there.
fn split_points(b: &[u8], pieces: usize) -> Vec<usize> {
    let mut cuts = vec![0];
    let share = b.len() / pieces;
    for k in 1..pieces {
        let want = (k * share).max(cuts[cuts.len() - 1] + 1);
        if want >= b.len() {
            break;
        }
        let safe = |p: usize| {
            b[p] == b'\n'
                && p > 0
                && !b[p - 1].is_ascii_alphanumeric()
                && !b.get(p + 1).is_some_and(u8::is_ascii_alphanumeric)
        };
        // The first safe line break at or after the share's end; none: no more cuts.
        let mut p = want;
        let cut = loop {
            match memchr::memchr(b'\n', &b[p..]) {
                Some(q) if safe(p + q) => break Some(p + q),
                Some(q) => p += q + 1,
                None => break None,
            }
        };
        match cut {
            Some(c) => cuts.push(c),
            None => break,
        }
    }
    cuts.push(b.len());
    cuts.dedup();
    cuts
}

/// Sorts by start and drops overlaps, keeping the more confident (then longer) finding.
fn resolve_overlaps(v: &mut Vec<Finding>) {
    v.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut kept: Vec<Finding> = Vec::with_capacity(v.len());
    for f in v.drain(..) {
        if let Some(last) = kept.last_mut() {
            if f.start < last.end {
                let better = f.confidence > last.confidence
                    || (f.confidence == last.confidence && f.end - f.start > last.end - last.start);
                if better {
                    *last = f;
                }
                continue;
            }
        }
        kept.push(f);
    }
    *v = kept;
}

/// Skips a `：`/`:`/`为`/`是`/space after a cue word.
fn skip_cue_separator(text: &str, mut at: usize) -> usize {
    for _ in 0..3 {
        let rest = &text[at..];
        let skip = ["：", ":", " ", "为", "是", "\u{3000}"]
            .iter()
            .find(|p| rest.starts_with(**p))
            .map(|p| p.len());
        match skip {
            Some(n) => at += n,
            None => break,
        }
    }
    at
}

fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// An address starting at `from` (after a cue, or after a province name): a chain of
/// named and numbered components (`address::address_end`), at most 60 characters, that
/// must contain an administrative level (`市/区/县`…) — unless cued — and a street or
/// building marker. It ends after its last component, not at the end of the clause.
pub(crate) fn address_after(text: &str, from: usize, cued: bool) -> Option<(usize, usize)> {
    let start = if cued {
        skip_cue_separator(text, from)
    } else {
        from
    };
    let end = crate::address::address_end(text, start)?;
    let span = &text[start..end];
    let (level, detail) = crate::address::markers(span);
    let ok = if cued {
        (level || detail) && span.chars().count() >= 2 && span.chars().next().is_some_and(is_han)
    } else {
        level && detail
    };
    ok.then_some((start, end))
}

fn all_digits(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_digit)
}

fn all_hex(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_hexdigit)
}

/// Byte classes of the single pass: 0 skip one byte, 1 ASCII letter/digit, 2 lead byte of
/// a three-byte character in U+4000..U+9FFF (ideographs: cue words and surnames), 3 lead
/// byte of the full-width forms (digits typed with an input method), 4/5/6 other lead
/// bytes of two-, three- and four-byte characters, skipped whole (`，` `。` `“` were three
/// trips through the loop each).
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_alphanumeric() {
            1
        } else if b >= 0xE4 && b <= 0xE9 {
            2
        } else if b == 0xEF {
            3
        } else if b >= 0xC2 && b <= 0xDF {
            4
        } else if b >= 0xE0 && b <= 0xEF {
            5
        } else if b >= 0xF0 && b <= 0xF4 {
            6
        } else {
            0
        };
        c += 1;
    }
    t
};

/// Full-width digit U+FF10..U+FF19 (EF BC 90..99) at `i`?
fn fullwidth_digit_at(b: &[u8], i: usize) -> bool {
    i + 2 < b.len() && b[i] == 0xEF && b[i + 1] == 0xBC && (0x90..=0x99).contains(&b[i + 2])
}

/// Identifiers typed with a Chinese input method in full-width digits
/// (`电话１３８００１３８０００`): IDs (with a final Ｘ), mobiles and cards. Returns where
/// scanning resumes.
fn fullwidth_digits(b: &[u8], i: usize, out: &mut Out<'_>) -> usize {
    if !fullwidth_digit_at(b, i) {
        // Any other character with lead byte EF is three bytes long.
        return (i + 3).min(b.len());
    }
    let mut ascii = [0u8; 24];
    let mut n = 0;
    let mut k = i;
    while fullwidth_digit_at(b, k) {
        if n < ascii.len() {
            ascii[n] = b'0' + (b[k + 2] - 0x90);
        }
        n += 1;
        k += 3;
    }
    // Full-width Ｘ/ｘ (EF BC B8 / EF BD 98) as an ID check character.
    if n == 17
        && k + 2 < b.len()
        && b[k] == 0xEF
        && ((b[k + 1] == 0xBC && b[k + 2] == 0xB8) || (b[k + 1] == 0xBD && b[k + 2] == 0x98))
    {
        ascii[17] = b'X';
        n = 18;
        k += 3;
    }
    // Boundaries: no ASCII or full-width letter/digit on either side.
    let fw_alnum = |p: usize| {
        p + 2 < b.len()
            && b[p] == 0xEF
            && matches!(
                (b[p + 1], b[p + 2]),
                (0xBC, 0x90..=0x99) | (0xBC, 0xA1..=0xBA) | (0xBD, 0x81..=0x9A)
            )
    };
    let alnum_before = i > 0 && (is_alnum(b[i - 1]) || (i >= 3 && fw_alnum(i - 3)));
    let before_ok = !alnum_before;
    let after_ok = k >= b.len() || (!is_alnum(b[k]) && !fw_alnum(k));
    if n > ascii.len() || !before_ok || !after_ok {
        return k;
    }
    let d = &ascii[..n];
    let reason = " (full-width digits)";
    if n == 18 && v::id18_bytes(d) {
        out.push(
            DataType::CnResidentId,
            i,
            k,
            0.95,
            format!("GB 11643 check digit, region code and birth date valid{reason}"),
        );
    } else if n == 11 && v::mobile_digits(d) {
        out.push(
            DataType::CnMobile,
            i,
            k,
            0.9,
            format!("mainland mobile number plan{reason}"),
        );
    } else if (16..=19).contains(&n)
        && v::card_digits_shape(d)
        && v::luhn_bytes(d)
        && near_before(b, i, 30, &CARD_KW)
    {
        out.push(
            DataType::BankCard,
            i,
            k,
            0.9,
            format!("card number shape, Luhn check passes{reason}"),
        );
    }
    k
}

/// The single pass over bytes: skip uninteresting bytes, classify each ASCII alphanumeric
/// run (and what directly follows it) and validate it, check CJK characters against the
/// cue-word bitmap; jump past whatever was found.
fn scan_text(
    text: &str,
    from: usize,
    to: usize,
    cues: &CueIndex,
    names: &NameModel,
    person_names: bool,
    out: &mut Out<'_>,
) {
    let b = text.as_bytes();
    let n = b.len();
    let mut i = from;
    // Local-part characters up to here were already checked and lead to no '@'.
    let mut no_at_until = 0;
    while i < to {
        match CLASS[b[i] as usize] {
            0 => i += 1,
            1 => {
                let mut j = i + 1;
                while j < n && is_alnum(b[j]) {
                    j += 1;
                }
                i = handle_run(text, i, j, &mut no_at_until, out).max(j);
            }
            3 => i = fullwidth_digits(b, i, out),
            // `text` is valid UTF-8 and `i` on a character boundary: a lead byte starts a
            // character of that many bytes.
            4 => i += 2,
            5 => i += 3,
            6 => i += 4,
            _ => {
                // A run of ideographs is read here without going back to the byte classes
                // (an indirect jump per character before): one bitmap lookup per ideograph
                // — does it start a cue word or a surname? — and, where one does, the cue
                // or the name, until something is found or the run ends. `text` is valid
                // UTF-8, so a lead byte E4..E9 has two continuation bytes.
                let bits = names.bitmap(person_names);
                loop {
                    let cp = (u32::from(b[i] & 0x0F) << 12)
                        | (u32::from(b[i + 1] & 0x3F) << 6)
                        | u32::from(b[i + 2] & 0x3F);
                    let k = (cp as usize).wrapping_sub(0x4E00);
                    if bits.get(k / 64).is_some_and(|w| w & (1 << (k % 64)) != 0) {
                        let f = names.flags_at(k);
                        if f & F_CUE != 0 {
                            let c = char::from_u32(cp).expect("decoded from valid UTF-8");
                            if let Some(end) = cue_at(text, i, c, cues, out) {
                                i = end.max(i + 3);
                                break;
                            }
                        }
                        if person_names && f & F_SURNAME != 0 && names.worth_a_look(b, i, f, k) {
                            if let Some(h) = names.evaluate(text, i) {
                                out.push(
                                    DataType::PersonName,
                                    h.start,
                                    h.end,
                                    h.confidence,
                                    h.reason,
                                );
                                i = h.end;
                                break;
                            }
                        }
                    }
                    i += 3;
                    if i >= to || !(0xE4..=0xE9).contains(&b[i]) {
                        break;
                    }
                }
            }
        }
    }
}

/// Handles the alphanumeric run `b[i..j]` (preceded by a non-alphanumeric); returns where
/// scanning resumes.
fn handle_run(text: &str, i: usize, j: usize, no_at_until: &mut usize, out: &mut Out<'_>) -> usize {
    let b = text.as_bytes();
    let org_code_shape = j - i == 8 && b.get(j) == Some(&b'-');
    // `终端MACde:cd:aa:97:25:5a`: the cue word is glued to a first hex pair that has
    // letters, so the run is all letters and the digit rule below cannot split it.
    if j - i == 5
        && b[i..i + 3].eq_ignore_ascii_case(b"MAC")
        && all_hex(&b[i + 3..j])
        && matches!(b.get(j), Some(b':' | b'-'))
    {
        return handle_run(text, i + 3, j, no_at_until, out);
    }
    if let Some(k) = glued_keyword_len(&b[i..j]).filter(|_| !org_code_shape) {
        // `IMEI862402628160405`, `IP10.1.2.3`: the ASCII cue word is glued to the value.
        return handle_run(text, i + k, j, no_at_until, out);
    }
    let run = &b[i..j];
    let next = b.get(j).copied().unwrap_or(0);
    let prev = if i > 0 { b[i - 1] } else { 0 };

    // Email: the local part may continue with . _ % + - before the '@'.
    if matches!(next, b'@' | b'.' | b'_' | b'%' | b'+' | b'-') && i >= *no_at_until {
        let mut k = j;
        while k < b.len() && (is_alnum(b[k]) || matches!(b[k], b'.' | b'_' | b'%' | b'+' | b'-')) {
            k += 1;
        }
        if k < b.len()
            && b[k] == b'@'
            && b[k - 1] != b'.'
            && k - i <= 64
            && !b[i..k].windows(2).any(|w| w == b"..")
        {
            let dl = v::email_domain_len(&b[k + 1..]);
            if dl > 0 {
                let end = k + 1 + dl;
                out.push(
                    DataType::Email,
                    i,
                    end,
                    0.95,
                    "local@domain with a valid top-level domain",
                );
                return end;
            }
        }
        *no_at_until = k;
    }

    let digits = all_digits(run);

    // A negative coordinate: the '-' belongs to the value.
    if digits
        && run.len() <= 3
        && prev == b'-'
        && i >= 1
        && (i < 2 || !is_alnum(b[i - 2]))
        && next == b'.'
    {
        if let Some((s, e, conf)) = gps_pair(b, i - 1) {
            out.push(
                DataType::Gps,
                s,
                e,
                conf,
                "latitude/longitude pair with >= 4 decimals in range",
            );
            return e;
        }
    }

    // Dotted: IPv4, GPS pairs, dates like 1990.05.17.
    if next == b'.' && digits && !(prev == b'.' && i >= 2 && b[i - 2].is_ascii_digit()) {
        if let Some(len) = v::ipv4_len(&b[i..]) {
            let end = i + len;
            let after = b.get(end).copied().unwrap_or(0);
            let dotted_on = after == b'.' && b.get(end + 1).is_some_and(u8::is_ascii_digit);
            if !is_alnum(after) && !dotted_on {
                // `版本2.10.3.145`, `2.10.3.145版`: a version number, not an address.
                if near_before(b, i, 18, &VERSION_KW) || version_word_after(&b[end..]) {
                    return end;
                }
                let conf = if near_before(b, i, 24, &IP_KW) {
                    0.95
                } else {
                    0.85
                };
                out.push(
                    DataType::Ipv4,
                    i,
                    end,
                    conf,
                    "dotted quad, each octet 0-255",
                );
                return end;
            }
        }
        if let Some((s, e, conf)) = gps_pair(b, i) {
            out.push(
                DataType::Gps,
                s,
                e,
                conf,
                "latitude/longitude pair with >= 4 decimals in range",
            );
            return e;
        }
    }
    // MAC and IPv6 (hex groups with ':' or '-').
    if (next == b':' || next == b'-') && all_hex(run) {
        if run.len() == 2 {
            if let Some(len) = v::mac_len(&b[i..]) {
                let end = i + len;
                let after = b.get(end).copied().unwrap_or(0);
                let continues = matches!(after, b':' | b'-')
                    && b.get(end + 1).is_some_and(u8::is_ascii_hexdigit);
                if !is_alnum(after) && !continues {
                    out.push(
                        DataType::MacAddress,
                        i,
                        end,
                        0.9,
                        "six hex pairs with one separator",
                    );
                    return end;
                }
            }
        }
        if next == b':' && run.len() <= 4 && prev != b':' {
            if let Some(end) = ipv6_at(b, i) {
                out.push(DataType::Ipv6, i, end, 0.9, "parses as an IPv6 address");
                return end;
            }
        }
    }

    // Dates (birth dates only with a cue word before them).
    if run.len() == 4 && digits && (run.starts_with(b"19") || run.starts_with(b"20")) {
        if let Some((len, ok)) = v::date_len(&b[i..]) {
            if len > 4 {
                if ok && (near_before(b, i, 30, &BIRTH_KW) || birth_cue_after(b, i + len)) {
                    out.push(
                        DataType::BirthDate,
                        i,
                        i + len,
                        0.85,
                        "real date after a birth cue word",
                    );
                }
                return i + len;
            }
        }
    }

    if run.len() == 8 && next == b'-' {
        if let Some(end) = org_code_hyphen(b, i, j, out) {
            return end;
        }
    }

    // `010-6552 3456`: an area code and a subscriber number written in two groups.
    if digits && (3..=4).contains(&run.len()) && v::area_code_len(run) == Some(run.len()) {
        if let Some(end) = split_subscriber_landline(b, i, j, out) {
            return end;
        }
    }
    // Digit groups with separators: mobile 138 0013 8000, card 6222 0212 …, landline 010-…
    if digits && (next == b' ' || next == b'-') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        if let Some(end) = grouped_number(b, i, j, out) {
            return end;
        }
    }
    if digits && (prev == b'(' || prev_is(b, i, "（")) {
        if let Some(end) = paren_landline(b, i, j, out) {
            return end;
        }
    }

    // `13800138000.00元`: the integer part of an amount is no identifier, nor is the
    // fraction of one.
    let decimal = (next == b'.' && b.get(j + 1).is_some_and(u8::is_ascii_digit))
        || (prev == b'.' && i >= 2 && b[i - 2].is_ascii_digit());
    if digits && decimal {
        return j;
    }
    // An ID wrapped onto the next line (`身份证号110105194912\n31002X`).
    if run.len() < 18 && matches!(next, b'\n' | b'\r') && run.iter().all(u8::is_ascii_digit) {
        if let Some(end) = id_across_line_break(b, i, j, out) {
            return end;
        }
    }
    if digits {
        single_digit_run(b, i, j, out);
        return j;
    }
    if run.len() == 18
        && run[..17].iter().all(u8::is_ascii_digit)
        && (run[17] == b'X' || run[17] == b'x')
    {
        if v::id18_bytes(run) {
            let conf = if near_before(b, i, 30, &ID_KW) {
                0.99
            } else {
                0.97
            };
            out.push(
                DataType::CnResidentId,
                i,
                j,
                conf,
                "GB 11643 check digit, region code and birth date valid",
            );
        } else if v::uscc_bytes(run) {
            push_numeric_uscc(b, i, j, out);
        }
        return j;
    }
    mixed_run(text, i, j, out)
}

static VERSION_KW: Keywords = Keywords::new(&[
    "版本", "version", "Version", "VERSION", "ver", "Ver", "固件", "build", "Build", "升级",
]);

fn version_word_after(rest: &[u8]) -> bool {
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    rest.starts_with("版".as_bytes()) || rest.starts_with(b"version")
}

/// `010-6552 3456`, `0755 8234 5678`: area code, then the subscriber number in two groups
/// (3–4 digits and 4 digits) separated by a space or `-`.
fn split_subscriber_landline(b: &[u8], i: usize, j: usize, out: &mut Out<'_>) -> Option<usize> {
    let sep1 = *b.get(j)?;
    if sep1 != b'-' && sep1 != b' ' {
        return None;
    }
    let digits_from = |s: usize| {
        let mut e = s;
        while e < b.len() && b[e].is_ascii_digit() {
            e += 1;
        }
        e
    };
    let s2 = j + 1;
    let e2 = digits_from(s2);
    let sep2 = *b.get(e2)?;
    if !(3..=4).contains(&(e2 - s2)) || (sep2 != b' ' && sep2 != b'-') {
        return None;
    }
    let s3 = e2 + 1;
    let e3 = digits_from(s3);
    if e3 - s3 != 4 || b.get(e3).is_some_and(|c| is_alnum(*c)) {
        return None;
    }
    // `010-6552-3456-801` would be an extension layout: left to the grouped rule.
    if b.get(e3) == Some(&b'-') && b.get(e3 + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut sub = [0u8; 8];
    let l2 = e2 - s2;
    sub[..l2].copy_from_slice(&b[s2..e2]);
    sub[l2..l2 + 4].copy_from_slice(&b[s3..e3]);
    if !v::subscriber_ok(j - i, &sub[..l2 + 4]) {
        return None;
    }
    let conf = if unseparated_landline_confidence(b, i) > 0.5 {
        0.92
    } else {
        0.85
    };
    out.push(
        DataType::CnLandline,
        i,
        e3,
        conf,
        "valid area code and subscriber number (subscriber written in two groups)",
    );
    Some(e3)
}

/// An 18-character ID cut by one line break (`…194912` / `31002X`), as a wrapped form or
/// a pasted table cell leaves it. Found only when the joined digits pass the full GB 11643
/// check (region, birth date, check digit).
fn id_across_line_break(b: &[u8], i: usize, j: usize, out: &mut Out<'_>) -> Option<usize> {
    let k = if b[j..].starts_with(b"\r\n") {
        j + 2
    } else {
        j + 1
    };
    let mut e = k;
    while e < b.len() && is_alnum(b[e]) {
        e += 1;
    }
    let first = j - i;
    if e == k || first + (e - k) != 18 {
        return None;
    }
    let mut id = [0u8; 18];
    id[..first].copy_from_slice(&b[i..j]);
    id[first..].copy_from_slice(&b[k..e]);
    if !id[..17].iter().all(u8::is_ascii_digit) || !v::id18_bytes(&id) {
        return None;
    }
    let conf = if near_before(b, i, 30, &ID_KW) {
        0.95
    } else {
        0.7
    };
    out.push(
        DataType::CnResidentId,
        i,
        e,
        conf,
        "GB 11643 check digit, region code and birth date valid (cut by a line break)",
    );
    Some(e)
}

/// ASCII cue words that are often written directly against the value they label.
const GLUED_KEYWORDS: &[&[u8]] = &[b"IMEI", b"IP", b"VIN", b"ID", b"TEL", b"MAC", b"NO"];

/// Length of a glued cue word at the start of `run` if digits follow it directly.
fn glued_keyword_len(run: &[u8]) -> Option<usize> {
    let letters = run.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if letters == 0 || letters == run.len() || !run[letters].is_ascii_digit() {
        return None;
    }
    let rest = &run[letters..];
    let tail_ok = rest[..rest.len() - 1].iter().all(u8::is_ascii_digit)
        && (rest[rest.len() - 1].is_ascii_digit() || rest[rest.len() - 1] == b'X');
    if !tail_ok {
        return None;
    }
    let word = &run[..letters];
    GLUED_KEYWORDS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(word))
        .then_some(letters)
}

fn prev_is(b: &[u8], i: usize, s: &str) -> bool {
    i >= s.len() && &b[i - s.len()..i] == s.as_bytes()
}

fn ipv6_at(b: &[u8], i: usize) -> Option<usize> {
    let mut k = i;
    while k < b.len() && k - i < 45 && (b[k].is_ascii_hexdigit() || b[k] == b':' || b[k] == b'.') {
        k += 1;
    }
    if k < b.len() && is_alnum(b[k]) {
        return None;
    }
    let mut end = k;
    while end > i && b[end - 1] == b'.' {
        end -= 1;
    }
    for cand_end in [end, end.saturating_sub(1)] {
        if cand_end <= i {
            break;
        }
        let s = std::str::from_utf8(&b[i..cand_end]).ok()?;
        if s.bytes().filter(|&c| c == b':').count() >= 2 && s.parse::<std::net::Ipv6Addr>().is_ok()
        {
            return Some(cand_end);
        }
        if !s.ends_with(':') {
            break;
        }
    }
    None
}

/// Decimal with at least 4 fractional digits at `i` (optional leading '-'); returns
/// (value, end).
fn decimal_at(b: &[u8], i: usize) -> Option<(f64, usize)> {
    let mut k = i;
    if b.get(k) == Some(&b'-') {
        k += 1;
    }
    let int_start = k;
    while k < b.len() && b[k].is_ascii_digit() && k - int_start < 4 {
        k += 1;
    }
    if k == int_start || b.get(k) != Some(&b'.') {
        return None;
    }
    k += 1;
    let frac_start = k;
    while k < b.len() && b[k].is_ascii_digit() && k - frac_start < 12 {
        k += 1;
    }
    if k - frac_start < 4 || b.get(k).is_some_and(|c| is_alnum(*c) || *c == b'.') {
        return None;
    }
    let s = std::str::from_utf8(&b[i..k]).ok()?;
    Some((s.parse().ok()?, k))
}

fn gps_pair(b: &[u8], i: usize) -> Option<(usize, usize, f32)> {
    let (a, e1) = decimal_at(b, i)?;
    let mut k = e1;
    if b[k..].starts_with("，".as_bytes()) {
        k += 3;
    } else if matches!(b.get(k), Some(b',' | b'/' | b' ')) {
        k += 1;
    } else {
        return None;
    }
    if b.get(k) == Some(&b' ') {
        k += 1;
    }
    let (c, e2) = decimal_at(b, k)?;
    let lat_lon = a.abs() <= 90.0 && c.abs() <= 180.0;
    let lon_lat = a.abs() <= 180.0 && c.abs() <= 90.0;
    if !lat_lon && !lon_lat {
        return None;
    }
    // China spans roughly latitude 3–54 and longitude 73–136.
    let in_china =
        |lat: f64, lon: f64| (3.0..=54.0).contains(&lat) && (73.0..=136.0).contains(&lon);
    let china = in_china(a, c) || in_china(c, a);
    let conf = if near_before(b, i, 30, &GPS_KW) {
        0.95
    } else if china {
        0.85
    } else {
        0.6
    };
    Some((i, e2, conf))
}

fn parse_groups(b: &[u8], i: usize, j: usize) -> Groups {
    let mut g = Groups {
        spans: [(0, 0); 8],
        n: 1,
    };
    g.spans[0] = (i, j);
    let sep = b[j];
    let mut k = j;
    let mut total = j - i;
    while g.n < g.spans.len() && k < b.len() && b[k] == sep {
        let s = k + 1;
        let mut e = s;
        while e < b.len() && b[e].is_ascii_digit() {
            e += 1;
        }
        if e == s || (e < b.len() && is_alnum(b[e])) || total + (e - s) > 24 {
            break;
        }
        total += e - s;
        g.spans[g.n] = (s, e);
        g.n += 1;
        k = e;
    }
    g
}

/// Tries mobile, landline, card and ID layouts on the groups starting at `b[i..j]`.
fn grouped_number(b: &[u8], i: usize, j: usize, out: &mut Out<'_>) -> Option<usize> {
    let sep = b[j];
    let g = parse_groups(b, i, j);
    if g.n < 2 {
        return None;
    }
    let plus = i > 0 && b[i - 1] == b'+';
    // With '-' every group belongs to the number; with spaces the number may be followed
    // by unrelated digits, so shorter prefixes are tried too (longest first).
    let min_n = if sep == b'-' { g.n } else { 2 };
    for n in (min_n..=g.n).rev() {
        let spans = &g.spans[..n];
        let end = spans[n - 1].1;
        let mut buf = [0u8; 32];
        let mut len = 0;
        for &(s, e) in spans {
            buf[len..len + (e - s)].copy_from_slice(&b[s..e]);
            len += e - s;
        }
        let d = &buf[..len];
        let lens: Vec<usize> = spans.iter().map(|&(s, e)| e - s).collect();
        // Mobile, with +86 / 0086 as its own group or glued to the first one.
        let (cc, rest) = if (plus && lens[0] == 2 && d.starts_with(b"86"))
            || (lens[0] == 4 && d.starts_with(b"0086"))
        {
            (true, &d[lens[0]..])
        } else {
            (false, d)
        };
        let body_groups = if cc { n - 1 } else { n };
        if v::mobile_digits(rest) && body_groups <= 3 {
            // The '+' belongs to the number only as part of +86.
            let start = if plus && cc { i - 1 } else { i };
            out.push(
                DataType::CnMobile,
                start,
                end,
                0.93,
                "mainland mobile number plan, grouped digits",
            );
            return Some(end);
        }
        // Landline: area code group, subscriber group, optional extension.
        if (n == 2 || (n == 3 && sep == b'-' && lens[2] <= 6))
            && v::area_code_len(&d[..lens[0]]) == Some(lens[0])
            && v::subscriber_ok(lens[0], &d[lens[0]..lens[0] + lens[1]])
        {
            let conf = if near_before(b, i, 24, &MOBILE_KW) {
                0.92
            } else {
                0.85
            };
            out.push(
                DataType::CnLandline,
                i,
                end,
                conf,
                "valid area code and subscriber number",
            );
            return Some(end);
        }
        // Resident ID written 6-8-4.
        if lens == [6, 8, 4] && v::id18_bytes(d) {
            out.push(
                DataType::CnResidentId,
                i,
                end,
                0.95,
                "GB 11643 check digit, region code and birth date valid (grouped)",
            );
            return Some(end);
        }
        // Card: groups of 4 (the last 1–4), or 6 + rest.
        let fours = lens[..n - 1].iter().all(|&l| l == 4) && (1..=4).contains(&lens[n - 1]);
        if (fours || (n == 2 && lens[0] == 6)) && v::card_digits_shape(d) {
            push_card(b, i, end, d, out);
            return Some(end);
        }
    }
    None
}

/// A USCC made only of digits (and perhaps a final X) is easily confused with long
/// numbers (1 in ~340 random 18-digit numbers pass both checks), so without a cue word it
/// is only a weak hint.
fn push_numeric_uscc(b: &[u8], i: usize, j: usize, out: &mut Out<'_>) {
    let conf = if near_before(b, i, 30, &USCC_KW) {
        0.95
    } else {
        0.45
    };
    out.push(
        DataType::CnUscc,
        i,
        j,
        conf,
        "GB 32100 check character and embedded GB 11714 code valid (numeric code)",
    );
}

fn push_card(b: &[u8], i: usize, end: usize, d: &[u8], out: &mut Out<'_>) {
    let kw = near_before(b, i, 30, &CARD_KW);
    if v::luhn_bytes(d) {
        out.push(
            DataType::BankCard,
            i,
            end,
            if kw { 0.97 } else { 0.9 },
            "card number shape, Luhn check passes",
        );
    } else {
        out.push(
            DataType::BankCard,
            i,
            end,
            if kw { 0.6 } else { 0.3 },
            "card number shape but Luhn check fails (some legacy domestic cards do)",
        );
    }
}

/// `(010)12345678`, `（0755） 1234567`.
fn paren_landline(b: &[u8], i: usize, j: usize, out: &mut Out<'_>) -> Option<usize> {
    let area = &b[i..j];
    if v::area_code_len(area) != Some(area.len()) {
        return None;
    }
    let mut k = j;
    if b.get(k) == Some(&b')') {
        k += 1;
    } else if b[k..].starts_with("）".as_bytes()) {
        k += 3;
    } else {
        return None;
    }
    if matches!(b.get(k), Some(b' ' | b'-')) {
        k += 1;
    }
    let s = k;
    while k < b.len() && b[k].is_ascii_digit() {
        k += 1;
    }
    if k < b.len() && is_alnum(b[k]) || !v::subscriber_ok(area.len(), &b[s..k]) {
        return None;
    }
    let start = i - if b[i - 1] == b'(' { 1 } else { 3 };
    out.push(
        DataType::CnLandline,
        start,
        k,
        0.9,
        "area code in brackets and subscriber number",
    );
    Some(k)
}

/// An 11–12 digit number starting with 0 is a landline only next to a phone cue word:
/// invoice codes (发票代码 044031900111) and other codes share the shape.
fn unseparated_landline_confidence(b: &[u8], i: usize) -> f32 {
    let hay = &b[i.saturating_sub(24)..i];
    let phone = last_keyword(hay, MOBILE_KW.words).or_else(|| last_keyword(hay, LANDLINE_KW.words));
    let code = last_keyword(hay, CODE_KW.words);
    // `办公电话号码：02074865398`: 号码 right after a phone word belongs to it; a code word
    // of its own (发票代码, 编号) means the number is a code.
    let phone_wins = match (phone, code) {
        (Some(_), None) => true,
        (Some((_, phone_end)), Some((code_start, _))) => code_start <= phone_end,
        _ => false,
    };
    if phone_wins {
        0.85
    } else {
        0.4
    }
}

/// Words that introduce a fixed-line number (besides the general phone words).
static LANDLINE_KW: Keywords =
    Keywords::new(&["座机", "固话", "固定电话", "办公", "传真", "热线", "总机"]);

/// The (start, end) of the last occurrence of any of `kws` in `hay`.
fn last_keyword(hay: &[u8], kws: &[&str]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    for k in kws {
        let k = k.as_bytes();
        if let Some(p) = (0..=hay.len().saturating_sub(k.len()))
            .rev()
            .find(|&p| hay.len() >= k.len() && &hay[p..p + k.len()] == k)
        {
            if best.is_none_or(|(s, _)| p > s) {
                best = Some((p, p + k.len()));
            }
        }
    }
    best
}

static CODE_KW: Keywords = Keywords::new(&["代码", "编号", "编码", "单号", "号码：", "流水"]);

fn single_digit_run(b: &[u8], i: usize, j: usize, out: &mut Out<'_>) {
    let d = &b[i..j];
    let plus = i > 0 && b[i - 1] == b'+';
    match d.len() {
        8 => {
            if let Some((8, true)) = v::date_len(d) {
                if near_before(b, i, 30, &BIRTH_KW) {
                    out.push(
                        DataType::BirthDate,
                        i,
                        j,
                        0.8,
                        "real date YYYYMMDD after a birth cue word",
                    );
                }
            }
        }
        9 => {
            if let Some(kw) = keyword_before(b, i, 36, &ORG_KW) {
                if v::org_code_bytes(d) {
                    out.push(
                        DataType::CnOrgCode,
                        i,
                        j,
                        0.85,
                        format!("GB 11714 check character valid, after '{kw}'"),
                    );
                }
            }
        }
        11 => {
            if v::mobile_digits(d) {
                out.push(
                    DataType::CnMobile,
                    i,
                    j,
                    0.95,
                    "mainland mobile number plan (11 digits)",
                );
            } else if let Some(a) = v::area_code_len(d) {
                if v::subscriber_ok(a, &d[a..]) {
                    let conf = unseparated_landline_confidence(b, i);
                    out.push(
                        DataType::CnLandline,
                        i,
                        j,
                        conf,
                        "valid area code and subscriber number",
                    );
                }
            }
        }
        12 => {
            if let Some(4) = v::area_code_len(d) {
                if v::subscriber_ok(4, &d[4..]) {
                    let conf = unseparated_landline_confidence(b, i);
                    out.push(
                        DataType::CnLandline,
                        i,
                        j,
                        conf,
                        "valid area code and subscriber number",
                    );
                }
            }
        }
        13 if d.starts_with(b"86") && v::mobile_digits(&d[2..]) => {
            let start = if plus { i - 1 } else { i };
            out.push(
                DataType::CnMobile,
                start,
                j,
                if plus { 0.95 } else { 0.8 },
                "country code 86 and mainland mobile number",
            );
        }
        15 if d.starts_with(b"0086") && v::mobile_digits(&d[4..]) => {
            out.push(
                DataType::CnMobile,
                i,
                j,
                0.95,
                "country code 0086 and mainland mobile number",
            );
        }
        15 => {
            let imei_kw = near_before(b, i, 30, &IMEI_KW);
            if imei_kw && v::luhn_bytes(d) {
                out.push(
                    DataType::Imei,
                    i,
                    j,
                    0.95,
                    "15 digits, Luhn check passes, after an IMEI cue word",
                );
            } else if v::id15_bytes(d) {
                let conf = if near_before(b, i, 30, &ID_KW) {
                    0.9
                } else {
                    0.7
                };
                out.push(
                    DataType::CnResidentId,
                    i,
                    j,
                    conf,
                    "15-digit legacy ID: region code and birth date valid",
                );
            } else if v::luhn_bytes(d) {
                let conf = if matches!(&d[..2], b"35" | b"86" | b"01" | b"99") {
                    0.6
                } else {
                    0.35
                };
                out.push(
                    DataType::Imei,
                    i,
                    j,
                    conf,
                    "15 digits with a valid Luhn check (IMEI shape)",
                );
            }
        }
        17 if keyword_before(b, i, 30, &VIN_KW).is_some() && v::vin_bytes(d) => {
            out.push(
                DataType::Vin,
                i,
                j,
                0.85,
                "ISO 3779 check digit valid, after a VIN cue word",
            );
        }
        18 if v::id18_bytes(d) => {
            let conf = if near_before(b, i, 30, &ID_KW) {
                0.99
            } else {
                0.97
            };
            out.push(
                DataType::CnResidentId,
                i,
                j,
                conf,
                "GB 11643 check digit, region code and birth date valid",
            );
        }
        18 if v::uscc_bytes(d) && !near_before(b, i, 30, &CARD_KW) => {
            push_numeric_uscc(b, i, j, out)
        }
        16..=19 if v::card_digits_shape(d) => {
            // 18-digit cards are rare; an 18-digit number next to an ID or credit-code cue
            // (a mistyped ID, say) is not taken for a card without a card cue.
            let card_kw = near_before(b, i, 30, &CARD_KW);
            let other_kw = near_before(b, i, 30, &ID_KW) || near_before(b, i, 30, &USCC_KW);
            if d.len() == 18 && !card_kw && (other_kw || !d.starts_with(b"62")) {
                return;
            }
            push_card(b, i, j, d, out);
        }
        _ => {}
    }
}

/// Runs with letters: USCC, VIN, passports, permits, organisation codes, plates.
fn mixed_run(text: &str, i: usize, j: usize, out: &mut Out<'_>) -> usize {
    let b = text.as_bytes();
    let run = &b[i..j];
    if let Some(end) = plate_at(text, i, j, out) {
        return end;
    }
    match run.len() {
        18 if v::uscc_bytes(run) => {
            let conf = if near_before(b, i, 30, &USCC_KW) {
                0.99
            } else {
                0.97
            };
            out.push(
                DataType::CnUscc,
                i,
                j,
                conf,
                "GB 32100 check character and embedded GB 11714 code valid",
            );
        }
        17 if v::vin_bytes(run) => {
            let conf = if near_before(b, i, 30, &VIN_KW) {
                0.97
            } else {
                0.9
            };
            out.push(DataType::Vin, i, j, conf, "ISO 3779 check digit valid");
        }
        _ => {
            if v::passport_bytes(run) {
                let strong = matches!(run[0], b'E' | b'G');
                let conf = if near_before(b, i, 30, &PASSPORT_KW) {
                    0.95
                } else if strong {
                    0.8
                } else {
                    0.45
                };
                out.push(DataType::CnPassport, i, j, conf, "passport number format");
            } else if v::permit_bytes(run) {
                let conf = if near_before(b, i, 30, &PERMIT_KW) {
                    0.95
                } else if run[0] == b'C' {
                    0.8
                } else {
                    0.45
                };
                out.push(
                    DataType::CnHkMacaoPermit,
                    i,
                    j,
                    conf,
                    "Hong Kong/Macao travel permit format",
                );
            } else if run.len() == 9
                && run.iter().any(u8::is_ascii_uppercase)
                && v::org_code_bytes(run)
            {
                let conf = if near_before(b, i, 36, &ORG_KW) {
                    0.9
                } else {
                    0.45
                };
                out.push(
                    DataType::CnOrgCode,
                    i,
                    j,
                    conf,
                    "GB 11714 check character valid",
                );
            }
        }
    }
    j
}

/// `1990年5月17日出生`, `1990-05-17生`: the birth cue follows the date.
fn birth_cue_after(b: &[u8], end: usize) -> bool {
    let rest = &b[end..];
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    if rest.starts_with("出生".as_bytes()) || rest.starts_with("生人".as_bytes()) {
        return true;
    }
    // A bare 生 only when the word ends there (`…日生，`), not 生效/生产/生成.
    match rest.strip_prefix("生".as_bytes()) {
        // Lead bytes E4..E9 start the CJK ideographs (U+4000..U+9FFF).
        Some(after) => after.first().is_none_or(|c| !(0xE4..=0xE9).contains(c)),
        None => false,
    }
}

/// Organisation code written `XXXXXXXX-X`.
fn org_code_hyphen(b: &[u8], i: usize, j: usize, out: &mut Out<'_>) -> Option<usize> {
    let check = *b.get(j + 1)?;
    if !(check.is_ascii_digit() || check == b'X') || b.get(j + 2).is_some_and(|c| is_alnum(*c)) {
        return None;
    }
    let mut code = [0u8; 9];
    code[..8].copy_from_slice(&b[i..j]);
    code[8] = check;
    if !v::org_code_bytes(&code) {
        return None;
    }
    let conf = if near_before(b, i, 36, &ORG_KW) {
        0.95
    } else {
        0.9
    };
    out.push(
        DataType::CnOrgCode,
        i,
        j + 2,
        conf,
        "GB 11714 check character valid (XXXXXXXX-X)",
    );
    Some(j + 2)
}

/// A plate: province character directly (or after one space) before the authority letter.
fn plate_at(text: &str, i: usize, j: usize, out: &mut Out<'_>) -> Option<usize> {
    let b = text.as_bytes();
    let letter = b[i];
    if !letter.is_ascii_uppercase() || i < 3 {
        return None;
    }
    let before = &text[..i];
    let before = before.strip_suffix(' ').unwrap_or(before);
    let province = before.chars().next_back()?;
    if !v::is_plate_province(province) {
        return None;
    }
    let start = before.len() - province.len_utf8();
    let run = &b[i..j];
    // Body directly after the letter, or after a `·`/space separator.
    let (body_start, body_end) = if run.len() == 1 {
        let k = if b[j..].starts_with("·".as_bytes()) {
            j + 2
        } else if b.get(j) == Some(&b' ') {
            j + 1
        } else {
            return None;
        };
        let mut e = k;
        while e < b.len() && is_alnum(b[e]) {
            e += 1;
        }
        (k, e)
    } else {
        (i + 1, j)
    };
    let body = &b[body_start..body_end];
    let suffix = text[body_end..]
        .chars()
        .next()
        .filter(|c| "挂学警港澳".contains(*c));
    let (ok, end) = match suffix {
        Some(c) if body.len() == 4 => (
            v::plate_body_ok(letter, body, true),
            body_end + c.len_utf8(),
        ),
        _ => (v::plate_body_ok(letter, body, false), body_end),
    };
    if !ok {
        return None;
    }
    out.push(
        DataType::CnPlate,
        start,
        end,
        0.9,
        "province abbreviation, authority letter and plate number",
    );
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(DataType, &str)> {
        TextScanner::new()
            .scan(text)
            .into_iter()
            .filter(|f| f.confidence >= REPORT_CONFIDENCE)
            .map(|f| (f.data_type, &text[f.start..f.end]))
            .collect()
    }

    #[test]
    fn identifiers_against_chinese_text() {
        assert_eq!(
            found("身份证号11010519491231002X，"),
            vec![(DataType::CnResidentId, "11010519491231002X")]
        );
        assert_eq!(
            found("电话13800138000。"),
            vec![(DataType::CnMobile, "13800138000")]
        );
        assert_eq!(found("订单号2023112212345678901"), vec![]);
        assert_eq!(found("单号138001380001"), vec![]);
        assert_eq!(found("身份证号110105194912310021"), vec![]);
        assert_eq!(found("x13800138000"), vec![]);
    }

    #[test]
    fn each_type_in_text() {
        let cases: &[(&str, DataType, &str)] = &[
            (
                "手机：+86 138 0013 8000，",
                DataType::CnMobile,
                "+86 138 0013 8000",
            ),
            (
                "手机0086-138-0013-8000",
                DataType::CnMobile,
                "0086-138-0013-8000",
            ),
            ("电话010-62345678转", DataType::CnLandline, "010-62345678"),
            (
                "电话（0755）82345678",
                DataType::CnLandline,
                "（0755）82345678",
            ),
            (
                "邮箱zhang.san@example.gov.cn。",
                DataType::Email,
                "zhang.san@example.gov.cn",
            ),
            (
                "卡号6212261234567890128",
                DataType::BankCard,
                "6212261234567890128",
            ),
            (
                "卡号6212 2612 3456 7890 128",
                DataType::BankCard,
                "6212 2612 3456 7890 128",
            ),
            (
                "代码91350100M000100Y43",
                DataType::CnUscc,
                "91350100M000100Y43",
            ),
            ("机构D2143569-X号", DataType::CnOrgCode, "D2143569-X"),
            ("组织机构代码：600037341", DataType::CnOrgCode, "600037341"),
            ("护照E12345678", DataType::CnPassport, "E12345678"),
            ("通行证C12345678", DataType::CnHkMacaoPermit, "C12345678"),
            ("车牌京A12345违章", DataType::CnPlate, "京A12345"),
            ("车牌粤B·D12345", DataType::CnPlate, "粤B·D12345"),
            ("车牌沪A 1234学", DataType::CnPlate, "沪A 1234学"),
            ("VIN码1M8GDM9AXKP042788", DataType::Vin, "1M8GDM9AXKP042788"),
            ("来自192.168.1.10的访问", DataType::Ipv4, "192.168.1.10"),
            ("地址2001:db8::1。", DataType::Ipv6, "2001:db8::1"),
            (
                "MAC 00:1A:2B:3C:4D:5E",
                DataType::MacAddress,
                "00:1A:2B:3C:4D:5E",
            ),
            (
                "出生日期：1990年5月17日",
                DataType::BirthDate,
                "1990年5月17日",
            ),
            ("生日1990-05-17", DataType::BirthDate, "1990-05-17"),
            (
                "坐标116.397128,39.916527",
                DataType::Gps,
                "116.397128,39.916527",
            ),
            ("IMEI:490154203237518", DataType::Imei, "490154203237518"),
            ("联系人：张三，", DataType::PersonName, "张三"),
            ("姓名欧阳修文性别男", DataType::PersonName, "欧阳修文"),
            (
                "家庭住址：北京市朝阳区建国路88号3单元502室，电话",
                DataType::Address,
                "北京市朝阳区建国路88号3单元502室",
            ),
            (
                "寄往广东省深圳市南山区科技园路1号。",
                DataType::Address,
                "广东省深圳市南山区科技园路1号",
            ),
        ];
        for (text, t, want) in cases {
            let f = found(text);
            assert!(
                f.contains(&(*t, want)),
                "{text}: want {t:?} {want:?}, got {f:?}"
            );
        }
    }

    #[test]
    fn look_alikes_are_not_found() {
        for text in [
            "时间戳1700000000123",
            "金额12345.67元",
            "版本1.2.3.4.5",
            "哈希d41d8cd98f00b204e9800998ecf8427e",
            "订单20231122123456789",
            "时间2023-11-22 10:30:00",
            "编号12345678901",
            "代码91350100M000100Y44",
            "VIN1HGCM82633A004353",
            "北京市人民政府发布通知",
            "本办法自2023年11月22日生效",
            "联系人请于周一前回复",
        ] {
            assert_eq!(found(text), vec![], "{text}");
        }
    }

    #[test]
    fn full_width_digits() {
        assert_eq!(
            found("电话１３８００１３８０００。"),
            vec![(DataType::CnMobile, "１３８００１３８０００")]
        );
        assert_eq!(
            found("身份证１１０１０５１９４９１２３１００２Ｘ"),
            vec![(
                DataType::CnResidentId,
                "１１０１０５１９４９１２３１００２Ｘ"
            )]
        );
        assert_eq!(found("编号１３８００１３８０００１"), vec![]);
        assert_eq!(found("Ａ１３８００１３８０００"), vec![]);
        assert_eq!(found("全角（）：，"), vec![]);
        assert_eq!(
            redact_all("电话１３８００１３８０００"),
            "电话１３８****８０００"
        );
    }

    fn redact_all(text: &str) -> String {
        crate::redact(text, &TextScanner::new().scan(text))
    }

    #[test]
    fn names_before_honorifics() {
        assert_eq!(
            found("请王建国同志来电。"),
            vec![(DataType::PersonName, "王建国")]
        );
        assert_eq!(
            found("与欧阳海燕医生联系"),
            vec![(DataType::PersonName, "欧阳海燕")]
        );
        assert_eq!(
            found("联系人王建国同志"),
            vec![(DataType::PersonName, "王建国")]
        );
        for text in [
            "王先生来电",
            "全体医生",
            "各位老师好",
            "张老师说",
            "主治医生",
        ] {
            assert_eq!(found(text), vec![], "{text}");
        }
    }

    /// Issue 16's name positions, each once, and its negatives.
    #[test]
    fn names_in_running_text() {
        let names = |text: &str| -> Vec<String> {
            found(text)
                .into_iter()
                .filter(|(t, _)| *t == DataType::PersonName)
                .map(|(_, v)| v.to_string())
                .collect()
        };
        for (text, want) in [
            ("王建国反映其承包地被占用。", vec!["王建国"]),
            ("张三的申请已受理。", vec!["张三"]),
            ("此事由李建军负责。", vec!["李建军"]),
            ("请向王丽华了解情况。", vec!["王丽华"]),
            ("已通知张秀芳前来领取。", vec!["张秀芳"]),
            ("请联系刘志明。", vec!["刘志明"]),
            ("经查，曹建新，男，45岁。", vec!["曹建新"]),
            ("张三、李四、王五三人", vec!["张三", "李四", "王五"]),
            ("王建国与李秀英系夫妻。", vec!["王建国", "李秀英"]),
            ("陈明委托杨丽代为办理。", vec!["陈明", "杨丽"]),
            ("信访人杨秀兰反映停水。", vec!["杨秀兰"]),
            ("投诉人马俊杰称未送货。", vec!["马俊杰"]),
            ("被投诉人胡德明系负责人。", vec!["胡德明"]),
            ("承办人郭静怡已回访。", vec!["郭静怡"]),
            // Exact spans: the name does not run on into the verb.
            ("李明提出异议。", vec!["李明"]),
            ("朱刚申请复议。", vec!["朱刚"]),
            ("周文性别男", vec!["周文"]),
            // 申 is a surname and the start of the compound 申屠.
            ("申雪和赵宏博出席了仪式。", vec!["申雪", "赵宏博"]),
            // A title ending in a compound surname's first character: 区长 + 孙志军.
            ("区长孙志军、副区长朱丽参加调研。", vec!["孙志军", "朱丽"]),
            ("上官婉儿来电。", vec!["上官婉儿"]),
            ("姓名：欧阳修文 性别：男", vec!["欧阳修文"]),
            ("序号\t姓名\n1\t王建国\n2\t李秀英", vec!["王建国", "李秀英"]),
        ] {
            assert_eq!(names(text), want, "{text}");
        }
        for text in [
            "张家港市人民政府印发方案。",
            "王府井街道办事处开展宣传。",
            "华为公司捐赠物资。",
            "万达广场周边交通拥堵。",
            "林业局开展检查。",
            "李主任已批示。",
            "王科长今天不在。",
            "申请人应当如实填写。",
            "投诉人对结果不满意的，可以申请复核。",
            "各部门要高度重视。",
            "周末期间受理来电。",
            "关于进一步加强管理的通知。",
            "各单位要按时完成任务。",
            "持续深化文明城市创建。",
            "数据的攻击、侵入、干扰、破坏。",
            "第五章 附则",
            "依据国发〔2016〕51号文件",
        ] {
            assert_eq!(names(text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn luhn_failure_lowers_confidence() {
        let f = TextScanner::new().scan("卡号6222021234567890123");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].data_type, DataType::BankCard);
        assert!(f[0].confidence < 0.9 && f[0].confidence > 0.0);
        let g = TextScanner::new().scan("卡号6212261234567890128");
        assert!(g[0].confidence > f[0].confidence);
    }

    #[test]
    fn spans_are_utf8_byte_offsets() {
        let text = "张三的手机是13800138000";
        let f = TextScanner::new().scan(text);
        let m = f
            .iter()
            .find(|f| f.data_type == DataType::CnMobile)
            .unwrap();
        assert_eq!(m.start, "张三的手机是".len());
        assert_eq!(m.end, text.len());
    }

    /// Issue 16's pattern misses and false alarms, each as it was reported.
    #[test]
    fn issue16_pattern_misses() {
        for (text, t, want) in [
            ("座机02074865398", DataType::CnLandline, "02074865398"),
            ("办公电话02074865398，", DataType::CnLandline, "02074865398"),
            (
                "办公电话号码：02074865398",
                DataType::CnLandline,
                "02074865398",
            ),
            (
                "座机号码：075582345678。",
                DataType::CnLandline,
                "075582345678",
            ),
            (
                "终端MACde:cd:aa:97:25:5a已登记",
                DataType::MacAddress,
                "de:cd:aa:97:25:5a",
            ),
            (
                "MACDE-CD-AA-97-25-5A",
                DataType::MacAddress,
                "DE-CD-AA-97-25-5A",
            ),
            ("电话010-6552 3456。", DataType::CnLandline, "010-6552 3456"),
            ("电话010 6552 3456", DataType::CnLandline, "010 6552 3456"),
            ("传真0755-823-4567", DataType::CnLandline, "0755-823-4567"),
            (
                "身份证号110105194912\n31002X，",
                DataType::CnResidentId,
                "110105194912\n31002X",
            ),
            (
                "身份证号11010519491231\r\n002X",
                DataType::CnResidentId,
                "11010519491231\r\n002X",
            ),
        ] {
            let f = found(text);
            assert_eq!(f, vec![(t, want)], "{text}");
        }
    }

    /// Addresses end after their last component, not at the end of the clause.
    #[test]
    fn addresses_stop_at_the_end_of_the_address() {
        for (text, want) in [
            (
                "住址北京市朝阳区建国路88号3单元502室要求退还押金",
                "北京市朝阳区建国路88号3单元502室",
            ),
            (
                "家住广东省深圳市南山区科技园路1号华润大厦B座12层反映噪音问题",
                "广东省深圳市南山区科技园路1号华润大厦B座12层",
            ),
            (
                "现住址：杭州市西湖区文三路100号3幢要求更正",
                "杭州市西湖区文三路100号3幢",
            ),
            ("户籍地河南省信阳市浉河区要求迁出", "河南省信阳市浉河区"),
            (
                "浙江省杭州市西湖区文三路100号因漏水问题投诉",
                "浙江省杭州市西湖区文三路100号",
            ),
            ("住在朝阳区建国路88号院里", "朝阳区建国路88号院"),
            // The cue is 住所地, not 住所 (地为 was in the span).
            (
                "住所地为湖北省襄阳市樊城区人民路56号。",
                "湖北省襄阳市樊城区人民路56号",
            ),
            // The side of the street before the house number.
            (
                "住广东省江门市蓬江区白沙大道西68号。",
                "广东省江门市蓬江区白沙大道西68号",
            ),
        ] {
            assert_eq!(found(text), vec![(DataType::Address, want)], "{text}");
        }
    }

    #[test]
    fn issue16_false_alarms() {
        for text in [
            "金额13800138000.00元",
            "合计0.13800138000元",
            "版本2.10.3.145",
            "升级到2.10.3.145版",
            "version 2.10.3.145",
            "发票代码044031900111",
            "发票号码：02074865398",
            // Two numbers on two lines that do not join into a valid ID.
            "编号110105194912\n31002Y",
            "共110105194912\n310021",
        ] {
            assert_eq!(found(text), vec![], "{text}");
        }
        // A dotted quad without a version cue is still an address; so is a mobile ending a
        // sentence with a full stop.
        assert_eq!(
            found("登录IP 2.10.3.145"),
            vec![(DataType::Ipv4, "2.10.3.145")]
        );
        assert_eq!(
            found("电话13800138000."),
            vec![(DataType::CnMobile, "13800138000")]
        );
    }

    #[test]
    fn plus_is_in_the_span_only_with_country_code() {
        // Regression: `+138 0013 8000` was reported with the '+', a value that
        // validate::cn_mobile rejects; the unseparated form already left it out.
        for (text, value) in [
            ("电话+138 0013 8000。", "138 0013 8000"),
            ("电话+13800138000。", "13800138000"),
            ("电话+86 138 0013 8000。", "+86 138 0013 8000"),
            ("电话+8613800138000。", "+8613800138000"),
        ] {
            assert_eq!(found(text), vec![(DataType::CnMobile, value)], "{text}");
        }
    }

    proptest::proptest! {
        /// The keyword search in one pass finds what a search per word finds: the first
        /// word of the list, in the list's order, anywhere in the window.
        #[test]
        fn keyword_search_agrees_with_a_search_per_word(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "身份证", "身份", "证件号", "号码", "ID", "I", "D", "的", "，", "1", "a", "\u{e9}", "😀",
                    "组织机构代码", "机构代码", "代码", "IMEI", "imei", "串号", "号码：", "：",
                ]),
                0..12,
            ),
            cut in 0usize..40,
            window in 0usize..40,
        ) {
            let text: String = pieces.concat();
            let b = text.as_bytes();
            let pos = cut.min(b.len());
            for kws in [&ID_KW, &ORG_KW, &IMEI_KW, &CODE_KW, &CARD_KW, &VIN_KW] {
                let hay = &b[pos.saturating_sub(window)..pos];
                let naive = kws.words.iter().copied().find(|k| {
                    hay.windows(k.len()).any(|w| w == k.as_bytes())
                });
                proptest::prop_assert_eq!(keyword_before(b, pos, window, kws), naive);
                proptest::prop_assert_eq!(near_before(b, pos, window, kws), naive.is_some());
            }
        }
    }
}
