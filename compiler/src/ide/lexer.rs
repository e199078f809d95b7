//! A forgiving lexer for `.route` text: comments, strings, numbers, words
//! and punctuation, with byte offsets. Semantic tokens and completion read
//! text that may not parse, so they cannot use the pest grammar; this lexer
//! never fails and follows `grammar/route.pest`'s lexical rules.

/// What a token is, lexically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lexeme {
    Comment,
    Str,
    /// Numbers, durations, clock times, percentages and `24x7`.
    Number,
    Word,
    /// `@allow`.
    Attribute,
    Punct,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Token {
    pub lexeme: Lexeme,
    pub start: usize,
    pub end: usize,
}

pub(super) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every token of `text`, in order. Whitespace is skipped; a character the
/// language does not use becomes a one-character `Punct`.
pub(super) fn tokens(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let lexeme = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                Lexeme::Comment
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' && i + 1 < bytes.len() && bytes[i + 1] != b'\n' { 2 } else { 1 };
                }
                if i < bytes.len() && bytes[i] == b'"' {
                    i += 1;
                }
                Lexeme::Str
            }
            b'0'..=b'9' => {
                while i < bytes.len() {
                    let c = bytes[i];
                    let joins = matches!(c, b'.' | b':') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                    if c.is_ascii_alphanumeric() || c == b'_' || c == b'%' || joins {
                        i += 1;
                    } else {
                        break;
                    }
                }
                Lexeme::Number
            }
            b'@' => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Lexeme::Attribute
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Lexeme::Word
            }
            _ => {
                let two = text.get(i..i + 2).unwrap_or("");
                i += if matches!(two, "->" | "==" | "!=" | "<=" | ">=") {
                    2
                } else {
                    text[i..].chars().next().map_or(1, char::len_utf8)
                };
                Lexeme::Punct
            }
        };
        out.push(Token { lexeme, start, end: i });
    }
    out
}

/// The identifier around `offset` (the cursor may sit just after it).
pub(super) fn word_at(text: &str, offset: usize) -> Option<(usize, usize)> {
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return None;
    }
    let start =
        text[..offset].char_indices().rev().take_while(|(_, c)| is_ident_char(*c)).last().map_or(offset, |(i, _)| i);
    let end = offset + text[offset..].chars().take_while(|c| is_ident_char(*c)).map(char::len_utf8).sum::<usize>();
    (start < end).then_some((start, end))
}
