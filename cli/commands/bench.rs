//! `routec bench`: measure a policy's compile time, decision-logic latency
//! with signals precomputed, and end-to-end throughput, per engine; with
//! `--rules N`, also the compile time of a generated N-rule policy. Figures
//! are medians over repeated runs on one thread, in wall time.

use crate::commands::route::{load_policy, parse_context};
use crate::exit::CliError;
use crate::output::Output;
use routec_runtime::advanced::{FieldValue, PolicyInternals, TicketInternals};
use routec_runtime::{EngineKind, Policy, Proofs, Ticket};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
    /// Also time compiling a generated policy with this many ordered rules
    /// (shaped like the saas-b2b example), JIT included.
    #[arg(long, value_name = "N")]
    pub rules: Option<usize>,
}

/// Tickets routed back to back between two clock readings: few enough that
/// they stay in the cache, as a ticket does between parsing and routing.
const WARM_BATCH: usize = 32;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

fn ms(d: f64) -> String {
    format!("{:.2} ms", d * 1e3)
}

/// Time `f` `runs` times; the median in seconds.
fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, Option<T>) {
    let mut samples = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let out = f();
        samples.push(started.elapsed().as_secs_f64());
        last = Some(out);
    }
    (median(samples), last)
}

/// Load the policy being measured (its errors rendered if it does not compile).
/// A missing model is no error here: the measurement is of the engines.
fn load(path: &Path, proofs: Proofs) -> Result<Policy, CliError> {
    let options = routec_runtime::LoadOptions::default().proofs(proofs).tickets_bring_signals(true);
    load_policy(path, &options, crate::stderr_is_terminal(), None)
}

/// Runs `routec bench`.
pub fn run(args: &BenchArgs) -> Result<(), CliError> {
    let tickets_path = args.tickets.clone().unwrap_or_else(|| args.policy.with_file_name("tickets.jsonl"));
    let text = std::fs::read_to_string(&tickets_path).map_err(|e| CliError::read(&tickets_path, e))?;
    let ctx = parse_context(args.now.as_deref(), &[])?;
    let runs = args.runs.max(1);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();

    let (front_end, _) = timed(runs, || load(&args.policy, Proofs::Skip));
    let (with_proofs, policy) = timed(runs, || load(&args.policy, Proofs::Check));
    let policy = policy.ok_or_else(|| CliError::Internal("no timed run".into()))??;
    let tickets: Vec<Ticket> = lines.iter().filter_map(|l| policy.ticket(l).ok()).collect();
    if tickets.is_empty() {
        return Err(CliError::NoValidTickets { path: tickets_path });
    }
    let mut out = Output::stdout();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    writeln!(
        out,
        "policy {} · {} rules and rows · {} signal slots · {} tickets (avg {} bytes){}",
        args.policy.display(),
        policy.program().branches.len() + policy.program().priority_rules.len(),
        policy.program().slot_count(),
        tickets.len(),
        bytes / lines.len().max(1),
        if policy.has_model() { " · classifier model loaded" } else { "" }
    )?;
    writeln!(
        out,
        "load (median of {runs}): ready to route (parse, check, lower, JIT, model) {} · with the proofs {}",
        ms(front_end),
        ms(with_proofs)
    )?;
    if let Some(rules) = args.rules {
        bench_generated(rules, runs, &mut out)?;
    }

    let engines: Vec<EngineKind> = match args.engine {
        Some(e) => vec![e.into()],
        None => crate::commands::EngineArg::all().into_iter().map(Into::into).collect(),
    };
    // One contiguous buffer, one block after another, as a batch router would keep them.
    let stride = policy.program().slot_count();
    let mut blocks: Vec<f64> = Vec::with_capacity(tickets.len() * stride);
    let mut block = Vec::new();
    for t in &tickets {
        policy.signal_block(t, &mut block);
        blocks.extend_from_slice(&block);
    }
    let mut per_engine = Vec::new();
    for engine in engines {
        // Building an engine consumes the policy: time each build from a fresh one.
        let mut builds = Vec::new();
        let mut built = None;
        for _ in 0..runs {
            let fresh =
                load(&args.policy, Proofs::Skip)?.with_engine(EngineKind::Interpreter).map_err(CliError::Engine)?;
            let started = Instant::now();
            built = Some(fresh.with_engine(engine).map_err(CliError::Engine)?);
            builds.push(started.elapsed().as_secs_f64());
        }
        let Some(policy) = built else { return Err(CliError::Internal("no engine was built".into())) };
        let decide_ns = measure_decide(&policy, &blocks, stride, runs);
        let signals_rate = measure_signals(&policy, &tickets, runs);
        let route_rate = measure_route(&policy, &lines, &ctx, runs);
        per_engine.push((engine, median(builds), decide_ns, signals_rate, route_rate));
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<12} {:>14} {:>16} {:>22} {:>22}",
        "engine", "engine build", "decide ns/ticket", "signals+decide tkt/s", "json→decision tkt/s"
    )?;
    for (engine, compile, ns, sig, route) in &per_engine {
        writeln!(
            out,
            "{:<12} {:>14} {:>16.1} {:>22.0} {:>22.0}",
            format!("{engine:?}").to_lowercase(),
            ms(*compile),
            ns,
            sig,
            route
        )?;
    }
    if let [(_, _, interp_ns, ..), (_, _, jit_ns, ..)] = per_engine.as_slice() {
        if *jit_ns > 0.0 {
            writeln!(out, "\njit speed-up on decision logic: {:.1}×", interp_ns / jit_ns)?;
        }
    }
    writeln!(
        out,
        "\ndecide: signal blocks precomputed, one contiguous buffer. signals+decide: from a validated ticket, \
         keyword sets, regexes and the classifier (when the ticket brings no `signals`) included, {WARM_BATCH} \
         tickets per timed batch after reading them into the cache. json→decision: parse, validate, route and \
         build the explained decision."
    )?;
    Ok(())
}

/// Compile a generated policy with `rules` ordered rules: the compiler's
/// front end alone, the whole runtime policy (front end, signal extraction,
/// JIT), and the same with the proofs.
fn bench_generated(rules: usize, runs: usize, out: &mut Output<impl std::io::Write>) -> Result<(), CliError> {
    let source = routec_compiler::synthetic::policy(rules);
    let name = format!("generated-{rules}.route");
    let compile = |proofs: Proofs| -> Result<Policy, CliError> {
        Policy::compile_with(&name, &source, proofs).map_err(|e| {
            CliError::Internal(format!(
                "the generated policy does not load: {}",
                crate::exit::message(&CliError::Policy(e))
            ))
        })
    };
    let (front_end, _) = timed(runs, || {
        let mut db = routec_compiler::SourceDb::new();
        let root = db.add(name.as_str(), source.as_str());
        black_box(routec_compiler::compile_with(db, root, &routec_compiler::NoImports, Proofs::Skip).is_ok())
    });
    let (total, policy) = timed(runs, || compile(Proofs::Skip));
    let (with_proofs, _) = timed(runs, || compile(Proofs::Check));
    let policy = policy.ok_or_else(|| CliError::Internal("no timed run".into()))??;
    writeln!(
        out,
        "generated policy ({rules} rules, {} lines): parse + check + lower {} · ready to route, JIT included {} · \
         with the proofs {}",
        source.lines().count(),
        ms(front_end),
        ms(total),
        ms(with_proofs)
    )?;
    black_box(policy);
    Ok(())
}

fn measure_decide(policy: &Policy, blocks: &[f64], stride: usize, runs: usize) -> f64 {
    let count = blocks.len() / stride.max(1);
    // Repeat the corpus until one run takes long enough to time reliably.
    let reps = (400_000 / count.max(1)).max(1);
    let mut samples = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        for _ in 0..reps {
            for b in blocks.chunks_exact(stride.max(1)) {
                black_box(policy.decide(black_box(b)));
            }
        }
        samples.push(started.elapsed().as_secs_f64() * 1e9 / (reps * count) as f64);
    }
    median(samples)
}

/// Read every byte a ticket holds, as parsing it would have.
fn touch(t: &Ticket) -> u64 {
    t.values()
        .iter()
        .map(|v| match v {
            FieldValue::Text(s) => s.bytes().fold(0u64, |a, b| a.wrapping_add(b as u64)),
            FieldValue::List(items) => items.iter().map(|s| s.len() as u64).sum(),
            FieldValue::Number(n) => n.to_bits(),
            FieldValue::Absent => 0,
        })
        .fold(0, u64::wrapping_add)
}

fn measure_signals(policy: &Policy, tickets: &[Ticket], runs: usize) -> f64 {
    let reps = (100_000 / tickets.len().max(1)).max(1);
    let mut rates = Vec::new();
    let mut block = Vec::new();
    for _ in 0..runs {
        let mut busy = Duration::ZERO;
        for _ in 0..reps {
            for batch in tickets.chunks(WARM_BATCH) {
                black_box(batch.iter().map(touch).fold(0, u64::wrapping_add));
                let started = Instant::now();
                for t in batch {
                    black_box(policy.signal_block(t, &mut block));
                    black_box(policy.decide(&block));
                }
                busy += started.elapsed();
            }
        }
        rates.push((reps * tickets.len()) as f64 / busy.as_secs_f64());
    }
    median(rates)
}

fn measure_route(policy: &Policy, lines: &[&str], ctx: &routec_runtime::Context, runs: usize) -> f64 {
    let reps = (20_000 / lines.len().max(1)).max(1);
    let mut rates = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let mut n = 0usize;
        for _ in 0..reps {
            for l in lines {
                if let Ok(t) = policy.ticket(l) {
                    black_box(policy.route(&t, ctx));
                    n += 1;
                }
            }
        }
        rates.push(n as f64 / started.elapsed().as_secs_f64());
    }
    median(rates)
}
