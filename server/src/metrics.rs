//! The service's Prometheus metrics (`GET /metrics`), all named `routec_…`:
//! decision latency, decisions by destination / escalation / priority, shadow
//! divergence, rejected requests by reason, reloads, the loaded policy, store
//! write latency, the open-ticket load per destination, and outbox
//! deliveries (delivered / retried / dead by kind, rows waiting).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    /// `route` or `batch`.
    pub endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// `none` when the policy routed the ticket nowhere.
    pub destination: String,
    /// The escalation's name, `none` when it did not escalate.
    pub escalation: String,
    pub priority: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// `success` or `failure`.
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PolicyLabels {
    pub name: String,
    pub version: String,
    pub hash: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DestinationLabels {
    pub destination: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutboxLabels {
    /// The outbox kind: `slack`, `email`, `jira`, `zendesk.update`, …
    pub kind: String,
    /// `delivered`, `retried` or `dead`.
    pub result: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 50 µs … ~6.5 s: a decision is microseconds, a group commit milliseconds.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 18))
}

/// Every metric the service exports, registered once.
pub struct Metrics {
    registry: Registry,
    pub decision_seconds: HistogramFamily<EndpointLabels>,
    pub decisions: Family<DecisionLabels, Counter>,
    pub replays: Counter,
    pub shadow_divergence: Counter,
    pub rejected: Family<ReasonLabels, Counter>,
    pub reloads: Family<ResultLabels, Counter>,
    pub policy_info: Family<PolicyLabels, Gauge>,
    pub store_write_seconds: Histogram,
    pub load: Family<DestinationLabels, Gauge>,
    pub outbox_attempts: Family<OutboxLabels, Counter>,
    pub outbox_pending: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let decision_seconds =
            HistogramFamily::<EndpointLabels>::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "routec_decision_duration_seconds",
            "Time to validate, decide and commit the tickets of one request",
            decision_seconds.clone(),
        );
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register("routec_decisions", "Decisions committed to the log", decisions.clone());
        let replays = Counter::default();
        registry.register(
            "routec_decisions_replayed",
            "Requests answered with an already stored decision (idempotent retries)",
            replays.clone(),
        );
        let shadow_divergence = Counter::default();
        registry.register(
            "routec_shadow_divergence",
            "Decisions whose shadow decision sends the ticket elsewhere than the enforced one",
            shadow_divergence.clone(),
        );
        let rejected = Family::<ReasonLabels, Counter>::default();
        registry.register("routec_requests_rejected", "Requests refused, by error code", rejected.clone());
        let reloads = Family::<ResultLabels, Counter>::default();
        registry.register("routec_policy_reloads", "Policy reloads, by result", reloads.clone());
        let policy_info = Family::<PolicyLabels, Gauge>::default();
        registry.register("routec_policy_info", "The loaded policy (value 1)", policy_info.clone());
        let store_write_seconds = latency_histogram();
        registry.register(
            "routec_store_write_duration_seconds",
            "Time until the store committed a request's decisions",
            store_write_seconds.clone(),
        );
        let load = Family::<DestinationLabels, Gauge>::default();
        registry.register("routec_load", "Open tickets per destination, as routing sees them", load.clone());
        let outbox_attempts = Family::<OutboxLabels, Counter>::default();
        registry.register(
            "routec_outbox_deliveries",
            "Outbox delivery attempts by kind and result (delivered, retried, dead)",
            outbox_attempts.clone(),
        );
        let outbox_pending = Gauge::default();
        registry.register(
            "routec_outbox_pending",
            "Outbox rows waiting for delivery (pending or being delivered), as the worker last counted",
            outbox_pending.clone(),
        );
        Metrics {
            registry,
            decision_seconds,
            decisions,
            replays,
            shadow_divergence,
            rejected,
            reloads,
            policy_info,
            store_write_seconds,
            load,
            outbox_attempts,
            outbox_pending,
        }
    }

    /// One outbox delivery attempt ended `result` (`delivered`, `retried`, `dead`).
    pub fn outbox(&self, kind: &str, result: &'static str) {
        self.outbox_attempts.get_or_create(&OutboxLabels { kind: kind.to_string(), result }).inc();
    }

    /// A decision that was written (replays are counted apart).
    pub fn decided(&self, destination: Option<&str>, escalation: Option<&str>, priority: &str) {
        self.decisions
            .get_or_create(&DecisionLabels {
                destination: destination.unwrap_or("none").to_string(),
                escalation: escalation.unwrap_or("none").to_string(),
                priority: priority.to_string(),
            })
            .inc();
    }

    pub fn rejected(&self, reason: &str) {
        self.rejected.get_or_create(&ReasonLabels { reason: reason.to_string() }).inc();
    }

    /// A reload attempt finished.
    pub fn reloaded(&self, success: bool) {
        let result = if success { "success" } else { "failure" };
        self.reloads.get_or_create(&ResultLabels { result }).inc();
    }

    /// The policy now serving: the info metric carries only its labels.
    pub fn policy_loaded(&self, name: &str, version: u64, hash: &str) {
        self.policy_info.clear();
        self.policy_info
            .get_or_create(&PolicyLabels {
                name: name.to_string(),
                version: version.to_string(),
                hash: hash.to_string(),
            })
            .set(1);
    }

    /// The open-ticket counts routing now uses.
    pub fn set_load(&self, counts: &BTreeMap<String, u64>) {
        self.load.clear();
        for (destination, n) in counts {
            self.load
                .get_or_create(&DestinationLabels { destination: destination.clone() })
                .set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
    }

    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels() {
        let m = Metrics::new();
        m.decided(Some("billing"), None, "high");
        m.rejected("unauthorized");
        m.reloaded(false);
        m.policy_loaded("saas", 3, "abc");
        m.policy_loaded("saas", 4, "def");
        m.set_load(&BTreeMap::from([("billing".to_string(), 5)]));
        m.store_write_seconds.observe(0.001);
        m.outbox("slack", "retried");
        m.outbox_pending.set(3);
        let text = m.render();
        for line in [
            r#"routec_decisions_total{destination="billing",escalation="none",priority="high"} 1"#,
            r#"routec_requests_rejected_total{reason="unauthorized"} 1"#,
            r#"routec_policy_reloads_total{result="failure"} 1"#,
            r#"routec_policy_info{name="saas",version="4",hash="def"} 1"#,
            r#"routec_load{destination="billing"} 5"#,
            "routec_store_write_duration_seconds_count 1",
            "routec_shadow_divergence_total 0",
            r#"routec_outbox_deliveries_total{kind="slack",result="retried"} 1"#,
            "routec_outbox_pending 3",
        ] {
            assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
        }
        assert!(!text.contains(r#"hash="abc""#), "the old policy's info is gone:\n{text}");
    }
}
