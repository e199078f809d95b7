//! Text → syntax tree. Parsing never fails: it returns the best tree it can
//! build plus diagnostics. After a syntax error the file is cut into
//! top-level chunks (a line starting with an item keyword starts a chunk) and
//! each chunk is parsed on its own, so one typo does not hide the rest of the
//! file from the checker, and every syntax error is reported.

pub mod ast;
mod build;
mod depth;
mod errors;
mod grammar;
mod incremental;

use crate::diagnostic::Diagnostics;
use crate::source::FileId;
use pest::Parser;

pub use depth::MAX_NESTING;
pub use grammar::Rule;
pub use incremental::{parse_cached, ParseCache};

/// Parse one file. `offset`-free: spans are offsets into `text`.
pub fn parse(file: FileId, text: &str, diagnostics: &mut Diagnostics) -> ast::Policy {
    // pest recurses once per nesting level: a text nested too deep never
    // reaches it whole, only chunk by chunk, each measured first.
    let too_deep = depth::too_deep(text);
    let whole = match too_deep {
        None => grammar::RouteParser::parse(Rule::file, text).map_err(Some),
        Some(_) => Err(None),
    };
    match whole {
        Ok(mut pairs) => {
            let items = pairs.next().map(|file_pair| build::items(file, 0, file_pair.into_inner())).unwrap_or_default();
            ast::Policy { file, items, broken: Vec::new() }
        }
        Err(whole_file_error) => {
            let mut items = Vec::new();
            let mut broken = Vec::new();
            let mut chunk_errors = 0;
            for (start, end) in chunks(text) {
                let chunk = &text[start..end];
                if let Some((deep_start, deep_end)) = depth::too_deep(chunk) {
                    chunk_errors += 1;
                    diagnostics.push(depth::diagnostic(file, start + deep_start, start + deep_end));
                    items.push(error_item(file, start, chunk));
                    continue;
                }
                match grammar::RouteParser::parse(Rule::single_item, chunk) {
                    Ok(mut pairs) => {
                        if let Some(p) = pairs.next() {
                            items.extend(build::items(file, start, p.into_inner()));
                        }
                    }
                    Err(error) => {
                        chunk_errors += 1;
                        let mut words = chunk.split(|c: char| !(c.is_alphanumeric() || c == '_'));
                        let mut words = words.by_ref().filter(|w| !w.is_empty());
                        if let (Some(keyword), name) = (words.next(), words.next()) {
                            broken.push((keyword.to_string(), name.unwrap_or("").to_string()));
                        }
                        diagnostics.push(errors::to_diagnostic(file, (start, end), text, &error));
                        items.push(error_item(file, start, chunk));
                    }
                }
            }
            if chunk_errors == 0 {
                match (whole_file_error, too_deep) {
                    (Some(error), _) => diagnostics.push(errors::to_diagnostic(file, (0, text.len()), text, &error)),
                    (None, Some((deep_start, deep_end))) => {
                        diagnostics.push(depth::diagnostic(file, deep_start, deep_end))
                    }
                    (None, None) => {}
                }
            }
            ast::Policy { file, items, broken }
        }
    }
}

/// The item standing for a chunk that does not parse.
fn error_item(file: FileId, start: usize, chunk: &str) -> ast::Item {
    let end_trimmed = start + chunk.trim_end().len();
    ast::Item {
        kind: ast::ItemKind::Error,
        allows: Vec::new(),
        span: crate::source::Span::new(file, start, end_trimmed.max(start)),
    }
}

/// Words the grammar's `reserved` rule keeps from being names.
pub const RESERVED_WORDS: &[&str] = &[
    "when",
    "and",
    "or",
    "not",
    "in",
    "has",
    "matches",
    "starts_with",
    "ends_with",
    "contains",
    "true",
    "false",
    "default",
];

/// Words that start a top-level item when they begin a line.
pub const ITEM_KEYWORDS: &[&str] = &[
    "policy",
    "import",
    "mode",
    "ticket",
    "schedule",
    "team",
    "queue",
    "role",
    "ai",
    "keywords",
    "regex",
    "classifier",
    "priorities",
    "priority",
    "sla",
    "escalate",
    "rule",
    "matrix",
    "otherwise",
    "test",
    "@allow",
];

/// Byte ranges of top-level chunks, for error recovery.
fn chunks(text: &str) -> Vec<(usize, usize)> {
    let mut starts = vec![0];
    let mut offset = 0;
    let mut in_allow_run = false;
    for line in text.split_inclusive('\n') {
        let starts_item = ITEM_KEYWORDS.iter().any(|kw| {
            line.starts_with(kw)
                && line[kw.len()..].chars().next().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
        });
        // A line starting in column 0 with anything but a closing bracket or a
        // comment also starts a chunk, so stray text does not swallow the next item.
        let stray = line.chars().next().is_some_and(|c| !(c.is_whitespace() || matches!(c, '}' | ']' | ')' | '#')));
        if (starts_item || stray) && offset > 0 && !in_allow_run {
            starts.push(offset);
        }
        in_allow_run = line.starts_with("@allow");
        offset += line.len();
    }
    starts.dedup();
    let mut ranges = Vec::new();
    for (i, &s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(text.len());
        if !text[s..e].trim().is_empty() && !only_comments(&text[s..e]) {
            ranges.push((s, e));
        }
    }
    ranges
}

fn only_comments(chunk: &str) -> bool {
    chunk.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

/// A comment in the source, for the formatter (pest drops them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
    pub start: usize,
    pub end: usize,
    /// True when code precedes the comment on its line.
    pub trailing: bool,
}

/// Every `#` comment outside string literals.
pub fn comments(text: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut line_has_code = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' || b == b'\n' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                line_has_code = true;
            }
            b'\n' => line_has_code = false,
            b'#' => {
                let end = text[i..].find('\n').map(|e| i + e).unwrap_or(text.len());
                out.push(Comment { text: text[i..end].trim_end().to_string(), start: i, end, trailing: line_has_code });
                i = end;
                continue;
            }
            b' ' | b'\t' | b'\r' => {}
            _ => line_has_code = true,
        }
        i += 1;
    }
    out
}
