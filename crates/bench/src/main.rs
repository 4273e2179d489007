//! `bihuan-bench`: builds a district-scale dataset (12 towns, 20,000
//! enterprises, 1,000,000 hazards with their timelines) on SQLite or
//! PostgreSQL and measures what people wait for — creating hazards through
//! the HTTP API, list pages, dashboard counts, Chinese search, the xlsx
//! export and the import — each beside the same work done by plain SQL on
//! the same engine (the limit), as a ratio.
//!
//! `cargo run --release -p bihuan-bench -- --engine sqlite|postgres [--hazards N] [--enterprises N] [--keep DIR]`

mod dataset;
mod load;
mod measure;

use anyhow::{anyhow, Context, Result};
use clap::Parser;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineArg {
    Sqlite,
    Postgres,
}

impl EngineArg {
    pub fn name(self) -> &'static str {
        match self {
            EngineArg::Sqlite => "sqlite",
            EngineArg::Postgres => "postgres",
        }
    }
}

#[derive(Parser, Debug, Clone)]
#[command(name = "bihuan-bench", about = "District-scale benchmark of Bihuan (figures are printed, never asserted)")]
pub struct Cli {
    #[arg(long, value_enum)]
    pub engine: EngineArg,
    #[arg(long, default_value_t = 1_000_000)]
    pub hazards: usize,
    #[arg(long, default_value_t = 20_000)]
    pub enterprises: usize,
    /// Keep the dataset in DIR (the SQLite file, a description of the
    /// dataset; on PostgreSQL the database is kept) and reuse it when it
    /// was built with the same sizes and seed.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// PostgreSQL server (without database name).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pub pg: String,
    #[arg(long, default_value = "bihuan_bench")]
    pub pg_db: String,
    /// How long the creation runs last, in seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Requests per read measurement.
    #[arg(long, default_value_t = 200)]
    pub samples: usize,
    #[arg(long, default_value_t = 100_000)]
    pub export_rows: usize,
    #[arg(long, default_value_t = 10_000)]
    pub import_rows: usize,
    /// Only these measurements, comma-separated: list, stats, search, warnings, create, export, import.
    #[arg(long)]
    pub only: Option<String>,
    #[arg(long, default_value_t = 2020)]
    pub seed: u64,
    /// Internal: run one export in this (child) process and print its figures.
    #[arg(long, hide = true)]
    pub export_child: Option<String>,
    #[arg(long, hide = true)]
    pub url: Option<String>,
    #[arg(long, hide = true)]
    pub out: Option<PathBuf>,
    #[arg(long, hide = true)]
    pub found_to: Option<String>,
}

impl Cli {
    pub fn wants(&self, what: &str) -> bool {
        self.only.as_deref().is_none_or(|o| o.split(',').any(|w| w.trim() == what))
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("tokio runtime")?;
    match cli.export_child.clone() {
        Some(mode) => rt.block_on(measure::export_child(&cli, &mode)),
        None => rt.block_on(measure::run(cli)),
    }
    .map_err(|e| anyhow!("{e:#}"))
}
