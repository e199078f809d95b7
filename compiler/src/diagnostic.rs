//! The one diagnostic model: every pass pushes `Diagnostic`s into a
//! `Diagnostics` sink; the CLI renders them (human via miette, JSON, SARIF)
//! and the language server converts them. Sources are attached at the edge.

use crate::source::{SourceDb, Span};
use std::fmt;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! codes {
    ($($variant:ident => $text:literal, $summary:literal;)*) => {
        /// Stable diagnostic codes. `as_str` is what users see and what
        /// `@allow(...)` takes; never rename one.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }
        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }
            /// One line saying what the code is about.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }
            pub fn from_name(name: &str) -> Option<Code> {
                let name = name.strip_prefix("route::").unwrap_or(name);
                Code::ALL.iter().copied().find(|c| c.as_str().strip_prefix("route::") == Some(name))
            }
        }
    };
}

codes! {
    Syntax => "route::syntax", "the text does not follow the grammar";
    TooDeep => "route::too-deep", "brackets or `not`s nested deeper than the parser allows";
    UnknownName => "route::unknown-name", "a name that is not declared";
    UnknownField => "route::unknown-field", "a ticket field that the schema does not declare";
    UnknownType => "route::unknown-type", "a type name that does not exist";
    UnknownValue => "route::unknown-value", "an enum value the field does not have";
    TypeMismatch => "route::type-mismatch", "an operator applied to values of the wrong type";
    Duplicate => "route::duplicate", "the same name declared twice";
    MissingItem => "route::missing-item", "a required declaration is missing";
    BadThreshold => "route::bad-threshold", "a confidence threshold outside 0..1";
    BadDuration => "route::bad-duration", "a duration that cannot be read or is not positive";
    BadSchedule => "route::bad-schedule", "a schedule with a bad day, time, time zone or holiday";
    BadRegex => "route::bad-regex", "a regular expression that does not compile";
    BadValue => "route::bad-value", "a literal value that is out of range or malformed";
    Import => "route::import", "an import that cannot be read or loops";
    UnknownAllow => "route::unknown-allow", "an `@allow` naming a code that does not exist";
    EmptyKeywords => "route::empty-keywords", "a keyword set with no phrases or an empty phrase";
    BadPhrase => "route::bad-phrase", "a keyword phrase whose gap (`~N`), prefix (`*`) or typo mark (`~`) is malformed";
    ClassifierLabels => "route::classifier-labels", "declared intents differ from the model's labels";
    MissingModel => "route::missing-model", "a classifier model file that does not exist";
    UnreachableRule => "route::unreachable-rule", "a rule or escalation that can never match";
    MaybeUnreachableRule => "route::maybe-unreachable-rule", "a rule that may never match (inexact analysis)";
    NonExhaustiveMatrix => "route::non-exhaustive-matrix", "matrix combinations with no row";
    UnreachableRow => "route::unreachable-row", "a matrix row covered by earlier rows";
    OverlappingRows => "route::overlapping-rows", "matrix rows that overlap with different destinations";
    RoutesNowhere => "route::routes-nowhere", "a ticket can reach the end of the policy without a destination";
    FallbackCycle => "route::fallback-cycle", "fallback chains that loop";
    ClosedCoverage => "route::closed-coverage", "a priority with hours when every reachable destination is closed";
    SlaMissing => "route::sla-missing", "a priority or tier with no first-response target";
    SlaNoHours => "route::sla-no-hours", "a business-hours SLA on a destination with no hours";
    SlaOrder => "route::sla-order", "a more urgent priority with a longer target";
    SlaUnmeetable => "route::sla-unmeetable", "a calendar-time target shorter than its destination stays closed";
    Unused => "route::unused", "a declaration nothing refers to";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A labelled place in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
    pub primary: bool,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// A replacement the editor can apply (did-you-mean): text for the primary span.
    pub suggestion: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            suggestion: None,
        }
    }
    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }
    pub fn primary(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, text: text.into(), primary: true });
        self
    }
    pub fn secondary(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, text: text.into(), primary: false });
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
    pub fn suggest(mut self, replacement: impl Into<String>) -> Diagnostic {
        self.suggestion = Some(replacement.into());
        self
    }
    /// The span of the primary label (or the first label).
    pub fn span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).or(self.labels.first()).map(|l| l.span)
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The sink passes write into.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
    /// Sorted by (file, span, code) so output never depends on pass order;
    /// exact duplicates are dropped.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            let ka = a.span().map(|s| (s.file, s.start, s.end));
            let kb = b.span().map(|s| (s.file, s.start, s.end));
            ka.cmp(&kb).then(a.code.cmp(&b.code)).then(a.message.cmp(&b.message))
        });
        self.items.dedup();
        self.items
    }
    /// Drop diagnostics the policy allowed with `@allow(code)` on an item.
    pub fn retain(&mut self, keep: impl FnMut(&Diagnostic) -> bool) {
        self.items.retain(keep);
    }
}

/// User text for a message: whole when short, else its first `max_chars`
/// characters and `…`, so a megabyte-long string does not fill the terminal.
pub fn elide(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]).into(),
        None => text.into(),
    }
}

/// A diagnostic with the lines it points at attached, ready for miette's
/// renderer: a [`Snippet`](crate::snippet::Snippet), never the whole file,
/// so rendering costs what the labels' lines cost.
#[derive(Debug)]
pub struct Rendered {
    pub diagnostic: Diagnostic,
    source: crate::snippet::Snippet,
    /// The labels in the primary file, as spans into `source`.
    spans: Vec<miette::SourceSpan>,
}

impl Rendered {
    pub fn new(diagnostic: Diagnostic, db: &SourceDb) -> Rendered {
        let file = diagnostic.span().map(|s| s.file).unwrap_or_default();
        let in_file: Vec<Span> = diagnostic.labels.iter().filter(|l| l.span.file == file).map(|l| l.span).collect();
        let (source, spans) = if db.is_empty() {
            crate::snippet::Snippet::new("<none>", "", &crate::source::LineIndex::new(""), &[])
        } else {
            let f = db.file(file);
            crate::snippet::Snippet::new(&f.name, &f.text, &f.lines, &in_file)
        };
        Rendered { diagnostic, source, spans }
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diagnostic.code.as_str()))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic.help.as_ref().map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let primary_file = self.diagnostic.span().map(|s| s.file);
        // miette shows one source per report: labels in other files become notes in the message.
        let in_file = self.diagnostic.labels.iter().filter(move |l| Some(l.span.file) == primary_file);
        Some(Box::new(in_file.zip(self.spans.iter().copied()).map(|(l, span)| {
            let text = if l.text.is_empty() { None } else { Some(l.text.clone()) };
            if l.primary {
                miette::LabeledSpan::new_primary_with_span(text, span)
            } else {
                miette::LabeledSpan::new_with_span(text, span)
            }
        })))
    }
}
