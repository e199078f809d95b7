//! Reading policies and models from the file system for the compiler's
//! `Loader` trait. Paths in `import` and `classifier ... from` are relative
//! to the file that names them.

use routec_compiler::workspace::normalise;
pub use routec_compiler::workspace::relative_to;
use routec_compiler::Loader;

/// Loads imports and model labels from disk.
pub struct FsLoader;

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
