//! The measures list (制度措施清单) use cases: put a measure on the list,
//! change it, move it on (progress, completion with evidence, verification,
//! send back, cancel, reopen), find it, count, and export the list as the
//! ledger. Each command is one transaction that writes the measure, its one
//! timeline event and its one audit entry together.

use crate::ledger::LedgerFormat;
use crate::{Caller, Ctx, Result, Service};
use bihuan_domain::clock::SHANGHAI;
use bihuan_domain::ids::*;
use bihuan_domain::measure::{self as ms, *};
use bihuan_domain::permission::{Actor, Decision, Scope};
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitPath;
use bihuan_domain::{DomainError, ErrorCode, FieldError};
use bihuan_reports::{Cell, Column, CsvLedger, LedgerError, SheetSpec, XlsxLedger};
use bihuan_store::measures::{self as store, MeasureFilter, MeasurePage, MeasureScope, NewMeasureEvent};
use bihuan_store::{campaigns, units, Tx};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

/// One measure with everything its page shows.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureDetail {
    pub measure: Measure,
    /// The area's short name (or name), when the measure has one.
    pub area_name: Option<String>,
    /// Derived from the deadline and today (Beijing time).
    pub overdue: bool,
    pub days_overdue: i64,
    pub events: Vec<MeasureEvent>,
    /// What the caller may do now.
    pub actions: Vec<MeasureOp>,
}

/// A measure in a list, with its derived status.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureItem {
    #[serde(flatten)]
    pub measure: Measure,
    pub overdue: bool,
    pub days_overdue: i64,
}

/// Input for moving a measure on: `action` names the op; the other fields
/// are those the op needs.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureActionInput {
    /// `progress`, `complete`, `verify`, `send_back`, `cancel`, `reopen`.
    pub action: String,
    /// The version the caller saw; a stale version is refused.
    pub version: Option<i64>,
    /// 推进情况 (progress; `comment` is taken when it is empty).
    pub note: Option<String>,
    /// 完成情况及佐证材料 (progress, complete).
    pub evidence: Option<String>,
    pub comment: Option<String>,
    /// Why (send_back, cancel, reopen; `comment` is taken when it is empty).
    pub reason: Option<String>,
    /// 核验人 (verify; default: the user).
    pub verified_by: Option<String>,
    /// A new deadline (reopen).
    pub deadline: Option<String>,
}

/// A partial change of a measure (`PATCH`): a field left out stays as it
/// is; `null` clears an optional field (`area_id`, `responsible_person`)
/// and is refused for a required one. An empty `unit_id` or `area_id`
/// keeps the current one, as in the form.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasurePatch {
    /// The responsible unit (id).
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub unit_id: Option<Option<String>>,
    /// The campaign's rectification area (id); `null` takes the measure out of its area.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub area_id: Option<Option<String>>,
    /// `system`, `mechanism`, `measure` (or 制度 / 机制 / 措施).
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub kind: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub content: Option<Option<String>>,
    /// `null` (or an empty text) clears it.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub responsible_person: Option<Option<String>>,
    /// 完成时限, e.g. 2021-06-30; a moved deadline may not be in the past.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub deadline: Option<Option<String>>,
    /// The version the caller saw; a stale version is refused.
    pub version: Option<i64>,
}

/// A field that is there, even as `null` (`Some(None)`); absent fields take
/// the default (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Counts and rates for a filter, with an optional breakdown.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureStats {
    pub today: String,
    pub total: MeasureRates,
    pub by: Option<MeasureBreakdown>,
    pub groups: Vec<MeasureRates>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureRates {
    #[serde(flatten)]
    pub tally: MeasureTally,
    pub label: String,
    pub label_en: String,
    /// 完成率: completed (verified or not) ÷ (total − cancelled), in percent with one decimal.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub completion_rate: Option<Decimal>,
    /// 核验率: verified ÷ (total − cancelled), in percent.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub verified_rate: Option<Decimal>,
    /// 按期完成率: completed on time ÷ completed, in percent.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub on_time_rate: Option<Decimal>,
}

fn percent(num: i64, den: i64) -> Option<Decimal> {
    (den > 0).then(|| {
        let mut p = (Decimal::from(num) * Decimal::ONE_HUNDRED / Decimal::from(den)).round_dp(1);
        p.rescale(1);
        p
    })
}

impl MeasureRates {
    fn new(tally: MeasureTally, label: String, label_en: String) -> MeasureRates {
        let counted = tally.total - tally.cancelled;
        MeasureRates {
            completion_rate: percent(tally.completed, counted),
            verified_rate: percent(tally.verified, counted),
            on_time_rate: percent(tally.completed_on_time, tally.completed),
            tally,
            label,
            label_en,
        }
    }
}

/// What a measures export wrote.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureExportSummary {
    /// A file name to offer, e.g. `制度措施清单-2021-05-06.xlsx`.
    pub file_name: String,
    pub content_type: String,
    /// Rows of the list.
    pub measures: u64,
    /// Rows of the timeline sheet (0 for CSV).
    pub events: u64,
}

/// Which measures an actor's lists hold (mirrors `measure::visible`).
pub fn measure_scope(ctx: &Ctx) -> MeasureScope {
    let Some(a) = ctx.actor() else { return MeasureScope::All };
    match a.scope() {
        Scope::All => MeasureScope::All,
        Scope::Subtree(subtree) => MeasureScope::Visible {
            subtree,
            led_areas: if a.role == Role::Department { a.led_areas.clone() } else { vec![] },
            created_under: Some(a.unit_path.clone()),
        },
    }
}

fn decide(ctx: &Ctx, d: impl FnOnce(&Actor) -> Decision) -> Result<()> {
    match ctx.actor().map(d) {
        None | Some(Decision::Allow) => Ok(()),
        Some(Decision::Forbidden) => Err(DomainError::forbidden()),
        Some(Decision::NotFound) => Err(DomainError::not_found("制度措施", "Measure")),
    }
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref().and_then(bihuan_domain::text::non_blank)
}

fn bad_cursor(e: bihuan_store::StoreError) -> DomainError {
    match e {
        bihuan_store::StoreError::Corrupt(m) if m == "bad cursor" => DomainError::field("after", "翻页参数无效", "The page cursor is not valid"),
        other => other.into(),
    }
}

fn ledger_error(e: LedgerError) -> DomainError {
    let code = match e {
        LedgerError::TooManyRows(_) => ErrorCode::Validation,
        _ => ErrorCode::Internal,
    };
    if code == ErrorCode::Internal {
        tracing::error!(error = %e, "measure ledger export failed");
    }
    DomainError::new(code, e.zh(), e.en())
}

fn beijing(t: OffsetDateTime) -> PrimitiveDateTime {
    let l = t.to_offset(SHANGHAI);
    PrimitiveDateTime::new(l.date(), l.time())
}

impl Service {
    async fn measure_unit(&self, tx: &mut Tx, id: UnitId, field: &str) -> Result<UnitRef> {
        let u = units::get(tx, id).await?.ok_or_else(|| DomainError::field(field, "单位不存在", "No such unit"))?;
        Ok(UnitRef { id: u.id, name: u.name, short_name: u.short_name, path: u.path })
    }

    async fn measure_area(&self, tx: &mut Tx, id: AreaId) -> Result<campaigns::AreaRow> {
        campaigns::area(tx, id).await?.ok_or_else(|| DomainError::field("area_id", "整治领域不存在", "No such area"))
    }

    /// Writes the event of a change and its audit entry.
    async fn record_measure(&self, tx: &mut Tx, ctx: &Ctx, m: &Measure, before: Option<&Measure>, draft: &MeasureEventDraft) -> Result<MeasureEvent> {
        // The timeline shows people's names, not login names (as hazards do).
        let name = self.actor_display_name(tx, ctx).await?;
        let (user, unit) = match &ctx.caller {
            Caller::User(a) => (Some(a.user_id), Some(a.unit_id)),
            Caller::System(_) => (None, None),
        };
        let ev = store::append_event(
            tx,
            NewMeasureEvent { measure_id: m.id, at: self.now(), actor_user_id: user, actor_name: &name, actor_unit_id: unit, draft },
        )
        .await?;
        self.audit(tx, ctx, &format!("measure.{}", draft.action), "measure", Some(m.id.to_string()), before, Some(m)).await?;
        Ok(ev)
    }

    /// Puts a measure on the list (未开始). The office does so for any unit
    /// of its jurisdiction; a lead department for the areas it leads.
    pub async fn create_measure(&self, ctx: &Ctx, draft: &MeasureDraft) -> Result<Measure> {
        let fields = draft.validate(true, crate::campaigns::parse_date)?;
        let Some(unit_id) = fields.unit_id else {
            return Err(DomainError::field("unit_id", "请选择责任单位", "Choose the responsible unit"));
        };
        if fields.area_id.is_none() && ctx.actor().is_some_and(|a| a.role == Role::Department) {
            return Err(DomainError::field(
                "area_id",
                "牵头部门请选择所牵头的整治领域",
                "A lead department puts measures on the list of an area it leads: choose the area",
            ));
        }
        let mut tx = self.db.begin().await?;
        let unit = self.measure_unit(&mut tx, unit_id, "unit_id").await?;
        match ctx.actor().map(|a| ms::may_create(a, &unit.path, fields.area_id)) {
            None | Some(Decision::Allow) => {}
            Some(Decision::Forbidden) => return Err(DomainError::forbidden()),
            Some(Decision::NotFound) => return Err(DomainError::field("unit_id", "责任单位不存在或无权查看", "No such responsible unit")),
        }
        let area = match fields.area_id {
            Some(a) => Some(self.measure_area(&mut tx, a).await?),
            None => None,
        };
        let created_by_unit = match ctx.actor() {
            Some(a) => self.measure_unit(&mut tx, a.unit_id, "unit_id").await?,
            // The system (an import, the command line) files it under the top of the unit's tree.
            None => match unit.path.ids().first() {
                Some(root) => self.measure_unit(&mut tx, *root, "unit_id").await?,
                None => unit.clone(),
            },
        };
        let num = bihuan_store::hazards::next_number(&mut tx, "measure").await?;
        let today = self.today();
        let (m, event) = Measure::create(
            NewMeasure {
                id: MeasureId::new(),
                num,
                code: measure_code(today.year(), num),
                campaign_id: area.as_ref().map(|a| a.campaign_id),
                area_id: area.as_ref().map(|a| a.id),
                responsible_unit: unit,
                created_by_unit,
                fields,
            },
            self.now(),
            today,
        )?;
        store::insert(&mut tx, &m).await?;
        self.record_measure(&mut tx, ctx, &m, None, &event).await?;
        tx.commit().await?;
        Ok(m)
    }

    async fn load_measure_for(&self, tx: &mut Tx, ctx: &Ctx, id: MeasureId, op: MeasureOp, version: Option<i64>) -> Result<Measure> {
        let m = store::get(tx, id).await?.ok_or_else(|| DomainError::not_found("制度措施", "Measure"))?;
        decide(ctx, |a| ms::authorize(a, &m.facts(), op))?;
        if version.is_some_and(|v| v != m.version) {
            return Err(bihuan_store::StoreError::Stale.into());
        }
        Ok(m)
    }

    /// Applies one action, writing the result, its event and its audit entry.
    async fn measure_transition(&self, tx: &mut Tx, ctx: &Ctx, m: &Measure, action: &MeasureAction) -> Result<Measure> {
        decide(ctx, |a| ms::authorize(a, &m.facts(), action.op()))?;
        let (mut next, event) = ms::apply(m, action, self.now(), self.today())?;
        next.version = m.version + 1;
        store::update(tx, &next, m.version).await?;
        self.record_measure(tx, ctx, &next, Some(m), &event).await?;
        Ok(next)
    }

    /// Changes the measure's own fields: kind, title, content, responsible
    /// unit and person, area, deadline. An empty unit or area keeps the
    /// current one. Moving a measure to another unit or area needs the
    /// right to put it on that list.
    pub async fn edit_measure(&self, ctx: &Ctx, id: MeasureId, draft: &MeasureDraft, version: Option<i64>) -> Result<Measure> {
        let f = draft.validate(false, crate::campaigns::parse_date)?;
        let mut tx = self.db.begin().await?;
        let m = self.load_measure_for(&mut tx, ctx, id, MeasureOp::Edit, version).await?;
        let next = self.edit_measure_in(&mut tx, ctx, m, f, false).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Changes only the fields the patch names (see [`MeasurePatch`]), with
    /// the same checks and rights as [`Service::edit_measure`].
    pub async fn patch_measure(&self, ctx: &Ctx, id: MeasureId, patch: &MeasurePatch) -> Result<Measure> {
        let mut errors = Vec::new();
        for (field, value, zh, en) in [
            ("unit_id", &patch.unit_id, "责任单位", "The responsible unit"),
            ("kind", &patch.kind, "类别", "The kind"),
            ("title", &patch.title, "名称", "The title"),
            ("content", &patch.content, "具体内容", "The content"),
            ("deadline", &patch.deadline, "完成时限", "The deadline"),
        ] {
            if matches!(value, Some(None)) {
                errors.push(FieldError::new(field, format!("{zh}不能清空"), format!("{en} cannot be cleared")));
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        let mut tx = self.db.begin().await?;
        let m = self.load_measure_for(&mut tx, ctx, id, MeasureOp::Edit, patch.version).await?;
        // The measure as it is, with what the patch says over it, checked as a whole.
        let given = |v: &Option<Option<String>>, current: Option<String>| match v {
            None => current,
            Some(v) => v.clone(),
        };
        let draft = MeasureDraft {
            unit_id: given(&patch.unit_id, Some(m.responsible_unit.id.to_string())),
            area_id: given(&patch.area_id, m.area_id.map(|a| a.to_string())),
            kind: given(&patch.kind, Some(m.kind.as_str().to_string())),
            title: given(&patch.title, Some(m.title.clone())).unwrap_or_default(),
            content: given(&patch.content, Some(m.content.clone())).unwrap_or_default(),
            responsible_person: given(&patch.responsible_person, m.responsible_person.clone()),
            deadline: given(&patch.deadline, Some(m.deadline.to_string())),
        };
        let f = draft.validate(false, crate::campaigns::parse_date)?;
        let clear_area = matches!(patch.area_id, Some(None));
        let next = self.edit_measure_in(&mut tx, ctx, m, f, clear_area).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Applies checked fields to a measure loaded for editing in `tx`. An
    /// empty unit or area keeps the current one, unless `clear_area`.
    async fn edit_measure_in(&self, tx: &mut Tx, ctx: &Ctx, m: Measure, f: MeasureFields, clear_area: bool) -> Result<Measure> {
        let mut c = MeasureChanges::of(&m);
        if clear_area {
            c.area_id = None;
            c.campaign_id = None;
        }
        if let Some(u) = f.unit_id.filter(|u| *u != m.responsible_unit.id) {
            c.responsible_unit = self.measure_unit(tx, u, "unit_id").await?;
        }
        if let Some(a) = f.area_id.filter(|a| Some(*a) != m.area_id) {
            let area = self.measure_area(tx, a).await?;
            c.area_id = Some(area.id);
            c.campaign_id = Some(area.campaign_id);
        }
        c.kind = f.kind;
        c.title = f.title;
        c.content = f.content;
        c.responsible_person = f.responsible_person;
        c.deadline = f.deadline;
        let changed = c.changed(&m);
        if changed.is_empty() {
            return Ok(m);
        }
        if changed.iter().any(|name| matches!(*name, "responsible_unit" | "area")) {
            decide(ctx, |a| match ms::may_create(a, &c.responsible_unit.path, c.area_id) {
                // Seeing the measure but not the new unit is still "not allowed", not "not found".
                Decision::NotFound => Decision::Forbidden,
                d => d,
            })?;
        }
        self.measure_transition(tx, ctx, &m, &MeasureAction::Edit(c)).await
    }

    /// Moves a measure on by one action.
    pub async fn act_on_measure(&self, ctx: &Ctx, id: MeasureId, input: &MeasureActionInput) -> Result<Measure> {
        let op = MeasureOp::parse(&input.action).filter(|o| !matches!(o, MeasureOp::Read | MeasureOp::Edit)).ok_or_else(|| {
            DomainError::field("action", format!("未知的操作“{}”", input.action), format!("Unknown action '{}'", input.action))
        })?;
        let mut tx = self.db.begin().await?;
        let m = self.load_measure_for(&mut tx, ctx, id, op, input.version).await?;
        let comment = text(&input.comment);
        let reason = text(&input.reason).or_else(|| comment.clone()).unwrap_or_default();
        let action = match op {
            MeasureOp::Progress => MeasureAction::Progress {
                note: text(&input.note).or_else(|| comment.clone()).unwrap_or_default(),
                evidence: text(&input.evidence),
            },
            MeasureOp::Complete => MeasureAction::Complete { evidence: text(&input.evidence), comment },
            MeasureOp::Verify => {
                let verified_by = match text(&input.verified_by) {
                    Some(n) => n,
                    None => self.actor_display_name(&mut tx, ctx).await?,
                };
                MeasureAction::Verify { verified_by, comment }
            }
            MeasureOp::SendBack => MeasureAction::SendBack { reason },
            MeasureOp::Cancel => MeasureAction::Cancel { reason },
            MeasureOp::Reopen => {
                let deadline = match text(&input.deadline) {
                    None => None,
                    Some(s) => Some(crate::campaigns::parse_date(&s).ok_or_else(|| {
                        DomainError::field("deadline", "完成时限格式应如 2021-06-30", "Write the deadline like 2021-06-30")
                    })?),
                };
                MeasureAction::Reopen { reason, deadline }
            }
            MeasureOp::Read | MeasureOp::Edit => return Err(DomainError::field("action", "不支持的操作", "Unsupported action")),
        };
        let next = self.measure_transition(&mut tx, ctx, &m, &action).await?;
        tx.commit().await?;
        Ok(next)
    }

    pub async fn measure_detail(&self, ctx: &Ctx, id: MeasureId) -> Result<MeasureDetail> {
        let mut tx = self.db.read().await?;
        let m = self.load_measure_for(&mut tx, ctx, id, MeasureOp::Read, None).await?;
        let events = store::events(&mut tx, id).await?;
        let area_name = match m.area_id {
            Some(a) => campaigns::area(&mut tx, a).await?.map(|a| a.short_name.unwrap_or(a.name)),
            None => None,
        };
        tx.commit().await?;
        let today = self.today();
        let actions = match ctx.actor() {
            Some(a) => ms::available_ops(a, &m),
            None => MeasureOp::ALL.into_iter().filter(|o| *o != MeasureOp::Read && o.possible(&m)).collect(),
        };
        Ok(MeasureDetail { overdue: m.is_overdue(today), days_overdue: m.days_overdue(today), measure: m, area_name, events, actions })
    }

    /// The measure with this code (ZC…), if the caller may see it.
    pub async fn measure_id_by_code(&self, ctx: &Ctx, code: &str) -> Result<Option<MeasureId>> {
        let mut tx = self.db.read().await?;
        let m = store::get_by_code(&mut tx, code.trim()).await?;
        tx.commit().await?;
        Ok(m.filter(|m| ctx.actor().is_none_or(|a| ms::visible(a, &m.facts()))).map(|m| m.id))
    }

    /// A page of the measures the caller may see that match `filter`.
    pub async fn list_measures(&self, ctx: &Ctx, filter: &MeasureFilter) -> Result<(Vec<MeasureItem>, Option<String>)> {
        let today = self.today();
        let mut tx = self.db.read().await?;
        let page: MeasurePage = store::list(&mut tx, &measure_scope(ctx), filter, today).await.map_err(bad_cursor)?;
        tx.commit().await?;
        let items = page
            .items
            .into_iter()
            .map(|m| MeasureItem { overdue: m.is_overdue(today), days_overdue: m.days_overdue(today), measure: m })
            .collect();
        Ok((items, page.next))
    }

    /// Counts and rates of the measures matching `filter`, broken down by `by`.
    pub async fn measure_stats(&self, ctx: &Ctx, filter: &MeasureFilter, by: Option<MeasureBreakdown>) -> Result<MeasureStats> {
        let scope = measure_scope(ctx);
        let today = self.today();
        let mut tx = self.db.read().await?;
        let total = store::tally(&mut tx, &scope, filter, today, None, None).await?.into_iter().next().unwrap_or_default();
        let root: Option<UnitPath> = filter.within.clone().or_else(|| match &scope {
            MeasureScope::Visible { subtree, .. } => Some(subtree.clone()),
            MeasureScope::All => None,
        });
        let mut groups = Vec::new();
        if let Some(b) = by {
            for t in store::tally(&mut tx, &scope, filter, today, Some(b), root.as_ref()).await? {
                let (zh, en) = self.measure_group_label(&mut tx, b, &t.key).await?;
                groups.push(MeasureRates::new(t, zh, en));
            }
        }
        tx.commit().await?;
        Ok(MeasureStats { today: today.to_string(), total: MeasureRates::new(total, "合计".into(), "Total".into()), by, groups })
    }

    async fn measure_group_label(&self, tx: &mut Tx, by: MeasureBreakdown, key: &str) -> Result<(String, String)> {
        let pair = |zh: &str, en: &str| (zh.to_string(), en.to_string());
        Ok(match by {
            MeasureBreakdown::Kind => MeasureKind::parse(key).map(|v| pair(v.label_zh(), v.label_en())).unwrap_or_else(|| pair(key, key)),
            MeasureBreakdown::State => MeasureState::parse(key).map(|v| pair(v.label_zh(), v.label_en())).unwrap_or_else(|| pair(key, key)),
            MeasureBreakdown::Area => match AreaId::parse(key) {
                None => pair("未分领域", "No area"),
                Some(id) => match campaigns::area(tx, id).await? {
                    Some(a) => (a.short_name.clone().unwrap_or_else(|| a.name.clone()), a.code),
                    None => pair(key, key),
                },
            },
            MeasureBreakdown::Unit => match UnitPath::from_stored(key.to_string()).ids().last().copied() {
                Some(id) => match units::get(tx, id).await? {
                    Some(u) => (u.name.clone(), u.name),
                    None => pair(key, key),
                },
                None => pair(key, key),
            },
        })
    }

    /// Writes the measures the caller may see that match `filter` as the
    /// ledger (制度措施清单台账) to `out`, oldest first, reading them in
    /// pages of [`EXPORT_BATCH`] inside one read transaction, so that memory
    /// stays flat. xlsx: the list on sheet 1 and every measure's timeline
    /// (推进记录) on sheet 2; CSV: the list. `filter.sort`, `after` and
    /// `limit` are ignored. Pass `&mut Vec<u8>`, a file or any writer.
    pub async fn export_measure_ledger<W: Write + Send>(
        &self,
        ctx: &Ctx,
        filter: &MeasureFilter,
        format: LedgerFormat,
        out: W,
    ) -> Result<MeasureExportSummary> {
        enum Sink<W: Write + Send> {
            Xlsx { book: Box<XlsxLedger<W>>, list: usize, timeline: usize },
            Csv(Box<CsvLedger<W>>),
        }
        let scope = measure_scope(ctx);
        let today = self.today();
        let mut sink = match format {
            LedgerFormat::Xlsx => {
                let mut book = Box::new(XlsxLedger::new(out));
                let spec = SheetSpec::new("制度措施清单", ledger_columns()).with_title(format!("制度措施清单（导出于{today}）"));
                let list = book.add_sheet(&spec).map_err(ledger_error)?;
                let timeline = book.add_sheet(&SheetSpec::new("推进记录", timeline_columns())).map_err(ledger_error)?;
                Sink::Xlsx { book, list, timeline }
            }
            LedgerFormat::Csv => Sink::Csv(Box::new(CsvLedger::new(out, &ledger_columns()).map_err(ledger_error)?)),
        };
        let mut tx = self.db.read().await?;
        let mut areas: HashMap<AreaId, String> = HashMap::new();
        let (mut after, mut rows, mut events) = (0i64, 0i64, 0u64);
        loop {
            let batch = store::export_page(&mut tx, &scope, filter, today, after, EXPORT_BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = last.num;
            for a in batch.iter().filter_map(|m| m.area_id) {
                if !areas.contains_key(&a)
                    && let Some(row) = campaigns::area(&mut tx, a).await?
                {
                    areas.insert(a, row.short_name.unwrap_or(row.name));
                }
            }
            let mut timeline: HashMap<MeasureId, Vec<MeasureEvent>> = HashMap::new();
            if format == LedgerFormat::Xlsx {
                for e in store::events_of(&mut tx, &batch.iter().map(|m| m.id).collect::<Vec<_>>()).await? {
                    timeline.entry(e.measure_id).or_default().push(e);
                }
            }
            for m in &batch {
                rows += 1;
                let cells = ledger_row(rows, m, m.area_id.and_then(|a| areas.get(&a)).cloned(), today);
                match &mut sink {
                    Sink::Xlsx { book, list, timeline: sheet } => {
                        book.append(*list, &cells).map_err(ledger_error)?;
                        for e in timeline.remove(&m.id).unwrap_or_default() {
                            book.append(*sheet, &timeline_row(&m.code, &e)).map_err(ledger_error)?;
                            events += 1;
                        }
                    }
                    Sink::Csv(csv) => csv.append(&cells).map_err(ledger_error)?,
                }
            }
            if (batch.len() as i64) < EXPORT_BATCH {
                break;
            }
        }
        tx.commit().await?;
        match sink {
            Sink::Xlsx { book, .. } => book.finish().map(drop).map_err(ledger_error)?,
            Sink::Csv(csv) => csv.finish().map(drop).map_err(ledger_error)?,
        }
        Ok(MeasureExportSummary {
            file_name: format!("制度措施清单-{today}.{}", format.extension()),
            content_type: format.content_type().to_string(),
            measures: u64::try_from(rows).unwrap_or(0),
            events,
        })
    }
}

/// Measures read from the database per page of an export.
pub const EXPORT_BATCH: i64 = 500;

/// Column headers of the list sheet, as offices write them.
pub const LEDGER_HEADERS: [&str; 16] = [
    "序号",
    "编号",
    "类别",
    "制度措施名称",
    "具体内容及要求",
    "整治领域",
    "责任单位",
    "责任人",
    "完成时限",
    "状态",
    "逾期天数",
    "完成情况及佐证材料",
    "完成时间",
    "核验人",
    "核验时间",
    "列入单位",
];

fn ledger_columns() -> Vec<Column> {
    let widths = [6.0, 16.0, 8.0, 36.0, 60.0, 16.0, 24.0, 10.0, 12.0, 10.0, 10.0, 48.0, 18.0, 10.0, 18.0, 24.0];
    LEDGER_HEADERS.iter().zip(widths).map(|(h, w)| Column::new(*h, w)).collect()
}

fn timeline_columns() -> Vec<Column> {
    [("编号", 16.0), ("序号", 6.0), ("时间", 18.0), ("操作", 12.0), ("原状态", 10.0), ("新状态", 10.0), ("操作人", 14.0), ("说明", 60.0)]
        .into_iter()
        .map(|(h, w)| Column::new(h, w))
        .collect()
}

fn ledger_row(n: i64, m: &Measure, area: Option<String>, today: Date) -> Vec<Cell> {
    let days = m.days_overdue(today);
    vec![
        Cell::Int(n),
        Cell::from(m.code.as_str()),
        Cell::from(m.kind.label_zh()),
        Cell::from(m.title.as_str()),
        Cell::from(m.content.as_str()),
        Cell::from(area),
        Cell::from(m.responsible_unit.name.as_str()),
        Cell::from(m.responsible_person.clone()),
        Cell::Date(m.deadline),
        Cell::from(m.state.label_zh()),
        if days > 0 { Cell::Int(days) } else { Cell::Empty },
        Cell::from(m.evidence.clone()),
        Cell::from(m.completed_at.map(beijing)),
        Cell::from(m.verified_by.clone()),
        Cell::from(m.verified_at.map(beijing)),
        Cell::from(m.created_by_unit.name.as_str()),
    ]
}

fn op_label(action: &str) -> String {
    match action {
        "create" => "列入清单".to_string(),
        other => MeasureOp::parse(other).map(|o| o.label_zh().to_string()).unwrap_or_else(|| other.to_string()),
    }
}

fn timeline_row(code: &str, e: &MeasureEvent) -> Vec<Cell> {
    vec![
        Cell::from(code),
        Cell::Int(i64::from(e.seq)),
        Cell::DateTime(beijing(e.at)),
        Cell::Text(op_label(&e.action)),
        Cell::from(e.from_state.map(|s| s.label_zh())),
        Cell::from(e.to_state.label_zh()),
        Cell::from(e.actor_name.as_str()),
        Cell::from(e.comment.clone()),
    ]
}

/// When a measure is due, in words (for pages and exports).
pub fn measure_deadline_words(m: &Measure, today: Date) -> String {
    if m.is_overdue(today) { format!("{}（逾期{}天）", m.deadline, m.days_overdue(today)) } else { m.deadline.to_string() }
}
