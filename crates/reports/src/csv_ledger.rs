//! CSV ledgers, written one row at a time.
//!
//! The file is UTF-8 with a byte-order mark, so that Excel on Chinese
//! Windows opens it as UTF-8 instead of GBK; fields are separated by commas,
//! quoted only when needed (RFC 4180: a field holding a comma, a quote or a
//! line break is put in double quotes, quotes inside are doubled) and lines
//! end with CRLF. Dates are written `2021-05-06`, date-times
//! `2021-05-06 14:30`, decimals in their shortest form (`2.50` → `2.5`).
//! A CSV file has one sheet and no title row: the header is the first line.
//!
//! Text that Excel would run as a formula when the file is opened (it begins
//! with `=`, `+`, `-`, `@`, a tab or a carriage return, and is not a plain
//! number) is written with a leading `'`, as Excel itself does; the importer
//! of this crate removes that mark again.

use crate::ledger::{Cell, Column, IsoDate, IsoMinute, LedgerError};
use std::io::Write;

/// A CSV ledger being written.
pub struct CsvLedger<W: Write> {
    writer: ::csv::Writer<W>,
    columns: usize,
    row: u32,
}

impl<W: Write> CsvLedger<W> {
    /// Writes the byte-order mark and the header row.
    pub fn new(mut out: W, columns: &[Column]) -> Result<Self, LedgerError> {
        if columns.is_empty() {
            return Err(LedgerError::BadColumnCount { sheet: "CSV".to_string(), columns: 0 });
        }
        out.write_all("\u{FEFF}".as_bytes())?;
        let mut writer = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .quote_style(::csv::QuoteStyle::Necessary)
            .from_writer(out);
        writer.write_record(columns.iter().map(|c| c.header.as_str())).map_err(csv_error)?;
        Ok(Self { writer, columns: columns.len(), row: 1 })
    }

    /// Appends a row; a short row is padded with empty fields.
    pub fn append(&mut self, cells: &[Cell]) -> Result<(), LedgerError> {
        self.row += 1;
        if cells.len() > self.columns {
            return Err(LedgerError::TooManyCells {
                sheet: "CSV".to_string(),
                row: self.row,
                cells: cells.len(),
                columns: self.columns,
            });
        }
        for cell in cells {
            let field = match cell {
                Cell::Empty => String::new(),
                Cell::Text(s) => defuse_formula(s),
                Cell::Int(v) => v.to_string(),
                Cell::Decimal(d) => d.normalize().to_string(),
                Cell::Date(d) => IsoDate(*d).to_string(),
                Cell::DateTime(t) => IsoMinute(*t).to_string(),
            };
            self.writer.write_field(field).map_err(csv_error)?;
        }
        for _ in cells.len()..self.columns {
            self.writer.write_field("").map_err(csv_error)?;
        }
        self.writer.write_record(None::<&[u8]>).map_err(csv_error)?;
        Ok(())
    }

    /// Flushes and returns the output.
    pub fn finish(self) -> Result<W, LedgerError> {
        self.writer.into_inner().map_err(|e| LedgerError::Io(std::io::Error::other(e.to_string())))
    }
}

fn csv_error(e: ::csv::Error) -> LedgerError {
    if e.is_io_error() {
        match e.into_kind() {
            ::csv::ErrorKind::Io(io) => LedgerError::Io(io),
            other => LedgerError::Csv(format!("{other:?}")),
        }
    } else {
        LedgerError::Csv(e.to_string())
    }
}

/// Prefixes `'` to text that a spreadsheet would evaluate as a formula.
fn defuse_formula(s: &str) -> String {
    if starts_like_formula(s) { format!("'{s}") } else { s.to_string() }
}

/// Text beginning with `=`, `+`, `-`, `@`, tab or CR that is not a plain
/// number (and not a lone sign, which spreadsheets show as text).
pub(crate) fn starts_like_formula(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    match first {
        '=' | '@' | '\t' | '\r' => true,
        '+' | '-' => s.len() > 1 && s.parse::<f64>().is_err(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_but_numbers_and_dashes_are_not() {
        assert_eq!(defuse_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse_formula("+86 138"), "'+86 138");
        assert_eq!(defuse_formula("-12.5"), "-12.5");
        assert_eq!(defuse_formula("-"), "-");
        assert_eq!(defuse_formula("无"), "无");
    }
}
