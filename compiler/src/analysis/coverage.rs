//! `closed-coverage`: tickets that can land in a closed destination.
//!
//! For every priority (split by the SLA's tier field where the tiers'
//! first-response targets differ in kind) the destinations its tickets can
//! be routed to are read off the routing flow: a branch counts for priority
//! `P` when it decides some ticket whose final priority (its `priority`
//! clause, else the computed one) is `P`. A ticket sent to a closed
//! destination follows `when closed` fallbacks until one is open; the chain
//! *ends closed* at the minutes every member is closed. A destination
//! without `hours` is never closed.
//!
//! Tickets whose first-response target is counted in `business` hours may
//! wait for a destination to open, so only priorities (and tiers) with a
//! calendar-time target, or with none, must always find one open. The
//! finding is an error when, at some minute, *every* destination such a
//! ticket can be routed to ends closed, and a warning when some do.
//! `when full` fallbacks are not followed: capacity is only known at run time.
//!
//! A branch whose tickets get a `business` first-response target from an
//! `sla` setting (`-> billing sla first_response 8h business`, or the
//! setting of a destination they stay in) may wait too, and is left out of
//! its priority's group. A calendar-time setting on a branch whose priority
//! has a `business` block target is not added to a group: where it sends
//! tickets straight to a destination without `when closed`, `sla-unmeetable`
//! reports it.

use super::flow::{self, At, Flow};
use super::hours::{self, Intervals, Week};
use super::mdd::{Node, TRUE};
use super::sla::{self, first_response, target_for};
use super::space::{Key, Read};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::hir::{Policy, Ty};
use crate::source::Span;
use crate::syntax::ast::FallbackReason;
use std::collections::HashMap;

/// Windows named in one message before "and N more".
const SHOWN_WINDOWS: usize = 2;
/// Destinations labelled in an error about a whole priority.
const SHOWN_DESTINATIONS: usize = 3;

/// The tickets of one priority that must always find a destination open.
struct Group {
    priority: u32,
    /// Tickets of the group: the priority's tiers with a calendar-time target.
    tiers: Node,
    /// How the group is named: "`P1`" or "`P3` (`customer.tier` free)".
    name: String,
    /// The first-response target that makes it calendar time.
    target: Option<Span>,
}

pub(crate) fn check(policy: &Policy, flow: &mut Flow, diagnostics: &mut Diagnostics) {
    if policy.destinations.iter().all(|d| d.schedule.is_none()) {
        return;
    }
    let groups = groups(policy, flow);
    if groups.is_empty() {
        return;
    }
    let used: Vec<bool> = (0..policy.schedules.len())
        .map(|s| policy.destinations.iter().any(|d| d.schedule.map(|x| x.index()) == Some(s)))
        .collect();
    let weeks = hours::weeks(policy, &used);
    let mut ends_closed: Vec<Option<Vec<(Week, Intervals)>>> = vec![None; policy.destinations.len()];
    // Open hours by (schedule, week): many destinations share a schedule.
    let mut open: HashMap<(usize, usize), Intervals> = HashMap::new();
    let mut warned: Vec<(usize, Vec<String>, At)> = Vec::new();
    for group in &groups {
        let routed = routed_to(policy, flow, group);
        if routed.is_empty() {
            continue;
        }
        for (d, _) in &routed {
            if ends_closed[*d].is_none() {
                let closed =
                    weeks.iter().enumerate().map(|(k, w)| (w.clone(), chain_closed(policy, *d, k, w, &mut open)));
                ends_closed[*d] = Some(closed.collect());
            }
        }
        let closed_of = |d: usize| ends_closed[d].as_deref().unwrap_or(&[]);
        // At which minutes does every destination of the group end closed?
        let all_closed: Vec<(Week, Intervals)> = weeks
            .iter()
            .enumerate()
            .map(|(k, w)| {
                let mut acc = Intervals(vec![w.range()]);
                for (d, _) in &routed {
                    acc = acc.intersect(&closed_of(*d)[k].1);
                }
                (w.clone(), acc)
            })
            .collect();
        if all_closed.iter().any(|(_, i)| !i.is_empty()) {
            diagnostics.push(nothing_open(policy, group, &routed, &all_closed));
            continue;
        }
        for (d, at) in &routed {
            if closed_of(*d).iter().all(|(_, i)| i.is_empty()) {
                continue;
            }
            match warned.iter_mut().find(|(x, _, _)| x == d) {
                Some((_, names, _)) => names.push(group.name.clone()),
                None => warned.push((*d, vec![group.name.clone()], *at)),
            }
        }
    }
    for (d, names, at) in warned {
        let closed = ends_closed[d].as_deref().unwrap_or(&[]);
        diagnostics.push(some_closed(policy, d, &names, at, closed));
    }
}

/// The priority groups that need a destination open at all times.
fn groups(policy: &Policy, flow: &mut Flow) -> Vec<Group> {
    let sla = first_response(policy);
    let per = sla.and_then(|s| s.per);
    let tier_values: Vec<String> = match per.map(|f| policy.field(f).ty.clone()) {
        Some(Ty::Enum(e)) => policy.enum_def(e).values.iter().map(|v| v.name.clone()).collect(),
        _ => Vec::new(),
    };
    let tier_var = per.and_then(|f| flow.space.var(&Key::Value(Read::Field(f))));
    let mut out = Vec::new();
    for p in 0..policy.priorities.len() as u32 {
        let Some(sla) = sla else {
            out.push(Group {
                priority: p,
                tiers: TRUE,
                name: format!("`{}`", policy.priorities[p as usize].name),
                target: None,
            });
            continue;
        };
        // Per tier: does this priority need a destination open around the clock?
        let needs: Vec<bool> = if tier_values.is_empty() {
            vec![target_for(sla, p, None).is_none_or(|t| !t.business)]
        } else {
            (0..tier_values.len() as u32).map(|t| target_for(sla, p, Some(t)).is_none_or(|t| !t.business)).collect()
        };
        if !needs.iter().any(|n| *n) {
            continue;
        }
        let base_needed = target_for(sla, p, None).is_none_or(|t| !t.business);
        let target = target_for(sla, p, None).filter(|t| !t.business).map(|t| t.span);
        let name = &policy.priorities[p as usize].name;
        let (tiers, name) = match tier_var {
            Some(var) if needs.iter().any(|n| !n) => {
                // An absent tier (optional field) uses the base target.
                let node =
                    flow.space.mdd.leaf(var, |v| needs.get(v as usize).copied().unwrap_or(base_needed)).unwrap_or(TRUE);
                let listed: Vec<&str> =
                    tier_values.iter().zip(&needs).filter(|(_, n)| **n).map(|(v, _)| v.as_str()).collect();
                let field = per.map(|f| policy.field(f).path.clone()).unwrap_or_default();
                (node, format!("`{name}` (`{field}` {})", listed.join(", ")))
            }
            _ => (TRUE, format!("`{name}`")),
        };
        out.push(Group { priority: p, tiers, name, target });
    }
    out
}

/// Destinations the group's tickets can be routed to, each with the first
/// branch that does it. A branch whose tickets get a `business`
/// first-response target from an `sla` setting (its own, or that of a
/// destination without a `when closed` fallback, where they stay) may wait
/// for opening hours, and does not count.
fn routed_to(policy: &Policy, flow: &mut Flow, group: &Group) -> Vec<(usize, At)> {
    let Some(index) = first_response(policy).and_then(|s| policy.slas.iter().position(|x| x.name == s.name)) else {
        return flow.routed(policy, group.priority, group.tiers);
    };
    if !sla::has_settings(policy, index) {
        return flow.routed(policy, group.priority, group.tiers);
    }
    let waits = |at: At| {
        let Some(outcome) = flow::outcome(policy, at) else { return false };
        let d = outcome.destination.index();
        let stays = policy.destinations[d].fallback(FallbackReason::Closed).is_none();
        match sla::branch_setting(policy, at, index) {
            Some(t) => t.business,
            None => stays && sla::destination_setting(policy, d, index).is_some_and(|t| t.business),
        }
    };
    let mut out: Vec<(usize, At)> = Vec::new();
    for at in flow.deciders(policy, group.priority, group.tiers) {
        let Some(d) = flow::outcome(policy, at).map(|o| o.destination.index()) else { continue };
        if !waits(at) && !out.iter().any(|(x, _)| *x == d) {
            out.push((d, at));
        }
    }
    out
}

/// The `when closed` chain from `d`: the destinations a ticket can pass through.
fn chain(policy: &Policy, d: usize) -> Vec<usize> {
    let mut members = vec![d];
    let mut at = d;
    while let Some(f) = policy.destinations[at].fallback(FallbackReason::Closed) {
        let next = f.target.index();
        // A cycle is `fallback-cycle`'s finding; stop where it closes.
        if members.contains(&next) {
            break;
        }
        members.push(next);
        at = next;
    }
    members
}

/// The minutes of `week` (the `k`th) at which a ticket sent to `d` ends in
/// a closed destination; `open` caches each schedule's open hours.
fn chain_closed(
    policy: &Policy,
    d: usize,
    k: usize,
    week: &Week,
    open: &mut HashMap<(usize, usize), Intervals>,
) -> Intervals {
    let range = week.range();
    let mut closed = Intervals(vec![range]);
    for member in chain(policy, d) {
        let Some(s) = policy.destinations[member].schedule else { return Intervals::default() };
        let hours = open.entry((s.index(), k)).or_insert_with(|| hours::open(&policy.schedules[s.index()], range));
        closed = closed.intersect(&hours.complement(range));
        if closed.is_empty() {
            break;
        }
    }
    closed
}

fn chain_text(policy: &Policy, d: usize) -> String {
    chain(policy, d).iter().map(|m| format!("`{}`", policy.destinations[*m].name)).collect::<Vec<_>>().join(" → ")
}

/// The time zone windows are shown in: the one of the last destination in the chain that has hours.
fn display_zone(policy: &Policy, d: usize) -> Option<String> {
    chain(policy, d)
        .iter()
        .rev()
        .filter_map(|m| policy.destinations[*m].schedule)
        .find_map(|s| policy.schedules[s.index()].timezone.clone())
}

fn windows_text(windows: &[String]) -> String {
    let mut text = windows.iter().take(SHOWN_WINDOWS).cloned().collect::<Vec<_>>().join(", ");
    if windows.len() > SHOWN_WINDOWS {
        let more = windows.len() - SHOWN_WINDOWS;
        text.push_str(&format!(" and {more} more time{}", if more == 1 { "" } else { "s" }));
    }
    text
}

/// Labels on the chain: the end (primary) and every fallback taken on the way.
fn label_chain(policy: &Policy, mut d: Diagnostic, dest: usize, primary: bool) -> Diagnostic {
    let members = chain(policy, dest);
    for pair in members.windows(2) {
        if let Some(f) = policy.destinations[pair[0]].fallback(FallbackReason::Closed) {
            d = d.secondary(f.span, format!("falls back to `{}`, closed too", policy.destinations[pair[1]].name));
        }
    }
    let last = members.last().copied().unwrap_or(dest);
    let end = &policy.destinations[last];
    let text = format!("`{}` is closed then and has no `when closed` fallback", end.name);
    if primary {
        d.primary(end.span, text)
    } else {
        d.secondary(end.span, text)
    }
}

fn nothing_open(policy: &Policy, group: &Group, routed: &[(usize, At)], closed: &[(Week, Intervals)]) -> Diagnostic {
    let first = routed.first().map(|(d, _)| *d).unwrap_or(0);
    let windows = hours::describe(display_zone(policy, first).as_deref(), closed);
    let chains: Vec<String> = routed.iter().take(SHOWN_DESTINATIONS).map(|(d, _)| chain_text(policy, *d)).collect();
    let mut d = Diagnostic::error(
        Code::ClosedCoverage,
        format!(
            "no open destination for {} tickets {}: {} {}",
            group.name,
            windows_text(&windows),
            chains.join(", "),
            if chains.len() == 1 { "ends closed" } else { "all end closed" }
        ),
    );
    for (k, (dest, at)) in routed.iter().take(SHOWN_DESTINATIONS).enumerate() {
        d = label_chain(policy, d, *dest, k == 0);
        d = d.secondary(
            flow::name_span(policy, *at),
            format!("sends {} tickets to `{}`", group.name, policy.destinations[*dest].name),
        );
    }
    if let Some(t) = group.target {
        d = d.secondary(t, "a calendar-time target: these tickets cannot wait for opening hours");
    }
    d.help("add `when closed -> DESTINATION` pointing at an always-open destination (e.g. an on-call team with `24x7` hours), or widen the hours")
}

fn some_closed(policy: &Policy, dest: usize, names: &[String], at: At, closed: &[(Week, Intervals)]) -> Diagnostic {
    let windows = hours::describe(display_zone(policy, dest).as_deref(), closed);
    let who = names.join(", ");
    let d = Diagnostic::warning(
        Code::ClosedCoverage,
        format!(
            "{who} tickets routed to {} can land in a closed destination {}",
            chain_text(policy, dest),
            windows_text(&windows)
        ),
    );
    let d = label_chain(policy, d, dest, true);
    d.secondary(flow::name_span(policy, at), format!("sends {who} tickets to `{}`", policy.destinations[dest].name))
        .help(format!(
            "add `when closed -> DESTINATION` to `{}` pointing at an always-open destination, or widen its hours",
            chain(policy, dest).last().map(|m| policy.destinations[*m].name.as_str()).unwrap_or("it")
        ))
}
