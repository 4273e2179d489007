//! Server-rendered pages (Chinese). Forms post back to the server; every
//! form carries the session's CSRF token; bad input re-renders the form with
//! the messages next to it and nothing half-written.

use crate::api::{session_cookie, UnitInput};
use crate::auth::{constant_time_eq, ClientIp, PageUser};
use crate::i18n::{filters, tr, trf};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use bihuan_domain::clock::SHANGHAI;
use bihuan_domain::ids::*;
use bihuan_domain::indicator::Comparator;
use bihuan_domain::model::*;
use bihuan_domain::permission::{authorize, Permission};
use bihuan_domain::role::Role;
use bihuan_domain::unit::{EnterpriseFlag, UnitDraft, UnitKind};
use bihuan_domain::{DomainError, ErrorCode};
use bihuan_service::accounts::{NewUser, UserChange};
use bihuan_service::campaigns::NewIndicatorValue;
use bihuan_store::units::UnitFilter;
use bihuan_store::users::UserFilter;
use serde::Deserialize;
use time::OffsetDateTime;

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");

pub async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], CSS).into_response()
}

pub async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], JS).into_response()
}

pub struct Nav {
    pub display_name: String,
    pub role_label: &'static str,
    pub csrf: String,
    pub is_admin: bool,
    pub can_admin_users: bool,
    /// Government roles see the cockpit; enterprises and experts (whose own
    /// unit holds no hazards) do not.
    pub sees_cockpit: bool,
    /// This page's path and query, where the language switch returns to.
    pub here: String,
    /// The header section this page belongs to (marked as current).
    pub section: &'static str,
    /// Who is logged in: the device's drafts and outbox belong to them.
    pub user_id: String,
    /// Unread notifications, as the badge shows them ("99+" from 100).
    pub unread: String,
    /// The clock runs ahead (a demonstration): said on every page.
    pub simulated: Option<String>,
}

/// Which header section a path belongs to.
fn section_of(path: &str) -> &'static str {
    let first = path.trim_start_matches('/').split(['/', '?']).next().unwrap_or_default();
    match first {
        "" => "workbench",
        "cockpit" => "cockpit",
        "hazards" => "hazards",
        "measures" => "measures",
        "campaign" | "indicators" => "campaign",
        "units" => "units",
        "users" => "users",
        "audit" => "audit",
        "account" => "account",
        "warnings" | "channels" | "deliveries" => "warnings",
        "circulars" => "circulars",
        "inbox" => "inbox",
        _ => "",
    }
}

pub struct Flash {
    pub kind: &'static str,
    pub text: String,
}

pub(crate) fn nav(u: &PageUser) -> Option<Nav> {
    let me = &u.0;
    let role = me.actor.role;
    Some(Nav {
        display_name: me.user.display_name.clone(),
        role_label: tr(role.label_zh(), role.label_en()),
        csrf: me.csrf().to_string(),
        is_admin: role == Role::Admin,
        can_admin_users: matches!(role, Role::Admin | Role::Office | Role::Locality | Role::Enterprise),
        sees_cockpit: !matches!(role, Role::Enterprise | Role::Expert),
        section: section_of(&crate::request_path()),
        user_id: me.user.id.to_string(),
        here: crate::return_path(),
        unread: match u.1 {
            0 => String::new(),
            n if n >= bihuan_service::warning_views::UNREAD_CAP => "99+".into(),
            n => n.to_string(),
        },
        simulated: crate::CLOCK_OFFSET.get().and_then(|o| *o).map(|o| crate::i18n::trf(format!("模拟时间：时钟前移 {o}，预警和期限按此计算"), format!("Simulated time: the clock runs {o} ahead; warnings and deadlines follow it"))),
    })
}

pub(crate) fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    heading: String,
    text: String,
    request_id: String,
}

/// An error as a page, with the request id.
pub(crate) fn error_page(nav: Option<Nav>, e: &DomainError) -> Response {
    let status = crate::error::status_of(e.code);
    let heading = match e.code {
        ErrorCode::NotFound => tr("未找到", "Not found"),
        ErrorCode::Forbidden | ErrorCode::CsrfFailed => tr("无法执行", "Not allowed"),
        ErrorCode::Internal => tr("出错了", "Something went wrong"),
        _ => tr("请求有误", "Bad request"),
    };
    let page = MessagePage { nav, flash: None, heading: heading.into(), text: e.message(crate::english()).to_string(), request_id: crate::request_id() };
    (status, render(&page)).into_response()
}

pub async fn not_found() -> Response {
    error_page(None, &DomainError::not_found("页面", "Page"))
}

/// A moment as Beijing time, `2021-05-10 07:30`, as every page shows it.
pub(crate) fn local_time(t: &OffsetDateTime) -> String {
    let l = t.to_offset(SHANGHAI);
    format!("{}-{:02}-{:02} {:02}:{:02}", l.year(), u8::from(l.month()), l.day(), l.hour(), l.minute())
}

fn target_text(i: &Indicator) -> String {
    match (i.comparator, i.target) {
        (Comparator::Done, _) => tr("按期完成", "Done by the deadline").to_string(),
        (c, Some(t)) => format!("{}{}{}", c.symbol(), t.normalize(), i.unit.as_deref().unwrap_or("")),
        (c, None) => c.symbol().to_string(),
    }
}

// ----------------------------------------------------------------- login

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    here: String,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

const LOGIN_CSRF: &str = "bihuan_login_csrf";

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn login_form(csrf: String, next: String, username: String, error: Option<String>, status: StatusCode) -> Response {
    let page = LoginPage { nav: None, flash: None, here: crate::return_path(), csrf: csrf.clone(), next, username, error };
    let mut res = (status, render(&page)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{LOGIN_CSRF}={csrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600")) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Only local paths, so a crafted link cannot send the user elsewhere.
fn safe_next(next: &str) -> String {
    // Visible ASCII only: browsers drop tabs and newlines from a Location,
    // so "/\t/evil.example" would become "//evil.example".
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && next.bytes().all(|b| b.is_ascii_graphic());
    if local { next.to_string() } else { "/".to_string() }
}

pub async fn login_page(Query(q): Query<NextQuery>) -> Response {
    login_form(random_token(), safe_next(q.next.as_deref().unwrap_or("/")), String::new(), None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login_submit(State(s): State<AppState>, ClientIp(ip): ClientIp, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let next = safe_next(f.next.as_deref().unwrap_or("/"));
    let cookie = crate::cookie_from(&headers, LOGIN_CSRF).unwrap_or_default();
    if cookie.is_empty() || !constant_time_eq(cookie.as_bytes(), f.csrf.as_bytes()) {
        return login_form(random_token(), next, f.username, Some(tr("页面已过期，请重新登录", "The page had expired; please log in again").into()), StatusCode::FORBIDDEN);
    }
    let ua = headers.get("user-agent").and_then(|v| v.to_str().ok());
    match s.svc.login(&f.username, &f.password, &ip, ua).await {
        Ok(out) => {
            let max_age = (out.expires_at - s.svc.now()).whole_seconds().max(0);
            let target = if out.user.must_change_password { "/account".to_string() } else { next };
            let mut res = Redirect::to(&target).into_response();
            res.headers_mut().append(header::SET_COOKIE, session_cookie(&s, &out.session_token, max_age));
            // The user's saved language follows them to every browser they log in from.
            res.headers_mut().append(header::SET_COOKIE, language_cookie(&s, &out.user.language));
            res
        }
        Err(e) => {
            let status = crate::error::status_of(e.code);
            login_form(random_token(), next, f.username, Some(e.message(crate::english()).to_string()), status)
        }
    }
}

fn language_cookie(s: &AppState, tag: &str) -> HeaderValue {
    let tag = if tag.starts_with("en") { "en-US" } else { "zh-CN" };
    let secure = if s.config.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{}={tag}; Path=/; SameSite=Lax; Max-Age=31536000{secure}", crate::i18n::LANG_COOKIE))
        .unwrap_or_else(|_| HeaderValue::from_static("bihuan_lang=zh-CN; Path=/"))
}

#[derive(Deserialize)]
pub struct LanguageForm {
    lang: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

/// Switches the language of this browser and, for a logged-in user, saves
/// it as their choice.
pub async fn switch_language(State(s): State<AppState>, user: crate::auth::MaybeUser, Form(f): Form<LanguageForm>) -> Response {
    let tag = if f.lang.starts_with("en") { "en-US" } else { "zh-CN" };
    if let Some(u) = user.0
        && u.check_csrf(&f.csrf).is_ok()
        && let Err(e) = s.svc.set_language(&u.ctx(), tag).await
    {
        tracing::warn!(error = %e.en, "saving the language");
    }
    let mut res = Redirect::to(&safe_next(&f.next)).into_response();
    res.headers_mut().append(header::SET_COOKIE, language_cookie(&s, tag));
    res
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(State(s): State<AppState>, user: PageUser, Form(f): Form<CsrfForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    if let Some(sess) = &user.0.session
        && let Err(e) = s.svc.logout(&user.0.ctx(), &sess.token_hash).await {
            return error_page(nav(&user), &e);
        }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(header::SET_COOKIE, session_cookie(&s, "", 0));
    res
}

// ----------------------------------------------------------------- home

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    title: String,
    today: time::Date,
    campaigns: Vec<CampaignSummary>,
    campaign: Option<Campaign>,
}

#[derive(Deserialize)]
pub struct HomeQuery {
    campaign: Option<String>,
}

pub async fn home(State(s): State<AppState>, user: PageUser, Query(q): Query<HomeQuery>) -> Response {
    let ctx = user.0.ctx();
    let campaigns = match s.svc.list_campaigns(&ctx).await {
        Ok(c) => c,
        Err(e) => return error_page(nav(&user), &e),
    };
    let chosen = q.campaign.as_deref().and_then(CampaignId::parse).or_else(|| campaigns.first().map(|c| c.id));
    let campaign = match chosen {
        Some(id) => match s.svc.campaign(&ctx, id).await {
            Ok(c) => Some(c),
            Err(e) => return error_page(nav(&user), &e),
        },
        None => None,
    };
    let title = campaign.as_ref().map(|c| c.summary.title.clone()).unwrap_or_else(|| tr("专项行动", "Campaign").into());
    render(&HomePage { nav: nav(&user), flash: None, title, today: s.svc.today(), campaigns, campaign })
}

// ------------------------------------------------------------ indicators

#[derive(Default, Deserialize)]
pub struct ValueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    measured_on: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    note: String,
}

#[derive(Template)]
#[template(path = "indicator.html")]
struct IndicatorPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    csrf: String,
    ind: Indicator,
    target: String,
    is_milestone: bool,
    values: Vec<IndicatorValue>,
    may_report: bool,
    form: ValueForm,
    errors: Vec<String>,
}

async fn indicator_view(s: &AppState, user: &PageUser, id: &str, form: ValueForm, errors: Vec<String>, flash: Option<Flash>) -> Response {
    let ctx = user.0.ctx();
    let Some(id) = IndicatorId::parse(id) else { return error_page(nav(user), &DomainError::not_found("指标", "Indicator")) };
    let (ind, values) = match s.svc.indicator(&ctx, id).await {
        Ok(x) => x,
        Err(e) => return error_page(nav(user), &e),
    };
    let owner = match s.svc.list_campaigns(&ctx).await {
        Ok(list) => list.into_iter().find(|c| c.id == ind.campaign_id).map(|c| c.owner_path),
        Err(e) => return error_page(nav(user), &e),
    };
    let may_report = owner.is_some_and(|o| s.svc.may_report(&ctx, &ind, &o));
    let form = if form.measured_on.is_empty() { ValueForm { measured_on: s.svc.today().to_string(), ..form } } else { form };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = IndicatorPage {
        nav: nav(user),
        flash,
        csrf: user.0.csrf().to_string(),
        target: target_text(&ind),
        is_milestone: ind.comparator == Comparator::Done,
        ind,
        values,
        may_report,
        form,
        errors,
    };
    (status, render(&page)).into_response()
}

pub async fn indicator_page(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Query(q): Query<DoneQuery>) -> Response {
    let flash = q.reported.and_then(|_| ok_flash(tr("已上报。", "Reported.")));
    indicator_view(&s, &user, &id, ValueForm::default(), Vec::new(), flash).await
}

/// What a form shows after a failed submission, and the status it comes with.
struct FormErrors {
    messages: Vec<String>,
    status: StatusCode,
}

impl FormErrors {
    fn none() -> Self {
        FormErrors { messages: Vec::new(), status: StatusCode::OK }
    }
    fn of(e: &DomainError) -> Self {
        FormErrors { messages: messages(e), status: crate::error::status_of(e.code) }
    }
}

pub(crate) fn messages(e: &DomainError) -> Vec<String> {
    let en = crate::english();
    if e.fields.is_empty() { vec![e.message(en).to_string()] } else { e.fields.iter().map(|f| if en { f.en.clone() } else { f.zh.clone() }).collect() }
}

pub async fn indicator_report(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<ValueForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let Some(iid) = IndicatorId::parse(&id) else { return error_page(nav(&user), &DomainError::not_found("指标", "Indicator")) };
    let input = NewIndicatorValue {
        value: f.value.clone(),
        measured_on: f.measured_on.clone(),
        reporting_unit_id: None,
        evidence: f.evidence.clone(),
        note: Some(f.note.clone()),
    };
    match s.svc.report_value(&user.0.ctx(), iid, &input).await {
        Ok(_) => Redirect::to(&format!("/indicators/{id}?reported=1")).into_response(),
        Err(e) if e.code == ErrorCode::Validation => indicator_view(&s, &user, &id, f, messages(&e), None).await,
        Err(e) => error_page(nav(&user), &e),
    }
}

// ------------------------------------------------------------------ units

pub struct UnitListRow {
    id: UnitId,
    name: String,
    kind: &'static str,
    depth: usize,
    active: bool,
    credit_code: String,
    principal: String,
}

#[derive(Default)]
pub struct UnitForm {
    csrf: String,
    parent_id: String,
    kind: String,
    name: String,
    short_name: String,
    locality_kind: String,
    duties: String,
    credit_code: String,
    address: String,
    industry: String,
    scale: String,
    flags: Vec<String>,
    legal_representative: String,
    legal_representative_phone: String,
    principal: String,
    principal_phone: String,
    longitude: String,
    latitude: String,
    version: String,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|x| !x.is_empty())
}

impl UnitForm {
    /// Reads the form by hand: `flags` comes once per ticked checkbox, which
    /// `axum::Form` cannot collect.
    fn parse(body: &[u8]) -> Self {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut f = UnitForm::default();
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "csrf" => &mut f.csrf,
                "parent_id" => &mut f.parent_id,
                "kind" => &mut f.kind,
                "name" => &mut f.name,
                "short_name" => &mut f.short_name,
                "locality_kind" => &mut f.locality_kind,
                "duties" => &mut f.duties,
                "credit_code" => &mut f.credit_code,
                "address" => &mut f.address,
                "industry" => &mut f.industry,
                "scale" => &mut f.scale,
                "legal_representative" => &mut f.legal_representative,
                "legal_representative_phone" => &mut f.legal_representative_phone,
                "principal" => &mut f.principal,
                "principal_phone" => &mut f.principal_phone,
                "longitude" => &mut f.longitude,
                "latitude" => &mut f.latitude,
                "version" => &mut f.version,
                "flags" => {
                    f.flags.push(v);
                    continue;
                }
                _ => continue,
            };
            *slot = v;
        }
        f
    }

    fn from_unit(u: &Unit) -> Self {
        let f = |v: &Option<String>| v.clone().unwrap_or_default();
        UnitForm {
            csrf: String::new(),
            parent_id: u.parent_id.map(|p| p.to_string()).unwrap_or_default(),
            kind: u.kind.as_str().into(),
            name: u.name.clone(),
            short_name: f(&u.short_name),
            locality_kind: u.locality_kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
            duties: f(&u.duties),
            credit_code: f(&u.credit_code),
            address: f(&u.address),
            industry: f(&u.industry),
            scale: u.scale.map(|s| s.as_str().to_string()).unwrap_or_default(),
            flags: u.flags.iter().map(|x| x.as_str().to_string()).collect(),
            legal_representative: f(&u.legal_representative),
            legal_representative_phone: f(&u.legal_representative_phone),
            principal: f(&u.principal),
            principal_phone: f(&u.principal_phone),
            longitude: u.longitude.map(|x| x.to_string()).unwrap_or_default(),
            latitude: u.latitude.map(|x| x.to_string()).unwrap_or_default(),
            version: u.version.to_string(),
        }
    }

    /// Converts to the API input; numbers that do not parse become errors.
    fn input(&self) -> Result<UnitInput, DomainError> {
        let num = |s: &str, field: &str| -> Result<Option<f64>, DomainError> {
            match opt(s) {
                None => Ok(None),
                Some(t) => t.parse::<f64>().map(Some).map_err(|_| DomainError::field(field, "坐标应为数字", "Coordinates must be numbers")),
            }
        };
        let unit = UnitDraft {
            name: self.name.clone(),
            short_name: opt(&self.short_name),
            kind: opt(&self.kind),
            locality_kind: opt(&self.locality_kind),
            duties: opt(&self.duties),
            credit_code: opt(&self.credit_code),
            address: opt(&self.address),
            industry: opt(&self.industry),
            scale: opt(&self.scale),
            flags: self.flags.clone(),
            legal_representative: opt(&self.legal_representative),
            legal_representative_phone: opt(&self.legal_representative_phone),
            principal: opt(&self.principal),
            principal_phone: opt(&self.principal_phone),
            longitude: num(&self.longitude, "longitude")?,
            latitude: num(&self.latitude, "latitude")?,
        };
        Ok(UnitInput { parent_id: opt(&self.parent_id), unit, active: None, version: self.version.trim().parse().ok() })
    }
}

fn kinds() -> Vec<(&'static str, &'static str)> {
    UnitKind::ALL.iter().map(|k| (k.as_str(), tr(k.label_zh(), k.label_en()))).collect()
}

fn locality_kinds() -> Vec<(&'static str, &'static str)> {
    use bihuan_domain::unit::LocalityKind as L;
    [L::Village, L::Community, L::DevelopmentZone, L::Park].iter().map(|k| (k.as_str(), tr(k.label_zh(), k.label_en()))).collect()
}

fn flag_choices(selected: &[String]) -> Vec<(&'static str, &'static str, bool)> {
    EnterpriseFlag::ALL.iter().map(|f| (f.as_str(), tr(f.label_zh(), f.label_en()), selected.iter().any(|s| s == f.as_str()))).collect()
}

#[derive(Template)]
#[template(path = "units.html")]
struct UnitsPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    csrf: String,
    q: String,
    kind: String,
    flag: String,
    filter_flags: Vec<(&'static str, &'static str, bool)>,
    kinds: Vec<(&'static str, &'static str)>,
    form_kinds: Vec<(&'static str, &'static str)>,
    locality_kinds: Vec<(&'static str, &'static str)>,
    flag_choices: Vec<(&'static str, &'static str, bool)>,
    units: Vec<UnitListRow>,
    next: Option<String>,
    can_create: bool,
    parents: Vec<(String, String)>,
    form: UnitForm,
    form_action: String,
    form_create: bool,
    errors: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct UnitsQuery {
    q: Option<String>,
    kind: Option<String>,
    flag: Option<String>,
    after: Option<String>,
}

async fn units_view(s: &AppState, user: &PageUser, q: UnitsQuery, form: UnitForm, errors: FormErrors) -> Response {
    let ctx = user.0.ctx();
    let filter = UnitFilter {
        kind: q.kind.as_deref().and_then(UnitKind::parse),
        q: q.q.clone().filter(|x| !x.trim().is_empty()),
        flag: q.flag.as_deref().and_then(EnterpriseFlag::parse),
        after_path: q.after.clone(),
        include_inactive: true,
        limit: 201,
        ..Default::default()
    };
    let mut units = match s.svc.list_units(&ctx, &filter).await {
        Ok(u) => u,
        Err(e) => return error_page(nav(user), &e),
    };
    let next = if units.len() > 200 {
        units.truncate(200);
        units.last().map(|u| u.path.as_str().to_string())
    } else {
        None
    };
    let base_depth = user.0.actor.scope();
    let base = match &base_depth {
        bihuan_domain::permission::Scope::All => 1,
        bihuan_domain::permission::Scope::Subtree(p) => p.depth(),
    };
    let actor = &user.0.actor;
    // Offer only the parents and kinds this user may actually create.
    let may_create = |u: &Unit, k: UnitKind| u.active && u.kind.may_contain(k) && authorize(actor, Permission::CreateUnit { parent: &u.path, kind: k }).allowed();
    let parents: Vec<(String, String)> = units
        .iter()
        .filter(|u| UnitKind::ALL.iter().any(|k| may_create(u, *k)))
        .map(|u| (u.id.to_string(), u.name.clone()))
        .collect();
    let form_kinds: Vec<(&'static str, &'static str)> =
        kinds().into_iter().filter(|(k, _)| UnitKind::parse(k).is_some_and(|k| units.iter().any(|u| may_create(u, k)))).collect();
    let rows = units
        .iter()
        .map(|u| UnitListRow {
            id: u.id,
            name: u.name.clone(),
            kind: tr(u.kind.label_zh(), u.kind.label_en()),
            depth: u.path.depth().saturating_sub(base).min(8),
            active: u.active,
            credit_code: u.credit_code.clone().unwrap_or_default(),
            principal: u.principal.clone().unwrap_or_default(),
        })
        .collect();
    let status = errors.status;
    let page = UnitsPage {
        nav: nav(user),
        flash: None,
        csrf: user.0.csrf().to_string(),
        q: q.q.unwrap_or_default(),
        kind: q.kind.unwrap_or_default(),
        filter_flags: flag_choices(q.flag.as_slice()),
        flag: q.flag.unwrap_or_default(),
        kinds: kinds(),
        form_kinds,
        locality_kinds: locality_kinds(),
        flag_choices: flag_choices(&form.flags),
        units: rows,
        next,
        can_create: !parents.is_empty(),
        parents,
        form,
        form_action: "/units".into(),
        form_create: true,
        errors: errors.messages,
    };
    (status, render(&page)).into_response()
}

pub async fn units_page(State(s): State<AppState>, user: PageUser, Query(q): Query<UnitsQuery>) -> Response {
    let form = UnitForm { kind: "enterprise".into(), ..Default::default() };
    units_view(&s, &user, q, form, FormErrors::none()).await
}

pub async fn unit_create(State(s): State<AppState>, user: PageUser, body: axum::body::Bytes) -> Response {
    let f = UnitForm::parse(&body);
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let result = match f.input() {
        Ok(input) => {
            let parent = input.parent_id.as_deref().and_then(UnitId::parse);
            s.svc.create_unit(&user.0.ctx(), parent, &input.unit).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(u) => Redirect::to(&format!("/units/{}?saved=1", u.id)).into_response(),
        Err(e) if matches!(e.code, ErrorCode::Validation | ErrorCode::Conflict | ErrorCode::Forbidden) => {
            units_view(&s, &user, UnitsQuery::default(), f, FormErrors::of(&e)).await
        }
        Err(e) => error_page(nav(&user), &e),
    }
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    csrf: String,
    unit: Unit,
    flags: Vec<&'static str>,
    locality: Option<String>,
    grid: Option<String>,
    ancestors: Vec<(String, String)>,
    children: Vec<(String, String)>,
    can_edit: bool,
    form_kinds: Vec<(&'static str, &'static str)>,
    locality_kinds: Vec<(&'static str, &'static str)>,
    flag_choices: Vec<(&'static str, &'static str, bool)>,
    parents: Vec<(String, String)>,
    form: UnitForm,
    form_action: String,
    form_create: bool,
    errors: Vec<String>,
    /// Enterprises: the statistics reports (统计分析表) received, and whether the user may record one.
    statistics: Vec<(String, String, String)>,
    can_report_statistics: bool,
    statistics_due: Vec<(String, String)>,
}

async fn unit_view(s: &AppState, user: &PageUser, id: &str, form: Option<UnitForm>, errors: FormErrors, flash: Option<Flash>) -> Response {
    let ctx = user.0.ctx();
    let Some(uid) = UnitId::parse(id) else { return error_page(nav(user), &DomainError::not_found("单位", "Unit")) };
    let unit = match s.svc.get_unit(&ctx, uid).await {
        Ok(u) => u,
        Err(e) => return error_page(nav(user), &e),
    };
    let (locality, grid) = s.svc.unit_context(&unit).await.unwrap_or((None, None));
    let actor = &user.0.actor;
    let mut ancestors = Vec::new();
    for a in unit.path.ids() {
        if a == unit.id {
            continue;
        }
        if let Ok(u) = s.svc.get_unit(&ctx, a).await {
            ancestors.push((u.id.to_string(), u.name));
        }
    }
    let children = s
        .svc
        .list_units(&ctx, &UnitFilter { parent: Some(uid), include_inactive: true, limit: 500, ..Default::default() })
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.id.to_string(), c.name))
        .collect();
    let can_edit = authorize(actor, Permission::UpdateUnit(&unit.path)).allowed();
    let form = form.unwrap_or_else(|| UnitForm::from_unit(&unit));
    let status = errors.status;
    let is_enterprise = unit.kind == bihuan_domain::unit::UnitKind::Enterprise;
    let statistics = if is_enterprise {
        s.svc.statistics_reports(&ctx, uid).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let can_report_statistics = is_enterprise
        && (matches!(actor.role, Role::Admin | Role::Office | Role::Locality | Role::Inspector) || (actor.role == Role::Enterprise && actor.unit_id == uid));
    // The periods that have ended and are not reported yet: the last four quarters and the last year.
    let today = s.svc.today();
    let (y, q) = (today.year(), (u8::from(today.month()) - 1) / 3 + 1);
    let mut periods = Vec::new();
    let (mut py, mut pq) = (y, q);
    for _ in 0..4 {
        (py, pq) = if pq == 1 { (py - 1, 4) } else { (py, pq - 1) };
        periods.push(bihuan_domain::warning::Period::Quarter(py, pq));
    }
    periods.insert(1, bihuan_domain::warning::Period::Year(y - 1));
    let statistics_due = periods
        .into_iter()
        .filter(|p| !statistics.iter().any(|r| r.period == p.key()))
        .map(|p| (p.key(), crate::i18n::trf(p.label_zh(), p.label_en())))
        .collect();
    let statistics = statistics
        .iter()
        .map(|r| {
            let label = bihuan_domain::warning::Period::parse(&r.period).map(|p| crate::i18n::trf(p.label_zh(), p.label_en())).unwrap_or(r.period.clone());
            (label, r.signed_by.clone(), format!("{} · {}", local_time(&r.submitted_at), r.submitted_by))
        })
        .collect();
    let page = UnitPage {
        statistics,
        can_report_statistics,
        statistics_due,
        nav: nav(user),
        flash,
        csrf: user.0.csrf().to_string(),
        flags: unit.flags.iter().map(|f| tr(f.label_zh(), f.label_en())).collect(),
        locality: locality.map(|l| l.name),
        grid: grid.map(|g| g.name),
        ancestors,
        children,
        can_edit,
        form_kinds: kinds(),
        locality_kinds: locality_kinds(),
        flag_choices: flag_choices(&form.flags),
        parents: Vec::new(),
        form_action: format!("/units/{}", unit.id),
        form,
        form_create: false,
        errors: errors.messages,
        unit,
    };
    (status, render(&page)).into_response()
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    saved: Option<String>,
    reported: Option<String>,
    done: Option<String>,
}

fn ok_flash(text: &str) -> Option<Flash> {
    Some(Flash { kind: "ok", text: text.to_string() })
}

#[derive(Deserialize)]
pub struct StatisticsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    signed_by: String,
    #[serde(default)]
    note: String,
}

/// Records a received 统计分析表 for an enterprise.
pub async fn unit_statistics(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<StatisticsForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let Some(uid) = UnitId::parse(&id) else { return error_page(nav(&user), &DomainError::not_found("单位", "Unit")) };
    match s.svc.submit_statistics_report(&user.0.ctx(), uid, &f.period, &f.signed_by, Some(&f.note)).await {
        Ok(_) => Redirect::to(&format!("/units/{uid}?done=statistics")).into_response(),
        Err(e) if matches!(e.code, ErrorCode::Validation | ErrorCode::Conflict) => {
            let errors = FormErrors { messages: messages(&e), status: crate::error::status_of(e.code) };
            unit_view(&s, &user, &id, None, errors, None).await
        }
        Err(e) => error_page(nav(&user), &e),
    }
}

pub async fn unit_page(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Query(q): Query<DoneQuery>) -> Response {
    let flash = match q.done.as_deref() {
        Some("statistics") => ok_flash(tr("统计分析表已登记。", "The statistics report is recorded.")),
        _ => q.saved.and_then(|_| ok_flash(tr("已保存。", "Saved."))),
    };
    unit_view(&s, &user, &id, None, FormErrors::none(), flash).await
}

pub async fn unit_update(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let f = UnitForm::parse(&body);
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let Some(uid) = UnitId::parse(&id) else { return error_page(nav(&user), &DomainError::not_found("单位", "Unit")) };
    let result = match f.input() {
        Ok(input) => s.svc.update_unit(&user.0.ctx(), uid, &input.unit, input.version, None).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(u) => Redirect::to(&format!("/units/{}?saved=1", u.id)).into_response(),
        Err(e) if matches!(e.code, ErrorCode::Validation | ErrorCode::Conflict | ErrorCode::Forbidden) => {
            unit_view(&s, &user, &id, Some(f), FormErrors::of(&e), None).await
        }
        Err(e) => error_page(nav(&user), &e),
    }
}

// ------------------------------------------------------------------ users

pub struct UserListRow {
    id: UserId,
    username: String,
    display_name: String,
    role: &'static str,
    unit_name: String,
    active: bool,
    version: i64,
    manageable: bool,
}

#[derive(Default, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    csrf: String,
    users: Vec<UserListRow>,
    can_create: bool,
    roles: Vec<(&'static str, &'static str)>,
    unit_choices: Vec<(String, String)>,
    form: UserForm,
    errors: Vec<String>,
}

/// The units the user sees, and the roles and units they may give a user.
async fn user_choices(s: &AppState, user: &PageUser) -> (Vec<Unit>, Vec<(&'static str, &'static str)>, Vec<(String, String)>) {
    let actor = &user.0.actor;
    let units = s.svc.list_units(&user.0.ctx(), &UnitFilter { limit: 1000, ..Default::default() }).await.unwrap_or_default();
    let roles: Vec<(&'static str, &'static str)> = Role::ALL
        .iter()
        .filter(|r| units.iter().any(|u| authorize(actor, Permission::ManageUser { unit: &u.path, role: **r }).allowed()))
        .map(|r| (r.as_str(), tr(r.label_zh(), r.label_en())))
        .collect();
    let unit_choices: Vec<(String, String)> = units
        .iter()
        .filter(|u| Role::ALL.iter().any(|r| authorize(actor, Permission::ManageUser { unit: &u.path, role: *r }).allowed()))
        .map(|u| (u.id.to_string(), u.name.clone()))
        .collect();
    (units, roles, unit_choices)
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    csrf: String,
    u: User,
    roles: Vec<(&'static str, &'static str)>,
    unit_choices: Vec<(String, String)>,
    errors: Vec<String>,
}

async fn user_view(s: &AppState, user: &PageUser, id: &str, errors: FormErrors, flash: Option<Flash>) -> Response {
    let Some(uid) = UserId::parse(id) else { return error_page(nav(user), &DomainError::not_found("用户", "User")) };
    let u = match s.svc.get_user(&user.0.ctx(), uid).await {
        Ok(u) => u,
        Err(e) => return error_page(nav(user), &e),
    };
    let (units, mut roles, mut unit_choices) = user_choices(s, user).await;
    // The current role and unit are always among the choices, so saving
    // the phone alone changes nothing else.
    if !roles.iter().any(|(k, _)| *k == u.role.as_str()) {
        roles.insert(0, (u.role.as_str(), tr(u.role.label_zh(), u.role.label_en())));
    }
    if !unit_choices.iter().any(|(k, _)| *k == u.unit_id.to_string()) {
        let name = units.iter().find(|x| x.id == u.unit_id).map(|x| x.name.clone()).unwrap_or_else(|| u.unit_id.to_string());
        unit_choices.insert(0, (u.unit_id.to_string(), name));
    }
    let page = UserPage { nav: nav(user), flash, csrf: user.0.csrf().to_string(), u, roles, unit_choices, errors: errors.messages };
    (errors.status, render(&page)).into_response()
}

pub async fn user_page(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Query(q): Query<UsersQuery>) -> Response {
    let flash = match (q.reset, q.saved) {
        (Some(_), _) => ok_flash(tr("已重置密码：该用户的登录已全部退出，下次登录须先修改密码。", "Password reset: the user is logged out everywhere and must change it at the next login.")),
        (_, Some(_)) => ok_flash(tr("已保存。", "Saved.")),
        _ => None,
    };
    user_view(&s, &user, &id, FormErrors::none(), flash).await
}

async fn users_view(s: &AppState, user: &PageUser, form: UserForm, errors: FormErrors, flash: Option<Flash>) -> Response {
    let ctx = user.0.ctx();
    let actor = &user.0.actor;
    let list = match s.svc.list_users(&ctx, &UserFilter { limit: 1000, ..Default::default() }).await {
        Ok(l) => l,
        Err(e) => return error_page(nav(user), &e),
    };
    let (units, roles, unit_choices) = user_choices(s, user).await;
    let rows = list
        .into_iter()
        .map(|(u, unit_name)| {
            let manageable = units
                .iter()
                .find(|x| x.id == u.unit_id)
                .is_some_and(|x| authorize(actor, Permission::ManageUser { unit: &x.path, role: u.role }).allowed())
                && u.id != actor.user_id;
            UserListRow {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                role: tr(u.role.label_zh(), u.role.label_en()),
                unit_name,
                active: u.active,
                version: u.version,
                manageable,
            }
        })
        .collect();
    let status = errors.status;
    let page = UsersPage {
        nav: nav(user),
        flash,
        csrf: user.0.csrf().to_string(),
        users: rows,
        can_create: !roles.is_empty() && !unit_choices.is_empty(),
        roles,
        unit_choices,
        form,
        errors: errors.messages,
    };
    (status, render(&page)).into_response()
}

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    reset: Option<String>,
    saved: Option<String>,
}

pub async fn users_page(State(s): State<AppState>, user: PageUser) -> Response {
    users_view(&s, &user, UserForm::default(), FormErrors::none(), None).await
}

pub async fn user_create(State(s): State<AppState>, user: PageUser, Form(f): Form<UserForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let input = NewUser {
        username: f.username.clone(),
        display_name: f.display_name.clone(),
        unit_id: f.unit_id.clone(),
        role: f.role.clone(),
        password: f.password.clone(),
        phone: opt(&f.phone),
        email: None,
        language: None,
        must_change_password: true,
    };
    match s.svc.create_user(&user.0.ctx(), &input).await {
        Ok(_) => Redirect::to("/users").into_response(),
        Err(e) if matches!(e.code, ErrorCode::Validation | ErrorCode::Conflict | ErrorCode::Forbidden) => users_view(&s, &user, f, FormErrors::of(&e), None).await,
        Err(e) => error_page(nav(&user), &e),
    }
}

#[derive(Deserialize)]
pub struct UserUpdateForm {
    csrf: String,
    active: Option<String>,
    version: Option<i64>,
    display_name: Option<String>,
    role: Option<String>,
    unit_id: Option<String>,
    phone: Option<String>,
}

pub async fn user_update(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<UserUpdateForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let Some(uid) = UserId::parse(&id) else { return error_page(nav(&user), &DomainError::not_found("用户", "User")) };
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let change = UserChange {
        active: f.active.as_deref().map(|a| a == "true"),
        display_name: given(&f.display_name),
        role: given(&f.role),
        unit_id: given(&f.unit_id),
        // An emptied phone field clears the phone.
        phone: f.phone.as_deref().map(|p| p.trim().to_string()),
        version: f.version,
        ..Default::default()
    };
    // The list's activate/deactivate comes back to the list; the user's own page to itself.
    let back = if f.display_name.is_some() { format!("/users/{id}?saved=1") } else { "/users".to_string() };
    match s.svc.update_user(&user.0.ctx(), uid, &change).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(e) if matches!(e.code, ErrorCode::Validation | ErrorCode::Conflict) => user_view(&s, &user, &id, FormErrors::of(&e), None).await,
        Err(e) => error_page(nav(&user), &e),
    }
}

#[derive(Deserialize)]
pub struct PasswordResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

/// An administrator (or whoever manages the user) sets a new initial
/// password: the user's sessions end and they must change it at next login.
pub async fn user_reset_password(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<PasswordResetForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let Some(uid) = UserId::parse(&id) else { return error_page(nav(&user), &DomainError::not_found("用户", "User")) };
    match s.svc.reset_password(&user.0.ctx(), uid, &f.password).await {
        Ok(()) => Redirect::to(&format!("/users/{id}?reset=1")).into_response(),
        Err(e) if e.code == ErrorCode::Validation => user_view(&s, &user, &id, FormErrors::of(&e), None).await,
        Err(e) => error_page(nav(&user), &e),
    }
}

// ------------------------------------------------------------------ audit

pub struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    entity: String,
    request_id: String,
    change: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    action: String,
    entity_type: String,
    entries: Vec<AuditRow>,
    next: Option<i64>,
}

/// What an audit entry changed, as the page shows it: of an update only
/// the fields that differ, of a creation or a removal the fields that have
/// a value. A hazard's whole record, before and after, is some 6 KB, and a
/// page of such entries would weigh most of a megabyte on a phone; the API
/// (`/api/v1/audit`) still gives the whole records.
fn audit_change(before: Option<&str>, after: Option<&str>) -> (String, String) {
    use serde_json::Value;
    let parse = |t: Option<&str>| t.and_then(|t| serde_json::from_str::<Value>(t).ok());
    let (mut before, mut after) = (parse(before), parse(after));
    match (&mut before, &mut after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let same: Vec<String> = b.iter().filter(|(k, v)| a.get(k.as_str()) == Some(*v)).map(|(k, _)| k.clone()).collect();
            for k in &same {
                b.remove(k);
                a.remove(k);
            }
        }
        (Some(Value::Object(o)), None) | (None, Some(Value::Object(o))) => o.retain(|_, v| !v.is_null()),
        _ => {}
    }
    let pretty = |v: &Option<Value>| v.as_ref().and_then(|v| serde_json::to_string_pretty(v).ok()).unwrap_or_default();
    (pretty(&before), pretty(&after))
}

pub async fn audit_page(State(s): State<AppState>, user: PageUser, Query(q): Query<crate::api::AuditQuery>) -> Response {
    // 50 entries a page: a page of hazards' creations (1–2 KB each) stays
    // well under 200 KB.
    const PAGE: i64 = 50;
    let filter = bihuan_store::audit::AuditFilter { limit: PAGE, ..q.filter() };
    let entries = match s.svc.audit_log(&user.0.ctx(), &filter).await {
        Ok(e) => e,
        Err(e) => return error_page(nav(&user), &e),
    };
    let next = (entries.len() as i64 == PAGE).then(|| entries.last().map(|e| e.seq)).flatten();
    let rows = entries
        .iter()
        .map(|e| {
            let (before, after) = audit_change(e.before.as_deref(), e.after.as_deref());
            AuditRow {
                seq: e.seq,
                at: local_time(&e.at),
                actor: e.actor_name.clone(),
                action: e.action.clone(),
                entity: format!("{} {}", e.entity_type, e.entity_id.as_deref().unwrap_or("")),
                request_id: e.request_id.clone().unwrap_or_default(),
                change: trf(format!("修改前：\n{before}\n修改后：\n{after}"), format!("Before:\n{before}\nAfter:\n{after}")),
            }
        })
        .collect();
    render(&AuditPage {
        nav: nav(&user),
        flash: None,
        action: q.action.unwrap_or_default(),
        entity_type: q.entity_type.unwrap_or_default(),
        entries: rows,
        next,
    })
}

// ---------------------------------------------------------------- account

pub struct TokenRow {
    id: TokenId,
    name: String,
    prefix: String,
    created: String,
    last_used: String,
    expires: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    csrf: String,
    username: String,
    role: &'static str,
    unit: String,
    must_change: bool,
    tokens: Vec<TokenRow>,
    new_secret: Option<String>,
    password_errors: Vec<String>,
    token_errors: Vec<String>,
}

async fn account_view(
    s: &AppState,
    user: &PageUser,
    flash: Option<Flash>,
    new_secret: Option<String>,
    password_errors: Vec<String>,
    token_errors: Vec<String>,
) -> Response {
    let me = &user.0;
    let tokens = s.svc.tokens(me.user.id).await.unwrap_or_default();
    let unit = s.svc.get_unit(&me.ctx(), me.user.unit_id).await.map(|u| u.name).unwrap_or_default();
    let fmt = |t: &Option<OffsetDateTime>| t.as_ref().map(local_time).unwrap_or_else(|| "—".into());
    let rows = tokens
        .iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            created: local_time(&t.created_at),
            last_used: fmt(&t.last_used_at),
            expires: fmt(&t.expires_at),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let status = if password_errors.is_empty() && token_errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = AccountPage {
        nav: nav(user),
        flash,
        csrf: me.csrf().to_string(),
        username: me.user.username.clone(),
        role: tr(me.user.role.label_zh(), me.user.role.label_en()),
        unit,
        must_change: me.user.must_change_password,
        tokens: rows,
        new_secret,
        password_errors,
        token_errors,
    };
    (status, render(&page)).into_response()
}

pub async fn account_page(State(s): State<AppState>, user: PageUser, Query(q): Query<DoneQuery>) -> Response {
    let flash = match q.done.as_deref() {
        Some("password") => ok_flash(tr("密码已修改，其他设备上的登录已退出。", "Password changed; you are logged out on other devices.")),
        Some("revoked") => ok_flash(tr("令牌已吊销。", "Token revoked.")),
        _ => None,
    };
    account_view(&s, &user, flash, None, Vec::new(), Vec::new()).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
}

pub async fn account_password(State(s): State<AppState>, user: PageUser, Form(f): Form<PasswordForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let keep = user.0.session.as_ref().map(|x| x.token_hash.clone());
    match s.svc.change_password(&user.0.ctx(), &f.current_password, &f.new_password, keep.as_deref()).await {
        Ok(()) => Redirect::to("/account?done=password").into_response(),
        Err(e) if e.code == ErrorCode::Validation => account_view(&s, &user, None, None, messages(&e), Vec::new()).await,
        Err(e) => error_page(nav(&user), &e),
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    csrf: String,
    name: String,
    expires_in_days: Option<String>,
}

pub async fn account_token_create(State(s): State<AppState>, user: PageUser, Form(f): Form<TokenForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let days = match f.expires_in_days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => match d.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => return account_view(&s, &user, None, None, Vec::new(), vec![tr("有效天数应为整数", "The number of days must be a whole number").into()]).await,
        },
    };
    match s.svc.create_token(&user.0.ctx(), user.0.user.id, &f.name, days).await {
        Ok((_, secret)) => account_view(&s, &user, None, Some(secret), Vec::new(), Vec::new()).await,
        Err(e) if e.code == ErrorCode::Validation => account_view(&s, &user, None, None, Vec::new(), messages(&e)).await,
        Err(e) => error_page(nav(&user), &e),
    }
}

pub async fn account_token_revoke(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<CsrfForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let Some(tid) = TokenId::parse(&id) else { return error_page(nav(&user), &DomainError::not_found("令牌", "Token")) };
    match s.svc.revoke_token(&user.0.ctx(), tid).await {
        Ok(_) => Redirect::to("/account?done=revoked").into_response(),
        Err(e) => error_page(nav(&user), &e),
    }
}

#[cfg(test)]
mod tests {
    use super::audit_change;

    #[test]
    fn the_audit_page_shows_what_changed() {
        let before = r#"{"name":"配电箱未上锁","state":"reported","deadline":null,"version":1}"#;
        let after = r#"{"name":"配电箱未上锁","state":"assigned","deadline":"2021-05-20","version":2}"#;
        let (b, a) = audit_change(Some(before), Some(after));
        assert!(!b.contains("name") && !a.contains("name"), "unchanged fields are left out: {b} {a}");
        assert!(b.contains("\"reported\"") && b.contains("\"deadline\": null") && a.contains("\"2021-05-20\"") && a.contains("\"version\": 2"));
        // A creation: its fields with a value.
        let (b, a) = audit_change(None, Some(r#"{"name":"配电箱未上锁","deadline":null}"#));
        assert_eq!((b.as_str(), a.contains("name"), a.contains("deadline")), ("", true, false));
        // Not JSON objects: as they are.
        assert_eq!(audit_change(Some("1"), Some("[2]")), ("1".to_string(), "[\n  2\n]".to_string()));
    }
}
