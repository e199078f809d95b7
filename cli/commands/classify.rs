//! `routec classify`: predict the intent of tickets with a model file.
//!
//! Owns the command-line surface of one-off prediction: JSON Lines tickets
//! in (a file or stdin), one JSON line out per ticket with the intent, its
//! calibrated confidence, the top-3 alternatives, `sentiment` and `language`.
//! A line that is not JSON is reported with its number and skipped; the rest
//! are still classified, and the exit status says some lines were rejected.

use std::path::PathBuf;

use crate::exit::{CliError, ExitCode, Outcome, Stream};
use crate::output::Output;
use routec_classifier::{detect_language, sentiment, Model};

/// Predict the intent of tickets (JSON Lines) with a model.
#[derive(clap::Args, Debug)]
pub struct ClassifyArgs {
    /// The model file
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// Tickets as JSON Lines; `-` or nothing reads stdin
    #[arg(value_name = "TICKETS")]
    pub tickets: Option<PathBuf>,
    /// Classify this text (as the model's first text field) instead of reading tickets
    #[arg(long, value_name = "TEXT", conflicts_with = "tickets")]
    pub text: Option<String>,
}

/// Looks up a dotted path in a JSON object (`customer.tier`), also accepting
/// a literal dotted key.
fn lookup(ticket: &serde_json::Value, path: &str) -> Option<String> {
    let value = ticket.get(path).or_else(|| path.split('.').try_fold(ticket, |node, key| node.get(key)))?;
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Runs `routec classify`.
pub fn run(args: &ClassifyArgs, outcome: &mut Outcome) -> Result<(), CliError> {
    let model = Model::load(&args.model).map_err(CliError::Model)?;
    let mut out = Output::stdout_buffered();
    if let Some(text) = &args.text {
        let field = model.info().features.text_fields.first().cloned().unwrap_or_else(|| "body".into());
        classify(&model, &serde_json::json!({ field: text }), &mut out)?;
        return out.flush();
    }
    let input: Box<dyn std::io::BufRead> = match &args.tickets {
        Some(path) if path.as_os_str() != "-" => {
            Box::new(std::io::BufReader::new(std::fs::File::open(path).map_err(|e| CliError::read(path, e))?))
        }
        _ => Box::new(std::io::stdin().lock()),
    };
    let mut err = Output::stderr();
    for (idx, line) in crate::lines::Lines::new(input).enumerate() {
        let line = match line {
            Ok(line) => line,
            Err(crate::lines::LineError::Io(source)) => return Err(CliError::Stream { stream: Stream::Input, source }),
            Err(e) => {
                outcome.earn(ExitCode::BadInput);
                writeln!(err, "line {}: rejected: {e}", idx + 1)?;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(ticket) => classify(&model, &ticket, &mut out)?,
            Err(e) => {
                outcome.earn(ExitCode::BadInput);
                writeln!(err, "line {}: rejected: {e}", idx + 1)?;
            }
        }
    }
    out.flush()
}

/// Print the prediction for one ticket as a JSON line.
fn classify(model: &Model, ticket: &serde_json::Value, out: &mut Output<impl std::io::Write>) -> Result<(), CliError> {
    let labels = model.labels();
    let prediction = model.predict(&|path| lookup(ticket, path));
    let text: String =
        model.info().features.text_fields.iter().filter_map(|f| lookup(ticket, f)).collect::<Vec<_>>().join("\n");
    let top: Vec<serde_json::Value> = prediction
        .top
        .iter()
        .map(|&(idx, p)| serde_json::json!({ "intent": labels[idx], "probability": round(p) }))
        .collect();
    let line = serde_json::json!({
        "intent": labels[prediction.label],
        "confidence": round(prediction.confidence),
        "top": top,
        "sentiment": round(sentiment(&text)),
        "language": detect_language(&text),
    });
    writeln!(out, "{line}")
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
