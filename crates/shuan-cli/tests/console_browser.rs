//! The web console (管理控制台) in a real browser: `scripts/console_test.py` (Playwright for
//! Python driving Debian's Chromium, never a downloaded browser) against this build's
//! `shuan init` + `shuan serve` — first sign-in with TOTP, each role's pages and menu, a
//! denied page, CSRF and Origin refusals, a session timing out, jobs with progress, the
//! layout at 1366×768 and on a tablet. Part of `cargo test --workspace` when
//! `SHUAN_TEST_BROWSER` names the browser (`. scripts/ensure-services.sh` sets it; `bash
//! scripts/install-test-deps.sh` installs Chromium, the CJK fonts and Playwright); then a
//! missing browser or Playwright fails the test, never skips it.

use std::path::PathBuf;
use std::process::Command;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

#[test]
#[cfg_attr(
    not(shuan_test_browser),
    ignore = "needs SHUAN_TEST_BROWSER=/usr/bin/chromium (bash scripts/install-test-deps.sh; . scripts/ensure-services.sh)"
)]
fn console_in_a_real_browser() {
    let browser = std::env::var("SHUAN_TEST_BROWSER")
        .ok()
        .filter(|b| !b.is_empty())
        .or_else(|| option_env!("SHUAN_TEST_BROWSER").map(str::to_string))
        .expect("SHUAN_TEST_BROWSER names the browser");
    assert!(
        std::path::Path::new(&browser).is_file(),
        "SHUAN_TEST_BROWSER={browser}: no such browser; run `bash scripts/install-test-deps.sh` (installs Debian's chromium and fonts-noto-cjk)"
    );
    // Screenshots: where SHUAN_CONSOLE_SHOTS says (docs/console/ when refreshing the
    // documentation's), else beside the other test output.
    let shots = std::env::var_os("SHUAN_CONSOLE_SHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-shots"));
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let script = repo_root().join("scripts/console_test.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg("--chromium")
        .arg(&browser)
        .arg("--shots")
        .arg(&shots)
        .arg(env!("CARGO_BIN_EXE_shuan"))
        .output()
        .expect("running python3 scripts/console_test.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Shown with --nocapture, and always when the test fails.
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "the browser tests failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.ends_with(" failed"))
        .unwrap_or_default();
    assert!(
        summary.ends_with(" 0 failed") && !summary.starts_with("0 passed"),
        "the browser tests ran nothing or failed: {summary:?}"
    );
}
