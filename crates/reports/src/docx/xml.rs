//! Small builders for WordprocessingML fragments.
//!
//! WordprocessingML is picky about the order of child elements inside
//! `w:pPr`, `w:rPr` and friends (Word refuses a file whose order differs from
//! the schema), so paragraph and run properties are collected in structs and
//! written out in schema order by one function each.

use super::layout::CHAR_PITCH;

/// Appends `text` to `out` with the XML special characters escaped and the
/// characters XML 1.0 forbids dropped. Quotes are escaped too, so the result
/// is safe both as element text and as an attribute value.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

/// The escaped form of `text` (see [`escape_into`]).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Characters allowed in an XML 1.0 document. Rust `char`s are never
/// surrogates, so only the C0 controls and U+FFFE/U+FFFF need care.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
        && c != '\u{FFFE}'
        && c != '\u{FFFF}'
}

/// Width of `text` in Chinese character cells: full-width and CJK characters
/// (and the punctuation Chinese fonts draw full-width) count 1, everything
/// else ½. Good enough to place dates and signatures; Word does the real
/// line breaking.
pub(crate) fn cells(text: &str) -> f64 {
    text.chars()
        .map(|c| {
            let u = u32::from(c);
            if u >= 0x2E80 || (0x2010..=0x206F).contains(&u) || (0x2500..=0x27BF).contains(&u) {
                1.0
            } else {
                0.5
            }
        })
        .sum()
}

/// Twips for a distance of `chars` body character cells (3号, 28 per line).
pub(crate) fn chars_twips(chars: f64) -> i64 {
    // Rounded distances of a few hundred twips: the cast cannot overflow.
    #[allow(clippy::cast_possible_truncation)]
    let t = (chars * CHAR_PITCH).round() as i64;
    t
}

/// Hundredths of a character, the unit of Word's `w:*Chars` indents.
fn hundredths(chars: f64) -> i64 {
    // Indents are a few dozen characters at most: the cast cannot overflow.
    #[allow(clippy::cast_possible_truncation)]
    let h = (chars * 100.0).round() as i64;
    h
}

/// Run properties, written in schema order.
#[derive(Debug, Clone, Default)]
pub(crate) struct RPr {
    pub font: Option<String>,
    pub bold: bool,
    pub color: Option<&'static str>,
    /// Horizontal scale in percent (100 = normal).
    pub scale: Option<u32>,
    /// Size in half points.
    pub size: Option<u32>,
    pub underline: bool,
}

impl RPr {
    pub fn font(name: &str) -> Self {
        Self {
            font: Some(name.to_owned()),
            ..Self::default()
        }
    }

    pub fn size(mut self, half_points: u32) -> Self {
        self.size = Some(half_points);
        self
    }

    pub fn xml(&self) -> String {
        let mut s = String::new();
        if let Some(f) = &self.font {
            let f = escape(f);
            s.push_str(&format!(
                r#"<w:rFonts w:ascii="{f}" w:eastAsia="{f}" w:hAnsi="{f}" w:cs="{f}"/>"#
            ));
        }
        if self.bold {
            s.push_str("<w:b/><w:bCs/>");
        }
        if let Some(c) = self.color {
            s.push_str(&format!(r#"<w:color w:val="{c}"/>"#));
        }
        if let Some(w) = self.scale {
            s.push_str(&format!(r#"<w:w w:val="{w}"/>"#));
        }
        if let Some(sz) = self.size {
            s.push_str(&format!(r#"<w:sz w:val="{sz}"/><w:szCs w:val="{sz}"/>"#));
        }
        if self.underline {
            s.push_str(r#"<w:u w:val="single"/>"#);
        }
        s
    }
}

/// Horizontal alignment of a paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Jc {
    Left,
    Center,
    Right,
}

impl Jc {
    fn val(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Center => "center",
            Self::Right => "right",
        }
    }
}

/// Line spacing of a paragraph, in twips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    Exact(u32),
    /// Proportional: 240 = single.
    Auto(u32),
}

/// Paragraph indentation in body character cells (converted to twips and,
/// for Word, also given in hundredths of a character).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ind {
    pub left: f64,
    pub right: f64,
    pub first_line: f64,
    pub hanging: f64,
    /// Write only twips (for text that is not 3号, where Word's character
    /// unit would differ from the body grid).
    pub twips_only: bool,
}

/// Paragraph properties, written in schema order.
#[derive(Debug, Clone, Default)]
pub(crate) struct PPr {
    pub style: Option<&'static str>,
    pub keep_next: bool,
    pub page_break_before: bool,
    /// `(colour, size in eighths of a point, space in points)`.
    pub border_bottom: Option<(&'static str, u32, u32)>,
    /// Tab stops: `(kind, position in twips from the left margin)`.
    pub tabs: Vec<(&'static str, i64)>,
    pub snap_off: bool,
    pub before: Option<u32>,
    pub line: Option<Line>,
    pub ind: Option<Ind>,
    pub jc: Option<Jc>,
}

impl PPr {
    pub fn style(style: &'static str) -> Self {
        Self {
            style: Some(style),
            ..Self::default()
        }
    }

    pub fn xml(&self) -> String {
        let mut s = String::new();
        if let Some(st) = self.style {
            s.push_str(&format!(r#"<w:pStyle w:val="{st}"/>"#));
        }
        if self.keep_next {
            s.push_str("<w:keepNext/>");
        }
        if self.page_break_before {
            s.push_str("<w:pageBreakBefore/>");
        }
        if let Some((color, sz, space)) = self.border_bottom {
            s.push_str(&format!(
                r#"<w:pBdr><w:bottom w:val="single" w:sz="{sz}" w:space="{space}" w:color="{color}"/></w:pBdr>"#
            ));
        }
        if !self.tabs.is_empty() {
            s.push_str("<w:tabs>");
            for (kind, pos) in &self.tabs {
                s.push_str(&format!(r#"<w:tab w:val="{kind}" w:pos="{pos}"/>"#));
            }
            s.push_str("</w:tabs>");
        }
        if self.snap_off {
            s.push_str(r#"<w:snapToGrid w:val="0"/>"#);
        }
        if self.before.is_some() || self.line.is_some() {
            s.push_str("<w:spacing");
            if let Some(b) = self.before {
                s.push_str(&format!(r#" w:before="{b}""#));
            }
            match self.line {
                Some(Line::Exact(l)) => s.push_str(&format!(r#" w:line="{l}" w:lineRule="exact""#)),
                Some(Line::Auto(l)) => s.push_str(&format!(r#" w:line="{l}" w:lineRule="auto""#)),
                None => {}
            }
            s.push_str("/>");
        }
        if let Some(ind) = self.ind {
            s.push_str(&ind_xml(&ind));
        }
        if let Some(jc) = self.jc {
            s.push_str(&format!(r#"<w:jc w:val="{}"/>"#, jc.val()));
        }
        s
    }
}

fn ind_xml(ind: &Ind) -> String {
    let mut s = String::from("<w:ind");
    let mut attr = |name: &str, chars: f64| {
        if chars > 0.0 {
            s.push_str(&format!(r#" w:{name}="{}""#, chars_twips(chars)));
            if !ind.twips_only {
                s.push_str(&format!(r#" w:{name}Chars="{}""#, hundredths(chars)));
            }
        }
    };
    attr("left", ind.left);
    attr("right", ind.right);
    attr("firstLine", ind.first_line);
    attr("hanging", ind.hanging);
    s.push_str("/>");
    s
}

/// Appends one run with the given properties. `\n` (and `\r\n`, `\r`, and
/// the vertical tab spreadsheets use for line breaks) become line breaks,
/// `\t` a tab; other text is escaped.
pub(crate) fn run(out: &mut String, rpr: &RPr, text: &str) {
    out.push_str("<w:r>");
    let props = rpr.xml();
    if !props.is_empty() {
        out.push_str("<w:rPr>");
        out.push_str(&props);
        out.push_str("</w:rPr>");
    }
    let normalized = text
        .replace("\r\n", "\n")
        .replace(['\r', '\u{b}', '\u{c}'], "\n");
    let mut pending = String::new();
    let flush = |out: &mut String, pending: &mut String| {
        if !pending.is_empty() {
            out.push_str(r#"<w:t xml:space="preserve">"#);
            escape_into(out, pending);
            out.push_str("</w:t>");
            pending.clear();
        }
    };
    for c in normalized.chars() {
        match c {
            '\n' => {
                flush(out, &mut pending);
                out.push_str("<w:br/>");
            }
            '\t' => {
                flush(out, &mut pending);
                out.push_str("<w:tab/>");
            }
            c => pending.push(c),
        }
    }
    flush(out, &mut pending);
    out.push_str("</w:r>");
}

/// Appends a paragraph with properties `ppr` and the runs already written in
/// `runs`.
pub(crate) fn paragraph(out: &mut String, ppr: &PPr, runs: &str) {
    out.push_str("<w:p>");
    let props = ppr.xml();
    if !props.is_empty() {
        out.push_str("<w:pPr>");
        out.push_str(&props);
        out.push_str("</w:pPr>");
    }
    out.push_str(runs);
    out.push_str("</w:p>");
}

/// A paragraph of one run.
pub(crate) fn simple(out: &mut String, ppr: &PPr, rpr: &RPr, text: &str) {
    let mut runs = String::new();
    if !text.is_empty() {
        run(&mut runs, rpr, text);
    }
    paragraph(out, ppr, &runs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_controls() {
        assert_eq!(
            escape(r#"a<b & "c" 'd'>"#),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(escape("x\u{1}y\u{FFFF}z"), "xyz");
        assert_eq!(escape("𠮷😀"), "𠮷😀");
    }

    #[test]
    fn measures_cells() {
        assert!((cells("2021年3月5日") - 6.0).abs() < f64::EPSILON);
        assert!((cells("“通知”") - 4.0).abs() < f64::EPSILON);
    }

    #[test]
    fn runs_turn_newlines_and_tabs_into_elements() {
        let mut s = String::new();
        run(&mut s, &RPr::default(), "a\r\nb\u{b}c\td");
        assert_eq!(
            s,
            r#"<w:r><w:t xml:space="preserve">a</w:t><w:br/><w:t xml:space="preserve">b</w:t><w:br/><w:t xml:space="preserve">c</w:t><w:tab/><w:t xml:space="preserve">d</w:t></w:r>"#
        );
    }
}
