//! What one edit costs the language server's analysis, outside the server:
//! on the generated policy of its latency benchmark, flip a rule's
//! condition (`intent == account` ↔ `intent == billing`) back and forth and
//! time the proofs with the cache the server keeps, in both modes:
//! `Exact` (the findings of `routec check`) and `Sound` (answers carried
//! over the edit where they still hold; after each, the exact pass runs as
//! in the server, and the example counts the versions whose findings it
//! changed). Run it optimised:
//!
//! ```text
//! cargo run --release -p routec-compiler --example proof_edit [-- LINES RULE ROUNDS [MODE]]
//! ```
//!
//! MODE `sound` times sound passes only, one after the other (as while
//! typing without pauses); `names` times names and types (the incremental
//! parse and the checks) instead of the proofs. With `SHOW=1` in the
//! environment, the findings that differ between the passes are printed.

use routec_compiler::ide::{
    analyze_without_proofs, analyze_without_proofs_cached, proofs, proofs_cached, proofs_with, ParseCache, ProofCache,
    Ran, Reuse, Stop,
};
use routec_compiler::{NoImports, SourceDb};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let arg = |n: usize, default: usize| std::env::args().nth(n).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (lines, rule, rounds) = (arg(1, 5000), arg(2, 5), arg(3, 10).max(1));
    let mode = std::env::args().nth(4).unwrap_or_default();
    let text = routec_compiler::synthetic::editor_policy(lines);
    let Some(start) = text.find(&format!("rule rule_{rule} when")) else {
        eprintln!("no rule_{rule} in the generated policy");
        std::process::exit(2);
    };
    let Some(at) = text[start..].find("account").map(|a| start + a) else {
        eprintln!("rule_{rule} does not test `account`");
        std::process::exit(2);
    };
    let version = |intent: &str| format!("{}{intent}{}", &text[..at], &text[at + "account".len()..]);
    if mode == "names" {
        names_and_types([version("account"), version("billing")], rounds);
        return;
    }
    let analyze = |source: String| {
        let mut db = SourceDb::new();
        let root = db.add("/bench/policy.route", source);
        analyze_without_proofs(db, root, &NoImports)
    };
    let (a, b) = (analyze(version("account")), analyze(version("billing")));
    let started = Instant::now();
    let fresh = proofs(&a).len();
    println!("fresh proofs: {:.1} ms, {fresh} findings", ms(started));
    let never: Stop = Arc::new(|| false);
    let modes: &[Reuse] = if mode == "sound" { &[Reuse::Sound] } else { &[Reuse::Exact, Reuse::Sound] };
    for &reuse in modes {
        let mut cache = ProofCache::default();
        proofs_cached(&a, &mut cache);
        let mut times = Vec::new();
        let mut differing = 0;
        for round in 0..rounds {
            let analysis = if round % 2 == 0 { &b } else { &a };
            let started = Instant::now();
            let Some((found, ran)) = proofs_with(analysis, &mut cache, reuse, never.clone()) else { return };
            times.push(ms(started));
            if ran == Ran::Sound && mode != "sound" {
                let exact = proofs_cached(analysis, &mut cache);
                if exact != found {
                    differing += 1;
                    if std::env::var_os("SHOW").is_some() {
                        found.iter().filter(|d| !exact.contains(d)).for_each(|d| eprintln!("sound: {d:?}"));
                        exact.iter().filter(|d| !found.contains(d)).for_each(|d| eprintln!("exact: {d:?}"));
                    }
                }
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{reuse:?}: proofs after an edit of rule_{rule}'s condition: median {:.1} ms (min {:.1}, max {:.1}) over {rounds}{}",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            if reuse == Reuse::Sound && mode != "sound" {
                format!("; the exact pass changed the findings of {differing}")
            } else {
                String::new()
            }
        );
    }
}

fn names_and_types(versions: [String; 2], rounds: usize) {
    let mut cache = ParseCache::default();
    let mut times = Vec::new();
    for round in 0..rounds {
        let started = Instant::now();
        let mut db = SourceDb::new();
        let root = db.add("/bench/policy.route", versions[round % 2].clone());
        let analysis = analyze_without_proofs_cached(db, root, &NoImports, &mut cache);
        times.push(ms(started));
        drop(analysis);
    }
    times.sort_by(f64::total_cmp);
    println!("names and types after the edit: median {:.2} ms over {rounds}", times[times.len() / 2]);
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}
