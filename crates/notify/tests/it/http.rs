//! The HTTP sender against a scripted receiver on 127.0.0.1: outcome classification, signatures,
//! headers, timeouts (design §4.2, §4.4).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bihuan_notify::{
    ChannelKind, Delivery, Format, HttpConfig, HttpSender, Outcome, render, retry_delay,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{envelope, escalation};

/// One scripted answer.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    delay: Duration,
}

fn reply(status: u16, body: &'static str) -> Reply {
    Reply {
        status,
        body,
        headers: Vec::new(),
        delay: Duration::ZERO,
    }
}

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    uri: Uri,
    headers: HeaderMap,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn query(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.uri.query().unwrap_or_default().as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

#[derive(Clone, Default)]
struct Script {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Script {
    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn answer(
    State(script): State<Script>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    script
        .received
        .lock()
        .unwrap()
        .push(Received { uri, headers, body });
    let next = script.replies.lock().unwrap().pop_front();
    // Unscripted requests get the robots' success.
    let next = next.unwrap_or_else(|| reply(200, r#"{"errcode":0,"errmsg":"ok"}"#));
    tokio::time::sleep(next.delay).await;
    let mut response = (StatusCode::from_u16(next.status).unwrap(), next.body).into_response();
    for (name, value) in next.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// A receiver on 127.0.0.1:0 answering `replies` in order; its base URL and its log.
async fn receiver(replies: Vec<Reply>) -> (String, Script) {
    let script = Script {
        replies: Arc::new(Mutex::new(replies.into())),
        ..Script::default()
    };
    let app = Router::new().fallback(answer).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, script)
}

fn sender() -> HttpSender {
    sender_with_timeout(Duration::from_secs(15))
}

fn sender_with_timeout(timeout: Duration) -> HttpSender {
    HttpSender::new(HttpConfig {
        allowed_hosts: vec!["127.0.0.1".to_owned()],
        timeout,
        ..HttpConfig::default()
    })
    .unwrap()
}

fn delivery(kind: ChannelKind, address: String, secret: Option<&str>) -> Delivery {
    let rendered = render(kind, Format::Markdown, &escalation(), &envelope());
    Delivery {
        id: envelope().id,
        kind,
        address,
        secret: secret.map(str::to_owned),
        subject: rendered.subject,
        body: rendered.body,
        event: "warning.escalated".to_owned(),
    }
}

fn wecom(base: &str) -> Delivery {
    delivery(
        ChannelKind::Wecom,
        format!("{base}/cgi-bin/webhook/send?key=ROBOT-KEY-1234"),
        None,
    )
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn hmac(key: &str, message: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[tokio::test]
async fn two_server_errors_then_success() {
    let (base, script) = receiver(vec![
        reply(500, "internal error, key=ROBOT-KEY-1234"),
        reply(502, "bad gateway"),
        reply(200, r#"{"errcode":0,"errmsg":"ok"}"#),
    ])
    .await;
    let sender = sender();
    let d = wecom(&base);

    let first = sender.send(&d).await;
    match &first {
        Outcome::Retry {
            status: Some(500),
            response: Some(response),
            retry_after: None,
            ..
        } => {
            assert!(
                !response.contains("ROBOT-KEY-1234"),
                "key shown: {response}"
            );
            assert!(response.contains("key=****"), "{response}");
        }
        other => panic!("first attempt: {other:?}"),
    }
    assert!(matches!(
        sender.send(&d).await,
        Outcome::Retry {
            status: Some(502),
            ..
        }
    ));
    let third = sender.send(&d).await;
    assert_eq!(
        third,
        Outcome::Sent {
            status: Some(200),
            response: Some(r#"{"errcode":0,"errmsg":"ok"}"#.to_owned())
        }
    );
    assert_eq!(third.as_str(), "sent");

    let received = script.received();
    assert_eq!(received.len(), 3);
    for r in &received {
        assert_eq!(r.header("x-bihuan-delivery"), Some(d.id.as_str()));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.body, d.body, "the stored body is sent byte for byte");
        assert_eq!(r.query("key").as_deref(), Some("ROBOT-KEY-1234"));
        // Robots get no webhook headers.
        assert_eq!(r.header("idempotency-key"), None);
    }
}

#[tokio::test]
async fn permanent_client_errors_fail_at_once() {
    for status in [400u16, 401, 403, 404, 410] {
        let (base, script) = receiver(vec![reply(status, "not found")]).await;
        let outcome = sender().send(&wecom(&base)).await;
        assert_eq!(outcome.as_str(), "failed", "{status}: {outcome:?}");
        assert_eq!(outcome.status(), Some(status));
        assert_eq!(outcome.response(), Some("not found"));
        assert_eq!(script.received().len(), 1);
    }
}

#[tokio::test]
async fn timeouts_and_throttling_statuses_are_retried() {
    for status in [408u16, 429, 500, 503] {
        let (base, _) = receiver(vec![reply(status, "")]).await;
        let outcome = sender().send(&wecom(&base)).await;
        assert!(
            matches!(outcome, Outcome::Retry { status: Some(s), response: None, .. } if s == status),
            "{status}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn a_robot_errcode_is_retried_even_with_http_200() {
    let body = r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#;
    let (base, _) = receiver(vec![reply(200, body)]).await;
    let outcome = sender().send(&wecom(&base)).await;
    match &outcome {
        Outcome::Retry {
            status: Some(200),
            response: Some(response),
            error: Some(error),
            ..
        } => {
            assert_eq!(response, body);
            assert!(error.contains("45009"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    // A webhook does not look at the body: a 2xx is enough.
    let (base, _) = receiver(vec![reply(200, body)]).await;
    let hook = delivery(ChannelKind::Webhook, format!("{base}/hook"), None);
    assert_eq!(sender().send(&hook).await.as_str(), "sent");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let mut slow_down = reply(429, r#"{"errcode":45009}"#);
    slow_down.headers.push(("retry-after", "120"));
    let (base, _) = receiver(vec![slow_down]).await;
    let outcome = sender().send(&wecom(&base)).await;
    assert_eq!(outcome.retry_after(), Some(Duration::from_secs(120)));
    // The next attempt comes no earlier, though the table says 1 minute after the first.
    assert_eq!(
        retry_delay(1, 8, 0.0, outcome.retry_after()),
        Some(Duration::from_secs(120))
    );
}

#[tokio::test]
async fn a_slow_receiver_times_out_and_is_retried() {
    let mut slow = reply(200, r#"{"errcode":0}"#);
    slow.delay = Duration::from_secs(5);
    let (base, script) = receiver(vec![slow]).await;
    let started = Instant::now();
    let outcome = sender_with_timeout(Duration::from_millis(400))
        .send(&wecom(&base))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    match &outcome {
        Outcome::Retry {
            status: None,
            error: Some(error),
            ..
        } => {
            assert!(error.contains("timeout"), "{error}");
            assert!(!error.contains("ROBOT-KEY-1234"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(script.received().len(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let outcome = sender().send(&wecom(&base)).await;
    match &outcome {
        Outcome::Retry {
            status: None,
            error: Some(error),
            ..
        } => {
            assert!(error.contains("connection failed"), "{error}");
            assert!(
                !error.contains("ROBOT-KEY-1234"),
                "the URL holds the key: {error}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn dingtalk_signature_checks_out_at_the_receiver() {
    let secret = "SEC0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6";
    let (base, script) = receiver(Vec::new()).await;
    let d = delivery(
        ChannelKind::Dingtalk,
        format!("{base}/robot/send?access_token=TOKEN42"),
        Some(secret),
    );
    assert_eq!(sender().send(&d).await.as_str(), "sent");
    assert_eq!(sender().send(&d).await.as_str(), "sent");

    let received = script.received();
    assert_eq!(received.len(), 2);
    for r in &received {
        assert_eq!(r.query("access_token").as_deref(), Some("TOKEN42"));
        // The receiver's side: recompute from the timestamp in the query string.
        let timestamp = r.query("timestamp").unwrap();
        let millis: i64 = timestamp.parse().unwrap();
        assert!(
            (millis / 1000 - now_secs()).abs() < 60,
            "timestamp {millis} is not now"
        );
        let expected = base64::engine::general_purpose::STANDARD
            .encode(hmac(secret, &format!("{timestamp}\n{secret}")));
        assert_eq!(r.query("sign").as_deref(), Some(expected.as_str()));
        // Base64's + / = arrive percent-encoded, not as a space or a separator.
        let raw = r.uri.query().unwrap();
        assert!(!raw.contains('+') && !raw.contains('/'), "{raw}");
        assert_eq!(r.header("x-bihuan-delivery"), Some(d.id.as_str()));
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["at"]["isAtAll"], false);
    }

    // Without a secret nothing is added.
    let (base, script) = receiver(Vec::new()).await;
    let unsigned = delivery(
        ChannelKind::Dingtalk,
        format!("{base}/robot/send?access_token=TOKEN42"),
        None,
    );
    assert_eq!(sender().send(&unsigned).await.as_str(), "sent");
    assert_eq!(
        script.received()[0].uri.query(),
        Some("access_token=TOKEN42")
    );
}

#[tokio::test]
async fn webhook_carries_idempotency_key_event_and_hmac() {
    let secret = "whsec-7f3a";
    let (base, script) = receiver(vec![reply(204, "")]).await;
    let d = delivery(
        ChannelKind::Webhook,
        format!("{base}/bihuan/hook"),
        Some(secret),
    );
    assert_eq!(
        sender().send(&d).await,
        Outcome::Sent {
            status: Some(204),
            response: None
        }
    );

    let r = &script.received()[0];
    assert_eq!(r.uri.path(), "/bihuan/hook");
    assert_eq!(r.header("idempotency-key"), Some(d.id.as_str()));
    assert_eq!(r.header("x-bihuan-delivery"), Some(d.id.as_str()));
    assert_eq!(r.header("x-bihuan-event"), Some("warning.escalated"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let timestamp = r.header("x-bihuan-timestamp").unwrap();
    assert!((timestamp.parse::<i64>().unwrap() - now_secs()).abs() < 60);
    let expected = format!(
        "sha256={}",
        hex::encode(hmac(secret, &format!("{timestamp}.{}", r.body)))
    );
    assert_eq!(r.header("x-bihuan-signature"), Some(expected.as_str()));
    assert_eq!(r.body, d.body);
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["id"], d.id.as_str());

    // No secret, no signature; the other headers stay.
    let (base, script) = receiver(Vec::new()).await;
    let unsigned = delivery(ChannelKind::Webhook, format!("{base}/bihuan/hook"), None);
    assert_eq!(sender().send(&unsigned).await.as_str(), "sent");
    let r = &script.received()[0];
    assert_eq!(r.header("x-bihuan-signature"), None);
    assert_eq!(r.header("idempotency-key"), Some(d.id.as_str()));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let mut moved = reply(302, "");
    moved.headers.push(("location", "/elsewhere"));
    let (base, script) = receiver(vec![moved]).await;
    let outcome = sender().send(&wecom(&base)).await;
    assert_eq!(outcome.as_str(), "failed");
    assert_eq!(outcome.status(), Some(302));
    assert_eq!(script.received().len(), 1, "the redirect was followed");
}

#[tokio::test]
async fn the_allow_list_is_checked_again_at_send_time() {
    let (base, script) = receiver(Vec::new()).await;
    let strict = HttpSender::new(HttpConfig::default()).unwrap();
    let outcome = strict.send(&wecom(&base)).await;
    match &outcome {
        Outcome::Failed {
            status: None,
            error: Some(error),
            ..
        } => assert!(error.contains("127.0.0.1"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert!(script.received().is_empty());

    let email = delivery(
        ChannelKind::Email,
        "someone@example.gov.cn".to_owned(),
        None,
    );
    assert_eq!(sender().send(&email).await.as_str(), "failed");
}

#[test]
fn a_delivery_debug_hides_keys_and_secrets() {
    let d = delivery(
        ChannelKind::Dingtalk,
        "https://oapi.dingtalk.com/robot/send?access_token=TOKEN4242".to_owned(),
        Some("SECRET-VALUE"),
    );
    let debug = format!("{d:?}");
    assert!(
        !debug.contains("TOKEN4242") && !debug.contains("SECRET-VALUE"),
        "{debug}"
    );
    assert!(debug.contains("oapi.dingtalk.com"), "{debug}");
}
