//! The district-scale dataset: word lists, distributions and a generator of
//! hazards with their timelines that pass the domain's invariants.
//!
//! Everything is deterministic for a seed, so two runs build the same data.

use bihuan_domain::calendar::DeadlineRule;
use bihuan_domain::hazard::*;
use bihuan_domain::ids::*;
use rust_decimal::Decimal;
use time::{Date, Duration, Month, OffsetDateTime};

/// A small, fast, deterministic generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as usize) as i64
    }
    pub fn pick<'a, T>(&mut self, from: &'a [T]) -> Option<&'a T> {
        from.get(self.below(from.len()))
    }
    pub fn text(&mut self, from: &[&str]) -> String {
        self.pick(from).copied().unwrap_or_default().to_string()
    }
    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }
}

pub const TOWNS: [&str; 12] =
    ["南翔镇", "安亭镇", "马陆镇", "徐行镇", "华亭镇", "外冈镇", "江桥镇", "菊园新区", "嘉定工业区", "新成路街道", "真新街道", "嘉定镇街道"];

const VILLAGE_WORDS: [&str; 36] = [
    "永乐", "新丰", "曙光", "静华", "红翔", "德华", "白鹤", "浏翔", "宝翔", "双塘", "火炬", "先农", "大裕", "嘉新", "北管", "陆巷",
    "封浜", "星火", "立新", "丰庄", "方泰", "朱桥", "钱门", "塘湾", "联一", "联西", "毛桥", "六里", "金鹤", "华新", "唐行", "周泾",
    "葛隆", "马陆", "戬浜", "陈村",
];

const FIRM_PREFIX: [&str; 40] = [
    "宏达", "永兴", "华鑫", "瑞丰", "恒通", "金泰", "嘉禾", "振华", "鼎盛", "汇丰", "新锐", "天成", "长江", "东方", "富源", "广利",
    "博远", "立信", "明辉", "中联", "安达", "佳美", "百川", "旭日", "宇航", "信诚", "协力", "同创", "荣昌", "润泽", "凯特", "精工",
    "翔宇", "德力", "世纪", "海川", "正泰", "祥和", "兴业", "绿源",
];

/// An industry: its words, the flags it usually carries and how its
/// hazards spread over the campaign's areas (by area code).
pub struct Sector {
    pub industry: &'static str,
    pub words: &'static [&'static str],
    pub flags: &'static [&'static str],
    pub weight: f64,
    pub areas: &'static [(&'static str, f64)],
}

pub const SECTORS: &[Sector] = &[
    Sector { industry: "金属制品", words: &["精密机械", "五金制品", "金属制品", "模具"], flags: &["combustible_dust"], weight: 14.0, areas: &[("a08", 4.0), ("a04", 3.0), ("a02", 2.0)] },
    Sector { industry: "化工", words: &["精细化工", "涂料", "新材料", "化学"], flags: &["hazardous_chemicals"], weight: 6.0, areas: &[("a03", 6.0), ("a04", 3.0), ("a10", 1.5), ("a02", 1.0)] },
    Sector { industry: "危险化学品经营", words: &["化工贸易", "气体", "油品"], flags: &["hazardous_chemicals", "major_hazard_source"], weight: 3.0, areas: &[("a03", 6.0), ("a04", 2.0), ("a11", 0.5)] },
    Sector { industry: "仓储物流", words: &["物流", "仓储", "供应链", "冷链"], flags: &["crowded_place"], weight: 10.0, areas: &[("a04", 5.0), ("a05", 2.0), ("a02", 1.0)] },
    Sector { industry: "建筑施工", words: &["建筑工程", "建设", "市政工程", "装饰工程"], flags: &[], weight: 8.0, areas: &[("a07", 6.0), ("a04", 1.0), ("a02", 1.0)] },
    Sector { industry: "道路运输", words: &["运输", "客运", "货运"], flags: &[], weight: 4.0, areas: &[("a05", 6.0), ("a04", 1.0)] },
    Sector { industry: "商业综合体", words: &["商业管理", "广场", "百货"], flags: &["crowded_place"], weight: 5.0, areas: &[("a04", 6.0), ("a09", 2.0)] },
    Sector { industry: "专业市场", words: &["农贸市场", "建材市场", "小商品市场"], flags: &["crowded_place"], weight: 4.0, areas: &[("a09", 5.0), ("a04", 4.0)] },
    Sector { industry: "住宿餐饮", words: &["酒店", "餐饮管理", "大酒店"], flags: &["gas"], weight: 9.0, areas: &[("a04", 6.0), ("a02", 1.0), ("a09", 1.0)] },
    Sector { industry: "电子制造", words: &["电子科技", "电器", "光电"], flags: &[], weight: 8.0, areas: &[("a08", 4.0), ("a04", 3.0)] },
    Sector { industry: "家具制造", words: &["木业", "家具", "装饰材料"], flags: &["combustible_dust"], weight: 5.0, areas: &[("a08", 3.0), ("a04", 4.0)] },
    Sector { industry: "印刷包装", words: &["印刷", "包装材料", "纸制品"], flags: &["hazardous_chemicals"], weight: 6.0, areas: &[("a08", 3.0), ("a04", 3.0), ("a03", 1.0)] },
    Sector { industry: "危险废物处置", words: &["环保科技", "资源再生"], flags: &["hazardous_waste"], weight: 2.0, areas: &[("a10", 6.0), ("a04", 1.0)] },
    Sector { industry: "食品制造", words: &["食品", "饮料", "生物科技"], flags: &["confined_space"], weight: 6.0, areas: &[("a08", 3.0), ("a04", 2.0), ("a02", 1.0)] },
    Sector { industry: "燃气", words: &["燃气", "能源"], flags: &["gas", "major_hazard_source"], weight: 1.0, areas: &[("a03", 3.0), ("a11", 2.0), ("a04", 2.0)] },
    Sector { industry: "渔业", words: &["水产", "渔业"], flags: &[], weight: 1.0, areas: &[("a06", 6.0), ("a04", 1.0)] },
    Sector { industry: "机动车维修", words: &["汽车维修", "汽车服务"], flags: &[], weight: 5.0, areas: &[("a04", 3.0), ("a08", 2.0), ("a10", 1.0)] },
    Sector { industry: "纺织服装", words: &["纺织", "服饰", "制衣"], flags: &[], weight: 3.0, areas: &[("a04", 4.0), ("a08", 2.0)] },
];

/// One kind of problem: its name and its 隐患类别.
type Problem = (&'static str, HazardType);

/// Problems by area code (`""` for problems found anywhere).
pub const PROBLEMS: &[(&str, &[Problem])] = &[
    ("a04", &[
        ("消防通道被货物堵塞", HazardType::Fire),
        ("灭火器过期未更换", HazardType::Fire),
        ("灭火器压力不足", HazardType::Fire),
        ("安全出口指示标志损坏", HazardType::Fire),
        ("应急照明灯不亮", HazardType::Fire),
        ("室内消火栓被遮挡", HazardType::Fire),
        ("疏散通道堆放杂物", HazardType::Fire),
        ("自动喷水灭火系统未定期检测", HazardType::Fire),
        ("常闭式防火门处于常开状态", HazardType::Fire),
        ("消防控制室值班人员无证上岗", HazardType::Fire),
        ("电动自行车在楼道内充电", HazardType::Fire),
        ("员工宿舍违规使用大功率电器", HazardType::Electrical),
    ]),
    ("a03", &[
        ("危化品仓库未设置防爆灯具", HazardType::Electrical),
        ("可燃气体报警器失效", HazardType::Instrument),
        ("危化品未按类别分区存放", HazardType::Safety),
        ("储罐区防火堤破损", HazardType::Layout),
        ("静电接地装置缺失", HazardType::Electrical),
        ("危化品出入库台账不全", HazardType::Other),
        ("压力表未定期校验", HazardType::Instrument),
        ("防爆区域使用非防爆电器", HazardType::Electrical),
        ("反应釜安全阀未定期检验", HazardType::Process),
    ]),
    ("a02", &[
        ("安全生产责任制未覆盖全员", HazardType::Safety),
        ("新员工三级安全教育卡缺失", HazardType::Safety),
        ("应急预案未组织演练", HazardType::Safety),
        ("特种作业人员无证上岗", HazardType::Safety),
        ("安全检查记录不完整", HazardType::Other),
        ("劳动防护用品配备不足", HazardType::Safety),
    ]),
    ("a07", &[
        ("脚手架连墙件缺失", HazardType::Safety),
        ("临边洞口未设置防护栏杆", HazardType::Safety),
        ("施工升降机未验收即投入使用", HazardType::Equipment),
        ("临时用电未使用漏电保护器", HazardType::Electrical),
        ("深基坑未按方案支护", HazardType::Process),
        ("塔吊限位装置失效", HazardType::Equipment),
    ]),
    ("a08", &[
        ("配电箱未上锁且无警示标识", HazardType::Electrical),
        ("车间电线私拉乱接", HazardType::Electrical),
        ("冲床防护罩缺失", HazardType::Equipment),
        ("行车限位装置失效", HazardType::Equipment),
        ("叉车司机无证驾驶", HazardType::Safety),
        ("压力容器未定期检验", HazardType::Equipment),
        ("除尘系统未设置泄爆装置", HazardType::Process),
        ("有限空间未设置警示标识", HazardType::Safety),
        ("配电箱周边堆放可燃物", HazardType::Electrical),
    ]),
    ("a09", &[
        ("商铺内违规住人", HazardType::Fire),
        ("市场通道被摊位占用", HazardType::Fire),
        ("液化气钢瓶与灶具间距不足", HazardType::Safety),
        ("安全通道被锁闭", HazardType::Fire),
    ]),
    ("a05", &[
        ("车辆未按规定安装卫星定位装置", HazardType::Equipment),
        ("驾驶员超时驾驶", HazardType::Safety),
        ("车辆安全检查记录缺失", HazardType::Other),
        ("危货运输车辆标志不全", HazardType::Safety),
    ]),
    ("a10", &[
        ("危废暂存间未设置防渗措施", HazardType::Layout),
        ("危险废物标签不规范", HazardType::Other),
        ("危险废物转移联单不全", HazardType::Other),
    ]),
    ("a11", &[("民爆物品储存库监控失效", HazardType::Instrument), ("烟花爆竹违规储存", HazardType::Safety)]),
    ("a06", &[("渔船救生衣配备不足", HazardType::Equipment), ("船舶消防设备缺失", HazardType::Fire)]),
    ("a01", &[("安全生产宣传栏未及时更新", HazardType::Other)]),
];

const BUILDINGS: [&str; 18] = [
    "一号车间", "二号车间", "三号厂房", "成品仓库", "原料仓库", "危化品仓库", "配电房", "锅炉房", "空压机房", "食堂", "员工宿舍", "办公楼",
    "门卫室", "厂区东侧", "厂区北侧", "地下车库", "营业大厅", "后厨",
];
const SPOTS: [&str; 8] = ["", "一楼", "二楼", "东侧", "西北角", "通道处", "楼梯间", "南门"];
const FOUND: [&str; 5] = ["现场检查发现", "检查时发现", "经查", "暗访发现", "企业自查发现"];
const DETAILS: [&str; 10] = [
    "存在较大安全风险",
    "影响人员疏散",
    "易引发火灾事故",
    "现场未见整改记录",
    "企业负责人未能提供相关记录",
    "不符合相关标准规范要求",
    "作业人员安全意识淡薄",
    "已多次提醒仍未落实",
    "存在触电风险",
    "一旦发生事故后果严重",
];
const ENDINGS: [&str; 4] = ["，要求立即整改。", "，责令限期整改。", "。", "，请企业落实专人负责。"];
const SURNAMES: [&str; 20] = ["张", "王", "李", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "朱", "马", "胡", "郭", "林", "何", "高", "罗"];
const GIVEN: [&str; 20] = ["伟", "芳", "娜", "洋", "静", "磊", "敏", "强", "军", "杰", "勇", "艳", "涛", "明", "超", "霞", "平", "刚", "华", "健"];
const MEASURES: [&str; 5] = [
    "立即清理堆放物品，落实每日巡查并做好记录。",
    "更换老化线路，张贴警示标识，由持证电工每周检查一次。",
    "按规范更换设施设备，建立台账，明确专人管理。",
    "组织全员培训，完善制度并签订安全责任书。",
    "委托有资质单位检测维修，合格后方可投入使用。",
];
const CONTINGENCY: [&str; 3] = ["整改期间设置警戒区域，安排专人看护。", "整改期间暂停相关作业，配备应急器材。", "加强巡查频次，发现异常立即停止作业并报告。"];
const RECTIFIED: [&str; 4] = ["已按要求整改完毕，现场复查合格。", "已更换相关设施并建立检查台账。", "已清理完毕，并落实专人每日巡查。", "已完成培训和制度修订，附培训记录。"];

pub fn person(rng: &mut Rng) -> String {
    format!("{}{}{}", rng.text(&SURNAMES), rng.text(&GIVEN), if rng.chance(0.5) { rng.text(&GIVEN) } else { String::new() })
}

pub fn phone(rng: &mut Rng) -> String {
    format!("139{:08}", rng.below(100_000_000))
}

pub fn village_name(i: usize) -> String {
    let w = VILLAGE_WORDS.get(i % VILLAGE_WORDS.len()).copied().unwrap_or("新");
    if i < VILLAGE_WORDS.len() { format!("{w}村") } else { format!("{w}{}村", i / VILLAGE_WORDS.len() + 1) }
}

/// A firm name, unique for distinct `i` within a town.
pub fn firm_name(town: &str, sector: &Sector, i: usize) -> String {
    let short = town.trim_end_matches("镇").trim_end_matches("街道").trim_end_matches("新区").trim_end_matches("工业区");
    let p = FIRM_PREFIX.get(i % FIRM_PREFIX.len()).copied().unwrap_or("新");
    let w = sector.words.get((i / FIRM_PREFIX.len()) % sector.words.len().max(1)).copied().unwrap_or("实业");
    let round = i / (FIRM_PREFIX.len() * sector.words.len().max(1));
    if round == 0 { format!("上海{short}{p}{w}有限公司") } else { format!("上海{short}{p}{w}{}号有限公司", round + 1) }
}

/// What the generator needs to know about a firm.
#[derive(Clone, Debug)]
pub struct Firm {
    pub unit: UnitRef,
    pub town: usize,
    pub grid: UnitRef,
    pub sector: usize,
}

#[derive(Clone, Debug)]
pub struct TownRefs {
    pub gov: UnitRef,
    pub office: UnitRef,
}

/// A hazard as the bulk loader writes it: the record, its timeline, its listings.
pub struct GenHazard {
    pub hazard: Hazard,
    pub events: Vec<HazardEvent>,
    /// Every listing it ever had (the current one last).
    pub listings: Vec<Listing>,
}

/// The months hazards are found in, with weights: the 动员部署 phase is
/// quiet, 排查整治 and 集中攻坚 busy, 巩固提升 moderate.
pub fn months() -> Vec<(Date, f64)> {
    let mut out = Vec::new();
    for y in 2020..=2022 {
        for m in 1..=12u8 {
            let Ok(month) = Month::try_from(m) else { continue };
            let Ok(d) = Date::from_calendar_date(y, month, 1) else { continue };
            let w = match (y, m) {
                (2020, 1..=4) => continue,
                (2020, 5..=7) => 1.0,
                (2020, _) => 4.0,
                (2021, _) => 5.0,
                _ => 2.5,
            };
            out.push((d, w));
        }
    }
    out
}

/// The target state mix, as (state, share). ~89 % closed, ~3 % dismissed,
/// the rest open.
pub const STATE_MIX: [(HazardState, f64); 6] = [
    (HazardState::Closed, 0.89),
    (HazardState::Dismissed, 0.03),
    (HazardState::Reported, 0.008),
    (HazardState::Assigned, 0.016),
    (HazardState::Rectifying, 0.036),
    (HazardState::Submitted, 0.02),
];

pub struct Generator<'a> {
    pub rng: Rng,
    pub firms: &'a [Firm],
    pub towns: &'a [TownRefs],
    pub district: UnitRef,
    /// Area ids by code.
    pub areas: Vec<(String, AreaId)>,
    pub campaign: CampaignId,
    /// The moment the dataset is "now" (the service's clock).
    pub now: OffsetDateTime,
    months: Vec<(Date, f64)>,
    firm_weights: Vec<f64>,
    listing_seq: u32,
}

fn at_day(d: Date, minutes: i64) -> OffsetDateTime {
    d.midnight().assume_offset(bihuan_domain::clock::SHANGHAI) + Duration::minutes(minutes)
}

impl<'a> Generator<'a> {
    pub fn new(seed: u64, firms: &'a [Firm], towns: &'a [TownRefs], district: UnitRef, areas: Vec<(String, AreaId)>, campaign: CampaignId, now: OffsetDateTime) -> Self {
        // Some firms have many more hazards than others (big sites, repeat offenders).
        let mut rng = Rng::new(seed ^ 0xF1F1);
        let firm_weights = firms.iter().map(|_| 0.3 + rng.unit() * rng.unit() * 4.0).collect();
        Generator { rng: Rng::new(seed), firms, towns, district, areas, campaign, now, months: months(), firm_weights, listing_seq: 0 }
    }

    /// When the `n` hazards are found, sorted, with their target states:
    /// open hazards are mostly recent, closed ones follow the phases.
    pub fn plan(&mut self, n: usize) -> Vec<(OffsetDateTime, HazardState)> {
        let shares: Vec<f64> = STATE_MIX.iter().map(|(_, p)| *p).collect();
        let closed_w: Vec<f64> = self.months.iter().map(|(_, w)| *w).collect();
        let last = self.months.len();
        // Open hazards: most from the last months, a long tail of old, overdue ones.
        let open_w: Vec<f64> = (0..last).map(|i| if i + 6 >= last { 3.0 * (i + 7 - last) as f64 } else { 0.4 }).collect();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let state = STATE_MIX.get(self.rng.weighted(&shares)).map(|(s, _)| *s).unwrap_or(HazardState::Closed);
            let mi = if state.is_open() { self.rng.weighted(&open_w) } else { self.rng.weighted(&closed_w) };
            let month = self.months.get(mi).map(|(d, _)| *d).unwrap_or(self.now.date());
            let days = time::util::days_in_month(month.month(), month.year()) as i64;
            let day = month + Duration::days(self.rng.below(days as usize) as i64);
            let at = at_day(day, 8 * 60 + 30 + self.rng.below(9 * 60) as i64);
            out.push((at.min(self.now - Duration::days(8)), state));
        }
        out.sort_by_key(|(t, _)| *t);
        out
    }

    fn area_for(&mut self, sector: &Sector) -> (Option<AreaId>, &'static [Problem]) {
        let generic: &'static [Problem] = PROBLEMS.iter().find(|(c, _)| *c == "a02").map(|(_, p)| *p).unwrap_or(&[]);
        if self.rng.chance(0.03) {
            return (None, generic);
        }
        let code = if self.rng.chance(0.15) {
            // Anything may turn up anywhere, a little.
            PROBLEMS.get(self.rng.below(PROBLEMS.len())).map(|(c, _)| *c).unwrap_or("a02")
        } else {
            let w: Vec<f64> = sector.areas.iter().map(|(_, w)| *w).collect();
            sector.areas.get(self.rng.weighted(&w)).map(|(c, _)| *c).unwrap_or("a02")
        };
        let problems = PROBLEMS.iter().find(|(c, _)| *c == code).map(|(_, p)| *p).unwrap_or(generic);
        (self.areas.iter().find(|(c, _)| c == code).map(|(_, id)| *id), problems)
    }

    /// A new hazard's descriptive fields as a person would type them (for
    /// the API and for the import file).
    pub fn draft(&mut self, firm: &Firm) -> (HazardDraft, Option<AreaId>) {
        let Some(sector) = SECTORS.get(firm.sector).or(SECTORS.first()) else { return (HazardDraft::default(), None) };
        let (area, problems) = self.area_for(sector);
        let (name, ty) = self.rng.pick(problems).copied().unwrap_or(("安全检查记录不完整", HazardType::Other));
        let location = format!("{}{}", self.rng.text(&BUILDINGS), self.rng.text(&SPOTS));
        let description = format!(
            "{}{}{}，{}{}",
            location,
            self.rng.text(&FOUND),
            name,
            self.rng.text(&DETAILS),
            self.rng.text(&ENDINGS)
        );
        let major = self.rng.chance(0.03);
        let immediate = !major && self.rng.chance(0.35);
        let draft = HazardDraft {
            unit_id: Some(firm.unit.id.to_string()),
            area_id: area.map(|a| a.to_string()),
            name: name.to_string(),
            description,
            location: Some(location),
            hazard_type: Some(ty.as_str().into()),
            level: Some(if major { "major" } else { "general" }.into()),
            manage_type: Some(if immediate { "immediate" } else { "deadline" }.into()),
            check_kind: Some(self.pick_check_kind().as_str().into()),
            ..Default::default()
        };
        (draft, area)
    }

    fn pick_check_kind(&mut self) -> CheckKind {
        let w = [50.0, 12.0, 12.0, 8.0, 8.0, 2.0, 3.0, 2.0, 1.0, 2.0];
        CheckKind::ALL.get(self.rng.weighted(&w)).copied().unwrap_or(CheckKind::Routine)
    }

    pub fn pick_firm(&mut self) -> usize {
        // Sampling by weight over 20,000 firms would be slow; rejection on the weight is cheap.
        loop {
            let i = self.rng.below(self.firms.len());
            let w = self.firm_weights.get(i).copied().unwrap_or(1.0);
            if self.rng.unit() * 4.3 < w {
                return i;
            }
        }
    }

    /// One hazard with number `num`, found at `found_at`, ending in `state`.
    pub fn hazard(&mut self, num: i64, found_at: OffsetDateTime, state: HazardState, prev: Option<HazardId>) -> Option<GenHazard> {
        let fi = self.pick_firm();
        let firm = self.firms.get(fi).cloned()?;
        let town = self.towns.get(firm.town).cloned()?;
        let (draft, area) = self.draft(&firm);
        let sw = [30.0, 45.0, 8.0, 5.0, 7.0, 5.0];
        let source = HazardSource::ALL.get(self.rng.weighted(&sw)).copied().unwrap_or(HazardSource::Inspection);
        let level = if draft.level.as_deref() == Some("major") { HazardLevel::Major } else { HazardLevel::General };
        let mut manage_type = if draft.manage_type.as_deref() == Some("immediate") { ManageType::Immediate } else { ManageType::Deadline };
        // Fixed on the spot means never assigned: such hazards are closed, dismissed or awaiting acceptance.
        if manage_type == ManageType::Immediate && matches!(state, HazardState::Reported | HazardState::Assigned | HazardState::Rectifying) {
            manage_type = ManageType::Deadline;
        }
        let found_by_unit = match source {
            HazardSource::SelfInspection => firm.unit.clone(),
            HazardSource::Inspection | HazardSource::Unannounced => {
                if self.rng.chance(0.6) { town.office.clone() } else { firm.grid.clone() }
            }
            HazardSource::Assigned => self.district.clone(),
            _ => town.office.clone(),
        };
        let hazard_type = draft.hazard_type.as_deref().and_then(HazardType::parse).unwrap_or(HazardType::Other);
        let check_kind = draft.check_kind.as_deref().and_then(CheckKind::parse).unwrap_or(CheckKind::Routine);
        let finder = person(&mut self.rng);
        let mut h = Hazard {
            id: HazardId::new(),
            num,
            code: format!("YH{}-{:06}", found_at.to_offset(bihuan_domain::clock::SHANGHAI).year(), num),
            campaign_id: area.map(|_| self.campaign),
            area_id: area,
            unit: firm.unit.clone(),
            name: draft.name.clone(),
            description: draft.description.clone(),
            location: draft.location.clone(),
            position: None,
            hazard_type,
            source,
            check_kind,
            level,
            sub_grade: None,
            manage_type,
            cause: self.rng.chance(0.4).then(|| format!("{}不到位", self.rng.text(&["日常管理", "安全培训", "巡查检查", "设备维护"]))),
            cause_class: CauseClass::ALL.get(self.rng.below(4)).copied(),
            measures: None,
            funds: None,
            contingency: None,
            responsible_unit: None,
            responsible_person: None,
            responsible_phone: None,
            deadline: None,
            deadline_rule: None,
            found_at,
            found_by: finder.clone(),
            found_by_user: None,
            found_by_unit: found_by_unit.clone(),
            assigned_by_unit: None,
            accepting_unit: None,
            state: HazardState::Reported,
            major_report: None,
            plan: None,
            rectification: None,
            submitted_at: None,
            accepted_by: None,
            closed_at: None,
            acceptance_comment: None,
            dismiss_reason: None,
            duplicate_of: None,
            listing: None,
            pending_extension: None,
            created_at: found_at,
            updated_at: found_at,
            version: 1,
        };
        let cap = self.now - Duration::hours(1);
        let mut t = found_at;
        let mut events: Vec<HazardEvent> = Vec::with_capacity(7);
        let mut listings: Vec<Listing> = Vec::new();
        let mut push = |h: &mut Hazard, at: OffsetDateTime, action: &str, from: Option<HazardState>, to: HazardState, actor: &UnitRef, name: String, comment: Option<String>, data: serde_json::Value| {
            events.push(HazardEvent {
                id: HazardEventId::new(),
                hazard_id: h.id,
                seq: events.len() as i32 + 1,
                at,
                actor_user_id: None,
                actor_name: name,
                actor_unit_id: Some(actor.id),
                action: action.into(),
                from_state: from,
                to_state: to,
                comment,
                data,
            });
            h.state = to;
            h.updated_at = at;
            h.version = events.len() as i64;
        };
        push(&mut h, t, "create", None, HazardState::Reported, &found_by_unit, finder.clone(),  None,
            serde_json::json!({ "level": level, "source": source, "manage_type": manage_type }));
        let step = |rng: &mut Rng, t: OffsetDateTime, lo_min: i64, hi_min: i64| -> OffsetDateTime { (t + Duration::minutes(rng.range(lo_min, hi_min))).min(cap).max(t + Duration::seconds(1)) };
        let office_person = person(&mut self.rng);
        if state == HazardState::Dismissed {
            t = step(&mut self.rng, t, 60, 3 * 1440);
            let dup = prev.filter(|_| self.rng.chance(0.3));
            let reason = if dup.is_some() { DismissReason::Duplicate } else { DismissReason::NotAHazard };
            h.dismiss_reason = Some(reason);
            h.duplicate_of = dup;
            let comment = if dup.is_some() { "与已登记隐患重复" } else { "经核实不构成事故隐患" };
            let data = serde_json::json!({ "reason": reason, "duplicate_of": h.duplicate_of });
            push(&mut h, t, "dismiss", Some(HazardState::Reported), HazardState::Dismissed, &town.office, office_person, Some(comment.into()), data);
            return Some(GenHazard { hazard: h, events, listings });
        }
        if manage_type == ManageType::Immediate {
            t = step(&mut self.rng, t, 5, 120);
            h.rectification = Some(self.rng.text(&RECTIFIED));
            h.submitted_at = Some(t);
            push(&mut h, t, "fix_on_spot", Some(HazardState::Reported), HazardState::Submitted, &firm.unit, person(&mut self.rng), None, serde_json::Value::Null);
            if state == HazardState::Closed {
                t = step(&mut self.rng, t, 30, 2 * 1440);
                h.accepted_by = Some(office_person.clone());
                h.closed_at = Some(t);
                push(&mut h, t, "accept", Some(HazardState::Submitted), HazardState::Closed, &town.office, office_person, None, serde_json::Value::Null);
            }
            return Some(GenHazard { hazard: h, events, listings });
        }
        if state == HazardState::Reported {
            if self.rng.chance(0.3) {
                t = step(&mut self.rng, t, 10, 600);
                push(&mut h, t, "edit", Some(HazardState::Reported), HazardState::Reported, &found_by_unit, finder, None, serde_json::json!({ "changed": ["description"] }));
            }
            return Some(GenHazard { hazard: h, events, listings });
        }
        // Assigned by the town's office within a few days.
        t = step(&mut self.rng, t, 30, 3 * 1440);
        let days = if level == HazardLevel::Major { self.rng.range(30, 120) } else { self.rng.range(7, 30) };
        let deadline = crate::dataset::local_date(t) + Duration::days(days);
        let responsible_person = person(&mut self.rng);
        h.responsible_unit = Some(firm.unit.clone());
        h.responsible_person = Some(responsible_person.clone());
        h.responsible_phone = Some(phone(&mut self.rng));
        h.deadline = Some(deadline);
        h.deadline_rule = Some(DeadlineRule::CalendarDays(days as u32));
        h.assigned_by_unit = Some(town.office.clone());
        push(&mut h, t, "assign", Some(HazardState::Reported), HazardState::Assigned, &town.office, office_person.clone(), None,
            serde_json::json!({ "responsible_unit": firm.unit.name, "responsible_person": responsible_person, "deadline": deadline.to_string(),
                "rule": DeadlineRule::CalendarDays(days as u32), "previous_deadline": null }));
        // Listed supervision for a third of the major hazards and a few others.
        let listed = if level == HazardLevel::Major { self.rng.chance(0.35) } else { self.rng.chance(0.002) };
        if listed {
            self.listing_seq += 1;
            let district_level = level == HazardLevel::Major && self.rng.chance(0.3);
            let sup = if district_level { self.district.clone() } else { town.gov.clone() };
            let l = Listing {
                level: if district_level { ListingLevel::District } else { ListingLevel::Town },
                supervising_unit_id: sup.id,
                supervising_unit_name: sup.name.clone(),
                supervising_unit_path: sup.path.clone(),
                document_number: format!("{}安办督〔{}〕{}号", sup.name.chars().take(2).collect::<String>(), local_date(t).year(), self.listing_seq),
                listed_on: local_date(t),
                required_by: deadline,
                signatory: person(&mut self.rng),
                requirements: Some("请按期完成整改并书面报告整改情况。".into()),
                lifted_on: None,
            };
            push(&mut h, t, "list", Some(HazardState::Assigned), HazardState::Assigned, &sup, office_person.clone(), None,
                serde_json::json!({ "level": l.level, "document_number": l.document_number, "supervising_unit": l.supervising_unit_name, "required_by": l.required_by.to_string() }));
            h.listing = Some(l);
        }
        if state == HazardState::Assigned {
            return Some(finish(h, events, listings));
        }
        t = step(&mut self.rng, t, 60, 2 * 1440);
        push(&mut h, t, "start", Some(HazardState::Assigned), HazardState::Rectifying, &firm.unit, responsible_person.clone(), None, serde_json::Value::Null);
        // The 五到位 (and for major hazards the report and the plan).
        t = step(&mut self.rng, t, 60, 3 * 1440);
        h.measures = Some(self.rng.text(&MEASURES));
        h.funds = Some(Decimal::new(self.rng.range(0, 500), 1));
        h.contingency = Some(self.rng.text(&CONTINGENCY));
        let mut changed = vec!["measures", "funds", "contingency"];
        if level == HazardLevel::Major {
            h.major_report = Some(MajorReport {
                status_and_cause: format!("{}，原因为日常管理不到位。", h.name),
                harm_and_difficulty: "危害程度较大，整改难度中等。".into(),
                plan_summary: "制定专项治理方案，分阶段落实整改。".into(),
            });
            h.plan = Some(GovernancePlan {
                goals: "彻底消除隐患。".into(),
                methods: self.rng.text(&MEASURES),
                funds_and_materials: "企业自筹资金落实到位。".into(),
                organisation: format!("由企业主要负责人{}牵头。", responsible_person),
                schedule: format!("{deadline}前完成。"),
                safety_and_contingency: self.rng.text(&CONTINGENCY),
            });
            changed.extend(["major_report", "plan"]);
        }
        push(&mut h, t, "plan", Some(HazardState::Rectifying), HazardState::Rectifying, &firm.unit, responsible_person.clone(), None,
            serde_json::json!({ "changed": changed, "still_missing": [] }));
        if state == HazardState::Rectifying {
            return Some(finish(h, events, listings));
        }
        // Most finish in time; some late, some sent back once.
        let budget = (deadline - local_date(t)).whole_minutes().max(60);
        let late = self.rng.chance(0.12);
        let spend = if late { budget + self.rng.range(1440, 20 * 1440) } else { self.rng.range(60, budget) };
        t = step(&mut self.rng, t, spend, spend);
        h.rectification = Some(self.rng.text(&RECTIFIED));
        h.submitted_at = Some(t);
        push(&mut h, t, "submit", Some(HazardState::Rectifying), HazardState::Submitted, &firm.unit, responsible_person.clone(), None, serde_json::Value::Null);
        if state == HazardState::Closed && self.rng.chance(0.05) {
            t = step(&mut self.rng, t, 60, 2 * 1440);
            push(&mut h, t, "reject", Some(HazardState::Submitted), HazardState::Rectifying, &town.office, office_person.clone(),
                Some("整改不彻底，请补充整改照片".into()), serde_json::Value::Null);
            h.submitted_at = None;
            t = step(&mut self.rng, t, 60, 3 * 1440);
            h.submitted_at = Some(t);
            push(&mut h, t, "submit", Some(HazardState::Rectifying), HazardState::Submitted, &firm.unit, responsible_person, None, serde_json::Value::Null);
        }
        if state == HazardState::Submitted {
            return Some(finish(h, events, listings));
        }
        t = step(&mut self.rng, t, 60, 5 * 1440);
        h.accepted_by = Some(office_person.clone());
        h.closed_at = Some(t);
        h.acceptance_comment = self.rng.chance(0.5).then(|| "经复查，整改到位，同意销号。".to_string());
        let mut data = serde_json::Value::Null;
        if let Some(l) = h.listing.as_mut() {
            l.lifted_on = Some(local_date(t));
            data = serde_json::json!({ "listing_lifted": l.document_number });
        }
        let comment = h.acceptance_comment.clone();
        push(&mut h, t, "accept", Some(HazardState::Submitted), HazardState::Closed, &town.office, office_person, comment, data);
        listings.extend(h.listing.clone());
        Some(GenHazard { hazard: h, events, listings })
    }
}

fn finish(h: Hazard, events: Vec<HazardEvent>, mut listings: Vec<Listing>) -> GenHazard {
    listings.extend(h.listing.clone());
    GenHazard { hazard: h, events, listings }
}

pub fn local_date(t: OffsetDateTime) -> Date {
    bihuan_domain::clock::local_date(t)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;
    use bihuan_domain::unit::UnitPath;

    fn unit(name: &str, path: &str) -> UnitRef {
        UnitRef { id: UnitId::new(), name: name.into(), short_name: None, path: UnitPath::from_stored(path.into()) }
    }

    #[test]
    fn hazards_keep_the_invariants_and_the_mix() {
        let district = unit("区政府", "/d/");
        let towns: Vec<TownRefs> = (0..12).map(|i| TownRefs { gov: unit(&format!("镇{i}"), &format!("/d/t{i}/")), office: unit("安委办", &format!("/d/t{i}/o/")) }).collect();
        let firms: Vec<Firm> = (0..200)
            .map(|i| Firm { unit: unit(&format!("企业{i}"), &format!("/d/t{}/v/g/f{i}/", i % 12)), town: i % 12, grid: unit("网格", "/d/t/v/g/"), sector: i % SECTORS.len() })
            .collect();
        let areas: Vec<(String, AreaId)> = (1..=11).map(|i| (format!("a{i:02}"), AreaId::new())).collect();
        let now = time::macros::datetime!(2023-01-10 10:00 +08:00);
        let mut g = Generator::new(7, &firms, &towns, district, areas, CampaignId::new(), now);
        let n = 20_000;
        let plan = g.plan(n);
        let mut prev = None;
        let (mut closed, mut major, mut open, mut events, mut overdue) = (0, 0, 0, 0, 0);
        let today = local_date(now);
        for (i, (at, state)) in plan.into_iter().enumerate() {
            let gh = g.hazard(i as i64 + 1, at, state, prev).unwrap();
            let h = &gh.hazard;
            assert_eq!(check_invariants(h), Ok(()));
            assert_eq!(h.state, state);
            assert_eq!(h.version as usize, gh.events.len());
            assert!(h.updated_at < now && h.found_at < now);
            assert!(gh.events.windows(2).all(|w| w[0].at <= w[1].at));
            closed += (h.state == HazardState::Closed) as usize;
            major += (h.level == HazardLevel::Major) as usize;
            open += h.state.is_open() as usize;
            overdue += h.is_overdue(today) as usize;
            events += gh.events.len();
            prev = Some(h.id);
        }
        let share = |x: usize| x as f64 / n as f64;
        assert!((0.87..0.91).contains(&share(closed)), "closed {}", share(closed));
        assert!((0.02..0.04).contains(&share(major)), "major {}", share(major));
        assert!((0.06..0.10).contains(&share(open)), "open {}", share(open));
        assert!(overdue > 0 && overdue < open, "overdue {overdue} of {open}");
        assert!((3.0..7.0).contains(&(events as f64 / n as f64)), "events per hazard {}", events as f64 / n as f64);
    }
}
