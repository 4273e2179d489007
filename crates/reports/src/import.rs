//! Reading the ledgers offices actually keep: xlsx, xls, ods (and xlsb) via
//! `calamine`, and CSV in UTF-8 or GBK.
//!
//! The caller says which columns it wants ([`ColumnSpec`]: a key and the
//! header names offices use for it) and gets back, per data row, the
//! normalised text of those columns ([`ImportRow`]). Deciding what the text
//! means (a date, an amount, a unit name) is the caller's job;
//! [`parse_date`](crate::parse_date) helps.
//!
//! # What is tolerated
//!
//! - **Format by content, not by name.** The bytes are sniffed: a zip with
//!   `xl/workbook.xml` is xlsx whatever the file is called, an OLE2 file is
//!   xls, text is CSV. Pictures, PDFs, Word files, archives and HTML pages
//!   saved as `.xls` are refused with [`ImportError::NotASpreadsheet`].
//! - **Title rows.** The header is the row, among the first
//!   [`ImportOptions::header_search_rows`] non-empty rows, that matches the
//!   most specs (ties: more required specs, then the upper row). Rows above
//!   it (`XX村问题隐患整改台账`, `填报单位：…  填报日期：…`) are ignored.
//! - **Several sheets.** The sheet whose header matches best wins; visible
//!   sheets before hidden ones, then the leftmost.
//! - **Header spelling.** A cell matches a spec when its text equals one of
//!   the aliases after [`normalize_text`] (*exact*); failing that, when both
//!   are equal after [`normalize_header`] (no whitespace, `*` markers,
//!   colons or bracketed notes such as units: `* 整改资金（万元）：` matches
//!   `整改资金`). Exact matches are taken first across the whole row; each
//!   spec takes one column (the leftmost), and any further column with the
//!   same header is listed in `unknown_headers`. At least two specs (one if
//!   only one is given) must match for a row to count as a header.
//! - **Merged cells** below the header (a unit name merged down over its
//!   rows) give their value to every row they cover, in their first column
//!   (xlsx and xls; ods merges are not reported by the reader).
//! - **Values.** Text goes through [`normalize_text`]; number cells come out
//!   as Excel shows them (`3`, `2.5`, never `0.30000000000000004`); date
//!   cells as `YYYY-MM-DD` (`YYYY-MM-DD HH:MM` when they hold a time);
//!   booleans as `TRUE`/`FALSE`; error cells as their code (`#N/A`).
//! - **CSV.** UTF-8 with or without BOM, UTF-16 with BOM, otherwise GB18030
//!   (which covers GBK, as Excel on Chinese Windows saves); the separator
//!   (comma, semicolon or tab) is detected, and a first line `sep=;` is
//!   honoured. A leading `'` that the CSV writer of this crate put before
//!   formula-like text is removed.
//!
//! # Rows returned
//!
//! Every row below the header that is not completely empty, in sheet order,
//! with its row number as Excel shows it. Footer lines such as
//! `填表人：张三` **are returned** like any other row — with no values at
//! all when the text sits in a column nobody asked for: the caller's
//! validation reports them (their required fields are missing) and the user
//! sees them named by row number; nothing in the file is dropped silently.
//! Two-level headers are not merged: the lower level must carry the names.

use crate::csv_ledger::starts_like_formula;
use crate::text::{format_number, is_blank_text, normalize_header, normalize_text};
use calamine::{Data, DataRef, Dimensions, ExcelDateTime, Reader, SheetType, SheetVisible};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Cursor;
use time::{Date, Month, PrimitiveDateTime, Time};

/// A column the caller wants from the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The caller's own name for the column; used as key of
    /// [`ImportRow::values`].
    pub key: &'static str,
    /// Header names as offices write them, e.g.
    /// `["隐患名称", "问题隐患名称", "隐患内容"]`. The first one is named in
    /// error messages.
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// A spec found in the header row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchedColumn {
    pub key: &'static str,
    /// 0-based column index (A = 0).
    pub index: u32,
    /// The header text as written in the file (normalised).
    pub header: String,
}

/// What was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportTable {
    /// Sheet name; for CSV the file name.
    pub sheet: String,
    /// 1-based row number of the header, as Excel shows it.
    pub header_row: u32,
    /// Matched columns, left to right.
    pub columns: Vec<MatchedColumn>,
    /// Non-empty header cells that matched no spec (or a spec already
    /// matched further left).
    pub unknown_headers: Vec<String>,
    /// Keys of required specs that no header matched.
    pub missing_required: Vec<&'static str>,
    pub rows: Vec<ImportRow>,
}

/// One data row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based row number as Excel shows it.
    pub line: u32,
    /// Normalised text per spec key; empty cells are absent.
    pub values: BTreeMap<&'static str, String>,
}

impl ImportRow {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }
}

/// Limits of [`read_table_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// More data rows than this is refused with [`ImportError::TooLarge`].
    pub max_rows: usize,
    /// How many non-empty rows from the top may hold the header.
    pub header_search_rows: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self { max_rows: 100_000, header_search_rows: 20 }
    }
}

/// Why a file could not be read. Each has a message in Chinese
/// ([`ImportError::zh`]) and in English ([`ImportError::en`]) and a stable
/// [`code`](ImportError::code).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// The bytes are not a spreadsheet; `looks_like` names what they seem to
    /// be (Chinese, English) when known.
    NotASpreadsheet { file_name: String, looks_like: Option<(&'static str, &'static str)> },
    /// The workbook has an opening password.
    Encrypted { file_name: String },
    /// The file is a spreadsheet format but cannot be read.
    Damaged { file_name: String, detail: String },
    /// No sheet has a row that looks like the expected header.
    NoHeader {
        file_name: String,
        /// The sheet that came closest.
        sheet: String,
        /// 1-based row of the best candidate, if the sheet has any text.
        row: Option<u32>,
        /// First alias of each spec (required ones marked `*`).
        expected: Vec<String>,
        /// The texts of the best candidate row.
        found: Vec<String>,
    },
    /// More data rows than [`ImportOptions::max_rows`].
    TooLarge { file_name: String, max_rows: usize },
}

impl ImportError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::NotASpreadsheet { .. } => "import_not_spreadsheet",
            ImportError::Encrypted { .. } => "import_encrypted",
            ImportError::Damaged { .. } => "import_damaged",
            ImportError::NoHeader { .. } => "import_no_header",
            ImportError::TooLarge { .. } => "import_too_large",
        }
    }

    /// The message in Chinese.
    pub fn zh(&self) -> String {
        match self {
            ImportError::NotASpreadsheet { file_name, looks_like } => {
                let what = looks_like.map(|(zh, _)| format!("（看起来是{zh}）")).unwrap_or_default();
                format!(
                    "“{file_name}”不是可识别的电子表格{what}。请上传 Excel（.xlsx、.xls）、WPS/LibreOffice（.ods）或 CSV 文件；网页或其他格式请先用 Excel 打开，另存为 .xlsx 后再导入。"
                )
            }
            ImportError::Encrypted { file_name } => {
                format!("“{file_name}”设置了打开密码，无法读取。请在 Excel 中取消密码、保存后再导入。")
            }
            ImportError::Damaged { file_name, detail } => {
                format!(
                    "“{file_name}”已损坏或不完整，无法读取（{detail}）。请用 Excel 打开检查，另存为 .xlsx 后再导入。"
                )
            }
            ImportError::NoHeader { file_name, sheet, row, expected, found } => {
                let place = match row {
                    Some(r) => format!("工作表“{sheet}”第 {r} 行"),
                    None => format!("工作表“{sheet}”"),
                };
                let found = if found.is_empty() { "（无内容）".to_string() } else { found.join("、") };
                format!(
                    "“{file_name}”中找不到表头。应有的列：{}（* 为必填）；最接近的是{place}：{found}。",
                    expected.join("、")
                )
            }
            ImportError::TooLarge { file_name, max_rows } => {
                format!("“{file_name}”超过 {max_rows} 行数据，请拆分成多个文件分批导入。")
            }
        }
    }

    /// The message in English.
    pub fn en(&self) -> String {
        match self {
            ImportError::NotASpreadsheet { file_name, looks_like } => {
                let what = looks_like.map(|(_, en)| format!(" (it looks like {en})")).unwrap_or_default();
                format!(
                    "\"{file_name}\" is not a spreadsheet we can read{what}. Upload an Excel (.xlsx, .xls), OpenDocument (.ods) or CSV file; open other formats in Excel and save them as .xlsx first."
                )
            }
            ImportError::Encrypted { file_name } => {
                format!(
                    "\"{file_name}\" is protected by an opening password. Remove the password in Excel, save, and import again."
                )
            }
            ImportError::Damaged { file_name, detail } => {
                format!(
                    "\"{file_name}\" is damaged or incomplete and cannot be read ({detail}). Open it in Excel, save it as .xlsx and import again."
                )
            }
            ImportError::NoHeader { file_name, sheet, row, expected, found } => {
                let place = match row {
                    Some(r) => format!("row {r} of sheet \"{sheet}\""),
                    None => format!("sheet \"{sheet}\""),
                };
                let found = if found.is_empty() { "(nothing)".to_string() } else { found.join(", ") };
                format!(
                    "No header row found in \"{file_name}\". Expected columns: {} (* = required); the closest was {place}: {found}.",
                    expected.join(", ")
                )
            }
            ImportError::TooLarge { file_name, max_rows } => {
                format!("\"{file_name}\" has more than {max_rows} data rows; split it into several files.")
            }
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.zh(), self.en())
    }
}

impl std::error::Error for ImportError {}

/// Reads the best-matching table of a spreadsheet with the default
/// [`ImportOptions`] (100,000 rows).
pub fn read_table(bytes: &[u8], file_name: &str, specs: &[ColumnSpec]) -> Result<ImportTable, ImportError> {
    read_table_with(bytes, file_name, specs, &ImportOptions::default())
}

/// [`read_table`] with explicit limits.
pub fn read_table_with(
    bytes: &[u8],
    file_name: &str,
    specs: &[ColumnSpec],
    options: &ImportOptions,
) -> Result<ImportTable, ImportError> {
    let ctx = Ctx { file_name, specs, options };
    match sniff(bytes) {
        Sniffed::Xlsx => {
            let book = calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(Cursor::new(bytes))
                .map_err(|e| ctx.damaged(e))?;
            read_workbook(XlsxSource(book), &ctx)
        }
        Sniffed::Xlsb => {
            let book = calamine::open_workbook_from_rs::<calamine::Xlsb<_>, _>(Cursor::new(bytes))
                .map_err(|e| ctx.damaged(e))?;
            read_workbook(RangeSource::Xlsb(book), &ctx)
        }
        Sniffed::Ods => {
            let book = calamine::open_workbook_from_rs::<calamine::Ods<_>, _>(Cursor::new(bytes))
                .map_err(|e| ctx.damaged(e))?;
            read_workbook(RangeSource::Ods(book), &ctx)
        }
        Sniffed::Xls => match calamine::open_workbook_from_rs::<calamine::Xls<_>, _>(Cursor::new(bytes)) {
            Ok(book) => read_workbook(RangeSource::Xls(book), &ctx),
            Err(calamine::XlsError::Password) => Err(ImportError::Encrypted { file_name: file_name.to_string() }),
            Err(e) => Err(ctx.damaged(e)),
        },
        Sniffed::Encrypted => Err(ImportError::Encrypted { file_name: file_name.to_string() }),
        Sniffed::Text => {
            let csv = CsvText::decode(bytes);
            let head = csv.grid(&Pass::Head(options.header_search_rows), &ctx)?;
            let candidate = Candidate::score(file_name.to_string(), &head, &ctx);
            if !candidate.is_header(&ctx) {
                return Err(ctx.no_header(candidate));
            }
            let grid = csv.grid(&Pass::Full(candidate.columns()), &ctx)?;
            ctx.finish(candidate, grid)
        }
        Sniffed::Damaged(detail) => Err(ImportError::Damaged { file_name: file_name.to_string(), detail }),
        Sniffed::NotSpreadsheet(looks_like) => {
            Err(ImportError::NotASpreadsheet { file_name: file_name.to_string(), looks_like })
        }
    }
}

// ---------------------------------------------------------------- sniffing

enum Sniffed {
    Xlsx,
    Xlsb,
    Ods,
    Xls,
    Encrypted,
    Text,
    Damaged(String),
    NotSpreadsheet(Option<(&'static str, &'static str)>),
}

fn sniff(bytes: &[u8]) -> Sniffed {
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let magic: [(&[u8], &str, &str); 9] = [
        (b"\x89PNG", "PNG 图片", "a PNG image"),
        (b"\xFF\xD8\xFF", "JPEG 图片", "a JPEG image"),
        (b"GIF8", "GIF 图片", "a GIF image"),
        (b"%PDF", "PDF 文档", "a PDF document"),
        (b"Rar!", "RAR 压缩包", "a RAR archive"),
        (b"7z\xBC\xAF", "7z 压缩包", "a 7z archive"),
        (b"\x1F\x8B", "gzip 压缩包", "a gzip archive"),
        (b"{\\rtf", "RTF 文档", "an RTF document"),
        (b"BM", "BMP 图片", "a BMP image"),
    ];
    if bytes.is_empty() {
        return Sniffed::NotSpreadsheet(Some(("空文件", "an empty file")));
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return sniff_zip(bytes);
    }
    if bytes.starts_with(OLE) {
        // Directory entry names of the compound file, in UTF-16.
        if contains_utf16(bytes, "EncryptedPackage") {
            return Sniffed::Encrypted;
        }
        if contains_utf16(bytes, "Workbook") || contains_utf16(bytes, "Book") {
            return Sniffed::Xls;
        }
        if contains_utf16(bytes, "WordDocument") {
            return Sniffed::NotSpreadsheet(Some(("Word 文档（.doc）", "a Word document (.doc)")));
        }
        if contains_utf16(bytes, "PowerPoint Document") {
            return Sniffed::NotSpreadsheet(Some(("PowerPoint 演示文稿", "a PowerPoint presentation")));
        }
        return Sniffed::Xls;
    }
    let head = bytes.get(..bytes.len().min(8192)).unwrap_or(bytes);
    let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    if !utf16 {
        for (m, zh, en) in magic {
            // "BM" is too short to trust unless the file is binary.
            if head.starts_with(m) && (m != b"BM" || head.contains(&0)) {
                return Sniffed::NotSpreadsheet(Some((zh, en)));
            }
        }
        if head.contains(&0) {
            return Sniffed::NotSpreadsheet(None);
        }
        let start: String = String::from_utf8_lossy(head.get(..head.len().min(512)).unwrap_or(head))
            .trim_start_matches('\u{FEFF}')
            .trim_start()
            .chars()
            .take(200)
            .collect::<String>()
            .to_ascii_lowercase();
        if start.starts_with("<!doctype html") || start.starts_with("<html") || start.starts_with("<table") {
            return Sniffed::NotSpreadsheet(Some(("网页（HTML）表格", "an HTML page")));
        }
        if start.starts_with("<?xml") || start.starts_with('<') {
            return Sniffed::NotSpreadsheet(Some((
                "XML 文件（如 Excel 2003 XML 表格）",
                "an XML file (e.g. Excel 2003 XML)",
            )));
        }
    }
    Sniffed::Text
}

fn sniff_zip(bytes: &[u8]) -> Sniffed {
    let archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => return Sniffed::Damaged(format!("zip: {e}")),
    };
    let names: Vec<String> = archive.file_names().filter_map(Result::ok).map(|n| n.to_string()).collect();
    let has = |name: &str| names.iter().any(|n| n.eq_ignore_ascii_case(name));
    if has("xl/workbook.xml") {
        Sniffed::Xlsx
    } else if has("xl/workbook.bin") {
        Sniffed::Xlsb
    } else if has("content.xml")
        && bytes.windows(46).take(200).any(|w| w == b"application/vnd.oasis.opendocument.spreadsheet")
    {
        Sniffed::Ods
    } else if has("word/document.xml") {
        Sniffed::NotSpreadsheet(Some(("Word 文档（.docx）", "a Word document (.docx)")))
    } else if has("ppt/presentation.xml") {
        Sniffed::NotSpreadsheet(Some(("PowerPoint 演示文稿", "a PowerPoint presentation")))
    } else if has("content.xml") {
        Sniffed::NotSpreadsheet(Some(("OpenDocument 文本或演示文稿", "an OpenDocument text or presentation")))
    } else {
        Sniffed::NotSpreadsheet(Some(("ZIP 压缩包", "a ZIP archive")))
    }
}

fn contains_utf16(bytes: &[u8], needle: &str) -> bool {
    let pattern: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.windows(pattern.len()).any(|w| w == pattern.as_slice())
}

// ---------------------------------------------------------------- the grid

/// The non-empty cells of a sheet, row by row: (0-based column, normalised
/// text), sorted by column.
#[derive(Debug, Default)]
struct Grid {
    rows: Vec<GridRow>,
    /// Merged areas (0-based, inclusive).
    merges: Vec<Dimensions>,
}

#[derive(Debug)]
struct GridRow {
    /// 0-based row index.
    index: u32,
    cells: Vec<(u32, String)>,
}

impl GridRow {
    fn get(&self, col: u32) -> Option<&str> {
        self.cells.binary_search_by_key(&col, |(c, _)| *c).ok().and_then(|i| self.cells.get(i)).map(|(_, s)| s.as_str())
    }

    fn set(&mut self, col: u32, value: String) {
        match self.cells.binary_search_by_key(&col, |(c, _)| *c) {
            Ok(i) => {
                if let Some(cell) = self.cells.get_mut(i) {
                    cell.1 = value;
                }
            }
            Err(i) => self.cells.insert(i, (col, value)),
        }
    }
}

/// What a read of a sheet is for.
enum Pass {
    /// Finding the header: the first this-many non-empty rows, all columns.
    Head(usize),
    /// The data: every row, but only these columns (sorted), at most
    /// [`Ctx::row_cap`] rows.
    Full(Vec<u32>),
}

/// Collects cells arriving in row-major order.
struct GridBuilder<'p> {
    rows: Vec<GridRow>,
    /// Stop after this many non-empty rows.
    limit: usize,
    /// Keep only these columns (None: all).
    keep: Option<&'p [u32]>,
}

impl<'p> GridBuilder<'p> {
    fn new(pass: &'p Pass, ctx: &Ctx<'_>) -> Self {
        match pass {
            Pass::Head(rows) => Self { rows: Vec::new(), limit: *rows, keep: None },
            Pass::Full(columns) => Self { rows: Vec::new(), limit: ctx.row_cap(), keep: Some(columns) },
        }
    }

    /// Whether cells of this column are kept (check before making the text).
    fn wants(&self, col: u32) -> bool {
        self.keep.is_none_or(|k| k.binary_search(&col).is_ok())
    }

    /// Adds a cell; returns false once the row limit is exceeded.
    fn push(&mut self, row: u32, col: u32, text: String) -> bool {
        if text.is_empty() {
            return true;
        }
        if !self.wants(col) {
            return self.touch(row);
        }
        match self.row_mut(row) {
            Some(r) => {
                r.set(col, text);
                true
            }
            None => false,
        }
    }

    /// Notes that `row` has content in a column that is not kept, so that
    /// the row is still returned; false once the row limit is exceeded.
    fn touch(&mut self, row: u32) -> bool {
        self.row_mut(row).is_some()
    }

    fn row_mut(&mut self, row: u32) -> Option<&mut GridRow> {
        let is_new = self.rows.last().is_none_or(|last| last.index != row);
        if is_new {
            if self.rows.len() >= self.limit {
                return None;
            }
            self.rows.push(GridRow { index: row, cells: Vec::new() });
        }
        self.rows.last_mut()
    }

    fn finish(mut self, merges: Vec<Dimensions>) -> Grid {
        if !self.rows.is_sorted_by_key(|r| r.index) {
            self.rows.sort_by_key(|r| r.index);
            let mut merged: Vec<GridRow> = Vec::with_capacity(self.rows.len());
            for row in self.rows {
                match merged.last_mut() {
                    Some(last) if last.index == row.index => {
                        for (c, v) in row.cells {
                            last.set(c, v);
                        }
                    }
                    _ => merged.push(row),
                }
            }
            self.rows = merged;
        }
        Grid { rows: self.rows, merges }
    }
}

// ---------------------------------------------------------------- cell text

fn data_text(value: &Data) -> String {
    match value {
        Data::Empty => String::new(),
        Data::String(s) => normalize_text(s),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format_number(*f),
        Data::Bool(b) => bool_text(*b),
        Data::DateTime(dt) => excel_datetime_text(dt),
        Data::DateTimeIso(s) => iso_datetime_text(s),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

fn data_ref_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Empty => String::new(),
        DataRef::String(s) => normalize_text(s),
        DataRef::SharedString(s) => normalize_text(s),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => format_number(*f),
        DataRef::Bool(b) => bool_text(*b),
        DataRef::DateTime(dt) => excel_datetime_text(dt),
        DataRef::DateTimeIso(s) => iso_datetime_text(s),
        DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => e.to_string(),
    }
}

/// Whether a cell is empty without making its text (for columns not kept).
fn is_blank(value: &Data) -> bool {
    match value {
        Data::Empty => true,
        Data::String(s) => is_blank_text(s),
        _ => false,
    }
}

fn is_blank_ref(value: &DataRef<'_>) -> bool {
    match value {
        DataRef::Empty => true,
        DataRef::String(s) => is_blank_text(s),
        DataRef::SharedString(s) => is_blank_text(s),
        _ => false,
    }
}

fn bool_text(b: bool) -> String {
    if b { "TRUE" } else { "FALSE" }.to_string()
}

/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`, or `HH:MM[:SS]` for a time alone;
/// rounded to the second.
fn excel_datetime_text(dt: &ExcelDateTime) -> String {
    let value = dt.as_f64();
    if dt.is_duration() || !(0.0..2_958_466.0).contains(&value) {
        return format_number(value);
    }
    if value < 1.0 {
        // Bounded by the range check: 0 <= seconds <= 86400.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let seconds = (value * 86_400.0).round() as u32 % 86_400;
        return clock_text(seconds / 3600, seconds / 60 % 60, seconds % 60).unwrap_or_else(|| "00:00".to_string());
    }
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    let date = Month::try_from(mo).ok().and_then(|m| Date::from_calendar_date(i32::from(y), m, d).ok());
    let time = Time::from_hms(h, mi, s).ok();
    let (Some(date), Some(time)) = (date, time) else {
        // Excel's fictitious 1900-02-29.
        return format!("{y:04}-{mo:02}-{d:02}");
    };
    let mut at = PrimitiveDateTime::new(date, time);
    if ms >= 500 {
        at += time::Duration::SECOND;
    }
    let date = format!("{:04}-{:02}-{:02}", at.year(), u8::from(at.month()), at.day());
    match clock_text(u32::from(at.hour()), u32::from(at.minute()), u32::from(at.second())) {
        Some(t) => format!("{date} {t}"),
        None => date,
    }
}

/// `HH:MM`, or `HH:MM:SS` when there are seconds; None at midnight.
fn clock_text(h: u32, mi: u32, s: u32) -> Option<String> {
    match (h, mi, s) {
        (0, 0, 0) => None,
        (h, mi, 0) => Some(format!("{h:02}:{mi:02}")),
        (h, mi, s) => Some(format!("{h:02}:{mi:02}:{s:02}")),
    }
}

/// ODS dates: `2020-08-06` or `2020-08-06T14:30:00`.
fn iso_datetime_text(s: &str) -> String {
    match s.split_once('T') {
        None => s.to_string(),
        Some((date, time)) => {
            let time = time.split(['.', 'Z', '+']).next().unwrap_or_default();
            match time {
                "00:00:00" | "00:00" | "" => date.to_string(),
                t if t.len() == 8 && t.ends_with(":00") => format!("{date} {}", t.get(..5).unwrap_or(t)),
                t => format!("{date} {t}"),
            }
        }
    }
}

// ---------------------------------------------------------------- workbooks

/// A workbook whose sheets can be read in full or just their first rows.
trait Source {
    /// Worksheets in tab order: (name, visible).
    fn sheets(&self) -> Vec<(String, bool)>;
    /// The cells a pass needs; merged areas only for [`Pass::Full`].
    fn grid(&mut self, name: &str, pass: &Pass, ctx: &Ctx<'_>) -> Result<Grid, ImportError>;
}

fn worksheets(meta: &[calamine::Sheet]) -> Vec<(String, bool)> {
    meta.iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| (s.name.clone(), s.visible == SheetVisible::Visible))
        .collect()
}

struct XlsxSource<'a>(calamine::Xlsx<Cursor<&'a [u8]>>);

impl Source for XlsxSource<'_> {
    fn sheets(&self) -> Vec<(String, bool)> {
        worksheets(self.0.sheets_metadata())
    }

    fn grid(&mut self, name: &str, pass: &Pass, ctx: &Ctx<'_>) -> Result<Grid, ImportError> {
        let mut builder = GridBuilder::new(pass, ctx);
        {
            let mut reader = self.0.worksheet_cells_reader(name).map_err(|e| ctx.damaged(e))?;
            while let Some(cell) = reader.next_cell().map_err(|e| ctx.damaged(e))? {
                let (row, col) = cell.get_position();
                let value = cell.get_value();
                let kept = if builder.wants(col) {
                    builder.push(row, col, data_ref_text(value))
                } else {
                    is_blank_ref(value) || builder.touch(row)
                };
                if !kept {
                    match pass {
                        Pass::Head(_) => break,
                        Pass::Full(_) => return Err(ctx.too_large()),
                    }
                }
            }
        }
        let merges = match pass {
            Pass::Head(_) => Vec::new(),
            Pass::Full(_) => self.0.merge_cells_by_sheet_name(name).map_err(|e| ctx.damaged(e))?,
        };
        Ok(builder.finish(merges))
    }
}

enum RangeSource<'a> {
    Xls(calamine::Xls<Cursor<&'a [u8]>>),
    Xlsb(calamine::Xlsb<Cursor<&'a [u8]>>),
    Ods(calamine::Ods<Cursor<&'a [u8]>>),
}

impl Source for RangeSource<'_> {
    fn sheets(&self) -> Vec<(String, bool)> {
        match self {
            RangeSource::Xls(b) => worksheets(b.sheets_metadata()),
            RangeSource::Xlsb(b) => worksheets(b.sheets_metadata()),
            RangeSource::Ods(b) => worksheets(b.sheets_metadata()),
        }
    }

    fn grid(&mut self, name: &str, pass: &Pass, ctx: &Ctx<'_>) -> Result<Grid, ImportError> {
        let (range, merges) = match self {
            RangeSource::Xls(b) => {
                let range = b.worksheet_range(name).map_err(|e| ctx.damaged(e))?;
                let merges = b.merge_cells_by_sheet_name(name).unwrap_or_default();
                (range, merges)
            }
            RangeSource::Xlsb(b) => (b.worksheet_range(name).map_err(|e| ctx.damaged(e))?, Vec::new()),
            RangeSource::Ods(b) => (b.worksheet_range(name).map_err(|e| ctx.damaged(e))?, Vec::new()),
        };
        let mut builder = GridBuilder::new(pass, ctx);
        let (top, left) = range.start().unwrap_or((0, 0));
        'rows: for (r, row) in (top..).zip(range.rows()) {
            for (c, value) in (left..).zip(row) {
                let kept = if builder.wants(c) {
                    builder.push(r, c, data_text(value))
                } else {
                    is_blank(value) || builder.touch(r)
                };
                if !kept {
                    match pass {
                        Pass::Head(_) => break 'rows,
                        Pass::Full(_) => return Err(ctx.too_large()),
                    }
                }
            }
        }
        let merges = match pass {
            Pass::Head(_) => Vec::new(),
            Pass::Full(_) => merges,
        };
        Ok(builder.finish(merges))
    }
}

fn read_workbook<S: Source>(mut source: S, ctx: &Ctx<'_>) -> Result<ImportTable, ImportError> {
    let mut sheets = source.sheets();
    // Visible sheets first, each group in tab order.
    sheets.sort_by_key(|(_, visible)| !*visible);
    let mut best: Option<Candidate> = None;
    for (name, _) in &sheets {
        let head = source.grid(name, &Pass::Head(ctx.options.header_search_rows), ctx)?;
        let candidate = Candidate::score(name.clone(), &head, ctx);
        if best.as_ref().is_none_or(|b| candidate.better_than(b)) {
            best = Some(candidate);
        }
    }
    let Some(best) = best else {
        return Err(ctx.no_header(Candidate::empty(String::new())));
    };
    if !best.is_header(ctx) {
        return Err(ctx.no_header(best));
    }
    let grid = source.grid(&best.sheet, &Pass::Full(best.columns()), ctx)?;
    ctx.finish(best, grid)
}

// ---------------------------------------------------------------- CSV

/// A decoded CSV file and its separator.
struct CsvText<'b> {
    text: Cow<'b, str>,
    /// Byte offset of the data after a `sep=` line.
    start: usize,
    delimiter: u8,
}

impl<'b> CsvText<'b> {
    fn decode(bytes: &'b [u8]) -> Self {
        let text = decode_text(bytes);
        let (start, forced) = match text.split_once('\n') {
            Some((first, _)) if first.trim_end().to_ascii_lowercase().starts_with("sep=") => {
                let sep = first.trim_end().chars().nth(4).and_then(|c| u8::try_from(c).ok());
                (first.len() + 1, sep)
            }
            _ => (0, None),
        };
        let delimiter = forced.unwrap_or_else(|| detect_delimiter(text.get(start..).unwrap_or_default()));
        Self { text, start, delimiter }
    }

    fn grid(&self, pass: &Pass, ctx: &Ctx<'_>) -> Result<Grid, ImportError> {
        let text = self.text.get(self.start..).unwrap_or_default();
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(text.as_bytes());
        let mut builder = GridBuilder::new(pass, ctx);
        // Excel's row of a record: the line breaks before it (blank lines, which
        // the parser skips, count as rows in Excel) less those inside quoted
        // fields of earlier records.
        let mut counted_to = 0usize;
        let mut line_breaks = 0usize;
        let mut inside_fields = 0usize;
        let mut record = ::csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(ctx.damaged(e)),
            }
            let reported = record.position().map_or(counted_to, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
            let start = text
                .get(reported..)
                .map_or(reported, |rest| reported + (rest.len() - rest.trim_start_matches(['\r', '\n']).len()));
            if start > counted_to {
                line_breaks += text.get(counted_to..start).map_or(0, |s| s.matches('\n').count());
                counted_to = start;
            }
            let row = u32::try_from(line_breaks.saturating_sub(inside_fields)).unwrap_or(u32::MAX);
            inside_fields += record.iter().map(|f| f.matches('\n').count()).sum::<usize>();
            for (col, field) in (0u32..).zip(record.iter()) {
                let field = match field.strip_prefix('\'') {
                    Some(rest) if starts_like_formula(rest) => rest,
                    _ => field,
                };
                let kept = if builder.wants(col) {
                    builder.push(row, col, normalize_text(field))
                } else {
                    is_blank_text(field) || builder.touch(row)
                };
                if !kept {
                    return match pass {
                        Pass::Head(_) => Ok(builder.finish(Vec::new())),
                        Pass::Full(_) => Err(ctx.too_large()),
                    };
                }
            }
        }
        Ok(builder.finish(Vec::new()))
    }
}

/// UTF-8 (BOM or not), UTF-16 with BOM, else GB18030 (a superset of GBK).
/// UTF-8 is borrowed, not copied.
fn decode_text(bytes: &[u8]) -> Cow<'_, str> {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let body = bytes.get(bom_len..).unwrap_or_default();
        return encoding.decode_without_bom_handling(body).0;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(bytes).0,
    }
}

/// The separator that splits the first lines into the same number (> 1) of
/// fields most often; comma when none does.
fn detect_delimiter(text: &str) -> u8 {
    let sample: String = text.lines().take(30).collect::<Vec<_>>().join("\n");
    let mut best = (0usize, 0usize, b',');
    for delimiter in [b',', b'\t', b';'] {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(sample.as_bytes());
        let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
        for record in reader.records().map_while(Result::ok) {
            if record.len() > 1 {
                *counts.entry(record.len()).or_default() += 1;
            }
        }
        let (fields, lines) = counts.into_iter().max_by_key(|&(fields, lines)| (lines, fields)).unwrap_or((0, 0));
        if (lines, fields) > (best.0, best.1) {
            best = (lines, fields, delimiter);
        }
    }
    best.2
}

// ---------------------------------------------------------------- headers

struct Ctx<'a> {
    file_name: &'a str,
    specs: &'a [ColumnSpec],
    options: &'a ImportOptions,
}

impl Ctx<'_> {
    /// Non-empty rows to hold at most: the data plus the rows above it.
    fn row_cap(&self) -> usize {
        self.options.max_rows.saturating_add(self.options.header_search_rows)
    }

    fn damaged(&self, e: impl fmt::Display) -> ImportError {
        ImportError::Damaged { file_name: self.file_name.to_string(), detail: e.to_string() }
    }

    fn too_large(&self) -> ImportError {
        ImportError::TooLarge { file_name: self.file_name.to_string(), max_rows: self.options.max_rows }
    }

    fn no_header(&self, best: Candidate) -> ImportError {
        let expected = self
            .specs
            .iter()
            .map(|s| {
                let name = s.aliases.first().copied().unwrap_or(s.key);
                if s.required { format!("{name}*") } else { name.to_string() }
            })
            .collect();
        ImportError::NoHeader {
            file_name: self.file_name.to_string(),
            sheet: best.sheet,
            row: best.row.map(|r| r + 1),
            expected,
            found: best.texts,
        }
    }

    fn finish(&self, header: Candidate, mut grid: Grid) -> Result<ImportTable, ImportError> {
        if !header.is_header(self) {
            return Err(self.no_header(header));
        }
        let Some(header_index) = header.row else {
            return Err(self.no_header(header));
        };
        fill_merges(&mut grid, header_index);

        let columns: Vec<MatchedColumn> = header
            .matched
            .iter()
            .filter_map(|&(col, spec, ref text)| {
                self.specs.get(spec).map(|s| MatchedColumn { key: s.key, index: col, header: text.clone() })
            })
            .collect();
        let mut rows = Vec::new();
        // Moves the texts out of the grid, row by row, to keep the peak low.
        for row in grid.rows.into_iter().filter(|r| r.index > header_index) {
            let values: BTreeMap<&'static str, String> = row
                .cells
                .into_iter()
                .filter(|(_, text)| !text.is_empty())
                .filter_map(|(col, text)| columns.iter().find(|c| c.index == col).map(|c| (c.key, text)))
                .collect();
            rows.push(ImportRow { line: row.index.saturating_add(1), values });
        }
        if rows.len() > self.options.max_rows {
            return Err(self.too_large());
        }
        let missing_required = self
            .specs
            .iter()
            .filter(|s| s.required && !columns.iter().any(|c| c.key == s.key))
            .map(|s| s.key)
            .collect();
        Ok(ImportTable {
            sheet: header.sheet,
            header_row: header_index + 1,
            columns,
            unknown_headers: header.unknown,
            missing_required,
            rows,
        })
    }
}

/// The best header row of one sheet.
struct Candidate {
    sheet: String,
    /// 0-based row index, None when the sheet is empty.
    row: Option<u32>,
    /// (column, spec index, header text), left to right.
    matched: Vec<(u32, usize, String)>,
    unknown: Vec<String>,
    required: usize,
    /// All texts of the row, for the error message.
    texts: Vec<String>,
}

impl Candidate {
    fn empty(sheet: String) -> Self {
        Self { sheet, row: None, matched: Vec::new(), unknown: Vec::new(), required: 0, texts: Vec::new() }
    }

    /// The matched column indexes, sorted.
    fn columns(&self) -> Vec<u32> {
        let mut columns: Vec<u32> = self.matched.iter().map(|(c, _, _)| *c).collect();
        columns.sort_unstable();
        columns
    }

    fn key(&self) -> (usize, usize) {
        (self.matched.len(), self.required)
    }

    fn better_than(&self, other: &Candidate) -> bool {
        self.key() > other.key() || (other.row.is_none() && self.row.is_some() && self.key() == other.key())
    }

    fn is_header(&self, ctx: &Ctx<'_>) -> bool {
        self.row.is_some() && self.matched.len() >= ctx.specs.len().min(2) && !self.matched.is_empty()
    }

    /// Scores the first rows of `grid`. When no row matches any spec, the
    /// row with the most cells is kept, for the error message.
    fn score(sheet: String, grid: &Grid, ctx: &Ctx<'_>) -> Candidate {
        let mut best = Candidate::empty(sheet.clone());
        let mut widest = 0;
        for row in grid.rows.iter().take(ctx.options.header_search_rows) {
            let candidate = match_header(sheet.clone(), row, ctx.specs);
            let wider = candidate.matched.is_empty() && best.matched.is_empty() && row.cells.len() > widest;
            if candidate.key() > best.key() || wider {
                widest = widest.max(row.cells.len());
                best = candidate;
            }
        }
        best
    }
}

fn match_header(sheet: String, row: &GridRow, specs: &[ColumnSpec]) -> Candidate {
    let cells: Vec<(u32, &str)> =
        row.cells.iter().map(|(c, s)| (*c, s.as_str())).filter(|(_, s)| !s.is_empty()).collect();
    let mut claimed_cell = vec![None::<usize>; cells.len()];
    let mut claimed_spec = vec![false; specs.len()];

    // Pass 1: exact (after normalize_text); pass 2: normalize_header.
    for normalised in [false, true] {
        for (cell_no, (_, text)) in cells.iter().enumerate() {
            if claimed_cell.get(cell_no).copied().flatten().is_some() {
                continue;
            }
            let cell_key = if normalised { normalize_header(text) } else { (*text).to_string() };
            if cell_key.is_empty() {
                continue;
            }
            let found = specs.iter().enumerate().find(|(i, spec)| {
                !claimed_spec.get(*i).copied().unwrap_or(true)
                    && spec.aliases.iter().any(|alias| {
                        let alias = if normalised { normalize_header(alias) } else { normalize_text(alias) };
                        alias == cell_key
                    })
            });
            if let Some((spec_no, _)) = found {
                if let Some(slot) = claimed_spec.get_mut(spec_no) {
                    *slot = true;
                }
                if let Some(slot) = claimed_cell.get_mut(cell_no) {
                    *slot = Some(spec_no);
                }
            }
        }
    }

    let mut matched = Vec::new();
    let mut unknown = Vec::new();
    for ((col, text), claim) in cells.iter().zip(&claimed_cell) {
        match claim {
            Some(spec) => matched.push((*col, *spec, (*text).to_string())),
            None => unknown.push((*text).to_string()),
        }
    }
    let required = matched.iter().filter(|(_, s, _)| specs.get(*s).is_some_and(|s| s.required)).count();
    Candidate {
        sheet,
        row: Some(row.index),
        matched,
        unknown,
        required,
        texts: cells.iter().map(|(_, s)| (*s).to_string()).collect(),
    }
}

/// Gives each merged area below the header its top-left value, in its
/// first column, on every row it covers that has other content.
fn fill_merges(grid: &mut Grid, header_index: u32) {
    for area in &grid.merges {
        let (top, col) = area.start;
        let bottom = area.end.0;
        if top <= header_index || bottom == top {
            continue;
        }
        let first = grid.rows.partition_point(|r| r.index < top);
        let Some(value) = grid.rows.get(first).filter(|r| r.index == top).and_then(|r| r.get(col)).map(str::to_string)
        else {
            continue;
        };
        let below = grid.rows.get_mut(first + 1..).unwrap_or_default();
        for row in below.iter_mut().take_while(|r| r.index <= bottom) {
            if row.get(col).is_none_or(str::is_empty) {
                row.set(col, value.clone());
            }
        }
    }
}
