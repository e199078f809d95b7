//! Feature extraction: from a ticket's fields to hashed buckets.
//!
//! Owns the feature configuration stored in model files and the mapping of
//! text (word uni-/bi-grams, optional character n-grams) and metadata
//! (one-hot `field=value`, plus `field~part` for each word of a value so an
//! unseen sub-page still counts) to buckets of a fixed-size hash space. It
//! knows nothing about weights, IDF or training; see `model.rs`.

use serde::{Deserialize, Serialize};

use crate::hash::{combine, hash_bytes, Fnv};
use crate::tokenize::for_each_token;

const SEED_WORD: u64 = 0x0057_454f_5244;
const SEED_CHAR: u64 = 0x4348_4152;
const SEED_META: u64 = 0x4d45_5441;
const SEED_META_PART: u64 = 0x5041_5254;

/// How a model turns a ticket into features. Stored in the model file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FeatureConfig {
    /// Dotted field paths whose text is tokenised (e.g. `subject`, `body`).
    pub text_fields: Vec<String>,
    /// Dotted field paths used as categorical metadata (e.g. `page`, `customer.tier`).
    pub meta_fields: Vec<String>,
    /// Size of the hash space as a power of two.
    pub hash_bits: u8,
    /// Whether adjacent word pairs are features.
    pub word_bigrams: bool,
    /// Character n-gram lengths `[min, max]` inside words; `[0, 0]` disables them.
    pub char_ngrams: [u8; 2],
    /// `1 + ln(tf)` instead of raw term frequency.
    pub sublinear_tf: bool,
}

impl FeatureConfig {
    /// The default configuration for the given fields.
    pub fn new(text_fields: Vec<String>, meta_fields: Vec<String>) -> Self {
        FeatureConfig {
            text_fields,
            meta_fields,
            hash_bits: 20,
            word_bigrams: true,
            char_ngrams: [0, 0],
            sublinear_tf: true,
        }
    }

    /// All fields the model reads: text fields, then metadata fields.
    pub fn all_fields(&self) -> Vec<String> {
        let mut out = self.text_fields.clone();
        out.extend(self.meta_fields.iter().cloned());
        out
    }

    fn bucket(&self, hash: u64) -> u32 {
        (hash >> (64 - u32::from(self.hash_bits))) as u32
    }

    /// Pushes the bucket of every text feature of `text` (with repetitions,
    /// so the caller can count term frequencies). `buf` is lower-casing scratch.
    pub(crate) fn text_buckets(&self, text: &str, buf: &mut String, out: &mut Vec<u32>) {
        self.for_each_text_bucket(text, buf, |bucket| out.push(bucket));
    }

    /// Calls `each` with the bucket of every text feature of `text`, in the
    /// order [`FeatureConfig::text_buckets`] pushes them.
    pub(crate) fn for_each_text_bucket(&self, text: &str, buf: &mut String, mut each: impl FnMut(u32)) {
        let mut previous: Option<u64> = None;
        let [char_min, char_max] = self.char_ngrams;
        for_each_token(text, buf, |_, token| {
            let word_hash = hash_bytes(SEED_WORD, token.as_bytes());
            each(self.bucket(word_hash));
            if self.word_bigrams {
                if let Some(prev) = previous {
                    each(self.bucket(combine(prev, word_hash)));
                }
                previous = Some(word_hash);
            }
            if char_min > 0 {
                char_ngram_buckets(token, char_min, char_max, |hash| each(self.bucket(hash)));
            }
        });
    }

    /// Pushes the buckets of metadata field `field` having value `value`.
    pub(crate) fn meta_buckets(&self, field: &str, value: &str, buf: &mut String, out: &mut Vec<u32>) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        let mut whole = Fnv::with_seed(SEED_META);
        whole.write(field.as_bytes());
        whole.write(b"=");
        for ch in value.chars() {
            let mut utf8 = [0u8; 4];
            for lower in ch.to_lowercase() {
                whole.write(lower.encode_utf8(&mut utf8).as_bytes());
            }
        }
        out.push(self.bucket(whole.finish()));
        let field_hash = hash_bytes(SEED_META_PART, field.as_bytes());
        let mut parts = 0usize;
        let start = out.len();
        for_each_token(value, buf, |_, token| {
            parts += 1;
            out.push(self.bucket(combine(field_hash, hash_bytes(SEED_WORD, token.as_bytes()))));
        });
        // A one-word value's part feature duplicates the whole-value feature.
        if parts <= 1 {
            out.truncate(start);
        }
    }
}

/// Calls `each` with the hash of every character n-gram of ` token ` (padded
/// with spaces, as scikit-learn's `char_wb`) of length `min..=max`.
fn char_ngram_buckets(token: &str, min: u8, max: u8, mut each: impl FnMut(u64)) {
    // Byte offsets of char boundaries in the padded word, without allocating:
    // position 0 is the leading pad, then each char, then the trailing pad.
    let n_chars = token.chars().count() + 2;
    let (min, max) = (usize::from(min), usize::from(max));
    for len in min..=max {
        if len > n_chars {
            break;
        }
        for start in 0..=(n_chars - len) {
            let mut hasher = Fnv::with_seed(SEED_CHAR ^ len as u64);
            for pos in start..start + len {
                if pos == 0 || pos == n_chars - 1 {
                    hasher.write(b" ");
                } else if let Some(ch) = token.chars().nth(pos - 1) {
                    let mut utf8 = [0u8; 4];
                    hasher.write(ch.encode_utf8(&mut utf8).as_bytes());
                }
            }
            each(hasher.finish());
        }
    }
}
