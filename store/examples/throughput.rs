//! A short throughput check of the decision log's group commit: `RECORDS`
//! decisions recorded from `TASKS` concurrent tasks (one `record` each, or
//! `record_batch` of `--batch N`), then records/s, latency percentiles and
//! how many decisions each commit carried.
//!
//! ```text
//! cargo run --release -p routec-store --example throughput -- \
//!     [--url sqlite:/tmp/x.db | postgres://…] [--records 50000] [--tasks 256] [--batch 1] [--normal]
//! ```
//!
//! Without `--url` it writes a fresh SQLite file in a temporary directory.
//! On PostgreSQL it writes into the database named (use a scratch one).

use std::time::{Duration, Instant};

use routec_store::{Durability, NewDecision, Store, StoreOptions};
use serde_json::json;

struct Args {
    url: Option<String>,
    records: usize,
    tasks: usize,
    batch: usize,
    durability: Durability,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { url: None, records: 50_000, tasks: 256, batch: 1, durability: Durability::Full };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let mut value = || words.next().ok_or_else(|| format!("`{word}` needs a value"));
        let number = |text: String| text.parse::<usize>().map_err(|e| format!("`{text}`: {e}"));
        match word.as_str() {
            "--url" => args.url = Some(value()?),
            "--records" => args.records = number(value()?)?,
            "--tasks" => args.tasks = number(value()?)?.max(1),
            "--batch" => args.batch = number(value()?)?.max(1),
            "--normal" => args.durability = Durability::Normal,
            _ => return Err(format!("unknown argument `{word}`")),
        }
    }
    Ok(args)
}

fn decision(run: u128, n: usize) -> NewDecision {
    let ticket = format!("bench-{run}-{n}");
    let destination = ["billing", "sales", "support", "refunds"][n % 4];
    NewDecision {
        ticket_id: Some(ticket.clone()),
        dedup_key: format!("{ticket}:v1"),
        content_hash: format!("{:064x}", n),
        policy_hash: "3f0ff3a1".to_owned(),
        policy_name: "support".to_owned(),
        policy_version: 1,
        decided_at: jiff::Timestamp::now(),
        destination: Some(destination.to_owned()),
        priority: "normal".to_owned(),
        escalation: None,
        decision: json!({
            "ticket_id": ticket, "destination": {"name": destination, "rule": "by-topic"},
            "priority": "normal", "signals": {"topic": "billing", "sentiment": -0.2},
        }),
        shadow: None,
        ticket: json!({"id": ticket, "subject": "Refund for order 4411", "channel": "email",
                       "customer": {"tier": "gold"}, "body": "I was charged twice this month."}),
        outbox: Vec::new(),
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let dir = tempfile::tempdir()?;
    let url = args.url.clone().unwrap_or_else(|| format!("sqlite:{}", dir.path().join("bench.db").display()));
    let options = StoreOptions { durability: args.durability, ..StoreOptions::default() };
    let store = Store::open(&url, options).await?;
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let calls = args.records.div_ceil(args.batch);
    let per_task = calls.div_ceil(args.tasks);

    let before = store.writer_stats();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..args.tasks {
        let store = store.clone();
        let (batch, records) = (args.batch, args.records);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_task);
            for call in 0..per_task {
                let first = (task * per_task + call) * batch;
                if first >= records {
                    break;
                }
                let decisions: Vec<_> = (first..(first + batch).min(records)).map(|n| decision(run, n)).collect();
                let sent = Instant::now();
                store.record_batch(decisions).await?;
                latencies.push(sent.elapsed());
            }
            Ok::<_, routec_store::StoreError>(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(calls);
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    let stats = store.writer_stats();
    latencies.sort_unstable();

    let commits = stats.commits - before.commits;
    let written = stats.decisions - before.decisions;
    println!("store       {} ({:?})", store.backend().name(), args.durability);
    println!("records     {written} in {calls} calls of {} from {} tasks", args.batch, args.tasks);
    println!("elapsed     {:.2} s", elapsed.as_secs_f64());
    println!("throughput  {:.0} records/s", written as f64 / elapsed.as_secs_f64());
    println!(
        "latency     p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (per call)",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        percentile(&latencies, 1.0).as_secs_f64() * 1e3,
    );
    println!("commits     {commits} ({:.1} records per commit)", written as f64 / commits.max(1) as f64);
    Ok(())
}
