//! Building the district: units and users through the service, enterprises
//! through the store in one transaction, hazards and their timelines by
//! batched multi-row INSERTs that write exactly the rows the application
//! writes (same columns, same encodings, the search index filled).

use crate::dataset::{self, Firm, GenHazard, Generator, TownRefs, SECTORS};
use anyhow::{anyhow, Context, Result};
use bihuan_domain::hazard::*;
use bihuan_domain::ids::*;
use bihuan_domain::model::Unit;
use bihuan_domain::unit::UnitDraft;
use bihuan_service::accounts::NewUser;
use bihuan_service::{Ctx, Service};
use bihuan_store::{Db, Ts, Tx};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

pub const PASSWORD: &str = "bench-pass-2023";
pub const ADMIN_PASSWORD: &str = "bench-admin-2023";

/// What the measurements need to know about a built dataset (kept beside
/// the database for reruns).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    pub hazards: usize,
    pub enterprises: usize,
    pub seed: u64,
    pub district_id: Uuid,
    pub towns: Vec<TownMeta>,
    pub areas: Vec<(String, Uuid)>,
    pub campaign_id: Uuid,
    pub events: usize,
    pub listings: usize,
    pub load_seconds: f64,
    pub units_seconds: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TownMeta {
    pub id: Uuid,
    pub name: String,
    pub path: String,
    pub office_id: Uuid,
    pub office_user: String,
    /// Some of the town's enterprises, for new hazards.
    pub firms: Vec<FirmMeta>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FirmMeta {
    pub id: Uuid,
    pub name: String,
    pub path: String,
    pub sector: usize,
}

fn draft(name: &str, kind: &str) -> UnitDraft {
    UnitDraft { name: name.into(), kind: Some(kind.into()), ..Default::default() }
}

fn uref(u: &Unit) -> UnitRef {
    UnitRef { id: u.id, name: u.name.clone(), short_name: u.short_name.clone(), path: u.path.clone() }
}

/// Builds the district and loads `n_hazards` hazards.
pub async fn build(svc: &Service, n_hazards: usize, n_firms: usize, seed: u64, now: OffsetDateTime) -> Result<Meta> {
    let ctx = Ctx::system("bench");
    let t0 = Instant::now();
    svc.first_start(Some(ADMIN_PASSWORD)).await.map_err(|e| anyhow!("first start: {e}"))?;
    let campaign = svc.campaign_id_by_code("nanxiang-2020").await.map_err(|e| anyhow!("{e}"))?.ok_or_else(|| anyhow!("no bundled campaign"))?;
    let areas: Vec<(String, AreaId)> = {
        let mut tx = svc.db.read().await?;
        let a = bihuan_store::campaigns::areas(&mut tx, campaign).await?;
        tx.commit().await?;
        a.into_iter().map(|a| (a.code, a.id)).collect()
    };
    let e = |e: bihuan_domain::DomainError| anyhow!("{e}");
    let district = svc.create_unit(&ctx, None, &draft("嘉定区人民政府（基准测试）", "government")).await.map_err(e)?;
    let mut towns = Vec::new();
    let mut grids: Vec<(usize, Unit)> = Vec::new();
    for (ti, name) in dataset::TOWNS.iter().enumerate() {
        let gov = svc.create_unit(&ctx, Some(district.id), &draft(&format!("{name}人民政府"), "government")).await.map_err(e)?;
        let office = svc.create_unit(&ctx, Some(gov.id), &draft(&format!("{name}安委办"), "office")).await.map_err(e)?;
        for vi in 0..30 {
            let mut d = draft(&dataset::village_name(vi + ti * 3), "locality");
            d.locality_kind = Some("village".into());
            let v = svc.create_unit(&ctx, Some(gov.id), &d).await.map_err(e)?;
            let g = svc.create_unit(&ctx, Some(v.id), &draft(&format!("{}第一网格", v.name), "grid")).await.map_err(e)?;
            grids.push((ti, g));
        }
        let username = format!("office-{:02}", ti + 1);
        svc.create_user(
            &ctx,
            &NewUser {
                username: username.clone(),
                display_name: format!("{name}安委办"),
                unit_id: office.id.to_string(),
                role: "office".into(),
                password: PASSWORD.into(),
                ..Default::default()
            },
        )
        .await
        .map_err(e)?;
        towns.push((gov, office, username));
    }
    // Enterprises: through the store, in one transaction, without audit entries.
    let mut rng = dataset::Rng::new(seed ^ 0xE0E0);
    let sector_w: Vec<f64> = SECTORS.iter().map(|s| s.weight).collect();
    let mut firms: Vec<Firm> = Vec::with_capacity(n_firms);
    let mut per_town = vec![0usize; towns.len()];
    let mut tx = svc.db.begin().await?;
    for i in 0..n_firms {
        let Some((ti, grid)) = grids.get(rng.below(grids.len())) else { continue };
        let sector_i = rng.weighted(&sector_w);
        let Some(sector) = SECTORS.get(sector_i) else { continue };
        let Some((gov, _, _)) = towns.get(*ti) else { continue };
        let k = per_town.get(*ti).copied().unwrap_or(0);
        if let Some(c) = per_town.get_mut(*ti) {
            *c += 1;
        }
        let town_name = dataset::TOWNS.get(*ti).copied().unwrap_or("");
        let d = UnitDraft {
            name: dataset::firm_name(town_name, sector, k * SECTORS.len() + sector_i),
            kind: Some("enterprise".into()),
            credit_code: bihuan_domain::credit_code::complete("91310114", &format!("MA{i:06}")).map(|c| c.to_string()),
            address: Some(format!("{}{}路{}号", town_name, dataset::village_name(i % 40).trim_end_matches('村'), 1 + i % 999)),
            industry: Some(sector.industry.into()),
            scale: Some(if rng.chance(0.25) { "above_threshold" } else { "below_threshold" }.into()),
            flags: sector.flags.iter().filter(|_| rng.chance(0.7)).map(|f| f.to_string()).collect(),
            legal_representative: Some(dataset::person(&mut rng)),
            principal: Some(dataset::person(&mut rng)),
            principal_phone: Some(dataset::phone(&mut rng)),
            longitude: Some(121.1 + rng.unit() * 0.3),
            latitude: Some(31.2 + rng.unit() * 0.2),
            ..Default::default()
        };
        let fields = d.validate().map_err(|e| anyhow!("enterprise {}: {e}", d.name))?;
        let id = UnitId::new();
        let unit = Unit::new(id, Some(grid.id), grid.path.child(id), fields, now);
        bihuan_store::units::insert(&mut tx, &unit).await?;
        firms.push(Firm { unit: uref(&unit), town: *ti, grid: uref(grid), sector: sector_i });
        let _ = gov;
    }
    tx.commit().await?;
    let units_seconds = t0.elapsed().as_secs_f64();
    println!("units: {} towns, {} grids, {} enterprises in {:.1} s", towns.len(), grids.len(), firms.len(), units_seconds);

    let town_refs: Vec<TownRefs> = towns.iter().map(|(g, o, _)| TownRefs { gov: uref(g), office: uref(o) }).collect();
    let t1 = Instant::now();
    let (events, listings) = load_hazards(&svc.db, n_hazards, seed, firms.clone(), town_refs, uref(&district), areas.clone(), campaign, now).await?;
    let load_seconds = t1.elapsed().as_secs_f64();
    let town_meta = towns
        .iter()
        .enumerate()
        .map(|(ti, (g, o, user))| TownMeta {
            id: g.id.0,
            name: g.name.clone(),
            path: g.path.as_str().to_string(),
            office_id: o.id.0,
            office_user: user.clone(),
            firms: firms
                .iter()
                .filter(|f| f.town == ti)
                .take(300)
                .map(|f| FirmMeta { id: f.unit.id.0, name: f.unit.name.clone(), path: f.unit.path.as_str().to_string(), sector: f.sector })
                .collect(),
        })
        .collect();
    Ok(Meta {
        hazards: n_hazards,
        enterprises: n_firms,
        seed,
        district_id: district.id.0,
        towns: town_meta,
        areas: areas.into_iter().map(|(c, a)| (c, a.0)).collect(),
        campaign_id: campaign.0,
        events,
        listings,
        load_seconds,
        units_seconds,
    })
}

/// Column list of `hazard`, in the order of `bihuan_store::hazards`.
pub const COLUMNS: &str = "id, num, code, campaign_id, area_id, unit_id, unit_path, name, description, location, hazard_type, source, \
    check_kind, level, sub_grade, manage_type, cause, cause_class, measures, funds, contingency, responsible_unit_id, responsible_person, \
    responsible_phone, deadline, deadline_rule, found_at, found_by, found_by_user_id, found_by_unit_id, assigned_by_unit_id, \
    accepting_unit_id, state, major_report_json, plan_json, rectification, submitted_at, accepted_by, closed_at, acceptance_comment, \
    dismiss_reason, duplicate_of, listed, created_at, updated_at, version";
pub const N_COLUMNS: usize = 46;

/// A hazard as bound parameters, encoded as `bihuan_store::hazards::insert` encodes it.
pub struct HazRow {
    pub id: Uuid,
    pub num: i64,
    pub code: String,
    pub campaign_id: Option<Uuid>,
    pub area_id: Option<Uuid>,
    pub unit_id: Uuid,
    pub unit_path: String,
    pub name: String,
    pub description: String,
    pub location: Option<String>,
    pub hazard_type: &'static str,
    pub source: &'static str,
    pub check_kind: &'static str,
    pub level: &'static str,
    pub sub_grade: Option<String>,
    pub manage_type: &'static str,
    pub cause: Option<String>,
    pub cause_class: Option<&'static str>,
    pub measures: Option<String>,
    pub funds: Option<String>,
    pub contingency: Option<String>,
    pub responsible_unit_id: Option<Uuid>,
    pub responsible_person: Option<String>,
    pub responsible_phone: Option<String>,
    pub deadline: Option<Date>,
    pub deadline_rule: Option<String>,
    pub found_at: Ts,
    pub found_by: String,
    pub found_by_user_id: Option<Uuid>,
    pub found_by_unit_id: Uuid,
    pub assigned_by_unit_id: Option<Uuid>,
    pub accepting_unit_id: Option<Uuid>,
    pub state: &'static str,
    pub major_report_json: Option<String>,
    pub plan_json: Option<String>,
    pub rectification: Option<String>,
    pub submitted_at: Option<Ts>,
    pub accepted_by: Option<String>,
    pub closed_at: Option<Ts>,
    pub acceptance_comment: Option<String>,
    pub dismiss_reason: Option<&'static str>,
    pub duplicate_of: Option<Uuid>,
    pub listed: bool,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub version: i64,
    /// The search tokens (`bihuan_domain::text::search_tokens` of code,
    /// name, description, location and unit name).
    pub tokens: Vec<String>,
}

fn json<T: Serialize>(v: &T) -> Option<String> {
    serde_json::to_string(v).ok()
}

impl HazRow {
    pub fn of(h: &Hazard) -> HazRow {
        let text = [Some(h.code.as_str()), Some(&h.name), Some(&h.description), h.location.as_deref(), Some(&h.unit.name)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        HazRow {
            id: h.id.0,
            num: h.num,
            code: h.code.clone(),
            campaign_id: h.campaign_id.map(|c| c.0),
            area_id: h.area_id.map(|a| a.0),
            unit_id: h.unit.id.0,
            unit_path: h.unit.path.as_str().to_string(),
            name: h.name.clone(),
            description: h.description.clone(),
            location: h.location.clone(),
            hazard_type: h.hazard_type.as_str(),
            source: h.source.as_str(),
            check_kind: h.check_kind.as_str(),
            level: h.level.as_str(),
            sub_grade: h.sub_grade.clone(),
            manage_type: h.manage_type.as_str(),
            cause: h.cause.clone(),
            cause_class: h.cause_class.map(|c| c.as_str()),
            measures: h.measures.clone(),
            funds: h.funds.map(|f| f.normalize().to_string()),
            contingency: h.contingency.clone(),
            responsible_unit_id: h.responsible_unit.as_ref().map(|u| u.id.0),
            responsible_person: h.responsible_person.clone(),
            responsible_phone: h.responsible_phone.clone(),
            deadline: h.deadline,
            deadline_rule: h.deadline_rule.as_ref().and_then(json),
            found_at: Ts(h.found_at),
            found_by: h.found_by.clone(),
            found_by_user_id: h.found_by_user.map(|u| u.0),
            found_by_unit_id: h.found_by_unit.id.0,
            assigned_by_unit_id: h.assigned_by_unit.as_ref().map(|u| u.id.0),
            accepting_unit_id: h.accepting_unit.as_ref().map(|u| u.id.0),
            state: h.state.as_str(),
            major_report_json: h.major_report.as_ref().and_then(json),
            plan_json: h.plan.as_ref().and_then(json),
            rectification: h.rectification.clone(),
            submitted_at: h.submitted_at.map(Ts),
            accepted_by: h.accepted_by.clone(),
            closed_at: h.closed_at.map(Ts),
            acceptance_comment: h.acceptance_comment.clone(),
            dismiss_reason: h.dismiss_reason.map(|d| d.as_str()),
            duplicate_of: h.duplicate_of.map(|d| d.0),
            listed: h.is_listed(),
            created_at: Ts(h.created_at),
            updated_at: Ts(h.updated_at),
            version: h.version,
            tokens: bihuan_domain::text::search_tokens(&text),
        }
    }

    /// The PostgreSQL `search` value, in the literal format of the store.
    pub fn tsvector(&self) -> String {
        self.tokens.iter().enumerate().map(|(i, t)| format!("'{}':{}", t.replace('\'', "''"), (i + 1).min(16383))).collect::<Vec<_>>().join(" ")
    }
}

/// Binds one [`HazRow`] (46 parameters) to a query of either engine.
macro_rules! bind_hazard {
    ($q:expr, $r:expr) => {{
        let r = $r;
        $q.bind(r.id).bind(r.num).bind(r.code.as_str()).bind(r.campaign_id).bind(r.area_id).bind(r.unit_id).bind(r.unit_path.as_str())
            .bind(r.name.as_str()).bind(r.description.as_str()).bind(r.location.as_deref()).bind(r.hazard_type).bind(r.source)
            .bind(r.check_kind).bind(r.level).bind(r.sub_grade.as_deref()).bind(r.manage_type).bind(r.cause.as_deref()).bind(r.cause_class)
            .bind(r.measures.as_deref()).bind(r.funds.as_deref()).bind(r.contingency.as_deref()).bind(r.responsible_unit_id)
            .bind(r.responsible_person.as_deref()).bind(r.responsible_phone.as_deref()).bind(r.deadline).bind(r.deadline_rule.as_deref())
            .bind(r.found_at).bind(r.found_by.as_str()).bind(r.found_by_user_id).bind(r.found_by_unit_id).bind(r.assigned_by_unit_id)
            .bind(r.accepting_unit_id).bind(r.state).bind(r.major_report_json.as_deref()).bind(r.plan_json.as_deref())
            .bind(r.rectification.as_deref()).bind(r.submitted_at).bind(r.accepted_by.as_deref()).bind(r.closed_at)
            .bind(r.acceptance_comment.as_deref()).bind(r.dismiss_reason).bind(r.duplicate_of).bind(r.listed).bind(r.created_at)
            .bind(r.updated_at).bind(r.version)
    }};
}

pub struct EventRow {
    pub id: Uuid,
    pub hazard_id: Uuid,
    pub seq: i32,
    pub at: Ts,
    pub actor_user_id: Option<Uuid>,
    pub actor_name: String,
    pub actor_unit_id: Option<Uuid>,
    pub action: String,
    pub from_state: Option<&'static str>,
    pub to_state: &'static str,
    pub comment: Option<String>,
    pub data_json: String,
}

impl EventRow {
    pub fn of(e: &HazardEvent) -> EventRow {
        EventRow {
            id: e.id.0,
            hazard_id: e.hazard_id.0,
            seq: e.seq,
            at: Ts(e.at),
            actor_user_id: e.actor_user_id.map(|u| u.0),
            actor_name: e.actor_name.clone(),
            actor_unit_id: e.actor_unit_id.map(|u| u.0),
            action: e.action.clone(),
            from_state: e.from_state.map(|s| s.as_str()),
            to_state: e.to_state.as_str(),
            comment: e.comment.clone(),
            data_json: serde_json::to_string(&e.data).unwrap_or_else(|_| "null".into()),
        }
    }
}

pub const EVENT_COLUMNS: &str = "id, hazard_id, seq, at, actor_user_id, actor_name, actor_unit_id, action, from_state, to_state, comment, data_json";

macro_rules! bind_event {
    ($q:expr, $r:expr) => {{
        let r = $r;
        $q.bind(r.id).bind(r.hazard_id).bind(r.seq).bind(r.at).bind(r.actor_user_id).bind(r.actor_name.as_str()).bind(r.actor_unit_id)
            .bind(r.action.as_str()).bind(r.from_state).bind(r.to_state).bind(r.comment.as_deref()).bind(r.data_json.as_str())
    }};
}

struct ListingRow {
    id: Uuid,
    hazard_id: Uuid,
    level: &'static str,
    supervising_unit_id: Uuid,
    document_number: String,
    listed_on: Date,
    required_by: Date,
    signatory: String,
    requirements: Option<String>,
    lifted_on: Option<Date>,
    created_at: Ts,
}

/// `($1, $2, …), (…)` for `rows` rows of `cols` parameters; `wrap` may
/// rewrite a placeholder by its column index.
pub fn values(rows: usize, cols: usize, wrap: impl Fn(usize, String) -> String) -> String {
    let mut s = String::with_capacity(rows * cols * 6);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            n += 1;
            if c > 0 {
                s.push_str(", ");
            }
            s.push_str(&wrap(c, format!("${n}")));
        }
        s.push(')');
    }
    s
}

/// Inserts hazards (with their search entries), events and listings in `tx`.
pub async fn insert_batch(tx: &mut Tx, hz: &[HazRow], ev: &[EventRow], li: &[ListingRowPub]) -> Result<()> {
    // sqlx looks up every `$n` of a SQLite statement by name
    // (sqlite3_bind_parameter_name, linear in the parameter count), so
    // binding is quadratic in the statement's size: small statements there.
    let (hz_rows, ev_rows, li_rows) = match tx {
        Tx::Sqlite(_) => (16, 64, 64),
        Tx::Postgres(_) => (400, 2000, 1000),
    };
    for chunk in hz.chunks(hz_rows) {
        match tx {
            Tx::Sqlite(t) => {
                let sql = format!("INSERT INTO hazard ({COLUMNS}) VALUES {}", values(chunk.len(), N_COLUMNS, |_, p| p));
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = bind_hazard!(q, r);
                }
                q.execute(&mut **t).await.context("insert hazards")?;
                let sql = format!("INSERT INTO hazard_search (rowid, tokens) VALUES {}", values(chunk.len(), 2, |_, p| p));
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q.bind(r.num).bind(r.tokens.join(" "));
                }
                q.execute(&mut **t).await.context("insert search rows")?;
            }
            Tx::Postgres(t) => {
                let sql = format!(
                    "INSERT INTO hazard ({COLUMNS}, search) VALUES {}",
                    values(chunk.len(), N_COLUMNS + 1, |c, p| if c == N_COLUMNS { format!("CAST({p} AS tsvector)") } else { p })
                );
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = bind_hazard!(q, r).bind(r.tsvector());
                }
                q.execute(&mut **t).await.context("insert hazards")?;
            }
        }
    }
    for chunk in ev.chunks(ev_rows) {
        let sql = format!("INSERT INTO hazard_event ({EVENT_COLUMNS}) VALUES {}", values(chunk.len(), 12, |_, p| p));
        match tx {
            Tx::Sqlite(t) => {
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = bind_event!(q, r);
                }
                q.execute(&mut **t).await.context("insert events")?;
            }
            Tx::Postgres(t) => {
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = bind_event!(q, r);
                }
                q.execute(&mut **t).await.context("insert events")?;
            }
        }
    }
    for chunk in li.chunks(li_rows) {
        let sql = format!(
            "INSERT INTO hazard_listing (id, hazard_id, level, supervising_unit_id, document_number, listed_on, required_by, signatory, \
             requirements, lifted_on, created_at) VALUES {}",
            values(chunk.len(), 11, |_, p| p)
        );
        macro_rules! bind_listing {
            ($q:expr, $r:expr) => {{
                let r = &$r.0;
                $q.bind(r.id).bind(r.hazard_id).bind(r.level).bind(r.supervising_unit_id).bind(r.document_number.as_str()).bind(r.listed_on)
                    .bind(r.required_by).bind(r.signatory.as_str()).bind(r.requirements.as_deref()).bind(r.lifted_on).bind(r.created_at)
            }};
        }
        match tx {
            Tx::Sqlite(t) => {
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = bind_listing!(q, r);
                }
                q.execute(&mut **t).await.context("insert listings")?;
            }
            Tx::Postgres(t) => {
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = bind_listing!(q, r);
                }
                q.execute(&mut **t).await.context("insert listings")?;
            }
        }
    }
    Ok(())
}

/// A listing row (opaque outside this module).
pub struct ListingRowPub(ListingRow);

pub fn rows_of(batch: &[GenHazard]) -> (Vec<HazRow>, Vec<EventRow>, Vec<ListingRowPub>) {
    let mut hz = Vec::with_capacity(batch.len());
    let mut ev = Vec::with_capacity(batch.len() * 5);
    let mut li = Vec::new();
    for g in batch {
        hz.push(HazRow::of(&g.hazard));
        ev.extend(g.events.iter().map(EventRow::of));
        for l in &g.listings {
            let created = g.events.iter().find(|e| e.action == "list").map(|e| e.at).unwrap_or(g.hazard.found_at);
            li.push(ListingRowPub(ListingRow {
                id: Uuid::now_v7(),
                hazard_id: g.hazard.id.0,
                level: l.level.as_str(),
                supervising_unit_id: l.supervising_unit_id.0,
                document_number: l.document_number.clone(),
                listed_on: l.listed_on,
                required_by: l.required_by,
                signatory: l.signatory.clone(),
                requirements: l.requirements.clone(),
                lifted_on: l.lifted_on,
                created_at: Ts(created),
            }));
        }
    }
    (hz, ev, li)
}

/// The secondary indexes of the hazard tables, as their CREATE statements
/// (constraint indexes stay: they are needed for correctness while loading).
async fn secondary_indexes(db: &Db) -> Result<Vec<(String, String)>> {
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('hazard', 'hazard_event', 'hazard_listing') ORDER BY name",
        )
        .fetch_all(p)
        .await?,
        Db::Postgres(p) => sqlx::query_as(
            "SELECT i.indexname::text, i.indexdef::text FROM pg_indexes i WHERE i.schemaname = current_schema() \
             AND i.tablename IN ('hazard', 'hazard_event', 'hazard_listing') \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) ORDER BY 1",
        )
        .fetch_all(p)
        .await?,
    })
}

async fn exec(db: &Db, sql: &str) -> Result<()> {
    match db {
        Db::Sqlite(p) => sqlx::query(sql).execute(p).await.with_context(|| sql.to_string())?.rows_affected(),
        Db::Postgres(p) => sqlx::query(sql).execute(p).await.with_context(|| sql.to_string())?.rows_affected(),
    };
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn load_hazards(
    db: &Db,
    n: usize,
    seed: u64,
    firms: Vec<Firm>,
    towns: Vec<TownRefs>,
    district: UnitRef,
    areas: Vec<(String, AreaId)>,
    campaign: CampaignId,
    now: OffsetDateTime,
) -> Result<(usize, usize)> {
    let t0 = Instant::now();
    // Secondary indexes are dropped while loading and rebuilt from their own definitions after.
    let indexes = secondary_indexes(db).await?;
    for (name, _) in &indexes {
        exec(db, &format!("DROP INDEX {name}")).await?;
    }
    let (send, mut recv) = tokio::sync::mpsc::channel::<Vec<GenHazard>>(4);
    let producer = tokio::task::spawn_blocking(move || {
        let mut g = Generator::new(seed, &firms, &towns, district, areas, campaign, now);
        let plan = g.plan(n);
        let mut batch = Vec::with_capacity(2000);
        let mut prev = None;
        for (i, (at, state)) in plan.into_iter().enumerate() {
            let Some(h) = g.hazard(i as i64 + 1, at, state, prev) else { continue };
            prev = Some(h.hazard.id);
            batch.push(h);
            if batch.len() == 2000 && send.blocking_send(std::mem::take(&mut batch)).is_err() {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = send.blocking_send(batch);
        }
    });
    let (mut done, mut events, mut listings) = (0usize, 0usize, 0usize);
    let mut tx = db.begin().await?;
    let mut in_tx = 0;
    while let Some(batch) = recv.recv().await {
        let (hz, ev, li) = rows_of(&batch);
        insert_batch(&mut tx, &hz, &ev, &li).await?;
        done += hz.len();
        events += ev.len();
        listings += li.len();
        in_tx += hz.len();
        if in_tx >= 20_000 {
            tx.commit().await?;
            tx = db.begin().await?;
            in_tx = 0;
        }
        if done % 100_000 == 0 {
            println!("  {done} hazards, {events} events in {:.0} s", t0.elapsed().as_secs_f64());
        }
    }
    tx.commit().await?;
    producer.await?;
    let t_rows = t0.elapsed().as_secs_f64();
    exec(
        db,
        &format!(
            "INSERT INTO number_counter (name, value) VALUES ('hazard', {done}) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        ),
    )
    .await?;
    let t1 = Instant::now();
    for (_, def) in &indexes {
        exec(db, def).await?;
    }
    let t_idx = t1.elapsed().as_secs_f64();
    // The rows went in by plain SQL: compute the maintained counts as the
    // store does for a database from before them.
    let t_tally = Instant::now();
    let mut tx = db.begin().await?;
    bihuan_store::hazard_tally::rebuild(&mut tx).await?;
    tx.commit().await?;
    let t_tally = t_tally.elapsed().as_secs_f64();
    let t2 = Instant::now();
    // PostgreSQL: VACUUM too, so that index-only scans work at once (the
    // visibility map of freshly loaded tables is empty until autovacuum).
    exec(db, if matches!(db.engine(), bihuan_store::Engine::Postgres) { "VACUUM ANALYZE" } else { "ANALYZE" }).await?;
    println!(
        "hazards: {done} hazards, {events} events, {listings} listings: rows {t_rows:.0} s, {} indexes rebuilt {t_idx:.0} s, \
         counts (hazard_tally) {t_tally:.0} s, (VACUUM) ANALYZE {:.0} s",
        indexes.len(),
        t2.elapsed().as_secs_f64()
    );
    Ok((events, listings))
}
