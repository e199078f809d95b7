//! IR → Cranelift IR: the body of a policy's one decision function.
//!
//! The function has the fixed signature of [`super::abi::signature`]. Its
//! shape mirrors [`crate::interp::decide`]:
//!
//! ```text
//! entry:      priority rule 0 ? ─yes─► jump decided(level0, 0)
//!             │no
//!             priority rule 1 ? ─yes─► jump decided(level1, 1)   …
//!             jump decided(default, NONE)
//! decided(level, rule):
//!             branch 0 ? ─yes─► jump exit(0)
//!             branch 1 ? ─yes─► jump exit(1)   …
//!             jump exit(NONE)
//! exit(enforced):
//!             out.priority = level; out.priority_rule = rule;
//!             out.branch = enforced; out.enforced_branch = enforced; return
//! ```
//!
//! Rules are tried in order and the first that holds wins, so there is one
//! conditional branch per rule, predicted "no" until the rule that decides.
//!
//! A shadow branch ([`crate::ir::Branch::shadow`]) that holds does not end
//! the search: its hit block records `first = umin(first, i)` (`first`
//! starts as `NONE`, which is `u32::MAX`) and falls through to the next
//! branch, and the exit stores `out.branch = umin(first, enforced)`. The
//! first shadow branch's hit stores `i` directly. `first` is a Cranelift
//! variable, so the SSA builder threads it through the chain as a block
//! parameter. A program without shadow branches has no `first`: its code is
//! the chain above, with one more store.
//! *Within* a rule, a condition of up to `BRANCHLESS_LEAVES` comparisons
//! is evaluated without branches: each comparison is an `fcmp` to 0/1, and
//! `and`/`or` are `band`/`bor` of those bits. Engines have no side effects,
//! so evaluating every comparison gives the same answer as short-circuiting,
//! and it avoids the mispredicted branch per comparison that short-circuit
//! code pays on unpredictable tickets. Measured against all-short-circuit
//! code on a generated 1,000-rule policy: compile time 58 → 25 ms, decisions
//! 951 → 333 ns on random blocks; equal on the small example policies.
//! `not` is pushed
//! down to the comparisons by De Morgan and `FloatCC::complement`, which
//! keeps NaN right: `not (x < 1)` is "unordered or >=". Larger `and`/`or`s
//! short-circuit between their parts through blocks, so one huge condition
//! cannot make every ticket pay for all its comparisons. Comparisons whose
//! operands are both known are folded.
//!
//! The `FloatCC`s match [`crate::ir::compare`]: ordered for `== < <= > >=`
//! (false on NaN), `NotEqual` (unordered or not equal) for `!=`. Slots are
//! loaded where a condition reads them (once per condition), so no value
//! lives across rules except the computed priority.
//!
//! **Architecture invariant** (relied on by the `unsafe` call in `abi.rs`):
//! the only loads are `block[s]` with `s < slot_count`; a slot index out of
//! range is folded to the NaN the interpreter reads for it. The only stores
//! are the four fields of `out`. Nothing is called.
//!
//! This module must not know how the code is loaded or run.

use super::abi::{OUT_BRANCH, OUT_ENFORCED_BRANCH, OUT_PRIORITY, OUT_PRIORITY_RULE, SLOT_BYTES};
use super::JitError;
use crate::ir::{compare, Cond, Program, RawOutcome, Val};
use crate::syntax::ast::CompareOp;
use cranelift_codegen::ir::condcodes::{CondCode, FloatCC};
use cranelift_codegen::ir::{types, Block, BlockArg, Function, InstBuilder, MemFlagsData, Value};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use std::collections::HashMap;

/// Where [`Val::Priority`] comes from at the point being translated.
#[derive(Clone, Copy)]
enum PriorityRead {
    /// Known at compile time: the interpreter evaluates priority rules with priority 0.
    Known(f64),
    /// The level the priority rules chose, as an `f64`.
    Computed(Value),
}

/// A condition's value: folded at compile time, or an `i8` 0/1 computed without branches.
#[derive(Clone, Copy)]
enum Truth {
    Known(bool),
    Dynamic(Value),
}

/// Conditions with at most this many comparisons are evaluated without
/// branches (`fcmp` results combined with `band`/`bor`) and tested with one
/// `brif`; larger `and`/`or`s short-circuit through blocks between parts.
const BRANCHLESS_LEAVES: usize = 16;

struct Translator<'a> {
    builder: FunctionBuilder<'a>,
    block_ptr: Value,
    slot_count: usize,
    priority: PriorityRead,
    /// Slot loads and constants of the branch-free condition being emitted:
    /// all in one Cranelift block, so reusing them is always valid.
    loaded: HashMap<u32, Value>,
    constants: HashMap<u64, Value>,
}

/// Fill `func` (whose signature is already set) with the decision code for `program`.
pub(super) fn translate(
    program: &Program,
    func: &mut Function,
    builder_ctx: &mut FunctionBuilderContext,
    config: TargetFrontendConfig,
) -> Result<(), JitError> {
    let mut builder = FunctionBuilder::new(func, builder_ctx);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    let (block_ptr, out_ptr) = match builder.block_params(entry) {
        [block_ptr, out_ptr] => (*block_ptr, *out_ptr),
        _ => return Err(JitError::Codegen("the decision function must take two parameters".into())),
    };
    let mut t = Translator {
        builder,
        block_ptr,
        slot_count: program.slot_count(),
        priority: PriorityRead::Known(0.0),
        loaded: HashMap::new(),
        constants: HashMap::new(),
    };

    // Priority rules: the first that holds chooses the level.
    let decided = t.builder.create_block();
    let level = t.builder.append_block_param(decided, types::I32);
    let rule = t.builder.append_block_param(decided, types::I32);
    for (i, priority_rule) in program.priority_rules.iter().enumerate() {
        let hit = t.builder.create_block();
        let next = t.builder.create_block();
        t.branch_on(&priority_rule.cond, hit, next)?;
        t.builder.switch_to_block(hit);
        let level_value = t.u32_const(priority_rule.level);
        let rule_value = t.u32_const(index(i)?);
        t.builder.ins().jump(decided, &[BlockArg::Value(level_value), BlockArg::Value(rule_value)]);
        t.builder.switch_to_block(next);
    }
    let level_value = t.u32_const(program.default_priority);
    let rule_value = t.u32_const(RawOutcome::NONE);
    t.builder.ins().jump(decided, &[BlockArg::Value(level_value), BlockArg::Value(rule_value)]);

    // Branches: the first that holds decides. `decided` dominates all of
    // them, so the level converted here is usable in every branch.
    t.builder.switch_to_block(decided);
    if program.branches.iter().any(|b| reads_priority(&b.cond)) {
        let level_f64 = t.builder.ins().fcvt_from_uint(types::F64, level);
        t.priority = PriorityRead::Computed(level_f64);
    }
    // Branches: a non-shadow branch that holds ends the search (it is the
    // enforced branch); a shadow branch that holds is remembered in
    // `first_shadow` and the search goes on. Only programs with shadow
    // branches have the variable; the SSA builder threads it through the chain.
    let exit = t.builder.create_block();
    let enforced = t.builder.append_block_param(exit, types::I32);
    let first_shadow = if program.branches.iter().any(|b| b.shadow) {
        let var = t.builder.declare_var(types::I32);
        let none = t.u32_const(RawOutcome::NONE);
        t.builder.def_var(var, none);
        Some(var)
    } else {
        None
    };
    let mut after_shadow = false;
    for (i, b) in program.branches.iter().enumerate() {
        let hit = t.builder.create_block();
        let next = t.builder.create_block();
        t.branch_on(&b.cond, hit, next)?;
        t.builder.switch_to_block(hit);
        let branch_value = t.u32_const(index(i)?);
        match first_shadow.filter(|_| b.shadow) {
            Some(var) => {
                // `NONE` is `u32::MAX` and earlier branches have smaller
                // indices, so `umin` keeps the first shadow match.
                let first = if after_shadow {
                    let earlier = t.builder.use_var(var);
                    t.builder.ins().umin(earlier, branch_value)
                } else {
                    branch_value
                };
                t.builder.def_var(var, first);
                t.builder.ins().jump(next, &[]);
                after_shadow = true;
            }
            None => {
                t.builder.ins().jump(exit, &[BlockArg::Value(branch_value)]);
            }
        }
        t.builder.switch_to_block(next);
    }
    let none = t.u32_const(RawOutcome::NONE);
    t.builder.ins().jump(exit, &[BlockArg::Value(none)]);

    t.builder.switch_to_block(exit);
    // The first match is the first shadow match if there was one (it came
    // before the enforced branch), else the enforced branch.
    let branch = match first_shadow {
        Some(var) => {
            let first = t.builder.use_var(var);
            t.builder.ins().umin(first, enforced)
        }
        None => enforced,
    };
    let flags = MemFlagsData::trusted();
    t.builder.ins().store(flags, level, out_ptr, OUT_PRIORITY);
    t.builder.ins().store(flags, rule, out_ptr, OUT_PRIORITY_RULE);
    t.builder.ins().store(flags, branch, out_ptr, OUT_BRANCH);
    t.builder.ins().store(flags, enforced, out_ptr, OUT_ENFORCED_BRANCH);
    t.builder.ins().return_(&[]);

    t.builder.seal_all_blocks();
    t.builder.finalize(config);
    Ok(())
}

impl Translator<'_> {
    /// Emit code that jumps to `then_block` when `cond` holds and to
    /// `else_block` otherwise, leaving the current block filled. The two
    /// targets are always distinct blocks.
    fn branch_on(&mut self, cond: &Cond, then_block: Block, else_block: Block) -> Result<(), JitError> {
        if leaves(cond) <= BRANCHLESS_LEAVES {
            self.loaded.clear();
            self.constants.clear();
            match self.truth(cond, false)? {
                Truth::Known(holds) => {
                    self.builder.ins().jump(if holds { then_block } else { else_block }, &[]);
                }
                Truth::Dynamic(holds) => {
                    self.builder.ins().brif(holds, then_block, &[], else_block, &[]);
                }
            }
            return Ok(());
        }
        match cond {
            Cond::Not(inner) => self.branch_on(inner, else_block, then_block)?,
            Cond::And(parts) | Cond::Or(parts) => {
                let conjunction = matches!(cond, Cond::And(_));
                if let Some((last, init)) = parts.split_last() {
                    for part in init {
                        let next = self.builder.create_block();
                        if conjunction {
                            self.branch_on(part, next, else_block)?;
                        } else {
                            self.branch_on(part, then_block, next)?;
                        }
                        self.builder.switch_to_block(next);
                    }
                    self.branch_on(last, then_block, else_block)?;
                }
            }
            // A comparison or a constant has at most one leaf, so it is handled above.
            Cond::Cmp { .. } | Cond::Const(_) => {
                return Err(JitError::Codegen("a single comparison reached the short-circuit path".into()));
            }
        }
        Ok(())
    }

    /// The value of `cond` (of `not cond` when `negate`), without branches.
    /// `not` is pushed to the comparisons (De Morgan, complemented `FloatCC`).
    fn truth(&mut self, cond: &Cond, negate: bool) -> Result<Truth, JitError> {
        match cond {
            Cond::Const(b) => Ok(Truth::Known(*b != negate)),
            Cond::Not(inner) => self.truth(inner, !negate),
            Cond::And(parts) | Cond::Or(parts) => {
                let conjunction = matches!(cond, Cond::And(_)) != negate;
                // `false` decides a conjunction, `true` a disjunction.
                let decisive = !conjunction;
                let mut values = Vec::with_capacity(parts.len());
                for part in parts {
                    match self.truth(part, negate)? {
                        Truth::Known(b) if b == decisive => return Ok(Truth::Known(decisive)),
                        Truth::Known(_) => {}
                        Truth::Dynamic(v) => values.push(v),
                    }
                }
                Ok(self.combine(values, conjunction).map_or(Truth::Known(!decisive), Truth::Dynamic))
            }
            Cond::Cmp { lhs, op, rhs } => match (self.known(*lhs), self.known(*rhs)) {
                (Some(l), Some(r)) => Ok(Truth::Known(compare(l, *op, r) != negate)),
                _ => {
                    let l = self.value(*lhs)?;
                    let r = self.value(*rhs)?;
                    let cc = if negate { float_cc(*op).complement() } else { float_cc(*op) };
                    Ok(Truth::Dynamic(self.builder.ins().fcmp(cc, l, r)))
                }
            },
        }
    }

    /// `band`/`bor` of `values` as a balanced tree (short dependency chains).
    fn combine(&mut self, mut values: Vec<Value>, conjunction: bool) -> Option<Value> {
        while values.len() > 1 {
            let mut next = Vec::with_capacity(values.len().div_ceil(2));
            for pair in values.chunks(2) {
                match *pair {
                    [a, b] => next.push(if conjunction {
                        self.builder.ins().band(a, b)
                    } else {
                        self.builder.ins().bor(a, b)
                    }),
                    [a] => next.push(a),
                    _ => {}
                }
            }
            values = next;
        }
        values.pop()
    }

    /// The value of `v` when it does not depend on the block.
    fn known(&self, v: Val) -> Option<f64> {
        match v {
            Val::Const(c) => Some(c),
            // The interpreter reads a slot past the block as NaN; never load it.
            Val::Slot(s) if !self.in_block(s) => Some(f64::NAN),
            Val::Slot(_) => None,
            Val::Priority => match self.priority {
                PriorityRead::Known(p) => Some(p),
                PriorityRead::Computed(_) => None,
            },
        }
    }

    fn in_block(&self, slot: u32) -> bool {
        usize::try_from(slot).is_ok_and(|s| s < self.slot_count)
    }

    fn value(&mut self, v: Val) -> Result<Value, JitError> {
        if let Val::Slot(s) = v {
            if self.in_block(s) {
                // The one kind of load from the signal block: `s < slot_count`.
                let offset = i32::try_from(s)
                    .ok()
                    .and_then(|s| s.checked_mul(SLOT_BYTES))
                    .ok_or(JitError::TooLarge { what: "slots", count: self.slot_count, limit: super::MAX_SLOTS })?;
                if let Some(&loaded) = self.loaded.get(&s) {
                    return Ok(loaded);
                }
                let flags = MemFlagsData::trusted().with_readonly();
                let loaded = self.builder.ins().load(types::F64, flags, self.block_ptr, offset);
                self.loaded.insert(s, loaded);
                return Ok(loaded);
            }
        }
        if let (Val::Priority, PriorityRead::Computed(level)) = (v, self.priority) {
            return Ok(level);
        }
        let c = self.known(v).unwrap_or(f64::NAN);
        if let Some(&constant) = self.constants.get(&c.to_bits()) {
            return Ok(constant);
        }
        let constant = self.builder.ins().f64const(c);
        self.constants.insert(c.to_bits(), constant);
        Ok(constant)
    }

    fn u32_const(&mut self, n: u32) -> Value {
        self.builder.ins().iconst(types::I32, i64::from(n))
    }
}

fn float_cc(op: CompareOp) -> FloatCC {
    match op {
        CompareOp::Eq => FloatCC::Equal,
        CompareOp::Ne => FloatCC::NotEqual,
        CompareOp::Lt => FloatCC::LessThan,
        CompareOp::Le => FloatCC::LessThanOrEqual,
        CompareOp::Gt => FloatCC::GreaterThan,
        CompareOp::Ge => FloatCC::GreaterThanOrEqual,
    }
}

fn leaves(cond: &Cond) -> usize {
    match cond {
        Cond::Const(_) => 0,
        Cond::And(parts) | Cond::Or(parts) => parts.iter().map(leaves).sum(),
        Cond::Not(inner) => leaves(inner),
        Cond::Cmp { .. } => 1,
    }
}

fn reads_priority(cond: &Cond) -> bool {
    match cond {
        Cond::Const(_) => false,
        Cond::And(parts) | Cond::Or(parts) => parts.iter().any(reads_priority),
        Cond::Not(inner) => reads_priority(inner),
        Cond::Cmp { lhs, rhs, .. } => matches!(lhs, Val::Priority) || matches!(rhs, Val::Priority),
    }
}

/// A rule or branch index as the `u32` the outcome carries (never `NONE`).
fn index(i: usize) -> Result<u32, JitError> {
    u32::try_from(i).ok().filter(|&i| i != RawOutcome::NONE).ok_or(JitError::TooLarge {
        what: "rules",
        count: i,
        limit: super::MAX_RULES,
    })
}
