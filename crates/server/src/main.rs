//! `bihuan`: one binary that serves the web application and API and carries
//! the operator's commands.

mod config;
mod files_gc;
mod ops;

use anyhow::{bail, Context, Result};
use bihuan_domain::campaign::parse_plan;
use bihuan_domain::clock::Clock;
use bihuan_domain::ids::{TokenId, UnitId};
use bihuan_service::accounts::NewUser;
use bihuan_service::{Ctx, Service, Settings};
use clap::{Parser, Subcommand};
use config::{Config, Overrides};
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "bihuan", version, about = "闭环 Bihuan: safety-production rectification campaigns and closed-loop hazard management")]
struct Cli {
    #[command(flatten)]
    overrides: Overrides,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web application and API (creates and migrates the database on first start).
    Serve {
        /// Add a fictional demo town with one user per role (passwords printed once).
        #[arg(long)]
        demo: bool,
        /// Run as if the clock were this far ahead (e.g. 30d, 12h), to watch
        /// reminders and escalations arrive. Only with --demo or
        /// BIHUAN_ALLOW_CLOCK_OFFSET=1; shown on every page.
        #[arg(long, value_name = "DURATION")]
        clock_offset: Option<String>,
    },
    /// Early warnings (预警): evaluate the rules, list them.
    Warnings {
        #[command(subcommand)]
        command: WarningsCommand,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Ask a running server whether it is healthy (exit code 0 when it is).
    Healthcheck,
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import or export campaign plans.
    Campaign {
        #[command(subcommand)]
        command: CampaignCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The hazard ledger (问题隐患清单台账): export and import.
    Hazards {
        #[command(subcommand)]
        command: HazardsCommand,
    },
    /// The working-day calendar (法定节假日和调休).
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// The attachment store.
    Files {
        #[command(subcommand)]
        command: FilesCommand,
    },
}

#[derive(Subcommand)]
enum HazardsCommand {
    /// Write the ledger of the hazards matching the filters (xlsx with the timeline, or CSV).
    Export {
        /// xlsx or csv.
        #[arg(long, default_value = "xlsx")]
        format: String,
        /// The file to write (replaced only once the export is complete).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Export what this user may see (default: everything).
        #[arg(long = "as", value_name = "USER")]
        as_user: Option<String>,
        #[command(flatten)]
        filters: ops::ExportFilters,
    },
    /// Check a ledger (xlsx, xls, ods, CSV) row by row and, with --apply, import it as a user.
    /// Exit code 2 when rows are invalid.
    Import {
        file: std::path::PathBuf,
        /// The user the hazards are registered by (their units, their name).
        #[arg(long = "as", value_name = "USER")]
        as_user: String,
        /// `valid`: import the valid rows; `all-or-nothing`: import every row or none.
        /// Without it: a dry run that writes nothing.
        #[arg(long, value_name = "valid|all-or-nothing")]
        apply: Option<String>,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Replace years of the holiday calendar from a file in the format of
    /// calendars/cn-public-holidays.toml (every notice checked before any is written).
    Import {
        file: std::path::PathBuf,
        /// Only this year of the file.
        #[arg(long)]
        year: Option<i32>,
        /// Check the file only; change nothing.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand)]
enum FilesCommand {
    /// List (or with --apply delete) stored files no attachment refers to,
    /// older than an hour (so uploads in progress are left alone).
    Gc {
        #[arg(long)]
        apply: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration, secrets redacted.
    Print,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from BIHUAN_NEW_PASSWORD or generated and printed.
    Create {
        username: String,
        #[arg(long)]
        name: String,
        /// admin, office, department, locality, inspector, enterprise, expert, leader
        #[arg(long)]
        role: String,
        /// The unit's id, or its exact name.
        #[arg(long)]
        unit: String,
    },
    /// Set a user's password (from BIHUAN_NEW_PASSWORD, or generated and printed).
    Passwd { username: String },
    /// List users.
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print its secret once.
    Create {
        username: String,
        #[arg(long, default_value = "cli")]
        name: String,
        #[arg(long)]
        days: Option<i64>,
    },
    /// Revoke a token by its id.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum CampaignCommand {
    /// Load a campaign file (docs/campaign-format.md); errors name the line and the field.
    Import {
        file: std::path::PathBuf,
        /// Check the file only; change nothing.
        #[arg(long)]
        check: bool,
    },
    /// Write a loaded campaign in the campaign file format to standard output.
    Export {
        /// The campaign's code; the only campaign when omitted.
        code: Option<String>,
    },
}

#[derive(Subcommand)]
enum WarningsCommand {
    /// Evaluate the rules now, under the same lease as the servers (exit code 3 when a run is in progress elsewhere).
    Run {
        /// Only this rule (repeatable).
        #[arg(long = "rule", value_name = "CODE")]
        rules: Vec<String>,
        /// The frequent pass (leaves out the rules that read a year of hazards).
        #[arg(long)]
        watch: bool,
        /// Count what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Evaluate as of this moment (RFC 3339); only with BIHUAN_ALLOW_CLOCK_OFFSET=1.
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
    },
    /// List the rules with their parameters and sources.
    Rules,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain and name the first broken link.
    Verify,
}

struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }
}

/// How often each server looks for deliveries to send.
const DELIVERY_TICK_SECONDS: u64 = 5;

/// The system clock moved by a fixed offset (simulation only).
struct OffsetClock(time::Duration);
impl Clock for OffsetClock {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc() + self.0
    }
}

/// `30d`, `12h`, `90m`, `45s`.
fn parse_offset(s: &str) -> Result<time::Duration> {
    let s = s.trim();
    let unit_at = s.char_indices().last().map(|(i, _)| i).unwrap_or(0);
    let (n, unit) = s.split_at(unit_at);
    let n: i64 = n.parse().with_context(|| format!("{s:?} is not a duration like 30d, 12h, 90m"))?;
    Ok(match unit {
        "d" => time::Duration::days(n),
        "h" => time::Duration::hours(n),
        "m" => time::Duration::minutes(n),
        "s" => time::Duration::seconds(n),
        _ => bail!("{s:?} is not a duration like 30d, 12h, 90m"),
    })
}

fn clock_offset_allowed(demo: bool) -> bool {
    demo || std::env::var("BIHUAN_ALLOW_CLOCK_OFFSET").is_ok_and(|v| v == "1")
}

/// This process's name in job leases: host, process id and a random part.
fn node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "host".into());
    format!("{host}:{}:{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..6])
}

#[tokio::main]
async fn main() {
    // One TLS crypto provider (ring) for the robot, webhook and mail clients.
    bihuan_notify::install_crypto_provider();
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        if let Some(invalid) = e.downcast_ref::<ops::InvalidRows>() {
            eprintln!("{invalid}");
            std::process::exit(2);
        }
        eprintln!("错误 / error: {e:#}");
        std::process::exit(1);
    }
}

async fn open(config: &Config) -> Result<Service> {
    open_with_clock(config, Arc::new(SystemClock)).await
}

async fn open_with_clock(config: &Config, clock: Arc<dyn Clock>) -> Result<Service> {
    let url = config.database_url()?;
    let db = bihuan_store::Db::connect(&url)
        .await
        .with_context(|| format!("cannot open the database {}", bihuan_store::redact_url(&url)))?;
    db.migrate().await.context("cannot migrate the database")?;
    let settings = Settings {
        session_idle: time::Duration::minutes(config.session_idle_minutes),
        session_max: time::Duration::hours(config.session_max_hours),
        files_dir: config.files_dir.clone(),
        max_upload_bytes: config.max_upload_mb * 1024 * 1024,
        notify: bihuan_service::NotifySettings {
            public_url: config.public_url.clone(),
            allowed_hosts: config.allowed_webhook_hosts.clone(),
            smtp: config.smtp.clone(),
            ..Default::default()
        },
        ..Settings::default()
    };
    Ok(Service::new(db, clock, settings))
}

fn new_password() -> (String, bool) {
    match std::env::var("BIHUAN_NEW_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (bihuan_service::password::generate(), true),
    }
}

async fn run(cli: Cli) -> Result<()> {
    let config = Config::load(&cli.overrides)?;
    match cli.command {
        Command::Serve { demo, clock_offset } => {
            let offset = match clock_offset {
                Some(o) if clock_offset_allowed(demo) => Some(parse_offset(&o)?),
                Some(_) => bail!("--clock-offset is for demonstrations only: use it with --demo or set BIHUAN_ALLOW_CLOCK_OFFSET=1"),
                None => None,
            };
            serve(config, demo, offset).await
        }
        Command::Warnings { command } => warnings_command(&config, command).await,
        Command::Migrate => {
            let svc = open(&config).await?;
            let applied = svc.db.applied_migrations().await?;
            println!("database is at migration {}", applied.last().copied().unwrap_or(0));
            Ok(())
        }
        Command::Healthcheck => healthcheck(&config).await,
        Command::Config { command: ConfigCommand::Print } => {
            print!("{}", config.print()?);
            Ok(())
        }
        Command::User { command } => {
            let svc = open(&config).await?;
            let ctx = Ctx::system("cli");
            match command {
                UserCommand::Create { username, name, role, unit } => {
                    let unit_id = resolve_unit(&svc, &unit).await?;
                    let (password, generated) = new_password();
                    let user = svc
                        .create_user(
                            &ctx,
                            &NewUser {
                                username,
                                display_name: name,
                                unit_id: unit_id.to_string(),
                                role,
                                password: password.clone(),
                                must_change_password: generated,
                                ..Default::default()
                            },
                        )
                        .await?;
                    println!("created user {} ({})", user.username, user.id);
                    if generated {
                        println!("password (shown once, must be changed at first login): {password}");
                    }
                }
                UserCommand::Passwd { username } => {
                    let user = svc.user_by_name(&username).await?.with_context(|| format!("no user {username}"))?;
                    let (password, generated) = new_password();
                    svc.reset_password(&ctx, user.id, &password).await?;
                    println!("password of {username} changed; their sessions were ended");
                    if generated {
                        println!("new password (shown once): {password}");
                    }
                }
                UserCommand::List => {
                    let users = svc.list_users(&ctx, &Default::default()).await?;
                    for (u, unit) in users {
                        println!("{}\t{}\t{}\t{}\t{}", u.username, u.display_name, u.role.as_str(), unit, if u.active { "active" } else { "inactive" });
                    }
                }
            }
            Ok(())
        }
        Command::Token { command } => {
            let svc = open(&config).await?;
            let ctx = Ctx::system("cli");
            match command {
                TokenCommand::Create { username, name, days } => {
                    let user = svc.user_by_name(&username).await?.with_context(|| format!("no user {username}"))?;
                    let (token, secret) = svc.create_token(&ctx, user.id, &name, days).await?;
                    println!("token {} created for {username}", token.id);
                    println!("{secret}");
                }
                TokenCommand::Revoke { id } => {
                    let id = TokenId::parse(&id).context("not a token id")?;
                    svc.revoke_token(&ctx, id).await?;
                    println!("token {id} revoked");
                }
            }
            Ok(())
        }
        Command::Campaign { command } => match command {
            CampaignCommand::Import { file, check } => {
                let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
                let plan = match parse_plan(&text) {
                    Ok(p) => p,
                    Err(errors) => {
                        for e in &errors {
                            eprintln!("{}:{e}", file.display());
                        }
                        bail!("{} problem(s) in {}; nothing was imported", errors.len(), file.display());
                    }
                };
                if check {
                    println!(
                        "{} is valid: {} phases, {} areas, {} tasks, {} indicators",
                        file.display(),
                        plan.phases.len(),
                        plan.areas.len(),
                        plan.areas.iter().map(|a| a.tasks.len()).sum::<usize>(),
                        plan.indicators.len()
                    );
                    return Ok(());
                }
                let svc = open(&config).await?;
                let r = svc.import_plan(&Ctx::system("cli"), &plan, None).await?;
                println!(
                    "{} campaign {}: {} units created, {} phases, {} areas, {} tasks, {} indicators",
                    if r.created { "imported" } else { "updated" },
                    r.code,
                    r.units_created,
                    r.phases,
                    r.areas,
                    r.tasks,
                    r.indicators
                );
                Ok(())
            }
            CampaignCommand::Export { code } => {
                let svc = open(&config).await?;
                let ctx = Ctx::system("cli");
                let id = match code {
                    Some(c) => svc.campaign_id_by_code(&c).await?.with_context(|| format!("没有编号为 {c} 的专项行动 / no campaign with code {c}"))?,
                    None => {
                        let all = svc.list_campaigns(&ctx).await?;
                        match all.as_slice() {
                            [one] => one.id,
                            [] => bail!("no campaign is loaded"),
                            _ => bail!(
                                "several campaigns are loaded; name one: {}",
                                all.iter().map(|c| c.code.as_str()).collect::<Vec<_>>().join(", ")
                            ),
                        }
                    }
                };
                let plan = svc.export_plan(&ctx, id).await?;
                print!("{}", plan.to_toml().map_err(anyhow::Error::msg)?);
                Ok(())
            }
        },
        Command::Audit { command: AuditCommand::Verify } => {
            let svc = open(&config).await?;
            let report = svc.verify_audit().await?;
            match report.result {
                Ok(()) => {
                    println!("audit chain intact: {} entries verified", report.checked);
                    Ok(())
                }
                Err(b) => bail!("audit chain broken: {b} ({} entries verified before it)", report.checked),
            }
        }
        Command::Hazards { command } => {
            let svc = open(&config).await?;
            match command {
                HazardsCommand::Export { format, out, as_user, filters } => {
                    let ctx = ops::acting(&svc, as_user.as_deref()).await?;
                    ops::export_hazards(&svc, &ctx, &format, &out, &filters).await
                }
                HazardsCommand::Import { file, as_user, apply } => {
                    let ctx = ops::acting(&svc, Some(&as_user)).await?;
                    ops::import_hazards(&svc, &ctx, &file, apply.as_deref()).await
                }
            }
        }
        Command::Calendar { command: CalendarCommand::Import { file, year, check } } => {
            let svc = open(&config).await?;
            ops::import_calendar(&svc, &file, year, check).await
        }
        Command::Files { command: FilesCommand::Gc { apply } } => {
            let svc = open(&config).await?;
            files_gc::run(&svc, apply).await
        }
    }
}

async fn resolve_unit(svc: &Service, unit: &str) -> Result<UnitId> {
    if let Some(id) = UnitId::parse(unit) {
        return Ok(id);
    }
    let ctx = Ctx::system("cli");
    let found = svc
        .list_units(&ctx, &bihuan_store::units::UnitFilter { q: Some(unit.to_string()), limit: 50, ..Default::default() })
        .await?;
    let exact: Vec<_> = found.iter().filter(|u| u.name == unit || u.short_name.as_deref() == Some(unit)).collect();
    match exact.as_slice() {
        [one] => Ok(one.id),
        [] => bail!("no unit named {unit}"),
        _ => bail!("several units are named {unit}; give the unit's id"),
    }
}

async fn healthcheck(config: &Config) -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = config.addr.clone();
    let mut stream = tokio::time::timeout(std::time::Duration::from_secs(5), tokio::net::TcpStream::connect(&addr))
        .await
        .context("timed out")?
        .with_context(|| format!("nothing listens on {addr}"))?;
    stream.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut buf = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut buf)).await.context("timed out")??;
    let text = String::from_utf8_lossy(&buf);
    let first = text.lines().next().unwrap_or_default();
    if first.contains(" 200 ") {
        println!("healthy: {}", text.rsplit("\r\n\r\n").next().unwrap_or_default());
        Ok(())
    } else {
        bail!("unhealthy: {first}")
    }
}

async fn warnings_command(config: &Config, command: WarningsCommand) -> Result<()> {
    match command {
        WarningsCommand::Rules => {
            let svc = open(config).await?;
            for r in svc.warning_rules().await? {
                let name = bihuan_domain::warning::RuleCode::parse(&r.code).map(|c| c.label_zh()).unwrap_or("");
                println!("{}\t{}\t{}\t{}\t{}", r.code, name, if r.enabled { "on" } else { "off" }, r.params_json, r.source_document);
            }
            Ok(())
        }
        WarningsCommand::Run { rules, watch, dry_run, at } => {
            let clock: Arc<dyn Clock> = match at {
                Some(at) if clock_offset_allowed(false) => {
                    let t = time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
                        .with_context(|| format!("--at {at:?} is not an RFC 3339 time such as 2021-05-17T07:30:00+08:00"))?;
                    Arc::new(OffsetClock(t - time::OffsetDateTime::now_utc()))
                }
                Some(_) => bail!("--at is for simulations only: set BIHUAN_ALLOW_CLOCK_OFFSET=1"),
                None => Arc::new(SystemClock),
            };
            let svc = open_with_clock(config, clock).await?;
            let mut codes = Vec::new();
            for r in &rules {
                codes.push(bihuan_domain::warning::RuleCode::parse(r).with_context(|| format!("no rule {r:?}; see `bihuan warnings rules`"))?);
            }
            let opts = bihuan_service::warnings::RunOptions { trigger: "cli".into(), rules: codes, watch, dry_run };
            let report = if dry_run {
                svc.evaluate_warnings(&Ctx::system("cli"), None, &opts).await?
            } else {
                let job = if watch { bihuan_service::jobs::WATCH } else { bihuan_service::jobs::DAILY };
                let slot = format!("manual-{}", svc.now().unix_timestamp());
                match svc.run_job(job, &node_name(), &slot, true, &config.schedule()?, &opts).await? {
                    bihuan_service::jobs::JobOutcome::Ran { report, .. } => report,
                    bihuan_service::jobs::JobOutcome::Held { holder, until, .. } => {
                        eprintln!("另一进程正在运行预警任务 / a run is in progress on {holder} (lease until {until:?})");
                        std::process::exit(3);
                    }
                    bihuan_service::jobs::JobOutcome::NotDue { .. } => bail!("the job is backing off after a failure; see the runs on /warnings/rules"),
                }
            };
            println!("预警评估 / warnings evaluated for {}{}", report.today, if dry_run { " (dry run: nothing written)" } else { "" });
            println!("{:<24} {:>7} {:>8} {:>9} {:>8} {:>8} {:>7}", "rule", "opened", "reopened", "escalated", "resolved", "conflict", "active");
            for (code, c) in &report.counts {
                // A dry run writes nothing, so it has no count of warnings active afterwards.
                let active = if dry_run { "—".to_string() } else { c.active.to_string() };
                println!("{code:<24} {:>7} {:>8} {:>9} {:>8} {:>8} {active:>7}", c.opened, c.reopened, c.escalated, c.resolved, c.conflicts);
            }
            println!("notifications: {}, summaries: {}", report.notifications, report.summaries);
            Ok(())
        }
    }
}

async fn serve(config: Config, demo: bool, offset: Option<time::Duration>) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("BIHUAN_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()))
        .init();
    let clock: Arc<dyn Clock> = match offset {
        Some(o) => {
            println!("模拟时间：时钟前移 {o} / simulated time: the clock runs {o} ahead");
            Arc::new(OffsetClock(o))
        }
        None => Arc::new(SystemClock),
    };
    let svc = open_with_clock(&config, clock).await?;
    let first = svc.first_start(config.admin_password.as_deref()).await?;
    if let Some(code) = &first.campaign_loaded {
        println!("已载入内置行动方案 / loaded the bundled campaign: {code}");
    }
    if first.admin_created {
        match &first.generated_admin_password {
            Some(p) => println!("已创建管理员 admin，初始密码（仅显示一次）/ created administrator admin, password (shown once): {p}"),
            None => println!("已创建管理员 admin（密码取自 BIHUAN_ADMIN_PASSWORD）/ created administrator admin (password from BIHUAN_ADMIN_PASSWORD)"),
        }
    }
    if demo {
        let accounts = svc.load_demo().await?;
        if accounts.is_empty() {
            println!("演示数据已存在 / the demo town is already loaded (passwords were printed when it was created; reset one with `bihuan user passwd demo-office`)");
        } else {
            println!("已加入演示镇（虚构）/ added the fictional demo town; accounts (passwords shown once):");
            for a in &accounts {
                println!("  {:<18} {:<10} {:<12} {}", a.username, a.password, a.role.as_str(), a.unit);
            }
        }
    }
    let listener = tokio::net::TcpListener::bind(&config.addr).await.with_context(|| format!("cannot listen on {}", config.addr))?;
    println!("闭环 Bihuan 正在运行 / listening on http://{}", listener.local_addr()?);
    let node = node_name();
    let scheduler = config.scheduler_enabled.then(|| {
        let (svc, node, schedule, tick) = (svc.clone(), node.clone(), config.schedule(), config.scheduler_tick_seconds);
        tokio::spawn(async move {
            let Ok(schedule) = schedule else { return };
            loop {
                // Each tick in its own task: a panic in one is logged and the next tick runs.
                let (s2, n2, sc2) = (svc.clone(), node.clone(), schedule.clone());
                match tokio::spawn(async move { s2.run_due_jobs(&n2, &sc2).await }).await.unwrap_or_else(|e| {
                    Err(bihuan_domain::DomainError::new(bihuan_domain::ErrorCode::Internal, "任务异常中止", format!("the job task stopped: {e}")))
                }) {
                    Ok(outcomes) => {
                        for o in outcomes {
                            if let bihuan_service::jobs::JobOutcome::Ran { job, slot, report } = o {
                                tracing::info!(job, slot, changes = report.changes(), notifications = report.notifications, "warning job ran");
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "warning job failed"),
                }
                let jitter = (uuid::Uuid::new_v4().as_u128() % 10_000) as u64;
                tokio::time::sleep(std::time::Duration::from_millis(tick * 1000 + jitter.saturating_sub(5000).min(tick * 500))).await;
            }
        })
    });
    // Every server sends what is due; each delivery is claimed by one of them.
    let worker = {
        let (svc, node) = (svc.clone(), node.clone());
        tokio::spawn(async move {
            loop {
                let (s2, n2) = (svc.clone(), node.clone());
                match tokio::spawn(async move { s2.deliver_due(&n2).await }).await.unwrap_or_else(|e| {
                    Err(bihuan_domain::DomainError::new(bihuan_domain::ErrorCode::Internal, "发送任务异常中止", format!("the delivery task stopped: {e}")))
                }) {
                    Ok(r) if r.sent + r.retried + r.failed > 0 => tracing::info!(sent = r.sent, retried = r.retried, failed = r.failed, "deliveries"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "delivery worker"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(DELIVERY_TICK_SECONDS)).await;
            }
        })
    };
    let state = bihuan_web::AppState {
        svc: svc.clone(),
        config: Arc::new(bihuan_web::WebConfig { secure_cookies: config.secure_cookies, clock_offset: offset }),
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    bihuan_web::serve(listener, state, shutdown).await?;
    if let Some(s) = scheduler {
        s.abort();
    }
    worker.abort();
    svc.release_leases(&node).await?;
    Ok(())
}
