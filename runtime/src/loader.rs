//! Reading policies and models from the file system for the compiler's
//! `Loader` trait. Paths in `import` and `classifier ... from` are relative
//! to the file that names them.

use routec_compiler::Loader;
use std::path::{Path, PathBuf};

/// Loads imports and model labels from disk.
pub struct FsLoader;

/// `path` as seen from the directory of `importer`.
pub fn relative_to(importer: &str, path: &str) -> PathBuf {
    let base = Path::new(importer).parent().unwrap_or(Path::new(""));
    base.join(path)
}

impl Loader for FsLoader {
    fn load(&self, importer: &str, path: &str) -> Result<(String, String), String> {
        let full = relative_to(importer, path);
        let text = std::fs::read_to_string(&full).map_err(|e| format!("{}: {e}", full.display()))?;
        Ok((normalise(&full), text))
    }

    fn model_labels(&self, importer: &str, path: &str) -> Option<Result<Vec<String>, String>> {
        let full = relative_to(importer, path);
        if !full.exists() {
            return None;
        }
        Some(routec_classifier::Model::load(&full).map(|m| m.labels().to_vec()).map_err(|e| e.to_string()))
    }
}

/// A stable name for a path: `a/./b/../c.route` → `a/c.route`.
fn normalise(path: &Path) -> String {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other.as_os_str()),
        }
    }
    let joined: PathBuf = parts.iter().collect();
    joined.display().to_string()
}
