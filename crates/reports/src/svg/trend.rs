//! A monthly trend: series of counts as columns or lines over months.

use super::{
    GRID, LegendItem, MUTED_INK, N, PAD, SMALL, Swatch, Tone, WIDTH, close, close_link, fraction, group_thousands,
    legend, len, nice_ticks, no_data, open, open_link, text_width, title_el,
};
use std::fmt::Write as _;
use time::Date;

/// Counts per month, e.g. hazards found (发现), closed (销号) and overdue
/// (逾期) over the last 12–36 months.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendChart {
    /// Prefix of the chart's ids; unique on the page.
    pub id: String,
    pub title: String,
    pub desc: String,
    /// The first month (the day is ignored). Series' points are the months
    /// from it on; the axis is as long as the longest series.
    pub start: Date,
    pub series: Vec<Series>,
    /// Shown instead of the plot when there are no points or all are 0.
    pub no_data: String,
}

impl TrendChart {
    pub fn new(id: impl Into<String>, title: impl Into<String>, desc: impl Into<String>, start: Date) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            desc: desc.into(),
            start,
            series: Vec::new(),
            no_data: String::new(),
        }
    }
}

/// One series: its legend name, colour and mark, and a point per month.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Series {
    pub name: String,
    pub tone: Tone,
    pub mark: Mark,
    pub points: Vec<Point>,
}

impl Series {
    /// A series of plain values, no links.
    pub fn new(name: impl Into<String>, tone: Tone, mark: Mark, values: impl IntoIterator<Item = u64>) -> Self {
        let points = values.into_iter().map(|value| Point { value, href: None }).collect();
        Self { name: name.into(), tone, mark, points }
    }
}

/// How a series is drawn. Column series stand side by side in each month;
/// lines are drawn over them. Beyond about 24 months columns get thin:
/// lines read better there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mark {
    #[default]
    Columns,
    Line,
}

/// One month's count and the list behind it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Point {
    pub value: u64,
    pub href: Option<String>,
}

const PLOT_HEIGHT: f64 = 150.0;
/// Space between labels on the month axis.
const LABEL_GAP: f64 = 8.0;

/// The chart as an `<svg>` element (see the [module](super) for what every
/// chart shares).
pub fn trend_chart(chart: &TrendChart) -> String {
    let mut out = String::new();
    let months = chart.series.iter().map(|s| s.points.len()).max().unwrap_or(0);
    let max = chart.series.iter().flat_map(|s| &s.points).map(|p| p.value).max().unwrap_or(0);
    if months == 0 || max == 0 {
        let height = 80.0;
        open(&mut out, &chart.id, "trend", WIDTH, height, &chart.title, &chart.desc);
        no_data(&mut out, WIDTH, height, &chart.no_data);
        close(&mut out);
        return out;
    }

    let legend_items: Vec<LegendItem<'_>> = chart
        .series
        .iter()
        .filter(|s| !s.name.is_empty())
        .map(|s| LegendItem {
            swatch: match s.mark {
                Mark::Columns => Swatch::Solid(s.tone),
                Mark::Line => Swatch::Line(s.tone),
            },
            name: &s.name,
            value: None,
            share: None,
            href: None,
        })
        .collect();
    let mut legend_out = String::new();
    let legend_h = legend(&mut legend_out, &legend_items, 0.0);

    let ticks = nice_ticks(max);
    let top_tick = ticks.last().copied().unwrap_or(1);
    let tick_labels: Vec<String> = ticks.iter().map(|t| group_thousands(*t)).collect();
    let axis_w = tick_labels.iter().map(|t| text_width(t, SMALL)).fold(0.0, f64::max);
    let x0 = PAD + axis_w + 6.0;
    let x1 = WIDTH - PAD;
    let band = (x1 - x0) / months as f64;
    let plot_top = legend_h + 12.0;
    let plot_bottom = plot_top + PLOT_HEIGHT;
    let height = plot_bottom + 38.0;
    let y_of = |v: u128| plot_bottom - PLOT_HEIGHT * fraction(v, top_tick);

    open(&mut out, &chart.id, "trend", WIDTH, height, &chart.title, &chart.desc);
    out.push_str(&legend_out);

    // Value axis: grid lines and tick labels.
    out.push_str("\n<g class=\"bh-y-axis\">");
    for (tick, label) in ticks.iter().zip(&tick_labels) {
        let y = y_of(*tick);
        if *tick > 0 {
            let _ = write!(
                out,
                "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{GRID}\"/>",
                N(x0),
                N(x1),
                y = N(y)
            );
        }
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"{SMALL}\" fill=\"{MUTED_INK}\">{label}</text>",
            N(x0 - 6.0),
            N(y + SMALL * 0.35)
        );
    }
    out.push_str("</g>");

    month_axis(&mut out, chart.start, months, x0, band, plot_bottom);

    // Columns, side by side in each month.
    let columns: Vec<&Series> = chart.series.iter().filter(|s| s.mark == Mark::Columns).collect();
    if !columns.is_empty() {
        let group = band * if columns.len() == 1 { 0.6 } else { 0.8 };
        let width = group / columns.len() as f64;
        let gap = if width > 6.0 { 1.0 } else { 0.0 };
        for (j, series) in columns.iter().enumerate() {
            let _ = write!(out, "\n<g class=\"bh-series bh-columns\" fill=\"{}\">", series.tone.color());
            for (i, point) in series.points.iter().enumerate() {
                if point.value == 0 {
                    continue;
                }
                let x = x0 + band * i as f64 + (band - group) / 2.0 + width * j as f64;
                let y = y_of(point.value.into());
                let linked = open_link(&mut out, point.href.as_deref());
                let _ = write!(
                    out,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\">",
                    N(x),
                    N(y),
                    len(width - gap),
                    len(plot_bottom - y)
                );
                title_el(&mut out, &point_title(chart.start, i, series, point.value));
                out.push_str("</rect>");
                close_link(&mut out, linked);
            }
            out.push_str("</g>");
        }
    }

    // The zero line over the columns' feet, under the lines.
    let _ = write!(
        out,
        "\n<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{MUTED_INK}\"/>",
        N(x0),
        N(x1),
        y = N(plot_bottom)
    );

    // Lines over the columns, a dot (and a larger invisible target for the
    // pointer) on each month.
    let dot = (band * 0.22).clamp(1.5, 3.0);
    let target = (band / 2.0).clamp(dot, 9.0);
    for series in chart.series.iter().filter(|s| s.mark == Mark::Line) {
        let color = series.tone.color();
        let _ = write!(out, "\n<g class=\"bh-series bh-line\" fill=\"{color}\">");
        let points: Vec<String> = series
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{},{}", N(x0 + band * (i as f64 + 0.5)), N(y_of(p.value.into()))))
            .collect();
        let _ = write!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-linejoin=\"round\"/>",
            points.join(" ")
        );
        for (i, point) in series.points.iter().enumerate() {
            let cx = N(x0 + band * (i as f64 + 0.5));
            let cy = N(y_of(point.value.into()));
            let linked = open_link(&mut out, point.href.as_deref());
            out.push_str("<g>");
            title_el(&mut out, &point_title(chart.start, i, series, point.value));
            let _ = write!(out, "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{}\" fill-opacity=\"0\"/>", N(target));
            let _ = write!(out, "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{}\" stroke=\"#fff\"/>", N(dot));
            out.push_str("</g>");
            close_link(&mut out, linked);
        }
        out.push_str("</g>");
    }

    close(&mut out);
    out
}

/// Year and month of the `i`-th month from `start`, as (year, 1–12).
fn month_at(start: Date, i: usize) -> (i64, i64) {
    let first = i64::from(start.year()) * 12 + i64::from(u8::from(start.month())) - 1;
    let index = first.saturating_add(i64::try_from(i).unwrap_or(i64::MAX));
    (index.div_euclid(12), index.rem_euclid(12) + 1)
}

/// `2024-03`.
fn month_text(start: Date, i: usize) -> String {
    let (year, month) = month_at(start, i);
    format!("{year}-{month:02}")
}

fn point_title(start: Date, i: usize, series: &Series, value: u64) -> String {
    let value = group_thousands(value.into());
    if series.name.is_empty() {
        format!("{} · {value}", month_text(start, i))
    } else {
        format!("{} · {} · {value}", month_text(start, i), series.name)
    }
}

/// Every how many months a label fits: months (`1`–`12`) at 1, 2, 3 or 6
/// months, then only the years at 12, 24, 60 … months.
pub(super) fn label_step(band: f64) -> usize {
    let month_w = text_width("12", SMALL) + LABEL_GAP;
    let year_w = text_width("2024", SMALL) + LABEL_GAP;
    let mut step = 1usize;
    for s in [1usize, 2, 3, 6, 12, 24, 60, 120, 240, 600, 1200] {
        step = s;
        let needed = if s >= 12 { year_w } else { month_w };
        if band * s as f64 >= needed {
            break;
        }
    }
    step
}

/// The month axis: month numbers on the first row, thinned to those that
/// fit; the year under each January shown and under the first label when
/// the next January is far enough; a short rule between years.
fn month_axis(out: &mut String, start: Date, months: usize, x0: f64, band: f64, plot_bottom: f64) {
    let step = label_step(band);
    let year_w = text_width("2024", SMALL) + LABEL_GAP;
    let row1 = plot_bottom + 16.0;
    let row2 = plot_bottom + 32.0;
    let _ = write!(out, "\n<g class=\"bh-x-axis\" font-size=\"{SMALL}\">");
    let labelled: Vec<usize> = (0..months)
        .filter(|i| {
            let (year, month) = month_at(start, *i);
            let index = year * 12 + month - 1;
            index.rem_euclid(i64::try_from(step).unwrap_or(12)) == 0
        })
        .collect();
    for (k, i) in labelled.iter().enumerate() {
        let (year, month) = month_at(start, *i);
        let x = N(x0 + band * (*i as f64 + 0.5));
        if step < 12 {
            let _ = write!(
                out,
                "<text class=\"bh-month\" x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"{MUTED_INK}\">{month}</text>",
                N(row1)
            );
        }
        let next_january = labelled.iter().skip(k + 1).find(|j| month_at(start, **j).1 == 1);
        let room = next_january.is_none_or(|j| band * (j - i) as f64 >= year_w);
        if month == 1 || (k == 0 && room) {
            let y = if step < 12 { row2 } else { row1 };
            let _ = write!(
                out,
                "<text class=\"bh-year\" x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"{MUTED_INK}\">{year}</text>",
                N(y)
            );
        }
    }
    // A rule where a year begins.
    for i in 1..months {
        if month_at(start, i).1 == 1 {
            let x = N(x0 + band * i as f64);
            let _ = write!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{GRID}\"/>",
                N(plot_bottom),
                N(row2 + 4.0)
            );
        }
    }
    out.push_str("</g>");
}
