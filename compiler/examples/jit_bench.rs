//! JIT against interpreter: compile time of a generated 1,000-rule policy
//! (front end and JIT) and nanoseconds per decision with the signal blocks
//! precomputed, as medians of repeated runs.
//!
//! ```text
//! cargo run --release -p routec-compiler --example jit_bench [-- --with-analysis]
//! ```
//!
//! End-to-end figures (ticket JSON → signals → decision) belong to
//! `routec bench`, which needs the runtime.

use routec_compiler::ir::{Cond, Program, SlotSource, Val};
use routec_compiler::jit::{self, JitOptions, JitPolicy, OptLevel};
use routec_compiler::{interp, semantic, Diagnostics, Loader, NoImports, SourceDb};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const COMPILE_RUNS: usize = 15;
const DECIDE_RUNS: usize = 21;
const BLOCKS: usize = 4096;

#[allow(clippy::disallowed_methods, reason = "a benchmark binary reading the repository's example policies")]
fn main() {
    if !jit::host_supported() {
        eprintln!("Cranelift has no backend for this machine; nothing to compare");
        std::process::exit(1);
    }
    let with_analysis = std::env::args().any(|a| a == "--with-analysis");
    let clock = if thread_cpu_time().is_some() { "on-CPU time of this thread" } else { "wall time" };
    println!("compile time, generated policy with 1,000 rules (median of {COMPILE_RUNS} runs, {clock})");
    println!("  front end = parse + names/types + lowering to IR (no analyses); jit = JitPolicy::compile");
    let source = routec_compiler::synthetic::policy(1000);
    let mut generated = None;
    for opt_level in [OptLevel::None, OptLevel::Speed] {
        let options = JitOptions { opt_level };
        let mut front = Vec::new();
        let mut back = Vec::new();
        let mut total = Vec::new();
        let mut code_size = 0;
        let mut slots = 0;
        for _ in 0..COMPILE_RUNS {
            let start = Stopwatch::start();
            let program = front_end("generated.route", &source, &NoImports);
            let lowered = start.elapsed();
            let policy = JitPolicy::compile_with(&program, &options).unwrap_or_else(|e| fail(&e.to_string()));
            let done = start.elapsed();
            front.push(lowered);
            back.push(done - lowered);
            total.push(done);
            code_size = policy.code_size();
            slots = program.slot_count();
            generated = Some(program);
        }
        println!(
            "  opt_level {:<5}  front end {:>7.2} ms  jit {:>7.2} ms  total {:>7.2} ms  ({} slots, {} bytes of code)",
            format!("{opt_level:?}").to_lowercase(),
            ms(median(&mut front)),
            ms(median(&mut back)),
            ms(median(&mut total)),
            slots,
            code_size,
        );
    }
    if with_analysis {
        let start = Stopwatch::start();
        let mut db = SourceDb::new();
        let root = db.add("generated.route", source.clone());
        let analysis = routec_compiler::analyze(db, root, &NoImports);
        println!(
            "  routec_compiler::analyze (with the analyses), once: {:.2} ms, {} diagnostics",
            ms(start.elapsed()),
            analysis.diagnostics.len()
        );
    } else {
        println!("  (the analyses are not included; `-- --with-analysis` times `routec_compiler::analyze` once)");
    }

    println!("\nns per decision, {BLOCKS} precomputed blocks (median of {DECIDE_RUNS} runs, {clock})");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut programs: Vec<(String, Program)> = Vec::new();
    for name in ["saas-b2b", "it-helpdesk"] {
        let dir = examples.join(name);
        let path = dir.join("policy.route");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                programs.push((name.to_string(), front_end(&path.display().to_string(), &text, &Files { dir })))
            }
            Err(e) => eprintln!("skipping {}: {e}", path.display()),
        }
    }
    if let Some(program) = generated {
        programs.push(("generated-1000".to_string(), program));
    }
    for (name, program) in &programs {
        for kind in [BlockKind::TicketLike, BlockKind::Random] {
            let blocks = blocks(program, BLOCKS, kind);
            for opt_level in [OptLevel::None, OptLevel::Speed] {
                let jit = JitPolicy::compile_with(program, &JitOptions { opt_level })
                    .unwrap_or_else(|e| fail(&e.to_string()));
                for block in &blocks {
                    if jit.decide(block) != interp::decide(program, block) {
                        fail(&format!("{name}: the engines disagree on {block:?}"));
                    }
                }
                let jit_ns = ns_per_decision(&blocks, |b| jit.decide(b));
                let interp_ns = ns_per_decision(&blocks, |b| interp::decide(program, b));
                println!(
                "  {name:<15} {:<11} opt_level {:<5}  jit {jit_ns:>7.1} ns  interp {interp_ns:>8.1} ns  speed-up {:>5.1}x  ({} slots, {} branches)",
                format!("{kind:?}"),
                format!("{opt_level:?}").to_lowercase(),
                interp_ns / jit_ns,
                program.slot_count(),
                program.branches.len(),
            );
            }
        }
    }
}

/// How the benchmark fills signal blocks.
#[derive(Clone, Copy, Debug)]
enum BlockKind {
    /// Text tests (keywords, regexes, string tests) mostly 0.0, rollout buckets
    /// uniform, other slots from the constants the program compares against
    /// (NaN included): roughly what tickets look like.
    TicketLike,
    /// Every slot from the constants and NaN: branches the CPU cannot predict.
    Random,
}

/// Median over runs of the mean time per call over all blocks.
fn ns_per_decision<R: std::fmt::Debug>(blocks: &[Vec<f64>], decide: impl Fn(&[f64]) -> R) -> f64 {
    let mut runs = Vec::with_capacity(DECIDE_RUNS);
    // Warm up caches and the branch predictor once.
    for block in blocks {
        black_box(decide(black_box(block)));
    }
    for _ in 0..DECIDE_RUNS {
        let start = Stopwatch::start();
        let mut reps = 0usize;
        while start.wall.elapsed() < Duration::from_millis(20) {
            for block in blocks {
                black_box(decide(black_box(block)));
            }
            reps += 1;
        }
        runs.push(start.elapsed() / u32::try_from(reps * blocks.len()).unwrap_or(u32::MAX));
    }
    median(&mut runs).as_secs_f64() * 1e9
}

/// Times an interval by the on-CPU time of this thread (from
/// `/proc/thread-self/schedstat`), so that other processes competing for the
/// machine's cores do not inflate the figures; wall time where that file is missing.
struct Stopwatch {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch { wall: Instant::now(), cpu: thread_cpu_time() }
    }

    fn elapsed(&self) -> Duration {
        match (self.cpu, thread_cpu_time()) {
            (Some(start), Some(now)) => now.saturating_sub(start),
            _ => self.wall.elapsed(),
        }
    }
}

#[allow(clippy::disallowed_methods, reason = "a benchmark binary reading its own figures from /proc")]
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(1)
}

/// Serves a policy's imports from its folder.
struct Files {
    dir: PathBuf,
}

#[allow(clippy::disallowed_methods, reason = "a benchmark binary reading the repository's example policies")]
impl Loader for Files {
    fn load(&self, _importer: &str, path: &str) -> Result<(String, String), String> {
        let full = self.dir.join(path);
        std::fs::read_to_string(&full).map(|text| (full.display().to_string(), text)).map_err(|e| e.to_string())
    }
}

/// Parse, check and lower, as `routec_compiler::compile` does minus the
/// analyses (proofs about the policy, which do not change the program).
fn front_end(name: &str, source: &str, loader: &dyn Loader) -> Program {
    let mut db = SourceDb::new();
    let root = db.add(name, source.to_string());
    let mut diagnostics = Diagnostics::new();
    let parsed = semantic::parse_all(&mut db, root, loader, &mut diagnostics);
    let hir = semantic::check(&db, &parsed, loader, &mut diagnostics);
    if diagnostics.has_errors() {
        let mut message = format!("{name} does not compile:\n");
        for d in diagnostics.into_sorted().iter().filter(|d| d.is_error()).take(10) {
            let _ = writeln!(message, "  {}: {}", d.code, d.message);
        }
        fail(&message);
    }
    routec_compiler::ir::lower(&hir)
}

/// Blocks drawn (xorshift, fixed seed) from NaN and the constants the program compares against.
fn blocks(program: &Program, count: usize, kind: BlockKind) -> Vec<Vec<f64>> {
    fn walk(cond: &Cond, pool: &mut Vec<f64>) {
        match cond {
            Cond::Const(_) => {}
            Cond::And(parts) | Cond::Or(parts) => parts.iter().for_each(|p| walk(p, pool)),
            Cond::Not(inner) => walk(inner, pool),
            Cond::Cmp { lhs, rhs, .. } => {
                for v in [lhs, rhs] {
                    if let Val::Const(c) = v {
                        pool.extend([*c, *c - 1.0, *c + 1.0]);
                    }
                }
            }
        }
    }
    let mut pool = vec![f64::NAN, 0.0, 1.0];
    program.priority_rules.iter().for_each(|r| walk(&r.cond, &mut pool));
    program.branches.iter().for_each(|b| walk(&b.cond, &mut pool));
    let mut seen = std::collections::HashSet::new();
    pool.retain(|v| seen.insert(v.to_bits()));
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            program
                .slots
                .iter()
                .map(|source| {
                    let r = next();
                    let from_pool = pool[(r % pool.len() as u64) as usize];
                    match (kind, source) {
                        (BlockKind::Random, _) => from_pool,
                        (_, SlotSource::Keywords { .. } | SlotSource::Regex { .. } | SlotSource::StringTest { .. }) => {
                            if r % 10 == 0 {
                                1.0
                            } else {
                                0.0
                            }
                        }
                        (_, SlotSource::Bucket) => (r % 10_000) as f64 / 100.0,
                        _ => from_pool,
                    }
                })
                .collect()
        })
        .collect()
}
