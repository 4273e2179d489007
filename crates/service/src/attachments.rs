//! Attachments on hazards: photos of the hazard (隐患照片), photos of the
//! rectification (整改照片) and documents (治理方案, 验收报告 …).
//!
//! The bytes go into the content-addressed file store (`bihuan-files`, under
//! [`crate::Settings::files_dir`]), which recognises the type from the bytes,
//! enforces [`crate::Settings::max_upload_bytes`], makes upright thumbnails
//! and reads EXIF time and GPS. That work is blocking and runs on
//! `spawn_blocking`, before the transaction. The transaction then writes one
//! row per upload, its link to the hazard, the timeline event and the audit
//! entry, which carries each file's SHA-256, so the evidence is covered by the
//! audit hash chain.
//!
//! A command refused after the files were stored (a bad file among good ones,
//! a hazard closed meanwhile) leaves those files on disk without rows. That is
//! harmless: the store is content-addressed, the same bytes uploaded again
//! reuse them, and `bihuan_store::attachments::references` tells a future
//! clean-up which files no row refers to.
//!
//! Who may read an attachment is who may read a hazard it is on; to anybody
//! else it does not exist.

use crate::{Caller, Ctx, Result, Service};
use bihuan_domain::clock::SHANGHAI;
use bihuan_domain::hazard::{self as hz, EventDraft, Hazard, HazardOp};
use bihuan_domain::ids::*;
use bihuan_domain::permission::Decision;
use bihuan_domain::{DomainError, ErrorCode, FieldError};
use bihuan_files::{FileError, FileKind, FileStore, Limits, StoredFile};
use bihuan_store::attachments::{self as store, AttachmentRow, HazardAttachmentRow};
use bihuan_store::hazards::{self as hazard_store, NewEvent};
use bihuan_store::Tx;
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

/// Most files taken in one command.
pub const MAX_FILES: usize = 20;

/// Media type of every thumbnail ([`Service::open_attachment`] with `thumbnail`).
pub const THUMBNAIL_MEDIA_TYPE: &str = "image/jpeg";

/// Longest file name kept, in characters (the extension included).
const MAX_NAME_CHARS: usize = 120;

/// What an attachment is for on its hazard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AttachmentRole {
    /// 隐患照片: the hazard as found. Must be a photo.
    Before,
    /// 整改照片: the hazard after rectification. Must be a photo.
    After,
    /// A document: 治理方案, 验收报告, 重大隐患报告, a scan of a notice …
    Document,
}

impl AttachmentRole {
    pub const ALL: [AttachmentRole; 3] = [AttachmentRole::Before, AttachmentRole::After, AttachmentRole::Document];

    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentRole::Before => "before",
            AttachmentRole::After => "after",
            AttachmentRole::Document => "document",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            AttachmentRole::Before => "隐患照片",
            AttachmentRole::After => "整改照片",
            AttachmentRole::Document => "文档",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            AttachmentRole::Before => "Photo of the hazard",
            AttachmentRole::After => "Photo after rectification",
            AttachmentRole::Document => "Document",
        }
    }

    /// The code, the Chinese label or the English label (any case).
    pub fn parse(s: &str) -> Option<AttachmentRole> {
        let s = s.trim();
        Self::ALL.into_iter().find(|r| r.as_str() == s || r.label_zh() == s || r.label_en().eq_ignore_ascii_case(s))
    }

    /// Whether files in this role must be photos.
    pub fn is_photo(self) -> bool {
        matches!(self, AttachmentRole::Before | AttachmentRole::After)
    }
}

/// One file as uploaded.
#[derive(Clone, Debug)]
pub struct Upload {
    pub bytes: Vec<u8>,
    /// The name on the uploader's machine; only kept (sanitised) for showing
    /// and downloading, and to tell CSV from plain text.
    pub file_name: String,
    pub role: AttachmentRole,
}

/// A GPS position from a photo's EXIF: WGS-84, as the camera wrote it (maps
/// in China want GCJ-02; converting is for the map).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Gps {
    /// Degrees, south negative.
    pub latitude: f64,
    /// Degrees, west negative.
    pub longitude: f64,
    /// Metres above sea level.
    pub altitude: Option<f64>,
}

/// An attachment on a hazard.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: AttachmentId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub hazard_id: HazardId,
    pub role: AttachmentRole,
    /// The timeline event that added it.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub event_id: HazardEventId,
    /// Upload order on the hazard: 1, 2, 3, …
    pub position: i32,
    /// SHA-256 of the bytes (lowercase hex).
    pub sha256: String,
    /// Recognised from the bytes; the `Content-Type` of the original.
    pub media_type: String,
    /// `image`, `pdf`, `ofd`, `word`, `spreadsheet`, `presentation` or `text`.
    pub kind: String,
    /// Extension matching the content, without the dot.
    pub extension: String,
    /// Bytes.
    pub size: i64,
    /// The uploader's file name, without directories or characters that
    /// are unsafe in a file name.
    pub file_name: String,
    pub has_thumbnail: bool,
    /// Displayed width and height (EXIF orientation applied), for images.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// EXIF orientation (1–8) of the original; the thumbnail is upright.
    pub orientation: Option<u16>,
    /// When the photo was taken, by the camera's clock (a claim, not proof), in
    /// the camera's UTC offset, or Beijing time when the camera wrote none.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub taken_at: Option<OffsetDateTime>,
    /// Whether the camera wrote its UTC offset (otherwise Beijing time is assumed).
    pub taken_offset_known: bool,
    pub gps: Option<Gps>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub uploaded_by_user_id: Option<UserId>,
    pub uploaded_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub uploaded_at: OffsetDateTime,
}

impl Attachment {
    /// The name to offer for download: the uploader's name, with the
    /// extension of the actual content added when the name lacks it.
    pub fn download_name(&self) -> String {
        let usual = |e: &str| match e {
            "jpeg" | "jpe" => "jpg".to_string(),
            "heif" => "heic".to_string(),
            other => other.to_string(),
        };
        let own = self.file_name.rsplit_once('.').map(|(_, e)| usual(&e.to_ascii_lowercase()));
        match own {
            Some(e) if e == usual(&self.extension) => self.file_name.clone(),
            _ => format!("{}.{}", self.file_name, self.extension),
        }
    }

    /// What kind of file this is, in words.
    pub fn kind_label(&self, english: bool) -> &str {
        match kind_of(&self.kind) {
            Some(k) if english => k.en(),
            Some(k) => k.zh(),
            None => &self.kind,
        }
    }

    fn from_row(r: HazardAttachmentRow) -> Result<Attachment> {
        let role = AttachmentRole::parse(&r.role).ok_or_else(|| crate::internal(format!("attachment role {}", r.role)))?;
        let a = r.attachment;
        let offset = a.taken_offset.and_then(|m| UtcOffset::from_whole_seconds(m.saturating_mul(60)).ok());
        let gps = match (a.gps_latitude, a.gps_longitude) {
            (Some(latitude), Some(longitude)) => Some(Gps { latitude, longitude, altitude: a.gps_altitude }),
            _ => None,
        };
        Ok(Attachment {
            id: a.id,
            hazard_id: r.hazard_id,
            role,
            event_id: r.event_id,
            position: r.position,
            sha256: a.sha256,
            media_type: a.media_type,
            kind: a.kind,
            extension: a.extension,
            size: a.size,
            file_name: a.file_name,
            has_thumbnail: a.has_thumbnail,
            width: a.width.and_then(|v| u32::try_from(v).ok()),
            height: a.height.and_then(|v| u32::try_from(v).ok()),
            orientation: a.orientation.and_then(|v| u16::try_from(v).ok()),
            taken_at: a.taken_at.map(|t| t.to_offset(offset.unwrap_or(SHANGHAI))),
            taken_offset_known: offset.is_some(),
            gps,
            uploaded_by_user_id: a.uploaded_by_user_id,
            uploaded_by: a.uploaded_by,
            uploaded_at: a.uploaded_at,
        })
    }
}

pub(crate) fn kind_code(k: FileKind) -> &'static str {
    match k {
        FileKind::Image => "image",
        FileKind::Pdf => "pdf",
        FileKind::Ofd => "ofd",
        FileKind::Word => "word",
        FileKind::Spreadsheet => "spreadsheet",
        FileKind::Presentation => "presentation",
        FileKind::Text => "text",
    }
}

fn kind_of(code: &str) -> Option<FileKind> {
    [FileKind::Image, FileKind::Pdf, FileKind::Ofd, FileKind::Word, FileKind::Spreadsheet, FileKind::Presentation, FileKind::Text]
        .into_iter()
        .find(|k| kind_code(*k) == code)
}

/// A file already in the file store, waiting for its rows.
#[derive(Clone, Debug)]
pub(crate) struct Staged {
    stored: StoredFile,
    file_name: String,
    role: AttachmentRole,
}

/// The uploader's file name without directories, control and bidirectional
/// formatting characters, or characters Windows refuses in names; at most
/// [`MAX_NAME_CHARS`] characters, the extension kept. Empty: `附件.<ext>`.
pub fn sanitize_file_name(raw: &str, extension: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let invisible = |c: char| {
        matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
    };
    let cleaned: String = base
        .chars()
        .filter(|c| !invisible(*c))
        .map(|c| if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') { '_' } else { c })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim_end_matches(['.', ' ']).trim();
    if trimmed.is_empty() {
        return format!("附件.{extension}");
    }
    if trimmed.chars().count() <= MAX_NAME_CHARS {
        return trimmed.to_string();
    }
    let (stem, ext) = match trimmed.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && e.chars().count() <= 10 => (s, Some(e)),
        _ => (trimmed, None),
    };
    let room = MAX_NAME_CHARS - ext.map(|e| e.chars().count() + 1).unwrap_or(0);
    let stem: String = stem.chars().take(room).collect();
    match ext {
        Some(e) => format!("{}.{e}", stem.trim_end()),
        None => stem.trim_end().to_string(),
    }
}

fn quoted(name: &str) -> (String, String) {
    (format!("“{name}”"), format!("\"{name}\""))
}

/// A refused file, in words naming it.
fn file_error(name: &str, e: &FileError) -> DomainError {
    let (zh, en) = quoted(name);
    match e {
        FileError::Io(_) | FileError::InvalidId => {
            tracing::error!(file = name, error = %e, "attachment store");
            DomainError::new(ErrorCode::Internal, format!("{zh}：{}", e.zh()), format!("{en}: {}", e.en()))
        }
        _ => DomainError::field("files", format!("{zh}：{}", e.zh()), format!("{en}: {}", e.en())),
    }
}

fn decide(ctx: &Ctx, h: &Hazard, op: HazardOp) -> Result<()> {
    match ctx.actor().map(|a| hz::authorize(a, &h.facts(), op)) {
        None | Some(Decision::Allow) => Ok(()),
        Some(Decision::Forbidden) => Err(DomainError::forbidden()),
        Some(Decision::NotFound) => Err(DomainError::not_found("隐患", "Hazard")),
    }
}

fn attach_possible(h: &Hazard) -> Result<()> {
    if HazardOp::Attach.possible(h) {
        Ok(())
    } else {
        Err(DomainError::conflict(
            format!("隐患当前状态为“{}”，不能再上传附件", h.state.label_zh()),
            format!("The hazard is {}; no more files can be added", h.state.label_en().to_lowercase()),
        ))
    }
}

fn hazard_not_found() -> DomainError {
    DomainError::not_found("隐患", "Hazard")
}

fn attachment_not_found() -> DomainError {
    DomainError::not_found("附件", "Attachment")
}

async fn join<T>(task: tokio::task::JoinHandle<T>) -> Result<T> {
    task.await.map_err(crate::internal)
}

impl Service {
    /// The limits every upload is checked against.
    pub fn file_limits(&self) -> Limits {
        Limits { max_bytes: self.settings.max_upload_bytes, ..Limits::default() }
    }

    /// The attachment store, its directories created when missing. Blocking:
    /// call it from `spawn_blocking`.
    pub fn file_store(&self) -> Result<FileStore> {
        FileStore::open(self.settings.files_dir.clone(), self.file_limits()).map_err(|e| {
            tracing::error!(dir = %self.settings.files_dir.display(), error = %e, "cannot open the attachment store");
            DomainError::new(ErrorCode::Internal, e.zh(), e.en())
        })
    }

    /// Adds files to an open hazard: one timeline event `attach` (the state
    /// unchanged, the files listed in its data) and one audit entry. Every
    /// file is checked first; one refused file refuses them all, with a
    /// message naming each refused file.
    pub async fn attach_to_hazard(&self, ctx: &Ctx, hazard_id: HazardId, files: Vec<Upload>, comment: Option<String>) -> Result<Vec<Attachment>> {
        // Nothing reaches the disk for a caller who may not attach here.
        let mut tx = self.db.read().await?;
        let h = hazard_store::get(&mut tx, hazard_id).await?.ok_or_else(hazard_not_found)?;
        tx.commit().await?;
        decide(ctx, &h, HazardOp::Attach)?;
        attach_possible(&h)?;

        let staged = self.store_uploads(files).await?;

        let mut tx = self.db.begin().await?;
        store::lock_hazard(&mut tx, hazard_id).await.map_err(|e| match e {
            bihuan_store::StoreError::NotFound => hazard_not_found(),
            other => other.into(),
        })?;
        let h = hazard_store::get(&mut tx, hazard_id).await?.ok_or_else(hazard_not_found)?;
        decide(ctx, &h, HazardOp::Attach)?;
        attach_possible(&h)?;
        let files: Vec<serde_json::Value> = staged
            .iter()
            .map(|s| {
                serde_json::json!({
                    "file_name": s.file_name, "role": s.role, "media_type": s.stored.media_type,
                    "size": s.stored.size, "sha256": s.stored.sha256,
                })
            })
            .collect();
        let draft = EventDraft {
            action: HazardOp::Attach.as_str().to_string(),
            from_state: Some(h.state),
            to_state: h.state,
            comment: comment.as_deref().and_then(bihuan_domain::text::non_blank),
            data: serde_json::json!({ "files": files }),
        };
        let (user, name, unit) = match &ctx.caller {
            Caller::User(a) => (Some(a.user_id), a.username.clone(), Some(a.unit_id)),
            Caller::System(n) => (None, n.clone(), None),
        };
        let event = hazard_store::append_event(
            &mut tx,
            NewEvent { hazard_id, at: self.now(), actor_user_id: user, actor_name: &name, actor_unit_id: unit, draft: &draft },
        )
        .await?;
        let added = self.link_staged(&mut tx, ctx, &h, event.id, staged).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Checks and stores uploads in the file store (off the async threads).
    pub(crate) async fn store_uploads(&self, files: Vec<Upload>) -> Result<Vec<Staged>> {
        if files.is_empty() {
            return Err(DomainError::field("files", "请选择要上传的文件", "Choose the files to upload"));
        }
        if files.len() > MAX_FILES {
            return Err(DomainError::field(
                "files",
                format!("一次最多上传 {MAX_FILES} 个文件"),
                format!("At most {MAX_FILES} files can be uploaded at once"),
            ));
        }
        let svc = self.clone();
        let results = join(tokio::task::spawn_blocking(move || {
            let store = svc.file_store()?;
            Ok::<_, DomainError>(
                files
                    .into_iter()
                    .map(|u| {
                        let result = store.put(&u.bytes, Some(&u.file_name));
                        (result, u.file_name, u.role)
                    })
                    .collect::<Vec<_>>(),
            )
        }))
        .await??;
        let mut staged = Vec::with_capacity(results.len());
        let mut refused: Vec<FieldError> = Vec::new();
        for (result, raw_name, role) in results {
            let shown = sanitize_file_name(&raw_name, "").trim_end_matches('.').to_string();
            let stored = match result {
                Ok(s) => s,
                Err(e) => {
                    let err = file_error(&shown, &e);
                    if err.code != ErrorCode::Validation {
                        return Err(err);
                    }
                    refused.extend(err.fields);
                    continue;
                }
            };
            if role.is_photo() && stored.kind != FileKind::Image {
                let (zh, en) = quoted(&shown);
                refused.push(FieldError::new(
                    "files",
                    format!("{zh}不是照片（识别为{}），{}只能上传照片；文件请作为“文档”上传", stored.kind.zh(), role.label_zh()),
                    format!("{en} is not a photo (it is a {}); upload it as a document", stored.kind.en()),
                ));
                continue;
            }
            let file_name = sanitize_file_name(&raw_name, stored.extension);
            staged.push(Staged { stored, file_name, role });
        }
        if !refused.is_empty() {
            return Err(DomainError::invalid(refused));
        }
        Ok(staged)
    }

    /// Records stored files as attachments of `hazard`, added by `event`,
    /// with one audit entry `hazard.attach` listing them. For commands that
    /// take files along with their own change, in their transaction.
    pub(crate) async fn link_staged(&self, tx: &mut Tx, ctx: &Ctx, hazard: &Hazard, event: HazardEventId, staged: Vec<Staged>) -> Result<Vec<Attachment>> {
        let (user, uploaded_by) = match &ctx.caller {
            Caller::User(a) => {
                let name = bihuan_store::users::get(tx, a.user_id).await?.map(|u| u.display_name).unwrap_or_else(|| a.username.clone());
                (Some(a.user_id), name)
            }
            Caller::System(n) => (None, n.clone()),
        };
        let at = self.now();
        let mut added = Vec::with_capacity(staged.len());
        for s in staged {
            let image = s.stored.image.as_ref();
            let gps = image.and_then(|i| i.gps);
            let row = AttachmentRow {
                id: AttachmentId::new(),
                sha256: s.stored.sha256.clone(),
                media_type: s.stored.media_type.to_string(),
                kind: kind_code(s.stored.kind).to_string(),
                extension: s.stored.extension.to_string(),
                size: i64::try_from(s.stored.size).unwrap_or(i64::MAX),
                file_name: s.file_name,
                has_thumbnail: s.stored.has_thumbnail,
                width: image.and_then(|i| i32::try_from(i.width).ok()),
                height: image.and_then(|i| i32::try_from(i.height).ok()),
                orientation: image.map(|i| i32::from(i.orientation)),
                taken_at: image.and_then(|i| i.taken_at.map(|t| t.assume_offset(i.taken_offset.unwrap_or(SHANGHAI)))),
                taken_offset: image.and_then(|i| i.taken_offset).map(|o| i32::from(o.whole_minutes())),
                gps_latitude: gps.map(|g| g.latitude),
                gps_longitude: gps.map(|g| g.longitude),
                gps_altitude: gps.and_then(|g| g.altitude),
                uploaded_by_user_id: user,
                uploaded_by: uploaded_by.clone(),
                uploaded_at: at,
            };
            store::insert(tx, &row).await?;
            let position = store::link(tx, hazard.id, row.id, s.role.as_str(), event).await?;
            added.push(Attachment::from_row(HazardAttachmentRow {
                hazard_id: hazard.id,
                role: s.role.as_str().to_string(),
                event_id: event,
                position,
                attachment: row,
            })?);
        }
        self.audit(tx, ctx, "hazard.attach", "hazard", Some(hazard.id.to_string()), crate::NONE, Some(&added)).await?;
        Ok(added)
    }

    /// The attachments of a hazard the caller may read, in upload order.
    pub async fn hazard_attachments(&self, ctx: &Ctx, hazard_id: HazardId) -> Result<Vec<Attachment>> {
        let mut tx = self.db.read().await?;
        let h = hazard_store::get(&mut tx, hazard_id).await?.ok_or_else(hazard_not_found)?;
        decide(ctx, &h, HazardOp::Read)?;
        let rows = store::of_hazard(&mut tx, hazard_id).await?;
        tx.commit().await?;
        rows.into_iter().map(Attachment::from_row).collect()
    }

    /// An attachment and its bytes (or its thumbnail, a JPEG:
    /// [`THUMBNAIL_MEDIA_TYPE`]), for a caller who may read a hazard it is
    /// on; for anybody else it does not exist. A file without a thumbnail
    /// (documents, HEIC photos) answers not-found for the thumbnail.
    pub async fn open_attachment(&self, ctx: &Ctx, attachment_id: AttachmentId, thumbnail: bool) -> Result<(Attachment, std::fs::File)> {
        let mut tx = self.db.read().await?;
        let links = store::links(&mut tx, attachment_id).await?;
        let mut readable = None;
        for link in links {
            let Some(h) = hazard_store::get(&mut tx, link.hazard_id).await? else { continue };
            if decide(ctx, &h, HazardOp::Read).is_ok() {
                readable = Some(link);
                break;
            }
        }
        tx.commit().await?;
        let attachment = Attachment::from_row(readable.ok_or_else(attachment_not_found)?)?;
        let svc = self.clone();
        let sha256 = attachment.sha256.clone();
        let name = attachment.file_name.clone();
        let file = join(tokio::task::spawn_blocking(move || {
            let store = svc.file_store()?;
            let opened = if thumbnail { store.thumbnail(&sha256) } else { store.open_file(&sha256).map(Some) };
            match opened {
                Ok(Some(f)) => Ok(f),
                Ok(None) => Err(DomainError::not_found("缩略图", "Thumbnail")),
                Err(e @ FileError::NotFound) => {
                    tracing::error!(file = %sha256, "an attachment's file is missing from the store");
                    Err(DomainError::new(ErrorCode::NotFound, format!("{}：{}", quoted(&name).0, e.zh()), format!("{}: {}", quoted(&name).1, e.en())))
                }
                Err(e) => Err(file_error(&name, &e)),
            }
        }))
        .await??;
        Ok((attachment, file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_directories_and_unsafe_characters() {
        assert_eq!(sanitize_file_name("C:\\Users\\张三\\Desktop\\隐患照片1.jpg", "jpg"), "隐患照片1.jpg");
        assert_eq!(sanitize_file_name("../../etc/passwd", "txt"), "passwd");
        assert_eq!(sanitize_file_name("a<b>c:d\"e|f?g*h\u{7}.pdf", "pdf"), "a_b_c_d_e_f_g_h_.pdf");
        assert_eq!(sanitize_file_name("photo\u{202E}gpj.exe", "jpg"), "photogpj.exe", "no right-to-left override");
        assert_eq!(sanitize_file_name("  ..hidden. ", "txt"), "hidden");
        assert_eq!(sanitize_file_name("", "jpg"), "附件.jpg");
        assert_eq!(sanitize_file_name("/", "pdf"), "附件.pdf");
        let long = format!("{}.docx", "整改".repeat(100));
        let cut = sanitize_file_name(&long, "docx");
        assert_eq!(cut.chars().count(), MAX_NAME_CHARS);
        assert!(cut.starts_with("整改整改") && cut.ends_with(".docx"), "{cut}");
    }

    #[test]
    fn download_names_carry_the_real_extension() {
        let mut a = Attachment {
            id: AttachmentId::new(),
            hazard_id: HazardId::new(),
            role: AttachmentRole::Before,
            event_id: HazardEventId::new(),
            position: 1,
            sha256: "a".repeat(64),
            media_type: "image/jpeg".into(),
            kind: "image".into(),
            extension: "jpg".into(),
            size: 1,
            file_name: "IMG_0001.JPEG".into(),
            has_thumbnail: true,
            width: None,
            height: None,
            orientation: None,
            taken_at: None,
            taken_offset_known: false,
            gps: None,
            uploaded_by_user_id: None,
            uploaded_by: "t".into(),
            uploaded_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(a.download_name(), "IMG_0001.JPEG");
        a.file_name = "现场".into();
        assert_eq!(a.download_name(), "现场.jpg");
        a.file_name = "现场.png".into();
        assert_eq!(a.download_name(), "现场.png.jpg");
        assert_eq!((a.kind_label(false), a.kind_label(true)), ("图片", "image"));
    }

    #[test]
    fn roles_parse_from_codes_and_labels() {
        for r in AttachmentRole::ALL {
            assert_eq!(AttachmentRole::parse(r.as_str()), Some(r));
            assert_eq!(AttachmentRole::parse(r.label_zh()), Some(r));
            assert_eq!(AttachmentRole::parse(&r.label_en().to_uppercase()), Some(r));
        }
        assert_eq!(AttachmentRole::parse("photo"), None);
        for k in [FileKind::Image, FileKind::Pdf, FileKind::Ofd, FileKind::Word, FileKind::Spreadsheet, FileKind::Presentation, FileKind::Text] {
            assert_eq!(kind_of(kind_code(k)), Some(k));
        }
    }
}

/// How long a stored file is spared after it was written (or put again),
/// whether or not a record refers to it yet: an upload is stored before
/// the transaction that records it commits.
pub const ORPHAN_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// A stored file no attachment refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrphanFile {
    pub sha256: String,
    pub size: u64,
    /// Since it was last written, in seconds.
    pub age_seconds: u64,
    /// Deleted by this run.
    pub removed: bool,
}

/// What a garbage collection of the attachment store found and did.
#[derive(Clone, Debug, Default)]
pub struct FilesGc {
    pub orphans: Vec<OrphanFile>,
    /// Temporary files left by a crash, older than the grace period.
    pub temporaries: Vec<std::path::PathBuf>,
    /// Whether anything was deleted (otherwise a dry run).
    pub applied: bool,
}

impl Service {
    /// Finds the stored files that no attachment row refers to and that
    /// are older than [`ORPHAN_GRACE`] (a hazard refused after its photos
    /// were stored, a transaction rolled back), and with `apply` deletes
    /// them, their thumbnails and stale temporary files. A file put again
    /// meanwhile, or recorded meanwhile, is kept.
    pub async fn collect_orphan_files(&self, apply: bool) -> Result<FilesGc> {
        let svc = self.clone();
        let (aged, temporaries) = join(tokio::task::spawn_blocking(move || {
            svc.file_store()?.older_than(ORPHAN_GRACE).map_err(|e| DomainError::new(ErrorCode::Internal, e.zh(), e.en()))
        }))
        .await??;
        let mut orphans = Vec::new();
        let mut tx = self.db.read().await?;
        for f in aged {
            if store::references(&mut tx, &f.sha256).await? == 0 {
                orphans.push(OrphanFile { sha256: f.sha256, size: f.size, age_seconds: f.age.as_secs(), removed: false });
            }
        }
        tx.commit().await?;
        if !apply {
            return Ok(FilesGc { orphans, temporaries, applied: false });
        }
        let svc = self.clone();
        let (orphans, temporaries) = join(tokio::task::spawn_blocking(move || {
            let files = svc.file_store()?;
            let mut done = Vec::with_capacity(orphans.len());
            for mut o in orphans {
                o.removed = files.remove_if_unused(&o.sha256, ORPHAN_GRACE).map_err(|e| DomainError::new(ErrorCode::Internal, e.zh(), e.en()))?;
                done.push(o);
            }
            let mut removed_temps = Vec::new();
            for t in temporaries {
                if std::fs::remove_file(&t).is_ok() {
                    removed_temps.push(t);
                }
            }
            Ok::<_, DomainError>((done, removed_temps))
        }))
        .await??;
        Ok(FilesGc { orphans, temporaries, applied: true })
    }
}
