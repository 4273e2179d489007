//! Warnings (预警) and the inbox: the list with its filters, one warning
//! with its history and audience and the acknowledge form, the rules with
//! their parameters (editable by the office of the top jurisdiction), the
//! inbox; and the same through the JSON API.

use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiResult;
use crate::i18n::{filters, tr};
use crate::ui::{error_page, messages, nav, render, Flash, Nav};
use crate::ui::local_time;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use bihuan_domain::role::Role;
use bihuan_domain::warning::{RuleCode, WarningLevel, WarningState};
use bihuan_domain::DomainError;
use bihuan_service::warning_views::{WarningDetail, WarningQuery, WarningView};
use bihuan_service::warnings::{RunOptions, RunReport};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

const PAGE: i64 = 50;

fn level_text(l: &str) -> String {
    WarningLevel::parse(l).map(|l| tr(l.label_zh(), l.label_en()).to_string()).unwrap_or_default()
}

/// The query string of the list page (every field text, so a bad value is an error message, not a 400).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ListParams {
    #[serde(default)]
    level: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    mine: String,
    #[serde(default)]
    hazard: String,
    #[serde(default)]
    within: String,
    /// Keyset cursor: `rank.unix_nanos.uuid` of the last row shown.
    #[serde(default)]
    after: String,
}

impl ListParams {
    fn query(&self) -> Result<WarningQuery, DomainError> {
        let bad = |f: &str, zh: &str, en: &str| DomainError::field(f, zh, en);
        fn opt(v: &str) -> Option<&str> {
            Some(v.trim()).filter(|v| !v.is_empty())
        }
        Ok(WarningQuery {
            level: opt(&self.level)
                .map(|l| WarningLevel::parse(l).ok_or_else(|| bad("level", "预警等级不正确", "Unknown warning level")))
                .transpose()?,
            state: opt(&self.state).map(str::to_string),
            rule: opt(&self.rule).map(|r| RuleCode::parse(r).ok_or_else(|| bad("rule", "预警规则不正确", "Unknown rule"))).transpose()?,
            mine: matches!(self.mine.as_str(), "1" | "true" | "on"),
            hazard: opt(&self.hazard).map(|h| Uuid::parse_str(h).map_err(|_| bad("hazard", "隐患编号不正确", "Not a hazard id"))).transpose()?,
            within: opt(&self.within).map(|u| Uuid::parse_str(u).map_err(|_| bad("within", "单位不正确", "Not a unit id"))).transpose()?,
            since: None,
        })
    }

    fn after(&self) -> Option<(i64, OffsetDateTime, Uuid)> {
        let mut parts = self.after.splitn(3, '.');
        let rank = parts.next()?.parse().ok()?;
        let nanos: i128 = parts.next()?.parse().ok()?;
        let id = Uuid::parse_str(parts.next()?).ok()?;
        Some((rank, OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?, id))
    }
}

fn cursor(w: &WarningView) -> String {
    format!("{}.{}.{}", w.level.rank(), w.first_seen_at.unix_timestamp_nanos(), w.id)
}

pub struct Row {
    pub id: String,
    pub level: &'static str,
    pub level_label: String,
    pub rule: String,
    pub label: String,
    pub description: String,
    pub state: String,
    pub step: i64,
    pub first_seen: String,
}

pub(crate) fn row(w: &WarningView) -> Row {
    Row {
        id: w.id.to_string(),
        level: w.level.as_str(),
        level_label: tr(w.level.label_zh(), w.level.label_en()).to_string(),
        rule: tr(w.rule.label_zh(), w.rule.label_en()).to_string(),
        label: w.label.clone(),
        description: w.description.clone(),
        state: tr(w.state.label_zh(), w.state.label_en()).to_string(),
        step: w.step,
        first_seen: local_time(&w.first_seen_at),
    }
}

#[derive(Template)]
#[template(path = "warnings.html")]
struct WarningsPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    errors: Vec<String>,
    rows: Vec<Row>,
    counts: Vec<(&'static str, String, String)>,
    levels: Vec<(&'static str, String)>,
    rules: Vec<(&'static str, String)>,
    states: Vec<(&'static str, String)>,
    p: ListParams,
    next: Option<String>,
    /// The office and administrators tick warnings to compose a circular (通报).
    may_compose: bool,
}

fn may_run(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Office)
}

pub async fn warnings_page(State(s): State<AppState>, user: PageUser, Query(p): Query<ListParams>) -> Response {
    let ctx = user.0.ctx();
    let english = crate::english();
    let (rows, counts, errors, next) = match p.query() {
        Err(e) => (Vec::new(), Vec::new(), messages(&e), None),
        Ok(q) => match (s.svc.list_warnings(&ctx, &q, p.after(), PAGE + 1, english).await, s.svc.warning_counts(&ctx, &q).await) {
            (Ok(mut list), Ok(counts)) => {
                let next = (list.len() as i64 > PAGE).then(|| {
                    list.truncate(PAGE as usize);
                    list.last().map(cursor)
                });
                let counts = counts.iter().map(|(l, n)| (l.as_str(), tr(l.label_zh(), l.label_en()).to_string(), crate::i18n::number(*n))).collect();
                (list.iter().map(row).collect(), counts, Vec::new(), next.flatten())
            }
            (Err(e), _) | (_, Err(e)) => (Vec::new(), Vec::new(), messages(&e), None),
        },
    };
    let page = WarningsPage {
        nav: nav(&user),
        flash: None,
        errors,
        rows,
        counts,
        levels: WarningLevel::ALL.iter().map(|l| (l.as_str(), tr(l.label_zh(), l.label_en()).to_string())).collect(),
        rules: RuleCode::ALL.iter().map(|r| (r.as_str(), tr(r.label_zh(), r.label_en()).to_string())).collect(),
        states: WarningState::ALL
            .iter()
            .map(|st| (st.as_str(), tr(st.label_zh(), st.label_en()).to_string()))
            .chain([("all", tr("全部", "All").to_string())])
            .collect(),
        p,
        next,
        may_compose: may_run(user.0.actor.role),
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "warning.html")]
struct WarningPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    errors: Vec<String>,
    w: Row,
    d: WarningDetail,
    hazard_link: Option<String>,
    resolution: String,
    events: Vec<(String, String, String, String, String)>,
    audience: Vec<(String, String, i64)>,
}

fn rung_text(rung: &str, role: &str) -> String {
    let r = bihuan_domain::warning::Rung::parse(rung).map(|r| tr(r.label_zh(), r.label_en()).to_string()).unwrap_or_default();
    match role {
        "office" => format!("{r}（{}）", tr("安委办", "safety office")),
        "leader" => format!("{r}（{}）", tr("领导", "leaders")),
        _ => r,
    }
}

fn event_text(kind: &str) -> &'static str {
    match kind {
        "opened" => tr("发出预警", "Raised"),
        "reopened" => tr("再次出现", "Raised again"),
        "escalated" => tr("逐级升级", "Escalated"),
        "level_changed" => tr("等级变化", "Level changed"),
        "acknowledged" => tr("已知悉", "Acknowledged"),
        "resolved" => tr("自动解除", "Resolved"),
        _ => "",
    }
}

async fn warning_view(s: &AppState, user: &PageUser, id: Uuid, errors: Vec<String>, flash: Option<Flash>, status: StatusCode) -> Response {
    let d = match s.svc.warning_detail(&user.0.ctx(), id, crate::english()).await {
        Ok(d) => d,
        Err(e) => return error_page(nav(user), &e),
    };
    let hazard_link = d.warning.hazard_id.map(|h| format!("/hazards/{h}"));
    let resolution = match d.warning.resolution.as_deref().and_then(bihuan_domain::warning::Resolution::parse) {
        Some(r) => format!(" · {}", tr(r.label_zh(), r.label_en())),
        None => String::new(),
    };
    let events = d
        .events
        .iter()
        .map(|e| (local_time(&e.at), event_text(&e.kind).to_string(), level_text(&e.to_level), e.actor.clone(), e.comment.clone().unwrap_or_default()))
        .collect();
    let audience = d.audience.iter().map(|a| (a.unit_name.clone(), rung_text(&a.rung, &a.role), a.from_step)).collect();
    let page = WarningPage { nav: nav(user), flash, errors, w: row(&d.warning), hazard_link, resolution, events, audience, d };
    (status, render(&page)).into_response()
}

fn parse_id(id: &str) -> Result<Uuid, DomainError> {
    Uuid::parse_str(id).map_err(|_| DomainError::not_found("预警", "Warning"))
}

pub async fn warning_page(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Query(q): Query<Done>) -> Response {
    let id = match parse_id(&id) {
        Ok(i) => i,
        Err(e) => return error_page(nav(&user), &e),
    };
    let flash = q.done.as_deref().map(|_| Flash { kind: "ok", text: tr("已知悉", "Acknowledged").to_string() });
    warning_view(&s, &user, id, Vec::new(), flash, StatusCode::OK).await
}

/// `?done=…` after a form succeeded: which confirmation to show.
#[derive(Deserialize, Default)]
pub struct Done {
    pub(crate) done: Option<String>,
}

#[derive(Deserialize)]
pub struct AckForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    version: String,
}

pub async fn warning_acknowledge(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<AckForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let id = match parse_id(&id) {
        Ok(i) => i,
        Err(e) => return error_page(nav(&user), &e),
    };
    match s.svc.acknowledge_warning(&user.0.ctx(), id, Some(&f.comment), f.version.trim().parse().ok()).await {
        Ok(_) => Redirect::to(&format!("/warnings/{id}?done=ack")).into_response(),
        Err(e) if matches!(e.code, bihuan_domain::ErrorCode::Validation | bihuan_domain::ErrorCode::Conflict) => {
            warning_view(&s, &user, id, messages(&e), None, crate::error::status_of(e.code)).await
        }
        Err(e) => error_page(nav(&user), &e),
    }
}

pub struct RuleLine {
    pub code: String,
    pub name: String,
    pub enabled: bool,
    pub params: String,
    pub source: String,
    pub tag: String,
    pub version: i64,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "warning_rules.html")]
struct RulesPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    errors: Vec<String>,
    rules: Vec<RuleLine>,
    may_edit: bool,
    may_run: bool,
    runs: Vec<(String, String, String, String, String)>,
}

fn may_edit_rules(u: &PageUser) -> bool {
    u.0.actor.role == Role::Admin
}

async fn rules_view(s: &AppState, user: &PageUser, errors: Vec<String>, flash: Option<Flash>, status: StatusCode) -> Response {
    let rules = match s.svc.warning_rules().await {
        Ok(r) => r,
        Err(e) => return error_page(nav(user), &e),
    };
    let runs = s.svc.job_runs(10).await.unwrap_or_default();
    let page = RulesPage {
        nav: nav(user),
        flash,
        errors,
        may_edit: may_edit_rules(user),
        may_run: may_run(user.0.actor.role),
        rules: rules
            .into_iter()
            .map(|r| RuleLine {
                name: RuleCode::parse(&r.code).map(|c| tr(c.label_zh(), c.label_en()).to_string()).unwrap_or_default(),
                code: r.code,
                enabled: r.enabled,
                params: r.params_json,
                source: r.source_document,
                tag: r.source_tag,
                version: r.version,
                updated: format!("{} · {}", local_time(&r.updated_at), r.updated_by),
            })
            .collect(),
        runs: runs
            .into_iter()
            .map(|r| (local_time(&r.started_at), r.job, r.trigger, r.outcome, r.error.unwrap_or_default()))
            .collect(),
    };
    (status, render(&page)).into_response()
}

pub async fn rules_page(State(s): State<AppState>, user: PageUser, Query(q): Query<Done>) -> Response {
    let flash = q.done.as_deref().map(|d| Flash {
        kind: "ok",
        text: match d {
            "run" => tr("已完成一次评估", "The rules were evaluated").to_string(),
            _ => tr("规则已保存", "Rule saved").to_string(),
        },
    });
    rules_view(&s, &user, Vec::new(), flash, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    params: String,
    #[serde(default)]
    version: String,
}

pub async fn rule_save(State(s): State<AppState>, user: PageUser, Path(code): Path<String>, Form(f): Form<RuleForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let Some(code) = RuleCode::parse(&code) else { return error_page(nav(&user), &DomainError::not_found("预警规则", "Warning rule")) };
    let params: serde_json::Value = match serde_json::from_str(&f.params) {
        Ok(v) => v,
        Err(e) => {
            let err = DomainError::field("params", format!("参数不是有效的 JSON：{e}"), format!("The parameters are not valid JSON: {e}"));
            return rules_view(&s, &user, messages(&err), None, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let enabled = matches!(f.enabled.as_str(), "on" | "true" | "1");
    match s.svc.update_warning_rule(&user.0.ctx(), code, enabled, &params, f.version.trim().parse().unwrap_or(0)).await {
        Ok(_) => Redirect::to("/warnings/rules?done=save").into_response(),
        Err(e) if e.code != bihuan_domain::ErrorCode::Forbidden && e.code != bihuan_domain::ErrorCode::NotFound => {
            rules_view(&s, &user, messages(&e), None, crate::error::status_of(e.code)).await
        }
        Err(e) => error_page(nav(&user), &e),
    }
}

/// A form that carries nothing but its CSRF token (a button).
#[derive(Deserialize, Default)]
pub struct CsrfForm {
    #[serde(default)]
    pub(crate) csrf: String,
}

/// Runs the rules now (the office and administrators), under the same lease as the scheduler.
async fn run_now(s: &AppState, me: &CurrentUser) -> Result<RunReport, DomainError> {
    if !may_run(me.actor.role) {
        return Err(DomainError::forbidden());
    }
    let schedule = bihuan_service::jobs::Schedule::default();
    let slot = format!("manual-{}", s.svc.now().unix_timestamp());
    let node = format!("web:{}", me.user.username);
    let opts = RunOptions { trigger: "manual".into(), ..RunOptions::default() };
    match s.svc.run_job(bihuan_service::jobs::DAILY, &node, &slot, true, &schedule, &opts).await? {
        bihuan_service::jobs::JobOutcome::Ran { report, .. } => Ok(report),
        _ => Err(DomainError::conflict("另一次评估正在进行，请稍后再试", "Another evaluation is running; try again shortly")),
    }
}

pub async fn run_page(State(s): State<AppState>, user: PageUser, Form(f): Form<CsrfForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    match run_now(&s, &user.0).await {
        Ok(_) => Redirect::to("/warnings/rules?done=run").into_response(),
        Err(e) if e.code == bihuan_domain::ErrorCode::Conflict => rules_view(&s, &user, messages(&e), None, StatusCode::CONFLICT).await,
        Err(e) => error_page(nav(&user), &e),
    }
}

pub struct InboxLine {
    pub id: String,
    pub level: String,
    pub title: String,
    pub body: String,
    pub at: String,
    pub unread: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    items: Vec<InboxLine>,
    unread_only: bool,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct InboxParams {
    #[serde(default)]
    unread: String,
    #[serde(default)]
    before: String,
}

fn inbox_before(s: &str) -> Option<(OffsetDateTime, Uuid)> {
    let (n, id) = s.split_once('.')?;
    Some((OffsetDateTime::from_unix_timestamp_nanos(n.parse().ok()?).ok()?, Uuid::parse_str(id).ok()?))
}

pub async fn inbox_page(State(s): State<AppState>, user: PageUser, Query(p): Query<InboxParams>) -> Response {
    let unread_only = p.unread == "1";
    let mut items = match s.svc.inbox(&user.0.ctx(), unread_only, inbox_before(&p.before), PAGE + 1).await {
        Ok(i) => i,
        Err(e) => return error_page(nav(&user), &e),
    };
    let next = (items.len() as i64 > PAGE).then(|| {
        items.truncate(PAGE as usize);
        items.last().map(|n| format!("{}.{}", n.created_at.unix_timestamp_nanos(), n.id))
    });
    let page = InboxPage {
        nav: nav(&user),
        flash: None,
        unread_only,
        next: next.flatten(),
        items: items
            .into_iter()
            .map(|n| InboxLine {
                id: n.id.to_string(),
                level: n.level.unwrap_or_default(),
                title: n.title,
                body: n.body,
                at: local_time(&n.created_at),
                unread: n.read_at.is_none(),
            })
            .collect(),
    };
    render(&page)
}

/// Opens a notification: marks it read and goes where it leads (a link in an e-mail works too).
pub async fn inbox_open(State(s): State<AppState>, user: PageUser, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else { return error_page(nav(&user), &DomainError::not_found("通知", "Notification")) };
    match s.svc.open_notification(&user.0.ctx(), id).await {
        Ok(link) if link.starts_with('/') && !link.starts_with("//") => Redirect::to(&link).into_response(),
        Ok(_) => Redirect::to("/inbox").into_response(),
        Err(e) => error_page(nav(&user), &e),
    }
}

pub async fn inbox_read_all(State(s): State<AppState>, user: PageUser, Form(f): Form<CsrfForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    match s.svc.mark_notifications_read(&user.0.ctx(), None).await {
        Ok(_) => Redirect::to("/inbox").into_response(),
        Err(e) => error_page(nav(&user), &e),
    }
}

// ---- JSON API ----

#[derive(Serialize, utoipa::ToSchema)]
pub struct WarningPageBody {
    pub items: Vec<WarningView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Warnings the caller sees (their scope, or addressed to their unit), most serious first.
#[utoipa::path(get, path = "/api/v1/warnings", tag = "warnings",
    params(("level" = Option<String>, Query), ("state" = Option<String>, Query, description = "open | acknowledged | resolved | all"),
           ("rule" = Option<String>, Query), ("mine" = Option<bool>, Query), ("hazard" = Option<String>, Query),
           ("within" = Option<String>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = WarningPageBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_list(State(s): State<AppState>, me: CurrentUser, Query(p): Query<ListParams>) -> ApiResult<Json<WarningPageBody>> {
    let q = p.query()?;
    let mut items = s.svc.list_warnings(&me.ctx(), &q, p.after(), PAGE + 1, crate::english()).await?;
    let next = if items.len() as i64 > PAGE {
        items.truncate(PAGE as usize);
        items.last().map(cursor)
    } else {
        None
    };
    Ok(Json(WarningPageBody { items, next }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WarningStatsBody {
    pub red: i64,
    pub orange: i64,
    pub yellow: i64,
    pub blue: i64,
    pub total: i64,
}

/// Open and acknowledged warnings by level, for the same filters as the list.
#[utoipa::path(get, path = "/api/v1/warnings/stats", tag = "warnings", responses((status = 200, body = WarningStatsBody)))]
pub async fn api_stats(State(s): State<AppState>, me: CurrentUser, Query(p): Query<ListParams>) -> ApiResult<Json<WarningStatsBody>> {
    let c = s.svc.warning_counts(&me.ctx(), &p.query()?).await?;
    let get = |l: WarningLevel| c.get(&l).copied().unwrap_or(0);
    Ok(Json(WarningStatsBody {
        red: get(WarningLevel::Red),
        orange: get(WarningLevel::Orange),
        yellow: get(WarningLevel::Yellow),
        blue: get(WarningLevel::Blue),
        total: c.values().sum(),
    }))
}

/// One warning with its history and audience.
#[utoipa::path(get, path = "/api/v1/warnings/{id}", tag = "warnings", responses((status = 200, body = WarningDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_get(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<WarningDetail>> {
    Ok(Json(s.svc.warning_detail(&me.ctx(), parse_id(&id)?, crate::english()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AckBody {
    pub comment: Option<String>,
    pub version: Option<i64>,
}

/// Acknowledge a warning addressed to the caller's unit (a comment is required for 重大隐患未挂牌督办).
#[utoipa::path(post, path = "/api/v1/warnings/{id}/acknowledge", tag = "warnings", request_body = AckBody,
    responses((status = 200, body = WarningView), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_acknowledge(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>, Json(b): Json<AckBody>) -> ApiResult<Json<WarningView>> {
    Ok(Json(s.svc.acknowledge_warning(&me.ctx(), parse_id(&id)?, b.comment.as_deref(), b.version).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RuleBody {
    pub code: String,
    pub name: String,
    pub enabled: bool,
    pub level: String,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub source_document: String,
    pub source_tag: String,
    pub version: i64,
}

fn rule_body(r: bihuan_store::warnings::RuleRow) -> RuleBody {
    RuleBody {
        name: RuleCode::parse(&r.code).map(|c| tr(c.label_zh(), c.label_en()).to_string()).unwrap_or_default(),
        params: serde_json::from_str(&r.params_json).unwrap_or(serde_json::Value::Null),
        code: r.code,
        enabled: r.enabled,
        level: r.level,
        source_document: r.source_document,
        source_tag: r.source_tag,
        version: r.version,
    }
}

/// The warning rules with their parameters and the texts they rest on.
#[utoipa::path(get, path = "/api/v1/warning-rules", tag = "warnings", responses((status = 200, body = Vec<RuleBody>)))]
pub async fn api_rules(State(s): State<AppState>, _me: CurrentUser) -> ApiResult<Json<Vec<RuleBody>>> {
    Ok(Json(s.svc.warning_rules().await?.into_iter().map(rule_body).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RulePut {
    pub enabled: bool,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub version: i64,
}

/// Change a rule (administrators, the office of a top-level jurisdiction).
#[utoipa::path(put, path = "/api/v1/warning-rules/{code}", tag = "warnings", request_body = RulePut,
    responses((status = 200, body = RuleBody), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_put_rule(State(s): State<AppState>, me: CurrentUser, Path(code): Path<String>, Json(b): Json<RulePut>) -> ApiResult<Json<RuleBody>> {
    let code = RuleCode::parse(&code).ok_or_else(|| DomainError::not_found("预警规则", "Warning rule"))?;
    Ok(Json(rule_body(s.svc.update_warning_rule(&me.ctx(), code, b.enabled, &b.params, b.version).await?)))
}

/// Evaluate the rules now (the office, administrators).
#[utoipa::path(post, path = "/api/v1/warning-runs", tag = "warnings", responses((status = 200, body = RunReport), (status = 409, body = crate::error::ErrorBody)))]
pub async fn api_run(State(s): State<AppState>, me: CurrentUser) -> ApiResult<Json<RunReport>> {
    Ok(Json(run_now(&s, &me).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NotificationBody {
    pub id: Uuid,
    pub kind: String,
    pub level: Option<String>,
    pub title: String,
    pub body: String,
    pub link: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    pub read: bool,
}

#[derive(Deserialize, Default)]
pub struct NotificationParams {
    #[serde(default)]
    unread: bool,
}

/// The caller's notifications, newest first (the latest 200).
#[utoipa::path(get, path = "/api/v1/notifications", tag = "warnings", params(("unread" = Option<bool>, Query)), responses((status = 200, body = Vec<NotificationBody>)))]
pub async fn api_notifications(State(s): State<AppState>, me: CurrentUser, Query(p): Query<NotificationParams>) -> ApiResult<Json<Vec<NotificationBody>>> {
    let rows = s.svc.inbox(&me.ctx(), p.unread, None, 200).await?;
    Ok(Json(
        rows.into_iter()
            .map(|n| NotificationBody {
                id: n.id,
                kind: n.kind,
                level: n.level,
                title: n.title,
                body: n.body,
                link: n.link,
                created_at: n.created_at,
                read: n.read_at.is_some(),
            })
            .collect(),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnreadBody {
    /// Counted up to 100.
    pub unread: i64,
}

#[utoipa::path(get, path = "/api/v1/notifications/unread-count", tag = "warnings", responses((status = 200, body = UnreadBody)))]
pub async fn api_unread(State(s): State<AppState>, me: CurrentUser) -> ApiResult<Json<UnreadBody>> {
    Ok(Json(UnreadBody { unread: s.svc.unread_count(&me.ctx()).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReadBody {
    /// These notifications; absent: all of them.
    pub ids: Option<Vec<Uuid>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReadResult {
    pub marked: u64,
}

#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "warnings", request_body = ReadBody, responses((status = 200, body = ReadResult)))]
pub async fn api_read(State(s): State<AppState>, me: CurrentUser, Json(b): Json<ReadBody>) -> ApiResult<Json<ReadResult>> {
    Ok(Json(ReadResult { marked: s.svc.mark_notifications_read(&me.ctx(), b.ids.as_deref()).await? }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatisticsReportBody {
    pub id: Uuid,
    pub unit_id: Uuid,
    /// `2021Q1` or `2021`.
    pub period: String,
    pub signed_by: String,
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: OffsetDateTime,
    pub submitted_by: String,
}

fn statistics_body(r: bihuan_store::warnings::StatisticsReport) -> StatisticsReportBody {
    StatisticsReportBody {
        id: r.id,
        unit_id: r.unit_id,
        period: r.period,
        signed_by: r.signed_by,
        note: r.note,
        submitted_at: r.submitted_at,
        submitted_by: r.submitted_by,
    }
}

fn unit_id(id: &str) -> Result<bihuan_domain::ids::UnitId, DomainError> {
    bihuan_domain::ids::UnitId::parse(id).ok_or_else(|| DomainError::not_found("单位", "Unit"))
}

/// The 隐患排查治理统计分析表 a unit has submitted (16号令 Art. 14).
#[utoipa::path(get, path = "/api/v1/units/{id}/statistics-reports", tag = "warnings", responses((status = 200, body = Vec<StatisticsReportBody>)))]
pub async fn api_statistics(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<Vec<StatisticsReportBody>>> {
    Ok(Json(s.svc.statistics_reports(&me.ctx(), unit_id(&id)?).await?.into_iter().map(statistics_body).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StatisticsSubmit {
    /// `2021Q1` or `2021`.
    pub period: String,
    pub signed_by: String,
    pub note: Option<String>,
}

/// Record a statistics report: the enterprise for itself; its village, grid, the office or an administrator on its behalf.
#[utoipa::path(post, path = "/api/v1/units/{id}/statistics-reports", tag = "warnings", request_body = StatisticsSubmit,
    responses((status = 200, body = StatisticsReportBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_submit_statistics(
    State(s): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<StatisticsSubmit>,
) -> ApiResult<Json<StatisticsReportBody>> {
    let r = s.svc.submit_statistics_report(&me.ctx(), unit_id(&id)?, &b.period, &b.signed_by, b.note.as_deref()).await?;
    Ok(Json(statistics_body(r)))
}
