//! Channel safety (design §4.3): which webhook URLs may be called, and how addresses are shown.

use std::net::IpAddr;

use url::{Host, Url};

/// Why a webhook URL was refused.
///
/// `Display` is for logs; [`UrlError::zh`] and [`UrlError::en`] are what a person sees. None of
/// them contains the URL's path or query, where robot keys live.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not a URL at all.
    #[error("not a valid URL")]
    Invalid,
    /// A scheme other than `https` (or `http` to loopback).
    #[error("unsupported URL scheme {scheme}")]
    Scheme {
        /// The scheme given.
        scheme: String,
    },
    /// A URL without a host (`file:`, `data:` …).
    #[error("URL has no host")]
    NoHost,
    /// The host is not on `allowed_webhook_hosts（BIHUAN_ALLOWED_WEBHOOK_HOSTS）`.
    #[error("host {host} is not on the allowed webhook hosts")]
    HostNotAllowed {
        /// The host of the URL.
        host: String,
    },
    /// Plain `http` to a host that is not loopback.
    #[error("plain http to {host}: https is required")]
    HttpsRequired {
        /// The host of the URL.
        host: String,
    },
}

impl UrlError {
    /// The message for a Chinese-speaking user.
    pub fn zh(&self) -> String {
        match self {
            UrlError::Invalid => "地址格式不正确，请粘贴机器人或接收端提供的完整网址".to_owned(),
            UrlError::Scheme { scheme } => {
                format!("不支持“{scheme}”类型的地址，请使用以 https:// 开头的网址")
            }
            UrlError::NoHost => "地址中没有主机名，请粘贴完整的网址".to_owned(),
            UrlError::HostNotAllowed { host } => format!(
                "主机 {host} 不在允许的推送地址名单中；如确需使用，请联系管理员在配置 allowed_webhook_hosts（BIHUAN_ALLOWED_WEBHOOK_HOSTS） 中添加"
            ),
            UrlError::HttpsRequired { host } => {
                format!("向 {host} 推送必须使用 https:// 加密连接")
            }
        }
    }

    /// The message for an English-speaking user.
    pub fn en(&self) -> String {
        match self {
            UrlError::Invalid => {
                "The address is not a valid URL; please paste the full URL the robot or receiver gave you"
                    .to_owned()
            }
            UrlError::Scheme { scheme } => {
                format!("“{scheme}” addresses are not supported; please use a URL starting with https://")
            }
            UrlError::NoHost => "The address has no host name; please paste the full URL".to_owned(),
            UrlError::HostNotAllowed { host } => format!(
                "The host {host} is not on the list of allowed webhook hosts; an administrator can add it to allowed_webhook_hosts (BIHUAN_ALLOWED_WEBHOOK_HOSTS)"
            ),
            UrlError::HttpsRequired { host } => {
                format!("Sending to {host} requires an encrypted https:// connection")
            }
        }
    }
}

/// Checks a robot or webhook URL before it is saved and before every send: the host must be on
/// `allowed_hosts` (compared without case and without port; IPv6 literals without brackets), and
/// the scheme must be `https`, or `http` when the host is loopback.
///
/// The host is the one a client would connect to, so `https://qyapi.weixin.qq.com@evil.example/`
/// is checked as `evil.example`.
pub fn check_webhook_url<S: AsRef<str>>(url: &str, allowed_hosts: &[S]) -> Result<(), UrlError> {
    checked_url(url, allowed_hosts).map(|_| ())
}

pub(crate) fn checked_url<S: AsRef<str>>(url: &str, allowed_hosts: &[S]) -> Result<Url, UrlError> {
    let parsed = Url::parse(url.trim()).map_err(|_| UrlError::Invalid)?;
    let scheme = parsed.scheme();
    if scheme != "https" && scheme != "http" {
        return Err(UrlError::Scheme {
            scheme: scheme.to_owned(),
        });
    }
    let host = match parsed.host() {
        Some(Host::Domain(name)) => name.to_ascii_lowercase(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(UrlError::NoHost),
    };
    let allowed = allowed_hosts.iter().any(|entry| {
        let entry = entry.as_ref().trim();
        let entry = entry
            .strip_prefix('[')
            .and_then(|e| e.strip_suffix(']'))
            .unwrap_or(entry);
        entry.eq_ignore_ascii_case(&host)
    });
    if !allowed {
        return Err(UrlError::HostNotAllowed { host });
    }
    if scheme == "http" && !is_loopback_host(&host) {
        return Err(UrlError::HttpsRequired { host });
    }
    Ok(parsed)
}

/// `localhost`, or an address in 127.0.0.0/8, or `::1` (with or without brackets).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim();
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// How an address or a secret is shown in the UI, the API and the audit: a URL as its scheme and
/// host and the last 4 characters (`https://qyapi.weixin.qq.com/…3f9a`), an e-mail address with
/// its local part masked (`z***@example.com`), anything else as its last 4 characters
/// (`****3f9a`), or `****` when it is too short to show any of it.
pub fn redact(address: &str) -> String {
    let address = address.trim();
    if address.contains("://")
        && let Ok(url) = Url::parse(address)
        && let Some(host) = url.host_str()
    {
        return format!("{}://{host}/…{}", url.scheme(), last_chars(address, 4));
    }
    if !address.contains("://")
        && let Some((local, domain)) = address.rsplit_once('@')
        && !domain.is_empty()
    {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    if address.chars().count() >= 12 {
        format!("****{}", last_chars(address, 4))
    } else {
        "****".to_owned()
    }
}

fn last_chars(text: &str, n: usize) -> String {
    let count = text.chars().count();
    text.chars().skip(count.saturating_sub(n)).collect()
}

/// Query parameters whose values are robot keys or signatures.
const SECRET_PARAMS: [&str; 3] = ["key", "access_token", "sign"];

/// The robot keys in a webhook URL (`key` for WeCom, `access_token` for DingTalk), to be masked
/// wherever a response or an error repeats them.
pub(crate) fn url_secrets(address: &str) -> Vec<String> {
    let Ok(url) = Url::parse(address.trim()) else {
        return Vec::new();
    };
    url.query_pairs()
        .filter(|(name, value)| SECRET_PARAMS.contains(&name.as_ref()) && !value.is_empty())
        .map(|(_, value)| value.into_owned())
        .collect()
}

/// `text` with every given secret, and every value of a `key=`, `access_token=` or `sign=`
/// parameter, replaced by `****`.
pub(crate) fn mask_secrets(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if secret.len() >= 4 {
            out = out.replace(secret.as_str(), "****");
        }
    }
    for name in SECRET_PARAMS {
        out = mask_param(&out, name);
    }
    out
}

fn mask_param(text: &str, name: &str) -> String {
    let pattern = format!("{name}=");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&pattern) {
        let (before, from) = rest.split_at(at);
        let (_, after) = from.split_at(pattern.len());
        let preceded_by_word = before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        out.push_str(before);
        out.push_str(&pattern);
        let end = after
            .find(|c: char| {
                c == '&'
                    || c == '"'
                    || c == '\''
                    || c == '<'
                    || c == ')'
                    || c == ','
                    || c == '\\'
                    || c == '#'
                    || c.is_whitespace()
            })
            .unwrap_or(after.len());
        if end > 0 && !preceded_by_word {
            out.push_str("****");
            rest = after.split_at(end).1;
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_key_parameters_are_masked() {
        let text = r#"{"errmsg":"invalid webhook url, hint: [1621200000_abc] url=https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx&debug=1"}"#;
        let masked = mask_secrets(text, &[]);
        assert!(masked.contains("send?key=****&debug=1"), "{masked}");
        assert!(!masked.contains("693a91f6"));
        let masked = mask_secrets(
            "token: SECabcdef echoed; access_token=xyz",
            &["SECabcdef".to_owned()],
        );
        assert_eq!(masked, "token: **** echoed; access_token=****");
        // A word ending in "key" is not a key parameter; a short "secret" is not masked blindly.
        assert_eq!(mask_secrets("monkey=1 a", &["a".to_owned()]), "monkey=1 a");
    }

    #[test]
    fn robot_keys_are_found_in_urls() {
        assert_eq!(
            url_secrets("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K-123"),
            vec!["K-123".to_owned()]
        );
        assert_eq!(
            url_secrets("https://oapi.dingtalk.com/robot/send?access_token=T0K"),
            vec!["T0K".to_owned()]
        );
        assert!(url_secrets("not a url").is_empty());
    }
}
