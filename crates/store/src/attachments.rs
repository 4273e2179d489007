//! Attachments: one row per uploaded file (what the bytes are, what a photo
//! says about when and where it was taken, who uploaded it) and the links
//! that put it on a hazard, in a role, added by one timeline event.
//!
//! The bytes themselves live in the content-addressed file store
//! (`bihuan-files`), named by `sha256`; the same bytes uploaded twice are one
//! file on disk and two rows here, each with its own name and uploader.
//! Rows and links are never updated or deleted.

use crate::{run, Result, StoreError, Ts, Tx};
use bihuan_domain::ids::*;
use time::OffsetDateTime;
use uuid::Uuid;

/// One uploaded file as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct AttachmentRow {
    pub id: AttachmentId,
    /// SHA-256 of the bytes, lowercase hex: the file's name in the file store.
    pub sha256: String,
    /// Recognised from the bytes, e.g. `image/jpeg`.
    pub media_type: String,
    /// `image`, `pdf`, `ofd`, `word`, `spreadsheet`, `presentation`, `text`.
    pub kind: String,
    /// Extension matching the content, without the dot.
    pub extension: String,
    pub size: i64,
    /// The uploader's file name, sanitised.
    pub file_name: String,
    pub has_thumbnail: bool,
    /// Displayed dimensions (EXIF orientation applied), for decoded images.
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// EXIF orientation 1–8, for decoded images.
    pub orientation: Option<i32>,
    /// EXIF `DateTimeOriginal` as an instant.
    pub taken_at: Option<OffsetDateTime>,
    /// EXIF `OffsetTimeOriginal` in minutes east of UTC, when the camera wrote one.
    pub taken_offset: Option<i32>,
    /// WGS-84 degrees (south and west negative) and metres.
    pub gps_latitude: Option<f64>,
    pub gps_longitude: Option<f64>,
    pub gps_altitude: Option<f64>,
    pub uploaded_by_user_id: Option<UserId>,
    /// The uploader's name as shown.
    pub uploaded_by: String,
    pub uploaded_at: OffsetDateTime,
}

/// An attachment on a hazard.
#[derive(Clone, Debug, PartialEq)]
pub struct HazardAttachmentRow {
    pub hazard_id: HazardId,
    /// `before`, `after` or `document`.
    pub role: String,
    /// The timeline event that added it.
    pub event_id: HazardEventId,
    /// Upload order on the hazard: 1, 2, 3, …
    pub position: i32,
    pub attachment: AttachmentRow,
}

const COLUMNS: &str = "a.id, a.sha256, a.media_type, a.kind, a.extension, a.size, a.file_name, a.has_thumbnail, a.width, a.height, \
    a.orientation, a.taken_at, a.taken_offset, a.gps_latitude, a.gps_longitude, a.gps_altitude, a.uploaded_by_user_id, a.uploaded_by, \
    a.uploaded_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    sha256: String,
    media_type: String,
    kind: String,
    extension: String,
    size: i64,
    file_name: String,
    has_thumbnail: bool,
    width: Option<i32>,
    height: Option<i32>,
    orientation: Option<i32>,
    taken_at: Option<OffsetDateTime>,
    taken_offset: Option<i32>,
    gps_latitude: Option<f64>,
    gps_longitude: Option<f64>,
    gps_altitude: Option<f64>,
    uploaded_by_user_id: Option<Uuid>,
    uploaded_by: String,
    uploaded_at: OffsetDateTime,
}

impl From<Row> for AttachmentRow {
    fn from(r: Row) -> AttachmentRow {
        AttachmentRow {
            id: AttachmentId(r.id),
            sha256: r.sha256,
            media_type: r.media_type,
            kind: r.kind,
            extension: r.extension,
            size: r.size,
            file_name: r.file_name,
            has_thumbnail: r.has_thumbnail,
            width: r.width,
            height: r.height,
            orientation: r.orientation,
            taken_at: r.taken_at,
            taken_offset: r.taken_offset,
            gps_latitude: r.gps_latitude,
            gps_longitude: r.gps_longitude,
            gps_altitude: r.gps_altitude,
            uploaded_by_user_id: r.uploaded_by_user_id.map(UserId),
            uploaded_by: r.uploaded_by,
            uploaded_at: r.uploaded_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    hazard_id: Uuid,
    role: String,
    event_id: Uuid,
    position: i32,
    #[sqlx(flatten)]
    attachment: Row,
}

impl From<LinkRow> for HazardAttachmentRow {
    fn from(r: LinkRow) -> HazardAttachmentRow {
        HazardAttachmentRow {
            hazard_id: HazardId(r.hazard_id),
            role: r.role,
            event_id: HazardEventId(r.event_id),
            position: r.position,
            attachment: r.attachment.into(),
        }
    }
}

/// Records an upload.
pub async fn insert(tx: &mut Tx, a: &AttachmentRow) -> Result<()> {
    let sql = "INSERT INTO attachment (id, sha256, media_type, kind, extension, size, file_name, has_thumbnail, width, height, orientation, \
               taken_at, taken_offset, gps_latitude, gps_longitude, gps_altitude, uploaded_by_user_id, uploaded_by, uploaded_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)";
    run!(tx, |c| {
        sqlx::query(sql)
            .bind(a.id.0)
            .bind(&a.sha256)
            .bind(&a.media_type)
            .bind(&a.kind)
            .bind(&a.extension)
            .bind(a.size)
            .bind(&a.file_name)
            .bind(a.has_thumbnail)
            .bind(a.width)
            .bind(a.height)
            .bind(a.orientation)
            .bind(a.taken_at.map(Ts))
            .bind(a.taken_offset)
            .bind(a.gps_latitude)
            .bind(a.gps_longitude)
            .bind(a.gps_altitude)
            .bind(a.uploaded_by_user_id.map(|u| u.0))
            .bind(&a.uploaded_by)
            .bind(Ts(a.uploaded_at))
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

/// Puts an attachment on a hazard after the ones already there; returns its
/// position. Call [`lock_hazard`] first in the same transaction, so that two
/// writers do not take the same position.
pub async fn link(tx: &mut Tx, hazard: HazardId, attachment: AttachmentId, role: &str, event: HazardEventId) -> Result<i32> {
    let position: i32 = run!(tx, |c| {
        sqlx::query_scalar::<_, i32>("SELECT CAST(COALESCE(MAX(position), 0) + 1 AS INTEGER) FROM hazard_attachment WHERE hazard_id = $1")
            .bind(hazard.0)
            .fetch_one(&mut *c)
            .await?
    });
    let sql = "INSERT INTO hazard_attachment (hazard_id, attachment_id, role, event_id, position) VALUES ($1, $2, $3, $4, $5)";
    run!(tx, |c| {
        sqlx::query(sql).bind(hazard.0).bind(attachment.0).bind(role).bind(event.0).bind(position).execute(&mut *c).await?;
    });
    Ok(position)
}

/// Takes the write lock of a hazard's row without changing it (PostgreSQL;
/// SQLite write transactions are serialised already), so that attaching
/// waits for a concurrent change of the hazard and sees its outcome.
/// [`StoreError::NotFound`] when there is no such hazard.
pub async fn lock_hazard(tx: &mut Tx, hazard: HazardId) -> Result<()> {
    let n = run!(tx, |c| {
        sqlx::query("UPDATE hazard SET version = version WHERE id = $1").bind(hazard.0).execute(&mut *c).await?.rows_affected()
    });
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The newest timeline event of a hazard (the one a command just wrote).
pub async fn latest_event(tx: &mut Tx, hazard: HazardId) -> Result<Option<HazardEventId>> {
    let sql = "SELECT id FROM hazard_event WHERE hazard_id = $1 ORDER BY seq DESC LIMIT 1";
    let id: Option<Uuid> = run!(tx, |c| sqlx::query_scalar(sql).bind(hazard.0).fetch_optional(&mut *c).await?);
    Ok(id.map(HazardEventId))
}

pub async fn get(tx: &mut Tx, id: AttachmentId) -> Result<Option<AttachmentRow>> {
    let sql = format!("SELECT {COLUMNS} FROM attachment a WHERE a.id = $1");
    let row: Option<Row> = run!(tx, |c| sqlx::query_as(&sql).bind(id.0).fetch_optional(&mut *c).await?);
    Ok(row.map(Into::into))
}

/// The attachments of a hazard in upload order.
pub async fn of_hazard(tx: &mut Tx, hazard: HazardId) -> Result<Vec<HazardAttachmentRow>> {
    let sql = format!(
        "SELECT l.hazard_id, l.role, l.event_id, l.position, {COLUMNS} FROM hazard_attachment l \
         JOIN attachment a ON a.id = l.attachment_id WHERE l.hazard_id = $1 ORDER BY l.position"
    );
    let rows: Vec<LinkRow> = run!(tx, |c| sqlx::query_as(&sql).bind(hazard.0).fetch_all(&mut *c).await?);
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Every hazard an attachment is on (for deciding who may read it), oldest link first.
pub async fn links(tx: &mut Tx, id: AttachmentId) -> Result<Vec<HazardAttachmentRow>> {
    let sql = format!(
        "SELECT l.hazard_id, l.role, l.event_id, l.position, {COLUMNS} FROM hazard_attachment l \
         JOIN attachment a ON a.id = l.attachment_id WHERE l.attachment_id = $1 ORDER BY l.event_id"
    );
    let rows: Vec<LinkRow> = run!(tx, |c| sqlx::query_as(&sql).bind(id.0).fetch_all(&mut *c).await?);
    Ok(rows.into_iter().map(Into::into).collect())
}

/// How many uploads have these bytes (0: the stored file is no longer referenced).
pub async fn references(tx: &mut Tx, sha256: &str) -> Result<i64> {
    Ok(run!(tx, |c| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM attachment WHERE sha256 = $1").bind(sha256).fetch_one(&mut *c).await?
    }))
}
