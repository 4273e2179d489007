//! Time is injected: nothing in Bihuan reads the wall clock directly, so tests
//! can move time forward and deadlines are computed the same way everywhere.

use time::{Date, OffsetDateTime, UtcOffset};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// China Standard Time. Bihuan stores UTC and shows Asia/Shanghai, which has
/// had no daylight saving since 1991, so a fixed offset is exact.
pub const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// The calendar date in Shanghai at an instant.
pub fn local_date(at: OffsetDateTime) -> Date {
    at.to_offset(SHANGHAI).date()
}

/// A clock fixed at one instant, for tests and for replaying work.
#[derive(Clone, Debug)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}
