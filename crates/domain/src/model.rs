//! Records as the rest of the system reads them: what the store returns, the
//! service passes on and the API serialises.

use crate::campaign::{AreaKind, Safeguard};
use crate::ids::*;
use crate::indicator::{Comparator, Progress};
use crate::role::Role;
use crate::unit::{EnterpriseFlag, EnterpriseScale, LocalityKind, UnitFields, UnitKind, UnitPath};
use rust_decimal::Decimal;
use serde::Serialize;
use time::{Date, OffsetDateTime};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Unit {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: UnitId,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub parent_id: Option<UnitId>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub path: UnitPath,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "enterprise"))]
    pub kind: UnitKind,
    pub name: String,
    pub short_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub locality_kind: Option<LocalityKind>,
    pub duties: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub credit_code: Option<String>,
    pub address: Option<String>,
    pub industry: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub scale: Option<EnterpriseScale>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub flags: Vec<EnterpriseFlag>,
    pub legal_representative: Option<String>,
    pub legal_representative_phone: Option<String>,
    pub principal: Option<String>,
    pub principal_phone: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

impl Unit {
    /// A new, active unit with the given checked fields.
    pub fn new(id: UnitId, parent_id: Option<UnitId>, path: UnitPath, fields: UnitFields, now: OffsetDateTime) -> Unit {
        let mut unit = Unit {
            id,
            parent_id,
            path,
            kind: fields.kind,
            name: String::new(),
            short_name: None,
            locality_kind: None,
            duties: None,
            credit_code: None,
            address: None,
            industry: None,
            scale: None,
            flags: Vec::new(),
            legal_representative: None,
            legal_representative_phone: None,
            principal: None,
            principal_phone: None,
            longitude: None,
            latitude: None,
            active: true,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        unit.apply(fields);
        unit
    }

    /// Whether what the unit is on the register (as opposed to its contact
    /// details) differs between `self` and `other`.
    pub fn registration_differs(&self, other: &Unit) -> bool {
        (&self.name, &self.short_name, &self.locality_kind, &self.duties, &self.credit_code, &self.industry, &self.scale, &self.flags)
            != (&other.name, &other.short_name, &other.locality_kind, &other.duties, &other.credit_code, &other.industry, &other.scale, &other.flags)
    }

    /// Sets the unit's own fields (not its id, place, kind or state).
    pub fn apply(&mut self, f: UnitFields) {
        let e = f.enterprise;
        self.name = f.name;
        self.short_name = f.short_name;
        self.locality_kind = f.locality_kind;
        self.duties = f.duties;
        self.credit_code = e.credit_code.map(|c| c.to_string());
        self.address = e.address;
        self.industry = e.industry;
        self.scale = e.scale;
        self.flags = e.flags;
        self.legal_representative = e.legal_representative;
        self.legal_representative_phone = e.legal_representative_phone;
        self.principal = e.principal;
        self.principal_phone = e.principal_phone;
        self.longitude = e.longitude;
        self.latitude = e.latitude;
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub unit_id: UnitId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "office"))]
    pub role: Role,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: String,
    pub active: bool,
    pub must_change_password: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiToken {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: TokenId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub user_id: UserId,
    pub name: String,
    /// The first characters of the token, to recognise it in lists.
    pub prefix: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub revoked_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CampaignSummary {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: CampaignId,
    pub code: String,
    pub title: String,
    pub document_number: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub issued_on: Option<Date>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub starts_on: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub ends_on: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub owner_unit_id: UnitId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub owner_path: UnitPath,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UnitRef {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: UnitId,
    pub name: String,
    pub short_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub path: UnitPath,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Campaign {
    #[serde(flatten)]
    pub summary: CampaignSummary,
    pub issuer: Option<String>,
    pub signatory: Option<String>,
    pub office_unit_id: Option<UnitId>,
    pub basis: Option<String>,
    pub general_requirements: Option<String>,
    pub main_tasks_preamble: Option<String>,
    pub schedule_notes: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub safeguards: Vec<Safeguard>,
    pub units: Vec<CampaignUnit>,
    pub posts: Vec<Post>,
    pub phases: Vec<Phase>,
    pub areas: Vec<Area>,
    pub indicators: Vec<Indicator>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CampaignUnit {
    /// The unit's key in the campaign file.
    pub key: String,
    pub unit: UnitRef,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: UnitKind,
    pub parent_key: Option<String>,
    pub duties: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Post {
    pub unit: UnitRef,
    pub title: String,
    pub holder: Option<String>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Phase {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: PhaseId,
    pub seq: i32,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub starts_on: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub ends_on: Date,
    pub aims: String,
    /// Whether today (Asia/Shanghai) lies in this phase.
    pub current: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Area {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: AreaId,
    pub seq: i32,
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: AreaKind,
    pub note: Option<String>,
    pub lead_units: Vec<UnitRef>,
    pub tasks: Vec<Task>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Task {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: TaskId,
    pub seq: i32,
    pub label: String,
    pub group: Option<String>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Indicator {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: IndicatorId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub campaign_id: CampaignId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub area_id: AreaId,
    pub area_code: String,
    pub seq: i32,
    pub code: String,
    pub name: String,
    pub task_label: Option<String>,
    pub task_group: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = ">="))]
    pub comparator: Comparator,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "100"))]
    pub target: Option<Decimal>,
    pub unit: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub deadline: Date,
    pub basis: String,
    pub lead_units: Vec<UnitRef>,
    pub latest: Option<IndicatorValue>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub progress: Option<Progress>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IndicatorValue {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: IndicatorValueId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub indicator_id: IndicatorId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "80"))]
    pub value: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub measured_on: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub reporting_unit_id: UnitId,
    pub reporting_unit_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub reported_by: UserId,
    pub evidence: String,
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}
