//! Messy office files, generated here, read with `read_table`.

use crate::support::{HAZARD_SPECS, ods};
use bihuan_reports::{ColumnSpec, ImportError, ImportOptions, parse_date, read_table, read_table_with};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use time::macros::date;

fn texts(table: &bihuan_reports::ImportTable, key: &str) -> Vec<Option<String>> {
    table.rows.iter().map(|r| r.get(key).map(str::to_string)).collect()
}

/// The ledger a village office sends back: a merged title, a line of
/// 填报单位/日期, a blank row, then the header with stars, units and line
/// breaks; the unit merged down over its hazards; a footer line.
fn village_ledger() -> Vec<u8> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("台账").unwrap();
    let bold = Format::new().set_bold();
    ws.merge_range(0, 0, 0, 5, "永乐村问题隐患整改台账", &bold).unwrap();
    ws.write(1, 0, "填报单位：永乐村村委会      填报日期：2021年5月6日").unwrap();
    // row 3 (index 2) left blank
    for (c, h) in
        ["序号", "*单位 名称", "隐患名称\n（必填）", "发现日期：", "整改资金（万元）", "负责人"].iter().enumerate()
    {
        ws.write(3, c as u16, *h).unwrap();
    }
    let plain = Format::new();
    ws.merge_range(4, 1, 6, 1, "上海翔联包装材料有限公司", &plain).unwrap();
    let rows = [
        (1, "消防通道堵塞", "2020-08-06", 1.5, "张伟"),
        (2, "配电箱未上锁", "2020/8/7", 0.3, "王芳"),
        (3, "灭火器过期", "2020年8月8日", 2.0, "李娜"),
    ];
    for (i, (n, title, found, funds, who)) in rows.iter().enumerate() {
        let r = 4 + i as u32;
        ws.write(r, 0, *n).unwrap();
        ws.write(r, 2, *title).unwrap();
        ws.write(r, 3, *found).unwrap();
        ws.write(r, 4, *funds).unwrap();
        ws.write(r, 5, *who).unwrap();
    }
    ws.write(7, 0, 4).unwrap();
    ws.write(7, 1, "南翔古猗园餐饮管理有限公司").unwrap();
    ws.write(7, 2, "燃气管道无泄漏报警").unwrap();
    // row 9 (index 8) blank, then a footer in the first column
    ws.write(9, 0, "填表人：张三").unwrap();
    book.save_to_buffer().unwrap()
}

#[test]
fn header_is_found_below_title_rows_and_blank_rows() {
    let t = read_table(&village_ledger(), "永乐村.xlsx", HAZARD_SPECS).unwrap();
    assert_eq!(t.sheet, "台账");
    assert_eq!(t.header_row, 4);
    let matched: Vec<(&str, u32, &str)> = t.columns.iter().map(|c| (c.key, c.index, c.header.as_str())).collect();
    assert_eq!(
        matched,
        vec![
            ("unit", 1, "*单位 名称"),
            ("title", 2, "隐患名称\n(必填)"),
            ("found_on", 3, "发现日期:"),
            ("funds", 4, "整改资金(万元)"),
        ]
    );
    assert_eq!(t.unknown_headers, vec!["序号".to_string(), "负责人".to_string()]);
    assert!(t.missing_required.is_empty());
}

#[test]
fn merged_unit_is_filled_down_and_footer_rows_are_returned() {
    let t = read_table(&village_ledger(), "永乐村.xlsx", HAZARD_SPECS).unwrap();
    let lines: Vec<u32> = t.rows.iter().map(|r| r.line).collect();
    // Rows 5–8 are data; row 9 is blank and skipped; row 10 holds a footer
    // in the 序号 column, which no spec asks for: it is returned without
    // values, for the caller's validation to report.
    assert_eq!(lines, vec![5, 6, 7, 8, 10]);
    assert!(t.rows[4].values.is_empty());
    let unit = "上海翔联包装材料有限公司".to_string();
    assert_eq!(
        texts(&t, "unit"),
        vec![Some(unit.clone()), Some(unit.clone()), Some(unit), Some("南翔古猗园餐饮管理有限公司".into()), None]
    );
    assert_eq!(texts(&t, "funds"), vec![Some("1.5".into()), Some("0.3".into()), Some("2".into()), None, None]);
}

#[test]
fn footer_in_a_matched_column_is_returned_for_the_caller_to_report() {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in ["单位名称", "隐患名称", "发现日期"].iter().enumerate() {
        ws.write(0, c as u16, *h).unwrap();
    }
    ws.write_row(1, 0, ["某公司", "消防通道堵塞", "2020-08-06"]).unwrap();
    ws.write(3, 0, "填表人：张三").unwrap();
    let t = read_table(&book.save_to_buffer().unwrap(), "a.xlsx", HAZARD_SPECS).unwrap();
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[1].line, 4);
    assert_eq!(t.rows[1].get("unit"), Some("填表人:张三"));
    assert_eq!(t.rows[1].get("title"), None);
}

#[test]
fn every_date_form_in_cells() {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.write_row(0, 0, ["单位名称", "隐患名称", "发现日期"]).unwrap();
    let date_fmt = Format::new().set_num_format("yyyy\"年\"m\"月\"d\"日\"");
    let datetime_fmt = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let d = ExcelDateTime::from_ymd(2020, 8, 6).unwrap();
    let text_forms = [
        "2020年8月6日",
        "2020.8.6",
        "2020/8/6",
        "2020-08-06",
        "2020-8-6",
        "20200806",
        "2020年8月6号",
        " 2020 年 8月 6 日 ",
        "２０２０．８．６",
        "2020-08-06 09:30:00",
    ];
    let mut r = 1;
    ws.write_datetime_with_format(r, 2, &d, &date_fmt).unwrap();
    r += 1;
    ws.write_datetime_with_format(r, 2, d.clone().and_hms(14, 30, 0).unwrap(), &datetime_fmt).unwrap();
    r += 1;
    // A serial number in a General cell, as when the date format was lost.
    ws.write_number(r, 2, 44049).unwrap();
    r += 1;
    for s in text_forms {
        ws.write_string(r, 2, s).unwrap();
        r += 1;
    }
    ws.write_string(r, 2, "2021-02-30").unwrap();
    for row in 1..=r {
        ws.write_row(row, 0, ["某公司", "隐患"]).unwrap();
    }
    let t = read_table(&book.save_to_buffer().unwrap(), "dates.xlsx", HAZARD_SPECS).unwrap();
    let found: Vec<String> = t.rows.iter().map(|r| r.get("found_on").unwrap().to_string()).collect();
    assert_eq!(found[0], "2020-08-06", "a real date cell reads as YYYY-MM-DD");
    assert_eq!(found[1], "2020-08-06 14:30", "a date-time cell keeps its time");
    assert_eq!(found[2], "44049");
    assert_eq!(found[3], "2020年8月6日");
    assert_eq!(found[10], "2020 年 8月 6 日", "spaces are collapsed, not removed");
    assert_eq!(found[11], "2020.8.6", "full-width digits become ASCII");
    assert_eq!(found.len(), 3 + 10 + 1);
    for (i, s) in found.iter().enumerate().take(found.len() - 1) {
        assert_eq!(parse_date(s), Some(date!(2020 - 08 - 06)), "row {i}: {s}");
    }
    assert_eq!(parse_date(found.last().unwrap()), None, "impossible date");
}

#[test]
fn numbers_read_as_excel_shows_them() {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.write_row(0, 0, ["单位名称", "隐患名称", "发现日期", "整改资金（万元）", "数量"]).unwrap();
    let values = [(3.0, 12.0), (2.50, 0.1 + 0.2), (1234567.0, -4.0), (0.000_125, 1e15)];
    for (i, (funds, count)) in values.iter().enumerate() {
        let r = 1 + i as u32;
        ws.write_row(r, 0, ["某公司", "隐患", "2020-08-06"]).unwrap();
        ws.write_number(r, 3, *funds).unwrap();
        ws.write_number(r, 4, *count).unwrap();
    }
    let t = read_table(&book.save_to_buffer().unwrap(), "n.xlsx", HAZARD_SPECS).unwrap();
    assert_eq!(texts(&t, "funds"), ["3", "2.5", "1234567", "0.000125"].map(|s| Some(s.to_string())));
    assert_eq!(texts(&t, "count"), ["12", "0.3", "-4", "1000000000000000"].map(|s| Some(s.to_string())));
}

#[test]
fn full_width_text_and_stray_spaces_are_normalised() {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.write_row(0, 0, ["　单位名称　", "隐患名称", "发现日期"]).unwrap();
    ws.write_row(1, 0, ["  上海ＡＢＣ有限公司（南翔）  ", "一、消防通道   堵塞。", "2020-08-06"]).unwrap();
    let t = read_table(&book.save_to_buffer().unwrap(), "w.xlsx", HAZARD_SPECS).unwrap();
    assert_eq!(t.rows[0].get("unit"), Some("上海ABC有限公司(南翔)"));
    assert_eq!(t.rows[0].get("title"), Some("一、消防通道 堵塞。"));
}

#[test]
fn missing_required_and_unknown_headers_are_reported() {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.write_row(0, 0, ["企业名称", "隐患内容", "备注", "整改时限", "整改时限"]).unwrap();
    ws.write_row(1, 0, ["某公司", "隐患", "无", "2020-09-01", "2020-10-01"]).unwrap();
    let t = read_table(&book.save_to_buffer().unwrap(), "m.xlsx", HAZARD_SPECS).unwrap();
    assert_eq!(t.missing_required, vec!["found_on"]);
    // The second 整改时限 is a duplicate: the leftmost one is used.
    assert_eq!(t.unknown_headers, vec!["备注".to_string(), "整改时限".to_string()]);
    assert_eq!(t.rows[0].get("deadline"), Some("2020-09-01"));
}

#[test]
fn exact_alias_wins_over_a_normalised_match() {
    const SPECS: &[ColumnSpec] = &[
        ColumnSpec { key: "funds", aliases: &["整改资金（万元）"], required: true },
        ColumnSpec { key: "title", aliases: &["隐患名称"], required: true },
    ];
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    // Column A matches only after normalisation, column C exactly.
    ws.write_row(0, 0, ["整改资金(元)", "隐患名称", "整改资金（万元）"]).unwrap();
    ws.write_row(1, 0, ["15000", "隐患", "1.5"]).unwrap();
    let t = read_table(&book.save_to_buffer().unwrap(), "x.xlsx", SPECS).unwrap();
    assert_eq!(t.rows[0].get("funds"), Some("1.5"));
    assert_eq!(t.unknown_headers, vec!["整改资金(元)".to_string()]);
}

#[test]
fn the_sheet_with_the_best_header_is_chosen() {
    let mut book = Workbook::new();
    let notes = book.add_worksheet();
    notes.set_name("填表说明").unwrap();
    notes.write(0, 0, "1. 单位名称填写营业执照上的全称").unwrap();
    notes.write(1, 0, "隐患名称").unwrap();
    let hidden = book.add_worksheet();
    hidden.set_name("旧表").unwrap();
    hidden.write_row(0, 0, ["单位名称", "隐患名称", "发现日期"]).unwrap();
    hidden.write_row(1, 0, ["旧公司", "旧隐患", "2019-01-01"]).unwrap();
    hidden.set_hidden(true);
    let data = book.add_worksheet();
    data.set_name("隐患清单").unwrap();
    data.write_row(1, 0, ["单位名称", "隐患名称", "发现日期"]).unwrap();
    data.write_row(2, 0, ["新公司", "新隐患", "2021-01-01"]).unwrap();
    let t = read_table(&book.save_to_buffer().unwrap(), "s.xlsx", HAZARD_SPECS).unwrap();
    assert_eq!(t.sheet, "隐患清单", "a visible sheet wins a tie with a hidden one");
    assert_eq!(t.header_row, 2);
    assert_eq!(t.rows[0].get("unit"), Some("新公司"));
}

#[test]
fn no_recognisable_header_names_expected_and_found() {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("Sheet1").unwrap();
    ws.write(0, 0, "安全检查记录").unwrap();
    ws.write_row(1, 0, ["编号", "名称", "日期"]).unwrap();
    ws.write_row(2, 0, ["1", "消防", "2020-08-06"]).unwrap();
    let err = read_table(&book.save_to_buffer().unwrap(), "记录.xlsx", HAZARD_SPECS).unwrap_err();
    match &err {
        ImportError::NoHeader { sheet, row, expected, found, .. } => {
            assert_eq!(sheet, "Sheet1");
            assert_eq!(*row, Some(2));
            assert_eq!(expected[0], "单位名称*");
            assert_eq!(expected[3], "整改期限");
            assert_eq!(found, &vec!["编号".to_string(), "名称".into(), "日期".into()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), "import_no_header");
    assert!(err.zh().contains("找不到表头"), "{}", err.zh());
    assert!(err.zh().contains("单位名称*、隐患名称*、发现日期*"), "{}", err.zh());
    assert!(err.zh().contains("第 2 行：编号、名称、日期"), "{}", err.zh());
    assert!(err.en().contains("No header row found"), "{}", err.en());
    assert!(err.en().contains("row 2 of sheet \"Sheet1\": 编号, 名称, 日期"), "{}", err.en());
}

#[test]
fn a_picture_renamed_to_xlsx_is_not_a_spreadsheet() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let err = read_table(png, "台账.xlsx", HAZARD_SPECS).unwrap_err();
    assert_eq!(err.code(), "import_not_spreadsheet");
    assert!(err.zh().contains("“台账.xlsx”不是可识别的电子表格（看起来是PNG 图片）"), "{}", err.zh());
    assert!(
        err.en().contains("\"台账.xlsx\" is not a spreadsheet we can read (it looks like a PNG image)"),
        "{}",
        err.en()
    );
    assert!(err.to_string().contains(" / "));
}

#[test]
fn other_non_spreadsheets_are_refused_by_content() {
    let cases: [(&[u8], &str); 4] = [
        (b"%PDF-1.7\n", "PDF"),
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "HTML"),
        (b"", "空文件"),
        (b"\x00\x01\x02\x03binary", ""),
    ];
    for (bytes, looks) in cases {
        let err = read_table(bytes, "x.xls", HAZARD_SPECS).unwrap_err();
        assert_eq!(err.code(), "import_not_spreadsheet", "{looks}");
        assert!(err.zh().contains(looks), "{}", err.zh());
    }
    // A Word document (a zip, like xlsx) renamed to .xlsx.
    let mut docx = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    docx.start_file(
        "word/document.xml",
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
    )
    .unwrap();
    std::io::Write::write_all(&mut docx, b"<w:document/>").unwrap();
    let docx = docx.finish().unwrap().into_inner();
    let err = read_table(&docx, "台账.xlsx", HAZARD_SPECS).unwrap_err();
    assert!(err.zh().contains("Word 文档"), "{}", err.zh());
}

#[test]
fn a_password_protected_workbook_is_named_as_such() {
    // Excel keeps an encrypted xlsx in an OLE2 compound file whose stream
    // is called EncryptedPackage.
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    bytes.resize(1024, 0);
    bytes.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    bytes.resize(4096, 0);
    let err = read_table(&bytes, "台账.xlsx", HAZARD_SPECS).unwrap_err();
    assert_eq!(err.code(), "import_encrypted");
    assert!(err.zh().contains("设置了打开密码"), "{}", err.zh());
    assert!(err.en().contains("password"), "{}", err.en());
    // Without that stream the same container is taken for an xls, and a
    // broken one is reported as damaged.
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.resize(1024, 0);
    xls.extend("Workbook".encode_utf16().flat_map(u16::to_le_bytes));
    xls.resize(4096, 0);
    assert_eq!(read_table(&xls, "台账.xls", HAZARD_SPECS).unwrap_err().code(), "import_damaged");
}

#[test]
fn a_truncated_xlsx_is_damaged() {
    let bytes = village_ledger();
    let cut = &bytes[..bytes.len() / 2];
    let err = read_table(cut, "台账.xlsx", HAZARD_SPECS).unwrap_err();
    assert_eq!(err.code(), "import_damaged", "{err}");
    assert!(err.zh().contains("已损坏"), "{}", err.zh());
    assert!(err.en().contains("damaged"), "{}", err.en());
}

#[test]
fn too_many_rows_are_refused() {
    let opts = ImportOptions { max_rows: 10, ..ImportOptions::default() };
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.write_row(0, 0, ["单位名称", "隐患名称", "发现日期"]).unwrap();
    for r in 1..=10 {
        ws.write_row(r, 0, ["某公司", "隐患", "2020-08-06"]).unwrap();
    }
    let ten = book.save_to_buffer().unwrap();
    assert_eq!(read_table_with(&ten, "a.xlsx", HAZARD_SPECS, &opts).unwrap().rows.len(), 10);
    let ws = book.worksheet_from_index(0).unwrap();
    for r in 11..=40 {
        ws.write_row(r, 0, ["某公司", "隐患", "2020-08-06"]).unwrap();
    }
    let forty = book.save_to_buffer().unwrap();
    let err = read_table_with(&forty, "a.xlsx", HAZARD_SPECS, &opts).unwrap_err();
    assert_eq!(err, ImportError::TooLarge { file_name: "a.xlsx".into(), max_rows: 10 });
    assert!(err.zh().contains("超过 10 行"), "{}", err.zh());

    let mut csv = String::from("单位名称,隐患名称,发现日期\n");
    for _ in 0..11 {
        csv.push_str("某公司,隐患,2020-08-06\n");
    }
    let err = read_table_with(csv.as_bytes(), "a.csv", HAZARD_SPECS, &opts).unwrap_err();
    assert_eq!(err.code(), "import_too_large");
}

// ---------------------------------------------------------------- CSV

const CSV_BODY: &str = "永乐村问题隐患整改台账,,,\n\
                        单位名称,隐患名称,发现日期,整改资金（万元）\n\
                        上海翔联包装材料有限公司,消防通道堵塞,2020/8/6,1.5\n\
                        \"南翔古猗园餐饮管理有限公司\",\"燃气管道无泄漏报警，需加装\",2020年8月7日,\n";

fn check_csv_body(t: &bihuan_reports::ImportTable) {
    assert_eq!(t.header_row, 2);
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0].line, 3);
    assert_eq!(t.rows[0].get("unit"), Some("上海翔联包装材料有限公司"));
    assert_eq!(t.rows[1].get("title"), Some("燃气管道无泄漏报警,需加装"));
    assert_eq!(t.rows[0].get("funds"), Some("1.5"));
    assert_eq!(parse_date(t.rows[1].get("found_on").unwrap()), Some(date!(2020 - 08 - 07)));
}

#[test]
fn gbk_csv_as_excel_on_chinese_windows_saves_it() {
    let crlf = CSV_BODY.replace('\n', "\r\n");
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&crlf);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "really not UTF-8");
    let t = read_table(&gbk, "台账.csv", HAZARD_SPECS).unwrap();
    assert_eq!(t.sheet, "台账.csv");
    check_csv_body(&t);
}

#[test]
fn utf8_csv_with_and_without_bom() {
    let with_bom = format!("\u{FEFF}{CSV_BODY}");
    check_csv_body(&read_table(with_bom.as_bytes(), "a.csv", HAZARD_SPECS).unwrap());
    check_csv_body(&read_table(CSV_BODY.as_bytes(), "a.csv", HAZARD_SPECS).unwrap());
}

#[test]
fn semicolon_and_tab_separated_csv() {
    let semi = CSV_BODY.replace(',', ";").replace('，', ",");
    // The quoted field keeps its comma; the separators became semicolons.
    let t = read_table(semi.as_bytes(), "a.csv", HAZARD_SPECS).unwrap();
    assert_eq!(t.rows[1].get("title"), Some("燃气管道无泄漏报警,需加装"));
    assert_eq!(t.rows[0].get("funds"), Some("1.5"));

    // Excel's "Unicode text": UTF-16LE with BOM, tab-separated.
    let tsv = CSV_BODY.replace(',', "\t");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(tsv.encode_utf16().flat_map(u16::to_le_bytes));
    check_csv_body(&read_table(&utf16, "a.txt", HAZARD_SPECS).unwrap());

    let hinted = format!(
        "sep=;\n{}",
        CSV_BODY
            .replace(",,,", ";;;")
            .replace("单位名称,隐患名称,发现日期,整改资金（万元）", "单位名称;隐患名称;发现日期;整改资金（万元）")
    );
    let t = read_table(hinted.as_bytes(), "a.csv", HAZARD_SPECS).unwrap();
    assert_eq!(t.columns.len(), 4, "sep=; line honoured");
}

#[test]
fn csv_line_numbers_count_blank_lines_and_multi_line_cells() {
    let csv = "单位名称,隐患名称,发现日期\r\n\
               甲公司,\"1.通道堵塞\r\n2.灯具损坏\",2020-08-06\r\n\
               \r\n\
               乙公司,配电箱,2020-08-07\r\n";
    let t = read_table(csv.as_bytes(), "a.csv", HAZARD_SPECS).unwrap();
    assert_eq!(t.rows[0].get("title"), Some("1.通道堵塞\n2.灯具损坏"));
    let lines: Vec<u32> = t.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![2, 4], "Excel shows the multi-line cell in row 2 and the blank row as row 3");
}

// ---------------------------------------------------------------- ODS

#[test]
fn ods_with_title_row_and_real_dates() {
    let cell =
        |s: &str| format!("<table:table-cell office:value-type=\"string\"><text:p>{s}</text:p></table:table-cell>");
    let table = format!(
        "<table:table table:name=\"隐患\">\
         <table:table-row>{}</table:table-row>\
         <table:table-row>{}{}{}<table:table-cell office:value-type=\"float\" office:value=\"2\"><text:p>2</text:p></table:table-cell></table:table-row>\
         <table:table-row>{}{}<table:table-cell office:value-type=\"date\" office:date-value=\"2020-08-06\"><text:p>2020-08-06</text:p></table:table-cell><table:table-cell office:value-type=\"float\" office:value=\"2.5\"><text:p>2.5</text:p></table:table-cell></table:table-row>\
         <table:table-row>{}{}<table:table-cell office:value-type=\"date\" office:date-value=\"2020-08-07T14:30:00\"><text:p>x</text:p></table:table-cell></table:table-row>\
         </table:table>",
        cell("南翔镇隐患台账"),
        cell("单位名称"),
        cell("隐患名称"),
        cell("发现日期"),
        cell("甲公司"),
        cell("通道堵塞"),
        cell("乙公司"),
        cell("灯具损坏"),
    );
    // The "数量" header is a number cell here: headers are matched on text.
    let t = read_table(&ods(&table), "台账.ods", HAZARD_SPECS).unwrap();
    assert_eq!(t.sheet, "隐患");
    assert_eq!(t.header_row, 2);
    assert_eq!(t.unknown_headers, vec!["2".to_string()]);
    assert_eq!(t.rows[0].get("found_on"), Some("2020-08-06"));
    assert_eq!(t.rows[1].get("found_on"), Some("2020-08-07 14:30"));
    assert_eq!(t.rows[0].line, 3);
}
