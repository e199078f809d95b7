//! `routec init --from HISTORY`: a starter policy written from a ticket
//! history, which `routec check` and `routec test` accept as written. The
//! ticket schema comes from the columns (types inferred from the values),
//! an intent classifier is trained on the categories, each category gets a
//! keyword set of its most discriminative terms (used when the classifier
//! is unsure), the matrix sends each category × tier to the destination
//! that most often resolved those tickets, and the `test` blocks are real
//! tickets of the history with the destination the matrix gives them.

use crate::history::{self, Opened, RecordError, Row};
use crate::terms::TermCounts;
use routec_classifier::{Dataset, Model, TrainOptions};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::BufRead;

/// How the starter policy is written.
#[derive(Clone, Debug)]
pub struct Options {
    /// The policy's name.
    pub name: String,
    /// Where the policy will find the model, relative to the policy.
    pub model_path: String,
    /// Terms per keyword set.
    pub keywords: usize,
    /// `test` blocks per category.
    pub tests_per_category: usize,
    /// Tickets kept to train the classifier and pick tests from.
    pub sample: usize,
    /// Below this confidence the keyword sets decide.
    pub threshold: f64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            name: "starter".into(),
            model_path: "models/intent.model".into(),
            keywords: 8,
            tests_per_category: 2,
            sample: 20_000,
            threshold: 0.6,
        }
    }
}

/// Why no starter policy can be written.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The history cannot be read.
    #[error("cannot read the history: {0}")]
    Io(#[from] std::io::Error),
    /// The history lacks what a starter policy is made from.
    #[error("{0}")]
    Insufficient(String),
    /// The classifier could not be trained.
    #[error("cannot train the intent model: {0}")]
    Classifier(#[from] routec_classifier::DataError),
}

/// The starter policy and what it was made from.
pub struct Starter {
    /// The policy's text.
    pub policy: String,
    /// The intent model the policy's classifier reads.
    pub model: Model,
    /// What was inferred, for the summary.
    pub summary: Summary,
}

/// What `init` inferred, for people to check.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    /// Rows read.
    pub tickets: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Ticket fields: (path, type as written in the policy).
    pub fields: Vec<(String, String)>,
    /// Columns left out of the schema, and why.
    pub skipped_columns: Vec<(String, String)>,
    /// Per category: its destination per tier (or `_`) and its keywords.
    pub categories: Vec<CategorySummary>,
    /// Tests written.
    pub tests: usize,
}

/// One category of the starter policy.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CategorySummary {
    /// The label in the policy.
    pub label: String,
    /// Its tickets.
    pub tickets: u64,
    /// (tier, destination) rows of the matrix; tier `_` when the history has no tiers.
    pub routes: Vec<(String, String)>,
    /// Its keyword set.
    pub keywords: Vec<String>,
}

/// What is known about one column's values.
#[derive(Clone, Debug, Default)]
struct ColumnStats {
    filled: u64,
    empty: u64,
    ints: u64,
    numbers: u64,
    bools: u64,
    times: u64,
    length: u64,
    distinct: BTreeSet<String>,
    too_many: bool,
}

const ENUM_MAX: usize = 12;

impl ColumnStats {
    fn add(&mut self, value: Option<&str>) {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            self.empty += 1;
            return;
        };
        self.filled += 1;
        self.length += v.chars().count() as u64;
        self.ints += u64::from(v.parse::<i64>().is_ok());
        self.numbers += u64::from(v.parse::<f64>().is_ok_and(f64::is_finite));
        self.bools += u64::from(matches!(v.to_ascii_lowercase().as_str(), "true" | "false"));
        self.times += u64::from(history::parse_time(v).is_some());
        if !self.too_many {
            self.distinct.insert(v.to_string());
            if self.distinct.len() > ENUM_MAX {
                self.too_many = true;
                self.distinct.clear();
            }
        }
    }

    /// The field type, as written in a policy.
    fn ty(&self, text: bool) -> Option<String> {
        let n = self.filled;
        if n == 0 {
            return None;
        }
        let optional = if self.empty > 0 { "?" } else { "" };
        let base = if text {
            "text".to_string()
        } else if self.times == n {
            "time".to_string()
        } else if self.bools == n {
            "bool".to_string()
        } else if self.ints == n {
            "int".to_string()
        } else if self.numbers == n {
            "number".to_string()
        } else if !self.too_many && self.distinct.len() >= 2 && self.distinct.iter().all(|v| is_ident(v)) && n >= 20 {
            self.distinct.iter().cloned().collect::<Vec<_>>().join(" | ")
        } else if self.length / n > 40 {
            "text".to_string()
        } else {
            "string".to_string()
        };
        Some(format!("{base}{optional}"))
    }
}

/// Words a policy reserves, which no name may be.
const RESERVED: &[&str] = &[
    "when",
    "and",
    "or",
    "not",
    "in",
    "has",
    "matches",
    "starts_with",
    "ends_with",
    "contains",
    "true",
    "false",
    "default",
];

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&s)
}

/// `s` as a policy name: lower-case ASCII letters, digits and `_`.
pub fn identifier(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || RESERVED.contains(&out.as_str()) {
        format!("x_{out}")
    } else {
        out
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Training {
    texts: Vec<(String, String)>,
    category: String,
    tier: Option<String>,
}

struct Example {
    line: u64,
    id: String,
    created: Option<String>,
    category: String,
    tier: Option<String>,
    values: Vec<(usize, String)>,
}

/// Write a starter policy from `opened`.
pub fn init<R: BufRead>(opened: Opened<R>, options: &Options) -> Result<Starter, InitError> {
    let Opened { reader, records, .. } = opened;
    let Some(header) = reader.header().cloned() else {
        return Err(InitError::Insufficient(
            "`init --from` reads a CSV history: its header names the ticket fields".into(),
        ));
    };
    let category_column = reader
        .category_column()
        .cloned()
        .ok_or_else(|| InitError::Insufficient(format!(
            "the history has no category column `{}`; name it with `--column category=COLUMN` (or run `routec audit` for a proposal)",
            reader.mapping().columns.category
        )))?;
    if reader.text_columns().is_empty() {
        return Err(InitError::Insufficient(
            "the history has no text columns; name them with `--column text=A,B`".into(),
        ));
    }
    let m = &reader.mapping().columns;
    let mut outcome_columns: BTreeMap<String, &str> = BTreeMap::new();
    for (column, why) in [
        (&m.category, "the category (the classifier's label)"),
        (&m.first_destination, "what humans did"),
        (&m.final_destination, "what humans did"),
        (&m.reassignments, "what humans did"),
        (&m.first_assigned_at, "what humans did"),
        (&m.resolved_at, "what humans did"),
    ] {
        outcome_columns.insert(column.clone(), why);
    }
    for column in reader.mapping().sla.values() {
        outcome_columns.insert(column.clone(), "what humans did");
    }
    let text_names: Vec<String> = reader.text_columns().iter().map(|c| c.name().to_string()).collect();
    if let Some(bad) = text_names.iter().find(|n| !n.split('.').all(is_ident)) {
        return Err(InitError::Insufficient(format!(
            "the text column `{bad}` is not a policy field name (letters, digits and `_`, dotted): rename it in the export"
        )));
    }
    let names = header.names().to_vec();
    let columns: Vec<history::Column> = names.iter().map(|n| reader.column(n)).collect();
    let mut stats = vec![ColumnStats::default(); names.len()];
    let mut routes: BTreeMap<(String, String), BTreeMap<String, u64>> = BTreeMap::new();
    let mut volume: BTreeMap<String, u64> = BTreeMap::new();
    let mut terms = TermCounts::default();
    let mut examples: BTreeMap<String, Vec<Example>> = BTreeMap::new();
    let mut training: Vec<Training> = Vec::new();
    let (mut read, mut rejected) = (0u64, 0u64);
    let tier_column = reader.column(&m.tier);
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(RecordError::Io(e)) => return Err(InitError::Io(e)),
            Err(RecordError::Rejected(_)) => {
                rejected += 1;
                continue;
            }
        };
        let Ok(row) = Row::parse(&record, Some(&header)) else {
            rejected += 1;
            continue;
        };
        if row.is_blank() {
            continue;
        }
        read += 1;
        let Ok(outcome) = reader.outcome(&row, record.line) else {
            rejected += 1;
            continue;
        };
        let cells: Vec<Option<String>> = columns.iter().map(|c| reader.cell(c, &row)).collect();
        for (s, cell) in stats.iter_mut().zip(&cells) {
            s.add(cell.as_deref());
        }
        let Some(category) = reader.cell(&category_column, &row).map(|c| identifier(&c)) else { continue };
        *volume.entry(category.clone()).or_default() += 1;
        let text = reader.text(&row);
        terms.add(&category, &text);
        let tier = reader.cell(&tier_column, &row);
        if let Some(dest) = &outcome.final_destination {
            let key = (category.clone(), tier.clone().unwrap_or_else(|| "_".into()));
            *routes.entry(key).or_default().entry(identifier(dest)).or_default() += 1;
        }
        if training.len() < options.sample {
            let texts = reader
                .text_columns()
                .iter()
                .filter_map(|c| c.text(&row).map(|v| (c.name().to_string(), v.into_owned())))
                .collect();
            training.push(Training { texts, category: category.clone(), tier: tier.clone() });
        }
        let kept = examples.entry(category.clone()).or_default();
        // Keep a few candidates spread over the history: the first and then every 50th.
        if kept.len() < options.tests_per_category * 4 && (kept.is_empty() || volume[&category].is_multiple_of(50)) {
            kept.push(Example {
                line: record.line,
                id: outcome.id.clone().unwrap_or_else(|| format!("line {}", record.line)),
                created: outcome.created_at.map(|t| t.to_string()),
                category: category.clone(),
                tier,
                values: cells.iter().enumerate().filter_map(|(i, c)| c.clone().map(|c| (i, c))).collect(),
            });
        }
    }
    if volume.len() < 2 {
        return Err(InitError::Insufficient(format!(
            "the history has {} categor{} in `{}`; a classifier needs at least two",
            volume.len(),
            if volume.len() == 1 { "y" } else { "ies" },
            category_column.name()
        )));
    }
    if routes.is_empty() {
        return Err(InitError::Insufficient(format!(
            "the history has no final destinations (`{}`): nothing says where tickets should go",
            m.final_destination
        )));
    }

    // The schema.
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut skipped = Vec::new();
    let mut field_of_column: HashMap<usize, (String, String)> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        if let Some(why) = outcome_columns.get(name) {
            skipped.push((name.clone(), (*why).to_string()));
            continue;
        }
        let path = reader.mapping().fields.iter().find(|(_, c)| *c == name).map_or(name.clone(), |(f, _)| f.clone());
        if !path.split('.').all(is_ident) {
            skipped.push((name.clone(), "not a policy name (letters, digits and `_`, dotted)".into()));
            continue;
        }
        match stats[i].ty(text_names.contains(name)) {
            Some(ty) => {
                field_of_column.insert(i, (path.clone(), ty.clone()));
                fields.push((path, ty));
            }
            None => skipped.push((name.clone(), "always empty".into())),
        }
    }
    let tier_field = field_of_column
        .iter()
        .find(|(i, _)| names[**i] == m.tier)
        .map(|(_, (path, ty))| (path.clone(), ty.clone()))
        .filter(|(_, ty)| ty.contains('|') && !ty.ends_with('?'));
    let tiers: Vec<String> = match &tier_field {
        Some((_, ty)) => ty.split(" | ").map(str::to_string).collect(),
        None => Vec::new(),
    };

    // The matrix: per category and tier, the most common final destination;
    // a tier never seen with a category takes the category's most common.
    let labels: Vec<String> = volume.keys().cloned().collect();
    let mut destinations = BTreeSet::new();
    let mut categories = Vec::new();
    let mut matrix = String::new();
    for label in &labels {
        let mut overall: BTreeMap<String, u64> = BTreeMap::new();
        for ((c, _), dests) in &routes {
            if c == label {
                for (d, n) in dests {
                    *overall.entry(d.clone()).or_default() += n;
                }
            }
        }
        let most = |counts: &BTreeMap<String, u64>| {
            counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(d, _)| d.clone())
        };
        let fallback = most(&overall).unwrap_or_else(|| "triage".into());
        let mut cells: Vec<(String, String)> = Vec::new();
        if tiers.is_empty() {
            cells.push(("_".into(), fallback.clone()));
        } else {
            for tier in &tiers {
                let dest =
                    routes.get(&(label.clone(), tier.clone())).and_then(&most).unwrap_or_else(|| fallback.clone());
                cells.push((tier.clone(), dest));
            }
        }
        let mut by_dest: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (tier, dest) in &cells {
            by_dest.entry(dest.as_str()).or_default().push(tier.as_str());
            destinations.insert(dest.clone());
        }
        for (dest, tiers_of) in by_dest {
            if tiers.is_empty() {
                let _ = writeln!(matrix, "  {label} -> {dest}");
            } else {
                let _ = writeln!(matrix, "  {label}, {} -> {dest}", tiers_of.join(" | "));
            }
        }
        categories.push(CategorySummary {
            label: label.clone(),
            tickets: volume[label],
            routes: cells,
            keywords: terms.discriminative(label, options.keywords),
        });
    }

    // The classifier reads the ticket's own fields: the text columns and the tier.
    let tier_path = tier_field.as_ref().map(|(path, _)| path.clone());
    let mut records: Vec<Vec<(&str, &str)>> = Vec::with_capacity(training.len());
    for t in &training {
        let mut r: Vec<(&str, &str)> = t.texts.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        r.push(("intent", t.category.as_str()));
        if let (Some(tier), Some(path)) = (&t.tier, &tier_path) {
            r.push((path.as_str(), tier.as_str()));
        }
        records.push(r);
    }
    let data = Dataset::from_records(records);
    let mut train_options = TrainOptions::new(text_names.clone(), tier_path.iter().cloned().collect(), "intent".into());
    train_options.holdout = 0.0;
    let model = routec_classifier::train(&data, &train_options, None)?.model;

    // The policy text.
    let mut p = String::new();
    let _ = writeln!(
        p,
        "# A starter policy written by `routec init --from` from {read} past tickets.\n\
         # Read it, rename what needs renaming, set opening hours and SLAs, and\n\
         # check the matrix: it sends each category and tier where humans most\n\
         # often resolved those tickets.\n"
    );
    let _ = writeln!(p, "policy {} version 1", quote(&options.name));
    let _ = writeln!(p, "mode enforce\n");
    let _ = writeln!(p, "ticket {{");
    write_schema(&mut p, &fields, 1);
    let _ = writeln!(p, "}}\n");
    let _ = writeln!(p, "# Where the history's tickets were resolved.");
    for dest in &destinations {
        let _ = writeln!(p, "team {dest}");
    }
    let _ = writeln!(p, "queue triage  # tickets nothing else decides\n");
    let _ = writeln!(p, "# Each category's most discriminative terms in the history.");
    for c in &categories {
        if !c.keywords.is_empty() {
            let list = c.keywords.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ");
            let _ = writeln!(p, "keywords {}_terms = [{list}]", c.label);
        }
    }
    let features: Vec<String> = text_names.iter().cloned().chain(tier_path.iter().cloned()).collect();
    let _ = writeln!(p, "\n# Trained by `routec init` on the history's categories.");
    let _ = writeln!(p, "classifier intent from {} {{", quote(&options.model_path));
    let _ = writeln!(p, "  labels {}", labels.join(", "));
    let _ = writeln!(p, "  features {}", features.join(", "));
    let _ = writeln!(p, "  threshold {}", options.threshold);
    let _ = writeln!(p, "}}\n");
    let _ = writeln!(p, "# When the classifier is unsure, a category's own terms decide.");
    for c in &categories {
        if c.keywords.is_empty() {
            continue;
        }
        let dest = most_common_route(&c.routes);
        let _ = writeln!(
            p,
            "rule {}_by_terms when confidence < threshold and text has {}_terms -> {dest}",
            c.label, c.label
        );
    }
    let _ = writeln!(p, "\n# Category x tier: where humans most often resolved those tickets.");
    match &tier_field {
        Some((path, _)) => {
            let _ = writeln!(p, "matrix intent, {path} {{");
        }
        None => {
            let _ = writeln!(p, "matrix intent {{");
        }
    }
    p.push_str(&matrix);
    let _ = writeln!(p, "}}\n");
    let _ = writeln!(p, "# Without an intent (no model output, no `signals`), a human triages.");
    let _ = writeln!(p, "otherwise -> triage\n");

    // Tests: real tickets with the destination the matrix gives them.
    let mut tests = 0;
    for c in &categories {
        for e in examples.get(&c.label).into_iter().flatten().take(options.tests_per_category) {
            let dest = match (&e.tier, tiers.is_empty()) {
                (Some(t), false) => c.routes.iter().find(|(tier, _)| tier == t).map(|(_, d)| d.clone()),
                _ => c.routes.first().map(|(_, d)| d.clone()),
            };
            let Some(dest) = dest else { continue };
            let _ = writeln!(p, "test {} {{", quote(&format!("{}: {} (line {})", e.category, e.id, e.line)));
            let mut entries = Vec::new();
            for (i, value) in &e.values {
                let Some((path, ty)) = field_of_column.get(i) else { continue };
                entries.push(format!("{path}: {}", literal(ty, value)));
            }
            let _ = writeln!(p, "  ticket {{ {} }}", entries.join(", "));
            let _ = writeln!(p, "  signals {{ intent: {}, confidence: 0.95 }}", e.category);
            if let Some(at) = &e.created {
                let _ = writeln!(p, "  at {}", quote(at));
            }
            let _ = writeln!(p, "  expect {dest}");
            let _ = writeln!(p, "}}\n");
            tests += 1;
        }
    }
    Ok(Starter {
        policy: p.trim_end().to_string() + "\n",
        model,
        summary: Summary { tickets: read, rejected, fields, skipped_columns: skipped, categories, tests },
    })
}

fn most_common_route(routes: &[(String, String)]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, d) in routes {
        *counts.entry(d.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map_or_else(|| "triage".into(), |(d, _)| d.to_string())
}

/// A value as a policy literal of type `ty`.
fn literal(ty: &str, value: &str) -> String {
    let base = ty.trim_end_matches('?');
    match base {
        "int" | "number" | "bool" => value.trim().to_ascii_lowercase(),
        "text" | "string" | "time" => quote(value),
        _ => value.trim().to_string(),
    }
}

/// The schema's fields, nested by their dotted paths.
fn write_schema(out: &mut String, fields: &[(String, String)], depth: usize) {
    let indent = "  ".repeat(depth);
    let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for (path, ty) in fields {
        match path.split_once('.') {
            None => {
                let _ = writeln!(out, "{indent}{path}: {ty}");
            }
            Some((head, rest)) => match groups.iter_mut().find(|(h, _)| h == head) {
                Some((_, list)) => list.push((rest.to_string(), ty.clone())),
                None => groups.push((head.to_string(), vec![(rest.to_string(), ty.clone())])),
            },
        }
    }
    for (head, list) in groups {
        let _ = writeln!(out, "{indent}{head} {{");
        write_schema(out, &list, depth + 1);
        let _ = writeln!(out, "{indent}}}");
    }
}

impl Summary {
    /// What was inferred, as a document: the terminal summary, `--json` and `--html`.
    pub fn document(&self, history: &str, written: &str) -> crate::render::Document {
        use crate::render::{Bar, Chart, Document, Figure, Section, Table, Unit};
        let mut doc = Document::new(format!("routec init --from {history}"))
            .with_subtitle(format!("{written}: a starter policy from {} tickets", self.tickets));
        doc.push(Section::new("overview", "What the policy was made from").with_figures(vec![
            Figure::new("tickets", "tickets read", self.tickets, Unit::Count),
            Figure::new("rejected", "rows rejected", self.rejected, Unit::Count),
            Figure::new("categories", "categories", self.categories.len(), Unit::Count),
            Figure::new("tests", "tests written", self.tests, Unit::Count),
        ]));
        let mut routes = Table::new("matrix")
            .with_column("category", "category", Unit::Text)
            .with_column("tickets", "tickets", Unit::Count)
            .with_column("routes", "tier → destination", Unit::Text)
            .with_column("keywords", "keywords", Unit::Text)
            .with_note("each tier goes where humans most often resolved the category's tickets");
        let mut bars = Vec::new();
        for c in &self.categories {
            let cells = c.routes.iter().map(|(t, d)| format!("{t} → {d}")).collect::<Vec<_>>().join(", ");
            routes.push_row(vec![
                c.label.as_str().into(),
                c.tickets.into(),
                cells.into(),
                c.keywords.join(", ").into(),
            ]);
            bars.push(Bar::new(c.label.clone(), c.tickets as f64));
        }
        doc.push(
            Section::new("categories", "Categories, their routes and keywords")
                .with_chart(Chart::bar("category_volume", "Tickets per category", Unit::Count, bars))
                .with_table(routes),
        );
        let mut fields =
            Table::new("schema").with_column("field", "field", Unit::Text).with_column("type", "type", Unit::Text);
        for (path, ty) in &self.fields {
            fields.push_row(vec![path.as_str().into(), ty.as_str().into()]);
        }
        let mut skipped = Table::new("skipped_columns")
            .with_title("Columns left out of the schema")
            .with_column("column", "column", Unit::Text)
            .with_column("why", "why", Unit::Text);
        for (column, why) in &self.skipped_columns {
            skipped.push_row(vec![column.as_str().into(), why.as_str().into()]);
        }
        doc.push(Section::new("schema", "The ticket schema, from the columns").with_table(fields).with_table(skipped));
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_policy_names() {
        assert_eq!(identifier("Billing Team"), "billing_team");
        assert_eq!(identifier("2nd line"), "x_2nd_line");
        assert_eq!(identifier("when"), "x_when");
        assert_eq!(identifier("Tier-2 (EU)"), "tier_2_eu");
    }

    #[test]
    fn column_types_follow_the_values() {
        let ty = |values: &[&str]| {
            let mut s = ColumnStats::default();
            for _ in 0..10 {
                for v in values {
                    s.add(Some(*v).filter(|v| !v.is_empty()));
                }
            }
            s.ty(false)
        };
        assert_eq!(ty(&["1", "20"]).as_deref(), Some("int"));
        assert_eq!(ty(&["1.5", "2"]).as_deref(), Some("number"));
        assert_eq!(ty(&["true", "False"]).as_deref(), Some("bool"));
        assert_eq!(ty(&["2026-11-24T10:00:00Z"]).as_deref(), Some("time"));
        assert_eq!(ty(&["free", "pro", ""]).as_deref(), Some("free | pro?"));
        assert_eq!(ty(&["Free plan", "Pro"]).as_deref(), Some("string"));
    }

    #[test]
    fn nested_fields_become_blocks() {
        let mut out = String::new();
        write_schema(
            &mut out,
            &[
                ("id".into(), "string".into()),
                ("customer.tier".into(), "free | pro".into()),
                ("customer.seats".into(), "int".into()),
            ],
            1,
        );
        assert_eq!(out, "  id: string\n  customer {\n    tier: free | pro\n    seats: int\n  }\n");
    }
}
