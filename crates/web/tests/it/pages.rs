//! Server-rendered pages.

use crate::harness::{scenario, Cred, Resp, Session, TestApp};
use crate::world::{user, PASSWORD};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitDraft;
use bihuan_service::Ctx;
use serde_json::{json, Value};

async fn pages(app: TestApp) {
    let r = app.page("/login", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("登录"));
    assert!(r.headers.get("content-security-policy").is_some());

    let s = crate::campaign_api::lead_department_session(&app).await;
    let r = app.page("/campaign", Some(&s)).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.text();
    for want in ["南翔镇安全生产专项整治三年行动实施方案", "集中攻坚", "当前阶段"] {
        assert!(body.contains(want), "campaign page shows {want}");
    }
    let r = app.page("/", Some(&s)).await;
    assert_eq!(r.status, StatusCode::OK);
    for want in ["工作台", "待整改", "待交办", "待验收", "已逾期"] {
        assert!(r.text().contains(want), "workbench shows {want}");
    }
    for p in ["/", "/campaign", "/login", "/units", "/users", "/account"] {
        let r = app.page(p, Some(&s)).await;
        assert!(!r.text().contains("style="), "{p} has an inline style attribute (CSP forbids it)");
    }
    let r = app.page("/no-such-page", Some(&s)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

scenario!(pages => sqlite_pages, postgres_pages);

/// The unit form's flags are checkboxes named `flags`; ticking any of them
/// must create the unit, not fail to deserialise the form.
async fn unit_form_with_flags(app: TestApp) {
    let admin = app.login("admin", crate::harness::ADMIN_PASSWORD).await;
    let gov = app.svc.home_unit().await.unwrap().to_string();
    let fields = [
        ("parent_id", gov.as_str()),
        ("kind", "enterprise"),
        ("name", "标记测试企业"),
        ("flags", "hazardous_chemicals"),
        ("flags", "confined_space"),
    ];
    let r = app.form("/units", Some(&admin), &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().starts_with("/units/"));
}

// Regression: the unit form sends `flags` once per ticked checkbox, which
// `axum::Form` could not read (422 "expected a sequence").
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_unit_form_with_flags() {
    crate::harness::on_sqlite(unit_form_with_flags).await
}

// ------------------------------------------------ the pages in English

/// A page GET asking for English through `Accept-Language`.
async fn page_en(app: &TestApp, path: &str, s: &Session) -> Resp {
    let req = Request::builder().method(Method::GET).uri(path).header("cookie", &s.cookie).header("accept-language", "en-US,en;q=0.9,zh-CN;q=0.5");
    app.send(req.body(Body::empty()).unwrap()).await
}

/// The session with the language cookie set to English, as the language
/// switch leaves it: every request of it asks for English.
fn english_cookie(s: &Session) -> Session {
    Session { cookie: format!("{}; {}=en-US", s.cookie, bihuan_web::i18n::LANG_COOKIE), csrf: s.csrf.clone() }
}

/// Names the application holds as data (units, campaigns, areas), which a
/// page shows as they were entered, whatever its language.
async fn data_names(app: &TestApp) -> Vec<String> {
    let sys = Ctx::system("t");
    let mut out: Vec<String> = crate::world::all_units(app).await.into_iter().flat_map(|u| [Some(u.name), u.short_name]).flatten().collect();
    for c in app.svc.list_campaigns(&sys).await.unwrap() {
        out.push(c.title.clone());
        for a in app.svc.campaign(&sys, c.id).await.unwrap().areas {
            out.push(a.name);
            out.extend(a.short_name);
        }
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&#34;").replace('\'', "&#39;")
}

/// Fails when `html`, once the known data is taken out, still holds Chinese
/// (U+4E00–U+9FFF) or Chinese punctuation (（）：；、, U+3000–U+303F and
/// U+FF00–U+FFEF), naming the places.
fn assert_no_chinese(what: &str, html: &str, data: &[String]) {
    let mut data: Vec<String> = data.iter().flat_map(|d| [d.clone(), html_escape(d)]).filter(|d| !d.is_empty()).collect();
    // Longest first: a name that holds another is taken out whole.
    data.sort_by_key(|d| std::cmp::Reverse(d.chars().count()));
    let mut rest = html.to_string();
    for d in &data {
        rest = rest.replace(d.as_str(), "");
    }
    let chars: Vec<char> = rest.chars().collect();
    let chinese = |i: usize| matches!(chars[i], '\u{4e00}'..='\u{9fff}' | '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}');
    // Each run of Chinese once, with some text either side.
    let places: Vec<String> = (0..chars.len())
        .filter(|&i| chinese(i) && (i == 0 || !chinese(i - 1)))
        .map(|i| chars[i.saturating_sub(40)..(i + 40).min(chars.len())].iter().collect::<String>().replace('\n', " "))
        .collect();
    assert!(places.is_empty(), "{what} is not wholly in English; Chinese at:\n{}", places.iter().take(8).cloned().collect::<Vec<_>>().join("\n"));
}

/// Every page of hazards and measures in English, when the browser asks for
/// it or the user chose it; Chinese only where the data is.
async fn hazard_and_measure_pages_in_english(app: TestApp) {
    let gov = app.svc.home_unit().await.unwrap();
    let units = crate::world::all_units(&app).await;
    let office_unit = units.iter().find(|u| u.name == "镇安全生产专项整治三年行动领导小组办公室").unwrap().id;
    let unit = |parent, name: &str, kind: &str| {
        let d = UnitDraft { name: name.into(), kind: Some(kind.into()), locality_kind: (kind == "locality").then(|| "village".into()), ..Default::default() };
        let app = app.clone();
        async move { app.svc.create_unit(&Ctx::system("t"), Some(parent), &d).await.unwrap().id }
    };
    let village = unit(gov, "红翔村", "locality").await;
    let grid = unit(village, "红翔村第一网格", "grid").await;
    let firm = unit(grid, "上海甲机械有限公司", "enterprise").await;
    user(&app, "en-office", Role::Office, office_unit).await;
    user(&app, "en-firm", Role::Enterprise, firm).await;
    let office = app.login("en-office", PASSWORD).await;
    let boss = app.login("en-firm", PASSWORD).await;
    let post = |s: &Session, path: String, body: Value| {
        let (app, s) = (app.clone(), s.clone());
        async move {
            let r = app.api(Method::POST, &path, Cred::Session(&s), Some(body)).await;
            assert!(r.status.is_success(), "{path}: {}", r.text());
            r.json()
        }
    };

    // A general hazard, assigned by the office and planned by the firm; a
    // major one, assigned; a measure for a department.
    let general = post(&boss, "/api/v1/hazards".into(), json!({
        "unit_id": firm, "name": "二号车间消防通道堵塞", "description": "东侧通道堆放托盘", "location": "二号车间东侧", "level": "general", "hazard_type": "fire"
    })).await["id"].as_str().unwrap().to_string();
    post(&office, format!("/api/v1/hazards/{general}/actions"), json!({"action": "assign", "responsible_person": "李四", "deadline_days": 2, "comment": "尽快整改"})).await;
    let r = app
        .api(Method::PUT, &format!("/api/v1/hazards/{general}/plan"), Cred::Session(&boss), Some(json!({"measures": "清理通道", "funds": "0.6", "contingency": "专人值守"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let major = post(&boss, "/api/v1/hazards".into(), json!({
        "unit_id": firm, "name": "液氨储罐无泄漏报警", "description": "未设有毒气体报警", "level": "major"
    })).await["id"].as_str().unwrap().to_string();
    post(&office, format!("/api/v1/hazards/{major}/actions"), json!({"action": "assign", "responsible_person": "王五", "deadline": "2021-05-06"})).await;
    let econ = units.iter().find(|u| u.name == "镇经发办").unwrap().id;
    let measure = post(&office, "/api/v1/measures".into(), json!({
        "unit_id": econ, "kind": "system", "title": "修订危化品使用单位安全管理制度", "content": "修订制度，报镇安委办备案", "responsible_person": "钱七", "deadline": "2021-05-03"
    })).await["id"].as_str().unwrap().to_string();
    post(&office, format!("/api/v1/measures/{measure}/actions"), json!({"action": "progress", "note": "已完成初稿", "evidence": "初稿"})).await;

    // A week on all three are overdue (sessions idle that long have ended).
    app.clock.advance(time::Duration::days(7));
    let office = app.login("en-office", PASSWORD).await;
    let boss = app.login("en-firm", PASSWORD).await;

    let mut data = data_names(&app).await;
    // What was typed in above, and the people's names.
    for d in ["二号车间消防通道堵塞", "东侧通道堆放托盘", "二号车间东侧", "李四", "尽快整改", "清理通道", "专人值守", "液氨储罐无泄漏报警", "未设有毒气体报警", "王五",
        "修订危化品使用单位安全管理制度", "修订制度，报镇安委办备案", "钱七", "已完成初稿", "初稿", "测试en-office", "测试en-firm"]
    {
        data.push(d.to_string());
    }
    // The language switch names the other language in itself.
    data.push(">中文<".to_string());

    let check = |what: &str, html: &str, wants: &[&str]| {
        for w in wants {
            assert!(html.contains(w), "{what} shows “{w}”");
        }
        assert!(html.contains(r#"<html lang="en-US">"#), "{what} is marked as English");
        assert_no_chinese(what, html, &data);
    };

    let r = page_en(&app, "/hazards", &office).await;
    assert_eq!(r.status, StatusCode::OK);
    check("the hazard list", &r.text(), &["Hazard list", "Report a hazard", "Rectification rate", "Major hazards", "Newest first", "Open (all)",
        "Awaiting acceptance", r#"data-label="Level""#, r#"class="nowrap col-state" data-label="Status""#, "1 day overdue", "2 days overdue", "Data for national reporting (JSON)"]);
    let r = page_en(&app, &format!("/hazards/{general}?done=plan"), &boss).await;
    assert_eq!(r.status, StatusCode::OK);
    check("a hazard", &r.text(), &["Rectification plan saved", "General hazard", "Fix by a deadline", "1 day overdue", "Person responsible",
        "6,000 yuan", "2 working days", "Submit rectification", "an extension can no longer be asked for", "Timeline", "Assigned", "Reported → Assigned", "Fire"]);
    let r = page_en(&app, &format!("/hazards/{major}"), &boss).await;
    assert_eq!(r.status, StatusCode::OK);
    check("a major hazard", &r.text(), &["Major hazard", "Major-hazard report", "Current state and cause", "Goals and tasks",
        "Before submitting, complete the rectification plan: the major-hazard report (Current state and cause, ",
        "; the rectification plan (Goals and tasks, ", "; rectification measures; funds (10,000 yuan; 0 if none)"]);
    let r = page_en(&app, &format!("/hazards/{major}"), &office).await;
    check("a major hazard for the office", &r.text(), &["List for supervision", "Supervision level", "Town"]);
    let r = page_en(&app, "/hazards/new", &boss).await;
    assert_eq!(r.status, StatusCode::OK);
    check("the report form", &r.text(), &["Report a hazard", "Unit where the hazard is", "General hazard", "Fix on the spot", "Rectify by a deadline",
        "(not in a campaign area)", "Self-inspection"]);
    let r = page_en(&app, "/hazards/import", &office).await;
    assert_eq!(r.status, StatusCode::OK);
    check("the import form", &r.text(), &["Import a hazard ledger", "Check only, write nothing"]);

    let r = page_en(&app, "/measures", &office).await;
    assert_eq!(r.status, StatusCode::OK);
    check("the measures list", &r.text(), &["Measures list", "Add to the list", "Completion rate", "In progress", "System", r#"data-label="Deadline""#,
        r#"class="nowrap" data-label="Kind""#, "days overdue"]);
    let r = page_en(&app, &format!("/measures/{measure}?done=progress"), &office).await;
    assert_eq!(r.status, StatusCode::OK);
    check("a measure", &r.text(), &["Progress reported", "Responsible unit", "Content and requirements", "Report completion", "Edit", "Progress record",
        "Added to the list", "Not started → In progress", "deadline 2021-05-03", "Government"]);
    let r = page_en(&app, "/measures/new", &office).await;
    assert_eq!(r.status, StatusCode::OK);
    check("the measure form", &r.text(), &["Add to the measures list", "Responsible unit", "Mechanism", "Content and requirements"]);

    // The language chosen (the cookie) wins over the browser, and forms
    // answer in it: a failed action, a checked ledger.
    let en = english_cookie(&boss);
    let r = app.page(&format!("/hazards/{general}"), Some(&en)).await;
    check("a hazard, English chosen", &r.text(), &["Submit rectification"]);
    let r = app.form(&format!("/hazards/{general}/act"), Some(&en), &[("action", "assign"), ("deadline_days", "十")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    check("a failed action", &r.text(), &["The action could not be completed", "The number of days must be a whole number"]);
    let csv = "所在单位,隐患名称,隐患描述,发现日期,备注\n上海甲机械有限公司,灭火器过期,车间灭火器过期,2021-04-30,无\n不存在的单位,配电箱未上锁,配电箱门未上锁,2021-04-30,无\n";
    let en_office = english_cookie(&office);
    let r = app.multipart("/hazards/import", Cred::Session(&en_office), &[("mode", "dry_run")], &[("file", "ledger.csv", csv.as_bytes())]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mut with_file = data.clone();
    // The file's headers and cells, and the header a warning expects (隐患等级).
    for d in ["所在单位", "隐患名称", "隐患描述", "发现日期", "备注", "灭火器过期", "车间灭火器过期", "不存在的单位", "配电箱未上锁", "配电箱门未上锁", "隐患等级"] {
        with_file.push(d.to_string());
    }
    let html = r.text();
    for w in ["Sheet “", "columns read: ", "columns not used: ", "Valid", "Has errors", "With errors"] {
        assert!(html.contains(w), "the import report shows “{w}”");
    }
    assert_no_chinese("the import report", &html, &with_file);

    // Chinese stays the default.
    let r = app.page(&format!("/hazards/{general}"), Some(&boss)).await;
    let html = r.text();
    for w in [r#"<html lang="zh-CN">"#, "提交整改", "整改期限", "2个工作日", "0.6 万元", "逾期1天", "办理过程"] {
        assert!(html.contains(w), "the hazard in Chinese shows {w}");
    }
    let r = app.page("/measures", Some(&office)).await;
    for w in ["制度措施清单", r#"data-label="类别""#, "推进中"] {
        assert!(r.text().contains(w), "the measures list in Chinese shows {w}");
    }
}

scenario!(hazard_and_measure_pages_in_english => sqlite_hazard_and_measure_pages_in_english, postgres_hazard_and_measure_pages_in_english);

#[test]
fn the_english_check_sees_chinese_outside_the_data() {
    let data = vec!["上海甲机械有限公司".to_string(), "A&B 公司".to_string()];
    assert_no_chinese("a page", "<td>上海甲机械有限公司</td><td>A&amp;B 公司</td><td>Deadline</td>", &data);
    for leftover in ["<td>等级</td>", "<td>Deadline（2021-05-06）</td>"] {
        let caught = std::panic::catch_unwind(|| assert_no_chinese("a page", leftover, &data));
        assert!(caught.is_err(), "{leftover} is caught");
    }
}

/// The users page edits a user's name, role, unit and phone, and resets a
/// password; a stale form is refused, not applied over a newer change.
async fn users_page_edits(app: TestApp) {
    use crate::harness::Cred;
    let admin = app.login("admin", crate::harness::ADMIN_PASSWORD).await;
    let units = crate::world::all_units(&app).await;
    let ajs = units.iter().find(|u| u.name == "镇安监所").unwrap().id;
    let econ = units.iter().find(|u| u.name == "镇经发办").unwrap().id;
    crate::world::user(&app, "u-edit", bihuan_domain::role::Role::Department, ajs).await;
    let u = app.svc.user_by_name("u-edit").await.unwrap().unwrap();
    let list = app.page("/users", Some(&admin)).await.text();
    assert!(list.contains(&format!("href=\"/users/{}\"", u.id)), "the list links to the user's page");
    let page = app.page(&format!("/users/{}", u.id), Some(&admin)).await.text();
    assert!(page.contains(&format!("action=\"/users/{}\"", u.id)) && page.contains(&format!("action=\"/users/{}/password\"", u.id)), "an edit and a reset form");
    let version = u.version.to_string();
    let r = app
        .form(&format!("/users/{}", u.id), Some(&admin), &[("version", &version), ("display_name", "王科长"), ("role", "department"), ("unit_id", &econ.to_string()), ("phone", "021-5999 0000")])
        .await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, format!("/users/{}?saved=1", u.id)), "{}", r.text());
    let after = app.get(&format!("/api/v1/users/{}", u.id), Cred::Session(&admin)).await.json();
    assert_eq!((after["display_name"].as_str(), after["unit_id"].as_str(), after["phone"].as_str()), (Some("王科长"), Some(econ.to_string().as_str()), Some("021-5999 0000")), "{after}");
    // The same form again carries the old version: refused, shown on the page.
    let r = app.form(&format!("/users/{}", u.id), Some(&admin), &[("version", &version), ("display_name", "李科长")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("error-summary"));
    let r = app.form(&format!("/users/{}/password", u.id), Some(&admin), &[("password", "short")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a weak password is refused on the page");
    let r = app.form(&format!("/users/{}/password", u.id), Some(&admin), &[("password", "Reset-pass-9")]).await;
    assert_eq!(r.location(), format!("/users/{}?reset=1", u.id));
    let again = app.svc.user_by_name("u-edit").await.unwrap().unwrap();
    assert!(again.must_change_password, "the user must change the reset password");
}

scenario!(users_page_edits => sqlite_users_page_edits, postgres_users_page_edits);
