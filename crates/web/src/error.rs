//! The one place where errors become HTTP responses: a stable machine code,
//! the status, a message in the caller's language, the fields at fault and
//! the request id.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bihuan_domain::{DomainError, ErrorCode};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError(pub DomainError);

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError(e)
    }
}

impl From<bihuan_store::StoreError> for ApiError {
    fn from(e: bihuan_store::StoreError) -> Self {
        ApiError(e.into())
    }
}

pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Validation => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Forbidden | ErrorCode::CsrfFailed => StatusCode::FORBIDDEN,
        ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code: validation, not_found, forbidden, unauthenticated, conflict,
    /// too_many_attempts, invalid_credentials, csrf_failed, method_not_allowed, internal.
    pub code: String,
    pub status: u16,
    /// In zh-CN, or in English when Accept-Language asks for it.
    pub message: String,
    pub fields: Vec<FieldDetail>,
    pub request_id: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldDetail {
    pub field: String,
    pub message: String,
}

pub fn body(e: &DomainError) -> ErrorBody {
    let en = crate::english();
    ErrorBody {
        error: ErrorDetail {
            code: e.code.as_str().to_string(),
            status: status_of(e.code).as_u16(),
            message: e.message(en).to_string(),
            fields: e.fields.iter().map(|f| FieldDetail { field: f.field.clone(), message: if en { f.en.clone() } else { f.zh.clone() } }).collect(),
            request_id: crate::request_id(),
        },
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (status_of(self.0.code), Json(body(&self.0))).into_response()
    }
}

pub fn unauthenticated() -> DomainError {
    DomainError::new(ErrorCode::Unauthenticated, "请先登录或提供有效的访问令牌", "Log in or give a valid access token")
}

pub fn csrf_failed() -> DomainError {
    DomainError::new(ErrorCode::CsrfFailed, "页面已过期，请刷新后重试", "The page has expired; reload it and try again")
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON request body; a body that is missing, malformed or of the wrong
/// shape is answered in the API's error format, not as plain text.
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                let detail = rejection.body_text();
                Err(ApiError(DomainError::new(
                    ErrorCode::Validation,
                    format!("请求内容不是有效的 JSON 或缺少字段：{detail}"),
                    format!("The request body is not valid JSON of the expected shape: {detail}"),
                )))
            }
        }
    }
}
