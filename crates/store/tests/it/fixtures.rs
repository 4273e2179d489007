//! Builders for records and fixed instants: no wall clock in the tests.

use bihuan_domain::audit::truncate_to_micros;
use bihuan_domain::ids::{UnitId, UserId};
use bihuan_domain::model::{Unit, User};
use bihuan_domain::role::Role;
use bihuan_domain::unit::{UnitFields, UnitKind, UnitPath};
use bihuan_store::{Db, Tx};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The instant every scenario starts from (a whole second, UTC).
pub fn t0() -> OffsetDateTime {
    datetime!(2025-03-01 08:00:00 UTC)
}

/// `t0` plus whole seconds.
pub fn at(secs: i64) -> OffsetDateTime {
    t0() + Duration::seconds(secs)
}

/// An instant with a fractional part, already truncated to microseconds.
pub fn at_micros(micros: i64) -> OffsetDateTime {
    truncate_to_micros(t0() + Duration::microseconds(micros))
}

pub fn unit(parent: Option<&Unit>, kind: UnitKind, name: &str) -> Unit {
    let id = UnitId::new();
    let path = match parent {
        Some(p) => p.path.child(id),
        None => UnitPath::root(id),
    };
    let fields = UnitFields {
        name: name.to_string(),
        short_name: None,
        kind,
        locality_kind: None,
        duties: None,
        enterprise: Default::default(),
    };
    Unit::new(id, parent.map(|p| p.id), path, fields, at_micros(123_456))
}

pub fn user(unit: &Unit, username: &str, display_name: &str, role: Role) -> User {
    User {
        id: UserId::new(),
        username: username.to_string(),
        display_name: display_name.to_string(),
        unit_id: unit.id,
        role,
        phone: Some("13800138000".into()),
        email: Some(format!("{username}@example.cn")),
        language: "zh".into(),
        active: true,
        must_change_password: false,
        created_at: at_micros(654_321),
        updated_at: at_micros(654_321),
        version: 1,
    }
}

/// Inserts units in one committed transaction.
pub async fn insert_units(db: &Db, units: &[&Unit]) {
    let mut tx = db.begin().await.unwrap();
    for u in units {
        bihuan_store::units::insert(&mut tx, u).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// Inserts users (password hash `hash-<username>`) in one committed transaction.
pub async fn insert_users(db: &Db, users: &[&User]) {
    let mut tx = db.begin().await.unwrap();
    for u in users {
        bihuan_store::users::insert(&mut tx, u, &format!("hash-{}", u.username)).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// For a write that was expected to fail: rolls back its transaction (on
/// PostgreSQL a failed statement aborts it) and returns the error.
pub async fn expect_err<T: std::fmt::Debug>(
    res: bihuan_store::Result<T>,
    tx: Tx,
) -> bihuan_store::StoreError {
    tx.rollback().await.unwrap();
    res.expect_err("the write should have failed")
}
