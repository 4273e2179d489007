//! Reading warnings, acknowledging them, changing rules, and the inbox.
//!
//! A warning is visible to whoever sees its unit (the same scope as
//! hazards) and to every unit it is addressed to, wherever that unit sits:
//! a lead department sees the overdue hazards of its area, the office of a
//! jurisdiction the escalations addressed to it.

use crate::{Ctx, Result, Service};
use bihuan_domain::permission::{Actor, Scope};
use bihuan_domain::role::Role;
use bihuan_domain::warning::{Params, RuleCode, WarningLevel, WarningState};
use bihuan_domain::{DomainError, FieldError};
use bihuan_store::notify::{self, NotificationRow};
use bihuan_store::warnings::{self as store, AudienceRow, EventRow, RuleRow, WarningFilter, WarningRow};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Unread notifications are counted up to this (the badge then shows "99+").
pub const UNREAD_CAP: i64 = 100;

/// What a warnings list asks for.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct WarningQuery {
    pub level: Option<WarningLevel>,
    /// `open`, `acknowledged`, `resolved`, or `all`; default open and acknowledged.
    pub state: Option<String>,
    pub rule: Option<RuleCode>,
    /// Only warnings addressed to the user's unit (or, for the office and leaders, to their jurisdiction).
    #[serde(default)]
    pub mine: bool,
    pub hazard: Option<Uuid>,
    /// Limit to this unit's subtree (within what the user sees).
    pub within: Option<Uuid>,
    pub since: Option<OffsetDateTime>,
}

/// One warning with what a page needs to show it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WarningView {
    pub id: Uuid,
    pub rule: RuleCode,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub hazard_id: Option<Uuid>,
    pub unit_id: Uuid,
    pub label: String,
    pub level: WarningLevel,
    pub step: i64,
    pub state: WarningState,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub facts: Value,
    /// The rule's sentence for today, in the caller's language.
    pub description: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub first_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub changed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub acknowledged_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub resolved_at: Option<OffsetDateTime>,
    pub resolution: Option<String>,
    pub version: i64,
}

/// A warning with its history and audience, for its page.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WarningDetail {
    pub warning: WarningView,
    pub unit_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub events: Vec<EventView>,
    pub audience: Vec<AudienceView>,
    /// The caller may acknowledge it now.
    pub can_acknowledge: bool,
    /// Acknowledging needs a reason (a major hazard deliberately not listed).
    pub comment_required: bool,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventView {
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    pub from_level: Option<String>,
    pub to_level: String,
    pub to_step: i64,
    pub to_state: String,
    pub actor: String,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AudienceView {
    pub unit_id: Uuid,
    pub unit_name: String,
    /// Empty: every user of the unit; `office` or `leader` of the jurisdiction.
    pub role: String,
    pub rung: String,
    pub from_step: i64,
}

/// The audience pairs that address an actor: their unit, and for the
/// office and leaders their jurisdiction's government with their role.
fn addressed_to(a: &Actor) -> Vec<(Uuid, String)> {
    let mut out = vec![(a.unit_id.0, String::new())];
    let gov = a.jurisdiction.ids().last().map(|u| u.0);
    match (a.role, gov) {
        (Role::Office, Some(g)) => out.push((g, "office".into())),
        (Role::Leader, Some(g)) => out.push((g, "leader".into())),
        _ => {}
    }
    out
}

fn addresses(a: &Actor, audience: &[AudienceRow]) -> bool {
    let mine = addressed_to(a);
    audience.iter().any(|r| mine.iter().any(|(u, role)| *u == r.unit_id && *role == r.role))
}

pub(crate) fn view(w: &WarningRow, english: bool, today: time::Date) -> Result<WarningView> {
    let corrupt = |what: &str| crate::internal(format!("warning {} has a bad {what}", w.id));
    let rule = RuleCode::parse(&w.rule_code).ok_or_else(|| corrupt("rule"))?;
    let facts: Value = serde_json::from_str(&w.facts_json).unwrap_or(Value::Null);
    Ok(WarningView {
        id: w.id,
        rule,
        subject_kind: w.subject_kind.clone(),
        subject_id: w.subject_id,
        hazard_id: w.hazard_id,
        unit_id: w.unit_id,
        label: w.label.clone(),
        level: WarningLevel::parse(&w.level).ok_or_else(|| corrupt("level"))?,
        step: w.step,
        state: WarningState::parse(&w.state).ok_or_else(|| corrupt("state"))?,
        description: bihuan_domain::warning::describe(rule, &facts, today, english),
        facts,
        first_seen_at: w.first_seen_at,
        changed_at: w.changed_at,
        acknowledged_at: w.acknowledged_at,
        resolved_at: w.resolved_at,
        resolution: w.resolution.clone(),
        version: w.version,
    })
}

impl Service {
    /// The filter for what an actor may see, narrowed by a query.
    pub async fn warning_filter(&self, ctx: &Ctx, q: &WarningQuery) -> Result<WarningFilter> {
        let mut f = WarningFilter {
            states: match q.state.as_deref() {
                None | Some("") => Vec::new(),
                Some("all") => WarningState::ALL.iter().map(|s| s.as_str().to_string()).collect(),
                Some(s) => vec![WarningState::parse(s)
                    .ok_or_else(|| DomainError::field("state", "预警状态不正确", "Unknown warning state"))?
                    .as_str()
                    .to_string()],
            },
            level: q.level.map(|l| l.as_str().to_string()),
            rule: q.rule.map(|r| r.as_str().to_string()),
            hazard: q.hazard,
            since: q.since,
            ..WarningFilter::default()
        };
        if let Some(a) = ctx.actor() {
            f.within = match a.scope() {
                Scope::All => None,
                Scope::Subtree(p) => Some(p.as_str().to_string()),
            };
            f.addressed_to = addressed_to(a);
            f.only_addressed = q.mine;
        }
        if let Some(u) = q.within {
            let mut tx = self.db.read().await?;
            let unit = bihuan_store::units::get(&mut tx, bihuan_domain::ids::UnitId(u)).await?;
            tx.commit().await?;
            let unit = unit.ok_or_else(|| DomainError::not_found("单位", "Unit"))?;
            if let Some(a) = ctx.actor()
                && !a.sees(&unit.path)
            {
                return Err(DomainError::not_found("单位", "Unit"));
            }
            f.within = Some(unit.path.as_str().to_string());
            f.addressed_to.clear();
        }
        Ok(f)
    }

    /// A page of warnings, most serious first; `after` continues a previous page.
    pub async fn list_warnings(
        &self,
        ctx: &Ctx,
        q: &WarningQuery,
        after: Option<(i64, OffsetDateTime, Uuid)>,
        limit: i64,
        english: bool,
    ) -> Result<Vec<WarningView>> {
        let f = self.warning_filter(ctx, q).await?;
        let mut tx = self.db.read().await?;
        let rows = store::list(&mut tx, &f, after, limit.clamp(1, 500)).await?;
        tx.commit().await?;
        let today = self.today();
        rows.iter().map(|w| view(w, english, today)).collect()
    }

    /// Active warnings by level for a query (the cockpit's tiles, the workbench queue).
    pub async fn warning_counts(&self, ctx: &Ctx, q: &WarningQuery) -> Result<BTreeMap<WarningLevel, i64>> {
        let f = self.warning_filter(ctx, q).await?;
        let mut tx = self.db.read().await?;
        let rows = store::count_by_level(&mut tx, &f).await?;
        tx.commit().await?;
        let mut out: BTreeMap<WarningLevel, i64> = WarningLevel::ALL.iter().map(|l| (*l, 0)).collect();
        for (level, n) in rows {
            if let Some(l) = WarningLevel::parse(&level) {
                out.insert(l, n);
            }
        }
        Ok(out)
    }

    async fn visible_warning(&self, ctx: &Ctx, tx: &mut bihuan_store::Tx, id: Uuid) -> Result<(WarningRow, Vec<AudienceRow>)> {
        let w = store::get(tx, id).await?.ok_or_else(|| DomainError::not_found("预警", "Warning"))?;
        let audience = store::audience(tx, id).await?;
        if let Some(a) = ctx.actor()
            && !a.sees(&bihuan_domain::unit::UnitPath::from_stored(w.unit_path.clone()))
            && !addresses(a, &audience)
        {
            return Err(DomainError::not_found("预警", "Warning"));
        }
        Ok((w, audience))
    }

    fn may_acknowledge(&self, ctx: &Ctx, w: &WarningRow, audience: &[AudienceRow]) -> bool {
        if w.state != WarningState::Open.as_str() {
            return false;
        }
        match ctx.actor() {
            None => true,
            Some(a) => match a.role {
                Role::Admin => true,
                Role::Leader | Role::Expert => false,
                Role::Office => {
                    bihuan_domain::unit::UnitPath::from_stored(w.unit_path.clone()).is_within(&a.jurisdiction) || addresses(a, audience)
                }
                _ => addresses(a, audience),
            },
        }
    }

    pub async fn warning_detail(&self, ctx: &Ctx, id: Uuid, english: bool) -> Result<WarningDetail> {
        let mut tx = self.db.read().await?;
        let (w, audience) = self.visible_warning(ctx, &mut tx, id).await?;
        let events: Vec<EventRow> = store::events(&mut tx, id).await?;
        let mut ids: Vec<bihuan_domain::ids::UnitId> = audience.iter().map(|a| bihuan_domain::ids::UnitId(a.unit_id)).collect();
        ids.push(bihuan_domain::ids::UnitId(w.unit_id));
        let names = bihuan_store::hazards::unit_names(&mut tx, &ids).await?;
        tx.commit().await?;
        let name = |u: Uuid| names.get(&bihuan_domain::ids::UnitId(u)).map(|r| r.name.clone()).unwrap_or_default();
        let can_acknowledge = self.may_acknowledge(ctx, &w, &audience);
        Ok(WarningDetail {
            comment_required: w.rule_code == RuleCode::MajorNotListed.as_str(),
            can_acknowledge,
            unit_name: name(w.unit_id),
            audience: audience
                .iter()
                .map(|a| AudienceView {
                    unit_id: a.unit_id,
                    unit_name: name(a.unit_id),
                    role: a.role.clone(),
                    rung: a.rung.clone(),
                    from_step: a.from_step,
                })
                .collect(),
            events: events
                .into_iter()
                .map(|e| EventView {
                    kind: e.kind,
                    at: e.at,
                    from_level: e.from_level,
                    to_level: e.to_level,
                    to_step: e.to_step,
                    to_state: e.to_state,
                    actor: e.actor_name,
                    comment: e.comment,
                })
                .collect(),
            warning: view(&w, english, self.today())?,
        })
    }

    /// Someone addressed has seen the warning (and, for a major hazard
    /// deliberately not listed, says why). It stays until its condition ends.
    pub async fn acknowledge_warning(&self, ctx: &Ctx, id: Uuid, comment: Option<&str>, expected_version: Option<i64>) -> Result<WarningView> {
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        let mut tx = self.db.begin().await?;
        let (w, audience) = self.visible_warning(ctx, &mut tx, id).await?;
        if w.state != WarningState::Open.as_str() {
            return Err(DomainError::conflict("该预警已知悉或已解除", "This warning is already acknowledged or resolved"));
        }
        if !self.may_acknowledge(ctx, &w, &audience) {
            return Err(DomainError::forbidden());
        }
        if expected_version.is_some_and(|v| v != w.version) {
            return Err(bihuan_store::StoreError::Stale.into());
        }
        if w.rule_code == RuleCode::MajorNotListed.as_str() && comment.is_none() {
            return Err(DomainError::invalid(vec![FieldError::new(
                "comment",
                "请说明不予挂牌督办的理由",
                "Say why this major hazard is not put under listed supervision",
            )]));
        }
        let now = self.now();
        let mut new = w.clone();
        new.state = WarningState::Acknowledged.as_str().to_string();
        new.acknowledged_at = Some(now);
        new.acknowledged_by = ctx.actor().map(|a| a.user_id.0);
        new.changed_at = now;
        new.version = w.version + 1;
        if !store::update_warning(&mut tx, &new, w.version).await? {
            return Err(bihuan_store::StoreError::Stale.into());
        }
        let user = ctx.actor().map(|a| a.user_id.0);
        let name = self.actor_display_name(&mut tx, ctx).await?;
        store::insert_event(&mut tx, &EventRow {
            id: Uuid::now_v7(),
            warning_id: id,
            at: now,
            kind: "acknowledged".into(),
            from_state: Some(w.state.clone()),
            to_state: new.state.clone(),
            from_level: Some(w.level.clone()),
            to_level: new.level.clone(),
            from_step: Some(w.step),
            to_step: new.step,
            run_id: None,
            actor_user_id: user,
            actor_name: name,
            comment: comment.map(str::to_string),
            facts_json: new.facts_json.clone(),
        })
        .await?;
        self.audit(&mut tx, ctx, "warning.acknowledge", "warning", Some(id.to_string()), Some(&w.state), Some(&serde_json::json!({
            "state": new.state, "comment": comment,
        })))
        .await?;
        tx.commit().await?;
        view(&new, false, self.today())
    }

    /// The rules with their parameters (everyone may read them: they say why a warning exists).
    pub async fn warning_rules(&self) -> Result<Vec<RuleRow>> {
        self.seed_warning_rules().await?;
        let mut tx = self.db.read().await?;
        let rows = store::rules(&mut tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Changes a rule: switched on or off, its parameters. Administrators
    /// only: one set of rules holds for the whole installation, which may
    /// serve several towns, so no town's office may change another's.
    pub async fn update_warning_rule(
        &self,
        ctx: &Ctx,
        code: RuleCode,
        enabled: bool,
        params: &Value,
        expected_version: i64,
    ) -> Result<RuleRow> {
        if ctx.actor().is_some_and(|a| a.role != Role::Admin) {
            return Err(DomainError::forbidden());
        }
        Params::parse(code, params)?;
        self.seed_warning_rules().await?;
        let mut tx = self.db.begin().await?;
        let old = store::rule(&mut tx, code.as_str()).await?.ok_or_else(|| DomainError::not_found("预警规则", "Warning rule"))?;
        let mut new = old.clone();
        new.enabled = enabled;
        new.params_json = params.to_string();
        // Switched back on: the first run writes its warnings quietly, with one summary.
        new.backfill = old.backfill || (enabled && !old.enabled);
        new.version = old.version + 1;
        new.updated_at = self.now();
        new.updated_by = match ctx.actor() {
            Some(a) => a.username.clone(),
            None => "bihuan".into(),
        };
        store::update_rule(&mut tx, &new, expected_version).await?;
        let show = |r: &RuleRow| serde_json::json!({ "enabled": r.enabled, "params": serde_json::from_str::<Value>(&r.params_json).ok() });
        self.audit(&mut tx, ctx, "warning_rule.update", "warning_rule", Some(code.as_str().into()), Some(&show(&old)), Some(&show(&new)))
            .await?;
        tx.commit().await?;
        Ok(new)
    }

    fn inbox_user(ctx: &Ctx) -> Result<Uuid> {
        ctx.actor().map(|a| a.user_id.0).ok_or_else(DomainError::forbidden)
    }

    pub async fn inbox(&self, ctx: &Ctx, unread_only: bool, before: Option<(OffsetDateTime, Uuid)>, limit: i64) -> Result<Vec<NotificationRow>> {
        let user = Self::inbox_user(ctx)?;
        let mut tx = self.db.read().await?;
        let rows = notify::inbox(&mut tx, user, unread_only, before, limit.clamp(1, 200)).await?;
        tx.commit().await?;
        Ok(rows)
    }

    pub async fn unread_count(&self, ctx: &Ctx) -> Result<i64> {
        let user = Self::inbox_user(ctx)?;
        let mut tx = self.db.read().await?;
        let n = notify::unread_count(&mut tx, user, UNREAD_CAP).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Marks one notification read and returns where it leads. Only its
    /// owner may; to anyone else it does not exist.
    pub async fn open_notification(&self, ctx: &Ctx, id: Uuid) -> Result<String> {
        let user = Self::inbox_user(ctx)?;
        let mut tx = self.db.begin().await?;
        let n = notify::get(&mut tx, id).await?.filter(|n| n.user_id == user).ok_or_else(|| DomainError::not_found("通知", "Notification"))?;
        notify::mark_read(&mut tx, user, Some(&[id]), self.now()).await?;
        tx.commit().await?;
        Ok(n.link)
    }

    /// Marks these notifications (or all) read; returns how many changed.
    pub async fn mark_notifications_read(&self, ctx: &Ctx, ids: Option<&[Uuid]>) -> Result<u64> {
        let user = Self::inbox_user(ctx)?;
        let mut tx = self.db.begin().await?;
        let n = notify::mark_read(&mut tx, user, ids, self.now()).await?;
        tx.commit().await?;
        Ok(n)
    }
}

impl Service {
    /// Records that a unit's 隐患排查治理统计分析表 for a period came in
    /// (16号令 Art. 14). The enterprise submits its own; the village, grid,
    /// office and administrators may record one on its behalf. A second
    /// report for the same period is refused.
    pub async fn submit_statistics_report(
        &self,
        ctx: &Ctx,
        unit: bihuan_domain::ids::UnitId,
        period: &str,
        signed_by: &str,
        note: Option<&str>,
    ) -> Result<store::StatisticsReport> {
        let mut errors = Vec::new();
        let parsed = bihuan_domain::warning::Period::parse(period);
        if parsed.is_none() {
            errors.push(FieldError::new("period", "统计期应写作 2021Q1（季度）或 2021（年度）", "The period must be 2021Q1 (a quarter) or 2021 (a year)"));
        }
        if signed_by.trim().is_empty() {
            errors.push(FieldError::new("signed_by", "请填写签字的主要负责人", "Name the principal who signed it"));
        }
        if parsed.and_then(|p| p.ends_on()).is_some_and(|end| end >= self.today()) {
            errors.push(FieldError::new("period", "该统计期尚未结束，结束后再报送", "This period has not ended yet; report it once it has"));
        }
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        let mut tx = self.db.begin().await?;
        let u = bihuan_store::units::get(&mut tx, unit).await?.ok_or_else(|| DomainError::not_found("单位", "Unit"))?;
        if let Some(a) = ctx.actor() {
            if !a.sees(&u.path) {
                return Err(DomainError::not_found("单位", "Unit"));
            }
            let allowed = match a.role {
                Role::Admin | Role::Office | Role::Locality | Role::Inspector => true,
                Role::Enterprise => a.unit_id == unit,
                _ => false,
            };
            if !allowed {
                return Err(DomainError::forbidden());
            }
        }
        if u.kind != bihuan_domain::unit::UnitKind::Enterprise {
            return Err(DomainError::invalid(vec![FieldError::new(
                "unit",
                "统计分析表由生产经营单位（企业）报送",
                "Statistics reports are submitted by enterprises",
            )]));
        }
        let key = parsed.map(|p| p.key()).unwrap_or_default();
        let r = store::StatisticsReport {
            id: Uuid::now_v7(),
            unit_id: unit.0,
            period: key.clone(),
            signed_by: signed_by.trim().to_string(),
            note: note.map(str::trim).filter(|n| !n.is_empty()).map(str::to_string),
            submitted_at: self.now(),
            submitted_by_user_id: ctx.actor().map(|a| a.user_id.0),
            submitted_by: self.actor_display_name(&mut tx, ctx).await?,
        };
        if let Err(e) = store::insert_statistics_report(&mut tx, &r).await {
            return Err(match e {
                bihuan_store::StoreError::Conflict(_) => DomainError::conflict(
                    format!("{}已报送过该期统计分析表", u.name),
                    format!("{} has already submitted the report for {key}", u.name),
                ),
                other => other.into(),
            });
        }
        self.audit(&mut tx, ctx, "statistics_report.submit", "unit", Some(unit.to_string()), None::<&()>, Some(&serde_json::json!({
            "period": key, "signed_by": r.signed_by,
        })))
        .await?;
        tx.commit().await?;
        Ok(r)
    }
}

impl Service {
    /// The statistics reports a unit has submitted, newest period first.
    pub async fn statistics_reports(&self, ctx: &Ctx, unit: bihuan_domain::ids::UnitId) -> Result<Vec<store::StatisticsReport>> {
        let mut tx = self.db.read().await?;
        let u = bihuan_store::units::get(&mut tx, unit).await?.ok_or_else(|| DomainError::not_found("单位", "Unit"))?;
        if let Some(a) = ctx.actor()
            && !a.sees(&u.path)
        {
            return Err(DomainError::not_found("单位", "Unit"));
        }
        let rows = store::statistics_reports_of(&mut tx, unit.0).await?;
        tx.commit().await?;
        Ok(rows)
    }
}
