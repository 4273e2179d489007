//! Integration suite of the web crate: the whole router, driven with
//! `oneshot`, on a fresh SQLite file database and (when `BIHUAN_TEST_PG_URL`
//! is set) on a fresh PostgreSQL database (`sqlite_*` / `postgres_*` tests).
//!
//!     cargo test -p bihuan-web --test it
//!     BIHUAN_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test -p bihuan-web --test it

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod harness;
mod world;
mod cockpit;
mod workbench;

mod a11y;
mod audit;
mod auth_flows;
mod browser;
mod campaign_api;
mod circulars;
mod hazard_api;
mod i18n;
mod idempotency;
mod matrix;
mod measure_api;
mod openapi;
mod pages;
mod rules;

pub fn matrix_png() -> Vec<u8> {
    matrix::png()
}
