//! The docx writer: package structure, well-formed XML, escaping, page
//! geometry, GB/T 9704-2012 elements, determinism.
//!
//! Set `DOCX_SAMPLE_DIR=/some/dir` to also write the sample documents there
//! for viewing in Word or LibreOffice.
use crate::{docx_samples, office};

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use bihuan_reports::docx::{
    Block, Column, DocxError, OfficialDocument, PageNumbers, Table, TableTextSize, render,
};
use docx_samples::{long_circular, rectification_order, supervision_notice};
use roxmltree::{Document, Node};

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

/// Every part of the package, by name, as text.
pub(crate) fn unzip(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut parts = BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        assert_eq!(f.compression(), zip::CompressionMethod::Deflated, "{name}");
        assert_eq!(f.last_modified(), Some(zip::DateTime::default()), "{name}");
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        parts.insert(name, s);
    }
    parts
}

fn render_parts(doc: &OfficialDocument) -> BTreeMap<String, String> {
    let bytes = render(doc).unwrap();
    if let Some(dir) = std::env::var_os("DOCX_SAMPLE_DIR") {
        let name: String = doc
            .title
            .chars()
            .filter(|c| c.is_alphanumeric())
            .take(12)
            .collect();
        std::fs::write(
            std::path::Path::new(&dir).join(format!("{name}.docx")),
            &bytes,
        )
        .unwrap();
    }
    unzip(&bytes)
}

pub(crate) fn w<'a>(node: Node<'a, 'a>, name: &str) -> impl Iterator<Item = Node<'a, 'a>> {
    let name = name.to_owned();
    node.descendants()
        .filter(move |n| n.tag_name().namespace() == Some(W) && n.tag_name().name() == name)
}

pub(crate) fn attr<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.attribute((W, name))
}

/// The text of a paragraph (w:t runs, w:br as newline).
pub(crate) fn text(p: Node) -> String {
    let mut s = String::new();
    for n in p.descendants() {
        if n.tag_name().namespace() == Some(W) {
            match n.tag_name().name() {
                "t" => s.push_str(n.text().unwrap_or("")),
                "br" => s.push('\n'),
                "tab" if n.parent().is_some_and(|r| r.tag_name().name() == "r") => s.push('\t'),
                _ => {}
            }
        }
    }
    s
}

/// The body paragraphs outside tables, with their style and text.
pub(crate) fn paragraphs<'a>(doc: &'a Document<'a>) -> Vec<(Node<'a, 'a>, String, String)> {
    w(doc.root(), "p")
        .filter(|p| !p.ancestors().any(|a| a.tag_name().name() == "tbl"))
        .map(|p| {
            let style = w(p, "pStyle")
                .next()
                .and_then(|s| attr(s, "val"))
                .unwrap_or("")
                .to_owned();
            (p, style, text(p))
        })
        .collect()
}

fn find<'a>(paras: &[(Node<'a, 'a>, String, String)], needle: &str) -> Node<'a, 'a> {
    paras
        .iter()
        .find(|(_, _, t)| t.contains(needle))
        .unwrap_or_else(|| panic!("no paragraph with {needle}"))
        .0
}

fn ppr_value(p: Node, element: &str, attribute: &str) -> Option<String> {
    w(p, "pPr")
        .next()
        .and_then(|ppr| w(ppr, element).next())
        .and_then(|n| attr(n, attribute))
        .map(str::to_owned)
}

#[test]
fn package_has_the_required_parts_and_all_xml_is_well_formed() {
    for doc in [supervision_notice(), rectification_order(), long_circular()] {
        let parts = render_parts(&doc);
        for name in [
            "[Content_Types].xml",
            "_rels/.rels",
            "word/document.xml",
            "word/_rels/document.xml.rels",
            "word/styles.xml",
            "word/settings.xml",
            "word/fontTable.xml",
            "word/footer1.xml",
            "word/footer2.xml",
            "docProps/core.xml",
            "docProps/app.xml",
        ] {
            assert!(parts.contains_key(name), "missing {name}");
        }
        for (name, xml) in &parts {
            Document::parse(xml).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        // Every part is declared and every relationship target exists.
        let types = &parts["[Content_Types].xml"];
        for name in parts.keys().filter(|n| !n.ends_with(".rels")) {
            if name != "[Content_Types].xml" {
                assert!(
                    types.contains(&format!("PartName=\"/{name}\"")),
                    "{name} not in content types"
                );
            }
        }
        let rels = Document::parse(&parts["word/_rels/document.xml.rels"]).unwrap();
        for r in rels
            .descendants()
            .filter(|n| n.has_tag_name("Relationship"))
        {
            let target = format!("word/{}", r.attribute("Target").unwrap());
            assert!(
                parts.contains_key(&target),
                "dangling relationship to {target}"
            );
        }
    }
}

#[test]
fn page_is_a4_with_the_standard_margins_and_grid() {
    let parts = render_parts(&long_circular());
    let doc = Document::parse(&parts["word/document.xml"]).unwrap();
    let sect = w(doc.root(), "sectPr").next().unwrap();
    let size = w(sect, "pgSz").next().unwrap();
    assert_eq!(
        (attr(size, "w"), attr(size, "h")),
        (Some("11906"), Some("16838"))
    );
    let mar = w(sect, "pgMar").next().unwrap();
    // 37 mm, 35 mm, 28 mm, 26 mm.
    let got: Vec<_> = ["top", "bottom", "left", "right"]
        .iter()
        .map(|a| attr(mar, a).unwrap())
        .collect();
    assert_eq!(got, ["2098", "1984", "1587", "1474"]);
    let grid = w(sect, "docGrid").next().unwrap();
    assert_eq!(attr(grid, "type"), Some("lines"));
    assert_eq!(attr(grid, "linePitch"), Some("579"));
    // Odd pages right, even pages left.
    let refs: Vec<_> = w(sect, "footerReference")
        .map(|r| attr(r, "type").unwrap())
        .collect();
    assert_eq!(refs, ["default", "even"]);
    assert!(parts["word/settings.xml"].contains("<w:evenAndOddHeaders/>"));
    for (part, side) in [("word/footer1.xml", "right"), ("word/footer2.xml", "left")] {
        let footer = Document::parse(&parts[part]).unwrap();
        let p = w(footer.root(), "p").next().unwrap();
        assert_eq!(ppr_value(p, "jc", "val").as_deref(), Some(side));
        assert_eq!(text(p), "— 1 —");
        assert!(parts[part].contains(" PAGE "));
    }
}

#[test]
fn centred_or_no_page_numbers_on_request() {
    let mut doc = long_circular();
    doc.page_numbers = PageNumbers::Centered;
    let parts = render_parts(&doc);
    assert!(!parts.contains_key("word/footer2.xml"));
    assert!(!parts["word/settings.xml"].contains("evenAndOddHeaders"));
    assert!(parts["word/footer1.xml"].contains(r#"<w:jc w:val="center"/>"#));
    doc.page_numbers = PageNumbers::Off;
    let parts = render_parts(&doc);
    assert!(!parts.contains_key("word/footer1.xml"));
    assert!(!parts["word/document.xml"].contains("footerReference"));
    assert!(!parts["[Content_Types].xml"].contains("footer"));
}

#[test]
fn styles_name_the_office_fonts_in_the_east_asian_slot() {
    let parts = render_parts(&supervision_notice());
    let styles = Document::parse(&parts["word/styles.xml"]).unwrap();
    let font_of = |id: &str| {
        let style = w(styles.root(), "style")
            .find(|s| attr(*s, "styleId") == Some(id))
            .unwrap();
        w(style, "rFonts")
            .next()
            .and_then(|f| attr(f, "eastAsia"))
            .map(str::to_owned)
    };
    let defaults = w(styles.root(), "docDefaults").next().unwrap();
    let body = w(defaults, "rFonts").next().unwrap();
    assert_eq!(attr(body, "eastAsia"), Some("仿宋_GB2312"));
    assert_eq!(attr(w(defaults, "sz").next().unwrap(), "val"), Some("32"));
    assert_eq!(font_of("GwTitle").as_deref(), Some("方正小标宋简体"));
    assert_eq!(font_of("GwMark").as_deref(), Some("方正小标宋简体"));
    assert_eq!(font_of("GwHeading1").as_deref(), Some("黑体"));
    assert_eq!(font_of("GwHeading2").as_deref(), Some("楷体_GB2312"));
    assert_eq!(font_of("GwFooter").as_deref(), Some("宋体"));
    let fonts = &parts["word/fontTable.xml"];
    assert!(fonts.contains(r#"<w:font w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>"#));
    assert!(fonts.contains(r#"<w:font w:name="楷体_GB2312"><w:altName w:val="楷体"/>"#));
}

#[test]
fn red_masthead_title_body_and_signature_follow_the_standard() {
    let parts = render_parts(&supervision_notice());
    let xml = Document::parse(&parts["word/document.xml"]).unwrap();
    let paras = paragraphs(&xml);
    let styles: Vec<&str> = paras.iter().map(|(_, s, _)| s.as_str()).collect();
    assert_eq!(
        &styles[..4],
        ["GwMark", "GwNumber", "GwTitle", "GwAddressee"]
    );

    let (mark, _, mark_text) = &paras[0];
    assert_eq!(mark_text, "南翔镇安全生产专项整治三年行动领导小组办公室");
    // 22 characters: 26 pt squeezed to 77 % to fit one line.
    assert_eq!(
        w(*mark, "sz").next().and_then(|n| attr(n, "val")),
        Some("52")
    );
    assert_eq!(
        w(*mark, "w").next().and_then(|n| attr(n, "val")),
        Some("77")
    );

    let (number, _, number_text) = &paras[1];
    assert_eq!(number_text, "南安办〔2021〕3号");
    // Two blank lines below the mark, red rule below the number.
    assert_eq!(
        ppr_value(*number, "spacing", "before").as_deref(),
        Some("1158")
    );
    let rule = w(*number, "bottom").next().unwrap();
    assert_eq!(attr(rule, "color"), Some("FF0000"));

    let (title, _, title_text) = &paras[2];
    assert_eq!(
        title_text,
        "关于对上海某某化工有限公司\n重大事故隐患挂牌督办的通知"
    );
    assert_eq!(
        ppr_value(*title, "spacing", "before").as_deref(),
        Some("1158")
    );
    assert_eq!(paras[3].2, "上海某某化工有限公司，镇安监所、经发办：");

    // Headings by level, body paragraphs indented two characters by style.
    assert_eq!(
        paras
            .iter()
            .find(|(_, _, t)| t.starts_with("一、"))
            .unwrap()
            .1,
        "GwHeading1"
    );
    assert_eq!(
        paras
            .iter()
            .find(|(_, _, t)| t.starts_with("1.整改完成后"))
            .unwrap()
            .1,
        "GwHeading3"
    );
    let lead = find(&paras, "（一）落实主体责任。");
    let runs: Vec<_> = w(lead, "r").collect();
    assert_eq!(
        w(runs[0], "rFonts")
            .next()
            .and_then(|f| attr(f, "eastAsia")),
        Some("楷体_GB2312")
    );
    assert!(w(runs[1], "rFonts").next().is_none());
    assert!(
        paras
            .iter()
            .any(|(_, _, t)| t == "1.甲类仓库内违规存放氧化剂与易燃液体，未按规定分区分类储存；")
    );
    let styles_xml = &parts["word/styles.xml"];
    assert!(styles_xml.contains(r#"<w:ind w:firstLine="630" w:firstLineChars="200"/>"#));

    // Attachment note: "附件：1." then the second name aligned under the first.
    let a1 = find(&paras, "附件：1.重大事故隐患整改方案（模板）");
    let a2 = find(&paras, "　　　2.隐患整改销号申请表");
    assert_eq!(
        ppr_value(a1, "ind", "leftChars"),
        ppr_value(a2, "ind", "leftChars")
    );
    assert_eq!(ppr_value(a1, "ind", "hangingChars").as_deref(), Some("400"));

    // Stamped: date 4 characters from the right, issuer centred over it
    // (22-character issuer, 6-character date: the issuer reaches the edge).
    let d = find(&paras, "2021年3月5日");
    assert_eq!(
        ppr_value(d, "pStyle", "val").as_deref(),
        Some("GwSignature")
    );
    assert!(styles_xml.contains(r#"w:styleId="GwSignature"><w:name w:val="公文署名"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:jc w:val="right"/>"#));
    assert_eq!(ppr_value(d, "ind", "rightChars").as_deref(), Some("400"));
    let signed: Vec<_> = paras
        .iter()
        .filter(|(_, s, _)| s == "GwSignature")
        .map(|(_, _, t)| t.as_str())
        .collect();
    assert_eq!(
        signed,
        [
            "南翔镇安全生产专项整治三年行动领导小组办公室",
            "2021年3月5日"
        ]
    );
    assert!(
        paras
            .iter()
            .any(|(_, _, t)| t == "（联系人：张三，电话：69120000）")
    );

    // The appendix starts a new page with its label.
    let label = find(&paras, "附件1");
    assert!(w(label, "pageBreakBefore").next().is_some());

    // Colophon: a table floated to the bottom of the text area.
    let tables: Vec<_> = w(xml.root(), "tbl").collect();
    let colophon = tables.last().unwrap();
    let pos = w(*colophon, "tblpPr").next().unwrap();
    assert_eq!(attr(pos, "tblpYSpec"), Some("bottom"));
    assert_eq!(attr(pos, "vertAnchor"), Some("margin"));
    assert_eq!(
        (attr(pos, "horzAnchor"), attr(pos, "tblpX")),
        (Some("page"), Some("1587"))
    );
    let cells: Vec<Vec<String>> = w(*colophon, "tr")
        .map(|r| w(r, "tc").map(text).collect())
        .collect();
    assert_eq!(
        cells,
        [
            vec!["抄送：镇党委、镇人大、镇纪委，区应急局。"],
            vec![
                "南翔镇安全生产专项整治三年行动领导小组办公室",
                "2021年3月5日印发"
            ]
        ]
    );
    // Thick rules at top and bottom, a thin one between.
    let size = |side: &str| {
        w(*colophon, side)
            .next()
            .and_then(|b| attr(b, "sz"))
            .map(str::to_owned)
    };
    assert_eq!(
        (size("top"), size("insideH"), size("bottom")),
        (Some("8".into()), Some("6".into()), Some("8".into()))
    );
}

#[test]
fn upward_document_puts_the_signatory_right_of_the_number() {
    let mut doc = supervision_notice();
    doc.title = "关于报送安全生产专项整治工作情况的报告".into();
    doc.masthead = bihuan_reports::docx::Masthead::Red {
        issuer: "南翔镇人民政府".into(),
        number: Some("南府〔2021〕5号".into()),
        signatory: Some("李四".into()),
    };
    let parts = render_parts(&doc);
    let xml = Document::parse(&parts["word/document.xml"]).unwrap();
    let paras = paragraphs(&xml);
    // Mark at 80 mm, 小初.
    assert_eq!(
        ppr_value(paras[0].0, "spacing", "before").as_deref(),
        Some("4463")
    );
    assert_eq!(
        w(paras[0].0, "sz").next().and_then(|n| attr(n, "val")),
        Some("72")
    );
    assert_eq!(paras[1].2, "南府〔2021〕5号\t签发人：李四");
    assert_eq!(
        ppr_value(paras[1].0, "tab", "val").as_deref(),
        Some("right")
    );
}

#[test]
fn form_has_fields_table_and_lines_to_sign_on() {
    let parts = render_parts(&rectification_order());
    let xml = Document::parse(&parts["word/document.xml"]).unwrap();
    let paras = paragraphs(&xml);
    assert_eq!(paras[0].2, "南翔镇安全生产监督管理所");
    assert_eq!(paras[1].2, "责令限期整改指令书");
    assert_eq!(paras[2].2, "（南）安监责改〔2021〕12号");
    assert_eq!(ppr_value(paras[2].0, "jc", "val").as_deref(), Some("right"));
    assert_eq!(paras[3].2, "上海某某机械制造有限公司：");
    // Field lines: wrapped lines align after the colon.
    let field = find(&paras, "检查时间：2021年3月5日");
    assert_eq!(
        ppr_value(field, "ind", "hangingChars").as_deref(),
        Some("500")
    );
    assert!(
        paras
            .iter()
            .any(|(_, _, t)| t == "3.未建立隐患排查治理台账。")
    );

    let table = w(xml.root(), "tbl").next().unwrap();
    let widths: Vec<u32> = w(table, "gridCol")
        .map(|c| attr(c, "w").unwrap().parse().unwrap())
        .collect();
    assert_eq!(widths.iter().sum::<u32>(), 8845);
    let rows: Vec<_> = w(table, "tr").collect();
    assert_eq!(rows.len(), 4);
    assert!(w(rows[0], "tblHeader").next().is_some());
    assert!(rows.iter().all(|r| w(*r, "cantSplit").next().is_some()));
    assert!(
        rows[1..]
            .iter()
            .all(|r| w(*r, "tblHeader").next().is_none())
    );
    let header: Vec<String> = w(rows[0], "tc").map(text).collect();
    assert_eq!(header, ["序号", "隐患内容", "整改期限"]);
    let last: Vec<String> = w(rows[3], "tc").map(text).collect();
    assert_eq!(last, ["3", "未建立隐患排查治理台账", "2021年3月31日"]);
    assert_eq!(
        w(table, "insideV").next().and_then(|b| attr(b, "val")),
        Some("single")
    );

    // Signature lines with an underlined blank, a date to fill in, the
    // issuer with its seal placeholder and the date.
    let inspector = find(&paras, "检查人员（签名）：");
    let blank = w(inspector, "r").nth(1).unwrap();
    assert!(w(blank, "u").next().is_some());
    assert_eq!(text(blank), "　".repeat(10));
    assert!(paras.iter().any(|(_, _, t)| t == "年　　月　　日"));
    let signed: Vec<_> = paras
        .iter()
        .filter(|(_, s, _)| s == "GwSignature")
        .map(|(_, _, t)| t.as_str())
        .collect();
    assert_eq!(
        signed,
        [
            "年　　月　　日",
            "南翔镇安全生产监督管理所（印章）",
            "2021年3月5日"
        ]
    );
}

#[test]
fn small_tables_set_their_text_in_xiaosi() {
    let mut doc = rectification_order();
    let table = doc
        .body
        .iter()
        .find_map(|b| match b {
            Block::Table(t) => Some(t.clone()),
            _ => None,
        })
        .unwrap();
    doc.body.push(Block::Table(Table {
        size: TableTextSize::Small,
        ..table
    }));
    let parts = render_parts(&doc);
    let xml = Document::parse(&parts["word/document.xml"]).unwrap();
    let tables: Vec<_> = w(xml.root(), "tbl").collect();
    assert_eq!(tables.len(), 2);
    let sizes = |t: Node| -> Vec<Option<String>> {
        w(t, "r")
            .map(|r| {
                w(r, "sz")
                    .next()
                    .and_then(|s| attr(s, "val"))
                    .map(str::to_owned)
            })
            .collect()
    };
    let lines = |t: Node| -> Vec<Option<String>> {
        w(t, "p").map(|p| ppr_value(p, "spacing", "line")).collect()
    };
    // The standard table takes 4号 and its line from the style; the small
    // one sets 小四 on every run (header too) and 17 pt lines.
    assert!(sizes(tables[0]).iter().all(Option::is_none));
    assert!(lines(tables[0]).iter().all(Option::is_none));
    let small = sizes(tables[1]);
    assert_eq!(small.len(), 3 + 3 * 3);
    assert!(
        small.iter().all(|s| s.as_deref() == Some("24")),
        "{small:?}"
    );
    assert!(lines(tables[1]).iter().all(|l| l.as_deref() == Some("340")));
    assert_eq!(
        w(tables[0], "tc").map(text).collect::<Vec<_>>(),
        w(tables[1], "tc").map(text).collect::<Vec<_>>()
    );
}

#[test]
fn unsealed_signature_keeps_the_date_two_characters_right_of_the_issuer() {
    let parts = render_parts(&long_circular());
    let xml = Document::parse(&parts["word/document.xml"]).unwrap();
    let paras = paragraphs(&xml);
    let signed: Vec<_> = paras
        .iter()
        .filter(|(_, s, _)| s == "GwSignature")
        .collect();
    assert_eq!(signed.len(), 2);
    let (issuer, date) = (signed[0].0, signed[1].0);
    assert_eq!(
        (signed[0].2.as_str(), signed[1].2.as_str()),
        ("南翔镇安全生产委员会办公室", "2021年4月12日")
    );
    // Issuer: 13 characters, 2 from the edge; date: 6.5 characters, so its
    // right edge is 13 - 6.5 = 6.5 characters in.
    assert_eq!(
        ppr_value(issuer, "ind", "rightChars").as_deref(),
        Some("200")
    );
    assert_eq!(ppr_value(date, "ind", "rightChars").as_deref(), Some("650"));
}

#[test]
fn text_is_escaped_and_survives_a_round_trip() {
    let tricky = r#"<b>A & B</b> "quoted" 'single' 𠮷野家 😀 ＆"#;
    let mut doc = OfficialDocument::new(format!("标题{tricky}"));
    doc.addressee = Some(tricky.into());
    doc.body = vec![
        Block::Paragraph(format!("正文{tricky}\u{1}\u{b}换行")),
        Block::Table(Table {
            columns: vec![Column::new(tricky, 1)],
            rows: vec![vec![tricky.into()]],
            size: TableTextSize::Standard,
        }),
        Block::Fields(vec![(tricky.into(), tricky.into())]),
    ];
    doc.fonts.body = "Font<&>".into();
    let parts = render_parts(&doc);
    for (name, xml) in &parts {
        Document::parse(xml).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let xml = Document::parse(&parts["word/document.xml"]).unwrap();
    let all: Vec<String> = w(xml.root(), "p").map(text).collect();
    assert!(all.contains(&format!("标题{tricky}")));
    assert!(all.contains(&format!("{tricky}：")));
    // The control character is dropped, the vertical tab becomes a break.
    assert!(all.contains(&format!("正文{tricky}\n换行")));
    assert!(all.iter().filter(|t| *t == tricky).count() >= 2);
    assert!(
        parts["docProps/core.xml"].contains("标题&lt;b&gt;A &amp; B&lt;/b&gt; &quot;quoted&quot;")
    );
    let styles = Document::parse(&parts["word/styles.xml"]).unwrap();
    let defaults = w(styles.root(), "docDefaults").next().unwrap();
    assert_eq!(
        w(defaults, "rFonts").next().and_then(|f| attr(f, "ascii")),
        Some("Font<&>")
    );
}

#[test]
fn rendering_is_deterministic() {
    for doc in [supervision_notice(), rectification_order(), long_circular()] {
        let a = render(&doc).unwrap();
        let b = render(&doc.clone()).unwrap();
        assert_eq!(a, b);
    }
    assert_ne!(
        render(&supervision_notice()).unwrap(),
        render(&long_circular()).unwrap()
    );
}

#[test]
fn malformed_input_is_refused_with_messages_in_both_languages() {
    assert_eq!(
        render(&OfficialDocument::new("  ")),
        Err(DocxError::EmptyTitle)
    );
    let mut doc = rectification_order();
    let Block::Table(t) = doc
        .body
        .iter_mut()
        .find(|b| matches!(b, Block::Table(_)))
        .unwrap()
    else {
        unreachable!()
    };
    t.rows[1].pop();
    let err = render(&doc).unwrap_err();
    assert_eq!(
        err,
        DocxError::RowWidth {
            table: 1,
            row: 2,
            expected: 3,
            found: 2
        }
    );
    assert_eq!(err.zh(), "第1个表格第2行有2个单元格，但表格有3列");
    doc.body.push(Block::Table(Table {
        columns: vec![],
        rows: vec![],
        size: TableTextSize::Standard,
    }));
    doc.body
        .retain(|b| !matches!(b, Block::Table(t) if !t.columns.is_empty()));
    assert_eq!(render(&doc), Err(DocxError::NoColumns { table: 1 }));
}

#[test]
fn long_documents_keep_every_paragraph() {
    let doc = long_circular();
    let parts = render_parts(&doc);
    let xml = Document::parse(&parts["word/document.xml"]).unwrap();
    let paras = paragraphs(&xml);
    let body = paras.iter().filter(|(_, s, _)| s == "GwBody").count();
    assert_eq!(body, 1 + 4 * 3 + 1);
    assert_eq!(
        paras.iter().filter(|(_, s, _)| s == "GwHeading2").count(),
        12
    );
}

/// Lays a long document out with LibreOffice and reads the PDF back: a full
/// page holds 22 lines, a full line 28 characters, and the colophon ends the
/// last page. Runs when `soffice` and `pdftotext` (LibreOffice,
/// poppler-utils) are on PATH, and says it was skipped otherwise (see
/// `office`).
#[test]
fn libreoffice_lays_out_22_lines_of_28_characters() {
    // Unpunctuated text, so that no line-breaking rule shortens a line.
    let mut doc = long_circular();
    doc.body = (0..4)
        .map(|_| Block::Paragraph("安全生产专项整治隐患排查治理闭环管理".repeat(20)))
        .collect();
    let Some(pdf) = office::to_pdf("lines_of_28", &render(&doc).unwrap()) else {
        return;
    };
    let count = pdf.pages();
    assert!(count >= 3, "{count} pages");
    // Page 2 is all body text: 22 lines of 28 characters, 26 after the
    // two-character indent of a paragraph's first line.
    let lines = office::body_lines(&pdf.text(Some((2, 2))));
    assert_eq!(lines.len(), 22, "{lines:#?}");
    let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
    assert!(widths.iter().all(|w| *w == 28 || *w == 26), "{lines:#?}");
    assert!(
        widths.iter().filter(|w| **w == 28).count() >= 18,
        "{lines:#?}"
    );
    // The last page ends with the colophon.
    let last = office::body_lines(&pdf.text(Some((count, count))));
    assert_eq!(
        last.last().map(String::as_str),
        Some("南翔镇安全生产委员会办公室2021年4月12日印发")
    );
}
