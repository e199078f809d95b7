//! Intercom: webhook notifications in (topics `conversation.user.created`
//! and `conversation.user.replied` are routed; `conversation.admin.assigned`
//! and `conversation.admin.closed` are outcomes), verified by
//! `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body, keyed with the app's
//! client secret>`; the conversation read with its contact; the decision
//! written back (assignment to the destination's team, the policy's tags by
//! their Intercom ids, a private note); open conversations counted per team
//! through the conversation search.
//!
//! API references (the requests the tests check):
//! - webhook signatures: <https://developers.intercom.com/docs/webhooks/webhook-notifications#signed-notifications>
//! - retrieve a conversation: <https://developers.intercom.com/docs/references/rest-api/api.intercom.io/conversations/retrieveconversation>
//! - retrieve a contact: <https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/showcontact>
//! - reply / manage (assignment, note): <https://developers.intercom.com/docs/references/rest-api/api.intercom.io/conversations/manageconversation>
//!   and <https://developers.intercom.com/docs/references/rest-api/api.intercom.io/conversations/replyconversation>
//! - tag a conversation: <https://developers.intercom.com/docs/references/rest-api/api.intercom.io/tags/attachtagtoconversation>
//! - search conversations: <https://developers.intercom.com/docs/references/rest-api/api.intercom.io/conversations/searchconversations>

use super::client::{self, http_client};
use super::config::{PriorityValue, Resolved};
use super::mapping::{FieldMapping, MappingError, Schema};
use super::{
    checked_id, destination_of, id_text, note_body, DecisionView, Helpdesk, HelpdeskError, Mode, Observation,
    Rejection, Secret, WebhookEvent, WriteBack,
};
use crate::delivery::{BoxFuture, Delivery, DeliveryOutcome, Sink};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The outbox kind of an Intercom write-back.
pub const KIND: &str = "intercom.update";
/// The outbox kind of an admin note added later (a created issue's key).
pub const NOTE_KIND: &str = "intercom.note";
/// The signature header.
pub const SIGNATURE: &str = "X-Hub-Signature";
/// The REST API version asked for.
pub const API_VERSION: &str = "2.11";
/// The conversation data attribute the priority is written to. Intercom's
/// "Update a conversation" (`PUT /conversations/{id}`) sets only `read`,
/// `title` and `custom_attributes` (the API description, 2.11–2.16), so the
/// priority goes into an attribute the workspace creates (docs/integrations.md).
pub const PRIORITY_ATTRIBUTE: &str = "priority";
/// Where the field mapping's paths start.
pub const ROOTS: &[&str] = &["conversation", "contact"];

/// Check `X-Hub-Signature: sha1=<hex>` against HMAC-SHA1 of the raw body.
pub fn verify_signature(secret: &Secret, signature: Option<&str>, body: &[u8]) -> Result<(), Rejection> {
    let signature = signature.ok_or(Rejection::Missing(SIGNATURE))?;
    let hex = signature.trim().strip_prefix("sha1=").ok_or(Rejection::BadSignature)?;
    let given = decode_hex(hex).ok_or(Rejection::BadSignature)?;
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.expose().as_bytes()).map_err(|_| Rejection::BadSignature)?;
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&given).map_err(|_| Rejection::BadSignature)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok())).collect()
}

/// An Intercom contact id (hex) as it may appear in a URL path.
fn checked_contact_id(id: &str) -> Result<&str, HelpdeskError> {
    if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(HelpdeskError::Payload(format!("`{id}` is not a contact id")))
    }
}

/// The Intercom connector.
pub struct Intercom {
    settings: Resolved,
    http: reqwest::Client,
    mapping: FieldMapping,
    sink: Arc<IntercomSink>,
}

impl Intercom {
    pub fn new(settings: Resolved, schema: &Schema) -> Result<Intercom, MappingError> {
        let mapping = FieldMapping::new("intercom", &settings.fields, ROOTS, schema)?;
        let http =
            http_client().map_err(|e| MappingError { setting: "helpdesk.intercom".into(), reason: e.to_string() })?;
        let sink = Arc::new(IntercomSink { settings: settings.clone(), http: http.clone() });
        Ok(Intercom { settings, http, mapping, sink })
    }
}

fn authorized(request: reqwest::RequestBuilder, settings: &Resolved) -> reqwest::RequestBuilder {
    request
        .bearer_auth(settings.credential.expose())
        .header("Intercom-Version", API_VERSION)
        .header(reqwest::header::ACCEPT, "application/json")
}

fn unix_time(value: Option<&Value>) -> Option<jiff::Timestamp> {
    value.and_then(Value::as_i64).and_then(|s| jiff::Timestamp::from_second(s).ok())
}

impl Helpdesk for Intercom {
    fn name(&self) -> &'static str {
        "intercom"
    }

    fn mode(&self) -> Mode {
        self.settings.mode
    }

    fn verify(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
        _now: jiff::Timestamp,
    ) -> Result<(), Rejection> {
        verify_signature(&self.settings.webhook_secret, header(SIGNATURE).as_deref(), body)
    }

    fn event(&self, body: &[u8]) -> Result<WebhookEvent, HelpdeskError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| HelpdeskError::Payload(format!("the notification is not JSON: {e}")))?;
        let topic = value.get("topic").and_then(Value::as_str).unwrap_or_default();
        let conversation = || -> Result<String, HelpdeskError> {
            let id = value
                .pointer("/data/item/id")
                .and_then(id_text)
                .ok_or_else(|| HelpdeskError::Payload("the notification has no `data.item.id`".into()))?;
            checked_id(&id)?;
            Ok(id)
        };
        match topic {
            "conversation.user.created" | "conversation.user.replied" => {
                Ok(WebhookEvent::Route { ticket_id: conversation()? })
            }
            "conversation.admin.assigned" | "conversation.admin.closed" => {
                Ok(WebhookEvent::Update { ticket_id: conversation()? })
            }
            other => Ok(WebhookEvent::Ignored { reason: format!("topic `{other}` is not handled") }),
        }
    }

    fn fetch<'a>(&'a self, ticket_id: &'a str) -> BoxFuture<'a, Result<Value, HelpdeskError>> {
        Box::pin(async move {
            let id = checked_id(ticket_id)?;
            let url = format!("{}/conversations/{id}", self.settings.api_url);
            let conversation = client::json(authorized(self.http.get(url), &self.settings), "GET conversation").await?;
            let contact_id = conversation.pointer("/contacts/contacts/0/id").and_then(id_text);
            let contact = match contact_id {
                Some(contact_id) => {
                    let url = format!("{}/contacts/{}", self.settings.api_url, checked_contact_id(&contact_id)?);
                    client::json(authorized(self.http.get(url), &self.settings), "GET contact").await?
                }
                None => Value::Null,
            };
            Ok(json!({ "conversation": conversation, "contact": contact }))
        })
    }

    fn mapping(&self) -> &FieldMapping {
        &self.mapping
    }

    fn write_back(&self, ticket_id: &str, _source: &Value, decision: &Value) -> Option<WriteBack> {
        let view = DecisionView::read(decision);
        let admin = self.settings.user.clone().unwrap_or_default();
        let assignment = view.destination.as_deref().and_then(|d| self.settings.groups.get(d)).map(
            |team| json!({ "message_type": "assignment", "type": "team", "admin_id": admin, "assignee_id": team }),
        );
        let tags: Vec<Value> = view
            .tags
            .iter()
            .filter_map(|tag| self.settings.tags.get(tag))
            .map(|id| json!({ "id": id, "admin_id": admin }))
            .collect();
        let note = json!({ "message_type": "note", "type": "admin", "admin_id": admin, "body": view.note });
        let priority = match self.settings.priorities.get(&view.priority) {
            Some(PriorityValue::Name(name)) => Some(Value::from(name.clone())),
            Some(PriorityValue::Level(level)) => Some(Value::from(*level)),
            Some(PriorityValue::Flag(flag)) => Some(Value::from(*flag)),
            None => (!view.priority.is_empty()).then(|| Value::from(view.priority.clone())),
        };
        let update = priority.map(|value| json!({ "custom_attributes": { PRIORITY_ATTRIBUTE: value } }));
        Some(WriteBack {
            kind: KIND,
            target: ticket_id.to_string(),
            payload: json!({ "assignment": assignment, "update": update, "tags": tags, "note": note }),
            idempotency_key: format!("intercom:{ticket_id}:writeback"),
        })
    }

    fn observe<'a>(&'a self, ticket_id: &'a str) -> BoxFuture<'a, Result<Observation, HelpdeskError>> {
        Box::pin(async move {
            let id = checked_id(ticket_id)?;
            let url = format!("{}/conversations/{id}", self.settings.api_url);
            let conversation = client::json(authorized(self.http.get(url), &self.settings), "GET conversation").await?;
            Ok(observation(&self.settings.groups, &conversation))
        })
    }

    fn open_counts(&self) -> BoxFuture<'_, Result<BTreeMap<String, u64>, HelpdeskError>> {
        Box::pin(async move {
            let mut counts = BTreeMap::new();
            for (destination, team) in &self.settings.groups {
                let query = json!({
                    "query": {"operator": "AND", "value": [
                        {"field": "team_assignee_id", "operator": "=", "value": team},
                        {"field": "open", "operator": "=", "value": true}
                    ]},
                    "pagination": {"per_page": 1}
                });
                let url = format!("{}/conversations/search", self.settings.api_url);
                let request = authorized(self.http.post(url), &self.settings).json(&query);
                let answer = client::json(request, "POST conversations search").await?;
                let total = answer
                    .get("total_count")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| HelpdeskError::Payload("the search answer has no `total_count`".into()))?;
                counts.insert(destination.clone(), total);
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

fn observation(teams: &BTreeMap<String, String>, conversation: &Value) -> Observation {
    let stats = conversation.get("statistics").unwrap_or(&Value::Null);
    let resolved = conversation.get("state").and_then(Value::as_str) == Some("closed");
    Observation {
        final_destination: conversation
            .get("team_assignee_id")
            .and_then(id_text)
            .and_then(|team| destination_of(teams, &team)),
        reassignments: stats
            .get("count_assignments")
            .and_then(Value::as_u64)
            .map(|n| u32::try_from(n.saturating_sub(1)).unwrap_or(u32::MAX)),
        first_assigned_at: unix_time(stats.get("first_assignment_at")),
        resolved,
        resolved_at: if resolved { unix_time(stats.get("last_close_at")) } else { None },
    }
}

/// Delivers `intercom.update` rows: the assignment, the priority attribute,
/// each tag, then the note (`POST /conversations/{id}/parts`,
/// `PUT /conversations/{id}`, `POST /conversations/{id}/tags`,
/// `POST /conversations/{id}/reply`: a note is a reply of type `note`, not
/// a conversation part). Assigning and tagging again are harmless; the note
/// may repeat after a lost answer. And `intercom.note` rows: the note alone.
pub struct IntercomSink {
    settings: Resolved,
    http: reqwest::Client,
}

impl Sink for IntercomSink {
    fn kinds(&self) -> &[&'static str] {
        &[KIND, NOTE_KIND]
    }

    fn deliver<'a>(&'a self, delivery: Delivery<'a>) -> BoxFuture<'a, DeliveryOutcome> {
        Box::pin(async move {
            let id = match checked_id(delivery.target) {
                Ok(id) => id,
                Err(e) => return DeliveryOutcome::Failed { error: e.to_string() },
            };
            let base = format!("{}/conversations/{id}", self.settings.api_url);
            if delivery.kind == NOTE_KIND {
                let note = match note_body(delivery.payload) {
                    Ok(body) => {
                        let admin = self.settings.user.as_deref().unwrap_or_default();
                        json!({ "message_type": "note", "type": "admin", "admin_id": admin, "body": body })
                    }
                    Err(failed) => return failed,
                };
                let request = authorized(self.http.post(format!("{base}/reply")), &self.settings).json(&note);
                return client::deliver(request, "POST note").await;
            }
            let mut requests = Vec::new();
            if let Some(assignment) = delivery.payload.get("assignment").filter(|a| a.is_object()) {
                requests.push((format!("{base}/parts"), assignment, "POST assignment"));
            }
            if let Some(update) = delivery.payload.get("update").filter(|u| u.is_object()) {
                let request = authorized(self.http.put(base.clone()), &self.settings).json(update);
                let outcome = client::deliver(request, "PUT conversation").await;
                if !matches!(outcome, DeliveryOutcome::Delivered { .. }) {
                    return outcome;
                }
            }
            if let Some(tags) = delivery.payload.get("tags").and_then(Value::as_array) {
                requests.extend(tags.iter().map(|tag| (format!("{base}/tags"), tag, "POST tag")));
            }
            if let Some(note) = delivery.payload.get("note").filter(|n| n.is_object()) {
                requests.push((format!("{base}/reply"), note, "POST note"));
            }
            let mut last = DeliveryOutcome::Delivered { receipt: Value::Null };
            for (url, body, what) in requests {
                last = client::deliver(authorized(self.http.post(url), &self.settings).json(body), what).await;
                if !matches!(last, DeliveryOutcome::Delivered { .. }) {
                    return last;
                }
            }
            last
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(body);
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        format!("sha1={hex}")
    }

    #[test]
    fn hmac_sha1_matches_the_rfc_2202_vector() {
        // RFC 2202, test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(sign("Jefe", b"what do ya want for nothing?"), "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        let secret = Secret::new("Jefe");
        let signature = "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79";
        assert_eq!(verify_signature(&secret, Some(signature), b"what do ya want for nothing?"), Ok(()));
    }

    #[test]
    fn forged_and_missing_signatures_are_refused() {
        let secret = Secret::new("client-secret");
        let body = br#"{"topic": "conversation.user.created"}"#;
        let good = sign("client-secret", body);
        assert_eq!(verify_signature(&secret, Some(&good), body), Ok(()));
        assert_eq!(verify_signature(&secret, Some(&good), b"{}"), Err(Rejection::BadSignature));
        assert_eq!(verify_signature(&secret, Some(&sign("other", body)), body), Err(Rejection::BadSignature));
        assert_eq!(
            verify_signature(&secret, Some(good.trim_start_matches("sha1=")), body),
            Err(Rejection::BadSignature)
        );
        assert_eq!(verify_signature(&secret, Some("sha1=zz"), body), Err(Rejection::BadSignature));
        assert_eq!(verify_signature(&secret, None, body), Err(Rejection::Missing(SIGNATURE)));
    }

    #[test]
    fn an_observation_reads_team_state_and_statistics() {
        let teams = BTreeMap::from([("billing".to_string(), "814".to_string())]);
        let conversation = json!({"id": "147", "state": "closed", "team_assignee_id": 814,
            "statistics": {"count_assignments": 3, "first_assignment_at": 1764000000, "last_close_at": 1764003600}});
        let seen = observation(&teams, &conversation);
        assert_eq!(seen.final_destination.as_deref(), Some("billing"));
        assert_eq!(seen.reassignments, Some(2));
        assert!(seen.resolved);
        assert_eq!(seen.resolved_at, jiff::Timestamp::from_second(1764003600).ok());
    }
}
