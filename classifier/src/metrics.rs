//! Evaluation metrics and the human-readable report.
//!
//! Owns accuracy, macro-F1, per-class precision/recall/F1, the confusion
//! matrix, the coverage-versus-accuracy table, expected calibration error,
//! per-intent threshold suggestions and the policy `classifier` block. It
//! works on `(gold, predicted, confidence)` triples and knows nothing about
//! features or files.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Confidence thresholds of the coverage table.
pub const COVERAGE_THRESHOLDS: [f64; 14] =
    [0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95];

/// Per-class figures.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ClassMetrics {
    /// The label.
    pub label: String,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Number of gold rows with this label.
    pub support: usize,
}

/// One row of the coverage-versus-accuracy table.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CoveragePoint {
    /// Minimum confidence.
    pub threshold: f64,
    /// Fraction of rows whose confidence is at least `threshold`.
    pub coverage: f64,
    /// Accuracy on those rows (1.0 when none).
    pub accuracy: f64,
}

/// All figures of an evaluation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Metrics {
    /// Rows evaluated.
    pub n: usize,
    /// Fraction predicted correctly.
    pub accuracy: f64,
    /// Unweighted mean of per-class F1 (classes with support or predictions).
    pub macro_f1: f64,
    /// Expected calibration error over 10 equal-width confidence bins.
    pub ece: f64,
    /// Per-class figures, in label order.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[gold][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// Coverage versus accuracy at [`COVERAGE_THRESHOLDS`].
    pub coverage: Vec<CoveragePoint>,
}

/// One evaluated row: gold label, predicted label, confidence.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// Gold label index.
    pub gold: usize,
    /// Predicted label index.
    pub predicted: usize,
    /// Confidence of the prediction.
    pub confidence: f64,
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Computes all metrics.
pub fn evaluate(labels: &[String], outcomes: &[Outcome]) -> Metrics {
    let n_labels = labels.len();
    let mut confusion = vec![vec![0usize; n_labels]; n_labels];
    for o in outcomes {
        confusion[o.gold][o.predicted] += 1;
    }
    let correct: usize = (0..n_labels).map(|i| confusion[i][i]).sum();
    let mut per_class = Vec::with_capacity(n_labels);
    let mut f1_sum = 0.0;
    let mut f1_count = 0usize;
    for (idx, label) in labels.iter().enumerate() {
        let support: usize = confusion[idx].iter().sum();
        let predicted: usize = confusion.iter().map(|row| row[idx]).sum();
        let tp = confusion[idx][idx];
        let precision = ratio(tp, predicted);
        let recall = ratio(tp, support);
        let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        if support > 0 || predicted > 0 {
            f1_sum += f1;
            f1_count += 1;
        }
        per_class.push(ClassMetrics { label: label.clone(), precision, recall, f1, support });
    }
    let coverage = COVERAGE_THRESHOLDS
        .iter()
        .map(|&threshold| {
            let covered: Vec<&Outcome> = outcomes.iter().filter(|o| o.confidence >= threshold).collect();
            let right = covered.iter().filter(|o| o.gold == o.predicted).count();
            CoveragePoint {
                threshold,
                coverage: ratio(covered.len(), outcomes.len()),
                accuracy: if covered.is_empty() { 1.0 } else { ratio(right, covered.len()) },
            }
        })
        .collect();
    Metrics {
        n: outcomes.len(),
        accuracy: ratio(correct, outcomes.len()),
        macro_f1: if f1_count == 0 { 0.0 } else { f1_sum / f1_count as f64 },
        ece: expected_calibration_error(outcomes),
        per_class,
        confusion,
        coverage,
    }
}

fn expected_calibration_error(outcomes: &[Outcome]) -> f64 {
    let mut bins = [(0usize, 0.0f64, 0usize); 10];
    for o in outcomes {
        let bin = ((o.confidence * 10.0) as usize).min(9);
        bins[bin].0 += 1;
        bins[bin].1 += o.confidence;
        bins[bin].2 += usize::from(o.gold == o.predicted);
    }
    let total = outcomes.len().max(1) as f64;
    bins.iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|&(n, conf_sum, right)| (n as f64 / total) * (conf_sum / n as f64 - right as f64 / n as f64).abs())
        .sum()
}

/// Suggested confidence thresholds for a target precision.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// The lowest threshold at which overall accuracy of covered rows reaches the target.
    pub global: f64,
    /// Per label: the lowest threshold at which the label's precision reaches
    /// the target, `None` when it never does on this data.
    pub per_label: Vec<Option<f64>>,
}

/// Finds thresholds on a 0.01 grid from 0.30 to 0.99. A threshold needs at
/// least three covered predictions to count as evidence.
pub fn suggest_thresholds(n_labels: usize, outcomes: &[Outcome], target: f64) -> Thresholds {
    let grid: Vec<f64> = (30..=99).map(|t| f64::from(t) / 100.0).collect();
    let reaches = |filter: &dyn Fn(&Outcome) -> bool, threshold: f64| {
        let covered: Vec<&Outcome> = outcomes.iter().filter(|o| filter(o) && o.confidence >= threshold).collect();
        covered.len() >= 3 && ratio(covered.iter().filter(|o| o.gold == o.predicted).count(), covered.len()) >= target
    };
    let global = grid.iter().copied().find(|&t| reaches(&|_| true, t)).unwrap_or(0.99);
    let per_label = (0..n_labels)
        .map(|label| grid.iter().copied().find(|&t| reaches(&|o: &Outcome| o.predicted == label, t)))
        .collect();
    Thresholds { global, per_label }
}

/// Writes `label` as a policy identifier, quoting it when it is not one.
pub fn policy_name(label: &str) -> String {
    let is_ident = label.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if is_ident {
        label.to_owned()
    } else {
        format!("{label:?}")
    }
}

/// The `classifier` block to paste into a policy.
pub fn policy_block(
    model_path: &str,
    labels: &[String],
    fields: &[String],
    thresholds: &Thresholds,
    target: f64,
) -> String {
    let mut out = String::new();
    let names: Vec<String> = labels.iter().map(|l| policy_name(l)).collect();
    let _ = writeln!(out, "classifier intent from {model_path:?} {{");
    let _ = writeln!(out, "  labels {}", names.join(", "));
    let _ = writeln!(out, "  features {}", fields.iter().map(|f| policy_name(f)).collect::<Vec<_>>().join(", "));
    let _ = writeln!(out, "  threshold {:.2}", thresholds.global);
    for (name, threshold) in names.iter().zip(&thresholds.per_label) {
        match threshold {
            Some(t) if (t - thresholds.global).abs() > 1e-9 => {
                let _ = writeln!(out, "  threshold {name} {t:.2}");
            }
            Some(_) => {}
            None => {
                let _ = writeln!(
                    out,
                    "  threshold {name} 0.99  # never reached {:.0} % precision on the holdout",
                    target * 100.0
                );
            }
        }
    }
    out.push('}');
    out.push('\n');
    out
}

/// Renders the report as text.
pub fn render(metrics: &Metrics) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "rows {}   accuracy {:.2} %   macro-F1 {:.2} %   ECE {:.3}",
        metrics.n,
        metrics.accuracy * 100.0,
        metrics.macro_f1 * 100.0,
        metrics.ece
    );
    let width = metrics.per_class.iter().map(|c| c.label.chars().count()).max().unwrap_or(5).max(5);
    let _ = writeln!(out, "\n{:<width$}  precision  recall      F1  support", "label");
    for class in &metrics.per_class {
        let _ = writeln!(
            out,
            "{:<width$}  {:>9.3}  {:>6.3}  {:>6.3}  {:>7}",
            class.label, class.precision, class.recall, class.f1, class.support
        );
    }
    let _ = writeln!(out, "\nconfusion matrix (rows = gold, columns = predicted; column k = row k's label)");
    let label_width = width + 3;
    let _ = write!(out, "{:<label_width$} ", "");
    for idx in 0..metrics.per_class.len() {
        let _ = write!(out, "{:>5}", idx);
    }
    out.push('\n');
    for (idx, (class, row)) in metrics.per_class.iter().zip(&metrics.confusion).enumerate() {
        let _ = write!(out, "{:<label_width$} ", format!("{idx:>2} {}", class.label));
        for count in row {
            let _ = write!(out, "{count:>5}");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\nconfidence ≥  coverage  accuracy");
    for point in &metrics.coverage {
        let _ = writeln!(
            out,
            "{:>12.2}  {:>7.1} %  {:>7.1} %",
            point.threshold,
            point.coverage * 100.0,
            point.accuracy * 100.0
        );
    }
    out
}

/// Renders a side-by-side comparison of two evaluations on the same rows.
pub fn render_comparison(old: &Metrics, new: &Metrics) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "comparison on the same {} holdout rows", new.n);
    let _ = writeln!(out, "             old model   new model      delta");
    for (name, a, b) in [("accuracy", old.accuracy, new.accuracy), ("macro-F1", old.macro_f1, new.macro_f1)] {
        let _ = writeln!(out, "{name:<10} {:>9.2} %  {:>9.2} %  {:>+8.2} pt", a * 100.0, b * 100.0, (b - a) * 100.0);
    }
    let _ = writeln!(out, "{:<10} {:>11.3}  {:>11.3}  {:>+11.3}", "ECE", old.ece, new.ece, new.ece - old.ece);
    out
}
