//! The records the store takes and gives back: decisions, outcomes, outbox
//! items, policy versions, and the options a store opens with.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Which database a [`crate::Store`] writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// One embedded file (WAL mode): one process writes.
    Sqlite,
    /// A PostgreSQL server shared by several replicas.
    Postgres,
}

impl Backend {
    /// The name used in logs and metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// How hard a group commit pushes its bytes to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Every group commit is on stable storage before any caller is
    /// answered: SQLite `synchronous = FULL`, PostgreSQL's default
    /// `synchronous_commit = on`. A power cut loses no answered decision.
    #[default]
    Full,
    /// SQLite `synchronous = NORMAL` (WAL: a power cut may lose the last
    /// commits, a crash of the process loses nothing), PostgreSQL
    /// `synchronous_commit = off` (a crash of the server may lose the last
    /// commits). Never corrupts the log.
    Normal,
}

/// How a store opens and how its group commit behaves.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Flush discipline of each commit.
    pub durability: Durability,
    /// Connections in the pool (readers, plus the one the writer holds while
    /// it commits).
    pub max_connections: u32,
    /// Most decisions one group commit writes; more wait for the next one.
    pub max_group_rows: usize,
    /// How long the writer lingers after the first waiting request to gather
    /// more. Zero (the default) commits as soon as the queue is empty: under
    /// load the queue refills during each commit, so groups form by
    /// themselves without adding latency when the service is quiet.
    pub group_delay: Duration,
    /// Record requests that may wait for the writer; a caller beyond that
    /// waits for room (back-pressure instead of unbounded memory).
    pub queue_capacity: usize,
    /// How long a SQLite connection waits for a lock held by another.
    pub busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            durability: Durability::Full,
            max_connections: 8,
            max_group_rows: 4096,
            group_delay: Duration::ZERO,
            queue_capacity: 8192,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// A decision to record, with the side effects to write in its transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDecision {
    /// The ticket's id, when it has one (only such tickets count in the load).
    pub ticket_id: Option<String>,
    /// The idempotency key: the client-scoped `Idempotency-Key`, or the
    /// ticket id with the content hash. Recording it twice stores it once.
    pub dedup_key: String,
    /// Hash of the ticket as received.
    pub content_hash: String,
    /// Hash of the policy version that decided.
    pub policy_hash: String,
    /// Name of that policy.
    pub policy_name: String,
    /// The version number of that policy's `policy` line.
    pub policy_version: u64,
    /// When the decision was made (stored at millisecond precision).
    pub decided_at: Timestamp,
    /// The destination the ticket is assigned to, if any.
    pub destination: Option<String>,
    /// The priority decided.
    pub priority: String,
    /// The escalation decided, if any.
    pub escalation: Option<String>,
    /// The full enforced decision (signals, trace), redacted.
    pub decision: serde_json::Value,
    /// The decision the shadow rules would have made, when they ran.
    pub shadow: Option<serde_json::Value>,
    /// The ticket as decided, redacted.
    pub ticket: serde_json::Value,
    /// Side effects written in the same transaction (delivered later by the
    /// outbox workers). Written only when the decision is fresh.
    pub outbox: Vec<NewOutboxItem>,
}

/// A decision as the log holds it: every [`NewDecision`] field but the outbox
/// (times at millisecond precision).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDecision {
    /// `dec_` and a time-ordered unique id.
    pub id: String,
    /// The ticket's id, when it has one.
    pub ticket_id: Option<String>,
    /// The idempotency key it was recorded under.
    pub dedup_key: String,
    /// Hash of the ticket as received.
    pub content_hash: String,
    /// Hash of the policy version that decided.
    pub policy_hash: String,
    /// Name of that policy.
    pub policy_name: String,
    /// The version number of that policy's `policy` line.
    pub policy_version: u64,
    /// When the decision was made.
    pub decided_at: Timestamp,
    /// The destination assigned, if any.
    pub destination: Option<String>,
    /// The priority decided.
    pub priority: String,
    /// The escalation decided, if any.
    pub escalation: Option<String>,
    /// The full enforced decision, redacted.
    pub decision: serde_json::Value,
    /// The shadow decision beside it, when shadow rules ran.
    pub shadow: Option<serde_json::Value>,
    /// The ticket as decided, redacted.
    pub ticket: serde_json::Value,
}

/// What [`crate::Store::record`] answers once the commit is durable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    /// The stored decision: the new one, or the one first stored under the
    /// same dedup key.
    pub decision: StoredDecision,
    /// False when the dedup key was already in the log and nothing was written.
    pub fresh: bool,
}

/// What happened to a ticket after routec decided it, as a helpdesk reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOutcome {
    /// The ticket this is about.
    pub ticket_id: String,
    /// The decision it answers, when the reporter knows it.
    pub decision_id: Option<String>,
    /// Where the ticket ended up (a human's choice); moves it in the load.
    pub final_destination: Option<String>,
    /// Changes of group or assignee after the first assignment.
    pub reassignments: Option<u32>,
    /// First assignment to a person.
    pub first_assigned_at: Option<Timestamp>,
    /// First public response.
    pub first_response_at: Option<Timestamp>,
    /// Resolution.
    pub resolved_at: Option<Timestamp>,
    /// The ticket is resolved: it leaves the load.
    pub resolved: bool,
    /// When the outcome was received.
    pub recorded_at: Timestamp,
    /// Who reported it: `api`, `zendesk`, …
    pub source: String,
}

/// An outcome as the log holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredOutcome {
    /// `out_` and a time-ordered unique id.
    pub id: String,
    /// The fields of the [`NewOutcome`] (times at millisecond precision).
    #[serde(flatten)]
    pub outcome: NewOutcome,
}

/// A side effect to deliver after the decision commits (issue 14).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOutboxItem {
    /// What to do: `writeback`, `slack`, `email`, …
    pub kind: String,
    /// Where: a connector name or an operator-configured endpoint.
    pub target: String,
    /// What to send.
    pub payload: serde_json::Value,
    /// Passed to the receiver so that a repeated delivery is harmless.
    pub idempotency_key: Option<String>,
}

/// A policy version the service loaded (hot reload records each one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// The policy's hash (the key: the same version loaded twice, or by two
    /// replicas, is one row keeping its first load time).
    pub policy_hash: String,
    /// The policy's name.
    pub policy_name: String,
    /// The version number of the policy's `policy` line.
    pub version: u64,
    /// When it was loaded.
    pub loaded_at: Timestamp,
    /// The policy's source text, when kept for audits.
    pub source: Option<String>,
}

/// Counters of the group-commit writer, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WriterStats {
    /// Transactions committed by the writer.
    pub commits: u64,
    /// Decisions those transactions wrote (fresh ones only).
    pub decisions: u64,
    /// Record requests answered (fresh or not, each batch counts once).
    pub requests: u64,
}
