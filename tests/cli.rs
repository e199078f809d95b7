//! End-to-end behaviour of the `routec` binary: exit codes, inputs, errors.

use crate::harness::run;

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
fn rejected_lines_exit_2_and_the_rest_is_routed() {
    let r = run(
        &["route", POLICY, "tests/decisions/saas-rejected-lines.jsonl", "--now", "2026-11-24T10:30:00-05:00"],
        None,
    );
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout.lines().count(), 2);
    assert!(r.stderr.contains("line 6: rejected: `customer.tier`: expected one of"), "{}", r.stderr);
}

#[test]
fn bad_now_and_bad_load_are_clear_errors() {
    let r = run(&["route", POLICY, "--now", "tomorrow"], Some(""));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("`--now tomorrow` is not an RFC 3339 time"), "{}", r.stderr);
    let r = run(&["route", POLICY, "--load", "billing=lots"], Some(""));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is not a whole number"), "{}", r.stderr);
}

#[test]
fn missing_files_fail_with_the_path() {
    let r = run(&["route", "no/such/policy.route"], Some(""));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no/such/policy.route"), "{}", r.stderr);
    let r = run(&["route", POLICY, "no/such/tickets.jsonl"], None);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no/such/tickets.jsonl"), "{}", r.stderr);
    let r = run(&["check", "no/such/policy.route"], None);
    assert_eq!(r.code, 1);
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
