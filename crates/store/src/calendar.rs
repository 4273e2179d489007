//! The working-day calendar: one holiday notice per year.

use crate::{run, Result, StoreError, Ts, Tx};
use bihuan_domain::calendar::{HolidayNotice, NoticeStatus};
use time::OffsetDateTime;

type Row = (i32, String, String, String, String);

pub async fn notices(tx: &mut Tx) -> Result<Vec<HolidayNotice>> {
    let sql = "SELECT year, status, source, holidays_json, workdays_json FROM holiday_notice ORDER BY year";
    let rows: Vec<Row> = run!(tx, |c| sqlx::query_as(sql).fetch_all(&mut *c).await?);
    rows.into_iter()
        .map(|(year, status, source, holidays, workdays)| {
            let bad = |e: serde_json::Error| StoreError::Corrupt(format!("holiday notice {year}: {e}"));
            Ok(HolidayNotice {
                year,
                status: if status == "provisional" { NoticeStatus::Provisional } else { NoticeStatus::Official },
                source,
                holidays: serde_json::from_str(&holidays).map_err(bad)?,
                workdays: serde_json::from_str(&workdays).map_err(bad)?,
            })
        })
        .collect()
}

/// Inserts or replaces the notice of its year.
pub async fn put_notice(tx: &mut Tx, n: &HolidayNotice, at: OffsetDateTime, by: &str) -> Result<()> {
    let bad = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let holidays = serde_json::to_string(&n.holidays).map_err(bad)?;
    let workdays = serde_json::to_string(&n.workdays).map_err(bad)?;
    let status = match n.status {
        NoticeStatus::Official => "official",
        NoticeStatus::Provisional => "provisional",
    };
    let sql = "INSERT INTO holiday_notice (year, status, source, holidays_json, workdays_json, updated_at, updated_by) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (year) DO UPDATE SET status = excluded.status, source = excluded.source, \
               holidays_json = excluded.holidays_json, workdays_json = excluded.workdays_json, updated_at = excluded.updated_at, \
               updated_by = excluded.updated_by";
    run!(tx, |c| {
        sqlx::query(sql)
            .bind(n.year)
            .bind(status)
            .bind(&n.source)
            .bind(&holidays)
            .bind(&workdays)
            .bind(Ts(at))
            .bind(by)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}
