//! End-to-end tests of `routec audit`, `routec replay` and `routec init
//! --from` through the real binary, on the shipped saas-b2b history
//! (`examples/saas-b2b/history.csv` and its mapping `history.toml`) and on
//! small histories in `tests/history/`. The JSON of each command's document
//! is a reviewed snapshot.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const POLICY: &str = "examples/saas-b2b/policy.route";
const HISTORY: &str = "examples/saas-b2b/history.csv";

fn routec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_routec"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("routec runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "routec failed ({:?}): {}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("the output is JSON")
}

/// A fresh folder under the system temp dir, unique to this test and process.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("routec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The figure `key` of section `section` in a document's JSON.
fn figure(doc: &serde_json::Value, section: &str, key: &str) -> serde_json::Value {
    doc["sections"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["key"] == section))
        .and_then(|s| s["blocks"].as_array())
        .and_then(|b| b.iter().find_map(|b| b["figures"].as_array()?.iter().find(|f| f["key"] == key).cloned()))
        .map(|f| f["value"].clone())
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn replay_of_the_shipped_history() {
    let out = stdout(&routec(&["replay", POLICY, HISTORY, "--json"]));
    insta::assert_snapshot!("replay_saas_b2b", out);
}

#[test]
fn the_terminal_summary_and_the_html_report_show_the_same_replay() {
    let dir = scratch_dir("replay-html");
    let html = dir.join("replay.html");
    let text = stdout(&routec(&["replay", POLICY, HISTORY, "--html", &html.display().to_string()]));
    for expected in ["agreement with the final destination", "Divergence per rule", "SLAs the replayed", "oncall"] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    let page = std::fs::read_to_string(&html).expect("the HTML report is written");
    assert!(page.contains("<svg") && page.contains("Divergence per rule"), "{}", &page[..page.len().min(400)]);
    assert!(!page.contains("http://") || !page.contains("<script src"), "the page loads nothing from the network");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A copy of the shipped policy (and its model) with one change, in a temp dir.
fn edited_policy(dir: &Path, from: &str, to: &str) -> PathBuf {
    let source = std::fs::read_to_string(POLICY).expect("the shipped policy");
    assert!(source.contains(from), "the edit applies");
    std::fs::create_dir_all(dir.join("models")).expect("models dir");
    std::fs::copy("examples/saas-b2b/models/intent.model", dir.join("models/intent.model")).expect("copy the model");
    let path = dir.join("policy.route");
    std::fs::write(&path, source.replacen(from, to, 1)).expect("write the policy");
    path
}

#[test]
fn replaying_a_policy_against_itself_changes_nothing() {
    let out = json(&stdout(&routec(&["replay", POLICY, HISTORY, "--against", POLICY, "--json"])));
    assert_eq!(figure(&out, "changes", "changed"), 0, "{out:#}");
    assert_eq!(figure(&out, "changes", "old_agreement"), figure(&out, "changes", "new_agreement"));
}

#[test]
fn replay_against_an_older_version_groups_the_changes_by_rule() {
    let dir = scratch_dir("replay-against");
    // The older version sent free-tier technical tickets to tech support, as the humans did.
    let old = edited_policy(
        &dir,
        "technical,       free             -> assistant",
        "technical,       free             -> tech_support",
    );
    let old = old.display().to_string();
    let out = json(&stdout(&routec(&["replay", POLICY, HISTORY, "--against", &old, "--json"])));
    let changed = figure(&out, "changes", "changed").as_u64().expect("a count");
    assert!(changed > 0, "{out:#}");
    let groups = out["sections"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["key"] == "changes"))
        .and_then(|s| s["blocks"].as_array())
        .and_then(|b| b.iter().find(|b| b["key"] == "change_groups"))
        .and_then(|t| t["rows"].as_array())
        .cloned()
        .expect("a table of change groups");
    let total: u64 = groups.iter().map(|row| row[2].as_u64().unwrap_or(0)).sum();
    assert_eq!(total, changed, "every changed ticket is in one group: {groups:#?}");
    assert!(
        groups.iter().any(|row| row[0] == "row 5: technical, free" && row[1] == "row 5: technical, free"),
        "the matrix row that changed its destination: {groups:#?}"
    );
    // Humans sent those tickets to tech support: the older version agreed more often.
    let old_rate = figure(&out, "changes", "old_agreement").as_f64().expect("a rate");
    let new_rate = figure(&out, "changes", "new_agreement").as_f64().expect("a rate");
    assert!(old_rate > new_rate, "{old_rate} vs {new_rate}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rejected_rows_are_reported_and_the_rest_replayed() {
    let out = routec(&["replay", POLICY, "tests/history/rejected-rows.csv", "--json"]);
    assert_eq!(out.status.code(), Some(3), "some rows were rejected");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3: rejected: `created_at`: `yesterday` is not an RFC 3339 time"), "{stderr}");
    assert!(stderr.contains("line 4: rejected:") && stderr.contains("customer.seats"), "{stderr}");
    assert!(stderr.contains("line 6: rejected: a quoted field is not closed"), "{stderr}");
    let doc = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(figure(&doc, "agreement", "replayed"), 2, "{doc:#}");
}

#[test]
fn a_history_without_the_policys_fields_is_refused_by_name() {
    let out = routec(&["replay", POLICY, "tests/history/rejected-rows.csv", "--mapping", "/dev/null"]);
    assert_eq!(out.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`ai_turns`") && stderr.contains("`customer.vip`"), "{stderr}");
}

#[test]
fn audit_of_the_shipped_history() {
    let out = stdout(&routec(&[
        "audit",
        HISTORY,
        "--timezone",
        "America/New_York",
        "--sample",
        "900",
        "--folds",
        "3",
        "--json",
    ]));
    insta::assert_snapshot!("audit_saas_b2b", out);
}

#[test]
fn audit_without_categories_proposes_clusters_named_by_their_terms() {
    let out = json(&stdout(&routec(&[
        "audit",
        HISTORY,
        "--column",
        "category=no_such_column",
        "--sample",
        "600",
        "--clusters",
        "6",
        "--json",
    ])));
    let clusters = out["sections"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["key"] == "clusters"))
        .and_then(|s| s["blocks"].as_array())
        .and_then(|b| b.iter().find(|b| b["key"] == "clusters"))
        .and_then(|t| t["rows"].as_array())
        .cloned()
        .expect("a table of proposed categories");
    assert!((2..=6).contains(&clusters.len()), "{clusters:#?}");
    let sizes: u64 = clusters.iter().map(|row| row[1].as_u64().unwrap_or(0)).sum();
    assert_eq!(sizes, 600, "every sampled ticket is in one cluster");
    assert!(clusters.iter().all(|row| !row[0].as_str().unwrap_or("").is_empty() && row[3] != ""), "{clusters:#?}");
    insta::assert_json_snapshot!("audit_clusters_saas_b2b", clusters);
}

#[test]
fn init_writes_a_policy_that_checks_and_passes_its_tests() {
    let dir = scratch_dir("init-from");
    let out_dir = dir.display().to_string();
    let summary =
        stdout(&routec(&["init", "--from", HISTORY, "--out", &out_dir, "--sample", "1200", "--name", "acme"]));
    assert!(summary.contains("tier → destination"), "{summary}");
    let policy = dir.join("policy.route").display().to_string();
    let check = routec(&["check", &policy, "--deny-warnings"]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let tests = stdout(&routec(&["test", &policy]));
    assert!(tests.contains("0 failed") && !tests.contains(" 0 passed"), "{tests}");
    let text = std::fs::read_to_string(dir.join("policy.route")).expect("the policy");
    insta::assert_snapshot!(
        "init_saas_b2b_matrix",
        text.lines().filter(|l| l.contains("->")).collect::<Vec<_>>().join("\n")
    );
    // A second run does not overwrite without --force.
    let again = routec(&["init", "--from", HISTORY, "--out", &out_dir]);
    assert_eq!(again.status.code(), Some(2), "{}", String::from_utf8_lossy(&again.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}
