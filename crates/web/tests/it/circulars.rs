//! Circulars through the pages and the API: warnings ticked on the warnings
//! page become a draft, the draft is edited (a bad form comes back with its
//! messages and the values sent), issued with a number, read by the
//! enterprise it was sent to (已阅 1/1 for the office) and by nobody else,
//! and downloaded as the Word file kept at issue.

use crate::harness::{scenario, Cred, TestApp};
use crate::world::{self, PASSWORD};
use axum::http::{Method, StatusCode};
use bihuan_domain::role::Role;
use serde_json::json;

async fn pages_and_api(app: TestApp) {
    let w = world::build(&app).await;
    let office = &w.person(Role::Office).session;
    let boss = w.person(Role::Enterprise);
    let warning = world::warning_at(&app, boss.unit).await.to_string();

    // The office ticks warnings on the warnings page; the enterprise has no such form.
    let page = app.page("/warnings", Some(office)).await.text();
    assert!(page.contains(&format!("name=\"warning\" value=\"{warning}\" form=\"compose\"")) && page.contains("编发通报"), "{page}");
    assert!(!app.page("/warnings", Some(&boss.session)).await.text().contains("form=\"compose\""));
    assert!(app.page("/circulars", Some(office)).await.text().contains("href=\"/circulars\" data-nav=\"circulars\" aria-current=\"page\""));

    // Nothing ticked: the compose page says so.
    let r = app.form("/circulars", Some(office), &[("kind", "warnings")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("请先勾选要通报的预警"), "{}", r.text());
    let r = app.form("/circulars", Some(office), &[("kind", "warnings"), ("warning", &warning)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let location = r.location();
    let id = location.trim_start_matches("/circulars/").split('?').next().unwrap().to_string();
    assert!(location.ends_with("?done=composed"), "{location}");
    let draft = app.page(&location, Some(office)).await.text();
    assert!(draft.contains("通报草稿已生成") && draft.contains("印发通报") && draft.contains("测试企业甲"), "{draft}");

    // A blank title comes back with its message and the other values as sent.
    let fields = |title: &'static str| {
        [("title", title), ("number_prefix", "南安办通"), ("addressee", "测试企业甲"), ("opening", ""), ("requirements", "立即处置\r\n\r\n报送情况"), ("cc", "")]
    };
    let r = app.form(&format!("/circulars/{id}"), Some(office), &fields(" ")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = r.text();
    assert!(text.contains("请填写标题") && text.contains("value=\"南安办通\""), "{text}");
    let r = app.form(&format!("/circulars/{id}"), Some(office), &fields("关于测试企业甲预警情况的通报")).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, format!("/circulars/{id}?done=saved")));

    // Issued: the page says with which number, to how many.
    let r = app.form(&format!("/circulars/{id}/issue"), Some(office), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("已印发 南安办通〔2021〕1号，送达 1 个单位"), "{}", r.text());
    let r = app.form(&format!("/circulars/{id}"), Some(office), &fields("再改")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("已印发"), "{}", r.text());

    // The enterprise got one notice, reads the circular and downloads it.
    let notes = app.get("/api/v1/notifications", Cred::Session(&boss.session)).await.json();
    let links: Vec<&str> = notes.as_array().unwrap().iter().filter(|n| n["kind"] == "circular").map(|n| n["link"].as_str().unwrap()).collect();
    assert_eq!(links, [format!("/circulars/{id}")]);
    let r = app.page(&format!("/circulars/{id}"), Some(&boss.session)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("立即处置") && !r.text().contains("印发通报</button>"), "no forms for the enterprise");
    let r = app.page(&format!("/circulars/{id}/docx"), Some(&boss.session)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], bihuan_service::notices::DOCX_CONTENT_TYPE);
    assert!(r.body.starts_with(b"PK"));
    let list = app.page("/circulars", Some(office)).await.text();
    assert!(list.contains("已阅 1/1") && list.contains("南安办通〔2021〕1号"), "{list}");
    // Another enterprise of the town does not see it.
    let sibling = app.login("t-enterprise-sibling", PASSWORD).await;
    assert_eq!(app.page(&format!("/circulars/{id}"), Some(&sibling)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/api/v1/circulars/{id}/docx"), Cred::Session(&sibling)).await.status, StatusCode::NOT_FOUND);

    // The same through the API.
    let other = world::warning_at(&app, boss.unit).await;
    let r = app.api(Method::POST, "/api/v1/circulars", Cred::Session(office), Some(json!({"kind": "warnings", "warning_ids": [other]}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let c = r.json();
    assert_eq!((c["state"].as_str(), c["number_prefix"].as_str(), c["items"].as_i64()), (Some("draft"), Some("南安办通"), Some(1)));
    let path = format!("/api/v1/circulars/{}", c["id"].as_str().unwrap());
    let r = app.api(Method::PATCH, &path, Cred::Session(office), Some(json!({"title": "", "version": c["version"]}))).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation".to_string()));
    let r = app.api(Method::PATCH, &path, Cred::Session(office), Some(json!({"requirements": ["当日处置"], "version": c["version"]}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.api(Method::POST, &format!("{path}/issue"), Cred::Session(office), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let report = r.json();
    assert_eq!(report["circular"]["document_number"], "南安办通〔2021〕2号");
    assert_eq!((report["recipients"].as_i64(), report["dropped"].as_array().map(Vec::len)), (Some(1), Some(0)));
    let r = app.api(Method::PATCH, &path, Cred::Session(office), Some(json!({"title": "改"}))).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::CONFLICT, "conflict".to_string()));
    let detail = app.get(&path, Cred::Session(&boss.session)).await.json();
    assert_eq!(detail["items"][0]["snapshot"]["kind"], "warning");
    let list = app.get("/api/v1/circulars", Cred::Session(office)).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["items"][0]["read"], 1, "the enterprise read the newest through the API");

    // With no hazard overdue, the compose page says there is nothing to report.
    let page = app.page("/circulars/new?kind=overdue", Some(office)).await.text();
    assert!(page.contains("没有逾期未整改的隐患"), "{page}");
}

scenario!(pages_and_api => sqlite_circular_pages_and_api, postgres_circular_pages_and_api);
