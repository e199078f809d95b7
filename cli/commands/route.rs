//! `routec route`: tickets as JSON Lines in, decisions as JSON Lines out.
//! A bad line is reported with its number and field path and skipped; the
//! rest are still routed; exit status 3 says some lines were rejected.

use crate::exit::{CliError, ExitCode, Outcome};
use crate::output::Output;
use crate::render;
use routec_runtime::{Context, LoadOptions, Policy, PolicyError};
use std::io::BufRead;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct RouteArgs {
    /// The policy file.
    pub policy: PathBuf,
    /// Tickets as JSON Lines; standard input when omitted or `-`.
    pub tickets: Option<PathBuf>,
    /// Print a human-readable explanation instead of JSON.
    #[arg(long)]
    pub explain: bool,
    /// Route as if it were this time (RFC 3339), e.g. 2026-11-29T03:00:00-05:00.
    #[arg(long)]
    pub now: Option<String>,
    /// Current load per destination, e.g. `--load billing=40,tier2_tech=3`.
    #[arg(long, value_delimiter = ',')]
    pub load: Vec<String>,
    /// Print throughput to standard error at the end.
    #[arg(long)]
    pub stats: bool,
    /// The engine that decides (both give identical decisions).
    #[arg(long, value_enum, default_value = "jit")]
    pub engine: crate::commands::EngineArg,
    /// Load without the analyses' proofs (names and types are still checked):
    /// for a policy `routec check` already accepted, to start faster.
    #[arg(long)]
    pub skip_proofs: bool,
    /// The directory imports and the classifier model must stay inside
    /// (default: the policy's own directory).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Tickets bring their own `signals` (intent, confidence): route even
    /// when the policy's classifier model file does not exist.
    #[arg(long)]
    pub signals_in_tickets: bool,
}

/// Load a policy. When it does not compile, its errors are rendered on
/// standard error and the error says so, then what was `skipped` because of it.
pub fn load_policy(
    path: &std::path::Path,
    options: &LoadOptions,
    color: bool,
    skipped: Option<&'static str>,
) -> Result<Policy, CliError> {
    match Policy::load_with_options(path, options) {
        Ok(p) => Ok(p),
        Err(PolicyError::Compile(analysis)) => {
            let mut err = Output::stderr();
            for d in analysis.diagnostics.iter().filter(|d| d.is_error()) {
                write!(err, "{}", render::human::render(&analysis.db, d, color))?;
            }
            Err(CliError::NotCompiled { path: path.to_path_buf(), skipped })
        }
        Err(e) => Err(CliError::Policy(e)),
    }
}

pub fn parse_context(now: Option<&str>, load: &[String]) -> Result<Context, CliError> {
    let now = match now {
        Some(text) => text.parse::<jiff::Timestamp>().map_err(|e| match jiff::fmt::temporal::Pieces::parse(text) {
            // Well-formed, but outside the instants routec computes with.
            Ok(pieces) if pieces.offset().is_some() && pieces.time().is_some() => CliError::Usage(format!(
                "`--now {text}` is outside the times routec computes opening hours for ({} to {})",
                jiff::Timestamp::MIN,
                jiff::Timestamp::MAX
            )),
            _ => CliError::Usage(format!("`--now {text}` is not an RFC 3339 time with an offset: {e}")),
        })?,
        None => jiff::Timestamp::now(),
    };
    let mut ctx = Context::at(now);
    for item in load {
        let (name, n) =
            item.split_once('=').ok_or_else(|| CliError::Usage(format!("`--load {item}`: expected NAME=COUNT")))?;
        let n: u64 =
            n.trim().parse().map_err(|_| CliError::Usage(format!("`--load {item}`: `{n}` is not a whole number")))?;
        ctx.load.insert(name.trim().to_string(), n);
    }
    Ok(ctx)
}

pub fn run(args: &RouteArgs, outcome: &mut Outcome) -> Result<(), CliError> {
    let proofs = if args.skip_proofs { routec_runtime::Proofs::Skip } else { routec_runtime::Proofs::Check };
    let options =
        LoadOptions::default().proofs(proofs).root(args.root.clone()).tickets_bring_signals(args.signals_in_tickets);
    let policy = load_policy(&args.policy, &options, crate::stderr_is_terminal(), None)?
        .with_engine(args.engine.into())
        .map_err(CliError::Engine)?;
    let ctx = parse_context(args.now.as_deref(), &args.load)?;
    let mut err = Output::stderr();
    let mut loaded: Vec<&String> = ctx.load.keys().collect();
    loaded.sort();
    for name in loaded {
        if !policy.destination_names().any(|d| d == name) {
            writeln!(err, "warning: `--load {name}=…`: the policy has no destination `{name}`")?;
        }
    }
    let input: Box<dyn BufRead> = match &args.tickets {
        Some(p) if p.as_os_str() != "-" => {
            Box::new(std::io::BufReader::new(std::fs::File::open(p).map_err(|e| CliError::read(p, e))?))
        }
        _ => Box::new(std::io::stdin().lock()),
    };
    let mut out = Output::stdout_buffered();
    let started = std::time::Instant::now();
    let (mut routed, mut rejected) = (0usize, 0usize);
    let mut hinted_json_lines = false;
    for (i, line) in crate::lines::Lines::new(input).enumerate() {
        let line_no = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                rejected += 1;
                outcome.earn(ExitCode::BadInput);
                writeln!(err, "line {line_no}: rejected: {e}")?;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let ticket = match policy.ticket(&line) {
            Ok(t) => t,
            Err(e) => {
                rejected += 1;
                outcome.earn(ExitCode::BadInput);
                writeln!(err, "line {line_no}: rejected: {e}")?;
                if e.path.is_empty() && line.trim_start().starts_with('[') && !hinted_json_lines {
                    hinted_json_lines = true;
                    writeln!(
                        err,
                        "hint: tickets are read as JSON Lines, one object per line, not as a JSON array; convert with `jq -c '.[]'`"
                    )?;
                }
                continue;
            }
        };
        let decision = policy.route(&ticket, &ctx);
        routed += 1;
        if args.explain {
            write!(out, "{}", decision.explain())?;
        } else {
            let json = serde_json::to_string(&decision)
                .map_err(|e| CliError::Internal(format!("a decision cannot be written as JSON: {e}")))?;
            writeln!(out, "{json}")?;
        }
    }
    out.flush()?;
    let secs = started.elapsed().as_secs_f64();
    if args.stats || rejected > 0 {
        let rate = if secs > 0.0 { routed as f64 / secs } else { 0.0 };
        writeln!(err, "routed {routed} tickets in {secs:.3}s ({rate:.0} tickets/s); {rejected} rejected")?;
    }
    Ok(())
}
