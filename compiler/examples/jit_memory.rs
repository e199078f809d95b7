//! Compile and drop 10,000 JIT policies in a loop and print the process's
//! resident memory every 1,000: dropping a `JitPolicy` must free its code,
//! so the figure stays flat.
//!
//! ```text
//! cargo run --release -p routec-compiler --example jit_memory
//! ```

use routec_compiler::ir::Program;
use routec_compiler::jit::{self, JitPolicy};
use routec_compiler::{semantic, Diagnostics, Loader, SourceDb};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const ITERATIONS: usize = 10_000;
const REPORT_EVERY: usize = 1_000;

fn main() {
    if !jit::host_supported() {
        eprintln!("Cranelift has no backend for this machine");
        std::process::exit(1);
    }
    let programs = programs();
    let names: Vec<&str> = programs.iter().map(|(n, _)| n.as_str()).collect();
    println!("compiling and dropping {ITERATIONS} policies, cycling through: {}", names.join(", "));
    println!("{:>10}  {:>10}  {:>10}  {:>8}", "iteration", "rss KiB", "vm KiB", "mappings");
    report(0);
    let mut checksum = 0u64;
    for i in 1..=ITERATIONS {
        let (_, program) = &programs[i % programs.len()];
        let policy = JitPolicy::compile(program).unwrap_or_else(|e| fail(&e.to_string()));
        // Run it once so the code is really used before it is freed.
        let block = vec![f64::NAN; program.slot_count()];
        let outcome = policy.decide(&block).unwrap_or_else(|e| fail(&e.to_string()));
        checksum = checksum.wrapping_add(u64::from(outcome.branch));
        drop(policy);
        if i % REPORT_EVERY == 0 {
            report(i);
        }
    }
    println!("(checksum {checksum})");
}

#[allow(clippy::disallowed_methods, reason = "a benchmark binary reading its own figures from /proc")]
fn report(iteration: usize) {
    let (vm_kib, rss_kib) = statm();
    let mappings = std::fs::read_to_string("/proc/self/maps").map(|m| m.lines().count()).unwrap_or(0);
    println!("{iteration:>10}  {rss_kib:>10}  {vm_kib:>10}  {mappings:>8}");
}

/// (virtual size, resident set) in KiB from `/proc/self/statm` (pages).
#[allow(clippy::disallowed_methods, reason = "a benchmark binary reading its own figures from /proc")]
fn statm() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().unwrap_or(0));
    let size = fields.next().unwrap_or(0);
    let resident = fields.next().unwrap_or(0);
    // Pages are 4 KiB on the Linux hosts this runs on.
    (size * 4, resident * 4)
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(1)
}

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

/// The example policies plus a generated 200-rule one, lowered once.
#[allow(clippy::disallowed_methods, reason = "a benchmark binary reading the repository's example policies")]
fn programs() -> Vec<(String, Program)> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut sources = Vec::new();
    for name in ["saas-b2b", "it-helpdesk"] {
        let dir = examples.join(name);
        if let Ok(text) = std::fs::read_to_string(dir.join("policy.route")) {
            sources.push((name.to_string(), text, dir));
        }
    }
    sources.push(("generated-200".to_string(), generated_policy(200), examples.clone()));
    sources.into_iter().map(|(name, text, dir)| (name.clone(), compile_source(&name, &text, &Files { dir }))).collect()
}

/// Parse, check and lower (the analyses do not change the program).
fn compile_source(name: &str, source: &str, loader: &dyn Loader) -> Program {
    let mut db = SourceDb::new();
    let root = db.add(format!("{name}.route"), source.to_string());
    let mut diagnostics = Diagnostics::new();
    let parsed = semantic::parse_all(&mut db, root, loader, &mut diagnostics);
    let hir = semantic::check(&db, &parsed, loader, &mut diagnostics);
    if diagnostics.has_errors() {
        let messages: Vec<String> =
            diagnostics.iter().filter(|d| d.is_error()).map(|d| format!("{}: {}", d.code, d.message)).collect();
        fail(&format!("{name} does not compile:\n  {}", messages.join("\n  ")));
    }
    routec_compiler::ir::lower(&hir)
}

fn generated_policy(rules: usize) -> String {
    let mut s = String::from(
        "policy \"generated\" version 1\nticket {\n  id: string\n  subject: text\n  tier: free | pro | enterprise\n  health: number\n}\n",
    );
    for t in 0..10 {
        let _ = writeln!(s, "team t{t}");
    }
    for i in 0..rules {
        let _ = writeln!(
            s,
            "rule r{i} when (tier == pro and health < {}) or subject has [\"w{i}\"] -> t{}",
            i % 100,
            i % 10
        );
    }
    s.push_str("otherwise -> t0\n");
    s
}
