//! The 挂牌督办通知书 and the 整改指令书: rendered, saying what they must,
//! and given only to those who may read the hazard.

use crate::ledger::town;
use crate::{scenario, service_with_clock};
use bihuan_domain::hazard::HazardDraft;
use bihuan_domain::ErrorCode;
use bihuan_service::hazards::ActionInput;
use bihuan_store::Db;
use std::io::Read;

/// The text of word/document.xml, tags removed.
fn document_text(docx: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
    let mut xml = String::new();
    zip.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
    let mut out = String::new();
    let mut in_tag = false;
    for c in xml.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Keeps the documents for a look when `BIHUAN_NOTICE_OUT` names a directory.
fn keep(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("BIHUAN_NOTICE_OUT") {
        std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
    }
}

async fn notices(db: Db) {
    let (svc, _clock) = service_with_clock(db);
    let t = town(&svc).await;
    let draft = HazardDraft {
        unit_id: Some(t.firm.to_string()),
        name: "液氨储罐区未设置泄漏报警装置".into(),
        description: "液氨储罐区未设置有毒气体泄漏检测报警装置，不符合国家标准要求".into(),
        location: Some("厂区北侧液氨储罐区".into()),
        level: Some("major".into()),
        hazard_type: Some("instrument".into()),
        found_on: Some("2021-04-28".into()),
        ..Default::default()
    };
    let h = svc.report_hazard(&t.inspector, &draft, None).await.unwrap();

    // No listing yet: no supervision notice, and no order before the deadline is set.
    let e = svc.listing_notice_docx(&t.office, h.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.zh.contains("未挂牌督办"), "{e}");
    assert_eq!(svc.rectification_order_docx(&t.office, h.id).await.unwrap_err().code, ErrorCode::Conflict);

    let mut a = ActionInput { action: "assign".into(), ..Default::default() };
    a.responsible_person = Some("王五".into());
    a.deadline = Some("2021-06-30".into());
    svc.act_on_hazard(&t.office, h.id, &a).await.unwrap();
    let mut l = ActionInput { action: "list".into(), ..Default::default() };
    l.document_number = Some("南安办督〔2021〕1号".into());
    l.required_by = Some("2021-06-30".into());
    l.signatory = Some("赵六".into());
    l.requirements = Some("治理期间液氨储罐停止进料。".into());
    svc.act_on_hazard(&t.office, h.id, &l).await.unwrap();

    let (name, bytes) = svc.listing_notice_docx(&t.office, h.id).await.unwrap();
    assert_eq!(name, format!("挂牌督办通知书-{}.docx", h.code));
    keep(&name, &bytes);
    let text = document_text(&bytes);
    for needle in [
        "镇安全生产专项整治三年行动领导小组办公室",
        "南安办督〔2021〕1号",
        "关于对上海甲机械有限公司",
        "“液氨储罐区未设置泄漏报警装置”重大事故隐患挂牌督办的通知",
        "2021年5月1日",
        "上海甲机械有限公司：",
        "镇级挂牌督办",
        "治理的目标和任务",
        "安全措施和应急预案",
        "五到位",
        "2021年6月30日前治理完毕",
        "核销",
        "治理期间液氨储罐停止进料。",
        "红翔村第一网格",
        &h.code,
        "签发人：赵六",
    ] {
        assert!(text.contains(needle), "{needle} missing from the notice: {text}");
    }
    // After the body, before the issuing unit and the date, not in the 版头
    // (that place is for upward documents).
    let after_body = &text[text.find("特此通知。").unwrap() + "特此通知。".len()..];
    assert!(after_body.starts_with("签发人：赵六镇安全生产专项整治三年行动领导小组办公室2021年5月1日"), "{after_body}");
    assert_eq!(text.matches("签发人").count(), 1, "{text}");

    let (name, bytes) = svc.rectification_order_docx(&t.inspector, h.id).await.unwrap();
    assert_eq!(name, format!("整改指令书-{}.docx", h.code));
    keep(&name, &bytes);
    let text = document_text(&bytes);
    for needle in [
        "责令限期整改指令书",
        "上海甲机械有限公司：",
        "经查，你单位存在下列问题：",
        "液氨储罐区未设置泄漏报警装置",
        "2021年6月30日前整改完毕",
        "检查人员（签名）",
        "被检查单位负责人（签收）",
        "（印章）",
        "镇安全生产专项整治三年行动领导小组办公室",
        "2021年5月1日",
    ] {
        assert!(text.contains(needle), "{needle} missing from the order: {text}");
    }

    // The enterprise concerned may read both; an unrelated one may not know they exist.
    svc.listing_notice_docx(&t.firm_boss, h.id).await.unwrap();
    for e in [
        svc.listing_notice_docx(&t.other_boss, h.id).await.unwrap_err(),
        svc.rectification_order_docx(&t.other_boss, h.id).await.unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::NotFound);
    }
}

scenario!(notices => sqlite_notices, postgres_notices);

/// The documents say how the hazard came to light: an order about a hazard
/// the enterprise reported itself does not claim an inspection found it.
async fn wording_follows_source(db: Db) {
    let (svc, _clock) = service_with_clock(db);
    let t = town(&svc).await;
    // (source, who reports, the order's opening, the notice's opening, who signs the order)
    let cases = [
        ("inspection", &t.inspector, "2021年4月28日，我单位对你单位进行安全生产检查，经查，你单位存在下列问题：", "2021年4月28日，经检查发现你单位存在“", "检查人员（签名）"),
        ("unannounced", &t.inspector, "2021年4月28日，我单位对你单位进行安全生产暗查暗访，发现你单位存在下列问题：", "2021年4月28日，经暗查暗访发现你单位存在“", "检查人员（签名）"),
        ("self_inspection", &t.firm_boss, "你单位于2021年4月28日自查发现并上报了下列问题：", "你单位于2021年4月28日自查上报存在“", "承办人员（签名）"),
        ("public_report", &t.office, "2021年4月28日，我单位接到群众举报，经核查，你单位存在下列问题：", "2021年4月28日，经核查群众举报，你单位存在“", "承办人员（签名）"),
        ("assigned", &t.office, "2021年4月28日，我单位收到上级交办的问题线索，经核查，你单位存在下列问题：", "2021年4月28日，经核查上级交办的问题线索，你单位存在“", "承办人员（签名）"),
        ("transferred", &t.office, "2021年4月28日，我单位收到有关部门移交的问题线索，经核查，你单位存在下列问题：", "2021年4月28日，经核查有关部门移交的问题线索，你单位存在“", "承办人员（签名）"),
    ];
    for (source, reporter, order_opening, notice_opening, signer) in cases {
        let draft = HazardDraft {
            unit_id: Some(t.firm.to_string()),
            name: format!("{source}：安全出口锁闭"),
            description: "二号车间安全出口上锁".into(),
            level: Some("general".into()),
            source: Some(source.into()),
            found_on: Some("2021-04-28".into()),
            ..Default::default()
        };
        let h = svc.report_hazard(reporter, &draft, None).await.unwrap();
        let mut a = ActionInput { action: "assign".into(), ..Default::default() };
        a.responsible_person = Some("王五".into());
        a.deadline = Some("2021-05-20".into());
        svc.act_on_hazard(&t.office, h.id, &a).await.unwrap();
        let mut l = ActionInput { action: "list".into(), ..Default::default() };
        l.required_by = Some("2021-05-20".into());
        l.document_number = Some(format!("南安办督〔2021〕{}号", source.len()));
        l.signatory = Some("钱七".into());
        svc.act_on_hazard(&t.office, h.id, &l).await.unwrap();

        let (name, bytes) = svc.rectification_order_docx(&t.office, h.id).await.unwrap();
        keep(&format!("{source}-{name}"), &bytes);
        let order = document_text(&bytes);
        assert!(order.contains(order_opening), "{source}: the order should open with {order_opening}: {order}");
        assert!(order.contains(signer), "{source}: {signer} missing: {order}");
        if source != "inspection" {
            assert!(!order.contains("进行安全生产检查，经查"), "{source}: the order claims an inspection: {order}");
        }
        if !matches!(source, "inspection" | "unannounced") {
            assert!(!order.contains("检查"), "{source}: the order speaks of an inspection: {order}");
        }
        let notice = document_text(&svc.listing_notice_docx(&t.office, h.id).await.unwrap().1);
        assert!(notice.contains(notice_opening), "{source}: the notice should open with {notice_opening}: {notice}");
        if source != "inspection" {
            assert!(!notice.contains("经检查发现"), "{source}: the notice claims an inspection: {notice}");
        }
        assert!(notice.contains("签发人：钱七"), "{source}: {notice}");
    }
}

scenario!(wording_follows_source => sqlite_wording_follows_source, postgres_wording_follows_source);
