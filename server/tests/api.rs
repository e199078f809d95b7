//! The router in-process (tower `oneshot`, no network) over a real SQLite
//! decision log in a temporary directory: every status code the API
//! answers, and its JSON error shape.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use routec_server::config::{Config, ConfigFile, Overrides};
use routec_server::shutdown::Shutdown;
use routec_server::state::Shared;
use routec_server::{api, Service};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

const POLICY: &str = r#"policy "svc-test" version 1

ticket {
  id: string?
  subject: text
  tier: free | pro
  customer {
    email: string
  }
}

schedule always {
  24x7
}

team billing {
  hours always
  capacity 2
  when full -> backlog
}
queue backlog
queue legal
queue general

priority {
  P1 when tier == pro
  default P2
}

escalate lawyer when subject has ["lawyer"] -> legal
  handoff customer.email

rule invoices when subject has ["invoice", "refund"] -> billing
otherwise -> general
"#;

const ADMIN: &str = "admin-token";
const DESK: &str = "desk-token";

struct Harness {
    dir: tempfile::TempDir,
    state: Shared,
    router: Router,
    _shutdown: Shutdown,
}

async fn harness_with(config_text: &str) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("policy.route"), POLICY).expect("write policy");
    let base = format!(
        "[clients.ops]\ntoken = \"{ADMIN}\"\nroutes = [\"route\", \"decisions\", \"outcomes\", \"load\", \"policy\", \"admin\"]\n\
         [clients.desk]\ntoken = \"{DESK}\"\nroutes = [\"route\"]\n{config_text}"
    );
    let file = ConfigFile::parse(&base).expect("config parses");
    let config = Config::resolve(&dir.path().join("policy.route"), file, &|_| None, Overrides::default())
        .expect("config is valid");
    let shutdown = Shutdown::new();
    let clock = Arc::new(|| "2026-01-07T15:00:00Z".parse::<jiff::Timestamp>().expect("a time"));
    let service = Service::start(config, clock, shutdown.clone()).await.expect("service starts");
    let router = api::router(service.state.clone());
    Harness { dir, state: service.state, router, _shutdown: shutdown }
}

async fn harness() -> Harness {
    harness_with("").await
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
    text: String,
}

impl Harness {
    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, headers, body, text }
    }

    async fn call(&self, method: Method, uri: &str, token: Option<&str>, body: &str) -> Answer {
        self.call_with(method, uri, token, &[], body).await
    }

    async fn call_with(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::from(body.to_string())).expect("request")).await
    }

    async fn route(&self, ticket: &str) -> Answer {
        self.call(Method::POST, "/v1/route", Some(DESK), ticket).await
    }

    async fn count(&self) -> u64 {
        self.state.store.count_decisions().await.expect("count")
    }
}

fn ticket(id: &str, subject: &str) -> String {
    json!({ "id": id, "subject": subject, "tier": "pro", "customer": { "email": "ann@example.com" } }).to_string()
}

fn assert_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.text);
    assert_eq!(answer.body["error"]["code"], code, "{}", answer.text);
    assert!(answer.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", answer.text);
}

#[tokio::test]
async fn route_answers_the_committed_decision() {
    let h = harness().await;
    let a = h.route(&ticket("T-1", "invoice copy")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["destination"]["name"], "billing");
    assert_eq!(a.body["priority"], "P1");
    assert_eq!(a.body["ticket_id"], "T-1");
    assert!(a.body["decision_id"].as_str().is_some_and(|id| id.starts_with("dec_")), "{}", a.text);
    assert_eq!(a.body["policy_hash"], h.state.policy.info().hash);
    assert!(a.body.get("trace").is_none(), "no trace unless asked: {}", a.text);
    assert_eq!(a.headers["idempotent-replayed"], "false");
    let id = a.body["decision_id"].as_str().expect("id");
    let stored = h.state.store.decision(id).await.expect("read").expect("the decision is in the log");
    assert_eq!(stored.destination.as_deref(), Some("billing"));
    assert!(stored.decision["trace"].as_array().is_some_and(|t| !t.is_empty()), "the log keeps the trace");

    let explained = h.call(Method::POST, "/v1/route?explain=true", Some(DESK), &ticket("T-2", "refund")).await;
    assert_eq!(explained.status, StatusCode::OK, "{}", explained.text);
    assert!(explained.body["trace"].as_array().is_some_and(|t| !t.is_empty()), "{}", explained.text);

    let bad_query = h.call(Method::POST, "/v1/route?explain=maybe", Some(DESK), &ticket("T-3", "x")).await;
    assert_error(&bad_query, 400, "invalid_query");
}

#[tokio::test]
async fn a_retry_answers_the_stored_decision_and_a_changed_ticket_is_decided_again() {
    let h = harness().await;
    let first = h.route(&ticket("T-1", "invoice copy")).await;
    // The same ticket with its fields in another order is the same ticket.
    let reordered =
        r#"{"customer": {"email": "ann@example.com"}, "tier": "pro", "subject": "invoice copy", "id": "T-1"}"#;
    let retry = h.route(reordered).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.body["decision_id"], first.body["decision_id"]);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(h.count().await, 1);

    let changed = h.route(&ticket("T-1", "my lawyer will call")).await;
    assert_ne!(changed.body["decision_id"], first.body["decision_id"]);
    assert_eq!(changed.body["destination"]["name"], "legal");
    assert_eq!(h.count().await, 2);

    // Without an id, every submission is a new decision.
    let anonymous = r#"{"subject": "hello", "tier": "free", "customer": {"email": "x@example.com"}}"#;
    let a = h.route(anonymous).await;
    let b = h.route(anonymous).await;
    assert_ne!(a.body["decision_id"], b.body["decision_id"]);
    assert_eq!(h.count().await, 4);
}

#[tokio::test]
async fn idempotency_keys_are_per_client_and_refuse_a_different_ticket() {
    let h = harness().await;
    let key = [("idempotency-key", "abc-1")];
    let first = h.call_with(Method::POST, "/v1/route", Some(DESK), &key, &ticket("T-1", "invoice")).await;
    let again = h.call_with(Method::POST, "/v1/route", Some(DESK), &key, &ticket("T-1", "invoice")).await;
    assert_eq!(again.body["decision_id"], first.body["decision_id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let other_client = h.call_with(Method::POST, "/v1/route", Some(ADMIN), &key, &ticket("T-1", "invoice")).await;
    assert_ne!(other_client.body["decision_id"], first.body["decision_id"]);
    let reused = h.call_with(Method::POST, "/v1/route", Some(DESK), &key, &ticket("T-9", "other")).await;
    assert_error(&reused, 422, "idempotency_key_reused");
    let empty =
        h.call_with(Method::POST, "/v1/route", Some(DESK), &[("idempotency-key", " ")], &ticket("T-1", "x")).await;
    assert_error(&empty, 400, "invalid_idempotency_key");
    assert_eq!(h.count().await, 2);
}

#[tokio::test]
async fn a_bad_ticket_is_400_with_the_field_path() {
    let h = harness().await;
    let a = h.route(r#"{"id": "T-1", "subject": "x", "tier": "gold", "customer": {"email": "a@example.com"}}"#).await;
    assert_error(&a, 400, "invalid_ticket");
    assert_eq!(a.body["error"]["path"], "tier");
    assert!(a.body["error"]["expected"].as_str().is_some_and(|e| e.contains("free")), "{}", a.text);
    assert_eq!(a.body["error"]["found"], "\"gold\"");
    let missing = h.route(r#"{"id": "T-1", "subject": "x", "tier": "pro", "customer": {}}"#).await;
    assert_error(&missing, 400, "invalid_ticket");
    assert_eq!(missing.body["error"]["path"], "customer.email");
    for body in ["not json", "[1, 2]", ""] {
        assert_error(&h.route(body).await, 400, "invalid_ticket");
    }
    let not_utf8 = h
        .send(
            Request::post("/v1/route")
                .header("authorization", format!("Bearer {DESK}"))
                .body(Body::from(vec![0xff, 0xfe]))
                .expect("request"),
        )
        .await;
    assert_error(&not_utf8, 400, "invalid_body");
    assert_eq!(h.count().await, 0);
}

#[tokio::test]
async fn tokens_are_required_and_scoped() {
    let h = harness().await;
    let t = ticket("T-1", "invoice");
    let none = h.call(Method::POST, "/v1/route", None, &t).await;
    assert_error(&none, 401, "unauthorized");
    assert_eq!(none.headers["www-authenticate"], "Bearer");
    assert_error(&h.call(Method::POST, "/v1/route", Some("wrong"), &t).await, 401, "unauthorized");
    for (method, uri) in [
        (Method::GET, "/v1/policy"),
        (Method::POST, "/v1/admin/reload"),
        (Method::GET, "/v1/load"),
        (Method::GET, "/v1/decisions/dec_x"),
        (Method::POST, "/v1/tickets/T-1/outcome"),
    ] {
        let a = h.call(method, uri, Some(DESK), "{}").await;
        assert_error(&a, 403, "forbidden");
    }
    for uri in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        assert_eq!(h.call(Method::GET, uri, None, "").await.status, StatusCode::OK, "{uri} needs no token");
    }
    let metrics = h.call(Method::GET, "/metrics", None, "").await.text;
    assert!(metrics.contains(r#"routec_requests_rejected_total{reason="unauthorized"} 2"#), "{metrics}");
    assert!(metrics.contains(r#"routec_requests_rejected_total{reason="forbidden"} 5"#), "{metrics}");
    assert!(!metrics.contains(DESK) && !metrics.contains(ADMIN));
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let h = harness_with("[limits]\nmax_body_bytes = 200\nbatch_max = 2\n").await;
    let big = ticket("T-1", &"x".repeat(300));
    assert_error(&h.route(&big).await, 413, "body_too_large");
    let lines = [ticket("A", "a"), ticket("B", "b"), ticket("C", "c")].join("\n");
    let h2 = harness_with("[limits]\nbatch_max = 2\n").await;
    let a = h2.call(Method::POST, "/v1/route/batch", Some(DESK), &lines).await;
    assert_error(&a, 413, "batch_too_large");
    assert_eq!(a.body["error"]["limit"], 2);
    assert_eq!(h.count().await + h2.count().await, 0);
}

#[tokio::test]
async fn a_batch_decides_the_good_lines_and_reports_the_bad_ones() {
    let h = harness().await;
    let lines = [
        ticket("B-1", "invoice"),
        r#"{"id": "B-2", "subject": "x", "tier": "platinum", "customer": {"email": "a@example.com"}}"#.to_string(),
        String::new(),
        ticket("B-4", "my lawyer"),
    ]
    .join("\n");
    let a = h.call(Method::POST, "/v1/route/batch", Some(DESK), &lines).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!((a.body["decided"].as_u64(), a.body["rejected"].as_u64()), (Some(2), Some(1)), "{}", a.text);
    assert_eq!(a.body["decisions"][0]["line"], 1);
    assert_eq!(a.body["decisions"][0]["destination"]["name"], "billing");
    assert_eq!(a.body["decisions"][1]["line"], 4);
    assert_eq!(a.body["decisions"][1]["escalation"]["name"], "lawyer");
    assert_eq!(a.body["errors"][0]["line"], 2);
    assert_eq!(a.body["errors"][0]["error"]["path"], "tier");
    assert_eq!(a.body["errors"][0]["error"]["found"], "\"platinum\"");
    assert_eq!(h.count().await, 2);

    // A JSON array, numbered by element; a resent batch is replayed.
    let array = format!("[{}, {}]", ticket("B-1", "invoice"), ticket("B-5", "hello"));
    let b = h.call(Method::POST, "/v1/route/batch", Some(DESK), &array).await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.text);
    assert_eq!(b.body["replayed"], 1);
    assert_eq!(b.body["decisions"][0]["decision_id"], a.body["decisions"][0]["decision_id"]);
    assert_eq!(b.body["decisions"][1]["line"], 2);
    assert_eq!(h.count().await, 3);

    assert_error(&h.call(Method::POST, "/v1/route/batch", Some(DESK), "[1, 2").await, 400, "invalid_batch");
    assert_error(&h.call(Method::POST, "/v1/route/batch", Some(DESK), "\n\n").await, 400, "empty_batch");
}

#[tokio::test]
async fn the_audit_trail_and_outcomes() {
    let h = harness().await;
    let a = h.route(&ticket("T-7", "invoice")).await;
    let id = a.body["decision_id"].as_str().expect("id").to_string();
    let one = h.call(Method::GET, &format!("/v1/decisions/{id}"), Some(ADMIN), "").await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body["decision_id"], id.as_str());
    assert_eq!(one.body["policy_hash"], a.body["policy_hash"]);
    assert!(one.body["decision"]["trace"].is_array() && one.body["decision"]["signals"].is_object());
    assert_error(&h.call(Method::GET, "/v1/decisions/dec_nope", Some(ADMIN), "").await, 404, "not_found");

    h.route(&ticket("T-7", "invoice, and a refund")).await;
    let all = h.call(Method::GET, "/v1/tickets/T-7/decisions", Some(ADMIN), "").await;
    assert_eq!(all.body["decisions"].as_array().map(Vec::len), Some(2), "{}", all.text);

    let outcome = json!({ "decision_id": id, "final_destination": "general", "reassignments": 1, "resolved_at": "2026-01-07T16:00:00Z" });
    let o = h.call(Method::POST, "/v1/tickets/T-7/outcome", Some(ADMIN), &outcome.to_string()).await;
    assert_eq!(o.status, StatusCode::OK, "{}", o.text);
    assert!(o.body["outcome_id"].as_str().is_some_and(|i| i.starts_with("out_")), "{}", o.text);
    let bad = h.call(Method::POST, "/v1/tickets/T-7/outcome", Some(ADMIN), r#"{"reassignments": -1}"#).await;
    assert_error(&bad, 400, "invalid_body");
    let unknown = h.call(Method::POST, "/v1/tickets/T-7/outcome", Some(ADMIN), r#"{"destination": "x"}"#).await;
    assert_error(&unknown, 400, "invalid_body");
}

#[tokio::test]
async fn load_set_from_outside_drives_capacity_fallbacks() {
    let h = harness().await;
    let unknown = h.call(Method::PUT, "/v1/load", Some(ADMIN), r#"{"load": {"biling": 3}}"#).await;
    assert_error(&unknown, 400, "unknown_destination");
    assert_eq!(unknown.body["error"]["path"], "load.biling");
    let set = h.call(Method::PUT, "/v1/load", Some(ADMIN), r#"{"load": {"billing": 5}}"#).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.body["load"]["billing"], 5);
    let get = h.call(Method::GET, "/v1/load", Some(ADMIN), "").await;
    assert_eq!(get.body["load"]["billing"], 5);
    // billing holds 2: full, so its tickets overflow to the backlog.
    let a = h.route(&ticket("T-1", "invoice")).await;
    assert_eq!(a.body["destination"]["name"], "backlog", "{}", a.text);
    assert_eq!(a.body["fallbacks"][0]["reason"], "full");
    let metrics = h.call(Method::GET, "/metrics", None, "").await.text;
    assert!(metrics.contains(r#"routec_load{destination="billing"} 5"#), "{metrics}");
}

#[tokio::test]
async fn reload_swaps_a_good_version_and_refuses_a_broken_one() {
    let h = harness().await;
    let before = h.call(Method::GET, "/v1/policy", Some(ADMIN), "").await;
    assert_eq!(before.body["name"], "svc-test");
    let path = h.dir.path().join("policy.route");
    std::fs::write(&path, POLICY.replace("version 1", "version 2")).expect("write");
    let good = h.call(Method::POST, "/v1/admin/reload", Some(ADMIN), "").await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.text);
    assert_eq!(good.body["version"], 2);
    assert_ne!(good.body["hash"], before.body["hash"]);
    let routed = h.route(&ticket("T-1", "invoice")).await;
    assert_eq!(routed.body["policy_hash"], good.body["hash"]);

    std::fs::write(&path, POLICY.replace("-> billing", "-> bilings")).expect("write");
    let broken = h.call(Method::POST, "/v1/admin/reload", Some(ADMIN), "").await;
    assert_error(&broken, 422, "reload_failed");
    assert_eq!(broken.body["error"]["serving"]["hash"], good.body["hash"]);
    let info = h.call(Method::GET, "/v1/policy", Some(ADMIN), "").await;
    assert!(info.body["last_reload_error"]["message"].is_string(), "{}", info.text);
    let still = h.route(&ticket("T-2", "invoice")).await;
    assert_eq!(still.status, StatusCode::OK);
    assert_eq!(still.body["policy_hash"], good.body["hash"]);
    let ready = h.call(Method::GET, "/readyz", None, "").await;
    assert!(ready.body["policy"]["last_reload_error"].is_object(), "{}", ready.text);
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let h = harness().await;
    assert_eq!(h.call(Method::GET, "/healthz", None, "").await.body, json!({ "status": "ok" }));
    let ready = h.call(Method::GET, "/readyz", None, "").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.body["ready"], true);
    assert_eq!(ready.body["store"]["backend"], "sqlite");
    assert_eq!(ready.body["started_at"], "2026-01-07T15:00:00Z");
    h.route(&ticket("T-1", "my lawyer")).await;
    h.route(&ticket("T-1", "my lawyer")).await;
    let m = h.call(Method::GET, "/metrics", None, "").await;
    for line in [
        r#"routec_decisions_total{destination="legal",escalation="lawyer",priority="P1"} 1"#,
        "routec_decisions_replayed_total 1",
        r#"routec_decision_duration_seconds_count{endpoint="route"} 2"#,
        "routec_store_write_duration_seconds_count 2",
    ] {
        assert!(m.text.lines().any(|l| l == line), "missing `{line}` in\n{}", m.text);
    }
    let hash = h.state.policy.info().hash;
    assert!(
        m.text.contains(&format!(r#"routec_policy_info{{name="svc-test",version="1",hash="{hash}"}} 1"#)),
        "{}",
        m.text
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let h = harness().await;
    assert_error(&h.call(Method::GET, "/v2/nothing", Some(ADMIN), "").await, 404, "not_found");
    assert_error(&h.call(Method::GET, "/v1/route", Some(ADMIN), "").await, 405, "method_not_allowed");
}

/// A request body that never arrives: the client is too slow.
struct Stalled;

impl http_body::Body for Stalled {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[tokio::test]
async fn a_slow_client_times_out_with_408() {
    let h = harness_with("[limits]\nrequest_timeout = \"200ms\"\n").await;
    let request = Request::post("/v1/route")
        .header("authorization", format!("Bearer {DESK}"))
        .body(Body::new(Stalled))
        .expect("request");
    let a = h.send(request).await;
    assert_error(&a, 408, "timeout");
}

#[tokio::test]
async fn openapi_describes_every_route_of_the_router() {
    let doc: Value = serde_json::from_str(api::OPENAPI).expect("openapi.json is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let routes = routes_in(include_str!("../src/api.rs"));
    assert!(routes.len() >= 12, "{routes:?}");
    for (path, method) in &routes {
        assert!(doc["paths"][path][method].is_object(), "`{method} {path}` is not in openapi.json");
    }
    let described: usize =
        doc["paths"].as_object().expect("paths").values().map(|p| p.as_object().map_or(0, |m| m.len())).sum();
    assert_eq!(described, routes.len(), "openapi.json describes routes the router does not have");
    // Every listed route exists: none falls through to the 404 answer.
    let h = harness().await;
    for (path, method) in &routes {
        let uri = path.replace("{decision_id}", "dec_x").replace("{ticket_id}", "T-1").replace("{outbox_id}", "obx_x");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let a = h.call(method.clone(), &uri, Some(ADMIN), "{}").await;
        assert!(
            a.body["error"]["message"] != "no such route; see /openapi.json"
                && a.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}: {}",
            a.text
        );
    }
}

/// `(path, method)` of every `.route("PATH", get(..).put(..))` in the router's source.
fn routes_in(source: &str) -> Vec<(String, String)> {
    let mut routes = Vec::new();
    for chunk in source.split(".route(\"").skip(1) {
        let Some((path, rest)) = chunk.split_once('"') else { continue };
        let mut depth = 0usize;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    end = i;
                    break;
                }
                ')' => depth -= 1,
                _ => {}
            }
        }
        let handlers = &rest[..end];
        for method in ["get", "post", "put", "delete", "patch"] {
            let call = format!("{method}(");
            let called = handlers
                .match_indices(&call)
                .any(|(i, _)| handlers[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric() && c != '_'));
            if called {
                routes.push((path.to_string(), method.to_string()));
            }
        }
    }
    routes
}

#[test]
fn route_scanning_reads_methods() {
    let routes = routes_in(r#"x.route("/a", get(one).put(two)).route("/b", post(three))"#);
    assert_eq!(routes, vec![("/a".into(), "get".into()), ("/a".into(), "put".into()), ("/b".into(), "post".into())]);
}

#[tokio::test]
async fn requests_past_the_concurrency_limit_get_503_at_once() {
    let h = harness_with("[limits]\nmax_concurrency = 1\nrequest_timeout = \"2s\"\n").await;
    // A slow client holds the only slot until its timeout.
    let stalled = Request::post("/v1/route")
        .header("authorization", format!("Bearer {DESK}"))
        .body(Body::new(Stalled))
        .expect("request");
    let holder = tokio::spawn(h.router.clone().oneshot(stalled));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let a = h.route(&ticket("T-1", "invoice")).await;
    assert_error(&a, 503, "overloaded");
    assert_eq!(h.call(Method::GET, "/healthz", None, "").await.status, StatusCode::OK, "health is not limited");
    let held = holder.await.expect("the slow request ends").expect("answered");
    assert_eq!(held.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(h.route(&ticket("T-1", "invoice")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_store_that_cannot_write_is_503_and_not_ready() {
    let h = harness().await;
    h.state.store.close().await;
    let a = h.route(&ticket("T-1", "invoice")).await;
    assert_error(&a, 503, "store_unavailable");
    let ready = h.call(Method::GET, "/readyz", None, "").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{}", ready.text);
    assert_eq!(ready.body["ready"], false);
    assert_eq!(h.call(Method::GET, "/healthz", None, "").await.status, StatusCode::OK);
}

/// Log output captured in memory.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_never_reach_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .json()
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let h = harness().await;
    let wrong = "not-a-token-of-anyone";
    h.route(&ticket("T-1", "invoice")).await;
    h.call(Method::POST, "/v1/route", Some(wrong), &ticket("T-2", "invoice")).await;
    h.call(Method::POST, "/v1/admin/reload", Some(DESK), "").await;
    h.call(Method::POST, "/v1/admin/reload", Some(ADMIN), "").await;
    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(logs.contains("/v1/admin/reload"), "the requests were logged:\n{logs}");
    for token in [DESK, ADMIN, wrong] {
        assert!(!logs.contains(token), "`{token}` is in the logs:\n{logs}");
    }
}
