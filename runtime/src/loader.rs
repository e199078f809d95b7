//! The disk behind the compiler's IO traits: [`DiskFs`], the one
//! [`FileSystem`] that reads the real file system (the CLI, this loader and
//! the language server all use it), and [`FsLoader`], the compiler's
//! `Loader` over it. Paths in `import` and `classifier ... from` are
//! relative to the file that names them.

use routec_compiler::io::{DirEntry, FileSystem, Refusal, Root, MAX_POLICY_BYTES};
use routec_compiler::workspace::normalise;
pub use routec_compiler::workspace::relative_to;
use routec_compiler::Loader;
use std::io;
use std::path::{Path, PathBuf};

/// The real file system, through `std::fs`. Reads only regular files
/// (never a device, a FIFO or a directory) and at most a size cap, so no
/// path can make it read forever.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiskFs;

impl DiskFs {
    /// The bytes of the regular file at `path`, refused when it is not a
    /// regular file (following links) or larger than `limit` bytes.
    pub fn read_bytes(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        use std::io::Read;
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
        }
        let too_large =
            || io::Error::new(io::ErrorKind::InvalidData, format!("larger than the limit of {} bytes", limit));
        if meta.len() > limit {
            return Err(too_large());
        }
        // The size can change between the check and the read: read one byte
        // past the limit to notice.
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(limit + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > limit {
            return Err(too_large());
        }
        Ok(bytes)
    }
}

impl FileSystem for DiskFs {
    /// At most [`MAX_POLICY_BYTES`]: this is how policies are read.
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        let mut bytes = self.read_bytes(path, MAX_POLICY_BYTES)?;
        // A byte-order mark some editors write is not part of the text.
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes.drain(..3);
        }
        String::from_utf8(bytes)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
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

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }
}

/// Loads imports and model labels from disk, inside a [`Root`]: a path
/// that is absolute or leads outside it (through `..` or a link) is
/// refused before anything is read.
#[derive(Clone, Debug)]
pub struct FsLoader {
    root: Root,
}

impl FsLoader {
    /// A loader for files inside `root`.
    pub fn new(root: Root) -> FsLoader {
        FsLoader { root }
    }

    /// A loader for the policy at `policy`: its root is `root` when given,
    /// else the policy's directory.
    pub fn for_policy(policy: &Path, root: Option<&Path>) -> io::Result<FsLoader> {
        let root = match root {
            Some(dir) => Root::new(&DiskFs, dir),
            None => Root::of_policy(&DiskFs, policy),
        };
        root.map(FsLoader::new)
    }

    /// The root files are read from.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The model file a policy file `importer` names as `path`: `Ok(None)`
    /// when no file is there.
    pub fn model_path(&self, importer: &str, path: &str) -> Result<Option<PathBuf>, Refusal> {
        match self.root.resolve(&DiskFs, importer, path) {
            Ok(full) => Ok(Some(full)),
            Err(Refusal::Missing(e)) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(refusal) => Err(refusal),
        }
    }

    /// Load the classifier model at `path` (from [`FsLoader::model_path`]):
    /// a regular file of at most [`routec_classifier::MAX_MODEL_BYTES`].
    pub fn load_model(path: &Path) -> Result<routec_classifier::Model, routec_classifier::ModelError> {
        routec_classifier::Model::load(path)
    }
}

impl Loader for FsLoader {
    fn load(&self, importer: &str, path: &str) -> Result<(String, String), String> {
        // The name stays as the policy wrote it (normalised), so diagnostics
        // show the path the user knows; `full` is only where it is read.
        let name = normalise(&relative_to(importer, path));
        let full = self.root.resolve(&DiskFs, importer, path).map_err(|refusal| match refusal {
            Refusal::Missing(e) => format!("{name}: {e}"),
            refused => refused.to_string(),
        })?;
        let text = DiskFs.read_to_string(&full).map_err(|e| format!("{name}: {e}"))?;
        Ok((name, text))
    }

    fn model_labels(&self, importer: &str, path: &str) -> Option<Result<Vec<String>, String>> {
        match self.model_path(importer, path) {
            Ok(None) => None,
            Ok(Some(full)) => Some(FsLoader::load_model(&full).map(|m| m.labels().to_vec()).map_err(|e| e.to_string())),
            Err(refusal) => Some(Err(refusal.to_string())),
        }
    }

    fn model_missing(&self, importer: &str, path: &str) -> bool {
        matches!(self.model_path(importer, path), Ok(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("routec-loader-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("policy")).expect("a scratch directory");
        dir
    }

    #[test]
    fn a_link_out_of_the_root_is_refused_and_one_inside_is_followed() {
        let dir = scratch("links");
        std::fs::write(dir.join("secret.env"), "TOKEN=hunter2\n").expect("write");
        std::fs::write(dir.join("policy/teams.route"), "team a\n").expect("write");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.join("secret.env"), dir.join("policy/leak.route")).expect("a link");
            std::os::unix::fs::symlink("teams.route", dir.join("policy/alias.route")).expect("a link");
        }
        let policy = dir.join("policy/main.route");
        let loader = FsLoader::for_policy(&policy, None).expect("the root exists");
        let importer = policy.display().to_string();
        if cfg!(unix) {
            let refused = loader.load(&importer, "leak.route").expect_err("the link leaves the root");
            assert!(refused.contains("outside the policy's root") && !refused.contains("hunter2"), "{refused}");
            assert_eq!(loader.load(&importer, "alias.route").expect("a link inside the root").1, "team a\n");
        }
        assert!(loader.load(&importer, "../secret.env").is_err());
        // With the parent directory as the root, the same file may be read.
        let wider = FsLoader::for_policy(&policy, Some(&dir)).expect("the root exists");
        assert_eq!(wider.load(&importer, "../secret.env").expect("inside the wider root").1, "TOKEN=hunter2\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn devices_and_oversized_files_are_refused_without_reading_them() {
        if Path::new("/dev/zero").exists() {
            let refused = DiskFs.read_to_string(Path::new("/dev/zero")).expect_err("a device");
            assert_eq!(refused.to_string(), "not a regular file");
            assert!(FsLoader::load_model(Path::new("/dev/zero")).is_err());
        }
        let dir = scratch("sizes");
        let big = dir.join("big.route");
        std::fs::write(&big, vec![b'#'; 64]).expect("write");
        let refused = DiskFs.read_bytes(&big, 63).expect_err("over the limit");
        assert_eq!(refused.to_string(), "larger than the limit of 63 bytes");
        assert_eq!(DiskFs.read_bytes(&big, 64).expect("at the limit").len(), 64);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_text() {
        let dir = scratch("bom");
        let path = dir.join("policy/main.route");
        std::fs::write(&path, "\u{feff}policy \"p\" version 1\n").expect("write");
        assert_eq!(DiskFs.read_to_string(&path).expect("UTF-8"), "policy \"p\" version 1\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
