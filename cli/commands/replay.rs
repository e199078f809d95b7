//! `routec replay POLICY HISTORY [--against OLD]`: route a ticket history as
//! of each ticket's creation time and compare with what humans finally did
//! (and with an older policy). Owns the flags, the progress bar and the
//! terminal summary; the work is `routec_analytics::replay`.

use crate::commands::history_input::{HistoryArgs, ReportArgs};
use crate::exit::{CliError, ExitCode, Outcome};
use crate::output::Output;
use routec_analytics::replay;
use routec_runtime::{LoadOptions, Policy};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The policy to replay.
    pub policy: PathBuf,
    /// Past tickets: CSV or JSON Lines (`.jsonl`), with creation times and,
    /// for the comparison, the final destination.
    pub history: PathBuf,
    /// An older version of the policy: list the tickets whose decision changes.
    #[arg(long, value_name = "OLD_POLICY")]
    pub against: Option<PathBuf>,
    #[command(flatten)]
    pub input: HistoryArgs,
    #[command(flatten)]
    pub output: ReportArgs,
    /// Threads routing tickets [default: one per core].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Example tickets kept per group of changed decisions.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub examples: usize,
    /// Load the policies without the analyses' proofs (names and types are
    /// still checked): for policies `routec check` already accepted.
    #[arg(long)]
    pub skip_proofs: bool,
    /// Print throughput to standard error at the end.
    #[arg(long)]
    pub stats: bool,
}

fn load(path: &Path, skip_proofs: bool) -> Result<Policy, CliError> {
    let proofs = if skip_proofs { routec_runtime::Proofs::Skip } else { routec_runtime::Proofs::Check };
    crate::commands::route::load_policy(
        path,
        &LoadOptions::default().proofs(proofs),
        crate::stderr_is_terminal(),
        Some("nothing was replayed"),
    )
}

pub fn run(args: &ReplayArgs, outcome: &mut Outcome) -> Result<(), CliError> {
    let policy = load(&args.policy, args.skip_proofs)?;
    let against = args.against.as_deref().map(|p| load(p, args.skip_proofs)).transpose()?;
    let opened = args.input.open(&args.history)?;
    let mut options = replay::Options { examples: args.examples, ..replay::Options::default() };
    if let Some(n) = args.threads {
        options.workers = n.max(1);
    }
    let size = std::fs::metadata(&args.history).map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(size);
    let started = std::time::Instant::now();
    let mut advance = |_records: u64, bytes: u64| {
        if let Some(bar) = &bar {
            bar.set_position(bytes);
        }
    };
    let report = replay::replay(opened, &policy, against.as_ref(), &options, &mut advance).map_err(|e| match e {
        replay::ReplayError::Io(source) => CliError::read(&args.history, source),
        other => CliError::Unusable {
            path: args.history.clone(),
            expected: "a history this policy can replay",
            source: Box::new(other),
        },
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let secs = started.elapsed().as_secs_f64();
    let mut err = Output::stderr();
    for row in &report.rejected_rows {
        writeln!(err, "line {}: rejected: {}", row.line, row.reason)?;
    }
    if report.tickets.rejected > report.rejected_rows.len() as u64 {
        writeln!(err, "… {} rejected rows in all", report.tickets.rejected)?;
    }
    if report.tickets.rejected > 0 {
        outcome.earn(ExitCode::BadInput);
    }
    if report.tickets.replayed == 0 {
        return Err(CliError::NoValidTickets { path: args.history.clone() });
    }
    args.output.emit(&report.document(&args.history.display().to_string()))?;
    if args.stats {
        let rate = if secs > 0.0 { report.tickets.replayed as f64 / secs } else { 0.0 };
        writeln!(
            err,
            "replayed {} tickets in {secs:.3}s ({rate:.0} tickets/s, {} threads)",
            report.tickets.replayed, options.workers
        )?;
    }
    Ok(())
}

fn progress_bar(bytes: u64) -> Option<indicatif::ProgressBar> {
    if !crate::stderr_is_terminal() || bytes == 0 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(bytes);
    let style =
        indicatif::ProgressStyle::with_template("replaying {bar:40} {percent:>3}% {binary_bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}
