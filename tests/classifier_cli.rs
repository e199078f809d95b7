//! End-to-end tests of `routec train`, `routec eval` and `routec classify`
//! through the real binary, on the shipped `examples/saas-b2b` history.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const HISTORY: &str = "examples/saas-b2b/history.csv";
const SHIPPED_MODEL: &str = "examples/saas-b2b/models/intent.model";
const PARAPHRASES: [&str; 2] = ["I can't get into my account", "the login page just spins forever"];

fn routec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_routec"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("routec runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "routec failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A fresh folder under the system temp dir, unique to this test and process.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("routec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The intent `routec classify MODEL --text TEXT` predicts.
fn classify(model: &Path, text: &str) -> (String, f64) {
    let out = stdout(&routec(&["classify", &model.display().to_string(), "--text", text]));
    let line: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    let intent = line["intent"].as_str().expect("intent").to_owned();
    let confidence = line["confidence"].as_f64().expect("confidence");
    (intent, confidence)
}

#[test]
fn paraphrases_of_a_login_problem_land_in_the_same_intent() {
    let dir = scratch_dir("classifier-train");
    let model = dir.join("intent.model");
    let model_arg = model.display().to_string();
    let report = stdout(&routec(&[
        "train",
        HISTORY,
        "--text",
        "subject,body",
        "--label",
        "intent",
        "--features",
        "page,customer.tier",
        "--out",
        &model_arg,
        "--target-precision",
        "0.9",
        "--policy-path",
        "models/intent.model",
    ]));
    for expected in
        ["accuracy", "macro-F1", "confusion matrix", "coverage", "classifier intent from \"models/intent.model\" {"]
    {
        assert!(report.contains(expected), "missing `{expected}` in:\n{report}");
    }
    let intents: Vec<(String, f64)> = PARAPHRASES.iter().map(|text| classify(&model, text)).collect();
    assert_eq!(intents[0].0, intents[1].0, "{intents:?}");
    assert_eq!(intents[0].0, "account", "{intents:?}");
    assert!(intents.iter().all(|(_, confidence)| (0.0..=1.0).contains(confidence)));

    // The same report on the file through `routec eval`.
    let eval = stdout(&routec(&["eval", &model_arg, HISTORY]));
    assert!(eval.contains("macro-F1") && eval.contains("confidence ≥"), "{eval}");

    // Retraining: warm start from the model just written, compared on the same holdout.
    let retrained = dir.join("retrained.model").display().to_string();
    let warm =
        stdout(&routec(&["train", HISTORY, "--label", "intent", "--out", &retrained, "--warm-start", &model_arg]));
    assert!(warm.contains("comparison on the same"), "{warm}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_shipped_model_routes_the_paraphrases_together() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join(SHIPPED_MODEL);
    let intents: Vec<String> = PARAPHRASES.iter().map(|text| classify(&model, text).0).collect();
    assert_eq!(intents, ["account", "account"]);
}

#[test]
fn a_corrupt_model_is_a_clear_error() {
    let dir = scratch_dir("classifier-corrupt");
    let model = dir.join("broken.model");
    std::fs::write(&model, b"RTCMODEL\x01\x00\x00\x00garbage").expect("write");
    let output = routec(&["classify", &model.display().to_string(), "--text", "hello"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("corrupt model file"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
