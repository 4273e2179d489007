//! Campaigns: importing and exporting plans, reading them with progress, and
//! reporting indicator values.

use crate::{Ctx, Result, Service, NONE};
use bihuan_domain::campaign::{
    CampaignHeader, CampaignPlan, PlanArea, PlanIndicator, PlanPhase, PlanPost, PlanTask, PlanUnit, FORMAT_VERSION,
};
use bihuan_domain::ids::*;
use bihuan_domain::indicator::progress;
use bihuan_domain::model::*;
use bihuan_domain::permission::{campaign_visible, Permission};
use bihuan_domain::unit::{UnitFields, UnitPath};
use bihuan_domain::{DomainError, FieldError};
use bihuan_store::campaigns::{self as store, AreaRow, CampaignRow, IndicatorRow, PostRow};
use bihuan_store::{units, Tx};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What an import did.
#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    pub campaign_id: CampaignId,
    pub code: String,
    pub created: bool,
    pub units_created: usize,
    pub phases: usize,
    pub areas: usize,
    pub tasks: usize,
    pub indicators: usize,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewIndicatorValue {
    /// The measured value, an exact decimal ("80", "97.5", or a JSON number); for milestones 1 (reached) or 0.
    #[serde(deserialize_with = "text_or_number")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "80"))]
    pub value: String,
    /// The day the value was measured, `YYYY-MM-DD`; not in the future.
    pub measured_on: String,
    /// The reporting unit; defaults to the caller's unit.
    pub reporting_unit_id: Option<String>,
    /// What the value rests on (a document, a count, an inspection record).
    pub evidence: String,
    pub note: Option<String>,
}

/// Accepts `"80"` and `80` alike: numbers are read as written, so no
/// precision is lost on the way to an exact decimal.
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("expected a number, got {other}"))),
    }
}

impl Service {
    /// Loads a campaign plan, creating the units it names where no unit of
    /// that name exists under the same parent. Importing a plan whose code is
    /// loaded already updates it: areas and indicators are matched by code so
    /// reported values stay with their indicators.
    pub async fn import_plan(&self, ctx: &Ctx, plan: &CampaignPlan, under: Option<UnitId>) -> Result<ImportReport> {
        let mut tx = self.db.begin().await?;
        let now = self.now();
        // Units.
        let mut ids: HashMap<&str, (UnitId, UnitPath)> = HashMap::new();
        let mut units_created = 0;
        for u in &plan.units {
            let parent = match &u.parent {
                Some(k) => ids.get(k.as_str()).map(|(id, _)| *id),
                None => under,
            };
            let existing = units::find_by_name(&mut tx, parent, &u.name).await?;
            let unit = match existing {
                Some(found) => found,
                None => {
                    units_created += 1;
                    let fields = UnitFields {
                        name: u.name.clone(),
                        short_name: u.short_name.clone(),
                        kind: u.kind,
                        locality_kind: None,
                        duties: u.duties.clone(),
                        enterprise: Default::default(),
                    };
                    self.create_unit_in(&mut tx, ctx, parent, fields).await?
                }
            };
            ids.insert(u.key.as_str(), (unit.id, unit.path));
        }
        let key = |k: &str| ids.get(k).map(|(id, _)| *id).ok_or_else(|| DomainError::field("units", format!("未知单位“{k}”"), format!("unknown unit \"{k}\"")));
        let owner = key(&plan.campaign.owner_unit)?;
        let owner_path = ids.get(plan.campaign.owner_unit.as_str()).map(|(_, p)| p.clone()).unwrap_or_else(|| UnitPath::root(owner));
        ctx.check(Permission::ManageCampaign { owner: &owner_path }, "活动", "Campaign")?;
        let office = plan.campaign.office_unit.as_deref().map(key).transpose()?;

        // The campaign row.
        let existing = store::get_by_code(&mut tx, &plan.campaign.code).await?;
        let h = &plan.campaign;
        let row = CampaignRow {
            id: existing.as_ref().map(|c| c.id).unwrap_or_default(),
            code: h.code.clone(),
            title: h.title.clone(),
            document_number: h.document_number.clone(),
            issuer: h.issuer.clone(),
            signatory: h.signatory.clone(),
            issued_on: h.issued_on,
            starts_on: h.starts_on,
            ends_on: h.ends_on,
            owner_unit_id: owner,
            office_unit_id: office,
            basis: h.basis.clone(),
            general_requirements: h.general_requirements.clone(),
            main_tasks_preamble: h.main_tasks_preamble.clone(),
            schedule_notes: h.schedule_notes.clone(),
            safeguards: h.safeguards.clone(),
            created_at: existing.as_ref().map(|c| c.created_at).unwrap_or(now),
            updated_at: now,
            version: existing.as_ref().map(|c| c.version + 1).unwrap_or(1),
        };
        store::upsert_campaign(&mut tx, &row, existing.is_none()).await?;
        let cid = row.id;
        if existing.is_some() {
            store::clear_plan_parts(&mut tx, cid).await?;
        }
        for (i, u) in plan.units.iter().enumerate() {
            store::insert_campaign_unit(&mut tx, cid, &u.key, key(&u.key)?, i as i32).await?;
        }
        for (i, p) in plan.posts.iter().enumerate() {
            let post = PostRow { unit_id: key(&p.unit)?, title: p.title.clone(), holder: p.holder.clone(), note: p.note.clone() };
            store::insert_post(&mut tx, cid, i as i32, &post).await?;
        }
        for (i, p) in plan.phases.iter().enumerate() {
            store::insert_phase(&mut tx, cid, i as i32, &p.name, p.starts_on, p.ends_on, &p.aims).await?;
        }

        // Indicators that the new plan drops: refuse if values were reported.
        let old_indicators = store::indicators(&mut tx, cid).await?;
        let mut dropped = Vec::new();
        for old in old_indicators.iter().filter(|o| !plan.indicators.iter().any(|n| n.code == o.code)) {
            if store::value_count(&mut tx, old.id).await? > 0 {
                dropped.push(FieldError::new(
                    "indicators",
                    format!("新方案删除了已有上报数据的指标“{}”（{}），导入已取消", old.name, old.code),
                    format!("the new plan drops indicator \"{}\", which has reported values; nothing was imported", old.code),
                ));
            } else {
                store::delete_indicator(&mut tx, old.id).await?;
            }
        }
        if !dropped.is_empty() {
            return Err(DomainError::invalid(dropped));
        }

        // Areas, by code.
        let old_areas = store::areas(&mut tx, cid).await?;
        let mut area_ids: HashMap<&str, AreaId> = HashMap::new();
        let mut tasks = 0;
        for (i, a) in plan.areas.iter().enumerate() {
            let old = old_areas.iter().find(|o| o.code == a.code);
            let row = AreaRow {
                id: old.map(|o| o.id).unwrap_or_default(),
                campaign_id: cid,
                seq: i as i32,
                code: a.code.clone(),
                name: a.name.clone(),
                short_name: a.short_name.clone(),
                kind: a.kind,
                note: a.note.clone(),
            };
            store::upsert_area(&mut tx, &row, old.is_none()).await?;
            for (j, l) in a.lead_units.iter().enumerate() {
                store::insert_area_lead(&mut tx, row.id, key(l)?, j as i32).await?;
            }
            for (j, t) in a.tasks.iter().enumerate() {
                store::insert_task(&mut tx, row.id, j as i32, &t.label, t.group.as_deref(), &t.text).await?;
                tasks += 1;
            }
            area_ids.insert(a.code.as_str(), row.id);
        }
        let remaining = store::indicators(&mut tx, cid).await?;
        for (i, ind) in plan.indicators.iter().enumerate() {
            let old = remaining.iter().find(|o| o.code == ind.code);
            let area_id = *area_ids
                .get(ind.area.as_str())
                .ok_or_else(|| DomainError::field("indicators", format!("未知领域“{}”", ind.area), format!("unknown area \"{}\"", ind.area)))?;
            let row = IndicatorRow {
                id: old.map(|o| o.id).unwrap_or_default(),
                campaign_id: cid,
                area_id,
                seq: i as i32,
                code: ind.code.clone(),
                name: ind.name.clone(),
                task_label: ind.task.clone(),
                task_group: ind.group.clone(),
                comparator: ind.comparator,
                target: ind.target,
                unit: ind.unit.clone(),
                deadline: ind.deadline,
                basis: ind.basis.clone(),
            };
            store::upsert_indicator(&mut tx, &row, old.is_none()).await?;
            for (j, l) in ind.lead_units.iter().enumerate() {
                store::insert_indicator_lead(&mut tx, row.id, key(l)?, j as i32).await?;
            }
        }
        for old in old_areas.iter().filter(|o| !plan.areas.iter().any(|a| a.code == o.code)) {
            store::delete_area(&mut tx, old.id).await?;
        }
        let report = ImportReport {
            campaign_id: cid,
            code: row.code.clone(),
            created: existing.is_none(),
            units_created,
            phases: plan.phases.len(),
            areas: plan.areas.len(),
            tasks,
            indicators: plan.indicators.len(),
        };
        self.audit(&mut tx, ctx, "campaign.import", "campaign", Some(cid.to_string()), existing.as_ref().map(summary_json).as_ref(), Some(&report))
            .await?;
        tx.commit().await?;
        // The areas units lead may have changed.
        self.forget_resolved_tokens();
        Ok(report)
    }

    /// Writes a loaded campaign back in the campaign file format: the same
    /// reading as [`Service::campaign`], with units named by their file keys.
    pub async fn export_plan(&self, ctx: &Ctx, id: CampaignId) -> Result<CampaignPlan> {
        let c = self.campaign(ctx, id).await?;
        let key_of: HashMap<UnitId, String> = c.units.iter().map(|u| (u.unit.id, u.key.clone())).collect();
        let key = |u: UnitId| key_of.get(&u).cloned().unwrap_or_else(|| u.to_string());
        let keys = |refs: &[UnitRef]| refs.iter().map(|u| key(u.id)).collect::<Vec<_>>();
        Ok(CampaignPlan {
            format: FORMAT_VERSION,
            campaign: CampaignHeader {
                owner_unit: key(c.summary.owner_unit_id),
                office_unit: c.office_unit_id.map(key),
                code: c.summary.code,
                title: c.summary.title,
                document_number: c.summary.document_number,
                issuer: c.issuer,
                signatory: c.signatory,
                issued_on: c.summary.issued_on,
                starts_on: c.summary.starts_on,
                ends_on: c.summary.ends_on,
                basis: c.basis,
                general_requirements: c.general_requirements,
                main_tasks_preamble: c.main_tasks_preamble,
                schedule_notes: c.schedule_notes,
                safeguards: c.safeguards,
            },
            units: c
                .units
                .iter()
                .map(|u| PlanUnit {
                    key: u.key.clone(),
                    name: u.unit.name.clone(),
                    short_name: u.unit.short_name.clone(),
                    kind: u.kind,
                    parent: u.parent_key.clone(),
                    duties: u.duties.clone(),
                })
                .collect(),
            posts: c
                .posts
                .iter()
                .map(|p| PlanPost { unit: key(p.unit.id), title: p.title.clone(), holder: p.holder.clone(), note: p.note.clone() })
                .collect(),
            phases: c
                .phases
                .into_iter()
                .map(|p| PlanPhase { name: p.name, starts_on: p.starts_on, ends_on: p.ends_on, aims: p.aims })
                .collect(),
            areas: c
                .areas
                .iter()
                .map(|a| PlanArea {
                    code: a.code.clone(),
                    name: a.name.clone(),
                    short_name: a.short_name.clone(),
                    kind: a.kind,
                    lead_units: keys(&a.lead_units),
                    note: a.note.clone(),
                    tasks: a.tasks.iter().map(|t| PlanTask { label: t.label.clone(), group: t.group.clone(), text: t.text.clone() }).collect(),
                })
                .collect(),
            indicators: c
                .indicators
                .iter()
                .map(|i| PlanIndicator {
                    code: i.code.clone(),
                    name: i.name.clone(),
                    area: i.area_code.clone(),
                    task: i.task_label.clone(),
                    group: i.task_group.clone(),
                    lead_units: keys(&i.lead_units),
                    comparator: i.comparator,
                    target: i.target,
                    unit: i.unit.clone(),
                    deadline: i.deadline,
                    basis: i.basis.clone(),
                })
                .collect(),
        })
    }

    async fn visible_campaign(&self, tx: &mut Tx, ctx: &Ctx, id: CampaignId) -> Result<(CampaignRow, bihuan_domain::model::Unit)> {
        let row = store::get(tx, id).await?.ok_or_else(|| DomainError::not_found("专项行动", "Campaign"))?;
        let owner = units::get(tx, row.owner_unit_id).await?.ok_or_else(|| DomainError::not_found("专项行动", "Campaign"))?;
        ctx.check(Permission::ReadCampaign { owner: &owner.path }, "专项行动", "Campaign")?;
        Ok((row, owner))
    }

    /// Campaigns the caller may see.
    pub async fn list_campaigns(&self, ctx: &Ctx) -> Result<Vec<CampaignSummary>> {
        let mut tx = self.db.read().await?;
        let all = store::list(&mut tx).await?;
        Ok(all.into_iter().filter(|c| ctx.actor().is_none_or(|a| campaign_visible(a, &c.owner_path))).collect())
    }

    pub async fn campaign_id_by_code(&self, code: &str) -> Result<Option<CampaignId>> {
        let mut tx = self.db.read().await?;
        Ok(store::get_by_code(&mut tx, code).await?.map(|c| c.id))
    }

    /// A campaign with its phases (today's marked), areas with lead units and
    /// tasks, and indicators with their latest value and progress.
    pub async fn campaign(&self, ctx: &Ctx, id: CampaignId) -> Result<Campaign> {
        let today = self.today();
        let mut tx = self.db.read().await?;
        let (row, owner) = self.visible_campaign(&mut tx, ctx, id).await?;
        let units = store::campaign_units(&mut tx, id).await?;
        let key_of: HashMap<UnitId, String> = units.iter().map(|(k, u, ..)| (u.id, k.clone())).collect();
        let campaign_units = units
            .into_iter()
            .map(|(key, unit, kind, parent, duties)| CampaignUnit {
                key,
                unit,
                kind,
                parent_key: parent.and_then(|p| key_of.get(&p).cloned()),
                duties,
            })
            .collect();
        let posts = store::posts(&mut tx, id)
            .await?
            .into_iter()
            .map(|(unit, title, holder, note)| Post { unit, title, holder, note })
            .collect();
        let phases = store::phases(&mut tx, id)
            .await?
            .into_iter()
            .map(|(pid, seq, name, starts_on, ends_on, aims)| Phase {
                id: pid,
                seq,
                name,
                starts_on,
                ends_on,
                aims,
                current: starts_on <= today && today <= ends_on,
            })
            .collect();
        let leads = store::area_leads(&mut tx, id).await?;
        let all_tasks = store::tasks(&mut tx, id).await?;
        let area_rows = store::areas(&mut tx, id).await?;
        let areas = area_rows
            .iter()
            .map(|a| Area {
                id: a.id,
                seq: a.seq,
                code: a.code.clone(),
                name: a.name.clone(),
                short_name: a.short_name.clone(),
                kind: a.kind,
                note: a.note.clone(),
                lead_units: leads.iter().filter(|(aid, _)| *aid == a.id).map(|(_, u)| u.clone()).collect(),
                tasks: all_tasks
                    .iter()
                    .filter(|t| t.0 == a.id)
                    .map(|t| Task { id: t.1, seq: t.2, label: t.3.clone(), group: t.4.clone(), text: t.5.clone() })
                    .collect(),
            })
            .collect();
        let indicators = self.indicators_of(&mut tx, id, &area_rows, None, today).await?;
        tx.commit().await?;
        Ok(Campaign {
            summary: CampaignSummary {
                id: row.id,
                code: row.code,
                title: row.title,
                document_number: row.document_number,
                issued_on: row.issued_on,
                starts_on: row.starts_on,
                ends_on: row.ends_on,
                owner_unit_id: owner.id,
                owner_path: owner.path.clone(),
            },
            issuer: row.issuer,
            signatory: row.signatory,
            office_unit_id: row.office_unit_id,
            basis: row.basis,
            general_requirements: row.general_requirements,
            main_tasks_preamble: row.main_tasks_preamble,
            schedule_notes: row.schedule_notes,
            safeguards: row.safeguards,
            units: campaign_units,
            posts,
            phases,
            areas,
            indicators,
        })
    }

    async fn indicators_of(
        &self,
        tx: &mut Tx,
        campaign: CampaignId,
        areas: &[AreaRow],
        only: Option<IndicatorId>,
        today: time::Date,
    ) -> Result<Vec<Indicator>> {
        let leads = store::indicator_leads(tx, campaign, only).await?;
        let latest = store::latest_values(tx, campaign).await?;
        Ok(store::indicators(tx, campaign)
            .await?
            .into_iter()
            .filter(|i| only.is_none_or(|o| o == i.id))
            .map(|i| {
                let latest = latest.iter().find(|v| v.indicator_id == i.id).cloned();
                let p = progress(i.comparator, i.target, i.deadline, latest.as_ref().map(|v| v.value), today);
                Indicator {
                    id: i.id,
                    campaign_id: i.campaign_id,
                    area_id: i.area_id,
                    area_code: areas.iter().find(|a| a.id == i.area_id).map(|a| a.code.clone()).unwrap_or_default(),
                    seq: i.seq,
                    code: i.code,
                    name: i.name,
                    task_label: i.task_label,
                    task_group: i.task_group,
                    comparator: i.comparator,
                    target: i.target,
                    unit: i.unit,
                    deadline: i.deadline,
                    basis: i.basis,
                    lead_units: leads.iter().filter(|(iid, _)| *iid == i.id).map(|(_, u)| u.clone()).collect(),
                    latest,
                    progress: Some(p),
                }
            })
            .collect())
    }

    /// One indicator with its progress and every reported value.
    pub async fn indicator(&self, ctx: &Ctx, id: IndicatorId) -> Result<(Indicator, Vec<IndicatorValue>)> {
        let today = self.today();
        let mut tx = self.db.read().await?;
        let row = store::indicator(&mut tx, id).await?.ok_or_else(|| DomainError::not_found("指标", "Indicator"))?;
        self.visible_campaign(&mut tx, ctx, row.campaign_id).await?;
        let areas = store::areas(&mut tx, row.campaign_id).await?;
        let ind = self
            .indicators_of(&mut tx, row.campaign_id, &areas, Some(id), today)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::not_found("指标", "Indicator"))?;
        let values = store::values(&mut tx, id).await?;
        tx.commit().await?;
        Ok((ind, values))
    }

    /// Whether the caller may report values for an indicator.
    pub fn may_report(&self, ctx: &Ctx, ind: &Indicator, owner: &UnitPath) -> bool {
        let leads: Vec<UnitPath> = ind.lead_units.iter().map(|u| u.path.clone()).collect();
        ctx.check(Permission::ReportIndicator { owner, lead_units: &leads, area: ind.area_id }, "", "").is_ok()
    }

    pub async fn report_value(&self, ctx: &Ctx, id: IndicatorId, input: &NewIndicatorValue) -> Result<IndicatorValue> {
        let mut errors = Vec::new();
        let cleaned = bihuan_domain::text::normalize_width(&input.value).trim_end_matches('%').trim().to_string();
        let value = cleaned.parse::<Decimal>().ok();
        if value.is_none() {
            errors.push(FieldError::new("value", "数值应为数字，如 80 或 97.5", "The value must be a number such as 80 or 97.5"));
        }
        let today = self.today();
        let measured_on = parse_date(&input.measured_on);
        match measured_on {
            None => errors.push(FieldError::new("measured_on", "请填写日期，如 2021-06-30", "Enter a date such as 2021-06-30")),
            Some(d) if d > today => errors.push(FieldError::new("measured_on", "日期不能晚于今天", "The date may not be in the future")),
            _ => {}
        }
        let evidence = input.evidence.trim().to_string();
        if evidence.is_empty() {
            errors.push(FieldError::new("evidence", "请说明数据依据（如文件、台账、检查记录）", "Say what the value rests on (a document, a ledger, an inspection record)"));
        }
        let (Some(value), Some(measured_on), true) = (value, measured_on, errors.is_empty()) else {
            return Err(DomainError::invalid(errors));
        };
        let mut tx = self.db.begin().await?;
        let row = store::indicator(&mut tx, id).await?.ok_or_else(|| DomainError::not_found("指标", "Indicator"))?;
        let (campaign, owner) = self.visible_campaign(&mut tx, ctx, row.campaign_id).await?;
        let leads: Vec<UnitPath> = store::indicator_leads(&mut tx, row.campaign_id, Some(id)).await?.into_iter().map(|(_, u)| u.path).collect();
        ctx.check(Permission::ReportIndicator { owner: &owner.path, lead_units: &leads, area: row.area_id }, "指标", "Indicator")?;
        let mut errors = Vec::new();
        if row.comparator == bihuan_domain::indicator::Comparator::Done {
            if value != Decimal::ZERO && value != Decimal::ONE {
                errors.push(FieldError::new("value", "里程碑类指标只能填 1（已完成）或 0（未完成）", "A milestone takes 1 (reached) or 0 (not reached)"));
            }
        } else if value < Decimal::ZERO {
            errors.push(FieldError::new("value", "数值不能为负数", "The value may not be negative"));
        } else if row.unit.as_deref() == Some("%") && value > Decimal::ONE_HUNDRED {
            errors.push(FieldError::new("value", "百分比应在0到100之间", "A percentage lies between 0 and 100"));
        }
        if measured_on < campaign.starts_on {
            errors.push(FieldError::new(
                "measured_on",
                format!("统计日期不能早于行动开始日期 {}", campaign.starts_on),
                format!("The date may not be before the campaign starts ({})", campaign.starts_on),
            ));
        }
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        let unit_id = match input.reporting_unit_id.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => UnitId::parse(s).ok_or_else(|| DomainError::field("reporting_unit_id", "上报单位无效", "The reporting unit is not valid"))?,
            None => ctx.actor().map(|a| a.unit_id).unwrap_or(owner.id),
        };
        let unit = units::get(&mut tx, unit_id)
            .await?
            .ok_or_else(|| DomainError::field("reporting_unit_id", "上报单位不存在", "The reporting unit does not exist"))?;
        ctx.check(Permission::ReadUnit(&unit.path), "上报单位", "Reporting unit")?;
        let reported_by = ctx.actor().map(|a| a.user_id).ok_or_else(DomainError::forbidden)?;
        let v = IndicatorValue {
            id: IndicatorValueId::new(),
            indicator_id: id,
            value,
            measured_on,
            reporting_unit_id: unit.id,
            reporting_unit_name: unit.name.clone(),
            reported_by,
            evidence,
            note: input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string),
            created_at: self.now(),
        };
        store::insert_value(&mut tx, &v).await?;
        self.audit(&mut tx, ctx, "indicator.report", "indicator_value", Some(v.id.to_string()), NONE, Some(&v)).await?;
        tx.commit().await?;
        Ok(v)
    }
}

fn summary_json(c: &CampaignRow) -> serde_json::Value {
    serde_json::json!({ "code": c.code, "title": c.title, "version": c.version })
}

/// Dates as people type them: 2021-06-30, 2021/6/30, 2021.6.30, 2021年6月30日.
pub fn parse_date(s: &str) -> Option<time::Date> {
    let t = bihuan_domain::text::normalize_width(s);
    let parts: Vec<&str> = t.split(['-', '/', '.', '年', '月', '日']).filter(|p| !p.is_empty()).collect();
    let [y, m, d] = parts.as_slice() else { return None };
    let month = time::Month::try_from(m.trim().parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(y.trim().parse().ok()?, month, d.trim().parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::parse_date;
    use time::macros::date;

    #[test]
    fn dates_as_people_write_them() {
        for s in ["2020-08-06", "2020/8/6", "2020.8.6", "2020年8月6日", "２０２０年８月６日"] {
            assert_eq!(parse_date(s), Some(date!(2020 - 08 - 06)), "{s}");
        }
        assert_eq!(parse_date("2020-02-30"), None);
        assert_eq!(parse_date("明天"), None);
    }
}
