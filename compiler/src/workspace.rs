//! How `.route` files on disk find each other: the names imports resolve
//! to, and the policy a *module* (a file without a `policy` line, holding
//! shared teams, schedules or keyword sets) is checked as part of: the
//! policy that imports it, directly or through other modules. Shared by the
//! CLI's file loader, `routec check` / `routec test` on a module, and the
//! language server.
//!
//! Imports are found by a lexical scan (`import "path"` at the start of a
//! line), so a file with syntax errors still shows what it imports.

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
    scanned: BTreeSet<PathBuf>,
}

impl Importers {
    /// Read the `.route` files of `dir` (not its subdirectories), once.
    pub fn scan(&mut self, dir: &Path) {
        let dir = absolute(dir);
        if !self.scanned.insert(dir.clone()) {
            return;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else { return };
        let mut files: Vec<PathBuf> =
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "route")).collect();
        files.sort();
        for path in files {
            if let Ok(text) = std::fs::read_to_string(&path) {
                for import in imports(&text) {
                    let name = normalise(&path);
                    self.by_file.entry(resolve_import(&name, &import)).or_default().insert(name);
                }
            }
        }
    }

    /// Read the `.route` files under `dir`, [`TREE_DEPTH`] levels down at
    /// most, skipping hidden directories, `target` and `node_modules`, until
    /// [`TREE_DIRS`] directories have been read.
    pub fn scan_tree(&mut self, dir: &Path) {
        let mut stack = vec![(absolute(dir), TREE_DEPTH)];
        while let Some((dir, depth)) = stack.pop() {
            if self.scanned.len() >= TREE_DIRS {
                return;
            }
            self.scan(&dir);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut subdirs: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or(".");
                    !(name.starts_with('.') || name == "target" || name == "node_modules")
                })
                .collect();
            subdirs.sort();
            if depth > 0 {
                stack.extend(subdirs.into_iter().rev().map(|d| (d, depth - 1)));
            }
        }
    }

    /// The policy the file on disk at `path` is checked as part of: the
    /// file itself if it has a `policy` line, else, following importers,
    /// the first file with one. Importers are looked for in the
    /// directories scanned so far, in the directory of each file on the
    /// way and the [`ANCESTORS`] above it, and, when the file is in a git
    /// repository, in the whole repository (see [`Importers::scan_tree`]).
    /// `None` if there is none.
    pub fn policy_of(&mut self, path: &Path) -> Option<PathBuf> {
        let mut current = normalise(&absolute(path));
        let mut seen = BTreeSet::new();
        while seen.insert(current.clone()) {
            let dirs = Path::new(&current).ancestors().skip(1).take(ANCESTORS + 1);
            for dir in dirs.map(Path::to_path_buf).collect::<Vec<_>>() {
                self.scan(&dir);
            }
            if !self.by_file.contains_key(&current) {
                if let Some(repository) = Path::new(&current).ancestors().find(|d| d.join(".git").exists()) {
                    self.scan_tree(repository);
                }
            }
            let text = std::fs::read_to_string(&current).ok()?;
            if !is_module(&text) {
                return Some(PathBuf::from(current));
            }
            let importers = self.by_file.get(&current)?;
            current = importers.iter().find(|i| !seen.contains(*i))?.clone();
        }
        None
    }
}

/// `path` made absolute against the working directory (not resolving links).
fn absolute(path: &Path) -> PathBuf {
    let joined = match std::env::current_dir() {
        Ok(cwd) if path.is_relative() => cwd.join(path),
        _ => path.to_path_buf(),
    };
    PathBuf::from(normalise(&joined))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let dir = std::env::temp_dir().join(format!("routec-workspace-{}", std::process::id()));
        let shared = dir.join("shared");
        std::fs::create_dir_all(&shared).expect("temp dir");
        let write = |path: &Path, text: &str| std::fs::write(path, text).expect("temp file");
        write(&dir.join("main.route"), "policy \"p\" version 1\nimport \"shared/teams.route\"\n");
        write(&shared.join("teams.route"), "import \"hours.route\"\nteam a\n");
        write(&shared.join("hours.route"), "schedule s { 24x7 }\n");
        write(&shared.join("alone.route"), "team b\n");
        let mut importers = Importers::default();
        let main = dir.join("main.route");
        assert_eq!(importers.policy_of(&shared.join("hours.route")), Some(main.clone()));
        assert_eq!(importers.policy_of(&dir.join("main.route")), Some(main));
        assert_eq!(importers.policy_of(&shared.join("alone.route")), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn in_a_repository_the_importer_may_be_anywhere() {
        let repo = std::env::temp_dir().join(format!("routec-repository-{}", std::process::id()));
        let (policies, shared) = (repo.join("policies/support"), repo.join("shared"));
        for dir in [&policies, &shared, &repo.join(".git")] {
            std::fs::create_dir_all(dir).expect("temp dir");
        }
        std::fs::write(policies.join("main.route"), "policy \"p\" version 1\nimport \"../../shared/teams.route\"\n")
            .expect("temp file");
        std::fs::write(shared.join("teams.route"), "team a\n").expect("temp file");
        let found = Importers::default().policy_of(&shared.join("teams.route"));
        assert_eq!(found, Some(policies.join("main.route")));
        let _ = std::fs::remove_dir_all(&repo);
    }
}
