//! The routing flow: for every branch, in evaluation order (escalations,
//! rules, matrix rows, `otherwise`), whether it decides any ticket, which
//! earlier branches take its tickets if not, and whether some ticket gets no
//! destination at all. Shadowing, exhaustiveness, routes-nowhere, schedule
//! coverage and SLA checks all ask their questions through [`Flow`].
//!
//! A branch decides the tickets that satisfy its condition (and its
//! `rollout`), get the priority the priority rules give them, and match no
//! earlier branch that is not a `shadow` one. A `shadow` branch decides the
//! tickets it matches first for the record only: the engines go on to the
//! enforced decision, so it takes no ticket from the branches after it (its
//! own reachability is still proved, against the branches before it).
//!
//! Each question ("does `x` have a ticket no earlier branch takes?") is
//! answered over the branches' own diagrams; their union is never built.
//! Most policies gate most rules on a keyword set or pattern, and the
//! answer exploits that in three steps, cheapest first:
//!
//! 1. *probes*: a few whole tickets of `x` with every atom `x` does not test
//!    false, checked against the branches that can hold such a ticket (those
//!    not gated on such an atom, see [`Flow::relevant`]);
//! 2. the same branches, each cut down to the tickets it holds whatever
//!    those atoms are (`forall`): a coverage proof there is a proof, and a
//!    ticket they miss is completed over the atoms by [`cover::extend`];
//! 3. the full search ([`cover::uncovered`]), where branches gated on an
//!    atom `x` ignores join only where the search sets that atom true.
//!
//! A question whose search runs out of budget is answered "gave up", and
//! nothing is claimed about it: the branch gets no diagnostic, and counts as
//! possibly routing tickets for the coverage and SLA checks.
//!
//! [`cover::extend`]: super::cover::extend
//! [`cover::uncovered`]: super::cover::uncovered

use super::cover::{complete, contains, essentials, extend, prefer_absent, probe, uncovered, Answer, Signature};
use super::example::{concretize, unverified, Example};
use super::mdd::{FastMap, Node, FALSE, TRUE};
use super::space::Space;
use crate::hir::{MatrixRow, Outcome, Policy};
use crate::source::Span;
use std::collections::HashMap;
use std::sync::Arc;

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
    /// The analysis ran out of budget on this branch.
    GaveUp,
}

pub(crate) struct Branch {
    pub at: At,
    /// Its condition with its rollout.
    pub own: Node,
    /// The tickets it takes from the branches after it: `own`, or none
    /// for a `shadow` branch.
    pub cond: Node,
    /// A `shadow` branch: it decides (for the record) only the tickets no
    /// earlier branch at all matches, shadow ones included.
    shadow: bool,
    sig: Signature,
    /// Its gate, when its diagram starts by testing it (see `Flow::rooted`).
    rooted: Option<u32>,
    pub status: Status,
    /// For a shadowed branch: the earlier branches that take its tickets.
    pub culprits: Vec<At>,
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

/// What one run of the routing proofs leaves for the next run over the
/// same policy after an edit: the ticket space with its diagram (so the
/// conditions that did not change get the same nodes back, already built),
/// and the answer of every coverage search, keyed by everything the search
/// reads. A search's answer is a function of the set it covers, the
/// conditions of the branches before the point it asks about, and the sets
/// it adds (node numbering and memo tables only change how fast it comes),
/// so an answer whose key matches is the answer a fresh run would compute.
///
/// Under [`Reuse::Sound`] an answer also carries over where its key differs
/// only by the edited branches (see [`Flow::carried`]): it still holds, but
/// a fresh search might have found another witness or cover, or given up.
pub(crate) struct Memo {
    space: Space,
    /// The branch conditions of the run that left the memo, in order.
    conds: Vec<Node>,
    /// Answers by (set to cover, branches before, extra sets).
    answers: Answers,
    /// Signatures of the branch conditions.
    sigs: FastMap<Node, Signature>,
}

/// Search answers by (set to cover, branches before, extra sets).
type Answers = FastMap<(Node, usize, Vec<Node>), Known>;

/// An answer and whether a fresh search of its question gives it.
#[derive(Clone)]
struct Known {
    answer: Arc<Answer>,
    exact: bool,
}

/// Which answers of the previous run a run may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reuse {
    /// Only answers to the same question: the findings are those of a fresh run.
    Exact,
    /// Also answers that still hold after the edit: a witness ticket that
    /// the edited branches do not take, a cover by branches that did not
    /// change. Every finding is true, but a fresh run may name other
    /// branches or another example, or give up where this one did not.
    Sound,
}

/// What of a previous answer a question can use under [`Reuse::Sound`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Carry {
    /// The caller reads only whether the set is covered: a carried witness serves.
    Verdict,
    /// The caller shows the witness ticket: only a fresh search's will do.
    Witness,
}

/// Asked between searches; `true` abandons the run.
pub type Stop = Arc<dyn Fn() -> bool + Send + Sync>;

/// The previous run's conditions and answers, lined up with this run's
/// branches: the first `prefix` conditions are the same, and so are the
/// last `suffix`; the branches between them were edited.
struct Old {
    conds: Vec<Node>,
    answers: Answers,
    prefix: usize,
    suffix: usize,
}

/// Diagrams larger than this are not kept for the next run: a cached
/// diagram only grows, and the node budget must stay a property of the
/// policy, not of its edit history.
const MAX_KEPT_NODES: usize = 1_000_000;

pub(crate) struct Flow {
    pub space: Space,
    /// Answers of the previous run.
    old: Option<Old>,
    reuse: Reuse,
    /// Answers of this run, for the next.
    answers: Answers,
    /// Whether `space` came from a memo.
    pub reused: bool,
    /// Whether every answer used is the one a fresh search gives.
    pub exact: bool,
    stop: Stop,
    /// Whether `stop` said so: the answers since are not to be trusted.
    pub stopped: bool,
    /// Signatures of branch conditions, of this run and the previous one.
    sigs: FastMap<Node, Signature>,
    /// Answers of `decides`, by branch and set.
    decided: HashMap<(usize, Node), Some3>,
    /// Per variable, whether it is a yes/no text atom.
    atoms: Vec<bool>,
    /// Branches by *gate*, a text atom every ticket they match must have,
    /// and those without one; in order.
    gated: HashMap<u32, Vec<usize>>,
    ungated: Vec<usize>,
    /// Branches whose diagram starts by testing their gate, by that atom.
    rooted: HashMap<u32, Vec<usize>>,
    /// The tickets with the priority the priority rules give them.
    pub valid: Node,
    pub branches: Vec<Branch>,
    pub gap: Gap,
}

/// A yes/no/unknown answer to "does some ticket …?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Some3 {
    Yes,
    No,
    Unknown,
}

impl Flow {
    pub(crate) fn new(policy: &Policy) -> Flow {
        Flow::with_memo(policy, None, Reuse::Exact, Arc::new(|| false))
    }

    /// [`Flow::new`], reusing what an earlier run left, as `reuse` allows,
    /// when its ticket space is the one this policy needs.
    pub(crate) fn with_memo(policy: &Policy, memo: Option<Memo>, reuse: Reuse, stop: Stop) -> Flow {
        let fresh = Space::new(policy);
        let (mut space, old, reused) = match memo {
            Some(m) if m.space.same_layout(&fresh) => (m.space, Some((m.conds, m.answers, m.sigs)), true),
            _ => (fresh, None, false),
        };
        let (old, old_sigs) = match old {
            Some((conds, answers, sigs)) => (Some(Old { conds, answers, prefix: 0, suffix: 0 }), sigs),
            None => (None, FastMap::default()),
        };
        let valid = space.priority_constraint(policy).unwrap_or(FALSE);
        let atoms = space.atom_flags();
        let mut flow = Flow {
            space,
            old,
            reuse,
            answers: FastMap::default(),
            reused,
            exact: true,
            stop,
            stopped: false,
            sigs: FastMap::default(),
            decided: HashMap::new(),
            atoms,
            gated: HashMap::new(),
            ungated: Vec::new(),
            rooted: HashMap::new(),
            valid,
            branches: Vec::new(),
            gap: Gap::Unknown,
        };
        // FALSE means the diagram overflowed: every ticket gets some priority.
        let mut complete = valid != FALSE;
        let mut built = Vec::new();
        for at in branch_order(policy) {
            let own = flow.condition(policy, at);
            complete &= own.is_some();
            let shadow = outcome(policy, at).is_some_and(|o| o.shadow);
            let cond = if shadow { Some(FALSE) } else { own };
            let sig = match cond {
                Some(c) => {
                    let sig = old_sigs.get(&c).cloned().unwrap_or_else(|| Signature::of(&flow.space.mdd, c));
                    flow.sigs.insert(c, sig.clone());
                    sig
                }
                None => Signature::default(),
            };
            let i = flow.branches.len();
            match sig.gate(&flow.atoms) {
                _ if shadow => {}
                Some(a) => flow.gated.entry(a).or_default().push(i),
                None => flow.ungated.push(i),
            }
            let mut rooted = None;
            if let Some(c) = cond {
                let root = flow.space.mdd.var_of(c).filter(|v| flow.atoms[*v as usize]);
                if let Some(atom) = root.filter(|_| flow.space.mdd.kids(c)[0] == FALSE) {
                    flow.rooted.entry(atom).or_default().push(i);
                    rooted = Some(atom);
                }
            }
            flow.branches.push(Branch {
                at,
                own: own.unwrap_or(FALSE),
                cond: cond.unwrap_or(FALSE),
                shadow,
                sig,
                rooted,
                status: Status::GaveUp,
                culprits: Vec::new(),
            });
            built.push(own.is_some());
        }
        // Line the previous run's branches up with these: the statuses
        // below only read the branches before theirs, so knowing all of
        // them first changes no answer.
        if let Some(old) = &mut flow.old {
            let new: Vec<Node> = flow.branches.iter().map(|b| b.cond).collect();
            old.prefix = old.conds.iter().zip(&new).take_while(|(a, b)| a == b).count();
            let room = old.conds.len().min(new.len()) - old.prefix;
            old.suffix = old.conds.iter().rev().zip(new.iter().rev()).take(room).take_while(|(a, b)| a == b).count();
        }
        if valid != FALSE {
            for (i, built) in built.into_iter().enumerate() {
                if built {
                    flow.branches[i].status = flow.status(policy, i);
                }
            }
        }
        // A branch whose condition could not be built would leave a false gap.
        if complete {
            flow.gap = flow.gap_of(policy, TRUE, &[]);
        }
        flow
    }

    /// What this run leaves for the next one; `None` when the diagram ran
    /// out of budget (its answers then depend on the order things were
    /// built in) or grew too large to keep.
    pub(crate) fn into_memo(self) -> Option<Memo> {
        if self.space.mdd.overflowed() || self.space.mdd.node_count() > MAX_KEPT_NODES {
            return None;
        }
        let conds = self.branches.iter().map(|b| b.cond).collect();
        let mut answers = self.answers;
        // A stopped run did not ask every question again: keep the earlier
        // answers that are still answers to their questions.
        if let Some(old) = self.old.filter(|_| self.stopped) {
            for (key, known) in old.answers {
                if key.1 <= old.prefix {
                    answers.entry(key).or_insert(known);
                }
            }
        }
        Some(Memo { space: self.space, conds, answers, sigs: self.sigs })
    }

    fn condition(&mut self, policy: &Policy, at: At) -> Option<Node> {
        let own = match at {
            At::Escalation(i) => self.space.cond(&policy.escalations[i].when),
            At::Rule(i) => self.space.cond(&policy.rules[i].when),
            At::Row(m, r) => self.space.row(&policy.matrices[m], &policy.matrices[m].rows[r]),
            At::Otherwise => Ok(TRUE),
        }
        .ok()?;
        match outcome(policy, at) {
            Some(o) => self.space.branch(own, o).ok(),
            None => Some(own),
        }
    }

    fn status(&mut self, policy: &Policy, i: usize) -> Status {
        let Ok(x) = self.space.mdd.and(self.valid, self.branches[i].own) else { return Status::GaveUp };
        if x == FALSE {
            return Status::Never;
        }
        let earlier_shadows = self.earlier_shadows(i);
        match &*self.search(policy, x, i, &earlier_shadows, Carry::Verdict) {
            Answer::Uncovered(_) => Status::Reachable,
            Answer::Unverified(_) => Status::Unknown,
            Answer::GaveUp => Status::GaveUp,
            Answer::Covered(culprits) => {
                self.branches[i].culprits =
                    culprits.iter().filter_map(|j| self.branches.get(*j).map(|b| b.at)).collect();
                Status::Shadowed
            }
        }
    }

    /// For a `shadow` branch, the conditions of the shadow branches before
    /// it: they take its tickets too (the engines record only the first
    /// match), though they take none from other branches. Empty otherwise.
    fn earlier_shadows(&self, i: usize) -> Vec<Node> {
        if !self.branches[i].shadow {
            return Vec::new();
        }
        self.branches[..i].iter().filter(|b| b.shadow && b.own != FALSE).map(|b| b.own).collect()
    }

    /// The conditions of the branches before `before` that may meet `x`, and `extra`.
    fn sets(&self, x: Node, before: usize, extra: &[Node]) -> Vec<(Node, usize)> {
        let sig = Signature::of(&self.space.mdd, x);
        let mut sets: Vec<(Node, usize)> = self.branches[..before]
            .iter()
            .enumerate()
            .filter(|(_, b)| b.sig.may_meet(&sig))
            .map(|(j, b)| (b.cond, j))
            .collect();
        sets.extend(extra.iter().map(|n| (*n, usize::MAX)));
        sets
    }

    /// The sets among `sets(x, before, extra)` that can hold a ticket of `x`
    /// whose atoms outside `support` are all false: every branch gated on
    /// such an atom drops out.
    fn relevant(&self, x: Node, before: usize, extra: &[Node], support: &[bool]) -> Vec<(Node, usize)> {
        let sig = Signature::of(&self.space.mdd, x);
        let mut picked: Vec<usize> = self.ungated.iter().copied().take_while(|j| *j < before).collect();
        for (atom, list) in &self.gated {
            if support[*atom as usize] {
                picked.extend(list.iter().copied().take_while(|j| *j < before));
            }
        }
        picked.sort_unstable();
        let mut sets: Vec<(Node, usize)> = picked
            .into_iter()
            .filter(|j| self.branches[*j].sig.may_meet(&sig))
            .map(|j| (self.branches[j].cond, j))
            .collect();
        sets.extend(extra.iter().map(|n| (*n, usize::MAX)));
        sets
    }

    /// Search `x` against the branches before `before` (and `extra` sets),
    /// accepting only tickets whose numbers can be made concrete; the
    /// previous run's answer when it asked the same question.
    fn search(&mut self, policy: &Policy, x: Node, before: usize, extra: &[Node], carry: Carry) -> Arc<Answer> {
        if self.stopped || (self.stop)() {
            self.stopped = true;
            return Arc::new(Answer::GaveUp);
        }
        let key = (x, before, extra.to_vec());
        let known = match &self.old {
            Some(old) if before <= old.prefix => {
                old.answers.get(&key).filter(|k| k.exact || self.reuse == Reuse::Sound).cloned()
            }
            Some(_) if self.reuse == Reuse::Sound => self.carried(x, before, extra, carry),
            _ => None,
        };
        let known = match known {
            Some(known) => known,
            None => Known { answer: Arc::new(self.search_uncached(policy, x, before, extra)), exact: true },
        };
        self.exact &= known.exact;
        let answer = known.answer.clone();
        self.answers.insert(key, known);
        answer
    }

    /// The previous run's answer to this question where it asked it about
    /// the same branch after the edited ones, if it still holds: a witness
    /// that no edited branch takes is still a witness (it escaped every
    /// other branch before), and a cover by branches that were not edited
    /// is still a cover. Either may differ from what a fresh search finds.
    fn carried(&mut self, x: Node, before: usize, extra: &[Node], carry: Carry) -> Option<Known> {
        let old = self.old.as_ref()?;
        let (n, m, prefix, suffix) = (self.branches.len(), old.conds.len(), old.prefix, old.suffix);
        if before < n - suffix {
            return None;
        }
        let known = old.answers.get(&(x, before + m - n, extra.to_vec()))?.clone();
        let edited = prefix..n - suffix;
        let answer = match &*known.answer {
            Answer::Uncovered(_) if carry == Carry::Witness => return None,
            Answer::Uncovered(path) => {
                let mdd = &self.space.mdd;
                let ticket = complete(mdd, path);
                let escapes =
                    contains(mdd, x, &ticket) && self.branches[edited].iter().all(|b| !contains(mdd, b.cond, &ticket));
                escapes.then(|| known.answer.clone())?
            }
            Answer::Covered(culprits) => {
                if culprits.iter().any(|j| (prefix..m - suffix).contains(j)) {
                    // The cover used an edited branch. Most shadowed rules
                    // are shadowed by one broad rule: look for one first.
                    let j = self.single_cover(x, before)?;
                    return Some(Known { answer: Arc::new(Answer::Covered(vec![j])), exact: false });
                }
                // Still a cover; a fresh search might name an edited branch too.
                // Extra sets (`usize::MAX`) are the same ones: they are in the key.
                let now = culprits.iter().map(|&j| if j < prefix || j == usize::MAX { j } else { j + n - m });
                Arc::new(Answer::Covered(now.collect()))
            }
            Answer::Unverified(_) | Answer::GaveUp => return None,
        };
        Some(Known { answer, exact: false })
    }

    /// The first branch before `before` that alone holds every ticket of
    /// `x`, trying only those whose signature allows it.
    fn single_cover(&mut self, x: Node, before: usize) -> Option<usize> {
        let sig = Signature::of(&self.space.mdd, x);
        for j in 0..before {
            let branch = &self.branches[j];
            if branch.cond == FALSE || !branch.sig.may_contain(&sig) {
                continue;
            }
            let cond = branch.cond;
            if self.space.mdd.and_not(x, cond).ok()? == FALSE {
                return Some(j);
            }
        }
        None
    }

    fn search_uncached(&mut self, policy: &Policy, x: Node, before: usize, extra: &[Node]) -> Answer {
        let support = self.space.mdd.support(x);
        let near = self.relevant(x, before, extra, &support);
        {
            let space = &self.space;
            let exact = !space.has_opaque();
            let mut accept =
                |path: &[(u32, u32)]| (exact || concretize(space, policy, path).is_some()).then(|| path.to_vec());
            if let Some(found) = probe(&space.mdd, x, &near, &self.atoms, &mut accept) {
                return Answer::Uncovered(found);
            }
        }
        // Cut every set down to the tickets it holds whatever the text atoms
        // `x` does not test: rules gated on a keyword `x` ignores drop out,
        // and so do rules that need a keyword to be absent. A proof of
        // coverage by the cut sets is a proof; a ticket the cut sets miss is
        // a candidate, kept if it (with those atoms false) misses the real sets.
        let drop: Vec<bool> = support.iter().enumerate().map(|(v, s)| !s && self.atoms[v]).collect();
        let nodes: Vec<Node> = near.iter().map(|(n, _)| *n).collect();
        let gated_map = &self.gated;
        let rooted_map = &self.rooted;
        let branches = &self.branches;
        if let Ok(cut) = self.space.mdd.forall_many(&nodes, &drop) {
            let narrow: Vec<(Node, usize)> =
                cut.into_iter().zip(&near).filter(|(n, _)| *n != FALSE).map(|(n, (_, j))| (n, *j)).collect();
            let space = &self.space;
            let exact = !space.has_opaque();
            let gated = |atom: u32| -> Vec<Node> {
                gated_map
                    .get(&atom)
                    .map(|l| l.iter().take_while(|j| **j < before).map(|j| branches[*j].cond).collect())
                    .unwrap_or_default()
            };
            let mut accept = |path: &[(u32, u32)]| {
                let mut values = complete(&space.mdd, path);
                // With every dropped atom false only the near sets can hold it.
                if near.iter().any(|(n, _)| contains(&space.mdd, *n, &values)) {
                    extend(&space.mdd, &near, &gated, &mut values, &drop)?;
                }
                let whole: Vec<(u32, u32)> = values.iter().enumerate().map(|(v, x)| (v as u32, *x)).collect();
                (exact || concretize(space, policy, &whole).is_some()).then_some(whole)
            };
            match uncovered(&space.mdd, x, &narrow, &|_| Vec::new(), &mut accept) {
                answer @ (Answer::Covered(_) | Answer::Uncovered(_)) => return answer,
                Answer::Unverified(_) | Answer::GaveUp => {}
            }
        }
        // The full search. Branches that start by requiring an atom `x`
        // ignores join only where the search sets that atom true.
        let space = &self.space;
        let late = |j: usize| branches[j].rooted.is_some_and(|r| drop[r as usize]);
        let sets: Vec<(Node, usize)> =
            self.sets(x, before, extra).into_iter().filter(|(_, j)| *j == usize::MAX || !late(*j)).collect();
        let activate = |atom: u32| -> Vec<(Node, usize)> {
            if !drop[atom as usize] {
                return Vec::new();
            }
            rooted_map
                .get(&atom)
                .map(|l| {
                    l.iter().take_while(|j| **j < before).map(|j| (space.mdd.kids(branches[*j].cond)[1], *j)).collect()
                })
                .unwrap_or_default()
        };
        let exact = !space.has_opaque();
        let mut accept =
            |path: &[(u32, u32)]| (exact || concretize(space, policy, path).is_some()).then(|| path.to_vec());
        uncovered(&space.mdd, x, &sets, &activate, &mut accept)
    }

    /// Does branch `i` decide some ticket of `within`?
    pub(crate) fn decides(&mut self, policy: &Policy, i: usize, within: Node) -> Some3 {
        if let Some(known) = self.decided.get(&(i, within)) {
            return *known;
        }
        let answer = self.decides_uncached(policy, i, within);
        self.decided.insert((i, within), answer);
        answer
    }

    fn decides_uncached(&mut self, policy: &Policy, i: usize, within: Node) -> Some3 {
        let Ok(own) = self.space.mdd.and(self.valid, self.branches[i].own) else { return Some3::Unknown };
        let Ok(x) = self.space.mdd.and(own, within) else { return Some3::Unknown };
        if x == FALSE {
            return Some3::No;
        }
        let earlier_shadows = self.earlier_shadows(i);
        match &*self.search(policy, x, i, &earlier_shadows, Carry::Verdict) {
            Answer::Uncovered(_) => Some3::Yes,
            Answer::Covered(_) => Some3::No,
            Answer::Unverified(_) | Answer::GaveUp => Some3::Unknown,
        }
    }

    /// Tickets of `within` that no branch decides, other than those in `excluded`.
    pub(crate) fn gap_of(&mut self, policy: &Policy, within: Node, excluded: &[Node]) -> Gap {
        let Ok(x) = self.space.mdd.and(self.valid, within) else { return Gap::Unknown };
        if x == FALSE {
            return Gap::None;
        }
        // Describe the witness by the values it needs, not the whole ticket.
        let short = |flow: &Flow, path: &[(u32, u32)]| {
            let mut values = complete(&flow.space.mdd, path);
            let sets = flow.sets(x, flow.branches.len(), excluded);
            prefer_absent(&flow.space.mdd, x, &sets, &mut values, &flow.atoms);
            essentials(&flow.space.mdd, x, &sets, &values).unwrap_or_else(|| path.to_vec())
        };
        let before = self.branches.len();
        match &*self.search(policy, x, before, excluded, Carry::Witness) {
            Answer::Covered(_) => Gap::None,
            Answer::GaveUp => Gap::Unknown,
            Answer::Uncovered(path) => {
                let path = short(self, path);
                match concretize(&self.space, policy, &path) {
                    Some(e) => Gap::Exact(e),
                    None => Gap::Maybe(unverified(&self.space, policy, &path)),
                }
            }
            Answer::Unverified(path) => Gap::Maybe(unverified(&self.space, policy, &short(self, path))),
        }
    }

    /// Destinations that tickets with final priority `priority` and in
    /// `within` can be routed to (fallbacks aside), each with the first
    /// branch that sends them there. A branch's `priority` clause overrides
    /// the computed priority. Branches that may decide such tickets, or
    /// that the analysis gave up on, count.
    pub(crate) fn routed(&mut self, policy: &Policy, priority: u32, within: Node) -> Vec<(usize, At)> {
        let destination = |at: At| outcome(policy, at).map(|o| o.destination.index());
        // A destination already listed needs no search for the branches after it.
        let first = self
            .deciding(policy, priority, within, |found, at| found.iter().any(|f| destination(*f) == destination(at)));
        first.into_iter().filter_map(|at| Some((destination(at)?, at))).collect()
    }

    /// Every branch that may decide tickets with final priority `priority`
    /// in `within` (as in [`Flow::routed`], but each branch, not the first
    /// per destination).
    pub(crate) fn deciders(&mut self, policy: &Policy, priority: u32, within: Node) -> Vec<At> {
        self.deciding(policy, priority, within, |_, _| false)
    }

    /// The branches, in order, that may decide tickets with final priority
    /// `priority` in `within`, leaving out unsearched those `skip` (given
    /// the branches found so far) says are not wanted.
    fn deciding(&mut self, policy: &Policy, priority: u32, within: Node, skip: impl Fn(&[At], At) -> bool) -> Vec<At> {
        let Ok(is_priority) = self.space.priority_is(priority) else { return Vec::new() };
        let Ok(computed) = self.space.mdd.and(is_priority, within) else { return Vec::new() };
        let mut out: Vec<At> = Vec::new();
        for i in 0..self.branches.len() {
            let (at, status) = (self.branches[i].at, self.branches[i].status);
            if !matches!(status, Status::Reachable | Status::Unknown | Status::GaveUp) {
                continue;
            }
            let Some(outcome) = outcome(policy, at) else { continue };
            if skip(&out, at) {
                continue;
            }
            let hit = match outcome.priority {
                Some(set) if set.0 != priority => Some3::No,
                Some(_) => self.decides(policy, i, within),
                None => self.decides(policy, i, computed),
            };
            if hit != Some3::No {
                out.push(at);
            }
        }
        out
    }

    /// Whether branch `at` may decide some ticket: reachable, or not proved unreachable.
    pub(crate) fn live(&self, at: At) -> bool {
        self.position(at)
            .is_some_and(|i| matches!(self.branches[i].status, Status::Reachable | Status::Unknown | Status::GaveUp))
    }

    /// The index of a branch in `branches`.
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

/// How a branch is named in messages: "rule `x`", "escalation `x`", "matrix row 3", "`otherwise`".
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
