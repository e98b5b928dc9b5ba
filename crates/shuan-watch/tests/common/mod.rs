//! Audit streams shaped like the gateway's records (crates/shuan-server/src/routes/gateway.rs
//! `call_service`): action `service.call`, object `service:NAME`, details with the
//! service, agreement, resource, masked params, format, rows, latency and, on refusal,
//! code and reason.
#![allow(dead_code)]

use serde_json::{json, Map, Value};
use shuan_ledger::{Actor, ActorKind, Client, Outcome, Record, Timestamp};

pub const MINUTE: i64 = 60_000_000;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// 2026-11-30 (a Monday) 10:00 at +08:00.
pub fn monday_10am() -> i64 {
    Timestamp::parse("2026-11-30T10:00:00+08:00")
        .unwrap()
        .micros()
}

pub fn user(id: &str, dept: &str, role: &str) -> Actor {
    Actor {
        kind: ActorKind::User,
        id: id.into(),
        department: Some(dept.into()),
        role: Some(role.into()),
    }
}

/// One gateway call as `call_service` records it.
#[derive(Clone)]
pub struct Call {
    pub service: String,
    pub agreement: Option<i64>,
    pub resource: String,
    pub params: Vec<(String, String)>,
    pub csv: bool,
    pub rows: u64,
    pub outcome: Outcome,
    pub code: Option<String>,
    pub purpose: Option<String>,
}

impl Call {
    pub fn lookup(id_no: &str) -> Call {
        Call {
            service: "hukou_lookup".into(),
            agreement: Some(7),
            resource: "R-001".into(),
            params: vec![("id".into(), id_no.into())],
            csv: false,
            rows: 1,
            outcome: Outcome::Allowed,
            code: None,
            purpose: None,
        }
    }

    pub fn rows(mut self, n: u64) -> Call {
        self.rows = n;
        self
    }

    pub fn csv(mut self) -> Call {
        self.csv = true;
        self
    }

    pub fn denied(mut self, code: &str) -> Call {
        self.outcome = Outcome::Denied;
        self.code = Some(code.into());
        self.rows = 0;
        self
    }
}

#[derive(Default)]
pub struct Stream {
    pub records: Vec<Record>,
}

impl Stream {
    fn push(&mut self, mut r: Record) -> u64 {
        r.seq = self.records.len() as u64 + 1;
        let seq = r.seq;
        self.records.push(r);
        seq
    }

    /// A gateway call at `t` from `address`; answers its seq.
    pub fn call(&mut self, t: i64, actor: &Actor, address: &str, c: &Call) -> u64 {
        let mut details = Map::new();
        details.insert("service".into(), json!(c.service));
        details.insert("agreement".into(), json!(c.agreement));
        details.insert("resource".into(), json!(c.resource));
        let masked: Vec<Value> = c
            .params
            .iter()
            .map(|(k, v)| json!([k, shuan_share::service::mask_value(v)]))
            .collect();
        details.insert("params".into(), Value::Array(masked));
        details.insert("format".into(), json!(if c.csv { "csv" } else { "json" }));
        details.insert("rows".into(), json!(c.rows));
        if let Some(code) = &c.code {
            details.insert("code".into(), json!(code));
            details.insert("reason".into(), json!("拒绝 (refused)"));
        }
        details.insert("latency_us".into(), json!(1200));
        self.push(Record {
            seq: 0,
            time: Timestamp(t),
            actor: actor.clone(),
            action: "service.call".into(),
            object: format!("service:{}", c.service),
            purpose: c.purpose.clone(),
            outcome: c.outcome,
            client: Some(Client {
                address: Some(address.into()),
                agent: Some("curl/8".into()),
            }),
            request_id: Some(format!("r-{}", self.records.len() + 1)),
            details,
        })
    }

    /// Any other audited action (sign-in, a policy denial …).
    pub fn other(
        &mut self,
        t: i64,
        actor: &Actor,
        address: &str,
        action: &str,
        outcome: Outcome,
    ) -> u64 {
        let mut details = Map::new();
        if outcome == Outcome::Denied {
            details.insert("reason".into(), json!("invalid_credentials"));
        }
        self.push(Record {
            seq: 0,
            time: Timestamp(t),
            actor: actor.clone(),
            action: action.into(),
            object: "session".into(),
            purpose: None,
            outcome,
            client: Some(Client {
                address: Some(address.into()),
                agent: None,
            }),
            request_id: None,
            details,
        })
    }

    pub fn sort_by_time(&mut self) {
        self.records.sort_by_key(|r| (r.time, r.seq));
    }
}

/// A GB 11643 identity number (公民身份号码) from its 17-digit body: the real check digit,
/// so masked values look like the gateway's.
pub fn id_number(body: u64) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let b = format!("{body:017}");
    let sum: u32 = b.bytes().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
    format!("{b}{}", C[(sum % 11) as usize] as char)
}

/// A deterministic pseudo-random generator (xorshift) for realistic but repeatable streams.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A random identity number of a Beijing district born in the 1950s–1990s.
    pub fn id_no(&mut self) -> String {
        let district = 110101 + self.below(15);
        let birth = 19500101 + self.below(45) * 10000 + self.below(12) * 100 + self.below(28);
        let serial = self.below(1000);
        id_number(district * 100_000_000_000 + birth * 1000 + serial)
    }
}
