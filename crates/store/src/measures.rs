//! The measures list (制度措施清单): the record, its timeline, the lists with
//! their filters and keyset pages, and the counts behind the rates.
//!
//! The list is small (a town has hundreds of measures, a district some
//! thousands), so text search is a plain `LIKE` on title, content and code
//! rather than the token index hazards need.

use crate::hazards::Cursor;
use crate::sql::{bind_all, subtree_range, Args, P};
use crate::{run, Engine, Result, StoreError, Ts, Tx};
use bihuan_domain::ids::*;
use bihuan_domain::measure::*;
use bihuan_domain::unit::UnitPath;
use std::collections::HashMap;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

const COLUMNS: &str = "id, num, code, campaign_id, area_id, unit_id, unit_path, kind, title, content, responsible_person, deadline, \
    state, evidence, completed_at, verified_at, verified_by, created_by_unit_id, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
struct MeasureDb {
    id: Uuid,
    num: i64,
    code: String,
    campaign_id: Option<Uuid>,
    area_id: Option<Uuid>,
    unit_id: Uuid,
    unit_path: String,
    kind: String,
    title: String,
    content: String,
    responsible_person: Option<String>,
    deadline: Date,
    state: String,
    evidence: Option<String>,
    completed_at: Option<OffsetDateTime>,
    verified_at: Option<OffsetDateTime>,
    verified_by: Option<String>,
    created_by_unit_id: Uuid,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i64,
}

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("measure {what}: {v}"))
}

fn vocab<T>(parse: fn(&str) -> Option<T>, what: &str, v: &str) -> Result<T> {
    parse(v).ok_or_else(|| corrupt(what, v))
}

/// Names and paths of units, for the references a measure carries.
async fn unit_refs(tx: &mut Tx, ids: &[Uuid]) -> Result<HashMap<Uuid, UnitRef>> {
    let mut ids: Vec<Uuid> = ids.to_vec();
    ids.sort();
    ids.dedup();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|u| P::Uuid(*u)));
        let sql = format!("SELECT id, name, short_name, path FROM unit WHERE id IN ({list})");
        let rows: Vec<(Uuid, String, Option<String>, String)> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
        for (id, name, short_name, path) in rows {
            out.insert(id, UnitRef { id: UnitId(id), name, short_name, path: UnitPath::from_stored(path) });
        }
    }
    Ok(out)
}

async fn hydrate(tx: &mut Tx, rows: Vec<MeasureDb>) -> Result<Vec<Measure>> {
    let ids: Vec<Uuid> = rows.iter().flat_map(|r| [r.unit_id, r.created_by_unit_id]).collect();
    let units = unit_refs(tx, &ids).await?;
    let unit = |id: Uuid| units.get(&id).cloned().ok_or_else(|| corrupt("unit", &id.to_string()));
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut responsible_unit = unit(r.unit_id)?;
        // The measure keeps the path it was filed under (units do not move).
        responsible_unit.path = UnitPath::from_stored(r.unit_path);
        out.push(Measure {
            id: MeasureId(r.id),
            num: r.num,
            code: r.code,
            campaign_id: r.campaign_id.map(CampaignId),
            area_id: r.area_id.map(AreaId),
            responsible_unit,
            kind: vocab(MeasureKind::parse, "kind", &r.kind)?,
            title: r.title,
            content: r.content,
            responsible_person: r.responsible_person,
            deadline: r.deadline,
            state: vocab(MeasureState::parse, "state", &r.state)?,
            evidence: r.evidence,
            completed_at: r.completed_at,
            verified_at: r.verified_at,
            verified_by: r.verified_by,
            created_by_unit: unit(r.created_by_unit_id)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        });
    }
    Ok(out)
}

fn bind_measure(args: &mut Args, m: &Measure) {
    let text = |v: &str| P::Text(v.to_string());
    args.params.extend([
        P::Uuid(m.id.0),
        P::Int(m.num),
        text(&m.code),
        P::OUuid(m.campaign_id.map(|c| c.0)),
        P::OUuid(m.area_id.map(|a| a.0)),
        P::Uuid(m.responsible_unit.id.0),
        text(m.responsible_unit.path.as_str()),
        text(m.kind.as_str()),
        text(&m.title),
        text(&m.content),
        P::OText(m.responsible_person.clone()),
        P::Date(m.deadline),
        text(m.state.as_str()),
        P::OText(m.evidence.clone()),
        P::OTs(m.completed_at.map(Ts)),
        P::OTs(m.verified_at.map(Ts)),
        P::OText(m.verified_by.clone()),
        P::Uuid(m.created_by_unit.id.0),
        P::Ts(Ts(m.created_at)),
        P::Ts(Ts(m.updated_at)),
        P::Int(m.version),
    ]);
}

pub async fn insert(tx: &mut Tx, m: &Measure) -> Result<()> {
    let mut args = Args::default();
    bind_measure(&mut args, m);
    let placeholders = (1..=args.params.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO measure ({COLUMNS}) VALUES ({placeholders})");
    run!(tx, |c| bind_all!(sqlx::query(&sql), args).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Writes `m` over the stored row if the stored version is `expected`;
/// [`StoreError::Stale`] otherwise.
pub async fn update(tx: &mut Tx, m: &Measure, expected: i64) -> Result<()> {
    let mut args = Args::default();
    bind_measure(&mut args, m);
    let sets = COLUMNS
        .split(',')
        .map(str::trim)
        .enumerate()
        .filter(|(_, c)| *c != "id")
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let v = args.push(P::Int(expected));
    let sql = format!("UPDATE measure SET {sets} WHERE id = $1 AND version = {v}");
    let n = run!(tx, |c| bind_all!(sqlx::query(&sql), args).execute(&mut *c).await?.rows_affected());
    if n == 0 { Err(StoreError::Stale) } else { Ok(()) }
}

pub async fn get(tx: &mut Tx, id: MeasureId) -> Result<Option<Measure>> {
    let sql = format!("SELECT {COLUMNS} FROM measure WHERE id = $1");
    let row: Option<MeasureDb> = run!(tx, |c| sqlx::query_as(&sql).bind(id.0).fetch_optional(&mut *c).await?);
    match row {
        None => Ok(None),
        Some(r) => Ok(hydrate(tx, vec![r]).await?.pop()),
    }
}

pub async fn get_by_code(tx: &mut Tx, code: &str) -> Result<Option<Measure>> {
    let sql = format!("SELECT {COLUMNS} FROM measure WHERE code = $1");
    let row: Option<MeasureDb> = run!(tx, |c| sqlx::query_as(&sql).bind(code).fetch_optional(&mut *c).await?);
    match row {
        None => Ok(None),
        Some(r) => Ok(hydrate(tx, vec![r]).await?.pop()),
    }
}

// ---- the timeline ----

pub struct NewMeasureEvent<'a> {
    pub measure_id: MeasureId,
    pub at: OffsetDateTime,
    pub actor_user_id: Option<UserId>,
    pub actor_name: &'a str,
    pub actor_unit_id: Option<UnitId>,
    pub draft: &'a MeasureEventDraft,
}

pub async fn append_event(tx: &mut Tx, e: NewMeasureEvent<'_>) -> Result<MeasureEvent> {
    let mut ev = MeasureEvent {
        id: MeasureEventId::new(),
        measure_id: e.measure_id,
        seq: 0,
        at: e.at,
        actor_user_id: e.actor_user_id,
        actor_name: e.actor_name.to_string(),
        actor_unit_id: e.actor_unit_id,
        action: e.draft.action.clone(),
        from_state: e.draft.from_state,
        to_state: e.draft.to_state,
        comment: e.draft.comment.clone(),
        data: e.draft.data.clone(),
    };
    ev.seq = crate::timeline::append(
        tx,
        crate::timeline::Timeline::Measure,
        crate::timeline::Row {
            id: ev.id.0,
            owner: ev.measure_id.0,
            at: ev.at,
            actor_user_id: ev.actor_user_id.map(|u| u.0),
            actor_name: &ev.actor_name,
            actor_unit_id: ev.actor_unit_id.map(|u| u.0),
            action: &ev.action,
            from_state: ev.from_state.map(|s| s.as_str()),
            to_state: ev.to_state.as_str(),
            comment: ev.comment.as_deref(),
            data: &ev.data,
        },
        crate::timeline::Seq::Next,
    )
    .await?;
    Ok(ev)
}

type EventRow = (Uuid, Uuid, i32, OffsetDateTime, Option<Uuid>, String, Option<Uuid>, String, Option<String>, String, Option<String>, String);

fn event_from_row(r: EventRow) -> Result<MeasureEvent> {
    let (id, measure_id, seq, at, user, name, unit, action, from, to, comment, data) = r;
    Ok(MeasureEvent {
        id: MeasureEventId(id),
        measure_id: MeasureId(measure_id),
        seq,
        at,
        actor_user_id: user.map(UserId),
        actor_name: name,
        actor_unit_id: unit.map(UnitId),
        action,
        from_state: from.as_deref().map(|s| vocab(MeasureState::parse, "event state", s)).transpose()?,
        to_state: vocab(MeasureState::parse, "event state", &to)?,
        comment,
        data: serde_json::from_str(&data).map_err(|e| corrupt("event data", &e.to_string()))?,
    })
}

const EVENT_COLUMNS: &str =
    "id, measure_id, seq, at, actor_user_id, actor_name, actor_unit_id, action, from_state, to_state, comment, data_json";

pub async fn events(tx: &mut Tx, measure: MeasureId) -> Result<Vec<MeasureEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM measure_event WHERE measure_id = $1 ORDER BY seq");
    let rows: Vec<EventRow> = run!(tx, |c| sqlx::query_as(&sql).bind(measure.0).fetch_all(&mut *c).await?);
    rows.into_iter().map(event_from_row).collect()
}

/// Timelines of many measures (for the ledger's second sheet), grouped by
/// measure in the order given, each in time order.
pub async fn events_of(tx: &mut Tx, measures: &[MeasureId]) -> Result<Vec<MeasureEvent>> {
    let mut by_measure: HashMap<MeasureId, Vec<MeasureEvent>> = HashMap::new();
    for chunk in measures.chunks(500) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|m| P::Uuid(m.0)));
        let sql = format!("SELECT {EVENT_COLUMNS} FROM measure_event WHERE measure_id IN ({list}) ORDER BY measure_id, seq");
        let rows: Vec<EventRow> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
        for r in rows {
            let ev = event_from_row(r)?;
            by_measure.entry(ev.measure_id).or_default().push(ev);
        }
    }
    Ok(measures.iter().flat_map(|m| by_measure.remove(m).unwrap_or_default()).collect())
}

// ---- finding measures ----

/// Which measures a caller may see at all (mirrors
/// `bihuan_domain::measure::visible`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MeasureScope {
    All,
    Visible {
        /// Measures of units in this subtree (the caller's scope).
        subtree: UnitPath,
        /// Measures of the areas the caller's department leads.
        led_areas: Vec<AreaId>,
        /// Measures put on the list by a unit in this subtree.
        created_under: Option<UnitPath>,
    },
}

#[derive(Clone, Debug, Default)]
pub struct MeasureFilter {
    /// Only measures of responsible units at or below this path.
    pub within: Option<UnitPath>,
    /// Only measures of this responsible unit.
    pub unit_id: Option<UnitId>,
    pub campaign_id: Option<CampaignId>,
    pub area_id: Option<AreaId>,
    pub kinds: Vec<MeasureKind>,
    pub states: Vec<MeasureState>,
    /// Open and past the deadline on `today`.
    pub overdue: Option<bool>,
    pub deadline_from: Option<Date>,
    pub deadline_to: Option<Date>,
    /// Substring of the title, the content or the code.
    pub q: Option<String>,
    pub sort: MeasureSort,
    /// Keyset cursor from the previous page ([`MeasurePage::next`]).
    pub after: Option<String>,
    pub limit: i64,
}

pub struct MeasurePage {
    pub items: Vec<Measure>,
    /// Cursor for the next page, when there may be one.
    pub next: Option<String>,
}

const OPEN: &str = "('planned', 'in_progress')";
const DONE: &str = "('completed', 'verified')";

fn range(args: &mut Args, col: &str, p: &UnitPath) -> String {
    let (lo, hi) = subtree_range(p.as_str());
    format!("({col} >= {} AND {col} < {})", args.push(P::Text(lo)), args.push(P::Text(hi)))
}

fn where_clause(args: &mut Args, scope: &MeasureScope, f: &MeasureFilter, today: Date) -> String {
    let mut w: Vec<String> = Vec::new();
    if let MeasureScope::Visible { subtree, led_areas, created_under } = scope {
        let mut any = vec![range(args, "m.unit_path", subtree)];
        if !led_areas.is_empty() {
            any.push(format!("m.area_id IN ({})", args.list(led_areas.iter().map(|a| P::Uuid(a.0)))));
        }
        if let Some(p) = created_under {
            let units = range(args, "path", p);
            any.push(format!("m.created_by_unit_id IN (SELECT id FROM unit WHERE {units})"));
        }
        w.push(format!("({})", any.join(" OR ")));
    }
    if let Some(p) = &f.within {
        w.push(range(args, "m.unit_path", p));
    }
    if let Some(u) = f.unit_id {
        w.push(format!("m.unit_id = {}", args.push(P::Uuid(u.0))));
    }
    if let Some(c) = f.campaign_id {
        w.push(format!("m.campaign_id = {}", args.push(P::Uuid(c.0))));
    }
    if let Some(a) = f.area_id {
        w.push(format!("m.area_id = {}", args.push(P::Uuid(a.0))));
    }
    if !f.kinds.is_empty() {
        w.push(format!("m.kind IN ({})", args.list(f.kinds.iter().map(|k| P::Text(k.as_str().into())))));
    }
    if !f.states.is_empty() {
        w.push(format!("m.state IN ({})", args.list(f.states.iter().map(|s| P::Text(s.as_str().into())))));
    }
    match f.overdue {
        Some(true) => w.push(format!("m.state IN {OPEN} AND m.deadline < {}", args.push(P::Date(today)))),
        Some(false) => w.push(format!("NOT (m.state IN {OPEN} AND m.deadline < {})", args.push(P::Date(today)))),
        None => {}
    }
    if let Some(d) = f.deadline_from {
        w.push(format!("m.deadline >= {}", args.push(P::Date(d))));
    }
    if let Some(d) = f.deadline_to {
        w.push(format!("m.deadline <= {}", args.push(P::Date(d))));
    }
    if let Some(q) = f.q.as_deref().map(bihuan_domain::text::normalize_width).filter(|q| !q.is_empty()) {
        let like = args.push(P::Text(format!("%{}%", crate::units::escape_like(&q.to_lowercase()))));
        w.push(format!(
            "(LOWER(m.title) LIKE {like} ESCAPE '\\' OR LOWER(m.content) LIKE {like} ESCAPE '\\' OR LOWER(m.code) LIKE {like} ESCAPE '\\')"
        ));
    }
    if w.is_empty() { "TRUE".into() } else { w.join(" AND ") }
}

fn bad_cursor() -> StoreError {
    StoreError::Corrupt("bad cursor".into())
}

/// A page of measures in `scope` matching `filter`.
pub async fn list(tx: &mut Tx, scope: &MeasureScope, f: &MeasureFilter, today: Date) -> Result<MeasurePage> {
    let mut args = Args::default();
    let mut w = where_clause(&mut args, scope, f, today);
    let limit = if f.limit <= 0 { 50 } else { f.limit.min(1000) };
    let order = match f.sort {
        MeasureSort::Newest => "m.num DESC",
        MeasureSort::Oldest => "m.num ASC",
        MeasureSort::Deadline => "m.deadline, m.num",
    };
    if let Some(after) = f.after.as_deref() {
        let c = Cursor::parse(after).ok_or_else(bad_cursor)?;
        match (f.sort, c.deadline) {
            (MeasureSort::Newest, None) => w.push_str(&format!(" AND m.num < {}", args.push(P::Int(c.num)))),
            (MeasureSort::Oldest, None) => w.push_str(&format!(" AND m.num > {}", args.push(P::Int(c.num)))),
            (MeasureSort::Deadline, Some(d)) => {
                let (d1, d2, n) = (args.push(P::Date(d)), args.push(P::Date(d)), args.push(P::Int(c.num)));
                w.push_str(&format!(" AND (m.deadline > {d1} OR (m.deadline = {d2} AND m.num > {n}))"));
            }
            _ => return Err(bad_cursor()),
        }
    }
    let lim = args.push(P::Int(limit + 1));
    let cols = COLUMNS.split(',').map(|c| format!("m.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT {cols} FROM measure m WHERE {w} ORDER BY {order} LIMIT {lim}");
    let mut rows: Vec<MeasureDb> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(50));
    let next = if more {
        rows.last().map(|r| Cursor { num: r.num, deadline: (f.sort == MeasureSort::Deadline).then_some(r.deadline) }.to_string())
    } else {
        None
    };
    Ok(MeasurePage { items: hydrate(tx, rows).await?, next })
}

/// Measures for an export: the next `batch` by number after `after_num`.
pub async fn export_page(tx: &mut Tx, scope: &MeasureScope, f: &MeasureFilter, today: Date, after_num: i64, batch: i64) -> Result<Vec<Measure>> {
    let mut f = f.clone();
    f.sort = MeasureSort::Oldest;
    f.after = (after_num > 0).then(|| after_num.to_string());
    f.limit = batch;
    Ok(list(tx, scope, &f, today).await?.items)
}

// ---- counts and rates ----

/// Counts of the measures in `scope` matching `filter`: one [`MeasureTally`]
/// in total (`by` = None), or one per group. For [`MeasureBreakdown::Unit`]
/// the key is the path of the unit one level below `unit_root`.
pub async fn tally(
    tx: &mut Tx,
    scope: &MeasureScope,
    f: &MeasureFilter,
    today: Date,
    by: Option<MeasureBreakdown>,
    unit_root: Option<&UnitPath>,
) -> Result<Vec<MeasureTally>> {
    let engine = tx.engine();
    let mut args = Args::default();
    let w = where_clause(&mut args, scope, f, today);
    let key = match (by, engine) {
        (None, _) => "''".to_string(),
        (Some(MeasureBreakdown::Area), Engine::Sqlite) => "COALESCE(lower(hex(m.area_id)), '')".into(),
        (Some(MeasureBreakdown::Area), Engine::Postgres) => "COALESCE(replace(CAST(m.area_id AS TEXT), '-', ''), '')".into(),
        (Some(MeasureBreakdown::Kind), _) => "m.kind".into(),
        (Some(MeasureBreakdown::State), _) => "m.state".into(),
        (Some(MeasureBreakdown::Unit), _) => {
            // The path segment one level below the root: 32 hex digits and a slash.
            let len = unit_root.map(|p| p.as_str().len()).unwrap_or(0) as i64;
            // (PostgreSQL has no substr(text, integer, bigint): the length is cast.)
            format!("substr(m.unit_path, 1, CAST({} AS INTEGER))", args.push(P::Int(len + 33)))
        }
    };
    let on_time = match engine {
        Engine::Sqlite => "date(m.completed_at, '+8 hours') <= m.deadline",
        Engine::Postgres => "CAST(m.completed_at AT TIME ZONE 'Asia/Shanghai' AS DATE) <= m.deadline",
    };
    let t = args.push(P::Date(today));
    let sql = format!(
        "SELECT {key} AS k, COUNT(*), \
         SUM(CASE WHEN m.state = 'cancelled' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN m.state IN {OPEN} THEN 1 ELSE 0 END), \
         SUM(CASE WHEN m.state IN {DONE} THEN 1 ELSE 0 END), \
         SUM(CASE WHEN m.state = 'verified' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN m.state IN {DONE} AND {on_time} THEN 1 ELSE 0 END), \
         SUM(CASE WHEN m.state IN {OPEN} AND m.deadline < {t} THEN 1 ELSE 0 END) \
         FROM measure m WHERE {w} GROUP BY k ORDER BY k"
    );
    type Row = (Option<String>, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<Row> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
    let mut out: Vec<MeasureTally> = rows
        .into_iter()
        .map(|(k, total, cancelled, open, completed, verified, on_time, overdue)| MeasureTally {
            // Area ids come back as bare hex: give them their usual form.
            key: match (by, k) {
                (Some(MeasureBreakdown::Area), Some(k)) => Uuid::parse_str(&k).map(|u| u.to_string()).unwrap_or(k),
                (_, k) => k.unwrap_or_default(),
            },
            total,
            cancelled: cancelled.unwrap_or(0),
            open: open.unwrap_or(0),
            completed: completed.unwrap_or(0),
            verified: verified.unwrap_or(0),
            completed_on_time: on_time.unwrap_or(0),
            overdue: overdue.unwrap_or(0),
        })
        .collect();
    if by.is_none() && out.is_empty() {
        out.push(MeasureTally::default());
    }
    Ok(out)
}
