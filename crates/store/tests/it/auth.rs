//! Sessions, API tokens and login attempts.

use crate::fixtures::{at, insert_units, insert_users, unit, user};
use crate::harness::scenario;
use bihuan_domain::ids::TokenId;
use bihuan_domain::model::ApiToken;
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitKind;
use bihuan_store::auth::{self, SessionRow};
use bihuan_store::{Db, StoreError};

fn session(hash: &str, user: &bihuan_domain::model::User, created: i64, expires: i64) -> SessionRow {
    SessionRow {
        token_hash: hash.to_string(),
        user_id: user.id.0,
        csrf_token: format!("csrf-{hash}"),
        created_at: at(created),
        last_seen_at: at(created),
        expires_at: at(expires),
    }
}

async fn session_count(db: &Db) -> i64 {
    crate::harness::raw_scalar!(i64, db, "SELECT COUNT(*) FROM user_session")
}

pub async fn sessions(db: Db) {
    let gov = unit(None, UnitKind::Government, "示范镇人民政府");
    insert_units(&db, &[&gov]).await;
    let alice = user(&gov, "alice", "爱丽丝", Role::Office);
    let bob = user(&gov, "bob", "鲍勃", Role::Leader);
    insert_users(&db, &[&alice, &bob]).await;

    let s1 = session("h1", &alice, 0, 3600);
    let s2 = session("h2", &alice, 10, 7200);
    let s3 = session("h3", &alice, 20, 100);
    let s4 = session("h4", &bob, 30, 200);
    let mut tx = db.begin().await.unwrap();
    auth::insert_session(&mut tx, &s1, Some("10.0.0.1"), Some("Mozilla/5.0 浏览器")).await.unwrap();
    auth::insert_session(&mut tx, &s2, None, None).await.unwrap();
    auth::insert_session(&mut tx, &s3, Some("::1"), None).await.unwrap();
    auth::insert_session(&mut tx, &s4, None, Some("curl")).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    assert_eq!(auth::get_session(&mut tx, "h1").await.unwrap(), Some(s1.clone()));
    assert_eq!(auth::get_session(&mut tx, "h4").await.unwrap(), Some(s4.clone()));
    assert_eq!(auth::get_session(&mut tx, "nope").await.unwrap(), None);
    // Touch moves last-seen and expiry, nothing else.
    auth::touch_session(&mut tx, "h1", at(500), at(4100)).await.unwrap();
    let got = auth::get_session(&mut tx, "h1").await.unwrap().unwrap();
    assert_eq!(got, SessionRow { last_seen_at: at(500), expires_at: at(4100), ..s1.clone() });
    // Delete one.
    auth::delete_session(&mut tx, "h1").await.unwrap();
    assert_eq!(auth::get_session(&mut tx, "h1").await.unwrap(), None);
    auth::delete_session(&mut tx, "h1").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(session_count(&db).await, 3);

    // All of a user's sessions but one.
    let mut tx = db.begin().await.unwrap();
    auth::insert_session(&mut tx, &session("h5", &alice, 40, 9000), None, None).await.unwrap();
    assert_eq!(auth::delete_user_sessions(&mut tx, alice.id, Some("h2")).await.unwrap(), 2);
    assert!(auth::get_session(&mut tx, "h2").await.unwrap().is_some(), "the kept session survives");
    assert!(auth::get_session(&mut tx, "h3").await.unwrap().is_none());
    assert!(auth::get_session(&mut tx, "h5").await.unwrap().is_none());
    assert!(auth::get_session(&mut tx, "h4").await.unwrap().is_some(), "other users are untouched");
    tx.commit().await.unwrap();

    // Expired sessions: strictly before `now`.
    let mut tx = db.begin().await.unwrap();
    auth::insert_session(&mut tx, &session("h6", &alice, 50, 150), None, None).await.unwrap();
    auth::insert_session(&mut tx, &session("h7", &bob, 60, 300), None, None).await.unwrap();
    // h6 expires at 150, h4 at 200, h7 at 300, h2 at 7200.
    assert_eq!(auth::delete_expired_sessions(&mut tx, at(100)).await.unwrap(), 0);
    assert_eq!(auth::delete_expired_sessions(&mut tx, at(200)).await.unwrap(), 1, "h6 only; h4 expires exactly now");
    assert_eq!(auth::delete_expired_sessions(&mut tx, at(301)).await.unwrap(), 2);
    assert!(auth::get_session(&mut tx, "h2").await.unwrap().is_some());
    tx.commit().await.unwrap();
    assert_eq!(session_count(&db).await, 1);

    // Everything of a user.
    let mut tx = db.begin().await.unwrap();
    assert_eq!(auth::delete_user_sessions(&mut tx, alice.id, None).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert_eq!(session_count(&db).await, 0);
}

fn token(user: &bihuan_domain::model::User, name: &str, created: i64) -> ApiToken {
    ApiToken {
        id: TokenId::new(),
        user_id: user.id,
        name: name.to_string(),
        prefix: format!("bh_{}", &name[..2.min(name.len())]),
        created_at: at(created),
        last_used_at: None,
        expires_at: Some(at(created + 86_400 * 90)),
        revoked_at: None,
    }
}

pub async fn tokens(db: Db) {
    let gov = unit(None, UnitKind::Government, "示范镇人民政府");
    insert_units(&db, &[&gov]).await;
    let alice = user(&gov, "alice", "爱丽丝", Role::Office);
    let bob = user(&gov, "bob", "鲍勃", Role::Leader);
    insert_users(&db, &[&alice, &bob]).await;

    let t1 = token(&alice, "ci", 0);
    let mut t2 = token(&alice, "report-sync", 60);
    t2.expires_at = None;
    let t3 = token(&bob, "bi", 30);
    let mut tx = db.begin().await.unwrap();
    auth::insert_token(&mut tx, &t1, "sha-1").await.unwrap();
    auth::insert_token(&mut tx, &t2, "sha-2").await.unwrap();
    auth::insert_token(&mut tx, &t3, "sha-3").await.unwrap();
    tx.commit().await.unwrap();
    // The hash is unique.
    let mut tx = db.begin().await.unwrap();
    let r = auth::insert_token(&mut tx, &token(&bob, "dup", 90), "sha-1").await;
    let err = crate::fixtures::expect_err(r, tx).await;
    assert!(matches!(err, StoreError::Conflict(_)), "duplicate token hash: {err:?}");

    let mut tx = db.begin().await.unwrap();
    assert_eq!(auth::token_by_hash(&mut tx, "sha-1").await.unwrap(), Some(t1.clone()));
    assert_eq!(auth::token_by_hash(&mut tx, "sha-2").await.unwrap(), Some(t2.clone()));
    assert_eq!(auth::token_by_hash(&mut tx, "sha-x").await.unwrap(), None);
    assert_eq!(auth::get_token(&mut tx, t3.id).await.unwrap(), Some(t3.clone()));
    assert_eq!(auth::get_token(&mut tx, TokenId::new()).await.unwrap(), None);
    // Newest first, only the user's own.
    assert_eq!(auth::list_tokens(&mut tx, alice.id).await.unwrap(), [t2.clone(), t1.clone()]);
    assert_eq!(auth::list_tokens(&mut tx, bob.id).await.unwrap(), vec![t3.clone()]);

    // Touch records the last use.
    auth::touch_token(&mut tx, t2.id, at(3600)).await.unwrap();
    assert_eq!(auth::get_token(&mut tx, t2.id).await.unwrap().unwrap().last_used_at, Some(at(3600)));

    // Revoke once; a second time is NotFound, as is an unknown token.
    auth::revoke_token(&mut tx, t1.id, at(7200)).await.unwrap();
    let got = auth::token_by_hash(&mut tx, "sha-1").await.unwrap().unwrap();
    assert_eq!(got, ApiToken { revoked_at: Some(at(7200)), ..t1.clone() });
    assert!(matches!(auth::revoke_token(&mut tx, t1.id, at(7300)).await, Err(StoreError::NotFound)));
    assert!(matches!(auth::revoke_token(&mut tx, TokenId::new(), at(7300)).await, Err(StoreError::NotFound)));
    assert_eq!(auth::get_token(&mut tx, t1.id).await.unwrap().unwrap().revoked_at, Some(at(7200)), "first revocation time kept");
    tx.commit().await.unwrap();
}

pub async fn login_attempts(db: Db) {
    let ip = "10.0.0.1";
    let mut tx = db.begin().await.unwrap();
    for s in [10, 20, 30] {
        auth::record_attempt(&mut tx, at(s), "alice", ip, false).await.unwrap();
    }
    auth::record_attempt(&mut tx, at(25), "bob", ip, false).await.unwrap();
    auth::record_attempt(&mut tx, at(26), "bob", "10.0.0.2", false).await.unwrap();
    auth::record_attempt(&mut tx, at(27), "carol", ip, true).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    assert_eq!(auth::recent_failures_for_user(&mut tx, "alice", at(0)).await.unwrap(), 3);
    assert_eq!(auth::recent_failures_for_user(&mut tx, "alice", at(15)).await.unwrap(), 2);
    assert_eq!(auth::recent_failures_for_user(&mut tx, "alice", at(31)).await.unwrap(), 0);
    assert_eq!(auth::recent_failures_for_user(&mut tx, "bob", at(0)).await.unwrap(), 2);
    assert_eq!(auth::recent_failures_for_user(&mut tx, "carol", at(0)).await.unwrap(), 0);
    assert_eq!(auth::recent_failures_for_user(&mut tx, "nobody", at(0)).await.unwrap(), 0);
    assert_eq!(auth::recent_failures_for_ip(&mut tx, ip, at(0)).await.unwrap(), 4, "successes do not count");
    assert_eq!(auth::recent_failures_for_ip(&mut tx, ip, at(21)).await.unwrap(), 2);
    assert_eq!(auth::recent_failures_for_ip(&mut tx, "10.0.0.2", at(0)).await.unwrap(), 1);

    // A success resets the user's count (not the address's).
    auth::record_attempt(&mut tx, at(40), "alice", ip, true).await.unwrap();
    assert_eq!(auth::recent_failures_for_user(&mut tx, "alice", at(0)).await.unwrap(), 0);
    auth::record_attempt(&mut tx, at(50), "alice", ip, false).await.unwrap();
    auth::record_attempt(&mut tx, at(55), "alice", "10.0.0.9", false).await.unwrap();
    assert_eq!(auth::recent_failures_for_user(&mut tx, "alice", at(0)).await.unwrap(), 2);
    assert_eq!(auth::recent_failures_for_user(&mut tx, "alice", at(52)).await.unwrap(), 1);
    assert_eq!(auth::recent_failures_for_ip(&mut tx, ip, at(0)).await.unwrap(), 5);
    // Another user's success does not reset alice.
    auth::record_attempt(&mut tx, at(60), "bob", ip, true).await.unwrap();
    assert_eq!(auth::recent_failures_for_user(&mut tx, "alice", at(0)).await.unwrap(), 2);
    assert_eq!(auth::recent_failures_for_user(&mut tx, "bob", at(0)).await.unwrap(), 0);

    // Pruning removes attempts strictly before the cut-off.
    assert_eq!(auth::prune_attempts(&mut tx, at(25)).await.unwrap(), 2);
    assert_eq!(auth::recent_failures_for_ip(&mut tx, ip, at(0)).await.unwrap(), 3);
    tx.commit().await.unwrap();
}

scenario!(sessions => sqlite_auth_sessions, postgres_auth_sessions);
scenario!(tokens => sqlite_auth_tokens, postgres_auth_tokens);
scenario!(login_attempts => sqlite_auth_login_attempts, postgres_auth_login_attempts);
