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
    /// Rewrite policies in the canonical style (`--check`: only report).
    Fmt(commands::fmt::FmtArgs),
    /// Run the `test` blocks of policies.
    Test(commands::test::TestArgs),
    /// Route tickets (JSON Lines) and print decisions.
    Route(commands::route::RouteArgs),
    /// Train an intent model on labelled tickets and print the holdout report.
    Train(commands::train::TrainArgs),
    /// Evaluate an intent model on labelled tickets.
    Eval(commands::eval::EvalArgs),
    /// Predict the intent of tickets (JSON Lines) with a model.
    Classify(commands::classify::ClassifyArgs),
    /// Measure compile time, decision latency and throughput per engine.
    Bench(commands::bench::BenchArgs),
    /// Run the language server (LSP over stdio) for editors.
    Lsp(commands::lsp::LspArgs),
    /// Run the routing service: an HTTP API that decides tickets and logs every decision.
    Serve(commands::serve::ServeArgs),
}

pub(crate) fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Test(args) => commands::test::run(args),
        Command::Fmt(args) => commands::fmt::run(args),
        Command::Route(args) => commands::route::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Classify(args) => commands::classify::run(args),
        Command::Lsp(args) => commands::lsp::run(args),
        Command::Serve(args) => commands::serve::run(args),
    }
}
