//! Pure types and rules of Bihuan. No I/O, no async: everything here can be
//! tested as plain functions, and every other crate speaks these types.

pub mod audit;
pub mod calendar;
pub mod circular;
pub mod campaign;
pub mod clock;
pub mod credit_code;
pub mod error;
pub mod hazard;
pub mod ids;
pub mod indicator;
pub mod measure;
pub mod model;
pub mod permission;
pub mod role;
pub mod text;
pub mod unit;
pub mod warning;

pub use error::{DomainError, ErrorCode, FieldError};
