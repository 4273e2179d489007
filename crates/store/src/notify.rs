//! The in-app inbox. Every notification carries a unique `dedupe_key` made
//! from its cause (a warning event and a user, a run and a user, …) and is
//! inserted with ON CONFLICT DO NOTHING in the transaction that causes it:
//! a second run, or a second server, adds none.

use crate::sql::{bind_all, Args, P};
use crate::{run, Result, Ts, Tx};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub dedupe_key: String,
    pub kind: String,
    pub level: Option<String>,
    pub title: String,
    pub body: String,
    /// A path inside Bihuan (`/warnings/…`).
    pub link: String,
    pub warning_id: Option<Uuid>,
    pub circular_id: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub read_at: Option<OffsetDateTime>,
}

const COLUMNS: &str = "id, user_id, dedupe_key, kind, level, title, body, link, warning_id, circular_id, created_at, read_at";

/// Adds a notification unless one with its key exists. Returns whether it was added.
pub async fn insert(tx: &mut Tx, n: &NotificationRow) -> Result<bool> {
    let sql = format!(
        "INSERT INTO notification ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (dedupe_key) DO NOTHING"
    );
    let added = run!(tx, |c| sqlx::query(&sql)
        .bind(n.id)
        .bind(n.user_id)
        .bind(&n.dedupe_key)
        .bind(&n.kind)
        .bind(&n.level)
        .bind(&n.title)
        .bind(&n.body)
        .bind(&n.link)
        .bind(n.warning_id)
        .bind(n.circular_id)
        .bind(Ts(n.created_at))
        .bind(n.read_at.map(Ts))
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(added == 1)
}

/// A user's notifications, newest first; `before` is the (created_at, id)
/// of the last one of the previous page.
pub async fn inbox(
    tx: &mut Tx,
    user: Uuid,
    unread_only: bool,
    before: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<NotificationRow>> {
    let mut args = Args::default();
    let mut cond = format!("user_id = {}", args.push(P::Uuid(user)));
    if unread_only {
        cond.push_str(" AND read_at IS NULL");
    }
    if let Some((at, id)) = before {
        let (a, i) = (args.push(P::Ts(Ts(at))), args.push(P::Uuid(id)));
        cond.push_str(&format!(" AND (created_at < {a} OR (created_at = {a} AND id < {i}))"));
    }
    let lim = args.push(P::Int(limit));
    let sql = format!("SELECT {COLUMNS} FROM notification WHERE {cond} ORDER BY created_at DESC, id DESC LIMIT {lim}");
    Ok(run!(tx, |c| bind_all!(sqlx::query_as::<_, NotificationRow>(&sql), args).fetch_all(&mut *c).await?))
}

/// Unread notifications of a user, counted up to `cap` (the badge shows "99+").
pub async fn unread_count(tx: &mut Tx, user: Uuid, cap: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM (SELECT 1 FROM notification WHERE user_id = $1 AND read_at IS NULL LIMIT $2) AS t";
    Ok(run!(tx, |c| sqlx::query_scalar::<_, i64>(sql).bind(user).bind(cap).fetch_one(&mut *c).await?))
}

pub async fn get(tx: &mut Tx, id: Uuid) -> Result<Option<NotificationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM notification WHERE id = $1");
    Ok(run!(tx, |c| sqlx::query_as::<_, NotificationRow>(&sql).bind(id).fetch_optional(&mut *c).await?))
}

/// Marks a user's notifications read: these ones, or all of them.
pub async fn mark_read(tx: &mut Tx, user: Uuid, ids: Option<&[Uuid]>, at: OffsetDateTime) -> Result<u64> {
    let mut args = Args::default();
    let at = args.push(P::Ts(Ts(at)));
    let mut cond = format!("user_id = {} AND read_at IS NULL", args.push(P::Uuid(user)));
    if let Some(ids) = ids {
        if ids.is_empty() {
            return Ok(0);
        }
        let list = args.list(ids.iter().map(|i| P::Uuid(*i)));
        cond.push_str(&format!(" AND id IN ({list})"));
    }
    let sql = format!("UPDATE notification SET read_at = {at} WHERE {cond}");
    Ok(run!(tx, |c| bind_all!(sqlx::query(&sql), args).execute(&mut *c).await?.rows_affected()))
}

/// How many notifications a user has in all (for tests and the inbox footer).
pub async fn count(tx: &mut Tx, user: Uuid) -> Result<i64> {
    Ok(run!(tx, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM notification WHERE user_id = $1")
        .bind(user)
        .fetch_one(&mut *c)
        .await?))
}
