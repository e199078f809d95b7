//! Benchmark of `routec check` on a large generated policy: 1,000 rules,
//! 20 escalations, a 5-dimension routing matrix, 100 keyword sets, a
//! classifier, schedules with fallbacks and SLAs. It times
//! `routec_compiler::analyze` (parse, check and every analysis) over
//! repeated runs and prints the median. Not a test: run it in release mode,
//!
//! ```text
//! cargo run --release -p routec-compiler --example bench_check
//! ```
//!
//! The target is a median under 200 ms.

use routec_compiler::{analyze, NoImports, SourceDb};
use std::fmt::Write;
use std::time::{Duration, Instant};

const RULES: usize = 1000;
const ESCALATIONS: usize = 20;
const KEYWORD_SETS: usize = 100;
const MATRIX_ROWS: usize = 160;
/// Timed runs; the median is reported.
const RUNS: usize = 15;

const INTENTS: &[&str] =
    &["billing", "technical", "onboarding", "feature_request", "bug_report", "account", "security", "other"];
const TIERS: &[&str] = &["free", "pro", "business", "enterprise"];
const CHANNELS: &[&str] = &["email", "chat", "web", "phone", "api"];
const REGIONS: &[&str] = &["na", "eu", "apac", "latam", "mea"];
const PRODUCTS: &[&str] = &["core", "analytics", "mobile", "api_platform", "billing_suite", "integrations"];

/// A small deterministic generator, so every run measures the same policy.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    /// A cell or `in` list: one to three distinct values.
    fn some<'a>(&mut self, items: &[&'a str]) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        for _ in 0..1 + self.below(3) {
            let v = self.pick(items);
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }
}

fn condition(rng: &mut Lcg) -> String {
    let mut parts = Vec::new();
    // Most real rules are gated on what the ticket says.
    match rng.below(4) {
        0 => parts.push(format!("subject matches re{}", rng.below(10))),
        _ => parts.push(format!("text has kw{}", rng.below(KEYWORD_SETS))),
    }
    match rng.below(6) {
        0 => parts.push(format!("intent == {}", rng.pick(INTENTS))),
        1 => parts.push(format!("customer.tier in [{}]", rng.some(TIERS).join(", "))),
        2 => parts.push(format!("channel == {}", rng.pick(CHANNELS))),
        3 => parts.push(format!("region != {}", rng.pick(REGIONS))),
        4 => parts.push(format!("product in [{}]", rng.some(PRODUCTS).join(", "))),
        _ => parts.push(format!("customer.seats > {}", [10, 50, 100, 500, 1000][rng.below(5)])),
    }
    match rng.below(5) {
        0 => parts.push(format!("subject has kw{}", rng.below(KEYWORD_SETS))),
        1 => parts.push(format!("customer.health < {}", [20, 40, 60, 80][rng.below(4)])),
        2 => parts.push(format!("(customer.vip or body matches re{})", rng.below(10))),
        3 => parts.push(format!("intent in [{}]", rng.some(INTENTS).join(", "))),
        _ => {}
    }
    if rng.below(4) == 0 {
        parts.push(format!("not text has kw{}", rng.below(KEYWORD_SETS)));
    }
    if rng.below(10) == 0 {
        parts.push("priority == P1".into());
    }
    parts.join(" and ")
}

fn cell(rng: &mut Lcg, values: &[&str]) -> String {
    if rng.below(3) == 0 {
        "_".into()
    } else {
        rng.some(values).join(" | ")
    }
}

/// The generated policy's source text.
fn policy() -> String {
    let mut rng = Lcg(0x5eed);
    let mut s = String::new();
    let _ = writeln!(s, "policy \"bench\" version 1\n");
    let _ = writeln!(
        s,
        "ticket {{\n  id: string\n  subject: text\n  body: text\n  channel: {}\n  region: {}\n  product: {}\n  waiting: duration?\n  customer {{\n    tier: {}\n    vip: bool\n    seats: int\n    health: number\n  }}\n}}\n",
        CHANNELS.join(" | "),
        REGIONS.join(" | "),
        PRODUCTS.join(" | "),
        TIERS.join(" | ")
    );
    let _ = writeln!(
        s,
        "classifier intent from \"intent.model\" {{\n  labels {}\n  features subject, body\n  threshold 0.7\n  threshold bug_report 0.85\n}}\n",
        INTENTS.join(", ")
    );
    for k in 0..KEYWORD_SETS {
        let _ = writeln!(s, "keywords kw{k} = [\"word{k}a\", \"word{k}b\", \"phrase number {k}\"]");
    }
    for k in 0..10 {
        let _ = writeln!(s, "regex re{k} = \"CODE{k}-[0-9]+\"");
    }
    let _ = writeln!(
        s,
        "\nschedule na_hours {{\n  timezone \"America/New_York\"\n  mon-fri 08:00-20:00\n  holidays [\"2026-01-01\", \"2026-07-03\", \"2026-11-26\", \"2026-12-25\"]\n}}"
    );
    let _ = writeln!(
        s,
        "schedule eu_hours {{\n  timezone \"Europe/Berlin\"\n  mon-fri 08:00-18:00\n  holidays [\"2026-01-01\", \"2026-05-01\", \"2026-12-25\"]\n}}"
    );
    let _ = writeln!(s, "schedule apac_hours {{\n  timezone \"Asia/Singapore\"\n  mon-sat 09:00-18:00\n}}");
    let _ = writeln!(s, "schedule always {{ 24x7 }}\n");
    let _ = writeln!(s, "team oncall {{ hours always }}");
    let _ = writeln!(s, "queue general {{ hours always }}");
    for t in 0..40 {
        let hours = ["na_hours", "eu_hours", "apac_hours"][t % 3];
        let _ = writeln!(
            s,
            "team team{t} {{\n  hours {hours}\n  capacity 30\n  when closed -> oncall\n  when full -> general\n}}"
        );
    }
    let _ = writeln!(
        s,
        "\npriority {{\n  P1 when text has kw0 and customer.tier != free\n  P2 when intent == bug_report or customer.vip\n  P2 when waiting > 4h\n  default P3\n}}\n"
    );
    let _ = writeln!(
        s,
        "sla first_response per customer.tier {{\n  P1: 1h\n  P2: 4h\n  P3: 16h business\n  enterprise: P1 15m, P2 1h, P3 4h business\n}}\n"
    );
    let _ = writeln!(s, "escalate unsure when confidence < threshold -> general");
    for e in 0..ESCALATIONS {
        let _ = writeln!(s, "escalate esc{e} when {} -> team{}", condition(&mut rng), rng.below(40));
    }
    for r in 0..RULES {
        let rollout = if rng.below(50) == 0 { "\n  rollout 25%" } else { "" };
        let _ = writeln!(s, "rule rule{r} when {} -> team{}{rollout}", condition(&mut rng), rng.below(40));
    }
    let _ = writeln!(s, "\nmatrix intent, customer.tier, channel, region, product {{");
    for _ in 0..MATRIX_ROWS {
        let cells = [
            cell(&mut rng, INTENTS),
            cell(&mut rng, TIERS),
            cell(&mut rng, CHANNELS),
            cell(&mut rng, REGIONS),
            cell(&mut rng, PRODUCTS),
        ];
        let _ = writeln!(s, "  {} -> team{}", cells.join(", "), rng.below(40));
    }
    let _ = writeln!(s, "  _, _, _, _, _ -> general\n}}");
    s
}

fn main() {
    let runs = RUNS;
    let text = policy();
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut summary = String::new();
    for run in 0..runs {
        let mut db = SourceDb::new();
        let root = db.add("bench.route", text.clone());
        let started = Instant::now();
        let result = analyze(db, root, &NoImports);
        times.push(started.elapsed());
        if run == 0 {
            let errors = result.diagnostics.iter().filter(|d| d.is_error()).count();
            let mut codes: Vec<&str> = result.diagnostics.iter().map(|d| d.code.as_str()).collect();
            codes.sort_unstable();
            codes.dedup();
            summary = format!(
                "{} lines, {} diagnostics ({errors} errors; codes: {})",
                text.lines().count(),
                result.diagnostics.len(),
                codes.join(", ")
            );
            if let Some(first) = result.diagnostics.iter().find(|d| d.is_error()) {
                summary.push_str(&format!("\nfirst error: {}", first.message));
            }
        }
    }
    times.sort_unstable();
    let median = times[times.len() / 2];
    println!(
        "policy: {RULES} rules, {ESCALATIONS} escalations, 5-dimension matrix with {} rows; {summary}",
        MATRIX_ROWS + 1
    );
    println!(
        "analyze(): median {:.1} ms over {runs} runs (min {:.1} ms, max {:.1} ms)",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3
    );
}
