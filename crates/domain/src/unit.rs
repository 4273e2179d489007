//! Units (组织): the tree of government bodies, departments, localities,
//! grids and enterprises that carry a campaign.

use crate::credit_code::CreditCode;
use crate::error::{DomainError, FieldError};
use crate::ids::UnitId;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 人民政府 (town, district)
    Government,
    /// 领导小组 / 安委会 / 工作专班
    Committee,
    /// 办公室 (安委办)
    Office,
    /// 部门 (安监所, 派出所 …)
    Department,
    /// 村 / 居委 / 开发区 / 园区
    Locality,
    /// 网格
    Grid,
    /// 企业 / 单位
    Enterprise,
}

impl UnitKind {
    pub const ALL: [UnitKind; 7] = [
        UnitKind::Government,
        UnitKind::Committee,
        UnitKind::Office,
        UnitKind::Department,
        UnitKind::Locality,
        UnitKind::Grid,
        UnitKind::Enterprise,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Government => "government",
            UnitKind::Committee => "committee",
            UnitKind::Office => "office",
            UnitKind::Department => "department",
            UnitKind::Locality => "locality",
            UnitKind::Grid => "grid",
            UnitKind::Enterprise => "enterprise",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            UnitKind::Government => "人民政府",
            UnitKind::Committee => "领导机构",
            UnitKind::Office => "办公室",
            UnitKind::Department => "部门",
            UnitKind::Locality => "属地",
            UnitKind::Grid => "网格",
            UnitKind::Enterprise => "企业/单位",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            UnitKind::Government => "Government",
            UnitKind::Committee => "Committee",
            UnitKind::Office => "Office",
            UnitKind::Department => "Department",
            UnitKind::Locality => "Locality",
            UnitKind::Grid => "Grid",
            UnitKind::Enterprise => "Enterprise",
        }
    }

    /// Which kinds may sit directly under a unit of this kind. Enterprises
    /// may have branches; a grid holds enterprises; nothing sits under
    /// nothing-in-particular.
    pub fn may_contain(self, child: UnitKind) -> bool {
        use UnitKind::*;
        match self {
            Government => true,
            Committee => matches!(child, Committee | Office | Department),
            Office => matches!(child, Office | Committee),
            Department => matches!(child, Department | Grid | Enterprise),
            Locality => matches!(child, Locality | Grid | Enterprise | Committee | Office),
            Grid => matches!(child, Grid | Enterprise),
            Enterprise => matches!(child, Enterprise),
        }
    }
}

/// Sub-kind of a locality, as the plan names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalityKind {
    Village,
    Community,
    DevelopmentZone,
    Park,
}

impl LocalityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LocalityKind::Village => "village",
            LocalityKind::Community => "community",
            LocalityKind::DevelopmentZone => "development_zone",
            LocalityKind::Park => "park",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Village, Self::Community, Self::DevelopmentZone, Self::Park].into_iter().find(|k| k.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            LocalityKind::Village => "村",
            LocalityKind::Community => "居委/社区",
            LocalityKind::DevelopmentZone => "开发区",
            LocalityKind::Park => "园区",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            LocalityKind::Village => "Village",
            LocalityKind::Community => "Community",
            LocalityKind::DevelopmentZone => "Development zone",
            LocalityKind::Park => "Industrial park",
        }
    }
}

/// 规上 / 规下: above or below the statistical size threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnterpriseScale {
    AboveThreshold,
    BelowThreshold,
}

impl EnterpriseScale {
    pub fn as_str(self) -> &'static str {
        match self {
            EnterpriseScale::AboveThreshold => "above_threshold",
            EnterpriseScale::BelowThreshold => "below_threshold",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "above_threshold" | "规上" => Some(Self::AboveThreshold),
            "below_threshold" | "规下" => Some(Self::BelowThreshold),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            EnterpriseScale::AboveThreshold => "规上",
            EnterpriseScale::BelowThreshold => "规下",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            EnterpriseScale::AboveThreshold => "Above designated size",
            EnterpriseScale::BelowThreshold => "Below designated size",
        }
    }
}

/// Supervision flags an enterprise carries. Kept as a closed list so that
/// filters and reports agree on the names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnterpriseFlag {
    /// 危险化学品
    HazardousChemicals,
    /// 两重点一重大
    TwoKeysOneMajor,
    /// 重大危险源
    MajorHazardSource,
    /// 人员密集场所
    CrowdedPlace,
    /// 涉爆粉尘
    CombustibleDust,
    /// 有限空间作业
    ConfinedSpace,
    /// 危险废物
    HazardousWaste,
    /// 民用爆炸物品
    CivilExplosives,
    /// 燃气
    Gas,
    /// 冶金
    Metallurgy,
}

impl EnterpriseFlag {
    pub const ALL: [EnterpriseFlag; 10] = [
        EnterpriseFlag::HazardousChemicals,
        EnterpriseFlag::TwoKeysOneMajor,
        EnterpriseFlag::MajorHazardSource,
        EnterpriseFlag::CrowdedPlace,
        EnterpriseFlag::CombustibleDust,
        EnterpriseFlag::ConfinedSpace,
        EnterpriseFlag::HazardousWaste,
        EnterpriseFlag::CivilExplosives,
        EnterpriseFlag::Gas,
        EnterpriseFlag::Metallurgy,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            EnterpriseFlag::HazardousChemicals => "hazardous_chemicals",
            EnterpriseFlag::TwoKeysOneMajor => "two_keys_one_major",
            EnterpriseFlag::MajorHazardSource => "major_hazard_source",
            EnterpriseFlag::CrowdedPlace => "crowded_place",
            EnterpriseFlag::CombustibleDust => "combustible_dust",
            EnterpriseFlag::ConfinedSpace => "confined_space",
            EnterpriseFlag::HazardousWaste => "hazardous_waste",
            EnterpriseFlag::CivilExplosives => "civil_explosives",
            EnterpriseFlag::Gas => "gas",
            EnterpriseFlag::Metallurgy => "metallurgy",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s || f.label_zh() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            EnterpriseFlag::HazardousChemicals => "危险化学品",
            EnterpriseFlag::TwoKeysOneMajor => "两重点一重大",
            EnterpriseFlag::MajorHazardSource => "重大危险源",
            EnterpriseFlag::CrowdedPlace => "人员密集场所",
            EnterpriseFlag::CombustibleDust => "涉爆粉尘",
            EnterpriseFlag::ConfinedSpace => "有限空间作业",
            EnterpriseFlag::HazardousWaste => "危险废物",
            EnterpriseFlag::CivilExplosives => "民用爆炸物品",
            EnterpriseFlag::Gas => "燃气",
            EnterpriseFlag::Metallurgy => "冶金",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            EnterpriseFlag::HazardousChemicals => "Hazardous chemicals",
            EnterpriseFlag::TwoKeysOneMajor => "Two keys, one major",
            EnterpriseFlag::MajorHazardSource => "Major hazard installation",
            EnterpriseFlag::CrowdedPlace => "Crowded place",
            EnterpriseFlag::CombustibleDust => "Combustible dust",
            EnterpriseFlag::ConfinedSpace => "Confined-space work",
            EnterpriseFlag::HazardousWaste => "Hazardous waste",
            EnterpriseFlag::CivilExplosives => "Civil explosives",
            EnterpriseFlag::Gas => "Gas",
            EnterpriseFlag::Metallurgy => "Metallurgy",
        }
    }
}

/// The materialised path of a unit: `/<id>/<id>/…/` from the root. Scoping a
/// query to a subtree is a prefix match, which every engine we target runs on
/// a plain B-tree index.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnitPath(String);

impl UnitPath {
    pub fn root(id: UnitId) -> Self {
        Self(format!("/{}/", id.0.simple()))
    }
    pub fn child(&self, id: UnitId) -> Self {
        Self(format!("{}{}/", self.0, id.0.simple()))
    }
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// True when `self` is `other` or lies below it.
    pub fn is_within(&self, other: &UnitPath) -> bool {
        self.0.starts_with(&other.0)
    }
    pub fn depth(&self) -> usize {
        self.0.matches('/').count().saturating_sub(1)
    }
    /// The ids on the path, root first.
    pub fn ids(&self) -> Vec<UnitId> {
        self.0
            .split('/')
            .filter(|s| !s.is_empty())
            .filter_map(|s| uuid::Uuid::parse_str(s).ok().map(UnitId))
            .collect()
    }
}

impl fmt::Display for UnitPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The enterprise profile carried by units of kind `enterprise`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseProfile {
    pub credit_code: Option<CreditCode>,
    pub address: Option<String>,
    pub industry: Option<String>,
    pub scale: Option<EnterpriseScale>,
    pub flags: Vec<EnterpriseFlag>,
    pub legal_representative: Option<String>,
    pub legal_representative_phone: Option<String>,
    pub principal: Option<String>,
    pub principal_phone: Option<String>,
    pub locality_id: Option<UnitId>,
    pub grid_id: Option<UnitId>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

/// Input for creating or changing a unit, checked by [`UnitDraft::validate`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitDraft {
    pub name: String,
    pub short_name: Option<String>,
    pub kind: Option<String>,
    pub locality_kind: Option<String>,
    pub duties: Option<String>,
    pub credit_code: Option<String>,
    pub address: Option<String>,
    pub industry: Option<String>,
    pub scale: Option<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    pub legal_representative: Option<String>,
    pub legal_representative_phone: Option<String>,
    pub principal: Option<String>,
    pub principal_phone: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

/// A unit's own fields after validation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitFields {
    pub name: String,
    pub short_name: Option<String>,
    pub kind: UnitKind,
    pub locality_kind: Option<LocalityKind>,
    pub duties: Option<String>,
    pub enterprise: EnterpriseProfile,
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref().and_then(crate::text::non_blank)
}

/// Mainland phone numbers as people write them: mobile (11 digits from 1),
/// landline with area code and optional extension.
pub fn valid_phone(s: &str) -> bool {
    let t: String = crate::text::normalize_width(s).chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let digits = t.strip_prefix("+86").unwrap_or(&t);
    let digits = digits.split(['转', '#']).next().unwrap_or_default();
    (7..=12).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
}

impl UnitDraft {
    pub fn validate(&self) -> Result<UnitFields, DomainError> {
        let mut errors = Vec::new();
        let name = self.name.trim().trim_matches('\u{3000}').to_string();
        if name.is_empty() {
            errors.push(FieldError::new("name", "请填写单位名称", "Enter the unit's name"));
        } else if name.chars().count() > 100 {
            errors.push(FieldError::new("name", "单位名称不能超过100个字", "The name may have at most 100 characters"));
        }
        let kind = match self.kind.as_deref().map(str::trim) {
            None | Some("") => {
                errors.push(FieldError::new("kind", "请选择单位类型", "Choose the kind of unit"));
                None
            }
            Some(k) => match UnitKind::parse(k) {
                Some(k) => Some(k),
                None => {
                    errors.push(FieldError::new("kind", format!("未知的单位类型“{k}”"), format!("Unknown unit kind '{k}'")));
                    None
                }
            },
        };
        let locality_kind = match opt(&self.locality_kind) {
            None => None,
            Some(k) => match LocalityKind::parse(&k) {
                Some(lk) if kind == Some(UnitKind::Locality) => Some(lk),
                Some(_) => {
                    errors.push(FieldError::new("locality_kind", "只有属地单位才有属地类型", "Only localities have a locality kind"));
                    None
                }
                None => {
                    errors.push(FieldError::new("locality_kind", format!("未知的属地类型“{k}”"), format!("Unknown locality kind '{k}'")));
                    None
                }
            },
        };
        let is_enterprise = kind == Some(UnitKind::Enterprise);
        let mut enterprise = EnterpriseProfile::default();
        if let Some(code) = opt(&self.credit_code) {
            match CreditCode::parse(&code) {
                Ok(c) => enterprise.credit_code = Some(c),
                Err(e) => errors.extend(e.fields),
            }
        }
        if let Some(scale) = opt(&self.scale) {
            match EnterpriseScale::parse(&scale) {
                Some(s) => enterprise.scale = Some(s),
                None => errors.push(FieldError::new("scale", "规模应为“规上”或“规下”", "Scale must be above_threshold or below_threshold")),
            }
        }
        for f in &self.flags {
            match EnterpriseFlag::parse(f.trim()) {
                Some(flag) if !enterprise.flags.contains(&flag) => enterprise.flags.push(flag),
                Some(_) => {}
                None => errors.push(FieldError::new("flags", format!("未知的企业标记“{f}”"), format!("Unknown enterprise flag '{f}'"))),
            }
        }
        enterprise.flags.sort();
        for (field, value, zh) in [
            ("legal_representative_phone", &self.legal_representative_phone, "法定代表人电话"),
            ("principal_phone", &self.principal_phone, "主要负责人电话"),
        ] {
            if let Some(p) = opt(value)
                && !valid_phone(&p) {
                    errors.push(FieldError::new(field, format!("{zh}格式不正确"), format!("{field} is not a valid phone number")));
                }
        }
        match (self.longitude, self.latitude) {
            (Some(lon), Some(lat)) => {
                if !(73.0..=136.0).contains(&lon) || !(3.0..=54.0).contains(&lat) {
                    errors.push(FieldError::new("longitude", "坐标不在中国范围内", "The coordinates are outside China"));
                } else {
                    enterprise.longitude = Some(lon);
                    enterprise.latitude = Some(lat);
                }
            }
            (None, None) => {}
            _ => errors.push(FieldError::new("latitude", "经度和纬度需同时填写", "Give both longitude and latitude")),
        }
        if !is_enterprise
            && (enterprise.credit_code.is_some() || enterprise.scale.is_some() || !enterprise.flags.is_empty())
        {
            errors.push(FieldError::new("kind", "只有企业/单位才有信用代码、规模和标记", "Only enterprises have a credit code, scale and flags"));
        }
        enterprise.address = opt(&self.address);
        enterprise.industry = opt(&self.industry);
        enterprise.legal_representative = opt(&self.legal_representative);
        enterprise.legal_representative_phone = opt(&self.legal_representative_phone);
        enterprise.principal = opt(&self.principal);
        enterprise.principal_phone = opt(&self.principal_phone);
        match (errors.is_empty(), kind) {
            (true, Some(kind)) => Ok(UnitFields {
                name,
                short_name: opt(&self.short_name),
                kind,
                locality_kind,
                duties: opt(&self.duties),
                enterprise,
            }),
            _ => Err(DomainError::invalid(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_nest() {
        let a = UnitId::new();
        let b = UnitId::new();
        let pa = UnitPath::root(a);
        let pb = pa.child(b);
        assert!(pb.is_within(&pa));
        assert!(!pa.is_within(&pb));
        assert_eq!(pb.depth(), 2);
        assert_eq!(pb.ids(), vec![a, b]);
    }

    #[test]
    fn enterprise_draft_is_checked_field_by_field() {
        let draft = UnitDraft {
            name: "  ".into(),
            kind: Some("enterprise".into()),
            credit_code: Some("123".into()),
            principal_phone: Some("abc".into()),
            flags: vec!["危险化学品".into(), "unknown".into()],
            ..Default::default()
        };
        let err = draft.validate().expect_err("invalid");
        let fields: Vec<_> = err.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["name", "credit_code", "flags", "principal_phone"]);
    }

    #[test]
    fn valid_enterprise() {
        let draft = UnitDraft {
            name: "上海示例化工有限公司".into(),
            kind: Some("enterprise".into()),
            credit_code: Some("91350100M000100Y43".into()),
            scale: Some("规上".into()),
            flags: vec!["hazardous_chemicals".into(), "危险化学品".into()],
            principal_phone: Some("021-5912 3456".into()),
            ..Default::default()
        };
        let f = draft.validate().expect("valid");
        assert_eq!(f.enterprise.flags, vec![EnterpriseFlag::HazardousChemicals]);
        assert_eq!(f.enterprise.scale, Some(EnterpriseScale::AboveThreshold));
    }

    #[test]
    fn phones() {
        assert!(valid_phone("13800138000"));
        assert!(valid_phone("021-59123456转8001"));
        assert!(!valid_phone("12"));
    }
}
