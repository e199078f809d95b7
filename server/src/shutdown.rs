//! Graceful shutdown: SIGTERM or ctrl-c stops the listener, in-flight
//! requests are given a bounded time to finish (each one has committed its
//! decision before it answers), the background tasks (reload watcher,
//! retention) stop, and the store's group-commit writer is flushed before
//! the process exits 0.
//!
//! [`Shutdown`] is the one signal every task waits on; [`on_terminate`]
//! triggers it from the operating system's signals.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long in-flight requests get to finish after the listener stops,
/// unless the config says otherwise.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(10);

/// A one-way switch every background task can wait on. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Shutdown {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Shutdown {
        Shutdown::new()
    }
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown { sender: Arc::new(watch::channel(false).0) }
    }

    /// Ask everything waiting on this to stop. Idempotent.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once [`Shutdown::trigger`] was called (at once if it already was).
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.sender.subscribe();
        async move {
            // `wait_for` only fails when the sender is gone, and `self` holds it.
            let _ = receiver.wait_for(|stopped| *stopped).await;
        }
    }
}

/// Which signal asked the process to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSignal {
    Terminate,
    Interrupt,
}

impl std::fmt::Display for StopSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopSignal::Terminate => "SIGTERM",
            StopSignal::Interrupt => "SIGINT",
        })
    }
}

/// Install the SIGTERM and ctrl-c handlers now (so a signal that arrives
/// while the server is still starting is not lost to the default action,
/// which would kill the process without draining) and trigger `shutdown`
/// when one arrives. Call inside the runtime, before announcing the listener.
pub fn on_terminate(shutdown: &Shutdown) -> std::io::Result<tokio::task::JoinHandle<Option<StopSignal>>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let shutdown = shutdown.clone();
    Ok(tokio::spawn(async move {
        let stopped = shutdown.wait();
        let got = tokio::select! {
            _ = terminate.recv() => Some(StopSignal::Terminate),
            _ = interrupt.recv() => Some(StopSignal::Interrupt),
            _ = stopped => None,
        };
        if let Some(signal) = got {
            tracing::info!(%signal, "shutting down: no new connections, draining in-flight requests");
            shutdown.trigger();
        }
        got
    }))
}

/// How a drain ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drained {
    /// Every in-flight request finished.
    Complete,
    /// The bound passed first; the remaining connections were dropped.
    TimedOut,
}

/// Run `server` (a server future that itself stops accepting when
/// `shutdown` triggers and returns once its connections are done, such as
/// axum's `serve(..).with_graceful_shutdown(shutdown.wait())`) and, once
/// `shutdown` has triggered, give it at most `drain` to finish.
pub async fn serve_with_drain<F, E>(server: F, shutdown: &Shutdown, drain: Duration) -> Result<Drained, E>
where
    F: Future<Output = Result<(), E>> + Send,
{
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return result.map(|()| Drained::Complete),
        () = shutdown.wait() => {}
    }
    match tokio::time::timeout(drain, server).await {
        Ok(result) => result.map(|()| Drained::Complete),
        Err(_) => {
            tracing::warn!(
                drain_secs = drain.as_secs_f64(),
                "in-flight requests did not finish in time; dropping them"
            );
            Ok(Drained::TimedOut)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_resolves_after_trigger_and_at_once_when_already_triggered() {
        let shutdown = Shutdown::new();
        let waiting = tokio::spawn(shutdown.wait());
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        assert!(!shutdown.is_triggered());
        shutdown.clone().trigger();
        waiting.await.expect("the waiter ends");
        assert!(shutdown.is_triggered());
        shutdown.wait().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_that_finishes_its_requests_drains_completely() {
        let shutdown = Shutdown::new();
        let stop = shutdown.wait();
        let server = async move {
            stop.await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok::<(), std::io::Error>(())
        };
        shutdown.trigger();
        let drained = serve_with_drain(server, &shutdown, Duration::from_secs(5)).await.expect("no error");
        assert_eq!(drained, Drained::Complete);
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_stuck_past_the_bound_is_abandoned() {
        let shutdown = Shutdown::new();
        let server = std::future::pending::<Result<(), std::io::Error>>();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            trigger.trigger();
        });
        let drained = serve_with_drain(server, &shutdown, Duration::from_secs(5)).await.expect("no error");
        assert_eq!(drained, Drained::TimedOut);
    }

    #[tokio::test]
    async fn a_server_error_before_shutdown_is_returned() {
        let shutdown = Shutdown::new();
        let server = async { Err::<(), _>(std::io::Error::other("bind lost")) };
        let err = serve_with_drain(server, &shutdown, Duration::from_secs(5)).await.expect_err("the error");
        assert_eq!(err.to_string(), "bind lost");
    }
}
