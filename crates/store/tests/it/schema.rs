//! Both migrations describe the same schema.

use crate::harness::{pg_url, sqlite_db, FreshPg, PG_ENV};
use bihuan_store::{Db, Engine, StoreError};

const TABLES: [&str; 45] = [
    "api_token",
    "app_user",
    "area",
    "area_lead",
    "attachment",
    "audit_entry",
    "audit_head",
    "campaign",
    "campaign_post",
    "campaign_unit",
    "channel",
    "circular",
    "circular_item",
    "circular_recipient",
    "delivery",
    "delivery_attempt",
    "digest_item",
    "hazard",
    "hazard_attachment",
    "hazard_event",
    "hazard_extension",
    "hazard_listing",
    "hazard_tally",
    "holiday_notice",
    "idempotency_key",
    "indicator",
    "indicator_lead",
    "indicator_value",
    "job_lease",
    "job_run",
    "login_attempt",
    "measure",
    "measure_event",
    "notification",
    "number_counter",
    "phase",
    "statistics_report",
    "subscription",
    "task",
    "unit",
    "user_session",
    "warning",
    "warning_audience",
    "warning_event",
    "warning_rule",
];

#[tokio::test]
async fn sqlite_migrations_are_applied_once() {
    let (_dir, db) = sqlite_db().await;
    let known: Vec<i64> = db.known_migrations().iter().map(|m| m.0).collect();
    assert!(!known.is_empty());
    assert_eq!(db.applied_migrations().await.unwrap(), known);
    db.migrate().await.unwrap();
    assert_eq!(db.applied_migrations().await.unwrap(), known, "migrating again changes nothing");
    let schema = db.schema().await.unwrap();
    let mut tables: Vec<&str> = schema.iter().map(|c| c.0.as_str()).collect();
    tables.dedup();
    assert_eq!(tables, TABLES);
    db.ping().await.unwrap();
    assert_eq!(db.engine(), Engine::Sqlite);
    let tx = db.read().await.unwrap();
    assert_eq!(tx.engine(), Engine::Sqlite);
    tx.rollback().await.unwrap();
    db.close().await;
}

#[tokio::test]
async fn connect_rejects_unknown_urls_without_leaking_passwords() {
    for url in ["mysql://bihuan:s3cret@db:3306/bihuan", "bihuan.db", "sqlite", "postgres:/x"] {
        match Db::connect(url).await {
            Err(StoreError::BadUrl(msg)) => assert!(!msg.contains("s3cret"), "{msg}"),
            other => panic!("{url}: expected BadUrl, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn schema_parity_sqlite_postgres() {
    let Some(url) = pg_url() else {
        eprintln!("note: schema_parity_sqlite_postgres skipped: set {PG_ENV}=postgres://… to run it");
        return;
    };
    let (_dir, lite) = sqlite_db().await;
    let fresh = FreshPg::create(&url).await;
    let pg = fresh.db().await;
    assert_eq!(pg.engine(), Engine::Postgres);
    let (a, b) = (lite.schema().await, pg.schema().await);
    let (ma, mb) = (lite.known_migrations(), pg.known_migrations());
    let applied = pg.applied_migrations().await;
    pg.close().await;
    fresh.drop_db().await;
    lite.close().await;
    let (a, b, applied) = (a.unwrap(), b.unwrap(), applied.unwrap());

    assert_eq!(ma, mb, "same migration versions and names on both engines");
    assert_eq!(applied, mb.iter().map(|m| m.0).collect::<Vec<_>>());
    let only_sqlite: Vec<_> = a.iter().filter(|c| !b.contains(c)).collect();
    let only_pg: Vec<_> = b.iter().filter(|c| !a.contains(c)).collect();
    assert!(only_sqlite.is_empty() && only_pg.is_empty(), "schemas differ:\n only SQLite: {only_sqlite:#?}\n only PostgreSQL: {only_pg:#?}");
    assert_eq!(a, b);
    assert!(a.len() > 100, "every column is compared ({} columns)", a.len());
}
