//! JSON handlers for the measures list (制度措施清单): the list with its
//! filters and keyset pages, counts and rates, the ledger export, one
//! measure with its timeline, and the commands (create, edit, act).

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bihuan_domain::ids::*;
use bihuan_domain::measure::*;
use bihuan_domain::{DomainError, FieldError};
use bihuan_service::ledger::LedgerFormat;
use bihuan_service::measures::{MeasureActionInput, MeasureDetail, MeasureItem, MeasurePatch, MeasureStats};
use bihuan_service::Ctx;
use bihuan_store::measures::MeasureFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn measure_id(s: &str) -> ApiResult<MeasureId> {
    MeasureId::parse(s).ok_or_else(|| ApiError(DomainError::not_found("制度措施", "Measure")))
}

/// Filters of the measures list, the stats and the export. Lists of values
/// are comma-separated (`state=planned,in_progress`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, IntoParams)]
pub struct MeasureQuery {
    /// Only measures of responsible units at or below this unit (id).
    pub within: Option<String>,
    /// Only measures of this responsible unit (id).
    pub unit_id: Option<String>,
    pub campaign_id: Option<String>,
    pub area_id: Option<String>,
    /// `system`, `mechanism`, `measure` (or 制度, 机制, 措施)
    pub kind: Option<String>,
    /// `planned`, `in_progress`, `completed`, `verified`, `cancelled`; `open` for the first two, `done` for completed and verified
    pub state: Option<String>,
    /// Open and past the deadline today (true), or not (false).
    pub overdue: Option<bool>,
    /// Deadline on or after (YYYY-MM-DD).
    pub deadline_from: Option<String>,
    pub deadline_to: Option<String>,
    /// Substring of the code, title or content.
    pub q: Option<String>,
    /// `newest` (default), `oldest`, `deadline`
    pub sort: Option<String>,
    /// Keyset cursor: the `next` of the previous page.
    pub after: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<i64>,
    /// Stats only: `area`, `unit`, `kind`, `state`.
    pub by: Option<String>,
    /// Export only: `xlsx` (default) or `csv`.
    pub format: Option<String>,
}

impl MeasureQuery {
    /// The store filter, with `within` resolved to a path the caller may see.
    pub async fn filter(&self, s: &AppState, ctx: &Ctx) -> Result<MeasureFilter, DomainError> {
        use crate::api_hazards::{list_of, opt_date, opt_id};
        let mut errors = Vec::new();
        let states = match self.state.as_deref().map(str::trim) {
            Some("open") => vec![MeasureState::Planned, MeasureState::InProgress],
            Some("done") => vec![MeasureState::Completed, MeasureState::Verified],
            _ => list_of("state", &self.state, MeasureState::parse, &mut errors),
        };
        let within_id = opt_id("within", &self.within, UnitId::parse, &mut errors);
        let sort = match self.sort.as_deref().map(str::trim) {
            None | Some("") | Some("newest") => MeasureSort::Newest,
            Some("oldest") => MeasureSort::Oldest,
            Some("deadline") => MeasureSort::Deadline,
            Some(o) => {
                errors.push(FieldError::new(
                    "sort",
                    format!("排序方式“{o}”应为 newest、oldest 或 deadline"),
                    format!("Sort '{o}' must be newest, oldest or deadline"),
                ));
                MeasureSort::Newest
            }
        };
        let mut f = MeasureFilter {
            within: None,
            unit_id: opt_id("unit_id", &self.unit_id, UnitId::parse, &mut errors),
            campaign_id: opt_id("campaign_id", &self.campaign_id, CampaignId::parse, &mut errors),
            area_id: opt_id("area_id", &self.area_id, AreaId::parse, &mut errors),
            kinds: list_of("kind", &self.kind, MeasureKind::parse, &mut errors),
            states,
            overdue: self.overdue,
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
        if let Some(id) = within_id {
            f.within = Some(s.svc.get_unit(ctx, id).await?.path);
        }
        Ok(f)
    }

    pub fn breakdown(&self) -> Result<Option<MeasureBreakdown>, DomainError> {
        match self.by.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(b) => serde_json::from_value(serde_json::Value::String(b.to_string()))
                .map(Some)
                .map_err(|_| DomainError::field("by", "分组应为 area、unit、kind 或 state", "Group by area, unit, kind or state")),
        }
    }

    pub fn ledger_format(&self) -> Result<LedgerFormat, DomainError> {
        match self.format.as_deref().map(str::trim) {
            None | Some("") => Ok(LedgerFormat::Xlsx),
            Some(f) => LedgerFormat::parse(f).ok_or_else(|| {
                DomainError::field("format", format!("导出格式“{f}”应为 xlsx 或 csv"), format!("Format '{f}' must be xlsx or csv"))
            }),
        }
    }
}

/// `Content-Disposition` for a download: the name itself as RFC 5987
/// `filename*` (Chinese names survive), and `ascii_name` as the plain
/// `filename` for old clients (quotes and backslashes dropped).
pub fn attachment(file_name: &str, ascii_name: &str) -> String {
    let mut encoded = String::new();
    for b in file_name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let ascii: String = ascii_name.chars().filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';')).collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[derive(Serialize, ToSchema)]
pub struct MeasurePage {
    pub items: Vec<MeasureItem>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Measures the caller may see, filtered, sorted and paged by keyset.
#[utoipa::path(get, path = "/api/v1/measures", tag = "measures", params(MeasureQuery), responses((status = 200, body = MeasurePage)))]
pub async fn list_measures(State(s): State<AppState>, me: CurrentUser, Query(q): Query<MeasureQuery>) -> ApiResult<Json<MeasurePage>> {
    let ctx = me.ctx();
    let f = q.filter(&s, &ctx).await?;
    let (items, next) = s.svc.list_measures(&ctx, &f).await?;
    Ok(Json(MeasurePage { items, next }))
}

/// Counts and rates (完成率, 核验率, 按期完成率) for the same filters,
/// optionally grouped (`by`).
#[utoipa::path(get, path = "/api/v1/measures/stats", tag = "measures", params(MeasureQuery), responses((status = 200, body = MeasureStats)))]
pub async fn measure_stats(State(s): State<AppState>, me: CurrentUser, Query(q): Query<MeasureQuery>) -> ApiResult<Json<MeasureStats>> {
    let ctx = me.ctx();
    let f = q.filter(&s, &ctx).await?;
    Ok(Json(s.svc.measure_stats(&ctx, &f, q.breakdown()?).await?))
}

/// The measures matching the filters as the ledger (制度措施清单台账):
/// xlsx with the list and the timeline (推进记录) on a second sheet, or CSV
/// (UTF-8 with BOM) with the list. `sort`, `after` and `limit` are ignored.
#[utoipa::path(get, path = "/api/v1/measures/export", tag = "measures", params(MeasureQuery),
    responses((status = 200, description = "the ledger file", content(
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (String = "text/csv"))),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn export_measures(State(s): State<AppState>, me: CurrentUser, Query(q): Query<MeasureQuery>) -> ApiResult<Response> {
    let ctx = me.ctx();
    let format = q.ledger_format()?;
    let f = q.filter(&s, &ctx).await?;
    // A town's list is hundreds of measures, a district's some thousands:
    // the file is built in memory (the workbook is assembled whole anyway).
    let mut file = Vec::new();
    let summary = s.svc.export_measure_ledger(&ctx, &f, format, &mut file).await?;
    Ok((
        [
            (header::CONTENT_TYPE, summary.content_type.clone()),
            (header::CONTENT_DISPOSITION, attachment(&summary.file_name, &format!("measures-{}.{}", s.svc.today(), format.extension()))),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        file,
    )
        .into_response())
}

/// Puts a measure on the list (未开始): the office for any unit of its
/// town, a lead department for the areas it leads (`area_id` required).
#[utoipa::path(post, path = "/api/v1/measures", tag = "measures", request_body = MeasureDraft,
    responses((status = 201, body = Measure), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_measure(State(s): State<AppState>, me: CurrentUser, ApiJson(d): ApiJson<MeasureDraft>) -> ApiResult<(StatusCode, Json<Measure>)> {
    Ok((StatusCode::CREATED, Json(s.svc.create_measure(&me.ctx(), &d).await?)))
}

/// One measure with its timeline and the actions the caller may take now.
#[utoipa::path(get, path = "/api/v1/measures/{id}", tag = "measures", params(("id" = String, Path, description = "measure id")),
    responses((status = 200, body = MeasureDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_measure(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<MeasureDetail>> {
    Ok(Json(s.svc.measure_detail(&me.ctx(), measure_id(&id)?).await?))
}

/// Changes an open measure (the supervisor or the unit that put it on the
/// list). Only the fields sent change: one left out stays as it is, `null`
/// clears an optional one (`area_id`, `responsible_person`) and is refused
/// for a required one. An empty `unit_id` or `area_id` keeps the current
/// one; a moved deadline may not be in the past; `version` guards against
/// overwriting a change made meanwhile (409).
#[utoipa::path(patch, path = "/api/v1/measures/{id}", tag = "measures", request_body = MeasurePatch, params(("id" = String, Path)),
    responses((status = 200, body = Measure), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn edit_measure(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>, ApiJson(b): ApiJson<MeasurePatch>) -> ApiResult<Json<Measure>> {
    Ok(Json(s.svc.patch_measure(&me.ctx(), measure_id(&id)?, &b).await?))
}

/// Moves the measure on: progress, complete (evidence required), verify,
/// send_back, cancel, reopen.
#[utoipa::path(post, path = "/api/v1/measures/{id}/actions", tag = "measures", request_body = MeasureActionInput, params(("id" = String, Path)),
    responses((status = 200, body = Measure), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn act_on_measure(
    State(s): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MeasureActionInput>,
) -> ApiResult<Json<Measure>> {
    Ok(Json(s.svc.act_on_measure(&me.ctx(), measure_id(&id)?, &b).await?))
}

#[cfg(test)]
mod tests {
    use super::attachment;

    #[test]
    fn chinese_file_names_survive_in_the_disposition() {
        assert_eq!(
            attachment("制度措施清单-2021-05-07.xlsx", "measures-2021-05-07.xlsx"),
            "attachment; filename=\"measures-2021-05-07.xlsx\"; \
             filename*=UTF-8''%E5%88%B6%E5%BA%A6%E6%8E%AA%E6%96%BD%E6%B8%85%E5%8D%95-2021-05-07.xlsx"
        );
        assert_eq!(attachment("a \"b\";c.csv", "a\"b;c.csv"), "attachment; filename=\"abc.csv\"; filename*=UTF-8''a%20%22b%22%3Bc.csv");
    }
}
