//! The routing flow: for every branch, in evaluation order (escalations,
//! rules, matrix rows, `otherwise`), the set of tickets it decides, and the
//! set no branch decides. Shadowing, exhaustiveness, routes-nowhere,
//! schedule coverage and SLA checks all read these sets; none of them
//! rebuilds them.
//!
//! A branch decides the tickets that satisfy its condition (and its
//! `rollout`), get the priority its condition may ask for, and match no
//! earlier branch. `shadow` branches win like any other: the engines stop at
//! the first match, whatever its flags.
//!
//! If the diagram outgrows its budget the pass stops: later branches are
//! [`Status::GaveUp`] and nothing is claimed about them or about the end.

use super::example::{concretize, unverified, Example};
use super::mdd::{Node, Res, FALSE};
use super::space::Space;
use crate::hir::{MatrixRow, Outcome, Policy};
use crate::source::Span;

/// Which branch of the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum At {
    Escalation(usize),
    Rule(usize),
    Row(usize, usize),
    Otherwise,
}

/// What the analysis knows about a branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Some ticket is decided by it.
    Reachable,
    /// Its own condition (with the priority it needs) never holds.
    Never,
    /// Earlier branches decide every ticket it matches.
    Shadowed,
    /// It decides tickets in the model, but each of them needs a comparison
    /// between two values to come out a certain way, and no concrete numbers
    /// were found that do it: maybe reachable, maybe not.
    Unknown,
    /// The analysis ran out of budget before this branch.
    GaveUp,
}

pub(crate) struct Branch {
    pub at: At,
    /// Its condition with its rollout.
    pub cond: Node,
    /// The tickets it decides.
    pub reach: Node,
    pub status: Status,
}

/// Tickets that reach the end of the policy without a destination.
#[derive(Clone, Debug, PartialEq)]
pub enum Gap {
    /// Every ticket gets a destination.
    None,
    /// This ticket gets none.
    Exact(Example),
    /// The model has such tickets but each needs an unverified comparison; one of them.
    Maybe(Example),
    /// The analysis gave up.
    Unknown,
}

pub(crate) struct Flow {
    pub space: Space,
    /// The tickets with the priority the priority rules give them.
    pub valid: Node,
    pub branches: Vec<Branch>,
    /// Per matrix: the tickets that reach its first row.
    pub matrix_entry: Vec<Node>,
    /// Tickets no branch decides (`None` when the pass gave up).
    pub end: Option<Node>,
    pub gap: Gap,
}

/// Paths tried when looking for a concrete ticket behind an opaque comparison.
const PATHS_TRIED: usize = 16;

impl Flow {
    pub(crate) fn new(policy: &Policy) -> Flow {
        let mut space = Space::new(policy);
        let order = branch_order(policy);
        let valid = match space.priority_constraint(policy) {
            Ok(v) => v,
            Err(_) => {
                let branches = order
                    .into_iter()
                    .map(|at| Branch { at, cond: FALSE, reach: FALSE, status: Status::GaveUp })
                    .collect();
                return Flow { space, valid: FALSE, branches, matrix_entry: Vec::new(), end: None, gap: Gap::Unknown };
            }
        };
        let mut flow =
            Flow { space, valid, branches: Vec::new(), matrix_entry: Vec::new(), end: None, gap: Gap::Unknown };
        let mut covered = FALSE;
        let mut gave_up = false;
        for at in order {
            if let At::Row(m, 0) = at {
                let entry = if gave_up { Ok(FALSE) } else { flow.space.mdd.and_not(valid, covered) };
                match entry {
                    Ok(e) => flow.matrix_entry.push(e),
                    Err(_) => {
                        gave_up = true;
                        flow.matrix_entry.push(FALSE);
                    }
                }
                debug_assert_eq!(flow.matrix_entry.len(), m + 1);
            }
            if gave_up {
                flow.branches.push(Branch { at, cond: FALSE, reach: FALSE, status: Status::GaveUp });
                continue;
            }
            match flow.step(policy, at, covered) {
                Ok((branch, now_covered)) => {
                    covered = now_covered;
                    flow.branches.push(branch);
                }
                Err(_) => {
                    gave_up = true;
                    flow.branches.push(Branch { at, cond: FALSE, reach: FALSE, status: Status::GaveUp });
                }
            }
        }
        if !gave_up {
            if let Ok(end) = flow.space.mdd.and_not(valid, covered) {
                flow.end = Some(end);
                flow.gap = flow.gap_of(policy, end);
            }
        }
        flow
    }

    fn step(&mut self, policy: &Policy, at: At, covered: Node) -> Res<(Branch, Node)> {
        let own = match at {
            At::Escalation(i) => self.space.cond(&policy.escalations[i].when)?,
            At::Rule(i) => self.space.cond(&policy.rules[i].when)?,
            At::Row(m, r) => self.space.row(&policy.matrices[m], &policy.matrices[m].rows[r])?,
            At::Otherwise => super::mdd::TRUE,
        };
        let cond = match outcome(policy, at) {
            Some(o) => self.space.branch(own, o)?,
            None => own,
        };
        let possible = self.space.mdd.and(self.valid, cond)?;
        let reach = self.space.mdd.and_not(possible, covered)?;
        let status = if possible == FALSE {
            Status::Never
        } else if reach == FALSE {
            Status::Shadowed
        } else if self.needs_numbers(reach) && self.example(policy, reach).is_none() {
            Status::Unknown
        } else {
            Status::Reachable
        };
        let now_covered = self.space.mdd.or(covered, cond)?;
        Ok((Branch { at, cond, reach, status }, now_covered))
    }

    /// Whether tickets of `set` depend on a comparison between two values.
    fn needs_numbers(&self, set: Node) -> bool {
        self.space.has_opaque() && self.space.mdd.depends_on(set, |v| self.space.is_opaque(v))
    }

    /// A concrete ticket of `set`, preferring the simplest; `None` if only
    /// unverifiable ones were found.
    pub(crate) fn example(&self, policy: &Policy, set: Node) -> Option<Example> {
        if let Some(path) = self.space.mdd.shortest_path(set) {
            if let Some(e) = concretize(&self.space, policy, &path) {
                return Some(e);
            }
        }
        if !self.needs_numbers(set) {
            return None;
        }
        self.space.mdd.paths(set, PATHS_TRIED).iter().find_map(|p| concretize(&self.space, policy, p))
    }

    fn gap_of(&self, policy: &Policy, end: Node) -> Gap {
        if end == FALSE {
            return Gap::None;
        }
        if let Some(e) = self.example(policy, end) {
            return Gap::Exact(e);
        }
        // Describe the simplest unverified ticket anyway.
        match self.space.mdd.shortest_path(end) {
            Some(path) => Gap::Maybe(unverified(&self.space, policy, &path)),
            None => Gap::Unknown,
        }
    }

    /// Branches of one stage, with their index in `branches`.
    pub(crate) fn position(&self, at: At) -> Option<usize> {
        self.branches.iter().position(|b| b.at == at)
    }
}

/// Branches in the order the engines try them (the same order `ir::lower` emits).
pub(crate) fn branch_order(policy: &Policy) -> Vec<At> {
    let mut order: Vec<At> = (0..policy.escalations.len()).map(At::Escalation).collect();
    order.extend((0..policy.rules.len()).map(At::Rule));
    for (m, matrix) in policy.matrices.iter().enumerate() {
        order.extend((0..matrix.rows.len()).map(|r| At::Row(m, r)));
    }
    if policy.otherwise.is_some() {
        order.push(At::Otherwise);
    }
    order
}

pub(crate) fn outcome(policy: &Policy, at: At) -> Option<&Outcome> {
    match at {
        At::Escalation(i) => Some(&policy.escalations[i].outcome),
        At::Rule(i) => Some(&policy.rules[i].outcome),
        At::Row(m, r) => Some(&policy.matrices[m].rows[r].outcome),
        At::Otherwise => policy.otherwise.as_ref(),
    }
}

/// How a branch is named in messages: "rule `x`", "escalation `x`", "row 3 of the matrix", "`otherwise`".
pub(crate) fn describe(policy: &Policy, at: At) -> String {
    match at {
        At::Escalation(i) => format!("escalation `{}`", policy.escalations[i].name),
        At::Rule(i) => format!("rule `{}`", policy.rules[i].name),
        At::Row(_, r) => format!("matrix row {}", r + 1),
        At::Otherwise => "`otherwise`".into(),
    }
}

/// The span that names a branch: the rule name, the matrix row, the `otherwise` outcome.
pub(crate) fn name_span(policy: &Policy, at: At) -> Span {
    match at {
        At::Escalation(i) => policy.escalations[i].name_span,
        At::Rule(i) => policy.rules[i].name_span,
        At::Row(m, r) => row_span(&policy.matrices[m].rows[r]),
        At::Otherwise => outcome(policy, at).map(|o| o.span).unwrap_or_default(),
    }
}

/// A row's span without the blank space the grammar lets it swallow after its outcome.
pub(crate) fn row_span(row: &MatrixRow) -> Span {
    let end = row.outcome.span.end.clamp(row.span.start, row.span.end);
    Span { end, ..row.span }
}
