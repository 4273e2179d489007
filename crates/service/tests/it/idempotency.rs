//! Idempotency keys on the hazard report and on actions: the same request
//! sent again (Back, a retry, an offline draft re-sent) registers nothing
//! twice, even when the two copies arrive at once; a key is the user's own,
//! covers what the request says, and expires after a day.

use crate::ledger::town;
use crate::{scenario, service_with_clock};
use bihuan_domain::hazard::{HazardDraft, HazardState};
use bihuan_domain::ErrorCode;
use bihuan_service::hazards::ActionInput;
use bihuan_service::idempotency::IdempotencyKey;
use bihuan_service::Ctx;
use bihuan_store::audit::AuditFilter;
use bihuan_store::hazards::HazardFilter;
use bihuan_store::Db;

async fn hazards(svc: &bihuan_service::Service) -> usize {
    let f = HazardFilter { limit: 500, ..Default::default() };
    svc.list_hazards(&Ctx::system("t"), &f).await.unwrap().0.len()
}

async fn audit_entries(svc: &bihuan_service::Service) -> usize {
    svc.audit_log(&Ctx::system("t"), &AuditFilter { limit: 1000, ..Default::default() }).await.unwrap().len()
}

async fn keyed_reports(db: Db) {
    let (svc, clock) = service_with_clock(db);
    let t = town(&svc).await;
    let draft = HazardDraft {
        unit_id: Some(t.firm.to_string()),
        name: "配电箱未上锁".into(),
        description: "二号车间配电箱门未上锁".into(),
        level: Some("general".into()),
        ..Default::default()
    };
    let key = IdempotencyKey::parse("4b1e6f0e-3c2a-4d7b-9a51-0c8f2d7e9a10").unwrap();

    let first = svc.report_hazard_keyed(&t.firm_boss, Some(&key), &draft, None, vec![]).await.unwrap();
    assert!(!first.replayed);
    let (n, audits) = (hazards(&svc).await, audit_entries(&svc).await);
    assert_eq!(n, 1);

    // Sent again: the same hazard, nothing written (no hazard, no audit entry).
    let again = svc.report_hazard_keyed(&t.firm_boss, Some(&key), &draft, None, vec![]).await.unwrap();
    assert!(again.replayed);
    assert_eq!((again.hazard.id, again.hazard.code.as_str()), (first.hazard.id, first.hazard.code.as_str()));
    assert_eq!((hazards(&svc).await, audit_entries(&svc).await), (n, audits));

    // The same key with something else typed is refused, not silently dropped.
    let changed = HazardDraft { name: "配电箱门损坏".into(), ..draft.clone() };
    let e = svc.report_hazard_keyed(&t.firm_boss, Some(&key), &changed, None, vec![]).await.unwrap_err();
    assert_eq!((e.code, e.fields[0].field.as_str()), (ErrorCode::Validation, "idempotency_key"), "{e}");

    // The key is the user's own: another user with the same key registers anew.
    let other = HazardDraft { unit_id: Some(t.firm.to_string()), ..draft.clone() };
    let theirs = svc.report_hazard_keyed(&t.inspector, Some(&key), &other, None, vec![]).await.unwrap();
    assert!(!theirs.replayed);
    assert_ne!(theirs.hazard.id, first.hazard.id);
    assert_eq!(hazards(&svc).await, 2);

    // A refused report records no key: sent again once corrected, it registers.
    let key2 = IdempotencyKey::parse("second-report-0001").unwrap();
    let bad = HazardDraft { name: String::new(), ..draft.clone() };
    assert_eq!(svc.report_hazard_keyed(&t.firm_boss, Some(&key2), &bad, None, vec![]).await.unwrap_err().code, ErrorCode::Validation);
    let fixed = HazardDraft { name: "消防通道堵塞".into(), ..draft.clone() };
    assert!(!svc.report_hazard_keyed(&t.firm_boss, Some(&key2), &fixed, None, vec![]).await.unwrap().replayed);
    assert_eq!(hazards(&svc).await, 3);

    // Two copies at once (a phone retrying while the first is still being
    // written): one hazard, both answered with it.
    let key3 = IdempotencyKey::parse("concurrent-copies-01").unwrap();
    let twin = HazardDraft { name: "叉车无证驾驶".into(), ..draft.clone() };
    let (a, b) = tokio::join!(
        svc.report_hazard_keyed(&t.firm_boss, Some(&key3), &twin, None, vec![]),
        svc.report_hazard_keyed(&t.firm_boss, Some(&key3), &twin, None, vec![]),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.hazard.id, b.hazard.id);
    assert!(a.replayed != b.replayed, "exactly one of the two registered it");
    assert_eq!(hazards(&svc).await, 4);

    // An action sent twice acts once: the second answers with the hazard as it is.
    let assign = ActionInput { action: "assign".into(), responsible_person: Some("王五".into()), deadline_days: Some(5), ..Default::default() };
    let k_assign = IdempotencyKey::parse("assign-once-000001").unwrap();
    let done = svc.act_on_hazard_keyed(&t.office, Some(&k_assign), first.hazard.id, &assign).await.unwrap();
    assert_eq!((done.hazard.state, done.replayed), (HazardState::Assigned, false));
    let start = ActionInput { action: "start".into(), ..Default::default() };
    let k_start = IdempotencyKey::parse("start-once-0000001").unwrap();
    let started = svc.act_on_hazard_keyed(&t.firm_boss, Some(&k_start), first.hazard.id, &start).await.unwrap();
    assert_eq!(started.hazard.state, HazardState::Rectifying);
    // Without the key the repeat would be refused (the hazard has moved on); with it, it is answered.
    assert_eq!(svc.act_on_hazard(&t.firm_boss, first.hazard.id, &start).await.unwrap_err().code, ErrorCode::Conflict);
    let again = svc.act_on_hazard_keyed(&t.firm_boss, Some(&k_start), first.hazard.id, &start).await.unwrap();
    assert!(again.replayed);
    assert_eq!((again.hazard.state, again.hazard.version), (HazardState::Rectifying, started.hazard.version));
    let events = svc.hazard_detail(&t.office, first.hazard.id).await.unwrap().events;
    assert_eq!(events.iter().filter(|e| e.action == "start").count(), 1);
    // The report's key cannot stand for an action.
    let e = svc.act_on_hazard_keyed(&t.firm_boss, Some(&key), first.hazard.id, &start).await.unwrap_err();
    assert_eq!(e.fields[0].field, "idempotency_key");

    // After a day the key is forgotten: the same request registers again.
    clock.advance(time::Duration::hours(24) + time::Duration::seconds(1));
    let later = svc.report_hazard_keyed(&t.firm_boss, Some(&key), &draft, None, vec![]).await.unwrap();
    assert!(!later.replayed);
    assert_eq!(hazards(&svc).await, 5);

    // The system caller (imports, the command line) has no keys.
    let sys = svc.report_hazard_keyed(&Ctx::system("t"), Some(&key), &draft, None, vec![]).await.unwrap();
    assert!(!sys.replayed);
}

scenario!(keyed_reports => sqlite_keyed_reports, postgres_keyed_reports);
