//! The outbox delivery worker: claims due outbox rows (a lease; `FOR UPDATE
//! SKIP LOCKED` on PostgreSQL, so replicas never hold the same row),
//! re-reads each one before sending (a repeat is then at worst a vendor
//! call already made, never one made twice by two live workers), hands it
//! to the [`Sink`] of its kind, and records the outcome: done (with the
//! vendor's receipt, and a private note on the helpdesk ticket when an issue
//! was created for it), due again after an exponential backoff with jitter
//! (never before a bounded `Retry-After`), or dead after `max_attempts` or a
//! permanent refusal. Dead rows are listed at `GET /v1/outbox?state=dead`
//! and given new attempts by `POST /v1/outbox/{id}/retry`.
//!
//! Started by [`crate::Service::start`] unless `[delivery] enabled = false`
//! (a replica can serve without delivering, or the other way round); stops
//! at shutdown after the batch in hand. Pending rows survive a restart in
//! the store; a row whose worker died is claimed again when its lease ends.

use crate::config::{parse_duration, ConfigError};
use crate::metrics::Metrics;
use crate::shutdown::Shutdown;
use crate::state::Clock;
use routec_connectors::sink::{Notice, JIRA, LINEAR};
use routec_connectors::{Delivery, DeliveryOutcome, Sink};
use routec_store::{NewOutboxItem, OutboxItem, OutboxState, Store, StoreError};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// `[delivery]` as the config file writes it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryFile {
    /// Run the worker in this process (default true).
    pub enabled: Option<bool>,
    /// Attempts before a row is dead (default 8).
    pub max_attempts: Option<u32>,
    /// The first retry's delay, doubled for each later one (default `10s`).
    pub backoff: Option<String>,
    /// The longest delay between two attempts (default `1h`).
    pub max_backoff: Option<String>,
    /// The longest `Retry-After` honoured (default `15m`).
    pub max_retry_after: Option<String>,
    /// How often an idle worker looks for due rows (default `1s`).
    pub poll_interval: Option<String>,
    /// Rows claimed at once (default 16).
    pub batch: Option<u32>,
    /// How long a claim holds a row (default `2m`); a delivery is cut off at
    /// half of it, so the lease never runs out under a live worker.
    pub lease: Option<String>,
}

/// The worker's validated settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliverySettings {
    pub enabled: bool,
    pub max_attempts: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub max_retry_after: Duration,
    pub poll_interval: Duration,
    pub batch: u32,
    pub lease: Duration,
}

impl Default for DeliverySettings {
    fn default() -> DeliverySettings {
        DeliverySettings {
            enabled: true,
            max_attempts: 8,
            backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(3600),
            max_retry_after: Duration::from_secs(15 * 60),
            poll_interval: Duration::from_secs(1),
            batch: 16,
            lease: Duration::from_secs(120),
        }
    }
}

impl DeliverySettings {
    /// The file's settings over the defaults; `ROUTEC_DELIVERY_ENABLED`
    /// (`true` / `false`) wins over `enabled`.
    pub fn resolve(file: DeliveryFile, env: &dyn Fn(&str) -> Option<String>) -> Result<DeliverySettings, ConfigError> {
        let defaults = DeliverySettings::default();
        let invalid = |setting: &str, reason: String| ConfigError::Invalid { setting: setting.into(), reason };
        let duration = |setting: &str, text: Option<String>, default: Duration| match text {
            Some(text) => match parse_duration(&text) {
                Ok(d) if d.is_zero() => Err(invalid(setting, "must be longer than zero".into())),
                Ok(d) => Ok(d),
                Err(e) => Err(invalid(setting, e)),
            },
            None => Ok(default),
        };
        let enabled = match env("ROUTEC_DELIVERY_ENABLED") {
            Some(text) => match text.trim() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                other => return Err(invalid("ROUTEC_DELIVERY_ENABLED", format!("`{other}` is not `true` or `false`"))),
            },
            None => file.enabled.unwrap_or(defaults.enabled),
        };
        let max_attempts = file.max_attempts.unwrap_or(defaults.max_attempts);
        if max_attempts == 0 {
            return Err(invalid("delivery.max_attempts", "must be at least 1".into()));
        }
        let batch = file.batch.unwrap_or(defaults.batch);
        if batch == 0 {
            return Err(invalid("delivery.batch", "must be at least 1".into()));
        }
        let settings = DeliverySettings {
            enabled,
            max_attempts,
            backoff: duration("delivery.backoff", file.backoff, defaults.backoff)?,
            max_backoff: duration("delivery.max_backoff", file.max_backoff, defaults.max_backoff)?,
            max_retry_after: duration("delivery.max_retry_after", file.max_retry_after, defaults.max_retry_after)?,
            poll_interval: duration("delivery.poll_interval", file.poll_interval, defaults.poll_interval)?,
            batch,
            lease: duration("delivery.lease", file.lease, defaults.lease)?,
        };
        if settings.max_backoff < settings.backoff {
            return Err(invalid("delivery.max_backoff", "is shorter than `delivery.backoff`".into()));
        }
        Ok(settings)
    }

    /// The delay before attempt `attempts + 1`: `backoff · 2^(attempts-1)`,
    /// capped, then a random point in its upper half (`jitter` in [0, 1]),
    /// so that rows failing together do not retry together.
    pub fn delay_after(&self, attempts: u32, jitter: f64) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        let full = self.backoff.saturating_mul(1 << doublings).min(self.max_backoff);
        full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

/// What one delivery attempt came to, as the worker recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    Delivered,
    Retried,
    Dead,
    /// Another worker holds the row now, or it was finished meanwhile.
    Skipped,
}

/// The delivery worker of one process.
pub struct Worker {
    store: Store,
    sinks: HashMap<&'static str, Arc<dyn Sink>>,
    settings: DeliverySettings,
    metrics: Arc<Metrics>,
    clock: Clock,
}

impl Worker {
    /// A worker delivering with `sinks` (each for the kinds it names; a
    /// later sink for the same kind wins).
    pub fn new(
        store: Store,
        sinks: &[Arc<dyn Sink>],
        settings: DeliverySettings,
        metrics: Arc<Metrics>,
        clock: Clock,
    ) -> Worker {
        let mut by_kind = HashMap::new();
        for sink in sinks {
            for kind in sink.kinds() {
                by_kind.insert(*kind, Arc::clone(sink));
            }
        }
        Worker { store, sinks: by_kind, settings, metrics, clock }
    }

    /// Claims one batch of due rows and delivers them concurrently. Returns
    /// how many were claimed.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let now = (self.clock)();
        let claimed = self.store.claim_outbox(self.settings.batch, now, self.settings.lease).await?;
        let count = claimed.len();
        let mut deliveries = tokio::task::JoinSet::new();
        for item in claimed {
            let worker = self.shallow_clone();
            deliveries.spawn(async move { worker.deliver(item).await });
        }
        while let Some(joined) = deliveries.join_next().await {
            if let Err(e) = joined {
                tracing::error!(error = %e, "an outbox delivery task failed; its lease will run out and it is retried");
            }
        }
        self.refresh_gauge().await;
        Ok(count)
    }

    fn shallow_clone(&self) -> Worker {
        Worker {
            store: self.store.clone(),
            sinks: self.sinks.clone(),
            settings: self.settings.clone(),
            metrics: Arc::clone(&self.metrics),
            clock: Arc::clone(&self.clock),
        }
    }

    /// Delivers until `shutdown`: a full batch is followed at once by the
    /// next, an empty one by a pause of `poll_interval`.
    pub async fn run(self, shutdown: Shutdown) {
        let stopped = shutdown.wait();
        tokio::pin!(stopped);
        loop {
            if shutdown.is_triggered() {
                return;
            }
            let pause = match self.run_once().await {
                Ok(claimed) if claimed >= self.settings.batch as usize => Duration::ZERO,
                Ok(_) => self.settings.poll_interval,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim outbox rows; trying again");
                    self.settings.poll_interval
                }
            };
            if pause.is_zero() {
                continue;
            }
            tokio::select! {
                () = &mut stopped => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn refresh_gauge(&self) {
        match self.store.outbox_counts().await {
            Ok(counts) => {
                let waiting: u64 = counts
                    .iter()
                    .filter(|(state, _)| matches!(state, OutboxState::Pending | OutboxState::Delivering))
                    .map(|(_, n)| n)
                    .sum();
                self.metrics.outbox_pending.set(i64::try_from(waiting).unwrap_or(i64::MAX));
            }
            Err(e) => tracing::warn!(error = %e, "cannot count the outbox"),
        }
    }

    /// One claimed row: re-read, deliver, record.
    pub async fn deliver(&self, item: OutboxItem) -> Recorded {
        match self.store.outbox_item(&item.id).await {
            Ok(Some(current)) if current.state == OutboxState::Delivering && current.attempts == item.attempts => {}
            Ok(_) => return Recorded::Skipped,
            Err(e) => {
                tracing::warn!(id = %item.id, error = %e, "cannot re-read an outbox row; its lease will run out");
                return Recorded::Skipped;
            }
        }
        let outcome = match self.sinks.get(item.kind.as_str()) {
            None => DeliveryOutcome::Failed { error: format!("no sink is configured for `{}`", item.kind) },
            Some(sink) => {
                let delivery = Delivery {
                    id: &item.id,
                    decision_id: &item.decision_id,
                    kind: &item.kind,
                    target: &item.target,
                    payload: &item.payload,
                    idempotency_key: item.idempotency_key.as_deref(),
                    attempt: item.attempts,
                };
                let limit = self.settings.lease / 2;
                match tokio::time::timeout(limit, sink.deliver(delivery)).await {
                    Ok(outcome) => outcome,
                    Err(_) => DeliveryOutcome::RetryLater {
                        error: format!("the delivery took longer than {} s", limit.as_secs()),
                        retry_after: None,
                    },
                }
            }
        };
        let recorded = self.record(&item, outcome).await;
        match recorded {
            Ok(recorded) => recorded,
            Err(e) => {
                tracing::warn!(id = %item.id, error = %e, "cannot record an outbox outcome; its lease will run out");
                Recorded::Skipped
            }
        }
    }

    async fn record(&self, item: &OutboxItem, outcome: DeliveryOutcome) -> Result<Recorded, StoreError> {
        let now = (self.clock)();
        let kind = item.kind.as_str();
        match outcome {
            DeliveryOutcome::Delivered { receipt } => {
                let follow_ups = follow_ups(item, &receipt);
                if !self.store.complete_outbox_with(&item.id, &receipt, &follow_ups, now).await? {
                    return Ok(Recorded::Skipped);
                }
                tracing::info!(id = %item.id, kind, attempt = item.attempts, "delivered");
                self.metrics.outbox(kind, "delivered");
                Ok(Recorded::Delivered)
            }
            DeliveryOutcome::RetryLater { error, retry_after } if item.attempts < self.settings.max_attempts => {
                let delay = self
                    .settings
                    .delay_after(item.attempts, jitter())
                    .max(retry_after.unwrap_or(Duration::ZERO).min(self.settings.max_retry_after));
                let next_try = now
                    .checked_add(jiff::SignedDuration::try_from(delay).unwrap_or(jiff::SignedDuration::MAX))
                    .unwrap_or(now);
                if !self.store.retry_outbox(&item.id, &error, next_try, now).await? {
                    return Ok(Recorded::Skipped);
                }
                tracing::warn!(id = %item.id, kind, attempt = item.attempts, %error, retry_in_s = delay.as_secs(), "delivery failed; retrying");
                self.metrics.outbox(kind, "retried");
                Ok(Recorded::Retried)
            }
            DeliveryOutcome::RetryLater { error, .. } => {
                let error = format!("{error} (gave up after {} attempts)", item.attempts);
                self.dead(item, &error, now).await
            }
            DeliveryOutcome::Failed { error } => self.dead(item, &error, now).await,
        }
    }

    async fn dead(&self, item: &OutboxItem, error: &str, now: jiff::Timestamp) -> Result<Recorded, StoreError> {
        if !self.store.dead_outbox(&item.id, error, now).await? {
            return Ok(Recorded::Skipped);
        }
        tracing::error!(id = %item.id, kind = %item.kind, attempt = item.attempts, %error, "delivery is dead");
        self.metrics.outbox(&item.kind, "dead");
        Ok(Recorded::Dead)
    }
}

/// A created issue's key goes back to the helpdesk ticket the decision came
/// from, as a private note (`<helpdesk>.note`, delivered by that helpdesk's
/// sink): `{ "body": …, "issue": receipt }`.
fn follow_ups(item: &OutboxItem, receipt: &serde_json::Value) -> Vec<NewOutboxItem> {
    if item.kind != JIRA && item.kind != LINEAR {
        return Vec::new();
    }
    let Ok(notice) = Notice::from_payload(&item.payload) else { return Vec::new() };
    let Some(helpdesk) = notice.helpdesk else { return Vec::new() };
    let tracker = if item.kind == JIRA { "Jira" } else { "Linear" };
    let key = receipt["key"].as_str().unwrap_or("?");
    let body = match receipt["url"].as_str() {
        Some(url) => format!("routec created {tracker} issue {key}: {url}"),
        None => format!("routec created {tracker} issue {key}"),
    };
    vec![NewOutboxItem {
        kind: format!("{}.note", helpdesk.helpdesk),
        target: helpdesk.ticket_id,
        payload: json!({ "body": body, "issue": receipt }),
        idempotency_key: item.idempotency_key.as_ref().map(|key| format!("{key}/note")),
    }]
}

/// A uniform number in [0, 1] for the backoff's jitter.
fn jitter() -> f64 {
    let bits = getrandom::u64().unwrap_or_else(|_| jiff::Timestamp::now().subsec_nanosecond().unsigned_abs().into());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Starts the worker on its own task.
pub fn spawn(worker: Worker, shutdown: Shutdown) -> tokio::task::JoinHandle<()> {
    tokio::spawn(worker.run(shutdown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter_in_the_upper_half() {
        let settings = DeliverySettings::default();
        assert_eq!(settings.delay_after(1, 1.0), Duration::from_secs(10));
        assert_eq!(settings.delay_after(1, 0.0), Duration::from_secs(5));
        assert_eq!(settings.delay_after(3, 1.0), Duration::from_secs(40));
        assert_eq!(settings.delay_after(40, 1.0), Duration::from_secs(3600), "capped");
        for _ in 0..100 {
            let delay = settings.delay_after(2, jitter());
            assert!(delay >= Duration::from_secs(10) && delay <= Duration::from_secs(20), "{delay:?}");
        }
    }

    #[test]
    fn settings_are_validated() {
        let parse = |text: &str| DeliverySettings::resolve(toml::from_str(text).expect("toml"), &|_| None);
        assert_eq!(parse("").expect("defaults"), DeliverySettings::default());
        let custom = parse("max_attempts = 3\nbackoff = \"1s\"\nmax_backoff = \"4s\"").expect("valid");
        assert_eq!((custom.max_attempts, custom.backoff), (3, Duration::from_secs(1)));
        for bad in ["max_attempts = 0", "backoff = \"soon\"", "backoff = \"1h\"\nmax_backoff = \"1m\"", "batch = 0"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let off = DeliverySettings::resolve(DeliveryFile::default(), &|name| {
            (name == "ROUTEC_DELIVERY_ENABLED").then(|| "false".to_owned())
        })
        .expect("valid");
        assert!(!off.enabled);
    }

    #[test]
    fn an_issue_created_for_a_helpdesk_ticket_is_noted_on_it() {
        let item = OutboxItem {
            id: "obx_1".into(),
            decision_id: "dec_1".into(),
            kind: "jira".into(),
            target: "LEGAL".into(),
            payload: json!({ "priority": "P1", "helpdesk": { "helpdesk": "zendesk", "ticket_id": "4711" } }),
            idempotency_key: Some("k#2:jira".into()),
            attempts: 1,
            next_try_at: jiff::Timestamp::UNIX_EPOCH,
            state: OutboxState::Delivering,
            last_error: None,
            receipt: None,
        };
        let receipt = json!({ "key": "LEGAL-7", "url": "https://acme.atlassian.net/browse/LEGAL-7" });
        let notes = follow_ups(&item, &receipt);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].kind, "zendesk.note");
        assert_eq!(notes[0].target, "4711");
        assert_eq!(
            notes[0].payload["body"],
            "routec created Jira issue LEGAL-7: https://acme.atlassian.net/browse/LEGAL-7"
        );
        assert_eq!(notes[0].idempotency_key.as_deref(), Some("k#2:jira/note"));
        let from_api = OutboxItem { payload: json!({ "priority": "P1" }), ..item.clone() };
        assert!(follow_ups(&from_api, &receipt).is_empty());
        let slack = OutboxItem { kind: "slack".into(), ..item };
        assert!(follow_ups(&slack, &receipt).is_empty());
    }
}
