//! The tokeniser shared by training, prediction, `sentiment` and
//! `detect_language`.
//!
//! Owns the definition of a token: Unicode words (lower-cased, apostrophes
//! kept inside words, hyphens split), single emoji, and placeholders for
//! things whose exact value never generalises (`<num>`, `<email>`, `<url>`,
//! `<id>` for ticket ids such as `#4411` or `ACME-123`). The definition is
//! the logos lexer below; a byte-level scanner produces the same tokens for
//! plain ASCII and Latin-1 words and hands everything else to logos. It
//! knows nothing about features or models. The callback API lends each token
//! from a reused buffer so the hot path does not allocate.

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
///
/// Plain ASCII words, numbers, `#123` ids, whitespace and stray punctuation
/// are scanned here byte by byte; anything else (non-ASCII text, a possible
/// URL or e-mail address, a `#` without digits) is handed to the logos
/// lexer for one token from the same position. Logos tokens do not depend
/// on what precedes them, so the stream is the one logos alone produces
/// (checked against it by the unit tests below); the fast path only exists
/// because the common case is several times faster without the automaton.
pub fn for_each_token(text: &str, buf: &mut String, mut each: impl FnMut(TokenKind, &str)) {
    let bytes = text.as_bytes();
    let mut pos = 0;
    while let Some(&byte) = bytes.get(pos) {
        let flags = BYTE_FLAGS[usize::from(byte)];
        let starts_chunk = (flags & ALNUM != 0 && !(flags & URL_START != 0 && starts_url(&bytes[pos..])))
            || (flags & LATIN_LEAD != 0 && is_latin_letter(bytes.get(pos + 1)));
        if starts_chunk {
            let start = pos;
            let (mut chunk_flags, mut last_flags, mut next_flags) = (0, 0, 0);
            while let Some(&b) = bytes.get(pos) {
                next_flags = BYTE_FLAGS[usize::from(b)];
                if next_flags & CHUNK != 0 {
                    (chunk_flags, last_flags) = (chunk_flags | next_flags, next_flags);
                    pos += 1;
                } else if next_flags & LATIN_LEAD != 0 && is_latin_letter(bytes.get(pos + 1)) {
                    let letter_flags = LETTER | BYTE_FLAGS[usize::from(bytes[pos + 1])];
                    (chunk_flags, last_flags) = (chunk_flags | letter_flags, letter_flags);
                    pos += 2;
                } else {
                    break;
                }
            }
            // The core is the chunk up to its last letter or digit; what follows
            // is separators and apostrophes only, which yield nothing but empty
            // segments. (Bytes above 0x7f in a chunk belong to Latin-1 letters.)
            let (mut core_end, mut core_flags) = (pos, chunk_flags);
            if last_flags & ALNUM == 0 {
                while BYTE_FLAGS[usize::from(bytes[core_end - 1])] & (ALNUM | NON_ASCII) == 0 {
                    core_end -= 1;
                }
                core_flags = bytes[start..core_end].iter().fold(0, |flags, &b| match BYTE_FLAGS[usize::from(b)] {
                    byte_flags if byte_flags & NON_ASCII != 0 => flags | byte_flags | LETTER,
                    byte_flags => flags | byte_flags,
                });
            }
            // A chunk followed by `@` is an e-mail address, one followed by a
            // non-ASCII character other than a Latin-1 letter may continue with
            // it: logos decides those.
            // (`next_flags` is 0 at the end of the text.)
            if next_flags & (AT | NON_ASCII) != 0 {
                pos = start + lex_one(&text[start..], buf, &mut each);
            } else if core_flags & SPLIT != 0 {
                emit_fast_chunk(&text[start..pos], core_flags & UPPER != 0, buf, &mut each);
            } else if core_flags & (LETTER | APOSTROPHE) == 0 {
                each(TokenKind::Number, "<num>");
            } else if core_flags & UPPER != 0 {
                lower_fast_into(&text[start..core_end], core_flags & NON_ASCII != 0, buf);
                each(TokenKind::Word, buf);
            } else {
                each(TokenKind::Word, &text[start..core_end]);
            }
        } else if flags & HASH != 0 && bytes.get(pos + 1).is_some_and(u8::is_ascii_digit) {
            pos += 2;
            while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
            each(TokenKind::TicketId, "<id>");
        } else if flags & (NON_ASCII | HASH | ALNUM) != 0 {
            pos += lex_one(&text[pos..], buf, &mut each);
        } else {
            // Whitespace, or ASCII that starts no token: logos skips one byte.
            pos += 1;
        }
    }
}

/// Byte flags of the fast path in [`for_each_token`]; a byte with none
/// (ASCII punctuation and controls other than those below) starts no token.
const LETTER: u16 = 1;
const DIGIT: u16 = 2;
/// An upper-case ASCII letter, or the second byte of an upper-case Latin-1
/// letter (`À`–`Þ` are `0xc3 0x80`–`0xc3 0x9e`).
const UPPER: u16 = 4;
/// `. _ % + - , :`: continue a chunk and split it into segments.
const SPLIT: u16 = 8;
/// `'`: continues a chunk, trimmed from segment ends.
const APOSTROPHE: u16 = 16;
const SPACE: u16 = 32;
const HASH: u16 = 64;
const NON_ASCII: u16 = 128;
const AT: u16 = 256;
/// `h` and `w`, which may start a URL (see [`starts_url`]).
const URL_START: u16 = 512;
/// `0xc3`, the first byte of `À`–`ÿ` (see [`is_latin_letter`]).
const LATIN_LEAD: u16 = 1024;
const ALNUM: u16 = LETTER | DIGIT;
const CHUNK: u16 = ALNUM | SPLIT | APOSTROPHE;

static BYTE_FLAGS: [u16; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = match byte as u8 {
            b'A'..=b'Z' => LETTER | UPPER,
            b'h' | b'w' => LETTER | URL_START,
            b'a'..=b'z' => LETTER,
            b'0'..=b'9' => DIGIT,
            b'.' | b'_' | b'%' | b'+' | b'-' | b',' | b':' => SPLIT,
            b'\'' => APOSTROPHE,
            b' ' | b'\t' | b'\r' | b'\n' | 0x0c => SPACE,
            b'#' => HASH,
            b'@' => AT,
            0x80..=0x9e => NON_ASCII | UPPER,
            0xc3 => NON_ASCII | LATIN_LEAD,
            0x9f..=0xff => NON_ASCII,
            _ => 0,
        };
        byte += 1;
    }
    table
};

/// Whether `second`, following a `0xc3` byte, completes a letter: all of
/// U+00C0–U+00FF are letters except `×` and `÷`. These are the non-ASCII
/// letters of German, French and Spanish, common enough in tickets to keep
/// their words on the fast path.
fn is_latin_letter(second: Option<&u8>) -> bool {
    second.is_some_and(|&b| (0x80..=0xbf).contains(&b) && b != 0x97 && b != 0xb7)
}

/// Whether a chunk starting here could also be read as a URL (`http…`,
/// `www…`); those are left to logos, which picks the longer match.
fn starts_url(rest: &[u8]) -> bool {
    rest.starts_with(b"http") || rest.starts_with(b"www")
}

/// Lexes one token at the start of `rest` with logos, emits it, and returns
/// how many bytes it (or the skipped error) covered.
fn lex_one(rest: &str, buf: &mut String, each: &mut impl FnMut(TokenKind, &str)) -> usize {
    let mut lexer = Raw::lexer(rest);
    match lexer.next() {
        None => return rest.len(),
        Some(Ok(raw)) => emit_raw(raw, lexer.slice(), buf, each),
        Some(Err(())) => {}
    }
    // Every logos token and error covers at least one character; `max` only
    // guards the loop in `for_each_token` against a lexer that would not.
    lexer.span().end.max(rest.chars().next().map_or(1, char::len_utf8))
}

fn emit_raw(raw: Raw, slice: &str, buf: &mut String, each: &mut impl FnMut(TokenKind, &str)) {
    match raw {
        Raw::Email => each(TokenKind::Email, "<email>"),
        Raw::Url => each(TokenKind::Url, "<url>"),
        Raw::HashId => each(TokenKind::TicketId, "<id>"),
        Raw::Emoji => each(TokenKind::Emoji, slice),
        Raw::Chunk => emit_chunk(slice, buf, each),
    }
}

/// [`emit_chunk`] for a chunk of ASCII letters and digits, Latin-1 letters and
/// the ASCII separators, without copying words that are already lower-case.
fn emit_fast_chunk(chunk: &str, has_upper: bool, buf: &mut String, each: &mut impl FnMut(TokenKind, &str)) {
    if has_upper && is_issue_key(chunk) {
        each(TokenKind::TicketId, "<id>");
        return;
    }
    let bytes = chunk.as_bytes();
    let mut last_was_number = false;
    let mut start = 0;
    while start <= bytes.len() {
        let end = bytes[start..].iter().position(|&b| is_split_byte(b)).map_or(bytes.len(), |offset| start + offset);
        let (mut first, mut last) = (start, end);
        while first < last && bytes[first] == b'\'' {
            first += 1;
        }
        while last > first && bytes[last - 1] == b'\'' {
            last -= 1;
        }
        start = end + 1;
        if first == last {
            continue;
        }
        let segment = &chunk[first..last];
        if segment.bytes().all(|b| b.is_ascii_digit()) {
            if !last_was_number {
                each(TokenKind::Number, "<num>");
            }
            last_was_number = true;
        } else {
            if has_upper && segment.bytes().any(|b| BYTE_FLAGS[usize::from(b)] & UPPER != 0) {
                lower_fast_into(segment, !segment.is_ascii(), buf);
                each(TokenKind::Word, buf);
            } else {
                each(TokenKind::Word, segment);
            }
            last_was_number = false;
        }
    }
}

/// The separators [`emit_chunk`] splits on.
fn is_split_byte(byte: u8) -> bool {
    matches!(byte, b'.' | b'_' | b'%' | b'+' | b'-' | b',' | b':')
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

/// [`lower_into`] for a word of a fast-path chunk (ASCII and `À`–`ÿ`), whose
/// non-ASCII letters lower-case without Unicode tables: `À`–`Þ` except `×`
/// become the letter 0x20 above, the rest are lower case already.
fn lower_fast_into(word: &str, has_non_ascii: bool, buf: &mut String) {
    buf.clear();
    if !has_non_ascii {
        buf.push_str(word);
        buf.make_ascii_lowercase();
        return;
    }
    for ch in word.chars() {
        buf.push(match ch {
            '\u{c0}'..='\u{de}' if ch != '×' => char::from_u32(u32::from(ch) + 0x20).unwrap_or(ch),
            _ => ch.to_ascii_lowercase(),
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::SplitMix;

    /// The token stream of logos alone, as before the ASCII fast path.
    fn reference(text: &str) -> Vec<(TokenKind, String)> {
        let mut out = Vec::new();
        let mut buf = String::new();
        let mut lexer = Raw::lexer(text);
        while let Some(result) = lexer.next() {
            let Ok(raw) = result else { continue };
            emit_raw(raw, lexer.slice(), &mut buf, &mut |kind, token: &str| out.push((kind, token.to_owned())));
        }
        out
    }

    fn check(text: &str) {
        assert_eq!(tokens_with_kinds(text), reference(text), "input {text:?}");
    }

    #[test]
    fn fast_path_matches_logos_on_edge_cases() {
        for text in [
            "",
            " ",
            "a",
            "A",
            "#",
            "#1",
            "#a1",
            "##12",
            "#12a",
            "a@",
            "a@b.c",
            "@a",
            "x.@y",
            "http",
            "http:",
            "http:/",
            "http://",
            "http://x",
            "https://x.y/z?q=1",
            "httpx",
            "htt",
            "ww",
            "www",
            "www.",
            "www.x",
            "wwwx",
            "WWW.x",
            "HTTP://x",
            "ACME-123",
            "ACME-12a",
            "A-1",
            "AB-1",
            "ABCDEFGHIJK-1",
            "Ab-1",
            "AB1-2-3",
            "AB-",
            "v1.2.3",
            "1,299.00",
            "10:30",
            "'quoted'",
            "rock'n'roll",
            "users'",
            "''",
            "a'.'b",
            "1'2",
            "1.'2",
            "e-mail",
            "E-Mail",
            "re:",
            "café",
            "Café",
            "caféx",
            "xcafé",
            "can’t",
            "can't’",
            "Straße",
            "STRASSE-Ä",
            "Ärger",
            "über-Ärger",
            "ÜBER-12",
            "AB-12ä",
            "x×y",
            "x÷y",
            "ä×",
            "ä@b",
            "ä'",
            "'ä'",
            "äb.c",
            "1ä",
            "ä1",
            "ÀÞßÿ",
            "zü\u{301}r",
            "a\u{c3}",
            "ÄÖÜ",
            "a\u{301}b",
            "a\u{a0}b",
            "a\x0bb",
            "a\x00b",
            "😡a",
            "a😡",
            "1😡",
            "2fa",
            "COVID-19",
            "tel_num",
            "a%b+c",
            "...",
            "-a",
            "a-",
            "a--b",
            "1-2-x",
            "x-1-2",
            "1 2",
            "a\tb\rc\nd\x0ce",
            "ａｂｃ",
            "١٢٣",
            "a١٢٣",
            "²",
            "x²",
            "登录失败",
            "ok登录",
        ] {
            check(text);
        }
    }

    #[test]
    fn fast_path_matches_logos_on_random_text() {
        // Pieces chosen to hit every branch of both paths and their borders.
        const PIECES: &[&str] = &[
            "a", "Z", "q", "x", "0", "7", "42", " ", " ", "\t", "\n", "\r", "\x0c", "\x0b", ".", ",", ":", "-", "_",
            "%", "+", "'", "’", "@", "#", "/", "(", ")", "<", ">", "\"", "[", "]", "{", "}", "!", "?", ";", "*", "&",
            "=", "http", "https", "://", "www", "www.", "h", "w", "ACME", "AB", "é", "É", "ß", "ü", "\u{301}",
            "\u{a0}", "\u{2003}", "ä", "Ä", "ö", "Ö", "Ü", "À", "Þ", "þ", "ÿ", "×", "÷", "µ", "ª", "¼", "\u{ad}", "😡",
            "👍🏽", "❤️", "\u{200d}", "©", "™", "登录", "٣", "²", "Ⅻ", "can't", "E-Mail", "the", "Login",
        ];
        let mut rng = SplitMix::new(0x5eed);
        for _ in 0..50_000 {
            let len = rng.below(12) + 1;
            let text: String = (0..len).map(|_| PIECES[rng.below(PIECES.len())]).collect();
            check(&text);
        }
    }
}
