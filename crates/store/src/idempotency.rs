//! Idempotency keys: the key a client sent with one write, and what that
//! write produced, so that the same request sent again returns the same
//! result instead of writing twice.

use crate::{run, Result, Ts, Tx};
use bihuan_domain::ids::UserId;
use time::OffsetDateTime;
use uuid::Uuid;

/// A key as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    /// What the first request did, e.g. `hazard.create`.
    pub operation: String,
    /// SHA-256 (hex) of the first request's meaning.
    pub request_hash: String,
    /// What kind of record `result_id` names, e.g. `hazard`.
    pub result_kind: String,
    pub result_id: Uuid,
    pub created_at: OffsetDateTime,
}

/// A key to record with the result of the write it guards.
pub struct NewKey<'a> {
    pub user_id: UserId,
    pub key: &'a str,
    pub operation: &'a str,
    pub request_hash: &'a str,
    pub result_kind: &'a str,
    pub result_id: Uuid,
    pub at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

type Row = (String, String, String, Uuid, OffsetDateTime);

/// The user's key, unless it has expired at `now`.
pub async fn find(tx: &mut Tx, user: UserId, key: &str, now: OffsetDateTime) -> Result<Option<KeyRecord>> {
    let sql = "SELECT operation, request_hash, result_kind, result_id, created_at FROM idempotency_key \
               WHERE user_id = $1 AND idem_key = $2 AND expires_at > $3";
    let row: Option<Row> = run!(tx, |c| sqlx::query_as(sql).bind(user.0).bind(key).bind(Ts(now)).fetch_optional(&mut *c).await?);
    Ok(row.map(|(operation, request_hash, result_kind, result_id, created_at)| KeyRecord {
        operation,
        request_hash,
        result_kind,
        result_id,
        created_at,
    }))
}

/// Records a key in the transaction that made its result. Expired keys are
/// deleted first (of every user: cleanup is lazy and cheap with the index
/// on `expires_at`). Returns `false`, writing nothing, when the user's key
/// is already recorded: another request with the same key got there first,
/// and the caller must roll back and answer with that request's result.
pub async fn record(tx: &mut Tx, k: &NewKey<'_>) -> Result<bool> {
    purge_expired(tx, k.at).await?;
    let sql = "INSERT INTO idempotency_key (user_id, idem_key, operation, request_hash, result_kind, result_id, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id, idem_key) DO NOTHING";
    let inserted = run!(tx, |c| {
        sqlx::query(sql)
            .bind(k.user_id.0)
            .bind(k.key)
            .bind(k.operation)
            .bind(k.request_hash)
            .bind(k.result_kind)
            .bind(k.result_id)
            .bind(Ts(k.at))
            .bind(Ts(k.expires_at))
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(inserted == 1)
}

/// Deletes the keys that have expired at `now`; returns how many.
pub async fn purge_expired(tx: &mut Tx, now: OffsetDateTime) -> Result<u64> {
    Ok(run!(tx, |c| {
        sqlx::query("DELETE FROM idempotency_key WHERE expires_at <= $1").bind(Ts(now)).execute(&mut *c).await?.rows_affected()
    }))
}
