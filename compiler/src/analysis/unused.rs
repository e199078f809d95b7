//! `unused`: named keyword sets, regexes, schedules and destinations that
//! nothing refers to. A destination counts as used when a branch routes to
//! it or a fallback names it; one only a `test` expects is still unused,
//! since no ticket can get there. Inline keyword lists and patterns are
//! never unused (they are written where they are used).

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::hir::{Expr, ExprKind, Policy};

pub(crate) fn check(policy: &Policy, diagnostics: &mut Diagnostics) {
    let mut keywords = vec![false; policy.keyword_sets.len()];
    let mut regexes = vec![false; policy.regexes.len()];
    let conditions = policy
        .priority_rules
        .iter()
        .map(|r| &r.when)
        .chain(policy.escalations.iter().chain(&policy.rules).map(|r| &r.when));
    for e in conditions {
        mark(e, &mut keywords, &mut regexes);
    }
    for (used, set) in keywords.iter().zip(&policy.keyword_sets) {
        if let (false, Some(name)) = (used, &set.name) {
            diagnostics.push(
                Diagnostic::warning(Code::Unused, format!("keyword set `{name}` is never used"))
                    .primary(set.span, "no condition tests it")
                    .help(format!("use it in a condition (`text has {name}`) or remove it")),
            );
        }
    }
    for (used, regex) in regexes.iter().zip(&policy.regexes) {
        if let (false, Some(name)) = (used, &regex.name) {
            diagnostics.push(
                Diagnostic::warning(Code::Unused, format!("regex `{name}` is never used"))
                    .primary(regex.span, "no condition matches it")
                    .help(format!("use it in a condition (`subject matches {name}`) or remove it")),
            );
        }
    }

    let mut schedules = vec![false; policy.schedules.len()];
    let mut destinations = vec![false; policy.destinations.len()];
    for dest in &policy.destinations {
        if let Some(s) = dest.schedule {
            schedules[s.index()] = true;
        }
        for f in &dest.fallbacks {
            destinations[f.target.index()] = true;
        }
    }
    let outcomes = policy
        .escalations
        .iter()
        .chain(&policy.rules)
        .map(|r| &r.outcome)
        .chain(policy.matrices.iter().flat_map(|m| m.rows.iter().map(|r| &r.outcome)))
        .chain(policy.otherwise.iter());
    for o in outcomes {
        destinations[o.destination.index()] = true;
    }
    for (used, schedule) in schedules.iter().zip(&policy.schedules) {
        if !used {
            diagnostics.push(
                Diagnostic::warning(Code::Unused, format!("schedule `{}` is never used", schedule.name))
                    .primary(schedule.span, "no destination has these hours")
                    .help(format!("give a destination `hours {}`, or remove the schedule", schedule.name)),
            );
        }
    }
    for (used, dest) in destinations.iter().zip(&policy.destinations) {
        if !used {
            diagnostics.push(
                Diagnostic::warning(Code::Unused, format!("{} `{}` is never used", dest.kind.keyword(), dest.name))
                    .primary(dest.span, "no rule, matrix row or fallback sends tickets here")
                    .help(format!("route tickets to `{}` or remove it", dest.name)),
            );
        }
    }
}

fn mark(e: &Expr, keywords: &mut [bool], regexes: &mut [bool]) {
    match &e.kind {
        ExprKind::And(parts) | ExprKind::Or(parts) => parts.iter().for_each(|p| mark(p, keywords, regexes)),
        ExprKind::Not(inner) => mark(inner, keywords, regexes),
        ExprKind::Keywords { set, .. } => keywords[set.index()] = true,
        ExprKind::Regex { regex, .. } => regexes[regex.index()] = true,
        ExprKind::Const(_) | ExprKind::Compare { .. } | ExprKind::OneOf { .. } | ExprKind::StringTest { .. } => {}
    }
}
