//! `routec check`: parse, type-check and analyse policies; report every finding.

use crate::render;
use routec_compiler::{analyze, workspace, SourceDb};
use routec_runtime::FsLoader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Policy files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Exit with 1 when there are warnings, not only errors.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Output format: human (default), json (one object per line) or sarif.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Never colour the output.
    #[arg(long)]
    pub no_color: bool,
}

pub fn run(args: &CheckArgs) -> ExitCode {
    let color = !args.no_color && crate::stderr_is_terminal();
    let mut errors = 0;
    let mut warnings = 0;
    let mut io_failed = false;
    let mut analyses = Vec::new();
    let mut checked: Vec<PathBuf> = Vec::new();
    for (path, root) in roots(&args.files) {
        let root = match root {
            Ok(root) => root,
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", path.display());
                io_failed = true;
                continue;
            }
        };
        if root.policy != path {
            let how = if checked.contains(&root.policy) { "above" } else { "below" };
            eprintln!(
                "note: `{}` has no `policy` line: it is checked as part of `{}`, which imports it ({how})",
                path.display(),
                root.policy.display()
            );
        } else if root.orphan {
            eprintln!(
                "note: `{}` has no `policy` line, and no policy in its directory or the {} above imports it",
                path.display(),
                routec_compiler::workspace::ANCESTORS
            );
        }
        if checked.contains(&root.policy) {
            continue;
        }
        checked.push(root.policy.clone());
        let mut db = SourceDb::new();
        let id = db.add(root.policy.display().to_string(), root.text);
        let analysis = analyze(db, id, &FsLoader);
        errors += analysis.diagnostics.iter().filter(|d| d.is_error()).count();
        warnings += analysis.diagnostics.iter().filter(|d| !d.is_error()).count();
        match args.format {
            Format::Human => {
                for d in &analysis.diagnostics {
                    eprint!("{}", render::human::render(&analysis.db, d, color));
                }
            }
            Format::Json => {
                for d in &analysis.diagnostics {
                    println!("{}", render::json::render(&analysis.db, d));
                }
            }
            Format::Sarif => {}
        }
        analyses.push(analysis);
    }
    if args.format == Format::Sarif {
        let files: Vec<_> = analyses.iter().map(|a| (&a.db, a.diagnostics.clone())).collect();
        println!("{}", render::sarif::render(&files));
    }
    if args.format == Format::Human {
        let n = args.files.len();
        let files = if n == 1 { "1 file".to_string() } else { format!("{n} files") };
        eprintln!("checked {files}: {}", render::human::summary(errors, warnings));
    }
    if io_failed || errors > 0 || (args.deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The policy a file named on the command line is checked as part of.
struct Root {
    /// The policy's path, as named on the command line when it was, else
    /// relative to the working directory when under it.
    policy: PathBuf,
    text: String,
    /// A file without a `policy` line that no policy imports: checked on its own.
    orphan: bool,
}

/// Each file with its policy: itself, or for a module (a file without a
/// `policy` line) the policy that imports it, found beside it or above
/// (see `routec_compiler::workspace`).
fn roots(files: &[PathBuf]) -> Vec<(PathBuf, std::io::Result<Root>)> {
    let mut importers = workspace::Importers::default();
    for file in files {
        importers.scan(file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")));
    }
    let cwd = std::env::current_dir().ok();
    let named: Vec<(String, &PathBuf)> = files.iter().map(|f| (absolute(cwd.as_deref(), f), f)).collect();
    files
        .iter()
        .map(|path| {
            let root = std::fs::read_to_string(path).and_then(|text| {
                if !workspace::is_module(&text) {
                    return Ok(Root { policy: path.clone(), text, orphan: false });
                }
                let Some(policy) = importers.policy_of(path) else {
                    return Ok(Root { policy: path.clone(), text, orphan: true });
                };
                let key = workspace::normalise(&policy);
                let shown = match named.iter().find(|(n, _)| *n == key) {
                    Some((_, f)) => (*f).clone(),
                    None => cwd
                        .as_deref()
                        .and_then(|c| policy.strip_prefix(c).ok())
                        .map_or(policy.clone(), Path::to_path_buf),
                };
                let text = std::fs::read_to_string(&policy)?;
                Ok(Root { policy: shown, text, orphan: false })
            });
            (path.clone(), root)
        })
        .collect()
}

fn absolute(cwd: Option<&Path>, path: &Path) -> String {
    match cwd {
        Some(cwd) if path.is_relative() => workspace::normalise(&cwd.join(path)),
        _ => workspace::normalise(path),
    }
}
