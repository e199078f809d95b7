//! The formatter's checks on its own output, run before any text is handed
//! back: the output must parse to the same AST (spans aside), keep every
//! comment, and keep every word of the input.
//!
//! The word check exists because the AST is lossy in one way: where the
//! grammar allows a clause that can only be used once to be written twice
//! (two `ticket` blocks or two `expect` lines in one test, `severity` twice
//! in one `create_issue`), the parser keeps the last one only. Printing the
//! AST would then silently delete the others, and the AST check cannot see
//! that, since it compares against the same lossy tree.

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostics;
use crate::source::FileId;
use crate::syntax::{self, ast::Policy};

/// What is wrong with a formatted text, if anything.
pub(super) enum Problem {
    /// It does not parse back to the same policy and comments.
    Changed,
    /// It lacks words the source has.
    DropsText,
}

pub(super) fn check(source: &str, policy: &Policy, formatted: &str) -> Result<(), Problem> {
    let mut diagnostics = Diagnostics::new();
    let reparsed = syntax::parse(FileId(0), formatted, &mut diagnostics);
    let same = !diagnostics.has_errors()
        && without_spans(&format!("{reparsed:?}")) == without_spans(&format!("{policy:?}"))
        && comment_texts(formatted) == comment_texts(source);
    if !same {
        return Err(Problem::Changed);
    }
    if words(source) != words(formatted) {
        return Err(Problem::DropsText);
    }
    Ok(())
}

fn comment_texts(text: &str) -> Vec<String> {
    syntax::comments(text).into_iter().map(|c| c.text).collect()
}

/// A debug rendering with every `Span { .. }` replaced by `Span`, so two
/// trees compare equal when only their positions differ.
fn without_spans(debug: &str) -> String {
    const OPEN: &str = "Span { file: ";
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        out.push_str("Span");
        let after = &rest[at..];
        rest = after.find(" }").map_or("", |close| &after[close + 2..]);
    }
    out.push_str(rest);
    out
}

/// How often each name or keyword occurs outside strings and comments,
/// with the spellings the formatter normalises made equal: `tz` is written
/// `timezone`, several `@allow`s merge into one, and an empty `ticket {}`,
/// `signals {}` or `load {}` in a test (the same test as none) is dropped.
fn words(text: &str) -> BTreeMap<&str, usize> {
    let bytes = text.as_bytes();
    let mut counts = BTreeMap::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if b == b'"' {
            i += 1;
            while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n') {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if b.is_ascii_alphanumeric() || b == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            // Numbers, durations and `24x7` start with a digit; the AST
            // compares their values already.
            let word = text.get(start..i).unwrap_or("");
            let word = if word == "tz" { "timezone" } else { word };
            if !b.is_ascii_digit() && !matches!(word, "allow" | "ticket" | "signals" | "load") {
                *counts.entry(word).or_insert(0) += 1;
            }
        } else {
            i += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_scrubbed() {
        let debug = "Ident { name: \"a\", span: Span { file: FileId(0), start: 1, end: 2 } }";
        assert_eq!(without_spans(debug), "Ident { name: \"a\", span: Span }");
    }

    #[test]
    fn words_skip_strings_comments_and_numbers() {
        let counts = words("sla s { P1: 15m } # sla\nregex r = \"sla\" tz");
        let expected: BTreeMap<&str, usize> =
            [("P1", 1), ("r", 1), ("regex", 1), ("s", 1), ("sla", 1), ("timezone", 1)].into();
        assert_eq!(counts, expected);
    }
}
