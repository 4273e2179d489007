//! The scheduler: which warning jobs are due, and running one under its
//! lease. Every server process calls [`Service::run_due_jobs`] on a timer;
//! the lease row decides which of them runs a slot, and the slot key (the
//! day for the daily pass, the minute for the watch pass) that it runs once.

use crate::warnings::{Fence, RunOptions, RunReport};
use crate::{Ctx, Result, Service};
use bihuan_domain::clock::SHANGHAI;
use bihuan_store::jobs::{self, Claim, Release};
use serde::Serialize;
use time::{Date, OffsetDateTime, Time};
use uuid::Uuid;

pub const DAILY: &str = "warnings.daily";
pub const WATCH: &str = "warnings.watch";
/// The daily digest to outside channels.
pub const DIGEST: &str = "notify.digest";

/// When the jobs run.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// The daily full evaluation, Beijing time.
    pub daily_at: Time,
    /// The watch pass runs every this many minutes (0: never).
    pub watch_minutes: u8,
    /// How long a claimed lease lasts without renewal.
    pub lease: time::Duration,
    /// The daily digest to outside channels, Beijing time.
    pub digest_at: Time,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            daily_at: Time::from_hms(7, 30, 0).unwrap_or(Time::MIDNIGHT),
            watch_minutes: 2,
            lease: time::Duration::seconds(120),
            digest_at: Time::from_hms(8, 30, 0).unwrap_or(Time::MIDNIGHT),
        }
    }
}

/// What happened to one job on one call.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum JobOutcome {
    Ran { job: String, slot: String, report: RunReport },
    /// Another process holds the lease.
    Held { job: String, holder: String, #[serde(with = "time::serde::rfc3339::option")] until: Option<OffsetDateTime> },
    /// Nothing due (the slot is done, or the job is backing off after a failure).
    NotDue { job: String },
}

/// The slot of the daily job at an instant: today once `daily_at` has passed, else yesterday.
pub fn daily_slot(now: OffsetDateTime, at: Time) -> Date {
    let local = now.to_offset(SHANGHAI);
    if local.time() >= at { local.date() } else { local.date().previous_day().unwrap_or(local.date()) }
}

/// The slot of the watch pass: the start of the current `minutes` window.
pub fn watch_slot(now: OffsetDateTime, minutes: u8) -> String {
    let local = now.to_offset(SHANGHAI);
    let m = minutes.max(1);
    let minute = local.minute() - local.minute() % m;
    format!("{}T{:02}:{:02}", local.date(), local.hour(), minute)
}

impl Service {
    /// Runs whichever jobs are due now, as `node`. Safe to call from every
    /// server at once: each slot runs on one of them.
    pub async fn run_due_jobs(&self, node: &str, schedule: &Schedule) -> Result<Vec<JobOutcome>> {
        let now = self.now();
        let mut out = Vec::new();
        let daily = daily_slot(now, schedule.daily_at).to_string();
        let opts = RunOptions { trigger: "schedule".into(), ..RunOptions::default() };
        out.push(self.run_job(DAILY, node, &daily, false, schedule, &opts).await?);
        if schedule.watch_minutes > 0 {
            let slot = watch_slot(now, schedule.watch_minutes);
            let opts = RunOptions { trigger: "schedule".into(), watch: true, ..RunOptions::default() };
            out.push(self.run_job(WATCH, node, &slot, false, schedule, &opts).await?);
        }
        let digest = daily_slot(now, schedule.digest_at).to_string();
        out.push(self.run_job(DIGEST, node, &digest, false, schedule, &RunOptions { trigger: "schedule".into(), ..RunOptions::default() }).await?);
        Ok(out)
    }

    /// Claims a job's lease for a slot, runs the evaluation under it and releases it.
    pub async fn run_job(
        &self,
        job: &str,
        node: &str,
        slot: &str,
        manual: bool,
        schedule: &Schedule,
        opts: &RunOptions,
    ) -> Result<JobOutcome> {
        let now = self.now();
        let run_id = Uuid::now_v7();
        let mut tx = self.db.begin().await?;
        jobs::ensure(&mut tx, job).await?;
        let claim = Claim { job, holder: node, run_id, slot, now, until: now + schedule.lease, manual };
        if !jobs::claim(&mut tx, &claim).await? {
            let lease = jobs::get(&mut tx, job).await?;
            tx.commit().await?;
            return Ok(match lease {
                Some(l) if l.holder.is_some() && l.lease_until.is_some_and(|u| u >= now) => {
                    JobOutcome::Held { job: job.into(), holder: l.holder.unwrap_or_default(), until: l.lease_until }
                }
                _ => JobOutcome::NotDue { job: job.into() },
            });
        }
        jobs::mark_lost(&mut tx, job, run_id, now).await?;
        jobs::insert_run(&mut tx, &jobs::RunRow {
            id: run_id,
            job: job.into(),
            run_key: slot.into(),
            trigger: opts.trigger.clone(),
            holder: node.into(),
            today: self.today(),
            started_at: now,
            finished_at: None,
            outcome: "running".into(),
            counts_json: "{}".into(),
            error: None,
        })
        .await?;
        tx.commit().await?;

        let fence = Fence { job: job.into(), holder: node.into(), run_id, lease: schedule.lease };
        let ctx = Ctx::system(&format!("scheduler:{node}"));
        let result = if job == DIGEST {
            match self.send_digests(&ctx, slot).await {
                Ok(n) => Ok(RunReport {
                    run_id,
                    today: self.today(),
                    counts: Default::default(),
                    notifications: 0,
                    summaries: 0,
                    deliveries: n,
                    dry_run: false,
                }),
                Err(e) => Err(e),
            }
        } else {
            self.evaluate_warnings(&ctx, Some(&fence), opts).await
        };
        let mut tx = self.db.begin().await?;
        let finished = self.now();
        match &result {
            Ok(report) => {
                let counts = serde_json::to_string(&report.counts).unwrap_or_default();
                jobs::finish_run(&mut tx, run_id, finished, "ok", &counts, None).await?;
                jobs::release(&mut tx, job, node, run_id, Release::Done((!manual).then_some(slot))).await?;
            }
            Err(e) => {
                let failures = jobs::get(&mut tx, job).await?.map(|l| l.failures).unwrap_or(0);
                let backoff = time::Duration::minutes(1i64 << failures.clamp(0, 6)).min(time::Duration::hours(1));
                let msg = e.message(true).to_string();
                jobs::finish_run(&mut tx, run_id, finished, "failed", "{}", Some(&msg)).await?;
                jobs::release(&mut tx, job, node, run_id, Release::Failed { error: &msg, retry_after: finished + backoff }).await?;
            }
        }
        tx.commit().await?;
        let report = result?;
        Ok(JobOutcome::Ran { job: job.into(), slot: slot.into(), report })
    }

    /// Gives up every lease this node holds (on shutdown), so another server takes over at once.
    pub async fn release_leases(&self, node: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        for job in [DAILY, WATCH, DIGEST] {
            if let Some(l) = jobs::get(&mut tx, job).await?
                && l.holder.as_deref() == Some(node)
                && let Some(run) = l.run_id
            {
                jobs::release(&mut tx, job, node, run, Release::Abandoned).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The latest runs of the warning jobs, newest first.
    pub async fn job_runs(&self, limit: i64) -> Result<Vec<jobs::RunRow>> {
        let mut tx = self.db.read().await?;
        let runs = jobs::runs(&mut tx, None, limit).await?;
        tx.commit().await?;
        Ok(runs)
    }
}
