//! The closed loop through HTTP, as the check describes it: an
//! enterprise reports, the office assigns with a deadline, the enterprise
//! rectifies and submits, the inspector rejects once and then accepts; a
//! major hazard cannot be submitted without its plan; overdue shows the day
//! after the deadline; an extension moves it only when approved; an
//! unrelated enterprise sees nothing; the calendar answers due dates.

use crate::harness::{scenario, Cred, TestApp};
use crate::world::{user, PASSWORD};
use axum::http::{Method, StatusCode};
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitDraft;
use bihuan_service::Ctx;
use serde_json::{json, Value};

/// A unit of `kind` under `parent` (a village when it is a locality).
pub async fn unit(app: &TestApp, parent: bihuan_domain::ids::UnitId, name: &str, kind: &str) -> bihuan_domain::ids::UnitId {
    let d = UnitDraft { name: name.into(), kind: Some(kind.into()), locality_kind: (kind == "locality").then(|| "village".into()), ..Default::default() };
    app.svc.create_unit(&Ctx::system("t"), Some(parent), &d).await.unwrap().id
}

async fn hazard_loop(app: TestApp) {
    let gov = app.svc.home_unit().await.unwrap();
    let units = crate::world::all_units(&app).await;
    let office_unit = units.iter().find(|u| u.name == "镇安全生产专项整治三年行动领导小组办公室").unwrap().id;
    let village = unit(&app, gov, "红翔村", "locality").await;
    let grid = unit(&app, village, "红翔村第一网格", "grid").await;
    let firm = unit(&app, grid, "上海甲机械有限公司", "enterprise").await;
    let other = unit(&app, grid, "上海乙食品有限公司", "enterprise").await;
    user(&app, "h-office", Role::Office, office_unit).await;
    user(&app, "h-grid", Role::Inspector, grid).await;
    user(&app, "h-firm", Role::Enterprise, firm).await;
    user(&app, "h-other", Role::Enterprise, other).await;
    let office = app.login("h-office", PASSWORD).await;
    let inspector = app.login("h-grid", PASSWORD).await;
    let boss = app.login("h-firm", PASSWORD).await;
    let stranger = app.login("h-other", PASSWORD).await;
    let post = |s, path: String, body: Value| {
        let app = app.clone();
        async move { app.api(Method::POST, &path, Cred::Session(s), Some(body)).await }
    };

    // Bad input is refused field by field, in Chinese by default and English on request.
    let r = post(&boss, "/api/v1/hazards".into(), json!({"unit_id": firm, "name": "", "level": "严重"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = r.json()["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, ["name", "description", "level"], "{}", r.text());
    let r = app.api_lang(Method::POST, "/api/v1/hazards", Cred::Session(&boss), Some(json!({"unit_id": firm})), Some("en")).await;
    assert!(r.json()["error"]["fields"][0]["message"].as_str().unwrap_or_default().is_ascii() || r.text().contains("Name the hazard"), "{}", r.text());

    let r = post(&boss, "/api/v1/hazards".into(), json!({
        "unit_id": firm, "name": "二号车间消防通道堵塞", "description": "东侧通道堆放托盘", "level": "general", "hazard_type": "fire"
    })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["state"], "reported");
    assert_eq!(app.get(&format!("/api/v1/hazards/{id}"), Cred::Session(&stranger)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/hazards", Cred::Session(&stranger)).await.json()["items"], json!([]));

    let act = |s, body: Value| post(s, format!("/api/v1/hazards/{id}/actions"), body);
    // The office assigns: 10 working days from Saturday 1 May 2021, across the May Day holiday.
    let r = act(&office, json!({"action": "assign", "responsible_person": "李四", "deadline_days": 10})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["deadline"], "2021-05-18");
    let due = app.get("/api/v1/calendar/due?from=2021-05-01&days=10", Cred::Session(&boss)).await.json();
    assert_eq!((due["due"].as_str(), due["covered"].as_bool()), (Some("2021-05-18"), Some(true)));

    // Submitting too early names the missing 五到位; the plan fills them.
    let r = act(&boss, json!({"action": "submit", "rectification": "已清理"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = app
        .api(Method::PUT, &format!("/api/v1/hazards/{id}/plan"), Cred::Session(&boss),
            Some(json!({"measures": "清理通道", "funds": "0.2", "contingency": "专人值守"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(act(&boss, json!({"action": "submit", "rectification": "已清理"})).await.status, StatusCode::OK);
    // The grid inspector above the enterprise sends it back once.
    let r = act(&inspector, json!({"action": "reject", "reason": "仍有杂物"})).await;
    assert_eq!((r.status, r.json()["state"].as_str()), (StatusCode::OK, Some("rectifying")));
    assert_eq!(act(&boss, json!({"action": "submit", "rectification": "全部清理"})).await.status, StatusCode::OK);
    let r = act(&inspector, json!({"action": "accept", "comment": "合格"})).await;
    assert_eq!(r.json()["state"], "closed");
    // An action not possible now is a conflict, with the reason.
    let r = act(&boss, json!({"action": "submit", "rectification": "x"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let d = app.get(&format!("/api/v1/hazards/{id}"), Cred::Session(&office)).await.json();
    let actions: Vec<&str> = d["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "assign", "plan", "submit", "reject", "submit", "accept"]);
    assert_eq!(d["actions"], json!(["reopen"]));

    // A major hazard found by the inspector: not submittable without its report and plan.
    let r = post(&inspector, "/api/v1/hazards".into(), json!({
        "unit_id": firm, "name": "液氨储罐无泄漏报警", "description": "未设有毒气体报警", "level": "major", "deadline": "x"
    })).await;
    let mid = r.json()["id"].as_str().unwrap().to_string();
    let mact = |s, body: Value| post(s, format!("/api/v1/hazards/{mid}/actions"), body);
    assert_eq!(mact(&office, json!({"action": "assign", "responsible_person": "王五", "deadline": "2021-05-06"})).await.status, StatusCode::OK);
    app.api(Method::PUT, &format!("/api/v1/hazards/{mid}/plan"), Cred::Session(&boss),
        Some(json!({"measures": "安装报警", "funds": "12", "contingency": "停用储罐"}))).await;
    let r = mact(&boss, json!({"action": "submit", "rectification": "已安装"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["fields"].as_array().unwrap().len(), 9, "{}", r.text());

    // Overdue the day after the deadline (6 May), not on it. (Sessions idle
    // for days have ended: log in again.)
    app.clock.advance(time::Duration::days(5));
    let office = app.login("h-office", PASSWORD).await;
    let overdue = |app: TestApp, s: crate::harness::Session| async move {
        app.get("/api/v1/hazards?overdue=true", Cred::Session(&s)).await.json()["items"].as_array().unwrap().len()
    };
    assert_eq!(overdue(app.clone(), office.clone()).await, 0);
    // On the deadline day the enterprise asks for more time: the deadline
    // stays until the request is approved.
    let boss = app.login("h-firm", PASSWORD).await;
    let r = mact(&boss, json!({"action": "request_extension", "requested_deadline": "2021-06-30", "reason": "设备到货延迟"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["deadline"], "2021-05-06");
    app.clock.advance(time::Duration::days(1));
    let office = app.login("h-office", PASSWORD).await;
    let boss = app.login("h-firm", PASSWORD).await;
    assert_eq!(overdue(app.clone(), office.clone()).await, 1);
    let st = app.get("/api/v1/hazards/stats?by=level", Cred::Session(&office)).await.json();
    assert_eq!((st["total"]["total"].as_i64(), st["total"]["overdue"].as_i64(), st["total"]["closed"].as_i64()), (Some(2), Some(1), Some(1)));

    // An extension moves the deadline only when approved, by whoever assigned it.
    assert_eq!(mact(&boss, json!({"action": "decide_extension", "approve": true})).await.status, StatusCode::FORBIDDEN);
    let r = mact(&office, json!({"action": "decide_extension", "approve": true, "comment": "同意"})).await;
    assert_eq!(r.json()["deadline"], "2021-06-30");
    assert_eq!(overdue(app.clone(), office.clone()).await, 0);

    // Only an administrator changes the calendar, and only with a sound notice.
    let mut cal: Value = app.get("/api/v1/calendar", Cred::Session(&office)).await.json();
    let notice = cal.as_array_mut().unwrap().iter_mut().find(|n| n["year"] == 2027).unwrap().clone();
    assert_eq!(app.api(Method::PUT, "/api/v1/calendar/2027", Cred::Session(&office), Some(notice.clone())).await.status, StatusCode::FORBIDDEN);
    let admin = app.login("admin", crate::harness::ADMIN_PASSWORD).await;
    let mut bad = notice.clone();
    bad["workdays"] = json!([{"name": "调休", "date": "2027-03-03"}]);
    let r = app.api(Method::PUT, "/api/v1/calendar/2027", Cred::Session(&admin), Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a Wednesday is no make-up day: {}", r.text());
    let mut good = notice;
    good["workdays"] = json!([{"name": "春节调休", "date": "2027-02-20"}]);
    assert_eq!(app.api(Method::PUT, "/api/v1/calendar/2027", Cred::Session(&admin), Some(good)).await.status, StatusCode::OK);
    let due = app.get("/api/v1/calendar/due?from=2027-02-19&days=1", Cred::Session(&boss)).await.json();
    assert_eq!(due["due"], "2027-02-20", "Saturday 20 February 2027 is now a working day");

    // Files: a photo goes in and comes back, with a thumbnail; the list says who and what.
    let stranger = app.login("h-other", PASSWORD).await;
    let photo = crate::matrix_png();
    let r = app.multipart(&format!("/api/v1/hazards/{mid}/attachments"), Cred::Session(&boss), &[("comment", "现场照片")], &[("before", "现场.png", &photo)]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let att = r.json()[0].clone();
    assert_eq!((att["kind"].as_str(), att["role"].as_str()), (Some("image"), Some("before")));
    let r = app.get(&format!("/api/v1/attachments/{}/thumbnail", att["id"].as_str().unwrap()), Cred::Session(&office)).await;
    assert_eq!((r.status, r.headers["content-type"].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));
    assert_eq!(app.get(&format!("/api/v1/attachments/{}", att["id"].as_str().unwrap()), Cred::Session(&stranger)).await.status, StatusCode::NOT_FOUND);
    let r = app.multipart(&format!("/api/v1/hazards/{mid}/attachments"), Cred::Session(&boss), &[], &[("before", "网页.jpg", b"<html><script>x</script></html>")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "an HTML page is no photo: {}", r.text());
    assert!(r.text().contains("网页.jpg"), "the message names the file: {}", r.text());

    // The ledger: exported as xlsx, it reads back, and importing it again creates nothing.
    let r = app.get("/api/v1/hazards/export?format=xlsx", Cred::Session(&office)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.headers["content-disposition"].to_str().unwrap().contains("filename*=UTF-8''"));
    let specs = [bihuan_reports::ColumnSpec { key: "code", aliases: &["隐患编号"], required: true }, bihuan_reports::ColumnSpec { key: "name", aliases: &["隐患名称"], required: true }];
    let table = bihuan_reports::read_table(&r.body, "ledger.xlsx", &specs).unwrap();
    assert_eq!(table.rows.len(), 2);
    let r = app.multipart("/api/v1/hazards/import?mode=apply_valid", Cred::Session(&office), &[], &[("file", "台账.xlsx", &r.body)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!((r.json()["created"].as_u64(), r.json()["already_imported"].as_u64()), (Some(0), Some(2)), "{}", r.text());
    let csv = app.get("/api/v1/hazards/export?format=csv", Cred::Session(&office)).await;
    assert!(csv.body.starts_with(b"\xEF\xBB\xBF"), "CSV for Excel starts with a BOM");

    // Upward reporting in the national codes.
    let n = app.get("/api/v1/hazards/national", Cred::Session(&office)).await.json();
    let states: Vec<i64> = n.as_array().unwrap().iter().map(|d| d["dangerState"].as_i64().unwrap()).collect();
    assert!(states.contains(&9) && states.contains(&0), "{n}");

    // The documents: a rectification order for the assigned hazard; no listing notice before it is listed.
    let r = app.get(&format!("/api/v1/hazards/{mid}/rectification-order"), Cred::Session(&office)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.body.starts_with(b"PK"));
    assert_eq!(app.get(&format!("/api/v1/hazards/{mid}/listing-notice"), Cred::Session(&office)).await.status, StatusCode::CONFLICT);
}

scenario!(hazard_loop => sqlite_hazard_loop, postgres_hazard_loop);
