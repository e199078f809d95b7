//! The ticket space the routing proofs reason over, and the translation of
//! checked conditions (`hir::Expr`) into sets of tickets ([`super::mdd`]).
//!
//! Every value a condition reads becomes one *finite* variable:
//!
//! - enum and bool fields, `intent`, `language`: their values, plus one
//!   "absent" value for an optional field (the engines read an absent value
//!   as NaN: every comparison is false except `!=`);
//! - the computed `priority`: its levels; [`Space::priority_constraint`] ties
//!   it to the priority rules, so `priority == P1` is decided exactly;
//! - numeric fields and signals (`confidence`, `sentiment`), and the rollout
//!   bucket: the regions between the constants the policy compares them with
//!   (`< 3`, `== 3`, between 3 and 5, …). Every comparison with a constant is
//!   a union of regions, so this is exact. `confidence < threshold` is exact
//!   too: `threshold` is the confidence threshold of the ticket's intent, so
//!   it is expanded into one comparison per intent label;
//! - keyword sets, regexes and `starts_with` / `ends_with` / `contains` /
//!   list `contains` tests: one independent yes/no atom each;
//! - `field == "x"` tests on one text field: one variable whose values are
//!   the strings compared with plus "anything else", so two different
//!   strings can never both be equal to the field.
//!
//! What the model assumes about the runtime: required fields, `sentiment`
//! and `language` are always present; optional fields and the classifier's
//! outputs (`intent`, `confidence`, `threshold`: absent for a ticket without
//! `signals` when no model is loaded) may be absent; the
//! signal block's `threshold` slot holds the threshold of the ticket's
//! intent; the rollout bucket lies in 0..100.
//!
//! Where this model is **not exact** (it admits more tickets than exist):
//! - text atoms are independent of each other: `subject has legal` does not
//!   imply `text has legal`, `subject == "hello"` and `subject has legal`
//!   can both hold, and `starts_with "ab"` does not imply `starts_with "a"`;
//! - a comparison between two fields or signals (`waiting > budget`,
//!   `confidence < sentiment`) is an *opaque* yes/no atom. Every ticket a
//!   search finds is made concrete first ([`super::example::concretize`]
//!   looks for numbers that make each opaque atom come out right); when no
//!   numbers are found the claim becomes "may";
//! - `time` and `number` fields are real numbers, `int` fields integers;
//!   durations are non-negative, `confidence` lies in 0..1, `sentiment` in
//!   -1..1. Nothing else about value ranges is known.
//!
//! Because the model only ever admits *more* tickets, "this set is empty"
//! is always a sound claim about real tickets; "this set is not empty" is
//! exact up to the independence of text atoms.

use super::mdd::{FastMap, Mdd, Node, Res, FALSE, TRUE};
use crate::hir::{self, ExprKind, FieldId, Operand, Policy, Signal, StringTest, Ty};
use crate::ir::{compare, SlotSource};
use crate::syntax::ast::CompareOp;
use std::collections::HashMap;

/// Diagrams larger than this make the analyses give up (see `mdd`).
const MAX_NODES: usize = 3_000_000;

/// A value a condition reads directly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Read {
    Field(FieldId),
    Signal(Signal),
}

/// What a variable of the space stands for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Value(Read),
    Priority,
    Bucket,
    /// A keyword set, regex or non-equality string test (a 0/1 slot).
    Atom(SlotSource),
    /// Every `field == "…"` test on one text field.
    Text(FieldId),
    /// A comparison of two reads, e.g. `waiting > budget`.
    Opaque(Read, CompareOp, Read),
}

/// How a numeric read is stored, for integer regions and for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumKind {
    Int,
    Real,
    Duration,
    Time,
}

/// One value of a numeric variable's domain.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Region {
    Below(f64),
    At(f64),
    Between(f64, f64),
    Above(f64),
    Any,
    Absent,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Domain {
    /// Enum values by id (bools: false, true); `absent` adds a last value.
    Enum {
        names: Vec<String>,
        absent: bool,
    },
    Numeric {
        regions: Vec<Region>,
        kind: NumKind,
        lower: Option<f64>,
    },
    /// Atoms and opaque comparisons: 0 = false, 1 = true.
    Flag,
    /// The strings compared with, then "anything else".
    Text {
        values: Vec<String>,
    },
}

impl Domain {
    fn size(&self) -> u32 {
        match self {
            Domain::Enum { names, absent } => names.len() as u32 + u32::from(*absent),
            Domain::Numeric { regions, .. } => regions.len() as u32,
            Domain::Flag => 2,
            Domain::Text { values } => values.len() as u32 + 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Var {
    pub key: Key,
    pub domain: Domain,
}

/// The ticket space of one policy with its diagram.
pub(crate) struct Space {
    pub vars: Vec<Var>,
    index: HashMap<Key, u32>,
    pub mdd: Mdd,
    /// Confidence threshold per intent label (empty without a classifier).
    pub thresholds: Vec<f64>,
    /// Comparisons with a constant already built, by (variable, operator,
    /// constant bits, constant on the left): a numeric variable has
    /// hundreds of values, and a kept space builds each one only once.
    comparisons: FastMap<(u32, CompareOp, u64, bool), Node>,
}

/// Facts gathered from every condition before the variables are laid out.
#[derive(Default)]
struct Survey {
    /// Reads in order of first use, each once.
    reads: Vec<Read>,
    constants: HashMap<Read, Vec<f64>>,
    atoms: Vec<SlotSource>,
    texts: Vec<(FieldId, Vec<String>)>,
    opaque: Vec<Key>,
    uses_bucket: Vec<f64>,
}

impl Survey {
    fn read(&mut self, read: Read) {
        if !self.reads.contains(&read) {
            self.reads.push(read);
        }
    }

    fn constant(&mut self, read: Read, value: f64) {
        self.read(read);
        if value.is_finite() {
            self.constants.entry(read).or_default().push(value);
        }
    }

    fn expr(&mut self, policy: &Policy, e: &hir::Expr) {
        match &e.kind {
            ExprKind::Const(_) => {}
            ExprKind::And(parts) | ExprKind::Or(parts) => parts.iter().for_each(|p| self.expr(policy, p)),
            ExprKind::Not(inner) => self.expr(policy, inner),
            ExprKind::OneOf { value, .. } => {
                if let Some(r) = read_of(value) {
                    self.read(r);
                }
            }
            ExprKind::Compare { lhs, op, rhs } => self.compare(policy, lhs, *op, rhs),
            ExprKind::Keywords { scope, set } => self.atom(SlotSource::Keywords { scope: *scope, set: *set }),
            ExprKind::Regex { field, regex } => self.atom(SlotSource::Regex { field: *field, regex: *regex }),
            ExprKind::StringTest { field, test: StringTest::Equals, value } => {
                match self.texts.iter_mut().find(|(f, _)| f == field) {
                    Some((_, values)) => {
                        if !values.contains(value) {
                            values.push(value.clone());
                        }
                    }
                    None => self.texts.push((*field, vec![value.clone()])),
                }
            }
            ExprKind::StringTest { field, test, value } => {
                self.atom(SlotSource::StringTest { field: *field, test: *test, value: value.clone() })
            }
        }
    }

    fn atom(&mut self, source: SlotSource) {
        if !self.atoms.contains(&source) {
            self.atoms.push(source);
        }
    }

    fn compare(&mut self, policy: &Policy, lhs: &Operand, op: CompareOp, rhs: &Operand) {
        let thresholds: Vec<f64> = policy.classifier.as_ref().map(|c| c.thresholds.clone()).unwrap_or_default();
        let is_threshold = |o: &Operand| matches!(o, Operand::Signal(Signal::Threshold));
        if is_threshold(lhs) || is_threshold(rhs) {
            self.read(Read::Signal(Signal::Intent));
            for side in [lhs, rhs] {
                if let Some(r) = read_of(side).filter(|_| !is_threshold(side)) {
                    thresholds.iter().for_each(|t| self.constant(r, *t));
                }
            }
            return;
        }
        match (read_of(lhs), read_of(rhs), lhs, rhs) {
            (Some(r), None, _, Operand::Const(c)) | (None, Some(r), Operand::Const(c), _) => self.constant(r, *c),
            (Some(a), Some(b), _, _) => {
                self.read(a);
                self.read(b);
                let key = Key::Opaque(a, op, b);
                if !self.opaque.contains(&key) {
                    self.opaque.push(key);
                }
            }
            _ => {}
        }
    }
}

/// The read behind an operand, `None` for a constant. `threshold` is a read
/// here; callers expand it first.
pub(crate) fn read_of(operand: &Operand) -> Option<Read> {
    match operand {
        Operand::Field(f) => Some(Read::Field(*f)),
        Operand::Signal(Signal::Priority) => None,
        Operand::Signal(s) => Some(Read::Signal(*s)),
        Operand::Const(_) => None,
    }
}

impl Space {
    /// Lay out the variables every condition, matrix and SLA of `policy` needs.
    pub(crate) fn new(policy: &Policy) -> Space {
        let mut survey = Survey::default();
        for r in &policy.priority_rules {
            survey.expr(policy, &r.when);
        }
        let mut rollouts = Vec::new();
        for rule in policy.escalations.iter().chain(&policy.rules) {
            survey.expr(policy, &rule.when);
            rollouts.extend(rule.outcome.rollout);
        }
        for m in &policy.matrices {
            for (dim, _) in &m.dimensions {
                if let Some(r) = read_of(dim) {
                    survey.read(r);
                }
            }
            rollouts.extend(m.rows.iter().filter_map(|r| r.outcome.rollout));
        }
        rollouts.extend(policy.otherwise.as_ref().and_then(|o| o.rollout));
        // SLAs split tickets by their `per` field even where no rule reads it.
        for sla in &policy.slas {
            if let Some(f) = sla.per {
                survey.read(Read::Field(f));
            }
        }
        survey.uses_bucket = rollouts;

        let mut vars = Vec::new();
        vars.push(Var {
            key: Key::Priority,
            domain: Domain::Enum { names: policy.priorities.iter().map(|p| p.name.clone()).collect(), absent: false },
        });
        // Text atoms first: most rules are gated on a keyword set or a
        // pattern. A coverage search that settles atoms first drops every
        // rule gated on an atom the ticket lacks at once, and projecting an
        // atom out of such a rule stops at its root. Then enums, which
        // matrices and most rules split on, then numbers.
        for atom in &survey.atoms {
            vars.push(Var { key: Key::Atom(atom.clone()), domain: Domain::Flag });
        }
        for (field, values) in &survey.texts {
            vars.push(Var { key: Key::Text(*field), domain: Domain::Text { values: values.clone() } });
        }
        let mut numeric = Vec::new();
        for read in &survey.reads {
            match read_domain(policy, *read, survey.constants.get(read).map(Vec::as_slice).unwrap_or(&[])) {
                Some(d @ Domain::Enum { .. }) => vars.push(Var { key: Key::Value(*read), domain: d }),
                Some(d) => numeric.push(Var { key: Key::Value(*read), domain: d }),
                None => {}
            }
        }
        vars.extend(numeric);
        for key in &survey.opaque {
            vars.push(Var { key: key.clone(), domain: Domain::Flag });
        }
        if !survey.uses_bucket.is_empty() {
            let regions = regions(&survey.uses_bucket, NumKind::Real, Some((0.0, true)), Some((100.0, false)));
            vars.push(Var {
                key: Key::Bucket,
                domain: Domain::Numeric { regions, kind: NumKind::Real, lower: Some(0.0) },
            });
        }
        let index = vars.iter().enumerate().map(|(i, v)| (v.key.clone(), i as u32)).collect();
        let sizes = vars.iter().map(|v| v.domain.size().max(1)).collect();
        let thresholds = policy.classifier.as_ref().map(|c| c.thresholds.clone()).unwrap_or_default();
        Space { vars, index, mdd: Mdd::new(sizes, MAX_NODES), thresholds, comparisons: FastMap::default() }
    }

    /// Whether `other` has the same variables and thresholds, so a
    /// condition means the same set in both.
    pub(crate) fn same_layout(&self, other: &Space) -> bool {
        self.vars == other.vars && self.thresholds == other.thresholds
    }

    pub(crate) fn var(&self, key: &Key) -> Option<u32> {
        self.index.get(key).copied()
    }

    pub(crate) fn has_opaque(&self) -> bool {
        self.vars.iter().any(|v| matches!(v.key, Key::Opaque(..)))
    }

    /// Per variable, whether it is a text atom.
    pub(crate) fn atom_flags(&self) -> Vec<bool> {
        (0..self.vars.len() as u32).map(|v| self.is_atom(v)).collect()
    }

    /// Whether `var` is a yes/no text atom (a keyword set, regex or
    /// non-equality string test), whose value 0 means "does not hold".
    /// String equality variables are not: their value 0 is a string.
    pub(crate) fn is_atom(&self, var: u32) -> bool {
        matches!(self.vars[var as usize].key, Key::Atom(_))
    }

    /// The number an engine would read for value `value` of `var` (NaN for absent).
    pub(crate) fn representative(&self, var: u32, value: u32) -> f64 {
        match &self.vars[var as usize].domain {
            Domain::Enum { names, .. } => {
                if (value as usize) < names.len() {
                    value as f64
                } else {
                    f64::NAN
                }
            }
            Domain::Numeric { regions, kind, .. } => {
                regions.get(value as usize).map(|r| region_point(*r, *kind)).unwrap_or(f64::NAN)
            }
            Domain::Flag | Domain::Text { .. } => value as f64,
        }
    }

    /// The tickets whose `priority` is level `level`.
    pub(crate) fn priority_is(&mut self, level: u32) -> Res<Node> {
        self.mdd.leaf(0, |v| v == level)
    }

    /// Which priority each ticket gets: the first priority rule that holds,
    /// else the default. Intersect with it before reading `priority`.
    pub(crate) fn priority_constraint(&mut self, policy: &Policy) -> Res<Node> {
        let n = policy.priorities.len().max(1);
        let default = policy.default_priority.map(|p| p.index()).unwrap_or(n - 1).min(n - 1);
        let mut remaining = TRUE;
        let mut per_level = vec![FALSE; n];
        for rule in &policy.priority_rules {
            let cond = self.cond(&rule.when)?;
            let decided = self.mdd.and(remaining, cond)?;
            let level = rule.level.index().min(n - 1);
            per_level[level] = self.mdd.or(per_level[level], decided)?;
            remaining = self.mdd.and_not(remaining, cond)?;
        }
        per_level[default] = self.mdd.or(per_level[default], remaining)?;
        let mut valid = FALSE;
        for (level, set) in per_level.into_iter().enumerate() {
            let is_level = self.priority_is(level as u32)?;
            let part = self.mdd.and(is_level, set)?;
            valid = self.mdd.or(valid, part)?;
        }
        Ok(valid)
    }

    /// The tickets for which a condition holds.
    pub(crate) fn cond(&mut self, e: &hir::Expr) -> Res<Node> {
        match &e.kind {
            ExprKind::Const(b) => Ok(if *b { TRUE } else { FALSE }),
            ExprKind::And(parts) => {
                let mut acc = TRUE;
                for p in parts {
                    let c = self.cond(p)?;
                    acc = self.mdd.and(acc, c)?;
                    if acc == FALSE {
                        break;
                    }
                }
                Ok(acc)
            }
            ExprKind::Or(parts) => {
                let mut acc = FALSE;
                for p in parts {
                    let c = self.cond(p)?;
                    acc = self.mdd.or(acc, c)?;
                    if acc == TRUE {
                        break;
                    }
                }
                Ok(acc)
            }
            ExprKind::Not(inner) => {
                let c = self.cond(inner)?;
                self.mdd.not(c)
            }
            ExprKind::OneOf { value, values, negated } => self.one_of(value, values, *negated),
            ExprKind::Compare { lhs, op, rhs } => self.compare(lhs, *op, rhs),
            ExprKind::Keywords { scope, set } => self.atom(SlotSource::Keywords { scope: *scope, set: *set }),
            ExprKind::Regex { field, regex } => self.atom(SlotSource::Regex { field: *field, regex: *regex }),
            ExprKind::StringTest { field, test: StringTest::Equals, value } => {
                let Some(var) = self.var(&Key::Text(*field)) else { return Ok(FALSE) };
                let position = match &self.vars[var as usize].domain {
                    Domain::Text { values } => values.iter().position(|v| v == value),
                    _ => None,
                };
                match position {
                    Some(p) => self.mdd.leaf(var, |v| v == p as u32),
                    None => Ok(FALSE),
                }
            }
            ExprKind::StringTest { field, test, value } => {
                self.atom(SlotSource::StringTest { field: *field, test: *test, value: value.clone() })
            }
        }
    }

    fn atom(&mut self, source: SlotSource) -> Res<Node> {
        match self.var(&Key::Atom(source)) {
            Some(var) => self.mdd.leaf(var, |v| v == 1),
            None => Ok(FALSE),
        }
    }

    /// The variable an operand reads, with `priority` as its own variable.
    fn operand_var(&self, operand: &Operand) -> Option<u32> {
        match operand {
            Operand::Signal(Signal::Priority) => self.var(&Key::Priority),
            other => read_of(other).and_then(|r| self.var(&Key::Value(r))),
        }
    }

    /// Enum (or bool) membership; `values` are ids.
    pub(crate) fn one_of(&mut self, value: &Operand, values: &[u32], negated: bool) -> Res<Node> {
        if let Operand::Const(c) = value {
            let hit = values.iter().any(|v| *v as f64 == *c);
            return Ok(if hit != negated { TRUE } else { FALSE });
        }
        let Some(var) = self.operand_var(value) else { return Ok(FALSE) };
        let hits: Vec<bool> = (0..self.mdd.size(var))
            .map(|d| {
                let x = self.representative(var, d);
                // Same as the engines: `==` against each value, then `not`.
                let any = values.iter().any(|v| compare(x, CompareOp::Eq, *v as f64));
                any != negated
            })
            .collect();
        self.mdd.leaf(var, |d| hits[d as usize])
    }

    fn compare(&mut self, lhs: &Operand, op: CompareOp, rhs: &Operand) -> Res<Node> {
        // `threshold` is the threshold of the ticket's intent: one comparison per label.
        let is_threshold = |o: &Operand| matches!(o, Operand::Signal(Signal::Threshold));
        if is_threshold(lhs) || is_threshold(rhs) {
            let Some(intent) = self.var(&Key::Value(Read::Signal(Signal::Intent))) else { return Ok(FALSE) };
            let mut acc = FALSE;
            for (label, t) in self.thresholds.clone().into_iter().enumerate() {
                let sub = |o: &Operand| if is_threshold(o) { Operand::Const(t) } else { o.clone() };
                let cmp = self.compare(&sub(lhs), op, &sub(rhs))?;
                let is_label = self.mdd.leaf(intent, |v| v == label as u32)?;
                let part = self.mdd.and(is_label, cmp)?;
                acc = self.mdd.or(acc, part)?;
            }
            return Ok(acc);
        }
        match (lhs, rhs) {
            (Operand::Const(a), Operand::Const(b)) => Ok(if compare(*a, op, *b) { TRUE } else { FALSE }),
            (other, Operand::Const(c)) => self.compare_const(other, op, *c, false),
            (Operand::Const(c), other) => self.compare_const(other, op, *c, true),
            (a, b) => {
                let (Some(ra), Some(rb)) = (read_of(a), read_of(b)) else { return Ok(FALSE) };
                match self.var(&Key::Opaque(ra, op, rb)) {
                    Some(var) => self.mdd.leaf(var, |v| v == 1),
                    None => Ok(FALSE),
                }
            }
        }
    }

    /// `operand op c`, or `c op operand` if `flipped`.
    fn compare_const(&mut self, operand: &Operand, op: CompareOp, c: f64, flipped: bool) -> Res<Node> {
        let Some(var) = self.operand_var(operand) else { return Ok(FALSE) };
        let key = (var, op, c.to_bits(), flipped);
        if let Some(node) = self.comparisons.get(&key) {
            return Ok(*node);
        }
        let hits: Vec<bool> = (0..self.mdd.size(var))
            .map(|d| {
                let value = self.representative(var, d);
                if flipped {
                    compare(c, op, value)
                } else {
                    compare(value, op, c)
                }
            })
            .collect();
        let node = self.mdd.leaf(var, |d| hits[d as usize])?;
        self.comparisons.insert(key, node);
        Ok(node)
    }

    /// A matrix row's cells as a condition (without its rollout).
    pub(crate) fn row(&mut self, matrix: &hir::Matrix, row: &hir::MatrixRow) -> Res<Node> {
        let mut acc = TRUE;
        for (cell, (dim, _)) in row.cells.iter().zip(&matrix.dimensions) {
            let Some(values) = cell else { continue };
            let c = self.one_of(dim, values, false)?;
            acc = self.mdd.and(acc, c)?;
        }
        Ok(acc)
    }

    /// The tickets inside a `rollout pct%`: bucket below `pct`.
    pub(crate) fn rollout(&mut self, pct: f64) -> Res<Node> {
        let Some(var) = self.var(&Key::Bucket) else { return Ok(TRUE) };
        let hits: Vec<bool> =
            (0..self.mdd.size(var)).map(|d| compare(self.representative(var, d), CompareOp::Lt, pct)).collect();
        self.mdd.leaf(var, |d| hits[d as usize])
    }

    /// A branch's condition including its rollout.
    pub(crate) fn branch(&mut self, cond: Node, outcome: &hir::Outcome) -> Res<Node> {
        match outcome.rollout {
            Some(pct) => {
                let inside = self.rollout(pct)?;
                self.mdd.and(cond, inside)
            }
            None => Ok(cond),
        }
    }
}

/// The domain of a read: `None` for types no condition can test (text).
fn read_domain(policy: &Policy, read: Read, constants: &[f64]) -> Option<Domain> {
    let (ty, optional) = match read {
        Read::Field(f) => (policy.field(f).ty.clone(), policy.field(f).optional),
        // The classifier's outputs are absent for a ticket that brings no
        // `signals` when no model file is loaded; the engines then read NaN.
        Read::Signal(s) => (
            policy.operand_ty(&Operand::Signal(s))?,
            matches!(s, Signal::Intent | Signal::Confidence | Signal::Threshold),
        ),
    };
    let numeric = |kind: NumKind, lower: Option<(f64, bool)>, upper: Option<(f64, bool)>| {
        let mut regions = regions(constants, kind, lower, upper);
        if optional {
            regions.push(Region::Absent);
        }
        Domain::Numeric { regions, kind, lower: lower.map(|l| l.0) }
    };
    Some(match ty {
        Ty::Enum(e) => {
            Domain::Enum { names: policy.enum_def(e).values.iter().map(|v| v.name.clone()).collect(), absent: optional }
        }
        Ty::Bool => Domain::Enum { names: vec!["false".into(), "true".into()], absent: optional },
        Ty::Int => numeric(NumKind::Int, None, None),
        Ty::Time => numeric(NumKind::Time, None, None),
        Ty::Duration => numeric(NumKind::Duration, Some((0.0, true)), None),
        Ty::Number => match read {
            Read::Signal(Signal::Confidence | Signal::Threshold) => {
                numeric(NumKind::Real, Some((0.0, true)), Some((1.0, true)))
            }
            Read::Signal(Signal::Sentiment) => numeric(NumKind::Real, Some((-1.0, true)), Some((1.0, true))),
            _ => numeric(NumKind::Real, None, None),
        },
        Ty::Text | Ty::String | Ty::Url | Ty::List(_) => return None,
    })
}

/// Cut the line (or the bounded part of it) at every constant.
fn regions(constants: &[f64], kind: NumKind, lower: Option<(f64, bool)>, upper: Option<(f64, bool)>) -> Vec<Region> {
    let mut cuts: Vec<f64> = constants
        .iter()
        .copied()
        .filter(|c| c.is_finite())
        .filter(|c| lower.is_none_or(|(lo, _)| *c >= lo) && upper.is_none_or(|(hi, _)| *c <= hi))
        .collect();
    cuts.extend(lower.map(|l| l.0));
    cuts.extend(upper.map(|u| u.0));
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let int = kind == NumKind::Int;
    let has_int_between = |a: f64, b: f64| a.floor() + 1.0 < b;
    let mut out = Vec::new();
    let Some(&first) = cuts.first() else { return vec![Region::Any] };
    if lower.is_none() {
        out.push(Region::Below(first));
    }
    for (i, &c) in cuts.iter().enumerate() {
        let excluded = lower.is_some_and(|(lo, inclusive)| c == lo && !inclusive)
            || upper.is_some_and(|(hi, inclusive)| c == hi && !inclusive);
        if !excluded && (!int || c.fract() == 0.0) {
            out.push(Region::At(c));
        }
        if let Some(&next) = cuts.get(i + 1) {
            if !int || has_int_between(c, next) {
                out.push(Region::Between(c, next));
            }
        }
    }
    if upper.is_none() {
        if let Some(&last) = cuts.last() {
            out.push(Region::Above(last));
        }
    }
    out
}

/// A number inside a region (the same for every comparison the policy makes).
pub(crate) fn region_point(region: Region, kind: NumKind) -> f64 {
    let int = kind == NumKind::Int;
    match region {
        Region::Below(a) => {
            if int {
                a.ceil() - 1.0
            } else {
                a - 1.0
            }
        }
        Region::At(c) => c,
        Region::Between(a, b) => {
            if int {
                a.floor() + 1.0
            } else {
                a + (b - a) / 2.0
            }
        }
        Region::Above(a) => {
            if int {
                a.floor() + 1.0
            } else {
                a + 1.0
            }
        }
        Region::Any => 0.0,
        Region::Absent => f64::NAN,
    }
}

/// Whether `x` lies in `region`.
pub(crate) fn region_contains(region: Region, x: f64) -> bool {
    match region {
        Region::Below(a) => x < a,
        Region::At(c) => x == c,
        Region::Between(a, b) => a < x && x < b,
        Region::Above(a) => x > a,
        Region::Any => !x.is_nan(),
        Region::Absent => x.is_nan(),
    }
}
