//! Reaching people outside Bihuan: channels (a unit's WeCom or DingTalk
//! group robot, a webhook, a user's e-mail), which warnings each takes and
//! how soon (subscriptions), the deliveries the engine writes for them, the
//! worker that sends them with retries and backoff, and the daily digest.

use crate::{Ctx, Result, Service, NONE};
use bihuan_domain::clock::{local_date, SHANGHAI};
use bihuan_domain::ids::UnitId;
use bihuan_domain::permission::{authorize, Permission};
use bihuan_domain::unit::UnitPath;
use bihuan_domain::warning::{RuleCode, WarningLevel};
use bihuan_domain::{DomainError, FieldError};
use bihuan_notify::{ChannelKind, Format, Outcome};
use bihuan_store::channels::{self as store, ChannelRow, DeliveryRow, SubscriptionRow};
use bihuan_store::notify::NotificationRow;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime, Time};
use uuid::Uuid;

/// More immediate messages than this to one channel in one run become one summary.
pub const CHANNEL_FLOOD_LIMIT: usize = 5;
/// How long a claimed delivery may take before another process may retry it.
const CLAIM: Duration = Duration::seconds(60);
/// Deliveries read per worker pass.
const WORKER_BATCH: i64 = 20;

/// What a channel form or API call sends.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelInput {
    /// `email`, `wecom`, `dingtalk` or `webhook`.
    pub kind: String,
    /// The unit whose channel it is (a group robot); absent: the caller's own (e-mail).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub unit_id: Option<UnitId>,
    /// `own` (warnings addressed to the unit) or `subtree` (every warning below it).
    pub scope: Option<String>,
    pub name: String,
    /// The robot's webhook URL, or the e-mail address.
    pub address: String,
    /// DingTalk 加签 secret, or the webhook's HMAC key.
    pub secret: Option<String>,
    /// `markdown` or `text`.
    pub format: Option<String>,
    pub enabled: Option<bool>,
    /// Hold messages from 22:00 to 07:30.
    pub quiet_hours: Option<bool>,
    /// Below this level nothing is sent (default blue: everything).
    pub min_level: Option<String>,
    /// At or above this level a message goes at once; below it, in the 08:30 digest. Empty: digest only.
    pub immediate_level: Option<String>,
}

/// A channel as shown: the address only by its host and last characters.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelView {
    pub id: Uuid,
    pub kind: String,
    pub unit_id: Option<Uuid>,
    pub unit_name: Option<String>,
    pub user_id: Option<Uuid>,
    pub scope: String,
    pub name: String,
    pub address: String,
    pub has_secret: bool,
    pub format: String,
    pub enabled: bool,
    pub quiet_hours: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub failing_since: Option<OffsetDateTime>,
    pub min_level: String,
    pub immediate_level: Option<String>,
    pub version: i64,
}

/// A delivery with its channel, for the log.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub channel_name: String,
    pub kind: String,
    pub title: String,
    pub status: String,
    pub attempts: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub next_attempt_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub sent_at: Option<OffsetDateTime>,
    pub last_http_status: Option<i64>,
    pub last_error: Option<String>,
    pub log: Vec<AttemptView>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttemptView {
    pub attempt: i64,
    pub node: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub started_at: OffsetDateTime,
    pub elapsed_ms: i64,
    pub outcome: String,
    pub http_status: Option<i64>,
    pub response: Option<String>,
    pub error: Option<String>,
}

/// What one worker pass did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct WorkerReport {
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
}

/// The routing facts of one channel, loaded once per engine run.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub row: ChannelRow,
    pub unit_path: Option<UnitPath>,
    pub subs: Vec<SubscriptionRow>,
}

impl Route {
    /// How a warning at `level` by `rule` goes to this channel: None (not at all), Some(true) at once, Some(false) in the digest.
    pub fn decide(&self, rule: RuleCode, level: WarningLevel) -> Option<bool> {
        let sub = self.subs.iter().find(|s| s.rule_code == rule.as_str()).or_else(|| self.subs.iter().find(|s| s.rule_code == "*"));
        let (min, immediate) = match sub {
            Some(s) => (WarningLevel::parse(&s.min_level).unwrap_or(WarningLevel::Blue), s.immediate_level.as_deref().and_then(WarningLevel::parse)),
            None => (WarningLevel::Blue, Some(WarningLevel::Red)),
        };
        if !level.at_least(min) {
            return None;
        }
        Some(immediate.is_some_and(|i| level.at_least(i)))
    }
}

pub(crate) fn level_of(s: &str) -> Option<bihuan_notify::Level> {
    bihuan_notify::Level::parse(s)
}

fn disabled() -> DomainError {
    DomainError::conflict("该通知渠道已停用，请先启用", "This channel is switched off; switch it on first")
}

/// Text from users (hazard names, unit names) as it goes into a robot's
/// markdown: link and markup characters are replaced by their full-width
/// forms, so a hazard named like a link cannot post one in the group.
pub(crate) fn plain(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '[' => '［',
            ']' => '］',
            '(' => '（',
            ')' => '）',
            '<' => '＜',
            '>' => '＞',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect()
}

/// When a message made now may go: at once, or after the quiet hours (22:00–07:30 Beijing time).
pub(crate) fn send_time(now: OffsetDateTime, quiet: bool) -> OffsetDateTime {
    if !quiet {
        return now;
    }
    let local = now.to_offset(SHANGHAI);
    let (start, end) = (Time::from_hms(22, 0, 0).unwrap_or(Time::MIDNIGHT), Time::from_hms(7, 30, 0).unwrap_or(Time::MIDNIGHT));
    let t = local.time();
    if t >= start {
        let next = local.date().next_day().unwrap_or(local.date());
        next.with_time(end).assume_offset(SHANGHAI)
    } else if t < end {
        local.date().with_time(end).assume_offset(SHANGHAI)
    } else {
        now
    }
}

impl Service {
    pub(crate) fn link(&self, path: &str) -> String {
        match &self.settings.notify.public_url {
            Some(base) => format!("{}{path}", base.trim_end_matches('/')),
            None => path.to_string(),
        }
    }

    /// A delivery row for a channel, with the payload shaped for it.
    pub(crate) fn delivery_for(
        &self,
        ch: &ChannelRow,
        dedupe_key: String,
        kind: &str,
        warning_event_id: Option<Uuid>,
        msg: &bihuan_notify::Message,
        now: OffsetDateTime,
    ) -> DeliveryRow {
        let id = Uuid::now_v7();
        let ck = ChannelKind::parse(&ch.kind).unwrap_or(ChannelKind::Webhook);
        let fmt = Format::parse(&ch.msg_format).unwrap_or(Format::Markdown);
        let r = bihuan_notify::render(ck, fmt, msg, &bihuan_notify::Envelope { id: id.to_string(), sent_at: now.to_offset(SHANGHAI) });
        DeliveryRow {
            id,
            channel_id: ch.id,
            dedupe_key,
            kind: kind.to_string(),
            warning_event_id,
            circular_id: None,
            title: r.subject,
            body: r.body,
            created_at: now,
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: if kind == "test" { now } else { send_time(now, ch.quiet_hours) },
            claimed_by: None,
            claim_until: None,
            sent_at: None,
            last_http_status: None,
            last_response: None,
            last_error: None,
        }
    }

    /// Channels with what routing needs (enabled ones only).
    pub(crate) async fn routes(&self, tx: &mut bihuan_store::Tx) -> Result<Vec<Route>> {
        let subs = store::all_subscriptions(tx).await?;
        let mut out = Vec::new();
        for row in store::all_channels(tx).await?.into_iter().filter(|c| c.enabled) {
            let unit_path = match row.unit_id {
                Some(u) => bihuan_store::units::get(tx, UnitId(u)).await?.map(|u| u.path),
                None => None,
            };
            let subs = subs.iter().filter(|s| s.channel_id == row.id).cloned().collect();
            out.push(Route { row, unit_path, subs });
        }
        Ok(out)
    }

    fn may_manage(&self, ctx: &Ctx, c: &ChannelRow, unit_path: Option<&UnitPath>) -> bool {
        match ctx.actor() {
            None => true,
            Some(a) => match (c.user_id, unit_path) {
                (Some(u), _) => u == a.user_id.0,
                (None, Some(p)) => authorize(a, Permission::UpdateUnit(p)).allowed(),
                (None, None) => false,
            },
        }
    }

    fn check_input(&self, input: &ChannelInput, kind: ChannelKind) -> Result<(Format, String, WarningLevel, Option<WarningLevel>)> {
        let mut errors = Vec::new();
        let format = match input.format.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            None => Format::Markdown,
            Some(f) => Format::parse(f).unwrap_or_else(|| {
                errors.push(FieldError::new("format", "消息格式应为 markdown 或 text", "The format must be markdown or text"));
                Format::Markdown
            }),
        };
        if input.name.trim().is_empty() {
            errors.push(FieldError::new("name", "请填写渠道名称，如“镇安委办工作群”", "Name the channel, e.g. \"Town safety office group\""));
        }
        if input.name.trim().chars().count() > 60 {
            errors.push(FieldError::new("name", "渠道名称不超过 60 个字", "The name may have at most 60 characters"));
        }
        if input.address.trim().len() > 500 || input.secret.as_deref().is_some_and(|s| s.len() > 200) {
            errors.push(FieldError::new("address", "地址或密钥过长", "The address or secret is too long"));
        }
        let address = input.address.trim().to_string();
        match kind {
            ChannelKind::Email => {
                let valid = address.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !address.contains(char::is_whitespace));
                if !valid {
                    errors.push(FieldError::new("address", "电子邮箱地址不正确", "Not a valid e-mail address"));
                }
                if self.settings.notify.smtp.is_none() {
                    errors.push(FieldError::new(
                        "kind",
                        "尚未配置邮件服务器（[smtp]），不能添加邮件渠道",
                        "No mail server is configured ([smtp]); e-mail channels cannot be added",
                    ));
                }
            }
            _ => {
                if let Err(e) = bihuan_notify::check_webhook_url(&address, &self.settings.notify.allowed_hosts) {
                    errors.push(FieldError::new("address", e.zh(), e.en()));
                }
            }
        }
        // None: not a level; Some(None): left empty.
        let level = |v: Option<&str>| -> Option<Option<WarningLevel>> {
            match v.map(str::trim) {
                None | Some("") => Some(None),
                Some(l) => WarningLevel::parse(l).map(Some),
            }
        };
        let min = match level(input.min_level.as_deref()) {
            Some(l) => l.unwrap_or(WarningLevel::Blue),
            None => {
                errors.push(FieldError::new("min_level", "预警等级不正确", "Unknown warning level"));
                WarningLevel::Blue
            }
        };
        let immediate = match input.immediate_level.as_deref() {
            None => Some(WarningLevel::Red),
            Some(v) => match level(Some(v)) {
                Some(l) => l,
                None => {
                    errors.push(FieldError::new("immediate_level", "预警等级不正确", "Unknown warning level"));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        Ok((format, address, min, immediate))
    }

    async fn channel_view(&self, tx: &mut bihuan_store::Tx, c: ChannelRow) -> Result<ChannelView> {
        let unit_name = match c.unit_id {
            Some(u) => bihuan_store::units::get(tx, UnitId(u)).await?.map(|u| u.name),
            None => None,
        };
        let subs = store::all_subscriptions(tx).await?;
        let star = subs.iter().find(|s| s.channel_id == c.id && s.rule_code == "*");
        Ok(ChannelView {
            id: c.id,
            kind: c.kind,
            unit_id: c.unit_id,
            unit_name,
            user_id: c.user_id,
            scope: c.scope,
            name: c.name,
            address: bihuan_notify::redact(&c.address),
            has_secret: c.secret.as_deref().is_some_and(|s| !s.is_empty()),
            format: c.msg_format,
            enabled: c.enabled,
            quiet_hours: c.quiet_hours,
            failing_since: c.failing_since,
            min_level: star.map(|s| s.min_level.clone()).unwrap_or_else(|| "blue".into()),
            immediate_level: star.map(|s| s.immediate_level.clone()).unwrap_or_else(|| Some("red".into())),
            version: c.version,
        })
    }

    /// Adds a channel: a unit's group robot or webhook (whoever may change the
    /// unit's contact details), or the caller's own e-mail.
    pub async fn create_channel(&self, ctx: &Ctx, input: &ChannelInput) -> Result<ChannelView> {
        let kind = ChannelKind::parse(input.kind.trim())
            .ok_or_else(|| DomainError::field("kind", "渠道类型应为 email、wecom、dingtalk 或 webhook", "The kind must be email, wecom, dingtalk or webhook"))?;
        let (format, address, min, immediate) = self.check_input(input, kind)?;
        let scope = match input.scope.as_deref().unwrap_or("own") {
            "own" => "own",
            "subtree" => "subtree",
            _ => return Err(DomainError::field("scope", "范围应为 own 或 subtree", "The scope must be own or subtree")),
        };
        let mut tx = self.db.begin().await?;
        let (user_id, unit_id) = match input.unit_id {
            Some(u) => {
                let unit = bihuan_store::units::get(&mut tx, u).await?.ok_or_else(|| DomainError::not_found("单位", "Unit"))?;
                ctx.check(Permission::UpdateUnit(&unit.path), "单位", "Unit")?;
                (None, Some(u.0))
            }
            None => {
                // A personal channel is one's own mailbox, as on one's account: nobody mails others through Bihuan.
                let me = ctx.actor().ok_or_else(DomainError::forbidden)?.user_id;
                let user = bihuan_store::users::get(&mut tx, me).await?.ok_or_else(DomainError::forbidden)?;
                let own = user.email.as_deref().map(str::trim).unwrap_or_default();
                if kind != ChannelKind::Email || !own.eq_ignore_ascii_case(&address) {
                    return Err(DomainError::field(
                        "address",
                        "个人渠道只能是本人账号中登记的邮箱；群机器人和 Webhook 请选择所属单位",
                        "A personal channel can only be the e-mail address on your account; choose a unit for robots and webhooks",
                    ));
                }
                (Some(me.0), None)
            }
        };
        let now = self.now();
        let row = ChannelRow {
            id: Uuid::now_v7(),
            kind: kind.as_str().to_string(),
            user_id,
            unit_id,
            scope: scope.to_string(),
            name: input.name.trim().to_string(),
            address,
            secret: input.secret.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
            msg_format: format.as_str().to_string(),
            enabled: input.enabled.unwrap_or(true),
            quiet_hours: input.quiet_hours.unwrap_or(true),
            next_send_at: now,
            failing_since: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        store::insert_channel(&mut tx, &row).await?;
        let sub = SubscriptionRow {
            channel_id: row.id,
            rule_code: "*".into(),
            min_level: min.as_str().into(),
            immediate_level: immediate.map(|l| l.as_str().to_string()),
        };
        store::set_subscriptions(&mut tx, row.id, &[sub]).await?;
        let shown = serde_json::json!({"kind": row.kind, "name": row.name, "address": bihuan_notify::redact(&row.address), "unit_id": row.unit_id});
        self.audit(&mut tx, ctx, "channel.create", "channel", Some(row.id.to_string()), NONE, Some(&shown)).await?;
        let view = self.channel_view(&mut tx, row).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Changes a channel. An empty address or secret keeps the stored one (they are never shown back).
    pub async fn update_channel(&self, ctx: &Ctx, id: Uuid, input: &ChannelInput, expected_version: i64) -> Result<ChannelView> {
        let mut tx = self.db.begin().await?;
        let old = store::get_channel(&mut tx, id).await?.ok_or_else(|| DomainError::not_found("通知渠道", "Channel"))?;
        let path = match old.unit_id {
            Some(u) => bihuan_store::units::get(&mut tx, UnitId(u)).await?.map(|u| u.path),
            None => None,
        };
        if !self.may_manage(ctx, &old, path.as_ref()) {
            return Err(DomainError::not_found("通知渠道", "Channel"));
        }
        let kind = ChannelKind::parse(&old.kind).unwrap_or(ChannelKind::Webhook);
        let mut checked = input.clone();
        if checked.address.trim().is_empty() {
            checked.address = old.address.clone();
        }
        let (format, address, min, immediate) = self.check_input(&checked, kind)?;
        let mut new = old.clone();
        new.name = checked.name.trim().to_string();
        new.address = address;
        if let Some(s) = input.secret.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            new.secret = Some(s.to_string());
        }
        new.msg_format = format.as_str().into();
        new.enabled = input.enabled.unwrap_or(old.enabled);
        new.quiet_hours = input.quiet_hours.unwrap_or(old.quiet_hours);
        if let Some(s) = input.scope.as_deref() {
            new.scope = if s == "subtree" { "subtree".into() } else { "own".into() };
        }
        new.updated_at = self.now();
        new.version = old.version + 1;
        store::update_channel(&mut tx, &new, expected_version).await?;
        // Levels left out keep what the channel had.
        if input.min_level.is_some() || input.immediate_level.is_some() {
            let sub = SubscriptionRow {
                channel_id: id,
                rule_code: "*".into(),
                min_level: min.as_str().into(),
                immediate_level: immediate.map(|l| l.as_str().to_string()),
            };
            store::set_subscriptions(&mut tx, id, &[sub]).await?;
        }
        if old.enabled && !new.enabled {
            store::cancel_pending(&mut tx, id).await?;
        }
        let show = |c: &ChannelRow| serde_json::json!({"name": c.name, "address": bihuan_notify::redact(&c.address), "enabled": c.enabled});
        self.audit(&mut tx, ctx, "channel.update", "channel", Some(id.to_string()), Some(&show(&old)), Some(&show(&new))).await?;
        let view = self.channel_view(&mut tx, new).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// The channels the caller manages: their own, and those of units whose contact details they may change.
    pub async fn channels(&self, ctx: &Ctx) -> Result<Vec<ChannelView>> {
        let mut tx = self.db.read().await?;
        let mut out = Vec::new();
        for c in store::all_channels(&mut tx).await? {
            let path = match c.unit_id {
                Some(u) => bihuan_store::units::get(&mut tx, UnitId(u)).await?.map(|u| u.path),
                None => None,
            };
            if self.may_manage(ctx, &c, path.as_ref()) {
                out.push(self.channel_view(&mut tx, c).await?);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn managed_channel(&self, ctx: &Ctx, tx: &mut bihuan_store::Tx, id: Uuid) -> Result<ChannelRow> {
        let c = store::get_channel(tx, id).await?.ok_or_else(|| DomainError::not_found("通知渠道", "Channel"))?;
        let path = match c.unit_id {
            Some(u) => bihuan_store::units::get(tx, UnitId(u)).await?.map(|u| u.path),
            None => None,
        };
        if !self.may_manage(ctx, &c, path.as_ref()) {
            return Err(DomainError::not_found("通知渠道", "Channel"));
        }
        Ok(c)
    }

    /// Queues a test message for a channel, sent at once (quiet hours do not apply).
    pub async fn test_channel(&self, ctx: &Ctx, id: Uuid) -> Result<Uuid> {
        let mut tx = self.db.begin().await?;
        let c = self.managed_channel(ctx, &mut tx, id).await?;
        if !c.enabled {
            return Err(disabled());
        }
        let now = self.now();
        let msg = bihuan_notify::Message {
            title: "测试消息".into(),
            level: None,
            lines: vec![format!("渠道“{}”已接通，预警将发送到这里。", c.name)],
            link: Some(self.link("/warnings")),
            event: "test".into(),
            data: serde_json::Value::Null,
        };
        let d = self.delivery_for(&c, format!("test:{}", Uuid::now_v7()), "test", None, &msg, now);
        store::insert_delivery(&mut tx, &d).await?;
        self.audit(&mut tx, ctx, "channel.test", "channel", Some(id.to_string()), NONE, NONE).await?;
        tx.commit().await?;
        Ok(d.id)
    }

    /// The delivery log of the channels the caller manages, newest first.
    pub async fn deliveries(&self, ctx: &Ctx, limit: i64) -> Result<Vec<DeliveryView>> {
        let channels = self.channels(ctx).await?;
        let names: BTreeMap<Uuid, String> = channels.iter().map(|c| (c.id, c.name.clone())).collect();
        let ids: Vec<Uuid> = channels.iter().map(|c| c.id).collect();
        let mut tx = self.db.read().await?;
        let rows = store::deliveries_of(&mut tx, &ids, limit.clamp(1, 500)).await?;
        let mut out = Vec::new();
        for d in rows {
            let log = store::attempts(&mut tx, d.id)
                .await?
                .into_iter()
                .map(|a| AttemptView {
                    attempt: a.attempt,
                    node: a.node,
                    started_at: a.started_at,
                    elapsed_ms: a.elapsed_ms,
                    outcome: a.outcome,
                    http_status: a.http_status,
                    response: a.response,
                    error: a.error,
                })
                .collect();
            out.push(DeliveryView {
                channel_name: names.get(&d.channel_id).cloned().unwrap_or_default(),
                id: d.id,
                channel_id: d.channel_id,
                kind: d.kind,
                title: d.title,
                status: d.status,
                attempts: d.attempts,
                created_at: d.created_at,
                next_attempt_at: d.next_attempt_at,
                sent_at: d.sent_at,
                last_http_status: d.last_http_status,
                last_error: d.last_error,
                log,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Puts a failed delivery back in the queue.
    pub async fn retry_delivery(&self, ctx: &Ctx, id: Uuid) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let d = store::get_delivery(&mut tx, id).await?.ok_or_else(|| DomainError::not_found("发送记录", "Delivery"))?;
        if !self.managed_channel(ctx, &mut tx, d.channel_id).await?.enabled {
            return Err(disabled());
        }
        if !store::retry_failed(&mut tx, id, self.now()).await? {
            return Err(DomainError::conflict("只有发送失败或已取消的消息可以重发", "Only failed or cancelled deliveries can be sent again"));
        }
        self.audit(&mut tx, ctx, "delivery.retry", "delivery", Some(id.to_string()), NONE, NONE).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends what is due, as `node`. Every server may run this at once: each
    /// delivery is claimed by one, and each channel's throttle is shared.
    pub async fn deliver_due(&self, node: &str) -> Result<WorkerReport> {
        let mut report = WorkerReport::default();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        store::free_stale_claims(&mut tx, now).await?;
        let due = store::due(&mut tx, now, WORKER_BATCH).await?;
        tx.commit().await?;
        if due.is_empty() {
            return Ok(report);
        }
        bihuan_notify::install_crypto_provider();
        let http = bihuan_notify::HttpSender::new(bihuan_notify::HttpConfig {
            allowed_hosts: self.settings.notify.allowed_hosts.clone(),
            timeout: self.settings.notify.timeout,
            ..Default::default()
        })
        .map_err(|e| crate::internal(e.en()))?;
        let smtp = match &self.settings.notify.smtp {
            Some(c) => Some(bihuan_notify::SmtpSender::new(c, self.settings.notify.timeout).map_err(|e| crate::internal(e.en()))?),
            None => None,
        };
        for (id, channel) in due {
            let now = self.now();
            let mut tx = self.db.begin().await?;
            let Some(c) = store::get_channel(&mut tx, channel).await? else {
                tx.rollback().await?;
                continue;
            };
            let kind = ChannelKind::parse(&c.kind).unwrap_or(ChannelKind::Webhook);
            let gap = Duration::try_from(bihuan_notify::send_gap(kind)).unwrap_or(Duration::ZERO);
            if !store::take_channel_slot(&mut tx, channel, now, gap).await? || !store::claim(&mut tx, id, node, now, now + CLAIM).await? {
                tx.rollback().await?;
                continue;
            }
            let Some(d) = store::get_delivery(&mut tx, id).await? else {
                tx.rollback().await?;
                continue;
            };
            tx.commit().await?;

            let event = serde_json::from_str::<serde_json::Value>(&d.body)
                .ok()
                .and_then(|v| v.get("event").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or_else(|| d.kind.clone());
            let send = bihuan_notify::Delivery {
                id: d.id.to_string(),
                kind,
                address: c.address.clone(),
                secret: c.secret.clone(),
                subject: d.title.clone(),
                body: d.body.clone(),
                event,
            };
            let started = self.now();
            let clock = std::time::Instant::now();
            let outcome = match kind {
                ChannelKind::Email => match &smtp {
                    Some(s) => s.send(&send).await,
                    None => Outcome::Failed { status: None, response: None, error: Some("no SMTP server is configured".into()) },
                },
                _ => http.send(&send).await,
            };
            let elapsed = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
            let done = self.now();
            let max = self.settings.notify.max_attempts;
            let attempt = u32::try_from(d.attempts).unwrap_or(u32::MAX);
            let jitter = (f64::from(d.id.as_u128() as u16) / f64::from(u16::MAX)) * 2.0 - 1.0;
            let (status, next) = match &outcome {
                Outcome::Sent { .. } => ("sent", done),
                Outcome::Retry { retry_after, .. } => match bihuan_notify::retry_delay(attempt, max, jitter, *retry_after) {
                    Some(delay) => {
                        let wait = Duration::try_from(delay).unwrap_or(Duration::HOUR);
                        ("retry", done.checked_add(wait).unwrap_or(done + Duration::HOUR))
                    }
                    None => ("failed", done),
                },
                Outcome::Failed { .. } => ("failed", done),
            };
            let mut tx = self.db.begin().await?;
            let recorded = store::Recorded {
                status,
                next_attempt_at: next,
                sent_at: (status == "sent").then_some(done),
                http_status: outcome.status().map(i64::from),
                response: outcome.response(),
                error: outcome.error(),
            };
            let mine = store::record(&mut tx, id, node, &recorded).await?;
            store::insert_attempt(&mut tx, &store::AttemptRow {
                delivery_id: id,
                attempt: d.attempts,
                node: node.to_string(),
                started_at: started,
                elapsed_ms: elapsed,
                outcome: outcome.as_str().to_string(),
                http_status: outcome.status().map(i64::from),
                response: outcome.response().map(str::to_string),
                error: outcome.error().map(str::to_string),
            })
            .await?;
            if mine {
                match status {
                    "sent" => {
                        store::set_failing(&mut tx, channel, None).await?;
                        report.sent += 1;
                    }
                    "retry" => report.retried += 1,
                    _ => {
                        store::set_failing(&mut tx, channel, Some(done)).await?;
                        self.tell_channel_failing(&mut tx, &c, done).await?;
                        report.failed += 1;
                    }
                }
            }
            tx.commit().await?;
        }
        Ok(report)
    }

    /// A delivery was given up: the channel's owner (or its unit's users) hears of it in the inbox, once a day.
    async fn tell_channel_failing(&self, tx: &mut bihuan_store::Tx, c: &ChannelRow, at: OffsetDateTime) -> Result<()> {
        let users: Vec<Uuid> = match (c.user_id, c.unit_id) {
            (Some(u), _) => vec![u],
            (None, Some(unit)) => bihuan_store::warnings::active_users(tx).await?.into_iter().filter(|u| u.1 == unit).map(|u| u.0).collect(),
            _ => Vec::new(),
        };
        for user in users {
            bihuan_store::notify::insert(tx, &NotificationRow {
                id: Uuid::now_v7(),
                user_id: user,
                dedupe_key: format!("chfail:{}:{}:{user}", c.id, local_date(at)),
                kind: "channel_failing".into(),
                level: Some("orange".into()),
                title: format!("通知渠道“{}”发送失败", c.name),
                body: "多次重试后仍未送达，请检查机器人地址或密钥。/ A message could not be delivered after repeated attempts; check the robot URL or key.".into(),
                link: "/deliveries".into(),
                warning_id: None,
                circular_id: None,
                created_at: at,
                read_at: None,
            })
            .await?;
        }
        Ok(())
    }

    /// The 08:30 digest: one message per channel with what waited for it
    /// since the last one. `slot` (the job's day) keys it, so a run that
    /// catches up on a missed day and the day's own run do not collide; the
    /// items are removed only once their digest is written, and only those read.
    pub async fn send_digests(&self, ctx: &Ctx, slot: &str) -> Result<u64> {
        let now = self.now();
        let today = self.today();
        let mut tx = self.db.begin().await?;
        let items = store::digest_items(&mut tx).await?;
        let channels: BTreeMap<Uuid, ChannelRow> = store::all_channels(&mut tx).await?.into_iter().map(|c| (c.id, c)).collect();
        let mut by_channel: BTreeMap<Uuid, Vec<(String, String, String, String)>> = BTreeMap::new();
        let mut events: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
        for (channel, event, rule, level, label, kind) in items {
            by_channel.entry(channel).or_default().push((rule, level, label, kind));
            events.entry(channel).or_default().push(event);
        }
        let mut made = 0;
        for (channel, items) in by_channel {
            let read = events.remove(&channel).unwrap_or_default();
            let Some(c) = channels.get(&channel).filter(|c| c.enabled) else {
                store::remove_digest_items(&mut tx, channel, &read).await?;
                continue;
            };
            let mut counts: BTreeMap<(i64, String, String), usize> = BTreeMap::new();
            for (rule, level, _, _) in &items {
                let l = WarningLevel::parse(level).unwrap_or(WarningLevel::Blue);
                let r = RuleCode::parse(rule).map(|r| r.label_zh()).unwrap_or("");
                *counts.entry((l.rank(), l.label_zh().to_string(), r.to_string())).or_default() += 1;
            }
            let mut lines: Vec<String> = counts.iter().map(|((_, l, r), n)| format!("{l} · {r}：{n} 条")).collect();
            lines.extend(items.iter().take(10).map(|(rule, level, label, _)| {
                let l = WarningLevel::parse(level).map(|l| l.label_zh()).unwrap_or("");
                let r = RuleCode::parse(rule).map(|r| r.label_zh()).unwrap_or("");
                format!("{l} {r}：{label}")
            }));
            let msg = bihuan_notify::Message {
                title: format!("每日预警汇总（{today}）"),
                level: items.iter().filter_map(|i| WarningLevel::parse(&i.1)).min_by_key(|l| l.rank()).and_then(|l| level_of(l.as_str())),
                lines,
                link: Some(self.link("/warnings")),
                event: "digest".into(),
                data: serde_json::json!({ "count": items.len() }),
            };
            let d = self.delivery_for(c, format!("dig:{slot}:{channel}"), "digest", None, &msg, now);
            if store::insert_delivery(&mut tx, &d).await? {
                store::remove_digest_items(&mut tx, channel, &read).await?;
                made += 1;
            }
        }
        self.audit(&mut tx, ctx, "notify.digest", "delivery", None, NONE, Some(&serde_json::json!({ "digests": made }))).await?;
        tx.commit().await?;
        Ok(made)
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn user_text_cannot_make_links_in_a_robots_markdown() {
        assert_eq!(plain("[点此处理](https://phish.example)\n<b>"), "［点此处理］（https://phish.example） ＜b＞");
        assert_eq!(plain("YH2021-000123 消防通道堵塞"), "YH2021-000123 消防通道堵塞");
    }

    #[test]
    fn quiet_hours_hold_messages_until_half_past_seven() {
        let at = |t| send_time(t, true);
        assert_eq!(at(datetime!(2021-05-10 23:15 +08:00)), datetime!(2021-05-11 07:30 +08:00));
        assert_eq!(at(datetime!(2021-05-11 06:00 +08:00)), datetime!(2021-05-11 07:30 +08:00));
        assert_eq!(at(datetime!(2021-05-11 09:00 +08:00)), datetime!(2021-05-11 09:00 +08:00));
        assert_eq!(send_time(datetime!(2021-05-10 23:15 +08:00), false), datetime!(2021-05-10 23:15 +08:00));
    }
}
