//! `word/document.xml`: the masthead, title, body, closing, appendices and
//! colophon, in the order GB/T 9704-2012 puts them.

use super::layout::{
    CHAR_PITCH, FOOTER_DISTANCE, LINE_PITCH, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP,
    PAGE_HEIGHT, PAGE_WIDTH, TEXT_WIDTH,
};
use super::parts::{FOOTER_EVEN_ID, FOOTER_ODD_ID, SMALL_SIZE, style, w_root};
use super::xml::{Ind, Jc, Line, PPr, RPr, cells, chars_twips, paragraph, run, simple};
use super::{
    Align, Block, Colophon, DocxError, Level, Masthead, OfficialDocument, PageNumbers, Seal, Table,
    TableTextSize, chinese_date,
};

/// Red of the masthead.
const RED: &str = "FF0000";
/// Distance from the top of the text area to the top of the issuer mark:
/// 35 mm, or 80 mm for upward documents (in twips).
const MARK_TOP: u32 = 1984;
const MARK_TOP_UPWARD: u32 = 4535;
/// Full-width colon.
const COLON: &str = "：";
/// Text of [`TableTextSize::Small`] tables: 小四 (12 pt) in half points, on
/// lines of 17 pt (in twips), the ratio of the 4号 tables' 14 pt on 20 pt.
const SMALLER_SIZE: u32 = 24;
const SMALLER_LINE: u32 = 340;

pub(crate) fn document_xml(doc: &OfficialDocument) -> Result<String, DocxError> {
    let mut w = Writer {
        out: w_root("document"),
        doc,
        tables: 0,
        break_next: false,
    };
    w.out.push_str("<w:body>");
    w.masthead_and_title();
    if let Some(a) = &doc.addressee {
        let ppr = PPr {
            before: Some(LINE_PITCH),
            ..PPr::style(style::ADDRESSEE)
        };
        w.para(ppr, &RPr::default(), &with_colon(a));
    }
    w.blocks(&doc.body)?;
    w.attachments();
    w.closing();
    if let Some(note) = &doc.note {
        let text = if note.starts_with('（') || note.starts_with('(') {
            note.clone()
        } else {
            format!("（{note}）")
        };
        w.para(PPr::style(style::BODY), &RPr::default(), &text);
    }
    for a in &doc.appendices {
        w.break_next = true;
        w.para(PPr::style(style::LABEL), &RPr::default(), &a.label);
        let ppr = PPr {
            before: Some(LINE_PITCH),
            ..PPr::style(style::TITLE)
        };
        w.para(ppr, &RPr::default(), &a.title);
        w.blocks(&a.body)?;
    }
    if w.break_next {
        w.para(PPr::style(style::BODY), &RPr::default(), "");
    }
    if let Some(c) = &doc.colophon {
        w.colophon(c);
    }
    w.section();
    w.out.push_str("</w:body></w:document>");
    Ok(w.out)
}

struct Writer<'a> {
    out: String,
    doc: &'a OfficialDocument,
    /// Tables written so far, to name them in errors.
    tables: usize,
    /// A page break was asked for: the next paragraph starts a new page.
    break_next: bool,
}

impl Writer<'_> {
    /// Writes a paragraph of one run, starting a new page if one is pending.
    fn para(&mut self, mut ppr: PPr, rpr: &RPr, text: &str) {
        ppr.page_break_before |= std::mem::take(&mut self.break_next);
        simple(&mut self.out, &ppr, rpr, text);
    }

    /// Writes a paragraph of several runs.
    fn para_runs(&mut self, mut ppr: PPr, runs: &[(RPr, &str)]) {
        ppr.page_break_before |= std::mem::take(&mut self.break_next);
        let mut xml = String::new();
        for (rpr, text) in runs {
            if !text.is_empty() {
                run(&mut xml, rpr, text);
            }
        }
        paragraph(&mut self.out, &ppr, &xml);
    }

    fn masthead_and_title(&mut self) {
        let doc = self.doc;
        let fonts = &doc.fonts;
        let mut title_before = None;
        let mut number_after_title = None;
        match &doc.masthead {
            Masthead::None => {}
            Masthead::Red {
                issuer,
                number,
                signatory,
            } => {
                let (size, scale) = mark_size(issuer);
                let size_twips = size * 10;
                let top = if signatory.is_some() {
                    MARK_TOP_UPWARD
                } else {
                    MARK_TOP
                };
                let ppr = PPr {
                    before: Some(top.saturating_sub(size_twips / 10)),
                    line: Some(Line::Exact(size_twips + size_twips / 5)),
                    ..PPr::style(style::MARK)
                };
                let rpr = RPr {
                    size: Some(size),
                    scale,
                    ..RPr::default()
                };
                self.para(ppr, &rpr, issuer);

                let mut ppr = PPr {
                    before: Some(2 * LINE_PITCH),
                    border_bottom: Some((RED, 12, 4)),
                    ..PPr::style(style::NUMBER)
                };
                let number = number.as_deref().unwrap_or_default();
                match signatory {
                    None => self.para(ppr, &RPr::default(), number),
                    Some(name) => {
                        ppr.jc = Some(Jc::Left);
                        ppr.ind = Some(Ind {
                            left: 1.0,
                            ..Ind::default()
                        });
                        let right_edge = f64::from(TEXT_WIDTH) / CHAR_PITCH - 1.0;
                        ppr.tabs = vec![("right", chars_twips(right_edge))];
                        let tail = format!("{number}\t签发人{COLON}");
                        self.para_runs(
                            ppr,
                            &[(RPr::default(), &tail), (RPr::font(&fonts.heading2), name)],
                        );
                    }
                }
                title_before = Some(2 * LINE_PITCH);
            }
            Masthead::Plain { authority, number } => {
                if let Some(a) = authority {
                    let ppr = PPr {
                        line: Some(Line::Exact(LINE_PITCH)),
                        ..PPr::style(style::TITLE)
                    };
                    self.para(ppr, &RPr::default().size(36), a);
                    title_before = Some(LINE_PITCH / 2);
                }
                number_after_title = number.as_deref();
            }
        }
        let ppr = PPr {
            before: title_before,
            ..PPr::style(style::TITLE)
        };
        self.para(ppr, &RPr::default(), &doc.title);
        if let Some(n) = number_after_title {
            let ppr = PPr {
                jc: Some(Jc::Right),
                ind: Some(Ind {
                    right: 1.0,
                    ..Ind::default()
                }),
                ..PPr::style(style::NUMBER)
            };
            self.para(ppr, &RPr::default(), n);
        }
    }

    fn blocks(&mut self, blocks: &[Block]) -> Result<(), DocxError> {
        let fonts = &self.doc.fonts;
        for block in blocks {
            match block {
                Block::Paragraph(t) => self.para(PPr::style(style::BODY), &RPr::default(), t),
                Block::Heading1(t) => self.para(PPr::style(style::H1), &RPr::default(), t),
                Block::Heading2(t) => self.para(PPr::style(style::H2), &RPr::default(), t),
                Block::Heading3(t) => self.para(PPr::style(style::H3), &RPr::default(), t),
                Block::Lead {
                    level,
                    heading,
                    text,
                } => {
                    let head = match level {
                        Level::One => RPr::font(&fonts.heading1),
                        Level::Two => RPr::font(&fonts.heading2),
                        Level::Three => RPr::default(),
                    };
                    self.para_runs(
                        PPr::style(style::BODY),
                        &[(head, heading), (RPr::default(), text)],
                    );
                }
                Block::Numbered(items) => {
                    for (i, t) in items.iter().enumerate() {
                        let text = format!("{}.{t}", i + 1);
                        self.para(PPr::style(style::BODY), &RPr::default(), &text);
                    }
                }
                Block::Table(t) => self.table(t)?,
                Block::Fields(fields) => {
                    for (label, value) in fields {
                        let label = with_colon(label);
                        let width = cells(&label);
                        let ppr = PPr {
                            ind: Some(Ind {
                                left: width,
                                hanging: width,
                                ..Ind::default()
                            }),
                            ..PPr::style(style::FIELD)
                        };
                        self.para(ppr, &RPr::default(), &format!("{label}{value}"));
                    }
                }
                Block::Blank => self.para(PPr::style(style::BODY), &RPr::default(), ""),
                Block::PageBreak => self.break_next = true,
            }
        }
        Ok(())
    }

    fn table(&mut self, table: &Table) -> Result<(), DocxError> {
        self.tables += 1;
        let number = self.tables;
        if table.columns.is_empty() {
            return Err(DocxError::NoColumns { table: number });
        }
        let expected = table.columns.len();
        for (i, row) in table.rows.iter().enumerate() {
            if row.len() != expected {
                return Err(DocxError::RowWidth {
                    table: number,
                    row: i + 1,
                    expected,
                    found: row.len(),
                });
            }
        }
        if std::mem::take(&mut self.break_next) {
            self.out.push_str(r#"<w:p><w:pPr><w:pStyle w:val="GwBody"/></w:pPr><w:r><w:br w:type="page"/></w:r></w:p>"#);
        }
        let widths = column_widths(table);
        let (rpr, line) = match table.size {
            TableTextSize::Standard => (RPr::default(), None),
            TableTextSize::Small => (
                RPr::default().size(SMALLER_SIZE),
                Some(Line::Exact(SMALLER_LINE)),
            ),
        };
        let s = &mut self.out;
        s.push_str(&format!(
            r#"<w:tbl><w:tblPr><w:tblW w:w="{TEXT_WIDTH}" w:type="dxa"/><w:jc w:val="center"/><w:tblBorders>"#
        ));
        for side in ["top", "left", "bottom", "right", "insideH", "insideV"] {
            s.push_str(&format!(
                r#"<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>"#
            ));
        }
        s.push_str(r#"</w:tblBorders><w:tblLayout w:type="fixed"/><w:tblCellMar><w:top w:w="57" w:type="dxa"/><w:left w:w="85" w:type="dxa"/><w:bottom w:w="57" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar></w:tblPr><w:tblGrid>"#);
        for w in &widths {
            s.push_str(&format!(r#"<w:gridCol w:w="{w}"/>"#));
        }
        s.push_str("</w:tblGrid>");
        s.push_str("<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>");
        for (col, w) in table.columns.iter().zip(&widths) {
            let ppr = PPr {
                line,
                ..PPr::style(style::TABLE_HEAD)
            };
            cell(s, *w, &ppr, &rpr, &col.header);
        }
        s.push_str("</w:tr>");
        for row in &table.rows {
            // A row of a few lines is never split across pages, so that no
            // name loses its last characters to the next page.
            s.push_str("<w:tr><w:trPr><w:cantSplit/></w:trPr>");
            for ((text, col), w) in row.iter().zip(&table.columns).zip(&widths) {
                let mut ppr = PPr {
                    line,
                    ..PPr::style(style::TABLE)
                };
                if col.align == Align::Center {
                    ppr.jc = Some(Jc::Center);
                }
                cell(s, *w, &ppr, &rpr, text);
            }
            s.push_str("</w:tr>");
        }
        s.push_str("</w:tbl>");
        Ok(())
    }

    fn attachments(&mut self) {
        let list = &self.doc.attachments;
        let label = format!("附件{COLON}");
        let label_width = cells(&label);
        if let [only] = list.as_slice() {
            let ppr = PPr {
                before: Some(LINE_PITCH),
                ind: Some(Ind {
                    left: 2.0 + label_width,
                    hanging: label_width,
                    ..Ind::default()
                }),
                ..PPr::style(style::FIELD)
            };
            self.para(ppr, &RPr::default(), &format!("{label}{only}"));
            return;
        }
        let number_width = cells(&format!("{}.", list.len()));
        for (i, name) in list.iter().enumerate() {
            let lead = if i == 0 {
                label.clone()
            } else {
                "　".repeat(3)
            };
            let left = 2.0 + label_width + number_width;
            let ppr = PPr {
                before: (i == 0).then_some(LINE_PITCH),
                ind: Some(Ind {
                    left,
                    hanging: left - 2.0,
                    ..Ind::default()
                }),
                ..PPr::style(style::FIELD)
            };
            self.para(ppr, &RPr::default(), &format!("{lead}{}.{name}", i + 1));
        }
    }

    fn closing(&mut self) {
        let closing = &self.doc.closing;
        for line in &closing.signature_lines {
            let ppr = PPr {
                before: Some(LINE_PITCH),
                ..PPr::style(style::FIELD)
            };
            let label = with_colon(&line.label);
            let blank = "　".repeat(10);
            let (value, underline) = match &line.value {
                Some(v) => (v.as_str(), false),
                None => (blank.as_str(), true),
            };
            let value_rpr = RPr {
                underline,
                ..RPr::default()
            };
            self.para_runs(ppr, &[(RPr::default(), &label), (value_rpr, value)]);
            if line.dated {
                self.para(right_aligned(2.0, None), &RPr::default(), "年　　月　　日");
            }
        }
        let placeholder = match &closing.seal {
            Seal::Placeholder(p) => p.as_str(),
            Seal::None | Seal::Stamped => "",
        };
        let issuer = closing.issuer.as_ref().map(|i| format!("{i}{placeholder}"));
        let date = closing.date.map(chinese_date);
        let (wu, wd) = (
            issuer.as_deref().map(cells).unwrap_or_default(),
            date.as_deref().map(cells).unwrap_or_default(),
        );
        let stamped = closing.seal != Seal::None;
        let (issuer_right, date_right) = if stamped {
            // 加盖印章: date 4 characters in, issuer centred over it.
            let date_right = 4.0;
            let issuer_right = if date.is_some() {
                (date_right + (wd - wu) / 2.0).max(0.0)
            } else {
                date_right
            };
            (issuer_right, date_right)
        } else if date.is_some() && issuer.is_some() {
            // 不加盖印章: issuer 2 in; the date starts 2 further right, but
            // keeps at least 2 characters of space on its right.
            let date_right = wu - wd;
            if date_right < 2.0 {
                (4.0 + wd - wu, 2.0)
            } else {
                (2.0, date_right)
            }
        } else {
            (2.0, 2.0)
        };
        let mut before = Some(if stamped { 2 * LINE_PITCH } else { LINE_PITCH });
        if let Some(i) = &issuer {
            self.para(
                right_aligned(issuer_right, before.take()),
                &RPr::default(),
                i,
            );
        }
        if let Some(d) = &date {
            self.para(right_aligned(date_right, before.take()), &RPr::default(), d);
        }
    }

    /// The colophon as a table floated to the bottom of the text area: thick
    /// rules above and below, a thin rule between 抄送 and 印发; 印发机关 one
    /// character in on the left, 印发日期 one character in on the right.
    ///
    /// The table is anchored horizontally to the page (at the left margin):
    /// LibreOffice keeps a floating table as wide as the text area inline
    /// unless its position is page-relative.
    fn colophon(&mut self, c: &Colophon) {
        let small_char = SMALL_SIZE * 10;
        let one = f64::from(small_char) / CHAR_PITCH;
        let printed_on = format!("{}印发", chinese_date(c.printed_on));
        // Room for the date, one character on its right and two characters
        // of slack (fonts differ in the width of digits).
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let date_width = ((cells(&printed_on) + 3.0) * f64::from(small_char)).ceil() as u32;
        let date_width = date_width.min(TEXT_WIDTH / 2);
        let name_width = TEXT_WIDTH - date_width;
        // A name too long for its cell is squeezed (down to 70 %) rather
        // than wrapped, as printers do.
        let name_room = f64::from(name_width - small_char);
        let name_needed = cells(&c.printed_by) * f64::from(small_char);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let name_scale = (name_needed > name_room)
            .then(|| (name_room / name_needed * 100.0).floor().max(70.0) as u32);
        let s = &mut self.out;
        s.push_str(&format!(
            r#"<w:tbl><w:tblPr><w:tblpPr w:leftFromText="0" w:rightFromText="0" w:topFromText="0" w:bottomFromText="0" w:vertAnchor="margin" w:horzAnchor="page" w:tblpX="{MARGIN_LEFT}" w:tblpYSpec="bottom"/><w:tblOverlap w:val="never"/><w:tblW w:w="{TEXT_WIDTH}" w:type="dxa"/><w:tblBorders><w:top w:val="single" w:sz="8" w:space="0" w:color="000000"/><w:left w:val="nil"/><w:bottom w:val="single" w:sz="8" w:space="0" w:color="000000"/><w:right w:val="nil"/><w:insideH w:val="single" w:sz="6" w:space="0" w:color="000000"/><w:insideV w:val="nil"/></w:tblBorders><w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar></w:tblPr><w:tblGrid><w:gridCol w:w="{name_width}"/><w:gridCol w:w="{date_width}"/></w:tblGrid>"#
        ));
        if let Some(cc) = &c.cc {
            let label = format!("抄送{COLON}");
            let label_width = f64::from(small_char) * cells(&label) / CHAR_PITCH;
            let mut text = format!("{label}{cc}");
            if !text.ends_with('。') {
                text.push('。');
            }
            let ppr = PPr {
                ind: Some(Ind {
                    left: one + label_width,
                    right: one,
                    hanging: label_width,
                    twips_only: true,
                    ..Ind::default()
                }),
                ..PPr::style(style::COLOPHON)
            };
            s.push_str(&format!(
                r#"<w:tr><w:tc><w:tcPr><w:tcW w:w="{TEXT_WIDTH}" w:type="dxa"/><w:gridSpan w:val="2"/><w:vAlign w:val="center"/></w:tcPr>"#
            ));
            simple(s, &ppr, &RPr::default(), &text);
            s.push_str("</w:tc></w:tr>");
        }
        let left = PPr {
            ind: Some(Ind {
                left: one,
                twips_only: true,
                ..Ind::default()
            }),
            ..PPr::style(style::COLOPHON)
        };
        let right = PPr {
            ind: Some(Ind {
                right: one,
                twips_only: true,
                ..Ind::default()
            }),
            jc: Some(Jc::Right),
            ..PPr::style(style::COLOPHON)
        };
        s.push_str(&format!(
            r#"<w:tr><w:tc><w:tcPr><w:tcW w:w="{name_width}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>"#
        ));
        simple(
            s,
            &left,
            &RPr {
                scale: name_scale,
                ..RPr::default()
            },
            &c.printed_by,
        );
        s.push_str("</w:tc>");
        cell(s, date_width, &right, &RPr::default(), &printed_on);
        s.push_str("</w:tr></w:tbl>");
        // A table cannot end the body; the empty paragraph also anchors the
        // floating table.
        let anchor = PPr {
            snap_off: true,
            line: Some(Line::Exact(20)),
            ..PPr::style(style::FIELD)
        };
        simple(s, &anchor, &RPr::default(), "");
    }

    fn section(&mut self) {
        let s = &mut self.out;
        s.push_str("<w:sectPr>");
        match self.doc.page_numbers {
            PageNumbers::OddRightEvenLeft => s.push_str(&format!(
                r#"<w:footerReference w:type="default" r:id="{FOOTER_ODD_ID}"/><w:footerReference w:type="even" r:id="{FOOTER_EVEN_ID}"/>"#
            )),
            PageNumbers::Centered => s.push_str(&format!(
                r#"<w:footerReference w:type="default" r:id="{FOOTER_ODD_ID}"/>"#
            )),
            PageNumbers::Off => {}
        }
        s.push_str(&format!(
            r#"<w:pgSz w:w="{PAGE_WIDTH}" w:h="{PAGE_HEIGHT}"/><w:pgMar w:top="{MARGIN_TOP}" w:right="{MARGIN_RIGHT}" w:bottom="{MARGIN_BOTTOM}" w:left="{MARGIN_LEFT}" w:header="851" w:footer="{FOOTER_DISTANCE}" w:gutter="0"/><w:pgNumType w:start="1"/><w:cols w:space="425"/><w:docGrid w:type="lines" w:linePitch="{LINE_PITCH}"/></w:sectPr>"#
        ));
    }
}

/// One table cell of width `w` twips holding a paragraph of `text`.
fn cell(s: &mut String, w: u32, ppr: &PPr, rpr: &RPr, text: &str) {
    s.push_str(&format!(
        r#"<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>"#
    ));
    simple(s, ppr, rpr, text);
    s.push_str("</w:tc>");
}

/// Column widths in twips: the text width shared by the relative widths,
/// the last column taking the rounding remainder.
fn column_widths(table: &Table) -> Vec<u32> {
    let weights: Vec<u64> = table
        .columns
        .iter()
        .map(|c| u64::from(c.width.max(1)))
        .collect();
    let total: u64 = weights.iter().sum();
    let mut widths: Vec<u32> = weights
        .iter()
        .map(|w| u32::try_from(u64::from(TEXT_WIDTH) * w / total).unwrap_or(TEXT_WIDTH))
        .collect();
    let used: u32 = widths.iter().sum();
    if let Some(last) = widths.last_mut() {
        *last += TEXT_WIDTH.saturating_sub(used);
    }
    widths
}

/// A right-aligned signature paragraph `right` characters from the edge.
fn right_aligned(right: f64, before: Option<u32>) -> PPr {
    PPr {
        before,
        ind: Some(Ind {
            right,
            ..Ind::default()
        }),
        ..PPr::style(style::SIGN)
    }
}

/// `text` ending in a full-width colon.
fn with_colon(text: &str) -> String {
    let trimmed = text.trim_end();
    if trimmed.ends_with('：') || trimmed.ends_with(':') {
        trimmed.to_owned()
    } else {
        format!("{trimmed}{COLON}")
    }
}

/// Size (half points) and horizontal scale (percent) of the issuer mark:
/// 小初 (36 pt) if the longest line fits the text width, else 一号 (26 pt),
/// squeezed horizontally down to 50 % if needed.
fn mark_size(issuer: &str) -> (u32, Option<u32>) {
    let width = issuer.lines().map(cells).fold(0.0, f64::max);
    let available_pt = f64::from(TEXT_WIDTH) / 20.0;
    if width * 36.0 <= available_pt {
        return (72, None);
    }
    if width * 26.0 <= available_pt {
        return (52, None);
    }
    let percent = (available_pt / (width * 26.0) * 100.0).floor().max(50.0);
    // 50..=99 percent: the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let percent = percent as u32;
    (52, Some(percent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docx::Column;

    #[test]
    fn mark_sizes() {
        assert_eq!(mark_size("南翔镇人民政府文件"), (72, None));
        assert_eq!(mark_size("南翔镇安全生产委员会办公室文件"), (52, None));
        // 22 characters at 26 pt need 572 pt; 442 pt are available.
        assert_eq!(
            mark_size("南翔镇安全生产专项整治三年行动领导小组办公室"),
            (52, Some(77))
        );
    }

    #[test]
    fn column_widths_fill_the_text_width() {
        let t = Table {
            columns: vec![
                Column::new("序号", 1),
                Column::new("隐患内容", 5),
                Column::new("期限", 0),
            ],
            rows: vec![],
            size: TableTextSize::Standard,
        };
        let w = column_widths(&t);
        assert_eq!(w.iter().sum::<u32>(), TEXT_WIDTH);
        assert_eq!(w, vec![1263, 6317, 1265]);
    }

    #[test]
    fn colons() {
        assert_eq!(with_colon("各有关单位"), "各有关单位：");
        assert_eq!(with_colon("各有关单位："), "各有关单位：");
    }
}
