//! Differential tests: the Cranelift JIT must decide exactly as the
//! reference interpreter does, on every program and every signal block.
//!
//! - `random_programs_agree`: random IR programs (nested and/or/not, small
//!   and wide conditions, slot, constant and `priority` reads, slots past
//!   the block) over NaN-heavy blocks;
//! - `random_policies_agree`: random well-typed `.route` policies covering
//!   every construct, compiled by the real front end and lowered, over
//!   blocks drawn from the constants the program compares against;
//! - `example_policies_agree`: every policy under `examples/` over 100,000
//!   generated blocks;
//! - shadow branches: focused cases for `RawOutcome::enforced_branch` (the
//!   first match that is not a shadow branch) beside `branch` (the first
//!   match), by hand-built programs and by `.route` source.
//!
//! Every outcome the engines agree on is also checked against the definition
//! of `branch` and `enforced_branch`, branch by branch ([`spec_outcome`]).
//! A mismatch shows the (shrunk) IR text form, the policy source and the block.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use routec_compiler::hir::{FieldId, Stage};
use routec_compiler::ir::{self, Branch, Cond, PriorityBranch, Program, SlotSource, Val};
use routec_compiler::jit::{self, JitPolicy};
use routec_compiler::syntax::ast::CompareOp;
use routec_compiler::{interp, Loader, NoImports};
use std::fmt::Write as _;

const OPS: [CompareOp; 6] = [CompareOp::Eq, CompareOp::Ne, CompareOp::Lt, CompareOp::Le, CompareOp::Gt, CompareOp::Ge];

/// Compare both engines on every block; the message carries everything needed to reproduce.
fn check_agree(program: &Program, source: Option<&str>, blocks: &[Vec<f64>]) -> Result<(), TestCaseError> {
    let jit = JitPolicy::compile(program)
        .map_err(|e| TestCaseError::fail(format!("{e}\n--- program (IR) ---\n{program}")))?;
    for block in blocks {
        let want = interp::decide(program, block);
        let got = jit.decide(block);
        let spec = want.as_ref().map(|w| spec_outcome(program, block, w.priority));
        let disagreement = if got != want {
            Some(format!("JIT and interpreter disagree\n  jit:    {got:?}\n  interp: {want:?}"))
        } else if want.as_ref().ok().map(|w| (w.branch, w.enforced_branch)) != spec.ok() {
            Some(format!("the engines break the definition of the branches\n  engines: {want:?}\n  spec:    {spec:?}"))
        } else {
            None
        };
        if let Some(disagreement) = disagreement {
            let source = source.map(|s| format!("--- policy ---\n{s}\n")).unwrap_or_default();
            return Err(TestCaseError::fail(format!(
                "{disagreement}\n{source}--- program (IR) ---\n{program}--- block ---\n{}",
                show_block(block)
            )));
        }
    }
    // A block of the wrong size is refused the same way by both.
    let short = vec![0.0; program.slot_count() + 1];
    prop_assert_eq!(jit.decide(&short), interp::decide(program, &short));
    Ok(())
}

/// `(branch, enforced_branch)` by their definition, every branch evaluated:
/// the first branch that holds, and the first that holds and is not shadow.
fn spec_outcome(program: &Program, block: &[f64], priority: u32) -> (u32, u32) {
    let holds: Vec<bool> = program.branches.iter().map(|b| interp::eval(&b.cond, block, priority)).collect();
    let first = |enforced_only: bool| {
        program
            .branches
            .iter()
            .zip(&holds)
            .position(|(b, &held)| held && !(enforced_only && b.shadow))
            .map_or(ir::RawOutcome::NONE, |i| i as u32)
    };
    (first(false), first(true))
}

fn show_block(block: &[f64]) -> String {
    let mut out = String::new();
    for (i, v) in block.iter().enumerate() {
        let _ = writeln!(out, "  s{i} = {v:?}");
    }
    out
}

// ------------------------------------------------------------ IR programs

const CONSTS: &[f64] = &[0.0, 1.0, 2.0, 3.0, -1.0, 0.5, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

fn val(slots: u32) -> impl Strategy<Value = Val> {
    prop_oneof![
        // `slots` itself is one past the block: both engines read it as NaN.
        5 => (0..=slots).prop_map(Val::Slot),
        3 => prop::sample::select(CONSTS).prop_map(Val::Const),
        1 => Just(Val::Priority),
    ]
}

fn cond(slots: u32) -> impl Strategy<Value = Cond> {
    let leaf = prop_oneof![
        1 => any::<bool>().prop_map(Cond::Const),
        8 => (val(slots), prop::sample::select(&OPS[..]), val(slots)).prop_map(|(lhs, op, rhs)| Cond::Cmp { lhs, op, rhs }),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Cond::And),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Cond::Or),
            inner.prop_map(|c| Cond::Not(Box::new(c))),
        ]
    })
}

/// A rule's condition: usually small (evaluated without branches by the
/// JIT), sometimes wide enough to take the JIT's short-circuit path.
fn rule_cond(slots: u32) -> impl Strategy<Value = Cond> {
    let wide =
        (prop::collection::vec(cond(slots), 6..24), any::<bool>(), any::<bool>()).prop_map(|(parts, and, not)| {
            let wide = if and { Cond::And(parts) } else { Cond::Or(parts) };
            if not {
                Cond::Not(Box::new(wide))
            } else {
                wide
            }
        });
    prop_oneof![4 => cond(slots), 1 => wide]
}

fn slot_value() -> impl Strategy<Value = f64> {
    prop_oneof![3 => Just(f64::NAN), 5 => prop::sample::select(CONSTS)]
}

fn program_and_blocks() -> impl Strategy<Value = (Program, Vec<Vec<f64>>)> {
    (0u32..6).prop_flat_map(|slots| {
        let priority_rules = prop::collection::vec((0u32..4, rule_cond(slots)), 0..5);
        let branches = prop::collection::vec((rule_cond(slots), prop::bool::weighted(0.3)), 0..8);
        let blocks = prop::collection::vec(prop::collection::vec(slot_value(), slots as usize), 1..16);
        (priority_rules, 0u32..4, branches, blocks).prop_map(
            move |(priority_rules, default_priority, branches, blocks)| {
                let program = Program {
                    slots: (0..slots).map(|i| SlotSource::Field(FieldId(i))).collect(),
                    priority_rules: priority_rules
                        .into_iter()
                        .map(|(level, cond)| PriorityBranch { level, cond })
                        .collect(),
                    default_priority,
                    branches: branches
                        .into_iter()
                        .enumerate()
                        .map(|(i, (cond, shadow))| Branch { stage: Stage::Rule, source: i as u32, cond, shadow })
                        .collect(),
                };
                (program, blocks)
            },
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_programs_agree((program, blocks) in program_and_blocks()) {
        if !jit::host_supported() {
            return Ok(());
        }
        check_agree(&program, None, &blocks)?;
        // Without shadow branches the enforced branch is the first match.
        let mut enforced_only = program.clone();
        enforced_only.branches.iter_mut().for_each(|b| b.shadow = false);
        check_agree(&enforced_only, None, &blocks)?;
        for block in &blocks {
            let outcome = interp::decide(&enforced_only, block).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(outcome.enforced_branch, outcome.branch);
        }
    }
}

// ------------------------------------------------------------ .route policies

mod support {
    pub mod policy_gen;
}
use support::policy_gen::{blocks_from_seeds, lower_source, policy, value_pool};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_policies_agree(
        decl in policy(),
        seeds in prop::collection::vec(prop::collection::vec(any::<u16>(), 0..48), 1..12),
    ) {
        if !jit::host_supported() {
            return Ok(());
        }
        let source = decl.render();
        let program = lower_source("acme.route", &source, &NoImports).map_err(TestCaseError::fail)?;
        let blocks = blocks_from_seeds(&program, &seeds);
        check_agree(&program, Some(&source), &blocks)?;
    }
}

// ------------------------------------------------------------ examples

/// Serves imports of the example policies from the `examples/` folder.
struct ExampleFiles {
    dir: std::path::PathBuf,
}

#[allow(clippy::disallowed_methods, reason = "a test harness reading the repository's example policies")]
impl Loader for ExampleFiles {
    fn load(&self, _importer: &str, path: &str) -> Result<(String, String), String> {
        let full = self.dir.join(path);
        let text = std::fs::read_to_string(&full).map_err(|e| e.to_string())?;
        Ok((full.display().to_string(), text))
    }
}

#[allow(clippy::disallowed_methods, reason = "a test harness reading the repository's example policies")]
#[test]
fn example_policies_agree() {
    if !jit::host_supported() {
        return;
    }
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut dirs: Vec<_> = std::fs::read_dir(&examples).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    let mut checked = 0;
    for dir in dirs {
        let policy = dir.join("policy.route");
        let Ok(source) = std::fs::read_to_string(&policy) else { continue };
        let program = lower_source(&policy.display().to_string(), &source, &ExampleFiles { dir: dir.clone() })
            .unwrap_or_else(|e| panic!("{}: {e}", policy.display()));
        let jit = JitPolicy::compile(&program).unwrap();
        let pool = value_pool(&program);
        // A fixed xorshift stream: 100,000 blocks, reproducible without a seed file.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut block = vec![0.0; program.slot_count()];
        for _ in 0..100_000 {
            for slot in block.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *slot = pool[(state % pool.len() as u64) as usize];
            }
            let want = interp::decide(&program, &block).unwrap();
            let got = jit.decide(&block).unwrap();
            let context = || {
                format!("{}\n--- program (IR) ---\n{program}--- block ---\n{}", policy.display(), show_block(&block))
            };
            assert_eq!(got, want, "{}", context());
            let spec = spec_outcome(&program, &block, want.priority);
            assert_eq!((want.branch, want.enforced_branch), spec, "{}", context());
        }
        checked += 1;
    }
    assert!(checked >= 2, "expected the example policies under {}", examples.display());
}

// ------------------------------------------------------------ shadow branches

const NONE: u32 = ir::RawOutcome::NONE;

/// `slot 0 == 1`: the one test the hand-built programs use.
fn slot0_is_one() -> Cond {
    Cond::Cmp { lhs: Val::Slot(0), op: CompareOp::Eq, rhs: Val::Const(1.0) }
}

/// A one-slot program whose branches are `(condition, shadow)`.
fn program_of(branches: Vec<(Cond, bool)>) -> Program {
    Program {
        slots: vec![SlotSource::Field(FieldId(0))],
        priority_rules: Vec::new(),
        default_priority: 0,
        branches: branches
            .into_iter()
            .enumerate()
            .map(|(i, (cond, shadow))| Branch { stage: Stage::Rule, source: i as u32, cond, shadow })
            .collect(),
    }
}

/// `(branch, enforced_branch)` for `block`, after checking that the JIT
/// (where the host has one) returns the same whole outcome as the interpreter.
fn decide_both(program: &Program, block: &[f64]) -> (u32, u32) {
    let want = interp::decide(program, block).expect("the tests build blocks of the program's size");
    if jit::host_supported() {
        let jit = JitPolicy::compile(program).unwrap_or_else(|e| panic!("{e}\n--- program (IR) ---\n{program}"));
        let got = jit.decide(block).expect("the tests build blocks of the program's size");
        assert_eq!(got, want, "--- program (IR) ---\n{program}--- block ---\n{}", show_block(block));
    }
    (want.branch, want.enforced_branch)
}

#[test]
fn a_shadow_match_first_leaves_the_enforced_branch_to_the_next_match() {
    let program = program_of(vec![
        (Cond::Const(false), false),
        (slot0_is_one(), true),
        (Cond::Const(false), false),
        (slot0_is_one(), true),
        (slot0_is_one(), false),
        (Cond::Const(true), false),
    ]);
    assert_eq!(decide_both(&program, &[1.0]), (1, 4));
    assert_eq!(decide_both(&program, &[0.0]), (5, 5));
    assert_eq!(decide_both(&program, &[f64::NAN]), (5, 5));
}

#[test]
fn a_non_shadow_first_match_is_both_branches() {
    // The later shadow branch holds too, and changes nothing.
    let program = program_of(vec![(slot0_is_one(), false), (Cond::Const(true), true), (Cond::Const(true), false)]);
    assert_eq!(decide_both(&program, &[1.0]), (0, 0));
    assert_eq!(decide_both(&program, &[0.0]), (1, 2));
}

#[test]
fn only_shadow_matches_enforce_nothing() {
    let program = program_of(vec![(slot0_is_one(), true), (Cond::Const(true), true), (slot0_is_one(), false)]);
    assert_eq!(decide_both(&program, &[0.0]), (1, NONE));
    assert_eq!(decide_both(&program, &[1.0]), (0, 2));
    let all_shadow = program_of(vec![(slot0_is_one(), true), (slot0_is_one(), true)]);
    assert_eq!(decide_both(&all_shadow, &[1.0]), (0, NONE));
    assert_eq!(decide_both(&all_shadow, &[0.0]), (NONE, NONE));
}

#[test]
fn without_shadow_branches_the_enforced_branch_is_the_first_match() {
    let program = program_of(vec![(slot0_is_one(), false), (Cond::Const(false), false), (Cond::Const(true), false)]);
    for (block, first) in [(1.0, 0), (0.0, 2), (f64::NAN, 2)] {
        assert_eq!(decide_both(&program, &[block]), (first, first));
    }
    assert_eq!(decide_both(&program_of(Vec::new()), &[1.0]), (NONE, NONE));
}

/// A policy over one bool field, with the given `mode` and routing lines.
fn shadow_policy(mode: &str, routing: &str) -> Program {
    let source = format!(
        "policy \"acme\" version 1\nmode {mode}\n\nticket {{\n  id: string\n  vip: bool\n}}\n\nteam billing\nteam tier2\nqueue triage\n\n{routing}"
    );
    lower_source("acme.route", &source, &NoImports).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn rule_level_shadow_outcomes_lower_to_shadow_branches() {
    let program = shadow_policy(
        "enforce",
        "escalate e0 when vip -> tier2 shadow\nrule r0 when vip -> billing\notherwise -> triage shadow\n",
    );
    let flags: Vec<bool> = program.branches.iter().map(|b| b.shadow).collect();
    assert_eq!(flags, [true, false, true]);
    assert!(program.to_string().contains("b0 Escalation#0 shadow: "), "{program}");
    assert_eq!(decide_both(&program, &[1.0]), (0, 1));
    assert_eq!(decide_both(&program, &[0.0]), (2, NONE));
}

#[test]
fn a_policy_in_shadow_mode_has_no_shadow_branches() {
    // The whole decision is a shadow one (the runtime's business); nothing
    // is skipped for enforcement.
    let program = shadow_policy("shadow", "rule r0 when vip -> billing\notherwise -> triage\n");
    assert!(program.branches.iter().all(|b| !b.shadow), "{program}");
    assert_eq!(decide_both(&program, &[1.0]), (0, 0));
    assert_eq!(decide_both(&program, &[0.0]), (1, 1));
}

#[test]
fn a_shadow_rollout_tests_its_bucket_in_its_condition() {
    let program = shadow_policy(
        "enforce",
        "rule trial when vip -> tier2 rollout 50% shadow\nrule r0 when vip -> billing\notherwise -> triage\n",
    );
    assert_eq!(program.slots, [SlotSource::Field(FieldId(1)), SlotSource::Bucket], "{program}");
    // In the rollout: the shadow rule is the first match, the next rule is enforced.
    assert_eq!(decide_both(&program, &[1.0, 10.0]), (0, 1));
    // Outside it the shadow rule does not hold at all.
    assert_eq!(decide_both(&program, &[1.0, 70.0]), (1, 1));
    assert_eq!(decide_both(&program, &[0.0, 10.0]), (2, 2));
}
