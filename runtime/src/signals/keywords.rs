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
            AhoCorasick::builder().match_kind(MatchKind::Standard).build(&patterns).ok()
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
            static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        BUFFER.with(|buffer| {
            let mut lowered = buffer.borrow_mut();
            normalise_text_into(text, &mut lowered);
            self.scan_normalised(ac, &lowered, hits);
        });
    }

    fn scan_normalised(&self, ac: &AhoCorasick, bytes: &str, hits: &mut [bool]) {
        for m in ac.find_overlapping_iter(bytes) {
            if !is_boundary(bytes, m.start(), m.end()) {
                continue;
            }
            for &s in &self.pattern_sets[m.pattern().as_usize()] {
                if let Some(h) = hits.get_mut(s as usize) {
                    *h = true;
                }
            }
        }
    }
}

fn normalise(phrase: &str) -> String {
    phrase.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Lower-case, with runs of whitespace collapsed so phrases match across
/// line breaks. Writes into `out` so scanning allocates nothing per ticket.
fn normalise_text_into(text: &str, out: &mut String) {
    out.clear();
    let mut last_space = false;
    if text.is_ascii() {
        // Fast path: bytewise, no Unicode case tables.
        normalise_ascii_into(text, out);
        return;
    }
    for c in text.chars() {
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.extend(c.to_lowercase());
            last_space = false;
        }
    }
}

fn normalise_ascii_into(text: &str, out: &mut String) {
    let mut last_space = false;
    for &b in text.as_bytes() {
        if b.is_ascii_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(b.to_ascii_lowercase() as char);
            last_space = false;
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_boundary(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let first = text[start..end].chars().next();
    let last = text[start..end].chars().next_back();
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
