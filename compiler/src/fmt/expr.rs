//! Conditions that do not fit on their line. An expression stays on one
//! line when it fits and holds no comment; otherwise its `or`/`and` chain
//! breaks before each operator, one operand per line at the continuation
//! indent, and an operand that still does not fit breaks the same way two
//! columns deeper (parentheses and `not` are looked through):
//!
//! ```text
//! rule angry when sentiment < -0.6
//!     and customer.tier != free
//!     and (channel == chat
//!       or page starts_with "/status")
//!   -> senior_support
//! ```
//!
//! Comments force the break, so a comment written after an operand keeps
//! trailing that operand.

use crate::syntax::ast::{Expr, ExprKind};

use super::text::{self, width};
use super::{Fmt, WIDTH};

impl Fmt<'_> {
    /// Prints `e` from the current column of the open line; broken lines
    /// start at `continuation`.
    pub(super) fn expr(&mut self, e: &Expr, continuation: usize) {
        let one_line = text::expr(self.src, e);
        let (start, end) = (e.span.start as usize, self.p.trimmed(e.span.end as usize));
        if self.p.column() + width(&one_line) <= WIDTH && !self.p.comments_in(start, end) {
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
            // A single test has nowhere to break: it stays whole, even long.
            _ => self.p.token(&one_line, end),
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
