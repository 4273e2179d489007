//! A fresh application per test: a migrated database (SQLite file, or a
//! fresh PostgreSQL database when `BIHUAN_TEST_PG_URL` is set), the bundled
//! plan loaded, a movable clock, and helpers to send requests with
//! `tower::ServiceExt::oneshot`.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use bihuan_service::password::Hasher;
use bihuan_service::{Service, Settings};
use bihuan_store::Db;
use bihuan_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use time::OffsetDateTime;
use tower::ServiceExt;
use bihuan_testkit::{on_engine, Engine, TestClock};

pub const ADMIN_PASSWORD: &str = "admin-pass-1";

/// 2021-05-01 10:00 in Shanghai: inside the phase 集中攻坚.
pub fn start_time() -> OffsetDateTime {
    time::macros::datetime!(2021-05-01 10:00 +08:00)
}

/// The application under test.
#[derive(Clone)]
pub struct TestApp {
    pub svc: Service,
    pub clock: Arc<TestClock>,
    pub router: axum::Router,
}

/// A response, read whole.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn location(&self) -> String {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }
    /// `name=value` of the first Set-Cookie named `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
            let first = c.split(';').next()?.trim();
            first.starts_with(&format!("{name}=")).then(|| first.to_string())
        })
    }
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_string()
    }
}

/// A logged-in browser session.
#[derive(Clone, Debug)]
pub struct Session {
    /// `bihuan_session=…`
    pub cookie: String,
    pub csrf: String,
}

/// How a request authenticates.
#[derive(Clone, Copy)]
pub enum Cred<'a> {
    Anonymous,
    Session(&'a Session),
    /// A session cookie without the CSRF header.
    SessionNoCsrf(&'a Session),
    Bearer(&'a str),
}

impl TestApp {
    pub async fn new(db: Db) -> TestApp {
        // BIHUAN_TEST_LOG=error shows the cause behind an "internal error" answer.
        if let Ok(filter) = std::env::var("BIHUAN_TEST_LOG") {
            let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(filter)).with_test_writer().try_init();
        }
        let clock = Arc::new(TestClock::at(start_time()));
        let svc = Service::new(db, clock.clone(), Settings { password: Hasher::for_tests(), ..Default::default() });
        svc.first_start(Some(ADMIN_PASSWORD)).await.expect("first start");
        let router = bihuan_web::router(AppState { svc: svc.clone(), config: Arc::new(WebConfig::default()) });
        TestApp { svc, clock, router }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.expect("body").to_bytes().to_vec();
        Resp { status, headers, body }
    }

    /// A JSON API request.
    pub async fn api(&self, method: Method, path: &str, cred: Cred<'_>, body: Option<Value>) -> Resp {
        self.api_lang(method, path, cred, body, None).await
    }

    pub async fn api_lang(&self, method: Method, path: &str, cred: Cred<'_>, body: Option<Value>, lang: Option<&str>) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        match cred {
            Cred::Anonymous => {}
            Cred::Session(s) => b = b.header("cookie", &s.cookie).header("x-csrf-token", &s.csrf),
            Cred::SessionNoCsrf(s) => b = b.header("cookie", &s.cookie),
            Cred::Bearer(t) => b = b.header("authorization", format!("Bearer {t}")),
        }
        if let Some(l) = lang {
            b = b.header("accept-language", l);
        }
        let req = match body {
            Some(v) => b.header("content-type", "application/json").body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        };
        self.send(req.expect("request")).await
    }

    pub async fn get(&self, path: &str, cred: Cred<'_>) -> Resp {
        self.api(Method::GET, path, cred, None).await
    }

    /// A page GET with the session cookie (or none).
    pub async fn page(&self, path: &str, session: Option<&Session>) -> Resp {
        let mut b = Request::builder().method(Method::GET).uri(path);
        if let Some(s) = session {
            b = b.header("cookie", &s.cookie);
        }
        self.send(b.body(Body::empty()).expect("request")).await
    }

    /// A form POST with the session cookie; `csrf` is added from the session.
    pub async fn form(&self, path: &str, session: Option<&Session>, fields: &[(&str, &str)]) -> Resp {
        let mut all: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut b = Request::builder().method(Method::POST).uri(path).header("content-type", "application/x-www-form-urlencoded");
        if let Some(s) = session {
            b = b.header("cookie", &s.cookie);
            all.push(("csrf".into(), s.csrf.clone()));
        }
        self.send(b.body(Body::from(encode_form(&all))).expect("request")).await
    }

    /// A multipart POST: text fields and files `(field, file name, bytes)`.
    pub async fn multipart(&self, path: &str, cred: Cred<'_>, fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Resp {
        let boundary = "----bihuan-test-boundary-7d3f";
        let mut body: Vec<u8> = Vec::new();
        let mut fields: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut b = Request::builder().method(Method::POST).uri(path).header("content-type", format!("multipart/form-data; boundary={boundary}"));
        match cred {
            Cred::Anonymous => {}
            Cred::Session(s) => {
                b = b.header("cookie", &s.cookie).header("x-csrf-token", &s.csrf);
                fields.push(("csrf".into(), s.csrf.clone()));
            }
            Cred::SessionNoCsrf(s) => b = b.header("cookie", &s.cookie),
            Cred::Bearer(t) => b = b.header("authorization", format!("Bearer {t}")),
        }
        for (k, v) in &fields {
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
        }
        for (field, name, bytes) in files {
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend_from_slice(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        self.send(b.body(Body::from(body)).expect("request")).await
    }

    /// Logs in through the API.
    pub async fn login(&self, username: &str, password: &str) -> Session {
        let r = self
            .api(Method::POST, "/api/v1/auth/login", Cred::Anonymous, Some(serde_json::json!({"username": username, "password": password})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {username}: {}", r.text());
        let cookie = r.cookie(bihuan_web::auth::SESSION_COOKIE).expect("session cookie");
        let csrf = r.json()["csrf_token"].as_str().expect("csrf_token").to_string();
        Session { cookie, csrf }
    }
}

pub fn encode_form(fields: &[(String, String)]) -> String {
    fields.iter().map(|(k, v)| format!("{}={}", bihuan_web::auth::urlencode(k), bihuan_web::auth::urlencode(v))).collect::<Vec<_>>().join("&")
}

fn with_app<F, Fut>(scenario: F) -> impl FnOnce(Db) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    move |db| Box::pin(async move { scenario(TestApp::new(db).await).await })
}

pub async fn on_sqlite<F, Fut>(scenario: F)
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    on_engine(Engine::Sqlite, "sqlite", with_app(scenario)).await
}

pub async fn on_postgres<F, Fut>(test: &str, scenario: F)
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    on_engine(Engine::Postgres, test, with_app(scenario)).await
}

/// Defines two tests for one `async fn(TestApp)` scenario: SQLite and PostgreSQL.
macro_rules! scenario {
    ($scenario:path => $sqlite:ident, $pg:ident $(,)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $sqlite() {
            $crate::harness::on_sqlite($scenario).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $pg() {
            $crate::harness::on_postgres(stringify!($pg), $scenario).await
        }
    };
}
pub(crate) use scenario;
