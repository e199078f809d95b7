//! Inputs built to hurt: nesting thousands of levels deep, and inputs whose
//! cost used to grow quadratically. Each runs the real binary under a
//! deadline ([`run_within`]): a crash fails on its exit status, a hang fails
//! when the deadline passes instead of blocking the test run.
//!
//! The deadlines are generous (minutes, for a debug build on a busy
//! machine) and never a measurement: the inputs are large enough that the
//! old quadratic code needs far longer than the deadline, while linear code
//! finishes in well under a second. What the tests assert is the outcome
//! (a diagnostic, an exit code) and the output's size and shape.

use crate::harness::{self, Run};
use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Far beyond what linear code needs; far below what the quadratic code took.
const DEADLINE: Duration = Duration::from_secs(120);

/// Run `routec args` with `stdin`, killing it and failing the test if it
/// is still running after [`DEADLINE`].
fn run_within(args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = harness::routec();
    cmd.args(args);
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("routec starts");
    let input = stdin.map(str::to_owned);
    let mut pipe = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let (Some(pipe), Some(input)) = (pipe.as_mut(), input) {
            // The child may stop reading early (a refused input): not an error here.
            let _ = pipe.write_all(input.as_bytes());
        }
    });
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("routec can be waited for") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`routec {}` still ran after {DEADLINE:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    let text = |reader: std::thread::JoinHandle<Vec<u8>>| {
        String::from_utf8_lossy(&reader.join().expect("the reader thread ends")).into_owned()
    };
    Run { code: status.code().unwrap_or(-1), stdout: text(stdout), stderr: text(stderr) }
}

/// Read a pipe to its end on a thread, so a chatty child never blocks on a full pipe.
fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// A scratch directory for this process and test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("routec-limits-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    dir
}

/// `routec check` on `policy`, written to a scratch file named for the test.
fn check_policy(test: &str, policy: &str) -> Run {
    let dir = scratch(test);
    let path = dir.join("policy.route");
    std::fs::write(&path, policy).expect("the temp dir is writable");
    let run = run_within(&["check", "--no-color", &path.to_string_lossy()], None);
    let _ = std::fs::remove_dir_all(&dir);
    run
}

const HEAD: &str = "policy \"deep\"\nticket { id: int  vip: bool  score: int }\nteam a\nteam b\n";

/// Policies nested far past the limit, each of which used to overflow the stack.
fn deep_policies() -> Vec<(&'static str, String)> {
    let n = 5_000;
    vec![
        (
            "nested parentheses",
            format!("{HEAD}rule r when {}vip{} -> a\notherwise -> b\n", "(".repeat(n), ")".repeat(n)),
        ),
        ("unclosed parentheses", format!("{HEAD}rule r when {}\n", "(".repeat(50_000))),
        ("unclosed lists", format!("{HEAD}rule r when {}\n", "score in [".repeat(50_000))),
        ("repeated not", format!("{HEAD}rule r when {}vip -> a\notherwise -> b\n", "not ".repeat(n))),
        ("nested records", format!("{HEAD}ticket {{ {} }}\n", "r { ".repeat(n))),
    ]
}

fn assert_refused(what: &str, command: &str, run: &Run) {
    assert!(
        (1..=3).contains(&run.code),
        "{command} on {what}: exit {} (a crash is -1 or 101)\n{}",
        run.code,
        &run.stderr[..run.stderr.len().min(2000)]
    );
    assert!(run.stderr.contains("route::too-deep"), "{command} on {what} names the limit:\n{}", run.stderr);
}

#[test]
fn deep_nesting_is_refused_by_every_command() {
    let dir = scratch("deep");
    let tickets = dir.join("tickets.jsonl");
    std::fs::write(&tickets, "{\"id\": 1, \"vip\": true, \"score\": 3}\n").expect("the temp dir is writable");
    let tickets = tickets.to_string_lossy().into_owned();
    for (i, (what, policy)) in deep_policies().into_iter().enumerate() {
        let path = dir.join(format!("deep{i}.route"));
        std::fs::write(&path, &policy).expect("the temp dir is writable");
        let path = path.to_string_lossy().into_owned();
        assert_refused(what, "check", &run_within(&["check", "--no-color", &path], None));
        assert_refused(what, "test", &run_within(&["test", "--no-color", &path], None));
        assert_refused(what, "route", &run_within(&["route", &path, &tickets], None));
        assert_refused(what, "fmt", &run_within(&["fmt", "-"], Some(&policy)));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Just inside the limit every pass works: the parser, checker, both
/// engines and the formatter, with no stack to spare in a debug build.
#[test]
fn nesting_at_the_limit_is_accepted() {
    let half = routec_compiler::syntax::MAX_NESTING / 2;
    let policy = format!(
        "{HEAD}rule r when {}vip or score > 3{} -> a\notherwise -> b\n\
         test \"deep\" {{\n  ticket {{ id: 1, vip: false, score: 4 }}\n  expect a\n}}\n",
        "not (".repeat(half),
        ")".repeat(half)
    );
    let dir = scratch("at-limit");
    let path = dir.join("deep.route");
    std::fs::write(&path, &policy).expect("the temp dir is writable");
    let path = path.to_string_lossy().into_owned();
    let check = run_within(&["check", "--no-color", "--deny-warnings", &path], None);
    assert_eq!(check.code, 0, "{}", check.stderr);
    let test = run_within(&["test", "--no-color", &path], None);
    assert_eq!(test.code, 0, "{}{}", test.stdout, test.stderr);
    let fmt = run_within(&["fmt", "-"], Some(&policy));
    assert_eq!(fmt.code, 0, "{}", fmt.stderr);
    let again = run_within(&["fmt", "-"], Some(&fmt.stdout));
    assert_eq!(again.stdout, fmt.stdout, "formatting is idempotent at the limit");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A diagnostic 100,000 columns into a line used to panic miette (exit 101);
/// now the line is cut to a window around the label.
#[test]
fn a_diagnostic_far_into_a_long_line_is_rendered_cut() {
    let conditions: Vec<String> = (0..10_000).map(|i| format!("score == {i}")).collect();
    let policy = format!("{HEAD}rule r when {} or nosuch -> a\notherwise -> b\n", conditions.join(" or "));
    let run = check_policy("long-line", &policy);
    assert_eq!(run.code, 1, "{}", &run.stderr[..run.stderr.len().min(2000)]);
    assert!(run.stderr.contains("unknown field `nosuch`"), "{}", run.stderr);
    assert!(run.stderr.contains("…e =="), "the cut is marked:\n{}", run.stderr);
    assert!(run.stderr.len() < 2_000, "the long line is not printed whole: {} bytes", run.stderr.len());
}

/// Labels hundreds of lines apart get one short snippet each, not every
/// line between them.
#[test]
fn snippets_show_only_the_lines_around_their_labels() {
    let n = 300;
    let early: String = (0..n).map(|i| format!("rule s{i} when score == {i} -> a\n")).collect();
    let late: String = (0..n).map(|i| format!("rule t{i} when score == {i} -> b\n")).collect();
    let policy = format!("{HEAD}{early}{late}otherwise -> b\n");
    let run = check_policy("snippets", &policy);
    assert_eq!(run.code, 0, "{}", &run.stderr[..run.stderr.len().min(2000)]);
    let last = run.stderr.rsplit("route::unreachable-rule").next().unwrap_or_default();
    assert!(last.contains(&format!("{} │ rule s{}", n + 4, n - 1)), "the shadowing rule:\n{last}");
    assert!(last.contains(&format!("{} │ rule t{}", 2 * n + 4, n - 1)), "the shadowed rule:\n{last}");
    assert!(last.lines().count() < 20, "only the lines around the labels:\n{last}");
    assert_eq!(run.stderr.matches("route::unreachable-rule").count(), n);
}

/// Ten thousand warnings render in linear time: each used to copy and scan
/// the whole file (minutes in a debug build), now each reads its own lines.
#[test]
fn ten_thousand_warnings_render_in_linear_time() {
    let n = 10_000;
    let sets: String = (0..n).map(|i| format!("keywords k{i} = [\"w{i}\"]\n")).collect();
    let policy = format!("{HEAD}{sets}otherwise -> a\n");
    let run = check_policy("warnings", &policy);
    assert_eq!(run.code, 0, "{}", &run.stderr[..run.stderr.len().min(2000)]);
    let warnings = run.stderr.matches("route::unused").count();
    assert_eq!(warnings, n + 1, "every keyword set and team `b`");
    assert!(run.stderr.len() < warnings * 500, "{} bytes for {warnings} warnings", run.stderr.len());
}

/// An unknown time zone is compared with every zone name for a suggestion;
/// that cost 0.35 ms per character of the string (a megabyte: minutes).
/// A string far longer than any zone name is no typo of one.
#[test]
fn a_long_time_zone_string_is_refused_at_once() {
    let policy = format!("{HEAD}schedule s {{\n  timezone \"{}\"\n  24x7\n}}\notherwise -> a\n", "x".repeat(1_000_000));
    let run = check_policy("time-zone", &policy);
    assert_eq!(run.code, 1, "{}", &run.stderr[..run.stderr.len().min(2000)]);
    assert!(run.stderr.contains("route::bad-schedule"), "{}", &run.stderr[..run.stderr.len().min(2000)]);
    assert!(run.stderr.len() < 5_000, "the string is not printed whole: {} bytes", run.stderr.len());
}

/// Loading a keyword phrase compared every suffix of it with every prefix
/// (a phrase of 32,000 backslashes: 39 s in a release build); now linear.
#[test]
fn a_long_keyword_phrase_loads_in_linear_time() {
    let phrase = "\\\\".repeat(64_000);
    let policy = format!("{HEAD}keywords k = [\"{phrase}\"]\nrule r when subject has k -> a\notherwise -> b\n")
        .replace("score: int }", "score: int  subject: text }");
    let dir = scratch("phrase");
    let path = dir.join("policy.route");
    std::fs::write(&path, &policy).expect("the temp dir is writable");
    let ticket = "{\"id\": 1, \"vip\": false, \"score\": 1, \"subject\": \"a \\\\\\\\ b\"}\n";
    let run = run_within(&["route", &path.to_string_lossy(), "-"], Some(ticket));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.code, 0, "{}", &run.stderr[..run.stderr.len().min(2000)]);
    assert!(run.stdout.contains("\"name\":\"b\""), "{}", &run.stdout[..run.stdout.len().min(2000)]);
}
