//! Channels (通知渠道) and the delivery log: a unit's group robot or
//! webhook, a user's e-mail; what each receives at once and what waits for
//! the daily digest; every message sent with its attempts.

use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiResult;
use crate::i18n::{filters, tr};
use crate::ui::{error_page, messages, nav, render, Flash, Nav};
use crate::ui::local_time;
use crate::ui_warnings::{CsrfForm, Done};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use bihuan_domain::ids::UnitId;
use bihuan_domain::permission::{authorize, Permission};
use bihuan_domain::warning::WarningLevel;
use bihuan_domain::DomainError;
use bihuan_service::channels::{ChannelInput, ChannelView, DeliveryView};
use bihuan_store::units::UnitFilter;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

fn kind_label(k: &str) -> &'static str {
    match k {
        "wecom" => tr("企业微信群机器人", "WeCom group robot"),
        "dingtalk" => tr("钉钉群机器人", "DingTalk group robot"),
        "webhook" => tr("Webhook", "Webhook"),
        "email" => tr("电子邮件", "E-mail"),
        _ => "",
    }
}

fn level_label(l: &str) -> String {
    WarningLevel::parse(l).map(|l| tr(l.label_zh(), l.label_en()).to_string()).unwrap_or_else(|| tr("仅汇总", "digest only").to_string())
}

pub struct ChannelLine {
    pub c: ChannelView,
    pub kind: &'static str,
    pub owner: String,
    pub min: String,
    pub immediate: String,
    pub failing: String,
}

#[derive(Template)]
#[template(path = "channels.html")]
struct ChannelsPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    errors: Vec<String>,
    csrf: String,
    channels: Vec<ChannelLine>,
    units: Vec<(String, String)>,
    levels: Vec<(&'static str, String)>,
    f: ChannelForm,
    email_ready: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ChannelForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    min_level: String,
    #[serde(default)]
    immediate_level: String,
    #[serde(default)]
    quiet_hours: String,
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    version: String,
}

impl ChannelForm {
    fn input(&self, editing: bool) -> ChannelInput {
        let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        ChannelInput {
            kind: self.kind.clone(),
            unit_id: UnitId::parse(self.unit_id.trim()),
            scope: opt(&self.scope),
            name: self.name.clone(),
            address: self.address.clone(),
            secret: opt(&self.secret),
            format: opt(&self.format),
            enabled: if editing { Some(self.enabled == "on") } else { None },
            quiet_hours: Some(self.quiet_hours == "on"),
            min_level: opt(&self.min_level),
            immediate_level: Some(self.immediate_level.trim().to_string()),
        }
    }
}

async fn channels_view(s: &AppState, user: &PageUser, f: ChannelForm, errors: Vec<String>, flash: Option<Flash>, status: StatusCode) -> Response {
    let ctx = user.0.ctx();
    let list = match s.svc.channels(&ctx).await {
        Ok(l) => l,
        Err(e) => return error_page(nav(user), &e),
    };
    let actor = &user.0.actor;
    let units: Vec<(String, String)> = s
        .svc
        .list_units(&ctx, &UnitFilter { limit: 500, ..Default::default() })
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|u| authorize(actor, Permission::UpdateUnit(&u.path)).allowed())
        .map(|u| (u.id.to_string(), u.name))
        .collect();
    let page = ChannelsPage {
        nav: nav(user),
        flash,
        errors,
        csrf: user.0.csrf().to_string(),
        channels: list
            .into_iter()
            .map(|c| ChannelLine {
                kind: kind_label(&c.kind),
                owner: c.unit_name.clone().unwrap_or_else(|| tr("我的", "Mine").to_string()),
                min: level_label(&c.min_level),
                immediate: c.immediate_level.as_deref().map(level_label).unwrap_or_else(|| tr("仅汇总", "digest only").to_string()),
                failing: c.failing_since.map(|t| local_time(&t)).unwrap_or_default(),
                c,
            })
            .collect(),
        units,
        levels: WarningLevel::ALL.iter().map(|l| (l.as_str(), tr(l.label_zh(), l.label_en()).to_string())).collect(),
        f,
        email_ready: s.svc.settings.notify.smtp.is_some(),
    };
    (status, render(&page)).into_response()
}

fn done_flash(d: Option<&str>) -> Option<Flash> {
    let text = match d? {
        "create" => tr("已添加通知渠道", "Channel added"),
        "save" => tr("已保存", "Saved"),
        "test" => tr("测试消息已排队，几秒内发出；结果见发送记录", "A test message is queued and goes out within seconds; see the delivery log"),
        "retry" => tr("已重新排队", "Queued again"),
        _ => return None,
    };
    Some(Flash { kind: "ok", text: text.to_string() })
}

pub async fn channels_page(State(s): State<AppState>, user: PageUser, Query(q): Query<Done>) -> Response {
    let f = ChannelForm { kind: "wecom".into(), min_level: "blue".into(), immediate_level: "red".into(), quiet_hours: "on".into(), ..Default::default() };
    channels_view(&s, &user, f, Vec::new(), done_flash(q.done.as_deref()), StatusCode::OK).await
}

pub async fn channel_create(State(s): State<AppState>, user: PageUser, Form(f): Form<ChannelForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    match s.svc.create_channel(&user.0.ctx(), &f.input(false)).await {
        Ok(_) => Redirect::to("/channels?done=create").into_response(),
        Err(e) if e.code == bihuan_domain::ErrorCode::Validation => {
            let mut kept = f.clone();
            kept.secret.clear();
            channels_view(&s, &user, kept, messages(&e), None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(nav(&user), &e),
    }
}

fn channel_id(id: &str) -> Result<Uuid, DomainError> {
    Uuid::parse_str(id).map_err(|_| DomainError::not_found("通知渠道", "Channel"))
}

pub async fn channel_update(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<ChannelForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let id = match channel_id(&id) {
        Ok(i) => i,
        Err(e) => return error_page(nav(&user), &e),
    };
    match s.svc.update_channel(&user.0.ctx(), id, &f.input(true), f.version.trim().parse().unwrap_or(0)).await {
        Ok(_) => Redirect::to("/channels?done=save").into_response(),
        Err(e) if matches!(e.code, bihuan_domain::ErrorCode::Validation | bihuan_domain::ErrorCode::Conflict) => {
            channels_view(&s, &user, ChannelForm::default(), messages(&e), None, crate::error::status_of(e.code)).await
        }
        Err(e) => error_page(nav(&user), &e),
    }
}

pub async fn channel_test(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<CsrfForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let result = match channel_id(&id) {
        Ok(i) => s.svc.test_channel(&user.0.ctx(), i).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to("/channels?done=test").into_response(),
        Err(e) => error_page(nav(&user), &e),
    }
}

pub struct DeliveryLine {
    pub d: DeliveryView,
    pub created: String,
    pub status: &'static str,
    pub next: String,
    pub attempts: Vec<(i64, String, String, String, String)>,
}

fn status_label(s: &str) -> &'static str {
    match s {
        "pending" => tr("待发送", "Waiting"),
        "sending" => tr("发送中", "Sending"),
        "retry" => tr("待重试", "To retry"),
        "sent" => tr("已送达", "Sent"),
        "failed" => tr("发送失败", "Failed"),
        "cancelled" => tr("已取消", "Cancelled"),
        _ => "",
    }
}

#[derive(Template)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    nav: Option<Nav>,
    flash: Option<Flash>,
    csrf: String,
    rows: Vec<DeliveryLine>,
}

pub async fn deliveries_page(State(s): State<AppState>, user: PageUser, Query(q): Query<Done>) -> Response {
    let rows = match s.svc.deliveries(&user.0.ctx(), 100).await {
        Ok(r) => r,
        Err(e) => return error_page(nav(&user), &e),
    };
    let page = DeliveriesPage {
        nav: nav(&user),
        flash: done_flash(q.done.as_deref()),
        csrf: user.0.csrf().to_string(),
        rows: rows
            .into_iter()
            .map(|d| DeliveryLine {
                created: local_time(&d.created_at),
                status: status_label(&d.status),
                next: if matches!(d.status.as_str(), "pending" | "retry") { local_time(&d.next_attempt_at) } else { String::new() },
                attempts: d
                    .log
                    .iter()
                    .map(|a| {
                        (
                            a.attempt,
                            local_time(&a.started_at),
                            a.node.clone(),
                            format!("{}{}", a.outcome, a.http_status.map(|s| format!(" · HTTP {s}")).unwrap_or_default()),
                            a.error.clone().or(a.response.clone()).unwrap_or_default(),
                        )
                    })
                    .collect(),
                d,
            })
            .collect(),
    };
    render(&page)
}

pub async fn delivery_retry(State(s): State<AppState>, user: PageUser, Path(id): Path<String>, Form(f): Form<CsrfForm>) -> Response {
    if let Err(e) = user.0.check_csrf(&f.csrf) {
        return error_page(nav(&user), &e.0);
    }
    let result = match Uuid::parse_str(&id) {
        Ok(i) => s.svc.retry_delivery(&user.0.ctx(), i).await,
        Err(_) => Err(DomainError::not_found("发送记录", "Delivery")),
    };
    match result {
        Ok(()) => Redirect::to("/deliveries?done=retry").into_response(),
        Err(e) => error_page(nav(&user), &e),
    }
}

// ---- JSON API ----

/// The channels the caller manages.
#[utoipa::path(get, path = "/api/v1/channels", tag = "notifications", responses((status = 200, body = Vec<ChannelView>)))]
pub async fn api_channels(State(s): State<AppState>, me: CurrentUser) -> ApiResult<Json<Vec<ChannelView>>> {
    Ok(Json(s.svc.channels(&me.ctx()).await?))
}

/// Add a channel: a unit's group robot or webhook (whoever may change the unit's contact details) or the caller's e-mail.
#[utoipa::path(post, path = "/api/v1/channels", tag = "notifications", request_body = ChannelInput,
    responses((status = 200, body = ChannelView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_create_channel(State(s): State<AppState>, me: CurrentUser, Json(b): Json<ChannelInput>) -> ApiResult<Json<ChannelView>> {
    Ok(Json(s.svc.create_channel(&me.ctx(), &b).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ChannelPatch {
    #[serde(flatten)]
    pub input: ChannelInput,
    pub version: i64,
}

/// Change a channel (an empty address or secret keeps the stored one).
#[utoipa::path(patch, path = "/api/v1/channels/{id}", tag = "notifications", request_body = ChannelPatch,
    responses((status = 200, body = ChannelView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_update_channel(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>, Json(b): Json<ChannelPatch>) -> ApiResult<Json<ChannelView>> {
    Ok(Json(s.svc.update_channel(&me.ctx(), channel_id(&id)?, &b.input, b.version).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub delivery_id: Uuid,
}

/// Queue a test message to a channel (sent within seconds).
#[utoipa::path(post, path = "/api/v1/channels/{id}/test", tag = "notifications", responses((status = 200, body = Queued), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_test_channel(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<Queued>> {
    Ok(Json(Queued { delivery_id: s.svc.test_channel(&me.ctx(), channel_id(&id)?).await? }))
}

/// The delivery log of the caller's channels (at-least-once: a crash between sending and recording can repeat one message).
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "notifications", responses((status = 200, body = Vec<DeliveryView>)))]
pub async fn api_deliveries(State(s): State<AppState>, me: CurrentUser) -> ApiResult<Json<Vec<DeliveryView>>> {
    Ok(Json(s.svc.deliveries(&me.ctx(), 200).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Retried {
    pub ok: bool,
}

/// Send a failed delivery again.
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/retry", tag = "notifications", responses((status = 200, body = Retried), (status = 409, body = crate::error::ErrorBody)))]
pub async fn api_retry_delivery(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<Retried>> {
    let id = Uuid::parse_str(&id).map_err(|_| DomainError::not_found("发送记录", "Delivery"))?;
    s.svc.retry_delivery(&me.ctx(), id).await?;
    Ok(Json(Retried { ok: true }))
}
