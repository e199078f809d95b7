//! The loaded model and prediction.
//!
//! Owns [`Model`] (label set, feature configuration, vocabulary of hashed
//! buckets with IDF weights, the weight matrix and the calibration
//! temperature) and the allocation-free prediction path. Reading and writing
//! the file lives in `format.rs`; fitting lives in `train.rs`.

use std::cell::RefCell;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::features::FeatureConfig;
use crate::metrics::Metrics;
use crate::vocab::{prefetch, VocabIndex, ABSENT};

/// Marks a hash bucket that is not in the model's vocabulary.
pub(crate) const NO_ROW: u32 = ABSENT;

/// What a prediction says: the top intent, its calibrated probability and the
/// top three alternatives (the top one included) as `(label index, probability)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Index into [`Model::labels`] of the most likely intent.
    pub label: usize,
    /// Calibrated probability of `label`, in `0..=1`.
    pub confidence: f64,
    /// Up to three `(label index, probability)` pairs, most likely first.
    pub top: Vec<(usize, f64)>,
}

/// How the model was trained: provenance stored in the file header.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct TrainingInfo {
    /// FNV-1a 64 (hex) of the training data files' bytes.
    pub data_hash: String,
    /// The training data file names, as given.
    pub data_files: Vec<String>,
    /// The field holding the label.
    pub label_field: String,
    /// Rows read, rows trained on, rows held out.
    pub rows_total: usize,
    /// Rows the weights were fitted on.
    pub rows_train: usize,
    /// Rows held out for the report.
    pub rows_holdout: usize,
    /// Holdout fraction and split seed.
    pub holdout: f64,
    /// Seed of the stratified split.
    pub seed: u64,
    /// L2 penalty of the logistic regression (`1 / C`).
    pub alpha: f64,
    /// The values of `C` cross-validation tried and how each did (empty when
    /// `C` was given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cross_validation: Vec<crate::train::CvPoint>,
    /// Data hash of the model this one was warm-started from.
    pub warm_started_from: Option<String>,
    /// Wall-clock training time in seconds.
    pub train_seconds: f64,
}

/// Everything in a model file except the weights (the serde JSON header).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ModelInfo {
    /// Intent labels; predictions are indices into this list.
    pub labels: Vec<String>,
    /// How tickets become features.
    pub features: FeatureConfig,
    /// Softmax temperature fitted on held-out training rows (1.0 = uncalibrated).
    pub temperature: f64,
    /// Provenance.
    pub training: TrainingInfo,
    /// Holdout metrics measured at training time, if there was a holdout.
    pub metrics: Option<Metrics>,
    /// Number of vocabulary rows in the payload.
    pub n_rows: usize,
}

/// A loaded intent model. Immutable, `Send + Sync`; share it behind an `Arc`.
#[derive(Debug, Clone)]
pub struct Model {
    pub(crate) info: ModelInfo,
    /// Feature fields (text then metadata), cached for [`Model::feature_fields`].
    pub(crate) fields: Vec<String>,
    /// `bucket -> rank` for the buckets in the vocabulary. Ranks order the
    /// rows text rows first (`idf > 0`), then metadata rows, each by bucket.
    pub(crate) lookup: VocabIndex,
    /// `rank -> (row, idf)`.
    pub(crate) ranked: Vec<(u32, f32)>,
    /// Number of text rows: ranks below it are text features.
    pub(crate) n_text: usize,
    /// Whether every row's rank is its index (true of every model `train`
    /// writes: text rows by bucket, then metadata rows by bucket).
    pub(crate) rows_are_ranks: bool,
    /// `row -> bucket`.
    pub(crate) buckets: Vec<u32>,
    /// `row -> idf` (0 for metadata rows, which are one-hot).
    pub(crate) idf: Vec<f32>,
    /// Row-major `n_rows x n_labels` weights.
    pub(crate) weights: Vec<f32>,
    /// `n_labels` intercepts.
    pub(crate) intercept: Vec<f32>,
}

/// Reusable per-thread buffers so prediction does not allocate per feature.
#[derive(Default)]
pub(crate) struct Scratch {
    buf: String,
    buckets: Vec<u32>,
    /// The text ranks of `buckets`.
    ranks: Vec<u32>,
    /// Sorting scratch.
    sort_tmp: Vec<u32>,
    pub(crate) pairs: Vec<(u32, f32)>,
    acc: Vec<f32>,
    pub(crate) scores: Vec<f64>,
}

/// `acc += value * weights[row]` for every `(row, value)` of `pairs`, where
/// `weights` has `acc.len()` columns.
fn accumulate_any(acc: &mut [f32], weights: &[f32], pairs: &[(u32, f32)]) {
    let n_labels = acc.len();
    for &(row, value) in pairs {
        let start = row as usize * n_labels;
        for (score, &weight) in acc.iter_mut().zip(&weights[start..start + n_labels]) {
            *score += value * weight;
        }
    }
}

/// [`accumulate_any`] for exactly `N` labels.
fn accumulate<const N: usize>(acc: &mut [f32], weights: &[f32], pairs: &[(u32, f32)]) {
    let Some(out) = acc.first_chunk_mut::<N>() else {
        return accumulate_any(acc, weights, pairs);
    };
    // A local copy stays in registers.
    let mut sums = *out;
    for &(row, value) in pairs {
        let Some(row_weights) = weights.get(row as usize * N..).and_then(<[f32]>::first_chunk::<N>) else {
            continue;
        };
        for (score, &weight) in sums.iter_mut().zip(row_weights) {
            *score += value * weight;
        }
    }
    *out = sums;
}

/// Sorts `values`, all below `bound`, ascending. Radix sort by bytes for
/// the usual hundred or so values (a comparison sort spends most of its time
/// on unpredictable branches); `tmp` is scratch.
fn sort_below(values: &mut Vec<u32>, tmp: &mut Vec<u32>, bound: u32) {
    if values.len() < 64 {
        values.sort_unstable();
        return;
    }
    let mut shift = 0;
    while shift < 32 && bound >> shift > 0 {
        let mut starts = [0u32; 256];
        for &value in values.iter() {
            starts[((value >> shift) & 0xff) as usize] += 1;
        }
        let mut sum = 0;
        for start in &mut starts {
            (*start, sum) = (sum, sum + *start);
        }
        tmp.clear();
        tmp.resize(values.len(), 0);
        for &value in values.iter() {
            let digit = ((value >> shift) & 0xff) as usize;
            tmp[starts[digit] as usize] = value;
            starts[digit] += 1;
        }
        std::mem::swap(values, tmp);
        shift += 8;
    }
}

/// The largest model file [`Model::load`] reads, in bytes (256 MiB; the
/// shipped models are a few MiB).
pub const MAX_MODEL_BYTES: u64 = 256 * 1024 * 1024;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Model {
    /// Reads a model file: a regular file (never a device or a pipe) of at
    /// most [`MAX_MODEL_BYTES`].
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        use std::io::Read;
        let io = |source| ModelError::Io { path: path.to_path_buf(), source };
        let refused = |why: String| io(std::io::Error::new(std::io::ErrorKind::InvalidInput, why));
        let file = std::fs::File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(refused("not a regular file".into()));
        }
        let too_large = || refused(format!("larger than the limit of {MAX_MODEL_BYTES} bytes"));
        if meta.len() > MAX_MODEL_BYTES {
            return Err(too_large());
        }
        // One byte past the limit notices a file that grew after the check.
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(MAX_MODEL_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() as u64 > MAX_MODEL_BYTES {
            return Err(too_large());
        }
        Model::from_bytes(&bytes)
    }

    /// Decodes a model from the bytes of a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        crate::format::decode(bytes)
    }

    /// Encodes the model as the bytes of a model file.
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::format::encode(self)
    }

    /// Writes the model file.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        std::fs::write(path, self.to_bytes()).map_err(|source| ModelError::Io { path: path.to_path_buf(), source })
    }

    /// Builds a model from its parts; checks that the parts fit together.
    pub(crate) fn from_parts(
        info: ModelInfo,
        buckets: Vec<u32>,
        idf: Vec<f32>,
        weights: Vec<f32>,
        intercept: Vec<f32>,
    ) -> Result<Model, ModelError> {
        let n_labels = info.labels.len();
        let bits = info.features.hash_bits;
        if !(8..=26).contains(&bits) {
            return Err(ModelError::Corrupt(format!("hash size 2^{bits} is out of range")));
        }
        if n_labels < 2 {
            return Err(ModelError::Corrupt(format!("{n_labels} labels (need at least 2)")));
        }
        if buckets.len() != info.n_rows
            || idf.len() != info.n_rows
            || weights.len() != info.n_rows * n_labels
            || intercept.len() != n_labels
        {
            return Err(ModelError::Corrupt("weight table does not match the header's label and row counts".into()));
        }
        if !(info.temperature.is_finite() && info.temperature > 0.0) {
            return Err(ModelError::Corrupt("calibration temperature is not positive".into()));
        }
        let mut lookup = VocabIndex::with_capacity(buckets.len());
        for (row, &bucket) in buckets.iter().enumerate() {
            if bucket >> bits != 0 {
                return Err(ModelError::Corrupt(format!("bucket {bucket} is outside the hash space")));
            }
            if !lookup.insert(bucket, row as u32) {
                return Err(ModelError::Corrupt(format!("bucket {bucket} appears twice")));
            }
        }
        // Prediction visits a ticket's text features in ascending bucket order
        // (the order of its floating-point sums) by sorting their ranks.
        let mut by_bucket: Vec<u32> = (0..buckets.len() as u32).collect();
        by_bucket.sort_unstable_by_key(|&row| {
            (idf[row as usize] <= 0.0 || idf[row as usize].is_nan(), buckets[row as usize])
        });
        let n_text = idf.iter().filter(|&&idf| idf > 0.0).count();
        let mut rank_of_row = vec![0u32; buckets.len()];
        for (rank, &row) in by_bucket.iter().enumerate() {
            rank_of_row[row as usize] = rank as u32;
        }
        lookup.map_values(|row| rank_of_row[row as usize]);
        let ranked = by_bucket.iter().map(|&row| (row, idf[row as usize])).collect();
        let fields = info.features.all_fields();
        let rows_are_ranks = by_bucket.iter().enumerate().all(|(rank, &row)| rank == row as usize);
        Ok(Model { info, fields, lookup, ranked, n_text, rows_are_ranks, buckets, idf, weights, intercept })
    }

    /// The intent labels; [`Prediction::label`] indexes into this.
    pub fn labels(&self) -> &[String] {
        &self.info.labels
    }

    /// Dotted field paths the model reads: text fields, then metadata fields.
    pub fn feature_fields(&self) -> &[String] {
        &self.fields
    }

    /// The header: feature configuration, provenance, metrics.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Number of vocabulary rows (distinct hashed features with weights).
    pub fn n_rows(&self) -> usize {
        self.info.n_rows
    }

    /// The row of `bucket`, or [`NO_ROW`].
    pub(crate) fn row_of_bucket(&self, bucket: u32) -> u32 {
        match self.lookup.get(bucket) {
            NO_ROW => NO_ROW,
            rank => self.ranked[rank as usize].0,
        }
    }

    /// Predicts the intent of a ticket. `field` looks up a dotted path (e.g.
    /// `customer.tier`) and returns its string value if present.
    pub fn predict(&self, field: &dyn Fn(&str) -> Option<String>) -> Prediction {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.predict_with(field, &mut scratch),
            // Re-entrant call from inside `field` (never in practice): use fresh buffers.
            Err(_) => self.predict_with(field, &mut Scratch::default()),
        })
    }

    fn predict_with(&self, field: &dyn Fn(&str) -> Option<String>, scratch: &mut Scratch) -> Prediction {
        self.logits_into(field, scratch);
        let inv_temperature = 1.0 / self.info.temperature;
        let scores = &mut scratch.scores;
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut total = 0.0;
        for score in scores.iter_mut() {
            *score = ((*score - max) * inv_temperature).exp();
            total += *score;
        }
        for score in scores.iter_mut() {
            *score /= total;
        }
        let mut top: Vec<(usize, f64)> = Vec::with_capacity(3);
        for (idx, &prob) in scores.iter().enumerate() {
            let pos = top.iter().position(|&(_, p)| prob > p).unwrap_or(top.len());
            if pos < 3 {
                if top.len() == 3 {
                    top.pop();
                }
                top.insert(pos, (idx, prob));
            }
        }
        let (label, confidence) = top.first().copied().unwrap_or((0, 0.0));
        Prediction { label, confidence, top }
    }

    /// Uncalibrated logits of a ticket into `scratch.scores`.
    pub(crate) fn logits_into(&self, field: &dyn Fn(&str) -> Option<String>, scratch: &mut Scratch) {
        self.sparse_features(field, scratch);
        let n_labels = self.info.labels.len();
        let acc = &mut scratch.acc;
        acc.clear();
        acc.extend_from_slice(&self.intercept);
        let (weights, pairs) = (&self.weights[..], &scratch.pairs[..]);
        // With the label count a constant the per-feature loop is a few vector
        // instructions instead of a loop with run-time bounds; each label's sum
        // is formed in the same order either way.
        macro_rules! by_label_count {
            ($($n:literal)*) => {
                match n_labels {
                    $($n => accumulate::<$n>(acc, weights, pairs),)*
                    _ => accumulate_any(acc, weights, pairs),
                }
            };
        }
        by_label_count!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
        scratch.scores.clear();
        scratch.scores.extend(acc.iter().map(|&s| f64::from(s)));
    }

    /// The ticket's non-zero features as `(row, value)` pairs in
    /// `scratch.pairs`: L2-normalised TF-IDF text features followed by one-hot
    /// metadata features. Training and prediction both use this.
    pub(crate) fn sparse_features(&self, field: &dyn Fn(&str) -> Option<String>, scratch: &mut Scratch) {
        let config = &self.info.features;
        let Scratch { buf, buckets, ranks, sort_tmp, pairs, .. } = scratch;
        pairs.clear();
        buckets.clear();
        for name in &config.text_fields {
            if let Some(text) = field(name) {
                // Prefetching each bucket's slot while the rest of the text is
                // tokenised hides most of the look-ups' cache misses.
                config.for_each_text_bucket(&text, buf, |bucket| {
                    self.lookup.prefetch(bucket);
                    buckets.push(bucket);
                });
            }
        }
        // The text ranks of the buckets, repetitions included. Absent buckets
        // (and metadata rows) are written and then overwritten: no branch on
        // a look-up's outcome.
        let n_text = self.n_text as u32;
        let last_rank = self.ranked.len().saturating_sub(1);
        let n_labels = self.intercept.len();
        ranks.clear();
        ranks.resize(buckets.len(), 0);
        let mut n_ranks = 0;
        for &bucket in buckets.iter() {
            let rank = self.lookup.get(bucket);
            // Start loading what the runs below read for this rank (clamped,
            // so that absent buckets prefetch something harmless instead of
            // branching).
            let known = (rank as usize).min(last_rank);
            if let Some(info) = self.ranked.get(known) {
                prefetch(info);
            }
            if let Some(weight) = self.weights.get(known * n_labels).filter(|_| self.rows_are_ranks) {
                prefetch(weight);
            }
            ranks[n_ranks] = rank;
            n_ranks += usize::from(rank < n_text);
        }
        ranks.truncate(n_ranks);
        // Ranks order text features by bucket, the order of the sums below;
        // a run of equal ranks is one feature and its term frequency.
        sort_below(ranks, sort_tmp, n_text);
        let mut norm2 = 0.0f32;
        for run in ranks.chunk_by(|a, b| a == b) {
            let (row, idf) = self.ranked[run[0] as usize];
            if let Some(weights) = self.weights.get(row as usize * n_labels..(row as usize + 1) * n_labels) {
                // A row may straddle two cache lines.
                prefetch(&weights[0]);
                prefetch(&weights[n_labels - 1]);
            }
            let tf = match (run.len(), config.sublinear_tf) {
                (1, _) => 1.0,
                (count, true) => 1.0 + (count as f32).ln(),
                (count, false) => count as f32,
            };
            let value = tf * idf;
            norm2 += value * value;
            pairs.push((row, value));
        }
        if norm2 > 0.0 {
            let inv = 1.0 / norm2.sqrt();
            for pair in pairs.iter_mut() {
                pair.1 *= inv;
            }
        }
        for name in &config.meta_fields {
            if let Some(value) = field(name) {
                buckets.clear();
                config.meta_buckets(name, &value, buf, buckets);
                for &bucket in buckets.iter() {
                    let row = self.row_of_bucket(bucket);
                    if row != NO_ROW && self.idf[row as usize] == 0.0 {
                        pairs.push((row, 1.0));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::SplitMix;

    fn info(n_rows: usize) -> ModelInfo {
        ModelInfo {
            labels: vec!["a".into(), "b".into(), "c".into()],
            features: FeatureConfig::new(vec!["text".into()], vec![]),
            temperature: 1.0,
            training: TrainingInfo::default(),
            metrics: None,
            n_rows,
        }
    }

    const TEXTS: &[&str] = &[
        "Login broken, I can't get into my account",
        "the invoice was charged twice, refund please",
        "Die Rechnung ist falsch und das Login geht nicht",
        "login login login broken broken",
        "",
    ];

    #[test]
    fn the_order_of_rows_in_a_model_does_not_change_predictions() {
        // A vocabulary from the texts, with random IDFs and weights; two of
        // its buckets are metadata-like rows (IDF 0), which text ignores.
        let config = FeatureConfig::new(vec!["text".into()], vec![]);
        let mut buckets = Vec::new();
        for text in TEXTS {
            config.text_buckets(text, &mut String::new(), &mut buckets);
        }
        buckets.sort_unstable();
        buckets.dedup();
        let mut rng = SplitMix::new(11);
        let rows: Vec<(u32, f32, [f32; 3])> = buckets
            .iter()
            .enumerate()
            .map(|(i, &bucket)| {
                let idf = if i % 7 == 3 { 0.0 } else { 1.0 + (rng.below(1000) as f32) / 250.0 };
                let weights = [0, 1, 2].map(|_| (rng.below(2001) as f32 - 1000.0) / 300.0);
                (bucket, idf, weights)
            })
            .collect();
        let build = |rows: &[(u32, f32, [f32; 3])]| {
            let weights = rows.iter().flat_map(|row| row.2).collect();
            Model::from_parts(
                info(rows.len()),
                rows.iter().map(|row| row.0).collect(),
                rows.iter().map(|row| row.1).collect(),
                weights,
                vec![0.1, -0.2, 0.05],
            )
            .expect("consistent parts")
        };
        // As `train` writes them: text rows by bucket, then the others.
        let mut sorted_rows = rows.clone();
        sorted_rows.sort_by_key(|row| (row.1 == 0.0, row.0));
        let sorted = build(&sorted_rows);
        let mut shuffled_rows = rows.clone();
        rng.shuffle(&mut shuffled_rows);
        let shuffled = build(&shuffled_rows);
        assert!(sorted.rows_are_ranks && !shuffled.rows_are_ranks);
        for text in TEXTS {
            let field = |_: &str| Some((*text).to_owned());
            assert_eq!(sorted.predict(&field), shuffled.predict(&field), "{text:?}");
        }
    }

    #[test]
    fn a_model_without_vocabulary_predicts_from_its_intercepts() {
        let model = Model::from_parts(info(0), vec![], vec![], vec![], vec![0.0, 2.0, 1.0]).expect("consistent parts");
        let prediction = model.predict(&|_| Some("anything at all".into()));
        assert_eq!(prediction.label, 1);
        assert_eq!(prediction.top.iter().map(|&(label, _)| label).collect::<Vec<_>>(), vec![1, 2, 0]);
    }
}
