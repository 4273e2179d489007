//! The organisation the permission tests run in: for each role a home unit
//! with a child, a sibling and a parent, an unrelated town, one user per role
//! (logged in, with an API token), target users, and a second campaign owned
//! by the unrelated town.

use crate::harness::{Session, TestApp};
use bihuan_domain::campaign::{parse_plan, BUNDLED_PLAN};
use bihuan_domain::ids::{CampaignId, UnitId, UserId};
use bihuan_domain::model::Unit;
use bihuan_domain::role::Role;
use bihuan_domain::unit::{UnitDraft, UnitKind};
use bihuan_service::accounts::NewUser;
use bihuan_service::Ctx;
use bihuan_store::units::UnitFilter;
use std::collections::HashMap;

pub const PASSWORD: &str = "Matrix-pass-1";
/// Own, child, sibling, parent, unrelated.
pub const RELATIONS: [&str; 5] = ["own", "child", "sibling", "parent", "unrelated"];

pub struct Person {
    pub role: Role,
    pub username: String,
    pub user_id: UserId,
    pub unit: UnitId,
    pub session: Session,
    pub token: String,
    /// Units in relation to the home unit, in the order of [`RELATIONS`].
    pub rel_units: [UnitId; 5],
    /// A user in each of those units (enterprise users in enterprises, inspectors elsewhere).
    pub rel_users: [UserId; 5],
}

pub struct World {
    pub gov: UnitId,
    pub people: Vec<Person>,
    pub units: HashMap<UnitId, Unit>,
    pub nanxiang: CampaignId,
    pub other_campaign: CampaignId,
    /// a01-qualified-inspector-share of each campaign.
    pub nanxiang_indicator: String,
    pub other_indicator: String,
    /// A user nobody else's token belongs to, for "another user's token".
    pub stranger: UserId,
}

impl World {
    pub fn person(&self, role: Role) -> &Person {
        self.people.iter().find(|p| p.role == role).expect("person")
    }
}

pub async fn all_units(app: &TestApp) -> Vec<Unit> {
    app.svc.list_units(&Ctx::system("t"), &UnitFilter { limit: 10_000, ..Default::default() }).await.expect("units")
}

async fn unit(app: &TestApp, parent: Option<UnitId>, name: &str, kind: &str) -> UnitId {
    let draft = UnitDraft {
        name: name.into(),
        kind: Some(kind.into()),
        locality_kind: (kind == "locality").then(|| "village".to_string()),
        ..Default::default()
    };
    app.svc.create_unit(&Ctx::system("t"), parent, &draft).await.unwrap_or_else(|e| panic!("create {name}: {e:?}")).id
}

pub async fn user(app: &TestApp, username: &str, role: Role, unit: UnitId) -> UserId {
    let u = NewUser {
        username: username.into(),
        display_name: format!("测试{username}"),
        unit_id: unit.to_string(),
        role: role.as_str().into(),
        password: PASSWORD.into(),
        ..Default::default()
    };
    app.svc.create_user(&Ctx::system("t"), &u).await.unwrap_or_else(|e| panic!("create user {username}: {e:?}")).id
}

pub async fn token(app: &TestApp, user: UserId) -> String {
    app.svc.create_token(&Ctx::system("t"), user, "matrix", None).await.expect("token").1
}

pub async fn build(app: &TestApp) -> World {
    let existing = all_units(app).await;
    let named = |n: &str| existing.iter().find(|u| u.name == n).unwrap_or_else(|| panic!("plan unit {n}")).id;
    let gov = named("南翔镇人民政府");
    let office = named("镇安全生产专项整治三年行动领导小组办公室");
    let lg = named("镇安全生产专项整治三年行动领导小组");
    let zb = named("镇安全生产专项整治三年行动工作专班");
    let ajs = named("镇安监所");
    let pcs = named("镇派出所");

    let other_town = unit(app, None, "另一镇人民政府", "government").await;
    let unrelated = unit(app, Some(other_town), "另一村", "locality").await;
    let neighbour = unit(app, None, "邻镇人民政府", "government").await;
    let district = unit(app, None, "上级区人民政府", "government").await;

    let mut rels: Vec<(Role, [UnitId; 5])> = Vec::new();
    // Admin sits in the government; its "sibling" and "parent" are other roots.
    let c = unit(app, Some(gov), "管理员测试科", "department").await;
    rels.push((Role::Admin, [gov, c, neighbour, district, unrelated]));
    let c = unit(app, Some(office), "办公室一组", "office").await;
    rels.push((Role::Office, [office, c, zb, lg, unrelated]));
    let c = unit(app, Some(ajs), "安监所一科", "department").await;
    rels.push((Role::Department, [ajs, c, pcs, gov, unrelated]));
    let own = unit(app, Some(gov), "测试一村", "locality").await;
    let c = unit(app, Some(own), "测试一村第一网格", "grid").await;
    let s = unit(app, Some(gov), "测试二村", "locality").await;
    rels.push((Role::Locality, [own, c, s, gov, unrelated]));
    let v = unit(app, Some(gov), "测试三村", "locality").await;
    let own = unit(app, Some(v), "测试三村第一网格", "grid").await;
    let c = unit(app, Some(own), "测试网格企业", "enterprise").await;
    let s = unit(app, Some(v), "测试三村第二网格", "grid").await;
    rels.push((Role::Inspector, [own, c, s, v, unrelated]));
    let v = unit(app, Some(gov), "测试四村", "locality").await;
    let g = unit(app, Some(v), "测试四村网格", "grid").await;
    let own = unit(app, Some(g), "测试企业甲", "enterprise").await;
    let c = unit(app, Some(own), "测试企业甲分公司", "enterprise").await;
    let s = unit(app, Some(g), "测试企业乙", "enterprise").await;
    rels.push((Role::Enterprise, [own, c, s, g, unrelated]));
    for (role, name) in [(Role::Expert, "专家服务团"), (Role::Leader, "镇领导班子")] {
        let own = unit(app, Some(gov), name, "committee").await;
        let c = unit(app, Some(own), &format!("{name}一组"), "committee").await;
        let s = unit(app, Some(gov), &format!("{name}备用"), "committee").await;
        rels.push((role, [own, c, s, gov, unrelated]));
    }

    // A campaign owned inside the unrelated town.
    let mut plan = parse_plan(BUNDLED_PLAN).expect("plan");
    plan.campaign.code = "other-2020".into();
    plan.campaign.title = "另一镇专项整治行动".into();
    let other = app.svc.import_plan(&Ctx::system("t"), &plan, Some(other_town)).await.expect("import other plan");
    let nanxiang = app.svc.campaign_id_by_code("nanxiang-2020").await.unwrap().expect("nanxiang");
    let ind = |c: CampaignId| async move {
        let camp = app.svc.campaign(&Ctx::system("t"), c).await.expect("campaign");
        camp.indicators.iter().find(|i| i.code == "a01-qualified-inspector-share").expect("indicator").id.to_string()
    };
    let nanxiang_indicator = ind(nanxiang).await;
    let other_indicator = ind(other.campaign_id).await;

    let mut people = Vec::new();
    for (role, rel_units) in rels {
        let username = format!("u-{}", role.as_str());
        let user_id = user(app, &username, role, rel_units[0]).await;
        let mut rel_users = [UserId::default(); 5];
        for (i, u) in rel_units.iter().enumerate() {
            // A target user whose role suits the unit: enterprise users in enterprises, inspectors elsewhere.
            let target_role = if app.svc.get_unit(&Ctx::system("t"), *u).await.expect("unit").kind == UnitKind::Enterprise { Role::Enterprise } else { Role::Inspector };
            rel_users[i] = user(app, &format!("t-{}-{}", role.as_str(), RELATIONS[i]), target_role, *u).await;
        }
        let session = app.login(&username, PASSWORD).await;
        let token = token(app, user_id).await;
        people.push(Person { role, username, user_id, unit: rel_units[0], session, token, rel_units, rel_users });
    }
    let stranger = user(app, "stranger", Role::Inspector, unrelated).await;
    let units = all_units(app).await.into_iter().map(|u| (u.id, u)).collect();
    World { gov, people, units, nanxiang, other_campaign: other.campaign_id, nanxiang_indicator, other_indicator, stranger }
}

/// A warning about `unit`, addressed to it (written as the engine would,
/// so that the permission matrix has one to read and acknowledge).
pub async fn warning_at(app: &TestApp, unit: UnitId) -> uuid::Uuid {
    use bihuan_store::warnings::{AudienceRow, WarningRow};
    app.svc.seed_warning_rules().await.unwrap();
    let mut tx = app.svc.db.begin().await.unwrap();
    let u = bihuan_store::units::get(&mut tx, unit).await.unwrap().unwrap();
    let now = app.svc.now();
    let id = uuid::Uuid::now_v7();
    let w = WarningRow {
        id,
        rule_code: "repeated_hazard_type".into(),
        subject_kind: "unit_type".into(),
        subject_key: format!("{unit}/fire/{id}"),
        subject_id: unit.0,
        hazard_id: None,
        unit_id: unit.0,
        unit_path: u.path.as_str().to_string(),
        label: format!("{} · 消防类", u.name),
        facts_json: r#"{"count":3,"since":"2020-05-01"}"#.into(),
        level: "yellow".into(),
        level_rank: 3,
        step: 1,
        state: "open".into(),
        first_seen_at: now,
        changed_at: now,
        acknowledged_at: None,
        acknowledged_by: None,
        resolved_at: None,
        resolution: None,
        rule_version: 1,
        version: 1,
    };
    assert!(bihuan_store::warnings::insert_warning(&mut tx, &w).await.unwrap());
    let a = AudienceRow { unit_id: unit.0, role: String::new(), rung: "unit".into(), from_step: 0 };
    bihuan_store::warnings::add_audience(&mut tx, id, &[a]).await.unwrap();
    tx.commit().await.unwrap();
    id
}

/// A notification in `user`'s inbox.
pub async fn notification_for(app: &TestApp, user: uuid::Uuid) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    let n = bihuan_store::notify::NotificationRow {
        id,
        user_id: user,
        dedupe_key: format!("test:{id}"),
        kind: "warning".into(),
        level: Some("yellow".into()),
        title: "【黄色预警】测试".into(),
        body: "测试".into(),
        link: "/warnings".into(),
        warning_id: None,
        circular_id: None,
        created_at: app.svc.now(),
        read_at: None,
    };
    let mut tx = app.svc.db.begin().await.unwrap();
    assert!(bihuan_store::notify::insert(&mut tx, &n).await.unwrap());
    tx.commit().await.unwrap();
    id
}

/// A WeCom channel of `unit`, made by the system (as its administrators would).
pub async fn channel_of(app: &TestApp, unit: UnitId) -> uuid::Uuid {
    let input = bihuan_service::channels::ChannelInput {
        kind: "wecom".into(),
        unit_id: Some(unit),
        name: "安全群".into(),
        address: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=matrix".into(),
        ..Default::default()
    };
    app.svc.create_channel(&Ctx::system("t"), &input).await.unwrap().id
}

/// A delivery of a fresh channel of `unit` that failed, so it can be retried.
pub async fn failed_delivery_of(app: &TestApp, unit: UnitId) -> uuid::Uuid {
    let channel = channel_of(app, unit).await;
    let now = app.svc.now();
    let id = uuid::Uuid::now_v7();
    let d = bihuan_store::channels::DeliveryRow {
        id,
        channel_id: channel,
        dedupe_key: format!("test:{id}"),
        kind: "test".into(),
        warning_event_id: None,
        circular_id: None,
        title: "测试".into(),
        body: "{}".into(),
        created_at: now,
        status: "failed".into(),
        attempts: 8,
        next_attempt_at: now,
        claimed_by: None,
        claim_until: None,
        sent_at: None,
        last_http_status: Some(404),
        last_response: None,
        last_error: None,
    };
    let mut tx = app.svc.db.begin().await.unwrap();
    assert!(bihuan_store::channels::insert_delivery(&mut tx, &d).await.unwrap());
    tx.commit().await.unwrap();
    id
}
