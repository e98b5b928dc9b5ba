//! Re-identification risk (重识别风险): k-anonymity, l-diversity, records at risk and
//! generalizations that reach a target k.
//!
//! External memory: rows are projected to their quasi-identifiers (and sensitive value)
//! and hash-partitioned into temporary spill files; each partition is then aggregated on
//! its own, so memory holds one partition's distinct classes, not the table. Generalization
//! candidates are evaluated the same way over the (much smaller) file of distinct classes.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufReader, BufWriter, Read, Write};

use serde::Serialize;

use crate::dates::parse_date;
use crate::error::{MaskError, Result};

/// Settings of one analysis.
#[derive(Clone, Debug)]
pub struct RiskOptions {
    /// Names of the quasi-identifier columns, in the order values are given.
    pub qi_names: Vec<String>,
    /// Number of spill partitions.
    pub partitions: usize,
    /// Target k for records at risk and suggestions.
    pub k_target: u64,
    /// True when each row carries a sensitive value after the QIs.
    pub with_sensitive: bool,
}

/// One bucket of the class-size distribution.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SizeBucket {
    /// Smallest class size in the bucket.
    pub from: u64,
    /// Largest class size in the bucket (`u64::MAX` = open).
    pub to: u64,
    /// Classes in the bucket.
    pub classes: u64,
    /// Records in those classes.
    pub records: u64,
}

/// Figures for one grouping (raw or generalized).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClassSummary {
    /// Records.
    pub records: u64,
    /// Equivalence classes (distinct QI combinations).
    pub classes: u64,
    /// k: size of the smallest class.
    pub k: u64,
    /// Records in classes smaller than the target k.
    pub records_at_risk: u64,
    /// Distinct sensitive values in the least diverse class (l-diversity), when given.
    pub l: Option<u64>,
    /// Classes with fewer than 2 distinct sensitive values.
    pub classes_not_2_diverse: Option<u64>,
    /// Class-size distribution.
    pub distribution: Vec<SizeBucket>,
}

/// One step of the suggested generalization.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Suggestion {
    /// Column generalized in this step.
    pub column: String,
    /// Its new generalization, e.g. `range width 10`, `year`, `first 3 chars`, `*`.
    pub generalization: String,
    /// k after the step.
    pub k: u64,
    /// Records at risk after the step.
    pub records_at_risk: u64,
    /// Classes after the step.
    pub classes: u64,
}

/// The risk report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RiskReport {
    /// Quasi-identifiers.
    pub qi: Vec<String>,
    /// Target k.
    pub k_target: u64,
    /// Figures on the data as it is.
    pub summary: ClassSummary,
    /// Highest re-identification probability of one record (1/k).
    pub max_risk: f64,
    /// Average re-identification probability (classes / records).
    pub average_risk: f64,
    /// Greedy generalization steps until k ≥ target (empty if already reached).
    pub suggestions: Vec<Suggestion>,
    /// True when the suggestions reach the target.
    pub target_reached: bool,
}

#[derive(Clone, Debug, Default)]
struct Profile {
    non_null: u64,
    numeric: u64,
    integer: u64,
    dates: u64,
    min: f64,
    max: f64,
    max_len: usize,
}

#[derive(Clone, Debug, PartialEq)]
enum Gen {
    Identity,
    Range(f64),
    DateYearMonth,
    DateYear,
    DateYears(i64),
    Prefix(usize),
    Star,
}

impl Gen {
    fn describe(&self) -> String {
        match self {
            Gen::Identity => "as is".into(),
            Gen::Range(w) => format!("range width {w}"),
            Gen::DateYearMonth => "year-month".into(),
            Gen::DateYear => "year".into(),
            Gen::DateYears(n) => format!("{n}-year band"),
            Gen::Prefix(n) => format!("first {n} chars"),
            Gen::Star => "* (suppressed)".into(),
        }
    }

    fn apply(&self, v: Option<&str>) -> Option<String> {
        let v = v?;
        Some(match self {
            Gen::Identity => v.to_string(),
            Gen::Range(w) => match v.trim().parse::<f64>() {
                Ok(x) => {
                    let lo = (x / w).floor() * w;
                    format!("[{lo},{})", lo + w)
                }
                Err(_) => "*".into(),
            },
            Gen::DateYearMonth | Gen::DateYear | Gen::DateYears(_) => match parse_date(v.trim()) {
                Some(d) => match self {
                    Gen::DateYearMonth => format!("{}-{:02}", d.year, d.month),
                    Gen::DateYear => d.year.to_string(),
                    Gen::DateYears(n) => {
                        let lo = d.year.div_euclid(*n) * n;
                        format!("{lo}-{}", lo + n - 1)
                    }
                    _ => unreachable!("date levels only"),
                },
                None => "*".into(),
            },
            Gen::Prefix(n) => v.chars().take(*n).collect(),
            Gen::Star => "*".into(),
        })
    }
}

fn nice_widths(span: f64, integer: bool) -> Vec<f64> {
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let lo = (span / 50.0).max(if integer { 2.0 } else { 0.0 });
    let hi = span / 2.0;
    let mut out = Vec::new();
    let mut p = 10f64.powi((lo.max(1e-9)).log10().floor() as i32 - 1);
    while p <= hi * 10.0 && out.len() < 64 {
        for m in [1.0, 2.0, 5.0] {
            let w = m * p;
            if w >= lo && w <= hi {
                out.push(w);
            }
        }
        p *= 10.0;
    }
    // At most 4 levels, spread over the range.
    if out.len() > 4 {
        let n = out.len();
        out = (0..4).map(|i| out[i * (n - 1) / 3]).collect();
        out.dedup();
    }
    out
}

impl Profile {
    fn observe(&mut self, v: &str) {
        self.non_null += 1;
        self.max_len = self.max_len.max(v.chars().count());
        if let Ok(x) = v.trim().parse::<f64>() {
            if x.is_finite() {
                if self.numeric == 0 {
                    self.min = x;
                    self.max = x;
                }
                self.numeric += 1;
                self.min = self.min.min(x);
                self.max = self.max.max(x);
                if x.fract() == 0.0 {
                    self.integer += 1;
                }
            }
        }
        if v.len() >= 8 && parse_date(v.trim()).is_some() {
            self.dates += 1;
        }
    }

    fn hierarchy(&self) -> Vec<Gen> {
        let mut h = vec![Gen::Identity];
        if self.non_null > 0 && self.dates == self.non_null {
            h.extend([
                Gen::DateYearMonth,
                Gen::DateYear,
                Gen::DateYears(5),
                Gen::DateYears(10),
            ]);
        } else if self.non_null > 0 && self.numeric == self.non_null {
            h.extend(
                nice_widths(self.max - self.min, self.integer == self.numeric)
                    .into_iter()
                    .map(Gen::Range),
            );
        } else {
            let l = self.max_len;
            let mut lens: Vec<usize> = [l * 3 / 4, l / 2, l / 4]
                .into_iter()
                .filter(|&n| n > 0 && n < l)
                .collect();
            lens.dedup();
            h.extend(lens.into_iter().map(Gen::Prefix));
        }
        h.push(Gen::Star);
        h
    }
}

fn write_field(w: &mut impl Write, v: Option<&str>) -> std::io::Result<()> {
    match v {
        None => w.write_all(&u32::MAX.to_le_bytes()),
        Some(s) => {
            w.write_all(&(s.len() as u32).to_le_bytes())?;
            w.write_all(s.as_bytes())
        }
    }
}

fn read_u32(r: &mut impl Read) -> std::io::Result<Option<u32>> {
    let mut b = [0u8; 4];
    match r.read_exact(&mut b) {
        Ok(()) => Ok(Some(u32::from_le_bytes(b))),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

fn read_field(r: &mut impl Read) -> std::io::Result<Option<String>> {
    let len = read_u32(r)?.ok_or(std::io::ErrorKind::UnexpectedEof)?;
    if len == u32::MAX {
        return Ok(None);
    }
    let mut buf = vec![0u8; len as usize];
    r.read_exact(&mut buf)?;
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| std::io::ErrorKind::InvalidData.into())
}

/// A class record in spill files: QI values, count, distinct sensitive values.
struct ClassRec {
    qi: Vec<Option<String>>,
    count: u64,
    sens: BTreeSet<String>,
}

fn write_class(w: &mut impl Write, c: &ClassRec) -> std::io::Result<()> {
    w.write_all(&(c.qi.len() as u32).to_le_bytes())?;
    for v in &c.qi {
        write_field(w, v.as_deref())?;
    }
    w.write_all(&c.count.to_le_bytes())?;
    w.write_all(&(c.sens.len() as u32).to_le_bytes())?;
    for s in &c.sens {
        write_field(w, Some(s))?;
    }
    Ok(())
}

fn read_class(r: &mut impl Read) -> std::io::Result<Option<ClassRec>> {
    let Some(n) = read_u32(r)? else {
        return Ok(None);
    };
    let mut qi = Vec::with_capacity(n as usize);
    for _ in 0..n {
        qi.push(read_field(r)?);
    }
    let mut cb = [0u8; 8];
    r.read_exact(&mut cb)?;
    let ns = read_u32(r)?.ok_or(std::io::ErrorKind::UnexpectedEof)?;
    let mut sens = BTreeSet::new();
    for _ in 0..ns {
        if let Some(s) = read_field(r)? {
            sens.insert(s);
        }
    }
    Ok(Some(ClassRec {
        qi,
        count: u64::from_le_bytes(cb),
        sens,
    }))
}

/// Hash-partitioned spill of class records.
struct Spill {
    files: Vec<BufWriter<File>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Spill {
    fn new(dir: &tempfile::TempDir, n: usize) -> Result<Self> {
        let files = (0..n)
            .map(|_| {
                tempfile::tempfile_in(dir.path())
                    .map(|f| BufWriter::with_capacity(1 << 16, f))
                    .map_err(|e| MaskError::io(dir.path(), e))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Spill {
            files,
            hasher: Default::default(),
        })
    }

    fn push(&mut self, c: &ClassRec) -> std::io::Result<()> {
        let p = (self.hasher.hash_one(&c.qi) % self.files.len() as u64) as usize;
        write_class(&mut self.files[p], c)
    }

    /// Aggregate each partition; feed merged classes to `out`.
    fn aggregate(
        self,
        k_target: u64,
        with_sens: bool,
        mut out: impl FnMut(&ClassRec) -> std::io::Result<()>,
    ) -> std::io::Result<ClassSummary> {
        let mut sizes: HashMap<u64, u64> = HashMap::new();
        let mut l_min: Option<u64> = None;
        let mut not_2 = 0u64;
        for w in self.files {
            let mut f = w.into_inner().map_err(|e| e.into_error())?;
            use std::io::Seek;
            f.seek(std::io::SeekFrom::Start(0))?;
            let mut r = BufReader::with_capacity(1 << 16, f);
            let mut map: HashMap<Vec<Option<String>>, (u64, BTreeSet<String>)> = HashMap::new();
            while let Some(c) = read_class(&mut r)? {
                let e = map.entry(c.qi).or_default();
                e.0 += c.count;
                e.1.extend(c.sens);
            }
            for (qi, (count, sens)) in map {
                *sizes.entry(count).or_default() += 1;
                if with_sens {
                    let l = sens.len() as u64;
                    l_min = Some(l_min.map_or(l, |m| m.min(l)));
                    if l < 2 {
                        not_2 += 1;
                    }
                }
                out(&ClassRec { qi, count, sens })?;
            }
        }
        let records: u64 = sizes.iter().map(|(s, n)| s * n).sum();
        let classes: u64 = sizes.values().sum();
        let k = sizes.keys().copied().min().unwrap_or(0);
        let at_risk: u64 = sizes
            .iter()
            .filter(|(s, _)| **s < k_target)
            .map(|(s, n)| s * n)
            .sum();
        const EDGES: [u64; 9] = [1, 2, 3, 5, 10, 20, 50, 100, u64::MAX];
        let mut distribution = Vec::new();
        for w in EDGES.windows(2) {
            let (from, to) = (w[0], w[1] - 1);
            let (c, r) = sizes
                .iter()
                .filter(|(s, _)| **s >= from && **s <= to)
                .fold((0, 0), |(c, r), (s, n)| (c + n, r + s * n));
            if c > 0 {
                distribution.push(SizeBucket {
                    from,
                    to: if to == u64::MAX - 1 { u64::MAX } else { to },
                    classes: c,
                    records: r,
                });
            }
        }
        Ok(ClassSummary {
            records,
            classes,
            k,
            records_at_risk: at_risk,
            l: if with_sens {
                Some(l_min.unwrap_or(0))
            } else {
                None
            },
            classes_not_2_diverse: if with_sens { Some(not_2) } else { None },
            distribution,
        })
    }
}

/// Streams rows in, spills them, and computes the report.
pub struct RiskAnalyzer {
    opts: RiskOptions,
    dir: tempfile::TempDir,
    spill: Spill,
    profiles: Vec<Profile>,
}

impl RiskAnalyzer {
    /// Start an analysis (creates the spill directory under the system temp dir).
    pub fn new(opts: RiskOptions) -> Result<Self> {
        if opts.qi_names.is_empty() {
            return Err(MaskError::Invalid(
                "give at least one quasi-identifier column".into(),
            ));
        }
        // The spill files inside are unlinked at creation; the directory itself is named
        // so that an interrupt or the next start's sweep removes it (shuan-output).
        shuan_output::watch_dir(&std::env::temp_dir());
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}risk-", shuan_output::temp_prefix()))
            .tempdir()
            .map_err(|e| MaskError::io(std::env::temp_dir(), e))?;
        let spill = Spill::new(&dir, opts.partitions.max(1))?;
        let profiles = vec![Profile::default(); opts.qi_names.len()];
        Ok(RiskAnalyzer {
            opts,
            dir,
            spill,
            profiles,
        })
    }

    /// Add one row: the QI values in order, then the sensitive value if configured.
    pub fn add(&mut self, row: &[Option<String>]) -> Result<()> {
        let nq = self.opts.qi_names.len();
        let qi: Vec<Option<String>> = (0..nq).map(|i| row.get(i).cloned().flatten()).collect();
        for (p, v) in self.profiles.iter_mut().zip(&qi) {
            if let Some(v) = v {
                p.observe(v);
            }
        }
        let mut sens = BTreeSet::new();
        if self.opts.with_sensitive {
            if let Some(Some(s)) = row.get(nq) {
                sens.insert(s.clone());
            }
        }
        self.spill
            .push(&ClassRec { qi, count: 1, sens })
            .map_err(|e| MaskError::io(self.dir.path(), e))
    }

    /// Aggregate, measure, and search generalizations.
    pub fn finish(self) -> Result<RiskReport> {
        let RiskAnalyzer {
            opts,
            dir,
            spill,
            profiles,
        } = self;
        let io = |e: std::io::Error| MaskError::io(dir.path(), e);
        let mut classes_file = BufWriter::new(tempfile::tempfile_in(dir.path()).map_err(io)?);
        let summary = spill
            .aggregate(opts.k_target, opts.with_sensitive, |c| {
                write_class(&mut classes_file, c)
            })
            .map_err(io)?;
        let mut classes_file = classes_file.into_inner().map_err(|e| io(e.into_error()))?;
        let hierarchies: Vec<Vec<Gen>> = profiles.iter().map(Profile::hierarchy).collect();
        let mut levels = vec![0usize; hierarchies.len()];
        let mut suggestions = Vec::new();
        let mut current_k = summary.k;
        let mut steps = 0;
        while current_k < opts.k_target && summary.records > 0 && steps < 40 {
            steps += 1;
            let mut best: Option<(usize, ClassSummary)> = None;
            for i in 0..levels.len() {
                if levels[i] + 1 >= hierarchies[i].len() {
                    continue;
                }
                let mut trial = levels.clone();
                trial[i] += 1;
                let s =
                    evaluate(&dir, &mut classes_file, &hierarchies, &trial, &opts).map_err(io)?;
                let better = match &best {
                    None => true,
                    Some((bi, b)) => {
                        (
                            s.k.min(opts.k_target),
                            std::cmp::Reverse(s.records_at_risk),
                            std::cmp::Reverse(s.classes),
                            std::cmp::Reverse(trial[i]),
                        ) > (
                            b.k.min(opts.k_target),
                            std::cmp::Reverse(b.records_at_risk),
                            std::cmp::Reverse(b.classes),
                            std::cmp::Reverse(levels[*bi] + 1),
                        )
                    }
                };
                if better {
                    best = Some((i, s));
                }
            }
            let Some((i, s)) = best else { break };
            levels[i] += 1;
            current_k = s.k;
            suggestions.push(Suggestion {
                column: opts.qi_names[i].clone(),
                generalization: hierarchies[i][levels[i]].describe(),
                k: s.k,
                records_at_risk: s.records_at_risk,
                classes: s.classes,
            });
        }
        let records = summary.records.max(1) as f64;
        Ok(RiskReport {
            qi: opts.qi_names.clone(),
            k_target: opts.k_target,
            max_risk: if summary.k > 0 {
                1.0 / summary.k as f64
            } else {
                0.0
            },
            average_risk: summary.classes as f64 / records,
            target_reached: current_k >= opts.k_target,
            summary,
            suggestions,
        })
    }
}

fn evaluate(
    dir: &tempfile::TempDir,
    classes: &mut File,
    hierarchies: &[Vec<Gen>],
    levels: &[usize],
    opts: &RiskOptions,
) -> std::io::Result<ClassSummary> {
    use std::io::Seek;
    classes.seek(std::io::SeekFrom::Start(0))?;
    let mut r = BufReader::with_capacity(1 << 16, &*classes);
    let mut spill = Spill::new(dir, opts.partitions.max(1)).map_err(std::io::Error::other)?;
    while let Some(mut c) = read_class(&mut r)? {
        c.qi =
            c.qi.iter()
                .enumerate()
                .map(|(i, v)| hierarchies[i][levels[i]].apply(v.as_deref()))
                .collect();
        spill.push(&c)?;
    }
    spill.aggregate(opts.k_target, opts.with_sensitive, |_| Ok(()))
}

impl RiskReport {
    /// Human-readable report.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let s = &self.summary;
        let mut o = String::new();
        let _ = writeln!(o, "quasi-identifiers (准标识符): {}", self.qi.join(", "));
        let _ = writeln!(
            o,
            "records: {}   equivalence classes: {}",
            s.records, s.classes
        );
        let _ = writeln!(o, "k-anonymity (K-匿名): k = {} (smallest class)", s.k);
        let pct = if s.records > 0 {
            100.0 * s.records_at_risk as f64 / s.records as f64
        } else {
            0.0
        };
        let _ = writeln!(
            o,
            "records at risk (classes < {}): {} ({pct:.2}%)",
            self.k_target, s.records_at_risk
        );
        let _ = writeln!(
            o,
            "max re-identification risk 1/k = {:.4}, average = {:.4}",
            self.max_risk, self.average_risk
        );
        if let (Some(l), Some(n)) = (s.l, s.classes_not_2_diverse) {
            let _ = writeln!(
                o,
                "l-diversity (l-多样性): l = {l}; classes with a single sensitive value: {n}"
            );
        }
        let _ = writeln!(o, "class size distribution:");
        for b in &s.distribution {
            let range = if b.from == b.to {
                b.from.to_string()
            } else if b.to == u64::MAX {
                format!("{}+", b.from)
            } else {
                format!("{}-{}", b.from, b.to)
            };
            let _ = writeln!(
                o,
                "  size {range:>8}: {:>10} classes {:>12} records",
                b.classes, b.records
            );
        }
        if s.k >= self.k_target {
            let _ = writeln!(
                o,
                "target k = {} is met; no generalization needed",
                self.k_target
            );
        } else {
            let _ = writeln!(
                o,
                "suggested generalizations (泛化建议) to reach k = {}:",
                self.k_target
            );
            for (i, g) in self.suggestions.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "  {}. {} → {}: k = {}, records at risk {}, classes {}",
                    i + 1,
                    g.column,
                    g.generalization,
                    g.k,
                    g.records_at_risk,
                    g.classes
                );
            }
            if !self.target_reached {
                let _ = writeln!(o, "  target not reached by generalization alone; suppress the remaining records at risk");
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rows: &[[&str; 3]], k: u64, partitions: usize) -> RiskReport {
        let mut a = RiskAnalyzer::new(RiskOptions {
            qi_names: vec!["age".into(), "zip".into()],
            partitions,
            k_target: k,
            with_sensitive: true,
        })
        .unwrap();
        for r in rows {
            a.add(&r.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>())
                .unwrap();
        }
        a.finish().unwrap()
    }

    const ROWS: [[&str; 3]; 6] = [
        ["25", "100080", "flu"],
        ["25", "100080", "cold"],
        ["25", "100080", "flu"],
        ["32", "100081", "cancer"],
        ["32", "100081", "cancer"],
        ["47", "100190", "flu"],
    ];

    #[test]
    fn hand_computed_example() {
        // Classes by hand: (25,100080) ×3 with {flu, cold}; (32,100081) ×2 with {cancer};
        // (47,100190) ×1 with {flu}. So k = 1, 3 classes, l = 1, two classes not 2-diverse;
        // for k = 3 the records at risk are the 2 + 1 = 3 outside the first class.
        for partitions in [1, 4, 64] {
            let r = run(&ROWS, 3, partitions);
            let s = &r.summary;
            assert_eq!((s.records, s.classes, s.k), (6, 3, 1));
            assert_eq!(s.records_at_risk, 3);
            assert_eq!(s.l, Some(1));
            assert_eq!(s.classes_not_2_diverse, Some(2));
            assert_eq!(
                s.distribution,
                vec![
                    SizeBucket {
                        from: 1,
                        to: 1,
                        classes: 1,
                        records: 1
                    },
                    SizeBucket {
                        from: 2,
                        to: 2,
                        classes: 1,
                        records: 2
                    },
                    SizeBucket {
                        from: 3,
                        to: 4,
                        classes: 1,
                        records: 3
                    },
                ]
            );
            assert!((r.max_risk - 1.0).abs() < 1e-12);
            assert!((r.average_risk - 0.5).abs() < 1e-12);
            assert!(r.target_reached);
            let last = r.suggestions.last().unwrap();
            assert!(last.k >= 3);
            assert_eq!(last.records_at_risk, 0);
        }
        let met = run(&ROWS, 1, 2);
        assert!(met.suggestions.is_empty() && met.target_reached);
    }

    #[test]
    fn suggestions_match_a_recomputation() {
        // 2000 rows of (age, zip); each suggested step's k is recomputed in memory.
        let rows: Vec<[String; 3]> = (0..2000u64)
            .map(|i| {
                [
                    format!("{}", 18 + (i * 7919) % 60),
                    format!("1000{:02}", (i * 31) % 97),
                    format!("d{}", i % 5),
                ]
            })
            .collect();
        let mut a = RiskAnalyzer::new(RiskOptions {
            qi_names: vec!["age".into(), "zip".into()],
            partitions: 8,
            k_target: 10,
            with_sensitive: false,
        })
        .unwrap();
        for r in &rows {
            a.add(&[Some(r[0].clone()), Some(r[1].clone())]).unwrap();
        }
        let rep = a.finish().unwrap();
        assert!(rep.summary.k < 10);
        assert!(rep.target_reached, "{}", rep.render());
        // Recompute k for the final generalization from the descriptions.
        let mut prof = [Profile::default(), Profile::default()];
        for r in &rows {
            prof[0].observe(&r[0]);
            prof[1].observe(&r[1]);
        }
        let h = [prof[0].hierarchy(), prof[1].hierarchy()];
        let mut lv = [0usize, 0];
        for s in &rep.suggestions {
            let i = if s.column == "age" { 0 } else { 1 };
            lv[i] += 1;
            assert_eq!(h[i][lv[i]].describe(), s.generalization);
            let mut m: HashMap<(Option<String>, Option<String>), u64> = HashMap::new();
            for r in &rows {
                *m.entry((
                    h[0][lv[0]].apply(Some(&r[0])),
                    h[1][lv[1]].apply(Some(&r[1])),
                ))
                .or_default() += 1;
            }
            assert_eq!(*m.values().min().unwrap(), s.k);
            assert_eq!(m.len() as u64, s.classes);
        }
    }

    #[test]
    fn nulls_and_empty_input() {
        let mut a = RiskAnalyzer::new(RiskOptions {
            qi_names: vec!["a".into()],
            partitions: 2,
            k_target: 2,
            with_sensitive: false,
        })
        .unwrap();
        a.add(&[None]).unwrap();
        a.add(&[None]).unwrap();
        a.add(&[Some("x".into())]).unwrap();
        let r = a.finish().unwrap();
        assert_eq!((r.summary.k, r.summary.classes), (1, 2));
        let e = RiskAnalyzer::new(RiskOptions {
            qi_names: vec!["a".into()],
            partitions: 2,
            k_target: 2,
            with_sensitive: false,
        })
        .unwrap();
        let r = e.finish().unwrap();
        assert_eq!(r.summary.records, 0);
        assert!(RiskAnalyzer::new(RiskOptions {
            qi_names: vec![],
            partitions: 1,
            k_target: 2,
            with_sensitive: false
        })
        .is_err());
    }
}
