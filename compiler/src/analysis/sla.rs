//! SLA sanity: `sla-missing` (a priority, or a priority for one tier, with
//! no target), `sla-order` (a more urgent priority with a longer target than
//! a less urgent one) and `sla-no-hours` (a `business` target for tickets
//! that can end up in a destination with no hours, where business time
//! cannot be counted).
//!
//! A policy without any `sla` makes no promises and gets no findings here.
//! Targets are compared for order only when the longer one is certainly
//! longer: a calendar target is never called longer than a `business` one
//! of more minutes, since business time runs slower. `ai` destinations are
//! exempt from `sla-no-hours`: an AI handler answers at once, whatever the
//! clock. Destinations count as reachable through every fallback, `when
//! full` included, since any of them can hold the ticket when the clock runs.

use super::example::show_number;
use super::flow::{self, At, Flow};
use super::mdd::TRUE;
use super::space::{Key, NumKind, Read};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::hir::{Policy, Sla, SlaTarget, Ty};
use crate::source::Span;
use crate::syntax::ast::DestinationKind;

/// Business-hours targets labelled in one `sla-no-hours` finding.
const SHOWN_TARGETS: usize = 3;

/// The SLA that holds first-response targets: `first_response` by name,
/// else one whose name mentions "response" or "first", else the first one.
pub(crate) fn first_response(policy: &Policy) -> Option<&Sla> {
    policy
        .slas
        .iter()
        .find(|s| s.name == "first_response")
        .or_else(|| policy.slas.iter().find(|s| s.name.contains("response") || s.name.contains("first")))
        .or_else(|| policy.slas.first())
}

/// The target for `priority`, for tickets whose tier (the SLA's `per` value) is `tier`.
pub(crate) fn target_for(sla: &Sla, priority: u32, tier: Option<u32>) -> Option<SlaTarget> {
    let overridden =
        tier.and_then(|t| sla.overrides.iter().find(|(v, p, _)| *v == t && p.0 == priority).map(|(_, _, x)| *x));
    overridden.or_else(|| sla.targets.get(priority as usize).copied().flatten())
}

fn tiers(policy: &Policy, sla: &Sla) -> Vec<String> {
    match sla.per.map(|f| policy.field(f).ty.clone()) {
        Some(Ty::Enum(e)) => policy.enum_def(e).values.iter().map(|v| v.name.clone()).collect(),
        _ => Vec::new(),
    }
}

fn minutes(m: f64) -> String {
    show_number((m * 60.0).round(), NumKind::Duration)
}

pub(crate) fn check(policy: &Policy, flow: &mut Flow, diagnostics: &mut Diagnostics) {
    let mut hoursless: Vec<Hoursless> = Vec::new();
    for sla in &policy.slas {
        missing(policy, sla, diagnostics);
        order(policy, sla, diagnostics);
        no_hours(policy, flow, sla, &mut hoursless);
    }
    for h in hoursless {
        diagnostics.push(no_hours_diagnostic(policy, h));
    }
}

fn missing(policy: &Policy, sla: &Sla, diagnostics: &mut Diagnostics) {
    let tiers = tiers(policy, sla);
    let mut gaps: Vec<String> = Vec::new();
    let mut example = None;
    for (p, level) in policy.priorities.iter().enumerate() {
        if sla.targets.get(p).copied().flatten().is_some() {
            continue;
        }
        let lacking: Vec<&str> = tiers
            .iter()
            .enumerate()
            .filter(|(t, _)| target_for(sla, p as u32, Some(*t as u32)).is_none())
            .map(|(_, name)| name.as_str())
            .collect();
        if tiers.is_empty() || lacking.len() == tiers.len() {
            gaps.push(format!("`{}`", level.name));
        } else if !lacking.is_empty() {
            gaps.push(format!(
                "`{}` for {}",
                level.name,
                lacking.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
            ));
        } else if sla.per.is_some_and(|f| policy.field(f).optional) {
            gaps.push(format!("`{}` for tickets without a tier", level.name));
        } else {
            continue;
        }
        example.get_or_insert_with(|| level.name.clone());
    }
    if gaps.is_empty() {
        return;
    }
    let example = example.unwrap_or_default();
    diagnostics.push(
        Diagnostic::warning(Code::SlaMissing, format!("sla `{}` has no target for {}", sla.name, gaps.join(", ")))
            .primary(sla.span, "tickets with these priorities get no due time")
            .help(format!("add a line like `{example}: 4h` to `{}`", sla.name)),
    );
}

/// A more urgent target, a less urgent one it exceeds, their priorities,
/// and the tiers it shows in.
type Inversion = (SlaTarget, SlaTarget, (usize, usize), Vec<String>);

fn order(policy: &Policy, sla: &Sla, diagnostics: &mut Diagnostics) {
    let tiers = tiers(policy, sla);
    let columns: Vec<Option<u32>> = std::iter::once(None).chain((0..tiers.len() as u32).map(Some)).collect();
    let mut found: Vec<Inversion> = Vec::new();
    let n = policy.priorities.len();
    for column in columns {
        for urgent in 0..n {
            for relaxed in urgent + 1..n {
                let (Some(a), Some(b)) =
                    (target_for(sla, urgent as u32, column), target_for(sla, relaxed as u32, column))
                else {
                    continue;
                };
                let certainly_longer = a.minutes > b.minutes && (a.business || !b.business);
                if !certainly_longer {
                    continue;
                }
                let tier = column.and_then(|t| tiers.get(t as usize).cloned());
                match found.iter_mut().find(|(x, y, _, _)| x.span == a.span && y.span == b.span) {
                    Some((_, _, _, where_)) => where_.extend(tier),
                    None => found.push((a, b, (urgent, relaxed), tier.into_iter().collect())),
                }
            }
        }
    }
    for (a, b, (urgent, relaxed), shows_in) in found {
        let (u, r) = (&policy.priorities[urgent].name, &policy.priorities[relaxed].name);
        // Name the tiers when only some of them have the problem.
        let scope = if !shows_in.is_empty() && shows_in.len() < tiers.len() {
            format!(" for {}", shows_in.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", "))
        } else {
            String::new()
        };
        diagnostics.push(
            Diagnostic::warning(
                Code::SlaOrder,
                format!(
                    "in sla `{}`, `{u}` has a longer target ({}) than the less urgent `{r}` ({}){scope}",
                    sla.name,
                    minutes(a.minutes),
                    minutes(b.minutes)
                ),
            )
            .primary(a.span, format!("`{u}` waits longer than `{r}`"))
            .secondary(b.span, format!("`{r}`'s target"))
            .help(format!(
                "give `{u}` a target of at most {}, or list `priorities` most urgent first",
                minutes(b.minutes)
            )),
        );
    }
}

/// Where a business-hours ticket can end up without hours, and how it gets there.
struct Hoursless {
    dest: usize,
    targets: Vec<Span>,
    priorities: Vec<String>,
    via: Span,
    via_text: String,
}

/// Collect, per destination without hours, the business-hours targets of
/// `sla` whose tickets can end up there.
fn no_hours(policy: &Policy, flow: &mut Flow, sla: &Sla, found: &mut Vec<Hoursless>) {
    let tiers = tiers(policy, sla);
    let tier_var = sla.per.and_then(|f| flow.space.var(&Key::Value(Read::Field(f))));
    for p in 0..policy.priorities.len() as u32 {
        let business: Vec<bool> = if tiers.is_empty() {
            vec![target_for(sla, p, None).is_some_and(|t| t.business)]
        } else {
            (0..tiers.len() as u32).map(|t| target_for(sla, p, Some(t)).is_some_and(|x| x.business)).collect()
        };
        if !business.iter().any(|b| *b) {
            continue;
        }
        let base = target_for(sla, p, None).is_some_and(|t| t.business);
        let within = match tier_var {
            Some(var) if !tiers.is_empty() => {
                flow.space.mdd.leaf(var, |v| business.get(v as usize).copied().unwrap_or(base)).unwrap_or(TRUE)
            }
            _ => TRUE,
        };
        let mut targets: Vec<Span> = Vec::new();
        if tiers.is_empty() {
            targets.extend(target_for(sla, p, None).map(|t| t.span));
        } else {
            for t in 0..tiers.len() as u32 {
                if let Some(x) = target_for(sla, p, Some(t)).filter(|x| x.business) {
                    if !targets.contains(&x.span) {
                        targets.push(x.span);
                    }
                }
            }
        }
        let level = policy.priorities[p as usize].name.clone();
        for (d, at) in flow.routed(policy, p, within) {
            for (reached, via, via_text) in reachable(policy, d, at) {
                let dest = &policy.destinations[reached];
                if dest.schedule.is_some() || dest.kind == DestinationKind::Ai {
                    continue;
                }
                match found.iter_mut().find(|h| h.dest == reached) {
                    Some(h) => {
                        if !h.priorities.contains(&level) {
                            h.priorities.push(level.clone());
                        }
                        for t in &targets {
                            if !h.targets.contains(t) {
                                h.targets.push(*t);
                            }
                        }
                    }
                    None => found.push(Hoursless {
                        dest: reached,
                        targets: targets.clone(),
                        priorities: vec![level.clone()],
                        via,
                        via_text: via_text.replace("{p}", &level),
                    }),
                }
            }
        }
    }
}

fn no_hours_diagnostic(policy: &Policy, h: Hoursless) -> Diagnostic {
    let dest = &policy.destinations[h.dest];
    let levels = h.priorities.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
    let mut d = Diagnostic::error(
        Code::SlaNoHours,
        format!(
            "{levels} tickets can end up in `{}`, which has no hours, but their SLA counts business hours",
            dest.name
        ),
    )
    .primary(dest.span, "no `hours`: business time cannot be counted here")
    .secondary(h.via, h.via_text);
    for t in h.targets.iter().take(SHOWN_TARGETS) {
        d = d.secondary(*t, "counted in business hours");
    }
    d.help(format!("give `{}` opening hours (`hours SCHEDULE`), or drop `business` from these targets", dest.name))
}

/// Every destination a ticket sent to `d` by branch `at` can end up in,
/// with the place that sends it there.
fn reachable(policy: &Policy, d: usize, at: At) -> Vec<(usize, Span, String)> {
    let mut out = vec![(d, flow::name_span(policy, at), "sends `{p}` tickets here".to_string())];
    let mut k = 0;
    while k < out.len() {
        let from = out[k].0;
        for f in &policy.destinations[from].fallbacks {
            let target = f.target.index();
            if !out.iter().any(|(x, _, _)| *x == target) {
                out.push((target, f.span, format!("`{}` falls back here", policy.destinations[from].name)));
            }
        }
        k += 1;
    }
    out
}
