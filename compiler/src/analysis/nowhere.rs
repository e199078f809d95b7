//! `routes-nowhere`: a ticket can pass every escalation and rule (and there
//! is no matrix to blame) without getting a destination. The finding names
//! an example ticket by its field values; when a matrix exists the gap is
//! reported as `non-exhaustive-matrix` instead, since the fix goes there.

use super::flow::{self, Flow, Gap};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::hir::Policy;
use crate::source::Span;

pub(crate) fn check(policy: &Policy, flow: &Flow, diagnostics: &mut Diagnostics) {
    if !policy.matrices.is_empty() {
        return;
    }
    let (example, exact) = match &flow.gap {
        Gap::Exact(e) => (e, true),
        Gap::Maybe(e) => (e, false),
        Gap::None | Gap::Unknown => return,
    };
    let last = flow.branches.last().map(|b| b.at);
    let mut d = if exact {
        Diagnostic::error(Code::RoutesNowhere, format!("some tickets get no destination, e.g. {}", example.summary()))
    } else {
        Diagnostic::warning(
            Code::RoutesNowhere,
            format!("some tickets may get no destination, e.g. {}", example.summary()),
        )
    };
    d = match last {
        Some(at) => {
            let label = match flow::outcome(policy, at).and_then(|o| o.rollout) {
                Some(pct) if at == flow::At::Otherwise => format!("`otherwise` applies to only {pct}% of the tickets"),
                _ => "tickets that match nothing up to here get no destination".to_string(),
            };
            d.primary(flow::name_span(policy, at), label)
        }
        None => d.primary(Span::default(), "the policy has no rules, matrix or `otherwise`"),
    };
    diagnostics.push(d.help("add `otherwise -> DESTINATION` at the end, or a rule for these tickets"));
}
