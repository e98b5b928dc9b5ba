//! End-to-end tests of `shuan crypto`, `shuan keys` and `shuan backup`: the interop
//! contract with OpenSSL (digest, enc, keygen/sign/verify) and the keyring, envelope
//! and backup flows through the real binary.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn shuan(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shuan"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("SHUAN_KEK_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .expect("run shuan")
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "shuan failed ({:?}): {}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var_os("CI").is_some() {
        panic!("openssl is required in CI (scripts/install-test-deps.sh)");
    }
    ok
}

fn openssl(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn digest_and_enc_match_openssl() {
    if !have_openssl() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..100_003u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let f = d.path().join("in.bin");
    std::fs::write(&f, &data).unwrap();

    let ours = ok(shuan(
        &d.path().join("data"),
        &["crypto", "digest", "--alg", "sm3", s(&f)],
    ));
    let theirs = openssl(&["dgst", "-sm3", "-r", s(&f)]);
    let theirs = String::from_utf8(theirs.stdout).unwrap();
    assert_eq!(
        String::from_utf8(ours.stdout).unwrap().trim(),
        theirs.split_whitespace().next().unwrap()
    );

    let key = "0123456789abcdeffedcba9876543210";
    let iv = "f0f1f2f3f4f5f6f7f8f9fafbfcfdff00";
    for cipher in ["sm4-ctr", "sm4-cbc"] {
        let out = d.path().join(format!("{cipher}.shuan"));
        ok(shuan(
            &d.path().join("data"),
            &[
                "crypto",
                "enc",
                "--cipher",
                cipher,
                "-K",
                key,
                "--iv",
                iv,
                "--in",
                s(&f),
                "--out",
                s(&out),
            ],
        ));
        let theirs = openssl(&[
            "enc",
            &format!("-{cipher}"),
            "-K",
            key,
            "-iv",
            iv,
            "-in",
            s(&f),
        ]);
        assert!(theirs.status.success());
        assert!(
            std::fs::read(&out).unwrap() == theirs.stdout,
            "{cipher} output differs from OpenSSL"
        );
        let back = d.path().join(format!("{cipher}.back"));
        ok(shuan(
            &d.path().join("data"),
            &[
                "crypto",
                "enc",
                "--cipher",
                cipher,
                "-K",
                key,
                "--iv",
                iv,
                "-d",
                "--in",
                s(&out),
                "--out",
                s(&back),
            ],
        ));
        assert!(std::fs::read(&back).unwrap() == data);
    }
    // Wrong key on CBC: a padding error, not garbage output with exit 0.
    let out = d.path().join("sm4-cbc.shuan");
    let bad = shuan(
        &d.path().join("data"),
        &[
            "crypto",
            "enc",
            "--cipher",
            "sm4-cbc",
            "-K",
            "00000000000000000000000000000001",
            "--iv",
            iv,
            "-d",
            "--in",
            s(&out),
            "--out",
            s(&d.path().join("x")),
        ],
    );
    assert!(!bad.status.success());
    let bad = shuan(
        &d.path().join("data"),
        &[
            "crypto", "enc", "--cipher", "sm4-ctr", "-K", "zz", "--iv", iv,
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("32 hex digits"));
}

#[test]
fn sm2_sign_verify_both_directions_with_openssl() {
    if !have_openssl() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (key, pubk, msg, sig) = (
        d.path().join("k.pem"),
        d.path().join("p.pem"),
        d.path().join("m"),
        d.path().join("s.der"),
    );
    std::fs::write(&msg, b"shuan interop message\n").unwrap();
    ok(shuan(
        &d.path().join("data"),
        &["crypto", "keygen", "--out", s(&key), "--pub-out", s(&pubk)],
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(
        !shuan(
            &d.path().join("data"),
            &["crypto", "keygen", "--out", s(&key)]
        )
        .status
        .success(),
        "keys are not overwritten"
    );
    ok(shuan(
        &d.path().join("data"),
        &[
            "crypto",
            "sign",
            "--key",
            s(&key),
            s(&msg),
            "--out",
            s(&sig),
        ],
    ));
    let v = openssl(&[
        "dgst",
        "-sm3",
        "-verify",
        s(&pubk),
        "-sigopt",
        "distid:1234567812345678",
        "-signature",
        s(&sig),
        s(&msg),
    ]);
    assert!(
        v.status.success(),
        "OpenSSL rejects shuan's signature: {}",
        String::from_utf8_lossy(&v.stdout)
    );
    ok(shuan(
        &d.path().join("data"),
        &[
            "crypto",
            "verify",
            "--key",
            s(&pubk),
            s(&msg),
            "--sig",
            s(&sig),
        ],
    ));

    // OpenSSL signs; shuan verifies (exit 0), and rejects a changed file (exit 1).
    let okey = d.path().join("ok.pem");
    let opub = d.path().join("op.pem");
    let osig = d.path().join("os.der");
    assert!(openssl(&["genpkey", "-algorithm", "SM2", "-out", s(&okey)])
        .status
        .success());
    assert!(
        openssl(&["pkey", "-in", s(&okey), "-pubout", "-out", s(&opub)])
            .status
            .success()
    );
    assert!(openssl(&[
        "dgst",
        "-sm3",
        "-sign",
        s(&okey),
        "-sigopt",
        "distid:1234567812345678",
        "-out",
        s(&osig),
        s(&msg)
    ])
    .status
    .success());
    ok(shuan(
        &d.path().join("data"),
        &[
            "crypto",
            "verify",
            "--key",
            s(&opub),
            s(&msg),
            "--sig",
            s(&osig),
        ],
    ));
    std::fs::write(&msg, b"shuan interop message!\n").unwrap();
    let bad = shuan(
        &d.path().join("data"),
        &[
            "crypto",
            "verify",
            "--key",
            s(&opub),
            s(&msg),
            "--sig",
            s(&osig),
        ],
    );
    assert_eq!(
        bad.status.code(),
        Some(3),
        "a bad signature is 'checked and invalid'"
    );
}

#[test]
fn keyring_envelope_rotate_destroy() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    ok(shuan(&data, &["keys", "init"]));
    assert!(
        !shuan(&data, &["keys", "init"]).status.success(),
        "init refuses to overwrite"
    );
    let plain = d.path().join("p.csv");
    let content: Vec<u8> = b"id,name,phone\n1,zhang,13800000000\n".repeat(5000);
    std::fs::write(&plain, &content).unwrap();
    let enc1 = d.path().join("p.v1.enc");
    ok(shuan(
        &data,
        &["crypto", "encrypt", s(&plain), "--out", s(&enc1)],
    ));
    assert!(std::fs::read(&enc1).unwrap().starts_with(b"SHUANENC"));

    ok(shuan(&data, &["keys", "rotate"]));
    let enc2 = d.path().join("p.v2.enc");
    ok(shuan(
        &data,
        &["crypto", "encrypt", s(&plain), "--out", s(&enc2)],
    ));
    for enc in [&enc1, &enc2] {
        let out = d.path().join("out.csv");
        ok(shuan(
            &data,
            &["crypto", "decrypt", s(enc), "--out", s(&out), "--force"],
        ));
        assert!(
            std::fs::read(&out).unwrap() == content,
            "old and new versions decrypt"
        );
    }
    let list =
        String::from_utf8(ok(shuan(&data, &["keys", "list", "--format", "json"])).stdout).unwrap();
    assert!(list.contains("\"retired\"") && list.contains("\"active\""));

    // Tampered file: clear error, no output file.
    let mut bytes = std::fs::read(&enc2).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 4;
    let tampered = d.path().join("t.enc");
    std::fs::write(&tampered, &bytes).unwrap();
    let out = d.path().join("t.csv");
    let r = shuan(
        &data,
        &["crypto", "decrypt", s(&tampered), "--out", s(&out)],
    );
    assert!(!r.status.success());
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("tampered"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(!out.exists());
    let r = shuan(&data, &["crypto", "decrypt", s(&plain), "--out", s(&out)]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("not a shuan encrypted file"));

    // Crypto-shredding version 1: its file is unrecoverable, version 2 still works.
    assert!(
        !shuan(&data, &["keys", "destroy", "default", "--key-version", "1"])
            .status
            .success(),
        "needs --yes"
    );
    ok(shuan(
        &data,
        &["keys", "destroy", "default", "--key-version", "1", "--yes"],
    ));
    let r = shuan(&data, &["crypto", "decrypt", s(&enc1), "--out", s(&out)]);
    assert!(!r.status.success());
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("destroyed"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(!out.exists());
    ok(shuan(
        &data,
        &["crypto", "decrypt", s(&enc2), "--out", s(&out)],
    ));

    // Another keyring (another KEK and keys) cannot decrypt.
    let other = d.path().join("other");
    ok(shuan(&other, &["keys", "init"]));
    ok(shuan(&other, &["keys", "rotate"]));
    let r = shuan(
        &other,
        &[
            "crypto",
            "decrypt",
            s(&enc2),
            "--out",
            s(&d.path().join("o.csv")),
        ],
    );
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("wrong key"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
}

#[test]
fn passphrase_keyring_reads_env_not_arguments() {
    let d = tempfile::tempdir().unwrap();
    let run = |pass: Option<&str>, args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_shuan"));
        c.arg("--data-dir")
            .arg(d.path())
            .args(args)
            .stdin(Stdio::null())
            .env("SHUAN_ARGON2_M_KIB", "1024");
        match pass {
            Some(p) => c.env("SHUAN_KEK_PASSPHRASE", p),
            None => c.env_remove("SHUAN_KEK_PASSPHRASE"),
        };
        c.output().unwrap()
    };
    assert!(!run(None, &["keys", "init", "--passphrase"])
        .status
        .success());
    ok(run(
        Some("a long enough passphrase"),
        &["keys", "init", "--passphrase"],
    ));
    ok(run(Some("a long enough passphrase"), &["keys", "list"]));
    let r = run(Some("not the passphrase"), &["keys", "list"]);
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("integrity"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
}

#[test]
fn backup_create_verify_restore_and_log() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    ok(shuan(&data, &["keys", "init"]));
    std::fs::create_dir_all(data.join("ledger")).unwrap();
    std::fs::write(data.join("ledger/seg-1.log"), vec![7u8; 300_000]).unwrap();
    let out = d.path().join("backup.shuanbak");
    ok(shuan(
        &data,
        &["backup", "create", s(&data), "--out", s(&out)],
    ));
    assert!(d.path().join("backup.shuanbak.sig").exists());
    ok(shuan(&data, &["backup", "verify", s(&out)]));
    let target = d.path().join("restore");
    ok(shuan(&data, &["backup", "restore", s(&out), s(&target)]));
    assert_eq!(
        std::fs::read(target.join("ledger/seg-1.log")).unwrap(),
        vec![7u8; 300_000]
    );
    assert!(!target.join("keys/kek.key").exists());
    assert!(
        !shuan(&data, &["backup", "restore", s(&out), s(&target)])
            .status
            .success(),
        "non-empty target refused"
    );

    if have_openssl() {
        // The detached signature verifies with OpenSSL and the node's public key.
        let v = openssl(&[
            "dgst",
            "-sm3",
            "-verify",
            s(&data.join("keys/node-sm2.pub.pem")),
            "-sigopt",
            "distid:1234567812345678",
            "-signature",
            s(&d.path().join("backup.shuanbak.sig")),
            s(&out),
        ]);
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    }

    let mut bytes = std::fs::read(&out).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&out, &bytes).unwrap();
    assert!(!shuan(&data, &["backup", "verify", s(&out)])
        .status
        .success());
    let log =
        String::from_utf8(ok(shuan(&data, &["backup", "log", "--format", "json"])).stdout).unwrap();
    let actions: Vec<&str> = log
        .lines()
        .map(|l| {
            if l.contains("\"create\"") {
                "create"
            } else if l.contains("\"restore\"") {
                "restore"
            } else {
                "verify"
            }
        })
        .collect();
    assert_eq!(
        actions,
        ["create", "verify", "restore", "restore", "verify"]
    );
    assert!(log.lines().last().unwrap().contains("failed"));
}
