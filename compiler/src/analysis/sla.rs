//! SLA sanity: `sla-missing` (a priority, or a priority for one tier, with
//! no target), `sla-order` (a more urgent priority with a longer target than
//! a less urgent one), `sla-no-hours` (a `business` target for tickets
//! that can end up in a destination with no hours, where business time
//! cannot be counted) and `sla-unmeetable` (a calendar-time target shorter
//! than a stretch its destination stays closed).
//!
//! A target comes from the most specific place that sets one
//! (`hir::Policy::sla_target`): the deciding branch's `sla` clause, the
//! final destination's `sla` line, the block's line for the `per` value,
//! the block's line for the priority. So a priority the block leaves
//! without a target is no gap when every branch that can decide its tickets
//! sets the SLA, or sends them only where every destination (fallbacks
//! included) sets it; and a block's `business` target only needs hours
//! where it is not overridden.
//!
//! `sla-unmeetable` looks at destinations a branch sends tickets to
//! directly that have `hours` and no `when closed` fallback: a ticket that
//! arrives as such a destination closes waits the whole closed stretch, so
//! a calendar-time target shorter than the longest weekly stretch can never
//! be met for it. Stretches are read off the weekly hours (holidays only
//! make them longer); chains of `when closed` fallbacks, and the first-response
//! block's own targets, are `closed-coverage`'s business.
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
use super::mdd::{Node, TRUE};
use super::space::{Key, NumKind, Read};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::hir::{Policy, Schedule, Sla, SlaTarget, Ty};
use crate::source::Span;
use crate::syntax::ast::{DestinationKind, FallbackReason};

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
    sla.target_for(priority, tier)
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
    for (index, sla) in policy.slas.iter().enumerate() {
        missing(policy, flow, index, diagnostics);
        order(policy, sla, diagnostics);
        no_hours(policy, flow, index, &mut hoursless);
        settings_no_hours(policy, flow, index, &mut hoursless);
        unmeetable(policy, flow, index, diagnostics);
    }
    for h in hoursless {
        diagnostics.push(no_hours_diagnostic(policy, h));
    }
}

/// The target SLA `sla` sets on branch `at` itself.
pub(crate) fn branch_setting(policy: &Policy, at: At, sla: usize) -> Option<SlaTarget> {
    flow::outcome(policy, at)?.slas.iter().find(|s| s.sla == sla).map(|s| s.target)
}

/// The target SLA `sla` sets on destination `d` itself.
pub(crate) fn destination_setting(policy: &Policy, d: usize, sla: usize) -> Option<SlaTarget> {
    policy.destinations[d].slas.iter().find(|s| s.sla == sla).map(|s| s.target)
}

/// Whether anything besides the block sets SLA `sla`.
pub(crate) fn has_settings(policy: &Policy, sla: usize) -> bool {
    let on_branch = flow::branch_order(policy).into_iter().any(|at| branch_setting(policy, at, sla).is_some());
    on_branch || (0..policy.destinations.len()).any(|d| destination_setting(policy, d, sla).is_some())
}

/// Whether every ticket branch `at` decides gets SLA `sla`'s target from
/// the branch or from every destination it can end up in.
fn set_by_routing(policy: &Policy, at: At, sla: usize) -> bool {
    if branch_setting(policy, at, sla).is_some() {
        return true;
    }
    let Some(outcome) = flow::outcome(policy, at) else { return false };
    reachable(policy, outcome.destination.index(), at)
        .iter()
        .all(|(d, _, _)| destination_setting(policy, *d, sla).is_some())
}

/// Tickets whose `per` value gives `wanted` (an absent value counts as `base`).
fn tiers_where(flow: &mut Flow, sla: &Sla, wanted: &[bool], base: bool) -> Node {
    let tier_var = sla.per.and_then(|f| flow.space.var(&Key::Value(Read::Field(f))));
    match tier_var {
        Some(var) if !wanted.is_empty() => {
            flow.space.mdd.leaf(var, |v| wanted.get(v as usize).copied().unwrap_or(base)).unwrap_or(TRUE)
        }
        _ => TRUE,
    }
}

/// Branches that may decide tickets of priority `p` in `within` without
/// setting SLA `sla` through routing: those get the block's target.
fn unset_deciders(policy: &Policy, flow: &mut Flow, sla: usize, p: u32, within: Node) -> Vec<At> {
    let deciders = flow.deciders(policy, p, within);
    deciders.into_iter().filter(|at| !set_by_routing(policy, *at, sla)).collect()
}

/// Branches labelled in one `sla-missing` finding.
const SHOWN_BRANCHES: usize = 3;

fn missing(policy: &Policy, flow: &mut Flow, index: usize, diagnostics: &mut Diagnostics) {
    let sla = &policy.slas[index];
    let tiers = tiers(policy, sla);
    let settings = has_settings(policy, index);
    let mut gaps: Vec<String> = Vec::new();
    let mut unset: Vec<(At, String)> = Vec::new();
    let mut example = None;
    for (p, level) in policy.priorities.iter().enumerate() {
        if sla.targets.get(p).copied().flatten().is_some() {
            continue;
        }
        if settings {
            // Only the tickets of branches that set nothing fall back to the block.
            let lacking: Vec<bool> =
                (0..tiers.len() as u32).map(|t| target_for(sla, p as u32, Some(t)).is_none()).collect();
            let within = tiers_where(flow, sla, &lacking, true);
            let uncovered = unset_deciders(policy, flow, index, p as u32, within);
            if uncovered.is_empty() {
                continue;
            }
            for at in uncovered {
                match unset.iter_mut().find(|(x, _)| *x == at) {
                    Some((_, levels)) => levels.push_str(&format!(", `{}`", level.name)),
                    None => unset.push((at, format!("`{}`", level.name))),
                }
            }
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
    let mut d =
        Diagnostic::warning(Code::SlaMissing, format!("sla `{}` has no target for {}", sla.name, gaps.join(", ")))
            .primary(sla.span, "tickets with these priorities get no due time");
    for (at, levels) in unset.iter().take(SHOWN_BRANCHES) {
        d = d.secondary(flow::name_span(policy, *at), format!("decides {levels} tickets and sets no `{}`", sla.name));
    }
    d = if unset.is_empty() {
        d.help(format!("add a line like `{example}: 4h` to `{}`", sla.name))
    } else {
        d.help(format!(
            "add a line like `{example}: 4h` to `{}`, or `sla {} 4h` to the branches that decide these tickets",
            sla.name, sla.name
        ))
    };
    diagnostics.push(d);
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
fn no_hours(policy: &Policy, flow: &mut Flow, index: usize, found: &mut Vec<Hoursless>) {
    let sla = &policy.slas[index];
    let tiers = tiers(policy, sla);
    let settings = has_settings(policy, index);
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
        let within = if tiers.is_empty() { TRUE } else { tiers_where(flow, sla, &business, base) };
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
        // With settings, a branch that sets the SLA, or a destination that
        // does, replaces the block's target: look at each branch on its own.
        let routed: Vec<(usize, At)> = if settings {
            let deciders = flow.deciders(policy, p, within);
            deciders
                .into_iter()
                .filter(|at| branch_setting(policy, *at, index).is_none())
                .filter_map(|at| Some((flow::outcome(policy, at)?.destination.index(), at)))
                .collect()
        } else {
            flow.routed(policy, p, within)
        };
        for (d, at) in routed {
            for (reached, via, via_text) in reachable(policy, d, at) {
                let dest = &policy.destinations[reached];
                if dest.schedule.is_some()
                    || dest.kind == DestinationKind::Ai
                    || destination_setting(policy, reached, index).is_some()
                {
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

/// `business` settings of SLA `index` whose tickets can end up without
/// hours: a destination's own (it is where the ticket is), a branch's
/// (every destination the branch's tickets can end up in).
fn settings_no_hours(policy: &Policy, flow: &mut Flow, index: usize, found: &mut Vec<Hoursless>) {
    let name = &policy.slas[index].name;
    let mut add = |dest: usize, target: Option<Span>, via: Span, via_text: String| {
        let d = &policy.destinations[dest];
        if d.schedule.is_some() || d.kind == DestinationKind::Ai {
            return;
        }
        match found.iter_mut().find(|h| h.dest == dest) {
            Some(h) => h.targets.extend(target.filter(|t| !h.targets.contains(t))),
            None => found.push(Hoursless {
                dest,
                targets: target.into_iter().collect(),
                priorities: Vec::new(),
                via,
                via_text,
            }),
        }
    };
    for (d, dest) in policy.destinations.iter().enumerate() {
        if let Some(t) = destination_setting(policy, d, index).filter(|t| t.business) {
            add(d, None, t.span, format!("`{}`'s own `{name}` target counts business hours", dest.name));
        }
    }
    for at in flow::branch_order(policy) {
        let Some(t) = branch_setting(policy, at, index).filter(|t| t.business && flow.live(at)) else { continue };
        let Some(outcome) = flow::outcome(policy, at) else { continue };
        for (reached, via, via_text) in reachable(policy, outcome.destination.index(), at) {
            add(reached, Some(t.span), via, via_text.replace("`{p}` tickets", "tickets"));
        }
    }
}

/// The longest stretch a schedule is closed in an ordinary week, in
/// minutes, with the weekday (0 = Monday) and minute it starts at; `None`
/// when it is never closed, a length of a whole week when never open.
fn longest_closed(schedule: &Schedule) -> Option<(u32, u32)> {
    if schedule.always_open {
        return None;
    }
    const DAY: u32 = 1440;
    const WEEK: u32 = 7 * DAY;
    let mut open: Vec<(u32, u32)> = Vec::new();
    for (day, intervals) in schedule.weekly.iter().enumerate() {
        for &(a, b) in intervals {
            if a < b {
                open.push((day as u32 * DAY + a as u32, day as u32 * DAY + b as u32));
            }
        }
    }
    open.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (a, b) in open {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let (Some(first), Some(last)) = (merged.first().copied(), merged.last().copied()) else {
        return Some((WEEK, 0));
    };
    // The week wraps around: the stretch after the last opening runs into the first.
    let mut best = (first.0 + WEEK - last.1, last.1 % WEEK);
    for pair in merged.windows(2) {
        let gap = pair[1].0 - pair[0].1;
        if gap > best.0 {
            best = (gap, pair[0].1);
        }
    }
    (best.0 > 0).then_some(best)
}

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// "Fri 18:00 – Mon 09:00" for a stretch of `length` minutes from `start` (minutes since Monday 00:00).
fn stretch_text(start: u32, length: u32) -> String {
    let at = |m: u32| {
        let m = m % (7 * 1440);
        format!("{} {:02}:{:02}", DAY_NAMES[(m / 1440) as usize], m % 1440 / 60, m % 60)
    };
    format!("{} – {}", at(start), at(start + length))
}

/// Calendar-time targets of SLA `index` shorter than a stretch the
/// destination a branch sends its tickets to stays closed (see the module
/// comment). One finding per target and destination.
fn unmeetable(policy: &Policy, flow: &mut Flow, index: usize, diagnostics: &mut Diagnostics) {
    let sla = &policy.slas[index];
    let tiers = tiers(policy, sla);
    let columns: Vec<Option<u32>> = std::iter::once(None).chain((0..tiers.len() as u32).map(Some)).collect();
    let mut found: Vec<(SlaTarget, usize, At, (u32, u32))> = Vec::new();
    for at in flow::branch_order(policy) {
        if !flow.live(at) {
            continue;
        }
        let Some(outcome) = flow::outcome(policy, at) else { continue };
        let d = outcome.destination.index();
        let dest = &policy.destinations[d];
        if dest.fallback(FallbackReason::Closed).is_some() || dest.kind == DestinationKind::Ai {
            continue;
        }
        let Some(closed) = dest.schedule.and_then(|s| longest_closed(&policy.schedules[s.index()])) else { continue };
        let mut targets: Vec<SlaTarget> = Vec::new();
        if let Some(t) = branch_setting(policy, at, index).or_else(|| destination_setting(policy, d, index)) {
            targets.push(t);
        } else if first_response(policy).is_some_and(|f| f.name == sla.name) {
            // The block's first-response targets are `closed-coverage`'s: it follows the chains too.
            continue;
        } else {
            // The block's targets for the priorities (and tiers) this branch can decide.
            for p in 0..policy.priorities.len() as u32 {
                for column in &columns {
                    let Some(t) = target_for(sla, p, *column) else { continue };
                    if t.business || t.minutes >= closed.0 as f64 || targets.contains(&t) {
                        continue;
                    }
                    let within = match column {
                        Some(c) => {
                            let wanted: Vec<bool> = (0..tiers.len() as u32).map(|x| x == *c).collect();
                            tiers_where(flow, sla, &wanted, false)
                        }
                        None => TRUE,
                    };
                    if flow.deciders(policy, p, within).contains(&at) {
                        targets.push(t);
                    }
                }
            }
        }
        for t in targets {
            if t.business || t.minutes >= closed.0 as f64 {
                continue;
            }
            if !found.iter().any(|(x, y, _, _)| x.span == t.span && *y == d) {
                found.push((t, d, at, closed));
            }
        }
    }
    for (t, d, at, (length, start)) in found {
        let dest = &policy.destinations[d];
        let how_long = if length >= 7 * 1440 {
            "it is never open".to_string()
        } else {
            format!("it is closed {} at a time ({})", minutes(length as f64), stretch_text(start, length))
        };
        diagnostics.push(
            Diagnostic::warning(
                Code::SlaUnmeetable,
                format!(
                    "the `{}` target of {} cannot be met for tickets `{}` gets as it closes: {how_long}",
                    sla.name,
                    minutes(t.minutes),
                    dest.name
                ),
            )
            .primary(t.span, "counted in calendar time")
            .secondary(dest.span, "no `when closed` fallback: tickets wait here until it opens")
            .secondary(flow::name_span(policy, at), "sends tickets here")
            .help(format!(
                "count the target in open hours (`business`), or add `when closed -> DESTINATION` to `{}`",
                dest.name
            )),
        );
    }
}

fn no_hours_diagnostic(policy: &Policy, h: Hoursless) -> Diagnostic {
    let dest = &policy.destinations[h.dest];
    let levels = h.priorities.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
    // Targets set on a destination or branch hold whatever the priority.
    let levels = if levels.is_empty() { levels } else { format!("{levels} ") };
    let mut d = Diagnostic::error(
        Code::SlaNoHours,
        format!(
            "{levels}tickets can end up in `{}`, which has no hours, but their SLA counts business hours",
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
