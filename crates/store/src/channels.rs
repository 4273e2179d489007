//! Outside channels (e-mail, WeCom and DingTalk group robots, webhooks),
//! their subscriptions, the deliveries made for them with the log of every
//! attempt, and the items waiting for a channel's daily digest.
//!
//! A delivery is claimed by one process with conditional UPDATEs (the
//! channel's shared throttle first, then the row itself), sent outside any
//! transaction, and recorded under the same claim: without crashes each
//! row is sent exactly once, whichever servers run the worker.

use crate::sql::{bind_all, in_list_chunk, Args, P};
use crate::{run, Result, StoreError, Ts, Tx};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ChannelRow {
    pub id: Uuid,
    pub kind: String,
    pub user_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
    /// `own` (the unit's own audience) or `subtree` (every warning below the unit).
    pub scope: String,
    pub name: String,
    pub address: String,
    pub secret: Option<String>,
    pub msg_format: String,
    pub enabled: bool,
    pub quiet_hours: bool,
    pub next_send_at: OffsetDateTime,
    pub failing_since: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

const CHANNEL_COLUMNS: &str = "id, kind, user_id, unit_id, scope, name, address, secret, msg_format, enabled, quiet_hours, next_send_at, \
    failing_since, created_at, updated_at, version";

pub async fn insert_channel(tx: &mut Tx, c: &ChannelRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO channel ({CHANNEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    );
    run!(tx, |conn| sqlx::query(&sql)
        .bind(c.id)
        .bind(&c.kind)
        .bind(c.user_id)
        .bind(c.unit_id)
        .bind(&c.scope)
        .bind(&c.name)
        .bind(&c.address)
        .bind(&c.secret)
        .bind(&c.msg_format)
        .bind(c.enabled)
        .bind(c.quiet_hours)
        .bind(Ts(c.next_send_at))
        .bind(c.failing_since.map(Ts))
        .bind(Ts(c.created_at))
        .bind(Ts(c.updated_at))
        .bind(c.version)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    Ok(())
}

/// Saves a changed channel's settings under its version.
pub async fn update_channel(tx: &mut Tx, c: &ChannelRow, expected_version: i64) -> Result<()> {
    let sql = "UPDATE channel SET name = $1, address = $2, secret = $3, msg_format = $4, enabled = $5, quiet_hours = $6, scope = $7, \
               updated_at = $8, version = $9 WHERE id = $10 AND version = $11";
    let n = run!(tx, |conn| sqlx::query(sql)
        .bind(&c.name)
        .bind(&c.address)
        .bind(&c.secret)
        .bind(&c.msg_format)
        .bind(c.enabled)
        .bind(c.quiet_hours)
        .bind(&c.scope)
        .bind(Ts(c.updated_at))
        .bind(c.version)
        .bind(c.id)
        .bind(expected_version)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    if n == 0 {
        return Err(StoreError::Stale);
    }
    Ok(())
}

pub async fn get_channel(tx: &mut Tx, id: Uuid) -> Result<Option<ChannelRow>> {
    let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channel WHERE id = $1");
    Ok(run!(tx, |c| sqlx::query_as::<_, ChannelRow>(&sql).bind(id).fetch_optional(&mut *c).await?))
}

/// Every channel (a town has a handful; a district some hundreds).
pub async fn all_channels(tx: &mut Tx) -> Result<Vec<ChannelRow>> {
    let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channel ORDER BY created_at, id");
    Ok(run!(tx, |c| sqlx::query_as::<_, ChannelRow>(&sql).fetch_all(&mut *c).await?))
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub channel_id: Uuid,
    /// A rule code, or `*` for every rule (a rule's own row wins).
    pub rule_code: String,
    /// Below this level: not sent at all.
    pub min_level: String,
    /// At or above: sent at once; between the two: in the daily digest; None: digest only.
    pub immediate_level: Option<String>,
}

/// Replaces a channel's subscriptions.
pub async fn set_subscriptions(tx: &mut Tx, channel: Uuid, rows: &[SubscriptionRow]) -> Result<()> {
    run!(tx, |c| sqlx::query("DELETE FROM subscription WHERE channel_id = $1").bind(channel).execute(&mut *c).await?.rows_affected());
    for r in rows {
        run!(tx, |c| sqlx::query("INSERT INTO subscription (channel_id, rule_code, min_level, immediate_level) VALUES ($1, $2, $3, $4)")
            .bind(channel)
            .bind(&r.rule_code)
            .bind(&r.min_level)
            .bind(&r.immediate_level)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(())
}

pub async fn all_subscriptions(tx: &mut Tx) -> Result<Vec<SubscriptionRow>> {
    Ok(run!(tx, |c| sqlx::query_as::<_, SubscriptionRow>(
        "SELECT channel_id, rule_code, min_level, immediate_level FROM subscription ORDER BY channel_id, rule_code"
    )
    .fetch_all(&mut *c)
    .await?))
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub dedupe_key: String,
    /// `event`, `summary`, `digest`, `circular`, `test`.
    pub kind: String,
    pub warning_event_id: Option<Uuid>,
    pub circular_id: Option<Uuid>,
    pub title: String,
    /// The exact payload (robot or webhook JSON, or the mail text), unsigned.
    pub body: String,
    pub created_at: OffsetDateTime,
    /// `pending`, `sending`, `retry`, `sent`, `failed`, `cancelled`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: OffsetDateTime,
    pub claimed_by: Option<String>,
    pub claim_until: Option<OffsetDateTime>,
    pub sent_at: Option<OffsetDateTime>,
    pub last_http_status: Option<i64>,
    pub last_response: Option<String>,
    pub last_error: Option<String>,
}

const DELIVERY_COLUMNS: &str = "id, channel_id, dedupe_key, kind, warning_event_id, circular_id, title, body, created_at, status, attempts, \
    next_attempt_at, claimed_by, claim_until, sent_at, last_http_status, last_response, last_error";

/// Adds a delivery unless one with its key exists. Returns whether it was added.
pub async fn insert_delivery(tx: &mut Tx, d: &DeliveryRow) -> Result<bool> {
    let sql = format!(
        "INSERT INTO delivery ({DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (dedupe_key) DO NOTHING"
    );
    let n = run!(tx, |c| sqlx::query(&sql)
        .bind(d.id)
        .bind(d.channel_id)
        .bind(&d.dedupe_key)
        .bind(&d.kind)
        .bind(d.warning_event_id)
        .bind(d.circular_id)
        .bind(&d.title)
        .bind(&d.body)
        .bind(Ts(d.created_at))
        .bind(&d.status)
        .bind(d.attempts)
        .bind(Ts(d.next_attempt_at))
        .bind(&d.claimed_by)
        .bind(d.claim_until.map(Ts))
        .bind(d.sent_at.map(Ts))
        .bind(d.last_http_status)
        .bind(&d.last_response)
        .bind(&d.last_error)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

pub async fn get_delivery(tx: &mut Tx, id: Uuid) -> Result<Option<DeliveryRow>> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM delivery WHERE id = $1");
    Ok(run!(tx, |c| sqlx::query_as::<_, DeliveryRow>(&sql).bind(id).fetch_optional(&mut *c).await?))
}

/// Claims that a stopped process left behind become due again.
pub async fn free_stale_claims(tx: &mut Tx, now: OffsetDateTime) -> Result<u64> {
    let sql = "UPDATE delivery SET status = 'retry', next_attempt_at = $1, claimed_by = NULL, claim_until = NULL \
               WHERE status = 'sending' AND claim_until < $1";
    Ok(run!(tx, |c| sqlx::query(sql).bind(Ts(now)).execute(&mut *c).await?.rows_affected()))
}

/// Ids of deliveries due now, oldest first.
pub async fn due(tx: &mut Tx, now: OffsetDateTime, limit: i64) -> Result<Vec<(Uuid, Uuid)>> {
    let sql = "SELECT id, channel_id FROM delivery WHERE status IN ('pending', 'retry') AND next_attempt_at <= $1 \
               ORDER BY next_attempt_at, id LIMIT $2";
    Ok(run!(tx, |c| sqlx::query_as(sql).bind(Ts(now)).bind(limit).fetch_all(&mut *c).await?))
}

/// Takes the channel's next sending slot if it is free (the throttle every
/// process shares): the channel may send again only after `gap`.
pub async fn take_channel_slot(tx: &mut Tx, channel: Uuid, now: OffsetDateTime, gap: time::Duration) -> Result<bool> {
    let sql = "UPDATE channel SET next_send_at = $1 WHERE id = $2 AND enabled AND next_send_at <= $3";
    let n = run!(tx, |c| sqlx::query(sql).bind(Ts(now + gap)).bind(channel).bind(Ts(now)).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// Claims a due delivery for this process until `until`.
pub async fn claim(tx: &mut Tx, id: Uuid, me: &str, now: OffsetDateTime, until: OffsetDateTime) -> Result<bool> {
    let sql = "UPDATE delivery SET status = 'sending', claimed_by = $1, claim_until = $2, attempts = attempts + 1 \
               WHERE id = $3 AND status IN ('pending', 'retry') AND next_attempt_at <= $4";
    let n = run!(tx, |c| sqlx::query(sql).bind(me).bind(Ts(until)).bind(id).bind(Ts(now)).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// What one attempt came to.
pub struct Recorded<'a> {
    pub status: &'a str,
    pub next_attempt_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    pub http_status: Option<i64>,
    pub response: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// Records the outcome under this process's claim. Returns false when the
/// claim had expired and another process took the row over.
pub async fn record(tx: &mut Tx, id: Uuid, me: &str, r: &Recorded<'_>) -> Result<bool> {
    let sql = "UPDATE delivery SET status = $1, next_attempt_at = $2, sent_at = $3, last_http_status = $4, last_response = $5, \
               last_error = $6, claimed_by = NULL, claim_until = NULL WHERE id = $7 AND claimed_by = $8 AND status = 'sending'";
    let n = run!(tx, |c| sqlx::query(sql)
        .bind(r.status)
        .bind(Ts(r.next_attempt_at))
        .bind(r.sent_at.map(Ts))
        .bind(r.http_status)
        .bind(r.response)
        .bind(r.error)
        .bind(id)
        .bind(me)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct AttemptRow {
    pub delivery_id: Uuid,
    pub attempt: i64,
    pub node: String,
    pub started_at: OffsetDateTime,
    pub elapsed_ms: i64,
    pub outcome: String,
    pub http_status: Option<i64>,
    pub response: Option<String>,
    pub error: Option<String>,
}

pub async fn insert_attempt(tx: &mut Tx, a: &AttemptRow) -> Result<()> {
    let sql = "INSERT INTO delivery_attempt (delivery_id, attempt, node, started_at, elapsed_ms, outcome, http_status, response, error) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (delivery_id, attempt) DO NOTHING";
    run!(tx, |c| sqlx::query(sql)
        .bind(a.delivery_id)
        .bind(a.attempt)
        .bind(&a.node)
        .bind(Ts(a.started_at))
        .bind(a.elapsed_ms)
        .bind(&a.outcome)
        .bind(a.http_status)
        .bind(&a.response)
        .bind(&a.error)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn attempts(tx: &mut Tx, delivery: Uuid) -> Result<Vec<AttemptRow>> {
    let sql = "SELECT delivery_id, attempt, node, started_at, elapsed_ms, outcome, http_status, response, error FROM delivery_attempt \
               WHERE delivery_id = $1 ORDER BY attempt";
    Ok(run!(tx, |c| sqlx::query_as::<_, AttemptRow>(sql).bind(delivery).fetch_all(&mut *c).await?))
}

/// The latest deliveries of these channels, newest first.
pub async fn deliveries_of(tx: &mut Tx, channels: &[Uuid], limit: i64) -> Result<Vec<DeliveryRow>> {
    let mut out = Vec::new();
    for chunk in channels.chunks(in_list_chunk(tx.engine())) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|c| P::Uuid(*c)));
        let lim = args.push(P::Int(limit));
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM delivery WHERE channel_id IN ({list}) ORDER BY created_at DESC, id DESC LIMIT {lim}");
        out.extend(run!(tx, |c| bind_all!(sqlx::query_as::<_, DeliveryRow>(&sql), args).fetch_all(&mut *c).await?));
    }
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    out.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(out)
}

/// Puts a failed delivery back in the queue (by hand, from the log).
pub async fn retry_failed(tx: &mut Tx, id: Uuid, now: OffsetDateTime) -> Result<bool> {
    let sql = "UPDATE delivery SET status = 'retry', next_attempt_at = $1 WHERE id = $2 AND status IN ('failed', 'cancelled')";
    Ok(run!(tx, |c| sqlx::query(sql).bind(Ts(now)).bind(id).execute(&mut *c).await?.rows_affected()) == 1)
}

/// A channel switched off: what it still had to send is cancelled.
pub async fn cancel_pending(tx: &mut Tx, channel: Uuid) -> Result<u64> {
    let sql = "UPDATE delivery SET status = 'cancelled' WHERE channel_id = $1 AND status IN ('pending', 'retry')";
    Ok(run!(tx, |c| sqlx::query(sql).bind(channel).execute(&mut *c).await?.rows_affected()))
}

pub async fn set_failing(tx: &mut Tx, channel: Uuid, since: Option<OffsetDateTime>) -> Result<()> {
    let sql = if since.is_some() {
        "UPDATE channel SET failing_since = COALESCE(failing_since, $1) WHERE id = $2"
    } else {
        "UPDATE channel SET failing_since = $1 WHERE id = $2"
    };
    run!(tx, |c| sqlx::query(sql).bind(since.map(Ts)).bind(channel).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Counts by status, for tests and the log page.
pub async fn count_by_status(tx: &mut Tx) -> Result<Vec<(String, i64)>> {
    Ok(run!(tx, |c| sqlx::query_as("SELECT status, COUNT(*) FROM delivery GROUP BY status ORDER BY status").fetch_all(&mut *c).await?))
}

/// An event kept for a channel's next digest.
pub async fn add_digest_item(tx: &mut Tx, channel: Uuid, event: Uuid, at: OffsetDateTime) -> Result<()> {
    let sql = "INSERT INTO digest_item (channel_id, warning_event_id, created_at) VALUES ($1, $2, $3) \
               ON CONFLICT (channel_id, warning_event_id) DO NOTHING";
    run!(tx, |c| sqlx::query(sql).bind(channel).bind(event).bind(Ts(at)).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// The digest items of every channel with the warning they are about:
/// (channel, event, rule, level, label, event kind).
#[allow(clippy::type_complexity)]
pub async fn digest_items(tx: &mut Tx) -> Result<Vec<(Uuid, Uuid, String, String, String, String)>> {
    let sql = "SELECT d.channel_id, d.warning_event_id, w.rule_code, e.to_level, w.label, e.kind FROM digest_item d \
               JOIN warning_event e ON e.id = d.warning_event_id JOIN warning w ON w.id = e.warning_id \
               ORDER BY d.channel_id, w.level_rank, d.created_at";
    Ok(run!(tx, |c| sqlx::query_as(sql).fetch_all(&mut *c).await?))
}

/// Removes the items a digest was made from (only those: items added meanwhile wait for the next one).
pub async fn remove_digest_items(tx: &mut Tx, channel: Uuid, events: &[Uuid]) -> Result<u64> {
    let mut n = 0;
    for e in events {
        n += run!(tx, |c| sqlx::query("DELETE FROM digest_item WHERE channel_id = $1 AND warning_event_id = $2")
            .bind(channel)
            .bind(*e)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(n)
}
