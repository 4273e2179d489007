//! The cockpit shows the numbers of the API for the same scope, and every
//! number is a link to a list with that many hazards.

use crate::harness::{scenario, Cred, Session, TestApp};
use crate::workbench::page_in;
use crate::world::{user, PASSWORD};
use axum::http::Method;
use bihuan_domain::role::Role;
use crate::hazard_api::unit;
use bihuan_service::Ctx;
use serde_json::{json, Value};

/// The tiles: (label, figure, link).
fn tiles(html: &str) -> Vec<(String, i64, String)> {
    let block = html.split("<dl class=\"figures tiles\">").nth(1).unwrap().split("</dl>").next().unwrap();
    block
        .split("<dt>")
        .skip(1)
        .map(|p| {
            let label = p.split("</dt>").next().unwrap().to_string();
            let href = p.split("href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&#38;", "&").replace("&amp;", "&");
            let n = p.split("\">").nth(1).unwrap().split('<').next().unwrap().replace(',', "");
            (label, n.parse().unwrap(), href)
        })
        .collect()
}

/// The hrefs inside the charts (SVG links).
fn chart_links(html: &str) -> Vec<String> {
    let body = html.split("<div class=\"cockpit\">").nth(1).unwrap();
    body.split("<a href=\"").skip(1).map(|p| p.split('"').next().unwrap().replace("&#38;", "&").replace("&amp;", "&")).collect()
}

async fn list_len(app: &TestApp, s: &Session, href: &str) -> usize {
    let (path, query) = href.split_once('?').unwrap_or((href, ""));
    assert_eq!(path, "/hazards", "{href}");
    let r = app.get(&format!("/api/v1/hazards?{query}&limit=500"), Cred::Session(s)).await;
    r.json()["items"].as_array().unwrap_or_else(|| panic!("{href}: {}", r.text())).len()
}

async fn cockpit(app: TestApp) {
    let gov = app.svc.home_unit().await.unwrap();
    let units = crate::world::all_units(&app).await;
    let office_unit = units.iter().find(|u| u.name == "镇安全生产专项整治三年行动领导小组办公室").unwrap().id;
    let east = unit(&app, gov, "东村", "locality").await;
    let west = unit(&app, gov, "西村", "locality").await;
    let f1 = unit(&app, east, "东村甲厂", "enterprise").await;
    let f2 = unit(&app, west, "西村乙厂", "enterprise").await;
    user(&app, "c-office", Role::Office, office_unit).await;
    user(&app, "c-leader", Role::Leader, office_unit).await;
    let office = app.login("c-office", PASSWORD).await;
    let post = |path: String, body: Value| {
        let app = app.clone();
        let office = office.clone();
        async move {
            let r = app.api(Method::POST, &path, Cred::Session(&office), Some(body)).await;
            assert!(r.status.is_success(), "{path}: {}", r.text());
            r.json()
        }
    };
    let mut ids = Vec::new();
    for (firm, name, level, manage) in [
        (f1, "消防通道堵塞", "general", "deadline"),
        (f1, "液氨泄漏报警失效", "major", "deadline"),
        (f2, "配电箱未接地", "general", "immediate"),
        (f2, "安全出口上锁", "general", "deadline"),
    ] {
        let h = post("/api/v1/hazards".into(), json!({"unit_id": firm, "name": name, "description": "检查发现", "level": level, "source": "inspection", "manage_type": manage})).await;
        ids.push(h["id"].as_str().unwrap().to_string());
    }
    // One fixed on the spot and accepted; one assigned with a deadline that passes.
    post(format!("/api/v1/hazards/{}/actions", ids[2]), json!({"action": "fix_on_spot", "rectification": "当场接地"})).await;
    post(format!("/api/v1/hazards/{}/actions", ids[2]), json!({"action": "accept", "comment": "合格"})).await;
    post(format!("/api/v1/hazards/{}/actions", ids[3]), json!({"action": "assign", "responsible_person": "王五", "deadline": "2021-05-08"})).await;
    // A fifth, dismissed: it counts in the total and in no bar.
    let d = post("/api/v1/hazards".into(), json!({"unit_id": f1, "name": "误报：灭火器过期", "description": "核实后灭火器在有效期内", "level": "general", "source": "inspection"})).await;
    post(format!("/api/v1/hazards/{}/actions", d["id"].as_str().unwrap()), json!({"action": "dismiss", "dismiss_reason": "not_a_hazard", "comment": "经核实不构成隐患"})).await;
    app.clock.advance(time::Duration::days(10));

    for who in ["c-office", "c-leader"] {
        let s = app.login(who, PASSWORD).await;
        let html = page_in(&app, "/cockpit", &s, "zh-CN").await;
        let api = app.get("/api/v1/hazards/stats", Cred::Session(&s)).await.json();
        let t = tiles(&html);
        let want = [("隐患总数", "total"), ("已销号", "closed"), ("未销号", "open"), ("已撤销", "dismissed"), ("逾期未整改", "overdue"), ("重大隐患", "major"), ("挂牌督办", "listed")];
        for (label, field) in want {
            let tile = t.iter().find(|x| x.0 == label).unwrap_or_else(|| panic!("no tile {label}"));
            assert_eq!(Some(tile.1), api["total"][field].as_i64(), "{who}: tile {label} against the API's {field}");
            assert_eq!(list_len(&app, &s, &tile.2).await as i64, tile.1, "{who}: tile {label} and its list {}", tile.2);
        }
        assert_eq!(t.iter().find(|x| x.0 == "逾期未整改").unwrap().1, 1);
        let n = |label: &str| t.iter().find(|x| x.0 == label).unwrap().1;
        assert_eq!(n("隐患总数"), n("已销号") + n("未销号") + n("已撤销"), "{who}: the figures add up");
        assert_eq!(n("已撤销"), 1);
        // The rates as the API gives them.
        let rate = api["total"]["rectification_rate"].as_str().unwrap();
        assert!(html.contains(&format!("{rate}%")), "{who}: the rectification rate {rate}% is on the page");
        // Every chart number links to a list; spot-check the lists' sizes
        // against the API's breakdown by unit.
        let links = chart_links(&html);
        assert!(links.iter().any(|l| l.contains("area_id=") || l.contains("level=major")), "{links:?}");
        let by_unit = app.get("/api/v1/hazards/stats?by=unit", Cred::Session(&s)).await.json();
        let groups = by_unit["groups"].as_array().unwrap();
        let keys: Vec<&str> = groups.iter().map(|g| g["key"].as_str().unwrap()).collect();
        for g in groups {
            // The own-unit row (its key a prefix of the others') has no list of its own.
            let key = g["key"].as_str().unwrap();
            if keys.iter().any(|k| *k != key && k.starts_with(key)) {
                continue;
            }
            let hex = g["key"].as_str().unwrap().trim_end_matches('/').rsplit('/').next().unwrap().to_string();
            let id = uuid::Uuid::parse_str(&hex).unwrap().to_string();
            let href = format!("/hazards?within={id}&state=reported,assigned,rectifying,submitted,closed");
            assert!(links.contains(&href), "{who}: no bar for unit {id} in {links:?}");
            {
                let n = g["total"].as_i64().unwrap() - g["dismissed"].as_i64().unwrap();
                assert_eq!(list_len(&app, &s, &href).await as i64, n, "{who}: unit bar {href}");
            }
        }
        for l in links.iter().filter(|l| l.starts_with("/hazards")).take(40) {
            list_len(&app, &s, l).await; // every link is a list the API accepts
        }
        // The most overdue units: 西村 first, and it links to its cockpit.
        let most = html.split("逾期最多的单位").nth(1).unwrap();
        assert!(most.contains("西村") && most.contains("/cockpit?within="), "{who}");
    }

    // Drilling down to one village shows only its hazards.
    let s = app.login("c-office", PASSWORD).await;
    let html = page_in(&app, &format!("/cockpit?within={west}"), &s, "zh-CN").await;
    assert_eq!(tiles(&html).iter().find(|x| x.0 == "隐患总数").unwrap().1, 2);
    assert!(tiles(&html).iter().all(|x| x.2.contains(&format!("within={west}"))));

    // In English, English throughout apart from the data.
    let en = page_in(&app, "/cockpit", &s, "en").await;
    for want in ["Cockpit", "Rectification rate", "Hazards found and closed, last 12 months", "Units with the most overdue hazards"] {
        assert!(en.contains(want), "English cockpit shows {want}");
    }
    let mut rest = en;
    for data in ["东村甲厂", "西村乙厂", "东村", "西村", "测试c-office", "中文"] {
        rest = rest.replace(data, "");
    }
    // Campaign data (area and indicator names, the town) stays as written.
    let campaign_text = |t: &str| t.contains("南翔") || t.contains("镇");
    let leftover: Vec<String> = rest
        .split(['<', '>'])
        .filter(|t| t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
        .filter(|t| !campaign_text(t))
        .map(str::to_string)
        .collect();
    let names: Vec<String> = app.get("/api/v1/hazards/stats?by=area", Cred::Session(&s)).await.json()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["label_en"].as_str().unwrap().to_string())
        .collect();
    let campaign = app.svc.list_campaigns(&Ctx::system("t")).await.unwrap();
    let c = app.svc.campaign(&Ctx::system("t"), campaign[0].id).await.unwrap();
    let data: Vec<String> = c.indicators.iter().map(|i| i.name.clone()).chain(names).collect();
    let unexplained: Vec<&String> = leftover.iter().filter(|t| !data.iter().any(|d| t.contains(d.as_str()) || d.contains(t.trim()))).collect();
    assert!(unexplained.is_empty(), "Chinese UI text on the English cockpit: {unexplained:?}");
}

scenario!(cockpit => sqlite_cockpit, postgres_cockpit);
