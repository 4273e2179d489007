//! Hazard use cases: register, describe, plan, move through the closed loop,
//! find, count. Each command is one transaction that writes the hazard, its
//! one timeline event and its one audit entry together.

use crate::idempotency::{Claim, IdempotencyKey};
use crate::{Ctx, Result, Service};
use bihuan_domain::calendar::{DeadlineRule, WorkCalendar};
use bihuan_domain::hazard::{self as hz, *};
use bihuan_domain::ids::*;
use bihuan_domain::permission::{Actor, Decision};
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitPath;
use bihuan_domain::{DomainError, FieldError};
use bihuan_store::hazards::{self as store, HazardFilter, HazardPage, HazardScope, NewEvent};
use bihuan_store::{calendar as cal_store, campaigns, units, Tx};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};


/// What a keyed write answers: the hazard, the files it added, and whether
/// an earlier request with the same key had already done it (then nothing
/// was written, and the hazard is as it is now).
#[derive(Clone, Debug)]
pub struct Keyed {
    pub hazard: Hazard,
    pub attachments: Vec<crate::attachments::Attachment>,
    pub replayed: bool,
}

/// One hazard with everything its page shows.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HazardDetail {
    pub hazard: Hazard,
    /// Derived from the deadline and today (Beijing time).
    pub overdue: bool,
    pub days_overdue: i64,
    pub events: Vec<HazardEvent>,
    pub extensions: Vec<ExtensionRequest>,
    pub listings: Vec<Listing>,
    /// What the caller may do now.
    pub actions: Vec<HazardOp>,
}

/// A hazard in a list, with its derived status.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HazardItem {
    #[serde(flatten)]
    pub hazard: Hazard,
    pub overdue: bool,
    pub days_overdue: i64,
}

/// Input for moving a hazard on: `action` names the op; the other fields
/// are those the op needs.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionInput {
    /// `assign`, `start`, `submit`, `fix_on_spot`, `accept`, `reject`, `dismiss`, `reopen`,
    /// `request_extension`, `decide_extension`, `list`.
    pub action: String,
    /// The version the caller saw; a stale version is refused.
    pub version: Option<i64>,
    pub comment: Option<String>,
    pub reason: Option<String>,
    /// 整改情况 (submit, fix_on_spot).
    pub rectification: Option<String>,
    // assign
    pub responsible_unit_id: Option<String>,
    pub responsible_person: Option<String>,
    pub responsible_phone: Option<String>,
    /// A date (assign, reopen), or use `deadline_days`.
    pub deadline: Option<String>,
    pub deadline_days: Option<u32>,
    /// `working` or `calendar` (default working).
    pub deadline_basis: Option<String>,
    pub accepting_unit_id: Option<String>,
    // accept
    pub accepted_by: Option<String>,
    // dismiss
    pub dismiss_reason: Option<String>,
    /// The code (YH…) or id of the hazard this one duplicates.
    pub duplicate_of: Option<String>,
    // extensions
    pub requested_deadline: Option<String>,
    pub approve: Option<bool>,
    // list (挂牌督办)
    pub listing_level: Option<String>,
    pub supervising_unit_id: Option<String>,
    pub document_number: Option<String>,
    pub listed_on: Option<String>,
    pub required_by: Option<String>,
    pub signatory: Option<String>,
    pub requirements: Option<String>,
}

/// The 五到位, the major-hazard report and the 治理方案.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanInput {
    pub version: Option<i64>,
    pub measures: Option<String>,
    /// 万元
    pub funds: Option<String>,
    pub contingency: Option<String>,
    pub responsible_person: Option<String>,
    pub responsible_phone: Option<String>,
    pub major_report: Option<MajorReport>,
    pub plan: Option<GovernancePlan>,
}

/// Counts and rates for a filter, with an optional breakdown.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HazardStats {
    pub today: String,
    pub total: Rates,
    pub by: Option<Breakdown>,
    pub groups: Vec<Rates>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rates {
    #[serde(flatten)]
    pub tally: Tally,
    pub label: String,
    pub label_en: String,
    /// 整改率: closed ÷ (total − dismissed), in percent with one decimal.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub rectification_rate: Option<Decimal>,
    /// 按期整改率: closed on time ÷ closed, in percent.
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

impl Rates {
    fn new(tally: Tally, label: String, label_en: String) -> Rates {
        let counted = tally.total - tally.dismissed;
        Rates {
            rectification_rate: percent(tally.closed, counted),
            on_time_rate: percent(tally.closed_on_time, tally.closed),
            tally,
            label,
            label_en,
        }
    }
}

/// Which hazards an actor's lists hold (mirrors `hazard::visible`).
pub fn hazard_scope(ctx: &Ctx) -> HazardScope {
    let Some(a) = ctx.actor() else { return HazardScope::All };
    match a.role {
        Role::Admin => HazardScope::All,
        Role::Office | Role::Leader => HazardScope::Visible { subtree: a.jurisdiction.clone(), led_areas: vec![], named_under: None },
        Role::Department => HazardScope::Visible {
            subtree: a.unit_path.clone(),
            led_areas: a.led_areas.clone(),
            named_under: Some(a.unit_path.clone()),
        },
        _ => HazardScope::Visible { subtree: a.unit_path.clone(), led_areas: vec![], named_under: Some(a.unit_path.clone()) },
    }
}

fn decide(ctx: &Ctx, d: impl FnOnce(&Actor) -> Decision) -> Result<()> {
    match ctx.actor().map(d) {
        None | Some(Decision::Allow) => Ok(()),
        Some(Decision::Forbidden) => Err(DomainError::forbidden()),
        Some(Decision::NotFound) => Err(DomainError::not_found("隐患", "Hazard")),
    }
}

fn parse_uuid_field<T>(field: &str, v: &Option<String>, parse: fn(&str) -> Option<T>, zh: &str, en: &str) -> Result<Option<T>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| DomainError::field(field, zh, en)),
    }
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref().and_then(bihuan_domain::text::non_blank)
}

fn date_field(field: &str, v: &Option<String>) -> Result<Option<time::Date>> {
    match text(v) {
        None => Ok(None),
        Some(s) => crate::campaigns::parse_date(&s)
            .map(Some)
            .ok_or_else(|| DomainError::field(field, "日期格式应如 2021-06-30", "Write the date like 2021-06-30")),
    }
}

fn required<T>(v: Option<T>, field: &str, zh: &str, en: &str) -> Result<T> {
    v.ok_or_else(|| DomainError::field(field, zh, en))
}

impl Service {
    /// The working-day calendar as stored (the shipped one until an
    /// administrator changes a year).
    pub async fn work_calendar(&self, tx: &mut Tx) -> Result<WorkCalendar> {
        let notices = cal_store::notices(tx).await?;
        Ok(if notices.is_empty() { WorkCalendar::bundled() } else { WorkCalendar::new(&notices) })
    }

    async fn unit_ref(&self, tx: &mut Tx, id: UnitId, field: &str) -> Result<UnitRef> {
        let u = units::get(tx, id).await?.ok_or_else(|| DomainError::field(field, "单位不存在", "No such unit"))?;
        Ok(UnitRef { id: u.id, name: u.name, short_name: u.short_name, path: u.path })
    }

    async fn actor_unit(&self, tx: &mut Tx, ctx: &Ctx, fallback: &UnitRef) -> Result<UnitRef> {
        match ctx.actor() {
            Some(a) => self.unit_ref(tx, a.unit_id, "unit").await,
            None => Ok(fallback.clone()),
        }
    }

    /// The caller's name as people know it (display name, not login name).
    pub(crate) async fn actor_display_name(&self, tx: &mut Tx, ctx: &Ctx) -> Result<String> {
        Ok(match &ctx.caller {
            crate::Caller::User(a) => bihuan_store::users::get(tx, a.user_id).await?.map(|u| u.display_name).unwrap_or_else(|| a.username.clone()),
            crate::Caller::System(name) => name.clone(),
        })
    }

    /// Writes the event of a change and its audit entry.
    async fn record(&self, tx: &mut Tx, ctx: &Ctx, hazard: &Hazard, before: Option<&Hazard>, draft: &EventDraft) -> Result<HazardEvent> {
        // The timeline shows people's names, not login names.
        let name = self.actor_display_name(tx, ctx).await?;
        self.record_as(tx, ctx, &name, hazard, before, draft).await
    }

    /// [`Service::record`] with the actor's display name known already.
    /// Without `before` the hazard is new: its event is the first.
    async fn record_as(
        &self,
        tx: &mut Tx,
        ctx: &Ctx,
        name: &str,
        hazard: &Hazard,
        before: Option<&Hazard>,
        draft: &EventDraft,
    ) -> Result<HazardEvent> {
        let (user, unit) = match &ctx.caller {
            crate::Caller::User(a) => (Some(a.user_id), Some(a.unit_id)),
            crate::Caller::System(_) => (None, None),
        };
        let e = NewEvent { hazard_id: hazard.id, at: self.now(), actor_user_id: user, actor_name: name, actor_unit_id: unit, draft };
        let ev = match before {
            None => store::append_first_event(tx, e).await?,
            Some(_) => store::append_event(tx, e).await?,
        };
        self.audit(tx, ctx, &format!("hazard.{}", draft.action), "hazard", Some(hazard.id.to_string()), before, Some(hazard)).await?;
        Ok(ev)
    }

    /// Registers a hazard (发现登记). With `fixed_on_spot`, a general hazard
    /// fixed at once goes straight on to acceptance.
    pub async fn report_hazard(&self, ctx: &Ctx, draft: &HazardDraft, fixed_on_spot: Option<&str>) -> Result<Hazard> {
        Ok(self.report_hazard_with_files(ctx, draft, fixed_on_spot, Vec::new()).await?.0)
    }

    /// Registers a hazard with its photos (and, fixed on the spot, the
    /// photos after) in one transaction: the files are checked and stored
    /// first, so a bad file leaves no hazard behind, and a refused hazard
    /// links no file. Photos with role `before` belong to the registration,
    /// `after` ones to the fix on the spot.
    pub async fn report_hazard_with_files(
        &self,
        ctx: &Ctx,
        draft: &HazardDraft,
        fixed_on_spot: Option<&str>,
        files: Vec<crate::attachments::Upload>,
    ) -> Result<(Hazard, Vec<crate::attachments::Attachment>)> {
        let r = self.report_hazard_keyed(ctx, None, draft, fixed_on_spot, files).await?;
        Ok((r.hazard, r.attachments))
    }

    /// [`Service::report_hazard_with_files`] guarded by the user's
    /// idempotency key (see [`crate::idempotency`]): the first request with
    /// the key registers the hazard and records the key in the same
    /// transaction; the same request again returns that hazard as it is now
    /// (`replayed`) and registers nothing. The key covers what was typed
    /// (the draft and the fix on the spot), not the photos: a form sent
    /// again after Back has lost its files, and is still the same report.
    pub async fn report_hazard_keyed(
        &self,
        ctx: &Ctx,
        key: Option<&IdempotencyKey>,
        draft: &HazardDraft,
        fixed_on_spot: Option<&str>,
        files: Vec<crate::attachments::Upload>,
    ) -> Result<Keyed> {
        let claim = Claim::new(ctx, key, "hazard.create", &(draft, fixed_on_spot));
        if let Some(c) = &claim
            && let Some(h) = self.replay(ctx, c).await?
        {
            return Ok(Keyed { hazard: h, attachments: Vec::new(), replayed: true });
        }
        use crate::attachments::AttachmentRole;
        if let Some(actor) = ctx.actor()
            && let Some(unit) = draft.unit_id.as_deref().and_then(UnitId::parse)
        {
            // Refuse early, before any file reaches the disk, when the unit is out of reach.
            let mut tx = self.db.read().await?;
            let u = self.unit_ref(&mut tx, unit, "unit_id").await?;
            tx.commit().await?;
            decide(ctx, |_| hz::may_report(actor, &u.path))?;
        }
        let (after, before): (Vec<_>, Vec<_>) = files.into_iter().partition(|f| f.role == AttachmentRole::After);
        if !after.is_empty() && fixed_on_spot.is_none() {
            return Err(DomainError::field("after", "整改后照片随当场整改或提交整改上传", "Photos after rectification go with the fix or the submission"));
        }
        let staged_before = if before.is_empty() { Vec::new() } else { self.store_uploads(before).await? };
        let staged_after = if after.is_empty() { Vec::new() } else { self.store_uploads(after).await? };
        let (tx, h) = self.report_hazard_in(ctx, draft, fixed_on_spot.is_some()).await?;
        let mut tx = tx;
        let mut added = Vec::new();
        if !staged_before.is_empty() {
            let event = bihuan_store::attachments::latest_event(&mut tx, h.id).await?.ok_or_else(|| crate::internal("a hazard without its event"))?;
            added.extend(self.link_staged(&mut tx, ctx, &h, event, staged_before).await?);
        }
        let h = match fixed_on_spot {
            Some(rectification) => {
                let h = self.transition(&mut tx, ctx, h, Action::FixOnSpot { rectification: rectification.to_string() }).await?;
                if !staged_after.is_empty() {
                    let event = bihuan_store::attachments::latest_event(&mut tx, h.id).await?.ok_or_else(|| crate::internal("a fix without its event"))?;
                    added.extend(self.link_staged(&mut tx, ctx, &h, event, staged_after).await?);
                }
                h
            }
            None => h,
        };
        if let Some(c) = &claim
            && !self.record_key(&mut tx, c, "hazard", h.id.0).await?
        {
            // The same request, sent twice at once: the other one registered it.
            tx.rollback().await?;
            return self.replayed(ctx, c).await;
        }
        tx.commit().await?;
        Ok(Keyed { hazard: h, attachments: added, replayed: false })
    }

    /// The hazard an earlier request with the claim's key made, as it is now.
    async fn replay(&self, ctx: &Ctx, claim: &Claim<'_>) -> Result<Option<Hazard>> {
        let mut tx = self.db.read().await?;
        let h = match self.recorded(&mut tx, claim).await? {
            Some(id) => Some(self.load_for(&mut tx, ctx, HazardId(id), HazardOp::Read, None).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(h)
    }

    /// The answer to a request that lost the race to its twin.
    async fn replayed(&self, ctx: &Ctx, claim: &Claim<'_>) -> Result<Keyed> {
        match self.replay(ctx, claim).await? {
            Some(hazard) => Ok(Keyed { hazard, attachments: Vec::new(), replayed: true }),
            None => Err(crate::internal("an idempotency key without its record")),
        }
    }

    /// Validates and inserts a new hazard in a new write transaction, and
    /// returns the open transaction with the hazard.
    async fn report_hazard_in(&self, ctx: &Ctx, draft: &HazardDraft, fixed_on_spot: bool) -> Result<(Tx, Hazard)> {
        let today = self.today();
        let mut errors = Vec::new();
        let fields = match draft.validate(today, crate::campaigns::parse_date) {
            Ok(f) => Some(f),
            Err(e) => {
                errors = e.fields;
                None
            }
        };
        let unit_id = match parse_uuid_field("unit_id", &draft.unit_id, UnitId::parse, "隐患所在单位无效", "The unit is not valid") {
            Ok(Some(u)) => Some(u),
            Ok(None) => {
                errors.push(FieldError::new("unit_id", "请选择隐患所在单位", "Choose the unit where the hazard is"));
                None
            }
            Err(e) => {
                errors.extend(e.fields);
                None
            }
        };
        let area_id = parse_uuid_field("area_id", &draft.area_id, AreaId::parse, "整治领域无效", "The area is not valid");
        let area_id = match area_id {
            Ok(a) => a,
            Err(e) => {
                errors.extend(e.fields);
                None
            }
        };
        let (Some(fields), Some(unit_id), true) = (fields, unit_id, errors.is_empty()) else {
            return Err(DomainError::invalid(errors));
        };
        let mut tx = self.db.begin().await?;
        // The unit, the area's campaign, the actor's unit and name: one query.
        let actor = ctx.actor();
        let refs = store::registration_refs(&mut tx, unit_id, actor.map(|a| a.unit_id), actor.map(|a| a.user_id), area_id).await?;
        let unit = refs.unit.ok_or_else(|| DomainError::field("unit_id", "单位不存在", "No such unit"))?;
        decide(ctx, |a| hz::may_report(a, &unit.path))?;
        let area = match area_id {
            None => None,
            Some(a) => Some((a, refs.area_campaign.ok_or_else(|| DomainError::field("area_id", "整治领域不存在", "No such area"))?)),
        };
        let role = ctx.actor().map(|a| a.role);
        let source = match (fields.source, role) {
            (Some(s), Some(Role::Enterprise)) if s != HazardSource::SelfInspection => {
                return Err(DomainError::field("source", "企业登记的隐患只能是企业自查", "An enterprise registers what it found itself"));
            }
            (Some(s), _) => s,
            (None, Some(Role::Enterprise)) => HazardSource::SelfInspection,
            (None, _) => HazardSource::Inspection,
        };
        let now = self.now();
        let found_at = match fields.found_on {
            Some(d) if d != today => d.with_hms(0, 0, 0).map(|t| t.assume_offset(bihuan_domain::clock::SHANGHAI)).unwrap_or(now),
            _ => now,
        };
        let found_by_unit = match actor {
            Some(_) => refs.actor_unit.ok_or_else(|| DomainError::field("unit", "单位不存在", "No such unit"))?,
            None => unit.clone(),
        };
        // The timeline shows people's names, not login names.
        let actor_name = match &ctx.caller {
            crate::Caller::User(a) => refs.actor_name.unwrap_or_else(|| a.username.clone()),
            crate::Caller::System(name) => name.clone(),
        };
        let found_by = fields.found_by.clone().unwrap_or_else(|| actor_name.clone());
        let num = store::next_number(&mut tx, "hazard").await?;
        let finding = Finding {
            unit,
            source,
            found_at,
            found_by,
            found_by_user: ctx.actor().map(|a| a.user_id),
            found_by_unit,
        };
        let mut h = Hazard::registered(HazardId::new(), num, format!("YH{}-{:06}", today.year(), num), finding, &fields, now);
        h.campaign_id = area.map(|(_, c)| c);
        h.area_id = area.map(|(a, _)| a);
        // Saying it was fixed on the spot makes a general hazard 即查即改.
        if fixed_on_spot && h.level == HazardLevel::General {
            h.manage_type = ManageType::Immediate;
        }
        store::insert(&mut tx, &h).await?;
        let created = EventDraft {
            action: "create".into(),
            from_state: None,
            to_state: HazardState::Reported,
            comment: None,
            data: serde_json::json!({ "level": h.level, "source": h.source, "manage_type": h.manage_type }),
        };
        self.record_as(&mut tx, ctx, &actor_name, &h, None, &created).await?;
        Ok((tx, h))
    }

    /// Authorises and applies one action, writing the result, its event,
    /// its side records and its audit entry.
    async fn transition(&self, tx: &mut Tx, ctx: &Ctx, h: Hazard, action: Action) -> Result<Hazard> {
        let op = action.op();
        decide(ctx, |a| hz::authorize(a, &h.facts(), op))?;
        let calendar = match op {
            HazardOp::Assign => self.work_calendar(tx).await?,
            _ => WorkCalendar::default(),
        };
        let now = hz::Now { at: self.now(), today: self.today(), calendar: &calendar };
        let (mut next, event) = hz::apply(&h, &action, &now)?;
        next.version = h.version + 1;
        store::update(tx, &h, &next).await?;
        match &action {
            Action::List(l) => store::insert_listing(tx, h.id, l, now.at).await?,
            Action::RequestExtension { .. } => {
                if let Some(req) = &next.pending_extension {
                    store::insert_extension(tx, h.id, req, ctx.actor().map(|a| a.user_id)).await?;
                }
            }
            Action::DecideExtension { approve, comment, decided_by } => {
                if let Some(req) = &h.pending_extension {
                    let status = if *approve { "approved" } else { "refused" };
                    store::close_extension(tx, req.id, status, Some(decided_by), now.at, comment.as_deref()).await?;
                }
            }
            Action::Accept { .. } if h.is_listed() => store::lift_listing(tx, h.id, now.today).await?,
            _ => {}
        }
        if let (Some(req), None) = (&h.pending_extension, &next.pending_extension)
            && !matches!(action, Action::DecideExtension { .. })
        {
            store::close_extension(tx, req.id, "withdrawn", None, now.at, Some("整改已提交或隐患已撤销")).await?;
        }
        self.record(tx, ctx, &next, Some(&h), &event).await?;
        Ok(next)
    }

    async fn load_for(&self, tx: &mut Tx, ctx: &Ctx, id: HazardId, op: HazardOp, version: Option<i64>) -> Result<Hazard> {
        let h = store::get(tx, id).await?.ok_or_else(|| DomainError::not_found("隐患", "Hazard"))?;
        decide(ctx, |a| hz::authorize(a, &h.facts(), op))?;
        if version.is_some_and(|v| v != h.version) {
            return Err(bihuan_store::StoreError::Stale.into());
        }
        Ok(h)
    }

    /// Moves a hazard on by one action.
    pub async fn act_on_hazard(&self, ctx: &Ctx, id: HazardId, input: &ActionInput) -> Result<Hazard> {
        Ok(self.act_on_hazard_keyed(ctx, None, id, input).await?.hazard)
    }

    /// [`Service::act_on_hazard`] guarded by the user's idempotency key: the
    /// same action on the same hazard sent again returns the hazard as it is
    /// now (`replayed`) instead of acting twice or failing because the state
    /// has moved on.
    pub async fn act_on_hazard_keyed(&self, ctx: &Ctx, key: Option<&IdempotencyKey>, id: HazardId, input: &ActionInput) -> Result<Keyed> {
        let op = HazardOp::parse(input.action.trim())
            .filter(|o| !matches!(o, HazardOp::Read | HazardOp::Edit | HazardOp::Plan | HazardOp::Attach))
            .ok_or_else(|| {
                DomainError::field("action", format!("未知的操作“{}”", input.action), format!("Unknown action '{}'", input.action))
            })?;
        let claim = Claim::new(ctx, key, "hazard.action", &(id, input));
        if let Some(c) = &claim
            && let Some(h) = self.replay(ctx, c).await?
        {
            return Ok(Keyed { hazard: h, attachments: Vec::new(), replayed: true });
        }
        let mut tx = self.db.begin().await?;
        let h = self.load_for(&mut tx, ctx, id, op, input.version).await?;
        let action = self.parse_action(&mut tx, ctx, &h, op, input).await?;
        let next = self.transition(&mut tx, ctx, h, action).await?;
        if let Some(c) = &claim
            && !self.record_key(&mut tx, c, "hazard", next.id.0).await?
        {
            tx.rollback().await?;
            return self.replayed(ctx, c).await;
        }
        tx.commit().await?;
        Ok(Keyed { hazard: next, attachments: Vec::new(), replayed: false })
    }

    async fn parse_action(&self, tx: &mut Tx, ctx: &Ctx, h: &Hazard, op: HazardOp, i: &ActionInput) -> Result<Action> {
        let comment = text(&i.comment);
        let reason = || {
            text(&i.reason).or_else(|| text(&i.comment)).ok_or_else(|| DomainError::field("reason", "请说明理由", "Give the reason"))
        };
        Ok(match op {
            HazardOp::Assign => {
                let unit_id = parse_uuid_field("responsible_unit_id", &i.responsible_unit_id, UnitId::parse, "责任单位无效", "The responsible unit is not valid")?;
                let responsible_unit = match unit_id {
                    Some(u) => self.unit_ref(tx, u, "responsible_unit_id").await?,
                    None => h.unit.clone(),
                };
                let accepting_unit = match parse_uuid_field("accepting_unit_id", &i.accepting_unit_id, UnitId::parse, "验收单位无效", "The accepting unit is not valid")? {
                    Some(u) => Some(self.unit_ref(tx, u, "accepting_unit_id").await?),
                    None => None,
                };
                let deadline = date_field("deadline", &i.deadline)?;
                let rule = match (deadline, i.deadline_days, i.deadline_basis.as_deref().map(str::trim)) {
                    (Some(_), _, _) => DeadlineRule::Date,
                    (None, Some(n), Some("calendar")) => DeadlineRule::CalendarDays(n),
                    (None, Some(n), None | Some("working") | Some("")) => DeadlineRule::WorkingDays(n),
                    (None, Some(_), Some(b)) => {
                        return Err(DomainError::field("deadline_basis", format!("期限类型“{b}”应为 working 或 calendar"), format!("The basis '{b}' must be working or calendar")));
                    }
                    (None, None, _) => {
                        return Err(DomainError::field("deadline", "请确定整改期限：日期或天数", "Set the deadline: a date or a number of days"));
                    }
                };
                let by_unit = self.actor_unit(tx, ctx, &h.unit).await?;
                Action::Assign {
                    responsible_unit,
                    responsible_person: text(&i.responsible_person).or_else(|| h.responsible_person.clone()).unwrap_or_default(),
                    responsible_phone: text(&i.responsible_phone),
                    rule,
                    deadline,
                    accepting_unit,
                    by_unit,
                    comment,
                }
            }
            HazardOp::Start => Action::Start { comment },
            HazardOp::Submit => Action::Submit { rectification: text(&i.rectification).unwrap_or_default(), comment },
            HazardOp::FixOnSpot => Action::FixOnSpot { rectification: text(&i.rectification).unwrap_or_default() },
            HazardOp::Accept => {
                let accepted_by = match text(&i.accepted_by) {
                    Some(n) => n,
                    None => self.actor_display_name(tx, ctx).await?,
                };
                Action::Accept { accepted_by, comment }
            }
            HazardOp::Reject => Action::Reject { reason: reason()? },
            HazardOp::Dismiss => {
                let reason_code = text(&i.dismiss_reason).unwrap_or_else(|| "not_a_hazard".into());
                let dismiss = DismissReason::parse(&reason_code).ok_or_else(|| {
                    DomainError::field("dismiss_reason", "撤销原因应为 not_a_hazard 或 duplicate", "The reason must be not_a_hazard or duplicate")
                })?;
                let duplicate_of = match text(&i.duplicate_of) {
                    None => None,
                    Some(s) => {
                        let other = match HazardId::parse(&s) {
                            Some(id) => store::get(tx, id).await?,
                            None => store::get_by_code(tx, &s).await?,
                        };
                        let other = other.ok_or_else(|| DomainError::field("duplicate_of", format!("找不到隐患“{s}”"), format!("No hazard '{s}'")))?;
                        Some(other.id)
                    }
                };
                Action::Dismiss { reason: dismiss, duplicate_of, comment: comment.or_else(|| text(&i.reason)).unwrap_or_default() }
            }
            HazardOp::Reopen => Action::Reopen { reason: reason()?, deadline: date_field("deadline", &i.deadline)? },
            HazardOp::RequestExtension => {
                let requested = required(date_field("requested_deadline", &i.requested_deadline)?, "requested_deadline", "请填写申请延期至的日期", "Enter the new deadline requested")?;
                Action::RequestExtension {
                    id: ExtensionId::new(),
                    requested_deadline: requested,
                    reason: text(&i.reason).unwrap_or_default(),
                    requested_by: self.actor_display_name(tx, ctx).await?,
                }
            }
            HazardOp::DecideExtension => Action::DecideExtension {
                approve: required(i.approve, "approve", "请选择同意或不同意", "Choose to approve or refuse")?,
                comment,
                decided_by: self.actor_display_name(tx, ctx).await?,
            },
            HazardOp::List => {
                let level = match text(&i.listing_level) {
                    None => ListingLevel::Town,
                    Some(l) => ListingLevel::parse(&l).ok_or_else(|| DomainError::field("listing_level", "督办级别应为镇级、区级或市级", "The level must be town, district or city"))?,
                };
                let sup = match parse_uuid_field("supervising_unit_id", &i.supervising_unit_id, UnitId::parse, "督办单位无效", "The supervising unit is not valid")? {
                    Some(u) => self.unit_ref(tx, u, "supervising_unit_id").await?,
                    None => self.actor_unit(tx, ctx, &h.unit).await?,
                };
                let required_by = required(date_field("required_by", &i.required_by)?, "required_by", "请填写要求完成时间", "Enter the date by which it must be done")?;
                Action::List(Listing {
                    level,
                    supervising_unit_id: sup.id,
                    supervising_unit_name: sup.name,
                    supervising_unit_path: sup.path,
                    document_number: text(&i.document_number).unwrap_or_default(),
                    listed_on: date_field("listed_on", &i.listed_on)?.unwrap_or_else(|| self.today()),
                    required_by,
                    signatory: text(&i.signatory).unwrap_or_default(),
                    requirements: text(&i.requirements),
                    lifted_on: None,
                })
            }
            HazardOp::Read | HazardOp::Edit | HazardOp::Plan | HazardOp::Attach => {
                return Err(DomainError::field("action", "不支持的操作", "Unsupported action"));
            }
        })
    }

    /// Changes the descriptive fields.
    pub async fn edit_hazard(&self, ctx: &Ctx, id: HazardId, draft: &HazardDraft, version: Option<i64>) -> Result<Hazard> {
        let fields = draft.validate(self.today(), crate::campaigns::parse_date)?;
        let mut tx = self.db.begin().await?;
        let h = self.load_for(&mut tx, ctx, id, HazardOp::Edit, version).await?;
        if !HazardOp::Edit.possible(&h) {
            return Err(DomainError::conflict(
                format!("隐患已{}，不能修改", h.state.label_zh()),
                format!("The hazard is {}; it can no longer be edited", h.state.label_en().to_lowercase()),
            ));
        }
        let mut next = h.clone();
        let changed = next.describe(&fields);
        if changed.is_empty() {
            return Ok(h);
        }
        if next.level == HazardLevel::Major && next.manage_type == ManageType::Immediate {
            return Err(DomainError::field("manage_type", "重大隐患不能即查即改", "A major hazard is not fixed on the spot"));
        }
        next.updated_at = self.now();
        next.version = h.version + 1;
        store::update(&mut tx, &h, &next).await?;
        let ev = EventDraft { action: "edit".into(), from_state: Some(h.state), to_state: h.state, comment: None, data: serde_json::json!({ "changed": changed }) };
        self.record(&mut tx, ctx, &next, Some(&h), &ev).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Fills the 五到位, the major-hazard report and the 治理方案.
    pub async fn plan_hazard(&self, ctx: &Ctx, id: HazardId, input: &PlanInput) -> Result<Hazard> {
        let mut tx = self.db.begin().await?;
        let h = self.load_for(&mut tx, ctx, id, HazardOp::Plan, input.version).await?;
        if !HazardOp::Plan.possible(&h) {
            return Err(DomainError::conflict(
                format!("隐患当前状态为“{}”，不能修改整改方案", h.state.label_zh()),
                format!("The hazard is {}; the plan can no longer change", h.state.label_en().to_lowercase()),
            ));
        }
        let mut next = h.clone();
        let mut changed = Vec::new();
        let mut set_text = |name: &'static str, target: &mut Option<String>, v: &Option<String>| {
            if let Some(v) = v {
                let new = bihuan_domain::text::non_blank(v);
                if *target != new {
                    *target = new;
                    changed.push(name);
                }
            }
        };
        set_text("measures", &mut next.measures, &input.measures);
        set_text("contingency", &mut next.contingency, &input.contingency);
        set_text("responsible_person", &mut next.responsible_person, &input.responsible_person);
        set_text("responsible_phone", &mut next.responsible_phone, &input.responsible_phone);
        if let Some(f) = &input.funds {
            let draft = HazardDraft { funds: Some(f.clone()), name: "x".into(), description: "x".into(), level: Some("general".into()), ..Default::default() };
            let funds = draft.validate(self.today(), crate::campaigns::parse_date)?.funds;
            if next.funds != funds {
                next.funds = funds;
                changed.push("funds");
            }
        }
        if let Some(r) = &input.major_report
            && next.major_report.as_ref() != Some(r)
        {
            next.major_report = Some(r.clone());
            changed.push("major_report");
        }
        if let Some(p) = &input.plan
            && next.plan.as_ref() != Some(p)
        {
            next.plan = Some(p.clone());
            changed.push("plan");
        }
        if changed.is_empty() {
            return Ok(h);
        }
        next.updated_at = self.now();
        next.version = h.version + 1;
        store::update(&mut tx, &h, &next).await?;
        let missing: Vec<String> = next.submission_gaps().into_iter().map(|f| f.field).collect();
        let ev = EventDraft {
            action: "plan".into(),
            from_state: Some(h.state),
            to_state: h.state,
            comment: None,
            data: serde_json::json!({ "changed": changed, "still_missing": missing }),
        };
        self.record(&mut tx, ctx, &next, Some(&h), &ev).await?;
        tx.commit().await?;
        Ok(next)
    }

    pub async fn hazard_detail(&self, ctx: &Ctx, id: HazardId) -> Result<HazardDetail> {
        let mut tx = self.db.read().await?;
        let h = self.load_for(&mut tx, ctx, id, HazardOp::Read, None).await?;
        let events = store::events(&mut tx, id).await?;
        let extensions = store::extensions(&mut tx, id).await?;
        let listings = store::listings(&mut tx, id).await?;
        tx.commit().await?;
        let today = self.today();
        let actions = match ctx.actor() {
            Some(a) => hz::available_ops(a, &h),
            None => HazardOp::ALL.into_iter().filter(|o| *o != HazardOp::Read && o.possible(&h)).collect(),
        };
        Ok(HazardDetail { overdue: h.is_overdue(today), days_overdue: h.days_overdue(today), hazard: h, events, extensions, listings, actions })
    }

    /// The hazard with this code, if the caller may see it.
    pub async fn hazard_id_by_code(&self, ctx: &Ctx, code: &str) -> Result<Option<HazardId>> {
        let mut tx = self.db.read().await?;
        let h = store::get_by_code(&mut tx, code.trim()).await?;
        tx.commit().await?;
        Ok(h.filter(|h| ctx.actor().is_none_or(|a| hz::visible(a, &h.facts()))).map(|h| h.id))
    }

    pub async fn list_hazards(&self, ctx: &Ctx, filter: &HazardFilter) -> Result<(Vec<HazardItem>, Option<String>)> {
        let mut tx = self.db.read().await?;
        let page: HazardPage = store::list(&mut tx, &hazard_scope(ctx), filter, self.today()).await.map_err(|e| match e {
            bihuan_store::StoreError::Corrupt(m) if m == "bad cursor" => DomainError::field("after", "翻页参数无效", "The page cursor is not valid"),
            other => other.into(),
        })?;
        tx.commit().await?;
        let today = self.today();
        let items = page
            .items
            .into_iter()
            .map(|h| HazardItem { overdue: h.is_overdue(today), days_overdue: h.days_overdue(today), hazard: h })
            .collect();
        Ok((items, page.next))
    }

    /// Counts and rates of the hazards matching `filter`, broken down by `by`.
    pub async fn hazard_stats(&self, ctx: &Ctx, filter: &HazardFilter, by: Option<Breakdown>) -> Result<HazardStats> {
        let scope = hazard_scope(ctx);
        let today = self.today();
        let mut tx = self.db.read().await?;
        let root: Option<UnitPath> = filter.within.clone().or_else(|| match &scope {
            HazardScope::Visible { subtree, .. } => Some(subtree.clone()),
            HazardScope::All => None,
        });
        let counts = store::tally(&mut tx, &scope, filter, today, by, root.as_ref()).await?;
        let groups = match by {
            None => vec![],
            Some(b) => {
                let labels = self.group_labels(&mut tx, b, &counts.groups).await?;
                counts.groups.into_iter().zip(labels).map(|(t, (zh, en))| Rates::new(t, zh, en)).collect()
            }
        };
        tx.commit().await?;
        Ok(HazardStats { today: today.to_string(), total: Rates::new(counts.total, "合计".into(), "Total".into()), by, groups })
    }

    /// Chinese and English labels of the groups' keys, in order (units and
    /// areas looked up together, not one query per group).
    async fn group_labels(&self, tx: &mut Tx, by: Breakdown, groups: &[hz::Tally]) -> Result<Vec<(String, String)>> {
        let pair = |zh: &str, en: &str| (zh.to_string(), en.to_string());
        let keys = groups.iter().map(|g| g.key.as_str());
        Ok(match by {
            Breakdown::Level => {
                keys.map(|k| HazardLevel::parse(k).map(|v| pair(v.label_zh(), v.label_en())).unwrap_or_else(|| pair(k, k))).collect()
            }
            Breakdown::Source => {
                keys.map(|k| HazardSource::parse(k).map(|v| pair(v.label_zh(), v.label_en())).unwrap_or_else(|| pair(k, k))).collect()
            }
            Breakdown::State => {
                keys.map(|k| HazardState::parse(k).map(|v| pair(v.label_zh(), v.label_en())).unwrap_or_else(|| pair(k, k))).collect()
            }
            Breakdown::Month => keys.map(|k| pair(k, k)).collect(),
            Breakdown::Area => {
                let mut known: std::collections::HashMap<AreaId, (String, String)> = std::collections::HashMap::new();
                let mut out = Vec::new();
                for k in keys {
                    let Some(id) = AreaId::parse(k) else {
                        out.push(pair("未分领域", "No area"));
                        continue;
                    };
                    if !known.contains_key(&id) {
                        // One look-up brings every area of the same campaign.
                        if let Some(a) = campaigns::area(tx, id).await? {
                            for a in campaigns::areas(tx, a.campaign_id).await? {
                                known.insert(a.id, (a.short_name.clone().unwrap_or_else(|| a.name.clone()), a.code.clone()));
                            }
                        }
                    }
                    out.push(known.get(&id).cloned().unwrap_or_else(|| pair(k, k)));
                }
                out
            }
            Breakdown::Unit => {
                let ids: Vec<Option<UnitId>> = keys.map(|k| UnitPath::from_stored(k.to_string()).ids().last().copied()).collect();
                let names = store::unit_names(tx, &ids.iter().flatten().copied().collect::<Vec<_>>()).await?;
                groups
                    .iter()
                    .zip(ids)
                    .map(|(g, id)| match id.and_then(|id| names.get(&id)) {
                        Some(u) => (u.name.clone(), u.name.clone()),
                        None => pair(&g.key, &g.key),
                    })
                    .collect()
            }
        })
    }
}

/// When a hazard is due, in words (for pages and exports).
pub fn deadline_words(h: &Hazard, today: time::Date) -> String {
    match h.deadline {
        None => "—".into(),
        Some(d) if h.is_overdue(today) => format!("{d}（逾期{}天）", h.days_overdue(today)),
        Some(d) => d.to_string(),
    }
}

impl Service {
    /// Moves a hazard on by one action and adds files to it in the same
    /// transaction: the photos of the rectification with `submit` or
    /// `fix_on_spot`, an acceptance report with `accept`. The files are linked
    /// to the action's timeline event; besides the action's audit entry, a
    /// second one (`hazard.attach`) lists the files with their SHA-256.
    /// Without files this is [`Service::act_on_hazard`].
    pub async fn act_on_hazard_with_files(
        &self,
        ctx: &Ctx,
        id: HazardId,
        input: &ActionInput,
        files: Vec<crate::attachments::Upload>,
    ) -> Result<(Hazard, Vec<crate::attachments::Attachment>)> {
        if files.is_empty() {
            return Ok((self.act_on_hazard(ctx, id, input).await?, Vec::new()));
        }
        let op = HazardOp::parse(input.action.trim())
            .filter(|o| !matches!(o, HazardOp::Read | HazardOp::Edit | HazardOp::Plan | HazardOp::Attach))
            .ok_or_else(|| {
                DomainError::field("action", format!("未知的操作“{}”", input.action), format!("Unknown action '{}'", input.action))
            })?;
        // Nothing reaches the disk for a caller who may not take this action.
        let mut tx = self.db.read().await?;
        self.load_for(&mut tx, ctx, id, op, input.version).await?;
        tx.commit().await?;
        let staged = self.store_uploads(files).await?;
        let mut tx = self.db.begin().await?;
        let h = self.load_for(&mut tx, ctx, id, op, input.version).await?;
        let action = self.parse_action(&mut tx, ctx, &h, op, input).await?;
        let next = self.transition(&mut tx, ctx, h, action).await?;
        let event = bihuan_store::attachments::latest_event(&mut tx, id).await?.ok_or_else(|| crate::internal("a transition without its event"))?;
        let added = self.link_staged(&mut tx, ctx, &next, event, staged).await?;
        tx.commit().await?;
        Ok((next, added))
    }
}
