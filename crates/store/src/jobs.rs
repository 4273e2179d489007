//! Job leases: how several server processes on one database agree who runs
//! a scheduled job. A claim is one conditional UPDATE (free or expired, slot
//! not done); every batch of the run renews the lease under the holder
//! condition as its first statement, and that renewal is the fence: a
//! process that lost its lease renews nothing and writes nothing. No
//! advisory locks, no database clock: every time is bound from Rust.

use crate::{run, Result, Ts, Tx};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Lease {
    pub job: String,
    pub holder: Option<String>,
    pub lease_until: Option<OffsetDateTime>,
    pub run_id: Option<Uuid>,
    pub run_key: Option<String>,
    pub cursor: Option<String>,
    pub done_key: Option<String>,
    pub failures: i64,
    pub retry_after: Option<OffsetDateTime>,
    pub last_error: Option<String>,
}

/// Makes sure the job has its lease row.
pub async fn ensure(tx: &mut Tx, job: &str) -> Result<()> {
    run!(tx, |c| sqlx::query("INSERT INTO job_lease (job, failures) VALUES ($1, 0) ON CONFLICT (job) DO NOTHING")
        .bind(job)
        .execute(&mut *c)
        .await?.rows_affected());
    Ok(())
}

pub async fn get(tx: &mut Tx, job: &str) -> Result<Option<Lease>> {
    let sql = "SELECT job, holder, lease_until, run_id, run_key, cursor, done_key, failures, retry_after, last_error FROM job_lease \
               WHERE job = $1";
    Ok(run!(tx, |c| sqlx::query_as::<_, Lease>(sql).bind(job).fetch_optional(&mut *c).await?))
}

/// What a claim asks for.
pub struct Claim<'a> {
    pub job: &'a str,
    pub holder: &'a str,
    pub run_id: Uuid,
    /// The slot: `2021-05-10` for a daily job, `2021-05-10T07:32` for the watch pass.
    pub slot: &'a str,
    pub now: OffsetDateTime,
    pub until: OffsetDateTime,
    /// A run asked for by hand: runs even when the slot is done, and does
    /// not mark it done.
    pub manual: bool,
}

/// Takes the lease if it is free or expired (and, for a scheduled run, the
/// slot is not done and the job is not backing off). The cursor is kept
/// when the same slot is taken over from a holder that stopped, so the run
/// resumes. Returns whether this call took it.
pub async fn claim(tx: &mut Tx, c: &Claim<'_>) -> Result<bool> {
    let scheduled = if c.manual {
        ""
    } else {
        " AND (done_key IS NULL OR done_key < $5) AND (retry_after IS NULL OR retry_after <= $4)"
    };
    let sql = format!(
        "UPDATE job_lease SET holder = $1, lease_until = $2, run_id = $3, \
         cursor = CASE WHEN run_key = $5 THEN cursor ELSE NULL END, run_key = $5 \
         WHERE job = $6 AND (holder IS NULL OR lease_until < $4){scheduled}"
    );
    let n = run!(tx, |conn| sqlx::query(&sql)
        .bind(c.holder)
        .bind(Ts(c.until))
        .bind(c.run_id)
        .bind(Ts(c.now))
        .bind(c.slot)
        .bind(c.job)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// The fence: extends the lease and saves progress, only while this holder
/// and run still hold it. Call first in every write transaction of a run.
pub async fn renew(tx: &mut Tx, job: &str, holder: &str, run_id: Uuid, until: OffsetDateTime, cursor: Option<&str>) -> Result<bool> {
    let sql = "UPDATE job_lease SET lease_until = $1, cursor = COALESCE($2, cursor) WHERE job = $3 AND holder = $4 AND run_id = $5";
    let n = run!(tx, |c| sqlx::query(sql)
        .bind(Ts(until))
        .bind(cursor)
        .bind(job)
        .bind(holder)
        .bind(run_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// How a run ended, for the release.
pub enum Release<'a> {
    /// Finished: the slot is done (None for a manual run, which marks nothing).
    Done(Option<&'a str>),
    /// Failed: back off until `retry_after`.
    Failed { error: &'a str, retry_after: OffsetDateTime },
    /// Stopped (shutdown): another process may take the slot at once.
    Abandoned,
}

pub async fn release(tx: &mut Tx, job: &str, holder: &str, run_id: Uuid, how: Release<'_>) -> Result<bool> {
    const FREE: &str = "holder = NULL, lease_until = NULL, run_id = NULL";
    const MINE: &str = "job = $1 AND holder = $2 AND run_id = $3";
    let n = match how {
        Release::Done(slot) => {
            let sql = format!(
                "UPDATE job_lease SET {FREE}, cursor = NULL, done_key = COALESCE($4, done_key), failures = 0, retry_after = NULL, \
                 last_error = NULL WHERE {MINE}"
            );
            run!(tx, |c| sqlx::query(&sql).bind(job).bind(holder).bind(run_id).bind(slot).execute(&mut *c).await?.rows_affected())
        }
        Release::Failed { error, retry_after } => {
            let sql = format!("UPDATE job_lease SET {FREE}, failures = failures + 1, last_error = $4, retry_after = $5 WHERE {MINE}");
            run!(tx, |c| sqlx::query(&sql)
                .bind(job)
                .bind(holder)
                .bind(run_id)
                .bind(error)
                .bind(Ts(retry_after))
                .execute(&mut *c)
                .await?
                .rows_affected())
        }
        Release::Abandoned => {
            let sql = format!("UPDATE job_lease SET {FREE} WHERE {MINE}");
            run!(tx, |c| sqlx::query(&sql).bind(job).bind(holder).bind(run_id).execute(&mut *c).await?.rows_affected())
        }
    };
    Ok(n == 1)
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct RunRow {
    pub id: Uuid,
    pub job: String,
    pub run_key: String,
    pub trigger: String,
    pub holder: String,
    pub today: Date,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    pub outcome: String,
    pub counts_json: String,
    pub error: Option<String>,
}

pub async fn insert_run(tx: &mut Tx, r: &RunRow) -> Result<()> {
    let sql = "INSERT INTO job_run (id, job, run_key, trigger, holder, today, started_at, finished_at, outcome, counts_json, error) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    run!(tx, |c| sqlx::query(sql)
        .bind(r.id)
        .bind(&r.job)
        .bind(&r.run_key)
        .bind(&r.trigger)
        .bind(&r.holder)
        .bind(r.today)
        .bind(Ts(r.started_at))
        .bind(r.finished_at.map(Ts))
        .bind(&r.outcome)
        .bind(&r.counts_json)
        .bind(&r.error)
        .execute(&mut *c)
        .await?.rows_affected());
    Ok(())
}

pub async fn finish_run(tx: &mut Tx, id: Uuid, at: OffsetDateTime, outcome: &str, counts_json: &str, error: Option<&str>) -> Result<()> {
    let sql = "UPDATE job_run SET finished_at = $1, outcome = $2, counts_json = $3, error = $4 WHERE id = $5";
    run!(tx, |c| sqlx::query(sql)
        .bind(Ts(at))
        .bind(outcome)
        .bind(counts_json)
        .bind(error)
        .bind(id)
        .execute(&mut *c)
        .await?.rows_affected());
    Ok(())
}

/// Runs still marked running for a job other than `except`: their holder
/// stopped (the lease was taken over), so they are marked lost.
pub async fn mark_lost(tx: &mut Tx, job: &str, except: Uuid, at: OffsetDateTime) -> Result<u64> {
    let sql = "UPDATE job_run SET outcome = 'lost', finished_at = $1 WHERE job = $2 AND outcome = 'running' AND id <> $3";
    Ok(run!(tx, |c| sqlx::query(sql).bind(Ts(at)).bind(job).bind(except).execute(&mut *c).await?.rows_affected()))
}

/// The latest runs, newest first (all jobs when `job` is None).
pub async fn runs(tx: &mut Tx, job: Option<&str>, limit: i64) -> Result<Vec<RunRow>> {
    let cols = "id, job, run_key, trigger, holder, today, started_at, finished_at, outcome, counts_json, error";
    Ok(match job {
        Some(j) => {
            let sql = format!("SELECT {cols} FROM job_run WHERE job = $1 ORDER BY started_at DESC LIMIT $2");
            run!(tx, |c| sqlx::query_as::<_, RunRow>(&sql).bind(j).bind(limit).fetch_all(&mut *c).await?)
        }
        None => {
            let sql = format!("SELECT {cols} FROM job_run ORDER BY started_at DESC LIMIT $1");
            run!(tx, |c| sqlx::query_as::<_, RunRow>(&sql).bind(limit).fetch_all(&mut *c).await?)
        }
    })
}
