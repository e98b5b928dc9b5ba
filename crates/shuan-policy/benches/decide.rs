//! Latency of `PolicyPoint::decide` for a realistic principal (3 grants over a tree of 50
//! departments), against a bare Rust role check of the same table for comparison.
//!
//! `cargo bench -p shuan-policy --bench decide` prints p50/p99 per kind of request (wall
//! clock: on a shared machine, the load average printed with them matters).
//! `PROFILE_CASE=<n>` instead runs case n 200 000 times, for `perf record`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use shuan_policy::*;

/// 1 city, 7 districts, 6 bureaus under each district (50 departments).
fn tree() -> DepartmentTree {
    let mut departments = vec![("110000".to_string(), None)];
    for d in 1..=7 {
        let district = format!("1101{d:02}");
        departments.push((district.clone(), Some("110000".to_string())));
        for b in 1..=6 {
            departments.push((format!("1101{d:02}{b:02}"), Some(district.clone())));
        }
    }
    assert_eq!(departments.len(), 50);
    DepartmentTree::new(departments)
}

fn principal(tree: &DepartmentTree) -> Principal {
    let grants = [
        // A district's data steward over the district and its bureaus.
        (
            Role::DataSteward,
            "110103",
            DataScope::OwnDepartmentAndBelow,
            false,
        ),
        // Catalogue everywhere.
        (Role::DataUser, "110103", DataScope::All, false),
        // An approved elevation: the chief data officer's role for one other bureau.
        (
            Role::ChiefDataOfficer,
            "11010501",
            DataScope::OwnDepartment,
            true,
        ),
    ];
    Principal {
        username: "zhang.san".into(),
        department: "110103".into(),
        vendor: false,
        grants: grants
            .into_iter()
            .map(|(role, department, scope, elevated)| {
                EffectiveGrant::expand(
                    &Grant {
                        role,
                        department: department.into(),
                        scope,
                    },
                    tree,
                    elevated,
                )
            })
            .collect(),
    }
}

/// The same table as the default policies, in Rust: what a hard-coded check would cost.
fn rust_allows(p: &Principal, action: Action, r: &Resource) -> bool {
    use Action::*;
    let actions = |role: Role| -> &'static [Action] {
        match role {
            Role::DataSteward => &[
                InventoryRead,
                CatalogueRead,
                ScanRun,
                MaskRun,
                JobRead,
                DepartmentRead,
            ],
            Role::DataUser => &[CatalogueRead, DepartmentRead],
            Role::ChiefDataOfficer => &[
                ElevationRead,
                ElevationDecide,
                InventoryRead,
                CatalogueRead,
                DepartmentRead,
                JobRead,
            ],
            _ => &[],
        }
    };
    p.grants.iter().any(|g| {
        actions(g.role).contains(&action)
            && match &r.department {
                Some(d) => {
                    g.departments.contains(d)
                        || (g.self_only && r.owner.as_deref() == Some(&p.username))
                }
                None => true,
            }
    })
}

fn resource(kind: &str, department: &str) -> Resource {
    Resource {
        kind: kind.into(),
        id: "42".into(),
        department: Some(department.into()),
        owner: Some("li.si".into()),
    }
}

struct Stats {
    p50: Duration,
    p99: Duration,
}

fn measure(rounds: usize, mut f: impl FnMut()) -> Stats {
    for _ in 0..rounds / 10 {
        f();
    }
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    samples.sort();
    Stats {
        p50: samples[samples.len() / 2],
        p99: samples[samples.len() * 99 / 100],
    }
}

fn main() {
    let tree = tree();
    let point = PolicyPoint::new(&[]).expect("default policies");
    let p = principal(&tree);
    let cases = [
        (
            "allowed: scan.run in the steward's district",
            Action::ScanRun,
            resource("source", "11010302"),
        ),
        (
            "allowed: catalogue.read, 50-department scope",
            Action::CatalogueRead,
            resource("catalogue", "11010705"),
        ),
        (
            "denied: scan.run outside the scope (2 passes)",
            Action::ScanRun,
            resource("source", "11010601"),
        ),
        (
            "denied: user.create, no role has it (2 passes)",
            Action::UserCreate,
            resource("user", "110103"),
        ),
        (
            "via elevation: elevation.decide (2 passes)",
            Action::ElevationDecide,
            resource("elevation", "11010501"),
        ),
    ];
    let rounds = 20_000;
    if let Ok(i) = std::env::var("PROFILE_CASE") {
        let (_, action, r) = &cases[i.parse::<usize>().expect("a case number")];
        let request = AccessRequest {
            principal: &p,
            action: *action,
            resource: r,
        };
        for _ in 0..200_000 {
            black_box(point.decide(black_box(&request)));
        }
        return;
    }
    println!(
        "decide(): principal with 3 grants (one elevated) over a tree of 50 departments; \
         {rounds} calls per line; load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    for (name, action, r) in &cases {
        let request = AccessRequest {
            principal: &p,
            action: *action,
            resource: r,
        };
        let d = point.decide(&request);
        assert_eq!(d.allowed, rust_allows(&p, *action, r), "{name}: {d:?}");
        let cedar = measure(rounds, || {
            black_box(point.decide(black_box(&request)));
        });
        let bare = measure(rounds, || {
            black_box(rust_allows(black_box(&p), black_box(*action), black_box(r)));
        });
        println!(
            "  {name:<48} decide p50 {:>6.1} µs p99 {:>6.1} µs | bare Rust check p50 {:>5.3} µs p99 {:>5.3} µs | p50 ratio {:>4.0}x",
            micros(cedar.p50),
            micros(cedar.p99),
            micros(bare.p50),
            micros(bare.p99),
            cedar.p50.as_secs_f64() / bare.p50.as_secs_f64().max(1e-9),
        );
    }
    // A principal not seen before: its entity is built (the cache keeps 1024).
    let fresh: Vec<Principal> = (0..rounds + rounds / 10)
        .map(|i| Principal {
            username: format!("user{i}"),
            ..p.clone()
        })
        .collect();
    let r = resource("catalogue", "11010705");
    let mut next = fresh.iter().cycle();
    let cold = measure(rounds, || {
        let who = next.next().expect("cycle");
        black_box(point.decide(&AccessRequest {
            principal: who,
            action: Action::CatalogueRead,
            resource: &r,
        }));
    });
    println!(
        "  {:<48} decide p50 {:>6.1} µs p99 {:>6.1} µs",
        "first request of a principal (catalogue.read)",
        micros(cold.p50),
        micros(cold.p99)
    );
    let build = measure(10, || {
        black_box(PolicyPoint::new(&[]).expect("default policies"));
    });
    println!(
        "PolicyPoint::new(&[]) p50 {:.1} ms",
        micros(build.p50) / 1000.0
    );
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
