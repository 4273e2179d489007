//! Server-rendered pages.

use crate::harness::{scenario, TestApp};
use axum::http::StatusCode;

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
