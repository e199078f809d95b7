//! Routing matrices: `non-exhaustive-matrix` (value combinations no row
//! covers, listed the way rustc lists missing match arms), `unreachable-row`
//! (rows whose tickets earlier rows or rules all take) and `overlapping-rows`
//! (rows that partly overlap and send the shared tickets to different places).
//!
//! Gaps are judged by what happens to the tickets: a combination only counts
//! as missing when tickets with it reach the end of the policy without a
//! destination, so combinations that earlier rules catch, or that a later
//! `otherwise` takes, are fine. A row with `rollout` covers only the tickets
//! inside its rollout.
//!
//! Overlaps are only reported when neither row contains the other: a narrow
//! row above a broad one (`billing, enterprise` before `billing, _`) is the
//! usual way to write an exception, and a broad row above a narrow one makes
//! the narrow one unreachable, which is reported as that. A row with a
//! `rollout` overlapping later rows is a pilot and is not reported either.

use super::flow::{self, At, Flow, Gap, Some3, Status};
use super::mdd::{Node, TRUE};
use super::shadowing::MAX_CULPRITS;
use super::space::{Domain, Key, Read};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::hir::{Matrix, Operand, Policy, Signal};
use crate::source::Span;

/// Missing combinations listed in a message before "and N more".
const SHOWN_PATTERNS: usize = 4;
/// Combinations computed at most (the count beyond is not needed exactly).
const MAX_PATTERNS: usize = 64;

pub(crate) fn check(policy: &Policy, flow: &mut Flow, diagnostics: &mut Diagnostics) {
    for (m, matrix) in policy.matrices.iter().enumerate() {
        rows(policy, flow, m, matrix, diagnostics);
        overlaps(policy, flow, m, matrix, diagnostics);
    }
    // Tickets left at the end passed every matrix; the last one is where to add rows.
    if let Some(m) = policy.matrices.len().checked_sub(1) {
        gaps(policy, flow, m, diagnostics);
    }
}

fn header_span(matrix: &Matrix) -> Span {
    let first = matrix.dimensions.first().map(|d| d.1).unwrap_or(matrix.span);
    matrix.dimensions.last().map(|d| first.to(d.1)).unwrap_or(first)
}

fn rows(policy: &Policy, flow: &mut Flow, m: usize, matrix: &Matrix, diagnostics: &mut Diagnostics) {
    for (r, row) in matrix.rows.iter().enumerate() {
        let Some(i) = flow.position(At::Row(m, r)) else { continue };
        let what = format!("matrix row {}", r + 1);
        match flow.branches[i].status {
            Status::Shadowed => {
                let culprits = flow.branches[i].culprits.clone();
                let message = match culprits.as_slice() {
                    [one] => {
                        format!("{what} is never used: {} catches all its tickets first", flow::describe(policy, *one))
                    }
                    _ => format!("{what} is never used: earlier rows and rules catch all its tickets"),
                };
                let mut d =
                    Diagnostic::warning(Code::UnreachableRow, message).primary(flow::row_span(row), "never used");
                for at in culprits.iter().take(MAX_CULPRITS) {
                    d = d.secondary(flow::name_span(policy, *at), "catches its tickets first");
                }
                diagnostics.push(d.help("remove the row, or move it above the rows that catch its tickets"));
            }
            Status::Never => diagnostics.push(
                Diagnostic::warning(Code::UnreachableRow, format!("{what} can never match"))
                    .primary(flow::row_span(row), "no ticket has these values")
                    .help("no ticket with these values gets the priority this row tests; remove the row"),
            ),
            Status::Unknown => diagnostics.push(
                Diagnostic::warning(Code::MaybeUnreachableRule, format!("{what} may never be used"))
                    .primary(flow::row_span(row), "may be shadowed by earlier rules")
                    .help("the analysis cannot compare two values exactly; check the rules before the matrix"),
            ),
            Status::Reachable | Status::GaveUp => {}
        }
    }
}

fn overlaps(policy: &Policy, flow: &mut Flow, m: usize, matrix: &Matrix, diagnostics: &mut Diagnostics) {
    let Some(base) = flow.position(At::Row(m, 0)) else { return };
    for (j, later) in matrix.rows.iter().enumerate() {
        if flow.branches[base + j].status != Status::Reachable {
            continue;
        }
        for (i, earlier) in matrix.rows.iter().enumerate().take(j) {
            if earlier.outcome.destination == later.outcome.destination || earlier.outcome.rollout.is_some() {
                continue;
            }
            let Some(shared) = intersect_cells(&earlier.cells, &later.cells) else { continue };
            if contains_cells(&later.cells, &earlier.cells) {
                continue;
            }
            // Tickets row i decides that row j matches too.
            let cond = flow.branches[base + j].own;
            if flow.decides(policy, base + i, cond) == Some3::No {
                continue;
            }
            let pattern = show_cells(policy, matrix, &shared);
            let earlier_dest = &policy.destination(earlier.outcome.destination).name;
            let later_dest = &policy.destination(later.outcome.destination).name;
            diagnostics.push(
                Diagnostic::warning(
                    Code::OverlappingRows,
                    format!("matrix rows {} and {} overlap on `{pattern}` and route it differently", i + 1, j + 1),
                )
                .primary(
                    flow::row_span(later),
                    format!("`{pattern}` matches here too, but goes to `{earlier_dest}`, not `{later_dest}`"),
                )
                .secondary(flow::row_span(earlier), format!("`{pattern}` is decided here first"))
                .help(format!("split the rows so `{pattern}` appears once, or move the row that should win first")),
            );
            // One overlap per row is enough to point at the problem.
            break;
        }
    }
}

fn intersect_cells(a: &[Option<Vec<u32>>], b: &[Option<Vec<u32>>]) -> Option<Vec<Option<Vec<u32>>>> {
    a.iter()
        .zip(b)
        .map(|(x, y)| match (x, y) {
            (None, None) => Some(None),
            (Some(v), None) | (None, Some(v)) => Some(Some(v.clone())),
            (Some(v), Some(w)) => {
                let both: Vec<u32> = v.iter().copied().filter(|x| w.contains(x)).collect();
                (!both.is_empty()).then_some(Some(both))
            }
        })
        .collect()
}

/// Whether every combination of `inner` is one of `outer`.
fn contains_cells(outer: &[Option<Vec<u32>>], inner: &[Option<Vec<u32>>]) -> bool {
    outer.iter().zip(inner).all(|(o, i)| match (o, i) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(o), Some(i)) => i.iter().all(|x| o.contains(x)),
    })
}

fn show_cells(policy: &Policy, matrix: &Matrix, cells: &[Option<Vec<u32>>]) -> String {
    let shown: Vec<String> = cells
        .iter()
        .zip(&matrix.dimensions)
        .map(|(cell, (dim, _))| match cell {
            None => "_".to_string(),
            Some(values) => values.iter().map(|v| value_name(policy, dim, *v)).collect::<Vec<_>>().join(" | "),
        })
        .collect();
    format!("({})", shown.join(", "))
}

fn value_name(policy: &Policy, dim: &Operand, value: u32) -> String {
    match policy.operand_ty(dim) {
        Some(crate::hir::Ty::Enum(e)) => {
            policy.enum_def(e).values.get(value as usize).map(|v| v.name.clone()).unwrap_or_default()
        }
        _ => (if value == 1 { "true" } else { "false" }).into(),
    }
}

/// The variable of a matrix dimension.
fn dim_var(flow: &Flow, dim: &Operand) -> Option<u32> {
    match dim {
        Operand::Signal(Signal::Priority) => flow.space.var(&Key::Priority),
        Operand::Field(f) => flow.space.var(&Key::Value(Read::Field(*f))),
        Operand::Signal(s) => flow.space.var(&Key::Value(Read::Signal(*s))),
        Operand::Const(_) => None,
    }
}

fn gaps(policy: &Policy, flow: &mut Flow, m: usize, diagnostics: &mut Diagnostics) {
    let matrix = &policy.matrices[m];
    let exact = match &flow.gap {
        Gap::Exact(_) => true,
        Gap::Maybe(_) => false,
        Gap::None | Gap::Unknown => return,
    };
    let vars: Vec<Option<u32>> = matrix.dimensions.iter().map(|(d, _)| dim_var(flow, d)).collect();
    let Some(patterns) = missing_patterns(policy, flow, &vars) else { return };
    let names: Vec<String> = patterns.iter().map(|p| show_pattern(policy, flow, matrix, &vars, p)).collect();
    let mut listed = names.iter().take(SHOWN_PATTERNS).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN_PATTERNS {
        let more = if names.len() >= MAX_PATTERNS {
            "more".to_string()
        } else {
            format!("{} more", names.len() - SHOWN_PATTERNS)
        };
        listed.push_str(&format!(" and {more}"));
    }
    let dims = matrix.dimensions.iter().map(|(d, _)| dim_name(policy, d)).collect::<Vec<_>>().join(", ");
    let (mut d, label) = if exact {
        (
            Diagnostic::error(Code::NonExhaustiveMatrix, format!("matrix `{dims}` does not cover {listed}")),
            "tickets with these values get no destination",
        )
    } else {
        (
            Diagnostic::warning(Code::NonExhaustiveMatrix, format!("matrix `{dims}` may not cover {listed}")),
            "tickets with these values may get no destination",
        )
    };
    d = d.primary(header_span(matrix), label);
    // Rows that would cover part of the gap but for their rollout.
    let pattern_nodes: Vec<Node> = patterns.iter().filter_map(|p| pattern_node(flow, &vars, p)).collect();
    for row in &matrix.rows {
        let Some(pct) = row.outcome.rollout else { continue };
        let Ok(cells) = flow.space.row(matrix, row) else { continue };
        if pattern_nodes.iter().any(|p| flow.space.mdd.intersects(cells, *p)) {
            d = d.secondary(flow::row_span(row), format!("covers only the {pct}% of tickets inside its rollout"));
        }
    }
    if let Some(o) = policy.otherwise.as_ref().filter(|o| o.rollout.is_some()) {
        d = d.secondary(o.span, "`otherwise` with a rollout catches only part of the rest");
    }
    let example_row =
        names.first().map(|n| n.trim_start_matches('(').trim_end_matches(')').to_string()).unwrap_or_default();
    d = d.help(format!(
        "add rows for them (e.g. `{example_row} -> DESTINATION`), or `otherwise -> DESTINATION` after the matrix"
    ));
    diagnostics.push(d);
}

/// One missing combination: per dimension, the values (empty = `_`).
type Pattern = Vec<Vec<u32>>;

/// The combinations of dimension values for which some ticket gets no
/// destination. Found one at a time: take a ticket the policy loses, widen
/// each of its dimension values to `_` when every value of that dimension
/// loses tickets too, exclude the pattern, repeat; then join patterns that
/// differ in one dimension (`a | b`).
fn missing_patterns(policy: &Policy, flow: &mut Flow, vars: &[Option<u32>]) -> Option<Vec<Pattern>> {
    let mut found: Vec<Pattern> = Vec::new();
    let mut excluded: Vec<Node> = Vec::new();
    while found.len() < MAX_PATTERNS {
        let example = match flow.gap_of(policy, TRUE, &excluded) {
            Gap::Exact(e) | Gap::Maybe(e) => e,
            Gap::None => break,
            Gap::Unknown => return (!found.is_empty()).then_some(found),
        };
        let mut pattern: Pattern =
            vars.iter().map(|v| v.map(|var| vec![example_value(&example, var)]).unwrap_or_default()).collect();
        for k in 0..vars.len() {
            let Some(var) = vars[k] else { continue };
            let size = flow.space.mdd.size(var);
            let mut every = true;
            for value in 0..size {
                let mut wider = pattern.clone();
                wider[k] = vec![value];
                let node = pattern_node(flow, vars, &wider)?;
                if matches!(flow.gap_of(policy, node, &[]), Gap::None | Gap::Unknown) {
                    every = false;
                    break;
                }
            }
            if every {
                pattern[k] = Vec::new();
            }
        }
        let node = pattern_node(flow, vars, &pattern)?;
        excluded.push(node);
        found.push(pattern);
    }
    // Join patterns equal but in one dimension, then list them in value order.
    let mut joined = true;
    while joined {
        joined = false;
        'outer: for i in 0..found.len() {
            for j in i + 1..found.len() {
                let differing: Vec<usize> = (0..vars.len()).filter(|k| found[i][*k] != found[j][*k]).collect();
                if let [k] = differing[..] {
                    if found[i][k].is_empty() || found[j][k].is_empty() {
                        continue;
                    }
                    let mut values = found[i][k].clone();
                    values.extend(found[j][k].iter().copied());
                    values.sort_unstable();
                    values.dedup();
                    let all = vars[k].map(|v| flow.space.mdd.size(v) as usize) == Some(values.len());
                    found[i][k] = if all { Vec::new() } else { values };
                    found.remove(j);
                    joined = true;
                    break 'outer;
                }
            }
        }
    }
    found.sort_by_key(|p| p.iter().map(|values| values.first().copied().unwrap_or(u32::MAX)).collect::<Vec<_>>());
    Some(found)
}

/// The value the example ticket has for `var`.
fn example_value(example: &super::example::Example, var: u32) -> u32 {
    example.values.get(var as usize).copied().unwrap_or(0)
}

/// The tickets matching a pattern.
fn pattern_node(flow: &mut Flow, vars: &[Option<u32>], pattern: &Pattern) -> Option<Node> {
    let mut acc = TRUE;
    for (var, values) in vars.iter().zip(pattern) {
        let (Some(var), false) = (var, values.is_empty()) else { continue };
        let leaf = flow.space.mdd.leaf(*var, |v| values.contains(&v)).ok()?;
        acc = flow.space.mdd.and(acc, leaf).ok()?;
    }
    Some(acc)
}

fn show_pattern(policy: &Policy, flow: &Flow, matrix: &Matrix, vars: &[Option<u32>], pattern: &Pattern) -> String {
    let cells: Vec<String> = pattern
        .iter()
        .zip(vars)
        .zip(&matrix.dimensions)
        .map(|((values, var), (dim, _))| {
            let Some(var) = var else { return "_".to_string() };
            if values.is_empty() {
                return "_".to_string();
            }
            values
                .iter()
                .map(|v| match &flow.space.vars[*var as usize].domain {
                    Domain::Enum { names, .. } => {
                        names.get(*v as usize).cloned().unwrap_or_else(|| format!("no {}", dim_name(policy, dim)))
                    }
                    _ => v.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect();
    format!("({})", cells.join(", "))
}

fn dim_name(policy: &Policy, dim: &Operand) -> String {
    match dim {
        Operand::Signal(Signal::Priority) => "priority".into(),
        Operand::Field(f) => policy.field(*f).path.clone(),
        Operand::Signal(s) => super::example::read_name(policy, Read::Signal(*s)),
        Operand::Const(c) => c.to_string(),
    }
}
