//! The audit trail: append and read, never update or delete. There is no
//! function here that changes an entry, and none in any layer above.

use crate::sql::{bind_all, Args, P};
use crate::{run, Result, StoreError, Ts, Tx};
#[allow(unused_imports)]
use crate::db::ts_opt;
use bihuan_domain::audit::{truncate_to_micros, AuditEntry, ChainBreak, ChainVerifier};
use bihuan_domain::ids::{AuditId, UnitId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

/// What a caller records; the store assigns the sequence number and hashes.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub at: OffsetDateTime,
    pub actor_user_id: Option<UserId>,
    pub actor_name: String,
    pub actor_unit_id: Option<UnitId>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    id: Uuid,
    at: OffsetDateTime,
    actor_user_id: Option<Uuid>,
    actor_name: String,
    actor_unit_id: Option<Uuid>,
    action: String,
    entity_type: String,
    entity_id: Option<String>,
    before_json: Option<String>,
    after_json: Option<String>,
    request_id: Option<String>,
    prev_hash: String,
    hash: String,
}

impl From<Row> for AuditEntry {
    fn from(r: Row) -> Self {
        AuditEntry {
            seq: r.seq,
            id: AuditId(r.id),
            at: r.at,
            actor_user_id: r.actor_user_id.map(UserId),
            actor_name: r.actor_name,
            actor_unit_id: r.actor_unit_id.map(UnitId),
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            before: r.before_json,
            after: r.after_json,
            request_id: r.request_id,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

const COLUMNS: &str = "seq, id, at, actor_user_id, actor_name, actor_unit_id, action, entity_type, entity_id, before_json, \
                       after_json, request_id, prev_hash, hash";

/// The entry `e` at position `seq` after the entry whose hash is
/// `prev_hash`, with its own hash.
fn chained(seq: i64, e: NewEntry, prev_hash: String) -> AuditEntry {
    let mut entry = AuditEntry {
        seq,
        id: AuditId::new(),
        at: truncate_to_micros(e.at),
        actor_user_id: e.actor_user_id,
        actor_name: e.actor_name,
        actor_unit_id: e.actor_unit_id,
        action: e.action,
        entity_type: e.entity_type,
        entity_id: e.entity_id,
        before: e.before,
        after: e.after,
        request_id: e.request_id,
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    entry
}

/// Appends an entry inside the caller's transaction. The first statement
/// locks the chain head row, so concurrent writers on PostgreSQL queue here
/// and the chain stays linear; SQLite writers are serialised already.
pub async fn append(tx: &mut Tx, e: NewEntry) -> Result<AuditEntry> {
    let (seq, prev_hash): (i64, String) = run!(tx, |c| {
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").fetch_one(&mut *c).await?
    });
    let entry = chained(seq, e, prev_hash);
    // The entry and the head's new hash in one round trip: two statements
    // in one query text on SQLite (sqlx binds `$n` across them), a
    // data-modifying WITH on PostgreSQL.
    let values = "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
    let sql = match tx.engine() {
        crate::Engine::Sqlite => format!("INSERT INTO audit_entry ({COLUMNS}) VALUES {values}; UPDATE audit_head SET hash = $14 WHERE id = 1"),
        crate::Engine::Postgres => {
            format!("WITH e AS (INSERT INTO audit_entry ({COLUMNS}) VALUES {values}) UPDATE audit_head SET hash = $14 WHERE id = 1")
        }
    };
    run!(tx, |c| {
        sqlx::query(&sql)
            .bind(entry.seq)
            .bind(entry.id.0)
            .bind(Ts(entry.at))
            .bind(entry.actor_user_id.map(|u| u.0))
            .bind(&entry.actor_name)
            .bind(entry.actor_unit_id.map(|u| u.0))
            .bind(&entry.action)
            .bind(&entry.entity_type)
            .bind(&entry.entity_id)
            .bind(&entry.before)
            .bind(&entry.after)
            .bind(&entry.request_id)
            .bind(&entry.prev_hash)
            .bind(&entry.hash)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(entry)
}

/// Appends many entries at once, in order, inside the caller's
/// transaction: the same chain as appending them one by one (each entry's
/// `prev_hash` is the hash of the one before), but the head is moved once
/// and the rows go in a few multi-row INSERTs — for imports that write one
/// entry per row.
pub async fn append_many(tx: &mut Tx, entries: Vec<NewEntry>) -> Result<()> {
    let Ok(n) = i64::try_from(entries.len()) else { return Err(StoreError::Corrupt("too many audit entries".into())) };
    if n == 0 {
        return Ok(());
    }
    let (last_seq, mut prev_hash): (i64, String) = run!(tx, |c| {
        sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash").bind(n).fetch_one(&mut *c).await?
    });
    let mut chain = Vec::with_capacity(entries.len());
    for (seq, e) in (last_seq - n + 1..).zip(entries) {
        let entry = chained(seq, e, std::mem::take(&mut prev_hash));
        prev_hash = entry.hash.clone();
        chain.push(entry);
    }
    // 14 parameters a row; SQLite binds by name at O(p²) (see sql::in_list_chunk).
    let rows_per_statement = match tx.engine() {
        crate::Engine::Sqlite => 8,
        crate::Engine::Postgres => 100,
    };
    for chunk in chain.chunks(rows_per_statement) {
        let mut args = Args::default();
        let rows: Vec<String> = chunk
            .iter()
            .map(|e| {
                let vals = [
                    P::Int(e.seq),
                    P::Uuid(e.id.0),
                    P::Ts(Ts(e.at)),
                    P::OUuid(e.actor_user_id.map(|u| u.0)),
                    P::Text(e.actor_name.clone()),
                    P::OUuid(e.actor_unit_id.map(|u| u.0)),
                    P::Text(e.action.clone()),
                    P::Text(e.entity_type.clone()),
                    P::OText(e.entity_id.clone()),
                    P::OText(e.before.clone()),
                    P::OText(e.after.clone()),
                    P::OText(e.request_id.clone()),
                    P::Text(e.prev_hash.clone()),
                    P::Text(e.hash.clone()),
                ];
                format!("({})", args.list(vals))
            })
            .collect();
        let sql = format!("INSERT INTO audit_entry ({COLUMNS}) VALUES {}", rows.join(", "));
        run!(tx, |c| bind_all!(sqlx::query(&sql), args).execute(&mut *c).await?.rows_affected());
    }
    run!(tx, |c| sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&prev_hash).execute(&mut *c).await?.rows_affected());
    Ok(())
}

#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<UserId>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    /// Keyset: entries older than this sequence number.
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// Newest first.
pub async fn list(tx: &mut Tx, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
    let mut sql = format!("SELECT {COLUMNS} FROM audit_entry WHERE seq < $1");
    sql.push_str(if f.actor.is_some() { " AND actor_user_id = $2" } else { " AND $2 IS NULL" });
    sql.push_str(if f.action.is_some() { " AND action LIKE $3 ESCAPE '\\'" } else { " AND $3 IS NULL" });
    sql.push_str(if f.entity_type.is_some() { " AND entity_type = $4" } else { " AND $4 IS NULL" });
    sql.push_str(if f.entity_id.is_some() { " AND entity_id = $5" } else { " AND $5 IS NULL" });
    sql.push_str(if f.from.is_some() { " AND at >= $6" } else { " AND $6 IS NULL" });
    sql.push_str(if f.to.is_some() { " AND at < $7" } else { " AND $7 IS NULL" });
    sql.push_str(" ORDER BY seq DESC LIMIT $8");
    let limit = if f.limit <= 0 { 100 } else { f.limit };
    let action = f.action.as_ref().map(|a| format!("{}%", crate::units::escape_like(a)));
    let rows: Vec<Row> = run!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(f.before_seq.unwrap_or(i64::MAX))
            .bind(f.actor.map(|a| a.0))
            .bind(&action)
            .bind(&f.entity_type)
            .bind(&f.entity_id)
            .bind(ts_opt(f.from))
            .bind(ts_opt(f.to))
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
    });
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}

/// Entries with `seq > after`, oldest first, at most `limit`.
pub async fn batch_after(tx: &mut Tx, after: i64, limit: i64) -> Result<Vec<AuditEntry>> {
    let sql = format!("SELECT {COLUMNS} FROM audit_entry WHERE seq > $1 ORDER BY seq LIMIT $2");
    let rows: Vec<Row> = run!(tx, |c| sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(&mut *c).await?);
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}

pub async fn head(tx: &mut Tx) -> Result<(i64, String)> {
    Ok(run!(tx, |c| sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut *c).await?))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub checked: u64,
    pub head_seq: i64,
    pub result: Result<(), ChainBreak>,
}

/// Recomputes the whole chain in one snapshot, in batches.
pub async fn verify(tx: &mut Tx) -> Result<VerifyReport> {
    let (head_seq, head_hash) = head(tx).await?;
    let mut v = ChainVerifier::default();
    let mut after = 0;
    loop {
        let batch = batch_after(tx, after, 2000).await?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for e in &batch {
            if let Err(b) = v.check(e) {
                return Ok(VerifyReport { checked: v.checked, head_seq, result: Err(b) });
            }
        }
    }
    let result = v.finish(head_seq, &head_hash);
    Ok(VerifyReport { checked: v.checked, head_seq, result })
}

pub async fn get(tx: &mut Tx, id: AuditId) -> Result<AuditEntry> {
    let sql = format!("SELECT {COLUMNS} FROM audit_entry WHERE id = $1");
    let row: Option<Row> = run!(tx, |c| sqlx::query_as(&sql).bind(id.0).fetch_optional(&mut *c).await?);
    row.map(AuditEntry::from).ok_or(StoreError::NotFound)
}
