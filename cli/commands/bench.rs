//! `routec bench`: measure a policy's compile time, decision-logic latency
//! with signals precomputed, and end-to-end throughput, per engine. Figures
//! are medians over repeated runs on one thread.

use crate::commands::route::{load_policy, parse_context};
use routec_runtime::{EngineKind, Policy, Ticket};
use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The policy file.
    pub policy: PathBuf,
    /// Tickets as JSON Lines (defaults to `tickets.jsonl` beside the policy).
    pub tickets: Option<PathBuf>,
    /// Repetitions per measurement; the median is reported.
    #[arg(long, default_value_t = 7)]
    pub runs: usize,
    /// Route as if it were this time (RFC 3339).
    #[arg(long)]
    pub now: Option<String>,
    /// Measure only this engine.
    #[arg(long, value_enum)]
    pub engine: Option<crate::commands::EngineArg>,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

pub fn run(args: &BenchArgs) -> ExitCode {
    let tickets_path = args.tickets.clone().unwrap_or_else(|| args.policy.with_file_name("tickets.jsonl"));
    let text = match std::fs::read_to_string(&tickets_path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", tickets_path.display());
            return ExitCode::from(1);
        }
    };
    let ctx = match parse_context(args.now.as_deref(), &[]) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let runs = args.runs.max(1);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut compile_times = Vec::new();
    let mut policy = None;
    for _ in 0..runs {
        let started = Instant::now();
        match load_policy(&args.policy) {
            Ok(p) => policy = Some(p),
            Err(code) => return code,
        }
        compile_times.push(started.elapsed().as_secs_f64());
    }
    let Some(policy) = policy else { return ExitCode::from(1) };
    let tickets: Vec<Ticket> = lines.iter().filter_map(|l| policy.ticket(l).ok()).collect();
    if tickets.is_empty() {
        eprintln!("error: no valid tickets in `{}`", tickets_path.display());
        return ExitCode::from(1);
    }
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    println!(
        "policy {} · {} rules and rows · {} signal slots · {} tickets (avg {} bytes){}",
        args.policy.display(),
        policy.program().branches.len() + policy.program().priority_rules.len(),
        policy.program().slot_count(),
        tickets.len(),
        bytes / lines.len().max(1),
        if policy.has_model() { " · classifier model loaded" } else { "" }
    );
    println!("load + check + lower (median of {runs}): {:.2} ms", median(compile_times) * 1e3);
    let engines: Vec<EngineKind> = match args.engine {
        Some(e) => vec![e.into()],
        None => crate::commands::EngineArg::all().into_iter().map(Into::into).collect(),
    };
    let mut blocks: Vec<Vec<f64>> = Vec::with_capacity(tickets.len());
    for t in &tickets {
        let mut block = Vec::new();
        policy.signal_block(t, &mut block);
        blocks.push(block);
    }
    let mut per_engine = Vec::new();
    for engine in engines {
        // Loading builds the default engine; start from the interpreter so the
        // JIT's compile time is measured on its own.
        let fresh = match load_policy(&args.policy).map(|p| p.with_engine(EngineKind::Interpreter)) {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
            Err(code) => return code,
        };
        let started = Instant::now();
        let policy = match fresh.with_engine(engine) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        };
        let engine_compile = started.elapsed().as_secs_f64();
        let decide_ns = measure_decide(&policy, &blocks, runs);
        let (signals_rate, route_rate) = measure_end_to_end(&policy, &tickets, &lines, &ctx, runs);
        per_engine.push((engine, engine_compile, decide_ns, signals_rate, route_rate));
    }
    println!();
    println!(
        "{:<12} {:>14} {:>16} {:>22} {:>22}",
        "engine", "engine build", "decide ns/ticket", "signals+decide tkt/s", "json→decision tkt/s"
    );
    for (engine, compile, ns, sig, route) in &per_engine {
        println!(
            "{:<12} {:>11.2} ms {:>16.1} {:>22.0} {:>22.0}",
            format!("{engine:?}").to_lowercase(),
            compile * 1e3,
            ns,
            sig,
            route
        );
    }
    if let [(_, _, interp_ns, ..), (_, _, jit_ns, ..)] = per_engine.as_slice() {
        if *jit_ns > 0.0 {
            println!("\njit speed-up on decision logic: {:.1}×", interp_ns / jit_ns);
        }
    }
    ExitCode::SUCCESS
}

fn measure_decide(policy: &Policy, blocks: &[Vec<f64>], runs: usize) -> f64 {
    // Repeat the corpus until one run takes long enough to time reliably.
    let reps = (200_000 / blocks.len().max(1)).max(1);
    let mut samples = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        for _ in 0..reps {
            for b in blocks {
                black_box(policy.decide(black_box(b)));
            }
        }
        samples.push(started.elapsed().as_secs_f64() * 1e9 / (reps * blocks.len()) as f64);
    }
    median(samples)
}

fn measure_end_to_end(
    policy: &Policy,
    tickets: &[Ticket],
    lines: &[&str],
    ctx: &routec_runtime::Context,
    runs: usize,
) -> (f64, f64) {
    let reps = (50_000 / tickets.len().max(1)).max(1);
    let mut signal_rates = Vec::new();
    let mut route_rates = Vec::new();
    let mut block = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        for _ in 0..reps {
            for t in tickets {
                policy.signal_block(t, &mut block);
                black_box(policy.decide(&block));
            }
        }
        signal_rates.push((reps * tickets.len()) as f64 / started.elapsed().as_secs_f64());
        let started = Instant::now();
        let mut n = 0usize;
        for _ in 0..reps.div_ceil(4) {
            for l in lines {
                if let Ok(t) = policy.ticket(l) {
                    black_box(policy.route(&t, ctx));
                    n += 1;
                }
            }
        }
        route_rates.push(n as f64 / started.elapsed().as_secs_f64());
    }
    (median(signal_rates), median(route_rates))
}
