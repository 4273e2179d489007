//! Rules found missing when the product was first tried as a new user: who
//! may change a unit's registration, which roles fit which units, usernames,
//! passwords, indicator value ranges, and API errors that are always JSON.

use crate::campaign_api::lead_department_session;
use crate::harness::{scenario, Cred, TestApp};
use crate::world::{self, PASSWORD};
use axum::http::{Method, StatusCode};
use bihuan_domain::role::Role;
use serde_json::json;

async fn registration_and_roles(app: TestApp) {
    let w = world::build(&app).await;

    // An enterprise edits its contact details, not what it is registered as.
    let firm = w.person(Role::Enterprise);
    let unit = &w.units[&firm.unit];
    let mut body = serde_json::to_value(unit).unwrap();
    body["principal_phone"] = json!("13900001111");
    body.as_object_mut().unwrap().remove("version");
    let path = format!("/api/v1/units/{}", unit.id);
    let r = app.api(Method::PATCH, &path, Cred::Session(&firm.session), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    body["flags"] = json!(["hazardous_chemicals"]);
    let r = app.api(Method::PATCH, &path, Cred::Session(&firm.session), Some(body.clone())).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "forbidden".to_string()), "{}", r.text());
    body["flags"] = json!([]);
    body["name"] = json!("改名有限公司");
    let r = app.api(Method::PATCH, &path, Cred::Session(&firm.session), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The grid above it may.
    let inspector = w.person(Role::Inspector);
    let child = &w.units[&inspector.rel_units[1]];
    let mut body = serde_json::to_value(child).unwrap();
    body.as_object_mut().unwrap().remove("version");
    body["flags"] = json!(["hazardous_chemicals"]);
    let r = app.api(Method::PATCH, &format!("/api/v1/units/{}", child.id), Cred::Session(&inspector.session), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // An enterprise creates no units, not even branches of its own.
    let r = app
        .api(Method::POST, "/api/v1/units", Cred::Session(&firm.session), Some(json!({"parent_id": firm.unit, "name": "分公司", "kind": "enterprise"})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Roles fit units: no enterprise users in a department, no administrators in an enterprise.
    let admin = w.person(Role::Admin);
    let dept = w.person(Role::Department).unit;
    for (role, unit) in [("enterprise", dept), ("admin", firm.unit), ("department", w.gov)] {
        let body = json!({"username": format!("fit-{role}"), "display_name": "张三", "unit_id": unit, "role": role, "password": PASSWORD});
        let r = app.api(Method::POST, "/api/v1/users", Cred::Session(&admin.session), Some(body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{role}: {}", r.text());
        assert_eq!(r.json()["error"]["fields"][0]["field"], "role");
    }

    // Usernames are case-insensitive.
    let body = json!({"username": "ZhangSan", "display_name": "张三", "unit_id": dept, "role": "department", "password": PASSWORD});
    let r = app.api(Method::POST, "/api/v1/users", Cred::Session(&admin.session), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["username"], "zhangsan");
    let mut again = body;
    again["username"] = json!("zhangsan");
    let r = app.api(Method::POST, "/api/v1/users", Cred::Session(&admin.session), Some(again)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let s = app.login("ZHANGSAN", PASSWORD).await;
    let me = app.get("/api/v1/me", Cred::Session(&s)).await;
    assert_eq!(me.json()["user"]["username"], "zhangsan");

    // A new password differs from the current one and mixes character classes.
    for (new, field) in [(PASSWORD, "new_password"), ("password", "password")] {
        let r = app
            .api(Method::POST, "/api/v1/me/password", Cred::Session(&s), Some(json!({"current_password": PASSWORD, "new_password": new})))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{new}");
        assert_eq!(r.json()["error"]["fields"][0]["field"], field);
    }

    // A failed login is on the audit trail.
    let r = app.api(Method::POST, "/api/v1/auth/login", Cred::Anonymous, Some(json!({"username": "zhangsan", "password": "wrong-pass-1"}))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.get("/api/v1/audit?action=auth.login_failed", Cred::Session(&admin.session)).await;
    let entries = r.json();
    assert!(entries.as_array().unwrap().iter().any(|e| e["after"].as_str().unwrap_or_default().contains("zhangsan")), "{entries}");
}

async fn values_and_api_errors(app: TestApp) {
    let s = lead_department_session(&app).await;
    let list = app.get("/api/v1/campaigns", Cred::Session(&s)).await.json();
    let id = list[0]["id"].as_str().unwrap().to_string();
    let camp = app.get(&format!("/api/v1/campaigns/{id}"), Cred::Session(&s)).await.json();
    let ind = camp["indicators"].as_array().unwrap().iter().find(|i| i["code"] == "a01-qualified-inspector-share").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/indicators/{ind}/values");
    let post = |body: serde_json::Value| app.api(Method::POST, &path, Cred::Session(&s), Some(body));
    for (value, date, field) in [(json!("150"), "2021-04-30", "value"), (json!("-3"), "2021-04-30", "value"), (json!("60"), "2019-12-31", "measured_on")] {
        let r = post(json!({"value": value, "measured_on": date, "evidence": "台账"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{value} {date}");
        assert_eq!(r.json()["error"]["fields"][0]["field"], field);
    }
    // A JSON number is as good as a string.
    let r = post(json!({"value": 80.5, "measured_on": "2021-04-30", "evidence": "台账"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["value"], "80.5");

    // Malformed bodies, unknown endpoints and wrong methods answer in the JSON error format.
    let r = post(json!({"measured_on": "2021-04-30"})).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation".to_string()), "{}", r.text());
    let r = app.get("/api/v1/nothing-here", Cred::Session(&s)).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "not_found".to_string()));
    let r = app.api(Method::DELETE, "/api/v1/campaigns", Cred::Session(&s), None).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed".to_string()));
}

scenario!(registration_and_roles => sqlite_registration_and_roles, postgres_registration_and_roles);
scenario!(values_and_api_errors => sqlite_values_and_api_errors, postgres_values_and_api_errors);
