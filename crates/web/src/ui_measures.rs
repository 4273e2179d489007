//! Pages of the measures list (制度措施清单): the list with filters, figures
//! and ledger downloads; the form that puts a measure on the list (made for
//! a phone); and the measure with its timeline, one form per action the
//! user may take now, and the edit form.

use crate::i18n::{filters, tr, trf};
use crate::api_measures::MeasureQuery;
use crate::auth::PageUser;
use crate::ui::{error_page, messages, nav, render, Flash, Nav};
use crate::ui_hazards::{area_label, days_en, options};
use crate::ui::local_time;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use bihuan_domain::ids::*;
use bihuan_domain::measure::*;
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitKind;
use bihuan_domain::{DomainError, ErrorCode};
use bihuan_service::measures::{MeasureActionInput, MeasureDetail, MeasureItem, MeasureStats};
use bihuan_service::Ctx;
use bihuan_store::measures::MeasureFilter;
use bihuan_store::units::UnitFilter;
use serde::Deserialize;
use std::collections::HashMap;

/// Who puts measures on the list: the office, lead departments (in the
/// areas they lead) and administrators.
fn may_list(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Office | Role::Department)
}

fn state_class(state: MeasureState, overdue: bool) -> &'static str {
    match state {
        MeasureState::Verified | MeasureState::Completed => "met",
        MeasureState::Cancelled => "",
        _ if overdue => "overdue",
        _ => "open",
    }
}

/// The areas of the campaigns the user sees, as (id, area, campaign);
/// for a department only the areas it leads.
async fn areas(s: &AppState, user: &PageUser, only_led: bool) -> Vec<(String, String, String)> {
    let ctx = user.0.ctx();
    let led = &user.0.actor.led_areas;
    let mut out = Vec::new();
    for c in s.svc.list_campaigns(&ctx).await.unwrap_or_default() {
        if let Ok(full) = s.svc.campaign(&ctx, c.id).await {
            for a in full.areas.into_iter().filter(|a| !only_led || led.contains(&a.id)) {
                out.push((a.id.to_string(), a.short_name.clone().unwrap_or(a.name.clone()), c.title.clone()));
            }
        }
    }
    out
}

/// The areas as choices: (id, "area（campaign）").
async fn area_options(s: &AppState, user: &PageUser, only_led: bool) -> Vec<(String, String)> {
    areas(s, user, only_led).await.into_iter().map(|(id, area, campaign)| (id, area_label(&area, &campaign))).collect()
}

// ---------------------------------------------------------------- the list

/// A row of the list, ready to show.
pub struct Row {
    id: MeasureId,
    code: String,
    title: String,
    kind: &'static str,
    unit: String,
    area: String,
    state: &'static str,
    state_class: &'static str,
    deadline: String,
    overdue_days: i64,
    overdue: String,
}

/// How long a measure still open is overdue: 逾期3天, 3 days overdue.
fn overdue_text(n: i64) -> String {
    trf(format!("逾期{n}天"), format!("{} overdue", days_en(n)))
}

fn row(i: &MeasureItem, areas: &HashMap<String, String>) -> Row {
    let m = &i.measure;
    let en = crate::english();
    let overdue_days = if m.state.is_open() { i.days_overdue } else { 0 };
    Row {
        id: m.id,
        code: m.code.clone(),
        title: m.title.clone(),
        kind: m.kind.label(en),
        unit: m.responsible_unit.name.clone(),
        area: m.area_id.and_then(|a| areas.get(&a.to_string()).cloned()).unwrap_or_default(),
        state: m.state.label(en),
        state_class: state_class(m.state, i.overdue),
        deadline: m.deadline.to_string(),
        overdue_days,
        overdue: overdue_text(overdue_days),
    }
}

#[derive(Template)]
#[template(path = "measures.html")]
struct ListPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    q: MeasureQuery,
    rows: Vec<Row>,
    next: Option<String>,
    stats: Option<MeasureStats>,
    states: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    areas: Vec<(String, String)>,
    can_create: bool,
    error: Option<String>,
    /// The query string without `after` (and without `by`, `format`), for
    /// the next-page and download links.
    query_string: String,
}

pub async fn measures_page(State(s): State<AppState>, user: PageUser, Query(mut q): Query<MeasureQuery>) -> Response {
    let ctx = user.0.ctx();
    let mut states = vec![("open", tr("未完成（全部）", "Open (all)")), ("done", tr("已完成（含已核验）", "Completed (including verified)"))];
    states.extend(options(MeasureState::ALL, MeasureState::as_str, MeasureState::label));
    let all_areas = areas(&s, &user, false).await;
    let area_names: HashMap<String, String> = all_areas.iter().map(|(id, area, _)| (id.clone(), area.clone())).collect();
    let areas = all_areas.into_iter().map(|(id, area, campaign)| (id, area_label(&area, &campaign))).collect();
    let mut page = ListPage {
        nav: nav(&user),
        flash: None,
        q: MeasureQuery::default(),
        rows: vec![],
        next: None,
        stats: None,
        states,
        kinds: options(MeasureKind::ALL, MeasureKind::as_str, MeasureKind::label),
        areas,
        can_create: may_list(user.0.actor.role),
        error: None,
        query_string: String::new(),
    };
    q.by = None;
    q.format = None;
    let filter = match q.filter(&s, &ctx).await {
        Ok(f) => f,
        Err(e) => {
            page.error = Some(messages(&e).join(tr("；", "; ")));
            page.q = q;
            return render(&page);
        }
    };
    let all = MeasureFilter { after: None, ..filter.clone() };
    match (s.svc.list_measures(&ctx, &filter).await, s.svc.measure_stats(&ctx, &all, None).await) {
        (Ok((items, next)), Ok(stats)) => {
            page.rows = items.iter().map(|i| row(i, &area_names)).collect();
            page.next = next;
            page.stats = Some(stats);
        }
        (Err(e), _) | (_, Err(e)) => page.error = Some(messages(&e).join(tr("；", "; "))),
    }
    q.after = None;
    page.query_string = serde_urlencoded::to_string(&q).unwrap_or_default();
    page.q = q;
    render(&page)
}

// ---------------------------------------------------------------- the form

/// The fields of a measure as the create and edit forms send them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct MeasureForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    area_id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    responsible_person: String,
    #[serde(default)]
    deadline: String,
}

fn opt(v: &str) -> Option<String> {
    Some(v.trim().to_string()).filter(|v| !v.is_empty())
}

impl MeasureForm {
    fn of(m: &Measure) -> MeasureForm {
        MeasureForm {
            version: m.version.to_string(),
            unit_id: m.responsible_unit.id.to_string(),
            area_id: m.area_id.map(|a| a.to_string()).unwrap_or_default(),
            kind: m.kind.as_str().to_string(),
            title: m.title.clone(),
            content: m.content.clone(),
            responsible_person: m.responsible_person.clone().unwrap_or_default(),
            deadline: m.deadline.to_string(),
            ..Default::default()
        }
    }

    fn draft(&self) -> MeasureDraft {
        MeasureDraft {
            unit_id: opt(&self.unit_id),
            area_id: opt(&self.area_id),
            kind: opt(&self.kind),
            title: self.title.clone(),
            content: self.content.clone(),
            responsible_person: opt(&self.responsible_person),
            deadline: opt(&self.deadline),
        }
    }
}

/// A group of units in the unit choice.
pub struct UnitGroup {
    label: &'static str,
    units: Vec<(String, String)>,
}

/// The units a measure may be put on the list for, grouped by kind: the
/// government bodies and localities of the user's town (an administrator:
/// of all towns). Enterprises and grids are left out of the choice (their
/// lists are their own 任务书); the API takes any unit.
///
/// A department's own scope is its unit, but it puts measures on the list
/// for units across the town in the areas it leads
/// (`bihuan_domain::measure::may_create`): its choice is read with the
/// system's eyes, limited to its town.
async fn unit_options(s: &AppState, user: &PageUser) -> Vec<UnitGroup> {
    let a = &user.0.actor;
    let ctx = if a.role == Role::Department { Ctx::system("measure-form") } else { user.0.ctx() };
    let within = (a.role != Role::Admin).then(|| a.jurisdiction.clone());
    let mut out = Vec::new();
    for kind in [UnitKind::Government, UnitKind::Committee, UnitKind::Office, UnitKind::Department, UnitKind::Locality] {
        let filter = UnitFilter { kind: Some(kind), within: within.clone(), limit: 500, ..Default::default() };
        let units = s.svc.list_units(&ctx, &filter).await.unwrap_or_default();
        if !units.is_empty() {
            out.push(UnitGroup { label: tr(kind.label_zh(), kind.label_en()), units: units.into_iter().map(|u| (u.id.to_string(), u.name)).collect() });
        }
    }
    out
}

#[derive(Template)]
#[template(path = "measure_new.html")]
struct NewPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    csrf: String,
    form: MeasureForm,
    units: Vec<UnitGroup>,
    areas: Vec<(String, String)>,
    /// A lead department names the area it leads.
    area_required: bool,
    kinds: Vec<(&'static str, &'static str)>,
    errors: Vec<String>,
    today: String,
}

async fn new_view(s: &AppState, user: &PageUser, form: MeasureForm, errors: Vec<String>, status: StatusCode) -> Response {
    let department = user.0.actor.role == Role::Department;
    let page = NewPage {
        nav: nav(user),
        flash: None,
        csrf: user.0.csrf().to_string(),
        form,
        units: unit_options(s, user).await,
        areas: area_options(s, user, department).await,
        area_required: department,
        kinds: options(MeasureKind::ALL, MeasureKind::as_str, MeasureKind::label),
        errors,
        today: s.svc.today().to_string(),
    };
    (status, render(&page)).into_response()
}

pub async fn measure_new_page(State(s): State<AppState>, user: PageUser) -> Response {
    if !may_list(user.0.actor.role) {
        return error_page(nav(&user), &DomainError::forbidden());
    }
    let form = MeasureForm { kind: MeasureKind::Measure.as_str().into(), ..Default::default() };
    new_view(&s, &user, form, vec![], StatusCode::OK).await
}

pub async fn measure_create(State(s): State<AppState>, user: PageUser, Form(f): Form<MeasureForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    match s.svc.create_measure(&user.0.ctx(), &f.draft()).await {
        Ok(m) => Redirect::to(&format!("/measures/{}?done=create", m.id)).into_response(),
        Err(e) if matches!(e.code, ErrorCode::Validation | ErrorCode::Forbidden | ErrorCode::NotFound | ErrorCode::Conflict) => {
            new_view(&s, &user, f, messages(&e), crate::error::status_of(e.code)).await
        }
        Err(e) => error_page(nav(&user), &e),
    }
}

// ------------------------------------------------------------- the measure

pub struct EventRow {
    at: String,
    who: String,
    what: String,
    change: String,
    comment: String,
}

/// What was done, in English: the message after an action and the timeline.
fn done_en(op: MeasureOp) -> &'static str {
    match op {
        MeasureOp::Read => "Viewed",
        MeasureOp::Edit => "Changes saved",
        MeasureOp::Progress => "Progress reported",
        MeasureOp::Complete => "Completion reported",
        MeasureOp::Verify => "Verified",
        MeasureOp::SendBack => "Sent back",
        MeasureOp::Cancel => "Cancelled",
        MeasureOp::Reopen => "Reopened",
    }
}

fn event_label(action: &str) -> String {
    match action {
        "create" => tr("列入清单", "Added to the list").into(),
        other => MeasureOp::parse(other).map(|o| tr(o.label_zh(), done_en(o)).to_string()).unwrap_or_else(|| other.to_string()),
    }
}

fn event_row(e: &MeasureEvent) -> EventRow {
    let en = crate::english();
    let change = match e.from_state {
        Some(f) if f != e.to_state => format!("{} → {}", f.label(en), e.to_state.label(en)),
        None => e.to_state.label(en).to_string(),
        _ => String::new(),
    };
    let mut notes: Vec<String> = e.comment.iter().cloned().collect();
    let text = |k: &str| e.data.get(k).and_then(|v| v.as_str());
    match (text("previous_deadline"), text("deadline")) {
        (Some(p), Some(d)) if p != d => notes.push(trf(format!("完成时限由 {p} 改为 {d}"), format!("deadline changed from {p} to {d}"))),
        (None, Some(d)) if e.action == "create" => notes.push(trf(format!("完成时限 {d}"), format!("deadline {d}"))),
        _ => {}
    }
    if let (Some(p), Some(u)) = (text("previous_responsible_unit"), text("responsible_unit")) {
        notes.push(trf(format!("责任单位由 {p} 改为 {u}"), format!("responsible unit changed from {p} to {u}")));
    }
    if e.data.get("evidence_updated").and_then(|v| v.as_bool()) == Some(true) {
        notes.push(tr("更新了佐证材料", "evidence updated").into());
    }
    if let Some(days) = e.data.get("days_overdue").and_then(|v| v.as_i64()).filter(|d| *d > 0) {
        notes.push(trf(format!("逾期{days}天完成"), format!("completed {} late", days_en(days))));
    }
    EventRow { at: local_time(&e.at), who: e.actor_name.clone(), what: event_label(&e.action), change, comment: notes.join(tr("；", "; ")) }
}

/// The edit form with its choices.
pub struct EditView {
    form: MeasureForm,
    units: Vec<UnitGroup>,
    areas: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "measure.html")]
struct MeasurePage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    csrf: String,
    d: MeasureDetail,
    events: Vec<EventRow>,
    can: Vec<&'static str>,
    errors: Vec<String>,
    today: String,
    /// Default 核验人: the user's name.
    my_name: String,
    /// When it was completed and verified (Beijing time), or empty.
    completed: String,
    verified: String,
    kinds: Vec<(&'static str, &'static str)>,
    edit: Option<EditView>,
    /// Open the edit form (after a failed edit).
    edit_open: bool,
}

impl MeasurePage {
    fn may(&self, op: &str) -> bool {
        self.can.contains(&op)
    }

    fn overdue(&self) -> String {
        overdue_text(self.d.days_overdue)
    }
}

fn done_flash(done: Option<&str>) -> Option<Flash> {
    let text = match done? {
        "create" => tr("已列入制度措施清单", "Added to the measures list").to_string(),
        "edit" => tr("修改已保存", "Changes saved").to_string(),
        op => match MeasureOp::parse(op) {
            Some(o) => trf(format!("已{}", o.label_zh()), done_en(o).to_string()),
            None => return None,
        },
    };
    Some(Flash { kind: "ok", text })
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn not_found() -> DomainError {
    DomainError::not_found("制度措施", "Measure")
}

async fn measure_view(
    s: &AppState,
    user: &PageUser,
    id: MeasureId,
    errors: Vec<String>,
    flash: Option<Flash>,
    edit_form: Option<MeasureForm>,
    status: StatusCode,
) -> Response {
    let d = match s.svc.measure_detail(&user.0.ctx(), id).await {
        Ok(d) => d,
        Err(e) => return error_page(nav(user), &e),
    };
    let can: Vec<&'static str> = d.actions.iter().map(|o| o.as_str()).collect();
    let edit_open = edit_form.is_some();
    let edit = if can.contains(&MeasureOp::Edit.as_str()) {
        let form = edit_form.unwrap_or_else(|| MeasureForm::of(&d.measure));
        let mut units = unit_options(s, user).await;
        // The current unit stays a choice even when it is not one of the
        // usual kinds (an enterprise put on the list through the API).
        let current = d.measure.responsible_unit.id.to_string();
        if !units.iter().any(|g| g.units.iter().any(|(id, _)| *id == current)) {
            units.insert(0, UnitGroup { label: tr("当前", "Current"), units: vec![(current, d.measure.responsible_unit.name.clone())] });
        }
        let mut areas = area_options(s, user, user.0.actor.role == Role::Department).await;
        if let (Some(a), Some(name)) = (d.measure.area_id, d.area_name.clone())
            && !areas.iter().any(|(id, _)| *id == a.to_string())
        {
            areas.insert(0, (a.to_string(), name));
        }
        Some(EditView { form, units, areas })
    } else {
        None
    };
    let page = MeasurePage {
        nav: nav(user),
        flash,
        csrf: user.0.csrf().to_string(),
        events: d.events.iter().rev().map(event_row).collect(),
        can,
        errors,
        today: s.svc.today().to_string(),
        my_name: user.0.user.display_name.clone(),
        completed: d.measure.completed_at.as_ref().map(local_time).unwrap_or_default(),
        verified: d.measure.verified_at.as_ref().map(local_time).unwrap_or_default(),
        kinds: options(MeasureKind::ALL, MeasureKind::as_str, MeasureKind::label),
        edit,
        edit_open,
        d,
    };
    (status, render(&page)).into_response()
}

pub async fn measure_page(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Query(q): Query<DoneQuery>) -> Response {
    let Some(mid) = MeasureId::parse(&id) else { return error_page(nav(&user), &not_found()) };
    measure_view(&s, &user, mid, vec![], done_flash(q.done.as_deref()), None, StatusCode::OK).await
}

/// One action form: every field optional, sent as text.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    verified_by: String,
    #[serde(default)]
    deadline: String,
}

impl ActionForm {
    fn input(&self) -> MeasureActionInput {
        MeasureActionInput {
            action: self.action.clone(),
            version: self.version.trim().parse().ok(),
            note: opt(&self.note),
            evidence: opt(&self.evidence),
            comment: opt(&self.comment),
            reason: opt(&self.reason),
            verified_by: opt(&self.verified_by),
            deadline: opt(&self.deadline),
        }
    }
}

/// Errors shown on the measure's page (with the status they carry); others get an error page.
fn page_errors(e: &DomainError) -> Option<(Vec<String>, StatusCode)> {
    matches!(e.code, ErrorCode::Validation | ErrorCode::Conflict | ErrorCode::Forbidden).then(|| (messages(e), crate::error::status_of(e.code)))
}

pub async fn measure_act(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<ActionForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let Some(mid) = MeasureId::parse(&id) else { return error_page(nav(&user), &not_found()) };
    match s.svc.act_on_measure(&user.0.ctx(), mid, &f.input()).await {
        Ok(_) => Redirect::to(&format!("/measures/{mid}?done={}", crate::auth::urlencode(&f.action))).into_response(),
        Err(e) => match page_errors(&e) {
            Some((msgs, status)) => measure_view(&s, &user, mid, msgs, None, None, status).await,
            None => error_page(nav(&user), &e),
        },
    }
}

pub async fn measure_edit(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<MeasureForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let Some(mid) = MeasureId::parse(&id) else { return error_page(nav(&user), &not_found()) };
    match s.svc.edit_measure(&user.0.ctx(), mid, &f.draft(), f.version.trim().parse().ok()).await {
        Ok(_) => Redirect::to(&format!("/measures/{mid}?done=edit")).into_response(),
        Err(e) => match page_errors(&e) {
            Some((msgs, status)) => measure_view(&s, &user, mid, msgs, None, Some(f), status).await,
            None => error_page(nav(&user), &e),
        },
    }
}
