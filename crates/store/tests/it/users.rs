//! Users: round trips, password hashes, versions, scoped lists.

use crate::fixtures::{at, expect_err, insert_units, insert_users, unit, user};
use crate::harness::scenario;
use bihuan_domain::ids::UserId;
use bihuan_domain::model::User;
use bihuan_domain::permission::Scope;
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitKind;
use bihuan_store::users::{self, UserFilter};
use bihuan_store::{Db, StoreError};

async fn list(db: &Db, scope: &Scope, f: &UserFilter) -> Vec<(User, String)> {
    let mut tx = db.read().await.unwrap();
    let v = users::list(&mut tx, scope, f).await.unwrap();
    tx.commit().await.unwrap();
    v
}

fn usernames(v: &[(User, String)]) -> Vec<&str> {
    v.iter().map(|(u, _)| u.username.as_str()).collect()
}

pub async fn lifecycle(db: Db) {
    let gov = unit(None, UnitKind::Government, "示范镇人民政府");
    let dept = unit(Some(&gov), UnitKind::Department, "安监所");
    let village = unit(Some(&gov), UnitKind::Locality, "东风村");
    let grid = unit(Some(&village), UnitKind::Grid, "第一网格");
    let other = unit(None, UnitKind::Government, "邻镇人民政府");
    insert_units(&db, &[&gov, &dept, &village, &grid, &other]).await;

    let admin = user(&gov, "admin", "系统管理员", Role::Admin);
    let office = user(&gov, "anweiban", "王安委", Role::Office);
    let dept_a = user(&dept, "dept_a", "赵部门", Role::Department);
    let dept_b = user(&dept, "dept_b", "钱部门", Role::Department);
    let loc = user(&village, "dongfeng", "孙村干部", Role::Locality);
    let mut inspector = user(&grid, "grid1", "周网格员", Role::Inspector);
    inspector.phone = None;
    inspector.email = None;
    inspector.must_change_password = true;
    inspector.language = "en".into();
    let neighbour = user(&other, "linzhen", "吴邻镇", Role::Office);
    insert_users(&db, &[&admin, &office, &dept_a, &dept_b, &loc, &inspector, &neighbour]).await;

    // Round trips.
    let mut tx = db.read().await.unwrap();
    assert_eq!(users::count(&mut tx).await.unwrap(), 7);
    for u in [&admin, &office, &dept_a, &dept_b, &loc, &inspector, &neighbour] {
        assert_eq!(users::get(&mut tx, u.id).await.unwrap().as_ref(), Some(u), "user {} round-trips", u.username);
    }
    assert!(users::get(&mut tx, UserId::new()).await.unwrap().is_none());
    let (got, hash) = users::get_with_hash(&mut tx, "grid1").await.unwrap().unwrap();
    assert_eq!(got, inspector);
    assert_eq!(hash, "hash-grid1");
    assert!(users::get_with_hash(&mut tx, "nobody").await.unwrap().is_none());
    assert!(users::get_with_hash(&mut tx, "GRID1").await.unwrap().is_none(), "usernames are exact");
    assert_eq!(users::password_hash(&mut tx, dept_a.id).await.unwrap(), "hash-dept_a");
    assert!(matches!(users::password_hash(&mut tx, UserId::new()).await, Err(StoreError::NotFound)));
    tx.commit().await.unwrap();

    // Update with a version check.
    let mut changed = dept_a.clone();
    changed.display_name = "赵部门（已调岗）".into();
    changed.unit_id = village.id;
    changed.role = Role::Locality;
    changed.phone = None;
    changed.language = "en".into();
    changed.active = false;
    changed.updated_at = at(60);
    changed.version = 2;
    let mut tx = db.begin().await.unwrap();
    users::update(&mut tx, &changed, 1).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert_eq!(users::get(&mut tx, dept_a.id).await.unwrap().unwrap(), changed);
    let mut stale = dept_a.clone();
    stale.display_name = "过期".into();
    stale.version = 2;
    assert!(matches!(users::update(&mut tx, &stale, 1).await, Err(StoreError::Stale)));
    tx.rollback().await.unwrap();

    // Password changes bump the version and keep the rest.
    let mut tx = db.begin().await.unwrap();
    users::set_password(&mut tx, inspector.id, "hash-new", false, at(120)).await.unwrap();
    assert!(matches!(users::set_password(&mut tx, UserId::new(), "x", false, at(120)).await, Err(StoreError::NotFound)));
    tx.commit().await.unwrap();
    let mut tx = db.read().await.unwrap();
    let (got, hash) = users::get_with_hash(&mut tx, "grid1").await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(hash, "hash-new");
    assert_eq!(got, User { must_change_password: false, updated_at: at(120), version: 2, ..inspector.clone() });
    // The old version is now stale.
    let mut tx = db.begin().await.unwrap();
    let mut renamed = inspector.clone();
    renamed.version = 2;
    assert!(matches!(users::update(&mut tx, &renamed, 1).await, Err(StoreError::Stale)));
    tx.rollback().await.unwrap();

    // Lists: scoped by the unit subtree, ordered by username, with unit names.
    let town = Scope::Subtree(gov.path.clone());
    let got = list(&db, &town, &UserFilter::default()).await;
    assert_eq!(usernames(&got), ["admin", "anweiban", "dept_a", "dept_b", "dongfeng", "grid1"]);
    let unit_names: Vec<&str> = got.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(unit_names, ["示范镇人民政府", "示范镇人民政府", "东风村", "安监所", "东风村", "第一网格"]);
    let got = list(&db, &Scope::Subtree(village.path.clone()), &UserFilter::default()).await;
    assert_eq!(usernames(&got), ["dept_a", "dongfeng", "grid1"], "dept_a moved to the village");
    let got = list(&db, &Scope::All, &UserFilter::default()).await;
    assert_eq!(got.len(), 7);
    let got = list(&db, &Scope::Subtree(other.path.clone()), &UserFilter::default()).await;
    assert_eq!(usernames(&got), ["linzhen"]);

    // Filters.
    let role = |r: Role| UserFilter { role: Some(r), ..Default::default() };
    assert_eq!(usernames(&list(&db, &town, &role(Role::Department)).await), ["dept_b"]);
    assert_eq!(usernames(&list(&db, &town, &role(Role::Locality)).await), ["dept_a", "dongfeng"]);
    assert_eq!(usernames(&list(&db, &Scope::All, &role(Role::Office)).await), ["anweiban", "linzhen"]);
    assert_eq!(usernames(&list(&db, &town, &role(Role::Office)).await), ["anweiban"]);
    assert!(list(&db, &town, &role(Role::Expert)).await.is_empty());
    let f = UserFilter { unit: Some(gov.id), ..Default::default() };
    assert_eq!(usernames(&list(&db, &Scope::All, &f).await), ["admin", "anweiban"]);
    let f = UserFilter { within: Some(village.path.clone()), role: Some(Role::Inspector), ..Default::default() };
    assert_eq!(usernames(&list(&db, &town, &f).await), ["grid1"]);
    let q = |s: &str| UserFilter { q: Some(s.into()), ..Default::default() };
    assert_eq!(usernames(&list(&db, &Scope::All, &q("部门")).await), ["dept_a", "dept_b"]);
    assert_eq!(usernames(&list(&db, &Scope::All, &q("dept_")).await), ["dept_a", "dept_b"]);
    assert_eq!(usernames(&list(&db, &Scope::All, &q("_")).await), ["dept_a", "dept_b"], "_ is literal");
    assert!(list(&db, &Scope::All, &q("%")).await.is_empty(), "% is literal");

    // Keyset pagination by username.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = list(&db, &Scope::All, &UserFilter { after_username: after.clone(), limit: 2, ..Default::default() }).await;
        assert!(page.len() <= 2);
        let Some((last, _)) = page.last() else { break };
        after = Some(last.username.clone());
        seen.extend(page.iter().map(|(u, _)| u.username.clone()));
    }
    assert_eq!(seen, ["admin", "anweiban", "dept_a", "dept_b", "dongfeng", "grid1", "linzhen"]);

    // Duplicate username.
    let dup = user(&other, "admin", "另一个管理员", Role::Admin);
    let mut tx = db.begin().await.unwrap();
    let r = users::insert(&mut tx, &dup, "h").await;
    match expect_err(r, tx).await {
        StoreError::Conflict(name) => assert!(name.contains("username"), "conflict names the column: {name}"),
        e => panic!("duplicate username: expected Conflict, got {e:?}"),
    }
    let mut tx = db.read().await.unwrap();
    assert_eq!(users::count(&mut tx).await.unwrap(), 7);
    tx.commit().await.unwrap();
}

scenario!(lifecycle => sqlite_users_lifecycle, postgres_users_lifecycle);
