//! The package parts other than `word/document.xml`: content types,
//! relationships, styles, settings, font table, footers and properties.

use super::layout::{BODY_SIZE, CHAR_SPACING, LINE_PITCH};
use super::xml::{PPr, RPr, escape};
use super::{OfficialDocument, PageNumbers};

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;
const W_NS: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const R_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const OD_REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// Relationship id of the footer for odd (or all) pages.
pub(crate) const FOOTER_ODD_ID: &str = "rIdFooterOdd";
/// Relationship id of the footer for even pages.
pub(crate) const FOOTER_EVEN_ID: &str = "rIdFooterEven";

/// Opening tag of a part rooted in the WordprocessingML namespace.
pub(crate) fn w_root(name: &str) -> String {
    format!(r#"{HEAD}<w:{name} xmlns:w="{W_NS}" xmlns:r="{R_NS}">"#)
}

/// All parts in package order, with `document` as `word/document.xml`.
pub(crate) fn package(doc: &OfficialDocument, document: String) -> Vec<(&'static str, String)> {
    let footers = match doc.page_numbers {
        PageNumbers::OddRightEvenLeft => 2,
        PageNumbers::Centered => 1,
        PageNumbers::Off => 0,
    };
    let mut files = vec![
        ("[Content_Types].xml", content_types(footers)),
        ("_rels/.rels", root_rels()),
        ("docProps/core.xml", core(doc)),
        ("docProps/app.xml", app()),
        ("word/document.xml", document),
        ("word/_rels/document.xml.rels", document_rels(footers)),
        ("word/styles.xml", styles(doc)),
        ("word/settings.xml", settings(doc.page_numbers)),
        ("word/fontTable.xml", font_table(doc)),
    ];
    match doc.page_numbers {
        PageNumbers::OddRightEvenLeft => {
            files.push(("word/footer1.xml", footer(Side::Right)));
            files.push(("word/footer2.xml", footer(Side::Left)));
        }
        PageNumbers::Centered => {
            files.push(("word/footer1.xml", footer(Side::Center)));
        }
        PageNumbers::Off => {}
    }
    files
}

fn content_types(footers: u32) -> String {
    let wml = "application/vnd.openxmlformats-officedocument.wordprocessingml";
    let mut s = format!(
        r#"{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="{wml}.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="{wml}.styles+xml"/><Override PartName="/word/settings.xml" ContentType="{wml}.settings+xml"/><Override PartName="/word/fontTable.xml" ContentType="{wml}.fontTable+xml"/>"#
    );
    for n in 1..=footers {
        s.push_str(&format!(
            r#"<Override PartName="/word/footer{n}.xml" ContentType="{wml}.footer+xml"/>"#
        ));
    }
    s.push_str(r#"<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#);
    s
}

fn root_rels() -> String {
    format!(
        r#"{HEAD}<Relationships xmlns="{REL_NS}"><Relationship Id="rId1" Type="{OD_REL}/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="{OD_REL}/extended-properties" Target="docProps/app.xml"/></Relationships>"#
    )
}

fn document_rels(footers: u32) -> String {
    let mut s = format!(
        r#"{HEAD}<Relationships xmlns="{REL_NS}"><Relationship Id="rId1" Type="{OD_REL}/styles" Target="styles.xml"/><Relationship Id="rId2" Type="{OD_REL}/settings" Target="settings.xml"/><Relationship Id="rId3" Type="{OD_REL}/fontTable" Target="fontTable.xml"/>"#
    );
    for (n, id) in [(1, FOOTER_ODD_ID), (2, FOOTER_EVEN_ID)] {
        if n <= footers {
            s.push_str(&format!(
                r#"<Relationship Id="{id}" Type="{OD_REL}/footer" Target="footer{n}.xml"/>"#
            ));
        }
    }
    s.push_str("</Relationships>");
    s
}

/// Core properties: the title only. No dates, so that rendering stays
/// deterministic.
fn core(doc: &OfficialDocument) -> String {
    let title = escape(&doc.title.replace(['\n', '\r'], ""));
    format!(
        r#"{HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{title}</dc:title></cp:coreProperties>"#
    )
}

fn app() -> String {
    format!(
        r#"{HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Bihuan</Application></Properties>"#
    )
}

/// Paragraph style ids used by the document body.
pub(crate) mod style {
    pub const MARK: &str = "GwMark";
    pub const NUMBER: &str = "GwNumber";
    pub const TITLE: &str = "GwTitle";
    pub const ADDRESSEE: &str = "GwAddressee";
    pub const BODY: &str = "GwBody";
    pub const H1: &str = "GwHeading1";
    pub const H2: &str = "GwHeading2";
    pub const H3: &str = "GwHeading3";
    pub const FIELD: &str = "GwField";
    pub const SIGN: &str = "GwSignature";
    pub const TABLE: &str = "GwTableText";
    pub const TABLE_HEAD: &str = "GwTableHeader";
    pub const COLOPHON: &str = "GwColophon";
    pub const LABEL: &str = "GwAppendixLabel";
    pub const FOOTER: &str = "GwFooter";
}

/// Size of table, colophon and page-number text in half points (4号 = 14 pt).
pub(crate) const SMALL_SIZE: u32 = 28;
/// Title size in half points (2号 = 22 pt).
pub(crate) const TITLE_SIZE: u32 = 44;

fn styles(doc: &OfficialDocument) -> String {
    let f = &doc.fonts;
    let body_font = RPr::font(&f.body).xml();
    let mut s = w_root("styles");
    s.push_str(&format!(
        r#"<w:docDefaults><w:rPrDefault><w:rPr>{body_font}<w:spacing w:val="{CHAR_SPACING}"/><w:sz w:val="{BODY_SIZE}"/><w:szCs w:val="{BODY_SIZE}"/><w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:widowControl w:val="0"/><w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/><w:spacing w:line="{LINE_PITCH}" w:lineRule="exact"/><w:jc w:val="both"/></w:pPr></w:pPrDefault></w:docDefaults>"#
    ));
    // The Normal style repeats the body font and size: LibreOffice sizes the
    // document grid's character cells from this style, not from the defaults.
    s.push_str(&format!(
        r#"<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/><w:rPr>{body_font}<w:spacing w:val="{CHAR_SPACING}"/><w:sz w:val="{BODY_SIZE}"/><w:szCs w:val="{BODY_SIZE}"/></w:rPr></w:style>"#
    ));
    s.push_str(r#"<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont"><w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/><w:unhideWhenUsed/></w:style>"#);
    s.push_str(r#"<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:uiPriority w:val="99"/><w:semiHidden/><w:unhideWhenUsed/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>"#);

    let body_indent = super::xml::Ind {
        first_line: 2.0,
        ..Default::default()
    };
    let para = |id: &str, name: &str, ppr: &PPr, rpr: &RPr, extra_ppr: &str| {
        format!(
            r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="{id}"><w:name w:val="{name}"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr>{}{extra_ppr}</w:pPr><w:rPr>{}</w:rPr></w:style>"#,
            ppr.xml(),
            rpr.xml()
        )
    };
    let centred = PPr {
        jc: Some(super::xml::Jc::Center),
        ..PPr::default()
    };
    let centred_free = PPr {
        snap_off: true,
        ..centred.clone()
    };
    let mut red_title = RPr::font(&f.title);
    red_title.color = Some("FF0000");
    s.push_str(&para(
        style::MARK,
        "公文发文机关标志",
        &centred_free,
        &red_title,
        "",
    ));
    s.push_str(&para(
        style::NUMBER,
        "公文发文字号",
        &centred,
        &RPr::default(),
        "",
    ));
    s.push_str(&para(
        style::TITLE,
        "公文标题",
        &centred_free,
        &RPr::font(&f.title).size(TITLE_SIZE),
        "",
    ));
    s.push_str(&para(
        style::ADDRESSEE,
        "公文主送机关",
        &PPr::default(),
        &RPr::default(),
        "",
    ));
    let body = PPr {
        ind: Some(body_indent),
        ..PPr::default()
    };
    s.push_str(&para(style::BODY, "公文正文", &body, &RPr::default(), ""));
    let heading = PPr {
        keep_next: true,
        ..body.clone()
    };
    let outline = |n: u8| format!(r#"<w:outlineLvl w:val="{n}"/>"#);
    s.push_str(&para(
        style::H1,
        "公文一级标题",
        &heading,
        &RPr::font(&f.heading1),
        &outline(0),
    ));
    s.push_str(&para(
        style::H2,
        "公文二级标题",
        &heading,
        &RPr::font(&f.heading2),
        &outline(1),
    ));
    s.push_str(&para(
        style::H3,
        "公文三级标题",
        &heading,
        &RPr::default(),
        &outline(2),
    ));
    s.push_str(&para(
        style::FIELD,
        "公文栏目",
        &PPr::default(),
        &RPr::default(),
        "",
    ));
    let right = PPr {
        jc: Some(super::xml::Jc::Right),
        ..PPr::default()
    };
    s.push_str(&para(style::SIGN, "公文署名", &right, &RPr::default(), ""));
    let small = PPr {
        snap_off: true,
        line: Some(super::xml::Line::Exact(400)),
        ..PPr::default()
    };
    s.push_str(&para(
        style::TABLE,
        "公文表格文字",
        &small,
        &RPr::default().size(SMALL_SIZE),
        "",
    ));
    let small_centred = PPr {
        jc: Some(super::xml::Jc::Center),
        ..small.clone()
    };
    s.push_str(&para(
        style::TABLE_HEAD,
        "公文表格标题",
        &small_centred,
        &RPr::font(&f.heading1).size(SMALL_SIZE),
        "",
    ));
    let colophon = PPr {
        snap_off: true,
        line: Some(super::xml::Line::Exact(LINE_PITCH)),
        ..PPr::default()
    };
    s.push_str(&para(
        style::COLOPHON,
        "公文版记",
        &colophon,
        &RPr::default().size(SMALL_SIZE),
        "",
    ));
    s.push_str(&para(
        style::LABEL,
        "公文附件标识",
        &PPr::default(),
        &RPr::font(&f.heading1),
        "",
    ));
    let footer = PPr {
        snap_off: true,
        line: Some(super::xml::Line::Auto(240)),
        ..PPr::default()
    };
    s.push_str(&para(
        style::FOOTER,
        "公文页码",
        &footer,
        &RPr::font(&f.page_number).size(SMALL_SIZE),
        "",
    ));
    s.push_str("</w:styles>");
    s
}

fn settings(pages: PageNumbers) -> String {
    let mut s = w_root("settings");
    s.push_str(r#"<w:zoom w:percent="100"/><w:defaultTabStop w:val="420"/>"#);
    if pages == PageNumbers::OddRightEvenLeft {
        s.push_str("<w:evenAndOddHeaders/>");
    }
    s.push_str(r#"<w:characterSpacingControl w:val="doNotCompress"/><w:compat><w:ulTrailSpace/><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat><w:themeFontLang w:val="en-US" w:eastAsia="zh-CN"/></w:settings>"#);
    s
}

/// The font table: every font the styles name, GB2312 charset, with the
/// Windows font that can stand in for the office fonts where one exists.
fn font_table(doc: &OfficialDocument) -> String {
    let f = &doc.fonts;
    let mut names: Vec<&str> = Vec::new();
    for n in [&f.title, &f.body, &f.heading1, &f.heading2, &f.page_number] {
        if !names.contains(&n.as_str()) {
            names.push(n);
        }
    }
    let mut s = w_root("fonts");
    for name in names {
        let alt = match name {
            "仿宋_GB2312" => Some("仿宋"),
            "楷体_GB2312" => Some("楷体"),
            "方正小标宋简体" | "方正小标宋_GBK" => Some("宋体"),
            _ => None,
        };
        s.push_str(&format!(r#"<w:font w:name="{}">"#, escape(name)));
        if let Some(a) = alt {
            s.push_str(&format!(r#"<w:altName w:val="{a}"/>"#));
        }
        s.push_str(
            r#"<w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>"#,
        );
    }
    s.push_str("</w:fonts>");
    s
}

#[derive(Clone, Copy)]
enum Side {
    Left,
    Right,
    Center,
}

/// A footer holding "— PAGE —" in 4号 宋体, one character in from its side.
fn footer(side: Side) -> String {
    use super::xml::{Ind, Jc, run};
    let one_char = f64::from(SMALL_SIZE * 10) / super::layout::CHAR_PITCH;
    let (jc, ind) = match side {
        Side::Left => (
            Jc::Left,
            Some(Ind {
                left: one_char,
                twips_only: true,
                ..Ind::default()
            }),
        ),
        Side::Right => (
            Jc::Right,
            Some(Ind {
                right: one_char,
                twips_only: true,
                ..Ind::default()
            }),
        ),
        Side::Center => (Jc::Center, None),
    };
    let ppr = PPr {
        style: Some(style::FOOTER),
        ind,
        jc: Some(jc),
        ..PPr::default()
    };
    let rpr = RPr::default();
    let mut runs = String::new();
    run(&mut runs, &rpr, "— ");
    runs.push_str(r#"<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>"#);
    run(&mut runs, &rpr, " —");
    let mut s = w_root("ftr");
    super::xml::paragraph(&mut s, &ppr, &runs);
    s.push_str("</w:ftr>");
    s
}
