//! Files in and out of the hazard list: attachments (photos and documents),
//! the ledger as xlsx or CSV, ledger imports, the national JSON and the
//! Word notices. Also the one form extractor that takes both plain forms
//! and multipart uploads.

use crate::api_hazards::HazardQuery;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Json;
use bihuan_domain::ids::*;
use bihuan_domain::DomainError;
use bihuan_service::attachments::{Attachment, AttachmentRole, Upload};
use bihuan_service::ledger::{ImportMode, ImportReport, LedgerFormat, NationalDanger};
use serde::Deserialize;
use std::io::{Seek, SeekFrom};
use utoipa::{IntoParams, ToSchema};

/// A posted form: plain (`application/x-www-form-urlencoded`) or multipart
/// with files. Empty file inputs are dropped.
#[derive(Default)]
pub struct Posted {
    pub fields: Vec<(String, String)>,
    pub files: Vec<PostedFile>,
}

pub struct PostedFile {
    /// The form field the file came in (e.g. `before`, `after`, `document`, `file`).
    pub field: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

fn bad_form(detail: impl std::fmt::Display) -> ApiError {
    ApiError(DomainError::field("form", format!("无法读取提交的表单：{detail}"), format!("The form could not be read: {detail}")))
}

impl<S: Send + Sync> FromRequest<S> for Posted {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let mut out = Posted::default();
        if multipart {
            let mut mp = Multipart::from_request(req, state).await.map_err(|e| bad_form(e.body_text()))?;
            while let Some(field) = mp.next_field().await.map_err(|e| bad_form(e.body_text()))? {
                let name = field.name().unwrap_or_default().to_string();
                match field.file_name().map(str::to_string) {
                    Some(file_name) => {
                        let bytes = field.bytes().await.map_err(|e| bad_form(e.body_text()))?;
                        if !bytes.is_empty() {
                            out.files.push(PostedFile { field: name, file_name, bytes: bytes.to_vec() });
                        }
                    }
                    None => {
                        let text = field.text().await.map_err(|e| bad_form(e.body_text()))?;
                        out.fields.push((name, text));
                    }
                }
            }
        } else {
            let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| bad_form(e.body_text()))?;
            out.fields = serde_urlencoded::from_bytes(&bytes).map_err(bad_form)?;
        }
        Ok(out)
    }
}

impl Posted {
    pub fn get(&self, key: &str) -> &str {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_default()
    }

    /// The fields as a form struct (all fields of which are text).
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, DomainError> {
        let encoded = serde_urlencoded::to_string(&self.fields).unwrap_or_default();
        serde_urlencoded::from_str(&encoded).map_err(|e| DomainError::field("form", format!("表单内容有误：{e}"), format!("The form is not valid: {e}")))
    }

    /// The files whose field names a role (`before`, `after`, `document`).
    pub fn uploads(&self) -> Result<Vec<Upload>, DomainError> {
        let mut out = Vec::new();
        for f in &self.files {
            let role = AttachmentRole::parse(&f.field).ok_or_else(|| {
                DomainError::field(&f.field, format!("文件栏“{}”应为 before、after 或 document", f.field), format!("File field '{}' must be before, after or document", f.field))
            })?;
            out.push(Upload { bytes: f.bytes.clone(), file_name: f.file_name.clone(), role });
        }
        Ok(out)
    }
}

/// `Content-Disposition` with the name in UTF-8 (RFC 6266/5987) and an
/// ASCII fallback.
pub fn disposition(kind: &str, file_name: &str) -> HeaderValue {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e).filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric())).unwrap_or("bin");
    let encoded: String = file_name
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    HeaderValue::from_str(&format!("{kind}; filename=\"download.{ext}\"; filename*=UTF-8''{encoded}")).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn file_response(content_type: &str, disposition_kind: &str, file_name: &str, body: Body) -> Response {
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")));
    h.insert(header::CONTENT_DISPOSITION, disposition(disposition_kind, file_name));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    res
}

fn hazard_id(s: &str) -> ApiResult<HazardId> {
    HazardId::parse(s).ok_or_else(|| ApiError(DomainError::not_found("隐患", "Hazard")))
}

// ---- attachments ----

/// The photos and documents of a hazard, in upload order.
#[utoipa::path(get, path = "/api/v1/hazards/{id}/attachments", tag = "attachments", params(("id" = String, Path)),
    responses((status = 200, body = Vec<Attachment>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_attachments(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<Vec<Attachment>>> {
    Ok(Json(s.svc.hazard_attachments(&me.ctx(), hazard_id(&id)?).await?))
}

/// Adds files (multipart: file fields named `before`, `after` or `document`;
/// an optional `comment`). Photos are checked from their bytes; EXIF time and
/// GPS are kept.
#[utoipa::path(post, path = "/api/v1/hazards/{id}/attachments", tag = "attachments", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "files in fields before / after / document, and comment"),
    responses((status = 201, body = Vec<Attachment>), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_attachments(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>, form: Posted) -> ApiResult<(StatusCode, Json<Vec<Attachment>>)> {
    let uploads = form.uploads()?;
    let comment = Some(form.get("comment").trim().to_string()).filter(|c| !c.is_empty());
    Ok((StatusCode::CREATED, Json(s.svc.attach_to_hazard(&me.ctx(), hazard_id(&id)?, uploads, comment).await?)))
}

async fn send_attachment(s: &AppState, me: &CurrentUser, id: &str, thumbnail: bool) -> ApiResult<Response> {
    let aid = AttachmentId::parse(id).ok_or_else(|| ApiError(DomainError::not_found("附件", "Attachment")))?;
    let (a, file) = s.svc.open_attachment(&me.ctx(), aid, thumbnail).await?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file)));
    let (ct, kind) = if thumbnail {
        (bihuan_service::attachments::THUMBNAIL_MEDIA_TYPE.to_string(), "inline")
    } else if a.kind == "image" || a.kind == "pdf" {
        (a.media_type.clone(), "inline")
    } else {
        (a.media_type.clone(), "attachment")
    };
    let mut res = file_response(&ct, kind, &a.download_name(), body);
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400, immutable"));
    Ok(res)
}

/// The file as uploaded.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments", params(("id" = String, Path)),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_attachment(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Response> {
    send_attachment(&s, &me, &id, false).await
}

/// A JPEG thumbnail (upright; no EXIF, so no position) of a photo.
#[utoipa::path(get, path = "/api/v1/attachments/{id}/thumbnail", tag = "attachments", params(("id" = String, Path)),
    responses((status = 200, description = "JPEG", content_type = "image/jpeg"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_thumbnail(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Response> {
    send_attachment(&s, &me, &id, true).await
}

// ---- ledgers ----

#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `xlsx` (default) or `csv`.
    pub format: Option<String>,
}

/// The hazard ledger (台账) of the filtered list: xlsx with the timeline on a
/// second sheet, or CSV. Streams from a temporary file.
#[utoipa::path(get, path = "/api/v1/hazards/export", tag = "ledgers", params(ExportQuery, HazardQuery),
    responses((status = 200, description = "the ledger", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn export_hazards(State(s): State<AppState>, me: CurrentUser, Query(e): Query<ExportQuery>, Query(q): Query<HazardQuery>) -> ApiResult<Response> {
    let format = match e.format.as_deref().filter(|f| !f.trim().is_empty()) {
        None => LedgerFormat::Xlsx,
        Some(f) => LedgerFormat::parse(f).ok_or_else(|| ApiError(DomainError::field("format", "格式应为 xlsx 或 csv", "The format must be xlsx or csv")))?,
    };
    let ctx = me.ctx();
    let mut filter = q.filter(&s, &ctx).await?;
    filter.after = None;
    let file = tempfile::tempfile().map_err(|e| ApiError(DomainError::new(bihuan_domain::ErrorCode::Internal, format!("无法创建临时文件：{e}"), format!("Cannot create a temporary file: {e}"))))?;
    let summary = s.svc.export_hazard_ledger(&ctx, &filter, format, &file).await?;
    let mut file = file;
    file.seek(SeekFrom::Start(0)).map_err(|e| ApiError(DomainError::new(bihuan_domain::ErrorCode::Internal, e.to_string(), e.to_string())))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file)));
    Ok(file_response(&summary.content_type, "attachment", &summary.file_name, body))
}

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// `dry_run` (default), `apply_valid` or `all_or_nothing`.
    pub mode: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ImportUpload {
    /// The ledger: xlsx, xls, ods or CSV (UTF-8 or GBK).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `dry_run`, `apply_valid` or `all_or_nothing` (also accepted in the query).
    mode: Option<String>,
}

fn import_mode(q: Option<&str>, form: &str) -> Result<ImportMode, DomainError> {
    let m = q.filter(|m| !m.trim().is_empty()).unwrap_or(form);
    if m.trim().is_empty() {
        return Ok(ImportMode::DryRun);
    }
    ImportMode::parse(m).ok_or_else(|| DomainError::field("mode", "导入方式应为 dry_run、apply_valid 或 all_or_nothing", "The mode must be dry_run, apply_valid or all_or_nothing"))
}

/// Imports a ledger (multipart field `file`). A dry run checks every row and
/// writes nothing; `apply_valid` writes the valid rows; `all_or_nothing`
/// writes every row or none. Re-importing creates no duplicates.
#[utoipa::path(post, path = "/api/v1/hazards/import", tag = "ledgers", params(ImportQuery),
    request_body(content_type = "multipart/form-data", content = ImportUpload),
    responses((status = 200, body = ImportReport), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_hazards(State(s): State<AppState>, me: CurrentUser, Query(q): Query<ImportQuery>, form: Posted) -> ApiResult<Json<ImportReport>> {
    let mode = import_mode(q.mode.as_deref(), form.get("mode"))?;
    let file = form.files.iter().find(|f| f.field == "file").ok_or_else(|| ApiError(DomainError::field("file", "请选择要导入的台账文件", "Choose the ledger file to import")))?;
    Ok(Json(s.svc.import_hazard_ledger(&me.ctx(), &file.bytes, &file.file_name, mode).await?))
}

/// The filtered hazards in the national 双重预防 interface format (隐患信息).
#[utoipa::path(get, path = "/api/v1/hazards/national", tag = "ledgers", params(HazardQuery), responses((status = 200, body = Vec<NationalDanger>)))]
pub async fn national(State(s): State<AppState>, me: CurrentUser, Query(q): Query<HazardQuery>) -> ApiResult<Json<Vec<NationalDanger>>> {
    let ctx = me.ctx();
    let mut filter = q.filter(&s, &ctx).await?;
    filter.after = None;
    Ok(Json(s.svc.export_national(&ctx, &filter).await?))
}

/// The 挂牌督办通知书 of a listed hazard, as a Word document.
#[utoipa::path(get, path = "/api/v1/hazards/{id}/listing-notice", tag = "ledgers", params(("id" = String, Path)),
    responses((status = 200, description = "docx", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn listing_notice(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Response> {
    let (name, bytes) = s.svc.listing_notice_docx(&me.ctx(), hazard_id(&id)?).await?;
    Ok(file_response(bihuan_service::notices::DOCX_CONTENT_TYPE, "attachment", &name, Body::from(bytes)))
}

/// The 整改指令书 of an assigned hazard, as a Word document.
#[utoipa::path(get, path = "/api/v1/hazards/{id}/rectification-order", tag = "ledgers", params(("id" = String, Path)),
    responses((status = 200, description = "docx", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn rectification_order(State(s): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> ApiResult<Response> {
    let (name, bytes) = s.svc.rectification_order_docx(&me.ctx(), hazard_id(&id)?).await?;
    Ok(file_response(bihuan_service::notices::DOCX_CONTENT_TYPE, "attachment", &name, Body::from(bytes)))
}
