//! Freshdesk: the webhook of an automation rule in (unsigned by Freshdesk,
//! so it must carry a shared secret in a custom header or as the basic-auth
//! password, compared in constant time), the ticket read with its requester
//! and company, the decision written back (group, priority 1–4, tags with
//! the gate tag removed, then a private note), outcomes read from the
//! ticket and its stats, open tickets counted per group through the search.
//!
//! API references (the requests the tests check):
//! - view a ticket: <https://developers.freshdesk.com/api/#view_a_ticket> (`include=requester,company`, `include=stats`)
//! - update a ticket: <https://developers.freshdesk.com/api/#update_ticket> (priority 1 low … 4 urgent; `tags` replaces)
//! - add a note: <https://developers.freshdesk.com/api/#add_note_to_a_ticket>
//! - filter tickets: <https://developers.freshdesk.com/api/#filter_tickets> (`total`)
//! - authentication: <https://developers.freshdesk.com/api/#authentication> (the API key as the basic-auth user, `X` as password)

use super::client::{self, http_client};
use super::config::{PriorityValue, Resolved};
use super::mapping::{FieldMapping, MappingError, Schema};
use super::{
    checked_id, destination_of, id_text, note_body, same_secret, trigger_event, DecisionView, Helpdesk, HelpdeskError,
    Mode, Observation, Rejection, WebhookEvent, WriteBack,
};
use crate::delivery::{BoxFuture, Delivery, DeliveryOutcome, Sink};
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The outbox kind of a Freshdesk write-back.
pub const KIND: &str = "freshdesk.update";
/// The outbox kind of a private note added later (a created issue's key).
pub const NOTE_KIND: &str = "freshdesk.note";
/// Where the field mapping's paths start.
pub const ROOTS: &[&str] = &["ticket", "requester", "company"];
/// Freshdesk's statuses: 2 open, 3 pending, 4 resolved, 5 closed.
const RESOLVED: i64 = 4;
const CLOSED: i64 = 5;

/// Check the shared secret: in the configured header, or as the password
/// (or the whole `user:password`) of basic auth.
pub fn verify_secret(
    secret: &super::Secret,
    secret_header: &str,
    header: &dyn Fn(&str) -> Option<String>,
) -> Result<(), Rejection> {
    if let Some(presented) = header(secret_header) {
        return if same_secret(presented.trim(), secret) { Ok(()) } else { Err(Rejection::BadSecret) };
    }
    let authorization = header("Authorization").ok_or(Rejection::Missing("X-Routec-Secret or Authorization"))?;
    let encoded = authorization.strip_prefix("Basic ").ok_or(Rejection::BadSecret)?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| Rejection::BadSecret)?;
    let credentials = String::from_utf8(decoded).map_err(|_| Rejection::BadSecret)?;
    let password = credentials.split_once(':').map(|(_, p)| p).unwrap_or("");
    // Both comparisons always run, so timing does not say which form matched.
    let by_password = same_secret(password, secret);
    let by_pair = same_secret(&credentials, secret);
    if by_password | by_pair {
        Ok(())
    } else {
        Err(Rejection::BadSecret)
    }
}

/// The Freshdesk connector.
pub struct Freshdesk {
    settings: Resolved,
    http: reqwest::Client,
    mapping: FieldMapping,
    sink: Arc<FreshdeskSink>,
}

impl Freshdesk {
    pub fn new(settings: Resolved, schema: &Schema) -> Result<Freshdesk, MappingError> {
        let mapping = FieldMapping::new("freshdesk", &settings.fields, ROOTS, schema)?;
        let http =
            http_client().map_err(|e| MappingError { setting: "helpdesk.freshdesk".into(), reason: e.to_string() })?;
        let sink = Arc::new(FreshdeskSink { settings: settings.clone(), http: http.clone() });
        Ok(Freshdesk { settings, http, mapping, sink })
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        authorized(self.http.get(format!("{}{path}", self.settings.api_url)), &self.settings)
    }

    /// Freshdesk's priority level (1 low, 2 medium, 3 high, 4 urgent).
    fn priority(&self, policy_priority: &str) -> Option<u8> {
        match self.settings.priorities.get(policy_priority) {
            Some(PriorityValue::Level(level)) if (1..=4).contains(level) => Some(*level),
            Some(_) => None,
            None => match policy_priority {
                "P1" => Some(4),
                "P2" => Some(3),
                "P3" => Some(2),
                "P4" => Some(1),
                _ => None,
            },
        }
    }
}

/// The API key as the basic-auth user, `X` as the password.
fn authorized(request: reqwest::RequestBuilder, settings: &Resolved) -> reqwest::RequestBuilder {
    request.basic_auth(settings.credential.expose(), Some("X"))
}

fn id_json(id: &str) -> Value {
    id.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(id))
}

impl Helpdesk for Freshdesk {
    fn name(&self) -> &'static str {
        "freshdesk"
    }

    fn mode(&self) -> Mode {
        self.settings.mode
    }

    fn verify(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        _body: &[u8],
        _now: jiff::Timestamp,
    ) -> Result<(), Rejection> {
        verify_secret(&self.settings.webhook_secret, &self.settings.secret_header, header)
    }

    fn event(&self, body: &[u8]) -> Result<WebhookEvent, HelpdeskError> {
        trigger_event(body)
    }

    fn fetch<'a>(&'a self, ticket_id: &'a str) -> BoxFuture<'a, Result<Value, HelpdeskError>> {
        Box::pin(async move {
            let id = checked_id(ticket_id)?;
            let mut ticket =
                client::json(self.get(&format!("/api/v2/tickets/{id}?include=requester,company")), "GET ticket")
                    .await?;
            let object = ticket
                .as_object_mut()
                .ok_or_else(|| HelpdeskError::Payload("the ticket answer is not an object".into()))?;
            let requester = object.remove("requester").unwrap_or(Value::Null);
            let company = object.remove("company").unwrap_or(Value::Null);
            Ok(json!({ "ticket": ticket, "requester": requester, "company": company }))
        })
    }

    fn mapping(&self) -> &FieldMapping {
        &self.mapping
    }

    fn write_back(&self, ticket_id: &str, source: &Value, decision: &Value) -> Option<WriteBack> {
        let view = DecisionView::read(decision);
        let mut update = Map::new();
        if let Some(group) = view.destination.as_deref().and_then(|d| self.settings.groups.get(d)) {
            update.insert("group_id".into(), id_json(group));
        }
        if let Some(priority) = self.priority(&view.priority) {
            update.insert("priority".into(), Value::from(priority));
        }
        // `tags` replaces the ticket's tags: keep the ones it had, drop the gate.
        let mut tags: Vec<String> = source
            .pointer("/ticket/tags")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let had_gate = self.settings.gate_tag.as_ref().is_some_and(|gate| tags.contains(gate));
        tags.retain(|t| Some(t) != self.settings.gate_tag.as_ref());
        let mut added = false;
        for tag in view.tags {
            if !tags.contains(&tag) {
                tags.push(tag);
                added = true;
            }
        }
        if added || had_gate {
            update.insert("tags".into(), json!(tags));
        }
        Some(WriteBack {
            kind: KIND,
            target: ticket_id.to_string(),
            payload: json!({ "update": update, "note": { "body": view.note, "private": true } }),
            idempotency_key: format!("freshdesk:{ticket_id}:writeback"),
        })
    }

    fn observe<'a>(&'a self, ticket_id: &'a str) -> BoxFuture<'a, Result<Observation, HelpdeskError>> {
        Box::pin(async move {
            let id = checked_id(ticket_id)?;
            let ticket = client::json(self.get(&format!("/api/v2/tickets/{id}?include=stats")), "GET ticket").await?;
            Ok(observation(&self.settings.groups, &ticket))
        })
    }

    fn open_counts(&self) -> BoxFuture<'_, Result<BTreeMap<String, u64>, HelpdeskError>> {
        Box::pin(async move {
            let mut counts = BTreeMap::new();
            for (destination, group) in &self.settings.groups {
                let group = checked_id(group)?;
                // The filter query is quoted, as Freshdesk requires.
                let query = format!("\"group_id:{group} AND (status:2 OR status:3)\"");
                let request = self.get("/api/v2/search/tickets").query(&[("query", query.as_str())]);
                let answer = client::json(request, "GET search tickets").await?;
                let total = answer
                    .get("total")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| HelpdeskError::Payload("the search answer has no `total`".into()))?;
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

fn observation(groups: &BTreeMap<String, String>, ticket: &Value) -> Observation {
    let status = ticket.get("status").and_then(Value::as_i64).unwrap_or_default();
    let resolved = status == RESOLVED || status == CLOSED;
    let time =
        |key: &str| ticket.pointer(&format!("/stats/{key}")).and_then(Value::as_str).and_then(|s| s.parse().ok());
    Observation {
        final_destination: ticket.get("group_id").and_then(id_text).and_then(|g| destination_of(groups, &g)),
        // Freshdesk counts neither; the service counts the changes it sees.
        reassignments: None,
        first_assigned_at: None,
        resolved,
        resolved_at: if resolved { time("resolved_at").or_else(|| time("closed_at")) } else { None },
    }
}

/// Delivers `freshdesk.update` rows: `PUT /api/v2/tickets/{id}`, then
/// `POST /api/v2/tickets/{id}/notes` (a repeat after a lost answer repeats
/// the PUT harmlessly; the note may then appear twice); and `freshdesk.note`
/// rows: the private note alone.
pub struct FreshdeskSink {
    settings: Resolved,
    http: reqwest::Client,
}

impl Sink for FreshdeskSink {
    fn kinds(&self) -> &[&'static str] {
        &[KIND, NOTE_KIND]
    }

    fn deliver<'a>(&'a self, delivery: Delivery<'a>) -> BoxFuture<'a, DeliveryOutcome> {
        Box::pin(async move {
            let id = match checked_id(delivery.target) {
                Ok(id) => id,
                Err(e) => return DeliveryOutcome::Failed { error: e.to_string() },
            };
            let base = format!("{}/api/v2/tickets/{id}", self.settings.api_url);
            if delivery.kind == NOTE_KIND {
                let note = match note_body(delivery.payload) {
                    Ok(body) => json!({ "body": body, "private": true }),
                    Err(failed) => return failed,
                };
                let request = authorized(self.http.post(format!("{base}/notes")), &self.settings).json(&note);
                return client::deliver(request, "POST note").await;
            }
            let update = delivery.payload.get("update").filter(|u| u.as_object().is_some_and(|o| !o.is_empty()));
            if let Some(update) = update {
                let request = authorized(self.http.put(&base), &self.settings).json(update);
                let outcome = client::deliver(request, "PUT ticket").await;
                if !matches!(outcome, DeliveryOutcome::Delivered { .. }) {
                    return outcome;
                }
            }
            match delivery.payload.get("note") {
                Some(note) => {
                    let request = authorized(self.http.post(format!("{base}/notes")), &self.settings).json(note);
                    client::deliver(request, "POST note").await
                }
                None => DeliveryOutcome::Delivered { receipt: Value::Null },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helpdesk::Secret;

    fn headers(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_string())
    }

    #[test]
    fn the_secret_comes_in_a_header_or_as_basic_auth() {
        let secret = Secret::new("s3cret");
        let check = |h: &dyn Fn(&str) -> Option<String>| verify_secret(&secret, "X-Routec-Secret", h);
        assert_eq!(check(&headers(&[("x-routec-secret", "s3cret")])), Ok(()));
        assert_eq!(check(&headers(&[("X-Routec-Secret", "s3cret!")])), Err(Rejection::BadSecret));
        // "freshdesk:s3cret" and "s3cret" (no user) in base64.
        assert_eq!(check(&headers(&[("Authorization", "Basic ZnJlc2hkZXNrOnMzY3JldA==")])), Ok(()));
        assert_eq!(check(&headers(&[("Authorization", "Basic OnMzY3JldA==")])), Ok(()));
        // "freshdesk:wrong".
        assert_eq!(check(&headers(&[("Authorization", "Basic ZnJlc2hkZXNrOndyb25n")])), Err(Rejection::BadSecret));
        assert_eq!(check(&headers(&[("Authorization", "Bearer s3cret")])), Err(Rejection::BadSecret));
        assert!(matches!(check(&headers(&[])), Err(Rejection::Missing(_))));
    }

    #[test]
    fn an_observation_reads_group_status_and_stats() {
        let groups = BTreeMap::from([("billing".to_string(), "5001".to_string())]);
        let ticket = json!({"id": 12, "group_id": 5001, "status": 4, "stats": {"resolved_at": "2026-11-24T18:00:00Z"}});
        let seen = observation(&groups, &ticket);
        assert_eq!(seen.final_destination.as_deref(), Some("billing"));
        assert!(seen.resolved);
        assert_eq!(seen.resolved_at, Some("2026-11-24T18:00:00Z".parse().expect("time")));
        let open = observation(&groups, &json!({"group_id": 7, "status": 2}));
        assert_eq!(open, Observation::default());
    }
}
