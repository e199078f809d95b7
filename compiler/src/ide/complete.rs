//! Completion: the [`Context`] before the cursor says what may come next;
//! the checked policy says which names exist. Schema fields after
//! `customer.`, enum values after `==` / `in [`, destinations after `->`,
//! keyword sets after `has`, intents, keywords, and snippets for `rule`,
//! `escalate`, `matrix` and `test`.

use super::context::{context, Context};
use super::describe;
use super::Snapshot;
use crate::hir::{self, Policy, Ty};
use std::ops::Range;

/// What a completion inserts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Field,
    Record,
    Signal,
    EnumValue,
    Destination,
    KeywordSet,
    Regex,
    Schedule,
    Sla,
    Priority,
    Keyword,
    Type,
    Snippet,
}

/// One completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    /// The text to insert; with `$1`-style placeholders when `snippet`.
    pub insert: String,
    pub snippet: bool,
    /// The byte range of the current text the insert replaces (the word
    /// typed so far).
    pub replace: Range<usize>,
}

/// Keywords that start a top-level item: the parser's list, minus `@allow`
/// (an attribute, completed on its own).
fn item_keywords() -> Vec<&'static str> {
    crate::syntax::ITEM_KEYWORDS.iter().copied().filter(|k| !k.starts_with('@')).collect()
}

/// Clauses after a rule's destination.
const CLAUSES: &[&str] = &["priority", "shadow", "rollout", "handoff", "sla", "notify", "create_issue", "tag", "set"];

const TYPES: &[&str] = &["text", "string", "int", "number", "bool", "time", "duration", "url"];

/// Snippets: (label, detail, body).
const SNIPPETS: &[(&str, &str, &str)] = &[
    ("rule", "rule NAME when CONDITION -> DESTINATION", "rule ${1:name} when ${2:condition} -> ${3:destination}"),
    (
        "escalate",
        "escalate NAME when CONDITION -> DESTINATION",
        "escalate ${1:name} when ${2:condition} -> ${3:destination}\n  priority ${4:P1}\n  handoff ${5:customer.tier}",
    ),
    (
        "matrix",
        "matrix DIMENSION, DIMENSION { rows }",
        "matrix ${1:intent}, ${2:customer.tier} {\n  ${3:_}, ${4:_} -> ${5:destination}\n}",
    ),
    (
        "test",
        "test \"NAME\" { ticket, signals, expect }",
        "test \"${1:what it shows}\" {\n  ticket { ${2:subject: \"\"} }\n  signals { ${3:intent: billing, confidence: 0.9} }\n  expect ${4:destination}\n}",
    ),
    ("team", "team NAME { hours, fallbacks }", "team ${1:name} {\n  hours ${2:schedule}\n  when closed -> ${3:oncall}\n}"),
    ("keywords", "keywords NAME = [phrases]", "keywords ${1:name} = [\"${2:phrase}\"]"),
    ("schedule", "schedule NAME { hours }", "schedule ${1:name} {\n  timezone \"${2:America/New_York}\"\n  mon-fri ${3:09:00-17:00}\n}"),
];

pub(super) fn completions(snap: &Snapshot, text: &str, offset: usize) -> Vec<CompletionItem> {
    let (ctx, word_start) = context(text, offset);
    let end = offset.min(text.len()).max(word_start);
    let mut out = Completions { policy: &snap.analysis.hir, items: Vec::new(), replace: word_start..end };
    out.fill(&ctx);
    out.items
}

struct Completions<'p> {
    policy: &'p Policy,
    items: Vec<CompletionItem>,
    replace: Range<usize>,
}

impl Completions<'_> {
    fn push(&mut self, label: &str, kind: CompletionKind, detail: Option<String>) {
        if self.items.iter().any(|i| i.label == label && i.kind == kind) {
            return;
        }
        self.items.push(CompletionItem {
            label: label.to_string(),
            kind,
            detail,
            insert: label.to_string(),
            snippet: false,
            replace: self.replace.clone(),
        });
    }

    fn words(&mut self, words: &[&str], kind: CompletionKind) {
        for w in words {
            self.push(w, kind, None);
        }
    }

    fn fill(&mut self, ctx: &Context) {
        match ctx {
            Context::Nothing => {}
            Context::FieldPath { parent } => self.fields(parent),
            Context::Condition => self.condition(),
            Context::Destination => self.destinations(),
            Context::KeywordSet => {
                for k in &self.policy.keyword_sets {
                    let Some(name) = &k.name else { continue };
                    let detail = k.phrases.iter().take(3).map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", ");
                    self.push(name, CompletionKind::KeywordSet, Some(format!("keywords [{detail}, …]")));
                }
            }
            Context::Regex => {
                for r in &self.policy.regexes {
                    let Some(name) = &r.name else { continue };
                    self.push(name, CompletionKind::Regex, Some(format!("regex \"{}\"", r.pattern)));
                }
            }
            Context::Schedule => {
                for s in &self.policy.schedules {
                    self.push(&s.name, CompletionKind::Schedule, Some(describe::schedule(s)));
                }
            }
            Context::Sla => {
                for s in &self.policy.slas {
                    let detail = match s.per {
                        Some(per) => format!("sla per {}", self.policy.field(per).path),
                        None => "sla".to_string(),
                    };
                    self.push(&s.name, CompletionKind::Sla, Some(detail));
                }
            }
            Context::Values { owner, wildcard } => {
                self.values(owner);
                if *wildcard {
                    self.push("_", CompletionKind::Keyword, Some("any value".to_string()));
                }
            }
            Context::Priority => self.priorities(),
            Context::FallbackReason => self.words(&["closed", "full"], CompletionKind::Keyword),
            Context::Type => self.words(TYPES, CompletionKind::Type),
            Context::Clause => self.words(CLAUSES, CompletionKind::Keyword),
            Context::Words(words) => self.words(words, CompletionKind::Keyword),
            Context::TestField => {
                self.fields("");
                self.signals();
            }
            Context::TopLevel => {
                self.words(&item_keywords(), CompletionKind::Keyword);
                self.snippets();
            }
            Context::Anything => {
                self.condition();
                self.words(
                    &["when", "and", "or", "not", "in", "has", "matches", "starts_with", "ends_with", "contains"],
                    CompletionKind::Keyword,
                );
                self.words(CLAUSES, CompletionKind::Keyword);
            }
        }
    }

    fn snippets(&mut self) {
        for (label, detail, body) in SNIPPETS {
            self.items.push(CompletionItem {
                label: (*label).to_string(),
                kind: CompletionKind::Snippet,
                detail: Some((*detail).to_string()),
                insert: (*body).to_string(),
                snippet: true,
                replace: self.replace.clone(),
            });
        }
    }

    /// The next segment of every field under `parent` (all top-level names
    /// when `parent` is empty).
    fn fields(&mut self, parent: &str) {
        let prefix = if parent.is_empty() { String::new() } else { format!("{parent}.") };
        let policy = self.policy;
        for f in &policy.fields {
            let Some(rest) = f.path.strip_prefix(&prefix) else { continue };
            match rest.split_once('.') {
                // A URL's parts are offered after `page.`; `page` itself is a field, not a record.
                Some(_) if f.url_part.is_some() => {}
                Some((record, _)) => self.push(record, CompletionKind::Record, Some("record".to_string())),
                None => {
                    let optional = if f.optional { "?" } else { "" };
                    self.push(rest, CompletionKind::Field, Some(format!("{}{optional}", describe::ty(policy, &f.ty))));
                }
            }
        }
    }

    fn signals(&mut self) {
        let policy = self.policy;
        if let Some(c) = &policy.classifier {
            let labels = describe::ty(policy, &Ty::Enum(c.labels));
            self.push(&c.name, CompletionKind::Signal, Some(format!("intent: {labels}")));
            self.push("confidence", CompletionKind::Signal, Some("number, 0..1".to_string()));
        }
        self.push("sentiment", CompletionKind::Signal, Some("number, -1..1".to_string()));
        self.push("language", CompletionKind::Signal, Some(hir::LANGUAGES.join(" | ")));
    }

    fn condition(&mut self) {
        self.fields("");
        self.signals();
        if self.policy.classifier.is_some() {
            self.push("threshold", CompletionKind::Signal, Some("number: the intent's threshold".to_string()));
        }
        self.push("priority", CompletionKind::Signal, Some("the computed priority".to_string()));
        self.push(
            "text",
            CompletionKind::Signal,
            Some("all text fields, with `has`, `matches`, `contains`…".to_string()),
        );
        self.push("not", CompletionKind::Keyword, None);
    }

    fn destinations(&mut self) {
        let policy = self.policy;
        for d in &policy.destinations {
            let hours = d.schedule.and_then(|s| policy.schedules.get(s.index())).map(describe::schedule);
            let detail = match hours {
                Some(h) => format!("{} · {h}", d.kind.keyword()),
                None => d.kind.keyword().to_string(),
            };
            self.push(&d.name, CompletionKind::Destination, Some(detail));
        }
    }

    fn priorities(&mut self) {
        for p in &self.policy.priorities {
            self.push(&p.name, CompletionKind::Priority, Some("priority".to_string()));
        }
    }

    fn values(&mut self, owner: &str) {
        let policy = self.policy;
        let ty = match owner {
            "priority" => return self.priorities(),
            "language" => Some(Ty::Enum(policy.language_enum)),
            name if policy.classifier.as_ref().is_some_and(|c| c.name == name) => {
                policy.classifier.as_ref().map(|c| Ty::Enum(c.labels))
            }
            path => policy.field_by_path(path).map(|f| policy.field(f).ty.clone()),
        };
        match ty {
            Some(Ty::Enum(e)) => {
                let def = policy.enum_def(e);
                let classifier = policy.classifier.as_ref().filter(|c| c.labels == e);
                for (i, v) in def.values.iter().enumerate() {
                    let detail = match classifier {
                        Some(c) => {
                            let threshold = c.thresholds.get(i).copied().unwrap_or(c.default_threshold);
                            format!("intent label, threshold {}", describe::fraction(threshold))
                        }
                        None => format!("{owner} value"),
                    };
                    self.push(&v.name, CompletionKind::EnumValue, Some(detail));
                }
            }
            Some(Ty::Bool) => self.words(&["true", "false"], CompletionKind::EnumValue),
            _ => {}
        }
    }
}
