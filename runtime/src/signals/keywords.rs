//! Keyword sets: every phrase of every set in one aho-corasick automaton,
//! matched case-insensitively on word boundaries, one pass per text field.

use aho_corasick::{AhoCorasick, MatchKind};

/// All keyword sets of a policy, compiled together.
#[derive(Debug, Clone)]
pub struct KeywordMatcher {
    automaton: Option<AhoCorasick>,
    /// Pattern index → the sets containing that phrase.
    pattern_sets: Vec<Vec<u32>>,
    set_count: usize,
}

impl KeywordMatcher {
    /// `sets[i]` are the phrases of set `i`.
    pub fn new(sets: &[Vec<String>]) -> KeywordMatcher {
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_sets: Vec<Vec<u32>> = Vec::new();
        for (set_idx, phrases) in sets.iter().enumerate() {
            for phrase in phrases {
                let norm = normalise(phrase);
                if norm.is_empty() {
                    continue;
                }
                match patterns.iter().position(|p| *p == norm) {
                    Some(i) => {
                        if !pattern_sets[i].contains(&(set_idx as u32)) {
                            pattern_sets[i].push(set_idx as u32);
                        }
                    }
                    None => {
                        patterns.push(norm);
                        pattern_sets.push(vec![set_idx as u32]);
                    }
                }
            }
        }
        // Phrases come from a checked policy; a build failure (only possible on
        // absurd sizes) leaves the matcher empty rather than panicking.
        let automaton = if patterns.is_empty() {
            None
        } else {
            // A full DFA: policies have few phrases and every ticket is scanned.
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&patterns)
                .ok()
        };
        KeywordMatcher { automaton, pattern_sets, set_count: sets.len() }
    }

    pub fn set_count(&self) -> usize {
        self.set_count
    }

    /// Marks in `hits` (one bool per set) every set with a phrase in `text`.
    pub fn scan(&self, text: &str, hits: &mut [bool]) {
        let Some(ac) = &self.automaton else { return };
        thread_local! {
            static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUFFER.with(|buffer| {
            let mut normalised = buffer.borrow_mut();
            normalise_into(text, &mut normalised);
            for m in ac.find_overlapping_iter(normalised.as_slice()) {
                if !is_boundary(&normalised, m.start(), m.end()) {
                    continue;
                }
                for &s in &self.pattern_sets[m.pattern().as_usize()] {
                    if let Some(h) = hits.get_mut(s as usize) {
                        *h = true;
                    }
                }
            }
        });
    }
}

fn normalise(phrase: &str) -> String {
    phrase.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Lower-case `text` into `out` (UTF-8 bytes), with runs of whitespace
/// collapsed to one space so phrases match across line breaks. Reuses `out`,
/// so scanning allocates nothing per ticket once warm.
fn normalise_into(text: &str, out: &mut Vec<u8>) {
    out.clear();
    out.reserve(text.len());
    let mut last_space = false;
    if text.is_ascii() {
        // Fast path: a branch-free map the compiler vectorises, then collapse
        // runs of spaces only when there are any.
        out.extend(text.bytes().map(|b| {
            if matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r') {
                b' '
            } else {
                b.to_ascii_lowercase()
            }
        }));
        if memchr::memmem::find(out, b"  ").is_some() {
            out.dedup_by(|a, b| *a == b' ' && *b == b' ');
        }
        return;
    }
    let mut utf8 = [0u8; 4];
    for c in text.chars() {
        if c.is_whitespace() {
            if !last_space {
                out.push(b' ');
            }
            last_space = true;
        } else {
            for lower in c.to_lowercase() {
                out.extend_from_slice(lower.encode_utf8(&mut utf8).as_bytes());
            }
            last_space = false;
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The character that ends just before byte `at` (or starts at it, `forward`).
fn char_near(bytes: &[u8], at: usize, forward: bool) -> Option<char> {
    if forward {
        let end = (at + 4).min(bytes.len());
        let slice = bytes.get(at..end)?;
        let valid = match std::str::from_utf8(slice) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&slice[..e.valid_up_to()]).ok()?,
        };
        valid.chars().next()
    } else {
        let mut start = at.checked_sub(1)?;
        while start > 0 && at - start < 4 && (bytes[start] & 0xC0) == 0x80 {
            start -= 1;
        }
        std::str::from_utf8(bytes.get(start..at)?).ok()?.chars().next_back()
    }
}

fn is_boundary(text: &[u8], start: usize, end: usize) -> bool {
    let before = char_near(text, start, false);
    let after = char_near(text, end, true);
    let first = char_near(text, start, true);
    let last = char_near(text, end, false);
    // A phrase that starts or ends with punctuation (e.g. "c++") needs no boundary there.
    let left_ok = !first.is_some_and(is_word_char) || !before.is_some_and(is_word_char);
    let right_ok = !last.is_some_and(is_word_char) || !after.is_some_and(is_word_char);
    left_ok && right_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(sets: &[&[&str]], text: &str) -> Vec<bool> {
        let sets: Vec<Vec<String>> = sets.iter().map(|s| s.iter().map(|p| p.to_string()).collect()).collect();
        let m = KeywordMatcher::new(&sets);
        let mut h = vec![false; sets.len()];
        m.scan(text, &mut h);
        h
    }

    #[test]
    fn word_boundaries_and_case() {
        assert_eq!(hits(&[&["refund"]], "I want a REFUND now"), vec![true]);
        assert_eq!(hits(&[&["refund"]], "refunded already"), vec![false]);
        assert_eq!(hits(&[&["legal action"]], "we will take legal\n  action"), vec![true]);
        assert_eq!(hits(&[&["ärger"]], "Großer ÄRGER hier"), vec![true]);
    }

    #[test]
    fn shared_phrases_hit_every_set() {
        assert_eq!(hits(&[&["cancel"], &["cancel", "quit"], &["down"]], "please cancel"), vec![true, true, false]);
    }

    #[test]
    fn overlapping_phrases() {
        assert_eq!(hits(&[&["not renewing"], &["renewing"]], "we are not renewing"), vec![true, true]);
    }
}
