//! Intent classification for routec: tokeniser, hashed TF-IDF features,
//! multinomial logistic regression, calibrated confidence, model files, and
//! the `sentiment` / `language` signals.
//!
//! Owns everything between "a ticket's fields" and "an intent with a
//! calibrated probability". It knows nothing about policies, the runtime's
//! signal block or the CLI; those call [`Model::predict`], [`train()`],
//! [`sentiment`] and [`detect_language`].
//!
//! Module map: `tokenize` (tokens: a byte-level fast path, logos for the
//! rest) → `features` (hash buckets) → `vocab` (bucket → vocabulary rank) →
//! `model` (IDF, weights, prediction) ← `train` (vocabulary, cross-validated
//! regularisation, calibration) ← `solver` (sparse multinomial logistic
//! regression, L-BFGS);
//! `format` (file layout), `dataset` (CSV / JSON Lines), `metrics` (report),
//! `sentiment`, `language`.

mod dataset;
mod error;
mod features;
mod format;
mod hash;
mod language;
mod metrics;
mod model;
mod sentiment;
mod solver;
pub mod tokenize;
mod train;
mod vocab;

pub use dataset::{stratified_folds, stratified_split, Dataset, Split};
pub use error::{DataError, ModelError};
pub use features::FeatureConfig;
pub use format::{MAGIC, VERSION};
pub use language::detect_language;
pub use metrics::{
    evaluate, policy_block, policy_name, render as render_report, render_comparison, suggest_thresholds, ClassMetrics,
    CoveragePoint, Metrics, Outcome, Thresholds, COVERAGE_THRESHOLDS,
};
pub use model::{Model, ModelInfo, Prediction, TrainingInfo, MAX_MODEL_BYTES};
pub use sentiment::sentiment;
pub use train::{labelled_rows, predict_outcomes, train, CvPoint, Labelled, TrainOptions, TrainOutcome, C_GRID};
