//! Recognising a file from its bytes.
//!
//! The name a client sends and the `Content-Type` header are never believed: a photo renamed
//! `report.pdf` is a photo, and an HTML page renamed `photo.jpg` is refused. Recognition works on
//! magic numbers, then looks inside containers: a ZIP is a Word/Excel/PowerPoint document only
//! when its `[Content_Types].xml` declares the matching main part *and* the part's folder
//! (`word/`, `xl/`, `ppt/`) is present; an OLE compound file is a legacy .doc/.xls/.ppt only when
//! it holds the matching stream (`WordDocument`, `Workbook`/`Book`, `PowerPoint Document`).
//!
//! Everything not on the accepted list is refused, and for the common dangerous cases the error
//! names what was seen (a program, a web page, an SVG drawing, a plain archive), so the user knows
//! why.

use std::io::{Cursor, Read};

use crate::{FileError, FileKind};

/// Image formats we accept; all but HEIF are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageFormat {
    Jpeg,
    Png,
    Gif,
    WebP,
    /// HEIC/HEIF: stored, never decoded (no pure-Rust HEVC decoder exists).
    Heif,
}

/// What the bytes turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sniffed {
    pub media_type: &'static str,
    pub kind: FileKind,
    pub extension: &'static str,
    pub image: Option<ImageFormat>,
}

impl Sniffed {
    const fn doc(media_type: &'static str, kind: FileKind, extension: &'static str) -> Sniffed {
        Sniffed {
            media_type,
            kind,
            extension,
            image: None,
        }
    }
    const fn image(
        media_type: &'static str,
        extension: &'static str,
        format: ImageFormat,
    ) -> Sniffed {
        Sniffed {
            media_type,
            kind: FileKind::Image,
            extension,
            image: Some(format),
        }
    }
}

const DOCX: Sniffed = Sniffed::doc(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind::Word,
    "docx",
);
const XLSX: Sniffed = Sniffed::doc(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileKind::Spreadsheet,
    "xlsx",
);
const PPTX: Sniffed = Sniffed::doc(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    FileKind::Presentation,
    "pptx",
);

fn unsupported(detected: &str) -> FileError {
    FileError::Unsupported {
        detected: Some(detected.to_owned()),
    }
}

/// Recognise `bytes`. `declared_name` only chooses between `.csv` and `.txt` for plain text.
pub(crate) fn sniff(bytes: &[u8], declared_name: Option<&str>) -> Result<Sniffed, FileError> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Sniffed::image("image/jpeg", "jpg", ImageFormat::Jpeg));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Sniffed::image("image/png", "png", ImageFormat::Png));
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Ok(Sniffed::image("image/gif", "gif", ImageFormat::Gif));
    }
    if bytes.starts_with(b"RIFF") {
        return match bytes.get(8..12) {
            Some(b"WEBP") => Ok(Sniffed::image("image/webp", "webp", ImageFormat::WebP)),
            Some(b"WAVE") => Err(unsupported("audio/wav")),
            Some(b"AVI ") => Err(unsupported("video/x-msvideo")),
            _ => Err(FileError::Unsupported { detected: None }),
        };
    }
    if bytes.get(4..8) == Some(b"ftyp") {
        return iso_media(bytes);
    }
    if bytes.starts_with(b"%PDF-") {
        // A PDF ends with `%%EOF` (readers look in the last 1024 bytes); without it the upload was
        // cut short.
        let tail = bytes
            .get(bytes.len().saturating_sub(1024)..)
            .unwrap_or(bytes);
        return if contains(tail, b"%%EOF") {
            Ok(Sniffed::doc("application/pdf", FileKind::Pdf, "pdf"))
        } else {
            Err(FileError::Damaged {
                detected: "application/pdf",
            })
        };
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return zip_package(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return compound_file(bytes);
    }
    if let Some(detected) = other_binary(bytes) {
        return Err(unsupported(detected));
    }
    text(bytes, declared_name)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// ISO base media files: HEIC/HEIF photos are accepted, AVIF and video are not.
fn iso_media(bytes: &[u8]) -> Result<Sniffed, FileError> {
    let box_len = bytes
        .get(0..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes);
    let box_end = box_len
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
        .min(bytes.len());
    let major = bytes.get(8..12).unwrap_or_default();
    let compatible = bytes.get(16..box_end).unwrap_or_default();
    let brands: Vec<&[u8]> = std::iter::once(major)
        .chain(compatible.chunks_exact(4))
        .collect();
    let has = |wanted: &[&[u8]]| brands.iter().any(|b| wanted.contains(b));
    if has(&[b"avif", b"avis"]) {
        return Err(unsupported("image/avif"));
    }
    if has(&[
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
    ]) {
        return Ok(Sniffed::image("image/heic", "heic", ImageFormat::Heif));
    }
    if has(&[b"mif1", b"msf1"]) {
        return Ok(Sniffed::image("image/heif", "heif", ImageFormat::Heif));
    }
    if major == b"qt  " {
        return Err(unsupported("video/quicktime"));
    }
    Err(unsupported("video/mp4"))
}

/// Office Open XML and OFD packages; any other ZIP is refused.
fn zip_package(bytes: &[u8]) -> Result<Sniffed, FileError> {
    let damaged = FileError::Damaged {
        detected: "application/zip",
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| damaged)?;
    let names: Vec<String> = archive
        .file_names_raw()
        .map(|raw| String::from_utf8_lossy(raw).into_owned())
        .collect();
    let has_folder = |folder: &str| names.iter().any(|n| n.starts_with(folder));
    let has_file = |file: &str| names.iter().any(|n| n == file);

    if names
        .iter()
        .any(|n| n.to_ascii_lowercase().ends_with("vbaproject.bin"))
    {
        return Err(FileError::ActiveContent {
            detected: "application/vnd.ms-office.vbaProject".to_owned(),
        });
    }
    if has_file("[Content_Types].xml") {
        let mut content_types = Vec::new();
        archive
            .by_name("[Content_Types].xml")
            .and_then(|entry| Ok(entry.take(1 << 20).read_to_end(&mut content_types)?))
            .map_err(|_| FileError::Damaged {
                detected: "application/zip",
            })?;
        let declares = |main: &str| contains_ignore_case(&content_types, main.as_bytes());
        const MACRO_MAINS: [(&str, &str); 4] = [
            (
                "application/vnd.ms-word.document.macroEnabled.main+xml",
                "application/vnd.ms-word.document.macroEnabled.12",
            ),
            (
                "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                "application/vnd.ms-excel.sheet.macroEnabled.12",
            ),
            (
                "application/vnd.ms-excel.sheet.binary.macroEnabled.main",
                "application/vnd.ms-excel.sheet.binary.macroEnabled.12",
            ),
            (
                "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
                "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
            ),
        ];
        if let Some((_, detected)) = MACRO_MAINS.iter().find(|(main, _)| declares(main)) {
            return Err(FileError::ActiveContent {
                detected: (*detected).to_owned(),
            });
        }
        let ooxml = "application/vnd.openxmlformats-officedocument.";
        if declares(&format!("{ooxml}wordprocessingml.document.main+xml")) && has_folder("word/") {
            return Ok(DOCX);
        }
        if declares(&format!("{ooxml}spreadsheetml.sheet.main+xml")) && has_folder("xl/") {
            return Ok(XLSX);
        }
        if declares(&format!("{ooxml}presentationml.presentation.main+xml")) && has_folder("ppt/") {
            return Ok(PPTX);
        }
        // Templates, slide shows, XPS and other OPC packages.
        return Err(unsupported("application/vnd.openxmlformats-package"));
    }
    if has_file("OFD.xml") {
        return Ok(Sniffed::doc("application/ofd", FileKind::Ofd, "ofd"));
    }
    if has_file("AndroidManifest.xml") {
        return Err(unsupported("application/vnd.android.package-archive"));
    }
    if has_file("META-INF/MANIFEST.MF") {
        return Err(unsupported("application/java-archive"));
    }
    if has_file("mimetype") {
        // OpenDocument, EPUB: well-formed packages, but not on the list.
        let mut mimetype = String::new();
        let read = archive
            .by_name("mimetype")
            .map(|e| e.take(200).read_to_string(&mut mimetype));
        if matches!(read, Ok(Ok(_))) && !mimetype.trim().is_empty() && mimetype.is_ascii() {
            return Err(unsupported(mimetype.trim()));
        }
    }
    Err(unsupported("application/zip"))
}

/// OLE compound files: legacy Word, Excel and PowerPoint; installers and the rest are refused.
fn compound_file(bytes: &[u8]) -> Result<Sniffed, FileError> {
    let damaged = FileError::Damaged {
        detected: "application/x-ole-storage",
    };
    let file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|_| damaged)?;
    // `{000C1084-0000-0000-C000-000000000046}` is the class of Windows Installer packages.
    if file
        .root_entry()
        .clsid()
        .to_string()
        .eq_ignore_ascii_case("000c1084-0000-0000-c000-000000000046")
    {
        return Err(unsupported("application/x-msi"));
    }
    let mut streams = Vec::new();
    let mut storages = Vec::new();
    for entry in file.walk() {
        let name = entry.name().to_owned();
        if entry.is_stream() {
            streams.push(name);
        } else if entry.is_storage() {
            storages.push(name);
        }
    }
    let stream = |n: &str| streams.iter().any(|s| s == n);
    let storage = |n: &str| storages.iter().any(|s| s == n);
    if stream("EncryptionInfo") && stream("EncryptedPackage") {
        return Err(FileError::Encrypted);
    }
    let with_macros = storage("Macros") || storage("_VBA_PROJECT_CUR") || storage("VBA");
    let found = if stream("WordDocument") {
        Sniffed::doc("application/msword", FileKind::Word, "doc")
    } else if stream("Workbook") || stream("Book") {
        Sniffed::doc("application/vnd.ms-excel", FileKind::Spreadsheet, "xls")
    } else if stream("PowerPoint Document") {
        Sniffed::doc(
            "application/vnd.ms-powerpoint",
            FileKind::Presentation,
            "ppt",
        )
    } else {
        return Err(unsupported("application/x-ole-storage"));
    };
    if with_macros {
        return Err(FileError::ActiveContent {
            detected: found.media_type.to_owned(),
        });
    }
    Ok(found)
}

/// Binary formats we name in the error so the user sees why; `None` for anything else.
fn other_binary(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 14] = [
        (b"MZ", "application/x-msdownload"),
        (b"\x7fELF", "application/x-executable"),
        (&[0xFE, 0xED, 0xFA, 0xCE], "application/x-mach-binary"),
        (&[0xFE, 0xED, 0xFA, 0xCF], "application/x-mach-binary"),
        (&[0xCE, 0xFA, 0xED, 0xFE], "application/x-mach-binary"),
        (&[0xCF, 0xFA, 0xED, 0xFE], "application/x-mach-binary"),
        (&[0xCA, 0xFE, 0xBA, 0xBE], "application/x-mach-binary"),
        (b"Rar!\x1a\x07", "application/vnd.rar"),
        (
            &[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C],
            "application/x-7z-compressed",
        ),
        (&[0x1F, 0x8B], "application/gzip"),
        (b"II*\0", "image/tiff"),
        (b"MM\0*", "image/tiff"),
        (b"%!PS", "application/postscript"),
        (b"{\\rtf", "application/rtf"),
    ];
    if let Some((_, detected)) = MAGIC.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Some(detected);
    }
    let bmp_header = bytes
        .get(14..18)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes);
    if bytes.starts_with(b"BM") && matches!(bmp_header, Some(12 | 40 | 52 | 56 | 108 | 124)) {
        return Some("image/bmp");
    }
    None
}

/// Plain text (UTF-8, UTF-16 with BOM, or GB18030/GBK as Excel writes CSV on Chinese Windows),
/// unless it is markup or a script.
fn text(bytes: &[u8], declared_name: Option<&str>) -> Result<Sniffed, FileError> {
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    // Work on an 8-bit view for the markup check: for UTF-16 drop the zero high bytes.
    let decoded: Vec<u8> = if utf16 {
        let units = utf16_units(bytes).ok_or(FileError::Unsupported { detected: None })?;
        let text = char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|_| FileError::Unsupported { detected: None })?;
        text.into_bytes()
    } else {
        bytes.to_vec()
    };
    let body = decoded.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&decoded);
    if let Some(detected) = markup(body) {
        return Err(unsupported(detected));
    }
    let controls_ok = body
        .iter()
        .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A));
    let encoding_ok = utf16 || std::str::from_utf8(body).is_ok() || is_gb18030(body);
    if !controls_ok || !encoding_ok || body.contains(&0x7F) {
        return Err(FileError::Unsupported { detected: None });
    }
    let csv = declared_name.is_some_and(|n| n.to_ascii_lowercase().ends_with(".csv"));
    Ok(if csv {
        Sniffed::doc("text/csv", FileKind::Text, "csv")
    } else {
        Sniffed::doc("text/plain", FileKind::Text, "txt")
    })
}

fn utf16_units(bytes: &[u8]) -> Option<Vec<u16>> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let big_endian = bytes.starts_with(&[0xFE, 0xFF]);
    let units = bytes
        .chunks_exact(2)
        .skip(1)
        .filter_map(|pair| <[u8; 2]>::try_from(pair).ok());
    Some(
        units
            .map(|pair| {
                if big_endian {
                    u16::from_be_bytes(pair)
                } else {
                    u16::from_le_bytes(pair)
                }
            })
            .collect(),
    )
}

/// HTML, SVG, XML and scripts. Browsers have sniffed HTML from text in the past, so a tag that
/// runs code or renders a page anywhere near the start is enough to refuse.
fn markup(text: &[u8]) -> Option<&'static str> {
    let trimmed = text.trim_ascii_start();
    if trimmed.starts_with(b"#!") {
        return Some("text/x-shellscript");
    }
    let head = trimmed.get(..1024).unwrap_or(trimmed);
    if contains_ignore_case(head, b"<svg") {
        return Some("image/svg+xml");
    }
    const HTML_TAGS: [&[u8]; 8] = [
        b"<!doctype",
        b"<html",
        b"<script",
        b"<head",
        b"<body",
        b"<iframe",
        b"<object",
        b"<embed",
    ];
    if HTML_TAGS.iter().any(|tag| contains_ignore_case(head, tag)) {
        return Some("text/html");
    }
    if trimmed.starts_with(b"<?xml") {
        return Some("application/xml");
    }
    if trimmed.starts_with(b"<") {
        return Some("text/html");
    }
    None
}

/// Whether `bytes` is well-formed GB18030 (which includes GBK and GB2312): ASCII, two-byte
/// `81–FE 40–FE` (not `7F`) or four-byte `81–FE 30–39 81–FE 30–39` sequences.
fn is_gb18030(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let Some((&first, tail)) = rest.split_first() {
        if first < 0x80 {
            rest = tail;
            continue;
        }
        if !(0x81..=0xFE).contains(&first) {
            return false;
        }
        match tail {
            [second, after @ ..] if (0x40..=0xFE).contains(second) && *second != 0x7F => {
                rest = after
            }
            [second, third, fourth, after @ ..]
                if second.is_ascii_digit()
                    && (0x81..=0xFE).contains(third)
                    && fourth.is_ascii_digit() =>
            {
                rest = after
            }
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb18030_text_is_recognised_and_random_high_bytes_are_not() {
        // "隐患,整改\r\n" in GBK.
        let gbk = [
            0xD2, 0xFE, 0xBB, 0xBC, b',', 0xD5, 0xFB, 0xB8, 0xC4, b'\r', b'\n',
        ];
        assert!(is_gb18030(&gbk));
        assert!(!is_gb18030(&[0xD2]), "a lead byte at the end is cut off");
        assert!(!is_gb18030(&[0x80, 0x41]));
        assert!(!is_gb18030(&[0xFF, 0x41]));
    }
}
