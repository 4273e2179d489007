//! The audit trail is a hash chain: each entry's hash covers its own fields
//! and the previous entry's hash, so editing, deleting or reordering an entry
//! in the database breaks every link after it. The chain is recomputed by
//! `bihuan audit verify`.

use crate::ids::{AuditId, UnitId, UserId};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The hash that the first entry links to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub id: AuditId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_user_id: Option<UserId>,
    pub actor_name: String,
    pub actor_unit_id: Option<UnitId>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    /// JSON text of the entity before the change (none for creations).
    pub before: Option<String>,
    /// JSON text of the entity after the change (none for deletions).
    pub after: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Truncates an instant to whole microseconds: the precision every engine we
/// support stores, so the hash of a stored entry can be recomputed exactly.
pub fn truncate_to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let micros = at.unix_timestamp_nanos() / 1000;
    OffsetDateTime::from_unix_timestamp_nanos(micros * 1000).unwrap_or(at)
}

fn put(h: &mut Sha256, field: &str) {
    h.update((field.len() as u64).to_be_bytes());
    h.update(field.as_bytes());
}

fn put_opt(h: &mut Sha256, field: Option<&str>) {
    match field {
        None => h.update([0u8]),
        Some(f) => {
            h.update([1u8]);
            put(h, f);
        }
    }
}

impl AuditEntry {
    /// The hash this entry must carry, given its fields and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        put(&mut h, "bihuan-audit-v1");
        h.update(self.seq.to_be_bytes());
        put(&mut h, &self.id.to_string());
        h.update((self.at.unix_timestamp_nanos() / 1000).to_be_bytes());
        put_opt(&mut h, self.actor_user_id.map(|u| u.to_string()).as_deref());
        put(&mut h, &self.actor_name);
        put_opt(&mut h, self.actor_unit_id.map(|u| u.to_string()).as_deref());
        put(&mut h, &self.action);
        put(&mut h, &self.entity_type);
        put_opt(&mut h, self.entity_id.as_deref());
        put_opt(&mut h, self.before.as_deref());
        put_opt(&mut h, self.after.as_deref());
        put_opt(&mut h, self.request_id.as_deref());
        put(&mut h, &self.prev_hash);
        hex::encode(h.finalize())
    }
}

/// Where a chain first goes wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's stored hash is not the hash of its fields: it was edited.
    Tampered { seq: i64, id: AuditId },
    /// The entry does not link to the one before it: an entry was removed,
    /// inserted or reordered.
    BrokenLink { seq: i64, id: AuditId },
    /// The sequence has a gap before this entry.
    Gap { expected: i64, found: i64 },
    /// The chain ends before its recorded head: entries were removed at the end.
    Truncated { head_seq: i64, last_seq: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Tampered { seq, id } => write!(f, "entry #{seq} ({id}) was altered: its hash does not match its content"),
            ChainBreak::BrokenLink { seq, id } => write!(f, "entry #{seq} ({id}) does not link to the entry before it"),
            ChainBreak::Gap { expected, found } => write!(f, "entry #{expected} is missing (next entry is #{found})"),
            ChainBreak::Truncated { head_seq, last_seq } => {
                write!(f, "the chain ends at entry #{last_seq} but its head records #{head_seq}: entries were removed")
            }
        }
    }
}

/// Checks entries in sequence order, carrying state between batches so a
/// chain of any length is verified in constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { expected_seq: 1, prev_hash: GENESIS_HASH.to_string(), checked: 0 }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        if entry.seq != self.expected_seq {
            return Err(ChainBreak::Gap { expected: self.expected_seq, found: entry.seq });
        }
        if entry.compute_hash() != entry.hash {
            return Err(ChainBreak::Tampered { seq: entry.seq, id: entry.id });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainBreak::BrokenLink { seq: entry.seq, id: entry.id });
        }
        self.prev_hash = entry.hash.clone();
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// After the last entry: the recorded head must be the last entry seen.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), ChainBreak> {
        let last_seq = self.expected_seq - 1;
        if head_seq != last_seq || (head_seq > 0 && head_hash != self.prev_hash) {
            return Err(ChainBreak::Truncated { head_seq, last_seq });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let mut e = AuditEntry {
                    seq,
                    id: AuditId::new(),
                    at: truncate_to_micros(OffsetDateTime::now_utc()),
                    actor_user_id: None,
                    actor_name: "system".into(),
                    actor_unit_id: None,
                    action: "unit.create".into(),
                    entity_type: "unit".into(),
                    entity_id: Some(seq.to_string()),
                    before: None,
                    after: Some(format!("{{\"n\":{seq}}}")),
                    request_id: None,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.compute_hash();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry], head: (i64, &str)) -> Result<(), ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.check(e)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, (5, &c[4].hash)), Ok(()));
    }

    #[test]
    fn edits_removals_and_truncation_are_named() {
        let c = chain(5);
        let mut edited = c.clone();
        edited[2].after = Some("{\"n\":99}".into());
        assert_eq!(verify(&edited, (5, &c[4].hash)), Err(ChainBreak::Tampered { seq: 3, id: c[2].id }));

        let mut removed = c.clone();
        removed.remove(1);
        assert_eq!(verify(&removed, (5, &c[4].hash)), Err(ChainBreak::Gap { expected: 2, found: 3 }));

        let truncated = &c[..3];
        assert_eq!(verify(truncated, (5, &c[4].hash)), Err(ChainBreak::Truncated { head_seq: 5, last_seq: 3 }));

        // Re-hashing an edited entry still breaks the next link.
        let mut rehashed = c.clone();
        rehashed[1].after = Some("{}".into());
        rehashed[1].hash = rehashed[1].compute_hash();
        assert_eq!(verify(&rehashed, (5, &c[4].hash)), Err(ChainBreak::BrokenLink { seq: 3, id: c[2].id }));
    }
}
