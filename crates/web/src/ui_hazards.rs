//! Pages of the problem-and-hazard list: the list with filters, the report
//! form (made for a phone), and the hazard with its timeline and the
//! actions the user may take now.

use crate::i18n::{filters, tr, trf};
use crate::api_documents::Posted;
use crate::api_hazards::HazardQuery;
use crate::auth::PageUser;
use crate::ui::{error_page, messages, nav, render, Flash, Nav};
use crate::ui::local_time;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use bihuan_domain::calendar::DeadlineRule;
use bihuan_domain::hazard::*;
use bihuan_domain::ids::*;
use bihuan_domain::model::Unit;
use bihuan_domain::unit::UnitKind;
use bihuan_domain::{DomainError, ErrorCode};
use bihuan_service::attachments::{Attachment, AttachmentRole};
use bihuan_service::hazards::{ActionInput, HazardDetail, HazardItem, HazardStats, PlanInput};
use bihuan_service::idempotency::IdempotencyKey;
use bihuan_service::ledger::{ImportMode, ImportReport};
use bihuan_store::units::UnitFilter;
use serde::Deserialize;

/// "1 day", "3 days".
pub(crate) fn days_en(n: i64) -> String {
    if n == 1 { "1 day".into() } else { format!("{n} days") }
}

/// How long a hazard still open is overdue: 逾期3天, 3 days overdue.
fn overdue_text(n: i64) -> String {
    trf(format!("逾期{n}天"), format!("{} overdue", days_en(n)))
}

/// An area as a choice: its name with its campaign's title.
pub(crate) fn area_label(area: &str, campaign: &str) -> String {
    trf(format!("{area}（{campaign}）"), format!("{area} ({campaign})"))
}

/// A row of the list, ready to show.
pub struct Row {
    id: HazardId,
    code: String,
    name: String,
    unit: String,
    level: &'static str,
    major: bool,
    state: &'static str,
    state_class: &'static str,
    deadline: String,
    overdue_days: i64,
    overdue: String,
    /// Closed after the deadline: by how many days.
    late_days: i64,
    late: String,
    listed: bool,
    found: String,
}

fn row(i: &HazardItem) -> Row {
    let h = &i.hazard;
    let en = crate::english();
    let overdue_days = if h.state.is_open() { i.days_overdue } else { 0 };
    let late_days = if h.state == HazardState::Closed { i.days_overdue } else { 0 };
    Row {
        id: h.id,
        code: h.code.clone(),
        name: h.name.clone(),
        unit: h.unit.name.clone(),
        level: h.level.label(en),
        major: h.level == HazardLevel::Major,
        state: h.state.label(en),
        state_class: match h.state {
            HazardState::Closed => "met",
            HazardState::Dismissed => "",
            _ if i.overdue => "overdue",
            _ => "open",
        },
        deadline: h.deadline.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
        overdue_days,
        overdue: overdue_text(overdue_days),
        late_days,
        late: trf(format!("超期{late_days}天完成"), format!("closed {} late", days_en(late_days))),
        listed: h.is_listed(),
        found: local_time(&h.found_at),
    }
}

#[derive(Template)]
#[template(path = "hazards.html")]
struct ListPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    q: HazardQuery,
    rows: Vec<Row>,
    next: Option<String>,
    stats: Option<HazardStats>,
    states: Vec<(&'static str, &'static str)>,
    levels: Vec<(&'static str, &'static str)>,
    can_report: bool,
    error: Option<String>,
    /// The query string without `after`, for the next-page link.
    query_string: String,
    areas: Vec<(String, String)>,
    sources: Vec<(&'static str, &'static str)>,
    /// Conditions the filter bar has no control for (from a workbench or
    /// cockpit link), kept as hidden fields so that filtering again keeps them.
    kept: Vec<(&'static str, String)>,
    /// The unit the list is narrowed to, by name.
    within_name: Option<String>,
    /// The kept conditions, in words.
    conditions: Vec<String>,
    /// Several states at once (from a workbench link): value and words.
    state_extra: Option<(String, String)>,
    /// The columns a user may hide (the name always shows).
    columns: Vec<(&'static str, &'static str)>,
}

/// The rectification areas of the campaigns the user sees: (id, label);
/// the campaign is named only when there are several.
async fn campaign_areas(s: &AppState, user: &PageUser) -> Vec<(String, String)> {
    let mut areas = Vec::new();
    if let Ok(campaigns) = s.svc.list_campaigns(&user.0.ctx()).await {
        let several = campaigns.len() > 1;
        for c in campaigns {
            if let Ok(full) = s.svc.campaign(&user.0.ctx(), c.id).await {
                for a in full.areas {
                    let name = a.short_name.as_deref().unwrap_or(&a.name);
                    areas.push((a.id.to_string(), if several { area_label(name, &c.title) } else { name.to_string() }));
                }
            }
        }
    }
    areas
}

/// The choices of a vocabulary: code and label in the request's language.
pub(crate) fn options<T: Copy>(all: &[T], code: fn(T) -> &'static str, label: fn(T, bool) -> &'static str) -> Vec<(&'static str, &'static str)> {
    let en = crate::english();
    all.iter().map(|v| (code(*v), label(*v, en))).collect()
}

pub async fn hazards_page(State(s): State<AppState>, user: PageUser, Query(mut q): Query<HazardQuery>) -> Response {
    let ctx = user.0.ctx();
    let role = user.0.actor.role;
    let mut states = vec![("open", tr("未销号（全部）", "Open (all)"))];
    states.extend(options(HazardState::ALL, HazardState::as_str, HazardState::label));
    let levels = options(HazardLevel::ALL, HazardLevel::as_str, HazardLevel::label);
    let mut page = ListPage {
        nav: nav(&user),
        flash: None,
        q: HazardQuery::default(),
        rows: vec![],
        next: None,
        stats: None,
        states,
        levels,
        can_report: role != bihuan_domain::role::Role::Leader,
        error: None,
        query_string: String::new(),
        areas: campaign_areas(&s, &user).await,
        sources: options(HazardSource::ALL, HazardSource::as_str, HazardSource::label),
        kept: [
            ("within", q.within.clone()),
            ("responsible_unit_id", q.responsible_unit_id.clone()),
            ("extension_pending", q.extension_pending.map(|b| b.to_string())),
            ("assigned_by_unit_id", q.assigned_by_unit_id.clone()),
            ("found_by_unit_id", q.found_by_unit_id.clone()),
            ("hazard_type", q.hazard_type.clone()),
            ("manage_type", q.manage_type.clone()),
            ("campaign_id", q.campaign_id.clone()),
            ("deadline_from", q.deadline_from.clone()),
            ("deadline_to", q.deadline_to.clone()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.filter(|v| !v.trim().is_empty()).map(|v| (k, v)))
        .collect(),
        within_name: None,
        conditions: Vec::new(),
        state_extra: None,
        columns: vec![
            ("code", tr("编号", "Code")),
            ("unit", tr("所在单位", "Unit")),
            ("level", tr("等级", "Level")),
            ("state", tr("状态", "Status")),
            ("deadline", tr("整改期限", "Deadline")),
            ("found", tr("发现时间", "Found")),
        ],
    };
    if let Some(id) = q.within.as_deref().and_then(bihuan_domain::ids::UnitId::parse) {
        page.within_name = s.svc.get_unit(&ctx, id).await.ok().map(|u| u.name);
    }
    // A state list the select has no option for (assigned,rectifying)
    // becomes an option of its own, chosen, so filtering again keeps it.
    if let Some(st) = q.state.clone().filter(|st| st.contains(',')) {
        let names: Vec<&str> = st.split(',').filter_map(HazardState::parse).map(|x| x.label(crate::english())).collect();
        page.state_extra = Some((st, names.join(tr("、", ", "))));
    }
    // The kept conditions in words, so that the list says what it shows.
    let unit_name = |id: &str| {
        let s = s.clone();
        let ctx = ctx.clone();
        let id = bihuan_domain::ids::UnitId::parse(id);
        async move {
            match id {
                Some(id) => s.svc.get_unit(&ctx, id).await.map(|u| u.name).unwrap_or_default(),
                None => String::new(),
            }
        }
    };
    if let Some(u) = q.responsible_unit_id.as_deref() {
        page.conditions.push(format!("{}{}", tr("整改责任单位：", "Unit responsible: "), unit_name(u).await));
    }
    if let Some(u) = q.assigned_by_unit_id.as_deref() {
        page.conditions.push(format!("{}{}", tr("交办单位：", "Assigned by: "), unit_name(u).await));
    }
    if let Some(u) = q.found_by_unit_id.as_deref() {
        page.conditions.push(format!("{}{}", tr("发现单位：", "Found by: "), unit_name(u).await));
    }
    if q.extension_pending == Some(true) {
        page.conditions.push(tr("有待审批的延期申请", "An extension request awaits a decision").to_string());
    }
    if let Some((_, names)) = &page.state_extra {
        page.conditions.push(format!("{}{}", tr("状态：", "States: "), names));
    }
    let filter = match q.filter(&s, &ctx).await {
        Ok(f) => f,
        Err(e) => {
            page.error = Some(messages(&e).join(tr("；", "; ")));
            page.q = q;
            return render(&page);
        }
    };
    match (s.svc.list_hazards(&ctx, &filter).await, s.svc.hazard_stats(&ctx, &HazardFilter { after: None, ..filter.clone() }, None).await) {
        (Ok((items, next)), Ok(stats)) => {
            page.rows = items.iter().map(row).collect();
            page.next = next;
            page.stats = Some(stats);
        }
        (Err(e), _) | (_, Err(e)) => page.error = Some(messages(&e).join(tr("；", "; "))),
    }
    q.after = None;
    page.query_string = serde_urlencoded::to_string(&q).unwrap_or_default();
    page.q = q;
    if page.rows.is_empty() && page.error.is_none() {
        page.flash = None;
    }
    render(&page)
}

use bihuan_store::hazards::HazardFilter;

// ------------------------------------------------------------- the form

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    area_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    location: String,
    /// Filled by the page's script when the user shares their position.
    #[serde(default)]
    latitude: String,
    #[serde(default)]
    longitude: String,
    #[serde(default)]
    hazard_type: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    manage_type: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    found_on: String,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    rectification: String,
    /// The random key the server put in the form: sending the form again
    /// (Back, a refresh, a retried request) registers nothing twice.
    #[serde(default)]
    submission_key: String,
}

#[derive(Template)]
#[template(path = "hazard_new.html")]
struct ReportPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    csrf: String,
    form: ReportForm,
    units: Vec<(String, String)>,
    /// The unit list is a choice (few units) or typed (many).
    choose_unit: bool,
    areas: Vec<(String, String)>,
    types: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    errors: Vec<String>,
    today: String,
}

/// Units the user may report at, up to a limit (a select), or none when there
/// are more (a text field with the name or credit code).
async fn reportable_units(s: &AppState, user: &PageUser) -> Vec<Unit> {
    let ctx = user.0.ctx();
    let filter = UnitFilter { kind: Some(UnitKind::Enterprise), limit: 301, ..Default::default() };
    let mut units = s.svc.reportable_units(&ctx, &filter).await.unwrap_or_default();
    if units.is_empty() {
        // No enterprises in scope: the user's own unit (e.g. a department reporting about itself).
        if let Ok(u) = s.svc.get_unit(&ctx, user.0.actor.unit_id).await {
            units.push(u);
        }
    }
    units
}

async fn report_view(s: &AppState, user: &PageUser, mut form: ReportForm, errors: Vec<String>, status: axum::http::StatusCode) -> Response {
    // A form shown again after an error keeps its key (nothing was
    // registered with it); a new form gets a new one.
    if IdempotencyKey::parse(&form.submission_key).is_err() {
        form.submission_key = IdempotencyKey::generate().as_str().to_string();
    }
    let units = reportable_units(s, user).await;
    let choose_unit = units.len() <= 300;
    let areas = campaign_areas(s, user).await;
    let page = ReportPage {
        nav: nav(user),
        flash: None,
        csrf: user.0.csrf().to_string(),
        form,
        units: if choose_unit { units.into_iter().map(|u| (u.id.to_string(), u.name)).collect() } else { vec![] },
        choose_unit,
        areas,
        types: options(HazardType::ALL, HazardType::as_str, HazardType::label),
        sources: options(HazardSource::ALL, HazardSource::as_str, HazardSource::label),
        errors,
        today: s.svc.today().to_string(),
    };
    (status, render(&page)).into_response()
}

pub async fn hazard_new_page(State(s): State<AppState>, user: PageUser) -> Response {
    if user.0.actor.role == bihuan_domain::role::Role::Leader {
        return error_page(nav(&user), &DomainError::forbidden());
    }
    let form = ReportForm { level: "general".into(), manage_type: "deadline".into(), hazard_type: "other".into(), ..Default::default() };
    report_view(&s, &user, form, vec![], axum::http::StatusCode::OK).await
}

/// The unit typed or chosen: an id, a credit code or an exact name.
async fn resolve_unit(s: &AppState, user: &PageUser, text: &str) -> Result<UnitId, DomainError> {
    let t = bihuan_domain::text::normalize_width(text);
    if let Some(id) = UnitId::parse(&t) {
        return Ok(id);
    }
    if t.is_empty() {
        return Err(DomainError::field("unit_id", "请选择隐患所在单位", "Choose the unit where the hazard is"));
    }
    let found = s.svc.reportable_units(&user.0.ctx(), &UnitFilter { q: Some(t.clone()), limit: 50, ..Default::default() }).await?;
    let exact: Vec<&Unit> = found.iter().filter(|u| u.name == t || u.credit_code.as_deref() == Some(t.to_uppercase().as_str())).collect();
    match exact.as_slice() {
        [one] => Ok(one.id),
        [] => Err(DomainError::field("unit_id", format!("找不到单位“{t}”，请填写全称或统一社会信用代码"), format!("No unit '{t}'"))),
        _ => Err(DomainError::field("unit_id", format!("有多个单位名为“{t}”，请填写统一社会信用代码"), format!("Several units are named '{t}'"))),
    }
}

pub async fn hazard_create(State(s): State<AppState>, user: PageUser, posted: Posted) -> Response {
    let f: ReportForm = match posted.parse() {
        Ok(f) => f,
        Err(e) => return error_page(nav(&user), &e),
    };
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let unit = match resolve_unit(&s, &user, &f.unit).await {
        Ok(u) => u,
        Err(e) => return report_view(&s, &user, f, messages(&e), crate::error::status_of(e.code)).await,
    };
    let none_if_empty = |v: &str| Some(v.to_string()).filter(|v| !v.trim().is_empty());
    let draft = HazardDraft {
        unit_id: Some(unit.to_string()),
        area_id: none_if_empty(&f.area_id),
        name: f.name.clone(),
        description: f.description.clone(),
        location: none_if_empty(&f.location),
        latitude: none_if_empty(&f.latitude),
        longitude: none_if_empty(&f.longitude),
        hazard_type: none_if_empty(&f.hazard_type),
        source: none_if_empty(&f.source),
        level: none_if_empty(&f.level),
        manage_type: none_if_empty(&f.manage_type),
        found_on: none_if_empty(&f.found_on),
        ..Default::default()
    };
    let fixed = f.fixed.is_some().then(|| f.rectification.trim().to_string());
    if fixed.as_deref() == Some("") {
        let e = DomainError::field("rectification", "已当场整改的，请说明整改情况", "Describe how it was fixed on the spot");
        return report_view(&s, &user, f, messages(&e), crate::error::status_of(e.code)).await;
    }
    let uploads = match posted.uploads() {
        Ok(u) => u,
        Err(e) => return report_view(&s, &user, f, messages(&e), crate::error::status_of(e.code)).await,
    };
    // Forms from before submission keys (or with a mangled one) still work, unguarded.
    let key = IdempotencyKey::parse(&f.submission_key).ok();
    match s.svc.report_hazard_keyed(&user.0.ctx(), key.as_ref(), &draft, fixed.as_deref(), uploads).await {
        Ok(k) if k.replayed => Redirect::to(&format!("/hazards/{}?done=again", k.hazard.id)).into_response(),
        Ok(k) => Redirect::to(&format!("/hazards/{}?done=create", k.hazard.id)).into_response(),
        Err(e) if e.fields.iter().any(|f| f.field == "idempotency_key") => {
            // Sent before, but changed since (Back, edit, send): say so, and
            // give the form a new key, so that sending it once more registers
            // it as another hazard.
            let mut f = f;
            f.submission_key.clear();
            let msg = tr(
                "这张表单已经提交过，已登记的隐患不会重复登记；您修改了内容，如确需另行登记一条隐患，请核对后再次提交。",
                "This form was sent before, and the hazard it reported is not reported twice. You have changed it since: if you do mean to report another hazard, check the form and send it again.",
            )
            .to_string();
            report_view(&s, &user, f, vec![msg], crate::error::status_of(e.code)).await
        }
        Err(e) if matches!(e.code, ErrorCode::Validation | ErrorCode::Forbidden | ErrorCode::NotFound | ErrorCode::Conflict) => {
            report_view(&s, &user, f, messages(&e), crate::error::status_of(e.code)).await
        }
        Err(e) => error_page(nav(&user), &e),
    }
}

// ----------------------------------------------------------- the hazard

pub struct EventRow {
    at: String,
    who: String,
    what: String,
    change: String,
    comment: String,
}

fn event_label(action: &str) -> String {
    match action {
        "create" => tr("登记", "Registered").into(),
        "edit" => tr("修改", "Edited").into(),
        "plan" => tr("填写整改方案", "Rectification plan filled in").into(),
        "import" => tr("台账导入", "Imported from a ledger").into(),
        "attach" => tr("上传附件", "Attachments added").into(),
        other => HazardOp::parse(other).map(|o| tr(o.label_zh(), done_en(o)).to_string()).unwrap_or_else(|| other.to_string()),
    }
}

fn event_row(e: &HazardEvent) -> EventRow {
    let en = crate::english();
    let change = match e.from_state {
        Some(f) if f != e.to_state => format!("{} → {}", f.label(en), e.to_state.label(en)),
        None => format!("→ {}", e.to_state.label(en)),
        _ => String::new(),
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(approved) = e.data.get("approved").and_then(|a| a.as_bool()) {
        parts.push(if approved { tr("同意延期", "Extension approved").into() } else { tr("不同意延期", "Extension refused").into() });
    }
    if let Some(c) = e.comment.as_deref().map(|c| c.trim().trim_end_matches(['。', '；', ';', '.']).to_string()).filter(|c| !c.is_empty()) {
        parts.push(c);
    }
    if let Some(d) = e.data.get("deadline").and_then(|d| d.as_str()) {
        parts.push(trf(format!("整改期限 {d}"), format!("deadline {d}")));
    }
    let comment = parts.join(tr("；", "; "));
    EventRow { at: local_time(&e.at), who: e.actor_name.clone(), what: event_label(&e.action), change, comment }
}

#[derive(Template)]
#[template(path = "hazard.html")]
struct HazardPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    csrf: String,
    d: HazardDetail,
    events: Vec<EventRow>,
    can: Vec<&'static str>,
    errors: Vec<String>,
    today: String,
    plan_parts: Vec<(&'static str, &'static str, String)>,
    report_parts: Vec<(&'static str, &'static str, String)>,
    /// The funds in 万元, as the form takes them.
    funds: String,
    /// The funds to read: 0.6 万元, 6,000 yuan.
    funds_text: String,
    listing_levels: Vec<(&'static str, &'static str)>,
    photos_before: Vec<Attachment>,
    photos_after: Vec<Attachment>,
    documents: Vec<Attachment>,
    /// What the user typed into the form that failed, to show it again.
    typed: std::collections::HashMap<String, String>,
    /// The action whose form failed (kept open).
    failed: String,
    /// Units the hazard may be assigned to (id, name).
    responsible_units: Vec<(String, String)>,
    /// The unit chosen now: the one it is assigned to, or its own.
    responsible_unit: String,
    /// Sent back at the last step: by whom, when and why.
    sent_back: Option<EventRow>,
    /// The campaign area it was reported under, by name.
    area_name: Option<String>,
    /// Its warnings not yet resolved.
    warnings: Vec<crate::ui_warnings::Row>,
}

impl HazardPage {
    fn may(&self, op: &str) -> bool {
        self.can.contains(&op)
    }

    /// Whether a 整改指令书 can be issued: a deadline, and a unit outside
    /// the hazard's own that assigned it, found it or supervises it (a
    /// hazard an enterprise found and assigned itself has no order).
    fn has_order(&self) -> bool {
        let h = &self.d.hazard;
        let outside = |u: &bihuan_domain::model::UnitRef| !u.path.is_within(&h.unit.path);
        h.deadline.is_some() && (h.assigned_by_unit.as_ref().is_some_and(outside) || outside(&h.found_by_unit) || h.listing.is_some())
    }

    /// What the user typed into `key` of the failed `action` form, or `default`.
    fn val(&self, action: &str, key: &str, default: &str) -> String {
        if self.failed == action { self.typed.get(key).cloned().unwrap_or_default() } else { default.to_string() }
    }

    fn overdue(&self) -> String {
        overdue_text(self.d.days_overdue)
    }

    /// How the deadline was given: 10个工作日, 10 working days.
    fn rule(&self, r: &DeadlineRule) -> String {
        if !crate::english() {
            return r.describe_zh();
        }
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        match *r {
            DeadlineRule::Date => "a fixed date".into(),
            DeadlineRule::CalendarDays(n) => format!("{n} calendar day{}", plural(n)),
            DeadlineRule::WorkingDays(n) => format!("{n} working day{}", plural(n)),
        }
    }

    fn required_by(&self, l: &Listing) -> String {
        let d = l.required_by;
        trf(format!("要求 {d} 前完成"), format!("to be completed by {d}"))
    }

    fn lifted_on(&self, d: &time::Date) -> String {
        trf(format!("已于 {d} 核销"), format!("lifted on {d}"))
    }

    /// What the plan still lacks: the 五到位 by name (整改措施、整改时限), the
    /// parts of a major hazard's report and plan by their messages (in
    /// English grouped: the major-hazard report (Goals, …)).
    fn gaps(&self) -> String {
        let en = crate::english();
        let (mut report, mut plan, mut out) = (Vec::new(), Vec::new(), Vec::new());
        for g in self.d.hazard.submission_gaps() {
            if let (true, Some(p)) = (en, part_en(MajorReport::PARTS.map(|(k, _, en, _)| (k, en)), &g.field, "major_report.")) {
                report.push(p);
                continue;
            }
            if let (true, Some(p)) = (en, part_en(GovernancePlan::PARTS.map(|(k, _, en, _)| (k, en)), &g.field, "plan.")) {
                plan.push(p);
                continue;
            }
            out.push(match g.field.as_str() {
                "measures" => tr("整改措施", "rectification measures").to_string(),
                "responsible_person" => tr("整改责任人", "person responsible").to_string(),
                "funds" => tr("整改资金（万元，无需资金填0）", "funds (10,000 yuan; 0 if none)").to_string(),
                "deadline" => tr("整改时限", "deadline").to_string(),
                "contingency" => tr("应急预案或整改期间的防范措施", "contingency plan or safeguards during rectification").to_string(),
                _ => tr(&g.zh, &g.en).to_string(),
            });
        }
        if !plan.is_empty() {
            out.insert(0, format!("the rectification plan ({})", plan.join(", ")));
        }
        if !report.is_empty() {
            out.insert(0, format!("the major-hazard report ({})", report.join(", ")));
        }
        out.join(tr("、", "; "))
    }
}

/// The English name of the part of a major hazard's report or plan that
/// `field` (`plan.goals`) names, from the parts' (key, English name).
fn part_en(parts: impl IntoIterator<Item = (&'static str, &'static str)>, field: &str, prefix: &str) -> Option<&'static str> {
    let key = field.strip_prefix(prefix)?;
    parts.into_iter().find(|(k, _)| *k == key).map(|(_, en)| en)
}

/// Funds in 万元 to read: 0.6 万元, 6,000 yuan.
fn funds_text(f: rust_decimal::Decimal) -> String {
    let yuan = (f * rust_decimal::Decimal::from(10_000)).normalize();
    let en = match i64::try_from(yuan) {
        Ok(n) if yuan.fract().is_zero() => crate::i18n::number(n),
        _ => yuan.to_string(),
    };
    trf(format!("{} 万元", f.normalize()), format!("{en} yuan"))
}

/// What was done, in English: the message after an action and the timeline.
fn done_en(op: HazardOp) -> &'static str {
    match op {
        HazardOp::Read => "Viewed",
        HazardOp::Edit => "Changes saved",
        HazardOp::Plan => "Rectification plan saved",
        HazardOp::Assign => "Assigned",
        HazardOp::Start => "Rectification started",
        HazardOp::Submit => "Rectification submitted for acceptance",
        HazardOp::FixOnSpot => "Fixed on the spot; submitted for acceptance",
        HazardOp::Accept => "Accepted and closed",
        HazardOp::Reject => "Sent back for rectification",
        HazardOp::Dismiss => "Dismissed",
        HazardOp::Reopen => "Reopened",
        HazardOp::RequestExtension => "Extension requested",
        HazardOp::DecideExtension => "Extension request decided",
        HazardOp::List => "Listed for supervision",
        HazardOp::Attach => "Attachments added",
    }
}

fn done_flash(done: Option<&str>) -> Option<Flash> {
    let text = match done? {
        "create" => tr("隐患已登记", "Hazard reported").to_string(),
        "again" => tr("此表单已提交过，隐患已登记，未重复登记", "This form was sent before: the hazard is reported, and not twice").to_string(),
        "plan" => tr("整改方案已保存", "Rectification plan saved").to_string(),
        "attach" => tr("附件已上传", "Attachments added").to_string(),
        op => match HazardOp::parse(op) {
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

async fn hazard_view(
    s: &AppState,
    user: &PageUser,
    id: &str,
    errors: Vec<String>,
    flash: Option<Flash>,
    status: axum::http::StatusCode,
    typed: &Posted,
) -> Response {
    let Some(hid) = HazardId::parse(id) else { return error_page(nav(user), &DomainError::not_found("隐患", "Hazard")) };
    let d = match s.svc.hazard_detail(&user.0.ctx(), hid).await {
        Ok(d) => d,
        Err(e) => return error_page(nav(user), &e),
    };
    let files = s.svc.hazard_attachments(&user.0.ctx(), hid).await.unwrap_or_default();
    let pick = |role: AttachmentRole| files.iter().filter(|a| a.role == role).cloned().collect::<Vec<_>>();
    let (photos_before, photos_after, documents) = (pick(AttachmentRole::Before), pick(AttachmentRole::After), pick(AttachmentRole::Document));
    let h = &d.hazard;
    let plan = h.plan.clone().unwrap_or_default();
    let report = h.major_report.clone().unwrap_or_default();
    let responsible_units = if d.actions.contains(&bihuan_domain::hazard::HazardOp::Assign) {
        responsible_choices(s, user, &h.unit).await
    } else {
        Vec::new()
    };
    let responsible_unit = match typed.get("responsible_unit_id") {
        "" => h.responsible_unit.as_ref().unwrap_or(&h.unit).id.to_string(),
        chosen => chosen.to_string(),
    };
    let wq = bihuan_service::warning_views::WarningQuery { hazard: Some(hid.0), ..Default::default() };
    let warnings = s.svc.list_warnings(&user.0.ctx(), &wq, None, 20, crate::english()).await.unwrap_or_default();
    let page = HazardPage {
        warnings: warnings.iter().map(crate::ui_warnings::row).collect(),
        nav: nav(user),
        flash,
        csrf: user.0.csrf().to_string(),
        events: d.events.iter().rev().map(event_row).collect(),
        can: d.actions.iter().map(|o| o.as_str()).collect(),
        errors: errors.clone(),
        today: s.svc.today().to_string(),
        plan_parts: GovernancePlan::PARTS.iter().map(|(k, zh, en, get)| (*k, tr(zh, en), get(&plan).to_string())).collect(),
        report_parts: MajorReport::PARTS.iter().map(|(k, zh, en, get)| (*k, tr(zh, en), get(&report).to_string())).collect(),
        funds: h.funds.map(|f| f.normalize().to_string()).unwrap_or_default(),
        funds_text: h.funds.map(funds_text).unwrap_or_default(),
        listing_levels: options(ListingLevel::ALL, ListingLevel::as_str, ListingLevel::label),
        photos_before,
        photos_after,
        documents,
        typed: typed.fields.iter().cloned().collect(),
        failed: typed.get("action").to_string(),
        responsible_units,
        responsible_unit,
        area_name: match h.area_id {
            Some(id) => campaign_areas(s, user).await.into_iter().find(|(k, _)| *k == id.to_string()).map(|(_, name)| name),
            None => None,
        },
        sent_back: d.events.last().filter(|e| e.action == "reject" && d.hazard.state == HazardState::Rectifying).map(event_row),
        d,
    };
    (status, render(&page)).into_response()
}

/// Whom a hazard may be assigned to (the rule: its own unit, a unit above
/// it or one below it), as the assigning user sees the units: its own unit
/// first, then those above it from the nearest, then those below it.
async fn responsible_choices(s: &AppState, user: &PageUser, unit: &bihuan_domain::model::UnitRef) -> Vec<(String, String)> {
    use bihuan_store::units::UnitFilter;
    let ctx = user.0.ctx();
    let mut out: Vec<(String, String)> = vec![(unit.id.to_string(), unit.name.clone())];
    for id in unit.path.ids().iter().rev().skip(1) {
        if let Ok(u) = s.svc.get_unit(&ctx, *id).await {
            out.push((u.id.to_string(), u.name));
        }
    }
    let below = UnitFilter { within: Some(unit.path.clone()), limit: 100, ..Default::default() };
    for u in s.svc.list_units(&ctx, &below).await.unwrap_or_default() {
        let id = u.id.to_string();
        if !out.iter().any(|(k, _)| *k == id) {
            out.push((id, u.name));
        }
    }
    out
}

pub async fn hazard_page(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Query(q): Query<DoneQuery>) -> Response {
    hazard_view(&s, &user, &id, vec![], done_flash(q.done.as_deref()), axum::http::StatusCode::OK, &Posted::default()).await
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
    comment: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    rectification: String,
    #[serde(default)]
    responsible_unit_id: String,
    #[serde(default)]
    responsible_person: String,
    #[serde(default)]
    responsible_phone: String,
    #[serde(default)]
    deadline: String,
    #[serde(default)]
    deadline_days: String,
    #[serde(default)]
    deadline_basis: String,
    #[serde(default)]
    dismiss_reason: String,
    #[serde(default)]
    duplicate_of: String,
    #[serde(default)]
    requested_deadline: String,
    #[serde(default)]
    approve: String,
    #[serde(default)]
    listing_level: String,
    #[serde(default)]
    document_number: String,
    #[serde(default)]
    required_by: String,
    #[serde(default)]
    signatory: String,
    #[serde(default)]
    requirements: String,
}

fn opt(v: &str) -> Option<String> {
    Some(v.trim().to_string()).filter(|v| !v.is_empty())
}

impl ActionForm {
    fn input(&self) -> Result<ActionInput, DomainError> {
        let days = match opt(&self.deadline_days) {
            None => None,
            Some(d) => Some(bihuan_domain::text::normalize_width(&d).parse::<u32>().map_err(|_| {
                DomainError::field("deadline_days", "天数应为整数，如 10", "The number of days must be a whole number such as 10")
            })?),
        };
        Ok(ActionInput {
            action: self.action.clone(),
            version: self.version.trim().parse().ok(),
            comment: opt(&self.comment),
            reason: opt(&self.reason),
            rectification: opt(&self.rectification),
            responsible_unit_id: opt(&self.responsible_unit_id),
            responsible_person: opt(&self.responsible_person),
            responsible_phone: opt(&self.responsible_phone),
            deadline: opt(&self.deadline),
            deadline_days: days,
            deadline_basis: opt(&self.deadline_basis),
            dismiss_reason: opt(&self.dismiss_reason),
            duplicate_of: opt(&self.duplicate_of),
            requested_deadline: opt(&self.requested_deadline),
            approve: match self.approve.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            listing_level: opt(&self.listing_level),
            document_number: opt(&self.document_number),
            required_by: opt(&self.required_by),
            signatory: opt(&self.signatory),
            requirements: opt(&self.requirements),
            ..Default::default()
        })
    }
}

/// Errors shown on the hazard's page (with the status they carry); others get an error page.
fn page_errors(e: &DomainError) -> Option<(Vec<String>, axum::http::StatusCode)> {
    matches!(e.code, ErrorCode::Validation | ErrorCode::Conflict | ErrorCode::Forbidden).then(|| (messages(e), crate::error::status_of(e.code)))
}

pub async fn hazard_act(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, posted: Posted) -> Response {
    let f: ActionForm = match posted.parse() {
        Ok(f) => f,
        Err(e) => return error_page(nav(&user), &e),
    };
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let Some(hid) = HazardId::parse(&id) else { return error_page(nav(&user), &DomainError::not_found("隐患", "Hazard")) };
    let typed = &posted;
    let result = match (f.input(), posted.uploads()) {
        (Ok(input), Ok(files)) => s.svc.act_on_hazard_with_files(&user.0.ctx(), hid, &input, files).await.map(|(h, _)| h),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/hazards/{id}?done={}", f.action)).into_response(),
        Err(e) => match page_errors(&e) {
            Some((msgs, status)) => hazard_view(&s, &user, &id, msgs, None, status, typed).await,
            None => error_page(nav(&user), &e),
        },
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    measures: String,
    #[serde(default)]
    funds: String,
    #[serde(default)]
    contingency: String,
    #[serde(default)]
    responsible_person: String,
    #[serde(default)]
    status_and_cause: Option<String>,
    #[serde(default)]
    harm_and_difficulty: Option<String>,
    #[serde(default)]
    plan_summary: Option<String>,
    #[serde(default)]
    goals: Option<String>,
    #[serde(default)]
    methods: Option<String>,
    #[serde(default)]
    funds_and_materials: Option<String>,
    #[serde(default)]
    organisation: Option<String>,
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default)]
    safety_and_contingency: Option<String>,
}

pub async fn hazard_plan(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, posted: Posted) -> Response {
    let f: PlanForm = match posted.parse() {
        Ok(f) => f,
        Err(e) => return error_page(nav(&user), &e),
    };
    let mut typed = Posted { fields: posted.fields.clone(), files: Vec::new() };
    typed.fields.push(("action".into(), "plan".into()));
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let Some(hid) = HazardId::parse(&id) else { return error_page(nav(&user), &DomainError::not_found("隐患", "Hazard")) };
    let t = |v: &Option<String>| v.clone().unwrap_or_default();
    let major = f.status_and_cause.is_some();
    let input = PlanInput {
        version: f.version.trim().parse().ok(),
        measures: Some(f.measures.clone()),
        funds: Some(f.funds.clone()).filter(|x| !x.trim().is_empty()),
        contingency: Some(f.contingency.clone()),
        responsible_person: Some(f.responsible_person.clone()).filter(|x| !x.trim().is_empty()),
        responsible_phone: None,
        major_report: major.then(|| MajorReport {
            status_and_cause: t(&f.status_and_cause),
            harm_and_difficulty: t(&f.harm_and_difficulty),
            plan_summary: t(&f.plan_summary),
        }),
        plan: major.then(|| GovernancePlan {
            goals: t(&f.goals),
            methods: t(&f.methods),
            funds_and_materials: t(&f.funds_and_materials),
            organisation: t(&f.organisation),
            schedule: t(&f.schedule),
            safety_and_contingency: t(&f.safety_and_contingency),
        }),
    };
    match s.svc.plan_hazard(&user.0.ctx(), hid, &input).await {
        Ok(_) => Redirect::to(&format!("/hazards/{id}?done=plan")).into_response(),
        Err(e) => match page_errors(&e) {
            Some((msgs, status)) => hazard_view(&s, &user, &id, msgs, None, status, &typed).await,
            None => error_page(nav(&user), &e),
        },
    }
}

/// Files added from the hazard's page.
pub async fn hazard_attach(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, posted: Posted) -> Response {
    if let Err(e) = user.0.check_csrf(posted.get("csrf")) {
        return error_page(nav(&user), &e.0);
    }
    let Some(hid) = HazardId::parse(&id) else { return error_page(nav(&user), &DomainError::not_found("隐患", "Hazard")) };
    let comment = Some(posted.get("comment").trim().to_string()).filter(|c| !c.is_empty());
    let result = match posted.uploads() {
        Ok(files) => s.svc.attach_to_hazard(&user.0.ctx(), hid, files, comment).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/hazards/{id}?done=attach")).into_response(),
        Err(e) => match page_errors(&e) {
            Some((msgs, status)) => hazard_view(&s, &user, &id, msgs, None, status, &posted).await,
            None => error_page(nav(&user), &e),
        },
    }
}

// ------------------------------------------------------------ the import

#[derive(Template)]
#[template(path = "hazard_import.html")]
struct ImportPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    csrf: String,
    report: Option<ImportReport>,
    errors: Vec<String>,
}

impl ImportPage {
    fn status_label(&self, r: &bihuan_service::ledger::ImportRowReport) -> &'static str {
        use bihuan_service::ledger::RowStatus::*;
        match r.status {
            Valid => tr("可导入", "Valid"),
            Created => tr("已导入", "Imported"),
            AlreadyImported => tr("已存在，跳过", "Already there, skipped"),
            Invalid => tr("有错误", "Has errors"),
            Skipped => tr("空行，跳过", "Empty, skipped"),
        }
    }

    /// Where the table was found and which columns were read.
    fn layout(&self, r: &ImportReport) -> String {
        let (sheet, row, sep) = (&r.sheet, r.header_row, tr("、", ", "));
        let columns = r.columns.join(sep);
        let mut text = trf(format!("工作表“{sheet}”，表头在第 {row} 行；识别的列：{columns}"), format!("Sheet “{sheet}”, header on row {row}; columns read: {columns}"));
        if !r.unknown_headers.is_empty() {
            let unused = r.unknown_headers.join(sep);
            text.push_str(&trf(format!("；未使用的列：{unused}"), format!("; columns not used: {unused}")));
        }
        text
    }
}

pub async fn import_page(user: PageUser) -> Response {
    if user.0.actor.role == bihuan_domain::role::Role::Leader {
        return error_page(nav(&user), &DomainError::forbidden());
    }
    render(&ImportPage { nav: nav(&user), flash: None, csrf: user.0.csrf().to_string(), report: None, errors: vec![] })
}

pub async fn import_submit(State(s): State<AppState>, user: PageUser, posted: Posted) -> Response {
    if user.0.actor.role == bihuan_domain::role::Role::Leader {
        return error_page(nav(&user), &DomainError::forbidden());
    }
    if let Err(e) = user.0.check_csrf(posted.get("csrf")) {
        return error_page(nav(&user), &e.0);
    }
    let mode = ImportMode::parse(posted.get("mode")).unwrap_or(ImportMode::DryRun);
    let page = |report, errors| ImportPage { nav: nav(&user), flash: None, csrf: user.0.csrf().to_string(), report, errors };
    let Some(file) = posted.files.iter().find(|f| f.field == "file") else {
        return render(&page(None, vec![tr("请选择要导入的台账文件（Excel 或 CSV）", "Choose the ledger file to import (Excel or CSV)").into()]));
    };
    match s.svc.import_hazard_ledger(&user.0.ctx(), &file.bytes, &file.file_name, mode).await {
        Ok(r) => render(&page(Some(r), vec![])),
        Err(e) => (crate::error::status_of(e.code), render(&page(None, messages(&e)))).into_response(),
    }
}

/// A reload of a form's address (after an error was shown there) shows the hazard.
pub async fn hazard_page_again(State(s): State<AppState>, user: PageUser, Path(id): Path<String>) -> Response {
    hazard_view(&s, &user, &id, vec![], None, axum::http::StatusCode::OK, &Posted::default()).await
}
