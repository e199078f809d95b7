//! The quick fix for `route::non-exhaustive-matrix`: add a row for every
//! missing combination, laid out like the matrix's other rows, each routed
//! to a `DESTINATION` placeholder the author replaces (an unknown name is an
//! error, so nothing is silently routed somewhere wrong).
//!
//! The combinations come from the diagnostic itself, which lists them as
//! `(billing, free | pro)`. When it lists only the first few ("and 3 more"),
//! every value combination that no row without a `rollout` covers is added
//! instead, computed from the HIR; combinations that earlier rules already
//! catch may then get a row too, which the analysis reports as unreachable.
//! Combinations the analysis writes as `no intent` (an absent value) cannot
//! be rows; a second action adds `otherwise -> DESTINATION` for those.

use super::assists::{insert_after_line, Assist, AssistKind};
use super::{Snapshot, TextEdit};
use crate::diagnostic::Diagnostic;
use crate::hir::{self, Ty};
use crate::source::Span;
use crate::syntax::ast::{self, ItemKind};

/// Combinations enumerated at most when the diagnostic's list is cut short.
const MAX_COMBINATIONS: usize = 512;
/// Placeholder destination of an added row.
const PLACEHOLDER: &str = "DESTINATION";

pub(super) fn assists(snap: &Snapshot, d: &Diagnostic, span: Span) -> Vec<Assist> {
    let Some((matrix, item_span, hir_matrix)) = find_matrix(snap, span) else { return Vec::new() };
    let listed = listed_patterns(&d.message);
    let truncated = d.message.contains(" and ") && d.message.ends_with("more");
    let patterns: Vec<Vec<String>> = if truncated {
        hir_matrix.map(|m| uncovered(&snap.analysis.hir, m)).unwrap_or_default()
    } else {
        listed.iter().filter(|p| !p.iter().any(|cell| is_absent(cell))).cloned().collect()
    };
    let mut out = Vec::new();
    if !patterns.is_empty() {
        let n = patterns.len();
        let title = if n == 1 {
            format!("add the missing matrix row ({})", patterns[0].join(", "))
        } else {
            format!("add {n} missing matrix rows")
        };
        out.push(Assist {
            title,
            kind: AssistKind::QuickFix,
            diagnostic: None,
            preferred: false,
            edits: vec![rows_edit(snap, matrix, item_span, &patterns)],
        });
    }
    let absent = listed.iter().any(|p| p.iter().any(|cell| is_absent(cell)));
    if absent && snap.analysis.hir.otherwise.is_none() {
        let end = super::trim_end(snap.text(item_span.file), item_span);
        let edit = insert_after_line(snap, end, &format!("\notherwise -> {PLACEHOLDER}"));
        out.push(Assist {
            title: "add `otherwise` after the matrix".to_string(),
            kind: AssistKind::QuickFix,
            diagnostic: None,
            preferred: false,
            edits: vec![edit],
        });
    }
    out
}

/// The matrix whose header `span` points at, with its item span and HIR.
fn find_matrix(snap: &Snapshot, span: Span) -> Option<(&ast::MatrixDecl, Span, Option<&hir::Matrix>)> {
    let ast = snap.ast(span.file)?;
    let (matrix, item_span) = ast.items.iter().find_map(|item| match &item.kind {
        ItemKind::Matrix(m) if item.span.start <= span.start && span.end <= item.span.end => Some((m, item.span)),
        _ => None,
    })?;
    let hir_matrix =
        snap.analysis.hir.matrices.iter().find(|m| m.span.file == span.file && m.span.start == item_span.start);
    let hir_matrix = hir_matrix.or_else(|| {
        snap.analysis
            .hir
            .matrices
            .iter()
            .find(|m| m.span.file == span.file && m.span.start <= span.start && span.end <= m.span.end)
    });
    Some((matrix, item_span, hir_matrix))
}

/// How the analysis writes a missing value (`no intent`): not a cell value.
fn is_absent(cell: &str) -> bool {
    cell.starts_with("no ")
}

/// The `(a, b | c)` patterns quoted in the message, as cells.
fn listed_patterns(message: &str) -> Vec<Vec<String>> {
    let Some((_, list)) = message.split_once(" cover ") else { return Vec::new() };
    list.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|p| p.strip_prefix('(')?.strip_suffix(')').map(str::to_string))
        .map(|inner| inner.split(", ").map(|c| c.trim().to_string()).collect())
        .collect()
}

/// The values a dimension can take, as written in a cell.
fn dimension_values(policy: &hir::Policy, dim: &hir::Operand) -> Vec<String> {
    match policy.operand_ty(dim) {
        Some(Ty::Enum(e)) => policy.enum_def(e).values.iter().map(|v| v.name.clone()).collect(),
        Some(Ty::Bool) => vec!["false".to_string(), "true".to_string()],
        _ => Vec::new(),
    }
}

/// Every value combination that no row without a rollout covers, with
/// combinations that differ only in the last dimension merged into one row
/// (`a1, b2 | b3`, or `a1, _` when every value is missing).
fn uncovered(policy: &hir::Policy, matrix: &hir::Matrix) -> Vec<Vec<String>> {
    let values: Vec<Vec<String>> = matrix.dimensions.iter().map(|(d, _)| dimension_values(policy, d)).collect();
    let mut rows: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for combo in uncovered_combinations(matrix, &values) {
        let Some((last, head)) = combo.split_last() else { continue };
        match rows.last_mut() {
            Some((h, lasts)) if h.as_slice() == head => lasts.push(last.clone()),
            _ => rows.push((head.to_vec(), vec![last.clone()])),
        }
    }
    let all_last = values.last().map_or(0, Vec::len);
    rows.into_iter()
        .map(|(mut head, lasts)| {
            head.push(if lasts.len() == all_last && all_last > 1 { "_".to_string() } else { lasts.join(" | ") });
            head
        })
        .collect()
}

/// The combinations behind [`uncovered`], last dimension fastest.
fn uncovered_combinations(matrix: &hir::Matrix, values: &[Vec<String>]) -> Vec<Vec<String>> {
    if values.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    let total = values.iter().try_fold(1usize, |acc, v| acc.checked_mul(v.len()));
    if total.is_none_or(|t| t > MAX_COMBINATIONS) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut combo = vec![0usize; values.len()];
    loop {
        let covered = matrix.rows.iter().filter(|r| r.outcome.rollout.is_none()).any(|row| {
            row.cells.iter().zip(&combo).all(|(cell, v)| cell.as_ref().is_none_or(|vs| vs.contains(&(*v as u32))))
        });
        if !covered {
            out.push(combo.iter().zip(values).map(|(v, names)| names[*v].clone()).collect());
        }
        // Next combination, last dimension fastest.
        let mut k = values.len();
        loop {
            if k == 0 {
                return out;
            }
            k -= 1;
            combo[k] += 1;
            if combo[k] < values[k].len() {
                break;
            }
            combo[k] = 0;
        }
    }
}

/// One edit adding `patterns` after the last row, padded like the other rows.
fn rows_edit(snap: &Snapshot, matrix: &ast::MatrixDecl, item_span: Span, patterns: &[Vec<String>]) -> TextEdit {
    let text = snap.text(item_span.file);
    let slice = |s: Span| text.get(s.start as usize..s.end as usize).unwrap_or("").to_string();
    let columns = matrix.dimensions.len();
    let mut widths = vec![0usize; columns];
    for row in &matrix.rows {
        for (i, cell) in row.cells.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(slice(cell.span()).trim().chars().count());
        }
    }
    for p in patterns {
        for (i, cell) in p.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let indent = matrix
        .rows
        .first()
        .map(|r| {
            let start = text[..r.span.start as usize].rfind('\n').map_or(0, |n| n + 1);
            text[start..r.span.start as usize].to_string()
        })
        .unwrap_or_else(|| "  ".to_string());
    let lines: Vec<String> = patterns
        .iter()
        .map(|p| {
            let mut line = indent.clone();
            for (i, cell) in p.iter().enumerate() {
                let last = i + 1 == p.len();
                let shown = if last { cell.clone() } else { format!("{cell},") };
                let width = widths.get(i).copied().unwrap_or(0) + usize::from(!last);
                line.push_str(&format!("{shown:<width$} "));
            }
            line.push_str(&format!("-> {PLACEHOLDER}"));
            line
        })
        .collect();
    let block = lines.join("\n");
    match matrix.rows.last() {
        Some(last) => insert_after_line(snap, super::trim_end(text, last.span), &block),
        None => {
            // Before the closing brace.
            let close = (item_span.end as usize).saturating_sub(1);
            let line_start = text[..close].rfind('\n').map_or(0, |n| n + 1);
            if text[line_start..close].trim().is_empty() {
                TextEdit { span: Span::new(item_span.file, line_start, line_start), new_text: format!("{block}\n") }
            } else {
                TextEdit { span: Span::new(item_span.file, close, close), new_text: format!("\n{block}\n") }
            }
        }
    }
}
