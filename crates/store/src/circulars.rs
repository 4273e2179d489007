//! Circulars (通报): the record, its items with their snapshots, and the
//! units it was sent to with the first time each read it.
//!
//! A draft changes under its `version`; every write of a circular is
//! conditional on `state = 'draft'`, so an issued circular is never
//! changed again, whoever asks.

use crate::sql::{bind_all, in_list_chunk, Args, P};
use crate::{run, Result, StoreError, Ts, Tx};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct CircularRow {
    pub id: Uuid,
    /// `draft` or `issued`.
    pub state: String,
    /// `overdue` or `warnings`.
    pub kind: String,
    pub issuer_unit_id: Uuid,
    /// The issuing office's jurisdiction (its government's subtree).
    pub jurisdiction_path: String,
    pub title: String,
    pub number_prefix: String,
    pub year: Option<i64>,
    pub seq: Option<i64>,
    pub document_number: Option<String>,
    pub addressee: String,
    pub opening: String,
    /// The requirements, a JSON array of strings.
    pub requirements_json: String,
    pub cc: Option<String>,
    /// The day the snapshots were taken (composed, then issued).
    pub as_of: Option<Date>,
    pub issued_on: Option<Date>,
    /// The docx as issued.
    pub attachment_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub issued_by: Option<Uuid>,
    pub issued_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

const COLUMNS: &str = "id, state, kind, issuer_unit_id, jurisdiction_path, title, number_prefix, year, seq, document_number, addressee, \
    opening, requirements_json, cc, as_of, issued_on, attachment_id, created_by, created_at, issued_by, issued_at, updated_at, version";

pub async fn insert(tx: &mut Tx, c: &CircularRow) -> Result<()> {
    let placeholders = (1..=23).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO circular ({COLUMNS}) VALUES ({placeholders})");
    run!(tx, |conn| sqlx::query(&sql)
        .bind(c.id)
        .bind(&c.state)
        .bind(&c.kind)
        .bind(c.issuer_unit_id)
        .bind(&c.jurisdiction_path)
        .bind(&c.title)
        .bind(&c.number_prefix)
        .bind(c.year)
        .bind(c.seq)
        .bind(&c.document_number)
        .bind(&c.addressee)
        .bind(&c.opening)
        .bind(&c.requirements_json)
        .bind(&c.cc)
        .bind(c.as_of)
        .bind(c.issued_on)
        .bind(c.attachment_id)
        .bind(c.created_by)
        .bind(Ts(c.created_at))
        .bind(c.issued_by)
        .bind(c.issued_at.map(Ts))
        .bind(Ts(c.updated_at))
        .bind(c.version)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    Ok(())
}

/// Writes a draft's changes (issuing included) if it is still the draft
/// read at `expected_version`: [`StoreError::Stale`] when it changed or was
/// issued meanwhile. `c.version` is the new version.
pub async fn update_draft(tx: &mut Tx, c: &CircularRow, expected_version: i64) -> Result<()> {
    let sql = "UPDATE circular SET state = $1, title = $2, number_prefix = $3, year = $4, seq = $5, document_number = $6, addressee = $7, \
               opening = $8, requirements_json = $9, cc = $10, as_of = $11, issued_on = $12, attachment_id = $13, issued_by = $14, \
               issued_at = $15, updated_at = $16, version = $17 WHERE id = $18 AND version = $19 AND state = 'draft'";
    let n = run!(tx, |conn| sqlx::query(sql)
        .bind(&c.state)
        .bind(&c.title)
        .bind(&c.number_prefix)
        .bind(c.year)
        .bind(c.seq)
        .bind(&c.document_number)
        .bind(&c.addressee)
        .bind(&c.opening)
        .bind(&c.requirements_json)
        .bind(&c.cc)
        .bind(c.as_of)
        .bind(c.issued_on)
        .bind(c.attachment_id)
        .bind(c.issued_by)
        .bind(c.issued_at.map(Ts))
        .bind(Ts(c.updated_at))
        .bind(c.version)
        .bind(c.id)
        .bind(expected_version)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    if n == 0 { Err(StoreError::Stale) } else { Ok(()) }
}

/// Takes the write lock of a draft's row without changing it (PostgreSQL;
/// SQLite write transactions are serialised already), so that two people
/// issuing one draft at once queue, and the second finds it issued.
/// Returns false when there is no such draft (any more).
pub async fn lock_draft(tx: &mut Tx, id: Uuid) -> Result<bool> {
    let n = run!(tx, |conn| sqlx::query("UPDATE circular SET version = version WHERE id = $1 AND state = 'draft'")
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    Ok(n == 1)
}

pub async fn get(tx: &mut Tx, id: Uuid) -> Result<Option<CircularRow>> {
    let sql = format!("SELECT {COLUMNS} FROM circular WHERE id = $1");
    Ok(run!(tx, |conn| sqlx::query_as::<_, CircularRow>(&sql).bind(id).fetch_optional(&mut *conn).await?))
}

/// Removes a draft and its items; false when it is not a draft (or gone).
pub async fn delete_draft(tx: &mut Tx, id: Uuid) -> Result<bool> {
    if !lock_draft(tx, id).await? {
        return Ok(false);
    }
    run!(tx, |conn| sqlx::query("DELETE FROM circular_item WHERE circular_id = $1").bind(id).execute(&mut *conn).await?.rows_affected());
    let n = run!(tx, |conn| sqlx::query("DELETE FROM circular WHERE id = $1 AND state = 'draft'")
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// The prefix the issuer used last (its latest issued circular).
pub async fn last_prefix(tx: &mut Tx, issuer: Uuid) -> Result<Option<String>> {
    let sql = "SELECT number_prefix FROM circular WHERE issuer_unit_id = $1 AND state = 'issued' ORDER BY issued_at DESC, id DESC LIMIT 1";
    Ok(run!(tx, |conn| sqlx::query_scalar::<_, String>(sql).bind(issuer).fetch_optional(&mut *conn).await?))
}

/// Which circulars a list holds. `None` in a field: everywhere
/// (administrators); an empty list: nowhere.
#[derive(Clone, Debug, Default)]
pub struct CircularFilter {
    /// Issued circulars of these jurisdictions (the reader's own and those above it).
    pub issued_in: Option<Vec<String>>,
    /// Drafts of these jurisdictions (for those who compose there).
    pub drafts_in: Option<Vec<String>>,
    /// Also the issued circulars sent to this unit, wherever issued.
    pub recipient: Option<Uuid>,
}

/// A page of circulars, newest first; `before` is the (created_at, id) of
/// the last one of the previous page.
pub async fn list(tx: &mut Tx, f: &CircularFilter, before: Option<(OffsetDateTime, Uuid)>, limit: i64) -> Result<Vec<CircularRow>> {
    let mut args = Args::default();
    let mut any = Vec::new();
    for (paths, state) in [(&f.issued_in, "issued"), (&f.drafts_in, "draft")] {
        match paths {
            None => any.push(format!("c.state = '{state}'")),
            Some(paths) if !paths.is_empty() => {
                let list = args.list(paths.iter().map(|p| P::Text(p.clone())));
                any.push(format!("(c.state = '{state}' AND c.jurisdiction_path IN ({list}))"));
            }
            Some(_) => {}
        }
    }
    if let Some(u) = f.recipient {
        let unit = args.push(P::Uuid(u));
        any.push(format!(
            "(c.state = 'issued' AND EXISTS (SELECT 1 FROM circular_recipient r WHERE r.circular_id = c.id AND r.unit_id = {unit}))"
        ));
    }
    if any.is_empty() {
        return Ok(Vec::new());
    }
    let mut cond = format!("({})", any.join(" OR "));
    if let Some((at, id)) = before {
        let (a, i) = (args.push(P::Ts(Ts(at))), args.push(P::Uuid(id)));
        cond.push_str(&format!(" AND (c.created_at < {a} OR (c.created_at = {a} AND c.id < {i}))"));
    }
    let lim = args.push(P::Int(limit));
    let cols = COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT {cols} FROM circular c WHERE {cond} ORDER BY c.created_at DESC, c.id DESC LIMIT {lim}");
    Ok(run!(tx, |conn| bind_all!(sqlx::query_as::<_, CircularRow>(&sql), args).fetch_all(&mut *conn).await?))
}

/// One item of a circular.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ItemRow {
    /// 1, 2, 3, … in the order the attachment lists them.
    pub seq: i64,
    pub warning_id: Option<Uuid>,
    pub hazard_id: Option<Uuid>,
    pub measure_id: Option<Uuid>,
    /// The unit concerned (responsible unit of a hazard, unit of a warning).
    pub unit_id: Uuid,
    pub snapshot_json: String,
    pub remark: Option<String>,
}

/// Replaces every item of a draft by these.
pub async fn replace_items(tx: &mut Tx, circular: Uuid, items: &[ItemRow]) -> Result<()> {
    run!(tx, |conn| sqlx::query("DELETE FROM circular_item WHERE circular_id = $1")
        .bind(circular)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    // Eight parameters a row: short statements on SQLite, longer on PostgreSQL.
    for chunk in items.chunks(in_list_chunk(tx.engine()) / 7 + 1) {
        let mut args = Args::default();
        let rows: Vec<String> = chunk
            .iter()
            .map(|i| {
                let vals = [
                    args.push(P::Uuid(circular)),
                    args.push(P::Int(i.seq)),
                    args.push(P::OUuid(i.warning_id)),
                    args.push(P::OUuid(i.hazard_id)),
                    args.push(P::OUuid(i.measure_id)),
                    args.push(P::Uuid(i.unit_id)),
                    args.push(P::Text(i.snapshot_json.clone())),
                    args.push(P::OText(i.remark.clone())),
                ];
                format!("({})", vals.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO circular_item (circular_id, seq, warning_id, hazard_id, measure_id, unit_id, snapshot_json, remark) VALUES {}",
            rows.join(", ")
        );
        run!(tx, |conn| bind_all!(sqlx::query(&sql), args).execute(&mut *conn).await?.rows_affected());
    }
    Ok(())
}

pub async fn items(tx: &mut Tx, circular: Uuid) -> Result<Vec<ItemRow>> {
    let sql = "SELECT seq, warning_id, hazard_id, measure_id, unit_id, snapshot_json, remark FROM circular_item \
               WHERE circular_id = $1 ORDER BY seq";
    Ok(run!(tx, |conn| sqlx::query_as::<_, ItemRow>(sql).bind(circular).fetch_all(&mut *conn).await?))
}

/// Items per circular: `(circular, count)`.
pub async fn item_counts(tx: &mut Tx, ids: &[Uuid]) -> Result<Vec<(Uuid, i64)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(in_list_chunk(tx.engine())) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|i| P::Uuid(*i)));
        let sql = format!("SELECT circular_id, COUNT(*) FROM circular_item WHERE circular_id IN ({list}) GROUP BY circular_id");
        out.extend(run!(tx, |conn| bind_all!(sqlx::query_as::<_, (Uuid, i64)>(&sql), args).fetch_all(&mut *conn).await?));
    }
    Ok(out)
}

/// Sends a circular to these units (again: no change).
pub async fn insert_recipients(tx: &mut Tx, circular: Uuid, units: &[Uuid]) -> Result<()> {
    let sql = "INSERT INTO circular_recipient (circular_id, unit_id, first_read_at) VALUES ($1, $2, NULL) \
               ON CONFLICT (circular_id, unit_id) DO NOTHING";
    for u in units {
        run!(tx, |conn| sqlx::query(sql).bind(circular).bind(*u).execute(&mut *conn).await?.rows_affected());
    }
    Ok(())
}

/// The units a circular was sent to, with the first time a user of each read it.
pub async fn recipients(tx: &mut Tx, circular: Uuid) -> Result<Vec<(Uuid, Option<OffsetDateTime>)>> {
    let sql = "SELECT unit_id, first_read_at FROM circular_recipient WHERE circular_id = $1 ORDER BY unit_id";
    Ok(run!(tx, |conn| sqlx::query_as(sql).bind(circular).fetch_all(&mut *conn).await?))
}

/// Whether the circular was sent to this unit.
pub async fn is_recipient(tx: &mut Tx, circular: Uuid, unit: Uuid) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM circular_recipient WHERE circular_id = $1 AND unit_id = $2";
    Ok(run!(tx, |conn| sqlx::query_scalar::<_, i64>(sql).bind(circular).bind(unit).fetch_one(&mut *conn).await?) > 0)
}

/// Notes the first read by a user of a recipient unit; later reads change
/// nothing. Returns whether this was the first.
pub async fn mark_read(tx: &mut Tx, circular: Uuid, unit: Uuid, at: OffsetDateTime) -> Result<bool> {
    let sql = "UPDATE circular_recipient SET first_read_at = $1 WHERE circular_id = $2 AND unit_id = $3 AND first_read_at IS NULL";
    let n = run!(tx, |conn| sqlx::query(sql).bind(Ts(at)).bind(circular).bind(unit).execute(&mut *conn).await?.rows_affected());
    Ok(n == 1)
}

/// Read and total recipients per circular: `(circular, read, total)`.
pub async fn read_counts(tx: &mut Tx, ids: &[Uuid]) -> Result<Vec<(Uuid, i64, i64)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(in_list_chunk(tx.engine())) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|i| P::Uuid(*i)));
        let sql = format!(
            "SELECT circular_id, COUNT(first_read_at), COUNT(*) FROM circular_recipient WHERE circular_id IN ({list}) GROUP BY circular_id"
        );
        out.extend(run!(tx, |conn| bind_all!(sqlx::query_as::<_, (Uuid, i64, i64)>(&sql), args).fetch_all(&mut *conn).await?));
    }
    Ok(out)
}

/// Active users of these units: (user, unit, language).
pub async fn active_users_of(tx: &mut Tx, units: &[Uuid]) -> Result<Vec<(Uuid, Uuid, String)>> {
    let mut out = Vec::new();
    for chunk in units.chunks(in_list_chunk(tx.engine())) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|i| P::Uuid(*i)));
        let sql = format!("SELECT id, unit_id, language FROM app_user WHERE active AND unit_id IN ({list}) ORDER BY id");
        out.extend(run!(tx, |conn| bind_all!(sqlx::query_as::<_, (Uuid, Uuid, String)>(&sql), args).fetch_all(&mut *conn).await?));
    }
    Ok(out)
}
