//! The workbench (工作台), the first page after login: what is waiting for
//! the user, each item a link to the hazard where they act, each count a
//! link to the list behind it.

use crate::auth::PageUser;
use crate::i18n::{filters, tr};
use crate::ui::{error_page, nav, render, Flash, Nav};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use bihuan_domain::permission::Actor;
use bihuan_domain::role::Role;
use bihuan_service::hazards::HazardItem;
use bihuan_service::measures::MeasureItem;
use bihuan_service::workbench::Queue;

/// One hazard on the workbench.
pub struct WorkRow {
    pub href: String,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub state: &'static str,
    pub major: bool,
    pub listed: bool,
    pub deadline: String,
    pub days_overdue: i64,
}

impl WorkRow {
    fn of(i: &HazardItem) -> Self {
        let h = &i.hazard;
        WorkRow {
            href: format!("/hazards/{}", h.id),
            code: h.code.clone(),
            name: h.name.clone(),
            unit: h.unit.name.clone(),
            state: tr(h.state.label_zh(), h.state.label_en()),
            major: h.level == bihuan_domain::hazard::HazardLevel::Major,
            listed: h.listing.is_some(),
            deadline: h.deadline.map(|d| d.to_string()).unwrap_or_default(),
            days_overdue: if i.overdue { i.days_overdue } else { 0 },
        }
    }
}

pub struct QueueView {
    pub key: &'static str,
    pub title: &'static str,
    pub hint: &'static str,
    pub total: i64,
    pub href: String,
    pub urgent: bool,
    pub rows: Vec<WorkRow>,
}

pub struct MeasureRow {
    pub href: String,
    pub code: String,
    pub title: String,
    pub unit: String,
    pub deadline: String,
    pub days_overdue: i64,
}

impl MeasureRow {
    fn of(i: &MeasureItem) -> Self {
        let m = &i.measure;
        MeasureRow {
            href: format!("/measures/{}", m.id),
            code: m.code.clone(),
            title: m.title.clone(),
            unit: m.responsible_unit.name.clone(),
            deadline: m.deadline.to_string(),
            days_overdue: i.days_overdue,
        }
    }
}

#[derive(Template)]
#[template(path = "workbench.html")]
struct WorkbenchPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    today: String,
    unit: String,
    can_report: bool,
    open: i64,
    open_major: i64,
    overdue: i64,
    queues: Vec<QueueView>,
    overdue_measures: i64,
    measures: Vec<MeasureRow>,
    own_measures: i64,
    own_measure_rows: Vec<MeasureRow>,
    own_measures_href: String,
    warnings: Vec<crate::ui_warnings::Row>,
    warning_total: i64,
}

/// The words and the list link of a queue.
fn describe(q: Queue, actor: &Actor) -> (&'static str, &'static str, String) {
    match q {
        Queue::ToAssign if actor.role == Role::Enterprise => (
            tr("待交办", "To assign"),
            tr("本企业自查发现的一般隐患，尚未明确整改责任人和期限", "General hazards you found yourselves, with no person or deadline yet"),
            "/hazards?state=reported&source=self_inspection&level=general&sort=oldest".into(),
        ),
        Queue::ToAssign => (
            tr("待交办", "To assign"),
            tr("已登记，尚未明确责任单位、责任人和整改期限", "Registered; no responsible unit, person or deadline yet"),
            "/hazards?state=reported&sort=oldest".into(),
        ),
        Queue::ToRectify => (
            tr("待整改", "To rectify"),
            tr("交办给本单位、尚未提交整改的隐患", "Assigned to your unit and not yet handed in"),
            if actor.role == Role::Enterprise {
                "/hazards?state=assigned,rectifying&sort=deadline".into()
            } else {
                format!("/hazards?state=assigned,rectifying&responsible_unit_id={}&sort=deadline", actor.unit_id)
            },
        ),
        Queue::ToAccept if actor.role == Role::Enterprise => (
            tr("待验收", "To accept"),
            tr("本企业自查发现的一般隐患已整改，由本企业验收销号", "General hazards you found yourselves, rectified: you accept and close them"),
            "/hazards?state=submitted&source=self_inspection&level=general&sort=oldest".into(),
        ),
        Queue::ToAccept => (
            tr("待验收", "To accept"),
            tr("已提交整改，等待验收销号", "Rectification handed in, waiting for acceptance"),
            "/hazards?state=submitted&sort=oldest".into(),
        ),
        Queue::Extensions => (
            tr("延期待审批", "Extensions to decide"),
            tr("责任单位申请延长整改期限，由交办单位决定", "The responsible unit asks for more time; the assigning unit decides"),
            if matches!(actor.role, Role::Admin | Role::Office) {
                "/hazards?state=open&extension_pending=true&sort=deadline".into()
            } else {
                format!("/hazards?state=open&extension_pending=true&assigned_by_unit_id={}&sort=deadline", actor.unit_id)
            },
        ),
        Queue::Overdue => (
            tr("已逾期", "Overdue"),
            tr("超过整改期限仍未提交整改", "Past the deadline and not handed in"),
            "/hazards?overdue=true&sort=deadline".into(),
        ),
        Queue::Found => (
            tr("我发现的隐患", "Found by us"),
            tr("本单位发现、尚未销号的隐患", "Hazards your unit found that are not yet closed"),
            format!("/hazards?state=open&found_by_unit_id={}", actor.unit_id),
        ),
        Queue::Listed => (
            tr("挂牌督办", "Listed supervision"),
            tr("挂牌督办中、尚未核销的隐患", "Under listed supervision, not yet lifted"),
            "/hazards?state=open&listed=true&sort=deadline".into(),
        ),
    }
}

pub async fn workbench(State(s): State<AppState>, user: PageUser) -> Response {
    let ctx = user.0.ctx();
    let actor = &user.0.actor;
    let wb = match s.svc.workbench(&ctx).await {
        Ok(w) => w,
        Err(e) => return error_page(nav(&user), &e),
    };
    let unit = match s.svc.get_unit(&ctx, actor.unit_id).await {
        Ok(u) => u.name,
        Err(e) => return error_page(nav(&user), &e),
    };
    let overdue = wb.queues.iter().find(|q| q.queue == Queue::Overdue).map(|q| q.total).unwrap_or(0);
    let mine = bihuan_service::warning_views::WarningQuery { mine: true, ..Default::default() };
    let (warnings, warning_total) = match (
        s.svc.list_warnings(&ctx, &mine, None, bihuan_service::workbench::QUEUE_ITEMS, crate::english()).await,
        s.svc.warning_counts(&ctx, &mine).await,
    ) {
        (Ok(list), Ok(counts)) => (list.iter().map(crate::ui_warnings::row).collect(), counts.values().sum()),
        (Err(e), _) | (_, Err(e)) => return error_page(nav(&user), &e),
    };
    let queues = wb
        .queues
        .iter()
        .map(|q| {
            let (title, hint, href) = describe(q.queue, actor);
            QueueView {
                key: q.queue.as_str(),
                title,
                hint,
                total: q.total,
                href,
                urgent: matches!(q.queue, Queue::Overdue | Queue::Extensions) && q.total > 0,
                rows: q.items.iter().map(WorkRow::of).collect(),
            }
        })
        .collect();
    render(&WorkbenchPage {
        nav: nav(&user),
        flash: None,
        today: s.svc.today().to_string(),
        unit,
        can_report: actor.role != Role::Leader,
        open: wb.open,
        open_major: wb.open_major,
        overdue,
        queues,
        overdue_measures: wb.overdue_measures,
        measures: wb.measures.iter().map(MeasureRow::of).collect(),
        own_measures: wb.own_measures,
        own_measure_rows: wb.own_measure_items.iter().map(MeasureRow::of).collect(),
        own_measures_href: format!("/measures?unit_id={}&state=planned,in_progress&sort=deadline", actor.unit_id),
        warnings,
        warning_total,
    })
}
