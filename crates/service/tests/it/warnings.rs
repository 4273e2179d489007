//! Warnings over simulated weeks, on both engines: reminders and
//! escalations reach the right inboxes on the right days, once; a second
//! run the same day changes nothing; resolving the cause resolves the
//! warning and a relapse reopens it; two nodes never both run a slot.

use crate::{as_user, only_rules, scenario, service_with_clock};
use bihuan_domain::hazard::HazardDraft;
use bihuan_domain::role::Role;
use bihuan_domain::warning::{RuleCode, WarningLevel, WarningState};
use bihuan_service::hazards::{ActionInput, PlanInput};
use bihuan_service::jobs::{JobOutcome, Schedule};
use bihuan_service::warning_views::WarningQuery;
use bihuan_service::warnings::RunOptions;
use bihuan_service::{Ctx, Service};
use bihuan_store::Db;
use std::collections::BTreeMap;
use time::macros::date;
use time::Duration;

fn act(action: &str) -> ActionInput {
    ActionInput { action: action.into(), ..Default::default() }
}

/// Titles of the notifications a user got since the last call.
async fn new_titles(svc: &Service, who: &Ctx, seen: &mut usize) -> Vec<String> {
    let all = svc.inbox(who, false, None, 200).await.unwrap();
    let fresh: Vec<String> = all.iter().rev().skip(*seen).map(|n| n.title.clone()).collect();
    *seen = all.len();
    fresh
}

async fn simulated_weeks(db: Db) {
    let (svc, clock) = service_with_clock(db);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    only_rules(&svc, &[RuleCode::HazardDeadlineNear, RuleCode::HazardOverdue]).await;
    let crate::Town { gov, office_unit, village, firm } = crate::town(&svc).await;
    let office = as_user(&svc, "office", Role::Office, office_unit).await;
    let leader = as_user(&svc, "leader", Role::Leader, gov).await;
    let boss = as_user(&svc, "firm", Role::Enterprise, firm).await;
    let villager = as_user(&svc, "village", Role::Locality, village).await;

    // Saturday 1 May 2021: reported and assigned with 10 working days, due Tuesday 18 May.
    let draft = HazardDraft {
        unit_id: Some(firm.to_string()),
        name: "二号车间消防通道堵塞".into(),
        description: "东侧消防通道堆放成品托盘".into(),
        hazard_type: Some("消防".into()),
        level: Some("一般隐患".into()),
        ..Default::default()
    };
    let h = svc.report_hazard(&boss, &draft, None).await.unwrap();
    let mut a = act("assign");
    a.responsible_person = Some("李四".into());
    a.deadline_days = Some(10);
    let h = svc.act_on_hazard(&office, h.id, &a).await.unwrap();
    assert_eq!(h.deadline, Some(date!(2021 - 05 - 18)));

    let schedule = Schedule::default();
    let people = [("firm", &boss), ("office", &office), ("leader", &leader), ("village", &villager)];
    let mut seen = [0usize; 4];
    let mut log: BTreeMap<time::Date, Vec<(String, String)>> = BTreeMap::new();
    let mut day = date!(2021 - 05 - 02);
    while day <= date!(2021 - 06 - 18) {
        // Every morning at 07:31 two servers tick; one of them runs the daily pass.
        let at = day.with_time(time::macros::time!(07:31)).assume_offset(time::macros::offset!(+8));
        clock.advance(at - svc.now());
        let a = svc.run_due_jobs("node-a", &schedule).await.unwrap();
        let b = svc.run_due_jobs("node-b", &schedule).await.unwrap();
        let ran = |o: &[JobOutcome]| o.iter().filter(|x| matches!(x, JobOutcome::Ran { job, .. } if job == "warnings.daily")).count();
        assert_eq!(ran(&a) + ran(&b), 1, "{day}: the daily slot runs once");
        assert_eq!(ran(&b), 0, "{day}: node b finds the slot done");
        // A second run by hand the same morning changes nothing.
        let again = svc.evaluate_warnings(&Ctx::system("t"), None, &RunOptions { trigger: "cli".into(), ..Default::default() }).await.unwrap();
        assert_eq!(again.changes(), 0, "{day}: {:?}", again.counts);
        assert_eq!(again.notifications + again.summaries, 0);
        for (i, (name, who)) in people.iter().enumerate() {
            for t in new_titles(&svc, who, &mut seen[i]).await {
                log.entry(day).or_default().push((name.to_string(), t));
            }
        }
        day = day.next_day().unwrap();
    }
    let on = |d: time::Date| log.get(&d).cloned().unwrap_or_default();
    let who = |d: time::Date| on(d).iter().map(|(w, _)| w.clone()).collect::<Vec<_>>();
    // Three working days ahead (14, 17, 18 May): the enterprise is reminded on Thursday 13 May, once.
    assert_eq!(who(date!(2021 - 05 - 13)), ["firm"], "{log:#?}");
    assert!(on(date!(2021 - 05 - 13))[0].1.contains("整改期限临近"), "{log:#?}");
    // Day 1 overdue (19 May): yellow to the responsible enterprise.
    assert_eq!(who(date!(2021 - 05 - 19)), ["firm"], "{log:#?}");
    assert!(on(date!(2021 - 05 - 19))[0].1.starts_with("【黄色预警】隐患整改逾期"), "{log:#?}");
    // Day 7 (25 May): orange, and the assigning office hears of it.
    assert_eq!(who(date!(2021 - 05 - 25)), ["firm", "office"], "{log:#?}");
    assert!(on(date!(2021 - 05 - 25)).iter().all(|(_, t)| t.starts_with("【橙色预警】") && t.contains("第 2 级")));
    // Day 30 (17 June): red, the office of the town and its leaders.
    assert_eq!(who(date!(2021 - 06 - 17)), ["firm", "office", "leader"], "{log:#?}");
    // Nothing on any other day; the village never (it is not addressed by this ladder).
    let days: Vec<time::Date> = log.keys().copied().collect();
    assert_eq!(days, [date!(2021 - 05 - 13), date!(2021 - 05 - 19), date!(2021 - 05 - 25), date!(2021 - 06 - 17)], "{log:#?}");

    // The warning as the office sees it: red, step 3, its history.
    let list = svc.list_warnings(&office, &WarningQuery { mine: true, ..Default::default() }, None, 50, false).await.unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let w = &list[0];
    assert_eq!((w.rule, w.level, w.step, w.state), (RuleCode::HazardOverdue, WarningLevel::Red, 3, WarningState::Open));
    assert_eq!(w.description, "整改期限 2021-05-18，已逾期 31 天");
    let d = svc.warning_detail(&office, w.id, false).await.unwrap();
    let kinds: Vec<&str> = d.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["opened", "escalated", "escalated"]);
    // The village sees it (its subtree) but was not addressed, and may not acknowledge it.
    let seen_by_village = svc.warning_detail(&villager, w.id, false).await.unwrap();
    assert!(!seen_by_village.can_acknowledge);
    // The deadline-near warning ended when the overdue one took over.
    let near = svc
        .list_warnings(&office, &WarningQuery { rule: Some(RuleCode::HazardDeadlineNear), state: Some("all".into()), ..Default::default() }, None, 10, false)
        .await
        .unwrap();
    assert_eq!(near.len(), 1);
    assert_eq!((near[0].state, near[0].resolution.as_deref()), (WarningState::Resolved, Some("superseded")));

    // The enterprise acknowledges; acknowledging twice is refused.
    svc.acknowledge_warning(&boss, w.id, Some("已安排整改"), None).await.unwrap();
    assert!(svc.acknowledge_warning(&boss, w.id, None, None).await.is_err());

    // 18 June, 10:00: handed in. The next watch pass resolves the warning, and tells nobody.
    clock.advance(Duration::hours(3));
    let plan = PlanInput {
        measures: Some("清理通道".into()),
        funds: Some("0.2".into()),
        contingency: Some("专人看守".into()),
        ..Default::default()
    };
    svc.plan_hazard(&boss, h.id, &plan).await.unwrap();
    let mut s = act("submit");
    s.rectification = Some("托盘已清理".into());
    svc.act_on_hazard(&boss, h.id, &s).await.unwrap();
    let outcomes = svc.run_due_jobs("node-a", &schedule).await.unwrap();
    assert!(outcomes.iter().any(|o| matches!(o, JobOutcome::Ran { job, .. } if job == "warnings.watch")));
    let after = svc.warning_detail(&office, w.id, false).await.unwrap().warning;
    assert_eq!((after.state, after.resolution.as_deref()), (WarningState::Resolved, Some("cleared")));
    for (i, (_, who)) in people.iter().enumerate() {
        assert!(new_titles(&svc, who, &mut seen[i]).await.is_empty());
    }

    // Sent back the same day: the warning comes back, at red, to everyone it had reached.
    clock.advance(Duration::hours(1));
    let mut r = act("reject");
    r.reason = Some("通道仍有杂物".into());
    svc.act_on_hazard(&office, h.id, &r).await.unwrap();
    clock.advance(Duration::minutes(2));
    svc.run_due_jobs("node-b", &schedule).await.unwrap();
    let back = svc.warning_detail(&office, w.id, false).await.unwrap();
    assert_eq!((back.warning.state, back.warning.level, back.warning.step), (WarningState::Open, WarningLevel::Red, 3));
    assert_eq!(back.events.last().unwrap().kind, "reopened");
    for (i, (name, who)) in people.iter().enumerate() {
        let got = new_titles(&svc, who, &mut seen[i]).await;
        let expected = usize::from(*name != "village");
        assert_eq!(got.len(), expected, "{name}: {got:?}");
    }
    // The inbox counts and marks read.
    assert_eq!(svc.unread_count(&boss).await.unwrap(), 5);
    svc.mark_notifications_read(&boss, None).await.unwrap();
    assert_eq!(svc.unread_count(&boss).await.unwrap(), 0);
}
scenario!(simulated_weeks => simulated_weeks_sqlite, simulated_weeks_pg);

/// A lease held by a node that stopped is taken over once it expires;
/// while it is held, nobody else runs the job, and a run that lost its
/// lease writes nothing.
async fn leases(db: Db) {
    let (svc, clock) = service_with_clock(db);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let schedule = Schedule::default();
    let mut tx = svc.db.begin().await.unwrap();
    bihuan_store::jobs::ensure(&mut tx, "warnings.daily").await.unwrap();
    let now = svc.now();
    let dead = uuid::Uuid::now_v7();
    let claim = bihuan_store::jobs::Claim {
        job: "warnings.daily",
        holder: "node-dead",
        run_id: dead,
        slot: "2021-05-01",
        now,
        until: now + schedule.lease,
        manual: false,
    };
    assert!(bihuan_store::jobs::claim(&mut tx, &claim).await.unwrap());
    tx.commit().await.unwrap();
    // 07:30 has passed on 1 May 10:00: the slot is due, but the lease is held.
    let held = svc.run_job("warnings.daily", "node-a", "2021-05-01", false, &schedule, &RunOptions::default()).await.unwrap();
    assert!(matches!(held, JobOutcome::Held { ref holder, .. } if holder == "node-dead"), "{held:?}");
    // The dead node's fence fails once another node has taken over.
    clock.advance(Duration::seconds(121));
    let ran = svc.run_job("warnings.daily", "node-a", "2021-05-01", false, &schedule, &RunOptions::default()).await.unwrap();
    assert!(matches!(ran, JobOutcome::Ran { .. }), "{ran:?}");
    let fence = bihuan_service::warnings::Fence { job: "warnings.daily".into(), holder: "node-dead".into(), run_id: dead, lease: schedule.lease };
    let lost = svc.evaluate_warnings(&Ctx::system("t"), Some(&fence), &RunOptions::default()).await.unwrap_err();
    assert!(lost.message(true).contains("taken over"), "{lost}");
    // The slot is done: neither node runs it again today.
    let again = svc.run_due_jobs("node-b", &schedule).await.unwrap();
    assert!(again.iter().all(|o| !matches!(o, JobOutcome::Ran { job, .. } if job == "warnings.daily")), "{again:?}");
    let runs = svc.job_runs(10).await.unwrap();
    assert!(runs.iter().any(|r| r.job == "warnings.daily" && r.outcome == "ok" && r.holder == "node-a"));
    // Two nodes ticking at the same moment: exactly one runs the next day's slot.
    clock.advance(Duration::days(1));
    let (a, b) = tokio::join!(svc.run_due_jobs("node-a", &schedule), svc.run_due_jobs("node-b", &schedule));
    let daily = |o: &Vec<JobOutcome>| o.iter().filter(|x| matches!(x, JobOutcome::Ran { job, .. } if job == "warnings.daily")).count();
    assert_eq!(daily(&a.unwrap()) + daily(&b.unwrap()), 1);
}
scenario!(leases => leases_sqlite, leases_pg);

/// Every shipped rule finds what it is for in one town, three months on,
/// and lets go when the cause is dealt with.
async fn every_rule(db: Db) {
    let (svc, clock) = service_with_clock(db);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let sys = Ctx::system("t");
    let crate::Town { office_unit, village, firm, .. } = crate::town(&svc).await;
    let office = as_user(&svc, "office", Role::Office, office_unit).await;
    let boss = as_user(&svc, "firm", Role::Enterprise, firm).await;

    // 1 May 2021: 35 fire hazards at one enterprise, none rectified.
    let fire = |n: usize| HazardDraft {
        unit_id: Some(firm.to_string()),
        name: format!("消防通道堵塞{n}"),
        description: "堆放杂物".into(),
        hazard_type: Some("消防".into()),
        level: Some("一般隐患".into()),
        ..Default::default()
    };
    let mut ids = Vec::new();
    for n in 0..35 {
        ids.push(svc.report_hazard(&boss, &fire(n), None).await.unwrap().id);
    }
    // One assigned, with an extension asked for and never decided.
    let mut a = act("assign");
    a.responsible_person = Some("李四".into());
    a.deadline = Some("2021-09-30".into());
    svc.act_on_hazard(&office, ids[0], &a).await.unwrap();
    let mut ext = act("request_extension");
    ext.requested_deadline = Some("2021-10-31".into());
    ext.reason = Some("设备到货延迟".into());
    svc.act_on_hazard(&boss, ids[0], &ext).await.unwrap();
    // A major hazard, without a plan and not listed.
    let major = HazardDraft {
        unit_id: Some(firm.to_string()),
        name: "液氨储罐区无泄漏报警".into(),
        description: "未设置有毒气体检测报警装置".into(),
        level: Some("major".into()),
        hazard_type: Some("instrument".into()),
        ..Default::default()
    };
    let major = svc.report_hazard(&office, &major, None).await.unwrap();
    // A measure due at the end of June.
    let m = bihuan_domain::measure::MeasureDraft {
        unit_id: Some(firm.to_string()),
        kind: Some("measure".into()),
        title: "制定安全生产责任清单".into(),
        content: "明确各岗位安全生产职责".into(),
        deadline: Some("2021-06-30".into()),
        ..Default::default()
    };
    let measure = svc.create_measure(&sys, &m).await.unwrap();

    // 2 August 2021.
    clock.advance(Duration::days(93));
    let r = svc.evaluate_warnings(&sys, None, &RunOptions::default()).await.unwrap();
    let active = |code: RuleCode| r.counts[code.as_str()].active;
    assert_eq!(active(RuleCode::ExtensionUndecided), 1, "{:#?}", r.counts);
    assert_eq!(active(RuleCode::MajorPlanMissing), 1);
    assert_eq!(active(RuleCode::MajorNotListed), 1);
    assert_eq!(active(RuleCode::MeasureOverdue), 1);
    assert_eq!(active(RuleCode::RepeatedHazardType), 1, "one enterprise, one type");
    // The second quarter's report was due on 15 July; the year 2020 is not asked of a unit registered in 2021.
    assert_eq!(active(RuleCode::StatisticsMissing), 1);
    // The village and the town: 0 of 36 closed in May–June (July is too recent to judge).
    assert_eq!(active(RuleCode::UnitRateLow), 2, "{:#?}", r.counts);
    assert!(active(RuleCode::IndicatorBehind) > 0, "the campaign's indicators have no values reported");
    assert_eq!(active(RuleCode::HazardOverdue), 0, "only one hazard has a deadline, in September");

    let q = |rule: RuleCode| WarningQuery { rule: Some(rule), ..Default::default() };
    let stats = svc.list_warnings(&office, &q(RuleCode::StatisticsMissing), None, 10, false).await.unwrap();
    assert_eq!((stats[0].level, stats[0].description.as_str()), (WarningLevel::Orange, "2021年第2季度隐患排查治理统计分析表应于 2021-07-15 前报送，尚未收到"));
    let rate = svc.list_warnings(&office, &q(RuleCode::UnitRateLow), None, 10, false).await.unwrap();
    assert!(rate.iter().all(|w| w.level == WarningLevel::Orange && w.description.starts_with("整改率 0.0%（0/36）")), "{rate:?}");
    // The office acknowledges the rate warning of the town; the enterprise cannot acknowledge the village's.
    let village_rate = rate.iter().find(|w| w.unit_id == village.0).unwrap();
    assert!(svc.acknowledge_warning(&boss, village_rate.id, None, None).await.is_err());
    // 重大隐患未挂牌督办: acknowledging needs the reason.
    let nl = &svc.list_warnings(&office, &q(RuleCode::MajorNotListed), None, 10, false).await.unwrap()[0];
    let e = svc.acknowledge_warning(&office, nl.id, None, None).await.unwrap_err();
    assert!(e.fields.iter().any(|f| f.field == "comment"), "{e}");
    svc.acknowledge_warning(&office, nl.id, Some("已报区应急局，待区级挂牌"), None).await.unwrap();

    // Causes dealt with: the report comes in, the plan is written, the measure done, the extension decided.
    svc.submit_statistics_report(&boss, firm, "2021Q2", "张三", None).await.unwrap();
    let again = svc.submit_statistics_report(&boss, firm, "2021Q2", "张三", None).await.unwrap_err();
    assert_eq!(again.code, bihuan_domain::ErrorCode::Conflict);
    let plan = PlanInput {
        measures: Some("安装报警装置".into()),
        funds: Some("12".into()),
        contingency: Some("停用储罐，设警戒".into()),
        plan: Some(bihuan_domain::hazard::GovernancePlan {
            goals: "消除泄漏风险".into(),
            methods: "安装报警".into(),
            funds_and_materials: "12万元".into(),
            organisation: "设备科".into(),
            schedule: "9月底前".into(),
            safety_and_contingency: "停用储罐".into(),
        }),
        ..Default::default()
    };
    svc.plan_hazard(&office, major.id, &plan).await.unwrap();
    let mut decide = act("decide_extension");
    decide.approve = Some(true);
    svc.act_on_hazard(&office, ids[0], &decide).await.unwrap();
    let done = bihuan_service::measures::MeasureActionInput { action: "complete".into(), evidence: Some("已印发".into()), ..Default::default() };
    svc.act_on_measure(&sys, measure.id, &done).await.unwrap();
    let r = svc.evaluate_warnings(&sys, None, &RunOptions::default()).await.unwrap();
    for code in [RuleCode::StatisticsMissing, RuleCode::MajorPlanMissing, RuleCode::ExtensionUndecided, RuleCode::MeasureOverdue] {
        assert_eq!((code, r.counts[code.as_str()].active, r.counts[code.as_str()].resolved), (code, 0, 1), "{:#?}", r.counts);
    }
    // A rule switched off resolves its warnings, telling nobody.
    let rule = svc.warning_rules().await.unwrap().into_iter().find(|r| r.code == "repeated_hazard_type").unwrap();
    let params: serde_json::Value = serde_json::from_str(&rule.params_json).unwrap();
    svc.update_warning_rule(&sys, RuleCode::RepeatedHazardType, false, &params, rule.version).await.unwrap();
    let r = svc.evaluate_warnings(&sys, None, &RunOptions::default()).await.unwrap();
    assert_eq!((r.counts["repeated_hazard_type"].resolved, r.notifications), (1, 0));
    let gone = svc
        .list_warnings(&office, &WarningQuery { rule: Some(RuleCode::RepeatedHazardType), state: Some("resolved".into()), ..Default::default() }, None, 10, false)
        .await
        .unwrap();
    assert_eq!(gone[0].resolution.as_deref(), Some("rule_disabled"));
    // Long after the campaign ended, its indicators are left to the final evaluation.
    clock.advance(time::macros::datetime!(2023-06-01 09:00 +08:00) - svc.now());
    let r = svc.evaluate_warnings(&sys, None, &RunOptions::default()).await.unwrap();
    assert_eq!(r.counts["indicator_behind"].active, 0, "{:#?}", r.counts);
    // Bad parameters are refused in both languages, and the rule is unchanged.
    let bad = svc.update_warning_rule(&sys, RuleCode::UnitRateLow, true, &serde_json::json!({"min_rate": "2"}), 1).await.unwrap_err();
    assert_eq!(bad.code, bihuan_domain::ErrorCode::Validation);
}
scenario!(every_rule => every_rule_sqlite, every_rule_pg);
