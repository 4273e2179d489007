//! Writes a 100,000-row × 25-column hazard ledger of realistic Chinese text
//! (plus an interleaved 10,000-row timeline sheet) and prints the time taken
//! and the peak resident memory.
//!
//! `cargo run --release -p bihuan-reports --example ledger_bench [rows] [out.xlsx|out.csv] [read]`
//!
//! With `read`, the file is then imported again with `read_table` and that
//! time and the peak memory are printed too.

use bihuan_reports::{Cell, Column, ColumnSpec, CsvLedger, SheetSpec, XlsxLedger, read_table};
use rust_decimal::Decimal;
use std::time::Instant;
use time::{Date, Duration, Month, PrimitiveDateTime, Time};

const UNITS: &[&str] = &[
    "上海南翔精密机械有限公司",
    "嘉定区南翔镇永乐村股份经济合作社",
    "上海翔联包装材料有限公司",
    "南翔古猗园餐饮管理有限公司",
    "上海启翔仓储物流有限公司",
    "上海嘉南化工贸易有限公司",
];
const VILLAGES: &[&str] = &["永乐村", "新丰村", "曙光村", "静华村", "红翔村", "德华社区", "白鹤社区"];
const AREAS: &[&str] = &["工矿商贸", "危险化学品", "消防", "道路交通", "建设施工", "城镇燃气", "特种设备"];
const NAMES: &[&str] = &[
    "消防通道被货物堵塞",
    "配电箱未上锁且无警示标识",
    "危化品仓库未设置防爆灯具",
    "叉车司机无证上岗",
    "员工宿舍私拉乱接电线",
    "燃气管道未安装泄漏报警装置",
    "脚手架连墙件缺失",
];
const DETAILS: &[&str] = &[
    "现场检查发现一号车间东侧疏散通道堆放纸箱约二十件，通道宽度不足一点一米，影响人员疏散。",
    "二楼配电间门未上锁，配电箱内线路老化，部分接线端子有烧蚀痕迹，未张贴有电危险警示标识。",
    "仓库内存放油漆稀释剂等易燃液体，照明灯具为普通灯具，未按要求设置防爆型灯具和静电导除设施。",
    "企业安全生产责任制未覆盖全员，年度安全教育培训记录不完整，新员工三级教育卡缺失。",
];
const MEASURES: &[&str] = &[
    "立即清理通道堆放物品，划设禁止占用标线，落实每日巡查并做好记录。",
    "更换老化线路，配电间门上锁并张贴警示标识，由持证电工每周检查一次。",
    "更换为防爆灯具，设置静电导除装置，危化品按类分区存放并建立出入库台账。",
];
const PEOPLE: &[&str] = &["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"];
const STATES: &[&str] = &["待整改", "整改中", "待复核", "已销号", "已逾期"];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).unwrap_or(0)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from.get(self.next() % from.len()).copied().unwrap_or("")
    }
}

fn columns() -> Vec<Column> {
    [
        ("序号", 6.0),
        ("隐患编号", 16.0),
        ("单位名称", 30.0),
        ("所属村居", 10.0),
        ("行业领域", 12.0),
        ("隐患类别", 10.0),
        ("隐患名称", 28.0),
        ("隐患描述", 50.0),
        ("隐患等级", 10.0),
        ("发现日期", 12.0),
        ("发现方式", 10.0),
        ("检查人员", 10.0),
        ("整改措施", 50.0),
        ("整改期限", 12.0),
        ("整改责任人", 10.0),
        ("联系电话", 14.0),
        ("整改资金（万元）", 12.0),
        ("整改状态", 10.0),
        ("完成日期", 12.0),
        ("复核人", 10.0),
        ("复核时间", 17.0),
        ("是否挂牌督办", 10.0),
        ("督办单位", 16.0),
        ("备注", 20.0),
        ("最后更新", 17.0),
    ]
    .into_iter()
    .map(|(h, w)| Column::new(h, w))
    .collect()
}

fn row(i: usize, rng: &mut Rng) -> Vec<Cell> {
    let base = Date::from_calendar_date(2020, Month::August, 1).unwrap_or(Date::MIN);
    let found = base + Duration::days((i % 600) as i64);
    let due = found + Duration::days(15 + (rng.next() % 30) as i64);
    let at = |d: Date, r: &mut Rng| {
        PrimitiveDateTime::new(
            d,
            Time::from_hms((8 + r.next() % 10) as u8, (r.next() % 60) as u8, 0).unwrap_or(Time::MIDNIGHT),
        )
    };
    let done = !rng.next().is_multiple_of(3);
    vec![
        Cell::Int(i as i64 + 1),
        Cell::Text(format!("NX-2020-{:06}", i + 1)),
        Cell::from(rng.pick(UNITS)),
        Cell::from(rng.pick(VILLAGES)),
        Cell::from(rng.pick(AREAS)),
        Cell::from(if rng.next().is_multiple_of(2) { "基础管理" } else { "现场管理" }),
        Cell::from(rng.pick(NAMES)),
        Cell::from(rng.pick(DETAILS)),
        Cell::from(if rng.next().is_multiple_of(20) { "重大隐患" } else { "一般隐患" }),
        Cell::Date(found),
        Cell::from(if rng.next().is_multiple_of(2) { "日常检查" } else { "专项检查" }),
        Cell::Text(format!("{}、{}", rng.pick(PEOPLE), rng.pick(PEOPLE))),
        Cell::from(rng.pick(MEASURES)),
        Cell::Date(due),
        Cell::from(rng.pick(PEOPLE)),
        Cell::Text(format!("139{:08}", rng.next() % 100_000_000)),
        Cell::Decimal(Decimal::new((rng.next() % 100_000) as i64, 2)),
        Cell::from(rng.pick(STATES)),
        if done { Cell::Date(due - Duration::days(3)) } else { Cell::Empty },
        Cell::from(rng.pick(PEOPLE)),
        if done { Cell::DateTime(at(due, rng)) } else { Cell::Empty },
        Cell::from(if rng.next().is_multiple_of(10) { "是" } else { "否" }),
        Cell::from("南翔镇安全生产委员会办公室"),
        Cell::from(if rng.next().is_multiple_of(5) { "企业已提交整改报告及照片" } else { "" }),
        Cell::DateTime(at(due, rng)),
    ]
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let out = args.next().unwrap_or_else(|| "/tmp/ledger_bench.xlsx".to_string());
    let mut rng = Rng(20_210_506);
    let start = Instant::now();

    if out.ends_with(".csv") {
        let file = std::io::BufWriter::new(std::fs::File::create(&out)?);
        let mut csv = CsvLedger::new(file, &columns())?;
        for i in 0..rows {
            csv.append(&row(i, &mut rng))?;
        }
        csv.finish()?;
    } else {
        let mut book = XlsxLedger::create(&out)?;
        let items = book.add_sheet(
            &SheetSpec::new("问题隐患清单", columns()).with_title("南翔镇问题隐患清单（导出于2021-05-06）"),
        )?;
        let timeline = book.add_sheet(&SheetSpec::new(
            "处理过程",
            vec![
                Column::new("隐患编号", 16.0),
                Column::new("时间", 17.0),
                Column::new("环节", 10.0),
                Column::new("经办人", 10.0),
                Column::new("意见", 40.0),
            ],
        ))?;
        for i in 0..rows {
            book.append(items, &row(i, &mut rng))?;
            if i % 10 == 0 {
                let at = PrimitiveDateTime::new(
                    Date::from_calendar_date(2021, Month::May, 6).unwrap_or(Date::MIN),
                    Time::from_hms(9, 30, 0).unwrap_or(Time::MIDNIGHT),
                );
                book.append(
                    timeline,
                    &[
                        Cell::Text(format!("NX-2020-{:06}", i + 1)),
                        Cell::DateTime(at),
                        Cell::from("复核"),
                        Cell::from(rng.pick(PEOPLE)),
                        Cell::from("现场复核已整改到位，同意销号。"),
                    ],
                )?;
            }
        }
        book.finish()?;
    }

    let elapsed = start.elapsed();
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    println!(
        "rows={rows} columns=25 file={out} size={:.1} MiB time={:.2}s peak_rss={:.1} MiB",
        size as f64 / 1_048_576.0,
        elapsed.as_secs_f64(),
        peak_rss_kib() as f64 / 1024.0
    );
    if args.next().as_deref() == Some("read") {
        const SPECS: &[ColumnSpec] = &[
            ColumnSpec { key: "unit", aliases: &["单位名称"], required: true },
            ColumnSpec { key: "title", aliases: &["隐患名称"], required: true },
            ColumnSpec { key: "found_on", aliases: &["发现日期"], required: true },
            ColumnSpec { key: "funds", aliases: &["整改资金"], required: false },
            ColumnSpec { key: "detail", aliases: &["隐患描述"], required: false },
        ];
        let start = Instant::now();
        let bytes = std::fs::read(&out)?;
        let table = read_table(&bytes, &out, SPECS)?;
        println!(
            "read_table: rows={} unknown_headers={} time={:.2}s peak_rss={:.1} MiB",
            table.rows.len(),
            table.unknown_headers.len(),
            start.elapsed().as_secs_f64(),
            peak_rss_kib() as f64 / 1024.0
        );
    }
    Ok(())
}
