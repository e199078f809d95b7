//! The routing proofs against brute force: random small policies (two
//! enums, a bool, an int, an optional enum, a keyword set, string equality,
//! the computed priority, rollouts, optionally a classifier with per-intent
//! thresholds) are analysed, then every ticket of the model is run through
//! the reference engine (`interp::decide`).
//!
//! The ticket values cover every region the analysis can tell apart, so the
//! check goes both ways: a branch is reported unreachable exactly when no
//! ticket reaches it, a gap is reported exactly when some ticket gets no
//! destination, and the gap's example ticket really gets none.
//!
//! Also: proofs computed with the cache an earlier version of the policy
//! left (`ide::proofs_cached`) are exactly the proofs computed from
//! scratch; the language server's sound passes (answers carried over an
//! edit) find the same things at the same places, and an exact pass after
//! them, or after a pass that was stopped, gives exactly the fresh proofs.

use proptest::prelude::*;
use proptest::test_runner::Config;
use routec_compiler::analysis::{self, Gap, Status};
use routec_compiler::hir::{Policy, Signal, StringTest};
use routec_compiler::ir::{Program, RawOutcome, SlotSource};
use routec_compiler::{analyze, ide, interp, ir, Code, NoImports, SourceDb};

const SCHEMA: &str = r#"
ticket {
  id: string
  subject: text
  a: a0 | a1 | a2
  b: b0 | b1
  flag: bool
  n: int
  opt: o0 | o1 ?
}

keywords kw = ["foo"]
keywords kw2 = ["bar"]
keywords kw3 = ["baz"]

team t0
team t1
team t2
"#;

const CLASSIFIER: &str = r#"
classifier intent from "intent.model" {
  labels k0, k1
  features subject
  threshold 0.6
  threshold k1 0.8
}
"#;

fn atoms(classifier: bool, priority: bool) -> Vec<&'static str> {
    let mut out = vec![
        "a == a1",
        "a != a2",
        "a in [a0, a2]",
        "b == b1",
        "flag",
        "not flag",
        "n < 3",
        "n >= 5",
        "n == 4",
        "opt == o1",
        "opt != o0",
        "text has kw",
        "text has kw2",
        "not text has kw2",
        "subject has kw3",
        "(text has kw3 and not text has kw)",
        "subject == \"s1\"",
        "subject == \"s2\"",
    ];
    if priority {
        out.push("priority == P1");
    }
    if classifier {
        out.extend(["confidence < threshold", "confidence > 0.7", "intent == k1"]);
    }
    out
}

fn condition(classifier: bool, priority: bool) -> BoxedStrategy<String> {
    let leaf = prop::sample::select(atoms(classifier, priority)).prop_map(str::to_string).boxed();
    leaf.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("({x} and {y})")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("({x} or {y})")),
            inner.prop_map(|x| format!("not ({x})")),
        ]
    })
    .boxed()
}

fn outcome() -> impl Strategy<Value = String> {
    (0..3u8, prop::bool::weighted(0.2)).prop_map(
        |(d, rollout)| {
            if rollout {
                format!("t{d}\n  rollout 50%")
            } else {
                format!("t{d}")
            }
        },
    )
}

/// A rule's outcome: sometimes a `shadow` one, which decides nothing the
/// rules after it could (the engines go on to the enforced decision).
fn rule_outcome() -> impl Strategy<Value = String> {
    (outcome(), prop::bool::weighted(0.25))
        .prop_map(|(out, shadow)| if shadow { format!("{out}\n  shadow") } else { out })
}

fn cell(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::bool::ANY, values.len()).prop_map(move |picks| {
        let chosen: Vec<&str> = values.iter().zip(&picks).filter(|(_, p)| **p).map(|(v, _)| *v).collect();
        if chosen.is_empty() || chosen.len() == values.len() {
            "_".to_string()
        } else {
            chosen.join(" | ")
        }
    })
}

/// A random policy as source text.
/// The parts of a generated policy.
type Parts = (
    bool,
    Option<String>,
    Vec<(String, String)>,
    Vec<(String, String)>,
    Option<Vec<(String, String, String)>>,
    Option<String>,
);

fn parts() -> impl Strategy<Value = Parts> {
    prop::bool::ANY.prop_flat_map(|classifier| {
        (
            Just(classifier),
            prop::option::of(condition(classifier, false)),
            prop::collection::vec((condition(classifier, true), outcome()), 0..3),
            prop::collection::vec((condition(classifier, true), rule_outcome()), 0..4),
            prop::option::of(prop::collection::vec((cell(&["a0", "a1", "a2"]), cell(&["b0", "b1"]), outcome()), 1..5)),
            prop::option::of(outcome()),
        )
    })
}

fn render((classifier, priority, escalations, rules, matrix, otherwise): &Parts) -> String {
    let mut text = format!("policy \"prop\" version 1\n{SCHEMA}");
    if *classifier {
        text.push_str(CLASSIFIER);
    }
    if let Some(p) = priority {
        text.push_str(&format!("\npriority {{\n  P1 when {p}\n  default P3\n}}\n"));
    }
    for (i, (when, out)) in escalations.iter().enumerate() {
        text.push_str(&format!("\nescalate e{i} when {when} -> {out}\n"));
    }
    for (i, (when, out)) in rules.iter().enumerate() {
        text.push_str(&format!("\nrule r{i} when {when} -> {out}\n"));
    }
    if let Some(rows) = matrix {
        text.push_str("\nmatrix a, b {\n");
        for (a, b, out) in rows {
            text.push_str(&format!("  {a}, {b} -> {out}\n"));
        }
        text.push_str("}\n");
    }
    if let Some(out) = otherwise {
        text.push_str(&format!("\notherwise -> {out}\n"));
    }
    text
}

fn policy() -> impl Strategy<Value = String> {
    parts().prop_map(|p| render(&p))
}

/// A policy and versions of it after an edit an editor would make: one
/// branch's condition or outcome replaced, or two rules swapped.
fn edited_policies() -> impl Strategy<Value = Vec<String>> {
    parts().prop_flat_map(|base| {
        let classifier = base.0;
        (Just(base), condition(classifier, true), outcome(), 0..8usize, 0..5usize).prop_map(
            |(base, when, out, at, kind)| {
                let mut edited = base.clone();
                let branches = edited.2.len() + edited.3.len();
                if branches > 0 {
                    let k = at % branches;
                    let (list, k) =
                        if k < edited.2.len() { (&mut edited.2, k) } else { (&mut edited.3, k - base.2.len()) };
                    match kind {
                        0 => list[k].0 = when,
                        1 => list[k].1 = out,
                        2 => {
                            let last = list.len() - 1;
                            list.swap(k, last);
                        }
                        // A new branch, and a branch removed: the branches
                        // after the edit move.
                        3 => list.insert(k, (when, out)),
                        _ => {
                            list.remove(k);
                        }
                    }
                }
                vec![render(&base), render(&edited), render(&base), render(&edited)]
            },
        )
    })
}

/// Every ticket the analysis can tell apart, as signal blocks for `program`:
/// the product of the values each slot the program reads can take.
fn tickets(hir: &Policy, program: &Program) -> Vec<Vec<f64>> {
    // One dimension per independent input; string equality slots share one
    // (the subject is one string) and the threshold follows the intent.
    let mut dims: Vec<(String, Vec<f64>)> = Vec::new();
    let mut add = |name: String, values: &[f64]| {
        if !dims.iter().any(|(n, _)| *n == name) {
            dims.push((name, values.to_vec()));
        }
    };
    for slot in &program.slots {
        match slot {
            SlotSource::Field(f) => match hir.field(*f).path.as_str() {
                "a" => add("a".into(), &[0.0, 1.0, 2.0]),
                "b" => add("b".into(), &[0.0, 1.0]),
                "flag" => add("flag".into(), &[0.0, 1.0]),
                "n" => add("n".into(), &[2.0, 3.0, 4.0, 5.0, 6.0]),
                "opt" => add("opt".into(), &[0.0, 1.0, f64::NAN]),
                other => add(other.into(), &[0.0]),
            },
            // No intent (NaN): a ticket without `signals` and no model loaded.
            SlotSource::Signal(Signal::Intent | Signal::Threshold) => add("intent".into(), &[0.0, 1.0, f64::NAN]),
            SlotSource::Signal(Signal::Confidence) => {
                add("confidence".into(), &[0.0, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.0, f64::NAN])
            }
            SlotSource::Signal(_) => {}
            SlotSource::Bucket => add("bucket".into(), &[10.0, 60.0]),
            SlotSource::Keywords { scope, set } => add(format!("kw{}{scope:?}", set.0), &[0.0, 1.0]),
            SlotSource::StringTest { test: StringTest::Equals, .. } => add("subject".into(), &[0.0, 1.0, 2.0]),
            SlotSource::StringTest { .. } | SlotSource::Regex { .. } => {}
        }
    }
    let total: usize = dims.iter().map(|(_, v)| v.len()).product();
    let mut out = Vec::with_capacity(total);
    for mut k in 0..total {
        let mut pick = std::collections::HashMap::new();
        for (name, values) in &dims {
            pick.insert(name.clone(), values[k % values.len()]);
            k /= values.len();
        }
        let get = |name: &str| pick.get(name).copied().unwrap_or(0.0);
        let block = program
            .slots
            .iter()
            .map(|slot| match slot {
                SlotSource::Field(f) => get(&hir.field(*f).path),
                SlotSource::Signal(Signal::Intent) => get("intent"),
                SlotSource::Signal(Signal::Confidence) => get("confidence"),
                // The runtime's contract: the threshold of the ticket's intent.
                SlotSource::Signal(Signal::Threshold) => {
                    let intent = get("intent");
                    if intent.is_nan() {
                        f64::NAN
                    } else if intent == 1.0 {
                        0.8
                    } else {
                        0.6
                    }
                }
                SlotSource::Signal(_) => 0.0,
                SlotSource::Bucket => get("bucket"),
                SlotSource::Keywords { scope, set } => get(&format!("kw{}{scope:?}", set.0)),
                SlotSource::StringTest { test: StringTest::Equals, value, .. } => {
                    let subject = ["s1", "s2", "other"][get("subject") as usize];
                    if value == subject {
                        1.0
                    } else {
                        0.0
                    }
                }
                SlotSource::StringTest { .. } | SlotSource::Regex { .. } => 0.0,
            })
            .collect();
        out.push(block);
    }
    out
}

fn check(source: &str) -> Result<(), TestCaseError> {
    let mut db = SourceDb::new();
    let root = db.add("prop.route", source.to_string());
    let result = analyze(db, root, &NoImports);
    let semantic_errors: Vec<_> = result
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && !matches!(d.code, Code::RoutesNowhere | Code::NonExhaustiveMatrix))
        .map(|d| d.message.clone())
        .collect();
    prop_assert!(semantic_errors.is_empty(), "generated policy does not check: {semantic_errors:?}\n{source}");
    let program = ir::lower(&result.hir);
    let facts = analysis::routing_facts(&result.hir);
    prop_assert_eq!(facts.branches.len(), program.branches.len());

    // A branch is reached when it decides a ticket: the first match, or
    // the enforced one after a shadow match. A ticket goes nowhere when no
    // branch enforces a decision for it.
    let mut reached = vec![false; program.branches.len()];
    let mut nowhere = None;
    for block in tickets(&result.hir, &program) {
        let outcome = interp::decide(&program, &block).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if outcome.branch != RawOutcome::NONE {
            reached[outcome.branch as usize] = true;
        }
        if outcome.enforced_branch == RawOutcome::NONE {
            nowhere.get_or_insert(block);
        } else {
            reached[outcome.enforced_branch as usize] = true;
        }
    }
    for (i, (status, hit)) in facts.branches.iter().zip(&reached).enumerate() {
        match status {
            Status::Reachable => prop_assert!(*hit, "branch {i} said reachable, but no ticket reaches it\n{source}"),
            Status::Never | Status::Shadowed => {
                prop_assert!(!*hit, "branch {i} said unreachable ({status:?}), but a ticket reaches it\n{source}")
            }
            Status::Unknown | Status::GaveUp => {
                prop_assert!(false, "branch {i} not decided ({status:?}) in the exact fragment\n{source}")
            }
        }
    }
    let codes: Vec<Code> = result.diagnostics.iter().map(|d| d.code).collect();
    let reports_gap = codes.contains(&Code::RoutesNowhere) || codes.contains(&Code::NonExhaustiveMatrix);
    match &facts.gap {
        Gap::None => {
            prop_assert!(nowhere.is_none(), "said every ticket is routed, but {:?} is not\n{source}", nowhere);
            prop_assert!(!reports_gap, "no gap, but a gap diagnostic\n{source}");
        }
        Gap::Exact(example) => {
            prop_assert!(nowhere.is_some(), "reported a gap, but every ticket is routed\n{source}");
            let block = example.signal_block(&program);
            let outcome = interp::decide(&program, &block).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(
                outcome.enforced_branch,
                RawOutcome::NONE,
                "the example {} is routed\n{}",
                example.summary(),
                source
            );
            prop_assert!(reports_gap, "a gap without a diagnostic\n{source}");
        }
        other => prop_assert!(false, "gap not decided ({other:?}) in the exact fragment\n{source}"),
    }
    // Every unreachable escalation, rule and row is reported (an unreachable `otherwise` is not).
    let unreachable = facts
        .branches
        .iter()
        .zip(&program.branches)
        .filter(|(s, b)| {
            matches!(s, Status::Never | Status::Shadowed) && b.stage != routec_compiler::hir::Stage::Otherwise
        })
        .count();
    let reported = codes.iter().filter(|c| matches!(c, Code::UnreachableRule | Code::UnreachableRow)).count();
    prop_assert_eq!(unreachable, reported, "unreachable branches vs diagnostics\n{}", source);
    Ok(())
}

/// The proofs of each version, computed with the cache the previous
/// versions left, are exactly the proofs computed from scratch.
fn check_cache(versions: &[String]) -> Result<(), TestCaseError> {
    let mut cache = ide::ProofCache::default();
    for source in versions {
        let mut db = SourceDb::new();
        let root = db.add("prop.route", source.clone());
        let analysis = ide::analyze_without_proofs(db, root, &NoImports);
        let fresh = ide::proofs(&analysis);
        let cached = ide::proofs_cached(&analysis, &mut cache);
        prop_assert_eq!(cached, fresh, "cached proofs differ\n{}", source);
    }
    Ok(())
}

/// Sound passes (`Reuse::Sound`: answers carried over each edit) report
/// the findings of fresh proofs at the same places (which earlier branches
/// they name may differ), exactly those when they say `Ran::Exact`; an
/// exact pass after them gives exactly the fresh proofs.
fn check_sound(versions: &[String], confirm: &[bool]) -> Result<(), TestCaseError> {
    let mut cache = ide::ProofCache::default();
    let never: ide::Stop = std::sync::Arc::new(|| false);
    for (source, confirm) in versions.iter().zip(confirm) {
        let mut db = SourceDb::new();
        let root = db.add("prop.route", source.clone());
        let analysis = ide::analyze_without_proofs(db, root, &NoImports);
        let fresh = ide::proofs(&analysis);
        let Some((sound, ran)) = ide::proofs_with(&analysis, &mut cache, ide::Reuse::Sound, never.clone()) else {
            return Err(TestCaseError::fail("a pass that was never told to stop stopped"));
        };
        let places = |found: &[routec_compiler::Diagnostic]| {
            let mut places: Vec<_> = found.iter().map(|d| (d.code, d.span())).collect();
            places.sort();
            places
        };
        prop_assert_eq!(places(&sound), places(&fresh), "sound findings at other places\n{}", source);
        if ran == ide::Ran::Exact {
            prop_assert_eq!(&sound, &fresh, "a sound pass said exact but differs\n{}", source);
        }
        if *confirm {
            let exact = ide::proofs_with(&analysis, &mut cache, ide::Reuse::Exact, never.clone());
            prop_assert_eq!(exact, Some((fresh, ide::Ran::Exact)), "the exact pass differs\n{}", source);
        }
    }
    Ok(())
}

/// A pass stopped after `searches` questions reports nothing, and the
/// cache it leaves still gives exactly the fresh proofs next time.
fn check_stopped(versions: &[String], searches: usize) -> Result<(), TestCaseError> {
    let mut cache = ide::ProofCache::default();
    for source in versions {
        let mut db = SourceDb::new();
        let root = db.add("prop.route", source.clone());
        let analysis = ide::analyze_without_proofs(db, root, &NoImports);
        let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = asked.clone();
        let stop: ide::Stop =
            std::sync::Arc::new(move || counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= searches);
        let stopped = ide::proofs_with(&analysis, &mut cache, ide::Reuse::Sound, stop);
        let fresh = ide::proofs(&analysis);
        if asked.load(std::sync::atomic::Ordering::SeqCst) > searches {
            prop_assert!(stopped.is_none(), "a stopped pass reported findings\n{}", source);
        }
        let never: ide::Stop = std::sync::Arc::new(|| false);
        let exact = ide::proofs_with(&analysis, &mut cache, ide::Reuse::Exact, never);
        prop_assert_eq!(exact, Some((fresh, ide::Ran::Exact)), "proofs after a stopped pass differ\n{}", source);
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 256, ..Config::default() })]

    #[test]
    fn stopped_passes_leave_a_usable_cache(versions in edited_policies(), searches in 0..12usize) {
        check_stopped(&versions, searches)?;
    }

    #[test]
    fn sound_proofs_find_what_fresh_proofs_find(
        versions in edited_policies(),
        confirm in proptest::collection::vec(any::<bool>(), 4),
    ) {
        check_sound(&versions, &confirm)?;
    }


    #[test]
    fn routing_proofs_agree_with_the_engine(source in policy()) {
        check(&source)?;
    }

    #[test]
    fn cached_proofs_are_the_fresh_proofs(versions in edited_policies()) {
        check_cache(&versions)?;
    }
}
