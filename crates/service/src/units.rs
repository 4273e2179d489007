//! Units: creating, changing and reading the organisation tree.

use crate::{Ctx, Result, Service, NONE};
use bihuan_domain::ids::UnitId;
use bihuan_domain::model::Unit;
use bihuan_domain::permission::{Permission, Scope};
use bihuan_domain::role::Role;
use bihuan_domain::unit::{UnitDraft, UnitFields, UnitKind, UnitPath};
use bihuan_domain::DomainError;
use bihuan_store::units::{self, UnitFilter};
use bihuan_store::Tx;

impl Service {
    /// Creates a unit under `parent` (a root unit when `parent` is none: only
    /// the system and administrators may do that).
    pub async fn create_unit(&self, ctx: &Ctx, parent: Option<UnitId>, draft: &UnitDraft) -> Result<Unit> {
        let fields = draft.validate()?;
        let mut tx = self.db.begin().await?;
        let unit = self.create_unit_in(&mut tx, ctx, parent, fields).await?;
        tx.commit().await?;
        Ok(unit)
    }

    pub(crate) async fn create_unit_in(&self, tx: &mut Tx, ctx: &Ctx, parent: Option<UnitId>, f: UnitFields) -> Result<Unit> {
        let id = UnitId::new();
        let path = match parent {
            Some(pid) => {
                let p = units::get(tx, pid)
                    .await?
                    .ok_or_else(|| DomainError::field("parent_id", "上级单位不存在", "The parent unit does not exist"))?;
                ctx.check(Permission::CreateUnit { parent: &p.path, kind: f.kind }, "上级单位", "Parent unit")?;
                if !p.kind.may_contain(f.kind) {
                    return Err(DomainError::field(
                        "kind",
                        format!("“{}”类单位不能设在“{}”之下", f.kind.label_zh(), p.kind.label_zh()),
                        format!("A {} cannot sit under a {}", f.kind.as_str(), p.kind.as_str()),
                    ));
                }
                p.path.child(id)
            }
            None => {
                let admin = ctx.actor().is_none_or(|a| a.role == bihuan_domain::role::Role::Admin);
                if !admin {
                    return Err(DomainError::field("parent_id", "请选择上级单位", "Choose the parent unit"));
                }
                UnitPath::root(id)
            }
        };
        let unit = Unit::new(id, parent, path, f, self.now());
        units::insert(tx, &unit).await?;
        self.audit(tx, ctx, "unit.create", "unit", Some(unit.id.to_string()), NONE, Some(&unit)).await?;
        Ok(unit)
    }

    /// Changes a unit's own fields (not its place in the tree).
    pub async fn update_unit(&self, ctx: &Ctx, id: UnitId, draft: &UnitDraft, version: Option<i64>, active: Option<bool>) -> Result<Unit> {
        let f = draft.validate()?;
        let mut tx = self.db.begin().await?;
        let before = units::get(&mut tx, id).await?.ok_or_else(|| DomainError::not_found("单位", "Unit"))?;
        ctx.check(Permission::UpdateUnit(&before.path), "单位", "Unit")?;
        if f.kind != before.kind {
            return Err(DomainError::field("kind", "不能更改单位类型", "The kind of a unit cannot be changed"));
        }
        let mut after = before.clone();
        after.apply(f);
        if after.registration_differs(&before) {
            ctx.check(Permission::UpdateUnitRegistry(&before.path), "单位", "Unit").map_err(|e| match e.code {
                bihuan_domain::ErrorCode::Forbidden => DomainError::new(
                    bihuan_domain::ErrorCode::Forbidden,
                    "名称、信用代码、行业、规模、监管标记和职责只能由上级单位修改",
                    "Only a unit above this one may change its name, credit code, industry, scale, flags or duties",
                ),
                _ => e,
            })?;
        }
        after.active = active.unwrap_or(before.active);
        after.updated_at = self.now();
        after.version = before.version + 1;
        units::update(&mut tx, &after, version.unwrap_or(before.version)).await?;
        self.audit(&mut tx, ctx, "unit.update", "unit", Some(id.to_string()), Some(&before), Some(&after)).await?;
        tx.commit().await?;
        self.forget_resolved_tokens();
        Ok(after)
    }

    pub async fn get_unit(&self, ctx: &Ctx, id: UnitId) -> Result<Unit> {
        let mut tx = self.db.read().await?;
        let unit = units::get(&mut tx, id).await?.ok_or_else(|| DomainError::not_found("单位", "Unit"))?;
        ctx.check(Permission::ReadUnit(&unit.path), "单位", "Unit")?;
        Ok(unit)
    }

    /// Units the caller may see, in tree order.
    pub async fn list_units(&self, ctx: &Ctx, filter: &UnitFilter) -> Result<Vec<Unit>> {
        let scope = ctx.actor().map(|a| a.scope()).unwrap_or(Scope::All);
        let mut tx = self.db.read().await?;
        Ok(units::list(&mut tx, &scope, filter).await?)
    }

    /// Units the caller may register a hazard at (`hazard::may_report`),
    /// matching `filter`: offices, departments and experts inspect across
    /// their jurisdiction, so they choose among its units although their
    /// lists show less; everyone else within what they see.
    pub async fn reportable_units(&self, ctx: &Ctx, filter: &UnitFilter) -> Result<Vec<Unit>> {
        let scope = match ctx.actor() {
            None => Scope::All,
            Some(a) => match a.role {
                Role::Leader => return Ok(Vec::new()),
                Role::Office | Role::Department | Role::Expert => Scope::Subtree(a.jurisdiction.clone()),
                _ => a.scope(),
            },
        };
        let mut tx = self.db.read().await?;
        let found = units::list(&mut tx, &scope, filter).await?;
        Ok(match ctx.actor() {
            Some(a) => found.into_iter().filter(|u| bihuan_domain::hazard::may_report(a, &u.path).allowed()).collect(),
            None => found,
        })
    }

    /// The locality and grid an enterprise lies in: the nearest units of
    /// those kinds above it.
    pub async fn unit_context(&self, unit: &Unit) -> Result<(Option<Unit>, Option<Unit>)> {
        let mut tx = self.db.read().await?;
        let chain = units::ancestors(&mut tx, &unit.path).await?;
        let above: Vec<&Unit> = chain.iter().filter(|u| u.id != unit.id).collect();
        let locality = above.iter().rev().find(|u| u.kind == UnitKind::Locality).map(|u| (*u).clone());
        let grid = above.iter().rev().find(|u| u.kind == UnitKind::Grid).map(|u| (*u).clone());
        Ok((locality, grid))
    }
}
