//! What both contract suites share: a store under test on SQLite (a file in a temporary
//! directory) or on PostgreSQL (a fresh schema per test in the database named by
//! SHUAN_TEST_POSTGRES, dropped afterwards), and the macro that runs each contract
//! function once per backend.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use shuan_store::platform::postgres::PgPlatform;
use shuan_store::platform::sqlite::SqlitePlatform;
use shuan_store::platform::*;

/// One store under test, and how to open a second handle on the same data (a second
/// node, or a second process on the same file).
pub struct Fixture {
    pub store: Box<dyn PlatformStore>,
    reopen: Box<dyn Fn() -> Box<dyn PlatformStore>>,
    // Dropped after the store (fields drop in order): the schema or directory goes last.
    _schema: Option<PgSchema>,
    _dir: Option<tempfile::TempDir>,
}

impl Fixture {
    pub fn second_handle(&self) -> Box<dyn PlatformStore> {
        (self.reopen)()
    }
}

pub fn sqlite_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(PLATFORM_FILE);
    let store = SqlitePlatform::open(&path).unwrap();
    Fixture {
        store: Box::new(store),
        reopen: Box::new(move || Box::new(SqlitePlatform::open(&path).unwrap())),
        _schema: None,
        _dir: Some(dir),
    }
}

pub fn pg_base_url() -> String {
    std::env::var("SHUAN_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.is_empty())
        .expect("SHUAN_TEST_POSTGRES was set when this test was built; set it again")
}

/// A schema of its own for one test, dropped with everything in it afterwards.
pub struct PgSchema {
    pub name: String,
}

impl PgSchema {
    pub fn create() -> PgSchema {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "t_{}_{}_{}",
            std::process::id(),
            nanos,
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = ::postgres::Client::connect(&pg_base_url(), ::postgres::NoTls)
            .expect("SHUAN_TEST_POSTGRES is set but the server cannot be reached");
        admin
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .unwrap();
        PgSchema { name }
    }

    /// The test URL with `search_path` set to this schema for every connection.
    pub fn url(&self) -> String {
        let base = pg_base_url();
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options=-csearch_path%3D{}", self.name)
    }

    pub fn admin(&self) -> ::postgres::Client {
        ::postgres::Client::connect(&self.url(), ::postgres::NoTls).unwrap()
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut admin) = ::postgres::Client::connect(&pg_base_url(), ::postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// Small pools: every test opens its own, and the server's connections are shared by
/// everyone testing on this machine.
const TEST_POOL: u32 = 4;

pub fn pg_fixture() -> Fixture {
    let schema = PgSchema::create();
    let url = schema.url();
    let store = PgPlatform::connect_with_pool_size(&url, TEST_POOL).unwrap();
    Fixture {
        store: Box::new(store),
        reopen: Box::new(move || {
            Box::new(PgPlatform::connect_with_pool_size(&url, TEST_POOL).unwrap())
        }),
        _schema: Some(schema),
        _dir: None,
    }
}

/// Each contract function runs once per backend.
#[macro_export]
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let f = super::sqlite_fixture();
                    super::contract::$name(&f);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                #[cfg_attr(not(shuan_test_postgres), ignore = "needs SHUAN_TEST_POSTGRES")]
                fn $name() {
                    let f = super::pg_fixture();
                    super::contract::$name(&f);
                }
            )*
        }
    };
}
