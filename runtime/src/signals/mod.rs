//! Ticket → signal block. Everything that reads text happens here (keyword
//! sets, regexes, string tests, the classifier, sentiment, language); the
//! engines only compare the numbers this module writes. The slot layout is
//! `ir::Program::slots`, documented in `routec_compiler::ir`.

pub mod keywords;

use crate::ticket::{FieldValue, Ticket};
use keywords::KeywordMatcher;
use routec_compiler::hir::{self, Policy, Signal, StringTest, TextScope, Ty};
use routec_compiler::ir::{Program, SlotSource};
use routec_compiler::syntax::ast::StringOp;

/// What the classifier and built-in detectors said about a ticket.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Signals {
    pub intent: Option<u32>,
    pub confidence: Option<f64>,
    /// Other likely intents with their probabilities, best first.
    pub alternatives: Vec<(u32, f64)>,
    pub sentiment: f64,
    pub language: u32,
    /// Where intent and confidence came from: `model`, `ticket` or `none`.
    pub source: &'static str,
    /// (keyword set, field) pairs that matched, named sets only.
    pub keyword_hits: Vec<(hir::KeywordSetId, hir::FieldId)>,
}

/// Precompiled signal extraction for one policy.
pub struct Extractor {
    keywords: KeywordMatcher,
    regexes: Vec<Option<regex::Regex>>,
    /// The text fields scanned for keywords.
    text_fields: Vec<hir::FieldId>,
    /// Label index in the model → label index in the policy.
    model: Option<(routec_classifier::Model, Vec<Option<u32>>)>,
}

impl Extractor {
    pub fn new(policy: &Policy, model: Option<routec_classifier::Model>) -> Extractor {
        let sets: Vec<Vec<String>> = policy.keyword_sets.iter().map(|k| k.phrases.clone()).collect();
        let regexes = policy.regexes.iter().map(|r| regex::Regex::new(&r.pattern).ok()).collect();
        let text_fields = policy
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.ty.is_textual())
            .map(|(i, _)| hir::FieldId(i as u32))
            .collect();
        let model = model.and_then(|m| {
            let classifier = policy.classifier.as_ref()?;
            let labels = policy.enum_def(classifier.labels);
            let map = m.labels().iter().map(|l| labels.position(l)).collect();
            Some((m, map))
        });
        Extractor { keywords: KeywordMatcher::new(&sets), regexes, text_fields, model }
    }

    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// Compute signals and fill `block` (resized to the program's slot count).
    pub fn extract(&self, policy: &Policy, program: &Program, ticket: &Ticket, block: &mut Vec<f64>) -> Signals {
        let n_sets = self.keywords.set_count();
        // Per text field, which keyword sets it contains.
        let mut hits_by_field: Vec<Vec<bool>> = Vec::with_capacity(self.text_fields.len());
        for f in &self.text_fields {
            let mut hits = vec![false; n_sets];
            if let FieldValue::Text(t) = &ticket.values[f.index()] {
                self.keywords.scan(t, &mut hits);
            }
            hits_by_field.push(hits);
        }
        let signals = self.classify(policy, ticket, &hits_by_field);
        block.clear();
        block.reserve(program.slots.len());
        for slot in &program.slots {
            let v = match slot {
                SlotSource::Field(f) => match &ticket.values[f.index()] {
                    FieldValue::Number(n) => *n,
                    _ => f64::NAN,
                },
                SlotSource::Signal(Signal::Intent) => signals.intent.map(|i| i as f64).unwrap_or(f64::NAN),
                SlotSource::Signal(Signal::Confidence) => signals.confidence.unwrap_or(f64::NAN),
                SlotSource::Signal(Signal::Threshold) => match (&policy.classifier, signals.intent) {
                    (Some(c), Some(i)) => c.thresholds.get(i as usize).copied().unwrap_or(c.default_threshold),
                    _ => f64::NAN,
                },
                SlotSource::Signal(Signal::Sentiment) => signals.sentiment,
                SlotSource::Signal(Signal::Language) => signals.language as f64,
                SlotSource::Signal(Signal::Priority) => f64::NAN,
                SlotSource::Bucket => bucket(ticket.id.as_deref()),
                SlotSource::Keywords { scope, set } => {
                    let hit = match scope {
                        TextScope::AllText => self
                            .text_fields
                            .iter()
                            .zip(&hits_by_field)
                            .any(|(f, h)| policy.field(*f).ty == Ty::Text && h[set.index()]),
                        TextScope::Field(f) => {
                            self.text_fields.iter().position(|x| x == f).is_some_and(|i| hits_by_field[i][set.index()])
                        }
                    };
                    bool_slot(hit)
                }
                SlotSource::Regex { field, regex } => {
                    match (&ticket.values[field.index()], &self.regexes[regex.index()]) {
                        (FieldValue::Text(t), Some(re)) => bool_slot(re.is_match(t)),
                        _ => 0.0,
                    }
                }
                SlotSource::StringTest { field, test, value } => {
                    bool_slot(string_test(&ticket.values[field.index()], *test, value))
                }
            };
            block.push(v);
        }
        signals
    }

    fn classify(&self, policy: &Policy, ticket: &Ticket, hits_by_field: &[Vec<bool>]) -> Signals {
        let mut s = Signals { source: "none", ..Signals::default() };
        // Only built when a detector needs it: most tickets from a helpdesk bring their signals.
        let text = || -> String {
            self.text_fields
                .iter()
                .filter(|f| policy.field(**f).ty == Ty::Text)
                .filter_map(|f| match &ticket.values[f.index()] {
                    FieldValue::Text(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let given = &ticket.signals;
        if given.intent.is_some() || given.confidence.is_some() {
            s.intent = given.intent;
            s.confidence = given.confidence.or(given.intent.map(|_| 1.0));
            s.source = "ticket";
        } else if let Some((model, map)) = &self.model {
            let lookup = |path: &str| -> Option<String> {
                let mut cur = &ticket.json;
                for seg in path.split('.') {
                    cur = cur.get(seg)?;
                }
                match cur {
                    serde_json::Value::String(st) => Some(st.clone()),
                    serde_json::Value::Null => None,
                    other => Some(other.to_string()),
                }
            };
            let p = model.predict(&lookup);
            s.intent = map.get(p.label).copied().flatten();
            s.confidence = Some(p.confidence);
            s.alternatives = p
                .top
                .iter()
                .filter(|(l, _)| *l != p.label)
                .filter_map(|(l, prob)| map.get(*l).copied().flatten().map(|x| (x, *prob)))
                .collect();
            s.source = "model";
        }
        let mut joined: Option<String> = None;
        s.sentiment = match given.sentiment {
            Some(v) => v,
            None => routec_classifier::sentiment(joined.get_or_insert_with(text)),
        };
        s.language = given.language.unwrap_or_else(|| {
            let lang = routec_classifier::detect_language(joined.get_or_insert_with(text));
            policy.enum_def(policy.language_enum).position(lang).unwrap_or(hir::LANGUAGES.len() as u32 - 1)
        });
        for (fi, f) in self.text_fields.iter().enumerate() {
            for (set, hit) in hits_by_field[fi].iter().enumerate() {
                if *hit && policy.keyword_sets[set].name.is_some() {
                    s.keyword_hits.push((hir::KeywordSetId(set as u32), *f));
                }
            }
        }
        s
    }
}

fn bool_slot(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn string_test(value: &FieldValue, test: StringTest, expected: &str) -> bool {
    match (value, test) {
        (FieldValue::Text(t), StringTest::Equals) => t == expected,
        (FieldValue::Text(t), StringTest::Op(StringOp::StartsWith)) => t.starts_with(expected),
        (FieldValue::Text(t), StringTest::Op(StringOp::EndsWith)) => t.ends_with(expected),
        (FieldValue::Text(t), StringTest::Op(StringOp::Contains)) => t.contains(expected),
        (FieldValue::List(items), StringTest::ListContains) => items.iter().any(|i| i == expected),
        _ => false,
    }
}

/// Rollout bucket in [0, 100) with two decimals, from FNV-1a of the ticket id.
/// Stable across runs, machines and versions: changing it would move tickets
/// between rollout groups.
pub fn bucket(id: Option<&str>) -> f64 {
    let Some(id) = id else { return f64::NAN };
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        hash ^= b as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % 10_000) as f64 / 100.0
}
