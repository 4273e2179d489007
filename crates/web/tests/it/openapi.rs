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

    // The header that makes re-sending safe (offline drafts) is described where it is taken.
    for (path, method) in [("/api/v1/hazards", "post"), ("/api/v1/hazards/{id}/actions", "post")] {
        let params = paths[path][method]["parameters"].as_array().cloned().unwrap_or_default();
        let key = params.iter().find(|p| p["name"] == "Idempotency-Key" && p["in"] == "header");
        let description = key.and_then(|k| k["description"].as_str()).unwrap_or_default();
        assert!(description.contains("offline"), "{method} {path}: Idempotency-Key not described: {params:?}");
    }
    let replayed = &paths["/api/v1/hazards"]["post"]["responses"]["201"]["headers"]["Idempotent-Replayed"];
    assert!(replayed.is_object(), "{}", paths["/api/v1/hazards"]["post"]["responses"]);
}

scenario!(openapi_covers_routes => sqlite_openapi, postgres_openapi);
