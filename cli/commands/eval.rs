//! `routec eval`: the training report for an existing model on any labelled
//! file.
//!
//! Owns the command-line surface of evaluation; the metrics are computed by
//! `routec_classifier`.

use std::path::PathBuf;
use std::process::ExitCode;

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
pub fn run(args: &EvalArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_inner(args: &EvalArgs) -> Result<(), String> {
    let model = Model::load(&args.model).map_err(|e| e.to_string())?;
    let data = Dataset::load(&args.data).map_err(|e| e.to_string())?;
    let label_field = args.label.clone().unwrap_or_else(|| model.info().training.label_field.clone());
    let label_col = data.require(&label_field).map_err(|e| e.to_string())?;
    let candidate_rows: Vec<usize> = match &args.split {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            let split: Split =
                serde_json::from_str(&text).map_err(|e| format!("`{}` is not a split file: {e}", path.display()))?;
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
        return Err(format!("no rows with a `{label_field}` label the model knows"));
    }
    let outcomes = predict_outcomes(&model, &data, &rows, &gold);
    let metrics = evaluate(model.labels(), &outcomes);
    let thresholds = args.target_precision.map(|target| suggest_thresholds(model.labels().len(), &outcomes, target));
    if args.json {
        let report = serde_json::json!({
            "model": args.model,
            "skipped_unknown_labels": unknown,
            "metrics": metrics,
            "thresholds": thresholds,
        });
        println!("{report:#}");
        return Ok(());
    }
    if unknown > 0 {
        println!("skipped {unknown} rows whose label the model does not know");
    }
    print!("{}", render_report(&metrics));
    if let (Some(thresholds), Some(target)) = (&thresholds, args.target_precision) {
        println!("\nthresholds for {:.0} % precision; paste into the policy:\n", target * 100.0);
        let path = args.model.display().to_string();
        print!("{}", policy_block(&path, model.labels(), model.feature_fields(), thresholds, target));
    }
    Ok(())
}
