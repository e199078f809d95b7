//! The `routec` command line: parse arguments and dispatch to one verb.

mod commands;
mod render;

use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::process::ExitCode;

/// Policy-as-code for customer-support ticket routing.
#[derive(Parser, Debug)]
#[command(name = "routec", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Type-check and analyse policies; report every problem.
    Check(commands::check::CheckArgs),
    /// Run the `test` blocks of policies.
    Test(commands::test::TestArgs),
    /// Route tickets (JSON Lines) and print decisions.
    Route(commands::route::RouteArgs),
    /// Run the language server (LSP over stdio) for editors.
    Lsp(commands::lsp::LspArgs),
}

pub(crate) fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Test(args) => commands::test::run(args),
        Command::Route(args) => commands::route::run(args),
        Command::Lsp(args) => commands::lsp::run(args),
    }
}
