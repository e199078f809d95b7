//! `routec diff OLD NEW`: every region of tickets whose destination,
//! priority or escalation changes between two versions of a policy, each
//! with a witness ticket (`routec_analytics::diff`). With `--exit-code` a
//! change ends the command with 1, so CI can require a reviewed diff.

use crate::exit::{CliError, ExitCode, Outcome};
use crate::output::Output;
use crate::render;
use routec_analytics::diff::{self, DiffError};
use routec_analytics::render::HtmlOptions;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The version before the change.
    pub old: PathBuf,
    /// The version after the change.
    pub new: PathBuf,
    /// Exit with 1 when some ticket changes decision.
    #[arg(long)]
    pub exit_code: bool,
    /// Print the diff as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the diff as a self-contained HTML page with a chart.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The directory imports and classifier models must stay inside
    /// (default: each policy's own directory).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Never colour the diagnostics of a version that does not compile.
    #[arg(long)]
    pub no_color: bool,
}

pub fn run(args: &DiffArgs, outcome: &mut Outcome) -> Result<(), CliError> {
    let color = !args.no_color && crate::stderr_is_terminal();
    let load = |path: &std::path::Path| diff::load(path, args.root.as_deref()).map_err(|e| failure(e, color));
    let old = load(&args.old)?;
    let new = load(&args.new)?;
    let report = diff::diff(&old, &new).map_err(|e| failure(e, color))?;
    if let Some(path) = &args.html {
        let page = report
            .document()
            .to_html(&HtmlOptions { refresh_seconds: None, footer: Some("routec diff".into()) })
            .map_err(|e| CliError::Internal(e.to_string()))?;
        std::fs::write(path, page).map_err(|e| CliError::write(path, e))?;
    }
    let mut out = Output::stdout();
    if args.json {
        let json = serde_json::to_string(&report).map_err(|e| CliError::Internal(format!("the diff as JSON: {e}")))?;
        writeln!(out, "{json}")?;
    } else {
        write!(out, "{}", report.text())?;
    }
    if args.exit_code && report.changed {
        outcome.earn(ExitCode::Findings);
    }
    Ok(())
}

/// The CLI's error for a version that cannot be diffed; a policy that does
/// not compile has its errors rendered on standard error first.
fn failure(error: DiffError, color: bool) -> CliError {
    match error {
        DiffError::Read { path, source } => CliError::read(path, source),
        DiffError::NotCompiled { path, analysis } => {
            let mut err = Output::stderr();
            for d in analysis.diagnostics.iter().filter(|d| d.is_error()) {
                if let Err(e) = write!(err, "{}", render::human::render(&analysis.db, d, color)) {
                    return e;
                }
            }
            CliError::NotCompiled { path, skipped: Some("nothing was compared") }
        }
        DiffError::Incomparable(e) => CliError::Usage(e.to_string()),
    }
}
