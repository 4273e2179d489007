//! Quantitative targets (量化指标) and progress against them.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparator {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = ">")]
    MoreThan,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = "<")]
    LessThan,
    #[serde(rename = "=")]
    Equal,
    /// A milestone: reached (value 1) or not (value 0).
    #[serde(rename = "done")]
    Done,
}

impl Comparator {
    pub fn as_str(self) -> &'static str {
        match self {
            Comparator::AtLeast => ">=",
            Comparator::MoreThan => ">",
            Comparator::AtMost => "<=",
            Comparator::LessThan => "<",
            Comparator::Equal => "=",
            Comparator::Done => "done",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            ">=" | "≥" => Some(Comparator::AtLeast),
            ">" => Some(Comparator::MoreThan),
            "<=" | "≤" => Some(Comparator::AtMost),
            "<" => Some(Comparator::LessThan),
            "=" | "==" => Some(Comparator::Equal),
            "done" => Some(Comparator::Done),
            _ => None,
        }
    }
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::AtLeast => "≥",
            Comparator::MoreThan => ">",
            Comparator::AtMost => "≤",
            Comparator::LessThan => "<",
            Comparator::Equal => "=",
            Comparator::Done => "",
        }
    }

    /// Whether `value` meets the target. For milestones any non-zero value
    /// means reached.
    pub fn is_met(self, value: Decimal, target: Option<Decimal>) -> bool {
        match (self, target) {
            (Comparator::Done, _) => !value.is_zero(),
            (Comparator::AtLeast, Some(t)) => value >= t,
            (Comparator::MoreThan, Some(t)) => value > t,
            (Comparator::AtMost, Some(t)) => value <= t,
            (Comparator::LessThan, Some(t)) => value < t,
            (Comparator::Equal, Some(t)) => value == t,
            (_, None) => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorStatus {
    /// The latest value meets the target.
    Met,
    /// Not met yet, deadline not passed.
    Open,
    /// Deadline passed and the latest value does not meet the target.
    Overdue,
}

impl IndicatorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorStatus::Met => "met",
            IndicatorStatus::Open => "open",
            IndicatorStatus::Overdue => "overdue",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            IndicatorStatus::Met => "已达标",
            IndicatorStatus::Open => "推进中",
            IndicatorStatus::Overdue => "逾期未达标",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            IndicatorStatus::Met => "Met",
            IndicatorStatus::Open => "In progress",
            IndicatorStatus::Overdue => "Overdue, not met",
        }
    }
}

/// Progress of one indicator on a given day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub status: IndicatorStatus,
    /// Share of the target reached, in percent (0–100), for "at least" and
    /// "more than" targets and for milestones; `None` where a share means
    /// nothing (upper bounds, equality) or no value was reported.
    pub percent: Option<Decimal>,
    pub days_left: i64,
}

pub fn progress(
    comparator: Comparator,
    target: Option<Decimal>,
    deadline: Date,
    latest: Option<Decimal>,
    today: Date,
) -> Progress {
    let met = latest.is_some_and(|v| comparator.is_met(v, target));
    let status = if met {
        IndicatorStatus::Met
    } else if today > deadline {
        IndicatorStatus::Overdue
    } else {
        IndicatorStatus::Open
    };
    let percent = match (comparator, latest, target) {
        (Comparator::Done, Some(_), _) => Some(if met { Decimal::ONE_HUNDRED } else { Decimal::ZERO }),
        (Comparator::AtLeast | Comparator::MoreThan, Some(v), Some(t)) if t > Decimal::ZERO => {
            let share = (v / t * Decimal::ONE_HUNDRED).round_dp(1);
            Some(share.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED))
        }
        _ => None,
    };
    Progress { status, percent, days_left: (deadline - today).whole_days() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn seventy_five_percent_of_inspectors() {
        let p = progress(Comparator::AtLeast, Some(d("75")), date!(2022 - 12 - 31), Some(d("60")), date!(2021 - 06 - 30));
        assert_eq!(p.status, IndicatorStatus::Open);
        assert_eq!(p.percent, Some(d("80.0")));
        let p = progress(Comparator::AtLeast, Some(d("75")), date!(2022 - 12 - 31), Some(d("75")), date!(2022 - 12 - 31));
        assert_eq!(p.status, IndicatorStatus::Met);
        let p = progress(Comparator::AtLeast, Some(d("75")), date!(2022 - 12 - 31), Some(d("74.9")), date!(2023 - 01 - 01));
        assert_eq!(p.status, IndicatorStatus::Overdue);
    }

    #[test]
    fn exact_decimals_not_floats() {
        // 0.1 + 0.2 is exactly 0.3 here, unlike f64.
        assert!(Comparator::Equal.is_met(d("0.1") + d("0.2"), Some(d("0.3"))));
    }

    #[test]
    fn milestones_and_missing_values() {
        let p = progress(Comparator::Done, None, date!(2020 - 12 - 31), None, date!(2021 - 01 - 01));
        assert_eq!((p.status, p.percent), (IndicatorStatus::Overdue, None));
        let p = progress(Comparator::Done, None, date!(2020 - 12 - 31), Some(Decimal::ONE), date!(2021 - 01 - 01));
        assert_eq!(p.status, IndicatorStatus::Met);
        assert_eq!(p.days_left, -1);
    }
}
