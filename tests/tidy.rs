//! Repository hygiene that CI enforces through `cargo test`: module docs,
//! documented and tested diagnostic codes, no ignored tests.

use crate::harness;

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn every_module_starts_with_a_doc_comment() {
    let mut missing = Vec::new();
    for dir in ["compiler/src", "runtime/src", "lsp/src", "cli", "classifier/src"] {
        for path in harness::files(dir, "rs") {
            let text = read(&path);
            if !text.trim_start().starts_with("//!") {
                missing.push(harness::relative(&path));
            }
        }
    }
    assert!(missing.is_empty(), "these modules need a `//!` comment saying what they own: {missing:#?}");
}

#[test]
fn every_diagnostic_code_is_documented_and_tested() {
    let docs = read(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/language.md"));
    let snapshots: String = harness::files("tests/snapshots", "snap").iter().map(|p| read(p)).collect();
    let mut undocumented = Vec::new();
    let mut untested = Vec::new();
    for code in routec_compiler::Code::ALL {
        if !docs.contains(code.as_str()) {
            undocumented.push(code.as_str());
        }
        if !snapshots.contains(code.as_str()) {
            untested.push(code.as_str());
        }
    }
    assert!(undocumented.is_empty(), "add these codes to docs/language.md: {undocumented:?}");
    assert!(untested.is_empty(), "add a tests/check case for these codes: {untested:?}");
}

#[test]
fn no_ignored_or_should_panic_tests() {
    let mut offenders = Vec::new();
    for dir in ["compiler", "runtime", "lsp", "cli", "classifier", "tests"] {
        for path in harness::files(dir, "rs") {
            let text = read(&path);
            for needle in ["#[ignore", "#[should_panic"] {
                if text.lines().any(|l| l.trim_start().starts_with(needle)) {
                    offenders.push(format!("{}: {needle}", harness::relative(&path)));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn no_orphaned_snapshots() {
    // A snapshot whose fixture is gone is stale; insta would never report it.
    let mut orphans = Vec::new();
    for snap in harness::files("tests/snapshots", "snap") {
        let name = snap.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let Some((_, fixture)) = name.split_once('@') else { continue };
        let fixture = fixture.trim_end_matches(".snap");
        let dir = if name.contains("__check__") {
            "tests/check"
        } else if name.contains("__fmt__") {
            "tests/fmt"
        } else {
            "tests/decisions"
        };
        let rel = fixture.replace("__", "/");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(&rel);
        if !path.exists() {
            orphans.push(name);
        }
    }
    assert!(orphans.is_empty(), "delete these snapshots (their fixture is gone): {orphans:#?}");
}
