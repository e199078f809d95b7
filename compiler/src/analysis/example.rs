//! Example tickets: turn a path through a set of tickets into concrete
//! values, render them for messages ("`customer.tier == free`,
//! `intent == billing`"), and write them as a signal block so tests can run
//! them through the engines.
//!
//! A path fixes some variables of the [`Space`] and leaves the rest free.
//! When it fixes an opaque comparison (`waiting > budget`), numbers must be
//! found that make it come out as the path says; [`concretize`] searches a
//! small grid of candidates around the policy's constants and gives up
//! (returns `None`) when the search space is too large or nothing fits.

use super::space::{region_contains, Domain, Key, NumKind, Read, Region, Space};
use crate::hir::{Policy, Signal, StringTest, TextScope};
use crate::ir::{compare, Program, SlotSource};
use std::collections::HashMap;

/// Candidate combinations the opaque-comparison search may try.
const MAX_SEARCH: usize = 200_000;

/// One concrete ticket of the space.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// The value of every slot the space knows, as the runtime would fill it.
    pub slots: Vec<(SlotSource, f64)>,
    /// The constraints that make the ticket what it is, in policy syntax.
    pub described: Vec<String>,
    /// Constraints with no syntax of their own (where its id falls in a rollout).
    pub notes: Vec<String>,
    /// The value of every variable of the analysis' ticket space.
    pub(crate) values: Vec<u32>,
}

impl Example {
    /// The example as a signal block for `program`; slots the example does
    /// not mention are 0 (any value does).
    pub fn signal_block(&self, program: &Program) -> Vec<f64> {
        let by_source: HashMap<&SlotSource, f64> = self.slots.iter().map(|(s, v)| (s, *v)).collect();
        program.slots.iter().map(|s| by_source.get(s).copied().unwrap_or(0.0)).collect()
    }

    /// "`a == b`, `not c`" for messages.
    pub fn summary(&self) -> String {
        if self.described.is_empty() && self.notes.is_empty() {
            return "any ticket".into();
        }
        let parts: Vec<String> =
            self.described.iter().map(|d| format!("`{d}`")).chain(self.notes.iter().cloned()).collect();
        parts.join(", ")
    }
}

/// A full assignment: a domain value per variable plus the number chosen
/// for each numeric variable.
struct Assignment {
    values: Vec<u32>,
    numbers: Vec<Option<f64>>,
}

/// Make a path concrete. `None` when opaque comparisons on the path cannot be
/// satisfied by any candidate numbers (which does not prove they cannot be).
pub(crate) fn concretize(space: &Space, policy: &Policy, path: &[(u32, u32)]) -> Option<Example> {
    let mut values = vec![0u32; space.vars.len()];
    let mut fixed = vec![false; space.vars.len()];
    for &(var, value) in path {
        values[var as usize] = value;
        fixed[var as usize] = true;
    }
    let mut numbers: Vec<Option<f64>> = (0..space.vars.len())
        .map(|v| match &space.vars[v].domain {
            Domain::Numeric { .. } => Some(space.representative(v as u32, values[v])),
            _ => None,
        })
        .collect();
    let wanted: Vec<(Read, crate::syntax::ast::CompareOp, Read, bool)> = path
        .iter()
        .filter_map(|&(var, value)| match &space.vars[var as usize].key {
            Key::Opaque(a, op, b) => Some((*a, *op, *b, value == 1)),
            _ => None,
        })
        .collect();
    if !wanted.is_empty() {
        let found = search(space, &values, &fixed, &wanted)?;
        for (var, x) in found {
            numbers[var as usize] = Some(x);
            if let Domain::Numeric { regions, .. } = &space.vars[var as usize].domain {
                if let Some(r) = regions.iter().position(|r| region_contains(*r, x)) {
                    values[var as usize] = r as u32;
                }
            }
        }
    }
    let assignment = Assignment { values, numbers };
    Some(example(space, policy, path, &assignment))
}

/// A ticket for a path whose opaque comparisons could not be verified:
/// representatives everywhere, and the whole path described.
pub(crate) fn unverified(space: &Space, policy: &Policy, path: &[(u32, u32)]) -> Example {
    let mut values = vec![0u32; space.vars.len()];
    for &(var, value) in path {
        values[var as usize] = value;
    }
    let numbers = (0..space.vars.len()).map(|v| Some(space.representative(v as u32, values[v]))).collect();
    let assignment = Assignment { values, numbers };
    example(space, policy, path, &assignment)
}

/// Find numbers for the reads of opaque comparisons so each comes out as wanted.
fn search(
    space: &Space,
    values: &[u32],
    fixed: &[bool],
    wanted: &[(Read, crate::syntax::ast::CompareOp, Read, bool)],
) -> Option<Vec<(u32, f64)>> {
    let mut involved: Vec<u32> = Vec::new();
    for (a, _, b, _) in wanted {
        for r in [a, b] {
            let var = space.var(&Key::Value(*r))?;
            if !involved.contains(&var) {
                involved.push(var);
            }
        }
    }
    // Candidates: every cut point of the involved reads, and enough points
    // between and beyond them to order all involved reads either way.
    let spread = involved.len() + 1;
    let mut cuts: Vec<f64> = Vec::new();
    for &var in &involved {
        if let Domain::Numeric { regions, .. } = &space.vars[var as usize].domain {
            for r in regions {
                match r {
                    Region::Below(a) | Region::At(a) | Region::Above(a) => cuts.push(*a),
                    Region::Between(a, b) => cuts.extend([*a, *b]),
                    Region::Any | Region::Absent => {}
                }
            }
        }
    }
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    if cuts.is_empty() {
        cuts.push(0.0);
    }
    let mut pool = cuts.clone();
    for w in cuts.windows(2) {
        for k in 1..=spread {
            pool.push(w[0] + (w[1] - w[0]) * k as f64 / (spread + 1) as f64);
        }
        pool.extend((1..=spread).map(|k| w[0].floor() + k as f64).filter(|x| *x < w[1]));
    }
    let (lo, hi) = (cuts[0], cuts[cuts.len() - 1]);
    for k in 1..=spread {
        pool.push(lo - k as f64);
        pool.push(hi + k as f64);
    }
    pool.push(f64::NAN);
    pool.sort_by(f64::total_cmp);
    pool.dedup_by(|a, b| a == b || (a.is_nan() && b.is_nan()));

    let candidates: Vec<Vec<f64>> = involved
        .iter()
        .map(|&var| {
            let Domain::Numeric { regions, kind, .. } = &space.vars[var as usize].domain else { return Vec::new() };
            let allowed: Vec<Region> =
                if fixed[var as usize] { vec![regions[values[var as usize] as usize]] } else { regions.clone() };
            pool.iter()
                .copied()
                .filter(|x| *kind != NumKind::Int || x.is_nan() || x.fract() == 0.0)
                .filter(|x| allowed.iter().any(|r| region_contains(*r, *x)))
                .collect()
        })
        .collect();
    let combos = candidates.iter().try_fold(1usize, |acc, c| acc.checked_mul(c.len().max(1)));
    if combos.is_none_or(|n| n > MAX_SEARCH) || candidates.iter().any(Vec::is_empty) {
        return None;
    }
    let position = |r: &Read| space.var(&Key::Value(*r)).and_then(|v| involved.iter().position(|x| *x == v));
    let checks: Vec<(usize, crate::syntax::ast::CompareOp, usize, bool)> =
        wanted.iter().filter_map(|(a, op, b, want)| Some((position(a)?, *op, position(b)?, *want))).collect();
    let mut choice = vec![0usize; involved.len()];
    loop {
        let ok = checks
            .iter()
            .all(|&(a, op, b, want)| compare(candidates[a][choice[a]], op, candidates[b][choice[b]]) == want);
        if ok {
            return Some(involved.iter().enumerate().map(|(i, &var)| (var, candidates[i][choice[i]])).collect());
        }
        // Odometer step over the candidate lists.
        let mut i = 0;
        loop {
            if i == choice.len() {
                return None;
            }
            choice[i] += 1;
            if choice[i] < candidates[i].len() {
                break;
            }
            choice[i] = 0;
            i += 1;
        }
    }
}

/// Every slot the space knows, filled from the assignment.
fn slots(space: &Space, policy: &Policy, a: &Assignment) -> Vec<(SlotSource, f64)> {
    let mut out = Vec::new();
    for (i, var) in space.vars.iter().enumerate() {
        let value = a.values[i];
        let number = a.numbers[i].unwrap_or_else(|| space.representative(i as u32, value));
        match &var.key {
            Key::Value(Read::Field(f)) => out.push((SlotSource::Field(*f), number)),
            Key::Value(Read::Signal(s)) => out.push((SlotSource::Signal(*s), number)),
            Key::Bucket => out.push((SlotSource::Bucket, number)),
            Key::Atom(source) => out.push((source.clone(), value as f64)),
            Key::Text(field) => {
                if let Domain::Text { values } = &var.domain {
                    for (k, v) in values.iter().enumerate() {
                        let source =
                            SlotSource::StringTest { field: *field, test: StringTest::Equals, value: v.clone() };
                        out.push((source, if k as u32 == value { 1.0 } else { 0.0 }));
                    }
                }
            }
            Key::Priority | Key::Opaque(..) => {}
        }
    }
    // The runtime fills `threshold` with the threshold of the ticket's intent.
    if let Some(c) = &policy.classifier {
        let intent =
            space.var(&Key::Value(Read::Signal(Signal::Intent))).map(|v| a.values[v as usize] as usize).unwrap_or(0);
        // No intent (the extra "absent" value past the labels) means no threshold either.
        let t = if intent >= c.thresholds.len() {
            f64::NAN
        } else {
            c.thresholds.get(intent).copied().unwrap_or(c.default_threshold)
        };
        out.push((SlotSource::Signal(Signal::Threshold), t));
    }
    out
}

/// Atoms that must not match listed one by one; more are summarised.
const LISTED_ABSENT: usize = 3;

fn example(space: &Space, policy: &Policy, path: &[(u32, u32)], a: &Assignment) -> Example {
    let mut path: Vec<(u32, u32)> = path.to_vec();
    path.sort_unstable();
    let mut values_part = Vec::new();
    let mut present = Vec::new();
    let mut absent = Vec::new();
    let mut notes = Vec::new();
    for &(var, _) in &path {
        let value = a.values[var as usize];
        match &space.vars[var as usize].key {
            // The priority follows from the other values; a ticket does not carry it.
            Key::Priority => {}
            Key::Bucket => notes.extend(describe_bucket(space, var, value)),
            Key::Value(read) if space.representative(var, value).is_nan() => {
                notes.push(format!("no `{}`", read_name(policy, *read)));
            }
            Key::Atom(_) if value == 0 => absent.push(describe_var(space, policy, var, value, None)),
            Key::Atom(_) => present.push(describe_var(space, policy, var, value, None)),
            _ => values_part.push(describe_var(space, policy, var, value, a.numbers[var as usize])),
        }
    }
    // A witness that avoids dozens of keyword rules lists what it needs
    // first and sums up the keyword sets it must not match.
    let mut described = values_part;
    described.extend(present);
    if absent.len() <= LISTED_ABSENT {
        described.extend(absent);
    } else {
        notes.push(format!("none of {} other keyword sets or patterns matching", absent.len()));
    }
    Example { slots: slots(space, policy, a), described, notes, values: a.values.clone() }
}

/// "outside the 90% rollout" for the bucket region a ticket's id falls in.
fn describe_bucket(space: &Space, var: u32, value: u32) -> Option<String> {
    let Domain::Numeric { regions, .. } = &space.vars[var as usize].domain else { return None };
    let (low, high) = match regions.get(value as usize)? {
        Region::At(c) => (
            *c,
            regions.iter().find_map(|r| match r {
                Region::Between(a, b) if a == c => Some(*b),
                _ => None,
            })?,
        ),
        Region::Between(a, b) => (*a, *b),
        _ => return None,
    };
    Some(match (low > 0.0, high < 100.0) {
        (false, _) => format!("an id inside the {high}% rollout"),
        (true, false) => format!("an id outside the {low}% rollout"),
        (true, true) => format!("an id outside the {low}% rollout but inside the {high}% one"),
    })
}

fn describe_var(space: &Space, policy: &Policy, var: u32, value: u32, number: Option<f64>) -> String {
    let v = &space.vars[var as usize];
    match (&v.key, &v.domain) {
        (Key::Priority, Domain::Enum { names, .. }) => {
            format!("priority == {}", names.get(value as usize).map_or("?", |s| s))
        }
        (Key::Value(read), Domain::Enum { names, .. }) => {
            let name = read_name(policy, *read);
            match names.get(value as usize) {
                None => format!("no {name}"),
                Some(n) if names.len() == 2 && names[0] == "false" => {
                    if n == "true" {
                        name
                    } else {
                        format!("not {name}")
                    }
                }
                Some(n) => format!("{name} == {n}"),
            }
        }
        (Key::Value(read), Domain::Numeric { regions, kind, lower }) => {
            let name = read_name(policy, *read);
            match regions.get(value as usize) {
                Some(Region::Absent) | None => format!("no {name}"),
                Some(Region::At(c)) => format!("{name} == {}", show_number(*c, *kind)),
                Some(_) if *kind == NumKind::Int => format!("{name} == {}", show_number(number.unwrap_or(0.0), *kind)),
                Some(Region::Below(c)) => format!("{name} < {}", show_number(*c, *kind)),
                Some(Region::Above(c)) => format!("{name} > {}", show_number(*c, *kind)),
                Some(Region::Between(a, b)) if Some(*a) == *lower => format!("{name} < {}", show_number(*b, *kind)),
                Some(Region::Between(a, b)) => {
                    format!("{name} > {} and {name} < {}", show_number(*a, *kind), show_number(*b, *kind))
                }
                Some(Region::Any) => format!("any {name}"),
            }
        }
        (Key::Atom(source), _) => {
            let text = describe_atom(policy, source);
            if value == 1 {
                text
            } else {
                format!("not {text}")
            }
        }
        (Key::Text(field), Domain::Text { values }) => {
            let name = &policy.field(*field).path;
            match values.get(value as usize) {
                Some(s) => format!("{name} == \"{s}\""),
                None if values.len() == 1 => format!("{name} != \"{}\"", values[0]),
                None => {
                    let list = values.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
                    format!("{name} not in [{list}]")
                }
            }
        }
        (Key::Opaque(a, op, b), _) => {
            let text = format!("{} {} {}", read_name(policy, *a), op.symbol(), read_name(policy, *b));
            if value == 1 {
                text
            } else {
                format!("not {text}")
            }
        }
        _ => String::new(),
    }
}

pub(crate) fn read_name(policy: &Policy, read: Read) -> String {
    match read {
        Read::Field(f) => policy.field(f).path.clone(),
        Read::Signal(Signal::Intent) => policy.classifier.as_ref().map_or("intent".into(), |c| c.name.clone()),
        Read::Signal(Signal::Confidence) => "confidence".into(),
        Read::Signal(Signal::Threshold) => "threshold".into(),
        Read::Signal(Signal::Sentiment) => "sentiment".into(),
        Read::Signal(Signal::Language) => "language".into(),
        Read::Signal(Signal::Priority) => "priority".into(),
    }
}

fn describe_atom(policy: &Policy, source: &SlotSource) -> String {
    match source {
        SlotSource::Keywords { scope, set } => {
            let scope = match scope {
                TextScope::AllText => "text".to_string(),
                TextScope::Field(f) => policy.field(*f).path.clone(),
            };
            let set = &policy.keyword_sets[set.index()];
            match &set.name {
                Some(n) => format!("{scope} has {n}"),
                None => {
                    let phrases: Vec<String> = set.phrases.iter().take(3).map(|p| format!("\"{p}\"")).collect();
                    let more = if set.phrases.len() > 3 { ", …" } else { "" };
                    format!("{scope} has [{}{more}]", phrases.join(", "))
                }
            }
        }
        SlotSource::Regex { field, regex } => {
            let r = &policy.regexes[regex.index()];
            let target = r.name.clone().unwrap_or_else(|| format!("\"{}\"", r.pattern));
            format!("{} matches {target}", policy.field(*field).path)
        }
        SlotSource::StringTest { field, test, value } => {
            let op = match test {
                StringTest::Equals => "==",
                StringTest::Op(op) => op.keyword(),
                StringTest::ListContains => "contains",
                StringTest::PathPrefix => {
                    // Written on the `url` field itself: `page starts_with "/settings"`.
                    let whole = policy.field(*field).url_part.map_or(*field, |(whole, _)| whole);
                    return format!("{} starts_with \"{value}\"", policy.field(whole).path);
                }
            };
            format!("{} {op} \"{value}\"", policy.field(*field).path)
        }
        SlotSource::Field(f) => policy.field(*f).path.clone(),
        SlotSource::Signal(_) | SlotSource::Bucket => String::new(),
    }
}

/// A constant as the policy would write it.
pub(crate) fn show_number(x: f64, kind: NumKind) -> String {
    match kind {
        NumKind::Duration if x > 0.0 && x.fract() == 0.0 => show_duration(x as u64),
        NumKind::Time => {
            jiff::Timestamp::from_second(x as i64).map(|t| format!("\"{t}\"")).unwrap_or_else(|_| x.to_string())
        }
        _ => {
            if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{}", x as i64)
            } else {
                format!("{x}")
            }
        }
    }
}

fn show_duration(mut secs: u64) -> String {
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}
