//! A rate as a ring, the figure in the middle and a caption under it.

use super::{MUTED_INK, N, TRACK, Tone, close, close_link, escape, len, open, open_link, text_width, title_el, wrap};
use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt::Write as _;

/// A rate such as 整改率 93.4%.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gauge {
    /// Prefix of the chart's ids; unique on the page.
    pub id: String,
    pub title: String,
    pub desc: String,
    /// The rate in percent, as the service computes it (`93.4`); `None`
    /// when there is nothing to rate, shown as `—`. Drawn as given, the
    /// ring clamped to 0–100 %.
    pub rate: Option<Decimal>,
    /// Under the ring, in up to two lines, e.g. `整改率`.
    pub caption: String,
    /// The list behind the rate.
    pub href: Option<String>,
    /// Colour of the ring and the figure (the caller judges the rate).
    pub tone: Tone,
}

impl Gauge {
    pub fn new(id: impl Into<String>, title: impl Into<String>, desc: impl Into<String>) -> Self {
        Self { id: id.into(), title: title.into(), desc: desc.into(), ..Self::default() }
    }
}

/// Width of the gauge's `viewBox`: a gauge is meant to stand two to four in
/// a row where a bar chart stands alone.
/// Its text is as large as a bar chart's at half the width: a 160 px gauge
/// has 16 px captions.
pub const GAUGE_WIDTH: f64 = 160.0;
const CX: f64 = 80.0;
const CY: f64 = 62.0;
const RADIUS: f64 = 52.0;
const STROKE: f64 = 14.0;
const FIGURE: f64 = 28.0;
const CAPTION: f64 = 16.0;
const CAPTION_LINE: f64 = 20.0;

/// The gauge as an `<svg>` element (see the [module](super) for what every
/// chart shares).
pub fn ring_gauge(gauge: &Gauge) -> String {
    let (caption, caption_cut) = wrap(&gauge.caption, GAUGE_WIDTH - 8.0, CAPTION, 2);
    let caption_top = CY + RADIUS + STROKE / 2.0 + 20.0;
    let height = caption_top + CAPTION_LINE * (caption.len().max(1) - 1) as f64 + 8.0;
    let mut out = String::new();
    open(&mut out, &gauge.id, "gauge", GAUGE_WIDTH, height, &gauge.title, &gauge.desc);

    let color = gauge.tone.color();
    let circumference = 2.0 * std::f64::consts::PI * RADIUS;
    // Rounded half away from zero (四舍五入), as rates are published.
    let figure =
        gauge.rate.map(|r| format!("{:.1}", r.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)));
    out.push_str("\n<g class=\"bh-ring\">");
    if let Some(figure) = &figure {
        title_el(&mut out, &format!("{} · {figure}%", gauge.caption));
    }
    let linked = open_link(&mut out, gauge.href.as_deref());
    let _ = write!(
        out,
        "<circle cx=\"{CX}\" cy=\"{CY}\" r=\"{RADIUS}\" fill=\"#fff\" fill-opacity=\"0\" stroke=\"{TRACK}\" stroke-width=\"{STROKE}\"/>"
    );
    if let Some(rate) = gauge.rate {
        let share = f64::try_from(rate).unwrap_or(0.0) / 100.0;
        let share = if share.is_finite() { share.clamp(0.0, 1.0) } else { 0.0 };
        let _ = write!(
            out,
            "<circle class=\"bh-arc\" cx=\"{CX}\" cy=\"{CY}\" r=\"{RADIUS}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{STROKE}\" stroke-dasharray=\"{} {}\" transform=\"rotate(-90 {CX} {CY})\"/>",
            len(circumference * share),
            len(circumference),
        );
    }
    match &figure {
        Some(figure) => {
            // Shrink the figure if it would not fit inside the ring.
            let room = 2.0 * (RADIUS - STROKE / 2.0) - 10.0;
            let wanted = text_width(figure, FIGURE) + text_width("%", FIGURE * 0.6);
            let size = if wanted > room { FIGURE * room / wanted } else { FIGURE };
            let _ = write!(
                out,
                "<text class=\"bh-figure\" x=\"{CX}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" font-weight=\"700\" fill=\"{color}\">{}<tspan font-size=\"{}\">%</tspan></text>",
                N(CY + size * 0.35),
                N(size),
                escape(figure),
                N(size * 0.6)
            );
        }
        None => {
            let _ = write!(
                out,
                "<text class=\"bh-figure\" x=\"{CX}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{FIGURE}\" font-weight=\"700\" fill=\"{MUTED_INK}\">—</text>",
                N(CY + FIGURE * 0.35)
            );
        }
    }
    close_link(&mut out, linked);
    out.push_str("</g>");

    let _ = write!(out, "\n<text class=\"bh-caption\" text-anchor=\"middle\" font-size=\"{CAPTION}\">");
    if caption_cut {
        title_el(&mut out, &gauge.caption);
    }
    for (i, line) in caption.iter().enumerate() {
        let _ = write!(
            out,
            "<tspan x=\"{CX}\" y=\"{}\">{}</tspan>",
            N(caption_top + CAPTION_LINE * i as f64),
            escape(line)
        );
    }
    out.push_str("</text>");
    close(&mut out);
    out
}
