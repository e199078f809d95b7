//! Terms of ticket text for `audit` and `init --from`: the words worth
//! counting (the classifier's tokeniser, stop words and short tokens
//! dropped), a category's most discriminative terms, and TF-IDF vectors for
//! clustering.

use routec_classifier::tokenize::{for_each_token, TokenKind};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Words too common in support tickets, in English and German, to say
/// anything about a topic.
const STOP_WORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "you",
    "your",
    "our",
    "are",
    "was",
    "were",
    "with",
    "this",
    "that",
    "have",
    "has",
    "had",
    "not",
    "but",
    "can",
    "could",
    "would",
    "should",
    "will",
    "from",
    "they",
    "them",
    "their",
    "there",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "how",
    "all",
    "any",
    "some",
    "just",
    "about",
    "into",
    "out",
    "than",
    "then",
    "also",
    "been",
    "being",
    "does",
    "did",
    "doing",
    "its",
    "it's",
    "i'm",
    "i've",
    "we're",
    "we've",
    "can't",
    "don't",
    "doesn't",
    "didn't",
    "isn't",
    "won't",
    "too",
    "very",
    "more",
    "most",
    "other",
    "only",
    "own",
    "same",
    "such",
    "here",
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank",
    "please",
    "regards",
    "cheers",
    "dear",
    "team",
    "there!",
    "morning",
    "good",
    "advance",
    "since",
    "after",
    "before",
    "again",
    "still",
    "get",
    "got",
    "one",
    "two",
    "every",
    "each",
    "like",
    "need",
    "needs",
    "want",
    "know",
    "let",
    "see",
    "use",
    "using",
    "used",
    "way",
    "now",
    "today",
    "yesterday",
    "via",
    "der",
    "die",
    "das",
    "und",
    "ist",
    "nicht",
    "wir",
    "ich",
    "sie",
    "mit",
    "auf",
    "für",
    "von",
    "den",
    "dem",
    "ein",
    "eine",
    "einen",
    "bitte",
    "danke",
    "hallo",
    "vielen",
    "grüße",
    "viele",
    "guten",
    "tag",
    "unser",
    "unsere",
    "mein",
    "meine",
    "wie",
    "wird",
    "werden",
    "kann",
    "können",
    "seit",
    "nur",
    "auch",
    "aber",
    "oder",
    "wenn",
    "zum",
    "zur",
    "noch",
    "mehr",
    "num",
];

/// The countable words of `text`: lower-cased words of three letters or
/// more that are not stop words, each once.
pub fn words(text: &str) -> Vec<String> {
    let stop: &HashSet<&str> = stop_words();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut buf = String::new();
    for_each_token(text, &mut buf, |kind, token| {
        if kind == TokenKind::Word
            && token.chars().count() >= 3
            && token.chars().any(char::is_alphabetic)
            && !stop.contains(token)
            && seen.insert(token.to_string())
        {
            out.push(token.to_string());
        }
    });
    out
}

fn stop_words() -> &'static HashSet<&'static str> {
    static STOP: std::sync::OnceLock<HashSet<&'static str>> = std::sync::OnceLock::new();
    STOP.get_or_init(|| STOP_WORDS.iter().copied().collect())
}

/// How many documents of each category contain each term.
#[derive(Clone, Debug, Default)]
pub struct TermCounts {
    docs: BTreeMap<String, u64>,
    per_term: HashMap<String, BTreeMap<String, u64>>,
}

impl TermCounts {
    /// Count one document of `category`.
    pub fn add(&mut self, category: &str, text: &str) {
        *self.docs.entry(category.to_string()).or_default() += 1;
        for word in words(text) {
            *self.per_term.entry(word).or_default().entry(category.to_string()).or_default() += 1;
        }
    }

    /// The `n` terms most specific to `category`: present in at least 3% of
    /// its documents (and 3 of them), ranked by how much more often they
    /// appear in it than elsewhere (smoothed log odds), best first.
    pub fn discriminative(&self, category: &str, n: usize) -> Vec<String> {
        let Some(&docs_in) = self.docs.get(category) else { return Vec::new() };
        let docs_out: u64 = self.docs.iter().filter(|(c, _)| c.as_str() != category).map(|(_, n)| n).sum();
        let min = ((docs_in as f64 * 0.03).ceil() as u64).max(3);
        let mut scored: Vec<(f64, &str)> = self
            .per_term
            .iter()
            .filter_map(|(term, per)| {
                let inside = per.get(category).copied().unwrap_or(0);
                if inside < min {
                    return None;
                }
                let outside: u64 = per.iter().filter(|(c, _)| c.as_str() != category).map(|(_, n)| n).sum();
                let p_in = (inside as f64 + 0.5) / (docs_in as f64 + 1.0);
                let p_out = (outside as f64 + 0.5) / (docs_out as f64 + 1.0);
                let score = (p_in / (1.0 - p_in).max(1e-9)).ln() - (p_out / (1.0 - p_out).max(1e-9)).ln();
                (score > 1.0).then_some((score, term.as_str()))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        scored.into_iter().take(n).map(|(_, t)| t.to_string()).collect()
    }
}

/// TF-IDF vectors of documents over a vocabulary of at most `max_terms`
/// terms (present in at least 3 documents and at most half of them), each
/// row scaled to unit length so Euclidean k-means ranks by cosine.
pub struct TfIdf {
    /// The vocabulary, column order.
    pub terms: Vec<String>,
    /// One row per document.
    pub rows: Vec<Vec<f64>>,
}

impl TfIdf {
    /// Vectors of `docs`.
    pub fn new(docs: &[String], max_terms: usize) -> TfIdf {
        let tokenized: Vec<Vec<String>> = docs.iter().map(|d| words(d)).collect();
        let mut df: HashMap<&str, usize> = HashMap::new();
        for doc in &tokenized {
            for w in doc {
                *df.entry(w.as_str()).or_default() += 1;
            }
        }
        let n = docs.len().max(1);
        let mut vocab: Vec<(&str, usize)> = df.into_iter().filter(|&(_, d)| d >= 3 && d * 2 <= n).collect();
        vocab.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        vocab.truncate(max_terms);
        vocab.sort_by(|a, b| a.0.cmp(b.0));
        let index: HashMap<&str, usize> = vocab.iter().enumerate().map(|(i, (t, _))| (*t, i)).collect();
        let idf: Vec<f64> = vocab.iter().map(|(_, d)| ((1 + n) as f64 / (1 + d) as f64).ln() + 1.0).collect();
        let rows = tokenized
            .iter()
            .map(|doc| {
                let mut row = vec![0.0; vocab.len()];
                for w in doc {
                    if let Some(&i) = index.get(w.as_str()) {
                        row[i] = idf[i];
                    }
                }
                let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt();
                if norm > 0.0 {
                    row.iter_mut().for_each(|x| *x /= norm);
                }
                row
            })
            .collect();
        TfIdf { terms: vocab.into_iter().map(|(t, _)| t.to_string()).collect(), rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_drop_stop_words_short_tokens_and_repeats() {
        assert_eq!(words("Hi team, the invoice is WRONG, the invoice! ok"), ["invoice", "wrong"]);
    }

    #[test]
    fn discriminative_terms_are_specific_to_their_category() {
        let mut counts = TermCounts::default();
        for _ in 0..10 {
            counts.add("billing", "refund the invoice please");
            counts.add("login", "cannot login password reset");
            counts.add("login", "password expired, invoice attached");
        }
        assert_eq!(counts.discriminative("billing", 1), ["refund"]);
        let login = counts.discriminative("login", 3);
        assert!(login.contains(&"password".to_string()) && !login.contains(&"invoice".to_string()), "{login:?}");
    }

    #[test]
    fn tf_idf_rows_have_unit_length() {
        let docs: Vec<String> =
            (0..12).map(|i| if i % 2 == 0 { "refund invoice charge" } else { "password login reset" }.into()).collect();
        let tfidf = TfIdf::new(&docs, 100);
        assert_eq!(tfidf.terms, ["charge", "invoice", "login", "password", "refund", "reset"]);
        for row in &tfidf.rows {
            assert!((row.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-9);
        }
    }
}
