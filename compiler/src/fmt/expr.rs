//! Conditions that do not fit on their line. An expression stays on one
//! line when it fits and holds no comment; otherwise its `or`/`and` chain
//! breaks before each operator, one operand per line at the continuation
//! indent, and an operand that still does not fit breaks the same way two
//! columns deeper (parentheses and `not` are looked through):
//!
//! ```text
//! rule angry
//!   when sentiment < -0.6
//!     and customer.tier != free
//!     and (channel == chat
//!       or page starts_with "/status")
//!   -> senior_support
//! ```
//!
//! Comments force the break, so a comment written after an operand keeps
//! trailing that operand. An inline `has [...]` phrase list that does not
//! fit, or holds comments, breaks like any list of strings.

use crate::syntax::ast::{Expr, ExprKind, HasTarget};

use super::text::{self, width};
use super::{Fmt, WIDTH};

impl Fmt<'_> {
    /// Prints `e` from the current column of the open line; broken lines
    /// start at `continuation`.
    pub(super) fn expr(&mut self, e: &Expr, continuation: usize) {
        let one_line = text::expr(self.src, e);
        let end = self.p.trimmed(e.span.end as usize);
        if self.p.column() + width(&one_line) <= WIDTH && !self.breaking_comment(e) {
            self.p.token(&one_line, end);
            return;
        }
        match &e.kind {
            ExprKind::Or(operands) => self.chain("or", operands, continuation),
            ExprKind::And(operands) => self.chain("and", operands, continuation),
            ExprKind::Paren(inner) => {
                self.p.push("(");
                self.expr(inner, continuation);
                self.p.token(")", end);
            }
            ExprKind::Not(inner) => {
                self.p.push("not ");
                self.expr(inner, continuation);
            }
            // An inline phrase list breaks like any list of strings.
            ExprKind::Has { lhs, target: HasTarget::Inline(phrases, list) } => {
                self.p.push(&format!("{} has ", text::operand(self.src, lhs)));
                let indent = self.p.indent();
                self.string_list(indent, list.start as usize, phrases);
            }
            // Any other single test has nowhere to break: it stays whole.
            _ => self.p.token(&one_line, end),
        }
    }

    /// True when a comment sits between two operands of a chain in `e`, or
    /// between the phrases of an inline `has [...]` list: breaking there
    /// keeps the comment in place. A comment anywhere else inside a single
    /// test moves above the line instead, so it must not force a break, or
    /// the layout would change again once the comment has moved.
    pub(super) fn breaking_comment(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Or(operands) | ExprKind::And(operands) => {
                let between = operands.windows(2).any(|pair| match pair {
                    [a, b] => self.p.comments_in(self.p.trimmed(a.span.end as usize), b.span.start as usize),
                    _ => false,
                });
                between || operands.iter().any(|o| self.breaking_comment(o))
            }
            ExprKind::Paren(inner) | ExprKind::Not(inner) => self.breaking_comment(inner),
            // Comments between the phrases stay there: the list breaks.
            ExprKind::Has { target: HasTarget::Inline(_, list), .. } => {
                self.p.comments_in(list.start as usize, list.end as usize)
            }
            _ => false,
        }
    }

    fn chain(&mut self, operator: &str, operands: &[Expr], continuation: usize) {
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                self.p.end_line();
                self.p.suppress_blank();
                self.p.start_line(continuation, operand.span.start as usize);
                self.p.push(operator);
                self.p.push(" ");
            }
            self.expr(operand, continuation + 2);
        }
    }
}
