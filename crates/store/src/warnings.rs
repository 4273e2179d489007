//! Early warnings: the rules as rows, one warning per rule and subject
//! (`UNIQUE (rule_code, subject_key)`), its history and audience, and the
//! facts the rules read. Writes are conditional (insert-if-absent, update
//! under `version`) so that two passes racing each other leave one result:
//! the loser's write affects no row and it writes nothing else.

use crate::sql::{bind_all, in_list_chunk, subtree_range, Args, P};
use crate::{run, Result, Ts, Tx};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Active means open or acknowledged (the partial indexes' predicate).
const ACTIVE: &str = "state IN ('open', 'acknowledged')";

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct RuleRow {
    pub code: String,
    pub subject_kind: String,
    pub enabled: bool,
    pub level: String,
    pub params_json: String,
    pub source_document: String,
    pub source_tag: String,
    pub backfill: bool,
    pub version: i64,
    pub updated_at: OffsetDateTime,
    pub updated_by: String,
}

const RULE_COLUMNS: &str =
    "code, subject_kind, enabled, level, params_json, source_document, source_tag, backfill, version, updated_at, updated_by";

/// Adds rules that are not there yet; rules already stored (perhaps
/// changed by the office) are left as they are. Returns how many were added.
pub async fn seed_rules(tx: &mut Tx, rows: &[RuleRow]) -> Result<u64> {
    let sql = format!(
        "INSERT INTO warning_rule ({RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (code) DO NOTHING"
    );
    let mut added = 0;
    for r in rows {
        added += run!(tx, |c| sqlx::query(&sql)
            .bind(&r.code)
            .bind(&r.subject_kind)
            .bind(r.enabled)
            .bind(&r.level)
            .bind(&r.params_json)
            .bind(&r.source_document)
            .bind(&r.source_tag)
            .bind(r.backfill)
            .bind(r.version)
            .bind(Ts(r.updated_at))
            .bind(&r.updated_by)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(added)
}

pub async fn rules(tx: &mut Tx) -> Result<Vec<RuleRow>> {
    let sql = format!("SELECT {RULE_COLUMNS} FROM warning_rule ORDER BY code");
    Ok(run!(tx, |c| sqlx::query_as::<_, RuleRow>(&sql).fetch_all(&mut *c).await?))
}

pub async fn rule(tx: &mut Tx, code: &str) -> Result<Option<RuleRow>> {
    let sql = format!("SELECT {RULE_COLUMNS} FROM warning_rule WHERE code = $1");
    Ok(run!(tx, |c| sqlx::query_as::<_, RuleRow>(&sql).bind(code).fetch_optional(&mut *c).await?))
}

/// Saves a changed rule under its version (optimistic: `Stale` when someone
/// else saved first).
pub async fn update_rule(tx: &mut Tx, r: &RuleRow, expected_version: i64) -> Result<()> {
    let sql = "UPDATE warning_rule SET enabled = $1, level = $2, params_json = $3, backfill = $4, version = $5, updated_at = $6, \
               updated_by = $7 WHERE code = $8 AND version = $9";
    let n = run!(tx, |c| sqlx::query(sql)
        .bind(r.enabled)
        .bind(&r.level)
        .bind(&r.params_json)
        .bind(r.backfill)
        .bind(r.version)
        .bind(Ts(r.updated_at))
        .bind(&r.updated_by)
        .bind(&r.code)
        .bind(expected_version)
        .execute(&mut *c)
        .await?
        .rows_affected());
    if n == 0 {
        return Err(crate::StoreError::Stale);
    }
    Ok(())
}

/// The first run after seeding or re-enabling is over: later runs notify.
pub async fn clear_backfill(tx: &mut Tx, code: &str) -> Result<()> {
    run!(tx, |c| sqlx::query("UPDATE warning_rule SET backfill = FALSE WHERE code = $1 AND backfill")
        .bind(code)
        .execute(&mut *c)
        .await?.rows_affected());
    Ok(())
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct WarningRow {
    pub id: Uuid,
    pub rule_code: String,
    pub subject_kind: String,
    pub subject_key: String,
    pub subject_id: Uuid,
    pub hazard_id: Option<Uuid>,
    pub unit_id: Uuid,
    pub unit_path: String,
    pub label: String,
    pub facts_json: String,
    pub level: String,
    pub level_rank: i64,
    pub step: i64,
    pub state: String,
    pub first_seen_at: OffsetDateTime,
    pub changed_at: OffsetDateTime,
    pub acknowledged_at: Option<OffsetDateTime>,
    pub acknowledged_by: Option<Uuid>,
    pub resolved_at: Option<OffsetDateTime>,
    pub resolution: Option<String>,
    pub rule_version: i64,
    pub version: i64,
}

const COLUMNS: &str = "id, rule_code, subject_kind, subject_key, subject_id, hazard_id, unit_id, unit_path, label, facts_json, level, \
    level_rank, step, state, first_seen_at, changed_at, acknowledged_at, acknowledged_by, resolved_at, resolution, rule_version, version";

fn bind_warning(args: &mut Args, w: &WarningRow) {
    let text = |v: &str| P::Text(v.to_string());
    args.params.extend([
        P::Uuid(w.id),
        text(&w.rule_code),
        text(&w.subject_kind),
        text(&w.subject_key),
        P::Uuid(w.subject_id),
        P::OUuid(w.hazard_id),
        P::Uuid(w.unit_id),
        text(&w.unit_path),
        text(&w.label),
        text(&w.facts_json),
        text(&w.level),
        P::Int(w.level_rank),
        P::Int(w.step),
        text(&w.state),
        P::Ts(Ts(w.first_seen_at)),
        P::Ts(Ts(w.changed_at)),
        P::OTs(w.acknowledged_at.map(Ts)),
        P::OUuid(w.acknowledged_by),
        P::OTs(w.resolved_at.map(Ts)),
        P::OText(w.resolution.clone()),
        P::Int(w.rule_version),
        P::Int(w.version),
    ]);
}

/// Inserts a new warning unless one exists for its rule and subject.
/// Returns whether this call inserted it.
pub async fn insert_warning(tx: &mut Tx, w: &WarningRow) -> Result<bool> {
    let mut args = Args::default();
    bind_warning(&mut args, w);
    let placeholders = (1..=args.params.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO warning ({COLUMNS}) VALUES ({placeholders}) ON CONFLICT (rule_code, subject_key) DO NOTHING");
    Ok(run!(tx, |c| bind_all!(sqlx::query(&sql), args).execute(&mut *c).await?.rows_affected()) == 1)
}

/// Writes a changed warning if nobody changed it since it was read
/// (`w.version` is the new version; `expected_version` the one read).
pub async fn update_warning(tx: &mut Tx, w: &WarningRow, expected_version: i64) -> Result<bool> {
    let sql = "UPDATE warning SET unit_id = $1, unit_path = $2, label = $3, facts_json = $4, level = $5, level_rank = $6, step = $7, \
               state = $8, first_seen_at = $9, changed_at = $10, acknowledged_at = $11, acknowledged_by = $12, resolved_at = $13, \
               resolution = $14, rule_version = $15, version = $16 WHERE id = $17 AND version = $18";
    let n = run!(tx, |c| sqlx::query(sql)
        .bind(w.unit_id)
        .bind(&w.unit_path)
        .bind(&w.label)
        .bind(&w.facts_json)
        .bind(&w.level)
        .bind(w.level_rank)
        .bind(w.step)
        .bind(&w.state)
        .bind(Ts(w.first_seen_at))
        .bind(Ts(w.changed_at))
        .bind(w.acknowledged_at.map(Ts))
        .bind(w.acknowledged_by)
        .bind(w.resolved_at.map(Ts))
        .bind(&w.resolution)
        .bind(w.rule_version)
        .bind(w.version)
        .bind(w.id)
        .bind(expected_version)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

pub async fn get(tx: &mut Tx, id: Uuid) -> Result<Option<WarningRow>> {
    let sql = format!("SELECT {COLUMNS} FROM warning WHERE id = $1");
    Ok(run!(tx, |c| sqlx::query_as::<_, WarningRow>(&sql).bind(id).fetch_optional(&mut *c).await?))
}

/// The open and acknowledged warnings of a rule.
pub async fn active_of_rule(tx: &mut Tx, rule: &str) -> Result<Vec<WarningRow>> {
    let sql = format!("SELECT {COLUMNS} FROM warning WHERE rule_code = $1 AND {ACTIVE} ORDER BY id");
    Ok(run!(tx, |c| sqlx::query_as::<_, WarningRow>(&sql).bind(rule).fetch_all(&mut *c).await?))
}

/// The warnings of a rule for these subjects, in any state.
pub async fn by_subject_keys(tx: &mut Tx, rule: &str, keys: &[String]) -> Result<Vec<WarningRow>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(in_list_chunk(tx.engine())) {
        let mut args = Args::default();
        let r = args.push(P::Text(rule.to_string()));
        let list = args.list(chunk.iter().map(|k| P::Text(k.clone())));
        let sql = format!("SELECT {COLUMNS} FROM warning WHERE rule_code = {r} AND subject_key IN ({list})");
        out.extend(run!(tx, |c| bind_all!(sqlx::query_as::<_, WarningRow>(&sql), args).fetch_all(&mut *c).await?));
    }
    Ok(out)
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct EventRow {
    pub id: Uuid,
    pub warning_id: Uuid,
    pub at: OffsetDateTime,
    pub kind: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub from_level: Option<String>,
    pub to_level: String,
    pub from_step: Option<i64>,
    pub to_step: i64,
    pub run_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub actor_name: String,
    pub comment: Option<String>,
    pub facts_json: String,
}

pub async fn insert_event(tx: &mut Tx, e: &EventRow) -> Result<()> {
    let sql = "INSERT INTO warning_event (id, warning_id, at, kind, from_state, to_state, from_level, to_level, from_step, to_step, \
               run_id, actor_user_id, actor_name, comment, facts_json) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
    run!(tx, |c| sqlx::query(sql)
        .bind(e.id)
        .bind(e.warning_id)
        .bind(Ts(e.at))
        .bind(&e.kind)
        .bind(&e.from_state)
        .bind(&e.to_state)
        .bind(&e.from_level)
        .bind(&e.to_level)
        .bind(e.from_step)
        .bind(e.to_step)
        .bind(e.run_id)
        .bind(e.actor_user_id)
        .bind(&e.actor_name)
        .bind(&e.comment)
        .bind(&e.facts_json)
        .execute(&mut *c)
        .await?.rows_affected());
    Ok(())
}

pub async fn events(tx: &mut Tx, warning: Uuid) -> Result<Vec<EventRow>> {
    let sql = "SELECT id, warning_id, at, kind, from_state, to_state, from_level, to_level, from_step, to_step, run_id, actor_user_id, \
               actor_name, comment, facts_json FROM warning_event WHERE warning_id = $1 ORDER BY at, id";
    Ok(run!(tx, |c| sqlx::query_as::<_, EventRow>(sql).bind(warning).fetch_all(&mut *c).await?))
}

/// One addressee of a warning: a unit (`role` empty: all its users) or the
/// office or leaders of the jurisdiction whose government is `unit_id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::FromRow)]
pub struct AudienceRow {
    pub unit_id: Uuid,
    pub role: String,
    pub rung: String,
    pub from_step: i64,
}

/// Adds addressees; ones already there keep the step they were added at.
pub async fn add_audience(tx: &mut Tx, warning: Uuid, rows: &[AudienceRow]) -> Result<()> {
    let sql = "INSERT INTO warning_audience (warning_id, unit_id, role, rung, from_step) VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (warning_id, unit_id, role) DO NOTHING";
    for a in rows {
        run!(tx, |c| sqlx::query(sql)
            .bind(warning)
            .bind(a.unit_id)
            .bind(&a.role)
            .bind(&a.rung)
            .bind(a.from_step)
            .execute(&mut *c)
            .await?.rows_affected());
    }
    Ok(())
}

pub async fn audience(tx: &mut Tx, warning: Uuid) -> Result<Vec<AudienceRow>> {
    let sql = "SELECT unit_id, role, rung, from_step FROM warning_audience WHERE warning_id = $1 ORDER BY from_step, rung, unit_id";
    Ok(run!(tx, |c| sqlx::query_as::<_, AudienceRow>(sql).bind(warning).fetch_all(&mut *c).await?))
}

/// Which warnings a list shows. The scope and the audience are alternatives
/// (a warning is visible to whoever sees its unit *or* is addressed by it).
#[derive(Clone, Debug, Default)]
pub struct WarningFilter {
    /// Warnings whose unit lies in this subtree (None: everywhere).
    pub within: Option<String>,
    /// Also warnings addressed to these (unit, role) pairs, wherever they are.
    pub addressed_to: Vec<(Uuid, String)>,
    /// Only warnings addressed to `addressed_to` (the "mine" queue).
    pub only_addressed: bool,
    /// States to show; empty = open and acknowledged.
    pub states: Vec<String>,
    pub level: Option<String>,
    pub rule: Option<String>,
    pub hazard: Option<Uuid>,
    /// Changed at or after.
    pub since: Option<OffsetDateTime>,
}

fn where_clause(f: &WarningFilter, args: &mut Args) -> String {
    let mut conds = Vec::new();
    if f.states.is_empty() {
        conds.push(format!("w.{ACTIVE}"));
    } else {
        let list = args.list(f.states.iter().map(|s| P::Text(s.clone())));
        conds.push(format!("w.state IN ({list})"));
    }
    if let Some(l) = &f.level {
        conds.push(format!("w.level = {}", args.push(P::Text(l.clone()))));
    }
    if let Some(r) = &f.rule {
        conds.push(format!("w.rule_code = {}", args.push(P::Text(r.clone()))));
    }
    if let Some(h) = f.hazard {
        conds.push(format!("w.hazard_id = {}", args.push(P::Uuid(h))));
    }
    if let Some(s) = f.since {
        conds.push(format!("w.changed_at >= {}", args.push(P::Ts(Ts(s)))));
    }
    // Parameters are pushed only for the conditions used: PostgreSQL refuses
    // a statement with parameters it does not mention.
    let within = if f.only_addressed {
        None
    } else {
        f.within.as_ref().map(|p| {
            let (lo, hi) = subtree_range(p);
            format!("(w.unit_path >= {} AND w.unit_path < {})", args.push(P::Text(lo)), args.push(P::Text(hi)))
        })
    };
    let wants_addressed = f.only_addressed || within.is_some();
    let addressed = if f.addressed_to.is_empty() || !wants_addressed {
        None
    } else {
        let pairs: Vec<String> = f
            .addressed_to
            .iter()
            .map(|(u, role)| format!("(a.unit_id = {} AND a.role = {})", args.push(P::Uuid(*u)), args.push(P::Text(role.clone()))))
            .collect();
        Some(format!("EXISTS (SELECT 1 FROM warning_audience a WHERE a.warning_id = w.id AND ({}))", pairs.join(" OR ")))
    };
    match (f.only_addressed, within, addressed) {
        (true, _, Some(a)) => conds.push(a),
        (true, _, None) => conds.push("1 = 0".into()),
        (false, Some(w), Some(a)) => conds.push(format!("({w} OR {a})")),
        (false, Some(w), None) => conds.push(w),
        (false, None, _) => {}
    }
    conds.join(" AND ")
}

/// A page of warnings, most serious first, then oldest first. `after` is
/// the (rank, first seen, id) of the last row of the previous page.
pub async fn list(
    tx: &mut Tx,
    f: &WarningFilter,
    after: Option<(i64, OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<WarningRow>> {
    let mut args = Args::default();
    let mut cond = where_clause(f, &mut args);
    if let Some((rank, seen, id)) = after {
        let (r, s, i) = (args.push(P::Int(rank)), args.push(P::Ts(Ts(seen))), args.push(P::Uuid(id)));
        cond.push_str(&format!(
            " AND (w.level_rank > {r} OR (w.level_rank = {r} AND (w.first_seen_at > {s} OR (w.first_seen_at = {s} AND w.id > {i}))))"
        ));
    }
    let lim = args.push(P::Int(limit));
    let cols = COLUMNS.split(", ").map(|c| format!("w.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT {cols} FROM warning w WHERE {cond} ORDER BY w.level_rank, w.first_seen_at, w.id LIMIT {lim}");
    Ok(run!(tx, |c| bind_all!(sqlx::query_as::<_, WarningRow>(&sql), args).fetch_all(&mut *c).await?))
}

/// Counts by level for a filter: `(level, count)`.
pub async fn count_by_level(tx: &mut Tx, f: &WarningFilter) -> Result<Vec<(String, i64)>> {
    let mut args = Args::default();
    let cond = where_clause(f, &mut args);
    let sql = format!("SELECT w.level, COUNT(*) FROM warning w WHERE {cond} GROUP BY w.level");
    Ok(run!(tx, |c| bind_all!(sqlx::query_as::<_, (String, i64)>(&sql), args).fetch_all(&mut *c).await?))
}

/// Pending hazards with the facts the hazard rules read, keyset by number.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HazardFacts {
    pub id: Uuid,
    pub num: i64,
    pub code: String,
    pub name: String,
    pub unit_id: Uuid,
    pub unit_path: String,
    pub responsible_unit_id: Option<Uuid>,
    pub assigned_by_unit_id: Option<Uuid>,
    pub area_id: Option<Uuid>,
    pub level: String,
    pub state: String,
    pub listed: bool,
    pub deadline: Option<Date>,
    pub found_at: OffsetDateTime,
    pub plan_json: Option<String>,
    pub supervising_unit_id: Option<Uuid>,
}

const HAZARD_FACTS: &str = "SELECT h.id, h.num, h.code, h.name, h.unit_id, h.unit_path, h.responsible_unit_id, h.assigned_by_unit_id, \
    h.area_id, h.level, h.state, h.listed, h.deadline, h.found_at, h.plan_json, \
    (SELECT l.supervising_unit_id FROM hazard_listing l WHERE l.hazard_id = h.id AND l.lifted_on IS NULL) AS supervising_unit_id \
    FROM hazard h";

/// Pending hazards (reported, assigned, rectifying), `limit` at a time after `after_num`.
pub async fn pending_hazards(tx: &mut Tx, after_num: i64, limit: i64) -> Result<Vec<HazardFacts>> {
    let sql = format!(
        "{HAZARD_FACTS} WHERE h.state IN ('reported', 'assigned', 'rectifying') AND h.num > $1 ORDER BY h.num LIMIT $2"
    );
    Ok(run!(tx, |c| sqlx::query_as::<_, HazardFacts>(&sql).bind(after_num).bind(limit).fetch_all(&mut *c).await?))
}

/// The facts of these hazards, whatever their state.
pub async fn hazards_by_id(tx: &mut Tx, ids: &[Uuid]) -> Result<Vec<HazardFacts>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(in_list_chunk(tx.engine())) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|u| P::Uuid(*u)));
        let sql = format!("{HAZARD_FACTS} WHERE h.id IN ({list})");
        out.extend(run!(tx, |c| bind_all!(sqlx::query_as::<_, HazardFacts>(&sql), args).fetch_all(&mut *c).await?));
    }
    Ok(out)
}

/// Pending extension requests: (extension id, hazard id, requested at, current deadline).
pub async fn pending_extensions(tx: &mut Tx) -> Result<Vec<(Uuid, Uuid, OffsetDateTime, Date)>> {
    let sql = "SELECT id, hazard_id, requested_at, current_deadline FROM hazard_extension WHERE status = 'pending' ORDER BY id";
    Ok(run!(tx, |c| sqlx::query_as(sql).fetch_all(&mut *c).await?))
}

/// Unfinished measures: (id, code, title, unit id, unit path, created by unit, deadline).
#[allow(clippy::type_complexity)]
pub async fn open_measures(tx: &mut Tx) -> Result<Vec<(Uuid, String, String, Uuid, String, Uuid, Date)>> {
    let sql = "SELECT id, code, title, unit_id, unit_path, created_by_unit_id, deadline FROM measure \
               WHERE state IN ('planned', 'in_progress') ORDER BY num";
    Ok(run!(tx, |c| sqlx::query_as(sql).fetch_all(&mut *c).await?))
}

/// Hazards per (unit, type) found since a day, not dismissed, with at least `n`.
pub async fn hazard_type_counts(tx: &mut Tx, since: OffsetDateTime, n: i64) -> Result<Vec<(Uuid, String, String, i64)>> {
    let sql = "SELECT h.unit_id, MIN(h.unit_path), h.hazard_type, COUNT(*) FROM hazard h \
               WHERE h.found_at >= $1 AND h.state <> 'dismissed' AND h.hazard_type <> 'other' \
               GROUP BY h.unit_id, h.hazard_type HAVING COUNT(*) >= $2";
    Ok(run!(tx, |c| sqlx::query_as(sql).bind(Ts(since)).bind(n).fetch_all(&mut *c).await?))
}

/// Per unit path on the tally: (node path, state, count) of hazards found in
/// months `[from_month, to_month)` (`YYYY-MM`).
pub async fn tally_by_node_state(tx: &mut Tx, depths: &[i64], from_month: &str, to_month: &str) -> Result<Vec<(String, String, i64)>> {
    let mut out = Vec::new();
    for d in depths {
        let sql = "SELECT node_path, state, CAST(SUM(n) AS BIGINT) FROM hazard_tally WHERE depth = $1 AND month >= $2 AND month < $3 \
                   GROUP BY node_path, state";
        let rows: Vec<(String, String, i64)> = run!(tx, |c| sqlx::query_as(sql)
            .bind(*d)
            .bind(from_month)
            .bind(to_month)
            .fetch_all(&mut *c)
            .await?);
        out.extend(rows);
    }
    Ok(out)
}

/// Statistics reports received for these periods: (unit, period).
pub async fn statistics_received(tx: &mut Tx, periods: &[String]) -> Result<Vec<(Uuid, String)>> {
    if periods.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let list = args.list(periods.iter().map(|p| P::Text(p.clone())));
    let sql = format!("SELECT unit_id, period FROM statistics_report WHERE period IN ({list})");
    Ok(run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?))
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct StatisticsReport {
    pub id: Uuid,
    pub unit_id: Uuid,
    pub period: String,
    pub signed_by: String,
    pub note: Option<String>,
    pub submitted_at: OffsetDateTime,
    pub submitted_by_user_id: Option<Uuid>,
    pub submitted_by: String,
}

/// Records a received report; a second one for the same unit and period is a conflict.
pub async fn insert_statistics_report(tx: &mut Tx, r: &StatisticsReport) -> Result<()> {
    let sql = "INSERT INTO statistics_report (id, unit_id, period, signed_by, note, submitted_at, submitted_by_user_id, submitted_by) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    run!(tx, |c| sqlx::query(sql)
        .bind(r.id)
        .bind(r.unit_id)
        .bind(&r.period)
        .bind(&r.signed_by)
        .bind(&r.note)
        .bind(Ts(r.submitted_at))
        .bind(r.submitted_by_user_id)
        .bind(&r.submitted_by)
        .execute(&mut *c)
        .await?.rows_affected());
    Ok(())
}

pub async fn statistics_reports_of(tx: &mut Tx, unit: Uuid) -> Result<Vec<StatisticsReport>> {
    let sql = "SELECT id, unit_id, period, signed_by, note, submitted_at, submitted_by_user_id, submitted_by FROM statistics_report \
               WHERE unit_id = $1 ORDER BY period DESC";
    Ok(run!(tx, |c| sqlx::query_as::<_, StatisticsReport>(sql).bind(unit).fetch_all(&mut *c).await?))
}

/// Every unit, for the audience: (id, path, kind, name, active, registered at).
#[allow(clippy::type_complexity)]
pub async fn all_units(tx: &mut Tx) -> Result<Vec<(Uuid, String, String, String, bool, OffsetDateTime)>> {
    Ok(run!(tx, |c| sqlx::query_as("SELECT id, path, kind, name, active, created_at FROM unit").fetch_all(&mut *c).await?))
}

/// Every active user with their unit, role and language: (user, unit, role, language).
pub async fn active_users(tx: &mut Tx) -> Result<Vec<(Uuid, Uuid, String, String)>> {
    Ok(run!(tx, |c| sqlx::query_as("SELECT id, unit_id, role, language FROM app_user WHERE active").fetch_all(&mut *c).await?))
}

/// Lead units of every area: (area, unit).
pub async fn area_leads(tx: &mut Tx) -> Result<Vec<(Uuid, Uuid)>> {
    Ok(run!(tx, |c| sqlx::query_as("SELECT area_id, unit_id FROM area_lead ORDER BY area_id, seq").fetch_all(&mut *c).await?))
}
