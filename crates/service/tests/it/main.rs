//! Service tests: use cases on a real database, on SQLite and (with
//! `BIHUAN_TEST_PG_URL`) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod attachments;
mod campaigns;
mod hazards;
mod ledger;
mod measures;
mod notices;

use bihuan_service::password::Hasher;
use bihuan_service::{Service, Settings};
use bihuan_store::Db;
use bihuan_testkit::TestClock;
use std::sync::Arc;

pub fn service(db: Db) -> Service {
    service_with_clock(db).0
}

/// A service on a clock the test moves (starts Saturday 1 May 2021, 10:00 Beijing time).
pub fn service_with_clock(db: Db) -> (Service, Arc<TestClock>) {
    let clock = Arc::new(TestClock::at(time::macros::datetime!(2021-05-01 10:00 +08:00)));
    (Service::new(db, clock.clone(), Settings { password: Hasher::for_tests(), ..Default::default() }), clock)
}

/// One `async fn(Db)` scenario as a SQLite test and a PostgreSQL test.
macro_rules! scenario {
    ($scenario:path => $sqlite:ident, $pg:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            bihuan_testkit::on_engine(bihuan_testkit::Engine::Sqlite, stringify!($sqlite), $scenario).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $pg() {
            bihuan_testkit::on_engine(bihuan_testkit::Engine::Postgres, stringify!($pg), $scenario).await
        }
    };
}
pub(crate) use scenario;
