//! One message, rendered per channel kind (design §4.2).

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{ChannelKind, Format};

/// Every title starts with this, so a DingTalk robot whose keyword security is "闭环" accepts it.
pub const TITLE_PREFIX: &str = "【闭环】";

/// What a cut message says in place of the lines it left out: `……等 N 条，详见系统`.
pub const NOTE_PREFIX: &str = "……等 ";

/// WeCom's limit on `markdown.content`, in UTF-8 bytes.
const WECOM_MARKDOWN_BYTES: usize = 4096;
/// WeCom's limit on `text.content`, in UTF-8 bytes.
const WECOM_TEXT_BYTES: usize = 2048;

/// A warning level, as the notification shows it. The crate's own small copy, so that it needs
/// nothing from the domain.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// 红色预警, the most serious.
    Red,
    /// 橙色预警.
    Orange,
    /// 黄色预警.
    Yellow,
    /// 蓝色预警, the least serious.
    Blue,
}

impl Level {
    /// The stored name: `red`, `orange`, `yellow` or `blue`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Red => "red",
            Level::Orange => "orange",
            Level::Yellow => "yellow",
            Level::Blue => "blue",
        }
    }

    /// The stored name back to the level.
    pub fn parse(name: &str) -> Option<Level> {
        [Level::Red, Level::Orange, Level::Yellow, Level::Blue]
            .into_iter()
            .find(|l| l.as_str() == name)
    }

    /// 红色预警, 橙色预警, 黄色预警 or 蓝色预警.
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Red => "红色预警",
            Level::Orange => "橙色预警",
            Level::Yellow => "黄色预警",
            Level::Blue => "蓝色预警",
        }
    }

    /// WeCom markdown has three colours only: `warning` (orange-red) for red and orange, `info`
    /// for yellow, `comment` (grey) for blue.
    pub fn wecom_color(self) -> &'static str {
        match self {
            Level::Red | Level::Orange => "warning",
            Level::Yellow => "info",
            Level::Blue => "comment",
        }
    }
}

/// What to say, before it is shaped for a channel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message {
    /// The title, such as "隐患整改逾期". [`TITLE_PREFIX`] is added when missing.
    pub title: String,
    /// The warning level, shown in the heading when there is one.
    pub level: Option<Level>,
    /// The body, one fact a line ("隐患：YH2021-000123 消防通道堵塞"). Lines are dropped from the
    /// end when a channel's size limit is reached.
    pub lines: Vec<String>,
    /// `public_url + path`, or the bare path when there is no public URL.
    pub link: Option<String>,
    /// For the generic webhook: the event, such as `warning.escalated`, `digest` or `test`; also
    /// sent as the `X-Bihuan-Event` header.
    pub event: String,
    /// For the generic webhook: further fields merged into the top level of the JSON body (for
    /// example `{"warning": {…}}`). An object's keys are merged, except the reserved ones (`event`,
    /// `id`, `sent_at`, `title`, `markdown`); `null` adds nothing; any other value goes under
    /// `data`.
    pub data: Value,
}

/// What one delivery adds to the generic webhook's body: its id and when it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The delivery id, also sent as `Idempotency-Key` and `X-Bihuan-Delivery`.
    pub id: String,
    /// When the delivery was made, written as RFC 3339 in its own offset (Beijing time: +08:00).
    pub sent_at: OffsetDateTime,
}

/// A message shaped for one channel: what `delivery.title` and `delivery.body` store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The exact JSON for robots and webhooks, or the text of an e-mail. Unsigned.
    pub body: String,
    /// The heading without markup: "【闭环】橙色预警 隐患整改逾期". The e-mail subject.
    pub subject: String,
}

/// Shapes `message` for a channel of `kind` that asked for `format` (design §4.2).
///
/// - WeCom: `{"msgtype":"markdown","markdown":{"content":…}}` with the level in its colour, or
///   `{"msgtype":"text","text":{"content":…}}`; the content is cut to 4,096 or 2,048 bytes.
/// - DingTalk: `{"msgtype":"markdown","markdown":{"title":…,"text":…},"at":{"isAtAll":false}}`
///   or the `text` equivalent.
/// - Webhook: `{"event","id","sent_at","title","markdown", …data}`, whatever `format`.
/// - E-mail: plain text; the subject is [`Rendered::subject`].
pub fn render(
    kind: ChannelKind,
    format: Format,
    message: &Message,
    envelope: &Envelope,
) -> Rendered {
    let subject = heading(message, None);
    let body = match (kind, format) {
        (ChannelKind::Wecom, Format::Markdown) => {
            let content = fit(&message.lines, WECOM_MARKDOWN_BYTES, |lines, dropped| {
                wecom_markdown(message, lines, dropped)
            });
            json!({"msgtype": "markdown", "markdown": {"content": content}}).to_string()
        }
        (ChannelKind::Wecom, Format::Text) => {
            let content = fit(&message.lines, WECOM_TEXT_BYTES, |lines, dropped| {
                plain_text(message, lines, dropped)
            });
            json!({"msgtype": "text", "text": {"content": content}}).to_string()
        }
        (ChannelKind::Dingtalk, Format::Markdown) => json!({
            "msgtype": "markdown",
            "markdown": {"title": subject, "text": list_markdown(message)},
            "at": {"isAtAll": false},
        })
        .to_string(),
        (ChannelKind::Dingtalk, Format::Text) => json!({
            "msgtype": "text",
            "text": {"content": plain_text(message, &message.lines, 0)},
            "at": {"isAtAll": false},
        })
        .to_string(),
        (ChannelKind::Webhook, _) => webhook_body(message, envelope, &subject),
        (ChannelKind::Email, _) => mail_text(message),
    };
    Rendered { body, subject }
}

/// "【闭环】" + level label + title, with the label wrapped by `decorate` (WeCom's colour).
fn heading(message: &Message, decorate: Option<&dyn Fn(&str) -> String>) -> String {
    let title = message.title.trim();
    let title = title
        .strip_prefix(TITLE_PREFIX)
        .unwrap_or(title)
        .trim_start();
    let mut out = String::from(TITLE_PREFIX);
    if let Some(level) = message.level {
        match decorate {
            Some(decorate) => out.push_str(&decorate(level.label_zh())),
            None => out.push_str(level.label_zh()),
        }
        if !title.is_empty() {
            out.push(' ');
        }
    }
    out.push_str(title);
    out
}

fn note(dropped: usize) -> String {
    format!("{NOTE_PREFIX}{dropped} 条，详见系统")
}

/// An absolute link as a markdown link; a bare path (no public URL configured) printed as is.
fn markdown_link(link: &str) -> String {
    if is_absolute(link) {
        format!("[查看]({link})")
    } else {
        format!("链接：{link}")
    }
}

fn is_absolute(link: &str) -> bool {
    link.starts_with("https://") || link.starts_with("http://")
}

fn wecom_markdown(message: &Message, lines: &[String], dropped: usize) -> String {
    let level_color = message.level.map(Level::wecom_color).unwrap_or("comment");
    let colour = move |label: &str| format!("<font color=\"{level_color}\">{label}</font>");
    let mut out = format!("### {}", heading(message, Some(&colour)));
    for line in lines {
        out.push_str("\n> ");
        out.push_str(line);
    }
    if dropped > 0 {
        out.push_str("\n> ");
        out.push_str(&note(dropped));
    }
    if let Some(link) = &message.link {
        out.push('\n');
        out.push_str(&markdown_link(link));
    }
    out
}

fn plain_text(message: &Message, lines: &[String], dropped: usize) -> String {
    let mut out = heading(message, None);
    for line in lines {
        out.push('\n');
        out.push_str(line);
    }
    if dropped > 0 {
        out.push('\n');
        out.push_str(&note(dropped));
    }
    if let Some(link) = &message.link {
        out.push_str("\n查看：");
        out.push_str(link);
    }
    out
}

/// The markdown of DingTalk and of the webhook: a heading, a list, the link.
fn list_markdown(message: &Message) -> String {
    let mut out = format!("### {}", heading(message, None));
    for line in &message.lines {
        out.push_str("\n- ");
        out.push_str(line);
    }
    if let Some(link) = &message.link {
        out.push_str("\n\n");
        out.push_str(&markdown_link(link));
    }
    out
}

fn mail_text(message: &Message) -> String {
    let mut out = String::new();
    for line in &message.lines {
        out.push_str(line);
        out.push('\n');
    }
    if let Some(link) = &message.link {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("查看：");
        out.push_str(link);
        out.push('\n');
    }
    out.push_str("\n-- \n此邮件由闭环系统自动发送，请勿直接回复。\n");
    out
}

const RESERVED: [&str; 5] = ["event", "id", "sent_at", "title", "markdown"];

fn webhook_body(message: &Message, envelope: &Envelope, subject: &str) -> String {
    let mut body = Map::new();
    match &message.data {
        Value::Object(data) => {
            for (key, value) in data {
                if !RESERVED.contains(&key.as_str()) {
                    body.insert(key.clone(), value.clone());
                }
            }
        }
        Value::Null => {}
        other => {
            body.insert("data".to_owned(), other.clone());
        }
    }
    // A zone offset always formats as RFC 3339; the fallback only keeps this function total.
    let sent_at = envelope
        .sent_at
        .format(&Rfc3339)
        .unwrap_or_else(|_| envelope.sent_at.unix_timestamp().to_string());
    body.insert("event".to_owned(), Value::from(message.event.as_str()));
    body.insert("id".to_owned(), Value::from(envelope.id.as_str()));
    body.insert("sent_at".to_owned(), Value::from(sent_at));
    body.insert("title".to_owned(), Value::from(subject));
    body.insert("markdown".to_owned(), Value::from(list_markdown(message)));
    Value::Object(body).to_string()
}

/// Renders with as many whole lines as fit in `limit` bytes, the rest counted in the note.
///
/// `compose(lines, dropped)` renders the kept lines and, when `dropped > 0`, the note. Lines are
/// dropped whole from the end, so no hazard number is shown half. Only when not even the first
/// line fits is that line cut (at a character boundary, marked "…"), and when not even the
/// heading fits, the whole text is cut at a character boundary.
fn fit(lines: &[String], limit: usize, compose: impl Fn(&[String], usize) -> String) -> String {
    let full = compose(lines, 0);
    if full.len() <= limit {
        return full;
    }
    // Grow from no line: each try is at most about `limit` bytes, whatever the input's size.
    let mut best = None;
    for kept in 0..lines.len() {
        let (head, _) = lines.split_at(kept);
        let candidate = compose(head, lines.len() - kept);
        if candidate.len() > limit {
            break;
        }
        best = Some((kept, candidate));
    }
    if let Some((kept, text)) = &best
        && *kept > 0
    {
        return text.clone();
    }
    // Not even one whole line fits. Cut the first line to the room left.
    if let Some(first) = lines.first() {
        let dropped = lines.len() - 1;
        let with_first = compose(std::slice::from_ref(first), dropped);
        let over = with_first.len().saturating_sub(limit);
        let room = first.len().saturating_sub(over + "…".len());
        let cut = cut_at_char(first, room);
        if !cut.is_empty() {
            let text = compose(&[format!("{cut}…")], dropped);
            if text.len() <= limit {
                return text;
            }
        }
    }
    match best {
        Some((_, text)) => text,
        // Not even the heading fits.
        None => cut_at_char(&compose(&[], lines.len()), limit).to_owned(),
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends at a character boundary.
pub(crate) fn cut_at_char(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_added_once() {
        let m = |title: &str| Message {
            title: title.to_owned(),
            ..Message::default()
        };
        assert_eq!(heading(&m("隐患整改逾期"), None), "【闭环】隐患整改逾期");
        assert_eq!(
            heading(&m("【闭环】隐患整改逾期"), None),
            "【闭环】隐患整改逾期"
        );
        assert_eq!(heading(&m(" 【闭环】 测试消息 "), None), "【闭环】测试消息");
        let leveled = Message {
            level: Some(Level::Red),
            ..m("整改逾期")
        };
        assert_eq!(heading(&leveled, None), "【闭环】红色预警 整改逾期");
    }

    #[test]
    fn cutting_respects_character_boundaries() {
        assert_eq!(cut_at_char("隐患", 4), "隐");
        assert_eq!(cut_at_char("隐患", 6), "隐患");
        assert_eq!(cut_at_char("隐患", 2), "");
        assert_eq!(cut_at_char("ab", 1), "a");
    }

    #[test]
    fn a_single_overlong_line_is_cut_not_dropped() {
        let lines = vec!["隐".repeat(1000), "第二条".to_owned()];
        let text = fit(&lines, 200, |lines, dropped| {
            let mut s = lines.join("\n");
            if dropped > 0 {
                s.push('\n');
                s.push_str(&note(dropped));
            }
            s
        });
        assert!(text.len() <= 200, "{}", text.len());
        assert!(text.starts_with("隐隐"), "{text}");
        assert!(text.contains("…\n……等 1 条，详见系统"), "{text}");
    }

    #[test]
    fn an_overlong_heading_is_cut_at_a_boundary() {
        let message = Message {
            title: "题".repeat(5000),
            ..Message::default()
        };
        let text = fit(&[], 4096, |lines, dropped| {
            wecom_markdown(&message, lines, dropped)
        });
        assert!(text.len() <= 4096 && text.len() > 4090);
        assert!(text.ends_with('题'));
    }
}
