//! Error types of the classifier crate.
//!
//! Owns [`ModelError`] (reading, writing and combining model files) and
//! [`DataError`] (reading labelled ticket files). Messages are lowercase,
//! one line, with user input in backticks.

use std::path::PathBuf;

/// Why a model file could not be read, written or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The file could not be read or written.
    #[error("io error on model file `{}`: {source}", path.display())]
    Io {
        /// The model file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The bytes do not start with the model file magic.
    #[error("not a routec model file (missing `RTCMODEL` header)")]
    NotAModel,
    /// The file was written by a newer (or unknown) format version.
    #[error("unknown model file version {found} (this routec reads version {supported}); retrain with `routec train`")]
    UnknownVersion {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The file is truncated, fails its checksum or is internally inconsistent.
    #[error("corrupt model file: {0}")]
    Corrupt(String),
    /// Two models (or a model and data) cannot be combined.
    #[error("incompatible model: {0}")]
    Incompatible(String),
}

/// Why a labelled ticket file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The data file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV parse error.
    #[error("`{}`: {source}", path.display())]
    Csv {
        /// The data file.
        path: PathBuf,
        /// The underlying error.
        source: csv::Error,
    },
    /// A JSON Lines record is not a JSON object.
    #[error("`{}` line {line}: {message}", path.display())]
    Json {
        /// The data file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// A requested field is in no record.
    #[error("field `{field}` is not in the data (available: {available})")]
    MissingField {
        /// The requested dotted path.
        field: String,
        /// Comma-separated available fields.
        available: String,
    },
    /// Not enough labelled rows or labels to train.
    #[error("{0}")]
    TooLittleData(String),
    /// The logistic regression solver failed.
    #[error("training failed: {0}")]
    Solver(String),
    /// A model given for warm start or comparison does not fit.
    #[error(transparent)]
    Model(#[from] ModelError),
}
