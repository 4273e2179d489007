//! Two `bihuan serve` processes on one PostgreSQL database, with the clock
//! moved a month ahead: the daily warning job runs once, and every message
//! to a group robot (a local receiver) arrives exactly once. Runs when
//! `BIHUAN_TEST_PG_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use bihuan_domain::clock::Clock;
use bihuan_domain::hazard::HazardDraft;
use bihuan_domain::unit::UnitDraft;
use bihuan_service::channels::ChannelInput;
use bihuan_service::hazards::ActionInput;
use bihuan_service::password::Hasher;
use bihuan_service::{Ctx, Service, Settings};
use bihuan_testkit::{pg_url, FreshPg, TempDir};
use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }
}

type Received = Arc<Mutex<HashMap<String, usize>>>;

async fn robot(State(got): State<Received>, headers: HeaderMap) -> &'static str {
    let id = headers.get("x-bihuan-delivery").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    *got.lock().unwrap().entry(id).or_default() += 1;
    r#"{"errcode":0,"errmsg":"ok"}"#
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(url: &str, data: &std::path::Path, name: &str) -> Server {
    let dir = data.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_bihuan"))
        .args(["--data-dir", dir.to_str().unwrap(), "--database-url", url, "--addr", "127.0.0.1:0", "serve", "--clock-offset", "30d"])
        .env("BIHUAN_ALLOW_CLOCK_OFFSET", "1")
        .env("BIHUAN_SCHEDULER_TICK_SECONDS", "1")
        .env("BIHUAN_LEASE_SECONDS", "5")
        .env("BIHUAN_WARNINGS_DAILY_AT", "00:00")
        .env("BIHUAN_ALLOWED_WEBHOOK_HOSTS", "127.0.0.1")
        .env("BIHUAN_FILES_DIR", data.join("files"))
        .env("BIHUAN_ADMIN_PASSWORD", "Admin-pass-1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_send_each_message_once() {
    let Some(admin) = pg_url() else {
        eprintln!("note: two_servers_send_each_message_once skipped: set BIHUAN_TEST_PG_URL=postgres://… to run it");
        return;
    };
    let fresh = FreshPg::create(&admin).await;
    let url = fresh.url.clone();
    let data = TempDir::new();

    // A town with an enterprise whose hazard is due in five days: a month on, it is 25 days overdue.
    let db = bihuan_store::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let mut settings = Settings { password: Hasher::for_tests(), files_dir: data.0.join("files"), ..Default::default() };
    settings.notify.allowed_hosts = vec!["127.0.0.1".into()];
    let svc = Service::new(db.clone(), Arc::new(SystemClock), settings);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let sys = Ctx::system("t");
    let gov = svc.home_unit().await.unwrap();
    let firm = svc
        .create_unit(&sys, Some(gov), &UnitDraft { name: "上海甲机械有限公司".into(), kind: Some("enterprise".into()), ..Default::default() })
        .await
        .unwrap()
        .id;
    for n in 0..3 {
        let d = HazardDraft {
            unit_id: Some(firm.to_string()),
            name: format!("消防通道堵塞{n}"),
            description: "堆放杂物".into(),
            level: Some("general".into()),
            ..Default::default()
        };
        let h = svc.report_hazard(&sys, &d, None).await.unwrap();
        let a = ActionInput { action: "assign".into(), responsible_person: Some("李四".into()), deadline_days: Some(5), deadline_basis: Some("calendar".into()), ..Default::default() };
        svc.act_on_hazard(&sys, h.id, &a).await.unwrap();
    }
    // Today's run (nothing overdue yet) ends every rule's quiet first run.
    svc.evaluate_warnings(&sys, None, &Default::default()).await.unwrap();

    let got: Received = Arc::default();
    let app = axum::Router::new().route("/cgi-bin/webhook/send", post(robot)).with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let robot_channel = |unit, scope: &str, name: &str| ChannelInput {
        kind: "wecom".into(),
        unit_id: Some(unit),
        scope: Some(scope.into()),
        name: name.into(),
        address: format!("http://{addr}/cgi-bin/webhook/send?key={name}"),
        quiet_hours: Some(false),
        immediate_level: Some("blue".into()),
        ..Default::default()
    };
    svc.create_channel(&sys, &robot_channel(firm, "own", "firm")).await.unwrap();
    svc.create_channel(&sys, &robot_channel(gov, "subtree", "town")).await.unwrap();

    let _a = serve(&url, &data.0, "a");
    let _b = serve(&url, &data.0, "b");

    // Wait for the daily run and for every delivery to be settled (bounded).
    let started = Instant::now();
    let (ok_runs, sent, pending) = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let bihuan_store::Db::Postgres(pool) = &db else { unreachable!() };
        let ok_runs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job_run WHERE job = 'warnings.daily' AND outcome = 'ok' AND trigger = 'schedule'")
            .fetch_one(pool)
            .await
            .unwrap();
        let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM delivery WHERE status = 'sent'").fetch_one(pool).await.unwrap();
        let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM delivery WHERE status <> 'sent'").fetch_one(pool).await.unwrap();
        if (ok_runs >= 1 && sent > 0 && pending == 0) || started.elapsed() > Duration::from_secs(90) {
            break (ok_runs, sent, pending);
        }
    };
    // A few more ticks: nothing may be sent twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(_a);
    drop(_b);
    assert_eq!(ok_runs, 1, "the daily slot ran once across both servers");
    assert_eq!(pending, 0, "every delivery was sent");
    let got = got.lock().unwrap().clone();
    assert!(sent >= 2, "the enterprise's robot and the town's both heard of the overdue hazards: {sent}");
    assert_eq!(got.len() as i64, sent, "each sent row reached the receiver: {got:?}");
    assert!(got.values().all(|n| *n == 1), "no message arrived twice: {got:?}");
    let bihuan_store::Db::Postgres(pool) = &db else { unreachable!() };
    let holders: Vec<String> = sqlx::query_scalar("SELECT DISTINCT node FROM delivery_attempt").fetch_all(pool).await.unwrap();
    eprintln!("two servers: {sent} deliveries sent once each, by {} node(s)", holders.len());
    db.close().await;
    fresh.drop_db().await;
}
