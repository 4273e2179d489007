//! Outbound notifications: the payloads of WeCom and DingTalk group robots, of the generic JSON
//! webhook and of e-mail; their signing; the HTTP and SMTP senders; and the classification of
//! what came back into sent, retry or failed (design §4.2–4.4).
//!
//! The crate knows nothing of hazards or warnings. The service builds a [`Message`], renders it
//! once per channel with [`render`] and stores the [`Rendered`] body unsigned. At send time the
//! delivery worker hands a [`Delivery`] to [`HttpSender::send`] or [`SmtpSender::send`]; signatures
//! are computed then, so a retry signs again. The [`Outcome`] says what to record, and
//! [`backoff`] when to try again.
//!
//! # TLS
//!
//! Both clients use rustls with the *ring* provider; nothing links OpenSSL or aws-lc-rs. Call
//! [`install_crypto_provider`] once at start; the senders call it too, so forgetting it is not
//! fatal.
//!
//! # Safety
//!
//! Webhook URLs must be on an allow-list and use HTTPS unless they point at loopback
//! ([`check_webhook_url`]); the HTTP sender checks again before every request and never follows
//! redirects. Addresses are shown to people only through [`redact`], and response excerpts and
//! errors have robot keys and secrets masked.

mod backoff;
mod error;
mod http;
mod message;
mod outcome;
mod safety;
mod sign;
mod smtp;

use std::time::Duration;

pub use backoff::{DEFAULT_MAX_ATTEMPTS, backoff, backoff_with, retry_delay};
pub use error::ConfigError;
pub use http::{DEFAULT_ALLOWED_HOSTS, Delivery, HttpConfig, HttpSender};
pub use message::{Envelope, Level, Message, NOTE_PREFIX, Rendered, TITLE_PREFIX, render};
pub use outcome::{EXCERPT_BYTES, Outcome};
pub use safety::{UrlError, check_webhook_url, is_loopback_host, redact};
pub use sign::{dingtalk_sign, webhook_signature};
pub use smtp::{Security, SmtpConfig, SmtpSender};

/// The kind of an external channel, as stored in `channel.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// E-mail over SMTP.
    Email,
    /// A WeCom (企业微信) group robot.
    Wecom,
    /// A DingTalk (钉钉) custom robot.
    Dingtalk,
    /// Bihuan's own JSON webhook.
    Webhook,
}

impl ChannelKind {
    /// Every kind, in the order the UI lists them.
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::Email,
        ChannelKind::Wecom,
        ChannelKind::Dingtalk,
        ChannelKind::Webhook,
    ];

    /// The stored name: `email`, `wecom`, `dingtalk` or `webhook`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Wecom => "wecom",
            ChannelKind::Dingtalk => "dingtalk",
            ChannelKind::Webhook => "webhook",
        }
    }

    /// The stored name back to the kind.
    pub fn parse(name: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// A group robot, whose answer carries an `errcode` that must be 0.
    pub fn is_robot(self) -> bool {
        matches!(self, ChannelKind::Wecom | ChannelKind::Dingtalk)
    }

    /// Sent over HTTP (robots and webhooks), as opposed to SMTP.
    pub fn is_http(self) -> bool {
        !matches!(self, ChannelKind::Email)
    }
}

/// The body format a channel asked for, as stored in `channel.msg_format`. Only the robots tell
/// the two apart; a webhook always carries both a title and markdown, and e-mail is plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Robot markdown (WeCom's dialect has `<font color>`).
    Markdown,
    /// Plain text.
    Text,
}

impl Format {
    /// The stored name: `markdown` or `text`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Text => "text",
        }
    }

    /// The stored name back to the format.
    pub fn parse(name: &str) -> Option<Format> {
        [Format::Markdown, Format::Text]
            .into_iter()
            .find(|f| f.as_str() == name)
    }
}

/// The least time between two sends to one channel, shared by all nodes through
/// `channel.next_send_at`: 4 s for robots (15 a minute, under both platforms' 20 a minute), 0.5 s
/// for webhooks, nothing for e-mail.
pub fn send_gap(kind: ChannelKind) -> Duration {
    match kind {
        ChannelKind::Wecom | ChannelKind::Dingtalk => Duration::from_secs(4),
        ChannelKind::Webhook => Duration::from_millis(500),
        ChannelKind::Email => Duration::ZERO,
    }
}

/// Installs rustls' *ring* provider as the process default, once. Call it at the start of
/// `main`; calling it again, or after another part of the program installed a provider, does
/// nothing.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing one is as good as winning it.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in ChannelKind::ALL {
            assert_eq!(ChannelKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ChannelKind::parse("sms"), None);
        assert_eq!(Format::parse("text"), Some(Format::Text));
        assert_eq!(Format::parse("markdown"), Some(Format::Markdown));
        assert_eq!(Format::parse("html"), None);
    }

    #[test]
    fn gaps_keep_robots_under_their_rate_limit() {
        assert_eq!(send_gap(ChannelKind::Wecom), Duration::from_secs(4));
        assert_eq!(send_gap(ChannelKind::Dingtalk), Duration::from_secs(4));
        assert_eq!(send_gap(ChannelKind::Webhook), Duration::from_millis(500));
        assert_eq!(send_gap(ChannelKind::Email), Duration::ZERO);
        // 20 a minute is the platforms' limit.
        assert!(60 / send_gap(ChannelKind::Wecom).as_secs() < 20);
    }

    #[test]
    fn installing_the_provider_twice_is_harmless() {
        install_crypto_provider();
        install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
