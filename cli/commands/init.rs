//! `routec init --from HISTORY`: write a starter policy (and its intent
//! model) from a ticket history; `routec check` and `routec test` accept it
//! as written. Owns the flags and the files; the work is
//! `routec_analytics::init`.

use crate::commands::history_input::{HistoryArgs, ReportArgs};
use crate::exit::CliError;
use routec_analytics::init;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The history to start from: CSV with a header, a category column and
    /// the destination that resolved each ticket.
    #[arg(long = "from", value_name = "HISTORY")]
    pub from: PathBuf,
    /// The directory to write `policy.route` and `models/intent.model` into.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub out: PathBuf,
    /// The policy's name [default: the directory's name].
    #[arg(long)]
    pub name: Option<String>,
    /// Tickets the intent model is trained on (the first ones of the history).
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub sample: usize,
    /// Replace files that exist.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub input: HistoryArgs,
    #[command(flatten)]
    pub output: ReportArgs,
}

pub fn run(args: &InitArgs) -> Result<(), CliError> {
    let policy_path = args.out.join("policy.route");
    let model_path = args.out.join("models").join("intent.model");
    if !args.force {
        if let Some(existing) = [&policy_path, &model_path].into_iter().find(|p| p.exists()) {
            return Err(CliError::Usage(format!(
                "`{}` exists; pass `--force` to replace it, or `--out` another directory",
                existing.display()
            )));
        }
    }
    let name = args.name.clone().unwrap_or_else(|| {
        let dir = std::path::absolute(&args.out).unwrap_or_else(|_| args.out.clone());
        dir.file_name().map_or_else(|| "starter".to_string(), |n| init::identifier(&n.to_string_lossy()))
    });
    let options = init::Options { name, sample: args.sample, ..init::Options::default() };
    let opened = args.input.open(&args.from)?;
    let starter = init::init(opened, &options).map_err(|e| match e {
        init::InitError::Io(source) => CliError::read(&args.from, source),
        other => CliError::Unusable {
            path: args.from.clone(),
            expected: "a history a starter policy can be written from",
            source: Box::new(other),
        },
    })?;
    let models = args.out.join("models");
    std::fs::create_dir_all(&models).map_err(|e| CliError::write(&models, e))?;
    starter.model.save(&model_path).map_err(CliError::Model)?;
    std::fs::write(&policy_path, &starter.policy).map_err(|e| CliError::write(&policy_path, e))?;
    let written = format!("wrote {} and {}", policy_path.display(), model_path.display());
    args.output.emit(&starter.summary.document(&args.from.display().to_string(), &written))
}
