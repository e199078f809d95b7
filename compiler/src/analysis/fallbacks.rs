//! `fallback-cycle`: `when closed` / `when full` fallbacks that lead back
//! to where they started, so the runtime could pass a ticket around forever.
//! Every fallback target is a resolved destination, so a chain without a
//! cycle always ends in one; whether that one is open is `coverage`'s job.
//! (A destination falling back to itself is rejected earlier, by `semantic`.)

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::hir::{DestId, Policy};
use crate::syntax::ast::FallbackReason;

pub(crate) fn check(policy: &Policy, diagnostics: &mut Diagnostics) {
    let n = policy.destinations.len();
    // 0 = not seen, 1 = on the current path, 2 = done.
    let mut state = vec![0u8; n];
    let mut reported: Vec<Vec<usize>> = Vec::new();
    for start in 0..n {
        if state[start] == 0 {
            let mut path = Vec::new();
            visit(policy, start, &mut state, &mut path, &mut reported, diagnostics);
        }
    }
}

/// Depth-first search; a fallback to a destination on the current path closes a cycle.
fn visit(
    policy: &Policy,
    at: usize,
    state: &mut [u8],
    path: &mut Vec<(usize, usize)>,
    reported: &mut Vec<Vec<usize>>,
    diagnostics: &mut Diagnostics,
) {
    state[at] = 1;
    let dest = &policy.destinations[at];
    for (k, fallback) in dest.fallbacks.iter().enumerate() {
        let target = fallback.target.index();
        path.push((at, k));
        match state[target] {
            0 => visit(policy, target, state, path, reported, diagnostics),
            1 => {
                let from = path.iter().position(|(d, _)| *d == target).unwrap_or(0);
                let cycle: Vec<(usize, usize)> = path[from..].to_vec();
                let mut members: Vec<usize> = cycle.iter().map(|(d, _)| *d).collect();
                members.sort_unstable();
                if !reported.contains(&members) {
                    reported.push(members);
                    diagnostics.push(cycle_diagnostic(policy, &cycle));
                }
            }
            _ => {}
        }
        path.pop();
    }
    state[at] = 2;
}

fn cycle_diagnostic(policy: &Policy, cycle: &[(usize, usize)]) -> Diagnostic {
    let name = |d: usize| policy.destination(DestId(d as u32)).name.clone();
    let mut chain: Vec<String> = cycle.iter().map(|(d, _)| format!("`{}`", name(*d))).collect();
    chain.push(format!("`{}`", name(cycle[0].0)));
    let mut d = Diagnostic::error(Code::FallbackCycle, format!("fallbacks loop: {}", chain.join(" → ")));
    for (i, (from, k)) in cycle.iter().enumerate() {
        let fallback = &policy.destinations[*from].fallbacks[*k];
        let reason = match fallback.reason {
            FallbackReason::Closed => "closed",
            FallbackReason::Full => "full",
        };
        let text = format!("`{}` falls back to `{}` when {reason}", name(*from), name(fallback.target.index()));
        d = if i == 0 { d.primary(fallback.span, text) } else { d.secondary(fallback.span, text) };
    }
    d.help("end the chain in a destination without fallbacks, such as an always-open on-call team")
}
