//! `routec check` on every policy under `tests/check/`: one broken (or
//! tricky) policy per file, the rendered diagnostics kept as a snapshot that
//! shows the source too. A first line `# args: --format json` adds arguments.

use crate::harness;

#[test]
fn check_snapshots() {
    insta::glob!("check/**/*.route", |path| {
        let rel = harness::relative(path);
        let source = std::fs::read_to_string(path).expect("fixture is readable");
        let mut args = vec!["check", "--no-color"];
        let extra: Vec<&str> = source
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# args:"))
            .map(|a| a.split_whitespace().collect())
            .unwrap_or_default();
        args.extend(extra);
        args.push(&rel);
        let run = harness::run(&args, None);
        let snapshot = format!(
            "----- SOURCE {rel}\n{source}\n----- EXIT CODE {}\n----- STDOUT\n{}\n----- STDERR\n{}",
            run.code, run.stdout, run.stderr
        );
        insta::assert_snapshot!(snapshot);
    });
}

/// Every fixture must fail the check (or warn): a fixture that became clean
/// means a diagnostic silently disappeared.
#[test]
fn every_check_fixture_reports_something() {
    for path in harness::files("tests/check", "route") {
        let rel = harness::relative(&path);
        if rel.contains("/ok/") || rel.contains("near-miss") || rel.contains("_ok") {
            continue;
        }
        let run = harness::run(&["check", "--no-color", "--deny-warnings", &rel], None);
        assert_eq!(run.code, 1, "{rel} should report a finding:\n{}", run.stderr);
    }
}

#[test]
fn shipped_examples_are_clean() {
    for path in ["examples/saas-b2b/policy.route", "examples/it-helpdesk/policy.route"] {
        let run = harness::run(&["check", "--no-color", "--deny-warnings", path], None);
        assert_eq!(run.code, 0, "{path}:\n{}", run.stderr);
        let run = harness::run(&["test", "--no-color", path], None);
        assert_eq!(run.code, 0, "{path}:\n{}{}", run.stdout, run.stderr);
    }
}
