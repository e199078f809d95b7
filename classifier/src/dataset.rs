//! Labelled ticket files: CSV or JSON Lines, addressed by dotted field paths.
//!
//! Owns reading tickets into a flat table (JSON objects are flattened to
//! dotted paths, so `customer.tier` means the same in both formats), the
//! training-data hash, and the reproducible stratified split. It knows
//! nothing about features or models.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::DataError;
use crate::hash::{fnv1a, SplitMix};

/// A table of tickets with named (dotted) columns.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    columns: Vec<String>,
    index: HashMap<String, usize>,
    rows: Vec<Vec<Option<String>>>,
    /// FNV-1a 64 of the files' bytes, in order.
    pub hash: u64,
    /// The files read.
    pub files: Vec<PathBuf>,
}

impl Dataset {
    /// Reads one or more files (CSV, or JSON Lines when the extension is
    /// `.jsonl`/`.ndjson`/`.json` or the first non-blank byte is `{`) and
    /// concatenates their rows; columns are the union.
    pub fn load(paths: &[PathBuf]) -> Result<Dataset, DataError> {
        let mut out = Dataset::default();
        let mut hash_input = Vec::new();
        for path in paths {
            let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.clone(), source })?;
            hash_input.extend_from_slice(&fnv1a(&bytes).to_le_bytes());
            if is_json_lines(path, &bytes) {
                out.read_json_lines(path, &bytes)?;
            } else {
                out.read_csv(path, &bytes)?;
            }
            out.files.push(path.clone());
        }
        out.hash = if paths.len() == 1 {
            u64::from_le_bytes(hash_input.get(..8).and_then(|s| s.try_into().ok()).unwrap_or_default())
        } else {
            fnv1a(&hash_input)
        };
        Ok(out)
    }

    /// Builds a dataset from records given as `(path, value)` lists (for tests
    /// and callers that already hold tickets).
    pub fn from_records<'a>(records: impl IntoIterator<Item = Vec<(&'a str, &'a str)>>) -> Dataset {
        let mut out = Dataset::default();
        for record in records {
            let row = out.push_row();
            for (key, value) in record {
                out.set(row, key, value.to_owned());
            }
        }
        out
    }

    fn column_or_insert(&mut self, name: &str) -> usize {
        if let Some(&idx) = self.index.get(name) {
            return idx;
        }
        let idx = self.columns.len();
        self.columns.push(name.to_owned());
        self.index.insert(name.to_owned(), idx);
        idx
    }

    fn push_row(&mut self) -> usize {
        self.rows.push(Vec::new());
        self.rows.len() - 1
    }

    fn set(&mut self, row: usize, key: &str, value: String) {
        let col = self.column_or_insert(key);
        let cells = &mut self.rows[row];
        if cells.len() <= col {
            cells.resize(col + 1, None);
        }
        cells[col] = Some(value);
    }

    fn read_csv(&mut self, path: &Path, bytes: &[u8]) -> Result<(), DataError> {
        let csv_error = |source| DataError::Csv { path: path.to_path_buf(), source };
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let headers: Vec<String> = reader.headers().map_err(csv_error)?.iter().map(str::to_owned).collect();
        let cols: Vec<usize> = headers.iter().map(|h| self.column_or_insert(h.trim())).collect();
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            let row = self.push_row();
            for (value, &col) in record.iter().zip(&cols) {
                if !value.is_empty() {
                    let name = self.columns[col].clone();
                    self.set(row, &name, value.to_owned());
                }
            }
        }
        Ok(())
    }

    fn read_json_lines(&mut self, path: &Path, bytes: &[u8]) -> Result<(), DataError> {
        let text = String::from_utf8_lossy(bytes);
        for (line_idx, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let json_error =
                |message: String| DataError::Json { path: path.to_path_buf(), line: line_idx + 1, message };
            let value: serde_json::Value = serde_json::from_str(line).map_err(|err| json_error(err.to_string()))?;
            let serde_json::Value::Object(map) = value else {
                return Err(json_error("expected a JSON object".into()));
            };
            let row = self.push_row();
            let mut flat = BTreeMap::new();
            flatten("", &serde_json::Value::Object(map), &mut flat);
            for (key, value) in flat {
                self.set(row, &key, value);
            }
        }
        Ok(())
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Column names (dotted paths).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The column index of a dotted path, or an error naming what is available.
    pub fn require(&self, field: &str) -> Result<usize, DataError> {
        self.index
            .get(field)
            .copied()
            .ok_or_else(|| DataError::MissingField { field: field.to_owned(), available: self.columns.join(", ") })
    }

    /// The value of column `col` in row `row`, if present and non-empty.
    pub fn get(&self, row: usize, col: usize) -> Option<&str> {
        self.rows.get(row)?.get(col)?.as_deref().filter(|v| !v.trim().is_empty())
    }

    /// The value of a dotted path in row `row`.
    pub fn field(&self, row: usize, name: &str) -> Option<&str> {
        self.get(row, *self.index.get(name)?)
    }
}

fn is_json_lines(path: &Path, bytes: &[u8]) -> bool {
    let by_extension = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jsonl" | "ndjson" | "json"));
    by_extension || bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Flattens nested objects into dotted paths; arrays of scalars are joined with spaces.
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(&path, child, out);
            }
        }
        Value::Null => {}
        Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|item| match item {
                    Value::String(s) => Some(s.clone()),
                    Value::Null | Value::Object(_) | Value::Array(_) => None,
                    other => Some(other.to_string()),
                })
                .collect();
            out.insert(prefix.to_owned(), parts.join(" "));
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// A train/holdout partition of row indices.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Split {
    /// Rows to fit on (ascending).
    pub train: Vec<usize>,
    /// Rows held out for evaluation (ascending).
    pub test: Vec<usize>,
}

/// The fold (`0..k`) of each row for stratified k-fold cross-validation:
/// each label's rows are shuffled and dealt round-robin, so every fold gets
/// its share of every label.
pub fn stratified_folds(labels: &[usize], k: usize, seed: u64) -> Vec<usize> {
    let n_labels = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut by_label: Vec<Vec<usize>> = vec![Vec::new(); n_labels];
    for (row, &label) in labels.iter().enumerate() {
        by_label[label].push(row);
    }
    let mut rng = SplitMix::new(seed);
    let mut fold_of = vec![0; labels.len()];
    let mut next = 0;
    for mut rows in by_label {
        rng.shuffle(&mut rows);
        for row in rows {
            fold_of[row] = next % k.max(1);
            next += 1;
        }
    }
    fold_of
}

/// Stratified split: for each label, shuffle its rows with `seed` and hold out
/// `round(n * holdout)` of them (none when the label has fewer than two rows,
/// so every label is trained on). Deterministic for a given input order.
pub fn stratified_split(labels: &[usize], holdout: f64, seed: u64) -> Split {
    let n_labels = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut by_label: Vec<Vec<usize>> = vec![Vec::new(); n_labels];
    for (row, &label) in labels.iter().enumerate() {
        by_label[label].push(row);
    }
    let mut rng = SplitMix::new(seed);
    let mut split = Split { train: Vec::new(), test: Vec::new() };
    for mut rows in by_label {
        rng.shuffle(&mut rows);
        let n_test =
            if rows.len() < 2 { 0 } else { ((rows.len() as f64 * holdout).round() as usize).min(rows.len() - 1) };
        split.test.extend_from_slice(&rows[..n_test]);
        split.train.extend_from_slice(&rows[n_test..]);
    }
    split.train.sort_unstable();
    split.test.sort_unstable();
    split
}
