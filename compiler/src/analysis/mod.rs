//! Proofs about a checked policy: shadowed rules and rows, matrix
//! exhaustiveness, tickets that route nowhere, fallback cycles, schedule
//! coverage, SLA sanity and dead declarations. Runs only on policies without
//! errors, reads only the `hir`, and reports through the diagnostic sink.
//!
//! The routing proofs share one model (`space`: every ticket value a
//! condition reads as a finite variable), one set representation (`mdd`,
//! for each condition on its own) and one question, answered in `cover`:
//! "which tickets of this set does no set of that list hold?". `flow`
//! asks it for every branch once, and the per-code modules turn the answers
//! into diagnostics. Where the model is inexact is documented in `space`;
//! every claim that a branch can never match is sound, and every "this
//! ticket routes nowhere" comes with a concrete ticket that does.
//!
//! Modules by code: `shadowing` (unreachable-rule, maybe-unreachable-rule),
//! `exhaustive` (non-exhaustive-matrix, unreachable-row, overlapping-rows),
//! `nowhere` (routes-nowhere), `fallbacks` (fallback-cycle), `coverage` with
//! `hours` (closed-coverage), `sla` (sla-missing, sla-order, sla-no-hours),
//! `unused` (unused). `diff` compares two versions of a policy in one
//! ticket space (`routec diff`).

mod cover;
mod coverage;
mod diff;
mod example;
mod exhaustive;
mod fallbacks;
mod flow;
mod hours;
#[cfg(test)]
mod hours_tests;
mod mdd;
mod nowhere;
mod shadowing;
mod sla;
mod space;
mod unused;

use crate::diagnostic::Diagnostics;
use crate::hir::Policy;

pub use diff::{diff, BranchRef, Change, DiffError, PolicyDiff, PrioritySource, Side, Witness};
pub use example::Example;
pub use flow::{Gap, Reuse, Status, Stop};

/// Run every analysis, pushing findings into `diagnostics`.
pub fn run(policy: &Policy, diagnostics: &mut Diagnostics) {
    run_cached(policy, diagnostics, &mut ProofCache::default());
}

/// What the proofs of one version of a policy keep for the next version
/// (the language server holds one per policy): the ticket space with its
/// diagram and every coverage answer, each reused only where its inputs are
/// unchanged (or, under [`Reuse::Sound`], where it provably still holds), so
/// an edit costs the searches it really affects.
#[derive(Default)]
pub struct ProofCache {
    memo: Option<flow::Memo>,
}

/// How a run with a [`ProofCache`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ran {
    /// The findings are exactly those of [`run`].
    Exact,
    /// Every finding holds, but some answer was carried over the edit (see
    /// [`Reuse::Sound`]): a run with [`Reuse::Exact`] gives those of [`run`].
    Sound,
    /// `stop` said so; nothing was reported (the cache keeps what was done).
    Stopped,
}

/// [`run`], reusing and then updating `cache`; the findings are exactly those of [`run`].
pub fn run_cached(policy: &Policy, diagnostics: &mut Diagnostics, cache: &mut ProofCache) {
    run_with(policy, diagnostics, cache, Reuse::Exact, std::sync::Arc::new(|| false));
}

/// [`run`], reusing what `cache` holds as `reuse` allows and then updating
/// it; abandoned, reporting nothing, as soon as `stop` says so.
pub fn run_with(
    policy: &Policy,
    diagnostics: &mut Diagnostics,
    cache: &mut ProofCache,
    reuse: Reuse,
    stop: Stop,
) -> Ran {
    let mut found = Diagnostics::new();
    let flow = flow::Flow::with_memo(policy, cache.memo.take(), reuse, stop.clone());
    let flow = checks(policy, flow, &mut found);
    // A reused diagram holds nodes of earlier versions too: if it ran out of
    // budget, a fresh one might not have, so start over without the cache.
    let flow = if flow.reused && flow.space.mdd.overflowed() {
        found = Diagnostics::new();
        checks(policy, flow::Flow::with_memo(policy, None, Reuse::Exact, stop), &mut found)
    } else {
        flow
    };
    let ran = match (flow.stopped, flow.exact) {
        (true, _) => Ran::Stopped,
        (false, true) => Ran::Exact,
        (false, false) => Ran::Sound,
    };
    cache.memo = flow.into_memo();
    if ran != Ran::Stopped {
        diagnostics.extend(found);
    }
    ran
}

fn checks(policy: &Policy, mut flow: flow::Flow, diagnostics: &mut Diagnostics) -> flow::Flow {
    shadowing::check(policy, &mut flow, diagnostics);
    exhaustive::check(policy, &mut flow, diagnostics);
    nowhere::check(policy, &flow, diagnostics);
    fallbacks::check(policy, diagnostics);
    coverage::check(policy, &mut flow, diagnostics);
    sla::check(policy, &mut flow, diagnostics);
    unused::check(policy, diagnostics);
    flow
}

/// What the routing proofs know, for tests and tools: the status of every
/// branch in the order `ir::lower` emits them, and the tickets left without
/// a destination.
#[derive(Clone, Debug)]
pub struct RoutingFacts {
    pub branches: Vec<Status>,
    pub gap: Gap,
}

/// The routing proofs' results without diagnostics.
pub fn routing_facts(policy: &Policy) -> RoutingFacts {
    let flow = flow::Flow::new(policy);
    RoutingFacts { branches: flow.branches.iter().map(|b| b.status).collect(), gap: flow.gap.clone() }
}
