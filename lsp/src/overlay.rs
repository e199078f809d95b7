//! What the server reads: [`Overlay`] serves open documents from the
//! editor's buffers (what the user sees, saved or not) and everything else
//! from a fallback loader (imports) or the disk (the workspace scan);
//! [`DiskLoader`] is the default fallback (imports from disk, no classifier
//! models). The disk is the runtime's `DiskFs`, the one the CLI reads too.

use crate::paths;
use crate::world::Document;
use routec_compiler::io::Root;
use routec_compiler::io::{DirEntry, FileSystem};
use routec_compiler::Loader;
use routec_runtime::{DiskFs, FsLoader};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// Texts larger than this are not analysed (see `World`).
pub(crate) const MAX_ANALYSED_BYTES: usize = 2 * 1024 * 1024;

/// Open documents first, then `fallback` for imports and `disk` for files.
pub(crate) struct Overlay<'w> {
    pub docs: &'w BTreeMap<String, Document>,
    pub fallback: &'w dyn Loader,
    pub disk: &'w dyn FileSystem,
}

impl<'w> Overlay<'w> {
    /// Open documents over the disk.
    pub(crate) fn new(docs: &'w BTreeMap<String, Document>, fallback: &'w dyn Loader) -> Overlay<'w> {
        Overlay { docs, fallback, disk: &DiskFs }
    }

    fn open(&self, path: &Path) -> Option<&Document> {
        self.docs.get(&paths::normalise(path))
    }
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

    fn model_missing(&self, importer: &str, path: &str) -> bool {
        self.fallback.model_missing(importer, path)
    }
}

/// Directories and everything not open come from the disk.
impl FileSystem for Overlay<'_> {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        match self.open(path) {
            Some(doc) => Ok(doc.text.to_string()),
            None => self.disk.read_to_string(path),
        }
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>> {
        self.disk.read_dir(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        self.open(path).is_some() || self.disk.is_file(path)
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.disk.is_dir(path)
    }

    fn file_size(&self, path: &Path) -> io::Result<u64> {
        match self.open(path) {
            Some(doc) => Ok(doc.text.len() as u64),
            None => self.disk.file_size(path),
        }
    }

    fn current_dir(&self) -> io::Result<PathBuf> {
        self.disk.current_dir()
    }
}

/// Reads imports from disk, inside the working directory (the runtime's
/// `FsLoader` refuses absolute paths and escapes); knows nothing about
/// classifier models.
pub struct DiskLoader;

impl Loader for DiskLoader {
    fn load(&self, importer: &str, path: &str) -> Result<(String, String), String> {
        let name = paths::resolve_import(importer, path);
        match DiskFs.file_size(Path::new(&name)) {
            Ok(size) if size as usize > MAX_ANALYSED_BYTES => {
                return Err(format!("{name} is too large for the language server"))
            }
            _ => {}
        }
        let root = Root::new(&DiskFs, Path::new(".")).map_err(|e| format!("the working directory: {e}"))?;
        FsLoader::new(root).load(importer, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::Uri;
    use routec_compiler::io::MemoryFs;
    use routec_compiler::workspace::Importers;
    use routec_compiler::NoImports;
    use std::str::FromStr;

    #[test]
    fn open_documents_come_before_the_disk() {
        let mut disk = MemoryFs::new("/w");
        disk.add_file("/w/a.route", "team on_disk\n").add_file("/w/b.route", "team b\n");
        let mut docs = BTreeMap::new();
        for (name, text) in [("/w/a.route", "import \"b.route\"\n"), ("/w/unsaved.route", "team u\n")] {
            let uri = Uri::from_str(&format!("file://{name}")).unwrap();
            docs.insert(name.to_string(), Document::new(uri, text.to_string(), 1));
        }
        let files = Overlay { docs: &docs, fallback: &NoImports, disk: &disk };
        assert_eq!(files.read_to_string(Path::new("/w/./a.route")).unwrap(), "import \"b.route\"\n");
        assert_eq!(files.read_to_string(Path::new("/w/b.route")).unwrap(), "team b\n");
        assert_eq!(files.file_size(Path::new("/w/a.route")).unwrap(), 17);
        assert!(files.is_file(Path::new("/w/unsaved.route")) && !disk.is_file(Path::new("/w/unsaved.route")));
        // The compiler's workspace scan sees the buffer's import, not the saved text.
        let mut importers = Importers::default();
        importers.scan(&files, Path::new("/w"));
        let of_b = importers.importers_of("/w/b.route").map(|i| i.iter().cloned().collect::<Vec<_>>());
        assert_eq!(of_b, Some(vec!["/w/a.route".to_string()]));
    }
}
