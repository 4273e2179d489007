//! The type comes from the bytes: every accepted type, and the refusals users will meet.

use bihuan_files::{FileError, FileKind};

use crate::fixtures::*;
use crate::{inspect, refused_as};

fn kind_of(bytes: &[u8], name: Option<&str>) -> (&'static str, FileKind, &'static str) {
    let stored = inspect(bytes, name).unwrap();
    (stored.media_type, stored.kind, stored.extension)
}

#[test]
fn images_are_recognised_whatever_their_name() {
    assert_eq!(
        kind_of(&jpeg(8, 8), Some("方案.pdf")),
        ("image/jpeg", FileKind::Image, "jpg")
    );
    assert_eq!(
        kind_of(&png(8, 8), Some("photo.jpg")),
        ("image/png", FileKind::Image, "png")
    );
    assert_eq!(
        kind_of(&webp(8, 8), None),
        ("image/webp", FileKind::Image, "webp")
    );
    assert_eq!(
        kind_of(&gif(8, 8), None),
        ("image/gif", FileKind::Image, "gif")
    );
    for bytes in [jpeg(30, 20), png(30, 20), webp(30, 20), gif(30, 20)] {
        let stored = inspect(&bytes, None).unwrap();
        let info = stored.image.unwrap();
        assert_eq!((info.width, info.height), (30, 20), "{}", stored.media_type);
        assert!(stored.has_thumbnail);
    }
}

#[test]
fn heic_is_accepted_without_thumbnail_or_image_info() {
    let heic = inspect(&ftyp(b"heic", &[b"mif1", b"heic"]), Some("IMG_0001.HEIC")).unwrap();
    assert_eq!(
        (heic.media_type, heic.kind, heic.extension),
        ("image/heic", FileKind::Image, "heic")
    );
    assert!(!heic.has_thumbnail);
    assert_eq!(heic.image, None);
    let heif = inspect(&ftyp(b"mif1", &[b"mif1"]), None).unwrap();
    assert_eq!(heif.media_type, "image/heif");
    assert_eq!(
        refused_as(&ftyp(b"avif", &[b"mif1", b"avif"])).as_deref(),
        Some("image/avif")
    );
    assert_eq!(
        refused_as(&ftyp(b"isom", &[b"isom", b"mp42"])).as_deref(),
        Some("video/mp4")
    );
}

#[test]
fn pdf_is_accepted_and_a_truncated_pdf_is_damaged() {
    assert_eq!(
        kind_of(&pdf(), Some("治理方案.pdf")),
        ("application/pdf", FileKind::Pdf, "pdf")
    );
    let cut = &pdf()[..60];
    assert!(matches!(
        inspect(cut, None),
        Err(FileError::Damaged {
            detected: "application/pdf"
        })
    ));
}

#[test]
fn ooxml_documents_are_told_apart_from_each_other_and_from_zip() {
    assert_eq!(kind_of(&docx(), Some("a.zip")).1, FileKind::Word);
    assert_eq!(kind_of(&docx(), None).2, "docx");
    assert_eq!(
        kind_of(&xlsx(), Some("a.docx")),
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Spreadsheet,
            "xlsx"
        )
    );
    assert_eq!(kind_of(&pptx(), None).1, FileKind::Presentation);
    assert_eq!(
        refused_as(&zip_of(&[("readme.txt", "hello"), ("photo.jpg", "x")])).as_deref(),
        Some("application/zip")
    );
    assert_eq!(
        refused_as(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0").as_deref(),
        Some("application/zip")
    );
    assert_eq!(
        refused_as(&zip_of(&[(
            "META-INF/MANIFEST.MF",
            "Manifest-Version: 1.0"
        )]))
        .as_deref(),
        Some("application/java-archive")
    );
    // A [Content_Types].xml that names a Word main part without the part's folder is not a
    // Word document.
    let hollow = zip_of(&[(
        "[Content_Types].xml",
        "<Types><Override ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>",
    )]);
    assert!(refused_as(&hollow).is_some());
    // A word/ folder alone does not make a document either.
    assert_eq!(
        refused_as(&zip_of(&[("word/document.xml", "<w/>")])).as_deref(),
        Some("application/zip")
    );
}

#[test]
fn ofd_official_documents_are_accepted() {
    let ofd = zip_of(&[
        ("OFD.xml", "<ofd:OFD/>"),
        ("Doc_0/Document.xml", "<ofd:Document/>"),
    ]);
    assert_eq!(
        kind_of(&ofd, None),
        ("application/ofd", FileKind::Ofd, "ofd")
    );
}

#[test]
fn office_documents_with_macros_are_refused() {
    let docm = ooxml(
        "word/document.xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml",
    );
    assert!(matches!(
        inspect(&docm, Some("a.docx")),
        Err(FileError::ActiveContent { .. })
    ));
    let mut entries = vec![("xl/vbaProject.bin", "VBA")];
    let content_types = "<Types><Override ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/></Types>";
    entries.push(("[Content_Types].xml", content_types));
    entries.push(("xl/workbook.xml", "<workbook/>"));
    assert!(matches!(
        inspect(&zip_of(&entries), None),
        Err(FileError::ActiveContent { .. })
    ));
    let doc_with_macros = ole(
        &["Macros"],
        &[("WordDocument", b"\xEC\xA5"), ("Macros/VBA", b"x")],
        None,
    );
    let err = inspect(&doc_with_macros, None).unwrap_err();
    assert!(
        matches!(&err, FileError::ActiveContent { detected } if detected == "application/msword"),
        "{err:?}"
    );
    assert!(err.zh().contains("宏"), "{}", err.zh());
    assert!(err.en().contains("macros"), "{}", err.en());
}

#[test]
fn legacy_office_files_are_recognised_by_their_streams() {
    let doc = ole(
        &[],
        &[("WordDocument", b"\xEC\xA5\xC1\x00"), ("1Table", b"t")],
        None,
    );
    assert_eq!(
        kind_of(&doc, Some("整改通知.doc")),
        ("application/msword", FileKind::Word, "doc")
    );
    let xls = ole(&[], &[("Workbook", b"\x09\x08")], None);
    assert_eq!(
        kind_of(&xls, None),
        ("application/vnd.ms-excel", FileKind::Spreadsheet, "xls")
    );
    let xls95 = ole(&[], &[("Book", b"\x09\x08")], None);
    assert_eq!(kind_of(&xls95, None).2, "xls");
    let ppt = ole(&[], &[("PowerPoint Document", b"p")], None);
    assert_eq!(kind_of(&ppt, None).1, FileKind::Presentation);
    let encrypted = ole(
        &[],
        &[("EncryptionInfo", b"i"), ("EncryptedPackage", b"p")],
        None,
    );
    assert!(matches!(
        inspect(&encrypted, Some("台账.xlsx")),
        Err(FileError::Encrypted)
    ));
    let other = ole(&[], &[("Contents", b"c")], None);
    assert_eq!(
        refused_as(&other).as_deref(),
        Some("application/x-ole-storage")
    );
    let msi_class = uuid::Uuid::parse_str("000C1084-0000-0000-C000-000000000046").unwrap();
    let msi = ole(&[], &[("WordDocument", b"disguised")], Some(msi_class));
    assert_eq!(refused_as(&msi).as_deref(), Some("application/x-msi"));
    let mut broken = doc.clone();
    broken.truncate(600);
    assert!(matches!(
        inspect(&broken, None),
        Err(FileError::Damaged { .. })
    ));
}

#[test]
fn text_and_csv_are_accepted_in_the_encodings_excel_writes() {
    let utf8 = "隐患名称,整改期限\r\n消防通道堵塞,2024-05-01\r\n".as_bytes();
    assert_eq!(
        kind_of(utf8, Some("台账.CSV")),
        ("text/csv", FileKind::Text, "csv")
    );
    assert_eq!(
        kind_of(utf8, Some("notes")),
        ("text/plain", FileKind::Text, "txt")
    );
    assert_eq!(kind_of(utf8, None).2, "txt");
    let bom: Vec<u8> = [b"\xEF\xBB\xBF".as_slice(), utf8].concat();
    assert_eq!(kind_of(&bom, Some("a.csv")).0, "text/csv");
    // "隐患,整改\r\n" as GBK, what Excel writes on Chinese Windows.
    let gbk = [
        0xD2, 0xFE, 0xBB, 0xBC, b',', 0xD5, 0xFB, 0xB8, 0xC4, b'\r', b'\n',
    ];
    assert_eq!(kind_of(&gbk, Some("a.csv")).1, FileKind::Text);
    // Excel's "Unicode text": UTF-16LE with BOM.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("隐患\t整改\r\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(kind_of(&utf16, Some("a.txt")).1, FileKind::Text);
}

#[test]
fn programs_markup_archives_and_binary_junk_are_refused_naming_what_they_are() {
    let exe = [b"MZ\x90\x00\x03\x00\x00\x00".as_slice(), &[0u8; 64]].concat();
    assert_eq!(
        refused_as(&exe).as_deref(),
        Some("application/x-msdownload")
    );
    assert_eq!(
        refused_as(b"\x7fELF\x02\x01\x01\0\0\0").as_deref(),
        Some("application/x-executable")
    );
    assert_eq!(
        refused_as(b"#!/bin/sh\nrm -rf /\n").as_deref(),
        Some("text/x-shellscript")
    );
    assert_eq!(
        refused_as(b"<!DOCTYPE html><html><body>hi</body></html>").as_deref(),
        Some("text/html")
    );
    assert_eq!(
        refused_as(b"  \n<p onclick=\"x()\">hi</p>").as_deref(),
        Some("text/html")
    );
    assert_eq!(
        refused_as(b"name,value\nx,<script>alert(1)</script>\n").as_deref(),
        Some("text/html")
    );
    let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    assert_eq!(refused_as(svg).as_deref(), Some("image/svg+xml"));
    assert_eq!(
        refused_as(b"\xEF\xBB\xBF<SVG onload=\"x()\"/>").as_deref(),
        Some("image/svg+xml")
    );
    assert_eq!(
        refused_as(b"<?xml version=\"1.0\"?><a/>").as_deref(),
        Some("application/xml")
    );
    assert_eq!(
        refused_as(b"{\\rtf1\\ansi hello}").as_deref(),
        Some("application/rtf")
    );
    assert_eq!(
        refused_as(b"Rar!\x1a\x07\x01\x00").as_deref(),
        Some("application/vnd.rar")
    );
    assert_eq!(
        refused_as(&[0x1F, 0x8B, 8, 0, 0, 0]).as_deref(),
        Some("application/gzip")
    );
    assert_eq!(
        refused_as(b"II*\0\x08\0\0\0").as_deref(),
        Some("image/tiff")
    );
    assert_eq!(refused_as(b"SQLite format 3\0\x10\0"), None);
    assert_eq!(
        refused_as(&[0x80, 0x81, 0xFF, 0xFE, 0x20]),
        None,
        "high bytes that are neither UTF-8 nor GBK"
    );

    let err = inspect(&exe, Some("照片.jpg")).unwrap_err();
    assert!(err.zh().contains("可执行程序"), "{}", err.zh());
    assert!(
        err.zh().contains("JPEG"),
        "the message lists what is accepted: {}",
        err.zh()
    );
    assert!(err.en().contains("program"), "{}", err.en());
    let err = inspect(svg, None).unwrap_err();
    assert!(
        err.zh().contains("SVG") && err.en().contains("script"),
        "{} / {}",
        err.zh(),
        err.en()
    );
}
