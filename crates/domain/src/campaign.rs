//! The campaign plan as data: the file format of `docs/campaign-format.md`,
//! parsed into a checked [`CampaignPlan`] with errors that name the line and
//! the field, and written back out for `bihuan campaign export`.

use crate::indicator::Comparator;
use crate::unit::UnitKind;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use time::Date;
use toml::Spanned;

/// The plan Bihuan ships with: the Nanxiang three-year rectification plan.
pub const BUNDLED_PLAN: &str = include_str!("../../../campaigns/nanxiang-2020.toml");
pub const BUNDLED_PLAN_NAME: &str = "campaigns/nanxiang-2020.toml";
pub const FORMAT_VERSION: i64 = 1;

/// One problem in a campaign file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// Path of the field, e.g. `areas[3].lead_units[0]`.
    pub field: String,
    pub zh: String,
    pub en: String,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{l}: {}: {} / {}", self.field, self.en, self.zh),
            None => write!(f, "{}: {} / {}", self.field, self.en, self.zh),
        }
    }
}

// ---------------------------------------------------------------- the model

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CampaignPlan {
    pub format: i64,
    pub campaign: CampaignHeader,
    pub units: Vec<PlanUnit>,
    pub posts: Vec<PlanPost>,
    pub phases: Vec<PlanPhase>,
    pub areas: Vec<PlanArea>,
    pub indicators: Vec<PlanIndicator>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CampaignHeader {
    pub code: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signatory: Option<String>,
    #[serde(serialize_with = "ser_opt_date", skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<Date>,
    #[serde(serialize_with = "ser_date")]
    pub starts_on: Date,
    #[serde(serialize_with = "ser_date")]
    pub ends_on: Date,
    pub owner_unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub office_unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub general_requirements: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_tasks_preamble: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_notes: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub safeguards: Vec<Safeguard>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Safeguard {
    pub title: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanUnit {
    pub key: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    #[serde(serialize_with = "ser_kind")]
    pub kind: UnitKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duties: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanPost {
    pub unit: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanPhase {
    pub name: String,
    #[serde(serialize_with = "ser_date")]
    pub starts_on: Date,
    #[serde(serialize_with = "ser_date")]
    pub ends_on: Date,
    pub aims: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaKind {
    /// 专题
    Topic,
    /// 专项整治
    Special,
}

impl AreaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AreaKind::Topic => "topic",
            AreaKind::Special => "special",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "topic" => Some(AreaKind::Topic),
            "special" => Some(AreaKind::Special),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            AreaKind::Topic => "专题",
            AreaKind::Special => "专项整治",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            AreaKind::Topic => "Topic",
            AreaKind::Special => "Special rectification",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanArea {
    pub code: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    pub kind: AreaKind,
    pub lead_units: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub tasks: Vec<PlanTask>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanTask {
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanIndicator {
    pub code: String,
    pub name: String,
    pub area: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub lead_units: Vec<String>,
    pub comparator: Comparator,
    #[serde(serialize_with = "ser_opt_decimal", skip_serializing_if = "Option::is_none")]
    pub target: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(serialize_with = "ser_date")]
    pub deadline: Date,
    pub basis: String,
}

fn toml_date(d: &Date) -> toml::value::Datetime {
    toml::value::Datetime {
        date: Some(toml::value::Date { year: d.year() as u16, month: u8::from(d.month()), day: d.day() }),
        time: None,
        offset: None,
    }
}

fn ser_date<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    toml_date(d).serialize(s)
}

fn ser_opt_date<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => toml_date(d).serialize(s),
        None => s.serialize_none(),
    }
}

fn ser_opt_decimal<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&d.normalize().to_string()),
        None => s.serialize_none(),
    }
}

fn ser_kind<S: Serializer>(k: &UnitKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

impl CampaignPlan {
    /// Writes the plan in the campaign file format.
    pub fn to_toml(&self) -> Result<String, String> {
        let body = toml::to_string(self).map_err(|e| e.to_string())?;
        Ok(format!(
            "# {}{}\n# Bihuan campaign file; format: docs/campaign-format.md\n{body}",
            self.campaign.title,
            self.campaign.document_number.as_deref().map(|d| format!("（{d}）")).unwrap_or_default()
        ))
    }

    pub fn area(&self, code: &str) -> Option<&PlanArea> {
        self.areas.iter().find(|a| a.code == code)
    }

    pub fn unit(&self, key: &str) -> Option<&PlanUnit> {
        self.units.iter().find(|u| u.key == key)
    }
}

// ------------------------------------------------------------ the raw file

type S = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    format: Spanned<i64>,
    campaign: Spanned<RawCampaign>,
    #[serde(default)]
    units: Vec<Spanned<RawUnit>>,
    #[serde(default)]
    posts: Vec<Spanned<RawPost>>,
    #[serde(default)]
    phases: Vec<Spanned<RawPhase>>,
    #[serde(default)]
    areas: Vec<Spanned<RawArea>>,
    #[serde(default)]
    indicators: Vec<Spanned<RawIndicator>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCampaign {
    code: S,
    title: S,
    document_number: Option<S>,
    issuer: Option<S>,
    signatory: Option<S>,
    issued_on: Option<Spanned<toml::value::Datetime>>,
    starts_on: Spanned<toml::value::Datetime>,
    ends_on: Spanned<toml::value::Datetime>,
    owner_unit: S,
    office_unit: Option<S>,
    basis: Option<S>,
    general_requirements: Option<S>,
    main_tasks_preamble: Option<S>,
    schedule_notes: Option<S>,
    #[serde(default)]
    safeguards: Vec<Safeguard>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnit {
    key: S,
    name: S,
    short_name: Option<S>,
    kind: S,
    parent: Option<S>,
    duties: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPost {
    unit: S,
    title: S,
    holder: Option<S>,
    note: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    name: S,
    starts_on: Spanned<toml::value::Datetime>,
    ends_on: Spanned<toml::value::Datetime>,
    aims: S,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    code: S,
    name: S,
    short_name: Option<S>,
    kind: S,
    lead_units: Spanned<Vec<S>>,
    note: Option<S>,
    #[serde(default)]
    tasks: Vec<Spanned<RawTask>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    label: S,
    group: Option<S>,
    text: S,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    code: S,
    name: S,
    area: S,
    task: Option<S>,
    group: Option<S>,
    lead_units: Option<Vec<S>>,
    comparator: S,
    target: Option<Spanned<toml::Value>>,
    unit: Option<S>,
    deadline: Spanned<toml::value::Datetime>,
    basis: S,
}

struct Checker<'a> {
    text: &'a str,
    errors: Vec<PlanError>,
}

impl Checker<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.get(..end).map(|t| t.matches('\n').count() + 1).unwrap_or(1)
    }

    fn err(&mut self, span: &Range<usize>, field: impl Into<String>, zh: impl Into<String>, en: impl Into<String>) {
        let line = Some(self.line(span));
        self.errors.push(PlanError { line, field: field.into(), zh: zh.into(), en: en.into() });
    }

    /// Required text: trimmed, non-empty.
    fn text(&mut self, s: &S, field: &str) -> String {
        let t = s.get_ref().trim().to_string();
        if t.is_empty() {
            self.err(&s.span(), field, "不能为空", "must not be empty");
        }
        t
    }

    fn opt_text(&mut self, s: &Option<S>) -> Option<String> {
        s.as_ref().map(|s| s.get_ref().trim().to_string()).filter(|t| !t.is_empty())
    }

    fn key(&mut self, s: &S, field: &str) -> String {
        let t = self.text(s, field);
        if !t.is_empty() && !t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            self.err(
                &s.span(),
                field,
                format!("标识“{t}”只能包含小写字母、数字和连字符"),
                format!("identifier \"{t}\" may contain only a-z, 0-9 and '-'"),
            );
        }
        t
    }

    fn date(&mut self, d: &Spanned<toml::value::Datetime>, field: &str) -> Option<Date> {
        let v = d.get_ref();
        let parsed = match (v.date, v.time, v.offset) {
            (Some(date), None, None) => time::Month::try_from(date.month)
                .ok()
                .and_then(|m| Date::from_calendar_date(i32::from(date.year), m, date.day).ok()),
            _ => None,
        };
        if parsed.is_none() {
            self.err(&d.span(), field, "应为日期，如 2020-08-06", "must be a date such as 2020-08-06");
        }
        parsed
    }

    fn unit_ref(&mut self, s: &S, field: &str, units: &HashSet<String>) -> String {
        let k = s.get_ref().trim().to_string();
        if !units.contains(&k) {
            self.err(&s.span(), field, format!("未知的单位标识“{k}”"), format!("unknown unit key \"{k}\""));
        }
        k
    }
}

/// Parses and checks a campaign file. On failure returns every problem found,
/// each with its line and field.
pub fn parse_plan(text: &str) -> Result<CampaignPlan, Vec<PlanError>> {
    let raw: RawPlan = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let mut c = Checker { text, errors: Vec::new() };
            let span = e.span().unwrap_or(0..0);
            let msg = e.message().trim().to_string();
            c.err(&span, "file", format!("文件格式错误：{msg}"), msg);
            return Err(c.errors);
        }
    };
    let mut c = Checker { text, errors: Vec::new() };
    if *raw.format.get_ref() != FORMAT_VERSION {
        c.err(
            &raw.format.span(),
            "format",
            format!("不支持的格式版本 {}，应为 {FORMAT_VERSION}", raw.format.get_ref()),
            format!("unsupported format version {}, expected {FORMAT_VERSION}", raw.format.get_ref()),
        );
    }

    // Units first: everything else refers to them.
    let mut unit_keys = HashSet::new();
    let mut unit_names = HashSet::new();
    let mut units = Vec::new();
    for (i, u) in raw.units.iter().enumerate() {
        let f = |name: &str| format!("units[{i}].{name}");
        let r = u.get_ref();
        let key = c.key(&r.key, &f("key"));
        let name = c.text(&r.name, &f("name"));
        if !unit_keys.insert(key.clone()) {
            c.err(&r.key.span(), f("key"), format!("单位标识“{key}”重复"), format!("duplicate unit key \"{key}\""));
        }
        if !unit_names.insert(name.clone()) {
            c.err(&r.name.span(), f("name"), format!("单位名称“{name}”重复"), format!("duplicate unit name \"{name}\""));
        }
        let kind = UnitKind::parse(r.kind.get_ref().trim());
        if kind.is_none() {
            c.err(
                &r.kind.span(),
                f("kind"),
                format!("未知的单位类型“{}”", r.kind.get_ref()),
                format!("unknown unit kind \"{}\"", r.kind.get_ref()),
            );
        }
        let parent = match &r.parent {
            Some(p) => {
                let pk = p.get_ref().trim().to_string();
                // A parent must appear above its child: this rules out cycles.
                if !unit_keys.contains(&pk) || pk == key {
                    c.err(
                        &p.span(),
                        f("parent"),
                        format!("上级单位“{pk}”未在本单位之前定义"),
                        format!("parent \"{pk}\" is not defined above this unit"),
                    );
                }
                Some(pk)
            }
            None => None,
        };
        units.push(PlanUnit {
            key,
            name,
            short_name: c.opt_text(&r.short_name),
            kind: kind.unwrap_or(UnitKind::Department),
            parent,
            duties: c.opt_text(&r.duties),
        });
    }
    // Structural rule: which kinds may contain which.
    let kinds: HashMap<&str, UnitKind> = units.iter().map(|u| (u.key.as_str(), u.kind)).collect();
    for (i, (u, raw_u)) in units.iter().zip(&raw.units).enumerate() {
        if let (Some(p), Some(pkind)) = (&u.parent, u.parent.as_deref().and_then(|p| kinds.get(p)))
            && !pkind.may_contain(u.kind) {
                c.err(
                    &raw_u.get_ref().kind.span(),
                    format!("units[{i}].kind"),
                    format!("“{}”类单位不能设在“{}”类单位“{p}”之下", u.kind.label_zh(), pkind.label_zh()),
                    format!("a {} cannot sit under the {} \"{p}\"", u.kind.as_str(), pkind.as_str()),
                );
            }
    }

    let rc = raw.campaign.get_ref();
    let code = c.key(&rc.code, "campaign.code");
    let title = c.text(&rc.title, "campaign.title");
    let issued_on = rc.issued_on.as_ref().and_then(|d| c.date(d, "campaign.issued_on"));
    let starts_on = c.date(&rc.starts_on, "campaign.starts_on");
    let ends_on = c.date(&rc.ends_on, "campaign.ends_on");
    if let (Some(s), Some(e)) = (starts_on, ends_on)
        && e < s {
            c.err(&rc.ends_on.span(), "campaign.ends_on", "结束日期早于开始日期", "ends before it starts");
        }
    let owner_unit = c.unit_ref(&rc.owner_unit, "campaign.owner_unit", &unit_keys);
    let office_unit = rc.office_unit.as_ref().map(|o| c.unit_ref(o, "campaign.office_unit", &unit_keys));
    for (i, s) in rc.safeguards.iter().enumerate() {
        if s.title.trim().is_empty() || s.text.trim().is_empty() {
            c.err(&raw.campaign.span(), format!("campaign.safeguards[{i}]"), "标题和正文不能为空", "title and text must not be empty");
        }
    }
    let campaign = CampaignHeader {
        code,
        title,
        document_number: c.opt_text(&rc.document_number),
        issuer: c.opt_text(&rc.issuer),
        signatory: c.opt_text(&rc.signatory),
        issued_on,
        starts_on: starts_on.unwrap_or(Date::MIN),
        ends_on: ends_on.unwrap_or(Date::MAX),
        owner_unit,
        office_unit,
        basis: c.opt_text(&rc.basis),
        general_requirements: c.opt_text(&rc.general_requirements),
        main_tasks_preamble: c.opt_text(&rc.main_tasks_preamble),
        schedule_notes: c.opt_text(&rc.schedule_notes),
        safeguards: rc.safeguards.clone(),
    };

    let mut posts = Vec::new();
    for (i, p) in raw.posts.iter().enumerate() {
        let r = p.get_ref();
        posts.push(PlanPost {
            unit: c.unit_ref(&r.unit, &format!("posts[{i}].unit"), &unit_keys),
            title: c.text(&r.title, &format!("posts[{i}].title")),
            holder: c.opt_text(&r.holder),
            note: c.opt_text(&r.note),
        });
    }

    if raw.phases.is_empty() {
        c.err(&raw.campaign.span(), "phases", "至少需要一个阶段", "at least one phase is required");
    }
    let mut phases: Vec<PlanPhase> = Vec::new();
    for (i, p) in raw.phases.iter().enumerate() {
        let r = p.get_ref();
        let f = |n: &str| format!("phases[{i}].{n}");
        let name = c.text(&r.name, &f("name"));
        let s = c.date(&r.starts_on, &f("starts_on"));
        let e = c.date(&r.ends_on, &f("ends_on"));
        let aims = c.text(&r.aims, &f("aims"));
        if let (Some(s), Some(e)) = (s, e) {
            if e < s {
                c.err(&r.ends_on.span(), f("ends_on"), "阶段结束日期早于开始日期", "the phase ends before it starts");
            }
            if s < campaign.starts_on || e > campaign.ends_on {
                c.err(&r.starts_on.span(), f("starts_on"), "阶段超出了行动的起止日期", "the phase lies outside the campaign's span");
            }
            if let Some(prev) = phases.last()
                && s <= prev.ends_on {
                    c.err(
                        &r.starts_on.span(),
                        f("starts_on"),
                        format!("阶段与上一阶段“{}”重叠或顺序颠倒", prev.name),
                        format!("the phase overlaps or precedes the phase \"{}\"", prev.name),
                    );
                }
            phases.push(PlanPhase { name, starts_on: s, ends_on: e, aims });
        }
    }

    if raw.areas.is_empty() {
        c.err(&raw.campaign.span(), "areas", "至少需要一个整治领域", "at least one area is required");
    }
    let mut areas: Vec<PlanArea> = Vec::new();
    let mut area_codes = HashSet::new();
    for (i, a) in raw.areas.iter().enumerate() {
        let r = a.get_ref();
        let f = |n: &str| format!("areas[{i}].{n}");
        let code = c.key(&r.code, &f("code"));
        if !area_codes.insert(code.clone()) {
            c.err(&r.code.span(), f("code"), format!("领域编号“{code}”重复"), format!("duplicate area code \"{code}\""));
        }
        let name = c.text(&r.name, &f("name"));
        let kind = AreaKind::parse(r.kind.get_ref().trim());
        if kind.is_none() {
            c.err(&r.kind.span(), f("kind"), "领域类型应为 topic（专题）或 special（专项整治）", "kind must be topic or special");
        }
        if r.lead_units.get_ref().is_empty() {
            c.err(&r.lead_units.span(), f("lead_units"), "至少需要一个牵头单位", "at least one lead unit is required");
        }
        let lead_units = r
            .lead_units
            .get_ref()
            .iter()
            .enumerate()
            .map(|(j, u)| c.unit_ref(u, &format!("areas[{i}].lead_units[{j}]"), &unit_keys))
            .collect();
        if r.tasks.is_empty() {
            c.err(&a.span(), f("tasks"), "至少需要一项任务", "at least one task is required");
        }
        let mut labels = HashSet::new();
        let mut tasks = Vec::new();
        for (j, t) in r.tasks.iter().enumerate() {
            let tr = t.get_ref();
            let label = c.text(&tr.label, &format!("areas[{i}].tasks[{j}].label"));
            let group = c.opt_text(&tr.group);
            if !labels.insert((group.clone(), label.clone())) {
                c.err(
                    &tr.label.span(),
                    format!("areas[{i}].tasks[{j}].label"),
                    format!("任务编号“{label}”重复"),
                    format!("duplicate task label \"{label}\""),
                );
            }
            let text = c.text(&tr.text, &format!("areas[{i}].tasks[{j}].text"));
            tasks.push(PlanTask { label, group, text });
        }
        areas.push(PlanArea {
            code,
            name,
            short_name: c.opt_text(&r.short_name),
            kind: kind.unwrap_or(AreaKind::Special),
            lead_units,
            note: c.opt_text(&r.note),
            tasks,
        });
    }

    let mut indicators = Vec::new();
    let mut indicator_codes = HashSet::new();
    for (i, ind) in raw.indicators.iter().enumerate() {
        let r = ind.get_ref();
        let f = |n: &str| format!("indicators[{i}].{n}");
        let code = c.key(&r.code, &f("code"));
        if !indicator_codes.insert(code.clone()) {
            c.err(&r.code.span(), f("code"), format!("指标编号“{code}”重复"), format!("duplicate indicator code \"{code}\""));
        }
        let name = c.text(&r.name, &f("name"));
        let area_code = r.area.get_ref().trim().to_string();
        let area = areas.iter().find(|a| a.code == area_code);
        if area.is_none() {
            c.err(&r.area.span(), f("area"), format!("未知的领域编号“{area_code}”"), format!("unknown area \"{area_code}\""));
        }
        let group = c.opt_text(&r.group);
        let task = c.opt_text(&r.task);
        if let (Some(t), Some(a), Some(span)) = (&task, area, r.task.as_ref().map(|t| t.span()))
            && !a.tasks.iter().any(|x| &x.label == t && x.group == group) {
                c.err(
                    &span,
                    f("task"),
                    format!("领域“{area_code}”中没有任务“{t}”"),
                    format!("area \"{area_code}\" has no task \"{t}\""),
                );
            }
        let lead_units = match &r.lead_units {
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(j, u)| c.unit_ref(u, &format!("indicators[{i}].lead_units[{j}]"), &unit_keys))
                .collect(),
            None => area.map(|a| a.lead_units.clone()).unwrap_or_default(),
        };
        let comparator = Comparator::parse(r.comparator.get_ref());
        if comparator.is_none() {
            c.err(
                &r.comparator.span(),
                f("comparator"),
                format!("未知的比较方式“{}”，应为 >=、>、<=、<、= 或 done", r.comparator.get_ref()),
                format!("unknown comparator \"{}\"; use >=, >, <=, <, = or done", r.comparator.get_ref()),
            );
        }
        let target = match &r.target {
            None => None,
            Some(v) => {
                let text = match v.get_ref() {
                    toml::Value::String(s) => Some(s.trim().to_string()),
                    toml::Value::Integer(n) => Some(n.to_string()),
                    toml::Value::Float(x) => Some(x.to_string()),
                    _ => None,
                };
                match text.as_deref().map(str::parse::<Decimal>) {
                    Some(Ok(d)) => Some(d),
                    _ => {
                        c.err(&v.span(), f("target"), "目标值应为数字，如 \"100\"", "target must be a number such as \"100\"");
                        None
                    }
                }
            }
        };
        if target.is_none() && r.target.is_none() && comparator.is_some_and(|x| x != Comparator::Done) {
            c.err(&ind.span(), f("target"), "缺少目标值", "target is required unless comparator is done");
        }
        let deadline = c.date(&r.deadline, &f("deadline"));
        if deadline.is_some_and(|d| d > campaign.ends_on || d < campaign.starts_on) {
            c.err(
                &r.deadline.span(),
                f("deadline"),
                format!("指标期限不在行动起止日期（{} 至 {}）之内", campaign.starts_on, campaign.ends_on),
                format!("the deadline lies outside the campaign ({} to {})", campaign.starts_on, campaign.ends_on),
            );
        }
        let basis = c.text(&r.basis, &f("basis"));
        indicators.push(PlanIndicator {
            code,
            name,
            area: area_code,
            task,
            group,
            lead_units,
            comparator: comparator.unwrap_or(Comparator::Done),
            target: if comparator == Some(Comparator::Done) { None } else { target },
            unit: c.opt_text(&r.unit),
            deadline: deadline.unwrap_or(campaign.ends_on),
            basis,
        });
    }

    if c.errors.is_empty() {
        Ok(CampaignPlan { format: FORMAT_VERSION, campaign, units, posts, phases, areas, indicators })
    } else {
        c.errors.sort_by_key(|e| e.line);
        Err(c.errors)
    }
}

/// The phase that contains `day`, if any.
pub fn phase_on(phases: &[PlanPhase], day: Date) -> Option<usize> {
    phases.iter().position(|p| p.starts_on <= day && day <= p.ends_on)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn bundled_plan_loads_whole() {
        let plan = parse_plan(BUNDLED_PLAN).unwrap_or_else(|e| panic!("{e:#?}"));
        assert_eq!(plan.campaign.document_number.as_deref(), Some("嘉翔府发〔2020〕7号"));
        assert_eq!(plan.campaign.issued_on, Some(date!(2020 - 08 - 06)));
        assert_eq!((plan.campaign.starts_on, plan.campaign.ends_on), (date!(2020 - 04 - 01), date!(2022 - 12 - 31)));
        assert_eq!(plan.phases.len(), 4);
        assert_eq!(plan.areas.len(), 11);
        let names: Vec<_> = plan.phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["动员部署", "排查整治", "集中攻坚", "巩固提升"]);
        // Targets the plan states in figures.
        let find = |code: &str| plan.indicators.iter().find(|i| i.code == code).unwrap_or_else(|| panic!("{code}"));
        let auto = find("a03-automation-rate");
        assert_eq!((auto.target, auto.deadline), (Some(Decimal::ONE_HUNDRED), date!(2020 - 12 - 31)));
        let staff = find("a01-qualified-inspector-share");
        assert_eq!((staff.comparator, staff.target, staff.deadline), (Comparator::AtLeast, Some(Decimal::from(75)), date!(2022 - 12 - 31)));
        let water = find("a05-waterside-guard-rate");
        assert_eq!((water.target, water.deadline), (Some(Decimal::ONE_HUNDRED), date!(2020 - 09 - 30)));
        assert!(plan.indicators.len() >= 20);
        for a in &plan.areas {
            assert!(!a.lead_units.is_empty() && !a.tasks.is_empty(), "{}", a.code);
        }
        // Today's phase on a day in 2021 is 集中攻坚.
        assert_eq!(phase_on(&plan.phases, date!(2021 - 05 - 01)), Some(2));
    }

    #[test]
    fn export_round_trips() {
        let plan = parse_plan(BUNDLED_PLAN).expect("bundled plan");
        let text = plan.to_toml().expect("serialise");
        let again = parse_plan(&text).unwrap_or_else(|e| panic!("{e:#?}\n{text}"));
        assert_eq!(plan, again);
    }

    #[test]
    fn errors_name_line_and_field() {
        let bad = BUNDLED_PLAN.replacen("lead_units = [\"ajs\"]", "lead_units = [\"ajz\"]", 1);
        let errs = parse_plan(&bad).expect_err("unknown unit");
        let e = &errs[0];
        let expected_line = bad.lines().position(|l| l.contains("\"ajz\"")).map(|p| p + 1);
        assert_eq!(e.line, expected_line);
        assert!(e.field.starts_with("areas[") && e.field.ends_with(".lead_units[0]"), "{}", e.field);
        assert!(e.zh.contains("ajz"));

        let syntax = "format = 1\n[campaign]\ncode = \"x\"\ntitle = \n";
        let errs = parse_plan(syntax).expect_err("syntax");
        assert_eq!(errs[0].line, Some(4));

        let missing = BUNDLED_PLAN.replacen("deadline = 2020-12-31", "deadline = \"明年\"", 1);
        let errs = parse_plan(&missing).expect_err("bad date");
        assert!(errs[0].line.is_some());
    }
}
