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
use routec_compiler::phrase::{is_word_char, Phrase, WordForm, EXACT_LETTERS};

/// Phrase bytes up to which the fallback search is a full DFA.
const MAX_DFA_PHRASE_BYTES: usize = 4096;

/// All keyword sets of a policy, compiled together.
#[derive(Debug, Clone)]
pub struct KeywordMatcher {
    search: Search,
    /// Anchor (search pattern) index → the phrases that begin with it.
    anchor_phrases: Vec<Vec<u32>>,
    phrases: Vec<PhraseEntry>,
    set_count: usize,
}

/// One distinct phrase of the policy's keyword sets.
#[derive(Debug, Clone)]
struct PhraseEntry {
    /// As written, lower-cased, one space between words: the trace shows it.
    shown: String,
    /// `None` for a literal phrase, which is its own anchor; otherwise the
    /// phrase checked where its anchor is found.
    loose: Option<Loose>,
    /// The sets containing this phrase.
    sets: Vec<u32>,
}

/// Where a phrase matched: reported once per set, for the set's first match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub set: usize,
    /// Index for [`KeywordMatcher::phrase`].
    pub phrase: usize,
    pub start: usize,
    pub end: usize,
    /// The offsets are into the normalised text (see [`original_span`]),
    /// not the text as given.
    pub normalised: bool,
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
        // The searches below look for anchors: a literal phrase is its own
        // anchor, a loose one (gaps, prefixes, typos) is found by its leading
        // literal text and checked from there.
        let mut patterns: Vec<String> = Vec::new();
        let mut anchor_phrases: Vec<Vec<u32>> = Vec::new();
        let mut phrases: Vec<PhraseEntry> = Vec::new();
        for (set_idx, set) in sets.iter().enumerate() {
            for written in set {
                let shown = normalise(written);
                if shown.is_empty() {
                    continue;
                }
                if let Some(entry) = phrases.iter_mut().find(|e| e.shown == shown) {
                    if !entry.sets.contains(&(set_idx as u32)) {
                        entry.sets.push(set_idx as u32);
                    }
                    continue;
                }
                // A checked policy has no malformed phrase; one that slipped
                // through is matched as the literal text it is.
                let (anchor, loose) = match Phrase::parse(&shown) {
                    Ok(p) if !p.is_literal() => (p.anchor(), Some(Loose::new(&p))),
                    Ok(p) => (p.literal(), None),
                    Err(_) => (shown.clone(), None),
                };
                let id = phrases.len() as u32;
                phrases.push(PhraseEntry { shown, loose, sets: vec![set_idx as u32] });
                match patterns.iter().position(|p| *p == anchor) {
                    Some(i) => anchor_phrases[i].push(id),
                    None => {
                        patterns.push(anchor);
                        anchor_phrases.push(vec![id]);
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
        KeywordMatcher { search, anchor_phrases, phrases, set_count: sets.len() }
    }

    pub fn set_count(&self) -> usize {
        self.set_count
    }

    /// Phrase `index` of a [`Found`], as written (lower-cased, one space between words).
    pub fn phrase(&self, index: usize) -> &str {
        self.phrases.get(index).map_or("", |p| p.shown.as_str())
    }

    /// Marks in `hits` (one bool per set) every set with a phrase in `text`,
    /// and tells `found` where each set not yet marked matched first.
    pub fn scan(&self, text: &str, hits: &mut [bool], mut found: impl FnMut(Found)) {
        // `raw`: `text` is the ticket's text read as it is (ASCII only), not
        // the normalised copy.
        let mut record = |text: &[u8], raw: bool, anchor: usize, start: usize, anchor_end: usize| {
            for &p in &self.anchor_phrases[anchor] {
                let entry = &self.phrases[p as usize];
                let end = match &entry.loose {
                    None if is_boundary(text, start, anchor_end) => anchor_end,
                    None => continue,
                    Some(loose) if starts_word(text, start) => match loose.find(text, start, raw) {
                        Ok(Some(end)) => end,
                        // Not ASCII after all: the normalised search that follows decides.
                        Ok(None) | Err(NotAscii) => continue,
                    },
                    Some(_) => continue,
                };
                for &s in &entry.sets {
                    if let Some(h) = hits.get_mut(s as usize) {
                        if !*h {
                            *h = true;
                            found(Found { set: s as usize, phrase: p as usize, start, end, normalised: !raw });
                        }
                    }
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
                if index.find::<true>(bytes, |pattern, start, end| record(bytes, true, pattern, start, end)) {
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
            let mut record = |pattern: usize, start: usize, end: usize| record(text, false, pattern, start, end);
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

/// A loose phrase, ready to be checked at a position where its anchor occurs.
///
/// Words match at word boundaries: an exact word ends where a word ends (if
/// its last character is a word character), a prefix word and a
/// typo-tolerant word take the whole word they start. Adjacent words are
/// separated by white space, as in literal phrases. A gap `~N` is passed
/// over as a separator, then up to N words each followed by a separator,
/// where a word is a run of letters and digits and a separator a run of
/// other characters that does not end a sentence (`.`, `!`, `?`, `;`).
#[derive(Debug, Clone)]
struct Loose {
    words: Vec<LooseWord>,
    /// `gaps[i]` lies between `words[i]` and `words[i + 1]`.
    gaps: Vec<u8>,
}

#[derive(Debug, Clone)]
struct LooseWord {
    bytes: Box<[u8]>,
    /// The word's characters (typo-tolerant words compare by character).
    chars: Box<[char]>,
    form: WordForm,
    /// The word ends with a word character, so a match must end where a word ends.
    bounded: bool,
}

/// Raw text turned out not to be ASCII where a check read it.
struct NotAscii;

impl Loose {
    fn new(phrase: &Phrase) -> Loose {
        let words = phrase
            .words
            .iter()
            .map(|w| LooseWord {
                bytes: w.text.as_bytes().into(),
                chars: w.text.chars().collect(),
                form: w.form,
                bounded: w.text.chars().next_back().is_some_and(is_word_char),
            })
            .collect();
        Loose { words, gaps: phrase.gaps.clone() }
    }

    /// Where the phrase ends if it matches at `at` (a word start), the
    /// shortest match if there are several. Every position a gap allows is
    /// followed at once, so the check is linear in the phrase and the gaps,
    /// never exponential.
    fn find(&self, text: &[u8], at: usize, raw: bool) -> Result<Option<usize>, NotAscii> {
        let mut frontier: Vec<usize> = vec![at];
        let mut next: Vec<usize> = Vec::new();
        for (i, word) in self.words.iter().enumerate() {
            if i > 0 {
                let gap = self.gaps.get(i - 1).copied().unwrap_or(0);
                next.clear();
                for &p in &frontier {
                    if gap == 0 {
                        let q = skip(text, p, raw, |c| c == ' ')?;
                        if q > p {
                            next.push(q);
                        }
                    } else {
                        gap_starts(text, p, gap, raw, &mut next)?;
                    }
                }
                next.sort_unstable();
                next.dedup();
                std::mem::swap(&mut frontier, &mut next);
            }
            next.clear();
            for &p in &frontier {
                if let Some(end) = word.match_at(text, p, raw)? {
                    next.push(end);
                }
            }
            std::mem::swap(&mut frontier, &mut next);
            if frontier.is_empty() {
                return Ok(None);
            }
        }
        Ok(frontier.into_iter().min())
    }
}

impl LooseWord {
    /// Where this word ends if it matches at `at`.
    fn match_at(&self, text: &[u8], at: usize, raw: bool) -> Result<Option<usize>, NotAscii> {
        match self.form {
            WordForm::Exact | WordForm::Prefix => {
                for (k, &b) in self.bytes.iter().enumerate() {
                    let Some(&t) = text.get(at + k) else { return Ok(None) };
                    if raw && t >= 0x80 {
                        return Err(NotAscii);
                    }
                    if FOLD[t as usize] != b {
                        return Ok(None);
                    }
                }
                let end = at + self.bytes.len();
                if self.form == WordForm::Prefix {
                    return skip(text, end, raw, is_word_char).map(Some);
                }
                let after = char_at(text, end, raw)?;
                Ok((!self.bounded || !after.is_some_and(|(c, _)| is_word_char(c))).then_some(end))
            }
            WordForm::Typo => {
                let mut found: Vec<char> = Vec::with_capacity(self.chars.len() + 1);
                let mut end = at;
                while let Some((c, len)) = char_at(text, end, raw)?.filter(|(c, _)| is_word_char(*c)) {
                    if found.len() > self.chars.len() {
                        return Ok(None); // two letters longer: more than one typo
                    }
                    found.push(c);
                    end += len;
                }
                let exact = EXACT_LETTERS.min(self.chars.len());
                let matches = found.len() >= exact
                    && found[..exact] == self.chars[..exact]
                    && within_one_edit(&self.chars[exact..], &found[exact..]);
                Ok(matches.then_some(end))
            }
        }
    }
}

/// Where the words after a gap of up to `gap` words may start, from `at`
/// (the end of the word before the gap).
fn gap_starts(text: &[u8], at: usize, gap: u8, raw: bool, out: &mut Vec<usize>) -> Result<(), NotAscii> {
    let mut p = at;
    for skipped in 0..=gap {
        let word_start = skip(text, p, raw, |c| !is_word_char(c) && !matches!(c, '.' | '!' | '?' | ';'))?;
        if word_start == p {
            break; // no separator: the end of the text or of a sentence
        }
        out.push(word_start);
        if skipped == gap {
            break;
        }
        let word_end = skip(text, word_start, raw, is_word_char)?;
        if word_end == word_start {
            break;
        }
        p = word_end;
    }
    Ok(())
}

/// The position after the run of characters from `at` that satisfy `keep`.
fn skip(text: &[u8], mut at: usize, raw: bool, keep: impl Fn(char) -> bool) -> Result<usize, NotAscii> {
    while let Some((c, len)) = char_at(text, at, raw)? {
        if !keep(c) {
            break;
        }
        at += len;
    }
    Ok(at)
}

/// The character at `at`, as normalisation reads it (ASCII folded).
fn char_at(text: &[u8], at: usize, raw: bool) -> Result<Option<(char, usize)>, NotAscii> {
    match text.get(at) {
        None => Ok(None),
        Some(&b) if b < 0x80 => Ok(Some((FOLD[b as usize] as char, 1))),
        Some(_) if raw => Err(NotAscii),
        Some(_) => Ok(char_near(text, at, true).map(|c| (c, c.len_utf8()))),
    }
}

/// Whether `a` becomes `b` with at most one edit: a character inserted,
/// removed or replaced, or two neighbours swapped.
fn within_one_edit(a: &[char], b: &[char]) -> bool {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a_rest, b_rest) = (&a[common..], &b[common..]);
    match (a_rest.len(), b_rest.len()) {
        (0, 0) | (0, 1) | (1, 0) => true,
        (n, m) if n == m => {
            a_rest[1..] == b_rest[1..]
                || (n >= 2 && a_rest[0] == b_rest[1] && a_rest[1] == b_rest[0] && a_rest[2..] == b_rest[2..])
        }
        (n, m) if n == m + 1 => a_rest[1..] == *b_rest,
        (n, m) if m == n + 1 => b_rest[1..] == *a_rest,
        _ => false,
    }
}

/// The byte range in `original` of the range `start..end` of its
/// normalised copy (as `normalise_into` writes it), for the trace.
pub fn original_span(original: &str, start: usize, end: usize) -> (usize, usize) {
    let mut out = 0usize;
    let mut last_space = false;
    let (mut from, mut to) = (None, None);
    let ascii = original.is_ascii();
    for (i, c) in original.char_indices() {
        // The two paths of `normalise_into`: ASCII text folds four control
        // characters and collapses runs of spaces; other text collapses
        // every run of white space.
        let space = if ascii { matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r') } else { c.is_whitespace() };
        // A match never starts with white space: it starts at the first
        // other character from there (not inside the run before it).
        if from.is_none() && out >= start && !space {
            from = Some(i);
        }
        if space {
            if !last_space {
                out += 1;
            }
            last_space = true;
        } else {
            out += if ascii { 1 } else { c.to_lowercase().map(char::len_utf8).sum::<usize>() };
            last_space = false;
        }
        if to.is_none() && out >= end {
            to = Some(i + c.len_utf8());
        }
    }
    let from = from.unwrap_or(original.len());
    (from, to.unwrap_or(original.len()).max(from))
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
    let after = char_near(text, end, true);
    let last = char_near(text, end, false);
    // A phrase that starts or ends with punctuation (e.g. "c++") needs no boundary there.
    let right_ok = !last.is_some_and(is_word_char) || !after.is_some_and(is_word_char);
    starts_word(text, start) && right_ok
}

/// Whether a phrase may begin at `start`: not inside a word (a phrase that
/// begins with punctuation may begin anywhere).
fn starts_word(text: &[u8], start: usize) -> bool {
    let before = char_near(text, start, false);
    let first = char_near(text, start, true);
    !first.is_some_and(is_word_char) || !before.is_some_and(is_word_char)
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
            matcher.scan(text, &mut h, |_| {});
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
        m.scan("prefund then a refund and legal action", &mut h, |_| {});
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
                    m.scan(&text, &mut got, |_| {});
                    assert_eq!(got, expected, "text {text:?}, phrases {phrases:?}");
                }
            }
        }
    }

    #[test]
    fn gaps_allow_a_few_words_within_a_sentence() {
        let gap: &[&[&str]] = &[&["cancel ~2 subscription"]];
        assert_eq!(hits(gap, "Please cancel my subscription"), vec![true]);
        assert_eq!(hits(gap, "cancel the annual\n subscription!"), vec![true]);
        assert_eq!(hits(gap, "cancel subscription"), vec![true], "no word between is fine");
        assert_eq!(hits(gap, "cancel, my subscription"), vec![true], "a comma is not a sentence end");
        assert_eq!(hits(gap, "cancel all of my subscription"), vec![false], "three words between");
        assert_eq!(hits(gap, "I will cancel. Subscription is fine"), vec![false], "a sentence ends between");
        assert_eq!(hits(gap, "cancellation subscription"), vec![false], "`cancel` is a whole word");
        assert_eq!(hits(gap, "cancel my subscriptions"), vec![false], "and so is `subscription`");
        assert_eq!(hits(gap, "cancel the cancel my subscription"), vec![true], "a later start");
        assert_eq!(hits(&[&["kündigen ~1 vertrag"]], "Ich will KÜNDIGEN den Vertrag"), vec![true]);
    }

    #[test]
    fn prefixes_take_the_rest_of_the_word() {
        let prefix: &[&[&str]] = &[&["refund*"], &["full refund* now"]];
        assert_eq!(hits(prefix, "Refunds?"), vec![true, false]);
        assert_eq!(hits(prefix, "a full refunded now"), vec![true, true]);
        assert_eq!(hits(prefix, "prefunded"), vec![false, false]);
        assert_eq!(hits(prefix, "ref und"), vec![false, false]);
        assert_eq!(hits(&[&["rück*"]], "Rückerstattung bitte"), vec![true]);
    }

    #[test]
    fn typo_tolerance_allows_one_edit_after_the_first_letters() {
        let typo: &[&[&str]] = &[&["subscription~"]];
        for text in ["subscription", "my subscripton", "subscriptions", "SUBSCIRPTION", "subscriptiom"] {
            assert_eq!(hits(typo, text), vec![true], "{text}");
        }
        for text in ["sbuscription", "subscriptionss", "subscriber", "xsubscription", "subscripti"] {
            assert_eq!(hits(typo, text), vec![false], "{text}");
        }
        assert_eq!(hits(&[&["cancel ~1 subscription~ now"]], "cancel my subscripion now"), vec![true]);
        assert_eq!(hits(&[&["überweisung~"]], "Die ÜBERWEISNG fehlt"), vec![true]);
    }

    #[test]
    fn the_first_match_of_each_set_is_reported_with_its_span() {
        let sets = to_sets(&[&["cancel ~2 subscription", "refund*"], &["refund*"]]);
        let matcher = KeywordMatcher::new(&sets);
        for text in ["Hi, REFUNDS and   cancel my subscription", "Hé, REFUNDS and   cancel my subscription"] {
            let mut h = vec![false; 2];
            let mut found = Vec::new();
            matcher.scan(text, &mut h, |f| found.push(f));
            assert_eq!(h, vec![true, true]);
            let spans: Vec<(usize, &str, &str)> = found
                .iter()
                .map(|f| {
                    let (start, end) =
                        if f.normalised { original_span(text, f.start, f.end) } else { (f.start, f.end) };
                    (f.set, matcher.phrase(f.phrase), &text[start..end])
                })
                .collect();
            assert_eq!(spans, vec![(0, "refund*", "REFUNDS"), (1, "refund*", "REFUNDS")], "{text}");
        }
        let text = "Ärger: Bitte\t\tcancel   my subscription";
        let mut h = vec![false; 2];
        let mut found = Vec::new();
        matcher.scan(text, &mut h, |f| found.push(f));
        let f = found[0];
        let (start, end) = original_span(text, f.start, f.end);
        assert_eq!(&text[start..end], "cancel   my subscription");
    }

    /// Both searches find exactly the loose phrases' matches that checking
    /// every position finds: the anchor search misses none.
    #[test]
    fn loose_phrases_agree_with_checking_every_position() {
        let phrase_lists: [&[&str]; 3] = [
            // "ab" is too short for the word-start search: both matchers use the automaton.
            &["ab ~1 ba", "aba*", "ababab~", "bab ~2 aba*", "ab"],
            &["abx*", "aba ~2 ab", "xab ~1 x", "abbaab~ ab", "ba ba"],
            &["bab*", "äb ~1 ab", "ababab~", "ab ab"],
        ];
        let pieces = [
            "a", "b", " ", "ab", "ba", "x", "-", "ä", "\n", "A", "B", ". ", ",", "  ", "abab", "abba", "ababa", "abbab",
        ];
        let mut seed: u64 = 5;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for phrases in phrase_lists {
            let sets: Vec<Vec<String>> = phrases.iter().map(|p| vec![p.to_string()]).collect();
            let parsed: Vec<Phrase> = phrases.iter().map(|p| Phrase::parse(p).expect("valid")).collect();
            let matchers = [KeywordMatcher::build(&sets, true), KeywordMatcher::build(&sets, false)];
            for _ in 0..3000 {
                let mut text = String::new();
                for _ in 0..next() % 12 {
                    text.push_str(pieces[next() % pieces.len()]);
                }
                let mut normalised = Vec::new();
                normalise_into(&text, &mut normalised);
                let bytes = normalised.as_slice();
                let expected: Vec<bool> = parsed
                    .iter()
                    .map(|p| {
                        (0..bytes.len()).filter(|s| !(0x80..0xc0).contains(&bytes[*s])).any(|s| {
                            if p.is_literal() {
                                let lit = p.literal();
                                bytes[s..].starts_with(lit.as_bytes()) && is_boundary(bytes, s, s + lit.len())
                            } else {
                                starts_word(bytes, s) && matches!(Loose::new(p).find(bytes, s, false), Ok(Some(_)))
                            }
                        })
                    })
                    .collect();
                for m in &matchers {
                    let mut got = vec![false; sets.len()];
                    m.scan(&text, &mut got, |_| {});
                    assert_eq!(got, expected, "text {text:?}, phrases {phrases:?}");
                }
            }
        }
    }
}
