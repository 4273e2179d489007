//! Office documents: ledgers as xlsx and CSV, tolerant import of the
//! spreadsheets offices actually keep, and official documents as docx.
//!
//! - [`XlsxLedger`] and [`CsvLedger`] write ledgers (台账) row by row, in
//!   constant memory, from the caller's [`Cell`]s.
//! - [`read_table`] reads xlsx, xls, ods and CSV files as offices keep them
//!   (title rows, merged cells, GBK CSV …) into the columns the caller asks
//!   for; [`parse_date`] and [`normalize_text`] clean what it returns.
//! - [`svg`] draws the cockpit's charts as inline SVG.
//! - [`docx`] writes official documents (公文) as Word files, and
//!   [`circular`] lays out the office's circulars (通报) with it.

pub mod circular;
pub mod docx;
mod csv_ledger;
mod import;
mod ledger;
pub mod svg;
mod text;
mod xlsx;

pub use csv_ledger::CsvLedger;
pub use import::{
    ColumnSpec, ImportError, ImportOptions, ImportRow, ImportTable, MatchedColumn, read_table, read_table_with,
};
pub use ledger::{Cell, Column, LedgerError, SheetSpec, text_width};
pub use text::{format_number, normalize_header, normalize_text, parse_date};
pub use xlsx::XlsxLedger;
