//! The warning engine: evaluates every enabled rule over today's facts,
//! compares each finding with the stored warning of its rule and subject
//! and writes only the difference, with its history, its audience and the
//! inbox notifications it causes, in batches that each renew the job lease
//! first (the fence). Running it twice changes nothing the second time.

use crate::{Ctx, Result, Service, NONE};
use bihuan_domain::calendar::WorkCalendar;
use bihuan_domain::clock::{local_date, SHANGHAI};
use bihuan_domain::hazard::GovernancePlan;
use bihuan_domain::indicator::{progress, Comparator, IndicatorStatus};
use bihuan_domain::role::Role;
use bihuan_domain::unit::{UnitKind, UnitPath};
use bihuan_domain::warning::{self as rules, *};
use bihuan_domain::DomainError;
use bihuan_store::notify::NotificationRow;
use bihuan_store::warnings::{self as store, AudienceRow, EventRow, RuleRow, WarningRow};
use bihuan_store::{jobs, Tx};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};
use uuid::Uuid;

/// A user gets one summary instead of more messages than this from one run.
pub const FLOOD_LIMIT: usize = 20;
/// Warning changes written per transaction.
const BATCH: usize = 200;
/// Pending hazards read per query.
const READ_BATCH: i64 = 1000;

/// What to evaluate.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `schedule`, `manual` (the page's button) or `cli`.
    pub trigger: String,
    /// Only these rules (empty: every rule).
    pub rules: Vec<RuleCode>,
    /// The frequent pass: leaves out the rules that read a year of hazards.
    pub watch: bool,
    /// Work out and count the changes, write nothing.
    pub dry_run: bool,
}

/// The lease a run writes under (None: the caller holds no lease, as in tests of the engine alone).
#[derive(Clone, Debug)]
pub struct Fence {
    pub job: String,
    pub holder: String,
    pub run_id: Uuid,
    pub lease: time::Duration,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleCounts {
    pub opened: u64,
    pub reopened: u64,
    pub escalated: u64,
    pub level_changed: u64,
    pub updated: u64,
    pub resolved: u64,
    pub conflicts: u64,
    /// Open or acknowledged after the run.
    pub active: u64,
}

impl RuleCounts {
    pub fn changes(&self) -> u64 {
        self.opened + self.reopened + self.escalated + self.level_changed + self.updated + self.resolved
    }
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunReport {
    pub run_id: Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub today: Date,
    pub counts: BTreeMap<String, RuleCounts>,
    /// Inbox notifications written (one per warning change and user).
    pub notifications: u64,
    /// Summaries written instead, to users who would have had too many.
    pub summaries: u64,
    /// Messages queued for outside channels (robots, webhooks, e-mail).
    pub deliveries: u64,
    pub dry_run: bool,
}

impl RunReport {
    pub fn changes(&self) -> u64 {
        self.counts.values().map(RuleCounts::changes).sum()
    }
}

#[derive(Clone, Debug)]
struct UnitInfo {
    path: UnitPath,
    kind: UnitKind,
    name: String,
    active: bool,
    created_on: Date,
}

#[derive(Clone, Debug)]
struct UserInfo {
    id: Uuid,
    english: bool,
}

/// Units, users and area leads, read once per run.
struct World {
    units: HashMap<Uuid, UnitInfo>,
    users_by_unit: HashMap<Uuid, Vec<UserInfo>>,
    /// Office and leader users by the government unit of their jurisdiction.
    office_by_gov: HashMap<Uuid, Vec<UserInfo>>,
    leaders_by_gov: HashMap<Uuid, Vec<UserInfo>>,
    area_leads: HashMap<Uuid, Vec<Uuid>>,
}

impl World {
    async fn load(tx: &mut Tx) -> Result<World> {
        let mut units = HashMap::new();
        for (id, path, kind, name, active, created_at) in store::all_units(tx).await? {
            let Some(kind) = UnitKind::parse(&kind) else { continue };
            units.insert(id, UnitInfo { path: UnitPath::from_stored(path), kind, name, active, created_on: local_date(created_at) });
        }
        let mut w = World {
            units,
            users_by_unit: HashMap::new(),
            office_by_gov: HashMap::new(),
            leaders_by_gov: HashMap::new(),
            area_leads: HashMap::new(),
        };
        for (id, unit, role, language) in store::active_users(tx).await? {
            let u = UserInfo { id, english: language.starts_with("en") };
            let role = Role::parse(&role);
            if matches!(role, Some(Role::Office | Role::Leader))
                && let Some(gov) = w.units.get(&unit).and_then(|i| w.jurisdiction(&i.path))
            {
                let map = if role == Some(Role::Office) { &mut w.office_by_gov } else { &mut w.leaders_by_gov };
                map.entry(gov).or_default().push(u.clone());
            }
            w.users_by_unit.entry(unit).or_default().push(u);
        }
        for (area, unit) in store::area_leads(tx).await? {
            w.area_leads.entry(area).or_default().push(unit);
        }
        Ok(w)
    }

    /// The nearest government at or above a path (else its root), as for `Actor::jurisdiction`.
    fn jurisdiction(&self, path: &UnitPath) -> Option<Uuid> {
        let ids = path.ids();
        ids.iter().rev().find(|id| self.units.get(&id.0).is_some_and(|u| u.kind == UnitKind::Government)).or(ids.first()).map(|i| i.0)
    }

    /// The nearest village, community or grid strictly above a unit.
    fn locality_above(&self, unit: Uuid) -> Option<Uuid> {
        let path = &self.units.get(&unit)?.path;
        path.ids()
            .iter()
            .rev()
            .skip(1)
            .find(|id| self.units.get(&id.0).is_some_and(|u| matches!(u.kind, UnitKind::Locality | UnitKind::Grid)))
            .map(|i| i.0)
    }

    fn active(&self, unit: Uuid) -> bool {
        self.units.get(&unit).is_some_and(|u| u.active)
    }

    fn users(&self, a: &AudienceRow) -> &[UserInfo] {
        let list = match a.role.as_str() {
            "office" => self.office_by_gov.get(&a.unit_id),
            "leader" => self.leaders_by_gov.get(&a.unit_id),
            _ => self.users_by_unit.get(&a.unit_id),
        };
        list.map(Vec::as_slice).unwrap_or_default()
    }
}

/// The units a subject's rungs stand for.
#[derive(Clone, Debug, Default)]
struct Parties {
    responsible: Option<Uuid>,
    enterprise: Option<Uuid>,
    locality: Option<Uuid>,
    assigning: Option<Uuid>,
    lead_departments: Vec<Uuid>,
    supervising: Option<Uuid>,
    unit: Option<Uuid>,
    jurisdiction: Option<Uuid>,
}

impl Parties {
    fn audience(&self, f: &Finding, w: &World) -> Vec<AudienceRow> {
        let mut out: BTreeMap<(Uuid, String), AudienceRow> = BTreeMap::new();
        for (rung, from) in &f.audience {
            if *from > f.step {
                continue;
            }
            let targets: Vec<(Uuid, &str)> = match rung {
                Rung::Responsible => self.responsible.map(|u| (u, "")).into_iter().collect(),
                Rung::Enterprise => self.enterprise.filter(|e| Some(*e) != self.responsible).map(|u| (u, "")).into_iter().collect(),
                Rung::Locality => self.locality.map(|u| (u, "")).into_iter().collect(),
                Rung::Assigning => self.assigning.map(|u| (u, "")).into_iter().collect(),
                Rung::LeadDepartment => self.lead_departments.iter().map(|u| (*u, "")).collect(),
                Rung::Supervising => self.supervising.map(|u| (u, "")).into_iter().collect(),
                Rung::Unit => self.unit.map(|u| (u, "")).into_iter().collect(),
                Rung::Office => self.jurisdiction.map(|u| (u, "office")).into_iter().collect(),
                Rung::Leaders => self.jurisdiction.map(|u| (u, "leader")).into_iter().collect(),
            };
            for (unit, role) in targets {
                if role.is_empty() && !w.active(unit) {
                    continue;
                }
                let row = AudienceRow { unit_id: unit, role: role.to_string(), rung: rung.as_str().to_string(), from_step: *from };
                out.entry((unit, role.to_string()))
                    .and_modify(|r| {
                        if row.from_step < r.from_step {
                            *r = row.clone();
                        }
                    })
                    .or_insert(row);
            }
        }
        out.into_values().collect()
    }
}

/// One subject a rule found something about.
struct Subject {
    key: String,
    kind: SubjectKind,
    id: Uuid,
    hazard_id: Option<Uuid>,
    unit_id: Uuid,
    unit_path: String,
    label: String,
    finding: Finding,
    parties: Parties,
}

/// Everything a rule produced today, and how to end warnings it no longer produces.
struct Evaluated {
    found: Vec<Subject>,
    /// For warnings without a finding: resolved as superseded instead of cleared.
    superseded: HashSet<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChangeKind {
    Opened,
    Reopened,
    Escalated,
    LevelRaised,
    LevelLowered,
    Updated,
    Resolved,
}

impl ChangeKind {
    fn event(self) -> Option<&'static str> {
        match self {
            ChangeKind::Opened => Some("opened"),
            ChangeKind::Reopened => Some("reopened"),
            ChangeKind::Escalated => Some("escalated"),
            ChangeKind::LevelRaised | ChangeKind::LevelLowered => Some("level_changed"),
            ChangeKind::Resolved => Some("resolved"),
            ChangeKind::Updated => None,
        }
    }
    fn notifies(self) -> bool {
        matches!(self, ChangeKind::Opened | ChangeKind::Reopened | ChangeKind::Escalated | ChangeKind::LevelRaised)
    }
}

struct Change {
    /// Its place in the run's list of changes.
    index: usize,
    rule: RuleCode,
    kind: ChangeKind,
    old: Option<WarningRow>,
    new: WarningRow,
    audience: Vec<AudienceRow>,
    event_id: Uuid,
    /// Users to notify (after flood control).
    notify: Vec<UserInfo>,
}

impl Service {
    /// Adds the shipped rules that are not stored yet (changed rules stay as they are).
    pub async fn seed_warning_rules(&self) -> Result<u64> {
        let now = self.now();
        let rows: Vec<RuleRow> = rules::default_rules()?
            .into_iter()
            .map(|r| RuleRow {
                code: r.code.as_str().to_string(),
                subject_kind: r.code.subject_kind().as_str().to_string(),
                enabled: r.enabled,
                level: r.level.as_str().to_string(),
                params_json: r.params.to_string(),
                source_document: r.source_document,
                source_tag: r.source_tag,
                backfill: true,
                version: 1,
                updated_at: now,
                updated_by: "bihuan".into(),
            })
            .collect();
        let mut tx = self.db.begin().await?;
        let added = store::seed_rules(&mut tx, &rows).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Evaluates the rules once for today and writes the differences.
    pub async fn evaluate_warnings(&self, ctx: &Ctx, fence: Option<&Fence>, opts: &RunOptions) -> Result<RunReport> {
        self.seed_warning_rules().await?;
        let today = self.today();
        let run_id = fence.map(|f| f.run_id).unwrap_or_else(Uuid::now_v7);
        let mut tx = self.db.read().await?;
        let rule_rows = store::rules(&mut tx).await?;
        let world = World::load(&mut tx).await?;
        let cal = self.work_calendar(&mut tx).await?;
        let routes = self.routes(&mut tx).await?;
        tx.commit().await?;

        let mut counts: BTreeMap<String, RuleCounts> = BTreeMap::new();
        let mut changes: Vec<Change> = Vec::new();
        let mut backfilled: Vec<String> = Vec::new();
        let mut quiet_rules: HashSet<RuleCode> = HashSet::new();
        for row in &rule_rows {
            let Some(code) = RuleCode::parse(&row.code) else { continue };
            if !opts.rules.is_empty() && !opts.rules.contains(&code) {
                continue;
            }
            if opts.watch && code.daily_only() {
                continue;
            }
            let c = counts.entry(code.as_str().to_string()).or_default();
            let mut tx = self.db.read().await?;
            let active = store::active_of_rule(&mut tx, &row.code).await?;
            let evaluated = if row.enabled {
                let params = Params::parse(code, &serde_json::from_str(&row.params_json).unwrap_or(Value::Null))?;
                Some(self.evaluate_rule(&mut tx, code, &params, today, &cal, &world, &active).await?)
            } else {
                None
            };
            let planned = plan_rule(&mut tx, code, row, evaluated, active, self.now(), &world).await?;
            tx.commit().await?;
            if row.backfill && row.enabled {
                quiet_rules.insert(code);
                backfilled.push(row.code.clone());
            }
            for ch in &planned {
                match ch.kind {
                    ChangeKind::Opened => c.opened += 1,
                    ChangeKind::Reopened => c.reopened += 1,
                    ChangeKind::Escalated => c.escalated += 1,
                    ChangeKind::LevelRaised | ChangeKind::LevelLowered => c.level_changed += 1,
                    ChangeKind::Updated => c.updated += 1,
                    ChangeKind::Resolved => c.resolved += 1,
                }
            }
            changes.extend(planned);
        }
        for (i, ch) in changes.iter_mut().enumerate() {
            ch.index = i;
        }

        // Who hears of what: one message per change and user, unless a user
        // would get more than FLOOD_LIMIT (or the rule's first run is quiet):
        // then one summary for this run.
        let mut per_user: HashMap<Uuid, (UserInfo, Vec<usize>)> = HashMap::new();
        for (i, ch) in changes.iter().enumerate() {
            if !ch.kind.notifies() {
                continue;
            }
            let mut seen = HashSet::new();
            for a in ch.audience.iter().filter(|a| a.from_step <= ch.new.step) {
                for u in world.users(a) {
                    if seen.insert(u.id) {
                        per_user.entry(u.id).or_insert_with(|| (u.clone(), Vec::new())).1.push(i);
                    }
                }
            }
        }
        let channel_plan = plan_channels(&changes, &per_user, &routes, &world, &quiet_rules);
        let mut summaries: Vec<(UserInfo, Vec<usize>)> = Vec::new();
        for (_, (user, idx)) in per_user {
            let (quiet, loud): (Vec<usize>, Vec<usize>) =
                idx.into_iter().partition(|i| changes.get(*i).is_some_and(|c| quiet_rules.contains(&c.rule)));
            let (direct, summarised) = if loud.len() > FLOOD_LIMIT { (Vec::new(), [quiet, loud].concat()) } else { (loud, quiet) };
            for i in direct {
                if let Some(ch) = changes.get_mut(i) {
                    ch.notify.push(user.clone());
                }
            }
            if !summarised.is_empty() {
                summaries.push((user, summarised));
            }
        }

        let mut report = RunReport { run_id, today, counts, notifications: 0, summaries: 0, deliveries: 0, dry_run: opts.dry_run };
        if opts.dry_run {
            report.notifications = changes.iter().map(|c| c.notify.len() as u64).sum();
            report.summaries = summaries.len() as u64;
            report.deliveries = channel_plan.direct.values().map(|v| v.len() as u64).sum::<u64>() + channel_plan.summaries.len() as u64;
            return Ok(report);
        }
        let route_by_id: HashMap<Uuid, &crate::channels::Route> = routes.iter().map(|r| (r.row.id, r)).collect();

        let now = self.now();
        // Summaries speak only of changes this run actually wrote (a change another process wrote first is not ours to announce).
        let mut written_changes: HashSet<usize> = HashSet::new();
        for batch in changes.chunks(BATCH) {
            let mut tx = self.db.begin().await?;
            self.fence(&mut tx, fence).await?;
            let mut written: BTreeMap<&str, u64> = BTreeMap::new();
            for ch in batch {
                let applied = match &ch.old {
                    None => store::insert_warning(&mut tx, &ch.new).await?,
                    Some(old) => store::update_warning(&mut tx, &ch.new, old.version).await?,
                };
                if !applied {
                    if let Some(c) = report.counts.get_mut(ch.rule.as_str()) {
                        c.conflicts += 1;
                    }
                    continue;
                }
                *written.entry(ch.rule.as_str()).or_default() += 1;
                written_changes.insert(ch.index);
                if let Some(kind) = ch.kind.event() {
                    store::insert_event(&mut tx, &event_row(ch, kind, fence.map(|f| f.run_id), now)).await?;
                }
                store::add_audience(&mut tx, ch.new.id, &ch.audience).await?;
                for user in &ch.notify {
                    let n = warning_notification(ch, user, today, now);
                    if bihuan_store::notify::insert(&mut tx, &n).await? {
                        report.notifications += 1;
                    }
                }
                let index = ch.index;
                for channel in channel_plan.direct.get(&index).into_iter().flatten() {
                    let Some(r) = route_by_id.get(channel) else { continue };
                    let msg = self.channel_message(ch, today);
                    let d = self.delivery_for(&r.row, format!("ev:{}:{channel}", ch.event_id), "event", Some(ch.event_id), &msg, now);
                    if bihuan_store::channels::insert_delivery(&mut tx, &d).await? {
                        report.deliveries += 1;
                    }
                }
                for channel in channel_plan.digest.get(&index).into_iter().flatten() {
                    bihuan_store::channels::add_digest_item(&mut tx, *channel, ch.event_id, now).await?;
                }
            }
            let first = batch.first().map(|c| c.new.subject_key.clone());
            let last = batch.last().map(|c| c.new.subject_key.clone());
            self.audit(&mut tx, ctx, "warnings.evaluate", "job_run", Some(run_id.to_string()), NONE, Some(&json!({
                "today": today.to_string(), "written": written, "first": first, "last": last,
            })))
            .await?;
            tx.commit().await?;
        }

        let mut tx = self.db.begin().await?;
        self.fence(&mut tx, fence).await?;
        for (user, idx) in &summaries {
            let idx: Vec<usize> = idx.iter().copied().filter(|i| written_changes.contains(i)).collect();
            if idx.is_empty() {
                continue;
            }
            let n = summary_notification(run_id, user, idx.iter().filter_map(|i| changes.get(*i)), now);
            if bihuan_store::notify::insert(&mut tx, &n).await? {
                report.summaries += 1;
            }
        }
        for (channel, idx) in &channel_plan.summaries {
            let idx: Vec<usize> = idx.iter().copied().filter(|i| written_changes.contains(i)).collect();
            let Some(r) = route_by_id.get(channel).filter(|_| !idx.is_empty()) else { continue };
            let msg = channel_summary(idx.iter().filter_map(|i| changes.get(*i)), self.link("/warnings"));
            let d = self.delivery_for(&r.row, format!("sum:{run_id}:{channel}"), "summary", None, &msg, now);
            if bihuan_store::channels::insert_delivery(&mut tx, &d).await? {
                report.deliveries += 1;
            }
        }
        for code in &backfilled {
            store::clear_backfill(&mut tx, code).await?;
        }
        tx.commit().await?;

        let mut tx = self.db.read().await?;
        for (code, c) in report.counts.iter_mut() {
            c.active = store::active_of_rule(&mut tx, code).await?.len() as u64;
        }
        tx.commit().await?;
        Ok(report)
    }

    /// The first statement of every write of a run: renews the lease, or
    /// fails when another process has taken it.
    async fn fence(&self, tx: &mut Tx, fence: Option<&Fence>) -> Result<()> {
        let Some(f) = fence else { return Ok(()) };
        if jobs::renew(tx, &f.job, &f.holder, f.run_id, self.now() + f.lease, None).await? {
            Ok(())
        } else {
            Err(DomainError::conflict(
                "预警任务已被其他服务器接手，本次运行停止",
                "Another server has taken over the warning job; this run stops",
            ))
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn evaluate_rule(
        &self,
        tx: &mut Tx,
        code: RuleCode,
        params: &Params,
        today: Date,
        cal: &WorkCalendar,
        w: &World,
        active: &[WarningRow],
    ) -> Result<Evaluated> {
        let mut found = Vec::new();
        let mut superseded = HashSet::new();
        match (code.subject_kind(), params) {
            (SubjectKind::Hazard, _) => {
                let mut after = 0;
                loop {
                    let rows = store::pending_hazards(tx, after, READ_BATCH).await?;
                    let Some(last) = rows.last() else { break };
                    after = last.num;
                    for h in &rows {
                        let s = hazard_subject(h);
                        let f = match params {
                            Params::DeadlineNear(p) => rules::deadline_near(p, &s, today, cal),
                            Params::Overdue(p) => rules::overdue(p, &s, today),
                            Params::PlanMissing(p) => rules::plan_missing(p, &s, today),
                            Params::NotListed(p) => rules::not_listed(p, &s, today, cal),
                            _ => None,
                        };
                        let key = h.id.to_string();
                        if code == RuleCode::HazardDeadlineNear && s.deadline.is_some_and(|d| d < today) {
                            superseded.insert(key.clone());
                        }
                        if let Some(f) = f {
                            found.push(hazard_found(key, SubjectKind::Hazard, h.id, h, f, w));
                        }
                    }
                    if (rows.len() as i64) < READ_BATCH {
                        break;
                    }
                }
            }
            (SubjectKind::Extension, Params::ExtensionUndecided(p)) => {
                let pending = store::pending_extensions(tx).await?;
                let ids: Vec<Uuid> = pending.iter().map(|e| e.1).collect();
                let hazards: HashMap<Uuid, store::HazardFacts> =
                    store::hazards_by_id(tx, &ids).await?.into_iter().map(|h| (h.id, h)).collect();
                for (ext, hazard, requested_at, current_deadline) in pending {
                    let Some(h) = hazards.get(&hazard) else { continue };
                    let e = ExtensionSubject { requested_on: local_date(requested_at), current_deadline, listed: h.listed };
                    if let Some(f) = rules::extension_undecided(p, &e, today, cal) {
                        let mut s = hazard_found(ext.to_string(), SubjectKind::Extension, ext, h, f, w);
                        // The assigning unit decides; without one, the office does.
                        if s.parties.assigning.is_none() {
                            s.finding.audience.push((Rung::Office, 0));
                        }
                        found.push(s);
                    }
                }
            }
            (SubjectKind::Measure, Params::MeasureOverdue(p)) => {
                for (id, mcode, title, unit, path, created_by, deadline) in store::open_measures(tx).await? {
                    if let Some(f) = rules::measure_overdue(p, deadline, true, today) {
                        let parties = Parties {
                            responsible: Some(unit),
                            assigning: Some(created_by).filter(|c| *c != unit),
                            jurisdiction: w.jurisdiction(&UnitPath::from_stored(path.clone())),
                            ..Parties::default()
                        };
                        found.push(Subject {
                            key: id.to_string(),
                            kind: SubjectKind::Measure,
                            id,
                            hazard_id: None,
                            unit_id: unit,
                            unit_path: path,
                            label: format!("{mcode} {title}"),
                            finding: f,
                            parties,
                        });
                    }
                }
            }
            (SubjectKind::Indicator, Params::IndicatorBehind(p)) => {
                for c in bihuan_store::campaigns::list(tx).await? {
                    // A campaign long over is judged by its final evaluation, not by daily warnings.
                    if (today - c.ends_on).whole_days() > p.after_campaign_days {
                        continue;
                    }
                    let latest: HashMap<_, _> = bihuan_store::campaigns::latest_values(tx, c.id)
                        .await?
                        .into_iter()
                        .map(|v| (v.indicator_id, v.value))
                        .collect();
                    let mut leads: HashMap<_, Vec<Uuid>> = HashMap::new();
                    for (i, u) in bihuan_store::campaigns::indicator_leads(tx, c.id, None).await? {
                        leads.entry(i).or_default().push(u.id.0);
                    }
                    for i in bihuan_store::campaigns::indicators(tx, c.id).await? {
                        let pr = progress(i.comparator, i.target, i.deadline, latest.get(&i.id).copied(), today);
                        let subject = IndicatorSubject {
                            met: pr.status == IndicatorStatus::Met,
                            percent: pr.percent,
                            has_share: matches!(i.comparator, Comparator::AtLeast | Comparator::MoreThan),
                            deadline: i.deadline,
                            campaign_starts_on: c.starts_on,
                        };
                        if let Some(f) = rules::indicator_behind(p, &subject, today) {
                            let mut lead = leads.get(&i.id).cloned().unwrap_or_default();
                            if lead.is_empty() {
                                lead = w.area_leads.get(&i.area_id.0).cloned().unwrap_or_default();
                            }
                            found.push(Subject {
                                key: i.id.0.to_string(),
                                kind: SubjectKind::Indicator,
                                id: i.id.0,
                                hazard_id: None,
                                unit_id: c.owner_unit_id.0,
                                unit_path: c.owner_path.as_str().to_string(),
                                label: format!("{} {}", i.code, i.name),
                                finding: f,
                                parties: Parties {
                                    lead_departments: lead,
                                    jurisdiction: w.jurisdiction(&c.owner_path),
                                    ..Parties::default()
                                },
                            });
                        }
                    }
                }
            }
            (SubjectKind::UnitPeriod, Params::StatisticsMissing(p)) => {
                let periods = Period::latest_due(today, p);
                let keys: Vec<String> = periods.iter().map(|p| p.key()).collect();
                let received: HashSet<(Uuid, String)> = store::statistics_received(tx, &keys).await?.into_iter().collect();
                let mut enterprises: Vec<(&Uuid, &UnitInfo)> =
                    w.units.iter().filter(|(_, u)| u.kind == UnitKind::Enterprise && u.active).collect();
                enterprises.sort_by(|a, b| a.1.path.as_str().cmp(b.1.path.as_str()));
                for (id, u) in enterprises {
                    for period in &periods {
                        if period.ends_on().is_none_or(|end| u.created_on > end) {
                            continue;
                        }
                        let submitted = received.contains(&(*id, period.key()));
                        if let Some(f) = rules::statistics_missing(p, *period, submitted, today) {
                            found.push(unit_subject(format!("{id}/{}", period.key()), SubjectKind::UnitPeriod, *id, u, period.label_zh(), f, w));
                        }
                    }
                }
                // Older periods stop being checked when newer ones fall due.
                for a in active {
                    if !keys.iter().any(|k| a.subject_key.ends_with(&format!("/{k}"))) {
                        superseded.insert(a.subject_key.clone());
                    }
                }
            }
            (SubjectKind::UnitType, Params::RepeatedHazardType(p)) => {
                let since = rules::months_back(today, p.months);
                let since_at = PrimitiveDateTime::new(since, Time::MIDNIGHT).assume_offset(SHANGHAI);
                for (unit, _path, hazard_type, count) in store::hazard_type_counts(tx, since_at, p.n).await? {
                    let Some(u) = w.units.get(&unit) else { continue };
                    if let Some(f) = rules::repeated_hazard_type(p, count, since) {
                        let type_label = bihuan_domain::hazard::HazardType::parse(&hazard_type).map(|t| t.label_zh()).unwrap_or("");
                        found.push(unit_subject(format!("{unit}/{hazard_type}"), SubjectKind::UnitType, unit, u, format!("{type_label}类"), f, w));
                    }
                }
            }
            (SubjectKind::Unit, Params::UnitRateLow(p)) => {
                let (from, to) = rules::rate_window(p, today);
                let month = |d: Date| format!("{:04}-{:02}", d.year(), u8::from(d.month()));
                let judged: Vec<(&Uuid, &UnitInfo)> = w
                    .units
                    .iter()
                    .filter(|(_, u)| u.active && matches!(u.kind, UnitKind::Government | UnitKind::Locality))
                    .collect();
                let mut depths: Vec<i64> = judged.iter().map(|(_, u)| u.path.depth() as i64).collect();
                depths.sort_unstable();
                depths.dedup();
                let mut by_node: HashMap<String, (i64, i64, i64)> = HashMap::new();
                for (node, state, n) in store::tally_by_node_state(tx, &depths, &month(from), &month(to)).await? {
                    let e = by_node.entry(node).or_default();
                    e.0 += n;
                    match state.as_str() {
                        "closed" => e.1 += n,
                        "dismissed" => e.2 += n,
                        _ => {}
                    }
                }
                let open_now: HashSet<&str> = active.iter().map(|a| a.subject_key.as_str()).collect();
                for (id, u) in judged {
                    let (total, closed, dismissed) = by_node.get(u.path.as_str()).copied().unwrap_or_default();
                    let key = id.to_string();
                    if let Some(f) = rules::unit_rate_low(p, total - dismissed, closed, open_now.contains(key.as_str())) {
                        found.push(unit_subject(key, SubjectKind::Unit, *id, u, String::new(), f, w));
                    }
                }
            }
            _ => {}
        }
        Ok(Evaluated { found, superseded })
    }
}

fn hazard_subject(h: &store::HazardFacts) -> HazardSubject {
    let plan_missing = h
        .plan_json
        .as_deref()
        .and_then(|j| serde_json::from_str::<GovernancePlan>(j).ok())
        .map(|p| p.missing().len())
        .unwrap_or(GovernancePlan::PARTS.len());
    HazardSubject {
        major: h.level == "major",
        listed: h.listed,
        pending: matches!(h.state.as_str(), "reported" | "assigned" | "rectifying"),
        deadline: h.deadline,
        found_on: local_date(h.found_at),
        plan_missing,
    }
}

fn hazard_found(key: String, kind: SubjectKind, id: Uuid, h: &store::HazardFacts, f: Finding, w: &World) -> Subject {
    let responsible = h.responsible_unit_id.unwrap_or(h.unit_id);
    let enterprise = w.units.get(&h.unit_id).filter(|u| u.kind == UnitKind::Enterprise).map(|_| h.unit_id);
    let parties = Parties {
        responsible: Some(responsible),
        enterprise,
        locality: enterprise.and_then(|e| w.locality_above(e)),
        assigning: h.assigned_by_unit_id,
        lead_departments: h.area_id.and_then(|a| w.area_leads.get(&a).cloned()).unwrap_or_default(),
        supervising: h.supervising_unit_id,
        unit: Some(h.unit_id),
        jurisdiction: w.jurisdiction(&UnitPath::from_stored(h.unit_path.clone())),
    };
    Subject {
        key,
        kind,
        id,
        hazard_id: Some(h.id),
        unit_id: h.unit_id,
        unit_path: h.unit_path.clone(),
        label: format!("{} {}", h.code, h.name),
        finding: f,
        parties,
    }
}

fn unit_subject(key: String, kind: SubjectKind, id: Uuid, u: &UnitInfo, what: String, f: Finding, w: &World) -> Subject {
    let label = if what.is_empty() { u.name.clone() } else { format!("{} · {what}", u.name) };
    Subject {
        key,
        kind,
        id,
        hazard_id: None,
        unit_id: id,
        unit_path: u.path.as_str().to_string(),
        label,
        finding: f,
        parties: Parties {
            unit: Some(id),
            locality: w.locality_above(id),
            jurisdiction: w.jurisdiction(&u.path),
            ..Parties::default()
        },
    }
}

/// Compares a rule's findings with its stored warnings: what to insert, change or resolve.
async fn plan_rule(
    tx: &mut Tx,
    code: RuleCode,
    rule: &RuleRow,
    evaluated: Option<Evaluated>,
    active: Vec<WarningRow>,
    now: OffsetDateTime,
    w: &World,
) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    let mut active: HashMap<String, WarningRow> = active.into_iter().map(|a| (a.subject_key.clone(), a)).collect();
    let (found, superseded) = match evaluated {
        Some(e) => (e.found, e.superseded),
        None => (Vec::new(), HashSet::new()),
    };
    // Findings without an active warning: new, or a resolved one coming back.
    let missing: Vec<String> = found.iter().filter(|s| !active.contains_key(&s.key)).map(|s| s.key.clone()).collect();
    let resolved: HashMap<String, WarningRow> =
        store::by_subject_keys(tx, &rule.code, &missing).await?.into_iter().map(|r| (r.subject_key.clone(), r)).collect();
    for s in found {
        let facts = s.finding.facts.to_string();
        let level = s.finding.level;
        let audience = s.parties.audience(&s.finding, w);
        let old = active.remove(&s.key).or_else(|| resolved.get(&s.key).cloned());
        let mut new = WarningRow {
            id: Uuid::now_v7(),
            rule_code: rule.code.clone(),
            subject_kind: s.kind.as_str().to_string(),
            subject_key: s.key.clone(),
            subject_id: s.id,
            hazard_id: s.hazard_id,
            unit_id: s.unit_id,
            unit_path: s.unit_path.clone(),
            label: s.label.clone(),
            facts_json: facts,
            level: level.as_str().to_string(),
            level_rank: level.rank(),
            step: s.finding.step,
            state: WarningState::Open.as_str().to_string(),
            first_seen_at: now,
            changed_at: now,
            acknowledged_at: None,
            acknowledged_by: None,
            resolved_at: None,
            resolution: None,
            rule_version: rule.version,
            version: 1,
        };
        let kind = match &old {
            None => ChangeKind::Opened,
            Some(o) => {
                new.id = o.id;
                new.version = o.version + 1;
                if o.state == WarningState::Resolved.as_str() {
                    ChangeKind::Reopened
                } else {
                    new.first_seen_at = o.first_seen_at;
                    let raised = level.rank() < o.level_rank;
                    let kind = if new.step > o.step {
                        ChangeKind::Escalated
                    } else if raised {
                        ChangeKind::LevelRaised
                    } else if level.rank() > o.level_rank || new.step < o.step {
                        ChangeKind::LevelLowered
                    } else if o.facts_json != new.facts_json || o.label != new.label || o.unit_id != new.unit_id {
                        ChangeKind::Updated
                    } else {
                        continue;
                    };
                    // An acknowledged warning stays acknowledged unless it grows worse.
                    if !kind.notifies() && o.state == WarningState::Acknowledged.as_str() {
                        new.state = o.state.clone();
                        new.acknowledged_at = o.acknowledged_at;
                        new.acknowledged_by = o.acknowledged_by;
                    }
                    if kind == ChangeKind::Updated {
                        new.changed_at = o.changed_at;
                    }
                    kind
                }
            }
        };
        out.push(Change { index: 0, rule: code, kind, old, new, audience, event_id: Uuid::now_v7(), notify: Vec::new() });
    }
    // Active warnings nobody found today: their condition has ended.
    let mut ended: Vec<WarningRow> = active.into_values().collect();
    ended.sort_by_key(|w| w.id);
    for o in ended {
        let resolution = if !rule.enabled {
            Resolution::RuleDisabled
        } else if superseded.contains(&o.subject_key) {
            Resolution::Superseded
        } else {
            Resolution::Cleared
        };
        let mut new = o.clone();
        new.state = WarningState::Resolved.as_str().to_string();
        new.resolved_at = Some(now);
        new.resolution = Some(resolution.as_str().to_string());
        new.changed_at = now;
        new.version = o.version + 1;
        out.push(Change {
            index: 0,
            rule: code,
            kind: ChangeKind::Resolved,
            old: Some(o),
            new,
            audience: Vec::new(),
            event_id: Uuid::now_v7(),
            notify: Vec::new(),
        });
    }
    Ok(out)
}

/// `run_id` is the job run that wrote it (None for an evaluation outside a job, as in tests and dry runs).
fn event_row(ch: &Change, kind: &str, run_id: Option<Uuid>, at: OffsetDateTime) -> EventRow {
    EventRow {
        id: ch.event_id,
        warning_id: ch.new.id,
        at,
        kind: kind.to_string(),
        from_state: ch.old.as_ref().map(|o| o.state.clone()),
        to_state: ch.new.state.clone(),
        from_level: ch.old.as_ref().map(|o| o.level.clone()),
        to_level: ch.new.level.clone(),
        from_step: ch.old.as_ref().map(|o| o.step),
        to_step: ch.new.step,
        run_id,
        actor_user_id: None,
        actor_name: "bihuan".into(),
        comment: ch.new.resolution.clone(),
        facts_json: ch.new.facts_json.clone(),
    }
}

fn level_label(level: &str, english: bool) -> &'static str {
    WarningLevel::parse(level).map(|l| l.label(english)).unwrap_or("")
}

fn warning_notification(ch: &Change, user: &UserInfo, today: Date, now: OffsetDateTime) -> NotificationRow {
    let en = user.english;
    let facts: Value = serde_json::from_str(&ch.new.facts_json).unwrap_or(Value::Null);
    let what = match (ch.kind, en) {
        (ChangeKind::Escalated, false) => format!("（已升级至第 {} 级）", ch.new.step),
        (ChangeKind::Escalated, true) => format!(" (escalated to step {})", ch.new.step),
        (ChangeKind::Reopened, false) => "（再次出现）".to_string(),
        (ChangeKind::Reopened, true) => " (again)".to_string(),
        _ => String::new(),
    };
    let title = if en {
        format!("[{}] {}: {}{what}", level_label(&ch.new.level, true), ch.rule.label_en(), ch.new.label)
    } else {
        format!("【{}预警】{}：{}{what}", level_label(&ch.new.level, false), ch.rule.label_zh(), ch.new.label)
    };
    NotificationRow {
        id: Uuid::now_v7(),
        user_id: user.id,
        dedupe_key: format!("ev:{}:{}", ch.event_id, user.id),
        kind: "warning".into(),
        level: Some(ch.new.level.clone()),
        title,
        body: rules::describe(ch.rule, &facts, today, en),
        link: format!("/warnings/{}", ch.new.id),
        warning_id: Some(ch.new.id),
        circular_id: None,
        created_at: now,
        read_at: None,
    }
}

fn summary_notification<'a>(run_id: Uuid, user: &UserInfo, changes: impl Iterator<Item = &'a Change>, now: OffsetDateTime) -> NotificationRow {
    let en = user.english;
    let mut by: BTreeMap<(i64, &str, &str), u64> = BTreeMap::new();
    let mut total = 0;
    let mut worst = WarningLevel::Blue;
    for ch in changes {
        let level = WarningLevel::parse(&ch.new.level).unwrap_or(WarningLevel::Blue);
        if level.rank() < worst.rank() {
            worst = level;
        }
        *by.entry((level.rank(), level.label(en), if en { ch.rule.label_en() } else { ch.rule.label_zh() })).or_default() += 1;
        total += 1;
    }
    let lines: Vec<String> = by.iter().map(|((_, l, r), n)| if en { format!("{l} · {r}: {n}") } else { format!("{l} · {r}：{n} 条") }).collect();
    NotificationRow {
        id: Uuid::now_v7(),
        user_id: user.id,
        dedupe_key: format!("sum:{run_id}:{}", user.id),
        kind: "summary".into(),
        level: Some(worst.as_str().to_string()),
        title: if en { format!("{total} new or escalated warnings") } else { format!("新增或升级预警 {total} 条") },
        body: lines.join(if en { "; " } else { "；" }),
        link: "/warnings?mine=1".into(),
        warning_id: None,
        circular_id: None,
        created_at: now,
        read_at: None,
    }
}

/// Which outside channels hear of which changes: at once (`direct`), in the
/// next digest (`digest`), or, past the flood limit or on a rule's quiet
/// first run, in one summary per channel (`summaries`).
#[derive(Default)]
struct ChannelPlan {
    direct: HashMap<usize, Vec<Uuid>>,
    digest: HashMap<usize, Vec<Uuid>>,
    summaries: Vec<(Uuid, Vec<usize>)>,
}

fn plan_channels(
    changes: &[Change],
    per_user: &HashMap<Uuid, (UserInfo, Vec<usize>)>,
    routes: &[crate::channels::Route],
    w: &World,
    quiet_rules: &HashSet<RuleCode>,
) -> ChannelPlan {
    let mut plan = ChannelPlan::default();
    if routes.is_empty() {
        return plan;
    }
    let mut users_of: HashMap<usize, HashSet<Uuid>> = HashMap::new();
    for (user, (_, idx)) in per_user {
        for i in idx {
            users_of.entry(*i).or_default().insert(*user);
        }
    }
    let mut immediate: BTreeMap<Uuid, Vec<usize>> = BTreeMap::new();
    for (i, ch) in changes.iter().enumerate() {
        if !ch.kind.notifies() {
            continue;
        }
        let level = WarningLevel::parse(&ch.new.level).unwrap_or(WarningLevel::Blue);
        let wpath = UnitPath::from_stored(ch.new.unit_path.clone());
        let reached: Vec<&AudienceRow> = ch.audience.iter().filter(|a| a.from_step <= ch.new.step).collect();
        for r in routes {
            let matches = match (r.row.user_id, r.row.unit_id, &r.unit_path) {
                (Some(u), _, _) => users_of.get(&i).is_some_and(|s| s.contains(&u)),
                (None, Some(_), Some(path)) if r.row.scope == "subtree" => wpath.is_within(path),
                (None, Some(unit), Some(path)) => reached.iter().any(|a| {
                    (a.role.is_empty() && a.unit_id == unit)
                        || (!a.role.is_empty()
                            && w.jurisdiction(path) == Some(a.unit_id)
                            && w.units.get(&unit).is_some_and(|u| matches!(u.kind, UnitKind::Office | UnitKind::Government)))
                }),
                _ => false,
            };
            if !matches {
                continue;
            }
            match r.decide(ch.rule, level) {
                None => {}
                Some(true) => immediate.entry(r.row.id).or_default().push(i),
                Some(false) => plan.digest.entry(i).or_default().push(r.row.id),
            }
        }
    }
    for (channel, idx) in immediate {
        let quiet = idx.iter().any(|i| changes.get(*i).is_some_and(|c| quiet_rules.contains(&c.rule)));
        if quiet || idx.len() > crate::channels::CHANNEL_FLOOD_LIMIT {
            plan.summaries.push((channel, idx));
        } else {
            for i in idx {
                plan.direct.entry(i).or_default().push(channel);
            }
        }
    }
    plan
}

impl Service {
    /// The message an outside channel gets for one change (in Chinese: group robots are shared).
    fn channel_message(&self, ch: &Change, today: Date) -> bihuan_notify::Message {
        let facts: Value = serde_json::from_str(&ch.new.facts_json).unwrap_or(Value::Null);
        let mut lines = vec![format!("对象：{}", crate::channels::plain(&ch.new.label)), rules::describe(ch.rule, &facts, today, false)];
        if ch.kind == ChangeKind::Escalated {
            lines.push(format!("已升级至第 {} 级", ch.new.step));
        }
        if ch.kind == ChangeKind::Reopened {
            lines.push("条件再次出现".into());
        }
        let event = match ch.kind {
            ChangeKind::Opened => "warning.opened",
            ChangeKind::Reopened => "warning.reopened",
            ChangeKind::Escalated => "warning.escalated",
            _ => "warning.level_raised",
        };
        bihuan_notify::Message {
            title: ch.rule.label_zh().to_string(),
            level: crate::channels::level_of(&ch.new.level),
            lines,
            link: Some(self.link(&format!("/warnings/{}", ch.new.id))),
            event: event.into(),
            data: json!({ "warning": {
                "id": ch.new.id, "rule": ch.rule.as_str(), "rule_name": ch.rule.label_zh(), "level": ch.new.level, "step": ch.new.step,
                "state": ch.new.state, "subject": { "kind": ch.new.subject_kind, "id": ch.new.subject_id, "label": ch.new.label },
                "unit_id": ch.new.unit_id, "facts": facts,
            }}),
        }
    }
}

fn channel_summary<'a>(changes: impl Iterator<Item = &'a Change>, link: String) -> bihuan_notify::Message {
    let mut by: BTreeMap<(i64, &str, &str), u64> = BTreeMap::new();
    let mut worst = WarningLevel::Blue;
    let mut total = 0;
    for ch in changes {
        let level = WarningLevel::parse(&ch.new.level).unwrap_or(WarningLevel::Blue);
        if level.rank() < worst.rank() {
            worst = level;
        }
        *by.entry((level.rank(), level.label_zh(), ch.rule.label_zh())).or_default() += 1;
        total += 1;
    }
    bihuan_notify::Message {
        title: format!("新增或升级预警 {total} 条"),
        level: crate::channels::level_of(worst.as_str()),
        lines: by.iter().map(|((_, l, r), n)| format!("{l} · {r}：{n} 条")).collect(),
        link: Some(link),
        event: "summary".into(),
        data: json!({ "count": total }),
    }
}
