//! The workbench: each role sees what waits for it, and every count on it is
//! the count of the list it links to.

use crate::harness::{scenario, Cred, Session, TestApp};
use crate::world::{user, PASSWORD};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bihuan_domain::role::Role;
use crate::hazard_api::unit;
use serde_json::{json, Value};

/// A page in a language.
pub async fn page_in(app: &TestApp, path: &str, s: &Session, lang: &str) -> String {
    let req = Request::builder().uri(path).header("cookie", &s.cookie).header("accept-language", lang).body(Body::empty()).unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    r.text()
}

/// The queues of a workbench page: (key, count, link).
fn queues(html: &str) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    for part in html.split("id=\"queue-").skip(1) {
        // The heading (`id="queue-KEY-h"`) holds the link and the count.
        let Some(key) = part.split('"').next().unwrap().strip_suffix("-h") else { continue };
        let key = key.to_string();
        let href = part.split("href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&").replace("&#38;", "&");
        let count = part.split("class=\"count").nth(1).unwrap().split('>').nth(1).unwrap().split('<').next().unwrap().replace(',', "");
        out.push((key, count.parse().unwrap(), href));
    }
    out
}

fn count_of(qs: &[(String, i64, String)], key: &str) -> i64 {
    qs.iter().find(|q| q.0 == key).map(|q| q.1).unwrap_or_else(|| panic!("no queue {key} in {qs:?}"))
}

/// Every count equals the number of hazards (or measures) its link lists.
async fn counts_match_lists(app: &TestApp, s: &Session, qs: &[(String, i64, String)]) {
    for (key, n, href) in qs {
        let (path, query) = href.split_once('?').unwrap_or((href, ""));
        let api = format!("/api/v1{path}?{query}&limit=500");
        let items = app.get(&api, Cred::Session(s)).await.json()["items"].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(items as i64, *n, "queue {key}: the workbench says {n}, its list {href} has {items}");
    }
}

async fn workbench(app: TestApp) {
    let gov = app.svc.home_unit().await.unwrap();
    let units = crate::world::all_units(&app).await;
    let office_unit = units.iter().find(|u| u.name == "镇安全生产专项整治三年行动领导小组办公室").unwrap().id;
    let village = unit(&app, gov, "工作台村", "locality").await;
    let grid = unit(&app, village, "工作台村第一网格", "grid").await;
    let firm = unit(&app, grid, "上海工作台机械有限公司", "enterprise").await;
    user(&app, "w-office", Role::Office, office_unit).await;
    user(&app, "w-grid", Role::Inspector, grid).await;
    user(&app, "w-firm", Role::Enterprise, firm).await;
    user(&app, "w-leader", Role::Leader, office_unit).await;
    let office = app.login("w-office", PASSWORD).await;
    let inspector = app.login("w-grid", PASSWORD).await;
    let boss = app.login("w-firm", PASSWORD).await;
    let post = |s: Session, path: String, body: Value| {
        let app = app.clone();
        async move {
            let r = app.api(Method::POST, &path, Cred::Session(&s), Some(body)).await;
            assert!(r.status.is_success(), "{path}: {}", r.text());
            r.json()
        }
    };
    let mut ids = Vec::new();
    for name in ["一号仓库灭火器过期", "配电箱未上锁", "叉车司机无证上岗"] {
        let h = post(inspector.clone(), "/api/v1/hazards".into(), json!({"unit_id": firm, "name": name, "description": "检查发现", "level": "general", "source": "inspection"})).await;
        ids.push(h["id"].as_str().unwrap().to_string());
    }
    let act = |s: &Session, id: &str, body: Value| post(s.clone(), format!("/api/v1/hazards/{id}/actions"), body);
    // Two assigned to the enterprise, one of them handed in.
    act(&office, &ids[0], json!({"action": "assign", "responsible_person": "张三", "deadline": "2021-05-10"})).await;
    act(&office, &ids[1], json!({"action": "assign", "responsible_person": "张三", "deadline": "2021-06-30"})).await;
    app.api(Method::PUT, &format!("/api/v1/hazards/{}/plan", ids[1]), Cred::Session(&boss), Some(json!({"measures": "上锁", "funds": "0", "contingency": "断电"}))).await;
    act(&boss, &ids[1], json!({"action": "submit", "rectification": "已上锁"})).await;

    let home = page_in(&app, "/", &office, "zh-CN").await;
    let qs = queues(&home);
    assert_eq!(count_of(&qs, "to_assign"), 1, "{qs:?}");
    assert_eq!(count_of(&qs, "to_accept"), 1);
    assert_eq!(count_of(&qs, "overdue"), 0);
    assert!(home.contains("叉车司机无证上岗"), "the hazard to assign is on the office's workbench");
    counts_match_lists(&app, &office, &qs).await;

    // The list behind a queue keeps the queue's conditions when filtered again.
    let (_, _, href) = qs.iter().find(|q| q.0 == "to_rectify").unwrap().clone();
    let list = page_in(&app, &href, &office, "zh-CN").await;
    assert!(list.contains(r#"<input type="hidden" name="responsible_unit_id""#), "the responsible unit is kept");
    assert!(list.contains(r#"<option value="assigned,rectifying" selected>"#), "the states are kept as the chosen option");
    assert!(!list.contains(r#"type="hidden" name="state""#), "and not twice (a repeated field is refused)");
    // Filtering again from that page sends each field once, and works.
    let again = page_in(&app, &format!("{href}&q=%E9%85%8D%E7%94%B5"), &office, "zh-CN").await;
    assert!(again.contains("配电箱未上锁") || again.contains("没有符合条件"), "the filtered list renders");
    assert!(list.contains("整改责任单位：镇安全生产专项整治三年行动领导小组办公室") && list.contains("状态：已交办、整改中"), "the list says what it shows");

    let mine = queues(&page_in(&app, "/", &boss, "zh-CN").await);
    assert_eq!(count_of(&mine, "to_rectify"), 1, "{mine:?}");
    counts_match_lists(&app, &boss, &mine).await;
    let grid_q = queues(&page_in(&app, "/", &inspector, "zh-CN").await);
    assert_eq!(count_of(&grid_q, "to_accept"), 1, "{grid_q:?}");
    assert_eq!(count_of(&grid_q, "to_rectify"), 0, "nothing is assigned to the grid itself");

    // Past the deadline of 10 May: overdue for the office and the enterprise;
    // an extension request waits for the office.
    act(&boss, &ids[0], json!({"action": "request_extension", "requested_deadline": "2021-05-31", "reason": "等待采购"})).await;
    app.clock.advance(time::Duration::days(10));
    // The morning's warnings: the overdue hazard reaches the enterprise (and, as its assigning unit, the office later).
    app.svc.evaluate_warnings(&bihuan_service::Ctx::system("t"), None, &Default::default()).await.unwrap();
    let office = app.login("w-office", PASSWORD).await;
    let leader = app.login("w-leader", PASSWORD).await;
    let qs = queues(&page_in(&app, "/", &office, "zh-CN").await);
    assert_eq!((count_of(&qs, "overdue"), count_of(&qs, "extensions")), (1, 1), "{qs:?}");
    counts_match_lists(&app, &office, &qs).await;
    // Only the assigning unit (or the office) decides: the grid, which did
    // not assign it, has nothing to decide.
    let inspector = app.login("w-grid", PASSWORD).await;
    let gq = queues(&page_in(&app, "/", &inspector, "zh-CN").await);
    assert_eq!(count_of(&gq, "extensions"), 0, "{gq:?}");
    counts_match_lists(&app, &inspector, &gq).await;
    let boss = app.login("w-firm", PASSWORD).await;
    let bq = queues(&page_in(&app, "/", &boss, "zh-CN").await);
    assert!(count_of(&bq, "warnings") >= 1, "the overdue hazard's warning reaches the enterprise: {bq:?}");
    counts_match_lists(&app, &boss, &bq).await;
    let lq = queues(&page_in(&app, "/", &leader, "zh-CN").await);
    assert_eq!(lq.iter().map(|q| q.0.as_str()).collect::<Vec<_>>(), ["warnings", "overdue", "listed", "measures"], "a leader acts on nothing; sees what is late");
    counts_match_lists(&app, &leader, &lq).await;
    assert_eq!(count_of(&lq, "overdue"), 1);

    // The page's assign form can name another responsible unit (one above
    // or below the hazard's): the village then finds the hazard on its own
    // workbench.
    let ajs = village;
    user(&app, "w-ajs", Role::Locality, ajs).await;
    let page = page_in(&app, &format!("/hazards/{}", ids[2]), &office, "zh-CN").await;
    assert!(page.contains(&format!("<option value=\"{ajs}\"")), "the village is offered as the responsible unit");
    let version = app.get(&format!("/api/v1/hazards/{}", ids[2]), Cred::Session(&office)).await.json()["hazard"]["version"].to_string();
    let r = app
        .form(
            &format!("/hazards/{}/act", ids[2]),
            Some(&office),
            &[("action", "assign"), ("version", &version), ("responsible_unit_id", &ajs.to_string()), ("responsible_person", "李站长"), ("deadline_days", "5"), ("deadline_basis", "working")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let h = app.get(&format!("/api/v1/hazards/{}", ids[2]), Cred::Session(&office)).await.json();
    assert_eq!(h["hazard"]["responsible_unit"]["id"], ajs.to_string(), "{h}");
    let dept = app.login("w-ajs", PASSWORD).await;
    let dq = queues(&page_in(&app, "/", &dept, "zh-CN").await);
    assert_eq!(count_of(&dq, "to_rectify"), 1, "{dq:?}");
    assert_eq!(dq[0].0, "to_rectify", "work waiting comes first: {dq:?}");

    // A measure the office's own unit carries out shows on its workbench,
    // counted as its list counts it.
    let r = app
        .api(Method::POST, "/api/v1/measures", Cred::Session(&office), Some(json!({"unit_id": office_unit.to_string(), "kind": "system", "title": "建立隐患整改月报制度", "content": "每月汇总", "responsible_person": "张主任", "deadline": "2021-06-30"})))
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let oq = queues(&page_in(&app, "/", &office, "zh-CN").await);
    assert_eq!(count_of(&oq, "own_measures"), 1, "{oq:?}");
    counts_match_lists(&app, &office, &oq).await;

    // An expert reports at an enterprise of the town through the form and
    // follows the finding on the workbench.
    let experts = unit(&app, gov, "专家服务团", "committee").await;
    user(&app, "w-expert", Role::Expert, experts).await;
    let expert = app.login("w-expert", PASSWORD).await;
    let form = page_in(&app, "/hazards/new", &expert, "zh-CN").await;
    assert!(form.contains(&format!("<option value=\"{firm}\"")), "the expert may choose the enterprise");
    let r = app.form("/hazards", Some(&expert), &[("unit", &firm.to_string()), ("name", "反应釜温度联锁旁路"), ("description", "专家诊断发现联锁被旁路"), ("level", "general")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let eq = queues(&page_in(&app, "/", &expert, "zh-CN").await);
    assert_eq!(count_of(&eq, "found"), 1, "{eq:?}");
    counts_match_lists(&app, &expert, &eq).await;

    // In English the page is English throughout, apart from the data.
    let en = page_in(&app, "/", &office, "en").await;
    for want in ["Workbench", "To assign", "To accept", "Extensions to decide", "Overdue", "lang=\"en-US\""] {
        assert!(en.contains(want), "English workbench shows {want}");
    }
    let mut rest = en.clone();
    // Warning subjects are data too (indicator names from the campaign plan, hazard names).
    let mine = app.get("/api/v1/warnings?mine=1", Cred::Session(&office)).await.json();
    for w in mine["items"].as_array().unwrap() {
        rest = rest.replace(w["label"].as_str().unwrap(), "");
    }
    for data in ["一号仓库灭火器过期", "配电箱未上锁", "叉车司机无证上岗", "反应釜温度联锁旁路", "建立隐患整改月报制度", "上海工作台机械有限公司", "镇安全生产专项整治三年行动领导小组办公室", "测试w-office", "中文"] {
        rest = rest.replace(data, "");
    }
    let cjk: String = rest.chars().filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c)).collect();
    assert!(cjk.is_empty(), "Chinese left on the English workbench: {cjk}");
}

scenario!(workbench => sqlite_workbench, postgres_workbench);
