//! Is a set of tickets covered by a list of other sets? The question every
//! routing proof asks ("does an earlier branch take every ticket this one
//! matches?", "does every ticket get a destination?"), answered without
//! building the union of the list: unions of hundreds of conditions over
//! independent keyword atoms are exactly the sets decision diagrams are bad
//! at, while each condition alone is small.
//!
//! The search descends through the diagrams together, one variable at a
//! time (always the lowest variable any of them tests, so every step is a
//! child lookup), drops the sets that cannot contain the remaining tickets,
//! stops as covered where one set is `TRUE`, and stops with a witness where
//! no set is left. Values that lead to the same children are tried once,
//! and the value that leaves the fewest sets is tried first, so uncovered
//! tickets are usually found on the first path.
//!
//! Work is capped by a step budget: past it the answer is "gave up".

use super::mdd::{Mdd, Node, FALSE, TRUE};
use std::collections::HashMap;

/// Search steps allowed for one question.
pub(crate) const BUDGET: usize = 200_000;

/// The answer to one coverage question.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Answer {
    /// Every ticket is in some set; the indices of sets that cover part of it
    /// (for each covered region, the earliest set that contains it).
    Covered(Vec<usize>),
    /// This ticket (a path: variable, value) is in none of the sets.
    Uncovered(Vec<(u32, u32)>),
    /// Uncovered tickets exist, but `accept` refused every one tried.
    Unverified(Vec<(u32, u32)>),
    /// The step budget ran out.
    GaveUp,
}

/// A cheap summary of a set, for skipping sets that obviously cannot meet:
/// for each small-domain variable every ticket of the set constrains, the
/// values it can take.
#[derive(Clone, Debug, Default)]
pub(crate) struct Signature(Vec<(u32, u64)>);

impl Signature {
    pub(crate) fn of(mdd: &Mdd, node: Node) -> Signature {
        let mut must: HashMap<Node, Vec<u32>> = HashMap::new();
        let required = required_vars(mdd, node, &mut must);
        let mut masks: Vec<(u32, u64)> = required.iter().filter(|v| mdd.size(**v) <= 64).map(|v| (*v, 0u64)).collect();
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            let Some(var) = mdd.var_of(n) else { continue };
            if !seen.insert(n) {
                continue;
            }
            let kids = mdd.kids(n);
            if let Some((_, mask)) = masks.iter_mut().find(|(v, _)| *v == var) {
                for (value, &k) in kids.iter().enumerate() {
                    if k != FALSE {
                        *mask |= 1 << value;
                    }
                }
            }
            stack.extend(kids.iter().copied().filter(|&k| k != FALSE));
        }
        Signature(masks)
    }

    /// False only if no ticket can be in both sets.
    pub(crate) fn may_meet(&self, other: &Signature) -> bool {
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.0.len() {
            let ((va, ma), (vb, mb)) = (self.0[i], other.0[j]);
            match va.cmp(&vb) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    if ma & mb == 0 {
                        return false;
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        true
    }
}

/// The variables every path from `node` to TRUE tests, sorted.
fn required_vars(mdd: &Mdd, node: Node, memo: &mut HashMap<Node, Vec<u32>>) -> Vec<u32> {
    let Some(var) = mdd.var_of(node) else { return Vec::new() };
    if let Some(r) = memo.get(&node) {
        return r.clone();
    }
    let mut common: Option<Vec<u32>> = None;
    for &k in mdd.kids(node) {
        if k == FALSE {
            continue;
        }
        let below = required_vars(mdd, k, memo);
        common = Some(match common {
            None => below,
            Some(c) => c.into_iter().filter(|v| below.contains(v)).collect(),
        });
    }
    let mut out = common.unwrap_or_default();
    out.push(var);
    out.sort_unstable();
    memo.insert(node, out.clone());
    out
}

struct Search<'a> {
    mdd: &'a Mdd,
    steps: usize,
    culprits: Vec<usize>,
    accept: &'a mut dyn FnMut(&[(u32, u32)]) -> bool,
    refused: Option<Vec<(u32, u32)>>,
}

enum Step {
    Covered,
    Found(Vec<(u32, u32)>),
    GaveUp,
}

/// Find a ticket of `x` that is in none of `sets` and that `accept` takes.
/// `sets` are (node, index) pairs; indices come back in `Covered`.
pub(crate) fn uncovered(mdd: &Mdd, x: Node, sets: &[(Node, usize)], accept: &mut dyn FnMut(&[(u32, u32)]) -> bool) -> Answer {
    let mut search = Search { mdd, steps: 0, culprits: Vec::new(), accept, refused: None };
    let mut path = Vec::new();
    let list: Vec<(Node, usize)> = sets.iter().copied().filter(|(n, _)| *n != FALSE).collect();
    match search.go(x, list, &mut path) {
        Step::Found(p) => Answer::Uncovered(p),
        Step::GaveUp => Answer::GaveUp,
        Step::Covered => match search.refused {
            Some(p) => Answer::Unverified(p),
            None => {
                let mut c = search.culprits;
                c.sort_unstable();
                c.dedup();
                Answer::Covered(c)
            }
        },
    }
}

impl Search<'_> {
    fn go(&mut self, x: Node, list: Vec<(Node, usize)>, path: &mut Vec<(u32, u32)>) -> Step {
        self.steps += 1;
        if self.steps > BUDGET {
            return Step::GaveUp;
        }
        if x == FALSE {
            return Step::Covered;
        }
        if let Some(&(_, j)) = list.iter().filter(|(n, _)| *n == TRUE).min_by_key(|(_, j)| *j) {
            self.culprits.push(j);
            return Step::Covered;
        }
        if list.is_empty() {
            return self.leaf(x, path);
        }
        // Split on the lowest variable tested anywhere: each child is a lookup.
        let var = list.iter().filter_map(|(n, _)| self.mdd.var_of(*n)).chain(self.mdd.var_of(x)).min();
        let Some(var) = var else { return self.leaf(x, path) };
        let size = self.mdd.size(var);
        // Group values by the children they lead to.
        let mut groups: Vec<(u32, Node, Vec<(Node, usize)>)> = Vec::new();
        let mut keys: HashMap<Vec<Node>, usize> = HashMap::new();
        for value in 0..size {
            let xv = self.cofactor(x, var, value);
            if xv == FALSE {
                continue;
            }
            let rest: Vec<(Node, usize)> =
                list.iter().map(|&(n, j)| (self.cofactor(n, var, value), j)).filter(|(n, _)| *n != FALSE).collect();
            let mut key: Vec<Node> = Vec::with_capacity(rest.len() * 2 + 1);
            key.push(xv);
            for (n, j) in &rest {
                key.push(*n);
                key.push(*j as Node);
            }
            if keys.contains_key(&key) {
                continue;
            }
            keys.insert(key, groups.len());
            groups.push((value, xv, rest));
        }
        // Fewest sets left first: the likeliest place for an uncovered ticket.
        groups.sort_by_key(|(value, _, rest)| (rest.len(), *value));
        for (value, xv, rest) in groups {
            path.push((var, value));
            let step = self.go(xv, rest, path);
            path.pop();
            match step {
                Step::Covered => {}
                other => return other,
            }
        }
        Step::Covered
    }

    fn cofactor(&self, n: Node, var: u32, value: u32) -> Node {
        if self.mdd.var_of(n) == Some(var) {
            self.mdd.kids(n)[value as usize]
        } else {
            n
        }
    }

    /// No set left: every ticket of `x` (under `path`) is uncovered.
    fn leaf(&mut self, x: Node, path: &mut Vec<(u32, u32)>) -> Step {
        let mut candidates = Vec::new();
        if let Some(rest) = self.mdd.shortest_path(x) {
            candidates.push(rest);
        }
        for rest in self.mdd.paths(x, 8) {
            if !candidates.contains(&rest) {
                candidates.push(rest);
            }
        }
        for rest in candidates {
            let mut full = path.clone();
            full.extend(rest);
            if (self.accept)(&full) {
                return Step::Found(full);
            }
            self.refused.get_or_insert(full);
        }
        Step::Covered
    }
}
