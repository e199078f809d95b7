//! `unreachable-rule` and `maybe-unreachable-rule`: escalations and rules
//! that can never decide a ticket, either because their condition never
//! holds or because earlier escalations and rules decide every ticket they
//! match. Matrix rows are `exhaustive`'s business.
//!
//! Exact over the model in `space`: "never matches" is a proof. "May never
//! match" is said only when every ticket the rule could decide needs a
//! comparison between two values (`waiting > budget`) that no concrete
//! numbers were found for.

use super::flow::{self, At, Flow, Status};
use super::mdd::{Node, FALSE};

use super::space::Key;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::hir::{ExprKind, Policy, Rule};
use crate::source::Span;

/// Secondary labels shown for the branches that catch a shadowed one.
pub(crate) const MAX_CULPRITS: usize = 4;

pub(crate) fn check(policy: &Policy, flow: &mut Flow, diagnostics: &mut Diagnostics) {
    for i in 0..flow.branches.len() {
        let (at, status) = (flow.branches[i].at, flow.branches[i].status);
        let rule = match at {
            At::Escalation(k) => &policy.escalations[k],
            At::Rule(k) => &policy.rules[k],
            At::Row(..) | At::Otherwise => continue,
        };
        let what = flow::describe(policy, at);
        match status {
            Status::Never => diagnostics.push(never(flow, rule, &what)),
            Status::Shadowed => {
                let culprits = flow.branches[i].culprits.clone();
                diagnostics.push(shadowed(policy, rule.name_span, &what, &culprits, &rule.name));
            }
            Status::Unknown => {
                let reads = opaque_reads(policy, flow, flow.branches[i].own);
                diagnostics.push(
                    Diagnostic::warning(Code::MaybeUnreachableRule, format!("{what} may never match"))
                        .primary(rule.name_span, "may be shadowed by earlier rules")
                        .secondary(rule.when.span, format!("whether any ticket gets here depends on {reads}"))
                        .help("the analysis cannot compare two values exactly; check the order of the rules, or add `@allow(maybe-unreachable-rule)` if it is fine"),
                );
            }
            Status::Reachable | Status::GaveUp => {}
        }
    }
}

/// The diagnostic for a branch all of whose tickets earlier branches take.
pub(crate) fn shadowed(policy: &Policy, span: Span, what: &str, culprits: &[At], name: &str) -> Diagnostic {
    let message = match culprits {
        [one] => format!("{what} can never match: {} catches all its tickets first", flow::describe(policy, *one)),
        _ if culprits.iter().all(|c| matches!(c, At::Escalation(_))) => {
            format!("{what} can never match: earlier escalations catch all its tickets")
        }
        _ => format!("{what} can never match: earlier rules catch all its tickets"),
    };
    let mut d = Diagnostic::warning(Code::UnreachableRule, message).primary(span, "never matches");
    for at in culprits.iter().take(MAX_CULPRITS) {
        d = d.secondary(flow::name_span(policy, *at), "catches its tickets first");
    }
    let first = culprits.first().map(|at| flow::describe(policy, *at)).unwrap_or_else(|| "the earlier rules".into());
    let more = if culprits.len() > MAX_CULPRITS {
        format!(" (and {} more)", culprits.len() - MAX_CULPRITS)
    } else {
        String::new()
    };
    d.help(format!("move `{name}` above {first}{more} if it should win, or narrow or remove it"))
}

fn never(flow: &mut Flow, rule: &Rule, what: &str) -> Diagnostic {
    let own = flow.space.cond(&rule.when).unwrap_or(FALSE);
    if own != FALSE {
        // Satisfiable alone, impossible with the priority the priority rules give.
        return Diagnostic::warning(Code::UnreachableRule, format!("{what} can never match"))
            .primary(rule.name_span, "never matches")
            .secondary(rule.when.span, "no ticket that meets this condition gets the priority it tests")
            .help("priorities come from the `priority` block; test the conditions that set the priority instead");
    }
    let mut d =
        Diagnostic::warning(Code::UnreachableRule, format!("{what} can never match: its condition is never true"))
            .primary(rule.name_span, "never matches");
    let parts = conflicting_parts(flow, &rule.when);
    if parts.len() >= 2 {
        for (k, span) in parts.iter().enumerate() {
            d = d.secondary(*span, if k == 0 { "this" } else { "contradicts the part before" });
        }
    } else {
        d = d.secondary(rule.when.span, "never true");
    }
    d.help(format!("fix the condition of `{}`, or remove it", rule.name))
}

/// For `a and b and c`, a smallest-we-can-find set of parts that cannot hold together.
pub(crate) fn conflicting_parts(flow: &mut Flow, when: &crate::hir::Expr) -> Vec<Span> {
    let ExprKind::And(parts) = &when.kind else { return Vec::new() };
    let nodes: Vec<Node> = parts.iter().map(|p| flow.space.cond(p).unwrap_or(FALSE)).collect();
    let mut keep: Vec<bool> = vec![true; parts.len()];
    // Drop every part the contradiction does not need.
    for k in 0..parts.len() {
        keep[k] = false;
        let mut acc = super::mdd::TRUE;
        for (n, _) in nodes.iter().zip(&keep).filter(|(_, kept)| **kept) {
            acc = flow.space.mdd.and(acc, *n).unwrap_or(super::mdd::TRUE);
        }
        if acc != FALSE {
            keep[k] = true;
        }
    }
    parts.iter().zip(&keep).filter(|(_, k)| **k).map(|(p, _)| p.span).collect()
}

/// "`waiting > budget`" for the opaque comparisons a set depends on.
pub(crate) fn opaque_reads(policy: &Policy, flow: &Flow, set: Node) -> String {
    let mut found = Vec::new();
    let support = flow.space.mdd.support(set);
    for (v, var) in flow.space.vars.iter().enumerate() {
        if let Key::Opaque(a, op, b) = &var.key {
            if support[v] {
                let name = |r| super::example::read_name(policy, r);
                found.push(format!("`{} {} {}`", name(*a), op.symbol(), name(*b)));
            }
        }
    }
    if found.is_empty() {
        "comparisons between two values".into()
    } else {
        found.join(" and ")
    }
}
