//! The measurements: each figure beside the same work done by plain SQL on
//! the same engine (the limit), printed with the ratio.

use crate::dataset::{self, Firm, Generator, TownRefs};
use crate::load::{self, HazRow, Meta, TownMeta};
use crate::{Cli, EngineArg};
use anyhow::{anyhow, bail, Context, Result};
use bihuan_domain::clock::Clock;
use bihuan_domain::hazard::*;
use bihuan_domain::ids::*;
use bihuan_domain::unit::UnitPath;
use bihuan_reports::{Cell, Column, SheetSpec, XlsxLedger};
use bihuan_service::password::Hasher;
use bihuan_service::{Ctx, Service, Settings};
use bihuan_store::hazards::HazardFilter;
use bihuan_store::{Db, Ts, Tx};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::{Date, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

/// "Now" for the service: 2023-01-10 10:00 in Shanghai, after the campaign,
/// moving with the wall clock so that timestamps stay ordered.
pub struct BenchClock {
    base: OffsetDateTime,
    start: Instant,
}

impl Clock for BenchClock {
    fn now(&self) -> OffsetDateTime {
        self.base + self.start.elapsed()
    }
}

pub const NOW: OffsetDateTime = time::macros::datetime!(2023-01-10 10:00 +08:00);
const WARMUP: usize = 5;

fn today() -> Date {
    dataset::local_date(NOW)
}

/// Latencies in milliseconds.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub n: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

impl Stats {
    fn of(mut v: Vec<f64>) -> Stats {
        v.sort_by(|a, b| a.total_cmp(b));
        let p = |q: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            let i = ((q / 100.0) * (v.len() - 1) as f64).round() as usize;
            v.get(i).copied().unwrap_or(0.0)
        };
        Stats { n: v.len(), p50: p(50.0), p95: p(95.0), p99: p(99.0) }
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

async fn sample(n: usize, mut f: impl AsyncFnMut(usize) -> Result<()>) -> Result<Stats> {
    let mut v = Vec::with_capacity(n);
    for i in 0..n + WARMUP {
        let t = Instant::now();
        f(i).await?;
        if i >= WARMUP {
            v.push(ms(t));
        }
    }
    Ok(Stats::of(v))
}

/// The results table.
#[derive(Default)]
pub struct Report {
    engine: &'static str,
    lines: Vec<String>,
}

impl Report {
    fn latency(&mut self, what: &str, api: &Stats, service: Option<&Stats>, limit: &Stats) {
        let ratio = if limit.p95 > 0.0 { api.p95 / limit.p95 } else { 0.0 };
        let line = format!(
            "| {what} | {} | {} | {:.1} | {:.1} | {:.1} | {} | {:.1} | {:.1} | {:.1}× |",
            self.engine,
            api.n,
            api.p50,
            api.p95,
            api.p99,
            service.map(|s| format!("{:.1}", s.p95)).unwrap_or_else(|| "—".into()),
            limit.p50,
            limit.p95,
            ratio
        );
        println!("{line}");
        self.lines.push(line);
    }
    fn text(&mut self, line: String) {
        println!("{line}");
        self.lines.push(line);
    }
}

const HEADER: &str = "| what | engine | n | p50 ms | p95 ms | p99 ms | service p95 ms | limit p50 ms | limit p95 ms | p95 ÷ limit |\n|---|---|---|---|---|---|---|---|---|---|";

// ---- storage and the dataset ----

fn vm(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

async fn pg_admin(cli: &Cli, sql: &str) -> Result<()> {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&format!("{}/postgres", cli.pg)).await?;
    sqlx::query(sql).execute(&pool).await.with_context(|| sql.to_string())?;
    pool.close().await;
    Ok(())
}

fn service(db: Db, dir: &Path) -> Service {
    let clock = Arc::new(BenchClock { base: NOW, start: Instant::now() });
    Service::new(db, clock, Settings { password: Hasher::for_tests(), files_dir: dir.join("files"), ..Default::default() })
}

pub async fn run(cli: Cli) -> Result<()> {
    let engine = cli.engine;
    let dir = match &cli.keep {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("bihuan-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    let meta_path = dir.join(format!("dataset-{}.json", engine.name()));
    let sqlite_path = dir.join("bench.db");
    let url = match engine {
        EngineArg::Sqlite => format!("sqlite:{}", sqlite_path.display()),
        EngineArg::Postgres => format!("{}/{}", cli.pg, cli.pg_db),
    };
    let kept: Option<Meta> = if cli.keep.is_some() {
        std::fs::read(&meta_path).ok().and_then(|b| serde_json::from_slice::<Meta>(&b).ok())
    } else {
        None
    };
    let reuse = kept.filter(|m| m.hazards == cli.hazards && m.enterprises == cli.enterprises && m.seed == cli.seed);
    if reuse.is_none() {
        match engine {
            EngineArg::Sqlite => {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", sqlite_path.display()));
                }
            }
            EngineArg::Postgres => {
                pg_admin(&cli, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", cli.pg_db)).await?;
                pg_admin(&cli, &format!("CREATE DATABASE {}", cli.pg_db)).await?;
            }
        }
    }
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let svc = service(db.clone(), &dir);
    let meta = match reuse {
        Some(m) => {
            println!("reusing the dataset in {} ({} hazards, built in {:.0} s)", dir.display(), m.hazards, m.load_seconds);
            m
        }
        None => {
            println!("building the dataset: {} enterprises, {} hazards on {}", cli.enterprises, cli.hazards, engine.name());
            let m = load::build(&svc, cli.hazards, cli.enterprises, cli.seed, NOW).await?;
            println!("dataset built: units {:.1} s, hazards {:.1} s", m.units_seconds, m.load_seconds);
            std::fs::write(&meta_path, serde_json::to_vec_pretty(&m)?)?;
            m
        }
    };
    describe(&db, &meta, &sqlite_path).await?;
    let result = measure_all(&cli, &svc, &db, &meta, &dir, &url).await;
    db.close().await;
    if cli.keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
        if engine == EngineArg::Postgres {
            pg_admin(&cli, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", cli.pg_db)).await?;
        }
    }
    result
}

async fn scalar_i64(db: &Db, sql: &str) -> Result<i64> {
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
    })
}

async fn scalar_text(db: &Db, sql: &str) -> Result<String> {
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
    })
}

async fn describe(db: &Db, meta: &Meta, sqlite_path: &Path) -> Result<()> {
    let hazards = scalar_i64(db, "SELECT COUNT(*) FROM hazard").await?;
    let events = scalar_i64(db, "SELECT COUNT(*) FROM hazard_event").await?;
    let units = scalar_i64(db, "SELECT COUNT(*) FROM unit").await?;
    let (version, size) = match db {
        Db::Sqlite(_) => {
            let size = std::fs::metadata(sqlite_path).map(|m| m.len()).unwrap_or(0);
            (format!("SQLite {}", scalar_text(db, "SELECT sqlite_version()").await?), size as i64)
        }
        Db::Postgres(_) => (
            scalar_text(db, "SELECT version()").await?,
            scalar_i64(db, "SELECT pg_database_size(current_database())").await?,
        ),
    };
    println!("engine: {version}");
    println!(
        "data: {units} units, {hazards} hazards, {events} events ({:.1} per hazard), {} listings; database {:.2} GB",
        events as f64 / hazards.max(1) as f64,
        meta.listings,
        size as f64 / 1e9
    );
    let mix: Vec<(String, i64)> = match db {
        Db::Sqlite(p) => sqlx::query_as("SELECT state, COUNT(*) FROM hazard GROUP BY state ORDER BY 2 DESC").fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as("SELECT state, COUNT(*) FROM hazard GROUP BY state ORDER BY 2 DESC").fetch_all(p).await?,
    };
    println!("states: {}", mix.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(", "));
    let today = today().to_string();
    let overdue = scalar_i64(db, &format!("SELECT COUNT(*) FROM hazard WHERE state IN ('reported', 'assigned', 'rectifying') AND deadline < '{today}'")).await?;
    let major = scalar_i64(db, "SELECT COUNT(*) FROM hazard WHERE level = 'major'").await?;
    let listed = scalar_i64(db, "SELECT COUNT(*) FROM hazard WHERE listed").await?;
    println!("overdue now {overdue}, major {major}, listed now {listed}");
    Ok(())
}

// ---- HTTP ----

#[derive(Clone)]
struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

impl Http {
    async fn send(&self, method: hyper::Method, path: &str, token: Option<&str>, body: Option<String>) -> Result<(u16, Bytes)> {
        let mut b = hyper::Request::builder().method(method).uri(format!("{}{path}", self.base));
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(s) => b.header("content-type", "application/json").body(Full::new(Bytes::from(s)))?,
            None => b.body(Full::new(Bytes::new()))?,
        };
        let res = self.client.request(req).await?;
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }

    async fn get_ok(&self, path: &str, token: &str) -> Result<Bytes> {
        let (s, b) = self.send(hyper::Method::GET, path, Some(token), None).await?;
        if s != 200 {
            bail!("GET {path}: {s} {}", String::from_utf8_lossy(&b));
        }
        Ok(b)
    }

    async fn token(&self, user: &str, password: &str) -> Result<String> {
        let body = serde_json::json!({ "username": user, "password": password, "token_name": "bench" }).to_string();
        let (s, b) = self.send(hyper::Method::POST, "/api/v1/auth/token", None, Some(body)).await?;
        if s != 201 {
            bail!("token for {user}: {s} {}", String::from_utf8_lossy(&b));
        }
        let v: serde_json::Value = serde_json::from_slice(&b)?;
        v.get("secret").and_then(|s| s.as_str()).map(str::to_string).ok_or_else(|| anyhow!("no secret in {v}"))
    }
}

/// Who asks: the district administrator or the office of one town.
struct People {
    admin_token: String,
    admin_ctx: Ctx,
    office_tokens: Vec<String>,
    office_ctx: Vec<Ctx>,
}

async fn ctx_of(svc: &Service, username: &str) -> Result<Ctx> {
    let user = svc.user_by_name(username).await.map_err(|e| anyhow!("{e}"))?.ok_or_else(|| anyhow!("no user {username}"))?;
    let mut tx = svc.db.read().await?;
    let actor = svc.actor_for(&mut tx, &user).await.map_err(|e| anyhow!("{e}"))?;
    tx.commit().await?;
    Ok(Ctx::user(actor, None))
}

fn range(path: &str) -> (String, String) {
    let mut hi = path.trim_end_matches('/').to_string();
    hi.push('0');
    (path.to_string(), hi)
}

/// A bound parameter of a plain query.
#[derive(Clone)]
enum Bp {
    T(String),
    Ts(Ts),
    D(Date),
}

async fn plain(db: &Db, sql: &str, ps: &[Bp]) -> Result<usize> {
    macro_rules! binds {
        ($q:expr) => {{
            let mut q = $q;
            for p in ps {
                q = match p {
                    Bp::T(s) => q.bind(s.as_str()),
                    Bp::Ts(t) => q.bind(*t),
                    Bp::D(d) => q.bind(*d),
                };
            }
            q
        }};
    }
    Ok(match db {
        Db::Sqlite(p) => binds!(sqlx::query(sql)).fetch_all(p).await.with_context(|| sql.to_string())?.len(),
        Db::Postgres(p) => binds!(sqlx::query(sql)).fetch_all(p).await.with_context(|| sql.to_string())?.len(),
    })
}

const OPEN: &str = "('reported', 'assigned', 'rectifying', 'submitted')";
const PENDING: &str = "('reported', 'assigned', 'rectifying')";

fn cols() -> String {
    load::COLUMNS.split(',').map(|c| format!("h.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

type PlainFn<'a> = Box<dyn Fn(&TownMeta) -> (String, Vec<Bp>) + 'a>;

/// One read measurement: the HTTP request, the service call, the plain query.
struct Case<'a> {
    what: String,
    office: bool,
    query: Box<dyn Fn(&TownMeta) -> String + 'a>,
    /// The service call: a list page (`None`) or stats (`Some(by)`).
    stats: Option<Option<Breakdown>>,
    filter: Box<dyn Fn(&TownMeta) -> HazardFilter + 'a>,
    plain: PlainFn<'a>,
}

#[allow(clippy::too_many_arguments)]
async fn run_case(cli: &Cli, svc: &Service, db: &Db, http: &Http, people: &People, meta: &Meta, report: &mut Report, c: &Case<'_>) -> Result<()> {
    let n = cli.samples;
    let towns = &meta.towns;
    let town = |i: usize| towns.get(i % towns.len()).ok_or_else(|| anyhow!("no towns"));
    let api = sample(n, async |i| {
        let t = town(i)?;
        let token = if c.office { people.office_tokens.get(i % towns.len()).ok_or_else(|| anyhow!("token"))? } else { &people.admin_token };
        http.get_ok(&(c.query)(t), token).await?;
        Ok(())
    })
    .await?;
    let service = sample(n, async |i| {
        let t = town(i)?;
        let ctx = if c.office { people.office_ctx.get(i % towns.len()).ok_or_else(|| anyhow!("ctx"))? } else { &people.admin_ctx };
        let f = (c.filter)(t);
        match c.stats {
            None => {
                svc.list_hazards(ctx, &f).await.map_err(|e| anyhow!("{e}"))?;
            }
            Some(by) => {
                svc.hazard_stats(ctx, &f, by).await.map_err(|e| anyhow!("{e}"))?;
            }
        }
        Ok(())
    })
    .await?;
    let limit = sample(n, async |i| {
        let (sql, ps) = (c.plain)(town(i)?);
        plain(db, &sql, &ps).await?;
        Ok(())
    })
    .await?;
    report.latency(&c.what, &api, Some(&service), &limit);
    Ok(())
}

fn open_states() -> Vec<HazardState> {
    vec![HazardState::Reported, HazardState::Assigned, HazardState::Rectifying, HazardState::Submitted]
}

fn fts5_phrase(q: &bihuan_domain::text::SearchPhrase) -> String {
    let body = q.tokens.iter().map(|t| t.replace('"', "")).collect::<Vec<_>>().join(" ");
    if q.prefix_last { format!("\"{body}\" *") } else { format!("\"{body}\"") }
}

fn tsquery(q: &bihuan_domain::text::SearchPhrase) -> String {
    let n = q.tokens.len();
    q.tokens
        .iter()
        .enumerate()
        .map(|(i, t)| if i + 1 == n && q.prefix_last { format!("'{t}':*") } else { format!("'{t}'") })
        .collect::<Vec<_>>()
        .join(" <-> ")
}

fn search_param(engine: EngineArg, term: &str) -> String {
    match bihuan_domain::text::search_query(term) {
        None => String::new(),
        Some(q) => match engine {
            EngineArg::Sqlite => fts5_phrase(&q),
            EngineArg::Postgres => tsquery(&q),
        },
    }
}

async fn measure_all(cli: &Cli, svc: &Service, db: &Db, meta: &Meta, dir: &Path, url: &str) -> Result<()> {
    let engine = cli.engine;
    let mut report = Report { engine: engine.name(), lines: vec![] };
    // The real router on a local port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = bihuan_web::AppState { svc: svc.clone(), config: Arc::new(bihuan_web::WebConfig::default()) };
    let server = tokio::spawn(bihuan_web::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(256).build_http();
    let http = Http { client, base: format!("http://{addr}") };
    let admin_token = http.token("admin", load::ADMIN_PASSWORD).await?;
    let mut office_tokens = Vec::new();
    let mut office_ctx = Vec::new();
    for t in &meta.towns {
        office_tokens.push(http.token(&t.office_user, load::PASSWORD).await?);
        office_ctx.push(ctx_of(svc, &t.office_user).await?);
    }
    sync_counter(db).await?;
    let people = People { admin_token, admin_ctx: ctx_of(svc, "admin").await?, office_tokens, office_ctx };
    let area = |code: &str| meta.areas.iter().find(|(c, _)| c == code).map(|(_, id)| *id).unwrap_or_default();
    let fire = area("a04");
    let max_num = scalar_i64(db, "SELECT MAX(num) FROM hazard").await?;
    let mid = max_num / 2;
    let path_of = |t: &TownMeta| UnitPath::from_stored(t.path.clone());
    let cols_owned = cols();
    let cols: &str = &cols_owned;
    println!("\n{HEADER}");
    report.lines.push(HEADER.to_string());

    if cli.wants("list") {
        let cases: Vec<Case> = vec![
            Case {
                what: "list: open, one town (office)".into(),
                office: true,
                query: Box::new(|t| format!("/api/v1/hazards?state=open&within={}&limit=50", t.id)),
                stats: None,
                filter: Box::new(|t| HazardFilter { within: Some(path_of(t)), states: open_states(), limit: 50, ..Default::default() }),
                plain: Box::new(|t| {
                    let (lo, hi) = range(&t.path);
                    (format!("SELECT {cols} FROM hazard h WHERE h.unit_path >= $1 AND h.unit_path < $2 AND h.state IN {OPEN} ORDER BY h.num DESC LIMIT 50"), vec![Bp::T(lo), Bp::T(hi)])
                }),
            },
            Case {
                what: "list: open, district (admin)".into(),
                office: false,
                query: Box::new(|_| "/api/v1/hazards?state=open&limit=50".into()),
                stats: None,
                filter: Box::new(|_| HazardFilter { states: open_states(), limit: 50, ..Default::default() }),
                plain: Box::new(|_| (format!("SELECT {cols} FROM hazard h WHERE h.state IN {OPEN} ORDER BY h.num DESC LIMIT 50"), vec![])),
            },
            Case {
                what: "list: overdue, one town (office)".into(),
                office: true,
                query: Box::new(|t| format!("/api/v1/hazards?overdue=true&within={}&limit=50", t.id)),
                stats: None,
                filter: Box::new(|t| HazardFilter { within: Some(path_of(t)), overdue: Some(true), limit: 50, ..Default::default() }),
                plain: Box::new(|t| {
                    let (lo, hi) = range(&t.path);
                    (
                        format!("SELECT {cols} FROM hazard h WHERE h.unit_path >= $1 AND h.unit_path < $2 AND h.state IN {PENDING} AND h.deadline < $3 ORDER BY h.num DESC LIMIT 50"),
                        vec![Bp::T(lo), Bp::T(hi), Bp::D(today())],
                    )
                }),
            },
            Case {
                what: "list: major, district (admin)".into(),
                office: false,
                query: Box::new(|_| "/api/v1/hazards?level=major&limit=50".into()),
                stats: None,
                filter: Box::new(|_| HazardFilter { levels: vec![HazardLevel::Major], limit: 50, ..Default::default() }),
                plain: Box::new(|_| (format!("SELECT {cols} FROM hazard h WHERE h.level = 'major' ORDER BY h.num DESC LIMIT 50"), vec![])),
            },
            Case {
                what: "list: fire area, found in 2021, district (admin)".into(),
                office: false,
                query: Box::new(move |_| format!("/api/v1/hazards?area_id={fire}&found_from=2021-01-01&found_to=2021-12-31&limit=50")),
                stats: None,
                filter: Box::new(move |_| HazardFilter {
                    area_id: Some(AreaId(fire)),
                    found_from: Date::from_calendar_date(2021, time::Month::January, 1).ok(),
                    found_to: Date::from_calendar_date(2021, time::Month::December, 31).ok(),
                    limit: 50,
                    ..Default::default()
                }),
                plain: Box::new(move |_| {
                    (
                        format!("SELECT {cols} FROM hazard h WHERE h.area_id = $1 AND h.found_at >= $2 AND h.found_at < $3 ORDER BY h.num DESC LIMIT 50"),
                        vec![
                            Bp::T(String::new()),
                            Bp::Ts(Ts(time::macros::datetime!(2021-01-01 00:00 +08:00))),
                            Bp::Ts(Ts(time::macros::datetime!(2022-01-01 00:00 +08:00))),
                        ],
                    )
                }),
            },
            Case {
                what: "list: one town, a page in the middle (after=N/2)".into(),
                office: true,
                query: Box::new(move |t| format!("/api/v1/hazards?within={}&after={mid}&limit=50", t.id)),
                stats: None,
                filter: Box::new(move |t| HazardFilter { within: Some(path_of(t)), after: Some(mid.to_string()), limit: 50, ..Default::default() }),
                plain: Box::new(move |t| {
                    let (lo, hi) = range(&t.path);
                    (format!("SELECT {cols} FROM hazard h WHERE h.unit_path >= $1 AND h.unit_path < $2 AND h.num < {mid} ORDER BY h.num DESC LIMIT 50"), vec![Bp::T(lo), Bp::T(hi)])
                }),
            },
        ];
        for c in &cases {
            // The area id is a UUID: bound as one, not as text.
            if c.what.starts_with("list: fire") {
                run_fire_case(cli, svc, db, &http, &people, meta, &mut report, c, fire).await?;
            } else {
                run_case(cli, svc, db, &http, &people, meta, &mut report, c).await?;
            }
        }
    }

    if cli.wants("stats") {
        let month = match engine {
            EngineArg::Sqlite => "strftime('%Y-%m', h.found_at, '+8 hours')",
            EngineArg::Postgres => "to_char(h.found_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')",
        };
        let sqlite = matches!(engine, EngineArg::Sqlite);
        let hex_area = match engine {
            EngineArg::Sqlite => "COALESCE(lower(hex(h.area_id)), '')",
            EngineArg::Postgres => "COALESCE(replace(CAST(h.area_id AS TEXT), '-', ''), '')",
        };
        let tally_agg = "CAST(SUM(t.n) AS BIGINT), CAST(SUM(CASE WHEN t.state = 'dismissed' THEN t.n ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN t.state IN ('reported', 'assigned', 'rectifying', 'submitted') THEN t.n ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN t.state = 'closed' THEN t.n ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN t.on_time THEN t.n ELSE 0 END) AS BIGINT), 0, \
             CAST(SUM(CASE WHEN t.listed THEN t.n ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN t.level = 'major' THEN t.n ELSE 0 END) AS BIGINT)"
            .to_string();
        let mut cases: Vec<Case> = Vec::new();
        for (by, key, label) in [
            (None, None, "total"),
            (Some(Breakdown::Area), Some("h.area_id".to_string()), "by area"),
            (Some(Breakdown::Month), Some(month.to_string()), "by month"),
            (Some(Breakdown::Unit), Some("unit".to_string()), "by unit"),
        ] {
            for office in [true, false] {
                let key = key.clone();
                let tally_agg = tally_agg.clone();
                cases.push(Case {
                    what: format!("stats {label}: {}", if office { "one town (office)" } else { "district (admin)" }),
                    office,
                    query: Box::new(move |t| {
                        let by = by.map(|b| format!("&by={}", serde_json::to_value(b).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())).unwrap_or_default();
                        if office { format!("/api/v1/hazards/stats?within={}{by}", t.id) } else { format!("/api/v1/hazards/stats?x=1{by}") }
                    }),
                    stats: Some(by),
                    filter: Box::new(move |t| HazardFilter { within: office.then(|| path_of(t)), ..Default::default() }),
                    // The limit: what the store does, in plain SQL — the sums over the
                    // maintained counts (hazard_tally) of the town (or of the roots), and
                    // overdue counted from the index over pending hazards.
                    plain: Box::new(move |t| {
                        let (lo, hi) = range(&t.path);
                        let depth = (t.path.len() as i64 - 1) / 33;
                        let by_unit = key.as_deref() == Some("unit");
                        let (tkey, hkey) = match key.as_deref() {
                            None => ("''".to_string(), "''".to_string()),
                            Some("unit") => ("t.node_path".to_string(), format!("substr(h.unit_path, 1, {})", if office { t.path.len() + 33 } else { 34 })),
                            Some("h.area_id") => ("t.area".to_string(), hex_area.to_string()),
                            Some(k) => ("t.month".to_string(), k.to_string()),
                        };
                        let (tw, hw, ps) = match (office, by_unit) {
                            (true, false) => ("t.node_path = $1".to_string(), "h.unit_path >= $2 AND h.unit_path < $3", vec![Bp::T(t.path.clone()), Bp::T(lo), Bp::T(hi)]),
                            (true, true) => (format!("t.node_path >= $2 AND t.node_path < $3 AND t.depth IN ({depth}, {})", depth + 1), "h.unit_path >= $2 AND h.unit_path < $3", vec![Bp::T(t.path.clone()), Bp::T(lo), Bp::T(hi)]),
                            (false, _) => ("t.depth = 1".to_string(), "TRUE", vec![]),
                        };
                        let indexed = match (sqlite, office) {
                            (true, true) => "INDEXED BY hazard_pending_path",
                            (true, false) => "INDEXED BY hazard_overdue",
                            (false, _) => "",
                        };
                        (
                            format!(
                                "SELECT {tkey} AS k, {tally_agg} FROM hazard_tally t WHERE {tw} GROUP BY k \
                                 UNION ALL SELECT {hkey} AS k, 0, 0, 0, 0, 0, COUNT(*), 0, 0 FROM hazard h {indexed} \
                                 WHERE {hw} AND h.state IN {PENDING} AND h.deadline < '{}' GROUP BY k",
                                today()
                            ),
                            ps,
                        )
                    }),
                });
            }
        }
        for c in &cases {
            run_case(cli, svc, db, &http, &people, meta, &mut report, c).await?;
        }
    }

    if cli.wants("search") {
        let mut sel = Vec::new();
        for term in ["消防", "灭火器", "配电箱", "安全通道", "YH2021-0123"] {
            let p = search_param(engine, term);
            let n = match engine {
                EngineArg::Sqlite => plain_count(db, "SELECT COUNT(*) FROM hazard_search WHERE hazard_search MATCH $1", &p).await?,
                EngineArg::Postgres => plain_count(db, "SELECT COUNT(*) FROM hazard WHERE search @@ CAST($1 AS tsquery)", &p).await?,
            };
            sel.push(format!("{term} {n}"));
        }
        report.text(format!("\nsearch terms and how many hazards match each: {}\n", sel.join(", ")));
        report.lines.push(HEADER.to_string());
        let mut cases: Vec<Case> = Vec::new();
        for term in ["消防", "灭火器", "配电箱", "安全通道", "YH2021-0123"] {
            for office in [true, false] {
                let p = search_param(engine, term);
                let enc: String = term.bytes().map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
                cases.push(Case {
                    what: format!("search “{term}”: {}", if office { "one town (office)" } else { "district (admin)" }),
                    office,
                    query: Box::new(move |t| if office { format!("/api/v1/hazards?q={enc}&within={}&limit=50", t.id) } else { format!("/api/v1/hazards?q={enc}&limit=50") }),
                    stats: None,
                    filter: Box::new(move |t| HazardFilter { within: office.then(|| path_of(t)), q: Some(term.to_string()), limit: 50, ..Default::default() }),
                    plain: Box::new(move |t| {
                        let (lo, hi) = range(&t.path);
                        let scope = if office { " AND h.unit_path >= $2 AND h.unit_path < $3" } else { "" };
                        let mut ps = vec![Bp::T(p.clone())];
                        if office {
                            ps.extend([Bp::T(lo), Bp::T(hi)]);
                        }
                        let sql = match engine {
                            EngineArg::Sqlite => format!(
                                "SELECT {cols} FROM hazard_search s JOIN hazard h ON h.num = s.rowid WHERE hazard_search MATCH $1{scope} ORDER BY s.rowid DESC LIMIT 50"
                            ),
                            EngineArg::Postgres => format!("SELECT {cols} FROM hazard h WHERE h.search @@ CAST($1 AS tsquery){scope} ORDER BY h.num DESC LIMIT 50"),
                        };
                        (sql, ps)
                    }),
                });
            }
        }
        for c in &cases {
            run_case(cli, svc, db, &http, &people, meta, &mut report, c).await?;
        }
    }

    if cli.wants("warnings") {
        warnings(cli, svc, &people, &mut report).await?;
    }
    if cli.wants("create") {
        create(cli, db, &http, &people, meta, &mut report).await?;
    }
    if cli.wants("export") {
        export(cli, db, dir, url, &mut report).await?;
    }
    if cli.wants("import") {
        import(cli, svc, db, &people, meta, dir, &mut report).await?;
    }
    let _ = stop.send(());
    let _ = server.await;
    let out = dir.join(format!("results-{}.md", engine.name()));
    std::fs::write(&out, report.lines.join("\n") + "\n")?;
    println!("\nresults written to {}", out.display());
    Ok(())
}

/// The warning engine at this scale: the first run over every open
/// hazard, a repeat the same day (nothing changes), the frequent pass, and
/// reading a town's warnings and a user's unread count.
async fn warnings(cli: &Cli, svc: &Service, people: &People, report: &mut Report) -> Result<()> {
    use bihuan_service::warnings::RunOptions;
    let sys = Ctx::system("bench");
    let mut lines = vec![String::new(), "| warnings | engine | seconds | changes | notifications | summaries |".to_string(), "|---|---|---|---|---|---|".into()];
    for (what, opts) in [
        ("first run (all rules)", RunOptions::default()),
        ("repeat run, same day", RunOptions::default()),
        ("watch pass", RunOptions { watch: true, ..RunOptions::default() }),
    ] {
        let started = Instant::now();
        let r = svc.evaluate_warnings(&sys, None, &opts).await.map_err(|e| anyhow!("{e}"))?;
        let line = format!(
            "| {what} | {} | {:.1} | {} | {} | {} |",
            cli.engine.name(),
            started.elapsed().as_secs_f64(),
            r.changes(),
            r.notifications,
            r.summaries
        );
        println!("{line}");
        lines.push(line);
    }
    let mut list = Vec::new();
    let mut unread = Vec::new();
    let office = people.office_ctx.first().ok_or_else(|| anyhow!("no town"))?;
    for _ in 0..cli.samples.min(100) {
        let t = Instant::now();
        svc.list_warnings(office, &Default::default(), None, 50, false).await.map_err(|e| anyhow!("{e}"))?;
        list.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        svc.unread_count(office).await.map_err(|e| anyhow!("{e}"))?;
        unread.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let p95 = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() * 95 / 100).copied().unwrap_or_default()
    };
    let line = format!("| a town's warnings (service), p95 {:.1} ms; unread count p95 {:.2} ms | {} | | | | |", p95(&mut list), p95(&mut unread), cli.engine.name());
    println!("{line}");
    lines.push(line);
    report.lines.extend(lines);
    Ok(())
}

/// Moves the hazard number counter past rows written by plain SQL.
async fn sync_counter(db: &Db) -> Result<()> {
    let sql = "UPDATE number_counter SET value = (SELECT MAX(num) FROM hazard) WHERE name = 'hazard'";
    match db {
        Db::Sqlite(p) => sqlx::query(sql).execute(p).await?.rows_affected(),
        Db::Postgres(p) => sqlx::query(sql).execute(p).await?.rows_affected(),
    };
    Ok(())
}

async fn plain_count(db: &Db, sql: &str, p: &str) -> Result<i64> {
    Ok(match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).bind(p).fetch_one(pool).await?,
        Db::Postgres(pool) => sqlx::query_scalar(sql).bind(p).fetch_one(pool).await?,
    })
}

#[allow(clippy::too_many_arguments)]
async fn run_fire_case(cli: &Cli, svc: &Service, db: &Db, http: &Http, people: &People, meta: &Meta, report: &mut Report, c: &Case<'_>, fire: Uuid) -> Result<()> {
    let n = cli.samples;
    let api = sample(n, async |i| {
        let t = meta.towns.get(i % meta.towns.len()).ok_or_else(|| anyhow!("towns"))?;
        http.get_ok(&(c.query)(t), &people.admin_token).await?;
        Ok(())
    })
    .await?;
    let service = sample(n, async |i| {
        let t = meta.towns.get(i % meta.towns.len()).ok_or_else(|| anyhow!("towns"))?;
        svc.list_hazards(&people.admin_ctx, &(c.filter)(t)).await.map_err(|e| anyhow!("{e}"))?;
        Ok(())
    })
    .await?;
    let (from, to) = (Ts(time::macros::datetime!(2021-01-01 00:00 +08:00)), Ts(time::macros::datetime!(2022-01-01 00:00 +08:00)));
    let sql = format!("SELECT {} FROM hazard h WHERE h.area_id = $1 AND h.found_at >= $2 AND h.found_at < $3 ORDER BY h.num DESC LIMIT 50", cols());
    let limit = sample(n, async |_| {
        match db {
            Db::Sqlite(p) => sqlx::query(&sql).bind(fire).bind(from).bind(to).fetch_all(p).await?.len(),
            Db::Postgres(p) => sqlx::query(&sql).bind(fire).bind(from).bind(to).fetch_all(p).await?.len(),
        };
        Ok(())
    })
    .await?;
    report.latency(&c.what, &api, Some(&service), &limit);
    Ok(())
}

// ---- creation ----

fn district_ref(meta: &Meta) -> UnitRef {
    UnitRef { id: UnitId(meta.district_id), name: "区".into(), short_name: None, path: UnitPath::root(UnitId(meta.district_id)) }
}

fn firms_and_towns(meta: &Meta) -> (Vec<Firm>, Vec<TownRefs>) {
    let mut firms = Vec::new();
    let mut towns = Vec::new();
    for (ti, t) in meta.towns.iter().enumerate() {
        let gov = UnitRef { id: UnitId(t.id), name: t.name.clone(), short_name: None, path: UnitPath::from_stored(t.path.clone()) };
        let office = UnitRef {
            id: UnitId(t.office_id),
            name: format!("{}安委办", t.name),
            short_name: None,
            path: UnitPath::from_stored(format!("{}{}/", t.path, t.office_id.simple())),
        };
        for f in &t.firms {
            let unit = UnitRef { id: UnitId(f.id), name: f.name.clone(), short_name: None, path: UnitPath::from_stored(f.path.clone()) };
            firms.push(Firm { unit: unit.clone(), town: ti, grid: office.clone(), sector: f.sector });
        }
        towns.push(TownRefs { gov, office });
    }
    (firms, towns)
}

async fn create(cli: &Cli, db: &Db, http: &Http, people: &People, meta: &Meta, report: &mut Report) -> Result<()> {
    let (firms, towns) = firms_and_towns(meta);
    let areas: Vec<(String, AreaId)> = meta.areas.iter().map(|(c, a)| (c.clone(), AreaId(*a))).collect();
    let mut g = Generator::new(cli.seed ^ 0xC4EA7E, &firms, &towns, district_ref(meta), areas, CampaignId(meta.campaign_id), NOW);
    // Request bodies per town, made before the clock starts.
    let mut bodies: Vec<Arc<Vec<String>>> = Vec::new();
    for ti in 0..towns.len() {
        let town_firms: Vec<&Firm> = firms.iter().filter(|f| f.town == ti).collect();
        let mut v = Vec::new();
        for k in 0..400 {
            let Some(f) = town_firms.get(k % town_firms.len().max(1)) else { continue };
            let (d, _) = g.draft(f);
            let mut j = serde_json::to_value(&d)?;
            if let Some(o) = j.as_object_mut() {
                o.insert("source".into(), "inspection".into());
            }
            v.push(j.to_string());
        }
        bodies.push(Arc::new(v));
    }
    let clients = cli.clients;
    let secs = cli.seconds;
    // Through the API.
    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        let token = people.office_tokens.get(c % people.office_tokens.len()).cloned().unwrap_or_default();
        let bodies = bodies.get(c % bodies.len().max(1)).cloned().unwrap_or_default();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let mut first_error = None;
            let mut i = c;
            while Instant::now() < until {
                let body = bodies.get(i % bodies.len().max(1)).cloned().unwrap_or_default();
                i += 1;
                let t = Instant::now();
                match http.send(hyper::Method::POST, "/api/v1/hazards", Some(&token), Some(body)).await {
                    Ok((201, _)) => lat.push(ms(t)),
                    Ok((s, b)) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{s} {}", String::from_utf8_lossy(&b)));
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            (lat, errors, first_error)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e, first) = t.await?;
        lat.extend(l);
        errors += e;
        if let Some(f) = first {
            eprintln!("creation error: {f}");
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let api_rate = lat.len() as f64 / elapsed;
    let api = Stats::of(lat);

    // The limit: the same rows (hazard, its create event, its search entry),
    // one transaction each, from as many tasks, on a raw connection pool.
    let mut templates = Vec::new();
    for k in 0..400 {
        let Some(h) = g.hazard(0, NOW, HazardState::Reported, None) else { continue };
        let _ = k;
        templates.push(h);
    }
    let templates = Arc::new(templates);
    let next = Arc::new(AtomicI64::new(scalar_i64(db, "SELECT MAX(num) FROM hazard").await? + 1));
    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let db = db.clone();
        let templates = templates.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = c;
            while Instant::now() < until {
                let Some(tpl) = templates.get(i % templates.len().max(1)) else { break };
                i += 1;
                let t = Instant::now();
                let num = next.fetch_add(1, Ordering::Relaxed);
                let mut h = tpl.hazard.clone();
                h.id = HazardId::new();
                h.num = num;
                h.code = format!("YH2023-{num:06}");
                let now = OffsetDateTime::now_utc();
                h.found_at = now;
                h.created_at = now;
                h.updated_at = now;
                h.version = 1;
                let Some(ev) = tpl.events.first() else { break };
                let mut ev = ev.clone();
                ev.id = HazardEventId::new();
                ev.hazard_id = h.id;
                ev.at = now;
                let row = HazRow::of(&h);
                let evr = load::EventRow::of(&ev);
                let mut tx = db.begin().await?;
                load::insert_batch(&mut tx, std::slice::from_ref(&row), std::slice::from_ref(&evr), &[]).await?;
                tx.commit().await?;
                lat.push(ms(t));
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut llat = Vec::new();
    for t in tasks {
        llat.extend(t.await??);
    }
    let lelapsed = start.elapsed().as_secs_f64();
    sync_counter(db).await?;
    let limit_rate = llat.len() as f64 / lelapsed;
    let limit = Stats::of(llat);
    report.text(String::new());
    report.text("| creation | engine | clients | created | errors | per second | p50 ms | p99 ms | limit per second | limit p50 ms | limit p99 ms | limit ÷ API |".into());
    report.text("|---|---|---|---|---|---|---|---|---|---|---|---|".into());
    report.text(format!(
        "| POST /api/v1/hazards | {} | {clients} | {} | {errors} | {api_rate:.0} | {:.1} | {:.1} | {limit_rate:.0} | {:.1} | {:.1} | {:.1}× |",
        report.engine,
        api.n,
        api.p50,
        api.p99,
        limit.p50,
        limit.p99,
        if api_rate > 0.0 { limit_rate / api_rate } else { 0.0 }
    ));
    Ok(())
}

// ---- export ----

fn ledger_columns() -> Vec<Column> {
    [
        ("序号", 6.0),
        ("隐患编号", 16.0),
        ("隐患所在单位", 30.0),
        ("隐患名称", 28.0),
        ("隐患描述", 50.0),
        ("隐患部位", 16.0),
        ("隐患类别", 8.0),
        ("隐患等级", 10.0),
        ("治理类型", 10.0),
        ("发现途径", 10.0),
        ("发现时间", 17.0),
        ("发现人", 10.0),
        ("整改责任单位", 30.0),
        ("整改责任人", 10.0),
        ("整改期限", 12.0),
        ("整改措施", 40.0),
        ("整改资金（万元）", 12.0),
        ("状态", 10.0),
        ("整改完成时间", 17.0),
        ("验收人", 10.0),
        ("销号时间", 17.0),
    ]
    .into_iter()
    .map(|(h, w)| Column::new(h, w))
    .collect()
}

fn local(t: OffsetDateTime) -> PrimitiveDateTime {
    let l = t.to_offset(bihuan_domain::clock::SHANGHAI);
    PrimitiveDateTime::new(l.date(), l.time())
}

fn label<T: Copy>(v: &str, parse: fn(&str) -> Option<T>, zh: fn(T) -> &'static str) -> Cell {
    Cell::Text(parse(v).map(zh).unwrap_or(v).to_string())
}

#[derive(sqlx::FromRow)]
struct ExportRow {
    num: i64,
    code: String,
    unit_id: Uuid,
    name: String,
    description: String,
    location: Option<String>,
    hazard_type: String,
    level: String,
    manage_type: String,
    source: String,
    found_at: OffsetDateTime,
    found_by: String,
    responsible_unit_id: Option<Uuid>,
    responsible_person: Option<String>,
    deadline: Option<Date>,
    measures: Option<String>,
    funds: Option<String>,
    state: String,
    submitted_at: Option<OffsetDateTime>,
    accepted_by: Option<String>,
    closed_at: Option<OffsetDateTime>,
}

fn from() -> OffsetDateTime {
    time::macros::datetime!(2021-01-01 00:00 +08:00)
}

/// Runs one export in this process and prints `{"rows", "seconds", "hwm_kb", …}`.
pub async fn export_child(cli: &Cli, mode: &str) -> Result<()> {
    let url = cli.url.clone().ok_or_else(|| anyhow!("--url"))?;
    let out = cli.out.clone().ok_or_else(|| anyhow!("--out"))?;
    let to_day = cli.found_to.as_deref().and_then(bihuan_service::campaigns::parse_date).ok_or_else(|| anyhow!("--found-to"))?;
    let to = to_day.next_day().unwrap_or(to_day).midnight().assume_offset(bihuan_domain::clock::SHANGHAI);
    let db = Db::connect(&url).await?;
    let hwm_before = vm("VmHWM");
    let t = Instant::now();
    let (mut n, mut events) = (0i64, 0i64);
    let tmp = out.with_extension("tmp");
    std::fs::create_dir_all(&tmp)?;
    let mut fetch_ms = 0.0;
    if mode == "service" {
        let svc = service(db.clone(), &tmp);
        let f = HazardFilter { found_from: Some(dataset::local_date(from())), found_to: Some(to_day), ..Default::default() };
        let file = std::io::BufWriter::new(std::fs::File::create(&out)?);
        let s = svc
            .export_hazard_ledger(&Ctx::system("bench"), &f, bihuan_service::ledger::LedgerFormat::Xlsx, file)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        n = s.hazards as i64;
        events = s.events as i64;
    } else if mode != "baseline" {
        // Plain SQL: the ledger's columns by keyset pages, unit names from one
        // query, the timeline of each page by one join; the same writer.
        let mut book = XlsxLedger::create(&out)?;
        book.set_tempdir(&tmp)?;
        let sheet = book.add_sheet(&SheetSpec::new("问题隐患清单", ledger_columns()).with_title("问题隐患清单（基准测试）"))?;
        let tl_cols: Vec<Column> = ["隐患编号", "序号", "时间", "操作", "操作人", "状态变化", "说明"].into_iter().map(Column::fit_header).collect();
        let timeline = book.add_sheet(&SheetSpec::new("整改过程", tl_cols))?;
        let names: Vec<(Uuid, String)> = match &db {
            Db::Sqlite(p) => sqlx::query_as("SELECT id, name FROM unit").fetch_all(p).await?,
            Db::Postgres(p) => sqlx::query_as("SELECT id, name FROM unit").fetch_all(p).await?,
        };
        let names: HashMap<Uuid, String> = names.into_iter().collect();
        let sql = "SELECT num, code, unit_id, name, description, location, hazard_type, level, manage_type, source, found_at, found_by, \
                   responsible_unit_id, responsible_person, deadline, measures, funds, state, submitted_at, accepted_by, closed_at \
                   FROM hazard WHERE found_at >= $1 AND found_at < $2 AND num > $3 ORDER BY num LIMIT 5000";
        let ev_sql = "SELECT h.code, e.seq, e.at, e.action, e.actor_name, e.from_state, e.to_state, e.comment FROM hazard h \
                      JOIN hazard_event e ON e.hazard_id = h.id WHERE h.found_at >= $1 AND h.found_at < $2 AND h.num > $3 AND h.num <= $4 \
                      ORDER BY h.num, e.seq";
        type Ev = (String, i32, OffsetDateTime, String, String, Option<String>, String, Option<String>);
        let mut after = 0i64;
        loop {
            let tf = Instant::now();
            let page: Vec<ExportRow> = match &db {
                Db::Sqlite(p) => sqlx::query_as(sql).bind(Ts(from())).bind(Ts(to)).bind(after).fetch_all(p).await?,
                Db::Postgres(p) => sqlx::query_as(sql).bind(Ts(from())).bind(Ts(to)).bind(after).fetch_all(p).await?,
            };
            let Some(last) = page.last().map(|r| r.num) else { break };
            let evs: Vec<Ev> = match &db {
                Db::Sqlite(p) => sqlx::query_as(ev_sql).bind(Ts(from())).bind(Ts(to)).bind(after).bind(last).fetch_all(p).await?,
                Db::Postgres(p) => sqlx::query_as(ev_sql).bind(Ts(from())).bind(Ts(to)).bind(after).bind(last).fetch_all(p).await?,
            };
            fetch_ms += ms(tf);
            after = last;
            events += evs.len() as i64;
            if mode == "sql-only" {
                n += page.len() as i64;
                continue;
            }
            for r in page {
                n += 1;
                let name = |id: Uuid| names.get(&id).cloned().unwrap_or_default();
                let cells = vec![
                    Cell::Int(n),
                    Cell::Text(r.code),
                    Cell::Text(name(r.unit_id)),
                    Cell::Text(r.name),
                    Cell::Text(r.description),
                    r.location.into(),
                    label(&r.hazard_type, HazardType::parse, HazardType::label_zh),
                    label(&r.level, HazardLevel::parse, HazardLevel::label_zh),
                    label(&r.manage_type, ManageType::parse, ManageType::label_zh),
                    label(&r.source, HazardSource::parse, HazardSource::label_zh),
                    Cell::DateTime(local(r.found_at)),
                    Cell::Text(r.found_by),
                    r.responsible_unit_id.map(name).into(),
                    r.responsible_person.into(),
                    r.deadline.into(),
                    r.measures.into(),
                    r.funds.as_deref().and_then(|f| f.parse::<rust_decimal::Decimal>().ok()).into(),
                    label(&r.state, HazardState::parse, HazardState::label_zh),
                    r.submitted_at.map(local).into(),
                    r.accepted_by.into(),
                    r.closed_at.map(local).into(),
                ];
                book.append(sheet, &cells)?;
            }
            for (code, seq, at, action, actor, from_state, to_state, comment) in evs {
                let change = format!("{} → {}", from_state.as_deref().unwrap_or("—"), to_state);
                book.append(
                    timeline,
                    &[Cell::Text(code), Cell::Int(i64::from(seq)), Cell::DateTime(local(at)), Cell::Text(action), Cell::Text(actor), Cell::Text(change), comment.into()],
                )?;
            }
        }
        book.finish()?;
    }
    let seconds = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_dir_all(&tmp);
    println!(
        "{}",
        serde_json::json!({ "rows": n, "events": events, "seconds": seconds, "fetch_seconds": fetch_ms / 1000.0, "hwm_kb": vm("VmHWM"),
            "hwm_before_kb": hwm_before, "bytes": bytes })
    );
    Ok(())
}

async fn export(cli: &Cli, db: &Db, dir: &Path, url: &str, report: &mut Report) -> Result<()> {
    // The day on which the export_rows-th hazard found since 2021 was found:
    // the export covers 2021-01-01 up to that day.
    let nth: OffsetDateTime = match db {
        Db::Sqlite(p) => sqlx::query_scalar("SELECT found_at FROM hazard WHERE found_at >= $1 ORDER BY found_at LIMIT 1 OFFSET $2")
            .bind(Ts(from()))
            .bind(cli.export_rows as i64 - 1)
            .fetch_one(p)
            .await?,
        Db::Postgres(p) => sqlx::query_scalar("SELECT found_at FROM hazard WHERE found_at >= $1 ORDER BY found_at LIMIT 1 OFFSET $2")
            .bind(Ts(from()))
            .bind(cli.export_rows as i64 - 1)
            .fetch_one(p)
            .await?,
    };
    let found_to = dataset::local_date(nth).to_string();
    let exe = std::env::current_exe()?;
    let mut results = Vec::new();
    for mode in ["baseline", "service", "sql", "sql-only"] {
        let out: PathBuf = dir.join(format!("export-{mode}.xlsx"));
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(["--engine", cli.engine.name(), "--export-child", mode, "--url", url, "--found-to", &found_to]).arg("--out").arg(&out);
        let o = tokio::task::spawn_blocking(move || cmd.output()).await??;
        if !o.status.success() {
            bail!("export child {mode} failed: {}", String::from_utf8_lossy(&o.stderr));
        }
        let v: serde_json::Value = serde_json::from_slice(o.stdout.trim_ascii()).with_context(|| String::from_utf8_lossy(&o.stdout).to_string())?;
        let _ = std::fs::remove_file(&out);
        results.push((mode, v));
    }
    report.text(String::new());
    report.text(format!("export: hazards found 2021-01-01 … {found_to}, as the admin (one child process each; peak RSS = VmHWM)"));
    report.text(String::new());
    report.text("| export | engine | hazards | timeline rows | seconds | of which SQL | peak RSS MB | file MB |".into());
    report.text("|---|---|---|---|---|---|---|---|".into());
    for (mode, v) in &results {
        let what = match *mode {
            "baseline" => "process after connecting, nothing exported",
            "service" => "`Service::export_hazard_ledger` (xlsx, list + timeline)",
            "sql" => "limit: plain keyset SQL + the same `XlsxLedger`",
            _ => "plain SQL fetch only, no file",
        };
        report.text(format!(
            "| {what} | {} | {} | {} | {:.2} | {} | {:.0} | {:.1} |",
            report.engine,
            v.get("rows").cloned().unwrap_or_default(),
            v.get("events").cloned().unwrap_or_default(),
            v.get("seconds").cloned().unwrap_or_default().as_f64().unwrap_or(0.0),
            if *mode == "service" { "—".to_string() } else { format!("{:.2}", v.get("fetch_seconds").cloned().unwrap_or_default().as_f64().unwrap_or(0.0)) },
            v.get("hwm_kb").cloned().unwrap_or_default().as_f64().unwrap_or(0.0) / 1024.0,
            v.get("bytes").cloned().unwrap_or_default().as_f64().unwrap_or(0.0) / 1e6
        ));
    }
    Ok(())
}

// ---- import ----

async fn import(cli: &Cli, svc: &Service, db: &Db, people: &People, meta: &Meta, dir: &Path, report: &mut Report) -> Result<()> {
    use bihuan_service::ledger::ImportMode;
    let n = cli.import_rows;
    let town = meta.towns.first().ok_or_else(|| anyhow!("no town"))?;
    let (firms, towns) = firms_and_towns(meta);
    let town_firms: Vec<&Firm> = firms.iter().filter(|f| f.town == 0).collect();
    let areas: Vec<(String, AreaId)> = meta.areas.iter().map(|(c, a)| (c.clone(), AreaId(*a))).collect();
    let mut g = Generator::new(cli.seed ^ 0x1A1A, &firms, &towns, district_ref(meta), areas, CampaignId(meta.campaign_id), NOW);
    // The office's own spreadsheet: a title row, the header, n new hazards.
    let path = dir.join("import.xlsx");
    {
        let cols: Vec<Column> = ["单位名称", "隐患名称", "隐患描述", "隐患部位", "隐患类别", "隐患等级", "治理类型", "发现日期"].into_iter().map(Column::fit_header).collect();
        let mut book = XlsxLedger::create(&path)?;
        let s = book.add_sheet(&SheetSpec::new("隐患清单", cols).with_title(format!("{}问题隐患清单", town.name)))?;
        for k in 0..n {
            let Some(f) = town_firms.get(k % town_firms.len().max(1)) else { continue };
            let (d, _) = g.draft(f);
            let found = today() - time::Duration::days(1 + (k % 30) as i64);
            book.append(
                s,
                &[
                    Cell::Text(f.unit.name.clone()),
                    Cell::Text(d.name.clone()),
                    Cell::Text(format!("{}（{k}）", d.description)),
                    d.location.clone().into(),
                    Cell::Text(d.hazard_type.as_deref().and_then(HazardType::parse).map(|t| t.label_zh()).unwrap_or("其他").into()),
                    Cell::Text(if d.level.as_deref() == Some("major") { "重大隐患" } else { "一般隐患" }.into()),
                    Cell::Text(if d.manage_type.as_deref() == Some("immediate") { "即查即改" } else { "限期整改" }.into()),
                    Cell::Date(found),
                ],
            )?;
        }
        book.finish()?;
    }
    let bytes = std::fs::read(&path)?;
    let ctx = people.office_ctx.first().ok_or_else(|| anyhow!("no office"))?;
    let t = Instant::now();
    let table = bihuan_reports::read_table(&bytes, "import.xlsx", bihuan_service::ledger::IMPORT_COLUMNS).map_err(|e| anyhow!("{e}"))?;
    let read_s = t.elapsed().as_secs_f64();
    let rows_read = table.rows.len();
    drop(table);
    let hwm0 = vm("VmHWM");
    let t = Instant::now();
    let dry = svc.import_hazard_ledger(ctx, &bytes, "import.xlsx", ImportMode::DryRun).await.map_err(|e| anyhow!("{e}"))?;
    let dry_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let applied = svc.import_hazard_ledger(ctx, &bytes, "import.xlsx", ImportMode::ApplyValid).await.map_err(|e| anyhow!("{e}"))?;
    let apply_s = t.elapsed().as_secs_f64();
    let hwm1 = vm("VmHWM");
    // The limit: the same number of rows by plain SQL in one transaction.
    let mut rows = Vec::new();
    let mut evs = Vec::new();
    let base = scalar_i64(db, "SELECT MAX(num) FROM hazard").await? + 1;
    for k in 0..applied.created.max(1) {
        let Some(mut h) = g.hazard(base + k as i64, NOW, HazardState::Reported, None) else { continue };
        h.hazard.code = format!("YH2023-{:06}", h.hazard.num);
        h.events.truncate(1);
        rows.push(HazRow::of(&h.hazard));
        evs.extend(h.events.iter().map(load::EventRow::of));
    }
    let t = Instant::now();
    let mut tx: Tx = db.begin().await?;
    load::insert_batch(&mut tx, &rows, &evs, &[]).await?;
    tx.commit().await?;
    let limit_s = t.elapsed().as_secs_f64();
    sync_counter(db).await?;
    let _ = std::fs::remove_file(&path);
    report.text(String::new());
    report.text(format!(
        "import: {} rows read; dry run valid {} invalid {}; apply created {} (peak RSS of the bench process {:.0} → {:.0} MB)",
        rows_read,
        dry.valid,
        dry.invalid,
        applied.created,
        hwm0 as f64 / 1024.0,
        hwm1 as f64 / 1024.0
    ));
    report.text(String::new());
    report.text("| import of an xlsx | engine | rows | seconds | rows per second | limit | limit seconds | ÷ limit |".into());
    report.text("|---|---|---|---|---|---|---|---|".into());
    report.text(format!(
        "| `import_hazard_ledger` dry run | {} | {} | {dry_s:.2} | {:.0} | `read_table` alone | {read_s:.2} | {:.1}× |",
        report.engine,
        dry.total,
        dry.total as f64 / dry_s.max(1e-9),
        dry_s / read_s.max(1e-9)
    ));
    report.text(format!(
        "| `import_hazard_ledger` apply | {} | {} | {apply_s:.2} | {:.0} | multi-row INSERT of as many hazards + events + search rows, one transaction | {limit_s:.2} | {:.1}× |",
        report.engine,
        applied.created,
        applied.created as f64 / apply_s.max(1e-9),
        apply_s / limit_s.max(1e-9)
    ));
    Ok(())
}
