//! What came back from a send, classified (design §4.4).

use std::time::Duration;

use crate::message::cut_at_char;
use crate::safety::mask_secrets;

/// Response excerpts and errors are kept to this many bytes (`delivery_attempt.response`).
pub const EXCERPT_BYTES: usize = 2048;

/// The result of one attempt, as the delivery log records it. `status` is the HTTP status (none
/// for e-mail, or when no answer came); `response` is an excerpt of the answer and `error` says
/// what went wrong, both at most [`EXCERPT_BYTES`] with robot keys and secrets masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted: a 2xx, and for robots `errcode == 0`; for e-mail, the server took the message.
    Sent {
        /// HTTP status.
        status: Option<u16>,
        /// Excerpt of the answer.
        response: Option<String>,
    },
    /// Worth trying again later: 408, 429, 5xx, a timeout, a connection error, a robot
    /// `errcode ≠ 0`, an SMTP 4xx.
    Retry {
        /// HTTP status, when an answer came.
        status: Option<u16>,
        /// Excerpt of the answer.
        response: Option<String>,
        /// What went wrong.
        error: Option<String>,
        /// The receiver's `Retry-After`: the next attempt must not come earlier.
        retry_after: Option<Duration>,
    },
    /// Will not work by trying again (a wrong URL or key, a refused recipient): 400, 401, 403, 404,
    /// 410 and other client errors, redirects, an SMTP 5xx, a URL no longer allowed.
    Failed {
        /// HTTP status, when an answer came.
        status: Option<u16>,
        /// Excerpt of the answer.
        response: Option<String>,
        /// What went wrong.
        error: Option<String>,
    },
}

impl Outcome {
    /// `sent`, `retry` or `failed`, as `delivery_attempt.outcome` stores it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Sent { .. } => "sent",
            Outcome::Retry { .. } => "retry",
            Outcome::Failed { .. } => "failed",
        }
    }

    /// The HTTP status, if an answer came.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Sent { status, .. }
            | Outcome::Retry { status, .. }
            | Outcome::Failed { status, .. } => *status,
        }
    }

    /// The excerpt of the answer.
    pub fn response(&self) -> Option<&str> {
        match self {
            Outcome::Sent { response, .. }
            | Outcome::Retry { response, .. }
            | Outcome::Failed { response, .. } => response.as_deref(),
        }
    }

    /// What went wrong.
    pub fn error(&self) -> Option<&str> {
        match self {
            Outcome::Sent { .. } => None,
            Outcome::Retry { error, .. } | Outcome::Failed { error, .. } => error.as_deref(),
        }
    }

    /// The receiver's `Retry-After`, for a retry.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Outcome::Retry { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(crate) fn retry(error: String, secrets: &[String]) -> Outcome {
        Outcome::Retry {
            status: None,
            response: None,
            error: Some(excerpt(&error, secrets)),
            retry_after: None,
        }
    }

    pub(crate) fn failed(error: String, secrets: &[String]) -> Outcome {
        Outcome::Failed {
            status: None,
            response: None,
            error: Some(excerpt(&error, secrets)),
        }
    }
}

/// `text` with secrets masked, cut to [`EXCERPT_BYTES`] at a character boundary.
pub(crate) fn excerpt(text: &str, secrets: &[String]) -> String {
    cut_at_char(&mask_secrets(text, secrets), EXCERPT_BYTES).to_owned()
}

/// Classifies an HTTP answer. `robot` asks for `errcode == 0` in a JSON body besides the 2xx.
pub(crate) fn classify_http(
    robot: bool,
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
    secrets: &[String],
) -> Outcome {
    let response = (!body.is_empty()).then(|| excerpt(body, secrets));
    match status {
        200..=299 => {
            if !robot {
                return Outcome::Sent {
                    status: Some(status),
                    response,
                };
            }
            match robot_errcode(body) {
                Some(0) => Outcome::Sent {
                    status: Some(status),
                    response,
                },
                // Robot codes are not documented well enough to tell a bad key from a busy
                // robot (45009 is "too many"), so every one is retried.
                Some(code) => Outcome::Retry {
                    status: Some(status),
                    response,
                    error: Some(format!("robot errcode {code}")),
                    retry_after,
                },
                None => Outcome::Retry {
                    status: Some(status),
                    response,
                    error: Some("robot answer without errcode".to_owned()),
                    retry_after,
                },
            }
        }
        408 | 429 | 500..=599 => Outcome::Retry {
            status: Some(status),
            response,
            error: Some(format!("HTTP {status}")),
            retry_after,
        },
        _ => Outcome::Failed {
            status: Some(status),
            response,
            error: Some(format!("HTTP {status}")),
        },
    }
}

fn robot_errcode(body: &str) -> Option<i64> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value.get("errcode")?.as_i64()
}

/// `Retry-After` as delay-seconds. The HTTP-date form is not used by the robots and is ignored.
/// The longest `Retry-After` honoured: a receiver cannot park a delivery for longer than a day.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_design_4_4() {
        assert_eq!(parse_retry_after("300000000000"), Some(MAX_RETRY_AFTER), "a huge Retry-After is capped");
        let c = |robot, status, body: &str| classify_http(robot, status, None, body, &[]).as_str();
        assert_eq!(c(false, 200, ""), "sent");
        assert_eq!(c(false, 204, ""), "sent");
        assert_eq!(c(true, 200, r#"{"errcode":0,"errmsg":"ok"}"#), "sent");
        assert_eq!(
            c(
                true,
                200,
                r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#
            ),
            "retry"
        );
        assert_eq!(c(true, 200, "<html>gateway</html>"), "retry");
        for status in [400, 401, 403, 404, 410] {
            assert_eq!(c(false, status, ""), "failed", "{status}");
            assert_eq!(c(true, status, ""), "failed", "{status}");
        }
        for status in [408, 429, 500, 502, 503, 504] {
            assert_eq!(c(false, status, ""), "retry", "{status}");
        }
        assert_eq!(c(false, 302, ""), "failed");
    }

    #[test]
    fn excerpts_are_short_and_masked() {
        let body = format!("key=SECRET {}", "长".repeat(2000));
        let Outcome::Failed {
            response: Some(r), ..
        } = classify_http(false, 404, None, &body, &[])
        else {
            panic!("expected a failure with a response");
        };
        assert!(r.len() <= EXCERPT_BYTES && r.len() > EXCERPT_BYTES - 3);
        assert!(
            r.starts_with("key=**** 长"),
            "{}",
            r.get(..20).unwrap_or_default()
        );
    }

    #[test]
    fn retry_after_is_seconds() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
