//! Latency of `PolicyPoint::decide` for a realistic principal (3 grants over a city tree
//! of 50 named departments padded to 20,000, `BENCH_DEPARTMENTS` to change), against a
//! bare Rust role check of the same table for comparison. Data scopes are not expanded
//! over the tree, so its size should not show.
//!
//! `cargo bench -p shuan-policy --bench decide` prints p50/p99 per kind of request (wall
//! clock: on a shared machine, the load average printed with them matters).
//! `PROFILE_CASE=<n>` instead runs case n 200 000 times, for `perf record`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use shuan_policy::*;

/// 1 city, 7 districts, 6 bureaus under each district (50 departments), then offices
/// under the bureaus until the tree holds `size` departments.
fn tree(size: usize) -> DepartmentTree {
    let mut departments = vec![("110000".to_string(), None)];
    for d in 1..=7 {
        let district = format!("1101{d:02}");
        departments.push((district.clone(), Some("110000".to_string())));
        for b in 1..=6 {
            departments.push((format!("1101{d:02}{b:02}"), Some(district.clone())));
        }
    }
    assert_eq!(departments.len(), 50);
    let bureaus: Vec<String> = departments[1..]
        .iter()
        .filter(|(code, _)| code.len() == 8)
        .map(|(code, _)| code.clone())
        .collect();
    let mut n = 0;
    while departments.len() < size {
        let bureau = &bureaus[n % bureaus.len()];
        departments.push((format!("{bureau}-{n}"), Some(bureau.clone())));
        n += 1;
    }
    DepartmentTree::new(departments)
}

fn principal() -> Principal {
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
                EffectiveGrant::new(
                    &Grant {
                        role,
                        department: department.into(),
                        scope,
                    },
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
                    g.reaches(d, &r.ancestors)
                        || (g.self_only && r.owner.as_deref() == Some(&p.username))
                }
                None => true,
            }
    })
}

fn resource(tree: &DepartmentTree, kind: &str, department: &str) -> Resource {
    Resource {
        kind: kind.into(),
        id: "42".into(),
        department: Some(department.into()),
        owner: Some("li.si".into()),
        ancestors: tree.ancestors(department),
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
    let size: usize = std::env::var("BENCH_DEPARTMENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000)
        .max(50);
    let tree = tree(size);
    let point = PolicyPoint::new(&[]).expect("default policies");
    let p = principal();
    let cases = [
        (
            "allowed: scan.run in the steward's district",
            Action::ScanRun,
            resource(&tree, "source", "11010302"),
        ),
        (
            "allowed: catalogue.read, the all scope",
            Action::CatalogueRead,
            resource(&tree, "catalogue", "11010705"),
        ),
        (
            "denied: scan.run outside the scope (2 passes)",
            Action::ScanRun,
            resource(&tree, "source", "11010601"),
        ),
        (
            "denied: user.create, no role has it (2 passes)",
            Action::UserCreate,
            resource(&tree, "user", "110103"),
        ),
        (
            "via elevation: elevation.decide (2 passes)",
            Action::ElevationDecide,
            resource(&tree, "elevation", "11010501"),
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
        "decide(): principal with 3 grants (one elevated) over a tree of {} departments; \
         {rounds} calls per line; load average {}",
        tree.departments().len(),
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
    let r = resource(&tree, "catalogue", "11010705");
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
