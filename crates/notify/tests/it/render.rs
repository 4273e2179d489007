//! Payload shapes of design §4.2, byte limits and the title prefix.

use bihuan_notify::{ChannelKind, Format, Level, Message, Rendered, render};
use serde_json::{Value, json};

use crate::{envelope, escalation};

fn rendered(kind: ChannelKind, format: Format, message: &Message) -> Rendered {
    render(kind, format, message, &envelope())
}

fn json_of(r: &Rendered) -> Value {
    serde_json::from_str(&r.body).unwrap()
}

#[test]
fn wecom_markdown_has_the_level_in_colour_and_quoted_lines() {
    let r = rendered(ChannelKind::Wecom, Format::Markdown, &escalation());
    assert_eq!(
        json_of(&r),
        json!({"msgtype": "markdown", "markdown": {"content":
            "### 【闭环】<font color=\"warning\">橙色预警</font> 隐患整改逾期\n\
             > 隐患：YH2021-000123 消防通道堵塞\n\
             > 责任单位：××商场\n\
             > 整改期限：2021-05-10，已逾期 7 天\n\
             > 已升级至第 2 级：牵头部门\n\
             [查看](https://bihuan.example/warnings/0190)"}})
    );
    assert_eq!(r.subject, "【闭环】橙色预警 隐患整改逾期");
}

#[test]
fn wecom_text_is_plain() {
    let r = rendered(ChannelKind::Wecom, Format::Text, &escalation());
    assert_eq!(
        json_of(&r),
        json!({"msgtype": "text", "text": {"content":
            "【闭环】橙色预警 隐患整改逾期\n\
             隐患：YH2021-000123 消防通道堵塞\n\
             责任单位：××商场\n\
             整改期限：2021-05-10，已逾期 7 天\n\
             已升级至第 2 级：牵头部门\n\
             查看：https://bihuan.example/warnings/0190"}})
    );
}

#[test]
fn wecom_has_three_colours_for_four_levels() {
    let colour = |level| {
        let m = Message {
            level: Some(level),
            ..escalation()
        };
        let v = json_of(&rendered(ChannelKind::Wecom, Format::Markdown, &m));
        let content = v["markdown"]["content"].as_str().unwrap().to_owned();
        let start = content.find("color=\"").unwrap() + 7;
        let end = content[start..].find('"').unwrap() + start;
        (content[start..end].to_owned(), content)
    };
    assert_eq!(colour(Level::Red).0, "warning");
    assert_eq!(colour(Level::Orange).0, "warning");
    assert_eq!(colour(Level::Yellow).0, "info");
    assert_eq!(colour(Level::Blue).0, "comment");
    assert!(colour(Level::Red).1.contains(">红色预警</font>"));
    assert!(colour(Level::Yellow).1.contains(">黄色预警</font>"));
    assert!(colour(Level::Blue).1.contains(">蓝色预警</font>"));
}

#[test]
fn dingtalk_markdown_has_a_title_a_list_and_no_at_all() {
    let r = rendered(ChannelKind::Dingtalk, Format::Markdown, &escalation());
    assert_eq!(
        json_of(&r),
        json!({
            "msgtype": "markdown",
            "markdown": {
                "title": "【闭环】橙色预警 隐患整改逾期",
                "text": "### 【闭环】橙色预警 隐患整改逾期\n\
                         - 隐患：YH2021-000123 消防通道堵塞\n\
                         - 责任单位：××商场\n\
                         - 整改期限：2021-05-10，已逾期 7 天\n\
                         - 已升级至第 2 级：牵头部门\n\n\
                         [查看](https://bihuan.example/warnings/0190)"
            },
            "at": {"isAtAll": false}
        })
    );
}

#[test]
fn dingtalk_text_carries_the_keyword() {
    let r = rendered(ChannelKind::Dingtalk, Format::Text, &escalation());
    let v = json_of(&r);
    assert_eq!(v["msgtype"], "text");
    assert_eq!(v["at"], json!({"isAtAll": false}));
    let content = v["text"]["content"].as_str().unwrap();
    assert!(
        content.starts_with("【闭环】橙色预警 隐患整改逾期\n隐患：YH2021-000123"),
        "{content}"
    );
    assert!(
        content.ends_with("\n查看：https://bihuan.example/warnings/0190"),
        "{content}"
    );
    assert_eq!(v.as_object().unwrap().len(), 3);
}

#[test]
fn webhook_json_merges_the_data_under_the_fixed_fields() {
    let mut m = escalation();
    // Data cannot overwrite the fixed fields.
    m.data["id"] = json!("forged");
    m.data["title"] = json!("forged");
    let r = rendered(ChannelKind::Webhook, Format::Text, &m);
    let v = json_of(&r);
    assert_eq!(v["event"], "warning.escalated");
    assert_eq!(v["id"], "0190a0b2-7c1d-7e2f-8a3b-4c5d6e7f8091");
    assert_eq!(v["sent_at"], "2021-05-17T07:30:05+08:00");
    assert_eq!(v["title"], "【闭环】橙色预警 隐患整改逾期");
    assert_eq!(
        v["warning"],
        json!({"rule": "hazard_overdue", "level": "orange", "step": 2})
    );
    let markdown = v["markdown"].as_str().unwrap();
    assert!(
        markdown.starts_with("### 【闭环】橙色预警 隐患整改逾期\n- 隐患："),
        "{markdown}"
    );
    assert_eq!(
        v.as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect::<std::collections::BTreeSet<_>>(),
        ["event", "id", "markdown", "sent_at", "title", "warning"]
            .into_iter()
            .collect()
    );
    // The same whatever the channel's format.
    assert_eq!(r, rendered(ChannelKind::Webhook, Format::Markdown, &m));

    let scalar = Message {
        data: json!(42),
        ..escalation()
    };
    assert_eq!(
        json_of(&rendered(ChannelKind::Webhook, Format::Text, &scalar))["data"],
        42
    );
    let none = Message {
        data: Value::Null,
        ..escalation()
    };
    assert_eq!(
        json_of(&rendered(ChannelKind::Webhook, Format::Text, &none))
            .as_object()
            .unwrap()
            .len(),
        5
    );
}

#[test]
fn email_is_plain_text_with_the_title_as_subject() {
    let r = rendered(ChannelKind::Email, Format::Markdown, &escalation());
    assert_eq!(r.subject, "【闭环】橙色预警 隐患整改逾期");
    assert!(
        r.body
            .starts_with("隐患：YH2021-000123 消防通道堵塞\n责任单位：××商场\n"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("\n\n查看：https://bihuan.example/warnings/0190\n"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("###") && !r.body.contains("<font"));
}

#[test]
fn every_title_starts_with_the_keyword_once() {
    let plain = Message {
        title: "测试消息".to_owned(),
        level: None,
        ..escalation()
    };
    let prefixed = Message {
        title: "【闭环】测试消息".to_owned(),
        ..plain.clone()
    };
    for m in [&plain, &prefixed] {
        for kind in [
            ChannelKind::Wecom,
            ChannelKind::Dingtalk,
            ChannelKind::Webhook,
            ChannelKind::Email,
        ] {
            for format in [Format::Markdown, Format::Text] {
                let r = rendered(kind, format, m);
                assert_eq!(r.subject, "【闭环】测试消息", "{kind:?} {format:?}");
                assert_eq!(r.body.matches("【闭环】【闭环】").count(), 0);
                if kind != ChannelKind::Email {
                    assert!(
                        r.body.contains("【闭环】测试消息"),
                        "{kind:?} {format:?}: {}",
                        r.body
                    );
                }
            }
        }
    }
    // No level: no label and no colour.
    let v = json_of(&rendered(ChannelKind::Wecom, Format::Markdown, &plain));
    assert!(
        v["markdown"]["content"]
            .as_str()
            .unwrap()
            .starts_with("### 【闭环】测试消息\n> ")
    );
}

#[test]
fn a_bare_path_is_printed_not_linked() {
    let m = Message {
        link: Some("/warnings/0190".to_owned()),
        ..escalation()
    };
    let v = json_of(&rendered(ChannelKind::Wecom, Format::Markdown, &m));
    assert!(
        v["markdown"]["content"]
            .as_str()
            .unwrap()
            .ends_with("\n链接：/warnings/0190")
    );
}

// ---- limits: 4,096 bytes of markdown, 2,048 of text, cut between whole lines ----

fn many_lines(n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| format!("隐患：YH2021-{i:06} 消防通道堵塞，责任单位：××商场第{i}分店"))
        .collect()
}

fn content(kind_format: Format, m: &Message) -> String {
    let v = json_of(&rendered(ChannelKind::Wecom, kind_format, m));
    let field = if kind_format == Format::Markdown {
        "markdown"
    } else {
        "text"
    };
    v[field]["content"].as_str().unwrap().to_owned()
}

fn note(n: usize) -> String {
    format!("……等 {n} 条，详见系统")
}

/// Checks the cut of `lines` under `limit` for a format whose lines carry `prefix`.
fn check_cut(format: Format, limit: usize, prefix: &str) {
    let lines = many_lines(300);
    let m = Message {
        lines: lines.clone(),
        ..escalation()
    };
    let c = content(format, &m);
    assert!(c.len() <= limit, "{} bytes", c.len());
    let kept = lines
        .iter()
        .take_while(|l| c.contains(&format!("{prefix}{l}\n")))
        .count();
    assert!(kept > 10, "only {kept} lines kept");
    let dropped = lines.len() - kept;
    // The kept lines are whole and in order, then the note, then the link.
    assert!(!c.contains(&lines[kept]), "line {kept} should be gone");
    let tail = format!("{prefix}{}\n{prefix}{}\n", lines[kept - 1], note(dropped));
    assert!(
        c.contains(&tail),
        "no note after the last kept line: …{}",
        &c[c.len() - 200..]
    );
    assert!(
        c.trim_end_matches(')')
            .ends_with("https://bihuan.example/warnings/0190"),
        "{format:?}"
    );
    // And it is the most that fits: one more line (and a note one shorter) would not.
    let one_more = c.len() + prefix.len() + lines[kept].len() + 1 + note(dropped - 1).len()
        - note(dropped).len();
    assert!(
        one_more > limit,
        "line {kept} would still fit ({one_more} bytes)"
    );
}

#[test]
fn wecom_markdown_is_cut_to_4096_bytes_between_lines() {
    check_cut(Format::Markdown, 4096, "> ");
}

#[test]
fn wecom_text_is_cut_to_2048_bytes_between_lines() {
    check_cut(Format::Text, 2048, "");
}

#[test]
fn a_message_of_exactly_the_limit_is_not_cut() {
    // Heading, link and one line; the line is padded so the content is exactly 4,096 bytes.
    let base = Message {
        lines: vec![String::new()],
        ..escalation()
    };
    let empty_len = content(Format::Markdown, &base).len();
    let fill = 4096 - empty_len;
    let line = format!("{}{}", "隐".repeat(fill / 3), "a".repeat(fill % 3));
    let exact = Message {
        lines: vec![line.clone()],
        ..escalation()
    };
    let c = content(Format::Markdown, &exact);
    assert_eq!(c.len(), 4096);
    assert!(!c.contains("详见系统"));
    // One byte more and the line no longer fits whole.
    let over = Message {
        lines: vec![format!("{line}b")],
        ..escalation()
    };
    let c = content(Format::Markdown, &over);
    assert!(c.len() <= 4096, "{}", c.len());
    assert!(c.contains('…'));
}

#[test]
fn a_single_huge_line_is_cut_at_a_character_boundary() {
    for (format, limit) in [(Format::Markdown, 4096), (Format::Text, 2048)] {
        // 3-byte characters put most byte offsets inside a character.
        let m = Message {
            lines: vec!["患".repeat(5000), "第二条".to_owned(), "第三条".to_owned()],
            ..escalation()
        };
        let c = content(format, &m);
        assert!(
            c.len() <= limit && c.len() > limit - 40,
            "{format:?}: {} bytes",
            c.len()
        );
        assert!(c.contains("患患…\n"), "{format:?}");
        assert!(
            c.contains(&note(2)),
            "{format:?}: the two short lines are counted"
        );
        assert!(
            c.trim_end_matches(')')
                .ends_with("https://bihuan.example/warnings/0190"),
            "{format:?}"
        );
    }
}

#[test]
fn dingtalk_and_webhook_bodies_are_not_cut() {
    let m = Message {
        lines: many_lines(300),
        ..escalation()
    };
    let v = json_of(&rendered(ChannelKind::Dingtalk, Format::Markdown, &m));
    assert!(
        v["markdown"]["text"]
            .as_str()
            .unwrap()
            .contains("YH2021-000300")
    );
}
