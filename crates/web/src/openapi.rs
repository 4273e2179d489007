//! The OpenAPI document, served at `/api/v1/openapi.json`.

use crate::{api, api_documents, api_hazards, api_measures, ui_channels, ui_circulars, ui_warnings};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Bihuan (闭环) API", description = "Safety-production rectification campaigns and closed-loop hazard management. Authenticate with `Authorization: Bearer <token>` (POST /api/v1/auth/token) or the session cookie plus `X-CSRF-Token`. Errors: `{\"error\": {code, status, message, fields, request_id}}`, message in zh-CN or en per Accept-Language."),
    paths(
        api::healthz, api::login, api::issue_token, api::logout, api::me, api::change_password,
        api::list_tokens, api::create_token, api::revoke_token,
        api::list_units, api::create_unit, api::get_unit, api::update_unit,
        api::list_users, api::create_user, api::get_user, api::update_user, api::reset_password,
        api::list_campaigns, api::get_campaign, api::export_campaign,
        api::get_indicator, api::list_values, api::report_value, api::audit_log,
        api_hazards::list_hazards, api_hazards::hazard_stats, api_hazards::create_hazard, api_hazards::get_hazard,
        api_hazards::edit_hazard, api_hazards::plan_hazard, api_hazards::act_on_hazard,
        api_hazards::calendar, api_hazards::put_calendar, api_hazards::due_date,
        api_documents::list_attachments, api_documents::add_attachments, api_documents::get_attachment, api_documents::get_thumbnail,
        api_documents::export_hazards, api_documents::import_hazards, api_documents::national,
        api_documents::listing_notice, api_documents::rectification_order,
        api_measures::list_measures, api_measures::measure_stats, api_measures::export_measures, api_measures::create_measure,
        api_measures::get_measure, api_measures::edit_measure, api_measures::act_on_measure,
        ui_warnings::api_list, ui_warnings::api_stats, ui_warnings::api_get, ui_warnings::api_acknowledge,
        ui_warnings::api_rules, ui_warnings::api_put_rule, ui_warnings::api_run,
        ui_warnings::api_notifications, ui_warnings::api_unread, ui_warnings::api_read,
        ui_warnings::api_statistics, ui_warnings::api_submit_statistics,
        ui_channels::api_channels, ui_channels::api_create_channel, ui_channels::api_update_channel, ui_channels::api_test_channel,
        ui_channels::api_deliveries, ui_channels::api_retry_delivery,
        ui_circulars::api_list, ui_circulars::api_create, ui_circulars::api_get, ui_circulars::api_patch, ui_circulars::api_issue, ui_circulars::api_docx,
    ),
    modifiers(&Security),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
