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

/// Marks a hash bucket that is not in the model's vocabulary.
pub(crate) const NO_ROW: u32 = u32::MAX;

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
    /// L2 penalty of the logistic regression.
    pub alpha: f64,
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
    /// `bucket -> row` for the buckets in the vocabulary.
    pub(crate) lookup: VocabIndex,
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
    pub(crate) pairs: Vec<(u32, f32)>,
    acc: Vec<f32>,
    pub(crate) scores: Vec<f64>,
}

/// Open-addressing hash table `bucket -> row` (linear probing, load <= 1/2).
/// Far smaller than a dense `2^hash_bits` array, so look-ups stay in cache.
#[derive(Debug, Clone)]
pub(crate) struct VocabIndex {
    mask: usize,
    /// `(bucket << 32) | row`, or [`EMPTY_SLOT`].
    slots: Vec<u64>,
}

const EMPTY_SLOT: u64 = u64::MAX;

impl VocabIndex {
    fn with_capacity(n: usize) -> Self {
        let size = (n * 2).next_power_of_two().max(16);
        VocabIndex { mask: size - 1, slots: vec![EMPTY_SLOT; size] }
    }

    /// Inserts; false when `bucket` is already present.
    fn insert(&mut self, bucket: u32, row: u32) -> bool {
        // Buckets are high bits of a mixed hash, so their low bits are uniform.
        let mut idx = bucket as usize & self.mask;
        loop {
            let slot = self.slots[idx];
            if slot == EMPTY_SLOT {
                self.slots[idx] = (u64::from(bucket) << 32) | u64::from(row);
                return true;
            }
            if (slot >> 32) as u32 == bucket {
                return false;
            }
            idx = (idx + 1) & self.mask;
        }
    }

    /// The row of `bucket`, or [`NO_ROW`].
    #[inline]
    pub(crate) fn get(&self, bucket: u32) -> u32 {
        let mut idx = bucket as usize & self.mask;
        loop {
            let slot = self.slots[idx];
            if slot == EMPTY_SLOT {
                return NO_ROW;
            }
            if (slot >> 32) as u32 == bucket {
                return slot as u32;
            }
            idx = (idx + 1) & self.mask;
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Model {
    /// Reads a model file.
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io { path: path.to_path_buf(), source })?;
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
        let fields = info.features.all_fields();
        Ok(Model { info, fields, lookup, buckets, idf, weights, intercept })
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
        for &(row, value) in &scratch.pairs {
            let start = row as usize * n_labels;
            let weights = &self.weights[start..start + n_labels];
            for (score, &weight) in acc.iter_mut().zip(weights) {
                *score += value * weight;
            }
        }
        scratch.scores.clear();
        scratch.scores.extend(acc.iter().map(|&s| f64::from(s)));
    }

    /// The ticket's non-zero features as `(row, value)` pairs in
    /// `scratch.pairs`: L2-normalised TF-IDF text features followed by one-hot
    /// metadata features. Training and prediction both use this.
    pub(crate) fn sparse_features(&self, field: &dyn Fn(&str) -> Option<String>, scratch: &mut Scratch) {
        let config = &self.info.features;
        let Scratch { buf, buckets, pairs, .. } = scratch;
        buckets.clear();
        pairs.clear();
        for name in &config.text_fields {
            if let Some(text) = field(name) {
                config.text_buckets(&text, buf, buckets);
            }
        }
        buckets.sort_unstable();
        let mut norm2 = 0.0f32;
        let mut idx = 0;
        while idx < buckets.len() {
            let bucket = buckets[idx];
            let mut end = idx + 1;
            while end < buckets.len() && buckets[end] == bucket {
                end += 1;
            }
            let row = self.lookup.get(bucket);
            if row != NO_ROW {
                let idf = self.idf[row as usize];
                if idf > 0.0 {
                    let count = end - idx;
                    let tf = match (count, config.sublinear_tf) {
                        (1, _) => 1.0,
                        (_, true) => 1.0 + (count as f32).ln(),
                        (_, false) => count as f32,
                    };
                    let value = tf * idf;
                    norm2 += value * value;
                    pairs.push((row, value));
                }
            }
            idx = end;
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
                    let row = self.lookup.get(bucket);
                    if row != NO_ROW && self.idf[row as usize] == 0.0 {
                        pairs.push((row, 1.0));
                    }
                }
            }
        }
    }

    /// Raw (uncalibrated) logits, allocating; for training and calibration.
    pub(crate) fn logits(&self, field: &dyn Fn(&str) -> Option<String>) -> Vec<f64> {
        let mut scratch = Scratch::default();
        self.logits_into(field, &mut scratch);
        scratch.scores
    }
}
