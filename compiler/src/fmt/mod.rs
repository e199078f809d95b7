//! The canonical formatter behind `routec fmt`: AST + comments → text.
//!
//! It owns the one layout of a `.route` file; it must not know about names,
//! types or meaning. It never formats a file with syntax errors, and it
//! checks its own output (see `verify`): the result parses back to the same
//! AST, spans aside, with the same comments and words, or `format` returns
//! an error instead of text.
//!
//! # The canonical style
//!
//! - Two spaces of indentation; no tabs, no trailing spaces; the file ends
//!   with exactly one newline. Lines aim at 100 columns (a single test or
//!   string longer than that stays whole).
//! - **Blank lines between items.** Items of different groups are separated
//!   by one blank line, and so is a `{ }` block printed over several lines
//!   from its neighbours. Consecutive items of the same group keep the
//!   user's grouping: adjacent if they were adjacent, one blank line if
//!   there was at least one, so rules gathered under one comment stay
//!   together. The groups are the item keywords, except that `policy` and
//!   `mode` form one group, `team`/`queue`/`role`/`ai` another and
//!   `keywords`/`regex` a third.
//! - **Blocks** (`ticket`, `schedule`, `classifier`, `priority`, `sla`,
//!   `matrix`, `test`, record fields) open with ` {` on the header line and
//!   hold one entry per line (so one SLA target per line); `}` has its own
//!   line. A blank line the user left between two entries is kept (at most
//!   one); none after `{` or before `}`. An empty block is `{}`.
//! - **Settings** stay on the header line when they fit and hold no
//!   comment: a destination body with one or two settings, two spaces apart
//!   because they have no separator (`team b { hours h  capacity 40 }`),
//!   and a test's `ticket`/`signals`/`load` values, comma separated
//!   (`ticket { subject: "x", vip: true }`). Otherwise they are a block,
//!   one per line; values keep a comma after each.
//! - **Expressions:** single spaces around operators, lower-case keywords,
//!   the user's parentheses and no others.
//! - **Rules** (`rule`, `escalate`) are one line when they fit. Otherwise
//!   `when <condition>` and `-> destination` each get their own line,
//!   indented, and a condition that still does not fit breaks before each
//!   `and`/`or`, indented two more (see `expr`). A priority rule breaks its
//!   condition the same way.
//! - **Outcomes:** `-> destination` is followed on its line by `priority`,
//!   `shadow` and `rollout`. Each action (`notify`, `create_issue`, `tag`,
//!   `set`) and `handoff` goes on its own line, indented under the rule,
//!   and so does every clause after it; clause order is never changed.
//! - **Matrix rows** are a table: each cell is padded to the widest cell of
//!   its column so every `->` lines up.
//! - **Lists of strings** stay on one line when they fit and hold no
//!   comment. Otherwise `[` ends the line, the strings follow indented,
//!   each with a comma, and `]` has its own line; strings the user wrote on
//!   one line stay on one line (wrapped at the width), so a keyword set
//!   grouped by language stays grouped.
//! - `@allow(...)` goes on its own line before its item, row or priority
//!   rule; several merge into one.
//! - Strings are re-escaped (`\"`, `\\`, `\n`, `\t`); numbers, durations
//!   and clock times are printed as written; `tz` is spelled `timezone`;
//!   test expectations are written `expect d priority p escalated shadow
//!   fallback`.
//! - **Comments** all stay. A comment on its own line stays before the
//!   construct that follows it, at that construct's indentation. A comment
//!   at the end of a line stays at the end of that line, two spaces after
//!   the code, and trailing comments on consecutive lines are aligned in
//!   one column. A comment inside code that is now printed on one line
//!   moves above that line.

mod align;
mod expr;
mod items;
mod layout;
mod printer;
mod rules;
mod scan;
mod test_block;
mod text;
mod verify;

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
    /// The policy gives twice a clause that counts only once (two `ticket`
    /// blocks or `expect` lines in one test, `severity` twice in one
    /// `create_issue`). The parser keeps the last, so formatting would
    /// delete the others; nothing was formatted.
    Repeated,
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
            FormatError::Repeated => {
                f.write_str("the file repeats a clause that counts only once; formatting would delete the others")
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
    // The tree keeps only the first of a repeated test entry; printing it would delete the rest.
    if policy.items.iter().any(|i| matches!(&i.kind, ast::ItemKind::Test(t) if !t.repeated.is_empty())) {
        return Err(FormatError::Repeated);
    }
    let mut formatter = Fmt { src: source, p: Printer::new(source, syntax::comments(source)) };
    formatter.policy(&policy);
    let formatted = align::trailing_comments(&formatter.p.finish());

    // Never hand back text that means something else or lost some text.
    match verify::check(source, &policy, &formatted) {
        Ok(()) => Ok(formatted),
        Err(verify::Problem::Changed) => Err(FormatError::Unstable),
        Err(verify::Problem::DropsText) => Err(FormatError::Repeated),
    }
}

/// The state of one formatting run; the layout modules add methods to it.
struct Fmt<'s> {
    src: &'s str,
    p: Printer<'s>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_clauses_are_refused_rather_than_deleted() {
        let source = "test \"t\" { ticket { a: 1 } ticket { b: 2 } expect x }\n";
        assert!(matches!(format(source), Err(FormatError::Repeated)));
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
