//! Bearer tokens: a resolution is reused for a moment, but revoking the
//! token, logging out, or changing or deactivating its user through the
//! service takes effect on the very next request.

use crate::{as_user, scenario, service, unit};
use bihuan_domain::role::Role;
use bihuan_service::accounts::UserChange;
use bihuan_service::Ctx;
use bihuan_store::Db;

async fn tokens_follow_changes(db: Db) {
    let svc = service(db);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let gov = svc.home_unit().await.unwrap();
    let village = unit(&svc, gov, "红翔村", "locality").await;
    let grid = unit(&svc, village, "红翔村第一网格", "grid").await;
    let me = as_user(&svc, "grid", Role::Inspector, grid).await;
    let me_id = me.actor().unwrap().user_id;
    let sys = Ctx::system("t");

    let (t1, secret1) = svc.create_token(&me, me_id, "one", None).await.unwrap();
    let (_t2, secret2) = svc.create_token(&me, me_id, "two", None).await.unwrap();
    let (actor, user) = svc.token_actor(&secret1).await.unwrap().expect("a fresh token works");
    assert_eq!((actor.user_id, actor.role, actor.unit_id), (me_id, Role::Inspector, grid));
    assert_eq!(actor.jurisdiction.as_str(), svc.get_unit(&sys, gov).await.unwrap().path.as_str(), "the town is its jurisdiction");
    assert_eq!(user.username, "grid");
    // Resolved again (now from the cache) it is the same.
    let (again, _) = svc.token_actor(&secret1).await.unwrap().unwrap();
    assert_eq!(again.user_id, actor.user_id);
    assert!(svc.token_actor("bh_not-a-token").await.unwrap().is_none());

    // Revoked: refused at once, though resolved a moment ago.
    svc.revoke_token(&me, t1.id).await.unwrap();
    assert!(svc.token_actor(&secret1).await.unwrap().is_none(), "a revoked token is refused at once");
    assert!(svc.token_actor(&secret2).await.unwrap().is_some(), "the user's other token still works");

    // A new role shows on the next request.
    let change = UserChange { role: Some("locality".into()), unit_id: Some(village.to_string()), ..Default::default() };
    svc.update_user(&sys, me_id, &change).await.unwrap();
    let (actor, user) = svc.token_actor(&secret2).await.unwrap().unwrap();
    assert_eq!((actor.role, actor.unit_id, user.role), (Role::Locality, village, Role::Locality));

    // Deactivated: refused at once.
    svc.update_user(&sys, me_id, &UserChange { active: Some(false), ..Default::default() }).await.unwrap();
    assert!(svc.token_actor(&secret2).await.unwrap().is_none(), "an inactive user's token is refused at once");
    svc.update_user(&sys, me_id, &UserChange { active: Some(true), ..Default::default() }).await.unwrap();
    assert!(svc.token_actor(&secret2).await.unwrap().is_some());

    // A change made behind the service's back (another process) shows
    // within the cache's lifetime.
    svc.forget_resolved_tokens();
    assert!(svc.token_actor(&secret2).await.unwrap().is_some());
    let sql = "UPDATE api_token SET revoked_at = $1 WHERE user_id = $2";
    let at = bihuan_store::Ts(svc.now());
    match &svc.db {
        Db::Sqlite(p) => sqlx::query(sql).bind(at).bind(me_id.0).execute(p).await.unwrap().rows_affected(),
        Db::Postgres(p) => sqlx::query(sql).bind(at).bind(me_id.0).execute(p).await.unwrap().rows_affected(),
    };
    tokio::time::sleep(std::time::Duration::from_secs(2) + std::time::Duration::from_millis(100)).await;
    assert!(svc.token_actor(&secret2).await.unwrap().is_none(), "refused once the cached resolution is older than its lifetime");
}

scenario!(tokens_follow_changes => sqlite_tokens_follow_changes, postgres_tokens_follow_changes);
