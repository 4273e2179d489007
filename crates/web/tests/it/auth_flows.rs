//! Logging in and out, throttling, CSRF, tokens, password changes, expiry.

use crate::harness::{scenario, Cred, TestApp};
use crate::world::{user, PASSWORD};
use axum::http::{Method, StatusCode};
use bihuan_domain::role::Role;
use serde_json::json;

async fn auth_flows(app: TestApp) {
    let gov = app.svc.home_unit().await.unwrap();
    user(&app, "alice", Role::Office, gov).await;
    user(&app, "bob", Role::Office, gov).await;
    let login = |u: &str, p: &str| json!({"username": u, "password": p});

    // Wrong password, then throttling after five failures.
    let r = app.api(Method::POST, "/api/v1/auth/login", Cred::Anonymous, Some(login("bob", "wrong-password"))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "invalid_credentials");
    for _ in 0..4 {
        app.api(Method::POST, "/api/v1/auth/login", Cred::Anonymous, Some(login("bob", "wrong-password"))).await;
    }
    let r = app.api(Method::POST, "/api/v1/auth/login", Cred::Anonymous, Some(login("bob", PASSWORD))).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert_eq!(r.error_code(), "too_many_attempts");

    // CSRF: a session write without the header is refused.
    let s = app.login("alice", PASSWORD).await;
    let r = app.api(Method::POST, "/api/v1/tokens", Cred::SessionNoCsrf(&s), Some(json!({"name": "x"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error_code(), "csrf_failed");
    let r = app.api(Method::POST, "/api/v1/tokens", Cred::Session(&s), Some(json!({"name": "x"}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let secret = r.json()["secret"].as_str().unwrap().to_string();
    let token_id = r.json()["token"]["id"].as_str().unwrap().to_string();
    // A bearer token needs no CSRF header.
    let r = app.api(Method::POST, "/api/v1/tokens", Cred::Bearer(&secret), Some(json!({"name": "y"}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    // Revoked: 401.
    let r = app.api(Method::DELETE, &format!("/api/v1/tokens/{token_id}"), Cred::Session(&s), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.get("/api/v1/me", Cred::Bearer(&secret)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "unauthenticated");

    // Logout ends the session.
    let s2 = app.login("alice", PASSWORD).await;
    assert_eq!(app.get("/api/v1/me", Cred::Session(&s2)).await.status, StatusCode::OK);
    assert_eq!(app.api(Method::POST, "/api/v1/auth/logout", Cred::Session(&s2), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/me", Cred::Session(&s2)).await.status, StatusCode::UNAUTHORIZED);

    // Changing the password ends the other sessions, keeps this one.
    let other = app.login("alice", PASSWORD).await;
    let r = app
        .api(Method::POST, "/api/v1/me/password", Cred::Session(&s), Some(json!({"current_password": PASSWORD, "new_password": "New-pass-77"})))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(app.get("/api/v1/me", Cred::Session(&other)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/v1/me", Cred::Session(&s)).await.status, StatusCode::OK);
    let fresh = app.login("alice", "New-pass-77").await;

    // Idle expiry: after `session_idle` without a request the cookie is worthless.
    app.clock.advance(time::Duration::hours(7));
    assert_eq!(app.get("/api/v1/me", Cred::Session(&fresh)).await.status, StatusCode::OK, "still inside the idle window");
    app.clock.advance(time::Duration::hours(9));
    let r = app.get("/api/v1/me", Cred::Session(&fresh)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "unauthenticated");
}

scenario!(auth_flows => sqlite_auth_flows, postgres_auth_flows);
