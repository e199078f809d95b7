//! `routec check`: parse, type-check and analyse policies; report every finding.

use crate::commands::policies;
use crate::exit::{CliError, ExitCode, Outcome};
use crate::output::Output;
use crate::render;
use routec_compiler::{analyze, SourceDb};
use routec_runtime::FsLoader;
use std::path::PathBuf;

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
    /// The directory imports and classifier models must stay inside
    /// (default: each policy's own directory).
    #[arg(long)]
    pub root: Option<PathBuf>,
}

pub fn run(args: &CheckArgs, outcome: &mut Outcome) -> Result<(), CliError> {
    let color = !args.no_color && crate::stderr_is_terminal();
    let (mut out, mut err) = (Output::stdout(), Output::stderr());
    let mut errors = 0;
    let mut warnings = 0;
    let mut analyses = Vec::new();
    let targets = policies::distinct(&args.files, "checked", |e| outcome.failed(e));
    for target in targets {
        let loader = match FsLoader::for_policy(&target.policy, args.root.as_deref()) {
            Ok(loader) => loader,
            Err(e) => {
                outcome.failed(CliError::read(args.root.as_deref().unwrap_or(&target.policy), e));
                continue;
            }
        };
        let mut db = SourceDb::new();
        let id = db.add(target.policy.display().to_string(), target.text);
        let analysis = analyze(db, id, &loader);
        errors += analysis.diagnostics.iter().filter(|d| d.is_error()).count();
        warnings += analysis.diagnostics.iter().filter(|d| !d.is_error()).count();
        if errors > 0 || (args.deny_warnings && warnings > 0) {
            outcome.earn(ExitCode::Findings);
        }
        match args.format {
            Format::Human => {
                for d in &analysis.diagnostics {
                    write!(err, "{}", render::human::render(&analysis.db, d, color))?;
                }
            }
            Format::Json => {
                for d in &analysis.diagnostics {
                    writeln!(out, "{}", render::json::render(&analysis.db, d))?;
                }
            }
            Format::Sarif => {}
        }
        analyses.push(analysis);
    }
    if args.format == Format::Sarif {
        let files: Vec<_> = analyses.iter().map(|a| (&a.db, a.diagnostics.clone())).collect();
        writeln!(out, "{}", render::sarif::render(&files))?;
    }
    if args.format == Format::Human {
        let n = args.files.len();
        let files = if n == 1 { "1 file".to_string() } else { format!("{n} files") };
        writeln!(err, "checked {files}: {}", render::human::summary(errors, warnings))?;
    }
    Ok(())
}
