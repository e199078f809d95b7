//! Is a set of tickets covered by a list of other sets? The question every
//! routing proof asks ("does an earlier branch take every ticket this one
//! matches?", "does every ticket get a destination?"), answered without
//! building the union of the list: unions of hundreds of conditions over
//! independent keyword atoms are exactly the sets decision diagrams are bad
//! at, while each condition alone is small.
//!
//! The tools, which [`super::flow`] combines cheapest first:
//! - [`probe`]: a few whole tickets checked against every set by walking
//!   its diagram;
//! - [`uncovered`]: a search that descends through the diagrams together,
//!   one variable at a time (always the lowest one any of them tests, so
//!   each step is a child lookup), drops the sets that cannot hold the
//!   remaining tickets, stops as covered where one set is `TRUE` and with a
//!   witness where none is left. Values leading to the same children are
//!   tried once, the value leaving the fewest sets first, and a value whose
//!   case is implied by one already covered is skipped;
//! - [`extend`]: complete a ticket over the atoms a question ignores;
//! - [`essentials`]: the variables a witness really needs, for messages.
//!
//! Searches are capped by a work budget (sets visited); past it the answer
//! is "gave up".

use super::mdd::{FastHasher, FastMap, FastSet, Mdd, Node, FALSE, TRUE};
use std::hash::Hasher;

/// Sets visited by one search before it gives up.
pub(crate) const BUDGET: usize = 50_000;
/// Candidate tickets `accept` may refuse before a search gives up.
const MAX_REFUSED: usize = 4;
/// Sets visited by one `extend` before it gives up.
const EXTEND_BUDGET: usize = 20_000;

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
    /// The work budget ran out.
    GaveUp,
}

/// A cheap summary of a set, for skipping sets that obviously cannot meet:
/// for each small-domain variable every ticket of the set constrains, the
/// values it can take.
#[derive(Clone, Debug, Default)]
pub(crate) struct Signature(Vec<(u32, u64)>);

impl Signature {
    pub(crate) fn of(mdd: &Mdd, node: Node) -> Signature {
        let mut must: FastMap<Node, Vec<u32>> = FastMap::default();
        let required = required_vars(mdd, node, &mut must);
        let mut masks: Vec<(u32, u64)> = required.iter().filter(|v| mdd.size(**v) <= 64).map(|v| (*v, 0u64)).collect();
        let mut seen = FastSet::default();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            let Some(var) = mdd.var_of(n) else { continue };
            if !seen.insert(n) {
                continue;
            }
            let kids = mdd.kids(n);
            if let Ok(at) = masks.binary_search_by_key(&var, |(v, _)| *v) {
                for (value, &k) in kids.iter().enumerate() {
                    if k != FALSE {
                        masks[at].1 |= 1 << value;
                    }
                }
            }
            stack.extend(kids.iter().copied().filter(|&k| k != FALSE));
        }
        Signature(masks)
    }

    /// A text atom every ticket of the set must have true (its "gate"), if any.
    pub(crate) fn gate(&self, atoms: &[bool]) -> Option<u32> {
        self.0.iter().find(|(v, mask)| atoms[*v as usize] && *mask == 0b10).map(|(v, _)| *v)
    }

    /// False only if some ticket of the set `inner` is outside this one:
    /// this set limits a variable to values `inner` is not limited to.
    pub(crate) fn may_contain(&self, inner: &Signature) -> bool {
        self.0.iter().all(|(v, mask)| match inner.0.binary_search_by_key(v, |(w, _)| *w) {
            Ok(i) => inner.0[i].1 & !mask == 0,
            Err(_) => false,
        })
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
fn required_vars(mdd: &Mdd, node: Node, memo: &mut FastMap<Node, Vec<u32>>) -> Vec<u32> {
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

/// Whether the whole ticket `values` is in `node`.
pub(crate) fn contains(mdd: &Mdd, mut node: Node, values: &[u32]) -> bool {
    while let Some(var) = mdd.var_of(node) {
        node = mdd.kids(node)[values[var as usize] as usize];
    }
    node == TRUE
}

/// Try a few whole tickets of `x` against `sets`: one in none of them that
/// `accept` takes, or `None`. Variables the path leaves open are set to
/// their first, last or middle value (atoms, flagged in `atoms`, to false):
/// conditions tend to test one end of a range, so one of the three usually
/// escapes them.
pub(crate) fn probe(
    mdd: &Mdd,
    x: Node,
    sets: &[(Node, usize)],
    atoms: &[bool],
    accept: Accept<'_>,
) -> Option<Vec<(u32, u32)>> {
    if x == FALSE {
        return None;
    }
    let paths = probes(mdd, x);
    for variant in 0..3u32 {
        for path in &paths {
            let mut values = vec![0u32; mdd.var_count()];
            for (var, v) in values.iter_mut().enumerate() {
                let size = mdd.size(var as u32);
                if !atoms[var] {
                    *v = match variant {
                        0 => 0,
                        1 => size - 1,
                        _ => size / 2,
                    };
                }
            }
            for &(var, value) in path {
                values[var as usize] = value;
            }
            if sets.iter().any(|(n, _)| contains(mdd, *n, &values)) {
                continue;
            }
            let whole: Vec<(u32, u32)> = values.iter().enumerate().map(|(v, x)| (v as u32, *x)).collect();
            if let Some(taken) = accept(&whole) {
                return Some(taken);
            }
        }
    }
    None
}

/// A path through the diagrams: (variable, value) pairs.
pub(crate) type Path = Vec<(u32, u32)>;

/// Decides whether a candidate ticket counts (and may complete it): see [`uncovered`].
pub(crate) type Accept<'a> = &'a mut dyn FnMut(&[(u32, u32)]) -> Option<Path>;

/// Sets that join a search when it sets a variable to 1: see [`uncovered`].
pub(crate) type Activate<'a> = &'a dyn Fn(u32) -> Vec<(Node, usize)>;

/// Find a ticket of `x` that is in none of `sets` and that `accept` takes,
/// by search. `sets` are (node, index) pairs; indices come back in `Covered`.
/// `activate(var)` gives sets left out of `sets` because they hold no ticket
/// unless the text atom `var` is true, as the children they lead to when it
/// is: the search adds them where it sets `var` true. Leaving them out is
/// exact as long as `x` does not test `var`: with it false they hold
/// nothing, and with it true they only add coverage.
pub(crate) fn uncovered(
    mdd: &Mdd,
    x: Node,
    sets: &[(Node, usize)],
    activate: Activate<'_>,
    accept: Accept<'_>,
) -> Answer {
    if x == FALSE {
        return Answer::Covered(Vec::new());
    }
    let list: Vec<(Node, usize)> = sets.iter().copied().filter(|(n, _)| *n != FALSE).collect();
    if let Some(j) = list.iter().filter(|(n, _)| *n == TRUE).map(|(_, j)| *j).min() {
        return Answer::Covered(vec![j]);
    }
    let mut search = Search {
        mdd,
        work: 0,
        culprits: Vec::new(),
        activate,
        accept,
        refused: None,
        n_refused: 0,
        at: FastMap::default(),
        seen: FastSet::default(),
    };
    let mut path = Vec::new();
    let list = merge(&mut FastMap::default(), list.into_iter().map(|(node, j)| Entry { node, j, count: 1 }));
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

/// Sets of a search that are the same node, merged: many conditions share
/// what is left of them once the search has fixed a few variables (all the
/// rules gated on different keywords, once those are settled), and the
/// search only ever asks which node a set is at and which index is the
/// smallest among those at `TRUE`. `count` keeps how many sets an entry
/// stands for, so the work budget and the "fewest sets first" order count
/// what they counted before merging. Extra sets (index `usize::MAX`) are
/// never merged: see [`Search::same_case`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    node: Node,
    /// The smallest index of the sets merged into this entry.
    j: usize,
    count: usize,
}

const EXTRA: usize = usize::MAX;

/// Lists shorter than this are not merged.
const SHORT: usize = 32;

/// Merge entries at the same node, keeping each at its first place. `at`
/// is scratch space.
fn merge(at: &mut FastMap<Node, usize>, entries: impl Iterator<Item = Entry>) -> Vec<Entry> {
    let entries: Vec<Entry> = entries.collect();
    // Merging is only ever an economy (unmerged entries at the same node
    // mean the same); on short lists it costs more than it saves.
    if entries.len() < SHORT {
        return entries;
    }
    at.clear();
    let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
    for e in entries {
        if e.j == EXTRA {
            out.push(e);
            continue;
        }
        match at.get(&e.node) {
            Some(&k) => {
                out[k].j = out[k].j.min(e.j);
                out[k].count += e.count;
            }
            None => {
                at.insert(e.node, out.len());
                out.push(e);
            }
        }
    }
    out
}

fn total(list: &[Entry]) -> usize {
    list.iter().map(|e| e.count).sum()
}

/// Paths of `x` to try as probes.
fn probes(mdd: &Mdd, x: Node) -> Vec<Vec<(u32, u32)>> {
    let mut out: Vec<Vec<(u32, u32)>> = mdd.shortest_path(x).into_iter().collect();
    for p in mdd.paths(x, 2) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// A whole ticket from a path: every other variable at value 0, which for
/// atoms means "the keyword set does not match", the value conditions test
/// least.
pub(crate) fn complete(mdd: &Mdd, path: &[(u32, u32)]) -> Vec<u32> {
    let mut values = vec![0u32; mdd.var_count()];
    for &(var, value) in path {
        values[var as usize] = value;
    }
    values
}

/// Turn a ticket that is in some of `near` into one that is in no set by
/// choosing new values for the variables `free` allows (text atoms the
/// question ignores), keeping every other value: a search over the free
/// variables only. Sets gated on a free atom hold no ticket while it is
/// false, so they join (through `gated`) only when the search sets it true.
/// `None` if no choice works (or the search is too long).
pub(crate) fn extend(
    mdd: &Mdd,
    near: &[(Node, usize)],
    gated: &dyn Fn(u32) -> Vec<Node>,
    values: &mut [u32],
    free: &[bool],
) -> Option<()> {
    let list: Vec<Node> = near.iter().map(|(n, _)| *n).filter(|n| reachable_with(mdd, *n, values, free)).collect();
    let mut work = 0;
    extend_rec(mdd, list, gated, values, free, &mut work).then_some(())
}

/// Whether some choice of the `free` variables puts the ticket `values` in `node`.
fn reachable_with(mdd: &Mdd, node: Node, values: &[u32], free: &[bool]) -> bool {
    match mdd.var_of(node) {
        None => node == TRUE,
        Some(var) if free[var as usize] => mdd.kids(node).iter().any(|k| reachable_with(mdd, *k, values, free)),
        Some(var) => reachable_with(mdd, mdd.kids(node)[values[var as usize] as usize], values, free),
    }
}

/// Follow `node` through the variables before `var`, by the ticket's values.
fn walk_to(mdd: &Mdd, mut node: Node, var: u32, values: &[u32]) -> Node {
    while let Some(v) = mdd.var_of(node) {
        if v >= var {
            break;
        }
        node = mdd.kids(node)[values[v as usize] as usize];
    }
    node
}

fn extend_rec(
    mdd: &Mdd,
    list: Vec<Node>,
    gated: &dyn Fn(u32) -> Vec<Node>,
    values: &mut [u32],
    free: &[bool],
    work: &mut usize,
) -> bool {
    *work += list.len() + 1;
    if *work > EXTEND_BUDGET || list.contains(&TRUE) {
        return false;
    }
    let list: Vec<Node> = list.into_iter().filter(|n| *n != FALSE).collect();
    // The next variable to settle: the lowest one a live set tests, or a
    // free atom that is still false (setting it true may be needed to escape).
    let Some(var) = list.iter().filter_map(|n| mdd.var_of(*n)).min() else { return true };
    let current = values[var as usize];
    let choices: Vec<u32> = if free[var as usize] {
        std::iter::once(current).chain((0..mdd.size(var)).filter(|v| *v != current)).collect()
    } else {
        vec![current]
    };
    for value in choices {
        values[var as usize] = value;
        // Sets gated on a free atom come alive when it turns true.
        let joining = if free[var as usize] && value == 1 { gated(var) } else { Vec::new() };
        let mut rest: Vec<Node> = Vec::with_capacity(list.len() + joining.len());
        rest.extend(list.iter().map(|&n| if mdd.var_of(n) == Some(var) { mdd.kids(n)[value as usize] } else { n }));
        rest.extend(joining.into_iter().map(|n| walk_to(mdd, n, var + 1, values)));
        if extend_rec(mdd, rest, gated, values, free, work) {
            return true;
        }
    }
    values[var as usize] = current;
    false
}

/// Turn atoms of a witness off where it stays a witness, so examples read
/// "a ticket with …" rather than "… that also mentions kw7".
pub(crate) fn prefer_absent(mdd: &Mdd, x: Node, sets: &[(Node, usize)], values: &mut [u32], atoms: &[bool]) {
    let witness = |values: &[u32]| contains(mdd, x, values) && sets.iter().all(|(n, _)| !contains(mdd, *n, values));
    for var in 0..values.len() {
        if atoms[var] && values[var] != 0 {
            values[var] = 0;
            if !witness(values) {
                values[var] = 1;
            }
        }
    }
}

/// The variables a witness needs: follow the whole ticket `values` through
/// `x` and the sets together, one variable at a time as the search would,
/// and keep the variables tested on the way. Every ticket that agrees on
/// those is in `x` and in no set, so they describe the witness exactly.
/// `None` if `values` is not a witness.
pub(crate) fn essentials(mdd: &Mdd, x: Node, sets: &[(Node, usize)], values: &[u32]) -> Option<Vec<(u32, u32)>> {
    let mut list: Vec<Node> = sets.iter().map(|(n, _)| *n).collect();
    let mut x = x;
    let mut path = Vec::new();
    loop {
        list.retain(|n| *n != FALSE);
        if x == FALSE || list.contains(&TRUE) {
            return None;
        }
        let Some(var) = list.iter().filter_map(|n| mdd.var_of(*n)).chain(mdd.var_of(x)).min() else { break };
        let value = values[var as usize];
        path.push((var, value));
        let step = |n: Node| if mdd.var_of(n) == Some(var) { mdd.kids(n)[value as usize] } else { n };
        x = step(x);
        for n in list.iter_mut() {
            *n = step(*n);
        }
    }
    (x == TRUE).then_some(path)
}

/// Whether two cases of one step leave the same search: the same part of
/// `x` and every set at the same child, as the unmerged lists of sets
/// (index, child) would be equal. Merged entries stand for sets with
/// distinct indices that share their child, so comparing them entry by
/// entry is comparing those lists, and only the entries that test the
/// variable can differ; the extra sets, which all have the same index, are
/// compared as the sequence of children that remain.
fn same_case(list: &[Entry], testing: &[usize], a: &Case, b: &Case) -> bool {
    a.x == b.x
        && a.joining == b.joining
        && a.extras == b.extras
        && testing.iter().zip(a.kids.iter().zip(&b.kids)).all(|(&k, (ka, kb))| list[k].j == EXTRA || ka == kb)
}

/// A hash of what `same_case` compares: equal cases hash alike.
fn case_hash(list: &[Entry], testing: &[usize], case: &Case) -> u64 {
    let mut h = FastHasher::default();
    h.write_u32(case.x);
    for (&k, kid) in testing.iter().zip(&case.kids) {
        if list[k].j != EXTRA {
            h.write_u32(*kid);
        }
    }
    h.write_u32(u32::MAX);
    case.extras.iter().for_each(|n| h.write_u32(*n));
    h.write_u32(u32::MAX);
    for (n, j) in &case.joining {
        h.write_u32(*n);
        h.write_usize(*j);
    }
    h.finish()
}

fn cofactor(mdd: &Mdd, n: Node, var: u32, value: u32) -> Node {
    if mdd.var_of(n) == Some(var) {
        mdd.kids(n)[value as usize]
    } else {
        n
    }
}

struct Search<'a> {
    mdd: &'a Mdd,
    work: usize,
    culprits: Vec<usize>,
    activate: Activate<'a>,
    accept: Accept<'a>,
    refused: Option<Vec<(u32, u32)>>,
    n_refused: usize,
    /// Scratch space for `merge` and for telling cases apart.
    at: FastMap<Node, usize>,
    seen: FastSet<u64>,
}

enum Step {
    Covered,
    Found(Vec<(u32, u32)>),
    GaveUp,
}

/// One value of the variable a search step splits on: what is left of `x`,
/// the children of the entries that test the variable (`FALSE` included,
/// aligned with the step's `testing`), the remaining extra sets, and the
/// sets that join.
struct Case {
    value: u32,
    x: Node,
    kids: Vec<Node>,
    extras: Vec<Node>,
    joining: Vec<(Node, usize)>,
}

impl Search<'_> {
    fn go(&mut self, x: Node, list: Vec<Entry>, path: &mut Vec<(u32, u32)>) -> Step {
        self.work += total(&list) + 1;
        if self.work > BUDGET {
            return Step::GaveUp;
        }
        if x == FALSE {
            return Step::Covered;
        }
        if let Some(j) = list.iter().filter(|e| e.node == TRUE).map(|e| e.j).min() {
            self.culprits.push(j);
            return Step::Covered;
        }
        if list.is_empty() {
            return self.leaf(x, path);
        }
        // Split on the lowest variable tested anywhere: each child is a lookup.
        let var = list.iter().filter_map(|e| self.mdd.var_of(e.node)).chain(self.mdd.var_of(x)).min();
        let Some(var) = var else { return self.leaf(x, path) };
        let size = self.mdd.size(var);
        // Only the entries that test `var` differ between its values; the
        // others keep their node (and, not being FALSE, stay).
        let testing: Vec<usize> = (0..list.len()).filter(|&k| self.mdd.var_of(list[k].node) == Some(var)).collect();
        let has_extras = list.iter().any(|e| e.j == EXTRA);
        // Values leading to the same children are one case (see `same_case`).
        let mut cases: Vec<(usize, Case)> = Vec::new();
        let mut seen = std::mem::take(&mut self.seen);
        seen.clear();
        // The previous value, when it had a case: numeric domains are long
        // and neighbouring values mostly lead to the same children, which
        // is cheaper to see directly than through the hash.
        let mut previous: Option<u32> = None;
        for value in 0..size {
            let xv = self.cofactor(x, var, value);
            if xv == FALSE {
                previous = None;
                continue;
            }
            if let Some(p) = previous.filter(|p| !has_extras && value != 1 && *p != 1) {
                let same = self.cofactor(x, var, p) == xv
                    && testing.iter().all(|&k| {
                        let kids = self.mdd.kids(list[k].node);
                        kids[p as usize] == kids[value as usize]
                    });
                if same {
                    continue;
                }
            }
            previous = Some(value);
            let joining: Vec<(Node, usize)> = if value == 1 { (self.activate)(var) } else { Vec::new() };
            let joining: Vec<(Node, usize)> = joining.into_iter().filter(|(n, _)| *n != FALSE).collect();
            let kids: Vec<Node> = testing.iter().map(|&k| self.mdd.kids(list[k].node)[value as usize]).collect();
            let extras: Vec<Node> = if has_extras {
                list.iter()
                    .filter(|e| e.j == EXTRA)
                    .map(|e| self.cofactor(e.node, var, value))
                    .filter(|n| *n != FALSE)
                    .collect()
            } else {
                Vec::new()
            };
            let case = Case { value, x: xv, kids, extras, joining };
            let fingerprint = case_hash(&list, &testing, &case);
            if !seen.insert(fingerprint) && cases.iter().any(|(_, c)| same_case(&list, &testing, c, &case)) {
                continue;
            }
            let dropped: usize =
                testing.iter().zip(&case.kids).filter(|(_, kid)| **kid == FALSE).map(|(&k, _)| list[k].count).sum();
            let left = total(&list) - dropped + case.joining.len();
            cases.push((left, case));
        }
        self.seen = seen;
        // Fewest sets left first: the likeliest place for an uncovered ticket.
        cases.sort_by_key(|(left, case)| (*left, case.value));
        let mut covered: Vec<u32> = Vec::new();
        for (_, case) in cases {
            let (value, xv) = (case.value, case.x);
            // Covered for value `a` implies covered for `b` when the tickets
            // left are the same and no set holds fewer of them under `b`,
            // e.g. a keyword atom the set to cover ignores: the sets gated
            // on it only grow when it is true. Entries that do not test
            // `var` are the same under both.
            let dominated = covered.iter().any(|&a| {
                self.cofactor(x, var, a) == xv
                    && testing.iter().all(|&k| {
                        let kids = self.mdd.kids(list[k].node);
                        let (na, nb) = (kids[a as usize], kids[value as usize]);
                        na == FALSE || na == nb || nb == TRUE
                    })
            });
            if dominated {
                continue;
            }
            let mdd = self.mdd;
            let rest = list
                .iter()
                .map(|e| Entry { node: cofactor(mdd, e.node, var, value), ..*e })
                .filter(|e| e.node != FALSE)
                .chain(case.joining.iter().map(|(node, j)| Entry { node: *node, j: *j, count: 1 }));
            let mut at = std::mem::take(&mut self.at);
            let rest = merge(&mut at, rest);
            self.at = at;
            path.push((var, value));
            let step = self.go(xv, rest, path);
            path.pop();
            match step {
                Step::Covered => covered.push(value),
                other => return other,
            }
        }
        Step::Covered
    }

    fn cofactor(&self, n: Node, var: u32, value: u32) -> Node {
        cofactor(self.mdd, n, var, value)
    }

    /// No set left: every ticket of `x` (under `path`) is uncovered.
    fn leaf(&mut self, x: Node, path: &mut [(u32, u32)]) -> Step {
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
            let mut full = path.to_vec();
            full.extend(rest);
            if let Some(taken) = (self.accept)(&full) {
                return Step::Found(taken);
            }
            self.refused.get_or_insert(full);
            self.n_refused += 1;
            if self.n_refused > MAX_REFUSED {
                return Step::GaveUp;
            }
        }
        Step::Covered
    }
}
