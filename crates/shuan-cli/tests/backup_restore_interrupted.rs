//! `shuan backup restore` killed (SIGKILL) at points spread over its run (issue 10 item
//! 4): before, it left a plaintext tar of the whole backup and a truncated file under
//! its real name. Now every file under a real name is complete, no copy of the archive's
//! plaintext exists, and anything left over is a `.shuan-tmp-` temporary that the crash
//! sweep removes. A restore run again afterwards completes.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::files_under;

fn command(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shuan"));
    c.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("SHUAN_LOG")
        .env_remove("SHUAN_KEK_PASSPHRASE")
        .env("USER", "chen.qi")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

const MARKER: &[u8] = b"RESTORE-PLAINTEXT-";

#[test]
fn a_killed_restore_leaves_only_complete_files_and_marked_temporaries() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("deep/er")).unwrap();
    // ~24 MB in files of different sizes, so that kills land inside files.
    let mut names = Vec::new();
    for i in 0..12 {
        let name = match i % 3 {
            0 => format!("f{i}.bin"),
            1 => format!("deep/f{i}.bin"),
            _ => format!("deep/er/f{i}.bin"),
        };
        let body: Vec<u8> = [MARKER, format!("{i:04} ").as_bytes()]
            .concat()
            .into_iter()
            .cycle()
            .take(400_000 * (i + 1) / 2 + 1000 * i)
            .collect();
        std::fs::write(src.join(&name), body).unwrap();
        names.push(name);
    }
    ok(command(&data, &["keys", "init"]).output().unwrap());
    let archive = tmp.path().join("b.shuanbak");
    ok(command(
        &data,
        &[
            "backup",
            "create",
            src.to_str().unwrap(),
            "--out",
            archive.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap());

    // How long an uninterrupted restore takes here, to spread the kills over it.
    let started = Instant::now();
    let probe = tmp.path().join("probe");
    ok(command(
        &data,
        &[
            "backup",
            "restore",
            archive.to_str().unwrap(),
            probe.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap());
    let full = started.elapsed();

    let mut interrupted = 0;
    for k in 0..10u32 {
        let target = tmp.path().join(format!("restored-{k}"));
        let mut child = command(
            &data,
            &[
                "backup",
                "restore",
                archive.to_str().unwrap(),
                target.to_str().unwrap(),
            ],
        )
        .spawn()
        .unwrap();
        std::thread::sleep(full * k / 10 + Duration::from_millis(5));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if !status.success() {
            interrupted += 1;
        }
        for f in files_under(&target) {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with(".shuan-tmp-") {
                continue;
            }
            let rel = f.strip_prefix(&target).unwrap();
            assert!(
                names.iter().any(|n| Path::new(n) == rel),
                "kill {k}: unexpected file {rel:?} (a plaintext copy of the archive?)"
            );
            assert!(
                std::fs::read(&f).unwrap() == std::fs::read(src.join(rel)).unwrap(),
                "kill {k}: {rel:?} is under its real name but incomplete"
            );
        }
        // Nothing outside the targets holds plaintext either (the archive is encrypted).
        for f in files_under(tmp.path()) {
            let top = f
                .strip_prefix(tmp.path())
                .unwrap()
                .components()
                .next()
                .unwrap();
            let top = top.as_os_str().to_string_lossy();
            if f.starts_with(&src) || f.starts_with(&probe) || top.starts_with("restored-") {
                continue;
            }
            if f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".shuan-tmp-")
            {
                continue;
            }
            let body = std::fs::read(&f).unwrap();
            assert!(
                !body.windows(MARKER.len()).any(|w| w == MARKER),
                "kill {k}: plaintext in {f:?}"
            );
        }
        // After the crash sweep's job (removing .shuan-tmp- files), a forced restore
        // into the same directory completes.
        for f in files_under(&target) {
            if f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".shuan-tmp-")
            {
                std::fs::remove_file(f).unwrap();
            }
        }
        ok(command(
            &data,
            &[
                "backup",
                "restore",
                archive.to_str().unwrap(),
                target.to_str().unwrap(),
                "--force",
            ],
        )
        .output()
        .unwrap());
        for n in &names {
            assert!(
                std::fs::read(target.join(n)).unwrap() == std::fs::read(src.join(n)).unwrap(),
                "kill {k}: {n} after the second restore"
            );
        }
    }
    assert!(
        interrupted >= 3,
        "only {interrupted} of 10 runs were interrupted"
    );
    ok(command(&data, &["audit", "verify"]).output().unwrap());
}
