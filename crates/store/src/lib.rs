//! The only place in Bihuan that speaks SQL.
//!
//! One SQL text serves SQLite and PostgreSQL wherever it can: `$n`
//! placeholders, no database clock (time is bound from Rust), UUIDs generated
//! in Rust, materialised paths instead of recursive queries. The `run!` macro
//! expands one body once per engine, so the Rust types are checked against
//! both drivers at compile time; the conformance suite in `tests/` runs the
//! same scenarios on both engines.

mod db;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod campaigns;
pub mod channels;
pub mod circulars;
pub mod attachments;
pub mod hazards;
pub mod hazard_tally;
pub mod idempotency;
pub mod jobs;
pub mod measures;
pub mod notify;
mod sql;
mod timeline;
pub mod units;
pub mod users;
pub mod warnings;

pub use db::{redact_url, Db, Engine, SqliteTx, StoreError, Ts, Tx};
pub(crate) use db::run;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
