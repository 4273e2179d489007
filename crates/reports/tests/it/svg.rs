//! The cockpit's charts: each one parses as XML, names itself, scales its
//! marks with the data, links, escapes, and survives empty, zero and huge
//! data. `samples` writes them to `target/svg-samples/` for a look.

use bihuan_reports::svg::{
    Bar, BarChart, Distribution, Gauge, Mark, Segment, Series, Tone, TrendChart, bar_chart, distribution_strip,
    nice_ticks, ring_gauge, trend_chart,
};
use roxmltree::{Document, Node};
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::path::PathBuf;
use time::macros::date;

/// Parses `svg` and checks what every chart must have; returns the document.
fn checked(svg: &str) -> Document<'_> {
    let doc = Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
    assert_eq!(root.attribute("width"), Some("100%"));
    assert_eq!(root.attribute("height"), None, "the height follows the viewBox");
    assert_eq!(root.attribute("role"), Some("img"));
    assert!(root.attribute("style").is_none());
    let view_box: Vec<f64> = root.attribute("viewBox").unwrap().split(' ').map(|v| v.parse().unwrap()).collect();
    assert_eq!(view_box.len(), 4);
    assert!(view_box[2] > 0.0 && view_box[3] > 0.0);

    // aria-labelledby names the <title> and the <desc>, which come first.
    let ids: Vec<&str> = root.attribute("aria-labelledby").unwrap().split(' ').collect();
    assert_eq!(ids.len(), 2);
    let elements: Vec<Node<'_, '_>> = root.children().filter(Node::is_element).collect();
    assert_eq!(elements[0].tag_name().name(), "title");
    assert_eq!(elements[0].attribute("id"), Some(ids[0]));
    assert_eq!(elements[1].tag_name().name(), "desc");
    assert_eq!(elements[1].attribute("id"), Some(ids[1]));

    let mut seen = HashSet::new();
    for node in doc.descendants().filter(Node::is_element) {
        assert_ne!(node.tag_name().name(), "style");
        assert_ne!(node.tag_name().name(), "script");
        if let Some(id) = node.attribute("id") {
            assert!(seen.insert(id), "duplicate id {id}");
        }
        // A link the keyboard reaches has words (text or a <title>); a mark
        // whose list a worded link also opens is for the pointer only.
        if node.tag_name().name() == "a" {
            let pointer_only = node.attribute("tabindex") == Some("-1") && node.attribute("aria-hidden") == Some("true");
            let worded = node.descendants().any(|n| n.is_text() && !n.text().unwrap_or_default().trim().is_empty());
            assert!(pointer_only || worded, "a link without words: {:?}", node.attribute("href"));
        }
        for attr in node.attributes() {
            let v = attr.value();
            assert!(!v.contains("NaN") && !v.contains("inf"), "{}={v}", attr.name());
            if matches!(attr.name(), "width" | "height" | "r" | "stroke-width") && v != "100%" {
                let n: f64 = v.parse().unwrap_or_else(|_| panic!("{}={v}", attr.name()));
                assert!(n >= 0.0 && n.is_finite(), "{}={v}", attr.name());
            }
            if matches!(attr.name(), "x" | "y" | "cx" | "cy" | "x1" | "x2" | "y1" | "y2") {
                let n: f64 = v.parse().unwrap_or_else(|_| panic!("{}={v}", attr.name()));
                assert!(n.is_finite() && n >= -1.0 && n <= view_box[2].max(view_box[3]) + 1.0, "{}={v}", attr.name());
            }
        }
    }
    doc
}

fn elements<'a, 'i>(doc: &'a Document<'i>, name: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants().filter(|n| n.tag_name().name() == name).collect()
}

fn with_class<'a, 'i>(doc: &'a Document<'i>, class: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants().filter(|n| n.attribute("class").is_some_and(|c| c.split(' ').any(|c| c == class))).collect()
}

fn num(node: Node<'_, '_>, attr: &str) -> f64 {
    node.attribute(attr).unwrap().parse().unwrap()
}

/// All the text of an element, its `<title>` children left out.
fn text_of(node: Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text() && n.parent().is_none_or(|p| p.tag_name().name() != "title"))
        .filter_map(|n| n.text())
        .filter(|t| !t.trim().is_empty())
        .collect()
}

fn hrefs(doc: &Document<'_>) -> Vec<String> {
    elements(doc, "a").iter().map(|a| a.attribute("href").unwrap().to_string()).collect()
}

fn titles(doc: &Document<'_>) -> Vec<String> {
    elements(doc, "title").iter().map(|t| t.text().unwrap_or("").to_string()).collect()
}

// ---------------------------------------------------------------- samples

fn villages() -> BarChart {
    let mut chart = BarChart::new("villages", "各村居隐患整改情况", "南翔村 隐患 120 件，已销号 98 件；……");
    chart.value_name = "隐患总数".into();
    chart.part_name = "已销号".into();
    chart.no_data = "暂无数据".into();
    let rows = [
        ("南翔村", 120, 98),
        ("永乐村", 86, 80),
        ("新丰村", 64, 40),
        ("红翔社区", 51, 51),
        ("嘉翔城市广场社区", 1_245, 1_201),
        ("上海南翔精密机械产业园区管理委员会", 33, 10),
        ("静华村", 0, 0),
    ];
    chart.bars = rows
        .iter()
        .enumerate()
        .map(|(i, (label, total, closed))| {
            Bar::new(*label, *total).href(format!("/hazards?locality={i}")).part(
                *closed,
                Tone::Good,
                Some(format!("/hazards?locality={i}&state=closed")),
            )
        })
        .collect();
    chart
}

/// The same chart as the English pages would draw it.
fn villages_en() -> BarChart {
    let mut chart = villages();
    chart.id = "villages-en".into();
    chart.value_name = "Hazards".into();
    chart.part_name = "Closed".into();
    let names = [
        "Nanxiang Village",
        "Yongle Village",
        "Xinfeng Village",
        "Hongxiang Community",
        "Jiaxiang City Plaza Community",
        "Nanxiang Precision Machinery Industrial Park Administrative Committee",
        "Jinghua Village",
    ];
    for (bar, name) in chart.bars.iter_mut().zip(names) {
        bar.label = name.into();
    }
    chart
}

fn overdue_by_department() -> BarChart {
    let mut chart = BarChart::new("overdue", "各部门逾期隐患", "镇安监所 14 件，经发办 9 件，……");
    chart.bars = vec![
        Bar::new("镇安监所", 14).tone(Tone::Bad).href("/hazards?overdue=1&unit=1"),
        Bar::new("经发办", 9).tone(Tone::Bad).href("/hazards?overdue=1&unit=2"),
        Bar::new("城建中心", 6).tone(Tone::Bad).href("/hazards?overdue=1&unit=3"),
        Bar::new("消防救援站", 3).tone(Tone::Bad).href("/hazards?overdue=1&unit=4"),
        Bar::new("市场监管所", 1).tone(Tone::Bad).href("/hazards?overdue=1&unit=5"),
    ];
    chart
}

fn series(name: &str, tone: Tone, mark: Mark, values: &[u64], link: &str) -> Series {
    let mut s = Series::new(name, tone, mark, values.iter().copied());
    for (i, p) in s.points.iter_mut().enumerate() {
        p.href = Some(format!("/hazards?{link}&month={i}"));
    }
    s
}

fn trend(months: usize, found_mark: Mark) -> TrendChart {
    let mut chart = TrendChart::new(
        format!("trend{months}"),
        "隐患月度趋势",
        "近 12 个月发现 612 件，销号 574 件",
        date!(2023 - 08 - 15),
    );
    let found: Vec<u64> = (0..months).map(|i| 30 + ((i * 37) % 29) as u64 + if i % 12 == 3 { 25 } else { 0 }).collect();
    let closed: Vec<u64> = found.iter().enumerate().map(|(i, f)| f - (i as u64 % 7).min(*f)).collect();
    let overdue: Vec<u64> = (0..months).map(|i| ((i * 13) % 9) as u64).collect();
    chart.series = vec![
        series("发现", Tone::Neutral, found_mark, &found, "found"),
        series("销号", Tone::Good, found_mark, &closed, "closed"),
        series("逾期", Tone::Bad, Mark::Line, &overdue, "overdue"),
    ];
    chart.no_data = "暂无数据".into();
    chart
}

fn gauge(rate: Option<&str>, caption: &str, tone: Tone) -> Gauge {
    let mut g = Gauge::new(format!("gauge-{caption}"), caption, format!("{caption} {}", rate.unwrap_or("—")));
    g.rate = rate.map(|r| r.parse().unwrap());
    g.caption = caption.into();
    g.tone = tone;
    g.href = Some("/hazards?state=closed".into());
    g
}

fn states() -> Distribution {
    let mut d = Distribution::new("states", "隐患状态分布", "待交办 12，整改中 210，待验收 35，已销号 1,532，逾期 27");
    d.segments = vec![
        Segment::new("待交办", 12, Tone::Muted).href("/hazards?state=new"),
        Segment::new("整改中", 210, Tone::Neutral).href("/hazards?state=rectifying"),
        Segment::new("待验收", 35, Tone::Warning).href("/hazards?state=submitted"),
        Segment::new("已销号", 1_532, Tone::Good).href("/hazards?state=closed"),
        Segment::new("逾期", 27, Tone::Bad).href("/hazards?overdue=1"),
    ];
    d.no_data = "暂无数据".into();
    d
}

fn levels() -> Distribution {
    let mut d = Distribution::new("levels", "隐患等级", "一般隐患 1,790，重大隐患 26");
    d.segments = vec![
        Segment::new("一般隐患", 1_790, Tone::Neutral).href("/hazards?level=general"),
        Segment::new("重大隐患", 26, Tone::Bad).href("/hazards?level=major"),
    ];
    d
}

// ---------------------------------------------------------------- bars

#[test]
fn bar_widths_follow_values_and_numbers_link() {
    let svg = bar_chart(&overdue_by_department());
    let doc = checked(&svg);
    let bars = with_class(&doc, "bh-bar");
    assert_eq!(bars.len(), 5);
    let widths: Vec<f64> = bars.iter().map(|b| num(*b, "width")).collect();
    for (w, v) in widths.iter().zip([14.0, 9.0, 6.0, 3.0, 1.0]) {
        assert!((w / widths[0] - v / 14.0).abs() < 0.01, "{widths:?}");
    }
    // Every bar starts at the same x, in the order given.
    assert!(bars.iter().all(|b| b.attribute("x") == bars[0].attribute("x")));
    let ys: Vec<f64> = bars.iter().map(|b| num(*b, "y")).collect();
    assert!(ys.windows(2).all(|w| w[0] < w[1]));
    // Label, bar and value of a row are inside the row's link.
    let links = elements(&doc, "a");
    assert_eq!(links.len(), 5);
    assert_eq!(links[0].attribute("href"), Some("/hazards?overdue=1&unit=1"));
    assert!(svg.contains("href=\"/hazards?overdue=1&amp;unit=1\""));
    assert_eq!(text_of(links[0]), "镇安监所14");
    assert!(with_class(&doc, "bh-value").iter().all(|v| v.ancestors().any(|a| a.tag_name().name() == "a")));
    // No parts, no legend.
    assert!(with_class(&doc, "bh-legend").is_empty());
    assert_eq!(titles(&doc)[1], "镇安监所 · 14");
}

#[test]
fn bars_with_parts_overlay_and_link_both_numbers() {
    let chart = villages();
    let doc_text = bar_chart(&chart);
    let doc = checked(&doc_text);
    let totals = with_class(&doc, "bh-bar");
    let parts = with_class(&doc, "bh-part");
    assert_eq!(totals.len(), 7);
    assert_eq!(parts.len(), 7);
    // Scaled to the largest value, 1,245; the part over its total.
    let full = num(totals[4], "width") + 1.0;
    assert!((num(parts[4], "width") / full - 1_201.0 / 1_245.0).abs() < 0.001);
    assert!((num(parts[0], "width") / full - 98.0 / 1_245.0).abs() < 0.001);
    assert!((num(totals[0], "width") + 1.0) / full - 120.0 / 1_245.0 < 0.001);
    assert_eq!(num(parts[6], "width"), 0.0);
    assert_eq!(totals[0].attribute("fill-opacity"), Some("0.22"));
    // `part / total`, each number its own link.
    let values = with_class(&doc, "bh-value");
    assert_eq!(text_of(values[4]), "1,201 / 1,245");
    let value_links: Vec<&str> =
        values[4].descendants().filter(|n| n.tag_name().name() == "a").map(|a| a.attribute("href").unwrap()).collect();
    assert_eq!(value_links, ["/hazards?locality=4&state=closed", "/hazards?locality=4"]);
    // The legend names tint and solid.
    let legend = with_class(&doc, "bh-legend");
    assert_eq!(text_of(legend[0]), "隐患总数已销号");
    assert!(titles(&doc).contains(&"南翔村 · 隐患总数 120 · 已销号 98".to_string()));
}

#[test]
fn long_labels_are_cut_with_the_full_label_in_the_title() {
    let doc_text = bar_chart(&villages());
    let doc = checked(&doc_text);
    let long = "上海南翔精密机械产业园区管理委员会";
    let row = with_class(&doc, "bh-row")
        .into_iter()
        .find(|r| r.descendants().any(|n| n.text() == Some(&format!("{long} · 隐患总数 33 · 已销号 10"))))
        .unwrap();
    let label = row.descendants().find(|n| n.tag_name().name() == "text").unwrap();
    let shown = label.text().unwrap();
    assert!(shown.ends_with('…'), "{shown}");
    assert!(long.starts_with(shown.trim_end_matches('…')));
    assert!(shown.chars().count() < long.chars().count());
    // Short labels are whole.
    assert!(doc.descendants().any(|n| n.text() == Some("南翔村")));
}

#[test]
fn text_is_escaped() {
    let mut chart = BarChart::new("x", "A & B <c>", "\"quoted\" 'single'");
    chart.bars = vec![Bar::new("<script>alert('x')</script> & \"q\"", 5).href("/h?a=1&b=<2>\"")];
    let svg = bar_chart(&chart);
    assert!(!svg.contains("<script"));
    assert!(svg.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;q&quot;"));
    let doc = checked(&svg);
    assert_eq!(titles(&doc)[0], "A & B <c>");
    assert_eq!(doc.descendants().find(|n| n.tag_name().name() == "desc").unwrap().text(), Some("\"quoted\" 'single'"));
    assert_eq!(hrefs(&doc), ["/h?a=1&b=<2>\""]);
    assert!(elements(&doc, "script").is_empty());
    // Characters XML does not allow are dropped, not written.
    chart.bars = vec![Bar::new("南翔\u{1}村\u{FFFF}", 5)];
    let svg = bar_chart(&chart);
    let doc = checked(&svg);
    assert!(doc.descendants().any(|n| n.text() == Some("南翔村")));
}

#[test]
fn unsafe_links_are_dropped() {
    let mut chart = BarChart::new("x", "t", "d");
    chart.bars = vec![Bar::new("a", 5).href("javascript:alert(1)"), Bar::new("b", 3).href("/ok")];
    let doc_text = bar_chart(&chart);
    assert_eq!(hrefs(&checked(&doc_text)), ["/ok"]);
}

// ---------------------------------------------------------------- trend

#[test]
fn trend_ticks_are_nice_numbers() {
    assert_eq!(nice_ticks(87), [0, 20, 40, 60, 80, 100]);
    let mut chart = TrendChart::new("t", "t", "d", date!(2024 - 01 - 01));
    chart.series = vec![Series::new("发现", Tone::Neutral, Mark::Columns, [10, 87, 40])];
    let svg = trend_chart(&chart);
    let doc = checked(&svg);
    let axis = with_class(&doc, "bh-y-axis");
    let labels: Vec<String> = axis[0].children().filter(|n| n.tag_name().name() == "text").map(text_of).collect();
    assert_eq!(labels, ["0", "20", "40", "60", "80", "100"]);
    // Column heights follow the values on that scale.
    let rects: Vec<Node<'_, '_>> =
        with_class(&doc, "bh-columns")[0].children().filter(|n| n.tag_name().name() == "rect").collect();
    let heights: Vec<f64> = rects.iter().map(|r| num(*r, "height")).collect();
    assert!((heights[1] / heights[0] - 8.7).abs() < 0.01);
    assert!((heights[1] / 150.0 - 0.87).abs() < 0.01, "{heights:?}");

    chart.series = vec![Series::new("发现", Tone::Neutral, Mark::Columns, [1_234_567, 5])];
    let svg = trend_chart(&chart);
    let doc = checked(&svg);
    let axis = with_class(&doc, "bh-y-axis");
    let labels: Vec<String> = axis[0].children().filter(|n| n.tag_name().name() == "text").map(text_of).collect();
    assert_eq!(labels.last().map(String::as_str), Some("1,500,000"));
}

#[test]
fn month_labels_thin_out_when_crowded() {
    let month_labels = |months: usize| {
        let svg = trend_chart(&trend(months, Mark::Line));
        let doc = Document::parse(&svg).unwrap();
        checked(&svg);
        let labels: Vec<(f64, String)> =
            with_class(&doc, "bh-month").iter().map(|n| (num(*n, "x"), text_of(*n))).collect();
        let years: Vec<String> = with_class(&doc, "bh-year").iter().map(|n| text_of(*n)).collect();
        (labels, years)
    };
    // 12 months from 2023-08: every month, the years at the first month and
    // at January.
    let (labels, years) = month_labels(12);
    let texts: Vec<&str> = labels.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts, ["8", "9", "10", "11", "12", "1", "2", "3", "4", "5", "6", "7"]);
    assert_eq!(years, ["2023", "2024"]);
    // 36 months: fewer labels, on quarter or half-year months, far enough
    // apart for two digits at 12 units.
    let (labels, years) = month_labels(36);
    assert!(labels.len() < 36 && labels.len() >= 6, "{labels:?}");
    let step = labels.windows(2).map(|w| w[1].0 - w[0].0).fold(f64::MAX, f64::min);
    assert!(step >= 2.0 * 0.55 * 12.0 + 4.0, "{step}");
    assert!(labels.iter().all(|(_, t)| ["1", "4", "7", "10"].contains(&t.as_str())), "{labels:?}");
    // The first label, 2023-10, is too near 2024-01 for its year.
    assert_eq!(years, ["2024", "2025", "2026"]);
    // Each point links to its month's list, with its month in the title.
    let svg = trend_chart(&trend(12, Mark::Columns));
    let doc = checked(&svg);
    let links = hrefs(&doc);
    assert_eq!(links.len(), 36);
    assert!(links.contains(&"/hazards?overdue&month=11".to_string()));
    assert!(titles(&doc).contains(&"2023-08 · 发现 · 30".to_string()), "{:?}", titles(&doc));
    assert!(titles(&doc).contains(&"2024-07 · 逾期 · 8".to_string()));
    // The legend shows each series, columns and line alike.
    assert_eq!(text_of(with_class(&doc, "bh-legend")[0]), "发现销号逾期");
}

// ---------------------------------------------------------------- gauge and strip

#[test]
fn gauge_shows_the_rate_or_a_dash() {
    let svg = ring_gauge(&gauge(Some("93.4"), "整改率", Tone::Good));
    let doc = checked(&svg);
    let figure = with_class(&doc, "bh-figure");
    assert_eq!(text_of(figure[0]), "93.4%");
    let arc = with_class(&doc, "bh-arc")[0];
    let dash: Vec<f64> = arc.attribute("stroke-dasharray").unwrap().split(' ').map(|v| v.parse().unwrap()).collect();
    assert!((dash[0] / dash[1] - 0.934).abs() < 0.001);
    assert_eq!(hrefs(&doc), ["/hazards?state=closed"]);
    assert_eq!(text_of(with_class(&doc, "bh-caption")[0]), "整改率");

    let doc_text = ring_gauge(&gauge(None, "按期整改率", Tone::Good));
    let doc = checked(&doc_text);
    assert_eq!(text_of(with_class(&doc, "bh-figure")[0]), "—");
    assert!(with_class(&doc, "bh-arc").is_empty());

    // Out of range: printed as given, the ring clamped.
    for (rate, share) in [("150", 1.0), ("-5", 0.0), ("0", 0.0), ("100", 1.0)] {
        let svg = ring_gauge(&gauge(Some(rate), "x", Tone::Neutral));
        let doc = checked(&svg);
        let arc = with_class(&doc, "bh-arc")[0];
        let dash: Vec<f64> =
            arc.attribute("stroke-dasharray").unwrap().split(' ').map(|v| v.parse().unwrap()).collect();
        assert!((dash[0] / dash[1] - share).abs() < 1e-6, "{rate}");
    }
    let big = ring_gauge(&gauge(Some("123456.7"), "x", Tone::Neutral));
    let doc = checked(&big);
    assert!(num(with_class(&doc, "bh-figure")[0], "font-size") < 30.0);
    for (rate, shown) in
        [(Decimal::new(93_449, 3), "93.4%"), (Decimal::new(7_625, 2), "76.3%"), (Decimal::new(100, 0), "100.0%")]
    {
        let rounded = Gauge { rate: Some(rate), ..gauge(None, "x", Tone::Good) };
        assert_eq!(text_of(with_class(&checked(&ring_gauge(&rounded)), "bh-figure")[0]), shown);
    }

    // A long caption takes two lines, the rest cut with the whole in a title.
    let long = "按期整改率（近十二个月，全镇各村居、各部门及各企业合计）";
    let doc_text = ring_gauge(&gauge(Some("88.0"), long, Tone::Warning));
    let doc = checked(&doc_text);
    let caption = with_class(&doc, "bh-caption")[0];
    assert_eq!(caption.children().filter(|n| n.tag_name().name() == "tspan").count(), 2);
    assert!(text_of(caption).ends_with('…'));
    assert!(titles(&doc).contains(&long.to_string()));
}

#[test]
fn strip_parts_are_proportional_and_the_legend_gives_shares() {
    let doc_text = distribution_strip(&states());
    let doc = checked(&doc_text);
    let rects: Vec<Node<'_, '_>> = with_class(&doc, "bh-segment")
        .iter()
        .map(|g| g.descendants().find(|n| n.tag_name().name() == "rect").unwrap())
        .collect();
    let widths: Vec<f64> = rects.iter().map(|r| num(*r, "width")).collect();
    let total: f64 = widths.iter().sum();
    assert!((total - 392.0).abs() < 0.05, "{total}");
    for (w, v) in widths.iter().zip([12.0, 210.0, 35.0, 1_532.0, 27.0]) {
        assert!((w / total - v / 1_816.0).abs() < 0.001);
    }
    // Edges meet.
    for pair in rects.windows(2) {
        assert!((num(pair[0], "x") + num(pair[0], "width") - num(pair[1], "x")).abs() < 0.02);
    }
    let legend = with_class(&doc, "bh-legend-item");
    assert_eq!(text_of(legend[3]), "已销号 1,532 84.4%");
    // Segments and legend entries link to their lists.
    assert_eq!(hrefs(&doc).iter().filter(|h| *h == "/hazards?state=closed").count(), 2);
    // Values fit inside the wide parts only.
    let inside: Vec<String> = with_class(&doc, "bh-segment")
        .iter()
        .flat_map(|g| g.descendants().filter(|n| n.tag_name().name() == "text").map(text_of))
        .collect();
    assert_eq!(inside, ["210", "1,532"]);
}

// ---------------------------------------------------------------- edge cases

#[test]
fn empty_and_zero_data_say_so() {
    let mut empty_bars = BarChart::new("e1", "t", "d");
    empty_bars.no_data = "暂无数据".into();
    let mut zero_bars = empty_bars.clone();
    zero_bars.bars = vec![Bar::new("南翔村", 0), Bar::new("永乐村", 0).part(0, Tone::Good, None)];
    let mut empty_trend = TrendChart::new("e2", "t", "d", date!(2024 - 01 - 01));
    empty_trend.no_data = "暂无数据".into();
    let mut zero_trend = empty_trend.clone();
    zero_trend.series = vec![Series::new("发现", Tone::Neutral, Mark::Columns, [0; 12])];
    let mut no_points = empty_trend.clone();
    no_points.series = vec![Series::new("发现", Tone::Neutral, Mark::Line, [])];
    let mut empty_strip = Distribution::new("e3", "t", "d");
    empty_strip.no_data = "暂无数据".into();
    let mut zero_strip = empty_strip.clone();
    zero_strip.segments = vec![Segment::new("逾期", 0, Tone::Bad)];
    for svg in [
        bar_chart(&empty_bars),
        bar_chart(&zero_bars),
        trend_chart(&empty_trend),
        trend_chart(&zero_trend),
        trend_chart(&no_points),
        distribution_strip(&empty_strip),
        distribution_strip(&zero_strip),
    ] {
        let doc = checked(&svg);
        let message = with_class(&doc, "bh-no-data");
        assert_eq!(message.len(), 1, "{svg}");
        assert_eq!(text_of(message[0]), "暂无数据");
        assert!(elements(&doc, "rect").is_empty());
    }
}

#[test]
fn huge_values_stay_finite() {
    let mut bars = BarChart::new("h1", "t", "d");
    bars.bars = vec![Bar::new("a", u64::MAX).part(u64::MAX - 1, Tone::Good, None), Bar::new("b", 1)];
    let mut trend = TrendChart::new("h2", "t", "d", date!(2024 - 01 - 01));
    trend.series = vec![
        Series::new("a", Tone::Neutral, Mark::Columns, [u64::MAX, 0, 1]),
        Series::new("b", Tone::Bad, Mark::Line, [u64::MAX, u64::MAX, 0]),
    ];
    let mut strip = Distribution::new("h3", "t", "d");
    strip.segments = vec![Segment::new("a", u64::MAX, Tone::Good), Segment::new("b", u64::MAX, Tone::Bad)];
    let mut gauge = Gauge::new("h4", "t", "d");
    gauge.rate = Some(Decimal::MAX);
    for svg in [bar_chart(&bars), trend_chart(&trend), distribution_strip(&strip), ring_gauge(&gauge)] {
        checked(&svg);
        assert!(
            svg.contains("18,446,744,073,709,551,615")
                || svg.contains("79,228,162,514,264,337,593,543,950,335")
                || svg.contains("79228162514264337593543950335"),
            "{svg}"
        );
    }
    // A thousand months: labels still apart, coordinates still finite.
    let mut long = TrendChart::new("h5", "t", "d", date!(1990 - 01 - 01));
    long.series = vec![Series::new("a", Tone::Neutral, Mark::Line, (0..1000).map(|i| i % 17))];
    let svg = trend_chart(&long);
    let doc = checked(&svg);
    let xs: Vec<f64> = with_class(&doc, "bh-year").iter().map(|n| num(*n, "x")).collect();
    assert!(xs.windows(2).all(|w| w[1] - w[0] >= 4.0 * 0.55 * 12.0), "{xs:?}");
}

#[test]
fn ids_come_from_the_prefix() {
    let svg = ring_gauge(&Gauge::new("cockpit rate/1", "t", "d"));
    let doc = checked(&svg);
    assert_eq!(doc.root_element().attribute("aria-labelledby"), Some("cockpit-rate-1-title cockpit-rate-1-desc"));
    // Charts on one page with their own prefixes share no id.
    let page = [bar_chart(&villages()), trend_chart(&trend(12, Mark::Columns)), distribution_strip(&states())].concat();
    let ids: Vec<&str> =
        page.match_indices(" id=\"").map(|(i, _)| &page[i + 5..i + 5 + page[i + 5..].find('"').unwrap()]).collect();
    assert_eq!(ids.len(), ids.iter().collect::<HashSet<_>>().len());
}

/// `text` without digits, spaces and the punctuation of numbers.
fn words(text: &str) -> String {
    text.chars().filter(|c| !c.is_ascii_digit() && !" ,.%/·:—…-\n".contains(*c)).collect()
}

#[test]
fn no_words_of_its_own() {
    // Every text node of a chart is the caller's, a number, a month, a year
    // or a separator.
    let charts = [
        bar_chart(&villages()),
        trend_chart(&trend(24, Mark::Columns)),
        ring_gauge(&gauge(Some("93.4"), "整改率", Tone::Good)),
        distribution_strip(&states()),
    ];
    for svg in &charts {
        let doc = checked(svg);
        for text in doc.descendants().filter(Node::is_text).filter_map(|n| n.text()) {
            let own = words(text);
            let callers = [
                "各村居隐患整改情况",
                "南翔村 隐患 120 件，已销号 98 件；……",
                "隐患总数",
                "已销号",
                "南翔村",
                "永乐村",
                "新丰村",
                "红翔社区",
                "嘉翔城市广场社区",
                "上海南翔精密机械产业园区管理委员会",
                "静华村",
                "隐患月度趋势",
                "近 12 个月发现 612 件，销号 574 件",
                "发现",
                "销号",
                "逾期",
                "整改率",
                "隐患状态分布",
                "待交办 12，整改中 210，待验收 35，已销号 1,532，逾期 27",
                "待交办",
                "整改中",
                "待验收",
            ];
            let mut rest = own.clone();
            // Longest first: the descriptions hold the labels.
            let mut callers: Vec<String> = callers.iter().map(|c| words(c)).collect();
            callers.sort_by_key(|c| std::cmp::Reverse(c.chars().count()));
            for c in &callers {
                rest = rest.replace(c.as_str(), "");
            }
            // Cut labels leave a prefix of a caller's label.
            assert!(rest.is_empty() || callers.iter().any(|c| c.starts_with(rest.as_str())), "{text:?} → {rest:?}");
        }
    }
}

#[test]
fn samples() {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("svg-samples");
    std::fs::create_dir_all(&dir).unwrap();
    let charts: Vec<(&str, &str, String)> = vec![
        ("villages", "各村居隐患整改情况", bar_chart(&villages())),
        ("overdue", "各部门逾期隐患", bar_chart(&overdue_by_department())),
        ("trend-12", "隐患月度趋势（12 个月）", trend_chart(&trend(12, Mark::Columns))),
        ("trend-36", "隐患月度趋势（36 个月）", trend_chart(&trend(36, Mark::Line))),
        ("trend-36-columns", "隐患月度趋势（36 个月，柱）", trend_chart(&trend(36, Mark::Columns))),
        (
            "trend-24-one",
            "发现隐患（24 个月）",
            trend_chart(&TrendChart {
                series: vec![series(
                    "Found",
                    Tone::Neutral,
                    Mark::Columns,
                    &[3, 5, 2, 8, 13, 7, 4, 6, 9, 11, 2, 0, 1, 4, 6, 8, 3, 2, 7, 5, 9, 12, 10, 6],
                    "found",
                )],
                ..trend(24, Mark::Columns)
            }),
        ),
        ("villages-en", "Villages (English)", bar_chart(&villages_en())),
        ("gauge-rate", "整改率", ring_gauge(&gauge(Some("93.4"), "整改率", Tone::Good))),
        ("gauge-ontime", "按期整改率", ring_gauge(&gauge(Some("76.25"), "按期整改率（近12个月）", Tone::Warning))),
        ("gauge-none", "重大隐患整改率", ring_gauge(&gauge(None, "重大隐患整改率", Tone::Bad))),
        ("states", "隐患状态分布", distribution_strip(&states())),
        ("levels", "隐患等级", distribution_strip(&levels())),
        ("empty", "暂无数据", bar_chart(&BarChart { no_data: "暂无数据".into(), ..BarChart::new("empty", "t", "d") })),
    ];
    let mut cards = String::new();
    for (name, heading, svg) in &charts {
        checked(svg);
        std::fs::write(dir.join(format!("{name}.svg")), svg).unwrap();
        let class = if name.starts_with("gauge") { "card gauge" } else { "card" };
        cards.push_str(&format!("<section class=\"{class}\"><h2>{heading}</h2>\n{svg}</section>\n"));
    }
    for (page, width) in [("wide", 800), ("phone", 360)] {
        let html = format!(
            "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>svg samples</title>\
             <style>body{{margin:0;background:#f5f7f9;font-family:sans-serif;color:#1d2733}}\
             main{{width:{width}px;padding:8px;box-sizing:border-box;display:flex;flex-wrap:wrap;gap:8px}}\
             .card{{background:#fff;border:1px solid #d9dee4;border-radius:8px;padding:8px 12px;box-sizing:border-box;width:100%}}\
             .card.gauge{{width:calc((100% - 16px) / 3)}}h2{{font-size:15px;margin:0 0 6px}}</style>\
             <main>\n{cards}</main></html>"
        );
        std::fs::write(dir.join(format!("{page}.html")), html).unwrap();
    }
}
