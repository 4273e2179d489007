//! The working-day calendar as data: read by everyone, changed by
//! administrators when the State Council publishes or amends a notice.

use crate::{Ctx, Result, Service, NONE};
use bihuan_domain::calendar::{DeadlineRule, HolidayNotice, NoticeStatus};
use bihuan_domain::permission::Permission;
use bihuan_domain::DomainError;
use bihuan_store::calendar as store;
use serde::Serialize;
use time::Date;

/// A due date worked out from a start date and a number of days.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DueDate {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub from: Date,
    pub rule: DeadlineRule,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub due: Date,
    /// Whether the calendar has an official notice for every year crossed;
    /// when not, weekdays were counted as working days.
    pub covered: bool,
}

impl Service {
    pub async fn calendar_notices(&self) -> Result<Vec<HolidayNotice>> {
        let mut tx = self.db.read().await?;
        let notices = store::notices(&mut tx).await?;
        tx.commit().await?;
        Ok(notices)
    }

    /// Replaces the notice of one year (checked first) and records who did it.
    pub async fn put_calendar_notice(&self, ctx: &Ctx, notice: &HolidayNotice) -> Result<HolidayNotice> {
        ctx.check(Permission::ManageCalendar, "节假日安排", "Holiday calendar")?;
        notice.validate()?;
        let mut tx = self.db.begin().await?;
        let before = store::notices(&mut tx).await?.into_iter().find(|n| n.year == notice.year);
        let by = match ctx.actor() {
            Some(a) => a.username.clone(),
            None => "bihuan".into(),
        };
        store::put_notice(&mut tx, notice, self.now(), &by).await?;
        match &before {
            Some(b) => self.audit(&mut tx, ctx, "calendar.update", "holiday_notice", Some(notice.year.to_string()), Some(b), Some(notice)).await?,
            None => self.audit(&mut tx, ctx, "calendar.create", "holiday_notice", Some(notice.year.to_string()), NONE, Some(notice)).await?,
        }
        tx.commit().await?;
        Ok(notice.clone())
    }

    /// The due date `days` working (or calendar) days after `from`.
    pub async fn due_date(&self, from: Date, rule: DeadlineRule) -> Result<DueDate> {
        let mut tx = self.db.read().await?;
        let cal = self.work_calendar(&mut tx).await?;
        tx.commit().await?;
        let due = rule
            .due(from, None, &cal)
            .ok_or_else(|| DomainError::field("days", "请给出天数", "Give a number of days"))?;
        let covered = (from.year()..=due.year()).all(|y| cal.coverage(y) == Some(NoticeStatus::Official));
        Ok(DueDate { from, rule, due, covered })
    }
}
