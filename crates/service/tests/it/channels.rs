//! Outside channels on both engines: an overdue hazard's warning reaches an
//! enterprise's WeCom robot (a local receiver), a server error is retried
//! after the backoff, two workers send each delivery once, the digest goes
//! out at 08:30, and channels pointing anywhere else are refused.

use crate::{as_user, scenario};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bihuan_domain::hazard::HazardDraft;
use bihuan_domain::role::Role;
use bihuan_service::channels::ChannelInput;
use bihuan_service::hazards::ActionInput;
use bihuan_service::jobs::Schedule;
use bihuan_service::{Service, Settings};
use bihuan_store::Db;
use bihuan_testkit::TestClock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use time::Duration;

#[derive(Default)]
struct Receiver {
    calls: AtomicUsize,
    /// (X-Bihuan-Delivery, status answered, body)
    got: Mutex<Vec<(String, u16, String)>>,
}

/// Answers 500 to the first request, then `{"errcode":0}`.
async fn robot(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: String) -> (StatusCode, String) {
    let n = r.calls.fetch_add(1, Ordering::SeqCst);
    let id = headers.get("x-bihuan-delivery").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let status = if n == 0 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
    r.got.lock().unwrap().push((id, status.as_u16(), body));
    (status, r#"{"errcode":0,"errmsg":"ok"}"#.into())
}

async fn receiver() -> (Arc<Receiver>, String) {
    let state = Arc::new(Receiver::default());
    let app = axum::Router::new().route("/cgi-bin/webhook/send", post(robot)).route("/hook", post(robot)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (state, format!("http://{addr}"))
}

fn act(action: &str) -> ActionInput {
    ActionInput { action: action.into(), ..Default::default() }
}

async fn robots(db: Db) {
    let clock = Arc::new(TestClock::at(time::macros::datetime!(2021-05-01 10:00 +08:00)));
    let mut settings = Settings { password: bihuan_service::password::Hasher::for_tests(), ..Default::default() };
    settings.notify.allowed_hosts.push("127.0.0.1".into());
    settings.notify.public_url = Some("https://bihuan.example".into());
    let svc = Service::new(db, clock.clone(), settings);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let (rx, base) = receiver().await;
    let crate::Town { office_unit, village, firm, .. } = crate::town(&svc).await;
    let office = as_user(&svc, "office", Role::Office, office_unit).await;
    let boss = as_user(&svc, "firm", Role::Enterprise, firm).await;
    let villager = as_user(&svc, "village", Role::Locality, village).await;
    // Only the overdue rule, so the counts below are exact.
    crate::only_rules(&svc, &[bihuan_domain::warning::RuleCode::HazardOverdue]).await;

    // Addresses elsewhere are refused, in both languages; an enterprise cannot add its village's robot.
    let mut bad = ChannelInput {
        kind: "wecom".into(),
        unit_id: Some(firm),
        name: "企业安全群".into(),
        address: "https://robot.evil.example/send?key=1".into(),
        ..Default::default()
    };
    let e = svc.create_channel(&boss, &bad).await.unwrap_err();
    assert!(e.fields.iter().any(|f| f.field == "address"), "{e}");
    bad.unit_id = Some(village);
    bad.address = format!("{base}/cgi-bin/webhook/send?key=v1");
    assert!(svc.create_channel(&boss, &bad).await.is_err());

    // The enterprise's WeCom group takes yellow and above at once; the village's webhook everything below it, in the digest.
    let firm_robot = ChannelInput {
        kind: "wecom".into(),
        unit_id: Some(firm),
        name: "甲机械安全群".into(),
        address: format!("{base}/cgi-bin/webhook/send?key=secret-robot-key"),
        immediate_level: Some("yellow".into()),
        quiet_hours: Some(false),
        ..Default::default()
    };
    let firm_channel = svc.create_channel(&boss, &firm_robot).await.unwrap();
    assert!(!firm_channel.address.contains("secret-robot-key"), "the key is never shown: {}", firm_channel.address);
    let village_hook = ChannelInput {
        kind: "webhook".into(),
        unit_id: Some(village),
        scope: Some("subtree".into()),
        name: "红翔村值班系统".into(),
        address: format!("{base}/hook"),
        immediate_level: Some(String::new()),
        secret: Some("hmac-key".into()),
        ..Default::default()
    };
    svc.create_channel(&villager, &village_hook).await.unwrap();

    let draft = HazardDraft {
        unit_id: Some(firm.to_string()),
        name: "二号车间消防通道堵塞".into(),
        description: "堆放杂物".into(),
        hazard_type: Some("消防".into()),
        level: Some("一般隐患".into()),
        ..Default::default()
    };
    let h = svc.report_hazard(&boss, &draft, None).await.unwrap();
    let mut a = act("assign");
    a.responsible_person = Some("李四".into());
    a.deadline = Some("2021-05-06".into());
    svc.act_on_hazard(&office, h.id, &a).await.unwrap();

    // The servers have been ticking: 6 May's jobs ran (a rule's first run is quiet: it would only have sent summaries).
    let schedule = Schedule::default();
    clock.advance(time::macros::datetime!(2021-05-06 08:31 +08:00) - svc.now());
    svc.run_due_jobs("node-a", &schedule).await.unwrap();
    assert_eq!(svc.deliver_due("node-a").await.unwrap(), Default::default(), "nothing overdue yet");
    // 7 May, 07:31: overdue. One delivery for the enterprise's robot, one digest item for the village.
    clock.advance(time::macros::datetime!(2021-05-07 07:31 +08:00) - svc.now());
    svc.run_due_jobs("node-a", &schedule).await.unwrap();
    let first = svc.deliver_due("node-a").await.unwrap();
    assert_eq!((first.sent, first.retried), (0, 1), "the robot answered 500: retried later");
    // Nothing is due again before the backoff.
    assert_eq!(svc.deliver_due("node-b").await.unwrap(), Default::default());
    clock.advance(Duration::minutes(2));
    let (a, b) = tokio::join!(svc.deliver_due("node-a"), svc.deliver_due("node-b"));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 1, "two workers, one send: {a:?} {b:?}");
    {
        let got = rx.got.lock().unwrap();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, got[1].0, "the same delivery, tried twice");
        let body: serde_json::Value = serde_json::from_str(&got[1].2).unwrap();
        assert_eq!(body["msgtype"], "markdown");
        let content = body["markdown"]["content"].as_str().unwrap();
        assert!(content.contains("【闭环】") && content.contains("隐患整改逾期") && content.contains("已逾期 1 天"), "{content}");
        assert!(content.contains("https://bihuan.example/warnings/"), "{content}");
    }
    let log = svc.deliveries(&boss, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].status.as_str(), log[0].attempts, log[0].log.len()), ("sent", 2, 2));
    assert_eq!((log[0].log[0].outcome.as_str(), log[0].log[0].http_status), ("retry", Some(500)));
    assert!(log[0].log.iter().all(|a| !a.response.clone().unwrap_or_default().contains("secret-robot-key")));
    // The enterprise sees its own channel's log, not the village's.
    assert!(svc.deliveries(&boss, 10).await.unwrap().iter().all(|d| d.channel_id == firm_channel.id));

    // 08:31: the digest job writes one message for the village's webhook, and it goes out signed.
    clock.advance(time::macros::datetime!(2021-05-07 08:31 +08:00) - svc.now());
    svc.run_due_jobs("node-b", &schedule).await.unwrap();
    let sent = svc.deliver_due("node-b").await.unwrap();
    assert_eq!(sent.sent, 1, "{sent:?}");
    let got = rx.got.lock().unwrap().clone();
    let digest: serde_json::Value = serde_json::from_str(&got.last().unwrap().2).unwrap();
    assert_eq!(digest["event"], "digest", "{digest}");
    assert!(digest["markdown"].as_str().unwrap().contains("隐患整改逾期"), "{digest}");
    // Running the day's jobs again adds nothing.
    svc.run_due_jobs("node-a", &schedule).await.unwrap();
    assert_eq!(svc.deliver_due("node-a").await.unwrap(), Default::default());
    assert_eq!(rx.calls.load(Ordering::SeqCst), 3);

    // A test message is sent at once; switching a channel off cancels what it still had to send.
    svc.test_channel(&boss, firm_channel.id).await.unwrap();
    let mut off = firm_robot.clone();
    off.enabled = Some(false);
    off.address = String::new();
    svc.update_channel(&boss, firm_channel.id, &off, firm_channel.version).await.unwrap();
    assert_eq!(svc.deliver_due("node-a").await.unwrap(), Default::default());
    let log = svc.deliveries(&boss, 10).await.unwrap();
    assert_eq!(log[0].status, "cancelled");
}
scenario!(robots => robots_sqlite, robots_pg);
