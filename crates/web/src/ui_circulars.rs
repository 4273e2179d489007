//! Circulars (通报): the list (the office sees 已阅 n/m), the compose page
//! for overdue hazards, a circular with its items, the draft's form, issue
//! and discard, the Word file; and the same through the JSON API. Warnings
//! are chosen for a circular on the warnings page (`warnings.html`).

use crate::api_documents::disposition;
use crate::auth::{CurrentUser, PageUser};
use crate::error::{status_of, ApiResult};
use crate::i18n::{filters, tr, trf};
use crate::ui::{error_page, messages, nav, render, Flash, Nav};
use crate::ui::local_time;
use crate::ui_warnings::CsrfForm;
use crate::AppState;
use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use bihuan_domain::circular::{CircularKind, CircularState, Snapshot};
use bihuan_domain::warning::{RuleCode, WarningLevel};
use bihuan_domain::{DomainError, ErrorCode};
use bihuan_service::circulars::{CircularDetail, CircularEdit, CircularView, ComposeInput, IssueReport};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

const PAGE: i64 = 50;

/// Items listed on a circular's page; the rest are in the Word file (a
/// circular may list 1,000, too many for a phone).
const SHOWN_ITEMS: usize = 200;

fn parse_id(id: &str) -> Result<Uuid, DomainError> {
    Uuid::parse_str(id.trim()).map_err(|_| DomainError::not_found("通报", "Circular"))
}

fn kind_text(k: CircularKind) -> String {
    tr(k.label_zh(), k.label_en()).to_string()
}

fn state_text(s: CircularState) -> String {
    tr(s.label_zh(), s.label_en()).to_string()
}

fn may_compose(u: &PageUser) -> bool {
    matches!(u.0.actor.role, bihuan_domain::role::Role::Admin | bihuan_domain::role::Role::Office)
}

/// A keyset position: `nanos.uuid` of the last row shown.
fn before(s: &str) -> Option<(OffsetDateTime, Uuid)> {
    let (n, id) = s.split_once('.')?;
    Some((OffsetDateTime::from_unix_timestamp_nanos(n.parse().ok()?).ok()?, Uuid::parse_str(id).ok()?))
}

fn cursor(c: &CircularView) -> String {
    format!("{}.{}", c.created_at.unix_timestamp_nanos(), c.id)
}

/// A Word file as a download.
fn docx_response(name: &str, bytes: Vec<u8>) -> Response {
    let mut res = Response::new(Body::from(bytes));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(bihuan_service::notices::DOCX_CONTENT_TYPE));
    h.insert(header::CONTENT_DISPOSITION, disposition("attachment", name));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    res
}

// ---- the list ----

pub struct ListRow {
    pub id: String,
    pub number: String,
    pub state: String,
    pub draft: bool,
    pub title: String,
    pub kind: String,
    pub items: i64,
    pub date: String,
    /// 已阅 n/m, for those who compose.
    pub read: String,
}

fn list_row(c: &CircularView) -> ListRow {
    ListRow {
        id: c.id.to_string(),
        number: c.document_number.clone().unwrap_or_default(),
        state: state_text(c.state),
        draft: c.state == CircularState::Draft,
        title: c.title.clone(),
        kind: kind_text(c.kind),
        items: c.items,
        date: c.issued_on.map(|d| d.to_string()).unwrap_or_else(|| local_time(&c.created_at)),
        read: match (c.read, c.recipients) {
            (Some(r), Some(t)) => format!("{r}/{t}"),
            _ => String::new(),
        },
    }
}

#[derive(Template)]
#[template(path = "circulars.html")]
struct CircularsPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    errors: Vec<String>,
    rows: Vec<ListRow>,
    may_compose: bool,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    #[serde(default)]
    before: String,
    #[serde(default)]
    done: String,
}

pub async fn circulars_page(State(s): State<AppState>, user: PageUser, Query(p): Query<ListParams>) -> Response {
    let (rows, errors, next) = match s.svc.list_circulars(&user.0.ctx(), before(&p.before), PAGE + 1).await {
        Ok(mut list) => {
            let next = (list.len() as i64 > PAGE).then(|| {
                list.truncate(PAGE as usize);
                list.last().map(cursor)
            });
            (list.iter().map(list_row).collect(), Vec::new(), next.flatten())
        }
        Err(e) => (Vec::new(), messages(&e), None),
    };
    let flash = (p.done == "deleted").then(|| Flash { kind: "ok", text: tr("草稿已删除", "The draft was deleted").to_string() });
    render(&CircularsPage { nav: nav(&user), flash, errors, rows, may_compose: may_compose(&user), next })
}

// ---- composing ----

#[derive(Template)]
#[template(path = "circular_new.html")]
struct NewPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    errors: Vec<String>,
    kind: &'static str,
    /// Overdue hazards of the jurisdiction today, and whether there are more than may be listed.
    overdue: usize,
    too_many: bool,
    max: usize,
}

#[derive(Deserialize, Default)]
pub struct NewParams {
    #[serde(default)]
    kind: String,
}

async fn new_view(s: &AppState, user: &PageUser, kind: CircularKind, errors: Vec<String>, status: StatusCode) -> Response {
    let (overdue, too_many) = match s.svc.overdue_for_circular(&user.0.ctx()).await {
        Ok(n) => n,
        Err(e) => return error_page(nav(user), &e),
    };
    let page = NewPage { nav: nav(user), flash: None, errors, kind: kind.as_str(), overdue, too_many, max: bihuan_domain::circular::MAX_ITEMS };
    (status, render(&page)).into_response()
}

pub async fn circular_new_page(State(s): State<AppState>, user: PageUser, Query(p): Query<NewParams>) -> Response {
    let kind = CircularKind::parse(&p.kind).unwrap_or(CircularKind::Overdue);
    new_view(&s, &user, kind, Vec::new(), StatusCode::OK).await
}

/// The compose form: `kind`, and for warnings one `warning` per ticked box
/// (which `axum::Form` cannot collect, so the body is read by hand).
struct ComposeForm {
    csrf: String,
    kind: String,
    warnings: Vec<String>,
}

impl ComposeForm {
    fn parse(body: &[u8]) -> ComposeForm {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut f = ComposeForm { csrf: String::new(), kind: String::new(), warnings: Vec::new() };
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "kind" => f.kind = v,
                "warning" => f.warnings.push(v),
                _ => {}
            }
        }
        f
    }

    fn input(&self) -> Result<ComposeInput, DomainError> {
        let kind = CircularKind::parse(&self.kind).ok_or_else(|| DomainError::field("kind", "请选择通报的种类", "Choose what the circular reports"))?;
        let warning_ids = self
            .warnings
            .iter()
            .map(|w| Uuid::parse_str(w.trim()).map_err(|_| DomainError::not_found("预警", "Warning")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ComposeInput { kind, warning_ids })
    }
}

pub async fn circular_create(State(s): State<AppState>, user: PageUser, body: Bytes) -> Response {
    let f = ComposeForm::parse(&body);
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let kind = CircularKind::parse(&f.kind).unwrap_or(CircularKind::Overdue);
    let result = match f.input() {
        Ok(input) => s.svc.compose_circular(&user.0.ctx(), &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Redirect::to(&format!("/circulars/{}?done=composed", c.id)).into_response(),
        Err(e) if matches!(e.code, ErrorCode::Validation | ErrorCode::Conflict) => new_view(&s, &user, kind, messages(&e), status_of(e.code)).await,
        Err(e) => error_page(nav(&user), &e),
    }
}

// ---- one circular ----

pub struct ItemLine {
    pub seq: i64,
    pub link: Option<String>,
    /// Overdue: code, name, units, deadline, days, remark. Warnings: rule, subject, unit, level, first seen.
    pub cells: Vec<String>,
    pub level: String,
}

fn item_line(i: &bihuan_service::circulars::ItemView) -> ItemLine {
    match &i.snapshot {
        Snapshot::Hazard { code, name, unit, responsible_unit, deadline, days_overdue, major, listed } => {
            let units = if unit == responsible_unit { unit.clone() } else { trf(format!("{unit}／{responsible_unit}"), format!("{unit} / {responsible_unit}")) };
            let mut remark = Vec::new();
            if *major {
                remark.push(tr("重大", "major"));
            }
            if *listed {
                remark.push(tr("挂牌", "listed"));
            }
            ItemLine {
                seq: i.seq,
                link: i.hazard_id.map(|h| format!("/hazards/{h}")),
                cells: vec![code.clone(), name.clone(), units, deadline.to_string(), days_overdue.to_string(), remark.join(tr("、", ", "))],
                level: String::new(),
            }
        }
        Snapshot::Warning { rule, label, unit, level, first_seen } => ItemLine {
            seq: i.seq,
            link: i.warning_id.map(|w| format!("/warnings/{w}")),
            cells: vec![
                RuleCode::parse(rule).map(|r| tr(r.label_zh(), r.label_en()).to_string()).unwrap_or_else(|| rule.clone()),
                label.clone(),
                unit.clone(),
                WarningLevel::parse(level).map(|l| tr(l.label_zh(), l.label_en()).to_string()).unwrap_or_default(),
                first_seen.to_string(),
            ],
            level: level.clone(),
        },
    }
}

/// The draft's form as shown (the saved wording, or what was sent back with errors).
pub struct DraftForm {
    pub title: String,
    pub number_prefix: String,
    pub addressee: String,
    pub opening: String,
    pub requirements: String,
    pub cc: String,
    pub version: i64,
}

impl DraftForm {
    fn of(c: &CircularView) -> DraftForm {
        DraftForm {
            title: c.title.clone(),
            number_prefix: c.number_prefix.clone(),
            addressee: c.addressee.clone(),
            opening: c.opening.clone(),
            requirements: c.requirements.join("\n"),
            cc: c.cc.clone().unwrap_or_default(),
            version: c.version,
        }
    }
}

#[derive(Template)]
#[template(path = "circular.html")]
struct CircularPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    errors: Vec<String>,
    d: CircularDetail,
    state: String,
    kind: String,
    overdue_kind: bool,
    draft: bool,
    items: Vec<ItemLine>,
    /// Items not listed on the page (see [`SHOWN_ITEMS`]).
    more_items: usize,
    /// Unit, and when it was first read (shown to those who compose).
    recipients: Vec<(String, String)>,
    sees_reads: bool,
    read: String,
    created: String,
    form: DraftForm,
    /// Items dropped at issue, in words.
    dropped: Vec<String>,
}

/// What a page answering a form shows besides the circular.
#[derive(Default)]
struct Shown {
    errors: Vec<String>,
    flash: Option<Flash>,
    /// The draft's form as sent back (with errors).
    form: Option<DraftForm>,
    /// Items dropped at issue, in words.
    dropped: Vec<String>,
}

async fn circular_view(s: &AppState, user: &PageUser, id: Uuid, shown: Shown, status: StatusCode) -> Response {
    let Shown { errors, flash, form, dropped } = shown;
    let d = match s.svc.circular_detail(&user.0.ctx(), id).await {
        Ok(d) => d,
        Err(e) => return error_page(nav(user), &e),
    };
    let c = &d.circular;
    let sees_reads = c.read.is_some();
    let page = CircularPage {
        nav: nav(user),
        flash,
        errors,
        state: state_text(c.state),
        kind: kind_text(c.kind),
        overdue_kind: c.kind == CircularKind::Overdue,
        draft: c.state == CircularState::Draft,
        items: d.items.iter().take(SHOWN_ITEMS).map(item_line).collect(),
        more_items: d.items.len().saturating_sub(SHOWN_ITEMS),
        recipients: d
            .recipients
            .iter()
            .map(|r| (r.unit_name.clone(), r.read_at.as_ref().map(local_time).unwrap_or_default()))
            .collect(),
        sees_reads,
        read: match (c.read, c.recipients) {
            (Some(r), Some(t)) => format!("{r}/{t}"),
            _ => String::new(),
        },
        created: local_time(&c.created_at),
        form: form.unwrap_or_else(|| DraftForm::of(c)),
        dropped,
        d,
    };
    (status, render(&page)).into_response()
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

pub async fn circular_page(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Query(q): Query<Done>) -> Response {
    let id = match parse_id(&id) {
        Ok(i) => i,
        Err(e) => return error_page(nav(&user), &e),
    };
    let flash = match q.done.as_str() {
        "composed" => Some(tr("通报草稿已生成。核对内容、修改文字后即可印发；印发时编号。", "The draft is ready. Check it, edit the wording, then issue it; it is numbered when issued.")),
        "saved" => Some(tr("草稿已保存", "Draft saved")),
        _ => None,
    }
    .map(|t| Flash { kind: "ok", text: t.to_string() });
    circular_view(&s, &user, id, Shown { flash, ..Shown::default() }, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    number_prefix: String,
    #[serde(default)]
    addressee: String,
    #[serde(default)]
    opening: String,
    #[serde(default)]
    requirements: String,
    #[serde(default)]
    cc: String,
    #[serde(default)]
    version: String,
}

impl EditForm {
    fn edit(&self) -> CircularEdit {
        CircularEdit {
            title: Some(self.title.clone()),
            number_prefix: Some(self.number_prefix.clone()),
            addressee: Some(self.addressee.clone()),
            opening: Some(self.opening.clone()),
            requirements: Some(self.requirements.lines().map(str::to_string).collect()),
            cc: Some(self.cc.clone()),
            version: self.version.trim().parse().ok(),
        }
    }

    fn shown(&self) -> DraftForm {
        DraftForm {
            title: self.title.clone(),
            number_prefix: self.number_prefix.clone(),
            addressee: self.addressee.clone(),
            opening: self.opening.clone(),
            requirements: self.requirements.clone(),
            cc: self.cc.clone(),
            version: self.version.trim().parse().unwrap_or(0),
        }
    }
}

pub async fn circular_save(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<EditForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let id = match parse_id(&id) {
        Ok(i) => i,
        Err(e) => return error_page(nav(&user), &e),
    };
    match s.svc.edit_circular(&user.0.ctx(), id, &f.edit()).await {
        Ok(_) => Redirect::to(&format!("/circulars/{id}?done=saved")).into_response(),
        Err(e) if matches!(e.code, ErrorCode::Validation | ErrorCode::Conflict) => {
            circular_view(&s, &user, id, Shown { errors: messages(&e), form: Some(f.shown()), ..Shown::default() }, status_of(e.code)).await
        }
        Err(e) => error_page(nav(&user), &e),
    }
}

#[derive(Deserialize, Default)]
pub struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
}

/// Issues the draft and shows it, with what was left out and why.
pub async fn circular_issue(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<IssueForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let id = match parse_id(&id) {
        Ok(i) => i,
        Err(e) => return error_page(nav(&user), &e),
    };
    match s.svc.issue_circular(&user.0.ctx(), id, f.version.trim().parse().ok()).await {
        Ok(r) => {
            let number = r.circular.document_number.clone().unwrap_or_default();
            let (units, people) = (r.recipients, r.notified);
            let text = trf(
                format!("已印发 {number}，送达 {units} 个单位，已通知 {people} 人"),
                format!("Issued as {number}, sent to {units} units; {people} people were notified"),
            );
            circular_view(&s, &user, id, Shown { flash: Some(Flash { kind: "ok", text }), dropped: r.dropped, ..Shown::default() }, StatusCode::OK).await
        }
        Err(e) if matches!(e.code, ErrorCode::Validation | ErrorCode::Conflict) => {
            circular_view(&s, &user, id, Shown { errors: messages(&e), ..Shown::default() }, status_of(e.code)).await
        }
        Err(e) => error_page(nav(&user), &e),
    }
}

pub async fn circular_delete(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<CsrfForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let id = match parse_id(&id) {
        Ok(i) => i,
        Err(e) => return error_page(nav(&user), &e),
    };
    match s.svc.delete_circular(&user.0.ctx(), id).await {
        Ok(()) => Redirect::to("/circulars?done=deleted").into_response(),
        Err(e) if e.code == ErrorCode::Conflict => circular_view(&s, &user, id, Shown { errors: messages(&e), ..Shown::default() }, StatusCode::CONFLICT).await,
        Err(e) => error_page(nav(&user), &e),
    }
}

/// The Word file: as issued, or a preview of a draft.
pub async fn circular_docx_page(State(s): State<AppState>, user: PageUser, Path(id): Path<String>) -> Response {
    let result = match parse_id(&id) {
        Ok(id) => s.svc.circular_docx(&user.0.ctx(), id).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((name, bytes)) => docx_response(&name, bytes),
        Err(e) => error_page(nav(&user), &e),
    }
}

// ---- JSON API ----

#[derive(Serialize, utoipa::ToSchema)]
pub struct CircularPageBody {
    pub items: Vec<CircularView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Circulars the caller may read (their jurisdiction's, or sent to their unit; drafts for the office), newest first.
#[utoipa::path(get, path = "/api/v1/circulars", tag = "circulars", params(("before" = Option<String>, Query)),
    responses((status = 200, body = CircularPageBody)))]
pub async fn api_list(State(s): State<AppState>, me: CurrentUser, Query(p): Query<ListParams>) -> ApiResult<Json<CircularPageBody>> {
    let mut items = s.svc.list_circulars(&me.ctx(), before(&p.before), PAGE + 1).await?;
    let next = if items.len() as i64 > PAGE {
        items.truncate(PAGE as usize);
        items.last().map(cursor)
    } else {
        None
    };
    Ok(Json(CircularPageBody { items, next }))
}

/// Start a draft (the office, administrators): `overdue` lists the overdue hazards of the caller's jurisdiction, `warnings` the chosen warnings (at most 1,000 items).
#[utoipa::path(post, path = "/api/v1/circulars", tag = "circulars", request_body = ComposeInput,
    responses((status = 201, body = CircularView), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_create(State(s): State<AppState>, me: CurrentUser, Json(b): Json<ComposeInput>) -> ApiResult<(StatusCode, Json<CircularView>)> {
    Ok((StatusCode::CREATED, Json(s.svc.compose_circular(&me.ctx(), &b).await?)))
}

/// One circular with its items and recipients (a first read by a recipient is noted).
#[utoipa::path(get, path = "/api/v1/circulars/{id}", tag = "circulars", params(("id" = String, Path)),
    responses((status = 200, body = CircularDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_get(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<CircularDetail>> {
    Ok(Json(s.svc.circular_detail(&me.ctx(), parse_id(&id)?).await?))
}

/// Change a draft's wording; an issued circular never changes (409).
#[utoipa::path(patch, path = "/api/v1/circulars/{id}", tag = "circulars", params(("id" = String, Path)), request_body = CircularEdit,
    responses((status = 200, body = CircularView), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_patch(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>, Json(b): Json<CircularEdit>) -> ApiResult<Json<CircularView>> {
    Ok(Json(s.svc.edit_circular(&me.ctx(), parse_id(&id)?, &b).await?))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct IssueBody {
    /// The version read; a draft changed since is refused.
    pub version: Option<i64>,
}

/// Issue a draft: items whose cause is gone are dropped (and listed), the number is given, the document kept, the units concerned notified.
#[utoipa::path(post, path = "/api/v1/circulars/{id}/issue", tag = "circulars", params(("id" = String, Path)), request_body = IssueBody,
    responses((status = 200, body = IssueReport), (status = 409, body = crate::error::ErrorBody)))]
pub async fn api_issue(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>, body: Option<Json<IssueBody>>) -> ApiResult<Json<IssueReport>> {
    let version = body.and_then(|b| b.0.version);
    Ok(Json(s.svc.issue_circular(&me.ctx(), parse_id(&id)?, version).await?))
}

/// The circular as a Word file: the document kept at issue, or a preview of a draft (no number).
#[utoipa::path(get, path = "/api/v1/circulars/{id}/docx", tag = "circulars", params(("id" = String, Path)),
    responses((status = 200, description = "docx", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_docx(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Response> {
    let (name, bytes) = s.svc.circular_docx(&me.ctx(), parse_id(&id)?).await?;
    Ok(docx_response(&name, bytes))
}
