//! The audit hash chain: append, list, verify, and detection of tampering.

use crate::fixtures::{at, at_micros};
use crate::harness::{raw_exec, scenario};
use bihuan_domain::audit::{AuditEntry, ChainBreak, GENESIS_HASH};
use bihuan_domain::ids::{AuditId, UnitId, UserId};
use bihuan_store::audit::{self, AuditFilter, NewEntry};
use bihuan_store::{Db, StoreError};

pub fn entry(i: i64, actor: Option<UserId>, action: &str, entity_type: &str) -> NewEntry {
    NewEntry {
        // Nanoseconds are dropped by the store (the hash covers microseconds).
        at: at(i) + time::Duration::nanoseconds(1_234_567),
        actor_user_id: actor,
        actor_name: match actor {
            Some(_) => format!("用户{i}"),
            None => "system".into(),
        },
        actor_unit_id: actor.map(|_| UnitId::new()),
        action: action.to_string(),
        entity_type: entity_type.to_string(),
        entity_id: Some(format!("e{i}")),
        before: (i % 2 == 0).then(|| format!("{{\"名称\":\"旧{i}\"}}")),
        after: Some(format!("{{\"名称\":\"新{i}\",\"n\":{i}}}")),
        request_id: (i % 3 == 0).then(|| format!("req-{i}")),
    }
}

/// Appends one entry in its own committed transaction.
pub async fn append(db: &Db, e: NewEntry) -> AuditEntry {
    let mut tx = db.begin().await.unwrap();
    let stored = audit::append(&mut tx, e).await.unwrap();
    tx.commit().await.unwrap();
    stored
}

pub async fn verify(db: &Db) -> audit::VerifyReport {
    let mut tx = db.read().await.unwrap();
    let r = audit::verify(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    r
}

async fn list(db: &Db, f: &AuditFilter) -> Vec<AuditEntry> {
    let mut tx = db.read().await.unwrap();
    let v = audit::list(&mut tx, f).await.unwrap();
    tx.commit().await.unwrap();
    v
}

fn seqs(v: &[AuditEntry]) -> Vec<i64> {
    v.iter().map(|e| e.seq).collect()
}

pub async fn chain(db: Db) {
    // An empty chain verifies.
    let r = verify(&db).await;
    assert_eq!((r.checked, r.head_seq, r.result), (0, 0, Ok(())));

    let alice = UserId::new();
    let bob = UserId::new();
    let plan: [(Option<UserId>, &str, &str); 7] = [
        (None, "system.init", "system"),
        (Some(alice), "unit.create", "unit"),
        (Some(alice), "unit.update", "unit"),
        (Some(bob), "user.create", "user"),
        (Some(bob), "user.password_reset", "user"),
        (Some(alice), "unit.create", "unit"),
        (Some(bob), "units.import", "unit"),
    ];
    let n = plan.len() as i64;
    let mut stored = Vec::new();
    for (i, (actor, action, ty)) in plan.iter().enumerate() {
        stored.push(append(&db, entry(i as i64 + 1, *actor, action, ty)).await);
    }

    // seq 1..N, each linked to the previous hash, each hash recomputable.
    let mut prev = GENESIS_HASH.to_string();
    for (i, e) in stored.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1);
        assert_eq!(e.prev_hash, prev);
        assert_eq!(e.hash, e.compute_hash());
        assert_eq!(e.hash.len(), 64);
        assert_eq!(e.at, at(i as i64 + 1) + time::Duration::microseconds(1_234), "at is truncated to µs");
        prev = e.hash.clone();
    }
    let mut tx = db.read().await.unwrap();
    assert_eq!(audit::head(&mut tx).await.unwrap(), (n, prev.clone()));
    // Stored entries read back exactly as returned by append.
    for e in &stored {
        assert_eq!(&audit::get(&mut tx, e.id).await.unwrap(), e);
    }
    assert!(matches!(audit::get(&mut tx, AuditId::new()).await, Err(StoreError::NotFound)));
    assert_eq!(audit::batch_after(&mut tx, 0, 100).await.unwrap(), stored);
    assert_eq!(seqs(&audit::batch_after(&mut tx, 2, 3).await.unwrap()), [3, 4, 5]);
    tx.commit().await.unwrap();

    let r = verify(&db).await;
    assert_eq!(r.result, Ok(()));
    assert_eq!((r.checked, r.head_seq), (n as u64, n));

    // A rolled-back append leaves no entry and does not move the head.
    let mut tx = db.begin().await.unwrap();
    let ghost = audit::append(&mut tx, entry(99, Some(alice), "unit.delete", "unit")).await.unwrap();
    assert_eq!(ghost.seq, n + 1);
    tx.rollback().await.unwrap();
    let mut tx = db.read().await.unwrap();
    assert_eq!(audit::head(&mut tx).await.unwrap(), (n, prev.clone()));
    assert!(matches!(audit::get(&mut tx, ghost.id).await, Err(StoreError::NotFound)));
    tx.commit().await.unwrap();
    let r = verify(&db).await;
    assert_eq!((r.checked, r.result), (n as u64, Ok(())));
    // The next append takes the sequence number the rolled-back one had.
    let next = append(&db, entry(n + 1, Some(alice), "unit.update", "unit")).await;
    assert_eq!(next.seq, n + 1);
    assert_eq!(next.prev_hash, prev);
    stored.push(next);
    let n = n + 1;
    let r = verify(&db).await;
    assert_eq!((r.checked, r.head_seq, r.result), (n as u64, n, Ok(())));

    // Tampering with entry 3 is named, and restoring it heals the chain.
    let original = stored[2].after.clone().unwrap();
    let rows = raw_exec!(&db, "UPDATE audit_entry SET after_json = $1 WHERE seq = $2", "{\"名称\":\"篡改\"}", 3_i64);
    assert_eq!(rows, 1);
    let r = verify(&db).await;
    assert_eq!(r.result, Err(ChainBreak::Tampered { seq: 3, id: stored[2].id }));
    assert_eq!(r.checked, 2);
    raw_exec!(&db, "UPDATE audit_entry SET after_json = $1 WHERE seq = $2", original, 3_i64);
    assert_eq!(verify(&db).await.result, Ok(()));

    // Rewriting an entry together with its hash breaks the next link.
    let mut forged = stored[3].clone();
    forged.actor_name = "冒名".into();
    forged.hash = forged.compute_hash();
    raw_exec!(&db, "UPDATE audit_entry SET actor_name = $1, hash = $2 WHERE seq = $3", forged.actor_name.clone(), forged.hash.clone(), 4_i64);
    assert_eq!(verify(&db).await.result, Err(ChainBreak::BrokenLink { seq: 5, id: stored[4].id }));
    raw_exec!(&db, "UPDATE audit_entry SET actor_name = $1, hash = $2 WHERE seq = $3", stored[3].actor_name.clone(), stored[3].hash.clone(), 4_i64);
    assert_eq!(verify(&db).await.result, Ok(()));

    // Deleting the last entry is a truncation.
    assert_eq!(raw_exec!(&db, "DELETE FROM audit_entry WHERE seq = $1", n), 1);
    let r = verify(&db).await;
    assert_eq!(r.result, Err(ChainBreak::Truncated { head_seq: n, last_seq: n - 1 }));
    assert_eq!(r.checked, (n - 1) as u64);
    // Deleting one in the middle is a gap.
    assert_eq!(raw_exec!(&db, "DELETE FROM audit_entry WHERE seq = $1", 2_i64), 1);
    assert_eq!(verify(&db).await.result, Err(ChainBreak::Gap { expected: 2, found: 3 }));
}

pub async fn filters(db: Db) {
    let alice = UserId::new();
    let bob = UserId::new();
    let plan: [(Option<UserId>, &str, &str); 8] = [
        (None, "system.init", "system"),
        (Some(alice), "unit.create", "unit"),
        (Some(alice), "unit.update", "unit"),
        (Some(bob), "user.create", "user"),
        (Some(bob), "user.password_reset", "user"),
        (Some(alice), "unit.create", "unit"),
        (Some(bob), "units.import", "unit"),
        (Some(alice), "user.update", "user"),
    ];
    for (i, (actor, action, ty)) in plan.iter().enumerate() {
        append(&db, entry(i as i64 + 1, *actor, action, ty)).await;
    }

    // Newest first.
    assert_eq!(seqs(&list(&db, &AuditFilter::default()).await), [8, 7, 6, 5, 4, 3, 2, 1]);
    let by_type = AuditFilter { entity_type: Some("unit".into()), ..Default::default() };
    assert_eq!(seqs(&list(&db, &by_type).await), [7, 6, 3, 2]);
    let by_actor = AuditFilter { actor: Some(alice), ..Default::default() };
    assert_eq!(seqs(&list(&db, &by_actor).await), [8, 6, 3, 2]);
    let by_entity = AuditFilter { entity_type: Some("unit".into()), entity_id: Some("e3".into()), ..Default::default() };
    assert_eq!(seqs(&list(&db, &by_entity).await), [3]);
    // Action is a prefix: "unit." does not match "units.import".
    let by_action = |a: &str| AuditFilter { action: Some(a.into()), ..Default::default() };
    assert_eq!(seqs(&list(&db, &by_action("unit.")).await), [6, 3, 2]);
    assert_eq!(seqs(&list(&db, &by_action("unit")).await), [7, 6, 3, 2]);
    assert_eq!(seqs(&list(&db, &by_action("unit.create")).await), [6, 2]);
    assert_eq!(seqs(&list(&db, &by_action("user.")).await), [8, 5, 4]);
    assert!(list(&db, &by_action("%")).await.is_empty(), "% in a prefix is literal");
    assert!(list(&db, &by_action("create")).await.is_empty(), "a prefix, not a substring");
    // Filters combine.
    let f = AuditFilter { actor: Some(bob), entity_type: Some("user".into()), action: Some("user.".into()), ..Default::default() };
    assert_eq!(seqs(&list(&db, &f).await), [5, 4]);
    // Time range: [from, to). Entry i is at i s + 1.234 ms; bounds in other
    // seconds (see known_bugs for bounds in the same second on SQLite).
    let f = AuditFilter { from: Some(at_micros(2_500_000)), to: Some(at_micros(5_500_000)), ..Default::default() };
    assert_eq!(seqs(&list(&db, &f).await), [5, 4, 3]);
    let f = AuditFilter { from: Some(at_micros(6_500_000)), ..Default::default() };
    assert_eq!(seqs(&list(&db, &f).await), [8, 7]);
    let f = AuditFilter { to: Some(at_micros(1_500_000)), ..Default::default() };
    assert_eq!(seqs(&list(&db, &f).await), [1]);

    // Keyset: pages of 3 before a sequence number cover everything once.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = list(&db, &AuditFilter { before_seq: before, limit: 3, ..Default::default() }).await;
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        before = Some(last.seq);
        seen.extend(seqs(&page));
    }
    assert_eq!(seen, [8, 7, 6, 5, 4, 3, 2, 1]);
    let f = AuditFilter { before_seq: Some(6), actor: Some(alice), limit: 1, ..Default::default() };
    assert_eq!(seqs(&list(&db, &f).await), [3]);
}

scenario!(chain => sqlite_audit_chain, postgres_audit_chain);
scenario!(filters => sqlite_audit_filters, postgres_audit_filters);
