//! Helpdesks as sources and write-back targets: one module per vendor
//! (webhook verification, ticket fetch, write-back, outcome capture,
//! open-ticket counts), the field mapping into the policy's schema
//! ([`mapping`]), and what the vendors share here: the `[helpdesk.*]`
//! config tables, secrets, the [`Helpdesk`] interface the service drives,
//! and how a decision becomes a write-back ([`DecisionView`]).

pub mod client;
pub mod config;
pub mod freshdesk;
pub mod intercom;
pub mod mapping;
pub mod zendesk;

pub use config::{HelpdeskError, HelpdeskFile, HelpdesksFile, Mode, Secret, SecretSource, Settings};

use crate::delivery::{BoxFuture, DeliveryOutcome, Sink};
use mapping::{FieldMapping, MappingError, Schema};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why a webhook was refused: it causes nothing and is answered 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the `{0}` header is missing")]
    Missing(&'static str),
    #[error("the signature does not match the body")]
    BadSignature,
    #[error("the signature timestamp is not a valid time")]
    BadTimestamp,
    #[error("the signature timestamp is more than 5 minutes away from now (a replay?)")]
    Stale,
    #[error("the shared secret does not match")]
    BadSecret,
}

/// What a verified webhook asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    /// A new ticket (or one waiting behind the gate): decide it.
    Route { ticket_id: String },
    /// A ticket changed (group, assignee, status): record the outcome.
    Update { ticket_id: String },
    /// Nothing to do (a topic routec does not handle), answered 200 so the
    /// helpdesk does not retry it.
    Ignored { reason: String },
}

/// What a helpdesk says became of a ticket, for the decision's outcome.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    /// The destination whose group or team holds the ticket now (through
    /// the reverse of the destination → group table); `None` when the
    /// ticket sits in a group no destination maps to.
    pub final_destination: Option<String>,
    /// Changes of group or assignee after the first assignment, when the
    /// helpdesk counts them itself (Zendesk); otherwise the service counts
    /// the destination changes it has seen.
    pub reassignments: Option<u32>,
    /// First assignment to a person.
    pub first_assigned_at: Option<jiff::Timestamp>,
    /// The ticket is solved or closed.
    pub resolved: bool,
    /// When it was solved.
    pub resolved_at: Option<jiff::Timestamp>,
}

/// One write-back to queue in the decision's transaction (an outbox row).
#[derive(Debug, Clone, PartialEq)]
pub struct WriteBack {
    /// The outbox kind: `zendesk.update`, `freshdesk.update`, `intercom.update`.
    pub kind: &'static str,
    /// The helpdesk's ticket or conversation id.
    pub target: String,
    /// The vendor requests to make, built now from the decision.
    pub payload: Value,
    /// Stable per ticket, so a repeated delivery is recognisable.
    pub idempotency_key: String,
}

/// A connected helpdesk, as the service drives it: verify a webhook, read
/// the ticket, map it, build the write-back, observe outcomes, count load.
pub trait Helpdesk: Send + Sync {
    /// `zendesk`, `freshdesk`, `intercom`: the webhook path and the outcome source.
    fn name(&self) -> &'static str;
    /// Enforce (write back) or shadow (decide and log only).
    fn mode(&self) -> Mode;
    /// Check a webhook's signature or secret. `header` looks a request
    /// header up by name (case-insensitive).
    fn verify(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
        now: jiff::Timestamp,
    ) -> Result<(), Rejection>;
    /// What a verified webhook asks for.
    fn event(&self, body: &[u8]) -> Result<WebhookEvent, HelpdeskError>;
    /// Read what the webhook does not carry: the ticket with its requester
    /// and organisation, as one JSON object whose members are the roots the
    /// field mapping's paths start from.
    fn fetch<'a>(&'a self, ticket_id: &'a str) -> BoxFuture<'a, Result<Value, HelpdeskError>>;
    /// The declared field mapping (checked against the policy's schema).
    fn mapping(&self) -> &FieldMapping;
    /// The requests that apply `decision` (a decision's JSON) to the ticket.
    /// `None` when there is nothing to write.
    fn write_back(&self, ticket_id: &str, source: &Value, decision: &Value) -> Option<WriteBack>;
    /// Read where a ticket is now, after an update webhook.
    fn observe<'a>(&'a self, ticket_id: &'a str) -> BoxFuture<'a, Result<Observation, HelpdeskError>>;
    /// Open tickets held by each mapped destination, from the helpdesk's
    /// own search or count endpoints.
    fn open_counts(&self) -> BoxFuture<'_, Result<BTreeMap<String, u64>, HelpdeskError>>;
    /// How often [`Helpdesk::open_counts`] runs.
    fn load_refresh(&self) -> std::time::Duration;
    /// The sink that delivers this helpdesk's write-back rows.
    fn sink(&self) -> Arc<dyn Sink>;
}

/// Connect every configured helpdesk, checking each field mapping against
/// the policy's schema. An error names the config key.
pub fn connect(settings: &Settings, schema: &Schema) -> Result<Vec<Arc<dyn Helpdesk>>, MappingError> {
    let mut connected: Vec<Arc<dyn Helpdesk>> = Vec::new();
    if let Some(s) = &settings.zendesk {
        connected.push(Arc::new(zendesk::Zendesk::new(s.clone(), schema)?));
    }
    if let Some(s) = &settings.freshdesk {
        connected.push(Arc::new(freshdesk::Freshdesk::new(s.clone(), schema)?));
    }
    if let Some(s) = &settings.intercom {
        connected.push(Arc::new(intercom::Intercom::new(s.clone(), schema)?));
    }
    Ok(connected)
}

/// What a write-back needs from a decision's JSON (the shape
/// `routec route` prints): read leniently, so a stored decision of an older
/// shape still writes back what it can.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DecisionView {
    pub destination: Option<String>,
    pub priority: String,
    /// The `tag` actions, in order.
    pub tags: Vec<String>,
    /// The private note: one line of explanation, then the handoff context.
    pub note: String,
}

impl DecisionView {
    pub fn read(decision: &Value) -> DecisionView {
        let text = |pointer: &str| decision.pointer(pointer).and_then(Value::as_str).map(str::to_string);
        let destination = text("/destination/name");
        let priority = text("/priority").unwrap_or_default();
        let tags = decision
            .get("actions")
            .and_then(Value::as_array)
            .map(|actions| {
                actions
                    .iter()
                    .filter(|a| a.get("kind").and_then(Value::as_str) == Some("tag"))
                    .filter_map(|a| a.get("tag").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        DecisionView { note: note(decision, destination.as_deref(), &priority), destination, priority, tags }
    }
}

/// The one-line explanation and the handoff context, as agents read them.
fn note(decision: &Value, destination: Option<&str>, priority: &str) -> String {
    use std::fmt::Write;
    let text = |pointer: &str| decision.pointer(pointer).and_then(Value::as_str);
    let mut out = format!("routec: {} · priority {priority}", destination.unwrap_or("no destination"));
    if let (Some(name), Some(reason)) = (text("/escalation/name"), text("/escalation/reason")) {
        let _ = write!(out, " · escalated by `{name}`: {reason}");
    } else if let Some(step) = decision.get("trace").and_then(Value::as_array).and_then(|t| t.last()) {
        if let Some(rule) = step.get("rule").and_then(Value::as_str) {
            let _ = write!(out, " · decided by `{rule}`");
        }
    }
    if let (Some(name), Some(version)) = (text("/policy/name"), decision.pointer("/policy/version")) {
        let _ = write!(out, " (policy {name} v{version})");
    }
    if let Some(handoff) = decision.get("handoff").filter(|h| h.is_object()) {
        out.push_str("\n\nHandoff:");
        if let Some(fields) = handoff.get("fields").and_then(Value::as_object) {
            for (path, value) in fields {
                let shown = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
                let _ = write!(out, "\n- {path}: {shown}");
            }
        }
        if let Some(intent) = handoff.get("intent").and_then(Value::as_str) {
            let confidence = handoff.get("confidence").and_then(Value::as_f64);
            let _ = write!(out, "\n- intent: {intent}");
            if let Some(c) = confidence {
                let _ = write!(out, " ({c:.2})");
            }
        }
        if let Some(sentiment) = handoff.get("sentiment").and_then(Value::as_f64) {
            let _ = write!(out, "\n- sentiment: {sentiment:.2}");
        }
        let keywords: Vec<&str> = handoff
            .get("keywords")
            .and_then(Value::as_array)
            .map(|k| k.iter().filter_map(|hit| hit.get("set").and_then(Value::as_str)).collect())
            .unwrap_or_default();
        if !keywords.is_empty() {
            let mut unique = keywords;
            unique.dedup();
            let _ = write!(out, "\n- keywords: {}", unique.join(", "));
        }
    }
    out
}

/// The JSON body of a Zendesk trigger or a Freshdesk automation, as
/// `docs/integrations.md` has it written:
/// `{"ticket_id": "{{ticket.id}}", "event": "created"}` (or `"updated"`).
pub fn trigger_event(body: &[u8]) -> Result<WebhookEvent, HelpdeskError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| HelpdeskError::Payload(format!("the webhook body is not JSON: {e}")))?;
    let ticket_id = value
        .get("ticket_id")
        .and_then(id_text)
        .ok_or_else(|| HelpdeskError::Payload("the webhook body has no `ticket_id`".into()))?;
    checked_id(&ticket_id)?;
    match value.get("event").and_then(Value::as_str).unwrap_or("created") {
        "created" | "route" => Ok(WebhookEvent::Route { ticket_id }),
        "updated" | "solved" => Ok(WebhookEvent::Update { ticket_id }),
        other => Ok(WebhookEvent::Ignored { reason: format!("event `{other}` is not handled") }),
    }
}

/// The text of a `<helpdesk>.note` row (`{ "body": …, "issue": … }`, queued
/// by the outbox worker when an issue was created for a helpdesk ticket);
/// a row without one cannot be delivered and fails for good.
pub(crate) fn note_body(payload: &Value) -> Result<&str, DeliveryOutcome> {
    payload
        .get("body")
        .and_then(Value::as_str)
        .filter(|body| !body.trim().is_empty())
        .ok_or_else(|| DeliveryOutcome::Failed { error: "the note row has no `body`".into() })
}

/// Compare a presented secret with the configured one in constant time
/// (their SHA-256 digests, so the length leaks nothing either).
pub(crate) fn same_secret(presented: &str, secret: &Secret) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(secret.expose().as_bytes());
    a.ct_eq(&b).into()
}

/// The destination a group or team id stands for (the reverse table).
pub(crate) fn destination_of(groups: &BTreeMap<String, String>, group_id: &str) -> Option<String> {
    groups.iter().find(|(_, id)| id.as_str() == group_id).map(|(destination, _)| destination.clone())
}

/// A JSON scalar id (Zendesk and Freshdesk send numbers, triggers strings) as text.
pub(crate) fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A helpdesk ticket id as it may appear in a URL path: digits (and, for
/// Intercom conversation ids, nothing else either), so ticket data can never
/// steer a request elsewhere on the host.
pub(crate) fn checked_id(id: &str) -> Result<&str, HelpdeskError> {
    if !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(HelpdeskError::Payload(format!("`{id}` is not a ticket id (digits only)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_decision_reads_as_destination_priority_tags_and_note() {
        let decision = json!({
            "destination": {"name": "legal_review", "kind": "queue", "available": true},
            "priority": "P1",
            "escalation": {"name": "legal_threat", "reason": "text has legal", "location": "p.route:1:1"},
            "actions": [
                {"kind": "notify", "channel": "slack", "target": "#legal"},
                {"kind": "tag", "tag": "legal"}
            ],
            "handoff": {"escalation": "legal_threat", "reason": "text has legal", "intent": "account",
                        "confidence": 0.91, "sentiment": -0.7, "keywords": [{"set": "legal", "field": "body"}],
                        "fields": {"customer.name": "Ada", "customer.tier": "pro"}},
            "policy": {"name": "saas-b2b", "version": 3, "hash": "abc"}
        });
        let view = DecisionView::read(&decision);
        assert_eq!(view.destination.as_deref(), Some("legal_review"));
        assert_eq!(view.priority, "P1");
        assert_eq!(view.tags, vec!["legal".to_string()]);
        assert_eq!(
            view.note,
            "routec: legal_review · priority P1 · escalated by `legal_threat`: text has legal (policy saas-b2b v3)\n\n\
             Handoff:\n- customer.name: Ada\n- customer.tier: pro\n- intent: account (0.91)\n- sentiment: -0.70\n- keywords: legal"
        );
    }

    #[test]
    fn trigger_bodies_name_the_ticket_and_the_event() {
        assert_eq!(
            trigger_event(br#"{"ticket_id": "35436", "event": "created"}"#),
            Ok(WebhookEvent::Route { ticket_id: "35436".into() })
        );
        assert_eq!(
            trigger_event(br#"{"ticket_id": 7, "event": "updated"}"#),
            Ok(WebhookEvent::Update { ticket_id: "7".into() })
        );
        assert!(matches!(
            trigger_event(br#"{"ticket_id": "7", "event": "deleted"}"#),
            Ok(WebhookEvent::Ignored { .. })
        ));
        assert!(trigger_event(br#"{"ticket_id": "../7"}"#).is_err());
        assert!(trigger_event(b"not json").is_err());
    }

    #[test]
    fn ids_in_paths_are_digits_only() {
        assert!(checked_id("12345").is_ok());
        for bad in ["", "12/../admin", "1?x=2", "abc", "1 2"] {
            assert!(checked_id(bad).is_err(), "{bad:?}");
        }
    }
}
