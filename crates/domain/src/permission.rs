//! Who may do what. Every check is a pure function of the actor and the
//! target, so the whole policy is testable as a table (see the route × role ×
//! relation matrix in the web crate's tests).
//!
//! The rule of thumb: a user sees their own unit's subtree (office staff and
//! leaders: their whole jurisdiction; administrators: everything), plus what is
//! assigned to their unit (a lead department acts on the indicators, and later
//! the hazards, of the areas it leads). A target the user cannot see is
//! answered as "not found", so existence does not leak; a target the user sees
//! but may not change is "forbidden".

use crate::ids::{AreaId, UnitId, UserId};
use crate::role::Role;
use crate::unit::{UnitKind, UnitPath};

/// The person asking, as established by authentication.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    pub user_id: UserId,
    pub username: String,
    pub role: Role,
    pub unit_id: UnitId,
    pub unit_path: UnitPath,
    /// The subtree of the nearest government at or above the user's unit.
    pub jurisdiction: UnitPath,
    /// Areas of loaded campaigns whose lead units include the user's unit.
    pub led_areas: Vec<AreaId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Forbidden,
    NotFound,
}

impl Decision {
    pub fn allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// What the actor wants to do, with the facts about the target that matter.
#[derive(Clone, Copy, Debug)]
pub enum Permission<'a> {
    ReadUnit(&'a UnitPath),
    CreateUnit { parent: &'a UnitPath, kind: UnitKind },
    /// Change a unit's contact details: address, people, phones, location.
    UpdateUnit(&'a UnitPath),
    /// Change what a unit is on the register: name, credit code, industry,
    /// scale, supervision flags, duties. Only those above the unit may: a
    /// unit does not rewrite its own registration.
    UpdateUnitRegistry(&'a UnitPath),
    ReadUser { unit: &'a UnitPath },
    /// Create, change, reset the password of or disable a user who has (or
    /// will have) `role` in `unit`.
    ManageUser { unit: &'a UnitPath, role: Role },
    ReadCampaign { owner: &'a UnitPath },
    ManageCampaign { owner: &'a UnitPath },
    ReportIndicator { owner: &'a UnitPath, lead_units: &'a [UnitPath], area: AreaId },
    ReadAudit,
    /// Change the working-day calendar (the holiday notices).
    ManageCalendar,
}

/// Which units an actor's lists are limited to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Subtree(UnitPath),
}

impl Scope {
    pub fn contains(&self, path: &UnitPath) -> bool {
        match self {
            Scope::All => true,
            Scope::Subtree(root) => path.is_within(root),
        }
    }
}

impl Actor {
    pub fn scope(&self) -> Scope {
        match self.role {
            Role::Admin => Scope::All,
            r if r.has_jurisdiction_scope() => Scope::Subtree(self.jurisdiction.clone()),
            _ => Scope::Subtree(self.unit_path.clone()),
        }
    }

    pub fn sees(&self, path: &UnitPath) -> bool {
        self.scope().contains(path)
    }

    fn owns(&self, path: &UnitPath) -> bool {
        path.is_within(&self.unit_path)
    }
}

pub fn authorize(actor: &Actor, permission: Permission<'_>) -> Decision {
    use Decision::*;
    let role = actor.role;
    let visible_then = |path: &UnitPath, allowed: bool| match (actor.sees(path), allowed) {
        (false, _) => NotFound,
        (true, true) => Allow,
        (true, false) => Forbidden,
    };
    match permission {
        Permission::ReadUnit(path) | Permission::ReadUser { unit: path } => visible_then(path, true),
        Permission::CreateUnit { parent, kind } => {
            let allowed = match role {
                Role::Admin | Role::Office => true,
                Role::Locality => {
                    actor.owns(parent) && matches!(kind, UnitKind::Locality | UnitKind::Grid | UnitKind::Enterprise)
                }
                Role::Inspector => actor.owns(parent) && kind == UnitKind::Enterprise,
                Role::Department => actor.owns(parent) && kind == UnitKind::Department,
                Role::Enterprise | Role::Expert | Role::Leader => false,
            };
            visible_then(parent, allowed)
        }
        Permission::UpdateUnit(path) => {
            let allowed = match role {
                Role::Admin | Role::Office => true,
                Role::Department | Role::Locality | Role::Inspector | Role::Enterprise => actor.owns(path),
                Role::Expert | Role::Leader => false,
            };
            visible_then(path, allowed)
        }
        Permission::UpdateUnitRegistry(path) => {
            let allowed = match role {
                Role::Admin | Role::Office => true,
                Role::Department | Role::Locality | Role::Inspector => actor.owns(path) && path != &actor.unit_path,
                Role::Enterprise | Role::Expert | Role::Leader => false,
            };
            visible_then(path, allowed)
        }
        Permission::ManageUser { unit, role: target_role } => {
            let allowed = match role {
                Role::Admin => true,
                Role::Office => target_role != Role::Admin,
                Role::Locality => {
                    actor.owns(unit) && matches!(target_role, Role::Locality | Role::Inspector | Role::Enterprise)
                }
                Role::Enterprise => actor.owns(unit) && target_role == Role::Enterprise,
                _ => false,
            };
            visible_then(unit, allowed)
        }
        Permission::ReadCampaign { owner } => {
            if campaign_visible(actor, owner) { Allow } else { NotFound }
        }
        Permission::ManageCampaign { owner } => {
            if !campaign_visible(actor, owner) {
                NotFound
            } else if role == Role::Admin || (role == Role::Office && owner.is_within(&actor.jurisdiction)) {
                Allow
            } else {
                Forbidden
            }
        }
        Permission::ReportIndicator { owner, lead_units, area } => {
            if !campaign_visible(actor, owner) {
                return NotFound;
            }
            let allowed = match role {
                Role::Admin => true,
                Role::Office => owner.is_within(&actor.jurisdiction),
                Role::Department => {
                    lead_units.iter().any(|u| u.is_within(&actor.unit_path)) || actor.led_areas.contains(&area)
                }
                _ => false,
            };
            if allowed { Allow } else { Forbidden }
        }
        Permission::ReadAudit | Permission::ManageCalendar => {
            if role == Role::Admin { Allow } else { Forbidden }
        }
    }
}

/// A campaign is visible to everyone in the owner's subtree (the plan is
/// addressed to them) and to whoever sees the owner.
pub fn campaign_visible(actor: &Actor, owner: &UnitPath) -> bool {
    actor.unit_path.is_within(owner) || actor.sees(owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tree {
        town: UnitPath,
        dept: UnitPath,
        village: UnitPath,
        grid: UnitPath,
        firm: UnitPath,
        other_town: UnitPath,
    }

    fn tree() -> Tree {
        let town = UnitPath::root(UnitId::new());
        let dept = town.child(UnitId::new());
        let village = town.child(UnitId::new());
        let grid = village.child(UnitId::new());
        let firm = grid.child(UnitId::new());
        let other_town = UnitPath::root(UnitId::new());
        Tree { town, dept, village, grid, firm, other_town }
    }

    fn actor(role: Role, unit: &UnitPath, town: &UnitPath) -> Actor {
        Actor {
            user_id: UserId::new(),
            username: "u".into(),
            role,
            unit_id: unit.ids().last().copied().unwrap_or_default(),
            unit_path: unit.clone(),
            jurisdiction: town.clone(),
            led_areas: vec![],
        }
    }

    #[test]
    fn department_cannot_read_a_locality() {
        let t = tree();
        let a = actor(Role::Department, &t.dept, &t.town);
        assert_eq!(authorize(&a, Permission::ReadUnit(&t.village)), Decision::NotFound);
        assert_eq!(authorize(&a, Permission::ReadUnit(&t.dept)), Decision::Allow);
    }

    #[test]
    fn leader_reads_everything_in_town_and_changes_nothing() {
        let t = tree();
        let a = actor(Role::Leader, &t.town, &t.town);
        assert_eq!(authorize(&a, Permission::ReadUnit(&t.firm)), Decision::Allow);
        assert_eq!(authorize(&a, Permission::UpdateUnit(&t.firm)), Decision::Forbidden);
        assert_eq!(authorize(&a, Permission::ReadUnit(&t.other_town)), Decision::NotFound);
    }

    #[test]
    fn enterprise_sees_the_campaign_of_its_town() {
        let t = tree();
        let a = actor(Role::Enterprise, &t.firm, &t.town);
        assert!(authorize(&a, Permission::ReadCampaign { owner: &t.town }).allowed());
        assert_eq!(authorize(&a, Permission::ManageCampaign { owner: &t.town }), Decision::Forbidden);
        assert_eq!(authorize(&a, Permission::ReadCampaign { owner: &t.other_town }), Decision::NotFound);
    }

    #[test]
    fn units_update_their_contacts_but_not_their_registration() {
        let t = tree();
        let firm = actor(Role::Enterprise, &t.firm, &t.town);
        assert!(authorize(&firm, Permission::UpdateUnit(&t.firm)).allowed());
        assert_eq!(authorize(&firm, Permission::UpdateUnitRegistry(&t.firm)), Decision::Forbidden);
        assert_eq!(authorize(&firm, Permission::CreateUnit { parent: &t.firm, kind: UnitKind::Enterprise }), Decision::Forbidden);
        let grid = actor(Role::Inspector, &t.grid, &t.town);
        assert!(authorize(&grid, Permission::UpdateUnitRegistry(&t.firm)).allowed());
        assert_eq!(authorize(&grid, Permission::UpdateUnitRegistry(&t.grid)), Decision::Forbidden);
    }

    #[test]
    fn office_may_not_create_administrators() {
        let t = tree();
        let a = actor(Role::Office, &t.town.child(UnitId::new()), &t.town);
        assert_eq!(authorize(&a, Permission::ManageUser { unit: &t.grid, role: Role::Admin }), Decision::Forbidden);
        assert!(authorize(&a, Permission::ManageUser { unit: &t.grid, role: Role::Inspector }).allowed());
    }

    #[test]
    fn lead_department_reports_its_indicators_only() {
        let t = tree();
        let area = AreaId::new();
        let a = actor(Role::Department, &t.dept, &t.town);
        let lead = [t.dept.clone()];
        let other = [t.village.clone()];
        assert!(authorize(&a, Permission::ReportIndicator { owner: &t.town, lead_units: &lead, area }).allowed());
        assert_eq!(
            authorize(&a, Permission::ReportIndicator { owner: &t.town, lead_units: &other, area: AreaId::new() }),
            Decision::Forbidden
        );
        let mut led = a.clone();
        led.led_areas = vec![area];
        assert!(authorize(&led, Permission::ReportIndicator { owner: &t.town, lead_units: &other, area }).allowed());
    }

    mod properties {
        use super::super::*;
        use super::actor;
        use proptest::prelude::*;

        /// A random forest: each unit's parent is an earlier unit or none.
        fn forest() -> impl Strategy<Value = Vec<UnitPath>> {
            proptest::collection::vec(proptest::option::of(0usize..8), 1..12).prop_map(|parents| {
                let mut paths: Vec<UnitPath> = Vec::new();
                for p in parents {
                    let id = UnitId::new();
                    let path = match p.and_then(|i| paths.get(i % paths.len().max(1))) {
                        Some(parent) if !paths.is_empty() => parent.child(id),
                        _ => UnitPath::root(id),
                    };
                    paths.push(path);
                }
                paths
            })
        }

        fn role() -> impl Strategy<Value = Role> {
            proptest::sample::select(Role::ALL.to_vec())
        }

        fn kind() -> impl Strategy<Value = UnitKind> {
            proptest::sample::select(UnitKind::ALL.to_vec())
        }

        fn writes<'a>(p: &'a UnitPath, k: UnitKind, r: Role, lead: &'a [UnitPath], area: AreaId) -> Vec<Permission<'a>> {
            vec![
                Permission::CreateUnit { parent: p, kind: k },
                Permission::UpdateUnit(p),
                Permission::UpdateUnitRegistry(p),
                Permission::ManageUser { unit: p, role: r },
                Permission::ManageCampaign { owner: p },
                Permission::ReportIndicator { owner: p, lead_units: lead, area },
            ]
        }

        proptest! {
            #[test]
            fn no_write_reveals_what_reading_hides_and_read_only_roles_write_nothing(
                tree in forest(), me in 0usize..12, target in 0usize..12, r in role(), target_role in role(), k in kind(),
            ) {
                let me = &tree[me % tree.len()];
                let target = &tree[target % tree.len()];
                let jurisdiction = UnitPath::root(me.ids()[0]);
                let actor = actor(r, me, &jurisdiction);
                let lead = [target.clone()];
                let area = AreaId::new();
                let read = authorize(&actor, Permission::ReadUnit(target));
                for w in writes(target, k, target_role, &lead, area) {
                    let d = authorize(&actor, w);
                    // Units the actor cannot see stay unseen by every write.
                    if read == Decision::NotFound && !matches!(w, Permission::ManageCampaign { .. } | Permission::ReportIndicator { .. }) {
                        prop_assert_eq!(d, Decision::NotFound, "{:?} {:?}", r, w);
                    }
                    // Leaders and experts change nothing; administrators may do everything.
                    if matches!(r, Role::Leader | Role::Expert) {
                        prop_assert_ne!(d, Decision::Allow, "{:?} {:?}", r, w);
                    }
                    if r == Role::Admin {
                        prop_assert_eq!(d, Decision::Allow, "{:?}", w);
                    }
                }
                // Nobody but an administrator makes administrators.
                if r != Role::Admin {
                    prop_assert_ne!(authorize(&actor, Permission::ManageUser { unit: target, role: Role::Admin }), Decision::Allow);
                }
                // Everyone sees their own subtree.
                if target.is_within(me) {
                    prop_assert_eq!(read, Decision::Allow);
                }
            }
        }
    }
}
