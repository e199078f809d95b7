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
    /// The text fields scanned for keywords: only those some keyword test of
    /// the program reads (all `text` fields for `text has`, or the one named).
    scanned: Vec<hir::FieldId>,
    /// Per slot of the program, how a keyword slot is read from the hits of
    /// the scanned fields; `None` for every other slot.
    keyword_slots: Vec<Option<KeywordSlot>>,
    /// Label index in the model → label index in the policy.
    model: Option<(routec_classifier::Model, Vec<Option<u32>>)>,
}

/// Where a keyword slot's value comes from.
struct KeywordSlot {
    set: usize,
    /// Indices into `Extractor::scanned`; the slot is set when any has a hit.
    fields: Vec<usize>,
}

thread_local! {
    /// Keyword hits of the ticket being extracted, one bool per (scanned
    /// field, set): reused so extraction does not allocate per ticket.
    static HITS: std::cell::RefCell<Vec<bool>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Extractor {
    pub fn new(policy: &Policy, program: &Program, model: Option<routec_classifier::Model>) -> Extractor {
        let sets: Vec<Vec<String>> = policy.keyword_sets.iter().map(|k| k.phrases.clone()).collect();
        let regexes = policy.regexes.iter().map(|r| regex::Regex::new(&r.pattern).ok()).collect();
        let scope_fields = |scope: &TextScope| -> Vec<hir::FieldId> {
            match scope {
                TextScope::AllText => (0..policy.fields.len() as u32)
                    .map(hir::FieldId)
                    .filter(|f| policy.field(*f).ty == Ty::Text)
                    .collect(),
                TextScope::Field(f) => vec![*f],
            }
        };
        let mut scanned: Vec<hir::FieldId> = Vec::new();
        for slot in &program.slots {
            if let SlotSource::Keywords { scope, .. } = slot {
                for f in scope_fields(scope) {
                    if !scanned.contains(&f) {
                        scanned.push(f);
                    }
                }
            }
        }
        scanned.sort();
        let keyword_slots = program
            .slots
            .iter()
            .map(|slot| match slot {
                SlotSource::Keywords { scope, set } => Some(KeywordSlot {
                    set: set.index(),
                    fields: scope_fields(scope).iter().filter_map(|f| scanned.iter().position(|s| s == f)).collect(),
                }),
                _ => None,
            })
            .collect();
        let model = model.and_then(|m| {
            let classifier = policy.classifier.as_ref()?;
            let labels = policy.enum_def(classifier.labels);
            let map = m.labels().iter().map(|l| labels.position(l)).collect();
            Some((m, map))
        });
        Extractor { keywords: KeywordMatcher::new(&sets), regexes, scanned, keyword_slots, model }
    }

    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// Compute signals and fill `block` (resized to the program's slot count).
    pub fn extract(&self, policy: &Policy, program: &Program, ticket: &Ticket, block: &mut Vec<f64>) -> Signals {
        HITS.with(|hits| {
            // Re-entrancy cannot happen (nothing here calls back into the
            // extractor), but a fresh buffer is the safe answer if it did.
            let mut fresh = Vec::new();
            let mut borrowed = hits.try_borrow_mut();
            let hits = match &mut borrowed {
                Ok(h) => &mut **h,
                Err(_) => &mut fresh,
            };
            self.extract_with(policy, program, ticket, block, hits)
        })
    }

    fn extract_with(
        &self,
        policy: &Policy,
        program: &Program,
        ticket: &Ticket,
        block: &mut Vec<f64>,
        hits: &mut Vec<bool>,
    ) -> Signals {
        let n_sets = self.keywords.set_count();
        hits.clear();
        hits.resize(self.scanned.len() * n_sets, false);
        for (i, f) in self.scanned.iter().enumerate() {
            if let FieldValue::Text(t) = &ticket.values[f.index()] {
                self.keywords.scan(t, &mut hits[i * n_sets..(i + 1) * n_sets]);
            }
        }
        let signals = self.classify(policy, ticket, hits);
        block.clear();
        block.reserve(program.slots.len());
        for (slot, keyword_slot) in program.slots.iter().zip(&self.keyword_slots) {
            let v =
                match slot {
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
                    SlotSource::Keywords { .. } => bool_slot(keyword_slot.as_ref().is_some_and(|k| {
                        k.fields.iter().any(|i| hits.get(i * n_sets + k.set).copied().unwrap_or(false))
                    })),
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

    fn classify(&self, policy: &Policy, ticket: &Ticket, hits: &[bool]) -> Signals {
        let mut s = Signals { source: "none", ..Signals::default() };
        // Only built when a detector needs it: most tickets from a helpdesk bring their signals.
        let text = || -> String {
            policy
                .fields
                .iter()
                .zip(&ticket.values)
                .filter(|(f, _)| f.ty == Ty::Text)
                .filter_map(|(_, v)| match v {
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
        let n_sets = self.keywords.set_count().max(1);
        for (fi, field_hits) in hits.chunks(n_sets).enumerate() {
            for (set, hit) in field_hits.iter().enumerate() {
                if *hit && policy.keyword_sets[set].name.is_some() {
                    s.keyword_hits.push((hir::KeywordSetId(set as u32), self.scanned[fi]));
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
