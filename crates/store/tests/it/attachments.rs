//! Attachments: upload rows round-trip with their photo metadata, links
//! keep upload order per hazard, the same bytes may be uploaded twice, and
//! a link must name a real hazard, attachment and event.

use crate::fixtures::{at, expect_err, insert_units, insert_users, unit, user};
use crate::harness::scenario;
use bihuan_domain::hazard::*;
use bihuan_domain::ids::*;
use bihuan_domain::model::Unit;
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitKind;
use bihuan_store::attachments::{self, AttachmentRow};
use bihuan_store::hazards::{self, NewEvent};
use bihuan_store::{Db, StoreError};
use time::macros::datetime;

fn unit_ref(u: &Unit) -> UnitRef {
    UnitRef { id: u.id, name: u.name.clone(), short_name: None, path: u.path.clone() }
}

fn hazard(num: i64, firm: &Unit, state: HazardState) -> Hazard {
    Hazard {
        id: HazardId::new(),
        num,
        code: format!("YH2025-{num:06}"),
        campaign_id: None,
        area_id: None,
        unit: unit_ref(firm),
        name: "配电箱门缺失".into(),
        description: "二号车间配电箱无门，带电部位裸露".into(),
        location: None,
        position: None,
        hazard_type: HazardType::Electrical,
        source: HazardSource::SelfInspection,
        check_kind: CheckKind::Routine,
        level: HazardLevel::General,
        sub_grade: None,
        manage_type: ManageType::Deadline,
        cause: None,
        cause_class: None,
        measures: None,
        funds: None,
        contingency: None,
        responsible_unit: None,
        responsible_person: None,
        responsible_phone: None,
        deadline: None,
        deadline_rule: None,
        found_at: at(0),
        found_by: "张三".into(),
        found_by_user: None,
        found_by_unit: unit_ref(firm),
        assigned_by_unit: None,
        accepting_unit: None,
        state,
        major_report: None,
        plan: None,
        rectification: None,
        submitted_at: None,
        accepted_by: None,
        closed_at: None,
        acceptance_comment: None,
        dismiss_reason: None,
        duplicate_of: None,
        listing: None,
        pending_extension: None,
        created_at: at(0),
        updated_at: at(0),
        version: 1,
    }
}

fn photo(sha: char, user: Option<UserId>, secs: i64) -> AttachmentRow {
    AttachmentRow {
        id: AttachmentId::new(),
        sha256: sha.to_string().repeat(64),
        media_type: "image/jpeg".into(),
        kind: "image".into(),
        extension: "jpg".into(),
        size: 123_456,
        file_name: "配电箱 正面.jpg".into(),
        has_thumbnail: true,
        width: Some(3024),
        height: Some(4032),
        orientation: Some(6),
        taken_at: Some(datetime!(2025-02-28 09:15:30 +08:00)),
        taken_offset: Some(480),
        gps_latitude: Some(31.0 + 17.5 / 60.0),
        gps_longitude: Some(-(121.0 + 18.0 / 60.0 + 0.123 / 3600.0)),
        gps_altitude: Some(-3.25),
        uploaded_by_user_id: user,
        uploaded_by: "张三".into(),
        uploaded_at: at(secs),
    }
}

fn document() -> AttachmentRow {
    AttachmentRow {
        id: AttachmentId::new(),
        sha256: "c".repeat(64),
        media_type: "application/pdf".into(),
        kind: "pdf".into(),
        extension: "pdf".into(),
        size: 9,
        file_name: "治理方案.pdf".into(),
        has_thumbnail: false,
        width: None,
        height: None,
        orientation: None,
        taken_at: None,
        taken_offset: None,
        gps_latitude: None,
        gps_longitude: None,
        gps_altitude: None,
        uploaded_by_user_id: None,
        uploaded_by: "system".into(),
        uploaded_at: at(90),
    }
}

fn draft(h: &Hazard) -> EventDraft {
    EventDraft { action: "attach".into(), from_state: Some(h.state), to_state: h.state, comment: None, data: serde_json::json!({}) }
}

async fn event(tx: &mut bihuan_store::Tx, h: &Hazard, secs: i64) -> HazardEventId {
    let d = draft(h);
    hazards::append_event(tx, NewEvent { hazard_id: h.id, at: at(secs), actor_user_id: None, actor_name: "t", actor_unit_id: None, draft: &d })
        .await
        .unwrap()
        .id
}

pub async fn rows_and_links(db: Db) {
    let town = unit(None, UnitKind::Government, "示范镇人民政府");
    let firm = unit(Some(&town), UnitKind::Enterprise, "上海甲机械有限公司");
    insert_units(&db, &[&town, &firm]).await;
    let boss = user(&firm, "firm", "张三", Role::Enterprise);
    insert_users(&db, &[&boss]).await;
    let (h1, h2) = (hazard(1, &firm, HazardState::Reported), hazard(2, &firm, HazardState::Closed));

    let mut tx = db.begin().await.unwrap();
    hazards::insert(&mut tx, &h1).await.unwrap();
    hazards::insert(&mut tx, &h2).await.unwrap();
    assert_eq!(attachments::latest_event(&mut tx, h1.id).await.unwrap(), None);
    let e1 = event(&mut tx, &h1, 10).await;
    let e2 = event(&mut tx, &h1, 20).await;
    assert_eq!(attachments::latest_event(&mut tx, h1.id).await.unwrap(), Some(e2), "the newest event");
    let e3 = event(&mut tx, &h2, 30).await;

    // The same photo uploaded twice: two rows with one sha256, each linked.
    let first = photo('a', Some(boss.id), 40);
    let again = AttachmentRow { id: AttachmentId::new(), file_name: "IMG_0001.JPG".into(), uploaded_at: at(50), ..first.clone() };
    let doc = document();
    let other = photo('b', None, 60);
    for a in [&first, &again, &doc, &other] {
        attachments::insert(&mut tx, a).await.unwrap();
    }
    attachments::lock_hazard(&mut tx, h1.id).await.unwrap();
    assert_eq!(attachments::link(&mut tx, h1.id, first.id, "before", e1).await.unwrap(), 1);
    assert_eq!(attachments::link(&mut tx, h1.id, doc.id, "document", e2).await.unwrap(), 2);
    assert_eq!(attachments::link(&mut tx, h1.id, again.id, "after", e2).await.unwrap(), 3);
    assert_eq!(attachments::link(&mut tx, h2.id, other.id, "after", e3).await.unwrap(), 1, "positions count per hazard");
    tx.commit().await.unwrap();

    let mut tx = db.read().await.unwrap();
    assert_eq!(attachments::get(&mut tx, first.id).await.unwrap().as_ref(), Some(&first), "every field round-trips, GPS exactly");
    assert_eq!(attachments::get(&mut tx, doc.id).await.unwrap().as_ref(), Some(&doc), "a document has no photo data");
    assert_eq!(attachments::get(&mut tx, AttachmentId::new()).await.unwrap(), None);
    let on_h1 = attachments::of_hazard(&mut tx, h1.id).await.unwrap();
    let summary: Vec<(i32, &str, HazardEventId, AttachmentId)> =
        on_h1.iter().map(|l| (l.position, l.role.as_str(), l.event_id, l.attachment.id)).collect();
    assert_eq!(summary, [(1, "before", e1, first.id), (2, "document", e2, doc.id), (3, "after", e2, again.id)]);
    assert!(on_h1.iter().all(|l| l.hazard_id == h1.id));
    assert_eq!(on_h1[2].attachment, again);
    assert_eq!(attachments::references(&mut tx, &first.sha256).await.unwrap(), 2, "stored once, uploaded twice");
    assert_eq!(attachments::references(&mut tx, &"f".repeat(64)).await.unwrap(), 0);
    let links = attachments::links(&mut tx, other.id).await.unwrap();
    assert_eq!(links.iter().map(|l| (l.hazard_id, l.position)).collect::<Vec<_>>(), [(h2.id, 1)]);
    assert!(attachments::links(&mut tx, AttachmentId::new()).await.unwrap().is_empty());
    tx.commit().await.unwrap();

    // Locking leaves the hazard as it was.
    let mut tx = db.begin().await.unwrap();
    attachments::lock_hazard(&mut tx, h1.id).await.unwrap();
    assert_eq!(hazards::get(&mut tx, h1.id).await.unwrap().unwrap().version, 1);
    let r = attachments::lock_hazard(&mut tx, HazardId::new()).await;
    assert!(matches!(expect_err(r, tx).await, StoreError::NotFound));

    // An attachment is on a hazard once.
    let mut tx = db.begin().await.unwrap();
    let r = attachments::link(&mut tx, h1.id, first.id, "before", e1).await;
    expect_err(r, tx).await;
    // A link names a real event and a real attachment.
    let mut tx = db.begin().await.unwrap();
    let r = attachments::link(&mut tx, h2.id, first.id, "before", HazardEventId::new()).await;
    expect_err(r, tx).await;
    let mut tx = db.begin().await.unwrap();
    let r = attachments::link(&mut tx, h2.id, AttachmentId::new(), "before", e3).await;
    expect_err(r, tx).await;

    let mut tx = db.read().await.unwrap();
    assert_eq!(attachments::of_hazard(&mut tx, h1.id).await.unwrap().len(), 3, "the refused links left nothing");
    tx.commit().await.unwrap();
}

scenario!(rows_and_links => sqlite_attachment_rows_and_links, postgres_attachment_rows_and_links);
