//! `routec train --from-log URL --since 90d`: retrain the intent model on
//! the tickets `routec serve` decided and humans resolved, each labelled by
//! the destination a human finally chose, and keep the new model only when
//! it beats the current one on the same holdout.
//!
//! The log is the report's ([`Log`]: the decisions of the window and their
//! outcomes), so the window is on decision time, as `routec report`'s; the
//! tickets are flattened into dotted paths (`customer.tier`) as the
//! classifier's datasets are; training is `routec_classifier::train` with
//! a stratified holdout. Both models predict the same holdout rows and are
//! scored over the same label list (a current-model label the log never
//! saw counts as a wrong answer), so the comparison is like for like. The
//! candidate wins only with a strictly higher accuracy; a tie keeps the
//! model that is already serving.

use crate::render::{Bar, Cell, Chart, Document, Figure, Section, Table, Unit};
use crate::report::Log;
use jiff::Timestamp;
use routec_classifier::{evaluate, predict_outcomes, train, DataError, Dataset, Metrics, Model, Outcome, TrainOptions};
use routec_store::{StoredDecision, StoredOutcome};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// The dataset column holding the label: not a path a ticket field can have.
pub const LABEL_COLUMN: &str = "@final_destination";

/// What the current model's unknown answers are scored as.
const OTHER: &str = "(other)";

/// A resolved ticket of the log and where a human finally routed it.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// The ticket as routec decided it (redacted as it was logged).
    pub ticket: serde_json::Value,
    /// routec's destination for it.
    pub decided: Option<String>,
    /// The destination a human finally chose.
    pub final_destination: String,
}

/// The resolved tickets with a final destination decided in `[from, to)`,
/// each with the decision its outcome names (else the ticket's latest
/// decision); a ticket resolved more than once (reopened) counts once, at
/// its last outcome.
pub fn resolved(log: &Log, from: Timestamp, to: Timestamp) -> Vec<Resolved> {
    let window: Vec<&StoredDecision> =
        log.decisions.iter().filter(|d| from <= d.decided_at && d.decided_at < to).collect();
    let by_id: HashMap<&str, &StoredDecision> = window.iter().map(|d| (d.id.as_str(), *d)).collect();
    let mut latest: HashMap<&str, &StoredDecision> = HashMap::new();
    for d in window.iter().copied() {
        let Some(ticket) = d.ticket_id.as_deref() else { continue };
        let later = latest.get(ticket).is_none_or(|l| (l.decided_at, &l.id) < (d.decided_at, &d.id));
        if later {
            latest.insert(ticket, d);
        }
    }
    let mut outcomes: Vec<&StoredOutcome> = log.outcomes.iter().filter(|o| o.outcome.resolved).collect();
    outcomes.sort_by(|a, b| (a.outcome.recorded_at, &a.id).cmp(&(b.outcome.recorded_at, &b.id)));
    let mut last: HashMap<&str, &StoredOutcome> = HashMap::new();
    for o in &outcomes {
        last.insert(o.outcome.ticket_id.as_str(), o);
    }
    outcomes
        .into_iter()
        .filter(|o| last.get(o.outcome.ticket_id.as_str()).is_some_and(|l| l.id == o.id))
        .filter_map(|o| {
            let final_destination = o.outcome.final_destination.clone()?;
            let decision = match &o.outcome.decision_id {
                Some(id) => by_id.get(id.as_str()),
                None => latest.get(o.outcome.ticket_id.as_str()),
            }?;
            Some(Resolved { ticket: decision.ticket.clone(), decided: decision.destination.clone(), final_destination })
        })
        .collect()
}

/// The tickets as a training dataset: every scalar at its dotted path,
/// lists of scalars joined by commas, the label in [`LABEL_COLUMN`].
pub fn dataset(tickets: &[Resolved]) -> Dataset {
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
    tickets: &[Resolved],
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
        reassigned: tickets.iter().filter(|t| t.decided.as_deref() != Some(&t.final_destination)).count(),
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
        let names: Vec<String> =
            self.labels.iter().map(|row| format!("{} ({}, {})", row.label, row.tickets, row.holdout)).collect();
        let width = names.iter().map(|n| n.chars().count()).chain([24]).max().unwrap_or(24);
        let _ = writeln!(out, "{:<width$} {:>10} {:>10}", "", "current", "candidate");
        let current = self.current.as_ref();
        let figures = [
            ("accuracy", current.map(|c| c.accuracy), self.candidate.accuracy),
            ("macro F1", current.map(|c| c.macro_f1), self.candidate.macro_f1),
            ("calibration error", current.map(|c| c.ece), self.candidate.ece),
        ];
        for (name, current, candidate) in figures {
            let current = current.map_or("-".to_string(), |v| format!("{v:.3}"));
            let _ = writeln!(out, "{name:<width$} {current:>10} {candidate:>10.3}");
        }
        let _ = writeln!(out, "\nF1 per final destination (tickets, of them in the holdout)");
        for (row, name) in self.labels.iter().zip(&names) {
            let cur = row.current_f1.map_or("-".to_string(), |f| format!("{f:.3}"));
            let _ = writeln!(out, "{name:<width$} {cur:>10} {:>10.3}", row.candidate_f1);
        }
        let verdict = if self.written { "wrote the candidate" } else { "kept the current model" };
        let _ = writeln!(out, "\n{verdict}: {}", self.reason);
        out
    }
}

impl RetrainReport {
    /// The report as a document, for `--html`: both models side by side and
    /// the change of F1 per final destination.
    pub fn document(&self) -> Document {
        let verdict = if self.written { "wrote the candidate" } else { "kept the current model" };
        let mut doc =
            Document::new("routec train --from-log").with_subtitle(format!("resolved tickets since {}", self.since));
        doc.push(
            Section::new("data", "The log")
                .with_figures(vec![
                    Figure::new("tickets", "resolved tickets", self.tickets as i64, Unit::Count),
                    Figure::new("reassigned", "routed elsewhere by a human", self.reassigned as i64, Unit::Count),
                    Figure::new("holdout", "holdout tickets", self.candidate.rows as i64, Unit::Count),
                ])
                .with_text(format!("{verdict}: {}", self.reason)),
        );
        let mut models = Table::new("models")
            .with_column("figure", "on the holdout", Unit::Text)
            .with_column("current", "current", Unit::Number)
            .with_column("candidate", "candidate", Unit::Number);
        let current = |f: fn(&Figures) -> f64| self.current.as_ref().map(f);
        for (name, get) in [
            ("accuracy", (|f: &Figures| f.accuracy) as fn(&Figures) -> f64),
            ("macro F1", |f: &Figures| f.macro_f1),
            ("calibration error", |f: &Figures| f.ece),
        ] {
            models.push_row(vec![Cell::Text(name.into()), Cell::from(current(get)), Cell::from(get(&self.candidate))]);
        }
        let mut labels = Table::new("labels")
            .with_column("label", "final destination", Unit::Text)
            .with_column("tickets", "tickets", Unit::Count)
            .with_column("holdout", "in the holdout", Unit::Count)
            .with_column("current_f1", "current F1", Unit::Number)
            .with_column("candidate_f1", "candidate F1", Unit::Number);
        for row in &self.labels {
            labels.push_row(vec![
                Cell::Text(row.label.clone()),
                Cell::from(row.tickets),
                Cell::from(row.holdout),
                Cell::from(row.current_f1),
                Cell::from(row.candidate_f1),
            ]);
        }
        let bars: Vec<Bar> = self
            .labels
            .iter()
            .map(|row| {
                let change = row.candidate_f1 - row.current_f1.unwrap_or(0.0);
                Bar::new(row.label.clone(), change).highlighted(change < 0.0)
            })
            .collect();
        let title = if self.current.is_some() {
            "F1 change per final destination (candidate − current)"
        } else {
            "F1 per final destination (no current model)"
        };
        doc.push(
            Section::new("models", "Current and candidate model")
                .with_table(models)
                .with_chart(Chart::bar("f1_change", title, Unit::Number, bars))
                .with_table(labels),
        );
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::LogRecord;

    fn decision(id: &str, ticket: &str, at: &str, destination: &str) -> LogRecord {
        serde_json::from_value(serde_json::json!({"decision": {
            "id": id, "ticket_id": ticket, "dedup_key": id, "content_hash": "h", "policy_hash": "p",
            "policy_name": "acme", "policy_version": 1, "decided_at": at, "destination": destination,
            "priority": "P3", "escalation": null, "decision": {}, "shadow": null,
            "ticket": {"id": ticket, "subject": format!("subject of {id}"), "customer": {"tier": "pro"}, "tags": ["a", "b"]},
        }}))
        .expect("a decision row")
    }

    fn outcome(
        id: &str,
        ticket: &str,
        decision: Option<&str>,
        at: &str,
        to: Option<&str>,
        resolved: bool,
    ) -> LogRecord {
        serde_json::from_value(serde_json::json!({"outcome": {
            "id": id, "ticket_id": ticket, "decision_id": decision, "final_destination": to,
            "reassignments": 1, "first_assigned_at": null, "first_response_at": null, "resolved_at": null,
            "resolved": resolved, "recorded_at": at, "source": "api",
        }}))
        .expect("an outcome row")
    }

    fn time(text: &str) -> Timestamp {
        text.parse().expect("a time")
    }

    #[test]
    fn resolved_tickets_take_the_named_decision_and_their_last_outcome() {
        let mut log = Log::default();
        for record in [
            decision("dec_1", "T-1", "2026-01-02T10:00:00Z", "billing"),
            decision("dec_2", "T-1", "2026-01-03T10:00:00Z", "tech"),
            decision("dec_3", "T-2", "2026-01-02T10:00:00Z", "tech"),
            decision("dec_4", "T-3", "2025-12-01T10:00:00Z", "tech"),
            decision("dec_5", "T-4", "2026-01-02T10:00:00Z", "tech"),
            // T-1: resolved to billing, reopened, resolved again to finance;
            // the outcome names no decision, so the latest one counts.
            outcome("out_1", "T-1", None, "2026-01-04T10:00:00Z", Some("billing"), true),
            outcome("out_2", "T-1", None, "2026-01-05T10:00:00Z", Some("finance"), true),
            // T-2 names its decision; T-3 was decided before the window;
            // T-4 is still open.
            outcome("out_3", "T-2", Some("dec_3"), "2026-01-04T10:00:00Z", Some("tech"), true),
            outcome("out_4", "T-3", Some("dec_4"), "2026-01-04T10:00:00Z", Some("tech"), true),
            outcome("out_5", "T-4", Some("dec_5"), "2026-01-04T10:00:00Z", Some("billing"), false),
        ] {
            log.push(record);
        }
        let found = resolved(&log, time("2026-01-01T00:00:00Z"), time("2026-02-01T00:00:00Z"));
        let summary: Vec<(&str, Option<&str>, &str)> = found
            .iter()
            .map(|r| {
                (r.ticket["subject"].as_str().unwrap_or_default(), r.decided.as_deref(), r.final_destination.as_str())
            })
            .collect();
        assert_eq!(
            summary,
            [("subject of dec_3", Some("tech"), "tech"), ("subject of dec_2", Some("tech"), "finance")]
        );
        let data = dataset(&found);
        assert_eq!(data.field(1, "customer.tier"), Some("pro"));
        assert_eq!(data.field(1, "tags"), Some("a,b"));
        assert_eq!(data.field(1, LABEL_COLUMN), Some("finance"));
    }
}
