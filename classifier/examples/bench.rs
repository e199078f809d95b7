//! Prediction benchmark: model load time, file size, predictions per second
//! on one core for tickets of about 600 bytes, and heap allocations per
//! prediction (counted by a wrapping global allocator, to show that
//! prediction does not allocate per feature).
//!
//! ```text
//! cargo run --release -p routec-classifier --example bench -- MODEL DATA [TARGET_BYTES]
//! ```
//!
//! DATA is a labelled CSV / JSON Lines file whose fields the model reads
//! (e.g. ../shared/data/support-tickets.csv); the texts of consecutive rows
//! are joined until each ticket's text fields total TARGET_BYTES (default
//! 600). Exits 0 with a message when a file is absent.
#![expect(unsafe_code, reason = "a counting global allocator must implement the unsafe GlobalAlloc trait")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use routec_classifier::{tokenize::tokens, Dataset, Model};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(model_path), Some(data_path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: bench MODEL DATA [TARGET_BYTES]");
        return std::process::ExitCode::FAILURE;
    };
    let target_bytes: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(600);
    let (model_path, data_path) = (PathBuf::from(model_path), PathBuf::from(data_path));
    for path in [&model_path, &data_path] {
        if !path.exists() {
            println!("skipped: {} is absent", path.display());
            return std::process::ExitCode::SUCCESS;
        }
    }

    let size = std::fs::metadata(&model_path).map(|m| m.len()).unwrap_or(0);
    let started = Instant::now();
    let loads = 20;
    let mut model = None;
    for _ in 0..loads {
        model = Some(Model::load(&model_path).expect("model loads"));
    }
    let load_ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(loads);
    let model = model.expect("loaded at least once");
    println!(
        "model {}: {:.1} KiB, {} labels, {} feature rows, load {:.2} ms",
        model_path.display(),
        size as f64 / 1024.0,
        model.labels().len(),
        model.n_rows(),
        load_ms
    );

    // Tickets: text fields filled from consecutive rows up to ~target_bytes.
    let data = Dataset::load(&[data_path]).expect("data loads");
    let text_fields = model.info().features.text_fields.clone();
    let meta_fields = model.info().features.meta_fields.clone();
    let texts: Vec<String> = (0..data.len())
        .map(|row| text_fields.iter().filter_map(|f| data.field(row, f)).collect::<Vec<_>>().join("\n"))
        .filter(|t| !t.is_empty())
        .collect();
    let mut tickets: Vec<Vec<(String, String)>> = Vec::new();
    for (idx, _) in texts.iter().enumerate().take(1000) {
        let mut text = String::new();
        let mut next = idx;
        while text.len() < target_bytes {
            text.push_str(&texts[next % texts.len()]);
            text.push(' ');
            next += 1;
        }
        let mut cut = target_bytes.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        let mut fields = vec![(text_fields[0].clone(), text)];
        for meta in &meta_fields {
            if let Some(value) = data.field(idx % data.len(), meta) {
                fields.push((meta.clone(), value.to_owned()));
            }
        }
        tickets.push(fields);
    }
    let mean_bytes = tickets.iter().map(|t| t[0].1.len()).sum::<usize>() as f64 / tickets.len() as f64;
    let mean_tokens = tickets.iter().map(|t| tokens(&t[0].1).len()).sum::<usize>() as f64 / tickets.len() as f64;

    let predict = |fields: &Vec<(String, String)>| {
        model.predict(&|name| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    };
    // Warm up the thread-local buffers.
    for ticket in &tickets {
        black_box(predict(ticket));
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for ticket in &tickets {
        black_box(predict(ticket));
    }
    let allocs_per_prediction = (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / tickets.len() as f64;

    let cpu_started = thread_cpu_seconds();
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed().as_secs_f64() < 3.0 {
        for ticket in &tickets {
            black_box(predict(ticket));
        }
        n += tickets.len() as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    if let (Some(cpu_start), Some(cpu_end)) = (cpu_started, thread_cpu_seconds()) {
        let cpu = cpu_end - cpu_start;
        println!(
            "CPU time of the benchmark thread: {cpu:.2} s of {seconds:.2} s wall; {:.0} predictions per CPU-second",
            n as f64 / cpu
        );
    }
    println!(
        "{} tickets of {:.0} bytes ({:.0} tokens) on one thread: {:.0} predictions/s ({:.2} µs each)",
        tickets.len(),
        mean_bytes,
        mean_tokens,
        n as f64 / seconds,
        seconds * 1e6 / n as f64
    );
    println!(
        "heap allocations per prediction: {allocs_per_prediction:.2} (the field look-up's String per field read plus the top-3 Vec; none per feature)"
    );
    std::process::ExitCode::SUCCESS
}

/// User + system CPU time of the current thread from `/proc/thread-self/stat`
/// (Linux; clock ticks of 1/100 s), so the rate is meaningful on a loaded machine.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
