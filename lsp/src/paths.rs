//! Names of files: `file://` URIs ↔ the path names the compiler's
//! `SourceDb` uses, and the normalisation of import paths (the same as the
//! CLI's file loader, so both name a file the same way).
//!
//! A document whose URI is not a `file://` URI (an unsaved buffer) is named
//! by its URI; its imports cannot be resolved.

use lsp_types::Uri;
use std::path::Path;
use std::str::FromStr;

/// The name the compiler knows a document by.
pub(crate) fn uri_to_name(uri: &Uri) -> String {
    let text = uri.as_str();
    match text.strip_prefix("file://") {
        Some(rest) => {
            // `file:///home/x` and `file://localhost/home/x`.
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            let decoded = percent_decode(path);
            // `file:///c:/x` on Windows.
            let windows = decoded.len() > 2 && decoded.as_bytes()[0] == b'/' && decoded.as_bytes()[2] == b':';
            let path = if windows { &decoded[1..] } else { decoded.as_str() };
            normalise(Path::new(path))
        }
        None => text.to_string(),
    }
}

/// The URI of a name from [`uri_to_name`] or from an import.
pub(crate) fn name_to_uri(name: &str) -> Option<Uri> {
    if name.contains("://") || name.starts_with("untitled:") {
        return Uri::from_str(name).ok();
    }
    let path = name.replace('\\', "/");
    let path = if path.starts_with('/') { path } else { format!("/{path}") };
    Uri::from_str(&format!("file://{}", percent_encode(&path))).ok()
}

pub(crate) use routec_compiler::workspace::{normalise, resolve_import};

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        if let (b'%', Some(Ok(b))) = (bytes[i], hex.map(|h| u8::from_str_radix(h, 16))) {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_round_trip_through_names() {
        let uri = Uri::from_str("file:///tmp/acme%20policies/main.route").unwrap();
        let name = uri_to_name(&uri);
        assert_eq!(name, "/tmp/acme policies/main.route");
        assert_eq!(name_to_uri(&name).map(|u| u.as_str().to_string()).as_deref(), Some(uri.as_str()));
        assert_eq!(resolve_import(&name, "../shared/./teams.route"), "/tmp/shared/teams.route");
        let untitled = Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(uri_to_name(&untitled), "untitled:Untitled-1");
    }
}
