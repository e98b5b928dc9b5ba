//! Misuse detection (滥用检测, R-19) in the running server: one `shuan-watch` engine per
//! node, fed every record this node copies into the store (`mirror`), its alerts filed
//! in the store's alerts table (unique by key, so a replay or another node files nothing
//! twice) and handed to the delivery queue.
//!
//! The engine is fed only this node's records: each node watches its own callers, and a
//! caller spread over several nodes is seen per node. Alerts raised while the store is
//! away are kept (bounded) and filed on a later pass. At start the last
//! `new_address.baseline_days` of the node's ledger are replayed through the engine so
//! that baselines, learnt addresses and open windows are as before the restart; what the
//! replay raises again is already filed and is not filed twice.
//!
//! The rule set is the setting [`RULES_SETTING`] (the TOML text); a node notices another
//! node's change when it next reloads ([`Watch::reload`]).

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use shuan_ledger::reader::Entries;
use shuan_ledger::Record;
use shuan_store::platform::{AlertEvidence, PlatformStore, PlatformStoreError, StoredAlert};
use shuan_watch::{AgreementLookup, AgreementScope, Alert, RuleSet, Watcher};

/// The setting holding the rule set's TOML text (a JSON string); absent: the defaults.
pub const RULES_SETTING: &str = "alert_rules";

/// Alerts kept while the store cannot take them; past this the oldest are dropped (and
/// counted), since the engine's memory must stay bounded whatever the store does.
const MAX_PENDING: usize = 10_000;

/// How long a looked-up agreement is trusted before it is read again (a suspension or
/// change of scope shows within this).
const AGREEMENT_TTL: Duration = Duration::from_secs(60);

/// Agreements by id for `outside_purpose`, read from the store on first use and kept for
/// [`AGREEMENT_TTL`]. Called on the copy's blocking thread, so a store read is allowed.
struct StoreAgreements {
    store: Arc<dyn PlatformStore>,
    cache: Mutex<HashMap<i64, (Instant, Option<AgreementScope>)>>,
}

impl AgreementLookup for StoreAgreements {
    fn scope(&self, id: i64) -> Option<AgreementScope> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, scope)) = cache.get(&id) {
            if at.elapsed() < AGREEMENT_TTL {
                return scope.clone();
            }
        }
        let scope = match self.store.agreement(id) {
            Ok(a) => a.map(|a| AgreementScope {
                resources: vec![a.resource],
                purpose: Some(a.purpose),
            }),
            // Unknown is not judged; the next call asks again (nothing is cached).
            Err(e) => {
                tracing::warn!(error = %e, agreement = id, "agreement lookup for misuse detection failed");
                return None;
            }
        };
        if cache.len() >= 10_000 {
            cache.clear();
        }
        cache.insert(id, (Instant::now(), scope.clone()));
        scope
    }
}

struct State {
    watcher: Watcher,
    /// The TOML in force (`None`: the built-in defaults).
    toml: Option<String>,
    /// The highest sequence number of this node the engine has seen.
    upto: u64,
    /// Raised, not yet filed.
    pending: VecDeque<Alert>,
}

/// What filing the pending alerts did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Filed {
    /// New alerts filed.
    pub new: u64,
    /// Alerts whose key was filed already (a replay, another node).
    pub known: u64,
}

/// The node's misuse engine.
pub struct Watch {
    state: Mutex<State>,
    /// Where newly filed alerts go (syslog, webhook), each with the count of failed
    /// deliveries.
    deliveries: Vec<(tokio::sync::mpsc::Sender<Alert>, Arc<AtomicU64>)>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch").finish_non_exhaustive()
    }
}

/// The rule set a stored setting holds: its TOML text, or the defaults when absent.
pub fn stored_rules(
    store: &dyn PlatformStore,
) -> Result<(Option<String>, Result<RuleSet, shuan_watch::RuleSetError>), PlatformStoreError> {
    let toml = store
        .setting(RULES_SETTING)?
        .and_then(|v| v.as_str().map(str::to_string));
    let rules = match &toml {
        Some(t) => RuleSet::from_toml(t),
        None => Ok(RuleSet::default()),
    };
    Ok((toml, rules))
}

impl Watch {
    /// The engine with the stored rule set (the defaults if none is stored; a stored set
    /// that no longer parses is reported and the defaults are used, so that detection
    /// keeps running).
    pub fn open(store: Arc<dyn PlatformStore>) -> Result<Watch, String> {
        let (toml, rules) = stored_rules(&*store).map_err(|e| e.to_string())?;
        let rules = rules.unwrap_or_else(|e| {
            tracing::error!(error = %e, "the stored misuse rule set is refused; the built-in rules are used");
            RuleSet::default()
        });
        let lookup = StoreAgreements {
            store,
            cache: Mutex::new(HashMap::new()),
        };
        Ok(Watch {
            state: Mutex::new(State {
                watcher: Watcher::new(rules).with_lookup(Box::new(lookup)),
                toml,
                upto: 0,
                pending: VecDeque::new(),
            }),
            deliveries: Vec::new(),
        })
    }

    /// Hands every newly filed alert to `tx` (best effort: a full queue counts a failure).
    pub fn deliver_to(&mut self, tx: tokio::sync::mpsc::Sender<Alert>, failures: Arc<AtomicU64>) {
        self.deliveries.push((tx, failures));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The rule set in force and its TOML (`None`: the built-in defaults).
    pub fn rules(&self) -> (RuleSet, Option<String>) {
        let s = self.lock();
        (s.watcher.rules().clone(), s.toml.clone())
    }

    /// Puts a rule set in force (already validated and stored).
    pub fn set_rules(&self, rules: RuleSet, toml: Option<String>) {
        let mut s = self.lock();
        s.watcher.set_rules(rules);
        s.toml = toml;
    }

    /// Takes the stored rule set if another node changed it.
    pub fn reload(&self, store: &dyn PlatformStore) -> Result<(), PlatformStoreError> {
        let (toml, rules) = stored_rules(store)?;
        let mut s = self.lock();
        if s.toml != toml {
            match rules {
                Ok(r) => {
                    s.watcher.set_rules(r);
                    s.toml = toml;
                }
                Err(e) => {
                    tracing::error!(error = %e, "the stored misuse rule set is refused; the rules in force are kept");
                }
            }
        }
        Ok(())
    }

    /// Engine counters.
    pub fn stats(&self) -> shuan_watch::Stats {
        self.lock().watcher.stats()
    }

    /// Feeds records of this node (in sequence order) that the engine has not seen; the
    /// alerts they raise wait for [`Watch::file_pending`]. Answers how many were raised and
    /// how many pending alerts had to be dropped to stay bounded.
    pub fn observe(&self, node: &str, records: &[Record]) -> (u64, u64) {
        let mut s = self.lock();
        let State {
            watcher,
            upto,
            pending,
            ..
        } = &mut *s;
        let mut raised = 0;
        let mut dropped = 0;
        for r in records {
            if r.seq <= *upto {
                continue;
            }
            *upto = r.seq;
            watcher.observe_into(node, r, &mut |a| {
                raised += 1;
                if pending.len() >= MAX_PENDING {
                    pending.pop_front();
                    dropped += 1;
                }
                pending.push_back(a);
            });
        }
        (raised, dropped)
    }

    /// Files the pending alerts in the store, oldest first; stops at the first failure
    /// and keeps the rest for the next pass. New ones go to delivery.
    pub fn file_pending(&self, store: &dyn PlatformStore) -> Result<Filed, PlatformStoreError> {
        let mut filed = Filed::default();
        loop {
            // The lock is not held across the store call: the API's rule changes must
            // not wait for the database.
            let Some(alert) = self.lock().pending.pop_front() else {
                return Ok(filed);
            };
            match store.insert_alert(&to_stored(&alert)) {
                Ok(Some(_)) => {
                    filed.new += 1;
                    for (tx, failures) in &self.deliveries {
                        // Best effort: a full delivery queue drops the alert (it is filed).
                        if tx.try_send(alert.clone()).is_err() {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Ok(None) => filed.known += 1,
                Err(e) => {
                    self.lock().pending.push_front(alert);
                    return Err(e);
                }
            }
        }
    }

    /// Replays this node's ledger records of the last `new_address.baseline_days`
    /// (up to `upto`) through the engine, so that a restarted node has its baselines back.
    /// Blocking (reads the ledger); answers how many records were replayed.
    pub fn replay(
        &self,
        dir: &Path,
        node: &str,
        upto: u64,
        now_micros: i64,
    ) -> Result<u64, String> {
        let days = i64::from(self.lock().watcher.rules().new_address.baseline_days.max(1));
        let cutoff = now_micros.saturating_sub(days * 86_400_000_000);
        let start = first_seq_near(dir, cutoff)?;
        if start == 0 || start > upto {
            return Ok(0);
        }
        let entries = Entries::new(dir, start).map_err(|e| e.to_string())?;
        let mut batch = Vec::with_capacity(500);
        let mut n = 0;
        for e in entries {
            let e = e.map_err(|e| e.to_string())?;
            if e.seq > upto {
                break;
            }
            let Some(r) = Record::from_canonical(&e.body) else {
                return Err(format!("record {} is not a canonical record", e.seq));
            };
            if r.time.micros() < cutoff {
                continue;
            }
            batch.push(r);
            if batch.len() == 500 {
                n += batch.len() as u64;
                self.observe(node, &batch);
                batch.clear();
            }
        }
        n += batch.len() as u64;
        self.observe(node, &batch);
        // Records before the replay's start are never fed later either.
        let mut s = self.lock();
        s.upto = s.upto.max(upto);
        Ok(n)
    }
}

/// The first sequence number of the last segment that starts before `cutoff` (or the
/// first segment's): reading from there finds every record at or after `cutoff` while
/// reading at most one segment of older ones. 0 for an empty ledger.
fn first_seq_near(dir: &Path, cutoff: i64) -> Result<u64, String> {
    let segments = shuan_ledger::reader::segments(dir).map_err(|e| e.to_string())?;
    let mut start = segments.first().map_or(0, |s| s.first_seq);
    for seg in &segments {
        let mut entries = Entries::new(dir, seg.first_seq).map_err(|e| e.to_string())?;
        let Some(first) = entries.next() else { break };
        let first = first.map_err(|e| e.to_string())?;
        let time = Record::from_canonical(&first.body).map(|r| r.time.micros());
        match time {
            Some(t) if t < cutoff => start = seg.first_seq,
            _ => break,
        }
    }
    Ok(start)
}

/// An engine alert as the store files it (times in Unix seconds).
pub fn to_stored(a: &Alert) -> StoredAlert {
    let secs = |t: shuan_ledger::Timestamp| t.micros().div_euclid(1_000_000);
    StoredAlert {
        id: 0,
        key: a.key(),
        rule: a.rule.id().to_string(),
        label: a.rule_label.to_string(),
        severity: a.severity.id().to_string(),
        actor: a.actor.clone(),
        department: a.department.clone(),
        window_start: secs(a.window_start),
        window_end: secs(a.window_end),
        fired_at: secs(a.at),
        summary_zh: a.summary_zh.clone(),
        summary_en: a.summary_en.clone(),
        evidence: a
            .evidence
            .iter()
            .map(|e| AlertEvidence {
                node: e.node.clone(),
                seq: e.seq,
            })
            .collect(),
        evidence_count: i64::try_from(a.evidence_count).unwrap_or(i64::MAX),
        status: shuan_store::platform::AlertStatus::Open,
        handled_by: None,
        note: None,
        updated_at: secs(a.at),
    }
}

/// Where alerts go as RFC 5424 syslog lines: `udp://HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogTarget {
    /// Host name or address.
    pub host: String,
    /// UDP port.
    pub port: u16,
}

impl SyslogTarget {
    /// Reads `udp://HOST:PORT` (`udp://[::1]:514` for IPv6).
    pub fn parse(s: &str) -> Result<SyslogTarget, String> {
        let rest = s
            .strip_prefix("udp://")
            .ok_or_else(|| format!("{s:?}: write udp://HOST:PORT"))?;
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("{s:?}: the port is missing (udp://HOST:PORT)"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{s:?}: the port must be 1–65535"))?;
        if host.is_empty() || host.contains('/') {
            return Err(format!("{s:?}: the host is missing (udp://HOST:PORT)"));
        }
        Ok(SyslogTarget {
            host: host.to_string(),
            port,
        })
    }
}

/// Where alerts are posted as JSON (`shuan_watch::webhook_json`): an `https://` URL, or
/// `http://` to a loopback address only (an alert names callers and what they did; it is
/// not sent in clear over a network).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The URL posted to.
    pub url: String,
}

impl WebhookTarget {
    /// Reads and checks a webhook URL.
    pub fn parse(s: &str) -> Result<WebhookTarget, String> {
        let url = reqwest::Url::parse(s).map_err(|e| format!("{s:?}: not a URL ({e})"))?;
        let host = url
            .host()
            .ok_or_else(|| format!("{s:?}: the host is missing"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "{s:?}: credentials in the URL would be shown wherever the command line is; \
                 let the receiver check the source address or a TLS client instead"
            ));
        }
        let loopback = match host {
            url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
            url::Host::Ipv4(a) => a.is_loopback(),
            url::Host::Ipv6(a) => a.is_loopback(),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(format!(
                "{s:?}: alerts go to a webhook over https:// (http:// only to a loopback address)"
            ))
            }
            other => return Err(format!("{s:?}: scheme {other} is not http(s)")),
        }
        Ok(WebhookTarget { url: url.into() })
    }
}

/// Attempts per alert, and the waits between them.
const WEBHOOK_ATTEMPTS: [std::time::Duration; 3] = [
    std::time::Duration::ZERO,
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(5),
];

/// Starts the webhook sender on the running Tokio runtime: filed alerts are posted one at
/// a time, in filing order, each up to three times (after 0, 1 and 5 s) until the receiver
/// answers 2xx within 10 s; an alert still refused is counted in `failures` and logged
/// (the alert stays filed in the store, where the console shows it).
pub fn spawn_webhook(
    target: WebhookTarget,
    node: &str,
    failures: Arc<AtomicU64>,
) -> Result<tokio::sync::mpsc::Sender<Alert>, String> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| "alert webhook: no async runtime to send from".to_string())?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        // Never through a proxy from the environment: a loopback webhook would otherwise
        // leave the host in clear (HTTP_PROXY does not exempt loopback addresses).
        .no_proxy()
        .user_agent(format!("shuan/{} ({node})", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("alert webhook: {e}"))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Alert>(DELIVERY_QUEUE);
    runtime.spawn(async move {
        // Ends when the platform (the queue's sender) is dropped.
        while let Some(alert) = rx.recv().await {
            let body = shuan_watch::webhook_json(&alert);
            let mut delivered = false;
            for wait in WEBHOOK_ATTEMPTS {
                tokio::time::sleep(wait).await;
                match client.post(&target.url).json(&body).send().await {
                    Ok(r) if r.status().is_success() => {
                        delivered = true;
                        break;
                    }
                    Ok(r) => {
                        tracing::warn!(status = r.status().as_u16(), key = %alert.key(), "alert webhook refused the alert")
                    }
                    Err(e) => {
                        tracing::warn!(error = %e.without_url(), key = %alert.key(), "alert webhook unreachable")
                    }
                }
            }
            if !delivered {
                failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    Ok(tx)
}

/// Alerts waiting for delivery; past this, new ones are dropped and counted.
const DELIVERY_QUEUE: usize = 1024;

/// Starts the syslog sender: a thread of its own (blocking sends never hold an async
/// worker) taking filed alerts from the answered queue and sending each as one UDP
/// datagram. A failed send is counted in `failures`, never retried: syslog over UDP is
/// best effort, and the alert stays filed in the store.
pub fn spawn_syslog(
    target: SyslogTarget,
    hostname: &str,
    failures: Arc<AtomicU64>,
) -> tokio::sync::mpsc::Sender<Alert> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Alert>(DELIVERY_QUEUE);
    let opts = shuan_watch::SyslogOptions {
        hostname: hostname.to_string(),
        ..Default::default()
    };
    let spawned = std::thread::Builder::new()
        .name("shuan-alert-syslog".into())
        .spawn(move || {
            let socket = match std::net::UdpSocket::bind(if target.host.contains(':') {
                "[::]:0"
            } else {
                "0.0.0.0:0"
            }) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "alert syslog: no UDP socket; alerts are not sent");
                    while rx.blocking_recv().is_some() {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    return;
                }
            };
            // Ends when the platform (the queue's sender) is dropped.
            while let Some(alert) = rx.blocking_recv() {
                let line = shuan_watch::syslog_line(&alert, &opts);
                if let Err(e) = socket.send_to(line.as_bytes(), (target.host.as_str(), target.port))
                {
                    failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, "alert syslog send failed");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "alert syslog: the sender thread did not start");
    }
    tx
}
