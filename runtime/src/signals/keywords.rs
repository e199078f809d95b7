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
    /// No two phrases can overlap in a text (none contains another, none ends
    /// with the start of another or of itself), so a plain leftmost search
    /// finds every occurrence and the slower overlapping search is not needed.
    disjoint: bool,
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
        let disjoint = patterns_are_disjoint(&patterns);
        let automaton = if patterns.is_empty() {
            None
        } else {
            // A full DFA: policies have few phrases and every ticket is scanned.
            AhoCorasick::builder()
                .match_kind(if disjoint { MatchKind::LeftmostFirst } else { MatchKind::Standard })
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&patterns)
                .ok()
        };
        KeywordMatcher { automaton, pattern_sets, set_count: sets.len(), disjoint }
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
            let mut record = |m: aho_corasick::Match| {
                if !is_boundary(&normalised, m.start(), m.end()) {
                    return;
                }
                for &s in &self.pattern_sets[m.pattern().as_usize()] {
                    if let Some(h) = hits.get_mut(s as usize) {
                        *h = true;
                    }
                }
            };
            if self.disjoint {
                ac.find_iter(normalised.as_slice()).for_each(&mut record);
            } else {
                ac.find_overlapping_iter(normalised.as_slice()).for_each(&mut record);
            }
        });
    }
}

/// Whether occurrences of these phrases can never overlap in any text: two
/// occurrences overlap only if one phrase contains another or a phrase ends
/// with the beginning of another (or of itself).
fn patterns_are_disjoint(patterns: &[String]) -> bool {
    for (i, a) in patterns.iter().enumerate() {
        for (j, b) in patterns.iter().enumerate() {
            let (a, b) = (a.as_bytes(), b.as_bytes());
            if i != j && a.windows(b.len()).any(|w| w == b) {
                return false;
            }
            // A proper suffix of `a` that is a prefix of `b` (i == j: a border).
            let proper = if i == j { a.len().saturating_sub(1) } else { a.len().min(b.len()) };
            if (1..=proper).any(|k| a[a.len() - k..] == b[..k]) {
                return false;
            }
        }
    }
    true
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
    fn disjoint_phrases_use_the_leftmost_search_and_find_everything() {
        let sets: Vec<Vec<String>> = vec![vec!["refund".into()], vec!["legal action".into()]];
        assert!(patterns_are_disjoint(&["refund".into(), "legal action".into()]));
        let m = KeywordMatcher::new(&sets);
        assert!(m.disjoint);
        let mut h = vec![false; 2];
        // The first "refund" is inside a word and fails the boundary check; the search goes on.
        m.scan("prefund then a refund and legal action", &mut h);
        assert_eq!(h, vec![true, true]);
        assert!(!patterns_are_disjoint(&["ab c".into(), "c d".into()]), "suffix of one is prefix of another");
        assert!(!patterns_are_disjoint(&["aba".into()]), "a phrase with a border overlaps itself");
        assert!(!patterns_are_disjoint(&["renewing".into(), "not renewing".into()]), "containment");
    }

    #[test]
    fn overlapping_phrases() {
        assert_eq!(hits(&[&["not renewing"], &["renewing"]], "we are not renewing"), vec![true, true]);
    }
}
