//! Domain errors carry a stable machine code and a message in Chinese and in
//! English; the web layer picks the language and the HTTP status.

use serde::Serialize;
use std::fmt;

/// Stable machine codes. They are part of the API: never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Validation,
    NotFound,
    Forbidden,
    Unauthenticated,
    Conflict,
    TooManyAttempts,
    InvalidCredentials,
    CsrfFailed,
    MethodNotAllowed,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Validation => "validation",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Conflict => "conflict",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::CsrfFailed => "csrf_failed",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Internal => "internal",
        }
    }
}

/// One problem with one field of the input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub zh: String,
    pub en: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { field: field.into(), zh: zh.into(), en: en.into() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainError {
    pub code: ErrorCode,
    pub zh: String,
    pub en: String,
    pub fields: Vec<FieldError>,
}

impl DomainError {
    pub fn new(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { code, zh: zh.into(), en: en.into(), fields: Vec::new() }
    }
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let (zh, en) = match fields.first() {
            Some(f) if fields.len() == 1 => (f.zh.clone(), f.en.clone()),
            _ => ("输入有误，请检查标出的字段".to_string(), "The input has errors; check the marked fields".to_string()),
        };
        Self { code: ErrorCode::Validation, zh, en, fields }
    }
    pub fn field(field: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, zh, en)])
    }
    pub fn not_found(what_zh: &str, what_en: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what_zh}不存在或无权查看"), format!("{what_en} not found, or you may not see it"))
    }
    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden, "没有执行此操作的权限", "You are not allowed to do this")
    }
    pub fn conflict(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, zh, en)
    }
    pub fn message(&self, english: bool) -> &str {
        if english { &self.en } else { &self.zh }
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.zh, self.en)?;
        for fe in &self.fields {
            write!(f, "; {}: {} / {}", fe.field, fe.zh, fe.en)?;
        }
        Ok(())
    }
}

impl std::error::Error for DomainError {}
