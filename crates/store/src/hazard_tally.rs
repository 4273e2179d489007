//! The maintained counts behind dashboards (`hazard_tally`, migration 0008).
//!
//! Every hazard insert and update adds +1 to the rows of its new shape and
//! −1 to those of its old one, for each unit on its path, in the caller's
//! transaction. Counts for a jurisdiction are then a sum over that unit's own
//! rows — a few thousand at most — instead of a scan of its hazards.
//! `rebuild` recomputes the table from the hazards in one statement, for
//! databases that predate it and after bulk loads.

use crate::hazards::{HazardFilter, HazardScope};
use crate::sql::{bind_all, sql_literals, subtree_range, Args, P};
use crate::{run, Db, Result, Tx};
use bihuan_domain::clock::local_date;
use bihuan_domain::hazard::{Breakdown, Hazard, HazardState, Tally};
use bihuan_domain::unit::UnitPath;
use std::collections::BTreeMap;
use time::Date;
use uuid::Uuid;

/// Path prefixes are `/` followed by 33 characters (32 hex digits and `/`)
/// per level.
const LEVEL_WIDTH: usize = 33;

/// The dimensions a hazard is counted under (one row per node on its path).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Shape {
    campaign: String,
    area: String,
    month: String,
    state: &'static str,
    level: &'static str,
    source: &'static str,
    listed: bool,
    on_time: bool,
}

fn shape(h: &Hazard) -> Shape {
    let found = local_date(h.found_at);
    let on_time = h.state == HazardState::Closed
        && match (h.deadline, h.submitted_at) {
            (Some(d), Some(s)) => local_date(s) <= d,
            _ => true,
        };
    Shape {
        campaign: h.campaign_id.map(|c| c.0.simple().to_string()).unwrap_or_default(),
        area: h.area_id.map(|a| a.0.simple().to_string()).unwrap_or_default(),
        month: month_of(found),
        state: h.state.as_str(),
        level: h.level.as_str(),
        source: h.source.as_str(),
        listed: h.is_listed(),
        on_time,
    }
}

/// The prefixes of a stored path, root first, with their depth (1 = root).
pub(crate) fn nodes(path: &str) -> impl Iterator<Item = (&str, i64)> {
    let levels = path.len().saturating_sub(1) / LEVEL_WIDTH;
    (1..=levels).filter_map(move |k| path.get(..1 + LEVEL_WIDTH * k).map(|p| (p, k as i64)))
}

/// Records a hazard's change in the counts: `old` is the stored row before
/// (None for a new hazard), `new` the row written.
pub(crate) async fn record(tx: &mut Tx, old: Option<&Hazard>, new: &Hazard) -> Result<()> {
    record_all(tx, [(old, new)]).await
}

/// Records many changes at once, summed first: an import of thousands of
/// hazards of one town touches the town's rows once, not once per hazard
/// (PostgreSQL keeps every version of a row updated repeatedly in one
/// transaction, and each further update walks them).
pub(crate) async fn record_all<'a>(tx: &mut Tx, changes: impl IntoIterator<Item = (Option<&'a Hazard>, &'a Hazard)>) -> Result<()> {
    let mut delta: BTreeMap<(&str, i64, Shape), i64> = BTreeMap::new();
    for (old, new) in changes {
        if let Some(o) = old {
            let s = shape(o);
            for (p, d) in nodes(o.unit.path.as_str()) {
                *delta.entry((p, d, s.clone())).or_default() -= 1;
            }
        }
        let s = shape(new);
        for (p, d) in nodes(new.unit.path.as_str()) {
            *delta.entry((p, d, s.clone())).or_default() += 1;
        }
    }
    delta.retain(|_, n| *n != 0);
    // Statements of at most 64 rows (sqlx binds SQLite parameters at a cost
    // quadratic in their number); rows in key order, so concurrent writers
    // lock shared rows in the same order.
    let delta: Vec<_> = delta.into_iter().collect();
    for chunk in delta.chunks(64) {
        let mut args = Args::default();
        let mut rows = Vec::with_capacity(chunk.len());
        for ((path, depth, s), n) in chunk {
            let vals = [
                P::Text(path.to_string()),
                P::Int(*depth),
                P::Text(s.campaign.clone()),
                P::Text(s.area.clone()),
                P::Text(s.month.clone()),
                P::Text(s.state.into()),
                P::Text(s.level.into()),
                P::Text(s.source.into()),
                P::Bool(s.listed),
                P::Bool(s.on_time),
                P::Int(*n),
            ];
            rows.push(format!("({})", args.list(vals)));
        }
        let sql = format!(
            "INSERT INTO hazard_tally (node_path, depth, campaign, area, month, state, level, source, listed, on_time, n) VALUES {} \
             ON CONFLICT (node_path, campaign, area, month, state, level, source, listed, on_time) \
             DO UPDATE SET n = hazard_tally.n + excluded.n",
            rows.join(", ")
        );
        run!(tx, |c| bind_all!(sqlx::query(&sql), args).execute(&mut *c).await?.rows_affected());
    }
    Ok(())
}

/// Recomputes the whole table from the hazards, in the caller's transaction.
pub async fn rebuild(tx: &mut Tx) -> Result<()> {
    run!(tx, |c| sqlx::query("DELETE FROM hazard_tally").execute(&mut *c).await?.rows_affected());
    match tx {
        Tx::Sqlite(t) => {
            sqlx::query(include_str!("../sql/tally_rebuild_sqlite.sql")).execute(&mut **t).await?;
        }
        Tx::Postgres(t) => {
            sqlx::query(include_str!("../sql/tally_rebuild_postgres.sql")).execute(&mut **t).await?;
        }
    }
    Ok(())
}

/// Every row of the table with a count other than zero, in key order (for
/// comparing the maintained counts with a rebuild).
pub async fn rows(tx: &mut Tx) -> Result<Vec<(String, String, String, String, String, String, String, bool, bool, i64)>> {
    let sql = "SELECT node_path, campaign, area, month, state, level, source, listed, on_time, n FROM hazard_tally WHERE n <> 0 \
               ORDER BY node_path, campaign, area, month, state, level, source, listed, on_time";
    Ok(run!(tx, |c| sqlx::query_as(sql).fetch_all(&mut *c).await?))
}

/// Fills the table when it is empty and hazards exist: a database from
/// before migration 0008, or one loaded in bulk. Returns whether it did.
pub async fn fill_if_empty(db: &Db) -> Result<bool> {
    let mut tx = db.begin().await?;
    let sql = "SELECT EXISTS (SELECT 1 FROM hazard) AND NOT EXISTS (SELECT 1 FROM hazard_tally)";
    let t = &mut tx;
    let needed: bool = run!(t, |c| sqlx::query_scalar(sql).fetch_one(&mut *c).await?);
    if needed {
        rebuild(t).await?;
    }
    tx.commit().await?;
    Ok(needed)
}

// ---- reading ----

/// Where a count is read from: the root units' rows (everything), one
/// unit's rows, or nowhere (the filter and the scope do not overlap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    Roots,
    Path(UnitPath),
    Nothing,
}

fn month_start(d: Date) -> bool {
    d.day() == 1
}

fn month_end(d: Date) -> bool {
    d.next_day().is_none_or(|n| n.day() == 1)
}

fn month_of(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// The node whose rows answer `f` in `scope`, or `None` when the filter uses
/// something the table does not keep (text search, type, management type,
/// responsible unit, deadline ranges, found-date ranges that are not whole
/// months, overdue) or the scope is not a plain subtree (departments and
/// enterprises also see hazards that name them): those are counted from the
/// hazards themselves.
pub(crate) fn node_for(scope: &HazardScope, f: &HazardFilter) -> Option<Node> {
    let plain = f.q.as_deref().is_none_or(|q| q.trim().is_empty())
        && f.hazard_types.is_empty()
        && f.manage_type.is_none()
        && f.responsible_unit_id.is_none()
        && f.extension_pending.is_none()
        && f.assigned_by_unit_id.is_none()
        && f.found_by_unit_id.is_none()
        && f.overdue.is_none()
        && f.deadline_from.is_none()
        && f.deadline_to.is_none()
        && f.found_from.is_none_or(month_start)
        && f.found_to.is_none_or(month_end);
    if !plain {
        return None;
    }
    let base = match scope {
        HazardScope::All => None,
        HazardScope::Visible { subtree, led_areas, named_under: None } if led_areas.is_empty() => Some(subtree),
        HazardScope::Visible { .. } => return None,
    };
    Some(match (base, &f.within) {
        (None, None) => Node::Roots,
        (None, Some(w)) => Node::Path(w.clone()),
        (Some(s), None) => Node::Path(s.clone()),
        (Some(s), Some(w)) if w.is_within(s) => Node::Path(w.clone()),
        (Some(s), Some(w)) if s.is_within(w) => Node::Path(s.clone()),
        (Some(_), Some(_)) => Node::Nothing,
    })
}

/// Counts per key (overdue left at 0) from the node's rows. For the unit
/// breakdown the key is the child's path, plus the node's own path for the
/// hazards of the node unit itself, as the scan gives them.
pub(crate) async fn read(tx: &mut Tx, node: &Node, f: &HazardFilter, by: Option<Breakdown>) -> Result<Vec<Tally>> {
    let mut args = Args::default();
    let mut w: Vec<String> = Vec::new();
    let by_unit = by == Some(Breakdown::Unit);
    let own_path = match node {
        Node::Nothing => return Ok(vec![]),
        Node::Roots => {
            w.push("t.depth = 1".into());
            None
        }
        Node::Path(p) if by_unit => {
            let (lo, hi) = subtree_range(p.as_str());
            let d = p.depth() as i64;
            w.push(format!(
                "t.node_path >= {} AND t.node_path < {} AND t.depth IN ({}, {})",
                args.push(P::Text(lo)),
                args.push(P::Text(hi)),
                args.push(P::Int(d)),
                args.push(P::Int(d + 1))
            ));
            Some(p.as_str().to_string())
        }
        Node::Path(p) => {
            w.push(format!("t.node_path = {}", args.push(P::Text(p.as_str().to_string()))));
            None
        }
    };
    if let Some(c) = f.campaign_id {
        w.push(format!("t.campaign = {}", args.push(P::Text(c.0.simple().to_string()))));
    }
    if let Some(a) = f.area_id {
        w.push(format!("t.area = {}", args.push(P::Text(a.0.simple().to_string()))));
    }
    if !f.levels.is_empty() {
        w.push(format!("t.level IN ({})", sql_literals(f.levels.iter().map(|v| v.as_str()))));
    }
    if !f.states.is_empty() {
        w.push(format!("t.state IN ({})", sql_literals(f.states.iter().map(|v| v.as_str()))));
    }
    if !f.sources.is_empty() {
        w.push(format!("t.source IN ({})", sql_literals(f.sources.iter().map(|v| v.as_str()))));
    }
    if let Some(l) = f.listed {
        w.push(format!("t.listed = {}", args.push(P::Bool(l))));
    }
    if let Some(d) = f.found_from {
        w.push(format!("t.month >= {}", args.push(P::Text(month_of(d)))));
    }
    if let Some(d) = f.found_to {
        w.push(format!("t.month <= {}", args.push(P::Text(month_of(d)))));
    }
    let key = match by {
        None => "''",
        Some(Breakdown::Area) => "t.area",
        Some(Breakdown::Unit) => "t.node_path",
        Some(Breakdown::Level) => "t.level",
        Some(Breakdown::Source) => "t.source",
        Some(Breakdown::State) => "t.state",
        Some(Breakdown::Month) => "t.month",
    };
    let sql = format!(
        "SELECT {key} AS k, CAST(SUM(t.n) AS BIGINT), \
         CAST(SUM(CASE WHEN t.state = 'dismissed' THEN t.n ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN t.state IN ('reported', 'assigned', 'rectifying', 'submitted') THEN t.n ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN t.state = 'closed' THEN t.n ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN t.on_time THEN t.n ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN t.listed THEN t.n ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN t.level = 'major' THEN t.n ELSE 0 END) AS BIGINT) \
         FROM hazard_tally t WHERE {} GROUP BY k ORDER BY k",
        w.join(" AND ")
    );
    type Row = (String, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<Row> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
    let mut out: Vec<Tally> = rows
        .into_iter()
        .map(|(k, total, dismissed, open, closed, on_time, listed, major)| Tally {
            key: match by {
                Some(Breakdown::Area) if !k.is_empty() => Uuid::parse_str(&k).map(|u| u.to_string()).unwrap_or(k),
                _ => k,
            },
            total: total.unwrap_or(0),
            dismissed: dismissed.unwrap_or(0),
            open: open.unwrap_or(0),
            closed: closed.unwrap_or(0),
            closed_on_time: on_time.unwrap_or(0),
            overdue: 0,
            listed: listed.unwrap_or(0),
            major: major.unwrap_or(0),
        })
        .filter(|t| t.total != 0)
        .collect();
    if let Some(own) = own_path {
        // The node's own row counts its whole subtree; what its children do
        // not account for belongs to the node unit itself.
        if let Some(i) = out.iter().position(|t| t.key == own) {
            let mut own_row = out.remove(i);
            for child in &out {
                accumulate(&mut own_row, child, -1);
            }
            if own_row.total > 0 {
                out.push(own_row);
                out.sort_by(|a, b| a.key.cmp(&b.key));
            }
        }
    }
    Ok(out)
}

/// Adds `sign` × `b` into `a`.
fn accumulate(a: &mut Tally, b: &Tally, sign: i64) {
    a.total += sign * b.total;
    a.dismissed += sign * b.dismissed;
    a.open += sign * b.open;
    a.closed += sign * b.closed;
    a.closed_on_time += sign * b.closed_on_time;
    a.overdue += sign * b.overdue;
    a.listed += sign * b.listed;
    a.major += sign * b.major;
}

/// The total of some groups, and the groups themselves when a breakdown
/// was asked for.
pub(crate) fn counts(groups: Vec<Tally>, by: Option<Breakdown>) -> crate::hazards::Counts {
    let mut total = Tally::default();
    for g in &groups {
        accumulate(&mut total, g, 1);
    }
    crate::hazards::Counts { total, groups: if by.is_some() { groups } else { vec![] } }
}
