//! The leaders' cockpit (领导驾驶舱): totals and rates, breakdowns by area,
//! locality, level, source and state, the monthly trend, indicator progress
//! and the units with the most overdue hazards — charts drawn by the server
//! as SVG. Every number links to the list behind it, and the figures are
//! those of `GET /api/v1/hazards/stats` for the same scope.

use crate::api_hazards::HazardQuery;
use crate::auth::{urlencode, PageUser};
use crate::i18n::{filters, number, tr, trf};
use crate::ui::{error_page, nav, render, Flash, Nav};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use bihuan_domain::hazard::{Breakdown, HazardLevel, HazardState};
use bihuan_domain::ids::UnitId;
use bihuan_domain::indicator::IndicatorStatus;
use bihuan_domain::unit::UnitPath;
use bihuan_reports::svg::{self, Bar, BarChart, Distribution, Gauge, Mark, Point, Segment, Series, Tone, TrendChart};
use bihuan_service::hazards::{hazard_scope, HazardStats, Rates};
use bihuan_store::hazards::{HazardFilter, HazardScope};
use rust_decimal::Decimal;
use serde::Deserialize;
use time::{Date, Month};

#[derive(Deserialize, Default)]
pub struct CockpitQuery {
    /// A unit to look at (its subtree); the user's whole scope without it.
    within: Option<String>,
}

/// A figure on a tile: the number, its link, whether it is bad news.
pub struct Tile {
    pub label: &'static str,
    pub value: String,
    pub href: String,
    pub bad: bool,
}

/// A chart with its visible heading (the SVG carries the same title for
/// screen readers).
pub struct Chart {
    pub title: &'static str,
    pub svg: String,
}

/// A row of the "most overdue" table.
pub struct OverdueRow {
    pub name: String,
    pub overdue: i64,
    pub open: i64,
    pub href_overdue: String,
    pub href_open: String,
    pub cockpit: String,
}

pub struct IndicatorRow {
    pub href: String,
    pub name: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub percent: Option<String>,
    pub deadline: String,
}

#[derive(Template)]
#[template(path = "cockpit.html")]
struct CockpitPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    scope_name: String,
    up: Option<String>,
    today: String,
    tiles: Vec<Tile>,
    /// Open warnings by level (红橙黄蓝), each linking to its list.
    warning_tiles: Vec<(&'static str, &'static str, String, String)>,
    gauges: Vec<String>,
    by_area: Chart,
    by_unit: Chart,
    trend: Chart,
    by_level: Chart,
    by_source: Chart,
    by_state: Chart,
    most_overdue: Vec<OverdueRow>,
    indicator_count: usize,
    indicator_strip: Chart,
    indicators: Vec<IndicatorRow>,
}

/// The states that count as hazards in the bars and the trend: all but
/// dismissed (一经核实不构成隐患或重复登记), which counts in no rate.
const COUNTED: &str = "state=reported,assigned,rectifying,submitted,closed";

/// `/hazards?…` for a scope and more conditions.
struct Links {
    within: Option<UnitId>,
}

impl Links {
    fn list(&self, more: &str) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !more.is_empty() {
            parts.push(more.to_string());
        }
        if let Some(w) = self.within {
            parts.push(format!("within={w}"));
        }
        if parts.is_empty() { "/hazards".into() } else { format!("/hazards?{}", parts.join("&")) }
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn label(r: &Rates) -> String {
    if crate::english() { r.label_en.clone() } else { r.label.clone() }
}

/// The unit id at the end of a stored path.
fn unit_of(key: &str) -> Option<UnitId> {
    UnitPath::from_stored(key.to_string()).ids().last().copied()
}

/// The first day of the month `back` months before `d`'s.
fn months_back(d: Date, back: u32) -> Date {
    let total = d.year() * 12 + i32::from(u8::from(d.month())) - 1 - back as i32;
    let (y, m) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    Month::try_from(m as u8).ok().and_then(|m| Date::from_calendar_date(y, m, 1).ok()).unwrap_or(d)
}

/// The last day of `d`'s month.
fn month_end(d: Date) -> Date {
    d.replace_day(d.month().length(d.year())).unwrap_or(d)
}

fn rate_tone(rate: Option<Decimal>) -> Tone {
    match rate {
        Some(r) if r >= Decimal::from(90) => Tone::Good,
        Some(r) if r >= Decimal::from(70) => Tone::Warning,
        Some(_) => Tone::Bad,
        None => Tone::Muted,
    }
}

fn level_tone(l: &str) -> Tone {
    if l == HazardLevel::Major.as_str() { Tone::Bad } else { Tone::Neutral }
}

fn state_tone(s: &str) -> Tone {
    match HazardState::parse(s) {
        Some(HazardState::Reported) => Tone::Accent,
        Some(HazardState::Assigned) => Tone::Neutral,
        Some(HazardState::Rectifying) | Some(HazardState::Dismissed) => Tone::Muted,
        Some(HazardState::Submitted) => Tone::Warning,
        Some(HazardState::Closed) => Tone::Good,
        None => Tone::Neutral,
    }
}

fn source_tone(i: usize) -> Tone {
    const ORDER: [Tone; 6] = [Tone::Neutral, Tone::Accent, Tone::Warning, Tone::Good, Tone::Bad, Tone::Muted];
    ORDER.get(i % ORDER.len()).copied().unwrap_or_default()
}

pub async fn cockpit(State(s): State<AppState>, user: PageUser, Query(q): Query<CockpitQuery>) -> Response {
    let ctx = user.0.ctx();
    let base_query = HazardQuery { within: q.within.clone().filter(|w| !w.trim().is_empty()), ..Default::default() };
    let base = match base_query.filter(&s, &ctx).await {
        Ok(f) => HazardFilter { limit: 1, ..f },
        Err(e) => return error_page(nav(&user), &e),
    };
    let within_id = base_query.within.as_deref().and_then(UnitId::parse);
    let links = Links { within: within_id };
    let today = s.svc.today();
    let first = months_back(today, 11);
    let month_filter = HazardFilter { found_from: Some(first), found_to: Some(month_end(today)), ..base.clone() };
    let stats = |f: HazardFilter, by: Option<Breakdown>| {
        let s = s.clone();
        let ctx = ctx.clone();
        async move { s.svc.hazard_stats(&ctx, &f, by).await }
    };
    let results = tokio::try_join!(
        stats(base.clone(), None),
        stats(base.clone(), Some(Breakdown::Area)),
        stats(base.clone(), Some(Breakdown::Unit)),
        stats(base.clone(), Some(Breakdown::Level)),
        stats(base.clone(), Some(Breakdown::Source)),
        stats(base.clone(), Some(Breakdown::State)),
        stats(month_filter, Some(Breakdown::Month)),
    );
    let (total, by_area, by_unit, by_level, by_source, mut by_state, by_month) = match results {
        Ok(r) => r,
        Err(e) => return error_page(nav(&user), &e),
    };
    // States in the order of the loop, not by count.
    by_state.groups.sort_by_key(|g| HazardState::ALL.iter().position(|s| s.as_str() == g.tally.key));
    let scope_name = match within_id {
        Some(id) => match s.svc.get_unit(&ctx, id).await {
            Ok(u) => u.name,
            Err(e) => return error_page(nav(&user), &e),
        },
        None => match s.svc.get_unit(&ctx, user.0.actor.unit_id).await {
            Ok(u) if user.0.actor.jurisdiction != user.0.actor.unit_path => {
                let gov = user.0.actor.jurisdiction.ids().last().copied();
                match gov {
                    Some(g) => s.svc.get_unit(&ctx, g).await.map(|g| g.name).unwrap_or(u.name),
                    None => u.name,
                }
            }
            Ok(u) => u.name,
            Err(e) => return error_page(nav(&user), &e),
        },
    };
    let t = &total.total;
    let tiles = vec![
        Tile { label: tr("隐患总数", "Hazards"), value: number(t.tally.total), href: links.list(""), bad: false },
        Tile { label: tr("已销号", "Closed"), value: number(t.tally.closed), href: links.list("state=closed"), bad: false },
        Tile { label: tr("未销号", "Open"), value: number(t.tally.open), href: links.list("state=open"), bad: false },
        Tile { label: tr("已撤销", "Dismissed"), value: number(t.tally.dismissed), href: links.list("state=dismissed"), bad: false },
        Tile { label: tr("逾期未整改", "Overdue"), value: number(t.tally.overdue), href: links.list("overdue=true&sort=deadline"), bad: t.tally.overdue > 0 },
        Tile { label: tr("重大隐患", "Major"), value: number(t.tally.major), href: links.list("level=major"), bad: false },
        Tile { label: tr("挂牌督办", "Listed"), value: number(t.tally.listed), href: links.list("listed=true"), bad: false },
    ];
    let wq = bihuan_service::warning_views::WarningQuery { within: links.within.map(|u| u.0), ..Default::default() };
    let warning_tiles = match s.svc.warning_counts(&ctx, &wq).await {
        Ok(c) => c
            .iter()
            .map(|(l, n)| {
                let within = links.within.map(|u| format!("&within={u}")).unwrap_or_default();
                (l.as_str(), tr(l.label_zh(), l.label_en()), number(*n), format!("/warnings?level={}{within}", l.as_str()))
            })
            .collect(),
        Err(e) => return error_page(nav(&user), &e),
    };
    let gauge = |id: &str, caption: &'static str, rate: Option<Decimal>, desc: String| {
        svg::ring_gauge(&Gauge { rate, caption: caption.into(), href: Some(links.list("state=closed")), tone: rate_tone(rate), ..Gauge::new(id, caption, desc) })
    };
    let gauges = vec![
        gauge(
            "g-rect",
            tr("整改率", "Rectification rate"),
            t.rectification_rate,
            trf(
                format!("已销号 {} 条，占应整改隐患（不含撤销）的比例", number(t.tally.closed)),
                format!("{} closed, of the hazards to rectify (dismissed ones excluded)", number(t.tally.closed)),
            ),
        ),
        gauge(
            "g-ontime",
            tr("按期整改率", "On-time rate"),
            t.on_time_rate,
            trf(
                format!("按期销号 {} 条，占已销号的比例", number(t.tally.closed_on_time)),
                format!("{} closed on time, of those closed", number(t.tally.closed_on_time)),
            ),
        ),
    ];

    let area_bars: Vec<Bar> = by_area
        .groups
        .iter()
        .map(|g| {
            let id = (!g.tally.key.is_empty()).then(|| g.tally.key.clone());
            // Area names are the campaign plan's own words (the English label is only its code).
            let name = if id.is_some() { g.label.clone() } else { label(g) };
            let mut b = Bar::new(name, count(g.tally.total - g.tally.dismissed)).tone(Tone::Neutral);
            if let Some(id) = &id {
                b = b.href(links.list(&format!("area_id={id}&{COUNTED}")));
            }
            b.part(count(g.tally.closed), Tone::Good, id.map(|id| links.list(&format!("area_id={id}&state=closed"))))
        })
        .collect();
    let area_title = tr("各整治领域隐患及销号", "Hazards and closures by area");
    let by_area_svg = svg::bar_chart(&BarChart {
        bars: area_bars,
        value_name: tr("隐患", "hazards").into(),
        part_name: tr("已销号", "closed").into(),
        no_data: tr("暂无数据", "No data yet").into(),
        ..BarChart::new("c-area", area_title, tr("每个领域的隐患数（不含撤销）和其中已销号的数量", "Hazards per area (dismissed excluded) and how many of them are closed"))
    });

    // The breakdown's own-unit row (hazards of the unit itself, not of the
    // units below it) has no list of its own: `within` lists the subtree.
    let root: Option<String> = base.within.as_ref().map(|p| p.as_str().to_string()).or_else(|| match hazard_scope(&ctx) {
        HazardScope::Visible { subtree, .. } => Some(subtree.as_str().to_string()),
        HazardScope::All => None,
    });
    let own_row = |g: &Rates| root.as_deref() == Some(g.tally.key.as_str());
    let unit_label = |g: &Rates| if own_row(g) { format!("{}{}", label(g), tr("（本级）", " (itself)")) } else { label(g) };
    let unit_bars: Vec<Bar> = by_unit
        .groups
        .iter()
        .map(|g| {
            let w = unit_of(&g.tally.key).filter(|_| !own_row(g));
            let list = |more: &str| w.map(|id| format!("/hazards?within={id}&{more}"));
            let mut b = Bar::new(unit_label(g), count(g.tally.total - g.tally.dismissed)).tone(Tone::Neutral);
            if let Some(h) = list(COUNTED) {
                b = b.href(h);
            }
            b.part(count(g.tally.closed), Tone::Good, list("state=closed"))
        })
        .collect();
    let unit_title = tr("各属地、部门隐患及销号", "Hazards and closures by locality and department");
    let by_unit_svg = svg::bar_chart(&BarChart {
        bars: unit_bars,
        value_name: tr("隐患", "hazards").into(),
        part_name: tr("已销号", "closed").into(),
        no_data: tr("暂无数据", "No data yet").into(),
        ..BarChart::new("c-unit", unit_title, tr("下一级单位的隐患数（不含撤销）和其中已销号的数量", "Hazards of each unit one level down (dismissed excluded) and how many are closed"))
    });

    // The last twelve months, each month's list behind its figures.
    let months: Vec<Date> = (0..12).rev().map(|b| months_back(today, b)).collect();
    let find = |m: Date| {
        let key = format!("{}-{:02}", m.year(), u8::from(m.month()));
        by_month.groups.iter().find(|g| g.tally.key == key).map(|g| g.tally.clone()).unwrap_or_default()
    };
    let month_link = |m: Date, more: &str| {
        let range = format!("found_from={m}&found_to={}", month_end(m));
        links.list(&if more.is_empty() { range } else { format!("{range}&{more}") })
    };
    let series = |name: &str, tone: Tone, mark: Mark, value: &dyn Fn(&bihuan_domain::hazard::Tally) -> i64, more: &str| Series {
        name: name.into(),
        tone,
        mark,
        points: months.iter().map(|m| Point { value: count(value(&find(*m))), href: Some(month_link(*m, more)) }).collect(),
    };
    let trend_title = tr("近12个月隐患发现与销号", "Hazards found and closed, last 12 months");
    let trend_svg = svg::trend_chart(&TrendChart {
        series: vec![
            series(tr("发现", "Found"), Tone::Neutral, Mark::Columns, &|t| t.total - t.dismissed, COUNTED),
            series(tr("其中已销号", "of which closed"), Tone::Good, Mark::Columns, &|t| t.closed, "state=closed"),
            series(tr("其中逾期", "of which overdue"), Tone::Bad, Mark::Line, &|t| t.overdue, "overdue=true"),
        ],
        no_data: tr("近12个月没有发现隐患", "No hazards found in the last 12 months").into(),
        ..TrendChart::new(
            "c-trend",
            trend_title,
            tr("按发现月份统计：发现数、其中已销号数和其中逾期数", "By the month found: hazards found, of which closed and of which overdue"),
            first,
        )
    });

    let strip = |id: &str, title: &str, desc: &str, st: &HazardStats, param: &str, tone: &dyn Fn(usize, &str) -> Tone| {
        svg::distribution_strip(&Distribution {
            segments: st
                .groups
                .iter()
                .enumerate()
                .filter(|(_, g)| g.tally.total > 0)
                .map(|(i, g)| Segment::new(label(g), count(g.tally.total), tone(i, &g.tally.key)).href(links.list(&format!("{param}={}", urlencode(&g.tally.key)))))
                .collect(),
            no_data: tr("暂无数据", "No data yet").into(),
            ..Distribution::new(id, title, desc)
        })
    };
    let level_title = tr("隐患等级", "Hazard level");
    let source_title = tr("隐患来源", "How hazards were found");
    let state_title = tr("闭环进度", "Where hazards stand");
    let by_level_svg = strip("c-level", level_title, tr("一般隐患与重大隐患的数量", "General and major hazards"), &by_level, "level", &|_, k| level_tone(k));
    let by_source_svg = strip("c-source", source_title, tr("按发现途径统计的隐患数", "Hazards by how they were found"), &by_source, "source", &|i, _| source_tone(i));
    let by_state_svg = strip("c-state", state_title, tr("各状态的隐患数", "Hazards in each state"), &by_state, "state", &|_, k| state_tone(k));

    let mut ranked: Vec<&Rates> = by_unit.groups.iter().filter(|g| g.tally.overdue > 0).collect();
    ranked.sort_by(|a, b| b.tally.overdue.cmp(&a.tally.overdue).then(a.label.cmp(&b.label)));
    let most_overdue = ranked
        .into_iter()
        .take(10)
        .filter_map(|g| {
            let id = unit_of(&g.tally.key)?;
            let own = own_row(g);
            let link = |h: String| if own { String::new() } else { h };
            Some(OverdueRow {
                name: unit_label(g),
                overdue: g.tally.overdue,
                open: g.tally.open,
                href_overdue: link(format!("/hazards?within={id}&overdue=true&sort=deadline")),
                href_open: link(format!("/hazards?within={id}&state=open")),
                cockpit: link(format!("/cockpit?within={id}")),
            })
        })
        .collect();

    let campaign = match s.svc.list_campaigns(&ctx).await {
        Ok(list) => match list.first() {
            Some(c) => match s.svc.campaign(&ctx, c.id).await {
                Ok(c) => Some(c),
                Err(e) => return error_page(nav(&user), &e),
            },
            None => None,
        },
        Err(e) => return error_page(nav(&user), &e),
    };
    let all_indicators = campaign.as_ref().map(|c| c.indicators.as_slice()).unwrap_or_default();
    // Targets by status, then the ones most at risk: missed first, then the
    // open ones nearest their deadline.
    let status_of = |i: &bihuan_domain::model::Indicator| i.progress.as_ref().map(|p| p.status);
    let by_status = [IndicatorStatus::Overdue, IndicatorStatus::Open, IndicatorStatus::Met].map(|st| (st, all_indicators.iter().filter(|i| status_of(i) == Some(st)).count()));
    let targets_title = tr("量化指标", "Targets");
    let indicator_strip = svg::distribution_strip(&Distribution {
        segments: by_status
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(st, n)| {
                let tone = match st {
                    IndicatorStatus::Met => Tone::Good,
                    IndicatorStatus::Open => Tone::Warning,
                    IndicatorStatus::Overdue => Tone::Bad,
                };
                Segment::new(tr(st.label_zh(), st.label_en()), *n as u64, tone).href("/campaign")
            })
            .collect(),
        no_data: tr("暂无量化指标", "No targets").into(),
        ..Distribution::new("c-targets", targets_title, tr("已达标、推进中和逾期未达标的指标数", "Targets met, in progress and missed"))
    });
    let mut at_risk: Vec<&bihuan_domain::model::Indicator> = all_indicators.iter().filter(|i| status_of(i) != Some(IndicatorStatus::Met)).collect();
    at_risk.sort_by_key(|i| (status_of(i) != Some(IndicatorStatus::Overdue), i.deadline));
    let indicators = at_risk
        .into_iter()
        .take(8)
        .map(|i| IndicatorRow {
            href: format!("/indicators/{}", i.id),
            name: i.name.clone(),
            status: i.progress.as_ref().map(|p| tr(p.status.label_zh(), p.status.label_en())).unwrap_or(""),
            status_class: i.progress.as_ref().map(|p| p.status.as_str()).unwrap_or(""),
            percent: i.progress.as_ref().and_then(|p| p.percent).map(|p| p.round().to_string()),
            deadline: i.deadline.to_string(),
        })
        .collect();
    let up = within_id.map(|_| "/cockpit".to_string());
    render(&CockpitPage {
        nav: nav(&user),
        flash: None,
        scope_name,
        up,
        today: today.to_string(),
        tiles,
        warning_tiles,
        gauges,
        by_area: Chart { title: area_title, svg: by_area_svg },
        by_unit: Chart { title: unit_title, svg: by_unit_svg },
        trend: Chart { title: trend_title, svg: trend_svg },
        by_level: Chart { title: level_title, svg: by_level_svg },
        by_source: Chart { title: source_title, svg: by_source_svg },
        by_state: Chart { title: state_title, svg: by_state_svg },
        most_overdue,
        indicator_count: all_indicators.len(),
        indicator_strip: Chart { title: targets_title, svg: indicator_strip },
        indicators,
    })
}
