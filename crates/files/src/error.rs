//! What can go wrong when storing or reading an attachment, in words a user can act on.

/// Why a file was refused or could not be read.
///
/// `Display` is for logs and may carry the underlying I/O error; [`FileError::zh`] and
/// [`FileError::en`] are what a person sees and never contain a path or an internal detail.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The upload has no bytes.
    #[error("empty file")]
    Empty,
    /// The upload is bigger than [`crate::Limits::max_bytes`].
    #[error("file of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the upload in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The content is not one of the accepted types. `detected` names what the bytes look like
    /// (a media type such as `text/html` or `application/zip`) when that is known.
    #[error("unsupported file type ({})", detected.as_deref().unwrap_or("unknown"))]
    Unsupported {
        /// Media type recognised from the bytes, if any.
        detected: Option<String>,
    },
    /// An Office document carrying macros (VBA), which can run code on the reader's machine.
    #[error("office document with macros ({detected})")]
    ActiveContent {
        /// Media type of the macro-enabled format.
        detected: String,
    },
    /// A password-protected Office document: it cannot be checked, nor read by the reviewer.
    #[error("encrypted office document")]
    Encrypted,
    /// The header announces more pixels than [`crate::Limits::max_pixels`] (a decompression
    /// bomb, or a panorama far beyond what evidence needs).
    #[error("image of {width}×{height} pixels exceeds the limit of {max_pixels} pixels")]
    ImageTooLarge {
        /// Width from the header, in stored (not displayed) orientation.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The limit in pixels.
        max_pixels: u64,
    },
    /// The bytes start like a known type but cannot be read (truncated upload, broken image).
    #[error("damaged {detected} file")]
    Damaged {
        /// Media type the bytes claim to be.
        detected: &'static str,
    },
    /// The id is not a SHA-256 in lowercase hex (64 characters `0-9a-f`).
    #[error("invalid file id")]
    InvalidId,
    /// No file is stored under this id.
    #[error("file not found")]
    NotFound,
    /// The storage directory could not be read or written.
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
}

const ACCEPTED_ZH: &str = "可上传：JPEG、PNG、WebP、GIF、HEIC 照片，PDF、OFD、Word、Excel、PowerPoint 文档，TXT、CSV 文本";
const ACCEPTED_EN: &str = "accepted: JPEG, PNG, WebP, GIF and HEIC photos; PDF, OFD, Word, Excel and PowerPoint documents; TXT and CSV text";

impl FileError {
    /// The message for a Chinese-speaking user.
    pub fn zh(&self) -> String {
        match self {
            FileError::Empty => "文件为空（0 字节），请重新选择文件".to_owned(),
            FileError::TooLarge { limit, .. } => {
                format!("文件超过 {} MB 的大小上限，请压缩或拆分后再上传", megabytes(*limit))
            }
            FileError::Unsupported { detected } => match detected.as_deref().map(label_zh) {
                Some(what) => format!("不支持上传此类文件（识别为{what}）。{ACCEPTED_ZH}"),
                None => format!("不支持上传此类文件（无法识别的格式）。{ACCEPTED_ZH}"),
            },
            FileError::ActiveContent { .. } => {
                "文档含有宏（VBA 代码），为安全起见不能上传；请另存为不含宏的 .docx、.xlsx 或 .pptx 后再上传"
                    .to_owned()
            }
            FileError::Encrypted => {
                "文档设有打开密码，无法检查也无法供审核人员查看；请取消密码后再上传".to_owned()
            }
            FileError::ImageTooLarge { width, height, max_pixels } => format!(
                "图片尺寸 {width}×{height} 像素超过上限（{} 万像素），请缩小后再上传",
                max_pixels / 10_000
            ),
            FileError::Damaged { detected } => format!(
                "文件已损坏或不完整（{}），无法打开；请重新拍摄或重新导出后上传",
                label_zh(detected)
            ),
            FileError::InvalidId => "文件编号格式不正确".to_owned(),
            FileError::NotFound => "找不到该文件，可能已被删除".to_owned(),
            FileError::Io(_) => "服务器保存或读取文件时出错，请稍后重试；如仍失败请联系管理员".to_owned(),
        }
    }

    /// The message for an English-speaking user.
    pub fn en(&self) -> String {
        match self {
            FileError::Empty => "The file is empty (0 bytes); please choose the file again".to_owned(),
            FileError::TooLarge { limit, .. } => format!(
                "The file is larger than the {} MB limit; please compress or split it",
                megabytes(*limit)
            ),
            FileError::Unsupported { detected } => match detected.as_deref().map(label_en) {
                Some(what) => format!("This type of file cannot be uploaded (detected: {what}); {ACCEPTED_EN}"),
                None => format!("This type of file cannot be uploaded (unrecognised format); {ACCEPTED_EN}"),
            },
            FileError::ActiveContent { .. } => "The document contains macros (VBA code) and cannot be uploaded for safety; please save it as a .docx, .xlsx or .pptx without macros".to_owned(),
            FileError::Encrypted => "The document is password-protected, so it can neither be checked nor read by reviewers; please remove the password and upload it again".to_owned(),
            FileError::ImageTooLarge { width, height, max_pixels } => format!(
                "The image is {width}×{height} pixels, more than the limit of {} megapixels; please scale it down",
                max_pixels / 1_000_000
            ),
            FileError::Damaged { detected } => format!(
                "The file is damaged or incomplete ({}) and cannot be opened; please take the photo again or export the file again",
                label_en(detected)
            ),
            FileError::InvalidId => "The file id is not valid".to_owned(),
            FileError::NotFound => "The file was not found; it may have been deleted".to_owned(),
            FileError::Io(_) => "The server could not store or read the file; please try again later, or contact the administrator if it keeps failing".to_owned(),
        }
    }
}

/// Bytes as megabytes (MiB) for messages: `10485760` → `10`, `1572864` → `1.5`.
fn megabytes(bytes: u64) -> String {
    let tenths = bytes.saturating_mul(10) / 1_048_576;
    if tenths.is_multiple_of(10) {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

fn label_zh(media_type: &str) -> String {
    let name = match media_type {
        "application/x-msdownload" | "application/x-executable" | "application/x-mach-binary" => {
            "可执行程序"
        }
        "application/x-msi" => "安装程序",
        "text/x-shellscript" => "脚本",
        "text/html" => "网页（HTML）",
        "image/svg+xml" => "SVG 矢量图（可含脚本）",
        "application/xml" => "XML 文件",
        "application/zip" => "ZIP 压缩包",
        "application/vnd.rar" => "RAR 压缩包",
        "application/x-7z-compressed" => "7z 压缩包",
        "application/gzip" => "gzip 压缩包",
        "application/rtf" => "RTF 文档",
        "image/jpeg" => "JPEG 图片",
        "image/png" => "PNG 图片",
        "image/gif" => "GIF 图片",
        "image/webp" => "WebP 图片",
        "application/pdf" => "PDF 文档",
        "application/ofd" => "OFD 文档",
        other => return other.to_owned(),
    };
    format!("{name} {media_type}")
}

fn label_en(media_type: &str) -> String {
    let name = match media_type {
        "application/x-msdownload" | "application/x-executable" | "application/x-mach-binary" => {
            "a program"
        }
        "application/x-msi" => "an installer",
        "text/x-shellscript" => "a script",
        "text/html" => "a web page",
        "image/svg+xml" => "an SVG drawing, which can carry script",
        "application/zip" => "a ZIP archive",
        other => return other.to_owned(),
    };
    format!("{name}, {media_type}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_shown_in_megabytes() {
        assert_eq!(megabytes(10 * 1_048_576), "10");
        assert_eq!(megabytes(1_572_864), "1.5");
        let e = FileError::TooLarge {
            size: 11 * 1_048_576,
            limit: 10 * 1_048_576,
        };
        assert!(e.zh().contains("10 MB"), "{}", e.zh());
        assert!(e.en().contains("10 MB"), "{}", e.en());
    }

    #[test]
    fn io_messages_do_not_leak_details() {
        let e = FileError::Io(std::io::Error::other(
            "/srv/bihuan/objects/ab/cd: permission denied",
        ));
        assert!(!e.zh().contains("/srv"));
        assert!(!e.en().contains("/srv"));
        assert!(e.to_string().contains("/srv"), "logs keep the detail");
    }
}
