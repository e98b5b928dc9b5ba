//! Database tests run only against real servers. When `SHUAN_TEST_POSTGRES` /
//! `SHUAN_TEST_MYSQL` is set (and non-empty) at build time this sets the cfg
//! `shuan_test_postgres` / `shuan_test_mysql`; tests without it are `#[ignore]`d, so a
//! skipped database test shows as "ignored" instead of passing silently.
//! (The same file is in every crate with database tests; keep them identical.)

fn main() {
    for (var, cfg) in [
        ("SHUAN_TEST_POSTGRES", "shuan_test_postgres"),
        ("SHUAN_TEST_MYSQL", "shuan_test_mysql"),
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo::rerun-if-env-changed={var}");
        if std::env::var_os(var).is_some_and(|v| !v.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
