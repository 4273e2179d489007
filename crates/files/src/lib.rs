//! The attachment store: hazard photos (before and after rectification) and documents
//! (治理方案 PDFs, Word files, spreadsheets).
//!
//! Synchronous and domain-free; the async service calls it through `spawn_blocking`.
//!
//! # Layout on disk
//!
//! ```text
//! <root>/objects/ab/cd/<sha256>     the bytes, named by the lowercase hex SHA-256 of the bytes
//! <root>/thumbs/ab/<sha256>.jpg     the thumbnail of an image, if one could be made
//! ```
//!
//! Files are content-addressed, so putting the same bytes twice stores them once and returns the
//! same [`StoredFile`]. Every file is written to a temporary `.tmp-*` file in its final directory,
//! fsynced, then renamed into place and the directory fsynced: the final name only ever holds a
//! complete file, whatever crashes. A leftover `.tmp-*` file (after a crash) is never read and can
//! be deleted at any time. Several threads or processes putting the same content at once is safe:
//! each writes its own temporary file and the renames replace identical content atomically.
//!
//! The store keeps no metadata of its own: [`StoredFile`] is computed from the bytes and is for
//! the caller (the service) to record next to the hazard.
//!
//! # Accepted types
//!
//! The type is recognised from the bytes ([`FileStore::inspect`]), never from the name or a
//! client header:
//!
//! | kind | formats |
//! |---|---|
//! | [`FileKind::Image`] | JPEG, PNG, WebP, GIF (decoded, thumbnail); HEIC/HEIF (stored as is) |
//! | [`FileKind::Pdf`] | PDF (must end with `%%EOF`, so truncated uploads are caught) |
//! | [`FileKind::Ofd`] | OFD, China's fixed-layout format for official documents (GB/T 33190) |
//! | [`FileKind::Word`] | DOCX; legacy DOC (also what WPS writes) |
//! | [`FileKind::Spreadsheet`] | XLSX; legacy XLS |
//! | [`FileKind::Presentation`] | PPTX; legacy PPT |
//! | [`FileKind::Text`] | plain text and CSV in UTF-8, UTF-16 with BOM, or GB18030/GBK |
//!
//! Refused, with a message that says what was seen: programs and installers, scripts, HTML, XML and
//! SVG (SVG can carry script), plain ZIP/RAR/7z archives, Office templates, Office documents with
//! macros (`.docm`, `.xlsm`, VBA in a `.doc`/`.xls`), password-protected Office documents (they
//! can be neither checked nor read by a reviewer), AVIF, BMP, TIFF, audio and video.
//!
//! HEIC/HEIF photos (the iPhone default) are stored but get neither a thumbnail nor an
//! [`ImageInfo`]: there is no pure-Rust HEVC decoder. Browsers upload JPEG from iPhones in most
//! cases; the UI shows a HEIC attachment as a file icon.
//!
//! # Images
//!
//! Width and height are read from the header and an image over [`Limits::max_pixels`] is refused
//! before decoding. The image is then decoded completely: an image that cannot be decoded at all is
//! refused as [`FileError::Damaged`] rather than stored, because the user can still retake the
//! photo, and a broken photo proves nothing later. The JPEG decoder is lenient and would paint
//! the missing part of a cut-off upload grey, so a JPEG without its end-of-image marker is refused
//! as damaged too; other damage inside the compressed data of a complete JPEG may still decode
//! with grey or smeared blocks and is stored.
//!
//! EXIF `Orientation`, `DateTimeOriginal`, `OffsetTimeOriginal` and the GPS position are kept in
//! [`ImageInfo`]. The thumbnail is upright (orientation applied) and has no EXIF, so it never
//! carries the position; the original file does, which the web layer must keep in mind before
//! showing originals of anonymous public reports.

mod error;
mod photo;
mod sniff;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

pub use error::FileError;

/// Limits applied to every upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted file, in bytes. Default 10 MiB.
    pub max_bytes: u64,
    /// Largest accepted image, in pixels (width × height from the header, checked before
    /// decoding). Default 50 megapixels: above any phone's main camera in normal mode, far below
    /// what would exhaust memory (an RGBA decode of 50 MP is 200 MB).
    pub max_pixels: u64,
    /// Longest edge of thumbnails, in pixels. Default 320.
    pub thumb_edge: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 10 * 1024 * 1024,
            max_pixels: 50_000_000,
            thumb_edge: 320,
        }
    }
}

/// What a file is, for choosing an icon, a viewer and the rules that apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A photo or picture: JPEG, PNG, WebP, GIF, HEIC/HEIF.
    Image,
    /// A PDF document.
    Pdf,
    /// An OFD document (版式文档, GB/T 33190), the format of Chinese electronic official documents.
    Ofd,
    /// A Word document: DOCX or legacy DOC.
    Word,
    /// A spreadsheet: XLSX or legacy XLS.
    Spreadsheet,
    /// A presentation: PPTX or legacy PPT.
    Presentation,
    /// Plain text or CSV.
    Text,
}

impl FileKind {
    /// Name of the kind in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            FileKind::Image => "图片",
            FileKind::Pdf => "PDF 文档",
            FileKind::Ofd => "OFD 文档",
            FileKind::Word => "Word 文档",
            FileKind::Spreadsheet => "Excel 表格",
            FileKind::Presentation => "PowerPoint 演示文稿",
            FileKind::Text => "文本",
        }
    }

    /// Name of the kind in English.
    pub fn en(self) -> &'static str {
        match self {
            FileKind::Image => "image",
            FileKind::Pdf => "PDF document",
            FileKind::Ofd => "OFD document",
            FileKind::Word => "Word document",
            FileKind::Spreadsheet => "spreadsheet",
            FileKind::Presentation => "presentation",
            FileKind::Text => "text",
        }
    }
}

/// A file as stored (or as it would be stored, from [`FileStore::inspect`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFile {
    /// SHA-256 of the bytes, 64 lowercase hex digits: the file's id in the store.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type recognised from the bytes, e.g. `image/jpeg`; use it as `Content-Type`.
    pub media_type: &'static str,
    /// Kind of file.
    pub kind: FileKind,
    /// Extension without the dot (`jpg`, `docx`, …) matching the content, for download names.
    pub extension: &'static str,
    /// Dimensions and EXIF data, for images that were decoded (not HEIC).
    pub image: Option<ImageInfo>,
    /// Whether a thumbnail exists (or, from `inspect`, would be made).
    pub has_thumbnail: bool,
}

/// Dimensions and EXIF data of a decoded image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageInfo {
    /// Width as displayed, after the EXIF orientation is applied.
    pub width: u32,
    /// Height as displayed, after the EXIF orientation is applied.
    pub height: u32,
    /// EXIF orientation, 1–8 (1 when absent or invalid). 5–8 swap width and height.
    pub orientation: u16,
    /// EXIF `DateTimeOriginal`: the camera's local wall time when the photo was taken. Cameras
    /// set it from their own clock; treat it as a claim, not as proof.
    pub taken_at: Option<time::PrimitiveDateTime>,
    /// EXIF `OffsetTimeOriginal`, the UTC offset of `taken_at`, when the camera wrote it.
    pub taken_offset: Option<time::UtcOffset>,
    /// GPS position, when the camera wrote one.
    pub gps: Option<Gps>,
}

/// A GPS position as written in EXIF: WGS-84 by the EXIF standard. Maps in China use GCJ-02;
/// converting is the display layer's business.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gps {
    /// Degrees, south negative.
    pub latitude: f64,
    /// Degrees, west negative.
    pub longitude: f64,
    /// Metres above sea level, below negative.
    pub altitude: Option<f64>,
}

/// A directory of content-addressed files and their thumbnails.
#[derive(Debug, Clone)]
pub struct FileStore {
    objects: PathBuf,
    thumbs: PathBuf,
    limits: Limits,
}

impl FileStore {
    /// Open the store at `root`, creating `root/objects` and `root/thumbs` when missing.
    pub fn open(root: impl Into<PathBuf>, limits: Limits) -> Result<FileStore, FileError> {
        let root = root.into();
        let objects = root.join("objects");
        let thumbs = root.join("thumbs");
        fs::create_dir_all(&objects)?;
        fs::create_dir_all(&thumbs)?;
        Ok(FileStore {
            objects,
            thumbs,
            limits,
        })
    }

    /// The limits this store applies.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Check `bytes` and store them with their thumbnail. Idempotent: the same bytes give the
    /// same result and are stored once. `declared_name` (the client's file name) is only used to
    /// tell CSV from plain text.
    pub fn put(&self, bytes: &[u8], declared_name: Option<&str>) -> Result<StoredFile, FileError> {
        let sha256 = check_size(bytes, &self.limits)?;
        let thumb_dir = self.thumb_dir(&sha256);
        let thumb_name = format!("{sha256}.jpg");
        let thumb_present = thumb_dir.join(&thumb_name).is_file();
        let (mut stored, thumbnail) =
            examine(bytes, sha256, declared_name, &self.limits, !thumb_present)?;
        write_atomic(
            &self.objects,
            &self.object_dir(&stored.sha256),
            &stored.sha256,
            bytes,
        )?;
        if let Some(thumbnail) = thumbnail {
            write_atomic(&self.thumbs, &thumb_dir, &thumb_name, &thumbnail)?;
        }
        stored.has_thumbnail =
            stored.has_thumbnail && (thumb_present || thumb_dir.join(&thumb_name).is_file());
        Ok(stored)
    }

    /// Everything [`FileStore::put`] checks and reads, without writing: size, type, image
    /// header, a full decode of images, EXIF. The thumbnail is not encoded (encoding a decoded
    /// image cannot fail), but `has_thumbnail` says whether `put` would make one.
    pub fn inspect(
        bytes: &[u8],
        declared_name: Option<&str>,
        limits: &Limits,
    ) -> Result<StoredFile, FileError> {
        let sha256 = check_size(bytes, limits)?;
        examine(bytes, sha256, declared_name, limits, false).map(|(stored, _)| stored)
    }

    /// Open the stored file with this id for reading.
    pub fn open_file(&self, sha256: &str) -> Result<File, FileError> {
        check_id(sha256)?;
        open_existing(&self.object_dir(sha256).join(sha256))
    }

    /// Open the thumbnail of the stored file with this id: `Ok(None)` when the file exists but has
    /// no thumbnail (documents, HEIC), [`FileError::NotFound`] when there is no such file.
    pub fn thumbnail(&self, sha256: &str) -> Result<Option<File>, FileError> {
        check_id(sha256)?;
        match open_existing(&self.thumb_dir(sha256).join(format!("{sha256}.jpg"))) {
            Ok(file) => Ok(Some(file)),
            Err(FileError::NotFound) if self.exists(sha256) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether a file with this id is stored (false for anything that is not a valid id).
    pub fn exists(&self, sha256: &str) -> bool {
        check_id(sha256).is_ok() && self.object_dir(sha256).join(sha256).is_file()
    }

    /// Every stored file last written (or put again) longer than `age` ago,
    /// with its size and age; and leftover temporary files (`.tmp-*`, from a
    /// crash) as old, as paths. For the garbage collection: which of these no
    /// record refers to is for the caller to say.
    pub fn older_than(&self, age: Duration) -> Result<(Vec<AgedFile>, Vec<PathBuf>), FileError> {
        let now = SystemTime::now();
        let (mut files, mut temps) = (Vec::new(), Vec::new());
        for a in read_dirs(&self.objects)? {
            for b in read_dirs(&a)? {
                for entry in fs::read_dir(&b)? {
                    let entry = entry?;
                    let meta = entry.metadata()?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let file_age = now.duration_since(meta.modified()?).unwrap_or_default();
                    if !meta.is_file() || file_age < age {
                        continue;
                    }
                    if name.starts_with(".tmp-") {
                        temps.push(entry.path());
                    } else if check_id(&name).is_ok() && self.object_dir(&name) == b {
                        files.push(AgedFile { sha256: name, size: meta.len(), age: file_age });
                    }
                }
            }
        }
        files.sort_by(|x, y| x.sha256.cmp(&y.sha256));
        Ok((files, temps))
    }

    /// Deletes a stored file and its thumbnail if it is still older than
    /// `age`; returns whether it did. Safe against [`FileStore::put`] of the
    /// same bytes at the same moment: the file is first renamed away, so a
    /// put from then on writes it anew, and one that refreshed it just before
    /// is seen by its age after the rename, and the file is put back.
    pub fn remove_if_unused(&self, sha256: &str, age: Duration) -> Result<bool, FileError> {
        check_id(sha256)?;
        let dir = self.object_dir(sha256);
        let path = dir.join(sha256);
        let aside = dir.join(format!(".tmp-gc-{}-{sha256}", std::process::id()));
        match fs::rename(&path, &aside) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        let fresh = fs::metadata(&aside)
            .and_then(|m| m.modified())
            .map(|t| SystemTime::now().duration_since(t).unwrap_or_default() < age)?;
        if fresh {
            // Put again meanwhile: back in place (a new copy has the same bytes).
            fs::rename(&aside, &path)?;
            return Ok(false);
        }
        fs::remove_file(&aside)?;
        match fs::remove_file(self.thumb_dir(sha256).join(format!("{sha256}.jpg"))) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        Ok(true)
    }

    fn object_dir(&self, sha256: &str) -> PathBuf {
        let (a, b) = (
            sha256.get(0..2).unwrap_or("00"),
            sha256.get(2..4).unwrap_or("00"),
        );
        self.objects.join(a).join(b)
    }

    fn thumb_dir(&self, sha256: &str) -> PathBuf {
        self.thumbs.join(sha256.get(0..2).unwrap_or("00"))
    }
}

/// A stored file and how long ago it was last written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgedFile {
    pub sha256: String,
    pub size: u64,
    pub age: Duration,
}

/// The subdirectories of `dir` (none when `dir` is missing).
fn read_dirs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    match fs::read_dir(dir) {
        Ok(entries) => {
            for e in entries {
                let e = e?;
                if e.file_type()?.is_dir() {
                    out.push(e.path());
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    out.sort();
    Ok(out)
}

/// Refuse empty and oversized files; return the hex SHA-256.
fn check_size(bytes: &[u8], limits: &Limits) -> Result<String, FileError> {
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size == 0 {
        return Err(FileError::Empty);
    }
    if size > limits.max_bytes {
        return Err(FileError::TooLarge {
            size,
            limit: limits.max_bytes,
        });
    }
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// Recognise the bytes and read images; the thumbnail's JPEG bytes when `make_thumbnail`.
fn examine(
    bytes: &[u8],
    sha256: String,
    declared_name: Option<&str>,
    limits: &Limits,
    make_thumbnail: bool,
) -> Result<(StoredFile, Option<Vec<u8>>), FileError> {
    let sniffed = sniff::sniff(bytes, declared_name)?;
    let photo = match sniffed.image {
        Some(sniff::ImageFormat::Heif) | None => None,
        Some(format) => Some(photo::read(
            bytes,
            format,
            sniffed.media_type,
            limits,
            make_thumbnail,
        )?),
    };
    let has_thumbnail = photo.is_some();
    let (image, thumbnail) = match photo {
        Some(photo) => (Some(photo.info), photo.thumbnail),
        None => (None, None),
    };
    let stored = StoredFile {
        sha256,
        size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        media_type: sniffed.media_type,
        kind: sniffed.kind,
        extension: sniffed.extension,
        image,
        has_thumbnail,
    };
    Ok((stored, thumbnail))
}

fn check_id(sha256: &str) -> Result<(), FileError> {
    let valid = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if valid {
        Ok(())
    } else {
        Err(FileError::InvalidId)
    }
}

fn open_existing(path: &Path) -> Result<File, FileError> {
    File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => FileError::NotFound,
        _ => FileError::Io(e),
    })
}

/// Write `bytes` as `dir/name` unless a file of that size is already there: temporary file in
/// `dir`, fsync, rename, fsync of the directory. Directories created on the way (below `base`)
/// are fsynced in their parent so that the new entry survives a crash too.
fn write_atomic(base: &Path, dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let target = dir.join(name);
    if fs::metadata(&target).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64) {
        // Already there: mark it as just stored, so that the garbage
        // collection's grace period ([`FileStore::remove_if_unused`]) covers
        // this upload too. If it vanished meanwhile (collected), write it anew.
        match touch(&target) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    create_dirs_durably(base, dir)?;
    let (temp_path, mut file) = create_temp(dir)?;
    let temp = TempGuard(Some(temp_path));
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    if let Some(path) = &temp.0 {
        fs::rename(path, &target)?;
    }
    temp.disarm();
    sync_dir(dir)
}

/// Sets a file's modification time to now.
fn touch(path: &Path) -> io::Result<()> {
    OpenOptions::new().write(true).open(path)?.set_modified(SystemTime::now())
}

fn create_dirs_durably(base: &Path, dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| p.starts_with(base) && *p != base) {
        create_dirs_durably(base, parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(e),
    }
    match dir.parent() {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A new, exclusively created `.tmp-<pid>-<n>` file in `dir`.
fn create_temp(dir: &Path) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".tmp-{}-{n}", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            // Left by an earlier process with the same pid that crashed: take the next number.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Removes the temporary file unless it was renamed into place.
struct TempGuard(Option<PathBuf>);

impl TempGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}
