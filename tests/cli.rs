//! End-to-end behaviour of the `routec` binary: exit codes, inputs, errors.
//! Each exit code of the README's table is asserted here at least once.

use crate::harness::{routec, run};
use std::io::BufRead;
use std::process::Stdio;

const POLICY: &str = "examples/saas-b2b/policy.route";

#[test]
fn route_reads_stdin_and_writes_json_lines() {
    let ticket = r#"{"id":"T1","subject":"Invoice INV-123456","body":"copy please","channel":"email","created_at":"2026-11-23T13:00:00Z","ai_turns":0,"ai_resolved":false,"customer":{"name":"A","email":"a@b.c","tier":"pro","vip":false,"health":50,"seats":3,"at_risk":false},"signals":{"intent":"billing","confidence":0.9}}"#;
    let r = run(&["route", POLICY, "--now", "2026-11-24T10:30:00-05:00"], Some(&format!("{ticket}\n\n{ticket}\n")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<serde_json::Value> =
        r.stdout.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert_eq!(lines.len(), 2, "blank lines are skipped");
    assert_eq!(lines[0]["destination"]["name"], "billing");
    assert_eq!(lines[0]["trace"].as_array().map(|t| t.iter().any(|s| s["matched"] == true)), Some(true));
    assert_eq!(lines[0]["policy"]["name"], "saas-b2b");
    assert_eq!(lines[0]["policy"]["hash"].as_str().map(str::len), Some(64));
}

#[test]
fn rejected_lines_exit_3_and_the_rest_is_routed() {
    let r = run(
        &["route", POLICY, "tests/decisions/saas-rejected-lines.jsonl", "--now", "2026-11-24T10:30:00-05:00"],
        None,
    );
    assert_eq!(r.code, 3);
    assert_eq!(r.stdout.lines().count(), 2);
    assert!(r.stderr.contains("line 6: rejected: `customer.tier`: expected one of"), "{}", r.stderr);
}

#[test]
fn bad_now_and_bad_load_are_usage_errors() {
    let r = run(&["route", POLICY, "--now", "tomorrow"], Some(""));
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("error: `--now tomorrow` is not an RFC 3339 time"), "{}", r.stderr);
    let r = run(&["route", POLICY, "--load", "billing=lots"], Some(""));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a whole number"), "{}", r.stderr);
}

#[test]
fn a_command_line_clap_refuses_exits_2_with_the_usage() {
    let r = run(&["route", POLICY, "--no-such-flag"], Some(""));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("error: unexpected argument '--no-such-flag'"), "{}", r.stderr);
    assert!(r.stderr.contains("Usage: routec route"), "{}", r.stderr);
    let r = run(&["--version"], None);
    assert_eq!((r.code, r.stdout.trim()), (0, concat!("routec ", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn missing_files_exit_4_with_the_path() {
    let r = run(&["route", "no/such/policy.route"], Some(""));
    assert_eq!(r.code, 4);
    assert!(r.stderr.contains("no/such/policy.route"), "{}", r.stderr);
    let r = run(&["route", POLICY, "no/such/tickets.jsonl"], None);
    assert_eq!(r.code, 4);
    assert!(r.stderr.starts_with("error: cannot read `no/such/tickets.jsonl`: "), "{}", r.stderr);
    let r = run(&["classify", "no/such/intent.model", "--text", "hello"], None);
    assert_eq!(r.code, 4);
    assert!(r.stderr.contains("no/such/intent.model"), "{}", r.stderr);
}

/// `check` and `fmt` go on after a file they cannot read; the exit code is
/// the most serious of what happened: 4 over the findings in the other file.
#[test]
fn an_unreadable_file_among_others_is_reported_and_the_rest_handled() {
    let broken = "tests/check/names/unknown-destination.route";
    let r = run(&["check", "--no-color", "no/such/policy.route", broken], None);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("error: cannot read `no/such/policy.route`: "), "{}", r.stderr);
    assert!(r.stderr.contains("unknown destination `biling`"), "the other file is still checked: {}", r.stderr);
    let r = run(&["check", broken], None);
    assert_eq!(r.code, 1, "findings alone: {}", r.stderr);
    let r = run(&["fmt", "--check", "no/such/policy.route", POLICY], None);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("error: cannot read `no/such/policy.route`: "), "{}", r.stderr);
}

#[test]
fn route_refuses_a_broken_policy() {
    let r = run(&["route", "tests/check/names/unknown-destination.route"], Some(""));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("unknown destination `biling`"), "{}", r.stderr);
}

#[test]
fn failing_policy_tests_exit_1_with_expected_and_actual() {
    let r = run(&["test", "--no-color", "tests/cli/failing-test.route"], None);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn check_json_has_the_fields_ci_needs() {
    let r = run(&["check", "--format", "json", "tests/check/names/unknown-destination.route"], None);
    assert_eq!(r.code, 1);
    let d: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("one JSON object");
    for key in ["file", "line", "column", "end", "severity", "code", "message", "help"] {
        assert!(d.get(key).is_some_and(|v| !v.is_null()), "missing {key} in {d}");
    }
    assert_eq!(d["code"], "route::unknown-name");
    assert_eq!(d["suggestion"], "billing");
}

#[test]
fn check_sarif_is_sarif_2_1_0() {
    let r = run(&["check", "--format", "sarif", "tests/check/names/unknown-destination.route"], None);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("SARIF is JSON");
    assert_eq!(doc["version"], "2.1.0");
    let result = &doc["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "route::unknown-name");
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 16);
}

/// `routec check *.route` in a directory of a policy and its modules: each
/// module is checked as part of the policy that imports it, once.
#[test]
fn modules_are_checked_and_tested_through_the_policy_that_imports_them() {
    let dir = "examples/it-helpdesk";
    let files = ["policy.route", "security.route", "teams.route"].map(|f| format!("{dir}/{f}"));
    let args: Vec<&str> =
        ["check", "--no-color", "--format", "json"].into_iter().chain(files.iter().map(String::as_str)).collect();
    let checked = run(&args, None);
    assert_eq!(checked.code, 0, "{}", checked.stderr);
    for module in ["security.route", "teams.route"] {
        let note = format!(
            "note: `{dir}/{module}` has no `policy` line: it is checked as part of `{dir}/policy.route`, which imports it (above)"
        );
        assert!(checked.stderr.contains(&note), "{}", checked.stderr);
    }
    // `routec test` on a module runs the tests of its policy.
    let tested = run(&["test", "--no-color", &files[2]], None);
    assert_eq!(tested.code, 0, "{}", tested.stderr);
    assert!(tested.stdout.contains(&format!("tests from {dir}/policy.route")), "{}", tested.stdout);
    // A mistake in a module fails the check of the module, located in it.
    let module = "tests/check/imports/module-error/teams.route";
    let failed = run(&["check", "--no-color", "--format", "json", module], None);
    assert_eq!(failed.code, 1);
    let finding: serde_json::Value = serde_json::from_str(failed.stdout.trim()).expect("one JSON line");
    assert_eq!(finding["code"], "route::unknown-name");
    assert_eq!(finding["file"], module);
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let path = "tests/check/decls/unknown-allow-code.route";
    assert_eq!(run(&["check", path], None).code, 0);
    assert_eq!(run(&["check", "--deny-warnings", path], None).code, 1);
}

#[test]
fn skip_proofs_loads_a_policy_the_proofs_reject_but_names_and_types_still_count() {
    let unproven = "tests/check/analysis/routes-nowhere/no-otherwise.route";
    let ticket =
        r#"{"id":"T1","subject":"my invoice","body":"b","tier":"pro","channel":"email","ai_turns":0,"health":5}"#;
    let r = run(&["route", unproven], Some(ticket));
    assert_eq!(r.code, 1, "the proofs reject it by default");
    assert!(r.stderr.contains("some tickets get no destination"), "{}", r.stderr);
    let r = run(&["route", unproven, "--skip-proofs"], Some(&format!("{ticket}\n")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let decision: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("one JSON decision");
    assert_eq!(decision["destination"]["name"], "billing");
    let r = run(&["route", "tests/check/names/unknown-destination.route", "--skip-proofs"], Some(""));
    assert_eq!(r.code, 1, "a name error still fails");
}

#[test]
fn classify_skips_a_bad_line_and_exits_3() {
    let ticket = r#"{"subject":"invoice","body":"please send a copy of my invoice"}"#;
    let r = run(&["classify", "examples/saas-b2b/models/intent.model"], Some(&format!("not json\n\n{ticket}\n")));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.starts_with("line 1: rejected: "), "{}", r.stderr);
    let predicted: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("one JSON line for line 3");
    assert!(predicted["intent"].is_string(), "{predicted}");
}

/// `routec classify … | head -1` and `routec route … | head -1`: the reader
/// reads one line and closes the pipe; routec must stop quietly, without a
/// panic, a backtrace or an error message, and exit with 0.
#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    // Far more output than a pipe buffers (64 KiB on Linux), so that routec
    // is still writing when the reader goes away.
    let example = std::fs::read_to_string("examples/saas-b2b/tickets.jsonl").expect("the example tickets");
    let dir = std::env::temp_dir().join(format!("routec-closed-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let tickets = dir.join("tickets.jsonl");
    std::fs::write(&tickets, example.repeat(40)).expect("write tickets");
    let tickets = tickets.display().to_string();
    let commands: [&[&str]; 2] = [
        &["classify", "examples/saas-b2b/models/intent.model", &tickets],
        &["route", POLICY, &tickets, "--now", "2026-11-24T10:30:00-05:00"],
    ];
    for args in commands {
        let mut child = routec()
            .args(args)
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("routec starts");
        let mut first = String::new();
        {
            let mut reader = std::io::BufReader::new(child.stdout.take().expect("stdout is piped"));
            reader.read_line(&mut first).expect("one line");
        } // the reader goes away here, as `head -1` does
        let output = child.wait_with_output().expect("routec finishes");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(first.starts_with('{'), "{args:?}: {first}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A device or other non-regular file is refused at once, never read.
#[test]
fn a_device_given_as_a_policy_or_a_model_is_refused_without_reading_it() {
    if !std::path::Path::new("/dev/zero").exists() {
        return;
    }
    for args in [&["check", "/dev/zero"][..], &["route", "/dev/zero"], &["fmt", "--check", "/dev/zero"]] {
        let r = run(args, Some(""));
        assert_eq!(r.code, 4, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("error: cannot read `/dev/zero`: not a regular file"), "{args:?}: {}", r.stderr);
    }
    let r = run(&["classify", "/dev/zero", "--text", "hello"], None);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
}

/// `route` refuses a policy whose model is missing: its tickets would go
/// unclassified silently. `--signals-in-tickets` says they bring their own.
#[test]
fn route_refuses_a_missing_model_unless_tickets_bring_signals() {
    let policy = "tests/check/decls/missing-model.route";
    let r = run(&["route", policy, "--now", "2026-11-24T10:30:00-05:00"], Some(""));
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("the classifier model `tests/check/decls/models/not-trained-yet.model` does not exist"),
        "{}",
        r.stderr
    );
    let ticket = r#"{"subject": "invoice", "signals": {"intent": "billing", "confidence": 0.9}}"#;
    let r = run(&["route", policy, "--signals-in-tickets", "--now", "2026-11-24T10:30:00-05:00"], Some(ticket));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let decision: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("one decision");
    assert_eq!(decision["destination"]["name"], "billing");
}

#[test]
fn route_input_mistakes_get_a_precise_answer() {
    let now = ["--now", "2026-11-24T10:30:00-05:00"];
    let ticket = r#"{"id":"T1","subject":"Invoice","body":"b","channel":"email","created_at":"9999-12-31T23:59:59Z","ai_turns":0,"ai_resolved":false,"customer":{"name":"A","email":"a@b.c","tier":"pro","vip":false,"health":50,"seats":3,"at_risk":false},"signals":{"intent":"billing","confidence":0.9}}"#;
    // A byte-order mark before the first ticket is skipped; a time in the
    // last day of year 9999 is a time.
    let r = run(&["route", POLICY, now[0], now[1]], Some(&format!("\u{feff}{ticket}\n")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A JSON array gets a hint that JSON Lines are read.
    let r = run(&["route", POLICY, now[0], now[1]], Some(&format!("[{ticket}]\n")));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("hint: tickets are read as JSON Lines, one object per line"), "{}", r.stderr);
    // A key given twice is refused with its path, not decided by the last one.
    let twice = ticket.replace(r#""tier":"pro""#, r#""tier":"free","tier":"enterprise""#);
    let r = run(&["route", POLICY, now[0], now[1]], Some(&twice));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("line 1: rejected: `customer.tier`: expected each key once"), "{}", r.stderr);
    // An int the engines cannot hold exactly is refused, not clamped.
    let huge = ticket.replace(r#""seats":3"#, r#""seats":1e300"#);
    let r = run(&["route", POLICY, now[0], now[1]], Some(&huge));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("`customer.seats`: expected a whole number from"), "{}", r.stderr);
    // `--load` warnings come in name order, the same every run.
    let r = run(&["route", POLICY, now[0], now[1], "--load", "zz=1,aa=2,mm=3"], Some(""));
    let warned: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("warning: `--load")).collect();
    assert_eq!(warned.len(), 3, "{}", r.stderr);
    assert!(warned[0].contains("aa") && warned[1].contains("mm") && warned[2].contains("zz"), "{}", r.stderr);
    // The last day of year 9999 is an RFC 3339 time, only past what `--now` computes with.
    let r = run(&["route", POLICY, "--now", "9999-12-31T00:00:00Z"], Some(""));
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("not an RFC 3339"), "{}", r.stderr);
}

/// `fmt --check` on a file with CRLF line endings says so, once.
#[test]
fn fmt_check_names_a_change_of_line_endings() {
    let formatted = run(&["fmt", "-"], Some(&std::fs::read_to_string(POLICY).expect("the example"))).stdout;
    let r = run(&["fmt", "--check", "-"], Some(&formatted.replace('\n', "\r\n")));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.ends_with("\\ line endings change from CRLF to LF\n"), "{}", r.stdout);
    assert_eq!(r.stdout.lines().count(), 4, "only the note, no hunk: {}", r.stdout);
}

/// A line with no end (`/dev/zero`, a file without newlines) is read in
/// bounded memory: it is rejected as too long and the lines after it are
/// routed (or classified) as usual.
#[test]
fn an_overlong_ticket_line_is_rejected_and_the_rest_read() {
    let ticket = r#"{"id":"T-1","subject":"Invoice copy","body":"please","channel":"email","page":"/","created_at":"2026-11-24T14:05:00Z","ai_turns":0,"ai_resolved":false,"customer":{"name":"N","email":"n@example.com","tier":"pro","vip":false,"health":80,"seats":10,"at_risk":false},"signals":{"intent":"billing","confidence":0.9,"sentiment":0.0,"language":"en"}}"#;
    let input = format!("{}\n{ticket}\n", "x".repeat(3 << 20));
    let r = run(&["route", POLICY, "--now", "2026-11-24T10:30:00-05:00"], Some(&input));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.starts_with("line 1: rejected: the line is longer than 1048576 bytes"), "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1, "the ticket after it is routed: {}", r.stderr);
    let r = run(&["classify", "examples/saas-b2b/models/intent.model"], Some(&input));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.starts_with("line 1: rejected: the line is longer than"), "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stderr);
}
