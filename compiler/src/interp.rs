//! The reference engine: walks the IR over a signal block. The JIT must
//! agree with it exactly.

use crate::ir::{compare, Cond, Program, RawOutcome, Val};

/// Why an engine refused to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalBlockError {
    pub expected: usize,
    pub found: usize,
}

impl std::fmt::Display for SignalBlockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "signal block has {} slots, the program needs {}", self.found, self.expected)
    }
}

impl std::error::Error for SignalBlockError {}

/// Decide over `block`, which must have exactly `program.slot_count()` slots.
pub fn decide(program: &Program, block: &[f64]) -> Result<RawOutcome, SignalBlockError> {
    if block.len() != program.slot_count() {
        return Err(SignalBlockError { expected: program.slot_count(), found: block.len() });
    }
    let mut priority = program.default_priority;
    let mut priority_rule = RawOutcome::NONE;
    for (i, rule) in program.priority_rules.iter().enumerate() {
        if eval(&rule.cond, block, 0) {
            priority = rule.level;
            priority_rule = i as u32;
            break;
        }
    }
    // One pass: the first match is `branch`; after a shadow match, go on to
    // the first non-shadow match. Shadow branches after the first match cannot
    // change either answer, so they are not evaluated.
    let mut branch = RawOutcome::NONE;
    let mut enforced_branch = RawOutcome::NONE;
    for (i, b) in program.branches.iter().enumerate() {
        if b.shadow && branch != RawOutcome::NONE {
            continue;
        }
        if eval(&b.cond, block, priority) {
            if branch == RawOutcome::NONE {
                branch = i as u32;
            }
            if !b.shadow {
                enforced_branch = i as u32;
                break;
            }
        }
    }
    Ok(RawOutcome { priority, priority_rule, branch, enforced_branch })
}

fn value(v: Val, block: &[f64], priority: u32) -> f64 {
    match v {
        // The length check in `decide` keeps slot indices in range; lowering only emits existing slots.
        Val::Slot(s) => block.get(s as usize).copied().unwrap_or(f64::NAN),
        Val::Const(c) => c,
        Val::Priority => priority as f64,
    }
}

/// Evaluate one condition.
pub fn eval(cond: &Cond, block: &[f64], priority: u32) -> bool {
    match cond {
        Cond::Const(b) => *b,
        Cond::And(parts) => parts.iter().all(|p| eval(p, block, priority)),
        Cond::Or(parts) => parts.iter().any(|p| eval(p, block, priority)),
        Cond::Not(inner) => !eval(inner, block, priority),
        Cond::Cmp { lhs, op, rhs } => compare(value(*lhs, block, priority), *op, value(*rhs, block, priority)),
    }
}
