//! Photos and documents on hazards, on both engines: what is kept of a
//! photo, thumbnails, one copy on disk for the same bytes, refusals that
//! name the file, who may see what, one event and one audit entry per
//! upload, files taken with a transition, and no files on a closed hazard.

use crate::{as_user, unit};
use crate::scenario;
use bihuan_domain::hazard::{HazardDraft, HazardState};
use bihuan_domain::ids::{AttachmentId, HazardId};
use bihuan_domain::role::Role;
use bihuan_domain::ErrorCode;
use bihuan_service::attachments::{AttachmentRole, Upload};
use bihuan_service::hazards::{ActionInput, PlanInput};
use bihuan_service::password::Hasher;
use bihuan_service::{Ctx, Service, Settings};
use bihuan_store::audit::AuditFilter;
use bihuan_store::Db;
use bihuan_testkit::TestClock;
use exif::{Field, In, Rational, Tag, Value};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const LIMIT: u64 = 256 * 1024;

/// A directory of its own for the file store, removed at the end.
struct FilesDir(PathBuf);

impl Drop for FilesDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn service(db: Db) -> (Service, FilesDir) {
    let dir = FilesDir(std::env::temp_dir().join(format!("bihuan-attachments-{}", uuid::Uuid::now_v7())));
    let clock = Arc::new(TestClock::at(time::macros::datetime!(2021-05-01 10:00 +08:00)));
    let settings = Settings { password: Hasher::for_tests(), files_dir: dir.0.clone(), max_upload_bytes: LIMIT, ..Default::default() };
    (Service::new(db, clock, settings), dir)
}

/// Files in the store's `objects/` (temporary files aside).
fn stored_objects(root: &Path) -> usize {
    fn walk(p: &Path) -> usize {
        std::fs::read_dir(p)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let path = e.path();
                        if path.is_dir() {
                            walk(&path)
                        } else {
                            usize::from(!e.file_name().to_string_lossy().starts_with(".tmp"))
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&root.join("objects"))
}

/// A JPEG of 40×20 pixels as stored, with EXIF orientation 6 (shown 20×40),
/// the time taken without a UTC offset, and a GPS position in Shanghai.
fn phone_photo(shade: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(40, 20, |x, y| image::Rgb([(x * 6) as u8, (y * 12) as u8, shade]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&img).unwrap();
    let r = |v: f64| Rational { num: (v * 1000.0).round() as u32, denom: 1000 };
    let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let fields = [
        (Tag::Orientation, Value::Short(vec![6])),
        (Tag::DateTimeOriginal, ascii("2021:04:30 16:20:05")),
        (Tag::GPSLatitude, Value::Rational(vec![r(31.0), r(17.0), r(30.0)])),
        (Tag::GPSLatitudeRef, ascii("N")),
        (Tag::GPSLongitude, Value::Rational(vec![r(121.0), r(18.0), r(0.0)])),
        (Tag::GPSLongitudeRef, ascii("E")),
        (Tag::GPSAltitude, Value::Rational(vec![r(12.5)])),
        (Tag::GPSAltitudeRef, Value::Byte(vec![0])),
    ]
    .map(|(tag, value)| Field { tag, ifd_num: In::PRIMARY, value });
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    // An APP1 "Exif" segment right after the start-of-image marker.
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(2 + 6 + tiff.len()).unwrap().to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

fn upload(bytes: Vec<u8>, name: &str, role: AttachmentRole) -> Upload {
    Upload { bytes, file_name: name.into(), role }
}

/// Timeline events and audit entries of a hazard.
async fn counts(svc: &Service, id: HazardId) -> (usize, usize) {
    let d = svc.hazard_detail(&Ctx::system("t"), id).await.unwrap();
    let audit = svc
        .audit_log(&Ctx::system("t"), &AuditFilter { entity_id: Some(id.to_string()), limit: 1000, ..Default::default() })
        .await
        .unwrap();
    (d.events.len(), audit.len())
}

fn read_all(mut f: std::fs::File) -> Vec<u8> {
    let mut v = Vec::new();
    f.read_to_end(&mut v).unwrap();
    v
}

async fn photos_and_documents(db: Db) {
    let (svc, dir) = service(db);
    svc.first_start(Some("Admin-pass-1")).await.unwrap();
    let gov = svc.home_unit().await.unwrap();
    let units = svc.list_units(&Ctx::system("t"), &Default::default()).await.unwrap();
    let office_unit = units.iter().find(|u| u.name == "镇安全生产专项整治三年行动领导小组办公室").unwrap().id;
    let village = unit(&svc, gov, "红翔村", "locality").await;
    let grid = unit(&svc, village, "红翔村第一网格", "grid").await;
    let firm = unit(&svc, grid, "上海甲机械有限公司", "enterprise").await;
    let other_firm = unit(&svc, grid, "上海乙食品有限公司", "enterprise").await;
    let office = as_user(&svc, "office", Role::Office, office_unit).await;
    let boss = as_user(&svc, "firm", Role::Enterprise, firm).await;
    let stranger = as_user(&svc, "other", Role::Enterprise, other_firm).await;

    let draft = HazardDraft {
        unit_id: Some(firm.to_string()),
        name: "配电箱门缺失".into(),
        description: "二号车间配电箱无门，带电部位裸露".into(),
        hazard_type: Some("电气".into()),
        level: Some("一般隐患".into()),
        ..Default::default()
    };
    let h = svc.report_hazard(&boss, &draft, None).await.unwrap();
    assert_eq!(counts(&svc, h.id).await, (1, 1));

    // A phone photo and a plan: what the bytes say is kept, the name is cleaned.
    let photo = phone_photo(90);
    let started = std::time::Instant::now();
    let added = svc
        .attach_to_hazard(
            &boss,
            h.id,
            vec![
                upload(photo.clone(), "C:\\fakepath\\配电箱 现场.jpg", AttachmentRole::Before),
                upload(pdf(), "治理方案.pdf", AttachmentRole::Document),
            ],
            Some(" 现场照片及治理方案 ".into()),
        )
        .await
        .unwrap();
    println!("attaching a photo and a PDF took {:?}", started.elapsed());
    assert_eq!(added.len(), 2);
    let (p, d) = (&added[0], &added[1]);
    assert_eq!((p.role, p.position, d.role, d.position), (AttachmentRole::Before, 1, AttachmentRole::Document, 2));
    assert_eq!(p.event_id, d.event_id, "one event for the upload");
    assert_eq!((p.file_name.as_str(), p.media_type.as_str(), p.kind.as_str()), ("配电箱 现场.jpg", "image/jpeg", "image"));
    assert_eq!(p.size, photo.len() as i64);
    assert_eq!((p.width, p.height, p.orientation), (Some(20), Some(40), Some(6)), "displayed upright");
    assert_eq!(p.taken_at, Some(time::macros::datetime!(2021-04-30 16:20:05 +08:00)));
    assert_eq!(p.taken_at.unwrap().offset(), time::macros::offset!(+8), "no offset written: Beijing time");
    assert!(!p.taken_offset_known);
    let gps = p.gps.unwrap();
    assert!((gps.latitude - 31.291_666).abs() < 1e-5, "{}", gps.latitude);
    assert!((gps.longitude - 121.3).abs() < 1e-9, "{}", gps.longitude);
    assert_eq!(gps.altitude, Some(12.5));
    assert!(p.has_thumbnail && !d.has_thumbnail);
    assert_eq!((p.uploaded_by.as_str(), p.uploaded_by_user_id), ("firm姓名", boss.actor().map(|a| a.user_id)));
    assert_eq!((d.kind.as_str(), d.media_type.as_str(), d.gps, d.taken_at, d.width), ("pdf", "application/pdf", None, None, None));
    assert_eq!(d.download_name(), "治理方案.pdf");

    // One event and one audit entry; the event lists the files.
    assert_eq!(counts(&svc, h.id).await, (2, 2));
    let detail = svc.hazard_detail(&office, h.id).await.unwrap();
    let ev = detail.events.last().unwrap();
    assert_eq!((ev.id, ev.action.as_str(), ev.from_state, ev.to_state), (p.event_id, "attach", Some(HazardState::Reported), HazardState::Reported));
    assert_eq!(ev.comment.as_deref(), Some("现场照片及治理方案"));
    let names: Vec<&str> = ev.data["files"].as_array().unwrap().iter().map(|f| f["file_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["配电箱 现场.jpg", "治理方案.pdf"]);
    let audit = svc
        .audit_log(&Ctx::system("t"), &AuditFilter { entity_id: Some(h.id.to_string()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert!(audit.iter().any(|e| e.action == "hazard.attach" && e.after.as_deref().is_some_and(|a| a.contains(&p.sha256))), "the audit chain covers the bytes");

    // The original comes back as uploaded; the thumbnail is upright.
    let (a, file) = svc.open_attachment(&office, p.id, false).await.unwrap();
    assert_eq!(a, *p);
    assert_eq!(read_all(file), photo);
    let (_, thumb) = svc.open_attachment(&boss, p.id, true).await.unwrap();
    let thumb = image::load_from_memory(&read_all(thumb)).unwrap();
    assert!(thumb.height() > thumb.width(), "orientation applied: {}×{}", thumb.width(), thumb.height());
    assert_eq!(svc.open_attachment(&boss, d.id, true).await.unwrap_err().code, ErrorCode::NotFound, "a PDF has no thumbnail");
    let (_, file) = svc.open_attachment(&boss, d.id, false).await.unwrap();
    assert_eq!(read_all(file), pdf());

    // The same photo again, as a photo after rectification: one file on disk, linked twice.
    assert_eq!(stored_objects(&dir.0), 2);
    let again = svc.attach_to_hazard(&boss, h.id, vec![upload(photo.clone(), "IMG_0001.JPG", AttachmentRole::After)], None).await.unwrap();
    assert_eq!(stored_objects(&dir.0), 2, "content-addressed");
    let all = svc.hazard_attachments(&boss, h.id).await.unwrap();
    assert_eq!(all.iter().map(|a| (a.position, a.role)).collect::<Vec<_>>(), [(1, AttachmentRole::Before), (2, AttachmentRole::Document), (3, AttachmentRole::After)]);
    assert_eq!(all[2], again[0]);
    assert_eq!(all[2].sha256, p.sha256);
    assert_ne!(all[2].id, p.id);
    assert_eq!(counts(&svc, h.id).await, (3, 3));

    // Refusals name the file and write nothing, not even the good files beside them.
    let html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".to_vec();
    let e = svc
        .attach_to_hazard(
            &boss,
            h.id,
            vec![upload(phone_photo(10), "好照片.jpg", AttachmentRole::Before), upload(html, "照片.jpg", AttachmentRole::Before)],
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
    assert!(e.zh.contains("“照片.jpg”") && e.zh.contains("网页"), "{e}");
    assert!(e.en.contains("\"照片.jpg\"") && e.en.contains("web page"), "{e}");
    let big = vec![b'a'; LIMIT as usize + 1];
    let e = svc.attach_to_hazard(&boss, h.id, vec![upload(big, "检查记录.txt", AttachmentRole::Document)], None).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
    assert!(e.zh.contains("“检查记录.txt”") && e.zh.contains("0.2 MB"), "{e}");
    let e = svc.attach_to_hazard(&boss, h.id, vec![upload(pdf(), "整改后.pdf", AttachmentRole::After)], None).await.unwrap_err();
    assert!(e.zh.contains("“整改后.pdf”不是照片"), "{e}");
    let e = svc.attach_to_hazard(&boss, h.id, vec![], None).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
    assert_eq!(svc.hazard_attachments(&boss, h.id).await.unwrap().len(), 3);
    assert_eq!(counts(&svc, h.id).await, (3, 3));

    // Whoever cannot see the hazard finds neither it nor its files, and stores nothing.
    let objects = stored_objects(&dir.0);
    let e = svc.attach_to_hazard(&stranger, h.id, vec![upload(phone_photo(200), "x.jpg", AttachmentRole::Before)], None).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert_eq!(stored_objects(&dir.0), objects, "nothing reached the disk");
    assert_eq!(svc.hazard_attachments(&stranger, h.id).await.unwrap_err().code, ErrorCode::NotFound);
    for thumbnail in [false, true] {
        let e = svc.open_attachment(&stranger, p.id, thumbnail).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
        assert_eq!(e.zh, svc.open_attachment(&stranger, AttachmentId::new(), thumbnail).await.unwrap_err().zh, "same answer as for no file");
    }
    assert_eq!(svc.attach_to_hazard(&boss, HazardId::new(), vec![upload(pdf(), "a.pdf", AttachmentRole::Document)], None).await.unwrap_err().code, ErrorCode::NotFound);

    // Photos of the rectification go in with the submission, on its event.
    let mut assign = ActionInput { action: "assign".into(), responsible_person: Some("李四".into()), deadline_days: Some(10), ..Default::default() };
    assign.comment = Some("请按期整改".into());
    svc.act_on_hazard(&office, h.id, &assign).await.unwrap();
    let plan = PlanInput {
        measures: Some("加装配电箱门并上锁".into()),
        funds: Some("0.1".into()),
        contingency: Some("整改前设置警示围栏".into()),
        ..Default::default()
    };
    svc.plan_hazard(&boss, h.id, &plan).await.unwrap();
    let before = counts(&svc, h.id).await;
    let submit = ActionInput { action: "submit".into(), rectification: Some("已加装箱门并上锁".into()), ..Default::default() };
    let fixed = phone_photo(150);
    let (next, after) = svc
        .act_on_hazard_with_files(&boss, h.id, &submit, vec![upload(fixed.clone(), "整改后.jpg", AttachmentRole::After)])
        .await
        .unwrap();
    assert_eq!(next.state, HazardState::Submitted);
    assert_eq!((after.len(), after[0].position, after[0].role), (1, 4, AttachmentRole::After));
    assert_eq!(counts(&svc, h.id).await, (before.0 + 1, before.1 + 2), "the submit event; its audit entry and the files'");
    let detail = svc.hazard_detail(&boss, h.id).await.unwrap();
    let ev = detail.events.last().unwrap();
    assert_eq!((ev.action.as_str(), ev.id), ("submit", after[0].event_id));
    // A refused transition takes no files with it.
    let accept = ActionInput { action: "accept".into(), ..Default::default() };
    let e = svc.act_on_hazard_with_files(&stranger, h.id, &accept, vec![upload(pdf(), "验收.pdf", AttachmentRole::Document)]).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);

    // Accepted and closed: no more files.
    let closed = svc.act_on_hazard(&office, h.id, &accept).await.unwrap();
    assert_eq!(closed.state, HazardState::Closed);
    let before = counts(&svc, h.id).await;
    let e = svc.attach_to_hazard(&office, h.id, vec![upload(pdf(), "验收报告.pdf", AttachmentRole::Document)], None).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.zh.contains("已销号"), "{e}");
    assert_eq!(counts(&svc, h.id).await, before);
    // Still readable, in order.
    let all = svc.hazard_attachments(&office, h.id).await.unwrap();
    assert_eq!(all.iter().map(|a| a.position).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let (_, file) = svc.open_attachment(&office, all[3].id, false).await.unwrap();
    assert_eq!(read_all(file), fixed);
}

scenario!(photos_and_documents => sqlite_photos_and_documents, postgres_photos_and_documents);
