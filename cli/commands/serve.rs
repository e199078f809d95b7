//! `routec serve`: run the routing service (crate `routec-server`) on a
//! policy. The flags here win over `routec.toml` and the `ROUTEC_…`
//! environment; see docs/serve.md.

use crate::exit::CliError;
use routec_server::config::{LogFormat, Overrides};
use routec_server::ServeOptions;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The policy file (reloaded on SIGHUP, on `POST /v1/admin/reload`, and when it changes).
    pub policy: PathBuf,
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0: any free port).
    #[arg(long)]
    pub listen: Option<String>,
    /// The decision log: `sqlite:PATH` or `postgres://…` (default: `routec.db` beside the policy).
    #[arg(long)]
    pub db: Option<String>,
    /// The config file (`routec.toml`): clients and tokens, limits, redaction.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Delete decisions older than this, e.g. `90d`, `12w`, `36h`.
    #[arg(long)]
    pub retain: Option<String>,
    /// Log format on standard error.
    #[arg(long, value_parser = ["text", "json"])]
    pub log_format: Option<String>,
}

pub fn run(args: &ServeArgs) -> Result<(), CliError> {
    let log_format = match args.log_format.as_deref().map(str::parse::<LogFormat>) {
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => return Err(CliError::Usage(format!("--log-format: {e}"))),
        None => None,
    };
    let options = ServeOptions {
        policy: args.policy.clone(),
        config: args.config.clone(),
        overrides: Overrides {
            listen: args.listen.clone(),
            db: args.db.clone(),
            retention: args.retain.clone(),
            log_format,
        },
    };
    routec_server::run(options).map_err(CliError::Serve)
}
