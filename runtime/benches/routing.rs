//! Criterion benches for the figures `routec bench` prints, on the shipped
//! `examples/saas-b2b` policy: decision logic per engine with the signal
//! blocks precomputed, signals + decision from a validated 1 KB ticket, the
//! whole route from JSON, and compiling a generated 1,000-rule policy.
//!
//! ```text
//! cargo bench -p routec-runtime --bench routing
//! ```

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use routec_compiler::synthetic;
use routec_runtime::advanced::PolicyInternals;
use routec_runtime::{Context, EngineKind, Policy, Proofs, Ticket};
use std::hint::black_box;
use std::path::Path;

fn example() -> Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/saas-b2b/policy.route");
    match Policy::load(&path) {
        Ok(p) => p,
        Err(e) => panic!("the shipped example does not load: {e}"),
    }
}

fn tickets(policy: &Policy, lines: &[String]) -> Vec<Ticket> {
    lines.iter().filter_map(|l| policy.ticket(l).ok()).collect()
}

fn decide(c: &mut Criterion) {
    let lines = synthetic::saas_tickets(1024, 1000);
    let mut group = c.benchmark_group("decide");
    group.throughput(Throughput::Elements(lines.len() as u64));
    for engine in [EngineKind::Jit, EngineKind::Interpreter] {
        let Ok(policy) = example().with_engine(engine) else { continue };
        let stride = policy.program().slot_count();
        let mut blocks = Vec::new();
        let mut block = Vec::new();
        for t in tickets(&policy, &lines) {
            policy.signal_block(&t, &mut block);
            blocks.extend_from_slice(&block);
        }
        group.bench_function(format!("{engine:?}").to_lowercase(), |b| {
            b.iter(|| {
                for block in blocks.chunks_exact(stride.max(1)) {
                    black_box(policy.decide(black_box(block)));
                }
            })
        });
    }
    group.finish();
}

fn signals(c: &mut Criterion) {
    let policy = example();
    let lines = synthetic::saas_tickets(32, 1000);
    let tickets = tickets(&policy, &lines);
    let mut group = c.benchmark_group("signals+decide, 1 KB tickets");
    group.throughput(Throughput::Elements(tickets.len() as u64));
    let mut block = Vec::new();
    group.bench_function("jit", |b| {
        b.iter(|| {
            for t in &tickets {
                black_box(policy.signal_block(t, &mut block));
                black_box(policy.decide(&block));
            }
        })
    });
    group.finish();
}

fn route(c: &mut Criterion) {
    let policy = example();
    let lines = synthetic::saas_tickets(32, 1000);
    let ctx = Context::at("2026-11-24T15:30:00Z".parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH));
    let mut group = c.benchmark_group("json→decision, 1 KB tickets");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("jit", |b| {
        b.iter(|| {
            for l in &lines {
                if let Ok(t) = policy.ticket(l) {
                    black_box(policy.route(&t, &ctx));
                }
            }
        })
    });
    group.finish();
}

fn compile(c: &mut Criterion) {
    let source = synthetic::policy(1000);
    let mut group = c.benchmark_group("compile 1,000 rules");
    group.sample_size(20);
    group.bench_function("ready to route, JIT included", |b| {
        b.iter_batched(
            || source.clone(),
            |s| black_box(Policy::compile_with("generated.route", &s, Proofs::Skip).is_ok()),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, decide, signals, route, compile);
criterion_main!(benches);
