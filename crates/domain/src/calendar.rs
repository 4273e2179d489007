//! Working days in China: weekends are days off, public holidays are days
//! off even on a weekday, and make-up working days (调休) are working days
//! even on a weekend. The holidays of each year are data — a State Council
//! notice per year — kept in `calendars/cn-public-holidays.toml`, stored in
//! the database and editable by administrators.

use crate::error::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Duration, Weekday};

/// The holiday notices shipped with Bihuan.
pub const BUNDLED_CALENDAR: &str = include_str!("../../../calendars/cn-public-holidays.toml");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NoticeStatus {
    /// Transcribed from the published notice.
    Official,
    /// Statutory days only, before the notice for the year is published.
    Provisional,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HolidayRange {
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub from: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub to: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MakeUpDay {
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
}

/// One year's holiday arrangement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HolidayNotice {
    pub year: i32,
    pub status: NoticeStatus,
    pub source: String,
    pub holidays: Vec<HolidayRange>,
    #[serde(default)]
    pub workdays: Vec<MakeUpDay>,
}

#[derive(Deserialize)]
struct NoticeFile {
    notice: Vec<HolidayNotice>,
}

impl HolidayNotice {
    /// Checks a notice as an administrator entered it: ranges in order and
    /// near the year, make-up days on weekends and not inside a holiday.
    pub fn validate(&self) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        if !(2000..=2100).contains(&self.year) {
            errors.push(FieldError::new("year", "年份应在2000至2100之间", "The year must lie between 2000 and 2100"));
        }
        let near = |d: Date| (d.year() - self.year).abs() <= 1;
        for (i, h) in self.holidays.iter().enumerate() {
            let field = format!("holidays[{i}]");
            if h.name.trim().is_empty() {
                errors.push(FieldError::new(&field, "请填写节日名称", "Name the holiday"));
            }
            if h.to < h.from {
                errors.push(FieldError::new(&field, format!("{}：结束日期早于开始日期", h.name), format!("{}: ends before it starts", h.name)));
            } else if (h.to - h.from).whole_days() > 14 {
                errors.push(FieldError::new(&field, format!("{}：假期超过15天，请检查日期", h.name), format!("{}: longer than 15 days; check the dates", h.name)));
            }
            if !near(h.from) || !near(h.to) {
                errors.push(FieldError::new(&field, format!("{}：日期不在{}年前后", h.name, self.year), format!("{}: the dates are not around {}", h.name, self.year)));
            }
        }
        let holidays = self.holiday_dates();
        for (i, w) in self.workdays.iter().enumerate() {
            let field = format!("workdays[{i}]");
            if !is_weekend(w.date) {
                errors.push(FieldError::new(
                    &field,
                    format!("调休上班日 {} 不是周末，无需登记", w.date),
                    format!("The make-up working day {} is not a weekend day", w.date),
                ));
            }
            if holidays.contains(&w.date) {
                errors.push(FieldError::new(&field, format!("{} 同时登记为假日和上班日", w.date), format!("{} is both a holiday and a working day", w.date)));
            }
            if !near(w.date) {
                errors.push(FieldError::new(&field, format!("{} 不在{}年前后", w.date, self.year), format!("{} is not around {}", w.date, self.year)));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(DomainError::invalid(errors)) }
    }

    fn holiday_dates(&self) -> BTreeSet<Date> {
        let mut out = BTreeSet::new();
        for h in &self.holidays {
            let mut d = h.from;
            while d <= h.to {
                out.insert(d);
                match d.next_day() {
                    Some(n) => d = n,
                    None => break,
                }
            }
        }
        out
    }
}

/// Parses the shipped (or an uploaded) notice file.
pub fn parse_notices(text: &str) -> Result<Vec<HolidayNotice>, DomainError> {
    let file: NoticeFile = toml::from_str(text).map_err(|e| {
        DomainError::field("calendar", format!("节假日文件格式有误：{}", e.message()), format!("The holiday file is not valid: {}", e.message()))
    })?;
    for n in &file.notice {
        n.validate()?;
    }
    Ok(file.notice)
}

pub fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The working-day calendar built from the notices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    /// Day off → holiday name.
    holidays: BTreeMap<Date, String>,
    /// Weekend working day → name.
    workdays: BTreeMap<Date, String>,
    /// Years with a notice, and whether it is official.
    years: BTreeMap<i32, NoticeStatus>,
}

impl WorkCalendar {
    pub fn new(notices: &[HolidayNotice]) -> Self {
        let mut c = WorkCalendar::default();
        for n in notices {
            c.years.insert(n.year, n.status);
            for h in &n.holidays {
                let mut d = h.from;
                while d <= h.to {
                    c.holidays.insert(d, h.name.clone());
                    match d.next_day() {
                        Some(next) => d = next,
                        None => break,
                    }
                }
            }
            for w in &n.workdays {
                c.workdays.insert(w.date, w.name.clone());
            }
        }
        c
    }

    /// The calendar shipped with Bihuan.
    pub fn bundled() -> Self {
        WorkCalendar::new(&parse_notices(BUNDLED_CALENDAR).unwrap_or_default())
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        if self.workdays.contains_key(&d) {
            return true;
        }
        !self.holidays.contains_key(&d) && !is_weekend(d)
    }

    /// Why a date is (not) a working day, for showing a deadline.
    pub fn day_name(&self, d: Date) -> Option<&str> {
        self.holidays.get(&d).or_else(|| self.workdays.get(&d)).map(String::as_str)
    }

    /// Whether the year has a notice, and of which status. Counting working
    /// days in a year without one treats every weekday as a working day.
    pub fn coverage(&self, year: i32) -> Option<NoticeStatus> {
        self.years.get(&year).copied()
    }

    /// The date `n` working days after `start` (`start` itself is not
    /// counted, as "within 10 working days of receipt" is read). With
    /// `n = 0`, `start` itself.
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = match d.next_day() {
                Some(next) => next,
                None => return d,
            };
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days after `from` up to and including `to` (0 when `to` is
    /// not after `from`).
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d = match d.next_day() {
                Some(next) => next,
                None => break,
            };
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }
}

/// How a deadline was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "basis", content = "days", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeadlineRule {
    /// A date was named.
    Date,
    /// N calendar days after the assignment date.
    CalendarDays(u32),
    /// N working days after the assignment date.
    WorkingDays(u32),
}

impl DeadlineRule {
    /// The due date for an assignment on `from`.
    pub fn due(self, from: Date, named: Option<Date>, calendar: &WorkCalendar) -> Option<Date> {
        match self {
            DeadlineRule::Date => named,
            DeadlineRule::CalendarDays(n) => from.checked_add(Duration::days(i64::from(n))),
            DeadlineRule::WorkingDays(n) => Some(calendar.add_working_days(from, n)),
        }
    }

    pub fn describe_zh(self) -> String {
        match self {
            DeadlineRule::Date => "指定日期".into(),
            DeadlineRule::CalendarDays(n) => format!("{n}个自然日"),
            DeadlineRule::WorkingDays(n) => format!("{n}个工作日"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn cal() -> WorkCalendar {
        WorkCalendar::bundled()
    }

    #[test]
    fn the_bundled_notices_parse_and_cover_the_campaign_and_now() {
        let notices = parse_notices(BUNDLED_CALENDAR).unwrap();
        let years: Vec<i32> = notices.iter().map(|n| n.year).collect();
        for y in 2020..=2027 {
            assert!(years.contains(&y), "{y}");
        }
        assert_eq!(cal().coverage(2026), Some(NoticeStatus::Official));
        assert_eq!(cal().coverage(2027), Some(NoticeStatus::Provisional));
        assert_eq!(cal().coverage(2019), None);
    }

    #[test]
    fn spring_festival_2021_and_its_make_up_sundays() {
        let c = cal();
        // Sunday 7 February 2021 was a working day (调休); the holiday ran 11–17 February.
        assert!(c.is_working_day(date!(2021 - 02 - 07)));
        assert!(!c.is_working_day(date!(2021 - 02 - 11)));
        assert!(!c.is_working_day(date!(2021 - 02 - 17)));
        assert!(c.is_working_day(date!(2021 - 02 - 18)));
        assert!(c.is_working_day(date!(2021 - 02 - 20))); // Saturday, worked
        assert!(!c.is_working_day(date!(2021 - 02 - 21))); // Sunday
        assert_eq!(c.day_name(date!(2021 - 02 - 07)), Some("春节调休"));
        // Five working days from Wednesday 10 February: 18, 19, 20 (Sat, worked), 22, 23.
        assert_eq!(c.add_working_days(date!(2021 - 02 - 10), 5), date!(2021 - 02 - 23));
        assert_eq!(c.working_days_between(date!(2021 - 02 - 10), date!(2021 - 02 - 23)), 5);
    }

    #[test]
    fn national_day_2021_pushes_ten_working_days_past_the_golden_week() {
        let c = cal();
        // Assigned Thursday 23 Sept 2021. Working days: 24, 26 (Sun, worked), 27, 28, 29, 30,
        // then 1–7 Oct off, 8 (Fri), 9 (Sat, worked), 11, 12.
        assert_eq!(c.add_working_days(date!(2021 - 09 - 23), 10), date!(2021 - 10 - 12));
        assert_eq!(c.add_working_days(date!(2021 - 09 - 23), 0), date!(2021 - 09 - 23));
    }

    #[test]
    fn a_year_without_notice_counts_weekdays() {
        let c = cal();
        // 2019 has no notice: Monday 30 Sept + 3 working days = Thursday 3 Oct.
        assert_eq!(c.add_working_days(date!(2019 - 09 - 30), 3), date!(2019 - 10 - 03));
    }

    #[test]
    fn deadline_rules() {
        let c = cal();
        let from = date!(2021 - 04 - 30);
        assert_eq!(DeadlineRule::CalendarDays(7).due(from, None, &c), Some(date!(2021 - 05 - 07)));
        // 30 April is Friday; 1–5 May off; 6 May Thu, 7 Fri, 8 Sat (worked).
        assert_eq!(DeadlineRule::WorkingDays(3).due(from, None, &c), Some(date!(2021 - 05 - 08)));
        assert_eq!(DeadlineRule::Date.due(from, Some(date!(2021 - 06 - 30)), &c), Some(date!(2021 - 06 - 30)));
    }

    #[test]
    fn a_bad_notice_names_each_problem() {
        let n = HolidayNotice {
            year: 2028,
            status: NoticeStatus::Official,
            source: "x".into(),
            holidays: vec![HolidayRange { name: "春节".into(), from: date!(2028 - 01 - 30), to: date!(2028 - 01 - 26) }],
            workdays: vec![MakeUpDay { name: "调休".into(), date: date!(2028 - 01 - 26) }],
        };
        let e = n.validate().unwrap_err();
        let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["holidays[0]", "workdays[0]"], "{e}");
    }
}
