//! Photos: dimensions, EXIF (orientation, time taken, GPS) and thumbnails.
//!
//! The order matters for safety and speed: the header is read first and an image announcing more
//! than `max_pixels` is refused before a single pixel is decoded (a 100-byte PNG can claim to be
//! 100 000 × 100 000). Then the whole image is decoded once; an image that cannot be decoded is
//! refused as damaged. The thumbnail is reduced first and rotated after (rotating 320 px is cheaper
//! than rotating 12 megapixels), flattened onto white when it has transparency, and written as a
//! baseline JPEG without any metadata, so thumbnails never carry the GPS position.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, metadata::Orientation};
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use crate::sniff::ImageFormat;
use crate::{FileError, Gps, ImageInfo, Limits};

/// JPEG quality of thumbnails.
const THUMB_QUALITY: u8 = 80;

/// What reading a photo produced.
pub(crate) struct Photo {
    pub info: ImageInfo,
    /// JPEG bytes, when asked for.
    pub thumbnail: Option<Vec<u8>>,
}

/// Read the metadata of an image of `format`, decode it, and make the thumbnail if `make_thumbnail`.
pub(crate) fn read(
    bytes: &[u8],
    format: ImageFormat,
    media_type: &'static str,
    limits: &Limits,
    make_thumbnail: bool,
) -> Result<Photo, FileError> {
    let damaged = FileError::Damaged {
        detected: media_type,
    };
    let format = match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Gif => image::ImageFormat::Gif,
        ImageFormat::WebP => image::ImageFormat::WebP,
        ImageFormat::Heif => return Err(damaged),
    };
    if format == image::ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(damaged);
    }
    let exif = Exif::read(bytes);
    let decoder = ImageReader::with_format(Cursor::new(bytes), format)
        .into_decoder()
        .map_err(|_| damaged)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(FileError::Damaged {
            detected: media_type,
        });
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(FileError::ImageTooLarge {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }
    let image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        ImageError::Limits(_) => FileError::ImageTooLarge {
            width,
            height,
            max_pixels: limits.max_pixels,
        },
        _ => FileError::Damaged {
            detected: media_type,
        },
    })?;
    let orientation = exif.orientation;
    let (width, height) = if orientation >= 5 {
        (height, width)
    } else {
        (width, height)
    };
    let thumbnail = if make_thumbnail {
        Some(thumbnail(&image, orientation, limits.thumb_edge)?)
    } else {
        None
    };
    let info = ImageInfo {
        width,
        height,
        orientation,
        taken_at: exif.taken_at,
        taken_offset: exif.taken_offset,
        gps: exif.gps,
    };
    Ok(Photo { info, thumbnail })
}

/// Whether a JPEG reaches its end-of-image marker. The JPEG decoder is lenient and paints what
/// is missing from a cut-off upload grey; a half-grey photo is no evidence, so we look for the
/// marker ourselves. Segments are walked by their lengths and entropy-coded data is skipped (a
/// `0xFF` there is always followed by `0x00` or a restart marker), so an EOI inside an EXIF
/// thumbnail does not count, and data appended after the EOI (motion photos) does not matter.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2; // after SOI
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        match marker {
            0xD9 => return true,
            0x01 | 0xD0..=0xD7 => at += 2,
            _ => {
                let Some(len) = bytes
                    .get(at + 2..at + 4)
                    .and_then(|b| <[u8; 2]>::try_from(b).ok())
                else {
                    return false;
                };
                at += 2 + usize::from(u16::from_be_bytes(len));
                if marker == 0xDA {
                    // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or
                    // a restart marker.
                    let rest = bytes.get(at..).unwrap_or_default();
                    let next = rest.windows(2).position(|w| {
                        matches!(w, [0xFF, m] if *m != 0x00 && *m != 0xFF && !(0xD0..=0xD7).contains(m))
                    });
                    match next {
                        Some(offset) => at += offset,
                        None => return false,
                    }
                }
            }
        }
    }
}

/// Longest edge `edge` (never enlarged), orientation applied, JPEG.
fn thumbnail(image: &DynamicImage, orientation: u16, edge: u32) -> Result<Vec<u8>, FileError> {
    let (w, h) = (image.width(), image.height());
    let longest = w.max(h);
    let edge = edge.max(1);
    let small = if longest > edge {
        let scale = |side: u32| {
            let scaled = u64::from(side) * u64::from(edge) / u64::from(longest);
            u32::try_from(scaled).unwrap_or(edge).max(1)
        };
        image.thumbnail_exact(scale(w), scale(h))
    } else {
        image.clone()
    };
    let mut small = flatten(small);
    let exif_orientation = u8::try_from(orientation)
        .ok()
        .and_then(Orientation::from_exif);
    if let Some(o) = exif_orientation {
        small.apply_orientation(o);
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, THUMB_QUALITY)
        .encode_image(&small)
        .map_err(|e| FileError::Io(std::io::Error::other(e)))?;
    Ok(out)
}

/// JPEG has no transparency: paint transparent pixels over white rather than black.
fn flatten(image: DynamicImage) -> DynamicImage {
    if !image.color().has_alpha() {
        return DynamicImage::ImageRgb8(image.into_rgb8());
    }
    let rgba = image.into_rgba8();
    let rgb = image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let image::Rgba([r, g, b, a]) = *rgba.get_pixel(x, y);
        let over_white = |c: u8| {
            let (c, a) = (u16::from(c), u16::from(a));
            u8::try_from((c * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
        };
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    });
    DynamicImage::ImageRgb8(rgb)
}

/// The EXIF fields we keep. Anything missing or malformed is simply absent: EXIF is written by
/// thousands of phone and camera models, and a bad tag must not cost the user the photo.
pub(crate) struct Exif {
    pub orientation: u16,
    pub taken_at: Option<PrimitiveDateTime>,
    pub taken_offset: Option<UtcOffset>,
    pub gps: Option<Gps>,
}

impl Exif {
    const NONE: Exif = Exif {
        orientation: 1,
        taken_at: None,
        taken_offset: None,
        gps: None,
    };

    pub(crate) fn read(bytes: &[u8]) -> Exif {
        let mut reader = exif::Reader::new();
        reader.continue_on_error(true);
        let parsed = match reader.read_from_container(&mut Cursor::new(bytes)) {
            Ok(parsed) => parsed,
            Err(exif::Error::PartialResult(partial)) => partial.into_inner().0,
            Err(_) => return Exif::NONE,
        };
        let field = |tag| parsed.get_field(tag, exif::In::PRIMARY).map(|f| &f.value);
        let orientation = field(exif::Tag::Orientation)
            .and_then(|v| v.get_uint(0))
            .and_then(|o| u16::try_from(o).ok())
            .filter(|o| (1..=8).contains(o))
            .unwrap_or(1);
        let taken_at = field(exif::Tag::DateTimeOriginal)
            .and_then(ascii)
            .and_then(date_time);
        let taken_offset = field(exif::Tag::OffsetTimeOriginal)
            .and_then(ascii)
            .and_then(offset);
        let gps = gps(&field);
        Exif {
            orientation,
            taken_at,
            taken_offset,
            gps,
        }
    }
}

fn ascii(value: &exif::Value) -> Option<&[u8]> {
    match value {
        exif::Value::Ascii(parts) => parts.first().map(Vec::as_slice),
        _ => None,
    }
}

/// `YYYY:MM:DD HH:MM:SS`, the camera's local wall time.
fn date_time(raw: &[u8]) -> Option<PrimitiveDateTime> {
    let dt = exif::DateTime::from_ascii(raw).ok()?;
    let date =
        Date::from_calendar_date(i32::from(dt.year), Month::try_from(dt.month).ok()?, dt.day)
            .ok()?;
    let time = Time::from_hms(dt.hour, dt.minute, dt.second).ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

/// `+08:00`.
fn offset(raw: &[u8]) -> Option<UtcOffset> {
    let mut dt = exif::DateTime::from_ascii(b"2000:01:01 00:00:00").ok()?;
    dt.parse_offset(raw).ok()?;
    UtcOffset::from_whole_seconds(i32::from(dt.offset?) * 60).ok()
}

fn gps<'a>(field: &impl Fn(exif::Tag) -> Option<&'a exif::Value>) -> Option<Gps> {
    let degrees = |tag| match field(tag)? {
        exif::Value::Rational(parts) if parts.len() == 3 => {
            let mut total = 0.0;
            for (part, unit) in parts.iter().zip([1.0, 60.0, 3600.0]) {
                if part.denom == 0 {
                    return None;
                }
                total += part.to_f64() / unit;
            }
            Some(total)
        }
        _ => None,
    };
    let negative = |tag, letter: u8| {
        field(tag).and_then(ascii).and_then(|r| r.first().copied()) == Some(letter)
    };
    let mut latitude = degrees(exif::Tag::GPSLatitude)?;
    let mut longitude = degrees(exif::Tag::GPSLongitude)?;
    if negative(exif::Tag::GPSLatitudeRef, b'S') {
        latitude = -latitude;
    }
    if negative(exif::Tag::GPSLongitudeRef, b'W') {
        longitude = -longitude;
    }
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return None;
    }
    let altitude = match field(exif::Tag::GPSAltitude) {
        Some(exif::Value::Rational(parts)) => {
            parts.first().filter(|r| r.denom != 0).map(|r| r.to_f64())
        }
        _ => None,
    };
    let below_sea_level =
        matches!(field(exif::Tag::GPSAltitudeRef), Some(v) if v.get_uint(0) == Some(1));
    let altitude = altitude.map(|a| if below_sea_level { -a } else { a });
    Some(Gps {
        latitude,
        longitude,
        altitude,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exif_date_and_offset_parse() {
        let dt = date_time(b"2024:03:15 14:30:05").unwrap();
        assert_eq!(dt.to_string(), "2024-03-15 14:30:05.0");
        assert!(
            date_time(b"0000:00:00 00:00:00").is_none(),
            "cameras write zeros when the clock is unset"
        );
        assert!(date_time(b"    :  :     :  :  ").is_none());
        assert_eq!(
            offset(b"+08:00").unwrap(),
            UtcOffset::from_hms(8, 0, 0).unwrap()
        );
        assert_eq!(
            offset(b"-05:30").unwrap(),
            UtcOffset::from_hms(-5, -30, 0).unwrap()
        );
        assert!(offset(b"   :  ").is_none());
    }

    #[test]
    fn jpeg_end_is_found_past_fill_bytes_stuffing_and_restart_markers() {
        let head: &[u8] = &[0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x04, 0xFF, 0xD9]; // a DQT whose body is FFD9
        let scan: &[u8] = &[
            0xFF, 0xDA, 0x00, 0x03, 0x01, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56,
        ];
        let whole = [head, scan, &[0xFF, 0xFF, 0xD9]].concat();
        assert!(jpeg_is_complete(&whole));
        assert!(!jpeg_is_complete(&whole[..whole.len() - 1]));
        assert!(
            !jpeg_is_complete(&[head, scan].concat()),
            "the FFD9 inside the DQT body does not count"
        );
        let with_fill_between = [head, &[0xFF, 0xFF, 0xDA, 0x00, 0x02, 0x01, 0xFF, 0xD9]].concat();
        assert!(jpeg_is_complete(&with_fill_between));
    }

    #[test]
    fn transparent_pixels_become_white() {
        let rgba = image::RgbaImage::from_pixel(2, 2, image::Rgba([0, 0, 0, 0]));
        let flat = flatten(DynamicImage::ImageRgba8(rgba)).into_rgb8();
        assert_eq!(*flat.get_pixel(0, 0), image::Rgb([255, 255, 255]));
    }
}
