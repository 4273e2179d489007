//! A distribution as one proportional strip (a 100 % stacked bar) and its
//! legend with each part's count and share.

use super::{
    LegendItem, N, PAD, SMALL, Swatch, Tone, WIDTH, close, close_link, escape, fraction, group_thousands, legend, len,
    no_data, open, open_pointer_link, per_mille, percent_text, text_width, title_el,
};
use std::fmt::Write as _;

/// How a whole divides, e.g. hazards by state or by level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Distribution {
    /// Prefix of the chart's ids; unique on the page.
    pub id: String,
    pub title: String,
    pub desc: String,
    /// The parts, left to right. Parts of 0 have no place on the strip but
    /// keep theirs in the legend.
    pub segments: Vec<Segment>,
    /// Shown instead of the strip when there are no parts or all are 0.
    pub no_data: String,
}

impl Distribution {
    pub fn new(id: impl Into<String>, title: impl Into<String>, desc: impl Into<String>) -> Self {
        Self { id: id.into(), title: title.into(), desc: desc.into(), ..Self::default() }
    }
}

/// One part of a [`Distribution`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    pub label: String,
    pub value: u64,
    pub href: Option<String>,
    pub tone: Tone,
}

impl Segment {
    pub fn new(label: impl Into<String>, value: u64, tone: Tone) -> Self {
        Self { label: label.into(), value, tone, href: None }
    }

    pub fn href(mut self, href: impl Into<String>) -> Self {
        self.href = Some(href.into());
        self
    }
}

const STRIP_TOP: f64 = 4.0;
const STRIP: f64 = 28.0;

/// The distribution as an `<svg>` element (see the [module](super) for what
/// every chart shares).
pub fn distribution_strip(chart: &Distribution) -> String {
    let mut out = String::new();
    let total: u128 = chart.segments.iter().map(|s| u128::from(s.value)).sum();
    if total == 0 {
        let height = 56.0;
        open(&mut out, &chart.id, "strip", WIDTH, height, &chart.title, &chart.desc);
        no_data(&mut out, WIDTH, height, &chart.no_data);
        close(&mut out);
        return out;
    }

    let shares: Vec<String> = chart.segments.iter().map(|s| percent_text(per_mille(s.value, total))).collect();
    let items: Vec<LegendItem<'_>> = chart
        .segments
        .iter()
        .zip(&shares)
        .map(|(s, share)| LegendItem {
            swatch: Swatch::Solid(s.tone),
            name: &s.label,
            value: Some(group_thousands(s.value.into())),
            share: Some(share.clone()),
            href: s.href.as_deref(),
        })
        .collect();
    let legend_top = STRIP_TOP + STRIP + 8.0;
    let mut legend_out = String::new();
    let legend_h = legend(&mut legend_out, &items, legend_top);
    let height = legend_top + legend_h + 2.0;

    open(&mut out, &chart.id, "strip", WIDTH, height, &chart.title, &chart.desc);
    let strip_w = WIDTH - 2.0 * PAD;
    let mut before: u128 = 0;
    out.push_str("\n<g class=\"bh-strip\">");
    for (segment, share) in chart.segments.iter().zip(&shares) {
        if segment.value == 0 {
            continue;
        }
        // Edges from the running sum, so that the parts end exactly at the
        // strip's end.
        let x = PAD + strip_w * fraction(before, total);
        before += u128::from(segment.value);
        let end = PAD + strip_w * fraction(before, total);
        let value = group_thousands(segment.value.into());
        out.push_str("\n<g class=\"bh-segment\">");
        title_el(&mut out, &format!("{} · {value} · {share}", segment.label));
        // Its legend entry, in words, links to the same list.
        let linked = open_pointer_link(&mut out, segment.href.as_deref());
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{STRIP_TOP}\" width=\"{}\" height=\"{STRIP}\" fill=\"{}\" stroke=\"#fff\"/>",
            N(x),
            len(end - x),
            segment.tone.color()
        );
        if text_width(&value, SMALL) + 8.0 <= end - x {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{SMALL}\" font-weight=\"600\" fill=\"#fff\">{}</text>",
                N((x + end) / 2.0),
                N(STRIP_TOP + STRIP / 2.0 + SMALL * 0.35),
                escape(&value)
            );
        }
        close_link(&mut out, linked);
        out.push_str("</g>");
    }
    out.push_str("\n</g>");
    out.push_str(&legend_out);
    close(&mut out);
    out
}
