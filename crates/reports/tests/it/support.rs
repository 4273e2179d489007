use bihuan_reports::ColumnSpec;
use std::io::{Read, Write};

/// The columns a hazard import asks for.
pub const HAZARD_SPECS: &[ColumnSpec] = &[
    ColumnSpec { key: "unit", aliases: &["单位名称", "企业名称", "责任单位"], required: true },
    ColumnSpec { key: "title", aliases: &["隐患名称", "问题隐患名称", "隐患内容"], required: true },
    ColumnSpec { key: "found_on", aliases: &["发现日期", "检查日期"], required: true },
    ColumnSpec { key: "deadline", aliases: &["整改期限", "整改时限"], required: false },
    ColumnSpec { key: "funds", aliases: &["整改资金"], required: false },
    ColumnSpec { key: "count", aliases: &["数量"], required: false },
];

/// The text of one part of a zip file (xlsx).
pub fn zip_part(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut part = archive.by_name(name).unwrap();
    let mut text = String::new();
    part.read_to_string(&mut text).unwrap();
    text
}

/// A minimal OpenDocument spreadsheet whose `content.xml` body is `table`.
pub fn ods(table: &str) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    out.start_file("mimetype", stored).unwrap();
    out.write_all(b"application/vnd.oasis.opendocument.spreadsheet").unwrap();
    out.start_file("META-INF/manifest.xml", stored).unwrap();
    out.write_all(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#,
    )
    .unwrap();
    out.start_file("content.xml", stored).unwrap();
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet>{table}</office:spreadsheet></office:body></office:document-content>"#
    );
    out.write_all(content.as_bytes()).unwrap();
    out.finish().unwrap().into_inner()
}
