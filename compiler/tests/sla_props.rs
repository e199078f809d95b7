//! `sla-missing` against brute force, with SLAs set on rules, matrix rows,
//! `otherwise` and destinations: random small policies (an enum, the SLA's
//! `per` enum, a bool that raises the priority, a `when closed` chain) are
//! analysed, then every ticket of the model is run through the reference
//! engine (`interp::decide`) and given its target the way the runtime does
//! (`hir::Policy::sla_target`), at every destination it can end up in.
//!
//! When something besides the `sla` block sets the SLA, the finding is
//! exact: reported exactly when some routed ticket gets no target. Without
//! such settings the block's own check is kept (a priority without a line
//! is reported even when no ticket gets that priority), so there only
//! soundness is checked: a ticket without a target is always reported.

use proptest::prelude::*;
use proptest::test_runner::Config;
use routec_compiler::hir::{Outcome, Policy, Stage};
use routec_compiler::ir::{Branch, Program, RawOutcome, SlotSource};
use routec_compiler::syntax::ast::FallbackReason;
use routec_compiler::{analyze, interp, ir, Code, NoImports, SourceDb};

const SCHEMA: &str = r#"
ticket {
  id: string
  a: a0 | a1 | a2
  tier: free | pro
  flag: bool
}

priority {
  P1 when flag
  P2 when a == a1
  default P3
}
"#;

const ATOMS: &[&str] = &["a == a0", "a != a2", "tier == pro", "flag", "not flag", "a in [a1, a2]"];

fn condition() -> BoxedStrategy<String> {
    let leaf = prop::sample::select(ATOMS).prop_map(str::to_string).boxed();
    leaf.prop_recursive(2, 4, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("({x} and {y})")),
            (inner.clone(), inner).prop_map(|(x, y)| format!("({x} or {y})")),
        ]
    })
    .boxed()
}

/// `-> tN`, sometimes with a priority clause, sometimes setting the SLA.
fn outcome() -> impl Strategy<Value = String> {
    (0..3u8, prop::option::weighted(0.2, 1..=3u8), prop::bool::weighted(0.3)).prop_map(|(d, priority, sla)| {
        let mut out = format!("t{d}");
        if let Some(p) = priority {
            out.push_str(&format!(" priority P{p}"));
        }
        if sla {
            out.push_str(" sla first_response 30m");
        }
        out
    })
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

/// Which lines the `sla` block has: P1, P2, P3, and `pro: P3 2h`.
type Block = [bool; 4];

/// Destination settings: t0's and t2's `sla` lines, and whether t1 falls back to t2 when closed.
type Teams = [bool; 3];

type Rows = Vec<(String, String, String)>;

fn render(
    block: &Block,
    teams: &Teams,
    rules: &[(String, String)],
    rows: &Option<Rows>,
    otherwise: &Option<String>,
) -> String {
    let mut text = format!("policy \"sla\" version 1\n{SCHEMA}");
    let setting = |on: bool| if on { " { sla first_response 2h }" } else { "" };
    text.push_str(&format!("\nteam t0{}\n", setting(teams[0])));
    text.push_str(if teams[2] { "team t1 {\n  hours office\n  when closed -> t2\n}\n" } else { "team t1\n" });
    text.push_str(&format!("team t2{}\n", setting(teams[1])));
    text.push_str("schedule office {\n  timezone \"UTC\"\n  24x7\n}\n");
    text.push_str("\nsla first_response per tier {\n");
    for (on, line) in block.iter().zip(["P1: 1h", "P2: 4h", "P3: 8h", "pro: P3 2h"]) {
        if *on {
            text.push_str(&format!("  {line}\n"));
        }
    }
    text.push_str("}\n");
    for (i, (when, out)) in rules.iter().enumerate() {
        text.push_str(&format!("\nrule r{i} when {when} -> {out}\n"));
    }
    if let Some(rows) = rows {
        text.push_str("\nmatrix a, tier {\n");
        for (a, tier, out) in rows {
            text.push_str(&format!("  {a}, {tier} -> {out}\n"));
        }
        text.push_str("}\n");
    }
    if let Some(out) = otherwise {
        text.push_str(&format!("\notherwise -> {out}\n"));
    }
    text
}

fn policy() -> impl Strategy<Value = String> {
    (
        any::<Block>(),
        any::<Teams>(),
        prop::collection::vec((condition(), outcome()), 0..4),
        prop::option::of(prop::collection::vec((cell(&["a0", "a1", "a2"]), cell(&["free", "pro"]), outcome()), 1..4)),
        prop::option::of(outcome()),
    )
        .prop_map(|(block, teams, rules, rows, otherwise)| render(&block, &teams, &rules, &rows, &otherwise))
}

/// The HIR outcome of an IR branch (as the runtime finds it).
fn outcome_of<'h>(hir: &'h Policy, branch: &Branch) -> Option<&'h Outcome> {
    if let Some((matrix, row)) = branch.matrix_row() {
        return hir.matrices.get(matrix)?.rows.get(row).map(|r| &r.outcome);
    }
    match branch.stage {
        Stage::Rule => hir.rules.get(branch.source as usize).map(|r| &r.outcome),
        Stage::Otherwise => hir.otherwise.as_ref(),
        _ => None,
    }
}

/// Every ticket of the model: each combination of `a`, `tier` and `flag`.
fn tickets(hir: &Policy, program: &Program) -> Vec<(Vec<f64>, u32)> {
    let mut out = Vec::new();
    for a in 0..3 {
        for tier in 0..2u32 {
            for flag in 0..2 {
                let block = program
                    .slots
                    .iter()
                    .map(|slot| match slot {
                        SlotSource::Field(f) => match hir.field(*f).path.as_str() {
                            "a" => f64::from(a),
                            "tier" => f64::from(tier),
                            "flag" => f64::from(flag),
                            _ => 0.0,
                        },
                        _ => 0.0,
                    })
                    .collect();
                out.push((block, tier));
            }
        }
    }
    out
}

/// Destinations a ticket sent to `d` can end up in, fallbacks followed.
fn ends(hir: &Policy, d: usize) -> Vec<usize> {
    let mut out = vec![d];
    let mut at = d;
    while let Some(f) = hir.destinations[at].fallback(FallbackReason::Closed) {
        if out.contains(&f.target.index()) {
            break;
        }
        at = f.target.index();
        out.push(at);
    }
    out
}

fn check(source: &str) -> Result<(), TestCaseError> {
    let mut db = SourceDb::new();
    let root = db.add("sla.route", source.to_string());
    let result = analyze(db, root, &NoImports);
    let semantic_errors: Vec<_> = result
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && !matches!(d.code, Code::RoutesNowhere | Code::NonExhaustiveMatrix))
        .map(|d| d.message.clone())
        .collect();
    prop_assert!(semantic_errors.is_empty(), "generated policy does not check: {semantic_errors:?}\n{source}");
    let hir = &result.hir;
    let program = ir::lower(hir);
    let mut untargeted = None;
    for (block, tier) in tickets(hir, &program) {
        let raw = interp::decide(&program, &block).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if raw.enforced_branch == RawOutcome::NONE {
            continue;
        }
        let Some(outcome) = outcome_of(hir, &program.branches[raw.enforced_branch as usize]) else {
            return Err(TestCaseError::fail(format!("no outcome for branch {}\n{source}", raw.enforced_branch)));
        };
        let priority = outcome.priority.map_or(raw.priority, |p| p.0);
        for d in ends(hir, outcome.destination.index()) {
            let dest = Some(routec_compiler::hir::DestId(d as u32));
            if hir.sla_target(0, Some(outcome), dest, priority, Some(tier)).is_none() {
                untargeted.get_or_insert((block.clone(), d));
            }
        }
    }
    let reported = result.diagnostics.iter().any(|d| d.code == Code::SlaMissing);
    if let Some((block, d)) = &untargeted {
        prop_assert!(
            reported,
            "the ticket {block:?} at `{}` gets no target, unreported\n{source}",
            hir.destinations[*d].name
        );
    }
    let outcomes =
        hir.rules.iter().map(|r| &r.outcome).chain(hir.matrices.iter().flat_map(|m| m.rows.iter().map(|r| &r.outcome)));
    let settings = hir.destinations.iter().any(|d| !d.slas.is_empty())
        || outcomes.chain(hir.otherwise.as_ref()).any(|o| !o.slas.is_empty());
    if settings && untargeted.is_none() {
        prop_assert!(!reported, "every routed ticket gets a target, but sla-missing is reported\n{source}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 256, ..Config::default() })]

    #[test]
    fn sla_missing_agrees_with_the_engine(source in policy()) {
        check(&source)?;
    }
}

#[test]
fn settings_on_every_branch_fill_a_block_without_lines() {
    let source = render(
        &[false, false, false, false],
        &[false, false, false],
        &[("flag".into(), "t0 sla first_response 30m".into())],
        &None,
        &Some("t2 sla first_response 2h".into()),
    );
    check(&source).map_err(|e| e.to_string()).expect("the check runs");
    let mut db = SourceDb::new();
    let root = db.add("sla.route", source.clone());
    let result = analyze(db, root, &NoImports);
    assert!(!result.diagnostics.iter().any(|d| d.code == Code::SlaMissing), "{source}");
}
