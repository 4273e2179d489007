//! Ledgers written by this crate: layout checked in the xlsx parts, values
//! checked by reading them back.

use crate::support::zip_part;
use bihuan_reports::{Cell, Column, ColumnSpec, CsvLedger, LedgerError, SheetSpec, XlsxLedger, read_table};
use rust_decimal::Decimal;
use std::io::Cursor;
use time::macros::{date, datetime};

const LEDGER_SPECS: &[ColumnSpec] = &[
    ColumnSpec { key: "no", aliases: &["序号"], required: true },
    ColumnSpec { key: "unit", aliases: &["单位名称"], required: true },
    ColumnSpec { key: "title", aliases: &["隐患名称"], required: true },
    ColumnSpec { key: "found_on", aliases: &["发现日期"], required: true },
    ColumnSpec { key: "verified_at", aliases: &["复核时间"], required: false },
    ColumnSpec { key: "funds", aliases: &["整改资金（万元）"], required: false },
];

fn items_spec() -> SheetSpec {
    SheetSpec::new(
        "问题隐患清单",
        vec![
            Column::new("序号", 6.0),
            Column::fit_header("单位名称"),
            Column::new("隐患名称", 40.0),
            Column::new("发现日期", 12.0),
            Column::new("复核时间", 17.0),
            Column::new("整改资金（万元）", 12.0),
        ],
    )
    .with_title("南翔镇问题隐患清单（导出于2021-05-06）")
}

fn items() -> Vec<Vec<Cell>> {
    vec![
        vec![
            Cell::Int(1),
            Cell::from("上海翔联包装材料有限公司"),
            Cell::from("消防通道堵塞，\"A\"区"),
            Cell::Date(date!(2020 - 08 - 06)),
            Cell::DateTime(datetime!(2020-08-20 14:30)),
            Cell::Decimal(Decimal::new(250, 2)),
        ],
        vec![
            Cell::Int(2),
            Cell::from("南翔古猗园餐饮管理有限公司"),
            Cell::from("1.燃气管道无泄漏报警\n2.灭火器过期"),
            Cell::Date(date!(2021 - 02 - 28)),
            Cell::Empty,
            Cell::Decimal(Decimal::new(3, 1)),
        ],
        // A short row: the missing cells stay empty.
        vec![
            Cell::Int(3),
            Cell::from("上海启翔仓储物流有限公司"),
            Cell::from("=1+1"),
            Cell::Date(date!(1999 - 12 - 31)),
        ],
    ]
}

fn write_items() -> Vec<u8> {
    let mut book = XlsxLedger::new(Cursor::new(Vec::new()));
    let sheet = book.add_sheet(&items_spec()).unwrap();
    let timeline =
        book.add_sheet(&SheetSpec::new("处理过程", vec![Column::new("序号", 6.0), Column::new("环节", 10.0)])).unwrap();
    // Interleaved: each sheet's rows in order, the sheets in any order.
    for (i, row) in items().iter().enumerate() {
        book.append(sheet, row).unwrap();
        book.append(timeline, &[Cell::Int(i as i64 + 1), Cell::from("上报")]).unwrap();
        book.append(timeline, &[Cell::Int(i as i64 + 1), Cell::from("复核")]).unwrap();
    }
    assert_eq!(book.rows(sheet), Some(3));
    assert_eq!(book.rows(timeline), Some(6));
    book.finish().unwrap().into_inner()
}

#[test]
fn xlsx_layout_is_what_offices_expect() {
    let bytes = write_items();
    let workbook = zip_part(&bytes, "xl/workbook.xml");
    assert!(workbook.contains(r#"<sheet name="问题隐患清单" sheetId="1""#), "{workbook}");
    assert!(workbook.contains(r#"<sheet name="处理过程" sheetId="2""#), "{workbook}");
    assert!(workbook.contains(r#"<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">问题隐患清单!$A$2:$F$5</definedName>"#), "{workbook}");

    let sheet1 = zip_part(&bytes, "xl/worksheets/sheet1.xml");
    // Title merged over all columns, header frozen, filter on the header.
    assert!(sheet1.contains(r#"<mergeCell ref="A1:F1"/>"#), "{sheet1}");
    assert!(
        sheet1.contains(r#"<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/>"#),
        "{sheet1}"
    );
    assert!(sheet1.contains(r#"<autoFilter ref="A2:F5"/>"#), "{sheet1}");
    assert!(sheet1.contains("南翔镇问题隐患清单（导出于2021-05-06）"));
    // Column widths as given (plus Excel's padding).
    assert!(sheet1.contains(r#"<col min="3" max="3" width="40.7109375""#), "{sheet1}");

    let sheet2 = zip_part(&bytes, "xl/worksheets/sheet2.xml");
    assert!(
        sheet2.contains(r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#),
        "{sheet2}"
    );
    assert!(sheet2.contains(r#"<autoFilter ref="A1:B7"/>"#), "{sheet2}");

    let styles = zip_part(&bytes, "xl/styles.xml");
    assert!(styles.contains(r#"formatCode="yyyy-mm-dd""#), "{styles}");
    assert!(styles.contains(r#"formatCode="yyyy-mm-dd hh:mm""#), "{styles}");
    assert!(styles.contains("<b/>"), "bold header and title");
    assert!(styles.contains(r#"wrapText="1""#), "wrapped text");
}

#[test]
fn xlsx_dates_and_numbers_are_real_cells() {
    let bytes = write_items();
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range("问题隐患清单").unwrap();
    let at = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
    assert_eq!(at(2, 0), Data::Float(1.0));
    match at(2, 3) {
        Data::DateTime(d) => assert_eq!(d.as_f64(), 44049.0),
        other => panic!("date cell expected, got {other:?}"),
    }
    match at(2, 4) {
        Data::DateTime(d) => assert!((d.as_f64() - (44063.0 + 14.5 / 24.0)).abs() < 1e-9),
        other => panic!("date-time cell expected, got {other:?}"),
    }
    assert_eq!(at(2, 5), Data::Float(2.5));
    // Formula-like text stays text in xlsx.
    assert_eq!(at(4, 2), Data::String("=1+1".into()));
}

#[test]
fn xlsx_round_trip_reads_back_the_same_values() {
    let t = read_table(&write_items(), "export.xlsx", LEDGER_SPECS).unwrap();
    assert_eq!(t.sheet, "问题隐患清单");
    assert_eq!(t.header_row, 2);
    assert!(t.unknown_headers.is_empty() && t.missing_required.is_empty());
    let got: Vec<Vec<(&str, &str)>> =
        t.rows.iter().map(|r| r.values.iter().map(|(k, v)| (*k, v.as_str())).collect()).collect();
    assert_eq!(
        got,
        vec![
            vec![
                ("found_on", "2020-08-06"),
                ("funds", "2.5"),
                ("no", "1"),
                ("title", "消防通道堵塞,\"A\"区"),
                ("unit", "上海翔联包装材料有限公司"),
                ("verified_at", "2020-08-20 14:30"),
            ],
            vec![
                ("found_on", "2021-02-28"),
                ("funds", "0.3"),
                ("no", "2"),
                ("title", "1.燃气管道无泄漏报警\n2.灭火器过期"),
                ("unit", "南翔古猗园餐饮管理有限公司"),
            ],
            vec![("found_on", "1999-12-31"), ("no", "3"), ("title", "=1+1"), ("unit", "上海启翔仓储物流有限公司")],
        ]
    );
    assert_eq!(t.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 4, 5]);
}

#[test]
fn csv_is_bom_utf8_rfc4180_and_round_trips() {
    let spec = items_spec();
    let mut csv = CsvLedger::new(Vec::new(), &spec.columns).unwrap();
    for row in items() {
        csv.append(&row).unwrap();
    }
    let bytes = csv.finish().unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert_eq!(
        text,
        "序号,单位名称,隐患名称,发现日期,复核时间,整改资金（万元）\r\n\
         1,上海翔联包装材料有限公司,\"消防通道堵塞，\"\"A\"\"区\",2020-08-06,2020-08-20 14:30,2.5\r\n\
         2,南翔古猗园餐饮管理有限公司,\"1.燃气管道无泄漏报警\n2.灭火器过期\",2021-02-28,,0.3\r\n\
         3,上海启翔仓储物流有限公司,'=1+1,1999-12-31,,\r\n"
    );
    let t = read_table(&bytes, "export.csv", LEDGER_SPECS).unwrap();
    let xlsx = read_table(&write_items(), "export.xlsx", LEDGER_SPECS).unwrap();
    assert_eq!(t.rows.len(), 3);
    for (a, b) in t.rows.iter().zip(&xlsx.rows) {
        assert_eq!(a.values, b.values, "CSV and xlsx read back alike");
    }
    // The multi-line cell sits in one Excel row: lines are 2, 3, 4.
    assert_eq!(t.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 3, 4]);
}

#[test]
fn writer_errors_name_the_sheet_and_row() {
    let mut book = XlsxLedger::new(Vec::new());
    let sheet = book.add_sheet(&SheetSpec::new("清单", vec![Column::new("序号", 6.0)])).unwrap();
    let err = book.append(sheet, &[Cell::Int(1), Cell::Int(2)]).unwrap_err();
    assert!(matches!(err, LedgerError::TooManyCells { row: 2, cells: 2, columns: 1, .. }), "{err:?}");
    assert_eq!(err.zh(), "工作表“清单”第 2 行有 2 个单元格，但该表只有 1 列");
    assert_eq!(err.en(), "Row 2 of sheet \"清单\" has 2 cells but the sheet has 1 columns");
    assert_eq!(book.append(7, &[]).unwrap_err().code(), "export_no_such_sheet");
    let err = book.add_sheet(&SheetSpec::new("空", vec![])).unwrap_err();
    assert_eq!(err.code(), "export_bad_column_count");
    // A one-column sheet with a title cannot merge; it still gets the title.
    let single = book.add_sheet(&SheetSpec::new("清单", vec![Column::new("序号", 6.0)]).with_title("标题")).unwrap();
    book.append(single, &[Cell::Int(1)]).unwrap();
    let bytes = book.finish().unwrap();
    let workbook = zip_part(&bytes, "xl/workbook.xml");
    assert!(workbook.contains(r#"<sheet name="清单 (2)""#), "{workbook}");
}
