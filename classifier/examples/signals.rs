//! Measures the `language` and `sentiment` signals (the figures quoted in
//! docs/classifier.md).
//!
//! ```text
//! cargo run --release -p routec-classifier --example signals -- [../shared/data/support-tickets.csv]
//! ```
//!
//! Always measures the hand-labelled sentences shipped in `tests/data/`; when
//! the shared CSV (with `subject, body, language, priority, type` columns) is
//! given and present, also language accuracy on it and mean sentiment by
//! priority and type.

use std::collections::BTreeMap;
use std::path::PathBuf;

use routec_classifier::{detect_language, sentiment, Dataset};

fn rows(tsv: &str) -> Vec<(&str, &str)> {
    tsv.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).filter_map(|l| l.split_once('\t')).collect()
}

fn polarity(score: f64) -> &'static str {
    if score >= 0.05 {
        "pos"
    } else if score <= -0.05 {
        "neg"
    } else {
        "neu"
    }
}

fn main() {
    let sentences = rows(include_str!("../tests/data/sentiment.tsv"));
    let mut by_label: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (label, text) in &sentences {
        let entry = by_label.entry(label).or_default();
        entry.1 += 1;
        if polarity(sentiment(text)) == *label {
            entry.0 += 1;
        }
    }
    let right: usize = by_label.values().map(|v| v.0).sum();
    println!("sentiment polarity on {} hand-labelled sentences: {right}/{} right", sentences.len(), sentences.len());
    for (label, (ok, n)) in &by_label {
        println!("  {label}: {ok}/{n}");
    }
    let langs = rows(include_str!("../tests/data/language.tsv"));
    let lang_right = langs.iter().filter(|(l, t)| detect_language(t) == *l).count();
    println!(
        "language on {} hand-written sentences (fr, es, short en/de, und): {lang_right}/{} right",
        langs.len(),
        langs.len()
    );

    let Some(path) = std::env::args().nth(1).map(PathBuf::from) else { return };
    if !path.exists() {
        println!("skipped: {} is absent", path.display());
        return;
    }
    let data = Dataset::load(&[path]).expect("data loads");
    let mut confusion: BTreeMap<(String, &str), usize> = BTreeMap::new();
    let mut by_priority: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let mut by_type: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let mut total = 0usize;
    let mut correct = 0usize;
    for row in 0..data.len() {
        let text = [data.field(row, "subject"), data.field(row, "body")]
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        if let Some(gold) = data.field(row, "language") {
            let predicted = detect_language(&text);
            *confusion.entry((gold.to_owned(), predicted)).or_default() += 1;
            total += 1;
            correct += usize::from(predicted == gold);
        }
        let score = sentiment(&text);
        for (key, map) in [("priority", &mut by_priority), ("type", &mut by_type)] {
            if let Some(value) = data.field(row, key) {
                let entry = map.entry(value.to_owned()).or_default();
                entry.0 += score;
                entry.1 += 1;
            }
        }
    }
    println!("language on the shared CSV: {correct}/{total} = {:.2} %", 100.0 * correct as f64 / total as f64);
    for ((gold, predicted), n) in &confusion {
        println!("  gold {gold} -> {predicted}: {n}");
    }
    for (name, map) in [("priority", &by_priority), ("type", &by_type)] {
        println!("mean sentiment by {name}:");
        for (value, (sum, n)) in map {
            println!("  {value:<10} {:+.3}  (n = {n})", sum / *n as f64);
        }
    }
}
