//! HIR → IR: conditions become comparisons over slots; every text test
//! becomes a precomputed 0/1 slot; rollouts become a bucket comparison.

use super::*;
use crate::hir::{self, ExprKind, Operand, Policy};
use std::collections::HashMap;

struct Lowerer {
    slots: Vec<SlotSource>,
    index: HashMap<SlotSource, u32>,
}

impl Lowerer {
    fn slot(&mut self, source: SlotSource) -> u32 {
        if let Some(&i) = self.index.get(&source) {
            return i;
        }
        let i = self.slots.len() as u32;
        self.slots.push(source.clone());
        self.index.insert(source, i);
        i
    }

    fn val(&mut self, operand: &Operand) -> Val {
        match operand {
            Operand::Field(f) => Val::Slot(self.slot(SlotSource::Field(*f))),
            Operand::Signal(Signal::Priority) => Val::Priority,
            Operand::Signal(s) => Val::Slot(self.slot(SlotSource::Signal(*s))),
            Operand::Const(c) => Val::Const(*c),
        }
    }

    fn atom(&mut self, source: SlotSource) -> Cond {
        Cond::Cmp { lhs: Val::Slot(self.slot(source)), op: CompareOp::Eq, rhs: Val::Const(1.0) }
    }

    fn cond(&mut self, e: &hir::Expr) -> Cond {
        match &e.kind {
            ExprKind::Const(b) => Cond::Const(*b),
            ExprKind::And(parts) => Cond::And(parts.iter().map(|p| self.cond(p)).collect()),
            ExprKind::Or(parts) => Cond::Or(parts.iter().map(|p| self.cond(p)).collect()),
            ExprKind::Not(inner) => Cond::Not(Box::new(self.cond(inner))),
            ExprKind::Compare { lhs, op, rhs } => {
                let lhs = self.val(lhs);
                let rhs = self.val(rhs);
                Cond::Cmp { lhs, op: *op, rhs }
            }
            ExprKind::OneOf { value, values, negated } => {
                let v = self.val(value);
                let any = Cond::Or(
                    values
                        .iter()
                        .map(|x| Cond::Cmp { lhs: v, op: CompareOp::Eq, rhs: Val::Const(*x as f64) })
                        .collect(),
                );
                let any = match any {
                    Cond::Or(mut one) if one.len() == 1 => one.remove(0),
                    other => other,
                };
                if *negated {
                    Cond::Not(Box::new(any))
                } else {
                    any
                }
            }
            ExprKind::Keywords { scope, set } => self.atom(SlotSource::Keywords { scope: *scope, set: *set }),
            ExprKind::Regex { field, regex } => self.atom(SlotSource::Regex { field: *field, regex: *regex }),
            ExprKind::StringTest { field, test, value } => {
                self.atom(SlotSource::StringTest { field: *field, test: *test, value: value.clone() })
            }
        }
    }

    fn branch(&mut self, stage: Stage, source: u32, when: Option<&hir::Expr>, outcome: &hir::Outcome) -> Branch {
        let mut cond = when.map(|w| self.cond(w)).unwrap_or(Cond::Const(true));
        if let Some(pct) = outcome.rollout {
            let bucket = self.slot(SlotSource::Bucket);
            let in_rollout = Cond::Cmp { lhs: Val::Slot(bucket), op: CompareOp::Lt, rhs: Val::Const(pct) };
            cond = Cond::And(vec![cond, in_rollout]);
        }
        Branch { stage, source, cond, shadow: outcome.shadow }
    }
}

/// Lower a checked policy. The policy must have no errors.
pub fn lower(policy: &Policy) -> Program {
    let mut l = Lowerer { slots: Vec::new(), index: HashMap::new() };
    let priority_rules =
        policy.priority_rules.iter().map(|r| PriorityBranch { level: r.level.0, cond: l.cond(&r.when) }).collect();
    let mut branches = Vec::new();
    for (i, r) in policy.escalations.iter().enumerate() {
        branches.push(l.branch(Stage::Escalation, i as u32, Some(&r.when), &r.outcome));
    }
    for (i, r) in policy.rules.iter().enumerate() {
        branches.push(l.branch(Stage::Rule, i as u32, Some(&r.when), &r.outcome));
    }
    for (m, matrix) in policy.matrices.iter().enumerate() {
        for (r, row) in matrix.rows.iter().enumerate() {
            let mut parts = Vec::new();
            for (cell, (dim, _)) in row.cells.iter().zip(&matrix.dimensions) {
                let Some(values) = cell else { continue };
                let v = l.val(dim);
                let mut alts: Vec<Cond> = values
                    .iter()
                    .map(|x| Cond::Cmp { lhs: v, op: CompareOp::Eq, rhs: Val::Const(*x as f64) })
                    .collect();
                parts.push(if alts.len() == 1 { alts.remove(0) } else { Cond::Or(alts) });
            }
            let when = if parts.is_empty() { Cond::Const(true) } else { Cond::And(parts) };
            let mut b = l.branch(Stage::Matrix, ((m as u32) << 16) | r as u32, None, &row.outcome);
            b.cond = match b.cond {
                Cond::Const(true) => when,
                Cond::And(mut v) => {
                    v[0] = when;
                    Cond::And(v)
                }
                other => other,
            };
            branches.push(b);
        }
    }
    if let Some(o) = &policy.otherwise {
        branches.push(l.branch(Stage::Otherwise, 0, None, o));
    }
    let default_priority =
        policy.default_priority.map(|p| p.0).unwrap_or(policy.priorities.len().saturating_sub(1) as u32);
    Program { slots: l.slots, priority_rules, default_priority, branches }
}
