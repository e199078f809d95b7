//! The nesting limit: how deep brackets and `not`s may nest before the text
//! reaches pest.
//!
//! pest parses by recursive descent, and every later pass (tree building,
//! checking, lowering, the analyses, the formatter, JIT code generation)
//! walks the tree recursively, so a policy nested a few thousand levels deep
//! would overflow the stack and abort the process (the language server
//! with it). The passes stay simple and recursive; instead every text is
//! measured here, in one linear pass, before the parser sees it, and a text
//! nested deeper than [`MAX_NESTING`] is refused with a `route::too-deep`
//! diagnostic. Every tree the parser builds is therefore at most
//! `MAX_NESTING` levels of brackets and negations deep.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// The deepest nesting of `(`, `[`, `{` and `not` a policy may use. Real
/// policies stay below ten; the limit leaves room for generated ones while
/// keeping the deepest tree far from any thread's stack limit (the language
/// server's threads and debug builds included).
pub const MAX_NESTING: usize = 64;

/// The byte range of the first token that nests deeper than [`MAX_NESTING`],
/// if any. Strings and comments are skipped; a closing bracket closes the
/// innermost open one (an unmatched one is the parser's to report).
pub fn too_deep(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    // The depth at which each open bracket's contents start.
    let mut open: Vec<usize> = Vec::new();
    // Consecutive `not`s since the last other token: each nests once more.
    let mut negations = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let base = open.last().copied().unwrap_or(0);
        match b {
            b'"' => {
                negations = 0;
                i = string_end(bytes, i + 1);
                continue;
            }
            b'#' => {
                i = bytes[i..].iter().position(|&c| c == b'\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'(' | b'[' | b'{' => {
                let depth = base + negations + 1;
                if depth > MAX_NESTING {
                    return Some((i, i + 1));
                }
                open.push(depth);
                negations = 0;
            }
            b')' | b']' | b'}' => {
                open.pop();
                negations = 0;
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ if is_word_byte(b) => {
                let end = bytes[i..].iter().position(|&c| !is_word_byte(c)).map_or(bytes.len(), |n| i + n);
                if &bytes[i..end] == b"not" {
                    negations += 1;
                    if base + negations > MAX_NESTING {
                        return Some((i, end));
                    }
                } else {
                    negations = 0;
                }
                i = end;
                continue;
            }
            _ => negations = 0,
        }
        i += 1;
    }
    None
}

/// The diagnostic for a text [`too_deep`] refuses; `start..end` is the token
/// it found, already offset into the file.
pub fn diagnostic(file: FileId, start: usize, end: usize) -> Diagnostic {
    Diagnostic::error(Code::TooDeep, format!("nesting deeper than {MAX_NESTING} levels"))
        .primary(Span::new(file, start, end), format!("level {} starts here", MAX_NESTING + 1))
        .help(format!(
            "brackets and `not`s may nest at most {MAX_NESTING} deep; split the condition into keyword sets, matrix rows or separate rules"
        ))
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The index just past the string that starts before `i` (after its opening
/// quote): the grammar ends a string at an unescaped quote or a newline.
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_and_negations_count_to_the_limit() {
        let at_limit = format!("rule r when {}vip{} -> a", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert_eq!(too_deep(&at_limit), None);
        let over = format!("rule r when {}vip{} -> a", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
        let start = "rule r when ".len() + MAX_NESTING;
        assert_eq!(too_deep(&over), Some((start, start + 1)));
        let negations = format!("rule r when {}vip -> a", "not ".repeat(MAX_NESTING + 1));
        let start = "rule r when ".len() + 4 * MAX_NESTING;
        assert_eq!(too_deep(&negations), Some((start, start + 3)));
        let mixed = format!("rule r when {}vip{} -> a", "not (".repeat(MAX_NESTING / 2), ")".repeat(MAX_NESTING / 2));
        assert_eq!(too_deep(&mixed), None);
        let mixed_over = format!("{}x", "not (".repeat(MAX_NESTING / 2 + 1));
        assert!(too_deep(&mixed_over).is_some());
    }

    #[test]
    fn siblings_strings_and_comments_do_not_nest() {
        let siblings = "(a) and not b and (not c) ".repeat(10_000);
        assert_eq!(too_deep(&siblings), None);
        let quoted = format!("tag \"{}\" # {}\n", "(".repeat(1000), "[".repeat(1000));
        assert_eq!(too_deep(&quoted), None);
        let escaped = format!("tag \"\\\"{}\"", "(".repeat(1000));
        assert_eq!(too_deep(&escaped), None);
        assert_eq!(too_deep(&"notice not_a cannot ".repeat(1000)), None);
    }

    #[test]
    fn unclosed_brackets_accumulate() {
        assert!(too_deep(&"score in [".repeat(MAX_NESTING + 1)).is_some());
        assert!(too_deep(&"{".repeat(100_000)).is_some());
    }
}
