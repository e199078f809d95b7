//! The flat program both engines run: conditions over a signal block of
//! `f64` slots, with no names, strings or spans on the hot path.
//!
//! **The signal block** is `&[f64]`, one slot per [`SlotSource`], in the
//! order of `Program::slots`. The runtime fills it; the engines only read it.
//! Encoding: numbers and ints as themselves, durations in seconds, times in
//! epoch seconds, bools and precomputed text tests (keyword sets, regexes,
//! string tests) as 0.0/1.0, enum values as their index, and an absent value
//! as NaN, which makes every comparison false except `!=`.
//!
//! Evaluation: the first priority rule whose condition holds sets the
//! priority (else the default); then the first branch whose condition holds
//! decides (escalations, rules, matrix rows, `otherwise`, in that order).
//! Conditions may read the computed priority ([`Val::Priority`]).
//!
//! **Shadow branches.** A branch whose outcome says `shadow` ([`Branch::shadow`])
//! is decided and logged but not acted on. So one decision has two answers:
//! [`RawOutcome::branch`], the first branch that holds (shadow or not), and
//! [`RawOutcome::enforced_branch`], the first branch that holds and is not a
//! shadow one, which is the decision with the shadow rules skipped. When the
//! first match is not a shadow branch the two are equal. A policy in
//! `mode shadow` as a whole is a different thing: its branches are not shadow
//! branches (the runtime marks the whole decision as a shadow one, as
//! before), so only rule-level `shadow` outcomes are skipped for enforcement.
//! A `rollout N%` test is part of its branch's condition, shadow or not.

mod display;
mod lower;

pub use lower::lower;

use crate::hir::{FieldId, KeywordSetId, RegexId, Signal, Stage, StringTest, TextScope};
use crate::syntax::ast::CompareOp;

/// What the runtime writes into one slot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SlotSource {
    /// A non-text ticket field.
    Field(FieldId),
    /// A classifier or built-in signal (never `Priority`: engines compute that).
    Signal(Signal),
    /// Rollout bucket in [0, 100), from a stable hash of the ticket id.
    Bucket,
    /// 1.0 when a keyword set matches in the scope.
    Keywords { scope: TextScope, set: KeywordSetId },
    /// 1.0 when the regex matches the field.
    Regex { field: FieldId, regex: RegexId },
    /// 1.0 when the string test holds.
    StringTest { field: FieldId, test: StringTest, value: String },
}

/// A value a comparison reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    Slot(u32),
    Const(f64),
    /// The priority computed by the priority rules (its index).
    Priority,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    Const(bool),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    /// IEEE comparison: false when either side is NaN, except `Ne`, which is `!(==)`.
    Cmp {
        lhs: Val,
        op: CompareOp,
        rhs: Val,
    },
}

/// One routing branch, in evaluation order.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    pub stage: Stage,
    /// Index into the stage's list in the HIR (escalations, rules) or
    /// (matrix, row) packed as `matrix << 16 | row`; 0 for `otherwise`.
    pub source: u32,
    pub cond: Cond,
    /// The outcome is a rule-level `shadow` one: the branch counts for
    /// [`RawOutcome::branch`] but is skipped for [`RawOutcome::enforced_branch`].
    /// Never set by a policy-level `mode shadow`.
    pub shadow: bool,
}

impl Branch {
    /// For a matrix row, the `(matrix, row)` indices `source` packs; `None`
    /// for every other stage.
    pub fn matrix_row(&self) -> Option<(usize, usize)> {
        (self.stage == Stage::Matrix).then_some(((self.source >> 16) as usize, (self.source & 0xffff) as usize))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PriorityBranch {
    pub level: u32,
    pub cond: Cond,
}

/// A lowered policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub slots: Vec<SlotSource>,
    pub priority_rules: Vec<PriorityBranch>,
    pub default_priority: u32,
    pub branches: Vec<Branch>,
}

/// What an engine returns: indices only; the runtime builds the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RawOutcome {
    /// Index of the computed priority.
    pub priority: u32,
    /// Index of the priority rule that matched, or [`RawOutcome::NONE`] for the default.
    pub priority_rule: u32,
    /// Index into `Program::branches` of the first branch that holds, shadow
    /// or not, or [`RawOutcome::NONE`] when no branch matched.
    pub branch: u32,
    /// Index of the first branch that holds and is not a shadow branch: the
    /// decision with the shadow rules skipped, or [`RawOutcome::NONE`] when
    /// only shadow branches (or none) matched. Equal to `branch` unless the
    /// first match is a shadow branch.
    pub enforced_branch: u32,
}

impl RawOutcome {
    pub const NONE: u32 = u32::MAX;
}

impl Program {
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }
}

/// Evaluate a comparison the way both engines must.
#[inline]
pub fn compare(lhs: f64, op: CompareOp, rhs: f64) -> bool {
    match op {
        CompareOp::Eq => lhs == rhs,
        CompareOp::Ne => lhs != rhs,
        CompareOp::Lt => lhs < rhs,
        CompareOp::Le => lhs <= rhs,
        CompareOp::Gt => lhs > rhs,
        CompareOp::Ge => lhs >= rhs,
    }
}
