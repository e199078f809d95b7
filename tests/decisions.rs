//! Decision snapshots: each `tests/decisions/*.args` holds one `routec`
//! command line (run from the workspace root); stdout, stderr and the exit
//! code are snapshotted. JSON decisions have the policy hash redacted so a
//! comment edit in an example does not churn every snapshot.

use crate::harness;

fn redact_hash(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("\"hash\":\"") {
        let start = i + "\"hash\":\"".len();
        out.push_str(&rest[..start]);
        out.push_str("[hash]");
        rest = &rest[start..];
        let end = rest.find('"').unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn pretty_json_lines(stdout: &str) -> String {
    stdout
        .lines()
        .map(|l| match serde_json::from_str::<serde_json::Value>(l) {
            Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| l.to_string()),
            Err(_) => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn decision_snapshots() {
    insta::glob!("decisions/*.args", |path| {
        let line = std::fs::read_to_string(path).expect("args file is readable");
        let args: Vec<&str> = line.split_whitespace().collect();
        let run = harness::run(&args, None);
        let stdout = redact_hash(&pretty_json_lines(&run.stdout));
        // Throughput figures vary run to run.
        let stderr: String = run.stderr.lines().filter(|l| !l.starts_with("routed ")).collect::<Vec<_>>().join("\n");
        insta::assert_snapshot!(format!(
            "$ routec {}\n----- EXIT CODE {}\n----- STDERR\n{stderr}\n----- STDOUT\n{stdout}",
            line.trim(),
            run.code
        ));
    });
}

/// The interpreter's decisions are deterministic: the same run twice gives the same bytes.
#[test]
fn decisions_are_deterministic() {
    let args = [
        "route",
        "examples/saas-b2b/policy.route",
        "examples/saas-b2b/tickets.jsonl",
        "--now",
        "2026-11-29T03:00:00-05:00",
    ];
    let a = harness::run(&args, None);
    let b = harness::run(&args, None);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout);
}

/// The JIT and the interpreter give byte-identical decisions, traces
/// included, on every decision fixture and on every example's tickets.
#[test]
fn jit_and_interpreter_agree_on_every_fixture() {
    let mut commands: Vec<String> = crate::harness::files("tests/decisions", "args")
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|l| l.trim().replace(" --explain", ""))
        .filter(|l| l.starts_with("route "))
        .collect();
    for example in ["examples/saas-b2b", "examples/it-helpdesk"] {
        for now in ["2026-11-24T10:30:00-05:00", "2026-11-29T03:00:00-05:00", "2026-12-25T12:00:00Z"] {
            commands.push(format!("route {example}/policy.route {example}/tickets.jsonl --now {now}"));
        }
    }
    for line in commands {
        let args: Vec<&str> = line.split_whitespace().collect();
        let mut interp = args.clone();
        interp.extend(["--engine", "interp"]);
        let mut jit = args.clone();
        jit.extend(["--engine", "jit"]);
        let a = harness::run(&interp, None);
        let b = harness::run(&jit, None);
        assert_eq!(a.code, b.code, "{line}");
        assert!(!a.stdout.is_empty(), "{line} routed nothing");
        assert_eq!(a.stdout, b.stdout, "engines disagree on `{line}`");
    }
}
