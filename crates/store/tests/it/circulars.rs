//! Circulars: a draft round-trips and changes only under its version and
//! only while it is a draft; items are replaced whole (across the
//! statement chunks of both engines); recipients note their first read once;
//! lists follow the jurisdiction, the recipient and the keyset, newest first.

use crate::fixtures::{at, expect_err, insert_units, insert_users, unit, user};
use crate::harness::scenario;
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitKind;
use bihuan_store::circulars::{self as store, CircularFilter, CircularRow, ItemRow};
use bihuan_store::{Db, StoreError};
use time::macros::date;
use uuid::Uuid;

fn draft(issuer: Uuid, jurisdiction: &str, secs: i64) -> CircularRow {
    CircularRow {
        id: Uuid::now_v7(),
        state: "draft".into(),
        kind: "overdue".into(),
        issuer_unit_id: issuer,
        jurisdiction_path: jurisdiction.into(),
        title: "关于全镇隐患整改逾期情况的通报".into(),
        number_prefix: "南安办通".into(),
        year: None,
        seq: None,
        document_number: None,
        addressee: "各村、居委会，各有关部门、单位".into(),
        opening: "截至2025年3月1日……".into(),
        requirements_json: r#"["5个工作日内完成整改"]"#.into(),
        cc: Some("镇领导".into()),
        as_of: Some(date!(2025 - 03 - 01)),
        issued_on: None,
        attachment_id: None,
        created_by: None,
        created_at: at(secs),
        issued_by: None,
        issued_at: None,
        updated_at: at(secs),
        version: 1,
    }
}

async fn circulars(db: Db) {
    let town = unit(None, UnitKind::Government, "南翔镇人民政府");
    let office = unit(Some(&town), UnitKind::Office, "镇安委会办公室");
    let village = unit(Some(&town), UnitKind::Locality, "红翔村");
    let firm = unit(Some(&village), UnitKind::Enterprise, "上海甲机械有限公司");
    let other_town = unit(None, UnitKind::Government, "另一镇人民政府");
    insert_units(&db, &[&town, &office, &village, &firm, &other_town]).await;
    let boss = user(&firm, "boss", "甲老板", Role::Enterprise);
    insert_users(&db, &[&boss]).await;
    let jur = town.path.as_str();

    // A draft round-trips, with its dates and optional fields.
    let mut a = draft(office.id.0, jur, 0);
    let mut tx = db.begin().await.unwrap();
    store::insert(&mut tx, &a).await.unwrap();
    // Enough items to take several statements on either engine.
    let items: Vec<ItemRow> = (1..=120)
        .map(|seq| ItemRow {
            seq,
            warning_id: None,
            hazard_id: None,
            measure_id: None,
            unit_id: if seq % 3 == 0 { village.id.0 } else { firm.id.0 },
            snapshot_json: format!(r#"{{"n":{seq}}}"#),
            remark: (seq == 7).then(|| "挂牌".to_string()),
        })
        .collect();
    store::replace_items(&mut tx, a.id, &items).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.read().await.unwrap();
    assert_eq!(store::get(&mut tx, a.id).await.unwrap().as_ref(), Some(&a));
    assert_eq!(store::items(&mut tx, a.id).await.unwrap(), items);
    assert_eq!(store::item_counts(&mut tx, &[a.id]).await.unwrap(), [(a.id, 120)]);
    tx.commit().await.unwrap();

    // Replaced whole.
    let mut tx = db.begin().await.unwrap();
    store::replace_items(&mut tx, a.id, &items[..2]).await.unwrap();
    assert_eq!(store::items(&mut tx, a.id).await.unwrap().len(), 2);
    tx.commit().await.unwrap();

    // Changed under its version; a stale version changes nothing.
    let mut changed = a.clone();
    changed.title = "关于全镇隐患整改逾期情况的通报（第一期）".into();
    changed.version = 2;
    let mut tx = db.begin().await.unwrap();
    store::update_draft(&mut tx, &changed, 1).await.unwrap();
    let r = store::update_draft(&mut tx, &changed, 1).await;
    assert!(matches!(expect_err(r, tx).await, StoreError::Stale));

    // Issued; after that, nothing changes it (not even with its version).
    let mut tx = db.begin().await.unwrap();
    store::update_draft(&mut tx, &changed, 1).await.unwrap();
    assert!(store::lock_draft(&mut tx, a.id).await.unwrap());
    a = changed.clone();
    a.state = "issued".into();
    a.year = Some(2025);
    a.seq = Some(1);
    a.document_number = Some("南安办通〔2025〕1号".into());
    a.issued_on = Some(date!(2025 - 03 - 02));
    a.issued_at = Some(at(60));
    a.version = 3;
    store::update_draft(&mut tx, &a, 2).await.unwrap();
    store::insert_recipients(&mut tx, a.id, &[firm.id.0, village.id.0]).await.unwrap();
    store::insert_recipients(&mut tx, a.id, &[firm.id.0]).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert!(!store::lock_draft(&mut tx, a.id).await.unwrap());
    assert!(!store::delete_draft(&mut tx, a.id).await.unwrap());
    let mut again = a.clone();
    again.version = 4;
    let r = store::update_draft(&mut tx, &again, 3).await;
    assert!(matches!(expect_err(r, tx).await, StoreError::Stale), "an issued circular never changes");

    // A second issued circular may not take the same number.
    let mut b = draft(office.id.0, jur, 10);
    let mut tx = db.begin().await.unwrap();
    store::insert(&mut tx, &b).await.unwrap();
    tx.commit().await.unwrap();
    b.state = "issued".into();
    b.document_number = a.document_number.clone();
    b.version = 2;
    let mut tx = db.begin().await.unwrap();
    let r = store::update_draft(&mut tx, &b, 1).await;
    assert!(matches!(expect_err(r, tx).await, StoreError::Conflict(c) if c.contains("document_number")));

    // Recipients: each once; the first read is noted once.
    let mut tx = db.begin().await.unwrap();
    assert_eq!(store::recipients(&mut tx, a.id).await.unwrap().len(), 2);
    assert!(store::is_recipient(&mut tx, a.id, firm.id.0).await.unwrap());
    assert!(!store::is_recipient(&mut tx, a.id, office.id.0).await.unwrap());
    assert!(store::mark_read(&mut tx, a.id, firm.id.0, at(120)).await.unwrap());
    assert!(!store::mark_read(&mut tx, a.id, firm.id.0, at(180)).await.unwrap());
    assert!(!store::mark_read(&mut tx, a.id, office.id.0, at(180)).await.unwrap(), "not a recipient");
    assert_eq!(store::read_counts(&mut tx, &[a.id, b.id]).await.unwrap(), [(a.id, 1, 2)]);
    let read: Vec<_> = store::recipients(&mut tx, a.id).await.unwrap().into_iter().filter_map(|(u, t)| t.map(|t| (u, t))).collect();
    assert_eq!(read, [(firm.id.0, at(120))]);
    assert_eq!(store::active_users_of(&mut tx, &[firm.id.0, village.id.0]).await.unwrap(), [(boss.id.0, firm.id.0, "zh".to_string())]);
    assert_eq!(store::last_prefix(&mut tx, office.id.0).await.unwrap().as_deref(), Some("南安办通"));
    assert_eq!(store::last_prefix(&mut tx, town.id.0).await.unwrap(), None);
    tx.commit().await.unwrap();

    // A draft of the other town, and a third draft here, newer.
    let c = draft(other_town.id.0, other_town.path.as_str(), 20);
    let d = draft(office.id.0, jur, 30);
    let mut tx = db.begin().await.unwrap();
    store::insert(&mut tx, &c).await.unwrap();
    store::insert(&mut tx, &d).await.unwrap();
    tx.commit().await.unwrap();
    let ids = |rows: Vec<CircularRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let mut tx = db.read().await.unwrap();
    // Everything, newest first, in pages.
    let all = store::list(&mut tx, &CircularFilter::default(), None, 10).await.unwrap();
    assert_eq!(ids(all), [d.id, c.id, b.id, a.id]);
    let first = store::list(&mut tx, &CircularFilter::default(), None, 2).await.unwrap();
    let last = first.last().unwrap();
    let rest = store::list(&mut tx, &CircularFilter::default(), Some((last.created_at, last.id)), 10).await.unwrap();
    assert_eq!(ids(rest), [b.id, a.id]);
    // The town's office: its issued circulars and drafts.
    let office_view = CircularFilter { issued_in: Some(vec![jur.into()]), drafts_in: Some(vec![jur.into()]), recipient: Some(office.id.0) };
    assert_eq!(ids(store::list(&mut tx, &office_view, None, 10).await.unwrap()), [d.id, b.id, a.id]);
    // A village: issued ones only.
    let village_view = CircularFilter { issued_in: Some(vec![jur.into(), village.path.as_str().into()]), drafts_in: Some(vec![]), recipient: Some(village.id.0) };
    assert_eq!(ids(store::list(&mut tx, &village_view, None, 10).await.unwrap()), [a.id]);
    // An enterprise: what was sent to it; another town's office: its own draft.
    let firm_view = CircularFilter { issued_in: Some(vec![]), drafts_in: Some(vec![]), recipient: Some(firm.id.0) };
    assert_eq!(ids(store::list(&mut tx, &firm_view, None, 10).await.unwrap()), [a.id]);
    let other_view = CircularFilter { issued_in: Some(vec![]), drafts_in: Some(vec![other_town.path.as_str().into()]), recipient: None };
    assert_eq!(ids(store::list(&mut tx, &other_view, None, 10).await.unwrap()), [c.id]);
    let nobody = CircularFilter { issued_in: Some(vec![]), drafts_in: Some(vec![]), recipient: None };
    assert!(store::list(&mut tx, &nobody, None, 10).await.unwrap().is_empty());
    tx.commit().await.unwrap();

    // A draft is discarded with its items.
    let mut tx = db.begin().await.unwrap();
    store::replace_items(&mut tx, d.id, &items[..3]).await.unwrap();
    assert!(store::delete_draft(&mut tx, d.id).await.unwrap());
    assert_eq!(store::get(&mut tx, d.id).await.unwrap(), None);
    assert!(store::items(&mut tx, d.id).await.unwrap().is_empty());
    tx.commit().await.unwrap();
}

scenario!(circulars => sqlite_circulars, postgres_circulars);
