//! Circulars (通报): the office's published list of overdue hazards or open
//! warnings, as an official document of the same layout as the
//! 挂牌督办通知书 (GB/T 9704, see [`crate::docx`]).
//!
//! The caller fills in a [`Circular`] from its snapshots — plain text,
//! numbers and dates, nothing from the domain — and [`circular_document`]
//! lays it out: red masthead with the document number, title, addressee,
//! an opening paragraph, 一、基本情况 with figures counted from the items,
//! 二、逾期情况 (or 预警情况) as a table per unit, 三、工作要求, "特此通报。",
//! the stamped signature, the list of items as an attachment (附件) and the
//! colophon. [`render_circular`] writes the docx; equal input gives equal
//! bytes.
//!
//! A circular without items is still a sensible document: 基本情况 says there
//! is nothing to report, and the table and the attachment are left out.
//!
//! The wording of the defaults ([`default_title`], [`default_opening`],
//! [`default_requirements`], [`DEFAULT_CC`]) is ours; the office may edit
//! every one of them before issuing.

use std::collections::BTreeMap;

use time::Date;

use crate::docx::{
    self, Appendix, Block, Closing, Colophon, Column, DocxError, Masthead, OfficialDocument, Seal, Table,
    TableTextSize, chinese_date, chinese_numeral,
};

/// 抄送 when the office does not change it.
pub const DEFAULT_CC: &str = "镇领导";

/// Items more than this many days overdue are counted apart and, by the
/// default requirements, lead to 约谈 and the annual assessment.
pub const LONG_OVERDUE_DAYS: u32 = 30;

/// Above this many units concerned, [`default_addressee`] addresses everyone
/// instead of naming them.
pub const MAX_NAMED_ADDRESSEES: usize = 5;

/// The addressee when more than [`MAX_NAMED_ADDRESSEES`] units are concerned.
pub const GENERAL_ADDRESSEE: &str = "各村、居委会，各有关部门、单位";

/// What a circular reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CircularKind {
    /// Hazards past their rectification deadline (隐患整改逾期情况).
    Overdue,
    /// Open warnings (预警情况).
    Warnings,
}

impl CircularKind {
    /// The words for what is reported, as titles and headings use them:
    /// "隐患整改逾期" or "预警".
    fn subject(self) -> &'static str {
        match self {
            Self::Overdue => "隐患整改逾期",
            Self::Warnings => "预警",
        }
    }

    /// The attachment's title: 逾期隐患清单 or 预警清单.
    pub fn list_title(self) -> &'static str {
        match self {
            Self::Overdue => "逾期隐患清单",
            Self::Warnings => "预警清单",
        }
    }
}

/// One overdue hazard, as it stood when the circular was composed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueItem {
    /// 隐患编号, e.g. "YH2021-000123".
    pub code: String,
    /// 隐患名称.
    pub name: String,
    /// 所在单位: the unit where the hazard is.
    pub unit: String,
    /// 责任单位: the unit responsible for rectifying it; the per-unit table
    /// counts by this one.
    pub responsible_unit: String,
    /// 整改期限.
    pub deadline: Date,
    /// 逾期天数 as of the circular's date.
    pub days_overdue: u32,
    /// A major hazard (重大事故隐患).
    pub major: bool,
    /// Listed for supervision (挂牌督办).
    pub listed: bool,
    /// Further remark, printed after 重大 and 挂牌 in 备注.
    pub remark: Option<String>,
}

/// Warning levels, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WarningLevel {
    /// 红色.
    Red,
    /// 橙色.
    Orange,
    /// 黄色.
    Yellow,
    /// 蓝色.
    Blue,
}

impl WarningLevel {
    /// Every level, most urgent first.
    pub const ALL: [Self; 4] = [Self::Red, Self::Orange, Self::Yellow, Self::Blue];

    /// 红色, 橙色, 黄色 or 蓝色.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Red => "红色",
            Self::Orange => "橙色",
            Self::Yellow => "黄色",
            Self::Blue => "蓝色",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Red => 0,
            Self::Orange => 1,
            Self::Yellow => 2,
            Self::Blue => 3,
        }
    }
}

/// One open warning, as it stood when the circular was composed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarningItem {
    /// 预警事项: the rule's name, e.g. "整改逾期".
    pub rule: String,
    /// 对象: what the warning is about, e.g. "YH2021-000123 消防通道堵塞".
    pub subject: String,
    /// 单位: the unit the warning belongs to; the per-unit table counts by
    /// this one.
    pub unit: String,
    /// 等级.
    pub level: WarningLevel,
    /// 首次发现: the day the warning was first raised.
    pub first_seen: Date,
}

/// The items of a circular; the variant is the circular's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CircularItems {
    /// Overdue hazards.
    Overdue(Vec<OverdueItem>),
    /// Open warnings.
    Warnings(Vec<WarningItem>),
}

impl CircularItems {
    /// The kind of circular these items make.
    pub fn kind(&self) -> CircularKind {
        match self {
            Self::Overdue(_) => CircularKind::Overdue,
            Self::Warnings(_) => CircularKind::Warnings,
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            Self::Overdue(v) => v.len(),
            Self::Warnings(v) => v.len(),
        }
    }

    /// There are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The units concerned — responsible units of overdue hazards, units of
    /// warnings — in the order of the per-unit table: most items first,
    /// then by name.
    pub fn units(&self) -> Vec<String> {
        match self {
            Self::Overdue(v) => overdue_by_unit(v).into_iter().map(|u| u.unit.to_owned()).collect(),
            Self::Warnings(v) => warnings_by_unit(v).into_iter().map(|u| u.unit.to_owned()).collect(),
        }
    }
}

/// A circular to lay out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Circular {
    /// The issuing office (发文机关), e.g. "南翔镇安全生产委员会办公室":
    /// the masthead, the signature and, usually, [`Circular::printer`].
    pub issuer: String,
    /// 发文字号, e.g. "南安办通〔2021〕3号"; `None` for a draft, whose number
    /// is given when it is issued (the number line is left blank).
    pub document_number: Option<String>,
    /// 标题, e.g. from [`default_title`].
    pub title: String,
    /// 主送机关, e.g. from [`default_addressee`].
    pub addressee: String,
    /// The day the figures are counted on (截至…).
    pub as_of: Date,
    /// The opening paragraph; `None` (or blank) for [`default_opening`].
    pub opening: Option<String>,
    /// The hazards or warnings reported, in the order the attachment lists
    /// them.
    pub items: CircularItems,
    /// 工作要求, numbered 1. 2. …; e.g. from [`default_requirements`]. Blank
    /// entries are skipped; when none is left the section is left out.
    pub requirements: Vec<String>,
    /// 抄送, e.g. [`DEFAULT_CC`]; `None` (or blank) prints no 抄送 line.
    pub cc: Option<String>,
    /// 成文日期 and 印发日期.
    pub issued_on: Date,
    /// 印发机关.
    pub printer: String,
}

impl Circular {
    /// The kind of circular, from its items.
    pub fn kind(&self) -> CircularKind {
        self.items.kind()
    }
}

/// The scope word of a title, from the end of the jurisdiction government's
/// name: "南翔镇人民政府" → "全镇", "嘉定区人民政府" → "全区", "菊园新区管委会"
/// → "全区", "新成路街道办事处" → "全街道", "上海市人民政府" → "全市", a 乡 or a
/// 县 → "全乡", "全县"; anything else → "辖区".
pub fn scope_word(government_name: &str) -> &'static str {
    const SUFFIXES: [&str; 5] = ["人民政府", "政府", "办事处", "管理委员会", "管委会"];
    let mut name = government_name.trim();
    // Strip while any matches: a name may end in two of them.
    while let Some(rest) = SUFFIXES.iter().find_map(|s| name.strip_suffix(s)) {
        name = rest.trim_end();
    }
    const SCOPES: [(&str, &str); 6] =
        [("街道", "全街道"), ("镇", "全镇"), ("乡", "全乡"), ("区", "全区"), ("县", "全县"), ("市", "全市")];
    SCOPES.iter().find(|(end, _)| name.ends_with(end)).map_or("辖区", |(_, scope)| scope)
}

/// The default title: "关于全镇隐患整改逾期情况的通报", or for warnings
/// "关于全镇预警情况的通报", the scope word from [`scope_word`].
pub fn default_title(kind: CircularKind, government_name: &str) -> String {
    format!("关于{}{}情况的通报", scope_word(government_name), kind.subject())
}

/// The default opening paragraph, dated `as_of`.
pub fn default_opening(kind: CircularKind, as_of: Date) -> String {
    let date = chinese_date(as_of);
    match kind {
        CircularKind::Overdue => format!(
            "截至{date}，经隐患排查治理信息系统统计，部分单位的事故隐患已超过整改期限仍未整改完毕。为压实隐患整改责任，推动隐患按期闭环销号，现将有关情况通报如下。"
        ),
        CircularKind::Warnings => format!(
            "截至{date}，隐患排查治理信息系统按照预警规则发出的部分预警尚未处置。为督促有关单位及时处置、防范化解安全风险，现将有关情况通报如下。"
        ),
    }
}

/// The three default requirements: rectify (or handle) within 5 working
/// days or apply in writing; lead departments follow up; items more than 30
/// days overdue (or red) lead to 约谈 and the annual assessment.
pub fn default_requirements(kind: CircularKind) -> Vec<String> {
    let v: [&str; 3] = match kind {
        CircularKind::Overdue => [
            "各责任单位要对照附件清单逐项核实，自本通报印发之日起5个工作日内完成整改；确实无法按期完成的，须在上述期限内书面申请延期，说明原因并落实整改期间的安全防范措施。",
            "各牵头部门要对本领域的逾期隐患逐项跟踪督促，掌握整改进度，整改完成后及时组织复查，推动隐患闭环销号。",
            "对逾期超过30天仍未整改的隐患，我办将约谈有关单位负责人，并将整改情况纳入年度安全生产工作考核。",
        ],
        CircularKind::Warnings => [
            "各有关单位要对照附件清单逐条核实，自本通报印发之日起5个工作日内处置完毕；确实无法按期处置的，须在上述期限内书面说明原因和计划完成时间。",
            "各牵头部门要对本领域的预警事项跟踪督促，指导有关单位查找原因、落实措施，防止问题反复出现。",
            "对红色预警事项和发出预警超过30天仍未处置的，我办将约谈有关单位负责人，并将处置情况纳入年度安全生产工作考核。",
        ],
    };
    v.into_iter().map(str::to_owned).collect()
}

/// The default addressee: the units concerned, joined with 、, when there are
/// at most [`MAX_NAMED_ADDRESSEES`] of them (give them as
/// [`CircularItems::units`] does), else [`GENERAL_ADDRESSEE`].
pub fn default_addressee(units: &[String]) -> String {
    if units.is_empty() || units.len() > MAX_NAMED_ADDRESSEES {
        GENERAL_ADDRESSEE.to_owned()
    } else {
        units.join("、")
    }
}

/// Lays out the circular as an official document.
pub fn circular_document(c: &Circular) -> OfficialDocument {
    let kind = c.kind();
    let mut doc = OfficialDocument::new(c.title.clone());
    doc.masthead = Masthead::Red { issuer: c.issuer.clone(), number: c.document_number.clone(), signatory: None };
    doc.addressee = Some(c.addressee.clone());

    let mut sections = Sections::default();
    let opening = c.opening.as_deref().map(str::trim).filter(|o| !o.is_empty());
    let mut body = vec![Block::Paragraph(opening.map_or_else(|| default_opening(kind, c.as_of), str::to_owned))];
    body.push(sections.heading("基本情况"));
    body.push(Block::Paragraph(match &c.items {
        CircularItems::Overdue(v) => overdue_figures(v),
        CircularItems::Warnings(v) => warning_figures(v),
    }));
    if !c.items.is_empty() {
        body.push(sections.heading(match kind {
            CircularKind::Overdue => "逾期情况",
            CircularKind::Warnings => "预警情况",
        }));
        let (intro, table) = match &c.items {
            CircularItems::Overdue(v) => ("逾期隐患按责任单位统计如下（清单见附件）：", overdue_unit_table(v)),
            CircularItems::Warnings(v) => ("预警按单位和等级统计如下（清单见附件）：", warning_unit_table(v)),
        };
        body.push(Block::Paragraph(intro.to_owned()));
        body.push(Block::Table(table));
    }
    let requirements: Vec<String> =
        c.requirements.iter().map(|r| r.trim()).filter(|r| !r.is_empty()).map(str::to_owned).collect();
    if !requirements.is_empty() {
        body.push(sections.heading("工作要求"));
        body.push(Block::Numbered(requirements));
    }
    body.push(Block::Paragraph("特此通报。".to_owned()));
    doc.body = body;

    if !c.items.is_empty() {
        let list = kind.list_title();
        doc.attachments = vec![list.to_owned()];
        let table = match &c.items {
            CircularItems::Overdue(v) => overdue_list(v),
            CircularItems::Warnings(v) => warning_list(v),
        };
        doc.appendices =
            vec![Appendix { label: "附件".to_owned(), title: list.to_owned(), body: vec![Block::Table(table)] }];
    }
    doc.closing = Closing {
        signature_lines: Vec::new(),
        issuer: Some(c.issuer.clone()),
        seal: Seal::Stamped,
        date: Some(c.issued_on),
    };
    let cc = c.cc.as_deref().map(str::trim).filter(|cc| !cc.is_empty()).map(str::to_owned);
    doc.colophon = Some(Colophon { cc, printed_by: c.printer.clone(), printed_on: c.issued_on });
    doc
}

/// Lays out and renders the circular as the bytes of a `.docx` file.
///
/// # Errors
///
/// As [`docx::render`]: a blank title, or a failure of the zip writer.
pub fn render_circular(c: &Circular) -> Result<Vec<u8>, DocxError> {
    docx::render(&circular_document(c))
}

/// Numbers the level-1 headings 一、二、… as they are added, so that a left
/// out section leaves no gap.
#[derive(Default)]
struct Sections(u32);

impl Sections {
    fn heading(&mut self, words: &str) -> Block {
        self.0 += 1;
        Block::Heading1(format!("{}、{words}", chinese_numeral(self.0)))
    }
}

/// One row of the overdue table.
struct UnitOverdue<'a> {
    unit: &'a str,
    count: usize,
    major: usize,
    longest: u32,
}

fn overdue_by_unit(items: &[OverdueItem]) -> Vec<UnitOverdue<'_>> {
    let mut by_unit: BTreeMap<&str, UnitOverdue<'_>> = BTreeMap::new();
    for i in items {
        let u = by_unit.entry(i.responsible_unit.as_str()).or_insert(UnitOverdue {
            unit: &i.responsible_unit,
            count: 0,
            major: 0,
            longest: 0,
        });
        u.count += 1;
        u.major += usize::from(i.major);
        u.longest = u.longest.max(i.days_overdue);
    }
    let mut rows: Vec<_> = by_unit.into_values().collect();
    // Stable over the map's name order: equal counts stay sorted by name.
    rows.sort_by_key(|u| std::cmp::Reverse(u.count));
    rows
}

/// One row of the warnings table.
struct UnitWarnings<'a> {
    unit: &'a str,
    count: usize,
    by_level: [usize; 4],
}

fn warnings_by_unit(items: &[WarningItem]) -> Vec<UnitWarnings<'_>> {
    let mut by_unit: BTreeMap<&str, UnitWarnings<'_>> = BTreeMap::new();
    for i in items {
        let u = by_unit.entry(i.unit.as_str()).or_insert(UnitWarnings { unit: &i.unit, count: 0, by_level: [0; 4] });
        u.count += 1;
        if let Some(n) = u.by_level.get_mut(i.level.index()) {
            *n += 1;
        }
    }
    let mut rows: Vec<_> = by_unit.into_values().collect();
    rows.sort_by_key(|u| std::cmp::Reverse(u.count));
    rows
}

fn distinct<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    let mut v: Vec<&str> = names.collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

fn overdue_figures(items: &[OverdueItem]) -> String {
    if items.is_empty() {
        return "本次通报范围内没有逾期未整改的事故隐患。".to_owned();
    }
    let count = |f: fn(&OverdueItem) -> bool| items.iter().filter(|i| f(i)).count();
    format!(
        "本次通报逾期未整改的事故隐患{}项，其中重大事故隐患{}项，挂牌督办隐患{}项，逾期超过{LONG_OVERDUE_DAYS}天的{}项；分布在{}家单位，涉及责任单位{}个。",
        items.len(),
        count(|i| i.major),
        count(|i| i.listed),
        count(|i| i.days_overdue > LONG_OVERDUE_DAYS),
        distinct(items.iter().map(|i| i.unit.as_str())),
        distinct(items.iter().map(|i| i.responsible_unit.as_str())),
    )
}

fn warning_figures(items: &[WarningItem]) -> String {
    if items.is_empty() {
        return "本次通报范围内没有尚未处置的预警。".to_owned();
    }
    let levels: Vec<String> = WarningLevel::ALL
        .iter()
        .map(|l| format!("{}预警{}条", l.label_zh(), items.iter().filter(|i| i.level == *l).count()))
        .collect();
    format!(
        "本次通报尚未处置的预警{}条，其中{}；涉及单位{}个。",
        items.len(),
        levels.join("、"),
        distinct(items.iter().map(|i| i.unit.as_str())),
    )
}

fn overdue_unit_table(items: &[OverdueItem]) -> Table {
    let rows = overdue_by_unit(items);
    let total = [
        String::new(),
        "合计".to_owned(),
        items.len().to_string(),
        items.iter().filter(|i| i.major).count().to_string(),
        items.iter().map(|i| i.days_overdue).max().unwrap_or(0).to_string(),
    ];
    Table {
        columns: vec![
            Column::new("序号", 3).centered(),
            Column::new("责任单位", 11),
            Column::new("逾期隐患数", 6).centered(),
            Column::new("其中重大", 5).centered(),
            Column::new("最长逾期天数", 7).centered(),
        ],
        rows: rows
            .iter()
            .enumerate()
            .map(|(n, u)| {
                vec![
                    (n + 1).to_string(),
                    u.unit.to_owned(),
                    u.count.to_string(),
                    u.major.to_string(),
                    u.longest.to_string(),
                ]
            })
            .chain(std::iter::once(total.into()))
            .collect(),
        size: TableTextSize::Standard,
    }
}

fn warning_unit_table(items: &[WarningItem]) -> Table {
    let rows = warnings_by_unit(items);
    let mut columns =
        vec![Column::new("序号", 3).centered(), Column::new("单位", 12), Column::new("预警数", 4).centered()];
    columns.extend(WarningLevel::ALL.iter().map(|l| Column::new(l.label_zh(), 3).centered()));
    let mut total = vec![String::new(), "合计".to_owned(), items.len().to_string()];
    total.extend(WarningLevel::ALL.iter().map(|l| items.iter().filter(|i| i.level == *l).count().to_string()));
    Table {
        columns,
        rows: rows
            .iter()
            .enumerate()
            .map(|(n, u)| {
                let mut row = vec![(n + 1).to_string(), u.unit.to_owned(), u.count.to_string()];
                row.extend(u.by_level.iter().map(usize::to_string));
                row
            })
            .chain(std::iter::once(total))
            .collect(),
        size: TableTextSize::Standard,
    }
}

/// 重大、挂牌 and the remark, for 备注.
fn remark(i: &OverdueItem) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if i.major {
        parts.push("重大");
    }
    if i.listed {
        parts.push("挂牌");
    }
    if let Some(r) = i.remark.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        parts.push(r);
    }
    parts.join("、")
}

/// A date in a list: "2021-05-10", short enough for a narrow column.
fn list_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// 所在单位／责任单位, one name when they are the same.
fn units_cell(i: &OverdueItem) -> String {
    if i.unit == i.responsible_unit { i.unit.clone() } else { format!("{}／{}", i.unit, i.responsible_unit) }
}

fn overdue_list(items: &[OverdueItem]) -> Table {
    Table {
        columns: vec![
            Column::new("序号", 26).centered(),
            Column::new("隐患编号", 88).centered(),
            Column::new("隐患名称", 62),
            Column::new("所在单位／责任单位", 62),
            Column::new("整改期限", 64).centered(),
            Column::new("逾期天数", 28).centered(),
            Column::new("备注", 40),
        ],
        rows: items
            .iter()
            .enumerate()
            .map(|(n, i)| {
                vec![
                    (n + 1).to_string(),
                    i.code.clone(),
                    i.name.clone(),
                    units_cell(i),
                    list_date(i.deadline),
                    i.days_overdue.to_string(),
                    remark(i),
                ]
            })
            .collect(),
        size: TableTextSize::Small,
    }
}

fn warning_list(items: &[WarningItem]) -> Table {
    Table {
        columns: vec![
            Column::new("序号", 3).centered(),
            Column::new("预警事项", 8),
            Column::new("对象", 12),
            Column::new("单位", 10),
            Column::new("等级", 4).centered(),
            Column::new("首次发现", 7).centered(),
        ],
        rows: items
            .iter()
            .enumerate()
            .map(|(n, i)| {
                vec![
                    (n + 1).to_string(),
                    i.rule.clone(),
                    i.subject.clone(),
                    i.unit.clone(),
                    i.level.label_zh().to_owned(),
                    list_date(i.first_seen),
                ]
            })
            .collect(),
        size: TableTextSize::Small,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_word_comes_from_the_end_of_the_name() {
        for (name, scope) in [
            ("南翔镇人民政府", "全镇"),
            ("南翔镇", "全镇"),
            ("南翔镇政府", "全镇"),
            ("嘉定区人民政府", "全区"),
            ("菊园新区管委会", "全区"),
            ("新成路街道办事处", "全街道"),
            ("新成路街道", "全街道"),
            ("上海市人民政府", "全市"),
            ("某某乡人民政府", "全乡"),
            ("某某县人民政府", "全县"),
            ("嘉定工业区管理委员会", "全区"),
            ("安全生产委员会", "辖区"),
            ("", "辖区"),
        ] {
            assert_eq!(scope_word(name), scope, "{name}");
        }
        assert_eq!(default_title(CircularKind::Overdue, "南翔镇人民政府"), "关于全镇隐患整改逾期情况的通报");
        assert_eq!(default_title(CircularKind::Warnings, "嘉定区人民政府"), "关于全区预警情况的通报");
    }

    #[test]
    fn addressee_names_up_to_five_units() {
        let units: Vec<String> = (1..=5).map(|n| format!("单位{n}")).collect();
        assert_eq!(default_addressee(&units), "单位1、单位2、单位3、单位4、单位5");
        let six: Vec<String> = (1..=6).map(|n| format!("单位{n}")).collect();
        assert_eq!(default_addressee(&six), GENERAL_ADDRESSEE);
        assert_eq!(default_addressee(&[]), GENERAL_ADDRESSEE);
    }
}
