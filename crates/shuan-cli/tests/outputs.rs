//! Outputs never destroy inputs or shuan's own records, appear whole or not at all, and
//! no temporary outlives a command — also when it is interrupted (issue #10, items 1, 4,
//! 6, 7). Each case here lost or leaked data before `shuan-output`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

mod support;
use support::{audit_records, temporaries};

fn shuan_cmd(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shuan"));
    c.arg("--data-dir")
        .arg(data_dir)
        .env_remove("SHUAN_KEK_PASSPHRASE")
        .env_remove("SHUAN_SM4_KEY")
        .stdin(Stdio::null());
    c
}

fn shuan(data_dir: &Path, args: &[&str]) -> Output {
    shuan_cmd(data_dir).args(args).output().expect("run shuan")
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "shuan failed: {}", text(&o));
    o
}

fn text(o: &Output) -> String {
    format!(
        "{:?}\n{}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Refused with exit 1 and a message naming why; `file` keeps `before`.
fn refused(o: Output, why: &str, file: &Path, before: &[u8]) {
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains(why), "expected '{why}' in: {}", text(&o));
    assert_eq!(
        std::fs::read(file).unwrap(),
        before,
        "{} changed",
        file.display()
    );
}

const PEOPLE: &str = "姓名,身份证号,手机号\n张三,11010519491231002X,13800138000\n";

#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_kept() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let same = d.path().join("same.txt");
    let content = "身份证号11010519491231002X\n".as_bytes();
    std::fs::write(&same, content).unwrap();

    let o = shuan(&data, &["redact", s(&same), "--out", s(&same)]);
    refused(o, "is the input", &same, content);
    // Even with --force, and through another spelling of the path.
    let other = d.path().join(".").join("same.txt");
    let o = shuan(&data, &["redact", s(&same), "--out", s(&other), "--force"]);
    refused(o, "is the input", &same, content);

    let csv = d.path().join("x.csv");
    std::fs::write(&csv, PEOPLE).unwrap();
    let o = shuan(&data, &["scan", s(&csv), "--out", s(&csv), "--no-progress"]);
    refused(o, "is the input", &csv, PEOPLE.as_bytes());

    let key = "0123456789abcdeffedcba9876543210";
    let o = shuan(
        &data,
        &[
            "crypto",
            "enc",
            "--cipher",
            "sm4-ctr",
            "-K",
            key,
            "--iv",
            key,
            "--in",
            s(&csv),
            "--out",
            s(&csv),
            "--force",
        ],
    );
    refused(o, "is the input", &csv, PEOPLE.as_bytes());

    let pem = d.path().join("k.pem");
    ok(shuan(&data, &["crypto", "keygen", "--out", s(&pem)]));
    let key_before = std::fs::read(&pem).unwrap();
    let o = shuan(
        &data,
        &[
            "crypto",
            "sign",
            "--key",
            s(&pem),
            "--out",
            s(&csv),
            s(&csv),
        ],
    );
    refused(o, "is the input", &csv, PEOPLE.as_bytes());
    let o = shuan(
        &data,
        &[
            "crypto",
            "sign",
            "--key",
            s(&pem),
            "--out",
            s(&pem),
            s(&csv),
        ],
    );
    refused(o, "is the input", &pem, &key_before);
}

#[test]
fn nothing_is_written_into_the_data_directory_and_nothing_replaced_without_force() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let csv = d.path().join("people.csv");
    std::fs::write(&csv, PEOPLE).unwrap();
    ok(shuan(&data, &["scan", s(&csv), "--save", "--no-progress"]));

    let inventory = data.join("inventory.db");
    let inv_before = std::fs::read(&inventory).unwrap();
    let o = shuan(
        &data,
        &["assets", "catalogue", "--out", s(&inventory), "--force"],
    );
    refused(o, "data directory", &inventory, &inv_before);

    let segment = std::fs::read_dir(data.join("audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("seg-"))
        .expect("a ledger segment");
    let seg_before = std::fs::read(&segment).unwrap();
    let o = shuan(&data, &["audit", "export", "--out", s(&segment), "--force"]);
    refused(o, "data directory", &segment, &seg_before);
    ok(shuan(&data, &["audit", "verify"]));

    // An unrelated existing file is not replaced without --force.
    let existing = d.path().join("existing.bin");
    std::fs::write(&existing, b"keep me").unwrap();
    ok(shuan(&data, &["keys", "init"]));
    let o = shuan(
        &data,
        &["crypto", "encrypt", s(&csv), "--out", s(&existing)],
    );
    refused(o, "--force", &existing, b"keep me");
    ok(shuan(
        &data,
        &[
            "crypto",
            "encrypt",
            s(&csv),
            "--out",
            s(&existing),
            "--force",
        ],
    ));
    assert!(std::fs::read(&existing).unwrap().starts_with(b"SHUANENC"));
    assert!(
        temporaries(d.path()).is_empty(),
        "{:?}",
        temporaries(d.path())
    );
}

#[test]
fn a_redaction_that_fails_midway_leaves_no_output_file() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let input = d.path().join("in.txt");
    // Valid text for more than one chunk, then invalid UTF-8.
    let mut bytes = "电话13800138000，一切正常。\n".repeat(200_000).into_bytes();
    bytes.extend_from_slice(b"\xff\xfe bad\n");
    std::fs::write(&input, &bytes).unwrap();
    let out = d.path().join("out.txt");
    let o = shuan(&data, &["redact", s(&input), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        !out.exists(),
        "a partial output looks complete: it must not appear"
    );
    assert!(
        temporaries(d.path()).is_empty(),
        "{:?}",
        temporaries(d.path())
    );
}

#[test]
fn detect_into_a_closed_pipe_stops_quietly() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.txt");
    std::fs::write(&input, "电话13800138000\n".repeat(100_000)).unwrap();
    let mut child = shuan_cmd(&d.path().join("data"))
        .args(["detect", s(&input)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe, as `| head -1` does.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("Broken pipe"), "{}", text(&o));
}

#[test]
fn the_catalogue_csv_opens_in_excel_on_chinese_windows() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    ok(shuan(&data, &["demo", "--no-progress", "--no-serve"]));
    let out = d.path().join("目录.csv");
    ok(shuan(
        &data,
        &["assets", "catalogue", "--format", "csv", "--out", s(&out)],
    ));
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM first");
    assert!(String::from_utf8(bytes).unwrap().contains("数据源"));
}

#[test]
fn refused_key_operations_are_recorded_with_the_os_account() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let csv = d.path().join("people.csv");
    std::fs::write(&csv, PEOPLE).unwrap();
    let o = shuan_cmd(&data)
        .args(["keys", "init", "--passphrase"])
        .env("SHUAN_KEK_PASSPHRASE", "correct horse battery staple")
        .output()
        .unwrap();
    ok(o);
    let o = shuan_cmd(&data)
        .args([
            "crypto",
            "encrypt",
            s(&csv),
            "--out",
            s(&d.path().join("x.enc")),
        ])
        .env("SHUAN_KEK_PASSPHRASE", "a wrong passphrase entirely")
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!d.path().join("x.enc").exists());
    let recs = audit_records(&data);
    let last = recs.last().unwrap();
    assert_eq!(last["action"], "encrypt", "{last}");
    assert_eq!(last["outcome"], "error", "{last}");
    let uid = rustix_uid();
    assert_eq!(last["details"]["os_account"]["uid"], uid, "{last}");
    assert_ne!(last["actor"]["id"], "unknown", "{last}");
}

fn rustix_uid() -> u64 {
    // The test runs as the same user as the command it starts.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn the_redact_help_example_is_what_redact_prints() {
    let d = tempfile::tempdir().unwrap();
    let help = ok(shuan(&d.path().join("data"), &["redact", "--help"]));
    let help = String::from_utf8(help.stdout).unwrap();
    let lines: Vec<&str> = help.lines().map(str::trim).collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("echo '") && l.ends_with("| shuan redact"))
        .expect("an echo example in redact --help");
    let input = lines[at]
        .strip_prefix("echo '")
        .and_then(|l| l.split_once("' |"))
        .unwrap()
        .0;
    let expected = lines[at + 1]
        .strip_prefix("# → ")
        .expect("its result below it");
    let mut child = shuan_cmd(&d.path().join("data"))
        .arg("redact")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        format!("{input}\n").as_bytes(),
    )
    .unwrap();
    let o = ok(child.wait_with_output().unwrap());
    assert_eq!(String::from_utf8(o.stdout).unwrap().trim_end(), expected);
}

#[test]
fn an_os_error_is_named_once() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    // A directory where the keyring file should be: the OS says "Is a directory".
    std::fs::create_dir_all(data.join("keys").join("keyring.json")).unwrap();
    let o = shuan(&data, &["keys", "list"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(err.matches("os error 21").count(), 1, "{err}");
}

#[test]
fn the_raw_sm4_key_can_stay_off_the_command_line() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let input = d.path().join("in.bin");
    std::fs::write(&input, b"same bytes whichever way the key is given").unwrap();
    let key = "0123456789abcdeffedcba9876543210";
    let key_file = d.path().join("sm4.key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let enc = |extra: &[&str], env: Option<&str>, out: &Path| {
        let mut c = shuan_cmd(&data);
        c.args([
            "crypto",
            "enc",
            "--cipher",
            "sm4-ctr",
            "--iv",
            key,
            "--in",
            s(&input),
        ])
        .args(extra)
        .args(["--out", s(out)]);
        if let Some(k) = env {
            c.env("SHUAN_SM4_KEY", k);
        }
        ok(c.output().unwrap());
        std::fs::read(out).unwrap()
    };
    let on_line = enc(&["-K", key], None, &d.path().join("a"));
    let from_file = enc(&["--key-file", s(&key_file)], None, &d.path().join("b"));
    let from_env = enc(&[], Some(key), &d.path().join("c"));
    assert_eq!(on_line, from_file);
    assert_eq!(on_line, from_env);
    // The plaintext output of a decryption is owner-only.
    let dec = d.path().join("plain");
    let o = shuan_cmd(&data)
        .args(["crypto", "enc", "--cipher", "sm4-ctr", "-d", "--iv", key])
        .args([
            "--key-file",
            s(&key_file),
            "--in",
            s(&d.path().join("a")),
            "--out",
            s(&dec),
        ])
        .output()
        .unwrap();
    ok(o);
    assert_eq!(
        std::fs::read(&dec).unwrap(),
        b"same bytes whichever way the key is given"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dec).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
