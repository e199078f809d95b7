//! The logos tokeniser shared by training, prediction, `sentiment` and
//! `detect_language`.
//!
//! Owns the definition of a token: Unicode words (lower-cased, apostrophes
//! kept inside words, hyphens split), single emoji, and placeholders for
//! things whose exact value never generalises (`<num>`, `<email>`, `<url>`,
//! `<id>` for ticket ids such as `#4411` or `ACME-123`). It knows nothing
//! about features or models. The callback API lends each token from a reused
//! buffer so the hot path does not allocate.

use logos::Logos;

/// The raw lexical classes recognised by logos. Logos never backtracks, so
/// every pattern is written such that each prefix of a match that extends
/// another token's match is itself accepting: a "chunk" of word characters
/// joined by `. _ % + - , :` is scanned whole and split in [`emit_chunk`];
/// an e-mail is a chunk followed by `@`. Anything else (whitespace,
/// punctuation, symbols that are not emoji) is a lexer error and skipped.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\f]+")]
enum Raw {
    #[regex(r"[\p{L}\p{N}][\p{L}\p{M}\p{N}'’._%+\-,:]*")]
    Chunk,
    #[regex(r"[\p{L}\p{N}][\p{L}\p{M}\p{N}'’._%+\-,:]*@[\p{L}\p{M}\p{N}._\-]*")]
    Email,
    #[regex(r"(https?://|www\.)[^\s<>\x22'()\[\]{}]*", priority = 20)]
    Url,
    #[regex(r"#[0-9]+")]
    HashId,
    #[regex(r"\p{Extended_Pictographic}", priority = 10)]
    Emoji,
}

/// What kind of token the callback receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TokenKind {
    /// A lower-cased word.
    Word,
    /// A number, normalised to `<num>`.
    Number,
    /// An e-mail address, normalised to `<email>`.
    Email,
    /// A URL, normalised to `<url>`.
    Url,
    /// A ticket or issue id (`#123`, `ABC-123`), normalised to `<id>`.
    TicketId,
    /// A single emoji, kept as is.
    Emoji,
}

/// Calls `each` for every token of `text`, in order. `buf` is scratch space
/// for lower-casing; pass the same buffer across calls to avoid allocation.
pub fn for_each_token(text: &str, buf: &mut String, mut each: impl FnMut(TokenKind, &str)) {
    let mut lexer = Raw::lexer(text);
    while let Some(result) = lexer.next() {
        let Ok(raw) = result else { continue };
        match raw {
            Raw::Email => each(TokenKind::Email, "<email>"),
            Raw::Url => each(TokenKind::Url, "<url>"),
            Raw::HashId => each(TokenKind::TicketId, "<id>"),
            Raw::Emoji => each(TokenKind::Emoji, lexer.slice()),
            Raw::Chunk => emit_chunk(lexer.slice(), buf, &mut each),
        }
    }
}

/// Splits a chunk such as `re:`, `e-mail`, `v1.2.3`, `1,299.00` or `ACME-123`
/// into words and numbers: an upper-case issue key is one `<id>`; otherwise
/// the separators `. _ % + - , :` split it, runs of numeric segments become
/// one `<num>`, and apostrophes are trimmed from segment ends.
fn emit_chunk(chunk: &str, buf: &mut String, each: &mut impl FnMut(TokenKind, &str)) {
    if is_issue_key(chunk) {
        each(TokenKind::TicketId, "<id>");
        return;
    }
    let mut last_was_number = false;
    for segment in chunk.split(['.', '_', '%', '+', '-', ',', ':']) {
        let segment = segment.trim_matches(['\'', '’']);
        if segment.is_empty() {
            continue;
        }
        if segment.chars().all(char::is_numeric) {
            if !last_was_number {
                each(TokenKind::Number, "<num>");
            }
            last_was_number = true;
        } else {
            lower_into(segment, buf);
            each(TokenKind::Word, buf);
            last_was_number = false;
        }
    }
}

/// `ABC-123`: an upper-case letter, 1–9 upper-case letters or digits, `-`, digits.
fn is_issue_key(chunk: &str) -> bool {
    let Some((key, number)) = chunk.split_once('-') else {
        return false;
    };
    let mut key_chars = key.chars();
    key_chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && (2..=10).contains(&key.len())
        && key_chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Lower-cases `word` into `buf` (clearing it first) and folds the typographic
/// apostrophe to `'`.
fn lower_into(word: &str, buf: &mut String) {
    buf.clear();
    if word.is_ascii() {
        buf.push_str(word);
        buf.make_ascii_lowercase();
        return;
    }
    for ch in word.chars() {
        if ch == '’' {
            buf.push('\'');
        } else {
            buf.extend(ch.to_lowercase());
        }
    }
}

/// The token stream of `text` as owned strings (for tests, debugging and the
/// `classify --explain` output; allocates).
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = String::new();
    for_each_token(text, &mut buf, |_, token| out.push(token.to_owned()));
    out
}

/// The token stream with kinds (for snapshot tests).
pub fn tokens_with_kinds(text: &str) -> Vec<(TokenKind, String)> {
    let mut out = Vec::new();
    let mut buf = String::new();
    for_each_token(text, &mut buf, |kind, token| out.push((kind, token.to_owned())));
    out
}
