//! Fuzz targets on stable Rust: proptest with grammar-aware generators and
//! mutations of the shipped `.route` files, one target per surface a user,
//! a pull request or a network peer controls:
//!
//! - `fuzz_policies`: parser + checker + formatter never panic, diagnostics
//!   stay inside the text, `fmt` is idempotent and its output checks to the
//!   same diagnostics;
//! - `fuzz_jit_matches_interpreter`: generated policies (the JIT
//!   differential test's generators, `compiler/tests/support/policy_gen.rs`)
//!   route random tickets to the same decision with either engine;
//! - `fuzz_tickets`: ticket JSON decoding never panics, and a good ticket
//!   round-trips (decoded again from its JSON, it routes the same);
//! - `fuzz_lsp_frames`: the language server's frame reader never panics on
//!   random bytes or corrupted frames, and reads a valid frame after them.
//!
//! Budget. By default (CI) each target runs `ROUTEC_FUZZ_CASES` cases
//! (default per target below, about a minute for all of them in a debug
//! build) with a fixed seed, then as many with a random seed; a failure
//! prints the seed, and `ROUTEC_FUZZ_SEED=<seed>` replays exactly that run.
//! The long run is time-based, `ROUTEC_FUZZ_SECONDS` per target (see
//! `docs/security.md` for the command): random seeds until the time is up,
//! a watchdog aborting with the input when one case of under 100 KB takes
//! over 2 s, and a summary line per target on stderr.
//!
//! Nesting is capped at [`MAX_NESTING`]: the nesting limit h13-depth is
//! adding to the parser (deeper input overflowed the stack) has its own
//! regression tests; once it lands the cap can go.

#[allow(dead_code, reason = "the fuzz targets use only some of the generators")]
#[path = "../compiler/tests/support/policy_gen.rs"]
mod policy_gen;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use routec_compiler::fmt::format;
use routec_compiler::{analyze, NoImports, SourceDb};
use routec_runtime::{Context, EngineKind, Policy, Proofs};
use serde_json::{json, Value};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Deepest bracket / `not` nesting a generated input may have (see the module doc).
const MAX_NESTING: usize = 64;

/// The seed of the fixed run in CI.
const FIXED_SEED: u64 = 0x7275_7465_6366_757a;

/// A case slower than this on an input under [`HANG_INPUT_LIMIT`] is a hang (long runs only).
const HANG_TIME: Duration = Duration::from_secs(2);
const HANG_INPUT_LIMIT: usize = 100 * 1024;

// ------------------------------------------------------------ the budget

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().trim_start_matches("0x").parse().ok())
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher
        .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    hasher.finish()
}

fn runner(seed: u64, cases: u32) -> TestRunner {
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&seed.to_le_bytes());
    }
    let config = Config { cases, failure_persistence: None, max_global_rejects: cases * 4, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// The case a watchdog looks at: when it started and what its input was;
/// `None` between cases.
type Current = Arc<Mutex<Option<(Instant, String)>>>;

/// Abort the process, printing the input, when a case on a small input
/// runs too long; stops when the target drops its `current`.
fn watchdog(target: &'static str, current: Current) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(200));
        if Arc::strong_count(&current) == 1 {
            return;
        }
        let Ok(guard) = current.lock() else { return };
        if let Some((started, input)) = guard.as_ref() {
            if started.elapsed() > HANG_TIME && input.len() < HANG_INPUT_LIMIT {
                eprintln!("{target}: a case ran over {HANG_TIME:?} on an input of {} bytes:\n{input}", input.len());
                std::process::abort();
            }
        }
    });
}

/// Run `test` on values of `strategy` under the budget the environment sets.
fn fuzz<S>(target: &'static str, default_cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    let cases = env_number("ROUTEC_FUZZ_CASES").map_or(default_cases, |n| n as u32);
    let run = |seed: u64, cases: u32, current: Option<&Current>| -> u32 {
        let ran = std::cell::Cell::new(0);
        let result = runner(seed, cases).run(&strategy, |value| {
            ran.set(ran.get() + 1);
            if let Some(current) = current {
                if let Ok(mut slot) = current.lock() {
                    *slot = Some((Instant::now(), format!("{value:#?}")));
                }
            }
            let verdict = test(value);
            if let Some(current) = current {
                if let Ok(mut slot) = current.lock() {
                    *slot = None;
                }
            }
            verdict
        });
        if let Err(failure) = result {
            panic!("{target} failed with ROUTEC_FUZZ_SEED={seed}: {failure}");
        }
        ran.get()
    };
    if let Some(seed) = env_number("ROUTEC_FUZZ_SEED") {
        run(seed, cases, None);
    } else if let Some(seconds) = env_number("ROUTEC_FUZZ_SECONDS") {
        let current = Current::default();
        watchdog(target, current.clone());
        let start = Instant::now();
        let (mut total, mut seeds) = (0u64, 0u64);
        while start.elapsed() < Duration::from_secs(seconds) {
            total += u64::from(run(random_seed(), 256, Some(&current)));
            seeds += 1;
        }
        eprintln!("{target}: {total} cases, {seeds} seeds, {:.0} s, nothing found", start.elapsed().as_secs_f64());
    } else {
        run(FIXED_SEED, cases, None);
        run(random_seed(), cases, None);
    }
}

// ------------------------------------------------------------ inputs

#[allow(clippy::disallowed_methods, reason = "a test reading the repository's example policies")]
fn shipped_policies() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["examples/saas-b2b", "examples/it-helpdesk", "tests/fmt", "tests/cli"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        for entry in entries.flatten() {
            if entry.path().extension().is_some_and(|e| e == "route") {
                files.extend(std::fs::read_to_string(entry.path()).ok());
            }
        }
    }
    files.sort();
    files
}

/// Deepest nesting of brackets and `not`s, the way a recursive parser descends.
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut nots) = (0usize, 0usize, 0usize);
    for token in text.split(|c: char| c.is_whitespace()) {
        nots = if token == "not" { nots + 1 } else { 0 };
        for c in token.chars() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        deepest = deepest.max(depth + nots);
    }
    deepest
}

const TOKENS: &[&str] = &[
    "policy",
    "\"acme\"",
    "version",
    "1",
    "ticket",
    "{",
    "}",
    "(",
    ")",
    "rule",
    "when",
    "->",
    "and",
    "or",
    "not",
    "==",
    "!=",
    "<",
    ">=",
    "in",
    "[",
    "]",
    ",",
    "has",
    "contains",
    "matches",
    "matrix",
    "_",
    "|",
    "team",
    "queue",
    "schedule",
    "24x7",
    "mon-fri",
    "09:00-17:00",
    "timezone",
    "\"Europe/Paris\"",
    "sla",
    "P1",
    ":",
    "15m",
    "2h",
    "escalate",
    "priority",
    "default",
    "test",
    "expect",
    "subject",
    "tier",
    "pro",
    "text",
    "int",
    "bool",
    "0.7",
    "70%",
    "@allow",
    "(route::unused)",
    "\n",
    "  ",
    "#",
    "\"",
    "\\",
    "keywords",
    "classifier",
    "from",
    "labels",
    "threshold",
    "otherwise",
    "rollout",
    "25%",
    "shadow",
    "import",
    "\"x.route\"",
    "fallback",
    "holidays",
    "é",
    "🎉",
    "\r\n",
];

/// Byte-level edits of a text: insert a token, delete or replace a few characters, cut the end.
fn mutate(base: &str, edits: &[(prop::sample::Index, u8, &'static str)]) -> String {
    let mut text = base.to_string();
    for (at, kind, token) in edits {
        let mut i = at.index(text.len().max(1)).min(text.len());
        while i > 0 && !text.is_char_boundary(i) {
            i -= 1;
        }
        let end = text[i..].char_indices().nth(5).map_or(text.len(), |(j, _)| i + j);
        match kind % 8 {
            0..=2 => text.insert_str(i, token),
            3 | 4 => text.replace_range(i..end, ""),
            5 | 6 => text.replace_range(i..end, token),
            _ => text.truncate(i),
        }
    }
    text
}

fn edits() -> impl Strategy<Value = Vec<(prop::sample::Index, u8, &'static str)>> {
    prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), prop::sample::select(TOKENS)), 1..8)
}

/// Policy text: generated, a shipped file mutated, a generated one mutated, or token soup.
fn policy_text() -> impl Strategy<Value = String> {
    let shipped = shipped_policies();
    let mutated_shipped = (prop::sample::select(shipped), edits()).prop_map(|(base, e)| mutate(&base, &e));
    prop_oneof![
        2 => policy_gen::policy().prop_map(|p| p.render()),
        4 => mutated_shipped,
        2 => (policy_gen::policy(), edits()).prop_map(|(p, e)| mutate(&p.render(), &e)),
        1 => prop::collection::vec(prop::sample::select(TOKENS), 0..120).prop_map(|t| t.join(" ")),
        1 => prop::collection::vec(any::<u8>(), 0..600).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
    .prop_filter("nesting capped until h13-depth's limit lands", |t| nesting_depth(t) <= MAX_NESTING)
}

/// Every diagnostic as `code severity message`, in the order `analyze` sorts them.
fn check(text: &str) -> Result<Vec<String>, TestCaseError> {
    let mut db = SourceDb::new();
    let root = db.add("fuzz.route", text);
    let analysis = analyze(db, root, &NoImports);
    let mut shown = Vec::new();
    for d in &analysis.diagnostics {
        if let Some(span) = d.span() {
            let len = analysis.db.text(span.file).len() as u32;
            prop_assert!(span.start <= span.end && span.end <= len, "span {:?} outside the text: {}", span, d.message);
        }
        shown.push(format!("{} {:?}", d.code, d.severity));
    }
    shown.sort();
    Ok(shown)
}

#[test]
fn fuzz_policies() {
    fuzz("fuzz_policies", 300, policy_text(), |text| {
        let diagnostics = check(&text)?;
        let Ok(formatted) = format(&text) else { return Ok(()) };
        let again =
            format(&formatted).map_err(|e| TestCaseError::fail(format!("fmt output does not format: {e:?}")))?;
        prop_assert_eq!(&again, &formatted, "fmt is not idempotent");
        let after = check(&formatted)?;
        prop_assert_eq!(after, diagnostics, "fmt output checks differently:\n{}", formatted);
        Ok(())
    });
}

// ------------------------------------------------------------ tickets

const WORDS: &[&str] = &[
    "refund",
    "lawyer",
    "legal action",
    "cancel my subscription",
    "switching to",
    "INV-123456",
    "INV-12345",
    "/settings/billing",
    "vip",
    "hello",
    "LAWYER",
    "é",
    "🎉",
    "",
    "\u{0}",
    "   ",
];

const TIMES: &[&str] =
    &["2026-03-02T09:30:00Z", "2026-12-25T23:59:59+01:00", "1970-01-01T00:00:00Z", "2026-07-04T12:00:00-07:00"];

fn text_value() -> impl Strategy<Value = Value> {
    prop::collection::vec(prop::sample::select(WORDS), 0..5).prop_map(|w| json!(w.join(" ")))
}

fn maybe(strategy: impl Strategy<Value = Value>) -> impl Strategy<Value = Option<Value>> {
    prop::option::weighted(0.7, strategy)
}

/// Values of the generated schema's `url` field: full URLs, bare paths, odd ones.
const LINKS: &[&str] = &[
    "https://App.Example.com/settings/billing?tab=1#top",
    "/settings/billing/invoices",
    "/settings/billing-old",
    "http://u:p@[::1]:8080/home?",
    "//app.example.com",
    "mailto:vip@example.com",
    "",
];

/// A ticket valid for the generated policies' schema (`policy_gen::HEADER`).
fn good_ticket() -> impl Strategy<Value = Value> {
    let customer = (
        prop::sample::select(&["free", "pro", "enterprise"][..]),
        maybe((-2.0f64..2.0).prop_map(|h| json!(h))),
        maybe((0i64..500).prop_map(|s| json!(s))),
        maybe(any::<bool>().prop_map(|b| json!(b))),
    );
    let signals = (
        prop::sample::select(&["billing", "technical", "account"][..]),
        0.0f64..=1.0,
        -1.0f64..=1.0,
        prop::sample::select(&["en", "fr", "de"][..]),
    );
    (
        (
            "[A-Z]{1,3}-[0-9]{1,4}",
            text_value(),
            text_value(),
            prop::sample::select(&["email", "chat", "web", "phone"][..]),
        ),
        (
            maybe(text_value()),
            maybe(prop::collection::vec(text_value(), 0..3).prop_map(Value::from)),
            maybe(prop_oneof![prop::sample::select(LINKS).prop_map(Value::from), text_value()]),
        ),
        (prop::sample::select(TIMES), maybe(prop_oneof![(0u32..100_000).prop_map(|s| json!(s)), Just(json!("2h"))])),
        (0i64..10, any::<bool>(), customer, prop::option::weighted(0.8, signals)),
    )
        .prop_map(
            |(
                (id, subject, body, channel),
                (page, tags, link),
                (created, waiting),
                (turns, vip, customer, signals),
            )| {
                let (tier, health, seats, at_risk) = customer;
                let mut ticket = json!({
                    "id": id, "subject": subject, "body": body, "channel": channel, "created_at": created,
                    "ai_turns": turns, "vip": vip, "customer": { "tier": tier },
                });
                let optional = [("page", page), ("tags", tags), ("link", link), ("waiting", waiting)];
                for (name, value) in optional {
                    if let Some(value) = value {
                        ticket[name] = value;
                    }
                }
                for (name, value) in [("health", health), ("seats", seats), ("at_risk", at_risk)] {
                    if let Some(value) = value {
                        ticket["customer"][name] = value;
                    }
                }
                if let Some((intent, confidence, sentiment, language)) = signals {
                    ticket["signals"] = json!({
                        "intent": intent, "confidence": confidence, "sentiment": sentiment, "language": language,
                    });
                }
                ticket
            },
        )
}

/// The decision as the decision log writes it.
fn decision_json(policy: &Policy, ticket: &routec_runtime::Ticket) -> Value {
    let at = jiff::Timestamp::from_second(1_772_443_800).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    serde_json::to_value(policy.route(ticket, &Context::at(at))).unwrap_or(Value::Null)
}

fn compile(source: &str, engine: EngineKind) -> Result<Policy, TestCaseError> {
    let policy = Policy::compile_with("acme.route", source, Proofs::Skip)
        .map_err(|e| TestCaseError::fail(format!("the generated policy does not compile: {e}\n{source}")))?;
    policy.with_engine(engine).map_err(|e| TestCaseError::fail(format!("{e}\n{source}")))
}

#[test]
fn fuzz_jit_matches_interpreter() {
    if !routec_compiler::jit::host_supported() {
        return;
    }
    let strategy = (policy_gen::policy(), prop::collection::vec(good_ticket(), 1..8));
    fuzz("fuzz_jit_matches_interpreter", 60, strategy, |(decl, tickets)| {
        let source = decl.render();
        let interpreter = compile(&source, EngineKind::Interpreter)?;
        let jit = compile(&source, EngineKind::Jit)?;
        for json in tickets {
            let ticket = interpreter.ticket_from_value(json.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let want = decision_json(&interpreter, &ticket);
            let mut got = decision_json(&jit, &ticket);
            // The decision names the engine that made it; everything else must agree.
            if let (Some(g), Some(w)) = (got.get_mut("engine"), want.get("engine")) {
                *g = w.clone();
            }
            prop_assert_eq!(&got, &want, "the engines disagree on {}\n--- policy ---\n{}", json, source);
        }
        Ok(())
    });
}

/// A JSON value of any shape, for replacing parts of a good ticket.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(json!(1e300)),
        Just(json!(9.3e18)),
        Just(json!(-0.0)),
        ".{0,12}".prop_map(Value::from),
        prop::sample::select(TIMES).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const TICKET_PATHS: &[&[&str]] = &[
    &["id"],
    &["subject"],
    &["channel"],
    &["page"],
    &["tags"],
    &["created_at"],
    &["waiting"],
    &["ai_turns"],
    &["vip"],
    &["customer"],
    &["customer", "tier"],
    &["customer", "seats"],
    &["customer", "health"],
    &["signals"],
    &["signals", "intent"],
    &["signals", "confidence"],
    &["signals", "language"],
    &["unknown"],
];

/// Ticket text: a good ticket, one with parts replaced, or its text cut or edited.
fn ticket_text() -> impl Strategy<Value = (String, bool)> {
    let replaced = (good_ticket(), prop::collection::vec((prop::sample::select(TICKET_PATHS), any_json()), 1..4))
        .prop_map(|(mut ticket, changes)| {
            for (path, value) in changes {
                let (last, parents) = path.split_last().unwrap_or((&"id", &[]));
                let mut at = &mut ticket;
                for p in parents {
                    at = &mut at[*p];
                }
                if at.is_object() || at.is_null() {
                    at[*last] = value;
                }
            }
            (ticket.to_string(), false)
        });
    let edited =
        (good_ticket(), any::<prop::sample::Index>(), any::<u8>(), ".{0,3}").prop_map(|(t, at, kind, with)| {
            let mut text = t.to_string();
            let mut i = at.index(text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            match kind % 3 {
                0 => text.truncate(i),
                1 => text.insert_str(i, &with),
                _ => {
                    let end = text[i..].chars().next().map_or(i, |c| i + c.len_utf8());
                    text.replace_range(i..end, &with);
                }
            }
            (text, false)
        });
    prop_oneof![
        3 => good_ticket().prop_map(|t| (t.to_string(), true)),
        4 => replaced,
        2 => edited,
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(|b| (String::from_utf8_lossy(&b).into_owned(), false)),
    ]
}

#[test]
fn fuzz_tickets() {
    let source = format!("{}otherwise -> triage\n", policy_gen::HEADER);
    let policy = match Policy::compile_with("acme.route", &source, Proofs::Skip) {
        Ok(policy) => policy,
        Err(e) => panic!("the ticket target's policy compiles: {e}"),
    };
    fuzz("fuzz_tickets", 400, ticket_text(), |(text, good)| {
        let ticket = match policy.ticket(&text) {
            Ok(ticket) => ticket,
            Err(e) if good => return Err(TestCaseError::fail(format!("a good ticket is rejected: {e}\n{text}"))),
            Err(_) => return Ok(()),
        };
        let again = policy
            .ticket(&ticket.json().to_string())
            .map_err(|e| TestCaseError::fail(format!("a ticket's own JSON is rejected: {e}\n{text}")))?;
        prop_assert_eq!(again.id(), ticket.id());
        prop_assert_eq!(decision_json(&policy, &again), decision_json(&policy, &ticket), "{}", text);
        Ok(())
    });
}

// ------------------------------------------------------------ LSP frames

fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

const BODIES: &[&str] = &[
    r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
    r#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"text":"Content-Length: 5\r\n\r\n"}}"#,
    r#"{"jsonrpc":"2.0","id":"x","result":null}"#,
    "{}",
    "",
];

/// Bytes before the frames that must be read: random bytes, or good frames corrupted.
fn garbage() -> impl Strategy<Value = Vec<u8>> {
    let header_edit = prop_oneof![
        Just(&b""[..]),
        Just(&b"Content-Length: "[..]),
        Just(&b"\r\n"[..]),
        Just(&b"\r\n\r\n"[..]),
        Just(&b"99999999999"[..]),
        Just(&b"5"[..]),
        Just(&b"Content-Type: x\r\n"[..]),
        Just(&b"content-length:3\n"[..]),
    ];
    let corrupted = (
        prop::collection::vec(prop::sample::select(BODIES), 1..4),
        prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, header_edit, any::<u8>()), 1..6),
    )
        .prop_map(|(bodies, edits)| {
            let mut bytes: Vec<u8> = bodies.iter().flat_map(|b| frame(b)).collect();
            for (at, kind, insert, byte) in edits {
                let i = at.index(bytes.len() + 1);
                match kind {
                    0 => {
                        bytes.splice(i..i, insert.iter().copied());
                    }
                    1 => bytes.truncate(i),
                    _ if i < bytes.len() => bytes[i] = byte,
                    _ => bytes.push(byte),
                }
            }
            bytes
        });
    prop_oneof![2 => prop::collection::vec(any::<u8>(), 0..300), 5 => corrupted]
}

#[test]
fn fuzz_lsp_frames() {
    let a = r#"{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{}}"#;
    let b = r#"{"jsonrpc":"2.0","method":"exit"}"#;
    fuzz("fuzz_lsp_frames", 2000, garbage(), |garbage| {
        let mut input = garbage.clone();
        input.extend(frame(a));
        input.extend(frame(b));
        let frames = routec_lsp::split_frames(&input[..]);
        let text = String::from_utf8_lossy(&garbage);
        prop_assert_eq!(frames.last(), Some(&Ok(b.as_bytes().to_vec())), "the last frame is lost after {:?}", text);
        if garbage.is_empty() {
            prop_assert_eq!(frames.len(), 2);
        }
        Ok(())
    });
}
