//! Charts for the leaders' cockpit (领导驾驶舱), drawn on the server as
//! inline SVG: no JavaScript, no web fonts, no style sheet.
//!
//! Each chart is a plain struct the caller fills in and a function that
//! returns the `<svg>` element as a string, ready to be put into an HTML page:
//!
//! - [`bar_chart`]: labelled horizontal bars, each optionally with a part of
//!   its value drawn over it (total and closed);
//! - [`trend_chart`]: a monthly trend of two or three series, as columns or
//!   lines, over 12–36 months;
//! - [`ring_gauge`]: a rate as a ring with the figure in the middle;
//! - [`distribution_strip`]: a distribution as one proportional strip with a
//!   legend.
//!
//! # What every chart shares
//!
//! - It scales with its container: a `viewBox`, `width="100%"` and no height,
//!   so the browser keeps the aspect ratio. Every chart but the gauge is
//!   [`WIDTH`] units wide and its text is 13–15 units high: 11–12.5 px on a
//!   phone's ~340 px. On a big screen the text grows with the chart; the
//!   page's style sheet may cap the width (`.bh-chart { max-width: 40rem }`).
//! - Only presentation attributes, never `style` attributes or `<style>`
//!   elements, so a `style-src 'self'` content security policy does not strip
//!   the look. Classes (`bh-chart`, `bh-row`, …) are hooks for the page's own
//!   style sheet (hover, focus).
//! - `role="img"` and `aria-labelledby` naming the chart's `<title>` and
//!   `<desc>`, whose text the caller gives: this module has no words of its
//!   own in any language. A screen reader reads that name and description,
//!   not the marks: the links stay reachable by keyboard and pointer, and a
//!   page that must offer them to screen readers too lists them in text
//!   (the table behind the chart). Numbers are written with thousands separators
//!   (`12,345`), months as `2024-03`, rates as `93.4%`, and hover titles join
//!   the caller's names with ` · `.
//! - Ids are the caller's prefix (made safe: letters, digits, `-` and `_`,
//!   anything else becomes `-`) and a suffix, so two charts on one page need
//!   two prefixes.
//! - Every number may link to the list behind it (`href`); links are relative
//!   or http(s) only, others are dropped.
//! - Labels too wide for their place are cut with `…`, the full text in a
//!   `<title>`. Widths are estimated: CJK and full-width characters 1 em,
//!   everything else 0.55 em.
//! - Empty data, all zeros and the largest `u64` give a valid chart: the
//!   caller's `no_data` text instead of an empty plot, and never NaN,
//!   infinity or a negative size.

mod bars;
mod gauge;
mod strip;
mod trend;

pub use bars::{Bar, BarChart, Part, bar_chart};
pub use gauge::{GAUGE_WIDTH, Gauge, ring_gauge};
pub use strip::{Distribution, Segment, distribution_strip};
pub use trend::{Mark, Point, Series, TrendChart, trend_chart};

use crate::docx::xml::escape;
use std::fmt::{self, Write as _};

/// Width of the `viewBox` of the bar, trend and distribution charts.
pub const WIDTH: f64 = 400.0;

/// Label and value text size, in `viewBox` units.
const FONT: f64 = 15.0;
/// Axis, legend and in-bar text size.
const SMALL: f64 = 13.0;
/// Horizontal padding inside the `viewBox`.
const PAD: f64 = 4.0;

/// Text colour: 14.5:1 on white, 13.5:1 on the page background `#f5f7f9`.
pub const INK: &str = "#1d2733";
/// Secondary text (axes, shares): 5.9:1 on white, 5.5:1 on `#f5f7f9`.
pub const MUTED_INK: &str = "#5b6673";
/// Grid lines and the gauge's track: decoration, not information.
const GRID: &str = "#d9dee4";
const TRACK: &str = "#e6e9ed";

/// The colour of a bar, a series or a segment. Every tone is dark enough for
/// white text on it and for text in its colour on white (WCAG AA, ≥ 4.5:1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Tone {
    /// Blue `#0b57a4`: counts without a judgement (found, total).
    #[default]
    Neutral,
    /// Green `#1e6b35`: done (closed, accepted).
    Good,
    /// Amber `#8a5a00`: needs attention (due soon, awaiting acceptance).
    Warning,
    /// Brand red `#b3261e`: bad (overdue, major).
    Bad,
    /// Grey `#5b6673`: not yet started, other.
    Muted,
    /// Purple `#6a3d9a`: one more category when the others are taken.
    Accent,
}

impl Tone {
    /// Every tone, in declaration order.
    pub const ALL: [Tone; 6] = [Tone::Neutral, Tone::Good, Tone::Warning, Tone::Bad, Tone::Muted, Tone::Accent];

    /// The tone's colour as `#rrggbb`.
    pub fn color(self) -> &'static str {
        match self {
            Tone::Neutral => "#0b57a4",
            Tone::Good => "#1e6b35",
            Tone::Warning => "#8a5a00",
            Tone::Bad => "#b3261e",
            Tone::Muted => "#5b6673",
            Tone::Accent => "#6a3d9a",
        }
    }
}

/// WCAG 2 contrast ratio of two `#rrggbb` colours (1 to 21); `None` for
/// anything else.
pub fn contrast_ratio(a: &str, b: &str) -> Option<f64> {
    let (la, lb) = (relative_luminance(a)?, relative_luminance(b)?);
    let (hi, lo) = if la >= lb { (la, lb) } else { (lb, la) };
    Some((hi + 0.05) / (lo + 0.05))
}

fn relative_luminance(color: &str) -> Option<f64> {
    let hex = color.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let value = u32::from_str_radix(hex, 16).ok()?;
    let channel = |shift: u32| {
        let c = f64::from((value >> shift) & 0xff) / 255.0;
        if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    Some(0.2126 * channel(16) + 0.7152 * channel(8) + 0.0722 * channel(0))
}

/// `n` with a comma between thousands: `12,345`.
pub fn group_thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The ticks of a value axis from 0 to at least `max`: about five steps of
/// 1, 2 or 5 × 10ⁿ (never less than 1, the values being counts).
/// `87` → `0, 20, 40, 60, 80, 100`; `0` → `0, 1`.
pub fn nice_ticks(max: u64) -> Vec<u128> {
    let max = u128::from(max);
    let raw = max.div_ceil(5).max(1);
    let mut magnitude: u128 = 1;
    while magnitude.saturating_mul(10) <= raw {
        magnitude *= 10;
    }
    let step = [1, 2, 5, 10]
        .iter()
        .map(|m| magnitude.saturating_mul(*m))
        .find(|s| *s >= raw)
        .unwrap_or(magnitude.saturating_mul(10));
    let top = max.div_ceil(step).max(1).saturating_mul(step);
    let mut ticks = Vec::new();
    let mut t = 0u128;
    while t <= top {
        ticks.push(t);
        t = t.saturating_add(step);
        if t == u128::MAX {
            break;
        }
    }
    ticks
}

/// A rate in percent with one decimal: `93.4%`.
fn percent_text(per_mille: u128) -> String {
    format!("{}.{}%", group_thousands(per_mille / 10), per_mille % 10)
}

/// `part` of `whole` in tenths of a percent, rounded; 0 when `whole` is 0.
fn per_mille(part: u64, whole: u128) -> u128 {
    if whole == 0 {
        return 0;
    }
    (u128::from(part) * 2000 / whole).div_ceil(2)
}

/// `value / max` as a fraction in `0..=1`; 0 when `max` is 0.
fn fraction(value: u128, max: u128) -> f64 {
    if max == 0 {
        return 0.0;
    }
    let f = value as f64 / max as f64;
    if f.is_finite() { f.clamp(0.0, 1.0) } else { 0.0 }
}

/// A coordinate or length as SVG text: at most two decimals, no trailing
/// zeros, `0` for anything not finite and for negative zero.
struct N(f64);

impl fmt::Display for N {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = if self.0.is_finite() { (self.0 * 100.0).round() / 100.0 } else { 0.0 };
        let text = format!("{v:.2}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        f.write_str(if text == "-0" || text.is_empty() { "0" } else { text })
    }
}

/// A length: as [`N`], never negative.
fn len(v: f64) -> N {
    N(if v.is_finite() { v.max(0.0) } else { 0.0 })
}

/// The estimated width of one character, in em.
fn char_em(c: char) -> f64 {
    let u = u32::from(c);
    let wide = u >= 0x2E80 && !(0xFF61..=0xFFDC).contains(&u) // CJK, full-width forms; not half-width kana
        || (0x2010..=0x206F).contains(&u) // dashes, quotes, … (full-width in CJK fonts)
        || (0x2190..=0x27BF).contains(&u); // arrows, symbols, box drawing
    if wide { 1.0 } else { 0.55 }
}

/// The estimated width of `text` set at `size`.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().map(char_em).sum::<f64>() * size
}

/// `text` cut so that it fits in `max` at `size`, ending with `…` when cut;
/// and whether it was cut.
fn truncate(text: &str, max: f64, size: f64) -> (String, bool) {
    if text_width(text, size) <= max {
        return (text.to_string(), false);
    }
    let room = max - char_em('…') * size;
    let mut out = String::new();
    let mut used = 0.0;
    for c in text.chars() {
        let w = char_em(c) * size;
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
    }
    let kept = out.trim_end().len();
    out.truncate(kept);
    out.push('…');
    (out, true)
}

/// `text` broken into at most `max_lines` lines no wider than `max`, the
/// last one cut with `…` when the text does not fit; and whether it was cut.
///
/// Lines break at spaces, after `，、；。`, before an opening bracket, and
/// else between CJK characters; never before closing punctuation or after an
/// opening bracket (禁则). A break at a space or punctuation is preferred
/// when it leaves the line at least 40 % full.
fn wrap(text: &str, max: f64, size: f64, max_lines: usize) -> (Vec<String>, bool) {
    const OPENING: &str = "（([【「『《“‘";
    const NO_START: &str = "）)]】」』》”’，。、；：！？…%,.;:!?";
    const AFTER: &str = "，、；。,;";
    let mut lines: Vec<String> = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() && lines.len() + 1 < max_lines && text_width(rest, size) > max {
        let mut used = 0.0;
        let mut fits = 0; // bytes of the longest prefix that fits
        let (mut strong, mut weak): (Option<(usize, f64)>, Option<usize>) = (None, None);
        let mut prev: Option<char> = None;
        for (i, c) in rest.char_indices() {
            if let Some(p) = prev {
                let allowed = !NO_START.contains(c) && !OPENING.contains(p);
                if p == ' ' || AFTER.contains(p) || (OPENING.contains(c) && !OPENING.contains(p)) {
                    strong = Some((i, used));
                } else if allowed && (char_em(p) >= 1.0 || char_em(c) >= 1.0) {
                    weak = Some(i);
                }
            }
            used += char_em(c) * size;
            if used > max {
                break;
            }
            fits = i + c.len_utf8();
            prev = Some(c);
        }
        let cut = match (strong, weak) {
            (Some((at, width)), _) if width >= 0.4 * max => at,
            (_, Some(at)) => at,
            (Some((at, _)), None) => at,
            (None, None) => fits.max(rest.chars().next().map_or(0, char::len_utf8)),
        };
        let (line, tail) = rest.split_at(cut);
        lines.push(line.trim_end().to_string());
        rest = tail.trim_start();
    }
    let (last, cut) = truncate(rest, max, size);
    if !last.is_empty() || lines.is_empty() {
        lines.push(last);
    }
    (lines, cut)
}

/// `href` when it is a relative URL or an http(s) one: never `javascript:`
/// or `data:`.
fn safe_href(href: Option<&str>) -> Option<&str> {
    let href = href?.trim();
    if href.is_empty() {
        return None;
    }
    let scheme_end = href.find([':', '/', '?', '#']);
    match scheme_end {
        Some(i) if href.get(i..i + 1) == Some(":") => {
            let scheme = href.get(..i).unwrap_or("").to_ascii_lowercase();
            (scheme == "http" || scheme == "https").then_some(href)
        }
        _ => Some(href),
    }
}

/// The caller's id prefix made safe for `id` and `aria-labelledby`.
fn id_prefix(id: &str) -> String {
    let safe: String = id.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    if safe.is_empty() { "chart".to_string() } else { safe }
}

const FONT_FAMILY: &str =
    "-apple-system, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', 'Source Han Sans SC', sans-serif";

/// The opening of a chart: the `<svg>` element with its title and
/// description. `kind` names the chart in its class (`bh-chart-bars`).
fn open(out: &mut String, id: &str, kind: &str, width: f64, height: f64, title: &str, desc: &str) {
    let id = id_prefix(id);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="{id}-title {id}-desc" class="bh-chart bh-chart-{kind}" font-family="{FONT_FAMILY}" font-size="{FONT}" fill="{INK}">"#,
        w = N(width),
        h = N(height),
    );
    let _ = write!(out, "\n<title id=\"{id}-title\">{}</title>", escape(title));
    let _ = write!(out, "\n<desc id=\"{id}-desc\">{}</desc>", escape(desc));
}

fn close(out: &mut String) {
    out.push_str("\n</svg>\n");
}

/// Opens a link when there is a (safe) `href`; returns whether it did, for
/// [`close_link`].
fn open_link(out: &mut String, href: Option<&str>) -> bool {
    match safe_href(href) {
        Some(h) => {
            let _ = write!(out, "<a href=\"{}\">", escape(h));
            true
        }
        None => false,
    }
}

/// Opens a link for the pointer only, when there is a (safe) `href`: a mark
/// (a bar's part, a strip's segment) whose list a link with words also
/// opens. Kept out of the tab order and from screen readers, it adds no
/// nameless stop, nor one too small to show its focus, for keyboard users.
fn open_pointer_link(out: &mut String, href: Option<&str>) -> bool {
    match safe_href(href) {
        Some(h) => {
            let _ = write!(out, "<a href=\"{}\" tabindex=\"-1\" aria-hidden=\"true\">", escape(h));
            true
        }
        None => false,
    }
}

fn close_link(out: &mut String, opened: bool) {
    if opened {
        out.push_str("</a>");
    }
}

/// A `<title>` child: the hover text and accessible name of its parent.
fn title_el(out: &mut String, text: &str) {
    let _ = write!(out, "<title>{}</title>", escape(text));
}

/// The caller's `no_data` text in the middle of a box `height` high.
fn no_data(out: &mut String, width: f64, height: f64, text: &str) {
    let (shown, cut) = truncate(text, width - 2.0 * PAD, FONT);
    let _ = write!(
        out,
        "\n<text class=\"bh-no-data\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{MUTED_INK}\">",
        N(width / 2.0),
        N(height / 2.0 + FONT * 0.35),
    );
    if cut {
        title_el(out, text);
    }
    let _ = write!(out, "{}</text>", escape(&shown));
}

/// How a legend entry marks its series.
#[derive(Clone, Copy)]
enum Swatch {
    /// A filled square.
    Solid(Tone),
    /// A square in a light tint with an outline (a total under its part).
    Tint(Tone),
    /// A short line with a dot (a line series).
    Line(Tone),
}

/// One legend entry: a swatch, the name, optionally a value (bold) and a
/// share (muted), optionally a link.
struct LegendItem<'a> {
    swatch: Swatch,
    name: &'a str,
    value: Option<String>,
    share: Option<String>,
    href: Option<&'a str>,
}

const LEGEND_ROW: f64 = 22.0;
const SWATCH: f64 = 11.0;

/// Lays the legend out in rows from `top`, wrapping at [`WIDTH`]; returns
/// the height used (0 without items).
fn legend(out: &mut String, items: &[LegendItem<'_>], top: f64) -> f64 {
    if items.is_empty() {
        return 0.0;
    }
    let max_text = WIDTH - 2.0 * PAD - SWATCH - 5.0;
    let gap = 14.0;
    let mut x = PAD;
    let mut row = 0usize;
    out.push_str("\n<g class=\"bh-legend\">");
    for item in items {
        let value = item.value.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
        let share = item.share.as_deref().map(|s| format!(" {s}")).unwrap_or_default();
        let extra = text_width(&value, SMALL) + text_width(&share, SMALL);
        let (name, cut) = truncate(item.name, (max_text - extra).max(SMALL * 2.0), SMALL);
        let width = SWATCH + 5.0 + text_width(&name, SMALL) + extra;
        if x > PAD && x + width > WIDTH - PAD {
            row += 1;
            x = PAD;
        }
        let y = top + row as f64 * LEGEND_ROW;
        let mid = y + LEGEND_ROW / 2.0;
        out.push_str("\n<g class=\"bh-legend-item\">");
        if cut {
            title_el(out, item.name);
        }
        let linked = open_link(out, item.href);
        swatch(out, item.swatch, x, mid);
        let _ =
            write!(out, "<text x=\"{}\" y=\"{}\" font-size=\"{SMALL}\">", N(x + SWATCH + 5.0), N(mid + SMALL * 0.35));
        out.push_str(&escape(&name));
        if !value.is_empty() {
            let _ = write!(out, "<tspan font-weight=\"600\">{}</tspan>", escape(&value));
        }
        if !share.is_empty() {
            let _ = write!(out, "<tspan fill=\"{MUTED_INK}\">{}</tspan>", escape(&share));
        }
        out.push_str("</text>");
        close_link(out, linked);
        out.push_str("</g>");
        x += width + gap;
    }
    out.push_str("\n</g>");
    (row + 1) as f64 * LEGEND_ROW
}

fn swatch(out: &mut String, swatch: Swatch, x: f64, mid: f64) {
    let y = mid - SWATCH / 2.0;
    match swatch {
        Swatch::Solid(tone) => {
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{SWATCH}\" height=\"{SWATCH}\" rx=\"2\" fill=\"{}\"/>",
                N(x),
                N(y),
                tone.color()
            );
        }
        Swatch::Tint(tone) => {
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\" fill=\"{c}\" fill-opacity=\"{TINT}\" stroke=\"{c}\"/>",
                N(x + 0.5),
                N(y + 0.5),
                N(SWATCH - 1.0),
                N(SWATCH - 1.0),
                c = tone.color()
            );
        }
        Swatch::Line(tone) => {
            let _ = write!(
                out,
                "<line x1=\"{}\" y1=\"{m}\" x2=\"{}\" y2=\"{m}\" stroke=\"{c}\" stroke-width=\"2\"/><circle cx=\"{}\" cy=\"{m}\" r=\"2.5\" fill=\"{c}\"/>",
                N(x - 1.0),
                N(x + SWATCH + 1.0),
                N(x + SWATCH / 2.0),
                m = N(mid),
                c = tone.color()
            );
        }
    }
}

/// Opacity of the tint a total is drawn in under its part.
const TINT: &str = "0.22";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice() {
        assert_eq!(nice_ticks(87), [0, 20, 40, 60, 80, 100]);
        assert_eq!(nice_ticks(100), [0, 20, 40, 60, 80, 100]);
        assert_eq!(nice_ticks(101), [0, 50, 100, 150]);
        assert_eq!(nice_ticks(7), [0, 2, 4, 6, 8]);
        assert_eq!(nice_ticks(5), [0, 1, 2, 3, 4, 5]);
        assert_eq!(nice_ticks(1), [0, 1]);
        assert_eq!(nice_ticks(0), [0, 1]);
        assert_eq!(nice_ticks(12), [0, 5, 10, 15]);
        assert_eq!(nice_ticks(4_321), [0, 1_000, 2_000, 3_000, 4_000, 5_000]);
        let huge = nice_ticks(u64::MAX);
        assert_eq!(huge.last(), Some(&20_000_000_000_000_000_000));
        assert!(huge.len() <= 7);
    }

    #[test]
    fn numbers_group_by_thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_000), "1,000");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(u128::from(u64::MAX)), "18,446,744,073,709,551,615");
        assert_eq!(percent_text(per_mille(934, 1000)), "93.4%");
        assert_eq!(percent_text(per_mille(2, 3)), "66.7%");
        assert_eq!(percent_text(per_mille(1, 0)), "0.0%");
        assert_eq!(percent_text(per_mille(u64::MAX, u128::from(u64::MAX))), "100.0%");
    }

    #[test]
    fn coordinates_are_finite_and_short() {
        assert_eq!(N(1.0).to_string(), "1");
        assert_eq!(N(1.234_5).to_string(), "1.23");
        assert_eq!(N(-0.001).to_string(), "0");
        assert_eq!(N(f64::NAN).to_string(), "0");
        assert_eq!(N(f64::INFINITY).to_string(), "0");
        assert_eq!(len(-3.0).to_string(), "0");
        assert_eq!(fraction(5, 0), 0.0);
        assert_eq!(fraction(u128::from(u64::MAX), u128::from(u64::MAX)), 1.0);
    }

    #[test]
    fn widths_and_cuts() {
        assert_eq!(text_width("南翔镇", 10.0), 30.0);
        assert!((text_width("abc", 10.0) - 16.5).abs() < 1e-9);
        let (cut, was_cut) = truncate("南翔镇安全生产监督管理所", 80.0, 10.0);
        assert!(was_cut);
        assert_eq!(cut, "南翔镇安全生产…");
        assert!(text_width(&cut, 10.0) <= 80.0);
        assert_eq!(truncate("南翔镇", 30.0, 10.0), ("南翔镇".to_string(), false));
        let (lines, cut) = wrap("按期整改率 近十二个月 全镇各村居", 60.0, 10.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(cut);
        assert!(lines.iter().all(|l| text_width(l, 10.0) <= 60.0));
        let (lines, cut) = wrap("on-time rate of the last twelve months", 120.0, 10.0, 2);
        assert_eq!(lines, ["on-time rate of the", "last twelve months"]);
        assert!(!cut);
        // Before the bracket rather than inside it; never before 》 or ，.
        let (lines, _) = wrap("按期整改率（近12个月）", 152.0, 16.0, 2);
        assert_eq!(lines, ["按期整改率", "（近12个月）"]);
        let (lines, _) = wrap("落实《安全生产法》情况", 80.0, 10.0, 2);
        assert_eq!(lines, ["落实《安全生产", "法》情况"]);
        let (lines, _) = wrap("一二三四五六七，八九", 70.0, 10.0, 2);
        assert_eq!(lines, ["一二三四五六", "七，八九"]);
    }

    #[test]
    fn only_harmless_links() {
        assert_eq!(safe_href(Some("/hazards?state=open")), Some("/hazards?state=open"));
        assert_eq!(safe_href(Some("https://example.org/x")), Some("https://example.org/x"));
        assert_eq!(safe_href(Some("hazards?a=b:c")), Some("hazards?a=b:c"));
        assert_eq!(safe_href(Some(" JavaScript:alert(1)")), None);
        assert_eq!(safe_href(Some("data:text/html,x")), None);
        assert_eq!(safe_href(Some("")), None);
        assert_eq!(id_prefix("cockpit area 1"), "cockpit-area-1");
        assert_eq!(id_prefix("gauge-整改率\"<"), "gauge-整改率--");
        assert_eq!(id_prefix(""), "chart");
    }

    #[test]
    fn palette_passes_aa() {
        for tone in Tone::ALL {
            for background in ["#ffffff", "#f5f7f9"] {
                let ratio = contrast_ratio(tone.color(), background).unwrap();
                assert!(ratio >= 4.5, "{tone:?} on {background}: {ratio:.2}");
            }
        }
        for ink in [INK, MUTED_INK] {
            assert!(contrast_ratio(ink, "#f5f7f9").unwrap() >= 4.5);
        }
        assert!((contrast_ratio("#000000", "#ffffff").unwrap() - 21.0).abs() < 1e-9);
    }
}
