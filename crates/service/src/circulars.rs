//! Circulars (通报): the office composes one from chosen warnings or from
//! the overdue hazards of its jurisdiction, edits the wording, and issues
//! it. Issuing re-reads every item as of that day (items whose cause is gone
//! are dropped and reported), takes the next number of the issuer's counter
//! for the year, renders the docx once and keeps it in the file store, and
//! sends the circular to the units concerned with an inbox notice for each
//! of their users — all in one transaction after the file is written, so a
//! failed issue leaves no number used and at most an unreferenced file for
//! `bihuan files gc`. An issued circular never changes; a correction is a
//! new circular (docs/warnings-design.md §5).
//!
//! Who may read or compose one is decided by `bihuan_domain::circular`.

use crate::{Ctx, Result, Service};
use bihuan_domain::circular::{self as dc, CircularKind, CircularState, Snapshot, MAX_ITEMS};
use bihuan_domain::clock::local_date;
use bihuan_domain::hazard::{Hazard, HazardLevel, HazardSort};
use bihuan_store::hazards::HazardFilter;
use bihuan_domain::ids::{AttachmentId, UnitId};
use bihuan_domain::permission::{Actor, Decision};
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitPath;
use bihuan_domain::warning::{RuleCode, WarningState};
use bihuan_domain::{DomainError, ErrorCode, FieldError};
use bihuan_reports::circular as doc;
use bihuan_store::attachments::AttachmentRow;
use bihuan_store::circulars::{self as store, CircularFilter, CircularRow, ItemRow};
use bihuan_store::notify::NotificationRow;
use bihuan_store::{StoreError, Tx};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Longest title, prefix, addressee and cc line accepted, in characters.
const MAX_TITLE: usize = 200;
const MAX_PREFIX: usize = 40;
const MAX_LINE: usize = 500;
const MAX_TEXT: usize = 5000;

/// How to start a draft.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComposeInput {
    pub kind: CircularKind,
    /// For `warnings`: the warnings to report (at most 1,000).
    #[serde(default)]
    pub warning_ids: Vec<Uuid>,
}

/// Changes to a draft; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CircularEdit {
    pub title: Option<String>,
    pub addressee: Option<String>,
    /// Blank: the default opening, dated the day of issue.
    pub opening: Option<String>,
    /// 工作要求, one per entry; blank entries are dropped.
    pub requirements: Option<Vec<String>>,
    /// 抄送; blank: none.
    pub cc: Option<String>,
    /// 发文字号 before 〔year〕, e.g. 南安办通.
    pub number_prefix: Option<String>,
    /// The version read; a draft changed since is refused.
    pub version: Option<i64>,
}

/// A circular as lists and pages show it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CircularView {
    pub id: Uuid,
    pub state: CircularState,
    pub kind: CircularKind,
    pub issuer_unit_id: Uuid,
    /// The issuing office's name.
    pub issuer: String,
    pub title: String,
    pub number_prefix: String,
    /// 发文字号, once issued.
    pub document_number: Option<String>,
    pub addressee: String,
    pub opening: String,
    pub requirements: Vec<String>,
    pub cc: Option<String>,
    /// The day the items were counted.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub as_of: Option<Date>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub issued_on: Option<Date>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub issued_at: Option<OffsetDateTime>,
    /// Number of items.
    pub items: i64,
    /// Recipient units that have read it, and all of them (issued; for those who compose).
    pub read: Option<i64>,
    pub recipients: Option<i64>,
    pub version: i64,
}

/// One item with the snapshot it reports.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemView {
    pub seq: i64,
    pub hazard_id: Option<Uuid>,
    pub warning_id: Option<Uuid>,
    /// The unit concerned.
    pub unit_id: Uuid,
    pub snapshot: Snapshot,
}

/// A unit the circular was sent to.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipientView {
    pub unit_id: Uuid,
    pub unit_name: String,
    /// When a user of the unit first read it (shown to those who compose).
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub read_at: Option<OffsetDateTime>,
}

/// A circular with its items and recipients.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CircularDetail {
    pub circular: CircularView,
    pub items: Vec<ItemView>,
    /// Issued: the units it was sent to. Draft: the units it would go to.
    pub recipients: Vec<RecipientView>,
    /// The caller may edit, issue or discard it (a draft, in their jurisdiction).
    pub may_edit: bool,
}

/// What issuing did.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssueReport {
    pub circular: CircularView,
    /// Items left out because their cause is gone (rectified, handed in, resolved), in words.
    pub dropped: Vec<String>,
    /// Units it was sent to.
    pub recipients: i64,
    /// Inbox notices written.
    pub notified: i64,
}

fn not_found() -> DomainError {
    DomainError::not_found("通报", "Circular")
}

fn decide(d: Decision) -> Result<()> {
    match d {
        Decision::Allow => Ok(()),
        Decision::Forbidden => Err(DomainError::forbidden()),
        Decision::NotFound => Err(not_found()),
    }
}

fn corrupt(id: Uuid, what: &str) -> DomainError {
    crate::internal(format!("circular {id} has a bad {what}"))
}

fn kind_of(r: &CircularRow) -> Result<CircularKind> {
    CircularKind::parse(&r.kind).ok_or_else(|| corrupt(r.id, "kind"))
}

fn state_of(r: &CircularRow) -> Result<CircularState> {
    CircularState::parse(&r.state).ok_or_else(|| corrupt(r.id, "state"))
}

fn requirements_of(r: &CircularRow) -> Vec<String> {
    serde_json::from_str(&r.requirements_json).unwrap_or_default()
}

fn snapshot_of(i: &ItemRow) -> Option<Snapshot> {
    serde_json::from_str(&i.snapshot_json).ok()
}

fn issued_already() -> DomainError {
    DomainError::conflict(
        "该通报已印发，不能再修改；如需更正，请另发一份通报",
        "This circular has been issued and cannot change; to correct it, issue a new circular",
    )
}

/// The paths of a unit and of every unit above it, root first.
fn ancestors(p: &UnitPath) -> Vec<UnitPath> {
    let mut out: Vec<UnitPath> = Vec::new();
    for id in p.ids() {
        let next = match out.last() {
            None => UnitPath::root(id),
            Some(up) => up.child(id),
        };
        out.push(next);
    }
    out
}

/// Whether the snapshot's item still stands as of `today`.
fn hazard_snapshot(h: &Hazard, today: Date) -> Option<(Uuid, Snapshot)> {
    if !h.is_overdue(today) {
        return None;
    }
    let responsible = h.responsible_unit.as_ref().unwrap_or(&h.unit);
    Some((
        responsible.id.0,
        Snapshot::Hazard {
            code: h.code.clone(),
            name: h.name.clone(),
            unit: h.unit.name.clone(),
            responsible_unit: responsible.name.clone(),
            deadline: h.deadline?,
            days_overdue: u32::try_from(h.days_overdue(today)).unwrap_or(u32::MAX),
            major: h.level == HazardLevel::Major,
            listed: h.is_listed(),
        },
    ))
}

fn warning_snapshot(w: &bihuan_store::warnings::WarningRow, unit_name: &str) -> Option<Snapshot> {
    WarningState::parse(&w.state).filter(|s| s.is_active())?;
    Some(Snapshot::Warning {
        rule: w.rule_code.clone(),
        label: w.label.clone(),
        unit: unit_name.to_string(),
        level: w.level.clone(),
        first_seen: local_date(w.first_seen_at),
    })
}

/// An item in words, for the list of dropped ones.
pub fn item_words(s: &Snapshot, english: bool) -> String {
    match s {
        Snapshot::Hazard { code, name, .. } => format!("{code} {name}"),
        Snapshot::Warning { rule, label, .. } => {
            let rule = RuleCode::parse(rule).map(|r| r.label(english)).unwrap_or(rule.as_str());
            if english { format!("{rule}: {label}") } else { format!("{rule}：{label}") }
        }
    }
}

fn report_level(level: &str) -> doc::WarningLevel {
    match level {
        "red" => doc::WarningLevel::Red,
        "orange" => doc::WarningLevel::Orange,
        "yellow" => doc::WarningLevel::Yellow,
        _ => doc::WarningLevel::Blue,
    }
}

/// The items of the document, from the snapshots (those of the other kind are left out).
fn report_items(kind: CircularKind, snaps: &[Snapshot]) -> doc::CircularItems {
    match kind {
        CircularKind::Overdue => doc::CircularItems::Overdue(
            snaps
                .iter()
                .filter_map(|s| match s {
                    Snapshot::Hazard { code, name, unit, responsible_unit, deadline, days_overdue, major, listed } => Some(doc::OverdueItem {
                        code: code.clone(),
                        name: name.clone(),
                        unit: unit.clone(),
                        responsible_unit: responsible_unit.clone(),
                        deadline: *deadline,
                        days_overdue: *days_overdue,
                        major: *major,
                        listed: *listed,
                        remark: None,
                    }),
                    Snapshot::Warning { .. } => None,
                })
                .collect(),
        ),
        CircularKind::Warnings => doc::CircularItems::Warnings(
            snaps
                .iter()
                .filter_map(|s| match s {
                    Snapshot::Warning { rule, label, unit, level, first_seen } => Some(doc::WarningItem {
                        rule: RuleCode::parse(rule).map(|r| r.label_zh().to_string()).unwrap_or_else(|| rule.clone()),
                        subject: label.clone(),
                        unit: unit.clone(),
                        level: report_level(level),
                        first_seen: *first_seen,
                    }),
                    Snapshot::Hazard { .. } => None,
                })
                .collect(),
        ),
    }
}

fn report_kind(k: CircularKind) -> doc::CircularKind {
    match k {
        CircularKind::Overdue => doc::CircularKind::Overdue,
        CircularKind::Warnings => doc::CircularKind::Warnings,
    }
}

/// The document of a circular: its wording, items and dates.
fn document(r: &CircularRow, kind: CircularKind, issuer: &str, snaps: &[Snapshot], as_of: Date, issued_on: Date) -> doc::Circular {
    doc::Circular {
        issuer: issuer.to_string(),
        document_number: r.document_number.clone(),
        title: r.title.clone(),
        addressee: r.addressee.clone(),
        as_of,
        opening: Some(r.opening.clone()),
        items: report_items(kind, snaps),
        requirements: requirements_of(r),
        cc: r.cc.clone(),
        issued_on,
        printer: issuer.to_string(),
    }
}

fn render(c: &doc::Circular) -> Result<Vec<u8>> {
    doc::render_circular(c).map_err(|e| {
        tracing::error!(error = %e, "circular docx rendering failed");
        DomainError::new(ErrorCode::Internal, e.zh(), e.en())
    })
}

fn text_field(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize, required: Option<(&str, &str)>) -> String {
    let v = value.trim().to_string();
    if v.is_empty()
        && let Some((zh, en)) = required
    {
        errors.push(FieldError::new(field, zh, en));
    }
    if v.chars().count() > max {
        errors.push(FieldError::new(field, format!("不能超过 {max} 个字"), format!("At most {max} characters")));
    }
    v
}

/// Items in the order of the attachment, with the units they concern.
struct Composed {
    rows: Vec<ItemRow>,
    snaps: Vec<Snapshot>,
}

impl Composed {
    fn new(items: Vec<(Option<Uuid>, Option<Uuid>, Uuid, Snapshot)>) -> Result<Composed> {
        let mut rows = Vec::with_capacity(items.len());
        let mut snaps = Vec::with_capacity(items.len());
        for (n, (warning_id, hazard_id, unit_id, snap)) in items.into_iter().enumerate() {
            rows.push(ItemRow {
                seq: i64::try_from(n).unwrap_or(i64::MAX).saturating_add(1),
                warning_id,
                hazard_id,
                measure_id: None,
                unit_id,
                snapshot_json: serde_json::to_string(&snap).map_err(crate::internal)?,
                remark: None,
            });
            snaps.push(snap);
        }
        Ok(Composed { rows, snaps })
    }

    /// The units concerned, each once, in the order first named.
    fn units(&self) -> Vec<Uuid> {
        let mut out: Vec<Uuid> = Vec::new();
        for r in &self.rows {
            if !out.contains(&r.unit_id) {
                out.push(r.unit_id);
            }
        }
        out
    }
}

fn too_many() -> DomainError {
    DomainError::field(
        "kind",
        format!("一份通报最多列 {MAX_ITEMS} 项，当前超出；请缩小范围（例如按村居或领域分别通报）"),
        format!("A circular lists at most {MAX_ITEMS} items and this selection has more; narrow it (for example one circular per village or area)"),
    )
}

impl Service {
    /// The actor who may start a circular in their own jurisdiction: the
    /// office and administrators; anyone else is refused.
    fn composer(ctx: &Ctx) -> Result<&Actor> {
        let a = ctx.actor().ok_or_else(|| {
            DomainError::conflict("通报须由安委办工作人员以本人账号编发", "A circular is composed by a safety office user under their own account")
        })?;
        match dc::may_compose(a, &a.jurisdiction) {
            Decision::Allow => Ok(a),
            _ => Err(DomainError::forbidden()),
        }
    }

    /// The circular if the caller may read it, and whether the caller's
    /// unit is one it was sent to.
    async fn readable_circular(&self, tx: &mut Tx, ctx: &Ctx, id: Uuid) -> Result<(CircularRow, bool)> {
        let r = store::get(tx, id).await?.ok_or_else(not_found)?;
        let Some(a) = ctx.actor() else { return Ok((r, false)) };
        let recipient = r.state == CircularState::Issued.as_str() && store::is_recipient(tx, id, a.unit_id.0).await?;
        decide(dc::may_read(a, &UnitPath::from_stored(r.jurisdiction_path.clone()), recipient))?;
        Ok((r, recipient))
    }

    fn may_compose(ctx: &Ctx, r: &CircularRow) -> bool {
        ctx.actor().is_none_or(|a| dc::may_compose(a, &UnitPath::from_stored(r.jurisdiction_path.clone())) == Decision::Allow)
    }

    /// The draft, if the caller may change it.
    async fn editable_circular(&self, tx: &mut Tx, ctx: &Ctx, id: Uuid) -> Result<CircularRow> {
        let (r, _) = self.readable_circular(tx, ctx, id).await?;
        if let Some(a) = ctx.actor() {
            decide(dc::may_compose(a, &UnitPath::from_stored(r.jurisdiction_path.clone())))?;
        }
        if r.state != CircularState::Draft.as_str() {
            return Err(issued_already());
        }
        Ok(r)
    }

    async fn views(&self, tx: &mut Tx, ctx: &Ctx, rows: &[CircularRow]) -> Result<Vec<CircularView>> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let issuers: Vec<UnitId> = rows.iter().map(|r| UnitId(r.issuer_unit_id)).collect();
        let names = bihuan_store::hazards::unit_names(tx, &issuers).await?;
        let counts: HashMap<Uuid, i64> = store::item_counts(tx, &ids).await?.into_iter().collect();
        let composed: Vec<Uuid> = rows.iter().filter(|r| Self::may_compose(ctx, r)).map(|r| r.id).collect();
        let reads: HashMap<Uuid, (i64, i64)> = store::read_counts(tx, &composed).await?.into_iter().map(|(c, r, t)| (c, (r, t))).collect();
        rows.iter()
            .map(|r| {
                let issued = r.state == CircularState::Issued.as_str();
                let read = if issued && composed.contains(&r.id) { Some(reads.get(&r.id).copied().unwrap_or((0, 0))) } else { None };
                Ok(CircularView {
                    id: r.id,
                    state: state_of(r)?,
                    kind: kind_of(r)?,
                    issuer_unit_id: r.issuer_unit_id,
                    issuer: names.get(&UnitId(r.issuer_unit_id)).map(|u| u.name.clone()).unwrap_or_default(),
                    title: r.title.clone(),
                    number_prefix: r.number_prefix.clone(),
                    document_number: r.document_number.clone(),
                    addressee: r.addressee.clone(),
                    opening: r.opening.clone(),
                    requirements: requirements_of(r),
                    cc: r.cc.clone(),
                    as_of: r.as_of,
                    issued_on: r.issued_on,
                    created_at: r.created_at,
                    issued_at: r.issued_at,
                    items: counts.get(&r.id).copied().unwrap_or(0),
                    read: read.map(|x| x.0),
                    recipients: read.map(|x| x.1),
                    version: r.version,
                })
            })
            .collect()
    }

    async fn view(&self, tx: &mut Tx, ctx: &Ctx, r: &CircularRow) -> Result<CircularView> {
        self.views(tx, ctx, std::slice::from_ref(r)).await?.into_iter().next().ok_or_else(not_found)
    }

    /// The overdue hazards of the caller's jurisdiction, oldest deadline first.
    async fn overdue_items(&self, tx: &mut Tx, ctx: &Ctx, a: &Actor, today: Date) -> Result<Vec<(Option<Uuid>, Option<Uuid>, Uuid, Snapshot)>> {
        let f = HazardFilter {
            within: Some(a.jurisdiction.clone()),
            overdue: Some(true),
            sort: HazardSort::Deadline,
            limit: i64::try_from(MAX_ITEMS).unwrap_or(1000),
            ..HazardFilter::default()
        };
        let page = bihuan_store::hazards::list(tx, &crate::hazards::hazard_scope(ctx), &f, today).await?;
        if page.next.is_some() {
            return Err(too_many());
        }
        Ok(page.items.iter().filter_map(|h| hazard_snapshot(h, today).map(|(u, s)| (None, Some(h.id.0), u, s))).collect())
    }

    /// The chosen warnings that are still open, most serious first. A
    /// warning the caller cannot see is not found.
    async fn warning_items(&self, tx: &mut Tx, a: &Actor, ids: &[Uuid]) -> Result<Vec<(Option<Uuid>, Option<Uuid>, Uuid, Snapshot)>> {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Err(DomainError::field("warning_ids", "请先勾选要通报的预警", "Tick the warnings to report first"));
        }
        if ids.len() > MAX_ITEMS {
            return Err(too_many());
        }
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            let w = bihuan_store::warnings::get(tx, id).await?.ok_or_else(|| DomainError::not_found("预警", "Warning"))?;
            if !a.sees(&UnitPath::from_stored(w.unit_path.clone())) {
                return Err(DomainError::not_found("预警", "Warning"));
            }
            rows.push(w);
        }
        let units: Vec<UnitId> = rows.iter().map(|w| UnitId(w.unit_id)).collect();
        let names = bihuan_store::hazards::unit_names(tx, &units).await?;
        rows.sort_by_key(|x| (x.level_rank, x.first_seen_at, x.id));
        let items: Vec<_> = rows
            .iter()
            .filter_map(|w| {
                let name = names.get(&UnitId(w.unit_id)).map(|u| u.name.as_str()).unwrap_or_default();
                warning_snapshot(w, name).map(|s| (Some(w.id), w.hazard_id, w.unit_id, s))
            })
            .collect();
        if items.is_empty() {
            return Err(DomainError::conflict("所选预警均已解除，没有需要通报的事项", "Every chosen warning has been resolved; there is nothing to report"));
        }
        Ok(items)
    }

    /// Starts a draft from chosen warnings or from the overdue hazards of
    /// the caller's jurisdiction, with the default wording.
    pub async fn compose_circular(&self, ctx: &Ctx, input: &ComposeInput) -> Result<CircularView> {
        let a = Self::composer(ctx)?;
        let today = self.today();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let items = match input.kind {
            CircularKind::Overdue => self.overdue_items(&mut tx, ctx, a, today).await?,
            CircularKind::Warnings => self.warning_items(&mut tx, a, &input.warning_ids).await?,
        };
        if items.is_empty() {
            return Err(DomainError::field(
                "kind",
                "辖区内目前没有逾期未整改的隐患，无需通报",
                "No hazard in your jurisdiction is overdue; there is nothing to report",
            ));
        }
        let composed = Composed::new(items)?;
        let issuer = bihuan_store::units::get(&mut tx, a.unit_id).await?.ok_or_else(|| DomainError::not_found("单位", "Unit"))?;
        let gov = match a.jurisdiction.ids().last() {
            Some(g) => bihuan_store::units::get(&mut tx, *g).await?.map(|u| u.name).unwrap_or_default(),
            None => String::new(),
        };
        let prefix = match store::last_prefix(&mut tx, issuer.id.0).await? {
            Some(p) => p,
            None => format!("{}通", issuer.short_name.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| issuer.name.clone())),
        };
        let kind = report_kind(input.kind);
        let units = report_items(input.kind, &composed.snaps).units();
        let row = CircularRow {
            id: Uuid::now_v7(),
            state: CircularState::Draft.as_str().into(),
            kind: input.kind.as_str().into(),
            issuer_unit_id: issuer.id.0,
            jurisdiction_path: a.jurisdiction.as_str().to_string(),
            title: doc::default_title(kind, &gov),
            number_prefix: prefix,
            year: None,
            seq: None,
            document_number: None,
            addressee: doc::default_addressee(&units),
            opening: doc::default_opening(kind, today),
            requirements_json: serde_json::to_string(&doc::default_requirements(kind)).map_err(crate::internal)?,
            cc: Some(doc::DEFAULT_CC.to_string()),
            as_of: Some(today),
            issued_on: None,
            attachment_id: None,
            created_by: Some(a.user_id.0),
            created_at: now,
            issued_by: None,
            issued_at: None,
            updated_at: now,
            version: 1,
        };
        store::insert(&mut tx, &row).await?;
        store::replace_items(&mut tx, row.id, &composed.rows).await?;
        let summary = serde_json::json!({ "kind": row.kind, "title": row.title, "items": composed.rows.len() });
        self.audit(&mut tx, ctx, "circular.compose", "circular", Some(row.id.to_string()), crate::NONE, Some(&summary)).await?;
        let view = self.view(&mut tx, ctx, &row).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// How many hazards of the caller's jurisdiction are overdue today, up
    /// to [`MAX_ITEMS`] (and whether there are more), for the compose page.
    pub async fn overdue_for_circular(&self, ctx: &Ctx) -> Result<(usize, bool)> {
        let a = Self::composer(ctx)?;
        let mut tx = self.db.read().await?;
        let result = match self.overdue_items(&mut tx, ctx, a, self.today()).await {
            Ok(items) => (items.len(), false),
            Err(e) if e.code == ErrorCode::Validation => (MAX_ITEMS, true),
            Err(e) => return Err(e),
        };
        tx.commit().await?;
        Ok(result)
    }

    /// Circulars the caller may read, newest first: those of their
    /// jurisdiction (not for enterprises), those sent to their unit, and for
    /// the office the drafts of its jurisdiction.
    pub async fn list_circulars(&self, ctx: &Ctx, before: Option<(OffsetDateTime, Uuid)>, limit: i64) -> Result<Vec<CircularView>> {
        let f = match ctx.actor() {
            None => CircularFilter::default(),
            Some(a) if a.role == Role::Admin => CircularFilter::default(),
            Some(a) => {
                let up: Vec<UnitPath> = ancestors(&a.unit_path);
                let issued_in = if a.role == Role::Enterprise { Vec::new() } else { up.iter().map(|p| p.as_str().to_string()).collect() };
                let drafts_in = if a.role == Role::Office {
                    up.iter().filter(|p| p.is_within(&a.jurisdiction)).map(|p| p.as_str().to_string()).collect()
                } else {
                    Vec::new()
                };
                CircularFilter { issued_in: Some(issued_in), drafts_in: Some(drafts_in), recipient: Some(a.unit_id.0) }
            }
        };
        let mut tx = self.db.read().await?;
        let rows = store::list(&mut tx, &f, before, limit.clamp(1, 200)).await?;
        let views = self.views(&mut tx, ctx, &rows).await?;
        tx.commit().await?;
        Ok(views)
    }

    /// Notes that a user of a recipient unit has read the circular (the first time only).
    async fn note_read(&self, ctx: &Ctx, r: &CircularRow, recipient: bool, already: Option<bool>) -> Result<()> {
        let (true, Some(a)) = (recipient, ctx.actor()) else { return Ok(()) };
        if already == Some(true) {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        store::mark_read(&mut tx, r.id, a.unit_id.0, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A circular with its items and recipients. The first read by a user
    /// of a unit it was sent to is noted.
    pub async fn circular_detail(&self, ctx: &Ctx, id: Uuid) -> Result<CircularDetail> {
        let mut tx = self.db.read().await?;
        let (r, recipient) = self.readable_circular(&mut tx, ctx, id).await?;
        let view = self.view(&mut tx, ctx, &r).await?;
        let items = store::items(&mut tx, id).await?;
        let may_edit = Self::may_compose(ctx, &r) && view.state == CircularState::Draft;
        let sees_reads = Self::may_compose(ctx, &r);
        let sent: Vec<(Uuid, Option<OffsetDateTime>)> = if view.state == CircularState::Issued {
            store::recipients(&mut tx, id).await?
        } else {
            let mut units: Vec<Uuid> = Vec::new();
            for i in &items {
                if !units.contains(&i.unit_id) {
                    units.push(i.unit_id);
                }
            }
            units.into_iter().map(|u| (u, None)).collect()
        };
        let names = bihuan_store::hazards::unit_names(&mut tx, &sent.iter().map(|(u, _)| UnitId(*u)).collect::<Vec<_>>()).await?;
        tx.commit().await?;
        let own_read = ctx.actor().and_then(|a| sent.iter().find(|(u, _)| *u == a.unit_id.0)).map(|(_, at)| at.is_some());
        self.note_read(ctx, &r, recipient, own_read).await?;
        let mut recipients: Vec<RecipientView> = sent
            .into_iter()
            .map(|(u, at)| RecipientView {
                unit_id: u,
                unit_name: names.get(&UnitId(u)).map(|n| n.name.clone()).unwrap_or_default(),
                read_at: if sees_reads { at } else { None },
            })
            .collect();
        recipients.sort_by(|a, b| a.unit_name.cmp(&b.unit_name));
        let items = items
            .iter()
            .filter_map(|i| {
                snapshot_of(i).map(|snapshot| ItemView { seq: i.seq, hazard_id: i.hazard_id, warning_id: i.warning_id, unit_id: i.unit_id, snapshot })
            })
            .collect();
        Ok(CircularDetail { circular: view, items, recipients, may_edit })
    }

    /// Changes the wording of a draft.
    pub async fn edit_circular(&self, ctx: &Ctx, id: Uuid, e: &CircularEdit) -> Result<CircularView> {
        let mut tx = self.db.begin().await?;
        let old = self.editable_circular(&mut tx, ctx, id).await?;
        if e.version.is_some_and(|v| v != old.version) {
            return Err(StoreError::Stale.into());
        }
        let mut errors = Vec::new();
        let mut new = old.clone();
        if let Some(t) = &e.title {
            new.title = text_field(&mut errors, "title", t, MAX_TITLE, Some(("请填写标题", "Enter the title")));
        }
        if let Some(p) = &e.number_prefix {
            new.number_prefix = text_field(&mut errors, "number_prefix", p, MAX_PREFIX, Some(("请填写文号前缀，如“南安办通”", "Enter the number prefix, e.g. 南安办通")));
            if new.number_prefix.chars().any(|c| matches!(c, '〔' | '〕' | '[' | ']')) {
                errors.push(FieldError::new("number_prefix", "文号前缀不含年份和括号，编号在印发时生成", "The prefix has no year or brackets; the number is given at issue"));
            }
        }
        if let Some(t) = &e.addressee {
            new.addressee = text_field(&mut errors, "addressee", t, MAX_LINE, Some(("请填写主送单位", "Enter the addressees")));
        }
        if let Some(t) = &e.opening {
            new.opening = text_field(&mut errors, "opening", t, MAX_TEXT, None);
            if new.opening.is_empty() {
                new.opening = doc::default_opening(report_kind(kind_of(&old)?), old.as_of.unwrap_or_else(|| self.today()));
            }
        }
        if let Some(reqs) = &e.requirements {
            let kept: Vec<String> = reqs.iter().map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect();
            if kept.iter().any(|r| r.chars().count() > MAX_TEXT) {
                errors.push(FieldError::new("requirements", format!("每条工作要求不能超过 {MAX_TEXT} 个字"), format!("Each requirement has at most {MAX_TEXT} characters")));
            }
            new.requirements_json = serde_json::to_string(&kept).map_err(crate::internal)?;
        }
        if let Some(cc) = &e.cc {
            let v = text_field(&mut errors, "cc", cc, MAX_LINE, None);
            new.cc = Some(v).filter(|v| !v.is_empty());
        }
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        new.version = old.version + 1;
        new.updated_at = self.now();
        store::update_draft(&mut tx, &new, old.version).await?;
        let show = |r: &CircularRow| {
            serde_json::json!({ "title": r.title, "number_prefix": r.number_prefix, "addressee": r.addressee, "opening": r.opening,
                "requirements": requirements_of(r), "cc": r.cc })
        };
        self.audit(&mut tx, ctx, "circular.update", "circular", Some(id.to_string()), Some(&show(&old)), Some(&show(&new))).await?;
        let view = self.view(&mut tx, ctx, &new).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Discards a draft (its items go with it). Numbers are given at issue,
    /// so this leaves no gap.
    pub async fn delete_circular(&self, ctx: &Ctx, id: Uuid) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let old = self.editable_circular(&mut tx, ctx, id).await?;
        if !store::delete_draft(&mut tx, id).await? {
            return Err(issued_already());
        }
        let summary = serde_json::json!({ "kind": old.kind, "title": old.title });
        self.audit(&mut tx, ctx, "circular.delete", "circular", Some(id.to_string()), Some(&summary), crate::NONE).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The items of a draft as they stand today: those still standing with
    /// fresh snapshots, and the ones whose cause is gone.
    async fn refresh_items(&self, tx: &mut Tx, kind: CircularKind, items: &[ItemRow], today: Date) -> Result<(Composed, Vec<Snapshot>)> {
        let mut kept = Vec::new();
        let mut dropped = Vec::new();
        match kind {
            CircularKind::Overdue => {
                let codes: Vec<String> = items
                    .iter()
                    .filter_map(|i| match snapshot_of(i) {
                        Some(Snapshot::Hazard { code, .. }) => Some(code),
                        _ => None,
                    })
                    .collect();
                let hazards: HashMap<String, Hazard> =
                    bihuan_store::hazards::get_by_codes(tx, &codes).await?.into_iter().map(|h| (h.code.clone(), h)).collect();
                for i in items {
                    let Some(old) = snapshot_of(i) else { continue };
                    let Snapshot::Hazard { code, .. } = &old else { continue };
                    match hazards.get(code).and_then(|h| hazard_snapshot(h, today).map(|(u, s)| (h.id.0, u, s))) {
                        Some((hid, unit, snap)) => kept.push((None, Some(hid), unit, snap)),
                        None => dropped.push(old),
                    }
                }
            }
            CircularKind::Warnings => {
                for i in items {
                    let Some(old) = snapshot_of(i) else { continue };
                    let (Some(wid), Snapshot::Warning { unit, .. }) = (i.warning_id, &old) else { continue };
                    let fresh = bihuan_store::warnings::get(tx, wid).await?.and_then(|w| warning_snapshot(&w, unit).map(|s| (w.hazard_id, w.unit_id, s)));
                    match fresh {
                        Some((hid, unit_id, snap)) => kept.push((Some(wid), hid, unit_id, snap)),
                        None => dropped.push(old),
                    }
                }
            }
        }
        Ok((Composed::new(kept)?, dropped))
    }

    /// Issues a draft: see the module documentation. `expected_version`, when
    /// given, must be the version the caller read.
    pub async fn issue_circular(&self, ctx: &Ctx, id: Uuid, expected_version: Option<i64>) -> Result<IssueReport> {
        let today = self.today();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        self.editable_circular(&mut tx, ctx, id).await?;
        // Queue behind anyone issuing the same draft, then read it afresh.
        if !store::lock_draft(&mut tx, id).await? {
            return Err(issued_already());
        }
        let old = store::get(&mut tx, id).await?.ok_or_else(not_found)?;
        if expected_version.is_some_and(|v| v != old.version) {
            return Err(StoreError::Stale.into());
        }
        let kind = kind_of(&old)?;
        let items = store::items(&mut tx, id).await?;
        let (kept, dropped) = self.refresh_items(&mut tx, kind, &items, today).await?;
        let dropped_words: Vec<String> = dropped.iter().map(|s| item_words(s, false)).collect();
        if kept.rows.is_empty() {
            return Err(DomainError::conflict(
                format!("所列事项均已整改或解除（{}），无需印发；可删除此草稿", dropped_words.join("；")),
                format!("Every item has been dealt with since ({}); there is nothing to issue, and the draft may be deleted", dropped_words.join("; ")),
            ));
        }

        let year = today.year();
        let seq = bihuan_store::hazards::next_number(&mut tx, &format!("circular/{}/{year}", old.issuer_unit_id)).await?;
        let number = dc::document_number(&old.number_prefix, year, seq);
        let issuer = bihuan_store::units::get(&mut tx, UnitId(old.issuer_unit_id)).await?.map(|u| u.name).unwrap_or_default();
        let mut new = old.clone();
        // The default opening is dated the day it is counted: the day of issue.
        let composed_on = old.as_of.unwrap_or_else(|| local_date(old.created_at));
        if old.opening == doc::default_opening(report_kind(kind), composed_on) || old.opening.trim().is_empty() {
            new.opening = doc::default_opening(report_kind(kind), today);
        }
        new.state = CircularState::Issued.as_str().into();
        new.year = Some(i64::from(year));
        new.seq = Some(seq);
        new.document_number = Some(number.clone());
        new.as_of = Some(today);
        new.issued_on = Some(today);
        new.issued_by = ctx.actor().map(|a| a.user_id.0);
        new.issued_at = Some(now);
        new.updated_at = now;
        new.version = old.version + 1;

        // Rendered once; the kept bytes are the document as issued.
        let c = document(&new, kind, &issuer, &kept.snaps, today, today);
        let svc = self.clone();
        let name = format!("{number}.docx");
        let stored = tokio::task::spawn_blocking(move || {
            let bytes = render(&c)?;
            svc.file_store()?.put(&bytes, Some(&name)).map_err(|e| DomainError::new(ErrorCode::Internal, e.zh(), e.en()))
        })
        .await
        .map_err(crate::internal)??;
        let uploaded_by = self.actor_display_name(&mut tx, ctx).await?;
        let attachment = AttachmentRow {
            id: AttachmentId::new(),
            sha256: stored.sha256.clone(),
            media_type: stored.media_type.to_string(),
            kind: crate::attachments::kind_code(stored.kind).to_string(),
            extension: stored.extension.to_string(),
            size: i64::try_from(stored.size).unwrap_or(i64::MAX),
            file_name: crate::attachments::sanitize_file_name(&format!("{number}.docx"), "docx"),
            has_thumbnail: false,
            width: None,
            height: None,
            orientation: None,
            taken_at: None,
            taken_offset: None,
            gps_latitude: None,
            gps_longitude: None,
            gps_altitude: None,
            uploaded_by_user_id: ctx.actor().map(|a| a.user_id),
            uploaded_by,
            uploaded_at: now,
        };
        bihuan_store::attachments::insert(&mut tx, &attachment).await?;
        new.attachment_id = Some(attachment.id.0);
        if let Err(e) = store::update_draft(&mut tx, &new, old.version).await {
            return Err(match e {
                StoreError::Conflict(c) if c.contains("document_number") => DomainError::field(
                    "number_prefix",
                    format!("文号“{number}”已被其他通报使用，请修改文号前缀后再印发"),
                    format!("The number {number} is used by another circular; change the prefix and issue again"),
                ),
                StoreError::Stale => issued_already(),
                other => other.into(),
            });
        }
        store::replace_items(&mut tx, id, &kept.rows).await?;
        let units = kept.units();
        store::insert_recipients(&mut tx, id, &units).await?;

        let mut per_unit: BTreeMap<Uuid, usize> = BTreeMap::new();
        for r in &kept.rows {
            *per_unit.entry(r.unit_id).or_default() += 1;
        }
        let mut notified = 0i64;
        for (user, unit, language) in store::active_users_of(&mut tx, &units).await? {
            let n = per_unit.get(&unit).copied().unwrap_or(0);
            let english = language.starts_with("en");
            let (title, body) = if english {
                (format!("[Circular] {number} {}", new.title), format!("{issuer} issued a circular naming {n} item(s) of your unit; read it and act on its requirements."))
            } else {
                (format!("【通报】{number} {}", new.title), format!("{issuer}印发通报，涉及你单位 {n} 项，请查阅并按要求落实。"))
            };
            let row = NotificationRow {
                id: Uuid::now_v7(),
                user_id: user,
                dedupe_key: format!("circ:{id}:{user}"),
                kind: "circular".into(),
                level: None,
                title,
                body,
                link: format!("/circulars/{id}"),
                warning_id: None,
                circular_id: Some(id),
                created_at: now,
                read_at: None,
            };
            if bihuan_store::notify::insert(&mut tx, &row).await? {
                notified += 1;
            }
        }
        // The recipient units' own robots and webhooks hear of it at once, each with its own count.
        let mut sent_to_channels = 0i64;
        for route in self.routes(&mut tx).await? {
            let Some(unit) = route.row.unit_id.filter(|u| units.contains(u) && route.row.scope == "own") else { continue };
            let n = per_unit.get(&unit).copied().unwrap_or(0);
            let msg = bihuan_notify::Message {
                title: format!("通报 {number}"),
                level: None,
                lines: vec![new.title.clone(), format!("{issuer}印发通报，涉及你单位 {n} 项，请查阅并按要求落实。")],
                link: Some(self.link(&format!("/circulars/{id}"))),
                event: "circular.issued".into(),
                data: serde_json::json!({ "circular": { "id": id, "number": number, "title": new.title, "items_for_unit": n } }),
            };
            let mut d = self.delivery_for(&route.row, format!("circ:{id}:{}", route.row.id), "circular", None, &msg, now);
            d.circular_id = Some(id);
            if bihuan_store::channels::insert_delivery(&mut tx, &d).await? {
                sent_to_channels += 1;
            }
        }
        let after = serde_json::json!({
            "channels": sent_to_channels,
            "document_number": number, "title": new.title, "items": kept.rows.len(), "dropped": dropped_words,
            "recipients": units.len(), "docx_sha256": stored.sha256,
        });
        self.audit(&mut tx, ctx, "circular.issue", "circular", Some(id.to_string()), Some(&serde_json::json!({ "state": "draft" })), Some(&after))
            .await?;
        let view = self.view(&mut tx, ctx, &new).await?;
        tx.commit().await?;
        Ok(IssueReport { circular: view, dropped: dropped_words, recipients: i64::try_from(units.len()).unwrap_or(i64::MAX), notified })
    }

    /// The circular as a Word file (its name and bytes): for an issued one
    /// the document kept at issue, for a draft a preview rendered now,
    /// without a number. A first read by a recipient is noted.
    pub async fn circular_docx(&self, ctx: &Ctx, id: Uuid) -> Result<(String, Vec<u8>)> {
        let mut tx = self.db.read().await?;
        let (r, recipient) = self.readable_circular(&mut tx, ctx, id).await?;
        let kind = kind_of(&r)?;
        let kept = match r.attachment_id {
            Some(a) if r.state == CircularState::Issued.as_str() => {
                Some(bihuan_store::attachments::get(&mut tx, AttachmentId(a)).await?.ok_or_else(|| corrupt(id, "attachment"))?)
            }
            _ => None,
        };
        let preview = match &kept {
            Some(_) => None,
            None => {
                let snaps: Vec<Snapshot> = store::items(&mut tx, id).await?.iter().filter_map(snapshot_of).collect();
                let issuer = bihuan_store::units::get(&mut tx, UnitId(r.issuer_unit_id)).await?.map(|u| u.name).unwrap_or_default();
                let as_of = r.as_of.unwrap_or_else(|| self.today());
                Some(document(&r, kind, &issuer, &snaps, as_of, self.today()))
            }
        };
        tx.commit().await?;
        let svc = self.clone();
        let bytes = tokio::task::spawn_blocking(move || match (kept, preview) {
            (Some(a), _) => {
                let mut f = svc.file_store()?.open_file(&a.sha256).map_err(|e| {
                    tracing::error!(file = %a.sha256, error = %e, "an issued circular's document is missing from the store");
                    DomainError::new(ErrorCode::Internal, e.zh(), e.en())
                })?;
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut f, &mut out).map_err(crate::internal)?;
                Ok(out)
            }
            (None, Some(c)) => render(&c),
            (None, None) => Err(corrupt(id, "document")),
        })
        .await
        .map_err(crate::internal)??;
        self.note_read(ctx, &r, recipient, None).await?;
        let name = match &r.document_number {
            Some(n) => format!("{n}.docx"),
            None => format!("通报草稿-{}.docx", r.title),
        };
        Ok((crate::attachments::sanitize_file_name(&name, "docx"), bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bihuan_domain::ids::UnitId;

    #[test]
    fn ancestors_run_from_the_root_down() {
        let a = UnitId::new();
        let b = UnitId::new();
        let p = UnitPath::root(a).child(b);
        let up = ancestors(&p);
        assert_eq!(up, vec![UnitPath::root(a), p.clone()]);
    }

    #[test]
    fn documents_take_only_items_of_their_kind() {
        let h = Snapshot::Hazard {
            code: "YH2021-000001".into(),
            name: "消防通道堵塞".into(),
            unit: "甲公司".into(),
            responsible_unit: "甲公司".into(),
            deadline: time::macros::date!(2021 - 05 - 18),
            days_overdue: 3,
            major: false,
            listed: false,
        };
        assert_eq!(report_items(CircularKind::Overdue, std::slice::from_ref(&h)).len(), 1);
        assert_eq!(report_items(CircularKind::Warnings, &[h]).len(), 0);
        assert_eq!(report_level("orange"), doc::WarningLevel::Orange);
    }
}
