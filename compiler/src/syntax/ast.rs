//! The syntax tree of a `.route` file: plain data, a `Span` on every node,
//! no types and no resolved names (that is `semantic`'s job).
//!
//! Numbers and durations keep their source text so the formatter can echo
//! them unchanged; the semantic pass reads their values.

use crate::source::{FileId, Span};

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `customer.tier`: one or more identifiers joined by dots.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl Path {
    pub fn dotted(&self) -> String {
        self.segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(".")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// One parsed file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Policy {
    pub file: FileId,
    pub items: Vec<Item>,
    /// `(keyword, name)` of items that failed to parse, e.g. `("team", "billing")`,
    /// so later passes do not report their names as unknown a second time.
    pub broken: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    /// Codes named in `@allow(...)` before the item.
    pub allows: Vec<Allow>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Allow {
    pub code: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    Policy(PolicyDecl),
    Import(StrLit),
    Mode(ModeDecl),
    Ticket(TicketDecl),
    Schedule(ScheduleDecl),
    Destination(DestinationDecl),
    Keywords(KeywordsDecl),
    Regex(RegexDecl),
    Classifier(ClassifierDecl),
    Priorities(Vec<Ident>),
    Priority(PriorityDecl),
    Sla(SlaDecl),
    Escalate(RuleDecl),
    Rule(RuleDecl),
    Matrix(MatrixDecl),
    Otherwise(Outcome),
    Test(TestDecl),
    /// A chunk that did not parse; its diagnostic was already reported.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PolicyDecl {
    pub name: StrLit,
    pub version: Option<(u64, Span)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Enforce,
    Shadow,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModeDecl {
    pub mode: Mode,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TicketDecl {
    pub fields: Vec<FieldDecl>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    Named(Ident),
    List(Ident),
    Enum(Vec<Ident>),
    Record(Vec<FieldDecl>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub optional: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleDecl {
    pub name: Ident,
    pub entries: Vec<ScheduleEntry>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleEntry {
    TimeZone(StrLit),
    AlwaysOpen(Span),
    Holidays(Vec<StrLit>),
    Hours(HoursLine),
}

#[derive(Clone, Debug, PartialEq)]
pub struct HoursLine {
    pub days: Vec<DayRange>,
    pub times: Vec<TimeRange>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DayRange {
    pub from: Ident,
    pub to: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimeRange {
    pub from: StrLit,
    pub to: StrLit,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DestinationKind {
    Team,
    Queue,
    Role,
    Ai,
}

impl DestinationKind {
    pub fn keyword(self) -> &'static str {
        match self {
            DestinationKind::Team => "team",
            DestinationKind::Queue => "queue",
            DestinationKind::Role => "role",
            DestinationKind::Ai => "ai",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DestinationDecl {
    pub kind: DestinationKind,
    pub name: Ident,
    /// `None` when written without braces (`queue human_review`).
    pub body: Option<Vec<DestinationEntry>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FallbackReason {
    Closed,
    Full,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DestinationEntry {
    Hours(Ident),
    Capacity(u64, Span),
    Skills(Vec<StrLit>),
    Fallback {
        reason: FallbackReason,
        target: Ident,
        span: Span,
    },
    /// `sla first_response 2h business`: the destination's own targets.
    Sla(Vec<SlaSetting>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct KeywordsDecl {
    pub name: Ident,
    pub phrases: Vec<StrLit>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RegexDecl {
    pub name: Ident,
    pub pattern: StrLit,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClassifierDecl {
    pub name: Ident,
    pub model: StrLit,
    pub entries: Vec<ClassifierEntry>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ClassifierEntry {
    Labels(Vec<Ident>),
    Features(Vec<Path>),
    Threshold { label: Option<Ident>, value: Number },
}

/// A number as written; `value` is parsed by the semantic pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PriorityDecl {
    pub rules: Vec<PriorityRule>,
    pub default: Option<Ident>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PriorityRule {
    pub level: Ident,
    pub when: Expr,
    pub allows: Vec<Allow>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SlaDecl {
    pub name: Ident,
    pub per: Option<Path>,
    pub entries: Vec<SlaEntry>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SlaTarget {
    pub priority: Ident,
    pub duration: DurationLit,
    pub business: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SlaEntry {
    Target(SlaTarget),
    Override { tier: Ident, targets: Vec<SlaTarget>, span: Span },
}

/// `first_response 15m business` in an `sla` clause of a destination or an
/// outcome: one target for the named SLA, whatever the priority.
#[derive(Clone, Debug, PartialEq)]
pub struct SlaSetting {
    pub sla: Ident,
    pub duration: DurationLit,
    pub business: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DurationLit {
    pub text: String,
    pub span: Span,
}

/// `escalate` and `rule` share a shape: a name, a condition and an outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDecl {
    pub name: Ident,
    pub when: Expr,
    pub outcome: Outcome,
}

/// `-> destination` and the clauses after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub destination: Ident,
    pub clauses: Vec<Clause>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    Priority(Ident),
    Shadow(Span),
    Rollout {
        percent: Number,
    },
    Handoff(Vec<Path>),
    /// `sla first_response 15m, resolution 8h business`.
    Sla(Vec<SlaSetting>, Span),
    Notify {
        channel: NotifyChannel,
        target: StrLit,
        span: Span,
    },
    CreateIssue {
        tracker: Tracker,
        project: StrLit,
        severity: Option<Ident>,
        area: Option<StrLit>,
        span: Span,
    },
    Tag(StrLit),
    Set {
        field: Path,
        value: Literal,
        span: Span,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyChannel {
    Slack,
    Email,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tracker {
    Jira,
    Linear,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MatrixDecl {
    pub dimensions: Vec<Path>,
    pub rows: Vec<MatrixRow>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MatrixRow {
    pub cells: Vec<Cell>,
    pub outcome: Outcome,
    pub allows: Vec<Allow>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Wildcard(Span),
    /// One or more alternatives: `technical | bug_report`.
    Values(Vec<Literal>, Span),
}

impl Cell {
    pub fn span(&self) -> Span {
        match self {
            Cell::Wildcard(s) | Cell::Values(_, s) => *s,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    pub name: StrLit,
    pub ticket: Vec<FieldValue>,
    pub signals: Vec<FieldValue>,
    pub at: Option<StrLit>,
    pub load: Vec<(Ident, u64)>,
    pub expect: Option<Expectation>,
    /// Entries written a second time (`("ticket", span)`): reported by the checker.
    pub repeated: Vec<(String, Span)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldValue {
    pub path: Path,
    pub value: Literal,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    pub destination: Ident,
    pub priority: Option<Ident>,
    pub escalated: Option<bool>,
    pub shadow: bool,
    pub fallback: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StringOp {
    StartsWith,
    EndsWith,
    Contains,
}

impl StringOp {
    pub fn keyword(self) -> &'static str {
        match self {
            StringOp::StartsWith => "starts_with",
            StringOp::EndsWith => "ends_with",
            StringOp::Contains => "contains",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Paren(Box<Expr>),
    /// A bare operand used as a condition: `customer.vip`.
    Truthy(Operand),
    Compare {
        lhs: Operand,
        op: CompareOp,
        rhs: Operand,
    },
    In {
        lhs: Operand,
        negated: bool,
        list: Vec<Literal>,
        list_span: Span,
    },
    Has {
        lhs: Operand,
        target: HasTarget,
    },
    Matches {
        lhs: Operand,
        target: MatchTarget,
    },
    StringTest {
        lhs: Operand,
        op: StringOp,
        value: StrLit,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum HasTarget {
    Set(Ident),
    Inline(Vec<StrLit>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum MatchTarget {
    Named(Ident),
    Inline(StrLit),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Path(Path),
    Literal(Literal),
}

impl Operand {
    pub fn span(&self) -> Span {
        match self {
            Operand::Path(p) => p.span,
            Operand::Literal(l) => l.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Literal {
    pub kind: LiteralKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LiteralKind {
    Str(String),
    Number(String),
    Duration(String),
    Bool(bool),
    /// A bare name, read as an enum value (or a destination, priority…) by context.
    Name(String),
    List(Vec<Literal>),
}
