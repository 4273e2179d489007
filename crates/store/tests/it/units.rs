//! The organisation tree: round trips, scoped lists, filters, keyset
//! pagination, optimistic versions and unique constraints.

use crate::fixtures::{at, at_micros, expect_err, insert_units, unit};
use crate::harness::scenario;
use bihuan_domain::ids::UnitId;
use bihuan_domain::model::Unit;
use bihuan_domain::permission::Scope;
use bihuan_domain::unit::{EnterpriseFlag, EnterpriseScale, LocalityKind, UnitKind};
use bihuan_store::units::{self, UnitFilter};
use bihuan_store::{Db, StoreError};
use std::collections::HashSet;

/// A town with departments, two localities, grids and enterprises, plus a
/// neighbouring town that no subtree query may reach.
pub struct Tree {
    pub gov: Unit,
    pub dept_safety: Unit,
    pub dept_police: Unit,
    pub village: Unit,
    pub grid1: Unit,
    pub grid2: Unit,
    pub chem: Unit,
    pub water: Unit,
    pub depot: Unit,
    pub underscore: Unit,
    pub lookalike: Unit,
    pub closed: Unit,
    pub community: Unit,
    pub mall: Unit,
    pub other_gov: Unit,
    pub other_dept: Unit,
}

impl Tree {
    pub fn all(&self) -> Vec<&Unit> {
        vec![
            &self.gov,
            &self.dept_safety,
            &self.dept_police,
            &self.village,
            &self.grid1,
            &self.grid2,
            &self.chem,
            &self.water,
            &self.depot,
            &self.underscore,
            &self.lookalike,
            &self.closed,
            &self.community,
            &self.mall,
            &self.other_gov,
            &self.other_dept,
        ]
    }
}

fn enterprise(parent: &Unit, name: &str, code: &str) -> Unit {
    let mut u = unit(Some(parent), UnitKind::Enterprise, name);
    u.credit_code = Some(code.to_string());
    u
}

pub fn tree() -> Tree {
    let mut gov = unit(None, UnitKind::Government, "示范镇人民政府");
    gov.short_name = Some("示范镇".into());
    let mut dept_safety = unit(Some(&gov), UnitKind::Department, "安全生产监督管理所");
    dept_safety.short_name = Some("安监所".into());
    dept_safety.duties = Some("负责全镇安全生产综合监督管理".into());
    let dept_police = unit(Some(&gov), UnitKind::Department, "派出所");
    let mut village = unit(Some(&gov), UnitKind::Locality, "东风村");
    village.locality_kind = Some(LocalityKind::Village);
    let grid1 = unit(Some(&village), UnitKind::Grid, "第一网格");
    let grid2 = unit(Some(&village), UnitKind::Grid, "第二网格");

    let mut chem = enterprise(&grid1, "上海示例化工有限公司", "91350100M000100Y43");
    chem.short_name = Some("示例化工".into());
    chem.address = Some("示范镇工业路88号".into());
    chem.industry = Some("化学原料和化学制品制造业".into());
    chem.scale = Some(EnterpriseScale::AboveThreshold);
    chem.flags = vec![EnterpriseFlag::HazardousChemicals, EnterpriseFlag::MajorHazardSource];
    chem.legal_representative = Some("张三".into());
    chem.legal_representative_phone = Some("13800138000".into());
    chem.principal = Some("李四".into());
    chem.principal_phone = Some("021-5912 3456转8001".into());
    chem.longitude = Some(121.473_701);
    chem.latitude = Some(31.230_416);
    chem.created_at = at_micros(1_000_001);
    chem.updated_at = at_micros(2_999_999);

    let mut water = enterprise(&grid1, "100%纯净水厂", "91310000MA1FL0001X");
    water.flags = vec![EnterpriseFlag::CrowdedPlace];
    water.scale = Some(EnterpriseScale::BelowThreshold);
    let depot = enterprise(&grid1, "1000吨仓储有限公司", "91310000MA1FL0002Y");
    let underscore = enterprise(&grid1, "华东_机械厂", "91310000MA1FL0003Z");
    let lookalike = enterprise(&grid1, "华东甲机械厂", "91310000MA1FL0004A");
    let mut closed = enterprise(&grid2, "东风物流有限公司", "91310000MA1FL0005B");
    closed.active = false;

    let mut community = unit(Some(&gov), UnitKind::Locality, "西湖社区");
    community.locality_kind = Some(LocalityKind::Community);
    let mut mall = enterprise(&community, "西湖商场", "91310000MA1FL0006C");
    mall.flags = vec![EnterpriseFlag::CrowdedPlace, EnterpriseFlag::Gas];

    let other_gov = unit(None, UnitKind::Government, "邻镇人民政府");
    // Same name as a department of the first town: names are unique among
    // siblings only.
    let other_dept = unit(Some(&other_gov), UnitKind::Department, "派出所");

    Tree {
        gov,
        dept_safety,
        dept_police,
        village,
        grid1,
        grid2,
        chem,
        water,
        depot,
        underscore,
        lookalike,
        closed,
        community,
        mall,
        other_gov,
        other_dept,
    }
}

/// Expected result of a list: `units` that satisfy `keep`, in path order.
fn expected<'a>(units: &[&'a Unit], keep: impl Fn(&Unit) -> bool) -> Vec<&'a Unit> {
    let mut v: Vec<&Unit> = units.iter().copied().filter(|u| keep(u)).collect();
    v.sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
    v
}

fn names(units: &[Unit]) -> Vec<&str> {
    units.iter().map(|u| u.name.as_str()).collect()
}

fn expected_names<'a>(units: &[&'a Unit]) -> Vec<&'a str> {
    units.iter().map(|u| u.name.as_str()).collect()
}

async fn list(db: &Db, scope: &Scope, f: &UnitFilter) -> Vec<Unit> {
    let mut tx = db.read().await.unwrap();
    let v = units::list(&mut tx, scope, f).await.unwrap();
    tx.commit().await.unwrap();
    v
}

pub async fn roundtrip(db: Db) {
    let t = tree();
    let all = t.all();
    insert_units(&db, &all).await;

    let mut tx = db.read().await.unwrap();
    assert_eq!(units::count(&mut tx).await.unwrap(), all.len() as i64);
    for u in &all {
        let got = units::get(&mut tx, u.id).await.unwrap().expect("inserted unit is found");
        assert_eq!(&got, *u, "unit {} round-trips every field", u.name);
    }
    // The enterprise with every optional field, spelled out.
    let chem = units::get(&mut tx, t.chem.id).await.unwrap().unwrap();
    assert_eq!(chem.flags, [EnterpriseFlag::HazardousChemicals, EnterpriseFlag::MajorHazardSource]);
    assert_eq!(chem.longitude, Some(121.473_701));
    assert_eq!(chem.latitude, Some(31.230_416));
    assert_eq!(chem.created_at, at_micros(1_000_001));
    assert_eq!(chem.updated_at.nanosecond(), 999_999_000);
    assert_eq!(chem.principal_phone.as_deref(), Some("021-5912 3456转8001"));
    assert_eq!(chem.path, t.gov.path.child(t.village.id).child(t.grid1.id).child(t.chem.id));
    assert!(units::get(&mut tx, UnitId::new()).await.unwrap().is_none());

    // Lookups by name and along a path.
    let found = units::find_by_name(&mut tx, Some(t.grid1.id), "华东_机械厂").await.unwrap().unwrap();
    assert_eq!(found.id, t.underscore.id);
    assert!(units::find_by_name(&mut tx, Some(t.grid2.id), "华东_机械厂").await.unwrap().is_none());
    let root = units::find_by_name(&mut tx, None, "邻镇人民政府").await.unwrap().unwrap();
    assert_eq!(root.id, t.other_gov.id);
    assert!(units::find_by_name(&mut tx, None, "派出所").await.unwrap().is_none(), "a child is not a root");
    let chain: Vec<UnitId> = units::ancestors(&mut tx, &t.chem.path).await.unwrap().iter().map(|u| u.id).collect();
    assert_eq!(chain, [t.gov.id, t.village.id, t.grid1.id, t.chem.id]);
    tx.commit().await.unwrap();
}

pub async fn scoped_lists_and_filters(db: Db) {
    let t = tree();
    let all = t.all();
    insert_units(&db, &all).await;
    let town = Scope::Subtree(t.gov.path.clone());
    let active = |u: &Unit| u.active;

    // Everything, in path order, inactive units hidden by default.
    let got = list(&db, &Scope::All, &UnitFilter::default()).await;
    assert_eq!(names(&got), expected_names(&expected(&all, active)));
    let got = list(&db, &Scope::All, &UnitFilter { include_inactive: true, ..Default::default() }).await;
    assert_eq!(names(&got), expected_names(&expected(&all, |_| true)));

    // A subtree scope returns exactly that subtree, parents before children.
    let got = list(&db, &Scope::Subtree(t.village.path.clone()), &UnitFilter::default()).await;
    let want = expected(&all, |u| u.active && u.path.is_within(&t.village.path));
    assert_eq!(names(&got), expected_names(&want));
    assert_eq!(got.first().map(|u| u.id), Some(t.village.id));
    for w in got.windows(2) {
        assert!(w[0].path.as_str() < w[1].path.as_str());
    }
    let got = list(&db, &town, &UnitFilter::default()).await;
    assert!(got.iter().all(|u| u.path.is_within(&t.gov.path)));
    assert!(!got.iter().any(|u| u.id == t.other_dept.id || u.id == t.other_gov.id));
    // A scope and a `within` combine.
    let got = list(&db, &town, &UnitFilter { within: Some(t.community.path.clone()), ..Default::default() }).await;
    assert_eq!(names(&got), ["西湖社区", "西湖商场"]);
    let got = list(&db, &Scope::Subtree(t.other_gov.path.clone()), &UnitFilter { within: Some(t.village.path.clone()), ..Default::default() }).await;
    assert!(got.is_empty(), "within outside the scope finds nothing");

    // Kind.
    let got = list(&db, &town, &UnitFilter { kind: Some(UnitKind::Enterprise), ..Default::default() }).await;
    let want = expected(&all, |u| u.active && u.kind == UnitKind::Enterprise && u.path.is_within(&t.gov.path));
    assert_eq!(names(&got), expected_names(&want));
    assert_eq!(got.len(), 6);
    let got = list(&db, &Scope::All, &UnitFilter { kind: Some(UnitKind::Department), ..Default::default() }).await;
    assert_eq!(got.len(), 3);

    // Parent: direct children only.
    let got = list(&db, &Scope::All, &UnitFilter { parent: Some(t.village.id), ..Default::default() }).await;
    assert_eq!(names(&got), expected_names(&expected(&[&t.grid1, &t.grid2], |_| true)));
    let got = list(&db, &Scope::All, &UnitFilter { parent: Some(t.grid2.id), include_inactive: true, ..Default::default() }).await;
    assert_eq!(names(&got), ["东风物流有限公司"]);

    // q: a Chinese substring of the name, the short name or the credit code.
    let q = |s: &str| UnitFilter { q: Some(s.to_string()), include_inactive: true, ..Default::default() };
    assert_eq!(names(&list(&db, &town, &q("化工")).await), ["上海示例化工有限公司"]);
    assert_eq!(names(&list(&db, &town, &q("  示例化工 ")).await), ["上海示例化工有限公司"], "q is trimmed");
    assert_eq!(names(&list(&db, &town, &q("M000100")).await), ["上海示例化工有限公司"]);
    assert_eq!(names(&list(&db, &town, &q("安监")).await), ["安全生产监督管理所"]);
    let got = list(&db, &Scope::All, &q("派出所")).await;
    assert_eq!(got.len(), 2);
    assert_eq!(list(&db, &town, &q("派出所")).await.len(), 1, "q does not leave the scope");
    // % and _ are matched literally, not as wildcards.
    assert_eq!(names(&list(&db, &town, &q("100%")).await), ["100%纯净水厂"]);
    assert_eq!(names(&list(&db, &town, &q("%")).await), ["100%纯净水厂"]);
    assert_eq!(names(&list(&db, &town, &q("东_机")).await), ["华东_机械厂"]);
    assert_eq!(names(&list(&db, &town, &q("_")).await), ["华东_机械厂"]);
    assert!(list(&db, &town, &q("\\")).await.is_empty(), "a backslash is literal too");
    assert!(list(&db, &town, &q("不存在的单位")).await.is_empty());

    // Flags.
    let flag = |f: EnterpriseFlag| UnitFilter { flag: Some(f), ..Default::default() };
    assert_eq!(names(&list(&db, &town, &flag(EnterpriseFlag::HazardousChemicals)).await), ["上海示例化工有限公司"]);
    let got = list(&db, &town, &flag(EnterpriseFlag::CrowdedPlace)).await;
    assert_eq!(names(&got), expected_names(&expected(&[&t.water, &t.mall], |_| true)));
    assert_eq!(names(&list(&db, &town, &flag(EnterpriseFlag::Gas)).await), ["西湖商场"]);
    assert!(list(&db, &town, &flag(EnterpriseFlag::Metallurgy)).await.is_empty());

    // Filters combine.
    let f = UnitFilter {
        kind: Some(UnitKind::Enterprise),
        parent: Some(t.grid1.id),
        q: Some("机械".into()),
        ..Default::default()
    };
    assert_eq!(names(&list(&db, &town, &f).await), expected_names(&expected(&[&t.underscore, &t.lookalike], |_| true)));
}

pub async fn keyset_pagination(db: Db) {
    let t = tree();
    let mut all = t.all();
    // More enterprises, so that pages are many.
    let extra: Vec<Unit> = (0..23).map(|i| enterprise(&t.grid2, &format!("第{i}号企业"), &format!("9131000000000{i:05}"))).collect();
    all.extend(extra.iter());
    insert_units(&db, &all).await;
    let want: Vec<UnitId> = expected(&all, |_| true).iter().map(|u| u.id).collect();

    for limit in [1, 4, 7, 100] {
        let mut seen = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let f = UnitFilter { include_inactive: true, after_path: after.clone(), limit, ..Default::default() };
            let page = list(&db, &Scope::All, &f).await;
            assert!(page.len() as i64 <= limit);
            let Some(last) = page.last() else { break };
            after = Some(last.path.as_str().to_string());
            seen.extend(page.iter().map(|u| u.id));
            pages += 1;
            assert!(pages <= want.len() + 1, "pagination terminates");
        }
        assert_eq!(seen, want, "limit {limit}: every unit exactly once, in path order");
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len());
    }

    // Pagination within a scope and with a filter.
    let f = |after: Option<String>| UnitFilter {
        kind: Some(UnitKind::Enterprise),
        after_path: after,
        limit: 5,
        ..Default::default()
    };
    let scope = Scope::Subtree(t.village.path.clone());
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = list(&db, &scope, &f(after.clone())).await;
        let Some(last) = page.last() else { break };
        after = Some(last.path.as_str().to_string());
        seen.extend(page.into_iter().map(|u| u.id));
    }
    let want: Vec<UnitId> = expected(&all, |u| u.active && u.kind == UnitKind::Enterprise && u.path.is_within(&t.village.path))
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(want.len(), 28);
    assert_eq!(seen, want);

    // A limit of zero or less means the default page size.
    let got = list(&db, &Scope::All, &UnitFilter { limit: 0, include_inactive: true, ..Default::default() }).await;
    assert_eq!(got.len(), all.len());
}

pub async fn versions_and_conflicts(db: Db) {
    let t = tree();
    insert_units(&db, &t.all()).await;

    // Update with the right version.
    let mut changed = t.chem.clone();
    changed.name = "上海示例新材料有限公司".into();
    changed.short_name = None;
    changed.flags = vec![EnterpriseFlag::CombustibleDust];
    changed.scale = Some(EnterpriseScale::BelowThreshold);
    changed.longitude = Some(121.5);
    changed.latitude = Some(31.25);
    changed.active = false;
    changed.updated_at = at(3600);
    changed.version = 2;
    let mut tx = db.begin().await.unwrap();
    units::update(&mut tx, &changed, 1).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.read().await.unwrap();
    let got = units::get(&mut tx, t.chem.id).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(got, changed);
    assert_eq!(got.created_at, t.chem.created_at, "update keeps created_at");
    // Clearing every flag round-trips as an empty list.
    let mut no_flags = changed.clone();
    no_flags.flags.clear();
    no_flags.version = 3;
    let mut tx = db.begin().await.unwrap();
    units::update(&mut tx, &no_flags, 2).await.unwrap();
    assert!(units::get(&mut tx, t.chem.id).await.unwrap().unwrap().flags.is_empty());
    tx.commit().await.unwrap();

    // A stale version changes nothing.
    let mut stale = t.chem.clone();
    stale.name = "过期的修改".into();
    stale.version = 2;
    let mut tx = db.begin().await.unwrap();
    let err = units::update(&mut tx, &stale, 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Stale), "stale version: {err:?}");
    tx.rollback().await.unwrap();
    let mut tx = db.read().await.unwrap();
    assert_eq!(units::get(&mut tx, t.chem.id).await.unwrap().unwrap().name, "上海示例新材料有限公司");
    tx.commit().await.unwrap();
    // An unknown unit is reported the same way (nothing matched the version).
    let mut ghost = unit(Some(&t.grid1), UnitKind::Enterprise, "不存在");
    ghost.version = 2;
    let mut tx = db.begin().await.unwrap();
    assert!(matches!(units::update(&mut tx, &ghost, 1).await, Err(StoreError::Stale)));
    tx.rollback().await.unwrap();

    // Duplicate credit code on insert.
    let dup = enterprise(&t.grid2, "另一家公司", "91350100M000100Y43");
    let mut tx = db.begin().await.unwrap();
    let r = units::insert(&mut tx, &dup).await;
    match expect_err(r, tx).await {
        StoreError::Conflict(name) => assert!(name.contains("credit_code"), "conflict names the column: {name}"),
        e => panic!("duplicate credit code: expected Conflict, got {e:?}"),
    }
    // Duplicate credit code on update.
    let mut water = t.water.clone();
    water.credit_code = t.mall.credit_code.clone();
    water.version = 2;
    let mut tx = db.begin().await.unwrap();
    let r = units::update(&mut tx, &water, 1).await;
    assert!(matches!(expect_err(r, tx).await, StoreError::Conflict(_)));

    // Duplicate sibling name.
    let twin = unit(Some(&t.gov), UnitKind::Department, "派出所");
    let mut tx = db.begin().await.unwrap();
    let r = units::insert(&mut tx, &twin).await;
    assert!(matches!(expect_err(r, tx).await, StoreError::Conflict(_)), "duplicate sibling name");
    // Renaming onto a sibling's name.
    let mut police = t.dept_police.clone();
    police.name = t.dept_safety.name.clone();
    police.version = 2;
    let mut tx = db.begin().await.unwrap();
    let r = units::update(&mut tx, &police, 1).await;
    assert!(matches!(expect_err(r, tx).await, StoreError::Conflict(_)), "rename onto a sibling's name");

    // The same name under another parent is fine; nothing failed above was kept.
    let cousin = unit(Some(&t.village), UnitKind::Department, "派出所");
    insert_units(&db, &[&cousin]).await;
    let mut tx = db.read().await.unwrap();
    assert_eq!(units::count(&mut tx).await.unwrap(), t.all().len() as i64 + 1);
    assert_eq!(units::get(&mut tx, t.water.id).await.unwrap().unwrap(), t.water);
    assert_eq!(units::get(&mut tx, t.dept_police.id).await.unwrap().unwrap(), t.dept_police);
    tx.commit().await.unwrap();
}

/// The nearest government at or above a unit, as used for office staff's
/// jurisdiction: a district above a town above a village.
async fn nearest_of_kind(db: Db) {
    let district = unit(None, UnitKind::Government, "嘉定区");
    let town = unit(Some(&district), UnitKind::Government, "南翔镇");
    let village = unit(Some(&town), UnitKind::Locality, "一村");
    let grid = unit(Some(&village), UnitKind::Grid, "一村网格");
    let lone = unit(None, UnitKind::Committee, "无上级");
    insert_units(&db, &[&district, &town, &village, &grid, &lone]).await;
    let mut tx = db.read().await.unwrap();
    for (from, expected) in [(&grid, Some(town.path.clone())), (&town, Some(town.path.clone())), (&district, Some(district.path.clone())), (&lone, None)] {
        let found = bihuan_store::units::nearest_of_kind(&mut tx, &from.path, UnitKind::Government).await.unwrap();
        assert_eq!(found, expected, "from {}", from.name);
    }
    tx.commit().await.unwrap();
}

scenario!(roundtrip => sqlite_units_roundtrip, postgres_units_roundtrip);
scenario!(scoped_lists_and_filters => sqlite_units_scoped_lists_and_filters, postgres_units_scoped_lists_and_filters);
scenario!(keyset_pagination => sqlite_units_keyset_pagination, postgres_units_keyset_pagination);
scenario!(versions_and_conflicts => sqlite_units_versions_and_conflicts, postgres_units_versions_and_conflicts);
scenario!(nearest_of_kind => sqlite_units_nearest_of_kind, postgres_units_nearest_of_kind);
