//! Keyword phrases: the small pattern language inside the strings of a
//! keyword set. The checker reads phrases with [`Phrase::parse`] to report a
//! malformed one at the exact characters; the runtime reads them with the
//! same function to match them, so both agree on what a phrase means.
//!
//! A phrase is words separated by spaces. Three marks loosen it:
//! - `~N` standing alone between two words lets up to N words (1 ≤ N ≤
//!   [`MAX_GAP`]) come between them: `"cancel ~2 subscription"` matches
//!   "cancel my subscription" and "cancel the annual subscription";
//! - `*` ending a word makes it a prefix: `"refund*"` matches "refund",
//!   "refunds", "refunded"; at least [`MIN_PREFIX`] characters come before it;
//! - `~` ending a word tolerates one typo (a letter missing, added, replaced,
//!   or two neighbours swapped) after the word's first [`EXACT_LETTERS`]
//!   letters, in words of at least [`MIN_TYPO_WORD`] letters:
//!   `"subscription~"` matches "subscripton" and "subscriptions".
//!
//! Every other character is literal, as before these marks existed.

/// The most words a `~N` gap may skip.
pub const MAX_GAP: u8 = 9;
/// Characters a prefix (`word*`) needs before its `*`.
pub const MIN_PREFIX: usize = 3;
/// Letters a typo-tolerant word (`word~`) needs: short words have too many
/// neighbours one typo away ("cat" → "car", "bat", "at").
pub const MIN_TYPO_WORD: usize = 6;
/// Leading letters a typo-tolerant word matches exactly, as search engines'
/// fuzzy queries keep a prefix exact: it also lets the one-pass search find
/// the word's candidates by their first letters.
pub const EXACT_LETTERS: usize = 3;

/// A parsed phrase: words, each followed (except the last) by a separator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phrase {
    pub words: Vec<Word>,
    /// `gaps[i]` is what lies between `words[i]` and `words[i + 1]`: 0 for
    /// adjacent words (white space only), N for `~N`.
    pub gaps: Vec<u8>,
}

/// One word of a phrase, lower-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// The word without its mark.
    pub text: String,
    pub form: WordForm,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WordForm {
    /// The word as written.
    Exact,
    /// `word*`: any word that starts with it.
    Prefix,
    /// `word~`: the word with at most one typo.
    Typo,
}

/// A malformed phrase: where in the phrase (byte range of the parsed text),
/// what is wrong, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhraseError {
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub label: String,
    pub help: String,
}

impl Phrase {
    /// Reads a phrase. An empty phrase is `Ok` with no words (the checker
    /// reports empty phrases separately).
    pub fn parse(text: &str) -> Result<Phrase, PhraseError> {
        let mut words: Vec<Word> = Vec::new();
        let mut gaps: Vec<u8> = Vec::new();
        let mut pending_gap: Option<(u8, usize, usize)> = None;
        for (start, token) in tokens(text) {
            let end = start + token.len();
            let err = |message: String, label: &str, help: String| PhraseError {
                start,
                end,
                message,
                label: label.to_string(),
                help,
            };
            if let Some(digits) = token.strip_prefix('~') {
                let n = parse_gap(digits).map_err(|help| {
                    err(format!("`{token}` is not a gap"), "expected `~` and a number of words", help)
                })?;
                if words.is_empty() {
                    return Err(err(
                        format!("a phrase cannot start with the gap `{token}`"),
                        "nothing before the gap",
                        format!("write the gap between two words, e.g. \"cancel {token} subscription\""),
                    ));
                }
                if let Some((previous, _, _)) = pending_gap {
                    return Err(err(
                        "two gaps in a row".into(),
                        "a second gap",
                        format!("write one gap: `~{}`", (previous + n).min(MAX_GAP)),
                    ));
                }
                pending_gap = Some((n, start, end));
                continue;
            }
            let word = parse_word(token).map_err(|(message, label, help)| err(message, label, help))?;
            if !words.is_empty() {
                gaps.push(pending_gap.take().map_or(0, |(n, _, _)| n));
            }
            words.push(word);
        }
        if let Some((_, start, end)) = pending_gap {
            return Err(PhraseError {
                start,
                end,
                message: "a phrase cannot end with a gap".into(),
                label: "nothing after the gap".into(),
                help: "write the gap between two words, or remove it".into(),
            });
        }
        Ok(Phrase { words, gaps })
    }

    /// Whether the phrase is plain words, matched as one literal string.
    pub fn is_literal(&self) -> bool {
        self.gaps.iter().all(|g| *g == 0) && self.words.iter().all(|w| w.form == WordForm::Exact)
    }

    /// The phrase's words joined by single spaces (the form literal phrases
    /// are matched in).
    pub fn literal(&self) -> String {
        self.words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ")
    }

    /// The text every match begins with: the leading exact words, then the
    /// stem of a prefix word or the exact letters of a typo-tolerant word,
    /// up to the first gap or loose word. The one-pass search looks for
    /// this; the rest of the phrase is checked where it is found.
    pub fn anchor(&self) -> String {
        let mut anchor = String::new();
        for (i, word) in self.words.iter().enumerate() {
            if i > 0 {
                anchor.push(' ');
            }
            match word.form {
                WordForm::Exact => anchor.push_str(&word.text),
                WordForm::Prefix => {
                    anchor.push_str(&word.text);
                    return anchor;
                }
                WordForm::Typo => {
                    anchor.extend(word.text.chars().take(EXACT_LETTERS));
                    return anchor;
                }
            }
            if self.gaps.get(i).is_some_and(|g| *g > 0) {
                return anchor;
            }
        }
        anchor
    }

    /// The phrase in words, for hover text: "`cancel`, up to 2 words, `subscription`".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (i, word) in self.words.iter().enumerate() {
            parts.push(match word.form {
                WordForm::Exact => format!("`{}`", word.text),
                WordForm::Prefix => format!("a word starting with `{}`", word.text),
                WordForm::Typo => format!("`{}` with at most one typo", word.text),
            });
            match self.gaps.get(i).copied() {
                Some(0) | None => {}
                Some(1) => parts.push("up to 1 other word".into()),
                Some(n) => parts.push(format!("up to {n} other words")),
            }
        }
        parts.join(", then ")
    }
}

/// Whitespace-separated tokens with their byte offsets.
fn tokens(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_whitespace().map(move |t| (t.as_ptr() as usize - text.as_ptr() as usize, t))
}

fn parse_gap(digits: &str) -> Result<u8, String> {
    let example = "write `~2` between two words to allow up to two words between them";
    if digits.is_empty() {
        return Err(format!("say how many words may come between: {example}"));
    }
    match digits.parse::<u32>() {
        Ok(0) => Err("`~0` allows no word between; remove it".into()),
        Ok(n) if n <= u32::from(MAX_GAP) => Ok(n as u8),
        Ok(_) => Err(format!(
            "a gap allows at most {MAX_GAP} words; for words far apart use two keyword sets joined with `and`"
        )),
        Err(_) => Err(example.into()),
    }
}

type WordError = (String, &'static str, String);

fn parse_word(token: &str) -> Result<Word, WordError> {
    let lower = token.to_lowercase();
    if let Some(stem) = lower.strip_suffix('*') {
        if stem.contains('*') || stem.contains('~') {
            return Err(marks_twice(token));
        }
        if !stem.chars().next_back().is_some_and(is_word_char) {
            return Err((
                format!("`{token}`: `*` must follow a letter or digit"),
                "not a word before `*`",
                "write a prefix like `refund*`, or remove the `*`".into(),
            ));
        }
        if stem.chars().count() < MIN_PREFIX {
            return Err((
                format!("the prefix `{token}` is too short"),
                "fewer than three letters before `*`",
                format!(
                    "a prefix needs at least {MIN_PREFIX} letters before `*` (it would match too many words); \
                     list the words instead"
                ),
            ));
        }
        return Ok(Word { text: stem.to_string(), form: WordForm::Prefix });
    }
    if let Some(stem) = lower.strip_suffix('~') {
        if stem.contains('*') || stem.contains('~') {
            return Err(marks_twice(token));
        }
        if !stem.chars().all(is_word_char) {
            return Err((
                format!("`{token}`: typo tolerance works on words of letters and digits"),
                "not a plain word",
                "remove the `~`, or list the spellings you expect".into(),
            ));
        }
        if stem.chars().count() < MIN_TYPO_WORD {
            return Err((
                format!("`{stem}` is too short for typo tolerance"),
                "fewer than six letters",
                format!(
                    "`~` is for words of {MIN_TYPO_WORD} letters or more (a short word has too many neighbours \
                     one typo away); remove it, or list the misspellings you expect"
                ),
            ));
        }
        return Ok(Word { text: stem.to_string(), form: WordForm::Typo });
    }
    if let Some(at) = lower.find('~') {
        if lower[at + 1..].chars().all(|c| c.is_ascii_digit()) && at > 0 {
            let (word, gap) = lower.split_at(at);
            return Err((
                format!("`{token}`: a gap stands on its own"),
                "a gap joined to a word",
                format!("put spaces around it: `{word} {gap} …`"),
            ));
        }
    }
    Ok(Word { text: lower, form: WordForm::Exact })
}

fn marks_twice(token: &str) -> WordError {
    (
        format!("`{token}` has more than one mark"),
        "use one of `*` or `~`",
        "a word is either a prefix (`refund*`) or typo-tolerant (`subscription~`), not both".into(),
    )
}

/// Letters, digits and `_`: the characters words are made of.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, form: WordForm) -> Word {
        Word { text: text.into(), form }
    }

    #[test]
    fn plain_phrases_stay_literal() {
        let p = Phrase::parse("Legal   Action").expect("valid");
        assert!(p.is_literal());
        assert_eq!(p.literal(), "legal action");
        assert_eq!(p.anchor(), "legal action");
        assert!(Phrase::parse("c++ a*b").expect("valid").is_literal(), "marks only count at a word's end");
    }

    #[test]
    fn gaps_prefixes_and_typos() {
        let p = Phrase::parse("cancel ~2 my subscription~").expect("valid");
        assert_eq!(
            p.words,
            vec![word("cancel", WordForm::Exact), word("my", WordForm::Exact), word("subscription", WordForm::Typo)]
        );
        assert_eq!(p.gaps, vec![2, 0]);
        assert_eq!(p.anchor(), "cancel");
        assert_eq!(Phrase::parse("full refund*").expect("valid").anchor(), "full refund");
        assert_eq!(Phrase::parse("unsubscribe~ now").expect("valid").anchor(), "uns");
        assert_eq!(
            Phrase::parse("cancel ~2 subscription").expect("valid").describe(),
            "`cancel`, then up to 2 other words, then `subscription`"
        );
    }

    #[test]
    fn malformed_phrases_say_where() {
        let e = |text: &str| Phrase::parse(text).expect_err(text);
        let gap_first = e("~2 cancel");
        assert_eq!((gap_first.start, gap_first.end), (0, 2));
        assert_eq!(e("cancel ~2").message, "a phrase cannot end with a gap");
        assert_eq!(e("cancel ~ subscription").message, "`~` is not a gap");
        assert_eq!(e("cancel ~0 subscription").help, "`~0` allows no word between; remove it");
        assert_eq!(e("cancel ~10 subscription").message, "`~10` is not a gap");
        assert_eq!(e("a ~1 ~2 b").help, "write one gap: `~3`");
        let joined = e("cancel~2 subscription");
        assert_eq!((joined.start, joined.end), (0, 8));
        assert_eq!(e("re*").message, "the prefix `re*` is too short");
        assert_eq!(e("c++*").message, "`c++*`: `*` must follow a letter or digit");
        assert_eq!(e("renew~").message, "`renew` is too short for typo tolerance");
        assert_eq!(e("refund*~").message, "`refund*~` has more than one mark");
        assert_eq!(e("e-mail~~").message, "`e-mail~~` has more than one mark");
        let late = e("please  refund  re*");
        assert_eq!((late.start, late.end), (16, 19));
    }
}
