//! The policies behind the files named on the command line, for `routec
//! check` and `routec test`: a file with a `policy` line is one; a module
//! (shared teams, schedules, keyword sets: no `policy` line) stands for the
//! policy that imports it, found beside it or above it by
//! `routec_compiler::workspace`, so `routec check policies/*.route` checks
//! each policy once, its modules with it.

use crate::exit::CliError;
use routec_compiler::io::FileSystem;
use routec_compiler::workspace;
use routec_runtime::DiskFs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to check or test for one file named on the command line.
pub struct Target {
    /// The file as named.
    pub file: PathBuf,
    /// The policy: as named on the command line when it was, else relative
    /// to the working directory when under it.
    pub policy: PathBuf,
    /// The policy's text.
    pub text: String,
    /// A file without a `policy` line that no policy imports: taken as a
    /// policy on its own (which fails, saying what is missing).
    pub orphan: bool,
}

impl Target {
    /// What to tell the user about a module; `done` if its policy was
    /// already handled for an earlier file, `verb` says how ("checked").
    pub fn note(&self, done: bool, verb: &str) -> Option<String> {
        if self.orphan {
            return Some(format!(
                "note: `{}` has no `policy` line, and no policy imports it (looked in its directory, the {} above, and its git repository if any)",
                self.file.display(),
                workspace::ANCESTORS
            ));
        }
        (self.policy != self.file).then(|| {
            format!(
                "note: `{}` has no `policy` line: it is {verb} as part of `{}`, which imports it ({})",
                self.file.display(),
                self.policy.display(),
                if done { "above" } else { "below" }
            )
        })
    }
}

/// The policies to handle for `files`, each once, in order. Says on
/// standard error which module stands for which policy (`verb`: how it is
/// handled, "checked"); a file that cannot be read goes to `unreadable`, in
/// its turn.
pub fn distinct(files: &[PathBuf], verb: &str, mut unreadable: impl FnMut(CliError)) -> Vec<Target> {
    let mut targets: Vec<Target> = Vec::new();
    for (file, target) in resolve(files) {
        match target {
            Ok(target) => {
                let done = targets.iter().any(|t| t.policy == target.policy);
                if let Some(note) = target.note(done, verb) {
                    // A closed standard error must not panic here: the note is lost, nothing else.
                    let _ = writeln!(std::io::stderr(), "{note}");
                }
                if !done {
                    targets.push(target);
                }
            }
            Err(e) => unreadable(CliError::read(file, e)),
        }
    }
    targets
}

/// Each file with its target, in order.
fn resolve(files: &[PathBuf]) -> Vec<(PathBuf, std::io::Result<Target>)> {
    let mut importers = workspace::Importers::default();
    for file in files {
        importers.scan(&DiskFs, file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")));
    }
    let cwd = DiskFs.current_dir().ok();
    let named: Vec<(String, &PathBuf)> =
        files.iter().map(|f| (workspace::absolute(&DiskFs, f).display().to_string(), f)).collect();
    let target = |importers: &mut workspace::Importers, file: &PathBuf| -> std::io::Result<Target> {
        let text = DiskFs.read_to_string(file)?;
        let own = |text, orphan| Target { file: file.clone(), policy: file.clone(), text, orphan };
        if !workspace::is_module(&text) {
            return Ok(own(text, false));
        }
        let Some(policy) = importers.policy_of(&DiskFs, file) else { return Ok(own(text, true)) };
        let key = workspace::normalise(&policy);
        let shown = match named.iter().find(|(name, _)| *name == key) {
            Some((_, named)) => (*named).clone(),
            None => cwd.as_deref().and_then(|c| policy.strip_prefix(c).ok()).map_or(policy.clone(), Path::to_path_buf),
        };
        let text = DiskFs.read_to_string(&policy)?;
        Ok(Target { file: file.clone(), policy: shown, text, orphan: false })
    };
    files.iter().map(|file| (file.clone(), target(&mut importers, file))).collect()
}
