#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use super::*;
use time::macros::date;

fn cal() -> WorkCalendar {
    WorkCalendar::bundled()
}

fn pending(deadline: Date) -> HazardSubject {
    HazardSubject { major: false, listed: false, pending: true, deadline: Some(deadline), found_on: date!(2021 - 04 - 20), plan_missing: 6 }
}

#[test]
fn shipped_rules_parse_and_cover_every_code() {
    let rules = default_rules().unwrap();
    for code in RuleCode::ALL {
        assert!(rules.iter().any(|r| r.code == *code), "{code:?} has no shipped rule");
    }
    // The shipped parameters are the documented defaults.
    let overdue = rules.iter().find(|r| r.code == RuleCode::HazardOverdue).unwrap();
    assert_eq!(Params::parse(overdue.code, &overdue.params).unwrap(), Params::Overdue(Overdue::default()));
    let rate = rules.iter().find(|r| r.code == RuleCode::UnitRateLow).unwrap();
    assert_eq!(Params::parse(rate.code, &rate.params).unwrap(), Params::UnitRateLow(UnitRateLow::default()));
}

#[test]
fn bad_parameters_are_refused_with_both_languages() {
    let e = Params::parse(RuleCode::HazardDeadlineNear, &json!({ "working_dayz": 3 })).unwrap_err();
    assert!(e.message(false).contains("整改期限临近"), "{e}");
    assert!(e.message(true).contains("working_dayz"), "{e}");
    assert!(Params::parse(RuleCode::HazardDeadlineNear, &json!({ "working_days": 0 })).is_err());
    let e = Params::parse(RuleCode::HazardOverdue, &json!({ "steps": [
        { "day": 7, "level": "orange", "adds": [] }, { "day": 3, "level": "red", "adds": [] }
    ] }))
    .unwrap_err();
    assert!(e.message(true).contains("increase"));
    assert!(Params::parse(RuleCode::StatisticsMissing, &json!({ "annual_due": "13-01" })).is_err());
    assert!(Params::parse(RuleCode::UnitRateLow, &json!({ "min_rate": "1.5" })).is_err());
    // Values that would overflow the arithmetic are refused before they reach the scheduler.
    assert!(Params::parse(RuleCode::UnitRateLow, &json!({ "hysteresis": "79228162514264337593543950335" })).is_err());
    assert!(Params::parse(RuleCode::UnitRateLow, &json!({ "exclude_recent_months": 100000 })).is_err());
    assert!(Params::parse(RuleCode::IndicatorBehind, &json!({ "tolerance_points": "1000" })).is_err());
    // Missing keys take defaults.
    assert_eq!(Params::parse(RuleCode::MajorNotListed, &json!({})).unwrap(), Params::NotListed(NotListed::default()));
}

#[test]
fn deadline_near_counts_working_days_over_the_may_day_holiday() {
    // Monday 2021-05-10: 05-07 (Fri) and 05-08 (Sat, a 调休 working day) and 05-10 are the three working days after 05-06.
    let h = pending(date!(2021 - 05 - 10));
    let p = DeadlineNear::default();
    assert!(deadline_near(&p, &h, date!(2021 - 05 - 06), &cal()).is_some());
    // On 05-05 (劳动节) the three working days end on 05-08.
    assert!(deadline_near(&p, &h, date!(2021 - 05 - 05), &cal()).is_none());
    // The deadline day itself still warns; the day after it is the overdue rule's.
    assert!(deadline_near(&p, &h, date!(2021 - 05 - 10), &cal()).is_some());
    assert!(deadline_near(&p, &h, date!(2021 - 05 - 11), &cal()).is_none());
    assert_eq!(deadline_near(&p, &h, date!(2021 - 05 - 07), &cal()).unwrap().level, WarningLevel::Blue);
    let major = HazardSubject { major: true, ..h.clone() };
    assert_eq!(deadline_near(&p, &major, date!(2021 - 05 - 07), &cal()).unwrap().level, WarningLevel::Yellow);
    let handed_in = HazardSubject { pending: false, ..h };
    assert!(deadline_near(&p, &handed_in, date!(2021 - 05 - 07), &cal()).is_none());
}

#[test]
fn overdue_ladder_steps_on_day_1_7_and_30() {
    let p = Overdue::default();
    let h = pending(date!(2021 - 05 - 10));
    assert!(overdue(&p, &h, date!(2021 - 05 - 10)).is_none());
    let cases = [
        (date!(2021 - 05 - 11), 1, WarningLevel::Yellow),
        (date!(2021 - 05 - 16), 1, WarningLevel::Yellow),
        (date!(2021 - 05 - 17), 2, WarningLevel::Orange),
        (date!(2021 - 06 - 08), 2, WarningLevel::Orange),
        (date!(2021 - 06 - 09), 3, WarningLevel::Red),
    ];
    for (day, step, level) in cases {
        let f = overdue(&p, &h, day).unwrap();
        assert_eq!((f.step, f.level), (step, level), "{day}");
    }
    assert_eq!(overdue_step_date(&p, date!(2021 - 05 - 10), 2), Some(date!(2021 - 05 - 17)));
    assert_eq!(overdue_step_date(&p, date!(2021 - 05 - 10), 3), Some(date!(2021 - 06 - 09)));
    // The audience is cumulative and says from which step each rung is addressed.
    let f = overdue(&p, &h, date!(2021 - 06 - 09)).unwrap();
    assert!(f.audience.contains(&(Rung::Responsible, 1)));
    assert!(f.audience.contains(&(Rung::LeadDepartment, 2)));
    assert!(f.audience.contains(&(Rung::Leaders, 3)));
    // Major hazards start one level higher, capped at red.
    let major = HazardSubject { major: true, ..h.clone() };
    assert_eq!(overdue(&p, &major, date!(2021 - 05 - 11)).unwrap().level, WarningLevel::Orange);
    assert_eq!(overdue(&p, &major, date!(2021 - 06 - 09)).unwrap().level, WarningLevel::Red);
    // Handed in: no longer overdue, whatever the date.
    assert!(overdue(&p, &HazardSubject { pending: false, ..h }, date!(2021 - 06 - 09)).is_none());
    // A hazard without a deadline cannot be overdue.
    assert!(overdue(&p, &HazardSubject { deadline: None, ..pending(date!(2021 - 05 - 10)) }, date!(2021 - 06 - 09)).is_none());
}

#[test]
fn major_plan_and_listing_rules() {
    let h = HazardSubject { major: true, ..pending(date!(2021 - 06 - 30)) };
    let p = PlanMissing::default();
    // Found 04-20: day 7 is 04-27, warned from 04-28; red after 30 days (from 05-21).
    assert!(plan_missing(&p, &h, date!(2021 - 04 - 27)).is_none());
    assert_eq!(plan_missing(&p, &h, date!(2021 - 04 - 28)).unwrap().level, WarningLevel::Orange);
    let red = plan_missing(&p, &h, date!(2021 - 05 - 21)).unwrap();
    assert_eq!(red.level, WarningLevel::Red);
    assert!(red.audience.contains(&(Rung::Office, 2)));
    assert!(plan_missing(&p, &HazardSubject { plan_missing: 0, ..h.clone() }, date!(2021 - 05 - 21)).is_none());
    assert!(plan_missing(&p, &HazardSubject { major: false, ..h.clone() }, date!(2021 - 05 - 21)).is_none());

    // Five working days after Tuesday 04-20 (Sunday 04-25 was a 调休 working day) end on Monday 04-26; warned from 04-27.
    let n = NotListed::default();
    assert!(not_listed(&n, &h, date!(2021 - 04 - 26), &cal()).is_none());
    let f = not_listed(&n, &h, date!(2021 - 04 - 27), &cal()).unwrap();
    assert_eq!(f.audience, vec![(Rung::Office, 0)]);
    assert!(not_listed(&n, &HazardSubject { listed: true, ..h }, date!(2021 - 04 - 28), &cal()).is_none());
}

#[test]
fn extension_requests_wait_five_working_days() {
    let p = ExtensionUndecided::default();
    let e = ExtensionSubject { requested_on: date!(2021 - 05 - 12), current_deadline: date!(2021 - 05 - 31), listed: false };
    assert!(extension_undecided(&p, &e, date!(2021 - 05 - 18), &cal()).is_none());
    assert_eq!(extension_undecided(&p, &e, date!(2021 - 05 - 19), &cal()).unwrap().level, WarningLevel::Yellow);
    // Listed hazards give the supervisor ten working days.
    let listed = ExtensionSubject { listed: true, ..e.clone() };
    assert!(extension_undecided(&p, &listed, date!(2021 - 05 - 25), &cal()).is_none());
    assert!(extension_undecided(&p, &listed, date!(2021 - 05 - 26), &cal()).is_some());
    // Once the deadline it would move has passed: orange, and the office is told.
    let f = extension_undecided(&p, &e, date!(2021 - 06 - 01), &cal()).unwrap();
    assert_eq!(f.level, WarningLevel::Orange);
    assert!(f.audience.contains(&(Rung::Office, 2)));
}

#[test]
fn measures_are_overdue_the_day_after_their_deadline() {
    let p = MeasureOverdue::default();
    let d = date!(2021 - 06 - 30);
    assert!(measure_overdue(&p, d, true, d).is_none());
    assert_eq!(measure_overdue(&p, d, true, date!(2021 - 07 - 01)).unwrap().level, WarningLevel::Yellow);
    assert_eq!(measure_overdue(&p, d, true, date!(2021 - 07 - 30)).unwrap().level, WarningLevel::Orange);
    assert!(measure_overdue(&p, d, false, date!(2021 - 07 - 30)).is_none());
}

#[test]
fn indicators_behind_the_straight_line() {
    let p = IndicatorBehind::default();
    let i = IndicatorSubject {
        met: false,
        percent: Some(Decimal::from(30)),
        has_share: true,
        deadline: date!(2022 - 12 - 31),
        campaign_starts_on: date!(2020 - 12 - 31),
    };
    // Halfway through two years (2021-12-31): 50 % expected, 30 % reached, 10 points of tolerance → behind.
    let f = indicator_behind(&p, &i, date!(2021 - 12 - 31)).unwrap();
    assert_eq!(f.level, WarningLevel::Yellow);
    assert_eq!(f.facts["expected_percent"], "50.0");
    // 45 % is within the tolerance.
    let close = IndicatorSubject { percent: Some(Decimal::from(45)), ..i.clone() };
    assert!(indicator_behind(&p, &close, date!(2021 - 12 - 31)).is_none());
    // Thirty days before the deadline and not met: orange; after it: red with the office.
    assert_eq!(indicator_behind(&p, &close, date!(2022 - 12 - 01)).unwrap().level, WarningLevel::Orange);
    let red = indicator_behind(&p, &close, date!(2023 - 01 - 01)).unwrap();
    assert_eq!(red.level, WarningLevel::Red);
    assert!(red.audience.contains(&(Rung::Office, 3)));
    assert!(indicator_behind(&p, &IndicatorSubject { met: true, ..i }, date!(2023 - 01 - 01)).is_none());
}

#[test]
fn statistics_reports_are_due_on_the_fifteenth_and_january_31() {
    let p = StatisticsMissing::default();
    let q1 = Period::Quarter(2021, 1);
    assert_eq!(q1.due(&p), Some(date!(2021 - 04 - 15)));
    assert!(statistics_missing(&p, q1, false, date!(2021 - 04 - 15)).is_none());
    assert_eq!(statistics_missing(&p, q1, false, date!(2021 - 04 - 16)).unwrap().level, WarningLevel::Yellow);
    assert_eq!(statistics_missing(&p, q1, false, date!(2021 - 05 - 01)).unwrap().level, WarningLevel::Orange);
    assert!(statistics_missing(&p, q1, true, date!(2021 - 05 - 01)).is_none());
    let y = Period::Year(2020);
    assert_eq!(y.due(&p), Some(date!(2021 - 01 - 31)));
    assert!(statistics_missing(&p, y, false, date!(2021 - 01 - 31)).is_none());
    assert!(statistics_missing(&p, y, false, date!(2021 - 02 - 01)).is_some());
    // Q4 is due in the next year.
    assert_eq!(Period::Quarter(2020, 4).due(&p), Some(date!(2021 - 01 - 15)));
    // The periods checked on a day: the latest quarter and the latest year already due.
    assert_eq!(Period::latest_due(date!(2021 - 04 - 16), &p), vec![Period::Quarter(2021, 1), Period::Year(2020)]);
    assert_eq!(Period::latest_due(date!(2021 - 04 - 15), &p), vec![Period::Quarter(2020, 4), Period::Year(2020)]);
    assert_eq!(Period::latest_due(date!(2021 - 01 - 20), &p), vec![Period::Quarter(2020, 4), Period::Year(2019)]);
    assert_eq!(Period::parse("2021Q3"), Some(Period::Quarter(2021, 3)));
    assert_eq!(Period::parse("2020"), Some(Period::Year(2020)));
    assert_eq!(Period::parse("2021Q5"), None);
}

#[test]
fn repeated_types_and_low_rates() {
    let p = RepeatedHazardType::default();
    assert!(repeated_hazard_type(&p, 2, date!(2020 - 05 - 01)).is_none());
    assert_eq!(repeated_hazard_type(&p, 3, date!(2020 - 05 - 01)).unwrap().level, WarningLevel::Yellow);
    assert_eq!(repeated_hazard_type(&p, 6, date!(2020 - 05 - 01)).unwrap().level, WarningLevel::Orange);
    assert_eq!(months_back(date!(2021 - 03 - 31), 1), date!(2021 - 02 - 28));
    assert_eq!(months_back(date!(2021 - 03 - 15), 12), date!(2020 - 03 - 15));

    let r = UnitRateLow::default();
    // 29 hazards are too few to judge.
    assert!(unit_rate_low(&r, 29, 0, false).is_none());
    // 84 of 100: below 85 %; 86 of 100 ends a new warning but not an open one (hysteresis to 87 %).
    assert_eq!(unit_rate_low(&r, 100, 84, false).unwrap().level, WarningLevel::Yellow);
    assert!(unit_rate_low(&r, 100, 86, false).is_none());
    assert!(unit_rate_low(&r, 100, 86, true).is_some());
    assert!(unit_rate_low(&r, 100, 87, true).is_none());
    let far = unit_rate_low(&r, 100, 70, false).unwrap();
    assert_eq!(far.level, WarningLevel::Orange);
    assert!(far.audience.contains(&(Rung::Office, 2)));
    // Twelve whole months ending two months before this one.
    assert_eq!(rate_window(&r, date!(2021 - 06 - 15)), (date!(2020 - 04 - 01), date!(2021 - 04 - 01)));
    assert_eq!(percent_text("0.8123"), "81.2%");
}

#[test]
fn levels_order_and_raise() {
    assert!(WarningLevel::Red.at_least(WarningLevel::Orange));
    assert!(!WarningLevel::Blue.at_least(WarningLevel::Yellow));
    assert_eq!(WarningLevel::Blue.raised(), WarningLevel::Yellow);
    assert_eq!(WarningLevel::Red.raised(), WarningLevel::Red);
}

#[test]
fn descriptions_derive_the_days_from_the_facts() {
    let f = overdue(&Overdue::default(), &pending(date!(2021 - 05 - 10)), date!(2021 - 05 - 17)).unwrap();
    assert_eq!(describe(RuleCode::HazardOverdue, &f.facts, date!(2021 - 05 - 17), false), "整改期限 2021-05-10，已逾期 7 天");
    assert_eq!(describe(RuleCode::HazardOverdue, &f.facts, date!(2021 - 05 - 18), true), "Deadline 2021-05-10, 8 day(s) overdue");
    let s = statistics_missing(&StatisticsMissing::default(), Period::Quarter(2021, 1), false, date!(2021 - 04 - 20)).unwrap();
    assert_eq!(
        describe(RuleCode::StatisticsMissing, &s.facts, date!(2021 - 04 - 20), false),
        "2021年第1季度隐患排查治理统计分析表应于 2021-04-15 前报送，尚未收到"
    );
    let r = unit_rate_low(&UnitRateLow::default(), 100, 70, false).unwrap();
    assert_eq!(describe(RuleCode::UnitRateLow, &r.facts, date!(2021 - 04 - 20), false), "整改率 70.0%（70/100），低于 85.0%");
}
