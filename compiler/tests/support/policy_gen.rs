//! Generators of random well-typed `.route` policies covering every
//! construct, shared by the JIT differential test and the fuzz targets
//! (`tests/fuzz.rs` at the workspace root): a [`PolicyDecl`] renders to
//! source over a fixed header ([`HEADER`]: the ticket schema, the
//! destinations, keyword sets and the classifier), [`lower_source`] compiles
//! it the way the CLI does, [`blocks_from_seeds`] draws signal blocks from
//! the constants the program compares against.

use proptest::prelude::*;
use routec_compiler::ir::{self, Cond, Program, Val};
use routec_compiler::{Code, Loader, SourceDb};
use std::fmt::Write as _;

/// Enum-valued operands a policy can test, with their values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EnumDim {
    Channel,
    Tier,
    Intent,
    Language,
    /// Only outside the priority block.
    Priority,
}

impl EnumDim {
    const ALL: [EnumDim; 5] = [EnumDim::Channel, EnumDim::Tier, EnumDim::Intent, EnumDim::Language, EnumDim::Priority];

    pub fn path(self) -> &'static str {
        match self {
            EnumDim::Channel => "channel",
            EnumDim::Tier => "customer.tier",
            EnumDim::Intent => "intent",
            EnumDim::Language => "language",
            EnumDim::Priority => "priority",
        }
    }

    pub fn values(self, n_priorities: usize) -> Vec<String> {
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
pub enum BoolDim {
    Vip,
    AtRisk,
}

impl BoolDim {
    pub fn path(self) -> &'static str {
        match self {
            BoolDim::Vip => "vip",
            BoolDim::AtRisk => "customer.at_risk",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum NumField {
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
    pub fn path(self) -> &'static str {
        match self {
            NumField::Health => "customer.health",
            NumField::AiTurns => "ai_turns",
            NumField::Seats => "customer.seats",
            NumField::Confidence => "confidence",
            NumField::Sentiment => "sentiment",
        }
    }

    pub fn is_int(self) -> bool {
        matches!(self, NumField::AiTurns | NumField::Seats)
    }

    /// A literal of the right type, from a small integer seed.
    pub fn literal(self, seed: i32) -> String {
        match self {
            NumField::Health => format!("{}.5", seed * 10),
            NumField::AiTurns | NumField::Seats => seed.to_string(),
            NumField::Confidence => format!("0.{}", seed.unsigned_abs() % 10),
            NumField::Sentiment => format!("{}.{}", if seed < 0 { "-0" } else { "0" }, seed.unsigned_abs() % 10),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum TextScope {
    All,
    Subject,
    Body,
}

/// A condition, rendered to `.route` syntax.
#[derive(Clone, Debug)]
pub enum Expr {
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
    /// A test on the `url` field `link` or one of its parts.
    Url {
        test: u8,
        value: u8,
    },
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

pub const STRINGS: [&str; 4] = ["/settings/billing", "/home", "INV-1", "vip"];
pub const OP_SYMBOLS: [&str; 6] = ["==", "!=", "<", "<=", ">", ">="];

impl Expr {
    pub fn render(&self, n_priorities: usize, out: &mut String) {
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
                    _ => "[\"refund*\", \"money ~1 back\", \"subscription~\"]",
                };
                let _ = write!(out, "{scope} has {set}");
            }
            Expr::Matches { field, named } => {
                let field = ["subject", "body", "text"][usize::from(*field % 3)];
                let target = if *named { "invoice" } else { "\"(?i)error 5[0-9][0-9]\"" };
                let _ = write!(out, "{field} matches {target}");
            }
            Expr::StrTest { field, test, value } => {
                let field = match field % 4 {
                    0 => "page",
                    1 => "id",
                    2 => "subject",
                    _ => "text",
                };
                // `text` (every text field) takes the string tests, not `==`/`!=`.
                let tests = if field == "text" { 3 } else { 5 };
                let test = ["starts_with", "ends_with", "contains", "==", "!="][usize::from(*test) % tests];
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
            Expr::Url { test, value } => {
                let value = STRINGS[usize::from(*value % 4)];
                let _ = match test % 5 {
                    0 => write!(out, "link starts_with \"{value}\""),
                    1 => write!(out, "link.path starts_with \"{value}\""),
                    2 => write!(out, "link.host == \"app.example.com\""),
                    3 => write!(out, "link.query contains \"tab=1\""),
                    _ => write!(out, "link == \"{value}\""),
                };
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

pub fn expr(allow_priority: bool) -> impl Strategy<Value = Expr> {
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
        1 => (any::<u8>(), any::<u8>()).prop_map(|(test, value)| Expr::Url { test, value }),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner, 2..4).prop_map(Expr::Or),
        ]
    })
}

pub const DESTINATIONS: [&str; 5] = ["billing", "tier2", "triage", "csm", "assistant"];

#[derive(Clone, Debug)]
pub struct Outcome {
    dest: usize,
    priority: Option<usize>,
    rollout: Option<(u8, bool)>,
    shadow: bool,
    /// `sla first_response Nm` (with `business` when set).
    sla: Option<(u16, bool)>,
}

impl Outcome {
    pub fn render(&self, n_priorities: usize, out: &mut String) {
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
        if let Some((minutes, business)) = self.sla {
            let _ =
                write!(out, " sla first_response {}m{}", 1 + minutes % 600, if business { " business" } else { "" });
        }
    }
}

pub fn outcome() -> impl Strategy<Value = Outcome> {
    (
        any::<usize>(),
        prop::option::weighted(0.3, any::<usize>()),
        prop::option::weighted(0.3, (any::<u8>(), any::<bool>())),
        prop::bool::weighted(0.25),
        prop::option::weighted(0.2, (any::<u16>(), any::<bool>())),
    )
        .prop_map(|(dest, priority, rollout, shadow, sla)| Outcome { dest, priority, rollout, shadow, sla })
}

#[derive(Clone, Debug)]
pub enum Dim {
    Enum(EnumDim),
    Bool(BoolDim),
}

#[derive(Clone, Debug)]
pub struct MatrixDecl {
    dims: Vec<Dim>,
    /// Per row: per cell `None` = `_`, else value picks; then the outcome.
    rows: Vec<(Vec<Option<Vec<usize>>>, Outcome)>,
}

pub fn matrix() -> impl Strategy<Value = MatrixDecl> {
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
pub struct PolicyDecl {
    /// `None`: the default `P1, P2, P3`.
    priorities: Option<usize>,
    /// Priority rules `(level, condition)` and the default level, when there is a block.
    priority_block: Option<(Vec<(usize, Expr)>, usize)>,
    escalations: Vec<(Expr, Outcome)>,
    rules: Vec<(Expr, Outcome)>,
    matrices: Vec<MatrixDecl>,
    otherwise: Option<Outcome>,
}

pub const HEADER: &str = r#"policy "acme" version 1
mode enforce

ticket {
  id: string
  subject: text
  body: text
  channel: email | chat | web | phone
  page: string?
  link: url?
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

schedule office {
  timezone "Europe/Berlin"
  mon-fri 09:00-17:00
}

team billing { hours office  sla first_response 4h business }
team tier2 { hours office }
queue triage
role csm
ai assistant

sla first_response {
  P1: 1h
}

keywords legal = ["lawyer", "legal action"]
keywords churn = ["cancel my subscription", "switching to", "cancel ~2 plan*"]
regex invoice = "INV-[0-9]{6}"

classifier intent from "models/intent.model" {
  labels billing, technical, account
  threshold 0.7
  threshold technical 0.8
}
"#;

impl PolicyDecl {
    pub fn n_priorities(&self) -> usize {
        self.priorities.unwrap_or(3)
    }

    pub fn render(&self) -> String {
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

pub fn policy() -> impl Strategy<Value = PolicyDecl> {
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
pub fn is_analysis_finding(code: Code) -> bool {
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
            | Code::SlaUnmeetable
            | Code::Unused
    )
}

/// Compile `.route` source the way the CLI does and return its program.
pub fn lower_source(name: &str, source: &str, loader: &dyn Loader) -> Result<Program, String> {
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
pub fn value_pool(program: &Program) -> Vec<f64> {
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

pub fn blocks_from_seeds(program: &Program, seeds: &[Vec<u16>]) -> Vec<Vec<f64>> {
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
