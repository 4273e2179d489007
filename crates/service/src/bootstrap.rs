//! First start: the administrator, the bundled plan, and the demo town.

use crate::accounts::NewUser;
use crate::{password, Ctx, Result, Service};
use bihuan_domain::audit::AuditEntry;
use bihuan_domain::campaign::{parse_plan, BUNDLED_PLAN};
use bihuan_domain::credit_code;
use bihuan_domain::ids::UnitId;
use bihuan_domain::permission::Permission;
use bihuan_domain::role::Role;
use bihuan_domain::unit::{UnitDraft, UnitKind};
use bihuan_domain::DomainError;
use bihuan_store::audit::{AuditFilter, VerifyReport};
use bihuan_store::{audit, campaigns, units, users};

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
        Ok(accounts)
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
