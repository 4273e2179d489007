//! The SMTP sender against a sink written here: a UTF-8 message with a Chinese subject arrives
//! and decodes; 4xx is retried, 5xx fails (design §4.2).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bihuan_notify::{
    ChannelKind, Delivery, Format, Outcome, Security, SmtpConfig, SmtpSender, render,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::{envelope, escalation};

/// What the sink took: the envelope sender, the recipients and the DATA, dot-unstuffed.
#[derive(Debug)]
struct Mail {
    from: String,
    to: Vec<String>,
    data: String,
}

/// A minimal SMTP server on 127.0.0.1:0 for one connection, answering `rcpt_reply` to RCPT.
async fn sink(rcpt_reply: &'static str) -> (u16, mpsc::UnboundedReceiver<Mail>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let mut mail = Mail {
            from: String::new(),
            to: Vec::new(),
            data: String::new(),
        };
        write.write_all(b"220 sink.test ESMTP\r\n").await.unwrap();
        while let Some(line) = lines.next_line().await.unwrap() {
            let verb = line
                .split([' ', ':'])
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            let answer: &str = match verb.as_str() {
                "EHLO" => "250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                "HELO" | "RSET" | "NOOP" => "250 OK\r\n",
                "MAIL" => {
                    mail.from = line["MAIL FROM:".len()..].to_owned();
                    "250 OK\r\n"
                }
                "RCPT" => {
                    mail.to.push(line["RCPT TO:".len()..].to_owned());
                    rcpt_reply
                }
                "DATA" => {
                    write
                        .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                        .await
                        .unwrap();
                    while let Some(data_line) = lines.next_line().await.unwrap() {
                        if data_line == "." {
                            break;
                        }
                        let unstuffed = data_line.strip_prefix('.').unwrap_or(&data_line);
                        mail.data.push_str(unstuffed);
                        mail.data.push('\n');
                    }
                    "250 2.0.0 queued as 42\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => "502 not implemented\r\n",
            };
            write.write_all(answer.as_bytes()).await.unwrap();
        }
        let _ = tx.send(mail);
    });
    (port, rx)
}

fn config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port: Some(port),
        security: Security::None,
        username: None,
        password: None,
        from: "闭环系统 <bihuan@example.gov.cn>".to_owned(),
    }
}

fn mail_delivery() -> Delivery {
    let rendered = render(ChannelKind::Email, Format::Text, &escalation(), &envelope());
    Delivery {
        id: envelope().id,
        kind: ChannelKind::Email,
        address: "张三 <zhangsan@example.gov.cn>".to_owned(),
        secret: None,
        subject: rendered.subject,
        body: rendered.body,
        event: "warning.escalated".to_owned(),
    }
}

/// The headers (continuation lines unfolded) and the body of a message.
fn split(data: &str) -> (Vec<(String, String)>, String) {
    let (head, body) = data.split_once("\n\n").unwrap();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            headers.last_mut().unwrap().1.push_str(line);
        } else {
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    (headers, body.to_owned())
}

/// RFC 2047 encoded words (`=?utf-8?b?…?=` or `?q?`) decoded; whitespace between them dropped.
fn decode_words(value: &str) -> String {
    let mut bytes = Vec::new();
    for word in value.split_whitespace() {
        let inner = word
            .strip_prefix("=?")
            .and_then(|w| w.strip_suffix("?="))
            .unwrap();
        let mut parts = inner.splitn(3, '?');
        let (charset, encoding, text) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        assert!(charset.eq_ignore_ascii_case("utf-8"), "{charset}");
        match encoding {
            "b" | "B" => bytes.extend(STANDARD.decode(text).unwrap()),
            _ => bytes.extend(quoted_printable(&text.replace('_', " "))),
        }
    }
    String::from_utf8(bytes).unwrap()
}

fn quoted_printable(text: &str) -> Vec<u8> {
    let joined = text.replace("=\n", "");
    let mut out = Vec::new();
    let mut rest = joined.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'=' && tail.len() >= 2 {
            out.push(u8::from_str_radix(std::str::from_utf8(&tail[..2]).unwrap(), 16).unwrap());
            rest = &tail[2..];
        } else {
            out.push(byte);
            rest = tail;
        }
    }
    out
}

#[tokio::test]
async fn a_chinese_message_arrives_and_decodes() {
    let (port, mut received) = sink("250 OK\r\n").await;
    let sender = SmtpSender::new(&config(port), Duration::from_secs(5)).unwrap();
    let d = mail_delivery();
    let outcome = sender.send(&d).await;
    match &outcome {
        Outcome::Sent {
            status: None,
            response: Some(response),
        } => {
            assert!(response.starts_with("250"), "{response}");
            assert!(response.contains("queued as 42"), "{response}");
        }
        other => panic!("{other:?}"),
    }
    let mail = received.recv().await.unwrap();
    assert_eq!(mail.from, "<bihuan@example.gov.cn>");
    assert_eq!(mail.to, vec!["<zhangsan@example.gov.cn>".to_owned()]);

    let (headers, body) = split(&mail.data);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} in {headers:?}"))
    };
    assert_eq!(
        decode_words(&header("subject")),
        "【闭环】橙色预警 隐患整改逾期"
    );
    assert_eq!(
        header("content-type").to_ascii_lowercase().replace(' ', ""),
        "text/plain;charset=utf-8"
    );
    assert_eq!(header("message-id"), format!("<{}@bihuan>", d.id));
    assert!(header("from").contains("<bihuan@example.gov.cn>"));
    let body = match header("content-transfer-encoding")
        .to_ascii_lowercase()
        .as_str()
    {
        "base64" => String::from_utf8(STANDARD.decode(body.replace('\n', "")).unwrap()).unwrap(),
        "quoted-printable" => String::from_utf8(quoted_printable(&body)).unwrap(),
        _ => body,
    };
    assert_eq!(body.replace("\r\n", "\n").trim_end(), d.body.trim_end());
    assert!(body.contains("隐患：YH2021-000123 消防通道堵塞"));
}

#[tokio::test]
async fn a_temporary_refusal_is_retried() {
    let (port, _received) = sink("451 4.7.1 greylisted, try again later\r\n").await;
    let sender = SmtpSender::new(&config(port), Duration::from_secs(5)).unwrap();
    let outcome = sender.send(&mail_delivery()).await;
    match &outcome {
        Outcome::Retry {
            error: Some(error), ..
        } => assert!(error.contains("greylisted"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_permanent_refusal_fails() {
    let (port, _received) = sink("550 5.1.1 no such user\r\n").await;
    let sender = SmtpSender::new(&config(port), Duration::from_secs(5)).unwrap();
    let outcome = sender.send(&mail_delivery()).await;
    match &outcome {
        Outcome::Failed {
            error: Some(error), ..
        } => assert!(error.contains("no such user"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn no_server_is_retried_and_a_bad_address_fails() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let sender = SmtpSender::new(&config(port), Duration::from_secs(2)).unwrap();
    assert_eq!(sender.send(&mail_delivery()).await.as_str(), "retry");
    let bad = Delivery {
        address: "not an address".to_owned(),
        ..mail_delivery()
    };
    assert_eq!(sender.send(&bad).await.as_str(), "failed");
}
