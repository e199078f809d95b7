//! The canonical formatter behind `routec fmt`: AST + comments → text.
//!
//! It owns the one layout of a `.route` file; it must not know about names,
//! types or meaning. It never formats a file with syntax errors, and it
//! checks its own output: the result parses back to the same AST, spans
//! aside, or `format` returns an error instead of text.
//!
//! # The canonical style
//!
//! - Two spaces of indentation; no tabs, no trailing spaces; the file ends
//!   with exactly one newline. Lines aim at 100 columns.
//! - **Blank lines between items.** Two items of different groups are
//!   separated by one blank line, and so is any item that takes more than
//!   one line (a block, a rule with actions, an `@allow` line) from its
//!   neighbours. Consecutive one-line items of the same group (a run of
//!   `keywords`/`regex`, of destinations, of imports, of rules) keep the
//!   user's grouping: adjacent if they were adjacent, one blank line if
//!   there was at least one. Groups are the item keywords, except that
//!   `team`/`queue`/`role`/`ai` form one group and `keywords`/`regex`
//!   another.
//! - **Blocks** (`ticket`, `schedule`, `classifier`, `priority`, `sla`,
//!   `matrix`, `test`, record fields) open with ` {` on the header line and
//!   hold one entry per line; `}` has its own line. A blank line the user
//!   left between two entries is kept (at most one); none after `{` or
//!   before `}`. An empty block is `{}`.
//! - **Settings** (the body of a destination; a test's `ticket`, `signals`
//!   and `load`) stay on the header line when they fit and hold no comment:
//!   `team billing { hours us_business  capacity 40 }` (two spaces between
//!   settings, which have no separator) and `ticket { subject: "x", vip: true }`.
//!   Otherwise they are a block, one setting per line, without commas.
//! - **Expressions:** single spaces around operators, lower-case keywords,
//!   the user's parentheses and no others. A rule, escalation or priority
//!   line that does not fit breaks its condition before `and`/`or` (see
//!   `expr`), and then `-> destination` starts its own line.
//! - **Outcomes:** `-> destination` followed, on the same line, by
//!   `priority`, `shadow` and `rollout`. Each action (`notify`,
//!   `create_issue`, `tag`, `set`) and `handoff` goes on its own line,
//!   indented under the rule, and so does every clause after it; clause
//!   order is never changed.
//! - **Matrix rows** are a table: each cell is padded to the widest cell of
//!   its column so every `->` lines up.
//! - **Lists** of strings stay on one line when they fit, otherwise one
//!   string per line with a trailing comma.
//! - `@allow(...)` goes on its own line before its item, row or priority
//!   rule; several merge into one.
//! - Strings are re-escaped (`\"`, `\\`, `\n`, `\t`); numbers, durations
//!   and clock times are printed as written; `tz` is spelled `timezone`.
//! - **Comments** all stay. A comment on its own line stays before the
//!   construct that follows it, at that construct's indentation; a comment
//!   at the end of a line stays at the end of that line, two spaces after
//!   the code; trailing comments on consecutive lines are aligned in one
//!   column. A comment inside code that now fits on one line moves above
//!   that line.

mod align;
mod expr;
mod items;
mod layout;
mod printer;
mod rules;
mod scan;
mod test_block;
mod text;

use std::fmt;

use crate::diagnostic::Diagnostics;
use crate::source::FileId;
use crate::syntax::{self, ast};

use printer::Printer;

/// Indentation step.
const INDENT: usize = 2;
/// The width lines are laid out for; a single test or name that is longer
/// still stays whole.
const WIDTH: usize = 100;

/// Why a file was not formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The file has syntax errors (spans are in `FileId(0)`); nothing was
    /// formatted.
    Syntax(Diagnostics),
    /// The formatted text would not parse back to the same policy. This is a
    /// formatter bug; the caller should leave the file alone.
    Unstable,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Syntax(diagnostics) => {
                let n = diagnostics.error_count();
                write!(f, "the file has {n} syntax error{}", if n == 1 { "" } else { "s" })
            }
            FormatError::Unstable => {
                f.write_str("the formatter would change the meaning of the file (a formatter bug)")
            }
        }
    }
}

impl std::error::Error for FormatError {}

/// Formats a whole `.route` file in the canonical style.
pub fn format(source: &str) -> Result<String, FormatError> {
    let mut diagnostics = Diagnostics::new();
    let policy = syntax::parse(FileId(0), source, &mut diagnostics);
    if diagnostics.has_errors() || policy.items.iter().any(|i| matches!(i.kind, ast::ItemKind::Error)) {
        return Err(FormatError::Syntax(diagnostics));
    }
    let mut formatter = Fmt { src: source, p: Printer::new(source, syntax::comments(source)) };
    formatter.policy(&policy);
    let formatted = align::trailing_comments(&formatter.p.finish());

    // Never hand back text that means something else.
    let mut reparse_diagnostics = Diagnostics::new();
    let reparsed = syntax::parse(FileId(0), &formatted, &mut reparse_diagnostics);
    let same = !reparse_diagnostics.has_errors()
        && without_spans(&format!("{reparsed:?}")) == without_spans(&format!("{policy:?}"))
        && comment_texts(&formatted) == comment_texts(source);
    if !same {
        return Err(FormatError::Unstable);
    }
    Ok(formatted)
}

/// The state of one formatting run; the layout modules add methods to it.
struct Fmt<'s> {
    src: &'s str,
    p: Printer<'s>,
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
        match after.find(" }") {
            Some(close) => rest = &after[close + 2..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
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
    fn syntax_errors_are_refused() {
        assert!(matches!(format("rule when"), Err(FormatError::Syntax(_))));
    }

    #[test]
    fn empty_file_stays_empty() {
        assert_eq!(format("\n\n").ok().as_deref(), Some(""));
    }
}
