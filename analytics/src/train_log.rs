//! `routec train --from-log URL --since 90d`: retrain the intent model on
//! the tickets `routec serve` decided and humans resolved, each labelled by
//! the destination a human finally chose, and keep the new model only when
//! it beats the current one on the same holdout.
//!
//! The log is read through `routec_store` ([`routec_store::Store::resolved_since`]);
//! the tickets are flattened into dotted paths (`customer.tier`) as the
//! classifier's datasets are; training is `routec_classifier::train` with
//! a stratified holdout. Both models predict the same holdout rows and are
//! scored over the same label list (a current-model label the log never
//! saw counts as a wrong answer), so the comparison is like for like. The
//! candidate wins only with a strictly higher accuracy; a tie keeps the
//! model that is already serving.

use jiff::{SignedDuration, Timestamp};
use routec_classifier::{evaluate, predict_outcomes, train, DataError, Dataset, Metrics, Model, Outcome, TrainOptions};
use routec_store::{ResolvedTicket, Store, StoreError, StoreOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The dataset column holding the label: not a path a ticket field can have.
pub const LABEL_COLUMN: &str = "@final_destination";

/// What the current model's unknown answers are scored as.
const OTHER: &str = "(other)";

/// Parse an age such as `90d`, `12h`, `2w`, `30m` or `45s`.
pub fn parse_age(text: &str) -> Result<SignedDuration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let count: i64 = number.parse().map_err(|_| format!("`{text}` is not an age such as `90d`, `12h` or `2w`"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("`{text}` has no unit: use s, m, h, d or w (e.g. `90d`)")),
    };
    count.checked_mul(seconds).map(SignedDuration::from_secs).ok_or_else(|| format!("`{text}` is too long an age"))
}

/// Why the log cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The runtime the store's client needs did not start.
    #[error("cannot start the runtime that reads the log: {0}")]
    Runtime(std::io::Error),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The resolved tickets of the log at `url` since `since` (a blocking
/// call: the store is asynchronous).
pub fn read_log(url: &str, since: Timestamp) -> Result<Vec<ResolvedTicket>, LogError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(LogError::Runtime)?;
    let tickets = runtime.block_on(async {
        let store = Store::open(url, StoreOptions::default()).await?;
        let tickets = store.resolved_since(since).await;
        store.close().await;
        tickets
    })?;
    Ok(tickets)
}

/// The tickets as a training dataset: every scalar at its dotted path,
/// lists of scalars joined by commas, the label in [`LABEL_COLUMN`].
pub fn dataset(tickets: &[ResolvedTicket]) -> Dataset {
    let records: Vec<Vec<(String, String)>> = tickets
        .iter()
        .map(|t| {
            let mut record = Vec::new();
            flatten("", &t.ticket, &mut record);
            record.push((LABEL_COLUMN.to_string(), t.final_destination.clone()));
            record
        })
        .collect();
    Dataset::from_records(records.iter().map(|r| r.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()))
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(&path, v, out);
            }
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(scalar).collect();
            if !prefix.is_empty() {
                out.push((prefix.to_string(), parts.join(",")));
            }
        }
        Value::Null => {}
        other => {
            if let (false, Some(s)) = (prefix.is_empty(), scalar(other)) {
                out.push((prefix.to_string(), s));
            }
        }
    }
}

/// A model's figures on the shared holdout.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Figures {
    pub rows: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Expected calibration error.
    pub ece: f64,
}

impl From<&Metrics> for Figures {
    fn from(m: &Metrics) -> Figures {
        Figures { rows: m.n, accuracy: m.accuracy, macro_f1: m.macro_f1, ece: m.ece }
    }
}

/// One label, side by side.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LabelRow {
    pub label: String,
    /// Tickets with this final destination in the log window.
    pub tickets: usize,
    /// Of them, in the holdout.
    pub holdout: usize,
    pub candidate_f1: f64,
    pub current_f1: Option<f64>,
}

/// What `routec train --from-log` did, as `--json` prints it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RetrainReport {
    /// The window's start.
    pub since: Timestamp,
    /// Resolved tickets read from the log.
    pub tickets: usize,
    /// Tickets whose final destination differs from routec's.
    pub reassigned: usize,
    pub candidate: Figures,
    pub current: Option<Figures>,
    pub labels: Vec<LabelRow>,
    /// Whether the candidate was written.
    pub written: bool,
    pub reason: String,
}

/// The candidate model and the report; the caller writes the model when
/// `report.written` says so.
pub struct Retrained {
    pub model: Model,
    pub report: RetrainReport,
}

/// Train a candidate on `tickets` and compare it with `current` on the
/// candidate's holdout.
pub fn retrain(
    tickets: &[ResolvedTicket],
    since: Timestamp,
    opts: &TrainOptions,
    current: Option<&Model>,
) -> Result<Retrained, DataError> {
    let data = dataset(tickets);
    let mut opts = opts.clone();
    opts.label_field = LABEL_COLUMN.to_string();
    let outcome = train(&data, &opts, None)?;
    let test = outcome.dataset_split().test;
    let model = outcome.model;
    let mut labels: Vec<String> = model.labels().to_vec();
    let index_of = |labels: &mut Vec<String>, label: &str| match labels.iter().position(|l| l == label) {
        Some(i) => i,
        None => {
            labels.push(label.to_string());
            labels.len() - 1
        }
    };
    let gold: Vec<usize> =
        test.iter().map(|&row| index_of(&mut labels, data.field(row, LABEL_COLUMN).unwrap_or_default())).collect();
    let candidate_outcomes = predict_outcomes(&model, &data, &test, &gold);
    let current_outcomes: Option<Vec<Outcome>> = current.map(|old| {
        test.iter()
            .zip(&gold)
            .map(|(&row, &gold)| {
                let p = old.predict(&|name| data.field(row, name).map(str::to_owned));
                let said = old.labels().get(p.label).map(String::as_str).unwrap_or(OTHER);
                let predicted = match labels.iter().position(|l| l == said) {
                    Some(i) => i,
                    None => index_of(&mut labels, OTHER),
                };
                Outcome { gold, predicted, confidence: p.confidence }
            })
            .collect()
    });
    let candidate_metrics = evaluate(&labels, &candidate_outcomes);
    let current_metrics = current_outcomes.as_ref().map(|o| evaluate(&labels, o));
    let (written, reason) = match &current_metrics {
        _ if test.is_empty() => {
            (current.is_none(), "no holdout rows (too few tickets per destination): nothing to compare on".to_string())
        }
        None => (true, "no current model".to_string()),
        Some(cur) if candidate_metrics.accuracy > cur.accuracy => {
            (true, format!("accuracy {:.3} beats the current model's {:.3}", candidate_metrics.accuracy, cur.accuracy))
        }
        Some(cur) => (
            false,
            format!(
                "accuracy {:.3} does not beat the current model's {:.3}: kept the current model",
                candidate_metrics.accuracy, cur.accuracy
            ),
        ),
    };
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for t in tickets {
        *counts.entry(t.final_destination.as_str()).or_default() += 1;
    }
    let rows = labels
        .iter()
        .enumerate()
        .filter(|(_, l)| l.as_str() != OTHER)
        .map(|(i, label)| LabelRow {
            label: label.clone(),
            tickets: counts.get(label.as_str()).copied().unwrap_or(0),
            holdout: gold.iter().filter(|g| **g == i).count(),
            candidate_f1: candidate_metrics.per_class.get(i).map(|c| c.f1).unwrap_or(0.0),
            current_f1: current_metrics.as_ref().map(|m| m.per_class.get(i).map(|c| c.f1).unwrap_or(0.0)),
        })
        .collect();
    let report = RetrainReport {
        since,
        tickets: tickets.len(),
        reassigned: tickets.iter().filter(|t| t.decided_destination.as_deref() != Some(&t.final_destination)).count(),
        candidate: Figures::from(&candidate_metrics),
        current: current_metrics.as_ref().map(Figures::from),
        labels: rows,
        written,
        reason,
    };
    Ok(Retrained { model, report })
}

impl RetrainReport {
    /// The terminal summary: both models side by side.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} resolved tickets since {} ({} finally routed elsewhere than routec said)",
            self.tickets, self.since, self.reassigned
        );
        let _ = writeln!(out, "holdout: {} tickets\n", self.candidate.rows);
        let current = |f: &dyn Fn(&Figures) -> String| self.current.as_ref().map_or("-".to_string(), f);
        let _ = writeln!(out, "{:<24} {:>10} {:>10}", "", "current", "candidate");
        let _ = writeln!(
            out,
            "{:<24} {:>10} {:>10.3}",
            "accuracy",
            current(&|f| format!("{:.3}", f.accuracy)),
            self.candidate.accuracy
        );
        let _ = writeln!(
            out,
            "{:<24} {:>10} {:>10.3}",
            "macro F1",
            current(&|f| format!("{:.3}", f.macro_f1)),
            self.candidate.macro_f1
        );
        let _ = writeln!(
            out,
            "{:<24} {:>10} {:>10.3}",
            "calibration error",
            current(&|f| format!("{:.3}", f.ece)),
            self.candidate.ece
        );
        let _ = writeln!(out, "\nF1 per final destination (tickets, of them in the holdout)");
        for row in &self.labels {
            let name = format!("{} ({}, {})", row.label, row.tickets, row.holdout);
            let cur = row.current_f1.map_or("-".to_string(), |f| format!("{f:.3}"));
            let _ = writeln!(out, "{name:<24} {cur:>10} {:>10.3}", row.candidate_f1);
        }
        let verdict = if self.written { "wrote the candidate" } else { "kept the current model" };
        let _ = writeln!(out, "\n{verdict}: {}", self.reason);
        out
    }
}
