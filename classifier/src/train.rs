//! Fitting a model: vocabulary, IDF, multinomial logistic regression
//! (linfa-logistic, L-BFGS), temperature calibration, holdout evaluation and
//! warm starts.
//!
//! Owns the training pipeline. Features come from the same
//! `Model::sparse_features` path that prediction uses, so training and
//! serving cannot drift apart. linfa-logistic needs a dense design matrix,
//! so the hashed features are first compacted to the buckets actually seen
//! in training (capped by `max_features`, most frequent first); the fitted
//! weights are then stored per bucket.

use std::collections::HashMap;
use std::time::Instant;

use linfa::traits::Fit;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2};

use crate::dataset::{stratified_split, Dataset, Split};
use crate::error::{DataError, ModelError};
use crate::features::FeatureConfig;
use crate::metrics::{evaluate, Metrics, Outcome};
use crate::model::{Model, ModelInfo, Scratch, TrainingInfo, NO_ROW};

/// Training settings (the CLI's `routec train` flags).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Text fields (dotted paths).
    pub text_fields: Vec<String>,
    /// Metadata fields (dotted paths), one-hot encoded.
    pub meta_fields: Vec<String>,
    /// The field holding the label.
    pub label_field: String,
    /// Fraction held out for the report (0 trains on everything).
    pub holdout: f64,
    /// Seed of the stratified split.
    pub seed: u64,
    /// L2 penalty (scikit-learn's `1 / C`).
    pub alpha: f64,
    /// L-BFGS iteration cap.
    pub max_iterations: u64,
    /// Minimum number of training rows a text feature must occur in.
    pub min_df: usize,
    /// Cap on the number of text features (most frequent kept).
    pub max_features: usize,
    /// Hash space size as a power of two.
    pub hash_bits: u8,
    /// Character n-gram lengths `[min, max]`, `[0, 0]` for none.
    pub char_ngrams: [u8; 2],
    /// Fit a softmax temperature on a quarter of the training rows.
    pub calibrate: bool,
}

impl TrainOptions {
    /// Defaults for the given fields.
    pub fn new(text_fields: Vec<String>, meta_fields: Vec<String>, label_field: String) -> Self {
        TrainOptions {
            text_fields,
            meta_fields,
            label_field,
            holdout: 0.2,
            seed: 42,
            alpha: 1.0,
            max_iterations: 100,
            min_df: 2,
            max_features: 60_000,
            hash_bits: 20,
            char_ngrams: [0, 0],
            calibrate: true,
        }
    }

    fn feature_config(&self) -> FeatureConfig {
        let mut config = FeatureConfig::new(self.text_fields.clone(), self.meta_fields.clone());
        config.hash_bits = self.hash_bits;
        config.char_ngrams = self.char_ngrams;
        config
    }
}

/// The labelled rows of a dataset.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// Sorted distinct labels.
    pub labels: Vec<String>,
    /// Dataset row index of each labelled row.
    pub rows: Vec<usize>,
    /// Label index of each labelled row.
    pub gold: Vec<usize>,
}

/// Collects the rows that have a label; rows without one are skipped.
pub fn labelled_rows(data: &Dataset, label_field: &str) -> Result<Labelled, DataError> {
    let col = data.require(label_field)?;
    let mut labels: Vec<String> =
        (0..data.len()).filter_map(|row| data.get(row, col).map(|l| l.trim().to_owned())).collect();
    labels.sort();
    labels.dedup();
    let mut rows = Vec::new();
    let mut gold = Vec::new();
    for row in 0..data.len() {
        if let Some(label) = data.get(row, col) {
            if let Ok(idx) = labels.binary_search_by(|l| l.as_str().cmp(label.trim())) {
                rows.push(row);
                gold.push(idx);
            }
        }
    }
    Ok(Labelled { labels, rows, gold })
}

/// What `train` produced.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The fitted model (trained on the training part of the split).
    pub model: Model,
    /// The labelled rows.
    pub labelled: Labelled,
    /// The split, as positions into `labelled.rows`.
    pub split: Split,
    /// Holdout metrics (when `holdout > 0`).
    pub metrics: Option<Metrics>,
    /// Holdout outcomes, for threshold suggestions.
    pub outcomes: Vec<Outcome>,
}

impl TrainOutcome {
    /// The split as dataset row indices (what `--export-split` writes).
    pub fn dataset_split(&self) -> Split {
        Split {
            train: self.split.train.iter().map(|&i| self.labelled.rows[i]).collect(),
            test: self.split.test.iter().map(|&i| self.labelled.rows[i]).collect(),
        }
    }
}

/// Trains a model on `data`, optionally warm-starting from `warm_start`.
pub fn train(data: &Dataset, opts: &TrainOptions, warm_start: Option<&Model>) -> Result<TrainOutcome, DataError> {
    let started = Instant::now();
    for field in opts.text_fields.iter().chain(&opts.meta_fields) {
        data.require(field)?;
    }
    if opts.text_fields.is_empty() {
        return Err(DataError::TooLittleData("no text fields given (use --text)".into()));
    }
    let labelled = labelled_rows(data, &opts.label_field)?;
    if labelled.labels.len() < 2 {
        return Err(DataError::TooLittleData(format!(
            "field `{}` has {} distinct labels; need at least 2",
            opts.label_field,
            labelled.labels.len()
        )));
    }
    let config = opts.feature_config();
    if let Some(old) = warm_start {
        check_warm_start(old, &config)?;
    }
    let split = stratified_split(&labelled.gold, opts.holdout, opts.seed);
    let train_rows: Vec<usize> = split.train.iter().map(|&i| labelled.rows[i]).collect();
    let train_gold: Vec<usize> = split.train.iter().map(|&i| labelled.gold[i]).collect();

    let mut temperature = 1.0;
    if opts.calibrate && train_rows.len() >= 40 {
        let inner = stratified_split(&train_gold, 0.25, opts.seed ^ 0x00ca_11b8);
        let fit_rows: Vec<usize> = inner.train.iter().map(|&i| train_rows[i]).collect();
        let fit_gold: Vec<usize> = inner.train.iter().map(|&i| train_gold[i]).collect();
        let probe = fit(data, &fit_rows, &fit_gold, &labelled.labels, &config, opts, warm_start)?;
        let logits: Vec<(Vec<f64>, usize)> = inner
            .test
            .iter()
            .map(|&i| {
                let row = train_rows[i];
                (probe.logits(&|name| data.field(row, name).map(str::to_owned)), train_gold[i])
            })
            .collect();
        temperature = fit_temperature(&logits);
    }
    let mut model = fit(data, &train_rows, &train_gold, &labelled.labels, &config, opts, warm_start)?;
    model.info.temperature = temperature;

    let test_rows: Vec<usize> = split.test.iter().map(|&i| labelled.rows[i]).collect();
    let test_gold: Vec<usize> = split.test.iter().map(|&i| labelled.gold[i]).collect();
    let outcomes = predict_outcomes(&model, data, &test_rows, &test_gold);
    let metrics = (!outcomes.is_empty()).then(|| evaluate(&model.info.labels, &outcomes));
    model.info.metrics = metrics.clone();
    model.info.training = TrainingInfo {
        data_hash: format!("{:016x}", data.hash),
        data_files: data.files.iter().map(|p| p.display().to_string()).collect(),
        label_field: opts.label_field.clone(),
        rows_total: data.len(),
        rows_train: train_rows.len(),
        rows_holdout: test_rows.len(),
        holdout: opts.holdout,
        seed: opts.seed,
        alpha: opts.alpha,
        warm_started_from: warm_start.map(|m| m.info.training.data_hash.clone()),
        train_seconds: started.elapsed().as_secs_f64(),
    };
    Ok(TrainOutcome { model, labelled, split, metrics, outcomes })
}

/// Predicts `rows` of `data` and pairs them with their gold labels.
pub fn predict_outcomes(model: &Model, data: &Dataset, rows: &[usize], gold: &[usize]) -> Vec<Outcome> {
    rows.iter()
        .zip(gold)
        .map(|(&row, &gold)| {
            let prediction = model.predict(&|name| data.field(row, name).map(str::to_owned));
            Outcome { gold, predicted: prediction.label, confidence: prediction.confidence }
        })
        .collect()
}

fn check_warm_start(old: &Model, config: &FeatureConfig) -> Result<(), ModelError> {
    let old_config = &old.info.features;
    if old_config.hash_bits != config.hash_bits
        || old_config.word_bigrams != config.word_bigrams
        || old_config.char_ngrams != config.char_ngrams
        || old_config.text_fields != config.text_fields
        || old_config.meta_fields != config.meta_fields
    {
        return Err(ModelError::Incompatible(format!(
            "cannot warm-start: the old model reads {} with {}-bit hashing, the new one {} with {}-bit hashing",
            old_config.all_fields().join(","),
            old_config.hash_bits,
            config.all_fields().join(","),
            config.hash_bits
        )));
    }
    Ok(())
}

/// Fits weights on `rows` (dataset indices) with `gold` labels.
fn fit(
    data: &Dataset,
    rows: &[usize],
    gold: &[usize],
    labels: &[String],
    config: &FeatureConfig,
    opts: &TrainOptions,
    warm_start: Option<&Model>,
) -> Result<Model, DataError> {
    let n_labels = labels.len();
    // 1. Document frequencies of hashed text and metadata buckets.
    let mut text_df: HashMap<u32, usize> = HashMap::new();
    let mut meta_df: HashMap<u32, usize> = HashMap::new();
    let mut buf = String::new();
    let mut buckets = Vec::new();
    for &row in rows {
        buckets.clear();
        for name in &config.text_fields {
            if let Some(text) = data.field(row, name) {
                config.text_buckets(text, &mut buf, &mut buckets);
            }
        }
        buckets.sort_unstable();
        buckets.dedup();
        for &bucket in &buckets {
            *text_df.entry(bucket).or_default() += 1;
        }
        buckets.clear();
        for name in &config.meta_fields {
            if let Some(value) = data.field(row, name) {
                config.meta_buckets(name, value, &mut buf, &mut buckets);
            }
        }
        buckets.sort_unstable();
        buckets.dedup();
        for &bucket in &buckets {
            *meta_df.entry(bucket).or_default() += 1;
        }
    }
    // 2. Vocabulary: most frequent text buckets, then every metadata bucket.
    let mut text_vocab: Vec<(u32, usize)> = text_df.into_iter().filter(|&(_, df)| df >= opts.min_df).collect();
    text_vocab.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    text_vocab.truncate(opts.max_features);
    text_vocab.sort_unstable_by_key(|&(bucket, _)| bucket);
    let n_docs = rows.len() as f64;
    let mut vocab_buckets: Vec<u32> = Vec::with_capacity(text_vocab.len() + meta_df.len());
    let mut idf: Vec<f32> = Vec::with_capacity(vocab_buckets.capacity());
    for &(bucket, df) in &text_vocab {
        vocab_buckets.push(bucket);
        idf.push((((1.0 + n_docs) / (1.0 + df as f64)).ln() + 1.0) as f32);
    }
    let text_set: std::collections::HashSet<u32> = vocab_buckets.iter().copied().collect();
    let mut meta_vocab: Vec<u32> = meta_df.into_keys().filter(|b| !text_set.contains(b)).collect();
    meta_vocab.sort_unstable();
    for bucket in meta_vocab {
        vocab_buckets.push(bucket);
        idf.push(0.0);
    }
    let n_rows = vocab_buckets.len();
    let info = ModelInfo {
        labels: labels.to_vec(),
        features: config.clone(),
        temperature: 1.0,
        training: TrainingInfo::default(),
        metrics: None,
        n_rows,
    };
    let mut model = Model::from_parts(info, vocab_buckets, idf, vec![0.0; n_rows * n_labels], vec![0.0; n_labels])?;

    // 3. Dense design matrix through the prediction feature path.
    let mut x = Array2::<f32>::zeros((rows.len(), n_rows));
    let mut scratch = Scratch::default();
    for (i, &row) in rows.iter().enumerate() {
        model.sparse_features(&|name| data.field(row, name).map(str::to_owned), &mut scratch);
        for &(col, value) in &scratch.pairs {
            x[[i, col as usize]] += value;
        }
    }
    let y = Array1::from(gold.to_vec());
    // linfa orders classes by their sorted value; these are our label indices.
    let mut present: Vec<usize> = gold.to_vec();
    present.sort_unstable();
    present.dedup();
    if present.len() < 2 {
        return Err(DataError::TooLittleData("the training rows have fewer than 2 distinct labels".into()));
    }

    // 4. Fit.
    let mut params = MultiLogisticRegression::default().alpha(opts.alpha as f32).max_iterations(opts.max_iterations);
    if let Some(old) = warm_start {
        params = params.initial_params(warm_start_params(old, &model, &present));
    }
    let dataset = linfa::Dataset::new(x, y);
    let fitted = params.fit(&dataset).map_err(|err| DataError::Solver(err.to_string()))?;
    let (weights, intercept) = (fitted.params(), fitted.intercept());
    for (class_col, &label) in fitted.classes().iter().enumerate() {
        model.intercept[label] = intercept[class_col];
        for row in 0..n_rows {
            model.weights[row * n_labels + label] = weights[[row, class_col]];
        }
    }
    // Labels absent from these rows can never win.
    for label in 0..n_labels {
        if !present.contains(&label) {
            model.intercept[label] = -1e4;
        }
    }
    Ok(model)
}

/// Initial `(n_rows + 1) x n_present` parameters from an old model: weights
/// of shared buckets and labels are copied, the rest start at zero.
fn warm_start_params(old: &Model, new: &Model, present: &[usize]) -> Array2<f32> {
    let n_rows = new.buckets.len();
    let mut init = Array2::<f32>::zeros((n_rows + 1, present.len()));
    let old_n = old.info.labels.len();
    for (class_col, &label) in present.iter().enumerate() {
        let Some(old_label) = old.info.labels.iter().position(|l| *l == new.info.labels[label]) else {
            continue;
        };
        for (row, &bucket) in new.buckets.iter().enumerate() {
            let old_row = old.row_of_bucket(bucket);
            if old_row != NO_ROW {
                init[[row, class_col]] = old.weights[old_row as usize * old_n + old_label];
            }
        }
        init[[n_rows, class_col]] = old.intercept[old_label];
    }
    init
}

/// The softmax temperature minimising negative log-likelihood of held-out
/// logits (golden-section search on `ln T` in `[ln 0.05, ln 20]`).
fn fit_temperature(logits: &[(Vec<f64>, usize)]) -> f64 {
    if logits.is_empty() {
        return 1.0;
    }
    let nll = |temperature: f64| -> f64 {
        logits
            .iter()
            .map(|(scores, gold)| {
                let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let log_sum = scores.iter().map(|s| ((s - max) / temperature).exp()).sum::<f64>().ln();
                log_sum - (scores[*gold] - max) / temperature
            })
            .sum()
    };
    let (mut lo, mut hi) = (0.05f64.ln(), 20f64.ln());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..60 {
        let a = hi - ratio * (hi - lo);
        let b = lo + ratio * (hi - lo);
        if nll(a.exp()) < nll(b.exp()) {
            hi = b;
        } else {
            lo = a;
        }
    }
    ((lo + hi) / 2.0).exp()
}
