//! # routec-server
//!
//! `routec serve`: the HTTP API a helpdesk calls for every ticket. Requests
//! go through auth, limits and timeouts (tower layers), one route-and-record
//! function decides with the loaded policy and commits the decision to the
//! store before answering; hot reload swaps the policy whole.
//!
//! [`run`] is the one entry point: it resolves the configuration, builds the
//! shared state once ([`Service::start`]: store, policy, metrics, load,
//! background tasks, the outbox delivery worker), prints where it listens,
//! and serves until SIGTERM.

pub mod actions;
pub mod api;
pub mod auth;
pub mod config;
pub mod dashboard;
pub mod decide;
pub mod delivery;
pub mod error;
pub mod metrics;
pub mod redact;
pub mod reload;
pub mod retention;
pub mod shutdown;
pub mod state;
pub mod webhooks;

use config::{Config, ConfigError, ConfigFile, LogFormat, Overrides};
use reload::{ReloadOptions, Reloader};
use routec_store::{Store, StoreOptions};
use shutdown::Shutdown;
use state::{Clock, LoadCache, Shared, State};
use std::future::IntoFuture;
use std::path::PathBuf;
use std::sync::Arc;

/// What `routec serve` was given on its command line.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    pub policy: PathBuf,
    /// `routec.toml`; none means defaults and the environment only.
    pub config: Option<PathBuf>,
    /// Settings given as flags, which win over the file and the environment.
    pub overrides: Overrides,
}

/// Why the service stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Policy(#[from] reload::StartError),
    #[error("cannot open the decision log `{url}`: {reason}")]
    Store { url: String, reason: String },
    #[error("{what}: {reason}")]
    Io { what: String, reason: String },
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let what = what.into();
    move |e| ServeError::Io { what, reason: e.to_string() }
}

/// Resolve the configuration, serve until SIGTERM or ctrl-c, drain, and return.
pub fn run(options: ServeOptions) -> Result<(), ServeError> {
    let file = match &options.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    let env = |name: &str| std::env::var(name).ok();
    let config = Config::resolve(&options.policy, file, &env, options.overrides)?;
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(io_error("cannot start the async runtime"))?;
    runtime.block_on(serve(config))
}

fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    // Other crates' info logs (Cranelift prints the code it generates) stay out by default.
    let filter = EnvFilter::try_from_env("ROUTEC_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn,routec_server=info,routec_store=info,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // A subscriber already installed (an embedding program's) is kept.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn serve(config: Config) -> Result<(), ServeError> {
    let shutdown = Shutdown::new();
    let signals = shutdown::on_terminate(&shutdown).map_err(io_error("cannot install the signal handlers"))?;
    let listen = config.listen;
    let service = Service::start(config, wall_clock(), shutdown.clone()).await?;
    reload::spawn(service.state.policy.clone(), shutdown.clone())
        .map_err(io_error("cannot install the SIGHUP handler"))?;
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(io_error(format!("cannot listen on {listen}")))?;
    let addr = listener.local_addr().map_err(io_error("cannot read the listening address"))?;
    println!("{}", service.announcement(addr));
    let app = api::router(service.state.clone());
    let server = axum::serve(listener, app).with_graceful_shutdown(shutdown.wait());
    let drained = shutdown::serve_with_drain(server.into_future(), &shutdown, shutdown::DEFAULT_DRAIN)
        .await
        .map_err(io_error("the server failed"))?;
    tracing::info!(?drained, "stopped serving");
    shutdown.trigger();
    signals.abort();
    if let Some(worker) = service.worker {
        // The batch in hand finishes (each delivery is bounded by half a lease).
        let _ = worker.await;
    }
    service.state.store.close().await;
    Ok(())
}

/// The wall clock.
pub fn wall_clock() -> Clock {
    Arc::new(jiff::Timestamp::now)
}

/// The running service's shared state and background tasks.
pub struct Service {
    pub state: Shared,
    /// The outbox delivery worker, unless `[delivery] enabled = false` or no
    /// sink is configured.
    pub worker: Option<tokio::task::JoinHandle<()>>,
}

impl Service {
    /// Open the store (migrations run), load the policy with its proofs,
    /// read the load, and start the background tasks (load refresh,
    /// retention, outbox delivery), which stop at `shutdown`.
    pub async fn start(config: Config, clock: Clock, shutdown: Shutdown) -> Result<Service, ServeError> {
        let options = StoreOptions { durability: config.durability, ..StoreOptions::default() };
        let store = Store::open(&config.db, options)
            .await
            .map_err(|e| ServeError::Store { url: display_url(&config.db), reason: e.to_string() })?;
        let metrics = Arc::new(metrics::Metrics::new());
        let policy = Reloader::start(&config.policy, ReloadOptions::default(), store.clone(), metrics.clone()).await?;
        let clients = Arc::new(auth::Clients::new(&config.clients));
        let helpdesks = webhooks::connect(&config.helpdesks, &policy.current())?;
        let state = Arc::new(State {
            clients,
            policy,
            store,
            metrics,
            load: LoadCache::default(),
            started_at: clock(),
            clock,
            config,
            helpdesks,
        });
        state
            .load
            .refresh(&state.store, &state.metrics, state.now())
            .await
            .map_err(|e| ServeError::Store { url: display_url(&state.config.db), reason: e.to_string() })?;
        spawn_load_refresh(state.clone(), shutdown.clone());
        webhooks::spawn_load_refresh(state.clone(), shutdown.clone());
        if let Some(keep) = state.config.retention {
            retention::spawn(state.store.clone(), keep, shutdown.clone());
        }
        let mut sinks = state.config.actions.sinks.clone();
        sinks.extend(webhooks::sinks(&state.helpdesks));
        // Without a sink no row can be delivered: no worker polls the store.
        let worker = (state.config.delivery.enabled && !sinks.is_empty()).then(|| {
            let worker = delivery::Worker::new(
                state.store.clone(),
                &sinks,
                state.config.delivery.clone(),
                state.metrics.clone(),
                state.clock.clone(),
            );
            delivery::spawn(worker, shutdown)
        });
        Ok(Service { state, worker })
    }

    /// The line printed at start: where it listens, the policy, the store.
    pub fn announcement(&self, addr: std::net::SocketAddr) -> String {
        let info = self.state.policy.info();
        format!(
            "routec serve: listening on http://{addr} policy {} version {} hash {} store {}",
            info.name,
            info.version,
            info.hash,
            display_url(&self.state.config.db)
        )
    }
}

fn spawn_load_refresh(state: Shared, shutdown: Shutdown) {
    tokio::spawn(async move {
        let every = state.config.limits.load_refresh;
        let stopped = shutdown.wait();
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                () = &mut stopped => return,
                () = tokio::time::sleep(every) => {}
            }
            if let Err(e) = state.load.refresh(&state.store, &state.metrics, state.now()).await {
                tracing::warn!(error = %e, "cannot refresh the load; the previous counts stay in use");
            }
        }
    });
}

/// A store URL fit to print: a PostgreSQL password is hidden.
pub fn display_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((credentials, host)) = rest.split_once('@') else { return url.to_string() };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_printed_urls() {
        assert_eq!(display_url("postgres://routec:s3cret@db:5432/log"), "postgres://routec:***@db:5432/log");
        assert_eq!(display_url("postgres://db/log"), "postgres://db/log");
        assert_eq!(display_url("sqlite:/tmp/routec.db"), "sqlite:/tmp/routec.db");
    }
}
