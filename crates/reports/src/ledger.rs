//! What a ledger (台账) is made of, independent of the file format: typed
//! cells, columns with Chinese headers and widths, and sheet descriptions.
//! The caller maps its own records to rows of [`Cell`]s; this crate knows
//! nothing about hazards or units.

use rust_decimal::Decimal;
use std::fmt;
use time::{Date, PrimitiveDateTime};

/// One value in a ledger row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// Written to xlsx as a number (General format), to CSV as the
    /// normalised decimal text (`2.50` → `2.5`).
    Decimal(Decimal),
    /// A calendar date: an Excel date formatted `yyyy-mm-dd`.
    Date(Date),
    /// A date and time already in Beijing local time: an Excel date formatted
    /// `yyyy-mm-dd hh:mm`.
    DateTime(PrimitiveDateTime),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}
impl From<Decimal> for Cell {
    fn from(v: Decimal) -> Self {
        Cell::Decimal(v)
    }
}
impl From<Date> for Cell {
    fn from(v: Date) -> Self {
        Cell::Date(v)
    }
}
impl From<PrimitiveDateTime> for Cell {
    fn from(v: PrimitiveDateTime) -> Self {
        Cell::DateTime(v)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// A column of a ledger sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Header text as the office expects it, e.g. `隐患名称`.
    pub header: String,
    /// Width in Excel character units, where one CJK character counts as two
    /// (see [`text_width`]). Ignored by the CSV writer.
    pub width: f64,
}

impl Column {
    pub fn new(header: impl Into<String>, width: f64) -> Self {
        Self { header: header.into(), width }
    }

    /// A column just wide enough for its header and the filter button
    /// (at least 8 units).
    pub fn fit_header(header: impl Into<String>) -> Self {
        let header = header.into();
        let width = (text_width(&header) + 3.0).max(8.0);
        Self { header, width }
    }
}

/// One sheet of a workbook: its tab name, an optional title row and the
/// columns.
#[derive(Clone, Debug, PartialEq)]
pub struct SheetSpec {
    /// Tab name. Characters Excel forbids (`[]:*?/\`) become `_`, the name is
    /// cut to 31 characters, and a repeated name gets a ` (2)` suffix.
    pub name: String,
    /// A merged, bold title row above the header, as offices do, e.g.
    /// `南翔镇问题隐患清单（导出于2021-05-06）`.
    pub title: Option<String>,
    pub columns: Vec<Column>,
}

impl SheetSpec {
    pub fn new(name: impl Into<String>, columns: Vec<Column>) -> Self {
        Self { name: name.into(), title: None, columns }
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

/// Display width of text in Excel character units: East Asian wide and
/// full-width characters count 2, everything else 1.
pub fn text_width(s: &str) -> f64 {
    s.chars().map(|c| if is_wide(c) { 2.0 } else { 1.0 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

/// Why a ledger could not be written. Every variant has a message in
/// Chinese ([`LedgerError::zh`]) and English ([`LedgerError::en`]);
/// `Display` shows both.
#[derive(Debug)]
pub enum LedgerError {
    /// The output file or stream failed.
    Io(std::io::Error),
    /// A row was appended to a sheet index that `add_sheet` never returned.
    NoSuchSheet(usize),
    /// A row has more cells than the sheet has columns.
    TooManyCells { sheet: String, row: u32, cells: usize, columns: usize },
    /// Excel's limit of 1,048,576 rows per sheet was reached.
    TooManyRows(String),
    /// A sheet needs at least one column, and Excel at most 16,384.
    BadColumnCount { sheet: String, columns: usize },
    /// The xlsx library reported a problem.
    Xlsx(String),
    /// The CSV writer reported a problem.
    Csv(String),
}

impl LedgerError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::Io(_) => "export_io",
            LedgerError::NoSuchSheet(_) => "export_no_such_sheet",
            LedgerError::TooManyCells { .. } => "export_too_many_cells",
            LedgerError::TooManyRows(_) => "export_too_many_rows",
            LedgerError::BadColumnCount { .. } => "export_bad_column_count",
            LedgerError::Xlsx(_) => "export_xlsx",
            LedgerError::Csv(_) => "export_csv",
        }
    }

    /// The message in Chinese.
    pub fn zh(&self) -> String {
        match self {
            LedgerError::Io(e) => format!("写入导出文件失败：{e}"),
            LedgerError::NoSuchSheet(i) => format!("工作表序号 {i} 不存在"),
            LedgerError::TooManyCells { sheet, row, cells, columns } => {
                format!("工作表“{sheet}”第 {row} 行有 {cells} 个单元格，但该表只有 {columns} 列")
            }
            LedgerError::TooManyRows(sheet) => {
                format!("工作表“{sheet}”超过 Excel 的最大行数 1048576，请分批导出")
            }
            LedgerError::BadColumnCount { sheet, columns } => {
                format!("工作表“{sheet}”有 {columns} 列，列数须在 1 到 16384 之间")
            }
            LedgerError::Xlsx(e) => format!("生成 Excel 文件失败：{e}"),
            LedgerError::Csv(e) => format!("生成 CSV 文件失败：{e}"),
        }
    }

    /// The message in English.
    pub fn en(&self) -> String {
        match self {
            LedgerError::Io(e) => format!("Could not write the export file: {e}"),
            LedgerError::NoSuchSheet(i) => format!("There is no sheet with index {i}"),
            LedgerError::TooManyCells { sheet, row, cells, columns } => {
                format!("Row {row} of sheet \"{sheet}\" has {cells} cells but the sheet has {columns} columns")
            }
            LedgerError::TooManyRows(sheet) => {
                format!("Sheet \"{sheet}\" exceeds Excel's limit of 1,048,576 rows; export in parts")
            }
            LedgerError::BadColumnCount { sheet, columns } => {
                format!("Sheet \"{sheet}\" has {columns} columns; it needs between 1 and 16,384")
            }
            LedgerError::Xlsx(e) => format!("Could not build the Excel file: {e}"),
            LedgerError::Csv(e) => format!("Could not build the CSV file: {e}"),
        }
    }
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.zh(), self.en())
    }
}

impl std::error::Error for LedgerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LedgerError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for LedgerError {
    fn from(e: std::io::Error) -> Self {
        LedgerError::Io(e)
    }
}

impl From<rust_xlsxwriter::XlsxError> for LedgerError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        match e {
            rust_xlsxwriter::XlsxError::IoError(io) => LedgerError::Io(io),
            other => LedgerError::Xlsx(other.to_string()),
        }
    }
}

/// `2021-05-06`
pub(crate) struct IsoDate(pub Date);

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(f, "{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    }
}

/// `2021-05-06 14:30`
pub(crate) struct IsoMinute(pub PrimitiveDateTime);

impl fmt::Display for IsoMinute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(f, "{} {:02}:{:02}", IsoDate(t.date()), t.hour(), t.minute())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_counts_double() {
        assert_eq!(text_width("隐患名称"), 8.0);
        assert_eq!(text_width("ID号"), 4.0);
        assert_eq!(text_width("（万元）"), 8.0);
        assert_eq!(Column::fit_header("序号").width, 8.0);
        assert_eq!(Column::fit_header("整改责任单位").width, 15.0);
    }

    #[test]
    fn errors_split_into_two_languages() {
        let e = LedgerError::BadColumnCount { sheet: "台账".into(), columns: 0 };
        assert_eq!(e.zh(), "工作表“台账”有 0 列，列数须在 1 到 16384 之间");
        assert_eq!(e.en(), "Sheet \"台账\" has 0 columns; it needs between 1 and 16,384");
        assert_eq!(e.to_string(), format!("{} / {}", e.zh(), e.en()));
    }
}
