//! Campaigns: the campaign row, plan parts in file order, indicator values.

use crate::fixtures::{at, at_micros, expect_err, insert_units, insert_users, unit, user};
use crate::harness::scenario;
use bihuan_domain::campaign::{AreaKind, Safeguard};
use bihuan_domain::ids::{AreaId, CampaignId, IndicatorId, IndicatorValueId};
use bihuan_domain::indicator::Comparator;
use bihuan_domain::model::{CampaignSummary, IndicatorValue, Unit, UnitRef, User};
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitKind;
use bihuan_store::campaigns::{self, AreaRow, CampaignRow, IndicatorRow, PostRow};
use bihuan_store::{Db, StoreError};
use rust_decimal::Decimal;
use std::collections::HashMap;
use time::macros::date;
use time::Date;

fn uref(u: &Unit) -> UnitRef {
    UnitRef { id: u.id, name: u.name.clone(), short_name: u.short_name.clone(), path: u.path.clone() }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn campaign(code: &str, owner: &Unit, office: Option<&Unit>, starts_on: Date) -> CampaignRow {
    CampaignRow {
        id: CampaignId::new(),
        code: code.to_string(),
        title: "安全生产治本攻坚三年行动".into(),
        document_number: Some("示安委〔2024〕3号".into()),
        issuer: Some("示范镇安全生产委员会".into()),
        signatory: Some("王镇长".into()),
        issued_on: Some(date!(2024 - 02 - 20)),
        starts_on,
        ends_on: date!(2026 - 12 - 31),
        owner_unit_id: owner.id,
        office_unit_id: office.map(|o| o.id),
        basis: Some("依据《安全生产法》".into()),
        general_requirements: Some("坚持人民至上、生命至上".into()),
        main_tasks_preamble: None,
        schedule_notes: Some("分三个阶段".into()),
        safeguards: vec![
            Safeguard { title: "加强组织领导".into(), text: "成立工作专班".into() },
            Safeguard { title: "强化督导检查".into(), text: "定期通报".into() },
        ],
        created_at: at_micros(42),
        updated_at: at_micros(42),
        version: 1,
    }
}

fn area(c: &CampaignRow, seq: i32, code: &str, name: &str, kind: AreaKind) -> AreaRow {
    AreaRow {
        id: AreaId::new(),
        campaign_id: c.id,
        seq,
        code: code.to_string(),
        name: name.to_string(),
        short_name: Some(format!("{code}简称")),
        kind,
        note: (kind == AreaKind::Special).then(|| "专项整治备注".to_string()),
    }
}

fn indicator(a: &AreaRow, seq: i32, code: &str, comparator: Comparator, target: Option<&str>) -> IndicatorRow {
    IndicatorRow {
        id: IndicatorId::new(),
        campaign_id: a.campaign_id,
        area_id: a.id,
        seq,
        code: code.to_string(),
        name: format!("指标{code}"),
        task_label: Some(format!("（{seq}）")),
        task_group: None,
        comparator,
        target: target.map(dec),
        unit: target.map(|_| "%".to_string()),
        deadline: date!(2025 - 12 - 31),
        basis: "方案第三部分".into(),
    }
}

fn value(i: &IndicatorRow, v: &str, measured_on: Date, created: i64, unit: &Unit, by: &User) -> IndicatorValue {
    IndicatorValue {
        id: IndicatorValueId::new(),
        indicator_id: i.id,
        value: dec(v),
        measured_on,
        reporting_unit_id: unit.id,
        reporting_unit_name: unit.name.clone(),
        reported_by: by.id,
        evidence: "检查记录表".into(),
        note: (created % 2 == 0).then(|| "备注".to_string()),
        created_at: at(created),
    }
}

pub async fn plan_and_values(db: Db) {
    let gov = unit(None, UnitKind::Government, "示范镇人民政府");
    let mut office = unit(Some(&gov), UnitKind::Office, "示范镇安委办");
    office.short_name = Some("安委办".into());
    let mut safety = unit(Some(&gov), UnitKind::Department, "安全生产监督管理所");
    safety.short_name = Some("安监所".into());
    safety.duties = Some("牵头负责".into());
    let fire = unit(Some(&gov), UnitKind::Department, "消防救援站");
    let village = unit(Some(&gov), UnitKind::Locality, "东风村");
    insert_units(&db, &[&gov, &office, &safety, &fire, &village]).await;
    let reporter = user(&safety, "reporter", "填报员", Role::Department);
    insert_users(&db, &[&reporter]).await;

    // The campaign row.
    let c1 = campaign("AQ-2024", &gov, Some(&office), date!(2024 - 03 - 01));
    let mut c2 = campaign("AQ-2025", &gov, None, date!(2025 - 01 - 01));
    c2.document_number = None;
    c2.issued_on = None;
    c2.safeguards.clear();
    let mut tx = db.begin().await.unwrap();
    campaigns::upsert_campaign(&mut tx, &c1, true).await.unwrap();
    campaigns::upsert_campaign(&mut tx, &c2, true).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert_eq!(campaigns::get(&mut tx, c1.id).await.unwrap().as_ref(), Some(&c1));
    assert_eq!(campaigns::get(&mut tx, c2.id).await.unwrap().as_ref(), Some(&c2));
    assert_eq!(campaigns::get_by_code(&mut tx, "AQ-2024").await.unwrap().as_ref(), Some(&c1));
    assert!(campaigns::get(&mut tx, CampaignId::new()).await.unwrap().is_none());
    assert!(campaigns::get_by_code(&mut tx, "nope").await.unwrap().is_none());
    assert_eq!(campaigns::count(&mut tx).await.unwrap(), 2);
    let summary = |c: &CampaignRow| CampaignSummary {
        id: c.id,
        code: c.code.clone(),
        title: c.title.clone(),
        document_number: c.document_number.clone(),
        issued_on: c.issued_on,
        starts_on: c.starts_on,
        ends_on: c.ends_on,
        owner_unit_id: c.owner_unit_id,
        owner_path: gov.path.clone(),
    };
    assert_eq!(campaigns::list(&mut tx).await.unwrap(), [summary(&c2), summary(&c1)], "newest start first");
    // Update in place.
    let mut c1b = c1.clone();
    c1b.title = "安全生产治本攻坚三年行动（修订）".into();
    c1b.office_unit_id = None;
    c1b.main_tasks_preamble = Some("主要任务如下".into());
    c1b.safeguards.truncate(1);
    c1b.updated_at = at(100);
    c1b.version = 2;
    campaigns::upsert_campaign(&mut tx, &c1b, false).await.unwrap();
    assert_eq!(campaigns::get(&mut tx, c1.id).await.unwrap().as_ref(), Some(&c1b));
    tx.commit().await.unwrap();
    // The code is unique.
    let mut tx = db.begin().await.unwrap();
    let r = campaigns::upsert_campaign(&mut tx, &campaign("AQ-2024", &gov, None, date!(2024 - 01 - 01)), true).await;
    assert!(matches!(expect_err(r, tx).await, StoreError::Conflict(_)));

    // Plan parts, inserted out of order: reads come back in `seq` order.
    let a1 = area(&c1, 1, "T1", "危险化学品安全专题", AreaKind::Topic);
    let a2 = area(&c1, 2, "S1", "燃气安全专项整治", AreaKind::Special);
    let i1 = indicator(&a1, 1, "T1-1", Comparator::AtLeast, Some("100"));
    let i2 = indicator(&a1, 2, "T1-2", Comparator::Done, None);
    let i3 = indicator(&a2, 3, "S1-1", Comparator::AtMost, Some("0.50"));
    // Another campaign's parts must never leak into c1's reads.
    let b1 = area(&c2, 1, "T1", "危险化学品安全专题", AreaKind::Topic);
    let j1 = indicator(&b1, 1, "T1-1", Comparator::AtLeast, Some("95"));

    let mut tx = db.begin().await.unwrap();
    campaigns::insert_campaign_unit(&mut tx, c1.id, "safety", safety.id, 3).await.unwrap();
    campaigns::insert_campaign_unit(&mut tx, c1.id, "town", gov.id, 1).await.unwrap();
    campaigns::insert_campaign_unit(&mut tx, c1.id, "office", office.id, 2).await.unwrap();
    campaigns::insert_campaign_unit(&mut tx, c2.id, "town", gov.id, 1).await.unwrap();
    let post = |u: &Unit, title: &str, holder: Option<&str>| PostRow {
        unit_id: u.id,
        title: title.into(),
        holder: holder.map(str::to_string),
        note: None,
    };
    campaigns::insert_post(&mut tx, c1.id, 2, &post(&office, "办公室主任", Some("李主任"))).await.unwrap();
    campaigns::insert_post(&mut tx, c1.id, 1, &post(&gov, "组长", Some("王镇长"))).await.unwrap();
    campaigns::insert_post(&mut tx, c2.id, 1, &post(&gov, "组长", None)).await.unwrap();
    campaigns::insert_phase(&mut tx, c1.id, 3, "巩固提升", date!(2026 - 01 - 01), date!(2026 - 12 - 31), "建立长效机制").await.unwrap();
    campaigns::insert_phase(&mut tx, c1.id, 1, "动员部署", date!(2024 - 03 - 01), date!(2024 - 04 - 30), "制定方案").await.unwrap();
    campaigns::insert_phase(&mut tx, c1.id, 2, "排查整治", date!(2024 - 05 - 01), date!(2025 - 12 - 31), "全面排查").await.unwrap();
    campaigns::insert_phase(&mut tx, c2.id, 1, "全年", date!(2025 - 01 - 01), date!(2025 - 12 - 31), "").await.unwrap();
    campaigns::upsert_area(&mut tx, &a2, true).await.unwrap();
    campaigns::upsert_area(&mut tx, &a1, true).await.unwrap();
    campaigns::upsert_area(&mut tx, &b1, true).await.unwrap();
    campaigns::insert_area_lead(&mut tx, a1.id, fire.id, 2).await.unwrap();
    campaigns::insert_area_lead(&mut tx, a1.id, safety.id, 1).await.unwrap();
    campaigns::insert_area_lead(&mut tx, a2.id, fire.id, 1).await.unwrap();
    campaigns::insert_area_lead(&mut tx, b1.id, fire.id, 1).await.unwrap();
    campaigns::insert_task(&mut tx, a2.id, 1, "1", None, "整治燃气管道").await.unwrap();
    campaigns::insert_task(&mut tx, a1.id, 2, "2", Some("（二）"), "开展专家指导服务").await.unwrap();
    campaigns::insert_task(&mut tx, a1.id, 1, "1", Some("（一）"), "摸清底数").await.unwrap();
    campaigns::insert_task(&mut tx, b1.id, 1, "1", None, "另一个活动的任务").await.unwrap();
    campaigns::upsert_indicator(&mut tx, &i3, true).await.unwrap();
    campaigns::upsert_indicator(&mut tx, &i1, true).await.unwrap();
    campaigns::upsert_indicator(&mut tx, &i2, true).await.unwrap();
    campaigns::upsert_indicator(&mut tx, &j1, true).await.unwrap();
    campaigns::insert_indicator_lead(&mut tx, i1.id, fire.id, 2).await.unwrap();
    campaigns::insert_indicator_lead(&mut tx, i1.id, safety.id, 1).await.unwrap();
    campaigns::insert_indicator_lead(&mut tx, i3.id, fire.id, 1).await.unwrap();
    campaigns::insert_indicator_lead(&mut tx, j1.id, safety.id, 1).await.unwrap();
    tx.commit().await.unwrap();

    // An area code is unique within a campaign.
    let mut tx = db.begin().await.unwrap();
    let r = campaigns::upsert_area(&mut tx, &area(&c1, 9, "T1", "重复", AreaKind::Topic), true).await;
    assert!(matches!(expect_err(r, tx).await, StoreError::Conflict(_)));

    let mut tx = db.read().await.unwrap();
    let cu = campaigns::campaign_units(&mut tx, c1.id).await.unwrap();
    assert_eq!(
        cu,
        [
            ("town".to_string(), uref(&gov), UnitKind::Government, None, None),
            ("office".to_string(), uref(&office), UnitKind::Office, Some(gov.id), None),
            ("safety".to_string(), uref(&safety), UnitKind::Department, Some(gov.id), Some("牵头负责".to_string())),
        ]
    );
    let posts = campaigns::posts(&mut tx, c1.id).await.unwrap();
    assert_eq!(
        posts,
        [
            (uref(&gov), "组长".to_string(), Some("王镇长".to_string()), None),
            (uref(&office), "办公室主任".to_string(), Some("李主任".to_string()), None),
        ]
    );
    let phases: Vec<_> = campaigns::phases(&mut tx, c1.id).await.unwrap().into_iter().map(|p| (p.1, p.2, p.3, p.4, p.5)).collect();
    assert_eq!(
        phases,
        [
            (1, "动员部署".to_string(), date!(2024 - 03 - 01), date!(2024 - 04 - 30), "制定方案".to_string()),
            (2, "排查整治".to_string(), date!(2024 - 05 - 01), date!(2025 - 12 - 31), "全面排查".to_string()),
            (3, "巩固提升".to_string(), date!(2026 - 01 - 01), date!(2026 - 12 - 31), "建立长效机制".to_string()),
        ]
    );
    assert_eq!(campaigns::areas(&mut tx, c1.id).await.unwrap(), [a1.clone(), a2.clone()]);
    assert_eq!(campaigns::areas(&mut tx, c2.id).await.unwrap(), vec![b1.clone()]);
    assert_eq!(
        campaigns::area_leads(&mut tx, c1.id).await.unwrap(),
        [(a1.id, uref(&safety)), (a1.id, uref(&fire)), (a2.id, uref(&fire))]
    );
    let tasks: Vec<_> = campaigns::tasks(&mut tx, c1.id).await.unwrap().into_iter().map(|t| (t.0, t.2, t.3, t.4, t.5)).collect();
    assert_eq!(
        tasks,
        [
            (a1.id, 1, "1".to_string(), Some("（一）".to_string()), "摸清底数".to_string()),
            (a1.id, 2, "2".to_string(), Some("（二）".to_string()), "开展专家指导服务".to_string()),
            (a2.id, 1, "1".to_string(), None, "整治燃气管道".to_string()),
        ]
    );
    assert_eq!(campaigns::indicators(&mut tx, c1.id).await.unwrap(), [i1.clone(), i2.clone(), i3.clone()]);
    assert_eq!(campaigns::indicator(&mut tx, i3.id).await.unwrap().as_ref(), Some(&i3));
    assert_eq!(campaigns::indicator(&mut tx, i3.id).await.unwrap().unwrap().target, Some(Decimal::new(5, 1)));
    assert!(campaigns::indicator(&mut tx, IndicatorId::new()).await.unwrap().is_none());
    assert_eq!(
        campaigns::indicator_leads(&mut tx, c1.id, None).await.unwrap(),
        [(i1.id, uref(&safety)), (i1.id, uref(&fire)), (i3.id, uref(&fire))]
    );
    assert_eq!(campaigns::indicator_leads(&mut tx, c1.id, Some(i3.id)).await.unwrap(), [(i3.id, uref(&fire))]);
    assert!(campaigns::indicator_leads(&mut tx, c1.id, Some(j1.id)).await.unwrap().is_empty(), "j1 is not c1's");
    let mut led = campaigns::areas_led_by(&mut tx, fire.id).await.unwrap();
    led.sort();
    let mut want = vec![a1.id, a2.id, b1.id];
    want.sort();
    assert_eq!(led, want, "areas of any campaign");
    assert_eq!(campaigns::areas_led_by(&mut tx, safety.id).await.unwrap(), [a1.id]);
    assert!(campaigns::areas_led_by(&mut tx, village.id).await.unwrap().is_empty());
    tx.commit().await.unwrap();

    // Updating an area and an indicator in place.
    let mut a2b = a2.clone();
    a2b.name = "城镇燃气安全专项整治".into();
    a2b.short_name = None;
    a2b.note = None;
    let mut i1b = i1.clone();
    i1b.name = "重大危险源企业专家指导服务覆盖率".into();
    i1b.target = Some(dec("99.5"));
    i1b.task_group = Some("（一）".into());
    i1b.deadline = date!(2025 - 06 - 30);
    let mut tx = db.begin().await.unwrap();
    campaigns::upsert_area(&mut tx, &a2b, false).await.unwrap();
    campaigns::upsert_indicator(&mut tx, &i1b, false).await.unwrap();
    assert_eq!(campaigns::areas(&mut tx, c1.id).await.unwrap(), [a1.clone(), a2b.clone()]);
    assert_eq!(campaigns::indicator(&mut tx, i1.id).await.unwrap(), Some(i1b.clone()));
    tx.commit().await.unwrap();

    // Values: the latest per indicator is by measurement date, then by
    // creation; insertion order does not matter.
    let v1a = value(&i1, "80", date!(2024 - 03 - 31), 1, &safety, &reporter);
    let v1b = value(&i1, "90.50", date!(2024 - 04 - 30), 2, &fire, &reporter);
    let v1c = value(&i1, "85", date!(2024 - 04 - 15), 3, &safety, &reporter);
    let v2a = value(&i2, "1", date!(2024 - 05 - 01), 10, &safety, &reporter);
    let v2b = value(&i2, "0", date!(2024 - 05 - 01), 11, &safety, &reporter);
    let w1 = value(&j1, "100", date!(2025 - 12 - 01), 20, &safety, &reporter);
    let mut tx = db.begin().await.unwrap();
    for v in [&v1a, &v1b, &v1c, &v2b, &v2a, &w1] {
        campaigns::insert_value(&mut tx, v).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = db.read().await.unwrap();
    assert_eq!(campaigns::values(&mut tx, i1.id).await.unwrap(), [v1b.clone(), v1c.clone(), v1a.clone()]);
    assert_eq!(campaigns::values(&mut tx, i2.id).await.unwrap(), [v2b.clone(), v2a.clone()]);
    assert!(campaigns::values(&mut tx, i3.id).await.unwrap().is_empty());
    assert_eq!(campaigns::values(&mut tx, i1.id).await.unwrap()[0].value, Decimal::new(905, 1));
    assert_eq!(campaigns::values(&mut tx, i1.id).await.unwrap()[0].reporting_unit_name, "消防救援站");
    assert_eq!(campaigns::value_count(&mut tx, i1.id).await.unwrap(), 3);
    assert_eq!(campaigns::value_count(&mut tx, i3.id).await.unwrap(), 0);
    let latest = campaigns::latest_values(&mut tx, c1.id).await.unwrap();
    assert_eq!(latest.len(), 2, "one per indicator that has values: {latest:?}");
    let by_indicator: HashMap<IndicatorId, &IndicatorValue> = latest.iter().map(|v| (v.indicator_id, v)).collect();
    assert_eq!(by_indicator.get(&i1.id), Some(&&v1b));
    assert_eq!(by_indicator.get(&i2.id), Some(&&v2b));
    assert_eq!(campaigns::latest_values(&mut tx, c2.id).await.unwrap(), vec![w1.clone()]);
    tx.commit().await.unwrap();

    // Clearing the plan parts keeps areas, indicators and values, and only
    // touches this campaign.
    let mut tx = db.begin().await.unwrap();
    campaigns::clear_plan_parts(&mut tx, c1.id).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.read().await.unwrap();
    assert!(campaigns::campaign_units(&mut tx, c1.id).await.unwrap().is_empty());
    assert!(campaigns::posts(&mut tx, c1.id).await.unwrap().is_empty());
    assert!(campaigns::phases(&mut tx, c1.id).await.unwrap().is_empty());
    assert!(campaigns::tasks(&mut tx, c1.id).await.unwrap().is_empty());
    assert!(campaigns::area_leads(&mut tx, c1.id).await.unwrap().is_empty());
    assert!(campaigns::indicator_leads(&mut tx, c1.id, None).await.unwrap().is_empty());
    assert_eq!(campaigns::areas(&mut tx, c1.id).await.unwrap(), [a1.clone(), a2b.clone()]);
    assert_eq!(campaigns::indicators(&mut tx, c1.id).await.unwrap(), [i1b.clone(), i2.clone(), i3.clone()]);
    assert_eq!(campaigns::value_count(&mut tx, i1.id).await.unwrap(), 3);
    assert_eq!(campaigns::latest_values(&mut tx, c1.id).await.unwrap().len(), 2);
    assert_eq!(campaigns::areas_led_by(&mut tx, fire.id).await.unwrap(), [b1.id]);
    assert!(campaigns::areas_led_by(&mut tx, safety.id).await.unwrap().is_empty());
    // c2 untouched.
    assert_eq!(campaigns::campaign_units(&mut tx, c2.id).await.unwrap().len(), 1);
    assert_eq!(campaigns::posts(&mut tx, c2.id).await.unwrap().len(), 1);
    assert_eq!(campaigns::phases(&mut tx, c2.id).await.unwrap().len(), 1);
    assert_eq!(campaigns::tasks(&mut tx, c2.id).await.unwrap().len(), 1);
    assert_eq!(campaigns::indicator_leads(&mut tx, c2.id, None).await.unwrap(), [(j1.id, uref(&safety))]);
    tx.commit().await.unwrap();

    // With leads and tasks gone, an indicator without values and then its
    // area can be deleted.
    let mut tx = db.begin().await.unwrap();
    campaigns::delete_indicator(&mut tx, i3.id).await.unwrap();
    campaigns::delete_area(&mut tx, a2.id).await.unwrap();
    assert_eq!(campaigns::indicators(&mut tx, c1.id).await.unwrap(), [i1b.clone(), i2.clone()]);
    assert_eq!(campaigns::areas(&mut tx, c1.id).await.unwrap(), vec![a1.clone()]);
    tx.commit().await.unwrap();
}

scenario!(plan_and_values => sqlite_campaigns_plan_and_values, postgres_campaigns_plan_and_values);
