//! How `.route` files on disk find each other: the names imports resolve
//! to, and the policy a *module* (a file without a `policy` line, holding
//! shared teams, schedules or keyword sets) is checked as part of: the
//! policy that imports it, directly or through other modules. Shared by the
//! CLI's file loader, `routec check` / `routec test` on a module, and the
//! language server.
//!
//! Imports are found by a lexical scan (`import "path"` at the start of a
//! line), so a file with syntax errors still shows what it imports. Files
//! are read through a [`FileSystem`]: the disk for the CLI, the editor's
//! open documents over the disk for the language server.

use crate::io::{DirEntry, FileSystem};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

/// A stable name for a path: `a/./b/../c.route` → `a/c.route`.
pub fn normalise(path: &Path) -> String {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other.as_os_str()),
        }
    }
    let joined: PathBuf = parts.iter().collect();
    joined.display().to_string()
}

/// `path` as written in an import of `importer`: relative to the importer's directory.
pub fn relative_to(importer: &str, path: &str) -> PathBuf {
    Path::new(importer).parent().unwrap_or(Path::new("")).join(path)
}

/// The name an import of `path` in `importer` refers to.
pub fn resolve_import(importer: &str, path: &str) -> String {
    normalise(&relative_to(importer, path))
}

/// The paths `text` imports, as written.
pub fn imports(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix("import")?;
            let rest = rest.trim_start().strip_prefix('"')?;
            rest.split_once('"').map(|(path, _)| path.to_string())
        })
        .collect()
}

/// Whether `text` is a module: it has no `policy` line.
pub fn is_module(text: &str) -> bool {
    !text.lines().any(|l| l.trim_start().strip_prefix("policy").is_some_and(|r| r.starts_with([' ', '\t', '"'])))
}

/// How many directories above a module are searched for its importers.
pub const ANCESTORS: usize = 2;
/// How deep below a repository's top directory its importers are looked for.
pub const TREE_DEPTH: usize = 8;
/// At most this many directories are read when looking for importers.
pub const TREE_DIRS: usize = 2_000;

/// Which `.route` files import which, for the files of some directories.
/// Files are known by their absolute, normalised path.
#[derive(Debug, Default)]
pub struct Importers {
    /// Imported file → the files importing it.
    by_file: BTreeMap<String, BTreeSet<String>>,
    /// Every `.route` file of the scanned directories.
    files: BTreeSet<PathBuf>,
    scanned: BTreeSet<PathBuf>,
}

impl Importers {
    /// Read the `.route` files of `dir` (not its subdirectories), once.
    pub fn scan(&mut self, fs: &dyn FileSystem, dir: &Path) {
        let dir = absolute(fs, dir);
        if !self.scanned.contains(&dir) {
            let entries = fs.read_dir(&dir).unwrap_or_default();
            self.read_files(fs, dir, &entries);
        }
    }

    /// Read the `.route` files under `dir`, `depth` levels down at most,
    /// skipping hidden directories, `target` and `node_modules`, until
    /// [`TREE_DIRS`] directories have been read.
    pub fn scan_tree(&mut self, fs: &dyn FileSystem, dir: &Path, depth: usize) {
        let mut stack = vec![(absolute(fs, dir), depth)];
        while let Some((dir, depth)) = stack.pop() {
            if self.scanned.len() >= TREE_DIRS {
                return;
            }
            let Ok(entries) = fs.read_dir(&dir) else {
                self.scanned.insert(dir);
                continue;
            };
            if !self.scanned.contains(&dir) {
                self.read_files(fs, dir, &entries);
            }
            let mut subdirs: Vec<&PathBuf> = entries
                .iter()
                .filter(|e| e.is_dir)
                .map(|e| &e.path)
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or(".");
                    !(name.starts_with('.') || name == "target" || name == "node_modules")
                })
                .collect();
            subdirs.sort();
            if depth > 0 {
                stack.extend(subdirs.into_iter().rev().map(|d| (d.clone(), depth - 1)));
            }
        }
    }

    /// Note `dir` as scanned and read the imports of its `.route` files.
    fn read_files(&mut self, fs: &dyn FileSystem, dir: PathBuf, entries: &[DirEntry]) {
        self.scanned.insert(dir);
        let mut files: Vec<&PathBuf> = entries
            .iter()
            .filter(|e| !e.is_dir && e.path.extension().is_some_and(|e| e == "route"))
            .map(|e| &e.path)
            .collect();
        files.sort();
        for path in files {
            let name = normalise(path);
            if let Ok(text) = fs.read_to_string(path) {
                for import in imports(&text) {
                    self.by_file.entry(resolve_import(&name, &import)).or_default().insert(name.clone());
                }
            }
            self.files.insert(PathBuf::from(name));
        }
    }

    /// The scanned files whose text imports `name` (absolute, normalised).
    pub fn importers_of(&self, name: &str) -> Option<&BTreeSet<String>> {
        self.by_file.get(name)
    }

    /// The `.route` files of the scanned directories, in path order (a
    /// directory's subdirectories where their names sort).
    pub fn files(&self) -> impl Iterator<Item = String> + '_ {
        self.files.iter().map(|f| f.display().to_string())
    }

    /// The policy the file at `path` is checked as part of: the file itself
    /// if it has a `policy` line, else, following importers, the first file
    /// with one. Importers are looked for in the directories scanned so
    /// far, in the directory of each file on the way and the [`ANCESTORS`]
    /// above it, and, when the file is in a git repository, in the whole
    /// repository (see [`Importers::scan_tree`], [`TREE_DEPTH`] levels
    /// down). `None` if there is none.
    pub fn policy_of(&mut self, fs: &dyn FileSystem, path: &Path) -> Option<PathBuf> {
        let mut current = normalise(&absolute(fs, path));
        let mut seen = BTreeSet::new();
        while seen.insert(current.clone()) {
            let dirs = Path::new(&current).ancestors().skip(1).take(ANCESTORS + 1);
            for dir in dirs.map(Path::to_path_buf).collect::<Vec<_>>() {
                self.scan(fs, &dir);
            }
            if !self.by_file.contains_key(&current) {
                if let Some(repository) = Path::new(&current).ancestors().find(|d| fs.exists(&d.join(".git"))) {
                    self.scan_tree(fs, repository, TREE_DEPTH);
                }
            }
            let text = fs.read_to_string(Path::new(&current)).ok()?;
            if !is_module(&text) {
                return Some(PathBuf::from(current));
            }
            let importers = self.by_file.get(&current)?;
            current = importers.iter().find(|i| !seen.contains(*i))?.clone();
        }
        None
    }
}

/// `path` made absolute against the working directory of `fs` (not
/// resolving links), normalised.
pub fn absolute(fs: &dyn FileSystem, path: &Path) -> PathBuf {
    let joined = match fs.current_dir() {
        Ok(cwd) if path.is_relative() => cwd.join(path),
        _ => path.to_path_buf(),
    };
    PathBuf::from(normalise(&joined))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemoryFs;

    #[test]
    fn names_and_imports() {
        assert_eq!(normalise(Path::new("a/./b/../c.route")), "a/c.route");
        assert_eq!(resolve_import("/p/x/main.route", "../shared/./teams.route"), "/p/shared/teams.route");
        assert_eq!(
            imports("import \"teams.route\"\n  import \"a/b.route\" # x\n# import \"no.route\""),
            ["teams.route", "a/b.route"]
        );
        assert!(is_module("# teams\nteam a\n"));
        assert!(!is_module("policy \"p\" version 1\n"));
        assert!(is_module("policy_team a\n"));
    }

    #[test]
    fn a_module_belongs_to_the_policy_that_imports_it() {
        let mut fs = MemoryFs::new("/p");
        fs.add_file("/p/main.route", "policy \"p\" version 1\nimport \"shared/teams.route\"\n")
            .add_file("/p/shared/teams.route", "import \"hours.route\"\nteam a\n")
            .add_file("/p/shared/hours.route", "schedule s { 24x7 }\n")
            .add_file("/p/shared/alone.route", "team b\n");
        let mut importers = Importers::default();
        let main = Some(PathBuf::from("/p/main.route"));
        assert_eq!(importers.policy_of(&fs, Path::new("shared/hours.route")), main);
        assert_eq!(importers.policy_of(&fs, Path::new("/p/main.route")), main);
        assert_eq!(importers.policy_of(&fs, Path::new("/p/shared/alone.route")), None);
        let teams =
            importers.importers_of("/p/shared/teams.route").map(|i| i.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(teams, Some(vec!["/p/main.route"]));
    }

    #[test]
    fn in_a_repository_the_importer_may_be_anywhere() {
        let mut fs = MemoryFs::default();
        fs.add_dir("/repo/.git")
            .add_file(
                "/repo/policies/support/main.route",
                "policy \"p\" version 1\nimport \"../../shared/teams.route\"\n",
            )
            .add_file("/repo/shared/teams.route", "team a\n");
        let found = Importers::default().policy_of(&fs, Path::new("/repo/shared/teams.route"));
        assert_eq!(found, Some(PathBuf::from("/repo/policies/support/main.route")));
        fs.add_file("/elsewhere/shared/teams.route", "team a\n");
        fs.add_file(
            "/elsewhere/policies/support/main.route",
            "policy \"p\" version 1\nimport \"../../shared/teams.route\"\n",
        );
        let outside = Importers::default().policy_of(&fs, Path::new("/elsewhere/shared/teams.route"));
        assert_eq!(outside, None, "without a repository only the ancestors are searched");
    }

    #[test]
    fn a_tree_scan_skips_hidden_and_build_directories_and_stops_at_its_depth() {
        let mut fs = MemoryFs::default();
        for dir in ["/w/a", "/w/.hidden", "/w/target", "/w/node_modules", "/w/a/b/c"] {
            fs.add_file(format!("{dir}/x.route"), "team t\n");
        }
        fs.add_file("/w/a.route", "team t\n");
        let mut importers = Importers::default();
        importers.scan_tree(&fs, Path::new("/w"), 2);
        let files: Vec<String> = importers.files().collect();
        assert_eq!(files, ["/w/a/x.route", "/w/a.route"]);
        importers.scan_tree(&fs, Path::new("/w"), 3);
        assert_eq!(importers.files().count(), 3, "a deeper scan reads the deeper directories");
    }
}
