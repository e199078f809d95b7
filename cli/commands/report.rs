//! `routec report`: how routing performed, from the decision log of
//! `routec serve` (`--db URL`) or a JSON Lines export of it (`--log FILE`).
//!
//! Owns the command-line surface (flags, the period, reading the export
//! line by line, where the output goes); the definitions and the figures
//! are `routec_analytics::report`, the rendering `routec_analytics::render`.

use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};
use routec_analytics::render::HtmlOptions;
use routec_analytics::report::{report, Log, LogRecord, ReportOptions};

use crate::exit::{CliError, ExitCode, Outcome};
use crate::output::Output;

/// Report on routing from the decision log: misroutes, reassignments, times, shadow rules, drift, spikes.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["db", "log"])))]
pub struct ReportArgs {
    /// The decision log of `routec serve`: `sqlite:PATH` or `postgres://…`
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// A JSON Lines export of the log: one `{"decision": …}` or `{"outcome": …}` row per line
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// The period: decisions of the last `30d`, `12h`, … before now
    #[arg(long, default_value = "30d", value_name = "DURATION")]
    pub since: String,
    /// Report as of this time (RFC 3339) instead of the clock's now
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Misrouted tickets listed for review, at most
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub examples: usize,
    /// Print the report as JSON instead of text
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report with charts to FILE
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Runs `routec report`.
pub fn run(args: &ReportArgs, outcome: &mut Outcome) -> Result<(), CliError> {
    let now = match &args.now {
        Some(text) => text.parse::<Timestamp>().map_err(|e| CliError::Usage(format!("--now: `{text}`: {e}")))?,
        None => Timestamp::now(),
    };
    let period =
        routec_server::config::parse_duration(&args.since).map_err(|e| CliError::Usage(format!("--since: {e}")))?;
    let period = SignedDuration::try_from(period).map_err(|e| CliError::Usage(format!("--since: {e}")))?;
    let since = now.checked_sub(period).map_err(|e| CliError::Usage(format!("--since: {e}")))?;

    let (log, source) = match (&args.db, &args.log) {
        (Some(url), _) => {
            // The end is exclusive in the store; a decision made at `now` counts.
            let end = now.checked_add(SignedDuration::from_millis(1)).unwrap_or(now);
            let log = Log::read_store(url, since, end).map_err(|e| CliError::Unusable {
                path: PathBuf::from(url),
                expected: "a routec decision log",
                source: Box::new(e),
            })?;
            (log, url.clone())
        }
        (None, Some(path)) => (read_export(path, outcome)?, path.display().to_string()),
        (None, None) => return Err(CliError::Usage("give the decision log: --db URL or --log FILE".to_owned())),
    };

    let mut options = ReportOptions::new(source, now);
    options.since = Some(since);
    options.examples = args.examples;
    let document = report(&log, &options);

    if let Some(path) = &args.html {
        let footer = format!("routec report · as of {now}");
        let page = document
            .to_html(&HtmlOptions { refresh_seconds: None, footer: Some(footer) })
            .map_err(|e| CliError::Internal(e.to_string()))?;
        std::fs::write(path, page).map_err(|e| CliError::write(path, e))?;
    }
    let mut out = Output::stdout_buffered();
    if args.json {
        let json = document.to_json().map_err(|e| CliError::Internal(e.to_string()))?;
        writeln!(out, "{json}")?;
    } else {
        let width = std::env::var("COLUMNS").ok().and_then(|columns| columns.parse().ok()).unwrap_or(100);
        write!(out, "{}", document.to_terminal(width))?;
    }
    out.flush()
}

/// Reads a JSON Lines export, one row per line; a line that is not a row is
/// reported on standard error and skipped (the exit code says so).
pub(crate) fn read_export(path: &PathBuf, outcome: &mut Outcome) -> Result<Log, CliError> {
    let file = std::fs::File::open(path).map_err(|e| CliError::read(path, e))?;
    let mut err = Output::stderr();
    let mut log = Log::default();
    for (index, line) in crate::lines::Lines::new(std::io::BufReader::new(file)).enumerate() {
        let line_no = index + 1;
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                outcome.earn(ExitCode::BadInput);
                writeln!(err, "{}:{line_no}: rejected: {e}", path.display())?;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<LogRecord>(&line) {
            Ok(record) => log.push(record),
            Err(e) => {
                outcome.earn(ExitCode::BadInput);
                writeln!(err, "{}:{line_no}: rejected: not a decision or outcome row: {e}", path.display())?;
            }
        }
    }
    Ok(log)
}
