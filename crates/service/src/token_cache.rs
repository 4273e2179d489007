//! Bearer tokens resolved a moment ago, so that a client sending many
//! requests does not pay for resolving its token on each one.
//!
//! An entry lives at most [`TTL`]; changes made through this process —
//! revoking a token, logging out, changing or deactivating a user, changing
//! a unit or the areas units lead — empty the cache when they commit, so
//! they take effect on the next request. Changes made elsewhere (another
//! server process on the same PostgreSQL database, the command line) take
//! effect within `TTL`. Expiry is checked on every request against the
//! service clock, and a generation number keeps a resolution that raced
//! with an invalidation from being cached.

use bihuan_domain::ids::TokenId;
use bihuan_domain::model::User;
use bihuan_domain::permission::Actor;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// How long a resolved token is trusted without asking the database.
pub const TTL: Duration = Duration::from_secs(2);

/// More entries than this and the cache is emptied before adding one (only
/// valid tokens are cached, so this bounds memory, not correctness).
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub actor: Actor,
    pub user: User,
    pub token_id: TokenId,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
}

#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<String, (Instant, Resolved)>>,
    generation: AtomicU64,
}

impl TokenCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Resolved)>> {
        // A panic while holding the lock cannot leave the map half-changed.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The generation to hand back to [`TokenCache::put`]: read it before
    /// reading the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// A resolution of the token with this hash younger than `TTL`.
    pub fn get(&self, hash: &str) -> Option<Resolved> {
        let mut entries = self.entries();
        match entries.get(hash) {
            Some((at, r)) if at.elapsed() < TTL => Some(r.clone()),
            Some(_) => {
                entries.remove(hash);
                None
            }
            None => None,
        }
    }

    /// Caches a resolution read from the database, unless the cache was
    /// invalidated since `generation` was read.
    pub fn put(&self, generation: u64, hash: String, r: Resolved) {
        let mut entries = self.entries();
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, (Instant::now(), r));
    }

    /// Notes that the token was just marked as used.
    pub fn touched(&self, hash: &str, at: OffsetDateTime) {
        if let Some((_, r)) = self.entries().get_mut(hash) {
            r.last_used_at = Some(at);
        }
    }

    /// Forgets everything: call after committing a change to tokens, users,
    /// units or area leads.
    pub fn invalidate(&self) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
    }
}
