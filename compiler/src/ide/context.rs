//! Where the cursor is, for completion: read from the characters before it,
//! not from the syntax tree, because the text being typed rarely parses.
//!
//! The enclosing item starts at the nearest line above that begins in
//! column 0 with something other than a comment or a closing bracket (the
//! same rule the parser's error recovery uses); only that item's tokens are
//! looked at, so the cost does not grow with the file.

use super::lexer::{is_ident_char, tokens, Lexeme, Token};

/// What may be typed at the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Context {
    /// Inside a comment or a string: nothing to offer.
    Nothing,
    /// After `parent.`: the fields of a record.
    FieldPath { parent: String },
    /// Where a field or signal is read: the start of a condition.
    Condition,
    /// After `->`, `expect`, inside `load { … }`.
    Destination,
    /// After `has`.
    KeywordSet,
    /// After `matches`.
    Regex,
    /// After `hours`.
    Schedule,
    /// After `sla` in a destination or after `->`: an SLA's name.
    Sla,
    /// A value of the field, signal or classifier `owner`; `_` too in a matrix cell.
    Values { owner: String, wildcard: bool },
    /// A priority level.
    Priority,
    /// After `when` in a destination.
    FallbackReason,
    /// After `field:` in the ticket schema.
    Type,
    /// A clause after a rule's destination.
    Clause,
    /// One of these words.
    Words(&'static [&'static str]),
    /// A field of a test's `ticket { … }` or `signals { … }`.
    TestField,
    /// The start of a top-level line.
    TopLevel,
    /// Anything: keywords and names.
    Anything,
}

/// The context and the start of the word being typed (completions replace
/// `word_start..offset`).
pub(super) fn context(text: &str, offset: usize) -> (Context, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let word_start =
        before.char_indices().rev().take_while(|(_, c)| is_ident_char(*c)).last().map_or(offset, |(i, _)| i);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    if in_comment_or_string(&text[line_start..offset]) {
        return (Context::Nothing, word_start);
    }
    if word_start > 0 && before.as_bytes()[word_start - 1] == b'.' {
        let parent_end = word_start - 1;
        let parent_start = before[..parent_end]
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_ident_char(*c) || *c == '.')
            .last()
            .map_or(parent_end, |(i, _)| i);
        let parent = before[parent_start..parent_end].to_string();
        return (Context::FieldPath { parent }, word_start);
    }
    if word_start == line_start {
        return (Context::TopLevel, word_start);
    }
    let item_start = item_start(text, line_start);
    let item = Item { text, toks: tokens(&text[item_start..word_start]), base: item_start };
    (item.context(line_start), word_start)
}

/// Whether the end of `line` is inside a comment or an unterminated string.
fn in_comment_or_string(line: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '#' {
            return true;
        }
    }
    in_string
}

/// The offset of the line that starts the item containing `line_start`.
fn item_start(text: &str, line_start: usize) -> usize {
    let mut start = line_start;
    loop {
        let line = &text[start..];
        let starts_item =
            line.chars().next().is_some_and(|c| !(c.is_whitespace() || matches!(c, '}' | ']' | ')' | '#')));
        if starts_item || start == 0 {
            return start;
        }
        start = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
    }
}

/// The tokens of the enclosing item up to the cursor.
struct Item<'t> {
    text: &'t str,
    toks: Vec<Token>,
    base: usize,
}

impl Item<'_> {
    fn slice(&self, t: &Token) -> &str {
        &self.text[self.base + t.start..self.base + t.end]
    }

    fn code(&self) -> Vec<&Token> {
        self.toks.iter().filter(|t| t.lexeme != Lexeme::Comment).collect()
    }

    fn keyword(&self) -> &str {
        let code = self.code();
        let first = code.iter().find(|t| t.lexeme == Lexeme::Word);
        first.map_or("", |t| self.slice(t))
    }

    /// The dotted path that ends just before token `end` (exclusive).
    fn path_before(&self, code: &[&Token], end: usize) -> Option<String> {
        let mut i = end;
        let mut parts = Vec::new();
        while i > 0 {
            let t = code[i - 1];
            if t.lexeme == Lexeme::Word {
                parts.push(self.slice(t));
                i -= 1;
                if i > 0 && self.slice(code[i - 1]) == "." {
                    i -= 1;
                    continue;
                }
            }
            break;
        }
        parts.reverse();
        (!parts.is_empty()).then(|| parts.join("."))
    }

    /// The innermost `[` or `{` still open at the cursor.
    fn open_bracket(&self, code: &[&Token]) -> Option<usize> {
        let mut depth = 0usize;
        for i in (0..code.len()).rev() {
            match self.slice(code[i]) {
                "]" | "}" => depth += 1,
                "[" | "{" if depth == 0 => return Some(i),
                "[" | "{" => depth -= 1,
                _ => {}
            }
        }
        None
    }

    fn context(&self, line_start: usize) -> Context {
        let code = self.code();
        let Some(last) = code.last() else { return Context::Anything };
        let last_text = self.slice(last);
        let keyword = self.keyword();
        let is_destination = matches!(keyword, "team" | "queue" | "role" | "ai");
        match last_text {
            "->" => return Context::Destination,
            "has" => return Context::KeywordSet,
            "matches" => return Context::Regex,
            "hours" if is_destination => return Context::Schedule,
            "expect" => return Context::Destination,
            "sla" if keyword != "sla" => return Context::Sla,
            "default" => return Context::Priority,
            "priority" if code.len() > 1 => return Context::Priority,
            "notify" => return Context::Words(&["slack", "email"]),
            "create_issue" => return Context::Words(&["jira", "linear"]),
            "mode" => return Context::Words(&["enforce", "shadow"]),
            "closed" | "full" if is_destination => return Context::Words(&["->"]),
            "when" if is_destination => return Context::FallbackReason,
            "when" | "and" | "or" | "not" | "(" => return Context::Condition,
            "per" | "handoff" | "features" | "set" => return Context::FieldPath { parent: String::new() },
            "==" | "!=" => {
                let at = code.len() - 1;
                return match self.path_before(&code, at) {
                    Some(owner) => Context::Values { owner, wildcard: false },
                    None => Context::Anything,
                };
            }
            _ => {}
        }
        if let Some(open) = self.open_bracket(&code) {
            if let Some(ctx) = self.in_bracket(&code, open) {
                return ctx;
            }
        }
        if keyword == "ticket" && last_text == ":" {
            return Context::Type;
        }
        if keyword == "matrix" {
            return self.matrix_cell(&code, line_start);
        }
        let after_arrow = code.iter().any(|t| self.slice(t) == "->");
        if after_arrow && matches!(keyword, "rule" | "escalate" | "otherwise") {
            return Context::Clause;
        }
        Context::Anything
    }

    fn in_bracket(&self, code: &[&Token], open: usize) -> Option<Context> {
        let bracket = self.slice(code[open]);
        let before = open.checked_sub(1).map(|i| self.slice(code[i]));
        if bracket == "[" {
            if before == Some("in") {
                return self.path_before(code, open - 1).map(|owner| Context::Values { owner, wildcard: false });
            }
            return Some(Context::Nothing);
        }
        // A `{` block: the word before it says which.
        match before {
            Some("ticket" | "signals") if self.keyword() == "test" => {
                let last = self.slice(code[code.len() - 1]);
                if last == ":" {
                    let at = code.len() - 1;
                    return Some(match self.path_before(code, at) {
                        Some(owner) => Context::Values { owner, wildcard: false },
                        None => Context::Anything,
                    });
                }
                Some(Context::TestField)
            }
            Some("load") => {
                let last = self.slice(code[code.len() - 1]);
                Some(if last == ":" { Context::Nothing } else { Context::Destination })
            }
            _ => None,
        }
    }

    /// A matrix row: the value of the dimension the cursor is in.
    fn matrix_cell(&self, code: &[&Token], line_start: usize) -> Context {
        let mut dims = Vec::new();
        let mut i = 1;
        while i < code.len() && self.slice(code[i]) != "{" {
            let mut parts = Vec::new();
            while i < code.len() && !matches!(self.slice(code[i]), "," | "{") {
                parts.push(self.slice(code[i]));
                i += 1;
            }
            dims.push(parts.concat());
            if i < code.len() && self.slice(code[i]) == "," {
                i += 1;
            }
        }
        if i >= code.len() {
            // Still in the header: dimensions are fields.
            return Context::Condition;
        }
        let line: Vec<&&Token> = code.iter().filter(|t| self.base + t.start >= line_start).collect();
        // Clauses of a row sit on its own line or on deeper-indented lines below it.
        let indent = |at: usize| {
            let start = self.text[..at].rfind('\n').map_or(0, |n| n + 1);
            self.text[start..].chars().take_while(|c| *c == ' ' || *c == '\t').count()
        };
        let row_indent = code.get(i + 1).map(|t| indent(self.base + t.start));
        let deeper = row_indent.is_some_and(|r| indent(line_start) > r);
        if deeper || line.iter().any(|t| self.slice(t) == "->") {
            return Context::Clause;
        }
        let column = line.iter().filter(|t| self.slice(t) == ",").count();
        match dims.get(column) {
            Some(owner) => Context::Values { owner: owner.clone(), wildcard: true },
            None => Context::Words(&["->"]),
        }
    }
}
