//! Conformance suite of the store: every scenario runs on a fresh SQLite
//! file database and, when `BIHUAN_TEST_PG_URL` is set, on a fresh
//! PostgreSQL database (`sqlite_*` / `postgres_*` tests).
//!
//!     cargo test -p bihuan-store --test it
//!     BIHUAN_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test -p bihuan-store --test it

// clippy.toml allows these inside #[test] functions only; the helpers and
// scenarios of this test binary are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod harness;

mod attachments;
mod audit;
mod auth;
mod campaigns;
mod circulars;
mod concurrency;
mod fixtures;
mod idempotency;
mod measures;
mod regressions;
mod schema;
mod units;
mod users;
