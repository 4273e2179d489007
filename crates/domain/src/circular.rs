//! Circulars (通报): the office's published list of overdue hazards or open
//! warnings, numbered and kept as issued (docs/warnings-design.md §5).
//!
//! This module holds the vocabulary (kind, state), the snapshot an item
//! keeps of its hazard or warning, and who may read and who may compose a
//! circular, as pure functions of the actor and the circular's facts.

use crate::permission::{Actor, Decision};
use crate::role::Role;
use crate::unit::UnitPath;
use serde::{Deserialize, Serialize};
use time::Date;

/// At most this many items in one circular; above it the office narrows the selection.
pub const MAX_ITEMS: usize = 1000;

/// What a circular reports on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CircularKind {
    /// 隐患整改逾期情况: hazards past their deadline.
    Overdue,
    /// 预警情况: open warnings.
    Warnings,
}

impl CircularKind {
    pub const ALL: [CircularKind; 2] = [CircularKind::Overdue, CircularKind::Warnings];

    pub fn as_str(self) -> &'static str {
        match self {
            CircularKind::Overdue => "overdue",
            CircularKind::Warnings => "warnings",
        }
    }

    pub fn parse(s: &str) -> Option<CircularKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            CircularKind::Overdue => "逾期隐患通报",
            CircularKind::Warnings => "预警通报",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            CircularKind::Overdue => "Overdue hazards",
            CircularKind::Warnings => "Warnings",
        }
    }
}

/// A draft may still change; an issued circular never does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CircularState {
    Draft,
    Issued,
}

impl CircularState {
    pub fn as_str(self) -> &'static str {
        match self {
            CircularState::Draft => "draft",
            CircularState::Issued => "issued",
        }
    }

    pub fn parse(s: &str) -> Option<CircularState> {
        [CircularState::Draft, CircularState::Issued].into_iter().find(|k| k.as_str() == s.trim())
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            CircularState::Draft => "草稿",
            CircularState::Issued => "已印发",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            CircularState::Draft => "Draft",
            CircularState::Issued => "Issued",
        }
    }
}

/// What an item of a circular says about its hazard or warning, as it
/// stood when the draft was composed (and again on the day of issue).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Snapshot {
    /// An overdue hazard.
    Hazard {
        /// 隐患编号.
        code: String,
        name: String,
        /// 所在单位.
        unit: String,
        /// 责任单位 (the unit itself when none was named).
        responsible_unit: String,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        deadline: Date,
        days_overdue: u32,
        major: bool,
        listed: bool,
    },
    /// An open warning.
    Warning {
        /// The rule's code (`hazard_overdue` …).
        rule: String,
        /// What the warning is about.
        label: String,
        /// The unit the warning belongs to.
        unit: String,
        /// `red`, `orange`, `yellow` or `blue`.
        level: String,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        first_seen: Date,
    },
}

/// Who may read a circular of `jurisdiction` (the issuing office's
/// jurisdiction): administrators; the users of that jurisdiction other than
/// enterprises; and, once it is issued, the users of the units it was sent
/// to (enterprises too: a circular is published to them). Anyone else is
/// told it does not exist.
pub fn may_read(actor: &Actor, jurisdiction: &UnitPath, recipient: bool) -> Decision {
    let of_jurisdiction = actor.role != Role::Enterprise && actor.unit_path.is_within(jurisdiction);
    if actor.role == Role::Admin || of_jurisdiction || recipient { Decision::Allow } else { Decision::NotFound }
}

/// Who may compose, change, issue or discard a circular of `jurisdiction`:
/// administrators, and the office of a jurisdiction at or above it. Others
/// who may read it are refused; to anyone else it does not exist.
pub fn may_compose(actor: &Actor, jurisdiction: &UnitPath) -> Decision {
    if may_read(actor, jurisdiction, false) == Decision::NotFound {
        return Decision::NotFound;
    }
    let allowed = actor.role == Role::Admin || (actor.role == Role::Office && jurisdiction.is_within(&actor.jurisdiction));
    if allowed { Decision::Allow } else { Decision::Forbidden }
}

/// The document number: `南安办通〔2021〕3号`.
pub fn document_number(prefix: &str, year: i32, seq: i64) -> String {
    format!("{}〔{year}〕{seq}号", prefix.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{UnitId, UserId};

    fn actor(role: Role, unit: &UnitPath, jurisdiction: &UnitPath) -> Actor {
        Actor {
            user_id: UserId::new(),
            username: "u".into(),
            role,
            unit_id: unit.ids().last().copied().unwrap_or_default(),
            unit_path: unit.clone(),
            jurisdiction: jurisdiction.clone(),
            led_areas: vec![],
        }
    }

    #[test]
    fn the_jurisdiction_reads_enterprises_only_when_addressed_and_the_office_composes() {
        let town = UnitPath::root(UnitId::new());
        let office = town.child(UnitId::new());
        let village = town.child(UnitId::new());
        let firm = village.child(UnitId::new());
        let other_town = UnitPath::root(UnitId::new());
        let other_office = other_town.child(UnitId::new());
        for role in Role::ALL {
            let unit = if role == Role::Enterprise { &firm } else { &village };
            let a = actor(role, unit, &town);
            let read = may_read(&a, &town, false);
            let expected = if role == Role::Enterprise { Decision::NotFound } else { Decision::Allow };
            assert_eq!(read, expected, "{role:?}");
            assert_eq!(may_read(&a, &town, true), Decision::Allow, "{role:?} as a recipient");
            let other = may_read(&a, &other_town, false);
            assert_eq!(other, if role == Role::Admin { Decision::Allow } else { Decision::NotFound }, "{role:?}");
            let compose = may_compose(&a, &town);
            let expected = match role {
                Role::Admin | Role::Office => Decision::Allow,
                Role::Enterprise => Decision::NotFound,
                _ => Decision::Forbidden,
            };
            assert_eq!(compose, expected, "{role:?}");
        }
        let o = actor(Role::Office, &office, &town);
        assert_eq!(may_compose(&o, &town), Decision::Allow);
        assert_eq!(may_compose(&o, &other_town), Decision::NotFound);
        let stranger = actor(Role::Office, &other_office, &other_town);
        assert_eq!(may_compose(&stranger, &town), Decision::NotFound);
        // A recipient enterprise reads it but does not compose.
        let f = actor(Role::Enterprise, &firm, &town);
        assert_eq!(may_read(&f, &town, true), Decision::Allow);
        assert_eq!(may_compose(&f, &town), Decision::NotFound);
    }

    #[test]
    fn numbers_and_codes() {
        assert_eq!(document_number("南安办通", 2021, 3), "南安办通〔2021〕3号");
        for k in CircularKind::ALL {
            assert_eq!(CircularKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(CircularState::parse("issued"), Some(CircularState::Issued));
        let s = Snapshot::Warning {
            rule: "hazard_overdue".into(),
            label: "YH2021-000001 消防通道堵塞".into(),
            unit: "甲公司".into(),
            level: "red".into(),
            first_seen: time::macros::date!(2021 - 05 - 19),
        };
        let json = serde_json::to_string(&s).unwrap_or_default();
        assert!(json.contains("\"kind\":\"warning\"") && json.contains("2021-05-19"), "{json}");
        assert_eq!(serde_json::from_str::<Snapshot>(&json).ok(), Some(s));
    }
}
