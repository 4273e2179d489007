//! Bihuan's use cases. Each command runs in one transaction and writes its
//! audit entry in that same transaction, so a change and its record of who
//! made it commit together or not at all.

pub mod accounts;
pub mod bootstrap;
pub mod calendar;
pub mod campaigns;
pub mod channels;
pub mod circulars;
pub mod attachments;
pub mod hazards;
pub mod idempotency;
pub mod jobs;
pub mod ledger;
pub mod measures;
pub mod notices;
pub mod password;
mod token_cache;
pub mod units;
pub mod warning_views;
pub mod warnings;
pub mod workbench;

use bihuan_domain::clock::Clock;
use bihuan_domain::permission::{authorize, Actor, Decision, Permission};
use bihuan_domain::DomainError;
use bihuan_store::audit::NewEntry;
use bihuan_store::{Db, Tx};
use serde::Serialize;
use std::sync::Arc;

pub type Result<T, E = DomainError> = std::result::Result<T, E>;

/// Settings the use cases need (the server fills them from configuration).
#[derive(Clone, Debug)]
pub struct Settings {
    /// A session ends after this long without a request.
    pub session_idle: time::Duration,
    /// A session ends this long after login, however active.
    pub session_max: time::Duration,
    /// Failed logins for one account within `throttle_window` before it is locked.
    pub max_failures_per_account: i64,
    /// Failed logins from one address within `throttle_window` before it is locked.
    pub max_failures_per_address: i64,
    pub throttle_window: time::Duration,
    pub password: password::Hasher,
    /// Root of the attachment store (`objects/`, `thumbs/`). Content-addressed, so one directory
    /// may safely serve several databases.
    pub files_dir: std::path::PathBuf,
    /// Largest accepted upload, in bytes.
    pub max_upload_bytes: u64,
    /// Hazards read per page of a ledger export ([`ledger::EXPORT_BATCH`]);
    /// tests make it small to cross page boundaries.
    pub export_page_size: i64,
    /// Outside channels: robots, webhooks, e-mail.
    pub notify: NotifySettings,
}

/// How Bihuan reaches people outside the application.
#[derive(Clone, Debug)]
pub struct NotifySettings {
    /// The address users reach Bihuan at (`https://bihuan.example`), for links in messages; without
    /// it messages carry the path only.
    pub public_url: Option<String>,
    /// Hosts a robot or webhook channel may point at (WeCom and DingTalk by default).
    pub allowed_hosts: Vec<String>,
    /// Total time allowed for one send.
    pub timeout: std::time::Duration,
    /// Attempts before a delivery is given up (about 22 hours at the default 8).
    pub max_attempts: u32,
    /// The mail server; without it e-mail channels cannot be created.
    pub smtp: Option<bihuan_notify::SmtpConfig>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            public_url: None,
            allowed_hosts: bihuan_notify::DEFAULT_ALLOWED_HOSTS.iter().map(|h| h.to_string()).collect(),
            timeout: std::time::Duration::from_secs(15),
            max_attempts: bihuan_notify::DEFAULT_MAX_ATTEMPTS,
            smtp: None,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_idle: time::Duration::hours(8),
            session_max: time::Duration::days(7),
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            throttle_window: time::Duration::minutes(15),
            password: password::Hasher::default(),
            files_dir: std::env::temp_dir().join("bihuan-files"),
            max_upload_bytes: 10 * 1024 * 1024,
            export_page_size: ledger::EXPORT_BATCH,
            notify: NotifySettings::default(),
        }
    }
}

/// The application core: storage, clock and settings.
#[derive(Clone)]
pub struct Service {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    /// Bearer tokens resolved in the last moments (see `token_cache`).
    pub(crate) tokens: Arc<token_cache::TokenCache>,
}

/// Who is acting and on behalf of which request.
#[derive(Clone, Debug)]
pub enum Caller {
    User(Actor),
    /// The server itself or an operator at the command line.
    System(String),
}

#[derive(Clone, Debug)]
pub struct Ctx {
    pub caller: Caller,
    pub request_id: Option<String>,
}

impl Ctx {
    pub fn user(actor: Actor, request_id: Option<String>) -> Self {
        Ctx { caller: Caller::User(actor), request_id }
    }
    pub fn system(name: &str) -> Self {
        Ctx { caller: Caller::System(name.to_string()), request_id: None }
    }
    pub fn actor(&self) -> Option<&Actor> {
        match &self.caller {
            Caller::User(a) => Some(a),
            Caller::System(_) => None,
        }
    }
    /// Checks a permission; the system caller may do anything.
    pub fn check(&self, p: Permission<'_>, what_zh: &str, what_en: &str) -> Result<()> {
        match &self.caller {
            Caller::System(_) => Ok(()),
            Caller::User(a) => match authorize(a, p) {
                Decision::Allow => Ok(()),
                Decision::Forbidden => Err(DomainError::forbidden()),
                Decision::NotFound => Err(DomainError::not_found(what_zh, what_en)),
            },
        }
    }
}

impl Service {
    pub fn new(db: Db, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        Service { db, clock, settings: Arc::new(settings), tokens: Arc::default() }
    }

    /// Makes changes to tokens, users, units or area leads take effect on
    /// the next request: call after they commit.
    pub fn forget_resolved_tokens(&self) {
        self.tokens.invalidate();
    }

    pub fn now(&self) -> time::OffsetDateTime {
        bihuan_domain::audit::truncate_to_micros(self.clock.now())
    }

    pub fn today(&self) -> time::Date {
        bihuan_domain::clock::local_date(self.clock.now())
    }

    /// Records an audit entry in `tx`.
    #[allow(clippy::too_many_arguments)]
    pub async fn audit<B: Serialize, A: Serialize>(
        &self,
        tx: &mut Tx,
        ctx: &Ctx,
        action: &str,
        entity_type: &str,
        entity_id: Option<String>,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Result<()> {
        bihuan_store::audit::append(tx, self.audit_entry(ctx, action, entity_type, entity_id, before, after)).await?;
        Ok(())
    }

    /// The entry [`Service::audit`] appends, for writing many at once with
    /// `bihuan_store::audit::append_many`.
    pub(crate) fn audit_entry<B: Serialize, A: Serialize>(
        &self,
        ctx: &Ctx,
        action: &str,
        entity_type: &str,
        entity_id: Option<String>,
        before: Option<&B>,
        after: Option<&A>,
    ) -> NewEntry {
        let (actor_user_id, actor_name, actor_unit_id) = match &ctx.caller {
            Caller::User(a) => (Some(a.user_id), a.username.clone(), Some(a.unit_id)),
            Caller::System(name) => (None, name.clone(), None),
        };
        NewEntry {
            at: self.now(),
            actor_user_id,
            actor_name,
            actor_unit_id,
            action: action.to_string(),
            entity_type: entity_type.to_string(),
            entity_id,
            before: before.map(to_json),
            after: after.map(to_json),
            request_id: ctx.request_id.clone(),
        }
    }
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"unserialisable\":\"{e}\"}}"))
}

/// No value, for audit entries without a before or after state.
pub const NONE: Option<&()> = None;

pub(crate) fn internal(e: impl std::fmt::Display) -> DomainError {
    tracing::error!(error = %e, "internal error");
    DomainError::new(bihuan_domain::ErrorCode::Internal, "服务器内部错误，请稍后重试", "Internal server error; please try again later")
}
