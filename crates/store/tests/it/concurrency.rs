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

/// A write transaction that ends without COMMIT — dropped after an error,
/// or with the task that held it — leaves nothing behind and lets the next
/// writer in at once (on SQLite writers take turns in the process).
pub async fn dropped_writers_let_the_next_in(db: Db) {
    let quick = std::time::Duration::from_secs(3);
    // Dropped in place, after a write.
    let mut tx = db.begin().await.unwrap();
    audit::append(&mut tx, entry(1, None, "unit.update", "unit")).await.unwrap();
    drop(tx);
    // Dropped with its task, while waiting for something else.
    let (held_tx, held_rx) = tokio::sync::oneshot::channel::<()>();
    let holder = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            audit::append(&mut tx, entry(2, None, "unit.update", "unit")).await.unwrap();
            held_tx.send(()).unwrap();
            std::future::pending::<()>().await;
            tx.commit().await.unwrap();
        })
    };
    held_rx.await.unwrap();
    // While the other task holds its write transaction, reads go on.
    let mut r = tokio::time::timeout(quick, db.read()).await.expect("a read is not held up by a writer").unwrap();
    assert_eq!(audit::head(&mut r).await.unwrap().0, 0);
    r.commit().await.unwrap();
    holder.abort();
    let _ = holder.await;
    // Rolled back explicitly.
    let mut tx = tokio::time::timeout(quick, db.begin()).await.expect("the writer's turn came back").unwrap();
    audit::append(&mut tx, entry(3, None, "unit.update", "unit")).await.unwrap();
    tx.rollback().await.unwrap();
    // And committed.
    let mut tx = tokio::time::timeout(quick, db.begin()).await.expect("the writer's turn came back").unwrap();
    let e = audit::append(&mut tx, entry(4, None, "unit.update", "unit")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(e.seq, 1, "nothing of the dropped or rolled-back writers stayed");
    let r = verify(&db).await;
    assert_eq!((r.result, r.checked), (Ok(()), 1));
}

scenario!(dropped_writers_let_the_next_in => sqlite_dropped_writers_let_the_next_in, postgres_dropped_writers_let_the_next_in);

/// On SQLite a second writer waits for the first to end, then goes on.
pub async fn writers_wait_for_each_other(db: Db) {
    let mut first = db.begin().await.unwrap();
    audit::append(&mut first, entry(1, None, "unit.update", "unit")).await.unwrap();
    let second = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            let e = audit::append(&mut tx, entry(2, None, "unit.update", "unit")).await.unwrap();
            tx.commit().await.unwrap();
            e.seq
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    if db.engine() == bihuan_store::Engine::Sqlite {
        assert!(!second.is_finished(), "the second writer waits for its turn");
    }
    first.commit().await.unwrap();
    assert_eq!(second.await.unwrap(), 2);
    assert_eq!(verify(&db).await.result, Ok(()));
}

scenario!(writers_wait_for_each_other => sqlite_writers_wait_for_each_other, postgres_writers_wait_for_each_other);
