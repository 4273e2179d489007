//! Hazard ledgers (台账) the way offices keep them: export as xlsx (the list
//! and its timeline) or CSV, streamed page by page; import of an office's own
//! spreadsheet, tolerant of its layout, with a dry run that says row by row
//! what is wrong and re-imports that create no duplicates; and the national
//! 双重预防 interface record (DOMAIN.md §2.4) for reporting upward.

use crate::hazards::hazard_scope;
use crate::{Caller, Ctx, NONE, Result, Service};
use bihuan_domain::calendar::DeadlineRule;
use bihuan_domain::clock::SHANGHAI;
use bihuan_domain::hazard::{self as hz, *};
use bihuan_domain::ids::*;
use bihuan_domain::permission::Decision;
use bihuan_domain::role::Role;
use bihuan_domain::{DomainError, ErrorCode, FieldError};
use bihuan_reports::{Cell, Column, ColumnSpec, CsvLedger, ImportRow, LedgerError, SheetSpec, XlsxLedger, normalize_text};
use bihuan_store::hazards::{self as store, HazardFilter, LedgerPage, LedgerUnit, UnitCache};
use bihuan_store::{Tx, campaigns, units, users};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

/// Hazards read from the database per page of an export: large pages, few
/// statements (each page costs the same four or five whatever its size);
/// 5,000 hazards and their ~25,000 events take a few tens of MB at most.
pub const EXPORT_BATCH: i64 = 5000;

// ------------------------------------------------------------------ export

/// The file format of a ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LedgerFormat {
    /// Excel workbook: the list and, on a second sheet, the timeline.
    Xlsx,
    /// CSV (UTF-8 with BOM): the list only.
    Csv,
}

impl LedgerFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "xlsx" | "excel" => Some(LedgerFormat::Xlsx),
            "csv" => Some(LedgerFormat::Csv),
            _ => None,
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            LedgerFormat::Xlsx => "xlsx",
            LedgerFormat::Csv => "csv",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            LedgerFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            LedgerFormat::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// What an export wrote.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportSummary {
    /// A file name to offer, e.g. `问题隐患清单-2021-05-06.xlsx`.
    pub file_name: String,
    pub content_type: String,
    /// Rows of the list.
    pub hazards: u64,
    /// Rows of the timeline sheet (0 for CSV).
    pub events: u64,
}

/// Headers of the list sheet, in order (also the CSV header).
pub const LEDGER_HEADERS: [&str; 25] = [
    "序号",
    "隐患编号",
    "所在单位",
    "统一社会信用代码",
    "所属领域",
    "隐患名称",
    "隐患描述",
    "隐患位置",
    "隐患类别",
    "隐患等级",
    "治理类型",
    "发现途径",
    "发现时间",
    "发现人",
    "整改措施",
    "整改资金（万元）",
    "整改责任单位",
    "整改责任人",
    "整改期限",
    "状态",
    "逾期天数",
    "挂牌督办",
    "整改情况",
    "验收人",
    "销号时间",
];

const LEDGER_WIDTHS: [f64; 25] = [
    6.0, 16.0, 28.0, 22.0, 16.0, 30.0, 44.0, 20.0, 10.0, 10.0, 10.0, 10.0, 17.0, 10.0, 36.0, 10.0, 24.0, 10.0, 12.0, 10.0, 8.0,
    22.0, 36.0, 10.0, 17.0,
];

const TIMELINE_HEADERS: [&str; 7] = ["隐患编号", "序号", "时间", "操作", "操作人", "状态变化", "说明"];
const TIMELINE_WIDTHS: [f64; 7] = [16.0, 6.0, 17.0, 14.0, 14.0, 20.0, 50.0];

fn columns(headers: &[&str], widths: &[f64]) -> Vec<Column> {
    headers.iter().zip(widths).map(|(h, w)| Column::new(*h, *w)).collect()
}

fn ledger_error(e: LedgerError) -> DomainError {
    tracing::error!(error = %e, code = e.code(), "ledger export failed");
    DomainError::new(ErrorCode::Internal, e.zh(), e.en())
}

/// A moment as Beijing wall-clock time.
fn beijing(t: OffsetDateTime) -> PrimitiveDateTime {
    let l = t.to_offset(SHANGHAI);
    PrimitiveDateTime::new(l.date(), l.time())
}

fn start_of_day(d: Date) -> OffsetDateTime {
    d.with_hms(0, 0, 0).map(|t| t.assume_offset(SHANGHAI)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

enum Sink<W: Write + Send> {
    Xlsx { book: Box<XlsxLedger<W>>, list: usize, timeline: usize },
    Csv(Box<CsvLedger<W>>),
}

impl<W: Write + Send> Sink<W> {
    fn list(&mut self, cells: &[Cell]) -> Result<(), LedgerError> {
        match self {
            Sink::Xlsx { book, list, .. } => book.append(*list, cells),
            Sink::Csv(c) => c.append(cells),
        }
    }
    fn timeline(&mut self, cells: &[Cell]) -> Result<(), LedgerError> {
        match self {
            Sink::Xlsx { book, timeline, .. } => book.append(*timeline, cells),
            Sink::Csv(_) => Ok(()),
        }
    }
    fn finish(self) -> Result<(), LedgerError> {
        match self {
            Sink::Xlsx { book, .. } => (*book).finish().map(drop),
            Sink::Csv(c) => (*c).finish().map(drop),
        }
    }
}

/// One row of the list sheet.
fn ledger_row(n: i64, h: &Hazard, credit_code: Option<&String>, area: Option<&String>, today: Date) -> Vec<Cell> {
    let listing = h.listing.as_ref().map(|l| match l.lifted_on {
        None => l.document_number.clone(),
        Some(_) => format!("{}（已摘牌）", l.document_number),
    });
    vec![
        Cell::Int(n),
        Cell::from(h.code.as_str()),
        Cell::from(h.unit.name.as_str()),
        Cell::from(credit_code.cloned()),
        Cell::from(area.cloned()),
        Cell::from(h.name.as_str()),
        Cell::from(h.description.as_str()),
        Cell::from(h.location.clone()),
        Cell::from(h.hazard_type.label_zh()),
        Cell::from(h.level.label_zh()),
        Cell::from(h.manage_type.label_zh()),
        Cell::from(h.source.label_zh()),
        Cell::DateTime(beijing(h.found_at)),
        Cell::from(h.found_by.as_str()),
        Cell::from(h.measures.clone()),
        Cell::from(h.funds),
        Cell::from(h.responsible_unit.as_ref().map(|u| u.name.clone())),
        Cell::from(h.responsible_person.clone()),
        Cell::from(h.deadline),
        Cell::from(h.state.label_zh()),
        if h.deadline.is_some() { Cell::Int(h.days_overdue(today)) } else { Cell::Empty },
        Cell::from(listing),
        Cell::from(h.rectification.clone()),
        Cell::from(h.accepted_by.clone()),
        Cell::from(h.closed_at.map(beijing)),
    ]
}

/// The timeline's name for an event's action.
pub fn event_label(action: &str) -> &str {
    match action {
        "create" => "发现登记",
        "import" => "台账导入",
        "edit" => "修改",
        other => HazardOp::parse(other).map(HazardOp::label_zh).unwrap_or(other),
    }
}

/// 说明: the comment and the details that matter to an office.
fn event_note(e: &HazardEvent) -> String {
    let mut parts: Vec<String> = e.comment.iter().cloned().collect();
    let get = |k: &str| e.data.get(k).and_then(|v| v.as_str()).map(str::to_string);
    if let Some(p) = get("responsible_person") {
        parts.push(format!("整改责任人：{p}"));
    }
    if let Some(d) = get("deadline") {
        parts.push(format!("整改期限：{d}"));
    }
    if let Some(d) = get("requested_deadline") {
        parts.push(format!("申请延期至：{d}"));
    }
    if let Some(d) = get("document_number") {
        parts.push(format!("督办文号：{d}"));
    }
    if let Some(d) = get("listing_lifted") {
        parts.push(format!("摘牌：{d}"));
    }
    if let Some(f) = get("file") {
        parts.push(format!("导入自：{f}"));
    }
    parts.join("；")
}

fn timeline_row(code: &str, e: &HazardEvent) -> Vec<Cell> {
    let change = match e.from_state {
        Some(f) if f == e.to_state => String::new(),
        Some(f) => format!("{} → {}", f.label_zh(), e.to_state.label_zh()),
        None => format!("— → {}", e.to_state.label_zh()),
    };
    vec![
        Cell::from(code),
        Cell::Int(i64::from(e.seq)),
        Cell::DateTime(beijing(e.at)),
        Cell::from(event_label(&e.action)),
        Cell::from(e.actor_name.as_str()),
        Cell::from(change),
        Cell::from(event_note(e)),
    ]
}

impl Service {
    /// Writes the ledger of the hazards the caller may see that match
    /// `filter` to `out`, reading them in pages of [`EXPORT_BATCH`] (see
    /// `Settings::export_page_size`) inside
    /// one read transaction: memory stays flat whatever the number of rows.
    /// `filter.sort`, `after` and `limit` are ignored (rows come in
    /// registration order). Pass `&mut Vec<u8>`, a file or any writer.
    pub async fn export_hazard_ledger<W: Write + Send>(
        &self,
        ctx: &Ctx,
        filter: &HazardFilter,
        format: LedgerFormat,
        out: W,
    ) -> Result<ExportSummary> {
        let scope = hazard_scope(ctx);
        let today = self.today();
        let mut sink = match format {
            LedgerFormat::Xlsx => {
                let mut book = Box::new(XlsxLedger::new(out));
                let list = book
                    .add_sheet(
                        &SheetSpec::new("问题隐患清单", columns(&LEDGER_HEADERS, &LEDGER_WIDTHS))
                            .with_title(format!("问题隐患清单（导出于{today}）")),
                    )
                    .map_err(ledger_error)?;
                let timeline =
                    book.add_sheet(&SheetSpec::new("整改过程", columns(&TIMELINE_HEADERS, &TIMELINE_WIDTHS))).map_err(ledger_error)?;
                Sink::Xlsx { book, list, timeline }
            }
            LedgerFormat::Csv => Sink::Csv(Box::new(CsvLedger::new(out, &columns(&LEDGER_HEADERS, &LEDGER_WIDTHS)).map_err(ledger_error)?)),
        };
        let mut tx = self.db.read().await?;
        let areas = campaigns::area_names(&mut tx).await?;
        let with_timeline = format == LedgerFormat::Xlsx;
        let batch = self.settings.export_page_size.max(1);
        // Pages are read by a task of their own while this one writes the
        // previous page: the queries (on the driver's threads) and the
        // writing (here) overlap. One read transaction, so one snapshot.
        let (pages, mut received) = tokio::sync::mpsc::channel::<Result<(LedgerPage, Vec<Option<String>>)>>(2);
        let (scope, filter) = (scope.clone(), filter.clone());
        let reader = tokio::spawn(async move {
            let mut units = UnitCache::default();
            let mut after = 0i64;
            loop {
                let page = match store::ledger_page(&mut tx, &scope, &filter, today, after, batch, with_timeline, &mut units).await {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = pages.send(Err(e.into())).await;
                        return;
                    }
                };
                let Some(last) = page.hazards.last() else { break };
                after = last.num;
                let full = page.hazards.len() as i64 >= batch;
                let codes = page.hazards.iter().map(|h| units.credit_code(h.unit.id).cloned()).collect();
                if pages.send(Ok((page, codes))).await.is_err() {
                    return; // the writer gave up
                }
                if !full {
                    break;
                }
            }
            if let Err(e) = tx.commit().await {
                let _ = pages.send(Err(e.into())).await;
            }
        });
        let (mut n, mut events) = (0i64, 0u64);
        while let Some(next) = received.recv().await {
            let (page, codes) = next?;
            let mut timeline: HashMap<HazardId, Vec<HazardEvent>> = HashMap::new();
            for e in page.events {
                timeline.entry(e.hazard_id).or_default().push(e);
            }
            for (h, code) in page.hazards.iter().zip(&codes) {
                n += 1;
                let area = h.area_id.and_then(|a| areas.get(&a));
                sink.list(&ledger_row(n, h, code.as_ref(), area, today)).map_err(ledger_error)?;
                for e in timeline.remove(&h.id).unwrap_or_default() {
                    sink.timeline(&timeline_row(&h.code, &e)).map_err(ledger_error)?;
                    events += 1;
                }
            }
        }
        reader.await.map_err(|e| {
            tracing::error!(error = %e, "export: the page reader failed");
            DomainError::new(bihuan_domain::ErrorCode::Internal, "导出中断，请重试", "The export was interrupted; please try again")
        })?;
        sink.finish().map_err(ledger_error)?;
        Ok(ExportSummary {
            file_name: format!("问题隐患清单-{today}.{}", format.extension()),
            content_type: format.content_type().to_string(),
            hazards: u64::try_from(n).unwrap_or(0),
            events,
        })
    }
}

// ------------------------------------------------------------------ import

/// What an import does with the rows it finds valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ImportMode {
    /// Check every row and write nothing.
    DryRun,
    /// Create every valid row (in one transaction); report the others.
    ApplyValid,
    /// Create every row, or none if any row is invalid.
    AllOrNothing,
}

impl ImportMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "dry_run" => Some(ImportMode::DryRun),
            "apply_valid" => Some(ImportMode::ApplyValid),
            "all_or_nothing" => Some(ImportMode::AllOrNothing),
            _ => None,
        }
    }
}

/// What became of one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RowStatus {
    /// Valid and new; not written (dry run, or all-or-nothing with errors elsewhere).
    Valid,
    /// Written as a new hazard.
    Created,
    /// The hazard is already in the system (`code` names it).
    AlreadyImported,
    /// Not written: see `errors`.
    Invalid,
    /// A row with nothing in the columns read (e.g. a footer 填表人：…).
    Skipped,
}

/// A problem (or a remark) about one cell of a row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowProblem {
    /// The column's header as written in the file (or the expected header
    /// when the column is missing); empty for the row as a whole.
    pub column: String,
    /// The field of the hazard (`name`, `found_on`, `unit` …).
    pub field: String,
    pub zh: String,
    pub en: String,
}

/// The report on one row.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportRowReport {
    /// Row number as Excel shows it.
    pub line: u32,
    pub status: RowStatus,
    /// The hazard created, or the one already there.
    pub code: Option<String>,
    pub name: Option<String>,
    pub unit: Option<String>,
    /// The state the hazard comes in with.
    pub state: Option<HazardState>,
    pub errors: Vec<RowProblem>,
    /// Things done on the row's behalf (defaults, placeholders).
    pub warnings: Vec<RowProblem>,
}

/// The outcome of an import.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub file_name: String,
    pub sheet: String,
    /// Row of the header, as Excel shows it.
    pub header_row: u32,
    pub mode: ImportMode,
    /// Whether anything was written.
    pub applied: bool,
    /// Headers recognised, left to right.
    pub columns: Vec<String>,
    /// Headers not used.
    pub unknown_headers: Vec<String>,
    pub total: usize,
    pub valid: usize,
    pub created: usize,
    pub already_imported: usize,
    pub invalid: usize,
    pub skipped: usize,
    pub message_zh: String,
    pub message_en: String,
    pub rows: Vec<ImportRowReport>,
}

macro_rules! spec {
    ($key:literal, $required:literal, [$($alias:literal),+ $(,)?]) => {
        ColumnSpec { key: $key, aliases: &[$($alias),+], required: $required }
    };
}

/// The columns an import reads, with the names offices give them.
pub const IMPORT_COLUMNS: &[ColumnSpec] = &[
    // Read only to recognise footer and summary rows (合计 in the 序号 column).
    spec!("seq", false, ["序号"]),
    spec!("unit", true, ["所在单位", "单位名称", "企业名称", "隐患单位", "被检查单位", "检查对象", "单位", "企业"]),
    spec!("credit_code", false, ["统一社会信用代码", "社会信用代码", "信用代码"]),
    spec!("code", false, ["隐患编号", "编号"]),
    spec!("name", true, ["隐患名称", "问题隐患", "存在问题", "问题隐患名称", "隐患内容", "隐患问题", "存在的问题", "问题"]),
    spec!("description", false, ["隐患描述", "问题描述", "具体情况", "隐患情况", "隐患具体情况", "情况描述", "描述"]),
    spec!("location", false, ["隐患位置", "隐患部位", "所在位置", "具体位置", "部位", "位置"]),
    spec!("latitude", false, ["纬度", "北纬"]),
    spec!("longitude", false, ["经度", "东经"]),
    spec!("hazard_type", false, ["隐患类别", "隐患类型", "类别", "类型"]),
    spec!("level", false, ["隐患等级", "隐患级别", "等级", "级别"]),
    spec!("manage_type", false, ["治理类型", "整改类型", "整改方式", "治理方式"]),
    spec!("source", false, ["发现途径", "隐患来源", "来源"]),
    spec!("check_kind", false, ["排查类型", "检查类型", "排查方式"]),
    spec!("found_on", false, ["发现时间", "发现日期", "检查日期", "检查时间", "排查时间", "排查日期", "登记日期", "登记时间"]),
    spec!("found_by", false, ["发现人", "检查人", "检查人员", "排查人", "登记人"]),
    spec!("cause", false, ["原因分析", "产生原因", "隐患原因"]),
    spec!("measures", false, ["整改措施", "治理措施", "整改方案"]),
    spec!("funds", false, ["整改资金", "资金", "投入资金", "整改投入"]),
    spec!("contingency", false, ["应急预案", "防范措施", "临时防范措施", "应急措施"]),
    spec!("responsible_unit", false, ["整改责任单位", "责任单位"]),
    spec!("responsible_person", false, ["整改责任人", "责任人", "整改负责人"]),
    spec!("responsible_phone", false, ["联系电话", "责任人电话", "联系方式"]),
    spec!("deadline", false, ["整改期限", "整改时限", "完成时限", "要求完成时间", "计划完成时间", "整改截止日期", "整改期限日期"]),
    spec!("state", false, ["状态", "整改状态", "隐患状态", "整改进度", "是否整改", "是否完成"]),
    spec!("rectification", false, ["整改情况", "整改完成情况", "整改结果", "完成情况"]),
    spec!("accepted_by", false, ["验收人", "复查人", "验收人员"]),
    // When the hazard was accepted and closed (销号) …
    spec!("closed_on", false, ["销号时间", "销号日期", "验收时间", "验收日期", "验收销号时间", "验收销号日期"]),
    // … and when the rectification was done (handed in for acceptance).
    spec!("completed_on", false, ["整改完成时间", "整改完成日期", "完成时间", "完成日期", "实际完成时间", "实际完成日期"]),
];

/// Words that open a summary row (合计：12 项) or a footer line (制表人：张三,
/// 填表说明：…, 备注：…) when followed by nothing, punctuation or a digit.
const FOOTER_WORDS: &[&str] = &[
    "合计", "总计", "小计", "共计", "累计", "汇总", "制表人", "制表", "填表人", "填报人", "审核人", "审核", "审批人", "复核人",
    "负责人", "单位负责人", "主要负责人", "分管领导", "统计人", "经办人", "联系人", "联系电话", "填表说明", "填报说明", "说明",
    "备注", "注", "填表日期", "填报日期", "制表日期", "报送日期",
];

/// Whether a cell's text is a footer or summary word, such as `合计`,
/// `合 计：12项`, `制表人：张三` or `注：1、…` (not `注意事项` nor `备注栏未填写`).
fn is_footer_text(text: &str) -> bool {
    let t = loose(text);
    FOOTER_WORDS.iter().any(|w| t.strip_prefix(w).is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphabetic())))
}

/// Columns that say what a row is about; a row with none of them filled
/// (only a 序号, a unit merged down over it, a credit code) holds no hazard.
const NON_CONTENT_COLUMNS: [&str; 3] = ["seq", "unit", "credit_code"];

/// Why a row is a footer, a summary or a blank row rather than a hazard, as
/// (zh, en); `None` for an ordinary row.
fn footer_row(row: &ImportRow) -> Option<(String, String)> {
    let short = |t: &str| -> String {
        let mut s: String = t.chars().take(20).collect();
        if t.chars().count() > 20 {
            s.push('…');
        }
        s
    };
    // 合计 / 制表人 in the columns that name the row, or anywhere when the row names no hazard.
    let named = row.get("name").is_some_and(|n| !is_footer_text(n));
    let footer = row
        .values
        .iter()
        .find(|(k, v)| (!named || ["seq", "unit", "credit_code", "code", "name"].contains(*k)) && is_footer_text(v));
    if let Some((_, text)) = footer {
        let text = short(text);
        return Some((format!("表尾/合计行“{text}”，已跳过（不计为错误）"), format!("Skipped: footer/summary row (\"{text}\"); not an error")));
    }
    if row.values.keys().all(|k| NON_CONTENT_COLUMNS.contains(k)) {
        return Some((
            "空行：只有序号或单位、没有隐患内容（如表尾、备注所在的行），已跳过（不计为错误）".into(),
            "Skipped: footer/summary row (nothing but a sequence number or a unit: no hazard in it); not an error".into(),
        ));
    }
    None
}

/// Audit entries of an import written per statement batch.
const IMPORT_AUDIT_BATCH: usize = 1000;

/// Placeholder written where a closed hazard's ledger lacks a required fact.
pub const IMPORT_PLACEHOLDER: &str = "台账导入";

/// Text compared loosely: half-width, no whitespace, ASCII lower-case.
fn loose(s: &str) -> String {
    normalize_text(s).chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_lowercase()).collect()
}

/// The stable key of an imported row: its unit and what it says.
pub fn import_key(unit: UnitId, name: &str, found_on: Option<Date>, description: &str) -> String {
    let mut h = Sha256::new();
    for part in [unit.0.simple().to_string(), loose(name), found_on.map(|d| d.to_string()).unwrap_or_default(), loose(description)] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    format!("v1:{}", hex::encode(h.finalize()))
}

/// The state a ledger writes in words (状态 / 整改情况 / 是否整改).
pub fn parse_ledger_state(s: &str) -> Option<HazardState> {
    let t = loose(s);
    if t.is_empty() {
        return None;
    }
    if let Some(st) = HazardState::parse(&t) {
        return Some(st);
    }
    let any = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if any(&["撤销", "不构成"]) {
        Some(HazardState::Dismissed)
    } else if any(&["未整改", "未完成", "未销号", "整改中", "正在整改", "逾期", "未按期"]) || t == "否" {
        Some(HazardState::Rectifying)
    } else if any(&["待验收", "已提交", "待复查", "待核查"]) {
        Some(HazardState::Submitted)
    } else if any(&["待交办", "未交办", "新登记", "已登记"]) {
        Some(HazardState::Reported)
    } else if any(&["已交办"]) {
        Some(HazardState::Assigned)
    } else if any(&["销号", "已整改", "已完成", "完成整改", "整改完成", "已验收", "验收合格", "闭环", "整改完毕", "已关闭"]) || t == "是" || t == "完成"
    {
        Some(HazardState::Closed)
    } else {
        None
    }
}

fn map_level(s: &str) -> String {
    let t = loose(s);
    if t.contains("重大") {
        "major".into()
    } else if t.contains("一般") || t.contains("较小") {
        "general".into()
    } else {
        s.to_string()
    }
}

/// 隐患类别: the label itself, or the first label the text contains ("电气安全" → 电气).
fn map_hazard_type(s: &str) -> Option<HazardType> {
    let t = loose(s);
    HazardType::parse(&t).or_else(|| {
        HazardType::ALL
            .iter()
            .copied()
            .filter(|v| *v != HazardType::Safety && *v != HazardType::Other)
            .chain([HazardType::Safety, HazardType::Other])
            .find(|v| t.contains(v.label_zh()))
    })
}

fn map_manage_type(s: &str) -> String {
    let t = loose(s);
    if ["即查即改", "立即整改", "当场整改", "现场整改", "立行立改"].iter().any(|w| t.contains(w)) {
        "immediate".into()
    } else if t.contains("限期") {
        "deadline".into()
    } else {
        s.to_string()
    }
}

fn map_source(s: &str) -> Option<HazardSource> {
    let t = loose(s);
    HazardSource::parse(&t).or_else(|| {
        let table: [(&[&str], HazardSource); 6] = [
            (&["自查", "自检"], HazardSource::SelfInspection),
            (&["暗查", "暗访"], HazardSource::Unannounced),
            (&["举报", "投诉"], HazardSource::PublicReport),
            (&["交办"], HazardSource::Assigned),
            (&["移交", "转办"], HazardSource::Transferred),
            (&["检查", "督查", "执法"], HazardSource::Inspection),
        ];
        table.iter().find(|(words, _)| words.iter().any(|w| t.contains(w))).map(|(_, v)| *v)
    })
}

fn map_check_kind(s: &str) -> Option<CheckKind> {
    let t = loose(s);
    CheckKind::parse(&t).or_else(|| CheckKind::ALL.iter().copied().find(|v| t.contains(v.label_zh()) || v.label_zh().contains(t.as_str())))
}

/// Columns found in the file: key → header as written.
struct Headers(HashMap<&'static str, String>);

impl Headers {
    fn of(&self, field: &str) -> String {
        let key = match field {
            "unit_id" => "unit",
            f => f,
        };
        self.0
            .get(key)
            .cloned()
            .or_else(|| IMPORT_COLUMNS.iter().find(|c| c.key == key).and_then(|c| c.aliases.first()).map(|a| a.to_string()))
            .unwrap_or_default()
    }

    fn problem(&self, e: FieldError) -> RowProblem {
        let column = self.of(&e.field);
        let (zh, en) = if column.is_empty() {
            (e.zh, e.en)
        } else {
            (format!("“{column}”列：{}", e.zh), format!("Column \"{column}\": {}", e.en))
        };
        RowProblem { column, field: e.field, zh, en }
    }
}

/// A valid row, ready to be written.
struct Planned {
    hazard: Hazard,
    key: String,
}

/// A row as checked.
struct Checked {
    report: ImportRowReport,
    planned: Option<Planned>,
    /// The earlier row of the file that describes the same hazard.
    same_as_line: Option<u32>,
}

/// What the import knows about its caller and the database.
struct ImportCtx<'a> {
    ctx: &'a Ctx,
    today: Date,
    now: OffsetDateTime,
    /// The importer's unit (the finder and assigner of imported hazards).
    actor_unit: Option<UnitRef>,
    actor_name: String,
    /// Units the caller may register hazards at, by loose name, short name and credit code.
    by_name: HashMap<String, Vec<LedgerUnit>>,
    by_short: HashMap<String, Vec<LedgerUnit>>,
    by_code: HashMap<String, LedgerUnit>,
    /// Hazards already here, by code (visible to the caller) and by import key.
    existing_codes: HashSet<String>,
    existing_keys: HashMap<String, String>,
}

fn credit_key(s: &str) -> String {
    loose(s).to_ascii_uppercase()
}

/// The bracket forms a stored name may use for a name read from a file
/// (the reader turns full-width brackets into ASCII).
fn name_variants(n: &str) -> [String; 2] {
    [n.to_string(), n.replace('(', "（").replace(')', "）")]
}

impl ImportCtx<'_> {
    fn may_report(&self, u: &LedgerUnit) -> bool {
        match self.ctx.actor() {
            None => true,
            Some(a) => hz::may_report(a, &u.unit.path) == Decision::Allow,
        }
    }

    fn may(&self, h: &Hazard, op: HazardOp) -> bool {
        self.ctx.actor().is_none_or(|a| hz::authorize(a, &h.facts(), op) == Decision::Allow)
    }

    /// The unit a row names: by credit code first, then by name.
    fn resolve_unit(&self, row: &ImportRow, headers: &Headers, warnings: &mut Vec<RowProblem>) -> Result<UnitRef, FieldError> {
        let name = row.get("unit").map(str::to_string);
        if let Some(code) = row.get("credit_code").map(credit_key).filter(|c| !c.is_empty()) {
            if let Some(u) = self.by_code.get(&code) {
                if let Some(n) = &name
                    && loose(n) != loose(&u.unit.name)
                    && u.unit.short_name.as_deref().is_none_or(|s| loose(s) != loose(n))
                {
                    warnings.push(headers.problem(FieldError::new(
                        "unit",
                        format!("单位名称“{n}”与信用代码对应的“{}”不一致，按信用代码导入", u.unit.name),
                        format!("The name '{n}' differs from '{}' registered under the credit code; the credit code wins", u.unit.name),
                    )));
                }
                return Ok(u.unit.clone());
            }
            if name.is_none() {
                return Err(FieldError::new(
                    "credit_code",
                    format!("找不到统一社会信用代码为“{code}”的单位，或您无权在该单位登记隐患"),
                    format!("No unit with credit code '{code}' where you may register hazards"),
                ));
            }
            warnings.push(headers.problem(FieldError::new(
                "credit_code",
                format!("找不到信用代码“{code}”，按单位名称匹配"),
                format!("Credit code '{code}' not found; matched by name"),
            )));
        }
        let Some(name) = name else {
            return Err(FieldError::new("unit", "请填写隐患所在单位", "Name the unit where the hazard is"));
        };
        let key = loose(&name);
        let found = self.by_name.get(&key).filter(|v| !v.is_empty()).or_else(|| self.by_short.get(&key).filter(|v| !v.is_empty()));
        match found.map(Vec::as_slice) {
            Some([one]) => Ok(one.unit.clone()),
            Some([_, _, ..]) => Err(FieldError::new(
                "unit",
                format!("有多个单位名为“{name}”，请填写统一社会信用代码以区分"),
                format!("Several units are called '{name}'; add the credit code to tell them apart"),
            )),
            _ => Err(FieldError::new(
                "unit",
                format!("找不到单位“{name}”，或您无权在该单位登记隐患"),
                format!("No unit '{name}' where you may register hazards"),
            )),
        }
    }

    /// Checks one row and, if it is valid and new, builds the hazard it describes.
    fn check(&self, row: &ImportRow, headers: &Headers) -> Checked {
        let mut report = ImportRowReport {
            line: row.line,
            status: RowStatus::Invalid,
            code: None,
            name: row.get("name").map(str::to_string),
            unit: row.get("unit").map(str::to_string),
            state: None,
            errors: vec![],
            warnings: vec![],
        };
        if let Some((zh, en)) = footer_row(row) {
            report.status = RowStatus::Skipped;
            report.warnings.push(RowProblem { column: String::new(), field: String::new(), zh, en });
            return Checked { report, planned: None, same_as_line: None };
        }
        // A code of ours: the hazard is here already.
        if let Some(code) = row.get("code").map(|c| loose(c).to_ascii_uppercase())
            && self.existing_codes.contains(&code)
        {
            report.status = RowStatus::AlreadyImported;
            report.code = Some(code);
            return Checked { report, planned: None, same_as_line: None };
        }
        let mut errors: Vec<FieldError> = Vec::new();
        let mut warnings: Vec<RowProblem> = Vec::new();
        let unit = match self.resolve_unit(row, headers, &mut warnings) {
            Ok(u) => Some(u),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        if let Some(u) = &unit {
            report.unit = Some(u.name.clone());
        }
        let text = |k: &str| row.get(k).map(str::to_string);
        let name = text("name").unwrap_or_default();
        let description = text("description").unwrap_or_else(|| name.clone());
        let level = match text("level") {
            Some(l) => map_level(&l),
            None => {
                warnings.push(headers.problem(FieldError::new("level", "未填写隐患等级，按一般隐患导入", "No level given; imported as general")));
                "general".into()
            }
        };
        let hazard_type = text("hazard_type").map(|t| match map_hazard_type(&t) {
            Some(v) => v.as_str().to_string(),
            None => {
                warnings.push(headers.problem(FieldError::new(
                    "hazard_type",
                    format!("未知的隐患类别“{t}”，按“其他”导入"),
                    format!("Unknown hazard type '{t}'; imported as other"),
                )));
                HazardType::Other.as_str().to_string()
            }
        });
        let source = text("source").map(|s| map_source(&s).map(|v| v.as_str().to_string()).unwrap_or(s));
        let check_kind = text("check_kind").map(|s| map_check_kind(&s).map(|v| v.as_str().to_string()).unwrap_or(s));
        let draft = HazardDraft {
            unit_id: unit.as_ref().map(|u| u.id.to_string()),
            area_id: None,
            name: name.clone(),
            description: description.clone(),
            location: text("location"),
            latitude: text("latitude"),
            longitude: text("longitude"),
            hazard_type,
            source,
            check_kind,
            level: Some(level),
            sub_grade: None,
            manage_type: text("manage_type").map(|m| map_manage_type(&m)),
            cause: text("cause"),
            cause_class: None,
            measures: text("measures"),
            funds: text("funds"),
            contingency: text("contingency"),
            found_on: text("found_on"),
            found_by: text("found_by"),
        };
        let fields = match draft.validate(self.today, bihuan_reports::parse_date) {
            Ok(f) => Some(f),
            Err(e) => {
                errors.extend(e.fields);
                None
            }
        };
        let mut date = |key: &str, zh: &str, en: &str| -> Option<Date> {
            let raw = text(key)?;
            let d = bihuan_reports::parse_date(&raw);
            if d.is_none() {
                errors.push(FieldError::new(key, format!("{zh}“{raw}”不是有效日期，应如 2021-05-06"), format!("{en} '{raw}' is not a valid date; write it like 2021-05-06")));
            }
            d
        };
        let deadline = date("deadline", "整改期限", "The deadline");
        let closed_on = date("closed_on", "销号时间", "The closing date");
        let completed_on = date("completed_on", "整改完成时间", "The completion date");
        // The state: the 状态 column, or a state word in 整改情况.
        let rect_text = text("rectification");
        let (state_word, rectification) = match (text("state"), rect_text) {
            (Some(s), r) => (Some(s), r),
            (None, Some(r)) if r.chars().count() <= 8 && parse_ledger_state(&r).is_some() => (Some(r), None),
            (None, r) => (None, r),
        };
        let mut state = match &state_word {
            Some(w) => match parse_ledger_state(w) {
                Some(s) => s,
                None => {
                    errors.push(FieldError::new(
                        "state",
                        format!("无法识别的状态“{w}”，可填：未整改、整改中、待验收、已整改、已销号、已撤销"),
                        format!("Unknown state '{w}'; use 未整改 (open), 整改中, 待验收, 已整改 (done), 已销号, 已撤销"),
                    ));
                    HazardState::Reported
                }
            },
            None if closed_on.is_some() || completed_on.is_some() => HazardState::Closed,
            None if deadline.is_some() => HazardState::Rectifying,
            None => HazardState::Reported,
        };
        if matches!(state, HazardState::Assigned | HazardState::Rectifying) && deadline.is_none() {
            warnings.push(headers.problem(FieldError::new(
                "deadline",
                "未填写整改期限，按“待交办”导入，请导入后交办",
                "No deadline given: imported as awaiting assignment; assign it after the import",
            )));
            state = HazardState::Reported;
        }
        if let (Some(c), Some(f)) = (closed_on, fields.as_ref().and_then(|f| f.found_on))
            && c < f
        {
            errors.push(FieldError::new("closed_on", "销号时间不能早于发现时间", "The closing date may not be before the date found"));
        }
        if closed_on.is_some_and(|c| c > self.today) {
            errors.push(FieldError::new("closed_on", "销号时间不能晚于今天", "The closing date may not be in the future"));
        }
        if let (Some(c), Some(f)) = (completed_on, fields.as_ref().and_then(|f| f.found_on))
            && c < f
        {
            errors.push(FieldError::new("completed_on", "整改完成时间不能早于发现时间", "The completion date may not be before the date found"));
        }
        if completed_on.is_some_and(|c| c > self.today) {
            errors.push(FieldError::new("completed_on", "整改完成时间不能晚于今天", "The completion date may not be in the future"));
        }
        if let (Some(done), Some(closed)) = (completed_on, closed_on)
            && closed < done
        {
            errors.push(FieldError::new("closed_on", "销号时间不能早于整改完成时间", "The closing date may not be before the completion date"));
        }
        // A closed hazard's dates are facts of record (the on-time rate, the
        // national interface's acceptance time): without any date in the
        // row, none is made up — the office adds it, or imports the row as
        // awaiting acceptance.
        if state == HazardState::Closed && closed_on.is_none() && completed_on.is_none() {
            errors.push(FieldError::new(
                "closed_on",
                format!(
                    "状态为“{}”，但台账没有销号时间：请在“销号时间”（或“验收时间”“整改完成时间”）列填写日期后再导入；尚未验收的，请将状态填为“待验收”",
                    state_word.as_deref().unwrap_or("已销号")
                ),
                "The row says the hazard is closed but gives no date: add it in a 销号时间 (closing), 验收时间 (acceptance) or \
                 整改完成时间 (completion) column and import again; if it has not been accepted yet, give its state as 待验收 \
                 (awaiting acceptance)",
            ));
        }
        report.state = Some(state);
        let finish = |mut report: ImportRowReport, errors: Vec<FieldError>, warnings: Vec<RowProblem>| {
            report.errors = errors.into_iter().map(|e| headers.problem(e)).collect();
            report.warnings = warnings;
            report
        };
        let (Some(unit), Some(fields), true) = (unit, fields, errors.is_empty()) else {
            return Checked { report: finish(report, errors, warnings), planned: None, same_as_line: None };
        };
        let role = self.ctx.actor().map(|a| a.role);
        let source = match (fields.source, role) {
            (Some(s), Some(Role::Enterprise)) if s != HazardSource::SelfInspection => {
                errors.push(FieldError::new("source", "企业导入的隐患只能是企业自查", "An enterprise imports what it found itself"));
                s
            }
            (Some(s), _) => s,
            (None, Some(Role::Enterprise)) => HazardSource::SelfInspection,
            (None, _) => HazardSource::Inspection,
        };
        let key = import_key(unit.id, &fields.name, fields.found_on, &fields.description);
        if let Some(code) = self.existing_keys.get(&key) {
            report.status = RowStatus::AlreadyImported;
            report.code = Some(code.clone());
            return Checked { report: finish(report, errors, warnings), planned: None, same_as_line: None };
        }
        let found_at = match fields.found_on {
            Some(d) if d != self.today => start_of_day(d),
            _ => self.now,
        };
        let found_by_unit = self.actor_unit.clone().unwrap_or_else(|| unit.clone());
        let responsible_unit = match text("responsible_unit") {
            None => unit.clone(),
            Some(r) => {
                let key = loose(&r);
                let named = self.by_name.get(&key).or_else(|| self.by_short.get(&key)).and_then(|v| match v.as_slice() {
                    [one] => Some(one.unit.clone()),
                    _ => None,
                });
                match named {
                    Some(u) if u.path == unit.path || u.path.is_within(&unit.path) || unit.path.is_within(&u.path) => u,
                    _ => {
                        if key != loose(&unit.name) {
                            warnings.push(headers.problem(FieldError::new(
                                "responsible_unit",
                                format!("整改责任单位“{r}”不是隐患所在单位或其上下级单位，按隐患所在单位导入"),
                                format!("The responsible unit '{r}' is not the hazard's unit or related to it; the hazard's unit is used"),
                            )));
                        }
                        unit.clone()
                    }
                }
            }
        };
        let finding = Finding {
            unit: unit.clone(),
            source,
            found_at,
            found_by: fields.found_by.clone().unwrap_or_else(|| self.actor_name.clone()),
            found_by_user: self.ctx.actor().map(|a| a.user_id),
            found_by_unit: found_by_unit.clone(),
        };
        let mut h = Hazard::registered(HazardId::new(), 0, String::new(), finding, &fields, self.now);
        h.deadline = deadline;
        h.deadline_rule = deadline.map(|_| DeadlineRule::Date);
        h.state = state;
        h.responsible_person = text("responsible_person");
        h.responsible_phone = text("responsible_phone");
        if deadline.is_some() {
            h.responsible_unit = Some(responsible_unit);
            h.assigned_by_unit = Some(found_by_unit);
        }
        let placeholder = |what_zh: &str, what_en: &str, field: &str, warnings: &mut Vec<RowProblem>| {
            warnings.push(headers.problem(FieldError::new(
                field,
                format!("台账未记录{what_zh}，填写为“{IMPORT_PLACEHOLDER}”"),
                format!("The ledger has no {what_en}; recorded as \"{IMPORT_PLACEHOLDER}\""),
            )));
            IMPORT_PLACEHOLDER.to_string()
        };
        // What the state needs, from the row or a placeholder that says so.
        let needed_op = match state {
            HazardState::Reported => deadline.map(|_| HazardOp::Assign),
            HazardState::Assigned | HazardState::Rectifying => Some(HazardOp::Assign),
            HazardState::Submitted => {
                h.rectification = Some(match rectification.clone() {
                    Some(r) => r,
                    None => placeholder("整改情况", "description of the rectification", "rectification", &mut warnings),
                });
                // Handed in when the rectification was done, if the row says when.
                h.submitted_at = Some(completed_on.map(|d| start_of_day(d).max(found_at)).unwrap_or(self.now));
                deadline.map(|_| HazardOp::Assign)
            }
            HazardState::Closed => {
                h.rectification = Some(match rectification.clone() {
                    Some(r) => r,
                    None => placeholder("整改情况", "description of the rectification", "rectification", &mut warnings),
                });
                h.accepted_by = Some(match text("accepted_by") {
                    Some(a) => a,
                    None => placeholder("验收人", "name of who accepted it", "accepted_by", &mut warnings),
                });
                // The row's own dates: closed (accepted) on the closing date,
                // handed in on the completion date; each stands in for the
                // other when the row gives only one (a row without either is
                // an error above). Never the time of the import.
                let day = |d: Date| start_of_day(d).max(found_at);
                let (submitted_at, closed_at) = match (completed_on, closed_on) {
                    (Some(done), Some(closed)) => (day(done), day(closed)),
                    (Some(done), None) => {
                        warnings.push(headers.problem(FieldError::new(
                            "closed_on",
                            "台账未记录销号时间，按整改完成时间记录",
                            "The ledger has no closing date; the completion date is recorded as such",
                        )));
                        (day(done), day(done))
                    }
                    (None, Some(closed)) => (day(closed), day(closed)),
                    (None, None) => (self.now, self.now),
                };
                h.closed_at = Some(closed_at);
                h.submitted_at = Some(submitted_at);
                Some(HazardOp::Accept)
            }
            HazardState::Dismissed => {
                h.dismiss_reason = Some(DismissReason::NotAHazard);
                Some(HazardOp::Dismiss)
            }
        };
        if let Some(op) = needed_op {
            // Judge the permission on the hazard as it stood before that step.
            let mut before = h.clone();
            before.state = match op {
                HazardOp::Accept => HazardState::Submitted,
                _ => HazardState::Reported,
            };
            if matches!(op, HazardOp::Assign | HazardOp::Dismiss) {
                before.assigned_by_unit = None;
            }
            if !self.may(&before, op) {
                errors.push(FieldError::new(
                    "state",
                    format!("您无权将{}作为“{}”导入（需要“{}”的权限）", h.level.label_zh(), state.label_zh(), op.label_zh()),
                    format!("You may not import a {} hazard as {} (it takes the right to {})", h.level.label_en().to_lowercase(), state.label_en().to_lowercase(), op.label_en().to_lowercase()),
                ));
            }
        }
        if let Err(e) = check_invariants(&h) {
            errors.push(FieldError::new("", format!("本行数据不完整：{e}"), format!("The row is incomplete: {e}")));
        }
        if !errors.is_empty() {
            return Checked { report: finish(report, errors, warnings), planned: None, same_as_line: None };
        }
        report.status = RowStatus::Valid;
        report.name = Some(h.name.clone());
        Checked { report: finish(report, errors, warnings), planned: Some(Planned { hazard: h, key }), same_as_line: None }
    }
}

fn read_error(e: bihuan_reports::ImportError) -> DomainError {
    DomainError::invalid(vec![FieldError::new("file", e.zh(), e.en())])
}

impl Service {
    /// Imports a hazard ledger (xlsx, xls, ods or CSV in UTF-8 or GBK).
    /// Each row is matched to a unit the caller may register hazards at (by
    /// credit code, then by name), checked, and reported; rows already in the
    /// system (by our code, or by the import key of unit, name, date found
    /// and description) are reported as such and never created twice. A
    /// row's state comes in as the ledger gives it, with one `import` event
    /// and one audit entry per hazard. See [`ImportMode`] for what is written.
    pub async fn import_hazard_ledger(&self, ctx: &Ctx, bytes: &[u8], file_name: &str, mode: ImportMode) -> Result<ImportReport> {
        let table = bihuan_reports::read_table(bytes, file_name, IMPORT_COLUMNS).map_err(read_error)?;
        if !table.missing_required.is_empty() {
            let missing: Vec<String> = IMPORT_COLUMNS
                .iter()
                .filter(|c| table.missing_required.contains(&c.key))
                .map(|c| c.aliases.iter().take(3).copied().collect::<Vec<_>>().join("/"))
                .collect();
            return Err(DomainError::field(
                "file",
                format!("“{file_name}”第 {} 行的表头缺少必需的列：{}", table.header_row, missing.join("、")),
                format!("The header (row {}) of \"{file_name}\" lacks required columns: {}", table.header_row, missing.join(", ")),
            ));
        }
        let headers = Headers(table.columns.iter().map(|c| (c.key, c.header.clone())).collect());
        let mut tx = match mode {
            ImportMode::DryRun => self.db.read().await?,
            _ => self.db.begin().await?,
        };
        let ictx = self.import_ctx(&mut tx, ctx, &table).await?;
        let mut checked: Vec<Checked> = table.rows.iter().map(|r| ictx.check(r, &headers)).collect();
        // The same hazard twice in one file is created once.
        let mut first_line: HashMap<String, usize> = HashMap::new();
        for i in 0..checked.len() {
            let Some(c) = checked.get_mut(i) else { continue };
            let Some(key) = c.planned.as_ref().map(|p| p.key.clone()) else { continue };
            match first_line.get(&key) {
                None => {
                    first_line.insert(key, i);
                }
                Some(&j) => {
                    let line = table.rows.get(j).map(|r| r.line).unwrap_or_default();
                    c.planned = None;
                    c.same_as_line = Some(line);
                    c.report.status = RowStatus::AlreadyImported;
                    c.report.warnings.push(RowProblem {
                        column: String::new(),
                        field: String::new(),
                        zh: format!("与第 {line} 行是同一隐患，只导入一次"),
                        en: format!("The same hazard as row {line}; imported once"),
                    });
                }
            }
        }
        let invalid = checked.iter().filter(|c| c.report.status == RowStatus::Invalid).count();
        let apply = match mode {
            ImportMode::DryRun => false,
            ImportMode::ApplyValid => true,
            ImportMode::AllOrNothing => invalid == 0,
        };
        if apply {
            let (user, username, unit) = match &ctx.caller {
                Caller::User(a) => (Some(a.user_id), a.username.clone(), Some(a.unit_id)),
                Caller::System(n) => (None, n.clone(), None),
            };
            let to_create = i64::try_from(checked.iter().filter(|c| c.planned.is_some()).count()).unwrap_or(i64::MAX);
            let mut num = if to_create > 0 { store::next_numbers(&mut tx, "hazard", to_create).await? } else { 0 };
            let mut events = Vec::new();
            let mut keys = Vec::new();
            let mut audit = Vec::new();
            let mut batch: Vec<Hazard> = Vec::new();
            let at = self.now();
            for c in &mut checked {
                let Some(p) = c.planned.take() else { continue };
                let mut h = p.hazard;
                h.num = num;
                num += 1;
                // The year of the code is the year the hazard was found, as
                // if it had been registered then (a 2020 ledger row is not
                // a hazard of the import year).
                h.code = format!("YH{}-{:06}", bihuan_domain::clock::local_date(h.found_at).year(), h.num);
                // Rows in batches (the counts are written once per batch);
                // import keys and audit entries in batches below too.
                keys.push((h.id, p.key));
                events.push(HazardEvent {
                    id: HazardEventId::new(),
                    hazard_id: h.id,
                    seq: 1,
                    at,
                    actor_user_id: user,
                    actor_name: username.clone(),
                    actor_unit_id: unit,
                    action: "import".into(),
                    from_state: None,
                    to_state: h.state,
                    comment: Some(format!("{IMPORT_PLACEHOLDER}：{file_name} 第 {} 行", c.report.line)),
                    data: serde_json::json!({
                        "file": file_name, "sheet": table.sheet, "line": c.report.line,
                        "deadline": h.deadline.map(|d| d.to_string()), "responsible_person": h.responsible_person,
                    }),
                });
                audit.push(self.audit_entry(ctx, "hazard.import", "hazard", Some(h.id.to_string()), NONE, Some(&h)));
                c.report.code = Some(h.code.clone());
                batch.push(h);
                if batch.len() >= IMPORT_AUDIT_BATCH {
                    store::insert_many(&mut tx, &std::mem::take(&mut batch)).await?;
                }
                if audit.len() >= IMPORT_AUDIT_BATCH {
                    // Each entry holds the whole hazard as JSON: bounded memory.
                    bihuan_store::audit::append_many(&mut tx, std::mem::take(&mut audit)).await?;
                }
                c.report.status = RowStatus::Created;
            }
            store::insert_many(&mut tx, &batch).await?;
            store::set_import_keys(&mut tx, &keys).await?;
            store::insert_events(&mut tx, &events).await?;
            bihuan_store::audit::append_many(&mut tx, audit).await?;
            // Rows that repeat an earlier row name the hazard it created.
            let created: HashMap<u32, String> =
                checked.iter().filter(|c| c.report.status == RowStatus::Created).filter_map(|c| c.report.code.clone().map(|k| (c.report.line, k))).collect();
            for c in &mut checked {
                if let Some(line) = c.same_as_line {
                    c.report.code = created.get(&line).cloned();
                }
            }
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        let rows: Vec<ImportRowReport> = checked.into_iter().map(|c| c.report).collect();
        let count = |s: RowStatus| rows.iter().filter(|r| r.status == s).count();
        let (created, already, skipped) = (count(RowStatus::Created), count(RowStatus::AlreadyImported), count(RowStatus::Skipped));
        let valid = count(RowStatus::Valid) + created;
        let (message_zh, message_en) = match (mode, apply) {
            (ImportMode::DryRun, _) => (
                format!("试导入：共 {} 行，{valid} 行可导入，{already} 行已导入过，{invalid} 行有错误，{skipped} 行跳过；未写入任何数据。", rows.len()),
                format!("Dry run: {} rows; {valid} can be imported, {already} already imported, {invalid} with errors, {skipped} skipped; nothing written.", rows.len()),
            ),
            (ImportMode::AllOrNothing, false) => (
                format!("有 {invalid} 行错误，按“全部或全不”的选择，未导入任何数据。请改正后重新导入。"),
                format!("{invalid} rows have errors; as chosen (all or nothing), nothing was imported. Correct them and import again."),
            ),
            _ => (
                format!("已导入 {created} 条隐患；{already} 行已导入过，{invalid} 行有错误未导入，{skipped} 行跳过。"),
                format!("{created} hazards imported; {already} rows already imported, {invalid} rows with errors not imported, {skipped} skipped."),
            ),
        };
        Ok(ImportReport {
            file_name: file_name.to_string(),
            sheet: table.sheet.clone(),
            header_row: table.header_row,
            mode,
            applied: apply && created > 0,
            columns: table.columns.iter().map(|c| c.header.clone()).collect(),
            unknown_headers: table.unknown_headers.clone(),
            total: rows.len(),
            valid,
            created,
            already_imported: already,
            invalid,
            skipped,
            message_zh,
            message_en,
            rows,
        })
    }

    /// Everything the rows are checked against, looked up in a few batches.
    async fn import_ctx<'a>(&self, tx: &mut Tx, ctx: &'a Ctx, table: &bihuan_reports::ImportTable) -> Result<ImportCtx<'a>> {
        let mut names: Vec<String> = Vec::new();
        let mut credit: Vec<String> = Vec::new();
        let mut codes: Vec<String> = Vec::new();
        for r in &table.rows {
            for k in ["unit", "responsible_unit"] {
                if let Some(n) = r.get(k) {
                    names.extend(name_variants(n));
                }
            }
            if let Some(c) = r.get("credit_code") {
                credit.push(credit_key(c));
            }
            if let Some(c) = r.get("code") {
                codes.push(loose(c).to_ascii_uppercase());
            }
        }
        for v in [&mut names, &mut credit, &mut codes] {
            v.sort();
            v.dedup();
        }
        let units = store::units_by_names_or_codes(tx, &names, &credit).await?;
        let (actor_unit, actor_name) = match &ctx.caller {
            Caller::User(a) => {
                let unit = units::get(tx, a.unit_id).await?.map(|u| UnitRef { id: u.id, name: u.name, short_name: u.short_name, path: u.path });
                let name = users::get(tx, a.user_id).await?.map(|u| u.display_name).unwrap_or_else(|| a.username.clone());
                (unit, name)
            }
            Caller::System(n) => (None, n.clone()),
        };
        let existing = store::get_by_codes(tx, &codes).await?;
        let mut ictx = ImportCtx {
            ctx,
            today: self.today(),
            now: self.now(),
            actor_unit,
            actor_name,
            by_name: HashMap::new(),
            by_short: HashMap::new(),
            by_code: HashMap::new(),
            existing_codes: existing
                .iter()
                .filter(|h| ctx.actor().is_none_or(|a| hz::visible(a, &h.facts())))
                .map(|h| h.code.to_ascii_uppercase())
                .collect(),
            existing_keys: HashMap::new(),
        };
        for u in units.into_iter().filter(|u| u.active) {
            if !ictx.may_report(&u) {
                continue;
            }
            ictx.by_name.entry(loose(&u.unit.name)).or_default().push(u.clone());
            if let Some(s) = &u.unit.short_name {
                ictx.by_short.entry(loose(s)).or_default().push(u.clone());
            }
            if let Some(c) = &u.credit_code {
                ictx.by_code.insert(credit_key(c), u);
            }
        }
        // Import keys of every row that names a unit we know, in one batch.
        let mut keys: Vec<String> = Vec::new();
        let mut scratch = Vec::new();
        for r in &table.rows {
            scratch.clear();
            let Ok(unit) = ictx.resolve_unit(r, &Headers(HashMap::new()), &mut scratch) else { continue };
            let name = r.get("name").unwrap_or_default();
            let description = r.get("description").unwrap_or(name);
            let found_on = r.get("found_on").and_then(bihuan_reports::parse_date);
            keys.push(import_key(unit.id, name, found_on, description));
        }
        keys.sort();
        keys.dedup();
        ictx.existing_keys = store::codes_by_import_key(tx, &keys).await?;
        Ok(ictx)
    }
}

// ------------------------------------------------------------------ national interface

/// One hazard in the national 双重预防 interface (隐患信息, DOMAIN.md §2.4),
/// with the field names and codes of that interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NationalDanger {
    /// Our record id (32 hex digits).
    pub id: String,
    /// Our hazard code, e.g. YH2021-000123.
    pub danger_code: String,
    /// The enterprise's 统一社会信用代码, when registered.
    pub credit_code: Option<String>,
    pub company_name: String,
    /// 分析对象 / 管控措施 / 排查记录 of the risk-control system. Bihuan keeps
    /// no risk objects yet: always null.
    pub hazard_code: Option<String>,
    pub risk_measure_id: Option<String>,
    pub check_record_id: Option<String>,
    pub danger_name: String,
    /// 0 一般隐患, 1 重大隐患.
    pub danger_level: u8,
    /// 登记时间 `yyyy-MM-dd HH:mm:ss`, Beijing time (when it was found).
    pub regist_time: String,
    pub registrant: String,
    /// 1–10, from the 排查类型.
    pub danger_src: u8,
    /// 0 即查即改, 1 限期整改.
    pub danger_manage_type: u8,
    /// 1–8 (安全 … 其他).
    pub hazard_danger_type: u8,
    pub danger_desc: String,
    pub danger_reason: Option<String>,
    /// 0 其他隐患 (the 包保 role that registered it is not recorded).
    pub hazard_category: u8,
    pub control_measures: Option<String>,
    /// 整改资金, 万元.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub cost: Option<Decimal>,
    pub liable_person: Option<String>,
    /// 隐患治理期限 `yyyy-MM-dd 23:59:59` (the end of the deadline day).
    pub danger_manage_deadline: Option<String>,
    pub check_accept_person: Option<String>,
    /// `yyyy-MM-dd HH:mm:ss`, Beijing time.
    pub check_accept_time: Option<String>,
    pub check_accept_comment: Option<String>,
    /// 0 整改中, 1 待验收, 9 已验收.
    pub danger_state: u8,
    /// 1 人的不安全行为, 2 物的不安全状态, 3 管理上的缺陷.
    pub management_classification: Option<u8>,
    /// 0 有效, 1 无效 (dismissed).
    pub deleted: u8,
}

const NATIONAL_TIME: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

fn national_time(t: OffsetDateTime) -> String {
    t.to_offset(SHANGHAI).format(NATIONAL_TIME).unwrap_or_default()
}

/// Maps a hazard to the national record, checking the interface's rule
/// `dangerState = 9 ⇒ checkAcceptPerson ∧ checkAcceptTime`.
pub fn national_danger(h: &Hazard, credit_code: Option<&str>) -> Result<NationalDanger> {
    let code = |c: Option<u8>, default: u8| c.unwrap_or(default);
    let (danger_state, deleted) = match h.state {
        HazardState::Dismissed => (0, 1),
        s => (code(s.national_code(), 0), 0),
    };
    let d = NationalDanger {
        id: h.id.0.simple().to_string(),
        danger_code: h.code.clone(),
        credit_code: credit_code.map(str::to_string),
        company_name: h.unit.name.clone(),
        hazard_code: None,
        risk_measure_id: None,
        check_record_id: None,
        danger_name: h.name.clone(),
        danger_level: code(h.level.national_code(), 0),
        regist_time: national_time(h.found_at),
        registrant: h.found_by.clone(),
        danger_src: code(h.check_kind.national_code(), 10),
        danger_manage_type: code(h.manage_type.national_code(), 1),
        hazard_danger_type: code(h.hazard_type.national_code(), 8),
        danger_desc: h.description.clone(),
        danger_reason: h.cause.clone(),
        hazard_category: 0,
        control_measures: h.measures.clone(),
        cost: h.funds,
        liable_person: h.responsible_person.clone(),
        danger_manage_deadline: h.deadline.map(|d| format!("{d} 23:59:59")),
        check_accept_person: h.accepted_by.clone(),
        check_accept_time: h.closed_at.map(national_time),
        check_accept_comment: h.acceptance_comment.clone(),
        danger_state,
        management_classification: h.cause_class.and_then(CauseClass::national_code),
        deleted,
    };
    if d.danger_state == 9 && (d.check_accept_person.as_deref().is_none_or(str::is_empty) || d.check_accept_time.is_none()) {
        return Err(DomainError::invalid(vec![FieldError::new(
            "accepted_by",
            format!("隐患 {} 已验收，但缺少验收人或验收时间，不能上报", h.code),
            format!("Hazard {} is accepted but lacks who accepted it or when; it cannot be reported", h.code),
        )]));
    }
    Ok(d)
}

impl Service {
    /// The hazards the caller may see that match `filter`, as national
    /// interface records, in registration order.
    pub async fn export_national(&self, ctx: &Ctx, filter: &HazardFilter) -> Result<Vec<NationalDanger>> {
        let scope = hazard_scope(ctx);
        let today = self.today();
        let mut tx = self.db.read().await?;
        let mut out = Vec::new();
        let mut units = UnitCache::default();
        let batch = self.settings.export_page_size.max(1);
        let mut after = 0i64;
        loop {
            let page = store::ledger_page(&mut tx, &scope, filter, today, after, batch, false, &mut units).await?;
            let Some(last) = page.hazards.last() else { break };
            after = last.num;
            for h in &page.hazards {
                out.push(national_danger(h, units.credit_code(h.unit.id).map(String::as_str))?);
            }
            if (page.hazards.len() as i64) < batch {
                break;
            }
        }
        tx.commit().await?;
        Ok(out)
    }
}

