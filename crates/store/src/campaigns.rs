//! Campaigns: the plan (phases, areas, tasks, indicators) and reported
//! indicator values.

use crate::{run, Result, StoreError, Ts, Tx};
#[allow(unused_imports)]
use crate::db::ts_opt;
use bihuan_domain::campaign::{AreaKind, Safeguard};
use bihuan_domain::ids::*;
use bihuan_domain::indicator::Comparator;
use bihuan_domain::model::{CampaignSummary, IndicatorValue, UnitRef};
use bihuan_domain::unit::{UnitKind, UnitPath};
use rust_decimal::Decimal;
use std::collections::HashMap;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// The campaign row.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignRow {
    pub id: CampaignId,
    pub code: String,
    pub title: String,
    pub document_number: Option<String>,
    pub issuer: Option<String>,
    pub signatory: Option<String>,
    pub issued_on: Option<Date>,
    pub starts_on: Date,
    pub ends_on: Date,
    pub owner_unit_id: UnitId,
    pub office_unit_id: Option<UnitId>,
    pub basis: Option<String>,
    pub general_requirements: Option<String>,
    pub main_tasks_preamble: Option<String>,
    pub schedule_notes: Option<String>,
    pub safeguards: Vec<Safeguard>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct CampaignDb {
    id: Uuid,
    code: String,
    title: String,
    document_number: Option<String>,
    issuer: Option<String>,
    signatory: Option<String>,
    issued_on: Option<Date>,
    starts_on: Date,
    ends_on: Date,
    owner_unit_id: Uuid,
    office_unit_id: Option<Uuid>,
    basis: Option<String>,
    general_requirements: Option<String>,
    main_tasks_preamble: Option<String>,
    schedule_notes: Option<String>,
    safeguards_json: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i64,
}

const CAMPAIGN_COLUMNS: &str = "id, code, title, document_number, issuer, signatory, issued_on, starts_on, ends_on, owner_unit_id, \
     office_unit_id, basis, general_requirements, main_tasks_preamble, schedule_notes, safeguards_json, created_at, updated_at, version";

impl TryFrom<CampaignDb> for CampaignRow {
    type Error = StoreError;
    fn try_from(r: CampaignDb) -> Result<Self> {
        Ok(CampaignRow {
            id: CampaignId(r.id),
            code: r.code,
            title: r.title,
            document_number: r.document_number,
            issuer: r.issuer,
            signatory: r.signatory,
            issued_on: r.issued_on,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            owner_unit_id: UnitId(r.owner_unit_id),
            office_unit_id: r.office_unit_id.map(UnitId),
            basis: r.basis,
            general_requirements: r.general_requirements,
            main_tasks_preamble: r.main_tasks_preamble,
            schedule_notes: r.schedule_notes,
            safeguards: serde_json::from_str(&r.safeguards_json).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

pub async fn upsert_campaign(tx: &mut Tx, c: &CampaignRow, insert: bool) -> Result<()> {
    let safeguards = serde_json::to_string(&c.safeguards).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let sql = if insert {
        format!(
            "INSERT INTO campaign ({CAMPAIGN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        )
    } else {
        "UPDATE campaign SET code = $2, title = $3, document_number = $4, issuer = $5, signatory = $6, issued_on = $7, starts_on = $8, \
         ends_on = $9, owner_unit_id = $10, office_unit_id = $11, basis = $12, general_requirements = $13, main_tasks_preamble = $14, \
         schedule_notes = $15, safeguards_json = $16, created_at = $17, updated_at = $18, version = $19 WHERE id = $1"
            .to_string()
    };
    run!(tx, |x| {
        sqlx::query(&sql)
            .bind(c.id.0)
            .bind(&c.code)
            .bind(&c.title)
            .bind(&c.document_number)
            .bind(&c.issuer)
            .bind(&c.signatory)
            .bind(c.issued_on)
            .bind(c.starts_on)
            .bind(c.ends_on)
            .bind(c.owner_unit_id.0)
            .bind(c.office_unit_id.map(|u| u.0))
            .bind(&c.basis)
            .bind(&c.general_requirements)
            .bind(&c.main_tasks_preamble)
            .bind(&c.schedule_notes)
            .bind(&safeguards)
            .bind(Ts(c.created_at))
            .bind(Ts(c.updated_at))
            .bind(c.version)
            .execute(&mut *x).await?.rows_affected()
    });
    Ok(())
}

pub async fn get(tx: &mut Tx, id: CampaignId) -> Result<Option<CampaignRow>> {
    let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaign WHERE id = $1");
    let r: Option<CampaignDb> = run!(tx, |c| sqlx::query_as(&sql).bind(id.0).fetch_optional(&mut *c).await?);
    r.map(CampaignRow::try_from).transpose()
}

pub async fn get_by_code(tx: &mut Tx, code: &str) -> Result<Option<CampaignRow>> {
    let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaign WHERE code = $1");
    let r: Option<CampaignDb> = run!(tx, |c| sqlx::query_as(&sql).bind(code).fetch_optional(&mut *c).await?);
    r.map(CampaignRow::try_from).transpose()
}

/// Every campaign with its owner's path, newest first.
pub async fn list(tx: &mut Tx) -> Result<Vec<CampaignSummary>> {
    let sql = "SELECT c.id, c.code, c.title, c.document_number, c.issued_on, c.starts_on, c.ends_on, c.owner_unit_id, u.path \
               FROM campaign c JOIN unit u ON u.id = c.owner_unit_id ORDER BY c.starts_on DESC, c.code";
    #[allow(clippy::type_complexity)]
    let rows: Vec<(Uuid, String, String, Option<String>, Option<Date>, Date, Date, Uuid, String)> =
        run!(tx, |c| sqlx::query_as(sql).fetch_all(&mut *c).await?);
    Ok(rows
        .into_iter()
        .map(|r| CampaignSummary {
            id: CampaignId(r.0),
            code: r.1,
            title: r.2,
            document_number: r.3,
            issued_on: r.4,
            starts_on: r.5,
            ends_on: r.6,
            owner_unit_id: UnitId(r.7),
            owner_path: UnitPath::from_stored(r.8),
        })
        .collect())
}

pub async fn count(tx: &mut Tx) -> Result<i64> {
    Ok(run!(tx, |c| sqlx::query_scalar("SELECT COUNT(*) FROM campaign").fetch_one(&mut *c).await?))
}

// ------------------------------------------------------------ plan parts

/// Removes the parts of a plan that an import rewrites whole: unit keys,
/// posts, phases, tasks and lead-unit links. Areas and indicators are kept
/// and updated by code, so reported values stay attached.
pub async fn clear_plan_parts(tx: &mut Tx, campaign: CampaignId) -> Result<()> {
    let statements = [
        "DELETE FROM campaign_unit WHERE campaign_id = $1",
        "DELETE FROM campaign_post WHERE campaign_id = $1",
        "DELETE FROM phase WHERE campaign_id = $1",
        "DELETE FROM task WHERE area_id IN (SELECT id FROM area WHERE campaign_id = $1)",
        "DELETE FROM area_lead WHERE area_id IN (SELECT id FROM area WHERE campaign_id = $1)",
        "DELETE FROM indicator_lead WHERE indicator_id IN (SELECT id FROM indicator WHERE campaign_id = $1)",
    ];
    for sql in statements {
        run!(tx, |c| sqlx::query(sql).bind(campaign.0).execute(&mut *c).await?.rows_affected());
    }
    Ok(())
}

pub async fn insert_campaign_unit(tx: &mut Tx, campaign: CampaignId, key: &str, unit: UnitId, seq: i32) -> Result<()> {
    let sql = "INSERT INTO campaign_unit (campaign_id, unit_key, unit_id, seq) VALUES ($1, $2, $3, $4)";
    run!(tx, |c| sqlx::query(sql).bind(campaign.0).bind(key).bind(unit.0).bind(seq).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Unit keys of a campaign file with the unit they name, in file order:
/// `(key, unit, kind, parent key, duties)`.
pub async fn campaign_units(tx: &mut Tx, campaign: CampaignId) -> Result<Vec<(String, UnitRef, UnitKind, Option<UnitId>, Option<String>)>> {
    let sql = "SELECT cu.unit_key, u.id, u.name, u.short_name, u.path, u.kind, u.parent_id, u.duties FROM campaign_unit cu \
               JOIN unit u ON u.id = cu.unit_id WHERE cu.campaign_id = $1 ORDER BY cu.seq";
    #[allow(clippy::type_complexity)]
    let rows: Vec<(String, Uuid, String, Option<String>, String, String, Option<Uuid>, Option<String>)> =
        run!(tx, |c| sqlx::query_as(sql).bind(campaign.0).fetch_all(&mut *c).await?);
    rows.into_iter()
        .map(|r| {
            let kind = UnitKind::parse(&r.5).ok_or_else(|| StoreError::Corrupt(format!("unit kind {}", r.5)))?;
            Ok((
                r.0,
                UnitRef { id: UnitId(r.1), name: r.2, short_name: r.3, path: UnitPath::from_stored(r.4) },
                kind,
                r.6.map(UnitId),
                r.7,
            ))
        })
        .collect()
}

pub struct PostRow {
    pub unit_id: UnitId,
    pub title: String,
    pub holder: Option<String>,
    pub note: Option<String>,
}

pub async fn insert_post(tx: &mut Tx, campaign: CampaignId, seq: i32, p: &PostRow) -> Result<()> {
    let sql = "INSERT INTO campaign_post (id, campaign_id, seq, unit_id, title, holder, note) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    run!(tx, |c| {
        sqlx::query(sql)
            .bind(PostId::new().0)
            .bind(campaign.0)
            .bind(seq)
            .bind(p.unit_id.0)
            .bind(&p.title)
            .bind(&p.holder)
            .bind(&p.note)
            .execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

pub async fn posts(tx: &mut Tx, campaign: CampaignId) -> Result<Vec<(UnitRef, String, Option<String>, Option<String>)>> {
    let sql = "SELECT u.id, u.name, u.short_name, u.path, p.title, p.holder, p.note FROM campaign_post p JOIN unit u ON u.id = p.unit_id \
               WHERE p.campaign_id = $1 ORDER BY p.seq";
    #[allow(clippy::type_complexity)]
    let rows: Vec<(Uuid, String, Option<String>, String, String, Option<String>, Option<String>)> =
        run!(tx, |c| sqlx::query_as(sql).bind(campaign.0).fetch_all(&mut *c).await?);
    Ok(rows
        .into_iter()
        .map(|r| (UnitRef { id: UnitId(r.0), name: r.1, short_name: r.2, path: UnitPath::from_stored(r.3) }, r.4, r.5, r.6))
        .collect())
}

pub async fn insert_phase(
    tx: &mut Tx,
    campaign: CampaignId,
    seq: i32,
    name: &str,
    starts_on: Date,
    ends_on: Date,
    aims: &str,
) -> Result<()> {
    let sql = "INSERT INTO phase (id, campaign_id, seq, name, starts_on, ends_on, aims) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    run!(tx, |c| {
        sqlx::query(sql)
            .bind(PhaseId::new().0)
            .bind(campaign.0)
            .bind(seq)
            .bind(name)
            .bind(starts_on)
            .bind(ends_on)
            .bind(aims)
            .execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

pub async fn phases(tx: &mut Tx, campaign: CampaignId) -> Result<Vec<(PhaseId, i32, String, Date, Date, String)>> {
    let sql = "SELECT id, seq, name, starts_on, ends_on, aims FROM phase WHERE campaign_id = $1 ORDER BY seq";
    let rows: Vec<(Uuid, i32, String, Date, Date, String)> =
        run!(tx, |c| sqlx::query_as(sql).bind(campaign.0).fetch_all(&mut *c).await?);
    Ok(rows.into_iter().map(|r| (PhaseId(r.0), r.1, r.2, r.3, r.4, r.5)).collect())
}

#[derive(Clone, Debug, PartialEq)]
pub struct AreaRow {
    pub id: AreaId,
    pub campaign_id: CampaignId,
    pub seq: i32,
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: AreaKind,
    pub note: Option<String>,
}

pub async fn upsert_area(tx: &mut Tx, a: &AreaRow, insert: bool) -> Result<()> {
    let sql = if insert {
        "INSERT INTO area (id, campaign_id, seq, code, name, short_name, kind, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    } else {
        "UPDATE area SET campaign_id = $2, seq = $3, code = $4, name = $5, short_name = $6, kind = $7, note = $8 WHERE id = $1"
    };
    run!(tx, |c| {
        sqlx::query(sql)
            .bind(a.id.0)
            .bind(a.campaign_id.0)
            .bind(a.seq)
            .bind(&a.code)
            .bind(&a.name)
            .bind(&a.short_name)
            .bind(a.kind.as_str())
            .bind(&a.note)
            .execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

pub async fn delete_area(tx: &mut Tx, id: AreaId) -> Result<()> {
    run!(tx, |c| sqlx::query("DELETE FROM area WHERE id = $1").bind(id.0).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn areas(tx: &mut Tx, campaign: CampaignId) -> Result<Vec<AreaRow>> {
    let sql = "SELECT id, seq, code, name, short_name, kind, note FROM area WHERE campaign_id = $1 ORDER BY seq";
    #[allow(clippy::type_complexity)]
    let rows: Vec<(Uuid, i32, String, String, Option<String>, String, Option<String>)> =
        run!(tx, |c| sqlx::query_as(sql).bind(campaign.0).fetch_all(&mut *c).await?);
    rows.into_iter()
        .map(|r| {
            Ok(AreaRow {
                id: AreaId(r.0),
                campaign_id: campaign,
                seq: r.1,
                code: r.2,
                name: r.3,
                short_name: r.4,
                kind: AreaKind::parse(&r.5).ok_or_else(|| StoreError::Corrupt(format!("area kind {}", r.5)))?,
                note: r.6,
            })
        })
        .collect()
}

pub async fn insert_area_lead(tx: &mut Tx, area: AreaId, unit: UnitId, seq: i32) -> Result<()> {
    let sql = "INSERT INTO area_lead (area_id, unit_id, seq) VALUES ($1, $2, $3)";
    run!(tx, |c| sqlx::query(sql).bind(area.0).bind(unit.0).bind(seq).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Lead units of every area of a campaign: `(area, unit)` in order.
pub async fn area_leads(tx: &mut Tx, campaign: CampaignId) -> Result<Vec<(AreaId, UnitRef)>> {
    let sql = "SELECT l.area_id, u.id, u.name, u.short_name, u.path FROM area_lead l JOIN area a ON a.id = l.area_id \
               JOIN unit u ON u.id = l.unit_id WHERE a.campaign_id = $1 ORDER BY a.seq, l.seq";
    #[allow(clippy::type_complexity)]
    let rows: Vec<(Uuid, Uuid, String, Option<String>, String)> =
        run!(tx, |c| sqlx::query_as(sql).bind(campaign.0).fetch_all(&mut *c).await?);
    Ok(rows
        .into_iter()
        .map(|r| (AreaId(r.0), UnitRef { id: UnitId(r.1), name: r.2, short_name: r.3, path: UnitPath::from_stored(r.4) }))
        .collect())
}

/// Areas (of any campaign) that a unit leads.
pub async fn areas_led_by(tx: &mut Tx, unit: UnitId) -> Result<Vec<AreaId>> {
    let ids: Vec<Uuid> =
        run!(tx, |c| sqlx::query_scalar("SELECT area_id FROM area_lead WHERE unit_id = $1").bind(unit.0).fetch_all(&mut *c).await?);
    Ok(ids.into_iter().map(AreaId).collect())
}

pub async fn insert_task(tx: &mut Tx, area: AreaId, seq: i32, label: &str, group: Option<&str>, text: &str) -> Result<()> {
    let sql = "INSERT INTO task (id, area_id, seq, label, task_group, body) VALUES ($1, $2, $3, $4, $5, $6)";
    run!(tx, |c| {
        sqlx::query(sql).bind(TaskId::new().0).bind(area.0).bind(seq).bind(label).bind(group).bind(text).execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

/// Tasks of every area of a campaign: `(area, task id, seq, label, group, text)`.
#[allow(clippy::type_complexity)]
pub async fn tasks(tx: &mut Tx, campaign: CampaignId) -> Result<Vec<(AreaId, TaskId, i32, String, Option<String>, String)>> {
    let sql = "SELECT t.area_id, t.id, t.seq, t.label, t.task_group, t.body FROM task t JOIN area a ON a.id = t.area_id \
               WHERE a.campaign_id = $1 ORDER BY a.seq, t.seq";
    let rows: Vec<(Uuid, Uuid, i32, String, Option<String>, String)> =
        run!(tx, |c| sqlx::query_as(sql).bind(campaign.0).fetch_all(&mut *c).await?);
    Ok(rows.into_iter().map(|r| (AreaId(r.0), TaskId(r.1), r.2, r.3, r.4, r.5)).collect())
}

#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorRow {
    pub id: IndicatorId,
    pub campaign_id: CampaignId,
    pub area_id: AreaId,
    pub seq: i32,
    pub code: String,
    pub name: String,
    pub task_label: Option<String>,
    pub task_group: Option<String>,
    pub comparator: Comparator,
    pub target: Option<Decimal>,
    pub unit: Option<String>,
    pub deadline: Date,
    pub basis: String,
}

#[derive(sqlx::FromRow)]
struct IndicatorDb {
    id: Uuid,
    campaign_id: Uuid,
    area_id: Uuid,
    seq: i32,
    code: String,
    name: String,
    task_label: Option<String>,
    task_group: Option<String>,
    comparator: String,
    target: Option<String>,
    unit_label: Option<String>,
    deadline: Date,
    basis: String,
}

const INDICATOR_COLUMNS: &str =
    "id, campaign_id, area_id, seq, code, name, task_label, task_group, comparator, target, unit_label, deadline, basis";

impl TryFrom<IndicatorDb> for IndicatorRow {
    type Error = StoreError;
    fn try_from(r: IndicatorDb) -> Result<Self> {
        Ok(IndicatorRow {
            id: IndicatorId(r.id),
            campaign_id: CampaignId(r.campaign_id),
            area_id: AreaId(r.area_id),
            seq: r.seq,
            code: r.code,
            name: r.name,
            task_label: r.task_label,
            task_group: r.task_group,
            comparator: Comparator::parse(&r.comparator)
                .ok_or_else(|| StoreError::Corrupt(format!("comparator {}", r.comparator)))?,
            target: r.target.map(|t| t.parse().map_err(|_| StoreError::Corrupt(format!("target {t}")))).transpose()?,
            unit: r.unit_label,
            deadline: r.deadline,
            basis: r.basis,
        })
    }
}

pub async fn upsert_indicator(tx: &mut Tx, i: &IndicatorRow, insert: bool) -> Result<()> {
    let sql = if insert {
        format!("INSERT INTO indicator ({INDICATOR_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
    } else {
        "UPDATE indicator SET campaign_id = $2, area_id = $3, seq = $4, code = $5, name = $6, task_label = $7, task_group = $8, \
         comparator = $9, target = $10, unit_label = $11, deadline = $12, basis = $13 WHERE id = $1"
            .to_string()
    };
    run!(tx, |c| {
        sqlx::query(&sql)
            .bind(i.id.0)
            .bind(i.campaign_id.0)
            .bind(i.area_id.0)
            .bind(i.seq)
            .bind(&i.code)
            .bind(&i.name)
            .bind(&i.task_label)
            .bind(&i.task_group)
            .bind(i.comparator.as_str())
            .bind(i.target.map(|t| t.normalize().to_string()))
            .bind(&i.unit)
            .bind(i.deadline)
            .bind(&i.basis)
            .execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

pub async fn delete_indicator(tx: &mut Tx, id: IndicatorId) -> Result<()> {
    run!(tx, |c| sqlx::query("DELETE FROM indicator WHERE id = $1").bind(id.0).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn indicators(tx: &mut Tx, campaign: CampaignId) -> Result<Vec<IndicatorRow>> {
    let sql = format!("SELECT {INDICATOR_COLUMNS} FROM indicator WHERE campaign_id = $1 ORDER BY seq");
    let rows: Vec<IndicatorDb> = run!(tx, |c| sqlx::query_as(&sql).bind(campaign.0).fetch_all(&mut *c).await?);
    rows.into_iter().map(IndicatorRow::try_from).collect()
}

pub async fn indicator(tx: &mut Tx, id: IndicatorId) -> Result<Option<IndicatorRow>> {
    let sql = format!("SELECT {INDICATOR_COLUMNS} FROM indicator WHERE id = $1");
    let row: Option<IndicatorDb> = run!(tx, |c| sqlx::query_as(&sql).bind(id.0).fetch_optional(&mut *c).await?);
    row.map(IndicatorRow::try_from).transpose()
}

pub async fn insert_indicator_lead(tx: &mut Tx, indicator: IndicatorId, unit: UnitId, seq: i32) -> Result<()> {
    let sql = "INSERT INTO indicator_lead (indicator_id, unit_id, seq) VALUES ($1, $2, $3)";
    run!(tx, |c| sqlx::query(sql).bind(indicator.0).bind(unit.0).bind(seq).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Lead units of the indicators of a campaign (or of one indicator).
pub async fn indicator_leads(
    tx: &mut Tx,
    campaign: CampaignId,
    only: Option<IndicatorId>,
) -> Result<Vec<(IndicatorId, UnitRef)>> {
    let sql = "SELECT l.indicator_id, u.id, u.name, u.short_name, u.path FROM indicator_lead l JOIN indicator i ON i.id = l.indicator_id \
               JOIN unit u ON u.id = l.unit_id WHERE i.campaign_id = $1 AND ($2 IS NULL OR i.id = $2) ORDER BY i.seq, l.seq";
    #[allow(clippy::type_complexity)]
    let rows: Vec<(Uuid, Uuid, String, Option<String>, String)> =
        run!(tx, |c| sqlx::query_as(sql).bind(campaign.0).bind(only.map(|i| i.0)).fetch_all(&mut *c).await?);
    Ok(rows
        .into_iter()
        .map(|r| (IndicatorId(r.0), UnitRef { id: UnitId(r.1), name: r.2, short_name: r.3, path: UnitPath::from_stored(r.4) }))
        .collect())
}

pub async fn value_count(tx: &mut Tx, indicator: IndicatorId) -> Result<i64> {
    Ok(run!(tx, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM indicator_value WHERE indicator_id = $1").bind(indicator.0).fetch_one(&mut *c).await?
    }))
}

#[derive(sqlx::FromRow)]
struct ValueDb {
    id: Uuid,
    indicator_id: Uuid,
    value: String,
    measured_on: Date,
    reporting_unit_id: Uuid,
    unit_name: String,
    reported_by: Uuid,
    evidence: String,
    note: Option<String>,
    created_at: OffsetDateTime,
}

impl TryFrom<ValueDb> for IndicatorValue {
    type Error = StoreError;
    fn try_from(r: ValueDb) -> Result<Self> {
        Ok(IndicatorValue {
            id: IndicatorValueId(r.id),
            indicator_id: IndicatorId(r.indicator_id),
            value: r.value.parse().map_err(|_| StoreError::Corrupt(format!("value {}", r.value)))?,
            measured_on: r.measured_on,
            reporting_unit_id: UnitId(r.reporting_unit_id),
            reporting_unit_name: r.unit_name,
            reported_by: UserId(r.reported_by),
            evidence: r.evidence,
            note: r.note,
            created_at: r.created_at,
        })
    }
}

pub async fn insert_value(tx: &mut Tx, v: &IndicatorValue) -> Result<()> {
    let sql = "INSERT INTO indicator_value (id, indicator_id, value, measured_on, reporting_unit_id, reported_by, evidence, note, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    run!(tx, |c| {
        sqlx::query(sql)
            .bind(v.id.0)
            .bind(v.indicator_id.0)
            .bind(v.value.normalize().to_string())
            .bind(v.measured_on)
            .bind(v.reporting_unit_id.0)
            .bind(v.reported_by.0)
            .bind(&v.evidence)
            .bind(&v.note)
            .bind(Ts(v.created_at))
            .execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

const VALUE_SELECT: &str = "SELECT v.id, v.indicator_id, v.value, v.measured_on, v.reporting_unit_id, u.name AS unit_name, v.reported_by, \
                            v.evidence, v.note, v.created_at FROM indicator_value v JOIN unit u ON u.id = v.reporting_unit_id";

/// Values of one indicator, latest measurement first.
pub async fn values(tx: &mut Tx, indicator: IndicatorId) -> Result<Vec<IndicatorValue>> {
    let sql = format!("{VALUE_SELECT} WHERE v.indicator_id = $1 ORDER BY v.measured_on DESC, v.created_at DESC");
    let rows: Vec<ValueDb> = run!(tx, |c| sqlx::query_as(&sql).bind(indicator.0).fetch_all(&mut *c).await?);
    rows.into_iter().map(IndicatorValue::try_from).collect()
}

/// The latest value of each indicator of a campaign that has one.
pub async fn latest_values(tx: &mut Tx, campaign: CampaignId) -> Result<Vec<IndicatorValue>> {
    let sql = format!(
        "{VALUE_SELECT} JOIN indicator i ON i.id = v.indicator_id WHERE i.campaign_id = $1 \
         ORDER BY v.indicator_id, v.measured_on DESC, v.created_at DESC"
    );
    let rows: Vec<ValueDb> = run!(tx, |c| sqlx::query_as(&sql).bind(campaign.0).fetch_all(&mut *c).await?);
    let mut out: Vec<IndicatorValue> = Vec::new();
    for r in rows {
        let v = IndicatorValue::try_from(r)?;
        if out.last().map(|l| l.indicator_id) != Some(v.indicator_id) {
            out.push(v);
        }
    }
    Ok(out)
}

/// One area by id.
pub async fn area(tx: &mut Tx, id: AreaId) -> Result<Option<AreaRow>> {
    let campaign: Option<Uuid> =
        run!(tx, |c| sqlx::query_scalar("SELECT campaign_id FROM area WHERE id = $1").bind(id.0).fetch_optional(&mut *c).await?);
    match campaign {
        None => Ok(None),
        Some(c) => Ok(areas(tx, CampaignId(c)).await?.into_iter().find(|a| a.id == id)),
    }
}

/// The name of every area of every campaign (a few dozen rows), for
/// ledgers that name the area of each hazard.
pub async fn area_names(tx: &mut Tx) -> Result<HashMap<AreaId, String>> {
    let rows: Vec<(Uuid, String)> = run!(tx, |c| sqlx::query_as("SELECT id, name FROM area").fetch_all(&mut *c).await?);
    Ok(rows.into_iter().map(|(id, name)| (AreaId(id), name)).collect())
}
