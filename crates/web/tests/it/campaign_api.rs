//! The campaign API: the bundled Nanxiang plan, reporting indicator values.

use crate::harness::{scenario, Cred, TestApp};
use crate::world::{user, PASSWORD};
use axum::http::{Method, StatusCode};
use bihuan_domain::role::Role;
use serde_json::json;

pub async fn lead_department_session(app: &TestApp) -> crate::harness::Session {
    let units = crate::world::all_units(app).await;
    let ajs = units.iter().find(|u| u.name == "镇安监所").unwrap().id;
    user(app, "ajs-staff", Role::Department, ajs).await;
    app.login("ajs-staff", PASSWORD).await
}

async fn campaign_api(app: TestApp) {
    let s = lead_department_session(&app).await;
    let r = app.get("/api/v1/campaigns", Cred::Session(&s)).await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    let c = list.as_array().unwrap().iter().find(|c| c["code"] == "nanxiang-2020").expect("nanxiang listed").clone();
    let id = c["id"].as_str().unwrap();

    let r = app.get(&format!("/api/v1/campaigns/{id}"), Cred::Session(&s)).await;
    assert_eq!(r.status, StatusCode::OK);
    let camp = r.json();
    let areas = camp["areas"].as_array().unwrap();
    assert_eq!(areas.len(), 11);
    for a in areas {
        assert!(!a["lead_units"].as_array().unwrap().is_empty(), "area {} has lead units", a["code"]);
        assert!(!a["tasks"].as_array().unwrap().is_empty(), "area {} has tasks", a["code"]);
    }
    let phases = camp["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 4);
    let current: Vec<_> = phases.iter().filter(|p| p["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["name"], "集中攻坚");
    let indicators = camp["indicators"].as_array().unwrap();
    assert!(indicators.len() >= 25, "{} indicators", indicators.len());
    let ind = indicators.iter().find(|i| i["code"] == "a01-qualified-inspector-share").unwrap();
    let ind_id = ind["id"].as_str().unwrap().to_string();

    // The lead department reports a value.
    let path = format!("/api/v1/indicators/{ind_id}/values");
    let r = app
        .api(Method::POST, &path, Cred::Session(&s), Some(json!({"value": "60", "measured_on": "2021-04-30", "evidence": "检查人员花名册"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app.get(&format!("/api/v1/indicators/{ind_id}"), Cred::Session(&s)).await;
    assert_eq!(r.status, StatusCode::OK);
    let d = r.json();
    assert_eq!(d["indicator"]["latest"]["evidence"], "检查人员花名册");
    assert_eq!(d["values"].as_array().unwrap().len(), 1);
    let progress = &d["indicator"]["progress"];
    // 60 against a target of ≥ 75: 80 % of the way.
    assert_eq!(progress["percent"], "80.0", "progress: {progress}");
    let r = app.get(&path, Cred::Session(&s)).await;
    assert_eq!(r.json().as_array().unwrap().len(), 1);

    // Bad values: 422 with the fields at fault, in English when asked.
    let r = app
        .api_lang(Method::POST, &path, Cred::Session(&s), Some(json!({"value": "abc", "measured_on": "2099-01-01", "evidence": " "})), Some("en-US,en;q=0.9"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = r.json();
    assert_eq!(e["error"]["code"], "validation");
    let fields: Vec<&str> = e["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    for f in ["value", "measured_on", "evidence"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    assert!(e["error"]["fields"][0]["message"].as_str().unwrap().is_ascii(), "English: {e}");
    assert!(!e["error"]["request_id"].as_str().unwrap().is_empty());
    // In Chinese by default.
    let r = app.api(Method::POST, &path, Cred::Session(&s), Some(json!({"value": "abc", "measured_on": "2021-04-30", "evidence": "x"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!r.json()["error"]["fields"][0]["message"].as_str().unwrap().is_ascii());
}

scenario!(campaign_api => sqlite_campaign_api, postgres_campaign_api);
