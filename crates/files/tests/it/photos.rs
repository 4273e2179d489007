//! Photos: orientation, EXIF, decompression bombs, damaged images, thumbnails.

use std::io::Read;

use bihuan_files::{FileError, FileStore, Limits};
use image::Rgb;
use time::macros::{datetime, offset};

use crate::fixtures::*;
use crate::inspect;

const RED: [u8; 3] = [255, 0, 0];
const GREEN: [u8; 3] = [0, 255, 0];
const BLUE: [u8; 3] = [0, 0, 255];
const WHITE: [u8; 3] = [255, 255, 255];

/// 400×200 as stored: red top-left, green top-right, blue bottom-left, white bottom-right.
fn quadrants() -> Vec<u8> {
    jpeg_of(&rgb(400, 200, |x, y| match (x < 200, y < 100) {
        (true, true) => RED,
        (false, true) => GREEN,
        (true, false) => BLUE,
        (false, false) => WHITE,
    }))
}

fn close(pixel: &Rgb<u8>, expected: [u8; 3]) -> bool {
    pixel
        .0
        .iter()
        .zip(expected)
        .all(|(a, b)| a.abs_diff(b) < 40)
}

fn store() -> (tempfile::TempDir, FileStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path(), Limits::default()).unwrap();
    (dir, store)
}

fn thumbnail_of(store: &FileStore, sha256: &str) -> image::RgbImage {
    let mut bytes = Vec::new();
    store
        .thumbnail(sha256)
        .unwrap()
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    assert!(
        bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "thumbnails are JPEG"
    );
    image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8()
}

#[test]
fn a_portrait_phone_photo_with_orientation_6_comes_out_upright() {
    let (_dir, store) = store();
    let stored = store
        .put(&with_exif(&quadrants(), &ExifSpec::orientation(6)), None)
        .unwrap();
    let info = stored.image.unwrap();
    assert_eq!(
        (info.width, info.height, info.orientation),
        (200, 400, 6),
        "dimensions as displayed"
    );

    // Orientation 6: rotate 90° clockwise to display. The stored left column becomes the top row.
    let thumb = thumbnail_of(&store, &stored.sha256);
    assert_eq!(thumb.dimensions(), (160, 320), "longest edge 320, portrait");
    let (w, h) = thumb.dimensions();
    let corner = |x: u32, y: u32| thumb.get_pixel(x, y);
    assert!(close(corner(10, 10), BLUE), "top-left {:?}", corner(10, 10));
    assert!(
        close(corner(w - 10, 10), RED),
        "top-right {:?}",
        corner(w - 10, 10)
    );
    assert!(
        close(corner(10, h - 10), WHITE),
        "bottom-left {:?}",
        corner(10, h - 10)
    );
    assert!(
        close(corner(w - 10, h - 10), GREEN),
        "bottom-right {:?}",
        corner(w - 10, h - 10)
    );
}

#[test]
fn a_photo_without_orientation_keeps_its_layout() {
    let (_dir, store) = store();
    let stored = store.put(&quadrants(), None).unwrap();
    let info = stored.image.unwrap();
    assert_eq!((info.width, info.height, info.orientation), (400, 200, 1));
    let thumb = thumbnail_of(&store, &stored.sha256);
    assert_eq!(thumb.dimensions(), (320, 160));
    assert!(close(thumb.get_pixel(10, 10), RED));
    assert!(close(thumb.get_pixel(310, 150), WHITE));
}

#[test]
fn orientation_3_turns_the_photo_upside_down_and_small_images_are_not_enlarged() {
    let (_dir, store) = store();
    let small = jpeg_of(&rgb(60, 40, |_, y| if y < 20 { RED } else { BLUE }));
    let stored = store
        .put(&with_exif(&small, &ExifSpec::orientation(3)), None)
        .unwrap();
    let thumb = thumbnail_of(&store, &stored.sha256);
    assert_eq!(thumb.dimensions(), (60, 40));
    assert!(
        close(thumb.get_pixel(30, 5), BLUE),
        "the bottom is now on top"
    );
}

#[test]
fn exif_time_offset_and_gps_are_kept() {
    let spec = ExifSpec {
        orientation: Some(1),
        date_time_original: Some("2024:03:15 14:30:05"),
        offset_time_original: Some("+08:00"),
        latitude: Some(([31.0, 17.0, 30.0], "N")),
        longitude: Some(([121.0, 18.0, 0.0], "E")),
        altitude: Some((12.5, 0)),
    };
    let info = inspect(&with_exif(&jpeg(32, 24), &spec), None)
        .unwrap()
        .image
        .unwrap();
    assert_eq!(info.taken_at, Some(datetime!(2024-03-15 14:30:05)));
    assert_eq!(info.taken_offset, Some(offset!(+8)));
    let gps = info.gps.unwrap();
    assert!((gps.latitude - 31.291_666).abs() < 1e-5, "{}", gps.latitude);
    assert!((gps.longitude - 121.3).abs() < 1e-9, "{}", gps.longitude);
    assert_eq!(gps.altitude, Some(12.5));
}

#[test]
fn southern_and_western_positions_and_depths_are_negative() {
    let spec = ExifSpec {
        orientation: None,
        date_time_original: Some("2023:12:31 23:59:59"),
        offset_time_original: None,
        latitude: Some(([33.0, 52.0, 0.0], "S")),
        longitude: Some(([70.0, 30.0, 0.0], "W")),
        altitude: Some((3.0, 1)),
    };
    let info = inspect(&with_exif(&jpeg(32, 24), &spec), None)
        .unwrap()
        .image
        .unwrap();
    assert_eq!(info.orientation, 1);
    assert_eq!(info.taken_at, Some(datetime!(2023-12-31 23:59:59)));
    assert_eq!(info.taken_offset, None);
    let gps = info.gps.unwrap();
    assert!((gps.latitude + 33.866_666).abs() < 1e-5, "{}", gps.latitude);
    assert!((gps.longitude + 70.5).abs() < 1e-9, "{}", gps.longitude);
    assert_eq!(gps.altitude, Some(-3.0));
}

#[test]
fn photos_without_exif_or_with_unset_clocks_have_no_time_or_position() {
    let info = inspect(&jpeg(16, 16), None).unwrap().image.unwrap();
    assert_eq!(
        (info.taken_at, info.taken_offset, info.gps),
        (None, None, None)
    );
    let spec = ExifSpec {
        orientation: Some(9), // not a valid orientation
        date_time_original: Some("0000:00:00 00:00:00"),
        offset_time_original: None,
        latitude: Some(([95.0, 0.0, 0.0], "N")), // out of range
        longitude: Some(([121.0, 0.0, 0.0], "E")),
        altitude: None,
    };
    let info = inspect(&with_exif(&jpeg(16, 16), &spec), None)
        .unwrap()
        .image
        .unwrap();
    assert_eq!((info.orientation, info.taken_at, info.gps), (1, None, None));
}

#[test]
fn thumbnails_carry_no_exif_so_no_position() {
    let (_dir, store) = store();
    let spec = ExifSpec {
        orientation: Some(6),
        date_time_original: None,
        offset_time_original: None,
        latitude: Some(([31.0, 0.0, 0.0], "N")),
        longitude: Some(([121.0, 0.0, 0.0], "E")),
        altitude: None,
    };
    let stored = store.put(&with_exif(&jpeg(64, 48), &spec), None).unwrap();
    let mut thumb = Vec::new();
    store
        .thumbnail(&stored.sha256)
        .unwrap()
        .unwrap()
        .read_to_end(&mut thumb)
        .unwrap();
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&thumb));
    assert!(exif.is_err(), "the thumbnail has EXIF");
}

#[test]
fn transparent_png_thumbnails_are_white_not_black() {
    let (_dir, store) = store();
    let stored = store.put(&png_rgba(10, 10, [0, 0, 0, 0]), None).unwrap();
    let thumb = thumbnail_of(&store, &stored.sha256);
    assert!(
        close(thumb.get_pixel(5, 5), WHITE),
        "{:?}",
        thumb.get_pixel(5, 5)
    );
}

/// Patch the frame header of a JPEG to claim `width`×`height`.
fn claim_dimensions(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let sof = out.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    out
}

#[test]
fn decompression_bombs_are_refused_from_the_header_before_decoding() {
    // A 16×16 JPEG whose header claims 8000×8000 (64 MP > 50 MP): the lenient JPEG decoder would
    // happily produce 192 MB of grey from it if we decoded first.
    let bomb = claim_dimensions(&jpeg(16, 16), 8000, 8000);
    assert!(bomb.len() < 2000);
    let started = std::time::Instant::now();
    let err = inspect(&bomb, None).unwrap_err();
    assert!(
        matches!(
            err,
            FileError::ImageTooLarge {
                width: 8000,
                height: 8000,
                max_pixels: 50_000_000
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "no decoding happened"
    );
    assert!(
        err.zh().contains("8000×8000") && err.zh().contains("5000 万像素"),
        "{}",
        err.zh()
    );
    assert!(err.en().contains("50 megapixels"), "{}", err.en());

    let limits = Limits {
        max_pixels: 10_000,
        ..Limits::default()
    };
    for bytes in [png(101, 100), gif(101, 100), webp(101, 100)] {
        let err = FileStore::inspect(&bytes, None, &limits).unwrap_err();
        assert!(
            matches!(
                err,
                FileError::ImageTooLarge {
                    width: 101,
                    height: 100,
                    ..
                }
            ),
            "{err:?}"
        );
    }
    assert!(
        FileStore::inspect(&png(100, 100), None, &limits).is_ok(),
        "the limit itself is allowed"
    );
}

#[test]
fn images_that_cannot_be_decoded_are_refused_as_damaged() {
    let photo = jpeg(64, 64);
    // Cut inside the headers: nothing can be decoded.
    let err = inspect(&photo[..40], None).unwrap_err();
    assert!(
        matches!(
            err,
            FileError::Damaged {
                detected: "image/jpeg"
            }
        ),
        "{err:?}"
    );
    // Cut short by a broken upload: the decoder would fill the rest with grey.
    for cut in [photo.len() / 2, photo.len() - 2, 700] {
        let err = inspect(&photo[..cut], None).unwrap_err();
        assert!(
            matches!(
                err,
                FileError::Damaged {
                    detected: "image/jpeg"
                }
            ),
            "cut at {cut}: {err:?}"
        );
    }
    assert!(err.zh().contains("损坏") && err.en().contains("damaged"));
    let png = png(64, 64);
    let err = inspect(&png[..png.len() / 2], None).unwrap_err();
    assert!(
        matches!(
            err,
            FileError::Damaged {
                detected: "image/png"
            }
        ),
        "{err:?}"
    );
    let err = inspect(b"GIF89a\x10\x00", None).unwrap_err();
    assert!(
        matches!(
            err,
            FileError::Damaged {
                detected: "image/gif"
            }
        ),
        "{err:?}"
    );
    let err = inspect(b"RIFF\x20\0\0\0WEBPVP8 garbage", None).unwrap_err();
    assert!(
        matches!(
            err,
            FileError::Damaged {
                detected: "image/webp"
            }
        ),
        "{err:?}"
    );
    let (_dir, store) = store();
    assert!(store.put(&photo[..40], None).is_err());
    let sha = bihuan_files_sha(&photo[..40]);
    assert!(!store.exists(&sha), "nothing is written for a refused file");
}

fn bihuan_files_sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn jpegs_with_data_after_the_end_marker_or_an_exif_thumbnail_are_complete() {
    // Motion photos append a video after the JPEG's end-of-image marker.
    let motion = [jpeg(64, 48).as_slice(), b"\0\0\0\x18ftypmp42 video bytes"].concat();
    assert_eq!(inspect(&motion, None).unwrap().image.unwrap().width, 64);
    // An EXIF block holding a complete JPEG (its own FFD9) does not make a cut photo complete.
    let thumb_in_exif = with_exif(&jpeg(64, 48), &ExifSpec::orientation(1));
    let mut app1 = thumb_in_exif[..thumb_in_exif.len() / 2].to_vec();
    app1.splice(2..2, [0xFF, 0xE2, 0x00, 0x06, 0xFF, 0xD9]);
    assert!(matches!(
        inspect(&app1, None),
        Err(FileError::Damaged { .. })
    ));
    assert!(inspect(&with_exif(&jpeg(300, 200), &ExifSpec::orientation(8)), None).is_ok());
}
