//! Person names and addresses on a hand-labelled set (`tests/data/names_addresses.tsv`):
//! precision, recall and F1 per position category with exact spans, and the share of
//! name-free sentences in which any name is reported. Fails below the targets of issue 16:
//! person_name F1 ≥ 0.90, address F1 ≥ 0.95, at most 1% of name-free sentences with a name.
//!
//! `cargo test -p shuan-detect --test names -- --nocapture` prints the table.

use std::collections::BTreeMap;

use shuan_detect::{DataType, TextScanner, REPORT_CONFIDENCE};

const DATA: &str = include_str!("data/names_addresses.tsv");
const HOLDOUT: &str = include_str!("data/names_addresses_holdout.tsv");
const BLIND: &str = include_str!("data/names_addresses_blind.tsv");
const BLIND2: &str = include_str!("data/names_addresses_blind2.tsv");
const BLIND3: &str = include_str!("data/names_addresses_blind3.tsv");
const BLIND4: &str = include_str!("data/names_addresses_blind4.tsv");

struct Sentence {
    category: String,
    text: String,
    labels: Vec<(DataType, usize, usize)>,
}

/// Parses `[[name]]` / `{{address}}` markup into plain text and byte spans.
fn parse(line: &str) -> Sentence {
    let (category, marked) = line.split_once('\t').expect("category<TAB>sentence");
    let marked = marked.replace("\\n", "\n").replace("\\t", "\t");
    let mut text = String::new();
    let mut labels = Vec::new();
    let mut open: Option<(DataType, usize)> = None;
    let mut rest = marked.as_str();
    while !rest.is_empty() {
        let tag = [
            ("[[", Some(DataType::PersonName)),
            ("{{", Some(DataType::Address)),
            ("]]", None),
            ("}}", None),
        ]
        .into_iter()
        .find(|(t, _)| rest.starts_with(t));
        match tag {
            Some((t, Some(kind))) => {
                assert!(open.is_none(), "nested markup in {line}");
                open = Some((kind, text.len()));
                rest = &rest[t.len()..];
            }
            Some((t, None)) => {
                let (kind, start) = open.take().expect("closing markup without opening");
                labels.push((kind, start, text.len()));
                rest = &rest[t.len()..];
            }
            None => {
                let c = rest.chars().next().unwrap();
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    assert!(open.is_none(), "unclosed markup in {line}");
    Sentence {
        category: category.to_string(),
        text,
        labels,
    }
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
    fn prf(&self) -> (f64, f64, f64) {
        let p = if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        };
        let r = if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        };
        let f = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        (p, r, f)
    }
}

#[test]
fn names_and_addresses_per_position() {
    evaluate("tuning set", DATA, 400, true);
}

/// Written last and measured once, never used to change the recogniser: the figures
/// docs/detectors.md gives for text the rules were not fitted to. Printed, and held to a
/// floor a little under that first measurement so that a change that loses ground shows.
#[test]
fn names_and_addresses_blind() {
    let (name_f1, addr_f1, rate) = evaluate("blind set", BLIND, 50, false);
    assert!(
        name_f1 >= BLIND_FLOOR.0,
        "blind person_name F1 {name_f1:.3}"
    );
    assert!(addr_f1 >= BLIND_FLOOR.1, "blind address F1 {addr_f1:.3}");
    assert!(rate <= BLIND_FLOOR.2, "blind name-free rate {rate:.3}");
}

/// The second blind set, written after the cue lists were widened (by then the first had
/// been seen), measured once.
#[test]
fn names_and_addresses_blind2() {
    let (name_f1, addr_f1, rate) = evaluate("second blind set", BLIND2, 45, false);
    assert!(
        name_f1 >= BLIND2_FLOOR.0,
        "blind2 person_name F1 {name_f1:.3}"
    );
    assert!(addr_f1 >= BLIND2_FLOOR.1, "blind2 address F1 {addr_f1:.3}");
    assert!(rate <= BLIND2_FLOOR.2, "blind2 name-free rate {rate:.3}");
}

/// The third blind set (government text: 信访, 投诉, 审批, 会议纪要, 通知, pasted tables),
/// written and committed before issue 16's last changes to the recogniser.
#[test]
fn names_and_addresses_blind3() {
    let (name_f1, addr_f1, rate) = evaluate("third blind set", BLIND3, 200, false);
    assert!(
        name_f1 >= BLIND3_FLOOR.0,
        "blind3 person_name F1 {name_f1:.3}"
    );
    assert!(addr_f1 >= BLIND3_FLOOR.1, "blind3 address F1 {addr_f1:.3}");
    assert!(rate <= BLIND3_FLOOR.2, "blind3 name-free rate {rate:.3}");
}

/// Its first measurement (the recogniser unchanged since): person_name P 0.986 R 0.896
/// F1 0.939, 0 of 120 name-free sentences with a name; addresses 6 of 7 (F1 0.857). The
/// miss (白沙大道西68号) then became a rule: addresses 7 of 7 — no longer a blind figure.
const BLIND3_FLOOR: (f64, f64, f64) = (0.92, 0.95, 0.01);

/// The fourth blind set (government text, 32 addresses), written and committed after
/// issue 16's last changes and before its first measurement.
#[test]
fn names_and_addresses_blind4() {
    let (name_f1, addr_f1, rate) = evaluate("fourth blind set", BLIND4, 100, false);
    assert!(
        name_f1 >= BLIND4_FLOOR.0,
        "blind4 person_name F1 {name_f1:.3}"
    );
    assert!(addr_f1 >= BLIND4_FLOOR.1, "blind4 address F1 {addr_f1:.3}");
    assert!(rate <= BLIND4_FLOOR.2, "blind4 name-free rate {rate:.3}");
}

/// Its one measurement: person_name P 1.000 R 0.938 F1 0.968 (45 of 48), 0 of 61 name-free
/// sentences with a name; addresses P 0.969 R 0.969 F1 0.969 (31 of 32; the miss is a
/// building and floor after the house number, 五四路158号环球广场一层, which the
/// recogniser keeps and the label left out).
const BLIND4_FLOOR: (f64, f64, f64) = (0.95, 0.95, 0.01);

/// Its one measurement: person_name P 0.967 R 0.829 F1 0.892, addresses 3 of 3, 0 of 20
/// name-free sentences with a name.
const BLIND2_FLOOR: (f64, f64, f64) = (0.85, 0.9, 0.1);

/// (person_name F1, address F1, name-free sentences with a name) floors for the blind set.
/// Its one blind measurement: person_name P 0.930 R 0.816 F1 0.870, address 2 of 3 (F1
/// 0.667), 0 of 10 name-free sentences with a name. After the cue lists were widened (its
/// misses had been seen by then): F1 0.926.
const BLIND_FLOOR: (f64, f64, f64) = (0.88, 0.6, 0.1);

/// Written after the recogniser was tuned on the first set; its figures are the better
/// guess of how it fares on text it was not made for.
#[test]
fn names_and_addresses_held_out() {
    evaluate("held-out set", HOLDOUT, 150, true);
}

/// Prints P/R/F1 per category and returns (person_name F1, address F1, share of name-free
/// sentences with a name); with `enforce`, fails below issue 16's targets.
fn evaluate(set: &str, data: &str, min_sentences: usize, enforce: bool) -> (f64, f64, f64) {
    println!("== {set}");
    let scanner = TextScanner::new();
    let sentences: Vec<Sentence> = data
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(parse)
        .collect();
    assert!(
        sentences.len() >= min_sentences,
        "the set has {} sentences",
        sentences.len()
    );
    let mut per: BTreeMap<(DataType, String), Counts> = BTreeMap::new();
    let mut errors = Vec::new();
    let (mut name_free, mut name_free_with_name) = (0, 0);
    for s in &sentences {
        let found: Vec<_> = scanner
            .scan(&s.text)
            .into_iter()
            .filter(|f| f.confidence >= REPORT_CONFIDENCE)
            .filter(|f| matches!(f.data_type, DataType::PersonName | DataType::Address))
            .collect();
        if !s.labels.iter().any(|l| l.0 == DataType::PersonName) {
            name_free += 1;
            if found.iter().any(|f| f.data_type == DataType::PersonName) {
                name_free_with_name += 1;
            }
        }
        for t in [DataType::PersonName, DataType::Address] {
            let mut c = Counts::default();
            for f in found.iter().filter(|f| f.data_type == t) {
                if s.labels.contains(&(t, f.start, f.end)) {
                    c.tp += 1;
                } else {
                    c.fp += 1;
                    errors.push(format!(
                        "FP {} {:?} in {:?} ({})",
                        t.id(),
                        &s.text[f.start..f.end],
                        s.text,
                        f.reason
                    ));
                }
            }
            for &(lt, ls, le) in s.labels.iter().filter(|l| l.0 == t) {
                if !found
                    .iter()
                    .any(|f| f.data_type == lt && f.start == ls && f.end == le)
                {
                    c.fn_ += 1;
                    errors.push(format!(
                        "FN {} {:?} in {:?}",
                        t.id(),
                        &s.text[ls..le],
                        s.text
                    ));
                }
            }
            if c.tp + c.fp + c.fn_ > 0 || s.labels.iter().any(|l| l.0 == t) {
                per.entry((t, s.category.clone())).or_default().add(c);
            }
        }
    }
    println!(
        "{:<12} {:<14} {:>5} {:>5} {:>5} {:>9} {:>7} {:>6}",
        "type", "category", "tp", "fp", "fn", "precision", "recall", "F1"
    );
    let mut totals: BTreeMap<DataType, Counts> = BTreeMap::new();
    for ((t, cat), c) in &per {
        let (p, r, f) = c.prf();
        println!(
            "{:<12} {:<14} {:>5} {:>5} {:>5} {:>9.3} {:>7.3} {:>6.3}",
            t.id(),
            cat,
            c.tp,
            c.fp,
            c.fn_,
            p,
            r,
            f
        );
        totals.entry(*t).or_default().add(*c);
    }
    for (t, c) in &totals {
        let (p, r, f) = c.prf();
        println!(
            "{:<12} {:<14} {:>5} {:>5} {:>5} {:>9.3} {:>7.3} {:>6.3}",
            t.id(),
            "ALL",
            c.tp,
            c.fp,
            c.fn_,
            p,
            r,
            f
        );
    }
    let rate = name_free_with_name as f64 / name_free.max(1) as f64;
    println!(
        "name-free sentences with a reported name: {name_free_with_name}/{name_free} ({:.2}%)",
        rate * 100.0
    );
    for e in &errors {
        println!("{e}");
    }
    let f1 = |t| totals.get(&t).map_or(0.0, |c: &Counts| c.prf().2);
    let name_f1 = f1(DataType::PersonName);
    let addr_f1 = f1(DataType::Address);
    if !enforce {
        return (name_f1, addr_f1, rate);
    }
    assert!(name_f1 >= 0.90, "{set}: person_name F1 {name_f1:.3} < 0.90");
    assert!(addr_f1 >= 0.95, "{set}: address F1 {addr_f1:.3} < 0.95");
    assert!(
        rate <= 0.01,
        "{set}: {:.2}% of name-free sentences report a name",
        rate * 100.0
    );
    (name_f1, addr_f1, rate)
}

/// The five regulations in `shared/regulations` (text nobody here wrote, extracted from
/// PDFs with lines wrapped inside words) name no person: nothing may be reported.
#[test]
fn regulations_name_nobody() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/regulations");
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e} (the shared/ folder beside the workspace)"));
    let scanner = TextScanner::new();
    let mut files = 0;
    let mut sentences = 0;
    let mut names = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        files += 1;
        sentences += text.matches('。').count();
        for f in scanner.scan(&text) {
            if f.data_type == DataType::PersonName && f.confidence >= REPORT_CONFIDENCE {
                names.push(format!("{}: {:?}", path.display(), &text[f.start..f.end]));
            }
        }
    }
    println!(
        "{files} regulations, {sentences} sentences, {} names",
        names.len()
    );
    assert!(files >= 5, "expected the five regulations in {dir}");
    assert!(names.is_empty(), "names reported: {names:?}");
}
