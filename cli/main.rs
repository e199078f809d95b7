//! The `routec` command line: parse arguments and dispatch to one verb.

mod commands;
mod exit;
mod lines;
mod output;
mod render;

use clap::{Parser, Subcommand};
use std::io::IsTerminal;

/// Policy-as-code for customer-support ticket routing.
#[derive(Parser, Debug)]
#[command(name = "routec", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the largest arguments costs nothing.
#[allow(clippy::large_enum_variant)]
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
    /// Compare two versions of a policy: every region of tickets whose decision changes, with a witness.
    Diff(commands::diff::DiffArgs),
    /// Report on routing from the decision log: misroutes, reassignments, times, shadow rules, drift, spikes.
    Report(commands::report::ReportArgs),
    /// Audit a ticket history: volumes, arrivals, misroutes, categories too small or too alike.
    Audit(commands::audit::AuditArgs),
    /// Write a starter policy (and its intent model) from a ticket history: `routec init --from HISTORY`.
    Init(commands::init::InitArgs),
    /// Route past tickets as of their creation time and compare with what humans did (and an older policy).
    Replay(commands::replay::ReplayArgs),
}

pub(crate) fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return exit::command_line(&e),
    };
    let mut outcome = exit::Outcome::default();
    let result = match &cli.command {
        Command::Check(args) => commands::check::run(args, &mut outcome),
        Command::Test(args) => commands::test::run(args, &mut outcome),
        Command::Fmt(args) => commands::fmt::run(args, &mut outcome),
        Command::Route(args) => commands::route::run(args, &mut outcome),
        Command::Bench(args) => commands::bench::run(args),
        Command::Train(args) => commands::train::run(args, &mut outcome),
        Command::Eval(args) => commands::eval::run(args),
        Command::Classify(args) => commands::classify::run(args, &mut outcome),
        Command::Lsp(args) => commands::lsp::run(args, &mut outcome),
        Command::Serve(args) => commands::serve::run(args),
        Command::Diff(args) => commands::diff::run(args, &mut outcome),
        Command::Report(args) => commands::report::run(args, &mut outcome),
        Command::Audit(args) => commands::audit::run(args, &mut outcome),
        Command::Init(args) => commands::init::run(args),
        Command::Replay(args) => commands::replay::run(args, &mut outcome),
    };
    exit::finish(result, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `exit::command_line` gives clap's refusals our codes; they must be
    /// the ones clap itself would exit with.
    #[test]
    fn usage_errors_exit_as_clap_says() {
        let refused = Cli::try_parse_from(["routec", "no-such-verb"]).map(|_| ()).err();
        assert_eq!(refused.map(|e| e.exit_code()), Some(exit::ExitCode::Usage as i32));
        let help = Cli::try_parse_from(["routec", "--help"]).map(|_| ()).err();
        assert_eq!(help.map(|e| e.exit_code()), Some(exit::ExitCode::Success as i32));
    }
}
