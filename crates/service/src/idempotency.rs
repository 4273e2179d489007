//! Idempotency keys: a write sent again with the key of an earlier one
//! returns that earlier result and writes nothing.
//!
//! The hazard report form carries a random submission key rendered by the
//! server; JSON clients send `Idempotency-Key`. The first request with a key
//! records (user, key, what the request meant, what it made) in the
//! transaction that makes it, so a crash leaves either both or neither. A
//! repeat by the same user within [`KEY_TTL`] gets the recorded result; the
//! same key with a different request is refused, so a client bug cannot
//! silently drop a report. Two requests with the same key at once are
//! serialised by the write lock (SQLite) or the key's primary key
//! (PostgreSQL): the second one rolls back and answers with the first's
//! result.

use crate::{Ctx, Result, Service};
use bihuan_domain::ids::UserId;
use bihuan_domain::DomainError;
use bihuan_store::idempotency::{self as store, KeyRecord, NewKey};
use bihuan_store::Tx;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long a key is remembered.
pub const KEY_TTL: time::Duration = time::Duration::hours(24);

/// Shortest and longest key accepted.
pub const KEY_MIN: usize = 8;
pub const KEY_MAX: usize = 255;

/// A client's key for one write: 8–255 visible ASCII characters (a UUID is
/// the usual choice).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks a key as sent (surrounding spaces ignored).
    pub fn parse(raw: &str) -> Result<IdempotencyKey> {
        let k = raw.trim();
        if (KEY_MIN..=KEY_MAX).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(IdempotencyKey(k.to_string()))
        } else {
            Err(DomainError::field(
                "idempotency_key",
                format!("幂等键应为{KEY_MIN}至{KEY_MAX}个可见的ASCII字符（建议使用UUID）"),
                format!("The idempotency key must be {KEY_MIN} to {KEY_MAX} visible ASCII characters (a UUID is best)"),
            ))
        }
    }

    /// A new random key, for a form to carry.
    pub fn generate() -> IdempotencyKey {
        IdempotencyKey(Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One keyed request: who sent it, its key, and what it means.
pub(crate) struct Claim<'a> {
    user: UserId,
    key: &'a IdempotencyKey,
    operation: &'static str,
    request_hash: String,
}

impl<'a> Claim<'a> {
    /// The claim of a request by a user; none for the system caller or without a key.
    pub(crate) fn new(ctx: &Ctx, key: Option<&'a IdempotencyKey>, operation: &'static str, request: &impl Serialize) -> Option<Claim<'a>> {
        let (key, actor) = (key?, ctx.actor()?);
        // serde_json writes object keys in a fixed order, so the same request hashes the same.
        let bytes = serde_json::to_vec(&serde_json::json!({ "operation": operation, "request": request })).unwrap_or_default();
        Some(Claim { user: actor.user_id, key, operation, request_hash: hex::encode(Sha256::digest(&bytes)) })
    }
}

/// The error for a key used before for another request.
fn reused() -> DomainError {
    DomainError::field(
        "idempotency_key",
        "该提交已处理过，但这次的内容与当时不同；如要另行提交，请使用新的幂等键",
        "This idempotency key was already used for a different request; send a new key with a new submission",
    )
}

impl Service {
    /// The result recorded for the claim's key, if the key was used and has
    /// not expired: the id of what the first request made. A key used for a
    /// different request is an error.
    pub(crate) async fn recorded(&self, tx: &mut Tx, claim: &Claim<'_>) -> Result<Option<Uuid>> {
        let rec: Option<KeyRecord> = store::find(tx, claim.user, claim.key.as_str(), self.now()).await?;
        match rec {
            None => Ok(None),
            Some(r) if r.operation == claim.operation && r.request_hash == claim.request_hash => Ok(Some(r.result_id)),
            Some(_) => Err(reused()),
        }
    }

    /// Records the claim's key with what its request made, in the
    /// transaction that made it. `false`: another request with the key got
    /// there first; roll back and answer with [`Service::recorded`].
    pub(crate) async fn record_key(&self, tx: &mut Tx, claim: &Claim<'_>, result_kind: &str, result_id: Uuid) -> Result<bool> {
        let at = self.now();
        Ok(store::record(
            tx,
            &NewKey {
                user_id: claim.user,
                key: claim.key.as_str(),
                operation: claim.operation,
                request_hash: &claim.request_hash,
                result_kind,
                result_id,
                at,
                expires_at: at + KEY_TTL,
            },
        )
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_sensible_length() {
        assert!(IdempotencyKey::parse("0f8fad5b-d9cb-469f-a165-70867728950e").is_ok());
        assert_eq!(IdempotencyKey::parse("  abcdefgh ").map(|k| k.0).ok().as_deref(), Some("abcdefgh"));
        for bad in ["", "short", "has space inside", "键键键键键键键键", &"x".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad}");
        }
        assert_ne!(IdempotencyKey::generate(), IdempotencyKey::generate());
    }
}
