//! Typed identifiers. Every id is a UUIDv7 generated in Rust (no database
//! sequence), so inserts never need a global counter and ids sort by time.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id.
            pub fn new() -> Self { Self(Uuid::now_v7()) }
            pub fn parse(s: &str) -> Option<Self> { Uuid::parse_str(s).ok().map(Self) }
        }
        impl Default for $name { fn default() -> Self { Self::new() } }
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid)))
                    .into()
            }
        }
        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { self.0.fmt(f) }
        }
    )*};
}

id_type!(
    UnitId, UserId, CampaignId, PhaseId, AreaId, TaskId, IndicatorId, IndicatorValueId, TokenId, SessionId, AuditId, PostId, HazardId,
    HazardEventId, ExtensionId, MeasureId, MeasureEventId, AttachmentId, WarningId, WarningEventId, RunId, NotificationId,
);
