//! Multi-valued decision diagrams: the set representation every routing
//! proof uses. A node tests one variable of the ticket space
//! ([`super::space`]) and has one child per value of its domain; nodes are
//! hash-consed and reduced (a node whose children are all equal is that
//! child), so for a fixed variable order each set has exactly one node and
//! "is this set empty?" is `node == FALSE`.
//!
//! The module knows nothing about tickets or policies: variables are levels
//! `0..n` with a domain size each, level order is variable order.
//!
//! Work is capped: building stops with [`Overflow`] once the diagram holds
//! `max_nodes` nodes, so a pathological policy makes the analyses give up
//! (and say so) instead of eating the machine.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A fast hasher for node ids and small keys: the memo tables are hit
/// millions of times and hold no attacker-controlled keys.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = mix(self.0, *b as u64);
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.0 = mix(self.0, n as u64);
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = mix(self.0, n as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = mix(self.0, n);
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = mix(self.0, n as u64);
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
pub(crate) type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

/// A node id. `FALSE` and `TRUE` are the terminals.
pub(crate) type Node = u32;
pub(crate) const FALSE: Node = 0;
pub(crate) const TRUE: Node = 1;

/// The level terminals sit at: below every variable.
const TERMINAL: u32 = u32::MAX;

/// The diagram reached its node budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Overflow;

pub(crate) type Res<T> = Result<T, Overflow>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Op {
    And,
    Or,
    AndNot,
}

/// Memo tables larger than this are dropped and rebuilt on demand: they only
/// speed things up, and unbounded they would hold a copy of every operation.
const MAX_MEMO: usize = 1 << 21;
/// Distinct `drop` sets whose `forall_many` results are kept.
const MAX_FORALL_MEMOS: usize = 64;

pub(crate) struct Mdd {
    sizes: Vec<u32>,
    var: Vec<u32>,
    first_kid: Vec<u32>,
    next_in_bucket: Vec<u32>,
    kids: Vec<Node>,
    buckets: FastMap<u64, Node>,
    ops: FastMap<(Op, Node, Node), Node>,
    tests: FastMap<(bool, Node, Node), bool>,
    /// `forall_many` results by the variables dropped: the searches of one
    /// policy drop the same few sets of atoms over and over.
    foralls: Vec<(Vec<bool>, FastMap<Node, Node>)>,
    max_nodes: usize,
    /// Set once `mk` refused a node for the budget.
    overflowed: bool,
}

const NO_NEXT: u32 = u32::MAX;

fn mix(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

impl Mdd {
    /// A diagram over variables with the given domain sizes (each ≥ 1).
    pub(crate) fn new(sizes: Vec<u32>, max_nodes: usize) -> Mdd {
        Mdd {
            sizes,
            var: vec![TERMINAL, TERMINAL],
            first_kid: vec![0, 0],
            next_in_bucket: vec![NO_NEXT, NO_NEXT],
            kids: Vec::new(),
            buckets: FastMap::default(),
            ops: FastMap::default(),
            tests: FastMap::default(),
            foralls: Vec::new(),
            max_nodes,
            overflowed: false,
        }
    }

    /// Whether some operation ran out of the node budget.
    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Nodes built so far, terminals included.
    pub(crate) fn node_count(&self) -> usize {
        self.var.len()
    }

    pub(crate) fn var_count(&self) -> usize {
        self.sizes.len()
    }

    pub(crate) fn size(&self, var: u32) -> u32 {
        self.sizes[var as usize]
    }

    /// The variable `node` tests, `None` for a terminal.
    pub(crate) fn var_of(&self, node: Node) -> Option<u32> {
        let v = self.var[node as usize];
        (v != TERMINAL).then_some(v)
    }

    fn level(&self, node: Node) -> u32 {
        self.var[node as usize]
    }

    fn kid(&self, node: Node, value: u32) -> Node {
        self.kids[(self.first_kid[node as usize] + value) as usize]
    }

    /// The children of a non-terminal node, one per value of its variable.
    pub(crate) fn kids(&self, node: Node) -> &[Node] {
        self.kids_of(node)
    }

    fn kids_of(&self, node: Node) -> &[Node] {
        let start = self.first_kid[node as usize] as usize;
        &self.kids[start..start + self.sizes[self.var[node as usize] as usize] as usize]
    }

    /// The child `node` leads to when `var` has `value` (itself if it does not test `var`).
    fn cofactor(&self, node: Node, var: u32, value: u32) -> Node {
        if self.level(node) == var {
            self.kid(node, value)
        } else {
            node
        }
    }

    /// The unique node testing `var` with these children.
    pub(crate) fn mk(&mut self, var: u32, kids: &[Node]) -> Res<Node> {
        debug_assert_eq!(kids.len(), self.sizes[var as usize] as usize);
        let first = kids[0];
        if kids.iter().all(|&k| k == first) {
            return Ok(first);
        }
        let mut hash = mix(0, var as u64);
        for &k in kids {
            hash = mix(hash, k as u64);
        }
        let mut at = self.buckets.get(&hash).copied().unwrap_or(NO_NEXT);
        while at != NO_NEXT {
            if self.var[at as usize] == var && self.kids_of(at) == kids {
                return Ok(at);
            }
            at = self.next_in_bucket[at as usize];
        }
        if self.var.len() >= self.max_nodes {
            self.overflowed = true;
            return Err(Overflow);
        }
        let id = self.var.len() as Node;
        self.var.push(var);
        self.first_kid.push(self.kids.len() as u32);
        self.kids.extend_from_slice(kids);
        self.next_in_bucket.push(self.buckets.get(&hash).copied().unwrap_or(NO_NEXT));
        self.buckets.insert(hash, id);
        Ok(id)
    }

    /// The set of tickets whose `var` has a value for which `allowed` holds.
    pub(crate) fn leaf(&mut self, var: u32, allowed: impl Fn(u32) -> bool) -> Res<Node> {
        let kids: Vec<Node> = (0..self.size(var)).map(|v| if allowed(v) { TRUE } else { FALSE }).collect();
        self.mk(var, &kids)
    }

    pub(crate) fn and(&mut self, a: Node, b: Node) -> Res<Node> {
        self.apply(Op::And, a, b)
    }

    pub(crate) fn or(&mut self, a: Node, b: Node) -> Res<Node> {
        self.apply(Op::Or, a, b)
    }

    /// `a` without `b`.
    pub(crate) fn and_not(&mut self, a: Node, b: Node) -> Res<Node> {
        self.apply(Op::AndNot, a, b)
    }

    pub(crate) fn not(&mut self, a: Node) -> Res<Node> {
        self.apply(Op::AndNot, TRUE, a)
    }

    fn apply(&mut self, op: Op, a: Node, b: Node) -> Res<Node> {
        match op {
            Op::And => {
                if a == FALSE || b == FALSE {
                    return Ok(FALSE);
                }
                if a == TRUE || a == b {
                    return Ok(b);
                }
                if b == TRUE {
                    return Ok(a);
                }
            }
            Op::Or => {
                if a == TRUE || b == TRUE {
                    return Ok(TRUE);
                }
                if a == FALSE || a == b {
                    return Ok(b);
                }
                if b == FALSE {
                    return Ok(a);
                }
            }
            Op::AndNot => {
                if a == FALSE || b == TRUE || a == b {
                    return Ok(FALSE);
                }
                if b == FALSE {
                    return Ok(a);
                }
            }
        }
        // And and Or commute: one memo entry serves both argument orders.
        let key = if op != Op::AndNot && a > b { (op, b, a) } else { (op, a, b) };
        if let Some(&r) = self.ops.get(&key) {
            return Ok(r);
        }
        let var = self.level(a).min(self.level(b));
        let n = self.size(var);
        let mut out = Vec::with_capacity(n as usize);
        for v in 0..n {
            let (ca, cb) = (self.cofactor(a, var, v), self.cofactor(b, var, v));
            out.push(self.apply(op, ca, cb)?);
        }
        let r = self.mk(var, &out)?;
        if self.ops.len() > MAX_MEMO {
            self.ops.clear();
        }
        self.ops.insert(key, r);
        Ok(r)
    }

    /// Whether `a` and `b` share a ticket. Builds nothing.
    pub(crate) fn intersects(&mut self, a: Node, b: Node) -> bool {
        // Reduced diagrams: every non-FALSE node has a path to TRUE.
        if a == FALSE || b == FALSE {
            return false;
        }
        if a == TRUE || b == TRUE || a == b {
            return true;
        }
        let key = (false, a.min(b), a.max(b));
        if let Some(&r) = self.tests.get(&key) {
            return r;
        }
        let var = self.level(a).min(self.level(b));
        let r = (0..self.size(var)).any(|v| {
            let (ca, cb) = (self.cofactor(a, var, v), self.cofactor(b, var, v));
            self.intersects(ca, cb)
        });
        if self.tests.len() > MAX_MEMO {
            self.tests.clear();
        }
        self.tests.insert(key, r);
        r
    }

    /// Universally project out the variables for which `drop` is true: the
    /// tickets that are in each set whatever values those variables take.
    /// Results are memoised per `drop` across calls.
    pub(crate) fn forall_many(&mut self, nodes: &[Node], drop: &[bool]) -> Res<Vec<Node>> {
        let at = match self.foralls.iter().position(|(d, _)| d == drop) {
            Some(at) => at,
            None => {
                if self.foralls.len() >= MAX_FORALL_MEMOS {
                    self.foralls.clear();
                }
                self.foralls.push((drop.to_vec(), FastMap::default()));
                self.foralls.len() - 1
            }
        };
        let mut memo = std::mem::take(&mut self.foralls[at].1);
        let out = nodes.iter().map(|&n| self.forall_rec(n, drop, &mut memo)).collect();
        if memo.len() > MAX_MEMO {
            memo.clear();
        }
        self.foralls[at].1 = memo;
        out
    }

    fn forall_rec(&mut self, node: Node, drop: &[bool], memo: &mut FastMap<Node, Node>) -> Res<Node> {
        let level = self.level(node);
        if level == TERMINAL {
            return Ok(node);
        }
        if let Some(&r) = memo.get(&node) {
            return Ok(r);
        }
        let kids: Vec<Node> = self.kids_of(node).to_vec();
        // A dropped variable with a FALSE child: no ticket is in the set for every value.
        if drop[level as usize] && kids.contains(&FALSE) {
            memo.insert(node, FALSE);
            return Ok(FALSE);
        }
        let r = if drop[level as usize] {
            let mut acc = TRUE;
            for k in kids {
                let part = self.forall_rec(k, drop, memo)?;
                acc = self.and(acc, part)?;
                if acc == FALSE {
                    break;
                }
            }
            acc
        } else {
            let mut out = Vec::with_capacity(kids.len());
            for k in kids {
                out.push(self.forall_rec(k, drop, memo)?);
            }
            self.mk(level, &out)?
        };
        memo.insert(node, r);
        Ok(r)
    }

    /// The variables `node` tests, as flags by variable.
    pub(crate) fn support(&self, node: Node) -> Vec<bool> {
        let mut out = vec![false; self.sizes.len()];
        let mut seen = FastSet::default();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            let level = self.level(n);
            if level == TERMINAL || !seen.insert(n) {
                continue;
            }
            out[level as usize] = true;
            stack.extend_from_slice(self.kids_of(n));
        }
        out
    }

    /// A path to TRUE testing as few variables as possible: the simplest
    /// ticket of the set, as (variable, value) pairs. `None` for FALSE.
    pub(crate) fn shortest_path(&self, node: Node) -> Option<Vec<(u32, u32)>> {
        let mut dist: FastMap<Node, u32> = FastMap::default();
        let d = self.distance(node, &mut dist);
        if d == u32::MAX {
            return None;
        }
        let mut path = Vec::new();
        let mut at = node;
        while at != TRUE {
            let var = self.level(at);
            let (value, next) = self
                .kids_of(at)
                .iter()
                .enumerate()
                .map(|(v, &k)| (v as u32, k))
                .min_by_key(|&(_, k)| dist.get(&k).copied().unwrap_or(if k == TRUE { 0 } else { u32::MAX }))?;
            path.push((var, value));
            at = next;
        }
        Some(path)
    }

    fn distance(&self, node: Node, dist: &mut FastMap<Node, u32>) -> u32 {
        if node == TRUE {
            return 0;
        }
        if node == FALSE {
            return u32::MAX;
        }
        if let Some(&d) = dist.get(&node) {
            return d;
        }
        let kids: Vec<Node> = self.kids_of(node).to_vec();
        let best = kids.iter().map(|&k| self.distance(k, dist)).min().unwrap_or(u32::MAX);
        let d = best.saturating_add(1);
        dist.insert(node, d);
        d
    }

    /// Up to `limit` distinct paths to TRUE, depth first.
    pub(crate) fn paths(&self, node: Node, limit: usize) -> Vec<Vec<(u32, u32)>> {
        let mut out = Vec::new();
        let mut prefix = Vec::new();
        self.paths_rec(node, limit, &mut prefix, &mut out);
        out
    }

    fn paths_rec(&self, node: Node, limit: usize, prefix: &mut Vec<(u32, u32)>, out: &mut Vec<Vec<(u32, u32)>>) {
        if out.len() >= limit || node == FALSE {
            return;
        }
        if node == TRUE {
            out.push(prefix.clone());
            return;
        }
        let var = self.level(node);
        for (v, &k) in self.kids_of(node).iter().enumerate() {
            if k == FALSE {
                continue;
            }
            prefix.push((var, v as u32));
            self.paths_rec(k, limit, prefix, out);
            prefix.pop();
            if out.len() >= limit {
                return;
            }
        }
    }
}
