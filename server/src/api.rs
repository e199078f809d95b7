//! The HTTP API: the router, its layers (auth per route group, body size,
//! timeout, concurrency, panics, request tracing, rejected-request metrics)
//! and thin handlers that parse, call [`crate::decide`] or the store, and
//! answer JSON. Every error goes out as [`ApiError`].

use crate::auth::{self, ClientName, Guard};
use crate::config::Scope;
use crate::decide::{self, BatchItem, Dedup, LineResult};
use crate::error::{ApiError, ErrorCode};
use crate::reload::Trigger;
use crate::state::Shared;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Instant;
use tower::ServiceBuilder;

/// The header a client sets to make a request safe to retry.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on every answer of the route endpoints: `true` when the decision was
/// already stored (a retry), `false` when it was made now.
pub const REPLAYED: &str = "idempotent-replayed";

/// The whole API over `state`.
pub fn router(state: Shared) -> Router {
    let guard = |scope| middleware::from_fn_with_state(Guard { clients: state.clients.clone(), scope }, auth::require);
    let limits = &state.config.limits;
    let v1 = Router::new()
        .merge(
            Router::new()
                .route("/v1/route", post(route_one))
                .route("/v1/route/batch", post(route_batch))
                .route_layer(guard(Scope::Route)),
        )
        .merge(
            Router::new()
                .route("/v1/decisions/{decision_id}", get(decision))
                .route("/v1/tickets/{ticket_id}/decisions", get(ticket_decisions))
                .route("/dashboard", get(crate::dashboard::dashboard))
                .route_layer(guard(Scope::Decisions)),
        )
        .merge(
            Router::new().route("/v1/tickets/{ticket_id}/outcome", post(outcome)).route_layer(guard(Scope::Outcomes)),
        )
        .merge(Router::new().route("/v1/load", get(load).put(put_load)).route_layer(guard(Scope::Load)))
        .merge(Router::new().route("/v1/policy", get(policy)).route_layer(guard(Scope::Policy)))
        .merge(Router::new().route("/v1/admin/reload", post(reload)).route_layer(guard(Scope::Admin)))
        // Limits on the API only: health checks and scrapes still answer under overload.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(limit_error))
                .load_shed()
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(limits.max_concurrency))
                .timeout(limits.request_timeout),
        );
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .merge(v1)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(state.clone(), count_rejections))
                .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(|request: &Request| {
                    // Path and method only: headers (tokens) and bodies (tickets) stay out of the logs.
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        client = tracing::field::Empty,
                    )
                }))
                .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
                .layer(middleware::from_fn_with_state(state.clone(), limit_body)),
        )
        .with_state(state)
}

async fn count_rejections(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(ErrorCode(code)) = response.extensions().get::<ErrorCode>() {
        state.metrics.rejected(code);
    }
    response
}

async fn limit_error(err: tower::BoxError) -> ApiError {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(StatusCode::REQUEST_TIMEOUT, "timeout", "the request took longer than the configured timeout")
    } else if err.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", "too many requests at once; retry shortly")
    } else {
        tracing::error!(error = %err, "request failed in a layer");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error").into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; see /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
}

fn body_too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than {limit} bytes"),
    )
    .with("limit", limit)
}

/// The body-size layer: the body is cut off at the limit while it is read.
/// (Not refused on its declared length alone: answering before reading
/// makes most clients fail on a broken pipe instead of reading the 413.)
async fn limit_body(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let limit = state.config.limits.max_body_bytes;
    next.run(request.map(|body| Body::new(http_body_util::Limited::new(body, limit)))).await
}

/// Read the whole body (the body-size layer has capped it).
async fn read_body(state: &Shared, body: Body) -> Result<axum::body::Bytes, ApiError> {
    match body.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if caused_by_length_limit(&e) => Err(body_too_large(state.config.limits.max_body_bytes)),
        Err(e) => Err(ApiError::bad_request("unreadable_body", format!("cannot read the request body: {e}"))),
    }
}

fn caused_by_length_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

fn utf8(bytes: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(bytes).map_err(|e| ApiError::bad_request("invalid_body", format!("the body is not UTF-8: {e}")))
}

/// `?explain=true` (or `1`); anything else in the query is refused.
fn explain_requested(query: Option<&str>) -> Result<bool, ApiError> {
    let mut explain = false;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, "true"));
        match (name, value) {
            ("explain", "true" | "1") => explain = true,
            ("explain", "false" | "0") => explain = false,
            ("explain", other) => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("`explain={other}`: expected `true` or `false`"),
                ))
            }
            (other, _) => {
                return Err(ApiError::bad_request("invalid_query", format!("unknown query parameter `{other}`")))
            }
        }
    }
    Ok(explain)
}

fn dedup<'a>(headers: &'a HeaderMap, client: &'a ClientName) -> Result<Dedup<'a>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else { return Ok(Dedup::Content) };
    let key = value.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 255).ok_or_else(|| {
        ApiError::bad_request("invalid_idempotency_key", "`Idempotency-Key` must be 1 to 255 visible ASCII characters")
    })?;
    Ok(Dedup::Key { client: &client.0, key })
}

fn client_of(request: &Request) -> ClientName {
    // The auth layer inserts it before any `/v1` handler runs.
    request.extensions().get::<ClientName>().cloned().unwrap_or_else(|| ClientName("anonymous".into()))
}

fn replayed_header(response: &mut Response, replayed: bool) {
    response.headers_mut().insert(REPLAYED, HeaderValue::from_static(if replayed { "true" } else { "false" }));
}

/// What the route endpoints read from a request: the options, who sent it
/// and its body.
struct Submission {
    explain: bool,
    client: ClientName,
    headers: HeaderMap,
    body: axum::body::Bytes,
    started: Instant,
}

impl Submission {
    async fn read(state: &Shared, request: Request) -> Result<Submission, ApiError> {
        let started = Instant::now();
        let explain = explain_requested(request.uri().query())?;
        let client = client_of(&request);
        let (parts, body) = request.into_parts();
        let body = read_body(state, body).await?;
        Ok(Submission { explain, client, headers: parts.headers, body, started })
    }

    fn dedup(&self) -> Result<Dedup<'_>, ApiError> {
        dedup(&self.headers, &self.client)
    }

    fn text(&self) -> Result<&str, ApiError> {
        utf8(&self.body)
    }

    fn observe(&self, state: &Shared, endpoint: &'static str) {
        let labels = crate::metrics::EndpointLabels { endpoint };
        state.metrics.decision_seconds.get_or_create(&labels).observe(self.started.elapsed().as_secs_f64());
    }
}

async fn route_one(State(state): State<Shared>, request: Request) -> Result<Response, ApiError> {
    let submission = Submission::read(&state, request).await?;
    let recorded = decide::route_and_record(&state, submission.text()?, submission.dedup()?).await?;
    let replayed = !recorded.fresh;
    let mut response = Json(decide::answer(recorded.decision, submission.explain)).into_response();
    replayed_header(&mut response, replayed);
    submission.observe(&state, "route");
    Ok(response)
}

/// Split a batch body into its tickets: a JSON array, or JSON Lines (blank
/// lines skipped), each numbered from 1 as the client counts them.
fn batch_items(text: &str) -> Result<Vec<BatchItem<'_>>, ApiError> {
    if text.trim_start().starts_with('[') {
        let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(text).map_err(|e| {
            ApiError::bad_request("invalid_batch", format!("the body starts like a JSON array but is not one: {e}"))
        })?;
        Ok(items.into_iter().enumerate().map(|(i, raw)| BatchItem { line: i + 1, json: raw.get() }).collect())
    } else {
        Ok(text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, json)| BatchItem { line: i + 1, json })
            .collect())
    }
}

async fn route_batch(State(state): State<Shared>, request: Request) -> Result<Response, ApiError> {
    let submission = Submission::read(&state, request).await?;
    let dedup = submission.dedup()?;
    let items = batch_items(submission.text()?)?;
    let max = state.config.limits.batch_max;
    if items.is_empty() {
        return Err(ApiError::bad_request("empty_batch", "the batch has no tickets"));
    }
    if items.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("the batch has {} tickets; at most {max} are taken per request", items.len()),
        )
        .with("limit", max));
    }
    let results = decide::route_and_record_batch(&state, &items, dedup).await?;
    let (mut decisions, mut errors) = (Vec::new(), Vec::new());
    let mut replayed = 0usize;
    for (line, result) in results {
        match result {
            LineResult::Recorded(r) => {
                replayed += usize::from(!r.fresh);
                let mut answer = Map::new();
                answer.insert("line".into(), Value::from(line));
                answer.insert("replayed".into(), Value::from(!r.fresh));
                answer.extend(decide::answer(r.decision, submission.explain));
                decisions.push(Value::Object(answer));
            }
            LineResult::Refused(e) => {
                state.metrics.rejected(e.code);
                let mut error = e.body();
                errors.push(json!({ "line": line, "error": error["error"].take() }));
            }
        }
    }
    let body = json!({
        "decided": decisions.len(),
        "replayed": replayed,
        "rejected": errors.len(),
        "decisions": decisions,
        "errors": errors,
    });
    submission.observe(&state, "batch");
    Ok(Json(body).into_response())
}

/// A stored decision as the audit trail shows it.
fn audit(stored: &routec_store::StoredDecision) -> Value {
    let mut value = serde_json::to_value(stored).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        if let Some(id) = map.remove("id") {
            map.insert("decision_id".into(), id);
        }
    }
    value
}

fn path_param(path: Result<Path<String>, axum::extract::rejection::PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(p)| p).map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))
}

async fn decision(
    State(state): State<Shared>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = path_param(id)?;
    match state.store.decision(&id).await.map_err(ApiError::store)? {
        Some(stored) => Ok(Json(audit(&stored))),
        None => Err(ApiError::not_found(format!("no decision `{id}`"))),
    }
}

async fn ticket_decisions(
    State(state): State<Shared>,
    ticket_id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let ticket_id = path_param(ticket_id)?;
    let stored = state.store.ticket_decisions(&ticket_id).await.map_err(ApiError::store)?;
    Ok(Json(json!({ "ticket_id": ticket_id, "decisions": stored.iter().map(audit).collect::<Vec<_>>() })))
}

/// `POST /v1/tickets/{ticket_id}/outcome`: what happened after the decision.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeBody {
    decision_id: Option<String>,
    final_destination: Option<String>,
    reassignments: Option<u32>,
    first_assigned_at: Option<jiff::Timestamp>,
    first_response_at: Option<jiff::Timestamp>,
    resolved_at: Option<jiff::Timestamp>,
    /// Defaults to whether `resolved_at` is given.
    resolved: Option<bool>,
    /// Defaults to `api`.
    source: Option<String>,
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))
}

async fn outcome(
    State(state): State<Shared>,
    ticket_id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let ticket_id = path_param(ticket_id)?;
    let bytes = read_body(&state, body).await?;
    let body: OutcomeBody = parse_json(&bytes)?;
    let now = state.now();
    let stored = state
        .store
        .record_outcome(routec_store::NewOutcome {
            ticket_id,
            decision_id: body.decision_id,
            final_destination: body.final_destination,
            reassignments: body.reassignments,
            first_assigned_at: body.first_assigned_at,
            first_response_at: body.first_response_at,
            resolved: body.resolved.unwrap_or(body.resolved_at.is_some()),
            resolved_at: body.resolved_at,
            recorded_at: now,
            source: body.source.unwrap_or_else(|| "api".into()),
        })
        .await
        .map_err(ApiError::store)?;
    refresh_load(&state).await;
    let mut value = serde_json::to_value(&stored).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        if let Some(id) = map.remove("id") {
            map.insert("outcome_id".into(), id);
        }
    }
    Ok(Json(value))
}

/// After a change the next decision should see, re-read the load at once.
async fn refresh_load(state: &Shared) {
    if let Err(e) = state.load.refresh(&state.store, &state.metrics, state.now()).await {
        tracing::warn!(error = %e, "cannot refresh the load; the previous counts stay in use");
    }
}

fn load_view(state: &Shared) -> Value {
    let counts: BTreeMap<String, u64> = state.load.counts().iter().map(|(k, v)| (k.clone(), *v)).collect();
    json!({ "load": counts, "refreshed_at": state.load.refreshed_at().map(|t| t.to_string()) })
}

async fn load(State(state): State<Shared>) -> Json<Value> {
    Json(load_view(&state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadBody {
    load: BTreeMap<String, u64>,
}

async fn put_load(State(state): State<Shared>, body: Body) -> Result<Json<Value>, ApiError> {
    let bytes = read_body(&state, body).await?;
    let body: LoadBody = parse_json(&bytes)?;
    let policy = state.policy.current();
    let mut counts = BTreeMap::new();
    for (name, n) in body.load {
        if !policy.destination_names().any(|d| d == name) {
            return Err(ApiError::bad_request(
                "unknown_destination",
                format!("the policy has no destination `{name}`"),
            )
            .with("path", format!("load.{name}")));
        }
        let n = i64::try_from(n).map_err(|_| {
            ApiError::bad_request("invalid_body", format!("`load.{name}`: {n} is too large"))
                .with("path", format!("load.{name}"))
        })?;
        counts.insert(name, n);
    }
    state.store.set_load(counts, state.now()).await.map_err(ApiError::store)?;
    refresh_load(&state).await;
    Ok(Json(load_view(&state)))
}

async fn policy(State(state): State<Shared>) -> Json<Value> {
    Json(serde_json::to_value(state.policy.info()).unwrap_or(Value::Null))
}

async fn reload(State(state): State<Shared>) -> Result<Json<Value>, ApiError> {
    match state.policy.reload(Trigger::Api).await {
        Ok(info) => Ok(Json(serde_json::to_value(info).unwrap_or(Value::Null))),
        Err(failure) => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "reload_failed", failure.message.clone())
            .with("diagnostics", failure.diagnostics.clone())
            .with("serving", serde_json::to_value(state.policy.info()).unwrap_or(Value::Null))),
    }
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<Shared>) -> Response {
    let store = match state.store.ping().await {
        Ok(()) => json!({ "backend": state.store.backend().name(), "reachable": true }),
        Err(e) => json!({ "backend": state.store.backend().name(), "reachable": false, "error": e.to_string() }),
    };
    let ready = store["reachable"] == Value::Bool(true);
    let body = json!({
        "ready": ready,
        "policy": serde_json::to_value(state.policy.info()).unwrap_or(Value::Null),
        "store": store,
        "load_refreshed_at": state.load.refreshed_at().map(|t| t.to_string()),
        "started_at": state.started_at.to_string(),
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

async fn metrics(State(state): State<Shared>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], state.metrics.render()).into_response()
}

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
