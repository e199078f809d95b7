//! `routec train`: fit an intent model on labelled tickets and print the
//! holdout report.
//!
//! Owns the command-line surface of training (flags, output, the suggested
//! policy `classifier` block); all the work is in `routec_classifier`.

use std::path::PathBuf;

use crate::exit::{CliError, Outcome};
use crate::output::Output;
use routec_analytics::render::HtmlOptions;
use routec_classifier::{
    policy_block, predict_outcomes, render_comparison, render_report, suggest_thresholds, train, Dataset, Metrics,
    Model, TrainOptions,
};

/// Train an intent model on a labelled ticket history (CSV or JSON Lines).
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Labelled tickets: CSV or JSON Lines; several files are concatenated
    /// (e.g. the history plus a feedback export of resolved tickets).
    #[arg(required_unless_present = "from_log", value_name = "DATA")]
    pub data: Vec<PathBuf>,
    /// Train on `routec serve`'s decision log instead (`sqlite:PATH`,
    /// `postgres://…`, or a JSON Lines export as `routec report --log` reads):
    /// resolved tickets, each labelled by the destination a human finally chose. The model is written only when it beats the
    /// current one (`--compare`, else the file at `--out`) on the holdout.
    #[arg(long, value_name = "URL", conflicts_with_all = ["data", "warm_start", "export_split"])]
    pub from_log: Option<String>,
    /// With --from-log: how far back to read, e.g. `90d`, `12w`, `36h`
    #[arg(long, default_value = "90d", value_name = "AGE")]
    pub since: String,
    /// With --from-log: when the window ends (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME", requires = "from_log")]
    pub now: Option<String>,
    /// Text fields, comma-separated dotted paths [default: subject,body, or the warm-start model's]
    #[arg(long, value_delimiter = ',', value_name = "FIELDS")]
    pub text: Vec<String>,
    /// The field holding the intent / queue
    #[arg(long, default_value = "intent", value_name = "FIELD")]
    pub label: String,
    /// Metadata fields used one-hot, comma-separated dotted paths (e.g. page,customer.tier,channel)
    #[arg(long, value_delimiter = ',', value_name = "FIELDS")]
    pub features: Vec<String>,
    /// Where to write the model file
    #[arg(long, short, value_name = "MODEL")]
    pub out: PathBuf,
    /// Fraction of each label held out (stratified) for the report; 0 trains on everything
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    /// Seed of the stratified split
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Suggest per-intent thresholds reaching this precision and print a policy block
    #[arg(long, value_name = "P")]
    pub target_precision: Option<f64>,
    /// Start from an existing model's weights (same fields); the report compares old and new
    #[arg(long, value_name = "OLD_MODEL", conflicts_with = "compare")]
    pub warm_start: Option<PathBuf>,
    /// Train from scratch but compare with an existing model on the same holdout
    #[arg(long, value_name = "OLD_MODEL")]
    pub compare: Option<PathBuf>,
    /// Inverse L2 regularisation strength (as scikit-learn's C) [default: chosen by 3-fold cross-validation]
    #[arg(long)]
    pub c: Option<f64>,
    /// L-BFGS iteration cap per fit
    #[arg(long, default_value_t = 200)]
    pub max_iter: u64,
    /// Ignore text features seen in fewer training rows than this
    #[arg(long, default_value_t = 2)]
    pub min_df: usize,
    /// Keep at most this many text features (most frequent first)
    #[arg(long, default_value_t = 60_000)]
    pub max_features: usize,
    /// Character n-grams inside words, e.g. `3-5` (off by default)
    #[arg(long, value_name = "MIN-MAX")]
    pub char_ngrams: Option<String>,
    /// Do not fit a calibration temperature
    #[arg(long)]
    pub no_calibrate: bool,
    /// Write the split (dataset row indices, 0-based, header excluded) as JSON
    #[arg(long, value_name = "FILE")]
    pub export_split: Option<PathBuf>,
    /// The model path to print in the suggested policy block [default: --out]
    #[arg(long, value_name = "PATH")]
    pub policy_path: Option<String>,
    /// Print the report as JSON instead of text
    #[arg(long)]
    pub json: bool,
    /// With --from-log: also write the comparison as a self-contained HTML page with charts
    #[arg(long, value_name = "FILE", requires = "from_log")]
    pub html: Option<PathBuf>,
}

fn parse_char_ngrams(spec: &str) -> Result<[u8; 2], CliError> {
    let (lo, hi) = spec.split_once('-').unwrap_or((spec, spec));
    let parse = |s: &str| {
        s.trim()
            .parse::<u8>()
            .map_err(|_| CliError::Usage(format!("invalid --char-ngrams `{spec}` (expected e.g. `3-5`)")))
    };
    let (lo, hi) = (parse(lo)?, parse(hi)?);
    if lo == 0 || hi < lo || hi > 8 {
        return Err(CliError::Usage(format!("invalid --char-ngrams `{spec}` (expected 1 ≤ min ≤ max ≤ 8)")));
    }
    Ok([lo, hi])
}

/// The training flags every source of data shares.
fn apply_flags(mut opts: TrainOptions, args: &TrainArgs) -> Result<TrainOptions, CliError> {
    opts.holdout = args.holdout;
    opts.seed = args.seed;
    opts.c = args.c;
    opts.max_iterations = args.max_iter;
    opts.min_df = args.min_df.max(1);
    opts.max_features = args.max_features;
    opts.calibrate = !args.no_calibrate;
    if let Some(spec) = &args.char_ngrams {
        opts.char_ngrams = parse_char_ngrams(spec)?;
    }
    Ok(opts)
}

/// `routec train --from-log`: retrain on the decision log, write the
/// candidate only when it beats the current model.
fn from_log(args: &TrainArgs, url: &str, outcome: &mut Outcome) -> Result<(), CliError> {
    use routec_analytics::report::Log;
    use routec_analytics::train_log;
    let now = match &args.now {
        Some(text) => text
            .parse::<jiff::Timestamp>()
            .map_err(|e| CliError::Usage(format!("`--now {text}` is not an RFC 3339 time with an offset: {e}")))?,
        None => jiff::Timestamp::now(),
    };
    let period =
        routec_server::config::parse_duration(&args.since).map_err(|e| CliError::Usage(format!("--since: {e}")))?;
    let period = jiff::SignedDuration::try_from(period).map_err(|e| CliError::Usage(format!("--since: {e}")))?;
    let since = now.checked_sub(period).map_err(|e| CliError::Usage(format!("--since: {e}")))?;
    let current_path = args.compare.clone().or_else(|| args.out.is_file().then(|| args.out.clone()));
    let current = current_path.as_ref().map(|p| Model::load(p)).transpose().map_err(CliError::Model)?;
    let pick = |given: &[String], from_model: Option<&Vec<String>>, default: &[&str]| -> Vec<String> {
        match (given.is_empty(), from_model) {
            (false, _) => given.to_vec(),
            (true, Some(fields)) => fields.clone(),
            (true, None) => default.iter().map(|s| s.to_string()).collect(),
        }
    };
    // Without flags, read what the current model reads, so the two compare like for like.
    let text = pick(&args.text, current.as_ref().map(|m| &m.info().features.text_fields), &["subject", "body"]);
    let features = pick(&args.features, current.as_ref().map(|m| &m.info().features.meta_fields), &[]);
    let opts = apply_flags(TrainOptions::new(text, features, train_log::LABEL_COLUMN.into()), args)?;
    // The end is exclusive in the store; a decision made at `now` counts.
    let end = now.checked_add(jiff::SignedDuration::from_millis(1)).unwrap_or(now);
    let log = if url.starts_with("sqlite:") || url.contains("://") {
        Log::read_store(url, since, end).map_err(|e| CliError::Unusable {
            path: PathBuf::from(without_credentials(url)),
            expected: "a routec decision log",
            source: Box::new(e),
        })?
    } else {
        crate::commands::report::read_export(&PathBuf::from(url), outcome)?
    };
    let tickets = train_log::resolved(&log, since, end);
    let retrained = train_log::retrain(&tickets, since, &opts, current.as_ref()).map_err(CliError::Data)?;
    if retrained.report.written {
        retrained.model.save(&args.out).map_err(CliError::Model)?;
    }
    if let Some(path) = &args.html {
        let footer = format!("routec train --from-log · as of {now}");
        let page = retrained
            .report
            .document()
            .to_html(&HtmlOptions { refresh_seconds: None, footer: Some(footer) })
            .map_err(|e| CliError::Internal(e.to_string()))?;
        std::fs::write(path, page).map_err(|e| CliError::write(path, e))?;
    }
    let mut out = Output::stdout();
    if args.json {
        let report = serde_json::json!({
            "model": args.out,
            "current_model": current_path,
            "report": retrained.report,
        });
        writeln!(out, "{report:#}")?;
        return Ok(());
    }
    write!(out, "{}", retrained.report.text())?;
    if retrained.report.written {
        writeln!(out, "wrote {}", args.out.display())?;
    }
    Ok(())
}

/// A store URL fit for messages: `postgres://user:secret@host/db` loses its credentials.
fn without_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// Runs `routec train`.
pub fn run(args: &TrainArgs, outcome: &mut Outcome) -> Result<(), CliError> {
    if !(0.0..1.0).contains(&args.holdout) {
        return Err(CliError::Usage(format!("--holdout must be in 0..1, got {}", args.holdout)));
    }
    if let Some(c) = args.c.filter(|c| *c <= 0.0 || !c.is_finite()) {
        return Err(CliError::Usage(format!("--c must be positive, got {c}")));
    }
    if let Some(url) = &args.from_log {
        return from_log(args, url, outcome);
    }
    let old_path = args.warm_start.as_ref().or(args.compare.as_ref());
    let old = old_path.map(|p| Model::load(p)).transpose().map_err(CliError::Model)?;
    let warm = args.warm_start.as_ref().and(old.as_ref());

    let mut text = args.text.clone();
    let mut features = args.features.clone();
    if let Some(old) = warm {
        if text.is_empty() {
            text = old.info().features.text_fields.clone();
        }
        if features.is_empty() {
            features = old.info().features.meta_fields.clone();
        }
    }
    if text.is_empty() {
        text = vec!["subject".into(), "body".into()];
    }
    let data = Dataset::load(&args.data).map_err(CliError::Data)?;
    let mut opts = apply_flags(TrainOptions::new(text, features, args.label.clone()), args)?;
    if let Some(old) = warm {
        opts.hash_bits = old.info().features.hash_bits;
        opts.char_ngrams = old.info().features.char_ngrams;
    }

    let outcome = train(&data, &opts, warm).map_err(CliError::Data)?;
    let model = &outcome.model;
    model.save(&args.out).map_err(CliError::Model)?;
    let split = outcome.dataset_split();
    if let Some(path) = &args.export_split {
        let json = serde_json::to_string(&split).map_err(|e| CliError::Internal(format!("the split as JSON: {e}")))?;
        std::fs::write(path, json).map_err(|e| CliError::write(path, e))?;
    }

    // The old model on the very same holdout rows.
    let comparison: Option<Metrics> = match &old {
        Some(old) if !split.test.is_empty() => {
            let label_col = data.require(&args.label).map_err(CliError::Data)?;
            let mut rows = Vec::new();
            let mut gold = Vec::new();
            for &row in &split.test {
                let label = data.get(row, label_col).unwrap_or_default().trim();
                if let Some(idx) = old.labels().iter().position(|l| l == label) {
                    rows.push(row);
                    gold.push(idx);
                }
            }
            let outcomes = predict_outcomes(old, &data, &rows, &gold);
            Some(routec_classifier::evaluate(old.labels(), &outcomes))
        }
        _ => None,
    };

    let info = model.info();
    let mut out = Output::stdout();
    let thresholds =
        args.target_precision.map(|target| suggest_thresholds(model.labels().len(), &outcome.outcomes, target));
    if args.json {
        let report = serde_json::json!({
            "model": args.out,
            "training": info.training,
            "temperature": info.temperature,
            "features": model.n_rows(),
            "metrics": outcome.metrics,
            "old_model_metrics": comparison,
            "thresholds": thresholds,
        });
        writeln!(out, "{report:#}")?;
        return Ok(());
    }
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    writeln!(
        out,
        "trained on {} rows ({} held out) in {:.2} s: {} labels, {} features, temperature {:.3}",
        info.training.rows_train,
        info.training.rows_holdout,
        info.training.train_seconds,
        model.labels().len(),
        model.n_rows(),
        info.temperature
    )?;
    let c = 1.0 / info.training.alpha;
    match info.training.cross_validation.as_slice() {
        [] => writeln!(out, "C = {c} (given)")?,
        points => {
            let tried: Vec<String> = points.iter().map(|p| format!("{} → {:.1} %", p.c, p.accuracy * 100.0)).collect();
            writeln!(out, "C = {c}, chosen by {}-fold cross-validation ({})", opts.folds, tried.join(", "))?;
        }
    }
    writeln!(out, "wrote {} ({:.1} KiB)", args.out.display(), size as f64 / 1024.0)?;
    match &outcome.metrics {
        Some(metrics) => {
            writeln!(out, "\nholdout report\n")?;
            write!(out, "{}", render_report(metrics))?;
            if let (Some(old_metrics), Some(path)) = (&comparison, old_path) {
                writeln!(out, "\nold model: {}", path.display())?;
                write!(out, "{}", render_comparison(old_metrics, metrics))?;
            }
        }
        None => writeln!(out, "no holdout (--holdout 0): no report")?,
    }
    if let (Some(thresholds), Some(target)) = (&thresholds, args.target_precision) {
        let path = args.policy_path.clone().unwrap_or_else(|| args.out.display().to_string());
        writeln!(out, "\nthresholds for {:.0} % precision on the holdout; paste into the policy:\n", target * 100.0)?;
        write!(out, "{}", policy_block(&path, model.labels(), model.feature_fields(), thresholds, target))?;
    }
    Ok(())
}
