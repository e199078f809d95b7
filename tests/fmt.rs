//! `routec fmt`: the canonical formatter.
//!
//! - one `.route` file per case under `tests/fmt/`, each with a reviewed
//!   snapshot that shows the input and then the formatted output;
//! - over every `.route` file in `tests/` and `examples/` that parses
//!   cleanly: formatting is idempotent, keeps the AST (spans aside) and every
//!   comment, and leaves no trailing space and exactly one final newline;
//! - the command line, through the real binary.

use std::path::{Path, PathBuf};

use routec_compiler::fmt::{format, FormatError};
use routec_compiler::syntax;
use routec_compiler::{Diagnostics, FileId};

/// The workspace root: the nearest ancestor holding the grammar. Found at
/// run time so the module works from any test target of the workspace.
fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("grammar/route.pest").is_file())
        .unwrap_or(manifest)
        .to_path_buf()
}

/// Every `.route` file under `dir`, recursively, sorted.
fn route_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "route") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

/// The debug form of a parse with every `Span { .. }` replaced by `Span`.
fn ast_without_spans(text: &str) -> Option<String> {
    let mut diagnostics = Diagnostics::new();
    let policy = syntax::parse(FileId(0), text, &mut diagnostics);
    if diagnostics.has_errors() {
        return None;
    }
    let debug = format!("{policy:?}");
    let mut out = String::new();
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("Span { file: ") {
        out.push_str(&rest[..at]);
        out.push_str("Span");
        let close = rest[at..].find(" }").expect("a span's debug form ends with ` }`");
        rest = &rest[at + close + 2..];
    }
    out.push_str(rest);
    Some(out)
}

fn comment_texts(text: &str) -> Vec<String> {
    syntax::comments(text).into_iter().map(|c| c.text).collect()
}

#[test]
fn fmt_cases() {
    let cases = route_files(&root().join("tests/fmt"));
    assert!(cases.len() >= 12, "expected the formatter cases in tests/fmt, found {}", cases.len());
    for path in cases {
        let input = std::fs::read_to_string(&path).expect("readable case");
        let output = match format(&input) {
            Ok(text) => text,
            Err(error) => panic!("{}: {error}", relative(&path)),
        };
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        insta::with_settings!({
            snapshot_path => root().join("tests/snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => relative(&path),
        }, {
            insta::assert_snapshot!(format!("fmt@{name}"), format!("----- INPUT\n{input}----- OUTPUT\n{output}"));
        });
    }
}

#[test]
fn fmt_is_idempotent_and_keeps_meaning() {
    let root = root();
    let mut files = route_files(&root.join("tests"));
    files.extend(route_files(&root.join("examples")));
    files.sort();
    files.dedup();
    let mut checked = 0;
    for path in files {
        let name = relative(&path);
        let input = std::fs::read_to_string(&path).expect("readable .route file");
        // Files with syntax errors are the checker's cases, not ours.
        let Some(before) = ast_without_spans(&input) else { continue };
        let once = match format(&input) {
            Ok(text) => text,
            Err(error) => panic!("{name}: {error}"),
        };
        let twice = match format(&once) {
            Ok(text) => text,
            Err(error) => panic!("{name}: formatting the output: {error}"),
        };
        assert_eq!(once, twice, "{name}: formatting is not idempotent");
        assert_eq!(ast_without_spans(&once).as_deref(), Some(before.as_str()), "{name}: the AST changed");
        assert_eq!(comment_texts(&once), comment_texts(&input), "{name}: comments changed");
        assert!(!once.lines().any(|l| l.ends_with(' ') || l.ends_with('\t')), "{name}: trailing whitespace");
        assert!(once.is_empty() || (once.ends_with('\n') && !once.ends_with("\n\n")), "{name}: final newline");
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} files were checked");
}

#[test]
fn fmt_refuses_syntax_errors() {
    let error = format("rule broken when -> billing\n").expect_err("a syntax error");
    assert!(matches!(error, FormatError::Syntax(ref d) if d.has_errors()), "{error:?}");
}
