//! Bihuan's HTTP face: the JSON API under `/api/v1` (described by OpenAPI),
//! server-rendered pages, authentication, and the one place where errors
//! become responses.
//!
//! Every route is declared once in [`routes`] with who may call it; the
//! router is built from that table, and the permission-matrix test walks the
//! same table, so a route cannot be added without being tested.

pub mod api;
pub mod api_documents;
pub mod api_hazards;
pub mod api_measures;
pub mod auth;
pub mod error;
pub mod i18n;
pub mod openapi;
pub mod ui;
pub mod ui_circulars;
pub mod ui_hazards;
pub mod ui_cockpit;
pub mod ui_channels;
pub mod ui_measures;
pub mod ui_warnings;
pub mod ui_work;

use axum::extract::Request;
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::MethodRouter;
use axum::Router;
use bihuan_service::Service;
use std::sync::Arc;

tokio::task_local! {
    /// The id of the request being served, shown in error messages.
    pub static REQUEST_ID: String;
    /// Whether the caller prefers English (the language cookie, else Accept-Language).
    pub static ENGLISH: bool;
    /// The path and query being served, and whether it was a GET (a page
    /// the language switch can return to).
    pub static REQUEST_PATH: (String, bool);
}

/// The simulated clock offset of this process, if any (set once by the server).
pub static CLOCK_OFFSET: std::sync::OnceLock<Option<time::Duration>> = std::sync::OnceLock::new();

#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// The clock runs this far ahead (a demonstration): every page says so.
    pub clock_offset: Option<time::Duration>,
}

#[derive(Clone)]
pub struct AppState {
    pub svc: Service,
    pub config: Arc<WebConfig>,
}

/// Who may call a route at all. Finer rules (which unit, which role) are
/// decided per record by `bihuan_domain::permission::authorize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// A logged-in user (session or API token).
    User,
}

pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

fn r(method: Method, path: &'static str, access: Access, handler: MethodRouter<AppState>) -> (RouteSpec, MethodRouter<AppState>) {
    (RouteSpec { method, path, access }, handler)
}

/// Every route of the application.
fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use axum::extract::DefaultBodyLimit;
    use axum::routing::{delete, get, patch, post, put};
    use Access::{Public, User};
    use Method as M;
    vec![
        r(M::GET, "/healthz", Public, get(api::healthz)),
        r(M::GET, "/api/v1/openapi.json", Public, get(openapi::document)),
        r(M::POST, "/api/v1/auth/login", Public, post(api::login)),
        r(M::POST, "/api/v1/auth/token", Public, post(api::issue_token)),
        r(M::POST, "/api/v1/auth/logout", User, post(api::logout)),
        r(M::GET, "/api/v1/me", User, get(api::me)),
        r(M::POST, "/api/v1/me/password", User, post(api::change_password)),
        r(M::GET, "/api/v1/tokens", User, get(api::list_tokens)),
        r(M::POST, "/api/v1/tokens", User, post(api::create_token)),
        r(M::DELETE, "/api/v1/tokens/{id}", User, delete(api::revoke_token)),
        r(M::GET, "/api/v1/units", User, get(api::list_units)),
        r(M::POST, "/api/v1/units", User, post(api::create_unit)),
        r(M::GET, "/api/v1/units/{id}", User, get(api::get_unit)),
        r(M::PATCH, "/api/v1/units/{id}", User, patch(api::update_unit)),
        r(M::GET, "/api/v1/users", User, get(api::list_users)),
        r(M::POST, "/api/v1/users", User, post(api::create_user)),
        r(M::GET, "/api/v1/users/{id}", User, get(api::get_user)),
        r(M::PATCH, "/api/v1/users/{id}", User, patch(api::update_user)),
        r(M::POST, "/api/v1/users/{id}/password", User, post(api::reset_password)),
        r(M::GET, "/api/v1/campaigns", User, get(api::list_campaigns)),
        r(M::GET, "/api/v1/campaigns/{id}", User, get(api::get_campaign)),
        r(M::GET, "/api/v1/campaigns/{id}/export", User, get(api::export_campaign)),
        r(M::GET, "/api/v1/indicators/{id}", User, get(api::get_indicator)),
        r(M::GET, "/api/v1/indicators/{id}/values", User, get(api::list_values)),
        r(M::POST, "/api/v1/indicators/{id}/values", User, post(api::report_value)),
        r(M::GET, "/api/v1/audit", User, get(api::audit_log)),
        r(M::GET, "/api/v1/hazards", User, get(api_hazards::list_hazards)),
        r(M::POST, "/api/v1/hazards", User, post(api_hazards::create_hazard)),
        r(M::GET, "/api/v1/hazards/stats", User, get(api_hazards::hazard_stats)),
        r(M::GET, "/api/v1/hazards/export", User, get(api_documents::export_hazards)),
        r(M::POST, "/api/v1/hazards/import", User, post(api_documents::import_hazards).layer(DefaultBodyLimit::disable())),
        r(M::GET, "/api/v1/hazards/national", User, get(api_documents::national)),
        r(M::GET, "/api/v1/hazards/{id}", User, get(api_hazards::get_hazard)),
        r(M::PATCH, "/api/v1/hazards/{id}", User, patch(api_hazards::edit_hazard)),
        r(M::PUT, "/api/v1/hazards/{id}/plan", User, put(api_hazards::plan_hazard)),
        r(M::POST, "/api/v1/hazards/{id}/actions", User, post(api_hazards::act_on_hazard)),
        r(M::GET, "/api/v1/hazards/{id}/attachments", User, get(api_documents::list_attachments)),
        r(M::POST, "/api/v1/hazards/{id}/attachments", User, post(api_documents::add_attachments).layer(DefaultBodyLimit::disable())),
        r(M::GET, "/api/v1/hazards/{id}/listing-notice", User, get(api_documents::listing_notice)),
        r(M::GET, "/api/v1/hazards/{id}/rectification-order", User, get(api_documents::rectification_order)),
        r(M::GET, "/api/v1/attachments/{id}", User, get(api_documents::get_attachment)),
        r(M::GET, "/api/v1/attachments/{id}/thumbnail", User, get(api_documents::get_thumbnail)),
        r(M::GET, "/api/v1/measures", User, get(api_measures::list_measures)),
        r(M::POST, "/api/v1/measures", User, post(api_measures::create_measure)),
        r(M::GET, "/api/v1/measures/stats", User, get(api_measures::measure_stats)),
        r(M::GET, "/api/v1/measures/export", User, get(api_measures::export_measures)),
        r(M::GET, "/api/v1/measures/{id}", User, get(api_measures::get_measure)),
        r(M::PATCH, "/api/v1/measures/{id}", User, patch(api_measures::edit_measure)),
        r(M::POST, "/api/v1/measures/{id}/actions", User, post(api_measures::act_on_measure)),
        r(M::GET, "/api/v1/calendar", User, get(api_hazards::calendar)),
        r(M::GET, "/api/v1/calendar/due", User, get(api_hazards::due_date)),
        r(M::PUT, "/api/v1/calendar/{year}", User, put(api_hazards::put_calendar)),
        r(M::GET, "/static/app.css", Public, get(ui::stylesheet)),
        r(M::GET, "/static/app.js", Public, get(ui::script)),
        r(M::GET, "/login", Public, get(ui::login_page)),
        r(M::POST, "/login", Public, post(ui::login_submit)),
        r(M::POST, "/logout", User, post(ui::logout)),
        r(M::POST, "/language", Public, post(ui::switch_language)),
        r(M::GET, "/", User, get(ui_work::workbench)),
        r(M::GET, "/campaign", User, get(ui::home)),
        r(M::GET, "/cockpit", User, get(ui_cockpit::cockpit)),
        r(M::GET, "/indicators/{id}", User, get(ui::indicator_page)),
        r(M::POST, "/indicators/{id}/values", User, post(ui::indicator_report)),
        r(M::GET, "/units", User, get(ui::units_page)),
        r(M::POST, "/units", User, post(ui::unit_create)),
        r(M::GET, "/units/{id}", User, get(ui::unit_page)),
        r(M::POST, "/units/{id}", User, post(ui::unit_update)),
        r(M::GET, "/users", User, get(ui::users_page)),
        r(M::POST, "/users", User, post(ui::user_create)),
        r(M::GET, "/users/{id}", User, get(ui::user_page)),
        r(M::POST, "/users/{id}", User, post(ui::user_update)),
        r(M::POST, "/users/{id}/password", User, post(ui::user_reset_password)),
        r(M::GET, "/hazards", User, get(ui_hazards::hazards_page)),
        r(M::POST, "/hazards", User, post(ui_hazards::hazard_create).layer(DefaultBodyLimit::disable())),
        r(M::GET, "/hazards/new", User, get(ui_hazards::hazard_new_page)),
        r(M::GET, "/hazards/{id}", User, get(ui_hazards::hazard_page)),
        r(M::POST, "/hazards/{id}/act", User, post(ui_hazards::hazard_act).layer(DefaultBodyLimit::disable())),
        r(M::POST, "/hazards/{id}/plan", User, post(ui_hazards::hazard_plan)),
        r(M::GET, "/hazards/{id}/plan", User, get(ui_hazards::hazard_page_again)),
        r(M::GET, "/hazards/{id}/act", User, get(ui_hazards::hazard_page_again)),
        r(M::POST, "/hazards/{id}/attachments", User, post(ui_hazards::hazard_attach).layer(DefaultBodyLimit::disable())),
        r(M::GET, "/hazards/import", User, get(ui_hazards::import_page)),
        r(M::POST, "/hazards/import", User, post(ui_hazards::import_submit).layer(DefaultBodyLimit::disable())),
        r(M::GET, "/api/v1/warnings", User, get(ui_warnings::api_list)),
        r(M::GET, "/api/v1/warnings/stats", User, get(ui_warnings::api_stats)),
        r(M::GET, "/api/v1/warnings/{id}", User, get(ui_warnings::api_get)),
        r(M::POST, "/api/v1/warnings/{id}/acknowledge", User, post(ui_warnings::api_acknowledge)),
        r(M::GET, "/api/v1/warning-rules", User, get(ui_warnings::api_rules)),
        r(M::PUT, "/api/v1/warning-rules/{code}", User, put(ui_warnings::api_put_rule)),
        r(M::POST, "/api/v1/warning-runs", User, post(ui_warnings::api_run)),
        r(M::GET, "/api/v1/notifications", User, get(ui_warnings::api_notifications)),
        r(M::GET, "/api/v1/notifications/unread-count", User, get(ui_warnings::api_unread)),
        r(M::POST, "/api/v1/notifications/read", User, post(ui_warnings::api_read)),
        r(M::POST, "/units/{id}/statistics", User, post(ui::unit_statistics)),
        r(M::GET, "/api/v1/units/{id}/statistics-reports", User, get(ui_warnings::api_statistics)),
        r(M::POST, "/api/v1/units/{id}/statistics-reports", User, post(ui_warnings::api_submit_statistics)),
        r(M::GET, "/api/v1/channels", User, get(ui_channels::api_channels)),
        r(M::POST, "/api/v1/channels", User, post(ui_channels::api_create_channel)),
        r(M::PATCH, "/api/v1/channels/{id}", User, patch(ui_channels::api_update_channel)),
        r(M::POST, "/api/v1/channels/{id}/test", User, post(ui_channels::api_test_channel)),
        r(M::GET, "/api/v1/deliveries", User, get(ui_channels::api_deliveries)),
        r(M::POST, "/api/v1/deliveries/{id}/retry", User, post(ui_channels::api_retry_delivery)),
        r(M::GET, "/channels", User, get(ui_channels::channels_page)),
        r(M::POST, "/channels", User, post(ui_channels::channel_create)),
        r(M::POST, "/channels/{id}", User, post(ui_channels::channel_update)),
        r(M::POST, "/channels/{id}/test", User, post(ui_channels::channel_test)),
        r(M::GET, "/deliveries", User, get(ui_channels::deliveries_page)),
        r(M::POST, "/deliveries/{id}/retry", User, post(ui_channels::delivery_retry)),
        r(M::GET, "/warnings", User, get(ui_warnings::warnings_page)),
        r(M::GET, "/warnings/rules", User, get(ui_warnings::rules_page)),
        r(M::POST, "/warnings/rules/{code}", User, post(ui_warnings::rule_save)),
        r(M::POST, "/warnings/run", User, post(ui_warnings::run_page)),
        r(M::GET, "/warnings/{id}", User, get(ui_warnings::warning_page)),
        r(M::POST, "/warnings/{id}/acknowledge", User, post(ui_warnings::warning_acknowledge)),
        r(M::GET, "/inbox", User, get(ui_warnings::inbox_page)),
        r(M::POST, "/inbox/read", User, post(ui_warnings::inbox_read_all)),
        r(M::GET, "/inbox/{id}", User, get(ui_warnings::inbox_open)),
        r(M::GET, "/api/v1/circulars", User, get(ui_circulars::api_list)),
        r(M::POST, "/api/v1/circulars", User, post(ui_circulars::api_create)),
        r(M::GET, "/api/v1/circulars/{id}", User, get(ui_circulars::api_get)),
        r(M::PATCH, "/api/v1/circulars/{id}", User, patch(ui_circulars::api_patch)),
        r(M::POST, "/api/v1/circulars/{id}/issue", User, post(ui_circulars::api_issue)),
        r(M::GET, "/api/v1/circulars/{id}/docx", User, get(ui_circulars::api_docx)),
        r(M::GET, "/circulars", User, get(ui_circulars::circulars_page)),
        r(M::POST, "/circulars", User, post(ui_circulars::circular_create)),
        r(M::GET, "/circulars/new", User, get(ui_circulars::circular_new_page)),
        r(M::GET, "/circulars/{id}", User, get(ui_circulars::circular_page)),
        r(M::POST, "/circulars/{id}", User, post(ui_circulars::circular_save)),
        r(M::POST, "/circulars/{id}/issue", User, post(ui_circulars::circular_issue)),
        r(M::POST, "/circulars/{id}/delete", User, post(ui_circulars::circular_delete)),
        r(M::GET, "/circulars/{id}/docx", User, get(ui_circulars::circular_docx_page)),
        r(M::GET, "/measures", User, get(ui_measures::measures_page)),
        r(M::POST, "/measures", User, post(ui_measures::measure_create)),
        r(M::GET, "/measures/new", User, get(ui_measures::measure_new_page)),
        r(M::GET, "/measures/{id}", User, get(ui_measures::measure_page)),
        r(M::POST, "/measures/{id}/act", User, post(ui_measures::measure_act)),
        r(M::POST, "/measures/{id}/edit", User, post(ui_measures::measure_edit)),
        r(M::GET, "/audit", User, get(ui::audit_page)),
        r(M::GET, "/account", User, get(ui::account_page)),
        r(M::POST, "/account/password", User, post(ui::account_password)),
        r(M::POST, "/account/tokens", User, post(ui::account_token_create)),
        r(M::POST, "/account/tokens/{id}/revoke", User, post(ui::account_token_revoke)),
    ]
}

/// The route table without handlers: method, path and access.
pub fn route_table() -> Vec<RouteSpec> {
    routes().into_iter().map(|(spec, _)| spec).collect()
}

/// The whole application as a value: start it in tests with `oneshot`, or
/// serve it with [`serve`].
pub fn router(state: AppState) -> Router {
    // Uploads (photos, ledgers) may be several files of the configured
    // size; every other body is held to 2 MB by the extractors.
    let limit = (state.svc.settings.max_upload_bytes.saturating_mul(5).saturating_add(1 << 20)).max(2 << 20);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if state.config.clock_offset.is_some() {
        let _ = CLOCK_OFFSET.set(state.config.clock_offset);
    }
    let mut router = Router::new();
    for (spec, handler) in routes() {
        router = router.route(spec.path, handler);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(request_context))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limit))
        .with_state(state)
}

/// Unknown paths: the API answers in its JSON error format, pages with a page.
async fn not_found(uri: axum::http::Uri) -> Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") {
        error::ApiError(bihuan_domain::DomainError::not_found("接口", "Endpoint")).into_response()
    } else {
        ui::not_found().await
    }
}

async fn method_not_allowed(uri: axum::http::Uri) -> Response {
    use axum::response::IntoResponse;
    let e = bihuan_domain::DomainError::new(
        bihuan_domain::ErrorCode::MethodNotAllowed,
        "此地址不支持该请求方法",
        "This address does not accept this method",
    );
    if uri.path().starts_with("/api/") { error::ApiError(e).into_response() } else { ui::error_page(None, &e) }
}

/// Gives each request an id and a language, and sets security headers.
async fn request_context(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let english = prefers_english(req.headers().get("accept-language").and_then(|v| v.to_str().ok()), cookie(&req, i18n::LANG_COOKIE).as_deref());
    let here = (req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into()), req.method() == Method::GET);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let start = std::time::Instant::now();
    let mut res = REQUEST_ID.scope(id.clone(), ENGLISH.scope(english, REQUEST_PATH.scope(here, next.run(req)))).await;
    tracing::info!(request_id = %id, %method, %path, status = res.status().as_u16(), ms = start.elapsed().as_millis() as u64, "request");
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("x-request-id", v);
    }
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"),
    );
    res
}

/// English when the user chose it (cookie) or when the browser's first
/// preference is English; Chinese otherwise.
pub fn prefers_english(accept_language: Option<&str>, choice: Option<&str>) -> bool {
    if let Some(c) = choice {
        return c.starts_with("en");
    }
    let first = accept_language.and_then(|a| a.split(',').next()).map(|s| s.trim().to_ascii_lowercase());
    first.is_some_and(|f| f.starts_with("en"))
}

pub fn english() -> bool {
    ENGLISH.try_with(|e| *e).unwrap_or(false)
}

pub fn request_path() -> String {
    REQUEST_PATH.try_with(|r| r.0.clone()).unwrap_or_else(|_| "/".into())
}

/// Where the language switch returns to: this page if it can be fetched
/// again (a page answering a form post may live at a POST-only address).
pub fn return_path() -> String {
    REQUEST_PATH.try_with(|r| if r.1 { r.0.clone() } else { "/".into() }).unwrap_or_else(|_| "/".into())
}

pub fn request_id() -> String {
    REQUEST_ID.try_with(|r| r.clone()).unwrap_or_default()
}

/// Reads one cookie from a request.
pub fn cookie(req: &Request, name: &str) -> Option<String> {
    cookie_from(req.headers(), name)
}

pub fn cookie_from(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers.get_all("cookie").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
