//! Re-parsing after an edit: only the top-level chunks whose text changed.
//!
//! The language server parses the whole file on every keystroke; most of
//! its items have not changed. [`parse_cached`] cuts the file into the same
//! top-level chunks error recovery uses (a line starting in column 0 starts
//! one), takes each chunk's items from the [`ParseCache`] when the same text
//! was parsed before (moving their spans to where the chunk is now), and
//! parses the others alone.
//!
//! This gives exactly the tree [`super::parse`] gives, because it only
//! stands when *every* chunk parses as one whole item; otherwise (a syntax
//! error, or an item that spans chunks) it falls back to `parse`. When every
//! chunk is one item, the whole-file parse finds the same items: a chunk
//! after the first starts with an item keyword in column 0, each item's
//! tokens end before the newline that ends its chunk, and the only way an
//! item of the grammar can continue past its last token is a trailing
//! clause (`priority P2`, `tag "x"`, …, after a rule, an escalation or
//! `otherwise`), of which only `priority NAME` starts with an item keyword,
//! and the `priority` item continues with `{`, which is not a name. So no
//! item reads differently with the next chunk behind it than alone.

use super::ast::*;
use super::{build, chunks, grammar, Rule};
use crate::diagnostic::Diagnostics;
use crate::source::{FileId, Span};
use pest::Parser;
use std::collections::HashMap;

/// Items of chunks parsed before, by the chunk's text.
#[derive(Default)]
pub struct ParseCache {
    chunks: HashMap<String, Parsed>,
}

/// A chunk's items as parsed at `start` in `file`.
struct Parsed {
    start: usize,
    file: FileId,
    items: Vec<Item>,
}

/// [`super::parse`], reusing the chunks in `cache` and leaving there the
/// chunks of `text`.
pub fn parse_cached(file: FileId, text: &str, diagnostics: &mut Diagnostics, cache: &mut ParseCache) -> Policy {
    let mut next: HashMap<String, Parsed> = HashMap::new();
    let mut items = Vec::new();
    for (start, end) in chunks(text) {
        let chunk = &text[start..end];
        let parsed = match cache.chunks.remove(chunk) {
            Some(old) => {
                let mut moved = old.items;
                for item in &mut moved {
                    item.relocate(&|s: Span| move_span(s, old.file, old.start, file, start));
                }
                moved
            }
            None => match super::depth::too_deep(chunk)
                .is_none()
                .then(|| grammar::RouteParser::parse(Rule::single_item, chunk).ok())
                .flatten()
            {
                Some(mut pairs) => pairs.next().map(|p| build::items(file, start, p.into_inner())).unwrap_or_default(),
                None => {
                    // Not one whole item, or nested too deep: the whole-file parse decides. The
                    // chunks parsed so far stay cached for the next version.
                    cache.chunks.extend(next);
                    return super::parse(file, text, diagnostics);
                }
            },
        };
        items.extend(parsed.iter().cloned());
        next.insert(chunk.to_string(), Parsed { start, file, items: parsed });
    }
    cache.chunks = next;
    Policy { file, items, broken: Vec::new() }
}

fn move_span(span: Span, old_file: FileId, old_start: usize, file: FileId, start: usize) -> Span {
    if span.file != old_file {
        return span;
    }
    let at = |offset: u32| (offset as usize - old_start + start) as u32;
    Span { file, start: at(span.start), end: at(span.end) }
}

/// Every span of a tree, mapped through a function.
trait Relocate {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span);
}

impl Relocate for Span {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        *self = f(*self);
    }
}

impl<T: Relocate> Relocate for Vec<T> {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        self.iter_mut().for_each(|x| x.relocate(f));
    }
}

impl<T: Relocate> Relocate for Option<T> {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        if let Some(x) = self {
            x.relocate(f);
        }
    }
}

impl<T: Relocate> Relocate for Box<T> {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        (**self).relocate(f);
    }
}

/// Spans of plain-data pairs: `(u64, Span)`, `(String, Span)`, `(Ident, u64)`.
impl Relocate for (u64, Span) {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        self.1.relocate(f);
    }
}

impl Relocate for (String, Span) {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        self.1.relocate(f);
    }
}

impl Relocate for (Ident, u64) {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        self.0.relocate(f);
    }
}

/// `relocate` for structs: every listed field.
macro_rules! fields {
    ($($ty:ty => [$($field:ident),*];)*) => {
        $(impl Relocate for $ty {
            fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
                $(self.$field.relocate(f);)*
            }
        })*
    };
}

fields! {
    Ident => [span];
    Path => [segments, span];
    StrLit => [span];
    Item => [kind, allows, span];
    Allow => [span];
    PolicyDecl => [name, version];
    ModeDecl => [span];
    TicketDecl => [fields];
    FieldDecl => [name, ty, span];
    TypeExpr => [kind, span];
    ScheduleDecl => [name, entries];
    HoursLine => [days, times, span];
    DayRange => [from, to, span];
    TimeRange => [from, to, span];
    DestinationDecl => [name, body];
    KeywordsDecl => [name, phrases];
    RegexDecl => [name, pattern];
    ClassifierDecl => [name, model, entries];
    Number => [span];
    PriorityDecl => [rules, default];
    PriorityRule => [level, when, allows, span];
    SlaDecl => [name, per, entries];
    SlaTarget => [priority, duration, span];
    SlaSetting => [sla, duration, span];
    DurationLit => [span];
    RuleDecl => [name, when, outcome];
    Outcome => [destination, clauses, span];
    MatrixDecl => [dimensions, rows];
    MatrixRow => [cells, outcome, allows, span];
    TestDecl => [name, ticket, signals, at, load, expect, repeated];
    FieldValue => [path, value, span];
    Expectation => [destination, priority, span];
    Expr => [kind, span];
    Literal => [kind, span];
}

impl Relocate for ItemKind {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        match self {
            ItemKind::Policy(x) => x.relocate(f),
            ItemKind::Import(x) => x.relocate(f),
            ItemKind::Mode(x) => x.relocate(f),
            ItemKind::Ticket(x) => x.relocate(f),
            ItemKind::Schedule(x) => x.relocate(f),
            ItemKind::Destination(x) => x.relocate(f),
            ItemKind::Keywords(x) => x.relocate(f),
            ItemKind::Regex(x) => x.relocate(f),
            ItemKind::Classifier(x) => x.relocate(f),
            ItemKind::Priorities(x) => x.relocate(f),
            ItemKind::Priority(x) => x.relocate(f),
            ItemKind::Sla(x) => x.relocate(f),
            ItemKind::Escalate(x) | ItemKind::Rule(x) => x.relocate(f),
            ItemKind::Matrix(x) => x.relocate(f),
            ItemKind::Otherwise(x) => x.relocate(f),
            ItemKind::Test(x) => x.relocate(f),
            ItemKind::Error => {}
        }
    }
}

impl Relocate for TypeKind {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        match self {
            TypeKind::Named(x) | TypeKind::List(x) => x.relocate(f),
            TypeKind::Enum(x) => x.relocate(f),
            TypeKind::Record(x) => x.relocate(f),
        }
    }
}

impl Relocate for ScheduleEntry {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        match self {
            ScheduleEntry::TimeZone(x) => x.relocate(f),
            ScheduleEntry::AlwaysOpen(x) => x.relocate(f),
            ScheduleEntry::Holidays(x) => x.relocate(f),
            ScheduleEntry::Hours(x) => x.relocate(f),
        }
    }
}

impl Relocate for DestinationEntry {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        match self {
            DestinationEntry::Hours(x) => x.relocate(f),
            DestinationEntry::Capacity(_, span) => span.relocate(f),
            DestinationEntry::Skills(x) => x.relocate(f),
            DestinationEntry::Fallback { target, span, .. } => {
                target.relocate(f);
                span.relocate(f);
            }
            DestinationEntry::Sla(x, span) => {
                x.relocate(f);
                span.relocate(f);
            }
        }
    }
}

impl Relocate for ClassifierEntry {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        match self {
            ClassifierEntry::Labels(x) => x.relocate(f),
            ClassifierEntry::Features(x) => x.relocate(f),
            ClassifierEntry::Threshold { label, value } => {
                label.relocate(f);
                value.relocate(f);
            }
        }
    }
}

impl Relocate for SlaEntry {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        match self {
            SlaEntry::Target(x) => x.relocate(f),
            SlaEntry::Override { tier, targets, span } => {
                tier.relocate(f);
                targets.relocate(f);
                span.relocate(f);
            }
        }
    }
}

impl Relocate for Clause {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        match self {
            Clause::Priority(x) => x.relocate(f),
            Clause::Shadow(x) => x.relocate(f),
            Clause::Rollout { percent } => percent.relocate(f),
            Clause::Handoff(x) => x.relocate(f),
            Clause::Sla(x, span) => {
                x.relocate(f);
                span.relocate(f);
            }
            Clause::Notify { target, span, .. } => {
                target.relocate(f);
                span.relocate(f);
            }
            Clause::CreateIssue { project, severity, area, span, .. } => {
                project.relocate(f);
                severity.relocate(f);
                area.relocate(f);
                span.relocate(f);
            }
            Clause::Tag(x) => x.relocate(f),
            Clause::Set { field, value, span } => {
                field.relocate(f);
                value.relocate(f);
                span.relocate(f);
            }
        }
    }
}

impl Relocate for Cell {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        match self {
            Cell::Wildcard(span) => span.relocate(f),
            Cell::Values(values, span) => {
                values.relocate(f);
                span.relocate(f);
            }
        }
    }
}

impl Relocate for ExprKind {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        match self {
            ExprKind::Or(x) | ExprKind::And(x) => x.relocate(f),
            ExprKind::Not(x) | ExprKind::Paren(x) => x.relocate(f),
            ExprKind::Truthy(x) => x.relocate(f),
            ExprKind::Compare { lhs, rhs, .. } => {
                lhs.relocate(f);
                rhs.relocate(f);
            }
            ExprKind::In { lhs, list, list_span, .. } => {
                lhs.relocate(f);
                list.relocate(f);
                list_span.relocate(f);
            }
            ExprKind::Has { lhs, target } => {
                lhs.relocate(f);
                match target {
                    HasTarget::Set(x) => x.relocate(f),
                    HasTarget::Inline(x, span) => {
                        x.relocate(f);
                        span.relocate(f);
                    }
                }
            }
            ExprKind::Matches { lhs, target } => {
                lhs.relocate(f);
                match target {
                    MatchTarget::Named(x) => x.relocate(f),
                    MatchTarget::Inline(x) => x.relocate(f),
                }
            }
            ExprKind::StringTest { lhs, value, .. } => {
                lhs.relocate(f);
                value.relocate(f);
            }
        }
    }
}

impl Relocate for Operand {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        match self {
            Operand::Path(x) => x.relocate(f),
            Operand::Literal(x) => x.relocate(f),
        }
    }
}

impl Relocate for LiteralKind {
    fn relocate(&mut self, f: &dyn Fn(Span) -> Span) {
        if let LiteralKind::List(x) = self {
            x.relocate(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str) -> (Policy, usize) {
        let mut d = Diagnostics::new();
        let p = super::super::parse(FileId::default(), text, &mut d);
        (p, d.len())
    }

    fn cached(text: &str, cache: &mut ParseCache) -> (Policy, usize) {
        let mut d = Diagnostics::new();
        let p = parse_cached(FileId::default(), text, &mut d, cache);
        (p, d.len())
    }

    const POLICY: &str = r#"policy "p" version 1
# a comment
ticket {
  subject: text
  tier: free | pro
  n: int?
}

schedule hours { timezone "UTC" mon-fri 09:00-17:00 }
team a { hours hours when closed -> b }
team b
keywords kw = ["x", "y"]
regex r = "a+"
priority {
  P1 when tier == pro and text has kw
  default P3
}
sla s per tier { P1: 1h  pro: P1 30m }
@allow(unreachable-rule)
rule one when subject contains "z" or n > 3 -> a
  tag "t"
  priority P2
escalate e when text has ["q"] -> b
  rollout 50%
matrix tier {
  pro -> a
  _ -> b
}
otherwise -> b
test "t" {
  ticket { subject: "x", tier: pro }
  expect a
}
"#;

    #[test]
    fn edits_give_the_whole_file_parse() {
        let mut cache = ParseCache::default();
        let edits: Vec<String> = vec![
            POLICY.to_string(),
            POLICY.replace("tag \"t\"", "tag \"longer tag\""),
            POLICY.replace("policy \"p\"", "policy \"a longer name\""),
            POLICY.replace("-> a\n  tag", "-> b\n  tag"),
            POLICY.replace("otherwise -> b", "otherwise -> a\npriority P1"),
            POLICY.replace("rule one", "rule one when"),
            POLICY.to_string(),
            format!("{POLICY}\nqueue extra\n"),
            POLICY.replace("\nteam b\n", "\n"),
        ];
        for text in &edits {
            assert_eq!(cached(text, &mut cache), whole(text), "{text}");
        }
    }
}
