//! Ticket → signal block. Everything that reads text happens here (keyword
//! sets, regexes, string tests, the classifier, sentiment, language); the
//! engines only compare the numbers this module writes. The slot layout is
//! `ir::Program::slots`, documented in `routec_compiler::ir`.

mod keywords;

use crate::ticket::{FieldValue, Ticket};
use keywords::{Found, KeywordMatcher};
use routec_compiler::hir::{self, Policy, Signal, StringTest, TextScope, Ty};
use routec_compiler::ir::{Program, SlotSource};
use routec_compiler::syntax::ast::StringOp;

/// What the classifier and built-in detectors said about a ticket.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Signals {
    /// The intent, as an index into the classifier's labels.
    pub intent: Option<u32>,
    /// The intent's probability (1 when the ticket gave an intent without one).
    pub confidence: Option<f64>,
    /// Other likely intents with their probabilities, best first.
    pub alternatives: Vec<(u32, f64)>,
    /// Sentiment in [-1, 1].
    pub sentiment: f64,
    /// The language, as an index into the policy's language enum.
    pub language: u32,
    /// Where intent and confidence came from: `model`, `ticket` or `none`.
    pub source: &'static str,
    /// The named keyword sets that matched, by field, each with its first match.
    pub keyword_hits: Vec<KeywordMatch>,
}

/// Where a keyword set first matched in one field: what the trace shows.
#[derive(Clone, Debug, PartialEq)]
pub struct KeywordMatch {
    /// The keyword set.
    pub set: hir::KeywordSetId,
    /// The text field it matched in.
    pub field: hir::FieldId,
    /// The phrase that matched, lower-cased, one space between words.
    pub phrase: String,
    /// The byte range of the matched text in the field's text.
    pub span: (usize, usize),
}

/// Precompiled signal extraction for one policy.
pub struct Extractor {
    keywords: KeywordMatcher,
    regexes: Vec<Option<PolicyRegex>>,
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

/// Keyword hits of the ticket being extracted: reused so extraction does
/// not allocate per ticket.
#[derive(Default)]
struct Scratch {
    /// One bool per (scanned field, set).
    hits: Vec<bool>,
    /// Each set's first match per field: (index into `Extractor::scanned`, match).
    found: Vec<(usize, Found)>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl Extractor {
    pub fn new(policy: &Policy, program: &Program, model: Option<routec_classifier::Model>) -> Extractor {
        let sets: Vec<Vec<String>> = policy.keyword_sets.iter().map(|k| k.phrases.clone()).collect();
        let regexes = policy.regexes.iter().map(|r| PolicyRegex::new(&r.pattern)).collect();
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

    /// Whether a classifier model was given.
    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// Compute signals and fill `block` (resized to the program's slot count).
    pub fn extract(&self, policy: &Policy, program: &Program, ticket: &Ticket, block: &mut Vec<f64>) -> Signals {
        SCRATCH.with(|scratch| {
            // Re-entrancy cannot happen (nothing here calls back into the
            // extractor), but a fresh buffer is the safe answer if it did.
            let mut fresh = Scratch::default();
            let mut borrowed = scratch.try_borrow_mut();
            let scratch = match &mut borrowed {
                Ok(h) => &mut **h,
                Err(_) => &mut fresh,
            };
            self.extract_with(policy, program, ticket, block, scratch)
        })
    }

    fn extract_with(
        &self,
        policy: &Policy,
        program: &Program,
        ticket: &Ticket,
        block: &mut Vec<f64>,
        scratch: &mut Scratch,
    ) -> Signals {
        let n_sets = self.keywords.set_count();
        let Scratch { hits, found } = scratch;
        hits.clear();
        hits.resize(self.scanned.len() * n_sets, false);
        found.clear();
        for (i, f) in self.scanned.iter().enumerate() {
            if let FieldValue::Text(t) = &ticket.values[f.index()] {
                self.keywords.scan(t, &mut hits[i * n_sets..(i + 1) * n_sets], |m| found.push((i, m)));
            }
        }
        let signals = self.classify(policy, ticket, found);
        let hits = &*hits;
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

    fn classify(&self, policy: &Policy, ticket: &Ticket, found: &[(usize, Found)]) -> Signals {
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
        let mut named: Vec<&(usize, Found)> =
            found.iter().filter(|(_, m)| policy.keyword_sets.get(m.set).is_some_and(|k| k.name.is_some())).collect();
        named.sort_by_key(|(field, m)| (*field, m.set));
        for &&(field_index, m) in &named {
            let field = self.scanned[field_index];
            let span = match &ticket.values[field.index()] {
                FieldValue::Text(t) if m.normalised => keywords::original_span(t, m.start, m.end),
                _ => (m.start, m.end),
            };
            s.keyword_hits.push(KeywordMatch {
                set: hir::KeywordSetId(m.set as u32),
                field,
                phrase: self.keywords.phrase(m.phrase).to_string(),
                span,
            });
        }
        s
    }
}

/// A policy's regex, with an ASCII-mode twin for ASCII text.
///
/// On a haystack that is all ASCII, an ASCII-only pattern compiled without
/// Unicode (`\\w`, `\\d`, `\\s`, `\\b`, `.`, negated classes and case
/// folding restricted to ASCII) matches exactly when the Unicode one does:
/// their classes agree on ASCII characters, and the only extra case
/// partners Unicode adds to ASCII letters (U+212A KELVIN SIGN for `k`,
/// U+017F LONG S for `s`) cannot occur in ASCII text. A pattern that is not
/// ASCII text, or has an escape that can name a non-ASCII character or a
/// Unicode class (`\\x`, `\\u`, `\\p`, …), gets no twin.
/// The twin skips Unicode case folding, which makes `(?i)` searches about
/// twice as fast.
struct PolicyRegex {
    unicode: regex::Regex,
    ascii: Option<regex::bytes::Regex>,
}

impl PolicyRegex {
    /// `None` for a pattern that does not compile (the checker reported it).
    fn new(pattern: &str) -> Option<PolicyRegex> {
        let unicode = regex::Regex::new(pattern).ok()?;
        // Escapes that can name a non-ASCII character (`\\x{17F}` is LONG S,
        // which `(?i)` pairs with `s`) or a Unicode class rule the twin out.
        let names_unicode = ["\\x", "\\u", "\\U", "\\p", "\\P", "\\N"].iter().any(|e| pattern.contains(e));
        let ascii = if pattern.is_ascii() && !names_unicode {
            regex::bytes::RegexBuilder::new(pattern).unicode(false).build().ok()
        } else {
            None
        };
        Some(PolicyRegex { unicode, ascii })
    }

    fn is_match(&self, text: &str) -> bool {
        match &self.ascii {
            Some(ascii) if text.is_ascii() => ascii.is_match(text.as_bytes()),
            _ => self.unicode.is_match(text),
        }
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
        (FieldValue::Text(path), StringTest::PathPrefix) => crate::url::path_under(path, expected),
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

#[cfg(test)]
mod tests {
    use super::PolicyRegex;

    /// The ASCII twin and the Unicode regex agree on ASCII text, for
    /// patterns using every construct whose meaning depends on Unicode mode.
    #[test]
    fn the_ascii_twin_agrees_on_ascii_text() {
        let patterns = [
            "(?i)(error|status|http) ?5[0-9][0-9]",
            "INV-[0-9]{6}",
            r"(?i)\bsk\w+\b",
            r"\d+\s\D",
            r"(?i)[^a-z]k.s$",
            r"^\W+|\S{3}",
            r"(?i)[k-s]{2}",
            r"[[:alpha:]]+[[:^digit:]]",
        ];
        let pieces = ["a", "K", "k", "S", "s", "5", "0", " ", "\t", "\n", "-", "_", "ERROR", "http", "INV-", "é"];
        let mut seed: u64 = 11;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for pattern in patterns {
            let re = PolicyRegex::new(pattern).expect("a valid pattern");
            assert!(re.ascii.is_some(), "{pattern} gets a twin");
            for _ in 0..4000 {
                let mut text = String::new();
                for _ in 0..next() % 10 {
                    text.push_str(pieces[next() % pieces.len()]);
                }
                let unicode = re.unicode.is_match(&text);
                assert_eq!(re.is_match(&text), unicode, "{pattern} on {text:?}");
            }
        }
        // Patterns that name non-ASCII characters get no twin.
        for pattern in [r"(?i)\x{17F}", r"(?i)\x6b", r"\p{Greek}", r"\pL", "(?i)ärger", r"(?i)\u{212A}"] {
            assert!(PolicyRegex::new(pattern).is_some_and(|r| r.ascii.is_none()), "{pattern}");
        }
        // The Kelvin sign matches `(?i)k` only through Unicode; non-ASCII text uses the Unicode regex.
        let k = PolicyRegex::new("(?i)k").expect("valid");
        assert!(k.is_match("\u{212A}"));
    }
}
