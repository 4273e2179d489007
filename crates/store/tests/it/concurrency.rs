//! Many writers appending to the audit chain at once.

use crate::audit::{entry, verify};
use crate::harness::scenario;
use bihuan_domain::ids::UserId;
use bihuan_store::audit;
use bihuan_store::Db;
use std::collections::{HashMap, HashSet};

const WRITERS: usize = 8;
const PER_WRITER: usize = 20;

pub async fn audit_appends(db: Db) {
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let actor = UserId::new();
            let mut seqs = Vec::new();
            for i in 0..PER_WRITER {
                let mut tx = db.begin().await.unwrap();
                let mut e = entry((w * PER_WRITER + i) as i64, Some(actor), "unit.update", "unit");
                e.entity_id = Some(format!("w{w}-{i}"));
                let stored = audit::append(&mut tx, e).await.unwrap();
                // Hold the transaction across a yield so that writers overlap.
                tokio::task::yield_now().await;
                tx.commit().await.unwrap();
                seqs.push(stored.seq);
            }
            (actor, seqs)
        }));
    }
    let mut per_writer = HashMap::new();
    for t in tasks {
        let (actor, seqs) = t.await.unwrap();
        per_writer.insert(actor, seqs);
    }

    let total = WRITERS * PER_WRITER;
    let r = verify(&db).await;
    assert_eq!(r.result, Ok(()));
    assert_eq!((r.checked, r.head_seq), (total as u64, total as i64));

    let mut tx = db.read().await.unwrap();
    let all = audit::batch_after(&mut tx, 0, 10_000).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(all.len(), total);
    let seqs: Vec<i64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=total as i64).collect::<Vec<_>>(), "no gap, no duplicate");
    let unique: HashSet<&str> = all.iter().filter_map(|e| e.entity_id.as_deref()).collect();
    assert_eq!(unique.len(), total, "every append stored once");
    // Each writer's own entries are in the order it wrote them.
    for (actor, seqs) in &per_writer {
        assert_eq!(seqs.len(), PER_WRITER);
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        let stored: Vec<i64> = all.iter().filter(|e| e.actor_user_id == Some(*actor)).map(|e| e.seq).collect();
        assert_eq!(&stored, seqs);
    }
}

scenario!(audit_appends => sqlite_concurrent_audit_appends, postgres_concurrent_audit_appends);
