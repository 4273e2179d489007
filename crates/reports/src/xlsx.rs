//! Streaming xlsx ledgers.
//!
//! Every sheet is a `rust_xlsxwriter` worksheet in *constant memory* mode: a
//! row goes to a temporary file (in the system temp directory, or the one
//! given to [`XlsxLedger::set_tempdir`]) as soon as the next row starts, so
//! memory stays flat whatever the number of rows. The price is the one
//! constraint of this API: **rows of one sheet are written in order** — which
//! [`XlsxLedger::append`] guarantees by always writing the next row. Rows of
//! different sheets may be interleaved freely (each sheet has its own temp
//! file); headers, title and widths are fixed when the sheet is added.
//!
//! The layout is what offices expect of a 台账: an optional merged, bold title
//! row, a bold header row with filter buttons that stays in view when
//! scrolling (frozen panes), wrapped text, dates as real Excel dates shown as
//! `yyyy-mm-dd` (`yyyy-mm-dd hh:mm` for date-times), and numbers as numbers.

use crate::ledger::{Cell, IsoDate, LedgerError, SheetSpec};
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet};
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Excel's last row index (0-based).
const MAX_ROW: u32 = 1_048_575;
/// Excel's column count.
const MAX_COLUMNS: usize = 16_384;
/// Excel keeps at most this many UTF-16 units in a cell.
const MAX_CELL_UTF16: usize = 32_767;
/// Integers beyond this are written as text so that no digit is lost
/// (Excel keeps 15 significant digits).
const MAX_EXACT_INT: i64 = 999_999_999_999_999;

/// A workbook being written, one row at a time.
///
/// ```no_run
/// use bihuan_reports::{Cell, Column, SheetSpec, XlsxLedger};
/// # fn main() -> Result<(), bihuan_reports::LedgerError> {
/// let mut book = XlsxLedger::create("/tmp/隐患清单.xlsx")?;
/// let items = book.add_sheet(
///     &SheetSpec::new("问题隐患清单", vec![Column::new("序号", 6.0), Column::new("隐患名称", 40.0)])
///         .with_title("南翔镇问题隐患清单（导出于2021-05-06）"),
/// )?;
/// book.append(items, &[Cell::Int(1), Cell::from("消防通道堵塞")])?;
/// book.finish()?;
/// # Ok(()) }
/// ```
pub struct XlsxLedger<W: Write + Send> {
    workbook: Workbook,
    sheets: Vec<SheetState>,
    formats: Formats,
    out: W,
}

struct SheetState {
    name: String,
    columns: usize,
    header_row: u32,
    next_row: u32,
}

struct Formats {
    title: Format,
    header: Format,
    body: Format,
    date: Format,
    datetime: Format,
}

impl Formats {
    fn new() -> Self {
        let body = Format::new().set_text_wrap().set_align(FormatAlign::VerticalCenter);
        Self {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_border(FormatBorder::Thin)
                .set_background_color(0xD9D9D9),
            date: Format::new().set_num_format("yyyy-mm-dd").set_align(FormatAlign::VerticalCenter),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm").set_align(FormatAlign::VerticalCenter),
            body,
        }
    }
}

impl XlsxLedger<BufWriter<File>> {
    /// Creates (or truncates) the file at `path` now, so that a bad path is
    /// reported before any row is prepared.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, LedgerError> {
        let file = File::create(path)?;
        Ok(Self::new(BufWriter::new(file)))
    }
}

impl<W: Write + Send> XlsxLedger<W> {
    /// A ledger written to `out` when [`finish`](Self::finish) is called
    /// (e.g. an HTTP response body, or a `Vec<u8>`). The zip stream is
    /// written sequentially; `out` need not be seekable.
    pub fn new(out: W) -> Self {
        let mut workbook = Workbook::new();
        // Level 3 is ~30% faster than the default 6 for ~5% larger files.
        workbook.set_zip_compression_level(3);
        Self { workbook, sheets: Vec::new(), formats: Formats::new(), out }
    }

    /// Where the per-sheet temporary files go (default: the system temp
    /// directory). Call before the first [`add_sheet`](Self::add_sheet).
    pub fn set_tempdir(&mut self, dir: impl AsRef<Path>) -> Result<(), LedgerError> {
        self.workbook.set_tempdir(dir)?;
        Ok(())
    }

    /// Adds a sheet and writes its title and header rows. Returns the index
    /// to pass to [`append`](Self::append).
    pub fn add_sheet(&mut self, spec: &SheetSpec) -> Result<usize, LedgerError> {
        let columns = spec.columns.len();
        if columns == 0 || columns > MAX_COLUMNS {
            return Err(LedgerError::BadColumnCount { sheet: spec.name.clone(), columns });
        }
        let last_col = u16::try_from(columns - 1)
            .map_err(|_| LedgerError::BadColumnCount { sheet: spec.name.clone(), columns })?;
        let name = unique_sheet_name(&spec.name, self.sheets.iter().map(|s| s.name.as_str()));
        let formats = &self.formats;
        let sheet = self.workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(name.as_str())?;

        for (col, column) in (0u16..).zip(&spec.columns) {
            let width = if column.width.is_finite() { column.width.clamp(1.0, 255.0) } else { 10.0 };
            sheet.set_column_width(col, width)?;
            sheet.set_column_format(col, &formats.body)?;
        }

        let mut header_row = 0;
        if let Some(title) = &spec.title {
            if last_col == 0 {
                sheet.write_string_with_format(0, 0, title.as_str(), &formats.title)?;
            } else {
                sheet.merge_range(0, 0, 0, last_col, title, &formats.title)?;
            }
            sheet.set_row_height(0, 30)?;
            header_row = 1;
        }
        for (col, column) in (0u16..).zip(&spec.columns) {
            sheet.write_string_with_format(header_row, col, column.header.as_str(), &formats.header)?;
        }
        sheet.set_freeze_panes(header_row + 1, 0)?;

        self.sheets.push(SheetState { name, columns, header_row, next_row: header_row + 1 });
        Ok(self.sheets.len() - 1)
    }

    /// Appends the next row of `sheet`. A row may be shorter than the sheet
    /// (missing cells stay empty) but not longer. Text longer than Excel's
    /// 32,767-character cell limit is cut and ends with `…`.
    pub fn append(&mut self, sheet: usize, cells: &[Cell]) -> Result<(), LedgerError> {
        let state = self.sheets.get_mut(sheet).ok_or(LedgerError::NoSuchSheet(sheet))?;
        let row = state.next_row;
        if cells.len() > state.columns {
            return Err(LedgerError::TooManyCells {
                sheet: state.name.clone(),
                row: row + 1,
                cells: cells.len(),
                columns: state.columns,
            });
        }
        if row > MAX_ROW {
            return Err(LedgerError::TooManyRows(state.name.clone()));
        }
        let ws = self.workbook.worksheet_from_index(sheet)?;
        for (col, cell) in (0u16..).zip(cells) {
            write_cell(ws, &self.formats, row, col, cell)?;
        }
        state.next_row = row + 1;
        Ok(())
    }

    /// Number of data rows appended to `sheet` so far.
    pub fn rows(&self, sheet: usize) -> Option<u32> {
        self.sheets.get(sheet).map(|s| s.next_row - s.header_row - 1)
    }

    /// Puts the filter buttons on each header, assembles the workbook into
    /// the output and returns it (flushed).
    pub fn finish(mut self) -> Result<W, LedgerError> {
        for (index, state) in self.sheets.iter().enumerate() {
            let last_col = u16::try_from(state.columns.saturating_sub(1)).unwrap_or(u16::MAX);
            let last_row = state.next_row.saturating_sub(1).max(state.header_row);
            let ws = self.workbook.worksheet_from_index(index)?;
            ws.autofilter(state.header_row, 0, last_row, last_col)?;
        }
        self.workbook.save_to_writer(&mut self.out)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn write_cell(ws: &mut Worksheet, formats: &Formats, row: u32, col: u16, cell: &Cell) -> Result<(), LedgerError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(s) => {
            if !s.is_empty() {
                ws.write_string(row, col, fit_cell(s).as_ref())?;
            }
        }
        Cell::Int(v) => {
            if (-MAX_EXACT_INT..=MAX_EXACT_INT).contains(v) {
                // Exact: |v| < 2^53.
                ws.write_number(row, col, *v as f64)?;
            } else {
                ws.write_string(row, col, v.to_string())?;
            }
        }
        Cell::Decimal(d) => match d.to_f64() {
            Some(v) if v.is_finite() => {
                ws.write_number(row, col, v)?;
            }
            _ => {
                ws.write_string(row, col, d.normalize().to_string())?;
            }
        },
        Cell::Date(d) => match excel_date(*d) {
            Some(x) => {
                ws.write_datetime_with_format(row, col, &x, &formats.date)?;
            }
            None => {
                ws.write_string(row, col, IsoDate(*d).to_string())?;
            }
        },
        Cell::DateTime(t) => {
            let x = excel_date(t.date()).and_then(|x| x.and_hms(u16::from(t.hour()), t.minute(), t.second()).ok());
            match x {
                Some(x) => {
                    ws.write_datetime_with_format(row, col, &x, &formats.datetime)?;
                }
                None => {
                    ws.write_string(row, col, crate::ledger::IsoMinute(*t).to_string())?;
                }
            }
        }
    }
    Ok(())
}

/// Excel dates run from 1900-01-01 to 9999-12-31; others stay text.
fn excel_date(d: time::Date) -> Option<ExcelDateTime> {
    let year = u16::try_from(d.year()).ok()?;
    ExcelDateTime::from_ymd(year, u8::from(d.month()), d.day()).ok()
}

/// Text that fits in one Excel cell: longer text is cut and ends with `…`.
fn fit_cell(s: &str) -> Cow<'_, str> {
    if s.len() <= MAX_CELL_UTF16 {
        // Each UTF-16 unit takes at least one UTF-8 byte.
        return Cow::Borrowed(s);
    }
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > MAX_CELL_UTF16 - 1 {
            let mut cut = s.get(..i).unwrap_or_default().to_string();
            cut.push('…');
            return Cow::Owned(cut);
        }
    }
    Cow::Borrowed(s)
}

/// A tab name Excel accepts, not yet used in this workbook.
fn unique_sheet_name<'a>(wanted: &str, taken: impl Iterator<Item = &'a str> + Clone) -> String {
    let cleaned: String = wanted
        .chars()
        .map(|c| if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control() { '_' } else { c })
        .collect();
    let cleaned = cleaned.trim().trim_matches('\'').trim();
    let base: String = if cleaned.is_empty() || cleaned.eq_ignore_ascii_case("history") {
        format!("{cleaned}Sheet")
    } else {
        cleaned.to_string()
    };
    let is_taken = |name: &str| taken.clone().any(|t| t.to_lowercase() == name.to_lowercase());
    let first: String = base.chars().take(31).collect();
    if !is_taken(&first) {
        return first;
    }
    (2u32..)
        .map(|n| {
            let suffix = format!(" ({n})");
            let keep = 31 - suffix.chars().count();
            let mut name: String = base.chars().take(keep).collect();
            name.push_str(&suffix);
            name
        })
        .find(|name| !is_taken(name))
        .unwrap_or_else(|| "Sheet".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_made_acceptable_and_unique() {
        let none: [&str; 0] = [];
        assert_eq!(unique_sheet_name("隐患[2021]/清单", none.iter().copied()), "隐患_2021__清单");
        assert_eq!(unique_sheet_name("", none.iter().copied()), "Sheet");
        let taken = ["问题隐患清单"];
        assert_eq!(unique_sheet_name("问题隐患清单", taken.iter().copied()), "问题隐患清单 (2)");
        let long = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三";
        let n = unique_sheet_name(long, none.iter().copied());
        assert_eq!(n.chars().count(), 31);
        let taken = [n.as_str()];
        let m = unique_sheet_name(long, taken.iter().copied());
        assert_eq!(m.chars().count(), 31);
        assert!(m.ends_with(" (2)"));
    }

    #[test]
    fn long_text_is_cut_to_the_cell_limit() {
        let s = "隐".repeat(40_000);
        let cut = fit_cell(&s);
        assert_eq!(cut.chars().count(), MAX_CELL_UTF16);
        assert!(cut.ends_with("隐…"));
        assert_eq!(fit_cell("短"), "短");
    }
}
