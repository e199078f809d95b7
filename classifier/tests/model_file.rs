//! Model file round trip, corrupt and mismatched files, and training on a
//! small generated dataset.

use routec_classifier::{train, Dataset, Model, ModelError, TrainOptions, MAGIC};

fn tiny_dataset() -> Dataset {
    let billing = [
        "I was charged twice on my invoice",
        "refund the duplicate payment please",
        "update the credit card for billing",
        "the invoice shows the wrong amount",
        "we need a receipt for last month's payment",
        "why is there an unexpected charge on our card",
    ];
    let account = [
        "I can't log in to my account",
        "password reset email never arrives",
        "locked out of my account after two-factor",
        "the login page keeps loading",
        "please unlock my user account",
        "cannot sign in with my password",
    ];
    let mut records = Vec::new();
    for round in 0..4 {
        for text in billing {
            let page = if round % 2 == 0 { "/settings/billing" } else { "/dashboard" };
            records.push(vec![("body", text), ("page", page), ("intent", "billing")]);
        }
        for text in account {
            let page = if round % 2 == 0 { "/login" } else { "/dashboard" };
            records.push(vec![("body", text), ("page", page), ("intent", "account")]);
        }
    }
    Dataset::from_records(records)
}

fn tiny_model() -> Model {
    let mut opts = TrainOptions::new(vec!["body".into()], vec!["page".into()], "intent".into());
    opts.min_df = 1;
    opts.holdout = 0.25;
    train(&tiny_dataset(), &opts, None).expect("training succeeds").model
}

fn ticket<'a>(fields: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| fields.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
}

#[test]
fn trains_and_predicts() {
    let model = tiny_model();
    assert_eq!(model.labels(), ["account", "billing"]);
    assert_eq!(model.feature_fields(), ["body", "page"]);
    let account = model.predict(&ticket(&[("body", "I can't log in, the login page keeps loading")]));
    assert_eq!(model.labels()[account.label], "account");
    let billing = model.predict(&ticket(&[("body", "refund my invoice"), ("page", "/settings/billing")]));
    assert_eq!(model.labels()[billing.label], "billing");
    assert!(billing.confidence > 0.5 && billing.confidence <= 1.0);
    assert_eq!(billing.top.len(), 2);
    let total: f64 = billing.top.iter().map(|(_, p)| p).sum();
    assert!((total - 1.0).abs() < 1e-9);
}

#[test]
fn metadata_moves_the_prediction() {
    let model = tiny_model();
    let on = |page| model.predict(&ticket(&[("body", "question about this page"), ("page", page)]));
    let billing = model.labels().iter().position(|l| l == "billing").expect("label");
    let from_billing = on("/settings/billing");
    let from_login = on("/login");
    let p_billing = |p: &routec_classifier::Prediction| p.top.iter().find(|(l, _)| *l == billing).map_or(0.0, |t| t.1);
    assert!(p_billing(&from_billing) > p_billing(&from_login));
}

#[test]
fn round_trip_is_exact() {
    let model = tiny_model();
    let bytes = model.to_bytes();
    let loaded = Model::from_bytes(&bytes).expect("round trip");
    assert_eq!(loaded.info(), model.info());
    assert_eq!(loaded.to_bytes(), bytes);
    let input = ticket(&[("body", "password reset for my account"), ("page", "/login")]);
    assert_eq!(loaded.predict(&input), model.predict(&input));
    assert!(loaded.info().metrics.is_some());
    assert_eq!(loaded.info().training.label_field, "intent");
}

#[test]
fn save_and_load_from_disk() {
    let dir = std::env::temp_dir().join(format!("routec-classifier-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("intent.model");
    let model = tiny_model();
    model.save(&path).expect("save");
    let loaded = Model::load(&path).expect("load");
    assert_eq!(loaded.info(), model.info());
    let missing = Model::load(&dir.join("missing.model")).expect_err("missing file");
    assert!(matches!(missing, ModelError::Io { .. }));
    assert!(missing.to_string().starts_with("io error on model file `"), "{missing}");
    assert!(missing.to_string().contains("missing.model"), "{missing}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Recomputes the trailing checksum so a deliberately inconsistent file gets
/// past the checksum and exercises the structural checks.
fn reseal(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.truncate(bytes.len() - 8);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in &bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    bytes.extend_from_slice(&hash.to_le_bytes());
    bytes
}

#[test]
fn corrupt_and_mismatched_files_give_clear_errors() {
    let good = tiny_model().to_bytes();
    let message = |bytes: &[u8]| Model::from_bytes(bytes).expect_err("must fail").to_string();

    insta::assert_snapshot!("not_a_model", message(b"label,text\nbilling,hello\n"));
    insta::assert_snapshot!("empty", message(b""));

    let mut future = good.clone();
    future[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&7u32.to_le_bytes());
    insta::assert_snapshot!("unknown_version", message(&future));

    insta::assert_snapshot!("truncated", message(&good[..good.len() / 2]));
    insta::assert_snapshot!("magic_and_version_only", message(&good[..12]));

    let mut flipped = good.clone();
    let middle = good.len() - 40;
    flipped[middle] ^= 0x5a;
    insta::assert_snapshot!("flipped_byte", message(&flipped));

    // A header that claims a different label count than the weights hold.
    let text = String::from_utf8_lossy(&good).into_owned();
    assert!(text.contains(r#""labels":["account","billing"]"#));
    let header_len = u32::from_le_bytes([good[12], good[13], good[14], good[15]]) as usize;
    let header = String::from_utf8_lossy(&good[16..16 + header_len]).into_owned();
    let three = header.replace(r#""labels":["account","billing"]"#, r#""labels":["account","billing","other"]"#);
    let mut mismatched = good[..12].to_vec();
    mismatched.extend_from_slice(&(three.len() as u32).to_le_bytes());
    mismatched.extend_from_slice(three.as_bytes());
    mismatched.extend_from_slice(&good[16 + header_len..]);
    insta::assert_snapshot!("label_count_mismatch", message(&reseal(mismatched)));

    // A header that is not valid JSON for the format.
    let mut broken = good[..12].to_vec();
    broken.extend_from_slice(&2u32.to_le_bytes());
    broken.extend_from_slice(b"{}");
    broken.extend_from_slice(&[0u8; 8]);
    insta::assert_snapshot!("bad_header", message(&reseal(broken)));
}

#[test]
fn warm_start_needs_the_same_features() {
    let old = tiny_model();
    let data = tiny_dataset();
    let mut same = TrainOptions::new(vec!["body".into()], vec!["page".into()], "intent".into());
    same.min_df = 1;
    let warm = train(&data, &same, Some(&old)).expect("warm start with the same fields");
    assert_eq!(warm.model.info().training.warm_started_from.as_deref(), Some(old.info().training.data_hash.as_str()));
    let other = TrainOptions::new(vec!["body".into()], vec![], "intent".into());
    let err = train(&data, &other, Some(&old)).expect_err("different fields");
    insta::assert_snapshot!("warm_start_mismatch", err.to_string());
}

#[test]
fn missing_label_field_is_a_clear_error() {
    let opts = TrainOptions::new(vec!["body".into()], vec![], "queue".into());
    let err = train(&tiny_dataset(), &opts, None).expect_err("no such field");
    insta::assert_snapshot!("missing_label_field", err.to_string());
}
