//! The shared state every request and background task reads, built once at
//! start: the configuration, the loaded policy (the [`Reloader`] swaps it
//! whole while in-flight requests keep their `Arc` of the old one), the
//! store, the metrics, the cached load and the clock.

use crate::auth::Clients;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::reload::Reloader;
use arc_swap::ArcSwap;
use routec_store::Store;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The open-ticket counts routing uses: read from the store every
/// `limits.load_refresh` and after each change through the API, never once
/// per request.
#[derive(Default)]
pub struct LoadCache {
    counts: ArcSwap<HashMap<String, u64>>,
    refreshed_at: Mutex<Option<jiff::Timestamp>>,
}

impl LoadCache {
    pub fn counts(&self) -> Arc<HashMap<String, u64>> {
        self.counts.load_full()
    }

    pub fn refreshed_at(&self) -> Option<jiff::Timestamp> {
        *self.refreshed_at.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Re-read the counts from the store (negative counts, which an outcome
    /// without a recorded decision can produce, are read as zero).
    pub async fn refresh(
        &self,
        store: &Store,
        metrics: &Metrics,
        now: jiff::Timestamp,
    ) -> Result<(), routec_store::StoreError> {
        let stored = store.load().await?;
        let counts: BTreeMap<String, u64> =
            stored.into_iter().map(|(name, n)| (name, u64::try_from(n).unwrap_or(0))).collect();
        metrics.set_load(&counts);
        self.counts.store(Arc::new(counts.into_iter().collect()));
        *self.refreshed_at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(now);
        Ok(())
    }
}

/// Where time comes from: the wall clock in the service, a fixed instant in tests.
pub type Clock = Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

/// Everything a handler needs. Built once by [`crate::Service::start`].
pub struct State {
    pub config: Config,
    pub clients: Arc<Clients>,
    pub policy: Arc<Reloader>,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub load: LoadCache,
    pub clock: Clock,
    pub started_at: jiff::Timestamp,
    /// The connected helpdesks (`[helpdesk.*]`), for the webhooks.
    pub helpdesks: crate::webhooks::Helpdesks,
}

impl State {
    pub fn now(&self) -> jiff::Timestamp {
        (self.clock)()
    }
}

/// The state as handlers hold it.
pub type Shared = Arc<State>;
