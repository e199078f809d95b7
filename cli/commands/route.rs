//! `routec route`: tickets as JSON Lines in, decisions as JSON Lines out.
//! A bad line is reported with its number and field path and skipped; the
//! rest are still routed; exit status 2 says some lines were rejected.

use crate::render;
use routec_runtime::{Context, Policy, PolicyError};
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

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
}

/// Load a policy, printing its errors; the exit code on failure.
pub fn load_policy_with(path: &std::path::Path, proofs: routec_runtime::Proofs) -> Result<Policy, ExitCode> {
    match Policy::load_with(path, proofs) {
        Ok(p) => Ok(p),
        Err(PolicyError::Compile(analysis)) => {
            let color = crate::stderr_is_terminal();
            for d in analysis.diagnostics.iter().filter(|d| d.is_error()) {
                eprint!("{}", render::human::render(&analysis.db, d, color));
            }
            eprintln!("error: `{}` does not compile", path.display());
            Err(ExitCode::from(1))
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(1))
        }
    }
}

pub fn parse_context(now: Option<&str>, load: &[String]) -> Result<Context, String> {
    let now = match now {
        Some(text) => text
            .parse::<jiff::Timestamp>()
            .map_err(|e| format!("`--now {text}` is not an RFC 3339 time with an offset: {e}"))?,
        None => jiff::Timestamp::now(),
    };
    let mut ctx = Context::at(now);
    for item in load {
        let (name, n) = item.split_once('=').ok_or_else(|| format!("`--load {item}`: expected NAME=COUNT"))?;
        let n: u64 = n.trim().parse().map_err(|_| format!("`--load {item}`: `{n}` is not a whole number"))?;
        ctx.load.insert(name.trim().to_string(), n);
    }
    Ok(ctx)
}

pub fn run(args: &RouteArgs) -> ExitCode {
    let proofs = if args.skip_proofs { routec_runtime::Proofs::Skip } else { routec_runtime::Proofs::Check };
    let policy = match load_policy_with(&args.policy, proofs).map(|p| p.with_engine(args.engine.into())) {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
        Err(code) => return code,
    };
    let ctx = match parse_context(args.now.as_deref(), &args.load) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    for name in ctx.load.keys() {
        if !policy.destination_names().any(|d| d == name) {
            eprintln!("warning: `--load {name}=…`: the policy has no destination `{name}`");
        }
    }
    let input: Box<dyn BufRead> = match &args.tickets {
        Some(p) if p.as_os_str() != "-" => match std::fs::File::open(p) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", p.display());
                return ExitCode::from(1);
            }
        },
        _ => Box::new(std::io::stdin().lock()),
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let started = std::time::Instant::now();
    let (mut routed, mut rejected) = (0usize, 0usize);
    for (i, line) in input.lines().enumerate() {
        let line_no = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("line {line_no}: cannot read: {e}");
                rejected += 1;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let ticket = match policy.ticket(&line) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("line {line_no}: rejected: {e}");
                rejected += 1;
                continue;
            }
        };
        let decision = policy.route(&ticket, &ctx);
        routed += 1;
        let written = if args.explain {
            write!(out, "{}", decision.explain())
        } else {
            match serde_json::to_string(&decision) {
                Ok(json) => writeln!(out, "{json}"),
                Err(e) => writeln!(out, "{{\"error\": \"{e}\"}}"),
            }
        };
        if written.is_err() {
            // The reader went away (e.g. `| head`): stop quietly.
            break;
        }
    }
    let _ = out.flush();
    let secs = started.elapsed().as_secs_f64();
    if args.stats || rejected > 0 {
        let rate = if secs > 0.0 { routed as f64 / secs } else { 0.0 };
        eprintln!("routed {routed} tickets in {secs:.3}s ({rate:.0} tickets/s); {rejected} rejected");
    }
    if rejected > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
