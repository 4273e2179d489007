//! Office documents: ledgers as xlsx and CSV, tolerant import of the
//! spreadsheets offices actually keep, and official documents as docx.
