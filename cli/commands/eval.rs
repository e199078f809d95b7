//! `routec eval`: the training report for an existing model on any labelled
//! file.
//!
//! Owns the command-line surface of evaluation; the metrics are computed by
//! `routec_classifier`.

use std::path::PathBuf;

use crate::exit::CliError;
use crate::output::Output;
use routec_classifier::{
    evaluate, policy_block, predict_outcomes, render_report, suggest_thresholds, Dataset, Model, Split,
};

/// Evaluate an intent model on labelled tickets (CSV or JSON Lines).
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The model file
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// Labelled tickets: CSV or JSON Lines; several files are concatenated
    #[arg(required = true, value_name = "DATA")]
    pub data: Vec<PathBuf>,
    /// The field holding the gold label [default: the one the model was trained on]
    #[arg(long, value_name = "FIELD")]
    pub label: Option<String>,
    /// Only evaluate the `test` rows of a split written by `routec train --export-split`
    #[arg(long, value_name = "FILE")]
    pub split: Option<PathBuf>,
    /// Suggest per-intent thresholds reaching this precision and print a policy block
    #[arg(long, value_name = "P")]
    pub target_precision: Option<f64>,
    /// Print the report as JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// Runs `routec eval`.
pub fn run(args: &EvalArgs) -> Result<(), CliError> {
    let model = Model::load(&args.model).map_err(CliError::Model)?;
    let data = Dataset::load(&args.data).map_err(CliError::Data)?;
    let label_field = args.label.clone().unwrap_or_else(|| model.info().training.label_field.clone());
    let label_col = data.require(&label_field).map_err(CliError::Data)?;
    let candidate_rows: Vec<usize> = match &args.split {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| CliError::read(path, e))?;
            let split: Split = serde_json::from_str(&text).map_err(|e| CliError::Unusable {
                path: path.clone(),
                expected: "a split file",
                source: Box::new(e),
            })?;
            split.test
        }
        None => (0..data.len()).collect(),
    };
    let mut rows = Vec::new();
    let mut gold = Vec::new();
    let mut unknown = 0usize;
    for row in candidate_rows {
        let Some(label) = data.get(row, label_col) else { continue };
        match model.labels().iter().position(|l| l == label.trim()) {
            Some(idx) => {
                rows.push(row);
                gold.push(idx);
            }
            None => unknown += 1,
        }
    }
    if rows.is_empty() {
        return Err(CliError::NoKnownLabels { field: label_field });
    }
    let outcomes = predict_outcomes(&model, &data, &rows, &gold);
    let metrics = evaluate(model.labels(), &outcomes);
    let thresholds = args.target_precision.map(|target| suggest_thresholds(model.labels().len(), &outcomes, target));
    let mut out = Output::stdout();
    if args.json {
        let report = serde_json::json!({
            "model": args.model,
            "skipped_unknown_labels": unknown,
            "metrics": metrics,
            "thresholds": thresholds,
        });
        writeln!(out, "{report:#}")?;
        return Ok(());
    }
    if unknown > 0 {
        writeln!(out, "skipped {unknown} rows whose label the model does not know")?;
    }
    write!(out, "{}", render_report(&metrics))?;
    if let (Some(thresholds), Some(target)) = (&thresholds, args.target_precision) {
        writeln!(out, "\nthresholds for {:.0} % precision; paste into the policy:\n", target * 100.0)?;
        let path = args.model.display().to_string();
        write!(out, "{}", policy_block(&path, model.labels(), model.feature_fields(), thresholds, target))?;
    }
    Ok(())
}
