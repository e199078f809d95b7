//! Load benchmark of `routec serve`: starts the service in this process on a
//! free loopback port (the example policy, a fresh SQLite log in a
//! temporary directory, or a PostgreSQL database given with `--db`), then
//! drives it over N keep-alive HTTP/1.1 connections for a bounded time and
//! prints requests/s, decisions/s and p50/p99 latency, first for single
//! routes (`POST /v1/route`), then for batches (`POST /v1/route/batch`).
//! Every ticket has its own id, so every request is a fresh decision
//! committed to the log (no idempotent replays).
//!
//! ```text
//! cargo run --release -p routec-server --example load -- \
//!     [--seconds 5] [--connections 32] [--batch 1000] [--batch-connections 2] \
//!     [--db postgres://user@127.0.0.1/db] [--durability full|normal] [--only single|batch]
//! ```
//!
//! `--durability` overrides the store's default (SQLite `normal`, PostgreSQL
//! `full`; see docs/serve.md); `--only` runs one of the two phases.
//!
//! Bounded: at most 60 s per phase, 256 connections; only 127.0.0.1.

use routec_server::config::{Config, ConfigFile, Overrides};
use routec_server::shutdown::Shutdown;
use routec_server::{api, wall_clock, Service};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const TOKEN: &str = "load-benchmark-token";
const MAX_SECONDS: u64 = 60;
const MAX_CONNECTIONS: usize = 256;
const MAX_BATCH: usize = 10_000;

struct Args {
    seconds: u64,
    connections: usize,
    batch: usize,
    batch_connections: usize,
    db: Option<String>,
    durability: Option<routec_store::Durability>,
    single: bool,
    batches: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 5,
        connections: 32,
        batch: 1000,
        batch_connections: 2,
        db: None,
        durability: None,
        single: true,
        batches: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("`{flag}` needs a value"));
        let number = |text: String| text.parse::<u64>().map_err(|_| format!("`{text}` is not a whole number"));
        match flag.as_str() {
            "--seconds" => args.seconds = number(value()?)?.clamp(1, MAX_SECONDS),
            "--connections" => args.connections = (number(value()?)? as usize).clamp(1, MAX_CONNECTIONS),
            "--batch" => args.batch = (number(value()?)? as usize).clamp(1, MAX_BATCH),
            "--batch-connections" => args.batch_connections = (number(value()?)? as usize).clamp(1, MAX_CONNECTIONS),
            "--db" => args.db = Some(value()?),
            "--durability" => {
                args.durability = Some(match value()?.as_str() {
                    "full" => routec_store::Durability::Full,
                    "normal" => routec_store::Durability::Normal,
                    other => return Err(format!("`{other}` is not `full` or `normal`")),
                })
            }
            "--only" => match value()?.as_str() {
                "single" => args.batches = false,
                "batch" => args.single = false,
                other => return Err(format!("`{other}` is not `single` or `batch`")),
            },
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    // The service's warnings and errors (a failed store write says why here).
    let _ = tracing_subscriber::fmt().with_env_filter("warn").with_writer(std::io::stderr).try_init();
    let site = tempfile::tempdir().expect("a temporary directory");
    let policy = copy_example(site.path());
    // The service and the load generator share the machine: the server gets
    // the worker threads tokio would give it anyway, the clients one thread.
    let server_runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let shutdown = Shutdown::new();
    let (addr, backend) = server_runtime.block_on(start(&policy, &args, shutdown.clone()));
    println!("routec serve (in process) on http://{addr}, store {backend}, policy examples/saas-b2b");
    let template = Arc::new(TicketTemplate::new());
    decide_only(&policy, &template, args.seconds.min(2));
    let client_runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    if args.single {
        let single = client_runtime.block_on(drive(addr, &template, args.connections, 1, args.seconds));
        single.print(&format!("single  ({} connections)", args.connections));
    }
    let after_single = client_runtime.block_on(time_split(addr));
    if args.batches {
        let batch = client_runtime.block_on(drive(addr, &template, args.batch_connections, args.batch, args.seconds));
        batch.print(&format!("batch of {} ({} connections)", args.batch, args.batch_connections));
    }
    let after_batch = client_runtime.block_on(time_split(addr));
    for (what, (before, after)) in
        [("single", (TimeSplit::default(), after_single)), ("batch", (after_single, after_batch))]
    {
        let writes = after.store_writes - before.store_writes;
        let requests = after.requests - before.requests;
        if writes.1 > 0.0 && requests.1 > 0.0 {
            println!(
                "{what}: in the service, a request took {:.2} ms on average, of which waiting for the store's commit {:.2} ms",
                (requests.0 / requests.1) * 1e3,
                (writes.0 / writes.1) * 1e3,
            );
        }
    }
    shutdown.trigger();
}

/// What one decision costs without HTTP and without the store, on one
/// thread: validate the JSON, route, serialise the decision (what the
/// service does per ticket before it records it).
fn decide_only(policy: &Path, template: &TicketTemplate, seconds: u64) {
    let policy = routec_runtime::Policy::load(policy).expect("the example policy loads");
    let ctx = routec_runtime::Context::at(jiff::Timestamp::now());
    let started = Instant::now();
    let mut body = Vec::new();
    let mut n = 0usize;
    while started.elapsed() < Duration::from_secs(seconds) {
        for _ in 0..100 {
            body.clear();
            template.write(n, &format!("DECIDE-{n}"), &mut body);
            let text = std::str::from_utf8(&body).expect("UTF-8");
            let ticket = policy.ticket(text).expect("a valid ticket");
            let decision = policy.route(&ticket, &ctx);
            std::hint::black_box(serde_json::to_value(&decision).expect("serialisable"));
            n += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "decide only (one thread, no HTTP, no store): {:.0} decisions/s, {:.1} µs each",
        n as f64 / secs,
        secs * 1e6 / n as f64
    );
}

fn copy_example(dir: &Path) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/saas-b2b");
    std::fs::copy(example.join("policy.route"), dir.join("policy.route")).expect("copy the policy");
    std::fs::create_dir(dir.join("models")).expect("a models directory");
    std::fs::copy(example.join("models/intent.model"), dir.join("models/intent.model")).expect("copy the model");
    dir.join("policy.route")
}

async fn start(policy: &Path, args: &Args, shutdown: Shutdown) -> (std::net::SocketAddr, String) {
    let mut file = ConfigFile::default();
    file.limits.batch_max = Some(MAX_BATCH);
    file.limits.max_body_bytes = Some(64 * 1024 * 1024);
    file.limits.max_concurrency = Some(4 * MAX_CONNECTIONS);
    file.durability = args.durability;
    let env = |name: &str| (name == "ROUTEC_TOKEN").then(|| TOKEN.to_string());
    let overrides = Overrides { db: args.db.clone(), listen: Some("127.0.0.1:0".into()), ..Overrides::default() };
    let config = Config::resolve(policy, file, &env, overrides).expect("a valid configuration");
    let backend = format!("{} (durability {:?})", routec_server::display_url(&config.db), config.durability);
    let service = Service::start(config, wall_clock(), shutdown.clone()).await.expect("the service starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let app = api::router(service.state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).with_graceful_shutdown(shutdown.wait()).await;
    });
    (addr, backend)
}

/// Sums and counts of the service's own latency histograms, read from `/metrics`.
#[derive(Clone, Copy, Default)]
struct TimeSplit {
    /// `routec_store_write_duration_seconds`: (sum, count).
    store_writes: Pair,
    /// `routec_decision_duration_seconds`, every endpoint: (sum, count).
    requests: Pair,
}

#[derive(Clone, Copy, Default)]
struct Pair(f64, f64);

impl std::ops::Sub for Pair {
    type Output = Pair;
    fn sub(self, other: Pair) -> Pair {
        Pair(self.0 - other.0, self.1 - other.1)
    }
}

async fn time_split(addr: std::net::SocketAddr) -> TimeSplit {
    let mut split = TimeSplit::default();
    let Ok(stream) = tokio::net::TcpStream::connect(addr).await else { return split };
    let (read, mut write) = stream.into_split();
    let request = "GET /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n";
    if write.write_all(request.as_bytes()).await.is_err() {
        return split;
    }
    let mut body = Vec::new();
    if read_response(&mut BufReader::new(read), &mut body).await.is_err() {
        return split;
    }
    for line in String::from_utf8_lossy(&body).lines() {
        let Some((name, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        let metric = name.split('{').next().unwrap_or(name);
        match metric {
            "routec_store_write_duration_seconds_sum" => split.store_writes.0 += value,
            "routec_store_write_duration_seconds_count" => split.store_writes.1 += value,
            "routec_decision_duration_seconds_sum" => split.requests.0 += value,
            "routec_decision_duration_seconds_count" => split.requests.1 += value,
            _ => {}
        }
    }
    split
}

/// An example ticket as JSON text with a hole where its id goes, so each
/// request's body costs a copy, not a serialisation.
struct TicketTemplate {
    before: Vec<String>,
    after: Vec<String>,
}

/// Stands for the id in the template; no example ticket contains it.
const HOLE: &str = "@@ticket-id@@";

impl TicketTemplate {
    fn new() -> TicketTemplate {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/saas-b2b/tickets.jsonl");
        let text = std::fs::read_to_string(path).expect("the example tickets");
        let (mut before, mut after) = (Vec::new(), Vec::new());
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut ticket: serde_json::Value = serde_json::from_str(line).expect("a ticket");
            ticket["id"] = serde_json::Value::from(HOLE);
            let json = ticket.to_string();
            let (b, a) = json.split_once(HOLE).expect("the hole");
            before.push(b.to_string());
            after.push(a.to_string());
        }
        TicketTemplate { before, after }
    }

    fn write(&self, n: usize, id: &str, out: &mut Vec<u8>) {
        let k = n % self.before.len();
        out.extend_from_slice(self.before[k].as_bytes());
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(self.after[k].as_bytes());
    }
}

struct Results {
    requests: usize,
    decisions: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Results {
    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[i]
    }

    fn print(&self, what: &str) {
        let secs = self.elapsed.as_secs_f64();
        println!(
            "{what}: {} requests in {secs:.2} s = {:.0} requests/s, {:.0} decisions/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} errors",
            self.requests,
            self.requests as f64 / secs,
            self.decisions as f64 / secs,
            self.percentile(0.50).as_secs_f64() * 1e3,
            self.percentile(0.99).as_secs_f64() * 1e3,
            self.latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            self.errors,
        );
    }
}

/// `connections` keep-alive connections, each sending requests of `batch`
/// tickets (1: `POST /v1/route`) one after the other for `seconds`.
async fn drive(
    addr: std::net::SocketAddr,
    template: &Arc<TicketTemplate>,
    connections: usize,
    batch: usize,
    seconds: u64,
) -> Results {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        tasks.spawn(connection(addr, template.clone(), run, c, batch, deadline));
    }
    let outcomes = tasks.join_all().await;
    let elapsed = started.elapsed();
    let mut results = Results { requests: 0, decisions: 0, errors: 0, elapsed, latencies: Vec::new() };
    for (latencies, errors) in outcomes {
        results.requests += latencies.len();
        results.decisions += latencies.len() * batch;
        results.errors += errors;
        results.latencies.extend(latencies);
    }
    results.latencies.sort_unstable();
    results
}

async fn connection(
    addr: std::net::SocketAddr,
    template: Arc<TicketTemplate>,
    run: usize,
    c: usize,
    batch: usize,
    deadline: Instant,
) -> (Vec<Duration>, usize) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let Ok(stream) = tokio::net::TcpStream::connect(addr).await else { return (latencies, 1) };
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let path = if batch == 1 { "/v1/route" } else { "/v1/route/batch" };
    let mut body = Vec::new();
    let mut request = Vec::new();
    let mut response = Vec::new();
    let mut n = 0usize;
    while Instant::now() < deadline {
        body.clear();
        for _ in 0..batch {
            template.write(n, &format!("LOAD-{run}-{c}-{n}"), &mut body);
            body.push(b'\n');
            n += 1;
        }
        request.clear();
        request.extend_from_slice(
            format!(
                "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        request.extend_from_slice(&body);
        let sent = Instant::now();
        if write.write_all(&request).await.is_err() {
            return (latencies, errors + 1);
        }
        match read_response(&mut read, &mut response).await {
            Ok(200) => latencies.push(sent.elapsed()),
            Ok(status) => {
                errors += 1;
                if errors == 1 {
                    eprintln!("connection {c}: HTTP {status}: {}", String::from_utf8_lossy(&response));
                }
            }
            Err(_) => return (latencies, errors + 1),
        }
    }
    (latencies, errors)
}

/// Read one HTTP/1.1 response (Content-Length bodies only, which is what
/// the service sends); its status, the body left in `body`.
async fn read_response<R: tokio::io::AsyncBufRead + Unpin>(read: &mut R, body: &mut Vec<u8>) -> std::io::Result<u16> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut line = String::new();
    if read.read_line(&mut line).await? == 0 {
        return Err(bad("closed"));
    }
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("status line"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Err(bad("closed in the headers"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(|_| bad("content-length"))?;
            }
        }
    }
    body.resize(length, 0);
    read.read_exact(body).await?;
    Ok(status)
}
