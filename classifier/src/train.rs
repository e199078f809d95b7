//! Fitting a model: vocabulary, IDF, the regularisation chosen by
//! cross-validation, multinomial logistic regression (the sparse L-BFGS of
//! `solver.rs`), temperature calibration on out-of-fold scores, holdout
//! evaluation and warm starts.
//!
//! Owns the training pipeline. Features come from the same
//! `Model::sparse_features` path that prediction uses, so training and
//! serving cannot drift apart. The hashed features are compacted to the
//! buckets actually seen in training (capped by `max_features`, most frequent
//! first); the design matrix stays sparse.

use std::collections::HashMap;
use std::time::Instant;

use crate::dataset::{stratified_folds, stratified_split, Dataset, Split};
use crate::error::{DataError, ModelError};
use crate::features::FeatureConfig;
use crate::metrics::{evaluate, Metrics, Outcome};
use crate::model::{Model, ModelInfo, Scratch, TrainingInfo, NO_ROW};
use crate::solver::{Parameters, Problem, SparseRows, Stopping};

/// The values of scikit-learn's `C` that cross-validation tries, weakest
/// penalty last: each fold fits them in this order, warm-starting each fit
/// from the previous one.
pub const C_GRID: [f64; 7] = [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0];

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
    /// scikit-learn's `C` (the inverse L2 penalty); `None` chooses it from
    /// [`C_GRID`] by cross-validation on the training rows.
    pub c: Option<f64>,
    /// Folds of that cross-validation (also used for calibration).
    pub folds: usize,
    /// L-BFGS iteration cap per fit.
    pub max_iterations: u64,
    /// Minimum number of training rows a text feature must occur in.
    pub min_df: usize,
    /// Cap on the number of text features (most frequent kept).
    pub max_features: usize,
    /// Hash space size as a power of two.
    pub hash_bits: u8,
    /// Character n-gram lengths `[min, max]`, `[0, 0]` for none.
    pub char_ngrams: [u8; 2],
    /// Fit a softmax temperature on out-of-fold scores of the training rows.
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
            c: None,
            folds: 3,
            max_iterations: 200,
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

    let mut model = vocabulary(data, &train_rows, &labelled.labels, &config, opts)?;
    let x = design_matrix(&model, data, &train_rows);
    let n_labels = labelled.labels.len();
    let initial = match warm_start {
        Some(old) => warm_start_params(old, &model),
        None => Parameters::zeros(model.n_rows(), n_labels),
    };
    let grid: Vec<f64> = match opts.c {
        Some(c) => vec![c],
        None => C_GRID.to_vec(),
    };
    let validation = (opts.calibrate || grid.len() > 1)
        .then(|| cross_validate(&x, &train_gold, n_labels, &grid, &initial, opts))
        .flatten();
    let (c, temperature, mut params) = match &validation {
        Some(cv) => {
            let temperature = if opts.calibrate { fit_temperature(&cv.out_of_fold) } else { 1.0 };
            (cv.points[cv.best].c, temperature, cv.start.clone())
        }
        // Too few rows to cross-validate: the middle of the grid, uncalibrated.
        None => (opts.c.unwrap_or(1.0), 1.0, initial),
    };
    let all_rows: Vec<usize> = (0..x.len()).collect();
    let problem = Problem {
        x: &x,
        rows: &all_rows,
        gold: &train_gold,
        n_features: model.n_rows(),
        n_classes: n_labels,
        c,
        threads: std::thread::available_parallelism().map_or(1, usize::from),
    };
    problem.fit(&mut params, stopping(opts, true));
    write_parameters(&mut model, &params, &train_gold);
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
        alpha: 1.0 / c,
        cross_validation: validation.map(|cv| cv.points).unwrap_or_default(),
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

/// The model's vocabulary and IDF from the text of `rows` (dataset indices),
/// with all weights zero.
fn vocabulary(
    data: &Dataset,
    rows: &[usize],
    labels: &[String],
    config: &FeatureConfig,
    opts: &TrainOptions,
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
    Ok(Model::from_parts(info, vocab_buckets, idf, vec![0.0; n_rows * n_labels], vec![0.0; n_labels])?)
}

/// The sparse design matrix of `rows` (dataset indices), through the
/// prediction feature path.
fn design_matrix(model: &Model, data: &Dataset, rows: &[usize]) -> SparseRows {
    let mut x = SparseRows::new();
    let mut scratch = Scratch::default();
    for &row in rows {
        model.sparse_features(&|name| data.field(row, name).map(str::to_owned), &mut scratch);
        x.push_row(&scratch.pairs);
    }
    x
}

/// When a fit stops. Cross-validation only ranks values of `C`, so its fits
/// stop at scikit-learn's `tol` for lbfgs (1e-4 on the mean gradient); the
/// final fit goes ten times further.
fn stopping(opts: &TrainOptions, final_fit: bool) -> Stopping {
    let max_iterations = usize::try_from(opts.max_iterations).unwrap_or(usize::MAX);
    if final_fit {
        Stopping { max_iterations, gradient_tolerance: 1e-5, objective_tolerance: 1e-9 }
    } else {
        Stopping { max_iterations, gradient_tolerance: 1e-4, objective_tolerance: 1e-7 }
    }
}

/// Copies fitted parameters into the model's weight table.
fn write_parameters(model: &mut Model, params: &Parameters, gold: &[usize]) {
    let n_labels = model.intercept.len();
    for row in 0..model.n_rows() {
        for (label, &weight) in params.weights(row).iter().enumerate() {
            model.weights[row * n_labels + label] = weight as f32;
        }
    }
    for (label, &intercept) in params.intercepts().iter().enumerate() {
        model.intercept[label] = intercept as f32;
    }
    // Labels absent from the training rows can never win.
    for label in 0..n_labels {
        if !gold.contains(&label) {
            model.intercept[label] = -1e4;
        }
    }
}

/// One value of `C` tried by cross-validation, and how it did.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CvPoint {
    /// scikit-learn's `C`.
    pub c: f64,
    /// Out-of-fold accuracy.
    pub accuracy: f64,
    /// Out-of-fold mean negative log-likelihood (the tie-breaker).
    pub log_loss: f64,
}

/// What cross-validation found.
struct CrossValidation {
    points: Vec<CvPoint>,
    /// Index of the chosen point.
    best: usize,
    /// Out-of-fold logits and gold labels at the chosen `C`, for calibration.
    out_of_fold: Vec<(Vec<f64>, usize)>,
    /// Parameters of the first fold at the chosen `C`: a warm start for the
    /// final fit on every training row.
    start: Parameters,
}

/// What one fold measured at each `C` of the grid.
struct FoldResult {
    /// Per grid value.
    per_c: Vec<FoldScore>,
    /// The fold's parameters at each grid value (first fold only).
    params: Vec<Parameters>,
}

/// How one fold's fit at one `C` did on the fold's held-out rows.
struct FoldScore {
    correct: usize,
    /// Summed negative log-likelihood.
    log_loss: f64,
    /// `(row, logits)` of each held-out row.
    held_out: Vec<(usize, Vec<f64>)>,
}

/// k-fold cross-validation over `grid` on the rows of `x`, folds in
/// parallel. `None` when there are too few rows for the folds.
fn cross_validate(
    x: &SparseRows,
    gold: &[usize],
    n_classes: usize,
    grid: &[f64],
    initial: &Parameters,
    opts: &TrainOptions,
) -> Option<CrossValidation> {
    let k = opts.folds.max(2);
    if x.len() < k * 10 {
        return None;
    }
    let fold_of = stratified_folds(gold, k, opts.seed ^ 0x00ca_11b8);
    let n_features = initial.values.len() / n_classes - 1;
    let results: Vec<FoldResult> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..k)
            .map(|fold| {
                let fold_of = &fold_of;
                scope.spawn(move || {
                    let train: Vec<usize> = (0..x.len()).filter(|&r| fold_of[r] != fold).collect();
                    let test: Vec<usize> = (0..x.len()).filter(|&r| fold_of[r] == fold).collect();
                    let mut params = initial.clone();
                    let mut scores = vec![0.0; n_classes];
                    let mut result = FoldResult { per_c: Vec::new(), params: Vec::new() };
                    for &c in grid {
                        let problem = Problem { x, rows: &train, gold, n_features, n_classes, c, threads: 1 };
                        problem.fit(&mut params, stopping(opts, false));
                        let (mut correct, mut loss, mut logits) = (0, 0.0, Vec::with_capacity(test.len()));
                        for &row in &test {
                            params.scores(x, row, &mut scores);
                            let (best, max) = scores
                                .iter()
                                .copied()
                                .enumerate()
                                .fold((0, f64::NEG_INFINITY), |acc, (i, s)| if s > acc.1 { (i, s) } else { acc });
                            correct += usize::from(best == gold[row]);
                            let log_sum = scores.iter().map(|s| (s - max).exp()).sum::<f64>().ln();
                            loss += log_sum - (scores[gold[row]] - max);
                            logits.push((row, scores.clone()));
                        }
                        result.per_c.push(FoldScore { correct, log_loss: loss, held_out: logits });
                        if fold == 0 {
                            result.params.push(params.clone());
                        }
                    }
                    result
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    if results.len() != k {
        return None;
    }
    let n = x.len() as f64;
    let points: Vec<CvPoint> = grid
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let correct: usize = results.iter().map(|r| r.per_c[i].correct).sum();
            let loss: f64 = results.iter().map(|r| r.per_c[i].log_loss).sum();
            CvPoint { c, accuracy: correct as f64 / n, log_loss: loss / n }
        })
        .collect();
    let best = (0..points.len()).max_by(|&a, &b| {
        let (pa, pb) = (&points[a], &points[b]);
        pa.accuracy.total_cmp(&pb.accuracy).then(pb.log_loss.total_cmp(&pa.log_loss))
    })?;
    let mut out_of_fold = Vec::with_capacity(x.len());
    let mut results = results;
    for result in &mut results {
        for (row, logits) in std::mem::take(&mut result.per_c[best].held_out) {
            out_of_fold.push((logits, gold[row]));
        }
    }
    let start = results.first_mut().map(|r| std::mem::replace(&mut r.params[best], Parameters::zeros(0, 0)))?;
    Some(CrossValidation { points, best, out_of_fold, start })
}

/// Initial parameters from an old model: weights of shared buckets and
/// labels are copied, the rest start at zero.
fn warm_start_params(old: &Model, new: &Model) -> Parameters {
    let n_labels = new.info.labels.len();
    let mut init = Parameters::zeros(new.buckets.len(), n_labels);
    let old_n = old.info.labels.len();
    let n_weights = new.buckets.len() * n_labels;
    for (label, name) in new.info.labels.iter().enumerate() {
        let Some(old_label) = old.info.labels.iter().position(|l| l == name) else {
            continue;
        };
        for (row, &bucket) in new.buckets.iter().enumerate() {
            let old_row = old.row_of_bucket(bucket);
            if old_row != NO_ROW {
                init.values[row * n_labels + label] = f64::from(old.weights[old_row as usize * old_n + old_label]);
            }
        }
        init.values[n_weights + label] = f64::from(old.intercept[old_label]);
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
