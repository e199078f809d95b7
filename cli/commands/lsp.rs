//! `routec lsp`: run the language server on stdin/stdout.
//!
//! Owns only the wiring: the server lives in `routec-lsp`; this verb gives
//! it the runtime's file loader so imports that are not open in the editor
//! and classifier model labels are read from disk, as `routec check` reads
//! them. Logs go to stderr; stdout carries the protocol.

use crate::exit::{CliError, ExitCode, Outcome};
use routec_compiler::io::Root;
use routec_lsp::{Exit, Options, DEFAULT_DEBOUNCE};
use routec_runtime::{DiskFs, FsLoader};
use std::path::{Path, PathBuf};

/// Run the language server (LSP over stdio) for editors.
#[derive(clap::Args, Debug)]
pub struct LspArgs {
    /// The directory imports and classifier models must stay inside
    /// (default: the working directory, which editors set to the workspace).
    #[arg(long)]
    pub root: Option<PathBuf>,
}

/// Serves one editor session. Exits with 0 after `shutdown` and `exit`, with
/// 1 ([`ExitCode::Findings`]'s number) when the editor went away without
/// `shutdown`, as the protocol asks.
pub fn run(args: &LspArgs, outcome: &mut Outcome) -> Result<(), CliError> {
    let dir = args.root.as_deref().unwrap_or(Path::new("."));
    let root = Root::new(&DiskFs, dir).map_err(|e| CliError::read(dir, e))?;
    match routec_lsp::run_stdio(Options { fallback: Box::new(FsLoader::new(root)), debounce: DEFAULT_DEBOUNCE }) {
        Ok(Exit::Clean) => Ok(()),
        Ok(Exit::Abrupt) => {
            outcome.earn(ExitCode::Findings);
            Ok(())
        }
        Err(e) => Err(CliError::LanguageServer(e)),
    }
}
