//! Circulars (通报) on both engines: composed from the overdue hazards of
//! the town or from chosen warnings, edited, numbered at issue without gaps,
//! kept as issued, sent to the units concerned with one inbox notice per
//! user, and read only by those who may.

use crate::{as_user, scenario, service_with_clock, unit};
use bihuan_domain::circular::{CircularKind, CircularState, Snapshot};
use bihuan_domain::hazard::HazardDraft;
use bihuan_domain::ids::HazardId;
use bihuan_domain::role::Role;
use bihuan_domain::ErrorCode;
use bihuan_service::circulars::{CircularEdit, ComposeInput};
use bihuan_service::hazards::{ActionInput, PlanInput};
use bihuan_service::warning_views::WarningQuery;
use bihuan_service::{Ctx, Service};
use bihuan_store::Db;
use std::io::Read;
use time::Duration;
use uuid::Uuid;

/// The text of word/document.xml, tags removed.
fn document_text(docx: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("a docx is a zip");
    let mut xml = String::new();
    zip.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
    let mut out = String::new();
    let mut in_tag = false;
    for c in xml.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// A hazard at `unit`, assigned by the office with the deadline 2021-05-10.
async fn overdue_hazard(svc: &Service, office: &Ctx, reporter: &Ctx, unit: bihuan_domain::ids::UnitId, name: &str) -> HazardId {
    let draft = HazardDraft {
        unit_id: Some(unit.to_string()),
        name: name.into(),
        description: format!("{name}，现场检查发现"),
        level: Some("general".into()),
        ..Default::default()
    };
    let h = svc.report_hazard(reporter, &draft, None).await.unwrap();
    let a = ActionInput { action: "assign".into(), responsible_person: Some("李四".into()), deadline: Some("2021-05-10".into()), ..Default::default() };
    svc.act_on_hazard(office, h.id, &a).await.unwrap();
    h.id
}

/// The circular notices in a user's inbox.
async fn circular_notices(svc: &Service, who: &Ctx) -> Vec<String> {
    svc.inbox(who, false, None, 200).await.unwrap().into_iter().filter(|n| n.kind == "circular").map(|n| n.link).collect()
}

async fn circulars(db: Db) {
    let (svc, clock) = service_with_clock(db);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let gov = svc.home_unit().await.unwrap();
    let units = svc.list_units(&Ctx::system("t"), &Default::default()).await.unwrap();
    let office_unit = units.iter().find(|u| u.name == "镇安全生产专项整治三年行动领导小组办公室").unwrap().id;
    let village_a = unit(&svc, gov, "红翔村", "locality").await;
    let firm_a = unit(&svc, village_a, "上海甲机械有限公司", "enterprise").await;
    let village_b = unit(&svc, gov, "白鹤村", "locality").await;
    let firm_b = unit(&svc, village_b, "上海乙食品有限公司", "enterprise").await;
    let village_c = unit(&svc, gov, "封浜村", "locality").await;
    let firm_c = unit(&svc, village_c, "上海丙五金有限公司", "enterprise").await;
    let other_town = svc
        .create_unit(&Ctx::system("t"), None, &bihuan_domain::unit::UnitDraft { name: "另一镇人民政府".into(), kind: Some("government".into()), ..Default::default() })
        .await
        .unwrap()
        .id;

    let office = as_user(&svc, "office", Role::Office, office_unit).await;
    let leader = as_user(&svc, "leader", Role::Leader, gov).await;
    let villager = as_user(&svc, "village-a", Role::Locality, village_a).await;
    let boss_a = as_user(&svc, "firm-a", Role::Enterprise, firm_a).await;
    let boss_a2 = as_user(&svc, "firm-a2", Role::Enterprise, firm_a).await;
    let boss_b = as_user(&svc, "firm-b", Role::Enterprise, firm_b).await;
    let boss_c = as_user(&svc, "firm-c", Role::Enterprise, firm_c).await;
    let stranger = as_user(&svc, "stranger", Role::Office, other_town).await;

    let h1 = overdue_hazard(&svc, &office, &boss_a, firm_a, "一号车间消防通道堵塞").await;
    let _h2 = overdue_hazard(&svc, &office, &boss_a, firm_a, "配电箱门缺失").await;
    let _h3 = overdue_hazard(&svc, &office, &boss_b, firm_b, "冷库氨气报警器失效").await;
    // Nothing is overdue before the deadline: nothing to report.
    let e = svc.compose_circular(&office, &ComposeInput { kind: CircularKind::Overdue, warning_ids: vec![] }).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation, "{e}");
    assert!(e.zh.contains("没有逾期"), "{e}");
    // Thursday 20 May: ten days overdue.
    clock.advance(Duration::days(19));
    assert_eq!(svc.overdue_for_circular(&office).await.unwrap(), (3, false));

    // Only the office (and administrators) compose.
    for who in [&leader, &villager, &boss_a] {
        let e = svc.compose_circular(who, &ComposeInput { kind: CircularKind::Overdue, warning_ids: vec![] }).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden, "{e}");
    }
    // At most 1,000 items.
    let many: Vec<Uuid> = (0..1001).map(|_| Uuid::now_v7()).collect();
    let e = svc.compose_circular(&office, &ComposeInput { kind: CircularKind::Warnings, warning_ids: many }).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
    assert!(e.zh.contains("最多列 1000 项") && e.en.contains("at most 1000"), "{e}");

    // The draft: three items, the default wording.
    let draft = svc.compose_circular(&office, &ComposeInput { kind: CircularKind::Overdue, warning_ids: vec![] }).await.unwrap();
    assert_eq!(draft.state, CircularState::Draft);
    assert_eq!(draft.items, 3);
    assert_eq!(draft.title, "关于全镇隐患整改逾期情况的通报");
    assert_eq!(draft.number_prefix, "镇安委会办公室通");
    assert_eq!(draft.addressee, "上海甲机械有限公司、上海乙食品有限公司");
    assert_eq!(draft.cc.as_deref(), Some("镇领导"));
    assert!(draft.opening.starts_with("截至2021年5月20日"), "{}", draft.opening);
    assert_eq!(draft.requirements.len(), 3);
    let d = svc.circular_detail(&office, draft.id).await.unwrap();
    assert!(d.may_edit);
    assert_eq!(d.items.len(), 3);
    match &d.items[0].snapshot {
        Snapshot::Hazard { days_overdue, responsible_unit, .. } => assert_eq!((*days_overdue, responsible_unit.as_str()), (10, "上海甲机械有限公司")),
        other => panic!("{other:?}"),
    }
    let names: Vec<&str> = d.recipients.iter().map(|r| r.unit_name.as_str()).collect();
    assert_eq!(names, ["上海乙食品有限公司", "上海甲机械有限公司"]);
    // The leader reads the draft but may not change it; an enterprise does not see it.
    assert!(!svc.circular_detail(&leader, draft.id).await.unwrap().may_edit);
    let e = svc.edit_circular(&leader, draft.id, &CircularEdit { title: Some("x".into()), ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert_eq!(svc.circular_detail(&boss_a, draft.id).await.unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(svc.circular_detail(&stranger, draft.id).await.unwrap_err().code, ErrorCode::NotFound);

    // A draft's preview has no number yet.
    let (name, preview) = svc.circular_docx(&office, draft.id).await.unwrap();
    assert!(name.starts_with("通报草稿") && name.ends_with(".docx"), "{name}");
    let text = document_text(&preview);
    assert!(text.contains("关于全镇隐患整改逾期情况的通报") && !text.contains("〔2021〕"), "{text}");

    // Edited: a blank title is refused, the rest is kept.
    let bad = CircularEdit { title: Some("  ".into()), number_prefix: Some("南安办通〔2021〕".into()), ..Default::default() };
    let e = svc.edit_circular(&office, draft.id, &bad).await.unwrap_err();
    let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["title", "number_prefix"], "{e:?}");
    let edit = CircularEdit {
        title: Some("关于全镇隐患整改逾期情况的通报（第一期）".into()),
        number_prefix: Some("南安办通".into()),
        requirements: Some(vec!["5个工作日内完成整改。".into(), "  ".into()]),
        cc: Some("镇党委、镇政府领导".into()),
        version: Some(draft.version),
        ..Default::default()
    };
    let edited = svc.edit_circular(&office, draft.id, &edit).await.unwrap();
    assert_eq!((edited.version, edited.requirements.len()), (draft.version + 1, 1));
    let e = svc.edit_circular(&office, draft.id, &edit).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "a stale version is refused");

    // Another draft, discarded: numbers are given at issue, so it leaves no gap.
    let discarded = svc.compose_circular(&office, &ComposeInput { kind: CircularKind::Overdue, warning_ids: vec![] }).await.unwrap();
    svc.delete_circular(&office, discarded.id).await.unwrap();
    assert_eq!(svc.circular_detail(&office, discarded.id).await.unwrap_err().code, ErrorCode::NotFound);

    // H1 is handed in before the issue: it is dropped, and said so.
    let plan = PlanInput { measures: Some("清理通道".into()), funds: Some("0.1".into()), contingency: Some("专人看守".into()), ..Default::default() };
    svc.plan_hazard(&boss_a, h1, &plan).await.unwrap();
    let submit = ActionInput { action: "submit".into(), rectification: Some("杂物已清理".into()), ..Default::default() };
    svc.act_on_hazard(&boss_a, h1, &submit).await.unwrap();
    // A stale version is refused, and uses no number.
    let e = svc.issue_circular(&office, draft.id, Some(draft.version)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let report = svc.issue_circular(&office, draft.id, Some(edited.version)).await.unwrap();
    let issued = &report.circular;
    assert_eq!(issued.state, CircularState::Issued);
    assert_eq!(issued.document_number.as_deref(), Some("南安办通〔2021〕1号"));
    assert_eq!(issued.items, 2);
    assert_eq!(report.dropped.len(), 1);
    assert!(report.dropped[0].ends_with("一号车间消防通道堵塞"), "{:?}", report.dropped);
    assert_eq!((report.recipients, report.notified), (2, 3));
    assert_eq!((issued.read, issued.recipients), (Some(0), Some(2)));

    // Issued is final.
    let e = svc.edit_circular(&office, draft.id, &CircularEdit { title: Some("改".into()), ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.zh.contains("已印发"), "{e}");
    assert_eq!(svc.issue_circular(&office, draft.id, None).await.unwrap_err().code, ErrorCode::Conflict);
    assert_eq!(svc.delete_circular(&office, draft.id).await.unwrap_err().code, ErrorCode::Conflict);

    // One inbox notice per user of the units concerned; none for anyone else.
    let link = format!("/circulars/{}", draft.id);
    for who in [&boss_a, &boss_a2, &boss_b] {
        assert_eq!(circular_notices(&svc, who).await, std::slice::from_ref(&link));
    }
    for who in [&boss_c, &office, &leader, &villager] {
        assert!(circular_notices(&svc, who).await.is_empty());
    }
    let notice = svc.inbox(&boss_b, false, None, 10).await.unwrap().into_iter().find(|n| n.kind == "circular").unwrap();
    assert_eq!(notice.title, "【通报】南安办通〔2021〕1号 关于全镇隐患整改逾期情况的通报（第一期）");
    assert!(notice.body.contains("涉及你单位 1 项"), "{}", notice.body);

    // Who reads it: the town (not its enterprises), and the units it was sent to.
    assert_eq!(svc.circular_detail(&boss_c, draft.id).await.unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(svc.circular_docx(&boss_c, draft.id).await.unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(svc.circular_detail(&stranger, draft.id).await.unwrap_err().code, ErrorCode::NotFound);
    assert!(svc.circular_detail(&villager, draft.id).await.is_ok());
    assert!(svc.circular_detail(&leader, draft.id).await.is_ok());
    // The first read by a recipient is noted, once per unit; the office sees 1/2.
    let seen = svc.circular_detail(&boss_a, draft.id).await.unwrap();
    assert_eq!(seen.items.len(), 2);
    assert!(seen.recipients.iter().all(|r| r.read_at.is_none()), "only the office sees who read it");
    svc.circular_detail(&boss_a2, draft.id).await.unwrap();
    let d = svc.circular_detail(&office, draft.id).await.unwrap();
    assert_eq!((d.circular.read, d.circular.recipients), (Some(1), Some(2)));
    assert!(d.recipients.iter().any(|r| r.unit_name == "上海甲机械有限公司" && r.read_at.is_some()));
    // Lists: the office sees it with 已阅; an enterprise only what was sent to it.
    let list = svc.list_circulars(&office, None, 50).await.unwrap();
    assert_eq!(list.iter().map(|c| c.id).collect::<Vec<_>>(), [draft.id]);
    assert_eq!(list[0].read, Some(1));
    assert_eq!(svc.list_circulars(&boss_b, None, 50).await.unwrap().len(), 1);
    assert!(svc.list_circulars(&boss_c, None, 50).await.unwrap().is_empty());
    assert!(svc.list_circulars(&stranger, None, 50).await.unwrap().is_empty());
    assert_eq!(svc.list_circulars(&villager, None, 50).await.unwrap()[0].read, None, "已阅 is for the office");

    // The document as issued: a zip with the number and the title, the same bytes every time.
    let (name, bytes) = svc.circular_docx(&office, draft.id).await.unwrap();
    assert_eq!(name, "南安办通〔2021〕1号.docx");
    let text = document_text(&bytes);
    assert!(text.contains("南安办通〔2021〕1号") && text.contains("关于全镇隐患整改逾期情况的通报（第一期）"), "{text}");
    assert!(text.contains("配电箱门缺失") && !text.contains("一号车间消防通道堵塞"), "the dropped item is not in it");
    assert!(text.contains("镇党委、镇政府领导") && text.contains("截至2021年5月20日"), "{text}");
    clock.advance(Duration::days(1));
    let (_, again) = svc.circular_docx(&boss_b, draft.id).await.unwrap();
    assert_eq!(again, bytes, "the kept document, not a new rendering");
    libreoffice_check(&bytes);

    // The second circular of the year is number 2 (the prefix carries over).
    let second = svc.compose_circular(&office, &ComposeInput { kind: CircularKind::Overdue, warning_ids: vec![] }).await.unwrap();
    assert_eq!(second.number_prefix, "南安办通");
    let r2 = svc.issue_circular(&office, second.id, None).await.unwrap();
    assert_eq!(r2.circular.document_number.as_deref(), Some("南安办通〔2021〕2号"));
    // Its notices are its own.
    assert_eq!(circular_notices(&svc, &boss_b).await.len(), 2);

    // From chosen warnings: the engine's overdue warnings, as the office sees them.
    svc.evaluate_warnings(&Ctx::system("t"), None, &Default::default()).await.unwrap();
    let warnings = svc.list_warnings(&office, &WarningQuery::default(), None, 50, false).await.unwrap();
    let ids: Vec<Uuid> = warnings.iter().map(|w| w.id).collect();
    assert!(!ids.is_empty());
    // Not the enterprise's to choose, nor a warning it cannot see.
    assert_eq!(svc.compose_circular(&boss_a, &ComposeInput { kind: CircularKind::Warnings, warning_ids: ids.clone() }).await.unwrap_err().code, ErrorCode::Forbidden);
    let e = svc.compose_circular(&stranger, &ComposeInput { kind: CircularKind::Warnings, warning_ids: ids.clone() }).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let w = svc.compose_circular(&office, &ComposeInput { kind: CircularKind::Warnings, warning_ids: ids.clone() }).await.unwrap();
    assert_eq!(w.title, "关于全镇预警情况的通报");
    assert_eq!(w.items, ids.len() as i64);
    let r3 = svc.issue_circular(&office, w.id, None).await.unwrap();
    assert_eq!(r3.circular.document_number.as_deref(), Some("南安办通〔2021〕3号"));
    let (_, bytes) = svc.circular_docx(&office, w.id).await.unwrap();
    assert!(document_text(&bytes).contains("预警清单"));

    // The newest first.
    let list = svc.list_circulars(&office, None, 2).await.unwrap();
    assert_eq!(list.iter().map(|c| c.id).collect::<Vec<_>>(), [w.id, second.id]);
    let last = list.last().unwrap();
    let rest = svc.list_circulars(&office, Some((last.created_at, last.id)), 2).await.unwrap();
    assert_eq!(rest.iter().map(|c| c.id).collect::<Vec<_>>(), [draft.id]);
}
scenario!(circulars => circulars_sqlite, circulars_pg);

/// LibreOffice opens the issued document and prints its title, when it is
/// installed (`BIHUAN_REQUIRE_SOFFICE` makes its absence a failure).
fn libreoffice_check(docx: &[u8]) {
    use std::process::Command;
    let on_path = |p: &str| {
        std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).is_file()))
    };
    let missing: Vec<&str> = ["soffice", "pdftotext"].into_iter().filter(|p| !on_path(p)).collect();
    if !missing.is_empty() {
        assert!(std::env::var_os("BIHUAN_REQUIRE_SOFFICE").is_none(), "{} not on PATH and BIHUAN_REQUIRE_SOFFICE is set", missing.join(", "));
        eprintln!("circular docx: LibreOffice check skipped, {} not on PATH", missing.join(", "));
        return;
    }
    let dir = std::env::temp_dir().join(format!("bihuan-circular-{}-{}", std::process::id(), Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("circular.docx");
    std::fs::write(&input, docx).unwrap();
    let out = Command::new("soffice")
        .arg(format!("-env:UserInstallation=file://{}", dir.join("profile").display()))
        .args(["--headless", "--norestore", "--convert-to", "pdf", "--outdir"])
        .arg(&dir)
        .arg(&input)
        .env("HOME", &dir)
        .output()
        .unwrap();
    let pdf = dir.join("circular.pdf");
    assert!(out.status.success() && pdf.is_file(), "soffice: {}", String::from_utf8_lossy(&out.stderr));
    let text = Command::new("pdftotext").args(["-layout"]).arg(&pdf).arg("-").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout).split_whitespace().collect::<String>();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(text.contains("关于全镇隐患整改逾期情况的通报") && text.contains("南安办通〔2021〕1号"), "{text}");
}

/// Two people issuing one draft at once: one issues it, the other is told it
/// is issued; two drafts issued at once take consecutive numbers.
async fn issued_at_once(db: Db) {
    let (svc, clock) = service_with_clock(db);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let crate::Town { office_unit, firm, .. } = crate::town(&svc).await;
    let office = as_user(&svc, "office", Role::Office, office_unit).await;
    let colleague = as_user(&svc, "office-2", Role::Office, office_unit).await;
    let boss = as_user(&svc, "firm", Role::Enterprise, firm).await;
    overdue_hazard(&svc, &office, &boss, firm, "配电箱门缺失").await;
    clock.advance(Duration::days(19));
    let overdue = ComposeInput { kind: CircularKind::Overdue, warning_ids: vec![] };
    let compose = || svc.compose_circular(&office, &overdue);
    let (one, two, three) = (compose().await.unwrap(), compose().await.unwrap(), compose().await.unwrap());

    let (a, b) = tokio::join!(svc.issue_circular(&office, one.id, None), svc.issue_circular(&colleague, one.id, None));
    let (ok, refused): (Vec<_>, Vec<_>) = [a, b].into_iter().partition(Result::is_ok);
    assert_eq!((ok.len(), refused.len()), (1, 1));
    assert_eq!(refused[0].as_ref().unwrap_err().code, ErrorCode::Conflict);
    assert_eq!(ok[0].as_ref().unwrap().circular.document_number.as_deref(), Some("镇安委会办公室通〔2021〕1号"));
    assert_eq!(circular_notices(&svc, &boss).await.len(), 1, "one notice for one issue");

    let (b, c) = tokio::join!(svc.issue_circular(&office, two.id, None), svc.issue_circular(&colleague, three.id, None));
    let mut numbers = vec![b.unwrap().circular.document_number.unwrap(), c.unwrap().circular.document_number.unwrap()];
    numbers.sort();
    assert_eq!(numbers, ["镇安委会办公室通〔2021〕2号", "镇安委会办公室通〔2021〕3号"]);
}
scenario!(issued_at_once => circulars_issued_at_once_sqlite, circulars_issued_at_once_pg);

/// A ledger of `rows` hazards of the firm, being rectified, due 1 April 2021
/// (overdue on 1 May), numbered from `from`.
fn overdue_ledger(from: usize, rows: usize) -> Vec<u8> {
    let mut csv = String::from("企业名称,存在问题,问题描述,检查日期,整改时限,责任人,整改情况\n");
    for n in from..from + rows {
        csv.push_str(&format!("上海甲机械有限公司,第{n}号灭火器过期,仓库灭火器超过检验期,2021-03-01,2021-04-01,李四,整改中\n"));
    }
    csv.into_bytes()
}

/// A thousand overdue hazards make one circular, issued in one piece; one
/// more is refused with a message that says how to narrow it.
async fn a_thousand_items(db: Db) {
    use bihuan_service::ledger::ImportMode;
    let (svc, _clock) = service_with_clock(db);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let crate::Town { office_unit, firm, .. } = crate::town(&svc).await;
    let office = as_user(&svc, "office", Role::Office, office_unit).await;
    let boss = as_user(&svc, "firm", Role::Enterprise, firm).await;
    let r = svc.import_hazard_ledger(&office, &overdue_ledger(1, 1000), "台账.csv", ImportMode::AllOrNothing).await.unwrap();
    assert_eq!(r.created, 1000, "{}", r.message_zh);
    assert_eq!(svc.overdue_for_circular(&office).await.unwrap(), (1000, false));

    let started = std::time::Instant::now();
    let draft = svc.compose_circular(&office, &ComposeInput { kind: CircularKind::Overdue, warning_ids: vec![] }).await.unwrap();
    let composed = started.elapsed();
    assert_eq!((draft.items, draft.addressee.as_str()), (1000, "上海甲机械有限公司"));
    let report = svc.issue_circular(&office, draft.id, None).await.unwrap();
    eprintln!("a thousand items: composed in {composed:?}, issued in {:?}", started.elapsed() - composed);
    assert_eq!((report.circular.items, report.recipients, report.notified), (1000, 1, 1));
    let (_, bytes) = svc.circular_docx(&boss, draft.id).await.unwrap();
    let text = document_text(&bytes);
    assert!(text.contains("第1号灭火器过期") && text.contains("第1000号灭火器过期"), "every item is in the document");

    svc.import_hazard_ledger(&office, &overdue_ledger(1001, 1), "台账二.csv", ImportMode::AllOrNothing).await.unwrap();
    assert_eq!(svc.overdue_for_circular(&office).await.unwrap(), (1000, true));
    let e = svc.compose_circular(&office, &ComposeInput { kind: CircularKind::Overdue, warning_ids: vec![] }).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
    assert!(e.zh.contains("请缩小范围") && e.en.contains("narrow it"), "{e}");
}
scenario!(a_thousand_items => circulars_a_thousand_items_sqlite, circulars_a_thousand_items_pg);
