//! The measures list: the record and its version check, the timeline,
//! scoped lists with their filters and keyset pages, and the counts.

use crate::fixtures::{at, at_micros, expect_err, insert_units, unit};
use crate::harness::scenario;
use bihuan_domain::campaign::AreaKind;
use bihuan_domain::ids::{AreaId, CampaignId, MeasureId};
use bihuan_domain::measure::*;
use bihuan_domain::model::Unit;
use bihuan_domain::unit::{UnitKind, UnitPath};
use bihuan_store::campaigns::{self, AreaRow, CampaignRow};
use bihuan_store::measures::{self, MeasureFilter, MeasureScope, NewMeasureEvent};
use bihuan_store::{Db, StoreError};
use time::macros::date;
use time::Date;

fn uref(u: &Unit) -> UnitRef {
    UnitRef { id: u.id, name: u.name.clone(), short_name: u.short_name.clone(), path: u.path.clone() }
}

fn campaign(owner: &Unit) -> CampaignRow {
    CampaignRow {
        id: CampaignId::new(),
        code: "sx-2025".into(),
        title: "安全生产治本攻坚三年行动".into(),
        document_number: None,
        issuer: None,
        signatory: None,
        issued_on: None,
        starts_on: date!(2025 - 01 - 01),
        ends_on: date!(2026 - 12 - 31),
        owner_unit_id: owner.id,
        office_unit_id: None,
        basis: None,
        general_requirements: None,
        main_tasks_preamble: None,
        schedule_notes: None,
        safeguards: vec![],
        created_at: at_micros(1),
        updated_at: at_micros(1),
        version: 1,
    }
}

fn area(c: &CampaignRow, seq: i32, code: &str, name: &str) -> AreaRow {
    AreaRow { id: AreaId::new(), campaign_id: c.id, seq, code: code.into(), name: name.into(), short_name: None, kind: AreaKind::Special, note: None }
}

struct Draft<'a> {
    unit: &'a Unit,
    by: &'a Unit,
    area: Option<&'a AreaRow>,
    kind: MeasureKind,
    title: &'a str,
    deadline: Date,
}

/// Creates a measure through the domain rules and stores it with its first event.
async fn put(db: &Db, d: Draft<'_>) -> Measure {
    let mut tx = db.begin().await.unwrap();
    let num = bihuan_store::hazards::next_number(&mut tx, "measure").await.unwrap();
    let (m, ev) = Measure::create(
        NewMeasure {
            id: MeasureId::new(),
            num,
            code: measure_code(2025, num),
            campaign_id: d.area.map(|a| a.campaign_id),
            area_id: d.area.map(|a| a.id),
            responsible_unit: uref(d.unit),
            created_by_unit: uref(d.by),
            fields: MeasureFields {
                unit_id: None,
                area_id: None,
                kind: d.kind,
                title: d.title.into(),
                content: format!("{}：具体要求", d.title),
                responsible_person: Some("张三".into()),
                deadline: d.deadline,
            },
        },
        at_micros(1_000 + num),
        date!(2025 - 03 - 01),
    )
    .unwrap();
    measures::insert(&mut tx, &m).await.unwrap();
    event(&mut tx, &m, &ev).await;
    tx.commit().await.unwrap();
    m
}

async fn event(tx: &mut bihuan_store::Tx, m: &Measure, draft: &MeasureEventDraft) -> MeasureEvent {
    measures::append_event(
        tx,
        NewMeasureEvent { measure_id: m.id, at: m.updated_at, actor_user_id: None, actor_name: "测试", actor_unit_id: None, draft },
    )
    .await
    .unwrap()
}

/// Applies an action and stores it (version checked) with its event.
async fn act(db: &Db, m: &Measure, a: MeasureAction, secs: i64) -> Measure {
    let at = at(secs);
    let (mut next, ev) = apply(m, &a, at, bihuan_domain::clock::local_date(at)).unwrap();
    next.version = m.version + 1;
    let mut tx = db.begin().await.unwrap();
    measures::update(&mut tx, &next, m.version).await.unwrap();
    event(&mut tx, &next, &ev).await;
    tx.commit().await.unwrap();
    next
}

fn titles(items: &[Measure]) -> Vec<&str> {
    items.iter().map(|m| m.title.as_str()).collect()
}

async fn measures_list(db: Db) {
    let town = unit(None, UnitKind::Government, "示范镇人民政府");
    let office = unit(Some(&town), UnitKind::Office, "镇安委会办公室");
    let safety = unit(Some(&town), UnitKind::Department, "镇安监所");
    let econ = unit(Some(&town), UnitKind::Department, "镇经发办");
    let village = unit(Some(&town), UnitKind::Locality, "红翔村");
    let other_town = unit(None, UnitKind::Government, "邻镇人民政府");
    insert_units(&db, &[&town, &office, &safety, &econ, &village, &other_town]).await;
    let c = campaign(&town);
    let chem = area(&c, 1, "a03", "危险化学品安全整治");
    let fire = area(&c, 2, "a04", "消防安全整治");
    let mut tx = db.begin().await.unwrap();
    campaigns::upsert_campaign(&mut tx, &c, true).await.unwrap();
    campaigns::upsert_area(&mut tx, &chem, true).await.unwrap();
    campaigns::upsert_area(&mut tx, &fire, true).await.unwrap();
    tx.commit().await.unwrap();

    let m1 = put(&db, Draft { unit: &econ, by: &office, area: Some(&chem), kind: MeasureKind::System, title: "修订危化品企业安全责任清单", deadline: date!(2025 - 03 - 10) }).await;
    let m2 = put(&db, Draft { unit: &safety, by: &safety, area: Some(&fire), kind: MeasureKind::Mechanism, title: "建立消防通道巡查机制", deadline: date!(2025 - 03 - 20) }).await;
    let m3 = put(&db, Draft { unit: &village, by: &office, area: None, kind: MeasureKind::Measure, title: "设置消防通道标识", deadline: date!(2025 - 03 - 05) }).await;
    let m4 = put(&db, Draft { unit: &other_town, by: &other_town, area: None, kind: MeasureKind::System, title: "邻镇考核巡查制度", deadline: date!(2025 - 03 - 05) }).await;
    assert_eq!((m1.code.as_str(), m4.code.as_str()), ("ZC2025-000001", "ZC2025-000004"));

    // The record reads back as written.
    let mut tx = db.read().await.unwrap();
    assert_eq!(measures::get(&mut tx, m1.id).await.unwrap().as_ref(), Some(&m1));
    assert_eq!(measures::get_by_code(&mut tx, "ZC2025-000002").await.unwrap().map(|m| m.id), Some(m2.id));
    assert_eq!(measures::get(&mut tx, MeasureId::new()).await.unwrap(), None);
    tx.commit().await.unwrap();

    // Progress and completion with evidence; the version check refuses a stale write.
    let m1 = act(&db, &m1, MeasureAction::Progress { note: "已形成初稿".into(), evidence: None }, 60).await;
    let m1 = act(&db, &m1, MeasureAction::Complete { evidence: Some("南安委〔2025〕3号已印发".into()), comment: None }, 120).await;
    let mut tx = db.begin().await.unwrap();
    let stale = measures::update(&mut tx, &m1, 1).await;
    assert!(matches!(expect_err(stale, tx).await, StoreError::Stale));
    let mut tx = db.read().await.unwrap();
    let got = measures::get(&mut tx, m1.id).await.unwrap().unwrap();
    assert_eq!(got, m1);
    assert_eq!((got.state, got.version, got.completed_at), (MeasureState::Completed, 3, Some(at(120))));
    let evs = measures::events(&mut tx, m1.id).await.unwrap();
    assert_eq!(evs.iter().map(|e| (e.seq, e.action.as_str())).collect::<Vec<_>>(), [(1, "create"), (2, "progress"), (3, "complete")]);
    assert_eq!(evs[1].comment.as_deref(), Some("已形成初稿"));
    assert_eq!((evs[2].from_state, evs[2].to_state), (Some(MeasureState::InProgress), MeasureState::Completed));
    // Timelines of several measures come grouped in the order asked.
    let many = measures::events_of(&mut tx, &[m3.id, m1.id]).await.unwrap();
    assert_eq!(many.iter().map(|e| (e.measure_id, e.seq)).collect::<Vec<_>>(), [(m3.id, 1), (m1.id, 1), (m1.id, 2), (m1.id, 3)]);
    tx.commit().await.unwrap();
    let m2 = act(&db, &m2, MeasureAction::Cancel { reason: "职能调整".into() }, 180).await;
    assert_eq!(m2.state, MeasureState::Cancelled);

    let today = date!(2025 - 03 - 10);
    let town_scope = MeasureScope::Visible { subtree: town.path.clone(), led_areas: vec![], created_under: Some(town.path.clone()) };
    let list = |scope: MeasureScope, f: MeasureFilter| {
        let db = db.clone();
        async move {
            let mut tx = db.read().await.unwrap();
            let page = measures::list(&mut tx, &scope, &f, today).await.unwrap();
            tx.commit().await.unwrap();
            page
        }
    };
    // Scope: the town sees its own three, newest first; the other town its one.
    assert_eq!(titles(&list(town_scope.clone(), MeasureFilter::default()).await.items), ["设置消防通道标识", "建立消防通道巡查机制", "修订危化品企业安全责任清单"]);
    assert_eq!(titles(&list(MeasureScope::All, MeasureFilter::default()).await.items).len(), 4);
    // A department: its own unit's measures, its led areas', and what it put on the list.
    let lead = MeasureScope::Visible {
        subtree: econ.path.clone(),
        led_areas: vec![fire.id],
        created_under: Some(econ.path.clone()),
    };
    assert_eq!(titles(&list(lead, MeasureFilter::default()).await.items), ["建立消防通道巡查机制", "修订危化品企业安全责任清单"]);
    let creator = MeasureScope::Visible { subtree: village.path.clone(), led_areas: vec![], created_under: Some(office.path.clone()) };
    assert_eq!(titles(&list(creator, MeasureFilter::default()).await.items), ["设置消防通道标识", "修订危化品企业安全责任清单"]);

    // Filters.
    let f = |g: fn(&mut MeasureFilter)| {
        let mut f = MeasureFilter::default();
        g(&mut f);
        f
    };
    let overdue = list(town_scope.clone(), f(|f| f.overdue = Some(true))).await.items;
    assert_eq!(titles(&overdue), ["设置消防通道标识"], "open and past the deadline; m1 is done, m2 cancelled");
    assert_eq!(list(town_scope.clone(), f(|f| f.overdue = Some(false))).await.items.len(), 2);
    assert_eq!(titles(&list(town_scope.clone(), f(|f| f.kinds = vec![MeasureKind::Mechanism, MeasureKind::Measure])).await.items), ["设置消防通道标识", "建立消防通道巡查机制"]);
    assert_eq!(titles(&list(town_scope.clone(), f(|f| f.states = vec![MeasureState::Completed])).await.items), ["修订危化品企业安全责任清单"]);
    let in_chem = MeasureFilter { area_id: Some(chem.id), ..Default::default() };
    assert_eq!(titles(&list(town_scope.clone(), in_chem).await.items), ["修订危化品企业安全责任清单"]);
    let in_campaign = MeasureFilter { campaign_id: Some(c.id), ..Default::default() };
    assert_eq!(list(town_scope.clone(), in_campaign).await.items.len(), 2);
    let within = MeasureFilter { within: Some(village.path.clone()), ..Default::default() };
    assert_eq!(titles(&list(town_scope.clone(), within).await.items), ["设置消防通道标识"]);
    let of_unit = MeasureFilter { unit_id: Some(econ.id), ..Default::default() };
    assert_eq!(titles(&list(town_scope.clone(), of_unit).await.items), ["修订危化品企业安全责任清单"]);
    let due = MeasureFilter { deadline_from: Some(date!(2025 - 03 - 06)), deadline_to: Some(date!(2025 - 03 - 10)), ..Default::default() };
    assert_eq!(titles(&list(town_scope.clone(), due).await.items), ["修订危化品企业安全责任清单"], "both ends included");
    let q = |s: &str| MeasureFilter { q: Some(s.into()), ..Default::default() };
    assert_eq!(titles(&list(town_scope.clone(), q("消防通道")).await.items), ["设置消防通道标识", "建立消防通道巡查机制"]);
    assert_eq!(titles(&list(town_scope.clone(), q("具体要求")).await.items).len(), 3, "the content is searched");
    assert_eq!(titles(&list(town_scope.clone(), q("zc2025-000003")).await.items), ["设置消防通道标识"], "the code, in any case");
    assert!(list(town_scope.clone(), q("100%")).await.items.is_empty(), "LIKE wildcards are taken literally");
    assert!(list(town_scope.clone(), q("考核巡查")).await.items.is_empty(), "the other town's measure stays out of scope");

    // Keyset pages of one cover everything once, in each order.
    for (sort, want) in [
        (MeasureSort::Newest, vec![m3.num, m2.num, m1.num]),
        (MeasureSort::Oldest, vec![m1.num, m2.num, m3.num]),
        (MeasureSort::Deadline, vec![m3.num, m1.num, m2.num]),
    ] {
        let mut seen = Vec::new();
        let mut filter = MeasureFilter { sort, limit: 1, ..Default::default() };
        loop {
            let page = list(town_scope.clone(), filter.clone()).await;
            seen.extend(page.items.iter().map(|m| m.num));
            match page.next {
                Some(n) => filter.after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, want, "{sort:?}");
    }
    let mut tx = db.read().await.unwrap();
    let bad = MeasureFilter { sort: MeasureSort::Deadline, after: Some("12".into()), ..Default::default() };
    assert!(matches!(measures::list(&mut tx, &town_scope, &bad, today).await, Err(StoreError::Corrupt(_))));
    tx.commit().await.unwrap();

    // Counts and rates: total, done, on time, overdue, and by group.
    let mut tx = db.read().await.unwrap();
    let all = MeasureFilter::default();
    let total = measures::tally(&mut tx, &town_scope, &all, today, None, None).await.unwrap();
    assert_eq!(
        total,
        [MeasureTally { key: String::new(), total: 3, cancelled: 1, open: 1, completed: 1, verified: 0, completed_on_time: 1, overdue: 1 }]
    );
    let by_kind = measures::tally(&mut tx, &town_scope, &all, today, Some(MeasureBreakdown::Kind), None).await.unwrap();
    assert_eq!(by_kind.iter().map(|t| (t.key.as_str(), t.total)).collect::<Vec<_>>(), [("measure", 1), ("mechanism", 1), ("system", 1)]);
    let by_area = measures::tally(&mut tx, &town_scope, &all, today, Some(MeasureBreakdown::Area), None).await.unwrap();
    let mut keys: Vec<String> = by_area.iter().map(|t| t.key.clone()).collect();
    keys.sort();
    let mut want = vec![String::new(), chem.id.to_string(), fire.id.to_string()];
    want.sort();
    assert_eq!(keys, want, "area ids in their usual form; no area is the empty key");
    let by_unit = measures::tally(&mut tx, &town_scope, &all, today, Some(MeasureBreakdown::Unit), Some(&town.path)).await.unwrap();
    let mut units: Vec<(UnitPath, i64, i64)> = by_unit.iter().map(|t| (UnitPath::from_stored(t.key.clone()), t.total, t.overdue)).collect();
    units.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let mut want = vec![(econ.path.clone(), 1, 0), (safety.path.clone(), 1, 0), (village.path.clone(), 1, 1)];
    want.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    assert_eq!(units, want);
    // Nothing in scope: one empty total, no groups.
    let empty = MeasureScope::Visible { subtree: office.path.clone(), led_areas: vec![], created_under: None };
    assert_eq!(measures::tally(&mut tx, &empty, &all, today, None, None).await.unwrap(), [MeasureTally::default()]);
    tx.commit().await.unwrap();
    let m3 = act(&db, &m3, MeasureAction::Complete { evidence: Some("已设置标识牌12块".into()), comment: None }, 9 * 86_400).await;
    let mut tx = db.read().await.unwrap();
    let t = measures::tally(&mut tx, &town_scope, &all, today, None, None).await.unwrap().remove(0);
    assert_eq!((t.completed, t.completed_on_time, t.overdue), (2, 1, 0), "completed late: done, not on time: {m3:?}");
    let page = measures::export_page(&mut tx, &town_scope, &all, today, m1.num, 10).await.unwrap();
    assert_eq!(page.iter().map(|m| m.num).collect::<Vec<_>>(), [m2.num, m3.num]);
    tx.commit().await.unwrap();
}

scenario!(measures_list => sqlite_measures_list, postgres_measures_list);
