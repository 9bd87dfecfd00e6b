//! Which files visitors and agents may upload, decided from the name *and* the first bytes, so
//! a script renamed to `.png` is refused rather than served as an image.

use crate::Invalid;

/// The content type the file will be stored and served with, or why it is refused.
pub fn detect_upload_type(filename: &str, bytes: &[u8]) -> Result<&'static str, Invalid> {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let starts = |sig: &[u8]| bytes.starts_with(sig);
    let (ty, ok) = match ext.as_str() {
        "png" => ("image/png", starts(b"\x89PNG\r\n\x1a\n")),
        "jpg" | "jpeg" => ("image/jpeg", starts(b"\xff\xd8\xff")),
        "gif" => ("image/gif", starts(b"GIF87a") || starts(b"GIF89a")),
        "webp" => (
            "image/webp",
            starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP"),
        ),
        "pdf" => ("application/pdf", starts(b"%PDF-")),
        "txt" | "log" => ("text/plain", std::str::from_utf8(bytes).is_ok()),
        "csv" => ("text/csv", std::str::from_utf8(bytes).is_ok()),
        "zip" => ("application/zip", starts(b"PK\x03\x04")),
        "docx" => (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            starts(b"PK\x03\x04"),
        ),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            starts(b"PK\x03\x04"),
        ),
        "pptx" => (
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            starts(b"PK\x03\x04"),
        ),
        "doc" | "xls" | "ppt" => (
            "application/octet-stream",
            starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        ),
        "mp4" => ("video/mp4", bytes.get(4..8) == Some(b"ftyp")),
        "mp3" => ("audio/mpeg", starts(b"ID3") || starts(b"\xff\xfb")),
        _ => return Err(Invalid::new(
            "this file type is not allowed (images, PDF, text, office documents, zip, mp3, mp4)",
        )),
    };
    if ok {
        Ok(ty)
    } else {
        Err(Invalid::new(format!(
            "the file's content does not match its .{ext} extension"
        )))
    }
}

/// The name shown for a file: the last path component, control characters removed, ≤ 200 chars.
pub fn clean_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let s: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    if s.trim().is_empty() {
        "file".into()
    } else {
        s.trim().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_extension_and_magic() {
        assert_eq!(
            detect_upload_type("a.PNG", b"\x89PNG\r\n\x1a\nrest").unwrap(),
            "image/png"
        );
        assert!(detect_upload_type("a.png", b"<script>").is_err());
        assert!(detect_upload_type("a.svg", b"<svg/>").is_err());
        assert!(detect_upload_type("a.html", b"<html>").is_err());
        assert!(detect_upload_type("noext", b"x").is_err());
        assert_eq!(
            detect_upload_type("notes.txt", "你好".as_bytes()).unwrap(),
            "text/plain"
        );
    }

    #[test]
    fn filenames_lose_paths_and_controls() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\x\\a\"b\n.png"), "ab.png");
        assert_eq!(clean_filename(""), "file");
    }
}
