//! Zendesk Support: the webhook of a "ticket created / updated" trigger in,
//! the ticket read with its requester and organisation, the decision
//! written back (group, priority, tags with the gate tag removed, a private
//! comment), outcomes read from the ticket and its metrics, open tickets
//! counted per group through the search count endpoint.
//!
//! API references (the requests the tests check):
//! - webhook signatures: <https://developer.zendesk.com/documentation/webhooks/verifying/>
//! - show ticket with sideloads: <https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#show-ticket>
//!   and <https://developer.zendesk.com/documentation/ticketing/using-the-zendesk-api/side_loading/>
//! - update ticket: <https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket>
//! - ticket metrics: <https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_metrics/#show-ticket-metrics>
//! - search count: <https://developer.zendesk.com/api-reference/ticketing/ticket-management/search/#show-results-count>

use super::client::{self, http_client};
use super::config::{PriorityValue, Resolved};
use super::mapping::{FieldMapping, MappingError, Schema};
use super::{
    checked_id, destination_of, id_text, note_body, trigger_event, DecisionView, Helpdesk, HelpdeskError, Mode,
    Observation, Rejection, Secret, WebhookEvent, WriteBack,
};
use crate::delivery::{BoxFuture, Delivery, DeliveryOutcome, Sink};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The outbox kind of a Zendesk write-back.
pub const KIND: &str = "zendesk.update";
/// The outbox kind of a private comment added later (a created issue's key).
pub const NOTE_KIND: &str = "zendesk.note";
/// The signature header.
pub const SIGNATURE: &str = "X-Zendesk-Webhook-Signature";
/// The header with the signed timestamp.
pub const TIMESTAMP: &str = "X-Zendesk-Webhook-Signature-Timestamp";
/// Older (or later) signature timestamps are refused as replays.
pub const MAX_SKEW: Duration = Duration::from_secs(5 * 60);
/// Where the field mapping's paths start.
pub const ROOTS: &[&str] = &["ticket", "requester", "organization"];

/// Check a webhook's signature: base64 HMAC-SHA256, keyed with the
/// webhook's signing secret (its text, as Zendesk shows it), over the
/// timestamp header and the raw body.
///
/// Which comes first? Zendesk's page writes `TIMESTAMP + BODY`, but the
/// only published test vector (the archived version of the same page)
/// verifies with the body first (see the tests). Both orders are accepted:
/// neither can be forged without the secret, and one cannot stand for the
/// other, because the timestamp must be a whole RFC 3339 time and the body
/// is a JSON object (an attacker cannot move bytes between the two and keep
/// both valid).
pub fn verify_signature(
    secret: &Secret,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: jiff::Timestamp,
) -> Result<(), Rejection> {
    let signature = signature.ok_or(Rejection::Missing(SIGNATURE))?;
    let timestamp = timestamp.ok_or(Rejection::Missing(TIMESTAMP))?;
    let signed_at: jiff::Timestamp = timestamp.trim().parse().map_err(|_| Rejection::BadTimestamp)?;
    let skew = now.duration_since(signed_at).unsigned_abs();
    if skew > MAX_SKEW {
        return Err(Rejection::Stale);
    }
    let given =
        base64::engine::general_purpose::STANDARD.decode(signature.trim()).map_err(|_| Rejection::BadSignature)?;
    let matches = |first: &[u8], second: &[u8]| -> bool {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) else { return false };
        mac.update(first);
        mac.update(second);
        // `verify_slice` compares in constant time.
        mac.verify_slice(&given).is_ok()
    };
    let timestamp = timestamp.as_bytes();
    if matches(timestamp, body) | matches(body, timestamp) {
        Ok(())
    } else {
        Err(Rejection::BadSignature)
    }
}

/// The Zendesk connector.
pub struct Zendesk {
    settings: Resolved,
    http: reqwest::Client,
    mapping: FieldMapping,
    sink: Arc<ZendeskSink>,
}

impl Zendesk {
    pub fn new(settings: Resolved, schema: &Schema) -> Result<Zendesk, MappingError> {
        let mapping = FieldMapping::new("zendesk", &settings.fields, ROOTS, schema)?;
        let http =
            http_client().map_err(|e| MappingError { setting: "helpdesk.zendesk".into(), reason: e.to_string() })?;
        let sink = Arc::new(ZendeskSink { settings: settings.clone(), http: http.clone() });
        Ok(Zendesk { settings, http, mapping, sink })
    }

    fn get(&self, path_and_query: &str) -> reqwest::RequestBuilder {
        authorized(self.http.get(format!("{}{path_and_query}", self.settings.api_url)), &self.settings)
    }

    /// The Zendesk priority for a policy priority.
    fn priority(&self, policy_priority: &str) -> Option<String> {
        match self.settings.priorities.get(policy_priority) {
            Some(PriorityValue::Name(name)) => Some(name.clone()),
            Some(_) => None,
            None => match policy_priority {
                "P1" => Some("urgent".into()),
                "P2" => Some("high".into()),
                "P3" => Some("normal".into()),
                "P4" => Some("low".into()),
                _ => None,
            },
        }
    }
}

/// API-token auth: `{email}/token` and the token, as basic auth.
fn authorized(request: reqwest::RequestBuilder, settings: &Resolved) -> reqwest::RequestBuilder {
    let email = settings.user.as_deref().unwrap_or_default();
    request.basic_auth(format!("{email}/token"), Some(settings.credential.expose()))
}

/// A Zendesk id as JSON: a number when it is one (ids are integers there).
fn id_json(id: &str) -> Value {
    id.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(id))
}

fn timestamp(value: Option<&Value>) -> Option<jiff::Timestamp> {
    value.and_then(Value::as_str).and_then(|s| s.parse().ok())
}

impl Helpdesk for Zendesk {
    fn name(&self) -> &'static str {
        "zendesk"
    }

    fn mode(&self) -> Mode {
        self.settings.mode
    }

    fn verify(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
        now: jiff::Timestamp,
    ) -> Result<(), Rejection> {
        verify_signature(
            &self.settings.webhook_secret,
            header(SIGNATURE).as_deref(),
            header(TIMESTAMP).as_deref(),
            body,
            now,
        )
    }

    fn event(&self, body: &[u8]) -> Result<WebhookEvent, HelpdeskError> {
        trigger_event(body)
    }

    fn fetch<'a>(&'a self, ticket_id: &'a str) -> BoxFuture<'a, Result<Value, HelpdeskError>> {
        Box::pin(async move {
            let id = checked_id(ticket_id)?;
            let answer =
                client::json(self.get(&format!("/api/v2/tickets/{id}.json?include=users,organizations")), "GET ticket")
                    .await?;
            source_document(&answer)
        })
    }

    fn mapping(&self) -> &FieldMapping {
        &self.mapping
    }

    fn write_back(&self, ticket_id: &str, _source: &Value, decision: &Value) -> Option<WriteBack> {
        let view = DecisionView::read(decision);
        let mut ticket = Map::new();
        if let Some(group) = view.destination.as_deref().and_then(|d| self.settings.groups.get(d)) {
            ticket.insert("group_id".into(), id_json(group));
        }
        if let Some(priority) = self.priority(&view.priority) {
            ticket.insert("priority".into(), Value::from(priority));
        }
        if !view.tags.is_empty() {
            ticket.insert("additional_tags".into(), json!(view.tags));
        }
        if let Some(gate) = &self.settings.gate_tag {
            ticket.insert("remove_tags".into(), json!([gate]));
        }
        ticket.insert("comment".into(), json!({ "body": view.note, "public": false }));
        Some(WriteBack {
            kind: KIND,
            target: ticket_id.to_string(),
            payload: json!({ "ticket": ticket }),
            idempotency_key: format!("zendesk:{ticket_id}:writeback"),
        })
    }

    fn observe<'a>(&'a self, ticket_id: &'a str) -> BoxFuture<'a, Result<Observation, HelpdeskError>> {
        Box::pin(async move {
            let id = checked_id(ticket_id)?;
            let ticket = client::json(self.get(&format!("/api/v2/tickets/{id}.json")), "GET ticket").await?;
            let metrics =
                client::json(self.get(&format!("/api/v2/tickets/{id}/metrics.json")), "GET ticket metrics").await?;
            Ok(observation(&self.settings.groups, &ticket, &metrics))
        })
    }

    fn open_counts(&self) -> BoxFuture<'_, Result<BTreeMap<String, u64>, HelpdeskError>> {
        Box::pin(async move {
            let mut counts = BTreeMap::new();
            for (destination, group) in &self.settings.groups {
                let query = format!("type:ticket status<solved group:{group}");
                let request = self.get("/api/v2/search/count.json").query(&[("query", query.as_str())]);
                let answer = client::json(request, "GET search count").await?;
                let count = answer
                    .get("count")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| HelpdeskError::Payload("the search count answer has no `count`".into()))?;
                counts.insert(destination.clone(), count);
            }
            Ok(counts)
        })
    }

    fn load_refresh(&self) -> Duration {
        self.settings.load_refresh
    }

    fn sink(&self) -> Arc<dyn Sink> {
        self.sink.clone()
    }
}

/// `{ticket, requester, organization}` from a ticket shown with its users
/// and organisations sideloaded.
fn source_document(answer: &Value) -> Result<Value, HelpdeskError> {
    let ticket = answer
        .get("ticket")
        .filter(|t| t.is_object())
        .ok_or_else(|| HelpdeskError::Payload("the ticket answer has no `ticket`".into()))?;
    let find = |list: &str, id_key: &str| -> Value {
        let wanted = ticket.get(id_key).filter(|v| !v.is_null());
        answer
            .get(list)
            .and_then(Value::as_array)
            .and_then(|items| items.iter().find(|item| wanted.is_some() && item.get("id") == wanted))
            .cloned()
            .unwrap_or(Value::Null)
    };
    Ok(json!({
        "ticket": ticket,
        "requester": find("users", "requester_id"),
        "organization": find("organizations", "organization_id"),
    }))
}

/// Where a ticket is, from the ticket and its metrics. Reassignments count
/// every group and assignee change after the first of each (Zendesk's
/// `group_stations` and `assignee_stations` count the ones passed through).
fn observation(groups: &BTreeMap<String, String>, ticket: &Value, metrics: &Value) -> Observation {
    let ticket = ticket.get("ticket").unwrap_or(&Value::Null);
    let metric = metrics.get("ticket_metric").unwrap_or(&Value::Null);
    let group = ticket.get("group_id").and_then(id_text);
    let status = ticket.get("status").and_then(Value::as_str).unwrap_or_default();
    let stations = |key: &str| metric.get(key).and_then(Value::as_u64).map(|n| n.saturating_sub(1));
    let reassignments = match (stations("group_stations"), stations("assignee_stations")) {
        (None, None) => None,
        (g, a) => Some(u32::try_from(g.unwrap_or(0) + a.unwrap_or(0)).unwrap_or(u32::MAX)),
    };
    let resolved = matches!(status, "solved" | "closed");
    Observation {
        final_destination: group.and_then(|g| destination_of(groups, &g)),
        reassignments,
        first_assigned_at: timestamp(metric.get("initially_assigned_at")),
        resolved,
        resolved_at: if resolved { timestamp(metric.get("solved_at")) } else { None },
    }
}

/// Delivers `zendesk.update` rows (`PUT /api/v2/tickets/{id}.json` with the
/// body written when the decision was recorded) and `zendesk.note` rows (the
/// same request with only a private comment: Zendesk adds comments through
/// a ticket update).
pub struct ZendeskSink {
    settings: Resolved,
    http: reqwest::Client,
}

impl Sink for ZendeskSink {
    fn kinds(&self) -> &[&'static str] {
        &[KIND, NOTE_KIND]
    }

    fn deliver<'a>(&'a self, delivery: Delivery<'a>) -> BoxFuture<'a, DeliveryOutcome> {
        Box::pin(async move {
            let id = match checked_id(delivery.target) {
                Ok(id) => id,
                Err(e) => return DeliveryOutcome::Failed { error: e.to_string() },
            };
            let body = if delivery.kind == NOTE_KIND {
                match note_body(delivery.payload) {
                    Ok(note) => json!({ "ticket": { "comment": { "body": note, "public": false } } }),
                    Err(failed) => return failed,
                }
            } else {
                delivery.payload.clone()
            };
            let url = format!("{}/api/v2/tickets/{id}.json", self.settings.api_url);
            let request = authorized(self.http.put(url), &self.settings).json(&body);
            client::deliver(request, "PUT ticket").await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().expect("a timestamp")
    }

    /// The example of Zendesk's "Verifying webhook authenticity" page as
    /// archived (developer.zendesk.com/documentation/event-connectors/webhooks/verifying/):
    /// secret, body, timestamp and the signature it gives.
    const VECTOR_SECRET: &str = "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=";
    const VECTOR_BODY: &str = r#"{"say": "hello"}"#;
    const VECTOR_TIMESTAMP: &str = "2021-07-25T10:00:00Z";
    const VECTOR_SIGNATURE: &str = "tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw=";

    fn sign(secret: &str, first: &[u8], second: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(first);
        mac.update(second);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn the_published_vector_decides_the_byte_order() {
        // The vector verifies with the body first and the secret's text as the key…
        assert_eq!(sign(VECTOR_SECRET, VECTOR_BODY.as_bytes(), VECTOR_TIMESTAMP.as_bytes()), VECTOR_SIGNATURE);
        // …not in the order the page's formula writes.
        assert_ne!(sign(VECTOR_SECRET, VECTOR_TIMESTAMP.as_bytes(), VECTOR_BODY.as_bytes()), VECTOR_SIGNATURE);
        let secret = Secret::new(VECTOR_SECRET);
        let now = at("2021-07-25T10:02:00Z");
        let verified =
            verify_signature(&secret, Some(VECTOR_SIGNATURE), Some(VECTOR_TIMESTAMP), VECTOR_BODY.as_bytes(), now);
        assert_eq!(verified, Ok(()));
        // The documented formula's order verifies too (what live webhooks are reported to send).
        let documented = sign(VECTOR_SECRET, VECTOR_TIMESTAMP.as_bytes(), VECTOR_BODY.as_bytes());
        let verified =
            verify_signature(&secret, Some(&documented), Some(VECTOR_TIMESTAMP), VECTOR_BODY.as_bytes(), now);
        assert_eq!(verified, Ok(()));
    }

    #[test]
    fn forged_stale_and_missing_signatures_are_refused() {
        let secret = Secret::new(VECTOR_SECRET);
        let body = VECTOR_BODY.as_bytes();
        let now = at("2021-07-25T10:02:00Z");
        let check =
            |sig: Option<&str>, ts: Option<&str>, body: &[u8], now| verify_signature(&secret, sig, ts, body, now);
        // Another body, another secret, garbage.
        assert_eq!(
            check(Some(VECTOR_SIGNATURE), Some(VECTOR_TIMESTAMP), br#"{"say": "hellO"}"#, now),
            Err(Rejection::BadSignature)
        );
        let forged = sign("another-secret", body, VECTOR_TIMESTAMP.as_bytes());
        assert_eq!(check(Some(&forged), Some(VECTOR_TIMESTAMP), body, now), Err(Rejection::BadSignature));
        assert_eq!(check(Some("not base64!"), Some(VECTOR_TIMESTAMP), body, now), Err(Rejection::BadSignature));
        // The same valid signature six minutes later: a replay.
        assert_eq!(
            check(Some(VECTOR_SIGNATURE), Some(VECTOR_TIMESTAMP), body, at("2021-07-25T10:06:01Z")),
            Err(Rejection::Stale)
        );
        // A timestamp moved forward to dodge the window no longer matches.
        assert_eq!(
            check(Some(VECTOR_SIGNATURE), Some("2021-07-25T10:01:00Z"), body, now),
            Err(Rejection::BadSignature)
        );
        assert_eq!(check(Some(VECTOR_SIGNATURE), Some("yesterday"), body, now), Err(Rejection::BadTimestamp));
        assert_eq!(check(None, Some(VECTOR_TIMESTAMP), body, now), Err(Rejection::Missing(SIGNATURE)));
        assert_eq!(check(Some(VECTOR_SIGNATURE), None, body, now), Err(Rejection::Missing(TIMESTAMP)));
    }

    #[test]
    fn the_source_document_joins_requester_and_organization() {
        let answer = json!({
            "ticket": {"id": 35436, "requester_id": 20978392, "organization_id": 509974, "subject": "Help"},
            "users": [{"id": 1, "name": "Agent"}, {"id": 20978392, "name": "Ada"}],
            "organizations": [{"id": 509974, "name": "Acme", "organization_fields": {"plan": "pro"}}]
        });
        let doc = source_document(&answer).expect("a ticket");
        assert_eq!(doc["requester"]["name"], json!("Ada"));
        assert_eq!(doc["organization"]["organization_fields"]["plan"], json!("pro"));
        let lone = source_document(&json!({"ticket": {"id": 1, "requester_id": 5}})).expect("a ticket");
        assert_eq!(lone["requester"], Value::Null);
        assert_eq!(lone["organization"], Value::Null);
    }

    #[test]
    fn an_observation_counts_stations_after_the_first() {
        let groups = BTreeMap::from([("legal_review".to_string(), "360001".to_string())]);
        let ticket = json!({"ticket": {"id": 1, "group_id": 360001, "status": "solved"}});
        let metrics = json!({"ticket_metric": {"group_stations": 2, "assignee_stations": 3,
            "initially_assigned_at": "2026-11-24T15:40:00Z", "solved_at": "2026-11-24T18:00:00Z"}});
        let seen = observation(&groups, &ticket, &metrics);
        assert_eq!(
            seen,
            Observation {
                final_destination: Some("legal_review".into()),
                reassignments: Some(3),
                first_assigned_at: Some(at("2026-11-24T15:40:00Z")),
                resolved: true,
                resolved_at: Some(at("2026-11-24T18:00:00Z")),
            }
        );
        let open = observation(&groups, &json!({"ticket": {"group_id": 99, "status": "open"}}), &json!({}));
        assert_eq!(open, Observation::default());
    }
}
