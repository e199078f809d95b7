//! The compiler's only view of the file system: the [`FileSystem`] trait,
//! and [`MemoryFs`], an in-memory implementation for tests and embedders.
//!
//! The compiler never touches the disk itself (`compiler/clippy.toml`
//! forbids `std::fs` and friends here, and CI denies clippy warnings).
//! Code that needs files — the workspace scan in [`crate::workspace`] —
//! takes a `&dyn FileSystem`; the real implementation reading the disk is
//! `routec_runtime::DiskFs`, which the CLI, the runtime's file loader and
//! the language server share (the language server layers its open
//! documents over it).

use crate::workspace::normalise;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The largest policy or module file read, in bytes (8 MiB): a policy is
/// text someone wrote; anything larger is a mistake or an attack.
pub const MAX_POLICY_BYTES: u64 = 8 * 1024 * 1024;

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The directory's path joined with the entry's name.
    pub path: PathBuf,
    /// Whether the entry is a directory (following symbolic links).
    pub is_dir: bool,
}

/// Read access to files and directories, as much as the compiler's
/// workspace logic and the tools around it need.
pub trait FileSystem {
    /// The whole file as UTF-8 text.
    fn read_to_string(&self, path: &Path) -> io::Result<String>;
    /// The entries of a directory, in no particular order.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>>;
    /// Whether `path` is a file (following symbolic links).
    fn is_file(&self, path: &Path) -> bool;
    /// Whether `path` is a directory (following symbolic links).
    fn is_dir(&self, path: &Path) -> bool;
    /// Whether anything is at `path`.
    fn exists(&self, path: &Path) -> bool {
        self.is_file(path) || self.is_dir(path)
    }
    /// The size of a file in bytes, without reading it.
    fn file_size(&self, path: &Path) -> io::Result<u64>;
    /// The working directory relative paths are resolved against.
    fn current_dir(&self) -> io::Result<PathBuf>;
    /// `path` made absolute, with `.` and `..` removed and, on a file
    /// system that has them, symbolic links resolved; an error when nothing
    /// is there. The default suits file systems without links.
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        let absolute = if path.is_absolute() { path.to_path_buf() } else { self.current_dir()?.join(path) };
        let absolute = PathBuf::from(normalise(&absolute));
        if self.exists(&absolute) {
            Ok(absolute)
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, format!("{}: not found", path.display())))
        }
    }
}

/// The directory a policy may read from (its imports and its classifier
/// model): by default the policy's own directory, or a root the caller
/// chooses (`--root`). Held canonical, so symbolic links are resolved on
/// both sides before a path is compared with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    dir: PathBuf,
}

/// Why a path a policy names may not be read.
#[derive(Debug)]
pub enum Refusal {
    /// The policy names an absolute path.
    Absolute,
    /// The path leads outside the root (through `..` or a symbolic link).
    Outside {
        /// The root it escapes.
        root: PathBuf,
    },
    /// Nothing readable is there.
    Missing(io::Error),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Absolute => f.write_str("absolute paths are refused: name the file relative to the policy"),
            // The root is not printed: diagnostics must not depend on where
            // the checkout lives; the caller knows its root.
            Refusal::Outside { .. } => {
                f.write_str("the path leads outside the policy's root (its directory, or `--root`), which is refused")
            }
            Refusal::Missing(e) => write!(f, "{e}"),
        }
    }
}

impl Root {
    /// `dir` as a root, resolved on `fs` (it must exist).
    pub fn new(fs: &dyn FileSystem, dir: &Path) -> io::Result<Root> {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        Ok(Root { dir: fs.canonicalize(dir)? })
    }

    /// The root of a policy read from `policy`: the directory it is in.
    pub fn of_policy(fs: &dyn FileSystem, policy: &Path) -> io::Result<Root> {
        Root::new(fs, policy.parent().unwrap_or(Path::new("")))
    }

    /// The root directory, canonical.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that `written` (a path as a policy writes it in an
    /// `import` or a `classifier … from`) names in the file `from`: relative
    /// to `from`'s directory, canonical (links resolved before the check),
    /// and inside the root. Nothing is read; a refusal never carries
    /// anything of the target's.
    pub fn resolve(&self, fs: &dyn FileSystem, from: &str, written: &str) -> Result<PathBuf, Refusal> {
        if Path::new(written).has_root() {
            return Err(Refusal::Absolute);
        }
        let outside = || Refusal::Outside { root: self.dir.clone() };
        let joined = crate::workspace::relative_to(from, written);
        let lexical = match fs.current_dir() {
            Ok(cwd) if joined.is_relative() => cwd.join(&joined),
            _ => joined,
        };
        let lexical = PathBuf::from(normalise(&lexical));
        // The canonical path decides; the lexical one only tells a missing
        // file inside the root from an escape to a missing file.
        let lexical_inside = lexical.starts_with(&self.dir);
        let canonical =
            fs.canonicalize(&lexical).map_err(|e| if lexical_inside { Refusal::Missing(e) } else { outside() })?;
        if canonical.starts_with(&self.dir) {
            Ok(canonical)
        } else {
            Err(outside())
        }
    }
}

/// A file system held in memory: files with their text, directories
/// implied by the files' paths or added on their own. Paths are taken as
/// given (no normalisation), so use absolute, normalised ones.
#[derive(Clone, Debug)]
pub struct MemoryFs {
    files: BTreeMap<PathBuf, String>,
    dirs: BTreeSet<PathBuf>,
    cwd: PathBuf,
}

impl Default for MemoryFs {
    fn default() -> MemoryFs {
        MemoryFs::new("/")
    }
}

impl MemoryFs {
    /// An empty file system whose working directory is `cwd`.
    pub fn new(cwd: impl Into<PathBuf>) -> MemoryFs {
        let cwd = cwd.into();
        let mut fs = MemoryFs { files: BTreeMap::new(), dirs: BTreeSet::new(), cwd: PathBuf::new() };
        fs.add_dir(&cwd);
        fs.cwd = cwd;
        fs
    }

    /// Add (or replace) a file, and its parent directories.
    pub fn add_file(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> &mut MemoryFs {
        let path = path.into();
        if let Some(parent) = path.parent() {
            self.add_dir(parent);
        }
        self.files.insert(path, text.into());
        self
    }

    /// Add a directory and its parents.
    pub fn add_dir(&mut self, path: impl AsRef<Path>) -> &mut MemoryFs {
        for dir in path.as_ref().ancestors().filter(|d| !d.as_os_str().is_empty()) {
            if !self.dirs.insert(dir.to_path_buf()) {
                break;
            }
        }
        self
    }

    fn not_found(path: &Path) -> io::Error {
        io::Error::new(io::ErrorKind::NotFound, format!("{}: not found", path.display()))
    }
}

impl FileSystem for MemoryFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.files.get(path).cloned().ok_or_else(|| MemoryFs::not_found(path))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>> {
        if !self.dirs.contains(path) {
            return Err(MemoryFs::not_found(path));
        }
        let children = |paths: Vec<&PathBuf>, is_dir| {
            paths
                .into_iter()
                .filter(|p| p.parent() == Some(path) && p.as_path() != path)
                .map(move |p| DirEntry { path: p.clone(), is_dir })
                .collect::<Vec<_>>()
        };
        let mut entries = children(self.dirs.iter().collect(), true);
        entries.extend(children(self.files.keys().collect(), false));
        Ok(entries)
    }

    fn is_file(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.dirs.contains(path)
    }

    fn file_size(&self, path: &Path) -> io::Result<u64> {
        self.files.get(path).map(|text| text.len() as u64).ok_or_else(|| MemoryFs::not_found(path))
    }

    fn current_dir(&self) -> io::Result<PathBuf> {
        Ok(self.cwd.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_imply_their_directories() {
        let mut fs = MemoryFs::new("/work");
        fs.add_file("/work/p/main.route", "policy").add_dir("/work/p/.git");
        assert!(fs.is_dir(Path::new("/work/p")) && fs.is_dir(Path::new("/")));
        assert!(fs.is_file(Path::new("/work/p/main.route")) && !fs.is_file(Path::new("/work/p")));
        assert!(fs.exists(Path::new("/work/p/.git")) && !fs.exists(Path::new("/work/q")));
        let mut listed = fs.read_dir(Path::new("/work/p")).expect("a directory");
        listed.sort_by(|a, b| a.path.cmp(&b.path));
        let expected = [("/work/p/.git", true), ("/work/p/main.route", false)]
            .map(|(p, is_dir)| DirEntry { path: PathBuf::from(p), is_dir });
        assert_eq!(listed, expected);
        assert_eq!(fs.read_to_string(Path::new("/work/p/main.route")).expect("a file"), "policy");
        assert_eq!(fs.file_size(Path::new("/work/p/main.route")).expect("a file"), 6);
        assert!(fs.read_dir(Path::new("/work/p/main.route")).is_err());
        assert!(fs.read_to_string(Path::new("/work/p")).is_err());
        assert_eq!(fs.current_dir().expect("a working directory"), Path::new("/work"));
    }

    #[test]
    fn a_root_admits_paths_inside_it_and_refuses_the_rest() {
        let mut fs = MemoryFs::new("/w");
        fs.add_file("/w/p/main.route", "policy").add_file("/w/p/lib/teams.route", "team a");
        fs.add_file("/w/secret.env", "TOKEN=x");
        let root = Root::of_policy(&fs, Path::new("p/main.route")).expect("the policy's directory exists");
        assert_eq!(root.dir(), Path::new("/w/p"));
        let resolve = |written| root.resolve(&fs, "p/lib/teams.route", written);
        assert_eq!(resolve("../main.route").expect("inside the root"), Path::new("/w/p/main.route"));
        assert!(matches!(resolve("../../secret.env"), Err(Refusal::Outside { .. })));
        assert!(matches!(resolve("/w/p/main.route"), Err(Refusal::Absolute)));
        assert!(matches!(resolve("../nothing.route"), Err(Refusal::Missing(_))));
        // An escape to a file that does not exist is an escape, not a missing file.
        assert!(matches!(resolve("../../nothing.route"), Err(Refusal::Outside { .. })));
    }
}
