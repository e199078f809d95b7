//! Training benchmark: wall time and holdout accuracy of `train` with the
//! default options (regularisation chosen by cross-validation), or with a
//! fixed `C`, on a labelled CSV / JSON Lines file.
//!
//! ```text
//! cargo run --release -p routec-classifier --example train_time -- DATA TEXT_FIELDS LABEL [C]
//! ```
//!
//! `ROUTEC_MODEL_OUT=FILE` saves the model; `ROUTEC_EXPORT_SPLIT=FILE` writes the split as `routec train --export-split`
//! does. Exits 0 with a message when the data file is absent (it usually lives in
//! `../shared/data` or a public data set fetched for the comparison with
//! `classifier/eval/sklearn_baseline.py`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use routec_classifier::{train, Dataset, TrainOptions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, text, label, rest @ ..] = args.as_slice() else {
        eprintln!("usage: train_time DATA TEXT_FIELDS LABEL [C]");
        return ExitCode::from(2);
    };
    let path = PathBuf::from(data);
    if !path.exists() {
        println!("skipped: {data} is absent");
        return ExitCode::SUCCESS;
    }
    let dataset = match Dataset::load(&[path]) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut opts = TrainOptions::new(text.split(',').map(str::to_owned).collect(), Vec::new(), label.clone());
    opts.c = rest.first().and_then(|c| c.parse().ok());
    let started = Instant::now();
    match train(&dataset, &opts, None) {
        Ok(outcome) => {
            let seconds = started.elapsed().as_secs_f64();
            if let Ok(out) = std::env::var("ROUTEC_MODEL_OUT") {
                if let Err(e) = outcome.model.save(std::path::Path::new(&out)) {
                    eprintln!("{out}: {e}");
                }
            }
            // The split, for `classifier/eval/sklearn_baseline.py` to fit on the same rows.
            if let Ok(out) = std::env::var("ROUTEC_EXPORT_SPLIT") {
                let split = outcome.dataset_split();
                let json = format!("{{\"train\": {:?}, \"test\": {:?}}}", split.train, split.test);
                if let Err(e) = std::fs::write(&out, json) {
                    eprintln!("{out}: {e}");
                }
            }
            let info = &outcome.model.info().training;
            for point in &info.cross_validation {
                println!("C {:>6}: cv accuracy {:.4}, log loss {:.4}", point.c, point.accuracy, point.log_loss);
            }
            let accuracy = outcome.metrics.as_ref().map_or(f64::NAN, |m| m.accuracy);
            println!(
                "rows {} (train {}, holdout {}), features {}, C {}, holdout accuracy {:.4}, train {:.2} s",
                info.rows_total,
                info.rows_train,
                info.rows_holdout,
                outcome.model.n_rows(),
                1.0 / info.alpha,
                accuracy,
                seconds
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
