//! Why a sender could not be set up from the configuration.

/// A configuration the senders refuse, or a client that could not be built.
///
/// `Display` is for logs; [`ConfigError::zh`] and [`ConfigError::en`] are what an administrator
/// sees. None of them contains a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `security = "none"` for an SMTP host that is not loopback: the password and the mail would
    /// cross the network in clear.
    #[error("smtp security none is only allowed for loopback hosts, not {host}")]
    PlainSmtpNotLoopback {
        /// The configured host.
        host: String,
    },
    /// `from` is not a mailbox such as `闭环系统 <bihuan@example.gov.cn>`.
    #[error("smtp from address {from:?} is not a valid mailbox")]
    BadFrom {
        /// The configured value.
        from: String,
    },
    /// The SMTP transport could not be built (for example an invalid host name for TLS).
    #[error("smtp transport: {0}")]
    SmtpTransport(String),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    HttpClient(String),
}

impl ConfigError {
    /// The message for a Chinese-speaking administrator.
    pub fn zh(&self) -> String {
        match self {
            ConfigError::PlainSmtpNotLoopback { host } => format!(
                "邮件服务器 {host} 不是本机地址，不能使用 security = \"none\"（密码和邮件会明文传输）；请改为 starttls 或 tls"
            ),
            ConfigError::BadFrom { from } => {
                format!(
                    "发件人 “{from}” 格式不正确，应为 “闭环系统 <bihuan@example.gov.cn>” 或 “bihuan@example.gov.cn”"
                )
            }
            ConfigError::SmtpTransport(_) => {
                "无法建立邮件发送通道，请检查 [smtp] 中的 host、port 和 security 设置".to_owned()
            }
            ConfigError::HttpClient(_) => {
                "无法初始化推送所用的 HTTP 客户端，请查看服务器日志".to_owned()
            }
        }
    }

    /// The message for an English-speaking administrator.
    pub fn en(&self) -> String {
        match self {
            ConfigError::PlainSmtpNotLoopback { host } => format!(
                "The mail server {host} is not on this machine, so security = \"none\" is not allowed (the password and the mail would travel in clear); use starttls or tls"
            ),
            ConfigError::BadFrom { from } => format!(
                "The sender “{from}” is not a valid address; write it as “Bihuan <bihuan@example.gov.cn>” or “bihuan@example.gov.cn”"
            ),
            ConfigError::SmtpTransport(_) => {
                "The mail transport could not be set up; please check host, port and security in [smtp]".to_owned()
            }
            ConfigError::HttpClient(_) => {
                "The HTTP client for notifications could not be set up; see the server log".to_owned()
            }
        }
    }
}
