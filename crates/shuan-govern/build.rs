//! Database tests run only against real servers, browser tests only with a real browser.
//! When `SHUAN_TEST_POSTGRES` / `SHUAN_TEST_MYSQL` / `SHUAN_TEST_BROWSER` is set (and
//! non-empty) at build time this sets the cfg `shuan_test_postgres` / `shuan_test_mysql` /
//! `shuan_test_browser`; tests without it are `#[ignore]`d, so a skipped test shows as
//! "ignored" instead of passing silently.
//! (The same file is in every crate with database tests; keep them identical.)

fn main() {
    for (var, cfg) in [
        ("SHUAN_TEST_POSTGRES", "shuan_test_postgres"),
        ("SHUAN_TEST_MYSQL", "shuan_test_mysql"),
        ("SHUAN_TEST_BROWSER", "shuan_test_browser"),
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo::rerun-if-env-changed={var}");
        if std::env::var_os(var).is_some_and(|v| !v.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
