//! Benchmark of the proofs on the generated policy of `routec bench
//! --rules N` (`synthetic::policy`): `analyze` with and without the proofs,
//! alternating run by run so both see the same machine load, and the
//! median of each. Not a test: run it in release mode,
//!
//! ```text
//! cargo run --release -p routec-compiler --example bench_proofs -- 1000
//! ```
//!
//! The issue-17 target is a median under 200 ms with the proofs at 1,000 rules.

use routec_compiler::{analyze_with, synthetic, NoImports, Proofs, SourceDb};
use std::time::{Duration, Instant};

/// Timed runs of each kind; the median is reported.
const RUNS: usize = 11;

fn time(text: &str, proofs: Proofs) -> (Duration, usize) {
    let mut db = SourceDb::new();
    let root = db.add("generated.route", text.to_owned());
    let started = Instant::now();
    let analysis = analyze_with(db, root, &NoImports, proofs);
    (started.elapsed(), analysis.diagnostics.len())
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort_unstable();
    times[times.len() / 2].as_secs_f64() * 1e3
}

fn main() {
    let rules = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let text = synthetic::policy(rules);
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let mut findings = 0;
    for _ in 0..RUNS {
        let (t, n) = time(&text, Proofs::Check);
        with.push(t);
        findings = n;
        without.push(time(&text, Proofs::Skip).0);
    }
    println!(
        "generated policy, {rules} rules: analyze with the proofs {:.1} ms ({findings} diagnostics), without {:.1} ms (medians of {RUNS}, alternating)",
        median(with),
        median(without)
    );
}
