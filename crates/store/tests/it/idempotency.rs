//! Idempotency keys: recorded once per user and key, found until they
//! expire, refused a second time, purged lazily.

use crate::fixtures::{at, insert_units, insert_users, unit, user};
use crate::harness::scenario;
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitKind;
use bihuan_store::idempotency::{self as idem, NewKey};
use bihuan_store::Db;
use time::Duration;
use uuid::Uuid;

pub async fn keys(db: Db) {
    let gov = unit(None, UnitKind::Government, "示范镇人民政府");
    insert_units(&db, &[&gov]).await;
    let (a, b) = (user(&gov, "a", "甲", Role::Office), user(&gov, "b", "乙", Role::Office));
    insert_users(&db, &[&a, &b]).await;
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let key = |user_id, result_id, t| NewKey {
        user_id,
        key: "k-0001-offline-draft",
        operation: "hazard.create",
        request_hash: "abc",
        result_kind: "hazard",
        result_id,
        at: at(t),
        expires_at: at(t) + Duration::hours(24),
    };

    let mut tx = db.begin().await.unwrap();
    assert!(idem::record(&mut tx, &key(a.id, first, 0)).await.unwrap());
    // The same user's key again: refused without an error, nothing written.
    assert!(!idem::record(&mut tx, &key(a.id, second, 10)).await.unwrap());
    // Another user may use the same key.
    assert!(idem::record(&mut tx, &key(b.id, second, 10)).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = db.read().await.unwrap();
    let found = idem::find(&mut tx, a.id, "k-0001-offline-draft", at(60)).await.unwrap().unwrap();
    assert_eq!((found.operation.as_str(), found.result_kind.as_str(), found.result_id, found.created_at), ("hazard.create", "hazard", first, at(0)));
    assert_eq!(idem::find(&mut tx, b.id, "k-0001-offline-draft", at(60)).await.unwrap().unwrap().result_id, second);
    assert!(idem::find(&mut tx, a.id, "other", at(60)).await.unwrap().is_none());
    // Expired after a day, even before it is purged.
    assert!(idem::find(&mut tx, a.id, "k-0001-offline-draft", at(0) + Duration::hours(24)).await.unwrap().is_none());
    tx.commit().await.unwrap();

    // A day later the key is free again: recording purges what expired.
    let later = 24 * 3600 + 15;
    let mut tx = db.begin().await.unwrap();
    assert!(idem::record(&mut tx, &key(a.id, second, later)).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = db.read().await.unwrap();
    assert_eq!(idem::find(&mut tx, a.id, "k-0001-offline-draft", at(later)).await.unwrap().unwrap().result_id, second);
    // b's key (recorded 10 s after a's first) expired and was purged too.
    assert!(idem::find(&mut tx, b.id, "k-0001-offline-draft", at(0)).await.unwrap().is_none());
    tx.commit().await.unwrap();
}

scenario!(keys => sqlite_idempotency_keys, postgres_idempotency_keys);
