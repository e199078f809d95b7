//! `routec fmt`, the canonical formatter:
//! - one `.route` file per case under `tests/fmt/`, each with a reviewed
//!   snapshot showing the input and then the formatted output;
//! - over every `.route` file in `tests/` and `examples/` that parses
//!   cleanly: formatting is idempotent, keeps the AST (spans aside) and
//!   every comment, and leaves no trailing space and one final newline;
//! - the command line, through the real binary: in place, `--check`, stdin,
//!   files that do not parse or cannot be read.

use std::path::{Path, PathBuf};

use routec_compiler::fmt::{format, FormatError};
use routec_compiler::syntax;
use routec_compiler::{Diagnostics, FileId};

use crate::harness::{self, run};

/// The debug form of a clean parse with every `Span { .. }` replaced by
/// `Span`; `None` when the text has syntax errors.
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
    insta::glob!("fmt/*.route", |path| {
        let rel = harness::relative(path);
        let input = std::fs::read_to_string(path).expect("the case is readable");
        let output = match format(&input) {
            Ok(text) => text,
            Err(error) => panic!("{rel}: {error}"),
        };
        insta::assert_snapshot!(format!("----- INPUT {rel}\n{input}----- OUTPUT\n{output}"));
    });
}

#[test]
fn fmt_has_a_case_for_every_construct() {
    let cases = harness::files("tests/fmt", "route");
    assert!(cases.len() >= 12, "expected at least 12 cases in tests/fmt, found {}", cases.len());
}

#[test]
fn fmt_is_idempotent_and_keeps_meaning() {
    let mut files = harness::files("tests", "route");
    files.extend(harness::files("examples", "route"));
    let mut checked = 0;
    for path in files {
        let name = harness::relative(&path);
        let input = std::fs::read_to_string(&path).expect("the file is readable");
        // Files with syntax errors are the checker's cases, not ours.
        let Some(before) = ast_without_spans(&input) else { continue };
        let once = match format(&input) {
            Ok(text) => text,
            // Refused on purpose (see `fmt_refuses_to_delete_a_repeated_clause`).
            Err(FormatError::Repeated) => continue,
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

/// Offsets where a comment can be inserted without changing the tokens:
/// whitespace, and just inside or outside brackets and after commas;
/// never inside a string or a comment.
fn comment_slots(text: &str) -> Vec<usize> {
    let mut slots = Vec::new();
    let (mut in_string, mut escaped, mut in_comment) = (false, false, false);
    for (i, b) in text.bytes().enumerate() {
        if in_comment {
            in_comment = b != b'\n';
            if !in_comment {
                slots.push(i);
            }
        } else if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => {
                    slots.push(i);
                    in_string = true;
                }
                b'#' => in_comment = true,
                b' ' | b'\n' | b'}' | b']' | b')' => slots.push(i),
                b'{' | b'[' | b'(' | b',' => slots.push(i + 1),
                _ => {}
            }
        }
    }
    slots
}

/// Comment placement is where formatters lose text: put a trailing and an
/// own-line comment in many places of every case and check that the
/// result is still formatted, idempotent and keeps everything (`format`
/// itself refuses output whose AST, comments or words differ).
#[test]
fn fmt_keeps_comments_inserted_anywhere() {
    for path in harness::files("tests/fmt", "route") {
        let name = harness::relative(&path);
        let source = std::fs::read_to_string(&path).expect("the case is readable");
        // Every fifth slot keeps the test fast (the release-mode sweep of
        // every slot, cases and examples, found nothing more).
        for (n, slot) in comment_slots(&source).into_iter().enumerate() {
            let insert = match n % 10 {
                0 => " # trailing\n",
                5 => "\n# own line\n",
                _ => continue,
            };
            let text = format!("{}{insert}{}", &source[..slot], &source[slot..]);
            let once = match format(&text) {
                Ok(once) => once,
                Err(error) => panic!("{name} with a comment at {slot}: {error}\n{text}"),
            };
            let twice = format(&once).unwrap_or_default();
            assert_eq!(once, twice, "{name} with a comment at {slot}: not idempotent\n{text}");
        }
    }
}

#[test]
fn fmt_refuses_syntax_errors() {
    let error = format("rule broken when -> billing\n").expect_err("a syntax error");
    assert!(matches!(error, FormatError::Syntax(ref d) if d.has_errors()), "{error:?}");
}

// ------------------------------------------------------------ command line

const MESSY: &str = "queue   human_review\nrule a when intent==billing->human_review\n";
const TIDY: &str = "queue human_review\n\nrule a when intent == billing -> human_review\n";
const BROKEN: &str = "rule a when -> human_review\n";

/// A fresh directory for one test's files.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("routec-fmt-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the temp file is writable");
    path
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("the temp file is readable")
}

#[test]
fn fmt_rewrites_files_in_place() {
    let dir = scratch_dir("in-place");
    let messy = write(&dir, "messy.route", MESSY);
    let tidy = write(&dir, "tidy.route", TIDY);
    let r = run(&["fmt", &messy.to_string_lossy(), &tidy.to_string_lossy()], None);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "", ""));
    assert_eq!(read(&messy), TIDY);
    assert_eq!(read(&tidy), TIDY);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fmt_check_lists_files_that_would_change_with_a_diff() {
    let dir = scratch_dir("check");
    let messy = write(&dir, "messy.route", MESSY);
    let tidy = write(&dir, "tidy.route", TIDY);
    let r = run(&["fmt", "--check", &messy.to_string_lossy(), &tidy.to_string_lossy()], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(read(&messy), MESSY, "--check writes nothing");
    let stdout = r.stdout.replace(&*dir.to_string_lossy(), "[DIR]");
    insta::assert_snapshot!(stdout);

    let r = run(&["fmt", "--check", &tidy.to_string_lossy()], None);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fmt_reads_stdin_and_writes_stdout() {
    for args in [&["fmt"][..], &["fmt", "-"][..]] {
        let r = run(args, Some(MESSY));
        assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, TIDY, ""), "{args:?}");
    }
    let r = run(&["fmt", "--check"], Some(MESSY));
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("would reformat <stdin>\n"), "{}", r.stdout);
}

#[test]
fn fmt_reports_syntax_errors_and_goes_on_with_the_other_files() {
    let dir = scratch_dir("syntax");
    let broken = write(&dir, "broken.route", BROKEN);
    let messy = write(&dir, "messy.route", MESSY);
    let r = run(&["fmt", &broken.to_string_lossy(), &messy.to_string_lossy()], None);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("route::syntax"), "{}", r.stderr);
    assert!(r.stderr.contains("broken.route` was not formatted because it has syntax errors"), "{}", r.stderr);
    assert_eq!(read(&broken), BROKEN, "a file with syntax errors is left alone");
    assert_eq!(read(&messy), TIDY, "the next file is still formatted");

    let r = run(&["fmt"], Some(BROKEN));
    assert_eq!((r.code, r.stdout.as_str()), (1, ""), "nothing on stdout for a broken input");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fmt_refuses_to_delete_a_repeated_clause() {
    // The parser keeps only the first `expect` of a test (the checker
    // reports the second); printing the tree would silently delete it.
    let repeated = "test \"t\" {\n  expect billing\n  expect human_review\n}\n";
    let dir = scratch_dir("repeated");
    let path = write(&dir, "repeated.route", repeated);
    let r = run(&["fmt", &path.to_string_lossy()], None);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("repeats a clause that counts only once"), "{}", r.stderr);
    assert_eq!(read(&path), repeated);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fmt_names_a_file_it_cannot_read() {
    let r = run(&["fmt", "no/such/policy.route"], None);
    assert_eq!(r.code, 4);
    assert!(r.stderr.contains("cannot read `no/such/policy.route`"), "{}", r.stderr);
}
