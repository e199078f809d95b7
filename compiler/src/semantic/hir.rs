//! The checked policy: every name resolved to an index, every expression
//! typed, spans kept for diagnostics, traces and the language server.
//! Analyses (`analysis`) and lowering (`ir`) read only this.

use crate::source::Span;
use crate::syntax::ast::{CompareOp, DestinationKind, FallbackReason, Mode, NotifyChannel, StringOp, Tracker};

macro_rules! id {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}
id!(FieldId, EnumId, ScheduleId, DestId, KeywordSetId, RegexId, PriorityId);

/// The fully checked policy.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub name: String,
    pub version: u64,
    pub mode: Option<Mode>,
    pub fields: Vec<Field>,
    pub enums: Vec<EnumDef>,
    pub schedules: Vec<Schedule>,
    pub destinations: Vec<Destination>,
    pub keyword_sets: Vec<KeywordSet>,
    pub regexes: Vec<RegexDef>,
    pub classifier: Option<Classifier>,
    /// Highest first: index 0 is the most urgent.
    pub priorities: Vec<Named>,
    pub priority_enum: EnumId,
    pub language_enum: EnumId,
    pub priority_rules: Vec<PriorityRule>,
    pub default_priority: Option<PriorityId>,
    pub default_priority_span: Option<Span>,
    pub slas: Vec<Sla>,
    pub escalations: Vec<Rule>,
    pub rules: Vec<Rule>,
    pub matrices: Vec<Matrix>,
    pub otherwise: Option<Outcome>,
    pub tests: Vec<Test>,
    /// Item span → codes allowed there with `@allow`.
    pub allows: Vec<(Span, Vec<String>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Named {
    pub name: String,
    pub span: Span,
}

/// One leaf field of the ticket schema, by dotted path.
#[derive(Clone, Debug)]
pub struct Field {
    pub path: String,
    pub ty: Ty,
    pub optional: bool,
    pub span: Span,
    /// A part of a `url` field (`page.host`), read from that field's value
    /// rather than from the ticket's JSON.
    pub url_part: Option<(FieldId, UrlPart)>,
}

/// The parts of a `url` field a condition can read as `FIELD.PART`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UrlPart {
    /// The host name, lower-cased, without user, password or port.
    Host,
    /// The path, `/` when a full URL has none.
    Path,
    /// What follows `?`, up to `#`.
    Query,
}

impl UrlPart {
    pub const ALL: [UrlPart; 3] = [UrlPart::Host, UrlPart::Path, UrlPart::Query];
    pub fn name(self) -> &'static str {
        match self {
            UrlPart::Host => "host",
            UrlPart::Path => "path",
            UrlPart::Query => "query",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Text,
    String,
    Int,
    Number,
    Bool,
    Time,
    Duration,
    /// A URL or a bare path (`https://app.example.com/settings?tab=1`,
    /// `/settings`): a string whose parts conditions can read.
    Url,
    Enum(EnumId),
    List(Box<Ty>),
}

impl Ty {
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Number | Ty::Duration | Ty::Time)
    }
    pub fn is_textual(&self) -> bool {
        matches!(self, Ty::Text | Ty::String)
    }
}

/// An enum's values in declaration order; the index is the value's id.
#[derive(Clone, Debug)]
pub struct EnumDef {
    pub name: String,
    pub values: Vec<Named>,
}

impl EnumDef {
    pub fn position(&self, name: &str) -> Option<u32> {
        self.values.iter().position(|v| v.name == name).map(|i| i as u32)
    }
}

#[derive(Clone, Debug)]
pub struct Schedule {
    pub name: String,
    pub span: Span,
    pub always_open: bool,
    pub timezone: Option<String>,
    /// Per weekday (0 = Monday), open intervals in minutes since midnight, `end` ≤ 1440.
    pub weekly: [Vec<(u16, u16)>; 7],
    pub holidays: Vec<jiff::civil::Date>,
}

#[derive(Clone, Debug)]
pub struct Destination {
    pub name: String,
    pub kind: DestinationKind,
    pub span: Span,
    pub schedule: Option<ScheduleId>,
    pub capacity: Option<u64>,
    pub skills: Vec<String>,
    pub fallbacks: Vec<Fallback>,
    /// `sla NAME DURATION` lines: this destination's own targets.
    pub slas: Vec<SlaSetting>,
}

impl Destination {
    pub fn fallback(&self, reason: FallbackReason) -> Option<&Fallback> {
        self.fallbacks.iter().find(|f| f.reason == reason)
    }
}

#[derive(Clone, Debug)]
pub struct Fallback {
    pub reason: FallbackReason,
    pub target: DestId,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct KeywordSet {
    /// `None` for an inline list written in a condition.
    pub name: Option<String>,
    pub phrases: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct RegexDef {
    pub name: Option<String>,
    pub pattern: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Classifier {
    /// The signal name, e.g. `intent`.
    pub name: String,
    pub model: String,
    pub labels: EnumId,
    pub features: Vec<String>,
    pub default_threshold: f64,
    /// Per label (index = label id).
    pub thresholds: Vec<f64>,
    pub span: Span,
    pub model_span: Span,
}

#[derive(Clone, Debug)]
pub struct PriorityRule {
    pub level: PriorityId,
    pub when: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Sla {
    pub name: String,
    pub span: Span,
    pub per: Option<FieldId>,
    /// Indexed by priority.
    pub targets: Vec<Option<SlaTarget>>,
    /// (value of the `per` enum, priority, target)
    pub overrides: Vec<(u32, PriorityId, SlaTarget)>,
}

/// One target for one SLA set on a destination or an outcome; it applies
/// whatever the priority. Precedence, most specific first: the deciding
/// branch's setting, the final destination's, the `sla` block's line for the
/// ticket's `per` value, the block's line for the priority
/// ([`Policy::sla_target`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlaSetting {
    /// Index into `Policy::slas`.
    pub sla: usize,
    pub target: SlaTarget,
}

impl Sla {
    /// The block's own target for `priority`, for tickets whose `per` value is `tier`.
    pub fn target_for(&self, priority: u32, tier: Option<u32>) -> Option<SlaTarget> {
        let overridden =
            tier.and_then(|t| self.overrides.iter().find(|(v, p, _)| *v == t && p.0 == priority).map(|(_, _, x)| *x));
        overridden.or_else(|| self.targets.get(priority as usize).copied().flatten())
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlaTarget {
    pub minutes: f64,
    pub business: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Priority,
    Escalation,
    Rule,
    Matrix,
    Otherwise,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub name: String,
    pub name_span: Span,
    pub span: Span,
    pub when: Expr,
    pub outcome: Outcome,
}

#[derive(Clone, Debug)]
pub struct Matrix {
    pub span: Span,
    pub dimensions: Vec<(Operand, Span)>,
    pub rows: Vec<MatrixRow>,
}

#[derive(Clone, Debug)]
pub struct MatrixRow {
    /// `None` = wildcard; otherwise the accepted values (enum ids, or 0/1 for bools).
    pub cells: Vec<Option<Vec<u32>>>,
    pub outcome: Outcome,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub destination: DestId,
    pub destination_span: Span,
    pub priority: Option<PriorityId>,
    pub shadow: bool,
    /// Percentage of tickets (0 < p ≤ 100) the branch applies to.
    pub rollout: Option<f64>,
    pub handoff: Vec<FieldId>,
    /// `sla NAME DURATION` clauses: targets for tickets this branch decides.
    pub slas: Vec<SlaSetting>,
    pub actions: Vec<Action>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    Notify { channel: NotifyChannel, target: String },
    CreateIssue { tracker: Tracker, project: String, severity: Option<String>, area: Option<String> },
    Tag { tag: String },
    Set { field: String, value: serde_json::Value },
}

/// Where keyword matching looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TextScope {
    /// Every `text` field.
    AllText,
    Field(FieldId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    Intent,
    Confidence,
    Threshold,
    Sentiment,
    Language,
    Priority,
}

/// A value a condition reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Field(FieldId),
    Signal(Signal),
    /// Numbers, ints, durations (seconds), times (epoch seconds), bools (0/1), enum ids.
    Const(f64),
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Const(bool),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// Numeric or enum comparison; enums only use `==`/`!=`.
    Compare {
        lhs: Operand,
        op: CompareOp,
        rhs: Operand,
    },
    /// Enum (or bool) membership.
    OneOf {
        value: Operand,
        values: Vec<u32>,
        negated: bool,
    },
    Keywords {
        scope: TextScope,
        set: KeywordSetId,
    },
    Regex {
        field: FieldId,
        regex: RegexId,
    },
    /// String equality and prefix/suffix/substring tests; list element tests.
    StringTest {
        field: FieldId,
        test: StringTest,
        value: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StringTest {
    Equals,
    Op(StringOp),
    ListContains,
    /// A path (of a `url` field) is the value or lies under it, segment by
    /// segment: `/settings/billing` holds for `/settings/billing/invoices`,
    /// not for `/settings/billing-old`.
    PathPrefix,
}

#[derive(Clone, Debug)]
pub struct Test {
    pub name: String,
    pub span: Span,
    /// The ticket as JSON, built from the test's field values.
    pub ticket: serde_json::Value,
    pub signals: serde_json::Value,
    pub at: Option<jiff::Timestamp>,
    pub load: Vec<(DestId, u64)>,
    pub expect: Option<Expect>,
}

#[derive(Clone, Debug)]
pub struct Expect {
    pub destination: DestId,
    pub priority: Option<PriorityId>,
    pub escalated: Option<bool>,
    pub shadow: bool,
    pub fallback: bool,
    pub span: Span,
}

impl Policy {
    pub fn field(&self, id: FieldId) -> &Field {
        &self.fields[id.index()]
    }
    pub fn field_by_path(&self, path: &str) -> Option<FieldId> {
        self.fields.iter().position(|f| f.path == path).map(|i| FieldId(i as u32))
    }
    pub fn destination(&self, id: DestId) -> &Destination {
        &self.destinations[id.index()]
    }
    pub fn enum_def(&self, id: EnumId) -> &EnumDef {
        &self.enums[id.index()]
    }
    pub fn priority_name(&self, id: PriorityId) -> &str {
        &self.priorities[id.index()].name
    }
    /// The type a condition operand has.
    pub fn operand_ty(&self, operand: &Operand) -> Option<Ty> {
        match operand {
            Operand::Field(f) => Some(self.field(*f).ty.clone()),
            Operand::Signal(Signal::Intent) => self.classifier.as_ref().map(|c| Ty::Enum(c.labels)),
            Operand::Signal(Signal::Language) => Some(Ty::Enum(self.language_enum)),
            Operand::Signal(Signal::Priority) => Some(Ty::Enum(self.priority_enum)),
            Operand::Signal(_) => Some(Ty::Number),
            Operand::Const(_) => None,
        }
    }
    /// The target SLA `sla` sets for a ticket decided by a branch with
    /// `outcome` (if any), ending up at `dest` (if any), with final priority
    /// `priority` and `per` value `tier`: the most specific one wins (see
    /// [`SlaSetting`]). `None` when nothing sets one.
    pub fn sla_target(
        &self,
        sla: usize,
        outcome: Option<&Outcome>,
        dest: Option<DestId>,
        priority: u32,
        tier: Option<u32>,
    ) -> Option<SlaTarget> {
        let set_by = |settings: &[SlaSetting]| settings.iter().find(|s| s.sla == sla).map(|s| s.target);
        let block = self.slas.get(sla)?;
        outcome
            .and_then(|o| set_by(&o.slas))
            .or_else(|| dest.and_then(|d| set_by(&self.destination(d).slas)))
            .or_else(|| block.target_for(priority, tier))
    }
    /// Whether `code` is allowed (`@allow`) on an item covering `span`.
    pub fn is_allowed(&self, code: crate::diagnostic::Code, span: Span) -> bool {
        self.allows.iter().any(|(item, codes)| {
            item.file == span.file
                && item.start <= span.start
                && span.end <= item.end
                && codes.iter().any(|c| crate::diagnostic::Code::from_name(c) == Some(code))
        })
    }
}

/// The languages the built-in `language` signal reports.
pub const LANGUAGES: &[&str] = &["en", "de", "fr", "es", "und"];
/// Priorities when the policy declares none.
pub const DEFAULT_PRIORITIES: &[&str] = &["P1", "P2", "P3"];
