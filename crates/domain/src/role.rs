//! Roles. A user has one role and belongs to one unit; together they decide
//! what the user sees and may do (see [`crate::permission`]).

use crate::unit::UnitKind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 系统管理员: runs the installation.
    Admin,
    /// 安委办 / 领导小组办公室: configures and supervises the campaign.
    Office,
    /// 部门 (牵头/成员单位): runs its areas, inspects, verifies.
    Department,
    /// 属地 (村 / 居委 / 开发区): follows up the enterprises of its area.
    Locality,
    /// 网格员 / 检查员: inspects in the field.
    Inspector,
    /// 企业用户: self-inspects, rectifies, reports.
    Enterprise,
    /// 专家 (专家服务团): guided inspections and findings.
    Expert,
    /// 领导: reads everything in the jurisdiction, changes nothing.
    Leader,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Office,
        Role::Department,
        Role::Locality,
        Role::Inspector,
        Role::Enterprise,
        Role::Expert,
        Role::Leader,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Office => "office",
            Role::Department => "department",
            Role::Locality => "locality",
            Role::Inspector => "inspector",
            Role::Enterprise => "enterprise",
            Role::Expert => "expert",
            Role::Leader => "leader",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::Office => "安委办工作人员",
            Role::Department => "部门工作人员",
            Role::Locality => "属地工作人员",
            Role::Inspector => "网格员/检查员",
            Role::Enterprise => "企业用户",
            Role::Expert => "专家",
            Role::Leader => "领导",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Admin => "System administrator",
            Role::Office => "Safety office staff",
            Role::Department => "Department staff",
            Role::Locality => "Locality staff",
            Role::Inspector => "Grid member / inspector",
            Role::Enterprise => "Enterprise user",
            Role::Expert => "Expert",
            Role::Leader => "Leader (read-only)",
        }
    }

    /// Whether a user with this role may belong to a unit of `kind`: enterprise
    /// users belong to enterprises and nobody else does; department staff to
    /// departments; locality staff to localities and grids.
    pub fn fits(self, kind: UnitKind) -> bool {
        use UnitKind::*;
        match self {
            Role::Enterprise => kind == Enterprise,
            Role::Department => kind == Department,
            Role::Locality => matches!(kind, Locality | Grid),
            Role::Office | Role::Leader => matches!(kind, Government | Committee | Office),
            Role::Expert => matches!(kind, Government | Committee | Office | Department),
            Role::Admin | Role::Inspector => kind != Enterprise,
        }
    }

    /// Office staff and leaders act on their whole jurisdiction (the nearest
    /// government above them), not only on their own unit's subtree.
    pub fn has_jurisdiction_scope(self) -> bool {
        matches!(self, Role::Office | Role::Leader)
    }
}
