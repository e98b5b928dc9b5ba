//! 32 `shuan keys create` / `rotate` processes at once into one data directory (issue 10
//! item 3): before the keyring lock, every process saved the keyring it had read, so
//! changes acknowledged with exit 0 and an `allowed` audit record were lost.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

mod support;
use support::files_under;

fn command(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shuan"));
    c.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("SHUAN_LOG")
        .env_remove("SHUAN_KEK_PASSPHRASE")
        .env("USER", "wang.wu")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", text(&o));
    o
}

fn run(data: &Path, args: &[&str]) -> Output {
    command(data, args).output().expect("run shuan")
}

#[test]
fn parallel_key_creations_and_rotations_keep_every_acknowledged_change() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ok(run(&data, &["keys", "init"]));
    ok(run(&data, &["keys", "create", "shared"]));

    // 16 creations of distinct keys, 12 rotations of the default key, 4 of `shared`,
    // interleaved so that creations and rotations overlap.
    let mut jobs: Vec<(Vec<String>, Child)> = Vec::new();
    let mut created = 0;
    let mut rotated_default = 0;
    for i in 0..32 {
        let args: Vec<String> = match i % 8 {
            0 | 2 | 4 | 6 => {
                created += 1;
                vec!["keys".into(), "create".into(), format!("asset-{i}")]
            }
            1 | 3 | 5 => {
                rotated_default += 1;
                vec!["keys".into(), "rotate".into()]
            }
            _ => vec!["keys".into(), "rotate".into(), "shared".into()],
        };
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let child = command(&data, &argv).spawn().expect("spawn shuan");
        jobs.push((args, child));
    }
    assert_eq!((created, rotated_default), (16, 12));

    let mut acknowledged: Vec<Vec<String>> = Vec::new();
    for (args, child) in jobs {
        let out = child.wait_with_output().unwrap();
        // A lock timeout would be a clear failure, but none is expected within 30 s.
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        acknowledged.push(args);
    }

    let listed = ok(run(&data, &["keys", "list", "--format", "json"]));
    let keys: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    let mut versions: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for k in &keys {
        versions
            .entry(k["id"].as_str().unwrap().to_string())
            .or_default()
            .push(k["version"].as_u64().unwrap());
    }
    for args in &acknowledged {
        if args[1] == "create" {
            assert_eq!(versions.get(&args[2]), Some(&vec![1]), "{args:?} was lost");
        }
    }
    let rotations = |id: &str| {
        acknowledged
            .iter()
            .filter(|a| a[1] == "rotate" && a.get(2).map_or("default", String::as_str) == id)
            .count() as u64
    };
    assert_eq!(
        versions["default"],
        (1..=1 + rotations("default")).collect::<Vec<_>>(),
        "every acknowledged rotation of the default key made exactly one version"
    );
    assert_eq!(
        versions["shared"],
        (1..=1 + rotations("shared")).collect::<Vec<_>>()
    );
    assert_eq!(versions.len(), 2 + 16);
    for id in ["default", "shared"] {
        let active: Vec<_> = keys
            .iter()
            .filter(|k| k["id"] == id && k["state"] == "active")
            .collect();
        assert_eq!(active.len(), 1, "one active version of {id}");
    }

    // The ledger holds one `allowed` record per acknowledged change and verifies.
    let query = ok(run(&data, &["audit", "query", "--format", "json"]));
    let records: Vec<serde_json::Value> = serde_json::from_slice(&query.stdout).unwrap();
    let allowed = |action: &str| {
        records
            .iter()
            .filter(|r| r["action"] == action && r["outcome"] == "allowed")
            .count()
    };
    assert_eq!(allowed("key_create"), 16 + 1);
    assert_eq!(allowed("key_rotate"), 16);
    ok(run(&data, &["audit", "verify"]));

    let leftovers: Vec<_> = files_under(&data)
        .into_iter()
        .filter(|f| {
            let name = f.file_name().unwrap().to_string_lossy();
            name.starts_with(".shuan-tmp-") || name.contains(".tmp") || name.ends_with(".new")
        })
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporaries left behind: {leftovers:?}"
    );
}
