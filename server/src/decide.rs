//! Route and record: the one function every source of tickets calls (the
//! HTTP API now, the helpdesk webhooks later). A ticket's JSON is validated
//! against the policy's schema, decided with the current load and time,
//! redacted, and committed to the decision log with its actions' outbox
//! rows (one transaction); only then is it answered. With `[enrich]`, a CRM
//! lookup fills schema fields first.
//! The dedup key makes a retry answer the decision already stored.

use crate::actions::{self, Origin};
use crate::error::ApiError;
use crate::state::State;
use routec_connectors::enrich::Enrichment;
use routec_runtime::{Context, Policy, TicketError};
use routec_store::{NewDecision, Recorded, StoredDecision};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::time::Instant;

/// What makes two submissions "the same ticket" for idempotency.
#[derive(Clone, Debug)]
pub enum Dedup<'a> {
    /// The client's `Idempotency-Key` header, scoped by the client's name.
    Key { client: &'a str, key: &'a str },
    /// No header: the ticket's id and a hash of its content (the same
    /// ticket sent again is a retry, a changed one is decided anew); a
    /// ticket without an id is always new.
    Content,
    /// A helpdesk webhook: one decision per helpdesk ticket, whatever its
    /// content when a redelivered webhook fetches it again (routec's own
    /// write-back changes it).
    Helpdesk { helpdesk: &'a str, ticket: &'a str },
}

/// A ticket ready to be recorded, or why it was refused.
pub type Prepared = Result<NewDecision, TicketError>;

/// Validate and decide one ticket given as JSON text; nothing is written yet.
/// `line` numbers the tickets of a batch, so one key covers a whole batch.
pub fn prepare(
    state: &State,
    policy: &Policy,
    ctx: &Context,
    json: &str,
    dedup: &Dedup<'_>,
    line: Option<usize>,
) -> Prepared {
    prepare_with(state, policy, ctx, json, dedup, line, &Origin::Api, None)
}

/// [`prepare`] for a ticket from `origin`, with the CRM's values (when a
/// lookup ran) laid over the ticket's own before routing. The content hash
/// is the ticket's as received, so a redelivered ticket is a retry however
/// the CRM answers; the decision JSON records the lookup (`enrichment`).
#[allow(clippy::too_many_arguments)]
pub fn prepare_with(
    state: &State,
    policy: &Policy,
    ctx: &Context,
    json: &str,
    dedup: &Dedup<'_>,
    line: Option<usize>,
    origin: &Origin,
    enrichment: Option<&Enrichment>,
) -> Prepared {
    let received = policy.ticket(json)?;
    let content_hash = content_hash(received.json());
    let (ticket, enrichment_report) = enriched(policy, received, enrichment);
    let decision = policy.route(&ticket, ctx);
    let dedup_key = match (dedup, ticket.id()) {
        (Dedup::Key { client, key }, _) => match line {
            Some(n) => format!("key:{client}:{key}#{n}"),
            None => format!("key:{client}:{key}"),
        },
        (Dedup::Content, Some(id)) => format!("ticket:{id}:{content_hash}"),
        (Dedup::Content, None) => format!("once:{}", unique_suffix()),
        (Dedup::Helpdesk { helpdesk, ticket }, _) => format!("helpdesk:{helpdesk}:{ticket}"),
    };
    let mut decision_json = serde_json::to_value(&decision).unwrap_or(Value::Null);
    // The helpdesk is only given the enforced decision; the shadow one (when
    // the engines report one) is kept beside it in the log.
    let mut shadow = decision_json.as_object_mut().and_then(|d| d.remove("shadow")).filter(|s| !s.is_null());
    if let (Some(report), Some(map)) = (enrichment_report, decision_json.as_object_mut()) {
        map.insert("enrichment".into(), report);
    }
    let mut stored_ticket = ticket.json().clone();
    let redactor = &state.config.redactor;
    if redactor.is_active() {
        redactor.ticket(&mut stored_ticket);
        redactor.decision(&mut decision_json);
        if let Some(shadow) = shadow.as_mut() {
            redactor.decision(shadow);
        }
    }
    let outbox = actions::outbox_items(&state.config.actions, &decision_json, &stored_ticket, &dedup_key, origin);
    Ok(NewDecision {
        ticket_id: decision.ticket_id.clone(),
        dedup_key,
        content_hash,
        policy_hash: policy.hash().to_string(),
        policy_name: policy.name().to_string(),
        policy_version: policy.version(),
        decided_at: ctx.now,
        destination: decision.destination.as_ref().map(|d| d.name.clone()),
        priority: decision.priority.clone(),
        escalation: decision.escalation.as_ref().map(|e| e.name.clone()),
        decision: decision_json,
        shadow,
        ticket: stored_ticket,
        outbox,
    })
}

/// The ticket to route: the received one with the CRM's values over it, or
/// the received one alone (no lookup, nothing found, or values the schema
/// refuses, which the report then says).
fn enriched(
    policy: &Policy,
    received: routec_runtime::Ticket,
    enrichment: Option<&Enrichment>,
) -> (routec_runtime::Ticket, Option<Value>) {
    let Some(enrichment) = enrichment else { return (received, None) };
    if enrichment.values.is_empty() {
        return (received, Some(enrichment.report.clone()));
    }
    let mut json = received.json().clone();
    enrichment.apply(&mut json);
    match policy.ticket_from_value(json) {
        Ok(ticket) => (ticket, Some(enrichment.report.clone())),
        Err(e) => {
            let report = serde_json::json!({ "status": "rejected", "error": e.to_string() });
            (received, Some(report))
        }
    }
}

/// The routing context now: the clock's time and the cached open-ticket counts.
pub fn context(state: &State) -> Context {
    Context { now: state.now(), load: (*state.load.counts()).clone() }
}

/// Decide one ticket and commit it. `Ok` only once the decision is durable.
pub async fn route_and_record(state: &State, json: &str, dedup: Dedup<'_>) -> Result<Recorded, ApiError> {
    route_and_record_from(state, json, dedup, &Origin::Api, |_| {}).await
}

/// [`route_and_record`] for a ticket from `origin` (a helpdesk webhook
/// passes its ticket, so that follow-ups reach it), with `amend` given the
/// decision before it is written (a helpdesk webhook adds its write-back to
/// the outbox, or in shadow mode empties it). With `[enrich]`, the CRM is
/// asked first (bounded by its timeout).
pub async fn route_and_record_from(
    state: &State,
    json: &str,
    dedup: Dedup<'_>,
    origin: &Origin,
    amend: impl FnOnce(&mut NewDecision),
) -> Result<Recorded, ApiError> {
    let enrichment = match &state.config.enrich {
        Some(enricher) => match serde_json::from_str::<Value>(json) {
            Ok(ticket) => Some(enricher.enrich(&ticket).await),
            // Not JSON: `prepare` says so in the answer.
            Err(_) => None,
        },
        None => None,
    };
    let policy = state.policy.current();
    let ctx = context(state);
    let mut prepared = prepare_with(state, &policy, &ctx, json, &dedup, None, origin, enrichment.as_ref())
        .map_err(|e| ApiError::invalid_ticket(&e))?;
    amend(&mut prepared);
    let content_hash = prepared.content_hash.clone();
    let started = Instant::now();
    let recorded = state.store.record(prepared).await.map_err(ApiError::store)?;
    state.metrics.store_write_seconds.observe(started.elapsed().as_secs_f64());
    if !recorded.fresh {
        if let Dedup::Key { .. } = dedup {
            if recorded.decision.content_hash != content_hash {
                return Err(reused_key());
            }
        }
    }
    count(state, &recorded);
    Ok(recorded)
}

/// Tickets of a batch decided between two yields to the async runtime.
const YIELD_EVERY: usize = 64;

/// One line of a batch, as numbered in the request (from 1).
pub struct BatchItem<'a> {
    pub line: usize,
    pub json: &'a str,
}

/// What became of one line of a batch.
pub enum LineResult {
    Recorded(Box<Recorded>),
    Refused(ApiError),
}

/// Decide every ticket of a batch; the good ones are committed in one
/// transaction, the bad ones answered with their field path.
pub async fn route_and_record_batch(
    state: &State,
    items: &[BatchItem<'_>],
    dedup: Dedup<'_>,
) -> Result<Vec<(usize, LineResult)>, ApiError> {
    let policy = state.policy.current();
    let ctx = context(state);
    let mut results = Vec::with_capacity(items.len());
    let mut good = Vec::with_capacity(items.len());
    let mut good_lines = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        if index % YIELD_EVERY == YIELD_EVERY - 1 {
            // Deciding a large batch takes tens of milliseconds of CPU: let
            // the store's writer and the other requests run in between, so
            // that committing one batch overlaps deciding the next.
            tokio::task::yield_now().await;
        }
        match prepare(state, &policy, &ctx, item.json, &dedup, Some(item.line)) {
            Ok(d) => {
                good_lines.push((item.line, d.content_hash.clone()));
                good.push(d);
            }
            Err(e) => results.push((item.line, LineResult::Refused(ApiError::invalid_ticket(&e)))),
        }
    }
    if !good.is_empty() {
        let started = Instant::now();
        let recorded = state.store.record_batch(good).await.map_err(ApiError::store)?;
        state.metrics.store_write_seconds.observe(started.elapsed().as_secs_f64());
        for ((line, hash), r) in good_lines.into_iter().zip(recorded) {
            if !r.fresh && matches!(dedup, Dedup::Key { .. }) && r.decision.content_hash != hash {
                results.push((line, LineResult::Refused(reused_key())));
                continue;
            }
            count(state, &r);
            results.push((line, LineResult::Recorded(Box::new(r))));
        }
    }
    results.sort_by_key(|(line, _)| *line);
    Ok(results)
}

fn reused_key() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "this Idempotency-Key was first used for a different ticket; use a new key for a new ticket",
    )
}

fn count(state: &State, recorded: &Recorded) {
    let m = &state.metrics;
    if !recorded.fresh {
        m.replays.inc();
        return;
    }
    let d = &recorded.decision;
    m.decided(d.destination.as_deref(), d.escalation.as_deref(), &d.priority);
    if let Some(shadow) = &d.shadow {
        let shadow_destination = shadow.pointer("/destination/name").and_then(Value::as_str);
        if shadow_destination != d.destination.as_deref() {
            m.shadow_divergence.inc();
        }
    }
}

/// The answer for a stored decision: the decision JSON as `routec route`
/// prints it, plus `decision_id` and `policy_hash`; the trace only when
/// asked (`?explain=true`). The same bytes for a first answer and a replay.
pub fn answer(stored: StoredDecision, explain: bool) -> Map<String, Value> {
    let mut out = match stored.decision {
        Value::Object(map) => map,
        other => Map::from_iter([("decision".to_string(), other)]),
    };
    if !explain {
        out.remove("trace");
    }
    out.insert("decision_id".into(), Value::from(stored.id));
    out.insert("policy_hash".into(), Value::from(stored.policy_hash));
    out
}

/// SHA-256 of the ticket's canonical JSON (object keys sorted, no spaces),
/// so the same ticket sent with its fields in another order is the same.
/// Stored dedup keys contain it: its bytes must never change.
pub fn content_hash(ticket: &Value) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut canonical = Vec::with_capacity(1024);
    write_canonical(ticket, &mut canonical);
    let digest = Sha256::digest(&canonical);
    let mut hex = String::with_capacity(2 * digest.len());
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_compact(key, out);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_compact(scalar, out),
    }
}

/// serde_json's compact form (what `Value`'s `to_string` gives), appended.
fn write_compact<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    // Serialising a string or a JSON scalar into memory cannot fail.
    let _ = serde_json::to_writer(out, value);
}

/// Unique across processes and replicas: random bits, then a process-wide counter.
fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = getrandom::u64().unwrap_or_else(|_| {
        // No OS randomness: the clock and the process id still separate replicas.
        let nanos = jiff::Timestamp::now().as_nanosecond() as u64;
        nanos ^ (u64::from(std::process::id()) << 32)
    });
    format!("{random:016x}{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_ignores_key_order_and_spacing() {
        let a: Value =
            serde_json::from_str(r#"{"id": "T-1", "customer": {"tier": "pro", "vip": true}, "tags": [1, 2]}"#)
                .expect("json");
        let b: Value =
            serde_json::from_str(r#"{"tags":[1,2],"customer":{"vip":true,"tier":"pro"},"id":"T-1"}"#).expect("json");
        let c: Value =
            serde_json::from_str(r#"{"tags":[2,1],"customer":{"vip":true,"tier":"pro"},"id":"T-1"}"#).expect("json");
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&c));
    }

    #[test]
    fn content_hash_is_the_stored_one() {
        // Dedup keys in existing logs contain these bytes: SHA-256 of
        // `{"a":[1,2.5,null],"b":{"c":true,"d":"é \"q\""},"id":"T-1"}`.
        let ticket: Value =
            serde_json::from_str(r#"{"id": "T-1", "b": {"d": "é \"q\"", "c": true}, "a": [1, 2.5, null]}"#)
                .expect("json");
        assert_eq!(content_hash(&ticket), "6181c1310015dc74d45e8c93fd5aa23f2884cba8ade1521a9814a1aad5242b0b");
    }

    #[test]
    fn unique_suffixes_differ() {
        assert_ne!(unique_suffix(), unique_suffix());
    }
}
