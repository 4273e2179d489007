//! The permission matrix: every route of `route_table()` × every role ×
//! every relation to the target. The table below is the specification,
//! written out by hand from the policy in `bihuan_domain::permission`.
//!
//! Outcome letters: Y = success (2xx; for page forms also a 303 that is not
//! to the login page), F = 403, N = 404, V = 422 (a unit named in the body
//! that the caller cannot name).
//! Role order: admin, office, department, locality, inspector, enterprise, expert, leader.
//! Unit/user targets: five letters per role, for own, child, sibling, parent, unrelated unit.
//! Campaign/indicator targets: two letters, for the Nanxiang campaign and a
//! campaign owned by an unrelated town. Token targets: own token, another user's.

use crate::harness::{scenario, Cred, Resp, TestApp};
use crate::world::{self, Person, World, PASSWORD};
use axum::http::{Method, StatusCode};
use bihuan_domain::role::Role;
use bihuan_web::{route_table, Access};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Public,
    /// No target: one letter per role.
    None,
    Units,
    Users,
    Campaigns,
    Indicators,
    Tokens,
    /// A fresh hazard found by the town (admin) at the role's child unit, and one at the unrelated unit.
    Hazards,
    /// A photo on each of two such hazards.
    Attachments,
    /// A fresh measure put on the list by the town (admin, no area) for the
    /// role's own unit, its child unit and the unrelated unit.
    Measures,
    /// A fresh warning about the role's own unit, its child unit and the
    /// unrelated unit, each addressed to that unit.
    Warnings,
    /// A notification of the role's own, and one of another user.
    Notifications,
    /// A channel of the role's own unit, its child unit and the unrelated unit.
    Channels,
    /// A failed delivery of such channels.
    Deliveries,
    /// Issued circulars (通报) of the town sent to the role's own unit and
    /// to its sibling, and one of the unrelated town sent to the unrelated unit.
    Circulars,
    /// Drafts of circulars: one of the town, one of the unrelated town.
    CircularDrafts,
}

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

pub fn png() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(PNG).unwrap()
}

/// The matrix's stand-in for the town: the administrator.
async fn admin_ctx(app: &TestApp, w: &World) -> bihuan_service::Ctx {
    let admin = w.person(Role::Admin);
    let user = app.svc.user_by_name(&admin.username).await.unwrap().unwrap();
    let mut tx = app.svc.db.read().await.unwrap();
    let actor = app.svc.actor_for(&mut tx, &user).await.unwrap();
    tx.commit().await.unwrap();
    bihuan_service::Ctx::user(actor, None)
}

const ALL_Y: [&str; 8] = ["Y"; 8];
const READ: [&str; 8] = ["YYYYY", "YYYYN", "YYNNN", "YYNNN", "YYNNN", "YYNNN", "YYNNN", "YYYYN"];
const UPDATE_UNIT: [&str; 8] = ["YYYYY", "YYYYN", "YYNNN", "YYNNN", "YYNNN", "YYNNN", "FFNNN", "FFFFN"];
/// A child unit of the target's own kind under the target (enterprises do
/// not create units).
const CREATE_UNIT: [&str; 8] = ["YYYYY", "YYYYN", "YYNNN", "YYNNN", "FYNNN", "FFNNN", "FFNNN", "FFFFN"];
/// An inspector in the target unit.
const CREATE_USER: [&str; 8] = ["YYYYY", "YYYYN", "FFNNN", "YYNNN", "FFNNN", "FFNNN", "FFNNN", "FFFFN"];
/// An enterprise user in the target unit.
const MANAGE_USER: [&str; 8] = ["YYYYY", "YYYYN", "FFNNN", "YYNNN", "FFNNN", "YYNNN", "FFNNN", "FFFFN"];
const READ_CAMPAIGN: [&str; 8] = ["YY", "YN", "YN", "YN", "YN", "YN", "YN", "YN"];
const REPORT: [&str; 8] = ["YY", "YN", "YN", "FN", "FN", "FN", "FN", "FN"];
const TOKENS: [&str; 8] = ["YY", "YN", "YN", "YN", "YN", "YN", "YN", "YN"];
const AUDIT: [&str; 8] = ["Y", "F", "F", "F", "F", "F", "F", "F"];
/// A hazard at the unit (body-targeted): offices, departments and experts
/// inspect across the town; villages, grids and enterprises their own units.
const REPORT_HAZARD: [&str; 8] = ["YYYYY", "YYYYN", "YYYYN", "YYNNN", "YYNNN", "YYNNN", "YYYYN", "FFFFN"];
const READ_HAZARD: [&str; 8] = ["YY", "YN", "YN", "YN", "YN", "YN", "YN", "YN"];
/// Editing the description: the office, the village or grid above the unit.
const EDIT_HAZARD: [&str; 8] = ["YY", "YN", "FN", "YN", "YN", "FN", "FN", "FN"];
/// The 五到位 and 治理方案: also the enterprise that must rectify.
const PLAN_HAZARD: [&str; 8] = ["YY", "YN", "FN", "YN", "YN", "YN", "FN", "FN"];
/// Dismissing as not a hazard: government that oversees the unit.
const DISMISS_HAZARD: [&str; 8] = ["YY", "YN", "FN", "YN", "YN", "FN", "FN", "FN"];

/// A measure for the unit (body-targeted) in the chemicals area, which the
/// department (安监所) leads: the office and the lead department for units
/// of their town; others are refused, and a unit they cannot see is a bad
/// `unit_id` (V).
const CREATE_MEASURE: [&str; 8] = ["YYYYY", "YYYYV", "YYYYV", "FFVVV", "FFVVV", "FFVVV", "FFVVV", "FFFFV"];
/// Measures of the own unit, the child unit and the unrelated unit: seen in
/// one's scope (the office and leaders: the town).
const READ_MEASURE: [&str; 8] = ["YYY", "YYN", "YYN", "YYN", "YYN", "YYN", "YYN", "YYN"];
/// Editing (and cancelling): the office of the town, or the unit that put it on the list (the government).
const EDIT_MEASURE: [&str; 8] = ["YYY", "YYN", "FFN", "FFN", "FFN", "FFN", "FFN", "FFN"];
/// Reporting progress: the responsible unit itself (not a unit above or
/// below it), and the office; leaders and experts only read.
const PROGRESS_MEASURE: [&str; 8] = ["YYY", "YYN", "YFN", "YFN", "YFN", "YFN", "FFN", "FFN"];

/// Acknowledging a warning: whoever it is addressed to, the office of the
/// jurisdiction, administrators; leaders and experts only read.
const ACK_WARNING: [&str; 8] = ["YYY", "YYN", "YFN", "YFN", "YFN", "YFN", "FFN", "FFN"];
/// Changing the rules: administrators only (one set serves every town of the installation).
const MANAGE_RULES: [&str; 8] = ["Y", "F", "F", "F", "F", "F", "F", "F"];
/// Evaluating the rules now: administrators and offices.
const RUN_RULES: [&str; 8] = ["Y", "Y", "F", "F", "F", "F", "F", "F"];
const OWN_ONLY: [&str; 8] = ["YN"; 8];
/// A unit's channels are managed by whoever may change its contact details;
/// to anyone else they do not exist.
const CHANNEL: [&str; 8] = ["YYY", "YYN", "YYN", "YYN", "YYN", "YYN", "NNN", "NNN"];
/// Recording a statistics report for the unit: only enterprises report (V for
/// other units); the enterprise itself, or its village, grid, the office.
const STATISTICS: [&str; 8] = ["VVVVV", "VVVVN", "FFNNN", "VVNNN", "VYNNN", "YFNNN", "FFNNN", "FFFFN"];
/// Reading a circular: the town's users but its enterprises, which read
/// only what was sent to them; administrators everything.
const READ_CIRCULAR: [&str; 8] = ["YYY", "YYN", "YYN", "YYN", "YYN", "YNN", "YYN", "YYN"];
/// Changing, issuing or discarding a draft: the office of its town and
/// administrators; the town's other users may read it but not change it.
const COMPOSE_CIRCULAR: [&str; 8] = ["YY", "YN", "FN", "FN", "FN", "NN", "FN", "FN"];
/// Starting a circular: the office and administrators.
const NEW_CIRCULAR: [&str; 8] = ["Y", "Y", "F", "F", "F", "F", "F", "F"];

fn expectations() -> Vec<(Method, &'static str, Target, [&'static str; 8])> {
    use Target::*;
    let p = ["-"; 8];
    vec![
        (Method::GET, "/healthz", Public, p),
        (Method::GET, "/api/v1/openapi.json", Public, p),
        (Method::POST, "/api/v1/auth/login", Public, p),
        (Method::POST, "/api/v1/auth/token", Public, p),
        (Method::POST, "/api/v1/auth/logout", None, ALL_Y),
        (Method::GET, "/api/v1/me", None, ALL_Y),
        (Method::POST, "/api/v1/me/password", None, ALL_Y),
        (Method::GET, "/api/v1/tokens", None, ALL_Y),
        (Method::POST, "/api/v1/tokens", None, ALL_Y),
        (Method::DELETE, "/api/v1/tokens/{id}", Tokens, TOKENS),
        (Method::GET, "/api/v1/units", None, ALL_Y),
        (Method::POST, "/api/v1/units", Units, CREATE_UNIT),
        (Method::GET, "/api/v1/units/{id}", Units, READ),
        (Method::PATCH, "/api/v1/units/{id}", Units, UPDATE_UNIT),
        (Method::GET, "/api/v1/users", None, ALL_Y),
        (Method::POST, "/api/v1/users", Units, CREATE_USER),
        (Method::GET, "/api/v1/users/{id}", Users, READ),
        (Method::PATCH, "/api/v1/users/{id}", Users, MANAGE_USER),
        (Method::POST, "/api/v1/users/{id}/password", Users, MANAGE_USER),
        (Method::GET, "/api/v1/campaigns", None, ALL_Y),
        (Method::GET, "/api/v1/campaigns/{id}", Campaigns, READ_CAMPAIGN),
        (Method::GET, "/api/v1/campaigns/{id}/export", Campaigns, READ_CAMPAIGN),
        (Method::GET, "/api/v1/indicators/{id}", Indicators, READ_CAMPAIGN),
        (Method::GET, "/api/v1/indicators/{id}/values", Indicators, READ_CAMPAIGN),
        (Method::POST, "/api/v1/indicators/{id}/values", Indicators, REPORT),
        (Method::GET, "/api/v1/audit", None, AUDIT),
        (Method::GET, "/api/v1/hazards", None, ALL_Y),
        (Method::POST, "/api/v1/hazards", Units, REPORT_HAZARD),
        (Method::GET, "/api/v1/hazards/stats", None, ALL_Y),
        (Method::GET, "/api/v1/hazards/{id}", Hazards, READ_HAZARD),
        (Method::PATCH, "/api/v1/hazards/{id}", Hazards, EDIT_HAZARD),
        (Method::PUT, "/api/v1/hazards/{id}/plan", Hazards, PLAN_HAZARD),
        (Method::POST, "/api/v1/hazards/{id}/actions", Hazards, DISMISS_HAZARD),
        (Method::GET, "/api/v1/hazards/export", None, ALL_Y),
        (Method::POST, "/api/v1/hazards/import", None, ALL_Y),
        (Method::GET, "/api/v1/hazards/national", None, ALL_Y),
        (Method::GET, "/api/v1/hazards/{id}/attachments", Hazards, READ_HAZARD),
        (Method::POST, "/api/v1/hazards/{id}/attachments", Hazards, PLAN_HAZARD),
        (Method::GET, "/api/v1/hazards/{id}/listing-notice", Hazards, READ_HAZARD),
        (Method::GET, "/api/v1/hazards/{id}/rectification-order", Hazards, READ_HAZARD),
        (Method::GET, "/api/v1/attachments/{id}", Attachments, READ_HAZARD),
        (Method::GET, "/api/v1/attachments/{id}/thumbnail", Attachments, READ_HAZARD),
        (Method::GET, "/api/v1/measures", None, ALL_Y),
        (Method::POST, "/api/v1/measures", Units, CREATE_MEASURE),
        (Method::GET, "/api/v1/measures/stats", None, ALL_Y),
        (Method::GET, "/api/v1/measures/export", None, ALL_Y),
        (Method::GET, "/api/v1/measures/{id}", Measures, READ_MEASURE),
        (Method::PATCH, "/api/v1/measures/{id}", Measures, EDIT_MEASURE),
        (Method::POST, "/api/v1/measures/{id}/actions", Measures, PROGRESS_MEASURE),
        (Method::GET, "/api/v1/units/{id}/statistics-reports", Units, READ),
        (Method::POST, "/api/v1/units/{id}/statistics-reports", Units, STATISTICS),
        (Method::POST, "/units/{id}/statistics", Units, STATISTICS),
        (Method::GET, "/api/v1/channels", None, ALL_Y),
        (Method::POST, "/api/v1/channels", Units, UPDATE_UNIT),
        (Method::PATCH, "/api/v1/channels/{id}", Channels, CHANNEL),
        (Method::POST, "/api/v1/channels/{id}/test", Channels, CHANNEL),
        (Method::GET, "/api/v1/deliveries", None, ALL_Y),
        (Method::POST, "/api/v1/deliveries/{id}/retry", Deliveries, CHANNEL),
        (Method::GET, "/channels", None, ALL_Y),
        (Method::POST, "/channels", Units, UPDATE_UNIT),
        (Method::POST, "/channels/{id}", Channels, CHANNEL),
        (Method::POST, "/channels/{id}/test", Channels, CHANNEL),
        (Method::GET, "/deliveries", None, ALL_Y),
        (Method::POST, "/deliveries/{id}/retry", Deliveries, CHANNEL),
        (Method::GET, "/api/v1/warnings", None, ALL_Y),
        (Method::GET, "/api/v1/warnings/stats", None, ALL_Y),
        (Method::GET, "/api/v1/warnings/{id}", Warnings, READ_MEASURE),
        (Method::POST, "/api/v1/warnings/{id}/acknowledge", Warnings, ACK_WARNING),
        (Method::GET, "/api/v1/warning-rules", None, ALL_Y),
        (Method::PUT, "/api/v1/warning-rules/{code}", None, MANAGE_RULES),
        (Method::POST, "/api/v1/warning-runs", None, RUN_RULES),
        (Method::GET, "/api/v1/notifications", None, ALL_Y),
        (Method::GET, "/api/v1/notifications/unread-count", None, ALL_Y),
        (Method::POST, "/api/v1/notifications/read", None, ALL_Y),
        (Method::GET, "/warnings", None, ALL_Y),
        (Method::GET, "/warnings/rules", None, ALL_Y),
        (Method::POST, "/warnings/rules/{code}", None, MANAGE_RULES),
        (Method::POST, "/warnings/run", None, RUN_RULES),
        (Method::GET, "/warnings/{id}", Warnings, READ_MEASURE),
        (Method::POST, "/warnings/{id}/acknowledge", Warnings, ACK_WARNING),
        (Method::GET, "/inbox", None, ALL_Y),
        (Method::POST, "/inbox/read", None, ALL_Y),
        (Method::GET, "/inbox/{id}", Notifications, OWN_ONLY),
        (Method::GET, "/api/v1/circulars", None, ALL_Y),
        (Method::POST, "/api/v1/circulars", None, NEW_CIRCULAR),
        (Method::GET, "/api/v1/circulars/{id}", Circulars, READ_CIRCULAR),
        (Method::PATCH, "/api/v1/circulars/{id}", CircularDrafts, COMPOSE_CIRCULAR),
        (Method::POST, "/api/v1/circulars/{id}/issue", CircularDrafts, COMPOSE_CIRCULAR),
        (Method::GET, "/api/v1/circulars/{id}/docx", Circulars, READ_CIRCULAR),
        (Method::GET, "/circulars", None, ALL_Y),
        (Method::POST, "/circulars", None, NEW_CIRCULAR),
        (Method::GET, "/circulars/new", None, NEW_CIRCULAR),
        (Method::GET, "/circulars/{id}", Circulars, READ_CIRCULAR),
        (Method::POST, "/circulars/{id}", CircularDrafts, COMPOSE_CIRCULAR),
        (Method::POST, "/circulars/{id}/issue", CircularDrafts, COMPOSE_CIRCULAR),
        (Method::POST, "/circulars/{id}/delete", CircularDrafts, COMPOSE_CIRCULAR),
        (Method::GET, "/circulars/{id}/docx", Circulars, READ_CIRCULAR),
        (Method::GET, "/api/v1/calendar", None, ALL_Y),
        (Method::GET, "/api/v1/calendar/due", None, ALL_Y),
        (Method::PUT, "/api/v1/calendar/{year}", None, AUDIT),
        (Method::GET, "/static/app.css", Public, p),
        (Method::GET, "/static/app.js", Public, p),
        (Method::GET, "/login", Public, p),
        (Method::POST, "/login", Public, p),
        (Method::POST, "/logout", None, ALL_Y),
        (Method::POST, "/language", Public, p),
        (Method::GET, "/", None, ALL_Y),
        (Method::GET, "/campaign", None, ALL_Y),
        (Method::GET, "/cockpit", None, ALL_Y),
        (Method::GET, "/indicators/{id}", Indicators, READ_CAMPAIGN),
        (Method::POST, "/indicators/{id}/values", Indicators, REPORT),
        (Method::GET, "/units", None, ALL_Y),
        (Method::POST, "/units", Units, CREATE_UNIT),
        (Method::GET, "/units/{id}", Units, READ),
        (Method::POST, "/units/{id}", Units, UPDATE_UNIT),
        (Method::GET, "/users", None, ALL_Y),
        (Method::POST, "/users", Units, CREATE_USER),
        (Method::GET, "/users/{id}", Users, READ),
        (Method::POST, "/users/{id}", Users, MANAGE_USER),
        (Method::POST, "/users/{id}/password", Users, MANAGE_USER),
        (Method::GET, "/hazards", None, ALL_Y),
        (Method::POST, "/hazards", Units, REPORT_HAZARD),
        (Method::GET, "/hazards/new", None, ["Y", "Y", "Y", "Y", "Y", "Y", "Y", "F"]),
        (Method::GET, "/hazards/{id}", Hazards, READ_HAZARD),
        (Method::POST, "/hazards/{id}/act", Hazards, DISMISS_HAZARD),
        (Method::POST, "/hazards/{id}/plan", Hazards, PLAN_HAZARD),
        (Method::POST, "/hazards/{id}/attachments", Hazards, PLAN_HAZARD),
        (Method::GET, "/hazards/{id}/plan", Hazards, READ_HAZARD),
        (Method::GET, "/hazards/{id}/act", Hazards, READ_HAZARD),
        (Method::GET, "/hazards/import", None, ["Y", "Y", "Y", "Y", "Y", "Y", "Y", "F"]),
        (Method::POST, "/hazards/import", None, ["Y", "Y", "Y", "Y", "Y", "Y", "Y", "F"]),
        (Method::GET, "/measures", None, ALL_Y),
        (Method::POST, "/measures", Units, CREATE_MEASURE),
        (Method::GET, "/measures/new", None, ["Y", "Y", "Y", "F", "F", "F", "F", "F"]),
        (Method::GET, "/measures/{id}", Measures, READ_MEASURE),
        (Method::POST, "/measures/{id}/act", Measures, PROGRESS_MEASURE),
        (Method::POST, "/measures/{id}/edit", Measures, EDIT_MEASURE),
        (Method::GET, "/audit", None, AUDIT),
        (Method::GET, "/account", None, ALL_Y),
        (Method::POST, "/account/password", None, ALL_Y),
        (Method::POST, "/account/tokens", None, ALL_Y),
        (Method::POST, "/account/tokens/{id}/revoke", Tokens, TOKENS),
    ]
}

/// A password held for a moment by the password-change routes.
const INTERIM: &str = "Interim-pass-7";

static SEQ: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", SEQ.fetch_add(1, Ordering::Relaxed))
}

fn outcome(path: &str, method: &Method, r: &Resp) -> char {
    let page = !path.starts_with("/api/");
    match r.status {
        s if s.is_success() => 'Y',
        StatusCode::SEE_OTHER if page && *method == Method::POST && !r.location().starts_with("/login") => 'Y',
        // Opening a notification leads to what it is about.
        StatusCode::SEE_OTHER if path.starts_with("/inbox/") && !r.location().starts_with("/login") => 'Y',
        // Logging out sends the browser to the login page.
        StatusCode::SEE_OTHER if path == "/logout" && r.location() == "/login" => 'Y',
        StatusCode::FORBIDDEN => 'F',
        StatusCode::NOT_FOUND => 'N',
        StatusCode::UNPROCESSABLE_ENTITY => 'V',
        s => panic!("{method} {path}: unexpected {s}: {}", r.text()),
    }
}

/// Sends one request of `route` as `who` aimed at `target` (an id, or for
/// body-targeted routes the unit id).
async fn call(app: &TestApp, w: &World, who: &Person, method: &Method, route: &str, target: Option<&str>) -> Resp {
    let path = match target {
        Some(t) if route.contains("{id}") => route.replace("{id}", t),
        _ => route.to_string(),
    };
    let cred = Cred::Session(&who.session);
    let sess = Some(&who.session);
    let unit_of = |id: &str| w.units.values().find(|u| u.id.to_string() == id).expect("target unit");
    let lk = |u: &bihuan_domain::model::Unit| u.locality_kind.map(|k| serde_json::to_value(k).unwrap().as_str().unwrap().to_string());
    let kind = |u: &bihuan_domain::model::Unit| u.kind.as_str().to_string();
    let m = method.clone();
    match (method.as_str(), route) {
        ("POST", "/api/v1/auth/logout") => {
            let s = app.login(&who.username, PASSWORD).await;
            app.api(m, &path, Cred::Session(&s), None).await
        }
        ("POST", "/logout") => {
            let s = app.login(&who.username, PASSWORD).await;
            app.form(&path, Some(&s), &[]).await
        }
        // A new password must differ from the current one: change it, then change it back.
        ("POST", "/api/v1/me/password") => {
            let r = app.api(m.clone(), &path, cred, Some(json!({"current_password": PASSWORD, "new_password": INTERIM}))).await;
            if r.status.is_success() {
                app.api(m, &path, cred, Some(json!({"current_password": INTERIM, "new_password": PASSWORD}))).await;
            }
            r
        }
        ("POST", "/account/password") => {
            let r = app.form(&path, sess, &[("current_password", PASSWORD), ("new_password", INTERIM)]).await;
            if r.status == StatusCode::SEE_OTHER {
                app.form(&path, sess, &[("current_password", INTERIM), ("new_password", PASSWORD)]).await;
            }
            r
        }
        ("POST", "/api/v1/tokens") => app.api(m, &path, cred, Some(json!({"name": "matrix"}))).await,
        ("POST", "/account/tokens") => app.form(&path, sess, &[("name", "matrix")]).await,
        ("POST", "/api/v1/units") => {
            let u = unit_of(target.unwrap());
            let body = json!({"parent_id": u.id, "name": unique("新单位"), "kind": kind(u), "locality_kind": lk(u)});
            app.api(m, &path, cred, Some(body)).await
        }
        ("POST", "/units") => {
            let u = unit_of(target.unwrap());
            let (name, k, l, pid) = (unique("新单位"), kind(u), lk(u).unwrap_or_default(), u.id.to_string());
            app.form(&path, sess, &[("parent_id", &pid), ("name", &name), ("kind", &k), ("locality_kind", &l)]).await
        }
        // The unit's own fields sent back unchanged (registration included),
        // as an edit of its contact details would.
        ("PATCH", "/api/v1/units/{id}") => {
            let u = unit_of(target.unwrap());
            let mut body = serde_json::to_value(u).unwrap();
            body.as_object_mut().unwrap().remove("version");
            app.api(m, &path, cred, Some(body)).await
        }
        ("POST", "/units/{id}") => {
            let u = unit_of(target.unwrap());
            let (k, l) = (kind(u), lk(u).unwrap_or_default());
            let (short, duties) = (u.short_name.clone().unwrap_or_default(), u.duties.clone().unwrap_or_default());
            let fields = [("name", u.name.as_str()), ("short_name", &short), ("kind", &k), ("locality_kind", &l), ("duties", &duties)];
            app.form(&path, sess, &fields).await
        }
        ("POST", "/api/v1/users") => {
            let body = json!({"username": unique("new-user-"), "display_name": "新检查员", "unit_id": target.unwrap(),
                "role": "inspector", "password": PASSWORD});
            app.api(m, &path, cred, Some(body)).await
        }
        ("POST", "/users") => {
            let name = unique("new-user-");
            let fields = [("username", name.as_str()), ("display_name", "新检查员"), ("unit_id", target.unwrap()), ("role", "inspector"), ("password", PASSWORD)];
            app.form(&path, sess, &fields).await
        }
        ("PATCH", "/api/v1/users/{id}") => app.api(m, &path, cred, Some(json!({"display_name": "改过的名字"}))).await,
        ("POST", "/api/v1/users/{id}/password") => app.api(m, &path, cred, Some(json!({"new_password": "Reset-pass-2"}))).await,
        ("POST", "/users/{id}") => app.form(&path, sess, &[("active", "true")]).await,
        ("POST", "/users/{id}/password") => app.form(&path, sess, &[("password", "Reset-pass-2")]).await,
        ("POST", "/api/v1/indicators/{id}/values") => {
            let body = json!({"value": "80", "measured_on": "2021-04-30", "evidence": "检查人员台账"});
            app.api(m, &path, cred, Some(body)).await
        }
        ("POST", "/indicators/{id}/values") => {
            app.form(&path, sess, &[("value", "80"), ("measured_on", "2021-04-30"), ("evidence", "检查人员台账")]).await
        }
        ("POST", "/api/v1/hazards/import") => {
            let csv = "所在单位,隐患名称,隐患描述,发现日期\n不存在的单位,消防通道堵塞,堆放杂物,2021-04-30\n";
            app.multipart("/api/v1/hazards/import?mode=dry_run", cred, &[], &[("file", "台账.csv", csv.as_bytes())]).await
        }
        ("POST", "/api/v1/hazards/{id}/attachments") => app.multipart(&path, cred, &[("comment", "现场照片")], &[("document", "说明.txt", "现场情况说明".as_bytes())]).await,
        ("GET", "/api/v1/hazards/{id}/listing-notice") | ("GET", "/api/v1/hazards/{id}/rectification-order") => {
            // Listed and assigned first, by the town, so that both documents exist.
            let ctx = admin_ctx(app, w).await;
            let id = bihuan_domain::ids::HazardId::parse(target.unwrap()).unwrap();
            let assign = bihuan_service::hazards::ActionInput { action: "assign".into(), responsible_person: Some("李四".into()), deadline: Some("2021-06-30".into()), ..Default::default() };
            app.svc.act_on_hazard(&ctx, id, &assign).await.unwrap();
            let list = bihuan_service::hazards::ActionInput {
                action: "list".into(), document_number: Some("督〔2021〕1号".into()), required_by: Some("2021-06-30".into()), signatory: Some("赵六".into()), ..Default::default()
            };
            app.svc.act_on_hazard(&ctx, id, &list).await.unwrap();
            app.api(m, &path, cred, None).await
        }
        ("GET", "/api/v1/calendar/due") => app.api(m, "/api/v1/calendar/due?from=2021-04-30&days=3", cred, None).await,
        ("PUT", "/api/v1/calendar/{year}") => {
            let notices = bihuan_domain::calendar::parse_notices(bihuan_domain::calendar::BUNDLED_CALENDAR).unwrap();
            let n = notices.iter().find(|n| n.year == 2027).unwrap();
            app.api(m, "/api/v1/calendar/2027", cred, Some(serde_json::to_value(n).unwrap())).await
        }
        ("POST", "/api/v1/hazards") => {
            let body = json!({"unit_id": target.unwrap(), "name": unique("隐患"), "description": "消防通道堵塞", "level": "general"});
            app.api(m, &path, cred, Some(body)).await
        }
        ("PATCH", "/api/v1/hazards/{id}") => {
            app.api(m, &path, cred, Some(json!({"name": "修改后的隐患名称", "description": "描述", "level": "general"}))).await
        }
        ("PUT", "/api/v1/hazards/{id}/plan") => app.api(m, &path, cred, Some(json!({"measures": "清理通道"}))).await,
        ("POST", "/api/v1/hazards/{id}/actions") => {
            app.api(m, &path, cred, Some(json!({"action": "dismiss", "dismiss_reason": "not_a_hazard", "comment": "核实后不构成隐患"}))).await
        }
        ("POST", "/hazards") => {
            let name = unique("隐患");
            let fields = [("unit", target.unwrap()), ("name", name.as_str()), ("description", "消防通道堵塞"), ("level", "general")];
            app.form(&path, sess, &fields).await
        }
        ("POST", "/hazards/{id}/act") => {
            let fields = [("action", "dismiss"), ("dismiss_reason", "not_a_hazard"), ("comment", "核实后不构成隐患")];
            app.form(&path, sess, &fields).await
        }
        ("POST", "/hazards/{id}/attachments") => app.multipart(&path, cred, &[("comment", "说明")], &[("document", "说明.txt", "现场情况说明".as_bytes())]).await,
        ("POST", "/hazards/import") => {
            let csv = "所在单位,隐患名称,隐患描述,发现日期\n不存在的单位,消防通道堵塞,堆放杂物,2021-04-30\n";
            app.multipart("/hazards/import", cred, &[("mode", "dry_run")], &[("file", "台账.csv", csv.as_bytes())]).await
        }
        ("POST", "/hazards/{id}/plan") => app.form(&path, sess, &[("measures", "清理通道")]).await,
        ("POST", "/api/v1/measures") => {
            let body = json!({"unit_id": target.unwrap(), "area_id": chem_area(app, w).await, "kind": "measure", "title": unique("措施"),
                "content": "建立危化品运输信息共享机制", "deadline": "2021-06-30"});
            app.api(m, &path, cred, Some(body)).await
        }
        ("PATCH", "/api/v1/measures/{id}") => {
            let body = json!({"kind": "system", "title": "修改后的措施名称", "content": "修改后的内容", "deadline": "2021-07-31"});
            app.api(m, &path, cred, Some(body)).await
        }
        ("POST", "/api/v1/measures/{id}/actions") => app.api(m, &path, cred, Some(json!({"action": "progress", "note": "已完成初稿"}))).await,
        ("POST", "/measures") => {
            let (title, area) = (unique("措施"), chem_area(app, w).await);
            let fields = [("unit_id", target.unwrap()), ("area_id", area.as_str()), ("kind", "measure"), ("title", title.as_str()),
                ("content", "建立危化品运输信息共享机制"), ("deadline", "2021-06-30")];
            app.form(&path, sess, &fields).await
        }
        ("POST", "/measures/{id}/act") => app.form(&path, sess, &[("action", "progress"), ("note", "已完成初稿")]).await,
        ("POST", "/measures/{id}/edit") => {
            let fields = [("kind", "system"), ("title", "修改后的措施名称"), ("content", "修改后的内容"), ("deadline", "2021-07-31")];
            app.form(&path, sess, &fields).await
        }
        ("PUT", "/api/v1/warning-rules/{code}") | ("POST", "/warnings/rules/{code}") => {
            let rule = app.svc.warning_rules().await.unwrap().into_iter().find(|r| r.code == "hazard_deadline_near").unwrap();
            let path = route.replace("{code}", &rule.code);
            if method == Method::PUT {
                let body = json!({"enabled": true, "params": {"working_days": 3}, "version": rule.version});
                app.api(m, &path, cred, Some(body)).await
            } else {
                let v = rule.version.to_string();
                app.form(&path, sess, &[("enabled", "on"), ("params", "{\"working_days\": 3}"), ("version", &v)]).await
            }
        }
        ("POST", "/api/v1/units/{id}/statistics-reports") => {
            let period = format!("{}", 1901 + SEQ.fetch_add(1, Ordering::Relaxed) % 119);
            app.api(m, &path, cred, Some(json!({"period": period, "signed_by": "张三"}))).await
        }
        ("POST", "/units/{id}/statistics") => {
            let period = format!("{}", 1901 + SEQ.fetch_add(1, Ordering::Relaxed) % 119);
            app.form(&path, sess, &[("period", &period), ("signed_by", "张三")]).await
        }
        ("POST", "/api/v1/channels") => {
            let body = json!({"kind": "wecom", "unit_id": target.unwrap(), "name": unique("安全群"),
                "address": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"});
            app.api(m, &path, cred, Some(body)).await
        }
        ("POST", "/channels") => {
            let name = unique("安全群");
            let fields = [("kind", "wecom"), ("unit_id", target.unwrap()), ("name", name.as_str()),
                ("address", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"), ("min_level", "blue"), ("immediate_level", "red")];
            app.form(&path, sess, &fields).await
        }
        ("PATCH", "/api/v1/channels/{id}") => {
            let c = app.svc.channels(&bihuan_service::Ctx::system("t")).await.unwrap().into_iter().find(|c| c.id.to_string() == target.unwrap()).unwrap();
            app.api(m, &path, cred, Some(json!({"kind": "wecom", "name": "改名的群", "address": "", "version": c.version}))).await
        }
        ("POST", "/channels/{id}") => {
            let c = app.svc.channels(&bihuan_service::Ctx::system("t")).await.unwrap().into_iter().find(|c| c.id.to_string() == target.unwrap()).unwrap();
            let v = c.version.to_string();
            app.form(&path, sess, &[("name", "改名的群"), ("version", &v), ("enabled", "on"), ("min_level", "blue"), ("immediate_level", "red")]).await
        }
        ("POST", "/channels/{id}/test") | ("POST", "/deliveries/{id}/retry") => app.form(&path, sess, &[]).await,
        ("POST", "/api/v1/warnings/{id}/acknowledge") => app.api(m, &path, cred, Some(json!({"comment": "已安排整改"}))).await,
        ("POST", "/warnings/{id}/acknowledge") => app.form(&path, sess, &[("comment", "已安排整改")]).await,
        ("POST", "/api/v1/notifications/read") => app.api(m, &path, cred, Some(json!({}))).await,
        ("POST", "/api/v1/circulars") => {
            let warning = world::warning_at(app, who.rel_units[0]).await;
            app.api(m, &path, cred, Some(json!({"kind": "warnings", "warning_ids": [warning]}))).await
        }
        ("POST", "/circulars") => {
            let warning = world::warning_at(app, who.rel_units[0]).await.to_string();
            app.form(&path, sess, &[("kind", "warnings"), ("warning", &warning)]).await
        }
        ("PATCH", "/api/v1/circulars/{id}") => app.api(m, &path, cred, Some(json!({"title": "关于全镇预警情况的通报（修改）"}))).await,
        ("POST", "/circulars/{id}") => {
            let fields = [("title", "关于全镇预警情况的通报（修改）"), ("number_prefix", "南安办通"), ("addressee", "各有关单位"), ("opening", ""),
                ("requirements", "5个工作日内处置完毕"), ("cc", "镇领导")];
            app.form(&path, sess, &fields).await
        }
        ("POST", "/api/v1/circulars/{id}/issue") => app.api(m, &path, cred, Some(json!({}))).await,
        ("POST", "/circulars/{id}/issue") | ("POST", "/circulars/{id}/delete") => app.form(&path, sess, &[]).await,
        ("POST", "/warnings/run") | ("POST", "/inbox/read") => app.form(&path, sess, &[]).await,
        ("GET", p) if !p.starts_with("/api/") => app.page(&path, sess).await,
        (_, p) if p.starts_with("/api/") => app.api(m, &path, cred, None).await,
        ("POST", "/account/tokens/{id}/revoke") => app.form(&path, sess, &[]).await,
        _ => panic!("no request defined for {method} {route}"),
    }
}

/// A new office user of the unrelated town, acting.
async fn other_town_office(app: &TestApp, w: &World) -> bihuan_service::Ctx {
    let unrelated = w.person(Role::Admin).rel_units[4];
    let town = w.units[&unrelated].parent_id.unwrap();
    let name = unique("other-office-");
    world::user(app, &name, Role::Office, town).await;
    let user = app.svc.user_by_name(&name).await.unwrap().unwrap();
    let mut tx = app.svc.db.read().await.unwrap();
    let actor = app.svc.actor_for(&mut tx, &user).await.unwrap();
    tx.commit().await.unwrap();
    bihuan_service::Ctx::user(actor, None)
}

/// A circular about a fresh warning at `unit`, composed by `by` (and issued, so sent to `unit`).
async fn circular_about(app: &TestApp, by: &bihuan_service::Ctx, unit: bihuan_domain::ids::UnitId, issue: bool) -> String {
    let warning = world::warning_at(app, unit).await;
    let input = bihuan_service::circulars::ComposeInput { kind: bihuan_domain::circular::CircularKind::Warnings, warning_ids: vec![warning] };
    let c = app.svc.compose_circular(by, &input).await.unwrap();
    if issue {
        app.svc.issue_circular(by, c.id, None).await.unwrap();
    }
    c.id.to_string()
}

/// The chemicals area (a03) of the Nanxiang campaign, led by the 安监所.
async fn chem_area(app: &TestApp, w: &World) -> String {
    let c = app.svc.campaign(&bihuan_service::Ctx::system("t"), w.nanxiang).await.unwrap();
    c.areas.iter().find(|a| a.code == "a03").unwrap().id.to_string()
}

async fn targets(app: &TestApp, w: &World, who: &Person, t: Target) -> Vec<Option<String>> {
    match t {
        Target::Public => vec![],
        Target::None => vec![None],
        Target::Units => who.rel_units.iter().map(|u| Some(u.to_string())).collect(),
        Target::Users => who.rel_users.iter().map(|u| Some(u.to_string())).collect(),
        Target::Campaigns => vec![Some(w.nanxiang.to_string()), Some(w.other_campaign.to_string())],
        Target::Indicators => vec![Some(w.nanxiang_indicator.clone()), Some(w.other_indicator.clone())],
        Target::Hazards | Target::Attachments => {
            let ctx = admin_ctx(app, w).await;
            let mut out = Vec::new();
            for unit in [who.rel_units[1], who.rel_units[4]] {
                let d = bihuan_domain::hazard::HazardDraft {
                    unit_id: Some(unit.to_string()),
                    name: "配电箱门缺失".into(),
                    description: "带电部位外露".into(),
                    level: Some("general".into()),
                    ..Default::default()
                };
                let h = app.svc.report_hazard(&ctx, &d, None).await.unwrap();
                if t == Target::Attachments {
                    let up = bihuan_service::attachments::Upload { bytes: png(), file_name: "现场.png".into(), role: bihuan_service::attachments::AttachmentRole::Before };
                    let a = app.svc.attach_to_hazard(&ctx, h.id, vec![up], None).await.unwrap();
                    out.push(Some(a[0].id.to_string()));
                } else {
                    out.push(Some(h.id.to_string()));
                }
            }
            out
        }
        Target::Measures => {
            let ctx = admin_ctx(app, w).await;
            let mut out = Vec::new();
            for unit in [who.rel_units[0], who.rel_units[1], who.rel_units[4]] {
                let d = bihuan_domain::measure::MeasureDraft {
                    unit_id: Some(unit.to_string()),
                    kind: Some("measure".into()),
                    title: unique("制定安全生产责任清单"),
                    content: "明确各岗位安全生产职责".into(),
                    deadline: Some("2021-06-30".into()),
                    ..Default::default()
                };
                out.push(Some(app.svc.create_measure(&ctx, &d).await.unwrap().id.to_string()));
            }
            out
        }
        Target::Channels | Target::Deliveries => {
            let mut out = Vec::new();
            for unit in [who.rel_units[0], who.rel_units[1], who.rel_units[4]] {
                let id = if t == Target::Channels { world::channel_of(app, unit).await } else { world::failed_delivery_of(app, unit).await };
                out.push(Some(id.to_string()));
            }
            out
        }
        Target::Warnings => {
            let mut out = Vec::new();
            for unit in [who.rel_units[0], who.rel_units[1], who.rel_units[4]] {
                out.push(Some(world::warning_at(app, unit).await.to_string()));
            }
            out
        }
        Target::Notifications => {
            let own = world::notification_for(app, who.user_id.0).await;
            let other = world::notification_for(app, w.stranger.0).await;
            vec![Some(own.to_string()), Some(other.to_string())]
        }
        Target::Circulars => {
            let town = admin_ctx(app, w).await;
            let other = other_town_office(app, w).await;
            vec![
                Some(circular_about(app, &town, who.rel_units[0], true).await),
                Some(circular_about(app, &town, who.rel_units[2], true).await),
                Some(circular_about(app, &other, who.rel_units[4], true).await),
            ]
        }
        Target::CircularDrafts => {
            let town = admin_ctx(app, w).await;
            let other = other_town_office(app, w).await;
            vec![Some(circular_about(app, &town, who.rel_units[0], false).await), Some(circular_about(app, &other, who.rel_units[4], false).await)]
        }
        Target::Tokens => {
            let own = app.svc.create_token(&bihuan_service::Ctx::system("t"), who.user_id, "own", None).await.unwrap().0;
            let other = app.svc.create_token(&bihuan_service::Ctx::system("t"), w.stranger, "other", None).await.unwrap().0;
            vec![Some(own.id.to_string()), Some(other.id.to_string())]
        }
    }
}

async fn permission_matrix(app: TestApp) {
    let w = world::build(&app).await;
    let table = expectations();
    let routes = route_table();
    // The table and the router agree.
    for r in &routes {
        let e = table.iter().find(|(m, p, ..)| *m == r.method && *p == r.path);
        let e = e.unwrap_or_else(|| panic!("route {} {} has no expectation in the matrix", r.method, r.path));
        assert_eq!(e.2 == Target::Public, r.access == Access::Public, "{} {}: access", r.method, r.path);
    }
    for (m, p, ..) in &table {
        assert!(routes.iter().any(|r| r.method == *m && r.path == *p), "expectation for {m} {p} has no route");
    }
    assert_eq!(Role::ALL.len(), 8);
    let mut failures = Vec::new();
    for (method, route, target, expect) in &table {
        for (i, role) in Role::ALL.iter().enumerate() {
            let who = w.person(*role);
            let mut got = String::new();
            for t in targets(&app, &w, who, *target).await {
                let r = call(&app, &w, who, method, route, t.as_deref()).await;
                let c = outcome(route, method, &r);
                if route.starts_with("/api/") {
                    match c {
                        'F' => assert_eq!(r.error_code(), "forbidden", "{method} {route}"),
                        'N' => assert_eq!(r.error_code(), "not_found", "{method} {route}"),
                        'V' => assert_eq!(r.error_code(), "validation", "{method} {route}"),
                        _ => {}
                    }
                }
                got.push(c);
            }
            if *target != Target::Public && got != expect[i] {
                failures.push(format!("{method} {route} as {}: expected {} got {got}", role.as_str(), expect[i]));
            }
        }
    }
    assert!(failures.is_empty(), "permission matrix mismatches:\n{}", failures.join("\n"));

    // Bearer tokens act like sessions (spot checks, one per target kind).
    for p in &w.people {
        let r = app.get(&format!("/api/v1/units/{}", p.rel_units[0]), Cred::Bearer(&p.token)).await;
        assert_eq!(r.status, StatusCode::OK, "{:?} bearer own unit", p.role);
        let r = app.get(&format!("/api/v1/units/{}", p.rel_units[4]), Cred::Bearer(&p.token)).await;
        let want = if p.role == Role::Admin { StatusCode::OK } else { StatusCode::NOT_FOUND };
        assert_eq!(r.status, want, "{:?} bearer unrelated unit", p.role);
    }

    list_scoping(&app, &w).await;
}

/// Lists hold only what the caller may see.
async fn list_scoping(app: &TestApp, w: &World) {
    for p in &w.people {
        let r = app.get("/api/v1/units?limit=1000", Cred::Session(&p.session)).await;
        assert_eq!(r.status, StatusCode::OK);
        let items = r.json()["items"].as_array().unwrap().clone();
        let ids: Vec<String> = items.iter().map(|u| u["id"].as_str().unwrap().to_string()).collect();
        let scope_root = match p.role {
            Role::Admin => None,
            Role::Office | Role::Leader => Some(format!("/{}/", w.gov.0.simple())),
            _ => Some(format!("/{}/", p.unit.0.simple())),
        };
        for u in &items {
            let path = u["path"].to_string();
            if let Some(root) = &scope_root {
                assert!(path.contains(root.as_str()), "{:?} sees {} outside its scope", p.role, u["name"]);
            }
        }
        assert!(ids.contains(&p.unit.to_string()), "{:?} sees its own unit", p.role);
        assert!(ids.contains(&p.rel_units[1].to_string()), "{:?} sees its child unit", p.role);
        let sees_unrelated = ids.contains(&p.rel_units[4].to_string());
        assert_eq!(sees_unrelated, p.role == Role::Admin, "{:?} and the unrelated unit", p.role);
        if !matches!(p.role, Role::Admin | Role::Office | Role::Leader) {
            assert!(!ids.contains(&p.rel_units[2].to_string()), "{:?} sees its sibling", p.role);
        }

        let r = app.get("/api/v1/users?limit=1000", Cred::Session(&p.session)).await;
        assert_eq!(r.status, StatusCode::OK);
        let users = r.json()["items"].as_array().unwrap().clone();
        assert!(!users.is_empty());
        for u in &users {
            let unit = u["unit_id"].as_str().unwrap().to_string();
            assert!(ids.contains(&unit), "{:?} lists user {} of a unit it cannot see", p.role, u["username"]);
        }

        let r = app.get("/api/v1/campaigns", Cred::Session(&p.session)).await;
        assert_eq!(r.status, StatusCode::OK);
        let codes: Vec<Value> = r.json().as_array().unwrap().iter().map(|c| c["code"].clone()).collect();
        assert!(codes.contains(&json!("nanxiang-2020")), "{:?}", p.role);
        assert_eq!(codes.contains(&json!("other-2020")), p.role == Role::Admin, "{:?}", p.role);
    }
}

/// Every public route answers without credentials; every other route
/// refuses: the API with 401 JSON, pages with a redirect to the login page.
async fn anonymous_access(app: TestApp) {
    let any_id = uuid::Uuid::now_v7().to_string();
    for r in route_table() {
        let path = r.path.replace("{id}", &any_id);
        let api = path.starts_with("/api/") || path == "/healthz";
        if r.access == Access::Public {
            continue;
        }
        let res = if api {
            let body = (r.method != Method::GET && r.method != Method::DELETE).then(|| json!({}));
            app.api(r.method.clone(), &path, Cred::Anonymous, body).await
        } else if r.method == Method::GET {
            app.page(&path, None).await
        } else {
            app.form(&path, None, &[("csrf", "x")]).await
        };
        if api {
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{} {}", r.method, r.path);
            assert_eq!(res.error_code(), "unauthenticated", "{} {}", r.method, r.path);
        } else {
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{} {}", r.method, r.path);
            assert!(res.location().starts_with("/login"), "{} {} → {}", r.method, r.path, res.location());
        }
    }

    // The public routes, without credentials.
    for p in ["/healthz", "/api/v1/openapi.json", "/static/app.css", "/static/app.js", "/login"] {
        assert_eq!(app.page(p, None).await.status, StatusCode::OK, "{p}");
    }
    let creds = json!({"username": "admin", "password": crate::harness::ADMIN_PASSWORD});
    assert_eq!(app.api(Method::POST, "/api/v1/auth/login", Cred::Anonymous, Some(creds.clone())).await.status, StatusCode::OK);
    assert_eq!(app.api(Method::POST, "/api/v1/auth/token", Cred::Anonymous, Some(creds)).await.status, StatusCode::CREATED);
    // The login form: its CSRF token comes in a cookie and a hidden field.
    let page = app.page("/login", None).await;
    let cookie = page.cookie("bihuan_login_csrf").expect("login csrf cookie");
    let token = cookie.split_once('=').unwrap().1.to_string();
    assert!(page.text().contains(&token), "the form carries the csrf token");
    let body = crate::harness::encode_form(&[
        ("csrf".into(), token),
        ("username".into(), "admin".into()),
        ("password".into(), crate::harness::ADMIN_PASSWORD.into()),
    ]);
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(axum::body::Body::from(body))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(res.location(), "/");
    assert!(res.cookie(bihuan_web::auth::SESSION_COOKIE).is_some());
    // Without the cookie the form is refused.
    let res = app.form("/login", None, &[("csrf", "x"), ("username", "admin"), ("password", crate::harness::ADMIN_PASSWORD)]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

scenario!(permission_matrix => sqlite_permission_matrix, postgres_permission_matrix);
scenario!(anonymous_access => sqlite_anonymous_access, postgres_anonymous_access);
