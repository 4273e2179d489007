//! Hazards: the record, its timeline, listings, extension requests, search,
//! and the counts and rates behind dashboards.

use crate::sql::{bind_all, in_list_chunk, sql_literals, subtree_range, Args, P};
use crate::{run, Engine, Result, StoreError, Ts, Tx};
use bihuan_domain::calendar::DeadlineRule;
use bihuan_domain::hazard::*;
use bihuan_domain::ids::*;
use bihuan_domain::unit::UnitPath;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;
use std::str::FromStr;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Takes the next number of a named counter (1, 2, 3, …).
pub async fn next_number(tx: &mut Tx, name: &str) -> Result<i64> {
    let sql = "INSERT INTO number_counter (name, value) VALUES ($1, 1) \
               ON CONFLICT (name) DO UPDATE SET value = number_counter.value + 1 RETURNING value";
    Ok(run!(tx, |c| sqlx::query_scalar(sql).bind(name).fetch_one(&mut *c).await?))
}

/// What registering a hazard reads before it writes.
#[derive(Clone, Debug, Default)]
pub struct RegistrationRefs {
    /// The hazard's unit; `None` when there is no such unit.
    pub unit: Option<UnitRef>,
    /// The registering user's unit.
    pub actor_unit: Option<UnitRef>,
    /// The registering user's display name.
    pub actor_name: Option<String>,
    /// The campaign of the area; `None` when there is no such area.
    pub area_campaign: Option<CampaignId>,
}

/// Reads in one statement the hazard's unit and, when given, the
/// registering user's unit and display name and the campaign of the area.
/// When the hazard's unit does not exist the rest may be missing too.
pub async fn registration_refs(
    tx: &mut Tx,
    unit: UnitId,
    actor_unit: Option<UnitId>,
    actor_user: Option<UserId>,
    area: Option<AreaId>,
) -> Result<RegistrationRefs> {
    let sql = "SELECT u.id, u.name, u.short_name, u.path, (SELECT display_name FROM app_user WHERE id = $3), \
               (SELECT campaign_id FROM area WHERE id = $4) FROM unit u WHERE u.id IN ($1, $2)";
    type Row = (Uuid, String, Option<String>, String, Option<String>, Option<Uuid>);
    let rows: Vec<Row> = run!(tx, |c| {
        sqlx::query_as(sql)
            .bind(unit.0)
            .bind(actor_unit.map(|u| u.0))
            .bind(actor_user.map(|u| u.0))
            .bind(area.map(|a| a.0))
            .fetch_all(&mut *c)
            .await?
    });
    let mut out = RegistrationRefs::default();
    for (id, name, short_name, path, actor_name, area_campaign) in rows {
        let r = UnitRef { id: UnitId(id), name, short_name, path: UnitPath::from_stored(path) };
        if Some(r.id) == actor_unit {
            out.actor_unit = Some(r.clone());
        }
        if r.id == unit {
            out.unit = Some(r);
        }
        out.actor_name = actor_name;
        out.area_campaign = area_campaign.map(CampaignId);
    }
    Ok(out)
}

const COLUMNS: &str = "id, num, code, campaign_id, area_id, unit_id, unit_path, name, description, location, hazard_type, source, \
    check_kind, level, sub_grade, manage_type, cause, cause_class, measures, funds, contingency, responsible_unit_id, responsible_person, \
    responsible_phone, deadline, deadline_rule, found_at, found_by, found_by_user_id, found_by_unit_id, assigned_by_unit_id, \
    accepting_unit_id, state, major_report_json, plan_json, rectification, submitted_at, accepted_by, closed_at, acceptance_comment, \
    dismiss_reason, duplicate_of, listed, created_at, updated_at, version, latitude, longitude";

#[derive(sqlx::FromRow)]
struct HazardDb {
    id: Uuid,
    num: i64,
    code: String,
    campaign_id: Option<Uuid>,
    area_id: Option<Uuid>,
    unit_id: Uuid,
    unit_path: String,
    name: String,
    description: String,
    location: Option<String>,
    hazard_type: String,
    source: String,
    check_kind: String,
    level: String,
    sub_grade: Option<String>,
    manage_type: String,
    cause: Option<String>,
    cause_class: Option<String>,
    measures: Option<String>,
    funds: Option<String>,
    contingency: Option<String>,
    responsible_unit_id: Option<Uuid>,
    responsible_person: Option<String>,
    responsible_phone: Option<String>,
    deadline: Option<Date>,
    deadline_rule: Option<String>,
    found_at: OffsetDateTime,
    found_by: String,
    found_by_user_id: Option<Uuid>,
    found_by_unit_id: Uuid,
    assigned_by_unit_id: Option<Uuid>,
    accepting_unit_id: Option<Uuid>,
    state: String,
    major_report_json: Option<String>,
    plan_json: Option<String>,
    rectification: Option<String>,
    submitted_at: Option<OffsetDateTime>,
    accepted_by: Option<String>,
    closed_at: Option<OffsetDateTime>,
    acceptance_comment: Option<String>,
    dismiss_reason: Option<String>,
    duplicate_of: Option<Uuid>,
    #[allow(dead_code)]
    listed: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i64,
    latitude: Option<String>,
    longitude: Option<String>,
}

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("hazard {what}: {v}"))
}

fn vocab<T>(parse: fn(&str) -> Option<T>, what: &str, v: &str) -> Result<T> {
    parse(v).ok_or_else(|| corrupt(what, v))
}

fn json_opt<T: serde::de::DeserializeOwned>(what: &str, v: Option<String>) -> Result<Option<T>> {
    v.map(|s| serde_json::from_str(&s).map_err(|e| corrupt(what, &e.to_string()))).transpose()
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Names and paths of units, for the references a hazard carries.
async fn unit_refs(tx: &mut Tx, ids: &[Uuid]) -> Result<HashMap<Uuid, UnitRef>> {
    let mut ids: Vec<Uuid> = ids.to_vec();
    ids.sort();
    ids.dedup();
    let mut out = HashMap::new();
    for chunk in ids.chunks(in_list_chunk(tx.engine())) {
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

/// Units by id (labels of a breakdown by unit).
pub async fn unit_names(tx: &mut Tx, ids: &[UnitId]) -> Result<HashMap<UnitId, UnitRef>> {
    let ids: Vec<Uuid> = ids.iter().map(|u| u.0).collect();
    Ok(unit_refs(tx, &ids).await?.into_iter().map(|(k, v)| (UnitId(k), v)).collect())
}

/// The columns of a listing row, with its supervising unit (`l`, `u`).
const LISTING_SELECT: &str = "SELECT l.hazard_id, l.level, l.supervising_unit_id, u.name, u.path, l.document_number, l.listed_on, \
     l.required_by, l.signatory, l.requirements, l.lifted_on";

type ListingRow = (Uuid, String, Uuid, String, String, String, Date, Date, String, Option<String>, Option<Date>);

/// Keeps, per hazard, the latest listing of rows sorted by `listed_on,
/// created_at`: the current one, or the last lifted.
fn keep_latest_listings(rows: Vec<ListingRow>, listings: &mut HashMap<Uuid, Listing>) -> Result<()> {
    for (hid, level, sid, sname, spath, doc, listed_on, required_by, signatory, requirements, lifted_on) in rows {
        let level = vocab(ListingLevel::parse, "listing level", &level)?;
        listings.insert(
            hid,
            Listing {
                level,
                supervising_unit_id: UnitId(sid),
                supervising_unit_name: sname,
                supervising_unit_path: UnitPath::from_stored(spath),
                document_number: doc,
                listed_on,
                required_by,
                signatory,
                requirements,
                lifted_on,
            },
        );
    }
    Ok(())
}

/// Current listings and pending extension requests of some hazards.
async fn attachments_of(tx: &mut Tx, ids: &[Uuid]) -> Result<(HashMap<Uuid, Listing>, HashMap<Uuid, ExtensionRequest>)> {
    let mut listings = HashMap::new();
    let mut pending = HashMap::new();
    for chunk in ids.chunks(in_list_chunk(tx.engine())) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|u| P::Uuid(*u)));
        let sql = format!(
            "{LISTING_SELECT} FROM hazard_listing l JOIN unit u ON u.id = l.supervising_unit_id \
             WHERE l.hazard_id IN ({list}) ORDER BY l.listed_on, l.created_at"
        );
        let rows: Vec<ListingRow> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
        keep_latest_listings(rows, &mut listings)?;
        let sql = format!("SELECT {EXT_COLUMNS} FROM hazard_extension WHERE status = 'pending' AND hazard_id IN ({list})");
        let rows: Vec<ExtensionDb> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
        for r in rows {
            pending.insert(r.hazard_id, r.into_request());
        }
    }
    Ok((listings, pending))
}

/// Turns rows into hazards with their unit names, listing and pending request.
async fn hydrate(tx: &mut Tx, rows: Vec<HazardDb>) -> Result<Vec<Hazard>> {
    let ids: Vec<Uuid> = rows.iter().flat_map(unit_ids_of).collect();
    let units = unit_refs(tx, &ids).await?;
    let hazard_ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let (listings, pending) = attachments_of(tx, &hazard_ids).await?;
    assemble(rows, &units, listings, pending)
}

/// The unit ids a row refers to.
fn unit_ids_of(r: &HazardDb) -> impl Iterator<Item = Uuid> {
    [Some(r.unit_id), Some(r.found_by_unit_id), r.responsible_unit_id, r.assigned_by_unit_id, r.accepting_unit_id].into_iter().flatten()
}

/// Builds hazards from rows and what was read about them.
fn assemble(
    rows: Vec<HazardDb>,
    units: &HashMap<Uuid, UnitRef>,
    mut listings: HashMap<Uuid, Listing>,
    mut pending: HashMap<Uuid, ExtensionRequest>,
) -> Result<Vec<Hazard>> {
    let unit = |id: Uuid| units.get(&id).cloned().ok_or_else(|| corrupt("unit", &id.to_string()));
    let opt_unit = |id: Option<Uuid>| id.map(unit).transpose();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut h_unit = unit(r.unit_id)?;
        // The hazard keeps the path it was filed under (units do not move).
        h_unit.path = UnitPath::from_stored(r.unit_path);
        out.push(Hazard {
            id: HazardId(r.id),
            num: r.num,
            code: r.code,
            campaign_id: r.campaign_id.map(CampaignId),
            area_id: r.area_id.map(AreaId),
            unit: h_unit,
            name: r.name,
            description: r.description,
            location: r.location,
            position: match (r.latitude.as_deref(), r.longitude.as_deref()) {
                (Some(la), Some(lo)) => Some(GeoPoint {
                    latitude: Decimal::from_str(la).map_err(|_| corrupt("latitude", la))?,
                    longitude: Decimal::from_str(lo).map_err(|_| corrupt("longitude", lo))?,
                }),
                _ => None,
            },
            hazard_type: vocab(HazardType::parse, "type", &r.hazard_type)?,
            source: vocab(HazardSource::parse, "source", &r.source)?,
            check_kind: vocab(CheckKind::parse, "check kind", &r.check_kind)?,
            level: vocab(HazardLevel::parse, "level", &r.level)?,
            sub_grade: r.sub_grade,
            manage_type: vocab(ManageType::parse, "manage type", &r.manage_type)?,
            cause: r.cause,
            cause_class: r.cause_class.as_deref().map(|c| vocab(CauseClass::parse, "cause class", c)).transpose()?,
            measures: r.measures,
            funds: r.funds.as_deref().map(|f| Decimal::from_str(f).map_err(|_| corrupt("funds", f))).transpose()?,
            contingency: r.contingency,
            responsible_unit: opt_unit(r.responsible_unit_id)?,
            responsible_person: r.responsible_person,
            responsible_phone: r.responsible_phone,
            deadline: r.deadline,
            deadline_rule: json_opt::<DeadlineRule>("deadline rule", r.deadline_rule)?,
            found_at: r.found_at,
            found_by: r.found_by,
            found_by_user: r.found_by_user_id.map(UserId),
            found_by_unit: unit(r.found_by_unit_id)?,
            assigned_by_unit: opt_unit(r.assigned_by_unit_id)?,
            accepting_unit: opt_unit(r.accepting_unit_id)?,
            state: vocab(HazardState::parse, "state", &r.state)?,
            major_report: json_opt("major report", r.major_report_json)?,
            plan: json_opt("plan", r.plan_json)?,
            rectification: r.rectification,
            submitted_at: r.submitted_at,
            accepted_by: r.accepted_by,
            closed_at: r.closed_at,
            acceptance_comment: r.acceptance_comment,
            dismiss_reason: r.dismiss_reason.as_deref().map(|d| vocab(DismissReason::parse, "dismiss reason", d)).transpose()?,
            duplicate_of: r.duplicate_of.map(HazardId),
            listing: listings.remove(&r.id),
            pending_extension: pending.remove(&r.id),
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        });
    }
    Ok(out)
}

fn bind_hazard(args: &mut Args, h: &Hazard) -> Result<()> {
    let text = |v: &str| P::Text(v.to_string());
    let otext = |v: &Option<String>| P::OText(v.clone());
    let ouuid = |v: Option<Uuid>| P::OUuid(v);
    let vals: Vec<P> = vec![
        P::Uuid(h.id.0),
        P::Int(h.num),
        text(&h.code),
        ouuid(h.campaign_id.map(|c| c.0)),
        ouuid(h.area_id.map(|a| a.0)),
        P::Uuid(h.unit.id.0),
        text(h.unit.path.as_str()),
        text(&h.name),
        text(&h.description),
        otext(&h.location),
        text(h.hazard_type.as_str()),
        text(h.source.as_str()),
        text(h.check_kind.as_str()),
        text(h.level.as_str()),
        otext(&h.sub_grade),
        text(h.manage_type.as_str()),
        otext(&h.cause),
        P::OText(h.cause_class.map(|c| c.as_str().to_string())),
        otext(&h.measures),
        P::OText(h.funds.map(|f| f.normalize().to_string())),
        otext(&h.contingency),
        ouuid(h.responsible_unit.as_ref().map(|u| u.id.0)),
        otext(&h.responsible_person),
        otext(&h.responsible_phone),
        P::ODate(h.deadline),
        P::OText(h.deadline_rule.map(|r| to_json(&r)).transpose()?),
        P::Ts(Ts(h.found_at)),
        text(&h.found_by),
        ouuid(h.found_by_user.map(|u| u.0)),
        P::Uuid(h.found_by_unit.id.0),
        ouuid(h.assigned_by_unit.as_ref().map(|u| u.id.0)),
        ouuid(h.accepting_unit.as_ref().map(|u| u.id.0)),
        text(h.state.as_str()),
        P::OText(h.major_report.as_ref().map(to_json).transpose()?),
        P::OText(h.plan.as_ref().map(to_json).transpose()?),
        otext(&h.rectification),
        P::OTs(h.submitted_at.map(Ts)),
        otext(&h.accepted_by),
        P::OTs(h.closed_at.map(Ts)),
        otext(&h.acceptance_comment),
        P::OText(h.dismiss_reason.map(|d| d.as_str().to_string())),
        ouuid(h.duplicate_of.map(|d| d.0)),
        P::Bool(h.is_listed()),
        P::Ts(Ts(h.created_at)),
        P::Ts(Ts(h.updated_at)),
        P::Int(h.version),
        P::OText(h.position.map(|p| p.latitude.to_string())),
        P::OText(h.position.map(|p| p.longitude.to_string())),
    ];
    args.params.extend(vals);
    Ok(())
}

pub async fn insert(tx: &mut Tx, h: &Hazard) -> Result<()> {
    insert_row(tx, h).await?;
    crate::hazard_tally::record(tx, None, h).await?;
    insert_search(tx, h).await
}

/// Inserts many new hazards (an import): the rows and search entries one by
/// one, the counts once for all of them.
pub async fn insert_many(tx: &mut Tx, hs: &[Hazard]) -> Result<()> {
    for h in hs {
        insert_row(tx, h).await?;
        insert_search(tx, h).await?;
    }
    crate::hazard_tally::record_all(tx, hs.iter().map(|h| (None, h))).await
}

async fn insert_row(tx: &mut Tx, h: &Hazard) -> Result<()> {
    let mut args = Args::default();
    bind_hazard(&mut args, h)?;
    let placeholders = (1..=args.params.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO hazard ({COLUMNS}) VALUES ({placeholders})");
    run!(tx, |c| bind_all!(sqlx::query(&sql), args).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Writes `h` over the stored row `old` if the stored version is still
/// `old.version`.
pub async fn update(tx: &mut Tx, old: &Hazard, h: &Hazard) -> Result<()> {
    let expected = old.version;
    let mut args = Args::default();
    bind_hazard(&mut args, h)?;
    let sets = COLUMNS
        .split(',')
        .map(str::trim)
        .enumerate()
        .filter(|(_, c)| *c != "id")
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let v = args.push(P::Int(expected));
    let sql = format!("UPDATE hazard SET {sets} WHERE id = $1 AND version = {v}");
    let n = run!(tx, |c| bind_all!(sqlx::query(&sql), args).execute(&mut *c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::Stale);
    }
    crate::hazard_tally::record(tx, Some(old), h).await?;
    set_search(tx, h).await
}

/// The text a hazard is found by.
fn search_text(h: &Hazard) -> String {
    [Some(h.code.as_str()), Some(&h.name), Some(&h.description), h.location.as_deref(), Some(&h.unit.name)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The search entry of a hazard just inserted: it has none yet, so on
/// SQLite there is nothing to delete first (the rowid is the hazard's
/// unique number; a stray entry would make the INSERT fail, not hide).
async fn insert_search(tx: &mut Tx, h: &Hazard) -> Result<()> {
    match tx {
        Tx::Sqlite(t) => {
            let tokens = bihuan_domain::text::search_tokens(&search_text(h));
            sqlx::query("INSERT INTO hazard_search (rowid, tokens) VALUES ($1, $2)").bind(h.num).bind(tokens.join(" ")).execute(&mut **t).await?;
            Ok(())
        }
        Tx::Postgres(_) => set_search(tx, h).await,
    }
}

async fn set_search(tx: &mut Tx, h: &Hazard) -> Result<()> {
    let tokens = bihuan_domain::text::search_tokens(&search_text(h));
    match tx {
        Tx::Sqlite(t) => {
            sqlx::query("DELETE FROM hazard_search WHERE rowid = $1").bind(h.num).execute(&mut **t).await?;
            sqlx::query("INSERT INTO hazard_search (rowid, tokens) VALUES ($1, $2)").bind(h.num).bind(tokens.join(" ")).execute(&mut **t).await?;
        }
        Tx::Postgres(t) => {
            sqlx::query("UPDATE hazard SET search = $2::tsvector WHERE id = $1")
                .bind(h.id.0)
                .bind(tsvector_literal(&tokens))
                .execute(&mut **t)
                .await?;
        }
    }
    Ok(())
}

/// `'消防':1 '防通':2 …` — positions make phrase queries possible. Tokens
/// hold only letters and digits, so quoting needs no escapes; a quote is
/// doubled all the same.
fn tsvector_literal(tokens: &[String]) -> String {
    tokens.iter().enumerate().map(|(i, t)| format!("'{}':{}", t.replace('\'', "''"), (i + 1).min(16383))).collect::<Vec<_>>().join(" ")
}

fn fts5_phrase(q: &bihuan_domain::text::SearchPhrase) -> String {
    let body = q.tokens.iter().map(|t| t.replace('"', "")).collect::<Vec<_>>().join(" ");
    if q.prefix_last { format!("\"{body}\" *") } else { format!("\"{body}\"") }
}

fn tsquery_literal(q: &bihuan_domain::text::SearchPhrase) -> String {
    let n = q.tokens.len();
    q.tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let t = t.replace('\'', "''");
            if i + 1 == n && q.prefix_last { format!("'{t}':*") } else { format!("'{t}'") }
        })
        .collect::<Vec<_>>()
        .join(" <-> ")
}

pub async fn get(tx: &mut Tx, id: HazardId) -> Result<Option<Hazard>> {
    let sql = format!("SELECT {COLUMNS} FROM hazard WHERE id = $1");
    let row: Option<HazardDb> = run!(tx, |c| sqlx::query_as(&sql).bind(id.0).fetch_optional(&mut *c).await?);
    match row {
        None => Ok(None),
        Some(r) => Ok(hydrate(tx, vec![r]).await?.pop()),
    }
}

pub async fn get_by_code(tx: &mut Tx, code: &str) -> Result<Option<Hazard>> {
    let sql = format!("SELECT {COLUMNS} FROM hazard WHERE code = $1");
    let row: Option<HazardDb> = run!(tx, |c| sqlx::query_as(&sql).bind(code).fetch_optional(&mut *c).await?);
    match row {
        None => Ok(None),
        Some(r) => Ok(hydrate(tx, vec![r]).await?.pop()),
    }
}

// ---- the timeline ----

pub struct NewEvent<'a> {
    pub hazard_id: HazardId,
    pub at: OffsetDateTime,
    pub actor_user_id: Option<UserId>,
    pub actor_name: &'a str,
    pub actor_unit_id: Option<UnitId>,
    pub draft: &'a EventDraft,
}

pub async fn append_event(tx: &mut Tx, e: NewEvent<'_>) -> Result<HazardEvent> {
    append_event_numbered(tx, e, crate::timeline::Seq::Next).await
}

/// The first event of a hazard inserted in this transaction: number 1,
/// without looking for earlier ones.
pub async fn append_first_event(tx: &mut Tx, e: NewEvent<'_>) -> Result<HazardEvent> {
    append_event_numbered(tx, e, crate::timeline::Seq::First).await
}

async fn append_event_numbered(tx: &mut Tx, e: NewEvent<'_>, seq: crate::timeline::Seq) -> Result<HazardEvent> {
    let mut ev = HazardEvent {
        id: HazardEventId::new(),
        hazard_id: e.hazard_id,
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
        crate::timeline::Timeline::Hazard,
        crate::timeline::Row {
            id: ev.id.0,
            owner: ev.hazard_id.0,
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
        seq,
    )
    .await?;
    Ok(ev)
}

type EventRow = (Uuid, Uuid, i32, OffsetDateTime, Option<Uuid>, String, Option<Uuid>, String, Option<String>, String, Option<String>, String);

fn event_from_row(r: EventRow) -> Result<HazardEvent> {
    let (id, hazard_id, seq, at, user, name, unit, action, from, to, comment, data) = r;
    Ok(HazardEvent {
        id: HazardEventId(id),
        hazard_id: HazardId(hazard_id),
        seq,
        at,
        actor_user_id: user.map(UserId),
        actor_name: name,
        actor_unit_id: unit.map(UnitId),
        action,
        from_state: from.as_deref().map(|s| vocab(HazardState::parse, "event state", s)).transpose()?,
        to_state: vocab(HazardState::parse, "event state", &to)?,
        comment,
        data: serde_json::from_str(&data).map_err(|e| corrupt("event data", &e.to_string()))?,
    })
}

const EVENT_COLUMNS: &str =
    "id, hazard_id, seq, at, actor_user_id, actor_name, actor_unit_id, action, from_state, to_state, comment, data_json";

pub async fn events(tx: &mut Tx, hazard: HazardId) -> Result<Vec<HazardEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM hazard_event WHERE hazard_id = $1 ORDER BY seq");
    let rows: Vec<EventRow> = run!(tx, |c| sqlx::query_as(&sql).bind(hazard.0).fetch_all(&mut *c).await?);
    rows.into_iter().map(event_from_row).collect()
}

/// Timelines of many hazards (for the ledger's second sheet), in hazard order.
pub async fn events_of(tx: &mut Tx, hazards: &[HazardId]) -> Result<Vec<HazardEvent>> {
    let mut out = Vec::new();
    for chunk in hazards.chunks(in_list_chunk(tx.engine())) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|h| P::Uuid(h.0)));
        let sql = format!("SELECT {EVENT_COLUMNS} FROM hazard_event WHERE hazard_id IN ({list}) ORDER BY hazard_id, seq");
        let rows: Vec<EventRow> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
        for r in rows {
            out.push(event_from_row(r)?);
        }
    }
    Ok(out)
}

// ---- listings and extensions ----

pub async fn insert_listing(tx: &mut Tx, hazard: HazardId, l: &Listing, at: OffsetDateTime) -> Result<()> {
    let sql = "INSERT INTO hazard_listing (id, hazard_id, level, supervising_unit_id, document_number, listed_on, required_by, signatory, \
               requirements, lifted_on, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    run!(tx, |c| {
        sqlx::query(sql)
            .bind(Uuid::now_v7())
            .bind(hazard.0)
            .bind(l.level.as_str())
            .bind(l.supervising_unit_id.0)
            .bind(&l.document_number)
            .bind(l.listed_on)
            .bind(l.required_by)
            .bind(&l.signatory)
            .bind(&l.requirements)
            .bind(l.lifted_on)
            .bind(Ts(at))
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

pub async fn lift_listing(tx: &mut Tx, hazard: HazardId, on: Date) -> Result<()> {
    run!(tx, |c| {
        sqlx::query("UPDATE hazard_listing SET lifted_on = $2 WHERE hazard_id = $1 AND lifted_on IS NULL")
            .bind(hazard.0)
            .bind(on)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

const EXT_COLUMNS: &str = "id, hazard_id, current_deadline, requested_deadline, reason, requested_by, requested_at, status, decided_by, \
                           decided_at, decision_comment";

#[derive(sqlx::FromRow)]
struct ExtensionDb {
    id: Uuid,
    hazard_id: Uuid,
    current_deadline: Date,
    requested_deadline: Date,
    reason: String,
    requested_by: String,
    requested_at: OffsetDateTime,
    status: String,
    decided_by: Option<String>,
    decided_at: Option<OffsetDateTime>,
    decision_comment: Option<String>,
}

impl ExtensionDb {
    fn into_request(self) -> ExtensionRequest {
        ExtensionRequest {
            id: ExtensionId(self.id),
            current_deadline: self.current_deadline,
            requested_deadline: self.requested_deadline,
            reason: self.reason,
            requested_by: self.requested_by,
            requested_at: self.requested_at,
            approved: match self.status.as_str() {
                "approved" => Some(true),
                "refused" => Some(false),
                _ => None,
            },
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            decision_comment: self.decision_comment,
        }
    }
}

pub async fn insert_extension(tx: &mut Tx, hazard: HazardId, r: &ExtensionRequest, user: Option<UserId>) -> Result<()> {
    let sql = "INSERT INTO hazard_extension (id, hazard_id, current_deadline, requested_deadline, reason, requested_by, requested_by_user_id, \
               requested_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending')";
    run!(tx, |c| {
        sqlx::query(sql)
            .bind(r.id.0)
            .bind(hazard.0)
            .bind(r.current_deadline)
            .bind(r.requested_deadline)
            .bind(&r.reason)
            .bind(&r.requested_by)
            .bind(user.map(|u| u.0))
            .bind(Ts(r.requested_at))
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

/// Records the decision on (or the withdrawal of) a pending request.
pub async fn close_extension(
    tx: &mut Tx,
    id: ExtensionId,
    status: &str,
    by: Option<&str>,
    at: OffsetDateTime,
    comment: Option<&str>,
) -> Result<()> {
    let sql = "UPDATE hazard_extension SET status = $2, decided_by = $3, decided_at = $4, decision_comment = $5 \
               WHERE id = $1 AND status = 'pending'";
    let n = run!(tx, |c| {
        sqlx::query(sql).bind(id.0).bind(status).bind(by).bind(Ts(at)).bind(comment).execute(&mut *c).await?.rows_affected()
    });
    if n == 0 { Err(StoreError::Stale) } else { Ok(()) }
}

pub async fn extensions(tx: &mut Tx, hazard: HazardId) -> Result<Vec<ExtensionRequest>> {
    let sql = format!("SELECT {EXT_COLUMNS} FROM hazard_extension WHERE hazard_id = $1 ORDER BY requested_at");
    let rows: Vec<ExtensionDb> = run!(tx, |c| sqlx::query_as(&sql).bind(hazard.0).fetch_all(&mut *c).await?);
    Ok(rows.into_iter().map(ExtensionDb::into_request).collect())
}

pub async fn listings(tx: &mut Tx, hazard: HazardId) -> Result<Vec<Listing>> {
    let sql = "SELECT l.level, l.supervising_unit_id, u.name, u.path, l.document_number, l.listed_on, l.required_by, l.signatory, \
               l.requirements, l.lifted_on FROM hazard_listing l JOIN unit u ON u.id = l.supervising_unit_id \
               WHERE l.hazard_id = $1 ORDER BY l.listed_on, l.created_at";
    type Row = (String, Uuid, String, String, String, Date, Date, String, Option<String>, Option<Date>);
    let rows: Vec<Row> = run!(tx, |c| sqlx::query_as(sql).bind(hazard.0).fetch_all(&mut *c).await?);
    rows.into_iter()
        .map(|(level, sid, sname, spath, doc, listed_on, required_by, signatory, requirements, lifted_on)| {
            Ok(Listing {
                level: vocab(ListingLevel::parse, "listing level", &level)?,
                supervising_unit_id: UnitId(sid),
                supervising_unit_name: sname,
                supervising_unit_path: UnitPath::from_stored(spath),
                document_number: doc,
                listed_on,
                required_by,
                signatory,
                requirements,
                lifted_on,
            })
        })
        .collect()
}

// ---- finding hazards ----

/// Which hazards a caller may see at all (see
/// `bihuan_domain::hazard::visible`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HazardScope {
    All,
    /// Hazards of units in `subtree`, of the `led_areas`, or naming a unit
    /// inside `named_under` (finder, responsible, assigning, accepting or
    /// supervising unit).
    Visible { subtree: UnitPath, led_areas: Vec<AreaId>, named_under: Option<UnitPath> },
}

#[derive(Clone, Debug, Default)]
pub struct HazardFilter {
    /// Only hazards of units at or below this path.
    pub within: Option<UnitPath>,
    pub campaign_id: Option<CampaignId>,
    pub area_id: Option<AreaId>,
    pub levels: Vec<HazardLevel>,
    pub states: Vec<HazardState>,
    pub sources: Vec<HazardSource>,
    pub hazard_types: Vec<HazardType>,
    pub manage_type: Option<ManageType>,
    pub responsible_unit_id: Option<UnitId>,
    /// Assigned by this unit (who decides its extensions).
    pub assigned_by_unit_id: Option<UnitId>,
    /// Found by this unit.
    pub found_by_unit_id: Option<UnitId>,
    /// With (or without) an extension request waiting for a decision.
    pub extension_pending: Option<bool>,
    /// Open, not handed in, past the deadline on `today`.
    pub overdue: Option<bool>,
    pub listed: Option<bool>,
    /// Found on or after / on or before these Beijing dates.
    pub found_from: Option<Date>,
    pub found_to: Option<Date>,
    pub deadline_from: Option<Date>,
    pub deadline_to: Option<Date>,
    /// Substring of code, name, description, location or unit name.
    pub q: Option<String>,
    pub sort: HazardSort,
    /// Keyset cursor from the previous page ([`HazardPage::next`]).
    pub after: Option<String>,
    pub limit: i64,
}

pub struct HazardPage {
    pub items: Vec<Hazard>,
    /// Cursor for the next page, when there may be one.
    pub next: Option<String>,
}

fn day_start_utc(d: Date) -> OffsetDateTime {
    d.with_hms(0, 0, 0).map(|t| t.assume_offset(bihuan_domain::clock::SHANGHAI)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

const OPEN_PENDING: &str = "('reported', 'assigned', 'rectifying')";

/// Builds the WHERE clause for a scope and filter. Returns `None` when the
/// filter can match nothing (a search with no searchable text).
pub(crate) fn where_clause(engine: Engine, args: &mut Args, scope: &HazardScope, f: &HazardFilter, today: Date) -> Option<String> {
    let mut w: Vec<String> = Vec::new();
    if let HazardScope::Visible { subtree, led_areas, named_under } = scope {
        let (lo, hi) = subtree_range(subtree.as_str());
        let mut any = vec![format!("(h.unit_path >= {} AND h.unit_path < {})", args.push(P::Text(lo)), args.push(P::Text(hi)))];
        if !led_areas.is_empty() {
            any.push(format!("h.area_id IN ({})", args.list(led_areas.iter().map(|a| P::Uuid(a.0)))));
        }
        if let Some(p) = named_under {
            let (lo, hi) = subtree_range(p.as_str());
            let units = format!("(SELECT id FROM unit WHERE path >= {} AND path < {})", args.push(P::Text(lo)), args.push(P::Text(hi)));
            for col in ["found_by_unit_id", "responsible_unit_id", "assigned_by_unit_id", "accepting_unit_id"] {
                any.push(format!("h.{col} IN {units}"));
            }
            any.push(format!("h.id IN (SELECT hazard_id FROM hazard_listing WHERE lifted_on IS NULL AND supervising_unit_id IN {units})"));
        }
        w.push(format!("({})", any.join(" OR ")));
    }
    if let Some(p) = &f.within {
        let (lo, hi) = subtree_range(p.as_str());
        w.push(format!("h.unit_path >= {} AND h.unit_path < {}", args.push(P::Text(lo)), args.push(P::Text(hi))));
    }
    if let Some(c) = f.campaign_id {
        w.push(format!("h.campaign_id = {}", args.push(P::Uuid(c.0))));
    }
    if let Some(a) = f.area_id {
        w.push(format!("h.area_id = {}", args.push(P::Uuid(a.0))));
    }
    // Codes of closed vocabularies are written as literals (they come from
    // our enums, never from input): the planner can then match the partial
    // indexes over open hazards.
    let mut in_list = |col: &str, vals: Vec<&'static str>, _args: &mut Args| {
        if !vals.is_empty() {
            w.push(format!("h.{col} IN ({})", sql_literals(vals)));
        }
    };
    in_list("level", f.levels.iter().map(|v| v.as_str()).collect(), args);
    in_list("state", f.states.iter().map(|v| v.as_str()).collect(), args);
    in_list("source", f.sources.iter().map(|v| v.as_str()).collect(), args);
    in_list("hazard_type", f.hazard_types.iter().map(|v| v.as_str()).collect(), args);
    if let Some(m) = f.manage_type {
        w.push(format!("h.manage_type = {}", args.push(P::Text(m.as_str().into()))));
    }
    // The unit in one of the hazard's roles: responsible, assigning, finding.
    for (col, unit) in [("responsible_unit_id", f.responsible_unit_id), ("assigned_by_unit_id", f.assigned_by_unit_id), ("found_by_unit_id", f.found_by_unit_id)] {
        if let Some(u) = unit {
            w.push(format!("h.{col} = {}", args.push(P::Uuid(u.0))));
        }
    }
    // The pending requests are few (a partial unique index holds them), so
    // the subquery is a short list of ids.
    match f.extension_pending {
        Some(true) => w.push("h.id IN (SELECT x.hazard_id FROM hazard_extension x WHERE x.status = 'pending')".into()),
        Some(false) => w.push("h.id NOT IN (SELECT x.hazard_id FROM hazard_extension x WHERE x.status = 'pending')".into()),
        None => {}
    }
    match f.overdue {
        Some(true) => w.push(format!("h.state IN {OPEN_PENDING} AND h.deadline < {}", args.push(P::Date(today)))),
        Some(false) => w.push(format!("NOT (h.state IN {OPEN_PENDING} AND h.deadline IS NOT NULL AND h.deadline < {})", args.push(P::Date(today)))),
        None => {}
    }
    if let Some(l) = f.listed {
        w.push(format!("h.listed = {}", args.push(P::Bool(l))));
    }
    if let Some(d) = f.found_from {
        w.push(format!("h.found_at >= {}", args.push(P::Ts(Ts(day_start_utc(d))))));
    }
    if let Some(d) = f.found_to.and_then(|d| d.next_day()) {
        w.push(format!("h.found_at < {}", args.push(P::Ts(Ts(day_start_utc(d))))));
    }
    if let Some(d) = f.deadline_from {
        w.push(format!("h.deadline >= {}", args.push(P::Date(d))));
    }
    if let Some(d) = f.deadline_to {
        w.push(format!("h.deadline <= {}", args.push(P::Date(d))));
    }
    if let Some(q) = f.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let phrase = bihuan_domain::text::search_query(q)?;
        match engine {
            Engine::Sqlite => w.push(format!(
                "h.num IN (SELECT rowid FROM hazard_search WHERE hazard_search MATCH {})",
                args.push(P::Text(fts5_phrase(&phrase)))
            )),
            Engine::Postgres => w.push(format!("h.search @@ CAST({} AS tsquery)", args.push(P::Text(tsquery_literal(&phrase))))),
        }
    }
    Some(if w.is_empty() { "TRUE".into() } else { w.join(" AND ") })
}

/// A page of hazards in `scope` matching `filter`.
pub async fn list(tx: &mut Tx, scope: &HazardScope, f: &HazardFilter, today: Date) -> Result<HazardPage> {
    let mut args = Args::default();
    let Some(mut w) = where_clause(tx.engine(), &mut args, scope, f, today) else {
        return Ok(HazardPage { items: vec![], next: None });
    };
    let limit = if f.limit <= 0 { 50 } else { f.limit.min(1000) };
    // Keyset: (deadline, num) or num, read from the cursor.
    let order = match f.sort {
        HazardSort::Newest => "h.num DESC",
        HazardSort::Oldest => "h.num ASC",
        HazardSort::Deadline => "CASE WHEN h.deadline IS NULL THEN 1 ELSE 0 END, h.deadline, h.num",
    };
    if let Some(after) = f.after.as_deref() {
        match (f.sort, Cursor::parse(after)) {
            (HazardSort::Newest, Some(Cursor { num, .. })) => w.push_str(&format!(" AND h.num < {}", args.push(P::Int(num)))),
            (HazardSort::Oldest, Some(Cursor { num, .. })) => w.push_str(&format!(" AND h.num > {}", args.push(P::Int(num)))),
            (HazardSort::Deadline, Some(Cursor { num, deadline: Some(d) })) => {
                let (d1, n1, d2) = (args.push(P::Date(d)), args.push(P::Int(num)), args.push(P::Date(d)));
                w.push_str(&format!(" AND (h.deadline IS NULL OR h.deadline > {d1} OR (h.deadline = {d2} AND h.num > {n1}))"));
            }
            (HazardSort::Deadline, Some(Cursor { num, deadline: None })) => {
                w.push_str(&format!(" AND h.deadline IS NULL AND h.num > {}", args.push(P::Int(num))))
            }
            (_, None) => return Err(StoreError::Corrupt("bad cursor".into())),
        }
    }
    let lim = args.push(P::Int(limit + 1));
    let cols = COLUMNS.split(',').map(|c| format!("h.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT {cols} FROM hazard h WHERE {w} ORDER BY {order} LIMIT {lim}");
    let mut rows: Vec<HazardDb> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|r| Cursor { num: r.num, deadline: if f.sort == HazardSort::Deadline { r.deadline } else { None } }.to_string())
    } else {
        None
    };
    Ok(HazardPage { items: hydrate(tx, rows).await?, next })
}

const ISO_DATE: &[time::format_description::FormatItem<'static>] = time::macros::format_description!("[year]-[month]-[day]");

/// Position in a sorted list: the last row's number and (for the deadline
/// sort) its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub num: i64,
    pub deadline: Option<Date>,
}

impl Cursor {
    pub fn parse(s: &str) -> Option<Cursor> {
        match s.split_once('_') {
            Some((d, n)) => Some(Cursor { num: n.parse().ok()?, deadline: Some(Date::parse(d, ISO_DATE).ok()?) }),
            None => Some(Cursor { num: s.parse().ok()?, deadline: None }),
        }
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.deadline {
            Some(d) => write!(f, "{d}_{}", self.num),
            None => write!(f, "{}", self.num),
        }
    }
}

/// Hazards for an export, streamed in pages of `batch` by number.
pub async fn export_page(tx: &mut Tx, scope: &HazardScope, f: &HazardFilter, today: Date, after_num: i64, batch: i64) -> Result<Vec<Hazard>> {
    let mut f = f.clone();
    f.sort = HazardSort::Oldest;
    f.after = (after_num > 0).then(|| after_num.to_string());
    f.limit = batch;
    Ok(list(tx, scope, &f, today).await?.items)
}

/// Units met by earlier pages of a ledger export, with their credit codes:
/// each unit is read once per export, not once per page.
#[derive(Default)]
pub struct UnitCache {
    refs: HashMap<Uuid, UnitRef>,
    credit_codes: HashMap<Uuid, String>,
}

impl UnitCache {
    /// The 统一社会信用代码 of a unit met so far, when it has one.
    pub fn credit_code(&self, id: UnitId) -> Option<&String> {
        self.credit_codes.get(&id.0)
    }

    /// Reads the units of `ids` not read before, in short IN lists.
    async fn fill(&mut self, tx: &mut Tx, ids: impl Iterator<Item = Uuid>) -> Result<()> {
        let mut missing: Vec<Uuid> = ids.filter(|id| !self.refs.contains_key(id)).collect();
        missing.sort();
        missing.dedup();
        for chunk in missing.chunks(in_list_chunk(tx.engine())) {
            let mut args = Args::default();
            let list = args.list(chunk.iter().map(|u| P::Uuid(*u)));
            let sql = format!("SELECT id, name, short_name, path, credit_code FROM unit WHERE id IN ({list})");
            type Row = (Uuid, String, Option<String>, String, Option<String>);
            let rows: Vec<Row> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
            for (id, name, short_name, path, credit_code) in rows {
                self.refs.insert(id, UnitRef { id: UnitId(id), name, short_name, path: UnitPath::from_stored(path) });
                if let Some(code) = credit_code {
                    self.credit_codes.insert(id, code);
                }
            }
        }
        Ok(())
    }
}

/// One page of a ledger export: the hazards and, when asked for, their
/// timelines.
pub struct LedgerPage {
    pub hazards: Vec<Hazard>,
    /// Events of these hazards, by hazard number then `seq`.
    pub events: Vec<HazardEvent>,
}

/// The next page of at most `batch` hazards in `scope` matching `f` with a
/// number above `after_num`, in number order, for a ledger (no cap on
/// `batch`; `f.sort`, `after` and `limit` are ignored). Unlike
/// [`export_page`] it reads the page's listings, pending extension requests
/// and (with `timeline`) events by joins over the page's own range of
/// numbers — `num > after_num AND num <= last` under the same WHERE clause,
/// which in one snapshot is exactly the page — instead of IN lists of ids,
/// and unit names once per export through `units`. A page costs four or
/// five statements whatever its size.
#[allow(clippy::too_many_arguments)]
pub async fn ledger_page(
    tx: &mut Tx,
    scope: &HazardScope,
    f: &HazardFilter,
    today: Date,
    after_num: i64,
    batch: i64,
    timeline: bool,
    units: &mut UnitCache,
) -> Result<LedgerPage> {
    let engine = tx.engine();
    // The WHERE clause of the page, with the page's range: fresh parameters each time.
    let page_where = |args: &mut Args, upto: Option<i64>| -> Option<String> {
        let w = where_clause(engine, args, scope, f, today)?;
        let lo = args.push(P::Int(after_num));
        Some(match upto {
            Some(hi) => format!("{w} AND h.num > {lo} AND h.num <= {}", args.push(P::Int(hi))),
            None => format!("{w} AND h.num > {lo}"),
        })
    };
    let empty = LedgerPage { hazards: vec![], events: vec![] };
    let mut args = Args::default();
    let Some(w) = page_where(&mut args, None) else { return Ok(empty) };
    let lim = args.push(P::Int(batch.max(1)));
    let cols = COLUMNS.split(',').map(|c| format!("h.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT {cols} FROM hazard h WHERE {w} ORDER BY h.num LIMIT {lim}");
    let rows: Vec<HazardDb> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
    let Some(last) = rows.last().map(|r| r.num) else { return Ok(empty) };

    units.fill(tx, rows.iter().flat_map(unit_ids_of)).await?;

    let mut listings = HashMap::new();
    let mut args = Args::default();
    if let Some(w) = page_where(&mut args, Some(last)) {
        let sql = format!(
            "{LISTING_SELECT} FROM hazard h JOIN hazard_listing l ON l.hazard_id = h.id JOIN unit u ON u.id = l.supervising_unit_id \
             WHERE {w} ORDER BY l.listed_on, l.created_at"
        );
        let rows: Vec<ListingRow> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
        keep_latest_listings(rows, &mut listings)?;
    }
    let mut pending = HashMap::new();
    let mut args = Args::default();
    if let Some(w) = page_where(&mut args, Some(last)) {
        let ext_cols = EXT_COLUMNS.split(',').map(|c| format!("x.{}", c.trim())).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT {ext_cols} FROM hazard h JOIN hazard_extension x ON x.hazard_id = h.id WHERE x.status = 'pending' AND {w}");
        let rows: Vec<ExtensionDb> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
        for r in rows {
            pending.insert(r.hazard_id, r.into_request());
        }
    }
    let mut events = Vec::new();
    let mut args = Args::default();
    if timeline && let Some(w) = page_where(&mut args, Some(last)) {
        let ev_cols = EVENT_COLUMNS.split(',').map(|c| format!("e.{}", c.trim())).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT {ev_cols} FROM hazard h JOIN hazard_event e ON e.hazard_id = h.id WHERE {w} ORDER BY h.num, e.seq");
        let rows: Vec<EventRow> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
        events.reserve(rows.len());
        for r in rows {
            events.push(event_from_row(r)?);
        }
    }
    Ok(LedgerPage { hazards: assemble(rows, &units.refs, listings, pending)?, events })
}

// ---- counts and rates ----

/// Counts of the hazards in `scope` matching `f`: the total and, with `by`,
/// the groups (units one level below `unit_root`, or below the roots).
#[derive(Clone, Debug, Default)]
pub struct Counts {
    pub total: Tally,
    pub groups: Vec<Tally>,
}

/// Counts and rates for a dashboard. Read from the maintained counts
/// (`hazard_tally`) when the filter allows, with overdue counted from the
/// open hazards; otherwise counted from the hazards themselves.
pub async fn tally(tx: &mut Tx, scope: &HazardScope, f: &HazardFilter, today: Date, by: Option<Breakdown>, unit_root: Option<&UnitPath>) -> Result<Counts> {
    let groups = match crate::hazard_tally::node_for(scope, f) {
        Some(node) => {
            let mut groups = crate::hazard_tally::read(tx, &node, f, by).await?;
            if !groups.is_empty() {
                for (key, n) in overdue_counts(tx, scope, f, today, by, unit_root).await? {
                    if let Some(g) = groups.iter_mut().find(|g| g.key == key) {
                        g.overdue = n;
                    }
                }
            }
            groups
        }
        None => scan_tally(tx, scope, f, today, by, unit_root).await?,
    };
    Ok(crate::hazard_tally::counts(groups, by))
}

/// The overdue hazards per group key, counted from the index over pending
/// hazards alone (it carries every column a key is made of).
async fn overdue_counts(tx: &mut Tx, scope: &HazardScope, f: &HazardFilter, today: Date, by: Option<Breakdown>, unit_root: Option<&UnitPath>) -> Result<Vec<(String, i64)>> {
    let engine = tx.engine();
    let mut args = Args::default();
    let f = HazardFilter { overdue: Some(true), ..f.clone() };
    let Some(w) = where_clause(engine, &mut args, scope, &f, today) else { return Ok(vec![]) };
    let key = group_key(engine, &mut args, by, unit_root);
    let indexed = match engine {
        // Named, or SQLite walks a whole index that yields the GROUP BY order.
        Engine::Sqlite if matches!(scope, HazardScope::Visible { .. }) || f.within.is_some() => "INDEXED BY hazard_pending_path",
        Engine::Sqlite => "INDEXED BY hazard_overdue",
        Engine::Postgres => "",
    };
    let sql = format!("SELECT {key} AS k, COUNT(*) FROM hazard h {indexed} WHERE {w} GROUP BY k");
    let rows: Vec<(Option<String>, i64)> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
    Ok(rows.into_iter().map(|(k, n)| (area_key(by, k), n)).collect())
}

/// The SQL of a breakdown's key over `hazard h`.
fn group_key(engine: Engine, args: &mut Args, by: Option<Breakdown>, unit_root: Option<&UnitPath>) -> String {
    match (by, engine) {
        (None, _) => "''".to_string(),
        (Some(Breakdown::Area), Engine::Sqlite) => "COALESCE(lower(hex(h.area_id)), '')".into(),
        (Some(Breakdown::Area), Engine::Postgres) => "COALESCE(replace(CAST(h.area_id AS TEXT), '-', ''), '')".into(),
        (Some(Breakdown::Level), _) => "h.level".into(),
        (Some(Breakdown::Source), _) => "h.source".into(),
        (Some(Breakdown::State), _) => "h.state".into(),
        (Some(Breakdown::Month), Engine::Sqlite) => "strftime('%Y-%m', h.found_at, '+8 hours')".into(),
        (Some(Breakdown::Month), Engine::Postgres) => "to_char(h.found_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')".into(),
        (Some(Breakdown::Unit), _) => {
            // The path segment one level below the root: 32 hex digits and a slash.
            let len = unit_root.map(|p| p.as_str().len()).unwrap_or(1) as i64;
            format!("substr(h.unit_path, 1, CAST({} AS INTEGER))", args.push(P::Int(len + 33)))
        }
    }
}

/// Area ids come back as bare hex: give them their usual form.
fn area_key(by: Option<Breakdown>, k: Option<String>) -> String {
    match (by, k) {
        (Some(Breakdown::Area), Some(k)) => Uuid::parse_str(&k).map(|u| u.to_string()).unwrap_or(k),
        (_, k) => k.unwrap_or_default(),
    }
}

/// The same counts as [`tally`], always computed from the hazards
/// themselves (for checking the maintained counts).
pub async fn tally_scanned(tx: &mut Tx, scope: &HazardScope, f: &HazardFilter, today: Date, by: Option<Breakdown>, unit_root: Option<&UnitPath>) -> Result<Counts> {
    let groups = scan_tally(tx, scope, f, today, by, unit_root).await?;
    Ok(crate::hazard_tally::counts(groups, by))
}

/// Counts by scanning the hazards in scope.
async fn scan_tally(tx: &mut Tx, scope: &HazardScope, f: &HazardFilter, today: Date, by: Option<Breakdown>, unit_root: Option<&UnitPath>) -> Result<Vec<Tally>> {
    let engine = tx.engine();
    let mut args = Args::default();
    let Some(w) = where_clause(engine, &mut args, scope, f, today) else { return Ok(vec![]) };
    let key = group_key(engine, &mut args, by, unit_root);
    let on_time = match engine {
        Engine::Sqlite => "(h.deadline IS NULL OR h.submitted_at IS NULL OR date(h.submitted_at, '+8 hours') <= h.deadline)",
        Engine::Postgres => "(h.deadline IS NULL OR h.submitted_at IS NULL OR CAST(h.submitted_at AT TIME ZONE 'Asia/Shanghai' AS DATE) <= h.deadline)",
    };
    let t = args.push(P::Date(today));
    let sql = format!(
        "SELECT {key} AS k, COUNT(*), \
         SUM(CASE WHEN h.state = 'dismissed' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN h.state IN ('reported', 'assigned', 'rectifying', 'submitted') THEN 1 ELSE 0 END), \
         SUM(CASE WHEN h.state = 'closed' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN h.state = 'closed' AND {on_time} THEN 1 ELSE 0 END), \
         SUM(CASE WHEN h.state IN {OPEN_PENDING} AND h.deadline < {t} THEN 1 ELSE 0 END), \
         SUM(CASE WHEN h.listed THEN 1 ELSE 0 END), \
         SUM(CASE WHEN h.level = 'major' THEN 1 ELSE 0 END) \
         FROM hazard h WHERE {w} GROUP BY k ORDER BY k"
    );
    type Row = (Option<String>, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<Row> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
    let mut out: Vec<Tally> = rows
        .into_iter()
        .map(|(k, total, dismissed, open, closed, on_time, overdue, listed, major)| Tally {
            key: area_key(by, k),
            total,
            dismissed: dismissed.unwrap_or(0),
            open: open.unwrap_or(0),
            closed: closed.unwrap_or(0),
            closed_on_time: on_time.unwrap_or(0),
            overdue: overdue.unwrap_or(0),
            listed: listed.unwrap_or(0),
            major: major.unwrap_or(0),
        })
        .collect();
    out.retain(|t| t.total != 0);
    Ok(out)
}

// ---- ledgers: import keys and batch look-ups ----

/// Codes of the hazards imported under any of `keys`: key → hazard code.
pub async fn codes_by_import_key(tx: &mut Tx, keys: &[String]) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in keys.chunks(in_list_chunk(tx.engine())) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|k| P::Text(k.clone())));
        // `IS NOT NULL` matches the partial index of migration 0009: SQLite
        // then uses it whatever ANALYZE says about the (mostly NULL) column.
        let sql = format!("SELECT import_key, code FROM hazard WHERE import_key IN ({list}) AND import_key IS NOT NULL");
        let rows: Vec<(String, String)> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
        out.extend(rows);
    }
    Ok(out)
}

/// Records the import keys of hazards just inserted, many per statement
/// (instead of one UPDATE per hazard). Keys are unique: a key already used
/// fails with a database error.
pub async fn set_import_keys(tx: &mut Tx, keys: &[(HazardId, String)]) -> Result<()> {
    // Two parameters a row.
    for chunk in keys.chunks(in_list_chunk(tx.engine()) / 2) {
        let mut args = Args::default();
        let rows: Vec<String> = chunk.iter().map(|(id, key)| format!("({})", args.list([P::Uuid(id.0), P::Text(key.clone())]))).collect();
        let sql = match tx.engine() {
            Engine::Sqlite => format!(
                "UPDATE hazard SET import_key = v.column2 FROM (VALUES {}) AS v WHERE hazard.id = v.column1",
                rows.join(", ")
            ),
            Engine::Postgres => {
                format!("UPDATE hazard SET import_key = v.k FROM (VALUES {}) AS v (id, k) WHERE hazard.id = v.id", rows.join(", "))
            }
        };
        let n = run!(tx, |c| bind_all!(sqlx::query(&sql), args).execute(&mut *c).await?.rows_affected());
        if n != chunk.len() as u64 {
            return Err(StoreError::NotFound);
        }
    }
    Ok(())
}

/// Records the import key of a hazard just inserted. The key is unique: a
/// second hazard under the same key fails with a database error.
pub async fn set_import_key(tx: &mut Tx, id: HazardId, key: &str) -> Result<()> {
    let sql = "UPDATE hazard SET import_key = $2 WHERE id = $1";
    run!(tx, |c| sqlx::query(sql).bind(id.0).bind(key).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Hazards with any of these codes.
pub async fn get_by_codes(tx: &mut Tx, codes: &[String]) -> Result<Vec<Hazard>> {
    let mut out = Vec::new();
    for chunk in codes.chunks(in_list_chunk(tx.engine())) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|k| P::Text(k.clone())));
        let sql = format!("SELECT {COLUMNS} FROM hazard WHERE code IN ({list})");
        let rows: Vec<HazardDb> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
        out.extend(hydrate(tx, rows).await?);
    }
    Ok(out)
}

/// A unit as a ledger names it.
#[derive(Clone, Debug)]
pub struct LedgerUnit {
    pub unit: UnitRef,
    pub credit_code: Option<String>,
    pub active: bool,
}

/// Units whose name, short name or credit code is one of those given (for
/// matching the unit column of an imported ledger in one pass).
pub async fn units_by_names_or_codes(tx: &mut Tx, names: &[String], credit_codes: &[String]) -> Result<Vec<LedgerUnit>> {
    let mut out: HashMap<Uuid, LedgerUnit> = HashMap::new();
    ledger_units_where(tx, "name", names, &mut out).await?;
    ledger_units_where(tx, "short_name", names, &mut out).await?;
    ledger_units_where(tx, "credit_code", credit_codes, &mut out).await?;
    let mut units: Vec<LedgerUnit> = out.into_values().collect();
    units.sort_by(|a, b| a.unit.path.as_str().cmp(b.unit.path.as_str()));
    Ok(units)
}

async fn ledger_units_where(tx: &mut Tx, column: &'static str, values: &[String], out: &mut HashMap<Uuid, LedgerUnit>) -> Result<()> {
    for chunk in values.chunks(in_list_chunk(tx.engine())) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|k| P::Text(k.clone())));
        let sql = format!("SELECT id, name, short_name, path, credit_code, active FROM unit WHERE {column} IN ({list})");
        type Row = (Uuid, String, Option<String>, String, Option<String>, bool);
        let rows: Vec<Row> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
        for (id, name, short_name, path, credit_code, active) in rows {
            out.entry(id).or_insert_with(|| LedgerUnit {
                unit: UnitRef { id: UnitId(id), name, short_name, path: UnitPath::from_stored(path) },
                credit_code,
                active,
            });
        }
    }
    Ok(())
}

/// Credit codes of some units (those that have one).
pub async fn credit_codes(tx: &mut Tx, ids: &[UnitId]) -> Result<HashMap<UnitId, String>> {
    let mut ids: Vec<Uuid> = ids.iter().map(|u| u.0).collect();
    ids.sort();
    ids.dedup();
    let mut out = HashMap::new();
    for chunk in ids.chunks(in_list_chunk(tx.engine())) {
        let mut args = Args::default();
        let list = args.list(chunk.iter().map(|u| P::Uuid(*u)));
        let sql = format!("SELECT id, credit_code FROM unit WHERE id IN ({list}) AND credit_code IS NOT NULL");
        let rows: Vec<(Uuid, String)> = run!(tx, |c| bind_all!(sqlx::query_as(&sql), args).fetch_all(&mut *c).await?);
        out.extend(rows.into_iter().map(|(id, code)| (UnitId(id), code)));
    }
    Ok(out)
}

/// Takes `n` (≥ 1) numbers of a named counter at once and returns the
/// first; the numbers are `first ..= first + n - 1`.
pub async fn next_numbers(tx: &mut Tx, name: &str, n: i64) -> Result<i64> {
    let sql = "INSERT INTO number_counter (name, value) VALUES ($1, $2) \
               ON CONFLICT (name) DO UPDATE SET value = number_counter.value + $2 RETURNING value";
    let last: i64 = run!(tx, |c| sqlx::query_scalar(sql).bind(name).bind(n).fetch_one(&mut *c).await?);
    Ok(last - n + 1)
}

/// Writes events of hazards just inserted (each the hazard's first, so the
/// caller sets `seq`), many rows per statement.
pub async fn insert_events(tx: &mut Tx, events: &[HazardEvent]) -> Result<()> {
    // 12 parameters a row: ~600 a statement on SQLite (see `in_list_chunk`).
    let rows_per_statement = match tx.engine() {
        Engine::Sqlite => 50,
        Engine::Postgres => 200,
    };
    for chunk in events.chunks(rows_per_statement) {
        let mut args = Args::default();
        let mut rows = Vec::with_capacity(chunk.len());
        for e in chunk {
            let vals = [
                P::Uuid(e.id.0),
                P::Uuid(e.hazard_id.0),
                P::Int(i64::from(e.seq)),
                P::Ts(Ts(e.at)),
                P::OUuid(e.actor_user_id.map(|u| u.0)),
                P::Text(e.actor_name.clone()),
                P::OUuid(e.actor_unit_id.map(|u| u.0)),
                P::Text(e.action.clone()),
                P::OText(e.from_state.map(|s| s.as_str().to_string())),
                P::Text(e.to_state.as_str().to_string()),
                P::OText(e.comment.clone()),
                P::Text(to_json(&e.data)?),
            ];
            rows.push(format!("({})", args.list(vals)));
        }
        let sql = format!(
            "INSERT INTO hazard_event (id, hazard_id, seq, at, actor_user_id, actor_name, actor_unit_id, action, from_state, to_state, \
             comment, data_json) VALUES {}",
            rows.join(", ")
        );
        run!(tx, |c| bind_all!(sqlx::query(&sql), args).execute(&mut *c).await?.rows_affected());
    }
    Ok(())
}
