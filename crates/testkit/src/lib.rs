//! Test support shared by the test suites of every crate (a dev-dependency
//! only; never linked into `bihuan`).
//!
//! [`on_engine`] runs one scenario on a fresh, migrated database of one
//! engine: SQLite in a private temporary directory, or PostgreSQL (only when
//! `BIHUAN_TEST_PG_URL` is set) in a database created for the test and
//! dropped afterwards, even when the scenario panics.

#![allow(clippy::expect_used, clippy::panic)]

use bihuan_domain::clock::Clock;
use bihuan_store::Db;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use time::OffsetDateTime;
use uuid::Uuid;

pub const PG_ENV: &str = "BIHUAN_TEST_PG_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("bihuan-test-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A migrated SQLite file database; keep the `TempDir` alive while using it.
pub async fn sqlite_db() -> (TempDir, Db) {
    let dir = TempDir::new();
    let url = format!("sqlite:{}", dir.0.join("x.db").display());
    let db = Db::connect(&url).await.expect("connect sqlite");
    db.migrate().await.expect("migrate sqlite");
    (dir, db)
}

pub fn pg_url() -> Option<String> {
    std::env::var(PG_ENV).ok().filter(|s| !s.trim().is_empty())
}

/// `url` with its database (path) replaced by `db`, keeping any query string.
pub fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("postgres URL has a scheme");
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap_or_default();
    format!("{scheme}://{authority}/{db}{query}")
}

/// A fresh PostgreSQL database on the server of `BIHUAN_TEST_PG_URL`.
pub struct FreshPg {
    admin: Db,
    name: String,
    pub url: String,
}

impl FreshPg {
    pub async fn create(admin_url: &str) -> FreshPg {
        let admin = Db::connect(admin_url).await.expect("connect to BIHUAN_TEST_PG_URL");
        let name = format!("bihuan_t_{}", Uuid::new_v4().simple());
        let Db::Postgres(p) = &admin else { panic!("{PG_ENV} is not a postgres:// URL") };
        sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(p).await.expect("CREATE DATABASE");
        let url = with_database(admin_url, &name);
        FreshPg { admin, name, url }
    }

    /// A migrated pool on the fresh database.
    pub async fn db(&self) -> Db {
        let db = Db::connect(&self.url).await.expect("connect to the fresh database");
        db.migrate().await.expect("migrate postgres");
        db
    }

    pub async fn drop_db(self) {
        if let Db::Postgres(p) = &self.admin {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            if let Err(e) = sqlx::raw_sql(&sql).execute(p).await {
                eprintln!("could not drop test database {}: {e}", self.name);
            }
        }
        self.admin.close().await;
    }
}

/// Runs `scenario` on a fresh database of `engine`, in its own task so that
/// a panic still lets us clean up; then re-raises the panic. On PostgreSQL
/// without `BIHUAN_TEST_PG_URL` it prints a note and returns.
pub async fn on_engine<F, Fut>(engine: Engine, test: &str, scenario: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (db, cleanup): (Db, Cleanup) = match engine {
        Engine::Sqlite => {
            let (dir, db) = sqlite_db().await;
            (db, Cleanup::Dir(dir))
        }
        Engine::Postgres => {
            let Some(admin_url) = pg_url() else {
                eprintln!("note: {test} skipped: set {PG_ENV}=postgres://… to run it on PostgreSQL");
                return;
            };
            let fresh = FreshPg::create(&admin_url).await;
            (fresh.db().await, Cleanup::Pg(fresh))
        }
    };
    let res = tokio::spawn(scenario(db.clone())).await;
    db.close().await;
    match cleanup {
        Cleanup::Dir(dir) => drop(dir),
        Cleanup::Pg(fresh) => fresh.drop_db().await,
    }
    if let Err(e) = res {
        match e.try_into_panic() {
            Ok(p) => std::panic::resume_unwind(p),
            Err(e) => panic!("scenario task failed: {e}"),
        }
    }
}

enum Cleanup {
    Dir(TempDir),
    Pg(FreshPg),
}

/// A clock a test can move.
#[derive(Debug)]
pub struct TestClock(Mutex<OffsetDateTime>);

impl TestClock {
    pub fn at(t: OffsetDateTime) -> TestClock {
        TestClock(Mutex::new(t))
    }

    pub fn advance(&self, d: time::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += d;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
