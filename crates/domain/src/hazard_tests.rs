use super::*;
use crate::permission::Actor;
use proptest::prelude::*;
use time::macros::{date, datetime};

struct Tree {
    town: UnitPath,
    office: UnitPath,
    dept: UnitPath,
    other_dept: UnitPath,
    village: UnitPath,
    grid: UnitPath,
    firm: UnitPath,
    other_firm: UnitPath,
    experts: UnitPath,
    leaders: UnitPath,
    other_town: UnitPath,
    area: AreaId,
}

fn tree() -> Tree {
    let town = UnitPath::root(UnitId::new());
    let village = town.child(UnitId::new());
    let grid = village.child(UnitId::new());
    Tree {
        office: town.child(UnitId::new()),
        dept: town.child(UnitId::new()),
        other_dept: town.child(UnitId::new()),
        firm: grid.child(UnitId::new()),
        other_firm: grid.child(UnitId::new()),
        experts: town.child(UnitId::new()),
        leaders: town.child(UnitId::new()),
        other_town: UnitPath::root(UnitId::new()),
        area: AreaId::new(),
        town,
        village,
        grid,
    }
}

fn actor(role: Role, unit: &UnitPath, t: &Tree) -> Actor {
    Actor {
        user_id: UserId::new(),
        username: format!("{role:?}"),
        role,
        unit_id: unit.ids().last().copied().unwrap_or_default(),
        unit_path: unit.clone(),
        jurisdiction: if unit.is_within(&t.other_town) { t.other_town.clone() } else { t.town.clone() },
        led_areas: if unit == &t.dept { vec![t.area] } else { vec![] },
    }
}

fn uref(p: &UnitPath, name: &str) -> UnitRef {
    UnitRef { id: p.ids().last().copied().unwrap_or_default(), name: name.into(), short_name: None, path: p.clone() }
}

fn hazard(t: &Tree, found_by: &UnitPath, source: HazardSource, level: HazardLevel, manage: ManageType) -> Hazard {
    let at = datetime!(2021-05-06 02:00 UTC);
    Hazard {
        id: HazardId::new(),
        num: 1,
        code: "YH2021-000001".into(),
        campaign_id: None,
        area_id: Some(t.area),
        unit: uref(&t.firm, "甲厂"),
        name: "消防通道堵塞".into(),
        description: "二号车间东侧消防通道堆放货物".into(),
        location: Some("二号车间东侧".into()),
        position: None,
        hazard_type: HazardType::Fire,
        source,
        check_kind: CheckKind::Routine,
        level,
        sub_grade: None,
        manage_type: manage,
        cause: None,
        cause_class: None,
        measures: None,
        funds: None,
        contingency: None,
        responsible_unit: None,
        responsible_person: None,
        responsible_phone: None,
        deadline: None,
        deadline_rule: None,
        found_at: at,
        found_by: "张三".into(),
        found_by_user: None,
        found_by_unit: uref(found_by, "发现单位"),
        assigned_by_unit: None,
        accepting_unit: None,
        state: HazardState::Reported,
        major_report: None,
        plan: None,
        rectification: None,
        submitted_at: None,
        accepted_by: None,
        closed_at: None,
        acceptance_comment: None,
        dismiss_reason: None,
        duplicate_of: None,
        listing: None,
        pending_extension: None,
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

fn now(cal: &WorkCalendar) -> Now<'_> {
    Now { at: datetime!(2021-05-06 03:00 UTC), today: date!(2021 - 05 - 06), calendar: cal }
}

fn assign(t: &Tree, by: &UnitPath, rule: DeadlineRule, deadline: Option<Date>) -> Action {
    Action::Assign {
        responsible_unit: uref(&t.firm, "甲厂"),
        responsible_person: "李四".into(),
        responsible_phone: None,
        rule,
        deadline,
        accepting_unit: None,
        by_unit: uref(by, "交办单位"),
        comment: None,
    }
}

fn complete_five(h: &mut Hazard) {
    h.measures = Some("清理通道，设置禁止堆放标识".into());
    h.funds = Some(Decimal::new(5, 1));
    h.contingency = Some("整改期间安排专人值守".into());
}

fn complete_major(h: &mut Hazard) {
    h.major_report = Some(MajorReport { status_and_cause: "a".into(), harm_and_difficulty: "b".into(), plan_summary: "c".into() });
    h.plan = Some(GovernancePlan {
        goals: "1".into(),
        methods: "2".into(),
        funds_and_materials: "3".into(),
        organisation: "4".into(),
        schedule: "5".into(),
        safety_and_contingency: "6".into(),
    });
}

#[test]
fn the_whole_loop_with_one_rejection() {
    let t = tree();
    let cal = WorkCalendar::bundled();
    let n = now(&cal);
    let mut h = hazard(&t, &t.grid, HazardSource::Inspection, HazardLevel::General, ManageType::Deadline);
    let (h2, e) = apply(&h, &assign(&t, &t.office, DeadlineRule::WorkingDays(10), None), &n).unwrap();
    assert_eq!(h2.state, HazardState::Assigned);
    // 6 May 2021 (Thu) + 10 working days: 7, 8 (Sat, worked), 10–14, 17, 18, 19.
    assert_eq!(h2.deadline, Some(date!(2021 - 05 - 19)));
    assert_eq!(e.from_state, Some(HazardState::Reported));
    assert_eq!(e.data["deadline"], "2021-05-19");
    h = h2;
    let (h2, _) = apply(&h, &Action::Start { comment: None }, &n).unwrap();
    h = h2;
    // 限期整改 needs the 五到位 before submission.
    let err = apply(&h, &Action::Submit { rectification: "已清理".into(), comment: None }, &n).unwrap_err();
    let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["measures", "funds", "contingency"], "{err}");
    complete_five(&mut h);
    let (h2, _) = apply(&h, &Action::Submit { rectification: "已清理".into(), comment: None }, &n).unwrap();
    assert_eq!(h2.state, HazardState::Submitted);
    let (h3, e) = apply(&h2, &Action::Reject { reason: "仍有杂物".into() }, &n).unwrap();
    assert_eq!((h3.state, e.comment.as_deref()), (HazardState::Rectifying, Some("仍有杂物")));
    assert_eq!(h3.submitted_at, None);
    let (h4, _) = apply(&h3, &Action::Submit { rectification: "全部清理".into(), comment: None }, &n).unwrap();
    let (h5, e) = apply(&h4, &Action::Accept { accepted_by: "王五".into(), comment: Some("合格".into()) }, &n).unwrap();
    assert_eq!(h5.state, HazardState::Closed);
    assert_eq!(e.to_state, HazardState::Closed);
    assert_eq!(h5.closed_on_time(), Some(true));
    // Nothing more but reopening.
    let err = apply(&h5, &Action::Start { comment: None }, &n).unwrap_err();
    assert_eq!(err.code, crate::ErrorCode::Conflict);
}

#[test]
fn a_major_hazard_cannot_be_submitted_without_its_report_and_six_part_plan() {
    let t = tree();
    let cal = WorkCalendar::bundled();
    let n = now(&cal);
    let h = hazard(&t, &t.dept, HazardSource::Inspection, HazardLevel::Major, ManageType::Deadline);
    let (mut h, _) = apply(&h, &assign(&t, &t.dept, DeadlineRule::Date, Some(date!(2021 - 08 - 31))), &n).unwrap();
    complete_five(&mut h);
    let err = apply(&h, &Action::Submit { rectification: "完成".into(), comment: None }, &n).unwrap_err();
    assert_eq!(err.fields.len(), 9, "3 report parts and 6 plan parts: {err}");
    assert!(err.fields.iter().any(|f| f.field == "plan.safety_and_contingency" && f.zh.contains("安全措施和应急预案")));
    complete_major(&mut h);
    h.plan.as_mut().unwrap().schedule = "  ".into();
    let err = apply(&h, &Action::Submit { rectification: "完成".into(), comment: None }, &n).unwrap_err();
    assert_eq!(err.fields.len(), 1);
    assert_eq!(err.fields[0].field, "plan.schedule");
    h.plan.as_mut().unwrap().schedule = "8月底前".into();
    assert!(apply(&h, &Action::Submit { rectification: "完成".into(), comment: None }, &n).is_ok());
}

#[test]
fn fixing_on_the_spot_is_only_for_general_immediate_hazards() {
    let t = tree();
    let cal = WorkCalendar::bundled();
    let n = now(&cal);
    let h = hazard(&t, &t.firm, HazardSource::SelfInspection, HazardLevel::General, ManageType::Immediate);
    let (h2, _) = apply(&h, &Action::FixOnSpot { rectification: "当场移除".into() }, &n).unwrap();
    assert_eq!(h2.state, HazardState::Submitted);
    // Sent back, it waits for an assignment: it never had a deadline.
    let (h3, _) = apply(&h2, &Action::Reject { reason: "未整改到位".into() }, &n).unwrap();
    assert_eq!(h3.state, HazardState::Reported);
    for (level, manage) in [(HazardLevel::Major, ManageType::Immediate), (HazardLevel::General, ManageType::Deadline)] {
        let h = hazard(&t, &t.firm, HazardSource::SelfInspection, level, manage);
        assert!(!HazardOp::FixOnSpot.possible(&h));
        assert_eq!(apply(&h, &Action::FixOnSpot { rectification: "x".into() }, &n).unwrap_err().code, crate::ErrorCode::Conflict);
    }
}

#[test]
fn overdue_the_day_after_the_deadline_and_not_before() {
    let t = tree();
    let cal = WorkCalendar::bundled();
    let n = now(&cal);
    let h = hazard(&t, &t.grid, HazardSource::Inspection, HazardLevel::General, ManageType::Deadline);
    let (h, _) = apply(&h, &assign(&t, &t.office, DeadlineRule::Date, Some(date!(2021 - 05 - 31))), &n).unwrap();
    assert!(!h.is_overdue(date!(2021 - 05 - 30)));
    assert!(!h.is_overdue(date!(2021 - 05 - 31)));
    assert!(h.is_overdue(date!(2021 - 06 - 01)));
    assert_eq!(h.days_overdue(date!(2021 - 06 - 10)), 10);
    // A dismissed hazard is never overdue.
    let (d, _) = apply(&h, &Action::Dismiss { reason: DismissReason::NotAHazard, duplicate_of: None, comment: "核实后不构成隐患".into() }, &n).unwrap();
    assert!(!d.is_overdue(date!(2021 - 07 - 01)));
}

#[test]
fn an_extension_moves_the_deadline_only_when_approved() {
    let t = tree();
    let cal = WorkCalendar::bundled();
    let n = now(&cal);
    let h = hazard(&t, &t.grid, HazardSource::Inspection, HazardLevel::General, ManageType::Deadline);
    let (h, _) = apply(&h, &assign(&t, &t.office, DeadlineRule::Date, Some(date!(2021 - 05 - 31))), &n).unwrap();
    let req = |d| Action::RequestExtension { id: ExtensionId::new(), requested_deadline: d, reason: "设备到货延迟".into(), requested_by: "李四".into() };
    let err = apply(&h, &req(date!(2021 - 05 - 20)), &n).unwrap_err();
    assert_eq!(err.fields[0].field, "requested_deadline");
    let (h1, _) = apply(&h, &req(date!(2021 - 06 - 30)), &n).unwrap();
    assert_eq!(h1.deadline, Some(date!(2021 - 05 - 31)));
    assert!(!HazardOp::RequestExtension.possible(&h1), "one request at a time");
    let refuse = Action::DecideExtension { approve: false, comment: None, decided_by: "办公室".into() };
    assert_eq!(apply(&h1, &refuse, &n).unwrap_err().fields[0].field, "comment");
    let refuse = Action::DecideExtension { approve: false, comment: Some("理由不充分".into()), decided_by: "办公室".into() };
    let (h2, e) = apply(&h1, &refuse, &n).unwrap();
    assert_eq!(h2.deadline, Some(date!(2021 - 05 - 31)));
    assert_eq!(e.data["approved"], false);
    let (h3, _) = apply(&h2, &req(date!(2021 - 06 - 30)), &n).unwrap();
    let (h4, e) = apply(&h3, &Action::DecideExtension { approve: true, comment: None, decided_by: "办公室".into() }, &n).unwrap();
    assert_eq!(h4.deadline, Some(date!(2021 - 06 - 30)));
    assert_eq!(e.data["previous_deadline"], "2021-05-31");
    assert!(h4.pending_extension.is_none());
    // Asked for after the deadline: too late, the delay stays on record. On
    // the deadline day itself it is still in time.
    let on_the_day = Now { today: date!(2021 - 05 - 31), ..now(&cal) };
    assert!(apply(&h, &req(date!(2021 - 06 - 30)), &on_the_day).is_ok());
    let late = Now { today: date!(2021 - 06 - 01), ..now(&cal) };
    let err = apply(&h, &req(date!(2021 - 06 - 30)), &late).unwrap_err();
    assert_eq!(err.code, crate::ErrorCode::Conflict, "{err:?}");
}

#[test]
fn a_listed_hazard_is_lifted_only_by_acceptance() {
    let t = tree();
    let cal = WorkCalendar::bundled();
    let n = now(&cal);
    let mut h = hazard(&t, &t.dept, HazardSource::Inspection, HazardLevel::Major, ManageType::Deadline);
    complete_five(&mut h);
    complete_major(&mut h);
    let listing = Listing {
        level: ListingLevel::Town,
        supervising_unit_id: UnitId::new(),
        supervising_unit_name: "镇安委办".into(),
        supervising_unit_path: t.office.clone(),
        document_number: "南安办督〔2021〕1号".into(),
        listed_on: date!(2021 - 05 - 06),
        required_by: date!(2021 - 08 - 31),
        signatory: "赵六".into(),
        requirements: None,
        lifted_on: None,
    };
    let (h, _) = apply(&h, &Action::List(listing.clone()), &n).unwrap();
    assert!(h.is_listed());
    // Once listed, no deadline (nor extension) beyond the supervising unit's date.
    let late = apply(&h, &assign(&t, &t.office, DeadlineRule::Date, Some(date!(2021 - 09 - 01))), &n).unwrap_err();
    assert_eq!(late.fields[0].field, "deadline", "{late:?}");
    // Listing a hazard whose deadline is later brings the deadline forward.
    let mut later = hazard(&t, &t.dept, HazardSource::Inspection, HazardLevel::Major, ManageType::Deadline);
    let (l2, _) = apply(&later, &assign(&t, &t.office, DeadlineRule::Date, Some(date!(2021 - 10 - 31))), &n).unwrap();
    later = l2;
    let (listed, e) = apply(&later, &Action::List(listing), &n).unwrap();
    assert_eq!(listed.deadline, Some(date!(2021 - 08 - 31)));
    assert_eq!((e.data["deadline"].as_str(), e.data["previous_deadline"].as_str()), (Some("2021-08-31"), Some("2021-10-31")));
    assert!(!HazardOp::Dismiss.possible(&h), "a listed hazard is not dismissed");
    assert!(!HazardOp::List.possible(&h), "listed once");
    let (h, _) = apply(&h, &assign(&t, &t.office, DeadlineRule::Date, Some(date!(2021 - 08 - 31))), &n).unwrap();
    let (h, _) = apply(&h, &Action::Submit { rectification: "完成".into(), comment: None }, &n).unwrap();
    // Only the supervising office (or admin) accepts: not the department that found it.
    let f = h.facts();
    assert_eq!(authorize(&actor(Role::Department, &t.dept, &t), &f, HazardOp::Accept), Decision::Forbidden);
    assert_eq!(authorize(&actor(Role::Office, &t.office, &t), &f, HazardOp::Accept), Decision::Allow);
    let (h, e) = apply(&h, &Action::Accept { accepted_by: "镇安委办".into(), comment: None }, &n).unwrap();
    assert!(!h.is_listed());
    assert_eq!(h.listing.as_ref().unwrap().lifted_on, Some(date!(2021 - 05 - 06)));
    assert_eq!(e.data["listing_lifted"], "南安办督〔2021〕1号");
}

/// Who may do what, as a table: rows are ops, letters per actor in the
/// order of `actors()`: Y allow, F forbidden, N not found.
#[test]
fn permissions_by_role_and_relation() {
    let t = tree();
    let actors = [
        actor(Role::Admin, &t.town, &t),
        actor(Role::Office, &t.office, &t),
        actor(Role::Department, &t.dept, &t),
        actor(Role::Department, &t.other_dept, &t),
        actor(Role::Locality, &t.village, &t),
        actor(Role::Inspector, &t.grid, &t),
        actor(Role::Enterprise, &t.firm, &t),
        actor(Role::Enterprise, &t.other_firm, &t),
        actor(Role::Expert, &t.experts, &t),
        actor(Role::Leader, &t.leaders, &t),
        actor(Role::Office, &t.other_town, &t),
    ];
    let check = |h: &Hazard, table: &[(HazardOp, &str)], what: &str| {
        let f = h.facts();
        for (op, want) in table {
            let got: String = actors
                .iter()
                .map(|a| match authorize(a, &f, *op) {
                    Decision::Allow => 'Y',
                    Decision::Forbidden => 'F',
                    Decision::NotFound => 'N',
                })
                .collect();
            assert_eq!(&got, want, "{what}: {op:?}\n   order: admin office dept other-dept village grid firm other-firm expert leader other-town");
        }
    };
    // Self-found general hazard: the enterprise runs the whole loop itself.
    let mut h = hazard(&t, &t.firm, HazardSource::SelfInspection, HazardLevel::General, ManageType::Deadline);
    h.area_id = None;
    check(
        &h,
        &[
            (HazardOp::Read, "YYNNYYYNNYN"),
            (HazardOp::Edit, "YYNNYYYNNFN"),
            (HazardOp::Assign, "YYNNYYYNNFN"),
            (HazardOp::Submit, "YYNNFFYNNFN"),
            (HazardOp::Accept, "YYNNYYYNNFN"),
            (HazardOp::Dismiss, "YYNNYYYNNFN"),
            (HazardOp::DecideExtension, "YYNNFFFNNFN"),
            (HazardOp::List, "YYNNFFFNNFN"),
        ],
        "self-found general",
    );
    // Found by the grid inspector, in an area the department leads: the
    // enterprise rectifies but does not accept; the department sees it.
    let mut h = hazard(&t, &t.grid, HazardSource::Inspection, HazardLevel::General, ManageType::Deadline);
    h.responsible_unit = Some(uref(&t.firm, "甲厂"));
    h.assigned_by_unit = Some(uref(&t.grid, "网格"));
    check(
        &h,
        &[
            (HazardOp::Read, "YYYNYYYNNYN"),
            (HazardOp::Assign, "YYFNYYFNNFN"),
            (HazardOp::Submit, "YYFNFFYNNFN"),
            (HazardOp::RequestExtension, "YYFNFFYNNFN"),
            (HazardOp::DecideExtension, "YYFNYYFNNFN"),
            (HazardOp::Accept, "YYYNYYFNNFN"),
            (HazardOp::Reopen, "YYYNYYFNNFN"),
        ],
        "inspection general",
    );
    // Found by an expert, major: the expert sees it (named on it) but the
    // government accepts it.
    let mut h = hazard(&t, &t.experts, HazardSource::Inspection, HazardLevel::Major, ManageType::Deadline);
    h.area_id = None;
    check(
        &h,
        &[
            (HazardOp::Read, "YYNNYYYNYYN"),
            (HazardOp::Edit, "YYNNYYFNYFN"),
            (HazardOp::Accept, "YYNNYYFNFFN"),
            (HazardOp::Assign, "YYNNYYFNFFN"),
        ],
        "expert major",
    );
}

#[test]
fn who_may_report_a_hazard_where() {
    let t = tree();
    let d = |role, unit: &UnitPath, target: &UnitPath| may_report(&actor(role, unit, &t), target);
    assert_eq!(d(Role::Enterprise, &t.firm, &t.firm), Decision::Allow);
    assert_eq!(d(Role::Enterprise, &t.firm, &t.other_firm), Decision::NotFound);
    assert_eq!(d(Role::Department, &t.dept, &t.other_firm), Decision::Allow);
    assert_eq!(d(Role::Expert, &t.experts, &t.firm), Decision::Allow);
    assert_eq!(d(Role::Inspector, &t.grid, &t.firm), Decision::Allow);
    assert_eq!(d(Role::Leader, &t.leaders, &t.firm), Decision::Forbidden);
    assert_eq!(d(Role::Office, &t.office, &t.other_town), Decision::NotFound);
}

// ---- the property: no sequence of actions reaches an illegal state ----

#[derive(Clone, Debug)]
enum Step {
    Assign { days: u32, working: bool, past: bool },
    Start,
    Submit { blank: bool },
    Fix,
    Accept,
    Reject,
    Dismiss { duplicate: bool },
    Reopen { new_deadline: bool },
    Request { days: i64 },
    Decide { approve: bool },
    List,
    FillPlan,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u32..30, any::<bool>(), prop::bool::weighted(0.1)).prop_map(|(days, working, past)| Step::Assign { days, working, past }),
        Just(Step::Start),
        prop::bool::weighted(0.2).prop_map(|blank| Step::Submit { blank }),
        Just(Step::Fix),
        Just(Step::Accept),
        Just(Step::Reject),
        any::<bool>().prop_map(|duplicate| Step::Dismiss { duplicate }),
        any::<bool>().prop_map(|new_deadline| Step::Reopen { new_deadline }),
        (-5i64..40).prop_map(|days| Step::Request { days }),
        any::<bool>().prop_map(|approve| Step::Decide { approve }),
        Just(Step::List),
        Just(Step::FillPlan),
    ]
}

fn to_action(s: &Step, t: &Tree, h: &Hazard, today: Date) -> Option<Action> {
    Some(match s {
        Step::Assign { days, working, past } => {
            if *past {
                assign(t, &t.office, DeadlineRule::Date, today.previous_day())
            } else if *working {
                assign(t, &t.office, DeadlineRule::WorkingDays(*days), None)
            } else {
                assign(t, &t.office, DeadlineRule::CalendarDays(*days), None)
            }
        }
        Step::Start => Action::Start { comment: None },
        Step::Submit { blank } => Action::Submit { rectification: if *blank { " ".into() } else { "完成".into() }, comment: None },
        Step::Fix => Action::FixOnSpot { rectification: "当场整改".into() },
        Step::Accept => Action::Accept { accepted_by: "验收人".into(), comment: None },
        Step::Reject => Action::Reject { reason: "不合格".into() },
        Step::Dismiss { duplicate } => Action::Dismiss {
            reason: if *duplicate { DismissReason::Duplicate } else { DismissReason::NotAHazard },
            duplicate_of: duplicate.then(HazardId::new),
            comment: "核实".into(),
        },
        Step::Reopen { new_deadline } => {
            Action::Reopen { reason: "复查发现反弹".into(), deadline: new_deadline.then(|| today + time::Duration::days(30)) }
        }
        Step::Request { days } => Action::RequestExtension {
            id: ExtensionId::new(),
            requested_deadline: h.deadline.unwrap_or(today) + time::Duration::days(*days),
            reason: "原因".into(),
            requested_by: "李四".into(),
        },
        Step::Decide { approve } => Action::DecideExtension { approve: *approve, comment: Some("意见".into()), decided_by: "办公室".into() },
        Step::List => Action::List(Listing {
            level: ListingLevel::Town,
            supervising_unit_id: UnitId::new(),
            supervising_unit_name: "镇安委办".into(),
            supervising_unit_path: t.office.clone(),
            document_number: "督〔2021〕1号".into(),
            listed_on: today,
            required_by: today + time::Duration::days(60),
            signatory: "赵六".into(),
            requirements: None,
            lifted_on: None,
        }),
        Step::FillPlan => return None,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn no_sequence_of_actions_reaches_an_illegal_state(
        major in any::<bool>(),
        immediate in any::<bool>(),
        steps in prop::collection::vec(step(), 0..40),
    ) {
        let t = tree();
        let cal = WorkCalendar::bundled();
        let level = if major { HazardLevel::Major } else { HazardLevel::General };
        let manage = if immediate { ManageType::Immediate } else { ManageType::Deadline };
        let mut h = hazard(&t, &t.grid, HazardSource::Inspection, level, manage);
        let mut at = datetime!(2021-05-06 03:00 UTC);
        for s in &steps {
            at += time::Duration::hours(20);
            let today = crate::clock::local_date(at);
            let n = Now { at, today, calendar: &cal };
            let Some(action) = to_action(s, &t, &h, today) else {
                complete_five(&mut h);
                complete_major(&mut h);
                continue;
            };
            let possible = action.op().possible(&h);
            match apply(&h, &action, &n) {
                Ok((next, event)) => {
                    prop_assert!(possible, "{:?} applied in state {:?}", action.op(), h.state);
                    prop_assert_eq!(event.from_state, Some(h.state));
                    prop_assert_eq!(event.to_state, next.state);
                    prop_assert_eq!(event.action.as_str(), action.op().as_str());
                    prop_assert!(check_invariants(&next).is_ok(), "{:?}", check_invariants(&next));
                    if next.state == HazardState::Submitted && h.state != HazardState::Submitted && action.op() == HazardOp::Submit {
                        prop_assert!(next.submission_gaps().is_empty(), "submitted with gaps");
                    }
                    if let Action::Accept { .. } = action {
                        prop_assert!(!next.is_listed());
                    }
                    h = next;
                }
                Err(e) => {
                    // Refused: either impossible in this state (conflict) or bad input (validation); never internal.
                    prop_assert!(e.code != crate::ErrorCode::Internal, "{}", e);
                    if !possible {
                        prop_assert_eq!(e.code, crate::ErrorCode::Conflict);
                    }
                }
            }
        }
    }
}
