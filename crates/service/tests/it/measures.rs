//! The measures list through the service, on both engines: the office and
//! the lead department put measures on the list, the responsible unit
//! reports and completes with evidence, the supervisor verifies; one event
//! and one audit entry per change; overdue by the clock; scope; counts; the
//! ledger export read back.

use crate::as_user;
use crate::{scenario, service_with_clock};
use bihuan_domain::ids::{AreaId, MeasureId, UnitId};
use bihuan_domain::measure::{MeasureBreakdown, MeasureDraft, MeasureOp, MeasureState};
use bihuan_domain::role::Role;
use bihuan_domain::ErrorCode;
use bihuan_reports::{read_table, ColumnSpec};
use bihuan_service::ledger::LedgerFormat;
use bihuan_service::measures::MeasureActionInput;
use bihuan_service::{Ctx, Service};
use bihuan_store::audit::AuditFilter;
use bihuan_store::measures::MeasureFilter;
use bihuan_store::Db;
use time::macros::date;

fn act(action: &str) -> MeasureActionInput {
    MeasureActionInput { action: action.into(), ..Default::default() }
}

fn draft(unit: UnitId, area: Option<AreaId>, kind: &str, title: &str, deadline: &str) -> MeasureDraft {
    MeasureDraft {
        unit_id: Some(unit.to_string()),
        area_id: area.map(|a| a.to_string()),
        kind: Some(kind.into()),
        title: title.into(),
        content: format!("{title}，并报镇安委会办公室备案"),
        responsible_person: Some("钱七".into()),
        deadline: Some(deadline.into()),
    }
}

/// (timeline events, audit entries) of a measure.
async fn counts(svc: &Service, id: MeasureId) -> (usize, usize) {
    let d = svc.measure_detail(&Ctx::system("t"), id).await.unwrap();
    let audit = svc
        .audit_log(&Ctx::system("t"), &AuditFilter { entity_id: Some(id.to_string()), limit: 1000, ..Default::default() })
        .await
        .unwrap();
    (d.events.len(), audit.len())
}

async fn measures_loop(db: Db) {
    let (svc, clock) = service_with_clock(db);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let sys = Ctx::system("t");
    let units = svc.list_units(&sys, &Default::default()).await.unwrap();
    let id_of = |name: &str| units.iter().find(|u| u.name == name).unwrap_or_else(|| panic!("{name}")).id;
    let campaign_id = svc.list_campaigns(&sys).await.unwrap()[0].id;
    let campaign = svc.campaign(&sys, campaign_id).await.unwrap();
    let area = |code: &str| campaign.areas.iter().find(|a| a.code == code).unwrap().id;
    // 危险化学品 (a03) is led by the 安监所 and the 环保办; 道路运输 (a05) is not led by the 安监所.
    let (chem, road) = (area("a03"), area("a05"));
    assert!(campaign.areas.iter().find(|a| a.code == "a05").unwrap().lead_units.iter().all(|u| u.name != "镇安监所"));

    let office = as_user(&svc, "office", Role::Office, id_of("镇安全生产专项整治三年行动领导小组办公室")).await;
    let lead = as_user(&svc, "ajs", Role::Department, id_of("镇安监所")).await;
    let econ_unit = id_of("镇经发办");
    let econ = as_user(&svc, "jfb", Role::Department, econ_unit).await;
    let police = as_user(&svc, "pcs", Role::Department, id_of("镇派出所")).await;
    let leader = as_user(&svc, "leader", Role::Leader, id_of("镇安全生产专项整治三年行动领导小组办公室")).await;
    let gov = svc.home_unit().await.unwrap();
    let village = svc
        .create_unit(&sys, Some(gov), &bihuan_domain::unit::UnitDraft { name: "红翔村".into(), kind: Some("locality".into()), locality_kind: Some("village".into()), ..Default::default() })
        .await
        .unwrap()
        .id;
    let villager = as_user(&svc, "village", Role::Locality, village).await;

    // The office puts a rule on the list for the 经发办 in the chemicals area.
    let m1 = svc.create_measure(&office, &draft(econ_unit, Some(chem), "制度", "修订危化品使用单位安全管理制度", "2021-05-31")).await.unwrap();
    assert_eq!((m1.code.as_str(), m1.state), ("ZC2021-000001", MeasureState::Planned));
    assert_eq!((m1.campaign_id, m1.area_id), (Some(campaign_id), Some(chem)));
    assert_eq!(m1.created_by_unit.name, "镇安全生产专项整治三年行动领导小组办公室");
    // The lead department may do so in its own area only, and must say which.
    let m2 = svc.create_measure(&lead, &draft(econ_unit, Some(chem), "mechanism", "建立危化品运输信息共享机制", "2021-05-06")).await.unwrap();
    assert_eq!(m2.code, "ZC2021-000002");
    let e = svc.create_measure(&lead, &draft(econ_unit, Some(road), "措施", "道路措施", "2021-06-30")).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = svc.create_measure(&lead, &draft(econ_unit, None, "措施", "无领域", "2021-06-30")).await.unwrap_err();
    assert_eq!(e.fields[0].field, "area_id");
    // The responsible department itself does not put measures on the list.
    assert_eq!(svc.create_measure(&econ, &draft(econ_unit, Some(chem), "措施", "自列", "2021-06-30")).await.unwrap_err().code, ErrorCode::Forbidden);
    // Bad input names each field.
    let bad = MeasureDraft { unit_id: Some(econ_unit.to_string()), kind: Some("规定".into()), deadline: Some("2021-04-30".into()), ..Default::default() };
    let e = svc.create_measure(&office, &bad).await.unwrap_err();
    assert_eq!(e.fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["title", "content", "kind"]);
    let past = draft(econ_unit, Some(chem), "制度", "过期", "2021-04-30");
    assert_eq!(svc.create_measure(&office, &past).await.unwrap_err().fields[0].field, "deadline");

    // The responsible unit reports progress; completing without evidence is refused.
    let mut p = act("progress");
    p.note = Some("已完成制度初稿，征求意见中".into());
    let m1 = svc.act_on_measure(&econ, m1.id, &p).await.unwrap();
    assert_eq!(m1.state, MeasureState::InProgress);
    let e = svc.act_on_measure(&econ, m1.id, &act("complete")).await.unwrap_err();
    assert_eq!((e.code, e.fields[0].field.as_str()), (ErrorCode::Validation, "evidence"));
    assert!(!e.fields[0].zh.is_empty() && !e.fields[0].en.is_empty());
    let mut c = act("complete");
    c.evidence = Some("《南翔镇危化品使用单位安全管理制度》已印发（南经发〔2021〕5号）".into());
    let m1 = svc.act_on_measure(&econ, m1.id, &c).await.unwrap();
    assert_eq!(m1.state, MeasureState::Completed);
    assert!(m1.completed_at.is_some());
    // Nobody verifies their own measure; the lead department does.
    assert_eq!(svc.act_on_measure(&econ, m1.id, &act("verify")).await.unwrap_err().code, ErrorCode::Forbidden);
    let d = svc.measure_detail(&lead, m1.id).await.unwrap();
    assert_eq!(d.actions, [MeasureOp::Verify, MeasureOp::SendBack]);
    assert_eq!(d.area_name.as_deref(), Some("危险化学品"));
    let m1 = svc.act_on_measure(&lead, m1.id, &act("verify")).await.unwrap();
    assert_eq!((m1.state, m1.verified_by.as_deref()), (MeasureState::Verified, Some("ajs姓名")));
    // create, progress, complete, verify: one event and one audit entry each; refusals write nothing.
    assert_eq!(counts(&svc, m1.id).await, (4, 4));
    let d = svc.measure_detail(&office, m1.id).await.unwrap();
    assert_eq!(d.events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["create", "progress", "complete", "verify"]);
    assert_eq!(d.events[1].comment.as_deref(), Some("已完成制度初稿，征求意见中"));

    // A stale version is refused and nothing is written.
    let mut stale = act("reopen");
    stale.reason = Some("复查".into());
    stale.version = Some(1);
    assert_eq!(svc.act_on_measure(&office, m1.id, &stale).await.unwrap_err().code, ErrorCode::Conflict);
    assert_eq!(counts(&svc, m1.id).await, (4, 4));

    // Units with no part in it see nothing of it, and may do nothing.
    for stranger in [&villager, &police] {
        assert_eq!(svc.measure_detail(stranger, m1.id).await.unwrap_err().code, ErrorCode::NotFound);
        assert!(svc.list_measures(stranger, &MeasureFilter::default()).await.unwrap().0.is_empty());
        assert_eq!(svc.act_on_measure(stranger, m2.id, &p).await.unwrap_err().code, ErrorCode::NotFound);
        assert_eq!(svc.measure_stats(stranger, &MeasureFilter::default(), None).await.unwrap().total.tally.total, 0);
        assert_eq!(svc.measure_id_by_code(stranger, "ZC2021-000001").await.unwrap(), None);
    }
    assert_eq!(svc.measure_id_by_code(&econ, "ZC2021-000001").await.unwrap(), Some(m1.id));
    // Leaders read, and change nothing.
    assert_eq!(svc.list_measures(&leader, &MeasureFilter::default()).await.unwrap().0.len(), 2);
    assert!(svc.measure_detail(&leader, m2.id).await.unwrap().actions.is_empty());
    assert_eq!(svc.act_on_measure(&leader, m2.id, &act("cancel")).await.unwrap_err().code, ErrorCode::Forbidden);

    // Overdue the day after the deadline only (m2 is due Thursday 6 May).
    let overdue = MeasureFilter { overdue: Some(true), ..Default::default() };
    clock.advance(time::Duration::days(5)); // 6 May
    let d = svc.measure_detail(&econ, m2.id).await.unwrap();
    assert!(!d.overdue && d.days_overdue == 0, "not on the deadline day");
    assert!(svc.list_measures(&office, &overdue).await.unwrap().0.is_empty());
    clock.advance(time::Duration::days(1)); // 7 May
    let d = svc.measure_detail(&econ, m2.id).await.unwrap();
    assert!(d.overdue && d.days_overdue == 1);
    let (items, _) = svc.list_measures(&office, &overdue).await.unwrap();
    assert_eq!(items.iter().map(|i| i.measure.id).collect::<Vec<_>>(), [m2.id]);
    assert!(items[0].overdue);

    // Counts and rates, as the office sees them.
    let all = MeasureFilter::default();
    let st = svc.measure_stats(&office, &all, Some(MeasureBreakdown::Kind)).await.unwrap();
    let t = &st.total.tally;
    assert_eq!((t.total, t.open, t.completed, t.verified, t.overdue, t.cancelled), (2, 1, 1, 1, 1, 0));
    assert_eq!(st.total.completion_rate.unwrap().to_string(), "50.0");
    assert_eq!(st.total.on_time_rate.unwrap().to_string(), "100.0");
    assert_eq!(st.groups.iter().map(|g| (g.label.as_str(), g.tally.total)).collect::<Vec<_>>(), [("机制", 1), ("制度", 1)]);
    let by_area = svc.measure_stats(&office, &all, Some(MeasureBreakdown::Area)).await.unwrap();
    assert_eq!(by_area.groups.iter().map(|g| (g.label.as_str(), g.tally.total)).collect::<Vec<_>>(), [("危险化学品", 2)]);
    let by_unit = svc.measure_stats(&office, &all, Some(MeasureBreakdown::Unit)).await.unwrap();
    assert_eq!(by_unit.groups.iter().map(|g| (g.label.as_str(), g.tally.overdue)).collect::<Vec<_>>(), [("镇经发办", 1)]);

    // Only the supervisor moves a deadline; the new one lifts the overdue.
    let mut later = draft(econ_unit, None, "机制", "建立危化品运输信息共享机制", "2021-05-20");
    later.content = m2.content.clone();
    assert_eq!(svc.edit_measure(&econ, m2.id, &later, None).await.unwrap_err().code, ErrorCode::Forbidden);
    let m2e = svc.edit_measure(&lead, m2.id, &later, Some(m2.version)).await.unwrap();
    assert_eq!((m2e.deadline, m2e.area_id), (date!(2021 - 05 - 20), Some(chem)), "an empty area keeps the area");
    let d = svc.measure_detail(&office, m2.id).await.unwrap();
    assert!(!d.overdue);
    assert_eq!(d.events.last().unwrap().data["previous_deadline"], "2021-05-06");
    // The lead department cannot move it into an area it does not lead.
    let mut moved = later.clone();
    moved.area_id = Some(road.to_string());
    assert_eq!(svc.edit_measure(&lead, m2.id, &moved, None).await.unwrap_err().code, ErrorCode::Forbidden);
    // Saving the same values again writes nothing.
    svc.edit_measure(&lead, m2.id, &later, None).await.unwrap();
    assert_eq!(counts(&svc, m2.id).await, (2, 2));

    // The ledger: the list on sheet 1, the timelines on sheet 2, read back.
    let mut xlsx = Vec::new();
    let summary = svc.export_measure_ledger(&office, &all, LedgerFormat::Xlsx, &mut xlsx).await.unwrap();
    assert_eq!((summary.measures, summary.events), (2, 6));
    assert_eq!(summary.file_name, "制度措施清单-2021-05-07.xlsx");
    const LIST: &[ColumnSpec] = &[
        ColumnSpec { key: "code", aliases: &["编号"], required: true },
        ColumnSpec { key: "kind", aliases: &["类别"], required: true },
        ColumnSpec { key: "title", aliases: &["制度措施名称"], required: true },
        ColumnSpec { key: "unit", aliases: &["责任单位"], required: true },
        ColumnSpec { key: "deadline", aliases: &["完成时限"], required: true },
        ColumnSpec { key: "state", aliases: &["状态"], required: true },
        ColumnSpec { key: "evidence", aliases: &["完成情况及佐证材料"], required: false },
        ColumnSpec { key: "verified_by", aliases: &["核验人"], required: false },
    ];
    let t = read_table(&xlsx, "制度措施清单.xlsx", LIST).unwrap();
    assert_eq!(t.sheet, "制度措施清单");
    assert!(t.missing_required.is_empty(), "{:?}", t.missing_required);
    let rows: Vec<Vec<&str>> = t
        .rows
        .iter()
        .map(|r| ["code", "kind", "title", "unit", "deadline", "state", "verified_by"].iter().map(|k| r.get(k).unwrap_or("")).collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["ZC2021-000001", "制度", "修订危化品使用单位安全管理制度", "镇经发办", "2021-05-31", "已核验", "ajs姓名"],
            vec!["ZC2021-000002", "机制", "建立危化品运输信息共享机制", "镇经发办", "2021-05-20", "未开始", ""],
        ]
    );
    assert!(t.rows[0].get("evidence").unwrap().contains("南经发〔2021〕5号"));
    const TIMELINE: &[ColumnSpec] = &[
        ColumnSpec { key: "code", aliases: &["编号"], required: true },
        ColumnSpec { key: "op", aliases: &["操作"], required: true },
        ColumnSpec { key: "who", aliases: &["操作人"], required: true },
        ColumnSpec { key: "note", aliases: &["说明"], required: false },
    ];
    let t = read_table(&xlsx, "制度措施清单.xlsx", TIMELINE).unwrap();
    assert_eq!(t.sheet, "推进记录");
    let ops: Vec<(&str, &str)> = t.rows.iter().map(|r| (r.get("code").unwrap(), r.get("op").unwrap())).collect();
    assert_eq!(
        ops,
        [
            ("ZC2021-000001", "列入清单"),
            ("ZC2021-000001", "报送进展"),
            ("ZC2021-000001", "报告完成"),
            ("ZC2021-000001", "核验"),
            ("ZC2021-000002", "列入清单"),
            ("ZC2021-000002", "修改"),
        ]
    );
    // CSV: the list; and the export keeps to the caller's scope.
    let mut csv = Vec::new();
    let planned = MeasureFilter { states: vec![MeasureState::Planned], ..Default::default() };
    svc.export_measure_ledger(&econ, &planned, LedgerFormat::Csv, &mut csv).await.unwrap();
    let t = read_table(&csv, "制度措施清单.csv", LIST).unwrap();
    assert_eq!(t.rows.iter().map(|r| r.get("code").unwrap()).collect::<Vec<_>>(), ["ZC2021-000002"]);
    let mut none = Vec::new();
    assert_eq!(svc.export_measure_ledger(&villager, &all, LedgerFormat::Csv, &mut none).await.unwrap().measures, 0);
    assert!(read_table(&none, "制度措施清单.csv", LIST).unwrap().rows.is_empty());

    let verified = svc.verify_audit().await.unwrap();
    assert!(verified.result.is_ok(), "{verified:?}");
}

scenario!(measures_loop => sqlite_measures_loop, postgres_measures_loop);
