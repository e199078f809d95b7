//! The edge between the compiler's plain data and LSP types: byte offsets
//! ↔ positions with UTF-16 columns, diagnostics (the primary label is the
//! range, the others related information), and the kinds of symbols,
//! completions and tokens.

use crate::paths;
use lsp_types as lsp;
use routec_compiler::ide::{CompletionKind, FoldKind, SymbolKind, TokenKind};
use routec_compiler::source::LineIndex;
use routec_compiler::{Diagnostic, Severity, Span};

/// The position of a byte offset.
pub(crate) fn position(lines: &LineIndex, offset: usize) -> lsp::Position {
    let lc = lines.line_col(offset);
    lsp::Position { line: lc.line, character: lc.col_utf16 }
}

pub(crate) fn range(lines: &LineIndex, start: usize, end: usize) -> lsp::Range {
    lsp::Range { start: position(lines, start), end: position(lines, end) }
}

/// The byte offset of a position. A column past the end of its line means
/// the end of the line (as the protocol says); a line past the end of the
/// text is an error.
pub(crate) fn offset(lines: &LineIndex, pos: lsp::Position) -> Result<usize, String> {
    if pos.line as usize >= lines.line_count() {
        return Err(format!(
            "position {}:{} is past the end of the document ({} lines)",
            pos.line,
            pos.character,
            lines.line_count()
        ));
    }
    Ok(lines.offset(pos.line, pos.character))
}

/// Where a span is, for a file of an analysis: looks up the file's lines and URI.
pub(crate) trait Locate {
    fn location(&self, span: Span) -> Option<lsp::Location>;
}

fn severity(s: Severity) -> lsp::DiagnosticSeverity {
    match s {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
    }
}

/// An LSP diagnostic for a compiler diagnostic whose primary span is at `range`.
pub(crate) fn diagnostic(d: &Diagnostic, range: lsp::Range, locate: &dyn Locate) -> lsp::Diagnostic {
    let primary = d.labels.iter().find(|l| l.primary).or(d.labels.first());
    let mut message = d.message.clone();
    if let Some(label) = primary.filter(|l| !l.text.is_empty()) {
        message.push_str(&format!("\n{}", label.text));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| !primary.is_some_and(|p| std::ptr::eq(p, *l)))
        .filter_map(|l| {
            let location = locate.location(l.span)?;
            let message = if l.text.is_empty() { d.message.clone() } else { l.text.clone() };
            Some(lsp::DiagnosticRelatedInformation { location, message })
        })
        .collect();
    let unnecessary = d.code == routec_compiler::Code::Unused
        || d.code == routec_compiler::Code::UnreachableRule
        || d.code == routec_compiler::Code::UnreachableRow;
    lsp::Diagnostic {
        range,
        severity: Some(severity(d.severity)),
        code: Some(lsp::NumberOrString::String(d.code.as_str().to_string())),
        code_description: None,
        source: Some("routec".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: unnecessary.then(|| vec![lsp::DiagnosticTag::UNNECESSARY]),
        data: d.suggestion.as_ref().map(|s| serde_json::json!({ "suggestion": s })),
    }
}

/// A location for a span in a file that is not open: the analysis's text.
pub(crate) fn location_in(name: &str, lines: &LineIndex, span: Span) -> Option<lsp::Location> {
    Some(lsp::Location { uri: paths::name_to_uri(name)?, range: range(lines, span.start as usize, span.end as usize) })
}

pub(crate) fn symbol_kind(kind: SymbolKind) -> lsp::SymbolKind {
    match kind {
        SymbolKind::Policy => lsp::SymbolKind::FILE,
        SymbolKind::Import => lsp::SymbolKind::MODULE,
        SymbolKind::Mode => lsp::SymbolKind::PROPERTY,
        SymbolKind::Schema => lsp::SymbolKind::STRUCT,
        SymbolKind::Record => lsp::SymbolKind::STRUCT,
        SymbolKind::Field => lsp::SymbolKind::FIELD,
        SymbolKind::Schedule => lsp::SymbolKind::EVENT,
        SymbolKind::Destination => lsp::SymbolKind::CLASS,
        SymbolKind::KeywordSet => lsp::SymbolKind::ARRAY,
        SymbolKind::Regex => lsp::SymbolKind::STRING,
        SymbolKind::Classifier => lsp::SymbolKind::ENUM,
        SymbolKind::Intent => lsp::SymbolKind::ENUM_MEMBER,
        SymbolKind::Priorities => lsp::SymbolKind::ENUM,
        SymbolKind::PriorityBlock => lsp::SymbolKind::NAMESPACE,
        SymbolKind::Sla => lsp::SymbolKind::INTERFACE,
        SymbolKind::Escalation => lsp::SymbolKind::FUNCTION,
        SymbolKind::Rule => lsp::SymbolKind::FUNCTION,
        SymbolKind::Matrix => lsp::SymbolKind::NAMESPACE,
        SymbolKind::Row => lsp::SymbolKind::METHOD,
        SymbolKind::Otherwise => lsp::SymbolKind::FUNCTION,
        SymbolKind::Test => lsp::SymbolKind::METHOD,
    }
}

pub(crate) fn completion_kind(kind: CompletionKind) -> lsp::CompletionItemKind {
    match kind {
        CompletionKind::Field => lsp::CompletionItemKind::FIELD,
        CompletionKind::Record => lsp::CompletionItemKind::STRUCT,
        CompletionKind::Signal => lsp::CompletionItemKind::VARIABLE,
        CompletionKind::EnumValue => lsp::CompletionItemKind::ENUM_MEMBER,
        CompletionKind::Destination => lsp::CompletionItemKind::CLASS,
        CompletionKind::KeywordSet => lsp::CompletionItemKind::CONSTANT,
        CompletionKind::Regex => lsp::CompletionItemKind::CONSTANT,
        CompletionKind::Schedule => lsp::CompletionItemKind::EVENT,
        CompletionKind::Sla => lsp::CompletionItemKind::CONSTANT,
        CompletionKind::Priority => lsp::CompletionItemKind::ENUM_MEMBER,
        CompletionKind::Keyword => lsp::CompletionItemKind::KEYWORD,
        CompletionKind::Type => lsp::CompletionItemKind::TYPE_PARAMETER,
        CompletionKind::Snippet => lsp::CompletionItemKind::SNIPPET,
    }
}

pub(crate) fn fold_kind(kind: FoldKind) -> lsp::FoldingRangeKind {
    match kind {
        FoldKind::Region => lsp::FoldingRangeKind::Region,
        FoldKind::Comment => lsp::FoldingRangeKind::Comment,
    }
}

/// The LSP token type of each compiler token kind, in legend order.
pub(crate) fn token_type(kind: TokenKind) -> lsp::SemanticTokenType {
    match kind {
        TokenKind::Keyword => lsp::SemanticTokenType::KEYWORD,
        TokenKind::Comment => lsp::SemanticTokenType::COMMENT,
        TokenKind::String => lsp::SemanticTokenType::STRING,
        TokenKind::Number => lsp::SemanticTokenType::NUMBER,
        TokenKind::Operator => lsp::SemanticTokenType::OPERATOR,
        TokenKind::Type => lsp::SemanticTokenType::TYPE,
        TokenKind::Field => lsp::SemanticTokenType::PROPERTY,
        TokenKind::Record => lsp::SemanticTokenType::STRUCT,
        TokenKind::EnumValue => lsp::SemanticTokenType::ENUM_MEMBER,
        TokenKind::Intent => lsp::SemanticTokenType::ENUM_MEMBER,
        TokenKind::Priority => lsp::SemanticTokenType::ENUM_MEMBER,
        TokenKind::Signal => lsp::SemanticTokenType::VARIABLE,
        TokenKind::Destination => lsp::SemanticTokenType::CLASS,
        TokenKind::Schedule => lsp::SemanticTokenType::EVENT,
        TokenKind::KeywordSet => lsp::SemanticTokenType::new("keywordSet"),
        TokenKind::Regex => lsp::SemanticTokenType::REGEXP,
        TokenKind::Rule => lsp::SemanticTokenType::FUNCTION,
        TokenKind::Sla => lsp::SemanticTokenType::INTERFACE,
        TokenKind::Attribute => lsp::SemanticTokenType::DECORATOR,
    }
}

/// The legend: token types in the order of `TOKEN_KINDS`, one modifier.
pub(crate) fn token_legend() -> lsp::SemanticTokensLegend {
    lsp::SemanticTokensLegend {
        token_types: routec_compiler::ide::TOKEN_KINDS.iter().map(|k| token_type(*k)).collect(),
        token_modifiers: vec![lsp::SemanticTokenModifier::DECLARATION],
    }
}
