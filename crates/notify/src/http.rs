//! Robots and webhooks over HTTPS (design §4.2, §4.4).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};

use crate::outcome::{classify_http, parse_retry_after};
use crate::safety::{checked_url, redact, url_secrets};
use crate::sign::{dingtalk_sign, webhook_signature};
use crate::{ChannelKind, ConfigError, Outcome, install_crypto_provider};

/// The default of `allowed_webhook_hosts`: the WeCom and DingTalk robot APIs.
pub const DEFAULT_ALLOWED_HOSTS: [&str; 2] = ["qyapi.weixin.qq.com", "oapi.dingtalk.com"];

/// The most of an answer that is read; robots answer in well under 1 KB.
const READ_LIMIT: usize = 64 * 1024;

/// How the HTTP sender behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Hosts a robot or webhook URL may point at (`allowed_webhook_hosts`), checked again
    /// before every send.
    pub allowed_hosts: Vec<String>,
    /// The whole request, connection to the end of the answer (`notify.http_timeout_seconds`,
    /// 15 s by default).
    pub timeout: Duration,
    /// Connecting, TLS included (5 s).
    pub connect_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allowed_hosts: DEFAULT_ALLOWED_HOSTS
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// One delivery to send: the stored row's payload and its channel's address.
#[derive(Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The delivery id: `X-Bihuan-Delivery`, the webhook's `Idempotency-Key`, the e-mail's
    /// `Message-ID`.
    pub id: String,
    /// The channel's kind.
    pub kind: ChannelKind,
    /// The webhook URL (which holds a robot's key) or the e-mail address.
    pub address: String,
    /// The DingTalk 加签 secret or the webhook's HMAC key.
    pub secret: Option<String>,
    /// The e-mail subject ([`crate::Rendered::subject`]); unused over HTTP.
    pub subject: String,
    /// The stored body ([`crate::Rendered::body`]), sent byte for byte.
    pub body: String,
    /// The webhook event (`X-Bihuan-Event`), such as `warning.escalated`.
    pub event: String,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("address", &redact(&self.address))
            .field("secret", &self.secret.as_ref().map(|_| "****"))
            .field("subject", &self.subject)
            .field("body_bytes", &self.body.len())
            .field("event", &self.event)
            .finish()
    }
}

impl Delivery {
    /// The robot keys in the address and the secret: what must never appear in a log.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut secrets = url_secrets(&self.address);
        secrets.extend(self.secret.iter().filter(|s| !s.is_empty()).cloned());
        secrets
    }
}

/// Sends robot and webhook deliveries. Cheap to clone; one per process is enough.
#[derive(Debug, Clone)]
pub struct HttpSender {
    client: reqwest::Client,
    allowed_hosts: Vec<String>,
}

impl HttpSender {
    /// A sender with `config`'s timeouts and allow-list. It never follows redirects, so an
    /// allowed host cannot send it elsewhere. Installs the ring crypto provider if none is.
    pub fn new(config: HttpConfig) -> Result<HttpSender, ConfigError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("bihuan-notify/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::HttpClient(error_chain(e)))?;
        Ok(HttpSender {
            client,
            allowed_hosts: config.allowed_hosts,
        })
    }

    /// Sends one delivery and classifies the answer. Never fails: every problem is an
    /// [`Outcome`]. DingTalk and webhook signatures are computed now, from the current time.
    pub async fn send(&self, delivery: &Delivery) -> Outcome {
        let secrets = delivery.secrets();
        if !delivery.kind.is_http() {
            return Outcome::failed(
                "e-mail deliveries are sent by SmtpSender".to_owned(),
                &secrets,
            );
        }
        let mut url = match checked_url(&delivery.address, &self.allowed_hosts) {
            Ok(url) => url,
            Err(e) => return Outcome::failed(e.to_string(), &secrets),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let secret = delivery.secret.as_deref().filter(|s| !s.is_empty());

        if delivery.kind == ChannelKind::Dingtalk
            && let Some(secret) = secret
        {
            let millis = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
            url.query_pairs_mut()
                .append_pair("timestamp", &millis.to_string())
                .append_pair("sign", &dingtalk_sign(secret, millis));
        }

        let mut request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("X-Bihuan-Delivery", delivery.id.as_str());
        if delivery.kind == ChannelKind::Webhook {
            let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
            request = request
                .header("Idempotency-Key", delivery.id.as_str())
                .header("X-Bihuan-Event", delivery.event.as_str())
                .header("X-Bihuan-Timestamp", seconds.to_string());
            if let Some(secret) = secret {
                request = request.header(
                    "X-Bihuan-Signature",
                    webhook_signature(secret, seconds, &delivery.body),
                );
            }
        }

        let mut response = match request.body(delivery.body.clone()).send().await {
            Ok(response) => response,
            Err(e) => return classify_error(e, &secrets),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);

        let mut body = Vec::new();
        let mut read_error = None;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = READ_LIMIT.saturating_sub(body.len());
                    body.extend(chunk.iter().take(room));
                    if body.len() >= READ_LIMIT {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    read_error = Some(error_chain(e));
                    break;
                }
            }
        }
        let body = String::from_utf8_lossy(&body);
        let outcome = classify_http(
            delivery.kind.is_robot(),
            status,
            retry_after,
            &body,
            &secrets,
        );
        match (outcome, read_error) {
            (
                Outcome::Retry {
                    status,
                    response,
                    error,
                    retry_after,
                },
                Some(read),
            ) => Outcome::Retry {
                status,
                response,
                error: Some(crate::outcome::excerpt(
                    &format!("{}; reading the answer: {read}", error.unwrap_or_default()),
                    &secrets,
                )),
                retry_after,
            },
            (outcome, _) => outcome,
        }
    }
}

/// No answer: timeouts and connection errors are retried; a request that could not even be built
/// (a header that is not ASCII) would fail the same way again.
fn classify_error(error: reqwest::Error, secrets: &[String]) -> Outcome {
    if error.is_builder() {
        return Outcome::failed(error_chain(error), secrets);
    }
    let what = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    Outcome::retry(format!("{what}: {}", error_chain(error)), secrets)
}

/// The error and its causes on one line, without the URL (which holds a robot's key).
fn error_chain(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
