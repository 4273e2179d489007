//! Ledgers on both engines: export and re-import without duplicates, a
//! messy office spreadsheet checked row by row, the three import modes, a
//! GBK CSV, the scope of an import, and the national interface record.

use crate::as_user;
use crate::{scenario, service_with_clock};
use bihuan_domain::hazard::{HazardDraft, HazardState, check_invariants};
use bihuan_domain::ids::UnitId;
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitDraft;
use bihuan_service::hazards::ActionInput;
use bihuan_service::ledger::{ImportMode, ImportReport, LedgerFormat, RowStatus, national_danger};
use bihuan_service::{Ctx, Service};
use bihuan_store::audit::AuditFilter;
use bihuan_store::hazards::HazardFilter;
use bihuan_store::Db;
use rust_xlsxwriter::{Format, Workbook};

pub(crate) async fn unit(svc: &Service, parent: UnitId, name: &str, kind: &str, credit: Option<&str>) -> UnitId {
    let d = UnitDraft {
        name: name.into(),
        kind: Some(kind.into()),
        locality_kind: (kind == "locality").then(|| "village".into()),
        credit_code: credit.map(str::to_string),
        ..Default::default()
    };
    svc.create_unit(&Ctx::system("t"), Some(parent), &d).await.unwrap().id
}

fn credit(org8: &str) -> String {
    bihuan_domain::credit_code::complete("91310114", org8).unwrap().as_str().to_string()
}

pub(crate) struct Town {
    pub office: Ctx,
    pub inspector: Ctx,
    pub firm: UnitId,
    pub firm_boss: Ctx,
    pub other_boss: Ctx,
    pub firm_code: String,
}

pub(crate) async fn town(svc: &Service) -> Town {
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let gov = svc.home_unit().await.unwrap();
    let units = svc.list_units(&Ctx::system("t"), &Default::default()).await.unwrap();
    let office_unit = units.iter().find(|u| u.name == "镇安全生产专项整治三年行动领导小组办公室").unwrap().id;
    let village = unit(svc, gov, "红翔村", "locality", None).await;
    let grid = unit(svc, village, "红翔村第一网格", "grid", None).await;
    let firm_code = credit("MA1FL0A1");
    let firm = unit(svc, grid, "上海甲机械有限公司", "enterprise", Some(&firm_code)).await;
    let other = unit(svc, grid, "上海乙食品有限公司", "enterprise", Some(&credit("MA1FL0B2"))).await;
    unit(svc, grid, "上海丙化工（集团）有限公司", "enterprise", None).await;
    Town {
        office: as_user(svc, "office", Role::Office, office_unit).await,
        inspector: as_user(svc, "grid", Role::Inspector, grid).await,
        firm,
        firm_boss: as_user(svc, "firm", Role::Enterprise, firm).await,
        other_boss: as_user(svc, "other", Role::Enterprise, other).await,
        firm_code,
    }
}

fn act(action: &str) -> ActionInput {
    ActionInput { action: action.into(), ..Default::default() }
}

fn statuses(r: &ImportReport) -> Vec<(u32, RowStatus)> {
    r.rows.iter().map(|r| (r.line, r.status)).collect()
}

async fn total(svc: &Service) -> usize {
    let f = HazardFilter { limit: 1000, ..Default::default() };
    svc.list_hazards(&Ctx::system("t"), &f).await.unwrap().0.len()
}

async fn export_and_reimport(db: Db) {
    let (svc, _clock) = service_with_clock(db);
    let t = town(&svc).await;
    // Three hazards: one open, one assigned, one fixed on the spot and closed.
    let draft = |name: &str| HazardDraft {
        unit_id: Some(t.firm.to_string()),
        name: name.into(),
        description: format!("{name}，现场检查发现"),
        location: Some("一号车间".into()),
        hazard_type: Some("消防".into()),
        level: Some("一般隐患".into()),
        found_on: Some("2021-04-20".into()),
        ..Default::default()
    };
    svc.report_hazard(&t.inspector, &draft("灭火器压力不足"), None).await.unwrap();
    let b = svc.report_hazard(&t.inspector, &draft("安全出口指示灯损坏"), None).await.unwrap();
    let mut a = act("assign");
    a.responsible_person = Some("李四".into());
    a.deadline = Some("2021-05-10".into());
    svc.act_on_hazard(&t.office, b.id, &a).await.unwrap();
    let mut spot = draft("疏散通道堆物");
    spot.manage_type = Some("即查即改".into());
    let c = svc.report_hazard(&t.inspector, &spot, Some("当场清理")).await.unwrap();
    let mut acc = act("accept");
    acc.comment = Some("复核合格".into());
    svc.act_on_hazard(&t.inspector, c.id, &acc).await.unwrap();

    let mut xlsx = Vec::new();
    let started = std::time::Instant::now();
    let s = svc.export_hazard_ledger(&t.office, &HazardFilter::default(), LedgerFormat::Xlsx, &mut xlsx).await.unwrap();
    eprintln!("xlsx export of {} hazards, {} events: {:?}, {} bytes", s.hazards, s.events, started.elapsed(), xlsx.len());
    assert_eq!((s.hazards, s.events), (3, 6), "create; create, assign; create, fix_on_spot, accept");
    assert!(s.file_name.ends_with(".xlsx"));
    // The list sheet: a title row above the header; dates as dates.
    let specs = bihuan_service::ledger::IMPORT_COLUMNS;
    let table = bihuan_reports::read_table(&xlsx, "x.xlsx", specs).unwrap();
    assert_eq!((table.sheet.as_str(), table.header_row), ("问题隐患清单", 2));
    let row = &table.rows[1];
    assert_eq!(row.get("code"), Some(b.code.as_str()));
    assert_eq!(row.get("credit_code"), Some(t.firm_code.as_str()));
    assert_eq!(row.get("deadline"), Some("2021-05-10"));
    assert!(row.get("found_on").unwrap().starts_with("2021-04-20"), "{row:?}");
    assert_eq!(row.get("state"), Some("已交办"));
    assert_eq!(table.rows[2].get("accepted_by"), Some("grid姓名"));
    // The timeline sheet.
    let spec = |key, alias| bihuan_reports::ColumnSpec { key, aliases: alias, required: true };
    let timeline = [spec("op", &["操作"][..]), spec("who", &["操作人"][..]), spec("change", &["状态变化"][..])];
    let tl = bihuan_reports::read_table(&xlsx, "x.xlsx", &timeline).unwrap();
    assert_eq!(tl.sheet, "整改过程");
    let ops: Vec<&str> = tl.rows.iter().map(|r| r.get("op").unwrap()).collect();
    assert_eq!(ops, ["发现登记", "发现登记", "交办", "发现登记", "当场整改", "验收销号"]);
    assert_eq!(tl.rows[2].get("change"), Some("待交办 → 已交办"));

    // Re-importing the export finds every hazard already here.
    let before = total(&svc).await;
    let r = svc.import_hazard_ledger(&t.office, &xlsx, "问题隐患清单.xlsx", ImportMode::ApplyValid).await.unwrap();
    assert_eq!(statuses(&r), [(3, RowStatus::AlreadyImported), (4, RowStatus::AlreadyImported), (5, RowStatus::AlreadyImported)], "{r:#?}");
    assert_eq!(r.rows[1].code.as_deref(), Some(b.code.as_str()));
    assert_eq!(total(&svc).await, before);

    // CSV: the list only, and it comes back the same way.
    let mut csv = Vec::new();
    let s = svc.export_hazard_ledger(&t.office, &HazardFilter::default(), LedgerFormat::Csv, &mut csv).await.unwrap();
    assert_eq!((s.hazards, s.events), (3, 0));
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(text.starts_with("\u{FEFF}序号,隐患编号,所在单位,统一社会信用代码"), "{text}");
    let r = svc.import_hazard_ledger(&t.office, &csv, "清单.csv", ImportMode::DryRun).await.unwrap();
    assert_eq!(r.already_imported, 3, "{r:#?}");

    // Everyone exports only what they may see.
    let mut other = Vec::new();
    let s = svc.export_hazard_ledger(&t.other_boss, &HazardFilter::default(), LedgerFormat::Csv, &mut other).await.unwrap();
    assert_eq!(s.hazards, 0);
}

scenario!(export_and_reimport => sqlite_ledger_export_and_reimport, postgres_ledger_export_and_reimport);

/// An office's own ledger: two title rows, the unit merged down over its
/// rows, dates written as text three ways and in full-width digits, one
/// row naming an unknown unit, one with an impossible date, a footer.
fn messy_xlsx() -> Vec<u8> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("2021年台账").unwrap();
    let bold = Format::new().set_bold();
    ws.merge_range(0, 0, 0, 9, "红翔村安全隐患排查整改台账", &bold).unwrap();
    ws.write_string(1, 0, "填报单位：红翔村（盖章）").unwrap();
    ws.write_string(1, 6, "填报日期：2021年5月1日").unwrap();
    let header = ["序号", "企业名称", "存在问题", "问题描述", "检查日期", "整改时限", "责任人", "整改情况", "隐患等级", "隐患类别", "整改完成时间"];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    let rows: [[&str; 11]; 6] = [
        ["1", "上海甲机械有限公司", "消防通道堵塞", "东侧通道堆放托盘", "2020年8月6日", "2020.9.6", "李四", "已整改", "一般", "消防安全", "2020年9月1日"],
        ["2", "", "配电箱未上锁", "二号车间配电箱门未上锁", "2020.8.6", "2020/9/30", "王五", "整改中", "一般隐患", "电气", ""],
        ["3", "", "灭火器过期", "仓库灭火器超过检验期", "2020/8/6", "", "", "未整改", "一般", "", ""],
        ["4", "上海丙化工（集团）有限公司", "储罐区防雷检测过期", "储罐区防雷装置检测报告过期", "２０２１年３月５日", "２０２１年６月３０日", "赵六", "整改中", "重大", "设备", ""],
        ["5", "上海不存在有限公司", "楼梯扶手松动", "办公楼楼梯扶手松动", "2021-03-01", "2021-04-01", "钱七", "整改中", "一般", "", ""],
        ["6", "上海乙食品有限公司", "冷库氨管道锈蚀", "冷库氨管道表面锈蚀", "2021-02-30", "2021-06-01", "孙八", "整改中", "一般", "", ""],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(3 + r as u32, c as u16, *v).unwrap();
            }
        }
    }
    // 上海甲机械 covers the first three data rows.
    ws.merge_range(3, 1, 5, 1, "上海甲机械有限公司", &Format::new()).unwrap();
    ws.write_string(10, 0, "填表人：张三").unwrap();
    book.save_to_buffer().unwrap()
}

async fn messy_import(db: Db) {
    let (svc, _clock) = service_with_clock(db);
    let t = town(&svc).await;
    let file = messy_xlsx();

    let dry = svc.import_hazard_ledger(&t.office, &file, "红翔村台账.xlsx", ImportMode::DryRun).await.unwrap();
    assert_eq!(dry.header_row, 3);
    assert_eq!(
        statuses(&dry),
        [
            (4, RowStatus::Valid),
            (5, RowStatus::Valid),
            (6, RowStatus::Valid),
            (7, RowStatus::Valid),
            (8, RowStatus::Invalid),
            (9, RowStatus::Invalid),
            (11, RowStatus::Skipped),
        ],
        "{dry:#?}"
    );
    let states: Vec<Option<HazardState>> = dry.rows.iter().take(4).map(|r| r.state).collect();
    assert_eq!(
        states,
        [Some(HazardState::Closed), Some(HazardState::Rectifying), Some(HazardState::Reported), Some(HazardState::Rectifying)]
    );
    assert_eq!(dry.rows[1].unit.as_deref(), Some("上海甲机械有限公司"), "the merged cell names the unit");
    assert_eq!(dry.rows[3].unit.as_deref(), Some("上海丙化工（集团）有限公司"), "full-width brackets");
    let unknown = &dry.rows[4].errors;
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!((unknown[0].column.as_str(), unknown[0].field.as_str()), ("企业名称", "unit"));
    assert!(unknown[0].zh.contains("上海不存在有限公司") && unknown[0].en.contains("No unit"), "{unknown:?}");
    let bad_date = &dry.rows[5].errors;
    assert_eq!(bad_date.len(), 1, "{bad_date:?}");
    assert_eq!((bad_date[0].column.as_str(), bad_date[0].field.as_str()), ("检查日期", "found_on"));
    assert!(bad_date[0].zh.starts_with("“检查日期”列："), "{}", bad_date[0].zh);
    // The row without a deadline says so.
    assert!(dry.rows[2].warnings.iter().any(|w| w.field == "deadline"), "{:?}", dry.rows[2].warnings);
    assert_eq!((dry.valid, dry.invalid, dry.skipped, dry.created), (4, 2, 1, 0));
    assert!(!dry.applied);
    assert_eq!(total(&svc).await, 0, "a dry run writes nothing");

    let none = svc.import_hazard_ledger(&t.office, &file, "红翔村台账.xlsx", ImportMode::AllOrNothing).await.unwrap();
    assert!(!none.applied && none.created == 0);
    assert!(none.message_zh.contains("未导入任何数据"), "{}", none.message_zh);
    assert_eq!(total(&svc).await, 0);

    let done = svc.import_hazard_ledger(&t.office, &file, "红翔村台账.xlsx", ImportMode::ApplyValid).await.unwrap();
    assert!(done.applied);
    assert_eq!(done.created, 4, "{done:#?}");
    assert_eq!(total(&svc).await, 4);
    for r in done.rows.iter().filter(|r| r.status == RowStatus::Created) {
        let id = svc.hazard_id_by_code(&t.office, r.code.as_deref().unwrap()).await.unwrap().unwrap();
        let d = svc.hazard_detail(&t.office, id).await.unwrap();
        check_invariants(&d.hazard).unwrap();
        assert_eq!(Some(d.hazard.state), r.state);
        assert_eq!(d.events.len(), 1);
        assert_eq!((d.events[0].action.as_str(), d.events[0].from_state, d.events[0].to_state), ("import", None, d.hazard.state));
        let audit = svc
            .audit_log(&Ctx::system("t"), &AuditFilter { entity_id: Some(id.to_string()), limit: 10, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(audit.len(), 1);
    }
    // Last year's closed hazard came in closed, with its dates.
    let closed = svc.hazard_id_by_code(&t.office, done.rows[0].code.as_deref().unwrap()).await.unwrap().unwrap();
    let h = svc.hazard_detail(&t.office, closed).await.unwrap().hazard;
    assert_eq!(bihuan_domain::clock::local_date(h.found_at), time::macros::date!(2020 - 08 - 06));
    assert_eq!(h.deadline, Some(time::macros::date!(2020 - 09 - 06)));
    assert_eq!(h.accepted_by.as_deref(), Some("台账导入"));
    // Closed on the row's own completion date, not on the day of the import;
    // coded in the year it was found.
    assert_eq!(h.closed_at.map(bihuan_domain::clock::local_date), Some(time::macros::date!(2020 - 09 - 01)));
    assert_eq!(h.submitted_at, h.closed_at);
    assert!(h.code.starts_with("YH2020-"), "{}", h.code);
    assert!(done.rows[3].code.as_deref().unwrap().starts_with("YH2021-"), "{:?}", done.rows[3]);
    let open = svc.hazard_id_by_code(&t.office, done.rows[1].code.as_deref().unwrap()).await.unwrap().unwrap();
    let d = svc.hazard_detail(&t.office, open).await.unwrap();
    assert_eq!(d.hazard.responsible_person.as_deref(), Some("王五"));
    assert!(d.overdue && d.days_overdue == 213, "30 Sep 2020 to 1 May 2021: {}", d.days_overdue);
    assert_eq!(d.hazard.hazard_type, bihuan_domain::hazard::HazardType::Electrical);

    // Importing again creates nothing.
    let again = svc.import_hazard_ledger(&t.office, &file, "红翔村台账（修订）.xlsx", ImportMode::ApplyValid).await.unwrap();
    assert_eq!((again.created, again.already_imported, again.invalid), (0, 4, 2), "{again:#?}");
    assert_eq!(again.rows[1].code, done.rows[1].code);
    assert_eq!(total(&svc).await, 4);

    // The same rows in another file, as a GBK CSV, with one new row and one repeated.
    let csv = "单位名称,隐患名称,隐患描述,发现日期,整改期限,整改责任人,状态,统一社会信用代码\r\n\
               上海甲机械有限公司,配电箱未上锁,二号车间配电箱门未上锁,2020-08-06,2020-09-30,王五,整改中,\r\n\
               ,空压机安全阀未校验,空压机安全阀超期未校验,2021-04-28,2021-05-20,李四,整改中,CODE\r\n\
               ,空压机安全阀未校验,空压机安全阀超期未校验,2021-04-28,2021-05-20,李四,整改中,CODE\r\n"
        .replace("CODE", &t.firm_code);
    let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
    let r = svc.import_hazard_ledger(&t.office, &gbk, "台账.csv", ImportMode::ApplyValid).await.unwrap();
    assert_eq!(statuses(&r), [(2, RowStatus::AlreadyImported), (3, RowStatus::Created), (4, RowStatus::AlreadyImported)], "{r:#?}");
    assert_eq!(r.rows[0].code, done.rows[1].code);
    assert_eq!(r.rows[2].code, r.rows[1].code, "the repeated row names the hazard its first row created");
    assert_eq!(r.rows[1].unit.as_deref(), Some("上海甲机械有限公司"), "found by credit code");
    assert_eq!(total(&svc).await, 5);
    let verified = svc.verify_audit().await.unwrap();
    assert!(verified.result.is_ok(), "{verified:?}");
    crate::hazards::assert_counts_agree(&svc, svc.today()).await;
}

scenario!(messy_import => sqlite_ledger_messy_import, postgres_ledger_messy_import);

async fn import_scope(db: Db) {
    let (svc, _clock) = service_with_clock(db);
    let t = town(&svc).await;
    let csv = format!(
        "企业名称,统一社会信用代码,隐患名称,隐患描述,发现日期\n上海甲机械有限公司,,消防通道堵塞,通道堆物,2021-04-01\n,{},消防通道堵塞,通道堆物,2021-04-01\n",
        t.firm_code
    );
    // The other enterprise can neither name 甲 nor reach it by its credit code.
    let r = svc.import_hazard_ledger(&t.other_boss, csv.as_bytes(), "a.csv", ImportMode::ApplyValid).await.unwrap();
    assert_eq!(statuses(&r), [(2, RowStatus::Invalid), (3, RowStatus::Invalid)], "{r:#?}");
    assert!(r.rows.iter().all(|row| row.errors.iter().any(|e| e.zh.contains("无权"))), "{r:#?}");
    assert_eq!(total(&svc).await, 0);
    // 甲 itself may, and its self-found hazard comes in as its own.
    let r = svc.import_hazard_ledger(&t.firm_boss, csv.as_bytes(), "a.csv", ImportMode::ApplyValid).await.unwrap();
    assert_eq!(statuses(&r), [(2, RowStatus::Created), (3, RowStatus::AlreadyImported)], "{r:#?}");
    let id = svc.hazard_id_by_code(&t.firm_boss, r.rows[0].code.as_deref().unwrap()).await.unwrap().unwrap();
    assert!(svc.hazard_detail(&t.firm_boss, id).await.unwrap().hazard.self_found());
    // An enterprise may not import a closed major hazard: acceptance is the government's.
    let major = "企业名称,隐患名称,隐患描述,隐患等级,状态,销号时间\n上海甲机械有限公司,液氨泄漏,液氨储罐泄漏,重大隐患,已销号,2021-04-01\n";
    let r = svc.import_hazard_ledger(&t.firm_boss, major.as_bytes(), "b.csv", ImportMode::DryRun).await.unwrap();
    assert_eq!(statuses(&r), [(2, RowStatus::Invalid)]);
    assert_eq!(r.rows[0].errors[0].field, "state", "{r:#?}");
    let r = svc.import_hazard_ledger(&t.office, major.as_bytes(), "b.csv", ImportMode::DryRun).await.unwrap();
    assert_eq!(statuses(&r), [(2, RowStatus::Valid)], "{r:#?}");
    // A file that is not a ledger is refused as a whole.
    let e = svc.import_hazard_ledger(&t.office, b"%PDF-1.4 ...", "x.xlsx", ImportMode::DryRun).await.unwrap_err();
    assert_eq!(e.code, bihuan_domain::ErrorCode::Validation);
    assert!(e.fields[0].zh.contains("PDF"), "{e}");
    let e = svc.import_hazard_ledger(&t.office, "隐患名称,隐患描述\n甲,乙\n".as_bytes(), "x.csv", ImportMode::DryRun).await.unwrap_err();
    assert!(e.zh.contains("缺少必需的列") && e.zh.contains("所在单位"), "{e}");
}

scenario!(import_scope => sqlite_ledger_import_scope, postgres_ledger_import_scope);

async fn national(db: Db) {
    let (svc, _clock) = service_with_clock(db);
    let t = town(&svc).await;
    let csv = "所在单位,隐患名称,隐患描述,隐患等级,排查类型,发现时间,整改期限,整改责任人,状态,验收人,销号时间,整改资金\n\
               上海甲机械有限公司,甲一,描述一,一般,日常排查,2021-03-05,,,待交办,,,\n\
               上海甲机械有限公司,甲二,描述二,一般,专业性排查,2021-03-05,2021-06-30,李四,已交办,,,\n\
               上海甲机械有限公司,甲三,描述三,重大,季节性排查,2021-03-05,2021-06-30,李四,整改中,,,12.5\n\
               上海甲机械有限公司,甲四,描述四,一般,,2021-03-05,2021-04-30,李四,待验收,,,\n\
               上海甲机械有限公司,甲五,描述五,一般,,2021-03-05,2021-04-30,李四,已销号,周九,2021-04-10,\n\
               上海甲机械有限公司,甲六,描述六,一般,,2021-03-05,,,已撤销,,,\n";
    let r = svc.import_hazard_ledger(&t.office, csv.as_bytes(), "n.csv", ImportMode::AllOrNothing).await.unwrap();
    assert_eq!(r.created, 6, "{r:#?}");
    let list = svc.export_national(&t.office, &HazardFilter::default()).await.unwrap();
    let got: Vec<(&str, u8, u8, u8)> = list.iter().map(|d| (d.danger_name.as_str(), d.danger_state, d.deleted, d.danger_src)).collect();
    assert_eq!(got, [("甲一", 0, 0, 1), ("甲二", 0, 0, 3), ("甲三", 0, 0, 4), ("甲四", 1, 0, 1), ("甲五", 9, 0, 1), ("甲六", 0, 1, 1)]);
    let major = &list[2];
    assert_eq!((major.danger_level, major.danger_manage_type, major.hazard_danger_type), (1, 1, 8));
    assert_eq!(major.cost.map(|c| c.to_string()).as_deref(), Some("12.5"));
    assert_eq!(major.regist_time, "2021-03-05 00:00:00");
    assert_eq!(major.danger_manage_deadline.as_deref(), Some("2021-06-30 23:59:59"));
    assert_eq!(major.credit_code.as_deref(), Some(t.firm_code.as_str()));
    let accepted = &list[4];
    assert_eq!(accepted.check_accept_person.as_deref(), Some("周九"));
    assert_eq!(accepted.check_accept_time.as_deref(), Some("2021-04-10 00:00:00"));
    for d in &list {
        if d.danger_state == 9 {
            assert!(d.check_accept_person.is_some() && d.check_accept_time.is_some());
        }
    }
    let json = serde_json::to_value(accepted).unwrap();
    for key in ["dangerName", "dangerLevel", "registTime", "dangerSrc", "dangerManageType", "hazardDangerType", "checkAcceptPerson", "dangerState", "deleted"] {
        assert!(json.get(key).is_some(), "{key} in {json}");
    }
    // A closed record without its acceptance cannot be reported.
    let id = svc.hazard_id_by_code(&t.office, &accepted.danger_code).await.unwrap().unwrap();
    let mut h = svc.hazard_detail(&t.office, id).await.unwrap().hazard;
    h.accepted_by = None;
    let e = national_danger(&h, None).unwrap_err();
    assert_eq!(e.fields[0].field, "accepted_by");
    // Others see none of it.
    assert!(svc.export_national(&t.other_boss, &HazardFilter::default()).await.unwrap().is_empty());
}

scenario!(national => sqlite_ledger_national, postgres_ledger_national);

/// Size figures, printed: `BIHUAN_LEDGER_ROWS=10000` imports that many
/// generated rows (dry run, then applied) and exports them again.
async fn volume(db: Db) {
    let Some(n) = std::env::var("BIHUAN_LEDGER_ROWS").ok().and_then(|v| v.parse::<usize>().ok()) else {
        eprintln!("note: set BIHUAN_LEDGER_ROWS=10000 to time a large import and export");
        return;
    };
    let (svc, _clock) = service_with_clock(db);
    let t = town(&svc).await;
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in ["企业名称", "隐患名称", "隐患描述", "检查日期", "整改期限", "责任人", "整改情况"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let firms = ["上海甲机械有限公司", "上海乙食品有限公司", "上海丙化工（集团）有限公司"];
    for i in 0..n {
        let r = i as u32 + 1;
        let cells = [
            firms[i % 3].to_string(),
            format!("隐患{i}"),
            format!("第{i}号隐患的具体情况描述"),
            format!("2021年{}月{}日", 1 + i % 4, 1 + i % 28),
            "2021/6/30".to_string(),
            "李四".to_string(),
            if i % 2 == 0 { "已整改" } else { "整改中" }.to_string(),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(r, c as u16, v).unwrap();
        }
    }
    let file = book.save_to_buffer().unwrap();
    let started = std::time::Instant::now();
    let dry = svc.import_hazard_ledger(&t.office, &file, "big.xlsx", ImportMode::DryRun).await.unwrap();
    eprintln!("dry run of {n} rows: {:?} ({} valid)", started.elapsed(), dry.valid);
    let started = std::time::Instant::now();
    let done = svc.import_hazard_ledger(&t.office, &file, "big.xlsx", ImportMode::AllOrNothing).await.unwrap();
    eprintln!("import of {n} rows: {:?} ({} created)", started.elapsed(), done.created);
    assert_eq!(done.created, n);
    let started = std::time::Instant::now();
    let again = svc.import_hazard_ledger(&t.office, &file, "big.xlsx", ImportMode::ApplyValid).await.unwrap();
    eprintln!("re-import of {n} rows: {:?} ({} already imported)", started.elapsed(), again.already_imported);
    assert_eq!(again.already_imported, n);
    // Imported in batches, counted once per batch: the counts still agree.
    crate::hazards::assert_counts_agree(&svc, svc.today()).await;
    let started = std::time::Instant::now();
    let mut out = Vec::new();
    let s = svc.export_hazard_ledger(&t.office, &HazardFilter::default(), LedgerFormat::Xlsx, &mut out).await.unwrap();
    eprintln!("xlsx export of {} hazards and {} events: {:?}, {} bytes", s.hazards, s.events, started.elapsed(), out.len());
}

scenario!(volume => sqlite_ledger_volume, postgres_ledger_volume);

/// Hazards of every kind a ledger row shows: open, assigned with a pending
/// extension request, listed for supervision, fixed on the spot and
/// closed, at units with and without a credit code, in two campaign areas.
async fn varied_hazards(svc: &Service, t: &Town) -> usize {
    let units = svc.list_units(&Ctx::system("t"), &Default::default()).await.unwrap();
    let no_code = units.iter().find(|u| u.name == "上海丙化工（集团）有限公司").unwrap().id;
    let other = units.iter().find(|u| u.name == "上海乙食品有限公司").unwrap().id;
    let firms = [t.firm, other, no_code];
    let mut n = 0;
    for i in 0..11usize {
        let major = i % 5 == 2;
        let on_the_spot = i % 4 == 3 && !major;
        let draft = HazardDraft {
            unit_id: Some(firms[i % 3].to_string()),
            name: format!("隐患{i}：灭火器压力不足"),
            description: format!("第{i}号，现场检查发现"),
            location: (i % 2 == 0).then(|| "一号车间".to_string()),
            hazard_type: Some(if i % 2 == 0 { "消防" } else { "电气" }.into()),
            level: Some(if major { "重大隐患" } else { "一般隐患" }.into()),
            manage_type: on_the_spot.then(|| "即查即改".to_string()),
            found_on: Some(format!("2021-04-{:02}", 10 + i)),
            ..Default::default()
        };
        let spot = on_the_spot.then_some("当场清理");
        let h = svc.report_hazard(&t.inspector, &draft, spot).await.unwrap();
        n += 1;
        if spot.is_some() {
            svc.act_on_hazard(&t.inspector, h.id, &act("accept")).await.unwrap();
            continue;
        }
        if i % 3 == 1 || major {
            let mut a = act("assign");
            a.responsible_person = Some(format!("责任人{i}"));
            a.deadline = Some("2021-05-20".into());
            svc.act_on_hazard(&t.office, h.id, &a).await.unwrap();
        }
        if major {
            let mut l = act("list");
            l.document_number = Some(format!("南安办督〔2021〕{i}号"));
            l.required_by = Some("2021-06-30".into());
            l.signatory = Some("赵六".into());
            svc.act_on_hazard(&t.office, h.id, &l).await.unwrap();
        }
        if i == 4 && firms[i % 3] == other {
            let mut req = act("request_extension");
            req.requested_deadline = Some("2021-06-10".into());
            req.reason = Some("配件到货需两周".into());
            svc.act_on_hazard(&t.other_boss, h.id, &req).await.unwrap();
        }
    }
    n
}

/// Rows of a sheet as (header, text) pairs.
type SheetRows = Vec<Vec<(String, String)>>;

/// Both sheets of an xlsx ledger, as text rows.
fn ledger_rows(xlsx: &[u8]) -> (SheetRows, SheetRows) {
    let specs: Vec<bihuan_reports::ColumnSpec> = bihuan_service::ledger::LEDGER_HEADERS
        .iter()
        .map(|h| bihuan_reports::ColumnSpec { key: Box::leak(h.to_string().into_boxed_str()), aliases: Box::leak(vec![*h].into_boxed_slice()), required: false })
        .collect();
    let list = bihuan_reports::read_table(xlsx, "x.xlsx", &specs).unwrap();
    assert_eq!(list.sheet, "问题隐患清单");
    let tl_specs: Vec<bihuan_reports::ColumnSpec> = ["隐患编号", "序号", "时间", "操作", "操作人", "状态变化", "说明"]
        .into_iter()
        .map(|h| bihuan_reports::ColumnSpec { key: h, aliases: Box::leak(vec![h].into_boxed_slice()), required: false })
        .collect();
    let tl = bihuan_reports::read_table(xlsx, "x.xlsx", &tl_specs).unwrap();
    assert_eq!(tl.sheet, "整改过程");
    let rows = |t: bihuan_reports::ImportTable| t.rows.into_iter().map(|r| r.values.into_iter().map(|(k, v)| (k.to_string(), v)).collect()).collect();
    (rows(list), rows(tl))
}

/// An export read in pages of 2 or 3 hazards is the export read in one
/// page, and each page holds exactly what the general list and the
/// timeline give for its hazards (units, credit codes, listings, pending
/// extension requests, events).
async fn export_across_pages(db: Db) {
    let (svc, clock) = service_with_clock(db.clone());
    let t = town(&svc).await;
    let n = varied_hazards(&svc, &t).await;
    let small = |size: i64| {
        bihuan_service::Service::new(
            db.clone(),
            clock.clone(),
            bihuan_service::Settings { password: bihuan_service::password::Hasher::for_tests(), export_page_size: size, ..Default::default() },
        )
    };
    for ctx in [&Ctx::system("t"), &t.office, &t.other_boss] {
        for filter in [
            HazardFilter::default(),
            HazardFilter { q: Some("灭火器".into()), ..Default::default() },
            HazardFilter { states: vec![HazardState::Assigned], found_from: Some(time::macros::date!(2021 - 04 - 12)), ..Default::default() },
        ] {
            let mut one = Vec::new();
            let s1 = svc.export_hazard_ledger(ctx, &filter, LedgerFormat::Xlsx, &mut one).await.unwrap();
            for size in [1, 2, 3] {
                let mut paged = Vec::new();
                let s = small(size).export_hazard_ledger(ctx, &filter, LedgerFormat::Xlsx, &mut paged).await.unwrap();
                assert_eq!((s.hazards, s.events), (s1.hazards, s1.events), "page size {size}, {filter:?}");
                assert_eq!(ledger_rows(&paged), ledger_rows(&one), "page size {size}, {filter:?}");
                let (mut c1, mut c2) = (Vec::new(), Vec::new());
                svc.export_hazard_ledger(ctx, &filter, LedgerFormat::Csv, &mut c1).await.unwrap();
                small(size).export_hazard_ledger(ctx, &filter, LedgerFormat::Csv, &mut c2).await.unwrap();
                assert_eq!(c1, c2);
                assert_eq!(svc.export_national(ctx, &filter).await.unwrap(), small(size).export_national(ctx, &filter).await.unwrap());
            }
        }
    }
    // Every hazard, in pages of 3, is the general list's hazards with their timelines.
    let scope = bihuan_service::hazards::hazard_scope(&t.office);
    let mut tx = svc.db.read().await.unwrap();
    let f = HazardFilter { limit: 1000, sort: bihuan_domain::hazard::HazardSort::Oldest, ..Default::default() };
    let expected = bihuan_store::hazards::list(&mut tx, &scope, &f, svc.today()).await.unwrap().items;
    assert_eq!(expected.len(), n);
    assert!(expected.iter().any(|h| h.listing.is_some()) && expected.iter().any(|h| h.pending_extension.is_some()));
    let ids: Vec<_> = expected.iter().map(|h| h.id).collect();
    let expected_events = bihuan_store::hazards::events_of(&mut tx, &ids).await.unwrap();
    let (mut got, mut got_events, mut after) = (Vec::new(), Vec::new(), 0);
    let mut units = bihuan_store::hazards::UnitCache::default();
    loop {
        let page = bihuan_store::hazards::ledger_page(&mut tx, &scope, &f, svc.today(), after, 3, true, &mut units).await.unwrap();
        let Some(last) = page.hazards.last() else { break };
        after = last.num;
        assert!(page.hazards.len() <= 3);
        got.extend(page.hazards);
        got_events.extend(page.events);
    }
    tx.commit().await.unwrap();
    assert_eq!(got, expected);
    let key = |e: &bihuan_domain::hazard::HazardEvent| (e.hazard_id, e.seq);
    let mut expected_events = expected_events;
    let order: std::collections::HashMap<_, _> = expected.iter().enumerate().map(|(i, h)| (h.id, i)).collect();
    expected_events.sort_by_key(|e| (order[&e.hazard_id], e.seq));
    assert_eq!(got_events.iter().map(key).collect::<Vec<_>>(), expected_events.iter().map(key).collect::<Vec<_>>());
    assert_eq!(got_events, expected_events);
    assert_eq!(units.credit_code(t.firm).map(String::as_str), Some(t.firm_code.as_str()));
}

scenario!(export_across_pages => sqlite_ledger_export_across_pages, postgres_ledger_export_across_pages);

/// A year-end ledger as offices hand it in: closed rows with a closing
/// date, with only a completion date, and with no date at all; an old open
/// row; then 小计/合计 rows, a row holding nothing but its 序号, and the
/// 制表人/审核人, 填表说明 and 备注 lines under the table.
fn ledger_with_footer() -> Vec<u8> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.merge_range(0, 0, 0, 10, "红翔村2020年度安全隐患整改台账", &Format::new().set_bold()).unwrap();
    let header = ["序号", "单位名称", "隐患名称", "隐患描述", "发现日期", "整改期限", "整改责任人", "状态", "验收人", "销号日期", "实际完成时间"];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    let rows: [[&str; 11]; 8] = [
        ["1", "上海甲机械有限公司", "消防通道堵塞", "东侧通道堆放托盘", "2020-09-10", "2020-09-30", "李四", "已销号", "周九", "2020-10-08", "2020-09-28"],
        ["2", "上海甲机械有限公司", "配电箱未上锁", "二号车间配电箱门未上锁", "2020-10-12", "2020-10-31", "王五", "已整改", "", "", "2020年11月2日"],
        ["3", "上海乙食品有限公司", "冷库氨管道锈蚀", "冷库氨管道表面锈蚀", "2020-11-05", "2020-12-31", "孙八", "已销号", "周九", "", ""],
        ["4", "上海乙食品有限公司", "应急照明损坏", "仓库应急照明灯不亮", "2021-04-01", "2021-04-30", "孙八", "待验收", "", "", "2021-04-20"],
        ["5", "上海丙化工（集团）有限公司", "储罐区防雷检测过期", "储罐区防雷装置检测报告过期", "2019-12-30", "2020-01-30", "赵六", "整改中", "", "", ""],
        ["6", "上海丙化工（集团）有限公司", "备注栏未填写", "动火作业票备注栏未填写", "2021-04-15", "", "", "未整改", "", "", ""],
        ["小计", "", "共6项", "", "", "", "", "", "", "", ""],
        ["7", "", "", "", "", "", "", "", "", "", ""],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(2 + r as u32, c as u16, *v).unwrap();
            }
        }
    }
    // 合 计 merged over the first two columns; the count under 隐患名称.
    ws.merge_range(10, 0, 10, 1, "合 计", &Format::new()).unwrap();
    ws.write_number(10, 2, 6.0).unwrap();
    ws.write_string(11, 1, "制表人：张三　　审核人：李四").unwrap();
    ws.write_string(12, 0, "填表说明：1.状态填写未整改、整改中、已整改或已销号；2.日期写作2021-05-06").unwrap();
    ws.write_string(13, 2, "备注：本表一式两份").unwrap();
    book.save_to_buffer().unwrap()
}

async fn footers_and_closing_dates(db: Db) {
    let (svc, _clock) = service_with_clock(db);
    let t = town(&svc).await;
    let file = ledger_with_footer();
    let dry = svc.import_hazard_ledger(&t.office, &file, "2020年度台账.xlsx", ImportMode::DryRun).await.unwrap();
    assert_eq!(dry.header_row, 2);
    assert_eq!(
        statuses(&dry),
        [
            (3, RowStatus::Valid),
            (4, RowStatus::Valid),
            (5, RowStatus::Invalid),
            (6, RowStatus::Valid),
            (7, RowStatus::Valid),
            (8, RowStatus::Valid),
            (9, RowStatus::Skipped),
            (10, RowStatus::Skipped),
            (11, RowStatus::Skipped),
            (12, RowStatus::Skipped),
            (13, RowStatus::Skipped),
            (14, RowStatus::Skipped),
        ],
        "{dry:#?}"
    );
    assert_eq!((dry.valid, dry.invalid, dry.skipped), (5, 1, 6));
    for r in dry.rows.iter().filter(|r| r.status == RowStatus::Skipped) {
        assert!(r.errors.is_empty(), "{r:?}");
        assert!(r.warnings.len() == 1 && r.warnings[0].en.starts_with("Skipped: footer/summary row"), "{r:?}");
        assert!(r.warnings[0].zh.contains("已跳过"), "{r:?}");
    }
    assert!(dry.rows[6].warnings[0].zh.contains("小计"), "{:?}", dry.rows[6]);
    // Closed without any date: said in both languages, never dated "now".
    let no_date = &dry.rows[2];
    assert_eq!(no_date.errors.len(), 1, "{no_date:?}");
    assert_eq!((no_date.errors[0].field.as_str(), no_date.errors[0].column.as_str()), ("closed_on", "销号日期"));
    assert!(no_date.errors[0].zh.contains("没有销号时间") && no_date.errors[0].zh.contains("待验收"), "{no_date:?}");
    assert!(no_date.errors[0].en.contains("gives no date"), "{no_date:?}");
    // Only a completion date: it stands for the closing date too, and says so.
    assert!(dry.rows[1].warnings.iter().any(|w| w.field == "closed_on" && w.zh.contains("整改完成时间")), "{:?}", dry.rows[1]);
    assert!(dry.message_en.contains("1 with errors, 6 skipped"), "{}", dry.message_en);

    let done = svc.import_hazard_ledger(&t.office, &file, "2020年度台账.xlsx", ImportMode::ApplyValid).await.unwrap();
    assert_eq!((done.created, done.invalid, done.skipped), (5, 1, 6), "{done:#?}");
    let local = |t: Option<time::OffsetDateTime>| t.map(bihuan_domain::clock::local_date);
    let hazard = |line: u32| {
        let code = done.rows.iter().find(|r| r.line == line).and_then(|r| r.code.clone()).unwrap();
        let svc = &svc;
        let office = &t.office;
        async move {
            let id = svc.hazard_id_by_code(office, &code).await.unwrap().unwrap();
            svc.hazard_detail(office, id).await.unwrap().hazard
        }
    };
    // Closed on its closing date, handed in on its completion date: on time.
    let h = hazard(3).await;
    assert_eq!((h.state, h.accepted_by.as_deref()), (HazardState::Closed, Some("周九")));
    assert_eq!(local(h.closed_at), Some(time::macros::date!(2020 - 10 - 08)));
    assert_eq!(local(h.submitted_at), Some(time::macros::date!(2020 - 09 - 28)));
    assert!(h.code.starts_with("YH2020-"), "{}", h.code);
    check_invariants(&h).unwrap();
    let h = hazard(4).await;
    assert_eq!(h.state, HazardState::Closed);
    assert_eq!((local(h.closed_at), local(h.submitted_at)), (Some(time::macros::date!(2020 - 11 - 02)), Some(time::macros::date!(2020 - 11 - 02))));
    let h = hazard(6).await;
    assert_eq!((h.state, local(h.submitted_at)), (HazardState::Submitted, Some(time::macros::date!(2021 - 04 - 20))));
    assert!(h.code.starts_with("YH2021-"), "{}", h.code);
    let h = hazard(7).await;
    assert!(h.code.starts_with("YH2019-"), "found in 2019: {}", h.code);
    assert_eq!(hazard(8).await.name, "备注栏未填写", "a hazard that merely starts with 备注 is not a footer");
    // Codes stay unique across years: the number is the counter's.
    let codes: std::collections::HashSet<_> = done.rows.iter().filter_map(|r| r.code.clone()).collect();
    assert_eq!(codes.len(), 5);
    let verified = svc.verify_audit().await.unwrap();
    assert!(verified.result.is_ok(), "{verified:?}");
}

scenario!(footers_and_closing_dates => sqlite_ledger_footers_and_closing_dates, postgres_ledger_footers_and_closing_dates);
