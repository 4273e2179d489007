//! Official documents (公文) as Word `.docx` files, laid out after
//! GB/T 9704-2012 《党政机关公文格式》.
//!
//! The caller describes a document with [`OfficialDocument`] — masthead,
//! title, addressee, body [`Block`]s, attachments, signature, colophon — and
//! [`render`] writes the WordprocessingML package. Nothing here knows about
//! hazards or campaigns: a 挂牌督办通知书, a 整改指令书 or a 通报 are all just
//! documents.
//!
//! # Layout
//!
//! * A4 paper; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm, so
//!   the text area (版心) is 156 mm × 225 mm (see [`layout`]).
//! * Body text 3号 (16 pt) 仿宋, 22 lines a page and 28 characters a line: a
//!   document grid of lines with a fixed line pitch of 579 twips (28.95 pt),
//!   and character spacing of -0.25 pt so that 28 characters fill a line
//!   (see [`layout::CHAR_SPACING`]).
//! * [`Masthead::Red`] (文件格式): the issuer mark (发文机关标志) in red
//!   小标宋, its top 35 mm below the top of the text area (80 mm for upward
//!   documents that name a 签发人), centred; the document number (发文字号)
//!   two lines below, centred (or left, with 签发人 on the right); a red line
//!   the width of the text area under it. The mark is set as large as fits
//!   one line (小初 36 pt, else 一号 26 pt) and squeezed horizontally when even
//!   26 pt is too wide, as printers do with long issuer names.
//! * [`Masthead::Plain`] (文书格式, for forms such as 整改指令书): an optional
//!   black authority line above the title, the number right-aligned under the
//!   title.
//! * Title 2号 (22 pt) 小标宋, centred, two lines below the red line; `\n` in
//!   the title breaks the line where the caller wants (titles should break
//!   between words).
//! * Addressee flush left one line below the title, followed by a full-width
//!   colon. Body paragraphs indented two characters; headings 一、 in 黑体,
//!   （一） in 楷体, 1. in 仿宋.
//! * Attachment note (附件说明) one line below the body, two characters in,
//!   names numbered and aligned when there is more than one.
//! * Issuer signature (发文机关署名) and date (成文日期, Arabic numerals) at the
//!   bottom right: see [`Seal`] for the two placements the standard gives.
//! * Colophon (版记: 抄送, 印发机关 and 印发日期) in 4号 between a thick top and
//!   bottom rule and a thin middle rule, floated to the bottom of the last
//!   page's text area.
//! * Page numbers "— 1 —" in 4号 宋体 7 mm below the text area: odd pages on
//!   the right, even pages on the left, one character in from the edge
//!   ([`PageNumbers::OddRightEvenLeft`]); centred on request.
//!
//! Fonts are named as offices have them (方正小标宋简体, 仿宋_GB2312, 黑体,
//! 楷体_GB2312, 宋体); the font table names the Windows fonts 仿宋, 楷体 and 宋体
//! as alternates, and LibreOffice substitutes whatever CJK fonts it has.
//!
//! The output is deterministic: the same document gives the same bytes
//! (fixed zip timestamps, fixed part order, no revision ids).

mod body;
mod parts;
pub(crate) mod xml;

use std::io::{Cursor, Write};

use time::Date;

/// Page geometry in twips (1/1440 inch), per GB/T 9704-2012.
pub mod layout {
    /// A4 width, 210 mm.
    pub const PAGE_WIDTH: u32 = 11906;
    /// A4 height, 297 mm.
    pub const PAGE_HEIGHT: u32 = 16838;
    /// Top margin, 37 mm.
    pub const MARGIN_TOP: u32 = 2098;
    /// Bottom margin, 35 mm.
    pub const MARGIN_BOTTOM: u32 = 1984;
    /// Left margin, 28 mm.
    pub const MARGIN_LEFT: u32 = 1587;
    /// Right margin, 26 mm.
    pub const MARGIN_RIGHT: u32 = 1474;
    /// Width of the text area, 156 mm.
    pub const TEXT_WIDTH: u32 = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
    /// Height of the text area, 225 mm.
    pub const TEXT_HEIGHT: u32 = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    /// Body lines per page.
    pub const LINES_PER_PAGE: u32 = 22;
    /// Body characters per line.
    pub const CHARS_PER_LINE: u32 = 28;
    /// Line pitch: the text height shared by 22 lines, rounded down (579
    /// twips = 28.95 pt).
    pub const LINE_PITCH: u32 = TEXT_HEIGHT / LINES_PER_PAGE;
    /// Body font size in half points (3号 = 16 pt).
    pub const BODY_SIZE: u32 = 32;
    /// Character spacing of all text in twentieths of a point (-0.25 pt):
    /// 16 pt characters then advance 15.75 pt, so exactly 28 fit the 442.25
    /// pt text width (29 would need 456.75 pt).
    ///
    /// This is done with character spacing rather than a character grid
    /// because LibreOffice gives every character that is wider than a grid
    /// cell two cells, and 28 cells of 16 pt do not fit 156 mm.
    pub const CHAR_SPACING: i32 = -5;
    /// Advance of one body character in twips (15.75 pt = 315 twips), the
    /// unit of indents.
    #[allow(clippy::cast_possible_wrap)]
    pub const CHAR_PITCH: f64 = (BODY_SIZE as i32 * 10 + CHAR_SPACING) as f64;
    /// Distance from the page's bottom edge to the bottom of the page-number
    /// line: puts the dashes about 7 mm below the text area.
    pub const FOOTER_DISTANCE: u32 = 1400;
}

/// A document to render. Build one with [`OfficialDocument::new`] and fill
/// in the parts it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialDocument {
    /// Header above the title (版头).
    pub masthead: Masthead,
    /// Title (标题); `\n` forces a line break.
    pub title: String,
    /// Main addressee (主送机关), e.g. "各村、居委会，各有关单位" or the
    /// enterprise a form is addressed to. A full-width colon is added unless
    /// the text already ends in one.
    pub addressee: Option<String>,
    /// Body (正文).
    pub body: Vec<Block>,
    /// Attachment names for the attachment note (附件说明), without numbers.
    pub attachments: Vec<String>,
    /// Signature lines, issuer signature, seal and date.
    pub closing: Closing,
    /// Note (附注) printed in parentheses under the date, e.g. contact person
    /// and telephone.
    pub note: Option<String>,
    /// Attachments printed after the document, each starting a new page.
    pub appendices: Vec<Appendix>,
    /// Colophon (版记) at the bottom of the last page.
    pub colophon: Option<Colophon>,
    /// Where page numbers go.
    pub page_numbers: PageNumbers,
    /// Font names.
    pub fonts: Fonts,
}

impl OfficialDocument {
    /// A document with only a title, no masthead, default fonts and odd/even
    /// page numbers.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            masthead: Masthead::None,
            title: title.into(),
            addressee: None,
            body: Vec::new(),
            attachments: Vec::new(),
            closing: Closing::default(),
            note: None,
            appendices: Vec::new(),
            colophon: None,
            page_numbers: PageNumbers::default(),
            fonts: Fonts::default(),
        }
    }
}

/// The header above the title (版头).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Masthead {
    /// No header: the title starts the page.
    #[default]
    None,
    /// 文件格式: red issuer mark, document number, red separator line.
    Red {
        /// 发文机关标志, e.g. "××镇安全生产委员会办公室" or "××市人民政府文件".
        /// `\n` separates the names of joint issuers.
        issuer: String,
        /// 发文字号, e.g. "南安办〔2021〕3号".
        number: Option<String>,
        /// 签发人 of an upward document (上行文): the number moves left, the
        /// signatory is printed on the right and the mark moves down to 80 mm.
        signatory: Option<String>,
    },
    /// 文书格式, for forms: an optional black authority line above the title
    /// and the number right-aligned below it.
    Plain {
        /// Issuing authority printed above the title.
        authority: Option<String>,
        /// Number line, e.g. "（南）安监责改〔2021〕12号".
        number: Option<String>,
    },
}

/// One block of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A body paragraph, first line indented two characters. `\n` breaks the
    /// line inside the paragraph.
    Paragraph(String),
    /// Level-1 heading in 黑体, text as given (e.g. "一、工作目标").
    Heading1(String),
    /// Level-2 heading in 楷体 (e.g. "（一）组织领导").
    Heading2(String),
    /// Level-3 heading in 仿宋 (e.g. "1.明确责任").
    Heading3(String),
    /// A paragraph that opens with a heading run and goes on with body text,
    /// the common "（一）加强组织领导。各单位要……" form.
    Lead {
        /// Heading level, which picks the heading font.
        level: Level,
        /// The heading run, e.g. "（一）加强组织领导。".
        heading: String,
        /// Body text following it in the same paragraph.
        text: String,
    },
    /// Paragraphs numbered "1." "2." … (numbers added here).
    Numbered(Vec<String>),
    /// A ruled table.
    Table(Table),
    /// "label：value" lines, flush left, wrapped lines aligned after the
    /// colon; for the header fields of forms.
    Fields(Vec<(String, String)>),
    /// An empty line.
    Blank,
    /// Continue on a new page.
    PageBreak,
}

/// Heading level for [`Block::Lead`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// 一、 in 黑体.
    One,
    /// （一） in 楷体.
    Two,
    /// 1. in 仿宋.
    Three,
}

/// A ruled table in 4号 text (or 小四, see [`TableTextSize`]), as wide as the
/// text area, its header row repeated on every page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Columns; must not be empty.
    pub columns: Vec<Column>,
    /// Rows, each with one cell per column.
    pub rows: Vec<Vec<String>>,
    /// Size of the text in the cells and the header.
    pub size: TableTextSize,
}

/// Text size of a [`Table`]. GB/T 9704 leaves it to the drafter; lists of
/// many columns, such as a circular's attachment, are commonly set smaller
/// than the body so that codes and dates keep to one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableTextSize {
    /// 4号 (14 pt) on 20 pt lines, as the colophon.
    #[default]
    Standard,
    /// 小四 (12 pt) on 17 pt lines.
    Small,
}

/// A table column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Header text (黑体, centred).
    pub header: String,
    /// Relative width: the text area is shared in proportion to these.
    /// Zero counts as one.
    pub width: u32,
    /// Alignment of the cells below the header.
    pub align: Align,
}

impl Column {
    /// A left-aligned column.
    pub fn new(header: impl Into<String>, width: u32) -> Self {
        Self {
            header: header.into(),
            width,
            align: Align::Left,
        }
    }

    /// The same column with centred cells (for 序号, dates, short codes).
    #[must_use]
    pub fn centered(mut self) -> Self {
        self.align = Align::Center;
        self
    }
}

/// Alignment of table cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    /// Justified from the left.
    #[default]
    Left,
    /// Centred.
    Center,
}

/// A line to sign on, such as "检查人员（签名）：".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLine {
    /// Label, e.g. "被检查单位负责人（签收）". A full-width colon is added.
    pub label: String,
    /// Printed value (e.g. the inspectors' names); `None` leaves an
    /// underlined blank to sign on.
    pub value: Option<String>,
    /// Adds a "年　月　日" line to fill in, right-aligned, under the line.
    pub dated: bool,
}

impl SignatureLine {
    /// A blank line to sign on, without a date.
    pub fn blank(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: None,
            dated: false,
        }
    }

    /// The same line followed by a "年　月　日" line to fill in.
    #[must_use]
    pub fn dated(mut self) -> Self {
        self.dated = true;
        self
    }
}

/// The end of the document: signature lines, issuer signature, seal, date.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Closing {
    /// Lines to sign on, printed one blank line apart before the issuer.
    pub signature_lines: Vec<SignatureLine>,
    /// 发文机关署名.
    pub issuer: Option<String>,
    /// How the signature is placed and whether a seal placeholder is printed.
    pub seal: Seal,
    /// 成文日期, printed as "2021年3月5日".
    pub date: Option<Date>,
}

/// Seal and signature placement (GB/T 9704-2012 7.3.5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Seal {
    /// 不加盖印章: issuer two characters from the right edge, the date on
    /// the next line starting two characters further right (the issuer moves
    /// left if the date is longer, so the date keeps two characters of space).
    #[default]
    None,
    /// 加盖印章: the date four characters from the right edge and the issuer
    /// centred over it, with two blank lines above for the seal to be
    /// stamped on paper or applied electronically.
    Stamped,
    /// Like [`Seal::Stamped`], with this text (e.g. "（印章）") printed after
    /// the issuer to show where the seal goes on a form.
    Placeholder(String),
}

/// An attachment printed after the document on a page of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appendix {
    /// Label in 黑体 at the top left, e.g. "附件" or "附件2".
    pub label: String,
    /// Title, centred on the third line.
    pub title: String,
    /// Content.
    pub body: Vec<Block>,
}

/// The colophon (版记).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Colophon {
    /// 抄送: copy-to recipients, e.g. "镇党委、镇人大、镇纪委".
    pub cc: Option<String>,
    /// 印发机关.
    pub printed_by: String,
    /// 印发日期.
    pub printed_on: Date,
}

/// Page-number placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PageNumbers {
    /// The standard: odd pages right, even pages left, one character in.
    #[default]
    OddRightEvenLeft,
    /// Centred on every page.
    Centered,
    /// No page numbers.
    Off,
}

/// Fonts, by the names Word looks up. The defaults are the fonts Chinese
/// government offices use; change them when an office has other fonts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fonts {
    /// Issuer mark and titles (小标宋).
    pub title: String,
    /// Body (仿宋).
    pub body: String,
    /// Level-1 headings, table headers, attachment labels (黑体).
    pub heading1: String,
    /// Level-2 headings and the 签发人 name (楷体).
    pub heading2: String,
    /// Page numbers (宋体).
    pub page_number: String,
}

impl Default for Fonts {
    fn default() -> Self {
        Self {
            title: "方正小标宋简体".to_owned(),
            body: "仿宋_GB2312".to_owned(),
            heading1: "黑体".to_owned(),
            heading2: "楷体_GB2312".to_owned(),
            page_number: "宋体".to_owned(),
        }
    }
}

/// Why a document could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocxError {
    /// The title is empty or blank.
    #[error("the document has no title")]
    EmptyTitle,
    /// A table has no columns.
    #[error("table {table} has no columns")]
    NoColumns {
        /// 1-based number of the table in the document.
        table: usize,
    },
    /// A table row has a different number of cells than the table has
    /// columns.
    #[error("table {table}, row {row}: {found} cells, but the table has {expected} columns")]
    RowWidth {
        /// 1-based number of the table in the document.
        table: usize,
        /// 1-based row number, not counting the header.
        row: usize,
        /// Number of columns.
        expected: usize,
        /// Number of cells in the row.
        found: usize,
    },
    /// Writing the zip package failed.
    #[error("could not write the docx package: {0}")]
    Package(String),
}

impl DocxError {
    /// The message in Chinese.
    pub fn zh(&self) -> String {
        match self {
            Self::EmptyTitle => "公文缺少标题".to_owned(),
            Self::NoColumns { table } => format!("第{table}个表格没有列"),
            Self::RowWidth {
                table,
                row,
                expected,
                found,
            } => {
                format!("第{table}个表格第{row}行有{found}个单元格，但表格有{expected}列")
            }
            Self::Package(e) => format!("无法生成 docx 文件：{e}"),
        }
    }

    /// The message in English.
    pub fn en(&self) -> String {
        self.to_string()
    }
}

/// A date as official documents print it: Arabic numerals, full year, no
/// leading zeros — "2021年3月5日".
pub fn chinese_date(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
}

/// Chinese numerals for heading numbers: 1 → "一", 10 → "十", 12 → "十二",
/// 20 → "二十", 99 → "九十九". Numbers from 100 up are returned in Arabic
/// numerals (no document has that many headings).
pub fn chinese_numeral(n: u32) -> String {
    const DIGITS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let digit = |d: u32| DIGITS.get(d as usize).copied().unwrap_or_default();
    match n {
        0..=9 => digit(n).to_owned(),
        10..=19 => format!("十{}", if n == 10 { "" } else { digit(n - 10) }),
        20..=99 => {
            let ones = n % 10;
            format!(
                "{}十{}",
                digit(n / 10),
                if ones == 0 { "" } else { digit(ones) }
            )
        }
        _ => n.to_string(),
    }
}

/// The number that opens a heading of `level`, for the `n`-th heading of
/// that level: "一、", "（一）", "1.".
pub fn heading_number(level: Level, n: u32) -> String {
    match level {
        Level::One => format!("{}、", chinese_numeral(n)),
        Level::Two => format!("（{}）", chinese_numeral(n)),
        Level::Three => format!("{n}."),
    }
}

/// Renders `doc` as the bytes of a `.docx` file.
///
/// # Errors
///
/// [`DocxError::EmptyTitle`] for a blank title, [`DocxError::NoColumns`] and
/// [`DocxError::RowWidth`] for malformed tables, [`DocxError::Package`] if
/// the zip writer fails.
pub fn render(doc: &OfficialDocument) -> Result<Vec<u8>, DocxError> {
    if doc.title.trim().is_empty() {
        return Err(DocxError::EmptyTitle);
    }
    let document = body::document_xml(doc)?;
    let files = parts::package(doc, document);
    zip_parts(&files)
}

/// Zips the parts in the given order with fixed timestamps and compression
/// settings, so equal input gives equal bytes.
fn zip_parts(files: &[(&str, String)]) -> Result<Vec<u8>, DocxError> {
    let pkg = |e: &dyn std::fmt::Display| DocxError::Package(e.to_string());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(zip::DateTime::default())
        .system(zip::System::Dos);
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in files {
        writer.start_file(*name, options).map_err(|e| pkg(&e))?;
        writer.write_all(content.as_bytes()).map_err(|e| pkg(&e))?;
    }
    let cursor = writer.finish().map_err(|e| pkg(&e))?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_use_arabic_numerals_without_padding() {
        assert_eq!(chinese_date(date!(2021 - 03 - 05)), "2021年3月5日");
        assert_eq!(chinese_date(date!(2020 - 12 - 31)), "2020年12月31日");
    }

    #[test]
    fn numerals_and_heading_numbers() {
        let got: Vec<String> = [1, 9, 10, 11, 19, 20, 21, 99, 100]
            .map(chinese_numeral)
            .into();
        assert_eq!(
            got,
            [
                "一",
                "九",
                "十",
                "十一",
                "十九",
                "二十",
                "二十一",
                "九十九",
                "100"
            ]
        );
        assert_eq!(heading_number(Level::One, 3), "三、");
        assert_eq!(heading_number(Level::Two, 12), "（十二）");
        assert_eq!(heading_number(Level::Three, 4), "4.");
    }

    #[test]
    fn grid_matches_the_standard() {
        use layout::*;
        assert_eq!((TEXT_WIDTH, TEXT_HEIGHT), (8845, 12756));
        assert_eq!(LINE_PITCH, 579);
        // 28 characters of 16 pt - 0.25 pt fit the text width, 29 do not.
        let advance_pt = CHAR_PITCH / 20.0;
        let width_pt = f64::from(TEXT_WIDTH) / 20.0;
        assert!((advance_pt - 15.75).abs() < 1e-9);
        assert!(28.0 * advance_pt <= width_pt && 29.0 * advance_pt > width_pt);
        // -0.2 pt would leave room for only 27 characters.
        assert!(28.0 * (16.0 - 0.2) > width_pt);
    }

    #[test]
    fn errors_speak_both_languages() {
        let e = DocxError::RowWidth {
            table: 1,
            row: 3,
            expected: 3,
            found: 2,
        };
        assert_eq!(e.zh(), "第1个表格第3行有2个单元格，但表格有3列");
        assert_eq!(
            e.en(),
            "table 1, row 3: 2 cells, but the table has 3 columns"
        );
    }
}
