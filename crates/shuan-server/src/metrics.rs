//! Counters for `GET /metrics` in the Prometheus text format. Hand-written: a handful of
//! atomics and one map of request counts by route and status is all the platform needs,
//! and it keeps a metrics framework out of the request path.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds (seconds) of the request-duration histogram.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    /// Records appended to the ledger.
    pub audit_records: AtomicU64,
    /// Appends that failed (each refused a request).
    pub audit_failures: AtomicU64,
    /// Requests the policy denied.
    pub denials: AtomicU64,
    /// Successful sign-ins.
    pub logins: AtomicU64,
    /// Failed sign-ins.
    pub login_failures: AtomicU64,
    /// Misuse alerts the engine raised (replays included).
    pub alerts_raised: AtomicU64,
    /// Misuse alerts newly filed in the store.
    pub alerts_filed: AtomicU64,
    /// Raised alerts dropped unfiled because the store stayed away too long.
    pub alerts_dropped: AtomicU64,
    /// Alert deliveries (webhook, syslog) that failed or found the queue full.
    pub alert_delivery_failures: std::sync::Arc<AtomicU64>,
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    durations: [AtomicU64; BUCKETS.len() + 1],
    duration_sum_micros: AtomicU64,
}

impl Metrics {
    /// Counts one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let bucket = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        self.durations[bucket].fetch_add(1, Ordering::Relaxed);
        self.duration_sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// The Prometheus exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
        };
        counter(
            &mut out,
            "shuan_audit_records_total",
            "Audit records appended by this node.",
            &self.audit_records,
        );
        counter(
            &mut out,
            "shuan_audit_failures_total",
            "Ledger appends that failed; each refused its request.",
            &self.audit_failures,
        );
        counter(
            &mut out,
            "shuan_policy_denials_total",
            "Requests denied by the policy.",
            &self.denials,
        );
        counter(
            &mut out,
            "shuan_logins_total",
            "Successful sign-ins.",
            &self.logins,
        );
        counter(
            &mut out,
            "shuan_login_failures_total",
            "Failed sign-ins.",
            &self.login_failures,
        );
        counter(
            &mut out,
            "shuan_alerts_raised_total",
            "Misuse alerts raised by this node's engine (replays included).",
            &self.alerts_raised,
        );
        counter(
            &mut out,
            "shuan_alerts_filed_total",
            "Misuse alerts newly filed in the store by this node.",
            &self.alerts_filed,
        );
        counter(
            &mut out,
            "shuan_alerts_dropped_total",
            "Raised misuse alerts dropped unfiled (the store was away too long).",
            &self.alerts_dropped,
        );
        counter(
            &mut out,
            "shuan_alert_delivery_failures_total",
            "Alert deliveries (webhook, syslog) that failed or found the queue full.",
            &self.alert_delivery_failures,
        );
        let _ = writeln!(
            out,
            "# HELP shuan_http_requests_total HTTP requests by method, route and status.\n# TYPE shuan_http_requests_total counter"
        );
        for ((method, route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "shuan_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                route.replace('\\', "\\\\").replace('"', "\\\"")
            );
        }
        let _ = writeln!(
            out,
            "# HELP shuan_http_request_duration_seconds Time to answer a request.\n# TYPE shuan_http_request_duration_seconds histogram"
        );
        let mut cumulative = 0;
        for (i, b) in BUCKETS.iter().enumerate() {
            cumulative += self.durations[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "shuan_http_request_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}"
            );
        }
        cumulative += self.durations[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "shuan_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(
            out,
            "shuan_http_request_duration_seconds_sum {}",
            self.duration_sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "shuan_http_request_duration_seconds_count {cumulative}"
        );
        out
    }
}
