//! The OpenAPI document covers every API route.

use crate::harness::{scenario, Cred, TestApp};
use axum::http::StatusCode;

async fn openapi_covers_routes(app: TestApp) {
    let r = app.get("/api/v1/openapi.json", Cred::Anonymous).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    let paths = doc["paths"].as_object().expect("paths");
    let mut missing = Vec::new();
    for route in bihuan_web::route_table() {
        if !(route.path.starts_with("/api/v1/") || route.path == "/healthz") || route.path == "/api/v1/openapi.json" {
            continue;
        }
        let method = route.method.as_str().to_ascii_lowercase();
        if paths.get(route.path).is_none_or(|p| p.get(&method).is_none()) {
            missing.push(format!("{} {}", route.method, route.path));
        }
    }
    assert!(missing.is_empty(), "not in the OpenAPI document: {missing:?}");
}

scenario!(openapi_covers_routes => sqlite_openapi, postgres_openapi);
