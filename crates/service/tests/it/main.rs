//! Service tests: use cases on a real database, on SQLite and (with
//! `BIHUAN_TEST_PG_URL`) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod attachments;
mod campaigns;
mod channels;
mod circulars;
mod hazards;
mod idempotency;
mod ledger;
mod measures;
mod notices;
mod tokens;
mod warnings;

use bihuan_domain::ids::UnitId;
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitDraft;
use bihuan_service::accounts::NewUser;
use bihuan_service::password::Hasher;
use bihuan_service::Ctx;
use bihuan_service::{Service, Settings};
use bihuan_store::Db;
use bihuan_testkit::TestClock;
use std::sync::Arc;

pub fn service(db: Db) -> Service {
    service_with_clock(db).0
}

/// A service on a clock the test moves (starts Saturday 1 May 2021, 10:00 Beijing time).
pub fn service_with_clock(db: Db) -> (Service, Arc<TestClock>) {
    let clock = Arc::new(TestClock::at(time::macros::datetime!(2021-05-01 10:00 +08:00)));
    (Service::new(db, clock.clone(), Settings { password: Hasher::for_tests(), ..Default::default() }), clock)
}

/// A unit under `parent`, of `kind` (a locality is a village).
pub async fn unit(svc: &Service, parent: UnitId, name: &str, kind: &str) -> UnitId {
    let d = UnitDraft {
        name: name.into(),
        kind: Some(kind.into()),
        locality_kind: (kind == "locality").then(|| "village".into()),
        ..Default::default()
    };
    svc.create_unit(&Ctx::system("t"), Some(parent), &d).await.unwrap().id
}

/// A new user of `role` in `unit`, acting.
pub async fn as_user(svc: &Service, username: &str, role: Role, unit: UnitId) -> Ctx {
    let u = NewUser {
        username: username.into(),
        display_name: format!("{username}姓名"),
        unit_id: unit.to_string(),
        role: role.as_str().into(),
        password: "Service-pass-1".into(),
        ..Default::default()
    };
    let user = svc.create_user(&Ctx::system("t"), &u).await.unwrap();
    let mut tx = svc.db.read().await.unwrap();
    let actor = svc.actor_for(&mut tx, &user).await.unwrap();
    tx.commit().await.unwrap();
    Ctx::user(actor, None)
}

/// The town of the bundled plan with its office, a village and an enterprise in it.
pub struct Town {
    pub gov: UnitId,
    pub office_unit: UnitId,
    pub village: UnitId,
    pub firm: UnitId,
}

pub async fn town(svc: &Service) -> Town {
    let gov = svc.home_unit().await.unwrap();
    let units = svc.list_units(&Ctx::system("t"), &Default::default()).await.unwrap();
    let office_unit = units.iter().find(|u| u.name == "镇安全生产专项整治三年行动领导小组办公室").unwrap().id;
    let village = unit(svc, gov, "红翔村", "locality").await;
    let firm = unit(svc, village, "上海甲机械有限公司", "enterprise").await;
    Town { gov, office_unit, village, firm }
}

/// Switches off every warning rule but these, so a scenario's messages are exact.
pub async fn only_rules(svc: &Service, keep: &[bihuan_domain::warning::RuleCode]) {
    for r in svc.warning_rules().await.unwrap() {
        let code = bihuan_domain::warning::RuleCode::parse(&r.code).unwrap();
        let params: serde_json::Value = serde_json::from_str(&r.params_json).unwrap();
        svc.update_warning_rule(&Ctx::system("t"), code, keep.contains(&code), &params, r.version).await.unwrap();
    }
}

/// One `async fn(Db)` scenario as a SQLite test and a PostgreSQL test.
macro_rules! scenario {
    ($scenario:path => $sqlite:ident, $pg:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            bihuan_testkit::on_engine(bihuan_testkit::Engine::Sqlite, stringify!($sqlite), $scenario).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $pg() {
            bihuan_testkit::on_engine(bihuan_testkit::Engine::Postgres, stringify!($pg), $scenario).await
        }
    };
}
pub(crate) use scenario;
