//! Keyword sets: every phrase of every set matched case-insensitively on
//! word boundaries, one pass per text field. Phrases are normalised (lower
//! case, one space between words); the text is either read raw, with case
//! and whitespace runs folded on the fly (ASCII text, the fast path), or
//! first copied lower-cased with whitespace runs collapsed (other text).
//!
//! Two searches find the same occurrences:
//! - `WordStarts`, used when every phrase is at least three bytes long and
//!   begins with a word character (the usual case): a phrase that must start
//!   on a word boundary can only begin where a word begins, so one pass finds
//!   the word starts eight bytes at a time, tests the folded first three
//!   bytes of each against a 64 Kibit filter, and compares only the phrases
//!   filed under them in a small hash table. Each candidate position is
//!   checked on its own, so overlapping phrases need no special care. It
//!   reads ASCII text raw unless a phrase has a space as its second byte
//!   (a run of spaces there would shift the prefix); it stops at the first
//!   non-ASCII chunk, and the text is then searched again, normalised.
//! - Otherwise an aho-corasick leftmost search over the normalised text,
//!   which reports non-overlapping matches only; when phrases can overlap
//!   ("double charged" / "charged twice") each reported match is followed by
//!   an overlapping search of just its neighbourhood. Every occurrence of a
//!   phrase either is a reported match or overlaps one (the search resumes
//!   after a match, and the next one it reports starts no later than any
//!   occurrence it has not passed), so the neighbourhoods hold every
//!   occurrence the leftmost search skipped.

use aho_corasick::{AhoCorasick, MatchKind};

/// Phrase bytes up to which the fallback search is a full DFA.
const MAX_DFA_PHRASE_BYTES: usize = 4096;

/// All keyword sets of a policy, compiled together.
#[derive(Debug, Clone)]
pub struct KeywordMatcher {
    search: Search,
    /// Pattern index → the sets containing that phrase.
    pattern_sets: Vec<Vec<u32>>,
    set_count: usize,
}

#[derive(Debug, Clone)]
enum Search {
    None,
    WordStarts(WordStarts),
    Automaton {
        /// Leftmost-first search over every phrase.
        leftmost: AhoCorasick,
        /// Overlapping search over the same phrases, run around each leftmost
        /// match; `None` when no two phrases can overlap in a text (none
        /// contains another, none ends with the start of another or of
        /// itself), because then the leftmost search finds every occurrence.
        overlapping: Option<AhoCorasick>,
        /// Length in bytes of the longest phrase: the neighbourhood's reach.
        longest: usize,
    },
}

impl KeywordMatcher {
    /// `sets[i]` are the phrases of set `i`.
    pub fn new(sets: &[Vec<String>]) -> KeywordMatcher {
        Self::build(sets, true)
    }

    fn build(sets: &[Vec<String>], allow_word_starts: bool) -> KeywordMatcher {
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
        let search = if patterns.is_empty() {
            Search::None
        } else if let Some(index) = WordStarts::new(&patterns).filter(|_| allow_word_starts) {
            Search::WordStarts(index)
        } else {
            // A full DFA: policies have few phrases and every ticket is
            // scanned. But building it follows failure links once per state
            // and byte, quadratic in a phrase like 32,000 backslashes (39 s
            // to load); past a few KiB of phrases the NFA, built in linear
            // time, searches instead.
            let total: usize = patterns.iter().map(String::len).sum();
            let automaton = if total <= MAX_DFA_PHRASE_BYTES {
                aho_corasick::AhoCorasickKind::DFA
            } else {
                aho_corasick::AhoCorasickKind::ContiguousNFA
            };
            let build =
                |kind: MatchKind| AhoCorasick::builder().match_kind(kind).kind(Some(automaton)).build(&patterns);
            // Phrases come from a checked policy; a build failure (only possible
            // on absurd sizes) leaves the matcher empty rather than panicking.
            match build(MatchKind::LeftmostFirst) {
                Ok(leftmost) => Search::Automaton {
                    leftmost,
                    overlapping: if patterns_are_disjoint(&patterns) { None } else { build(MatchKind::Standard).ok() },
                    longest: patterns.iter().map(String::len).max().unwrap_or(0),
                },
                Err(_) => Search::None,
            }
        };
        KeywordMatcher { search, pattern_sets, set_count: sets.len() }
    }

    pub fn set_count(&self) -> usize {
        self.set_count
    }

    /// Marks in `hits` (one bool per set) every set with a phrase in `text`.
    pub fn scan(&self, text: &str, hits: &mut [bool]) {
        let mut record = |text: &[u8], pattern: usize, start: usize, end: usize| {
            if !is_boundary(text, start, end) {
                return;
            }
            for &s in &self.pattern_sets[pattern] {
                if let Some(h) = hits.get_mut(s as usize) {
                    *h = true;
                }
            }
        };
        match &self.search {
            Search::None => return,
            // ASCII text is searched as it is: the comparison folds case and
            // whitespace runs itself, which saves writing a lower-cased copy.
            Search::WordStarts(index) if index.raw_ascii => {
                let bytes = text.as_bytes();
                // A raw search finds only true occurrences; if it stops at a
                // non-ASCII byte, the normalised search below finds them all.
                if index.find::<true>(bytes, |pattern, start, end| record(bytes, pattern, start, end)) {
                    return;
                }
            }
            _ => {}
        }
        thread_local! {
            static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUFFER.with(|buffer| {
            let mut fresh = Vec::new();
            let mut borrowed = buffer.try_borrow_mut();
            let normalised = match &mut borrowed {
                Ok(b) => &mut **b,
                Err(_) => &mut fresh,
            };
            normalise_into(text, normalised);
            let text = normalised.as_slice();
            let mut record = |pattern: usize, start: usize, end: usize| record(text, pattern, start, end);
            match &self.search {
                Search::None => {}
                Search::WordStarts(index) => {
                    index.find::<false>(text, record);
                }
                Search::Automaton { leftmost, overlapping, longest } => {
                    for m in leftmost.find_iter(text) {
                        match overlapping {
                            None => record(m.pattern().as_usize(), m.start(), m.end()),
                            Some(overlapping) => {
                                // Every occurrence overlapping [start, end) lies in this window.
                                let from = m.start().saturating_sub(longest.saturating_sub(1));
                                let to = (m.end() + longest.saturating_sub(1)).min(text.len());
                                for o in overlapping.find_overlapping_iter(&text[from..to]) {
                                    record(o.pattern().as_usize(), from + o.start(), from + o.end());
                                }
                            }
                        }
                    }
                }
            }
        });
    }
}

/// Phrases filed by their first three bytes, for phrases that can only begin
/// at a word start. Searches either normalised text or raw ASCII text: the
/// prefix and the comparison read bytes through [`FOLD`], so an upper-case
/// letter or a line break in raw text reads as its normalised form.
#[derive(Debug, Clone)]
struct WordStarts {
    patterns: Vec<Box<[u8]>>,
    /// Raw ASCII text can be searched: no phrase has a space as its second
    /// byte (in raw text a run of spaces there would shift the prefix).
    raw_ascii: bool,
    /// One bit per hash of a 3-byte prefix, set for the phrases' prefixes:
    /// nearly every word start is ruled out by one bit test, without the
    /// unpredictable branches of a hash-table probe.
    filter: Box<[u64; FILTER_BITS / 64]>,
    /// Open addressing over the 3-byte prefixes: (prefix, start, end) into
    /// `by_prefix`; prefix 0 marks an empty slot (a phrase cannot begin with NUL).
    slots: Vec<(u32, u32, u32)>,
    /// Pattern indices grouped by prefix.
    by_prefix: Vec<u32>,
}

impl WordStarts {
    /// `None` when some phrase is shorter than three bytes or may begin
    /// anywhere (its first character is not a word character, e.g. ".net").
    fn new(patterns: &[String]) -> Option<WordStarts> {
        let mut groups: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut filter = Box::new([0u64; FILTER_BITS / 64]);
        for (i, p) in patterns.iter().enumerate() {
            let bytes = p.as_bytes();
            if bytes.len() < 3 || !p.chars().next().is_some_and(is_word_char) {
                return None;
            }
            let key = prefix(bytes);
            let bit = filter_bit(key);
            filter[bit / 64] |= 1 << (bit % 64);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, ids)) => ids.push(i as u32),
                None => groups.push((key, vec![i as u32])),
            }
        }
        let capacity = (groups.len() * 2).next_power_of_two().max(8);
        let mut slots = vec![(0u32, 0u32, 0u32); capacity];
        let mut by_prefix = Vec::new();
        for (key, ids) in groups {
            let start = by_prefix.len() as u32;
            by_prefix.extend(ids);
            let mut at = hash_slot(key, capacity);
            while slots[at].0 != 0 {
                at = (at + 1) & (capacity - 1);
            }
            slots[at] = (key, start, by_prefix.len() as u32);
        }
        let raw_ascii = patterns.iter().all(|p| p.as_bytes().get(1) != Some(&b' '));
        let patterns = patterns.iter().map(|p| p.as_bytes().into()).collect();
        Some(WordStarts { patterns, raw_ascii, filter, slots, by_prefix })
    }

    /// Calls `found(pattern, start, end)` for every occurrence of a phrase
    /// that begins at a possible word start; the caller checks the boundaries.
    ///
    /// With `RAW`, the text is raw text and the search stops, returning
    /// false, at the first eight bytes that are not all ASCII.
    fn find<const RAW: bool>(&self, text: &[u8], mut found: impl FnMut(usize, usize, usize)) -> bool {
        let Some(last) = text.len().checked_sub(3) else { return !RAW || text.is_ascii() };
        // Eight bytes at a time, the last chunk padded with NUL bytes (never
        // read as part of a phrase: positions past `last` are not tested).
        let chunk_at = |c: usize| -> u64 {
            let from = c * 8;
            match text.get(from..from + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                Some(bytes) => u64::from_le_bytes(bytes),
                None => {
                    let mut bytes = [0u8; 8];
                    let tail = &text[from..];
                    bytes[..tail.len()].copy_from_slice(tail);
                    u64::from_le_bytes(bytes)
                }
            }
        };
        let chunks = text.len().div_ceil(8);
        let mut after_end: u64 = 1; // the text's first byte starts a word
        for c in 0..chunks {
            let raw = chunk_at(c);
            if RAW && raw & HIGH != 0 {
                return false;
            }
            let ends = word_end_mask(raw);
            // Bit 8k + 7 of `starts` for byte k of this chunk: byte k - 1 may end a word.
            let mut starts = (ends << 8) | after_end;
            after_end = ends >> 56;
            while starts != 0 {
                let k = starts.trailing_zeros() / 8;
                starts &= starts - 1;
                let i = c * 8 + k as usize;
                if i > last {
                    break;
                }
                let key = prefix(&text[i..]);
                let bit = filter_bit(key);
                if self.filter[bit / 64] >> (bit % 64) & 1 != 0 {
                    self.compare(text, i, key, &mut found);
                }
            }
        }
        true
    }

    /// Compares the phrases filed under `key` with the text at `at`. Kept out
    /// of line so the scanning loop above stays small and in registers.
    #[inline(never)]
    fn compare(&self, text: &[u8], at: usize, key: u32, found: &mut impl FnMut(usize, usize, usize)) {
        let mask = self.slots.len() - 1;
        let mut slot = hash_slot(key, self.slots.len());
        loop {
            let (k, start, end) = self.slots[slot];
            if k == key {
                for &p in &self.by_prefix[start as usize..end as usize] {
                    if let Some(end) = folded_match(text, at, &self.patterns[p as usize]) {
                        found(p as usize, at, end);
                    }
                }
                return;
            }
            if k == 0 {
                return;
            }
            slot = (slot + 1) & mask;
        }
    }
}

/// For each of the eight bytes of `x`, 0x80 when the byte may end a word (an
/// ASCII byte other than `[0-9A-Za-z_]`, or any byte of a multi-byte
/// character) and 0 otherwise.
fn word_end_mask(x: u64) -> u64 {
    let word = (in_range(x, b'0', b'9') | in_range(x, b'a', b'z') | in_range(x, b'A', b'Z') | in_range(x, b'_', b'_'))
        & !(x & HIGH);
    !word & HIGH
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// 0x80 in each byte of `x` whose low seven bits lie in `lo..=hi` (callers
/// mask out bytes with the high bit set where that matters). No carry
/// crosses bytes: (b + 0x80 - c) <= 0xff for b <= 0x7f and 1 <= c <= 0x80.
fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    let ascii = x & !HIGH;
    let at_least = |c: u64| (ascii + (0x80 - c) * ONES) & HIGH;
    at_least(u64::from(lo)) & !at_least(u64::from(hi) + 1)
}

/// Size of [`WordStarts::filter`]: 8 KiB, so it stays in the L1 cache.
const FILTER_BITS: usize = 1 << 16;

fn filter_bit(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> 16) as usize
}

/// How normalisation reads each byte of ASCII text: upper case folded, line
/// breaks and tabs as spaces (as `normalise_into` does); every other byte,
/// and every byte of normalised text, reads as itself.
static FOLD: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b'\t' | b'\n' | b'\x0c' | b'\r' => b' ',
            c => c.to_ascii_lowercase(),
        };
        b += 1;
    }
    table
};

/// The first three bytes, folded, as a number (callers guarantee three bytes).
fn prefix(bytes: &[u8]) -> u32 {
    u32::from(FOLD[bytes[0] as usize])
        | u32::from(FOLD[bytes[1] as usize]) << 8
        | u32::from(FOLD[bytes[2] as usize]) << 16
}

/// Where `phrase` (normalised) ends if it occurs in `text` at `at`, reading
/// the text folded and a run of spaces in it as the phrase's one space.
fn folded_match(text: &[u8], at: usize, phrase: &[u8]) -> Option<usize> {
    let mut t = at;
    for &p in phrase {
        if FOLD[*text.get(t)? as usize] != p {
            return None;
        }
        t += 1;
        if p == b' ' {
            while text.get(t).is_some_and(|b| FOLD[*b as usize] == b' ') {
                t += 1;
            }
        }
    }
    Some(t)
}

fn hash_slot(key: u32, capacity: usize) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> 7) as usize & (capacity - 1)
}

/// Whether occurrences of these phrases can never overlap in any text: two
/// occurrences overlap only if one phrase contains another or a phrase ends
/// with the beginning of another (or of itself).
fn patterns_are_disjoint(patterns: &[String]) -> bool {
    for (i, a) in patterns.iter().enumerate() {
        for (j, b) in patterns.iter().enumerate() {
            if may_overlap(a.as_bytes(), b.as_bytes(), i == j) {
                return false;
            }
        }
    }
    true
}

/// Whether `b` occurs inside `a` (unless `same`: `a` is `b`), or a proper
/// suffix of `a` is a prefix of `b` (when `same`: `a` has a border). One
/// prefix-function pass over `b`, a separator and `a`: linear in their
/// lengths, where comparing every suffix was quadratic (a phrase of 32,000
/// backslashes took 39 s to load).
fn may_overlap(a: &[u8], b: &[u8], same: bool) -> bool {
    const SEPARATOR: u16 = 256;
    let text: Vec<u16> = if same {
        a.iter().map(|&c| u16::from(c)).collect()
    } else {
        b.iter()
            .map(|&c| u16::from(c))
            .chain(std::iter::once(SEPARATOR))
            .chain(a.iter().map(|&c| u16::from(c)))
            .collect()
    };
    // prefix[i]: the longest proper prefix of `text[..=i]` that is also its suffix.
    let mut prefix = vec![0usize; text.len()];
    for i in 1..text.len() {
        let mut k = prefix[i - 1];
        while k > 0 && text[i] != text[k] {
            k = prefix[k - 1];
        }
        if text[i] == text[k] {
            k += 1;
        }
        prefix[i] = k;
    }
    let border = prefix.last().is_some_and(|&k| k > 0);
    let contains = !same && prefix.iter().skip(b.len() + 1).any(|&k| k == b.len());
    border || contains
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

    /// The quadratic definition `may_overlap` replaces.
    fn may_overlap_naive(a: &[u8], b: &[u8], same: bool) -> bool {
        let contains = !same && a.windows(b.len()).any(|w| w == b);
        let proper = if same { a.len().saturating_sub(1) } else { a.len().min(b.len()) };
        contains || (1..=proper).any(|k| a[a.len() - k..] == b[..k])
    }

    #[test]
    fn overlap_test_agrees_with_its_definition() {
        let words =
            ["a", "ab", "aba", "abab", "ba", "bab", "b", "abb", "bba", "aab", "double charged", "charged twice"];
        for a in words {
            for b in words {
                let (x, y) = (a.as_bytes(), b.as_bytes());
                assert_eq!(may_overlap(x, y, false), may_overlap_naive(x, y, false), "{a:?} {b:?}");
            }
            assert_eq!(
                may_overlap(a.as_bytes(), a.as_bytes(), true),
                may_overlap_naive(a.as_bytes(), a.as_bytes(), true),
                "{a:?}"
            );
        }
        let long = vec![b'\\'; 100_000];
        assert!(may_overlap(&long, &long, true));
    }

    fn to_sets(sets: &[&[&str]]) -> Vec<Vec<String>> {
        sets.iter().map(|s| s.iter().map(|p| p.to_string()).collect()).collect()
    }

    /// The hits of both searches, which must agree.
    fn hits(sets: &[&[&str]], text: &str) -> Vec<bool> {
        let sets = to_sets(sets);
        let scan = |matcher: KeywordMatcher| {
            let mut h = vec![false; sets.len()];
            matcher.scan(text, &mut h);
            h
        };
        let by_word_starts = scan(KeywordMatcher::build(&sets, true));
        let by_automaton = scan(KeywordMatcher::build(&sets, false));
        assert_eq!(by_word_starts, by_automaton, "the two searches disagree on {text:?}");
        by_automaton
    }

    #[test]
    fn word_boundaries_and_case() {
        assert_eq!(hits(&[&["refund"]], "I want a REFUND now"), vec![true]);
        assert_eq!(hits(&[&["refund"]], "refunded already"), vec![false]);
        assert_eq!(hits(&[&["refund"]], "prefund"), vec![false]);
        assert_eq!(hits(&[&["legal action"]], "we will take legal\n  action"), vec![true]);
        assert_eq!(hits(&[&["ärger"]], "Großer ÄRGER hier"), vec![true]);
        assert_eq!(hits(&[&["ärger"]], "großerärger"), vec![false]);
        assert_eq!(hits(&[&["sso"]], "(SSO) please; éSSO no"), vec![true]);
        assert_eq!(hits(&[&["sso"]], "éSSO no"), vec![false], "a letter before the phrase");
        assert_eq!(hits(&[&["sso"]], "—sso"), vec![true], "a dash is not a letter");
        assert_eq!(hits(&[&["c++"]], "we use c++, and C++11"), vec![true]);
        assert_eq!(hits(&[&["is down"]], "Site IS\r\n\t DOWN!"), vec![true]);
        assert_eq!(hits(&[&["is down"]], "This down"), vec![false]);
        assert_eq!(hits(&[&["Legal Action"]], "LEGAL   action."), vec![true]);
    }

    #[test]
    fn the_faster_search_is_used_when_it_can_be() {
        let uses_word_starts =
            |sets: &[&[&str]]| matches!(KeywordMatcher::new(&to_sets(sets)).search, Search::WordStarts(_));
        assert!(uses_word_starts(&[&["refund", "legal action"], &["sso"]]));
        assert!(!uses_word_starts(&[&["refund"], &["ad"]]), "a phrase shorter than three bytes");
        assert!(!uses_word_starts(&[&["refund"], &[".net"]]), "a phrase that may begin inside a word");
        let reads_raw_ascii = |sets: &[&[&str]]| match KeywordMatcher::new(&to_sets(sets)).search {
            Search::WordStarts(index) => index.raw_ascii,
            _ => false,
        };
        assert!(reads_raw_ascii(&[&["refund", "legal action", "is down"]]));
        assert!(!reads_raw_ascii(&[&["refund", "a lawyer"]]), "a space as the second byte");
    }

    #[test]
    fn word_end_mask_flags_bytes_that_may_end_a_word() {
        for b in 0..=255u8 {
            let x = u64::from_le_bytes([b'a', b, b'z', b'0', b'_', b'-', 0xc3, b'9']);
            let mask = word_end_mask(x);
            let expected = b >= 0x80 || !(b.is_ascii_alphanumeric() || b == b'_');
            assert_eq!(mask >> 15 & 1 == 1, expected, "byte {b:#x}");
            assert_eq!(mask & !0x8000, 0x0080_8000_0000_0000, "`-` and the lead byte of `é` may end a word");
        }
    }

    #[test]
    fn shared_phrases_hit_every_set() {
        assert_eq!(hits(&[&["cancel"], &["cancel", "quit"], &["down"]], "please cancel"), vec![true, true, false]);
    }

    #[test]
    fn disjoint_phrases_use_the_leftmost_search_alone() {
        let sets = to_sets(&[&["refund"], &["legal action"]]);
        assert!(patterns_are_disjoint(&["refund".into(), "legal action".into()]));
        let m = KeywordMatcher::build(&sets, false);
        assert!(matches!(m.search, Search::Automaton { overlapping: None, .. }));
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
        // The leftmost search reports "double charged"; "charged twice" overlaps it.
        assert_eq!(hits(&[&["double charged"], &["charged twice"]], "double charged twice"), vec![true, true]);
        // A chain of overlaps: each phrase overlaps the next one only.
        let chain: &[&[&str]] = &[&["aaa bbb"], &["bbb ccc"], &["ccc ddd"], &["ddd eee"]];
        assert_eq!(hits(chain, "x aaa bbb ccc ddd eee y"), vec![true, true, true, true]);
        // The leftmost match fails its word boundary; the overlapping one passes.
        assert_eq!(hits(&[&["sue you"], &["sue"]], "we will sue yourselves"), vec![false, true]);
        assert_eq!(hits(&[&["abc"], &["bcd eee"]], "xabc bcd eee"), vec![false, true]);
    }

    /// Both searches agree with a brute-force test of every position, on
    /// texts built from pieces of the phrases themselves.
    #[test]
    fn agrees_with_brute_force() {
        let phrase_lists: [&[&str]; 4] = [
            &["ab", "b a", "a", "aba", "b ab", "ba b"],
            &["aba", "bab", "ab ab", "ba ba b", "abab", "ä ab"],
            &["abx", "x ab", "bab x", "xxx", "ab-ab"],
            &["abx", "bab x", "xxx", "ab-ab", "ab ba"],
        ];
        let pieces = ["a", "b", " ", "ab", "ba", "x", "-", "ä", "\n", "A", "B", "X", "\r\n", "  ", "\t"];
        let mut seed: u64 = 7;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for phrases in phrase_lists {
            let sets: Vec<Vec<String>> = phrases.iter().map(|p| vec![p.to_string()]).collect();
            let matchers = [KeywordMatcher::build(&sets, true), KeywordMatcher::build(&sets, false)];
            for _ in 0..3000 {
                let mut text = String::new();
                for _ in 0..next() % 12 {
                    text.push_str(pieces[next() % pieces.len()]);
                }
                let mut normalised = Vec::new();
                normalise_into(&text, &mut normalised);
                let bytes = normalised.as_slice();
                let expected: Vec<bool> = phrases
                    .iter()
                    .map(|p| {
                        (0..=bytes.len().saturating_sub(p.len()))
                            .any(|s| bytes[s..].starts_with(p.as_bytes()) && is_boundary(bytes, s, s + p.len()))
                    })
                    .collect();
                for m in &matchers {
                    let mut got = vec![false; sets.len()];
                    m.scan(&text, &mut got);
                    assert_eq!(got, expected, "text {text:?}, phrases {phrases:?}");
                }
            }
        }
    }
}
