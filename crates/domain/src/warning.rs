//! Early warning (预警): the rules as pure functions from the facts of one
//! subject (a hazard, an extension request, a measure, an indicator, a unit)
//! and the day to a finding, or none. The engine in the service crate
//! compares findings with the stored warnings and writes only the
//! difference; nothing here reads the clock or the database.
//!
//! Rules are data: each has a row (enabled, base level, parameters) seeded
//! from `rules/warning-rules.toml`, and the parameters are typed here per
//! rule, so a wrong key or value is refused when the office saves it.

use crate::calendar::WorkCalendar;
use crate::error::DomainError;
use crate::measure::vocabulary;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::{Date, Month};

vocabulary!(
    /// 预警等级: red is the most serious (rank 1).
    WarningLevel {
        Red = ("red", "红色", "Red"),
        Orange = ("orange", "橙色", "Orange"),
        Yellow = ("yellow", "黄色", "Yellow"),
        Blue = ("blue", "蓝色", "Blue"),
    }
);

impl WarningLevel {
    /// 1 for red … 4 for blue: sorting by rank puts the most serious first.
    pub fn rank(self) -> i64 {
        match self {
            WarningLevel::Red => 1,
            WarningLevel::Orange => 2,
            WarningLevel::Yellow => 3,
            WarningLevel::Blue => 4,
        }
    }
    /// One level more serious, capped at red.
    pub fn raised(self) -> Self {
        match self {
            WarningLevel::Red | WarningLevel::Orange => WarningLevel::Red,
            WarningLevel::Yellow => WarningLevel::Orange,
            WarningLevel::Blue => WarningLevel::Yellow,
        }
    }
    /// At least as serious as `other`.
    pub fn at_least(self, other: WarningLevel) -> bool {
        self.rank() <= other.rank()
    }
}

vocabulary!(
    /// A warning is open until its condition ends; acknowledging it says
    /// someone has seen it (and, where a rule asks, why it stands).
    WarningState {
        Open = ("open", "待处理", "Open"),
        Acknowledged = ("acknowledged", "已知悉", "Acknowledged"),
        Resolved = ("resolved", "已解除", "Resolved"),
    }
);

impl WarningState {
    pub fn is_active(self) -> bool {
        self != WarningState::Resolved
    }
}

vocabulary!(
    /// Why a warning ended.
    Resolution {
        /// The condition no longer holds.
        Cleared = ("cleared", "条件已消除", "Condition ended"),
        /// Another rule took over (a deadline passed: "near" becomes "overdue").
        Superseded = ("superseded", "已转为其他预警", "Taken over by another warning"),
        /// The rule was switched off.
        RuleDisabled = ("rule_disabled", "规则已停用", "Rule switched off"),
    }
);

vocabulary!(
    /// What a warning is about.
    SubjectKind {
        Hazard = ("hazard", "隐患", "Hazard"),
        Extension = ("extension", "延期申请", "Extension request"),
        Measure = ("measure", "制度措施", "Measure"),
        Indicator = ("indicator", "量化指标", "Indicator"),
        UnitPeriod = ("unit_period", "统计期", "Reporting period"),
        UnitType = ("unit_type", "隐患类别", "Hazard type"),
        Unit = ("unit", "单位", "Unit"),
    }
);

vocabulary!(
    /// The shipped rules (DOMAIN.md §8, docs/warnings-design.md §3).
    RuleCode {
        HazardDeadlineNear = ("hazard_deadline_near", "整改期限临近", "Rectification deadline near"),
        HazardOverdue = ("hazard_overdue", "隐患整改逾期", "Rectification overdue"),
        MajorPlanMissing = ("major_plan_missing", "重大隐患未制定治理方案", "Major hazard without a rectification plan"),
        MajorNotListed = ("major_not_listed", "重大隐患未挂牌督办", "Major hazard not under listed supervision"),
        ExtensionUndecided = ("extension_undecided", "延期申请未审批", "Extension request undecided"),
        MeasureOverdue = ("measure_overdue", "制度措施逾期", "Measure overdue"),
        IndicatorBehind = ("indicator_behind", "量化指标滞后", "Indicator behind schedule"),
        StatisticsMissing = ("statistics_missing", "统计分析表未报送", "Statistics report not submitted"),
        RepeatedHazardType = ("repeated_hazard_type", "同类隐患多发", "Same type of hazard keeps recurring"),
        UnitRateLow = ("unit_rate_low", "整改率偏低", "Low rectification rate"),
    }
);

impl RuleCode {
    pub fn subject_kind(self) -> SubjectKind {
        match self {
            RuleCode::HazardDeadlineNear | RuleCode::HazardOverdue | RuleCode::MajorPlanMissing | RuleCode::MajorNotListed => {
                SubjectKind::Hazard
            }
            RuleCode::ExtensionUndecided => SubjectKind::Extension,
            RuleCode::MeasureOverdue => SubjectKind::Measure,
            RuleCode::IndicatorBehind => SubjectKind::Indicator,
            RuleCode::StatisticsMissing => SubjectKind::UnitPeriod,
            RuleCode::RepeatedHazardType => SubjectKind::UnitType,
            RuleCode::UnitRateLow => SubjectKind::Unit,
        }
    }
    /// Rules that read a year of hazards at once run in the daily pass only.
    pub fn daily_only(self) -> bool {
        matches!(self, RuleCode::RepeatedHazardType | RuleCode::UnitRateLow)
    }
}

vocabulary!(
    /// Who a warning is addressed to. The engine turns each rung into units
    /// (and, for the office and leaders, a role within the jurisdiction).
    Rung {
        /// The unit that must rectify (the hazard's responsible unit, else its unit; the measure's unit).
        Responsible = ("responsible", "责任单位", "Responsible unit"),
        /// The enterprise where the hazard is, when another unit is responsible.
        Enterprise = ("enterprise", "所在企业", "Enterprise"),
        /// The village or grid above the enterprise (属地).
        Locality = ("locality", "属地", "Locality"),
        /// The unit that assigned the hazard, or put the measure on the list.
        Assigning = ("assigning", "交办单位", "Assigning unit"),
        /// The lead departments of the hazard's or indicator's area.
        LeadDepartment = ("lead_department", "牵头部门", "Lead department"),
        /// The unit supervising a listed hazard.
        Supervising = ("supervising", "督办单位", "Supervising unit"),
        /// The office (安委办) of the jurisdiction.
        Office = ("office", "安委办", "Safety office"),
        /// The leaders of the jurisdiction.
        Leaders = ("leaders", "领导", "Leaders"),
        /// The unit a unit-wide warning is about.
        Unit = ("unit", "本单位", "The unit itself"),
    }
);

/// One rung of a ladder: from `day` on, the warning has `level` and these
/// rungs are added to its audience.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderStep {
    pub day: i64,
    pub level: WarningLevel,
    pub adds: Vec<Rung>,
}

/// Parameters of each rule. Unknown keys are refused; missing ones take
/// the shipped default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeadlineNear {
    /// Warn this many working days before the deadline.
    pub working_days: u32,
}
impl Default for DeadlineNear {
    fn default() -> Self {
        DeadlineNear { working_days: 3 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Overdue {
    /// The escalation ladder, by days overdue (16号令 Art. 15/20; the days are local).
    pub steps: Vec<LadderStep>,
    /// Major and listed hazards start one level higher (capped at red).
    pub raise_major: bool,
}
impl Default for Overdue {
    fn default() -> Self {
        Overdue {
            steps: vec![
                LadderStep { day: 1, level: WarningLevel::Yellow, adds: vec![Rung::Responsible, Rung::Enterprise, Rung::Supervising] },
                LadderStep { day: 7, level: WarningLevel::Orange, adds: vec![Rung::LeadDepartment, Rung::Assigning] },
                LadderStep { day: 30, level: WarningLevel::Red, adds: vec![Rung::Office, Rung::Leaders] },
            ],
            raise_major: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanMissing {
    /// Days after finding a major hazard by which its 治理方案 should exist.
    pub days: i64,
    /// Red, and the office told, after this many days.
    pub red_after_days: i64,
}
impl Default for PlanMissing {
    fn default() -> Self {
        PlanMissing { days: 7, red_after_days: 30 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotListed {
    /// Working days after finding a major hazard by which it should be listed.
    pub working_days: u32,
}
impl Default for NotListed {
    fn default() -> Self {
        NotListed { working_days: 5 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtensionUndecided {
    pub working_days: u32,
    /// For listed hazards (青岛 3+X allows the supervisor longer).
    pub listed_working_days: u32,
}
impl Default for ExtensionUndecided {
    fn default() -> Self {
        ExtensionUndecided { working_days: 5, listed_working_days: 10 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MeasureOverdue {
    /// Orange, and the office told, from this many days overdue.
    pub orange_after_days: i64,
}
impl Default for MeasureOverdue {
    fn default() -> Self {
        MeasureOverdue { orange_after_days: 30 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndicatorBehind {
    /// Percentage points below the straight line from the campaign's start
    /// to the indicator's deadline before it counts as behind.
    pub tolerance_points: Decimal,
    /// Orange when not met this close to the deadline.
    pub warn_days: i64,
    /// Indicators of a campaign that ended longer ago than this are left to
    /// its final evaluation, not warned about every day.
    pub after_campaign_days: i64,
}
impl Default for IndicatorBehind {
    fn default() -> Self {
        IndicatorBehind { tolerance_points: Decimal::from(10), warn_days: 30, after_campaign_days: 90 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatisticsMissing {
    /// Quarterly reports are due on this day of the quarter's next month.
    pub quarter_due_day: u8,
    /// The annual report is due on this month and day of the next year ("01-31").
    pub annual_due: String,
    /// Orange this many days after the due date.
    pub orange_after_days: i64,
}
impl Default for StatisticsMissing {
    fn default() -> Self {
        StatisticsMissing { quarter_due_day: 15, annual_due: "01-31".into(), orange_after_days: 15 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RepeatedHazardType {
    /// Hazards of one type within the window that make a warning.
    pub n: i64,
    pub months: u32,
    /// Orange from this many.
    pub orange_at: i64,
}
impl Default for RepeatedHazardType {
    fn default() -> Self {
        RepeatedHazardType { n: 3, months: 12, orange_at: 6 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UnitRateLow {
    /// Whole months of found hazards counted.
    pub months: u32,
    /// The most recent months left out (their hazards are still within deadline).
    pub exclude_recent_months: u32,
    /// Fewer hazards than this say nothing about a unit.
    pub min_hazards: i64,
    /// Warn below this share closed.
    pub min_rate: Decimal,
    /// A warning ends only once the rate is this much above `min_rate`, so it does not flap.
    pub hysteresis: Decimal,
}
impl Default for UnitRateLow {
    fn default() -> Self {
        UnitRateLow {
            months: 12,
            exclude_recent_months: 2,
            min_hazards: 30,
            min_rate: Decimal::new(85, 2),
            hysteresis: Decimal::new(2, 2),
        }
    }
}

/// A rule's parameters, typed.
#[derive(Clone, Debug, PartialEq)]
pub enum Params {
    DeadlineNear(DeadlineNear),
    Overdue(Overdue),
    PlanMissing(PlanMissing),
    NotListed(NotListed),
    ExtensionUndecided(ExtensionUndecided),
    MeasureOverdue(MeasureOverdue),
    IndicatorBehind(IndicatorBehind),
    StatisticsMissing(StatisticsMissing),
    RepeatedHazardType(RepeatedHazardType),
    UnitRateLow(UnitRateLow),
}

fn typed<T: serde::de::DeserializeOwned>(code: RuleCode, v: &Value) -> Result<T, DomainError> {
    let v = if v.is_null() { json!({}) } else { v.clone() };
    serde_json::from_value(v).map_err(|e| {
        DomainError::field(
            "params",
            format!("规则“{}”的参数有误：{e}", code.label_zh()),
            format!("The parameters of rule \"{}\" are not valid: {e}", code.label_en()),
        )
    })
}

impl Params {
    /// Reads and checks a rule's parameters (JSON object; missing keys take defaults).
    pub fn parse(code: RuleCode, v: &Value) -> Result<Params, DomainError> {
        let p = match code {
            RuleCode::HazardDeadlineNear => Params::DeadlineNear(typed(code, v)?),
            RuleCode::HazardOverdue => Params::Overdue(typed(code, v)?),
            RuleCode::MajorPlanMissing => Params::PlanMissing(typed(code, v)?),
            RuleCode::MajorNotListed => Params::NotListed(typed(code, v)?),
            RuleCode::ExtensionUndecided => Params::ExtensionUndecided(typed(code, v)?),
            RuleCode::MeasureOverdue => Params::MeasureOverdue(typed(code, v)?),
            RuleCode::IndicatorBehind => Params::IndicatorBehind(typed(code, v)?),
            RuleCode::StatisticsMissing => Params::StatisticsMissing(typed(code, v)?),
            RuleCode::RepeatedHazardType => Params::RepeatedHazardType(typed(code, v)?),
            RuleCode::UnitRateLow => Params::UnitRateLow(typed(code, v)?),
        };
        p.validate(code)?;
        Ok(p)
    }

    fn validate(&self, code: RuleCode) -> Result<(), DomainError> {
        let bad = |zh: &str, en: &str| {
            Err(DomainError::field(
                "params",
                format!("规则“{}”：{zh}", code.label_zh()),
                format!("Rule \"{}\": {en}", code.label_en()),
            ))
        };
        match self {
            Params::DeadlineNear(p) if p.working_days == 0 || p.working_days > 60 => {
                bad("提前工作日数应在 1 至 60 之间", "working days must be between 1 and 60")
            }
            Params::Overdue(p) => {
                if p.steps.is_empty() {
                    return bad("至少需要一级升级阶梯", "the ladder needs at least one step");
                }
                let mut last = 0;
                for s in &p.steps {
                    if s.day <= last {
                        return bad("升级阶梯的天数应从 1 起逐级增大", "ladder days must start at 1 or more and increase");
                    }
                    last = s.day;
                }
                Ok(())
            }
            Params::PlanMissing(p) if p.days < 1 || p.red_after_days <= p.days || p.red_after_days > 3650 => {
                bad("天数应大于 0，且转红天数大于提醒天数", "days must be positive and red_after_days greater than days")
            }
            Params::NotListed(p) if p.working_days == 0 || p.working_days > 250 => bad("工作日数应在 1 至 250 之间", "working days must be 1 to 250"),
            Params::ExtensionUndecided(p) if !(1..=250).contains(&p.working_days) || !(1..=250).contains(&p.listed_working_days) => {
                bad("工作日数应大于 0", "working days must be positive")
            }
            Params::MeasureOverdue(p) if !(1..=3650).contains(&p.orange_after_days) => bad("天数应在 1 至 3650 之间", "days must be 1 to 3650"),
            Params::IndicatorBehind(p)
                if p.tolerance_points < Decimal::ZERO
                    || p.tolerance_points > Decimal::ONE_HUNDRED
                    || !(0..=3650).contains(&p.warn_days)
                    || !(0..=3650).contains(&p.after_campaign_days) =>
            {
                bad("容差应在 0 至 100 之间，天数在 0 至 3650 之间", "tolerance must be 0 to 100 and days 0 to 3650")
            }
            Params::StatisticsMissing(p) => {
                if !(1..=28).contains(&p.quarter_due_day) {
                    return bad("季度报送日应在 1 至 28 日之间", "the quarterly due day must be between 1 and 28");
                }
                if month_day(&p.annual_due).is_none() {
                    return bad("年度报送日应写作 MM-DD，如 01-31", "the annual due date must be MM-DD, e.g. 01-31");
                }
                Ok(())
            }
            Params::RepeatedHazardType(p) if p.n < 2 || p.orange_at < p.n || p.months == 0 || p.months > 36 => {
                bad("次数至少为 2，橙色次数不小于该数，月数在 1 至 36 之间", "n must be at least 2, orange_at at least n, months 1 to 36")
            }
            Params::UnitRateLow(p)
                if p.months == 0
                    || p.months > 36
                    || p.exclude_recent_months > 24
                    || p.min_hazards < 1
                    || p.min_rate <= Decimal::ZERO
                    || p.min_rate > Decimal::ONE
                    || p.hysteresis < Decimal::ZERO
                    || p.hysteresis > Decimal::ONE =>
            {
                bad(
                    "月数在 1 至 36 之间，最少隐患数大于 0，整改率阈值在 0 至 1 之间",
                    "months 1 to 36, min_hazards positive, min_rate between 0 and 1",
                )
            }
            _ => Ok(()),
        }
    }
}

fn month_day(s: &str) -> Option<(Month, u8)> {
    let (m, d) = s.split_once('-')?;
    let m: u8 = m.parse().ok()?;
    let d: u8 = d.parse().ok()?;
    let month = Month::try_from(m).ok()?;
    // Checked against a leap year, so 02-29 is refused only by the days check below.
    Date::from_calendar_date(2021, month, d).ok()?;
    Some((month, d))
}

/// What a rule found about one subject today.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub level: WarningLevel,
    /// The escalation rung reached (0 for rules without a ladder).
    pub step: i64,
    /// Who is addressed, and from which step on.
    pub audience: Vec<(Rung, i64)>,
    /// Stable facts shown with the warning (never "days overdue", which
    /// changes daily and is derived when shown).
    pub facts: Value,
}

fn finding(level: WarningLevel, step: i64, audience: &[Rung], facts: Value) -> Finding {
    Finding { level, step, audience: audience.iter().map(|r| (*r, 0)).collect(), facts }
}

/// The facts of a pending hazard the hazard rules need.
#[derive(Clone, Debug, PartialEq)]
pub struct HazardSubject {
    pub major: bool,
    pub listed: bool,
    /// Reported, assigned or rectifying: the deadline still binds.
    pub pending: bool,
    pub deadline: Option<Date>,
    /// The Beijing date it was found.
    pub found_on: Date,
    /// The parts of the 治理方案 still empty (all six when there is none).
    pub plan_missing: usize,
}

/// 整改期限临近: a pending hazard whose deadline is within N working days.
pub fn deadline_near(p: &DeadlineNear, h: &HazardSubject, today: Date, cal: &WorkCalendar) -> Option<Finding> {
    let deadline = h.deadline?;
    let horizon = cal.add_working_days(today, p.working_days);
    if !h.pending || deadline < today || deadline > horizon {
        return None;
    }
    let level = if h.major || h.listed { WarningLevel::Yellow } else { WarningLevel::Blue };
    Some(finding(level, 0, &[Rung::Responsible, Rung::Enterprise], json!({ "deadline": deadline.to_string() })))
}

/// 整改逾期: pending past the deadline, escalating by the ladder.
pub fn overdue(p: &Overdue, h: &HazardSubject, today: Date) -> Option<Finding> {
    let deadline = h.deadline?;
    if !h.pending {
        return None;
    }
    let days = (today - deadline).whole_days();
    let mut reached = None;
    let mut audience = Vec::new();
    for (i, s) in p.steps.iter().enumerate() {
        if days < s.day {
            break;
        }
        let step = i as i64 + 1;
        audience.extend(s.adds.iter().map(|r| (*r, step)));
        reached = Some((step, s.level));
    }
    let (step, mut level) = reached?;
    if p.raise_major && (h.major || h.listed) {
        level = level.raised();
    }
    Some(Finding { level, step, audience, facts: json!({ "deadline": deadline.to_string(), "major": h.major, "listed": h.listed }) })
}

/// The date by which a step of the overdue ladder is reached (for tests and
/// for saying "escalates on …").
pub fn overdue_step_date(p: &Overdue, deadline: Date, step: usize) -> Option<Date> {
    let s = p.steps.get(step.checked_sub(1)?)?;
    deadline.checked_add(time::Duration::days(s.day))
}

/// 重大隐患未制定治理方案 (16号令 Art. 15): a pending major hazard whose plan is
/// incomplete N days after it was found.
pub fn plan_missing(p: &PlanMissing, h: &HazardSubject, today: Date) -> Option<Finding> {
    if !h.major || !h.pending || h.plan_missing == 0 {
        return None;
    }
    let age = (today - h.found_on).whole_days();
    if age <= p.days {
        return None;
    }
    let facts = json!({ "found_on": h.found_on.to_string(), "missing_parts": h.plan_missing });
    let base = [Rung::Responsible, Rung::Enterprise, Rung::Assigning, Rung::Supervising];
    if age > p.red_after_days {
        let mut f = finding(WarningLevel::Red, 2, &base, facts);
        f.audience.push((Rung::Office, 2));
        Some(f)
    } else {
        Some(finding(WarningLevel::Orange, 1, &base, facts))
    }
}

/// 重大隐患未挂牌督办 (16号令 Art. 19–20): a pending major hazard still not
/// listed N working days after it was found. Addressed to the office, which
/// decides on listing.
pub fn not_listed(p: &NotListed, h: &HazardSubject, today: Date, cal: &WorkCalendar) -> Option<Finding> {
    if !h.major || !h.pending || h.listed {
        return None;
    }
    if cal.working_days_between(h.found_on, today) <= p.working_days {
        return None;
    }
    Some(finding(WarningLevel::Orange, 0, &[Rung::Office], json!({ "found_on": h.found_on.to_string() })))
}

/// The facts of a pending extension request.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtensionSubject {
    pub requested_on: Date,
    pub current_deadline: Date,
    pub listed: bool,
}

/// 延期申请未审批: undecided N working days after it was asked; orange, and the
/// office told, once the deadline it would move has passed.
pub fn extension_undecided(p: &ExtensionUndecided, e: &ExtensionSubject, today: Date, cal: &WorkCalendar) -> Option<Finding> {
    let limit = if e.listed { p.listed_working_days } else { p.working_days };
    if cal.working_days_between(e.requested_on, today) < limit {
        return None;
    }
    let facts = json!({ "requested_on": e.requested_on.to_string(), "current_deadline": e.current_deadline.to_string() });
    if today > e.current_deadline {
        let mut f = finding(WarningLevel::Orange, 2, &[Rung::Assigning, Rung::Supervising], facts);
        f.audience.push((Rung::Office, 2));
        Some(f)
    } else {
        Some(finding(WarningLevel::Yellow, 1, &[Rung::Assigning, Rung::Supervising], facts))
    }
}

/// 制度措施逾期: an unfinished measure past its deadline.
pub fn measure_overdue(p: &MeasureOverdue, deadline: Date, open: bool, today: Date) -> Option<Finding> {
    let days = (today - deadline).whole_days();
    if !open || days < 1 {
        return None;
    }
    let facts = json!({ "deadline": deadline.to_string() });
    if days >= p.orange_after_days {
        let mut f = finding(WarningLevel::Orange, 2, &[Rung::Responsible, Rung::Assigning], facts);
        f.audience.push((Rung::Office, 2));
        Some(f)
    } else {
        Some(finding(WarningLevel::Yellow, 1, &[Rung::Responsible, Rung::Assigning], facts))
    }
}

/// The facts of a quantitative indicator.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorSubject {
    pub met: bool,
    /// Share of the target reached (0–100) where a share means something.
    pub percent: Option<Decimal>,
    /// Whether the target is a share that grows ("at least", "more than").
    pub has_share: bool,
    pub deadline: Date,
    pub campaign_starts_on: Date,
}

/// 量化指标滞后: past the deadline and not met (red); not met close to the
/// deadline (orange); behind the straight line from the campaign's start
/// (yellow).
pub fn indicator_behind(p: &IndicatorBehind, i: &IndicatorSubject, today: Date) -> Option<Finding> {
    if i.met || today < i.campaign_starts_on {
        return None;
    }
    let mut facts = json!({ "deadline": i.deadline.to_string(), "percent": i.percent.map(|d| d.to_string()) });
    let days_left = (i.deadline - today).whole_days();
    if days_left < 0 {
        let mut f = finding(WarningLevel::Red, 3, &[Rung::LeadDepartment], facts);
        f.audience.push((Rung::Office, 3));
        return Some(f);
    }
    if days_left <= p.warn_days {
        return Some(finding(WarningLevel::Orange, 2, &[Rung::LeadDepartment], facts));
    }
    if !i.has_share {
        return None;
    }
    let span = (i.deadline - i.campaign_starts_on).whole_days();
    if span <= 0 {
        return None;
    }
    let elapsed = (today - i.campaign_starts_on).whole_days();
    let expected = Decimal::from(elapsed) * Decimal::ONE_HUNDRED / Decimal::from(span);
    let reached = i.percent.unwrap_or(Decimal::ZERO);
    if reached + p.tolerance_points < expected {
        if let Some(o) = facts.as_object_mut() {
            o.insert("expected_percent".into(), json!(format!("{:.1}", expected.round_dp(1))));
        }
        return Some(finding(WarningLevel::Yellow, 1, &[Rung::LeadDepartment], facts));
    }
    None
}

/// A reporting period of the 统计分析表 (16号令 Art. 14): a quarter or a year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Quarter(i32, u8),
    Year(i32),
}

impl Period {
    /// `2021Q1` or `2021`.
    pub fn key(self) -> String {
        match self {
            Period::Quarter(y, q) => format!("{y}Q{q}"),
            Period::Year(y) => format!("{y}"),
        }
    }
    pub fn parse(s: &str) -> Option<Period> {
        let s = s.trim();
        if let Some((y, q)) = s.split_once(['Q', 'q']) {
            let q: u8 = q.parse().ok()?;
            return (1..=4).contains(&q).then_some(Period::Quarter(y.parse().ok()?, q));
        }
        let y: i32 = s.parse().ok()?;
        (1900..=9999).contains(&y).then_some(Period::Year(y))
    }
    pub fn label_zh(self) -> String {
        match self {
            Period::Quarter(y, q) => format!("{y}年第{q}季度"),
            Period::Year(y) => format!("{y}年度"),
        }
    }
    pub fn label_en(self) -> String {
        match self {
            Period::Quarter(y, q) => format!("Q{q} {y}"),
            Period::Year(y) => format!("year {y}"),
        }
    }
    /// The last day of the period.
    pub fn ends_on(self) -> Option<Date> {
        let (y, m) = match self {
            Period::Quarter(y, q) => (y, q * 3),
            Period::Year(y) => (y, 12),
        };
        let month = Month::try_from(m).ok()?;
        Date::from_calendar_date(y, month, time::util::days_in_month(month, y)).ok()
    }
    /// The day the report is due, "on or before" (DOMAIN.md §1.6).
    pub fn due(self, p: &StatisticsMissing) -> Option<Date> {
        let next = self.ends_on()?.next_day()?;
        match self {
            Period::Quarter(..) => Date::from_calendar_date(next.year(), next.month(), p.quarter_due_day).ok(),
            Period::Year(_) => {
                let (m, d) = month_day(&p.annual_due)?;
                Date::from_calendar_date(next.year(), m, d).ok()
            }
        }
    }
    /// The latest quarter and the latest year whose due date has passed on `today`.
    pub fn latest_due(today: Date, p: &StatisticsMissing) -> Vec<Period> {
        let mut out = Vec::new();
        let (y, q) = (today.year(), (today.month() as u8 - 1) / 3 + 1);
        let mut quarter = if q == 1 { Period::Quarter(y - 1, 4) } else { Period::Quarter(y, q - 1) };
        for _ in 0..2 {
            if quarter.due(p).is_some_and(|d| today > d) {
                out.push(quarter);
                break;
            }
            quarter = match quarter {
                Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
                Period::Quarter(y, q) => Period::Quarter(y, q - 1),
                other => other,
            };
        }
        for year in [y - 1, y - 2] {
            if Period::Year(year).due(p).is_some_and(|d| today > d) {
                out.push(Period::Year(year));
                break;
            }
        }
        out
    }
}

/// 统计分析表未报送: the period's report has not come in by its due date.
pub fn statistics_missing(p: &StatisticsMissing, period: Period, submitted: bool, today: Date) -> Option<Finding> {
    let due = period.due(p)?;
    if submitted || today <= due {
        return None;
    }
    let facts = json!({ "period": period.key(), "due": due.to_string() });
    let late = (today - due).whole_days();
    if late > p.orange_after_days {
        Some(finding(WarningLevel::Orange, 2, &[Rung::Unit, Rung::Locality], facts))
    } else {
        Some(finding(WarningLevel::Yellow, 1, &[Rung::Unit, Rung::Locality], facts))
    }
}

/// 同类隐患多发: N or more hazards of one type at one enterprise in the window.
pub fn repeated_hazard_type(p: &RepeatedHazardType, count: i64, since: Date) -> Option<Finding> {
    if count < p.n {
        return None;
    }
    let level = if count >= p.orange_at { WarningLevel::Orange } else { WarningLevel::Yellow };
    let step = if level == WarningLevel::Orange { 2 } else { 1 };
    Some(finding(level, step, &[Rung::Unit, Rung::Locality], json!({ "count": count, "since": since.to_string() })))
}

/// The first day of the window `repeated_hazard_type` counts from.
pub fn months_back(today: Date, months: u32) -> Date {
    let mut y = today.year();
    let mut m = today.month() as i32 - months as i32;
    while m < 1 {
        m += 12;
        y -= 1;
    }
    let month = Month::try_from(m as u8).unwrap_or(Month::January);
    let day = today.day().min(time::util::days_in_month(month, y));
    Date::from_calendar_date(y, month, day).unwrap_or(today)
}

/// The whole months `unit_rate_low` counts: `[from, to)` by first days.
pub fn rate_window(p: &UnitRateLow, today: Date) -> (Date, Date) {
    let first = |d: Date| d.replace_day(1).unwrap_or(d);
    let to = first(months_back(first(today), p.exclude_recent_months));
    let from = first(months_back(to, p.months));
    (from, to)
}

/// 整改率偏低: closed ÷ (found − dismissed) below the threshold, on a
/// sample big enough to mean something. `open_now` says whether a warning
/// is open, for the hysteresis.
pub fn unit_rate_low(p: &UnitRateLow, counted: i64, closed: i64, open_now: bool) -> Option<Finding> {
    if counted < p.min_hazards || counted <= 0 {
        return None;
    }
    let rate = Decimal::from(closed) / Decimal::from(counted);
    let threshold = if open_now { p.min_rate + p.hysteresis } else { p.min_rate };
    if rate >= threshold {
        return None;
    }
    let far = rate < p.min_rate - Decimal::new(10, 2);
    let level = if far { WarningLevel::Orange } else { WarningLevel::Yellow };
    let mut f = finding(level, if far { 2 } else { 1 }, &[Rung::Unit], json!({
        "counted": counted,
        "closed": closed,
        "rate": rate.round_dp(4).to_string(),
        "min_rate": p.min_rate.to_string(),
    }));
    if far {
        f.audience.push((Rung::Office, 2));
    }
    Some(f)
}

/// A percentage for messages: 0.8123 → "81.2%".
pub fn percent_text(rate: &str) -> String {
    rate.parse::<Decimal>()
        .ok()
        .and_then(|r| (r * Decimal::ONE_HUNDRED).round_dp(1).to_f64())
        .map(|v| format!("{v:.1}%"))
        .unwrap_or_else(|| rate.to_string())
}

/// What a warning says, in one sentence, from its stored facts and today
/// (days are derived here, never stored).
pub fn describe(rule: RuleCode, facts: &Value, today: Date, english: bool) -> String {
    let date = |k: &str| facts.get(k).and_then(Value::as_str).and_then(parse_iso_date);
    let text = |k: &str| facts.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let int = |k: &str| facts.get(k).and_then(Value::as_i64).unwrap_or_default();
    let days_since = |d: Option<Date>| d.map(|d| (today - d).whole_days()).unwrap_or_default();
    match rule {
        RuleCode::HazardDeadlineNear => {
            let left = date("deadline").map(|d| (d - today).whole_days()).unwrap_or_default();
            if english {
                format!("Deadline {}, {left} day(s) left", text("deadline"))
            } else {
                format!("整改期限 {}，还剩 {left} 天", text("deadline"))
            }
        }
        RuleCode::HazardOverdue => {
            let days = days_since(date("deadline"));
            if english {
                format!("Deadline {}, {days} day(s) overdue", text("deadline"))
            } else {
                format!("整改期限 {}，已逾期 {days} 天", text("deadline"))
            }
        }
        RuleCode::MajorPlanMissing => {
            if english {
                format!("Found {}, {} part(s) of the rectification plan still missing", text("found_on"), int("missing_parts"))
            } else {
                format!("发现于 {}，治理方案尚缺 {} 项", text("found_on"), int("missing_parts"))
            }
        }
        RuleCode::MajorNotListed => {
            if english {
                format!("Found {}, not yet under listed supervision", text("found_on"))
            } else {
                format!("发现于 {}，尚未挂牌督办", text("found_on"))
            }
        }
        RuleCode::ExtensionUndecided => {
            if english {
                format!("Requested {}, not yet decided (current deadline {})", text("requested_on"), text("current_deadline"))
            } else {
                format!("申请于 {}，尚未审批（现整改期限 {}）", text("requested_on"), text("current_deadline"))
            }
        }
        RuleCode::MeasureOverdue => {
            let days = days_since(date("deadline"));
            if english {
                format!("Due {}, {days} day(s) overdue", text("deadline"))
            } else {
                format!("完成时限 {}，已逾期 {days} 天", text("deadline"))
            }
        }
        RuleCode::IndicatorBehind => {
            let pct = facts.get("percent").and_then(Value::as_str).map(|p| format!("{p}%")).unwrap_or_else(|| "—".into());
            let expected = facts.get("expected_percent").and_then(Value::as_str);
            match (english, expected) {
                (true, Some(e)) => format!("Due {}, reached {pct} where {e}% was expected by now", text("deadline")),
                (true, None) => format!("Due {}, not met (reached {pct})", text("deadline")),
                (false, Some(e)) => format!("完成时限 {}，目前完成 {pct}，按进度应达 {e}%", text("deadline")),
                (false, None) => format!("完成时限 {}，尚未完成（目前 {pct}）", text("deadline")),
            }
        }
        RuleCode::StatisticsMissing => {
            let period = Period::parse(&text("period"));
            let name = period.map(|p| if english { p.label_en() } else { p.label_zh() }).unwrap_or_else(|| text("period"));
            if english {
                format!("The statistics report for {name} was due on {}", text("due"))
            } else {
                format!("{name}隐患排查治理统计分析表应于 {} 前报送，尚未收到", text("due"))
            }
        }
        RuleCode::RepeatedHazardType => {
            if english {
                format!("{} hazards of this type found since {}", int("count"), text("since"))
            } else {
                format!("自 {} 以来发现同类隐患 {} 起", text("since"), int("count"))
            }
        }
        RuleCode::UnitRateLow => {
            let rate = percent_text(&text("rate"));
            let min = percent_text(&text("min_rate"));
            if english {
                format!("Rectification rate {rate} ({} of {}), below {min}", int("closed"), int("counted"))
            } else {
                format!("整改率 {rate}（{}/{}），低于 {min}", int("closed"), int("counted"))
            }
        }
    }
}

fn parse_iso_date(s: &str) -> Option<Date> {
    Date::parse(s, &time::format_description::well_known::Iso8601::DATE).ok()
}

/// A rule as stored: the shipped defaults come from `rules/warning-rules.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleDef {
    pub code: RuleCode,
    pub enabled: bool,
    /// The base level; rules with ladders set the level of each step.
    pub level: WarningLevel,
    #[serde(default)]
    pub params: Value,
    pub source_document: String,
    /// DOMAIN.md's evidence tag: V, V2, M, ? or local.
    pub source_tag: String,
}

#[derive(Deserialize)]
struct RuleFile {
    rule: Vec<RuleDef>,
}

/// The shipped rules, with their parameters checked.
pub fn default_rules() -> Result<Vec<RuleDef>, DomainError> {
    parse_rules(include_str!("../../../rules/warning-rules.toml"))
}

pub fn parse_rules(text: &str) -> Result<Vec<RuleDef>, DomainError> {
    let file: RuleFile = toml::from_str(text).map_err(|e| {
        DomainError::field("rules", format!("预警规则文件有误：{e}"), format!("The warning rules file is not valid: {e}"))
    })?;
    for r in &file.rule {
        Params::parse(r.code, &r.params)?;
    }
    Ok(file.rule)
}

#[cfg(test)]
#[path = "warning_tests.rs"]
mod tests;
