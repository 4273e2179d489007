//! The measures list (制度措施清单) through HTTP: the office puts a measure
//! on the list for a department, the department reports progress and
//! completes it with evidence (not without), the lead department verifies
//! (the department itself may not); a measure is overdue the day after its
//! deadline, not on it; an unrelated user sees nothing; the counts; the
//! ledger as xlsx and CSV read back; the pages.

use crate::harness::{scenario, Cred, Session, TestApp};
use crate::world::{user, PASSWORD};
use axum::http::{Method, StatusCode};
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitDraft;
use bihuan_reports::{read_table, ColumnSpec};
use bihuan_service::Ctx;
use serde_json::{json, Value};

const LIST: &[ColumnSpec] = &[
    ColumnSpec { key: "code", aliases: &["编号"], required: true },
    ColumnSpec { key: "title", aliases: &["制度措施名称"], required: true },
    ColumnSpec { key: "unit", aliases: &["责任单位"], required: true },
    ColumnSpec { key: "deadline", aliases: &["完成时限"], required: true },
    ColumnSpec { key: "state", aliases: &["状态"], required: true },
    ColumnSpec { key: "days", aliases: &["逾期天数"], required: false },
    ColumnSpec { key: "evidence", aliases: &["完成情况及佐证材料"], required: false },
    ColumnSpec { key: "verified_by", aliases: &["核验人"], required: false },
];

const TIMELINE: &[ColumnSpec] = &[
    ColumnSpec { key: "code", aliases: &["编号"], required: true },
    ColumnSpec { key: "op", aliases: &["操作"], required: true },
];

fn fields(r: &crate::harness::Resp) -> Vec<String> {
    r.json()["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_string()).collect()
}

async fn measures_loop(app: TestApp) {
    let sys = Ctx::system("t");
    let units = crate::world::all_units(&app).await;
    let id_of = |name: &str| units.iter().find(|u| u.name == name).unwrap_or_else(|| panic!("{name}")).id;
    let campaign_id = app.svc.campaign_id_by_code("nanxiang-2020").await.unwrap().unwrap();
    let campaign = app.svc.campaign(&sys, campaign_id).await.unwrap();
    let area = |code: &str| campaign.areas.iter().find(|a| a.code == code).unwrap().id.to_string();
    // 危险化学品 (a03) is led by the 安监所; 道路运输 (a05) is not.
    let (chem, road) = (area("a03"), area("a05"));
    let econ_unit = id_of("镇经发办");
    let gov = app.svc.home_unit().await.unwrap();
    let d = UnitDraft { name: "红翔村".into(), kind: Some("locality".into()), locality_kind: Some("village".into()), ..Default::default() };
    let village = app.svc.create_unit(&sys, Some(gov), &d).await.unwrap().id;
    user(&app, "m-office", Role::Office, id_of("镇安全生产专项整治三年行动领导小组办公室")).await;
    user(&app, "m-ajs", Role::Department, id_of("镇安监所")).await;
    user(&app, "m-jfb", Role::Department, econ_unit).await;
    user(&app, "m-village", Role::Locality, village).await;
    let office = app.login("m-office", PASSWORD).await;
    let lead = app.login("m-ajs", PASSWORD).await;
    let econ = app.login("m-jfb", PASSWORD).await;
    let stranger = app.login("m-village", PASSWORD).await;
    let post = |s: Session, path: String, body: Value| {
        let app = app.clone();
        async move { app.api(Method::POST, &path, Cred::Session(&s), Some(body)).await }
    };
    let measure = |unit: &str, area: &str, title: &str, deadline: &str| {
        json!({"unit_id": unit, "area_id": area, "kind": "制度", "title": title,
            "content": format!("{title}，报镇安委办备案"), "responsible_person": "钱七", "deadline": deadline})
    };
    let econ_id = econ_unit.to_string();

    // Bad input is refused field by field.
    let r = post(office.clone(), "/api/v1/measures".into(), json!({"unit_id": econ_id, "kind": "规定", "deadline": "2021-04-30"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(fields(&r), ["title", "content", "kind"]);
    let r = app
        .api_lang(Method::POST, "/api/v1/measures", Cred::Session(&office), Some(json!({"unit_id": econ_id, "kind": "x"})), Some("en"))
        .await;
    assert!(r.text().contains("Give the measure a title"), "{}", r.text());

    // The office puts a rule on the list for the 经发办.
    let r = post(office.clone(), "/api/v1/measures".into(), measure(&econ_id, &chem, "修订危化品使用单位安全管理制度", "2021-05-31")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let m1 = r.json();
    assert_eq!((m1["code"].as_str(), m1["state"].as_str(), m1["kind"].as_str()), (Some("ZC2021-000001"), Some("planned"), Some("system")));
    let id1 = m1["id"].as_str().unwrap().to_string();
    // The lead department in the area it leads, and only there.
    let r = post(lead.clone(), "/api/v1/measures".into(), measure(&econ_id, &chem, "建立危化品运输信息共享机制", "2021-05-06")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id2 = r.json()["id"].as_str().unwrap().to_string();
    let r = post(lead.clone(), "/api/v1/measures".into(), measure(&econ_id, &road, "道路运输措施", "2021-06-30")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = post(lead.clone(), "/api/v1/measures".into(), measure(&econ_id, "", "无领域", "2021-06-30")).await;
    assert_eq!((r.status, fields(&r)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["area_id".to_string()]));
    // The responsible department does not list its own measures.
    let r = post(econ.clone(), "/api/v1/measures".into(), measure(&econ_id, &chem, "自列", "2021-06-30")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // An unrelated user sees nothing of it.
    assert_eq!(app.get(&format!("/api/v1/measures/{id1}"), Cred::Session(&stranger)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/measures", Cred::Session(&stranger)).await.json()["items"], json!([]));
    let r = post(stranger.clone(), format!("/api/v1/measures/{id1}/actions"), json!({"action": "progress", "note": "x"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/measures/stats", Cred::Session(&stranger)).await.json()["total"]["total"], 0);

    // The department reports progress, then completes — with evidence only.
    let act = |s: &Session, id: &str, body: Value| post(s.clone(), format!("/api/v1/measures/{id}/actions"), body);
    let r = act(&econ, &id1, json!({"action": "progress", "note": "已完成制度初稿，征求意见中"})).await;
    assert_eq!((r.status, r.json()["state"].as_str()), (StatusCode::OK, Some("in_progress")), "{}", r.text());
    let r = act(&econ, &id1, json!({"action": "complete"})).await;
    assert_eq!((r.status, fields(&r)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["evidence".to_string()]));
    let evidence = "已印发《危化品使用单位安全管理制度》（南经发〔2021〕5号）";
    let r = act(&econ, &id1, json!({"action": "complete", "evidence": evidence})).await;
    assert_eq!((r.status, r.json()["state"].as_str()), (StatusCode::OK, Some("completed")), "{}", r.text());
    // Nobody verifies their own unit's measure; the lead department does.
    assert_eq!(act(&econ, &id1, json!({"action": "verify"})).await.status, StatusCode::FORBIDDEN);
    let r = act(&lead, &id1, json!({"action": "verify", "comment": "文件已核实"})).await;
    assert_eq!((r.status, r.json()["verified_by"].as_str()), (StatusCode::OK, Some("测试m-ajs")), "{}", r.text());
    // An action not possible now is a conflict.
    assert_eq!(act(&econ, &id1, json!({"action": "complete", "evidence": "x"})).await.status, StatusCode::CONFLICT);
    let d = app.get(&format!("/api/v1/measures/{id1}"), Cred::Session(&office)).await.json();
    let events: Vec<&str> = d["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(events, ["create", "progress", "complete", "verify"]);
    assert_eq!(d["actions"], json!(["reopen"]));
    assert_eq!(d["area_name"], campaign.areas.iter().find(|a| a.code == "a03").unwrap().short_name.clone().unwrap());

    // Overdue the day after the deadline (6 May), not on it. (Sessions idle
    // for days have ended: log in again.)
    let overdue = |app: TestApp, s: Session| async move {
        app.get("/api/v1/measures?overdue=true", Cred::Session(&s)).await.json()["items"].as_array().unwrap().len()
    };
    app.clock.advance(time::Duration::days(5));
    let office = app.login("m-office", PASSWORD).await;
    assert_eq!(overdue(app.clone(), office.clone()).await, 0);
    app.clock.advance(time::Duration::days(1));
    let office = app.login("m-office", PASSWORD).await;
    let lead = app.login("m-ajs", PASSWORD).await;
    let econ = app.login("m-jfb", PASSWORD).await;
    assert_eq!(overdue(app.clone(), office.clone()).await, 1);
    let listed = app.get("/api/v1/measures?state=open&sort=deadline", Cred::Session(&econ)).await.json();
    assert_eq!((listed["items"][0]["id"].as_str(), listed["items"][0]["days_overdue"].as_i64()), (Some(id2.as_str()), Some(1)));
    let st = app.get("/api/v1/measures/stats?by=state", Cred::Session(&office)).await.json();
    let t = &st["total"];
    assert_eq!(
        (t["total"].as_i64(), t["completed"].as_i64(), t["verified"].as_i64(), t["overdue"].as_i64()),
        (Some(2), Some(1), Some(1), Some(1)),
        "{st}"
    );
    assert_eq!((t["completion_rate"].as_str(), t["on_time_rate"].as_str()), (Some("50.0"), Some("100.0")));
    let groups: Vec<(&str, i64)> = st["groups"].as_array().unwrap().iter().map(|g| (g["label"].as_str().unwrap(), g["total"].as_i64().unwrap())).collect();
    assert_eq!(groups, [("未开始", 1), ("已核验", 1)]);
    let r = app.get("/api/v1/measures/stats?by=month", Cred::Session(&office)).await;
    assert_eq!((r.status, fields(&r)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["by".to_string()]));

    // Moving the deadline: the responsible unit may not; the lead department
    // may, with the version it saw; then it is no longer overdue.
    let edit = |deadline: &str, version: i64| json!({"kind": "机制", "title": "建立危化品运输信息共享机制", "content": "每月通报", "deadline": deadline, "version": version});
    let r = app.api(Method::PATCH, &format!("/api/v1/measures/{id2}"), Cred::Session(&econ), Some(edit("2021-05-31", 1))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.api(Method::PATCH, &format!("/api/v1/measures/{id2}"), Cred::Session(&lead), Some(edit("2021-05-31", 7))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let r = app.api(Method::PATCH, &format!("/api/v1/measures/{id2}"), Cred::Session(&lead), Some(edit("2021-04-30", 1))).await;
    assert_eq!((r.status, fields(&r)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["deadline".to_string()]));
    let r = app.api(Method::PATCH, &format!("/api/v1/measures/{id2}"), Cred::Session(&lead), Some(edit("2021-05-31", 1))).await;
    assert_eq!((r.status, r.json()["deadline"].as_str(), r.json()["kind"].as_str()), (StatusCode::OK, Some("2021-05-31"), Some("mechanism")));
    assert_eq!(overdue(app.clone(), office.clone()).await, 0);

    // The ledger: xlsx with the list and the timeline, read back.
    let r = app.get("/api/v1/measures/export?format=xlsx", Cred::Session(&office)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let header = |name: &str| r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header("content-type"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let disposition = header("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    // 制度措施清单-2021-05-07.xlsx, percent-encoded as UTF-8.
    assert!(
        disposition.contains("filename*=UTF-8''%E5%88%B6%E5%BA%A6%E6%8E%AA%E6%96%BD%E6%B8%85%E5%8D%95-2021-05-07.xlsx"),
        "{disposition}"
    );
    let t = read_table(&r.body, "制度措施清单.xlsx", LIST).unwrap();
    assert_eq!(t.sheet, "制度措施清单");
    assert!(t.missing_required.is_empty(), "{:?}", t.missing_required);
    let rows: Vec<Vec<&str>> =
        t.rows.iter().map(|r| ["code", "title", "unit", "deadline", "state", "verified_by"].iter().map(|k| r.get(k).unwrap_or("")).collect()).collect();
    assert_eq!(
        rows,
        [
            vec!["ZC2021-000001", "修订危化品使用单位安全管理制度", "镇经发办", "2021-05-31", "已核验", "测试m-ajs"],
            vec!["ZC2021-000002", "建立危化品运输信息共享机制", "镇经发办", "2021-05-31", "未开始", ""],
        ]
    );
    assert!(t.rows[0].get("evidence").unwrap().contains("南经发〔2021〕5号"), "{:?}", t.rows[0]);
    let tl = read_table(&r.body, "制度措施清单.xlsx", TIMELINE).unwrap();
    assert_eq!(tl.sheet, "推进记录");
    let ops: Vec<(&str, &str)> = tl.rows.iter().map(|r| (r.get("code").unwrap(), r.get("op").unwrap())).collect();
    assert_eq!(
        ops,
        [
            ("ZC2021-000001", "列入清单"),
            ("ZC2021-000001", "报送进展"),
            ("ZC2021-000001", "报告完成"),
            ("ZC2021-000001", "核验"),
            ("ZC2021-000002", "列入清单"),
            ("ZC2021-000002", "修改"),
        ]
    );
    // CSV with the list's filters; the stranger's export is empty; a bad format is named.
    let r = app.get("/api/v1/measures/export?format=csv&state=open", Cred::Session(&econ)).await;
    assert_eq!((r.status, r.headers["content-type"].to_str().unwrap()), (StatusCode::OK, "text/csv; charset=utf-8"));
    assert!(r.headers["content-disposition"].to_str().unwrap().contains("filename=\"measures-2021-05-07.csv\""));
    let t = read_table(&r.body, "制度措施清单.csv", LIST).unwrap();
    assert_eq!(t.rows.iter().map(|r| r.get("code").unwrap()).collect::<Vec<_>>(), ["ZC2021-000002"]);
    let stranger = app.login("m-village", PASSWORD).await;
    let r = app.get("/api/v1/measures/export?format=csv", Cred::Session(&stranger)).await;
    assert!(read_table(&r.body, "x.csv", LIST).unwrap().rows.is_empty());
    let r = app.get("/api/v1/measures/export?format=pdf", Cred::Session(&office)).await;
    assert_eq!((r.status, fields(&r)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["format".to_string()]));

    measure_pages(&app, &office, &econ, &id1, &id2, &econ_id).await;
}

/// The pages: the list with its figures, the form, the measure with the
/// forms the user may use; errors shown on the page; no inline styles.
async fn measure_pages(app: &TestApp, office: &Session, econ: &Session, id1: &str, id2: &str, econ_id: &str) {
    let r = app.page("/measures", Some(office)).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.text();
    for want in ["制度措施清单", "修订危化品使用单位安全管理制度", "建立危化品运输信息共享机制", "完成率", "50.0%", "/api/v1/measures/export?format=xlsx"] {
        assert!(body.contains(want), "the list shows {want}");
    }
    let r = app.page("/measures?state=verified", Some(office)).await;
    assert!(r.text().contains("修订危化品") && !r.text().contains("建立危化品运输"), "the filter applies");
    let r = app.page("/measures?state=nonsense", Some(office)).await;
    assert!(r.text().contains("无法识别“nonsense”"), "a bad filter is named");

    // The form: only for those who put measures on the list.
    assert_eq!(app.page("/measures/new", Some(econ)).await.status, StatusCode::OK, "a department may (in areas it leads)");
    let r = app.page("/measures/new", Some(office)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("镇经发办") && r.text().contains("列入清单"));
    let form = [("unit_id", econ_id), ("kind", "measure"), ("title", "开展危化品专项检查"), ("content", "每季度一次"), ("deadline", "2021-06-30")];
    let r = app.form("/measures", Some(office), &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().starts_with("/measures/") && r.location().ends_with("?done=create"), "{}", r.location());
    let created = app.page(&r.location(), Some(office)).await.text();
    assert!(created.contains("已列入制度措施清单") && created.contains("开展危化品专项检查"));
    let r = app.form("/measures", Some(office), &[("unit_id", econ_id), ("kind", "measure"), ("deadline", "2021-06-30")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("请填写制度措施名称"), "the form names the missing field");

    // The measure: the department sees the forms to report; completing
    // without evidence is shown on the page.
    let r = app.page(&format!("/measures/{id2}"), Some(econ)).await;
    let body = r.text();
    assert!(body.contains("报送进展") && body.contains("报告完成") && !body.contains("核验通过"), "the department's actions");
    let r = app.form(&format!("/measures/{id2}/act"), Some(econ), &[("action", "complete")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("报告完成时请填写完成情况及佐证材料"), "{}", r.text());
    let r = app.form(&format!("/measures/{id2}/act"), Some(econ), &[("action", "complete"), ("evidence", "已建立微信群，每月通报")]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, format!("/measures/{id2}?done=complete")));
    // The office edits through the page: a deadline in the past is refused there.
    let r = app.page(&format!("/measures/{id1}"), Some(office)).await;
    assert!(r.text().contains("推进记录") && r.text().contains("重新打开"));
    let r = app
        .form(&format!("/measures/{id2}/edit"), Some(office), &[("kind", "mechanism"), ("title", "新名称"), ("content", "x"), ("deadline", "2021-06-30")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a completed measure is not edited: {}", r.text());

    for p in ["/measures".to_string(), "/measures/new".to_string(), format!("/measures/{id1}"), format!("/measures/{id2}")] {
        let r = app.page(&p, Some(office)).await;
        assert_eq!(r.status, StatusCode::OK, "{p}");
        assert!(!r.text().contains("style="), "{p} has an inline style attribute (CSP forbids it)");
    }
}

scenario!(measures_loop => sqlite_measures_loop, postgres_measures_loop);

/// `PATCH /api/v1/measures/{id}` changes only the fields sent: one left out
/// stays, `null` clears an optional one and is refused for a required one,
/// and the version still guards against lost updates.
async fn partial_patch(app: TestApp) {
    let sys = Ctx::system("t");
    let units = crate::world::all_units(&app).await;
    let id_of = |name: &str| units.iter().find(|u| u.name == name).unwrap_or_else(|| panic!("{name}")).id;
    let campaign_id = app.svc.campaign_id_by_code("nanxiang-2020").await.unwrap().unwrap();
    let road = app.svc.campaign(&sys, campaign_id).await.unwrap().areas.iter().find(|a| a.code == "a05").unwrap().id.to_string();
    user(&app, "p-office", Role::Office, id_of("镇安全生产专项整治三年行动领导小组办公室")).await;
    let office = app.login("p-office", PASSWORD).await;
    let r = app
        .api(Method::POST, "/api/v1/measures", Cred::Session(&office), Some(json!({
            "unit_id": id_of("镇经发办"), "area_id": road, "kind": "制度", "title": "修订道路运输企业安全责任清单",
            "content": "明确企业主体责任", "responsible_person": "张三", "deadline": "2021-06-30"
        })))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let m = r.json();
    let path = format!("/api/v1/measures/{}", m["id"].as_str().unwrap());
    let patch = |body: Value| {
        let (app, office, path) = (app.clone(), office.clone(), path.clone());
        async move { app.api(Method::PATCH, &path, Cred::Session(&office), Some(body)).await }
    };

    // Only the title: everything else stays.
    let r = patch(json!({"title": "修订道路运输企业安全生产责任清单", "version": m["version"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let after = r.json();
    assert_eq!(after["title"], "修订道路运输企业安全生产责任清单");
    for same in ["content", "kind", "responsible_person", "deadline", "area_id", "campaign_id", "responsible_unit"] {
        assert_eq!(after[same], m[same], "{same} changed: {after}");
    }
    assert_eq!(after["version"].as_i64(), m["version"].as_i64().map(|v| v + 1));

    // The version still guards: the one seen before the change is stale now.
    let r = patch(json!({"content": "x", "version": m["version"]})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());

    // null clears an optional field, and only that one.
    let r = patch(json!({"responsible_person": null})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!((r.json()["responsible_person"].clone(), r.json()["title"].clone()), (Value::Null, after["title"].clone()));
    let r = patch(json!({"area_id": null, "deadline": "2021-07-15"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!((r.json()["area_id"].clone(), r.json()["campaign_id"].clone(), r.json()["deadline"].clone()), (Value::Null, Value::Null, json!("2021-07-15")));

    // null for a required field is refused, naming each.
    let r = patch(json!({"title": null, "deadline": null, "content": "仍然有效"})).await;
    assert_eq!((r.status, fields(&r)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["title".to_string(), "deadline".to_string()]), "{}", r.text());
    // A value sent is checked as before.
    let r = patch(json!({"kind": "规定"})).await;
    assert_eq!((r.status, fields(&r)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["kind".to_string()]));

    // An empty patch changes nothing.
    let before = app.get(&path, Cred::Session(&office)).await.json()["measure"].clone();
    let r = patch(json!({})).await;
    assert_eq!((r.status, r.json()["version"].clone()), (StatusCode::OK, before["version"].clone()));
    let timeline = app.get(&path, Cred::Session(&office)).await.json()["events"].as_array().unwrap().len();
    assert_eq!(timeline, 4, "create and three edits");
}

scenario!(partial_patch => sqlite_measure_partial_patch, postgres_measure_partial_patch);
