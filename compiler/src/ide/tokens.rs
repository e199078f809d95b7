//! Semantic tokens: the lexer's tokens, with names coloured by what they
//! refer to. When the text is the one the snapshot analysed, names are
//! classified by the [`NameIndex`](super::NameIndex)'s spans (a team and a
//! field may share a name); otherwise (the current text does not parse and
//! the last good analysis is used) by name.

use super::index::DefKind;
use super::lexer::{tokens, Lexeme, Token};
use super::Snapshot;
use crate::source::FileId;
use std::collections::HashMap;

/// What a token is, for colouring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Keyword,
    Comment,
    String,
    Number,
    Operator,
    /// A type name in the ticket schema.
    Type,
    Field,
    Record,
    EnumValue,
    Intent,
    Priority,
    Signal,
    Destination,
    Schedule,
    KeywordSet,
    Regex,
    Rule,
    Sla,
    /// `@allow`.
    Attribute,
}

/// Every kind, in a fixed order (the legend the language server announces).
pub const TOKEN_KINDS: &[TokenKind] = &[
    TokenKind::Keyword,
    TokenKind::Comment,
    TokenKind::String,
    TokenKind::Number,
    TokenKind::Operator,
    TokenKind::Type,
    TokenKind::Field,
    TokenKind::Record,
    TokenKind::EnumValue,
    TokenKind::Intent,
    TokenKind::Priority,
    TokenKind::Signal,
    TokenKind::Destination,
    TokenKind::Schedule,
    TokenKind::KeywordSet,
    TokenKind::Regex,
    TokenKind::Rule,
    TokenKind::Sla,
    TokenKind::Attribute,
];

/// One coloured range of the text (never spans lines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemanticToken {
    pub start: usize,
    pub end: usize,
    pub kind: TokenKind,
    /// The name is declared here.
    pub declaration: bool,
}

/// Words of the language coloured as keywords, besides the reserved words
/// (`syntax::RESERVED_WORDS`).
const KEYWORDS: &[&str] = &[
    "policy",
    "version",
    "import",
    "mode",
    "ticket",
    "schedule",
    "timezone",
    "tz",
    "holidays",
    "team",
    "queue",
    "role",
    "ai",
    "hours",
    "capacity",
    "skills",
    "when",
    "closed",
    "full",
    "keywords",
    "regex",
    "classifier",
    "from",
    "labels",
    "features",
    "threshold",
    "priorities",
    "priority",
    "default",
    "sla",
    "per",
    "business",
    "escalate",
    "rule",
    "matrix",
    "otherwise",
    "shadow",
    "enforce",
    "rollout",
    "handoff",
    "notify",
    "slack",
    "email",
    "create_issue",
    "jira",
    "linear",
    "severity",
    "area",
    "tag",
    "set",
    "test",
    "signals",
    "at",
    "load",
    "expect",
    "escalated",
    "fallback",
];
const TYPES: &[&str] = &["text", "string", "int", "number", "bool", "time", "duration"];
const SIGNALS: &[&str] = &["sentiment", "confidence", "language"];
const OPERATORS: &[&str] = &["->", "==", "!=", "<", "<=", ">", ">=", "=", "|", "-", "?", "%"];

/// Whether semantic tokens colour `word` as a language keyword (for the
/// test that keeps this list in step with the grammar).
#[cfg(test)]
pub(super) fn semantic_tokens_of_keyword(word: &str) -> bool {
    is_keyword(word)
}

/// A word of the language: one of [`KEYWORDS`] or a reserved word.
fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word) || crate::syntax::RESERVED_WORDS.contains(&word)
}

fn def_token(kind: DefKind) -> Option<TokenKind> {
    Some(match kind {
        DefKind::Field => TokenKind::Field,
        DefKind::Record => TokenKind::Record,
        DefKind::EnumValue => TokenKind::EnumValue,
        DefKind::Intent => TokenKind::Intent,
        DefKind::Classifier => TokenKind::Signal,
        DefKind::Priority => TokenKind::Priority,
        DefKind::Schedule => TokenKind::Schedule,
        DefKind::Destination => TokenKind::Destination,
        DefKind::KeywordSet => TokenKind::KeywordSet,
        DefKind::Regex => TokenKind::Regex,
        DefKind::Sla => TokenKind::Sla,
        DefKind::Escalation | DefKind::Rule => TokenKind::Rule,
        DefKind::Test => return None,
    })
}

/// How names are classified: by exact span, or by name alone.
enum Names {
    Spans(HashMap<usize, (TokenKind, bool)>),
    Words(HashMap<String, TokenKind>),
}

fn names(snap: &Snapshot, file: FileId, text: &str) -> Names {
    let index = snap.index();
    if snap.text(file) == text {
        let mut spans = HashMap::new();
        for d in index.defs.iter().filter(|d| d.name_span.file == file) {
            if let Some(kind) = def_token(d.kind) {
                spans.insert(d.name_span.start as usize, (kind, true));
            }
        }
        for r in index.refs.iter().filter(|r| r.span.file == file) {
            if let Some(kind) = index.defs.get(r.def).and_then(|d| def_token(d.kind)) {
                // A reference to `customer.tier` covers the last segment only.
                spans.entry(r.span.start as usize).or_insert((kind, false));
            }
        }
        return Names::Spans(spans);
    }
    let mut words = HashMap::new();
    for d in &index.defs {
        let Some(kind) = def_token(d.kind) else { continue };
        let last = d.name.rsplit('.').next().unwrap_or(&d.name);
        words.entry(last.to_string()).or_insert(kind);
    }
    Names::Words(words)
}

pub(super) fn semantic_tokens(snap: &Snapshot, file: FileId, text: &str) -> Vec<SemanticToken> {
    let names = names(snap, file, text);
    let toks = tokens(text);
    let mut out = Vec::with_capacity(toks.len());
    for (i, t) in toks.iter().enumerate() {
        let word = &text[t.start..t.end];
        let (kind, declaration) = match t.lexeme {
            Lexeme::Comment => (TokenKind::Comment, false),
            Lexeme::Str => (TokenKind::String, false),
            Lexeme::Number => (TokenKind::Number, false),
            Lexeme::Attribute => (TokenKind::Attribute, false),
            Lexeme::Punct if OPERATORS.contains(&word) => (TokenKind::Operator, false),
            Lexeme::Punct => continue,
            Lexeme::Word => match word_kind(&names, text, &toks, i) {
                Some(k) => k,
                None => continue,
            },
        };
        out.push(SemanticToken { start: t.start, end: t.end, kind, declaration });
    }
    out
}

fn word_kind(names: &Names, text: &str, toks: &[Token], i: usize) -> Option<(TokenKind, bool)> {
    let t = toks[i];
    let word = &text[t.start..t.end];
    let prev = toks[..i].iter().rev().find(|t| t.lexeme != Lexeme::Comment).map(|p| &text[p.start..p.end]);
    let next = toks.get(i + 1).map(|n| &text[n.start..n.end]);
    let known = match names {
        Names::Spans(spans) => spans.get(&t.start).copied(),
        Names::Words(words) if !is_keyword(word) => words.get(word).map(|k| (*k, false)),
        Names::Words(_) => None,
    };
    if let Some(k) = known {
        return Some(k);
    }
    let line_start = text[..t.start].rfind('\n').map_or(0, |n| n + 1);
    let first_on_line = text[line_start..t.start].trim().is_empty();
    Some(match word {
        "priority" if matches!(next, Some("==" | "!=" | "in" | "not")) => (TokenKind::Signal, false),
        "threshold" if !first_on_line => (TokenKind::Signal, false),
        "text" if next == Some("has") => (TokenKind::Signal, false),
        w if TYPES.contains(&w) && matches!(prev, Some(":" | "[")) => (TokenKind::Type, false),
        w if SIGNALS.contains(&w) => (TokenKind::Signal, false),
        w if is_keyword(w) => (TokenKind::Keyword, false),
        _ => return None,
    })
}
