//! First start: the administrator, the bundled plan, and the demo town.

use crate::accounts::NewUser;
use crate::{password, Ctx, Result, Service};
use bihuan_domain::audit::AuditEntry;
use bihuan_domain::campaign::{parse_plan, BUNDLED_PLAN};
use bihuan_domain::clock::FixedClock;
use bihuan_domain::credit_code;
use bihuan_domain::ids::UnitId;
use bihuan_domain::permission::Permission;
use bihuan_domain::role::Role;
use bihuan_domain::unit::{UnitDraft, UnitKind};
use bihuan_domain::DomainError;
use bihuan_store::audit::{AuditFilter, VerifyReport};
use bihuan_store::{audit, campaigns, units, users};
use std::sync::Arc;

/// What the first start created, for the operator to read once.
#[derive(Clone, Debug, Default)]
pub struct FirstStart {
    /// The administrator's password when it was generated (not taken from the environment).
    pub generated_admin_password: Option<String>,
    pub admin_created: bool,
    pub campaign_loaded: Option<String>,
}

/// One demo account and its password.
#[derive(Clone, Debug)]
pub struct DemoAccount {
    pub username: String,
    pub role: Role,
    pub unit: String,
    pub password: String,
}

impl Service {
    /// Loads the bundled plan into an empty database and creates the
    /// administrator `admin` at its government unit if no user exists.
    pub async fn first_start(&self, admin_password: Option<&str>) -> Result<FirstStart> {
        let ctx = Ctx::system("bihuan");
        let mut out = FirstStart::default();
        let (campaign_count, user_count) = {
            let mut tx = self.db.read().await?;
            (campaigns::count(&mut tx).await?, users::count(&mut tx).await?)
        };
        if campaign_count == 0 && user_count == 0 {
            let plan = parse_plan(BUNDLED_PLAN).map_err(|e| {
                crate::internal(format!("the bundled plan does not parse: {}", e.first().map(|x| x.to_string()).unwrap_or_default()))
            })?;
            let report = self.import_plan(&ctx, &plan, None).await?;
            out.campaign_loaded = Some(report.code);
        }
        self.seed_calendar().await?;
        self.seed_warning_rules().await?;
        if user_count == 0 {
            let unit = self.home_unit().await?;
            let (pw, generated) = match admin_password {
                Some(p) => (p.to_string(), false),
                None => (password::generate(), true),
            };
            self.create_user(
                &ctx,
                &NewUser {
                    username: "admin".into(),
                    display_name: "管理员".into(),
                    unit_id: unit.to_string(),
                    role: "admin".into(),
                    password: pw.clone(),
                    must_change_password: generated,
                    ..Default::default()
                },
            )
            .await?;
            out.admin_created = true;
            out.generated_admin_password = generated.then_some(pw);
        }
        Ok(out)
    }

    /// Stores the shipped holiday notices of the years the database does
    /// not have yet (an administrator's edits are kept).
    pub async fn seed_calendar(&self) -> Result<usize> {
        let shipped = bihuan_domain::calendar::parse_notices(bihuan_domain::calendar::BUNDLED_CALENDAR)?;
        let mut tx = self.db.begin().await?;
        let have: Vec<i32> = bihuan_store::calendar::notices(&mut tx).await?.into_iter().map(|n| n.year).collect();
        let mut added = 0;
        for n in shipped.iter().filter(|n| !have.contains(&n.year)) {
            bihuan_store::calendar::put_notice(&mut tx, n, self.now(), "bihuan").await?;
            added += 1;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// The unit new top-level things hang from: the first root unit, created
    /// as a placeholder government when the tree is empty.
    pub async fn home_unit(&self) -> Result<UnitId> {
        let mut tx = self.db.read().await?;
        let roots = units::list(
            &mut tx,
            &bihuan_domain::permission::Scope::All,
            &units::UnitFilter { kind: Some(UnitKind::Government), limit: 1, ..Default::default() },
        )
        .await?;
        tx.commit().await?;
        match roots.first() {
            Some(u) => Ok(u.id),
            None => {
                let draft = UnitDraft { name: "本级政府".into(), kind: Some("government".into()), ..Default::default() };
                Ok(self.create_unit(&Ctx::system("bihuan"), None, &draft).await?.id)
            }
        }
    }

    /// Adds the demo town under the campaign owner: localities, grids, about
    /// thirty fictional enterprises across sectors, and one user per role.
    /// Running it twice adds nothing the second time.
    pub async fn load_demo(&self) -> Result<Vec<DemoAccount>> {
        let ctx = Ctx::system("demo");
        if self.user_by_name("demo-office").await?.is_some() {
            return Ok(Vec::new());
        }
        let gov = self.home_unit().await?;
        let mut tx = self.db.read().await?;
        let all = units::list(&mut tx, &bihuan_domain::permission::Scope::All, &units::UnitFilter { limit: 1000, ..Default::default() }).await?;
        tx.commit().await?;
        let find = |name: &str| all.iter().find(|u| u.name == name).map(|u| u.id);
        let office = all.iter().find(|u| u.kind == UnitKind::Office).map(|u| u.id).unwrap_or(gov);
        let department = find("镇安监所").or_else(|| all.iter().find(|u| u.kind == UnitKind::Department).map(|u| u.id)).unwrap_or(gov);

        let unit = |name: &str, kind: &str, locality_kind: Option<&str>| UnitDraft {
            name: name.into(),
            kind: Some(kind.into()),
            locality_kind: locality_kind.map(str::to_string),
            ..Default::default()
        };
        let mut localities = Vec::new();
        for (name, lk) in [
            ("示范一村（演示）", "village"),
            ("示范二村（演示）", "village"),
            ("翠湖社区居委会（演示）", "community"),
            ("绿洲工业开发区（演示）", "development_zone"),
        ] {
            let l = self.create_unit(&ctx, Some(gov), &unit(name, "locality", Some(lk))).await?;
            let g = self.create_unit(&ctx, Some(l.id), &unit(&format!("{}第一网格", name.trim_end_matches("（演示）")), "grid", None)).await?;
            localities.push((l, g));
        }
        let experts = self.create_unit(&ctx, Some(gov), &unit("安全生产专家服务团（演示）", "committee", None)).await?;
        let leaders = self.create_unit(&ctx, Some(gov), &unit("镇领导班子（演示）", "committee", None)).await?;

        // Thirty fictional enterprises across the plan's sectors.
        const FIRMS: [(&str, &str, &str, &[&str]); 30] = [
            ("虚构精细化工有限公司", "化工", "above_threshold", &["hazardous_chemicals", "two_keys_one_major", "major_hazard_source"]),
            ("示例涂料科技有限公司", "化工", "above_threshold", &["hazardous_chemicals"]),
            ("演示气体储运有限公司", "危险化学品经营", "below_threshold", &["hazardous_chemicals", "major_hazard_source"]),
            ("假想加油站", "成品油零售", "below_threshold", &["hazardous_chemicals"]),
            ("样板五金制品厂", "金属制品", "below_threshold", &["combustible_dust"]),
            ("示范铝业加工有限公司", "冶金", "above_threshold", &["metallurgy", "combustible_dust"]),
            ("演示木业家具有限公司", "家具制造", "below_threshold", &["combustible_dust"]),
            ("虚拟物流仓储有限公司", "仓储物流", "above_threshold", &["crowded_place"]),
            ("示例冷链配送有限公司", "仓储物流", "below_threshold", &["confined_space"]),
            ("样例建筑工程有限公司", "建筑施工", "above_threshold", &[]),
            ("演示市政工程有限公司", "建筑施工", "below_threshold", &["confined_space"]),
            ("虚构客运有限公司", "道路运输", "above_threshold", &["crowded_place"]),
            ("示范危货运输有限公司", "道路运输", "below_threshold", &["hazardous_chemicals"]),
            ("演示港务装卸有限公司", "港口", "below_threshold", &["hazardous_chemicals"]),
            ("假想水产合作社", "渔业", "below_threshold", &[]),
            ("示例商业广场管理有限公司", "商业综合体", "above_threshold", &["crowded_place"]),
            ("样板农贸市场经营管理有限公司", "专业市场", "below_threshold", &["crowded_place"]),
            ("演示建材市场有限公司", "专业市场", "below_threshold", &["crowded_place"]),
            ("虚构大酒店有限公司", "住宿餐饮", "below_threshold", &["crowded_place", "gas"]),
            ("示范养老院（演示）", "养老机构", "below_threshold", &["crowded_place"]),
            ("演示幼儿园（演示）", "学校及幼儿园", "below_threshold", &["crowded_place"]),
            ("虚拟电子科技有限公司", "电子制造", "above_threshold", &[]),
            ("示例印刷包装有限公司", "印刷", "below_threshold", &["hazardous_chemicals"]),
            ("样例环保处置有限公司", "危险废物处置", "above_threshold", &["hazardous_waste"]),
            ("演示电镀加工厂", "表面处理", "below_threshold", &["hazardous_chemicals", "hazardous_waste"]),
            ("虚构爆破工程有限公司", "爆破作业", "below_threshold", &["civil_explosives"]),
            ("示范燃气供应站", "燃气", "below_threshold", &["gas", "major_hazard_source"]),
            ("演示食品加工有限公司", "食品制造", "above_threshold", &["confined_space"]),
            ("假想纺织服装有限公司", "纺织", "below_threshold", &[]),
            ("示例汽车维修有限公司", "机动车维修", "below_threshold", &[]),
        ];
        let mut first_firm = None;
        for (i, (name, industry, scale, flags)) in FIRMS.iter().enumerate() {
            let Some((_, grid)) = localities.get(i % localities.len()) else { continue };
            let code = credit_code::complete("91310114", &format!("MA1D{:04}", 1000 + i))
                .map(|c| c.to_string());
            let draft = UnitDraft {
                name: format!("{name}（演示）").replace("（演示）（演示）", "（演示）"),
                kind: Some("enterprise".into()),
                credit_code: code,
                address: Some(format!("演示路{}号", 100 + i)),
                industry: Some((*industry).into()),
                scale: Some((*scale).into()),
                flags: flags.iter().map(|f| f.to_string()).collect(),
                legal_representative: Some(format!("演示法人{}", i + 1)),
                principal: Some(format!("演示负责人{}", i + 1)),
                principal_phone: Some(format!("1390000{:04}", i + 1)),
                longitude: Some(121.32 + (i as f64) * 0.002),
                latitude: Some(31.29 + (i as f64) * 0.001),
                ..Default::default()
            };
            let firm = self.create_unit(&ctx, Some(grid.id), &draft).await?;
            first_firm.get_or_insert(firm.id);
        }
        let (village, grid) = localities.first().map(|(l, g)| (l.id, g.id)).unwrap_or((gov, gov));
        let firm = first_firm.unwrap_or(gov);
        let mut accounts = Vec::new();
        for (username, name, role, unit_id) in [
            ("demo-office", "演示安委办", Role::Office, office),
            ("demo-department", "演示安监所", Role::Department, department),
            ("demo-locality", "演示村干部", Role::Locality, village),
            ("demo-inspector", "演示网格员", Role::Inspector, grid),
            ("demo-enterprise", "演示企业安全员", Role::Enterprise, firm),
            ("demo-expert", "演示专家", Role::Expert, experts.id),
            ("demo-leader", "演示镇领导", Role::Leader, leaders.id),
        ] {
            let pw = password::generate();
            self.create_user(
                &ctx,
                &NewUser {
                    username: username.into(),
                    display_name: name.into(),
                    unit_id: unit_id.to_string(),
                    role: role.as_str().into(),
                    password: pw.clone(),
                    ..Default::default()
                },
            )
            .await?;
            let unit_name = self.get_unit(&ctx, unit_id).await.map(|u| u.name).unwrap_or_else(|_| name.to_string());
            accounts.push(DemoAccount { username: username.into(), role, unit: unit_name, password: pw });
        }
        self.load_demo_hazards().await?;
        Ok(accounts)
    }

    /// A dozen hazards of the demo town in every state of the loop, some
    /// found weeks ago so that deadlines have passed.
    async fn load_demo_hazards(&self) -> Result<()> {
        use crate::hazards::{ActionInput, PlanInput};
        use bihuan_domain::hazard::{GovernancePlan, HazardDraft, MajorReport};
        let as_user = |name: &'static str| async move {
            let user = self.user_by_name(name).await?.ok_or_else(|| DomainError::not_found("用户", "User"))?;
            let mut tx = self.db.read().await?;
            let actor = self.actor_for(&mut tx, &user).await?;
            tx.commit().await?;
            Ok::<Ctx, DomainError>(Ctx::user(actor, None))
        };
        let (office, dept, inspector, firm_user) =
            (as_user("demo-office").await?, as_user("demo-department").await?, as_user("demo-inspector").await?, as_user("demo-enterprise").await?);
        // Work done 40 days ago, so that some deadlines are now past.
        let earlier = Service { clock: Arc::new(FixedClock(self.clock.now() - time::Duration::days(40))), ..self.clone() };
        let firm = firm_user.actor().map(|a| a.unit_id.to_string());
        let mut tx = self.db.read().await?;
        let enterprises = units::list(
            &mut tx,
            &bihuan_domain::permission::Scope::All,
            &units::UnitFilter { kind: Some(UnitKind::Enterprise), q: Some("演示".into()), limit: 100, ..Default::default() },
        )
        .await?;
        let campaign = campaigns::get_by_code(&mut tx, "nanxiang-2020").await?;
        let areas = match &campaign {
            Some(c) => campaigns::areas(&mut tx, c.id).await?,
            None => vec![],
        };
        tx.commit().await?;
        let unit_named = |part: &str| enterprises.iter().find(|u| u.name.contains(part)).map(|u| u.id.to_string());
        let area = |code: &str| areas.iter().find(|a| a.code == code).map(|a| a.id.to_string());
        let draft = |unit: Option<String>, area_code: &str, name: &str, description: &str, level: &str, kind: &str| HazardDraft {
            unit_id: unit,
            area_id: area(area_code),
            name: name.into(),
            description: description.into(),
            level: Some(level.into()),
            hazard_type: Some(kind.into()),
            ..Default::default()
        };
        let act = |action: &str| ActionInput { action: action.into(), ..Default::default() };
        let assign = |person: &str, days: u32| ActionInput {
            action: "assign".into(),
            responsible_person: Some(person.into()),
            deadline_days: Some(days),
            ..Default::default()
        };
        let five = PlanInput {
            measures: Some("立即清理并设置警示标识，落实专人每日巡查".into()),
            funds: Some("0.5".into()),
            contingency: Some("整改期间设置隔离区，配备灭火器材".into()),
            ..Default::default()
        };
        let submit = ActionInput { action: "submit".into(), rectification: Some("已按整改措施完成整改，附整改后照片".into()), ..Default::default() };

        // 1. Found by the enterprise itself, fixed on the spot, awaiting its own acceptance.
        self.report_hazard(&firm_user, &draft(firm.clone(), "a02", "灭火器压力不足", "一楼走廊2具灭火器压力表指针在红区", "general", "fire"), Some("已更换2具合格灭火器"))
            .await?;
        // 2. Self-found, assigned, rectified and closed.
        let h = self.report_hazard(&firm_user, &draft(firm.clone(), "a02", "安全出口指示灯损坏", "二楼东侧安全出口指示灯不亮", "general", "fire"), None).await?;
        self.act_on_hazard(&firm_user, h.id, &assign("演示设备员", 5)).await?;
        self.plan_hazard(&firm_user, h.id, &five).await?;
        self.act_on_hazard(&firm_user, h.id, &submit).await?;
        self.act_on_hazard(&firm_user, h.id, &act("accept")).await?;
        // 3. Found by the grid inspector 40 days ago with a 10-working-day deadline: overdue now.
        let h = earlier
            .report_hazard(&inspector, &draft(firm.clone(), "a02", "消防通道堆放杂物", "厂区北侧消防通道堆放托盘和纸箱，宽度不足4米", "general", "fire"), None)
            .await?;
        earlier.act_on_hazard(&inspector, h.id, &assign("演示企业安全员", 10)).await?;
        earlier.act_on_hazard(&firm_user, h.id, &act("start")).await?;
        // 4. Found by the inspector, submitted, waiting for the inspector's acceptance.
        let h = self
            .report_hazard(&inspector, &draft(firm.clone(), "a02", "配电箱未上锁", "仓库配电箱门未关闭上锁，无警示标识", "general", "electrical"), None)
            .await?;
        self.act_on_hazard(&inspector, h.id, &assign("演示电工", 5)).await?;
        self.plan_hazard(&firm_user, h.id, &five).await?;
        self.act_on_hazard(&firm_user, h.id, &submit).await?;
        // 5. A major hazard at the chemical firm, found by the department, listed by the office.
        let chem = unit_named("精细化工");
        let h = earlier
            .report_hazard(
                &dept,
                &draft(chem.clone(), "a03", "液氯储罐区未设置泄漏报警", "液氯储罐区未按规定设置有毒气体泄漏检测报警装置，储罐未设紧急切断", "major", "instrument"),
                None,
            )
            .await?;
        let long = ActionInput {
            action: "assign".into(),
            responsible_person: Some("演示法人1".into()),
            deadline_days: Some(60),
            deadline_basis: Some("calendar".into()),
            ..Default::default()
        };
        earlier.act_on_hazard(&dept, h.id, &long).await?;
        let listing = ActionInput {
            action: "list".into(),
            document_number: Some("南安办督〔2026〕1号".into()),
            required_by: h.found_at.to_offset(bihuan_domain::clock::SHANGHAI).date().checked_add(time::Duration::days(60)).map(|d| d.to_string()),
            signatory: Some("演示镇领导".into()),
            requirements: Some("停用储罐区，制定治理方案，按期完成整改并申请核销".into()),
            ..Default::default()
        };
        earlier.act_on_hazard(&office, h.id, &listing).await?;
        let report = PlanInput {
            major_report: Some(MajorReport {
                status_and_cause: "储罐区建设时未同步设计泄漏报警系统".into(),
                harm_and_difficulty: "泄漏可致周边人员中毒；需停用储罐并委托设计单位".into(),
                plan_summary: "委托有资质单位设计安装报警及紧急切断系统".into(),
            }),
            plan: Some(GovernancePlan {
                goals: "60日内完成报警和紧急切断系统安装并通过验收".into(),
                methods: "设计、采购、安装、调试、专家验收".into(),
                funds_and_materials: "".into(),
                organisation: "企业主要负责人牵头，安全科具体实施".into(),
                schedule: "".into(),
                safety_and_contingency: "储罐停用，现场设警戒区，修订液氯泄漏专项应急预案".into(),
            }),
            ..five.clone()
        };
        earlier.plan_hazard(&dept, h.id, &report).await?;
        // 6. A fire hazard at the shopping mall, with an extension requested.
        let mall = unit_named("商业广场");
        let h = earlier
            .report_hazard(&office, &draft(mall.clone(), "a04", "自动喷水灭火系统故障", "地下车库喷淋系统末端试水压力不足，报警阀组故障", "general", "fire"), None)
            .await?;
        earlier.act_on_hazard(&office, h.id, &assign("演示负责人16", 30)).await?;
        let req = ActionInput {
            action: "request_extension".into(),
            requested_deadline: self.today().checked_add(time::Duration::days(20)).map(|d| d.to_string()),
            reason: Some("报警阀组需厂家定制，到货需三周".into()),
            ..Default::default()
        };
        self.act_on_hazard(&office, h.id, &req).await?;
        // 7. Reported by the department, waiting to be assigned; 8. a duplicate, dismissed.
        let road = unit_named("危货运输");
        self.report_hazard(&dept, &draft(road.clone(), "a05", "危险货物运输车辆未安装卫星定位", "2辆危货车辆卫星定位装置离线超过7天", "general", "equipment"), None)
            .await?;
        let dup = self
            .report_hazard(&inspector, &draft(firm.clone(), "a02", "消防通道堆放杂物（重复）", "北侧消防通道堆放托盘", "general", "fire"), None)
            .await?;
        let dismiss = ActionInput {
            action: "dismiss".into(),
            dismiss_reason: Some("not_a_hazard".into()),
            comment: Some("与已登记隐患为同一问题，现场核实后撤销".into()),
            ..Default::default()
        };
        self.act_on_hazard(&inspector, dup.id, &dismiss).await?;
        Ok(())
    }

    /// The audit log, for administrators.
    pub async fn audit_log(&self, ctx: &Ctx, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        ctx.check(Permission::ReadAudit, "审计日志", "Audit log")?;
        let mut tx = self.db.read().await?;
        Ok(audit::list(&mut tx, filter).await?)
    }

    /// Recomputes the whole audit chain.
    pub async fn verify_audit(&self) -> Result<VerifyReport> {
        let mut tx = self.db.read().await?;
        let r = audit::verify(&mut tx).await?;
        tx.commit().await?;
        Ok(r)
    }

    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await.map_err(DomainError::from)
    }
}
