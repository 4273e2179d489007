//! Configuration, in layers: built-in defaults → `bihuan.toml` in the data
//! directory → `BIHUAN_*` environment variables → command-line flags.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Flags (each also read from its `BIHUAN_*` variable by clap).
#[derive(clap::Args, Debug, Default)]
pub struct Overrides {
    /// Where Bihuan keeps its SQLite database and files [default: ./bihuan-data].
    #[arg(long, global = true, env = "BIHUAN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite:PATH or postgres://… [default: sqlite in the data directory].
    #[arg(long, global = true, env = "BIHUAN_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "BIHUAN_ADDR")]
    pub addr: Option<String>,
}

/// The file `bihuan.toml`; every key optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    addr: Option<String>,
    session_idle_minutes: Option<i64>,
    session_max_hours: Option<i64>,
    secure_cookies: Option<bool>,
    files_dir: Option<PathBuf>,
    max_upload_mb: Option<u64>,
    scheduler_enabled: Option<bool>,
    scheduler_tick_seconds: Option<u64>,
    warnings_daily_at: Option<String>,
    warnings_watch_minutes: Option<u8>,
    warnings_digest_at: Option<String>,
    lease_seconds: Option<i64>,
    public_url: Option<String>,
    allowed_webhook_hosts: Option<Vec<String>>,
    smtp: Option<bihuan_notify::SmtpConfig>,
}

#[derive(Serialize)]
pub struct Config {
    pub data_dir: PathBuf,
    #[serde(skip)]
    database_url: Option<String>,
    pub addr: String,
    pub session_idle_minutes: i64,
    pub session_max_hours: i64,
    pub secure_cookies: bool,
    /// The attachment store (default: `files` in the data directory).
    pub files_dir: PathBuf,
    /// Largest accepted upload, in MB.
    pub max_upload_mb: u64,
    #[serde(skip)]
    pub admin_password: Option<String>,
    /// Run the warning jobs in this server (several servers may; a lease decides who runs each slot).
    pub scheduler_enabled: bool,
    /// How often the scheduler looks for due jobs (±5 s of jitter).
    pub scheduler_tick_seconds: u64,
    /// The daily evaluation, Beijing time (HH:MM).
    pub warnings_daily_at: String,
    /// The watch pass interval in minutes (0: off).
    pub warnings_watch_minutes: u8,
    /// How long a job lease lasts without renewal.
    pub lease_seconds: i64,
    /// The daily digest to outside channels, Beijing time (HH:MM).
    pub warnings_digest_at: String,
    /// Where users reach Bihuan (for links in robot messages and e-mail).
    pub public_url: Option<String>,
    /// Hosts a robot or webhook channel may point at.
    pub allowed_webhook_hosts: Vec<String>,
    /// The mail server for e-mail channels ([smtp] in bihuan.toml; the password also from BIHUAN_SMTP_PASSWORD).
    #[serde(skip)]
    pub smtp: Option<bihuan_notify::SmtpConfig>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_parse<T: std::str::FromStr>(name: &str) -> Result<Option<T>> {
    match env(name) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| anyhow::anyhow!("{name}={v} is not valid")),
    }
}

impl Config {
    pub fn load(o: &Overrides) -> Result<Config> {
        let data_dir = o.data_dir.clone().unwrap_or_else(|| PathBuf::from("./bihuan-data"));
        let file_path = data_dir.join("bihuan.toml");
        let file: FileConfig = match std::fs::read_to_string(&file_path) {
            Ok(text) => toml::from_str(&text).with_context(|| format!("{} is not valid", file_path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileConfig::default(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", file_path.display())),
        };
        let c = Config {
            database_url: o.database_url.clone().or(file.database_url),
            addr: o.addr.clone().or(file.addr).unwrap_or_else(|| "127.0.0.1:8080".into()),
            session_idle_minutes: env_parse("BIHUAN_SESSION_IDLE_MINUTES")?.or(file.session_idle_minutes).unwrap_or(480),
            session_max_hours: env_parse("BIHUAN_SESSION_MAX_HOURS")?.or(file.session_max_hours).unwrap_or(168),
            secure_cookies: env_parse("BIHUAN_SECURE_COOKIES")?.or(file.secure_cookies).unwrap_or(false),
            admin_password: env("BIHUAN_ADMIN_PASSWORD"),
            files_dir: env("BIHUAN_FILES_DIR").map(PathBuf::from).or(file.files_dir).unwrap_or_else(|| data_dir.join("files")),
            max_upload_mb: env_parse("BIHUAN_MAX_UPLOAD_MB")?.or(file.max_upload_mb).unwrap_or(10),
            scheduler_enabled: env_parse("BIHUAN_SCHEDULER_ENABLED")?.or(file.scheduler_enabled).unwrap_or(true),
            scheduler_tick_seconds: env_parse("BIHUAN_SCHEDULER_TICK_SECONDS")?.or(file.scheduler_tick_seconds).unwrap_or(30),
            warnings_daily_at: env("BIHUAN_WARNINGS_DAILY_AT").or(file.warnings_daily_at).unwrap_or_else(|| "07:30".into()),
            warnings_watch_minutes: env_parse("BIHUAN_WARNINGS_WATCH_MINUTES")?.or(file.warnings_watch_minutes).unwrap_or(2),
            lease_seconds: env_parse("BIHUAN_LEASE_SECONDS")?.or(file.lease_seconds).unwrap_or(120),
            warnings_digest_at: env("BIHUAN_WARNINGS_DIGEST_AT").or(file.warnings_digest_at).unwrap_or_else(|| "08:30".into()),
            public_url: env("BIHUAN_PUBLIC_URL").or(file.public_url),
            allowed_webhook_hosts: env("BIHUAN_ALLOWED_WEBHOOK_HOSTS")
                .map(|v| v.split(',').map(|h| h.trim().to_string()).filter(|h| !h.is_empty()).collect())
                .or(file.allowed_webhook_hosts)
                .unwrap_or_else(|| bihuan_notify::DEFAULT_ALLOWED_HOSTS.iter().map(|h| h.to_string()).collect()),
            smtp: match file.smtp {
                Some(mut s) => {
                    if let Some(p) = env("BIHUAN_SMTP_PASSWORD") {
                        s.password = Some(p);
                    }
                    s.validate().map_err(|e| anyhow::anyhow!("[smtp]: {}", e.en()))?;
                    Some(s)
                }
                None => None,
            },
            data_dir,
        };
        if c.session_idle_minutes < 1 || c.session_max_hours < 1 {
            bail!("session lengths must be positive");
        }
        if !(1..=200).contains(&c.max_upload_mb) {
            bail!("max_upload_mb must lie between 1 and 200");
        }
        c.schedule()?;
        if c.scheduler_tick_seconds == 0 || c.lease_seconds < 2 {
            bail!("scheduler_tick_seconds must be positive and lease_seconds at least 2");
        }
        Ok(c)
    }

    /// The warning jobs' schedule.
    pub fn schedule(&self) -> Result<bihuan_service::jobs::Schedule> {
        let (h, m) = self
            .warnings_daily_at
            .split_once(':')
            .and_then(|(h, m)| Some((h.trim().parse::<u8>().ok()?, m.trim().parse::<u8>().ok()?)))
            .with_context(|| format!("warnings_daily_at = {:?} is not HH:MM", self.warnings_daily_at))?;
        let daily_at = time::Time::from_hms(h, m, 0).with_context(|| format!("warnings_daily_at = {:?} is not a time", self.warnings_daily_at))?;
        let digest_at = self
            .warnings_digest_at
            .split_once(':')
            .and_then(|(h, m)| time::Time::from_hms(h.trim().parse().ok()?, m.trim().parse().ok()?, 0).ok())
            .with_context(|| format!("warnings_digest_at = {:?} is not HH:MM", self.warnings_digest_at))?;
        Ok(bihuan_service::jobs::Schedule {
            digest_at,
            daily_at,
            watch_minutes: self.warnings_watch_minutes,
            lease: time::Duration::seconds(self.lease_seconds),
        })
    }

    /// The database URL; the default is a SQLite file in the data directory,
    /// which is created when missing.
    pub fn database_url(&self) -> Result<String> {
        match &self.database_url {
            Some(u) => {
                if !(u.starts_with("sqlite:") || u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                    bail!(
                        "the database URL must start with sqlite: or postgres:// (got {})",
                        bihuan_store::redact_url(u)
                    );
                }
                Ok(u.clone())
            }
            None => {
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("cannot create the data directory {}", self.data_dir.display()))?;
                Ok(format!("sqlite:{}", self.data_dir.join("bihuan.db").display()))
            }
        }
    }

    /// The effective configuration as TOML, with secrets redacted.
    pub fn print(&self) -> Result<String> {
        let mut out = toml::to_string(self)?;
        let url = match &self.database_url {
            Some(u) => bihuan_store::redact_url(u),
            None => format!("sqlite:{} (default)", self.data_dir.join("bihuan.db").display()),
        };
        out.push_str(&format!("database_url = {url:?}\n"));
        out.push_str(&format!(
            "admin_password = {:?}\n",
            if self.admin_password.is_some() { "*** (from BIHUAN_ADMIN_PASSWORD)" } else { "(not set)" }
        ));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("bihuan-config-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }

    #[test]
    fn defaults_then_file_then_flags() {
        let dir = temp_dir();
        let flags = |addr: Option<&str>| Overrides { data_dir: Some(dir.clone()), database_url: None, addr: addr.map(str::to_string) };
        let c = Config::load(&flags(None)).expect("defaults");
        assert_eq!(c.addr, "127.0.0.1:8080");
        assert!(c.database_url().expect("url").ends_with("bihuan.db"));

        std::fs::write(dir.join("bihuan.toml"), "addr = \"0.0.0.0:9000\"\nsession_idle_minutes = 30\n").expect("write");
        let c = Config::load(&flags(None)).expect("file");
        assert_eq!((c.addr.as_str(), c.session_idle_minutes), ("0.0.0.0:9000", 30));
        let c = Config::load(&flags(Some("127.0.0.1:7000"))).expect("flag wins");
        assert_eq!(c.addr, "127.0.0.1:7000");

        std::fs::write(dir.join("bihuan.toml"), "adress = \"typo\"\n").expect("write");
        let err = Config::load(&flags(None)).err().expect("unknown key is an error");
        assert!(format!("{err:#}").contains("adress"), "{err:#}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn malformed_database_urls_are_errors_and_secrets_are_redacted() {
        let dir = temp_dir();
        let o = Overrides { data_dir: Some(dir.clone()), database_url: Some("mysql://u:pw@h/db".into()), addr: None };
        let c = Config::load(&o).expect("load");
        assert!(c.database_url().is_err());
        assert!(!dir.join("bihuan.db").exists(), "no file is created for a bad URL");
        let o = Overrides { database_url: Some("postgres://bihuan:s3cret@db/x".into()), ..o };
        let printed = Config::load(&o).expect("load").print().expect("print");
        assert!(printed.contains("postgres://bihuan:***@db/x") && !printed.contains("s3cret"), "{printed}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
