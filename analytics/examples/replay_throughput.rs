//! Replay throughput on a large generated history: `cargo run --release -p
//! routec-analytics --example replay_throughput -- [TICKETS]` (default
//! 1,000,000). The history is the shipped saas-b2b one repeated with fresh
//! ids and creation times shifted by whole weeks, written to the system temp
//! directory (never committed) and removed afterwards. Prints tickets per
//! second and the process's peak resident memory, which stays flat however
//! long the history is (replay streams).

#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use routec_analytics::{history, replay};
use std::io::{BufWriter, Write};
use std::path::Path;

fn main() {
    let total: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/saas-b2b");
    let source = std::fs::read_to_string(root.join("history.csv")).unwrap();
    let mut lines = source.lines();
    let header = lines.next().unwrap().to_string();
    let rows: Vec<&str> = lines.collect();
    let columns: Vec<&str> = header.split(',').collect();
    let id_at = columns.iter().position(|c| *c == "id").unwrap();
    let path = std::env::temp_dir().join(format!("routec-replay-{}-{total}.csv", std::process::id()));
    {
        let mut out = BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(out, "{header}").unwrap();
        for i in 0..total {
            let row = rows[i % rows.len()];
            let week = (i / rows.len()) as i64;
            // Ids stay unique; times move by whole weeks so schedules see the same hours.
            let fields = history::split_csv(row).unwrap();
            let mut written = Vec::with_capacity(fields.len());
            for (c, field) in fields.iter().enumerate() {
                let value = if c == id_at {
                    format!("{field}-{week}")
                } else if let Some(t) = history::parse_time(field) {
                    (t + jiff::SignedDuration::from_hours(week * 168 % (52 * 168))).to_string()
                } else {
                    field.clone()
                };
                if value.contains([',', '"', '\n']) {
                    written.push(format!("\"{}\"", value.replace('"', "\"\"")));
                } else {
                    written.push(value);
                }
            }
            writeln!(out, "{}", written.join(",")).unwrap();
        }
    }
    let bytes = std::fs::metadata(&path).unwrap().len();
    let policy = routec_runtime::Policy::load(&root.join("policy.route")).unwrap();
    let mapping = history::Mapping::read(&root.join("history.toml")).unwrap();
    let file = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(&path).unwrap());
    let opened = history::open(file, history::Format::Csv, mapping).unwrap();
    let options = replay::Options::default();
    let started = std::time::Instant::now();
    let report = replay::replay(opened, &policy, None, &options, &mut |_: u64, _: u64| {}).unwrap();
    let secs = started.elapsed().as_secs_f64();
    std::fs::remove_file(&path).unwrap();
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM")).map(str::to_string))
        .unwrap_or_default();
    println!(
        "replayed {} tickets ({:.0} MB) in {secs:.2}s on {} threads: {:.0} tickets/s; agreement {:.1}%; {}",
        report.tickets.replayed,
        bytes as f64 / 1e6,
        options.workers,
        report.tickets.replayed as f64 / secs,
        report.agreement.rate().unwrap_or(0.0) * 100.0,
        peak.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
    );
}
