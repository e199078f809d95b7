//! `routec classify`: predict the intent of tickets with a model file.
//!
//! Owns the command-line surface of one-off prediction: JSON Lines tickets
//! in (a file or stdin), one JSON line out per ticket with the intent, its
//! calibrated confidence, the top-3 alternatives, `sentiment` and `language`.

use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::process::ExitCode;

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

/// Runs `routec classify`.
pub fn run(args: &ClassifyArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
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

fn run_inner(args: &ClassifyArgs) -> Result<(), String> {
    let model = Model::load(&args.model).map_err(|e| e.to_string())?;
    let tickets: Vec<serde_json::Value> = if let Some(text) = &args.text {
        let field = model.info().features.text_fields.first().cloned().unwrap_or_else(|| "body".into());
        vec![serde_json::json!({ field: text })]
    } else {
        let mut input = String::new();
        match &args.tickets {
            Some(path) if path.as_os_str() != "-" => {
                input = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            }
            _ => {
                std::io::stdin().lock().read_to_string(&mut input).map_err(|e| format!("cannot read stdin: {e}"))?;
            }
        }
        let mut out = Vec::new();
        for (idx, line) in input.as_bytes().lines().enumerate() {
            let line = line.map_err(|e| e.to_string())?;
            if line.trim().is_empty() {
                continue;
            }
            out.push(serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", idx + 1))?);
        }
        out
    };
    let labels = model.labels();
    for ticket in &tickets {
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
        println!("{line}");
    }
    Ok(())
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
