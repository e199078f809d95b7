//! `routec train --from-log` end to end, on the decision log `report.rs`
//! builds from the shipped history (final destinations are the humans'
//! choices): a first run writes the model; a run whose candidate only ties
//! the current model keeps the current one (the file is not touched); a
//! candidate that beats a worse current model replaces it; `--html` writes
//! the side-by-side comparison with its chart.

use serde_json::Value;

use crate::harness::run;
use crate::report::{write_log, NOW};

fn train(log: &str, out: &str, extra: &[&str]) -> Value {
    let mut args = vec!["train", "--from-log", log, "--since", "60d", "--now", NOW, "--out", out, "--json"];
    args.extend_from_slice(extra);
    let run = run(&args, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("--json prints JSON")
}

#[test]
fn a_first_model_is_written_and_a_tie_keeps_it() {
    let (dir, log) = write_log();
    let log = log.to_string_lossy().into_owned();
    let model = dir.path().join("routing.model");
    let model_arg = model.to_string_lossy().into_owned();

    let first = train(&log, &model_arg, &[]);
    assert_eq!(first["report"]["written"], true);
    assert_eq!(first["report"]["reason"], "no current model");
    // The model file is a temporary one; the rest is the reviewed report.
    insta::assert_json_snapshot!(first["report"]);
    let written = std::fs::read(&model).expect("the first run writes the model");

    // The same data, the same seed: the candidate ties the model at --out,
    // which therefore stays as it was.
    let second = train(&log, &model_arg, &[]);
    assert_eq!(second["report"]["written"], false, "{:#}", second["report"]);
    assert_eq!(second["report"]["current"], first["report"]["candidate"]);
    assert_eq!(std::fs::read(&model).expect("the model is still there"), written);
}

#[test]
fn a_candidate_that_beats_the_current_model_replaces_it() {
    let (dir, log) = write_log();
    let log = log.to_string_lossy().into_owned();
    let out = dir.path().join("routing.model");
    let out_arg = out.to_string_lossy().into_owned();
    let html = dir.path().join("train.html");
    let html_arg = html.to_string_lossy().into_owned();
    // The shipped model predicts intents, not final destinations: it scores
    // little on the holdout, and the candidate trained on the log beats it.
    let current = "examples/saas-b2b/models/intent.model";
    let report = train(&log, &out_arg, &["--compare", current, "--html", &html_arg]);
    let (candidate, old) = (&report["report"]["candidate"]["accuracy"], &report["report"]["current"]["accuracy"]);
    assert_eq!(report["report"]["written"], true, "{candidate} vs {old}");
    assert!(candidate.as_f64() > old.as_f64());
    assert!(out.is_file(), "the better candidate is written");
    let page = std::fs::read_to_string(&html).expect("--html writes the page");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<svg"), "the F1 chart is an inline SVG");
}

#[test]
fn text_shows_both_models_side_by_side() {
    let (dir, log) = write_log();
    let log = log.to_string_lossy().into_owned();
    let out = dir.path().join("routing.model").to_string_lossy().into_owned();
    let args = ["train", "--from-log", &log, "--since", "60d", "--now", NOW, "--out", &out];
    let run = run(&args, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for line in ["resolved tickets since", "current", "candidate", "accuracy", "macro F1", "wrote the candidate"] {
        assert!(run.stdout.contains(line), "`{line}` missing from\n{}", run.stdout);
    }
}
