//! Runs one scenario on a fresh database of each engine.
//!
//! SQLite: a file database in a private temporary directory, removed after
//! the test. PostgreSQL (only when `BIHUAN_TEST_PG_URL` is set): a database
//! `bihuan_t_<uuid>` created on that server, dropped after the test even when
//! the scenario panics.

use bihuan_store::Db;
use std::future::Future;
use std::path::PathBuf;
use uuid::Uuid;

pub const PG_ENV: &str = "BIHUAN_TEST_PG_URL";

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("bihuan-store-it-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
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

/// Runs `scenario` in its own task so that a panic still lets us clean up,
/// then re-raises the panic.
async fn run_guarded<F, Fut>(db: Db, scenario: F) -> Result<(), Box<dyn std::any::Any + Send>>
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let res = tokio::spawn(scenario(db.clone())).await;
    db.close().await;
    match res {
        Ok(()) => Ok(()),
        Err(e) => match e.try_into_panic() {
            Ok(p) => Err(p),
            Err(e) => panic!("scenario task failed: {e}"),
        },
    }
}

pub async fn on_sqlite<F, Fut>(scenario: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (dir, db) = sqlite_db().await;
    let res = run_guarded(db, scenario).await;
    drop(dir);
    if let Err(p) = res {
        std::panic::resume_unwind(p);
    }
}

pub async fn on_postgres<F, Fut>(test: &str, scenario: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(admin_url) = pg_url() else {
        eprintln!("note: {test} skipped: set {PG_ENV}=postgres://… to run it on PostgreSQL");
        return;
    };
    let fresh = FreshPg::create(&admin_url).await;
    let db = fresh.db().await;
    let res = run_guarded(db, scenario).await;
    fresh.drop_db().await;
    if let Err(p) = res {
        std::panic::resume_unwind(p);
    }
}

/// Defines two tests for one `async fn(Db)` scenario: one on SQLite and one
/// on PostgreSQL. Attributes before a name apply to that test only (used to
/// `#[ignore]` a known engine-specific bug).
macro_rules! scenario {
    ($scenario:path => $(#[$sa:meta])* $sqlite:ident, $(#[$pa:meta])* $pg:ident $(,)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        $(#[$sa])*
        async fn $sqlite() {
            $crate::harness::on_sqlite($scenario).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        $(#[$pa])*
        async fn $pg() {
            $crate::harness::on_postgres(stringify!($pg), $scenario).await
        }
    };
}
pub(crate) use scenario;

/// Runs one statement on the pool behind `db`, outside the store, returning
/// the rows affected: for tampering with data as an attacker with database
/// access would.
macro_rules! raw_exec {
    ($db:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $db {
            bihuan_store::Db::Sqlite(p) => sqlx::query($sql)$(.bind($arg))*.execute(p).await.expect("raw sql").rows_affected(),
            bihuan_store::Db::Postgres(p) => sqlx::query($sql)$(.bind($arg))*.execute(p).await.expect("raw sql").rows_affected(),
        }
    };
}
pub(crate) use raw_exec;

/// One scalar from the pool behind `db`, outside the store.
macro_rules! raw_scalar {
    ($ty:ty, $db:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $db {
            bihuan_store::Db::Sqlite(p) => sqlx::query_scalar::<_, $ty>($sql)$(.bind($arg))*.fetch_one(p).await.expect("raw sql"),
            bihuan_store::Db::Postgres(p) => sqlx::query_scalar::<_, $ty>($sql)$(.bind($arg))*.fetch_one(p).await.expect("raw sql"),
        }
    };
}
pub(crate) use raw_scalar;

#[test]
fn database_is_replaced_in_the_url() {
    assert_eq!(with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"), "postgres://postgres@127.0.0.1:5432/x");
    assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
    assert_eq!(with_database("postgresql://h:5432", "x"), "postgresql://h:5432/x");
}
