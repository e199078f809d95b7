//! The helpdesk webhooks: `POST /webhooks/{zendesk,freshdesk,intercom}`.
//! A webhook is verified first (a bad or missing signature or secret is
//! 401 and causes nothing but one counted rejection); a new ticket is then
//! fetched from the helpdesk, mapped into the policy's schema, and decided
//! by the same route-and-record function as the API, with the helpdesk's
//! ticket id as the dedup key and the write-back added to the decision's
//! outbox (nothing in shadow mode); an update webhook becomes an outcome.
//!
//! Also here: connecting the configured helpdesks at start (field mappings
//! checked against the policy's schema) and their open-ticket refresh.

use crate::actions::Origin;
use crate::api::{read_body, refresh_load};
use crate::decide::{self, Dedup};
use crate::error::ApiError;
use crate::shutdown::Shutdown;
use crate::state::Shared;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::Json;
use routec_compiler::hir;
use routec_connectors::helpdesk::mapping::{FieldKind, Schema, SchemaField};
use routec_connectors::helpdesk::{self, Helpdesk, Mode, Settings, WebhookEvent};
use routec_connectors::sink::HelpdeskTicket;
use routec_connectors::Sink;
use routec_runtime::advanced::PolicyInternals;
use routec_runtime::Policy;
use routec_store::{NewOutboxItem, NewOutcome};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The connected helpdesks.
pub type Helpdesks = Vec<Arc<dyn Helpdesk>>;

/// The error code of a refused webhook (counted in `routec_rejected_total`).
pub const REJECTED: &str = "invalid_webhook_signature";

/// The policy's ticket schema, as the field mapping checks it.
pub fn schema_of(policy: &Policy) -> Schema {
    let hir = policy.hir();
    Schema {
        fields: hir
            .fields
            .iter()
            .map(|f| SchemaField { path: f.path.clone(), kind: kind_of(hir, &f.ty), optional: f.optional })
            .collect(),
    }
}

fn kind_of(policy: &hir::Policy, ty: &hir::Ty) -> FieldKind {
    match ty {
        hir::Ty::Text => FieldKind::Text,
        // A URL field takes the URL as a string; the runtime splits it.
        hir::Ty::String | hir::Ty::Url => FieldKind::String,
        hir::Ty::Int => FieldKind::Int,
        hir::Ty::Number => FieldKind::Number,
        hir::Ty::Bool => FieldKind::Bool,
        hir::Ty::Time => FieldKind::Time,
        hir::Ty::Duration => FieldKind::Duration,
        hir::Ty::Enum(id) => FieldKind::Enum(
            policy.enums.get(id.index()).map(|e| e.values.iter().map(|v| v.name.clone()).collect()).unwrap_or_default(),
        ),
        hir::Ty::List(item) => FieldKind::List(Box::new(kind_of(policy, item))),
    }
}

/// Connect the configured helpdesks; a field mapping that does not fit the
/// policy's schema, or a group table naming no destination, stops the start.
pub fn connect(settings: &Settings, policy: &Policy) -> Result<Helpdesks, crate::config::ConfigError> {
    let invalid = |setting: String, reason: String| crate::config::ConfigError::Invalid { setting, reason };
    for resolved in [&settings.zendesk, &settings.freshdesk, &settings.intercom].into_iter().flatten() {
        for destination in resolved.groups.keys() {
            if !policy.destination_names().any(|d| d == destination) {
                return Err(invalid(
                    format!("helpdesk.{}.groups.{destination}", resolved.name),
                    format!("the policy has no destination `{destination}`"),
                ));
            }
        }
    }
    helpdesk::connect(settings, &schema_of(policy)).map_err(|e| invalid(e.setting, e.reason))
}

/// The sinks that deliver the helpdesks' write-back rows, for the outbox worker.
pub fn sinks(helpdesks: &Helpdesks) -> Vec<Arc<dyn Sink>> {
    helpdesks.iter().map(|h| h.sink()).collect()
}

fn unreachable(name: &str, error: impl std::fmt::Display) -> ApiError {
    tracing::warn!(helpdesk = name, error = %error, "cannot read from the helpdesk");
    ApiError::new(StatusCode::BAD_GATEWAY, "helpdesk_unreachable", format!("cannot read from {name}: {error}"))
}

/// `POST /webhooks/{helpdesk}`.
pub async fn receive(
    State(state): State<Shared>,
    name: Result<Path<String>, axum::extract::rejection::PathRejection>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let name = name.map(|Path(n)| n).map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))?;
    let helpdesk = state
        .helpdesks
        .iter()
        .find(|h| h.name() == name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no helpdesk `{name}` is configured")))?;
    let (parts, body) = request.into_parts();
    let body = read_body(&state, body).await?;
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Err(rejection) = helpdesk.verify(&header, &body, state.now()) {
        tracing::warn!(helpdesk = %name, reason = %rejection, "webhook refused");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, REJECTED, format!("webhook refused: {rejection}")));
    }
    let event = helpdesk.event(&body).map_err(|e| ApiError::bad_request("invalid_webhook", e.to_string()))?;
    match event {
        WebhookEvent::Ignored { reason } => Ok(Json(json!({ "helpdesk": name, "ignored": reason }))),
        WebhookEvent::Route { ticket_id } => route(&state, helpdesk.as_ref(), &ticket_id).await,
        WebhookEvent::Update { ticket_id } => outcome(&state, helpdesk.as_ref(), &ticket_id).await,
    }
}

/// Fetch, map, decide and record, with the write-back in the same transaction.
async fn route(state: &Shared, helpdesk: &dyn Helpdesk, ticket_id: &str) -> Result<Json<Value>, ApiError> {
    let name = helpdesk.name();
    let source = helpdesk.fetch(ticket_id).await.map_err(|e| unreachable(name, e))?;
    let ticket = helpdesk
        .mapping()
        .apply(name, ticket_id, &source)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unmappable_ticket", e.to_string()))?;
    let mode = helpdesk.mode();
    let dedup = Dedup::Helpdesk { helpdesk: name, ticket: ticket_id };
    let origin = Origin::Helpdesk(HelpdeskTicket { helpdesk: name.to_string(), ticket_id: ticket_id.to_string() });
    let recorded = decide::route_and_record_from(state, &ticket.to_string(), dedup, &origin, |decision| match mode {
        // The parallel run: the decision is logged, nothing happens in the support stack.
        Mode::Shadow => decision.outbox.clear(),
        Mode::Enforce => {
            if let Some(write) = helpdesk.write_back(ticket_id, &source, &decision.decision) {
                decision.outbox.push(NewOutboxItem {
                    kind: write.kind.to_string(),
                    target: write.target,
                    payload: write.payload,
                    idempotency_key: Some(write.idempotency_key),
                });
            }
        }
    })
    .await?;
    let d = &recorded.decision;
    Ok(Json(json!({
        "helpdesk": name,
        "ticket_id": ticket_id,
        "decision_id": d.id,
        "destination": d.destination,
        "priority": d.priority,
        "mode": if mode == Mode::Shadow { "shadow" } else { "enforce" },
        "replayed": !recorded.fresh,
    })))
}

/// Read where the ticket is now and record it as the decision's outcome.
async fn outcome(state: &Shared, helpdesk: &dyn Helpdesk, ticket_id: &str) -> Result<Json<Value>, ApiError> {
    let name = helpdesk.name();
    let seen = helpdesk.observe(ticket_id).await.map_err(|e| unreachable(name, e))?;
    let decisions = state.store.ticket_decisions(ticket_id).await.map_err(ApiError::store)?;
    let latest = decisions.last();
    let reassignments = match seen.reassignments {
        Some(n) => Some(n),
        None => {
            let earlier = state.store.ticket_outcomes(ticket_id).await.map_err(ApiError::store)?;
            let mut path: Vec<Option<String>> = vec![latest.and_then(|d| d.destination.clone())];
            path.extend(earlier.into_iter().map(|o| o.outcome.final_destination));
            path.push(seen.final_destination.clone());
            Some(count_changes(&path))
        }
    };
    let stored = state
        .store
        .record_outcome(NewOutcome {
            ticket_id: ticket_id.to_string(),
            decision_id: latest.map(|d| d.id.clone()),
            final_destination: seen.final_destination,
            reassignments,
            first_assigned_at: seen.first_assigned_at,
            first_response_at: None,
            resolved: seen.resolved,
            resolved_at: seen.resolved_at,
            recorded_at: state.now(),
            source: name.to_string(),
        })
        .await
        .map_err(ApiError::store)?;
    refresh_load(state).await;
    Ok(Json(json!({
        "helpdesk": name,
        "ticket_id": ticket_id,
        "outcome_id": stored.id,
        "decision_id": stored.outcome.decision_id,
        "final_destination": stored.outcome.final_destination,
        "reassignments": stored.outcome.reassignments,
        "resolved": stored.outcome.resolved,
    })))
}

/// Changes between consecutive known destinations (unknown ones skipped).
fn count_changes(path: &[Option<String>]) -> u32 {
    let known: Vec<&String> = path.iter().flatten().collect();
    let changes = known.windows(2).filter(|pair| pair[0] != pair[1]).count();
    u32::try_from(changes).unwrap_or(u32::MAX)
}

/// Refresh every mapped destination's open-ticket count from each helpdesk,
/// at once and then every `load_refresh` of that helpdesk, until shutdown.
pub fn spawn_load_refresh(state: Shared, shutdown: Shutdown) {
    for helpdesk in state.helpdesks.clone() {
        let state = state.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let stopped = shutdown.wait();
            tokio::pin!(stopped);
            loop {
                if let Err(e) = refresh_from(&state, helpdesk.as_ref()).await {
                    tracing::warn!(helpdesk = helpdesk.name(), error = %e, "cannot refresh the load from the helpdesk");
                }
                tokio::select! {
                    () = &mut stopped => return,
                    () = tokio::time::sleep(helpdesk.load_refresh()) => {}
                }
            }
        });
    }
}

/// One refresh: the helpdesk's counts become the load routing reads.
pub async fn refresh_from(state: &Shared, helpdesk: &dyn Helpdesk) -> Result<BTreeMap<String, i64>, String> {
    let counts = helpdesk.open_counts().await.map_err(|e| e.to_string())?;
    let policy = state.policy.current();
    let counts: BTreeMap<String, i64> = counts
        .into_iter()
        .filter(|(d, _)| policy.destination_names().any(|n| n == d))
        .map(|(d, n)| (d, i64::try_from(n).unwrap_or(i64::MAX)))
        .collect();
    state.store.set_load(counts.clone(), state.now()).await.map_err(|e| e.to_string())?;
    refresh_load(state).await;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassignments_count_changes_of_known_destinations() {
        let s = |d: &str| Some(d.to_string());
        assert_eq!(count_changes(&[s("billing"), s("billing")]), 0);
        assert_eq!(count_changes(&[s("billing"), None, s("tier2"), s("tier2"), s("billing")]), 2);
        assert_eq!(count_changes(&[None, None]), 0);
    }
}
