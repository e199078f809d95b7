//! Small look-ups in the source text for the places the AST does not record
//! (where a `{`, `[`, `)` or `->` is, whether the user left a blank line).
//!
//! The AST keeps spans for values but not for punctuation; the formatter
//! needs punctuation offsets to tell which comments sit inside a block and
//! which trail its opening line. Every scan skips comments and string
//! literals, because both may contain any character.

/// Offset of the first `target` byte at or after `from`, outside comments
/// and string literals.
pub(super) fn find(src: &str, from: usize, target: u8) -> Option<usize> {
    find_in(src, from, src.len(), target, false)
}

/// Offset of the last `target` byte in `from..to`, outside comments and
/// string literals.
pub(super) fn find_last(src: &str, from: usize, to: usize, target: u8) -> Option<usize> {
    find_in(src, from, to, target, true)
}

fn find_in(src: &str, from: usize, to: usize, target: u8, last: bool) -> Option<usize> {
    let bytes = src.as_bytes();
    let to = to.min(bytes.len());
    let mut found = None;
    let mut i = from;
    while i < to {
        match bytes[i] {
            b if b == target => {
                if !last {
                    return Some(i);
                }
                found = Some(i);
            }
            b'#' => {
                while i < to && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => i = string_end(bytes, i),
            _ => {}
        }
        i += 1;
    }
    found
}

/// Offset of the closing quote of the string starting at `open` (or of the
/// line end when the string is unterminated, as the grammar forbids).
fn string_end(bytes: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'"' | b'\n' => return i,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// True when `src[from..to]` holds an empty line: two line breaks with only
/// spaces between them. Code in between breaks the run, so skipped
/// punctuation never counts as blank.
pub(super) fn has_blank_line(src: &str, from: usize, to: usize) -> bool {
    let Some(gap) = src.get(from.min(to)..to) else {
        return false;
    };
    let mut newlines = 0;
    for b in gap.bytes() {
        match b {
            b'\n' => {
                newlines += 1;
                if newlines >= 2 {
                    return true;
                }
            }
            b' ' | b'\t' | b'\r' => {}
            _ => newlines = 0,
        }
    }
    false
}

/// End of the integer after `name:` in a `load { name: 40 }` entry, whose
/// number the AST keeps without a span.
pub(super) fn integer_end(src: &str, name_end: usize) -> usize {
    let bytes = src.as_bytes();
    let mut i = name_end;
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n' | b':') {
        i += 1;
    }
    let digits_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i == digits_start {
        name_end
    } else {
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_skips_comments_and_strings() {
        let src = "a \"{\" # {\n {";
        assert_eq!(find(src, 0, b'{'), Some(11));
        assert_eq!(find_last(src, 0, src.len(), b'{'), Some(11));
    }

    #[test]
    fn blank_line_needs_two_breaks_without_code() {
        assert!(has_blank_line("a\n  \n b", 1, 6));
        assert!(!has_blank_line("a\n}\n b", 1, 5));
    }

    #[test]
    fn integer_end_after_colon() {
        assert_eq!(integer_end("billing: 40 }", 7), 11);
    }
}
