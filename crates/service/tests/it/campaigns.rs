use crate::{scenario, service};
use bihuan_domain::campaign::{parse_plan, BUNDLED_PLAN};
use bihuan_service::campaigns::NewIndicatorValue;
use bihuan_service::Ctx;
use bihuan_store::Db;

/// The bundled plan goes into the database and comes out unchanged; a
/// second import updates in place and keeps reported values.
async fn import_export_round_trip(db: Db) {
    let svc = service(db);
    let ctx = Ctx::system("test");
    let plan = parse_plan(BUNDLED_PLAN).unwrap();
    let first = svc.import_plan(&ctx, &plan, None).await.unwrap();
    assert!(first.created);
    assert_eq!((first.phases, first.areas, first.indicators), (4, 11, plan.indicators.len()));
    assert_eq!(first.units_created, plan.units.len());

    let exported = svc.export_plan(&ctx, first.campaign_id).await.unwrap();
    assert_eq!(exported, plan);
    assert_eq!(parse_plan(&exported.to_toml().unwrap()).unwrap(), plan);

    // A value reported before a re-import survives it.
    let admin = svc.first_start(Some("admin-pass-1")).await.unwrap();
    assert!(admin.admin_created && admin.campaign_loaded.is_none());
    let user = svc.user_by_name("admin").await.unwrap().unwrap();
    let mut tx = svc.db.read().await.unwrap();
    let actor = svc.actor_for(&mut tx, &user).await.unwrap();
    tx.commit().await.unwrap();
    let admin_ctx = Ctx::user(actor, None);
    let campaign = svc.campaign(&admin_ctx, first.campaign_id).await.unwrap();
    let indicator = campaign.indicators.iter().find(|i| i.code == "a01-qualified-inspector-share").unwrap();
    let input = NewIndicatorValue { value: "60".into(), measured_on: "2021-04-30".into(), evidence: "台账".into(), ..Default::default() };
    svc.report_value(&admin_ctx, indicator.id, &input).await.unwrap();

    let again = svc.import_plan(&ctx, &plan, None).await.unwrap();
    assert!(!again.created);
    assert_eq!((again.campaign_id, again.units_created), (first.campaign_id, 0));
    let (after, values) = svc.indicator(&admin_ctx, indicator.id).await.unwrap();
    assert_eq!(values.len(), 1);
    assert_eq!(after.latest.map(|v| v.value.to_string()), Some("60".into()));
    assert_eq!(svc.export_plan(&ctx, first.campaign_id).await.unwrap(), plan);

    // Dropping an indicator that has values is refused, and nothing changes.
    let mut smaller = plan.clone();
    smaller.indicators.retain(|i| i.code != "a01-qualified-inspector-share");
    let err = svc.import_plan(&ctx, &smaller, None).await.unwrap_err();
    assert!(err.fields.iter().any(|f| f.en.contains("a01-qualified-inspector-share")), "{err}");
    assert_eq!(svc.export_plan(&ctx, first.campaign_id).await.unwrap(), plan);
    assert!(svc.verify_audit().await.unwrap().result.is_ok());
}

scenario!(import_export_round_trip => sqlite_import_export_round_trip, postgres_import_export_round_trip);
