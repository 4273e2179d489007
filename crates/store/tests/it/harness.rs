//! Runs one scenario on a fresh database of each engine; the databases come
//! from `bihuan-testkit`, shared with the other crates' suites.

pub use bihuan_testkit::{pg_url, sqlite_db, with_database, FreshPg, PG_ENV};
use bihuan_store::Db;
use bihuan_testkit::{on_engine, Engine};
use std::future::Future;

pub async fn on_sqlite<F, Fut>(scenario: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    on_engine(Engine::Sqlite, "sqlite", scenario).await
}

pub async fn on_postgres<F, Fut>(test: &str, scenario: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    on_engine(Engine::Postgres, test, scenario).await
}

/// Defines two tests for one `async fn(Db)` scenario: one on SQLite and one
/// on PostgreSQL. Attributes before a name apply to that test only.
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
