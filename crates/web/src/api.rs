//! JSON handlers under `/api/v1`.

use crate::auth::{ClientIp, CurrentUser, SESSION_COOKIE};
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bihuan_domain::audit::AuditEntry;
use bihuan_domain::ids::*;
use bihuan_domain::model::*;
use bihuan_domain::role::Role;
use bihuan_domain::unit::{EnterpriseFlag, UnitDraft, UnitKind};
use bihuan_domain::DomainError;
use bihuan_service::accounts::{NewUser, UserChange};
use bihuan_service::campaigns::NewIndicatorValue;
use bihuan_store::audit::AuditFilter;
use bihuan_store::units::UnitFilter;
use bihuan_store::users::UserFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn bad_id(what_zh: &str, what_en: &str) -> ApiError {
    ApiError(DomainError::not_found(what_zh, what_en))
}

fn parse_id<T>(s: &str, f: fn(&str) -> Option<T>, zh: &str, en: &str) -> ApiResult<T> {
    f(s).ok_or_else(|| bad_id(zh, en))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub database: String,
}

/// Liveness and database reachability; needs no login.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(s): State<AppState>) -> Response {
    let engine = match s.svc.db.engine() {
        bihuan_store::Engine::Sqlite => "sqlite",
        bihuan_store::Engine::Postgres => "postgres",
    };
    match s.svc.ping().await {
        Ok(()) => Json(Health { status: "ok".into(), database: engine.into() }).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "unavailable".into(), database: engine.into() })).into_response(),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// For `/auth/token`: a name for the token, e.g. "nightly export".
    pub token_name: Option<String>,
    /// For `/auth/token`: days until the token expires (default: never).
    pub expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub user: User,
    /// Send this in `X-CSRF-Token` with every unsafe request made with the session cookie.
    pub csrf_token: String,
}

pub fn session_cookie(s: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let secure = if s.config.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Logs in and sets the session cookie (HttpOnly, SameSite=Lax).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(State(s): State<AppState>, ClientIp(ip): ClientIp, headers: HeaderMap, ApiJson(c): ApiJson<Credentials>) -> ApiResult<Response> {
    let ua = headers.get("user-agent").and_then(|v| v.to_str().ok());
    let out = s.svc.login(&c.username, &c.password, &ip, ua).await?;
    let max_age = (out.expires_at - s.svc.now()).whole_seconds().max(0);
    let mut res = Json(LoginResponse { user: out.user, csrf_token: out.csrf_token }).into_response();
    res.headers_mut().insert(header::SET_COOKIE, session_cookie(&s, &out.session_token, max_age));
    Ok(res)
}

#[derive(Serialize, ToSchema)]
pub struct IssuedToken {
    pub token: ApiToken,
    /// The secret, shown only now: send it as `Authorization: Bearer <secret>`.
    pub secret: String,
}

/// Exchanges a username and password for an API token, for scripts.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = Credentials,
    responses((status = 201, body = IssuedToken), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn issue_token(State(s): State<AppState>, ClientIp(ip): ClientIp, ApiJson(c): ApiJson<Credentials>) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    let user = s.svc.verify_login(&c.username, &c.password, &ip).await?;
    let mut tx = s.svc.db.read().await?;
    let actor = s.svc.actor_for(&mut tx, &user).await?;
    tx.commit().await?;
    let ctx = bihuan_service::Ctx::user(actor, Some(crate::request_id()));
    let name = c.token_name.unwrap_or_else(|| "API".to_string());
    let (token, secret) = s.svc.create_token(&ctx, user.id, &name, c.expires_in_days).await?;
    Ok((StatusCode::CREATED, Json(IssuedToken { token, secret })))
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(s): State<AppState>, me: CurrentUser) -> ApiResult<Response> {
    if let Some(sess) = &me.session {
        s.svc.logout(&me.ctx(), &sess.token_hash).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, session_cookie(&s, "", 0));
    Ok(res)
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub unit: Unit,
    /// Areas of loaded campaigns that the user's unit leads.
    pub led_areas: Vec<AreaId>,
}

/// The caller, with their unit.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(State(s): State<AppState>, me: CurrentUser) -> ApiResult<Json<Me>> {
    let unit = s.svc.get_unit(&me.ctx(), me.user.unit_id).await?;
    Ok(Json(Me { user: me.user.clone(), unit, led_areas: me.actor.led_areas.clone() }))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's password and ends their other sessions.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn change_password(State(s): State<AppState>, me: CurrentUser, ApiJson(p): ApiJson<PasswordChange>) -> ApiResult<StatusCode> {
    let keep = me.session.as_ref().map(|x| x.token_hash.as_str());
    s.svc.change_password(&me.ctx(), &p.current_password, &p.new_password, keep).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth", responses((status = 200, body = Vec<ApiToken>)))]
pub async fn list_tokens(State(s): State<AppState>, me: CurrentUser) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(s.svc.tokens(me.user.id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewToken {
    pub name: String,
    pub expires_in_days: Option<i64>,
}

/// Creates an API token for the caller; the secret is in the response only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = NewToken, responses((status = 201, body = IssuedToken)))]
pub async fn create_token(State(s): State<AppState>, me: CurrentUser, ApiJson(t): ApiJson<NewToken>) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    let (token, secret) = s.svc.create_token(&me.ctx(), me.user.id, &t.name, t.expires_in_days).await?;
    Ok((StatusCode::CREATED, Json(IssuedToken { token, secret })))
}

/// Revokes a token (one's own; administrators: any).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "auth", params(("id" = String, Path)), responses((status = 200, body = ApiToken), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_token(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<ApiToken>> {
    let id = parse_id(&id, TokenId::parse, "令牌", "Token")?;
    Ok(Json(s.svc.revoke_token(&me.ctx(), id).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct UnitQuery {
    /// government, committee, office, department, locality, grid, enterprise
    pub kind: Option<String>,
    pub parent_id: Option<String>,
    /// Only units at or below this unit.
    pub within: Option<String>,
    /// Substring of the name, short name or credit code.
    pub q: Option<String>,
    pub flag: Option<String>,
    pub include_inactive: Option<bool>,
    /// Keyset cursor: the `next` value of the previous page.
    pub after: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Units the caller may see, in tree order.
#[utoipa::path(get, path = "/api/v1/units", tag = "units", params(UnitQuery), responses((status = 200, body = Page<Unit>)))]
pub async fn list_units(State(s): State<AppState>, me: CurrentUser, Query(q): Query<UnitQuery>) -> ApiResult<Json<Page<Unit>>> {
    let within = match q.within.as_deref().filter(|w| !w.is_empty()) {
        Some(w) => Some(s.svc.get_unit(&me.ctx(), parse_id(w, UnitId::parse, "单位", "Unit")?).await?.path),
        None => None,
    };
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let filter = UnitFilter {
        kind: q.kind.as_deref().filter(|k| !k.is_empty()).and_then(UnitKind::parse),
        parent: q.parent_id.as_deref().and_then(UnitId::parse),
        within,
        q: q.q.filter(|x| !x.trim().is_empty()),
        flag: q.flag.as_deref().and_then(EnterpriseFlag::parse),
        include_inactive: q.include_inactive.unwrap_or(false),
        after_path: q.after,
        limit: limit + 1,
    };
    let mut items = s.svc.list_units(&me.ctx(), &filter).await?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|u| u.path.as_str().to_string())
    } else {
        None
    };
    Ok(Json(Page { items, next }))
}

/// A unit as sent to the API: its fields, plus where it goes (on creation)
/// and the version read (on change).
#[derive(Deserialize, ToSchema, Default)]
pub struct UnitInput {
    pub parent_id: Option<String>,
    #[serde(flatten)]
    pub unit: UnitDraft,
    pub active: Option<bool>,
    /// The version you read, to detect concurrent changes.
    pub version: Option<i64>,
}

/// Creates a unit under `parent_id`.
#[utoipa::path(post, path = "/api/v1/units", tag = "units", request_body = UnitInput,
    responses((status = 201, body = Unit), (status = 422, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn create_unit(State(s): State<AppState>, me: CurrentUser, ApiJson(u): ApiJson<UnitInput>) -> ApiResult<(StatusCode, Json<Unit>)> {
    let parent = match u.parent_id.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(UnitId::parse(p).ok_or_else(|| ApiError(DomainError::field("parent_id", "上级单位无效", "The parent unit is not valid")))?),
        None => None,
    };
    Ok((StatusCode::CREATED, Json(s.svc.create_unit(&me.ctx(), parent, &u.unit).await?)))
}

#[derive(Serialize, ToSchema)]
pub struct UnitDetail {
    #[serde(flatten)]
    pub unit: Unit,
    /// For enterprises: the locality and grid they lie in.
    pub locality: Option<UnitRef>,
    pub grid: Option<UnitRef>,
}

fn to_ref(u: &Unit) -> UnitRef {
    UnitRef { id: u.id, name: u.name.clone(), short_name: u.short_name.clone(), path: u.path.clone() }
}

/// One unit.
#[utoipa::path(get, path = "/api/v1/units/{id}", tag = "units", params(("id" = String, Path)), responses((status = 200, body = UnitDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_unit(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<UnitDetail>> {
    let unit = s.svc.get_unit(&me.ctx(), parse_id(&id, UnitId::parse, "单位", "Unit")?).await?;
    let (locality, grid) = s.svc.unit_context(&unit).await?;
    Ok(Json(UnitDetail { locality: locality.as_ref().map(to_ref), grid: grid.as_ref().map(to_ref), unit }))
}

/// Changes a unit's fields (all of them: send the whole unit).
#[utoipa::path(patch, path = "/api/v1/units/{id}", tag = "units", params(("id" = String, Path)), request_body = UnitInput,
    responses((status = 200, body = Unit), (status = 409, body = crate::error::ErrorBody)))]
pub async fn update_unit(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>, ApiJson(u): ApiJson<UnitInput>) -> ApiResult<Json<Unit>> {
    let id = parse_id(&id, UnitId::parse, "单位", "Unit")?;
    Ok(Json(s.svc.update_unit(&me.ctx(), id, &u.unit, u.version, u.active).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct UserQuery {
    pub unit_id: Option<String>,
    pub role: Option<String>,
    pub q: Option<String>,
    pub after: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserRow {
    #[serde(flatten)]
    pub user: User,
    pub unit_name: String,
}

/// Users of the units the caller may see.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery), responses((status = 200, body = Page<UserRow>)))]
pub async fn list_users(State(s): State<AppState>, me: CurrentUser, Query(q): Query<UserQuery>) -> ApiResult<Json<Page<UserRow>>> {
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let filter = UserFilter {
        unit: q.unit_id.as_deref().and_then(UnitId::parse),
        within: None,
        role: q.role.as_deref().and_then(Role::parse),
        q: q.q.filter(|x| !x.trim().is_empty()),
        after_username: q.after,
        limit: limit + 1,
    };
    let mut items: Vec<UserRow> =
        s.svc.list_users(&me.ctx(), &filter).await?.into_iter().map(|(user, unit_name)| UserRow { user, unit_name }).collect();
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|u| u.user.username.clone())
    } else {
        None
    };
    Ok(Json(Page { items, next }))
}

/// Creates a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_user(State(s): State<AppState>, me: CurrentUser, ApiJson(u): ApiJson<NewUser>) -> ApiResult<(StatusCode, Json<User>)> {
    Ok((StatusCode::CREATED, Json(s.svc.create_user(&me.ctx(), &u).await?)))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)), responses((status = 200, body = User), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_user(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<User>> {
    Ok(Json(s.svc.get_user(&me.ctx(), parse_id(&id, UserId::parse, "用户", "User")?).await?))
}

/// Changes a user: name, role, unit, contact, language, active.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserChange,
    responses((status = 200, body = User), (status = 403, body = crate::error::ErrorBody)))]
pub async fn update_user(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>, ApiJson(c): ApiJson<UserChange>) -> ApiResult<Json<User>> {
    Ok(Json(s.svc.update_user(&me.ctx(), parse_id(&id, UserId::parse, "用户", "User")?, &c).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordReset {
    pub new_password: String,
}

/// Sets a user's password; they must change it at next login.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", params(("id" = String, Path)), request_body = PasswordReset,
    responses((status = 204), (status = 403, body = crate::error::ErrorBody)))]
pub async fn reset_password(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>, ApiJson(p): ApiJson<PasswordReset>) -> ApiResult<StatusCode> {
    s.svc.reset_password(&me.ctx(), parse_id(&id, UserId::parse, "用户", "User")?, &p.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Campaigns the caller may see.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", responses((status = 200, body = Vec<CampaignSummary>)))]
pub async fn list_campaigns(State(s): State<AppState>, me: CurrentUser) -> ApiResult<Json<Vec<CampaignSummary>>> {
    Ok(Json(s.svc.list_campaigns(&me.ctx()).await?))
}

/// A campaign with its units, posts, phases (today's marked), areas with lead units and tasks, and indicators with progress.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)), responses((status = 200, body = Campaign), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_campaign(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<Campaign>> {
    Ok(Json(s.svc.campaign(&me.ctx(), parse_id(&id, CampaignId::parse, "专项行动", "Campaign")?).await?))
}

/// The campaign in the campaign file format (TOML).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/export", tag = "campaigns", params(("id" = String, Path)), responses((status = 200, content_type = "application/toml", body = String)))]
pub async fn export_campaign(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Response> {
    let plan = s.svc.export_plan(&me.ctx(), parse_id(&id, CampaignId::parse, "专项行动", "Campaign")?).await?;
    let text = plan.to_toml().map_err(|e| ApiError(DomainError::new(bihuan_domain::ErrorCode::Internal, e.clone(), e)))?;
    let disposition = format!("attachment; filename=\"{}.toml\"", plan.campaign.code);
    Ok((
        [(header::CONTENT_TYPE, "application/toml; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        text,
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorDetail {
    pub indicator: Indicator,
    pub values: Vec<IndicatorValue>,
}

/// An indicator with its progress and reported values.
#[utoipa::path(get, path = "/api/v1/indicators/{id}", tag = "campaigns", params(("id" = String, Path)), responses((status = 200, body = IndicatorDetail)))]
pub async fn get_indicator(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<IndicatorDetail>> {
    let (indicator, values) = s.svc.indicator(&me.ctx(), parse_id(&id, IndicatorId::parse, "指标", "Indicator")?).await?;
    Ok(Json(IndicatorDetail { indicator, values }))
}

/// Reported values of an indicator, latest first.
#[utoipa::path(get, path = "/api/v1/indicators/{id}/values", tag = "campaigns", params(("id" = String, Path)), responses((status = 200, body = Vec<IndicatorValue>)))]
pub async fn list_values(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<Vec<IndicatorValue>>> {
    let (_, values) = s.svc.indicator(&me.ctx(), parse_id(&id, IndicatorId::parse, "指标", "Indicator")?).await?;
    Ok(Json(values))
}

/// Reports a value for an indicator (its lead departments, the office, administrators).
#[utoipa::path(post, path = "/api/v1/indicators/{id}/values", tag = "campaigns", params(("id" = String, Path)), request_body = NewIndicatorValue,
    responses((status = 201, body = IndicatorValue), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn report_value(
    State(s): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(v): ApiJson<NewIndicatorValue>,
) -> ApiResult<(StatusCode, Json<IndicatorValue>)> {
    let id = parse_id(&id, IndicatorId::parse, "指标", "Indicator")?;
    Ok((StatusCode::CREATED, Json(s.svc.report_value(&me.ctx(), id, &v).await?)))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct AuditQuery {
    pub actor_id: Option<String>,
    /// Prefix of the action, e.g. `unit.` or `user.create`.
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// Only entries older than this sequence number (keyset).
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

impl AuditQuery {
    pub fn filter(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor_id.as_deref().and_then(UserId::parse),
            action: self.action.clone().filter(|a| !a.is_empty()),
            entity_type: self.entity_type.clone().filter(|a| !a.is_empty()),
            entity_id: self.entity_id.clone().filter(|a| !a.is_empty()),
            from: None,
            to: None,
            before_seq: self.before,
            limit: self.limit.unwrap_or(100).clamp(1, 1000),
        }
    }
}

/// The audit trail, newest first (administrators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = Vec<Object>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn audit_log(State(s): State<AppState>, me: CurrentUser, Query(q): Query<AuditQuery>) -> ApiResult<Json<Vec<AuditEntry>>> {
    Ok(Json(s.svc.audit_log(&me.ctx(), &q.filter()).await?))
}
