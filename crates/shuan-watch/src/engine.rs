//! The engine (检测引擎): per-caller state over the record stream, rules evaluated as each
//! record arrives.
//!
//! # Windows and order
//!
//! Counting rules use tumbling windows aligned to the Unix epoch (`window_minutes`), per
//! caller and rule. A rule fires the moment its count reaches the threshold, once per
//! caller and window (the alert's [`Alert::key`]). Time is the records' own `time`, never
//! the clock, so replaying the same records gives the same alerts.
//!
//! Records from several nodes interleave slightly out of order. A record whose window is
//! older than the caller's current window for a rule is counted in the current window
//! (it is never lost and never reopens a window that may already have alerted); a record
//! from a later window starts that window. Lateness of seconds against windows of minutes
//! moves at most a few records across a boundary. `after_denials` compares times directly
//! (denials after the allowed call do not count), and `new_address` keeps the earliest
//! time seen as the caller's first appearance.
//!
//! # Memory
//!
//! State is per caller: a few counters per rule, at most `engine.max_evidence` record
//! references per rule, at most `enumeration.min_distinct` value hashes, at most
//! `after_denials.min_denials` denial times, at most `new_address.max_addresses`
//! addresses and `volume_spike.baseline_windows` past counts. At most `engine.max_actors`
//! callers are kept; when a new caller would pass that, the least recently seen eighth
//! (by record time, ties by id) is dropped, and a dropped caller starts again as new
//! (baseline and address learning included). Node ids are interned once each.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use serde_json::Value;
use shuan_ledger::{Outcome, Record, Timestamp};

use crate::alert::{Alert, EvidenceRef};
use crate::rules::{Measure, RuleId, RuleSet, Severity};

const MINUTE: i64 = 60_000_000;
const DAY: i64 = 86_400_000_000;

/// The scope of a sharing agreement (共享协议): what the engine checks an allowed call
/// against for `outside_purpose`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgreementScope {
    /// Resource codes (catalogue codes) the agreement covers.
    pub resources: Vec<String>,
    /// The agreement's purpose (用途), if the check should compare it with the record's.
    pub purpose: Option<String>,
}

/// Looks agreements up by id. Called once per allowed service call that names an
/// agreement, on the engine's thread: answer from memory (the server keeps a cache).
/// `None` means unknown, and an unknown agreement is not judged.
pub trait AgreementLookup {
    /// The scope of agreement `id`.
    fn scope(&self, id: i64) -> Option<AgreementScope>;
}

impl AgreementLookup for HashMap<i64, AgreementScope> {
    fn scope(&self, id: i64) -> Option<AgreementScope> {
        self.get(&id).cloned()
    }
}

impl AgreementLookup for std::collections::BTreeMap<i64, AgreementScope> {
    fn scope(&self, id: i64) -> Option<AgreementScope> {
        self.get(&id).cloned()
    }
}

/// Counts since the engine was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records observed.
    pub records: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Callers held now.
    pub actors: usize,
    /// Callers dropped to stay within `engine.max_actors`.
    pub evicted: u64,
}

/// A reference kept before an alert needs it: interned node and sequence number.
type Ref = (u32, u64);

/// A bounded list of the latest references.
#[derive(Default)]
struct Ring(VecDeque<Ref>);

impl Ring {
    fn push(&mut self, r: Ref, cap: usize) {
        if self.0.len() >= cap {
            self.0.pop_front();
        }
        self.0.push_back(r);
    }
}

/// One tumbling window of one rule for one caller.
struct Window {
    index: i64,
    /// The window length `index` counts in (a retuned rule changes it).
    len: i64,
    count: u64,
    fired: bool,
    evidence: Ring,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            index: i64::MIN,
            len: 0,
            count: 0,
            fired: false,
            evidence: Ring::default(),
        }
    }
}

impl Window {
    /// Moves to window `index` of length `len` if it is later (a late record stays in
    /// the current one); answers the count of the window left behind. After the rule's
    /// window length changed, the old index means nothing: the window starts afresh.
    fn enter(&mut self, index: i64, len: i64) -> Option<u64> {
        if len != self.len {
            self.len = len;
            self.index = i64::MIN;
        }
        if index <= self.index {
            return None;
        }
        let done = std::mem::take(&mut self.count);
        self.index = index;
        self.fired = false;
        self.evidence.0.clear();
        Some(done)
    }
}

#[derive(Default)]
struct VolumeState {
    window: Window,
    history: VecDeque<u64>,
    /// The count that alerts in the current window (`u64::MAX` while the baseline is short).
    threshold: u64,
    median: u64,
}

#[derive(Default)]
struct EnumState {
    window: Window,
    distinct: HashSet<u64>,
    sequential: u64,
    last_visible: String,
}

#[derive(Default)]
struct AddressState {
    first_seen: Option<i64>,
    known: Vec<String>,
    window: Window,
}

#[derive(Default)]
struct VendorState {
    window: Window,
    rows: u64,
    csv: u64,
}

#[derive(Default)]
struct ActorState {
    last_seen: i64,
    department: Option<String>,
    volume: VolumeState,
    enumeration: EnumState,
    off_hours: Window,
    /// Recent denials: (time, reference), at most `min_denials`.
    denials: VecDeque<(i64, Ref)>,
    after_denials_fired: i64,
    address: AddressState,
    vendor: VendorState,
    outside: Window,
}

/// What the engine reads from a record's details, once.
struct Facts<'a> {
    service_call: bool,
    rows: u64,
    csv: bool,
    params: Option<&'a Vec<Value>>,
    agreement: Option<i64>,
    resource: Option<&'a str>,
    code: Option<&'a str>,
}

impl<'a> Facts<'a> {
    fn of(r: &'a Record, service_action: &str) -> Facts<'a> {
        let mut f = Facts {
            service_call: r.action == service_action,
            rows: 0,
            csv: false,
            params: None,
            agreement: None,
            resource: None,
            code: None,
        };
        if !f.service_call {
            return f;
        }
        // One pass over the few entries: cheaper than a hashed lookup per key.
        for (k, v) in &r.details {
            match k.as_str() {
                "rows" => f.rows = v.as_u64().unwrap_or(0),
                "format" => f.csv = v.as_str() == Some("csv"),
                "params" => f.params = v.as_array(),
                "agreement" => f.agreement = v.as_i64(),
                "resource" => f.resource = v.as_str(),
                "code" => f.code = v.as_str(),
                _ => {}
            }
        }
        f
    }
}

/// The misuse detector (滥用检测引擎). Feed it records in (roughly) time order; it answers
/// the alerts each record raises.
pub struct Watcher {
    rules: RuleSet,
    actors: HashMap<String, ActorState>,
    nodes: Vec<String>,
    node_index: HashMap<String, u32>,
    last_node: u32,
    lookup: Option<Box<dyn AgreementLookup + Send>>,
    stats: Stats,
    /// The last local day asked about and whether it was a working day.
    day_cache: Option<(i64, bool)>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("actors", &self.actors.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn window_of(t: i64, minutes: u32) -> (i64, i64) {
    let w = i64::from(minutes.max(1)) * MINUTE;
    (t.div_euclid(w), w)
}

fn bounds(index: i64, w: i64) -> (Timestamp, Timestamp) {
    let start = index.saturating_mul(w);
    (Timestamp(start), Timestamp(start.saturating_add(w)))
}

/// Digits of `s` as a number (at most 18 of them), if there are any.
fn digits_value(s: &str) -> Option<u64> {
    let mut v: u64 = 0;
    let mut n = 0;
    for c in s.chars().filter(char::is_ascii_digit).take(18) {
        v = v * 10 + u64::from(c as u8 - b'0');
        n += 1;
    }
    (n > 0).then_some(v)
}

/// Whether two masked values' visible parts step by 1..=max_step: the same visible
/// prefix, and the trailing digits apart by a small step — read either whole (`001` →
/// `002`) or without their last character, which is a check digit in identity numbers
/// (`02X` → `037`).
fn steps(prev: &str, cur: &str, max_step: u64) -> bool {
    fn split(s: &str) -> (&str, &str) {
        match (s.find('*'), s.rfind('*')) {
            (Some(a), Some(b)) => (&s[..a], &s[b + 1..]),
            _ => ("", s),
        }
    }
    fn body(s: &str) -> Option<u64> {
        let mut cs = s.chars();
        cs.next_back()?;
        digits_value(cs.as_str())
    }
    let (p1, s1) = split(prev);
    let (p2, s2) = split(cur);
    if p1 != p2 {
        return false;
    }
    let near = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => (1..=max_step).contains(&a.abs_diff(b)),
        _ => false,
    };
    near(digits_value(s1), digits_value(s2)) || near(body(s1), body(s2))
}

impl Watcher {
    /// An engine with `rules` and no agreement lookup.
    pub fn new(rules: RuleSet) -> Watcher {
        Watcher {
            rules,
            actors: HashMap::new(),
            nodes: Vec::new(),
            node_index: HashMap::new(),
            last_node: 0,
            lookup: None,
            stats: Stats::default(),
            day_cache: None,
        }
    }

    /// Sets the agreement lookup `outside_purpose` checks allowed calls against.
    pub fn with_lookup(mut self, lookup: Box<dyn AgreementLookup + Send>) -> Watcher {
        self.lookup = Some(lookup);
        self
    }

    /// The rules in force.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Replaces the rules (a security administrator tuned them). Callers' state is kept;
    /// windows of a changed length start afresh with the next record.
    pub fn set_rules(&mut self, rules: RuleSet) {
        self.rules = rules;
        self.day_cache = None;
    }

    /// Counts so far.
    pub fn stats(&self) -> Stats {
        Stats {
            actors: self.actors.len(),
            ..self.stats
        }
    }

    /// Observes a record of a single, unnamed ledger (evidence node `""`).
    pub fn observe(&mut self, record: &Record) -> Vec<Alert> {
        self.observe_from("", record)
    }

    /// Observes a record of node `node` (its ledger id) and answers the alerts it raises.
    pub fn observe_from(&mut self, node: &str, record: &Record) -> Vec<Alert> {
        let mut out = Vec::new();
        self.observe_into(node, record, &mut |a| out.push(a));
        out
    }

    /// Observes a record, handing each alert it raises to `sink`.
    pub fn observe_into(&mut self, node: &str, record: &Record, sink: &mut dyn FnMut(Alert)) {
        self.stats.records += 1;
        let node = self.intern(node);
        let r = (node, record.seq);
        let t = record.time.micros();
        if !self.actors.contains_key(record.actor.id.as_str()) {
            self.make_room();
            self.actors
                .insert(record.actor.id.clone(), ActorState::default());
        }
        let working = self.working_time(t);
        let Some(st) = self.actors.get_mut(record.actor.id.as_str()) else {
            return;
        };
        st.last_seen = st.last_seen.max(t);
        if record.actor.department.is_some() && record.actor.department != st.department {
            st.department.clone_from(&record.actor.department);
        }
        let facts = Facts::of(record, &self.rules.engine.service_action);
        let mut ctx = Ctx {
            rules: &self.rules,
            nodes: &self.nodes,
            record,
            r,
            t,
            raised: 0,
            sink,
        };
        if facts.service_call {
            ctx.volume(st, &facts);
            ctx.enumeration(st, &facts);
            if !working {
                ctx.off_hours(st);
            }
            ctx.vendor(st, &facts);
            ctx.outside(st, &facts, self.lookup.as_deref());
        }
        ctx.after_denials(st);
        ctx.new_address(st);
        self.stats.alerts += ctx.raised;
    }

    fn intern(&mut self, node: &str) -> u32 {
        if let Some(n) = self.nodes.get(self.last_node as usize) {
            if n == node {
                return self.last_node;
            }
        }
        let i = match self.node_index.get(node) {
            Some(i) => *i,
            None => {
                let i = self.nodes.len() as u32;
                self.nodes.push(node.to_string());
                self.node_index.insert(node.to_string(), i);
                i
            }
        };
        self.last_node = i;
        i
    }

    /// Drops the least recently seen eighth of the callers when one more would pass the
    /// cap (amortised: one pass every max_actors/8 new callers).
    fn make_room(&mut self) {
        let cap = self.rules.engine.max_actors.max(1);
        if self.actors.len() < cap {
            return;
        }
        let mut seen: Vec<(i64, &String)> =
            self.actors.iter().map(|(k, s)| (s.last_seen, k)).collect();
        let drop = (seen.len() / 8).max(1).min(seen.len());
        seen.select_nth_unstable(drop - 1);
        let victims: Vec<String> = seen[..drop].iter().map(|(_, k)| (*k).clone()).collect();
        for k in victims {
            self.actors.remove(&k);
        }
        self.stats.evicted += drop as u64;
    }

    /// Whether `t` falls in working hours on a working day of the configured calendar.
    fn working_time(&mut self, t: i64) -> bool {
        let o = &self.rules.off_hours;
        let local = t.saturating_add(i64::from(o.utc_offset_minutes) * MINUTE);
        let day = local.div_euclid(DAY);
        let minute = (local.rem_euclid(DAY) / MINUTE) as u32;
        let workday = match self.day_cache {
            Some((d, w)) if d == day => w,
            _ => {
                // 1970-01-01 was a Thursday: index 3 with Monday as 0.
                let weekday = (day.rem_euclid(7) + 3) % 7;
                let w = o.workdays.contains(&day)
                    || (o.days[weekday as usize] && !o.holidays.contains(&day));
                self.day_cache = Some((day, w));
                w
            }
        };
        workday && minute >= o.start_minute && minute < o.end_minute
    }
}

/// One record's evaluation.
struct Ctx<'a, 's> {
    rules: &'a RuleSet,
    nodes: &'a [String],
    record: &'a Record,
    r: Ref,
    t: i64,
    raised: u64,
    sink: &'s mut dyn FnMut(Alert),
}

impl Ctx<'_, '_> {
    fn refs(&self, refs: impl Iterator<Item = Ref>) -> Vec<EvidenceRef> {
        refs.map(|(n, seq)| EvidenceRef {
            node: self.nodes.get(n as usize).cloned().unwrap_or_default(),
            seq,
        })
        .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn raise(
        &mut self,
        st: &ActorState,
        rule: RuleId,
        severity: Severity,
        (start, end): (Timestamp, Timestamp),
        evidence: Vec<EvidenceRef>,
        count: u64,
        zh: String,
        en: String,
    ) {
        self.raised += 1;
        (self.sink)(Alert {
            rule,
            rule_label: rule.label(),
            severity,
            actor: self.record.actor.id.clone(),
            department: st.department.clone(),
            window_start: start,
            window_end: end,
            at: self.record.time,
            summary_zh: zh,
            summary_en: en,
            evidence,
            evidence_count: count,
        });
    }

    fn cap(&self) -> usize {
        self.rules.engine.max_evidence.max(1)
    }

    fn volume(&mut self, st: &mut ActorState, f: &Facts) {
        let c = &self.rules.volume_spike;
        if !c.enabled {
            return;
        }
        let (index, w) = window_of(self.t, c.window_minutes);
        let v = &mut st.volume;
        if v.window.len != w {
            // Counts of another window length are no baseline for this one.
            v.history.clear();
        }
        if let Some(done) = v.window.enter(index, w) {
            if done > 0 {
                if v.history.len() >= c.baseline_windows {
                    v.history.pop_front();
                }
                v.history.push_back(done);
            }
            // Windows of silence are not part of the baseline: a caller who works days
            // only would otherwise have a median of 0.
            while v.history.len() > c.baseline_windows {
                v.history.pop_front();
            }
            if v.history.len() < c.min_baseline_windows || v.history.is_empty() {
                v.threshold = u64::MAX;
            } else {
                let mut sorted: Vec<u64> = v.history.iter().copied().collect();
                sorted.sort_unstable();
                v.median = sorted[(sorted.len() - 1) / 2];
                let above = (c.factor * v.median as f64).floor() as u64;
                v.threshold = above.saturating_add(1).max(c.min_count);
            }
        }
        let amount = match c.measure {
            Measure::Calls => 1,
            Measure::Rows => f.rows,
        };
        if amount == 0 {
            return;
        }
        v.window.count = v.window.count.saturating_add(amount);
        let cap = self.cap();
        v.window.evidence.push(self.r, cap);
        if v.window.fired || v.window.count < v.threshold {
            return;
        }
        v.window.fired = true;
        let (count, median) = (v.window.count, v.median);
        let evidence = self.refs(v.window.evidence.0.iter().copied());
        let unit = match c.measure {
            Measure::Calls => ("次调用", "calls"),
            Measure::Rows => ("行", "rows"),
        };
        let (zh, en) = (
            format!(
                "调用量突增：{} 分钟内 {count} {}，超过本人基线中位数 {median} 的 {} 倍",
                c.window_minutes, unit.0, c.factor
            ),
            format!(
                "volume spike: {count} {} in {} minutes, over {} × the caller's median of {median}",
                unit.1, c.window_minutes, c.factor
            ),
        );
        let calls = st.volume.window.count;
        self.raise(
            st,
            RuleId::VolumeSpike,
            c.severity,
            bounds(index.max(st.volume.window.index), w),
            evidence,
            calls,
            zh,
            en,
        );
    }

    fn enumeration(&mut self, st: &mut ActorState, f: &Facts) {
        let c = &self.rules.enumeration;
        if !c.enabled || self.record.outcome != Outcome::Allowed || f.rows > c.max_rows {
            return;
        }
        let Some(params) = f.params else {
            return;
        };
        // The lookup's values hashed in order (names too: `a=1` is not `b=1`).
        let mut h = DefaultHasher::new();
        let mut first: Option<&str> = None;
        for p in params {
            let (Some(name), Some(value)) = (
                p.get(0).and_then(Value::as_str),
                p.get(1).and_then(Value::as_str),
            ) else {
                continue;
            };
            if c.ignore_params.iter().any(|i| i == name) {
                continue;
            }
            name.hash(&mut h);
            value.hash(&mut h);
            first.get_or_insert(value);
        }
        let Some(first) = first else {
            return;
        };
        let h = h.finish();
        // DefaultHasher::new() has fixed keys: the same values hash the same in every run.
        let (index, w) = window_of(self.t, c.window_minutes);
        let e = &mut st.enumeration;
        if e.window.enter(index, w).is_some() {
            e.distinct.clear();
            e.sequential = 0;
            e.last_visible.clear();
        }
        if e.distinct.len() < c.min_distinct && e.distinct.insert(h) {
            e.window.count += 1;
        }
        if !e.last_visible.is_empty() && steps(&e.last_visible, first, c.max_step) {
            e.sequential += 1;
        }
        e.last_visible.clear();
        e.last_visible.push_str(first);
        let cap = self.cap();
        e.window.evidence.push(self.r, cap);
        let sequential = e.sequential >= c.min_sequential as u64;
        if e.window.fired || !(sequential || e.window.count >= c.min_distinct as u64) {
            return;
        }
        e.window.fired = true;
        let (distinct, steps_n) = (e.window.count, e.sequential);
        let evidence = self.refs(e.window.evidence.0.iter().copied());
        let (severity, zh_extra, en_extra) = if sequential {
            (
                c.sequential_severity,
                format!("，其中 {steps_n} 次参数顺序递进"),
                format!(", {steps_n} of them stepping sequentially"),
            )
        } else {
            (c.severity, String::new(), String::new())
        };
        let (zh, en) = (
            format!(
                "枚举遍历：{} 分钟内以 {distinct} 个不同参数值逐条查询{zh_extra}",
                c.window_minutes
            ),
            format!(
                "enumeration: {distinct} single-record lookups with distinct values in {} minutes{en_extra}",
                c.window_minutes
            ),
        );
        let at = st.enumeration.window.index;
        self.raise(
            st,
            RuleId::Enumeration,
            severity,
            bounds(at, w),
            evidence,
            distinct,
            zh,
            en,
        );
    }

    fn off_hours(&mut self, st: &mut ActorState) {
        let c = &self.rules.off_hours;
        if !c.enabled {
            return;
        }
        let (index, w) = window_of(self.t, c.window_minutes);
        let win = &mut st.off_hours;
        win.enter(index, w);
        win.count += 1;
        let cap = self.cap();
        win.evidence.push(self.r, cap);
        if win.fired || win.count < c.min_calls {
            return;
        }
        win.fired = true;
        let count = win.count;
        let evidence = self.refs(win.evidence.0.iter().copied());
        let local = self
            .t
            .saturating_add(i64::from(c.utc_offset_minutes) * MINUTE);
        let (y, m, d) = shuan_calendar::civil_from_days(local.div_euclid(DAY));
        let minute = local.rem_euclid(DAY) / MINUTE;
        let when = format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", minute / 60, minute % 60);
        let offset = format!(
            "{}{:02}:{:02}",
            if c.utc_offset_minutes < 0 { '-' } else { '+' },
            c.utc_offset_minutes.abs() / 60,
            c.utc_offset_minutes.abs() % 60
        );
        let (zh, en) = (
            format!("非工作时间访问：当地时间 {when} (UTC{offset}) 调用数据服务，本窗口共 {count} 次"),
            format!("off-hours access: a service call at {when} local time (UTC{offset}), {count} in this window"),
        );
        let at = st.off_hours.index;
        self.raise(
            st,
            RuleId::OffHours,
            c.severity,
            bounds(at, w),
            evidence,
            count,
            zh,
            en,
        );
    }

    fn after_denials(&mut self, st: &mut ActorState) {
        let c = &self.rules.after_denials;
        if !c.enabled {
            return;
        }
        match self.record.outcome {
            Outcome::Denied => {
                if st.denials.len() >= c.min_denials.max(1) {
                    st.denials.pop_front();
                }
                st.denials.push_back((self.t, self.r));
            }
            Outcome::Allowed if c.actions.contains(&self.record.action) => {
                let w = i64::from(c.window_minutes) * MINUTE;
                let from = self.t.saturating_sub(w);
                let counted: Vec<(i64, Ref)> = st
                    .denials
                    .iter()
                    .filter(|(dt, _)| *dt >= from && *dt <= self.t)
                    .copied()
                    .collect();
                if counted.len() < c.min_denials {
                    return;
                }
                let (index, w) = window_of(self.t, c.window_minutes);
                // The window's start (not its index, which depends on a tunable length),
                // stored +1 so that the default 0 never matches a real window.
                let mark = index.saturating_mul(w).saturating_add(1);
                if st.after_denials_fired == mark {
                    return;
                }
                st.after_denials_fired = mark;
                st.denials.clear();
                let start = counted.iter().map(|(dt, _)| *dt).min().unwrap_or(self.t);
                let n = counted.len();
                let cap = self.cap();
                let mut refs: Vec<Ref> = counted.iter().map(|(_, r)| *r).collect();
                refs.push(self.r);
                let skip = refs.len().saturating_sub(cap);
                let evidence = self.refs(refs.into_iter().skip(skip));
                let action = self.record.action.chars().take(64).collect::<String>();
                let (zh, en) = (
                    format!(
                        "拒绝后成功：{} 分钟内被拒绝 {n} 次后，{action} 获准",
                        c.window_minutes
                    ),
                    format!(
                        "allowed after denials: {action} allowed after {n} denials within {} minutes",
                        c.window_minutes
                    ),
                );
                self.raise(
                    st,
                    RuleId::AfterDenials,
                    c.severity,
                    (Timestamp(start), Timestamp(self.t.saturating_add(1))),
                    evidence,
                    n as u64 + 1,
                    zh,
                    en,
                );
            }
            _ => {}
        }
    }

    fn new_address(&mut self, st: &mut ActorState) {
        let c = &self.rules.new_address;
        if !c.enabled {
            return;
        }
        let Some(addr) = self
            .record
            .client
            .as_ref()
            .and_then(|cl| cl.address.as_deref())
            .filter(|a| !a.is_empty())
        else {
            return;
        };
        let a = &mut st.address;
        let first = *a.first_seen.get_or_insert(self.t);
        let first = first.min(self.t);
        a.first_seen = Some(first);
        if a.known.iter().any(|k| k == addr) {
            return;
        }
        let learning_until = first.saturating_add(i64::from(c.baseline_days) * DAY);
        let learn = a.known.len() < c.max_addresses;
        if self.t < learning_until {
            if learn {
                a.known.push(addr.to_string());
            }
            return;
        }
        // Learnt after alerting, so each new address alerts once (while there is room).
        if learn {
            a.known.push(addr.chars().take(256).collect());
        }
        let (index, w) = window_of(self.t, c.window_minutes);
        a.window.enter(index, w);
        a.window.count += 1;
        let cap = self.cap();
        a.window.evidence.push(self.r, cap);
        if a.window.fired {
            return;
        }
        a.window.fired = true;
        let evidence = self.refs(a.window.evidence.0.iter().copied());
        let shown: String = addr.chars().take(64).collect();
        let known = a.known.len() - usize::from(learn);
        let (zh, en) = (
            format!("新地址访问：来自从未使用过的地址 {shown}（基线期内已知 {known} 个地址）"),
            format!("new address: a record from {shown}, never seen for this caller before ({known} known)"),
        );
        let at = st.address.window.index;
        let count = st.address.window.count;
        self.raise(
            st,
            RuleId::NewAddress,
            c.severity,
            bounds(at, w),
            evidence,
            count,
            zh,
            en,
        );
    }

    fn vendor(&mut self, st: &mut ActorState, f: &Facts) {
        let c = &self.rules.vendor_bulk_export;
        if !c.enabled || self.record.outcome != Outcome::Allowed {
            return;
        }
        let vendor = self.record.actor.role.as_deref().is_some_and(|roles| {
            roles
                .split(',')
                .any(|r| c.roles.iter().any(|v| v == r.trim()))
        });
        if !vendor {
            return;
        }
        let (index, w) = window_of(self.t, c.window_minutes);
        let v = &mut st.vendor;
        if v.window.enter(index, w).is_some() {
            v.rows = 0;
            v.csv = 0;
        }
        v.rows = v.rows.saturating_add(f.rows);
        v.csv += u64::from(f.csv);
        v.window.count += 1;
        let cap = self.cap();
        v.window.evidence.push(self.r, cap);
        let by_rows = c.min_rows > 0 && v.rows >= c.min_rows;
        let by_csv = c.min_csv_calls > 0 && v.csv >= c.min_csv_calls;
        if v.window.fired || !(by_rows || by_csv) {
            return;
        }
        v.window.fired = true;
        let (rows, csv, calls) = (v.rows, v.csv, v.window.count);
        let evidence = self.refs(v.window.evidence.0.iter().copied());
        let (zh, en) = (
            format!(
                "供应商批量导出：供应商账号 {} 分钟内 {calls} 次调用共导出 {rows} 行，其中 CSV 提取 {csv} 次",
                c.window_minutes
            ),
            format!(
                "vendor bulk export: a vendor account took {rows} rows in {calls} calls ({csv} CSV extracts) within {} minutes",
                c.window_minutes
            ),
        );
        let at = st.vendor.window.index;
        self.raise(
            st,
            RuleId::VendorBulkExport,
            c.severity,
            bounds(at, w),
            evidence,
            calls,
            zh,
            en,
        );
    }

    fn outside(
        &mut self,
        st: &mut ActorState,
        f: &Facts,
        lookup: Option<&(dyn AgreementLookup + Send)>,
    ) {
        let c = &self.rules.outside_purpose;
        if !c.enabled {
            return;
        }
        let reason: Option<(String, String)> = match self.record.outcome {
            Outcome::Denied => f
                .code
                .filter(|code| c.denial_codes.iter().any(|d| d == code))
                .map(|code| {
                    let code: String = code.chars().take(64).collect();
                    (
                        format!("网关以 {code} 拒绝（协议不涵盖此次访问）"),
                        format!("the gateway refused it as {code} (not covered by the agreement)"),
                    )
                }),
            Outcome::Allowed => match (f.agreement, lookup) {
                (Some(id), Some(lookup)) => lookup.scope(id).and_then(|scope| {
                    let resource = f.resource.unwrap_or("");
                    if !scope.resources.iter().any(|r| r == resource) {
                        let shown: String = resource.chars().take(64).collect();
                        return Some((
                            format!("访问资源 {shown} 不在共享协议 {id} 的范围内"),
                            format!("resource {shown} is outside agreement {id}"),
                        ));
                    }
                    match (&scope.purpose, &self.record.purpose) {
                        (Some(want), Some(got)) if want.trim() != got.trim() => Some((
                            format!("声明用途与共享协议 {id} 的用途不符"),
                            format!("the stated purpose is not agreement {id}'s"),
                        )),
                        _ => None,
                    }
                }),
                _ => None,
            },
            Outcome::Error => None,
        };
        let Some((why_zh, why_en)) = reason else {
            return;
        };
        let (index, w) = window_of(self.t, c.window_minutes);
        let win = &mut st.outside;
        win.enter(index, w);
        win.count += 1;
        let cap = self.cap();
        win.evidence.push(self.r, cap);
        if win.fired || win.count < c.min_records {
            return;
        }
        win.fired = true;
        let count = win.count;
        let evidence = self.refs(win.evidence.0.iter().copied());
        let at = st.outside.index;
        self.raise(
            st,
            RuleId::OutsidePurpose,
            c.severity,
            bounds(at, w),
            evidence,
            count,
            format!("超范围使用：{why_zh}（本窗口 {count} 次）"),
            format!("outside the agreement: {why_en} ({count} in this window)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_steps_read_visible_digits() {
        assert!(steps("110***001", "110***002", 3));
        assert!(steps("110***02X", "110***037", 3));
        assert!(!steps("110***001", "120***002", 3));
        assert!(!steps("110***001", "110***009", 3));
        assert!(!steps("a**", "b**", 3));
        assert!(!steps("110***001", "110***001", 3));
    }

    #[test]
    fn weekdays_follow_the_calendar() {
        let mut w = Watcher::new(RuleSet::default());
        // 2026-12-04 is a Friday; 10:00 at +08:00 is 02:00 UTC.
        let fri = shuan_ledger::Timestamp::parse("2026-12-04T02:00:00Z").unwrap();
        let sat = shuan_ledger::Timestamp::parse("2026-12-05T02:00:00Z").unwrap();
        let fri_night = shuan_ledger::Timestamp::parse("2026-12-04T12:00:00Z").unwrap();
        assert!(w.working_time(fri.micros()));
        assert!(!w.working_time(sat.micros()));
        assert!(!w.working_time(fri_night.micros()));
    }
}
