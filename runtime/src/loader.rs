//! The disk behind the compiler's IO traits: [`DiskFs`], the one
//! [`FileSystem`] that reads the real file system (the CLI, this loader and
//! the language server all use it), and [`FsLoader`], the compiler's
//! `Loader` over it. Paths in `import` and `classifier ... from` are
//! relative to the file that names them.

use routec_compiler::io::{DirEntry, FileSystem};
use routec_compiler::workspace::normalise;
pub use routec_compiler::workspace::relative_to;
use routec_compiler::Loader;
use std::io;
use std::path::{Path, PathBuf};

/// The real file system, through `std::fs`.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiskFs;

impl FileSystem for DiskFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>> {
        let entries = std::fs::read_dir(path)?;
        Ok(entries
            .flatten()
            .map(|e| {
                let path = e.path();
                DirEntry { is_dir: path.is_dir(), path }
            })
            .collect())
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn file_size(&self, path: &Path) -> io::Result<u64> {
        std::fs::metadata(path).map(|m| m.len())
    }

    fn current_dir(&self) -> io::Result<PathBuf> {
        std::env::current_dir()
    }
}

/// Loads imports and model labels from disk.
pub struct FsLoader;

impl Loader for FsLoader {
    fn load(&self, importer: &str, path: &str) -> Result<(String, String), String> {
        let full = relative_to(importer, path);
        let text = DiskFs.read_to_string(&full).map_err(|e| format!("{}: {e}", full.display()))?;
        Ok((normalise(&full), text))
    }

    fn model_labels(&self, importer: &str, path: &str) -> Option<Result<Vec<String>, String>> {
        let full = relative_to(importer, path);
        if !DiskFs.exists(&full) {
            return None;
        }
        Some(routec_classifier::Model::load(&full).map(|m| m.labels().to_vec()).map_err(|e| e.to_string()))
    }
}
