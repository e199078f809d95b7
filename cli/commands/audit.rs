//! `routec audit HISTORY`: what a ticket history says before a policy is
//! written (volumes, arrivals by hour of week, misroutes, categories too
//! small or too alike, proposed categories when there are none). Owns the
//! flags; the work is `routec_analytics::audit`.

use crate::commands::history_input::{HistoryArgs, ReportArgs};
use crate::exit::{CliError, ExitCode, Outcome};
use crate::output::Output;
use routec_analytics::audit;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Past tickets: CSV or JSON Lines (`.jsonl`).
    pub history: PathBuf,
    #[command(flatten)]
    pub input: HistoryArgs,
    #[command(flatten)]
    pub output: ReportArgs,
    /// The time zone of the hour-of-week heat map (IANA name).
    #[arg(long, default_value = "UTC", value_name = "ZONE")]
    pub timezone: String,
    /// Folds of the cross-validated confusion between categories (0: skip it).
    #[arg(long, default_value_t = 3, value_name = "K")]
    pub folds: usize,
    /// Tickets sampled for the classifier and the clustering.
    #[arg(long, default_value_t = 4000, value_name = "N")]
    pub sample: usize,
    /// A category with fewer tickets is too small to route on.
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub min_tickets: u64,
    /// Clusters to propose when the history has no categories [default: 5 to 8, the best separated].
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(2..=30))]
    pub clusters: Option<u64>,
}

pub fn run(args: &AuditArgs, outcome: &mut Outcome) -> Result<(), CliError> {
    let timezone = jiff::tz::TimeZone::get(&args.timezone)
        .map_err(|e| CliError::Usage(format!("`--timezone {}`: {e}", args.timezone)))?;
    let options = audit::Options {
        timezone,
        folds: args.folds,
        sample: args.sample,
        min_tickets: args.min_tickets,
        clusters: args.clusters.map(|k| k as usize),
        ..audit::Options::default()
    };
    let opened = args.input.open(&args.history)?;
    let result = audit::audit(opened, &options).map_err(|e| match e {
        audit::AuditError::Io(source) => CliError::read(&args.history, source),
        other => {
            CliError::Unusable { path: args.history.clone(), expected: "a history to audit", source: Box::new(other) }
        }
    })?;
    let mut err = Output::stderr();
    for row in &result.rejected_rows {
        writeln!(err, "line {}: rejected: {}", row.line, row.reason)?;
    }
    if result.rejected > 0 {
        outcome.earn(ExitCode::BadInput);
    }
    if result.overall.tickets == 0 {
        return Err(CliError::NoValidTickets { path: args.history.clone() });
    }
    args.output.emit(&result.document(&args.history.display().to_string()))
}
