//! Sample documents shared by the docx tests.

use bihuan_reports::docx::{
    Appendix, Block, Closing, Colophon, Column, Level, Masthead, OfficialDocument, Seal,
    SignatureLine, Table, TableTextSize, heading_number,
};
use time::macros::date;

/// A 挂牌督办通知书 with every part of a 文件格式 document.
pub fn supervision_notice() -> OfficialDocument {
    let mut doc = OfficialDocument::new("关于对上海某某化工有限公司\n重大事故隐患挂牌督办的通知");
    doc.masthead = Masthead::Red {
        issuer: "南翔镇安全生产专项整治三年行动领导小组办公室".into(),
        number: Some("南安办〔2021〕3号".into()),
        signatory: None,
    };
    doc.addressee = Some("上海某某化工有限公司，镇安监所、经发办".into());
    doc.body = vec![
        Block::Paragraph(
            "2021年3月2日，镇安全生产专项整治检查组在对你单位开展检查时，发现存在重大事故隐患。根据《安全生产法》和《上海市安全生产事故隐患排查治理办法》有关规定，经研究，决定对该隐患实行挂牌督办。现将有关事项通知如下："
                .into(),
        ),
        Block::Heading1(format!("{}督办隐患", heading_number(Level::One, 1))),
        Block::Numbered(vec![
            "甲类仓库内违规存放氧化剂与易燃液体，未按规定分区分类储存；".into(),
            "反应釜区域可燃气体报警装置失效，未与紧急切断装置联锁。".into(),
        ]),
        Block::Heading1(format!("{}整改要求", heading_number(Level::One, 2))),
        Block::Lead {
            level: Level::Two,
            heading: format!("{}落实主体责任。", heading_number(Level::Two, 1)),
            text: "你单位主要负责人是隐患整改第一责任人，要立即制定整改方案，做到整改措施、责任、资金、时限和预案“五到位”。"
                .into(),
        },
        Block::Lead {
            level: Level::Two,
            heading: format!("{}限期完成整改。", heading_number(Level::Two, 2)),
            text: "请于2021年4月5日前完成整改，整改期间采取有效的安全防范措施，确保安全。".into(),
        },
        Block::Heading3("1.整改完成后书面报告镇安委办。".into()),
        Block::Heading1(format!("{}督办责任单位", heading_number(Level::One, 3))),
        Block::Paragraph("镇安监所负责督办，每周至少检查一次整改进展，并于整改期满后5个工作日内组织验收。".into()),
    ];
    doc.attachments = vec![
        "重大事故隐患整改方案（模板）".into(),
        "隐患整改销号申请表".into(),
    ];
    doc.closing = Closing {
        signature_lines: vec![],
        issuer: Some("南翔镇安全生产专项整治三年行动领导小组办公室".into()),
        seal: Seal::Stamped,
        date: Some(date!(2021 - 03 - 05)),
    };
    doc.note = Some("联系人：张三，电话：69120000".into());
    doc.appendices = vec![Appendix {
        label: "附件1".into(),
        title: "重大事故隐患整改方案（模板）".into(),
        body: vec![Block::Fields(vec![
            ("单位名称".into(), String::new()),
            ("隐患描述".into(), String::new()),
            ("整改措施".into(), String::new()),
        ])],
    }];
    doc.colophon = Some(Colophon {
        cc: Some("镇党委、镇人大、镇纪委，区应急局".into()),
        printed_by: "南翔镇安全生产专项整治三年行动领导小组办公室".into(),
        printed_on: date!(2021 - 03 - 05),
    });
    doc
}

/// A 责令限期整改指令书: a form with a table and lines to sign on.
pub fn rectification_order() -> OfficialDocument {
    let mut doc = OfficialDocument::new("责令限期整改指令书");
    doc.masthead = Masthead::Plain {
        authority: Some("南翔镇安全生产监督管理所".into()),
        number: Some("（南）安监责改〔2021〕12号".into()),
    };
    doc.addressee = Some("上海某某机械制造有限公司".into());
    doc.body = vec![
        Block::Fields(vec![
            ("地址".into(), "嘉定区南翔镇某某路100号".into()),
            ("检查时间".into(), "2021年3月5日".into()),
        ]),
        Block::Paragraph("经查，你单位存在下列问题：".into()),
        Block::Numbered(vec![
            "冲压车间2台冲床光电保护装置损坏；".into(),
            "配电箱前堆放杂物，未保持0.8米以上通道；".into(),
            "未建立隐患排查治理台账。".into(),
        ]),
        Block::Table(Table {
            columns: vec![
                Column::new("序号", 1).centered(),
                Column::new("隐患内容", 5),
                Column::new("整改期限", 3).centered(),
            ],
            rows: vec![
                vec!["1".into(), "冲压车间2台冲床光电保护装置损坏".into(), "2021年3月12日".into()],
                vec!["2".into(), "配电箱前堆放杂物，未保持0.8米以上通道".into(), "立即".into()],
                vec!["3".into(), "未建立隐患排查治理台账".into(), "2021年3月31日".into()],
            ],
            size: TableTextSize::Standard,
        }),
        Block::Paragraph(
            "现责令你单位对上述问题于期限内整改完毕，达到有关法律法规规章和标准规定的要求。整改期间，你单位应当采取措施，确保安全生产。".into(),
        ),
        Block::Paragraph(
            "如果不服本指令，可以依法在60日内向嘉定区人民政府申请行政复议，或者在6个月内依法向人民法院提起行政诉讼，但本指令不停止执行，法律另有规定的除外。".into(),
        ),
    ];
    doc.closing = Closing {
        signature_lines: vec![
            SignatureLine::blank("检查人员（签名）"),
            SignatureLine::blank("被检查单位负责人（签收）").dated(),
        ],
        issuer: Some("南翔镇安全生产监督管理所".into()),
        seal: Seal::Placeholder("（印章）".into()),
        date: Some(date!(2021 - 03 - 05)),
    };
    doc
}

/// A 通报 long enough to span several pages.
pub fn long_circular() -> OfficialDocument {
    let mut doc = OfficialDocument::new("关于2021年第一季度安全生产专项整治\n工作情况的通报");
    doc.masthead = Masthead::Red {
        issuer: "南翔镇安全生产委员会办公室".into(),
        number: Some("南安委办〔2021〕8号".into()),
        signatory: None,
    };
    doc.addressee = Some("各村、居委会，各有关单位".into());
    let mut body = vec![Block::Paragraph(
        "为深入推进安全生产专项整治三年行动，现将2021年第一季度工作情况通报如下。".into(),
    )];
    for section in 1..=4 {
        body.push(Block::Heading1(format!(
            "{}第{section}部分情况",
            heading_number(Level::One, section)
        )));
        for item in 1..=3 {
            body.push(Block::Heading2(format!(
                "{}专项整治第{item}项",
                heading_number(Level::Two, item)
            )));
            body.push(Block::Paragraph(
                "各单位按照镇安委会部署，对照“两个清单”逐项推进，深入开展隐患排查治理，落实整改责任、措施、资金、时限和预案，隐患整改率稳步提升。部分单位仍存在排查不深入、整改不彻底、台账不规范等问题，需要进一步加强督促指导。"
                    .into(),
            ));
        }
    }
    body.push(Block::Paragraph("特此通报。".into()));
    doc.body = body;
    doc.closing = Closing {
        signature_lines: vec![],
        issuer: Some("南翔镇安全生产委员会办公室".into()),
        seal: Seal::None,
        date: Some(date!(2021 - 04 - 12)),
    };
    doc.colophon = Some(Colophon {
        cc: None,
        printed_by: "南翔镇安全生产委员会办公室".into(),
        printed_on: date!(2021 - 04 - 12),
    });
    doc
}
