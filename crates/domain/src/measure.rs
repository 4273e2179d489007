//! The measures list (制度措施清单), the second of the campaign's “两个清单”:
//! the institutional measures — rules (制度), mechanisms (机制) and concrete
//! measures (措施) — that a unit must put in place in a rectification area,
//! by a deadline, with evidence that it did.
//!
//! Like a hazard, a measure is a record, a vocabulary, a state machine as a
//! pure function ([`apply`]: a measure and an action give the changed
//! measure and the one timeline event recording the change) and a
//! permission policy decided separately ([`authorize`]).
//!
//! # The loop
//!
//! | from | action | to | who |
//! |---|---|---|---|
//! | 未开始 planned, 推进中 in_progress | progress (推进情况, optional evidence) | in_progress | the responsible unit, the office |
//! | planned, in_progress | complete (evidence required) | 已完成 completed | the responsible unit, the office |
//! | completed | verify (核验) | 已核验 verified | the office, the lead department — not the responsible unit |
//! | completed | send back (reason) | in_progress | as verify |
//! | planned, in_progress | cancel (reason) | 已取消 cancelled | the office, the lead department, the creator |
//! | verified | reopen (reason, optional new deadline) | in_progress | as cancel |
//! | cancelled | reopen (reason, optional new deadline) | planned | as cancel |
//! | planned, in_progress | edit (fields; a moved deadline not in the past) | unchanged | as cancel |
//!
//! Leaders and experts read; units with no part in a measure do not see it.
//!
//! Why these states:
//!
//! - **Who puts a measure on the list.** The office, for any unit of its
//!   town; a lead department, in the areas it leads. Each unit drafts its
//!   measures in its 任务书, but the list is kept by those who supervise it,
//!   so a unit does not set its own deadlines; it asks them.
//! - **Verification is a separate step.** The plan makes the office and the
//!   lead departments answerable for the lists (领导小组办公室…加强督促检查;
//!   牵头部门是统筹协调部门). A unit ticking its own measure off is a claim;
//!   the supervisor's check (核验) is what the summary counts as verified.
//!   Completion still counts as done for the completion rate (the unit did
//!   its part by the deadline; the check can come later), and a measure
//!   waiting for its check is no longer overdue — as a submitted hazard.
//!   Nobody verifies a measure of their own unit (except an administrator).
//! - **Sending back** (退回) reopens the work when the evidence does not hold;
//!   the deadline binds again.
//! - **Cancelling needs a reason and is for the supervisor or the creator.**
//!   Lists are updated dynamically (动态更新“两个清单”): a measure overtaken
//!   by a reorganisation is cancelled, never deleted, and counts in no rate.
//! - **Reopening needs a reason.** A verified measure goes back to work
//!   (推进中); a cancelled one back on the list (未开始). A new deadline may be
//!   set at the same time, so that a reopened measure is not overdue at once.
//! - **Deadlines move by editing**, which only the supervisor or the creator
//!   may do (and never into the past): the responsible unit cannot move its
//!   own deadline. The timeline records the previous deadline.
//!
//! Overdue is derived, never stored: open (未开始 or 推进中) and today is
//! after the deadline. On the deadline day a measure is not overdue.

use crate::error::{DomainError, ErrorCode, FieldError};
use crate::ids::*;
pub use crate::model::UnitRef;
use crate::permission::{Actor, Decision};
use crate::role::Role;
use crate::unit::UnitPath;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// A closed vocabulary with stable codes and Chinese and English labels.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = ($code:literal, $zh:literal, $en:literal)),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($(#[$vmeta])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $code),* } }
            /// Reads the code, the Chinese label or the English label.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.as_str() == s || v.label_zh() == s || v.label_en().eq_ignore_ascii_case(s))
            }
            pub fn label_zh(self) -> &'static str { match self { $($name::$variant => $zh),* } }
            pub fn label_en(self) -> &'static str { match self { $($name::$variant => $en),* } }
            pub fn label(self, english: bool) -> &'static str { if english { self.label_en() } else { self.label_zh() } }
        }
    };
}
pub(crate) use vocabulary;

vocabulary!(
    /// What kind of institutional measure it is.
    MeasureKind {
        /// 制度: a written rule (责任清单, 考核巡查制度, 记分制 …).
        System = ("system", "制度", "System"),
        /// 机制: a standing way of working (信息共享机制, 通报机制 …).
        Mechanism = ("mechanism", "机制", "Mechanism"),
        /// 措施: a concrete measure (设施建设, 专项行动 …).
        Measure = ("measure", "措施", "Measure"),
    }
);

vocabulary!(
    /// Where a measure stands.
    MeasureState {
        /// 未开始: on the list, no progress reported yet.
        Planned = ("planned", "未开始", "Not started"),
        /// 推进中: progress reported.
        InProgress = ("in_progress", "推进中", "In progress"),
        /// 已完成: the responsible unit completed it, with evidence; waiting
        /// for the supervisor's check.
        Completed = ("completed", "已完成", "Completed"),
        /// 已核验: the office or the lead department checked the evidence.
        Verified = ("verified", "已核验", "Verified"),
        /// 已取消: taken off the list, with a reason.
        Cancelled = ("cancelled", "已取消", "Cancelled"),
    }
);

impl MeasureState {
    /// Still to be done: counts as open, can become overdue.
    pub fn is_open(self) -> bool {
        matches!(self, MeasureState::Planned | MeasureState::InProgress)
    }
    /// Done by the responsible unit (verified or not).
    pub fn is_done(self) -> bool {
        matches!(self, MeasureState::Completed | MeasureState::Verified)
    }
}

/// A measure of the list.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Measure {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: MeasureId,
    /// The sequence number behind the code; orders lists.
    pub num: i64,
    /// 编号, e.g. ZC2021-000012.
    pub code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub campaign_id: Option<CampaignId>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub area_id: Option<AreaId>,
    /// 责任单位: the unit that puts the measure in place.
    pub responsible_unit: UnitRef,
    pub kind: MeasureKind,
    /// 名称, e.g. 修订镇安委会成员单位安全生产责任清单.
    pub title: String,
    /// 具体内容及要求.
    pub content: String,
    /// 责任人.
    pub responsible_person: Option<String>,
    /// 完成时限.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub deadline: Date,
    pub state: MeasureState,
    /// 完成情况及佐证材料 (document numbers, where the rule is published …).
    pub evidence: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub completed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub verified_at: Option<OffsetDateTime>,
    /// 核验人.
    pub verified_by: Option<String>,
    /// The unit that put the measure on the list (the office or a lead department).
    pub created_by_unit: UnitRef,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

impl Measure {
    /// Open and `today` after the deadline. On the deadline day it is not overdue.
    pub fn is_overdue(&self, today: Date) -> bool {
        self.state.is_open() && today > self.deadline
    }

    /// Whole days past the deadline: while open, counted to `today`; once
    /// done, counted to the day of completion (late work stays late).
    pub fn days_overdue(&self, today: Date) -> i64 {
        let end = match self.state {
            MeasureState::Planned | MeasureState::InProgress => today,
            MeasureState::Completed | MeasureState::Verified => match self.completed_at {
                Some(t) => crate::clock::local_date(t),
                None => return 0,
            },
            MeasureState::Cancelled => return 0,
        };
        (end - self.deadline).whole_days().max(0)
    }

    /// Done, and completed no later than the deadline (Beijing date).
    pub fn completed_on_time(&self) -> Option<bool> {
        match (self.state.is_done(), self.completed_at) {
            (true, Some(t)) => Some(crate::clock::local_date(t) <= self.deadline),
            _ => None,
        }
    }

    /// The facts about this measure that permissions depend on.
    pub fn facts(&self) -> MeasureFacts<'_> {
        MeasureFacts { unit: &self.responsible_unit.path, created_by_unit: &self.created_by_unit.path, area: self.area_id }
    }

    /// Builds a new measure (未开始) from checked fields and its first event.
    pub fn create(n: NewMeasure, at: OffsetDateTime, today: Date) -> Result<(Measure, MeasureEventDraft), DomainError> {
        if n.fields.deadline < today {
            return Err(DomainError::field("deadline", "完成时限不能早于今天", "The deadline may not be in the past"));
        }
        let f = n.fields;
        let m = Measure {
            id: n.id,
            num: n.num,
            code: n.code,
            campaign_id: n.campaign_id,
            area_id: n.area_id,
            responsible_unit: n.responsible_unit,
            kind: f.kind,
            title: f.title,
            content: f.content,
            responsible_person: f.responsible_person,
            deadline: f.deadline,
            state: MeasureState::Planned,
            evidence: None,
            completed_at: None,
            verified_at: None,
            verified_by: None,
            created_by_unit: n.created_by_unit,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        check_invariants(&m).map_err(internal)?;
        let event = MeasureEventDraft {
            action: "create".into(),
            from_state: None,
            to_state: m.state,
            comment: None,
            data: serde_json::json!({
                "kind": m.kind, "responsible_unit": m.responsible_unit.name, "deadline": m.deadline.to_string(),
            }),
        };
        Ok((m, event))
    }
}

/// Everything a new measure needs besides its checked fields.
#[derive(Clone, Debug, PartialEq)]
pub struct NewMeasure {
    pub id: MeasureId,
    pub num: i64,
    pub code: String,
    pub campaign_id: Option<CampaignId>,
    pub area_id: Option<AreaId>,
    pub responsible_unit: UnitRef,
    pub created_by_unit: UnitRef,
    pub fields: MeasureFields,
}

/// The code of the `num`-th measure registered in `year`: `ZC2021-000012`.
pub fn measure_code(year: i32, num: i64) -> String {
    format!("ZC{year}-{num:06}")
}

/// Input for putting a measure on the list or changing it, as people type
/// it (API, form, spreadsheet row); checked by [`MeasureDraft::validate`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureDraft {
    /// The responsible unit (id). Needed to create; when changing, empty keeps the unit.
    pub unit_id: Option<String>,
    /// The campaign's rectification area (id).
    pub area_id: Option<String>,
    /// `system`, `mechanism`, `measure` (or 制度 / 机制 / 措施).
    pub kind: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub content: String,
    pub responsible_person: Option<String>,
    /// 完成时限, e.g. 2021-06-30.
    pub deadline: Option<String>,
}

/// A measure's own fields after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasureFields {
    pub unit_id: Option<UnitId>,
    pub area_id: Option<AreaId>,
    pub kind: MeasureKind,
    pub title: String,
    pub content: String,
    pub responsible_person: Option<String>,
    pub deadline: Date,
}

pub const TITLE_MAX: usize = 200;
pub const CONTENT_MAX: usize = 5000;
pub const PERSON_MAX: usize = 50;

impl MeasureDraft {
    /// Checks the draft and names every field that is wrong. `creating`:
    /// the responsible unit is required. `parse_date` reads the date people wrote.
    pub fn validate(&self, creating: bool, parse_date: impl Fn(&str) -> Option<Date>) -> Result<MeasureFields, DomainError> {
        let mut errors = Vec::new();
        let text = |s: &Option<String>| s.as_deref().and_then(crate::text::non_blank);
        let title = self.title.trim().to_string();
        if title.is_empty() {
            errors.push(FieldError::new("title", "请填写制度措施名称", "Give the measure a title"));
        } else if title.chars().count() > TITLE_MAX {
            errors.push(FieldError::new("title", format!("名称不能超过{TITLE_MAX}个字"), format!("The title may have at most {TITLE_MAX} characters")));
        }
        let content = self.content.trim().to_string();
        if content.is_empty() {
            errors.push(FieldError::new("content", "请填写具体内容及要求", "Describe what is to be done"));
        } else if content.chars().count() > CONTENT_MAX {
            errors.push(FieldError::new(
                "content",
                format!("具体内容不能超过{CONTENT_MAX}个字"),
                format!("The content may have at most {CONTENT_MAX} characters"),
            ));
        }
        let kind = match text(&self.kind) {
            None => {
                errors.push(FieldError::new("kind", "请选择类别：制度、机制或措施", "Choose the kind: system, mechanism or measure"));
                None
            }
            Some(k) => {
                let k = crate::text::normalize_width(&k);
                let parsed = MeasureKind::parse(&k);
                if parsed.is_none() {
                    errors.push(FieldError::new(
                        "kind",
                        format!("未知的类别“{k}”，可选：制度、机制、措施"),
                        format!("Unknown kind '{k}'; one of: system, mechanism, measure"),
                    ));
                }
                parsed
            }
        };
        let responsible_person = text(&self.responsible_person);
        if responsible_person.as_ref().is_some_and(|p| p.chars().count() > PERSON_MAX) {
            errors.push(FieldError::new(
                "responsible_person",
                format!("责任人不能超过{PERSON_MAX}个字"),
                format!("The person responsible may have at most {PERSON_MAX} characters"),
            ));
        }
        let deadline = match text(&self.deadline) {
            None => {
                errors.push(FieldError::new("deadline", "请填写完成时限", "Set the deadline"));
                None
            }
            Some(d) => {
                let parsed = parse_date(&d);
                if parsed.is_none() {
                    errors.push(FieldError::new("deadline", "完成时限格式应如 2021-06-30", "Write the deadline like 2021-06-30"));
                }
                parsed
            }
        };
        let unit_id = match text(&self.unit_id) {
            None => {
                if creating {
                    errors.push(FieldError::new("unit_id", "请选择责任单位", "Choose the responsible unit"));
                }
                None
            }
            Some(u) => {
                let parsed = UnitId::parse(&u);
                if parsed.is_none() {
                    errors.push(FieldError::new("unit_id", "责任单位无效", "The responsible unit is not valid"));
                }
                parsed
            }
        };
        let area_id = match text(&self.area_id) {
            None => None,
            Some(a) => {
                let parsed = AreaId::parse(&a);
                if parsed.is_none() {
                    errors.push(FieldError::new("area_id", "整治领域无效", "The area is not valid"));
                }
                parsed
            }
        };
        match (kind, deadline, errors.is_empty()) {
            (Some(kind), Some(deadline), true) => {
                Ok(MeasureFields { unit_id, area_id, kind, title, content, responsible_person, deadline })
            }
            _ => Err(DomainError::invalid(errors)),
        }
    }
}

/// What a measure's permissions depend on.
#[derive(Clone, Copy, Debug)]
pub struct MeasureFacts<'a> {
    /// The responsible unit.
    pub unit: &'a UnitPath,
    pub created_by_unit: &'a UnitPath,
    pub area: Option<AreaId>,
}

/// What an actor wants to do to a measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MeasureOp {
    Read,
    /// Change the kind, title, content, responsible unit or person, area or deadline.
    Edit,
    /// Report progress (推进情况), optionally with evidence.
    Progress,
    /// Report it completed, with evidence.
    Complete,
    /// Check the evidence and confirm (核验).
    Verify,
    /// Send it back to work (退回).
    SendBack,
    Cancel,
    Reopen,
}

impl MeasureOp {
    pub const ALL: [MeasureOp; 8] = [
        MeasureOp::Read,
        MeasureOp::Edit,
        MeasureOp::Progress,
        MeasureOp::Complete,
        MeasureOp::Verify,
        MeasureOp::SendBack,
        MeasureOp::Cancel,
        MeasureOp::Reopen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MeasureOp::Read => "read",
            MeasureOp::Edit => "edit",
            MeasureOp::Progress => "progress",
            MeasureOp::Complete => "complete",
            MeasureOp::Verify => "verify",
            MeasureOp::SendBack => "send_back",
            MeasureOp::Cancel => "cancel",
            MeasureOp::Reopen => "reopen",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s.trim())
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            MeasureOp::Read => "查看",
            MeasureOp::Edit => "修改",
            MeasureOp::Progress => "报送进展",
            MeasureOp::Complete => "报告完成",
            MeasureOp::Verify => "核验",
            MeasureOp::SendBack => "退回",
            MeasureOp::Cancel => "取消",
            MeasureOp::Reopen => "重新打开",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            MeasureOp::Read => "View",
            MeasureOp::Edit => "Edit",
            MeasureOp::Progress => "Report progress",
            MeasureOp::Complete => "Report completion",
            MeasureOp::Verify => "Verify",
            MeasureOp::SendBack => "Send back",
            MeasureOp::Cancel => "Cancel",
            MeasureOp::Reopen => "Reopen",
        }
    }

    /// Whether the op is possible in this state, whoever asks.
    pub fn possible(self, m: &Measure) -> bool {
        use MeasureState::*;
        match self {
            MeasureOp::Read => true,
            MeasureOp::Edit | MeasureOp::Progress | MeasureOp::Complete | MeasureOp::Cancel => m.state.is_open(),
            MeasureOp::Verify | MeasureOp::SendBack => m.state == Completed,
            MeasureOp::Reopen => matches!(m.state, Verified | Cancelled),
        }
    }
}

/// The actor belongs to the responsible unit itself. Not a unit above it
/// (that supervises), nor one below it: a measure of the town government
/// is not every enterprise's to report.
fn member_of(actor: &Actor, p: &UnitPath) -> bool {
    actor.unit_path == *p
}

/// The target unit is the actor's unit or below it.
fn owns(actor: &Actor, p: &UnitPath) -> bool {
    p.is_within(&actor.unit_path)
}

/// A department staff member whose unit leads the measure's area.
fn leads(actor: &Actor, f: &MeasureFacts<'_>) -> bool {
    actor.role == Role::Department && f.area.is_some_and(|a| actor.led_areas.contains(&a))
}

/// The office of the jurisdiction the responsible unit is in (or an administrator).
fn office(actor: &Actor, f: &MeasureFacts<'_>) -> bool {
    actor.role == Role::Admin || (actor.role == Role::Office && f.unit.is_within(&actor.jurisdiction))
}

/// Whether an actor may see a measure: in their scope (which holds their
/// own unit), in an area their unit leads, or put on the list by their unit.
pub fn visible(actor: &Actor, f: &MeasureFacts<'_>) -> bool {
    actor.sees(f.unit) || leads(actor, f) || owns(actor, f.created_by_unit)
}

/// The permission policy for measures. `NotFound` for a measure the actor
/// may not see, `Forbidden` for one they see but may not act on. The state
/// is checked separately ([`MeasureOp::possible`]).
///
/// - the office of the jurisdiction and the lead department of the area
///   supervise: they edit, verify, send back, cancel and reopen;
/// - the unit that created the measure edits, cancels and reopens it;
/// - the responsible unit reports progress and completion (and so may the
///   office, for units without an account);
/// - nobody verifies their own unit's measure but an administrator;
/// - leaders and experts read.
pub fn authorize(actor: &Actor, f: &MeasureFacts<'_>, op: MeasureOp) -> Decision {
    if !visible(actor, f) {
        return Decision::NotFound;
    }
    if op == MeasureOp::Read {
        return Decision::Allow;
    }
    if matches!(actor.role, Role::Leader | Role::Expert) {
        return Decision::Forbidden;
    }
    let supervisor = office(actor, f) || leads(actor, f);
    let creator = actor.role != Role::Enterprise && owns(actor, f.created_by_unit);
    let responsible = member_of(actor, f.unit);
    let allowed = match op {
        MeasureOp::Read => true,
        MeasureOp::Edit | MeasureOp::Cancel | MeasureOp::Reopen => supervisor || creator,
        MeasureOp::Progress | MeasureOp::Complete => responsible || office(actor, f),
        MeasureOp::Verify | MeasureOp::SendBack => supervisor && (actor.role == Role::Admin || !responsible),
    };
    if allowed { Decision::Allow } else { Decision::Forbidden }
}

/// Whether an actor may put a measure for `unit` on the list, in `area`:
/// the office for any unit of its jurisdiction, a department for the areas
/// it leads.
pub fn may_create(actor: &Actor, unit: &UnitPath, area: Option<AreaId>) -> Decision {
    let allowed = match actor.role {
        Role::Admin => true,
        Role::Office => unit.is_within(&actor.jurisdiction),
        Role::Department => unit.is_within(&actor.jurisdiction) && area.is_some_and(|a| actor.led_areas.contains(&a)),
        _ => false,
    };
    // Departments work across the town (they inspect and lead areas there):
    // a unit of the town is known to them, only not theirs to list.
    let known = actor.sees(unit) || (actor.role == Role::Department && unit.is_within(&actor.jurisdiction));
    if allowed {
        Decision::Allow
    } else if known {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// The ops this actor may take on this measure now.
pub fn available_ops(actor: &Actor, m: &Measure) -> Vec<MeasureOp> {
    let f = m.facts();
    MeasureOp::ALL
        .into_iter()
        .filter(|op| *op != MeasureOp::Read && op.possible(m) && authorize(actor, &f, *op) == Decision::Allow)
        .collect()
}

/// New values for a measure's own fields (resolved: units and areas exist).
#[derive(Clone, Debug, PartialEq)]
pub struct MeasureChanges {
    pub responsible_unit: UnitRef,
    pub campaign_id: Option<CampaignId>,
    pub area_id: Option<AreaId>,
    pub kind: MeasureKind,
    pub title: String,
    pub content: String,
    pub responsible_person: Option<String>,
    pub deadline: Date,
}

impl MeasureChanges {
    /// The current values of `m`, to change some of them.
    pub fn of(m: &Measure) -> MeasureChanges {
        MeasureChanges {
            responsible_unit: m.responsible_unit.clone(),
            campaign_id: m.campaign_id,
            area_id: m.area_id,
            kind: m.kind,
            title: m.title.clone(),
            content: m.content.clone(),
            responsible_person: m.responsible_person.clone(),
            deadline: m.deadline,
        }
    }

    /// The names of the fields that differ from `m`.
    pub fn changed(&self, m: &Measure) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.responsible_unit.id != m.responsible_unit.id {
            out.push("responsible_unit");
        }
        if self.area_id != m.area_id || self.campaign_id != m.campaign_id {
            out.push("area");
        }
        if self.kind != m.kind {
            out.push("kind");
        }
        if self.title != m.title {
            out.push("title");
        }
        if self.content != m.content {
            out.push("content");
        }
        if self.responsible_person != m.responsible_person {
            out.push("responsible_person");
        }
        if self.deadline != m.deadline {
            out.push("deadline");
        }
        out
    }
}

/// A change of a measure, as the state machine takes it.
#[derive(Clone, Debug, PartialEq)]
pub enum MeasureAction {
    Edit(MeasureChanges),
    /// 推进情况; new evidence replaces the old.
    Progress { note: String, evidence: Option<String> },
    /// Completed; evidence is required (new, or already given with progress).
    Complete { evidence: Option<String>, comment: Option<String> },
    Verify { verified_by: String, comment: Option<String> },
    SendBack { reason: String },
    Cancel { reason: String },
    Reopen { reason: String, deadline: Option<Date> },
}

impl MeasureAction {
    pub fn op(&self) -> MeasureOp {
        match self {
            MeasureAction::Edit(_) => MeasureOp::Edit,
            MeasureAction::Progress { .. } => MeasureOp::Progress,
            MeasureAction::Complete { .. } => MeasureOp::Complete,
            MeasureAction::Verify { .. } => MeasureOp::Verify,
            MeasureAction::SendBack { .. } => MeasureOp::SendBack,
            MeasureAction::Cancel { .. } => MeasureOp::Cancel,
            MeasureAction::Reopen { .. } => MeasureOp::Reopen,
        }
    }
}

/// What the timeline records of one change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasureEventDraft {
    /// `create`, or an op name.
    pub action: String,
    pub from_state: Option<MeasureState>,
    pub to_state: MeasureState,
    pub comment: Option<String>,
    /// Details of the change (changed fields, previous deadline …).
    pub data: serde_json::Value,
}

/// One entry of a measure's timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureEvent {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: MeasureEventId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub measure_id: MeasureId,
    pub seq: i32,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub actor_user_id: Option<UserId>,
    pub actor_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub actor_unit_id: Option<UnitId>,
    pub action: String,
    pub from_state: Option<MeasureState>,
    pub to_state: MeasureState,
    pub comment: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

fn need(text: &str, field: &str, zh: &str, en: &str) -> Result<String, DomainError> {
    let t = text.trim();
    if t.is_empty() { Err(DomainError::field(field, zh, en)) } else { Ok(t.to_string()) }
}

fn clean(c: &Option<String>) -> Option<String> {
    c.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn internal(e: String) -> DomainError {
    DomainError::new(ErrorCode::Internal, e.clone(), e)
}

fn invalid_transition(m: &Measure, op: MeasureOp) -> DomainError {
    DomainError::conflict(
        format!("制度措施当前状态为“{}”，不能{}", m.state.label_zh(), op.label_zh()),
        format!("The measure is {}; \"{}\" is not possible now", m.state.label_en().to_lowercase(), op.label_en()),
    )
}

/// The state machine: checks that `action` is possible on `m` now and
/// returns the changed measure and its timeline event. Pure: no I/O, no
/// permission check (see [`authorize`]). `today` is the Beijing date of `at`.
pub fn apply(m: &Measure, action: &MeasureAction, at: OffsetDateTime, today: Date) -> Result<(Measure, MeasureEventDraft), DomainError> {
    let op = action.op();
    if !op.possible(m) {
        return Err(invalid_transition(m, op));
    }
    let mut n = m.clone();
    n.updated_at = at;
    let mut comment = None;
    let mut data = serde_json::Value::Null;
    match action {
        MeasureAction::Edit(c) => {
            let changed = c.changed(m);
            if changed.is_empty() {
                return Err(DomainError::new(ErrorCode::Validation, "没有修改任何内容", "Nothing was changed"));
            }
            let mut errors = Vec::new();
            if c.title.trim().is_empty() {
                errors.push(FieldError::new("title", "请填写制度措施名称", "Give the measure a title"));
            }
            if c.content.trim().is_empty() {
                errors.push(FieldError::new("content", "请填写具体内容及要求", "Describe what is to be done"));
            }
            if c.deadline != m.deadline && c.deadline < today {
                errors.push(FieldError::new("deadline", "新的完成时限不能早于今天", "The new deadline may not be in the past"));
            }
            if !errors.is_empty() {
                return Err(DomainError::invalid(errors));
            }
            n.responsible_unit = c.responsible_unit.clone();
            n.campaign_id = c.campaign_id;
            n.area_id = c.area_id;
            n.kind = c.kind;
            n.title = c.title.trim().to_string();
            n.content = c.content.trim().to_string();
            n.responsible_person = clean(&c.responsible_person);
            n.deadline = c.deadline;
            let mut d = serde_json::json!({ "changed": changed });
            if let Some(o) = d.as_object_mut() {
                if c.deadline != m.deadline {
                    o.insert("previous_deadline".into(), serde_json::json!(m.deadline.to_string()));
                    o.insert("deadline".into(), serde_json::json!(c.deadline.to_string()));
                }
                if c.responsible_unit.id != m.responsible_unit.id {
                    o.insert("previous_responsible_unit".into(), serde_json::json!(m.responsible_unit.name));
                    o.insert("responsible_unit".into(), serde_json::json!(c.responsible_unit.name));
                }
            }
            data = d;
        }
        MeasureAction::Progress { note, evidence } => {
            comment = Some(need(note, "note", "请填写推进情况", "Describe the progress")?);
            let evidence = clean(evidence);
            data = serde_json::json!({ "evidence_updated": evidence.is_some() });
            if evidence.is_some() {
                n.evidence = evidence;
            }
            n.state = MeasureState::InProgress;
        }
        MeasureAction::Complete { evidence, comment: c } => {
            let evidence = clean(evidence).or_else(|| clean(&m.evidence)).ok_or_else(|| {
                DomainError::field("evidence", "报告完成时请填写完成情况及佐证材料", "Describe what was done and the evidence for it")
            })?;
            n.evidence = Some(evidence);
            n.state = MeasureState::Completed;
            n.completed_at = Some(at);
            comment = clean(c);
            let done_on = crate::clock::local_date(at);
            data = serde_json::json!({ "on_time": done_on <= m.deadline, "days_overdue": (done_on - m.deadline).whole_days().max(0) });
        }
        MeasureAction::Verify { verified_by, comment: c } => {
            n.verified_by = Some(need(verified_by, "verified_by", "请填写核验人", "Name who verified it")?);
            n.verified_at = Some(at);
            n.state = MeasureState::Verified;
            comment = clean(c);
        }
        MeasureAction::SendBack { reason } => {
            comment = Some(need(reason, "reason", "请说明退回原因", "Say why it is sent back")?);
            n.state = MeasureState::InProgress;
            n.completed_at = None;
        }
        MeasureAction::Cancel { reason } => {
            comment = Some(need(reason, "reason", "请说明取消原因", "Say why it is cancelled")?);
            n.state = MeasureState::Cancelled;
        }
        MeasureAction::Reopen { reason, deadline } => {
            comment = Some(need(reason, "reason", "请说明重新打开的原因", "Say why it is reopened")?);
            if let Some(d) = deadline {
                if *d < today {
                    return Err(DomainError::field("deadline", "新的完成时限不能早于今天", "The new deadline may not be in the past"));
                }
                n.deadline = *d;
            }
            n.state = if m.state == MeasureState::Cancelled { MeasureState::Planned } else { MeasureState::InProgress };
            n.completed_at = None;
            n.verified_at = None;
            n.verified_by = None;
            data = serde_json::json!({ "deadline": n.deadline.to_string(), "previous_deadline": m.deadline.to_string() });
        }
    }
    check_invariants(&n).map_err(internal)?;
    let event = MeasureEventDraft { action: op.as_str().to_string(), from_state: Some(m.state), to_state: n.state, comment, data };
    Ok((n, event))
}

/// What must hold of every measure, whatever happened to it.
pub fn check_invariants(m: &Measure) -> Result<(), String> {
    use MeasureState::*;
    let fail = |what: &str| Err(format!("{}: {what}", m.code));
    if m.title.trim().is_empty() || m.content.trim().is_empty() {
        return fail("without a title or content");
    }
    if m.state.is_done() && m.evidence.as_deref().is_none_or(|e| e.trim().is_empty()) {
        return fail("done without evidence");
    }
    if m.state.is_done() != m.completed_at.is_some() {
        return fail("completion time and state disagree");
    }
    if (m.state == Verified) != (m.verified_at.is_some() && m.verified_by.is_some()) {
        return fail("verification and state disagree");
    }
    if m.state != Verified && (m.verified_at.is_some() || m.verified_by.is_some()) {
        return fail("verification recorded on a measure not verified");
    }
    if m.version < 1 || m.num < 1 {
        return fail("bad version or number");
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MeasureSort {
    /// Newest on the list first.
    #[default]
    Newest,
    Oldest,
    /// Earliest deadline first.
    Deadline,
}

/// What to break measure counts down by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MeasureBreakdown {
    Area,
    /// The units one level below `within` (or below the scope root).
    Unit,
    Kind,
    State,
}

/// Counts of one group of measures (or of all).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureTally {
    /// The group's key (an id, a path or a code); empty for the total.
    pub key: String,
    pub total: i64,
    /// Cancelled measures count in no rate.
    pub cancelled: i64,
    /// 未开始 or 推进中.
    pub open: i64,
    /// 已完成 or 已核验.
    pub completed: i64,
    pub verified: i64,
    /// Completed no later than the deadline.
    pub completed_on_time: i64,
    /// Open and past the deadline today.
    pub overdue: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    struct Tree {
        town: UnitPath,
        office: UnitPath,
        lead: UnitPath,
        other_dept: UnitPath,
        village: UnitPath,
        firm: UnitPath,
        other_town: UnitPath,
        area: AreaId,
    }

    fn tree() -> Tree {
        let town = UnitPath::root(UnitId::new());
        let village = town.child(UnitId::new());
        Tree {
            office: town.child(UnitId::new()),
            lead: town.child(UnitId::new()),
            other_dept: town.child(UnitId::new()),
            firm: village.child(UnitId::new()),
            other_town: UnitPath::root(UnitId::new()),
            area: AreaId::new(),
            town,
            village,
        }
    }

    fn actor(role: Role, unit: &UnitPath, t: &Tree) -> Actor {
        Actor {
            user_id: UserId::new(),
            username: format!("{role:?}"),
            role,
            unit_id: unit.ids().last().copied().unwrap_or_default(),
            unit_path: unit.clone(),
            jurisdiction: if unit.is_within(&t.other_town) { t.other_town.clone() } else { t.town.clone() },
            led_areas: if unit == &t.lead { vec![t.area] } else { vec![] },
        }
    }

    fn uref(p: &UnitPath, name: &str) -> UnitRef {
        UnitRef { id: p.ids().last().copied().unwrap_or_default(), name: name.into(), short_name: None, path: p.clone() }
    }

    fn fields(deadline: Date) -> MeasureFields {
        MeasureFields {
            unit_id: None,
            area_id: None,
            kind: MeasureKind::System,
            title: "修订镇安委会成员单位安全生产责任清单".into(),
            content: "对照三定方案修订责任清单并印发".into(),
            responsible_person: Some("张三".into()),
            deadline,
        }
    }

    /// A measure the office put on the list for `unit`, due 31 May 2021.
    fn measure(t: &Tree, unit: &UnitPath) -> Measure {
        let n = NewMeasure {
            id: MeasureId::new(),
            num: 12,
            code: measure_code(2021, 12),
            campaign_id: None,
            area_id: Some(t.area),
            responsible_unit: uref(unit, "责任单位"),
            created_by_unit: uref(&t.office, "镇安委会办公室"),
            fields: fields(date!(2021 - 05 - 31)),
        };
        Measure::create(n, datetime!(2021-05-06 02:00 UTC), date!(2021 - 05 - 06)).unwrap().0
    }

    const AT: OffsetDateTime = datetime!(2021-05-10 02:00 UTC);
    const TODAY: Date = date!(2021 - 05 - 10);

    #[test]
    fn the_code_has_the_year_and_six_digits() {
        assert_eq!(measure_code(2021, 12), "ZC2021-000012");
    }

    #[test]
    fn the_loop_with_one_send_back() {
        let t = tree();
        let m = measure(&t, &t.other_dept);
        assert_eq!(m.state, MeasureState::Planned);
        let (m, e) = apply(&m, &MeasureAction::Progress { note: "已起草初稿".into(), evidence: None }, AT, TODAY).unwrap();
        assert_eq!((e.from_state, e.to_state, e.comment.as_deref()), (Some(MeasureState::Planned), MeasureState::InProgress, Some("已起草初稿")));
        // No completion without evidence.
        let err = apply(&m, &MeasureAction::Complete { evidence: Some("  ".into()), comment: None }, AT, TODAY).unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
        assert_eq!(err.fields[0].field, "evidence");
        let done = MeasureAction::Complete { evidence: Some("已印发，南安委〔2021〕3号".into()), comment: None };
        let (m, e) = apply(&m, &done, AT, TODAY).unwrap();
        assert_eq!(m.state, MeasureState::Completed);
        assert_eq!(e.data["on_time"], true);
        assert_eq!(m.completed_on_time(), Some(true));
        let (m, _) = apply(&m, &MeasureAction::SendBack { reason: "未见印发文件".into() }, AT, TODAY).unwrap();
        assert_eq!((m.state, m.completed_at), (MeasureState::InProgress, None));
        // The evidence given before is kept: completing again needs none.
        let (m, _) = apply(&m, &MeasureAction::Complete { evidence: None, comment: None }, AT, TODAY).unwrap();
        let (m, _) = apply(&m, &MeasureAction::Verify { verified_by: "李四".into(), comment: None }, AT, TODAY).unwrap();
        assert_eq!((m.state, m.verified_by.as_deref()), (MeasureState::Verified, Some("李四")));
        let err = apply(&m, &MeasureAction::Progress { note: "x".into(), evidence: None }, AT, TODAY).unwrap_err();
        assert_eq!(err.code, ErrorCode::Conflict);
        let (m, e) = apply(&m, &MeasureAction::Reopen { reason: "上级要求补充".into(), deadline: Some(date!(2021 - 06 - 30)) }, AT, TODAY).unwrap();
        assert_eq!((m.state, m.deadline, m.verified_at), (MeasureState::InProgress, date!(2021 - 06 - 30), None));
        assert_eq!(e.data["previous_deadline"], "2021-05-31");
    }

    #[test]
    fn overdue_from_the_day_after_the_deadline_while_open() {
        let t = tree();
        let m = measure(&t, &t.other_dept);
        assert!(!m.is_overdue(date!(2021 - 05 - 31)), "not on the deadline day");
        assert!(m.is_overdue(date!(2021 - 06 - 01)));
        assert_eq!(m.days_overdue(date!(2021 - 06 - 03)), 3);
        // Completed late: late it stays, but no longer overdue.
        let late = datetime!(2021-06-02 01:00 UTC);
        let (m, e) = apply(&m, &MeasureAction::Complete { evidence: Some("已完成".into()), comment: None }, late, date!(2021 - 06 - 02)).unwrap();
        assert_eq!(e.data["days_overdue"], 2);
        assert!(!m.is_overdue(date!(2021 - 06 - 10)));
        assert_eq!((m.days_overdue(date!(2021 - 06 - 10)), m.completed_on_time()), (2, Some(false)));
        // Cancelled measures are never overdue.
        let c = measure(&t, &t.other_dept);
        let (c, _) = apply(&c, &MeasureAction::Cancel { reason: "职能调整".into() }, AT, TODAY).unwrap();
        assert!(!c.is_overdue(date!(2021 - 07 - 01)));
        assert_eq!(c.days_overdue(date!(2021 - 07 - 01)), 0);
    }

    #[test]
    fn the_deadline_moves_forward_only_by_editing() {
        let t = tree();
        let m = measure(&t, &t.other_dept);
        let mut c = MeasureChanges::of(&m);
        assert!(apply(&m, &MeasureAction::Edit(c.clone()), AT, TODAY).is_err(), "nothing changed");
        c.deadline = date!(2021 - 05 - 09);
        let err = apply(&m, &MeasureAction::Edit(c.clone()), AT, TODAY).unwrap_err();
        assert_eq!(err.fields[0].field, "deadline");
        c.deadline = date!(2021 - 06 - 15);
        c.title = "修订并印发责任清单".into();
        let (n, e) = apply(&m, &MeasureAction::Edit(c), AT, TODAY).unwrap();
        assert_eq!(n.deadline, date!(2021 - 06 - 15));
        assert_eq!(e.data["changed"], serde_json::json!(["title", "deadline"]));
        assert_eq!(e.data["previous_deadline"], "2021-05-31");
        // A deadline already past may stay as it is while other fields change.
        let late = measure(&t, &t.other_dept);
        let mut c = MeasureChanges::of(&late);
        c.responsible_person = Some("王五".into());
        assert!(apply(&late, &MeasureAction::Edit(c), datetime!(2021-06-10 02:00 UTC), date!(2021 - 06 - 10)).is_ok());
    }

    #[test]
    fn creating_checks_the_deadline_and_the_draft_names_every_bad_field() {
        let t = tree();
        let n = NewMeasure {
            id: MeasureId::new(),
            num: 1,
            code: measure_code(2021, 1),
            campaign_id: None,
            area_id: None,
            responsible_unit: uref(&t.firm, "企业"),
            created_by_unit: uref(&t.office, "办公室"),
            fields: fields(date!(2021 - 05 - 05)),
        };
        let err = Measure::create(n, AT, TODAY).unwrap_err();
        assert_eq!(err.fields[0].field, "deadline");
        let parse = |s: &str| time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok();
        let d = MeasureDraft { kind: Some("规定".into()), deadline: Some("明天".into()), unit_id: Some("x".into()), ..Default::default() };
        let err = d.validate(true, parse).unwrap_err();
        let names: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["title", "content", "kind", "deadline", "unit_id"]);
        assert!(err.fields.iter().all(|f| !f.zh.is_empty() && !f.en.is_empty()));
        let ok = MeasureDraft {
            kind: Some("机制".into()),
            title: " 建立信息共享机制 ".into(),
            content: "与区交通委共享客运信息".into(),
            deadline: Some("2021-12-31".into()),
            ..Default::default()
        };
        let f = ok.validate(false, parse).unwrap();
        assert_eq!((f.kind, f.title.as_str(), f.unit_id), (MeasureKind::Mechanism, "建立信息共享机制", None));
        assert_eq!(ok.validate(true, parse).unwrap_err().fields[0].field, "unit_id");
    }

    #[test]
    fn who_may_do_what() {
        let t = tree();
        let m = measure(&t, &t.other_dept);
        let f = m.facts();
        let office = actor(Role::Office, &t.office, &t);
        let lead = actor(Role::Department, &t.lead, &t);
        let responsible = actor(Role::Department, &t.other_dept, &t);
        let leader = actor(Role::Leader, &t.office, &t);
        let firm = actor(Role::Enterprise, &t.firm, &t);
        let village = actor(Role::Locality, &t.village, &t);
        let stranger = actor(Role::Office, &t.other_town, &t);
        use Decision::*;
        use MeasureOp::*;
        for (who, op, want) in [
            (&office, Edit, Allow),
            (&office, Verify, Allow),
            (&office, Complete, Allow),
            (&lead, Edit, Allow),
            (&lead, Verify, Allow),
            (&lead, Cancel, Allow),
            (&lead, Complete, Forbidden),
            (&responsible, Read, Allow),
            (&responsible, Progress, Allow),
            (&responsible, Complete, Allow),
            (&responsible, Verify, Forbidden),
            (&responsible, Edit, Forbidden),
            (&responsible, Cancel, Forbidden),
            (&leader, Read, Allow),
            (&leader, Edit, Forbidden),
            (&leader, Verify, Forbidden),
            (&firm, Read, NotFound),
            (&village, Read, NotFound),
            (&stranger, Read, NotFound),
            (&stranger, Cancel, NotFound),
        ] {
            assert_eq!(authorize(who, &f, op), want, "{:?} {:?}", who.role, op);
        }
        // A measure of the town government is not every unit's in the town.
        let town_m = measure(&t, &t.town);
        assert_eq!(authorize(&firm, &town_m.facts(), Read), NotFound);
        assert_eq!(authorize(&responsible, &town_m.facts(), Complete), NotFound);
        assert_eq!(authorize(&office, &town_m.facts(), Complete), Allow);
        // The lead department does not verify what it is responsible for itself.
        let own = measure(&t, &t.lead);
        assert_eq!(authorize(&lead, &own.facts(), Verify), Forbidden);
        assert_eq!(authorize(&lead, &own.facts(), Complete), Allow);
        assert_eq!(authorize(&office, &own.facts(), Verify), Allow);
        // Creating: the office anywhere in its town, the lead department only in its area.
        assert_eq!(may_create(&office, &t.firm, None), Allow);
        assert_eq!(may_create(&lead, &t.firm, Some(t.area)), Allow);
        assert_eq!(may_create(&lead, &t.firm, None), Forbidden, "a department creates only in the areas it leads");
        assert_eq!(may_create(&responsible, &t.other_dept, Some(t.area)), Forbidden);
        assert_eq!(may_create(&stranger, &t.firm, None), NotFound);
        assert_eq!(may_create(&firm, &t.other_dept, None), NotFound);
        // What the responsible unit sees on the page.
        let (m2, _) = apply(&m, &MeasureAction::Complete { evidence: Some("e".into()), comment: None }, AT, TODAY).unwrap();
        assert_eq!(available_ops(&responsible, &m), [Progress, Complete]);
        assert!(available_ops(&responsible, &m2).is_empty());
        assert_eq!(available_ops(&lead, &m2), [Verify, SendBack]);
    }

    #[derive(Clone, Debug)]
    enum Step {
        Edit { days: i64, title: bool, other_unit: bool },
        Progress { note: bool, evidence: bool },
        Complete { evidence: bool },
        Verify { name: bool },
        SendBack { reason: bool },
        Cancel { reason: bool },
        Reopen { reason: bool, days: Option<i64> },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (-5i64..30, any::<bool>(), any::<bool>()).prop_map(|(days, title, other_unit)| Step::Edit { days, title, other_unit }),
            (any::<bool>(), any::<bool>()).prop_map(|(note, evidence)| Step::Progress { note, evidence }),
            any::<bool>().prop_map(|evidence| Step::Complete { evidence }),
            any::<bool>().prop_map(|name| Step::Verify { name }),
            any::<bool>().prop_map(|reason| Step::SendBack { reason }),
            any::<bool>().prop_map(|reason| Step::Cancel { reason }),
            (any::<bool>(), proptest::option::of(-3i64..30)).prop_map(|(reason, days)| Step::Reopen { reason, days }),
        ]
    }

    fn text(yes: bool, s: &str) -> String {
        if yes { s.to_string() } else { " ".to_string() }
    }

    fn to_action(s: &Step, t: &Tree, m: &Measure, today: Date) -> MeasureAction {
        match s {
            Step::Edit { days, title, other_unit } => {
                let mut c = MeasureChanges::of(m);
                c.deadline = today + time::Duration::days(*days);
                if *title {
                    c.title = format!("{}（修订）", m.title);
                }
                if *other_unit {
                    c.responsible_unit = uref(&t.firm, "企业");
                }
                MeasureAction::Edit(c)
            }
            Step::Progress { note, evidence } => {
                MeasureAction::Progress { note: text(*note, "推进中"), evidence: evidence.then(|| "初稿".to_string()) }
            }
            Step::Complete { evidence } => MeasureAction::Complete { evidence: Some(text(*evidence, "已印发")), comment: None },
            Step::Verify { name } => MeasureAction::Verify { verified_by: text(*name, "李四"), comment: None },
            Step::SendBack { reason } => MeasureAction::SendBack { reason: text(*reason, "材料不全") },
            Step::Cancel { reason } => MeasureAction::Cancel { reason: text(*reason, "职能调整") },
            Step::Reopen { reason, days } => {
                MeasureAction::Reopen { reason: text(*reason, "复查"), deadline: days.map(|d| today + time::Duration::days(d)) }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn no_sequence_of_actions_breaks_the_invariants(steps in prop::collection::vec(step(), 0..40)) {
            let t = tree();
            let mut m = measure(&t, &t.other_dept);
            let mut at = datetime!(2021-05-06 03:00 UTC);
            for s in &steps {
                at += time::Duration::hours(20);
                let today = crate::clock::local_date(at);
                let action = to_action(s, &t, &m, today);
                let possible = action.op().possible(&m);
                match apply(&m, &action, at, today) {
                    Ok((next, event)) => {
                        prop_assert!(possible, "{:?} applied in state {:?}", action.op(), m.state);
                        prop_assert_eq!(event.from_state, Some(m.state));
                        prop_assert_eq!(event.to_state, next.state);
                        prop_assert_eq!(event.action.as_str(), action.op().as_str());
                        prop_assert!(check_invariants(&next).is_ok(), "{:?}", check_invariants(&next));
                        prop_assert_eq!(next.updated_at, at);
                        // What identifies the measure never changes.
                        prop_assert_eq!((next.id, next.num, &next.code, &next.created_by_unit), (m.id, m.num, &m.code, &m.created_by_unit));
                        // A deadline that moves never moves into the past.
                        if next.deadline != m.deadline {
                            prop_assert!(next.deadline >= today);
                        }
                        if next.state.is_done() && !m.state.is_done() {
                            prop_assert_eq!(next.completed_at, Some(at));
                        }
                        m = next;
                    }
                    Err(e) => {
                        // Refused: impossible now (conflict) or bad input (validation); never internal.
                        prop_assert!(e.code != ErrorCode::Internal, "{}", e);
                        if !possible {
                            prop_assert_eq!(e.code, ErrorCode::Conflict);
                        } else {
                            prop_assert_eq!(e.code, ErrorCode::Validation);
                        }
                    }
                }
            }
        }

        #[test]
        fn nothing_is_done_to_a_measure_one_may_not_see_and_leaders_only_read(
            role in proptest::sample::select(Role::ALL.to_vec()),
            who in 0usize..7,
            unit in 0usize..4,
            creator in 0usize..3,
            in_area in any::<bool>(),
        ) {
            let t = tree();
            let units = [&t.office, &t.lead, &t.other_dept, &t.village, &t.firm, &t.town, &t.other_town];
            let me = units[who];
            let target = [&t.other_dept, &t.firm, &t.lead, &t.village][unit];
            let by = [&t.office, &t.lead, &t.other_dept][creator];
            let facts = MeasureFacts { unit: target, created_by_unit: by, area: in_area.then_some(t.area) };
            let a = actor(role, me, &t);
            let read = authorize(&a, &facts, MeasureOp::Read);
            for op in MeasureOp::ALL {
                let d = authorize(&a, &facts, op);
                if read == Decision::NotFound {
                    prop_assert_eq!(d, Decision::NotFound, "{:?} {:?}", role, op);
                }
                if matches!(role, Role::Leader | Role::Expert) && op != MeasureOp::Read {
                    prop_assert_ne!(d, Decision::Allow, "{:?} {:?}", role, op);
                }
                if role == Role::Admin {
                    prop_assert_eq!(d, Decision::Allow);
                }
                // Verification is never by the responsible unit itself.
                if op == MeasureOp::Verify && role != Role::Admin && me == target {
                    prop_assert_ne!(d, Decision::Allow);
                }
            }
            // Another town's units never see this town's measures.
            if me == &t.other_town && role != Role::Admin {
                prop_assert_eq!(read, Decision::NotFound);
            }
        }
    }
}
