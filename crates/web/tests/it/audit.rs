//! The audit trail through the API, and tamper detection.

use crate::harness::{scenario, Cred, TestApp, ADMIN_PASSWORD};
use crate::world::{user, PASSWORD};
use axum::http::{Method, StatusCode};
use bihuan_domain::audit::ChainBreak;
use bihuan_domain::role::Role;
use bihuan_store::Db;
use serde_json::json;

async fn audit_trail(app: TestApp) {
    let admin = app.login("admin", ADMIN_PASSWORD).await;
    let gov = app.svc.home_unit().await.unwrap();
    let r = app
        .api(Method::POST, "/api/v1/units", Cred::Session(&admin), Some(json!({"parent_id": gov, "name": "审计测试村", "kind": "locality", "locality_kind": "village"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let uid = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .api(Method::PATCH, &format!("/api/v1/units/{uid}"), Cred::Session(&admin), Some(json!({"name": "审计测试村（改）", "kind": "locality", "locality_kind": "village"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let r = app.get(&format!("/api/v1/audit?entity_type=unit&entity_id={uid}"), Cred::Session(&admin)).await;
    assert_eq!(r.status, StatusCode::OK);
    let entries = r.json();
    let actions: Vec<&str> = entries.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["unit.update", "unit.create"], "newest first");
    assert!(entries.as_array().unwrap().iter().all(|e| e["actor_name"] == "admin"));
    assert!(entries[0]["request_id"].as_str().is_some_and(|s| !s.is_empty()), "request id recorded");
    let all = app.get("/api/v1/audit?entity_type=unit&limit=1000", Cred::Session(&admin)).await.json();
    assert!(all.as_array().unwrap().iter().all(|e| e["entity_type"] == "unit"));

    user(&app, "office-a", Role::Office, gov).await;
    let office = app.login("office-a", PASSWORD).await;
    let r = app.get("/api/v1/audit", Cred::Session(&office)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error_code(), "forbidden");

    let report = app.svc.verify_audit().await.unwrap();
    assert_eq!(report.result, Ok(()));
    let seq = entries[1]["seq"].as_i64().unwrap();
    let sql = "UPDATE audit_entry SET actor_name = $1 WHERE seq = $2";
    let n = match &app.svc.db {
        Db::Sqlite(p) => sqlx::query(sql).bind("mallory").bind(seq).execute(p).await.unwrap().rows_affected(),
        Db::Postgres(p) => sqlx::query(sql).bind("mallory").bind(seq).execute(p).await.unwrap().rows_affected(),
    };
    assert_eq!(n, 1);
    let report = app.svc.verify_audit().await.unwrap();
    match report.result {
        Err(ChainBreak::Tampered { seq: s, .. }) => assert_eq!(s, seq),
        other => panic!("expected tampering at {seq}, got {other:?}"),
    }
}

scenario!(audit_trail => sqlite_audit_trail, postgres_audit_trail);
