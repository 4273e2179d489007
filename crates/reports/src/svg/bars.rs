//! Horizontal bars: one row a label, a bar and its value.

use super::{
    FONT, INK, LegendItem, N, PAD, Swatch, TINT, Tone, WIDTH, close, close_link, escape, fraction, group_thousands,
    legend, len, no_data, open, open_link, open_pointer_link, text_width, title_el, truncate,
};
use std::fmt::Write as _;

/// A labelled horizontal bar chart; bars are drawn in the order given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BarChart {
    /// Prefix of the chart's ids; unique on the page.
    pub id: String,
    /// The chart's accessible name, e.g. `各村居隐患整改情况`.
    pub title: String,
    /// The data in words, for screen readers and search.
    pub desc: String,
    pub bars: Vec<Bar>,
    /// Legend names of the bars' values and of their parts (e.g. `隐患总数`
    /// and `已销号`). The legend is drawn when some bar has a part.
    pub value_name: String,
    pub part_name: String,
    /// Shown instead of bars when there are none or all are 0.
    pub no_data: String,
}

impl BarChart {
    pub fn new(id: impl Into<String>, title: impl Into<String>, desc: impl Into<String>) -> Self {
        Self { id: id.into(), title: title.into(), desc: desc.into(), ..Self::default() }
    }
}

/// One bar: its label, value, link and colour, and optionally a part of the
/// value drawn over it (closed of total). With a part, the value's bar is a
/// light tint of its tone with an outline and the part is solid; the text
/// at the end reads `part / value`, each number its own link.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub value: u64,
    /// The list behind the value; the label and the bar link there too.
    pub href: Option<String>,
    pub tone: Tone,
    pub part: Option<Part>,
}

/// The part of a [`Bar`]'s value drawn over it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Part {
    pub value: u64,
    pub href: Option<String>,
    pub tone: Tone,
}

impl Bar {
    pub fn new(label: impl Into<String>, value: u64) -> Self {
        Self { label: label.into(), value, ..Self::default() }
    }

    pub fn href(mut self, href: impl Into<String>) -> Self {
        self.href = Some(href.into());
        self
    }

    pub fn tone(mut self, tone: Tone) -> Self {
        self.tone = tone;
        self
    }

    pub fn part(mut self, value: u64, tone: Tone, href: Option<String>) -> Self {
        self.part = Some(Part { value, href, tone });
        self
    }
}

const ROW: f64 = 28.0;
const BAR: f64 = 16.0;
/// Space between the label column and the bars, and between a bar and its
/// value.
const GAP: f64 = 6.0;

/// The chart as an `<svg>` element (see the [module](super) for what every
/// chart shares).
pub fn bar_chart(chart: &BarChart) -> String {
    let mut out = String::new();
    let max = chart.bars.iter().map(|b| b.value.max(b.part.as_ref().map_or(0, |p| p.value))).max().unwrap_or(0);
    if max == 0 {
        let height = ROW * 2.0;
        open(&mut out, &chart.id, "bars", WIDTH, height, &chart.title, &chart.desc);
        no_data(&mut out, WIDTH, height, &chart.no_data);
        close(&mut out);
        return out;
    }

    let legend_items: Vec<LegendItem<'_>> = match chart.bars.iter().find(|b| b.part.is_some()) {
        Some(Bar { tone, part: Some(part), .. }) => {
            [(Swatch::Tint(*tone), chart.value_name.as_str()), (Swatch::Solid(part.tone), chart.part_name.as_str())]
                .into_iter()
                .filter(|(_, name)| !name.is_empty())
                .map(|(swatch, name)| LegendItem { swatch, name, value: None, share: None, href: None })
                .collect()
        }
        _ => Vec::new(),
    };
    // The legend's height is known once it is laid out; lay it out first
    // into its own buffer.
    let mut legend_out = String::new();
    let legend_h = legend(&mut legend_out, &legend_items, 0.0);
    let top = if legend_h > 0.0 { legend_h + 4.0 } else { 2.0 };

    let values: Vec<String> = chart.bars.iter().map(value_text).collect();
    let value_w = values.iter().map(|v| text_width(v, FONT)).fold(0.0, f64::max);
    let label_w_wanted = chart.bars.iter().map(|b| text_width(&b.label, FONT)).fold(0.0, f64::max);
    // Labels get at most 36 % of the width, and leave bars at least 30 %.
    let label_room = (WIDTH * 0.36).min(WIDTH - 2.0 * PAD - value_w - 2.0 * GAP - WIDTH * 0.3).max(FONT * 3.0);
    let label_w = label_w_wanted.min(label_room);
    let x0 = PAD + label_w + GAP;
    let bar_max = (WIDTH - PAD - value_w - GAP - x0).max(0.0);
    let height = top + ROW * chart.bars.len() as f64 + 2.0;

    open(&mut out, &chart.id, "bars", WIDTH, height, &chart.title, &chart.desc);
    out.push_str(&legend_out);
    let max = u128::from(max);
    for (i, (bar, value)) in chart.bars.iter().zip(&values).enumerate() {
        let y = top + ROW * i as f64;
        let mid = y + ROW / 2.0;
        let baseline = mid + FONT * 0.35;
        let (label, _) = truncate(&bar.label, label_w, FONT);
        let bar_len = bar_max * fraction(u128::from(bar.value), max);

        out.push_str("\n<g class=\"bh-row\">");
        title_el(&mut out, &hover_text(chart, bar));
        let linked = open_link(&mut out, bar.href.as_deref());
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            N(PAD + label_w),
            N(baseline),
            escape(&label)
        );
        let color = bar.tone.color();
        match &bar.part {
            Some(_) => {
                let _ = write!(
                    out,
                    "<rect class=\"bh-bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\" fill=\"{color}\" fill-opacity=\"{TINT}\" stroke=\"{color}\"/>",
                    N(x0 + 0.5),
                    N(mid - BAR / 2.0 + 0.5),
                    len(bar_len - 1.0),
                    len(BAR - 1.0),
                );
            }
            None => {
                let _ = write!(
                    out,
                    "<rect class=\"bh-bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{BAR}\" rx=\"2\" fill=\"{color}\"/>",
                    N(x0),
                    N(mid - BAR / 2.0),
                    len(bar_len),
                );
            }
        }
        let value_x = x0 + bar_len + GAP;
        match &bar.part {
            None => {
                let _ = write!(
                    out,
                    "<text class=\"bh-value\" x=\"{}\" y=\"{}\" font-weight=\"600\">{}</text>",
                    N(value_x),
                    N(baseline),
                    escape(value)
                );
                close_link(&mut out, linked);
            }
            Some(part) => {
                close_link(&mut out, linked);
                let part_len = bar_max * fraction(u128::from(part.value), max);
                // The part's number at the bar's end links to the same list.
                let part_linked = open_pointer_link(&mut out, part.href.as_deref());
                let _ = write!(
                    out,
                    "<rect class=\"bh-part\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{BAR}\" rx=\"2\" fill=\"{}\"/>",
                    N(x0),
                    N(mid - BAR / 2.0),
                    len(part_len),
                    part.tone.color()
                );
                close_link(&mut out, part_linked);
                let value_x = x0 + bar_len.max(part_len) + GAP;
                let _ = write!(out, "<text class=\"bh-value\" x=\"{}\" y=\"{}\">", N(value_x), N(baseline));
                let part_linked = open_link(&mut out, part.href.as_deref());
                let _ = write!(
                    out,
                    "<tspan font-weight=\"600\" fill=\"{}\">{}</tspan>",
                    part.tone.color(),
                    group_thousands(part.value.into())
                );
                close_link(&mut out, part_linked);
                out.push_str(" / ");
                let linked = open_link(&mut out, bar.href.as_deref());
                let _ = write!(
                    out,
                    "<tspan font-weight=\"600\" fill=\"{INK}\">{}</tspan>",
                    group_thousands(bar.value.into())
                );
                close_link(&mut out, linked);
                out.push_str("</text>");
            }
        }
        out.push_str("</g>");
    }
    close(&mut out);
    out
}

/// The text at a bar's end: `value`, or `part / value`.
fn value_text(bar: &Bar) -> String {
    match &bar.part {
        Some(part) => format!("{} / {}", group_thousands(part.value.into()), group_thousands(bar.value.into())),
        None => group_thousands(bar.value.into()),
    }
}

/// A row's hover title: the full label, then the value and the part, each
/// after its name when the chart names them.
fn hover_text(chart: &BarChart, bar: &Bar) -> String {
    let named = |name: &str, value: u64| {
        let value = group_thousands(value.into());
        if name.is_empty() { value } else { format!("{name} {value}") }
    };
    let mut text = format!("{} · {}", bar.label, named(&chart.value_name, bar.value));
    if let Some(part) = &bar.part {
        text.push_str(" · ");
        text.push_str(&named(&chart.part_name, part.value));
    }
    text
}
