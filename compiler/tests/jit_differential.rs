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
use routec_compiler::{interp, Code, Loader, NoImports, SourceDb};
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

/// Enum-valued operands a policy can test, with their values.
#[derive(Clone, Copy, Debug, PartialEq)]
enum EnumDim {
    Channel,
    Tier,
    Intent,
    Language,
    /// Only outside the priority block.
    Priority,
}

impl EnumDim {
    const ALL: [EnumDim; 5] = [EnumDim::Channel, EnumDim::Tier, EnumDim::Intent, EnumDim::Language, EnumDim::Priority];

    fn path(self) -> &'static str {
        match self {
            EnumDim::Channel => "channel",
            EnumDim::Tier => "customer.tier",
            EnumDim::Intent => "intent",
            EnumDim::Language => "language",
            EnumDim::Priority => "priority",
        }
    }

    fn values(self, n_priorities: usize) -> Vec<String> {
        let names: &[&str] = match self {
            EnumDim::Channel => &["email", "chat", "web", "phone"],
            EnumDim::Tier => &["free", "pro", "enterprise"],
            EnumDim::Intent => &["billing", "technical", "account"],
            EnumDim::Language => &["en", "de", "fr", "es", "und"],
            EnumDim::Priority => return (1..=n_priorities).map(|p| format!("P{p}")).collect(),
        };
        names.iter().map(|s| s.to_string()).collect()
    }
}

#[derive(Clone, Copy, Debug)]
enum BoolDim {
    Vip,
    AtRisk,
}

impl BoolDim {
    fn path(self) -> &'static str {
        match self {
            BoolDim::Vip => "vip",
            BoolDim::AtRisk => "customer.at_risk",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum NumField {
    /// number, optional
    Health,
    /// int
    AiTurns,
    /// int, optional
    Seats,
    /// classifier signal, number
    Confidence,
    /// built-in signal, number
    Sentiment,
}

impl NumField {
    fn path(self) -> &'static str {
        match self {
            NumField::Health => "customer.health",
            NumField::AiTurns => "ai_turns",
            NumField::Seats => "customer.seats",
            NumField::Confidence => "confidence",
            NumField::Sentiment => "sentiment",
        }
    }

    fn is_int(self) -> bool {
        matches!(self, NumField::AiTurns | NumField::Seats)
    }

    /// A literal of the right type, from a small integer seed.
    fn literal(self, seed: i32) -> String {
        match self {
            NumField::Health => format!("{}.5", seed * 10),
            NumField::AiTurns | NumField::Seats => seed.to_string(),
            NumField::Confidence => format!("0.{}", seed.unsigned_abs() % 10),
            NumField::Sentiment => format!("{}.{}", if seed < 0 { "-0" } else { "0" }, seed.unsigned_abs() % 10),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum TextScope {
    All,
    Subject,
    Body,
}

/// A condition, rendered to `.route` syntax.
#[derive(Clone, Debug)]
enum Expr {
    Lit(bool),
    /// `x == a`, `x != a`, `x in [..]`, `x not in [..]`
    Enum {
        dim: EnumDim,
        values: Vec<usize>,
        form: u8,
    },
    /// `b`, `b == true`, `b != false`, `b in [..]`
    Bool {
        dim: BoolDim,
        value: bool,
        form: u8,
    },
    /// `n OP lit` or `lit OP n`
    Num {
        field: NumField,
        op: usize,
        seed: i32,
        literal_left: bool,
    },
    /// `ai_turns in [..]`
    NumIn {
        field: NumField,
        seeds: Vec<i32>,
        negated: bool,
    },
    /// `customer.health OP customer.seats`, `confidence OP threshold`
    NumPath {
        pair: u8,
        op: usize,
    },
    Duration {
        op: usize,
        minutes: u32,
    },
    Time {
        op: usize,
        day: u8,
    },
    Has {
        scope: TextScope,
        set: u8,
    },
    Matches {
        field: u8,
        named: bool,
    },
    /// starts_with / ends_with / contains / == / != on a string or text field
    StrTest {
        field: u8,
        test: u8,
        value: u8,
    },
    StrIn {
        values: Vec<u8>,
        negated: bool,
    },
    ListContains {
        value: u8,
    },
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

const STRINGS: [&str; 4] = ["/settings/billing", "/home", "INV-1", "vip"];
const OP_SYMBOLS: [&str; 6] = ["==", "!=", "<", "<=", ">", ">="];

impl Expr {
    fn render(&self, n_priorities: usize, out: &mut String) {
        match self {
            Expr::Lit(b) => out.push_str(if *b { "true" } else { "false" }),
            Expr::Enum { dim, values, form } => {
                let names = dim.values(n_priorities);
                let pick = |i: usize| names[i % names.len()].clone();
                let list = values.iter().map(|&v| pick(v)).collect::<Vec<_>>().join(", ");
                let first = values.first().map_or_else(|| pick(0), |&v| pick(v));
                let path = dim.path();
                let _ = match form % 5 {
                    0 => write!(out, "{path} == {first}"),
                    1 => write!(out, "{path} != {first}"),
                    2 => write!(out, "{path} in [{list}]"),
                    3 => write!(out, "{path} not in [{list}]"),
                    _ => write!(out, "not {path} in [{list}]"),
                };
            }
            Expr::Bool { dim, value, form } => {
                let path = dim.path();
                let _ = match form % 4 {
                    0 => write!(out, "{path}"),
                    1 => write!(out, "{path} == {value}"),
                    2 => write!(out, "{path} != {value}"),
                    _ => write!(out, "{path} in [{value}]"),
                };
            }
            Expr::Num { field, op, seed, literal_left } => {
                let (path, lit, op) = (field.path(), field.literal(*seed), OP_SYMBOLS[op % 6]);
                let _ = if *literal_left { write!(out, "{lit} {op} {path}") } else { write!(out, "{path} {op} {lit}") };
            }
            Expr::NumIn { field, seeds, negated } => {
                let list = seeds.iter().map(|&s| field.literal(s)).collect::<Vec<_>>().join(", ");
                let not = if *negated { "not " } else { "" };
                let _ = write!(out, "{} {not}in [{list}]", field.path());
            }
            Expr::NumPath { pair, op } => {
                let (l, r) = match pair % 3 {
                    0 => ("customer.health", "customer.seats"),
                    1 => ("ai_turns", "customer.seats"),
                    _ => ("confidence", "threshold"),
                };
                let _ = write!(out, "{l} {} {r}", OP_SYMBOLS[op % 6]);
            }
            Expr::Duration { op, minutes } => {
                let _ = write!(out, "waiting {} {}m", OP_SYMBOLS[op % 6], minutes);
            }
            Expr::Time { op, day } => {
                let _ = write!(out, "created_at {} \"2026-11-{:02}T10:30:00Z\"", OP_SYMBOLS[op % 6], 1 + day % 28);
            }
            Expr::Has { scope, set } => {
                let scope = match scope {
                    TextScope::All => "text",
                    TextScope::Subject => "subject",
                    TextScope::Body => "body",
                };
                let set = match set % 3 {
                    0 => "legal",
                    1 => "churn",
                    _ => "[\"refund\", \"money back\"]",
                };
                let _ = write!(out, "{scope} has {set}");
            }
            Expr::Matches { field, named } => {
                let field = if field % 2 == 0 { "subject" } else { "body" };
                let target = if *named { "invoice" } else { "\"(?i)error 5[0-9][0-9]\"" };
                let _ = write!(out, "{field} matches {target}");
            }
            Expr::StrTest { field, test, value } => {
                let field = match field % 3 {
                    0 => "page",
                    1 => "id",
                    _ => "subject",
                };
                let test = ["starts_with", "ends_with", "contains", "==", "!="][usize::from(*test % 5)];
                let _ = write!(out, "{field} {test} \"{}\"", STRINGS[usize::from(*value % 4)]);
            }
            Expr::StrIn { values, negated } => {
                let list = values.iter().map(|&v| format!("\"{}\"", STRINGS[usize::from(v % 4)])).collect::<Vec<_>>();
                let not = if *negated { "not " } else { "" };
                let _ = write!(out, "page {not}in [{}]", list.join(", "));
            }
            Expr::ListContains { value } => {
                let _ = write!(out, "tags contains \"{}\"", STRINGS[usize::from(*value % 4)]);
            }
            Expr::Not(inner) => {
                out.push_str("not ");
                inner.render_operand(n_priorities, out);
            }
            Expr::And(parts) | Expr::Or(parts) => {
                let word = if matches!(self, Expr::And(_)) { " and " } else { " or " };
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        out.push_str(word);
                    }
                    p.render_operand(n_priorities, out);
                }
            }
        }
    }

    /// Render as an operand of `and`/`or`/`not`: compound conditions get parentheses.
    fn render_operand(&self, n_priorities: usize, out: &mut String) {
        if matches!(self, Expr::And(_) | Expr::Or(_)) {
            out.push('(');
            self.render(n_priorities, out);
            out.push(')');
        } else {
            self.render(n_priorities, out);
        }
    }
}

fn expr(allow_priority: bool) -> impl Strategy<Value = Expr> {
    let dims: Vec<EnumDim> =
        EnumDim::ALL.iter().copied().filter(|d| allow_priority || *d != EnumDim::Priority).collect();
    let bool_dim = prop::sample::select(vec![BoolDim::Vip, BoolDim::AtRisk]);
    let num_field = prop::sample::select(vec![
        NumField::Health,
        NumField::AiTurns,
        NumField::Seats,
        NumField::Confidence,
        NumField::Sentiment,
    ]);
    let scope = prop::sample::select(vec![TextScope::All, TextScope::Subject, TextScope::Body]);
    let leaf = prop_oneof![
        1 => any::<bool>().prop_map(Expr::Lit),
        4 => (prop::sample::select(dims), prop::collection::vec(0usize..5, 1..4), any::<u8>())
            .prop_map(|(dim, values, form)| Expr::Enum { dim, values, form }),
        2 => (bool_dim, any::<bool>(), any::<u8>()).prop_map(|(dim, value, form)| Expr::Bool { dim, value, form }),
        3 => (num_field.clone(), 0usize..6, -3i32..8, any::<bool>())
            .prop_map(|(field, op, seed, literal_left)| Expr::Num { field, op, seed, literal_left }),
        1 => (num_field.prop_filter("ints", |f| f.is_int()), prop::collection::vec(0i32..5, 1..4), any::<bool>())
            .prop_map(|(field, seeds, negated)| Expr::NumIn { field, seeds, negated }),
        1 => (any::<u8>(), 0usize..6).prop_map(|(pair, op)| Expr::NumPath { pair, op }),
        1 => (0usize..6, 1u32..600).prop_map(|(op, minutes)| Expr::Duration { op, minutes }),
        1 => (0usize..6, any::<u8>()).prop_map(|(op, day)| Expr::Time { op, day }),
        2 => (scope, any::<u8>()).prop_map(|(scope, set)| Expr::Has { scope, set }),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(field, named)| Expr::Matches { field, named }),
        2 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(field, test, value)| Expr::StrTest { field, test, value }),
        1 => (prop::collection::vec(any::<u8>(), 1..3), any::<bool>()).prop_map(|(values, negated)| Expr::StrIn { values, negated }),
        1 => any::<u8>().prop_map(|value| Expr::ListContains { value }),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner, 2..4).prop_map(Expr::Or),
        ]
    })
}

const DESTINATIONS: [&str; 5] = ["billing", "tier2", "triage", "csm", "assistant"];

#[derive(Clone, Debug)]
struct Outcome {
    dest: usize,
    priority: Option<usize>,
    rollout: Option<(u8, bool)>,
    shadow: bool,
}

impl Outcome {
    fn render(&self, n_priorities: usize, out: &mut String) {
        let _ = write!(out, " -> {}", DESTINATIONS[self.dest % DESTINATIONS.len()]);
        if let Some(p) = self.priority {
            let _ = write!(out, " priority P{}", 1 + p % n_priorities);
        }
        if let Some((pct, half)) = self.rollout {
            let _ = write!(out, " rollout {}{}%", 1 + pct % 100, if half && pct % 100 < 99 { ".5" } else { "" });
        }
        if self.shadow {
            out.push_str(" shadow");
        }
    }
}

fn outcome() -> impl Strategy<Value = Outcome> {
    (
        any::<usize>(),
        prop::option::weighted(0.3, any::<usize>()),
        prop::option::weighted(0.3, (any::<u8>(), any::<bool>())),
        prop::bool::weighted(0.25),
    )
        .prop_map(|(dest, priority, rollout, shadow)| Outcome { dest, priority, rollout, shadow })
}

#[derive(Clone, Debug)]
enum Dim {
    Enum(EnumDim),
    Bool(BoolDim),
}

#[derive(Clone, Debug)]
struct MatrixDecl {
    dims: Vec<Dim>,
    /// Per row: per cell `None` = `_`, else value picks; then the outcome.
    rows: Vec<(Vec<Option<Vec<usize>>>, Outcome)>,
}

fn matrix() -> impl Strategy<Value = MatrixDecl> {
    let dim = prop_oneof![
        3 => prop::sample::select(EnumDim::ALL.to_vec()).prop_map(Dim::Enum),
        1 => prop::sample::select(vec![BoolDim::Vip, BoolDim::AtRisk]).prop_map(Dim::Bool),
    ];
    prop::collection::vec(dim, 1..3).prop_flat_map(|dims| {
        let n = dims.len();
        let cell = prop::option::weighted(0.7, prop::collection::vec(0usize..5, 1..3));
        let row = (prop::collection::vec(cell, n), outcome());
        prop::collection::vec(row, 1..5).prop_map(move |rows| MatrixDecl { dims: dims.clone(), rows })
    })
}

/// A generated policy: a fixed schema and declarations, random routing.
#[derive(Clone, Debug)]
struct PolicyDecl {
    /// `None`: the default `P1, P2, P3`.
    priorities: Option<usize>,
    /// Priority rules `(level, condition)` and the default level, when there is a block.
    priority_block: Option<(Vec<(usize, Expr)>, usize)>,
    escalations: Vec<(Expr, Outcome)>,
    rules: Vec<(Expr, Outcome)>,
    matrices: Vec<MatrixDecl>,
    otherwise: Option<Outcome>,
}

const HEADER: &str = r#"policy "acme" version 1
mode enforce

ticket {
  id: string
  subject: text
  body: text
  channel: email | chat | web | phone
  page: string?
  tags: [string]?
  created_at: time
  waiting: duration?
  ai_turns: int
  vip: bool
  customer {
    tier: free | pro | enterprise
    health: number?
    seats: int?
    at_risk: bool?
  }
}

team billing
team tier2
queue triage
role csm
ai assistant

keywords legal = ["lawyer", "legal action"]
keywords churn = ["cancel my subscription", "switching to"]
regex invoice = "INV-[0-9]{6}"

classifier intent from "models/intent.model" {
  labels billing, technical, account
  threshold 0.7
  threshold technical 0.8
}
"#;

impl PolicyDecl {
    fn n_priorities(&self) -> usize {
        self.priorities.unwrap_or(3)
    }

    fn render(&self) -> String {
        let n = self.n_priorities();
        let mut out = String::from(HEADER);
        if let Some(count) = self.priorities {
            let names: Vec<String> = (1..=count).map(|p| format!("P{p}")).collect();
            let _ = writeln!(out, "priorities {}", names.join(", "));
        }
        if let Some((rules, default)) = &self.priority_block {
            out.push_str("priority {\n");
            for (level, cond) in rules {
                let _ = write!(out, "  P{} when ", 1 + level % n);
                cond.render(n, &mut out);
                out.push('\n');
            }
            let _ = writeln!(out, "  default P{}\n}}", 1 + default % n);
        }
        for (kind, items) in [("escalate", &self.escalations), ("rule", &self.rules)] {
            for (i, (cond, outcome)) in items.iter().enumerate() {
                let _ = write!(out, "{kind} {}{i} when ", &kind[..1]);
                cond.render(n, &mut out);
                outcome.render(n, &mut out);
                out.push('\n');
            }
        }
        for m in &self.matrices {
            let paths: Vec<&str> = m
                .dims
                .iter()
                .map(|d| match d {
                    Dim::Enum(e) => e.path(),
                    Dim::Bool(b) => b.path(),
                })
                .collect();
            let _ = writeln!(out, "matrix {} {{", paths.join(", "));
            for (cells, outcome) in &m.rows {
                out.push_str("  ");
                for (i, (cell, dim)) in cells.iter().zip(&m.dims).enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    match cell {
                        None => out.push('_'),
                        Some(picks) => {
                            let names = match dim {
                                Dim::Enum(e) => e.values(n),
                                Dim::Bool(_) => vec!["true".to_string(), "false".to_string()],
                            };
                            let mut values: Vec<String> =
                                picks.iter().map(|&p| names[p % names.len()].clone()).collect();
                            values.dedup();
                            out.push_str(&values.join(" | "));
                        }
                    }
                }
                outcome.render(n, &mut out);
                out.push('\n');
            }
            out.push_str("}\n");
        }
        if let Some(o) = &self.otherwise {
            out.push_str("otherwise");
            o.render(n, &mut out);
            out.push('\n');
        }
        out
    }
}

fn policy() -> impl Strategy<Value = PolicyDecl> {
    let priority_block =
        prop::option::weighted(0.7, (prop::collection::vec((any::<usize>(), expr(false)), 0..4), any::<usize>()));
    let routed = || prop::collection::vec((expr(true), outcome()), 0..4);
    (
        prop::option::weighted(0.5, 1usize..=4),
        priority_block,
        routed(),
        routed(),
        prop::collection::vec(matrix(), 0..2),
        prop::option::weighted(0.6, outcome()),
    )
        .prop_map(|(priorities, priority_block, escalations, rules, matrices, otherwise)| PolicyDecl {
            priorities,
            priority_block,
            escalations,
            rules,
            matrices,
            otherwise,
        })
}

/// Findings of the analyses (proofs about a sound policy): a generated
/// policy may well have unreachable rules or a non-exhaustive matrix, and
/// still lowers to a program both engines must agree on.
fn is_analysis_finding(code: Code) -> bool {
    matches!(
        code,
        Code::UnreachableRule
            | Code::MaybeUnreachableRule
            | Code::NonExhaustiveMatrix
            | Code::UnreachableRow
            | Code::OverlappingRows
            | Code::RoutesNowhere
            | Code::ClosedCoverage
            | Code::SlaMissing
            | Code::SlaNoHours
            | Code::SlaOrder
            | Code::Unused
    )
}

/// Compile `.route` source the way the CLI does and return its program.
fn lower_source(name: &str, source: &str, loader: &dyn Loader) -> Result<Program, String> {
    let mut db = SourceDb::new();
    let root = db.add(name, source.to_string());
    match routec_compiler::compile(db, root, loader) {
        Ok(compiled) => Ok(compiled.program),
        Err(analysis) => {
            let errors: Vec<_> = analysis.diagnostics.iter().filter(|d| d.is_error()).collect();
            if errors.iter().all(|d| is_analysis_finding(d.code)) {
                return Ok(ir::lower(&analysis.hir));
            }
            let mut msg = format!("the policy does not compile:\n{source}\n");
            for d in errors {
                let text = d.span().map(|s| analysis.db.slice(s).to_string()).unwrap_or_default();
                let _ = writeln!(msg, "  {}: {} at `{text}`", d.code, d.message);
            }
            Err(msg)
        }
    }
}

/// Values worth putting in slots: NaN first (what shrinking goes to), then
/// every constant the program compares against and its neighbours.
fn value_pool(program: &Program) -> Vec<f64> {
    fn walk(cond: &Cond, pool: &mut Vec<f64>) {
        match cond {
            Cond::Const(_) => {}
            Cond::And(parts) | Cond::Or(parts) => parts.iter().for_each(|p| walk(p, pool)),
            Cond::Not(inner) => walk(inner, pool),
            Cond::Cmp { lhs, rhs, .. } => {
                for v in [lhs, rhs] {
                    if let Val::Const(c) = v {
                        pool.extend([*c, *c - 1.0, *c + 1.0, *c - 0.5]);
                    }
                }
            }
        }
    }
    let mut pool = vec![f64::NAN, 0.0, 1.0, 2.0];
    for rule in &program.priority_rules {
        walk(&rule.cond, &mut pool);
    }
    for branch in &program.branches {
        walk(&branch.cond, &mut pool);
    }
    let mut seen = std::collections::HashSet::new();
    pool.retain(|v| seen.insert(v.to_bits()));
    pool
}

fn blocks_from_seeds(program: &Program, seeds: &[Vec<u16>]) -> Vec<Vec<f64>> {
    let pool = value_pool(program);
    seeds
        .iter()
        .map(|ticket| {
            (0..program.slot_count())
                .map(|s| {
                    let seed = ticket.get(s).copied().map_or(s, usize::from);
                    pool[seed % pool.len()]
                })
                .collect()
        })
        .collect()
}

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
