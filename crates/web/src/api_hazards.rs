//! JSON handlers for the problem-and-hazard list (问题隐患清单).

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bihuan_domain::hazard::*;
use bihuan_domain::ids::*;
use bihuan_domain::{DomainError, FieldError};
use bihuan_service::hazards::{ActionInput, HazardDetail, HazardItem, HazardStats, Keyed, PlanInput};
use bihuan_service::idempotency::IdempotencyKey;
use bihuan_service::Ctx;
use bihuan_store::hazards::HazardFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn hazard_id(s: &str) -> ApiResult<HazardId> {
    HazardId::parse(s).ok_or_else(|| ApiError(DomainError::not_found("隐患", "Hazard")))
}

/// Filters of the hazard list, the stats and the exports. Lists of values
/// are comma-separated (`state=assigned,rectifying`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, IntoParams)]
pub struct HazardQuery {
    /// Only hazards of units at or below this unit (id).
    pub within: Option<String>,
    pub campaign_id: Option<String>,
    pub area_id: Option<String>,
    /// `general`, `major`
    pub level: Option<String>,
    /// `reported`, `assigned`, `rectifying`, `submitted`, `closed`, `dismissed`; `open` for all four open states
    pub state: Option<String>,
    /// `self_inspection`, `inspection`, `unannounced`, `public_report`, `assigned`, `transferred`
    pub source: Option<String>,
    pub hazard_type: Option<String>,
    /// `immediate`, `deadline`
    pub manage_type: Option<String>,
    pub responsible_unit_id: Option<String>,
    /// true: only hazards with an extension request waiting for a decision.
    pub extension_pending: Option<bool>,
    /// Only hazards assigned by this unit (id).
    pub assigned_by_unit_id: Option<String>,
    /// Only hazards found by this unit (id).
    pub found_by_unit_id: Option<String>,
    /// Open, not handed in, past the deadline today.
    pub overdue: Option<bool>,
    /// Under listed supervision (挂牌督办) now.
    pub listed: Option<bool>,
    /// Found on or after (YYYY-MM-DD, Beijing time).
    pub found_from: Option<String>,
    pub found_to: Option<String>,
    pub deadline_from: Option<String>,
    pub deadline_to: Option<String>,
    /// Substring of the code, name, description, location or unit name.
    pub q: Option<String>,
    /// `newest` (default), `oldest`, `deadline`
    pub sort: Option<String>,
    /// Keyset cursor: the `next` of the previous page.
    pub after: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<i64>,
    /// Stats only: `area`, `unit`, `level`, `source`, `state`, `month`.
    pub by: Option<String>,
}

pub(crate) fn list_of<T: Copy>(field: &str, v: &Option<String>, parse: fn(&str) -> Option<T>, errors: &mut Vec<FieldError>) -> Vec<T> {
    let mut out = Vec::new();
    for part in v.as_deref().unwrap_or_default().split([',', '，']).map(str::trim).filter(|p| !p.is_empty()) {
        match parse(part) {
            Some(x) => out.push(x),
            None => errors.push(FieldError::new(field, format!("无法识别“{part}”"), format!("'{part}' is not a known value"))),
        }
    }
    out
}

pub(crate) fn opt_id<T>(field: &str, v: &Option<String>, parse: fn(&str) -> Option<T>, errors: &mut Vec<FieldError>) -> Option<T> {
    let s = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    let parsed = parse(s);
    if parsed.is_none() {
        errors.push(FieldError::new(field, "编号格式无效", "Not a valid id"));
    }
    parsed
}

pub(crate) fn opt_date(field: &str, v: &Option<String>, errors: &mut Vec<FieldError>) -> Option<time::Date> {
    let s = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    let d = bihuan_service::campaigns::parse_date(s);
    if d.is_none() {
        errors.push(FieldError::new(field, "日期格式应如 2021-06-30", "Write the date like 2021-06-30"));
    }
    d
}

impl HazardQuery {
    /// The store filter, with `within` resolved to a path the caller may see.
    pub async fn filter(&self, s: &AppState, ctx: &Ctx) -> Result<HazardFilter, DomainError> {
        let mut errors = Vec::new();
        let states = if self.state.as_deref().map(str::trim) == Some("open") {
            vec![HazardState::Reported, HazardState::Assigned, HazardState::Rectifying, HazardState::Submitted]
        } else {
            list_of("state", &self.state, HazardState::parse, &mut errors)
        };
        let within_id = opt_id("within", &self.within, UnitId::parse, &mut errors);
        let sort = match self.sort.as_deref().map(str::trim) {
            None | Some("") | Some("newest") => HazardSort::Newest,
            Some("oldest") => HazardSort::Oldest,
            Some("deadline") => HazardSort::Deadline,
            Some(o) => {
                errors.push(FieldError::new("sort", format!("排序方式“{o}”应为 newest、oldest 或 deadline"), format!("Sort '{o}' must be newest, oldest or deadline")));
                HazardSort::Newest
            }
        };
        let manage_type = self.manage_type.as_deref().filter(|m| !m.trim().is_empty()).and_then(|m| {
            let p = ManageType::parse(m);
            if p.is_none() {
                errors.push(FieldError::new("manage_type", "治理类型应为 immediate 或 deadline", "Must be immediate or deadline"));
            }
            p
        });
        let f = HazardFilter {
            within: None,
            campaign_id: opt_id("campaign_id", &self.campaign_id, CampaignId::parse, &mut errors),
            area_id: opt_id("area_id", &self.area_id, AreaId::parse, &mut errors),
            levels: list_of("level", &self.level, HazardLevel::parse, &mut errors),
            states,
            sources: list_of("source", &self.source, HazardSource::parse, &mut errors),
            hazard_types: list_of("hazard_type", &self.hazard_type, HazardType::parse, &mut errors),
            manage_type,
            responsible_unit_id: opt_id("responsible_unit_id", &self.responsible_unit_id, UnitId::parse, &mut errors),
            extension_pending: self.extension_pending,
            assigned_by_unit_id: opt_id("assigned_by_unit_id", &self.assigned_by_unit_id, UnitId::parse, &mut errors),
            found_by_unit_id: opt_id("found_by_unit_id", &self.found_by_unit_id, UnitId::parse, &mut errors),
            overdue: self.overdue,
            listed: self.listed,
            found_from: opt_date("found_from", &self.found_from, &mut errors),
            found_to: opt_date("found_to", &self.found_to, &mut errors),
            deadline_from: opt_date("deadline_from", &self.deadline_from, &mut errors),
            deadline_to: opt_date("deadline_to", &self.deadline_to, &mut errors),
            q: self.q.clone().filter(|q| !q.trim().is_empty()),
            sort,
            after: self.after.clone().filter(|a| !a.is_empty()),
            limit: self.limit.unwrap_or(50).clamp(1, 500),
        };
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        let mut f = f;
        if let Some(id) = within_id {
            f.within = Some(s.svc.get_unit(ctx, id).await?.path);
        }
        Ok(f)
    }

    pub fn breakdown(&self) -> Result<Option<Breakdown>, DomainError> {
        match self.by.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(b) => serde_json::from_value(serde_json::Value::String(b.to_string())).map(Some).map_err(|_| {
                DomainError::field("by", "分组应为 area、unit、level、source、state 或 month", "Group by area, unit, level, source, state or month")
            }),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HazardPage {
    pub items: Vec<HazardItem>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Hazards the caller may see, filtered, sorted and paged by keyset.
#[utoipa::path(get, path = "/api/v1/hazards", tag = "hazards", params(HazardQuery), responses((status = 200, body = HazardPage)))]
pub async fn list_hazards(State(s): State<AppState>, me: CurrentUser, Query(q): Query<HazardQuery>) -> ApiResult<Json<HazardPage>> {
    let ctx = me.ctx();
    let f = q.filter(&s, &ctx).await?;
    let (items, next) = s.svc.list_hazards(&ctx, &f).await?;
    Ok(Json(HazardPage { items, next }))
}

/// Counts and rates for the same filters, optionally grouped (`by`).
#[utoipa::path(get, path = "/api/v1/hazards/stats", tag = "hazards", params(HazardQuery), responses((status = 200, body = HazardStats)))]
pub async fn hazard_stats(State(s): State<AppState>, me: CurrentUser, Query(q): Query<HazardQuery>) -> ApiResult<Json<HazardStats>> {
    let ctx = me.ctx();
    let f = q.filter(&s, &ctx).await?;
    Ok(Json(s.svc.hazard_stats(&ctx, &f, q.breakdown()?).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewHazard {
    #[serde(flatten)]
    pub draft: HazardDraft,
    /// For a general hazard fixed on the spot (即查即改): what was done. The
    /// hazard then goes straight on to acceptance.
    pub fixed_on_spot: Option<String>,
}

/// The `Idempotency-Key` header, checked, if the request has one.
pub fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<IdempotencyKey>> {
    match headers.get(IDEMPOTENCY_KEY) {
        None => Ok(None),
        // A value that is not visible ASCII is refused like any malformed key.
        Some(v) => Ok(Some(IdempotencyKey::parse(v.to_str().unwrap_or_default())?)),
    }
}

/// The request header that makes a write safe to send again.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The response header saying the answer is that of an earlier request with the same key.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// The answer to a keyed write: the hazard, with `Idempotent-Replayed: true`
/// when an earlier request with the key had already done it.
fn keyed_response(status: StatusCode, k: Keyed) -> Response {
    let mut res = (status, Json(k.hazard)).into_response();
    if k.replayed {
        res.headers_mut().insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    res
}

/// Registers a hazard (发现登记).
///
/// Send an `Idempotency-Key` to make the request safe to repeat: a phone
/// that lost the answer, or an offline draft sent again when the network
/// returns, gets the hazard the first request registered (201, the hazard as
/// it is now, `Idempotent-Replayed: true`) and nothing is registered twice.
#[utoipa::path(post, path = "/api/v1/hazards", tag = "hazards", request_body = NewHazard,
    params(("Idempotency-Key" = Option<String>, Header, description = "A key the client makes once per report (a UUID is best; 8–255 visible \
ASCII characters) and sends again, unchanged, with every retry of the same report — including an offline draft re-sent when the network \
returns. The first request with the key registers the hazard and records the key in the same transaction; a repeat by the same user \
within 24 hours registers nothing and answers 201 with that hazard as it is now and the header `Idempotent-Replayed: true`. The key covers \
the JSON body: the same key with a different body is refused (422, field `idempotency_key`). Without the header every request registers \
a hazard.")),
    responses((status = 201, body = Hazard, headers(("Idempotent-Replayed" = String, description = "`true` when this answers an earlier request with the same key"))),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_hazard(State(s): State<AppState>, me: CurrentUser, headers: HeaderMap, ApiJson(b): ApiJson<NewHazard>) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let fixed = b.fixed_on_spot.as_deref().map(str::trim).filter(|f| !f.is_empty());
    let k = s.svc.report_hazard_keyed(&me.ctx(), key.as_ref(), &b.draft, fixed, Vec::new()).await?;
    Ok(keyed_response(StatusCode::CREATED, k))
}

/// One hazard with its timeline, extension requests, listings and the
/// actions the caller may take now.
#[utoipa::path(get, path = "/api/v1/hazards/{id}", tag = "hazards", params(("id" = String, Path, description = "hazard id")),
    responses((status = 200, body = HazardDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_hazard(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<HazardDetail>> {
    Ok(Json(s.svc.hazard_detail(&me.ctx(), hazard_id(&id)?).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct HazardEdit {
    #[serde(flatten)]
    pub draft: HazardDraft,
    /// The version the caller saw.
    pub version: Option<i64>,
}

/// Changes the description of an open hazard.
#[utoipa::path(patch, path = "/api/v1/hazards/{id}", tag = "hazards", request_body = HazardEdit, params(("id" = String, Path)),
    responses((status = 200, body = Hazard), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn edit_hazard(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>, ApiJson(b): ApiJson<HazardEdit>) -> ApiResult<Json<Hazard>> {
    Ok(Json(s.svc.edit_hazard(&me.ctx(), hazard_id(&id)?, &b.draft, b.version).await?))
}

/// Fills the 五到位, the major-hazard report and the six-part 治理方案.
#[utoipa::path(put, path = "/api/v1/hazards/{id}/plan", tag = "hazards", request_body = PlanInput, params(("id" = String, Path)),
    responses((status = 200, body = Hazard), (status = 409, body = crate::error::ErrorBody)))]
pub async fn plan_hazard(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>, ApiJson(b): ApiJson<PlanInput>) -> ApiResult<Json<Hazard>> {
    Ok(Json(s.svc.plan_hazard(&me.ctx(), hazard_id(&id)?, &b).await?))
}

/// Moves the hazard on: assign, start, submit, fix_on_spot, accept, reject,
/// dismiss, reopen, request_extension, decide_extension, list.
///
/// With an `Idempotency-Key`, the same action sent again answers 200 with
/// the hazard as it is now and `Idempotent-Replayed: true`, instead of
/// acting twice or failing because the hazard has moved on.
#[utoipa::path(post, path = "/api/v1/hazards/{id}/actions", tag = "hazards", request_body = ActionInput,
    params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "As on `POST /api/v1/hazards`: one key per action, sent again unchanged \
with every retry of it (an offline action re-sent when the network returns included); the key covers the hazard and the JSON body.")),
    responses((status = 200, body = Hazard, headers(("Idempotent-Replayed" = String, description = "`true` when this answers an earlier request with the same key"))),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn act_on_hazard(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>, headers: HeaderMap, ApiJson(b): ApiJson<ActionInput>) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let k = s.svc.act_on_hazard_keyed(&me.ctx(), key.as_ref(), hazard_id(&id)?, &b).await?;
    Ok(keyed_response(StatusCode::OK, k))
}

// ---- the working-day calendar ----

/// The holiday notices per year (法定节假日和调休).
#[utoipa::path(get, path = "/api/v1/calendar", tag = "calendar", responses((status = 200, body = Vec<bihuan_domain::calendar::HolidayNotice>)))]
pub async fn calendar(State(s): State<AppState>, _me: CurrentUser) -> ApiResult<Json<Vec<bihuan_domain::calendar::HolidayNotice>>> {
    Ok(Json(s.svc.calendar_notices().await?))
}

/// Replaces one year's notice (administrators). Deadlines already set keep
/// their dates; new ones are counted with the new calendar.
#[utoipa::path(put, path = "/api/v1/calendar/{year}", tag = "calendar", request_body = bihuan_domain::calendar::HolidayNotice,
    params(("year" = i32, Path)), responses((status = 200, body = bihuan_domain::calendar::HolidayNotice), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_calendar(
    State(s): State<AppState>,
    me: CurrentUser,
    Path(year): Path<String>,
    ApiJson(n): ApiJson<bihuan_domain::calendar::HolidayNotice>,
) -> ApiResult<Json<bihuan_domain::calendar::HolidayNotice>> {
    if year.trim().parse::<i32>().ok() != Some(n.year) {
        return Err(ApiError(DomainError::field("year", "路径中的年份与内容不一致", "The year in the path and in the body differ")));
    }
    Ok(Json(s.svc.put_calendar_notice(&me.ctx(), &n).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct DueQuery {
    /// Start date (YYYY-MM-DD); the day itself is not counted.
    pub from: String,
    pub days: u32,
    /// `working` (default) or `calendar`
    pub basis: Option<String>,
}

/// The due date N working or calendar days after a date.
#[utoipa::path(get, path = "/api/v1/calendar/due", tag = "calendar", params(DueQuery), responses((status = 200, body = bihuan_service::calendar::DueDate)))]
pub async fn due_date(State(s): State<AppState>, _me: CurrentUser, Query(q): Query<DueQuery>) -> ApiResult<Json<bihuan_service::calendar::DueDate>> {
    let from = bihuan_service::campaigns::parse_date(&q.from)
        .ok_or_else(|| ApiError(DomainError::field("from", "日期格式应如 2021-06-30", "Write the date like 2021-06-30")))?;
    let rule = match q.basis.as_deref().map(str::trim) {
        None | Some("") | Some("working") => bihuan_domain::calendar::DeadlineRule::WorkingDays(q.days),
        Some("calendar") => bihuan_domain::calendar::DeadlineRule::CalendarDays(q.days),
        Some(_) => return Err(ApiError(DomainError::field("basis", "应为 working 或 calendar", "Must be working or calendar"))),
    };
    Ok(Json(s.svc.due_date(from, rule).await?))
}
