//! One integration-test binary for bihuan-notify. Every network peer (HTTP receiver, SMTP sink) is
//! written here and listens on 127.0.0.1 only.
// Test code: helpers outside #[test] functions may unwrap and panic too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod backoff;
mod http;
mod render;
mod safety;
mod smtp;

use bihuan_notify::{Envelope, Level, Message};
use time::macros::datetime;

/// The escalation of the design's example.
pub fn escalation() -> Message {
    Message {
        title: "隐患整改逾期".to_owned(),
        level: Some(Level::Orange),
        lines: vec![
            "隐患：YH2021-000123 消防通道堵塞".to_owned(),
            "责任单位：××商场".to_owned(),
            "整改期限：2021-05-10，已逾期 7 天".to_owned(),
            "已升级至第 2 级：牵头部门".to_owned(),
        ],
        link: Some("https://bihuan.example/warnings/0190".to_owned()),
        event: "warning.escalated".to_owned(),
        data: serde_json::json!({"warning": {"rule": "hazard_overdue", "level": "orange", "step": 2}}),
    }
}

pub fn envelope() -> Envelope {
    Envelope {
        id: "0190a0b2-7c1d-7e2f-8a3b-4c5d6e7f8091".to_owned(),
        sent_at: datetime!(2021-05-17 07:30:05 +08:00),
    }
}
