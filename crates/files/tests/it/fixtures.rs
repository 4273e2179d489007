//! Real, minimal files of every type, generated here.

use std::io::{Cursor, Write};

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::{ImageEncoder, Rgb, RgbImage};

pub fn rgb(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| Rgb(pixel(x, y)))
}

pub fn jpeg_of(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(image)
        .unwrap();
    out
}

pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    jpeg_of(&rgb(width, height, |x, y| {
        [(x % 256) as u8, (y % 256) as u8, 128]
    }))
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = rgb(width, height, |x, y| {
        [(x * 7 % 256) as u8, (y * 3 % 256) as u8, 40]
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

pub fn png_rgba(width: u32, height: u32, pixel: [u8; 4]) -> Vec<u8> {
    let image = image::RgbaImage::from_pixel(width, height, image::Rgba(pixel));
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    out
}

pub fn webp(width: u32, height: u32) -> Vec<u8> {
    let image =
        image::RgbaImage::from_fn(width, height, |x, _| image::Rgba([x as u8, 50, 200, 255]));
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(
            image.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    out
}

pub fn gif(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x * 20) as u8, (y * 20) as u8, 0, 255])
    });
    let mut out = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
        encoder
            .encode(
                image.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgba8,
            )
            .unwrap();
    }
    out
}

/// EXIF fields a phone writes.
pub struct ExifSpec {
    pub orientation: Option<u16>,
    pub date_time_original: Option<&'static str>,
    pub offset_time_original: Option<&'static str>,
    /// ((deg, min, sec), ref) for latitude and longitude.
    pub latitude: Option<([f64; 3], &'static str)>,
    pub longitude: Option<([f64; 3], &'static str)>,
    /// (metres, ref: 0 above / 1 below sea level)
    pub altitude: Option<(f64, u8)>,
}

impl ExifSpec {
    pub fn orientation(o: u16) -> ExifSpec {
        ExifSpec {
            orientation: Some(o),
            date_time_original: None,
            offset_time_original: None,
            latitude: None,
            longitude: None,
            altitude: None,
        }
    }
}

fn rational(v: f64) -> Rational {
    Rational {
        num: (v * 1000.0).round() as u32,
        denom: 1000,
    }
}

fn ascii(s: &str) -> Value {
    Value::Ascii(vec![s.as_bytes().to_vec()])
}

/// The TIFF structure of an EXIF block, as kamadak-exif's writer lays it out.
pub fn exif_tiff(spec: &ExifSpec) -> Vec<u8> {
    let mut fields = Vec::new();
    let mut push = |tag, value| {
        fields.push(Field {
            tag,
            ifd_num: In::PRIMARY,
            value,
        })
    };
    if let Some(o) = spec.orientation {
        push(Tag::Orientation, Value::Short(vec![o]));
    }
    if let Some(dt) = spec.date_time_original {
        push(Tag::DateTimeOriginal, ascii(dt));
    }
    if let Some(offset) = spec.offset_time_original {
        push(Tag::OffsetTimeOriginal, ascii(offset));
    }
    if let Some((dms, r)) = spec.latitude {
        push(
            Tag::GPSLatitude,
            Value::Rational(dms.iter().map(|v| rational(*v)).collect()),
        );
        push(Tag::GPSLatitudeRef, ascii(r));
    }
    if let Some((dms, r)) = spec.longitude {
        push(
            Tag::GPSLongitude,
            Value::Rational(dms.iter().map(|v| rational(*v)).collect()),
        );
        push(Tag::GPSLongitudeRef, ascii(r));
    }
    if let Some((metres, r)) = spec.altitude {
        push(Tag::GPSAltitude, Value::Rational(vec![rational(metres)]));
        push(Tag::GPSAltitudeRef, Value::Byte(vec![r]));
    }
    let mut writer = Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut out = Cursor::new(Vec::new());
    writer.write(&mut out, false).unwrap();
    out.into_inner()
}

/// Insert an APP1 `Exif` segment right after the JPEG's SOI marker.
pub fn with_exif(jpeg: &[u8], spec: &ExifSpec) -> Vec<u8> {
    let tiff = exif_tiff(spec);
    let len = u16::try_from(2 + 6 + tiff.len()).unwrap();
    let mut out = Vec::with_capacity(jpeg.len() + tiff.len() + 10);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

pub fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        writer
            .start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(content.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn content_types(main_part: &str, main_type: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/{main_part}" ContentType="{main_type}"/></Types>"#
    )
}

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>"#;

pub fn ooxml(main_part: &str, main_type: &str) -> Vec<u8> {
    zip_of(&[
        ("[Content_Types].xml", &content_types(main_part, main_type)),
        ("_rels/.rels", RELS),
        (main_part, "<document/>"),
    ])
}

pub fn docx() -> Vec<u8> {
    ooxml(
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    )
}

pub fn xlsx() -> Vec<u8> {
    ooxml(
        "xl/workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    )
}

pub fn pptx() -> Vec<u8> {
    ooxml(
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    )
}

/// An OLE compound file with the given streams (path, content) and storages.
pub fn ole(storages: &[&str], streams: &[(&str, &[u8])], clsid: Option<uuid::Uuid>) -> Vec<u8> {
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    for storage in storages {
        file.create_storage(storage).unwrap();
    }
    for (path, content) in streams {
        file.create_stream(path)
            .unwrap()
            .write_all(content)
            .unwrap();
    }
    if let Some(clsid) = clsid {
        file.set_storage_clsid("/", clsid).unwrap();
    }
    file.flush().unwrap();
    file.into_inner().into_inner()
}

pub fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// An ISO-BMFF `ftyp` box with these brands, followed by an empty `meta` box.
pub fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
    let size = 16 + 4 * compatible.len() as u32;
    let mut out = size.to_be_bytes().to_vec();
    out.extend_from_slice(b"ftyp");
    out.extend_from_slice(major);
    out.extend_from_slice(&0u32.to_be_bytes());
    for brand in compatible {
        out.extend_from_slice(*brand);
    }
    out.extend_from_slice(&[0, 0, 0, 12]);
    out.extend_from_slice(b"meta");
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}
