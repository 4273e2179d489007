//! Who is asking: typed extractors, so a handler without a `CurrentUser`
//! parameter cannot act as anyone.
//!
//! The API accepts a bearer token (`Authorization: Bearer bh_…`) or the
//! session cookie; with the cookie, every unsafe method must carry the
//! session's CSRF token in `X-CSRF-Token`. Pages use the cookie and carry
//! the CSRF token in a hidden form field, checked by each form handler.

use crate::error::{csrf_failed, unauthenticated, ApiError};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use bihuan_domain::model::User;
use bihuan_domain::permission::Actor;
use bihuan_service::Ctx;

pub const SESSION_COOKIE: &str = "bihuan_session";

#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub actor: Actor,
    pub user: User,
    /// Present when authenticated by the session cookie.
    pub session: Option<Session>,
}

#[derive(Clone, Debug)]
pub struct Session {
    pub csrf_token: String,
    pub token_hash: String,
}

impl CurrentUser {
    pub fn ctx(&self) -> Ctx {
        Ctx::user(self.actor.clone(), Some(crate::request_id()))
    }

    pub fn csrf(&self) -> &str {
        self.session.as_ref().map(|s| s.csrf_token.as_str()).unwrap_or_default()
    }

    /// Checks the CSRF token a form sent.
    pub fn check_csrf(&self, sent: &str) -> Result<(), ApiError> {
        match &self.session {
            Some(s) if constant_time_eq(s.csrf_token.as_bytes(), sent.as_bytes()) => Ok(()),
            _ => Err(ApiError(csrf_failed())),
        }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<CurrentUser>, ApiError> {
    if let Some(auth) = parts.headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let token = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")).unwrap_or_default().trim();
        return Ok(state.svc.token_actor(token).await?.map(|(actor, user)| CurrentUser { actor, user, session: None }));
    }
    let Some(cookie) = crate::cookie_from(&parts.headers, SESSION_COOKIE) else { return Ok(None) };
    Ok(state.svc.session(&cookie).await?.map(|s| CurrentUser {
        actor: s.actor,
        user: s.user,
        session: Some(Session { csrf_token: s.csrf_token, token_hash: s.token_hash }),
    }))
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = resolve(parts, state).await?.ok_or_else(|| ApiError(unauthenticated()))?;
        let api = parts.uri.path().starts_with("/api/");
        if api && !is_safe(&parts.method)
            && let Some(s) = &user.session {
                let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
                if !constant_time_eq(s.csrf_token.as_bytes(), sent.as_bytes()) {
                    return Err(ApiError(csrf_failed()));
                }
            }
        Ok(user)
    }
}

/// A logged-in user of the pages; anyone else is sent to the login page.
#[derive(Clone, Debug)]
/// A logged-in user of the pages, with their unread notifications (the header's badge).
pub struct PageUser(pub CurrentUser, pub i64);

pub struct ToLogin(Response);

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        self.0
    }
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = ToLogin;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match resolve(parts, state).await {
            Ok(Some(u)) if u.session.is_some() => {
                let unread = state.svc.unread_count(&u.ctx()).await.unwrap_or(0);
                Ok(PageUser(u, unread))
            }
            Ok(_) => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let target = if is_safe(&parts.method) && next != "/" {
                    format!("/login?next={}", urlencode(next))
                } else {
                    "/login".to_string()
                };
                Err(ToLogin(Redirect::to(&target).into_response()))
            }
            Err(e) => Err(ToLogin(e.into_response())),
        }
    }
}

/// The session user when there is one; nobody otherwise (for public pages
/// that behave a little differently for a logged-in user).
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(resolve(parts, state).await.ok().flatten().filter(|u| u.session.is_some())))
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The client's address, for login throttling.
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientIp(peer.unwrap_or_else(|| "local".to_string())))
    }
}
