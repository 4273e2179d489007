//! Official documents about one hazard, as Word files an office prints,
//! stamps and sends: the 挂牌督办通知书 of its listing and the 整改指令书
//! that orders rectification by the deadline. The wording is ours; the
//! layout is GB/T 9704 (see `bihuan_reports::docx`).

use crate::{Ctx, Result, Service};
use bihuan_domain::clock::local_date;
use bihuan_domain::hazard::{self as hz, Hazard, HazardLevel, HazardOp, HazardSource, Listing, UnitRef};
use bihuan_domain::ids::HazardId;
use bihuan_domain::permission::Decision;
use bihuan_domain::{DomainError, ErrorCode};
use bihuan_reports::docx::{self, Block, Closing, Colophon, Masthead, OfficialDocument, Seal, SignatureLine};
use bihuan_store::hazards as store;
use bihuan_store::{Tx, units};
use time::Date;

/// The media type of the documents.
pub const DOCX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

fn docx_error(e: docx::DocxError) -> DomainError {
    tracing::error!(error = %e, "docx rendering failed");
    DomainError::new(ErrorCode::Internal, e.zh(), e.en())
}

/// 重大事故隐患 or 事故隐患, as a document names the hazard.
fn kind_words(h: &Hazard) -> &'static str {
    match h.level {
        HazardLevel::Major => "重大事故隐患",
        HazardLevel::General => "事故隐患",
    }
}

/// How the hazard came to the issuer's notice, in the words a document
/// opens with. An order must not say "we inspected you" about a hazard the
/// enterprise reported itself, nor a notice "found by inspection" about a
/// public report.
struct HowFound {
    /// Opens the 整改指令书, ending in "：" before the list of problems.
    order: String,
    /// Opens the 挂牌督办通知书, before "“name”重大事故隐患".
    notice: String,
    /// The order is the record of an inspection (检查/暗访), signed by the
    /// inspectors; otherwise by the official handling it.
    inspected: bool,
}

fn how_found(h: &Hazard) -> HowFound {
    let date = docx::chinese_date(local_date(h.found_at));
    let (order, notice, inspected) = match h.source {
        HazardSource::Inspection => (
            format!("{date}，我单位对你单位进行安全生产检查，经查，你单位存在下列问题："),
            format!("{date}，经检查发现你单位存在"),
            true,
        ),
        HazardSource::Unannounced => (
            format!("{date}，我单位对你单位进行安全生产暗查暗访，发现你单位存在下列问题："),
            format!("{date}，经暗查暗访发现你单位存在"),
            true,
        ),
        HazardSource::SelfInspection => {
            (format!("你单位于{date}自查发现并上报了下列问题："), format!("你单位于{date}自查上报存在"), false)
        }
        HazardSource::PublicReport => (
            format!("{date}，我单位接到群众举报，经核查，你单位存在下列问题："),
            format!("{date}，经核查群众举报，你单位存在"),
            false,
        ),
        HazardSource::Assigned => (
            format!("{date}，我单位收到上级交办的问题线索，经核查，你单位存在下列问题："),
            format!("{date}，经核查上级交办的问题线索，你单位存在"),
            false,
        ),
        HazardSource::Transferred => (
            format!("{date}，我单位收到有关部门移交的问题线索，经核查，你单位存在下列问题："),
            format!("{date}，经核查有关部门移交的问题线索，你单位存在"),
            false,
        ),
    };
    HowFound { order, notice, inspected }
}

/// The hazard's facts as "label：value" lines.
fn hazard_fields(h: &Hazard) -> Vec<(String, String)> {
    let mut f = vec![
        ("隐患编号".to_string(), h.code.clone()),
        ("隐患名称".to_string(), h.name.clone()),
        ("所在单位".to_string(), h.unit.name.clone()),
    ];
    if let Some(l) = &h.location {
        f.push(("隐患位置".into(), l.clone()));
    }
    f.push(("隐患等级".into(), h.level.label_zh().into()));
    f.push(("发现时间".into(), docx::chinese_date(local_date(h.found_at))));
    f.push(("隐患情况".into(), h.description.clone()));
    f
}

impl Service {
    /// The hazard, if the caller may read it.
    async fn readable_hazard(&self, tx: &mut Tx, ctx: &Ctx, id: HazardId) -> Result<Hazard> {
        let h = store::get(tx, id).await?.ok_or_else(|| DomainError::not_found("隐患", "Hazard"))?;
        match ctx.actor().map(|a| hz::authorize(a, &h.facts(), HazardOp::Read)) {
            None | Some(Decision::Allow) => Ok(h),
            Some(Decision::Forbidden) => Err(DomainError::forbidden()),
            Some(Decision::NotFound) => Err(DomainError::not_found("隐患", "Hazard")),
        }
    }

    async fn unit_ref_of(&self, tx: &mut Tx, id: bihuan_domain::ids::UnitId) -> Result<Option<UnitRef>> {
        Ok(units::get(tx, id).await?.map(|u| UnitRef { id: u.id, name: u.name, short_name: u.short_name, path: u.path }))
    }

    /// The 挂牌督办通知书 of the hazard's current (or last) listing, as a
    /// docx file: its name and bytes.
    pub async fn listing_notice_docx(&self, ctx: &Ctx, hazard_id: HazardId) -> Result<(String, Vec<u8>)> {
        let mut tx = self.db.read().await?;
        let h = self.readable_hazard(&mut tx, ctx, hazard_id).await?;
        let Some(listing) = h.listing.clone() else {
            tx.commit().await?;
            return Err(DomainError::conflict(
                format!("隐患 {} 未挂牌督办，没有督办通知书", h.code),
                format!("Hazard {} has not been listed for supervision; there is no supervision notice", h.code),
            ));
        };
        // 抄送: the unit directly above the enterprise (its village or
        // grid), unless that is the supervising unit itself.
        let parent = match h.unit.path.ids().iter().rev().nth(1) {
            Some(p) if *p != listing.supervising_unit_id => self.unit_ref_of(&mut tx, *p).await?,
            _ => None,
        };
        tx.commit().await?;
        let doc = listing_notice(&h, &listing, parent.as_ref().map(|u| u.name.as_str()));
        let bytes = docx::render(&doc).map_err(docx_error)?;
        Ok((format!("挂牌督办通知书-{}.docx", h.code), bytes))
    }

    /// The 整改指令书 ordering the hazard's unit to rectify it by the
    /// deadline, issued by the unit that assigned it (or found it, or
    /// supervises it), as a docx file: its name and bytes.
    pub async fn rectification_order_docx(&self, ctx: &Ctx, hazard_id: HazardId) -> Result<(String, Vec<u8>)> {
        let mut tx = self.db.read().await?;
        let h = self.readable_hazard(&mut tx, ctx, hazard_id).await?;
        let outside = |u: &&UnitRef| !u.path.is_within(&h.unit.path);
        let mut issuer: Option<UnitRef> = h
            .assigned_by_unit
            .as_ref()
            .filter(outside)
            .or(Some(&h.found_by_unit).filter(outside))
            .cloned();
        if issuer.is_none()
            && let Some(l) = &h.listing
        {
            issuer = self.unit_ref_of(&mut tx, l.supervising_unit_id).await?;
        }
        let events = store::events(&mut tx, h.id).await?;
        tx.commit().await?;
        let Some(issuer) = issuer else {
            return Err(DomainError::conflict(
                format!("隐患 {} 由单位自查并自行交办，没有下达整改指令的监管单位", h.code),
                format!("Hazard {} was found and assigned by its own unit; no supervising unit issues an order", h.code),
            ));
        };
        let Some(deadline) = h.deadline.or(h.listing.as_ref().map(|l| l.required_by)) else {
            return Err(DomainError::conflict(
                format!("隐患 {} 尚未交办，没有整改期限，请先交办", h.code),
                format!("Hazard {} has no deadline yet; assign it first", h.code),
            ));
        };
        // Dated the day it was (last) assigned, else today.
        let issued = events.iter().rev().find(|e| e.action == "assign" || e.action == "import").map(|e| local_date(e.at)).unwrap_or_else(|| self.today());
        let doc = rectification_order(&h, &issuer, deadline, issued);
        let bytes = docx::render(&doc).map_err(docx_error)?;
        Ok((format!("整改指令书-{}.docx", h.code), bytes))
    }
}

/// 关于对…挂牌督办的通知.
pub fn listing_notice(h: &Hazard, l: &Listing, cc: Option<&str>) -> OfficialDocument {
    let kind = kind_words(h);
    let mut doc = OfficialDocument::new(format!("关于对{}\n“{}”\n{}挂牌督办的通知", h.unit.name, h.name, kind));
    doc.masthead = Masthead::Red { issuer: l.supervising_unit_name.clone(), number: Some(l.document_number.clone()), signatory: None };
    doc.addressee = Some(h.unit.name.clone());
    let mut body = vec![Block::Paragraph(format!(
        "{}“{}”{}（隐患编号：{}）。为督促你单位及时消除隐患、防止事故发生，依据《中华人民共和国安全生产法》和《安全生产事故隐患排查治理暂行规定》的有关规定，经研究，决定对该隐患实行{}挂牌督办。现将有关事项通知如下。",
        how_found(h).notice,
        h.name,
        kind,
        h.code,
        l.level.label_zh(),
    ))];
    body.push(Block::Heading1("一、隐患基本情况".into()));
    body.push(Block::Fields(hazard_fields(h)));
    body.push(Block::Heading1("二、督办要求".into()));
    let mut items = Vec::new();
    if h.level == HazardLevel::Major {
        items.push(
            "制定并落实治理方案。方案应当写明治理的目标和任务、采取的方法和措施、经费和物资的落实、负责治理的机构和人员、治理的时限和要求、安全措施和应急预案，六个方面缺一不可，并报我单位备查。"
                .to_string(),
        );
    } else {
        items.push("制定整改方案，明确整改的内容、方法、步骤和验收标准，并报我单位备查。".to_string());
    }
    items.push("做到“五到位”。整改措施、责任、资金、时限和应急预案必须逐项落实到位，明确专人负责，所需资金由你单位保障。".into());
    items.push(format!(
        "限期完成。该隐患须于{}前治理完毕。治理期间应当采取有效的防范措施，设置警示标志，加强监测监控；不能保证安全的，应当撤出作业人员，停止使用相关设施、设备，必要时停产停业。",
        docx::chinese_date(l.required_by)
    ));
    items.push("按时报告进展。治理期间应当定期向我单位书面报告治理进度；因客观原因确需延期的，应当在期限届满前书面申请并说明理由，未经同意不得延期。".into());
    items.push("申请核销。治理完成后，你单位应当组织验收（重大事故隐患可委托具备相应资质的安全评价机构评估），验收合格后向我单位提出书面核销申请，附治理方案、治理完成情况和验收或评估报告。我单位经现场审查合格后予以核销、摘牌。".into());
    body.push(Block::Numbered(items));
    if let Some(r) = l.requirements.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        body.push(Block::Heading1("三、其他要求".into()));
        body.push(Block::Paragraph(r.to_string()));
    }
    body.push(Block::Paragraph("逾期未完成治理或者治理不到位的，我单位将依法依规严肃处理，并追究有关人员的责任。".into()));
    body.push(Block::Paragraph("特此通知。".into()));
    doc.body = body;
    // 签发人: GB/T 9704-2012 (7.2.4) prints it in the 版头 of upward
    // documents (上行文) only, where the higher authority needs to know who
    // answers for a request; this notice goes down to an enterprise, so the
    // 版头 keeps the centred 发文字号 of a 下行文. The standard has no place for
    // it in a downward document, but the listing records who approved it and
    // the enterprise should see that: it is printed as a line of its own
    // after the body, directly above the issuing unit, its seal and the date
    // it answers for.
    let signature_lines = match l.signatory.trim() {
        "" => vec![],
        who => vec![SignatureLine { label: "签发人".into(), value: Some(who.to_string()), dated: false }],
    };
    doc.closing = Closing { signature_lines, issuer: Some(l.supervising_unit_name.clone()), seal: Seal::Stamped, date: Some(l.listed_on) };
    doc.colophon = Some(Colophon { cc: cc.map(str::to_string), printed_by: l.supervising_unit_name.clone(), printed_on: l.listed_on });
    doc
}

/// 责令限期整改指令书: a form for one hazard.
pub fn rectification_order(h: &Hazard, issuer: &UnitRef, deadline: Date, issued: Date) -> OfficialDocument {
    let mut doc = OfficialDocument::new("责令限期整改指令书");
    let (year, number) = h.code.strip_prefix("YH").and_then(|r| r.split_once('-')).unwrap_or(("", h.code.as_str()));
    let year = if year.is_empty() { issued.year().to_string() } else { year.to_string() };
    let prefix = issuer.short_name.clone().map(|s| format!("（{s}）")).unwrap_or_default();
    let number = number.trim_start_matches('0');
    doc.masthead = Masthead::Plain { authority: Some(issuer.name.clone()), number: Some(format!("{prefix}责改〔{year}〕{number}号")) };
    doc.addressee = Some(h.unit.name.clone());
    let mut problem = format!("{}：{}", h.name, h.description);
    if let Some(l) = &h.location {
        problem.push_str(&format!("（位置：{l}）"));
    }
    problem.push_str(&format!("（隐患编号：{}，{}）", h.code, h.level.label_zh()));
    let found = how_found(h);
    doc.body = vec![
        Block::Paragraph(found.order),
        Block::Numbered(vec![problem]),
        Block::Paragraph(format!(
            "上述问题不符合安全生产法律、法规和国家标准或者行业标准的要求。依据《中华人民共和国安全生产法》的有关规定，现责令你单位于{}前整改完毕，并将整改情况书面报告我单位。",
            docx::chinese_date(deadline)
        )),
        Block::Paragraph("整改完成前，你单位应当采取有效的安全防范措施，防止事故发生；无法保证安全的，应当从危险区域撤出作业人员，暂时停产停业或者停止使用相关设施、设备。".into()),
        Block::Paragraph("逾期未整改或者整改不符合要求的，我单位将依法处理。".into()),
        Block::Paragraph("你单位如对本指令不服，可以自收到本指令书之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼；复议和诉讼期间，本指令不停止执行。".into()),
    ];
    // Signed by the inspectors when it records an inspection; otherwise by
    // the official who handles the report.
    let (official, receiver, note) = if found.inspected {
        ("检查人员（签名）", "被检查单位负责人（签收）", "本指令书一式两份，被检查单位和检查单位各执一份")
    } else {
        ("承办人员（签名）", "被责令整改单位负责人（签收）", "本指令书一式两份，被责令整改单位和下达指令单位各执一份")
    };
    doc.closing = Closing {
        signature_lines: vec![SignatureLine::blank(official), SignatureLine::blank(receiver).dated()],
        issuer: Some(issuer.name.clone()),
        seal: Seal::Placeholder("（印章）".into()),
        date: Some(issued),
    };
    doc.note = Some(note.into());
    doc
}
