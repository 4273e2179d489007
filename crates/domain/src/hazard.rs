//! The hazard (事故隐患) and its closed loop: the record, its vocabulary with
//! the national interface codes (DOMAIN.md §2.4), and the state machine
//! (DOMAIN.md §1.8) as a pure function from a hazard and an action to the
//! changed hazard and the one timeline event that records the change.
//!
//! Who may take an action is decided separately, in [`authorize`], from the
//! actor and the facts of the hazard (whose it is, who found it, who
//! assigned it, who supervises it).

use crate::calendar::{DeadlineRule, WorkCalendar};
use crate::error::{DomainError, FieldError};
use crate::ids::*;
pub use crate::model::UnitRef;
use crate::permission::{Actor, Decision};
use crate::role::Role;
use crate::unit::UnitPath;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// A closed vocabulary with stable codes, Chinese and English labels and
/// (where the national interface defines one) its interface code.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = ($code:literal, $zh:literal, $en:literal, $national:expr)),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($(#[$vmeta])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $code),* } }
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.as_str() == s || v.label_zh() == s || v.label_en().eq_ignore_ascii_case(s))
            }
            pub fn label_zh(self) -> &'static str { match self { $($name::$variant => $zh),* } }
            pub fn label_en(self) -> &'static str { match self { $($name::$variant => $en),* } }
            /// The code in the national 双重预防 interface, where there is one.
            pub fn national_code(self) -> Option<u8> { match self { $($name::$variant => $national),* } }
            pub fn label(self, english: bool) -> &'static str { if english { self.label_en() } else { self.label_zh() } }
        }
    };
}

vocabulary!(
    /// 隐患等级 (16号令 Art. 3). The statute knows two levels; a local
    /// sub-grade is kept separately in [`Hazard::sub_grade`].
    HazardLevel {
        General = ("general", "一般隐患", "General", Some(0)),
        Major = ("major", "重大隐患", "Major", Some(1)),
    }
);

vocabulary!(
    /// 治理类型 (dangerManageType).
    ManageType {
        /// 即查即改: fixed at once, on the spot.
        Immediate = ("immediate", "即查即改", "Fix on the spot", Some(0)),
        /// 限期整改: fixed within a deadline; needs the 五到位.
        Deadline = ("deadline", "限期整改", "Fix by a deadline", Some(1)),
    }
);

vocabulary!(
    /// How the hazard came to light (发现途径). Mapped to the national
    /// dangerSrc by [`CheckKind`], which is recorded separately.
    HazardSource {
        SelfInspection = ("self_inspection", "企业自查", "Self-inspection", None),
        Inspection = ("inspection", "监督检查", "Inspection", None),
        Unannounced = ("unannounced", "暗查暗访", "Unannounced visit", None),
        PublicReport = ("public_report", "群众举报", "Public report", None),
        Assigned = ("assigned", "上级交办", "Handed down", None),
        Transferred = ("transferred", "部门移交", "Transferred", None),
    }
);

vocabulary!(
    /// 排查类型: the national dangerSrc codes 1–10.
    CheckKind {
        Routine = ("routine", "日常排查", "Routine", Some(1)),
        Comprehensive = ("comprehensive", "综合性排查", "Comprehensive", Some(2)),
        Specialist = ("specialist", "专业性排查", "Specialist", Some(3)),
        Seasonal = ("seasonal", "季节性排查", "Seasonal", Some(4)),
        Holiday = ("holiday", "重点时段及节假日前排查", "Before holidays and key periods", Some(5)),
        AccidentAnalogy = ("accident_analogy", "事故类比排查", "After a similar accident", Some(6)),
        BeforeResumption = ("before_resumption", "复产复工前排查", "Before resuming work", Some(7)),
        ExpertDiagnosis = ("expert_diagnosis", "外聘专家诊断式排查", "Expert diagnosis", Some(8)),
        ControlFailure = ("control_failure", "管控措施失效", "Control measure failed", Some(9)),
        Other = ("other", "其他", "Other", Some(10)),
    }
);

vocabulary!(
    /// 隐患类别 (hazardDangerType 1–8).
    HazardType {
        Safety = ("safety", "安全", "Safety", Some(1)),
        Process = ("process", "工艺", "Process", Some(2)),
        Electrical = ("electrical", "电气", "Electrical", Some(3)),
        Instrument = ("instrument", "仪表", "Instrumentation", Some(4)),
        Fire = ("fire", "消防", "Fire", Some(5)),
        Layout = ("layout", "总图", "Site layout", Some(6)),
        Equipment = ("equipment", "设备", "Equipment", Some(7)),
        Other = ("other", "其他", "Other", Some(8)),
    }
);

vocabulary!(
    /// 隐患分类 (managementClassification 1–3).
    CauseClass {
        UnsafeAct = ("unsafe_act", "人的不安全行为", "Unsafe act", Some(1)),
        UnsafeCondition = ("unsafe_condition", "物的不安全状态", "Unsafe condition", Some(2)),
        ManagementDefect = ("management_defect", "管理上的缺陷", "Management defect", Some(3)),
    }
);

vocabulary!(
    /// Where a hazard stands in the closed loop.
    HazardState {
        /// 已登记: found and registered, waiting to be assigned.
        Reported = ("reported", "待交办", "Reported", Some(0)),
        /// 已交办: responsible unit, person and deadline set.
        Assigned = ("assigned", "已交办", "Assigned", Some(0)),
        /// 整改中.
        Rectifying = ("rectifying", "整改中", "Rectifying", Some(0)),
        /// 待验收: rectification submitted.
        Submitted = ("submitted", "待验收", "Awaiting acceptance", Some(1)),
        /// 已销号: accepted and closed.
        Closed = ("closed", "已销号", "Closed", Some(9)),
        /// 已撤销: not a hazard, or a duplicate.
        Dismissed = ("dismissed", "已撤销", "Dismissed", None),
    }
);

vocabulary!(
    /// 挂牌督办 level.
    ListingLevel {
        Town = ("town", "镇级", "Town", None),
        District = ("district", "区级", "District", None),
        City = ("city", "市级", "City", None),
    }
);

vocabulary!(
    /// Why a hazard was dismissed.
    DismissReason {
        NotAHazard = ("not_a_hazard", "经核实不构成隐患", "Not a hazard", None),
        Duplicate = ("duplicate", "重复登记", "Duplicate", None),
    }
);

impl HazardState {
    /// Still in the loop: counts as open, can become overdue.
    pub fn is_open(self) -> bool {
        matches!(self, HazardState::Reported | HazardState::Assigned | HazardState::Rectifying | HazardState::Submitted)
    }
    /// Open and not yet handed in: the deadline still binds the responsible unit.
    pub fn is_pending_rectification(self) -> bool {
        matches!(self, HazardState::Reported | HazardState::Assigned | HazardState::Rectifying)
    }
}

/// 重大事故隐患报告 (16号令 Art. 14 para. 2): three parts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MajorReport {
    /// 隐患的现状及其产生原因
    #[serde(default)]
    pub status_and_cause: String,
    /// 隐患的危害程度和整改难易程度分析
    #[serde(default)]
    pub harm_and_difficulty: String,
    /// 隐患的治理方案 (summary; the full plan is [`GovernancePlan`])
    #[serde(default)]
    pub plan_summary: String,
}

/// 重大事故隐患治理方案 (16号令 Art. 15 para. 2): six parts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GovernancePlan {
    /// 治理的目标和任务
    #[serde(default)]
    pub goals: String,
    /// 采取的方法和措施
    #[serde(default)]
    pub methods: String,
    /// 经费和物资的落实
    #[serde(default)]
    pub funds_and_materials: String,
    /// 负责治理的机构和人员
    #[serde(default)]
    pub organisation: String,
    /// 治理的时限和要求
    #[serde(default)]
    pub schedule: String,
    /// 安全措施和应急预案
    #[serde(default)]
    pub safety_and_contingency: String,
}

type Part<T> = (&'static str, &'static str, &'static str, for<'a> fn(&'a T) -> &'a str);

impl MajorReport {
    pub const PARTS: [Part<MajorReport>; 3] = [
        ("status_and_cause", "隐患的现状及其产生原因", "Current state and cause", |r| &r.status_and_cause),
        ("harm_and_difficulty", "隐患的危害程度和整改难易程度分析", "Severity and difficulty of rectification", |r| &r.harm_and_difficulty),
        ("plan_summary", "隐患的治理方案", "Rectification plan", |r| &r.plan_summary),
    ];
    pub fn missing(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        missing_parts(self, &Self::PARTS)
    }
}

impl GovernancePlan {
    pub const PARTS: [Part<GovernancePlan>; 6] = [
        ("goals", "治理的目标和任务", "Goals and tasks", |p| &p.goals),
        ("methods", "采取的方法和措施", "Methods and measures", |p| &p.methods),
        ("funds_and_materials", "经费和物资的落实", "Funds and materials", |p| &p.funds_and_materials),
        ("organisation", "负责治理的机构和人员", "Organisation and people in charge", |p| &p.organisation),
        ("schedule", "治理的时限和要求", "Time limits and requirements", |p| &p.schedule),
        ("safety_and_contingency", "安全措施和应急预案", "Safety measures and contingency plan", |p| &p.safety_and_contingency),
    ];
    pub fn missing(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        missing_parts(self, &Self::PARTS)
    }
}

fn missing_parts<T>(v: &T, parts: &[Part<T>]) -> Vec<(&'static str, &'static str, &'static str)> {
    parts.iter().filter(|(_, _, _, get)| get(v).trim().is_empty()).map(|(k, zh, en, _)| (*k, *zh, *en)).collect()
}

/// The current 挂牌督办 of a hazard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Listing {
    pub level: ListingLevel,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub supervising_unit_id: UnitId,
    pub supervising_unit_name: String,
    #[serde(skip)]
    pub supervising_unit_path: UnitPath,
    /// 督办文号, e.g. 南安办督〔2021〕1号
    pub document_number: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub listed_on: Date,
    /// 要求完成时间
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub required_by: Date,
    /// 签发人
    pub signatory: String,
    pub requirements: Option<String>,
    /// Set when the hazard was accepted (核销) and the listing lifted.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub lifted_on: Option<Date>,
}

/// A pending or decided extension request (延期申请).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExtensionRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: ExtensionId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub current_deadline: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub requested_deadline: Date,
    pub reason: String,
    pub requested_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub requested_at: OffsetDateTime,
    /// None while undecided.
    pub approved: Option<bool>,
    pub decided_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub decided_at: Option<OffsetDateTime>,
    pub decision_comment: Option<String>,
}

/// A hazard record.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hazard {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: HazardId,
    /// The sequence number behind the code; orders lists and keys search.
    pub num: i64,
    /// 隐患编号, e.g. YH2021-000123.
    pub code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub campaign_id: Option<CampaignId>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub area_id: Option<AreaId>,
    /// The enterprise or unit where the hazard is.
    pub unit: UnitRef,
    pub name: String,
    pub description: String,
    pub location: Option<String>,
    /// Where the reporter stood (WGS-84), when their device shared it.
    pub position: Option<GeoPoint>,
    pub hazard_type: HazardType,
    pub source: HazardSource,
    pub check_kind: CheckKind,
    pub level: HazardLevel,
    /// A local sub-grade (e.g. 重大 一级), kept as written.
    pub sub_grade: Option<String>,
    pub manage_type: ManageType,
    pub cause: Option<String>,
    pub cause_class: Option<CauseClass>,
    /// 整改措施
    pub measures: Option<String>,
    /// 整改资金 (万元)
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub funds: Option<Decimal>,
    /// 应急预案 / 防范措施 while the hazard exists
    pub contingency: Option<String>,
    pub responsible_unit: Option<UnitRef>,
    /// 整改责任人
    pub responsible_person: Option<String>,
    pub responsible_phone: Option<String>,
    /// 整改期限
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub deadline: Option<Date>,
    pub deadline_rule: Option<DeadlineRule>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub found_at: OffsetDateTime,
    /// Who found it (a name, also for people without an account).
    pub found_by: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub found_by_user: Option<UserId>,
    pub found_by_unit: UnitRef,
    /// The unit that assigned it (decides extensions).
    pub assigned_by_unit: Option<UnitRef>,
    /// A unit named to accept the rectification (the finder's delegate).
    pub accepting_unit: Option<UnitRef>,
    pub state: HazardState,
    pub major_report: Option<MajorReport>,
    pub plan: Option<GovernancePlan>,
    /// 整改情况, as submitted.
    pub rectification: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub submitted_at: Option<OffsetDateTime>,
    /// 验收人
    pub accepted_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub closed_at: Option<OffsetDateTime>,
    /// 验收意见
    pub acceptance_comment: Option<String>,
    pub dismiss_reason: Option<DismissReason>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub duplicate_of: Option<HazardId>,
    pub listing: Option<Listing>,
    pub pending_extension: Option<ExtensionRequest>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

impl Hazard {
    /// Overdue is derived, never stored: open, not yet handed in, and
    /// `today` is after the deadline. On the deadline day it is not overdue.
    pub fn is_overdue(&self, today: Date) -> bool {
        self.state.is_pending_rectification() && self.days_overdue(today) > 0
    }

    /// Whole days past the deadline: while open, counted to `today`; once
    /// submitted, counted to the submission (late work stays late).
    pub fn days_overdue(&self, today: Date) -> i64 {
        let Some(deadline) = self.deadline else { return 0 };
        let end = match self.state {
            s if s.is_pending_rectification() => today,
            HazardState::Submitted | HazardState::Closed => match self.submitted_at {
                Some(t) => crate::clock::local_date(t),
                None => return 0,
            },
            HazardState::Dismissed => return 0,
            _ => today,
        };
        (end - deadline).whole_days().max(0)
    }

    /// Closed, and handed in no later than the deadline (or without one).
    pub fn closed_on_time(&self) -> Option<bool> {
        (self.state == HazardState::Closed).then(|| self.days_overdue(crate::clock::local_date(self.updated_at)) == 0)
    }

    pub fn is_listed(&self) -> bool {
        self.listing.as_ref().is_some_and(|l| l.lifted_on.is_none())
    }

    /// Found by the enterprise itself in its own self-inspection.
    pub fn self_found(&self) -> bool {
        self.source == HazardSource::SelfInspection && self.found_by_unit.path.is_within(&self.unit.path)
    }

    /// What the 五到位 still lacks (措施, 责任人, 资金, 时限, 预案).
    pub fn five_in_place_missing(&self) -> Vec<FieldError> {
        let mut out = Vec::new();
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        if blank(&self.measures) {
            out.push(FieldError::new("measures", "五到位：请填写整改措施", "Five-in-place: enter the rectification measures"));
        }
        if blank(&self.responsible_person) {
            out.push(FieldError::new("responsible_person", "五到位：请填写整改责任人", "Five-in-place: name the person responsible"));
        }
        if self.funds.is_none() {
            out.push(FieldError::new("funds", "五到位：请填写整改资金（万元，无需资金填0）", "Five-in-place: enter the funds (10k yuan; 0 if none)"));
        }
        if self.deadline.is_none() {
            out.push(FieldError::new("deadline", "五到位：请确定整改时限", "Five-in-place: set the deadline"));
        }
        if blank(&self.contingency) {
            out.push(FieldError::new("contingency", "五到位：请填写应急预案或整改期间的防范措施", "Five-in-place: enter the contingency plan or interim safeguards"));
        }
        out
    }

    /// Everything that must be complete before rectification is submitted.
    pub fn submission_gaps(&self) -> Vec<FieldError> {
        let mut out = Vec::new();
        if self.level == HazardLevel::Major {
            let report = self.major_report.clone().unwrap_or_default();
            for (k, zh, en) in report.missing() {
                out.push(FieldError::new(format!("major_report.{k}"), format!("重大隐患报告缺少“{zh}”"), format!("The major-hazard report lacks \"{en}\"")));
            }
            let plan = self.plan.clone().unwrap_or_default();
            for (k, zh, en) in plan.missing() {
                out.push(FieldError::new(format!("plan.{k}"), format!("治理方案缺少“{zh}”"), format!("The rectification plan lacks \"{en}\"")));
            }
        }
        if self.manage_type == ManageType::Deadline || self.level == HazardLevel::Major {
            out.extend(self.five_in_place_missing());
        }
        out
    }

    /// The facts about this hazard that permissions depend on.
    pub fn facts(&self) -> HazardFacts<'_> {
        HazardFacts {
            unit: &self.unit.path,
            found_by_unit: &self.found_by_unit.path,
            responsible_unit: self.responsible_unit.as_ref().map(|u| &u.path),
            assigned_by_unit: self.assigned_by_unit.as_ref().map(|u| &u.path),
            accepting_unit: self.accepting_unit.as_ref().map(|u| &u.path),
            supervising_unit: self.listing.as_ref().filter(|l| l.lifted_on.is_none()).map(|l| &l.supervising_unit_path),
            area: self.area_id,
            level: self.level,
            self_found: self.self_found(),
        }
    }
}

/// Input for registering or describing a hazard, as people type it (API,
/// form, spreadsheet row); checked by [`HazardDraft::validate`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HazardDraft {
    /// The enterprise or unit where the hazard is (id).
    pub unit_id: Option<String>,
    /// The campaign's rectification area (id).
    pub area_id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub location: Option<String>,
    /// Latitude in degrees (WGS-84, as a phone's location gives it); with `longitude` or not at all.
    pub latitude: Option<String>,
    /// Longitude in degrees (WGS-84).
    pub longitude: Option<String>,
    /// `safety`, `process`, `electrical`, `instrument`, `fire`, `layout`, `equipment`, `other` (or the Chinese label).
    pub hazard_type: Option<String>,
    /// `self_inspection`, `inspection`, `unannounced`, `public_report`, `assigned`, `transferred`.
    pub source: Option<String>,
    /// National dangerSrc: `routine` … `other`; default `routine`.
    pub check_kind: Option<String>,
    /// `general` or `major` (一般隐患 / 重大隐患).
    pub level: Option<String>,
    pub sub_grade: Option<String>,
    /// `immediate` (即查即改) or `deadline` (限期整改, the default).
    pub manage_type: Option<String>,
    pub cause: Option<String>,
    pub cause_class: Option<String>,
    pub measures: Option<String>,
    /// 整改资金, 万元.
    pub funds: Option<String>,
    pub contingency: Option<String>,
    /// The day it was found (default: now).
    pub found_on: Option<String>,
    /// Who found it (default: the user).
    pub found_by: Option<String>,
}

/// A hazard's descriptive fields after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct HazardFields {
    pub name: String,
    pub description: String,
    pub location: Option<String>,
    pub position: Option<GeoPoint>,
    pub hazard_type: HazardType,
    pub source: Option<HazardSource>,
    pub check_kind: CheckKind,
    pub level: HazardLevel,
    pub sub_grade: Option<String>,
    pub manage_type: ManageType,
    pub cause: Option<String>,
    pub cause_class: Option<CauseClass>,
    pub measures: Option<String>,
    pub funds: Option<Decimal>,
    pub contingency: Option<String>,
    pub found_on: Option<Date>,
    pub found_by: Option<String>,
}

fn vocab_field<T: Copy>(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: &Option<String>,
    parse: fn(&str) -> Option<T>,
    all: &[T],
    label: fn(T) -> &'static str,
    what: (&str, &str),
) -> Option<T> {
    let v = value.as_deref().map(crate::text::normalize_width).filter(|v| !v.is_empty())?;
    let parsed = parse(&v);
    if parsed.is_none() {
        let options = all.iter().map(|o| label(*o)).collect::<Vec<_>>().join("、");
        errors.push(FieldError::new(
            field,
            format!("未知的{}“{v}”，可选：{options}", what.0),
            format!("Unknown {} '{v}'; one of: {options}", what.1),
        ));
    }
    parsed
}

impl HazardDraft {
    /// Checks the draft. `parse_date` reads the date people wrote.
    pub fn validate(&self, today: Date, parse_date: impl Fn(&str) -> Option<Date>) -> Result<HazardFields, DomainError> {
        let mut errors = Vec::new();
        let text = |s: &Option<String>| s.as_deref().and_then(crate::text::non_blank);
        let name = self.name.trim().to_string();
        if name.is_empty() {
            errors.push(FieldError::new("name", "请填写隐患名称", "Name the hazard"));
        } else if name.chars().count() > 200 {
            errors.push(FieldError::new("name", "隐患名称不能超过200个字", "The name may have at most 200 characters"));
        }
        let description = self.description.trim().to_string();
        if description.is_empty() {
            errors.push(FieldError::new("description", "请描述隐患情况", "Describe the hazard"));
        }
        let level = vocab_field(&mut errors, "level", &self.level, HazardLevel::parse, HazardLevel::ALL, HazardLevel::label_zh, ("隐患等级", "level"));
        if level.is_none() && self.level.as_deref().is_none_or(|l| l.trim().is_empty()) {
            errors.push(FieldError::new("level", "请选择隐患等级：一般隐患或重大隐患", "Choose the level: general or major"));
        }
        let hazard_type = vocab_field(&mut errors, "hazard_type", &self.hazard_type, HazardType::parse, HazardType::ALL, HazardType::label_zh, ("隐患类别", "hazard type"));
        let source = vocab_field(&mut errors, "source", &self.source, HazardSource::parse, HazardSource::ALL, HazardSource::label_zh, ("发现途径", "source"));
        let check_kind = vocab_field(&mut errors, "check_kind", &self.check_kind, CheckKind::parse, CheckKind::ALL, CheckKind::label_zh, ("排查类型", "check kind"));
        let manage_type = vocab_field(&mut errors, "manage_type", &self.manage_type, ManageType::parse, ManageType::ALL, ManageType::label_zh, ("治理类型", "management type"));
        let cause_class = vocab_field(&mut errors, "cause_class", &self.cause_class, CauseClass::parse, CauseClass::ALL, CauseClass::label_zh, ("隐患分类", "cause class"));
        if level == Some(HazardLevel::Major) && manage_type == Some(ManageType::Immediate) {
            errors.push(FieldError::new("manage_type", "重大隐患不能即查即改，应限期整改", "A major hazard is not fixed on the spot: it has a deadline"));
        }
        let funds = match text(&self.funds) {
            None => None,
            Some(f) => {
                let cleaned = crate::text::normalize_width(&f).trim_end_matches("万元").trim().replace(',', "");
                match Decimal::from_str_exact(&cleaned) {
                    Ok(d) if d >= Decimal::ZERO => Some(d),
                    _ => {
                        errors.push(FieldError::new("funds", "整改资金应为不小于0的数字（单位：万元）", "The funds must be a number of at least 0 (10k yuan)"));
                        None
                    }
                }
            }
        };
        let found_on = match text(&self.found_on) {
            None => None,
            Some(d) => match parse_date(&d) {
                Some(date) if date > today => {
                    errors.push(FieldError::new("found_on", "发现日期不能晚于今天", "The date found may not be in the future"));
                    None
                }
                Some(date) => Some(date),
                None => {
                    errors.push(FieldError::new("found_on", "发现日期格式应如 2021-05-06", "Write the date found like 2021-05-06"));
                    None
                }
            },
        };
        let position = GeoPoint::parse(&self.latitude, &self.longitude, &mut errors);
        let (Some(level), true) = (level, errors.is_empty()) else {
            return Err(DomainError::invalid(errors));
        };
        Ok(HazardFields {
            name,
            description,
            location: text(&self.location),
            position,
            hazard_type: hazard_type.unwrap_or(HazardType::Other),
            source,
            check_kind: check_kind.unwrap_or(CheckKind::Routine),
            level,
            sub_grade: text(&self.sub_grade),
            manage_type: manage_type.unwrap_or(ManageType::Deadline),
            cause: text(&self.cause),
            cause_class,
            measures: text(&self.measures),
            funds,
            contingency: text(&self.contingency),
            found_on,
            found_by: text(&self.found_by),
        })
    }
}

/// A point on the earth in WGS-84 degrees, kept as exact decimals (at most
/// 7 places, about a centimetre) as the device gave them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GeoPoint {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub latitude: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub longitude: Decimal,
}

impl GeoPoint {
    /// Both halves or neither; each a number in its range.
    pub fn parse(lat: &Option<String>, lon: &Option<String>, errors: &mut Vec<FieldError>) -> Option<GeoPoint> {
        let num = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(|v| v.parse::<Decimal>().ok());
        match (num(lat), num(lon)) {
            (None, None) => None,
            (Some(Some(la)), Some(Some(lo))) if la.abs() <= Decimal::from(90) && lo.abs() <= Decimal::from(180) => {
                Some(GeoPoint { latitude: la.round_dp(7).normalize(), longitude: lo.round_dp(7).normalize() })
            }
            (la, lo) => {
                if !matches!(la, Some(Some(v)) if v.abs() <= Decimal::from(90)) {
                    errors.push(FieldError::new("latitude", "纬度应为 -90 到 90 之间的数字，并与经度一起填写", "The latitude must be a number from -90 to 90, given with the longitude"));
                }
                if !matches!(lo, Some(Some(v)) if v.abs() <= Decimal::from(180)) {
                    errors.push(FieldError::new("longitude", "经度应为 -180 到 180 之间的数字，并与纬度一起填写", "The longitude must be a number from -180 to 180, given with the latitude"));
                }
                None
            }
        }
    }
}

/// Who found a hazard, where and when: what a new record starts from.
#[derive(Clone, Debug)]
pub struct Finding {
    pub unit: UnitRef,
    pub source: HazardSource,
    pub found_at: OffsetDateTime,
    pub found_by: String,
    pub found_by_user: Option<UserId>,
    pub found_by_unit: UnitRef,
}

impl Hazard {
    /// A newly registered hazard (state 待交办, version 1) with its
    /// descriptive fields; numbering, area and anything later are set by the
    /// caller.
    pub fn registered(id: HazardId, num: i64, code: String, finding: Finding, fields: &HazardFields, now: OffsetDateTime) -> Hazard {
        let mut h = Hazard {
            id,
            num,
            code,
            campaign_id: None,
            area_id: None,
            unit: finding.unit,
            name: String::new(),
            description: String::new(),
            location: None,
            position: None,
            hazard_type: fields.hazard_type,
            source: finding.source,
            check_kind: fields.check_kind,
            level: fields.level,
            sub_grade: None,
            manage_type: fields.manage_type,
            cause: None,
            cause_class: None,
            measures: None,
            funds: None,
            contingency: None,
            responsible_unit: None,
            responsible_person: None,
            responsible_phone: None,
            deadline: None,
            deadline_rule: None,
            found_at: finding.found_at,
            found_by: finding.found_by,
            found_by_user: finding.found_by_user,
            found_by_unit: finding.found_by_unit,
            assigned_by_unit: None,
            accepting_unit: None,
            state: HazardState::Reported,
            major_report: None,
            plan: None,
            rectification: None,
            submitted_at: None,
            accepted_by: None,
            closed_at: None,
            acceptance_comment: None,
            dismiss_reason: None,
            duplicate_of: None,
            listing: None,
            pending_extension: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        h.describe(fields);
        h
    }
}

impl Hazard {
    /// Writes the descriptive fields onto the hazard; returns the names of
    /// the fields that changed.
    pub fn describe(&mut self, f: &HazardFields) -> Vec<&'static str> {
        let mut changed = Vec::new();
        macro_rules! set {
            ($field:ident, $value:expr) => {
                if self.$field != $value {
                    self.$field = $value;
                    changed.push(stringify!($field));
                }
            };
        }
        set!(name, f.name.clone());
        set!(description, f.description.clone());
        set!(location, f.location.clone());
        if f.position.is_some() {
            set!(position, f.position);
        }
        set!(hazard_type, f.hazard_type);
        if let Some(s) = f.source {
            set!(source, s);
        }
        set!(check_kind, f.check_kind);
        set!(level, f.level);
        set!(sub_grade, f.sub_grade.clone());
        set!(manage_type, f.manage_type);
        set!(cause, f.cause.clone());
        set!(cause_class, f.cause_class);
        if f.measures.is_some() {
            set!(measures, f.measures.clone());
        }
        if f.funds.is_some() {
            set!(funds, f.funds);
        }
        if f.contingency.is_some() {
            set!(contingency, f.contingency.clone());
        }
        changed
    }
}

/// What a hazard's permissions depend on.
#[derive(Clone, Copy, Debug)]
pub struct HazardFacts<'a> {
    pub unit: &'a UnitPath,
    pub found_by_unit: &'a UnitPath,
    pub responsible_unit: Option<&'a UnitPath>,
    pub assigned_by_unit: Option<&'a UnitPath>,
    pub accepting_unit: Option<&'a UnitPath>,
    pub supervising_unit: Option<&'a UnitPath>,
    pub area: Option<AreaId>,
    pub level: HazardLevel,
    pub self_found: bool,
}

/// What an actor wants to do to a hazard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum HazardOp {
    Read,
    /// Change the description fields.
    Edit,
    /// Fill the 五到位, the major-hazard report and the 治理方案.
    Plan,
    Assign,
    Start,
    Submit,
    FixOnSpot,
    Accept,
    Reject,
    Dismiss,
    Reopen,
    RequestExtension,
    DecideExtension,
    List,
    Attach,
}

impl HazardOp {
    pub const ALL: [HazardOp; 15] = [
        HazardOp::Read,
        HazardOp::Edit,
        HazardOp::Plan,
        HazardOp::Assign,
        HazardOp::Start,
        HazardOp::Submit,
        HazardOp::FixOnSpot,
        HazardOp::Accept,
        HazardOp::Reject,
        HazardOp::Dismiss,
        HazardOp::Reopen,
        HazardOp::RequestExtension,
        HazardOp::DecideExtension,
        HazardOp::List,
        HazardOp::Attach,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HazardOp::Read => "read",
            HazardOp::Edit => "edit",
            HazardOp::Plan => "plan",
            HazardOp::Assign => "assign",
            HazardOp::Start => "start",
            HazardOp::Submit => "submit",
            HazardOp::FixOnSpot => "fix_on_spot",
            HazardOp::Accept => "accept",
            HazardOp::Reject => "reject",
            HazardOp::Dismiss => "dismiss",
            HazardOp::Reopen => "reopen",
            HazardOp::RequestExtension => "request_extension",
            HazardOp::DecideExtension => "decide_extension",
            HazardOp::List => "list",
            HazardOp::Attach => "attach",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            HazardOp::Read => "查看",
            HazardOp::Edit => "修改",
            HazardOp::Plan => "填写整改方案",
            HazardOp::Assign => "交办",
            HazardOp::Start => "签收整改",
            HazardOp::Submit => "提交整改",
            HazardOp::FixOnSpot => "当场整改",
            HazardOp::Accept => "验收销号",
            HazardOp::Reject => "退回整改",
            HazardOp::Dismiss => "撤销",
            HazardOp::Reopen => "重新打开",
            HazardOp::RequestExtension => "申请延期",
            HazardOp::DecideExtension => "审批延期",
            HazardOp::List => "挂牌督办",
            HazardOp::Attach => "上传附件",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            HazardOp::Read => "View",
            HazardOp::Edit => "Edit",
            HazardOp::Plan => "Fill in the plan",
            HazardOp::Assign => "Assign",
            HazardOp::Start => "Start rectifying",
            HazardOp::Submit => "Submit rectification",
            HazardOp::FixOnSpot => "Fixed on the spot",
            HazardOp::Accept => "Accept and close",
            HazardOp::Reject => "Send back",
            HazardOp::Dismiss => "Dismiss",
            HazardOp::Reopen => "Reopen",
            HazardOp::RequestExtension => "Request an extension",
            HazardOp::DecideExtension => "Decide the extension",
            HazardOp::List => "List for supervision",
            HazardOp::Attach => "Add attachments",
        }
    }

    /// Whether the op is possible in this state of the hazard, whoever asks.
    pub fn possible(self, h: &Hazard) -> bool {
        use HazardState::*;
        let s = h.state;
        match self {
            HazardOp::Read => true,
            HazardOp::Edit | HazardOp::Attach => s.is_open(),
            HazardOp::Plan => s.is_pending_rectification(),
            HazardOp::Assign => matches!(s, Reported | Assigned),
            HazardOp::Start => s == Assigned,
            HazardOp::Submit => matches!(s, Assigned | Rectifying),
            HazardOp::FixOnSpot => s == Reported && h.level == HazardLevel::General && h.manage_type == ManageType::Immediate,
            HazardOp::Accept | HazardOp::Reject => s == Submitted,
            HazardOp::Dismiss => s.is_pending_rectification() && !h.is_listed(),
            HazardOp::Reopen => matches!(s, Closed | Dismissed),
            HazardOp::RequestExtension => {
                matches!(s, Assigned | Rectifying) && h.deadline.is_some() && h.pending_extension.is_none()
            }
            HazardOp::DecideExtension => h.pending_extension.is_some() && s.is_pending_rectification(),
            HazardOp::List => s.is_open() && !h.is_listed(),
        }
    }
}

/// Whether an actor may see a hazard: it is in their scope, or it is in an
/// area their unit leads, or their unit is named on it.
pub fn visible(actor: &Actor, f: &HazardFacts<'_>) -> bool {
    if actor.sees(f.unit) {
        return true;
    }
    if actor.role == Role::Department && f.area.is_some_and(|a| actor.led_areas.contains(&a)) {
        return true;
    }
    named_on(actor, f)
}

fn owns(actor: &Actor, p: Option<&UnitPath>) -> bool {
    p.is_some_and(|p| p.is_within(&actor.unit_path))
}

fn named_on(actor: &Actor, f: &HazardFacts<'_>) -> bool {
    [Some(f.found_by_unit), f.responsible_unit, f.assigned_by_unit, f.accepting_unit, f.supervising_unit]
        .into_iter()
        .any(|p| owns(actor, p))
}

fn is_government(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Office | Role::Department | Role::Locality | Role::Inspector)
}

/// Government that oversees the hazard's unit: the office of its
/// jurisdiction, the village or grid above it, the department that leads
/// its area or took it up.
fn oversees(actor: &Actor, f: &HazardFacts<'_>) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Office => f.unit.is_within(&actor.jurisdiction),
        Role::Locality | Role::Inspector => f.unit.is_within(&actor.unit_path) && f.unit != &actor.unit_path,
        Role::Department => {
            f.area.is_some_and(|a| actor.led_areas.contains(&a))
                || owns(actor, Some(f.found_by_unit))
                || owns(actor, f.assigned_by_unit)
        }
        _ => false,
    }
}

/// The permission policy for hazards. Answers `NotFound` for a hazard the
/// actor may not see, `Forbidden` for one they see but may not act on. The
/// state of the hazard is checked separately ([`HazardOp::possible`]).
pub fn authorize(actor: &Actor, f: &HazardFacts<'_>, op: HazardOp) -> Decision {
    if !visible(actor, f) {
        return Decision::NotFound;
    }
    let role = actor.role;
    if role == Role::Leader {
        return if op == HazardOp::Read { Decision::Allow } else { Decision::Forbidden };
    }
    let office = role == Role::Admin || (role == Role::Office && f.unit.is_within(&actor.jurisdiction));
    let finder = owns(actor, Some(f.found_by_unit));
    // Members of the responsible unit rectify; so does an enterprise above
    // it (a group and its subsidiary). The village or grid above an
    // enterprise does not rectify for it: it accepts.
    let responsible = match f.responsible_unit {
        Some(p) => actor.unit_path.is_within(p) || (role == Role::Enterprise && p.is_within(&actor.unit_path)),
        None => role == Role::Enterprise && f.unit.is_within(&actor.unit_path),
    };
    let enterprise_of = actor.role == Role::Enterprise && f.unit.is_within(&actor.unit_path);
    let gov = is_government(role);
    let allowed = match op {
        HazardOp::Read => true,
        HazardOp::Edit => office || oversees(actor, f) || finder,
        HazardOp::Plan => office || oversees(actor, f) || responsible || enterprise_of,
        HazardOp::Assign => match f.assigned_by_unit {
            // Changing an assignment (and so its deadline) is for whoever made it.
            Some(by) => office || (gov && owns(actor, Some(by))),
            None => office || (gov && oversees(actor, f)) || (f.self_found && enterprise_of && f.level == HazardLevel::General),
        },
        HazardOp::Start | HazardOp::Submit | HazardOp::RequestExtension => responsible || office,
        HazardOp::FixOnSpot => office || oversees(actor, f) || finder || enterprise_of,
        HazardOp::Accept | HazardOp::Reject => {
            if let Some(sup) = f.supervising_unit {
                // A listed hazard is lifted only by its supervisor (核销).
                office || owns(actor, Some(sup))
            } else if f.level == HazardLevel::Major {
                office || (gov && (oversees(actor, f) || finder)) || owns(actor, f.accepting_unit)
            } else if f.self_found {
                office || oversees(actor, f) || enterprise_of || owns(actor, f.accepting_unit)
            } else {
                // Found by an inspection: that unit or its delegate accepts.
                office || (finder && role != Role::Enterprise) || owns(actor, f.accepting_unit) || (gov && oversees(actor, f))
            }
        }
        HazardOp::Dismiss => office || (gov && (oversees(actor, f) || finder)) || (finder && f.self_found),
        HazardOp::Reopen => office || (gov && (finder || oversees(actor, f))) || owns(actor, f.accepting_unit),
        HazardOp::DecideExtension => office || (gov && owns(actor, f.assigned_by_unit)),
        HazardOp::List => office,
        HazardOp::Attach => office || oversees(actor, f) || finder || responsible || enterprise_of,
    };
    if allowed { Decision::Allow } else { Decision::Forbidden }
}

/// Whether an actor may register a hazard at a unit.
pub fn may_report(actor: &Actor, unit: &UnitPath) -> Decision {
    let allowed = match actor.role {
        Role::Admin => true,
        // Offices, departments and experts inspect across their jurisdiction.
        Role::Office | Role::Department | Role::Expert => unit.is_within(&actor.jurisdiction),
        Role::Locality | Role::Inspector | Role::Enterprise => unit.is_within(&actor.unit_path),
        Role::Leader => false,
    };
    if allowed {
        Decision::Allow
    } else if actor.sees(unit) {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// The ops this actor may take on this hazard now.
pub fn available_ops(actor: &Actor, h: &Hazard) -> Vec<HazardOp> {
    let f = h.facts();
    HazardOp::ALL
        .into_iter()
        .filter(|op| *op != HazardOp::Read && op.possible(h) && authorize(actor, &f, *op) == Decision::Allow)
        .collect()
}

/// A change of a hazard, as the state machine takes it. Inputs are already
/// parsed and checked for form; [`apply`] checks them against the hazard.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Assign {
        responsible_unit: UnitRef,
        responsible_person: String,
        responsible_phone: Option<String>,
        rule: DeadlineRule,
        /// For [`DeadlineRule::Date`].
        deadline: Option<Date>,
        accepting_unit: Option<UnitRef>,
        /// The assigning unit (the actor's).
        by_unit: UnitRef,
        comment: Option<String>,
    },
    Start { comment: Option<String> },
    Submit { rectification: String, comment: Option<String> },
    FixOnSpot { rectification: String },
    Accept { accepted_by: String, comment: Option<String> },
    Reject { reason: String },
    Dismiss { reason: DismissReason, duplicate_of: Option<HazardId>, comment: String },
    Reopen { reason: String, deadline: Option<Date> },
    RequestExtension { id: ExtensionId, requested_deadline: Date, reason: String, requested_by: String },
    DecideExtension { approve: bool, comment: Option<String>, decided_by: String },
    List(Listing),
}

impl Action {
    pub fn op(&self) -> HazardOp {
        match self {
            Action::Assign { .. } => HazardOp::Assign,
            Action::Start { .. } => HazardOp::Start,
            Action::Submit { .. } => HazardOp::Submit,
            Action::FixOnSpot { .. } => HazardOp::FixOnSpot,
            Action::Accept { .. } => HazardOp::Accept,
            Action::Reject { .. } => HazardOp::Reject,
            Action::Dismiss { .. } => HazardOp::Dismiss,
            Action::Reopen { .. } => HazardOp::Reopen,
            Action::RequestExtension { .. } => HazardOp::RequestExtension,
            Action::DecideExtension { .. } => HazardOp::DecideExtension,
            Action::List(_) => HazardOp::List,
        }
    }
}

/// What the timeline records of one change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventDraft {
    /// `create`, `edit`, `plan`, or an op name.
    pub action: String,
    pub from_state: Option<HazardState>,
    pub to_state: HazardState,
    pub comment: Option<String>,
    /// Details of the change (new deadline, listing, extension…).
    pub data: serde_json::Value,
}

/// The moment and calendar a transition is decided against.
pub struct Now<'a> {
    pub at: OffsetDateTime,
    pub today: Date,
    pub calendar: &'a WorkCalendar,
}

fn need(text: &str, field: &str, zh: &str, en: &str) -> Result<String, DomainError> {
    let t = text.trim();
    if t.is_empty() { Err(DomainError::field(field, zh, en)) } else { Ok(t.to_string()) }
}

fn invalid_transition(h: &Hazard, op: HazardOp) -> DomainError {
    DomainError::conflict(
        format!("隐患当前状态为“{}”，不能{}", h.state.label_zh(), op.label_zh()),
        format!("The hazard is {}; \"{}\" is not possible now", h.state.label_en().to_lowercase(), op.label_en()),
    )
}

fn clean(c: &Option<String>) -> Option<String> {
    c.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The state machine: checks that `action` is possible on `h` now and
/// returns the changed hazard and its timeline event. Pure: no I/O, no
/// permission check (see [`authorize`]).
pub fn apply(h: &Hazard, action: &Action, now: &Now<'_>) -> Result<(Hazard, EventDraft), DomainError> {
    let op = action.op();
    if op == HazardOp::FixOnSpot && h.state == HazardState::Reported && !op.possible(h) {
        return Err(DomainError::conflict(
            "只有即查即改的一般隐患可以当场整改；重大隐患和限期整改的隐患须交办整改",
            "Only a general hazard marked fix-on-the-spot can be fixed on the spot; others are assigned with a deadline",
        ));
    }
    if !op.possible(h) {
        return Err(invalid_transition(h, op));
    }
    let mut n = h.clone();
    n.updated_at = now.at;
    let mut comment = None;
    let mut data = serde_json::Value::Null;
    match action {
        Action::Assign { responsible_unit, responsible_person, responsible_phone, rule, deadline, accepting_unit, by_unit, comment: c } => {
            let person = need(responsible_person, "responsible_person", "请填写整改责任人", "Name the person responsible")?;
            if responsible_unit.path != h.unit.path && !responsible_unit.path.is_within(&h.unit.path) && !h.unit.path.is_within(&responsible_unit.path) {
                // A responsible unit is the hazard's own unit, one of its parts, or a unit above it.
                return Err(DomainError::field(
                    "responsible_unit_id",
                    "整改责任单位应为隐患所在单位或其上级、下属单位",
                    "The responsible unit must be the hazard's unit, a part of it or a unit above it",
                ));
            }
            let due = rule.due(now.today, *deadline, now.calendar).ok_or_else(|| {
                DomainError::field("deadline", "请确定整改期限：日期或天数", "Set the deadline: a date or a number of days")
            })?;
            if let Some(l) = h.listing.as_ref().filter(|l| l.lifted_on.is_none() && due > l.required_by) {
                let by = l.required_by;
                return Err(DomainError::field(
                    "deadline",
                    format!("挂牌督办要求 {by} 前完成，整改期限不能晚于此日"),
                    format!("Listed supervision requires completion by {by}: the deadline may not be later"),
                ));
            }
            if due < now.today {
                return Err(DomainError::field("deadline", "整改期限不能早于今天", "The deadline may not be in the past"));
            }
            n.responsible_unit = Some(responsible_unit.clone());
            n.responsible_person = Some(person);
            n.responsible_phone = clean(responsible_phone);
            n.deadline = Some(due);
            n.deadline_rule = Some(*rule);
            n.assigned_by_unit = Some(by_unit.clone());
            if accepting_unit.is_some() {
                n.accepting_unit = accepting_unit.clone();
            }
            n.state = HazardState::Assigned;
            comment = clean(c);
            data = serde_json::json!({
                "responsible_unit": responsible_unit.name, "responsible_person": n.responsible_person,
                "deadline": due.to_string(), "rule": rule, "previous_deadline": h.deadline.map(|d| d.to_string()),
            });
        }
        Action::Start { comment: c } => {
            n.state = HazardState::Rectifying;
            comment = clean(c);
        }
        Action::Submit { rectification, comment: c } => {
            let text = need(rectification, "rectification", "请说明整改情况", "Describe what was done")?;
            n.rectification = Some(text);
            let gaps = n.submission_gaps();
            if !gaps.is_empty() {
                return Err(DomainError::invalid(gaps));
            }
            n.state = HazardState::Submitted;
            n.submitted_at = Some(now.at);
            comment = clean(c);
        }
        Action::FixOnSpot { rectification } => {
            let text = need(rectification, "rectification", "请说明当场整改情况", "Describe how it was fixed on the spot")?;
            n.rectification = Some(text);
            n.state = HazardState::Submitted;
            n.submitted_at = Some(now.at);
        }
        Action::Accept { accepted_by, comment: c } => {
            n.state = HazardState::Closed;
            n.accepted_by = Some(need(accepted_by, "accepted_by", "请填写验收人", "Name who accepted it")?);
            n.closed_at = Some(now.at);
            n.acceptance_comment = clean(c);
            comment = clean(c);
            if let Some(l) = n.listing.as_mut().filter(|l| l.lifted_on.is_none()) {
                l.lifted_on = Some(now.today);
                data = serde_json::json!({ "listing_lifted": l.document_number });
            }
        }
        Action::Reject { reason } => {
            comment = Some(need(reason, "reason", "请说明退回原因", "Say why it is sent back")?);
            // Back to whoever must rectify; a hazard fixed on the spot and
            // never assigned goes back to be assigned.
            n.state = if n.deadline.is_some() && n.responsible_unit.is_some() { HazardState::Rectifying } else { HazardState::Reported };
            n.submitted_at = None;
        }
        Action::Dismiss { reason, duplicate_of, comment: c } => {
            comment = Some(need(c, "comment", "请说明撤销理由", "Say why it is dismissed")?);
            if *reason == DismissReason::Duplicate {
                match duplicate_of {
                    None => return Err(DomainError::field("duplicate_of", "请指明与哪条隐患重复", "Name the hazard this one duplicates")),
                    Some(d) if *d == h.id => {
                        return Err(DomainError::field("duplicate_of", "不能与自身重复", "A hazard cannot duplicate itself"));
                    }
                    _ => {}
                }
            }
            n.state = HazardState::Dismissed;
            n.dismiss_reason = Some(*reason);
            n.duplicate_of = if *reason == DismissReason::Duplicate { *duplicate_of } else { None };
            data = serde_json::json!({ "reason": reason, "duplicate_of": n.duplicate_of });
        }
        Action::Reopen { reason, deadline } => {
            comment = Some(need(reason, "reason", "请说明重新打开的原因", "Say why it is reopened")?);
            if let Some(d) = deadline {
                if *d < now.today {
                    return Err(DomainError::field("deadline", "新的整改期限不能早于今天", "The new deadline may not be in the past"));
                }
                n.deadline = Some(*d);
                n.deadline_rule = Some(DeadlineRule::Date);
            }
            n.state = if h.state == HazardState::Dismissed || n.deadline.is_none() || n.responsible_unit.is_none() {
                HazardState::Reported
            } else {
                HazardState::Rectifying
            };
            n.submitted_at = None;
            n.closed_at = None;
            n.accepted_by = None;
            n.acceptance_comment = None;
            n.dismiss_reason = None;
            n.duplicate_of = None;
            data = serde_json::json!({ "deadline": n.deadline.map(|d| d.to_string()) });
        }
        Action::RequestExtension { id, requested_deadline, reason, requested_by } => {
            let reason = need(reason, "reason", "请说明延期理由", "Say why more time is needed")?;
            let current = h.deadline.ok_or_else(|| invalid_transition(h, op))?;
            // An extension is asked for before the deadline passes: approving
            // one afterwards would erase the lateness from the record.
            if now.today > current {
                return Err(DomainError::conflict(
                    format!("整改期限 {current} 已过，不能再申请延期；逾期情况将如实记录"),
                    format!("The deadline ({current}) has passed: an extension can no longer be asked for, and the delay stays on record"),
                ));
            }
            if let Some(l) = h.listing.as_ref().filter(|l| l.lifted_on.is_none() && *requested_deadline > l.required_by) {
                let by = l.required_by;
                return Err(DomainError::field(
                    "requested_deadline",
                    format!("挂牌督办要求 {by} 前完成，不能延期至此日之后"),
                    format!("Listed supervision requires completion by {by}: no extension beyond it"),
                ));
            }
            if *requested_deadline <= current {
                return Err(DomainError::field(
                    "requested_deadline",
                    format!("申请的期限应晚于当前期限 {current}"),
                    format!("The requested deadline must be after the current one ({current})"),
                ));
            }
            n.pending_extension = Some(ExtensionRequest {
                id: *id,
                current_deadline: current,
                requested_deadline: *requested_deadline,
                reason: reason.clone(),
                requested_by: requested_by.clone(),
                requested_at: now.at,
                approved: None,
                decided_by: None,
                decided_at: None,
                decision_comment: None,
            });
            comment = Some(reason);
            data = serde_json::json!({ "extension_id": id, "current_deadline": current.to_string(), "requested_deadline": requested_deadline.to_string() });
        }
        Action::DecideExtension { approve, comment: c, decided_by } => {
            let Some(mut req) = n.pending_extension.take() else { return Err(invalid_transition(h, op)) };
            if !approve && clean(c).is_none() {
                return Err(DomainError::field("comment", "不同意延期时请说明理由", "Say why the extension is refused"));
            }
            req.approved = Some(*approve);
            req.decided_by = Some(decided_by.clone());
            req.decided_at = Some(now.at);
            req.decision_comment = clean(c);
            if *approve {
                n.deadline = Some(req.requested_deadline);
                n.deadline_rule = Some(DeadlineRule::Date);
            }
            comment = clean(c);
            data = serde_json::json!({
                "extension_id": req.id, "approved": approve, "previous_deadline": req.current_deadline.to_string(),
                "deadline": n.deadline.map(|d| d.to_string()),
            });
        }
        Action::List(listing) => {
            let mut errors = Vec::new();
            if listing.document_number.trim().is_empty() {
                errors.push(FieldError::new("document_number", "请填写督办文号", "Enter the supervision document number"));
            }
            if listing.signatory.trim().is_empty() {
                errors.push(FieldError::new("signatory", "请填写签发人", "Name the signatory"));
            }
            if listing.required_by < listing.listed_on {
                errors.push(FieldError::new("required_by", "要求完成时间不能早于挂牌日期", "The completion date may not be before the listing date"));
            }
            if !errors.is_empty() {
                return Err(DomainError::invalid(errors));
            }
            n.listing = Some(listing.clone());
            data = serde_json::json!({
                "level": listing.level, "document_number": listing.document_number, "supervising_unit": listing.supervising_unit_name,
                "required_by": listing.required_by.to_string(),
            });
            // The supervising unit's date binds: a later rectification
            // deadline comes forward to it, so the notice and the order agree.
            if let Some(d) = h.deadline.filter(|d| *d > listing.required_by) {
                n.deadline = Some(listing.required_by);
                n.deadline_rule = Some(DeadlineRule::Date);
                if let Some(o) = data.as_object_mut() {
                    o.insert("deadline".into(), serde_json::json!(listing.required_by.to_string()));
                    o.insert("previous_deadline".into(), serde_json::json!(d.to_string()));
                }
            }
        }
    }
    // Leaving rectification (submitted, dismissed) withdraws an undecided extension request.
    if !n.state.is_pending_rectification()
        && let Some(req) = n.pending_extension.take()
    {
        if !data.is_object() {
            data = serde_json::json!({});
        }
        if let Some(o) = data.as_object_mut() {
            o.insert("extension_withdrawn".into(), serde_json::json!(req.id));
        }
    }
    let event = EventDraft { action: op.as_str().to_string(), from_state: Some(h.state), to_state: n.state, comment, data };
    check_invariants(&n).map_err(|e| DomainError::new(crate::ErrorCode::Internal, e.clone(), e))?;
    Ok((n, event))
}

/// What must hold of every hazard, whatever happened to it.
pub fn check_invariants(h: &Hazard) -> Result<(), String> {
    use HazardState::*;
    let fail = |m: &str| Err(format!("{}: {m}", h.code));
    if matches!(h.state, Assigned | Rectifying) && (h.responsible_unit.is_none() || h.deadline.is_none() || h.assigned_by_unit.is_none()) {
        return fail("assigned without a responsible unit or deadline");
    }
    if matches!(h.state, Submitted | Closed) && h.rectification.as_deref().is_none_or(str::is_empty) {
        return fail("handed in without a description of the rectification");
    }
    if matches!(h.state, Submitted | Closed) && h.submitted_at.is_none() {
        return fail("handed in without a submission time");
    }
    if h.state == Closed && (h.accepted_by.is_none() || h.closed_at.is_none()) {
        return fail("closed without acceptance");
    }
    if h.state != Closed && (h.closed_at.is_some() || h.accepted_by.is_some()) {
        return fail("acceptance recorded on an open hazard");
    }
    if h.state == Closed && h.is_listed() {
        return fail("closed while still listed");
    }
    if (h.state == Dismissed) != h.dismiss_reason.is_some() {
        return fail("dismissal reason and state disagree");
    }
    if h.pending_extension.is_some() && !h.state.is_pending_rectification() {
        return fail("an extension pending on a hazard not being rectified");
    }
    Ok(())
}

/// One entry of a hazard's timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HazardEvent {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: HazardEventId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub hazard_id: HazardId,
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
    pub from_state: Option<HazardState>,
    pub to_state: HazardState,
    pub comment: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum HazardSort {
    /// Newest registered first.
    #[default]
    Newest,
    Oldest,
    /// Earliest deadline first; hazards without a deadline last.
    Deadline,
}

/// What to break counts down by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Breakdown {
    Area,
    /// The units one level below `within` (or below the scope root).
    Unit,
    Level,
    Source,
    State,
    /// The month the hazard was found (Beijing time), `YYYY-MM`.
    Month,
}

/// Counts of one group (or of everything).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tally {
    /// The group's key (an id, a code or a month); empty for the total.
    pub key: String,
    pub total: i64,
    /// Dismissed hazards are not hazards: they count in no rate.
    pub dismissed: i64,
    pub open: i64,
    pub closed: i64,
    /// Closed, and handed in no later than the deadline.
    pub closed_on_time: i64,
    /// Open, not handed in, past the deadline today.
    pub overdue: i64,
    pub listed: i64,
    pub major: i64,
}

#[cfg(test)]
#[path = "hazard_tests.rs"]
mod tests;
