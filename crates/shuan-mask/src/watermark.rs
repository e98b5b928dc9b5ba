//! Leak-tracing watermarks (水印溯源).
//!
//! Scheme: for an extract made for recipient R, every row gets one keyed bit
//! `b = HMAC-SM3(K_wm, R, row key)[0] & 1`, where the row key is the row's values in the
//! non-carrier columns (by name). In each carrier column (a non-critical numeric field,
//! e.g. an amount or a measurement), the parity of the last digit is set to `b`, changing
//! that digit by at most one (…4 ↔ …5). Without the key the bits look random.
//!
//! Detection recomputes, for every registered recipient, the expected parity of every
//! carrier digit of the leaked rows and counts agreement. The true recipient agrees on
//! (nearly) every digit; any other recipient agrees on about half, so a few hundred rows
//! give an overwhelming score (z = (matches − n/2) / sqrt(n/4)).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};
use serde::{Deserialize, Serialize};

use crate::error::{MaskError, Result};
use crate::job::MaskPlan;
use crate::key::MaskKeys;
use crate::ops::Operator;

/// File name of the watermark registry in the data directory.
pub const REGISTRY_FILE: &str = "watermarks.jsonl";

/// The watermark registry: one JSON line per watermarked extract, read back by
/// detection. Safe for many `shuan mask` processes (and, later, server requests) at once:
/// every append holds an exclusive `flock` on the file, writes its whole line with one
/// `write_all` in append mode and syncs it before unlocking, so no acknowledged entry is
/// lost or interleaved with another; readers hold a shared lock, so they never see half a
/// line.
pub struct Registry {
    path: PathBuf,
}

impl Registry {
    /// The registry of a data directory.
    pub fn in_dir(data_dir: &Path) -> Self {
        Registry {
            path: data_dir.join(REGISTRY_FILE),
        }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, what: &str) -> impl Fn(std::io::Error) -> MaskError + '_ {
        let what = what.to_string();
        move |e| MaskError::Io {
            path: self.path.clone(),
            source: std::io::Error::new(e.kind(), format!("{what}: {e}")),
        }
    }

    /// Appends one entry; returns once it is durable.
    pub fn append(&self, entry: &WatermarkEntry) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(self.io("creating its directory"))?;
        }
        let mut line = serde_json::to_vec(entry)?;
        line.push(b'\n');
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&self.path)
            .map_err(self.io("opening"))?;
        flock(&file, FlockOperation::LockExclusive).map_err(|e| self.io("locking")(e.into()))?;
        // A writer killed mid-line left a torn last line: end it, so this entry starts
        // on a line of its own (the torn one is then skipped by `read`).
        let len = file.metadata().map_err(self.io("reading metadata"))?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(self.io("reading"))?;
            if last[0] != b'\n' {
                line.insert(0, b'\n');
            }
        }
        file.write_all(&line).map_err(self.io("appending"))?;
        file.sync_all().map_err(self.io("syncing"))?;
        // Closing the file releases the lock.
        Ok(())
    }

    /// Every entry, oldest first. A line that is not an entry is an error naming it,
    /// except a torn line left by a writer that was killed mid-write.
    pub fn read(&self) -> Result<Vec<WatermarkEntry>> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io("opening")(e)),
        };
        flock(&file, FlockOperation::LockShared).map_err(|e| self.io("locking")(e.into()))?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(self.io("reading"))?;
        let lines: Vec<&str> = text.split('\n').collect();
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str(line) {
                Ok(entry) => out.push(entry),
                // Torn: not terminated (the last piece) or ended by a later append.
                Err(e) if e.is_eof() => continue,
                Err(_) if i + 1 == lines.len() => continue,
                Err(e) => {
                    return Err(MaskError::Invalid(format!(
                        "{}:{}: not a watermark record ({e}); the registry was edited by hand?",
                        self.path.display(),
                        i + 1
                    )))
                }
            }
        }
        Ok(out)
    }
}

/// What was embedded for one recipient, kept in the registry for detection.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct WatermarkEntry {
    /// Named recipient (接收方).
    pub recipient: String,
    /// Carrier column names.
    pub carriers: Vec<String>,
    /// Row-key column names.
    pub key_columns: Vec<String>,
    /// Public fingerprint of the masking key used.
    pub key_fingerprint: String,
    /// When it was embedded (RFC 3339).
    pub when: String,
    /// Source the extract came from.
    pub source: String,
    /// Destination written.
    pub destination: String,
}

/// The watermark carriers chosen automatically: columns the plan keeps (or noises) and
/// discovery did not type, whose values in `batch` (the first masked rows, in output
/// column order: suppressed columns removed) are at least 95% numbers with two or more
/// digits — counts, amounts, measurements — over at least 10 values.
pub fn choose_carriers(plan: &MaskPlan, batch: &[Vec<Option<String>>]) -> Vec<String> {
    let output = plan
        .columns
        .iter()
        .filter(|c| c.choice.operator != Operator::Suppress);
    let mut out = Vec::new();
    for (i, c) in output.enumerate() {
        if c.info.data_type.is_some()
            || !matches!(c.choice.operator, Operator::Keep | Operator::Noise { .. })
        {
            continue;
        }
        let vals: Vec<&str> = batch
            .iter()
            .filter_map(|r| r.get(i).and_then(|v| v.as_deref()))
            .filter(|v| !v.is_empty())
            .collect();
        let numeric = vals
            .iter()
            .filter(|v| {
                v.parse::<f64>().is_ok() && v.chars().filter(char::is_ascii_digit).count() >= 2
            })
            .count();
        if vals.len() >= 10 && numeric * 100 >= vals.len() * 95 {
            out.push(c.info.name.clone());
        }
    }
    out
}

/// Embeds the watermark of one recipient into rows with a fixed header.
pub struct Embedder<'a> {
    keys: &'a MaskKeys,
    recipient: String,
    carriers: Vec<usize>,
    key_cols: Vec<usize>,
    /// Carrier values changed so far.
    pub changed: u64,
    /// Carrier values that carry a bit.
    pub carried: u64,
}

fn row_bit(keys: &MaskKeys, recipient: &str, row: &[Option<String>], key_cols: &[usize]) -> u8 {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(key_cols.len() + 1);
    parts.push(recipient.as_bytes());
    for &i in key_cols {
        parts.push(
            row.get(i)
                .and_then(|v| v.as_deref())
                .unwrap_or("\u{0}")
                .as_bytes(),
        );
    }
    keys.watermark_mac(&parts)[0] & 1
}

/// Byte index of the last ASCII digit of a numeric-looking value.
fn last_digit(value: &str) -> Option<usize> {
    let t = value.trim_end();
    let looks_numeric = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | ','))
        && t.chars().filter(char::is_ascii_digit).count() >= 2;
    if !looks_numeric {
        return None;
    }
    t.bytes().rposition(|b| b.is_ascii_digit())
}

/// Column indices by name; `None` if a name is missing.
pub fn indices(header: &[String], names: &[String]) -> Option<Vec<usize>> {
    names
        .iter()
        .map(|n| header.iter().position(|h| h == n))
        .collect()
}

impl<'a> Embedder<'a> {
    /// Embed for `recipient` using `carriers` (column names) of `header`; every other
    /// column forms the row key.
    pub fn new(
        keys: &'a MaskKeys,
        recipient: &str,
        header: &[String],
        carriers: &[String],
    ) -> Option<Self> {
        let carrier_idx = indices(header, carriers)?;
        let key_cols = (0..header.len())
            .filter(|i| !carrier_idx.contains(i))
            .collect();
        Some(Embedder {
            keys,
            recipient: recipient.to_string(),
            carriers: carrier_idx,
            key_cols,
            changed: 0,
            carried: 0,
        })
    }

    /// Names of the row-key columns.
    pub fn key_column_names(&self, header: &[String]) -> Vec<String> {
        self.key_cols.iter().map(|&i| header[i].clone()).collect()
    }

    /// Set the carrier digits of one row.
    pub fn embed(&mut self, row: &mut [Option<String>]) {
        let bit = row_bit(self.keys, &self.recipient, row, &self.key_cols);
        for &c in &self.carriers {
            let Some(v) = row.get_mut(c).and_then(|v| v.as_mut()) else {
                continue;
            };
            let Some(pos) = last_digit(v) else { continue };
            self.carried += 1;
            let d = v.as_bytes()[pos] - b'0';
            if d & 1 != bit {
                let nd = d ^ 1;
                v.replace_range(pos..pos + 1, &((b'0' + nd) as char).to_string());
                self.changed += 1;
            }
        }
    }
}

/// Agreement of a leaked table with one registered recipient.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Score {
    /// The recipient.
    pub recipient: String,
    /// Carrier digits compared.
    pub compared: u64,
    /// Digits whose parity matched the recipient's bits.
    pub matched: u64,
    /// Standard score against chance (0.5).
    pub z: f64,
}

/// Accumulates agreement of rows with one registry entry.
pub struct Detector<'a> {
    keys: &'a MaskKeys,
    entry: &'a WatermarkEntry,
    carriers: Vec<usize>,
    key_cols: Vec<usize>,
    compared: u64,
    matched: u64,
}

impl<'a> Detector<'a> {
    /// A detector for `entry`; `None` when the leaked header lacks its columns.
    pub fn new(keys: &'a MaskKeys, entry: &'a WatermarkEntry, header: &[String]) -> Option<Self> {
        Some(Detector {
            keys,
            entry,
            carriers: indices(header, &entry.carriers)?,
            key_cols: indices(header, &entry.key_columns)?,
            compared: 0,
            matched: 0,
        })
    }

    /// Compare one leaked row.
    pub fn add(&mut self, row: &[Option<String>]) {
        let bit = row_bit(self.keys, &self.entry.recipient, row, &self.key_cols);
        for &c in &self.carriers {
            let Some(v) = row.get(c).and_then(|v| v.as_deref()) else {
                continue;
            };
            let Some(pos) = last_digit(v) else { continue };
            self.compared += 1;
            if (v.as_bytes()[pos] - b'0') & 1 == bit {
                self.matched += 1;
            }
        }
    }

    /// The score so far.
    pub fn score(&self) -> Score {
        let n = self.compared as f64;
        let z = if n > 0.0 {
            (self.matched as f64 - n / 2.0) / (n / 4.0).sqrt()
        } else {
            0.0
        };
        Score {
            recipient: self.entry.recipient.clone(),
            compared: self.compared,
            matched: self.matched,
            z,
        }
    }
}

/// z above which a recipient is named (chance probability below 1e-9).
pub const Z_THRESHOLD: f64 = 6.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Vec<String> {
        ["id", "name", "amount", "weight"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn rows(n: usize) -> Vec<Vec<Option<String>>> {
        (0..n)
            .map(|i| {
                vec![
                    Some(format!("P{i:05}")),
                    Some(format!("张{}", i % 7)),
                    Some(format!("{}.{:02}", 1000 + i * 37 % 900, i % 100)),
                    Some(format!("{}", 50 + i % 40)),
                ]
            })
            .collect()
    }

    #[test]
    fn recipient_is_recovered_from_five_percent_of_rows() {
        let keys = MaskKeys::from_master(&[9; 32]);
        let h = header();
        let carriers = vec!["amount".to_string(), "weight".to_string()];
        let recipients = ["市卫健委", "区教育局", "测试公司"];
        let entries: Vec<WatermarkEntry> = recipients
            .iter()
            .map(|r| WatermarkEntry {
                recipient: r.to_string(),
                carriers: carriers.clone(),
                key_columns: vec!["id".into(), "name".into()],
                key_fingerprint: keys.fingerprint(),
                when: String::new(),
                source: "s".into(),
                destination: "d".into(),
            })
            .collect();
        let original = rows(6000);
        let mut leaked = original.clone();
        let mut emb = Embedder::new(&keys, "区教育局", &h, &carriers).unwrap();
        assert_eq!(emb.key_column_names(&h), ["id", "name"]);
        for r in leaked.iter_mut() {
            emb.embed(r);
        }
        assert!(emb.changed > 0 && emb.changed < emb.carried);
        // Values move by at most one unit in the last digit.
        for (a, b) in original.iter().zip(&leaked) {
            let x: f64 = a[2].as_deref().unwrap().parse().unwrap();
            let y: f64 = b[2].as_deref().unwrap().parse().unwrap();
            assert!((x - y).abs() <= 0.011);
            assert_eq!(a[0], b[0]);
        }
        // A 5% partial extract (every 20th row).
        let part: Vec<_> = leaked.iter().step_by(20).collect();
        assert_eq!(part.len(), 300);
        let scores: Vec<Score> = entries
            .iter()
            .map(|e| {
                let mut d = Detector::new(&keys, e, &h).unwrap();
                for r in &part {
                    d.add(r);
                }
                d.score()
            })
            .collect();
        let best = scores.iter().max_by(|a, b| a.z.total_cmp(&b.z)).unwrap();
        assert_eq!(best.recipient, "区教育局");
        assert!(best.z > Z_THRESHOLD, "{scores:?}");
        assert!(
            scores
                .iter()
                .filter(|s| s.recipient != "区教育局")
                .all(|s| s.z < Z_THRESHOLD),
            "{scores:?}"
        );
        // The unmarked original is attributed to nobody.
        let mut d = Detector::new(&keys, &entries[1], &h).unwrap();
        for r in original.iter().step_by(20) {
            d.add(r);
        }
        assert!(d.score().z < Z_THRESHOLD);
    }
}

#[cfg(test)]
mod registry_tests {
    use super::*;

    fn entry(i: usize) -> WatermarkEntry {
        WatermarkEntry {
            recipient: format!("接收方{i}"),
            carriers: vec!["amount".into()],
            key_columns: vec!["id".into(), "备注".repeat(200)],
            key_fingerprint: "00".repeat(8),
            when: "2026-12-03T08:00:00Z".into(),
            source: format!("src{i}.csv"),
            destination: format!("out{i}.csv"),
        }
    }

    /// 16 appenders at once (each with its own file handle, as separate processes have):
    /// every entry is there, whole.
    #[test]
    fn parallel_appends_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::thread::scope(|s| {
            for t in 0..16 {
                let dir = dir.path();
                s.spawn(move || {
                    for k in 0..8 {
                        Registry::in_dir(dir).append(&entry(t * 100 + k)).unwrap();
                    }
                });
            }
        });
        let mut got: Vec<String> = Registry::in_dir(dir.path())
            .read()
            .unwrap()
            .into_iter()
            .map(|e| e.recipient)
            .collect();
        got.sort();
        let mut want: Vec<String> = (0..16)
            .flat_map(|t| (0..8).map(move |k| entry(t * 100 + k).recipient))
            .collect();
        want.sort();
        assert_eq!(got, want);
    }

    /// A writer killed mid-line leaves a torn line: it is skipped, and the next append
    /// starts a line of its own.
    #[test]
    fn a_torn_last_line_is_skipped_and_ended() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::in_dir(dir.path());
        reg.append(&entry(1)).unwrap();
        let mut f = OpenOptions::new().append(true).open(reg.path()).unwrap();
        f.write_all(b"{\"recipient\":\"torn").unwrap();
        drop(f);
        assert_eq!(reg.read().unwrap().len(), 1);
        reg.append(&entry(2)).unwrap();
        let names: Vec<String> = reg
            .read()
            .unwrap()
            .into_iter()
            .map(|e| e.recipient)
            .collect();
        assert_eq!(names, ["接收方1", "接收方2"]);
        // A line damaged in the middle of the file is an error, not skipped.
        std::fs::write(reg.path(), "not json\n{}\n").unwrap();
        assert!(reg.read().is_err());
    }
}

#[cfg(test)]
mod carrier_tests {
    use super::*;
    use crate::rules::{ColumnInfo, RuleSet};

    /// Batch values are in output order: a suppressed column before the amounts does not
    /// shift which column is judged numeric.
    #[test]
    fn carriers_are_untyped_kept_numeric_columns_in_output_order() {
        let user = "[scenarios.s]\nresidual_scan=false\n[[scenarios.s.rules]]\ncolumns=[\"^secret$\"]\nop=\"suppress\"\n";
        let rs = RuleSet::with_user(Some(("u", user)), &|_| true).unwrap();
        let col = |name: &str, t: Option<&str>| ColumnInfo {
            name: name.into(),
            data_type: t.map(str::to_string),
            ..Default::default()
        };
        let plan = MaskPlan::build(
            rs.scenario("s").unwrap(),
            vec![
                col("secret", None),
                col("note", None),
                col("amount", None),
                col("phone", Some("cn_mobile")),
            ],
        )
        .unwrap();
        let batch: Vec<Vec<Option<String>>> = (0..20)
            .map(|i| {
                vec![
                    Some(format!("备注{i}")),
                    Some(format!("{}.{:02}", 100 + i, i)),
                    Some(format!("1380013{:04}", i)),
                ]
            })
            .collect();
        assert_eq!(choose_carriers(&plan, &batch), ["amount"]);
        assert!(
            choose_carriers(&plan, &batch[..5]).is_empty(),
            "too few values"
        );
    }
}
