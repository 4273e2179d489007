//! The workbench (工作台): what is waiting for the user now — hazards to
//! assign, to rectify, to accept, extension requests to decide, what is
//! overdue or under listed supervision in their scope, and overdue measures.
//!
//! Each queue is a plain list filter, so the count on the workbench is the
//! count of the list it links to; the hazard's own page then shows which
//! actions this user may take.

use crate::hazards::HazardItem;
use crate::measures::MeasureItem;
use crate::{Ctx, Result, Service};
use bihuan_domain::hazard::{Breakdown, HazardLevel, HazardSort, HazardSource, HazardState};
use bihuan_domain::measure::{MeasureSort, MeasureState};
use bihuan_domain::permission::Actor;
use bihuan_domain::role::Role;
use bihuan_store::hazards::HazardFilter;
use bihuan_store::measures::MeasureFilter;

/// How many items each queue shows; the count says how many there are.
pub const QUEUE_ITEMS: i64 = 6;

/// A kind of waiting work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queue {
    /// Registered, waiting to be assigned (待交办).
    ToAssign,
    /// Assigned to the user's unit (or, for an enterprise, to the
    /// enterprise), not yet handed in (待整改).
    ToRectify,
    /// Rectification handed in, waiting for acceptance (待验收).
    ToAccept,
    /// An extension request waits for a decision (延期待审批).
    Extensions,
    /// Open, not handed in, past the deadline (已逾期).
    Overdue,
    /// Open hazards the user's unit found (an expert's or inspector's
    /// findings, followed to the end).
    Found,
    /// Open and under listed supervision (挂牌督办).
    Listed,
}

impl Queue {
    /// The queues a role works from, in the order the page shows them.
    pub fn for_role(role: Role) -> &'static [Queue] {
        match role {
            Role::Leader => &[Queue::Overdue, Queue::Listed],
            Role::Enterprise => &[Queue::ToRectify, Queue::ToAssign, Queue::ToAccept, Queue::Overdue],
            Role::Admin | Role::Office => &[Queue::ToAssign, Queue::ToAccept, Queue::Extensions, Queue::Overdue, Queue::Listed, Queue::ToRectify],
            // An expert inspects and reports; the units concerned act.
            Role::Expert => &[Queue::Found, Queue::Overdue],
            Role::Department | Role::Locality | Role::Inspector => {
                &[Queue::ToRectify, Queue::ToAssign, Queue::ToAccept, Queue::Extensions, Queue::Overdue, Queue::Found]
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Queue::ToAssign => "to_assign",
            Queue::ToRectify => "to_rectify",
            Queue::ToAccept => "to_accept",
            Queue::Extensions => "extensions",
            Queue::Overdue => "overdue",
            Queue::Found => "found",
            Queue::Listed => "listed",
        }
    }

    /// The list filter behind the queue, for this actor.
    pub fn filter(self, actor: &Actor) -> HazardFilter {
        let open = vec![HazardState::Reported, HazardState::Assigned, HazardState::Rectifying, HazardState::Submitted];
        let f = HazardFilter { limit: QUEUE_ITEMS, sort: HazardSort::Deadline, ..Default::default() };
        match self {
            // An enterprise assigns and accepts only the general hazards it found itself.
            Queue::ToAssign if actor.role == Role::Enterprise => HazardFilter { states: vec![HazardState::Reported], sort: HazardSort::Oldest, ..self_found(f) },
            Queue::ToAssign => HazardFilter { states: vec![HazardState::Reported], sort: HazardSort::Oldest, ..f },
            Queue::ToRectify => HazardFilter {
                states: vec![HazardState::Assigned, HazardState::Rectifying],
                // An enterprise rectifies everything of its own; anyone else
                // what was assigned to their unit.
                responsible_unit_id: (actor.role != Role::Enterprise).then_some(actor.unit_id),
                ..f
            },
            Queue::ToAccept if actor.role == Role::Enterprise => HazardFilter { states: vec![HazardState::Submitted], sort: HazardSort::Oldest, ..self_found(f) },
            Queue::ToAccept => HazardFilter { states: vec![HazardState::Submitted], sort: HazardSort::Oldest, ..f },
            // The assigning unit decides (the office for its whole jurisdiction).
            Queue::Extensions => HazardFilter {
                states: open,
                extension_pending: Some(true),
                assigned_by_unit_id: (!matches!(actor.role, Role::Admin | Role::Office)).then_some(actor.unit_id),
                ..f
            },
            Queue::Overdue => HazardFilter { overdue: Some(true), ..f },
            Queue::Found => HazardFilter { states: open, found_by_unit_id: Some(actor.unit_id), sort: HazardSort::Newest, ..f },
            Queue::Listed => HazardFilter { states: open, listed: Some(true), ..f },
        }
    }
}

fn self_found(f: HazardFilter) -> HazardFilter {
    HazardFilter { sources: vec![HazardSource::SelfInspection], levels: vec![HazardLevel::General], ..f }
}

/// One queue: how many, and the first few.
pub struct HazardQueue {
    pub queue: Queue,
    pub total: i64,
    pub items: Vec<HazardItem>,
}

pub struct Workbench {
    pub queues: Vec<HazardQueue>,
    /// Open hazards in the user's scope, and how many of them are major.
    pub open: i64,
    pub open_major: i64,
    pub overdue_measures: i64,
    pub measures: Vec<MeasureItem>,
    /// Measures the user's unit is responsible for and has not finished.
    pub own_measures: i64,
    pub own_measure_items: Vec<MeasureItem>,
}

impl Service {
    /// What is waiting for the user.
    pub async fn workbench(&self, ctx: &Ctx) -> Result<Workbench> {
        let Some(actor) = ctx.actor() else { return Err(bihuan_domain::DomainError::forbidden()) };
        let mut queues = Vec::new();
        for &q in Queue::for_role(actor.role) {
            let f = q.filter(actor);
            let (items, _) = self.list_hazards(ctx, &f).await?;
            let total = counted(items.len(), self.count_hazards(ctx, &f)).await?;
            queues.push(HazardQueue { queue: q, total, items });
        }
        // What has work in it comes first; the role's order otherwise.
        queues.sort_by_key(|q| q.total == 0);
        // Open hazards, and the major ones among them, in one count.
        let by_level = self.hazard_stats(ctx, &HazardFilter::default(), Some(Breakdown::Level)).await?;
        let open_major = by_level.groups.iter().find(|g| g.tally.key == HazardLevel::Major.as_str()).map_or(0, |g| g.tally.open);
        let mf = MeasureFilter { overdue: Some(true), sort: MeasureSort::Deadline, limit: QUEUE_ITEMS, ..Default::default() };
        let (measures, _) = self.list_measures(ctx, &mf).await?;
        let overdue_measures = counted(measures.len(), async { Ok(self.measure_stats(ctx, &MeasureFilter { overdue: None, ..mf.clone() }, None).await?.total.tally.overdue) }).await?;
        let own = MeasureFilter {
            unit_id: Some(actor.unit_id),
            states: vec![MeasureState::Planned, MeasureState::InProgress],
            sort: MeasureSort::Deadline,
            limit: QUEUE_ITEMS,
            ..Default::default()
        };
        let (own_measure_items, _) = self.list_measures(ctx, &own).await?;
        let own_measures = counted(own_measure_items.len(), async { Ok(self.measure_stats(ctx, &own, None).await?.total.tally.total) }).await?;
        Ok(Workbench { queues, open: by_level.total.tally.open, open_major, overdue_measures, measures, own_measures, own_measure_items })
    }

    /// How many hazards match a filter in the caller's scope.
    pub async fn count_hazards(&self, ctx: &Ctx, f: &HazardFilter) -> Result<i64> {
        Ok(self.hazard_stats(ctx, &HazardFilter { after: None, ..f.clone() }, None).await?.total.tally.total)
    }
}

/// A queue's size: a list shorter than a page is its own count; only a full
/// one needs `count` run.
async fn counted(shown: usize, count: impl std::future::Future<Output = Result<i64>>) -> Result<i64> {
    let shown = shown as i64;
    if shown < QUEUE_ITEMS { Ok(shown) } else { count.await }
}
