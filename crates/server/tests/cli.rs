//! The operator's commands run as the built `bihuan` binary against a
//! database prepared through the service: SQLite always, PostgreSQL when
//! `BIHUAN_TEST_PG_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use bihuan_domain::clock::Clock;
use bihuan_domain::hazard::HazardDraft;
use bihuan_domain::ids::HazardId;
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitDraft;
use bihuan_service::accounts::NewUser;
use bihuan_service::hazards::ActionInput;
use bihuan_service::password::Hasher;
use bihuan_service::{Ctx, Service, Settings};
use bihuan_store::hazards::HazardFilter;
use bihuan_testkit::{pg_url, FreshPg, TempDir};
use std::path::Path;
use std::process::Output;
use std::sync::Arc;

struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }
}

/// A database with the bundled plan, an enterprise with two hazards (one
/// closed), and an office user `cli-office`; the service on it.
async fn prepared(url: &str, files: &Path) -> Service {
    let db = bihuan_store::Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    let settings = Settings { password: Hasher::for_tests(), files_dir: files.to_path_buf(), ..Default::default() };
    let svc = Service::new(db, Arc::new(SystemClock), settings);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let sys = Ctx::system("t");
    let gov = svc.home_unit().await.unwrap();
    let d = UnitDraft { name: "上海甲机械有限公司".into(), kind: Some("enterprise".into()), ..Default::default() };
    let firm = svc.create_unit(&sys, Some(gov), &d).await.unwrap().id;
    let units = svc.list_units(&sys, &Default::default()).await.unwrap();
    let office_unit = units.iter().find(|u| u.name == "镇安全生产专项整治三年行动领导小组办公室").unwrap().id;
    let u = NewUser {
        username: "cli-office".into(),
        display_name: "王安委".into(),
        unit_id: office_unit.to_string(),
        role: Role::Office.as_str().into(),
        password: "Service-pass-1".into(),
        ..Default::default()
    };
    let user = svc.create_user(&sys, &u).await.unwrap();
    let mut tx = svc.db.read().await.unwrap();
    let office = Ctx::user(svc.actor_for(&mut tx, &user).await.unwrap(), None);
    tx.commit().await.unwrap();
    let report = |name: &str| HazardDraft {
        unit_id: Some(firm.to_string()),
        name: name.into(),
        description: format!("{name}，现场检查发现"),
        level: Some("general".into()),
        ..Default::default()
    };
    svc.report_hazard(&office, &report("安全出口锁闭"), None).await.unwrap();
    let fixed = svc.report_hazard(&office, &report("灭火器压力不足"), Some("已更换灭火器")).await.unwrap();
    svc.act_on_hazard(&office, fixed.id, &ActionInput { action: "accept".into(), ..Default::default() }).await.unwrap();
    svc
}

fn bihuan(data: &Path, url: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bihuan"))
        .arg("--data-dir")
        .arg(data)
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env_remove("BIHUAN_FILES_DIR")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

async fn count(svc: &Service) -> usize {
    svc.list_hazards(&Ctx::system("t"), &HazardFilter { limit: 500, ..Default::default() }).await.unwrap().0.len()
}

async fn commands(url: String) {
    let data = TempDir::new();
    let files = data.0.join("files");
    let svc = prepared(&url, &files).await;
    let dir = &data.0;
    let path = |name: &str| dir.join(name).display().to_string();

    // Export: CSV and xlsx, whole and filtered; progress on stderr, the result on stdout.
    let out = bihuan(dir, &url, &["hazards", "export", "--format", "csv", "--out", &path("all.csv")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("exporting 2 hazards"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("exported 2 hazards"), "{}", text(&out.stdout));
    let csv = std::fs::read_to_string(path("all.csv")).unwrap();
    assert!(csv.contains("隐患编号") && csv.contains("安全出口锁闭") && csv.contains("灭火器压力不足"), "{csv}");
    let out = bihuan(dir, &url, &["hazards", "export", "--format", "csv", "--out", &path("open.csv"), "--state", "open", "--q", "出口"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let open = std::fs::read_to_string(path("open.csv")).unwrap();
    assert!(open.contains("安全出口锁闭") && !open.contains("灭火器压力不足"), "{open}");
    let out = bihuan(dir, &url, &["hazards", "export", "--out", &path("all.xlsx"), "--as", "cli-office"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read(path("all.xlsx")).unwrap().starts_with(b"PK"), "an xlsx is a zip");
    // A bad filter: exit 1, the message in both languages, no file left behind.
    let out = bihuan(dir, &url, &["hazards", "export", "--format", "csv", "--out", &path("bad.csv"), "--state", "finished"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("无法识别“finished”") && err.contains("'finished' is not a known value"), "{err}");
    assert!(!dir.join("bad.csv").exists());
    let out = bihuan(dir, &url, &["hazards", "export", "--format", "pdf", "--out", &path("x.pdf")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("must be xlsx or csv"), "{}", text(&out.stderr));

    // Import: a dry run reports row by row, writes nothing, and exits 2 for the invalid row.
    let ledger = path("ledger.csv");
    std::fs::write(
        &ledger,
        "所在单位,隐患名称,隐患描述,发现时间\n\
         上海甲机械有限公司,消防通道堵塞,东侧通道堆放托盘,2021-04-01\n\
         上海甲机械有限公司,配电箱未上锁,二号车间配电箱,2021-04-02\n\
         上海无此公司,叉车无证驾驶,仓库叉车司机无证,2021-04-03\n",
    )
    .unwrap();
    let out = bihuan(dir, &url, &["hazards", "import", &ledger, "--as", "cli-office"]);
    assert_eq!(out.status.code(), Some(2), "{}{}", text(&out.stdout), text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("第 2 行 / row 2\t可导入 / valid") && report.contains("第 4 行 / row 4\t有错误 / invalid"), "{report}");
    assert!(report.contains("上海无此公司"), "{report}");
    assert!(text(&out.stderr).contains("1 row(s) are invalid"), "{}", text(&out.stderr));
    assert_eq!(count(&svc).await, 2);
    // All or nothing: nothing, since a row is invalid.
    let out = bihuan(dir, &url, &["hazards", "import", &ledger, "--as", "cli-office", "--apply", "all-or-nothing"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(count(&svc).await, 2);
    // The valid rows: imported; still exit 2 for the one left out.
    let out = bihuan(dir, &url, &["hazards", "import", &ledger, "--as", "cli-office", "--apply", "valid"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("已导入 / created"), "{}", text(&out.stdout));
    assert_eq!(count(&svc).await, 4);
    // A clean file imported again: found, not duplicated, exit 0.
    let clean = path("clean.csv");
    std::fs::write(&clean, "所在单位,隐患名称,隐患描述,发现时间\n上海甲机械有限公司,消防通道堵塞,东侧通道堆放托盘,2021-04-01\n").unwrap();
    let out = bihuan(dir, &url, &["hazards", "import", &clean, "--as", "cli-office", "--apply", "all-or-nothing"]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("已存在，跳过 / already there"), "{}", text(&out.stdout));
    assert_eq!(count(&svc).await, 4);
    // Unknown user, unknown mode: refused in both languages.
    let out = bihuan(dir, &url, &["hazards", "import", &clean, "--as", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("没有用户 nobody / no user nobody"), "{}", text(&out.stderr));
    let out = bihuan(dir, &url, &["hazards", "import", &clean, "--as", "cli-office", "--apply", "some"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--apply must be valid or all-or-nothing"), "{}", text(&out.stderr));

    // Calendar: a year replaced from a file; a wrong file changes nothing.
    let cal = path("2030.toml");
    std::fs::write(
        &cal,
        "[[notice]]\nyear = 2030\nstatus = \"official\"\nsource = \"国务院办公厅关于2030年部分节假日安排的通知\"\n\
         holidays = [{ name = \"元旦\", from = \"2030-01-01\", to = \"2030-01-01\" }]\n\
         workdays = [{ name = \"春节调休\", date = \"2030-02-02\" }]\n",
    )
    .unwrap();
    let out = bihuan(dir, &url, &["calendar", "import", &cal]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("replaced the holiday notice of 2030"), "{}", text(&out.stdout));
    let y2030 = svc.calendar_notices().await.unwrap().into_iter().find(|n| n.year == 2030).unwrap();
    assert_eq!((y2030.holidays.len(), y2030.workdays.len()), (1, 1));
    let bad = path("bad.toml");
    std::fs::write(&bad, std::fs::read_to_string(&cal).unwrap().replace("year = 2030", "year = 2031").replace("2030-02-02", "2031-02-05")).unwrap();
    let out = bihuan(dir, &url, &["calendar", "import", &bad]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains(" / "), "{err}");
    assert!(svc.calendar_notices().await.unwrap().iter().all(|n| n.year != 2031));
    let out = bihuan(dir, &url, &["calendar", "import", &cal, "--year", "2029"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("has no notice for 2029"), "{}", text(&out.stderr));

    // Files: an upload refused after its photo was stored leaves an orphan; gc lists it, then deletes it.
    let store = bihuan_files::FileStore::open(&files, Default::default()).unwrap();
    let orphan = store.put(b"an orphan text file\n", Some("x.txt")).unwrap();
    let kept = svc.file_store().unwrap().put(b"a young orphan\n", Some("y.txt")).unwrap();
    let sha = &orphan.sha256;
    let object = files.join("objects").join(&sha[0..2]).join(&sha[2..4]).join(sha);
    let two_hours = std::time::Duration::from_secs(7200);
    std::fs::OpenOptions::new().write(true).open(&object).unwrap().set_modified(std::time::SystemTime::now() - two_hours).unwrap();
    let referenced = svc
        .attach_to_hazard(&Ctx::system("t"), first_open(&svc).await, vec![upload(b"a referenced text file\n")], None)
        .await
        .unwrap();
    let rsha = &referenced[0].sha256;
    let robject = files.join("objects").join(&rsha[0..2]).join(&rsha[2..4]).join(rsha);
    std::fs::OpenOptions::new().write(true).open(&robject).unwrap().set_modified(std::time::SystemTime::now() - two_hours).unwrap();
    let out = bihuan(dir, &url, &["files", "gc"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(listed.contains(sha.as_str()) && !listed.contains(kept.sha256.as_str()) && !listed.contains(rsha.as_str()), "{listed}");
    assert!(object.exists(), "a dry run deletes nothing");
    let out = bihuan(dir, &url, &["files", "gc", "--apply"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("deleted 1 unreferenced files"), "{}", text(&out.stdout));
    assert!(!object.exists() && robject.exists() && store.exists(&kept.sha256));
    svc.db.close().await;
}

async fn first_open(svc: &Service) -> HazardId {
    let f = HazardFilter { limit: 500, ..Default::default() };
    let items = svc.list_hazards(&Ctx::system("t"), &f).await.unwrap().0;
    items.iter().find(|i| i.hazard.state.is_open()).unwrap().hazard.id
}

fn upload(bytes: &[u8]) -> bihuan_service::attachments::Upload {
    bihuan_service::attachments::Upload {
        role: bihuan_service::attachments::AttachmentRole::Document,
        file_name: "记录.txt".into(),
        bytes: bytes.to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_cli_commands() {
    let dir = TempDir::new();
    commands(format!("sqlite:{}", dir.0.join("cli.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cli_commands() {
    let Some(admin) = pg_url() else {
        eprintln!("note: postgres_cli_commands skipped: set BIHUAN_TEST_PG_URL=postgres://… to run it");
        return;
    };
    let fresh = FreshPg::create(&admin).await;
    let url = fresh.url.clone();
    let res = tokio::spawn(commands(url)).await;
    fresh.drop_db().await;
    if let Err(e) = res {
        std::panic::resume_unwind(e.into_panic());
    }
}
