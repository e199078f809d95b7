//! Loaders for imports: [`Overlay`] serves open documents from the editor's
//! buffers (what the user sees, saved or not) and everything else from a
//! fallback loader; [`DiskLoader`] is the default fallback (imports from
//! disk, no classifier models).

use crate::paths;
use crate::world::Document;
use routec_compiler::Loader;
use std::collections::BTreeMap;

/// Texts larger than this are not analysed (see `World`).
pub(crate) const MAX_ANALYSED_BYTES: usize = 2 * 1024 * 1024;

/// Open documents first, then `fallback`.
pub(crate) struct Overlay<'w> {
    pub docs: &'w BTreeMap<String, Document>,
    pub fallback: &'w dyn Loader,
}

impl Loader for Overlay<'_> {
    fn load(&self, importer: &str, path: &str) -> Result<(String, String), String> {
        let name = paths::resolve_import(importer, path);
        match self.docs.get(&name) {
            Some(doc) if doc.text.len() > MAX_ANALYSED_BYTES => {
                Err(format!("{name} is too large for the language server"))
            }
            Some(doc) => Ok((name, doc.text.to_string())),
            None => self.fallback.load(importer, path),
        }
    }

    fn model_labels(&self, importer: &str, path: &str) -> Option<Result<Vec<String>, String>> {
        self.fallback.model_labels(importer, path)
    }
}

/// Reads imports from disk; knows nothing about classifier models.
pub struct DiskLoader;

impl Loader for DiskLoader {
    fn load(&self, importer: &str, path: &str) -> Result<(String, String), String> {
        let name = paths::resolve_import(importer, path);
        match std::fs::metadata(&name) {
            Ok(m) if m.len() as usize > MAX_ANALYSED_BYTES => {
                return Err(format!("{name} is too large for the language server"))
            }
            _ => {}
        }
        let text = std::fs::read_to_string(&name).map_err(|e| format!("{name}: {e}"))?;
        Ok((name, text))
    }
}
