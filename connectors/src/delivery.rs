//! The contract between the outbox worker and the connectors that deliver
//! side effects: one outbox row in, one [`DeliveryOutcome`] out. The worker
//! (in `routec-server`) owns claiming, backoff and dead-lettering; a
//! [`Sink`] owns only the vendor request for the kinds it names.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// One side effect to deliver, as the outbox holds it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The outbox row's id (`obx_…`), for logs.
    pub id: &'a str,
    /// The decision that caused it (`dec_…`).
    pub decision_id: &'a str,
    /// What to do, e.g. `slack`, `email`, `jira`, `linear`, `zendesk.update`.
    pub kind: &'a str,
    /// Where: a channel, an address, a project, a helpdesk ticket id.
    pub target: &'a str,
    /// What to send: the connector's own payload, written when the decision
    /// was recorded (so a delivery never depends on a later policy version).
    pub payload: &'a serde_json::Value,
    /// Passed to the vendor where its API accepts one, so repeats are harmless.
    pub idempotency_key: Option<&'a str>,
    /// Which attempt this is (1 for the first).
    pub attempt: u32,
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    /// The vendor accepted it. `receipt` is what to keep with the decision
    /// (an issue key and URL, a message timestamp), `Null` when nothing.
    Delivered {
        /// The vendor's answer worth keeping.
        receipt: serde_json::Value,
    },
    /// A transient failure (timeout, 5xx, 429): try again later, not before
    /// `retry_after` when the vendor said so (`Retry-After`).
    RetryLater {
        /// Why, for `last_error` (never containing a secret).
        error: String,
        /// The vendor's requested delay, if any.
        retry_after: Option<Duration>,
    },
    /// A permanent refusal (4xx other than 408/429, a payload the vendor
    /// rejects): retrying cannot help, the item goes to the dead letters.
    Failed {
        /// Why, for `last_error` (never containing a secret).
        error: String,
    },
}

/// A boxed future, so that sinks of different types sit in one table.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A connector that delivers some kinds of outbox rows.
pub trait Sink: Send + Sync {
    /// The outbox kinds this sink delivers.
    fn kinds(&self) -> &[&'static str];
    /// Make the vendor request for one delivery.
    fn deliver<'a>(&'a self, delivery: Delivery<'a>) -> BoxFuture<'a, DeliveryOutcome>;
}
