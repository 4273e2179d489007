//! The closed loop through the service, on both engines: who does what,
//! one event and one audit entry per change, overdue by the clock,
//! extensions, listing, search and counts.

use crate::{as_user, unit};
use crate::{scenario, service_with_clock};
use bihuan_domain::hazard::{Breakdown, HazardDraft, HazardOp, HazardState, MajorReport, GovernancePlan};
use bihuan_domain::role::Role;
use bihuan_domain::ErrorCode;
use bihuan_service::hazards::{ActionInput, PlanInput};
use bihuan_service::{Ctx, Service};
use bihuan_store::audit::AuditFilter;
use bihuan_store::hazards::HazardFilter;
use bihuan_store::Db;

fn act(action: &str) -> ActionInput {
    ActionInput { action: action.into(), ..Default::default() }
}

async fn counts(svc: &Service, id: bihuan_domain::ids::HazardId) -> (usize, usize) {
    let d = svc.hazard_detail(&Ctx::system("t"), id).await.unwrap();
    let audit = svc
        .audit_log(&Ctx::system("t"), &AuditFilter { entity_id: Some(id.to_string()), limit: 1000, ..Default::default() })
        .await
        .unwrap();
    (d.events.len(), audit.len())
}

async fn closed_loop(db: Db) {
    let (svc, clock) = service_with_clock(db);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let gov = svc.home_unit().await.unwrap();
    let units = svc.list_units(&Ctx::system("t"), &Default::default()).await.unwrap();
    let office_unit = units.iter().find(|u| u.name == "镇安全生产专项整治三年行动领导小组办公室").unwrap().id;
    let village = unit(&svc, gov, "红翔村", "locality").await;
    let grid = unit(&svc, village, "红翔村第一网格", "grid").await;
    let firm = unit(&svc, grid, "上海甲机械有限公司", "enterprise").await;
    let other_firm = unit(&svc, grid, "上海乙食品有限公司", "enterprise").await;
    let office = as_user(&svc, "office", Role::Office, office_unit).await;
    let inspector = as_user(&svc, "grid", Role::Inspector, grid).await;
    let boss = as_user(&svc, "firm", Role::Enterprise, firm).await;
    let stranger = as_user(&svc, "other", Role::Enterprise, other_firm).await;

    // The enterprise reports what it found; the grid inspector found another.
    let draft = HazardDraft {
        unit_id: Some(firm.to_string()),
        name: "二号车间消防通道堵塞".into(),
        description: "东侧消防通道堆放成品托盘约20平方米".into(),
        location: Some("二号车间东侧".into()),
        hazard_type: Some("消防".into()),
        level: Some("一般隐患".into()),
        ..Default::default()
    };
    let h = svc.report_hazard(&boss, &draft, None).await.unwrap();
    assert_eq!(h.state, HazardState::Reported);
    assert!(h.code.starts_with("YH2021-"), "{}", h.code);
    assert!(h.self_found());
    assert_eq!(counts(&svc, h.id).await, (1, 1));

    // The stranger sees nothing of it.
    let e = svc.hazard_detail(&stranger, h.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let (items, _) = svc.list_hazards(&stranger, &HazardFilter::default()).await.unwrap();
    assert!(items.is_empty());
    // Nor may it act on it.
    assert_eq!(svc.act_on_hazard(&stranger, h.id, &act("start")).await.unwrap_err().code, ErrorCode::NotFound);

    // The office assigns it: 10 working days from Saturday 1 May 2021 runs past the May Day holiday.
    let mut a = act("assign");
    a.responsible_person = Some("李四".into());
    a.deadline_days = Some(10);
    let h = svc.act_on_hazard(&office, h.id, &a).await.unwrap();
    assert_eq!(h.state, HazardState::Assigned);
    assert_eq!(h.deadline, Some(time::macros::date!(2021 - 05 - 18)), "6,7,8(Sat, worked),10..14,17,18");
    let detail = svc.hazard_detail(&boss, h.id).await.unwrap();
    assert!(detail.actions.contains(&HazardOp::Submit) && !detail.actions.contains(&HazardOp::Assign));

    // Submitting without the 五到位 names what is missing.
    let mut s = act("submit");
    s.rectification = Some("托盘已清理".into());
    let e = svc.act_on_hazard(&boss, h.id, &s).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
    assert!(e.fields.iter().any(|f| f.field == "contingency"), "{e}");
    let plan = PlanInput {
        measures: Some("清理通道，划线，设禁止堆放标识".into()),
        funds: Some("0.2".into()),
        contingency: Some("清理前设专人看守通道".into()),
        ..Default::default()
    };
    svc.plan_hazard(&boss, h.id, &plan).await.unwrap();
    let h = svc.act_on_hazard(&boss, h.id, &s).await.unwrap();
    assert_eq!(h.state, HazardState::Submitted);

    // The inspector sends it back once, then accepts.
    let mut r = act("reject");
    r.reason = Some("通道仍有杂物".into());
    let h = svc.act_on_hazard(&inspector, h.id, &r).await.unwrap();
    assert_eq!(h.state, HazardState::Rectifying);
    let h = svc.act_on_hazard(&boss, h.id, &s).await.unwrap();
    let mut acc = act("accept");
    acc.comment = Some("现场复核合格".into());
    let h = svc.act_on_hazard(&inspector, h.id, &acc).await.unwrap();
    assert_eq!(h.state, HazardState::Closed);
    assert_eq!(h.accepted_by.as_deref(), Some("grid姓名"));
    // create, assign, plan, submit, reject, submit, accept: one event and one audit entry each.
    assert_eq!(counts(&svc, h.id).await, (7, 7));
    let d = svc.hazard_detail(&office, h.id).await.unwrap();
    let actions: Vec<&str> = d.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["create", "assign", "plan", "submit", "reject", "submit", "accept"]);
    assert_eq!(d.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7]);

    // A stale version is refused; the record is untouched.
    let mut stale = act("reopen");
    stale.reason = Some("复查".into());
    stale.version = Some(1);
    assert_eq!(svc.act_on_hazard(&office, h.id, &stale).await.unwrap_err().code, ErrorCode::Conflict);

    // A major hazard found by the inspector: no submission without its report and plan.
    let major = HazardDraft {
        unit_id: Some(firm.to_string()),
        name: "液氨储罐区无泄漏报警".into(),
        description: "储罐区未设置有毒气体泄漏检测报警装置".into(),
        level: Some("major".into()),
        hazard_type: Some("instrument".into()),
        ..Default::default()
    };
    let m = svc.report_hazard(&inspector, &major, None).await.unwrap();
    let mut a = act("assign");
    a.responsible_person = Some("王五".into());
    a.deadline = Some("2021-06-30".into());
    svc.act_on_hazard(&office, m.id, &a).await.unwrap();
    let full = PlanInput {
        measures: Some("安装报警装置".into()),
        funds: Some("12".into()),
        contingency: Some("停用储罐，设警戒".into()),
        ..Default::default()
    };
    svc.plan_hazard(&boss, m.id, &full).await.unwrap();
    let mut s = act("submit");
    s.rectification = Some("已安装".into());
    let e = svc.act_on_hazard(&boss, m.id, &s).await.unwrap_err();
    assert_eq!(e.fields.len(), 9, "{e}");
    let plan = PlanInput {
        major_report: Some(MajorReport { status_and_cause: "现状".into(), harm_and_difficulty: "分析".into(), plan_summary: "方案".into() }),
        plan: Some(GovernancePlan {
            goals: "目标".into(),
            methods: "方法".into(),
            funds_and_materials: "经费".into(),
            organisation: "机构".into(),
            schedule: "时限".into(),
            safety_and_contingency: "预案".into(),
        }),
        ..Default::default()
    };
    svc.plan_hazard(&boss, m.id, &plan).await.unwrap();
    // The enterprise may not accept a major hazard.
    let m2 = svc.act_on_hazard(&boss, m.id, &s).await.unwrap();
    assert_eq!(svc.act_on_hazard(&boss, m2.id, &act("accept")).await.unwrap_err().code, ErrorCode::Forbidden);

    // Overdue the day after the deadline, not before.
    let ledger = HazardDraft {
        unit_id: Some(firm.to_string()),
        name: "配电箱门缺失".into(),
        description: "仓库配电箱门缺失，带电部位外露".into(),
        level: Some("general".into()),
        hazard_type: Some("electrical".into()),
        ..Default::default()
    };
    let o = svc.report_hazard(&inspector, &ledger, None).await.unwrap();
    let mut a = act("assign");
    a.responsible_person = Some("李四".into());
    a.deadline = Some("2021-05-06".into());
    svc.act_on_hazard(&inspector, o.id, &a).await.unwrap();
    clock.advance(time::Duration::days(5)); // 6 May
    assert!(!svc.hazard_detail(&office, o.id).await.unwrap().overdue);
    let f = HazardFilter { overdue: Some(true), ..Default::default() };
    assert!(svc.list_hazards(&office, &f).await.unwrap().0.is_empty());
    // On the deadline day the enterprise asks for more time; a request
    // after the deadline would come too late.
    let mut req = act("request_extension");
    req.requested_deadline = Some("2021-05-20".into());
    req.reason = Some("配件到货需两周".into());
    svc.act_on_hazard(&boss, o.id, &req).await.unwrap();
    clock.advance(time::Duration::days(1)); // 7 May
    let d = svc.hazard_detail(&office, o.id).await.unwrap();
    assert!(d.overdue && d.days_overdue == 1, "overdue until the request is approved");
    assert_eq!(svc.list_hazards(&office, &f).await.unwrap().0.len(), 1);

    // An extension moves the deadline only when approved, by the unit that assigned it.
    assert_eq!(svc.hazard_detail(&office, o.id).await.unwrap().hazard.deadline, Some(time::macros::date!(2021 - 05 - 06)));
    let mut yes = act("decide_extension");
    yes.approve = Some(true);
    assert_eq!(svc.act_on_hazard(&boss, o.id, &yes).await.unwrap_err().code, ErrorCode::Forbidden);
    let o2 = svc.act_on_hazard(&inspector, o.id, &yes).await.unwrap();
    assert_eq!(o2.deadline, Some(time::macros::date!(2021 - 05 - 20)));
    assert!(!svc.hazard_detail(&office, o.id).await.unwrap().overdue);
    let exts = svc.hazard_detail(&office, o.id).await.unwrap().extensions;
    assert_eq!(exts.len(), 1);
    assert_eq!(exts[0].approved, Some(true));

    // Listing: only the office lists; the listing is lifted by acceptance alone.
    let mut l = act("list");
    l.document_number = Some("南安办督〔2021〕1号".into());
    l.required_by = Some("2021-06-30".into());
    l.signatory = Some("赵六".into());
    assert_eq!(svc.act_on_hazard(&inspector, m.id, &l).await.unwrap_err().code, ErrorCode::Forbidden);
    let listed = svc.act_on_hazard(&office, m.id, &l).await.unwrap();
    assert!(listed.is_listed());
    let f = HazardFilter { listed: Some(true), ..Default::default() };
    assert_eq!(svc.list_hazards(&office, &f).await.unwrap().0.len(), 1);
    // The inspector found it but the office supervises it now.
    assert_eq!(svc.act_on_hazard(&inspector, m.id, &act("accept")).await.unwrap_err().code, ErrorCode::Forbidden);
    let closed = svc.act_on_hazard(&office, m.id, &act("accept")).await.unwrap();
    assert!(!closed.is_listed());
    assert_eq!(svc.list_hazards(&office, &f).await.unwrap().0.len(), 0);

    // Search finds Chinese substrings, and nothing else.
    let q = |s: &str| HazardFilter { q: Some(s.into()), ..Default::default() };
    let names = |v: Vec<bihuan_service::hazards::HazardItem>| v.into_iter().map(|i| i.hazard.name).collect::<Vec<_>>();
    assert_eq!(names(svc.list_hazards(&office, &q("消防通道")).await.unwrap().0), ["二号车间消防通道堵塞"]);
    assert_eq!(names(svc.list_hazards(&office, &q("通道")).await.unwrap().0), ["二号车间消防通道堵塞"]);
    assert_eq!(names(svc.list_hazards(&office, &q("报警")).await.unwrap().0), ["液氨储罐区无泄漏报警"]);
    assert_eq!(names(svc.list_hazards(&office, &q("氨")).await.unwrap().0), ["液氨储罐区无泄漏报警"]);
    assert_eq!(svc.list_hazards(&office, &q("甲机械")).await.unwrap().0.len(), 3, "the unit's name is searched too");
    assert!(svc.list_hazards(&office, &q("锅炉")).await.unwrap().0.is_empty());
    assert!(svc.list_hazards(&stranger, &q("通道")).await.unwrap().0.is_empty());

    // Fixed on the spot: a general hazard goes straight to acceptance, as 即查即改.
    let spot = HazardDraft {
        unit_id: Some(firm.to_string()),
        name: "灭火器过期".into(),
        description: "车间灭火器超过检验期".into(),
        level: Some("general".into()),
        ..Default::default()
    };
    let f = svc.report_hazard(&boss, &spot, Some("已更换")).await.unwrap();
    assert_eq!((f.state, f.manage_type), (HazardState::Submitted, bihuan_domain::hazard::ManageType::Immediate));
    assert_eq!(counts(&svc, f.id).await, (2, 2));
    let major_spot = HazardDraft { level: Some("major".into()), name: "重大隐患当场整改".into(), ..spot.clone() };
    assert_eq!(svc.report_hazard(&boss, &major_spot, Some("已整改")).await.unwrap_err().code, ErrorCode::Conflict);
    assert!(svc.list_hazards(&office, &q("重大隐患当场整改")).await.unwrap().0.is_empty(), "nothing of the refused hazard is left");
    let f = svc.act_on_hazard(&boss, f.id, &act("accept")).await.unwrap();
    assert_eq!(f.state, HazardState::Closed, "the enterprise accepts what it found and fixed itself");

    // Counts and rates.
    let st = svc.hazard_stats(&office, &HazardFilter::default(), Some(Breakdown::Level)).await.unwrap();
    assert_eq!((st.total.tally.total, st.total.tally.closed, st.total.tally.major), (4, 3, 1));
    assert_eq!(st.total.rectification_rate.unwrap().to_string(), "75.0");
    assert_eq!(st.total.on_time_rate.unwrap().to_string(), "100.0");
    let labels: Vec<&str> = st.groups.iter().map(|g| g.label.as_str()).collect();
    assert_eq!(labels, ["一般隐患", "重大隐患"]);
    let by_unit = svc.hazard_stats(&office, &HazardFilter::default(), Some(Breakdown::Unit)).await.unwrap();
    assert_eq!(by_unit.groups.len(), 1);
    assert_eq!(by_unit.groups[0].label, "红翔村", "one level below the town");
    assert_eq!(svc.hazard_stats(&stranger, &HazardFilter::default(), None).await.unwrap().total.tally.total, 0);

    // Pages of two, newest first, cover everything once.
    let mut seen = Vec::new();
    let mut f = HazardFilter { limit: 2, ..Default::default() };
    loop {
        let (items, next) = svc.list_hazards(&office, &f).await.unwrap();
        seen.extend(items.into_iter().map(|i| i.hazard.num));
        match next {
            Some(n) => f.after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, [4, 3, 2, 1]);
    let verified = svc.verify_audit().await.unwrap();
    assert!(verified.result.is_ok(), "{verified:?}");
    assert_counts_agree(&svc, svc.today()).await;
}

scenario!(closed_loop => sqlite_closed_loop, postgres_closed_loop);

/// The demo town loads (on both engines) with hazards in every state, an
/// overdue one and a listed major one, and loading twice adds nothing.
async fn demo_town(db: Db) {
    let (svc, _clock) = service_with_clock(db);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let accounts = svc.load_demo().await.unwrap();
    assert_eq!(accounts.len(), 7);
    let st = svc.hazard_stats(&Ctx::system("t"), &HazardFilter::default(), Some(Breakdown::State)).await.unwrap();
    let states: Vec<&str> = st.groups.iter().map(|g| g.tally.key.as_str()).collect();
    for s in ["reported", "assigned", "rectifying", "submitted", "closed", "dismissed"] {
        assert!(states.contains(&s), "{s} in {states:?}");
    }
    assert!(st.total.tally.overdue >= 1 && st.total.tally.listed == 1 && st.total.tally.major == 1, "{:?}", st.total.tally);
    assert!(svc.load_demo().await.unwrap().is_empty());
    assert_eq!(svc.hazard_stats(&Ctx::system("t"), &HazardFilter::default(), None).await.unwrap().total.tally.total, st.total.tally.total);
    assert_counts_agree(&svc, svc.today()).await;
}

scenario!(demo_town => sqlite_demo_town, postgres_demo_town);

/// The maintained counts (`hazard_tally`) give what a scan of the hazards
/// gives, for every scope, unit subtree, breakdown and the filters they
/// keep; and a rebuild from the hazards gives the same rows as the
/// transactions wrote one by one.
pub async fn assert_counts_agree(svc: &Service, today: time::Date) {
    use bihuan_domain::hazard::{HazardLevel, HazardSource, HazardState};
    use bihuan_domain::unit::UnitPath;
    use bihuan_store::hazard_tally;
    use bihuan_store::hazards::{tally, tally_scanned, HazardScope};
    let mut tx = svc.db.begin().await.unwrap();
    let before = hazard_tally::rows(&mut tx).await.unwrap();
    assert!(!before.is_empty());
    let paths: std::collections::BTreeSet<String> = before.iter().map(|r| r.0.clone()).collect();
    let mut scopes = vec![(HazardScope::All, None)];
    for p in &paths {
        let p = UnitPath::from_stored(p.clone());
        scopes.push((HazardScope::Visible { subtree: p.clone(), led_areas: vec![], named_under: None }, Some(p.clone())));
        scopes.push((HazardScope::All, Some(p)));
    }
    let areas: std::collections::BTreeSet<String> = before.iter().map(|r| r.2.clone()).filter(|a| !a.is_empty()).collect();
    let months: Vec<&String> = before.iter().map(|r| &r.3).collect();
    let first_month = months.iter().min().map(|m| time::Date::parse(&format!("{m}-01"), &time::format_description::well_known::Iso8601::DATE).unwrap());
    let mut filters = vec![
        HazardFilter::default(),
        HazardFilter { levels: vec![HazardLevel::Major], ..Default::default() },
        HazardFilter { states: HazardState::ALL.iter().copied().filter(|s| s.is_open()).collect(), ..Default::default() },
        HazardFilter { sources: vec![HazardSource::SelfInspection], listed: Some(false), ..Default::default() },
        HazardFilter { listed: Some(true), ..Default::default() },
        HazardFilter { found_from: first_month, found_to: Some(today), ..Default::default() },
    ];
    for a in &areas {
        filters.push(HazardFilter { area_id: bihuan_domain::ids::AreaId::parse(a), ..Default::default() });
    }
    let mut checked = 0;
    for (scope, within) in &scopes {
        for f in &filters {
            for by in [None, Some(Breakdown::Area), Some(Breakdown::Unit), Some(Breakdown::Level), Some(Breakdown::Source), Some(Breakdown::State), Some(Breakdown::Month)] {
                let f = HazardFilter { within: within.clone(), ..f.clone() };
                let root = within.as_ref();
                let fast = tally(&mut tx, scope, &f, today, by, root).await.unwrap();
                let scan = tally_scanned(&mut tx, scope, &f, today, by, root).await.unwrap();
                assert_eq!(fast.total, scan.total, "{scope:?} {f:?} {by:?}");
                assert_eq!(fast.groups, scan.groups, "{scope:?} {f:?} {by:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 100);
    hazard_tally::rebuild(&mut tx).await.unwrap();
    assert_eq!(hazard_tally::rows(&mut tx).await.unwrap(), before, "a rebuild gives the rows written one change at a time");
    tx.rollback().await.unwrap();
}
