//! The append-only timelines of hazards and measures: one row per change,
//! numbered per record. Both tables have the same columns; only the table
//! and the owning column differ.

use crate::{run, Result, StoreError, Ts, Tx};
use time::OffsetDateTime;
use uuid::Uuid;

/// Which timeline: a fixed table and owner column, never from input.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Timeline {
    Hazard,
    Measure,
}

impl Timeline {
    fn table_and_owner(self) -> (&'static str, &'static str) {
        match self {
            Timeline::Hazard => ("hazard_event", "hazard_id"),
            Timeline::Measure => ("measure_event", "measure_id"),
        }
    }
}

/// One timeline row as written.
pub(crate) struct Row<'a> {
    pub id: Uuid,
    pub owner: Uuid,
    pub at: OffsetDateTime,
    pub actor_user_id: Option<Uuid>,
    pub actor_name: &'a str,
    pub actor_unit_id: Option<Uuid>,
    pub action: &'a str,
    pub from_state: Option<&'a str>,
    pub to_state: &'a str,
    pub comment: Option<&'a str>,
    pub data: &'a serde_json::Value,
}

/// Which number a new row gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seq {
    /// The next after the record's last row (one query to find it).
    Next,
    /// 1: the record was created in this transaction and has no row yet.
    /// (Were that untrue, the unique `(owner, seq)` key would refuse the row.)
    First,
}

/// Appends a row with the next number of its record; returns the number.
pub(crate) async fn append(tx: &mut Tx, which: Timeline, r: Row<'_>, seq: Seq) -> Result<i32> {
    let (table, owner) = which.table_and_owner();
    let seq: i32 = match seq {
        Seq::First => 1,
        Seq::Next => {
            let next = format!("SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS INTEGER) FROM {table} WHERE {owner} = $1");
            run!(tx, |c| sqlx::query_scalar::<_, i32>(&next).bind(r.owner).fetch_one(&mut *c).await?)
        }
    };
    let data = serde_json::to_string(r.data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let sql = format!(
        "INSERT INTO {table} (id, {owner}, seq, at, actor_user_id, actor_name, actor_unit_id, action, from_state, to_state, \
         comment, data_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    run!(tx, |c| {
        sqlx::query(&sql)
            .bind(r.id)
            .bind(r.owner)
            .bind(seq)
            .bind(Ts(r.at))
            .bind(r.actor_user_id)
            .bind(r.actor_name)
            .bind(r.actor_unit_id)
            .bind(r.action)
            .bind(r.from_state)
            .bind(r.to_state)
            .bind(r.comment)
            .bind(&data)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(seq)
}
