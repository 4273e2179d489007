//! Circulars (通报): the document laid out from the items — figures, the
//! table per unit in order, the attachment's list, the colophon — for both
//! kinds, without items, with a thousand items, and as LibreOffice prints it.

use std::time::Instant;

use bihuan_reports::circular::{
    Circular, CircularItems, CircularKind, DEFAULT_CC, OverdueItem, WarningItem, WarningLevel, circular_document,
    default_addressee, default_opening, default_requirements, default_title, render_circular,
};
use bihuan_reports::docx::Block;
use roxmltree::Document;
use time::Date;
use time::macros::date;

use crate::docx::{paragraphs, text, unzip, w};
use crate::office;

const OFFICE: &str = "南翔镇安全生产委员会办公室";

#[allow(clippy::too_many_arguments)]
fn hazard(
    code: u32,
    name: &str,
    unit: &str,
    responsible: &str,
    deadline: Date,
    major: bool,
    listed: bool,
    remark: Option<&str>,
) -> OverdueItem {
    let as_of = date!(2021 - 05 - 10);
    OverdueItem {
        code: format!("YH2021-{code:06}"),
        name: name.into(),
        unit: unit.into(),
        responsible_unit: responsible.into(),
        deadline,
        days_overdue: u32::try_from((as_of - deadline).whole_days()).unwrap(),
        major,
        listed,
        remark: remark.map(Into::into),
    }
}

/// Seven overdue hazards of four responsible units: three units have two
/// each, so the table's order among them is by name, not by first
/// appearance (某某商场 comes first in the list).
fn overdue_items() -> Vec<OverdueItem> {
    const MALL: &str = "某某商场";
    const CHEM: &str = "上海某某化工有限公司";
    const VILLAGE: &str = "红翔村村委会";
    vec![
        hazard(101, "消防通道堵塞", MALL, MALL, date!(2021 - 04 - 30), false, false, None),
        hazard(87, "甲类仓库违规存放氧化剂", CHEM, CHEM, date!(2021 - 03 - 31), true, true, Some("已约谈")),
        hazard(
            90,
            "配电箱前堆放杂物",
            "上海某某机械制造有限公司",
            "上海某某机械制造有限公司",
            date!(2021 - 04 - 20),
            false,
            false,
            None,
        ),
        hazard(95, "反应釜可燃气体报警装置失效", CHEM, CHEM, date!(2021 - 04 - 05), true, false, None),
        hazard(110, "出租屋电动自行车违规充电", "红翔村12组民房", VILLAGE, date!(2021 - 05 - 01), false, false, None),
        hazard(111, "群租房疏散通道不畅", "红翔村8组民房", VILLAGE, date!(2021 - 04 - 08), false, true, None),
        hazard(99, "食堂燃气管道未安装报警装置", MALL, MALL, date!(2021 - 05 - 05), false, false, Some("  ")),
    ]
}

fn circular(items: CircularItems) -> Circular {
    let kind = items.kind();
    Circular {
        issuer: OFFICE.into(),
        document_number: Some("南安办通〔2021〕3号".into()),
        title: default_title(kind, "南翔镇人民政府"),
        addressee: default_addressee(&items.units()),
        as_of: date!(2021 - 05 - 10),
        opening: None,
        items,
        requirements: default_requirements(kind),
        cc: Some(DEFAULT_CC.into()),
        issued_on: date!(2021 - 05 - 11),
        printer: OFFICE.into(),
    }
}

fn document_xml(c: &Circular) -> String {
    unzip(&render_circular(c).unwrap()).remove("word/document.xml").unwrap()
}

/// Paragraph texts outside tables.
fn texts(xml: &Document) -> Vec<String> {
    paragraphs(xml).into_iter().map(|(_, _, t)| t).collect()
}

/// Every table's rows as cell texts (header row included).
fn tables(xml: &Document) -> Vec<Vec<Vec<String>>> {
    w(xml.root(), "tbl").map(|t| w(t, "tr").map(|r| w(r, "tc").map(text).collect()).collect()).collect()
}

fn headings(xml: &Document) -> Vec<String> {
    paragraphs(xml).into_iter().filter(|(_, s, _)| s == "GwHeading1").map(|(_, _, t)| t).collect()
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

#[test]
fn overdue_circular_has_number_title_figures_unit_table_list_and_colophon() {
    let c = circular(CircularItems::Overdue(overdue_items()));
    let xml = document_xml(&c);
    let doc = Document::parse(&xml).unwrap();
    let paras = texts(&doc);

    // 版头, 标题, 主送: the four responsible units, in the table's order.
    assert_eq!(
        &paras[..4],
        [
            OFFICE,
            "南安办通〔2021〕3号",
            "关于全镇隐患整改逾期情况的通报",
            "上海某某化工有限公司、某某商场、红翔村村委会、上海某某机械制造有限公司："
        ]
    );
    assert_eq!(paras[4], default_opening(CircularKind::Overdue, date!(2021 - 05 - 10)));
    assert!(paras[4].starts_with("截至2021年5月10日，") && paras[4].ends_with("现将有关情况通报如下。"));
    assert_eq!(headings(&doc), ["一、基本情况", "二、逾期情况", "三、工作要求"]);
    assert!(paras.contains(
        &"本次通报逾期未整改的事故隐患7项，其中重大事故隐患2项，挂牌督办隐患2项，逾期超过30天的3项；分布在5家单位，涉及责任单位4个。"
            .to_string()
    ));
    // Requirements numbered, then the closing words, the attachment note,
    // the stamped signature.
    let requirements = default_requirements(CircularKind::Overdue);
    assert_eq!(requirements.len(), 3);
    for (n, r) in requirements.iter().enumerate() {
        assert!(paras.contains(&format!("{}.{r}", n + 1)), "requirement {n}");
    }
    let end = paras.iter().position(|t| t == "特此通报。").unwrap();
    assert_eq!(&paras[end + 1..end + 4], ["附件：逾期隐患清单", OFFICE, "2021年5月11日"]);
    assert!(paras[end - 1].starts_with("3.对逾期超过30天"));
    assert_eq!(&paras[end + 4..end + 6], ["附件", "逾期隐患清单"]);

    let tables = tables(&doc);
    assert_eq!(tables.len(), 3, "per-unit table, list, colophon");
    // Most items first; equal counts by name; the total last.
    assert_eq!(
        tables[0],
        [
            row(&["序号", "责任单位", "逾期隐患数", "其中重大", "最长逾期天数"]),
            row(&["1", "上海某某化工有限公司", "2", "2", "40"]),
            row(&["2", "某某商场", "2", "0", "10"]),
            row(&["3", "红翔村村委会", "2", "0", "32"]),
            row(&["4", "上海某某机械制造有限公司", "1", "0", "20"]),
            row(&["", "合计", "7", "2", "40"]),
        ]
    );
    // The list: one row per item in the given order, after the header.
    let list = &tables[1];
    assert_eq!(list.len(), 1 + 7);
    assert_eq!(list[0], ["序号", "隐患编号", "隐患名称", "所在单位／责任单位", "整改期限", "逾期天数", "备注"]);
    assert_eq!(list[1], ["1", "YH2021-000101", "消防通道堵塞", "某某商场", "2021-04-30", "10", ""]);
    assert_eq!(
        list[2],
        [
            "2",
            "YH2021-000087",
            "甲类仓库违规存放氧化剂",
            "上海某某化工有限公司",
            "2021-03-31",
            "40",
            "重大、挂牌、已约谈"
        ]
    );
    assert_eq!(list[5][3], "红翔村12组民房／红翔村村委会");
    assert_eq!(list[6][6], "挂牌");
    assert_eq!(list[7][6], "", "a blank remark prints nothing");
    // 版记.
    assert_eq!(tables[2], [vec!["抄送：镇领导。".to_string()], row(&[OFFICE, "2021年5月11日印发"])]);
}

fn warning(rule: &str, subject: &str, unit: &str, level: WarningLevel, first_seen: Date) -> WarningItem {
    WarningItem { rule: rule.into(), subject: subject.into(), unit: unit.into(), level, first_seen }
}

#[test]
fn warnings_circular_counts_by_unit_and_level() {
    use WarningLevel::*;
    let items = vec![
        warning("整改逾期", "YH2021-000123 消防通道堵塞", "某某商场", Orange, date!(2021 - 05 - 03)),
        warning("统计分析表未报送", "2021年第一季度", "上海某某机械制造有限公司", Yellow, date!(2021 - 04 - 16)),
        warning(
            "重大隐患未制定治理方案",
            "YH2021-000087 甲类仓库违规存放氧化剂",
            "上海某某化工有限公司",
            Red,
            date!(2021 - 03 - 20),
        ),
        warning("整改期限临近", "YH2021-000130 疏散指示标志损坏", "某某商场", Blue, date!(2021 - 05 - 08)),
        warning("同类隐患多发", "消防", "某某商场", Yellow, date!(2021 - 04 - 01)),
        warning(
            "整改逾期",
            "YH2021-000095 反应釜可燃气体报警装置失效",
            "上海某某化工有限公司",
            Red,
            date!(2021 - 04 - 06),
        ),
    ];
    let mut c = circular(CircularItems::Warnings(items));
    c.addressee = "各村、居委会，各有关部门、单位".into();
    let doc_xml = document_xml(&c);
    let doc = Document::parse(&doc_xml).unwrap();
    let paras = texts(&doc);
    assert_eq!(paras[2], "关于全镇预警情况的通报");
    assert_eq!(headings(&doc), ["一、基本情况", "二、预警情况", "三、工作要求"]);
    assert!(paras.contains(
        &"本次通报尚未处置的预警6条，其中红色预警2条、橙色预警1条、黄色预警2条、蓝色预警1条；涉及单位3个。".to_string()
    ));
    assert!(paras.contains(&"附件：预警清单".to_string()));
    assert!(paras.iter().any(|t| t.starts_with("3.对红色预警事项")));
    let tables = tables(&doc);
    assert_eq!(
        tables[0],
        [
            row(&["序号", "单位", "预警数", "红色", "橙色", "黄色", "蓝色"]),
            row(&["1", "某某商场", "3", "0", "1", "1", "1"]),
            row(&["2", "上海某某化工有限公司", "2", "2", "0", "0", "0"]),
            row(&["3", "上海某某机械制造有限公司", "1", "0", "0", "1", "0"]),
            row(&["", "合计", "6", "2", "1", "2", "1"]),
        ]
    );
    assert_eq!(tables[1].len(), 1 + 6);
    assert_eq!(tables[1][0], ["序号", "预警事项", "对象", "单位", "等级", "首次发现"]);
    assert_eq!(
        tables[1][3],
        [
            "3",
            "重大隐患未制定治理方案",
            "YH2021-000087 甲类仓库违规存放氧化剂",
            "上海某某化工有限公司",
            "红色",
            "2021-03-20"
        ]
    );
}

/// Without items the circular still reads: nothing to report, no table, no
/// attachment, the requirements section renumbered.
#[test]
fn a_circular_without_items_says_there_is_nothing_to_report() {
    for (items, figure) in [
        (CircularItems::Overdue(vec![]), "本次通报范围内没有逾期未整改的事故隐患。"),
        (CircularItems::Warnings(vec![]), "本次通报范围内没有尚未处置的预警。"),
    ] {
        let c = circular(items);
        assert_eq!(c.addressee, "各村、居委会，各有关部门、单位");
        let doc_xml = document_xml(&c);
        let doc = Document::parse(&doc_xml).unwrap();
        let paras = texts(&doc);
        assert_eq!(headings(&doc), ["一、基本情况", "二、工作要求"]);
        let i = paras.iter().position(|t| t == "一、基本情况").unwrap();
        assert_eq!(paras[i + 1], figure);
        assert!(!paras.iter().any(|t| t.starts_with("附件")), "{paras:#?}");
        assert_eq!(tables(&doc).len(), 1, "only the colophon");
        let end = paras.iter().position(|t| t == "特此通报。").unwrap();
        assert_eq!(&paras[end + 1..end + 3], [OFFICE, "2021年5月11日"]);
    }
}

#[test]
fn opening_number_requirements_and_cc_are_the_callers() {
    let mut c = circular(CircularItems::Overdue(overdue_items()));
    c.opening = Some("近期，镇安委办对各单位隐患整改情况进行了梳理。".into());
    c.document_number = None;
    c.requirements = vec![" ".into()];
    c.cc = Some(String::new());
    c.printer = "南翔镇应急管理办公室".into();
    let doc_xml = document_xml(&c);
    let doc = Document::parse(&doc_xml).unwrap();
    let paras = texts(&doc);
    // A draft: the number line is there, blank, under the red line.
    assert_eq!(paras[1], "");
    assert_eq!(paras[4], "近期，镇安委办对各单位隐患整改情况进行了梳理。");
    assert_eq!(headings(&doc), ["一、基本情况", "二、逾期情况"]);
    let tables = tables(&doc);
    assert_eq!(tables.last().unwrap(), &[row(&["南翔镇应急管理办公室", "2021年5月11日印发"])]);
    // A blank opening is the default one; requirements keep their order.
    c.opening = Some("\n ".into());
    c.requirements = vec!["第一条要求。".into(), String::new(), "第二条要求。".into()];
    let doc = circular_document(&c);
    assert_eq!(doc.body[0], Block::Paragraph(default_opening(CircularKind::Overdue, c.as_of)));
    assert!(doc.body.contains(&Block::Numbered(vec!["第一条要求。".into(), "第二条要求。".into()])));
}

#[test]
fn a_blank_title_is_refused() {
    let mut c = circular(CircularItems::Overdue(overdue_items()));
    c.title = " ".into();
    assert_eq!(render_circular(&c), Err(bihuan_reports::docx::DocxError::EmptyTitle));
}

/// A thousand items (the most a circular may hold) of 37 units.
fn thousand_items() -> Vec<OverdueItem> {
    (0..1000u32)
        .map(|n| {
            let unit = format!("第{}号企业", n % 37 + 1);
            let deadline = date!(2021 - 05 - 09) - time::Duration::days(i64::from(n % 90));
            hazard(n + 1, &format!("隐患{n}"), &unit, &unit, deadline, n % 7 == 0, n % 11 == 0, None)
        })
        .collect()
}

#[test]
fn a_thousand_items_render_deterministically() {
    let c = circular(CircularItems::Overdue(thousand_items()));
    let started = Instant::now();
    let bytes = render_circular(&c).unwrap();
    let took = started.elapsed();
    assert_eq!(bytes, render_circular(&c.clone()).unwrap(), "same input, same bytes");
    let xml = unzip(&bytes).remove("word/document.xml").unwrap();
    let doc = Document::parse(&xml).unwrap();
    let tables = tables(&doc);
    assert_eq!(tables[1].len(), 1 + 1000);
    assert_eq!(tables[1][1000][..2], ["1000", "YH2021-001000"]);
    let units = &tables[0][1..tables[0].len() - 1];
    assert_eq!(units.len(), 37);
    let counts: Vec<u32> = units.iter().map(|r| r[2].parse().unwrap()).collect();
    assert!(counts.windows(2).all(|p| p[0] >= p[1]), "{counts:?}");
    assert_eq!(counts.iter().sum::<u32>(), 1000);
    assert_eq!(tables[0].last().unwrap()[..3], ["", "合计", "1000"]);
    // 1000 = 27 × 37 + 1: the first 1 unit has 28 items, then 36 of 27 by name.
    assert_eq!(units[0][1], "第1号企业");
    assert_eq!(units[1][1], "第10号企业");
    assert!(took.as_secs() < 10, "rendering took {took:?}");
}

/// LibreOffice opens the circular and prints it: the title and number on
/// the first page, every item a row of the attachment's list, the colophon
/// at the end.
#[test]
fn libreoffice_prints_the_circular_with_every_item() {
    let mut items = overdue_items();
    items.extend(thousand_items().into_iter().skip(7).take(53));
    let c = circular(CircularItems::Overdue(items));
    let docx = render_circular(&c).unwrap();
    if let Some(dir) = std::env::var_os("DOCX_SAMPLE_DIR") {
        std::fs::write(std::path::Path::new(&dir).join("circular.docx"), &docx).unwrap();
    }
    let Some(pdf) = office::to_pdf("circular", &docx) else {
        return;
    };
    let pages = pdf.pages();
    let first = office::body_lines(&pdf.text(Some((1, 1))));
    assert!(first.contains(&"南安办通〔2021〕3号".to_string()), "{first:#?}");
    assert!(first.contains(&"关于全镇隐患整改逾期情况的通报".to_string()), "{first:#?}");
    let all = pdf.text(None);
    let lines = office::body_lines(&all);
    // Every code on one line of its row, each once.
    let codes: Vec<&String> = lines.iter().filter(|l| l.contains("YH2021-")).collect();
    assert_eq!(codes.len(), 60, "{codes:#?}");
    for item in match &c.items {
        CircularItems::Overdue(v) => v,
        CircularItems::Warnings(_) => unreachable!(),
    } {
        assert_eq!(all.matches(&item.code).count(), 1, "{}", item.code);
    }
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(lines.last().map(String::as_str), Some("南翔镇安全生产委员会办公室2021年5月11日印发"), "{lines:#?}");
}
