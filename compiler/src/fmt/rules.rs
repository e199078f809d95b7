//! Decisions: `priority` blocks, `escalate` and `rule` lines, `otherwise`,
//! the routing `matrix` (with its columns aligned) and the outcome clauses
//! they share.

use crate::syntax::ast::*;

use super::text::{self, width};
use super::{scan, Fmt, INDENT, WIDTH};

/// Continuation lines of a broken condition sit deeper than the line they
/// continue, so `and`/`or` never line up with `when`, `->` or an action.
const CONTINUATION: usize = INDENT;

impl Fmt<'_> {
    pub(super) fn priority(&mut self, decl: &PriorityDecl, start: usize, end: usize) {
        self.p.push("priority");
        let open = self.open_brace(start);
        let close = self.close_brace(end);
        let empty = decl.rules.is_empty() && decl.default.is_none();
        self.block(0, open, close, empty, |f| {
            for rule in &decl.rules {
                let rule_start = f.allow_line(&rule.allows, rule.span.start as usize, INDENT);
                f.p.start_line(INDENT, rule_start);
                f.p.push(&format!("{} when ", rule.level.name));
                f.expr(&rule.when, INDENT + 2 * CONTINUATION);
                f.p.end_line();
            }
            if let Some(level) = &decl.default {
                f.p.start_line(INDENT, level.span.start as usize);
                f.p.token(&format!("default {}", level.name), level.span.end as usize);
                f.p.end_line();
            }
        });
    }

    /// `rule`/`escalate` on one line when it fits. Otherwise the name, the
    /// `when` line and the `->` line each get their own line, and a
    /// condition that still does not fit breaks (see `expr`):
    ///
    /// ```text
    /// escalate security_incident
    ///   when category == security or text has security
    ///   -> security_ops priority P0
    ///   notify slack "#sec-incidents"
    /// ```
    pub(super) fn rule(&mut self, keyword: &str, decl: &RuleDecl) {
        let head = format!("{keyword} {}", decl.name.name);
        let condition = text::expr(self.src, &decl.when);
        let destination = &decl.outcome.destination;
        let when_end = self.p.trimmed(decl.when.span.end as usize);
        let line_width = self.p.column() + width(&head) + width(" when ") + width(&condition) + width(" -> ");
        let fits = line_width + width(&destination.name) <= WIDTH;
        // Comments inside a single test move above the line either way, so
        // only comments the broken layout keeps in place force it.
        let keeps_comment =
            self.breaking_comment(&decl.when) || self.p.comments_in(when_end, destination.span.start as usize);
        if fits && !keeps_comment {
            self.p.push(&format!("{head} when "));
            self.p.token(&condition, when_end);
            self.p.push(" ");
            self.outcome(&decl.outcome, INDENT);
            return;
        }
        self.p.token(&head, decl.name.span.end as usize);
        self.p.end_line();
        self.p.suppress_blank();
        self.p.start_line(INDENT, decl.when.span.start as usize);
        self.p.push("when ");
        self.expr(&decl.when, INDENT + CONTINUATION);
        self.p.end_line();
        self.p.suppress_blank();
        let arrow = scan::find(self.src, when_end, b'-').unwrap_or(destination.span.start as usize);
        self.p.start_line(INDENT, arrow);
        self.outcome(&decl.outcome, INDENT);
    }

    /// `-> destination` and its clauses, from the open line. `priority`,
    /// `shadow` and `rollout` stay on the destination's line; from the
    /// first action or handoff on (or the first clause after a comment, or
    /// the first that would overflow the line) every clause gets its own
    /// line at `clause_indent`. Clauses keep their order.
    pub(super) fn outcome(&mut self, outcome: &Outcome, clause_indent: usize) {
        let destination = &outcome.destination;
        self.p.push("-> ");
        self.p.token(&destination.name, destination.span.end as usize);
        let mut own_lines = false;
        let mut previous_end = destination.span.end as usize;
        for clause in &outcome.clauses {
            let (start, end) = text::clause_bounds(clause);
            let line = text::clause(self.src, clause);
            own_lines = own_lines
                || text::clause_has_own_line(clause)
                || self.p.comments_in(previous_end, start)
                || self.p.column() + 1 + width(&line) > WIDTH;
            if own_lines {
                self.p.end_line();
                self.p.suppress_blank();
                self.p.start_line(clause_indent, start);
            } else {
                self.p.push(" ");
            }
            self.p.token(&line, end);
            previous_end = self.p.trimmed(end);
        }
    }

    /// Rows are aligned as a table: each cell is padded to its column's
    /// widest cell, so the `->` of every row lines up.
    pub(super) fn matrix(&mut self, decl: &MatrixDecl, start: usize, end: usize) {
        self.p.push(&format!("matrix {}", text::paths(&decl.dimensions)));
        let after_header = decl.dimensions.last().map_or(start, |d| d.span.end as usize);
        let open = self.open_brace(after_header);
        let close = self.close_brace(end);
        let cells: Vec<Vec<String>> = decl.rows.iter().map(|r| r.cells.iter().map(text::cell).collect()).collect();
        let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
        let column_widths: Vec<usize> = (0..columns)
            .map(|c| cells.iter().filter_map(|row| row.get(c)).map(|s| width(s)).max().unwrap_or(0))
            .collect();
        let lefts: Vec<String> = cells.iter().map(|row| aligned_cells(row, &column_widths)).collect();
        let left_width = lefts.iter().map(|s| width(s)).max().unwrap_or(0);
        self.block(0, open, close, decl.rows.is_empty(), |f| {
            for (row, left) in decl.rows.iter().zip(&lefts) {
                let row_start = f.allow_line(&row.allows, row.span.start as usize, INDENT);
                let cells_end = row.cells.last().map_or(row_start, |c| c.span().end as usize);
                f.p.start_line(INDENT, row_start);
                let padding = left_width.saturating_sub(width(left));
                f.p.token(&format!("{left}{} ", " ".repeat(padding)), cells_end);
                f.outcome(&row.outcome, INDENT + INDENT);
                f.p.end_line();
            }
        });
    }
}

/// `technical,  enterprise`: every cell but the last is followed by its
/// comma and padded to its column's width.
fn aligned_cells(row: &[String], column_widths: &[usize]) -> String {
    let mut out = String::new();
    for (i, cell) in row.iter().enumerate() {
        if i + 1 < row.len() {
            let column = column_widths.get(i).copied().unwrap_or(0);
            out.push_str(&format!("{:<w$} ", format!("{cell},"), w = column + 1));
        } else {
            out.push_str(cell);
        }
    }
    out
}
