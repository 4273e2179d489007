//! E-mail over SMTP with rustls and ring (design §4.2).

use std::fmt;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::safety::is_loopback_host;
use crate::{ConfigError, Delivery, Outcome, install_crypto_provider};

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which is required (port 587 by default).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465 by default).
    Tls,
    /// No encryption at all (port 25 by default): only to a relay on this machine.
    None,
}

/// The `[smtp]` section of the server configuration. Secrets stay in the file or the environment,
/// never in the database; `Debug` does not show the password.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SmtpConfig {
    /// The mail server.
    pub host: String,
    /// Its port; by default 587, 465 or 25 after `security`.
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` (the default), `tls`, or `none` (loopback hosts only).
    #[serde(default)]
    pub security: Security,
    /// The login, if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// The password, with `username`.
    #[serde(default)]
    pub password: Option<String>,
    /// The sender, such as `闭环系统 <bihuan@example.gov.cn>`.
    pub from: String,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "****"))
            .field("from", &self.from)
            .finish()
    }
}

impl SmtpConfig {
    /// The configured port, or the usual one for the security.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        })
    }

    /// Refuses `security = "none"` to a host that is not loopback, and a `from` that is not a
    /// mailbox.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.mailbox().map(|_| ())
    }

    fn mailbox(&self) -> Result<Mailbox, ConfigError> {
        if self.security == Security::None && !is_loopback_host(&self.host) {
            return Err(ConfigError::PlainSmtpNotLoopback {
                host: self.host.clone(),
            });
        }
        self.from
            .trim()
            .parse::<Mailbox>()
            .map_err(|_| ConfigError::BadFrom {
                from: self.from.clone(),
            })
    }
}

/// Sends e-mail deliveries: `text/plain; charset=utf-8`, the subject being the title, one
/// connection per message.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSender")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpSender {
    /// A sender for `config`, with `timeout` for each network step (connect, each reply).
    /// Installs the ring crypto provider if none is.
    pub fn new(config: &SmtpConfig, timeout: Duration) -> Result<SmtpSender, ConfigError> {
        let from = config.mailbox()?;
        install_crypto_provider();
        let host = config.host.trim();
        let builder = match config.security {
            Security::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| ConfigError::SmtpTransport(e.to_string()))?,
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| ConfigError::SmtpTransport(e.to_string()))?,
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder = builder.port(config.effective_port()).timeout(Some(timeout));
        if let Some(username) = &config.username {
            builder = builder.credentials(Credentials::new(
                username.clone(),
                config.password.clone().unwrap_or_default(),
            ));
        }
        Ok(SmtpSender {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one delivery to `delivery.address`. Never fails: an SMTP 4xx or a connection
    /// problem is a [`Outcome::Retry`], a 5xx or an unusable address an [`Outcome::Failed`].
    pub async fn send(&self, delivery: &Delivery) -> Outcome {
        let secrets = delivery.secrets();
        let to = match delivery.address.trim().parse::<Mailbox>() {
            Ok(to) => to,
            Err(e) => return Outcome::failed(format!("invalid recipient address: {e}"), &secrets),
        };
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(delivery.subject.as_str())
            .message_id(Some(format!("<{}@bihuan>", delivery.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(delivery.body.clone());
        let message = match message {
            Ok(message) => message,
            Err(e) => return Outcome::failed(format!("message not built: {e}"), &secrets),
        };
        match self.transport.send(message).await {
            Ok(response) => {
                let text = std::iter::once(response.code().to_string())
                    .chain(response.message().map(str::to_owned))
                    .collect::<Vec<_>>()
                    .join(" ");
                Outcome::Sent {
                    status: None,
                    response: Some(crate::outcome::excerpt(&text, &secrets)),
                }
            }
            Err(e) => {
                let text = error_chain(&e);
                if e.is_permanent() || e.is_client() {
                    Outcome::failed(text, &secrets)
                } else {
                    // 4xx replies, timeouts, refused connections, TLS trouble.
                    Outcome::retry(text, &secrets)
                }
            }
        }
    }
}

fn error_chain(error: &lettre::transport::smtp::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(host: &str, security: Security) -> SmtpConfig {
        SmtpConfig {
            host: host.to_owned(),
            port: None,
            security,
            username: Some("bihuan".to_owned()),
            password: Some("hunter2".to_owned()),
            from: "闭环系统 <bihuan@example.gov.cn>".to_owned(),
        }
    }

    #[test]
    fn plain_smtp_only_to_loopback() {
        assert!(config("127.0.0.1", Security::None).validate().is_ok());
        assert!(config("localhost", Security::None).validate().is_ok());
        assert!(config("::1", Security::None).validate().is_ok());
        let err = config("mail.example.gov.cn", Security::None)
            .validate()
            .unwrap_err();
        assert!(matches!(err, ConfigError::PlainSmtpNotLoopback { .. }));
        assert!(err.zh().contains("starttls") && err.en().contains("starttls"));
        assert!(
            config("mail.example.gov.cn", Security::Starttls)
                .validate()
                .is_ok()
        );
        assert!(
            SmtpSender::new(
                &config("mail.example.gov.cn", Security::None),
                Duration::from_secs(1)
            )
            .is_err()
        );
    }

    #[test]
    fn ports_follow_security_and_the_password_stays_hidden() {
        assert_eq!(config("h", Security::Starttls).effective_port(), 587);
        assert_eq!(config("h", Security::Tls).effective_port(), 465);
        assert_eq!(config("h", Security::None).effective_port(), 25);
        let debug = format!("{:?}", config("h", Security::Tls));
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn a_bad_sender_is_refused() {
        let mut c = config("127.0.0.1", Security::None);
        c.from = "not an address".to_owned();
        assert!(matches!(c.validate(), Err(ConfigError::BadFrom { .. })));
    }
}
