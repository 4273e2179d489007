//! Sending a report or an action again — Back and submit, a refresh of the
//! answer, a phone's retry, an offline draft re-sent — registers nothing
//! twice: the form carries a submission key, the API takes `Idempotency-Key`.

use crate::harness::{scenario, Cred, Resp, Session, TestApp};
use crate::world::{user, PASSWORD};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitDraft;
use bihuan_service::Ctx;
use serde_json::{json, Value};

async fn post_keyed(app: &TestApp, path: &str, s: &Session, key: Option<&str>, body: &Value) -> Resp {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("cookie", &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .header("content-type", "application/json");
    if let Some(k) = key {
        b = b.header("idempotency-key", k);
    }
    app.send(b.body(Body::from(body.to_string())).unwrap()).await
}

async fn count(app: &TestApp, s: &Session) -> usize {
    app.get("/api/v1/hazards?limit=500", Cred::Session(s)).await.json()["items"].as_array().unwrap().len()
}

/// The value of the hidden `submission_key` field of a page.
fn submission_key(html: &str) -> String {
    let at = html.find("name=\"submission_key\" value=\"").expect("the form carries a submission key") + "name=\"submission_key\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

async fn resubmission(app: TestApp) {
    let gov = app.svc.home_unit().await.unwrap();
    let d = UnitDraft { name: "上海甲机械有限公司".into(), kind: Some("enterprise".into()), ..Default::default() };
    let firm = app.svc.create_unit(&Ctx::system("t"), Some(gov), &d).await.unwrap().id;
    user(&app, "i-firm", Role::Enterprise, firm).await;
    let boss = app.login("i-firm", PASSWORD).await;
    let report = json!({"unit_id": firm, "name": "二号车间消防通道堵塞", "description": "东侧通道堆放托盘", "level": "general"});

    // The API: the first request registers (201), the retry answers 201 with the same hazard and says so.
    let key = "0d9f7a3e-5b1c-4e2a-8f6d-7c3b2a1e9f00";
    let r = post_keyed(&app, "/api/v1/hazards", &boss, Some(key), &report).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert!(r.headers.get("idempotent-replayed").is_none());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let again = post_keyed(&app, "/api/v1/hazards", &boss, Some(key), &report).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_eq!(again.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!((again.json()["id"].as_str(), again.json()["code"].clone()), (Some(id.as_str()), r.json()["code"].clone()));
    assert_eq!(count(&app, &boss).await, 1);
    // The same key with another body: refused, naming the key.
    let other = json!({"unit_id": firm, "name": "配电箱未上锁", "description": "配电箱门未上锁", "level": "general"});
    let r = post_keyed(&app, "/api/v1/hazards", &boss, Some(key), &other).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["fields"][0]["field"], "idempotency_key");
    // A malformed key is refused before anything happens; no key, no guard.
    let r = post_keyed(&app, "/api/v1/hazards", &boss, Some("short"), &report).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(count(&app, &boss).await, 1);
    assert_eq!(post_keyed(&app, "/api/v1/hazards", &boss, None, &report).await.status, StatusCode::CREATED);
    assert_eq!(post_keyed(&app, "/api/v1/hazards", &boss, None, &report).await.status, StatusCode::CREATED);
    assert_eq!(count(&app, &boss).await, 3);

    // An action retried: 200 both times, acted once.
    let path = format!("/api/v1/hazards/{id}/actions");
    let assign = json!({"action": "assign", "responsible_person": "李四", "deadline_days": 10});
    let r = post_keyed(&app, &path, &boss, Some("assign-retry-0001"), &assign).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r2 = post_keyed(&app, &path, &boss, Some("assign-retry-0001"), &assign).await;
    assert_eq!(r2.status, StatusCode::OK, "{}", r2.text());
    assert_eq!(r2.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(r2.json()["version"], r.json()["version"]);
    let d = app.get(&format!("/api/v1/hazards/{id}"), Cred::Session(&boss)).await.json();
    assert_eq!(d["events"].as_array().unwrap().iter().filter(|e| e["action"] == "assign").count(), 1);

    // The page: the form carries a fresh key each time it is opened.
    let page = app.page("/hazards/new", Some(&boss)).await.text();
    let k = submission_key(&page);
    assert_ne!(k, submission_key(&app.page("/hazards/new", Some(&boss)).await.text()));
    let firm_s = firm.to_string();
    let fields = |name: &'static str, key: String| {
        vec![("unit", firm_s.clone()), ("name", name.to_string()), ("description", "配电箱门未上锁".to_string()), ("level", "general".to_string()),
            ("manage_type", "deadline".to_string()), ("hazard_type", "electrical".to_string()), ("submission_key", key)]
    };
    let send = |f: Vec<(&'static str, String)>| {
        let app = app.clone();
        let boss = boss.clone();
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.form("/hazards", Some(&boss), &f).await
        }
    };
    let r = send(fields("配电箱未上锁", k.clone())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().ends_with("?done=create"), "{}", r.location());
    let created = r.location();
    // Back and submit again: the same hazard, registered once.
    let r = send(fields("配电箱未上锁", k.clone())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), created.replace("done=create", "done=again"));
    assert!(app.page(&r.location(), Some(&boss)).await.text().contains("未重复登记"));
    assert_eq!(count(&app, &boss).await, 4);
    // Back, change the text, submit: nothing yet, the form says why and takes a new key.
    let r = send(fields("配电箱门损坏", k.clone())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("已经提交过"), "{}", r.text());
    let fresh = submission_key(&r.text());
    assert_ne!(fresh, k);
    assert_eq!(count(&app, &boss).await, 4);
    let r = send(fields("配电箱门损坏", fresh)).await;
    assert!(r.location().ends_with("?done=create"), "{}", r.text());
    assert_eq!(count(&app, &boss).await, 5);
    // A form shown again after a mistake keeps its key: corrected and sent, it registers once.
    let k = submission_key(&app.page("/hazards/new", Some(&boss)).await.text());
    let r = send(fields("", k.clone())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(submission_key(&r.text()), k);
    assert!(send(fields("灭火器过期", k.clone())).await.location().ends_with("?done=create"));
    assert!(send(fields("灭火器过期", k)).await.location().ends_with("?done=again"));
    assert_eq!(count(&app, &boss).await, 6);
}

scenario!(resubmission => sqlite_resubmission, postgres_resubmission);
