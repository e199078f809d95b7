//! The helpdesk webhooks end to end, in-process: the router and a real
//! SQLite decision log, the example policy (`examples/saas-b2b`) with its
//! sample config (`examples/saas-b2b/routec.toml`), and a fake Zendesk on
//! 127.0.0.1 (wiremock) that checks the documented requests.
//!
//! The outbox is drained here as the delivery worker does it (claim →
//! the sink of the row's kind → complete), through the Zendesk sink and
//! recording stand-ins for the Slack and e-mail sinks.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use routec_connectors::{BoxFuture, Delivery, DeliveryOutcome, Sink};
use routec_server::config::{Config, ConfigFile, Overrides};
use routec_server::shutdown::Shutdown;
use routec_server::state::Shared;
use routec_server::{api, webhooks, Service};
use serde_json::{json, Value};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NOW: &str = "2026-11-24T15:30:00Z";
const SECRET: &str = "zendesk-signing-secret";
const LEGAL_GROUP: u64 = 360001000001;

fn example(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/saas-b2b").join(file)
}

struct Harness {
    _dir: tempfile::TempDir,
    state: Shared,
    router: Router,
    _shutdown: Shutdown,
}

/// The sample config with its Zendesk URL pointed at the fake and `edit` applied.
fn config_text(zendesk: &MockServer, dir: &Path, edit: &dyn Fn(String) -> String) -> String {
    let sample = std::fs::read_to_string(example("routec.toml")).expect("the sample config");
    let pointed = sample.replace("https://acme.zendesk.com", &zendesk.uri());
    let db = format!("db = \"sqlite:{}\"\n", dir.join("routec.db").display());
    edit(format!("{db}{pointed}"))
}

fn env(name: &str) -> Option<String> {
    match name {
        "ROUTEC_OPS_TOKEN" => Some("ops-token".into()),
        "ZENDESK_API_TOKEN" => Some("zd-api-token".into()),
        "ZENDESK_WEBHOOK_SECRET" => Some(SECRET.into()),
        _ => None,
    }
}

async fn start(text: &str, dir: tempfile::TempDir) -> Result<Harness, String> {
    let file = ConfigFile::parse(text).map_err(|e| e.to_string())?;
    let config =
        Config::resolve(&example("policy.route"), file, &env, Overrides::default()).map_err(|e| e.to_string())?;
    let shutdown = Shutdown::new();
    let clock = Arc::new(|| NOW.parse::<jiff::Timestamp>().expect("a time"));
    let service = Service::start(config, clock, shutdown.clone()).await.map_err(|e| e.to_string())?;
    let router = api::router(service.state.clone());
    Ok(Harness { _dir: dir, state: service.state, router, _shutdown: shutdown })
}

async fn harness(zendesk: &MockServer, edit: &dyn Fn(String) -> String) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = config_text(zendesk, dir.path(), edit);
    start(&text, dir).await.expect("the service starts")
}

/// The legal-threat ticket of the example (T-100149 in tickets.jsonl), as
/// Zendesk shows it with its requester and organisation sideloaded.
fn legal_ticket() -> Value {
    json!({
        "ticket": {
            "id": 35436, "subject": "Breach of contract",
            "description": "Your downtime last week is a breach of contract. Our attorney will be in touch.",
            "via": {"channel": "email"}, "tags": ["routec_pending"], "created_at": "2026-11-24T15:25:00Z",
            "requester_id": 20978392, "organization_id": 509974, "group_id": null, "status": "new"
        },
        "users": [{"id": 20978392, "name": "Art Vandelay", "email": "art@vandelay.example"}],
        "organizations": [{"id": 509974, "name": "Vandelay Industries",
            "organization_fields": {"plan": "pro", "vip": false, "health_score": 33, "seats": 24, "at_risk": false}}]
    })
}

async fn fake_zendesk() -> MockServer {
    let server = MockServer::start().await;
    // https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#show-ticket (sideloads)
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/35436.json"))
        .and(query_param("include", "users,organizations"))
        .and(header("authorization", basic("routec-bot@acme.example/token", "zd-api-token").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(legal_ticket()))
        .mount(&server)
        .await;
    // https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/35436.json"))
        .and(header("authorization", basic("routec-bot@acme.example/token", "zd-api-token").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {"id": 35436}})))
        .mount(&server)
        .await;
    // https://developer.zendesk.com/api-reference/ticketing/ticket-management/search/#show-results-count
    Mock::given(method("GET"))
        .and(path("/api/v2/search/count.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 0})))
        .mount(&server)
        .await;
    server
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// Sign as Zendesk's page documents it: base64(HMAC-SHA256(secret, timestamp ‖ body)).
fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

struct Answer {
    status: StatusCode,
    body: Value,
}

async fn webhook(h: &Harness, body: &str, signature: Option<&str>, timestamp: Option<&str>) -> Answer {
    let mut request = Request::post("/webhooks/zendesk").header("content-type", "application/json");
    if let Some(s) = signature {
        request = request.header("X-Zendesk-Webhook-Signature", s);
    }
    if let Some(t) = timestamp {
        request = request.header("X-Zendesk-Webhook-Signature-Timestamp", t);
    }
    let response =
        h.router.clone().oneshot(request.body(Body::from(body.to_string())).expect("request")).await.expect("answer");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

async fn signed(h: &Harness, body: &str) -> Answer {
    webhook(h, body, Some(&sign(SECRET, NOW, body)), Some(NOW)).await
}

/// Stands in for a sink of another connector: records what it was given.
#[derive(Default)]
struct Recording {
    kinds: Vec<&'static str>,
    seen: Mutex<Vec<(String, Value)>>,
}

impl Sink for Recording {
    fn kinds(&self) -> &[&'static str] {
        &self.kinds
    }

    fn deliver<'a>(&'a self, delivery: Delivery<'a>) -> BoxFuture<'a, DeliveryOutcome> {
        self.seen.lock().expect("lock").push((delivery.target.to_string(), delivery.payload.clone()));
        Box::pin(async { DeliveryOutcome::Delivered { receipt: Value::Null } })
    }
}

/// Deliver every due outbox row as the worker does; the kinds delivered.
async fn drain(h: &Harness, sinks: &[Arc<dyn Sink>]) -> Vec<String> {
    let now = h.state.now();
    let items = h.state.store.claim_outbox(100, now, Duration::from_secs(60)).await.expect("claim");
    let mut delivered = Vec::new();
    for item in items {
        let sink = sinks
            .iter()
            .find(|s| s.kinds().contains(&item.kind.as_str()))
            .unwrap_or_else(|| panic!("no sink for `{}`", item.kind));
        let outcome = sink
            .deliver(Delivery {
                id: &item.id,
                decision_id: &item.decision_id,
                kind: &item.kind,
                target: &item.target,
                payload: &item.payload,
                idempotency_key: item.idempotency_key.as_deref(),
                attempt: item.attempts,
            })
            .await;
        assert!(matches!(outcome, DeliveryOutcome::Delivered { .. }), "{}: {outcome:?}", item.kind);
        assert!(h.state.store.complete_outbox(&item.id, now).await.expect("complete"));
        delivered.push(item.kind);
    }
    delivered
}

async fn requests_to(server: &MockServer, verb: &str, url_path: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == url_path)
        .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
        .collect()
}

const ROUTE: &str = r#"{"ticket_id": "35436", "event": "created"}"#;

/// The issue's end-to-end scenario: a signed webhook for the legal-threat
/// ticket → one PUT with the legal group and urgent priority (the gate tag
/// removed, a private comment), and nothing duplicated on redelivery.
#[tokio::test]
async fn a_signed_zendesk_webhook_is_decided_once_and_written_back_once() {
    let zendesk = fake_zendesk().await;
    let h = harness(&zendesk, &|t| t).await;
    let slack = Arc::new(Recording { kinds: vec!["slack"], ..Recording::default() });
    let email = Arc::new(Recording { kinds: vec!["email"], ..Recording::default() });
    let mut sinks = webhooks::sinks(&h.state.helpdesks);
    sinks.push(slack.clone());
    sinks.push(email.clone());

    let first = signed(&h, ROUTE).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["destination"], json!("legal_review"));
    assert_eq!(first.body["priority"], json!("P1"));
    assert_eq!(first.body["replayed"], json!(false));
    let decision_id = first.body["decision_id"].as_str().expect("a decision id").to_string();

    let rows = h.state.store.decision_outbox(&decision_id).await.expect("outbox");
    let write_back: Vec<_> = rows.iter().filter(|r| r.kind == "zendesk.update").collect();
    assert_eq!(write_back.len(), 1, "{rows:?}");
    assert_eq!(write_back[0].target, "35436");

    let delivered = drain(&h, &sinks).await;
    assert!(delivered.contains(&"zendesk.update".to_string()), "{delivered:?}");
    let puts = requests_to(&zendesk, "PUT", "/api/v2/tickets/35436.json").await;
    assert_eq!(puts.len(), 1, "{puts:?}");
    let put = &puts[0]["ticket"];
    assert_eq!(put["group_id"], json!(LEGAL_GROUP));
    assert_eq!(put["priority"], json!("urgent"));
    assert_eq!(put["additional_tags"], json!(["legal"]));
    assert_eq!(put["remove_tags"], json!(["routec_pending"]));
    assert_eq!(put["comment"]["public"], json!(false));
    let comment = put["comment"]["body"].as_str().expect("a comment");
    assert!(comment.starts_with("routec: legal_review · priority P1 · escalated by `legal_threat`"), "{comment}");
    assert!(
        comment
            .contains("\n- customer.email: art@vandelay.example\n- customer.name: Art Vandelay\n- customer.tier: pro"),
        "{comment}"
    );

    // Zendesk delivers the webhook again: the same decision, nothing new to deliver.
    let again = signed(&h, ROUTE).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["decision_id"], json!(decision_id));
    assert_eq!(again.body["replayed"], json!(true));
    assert_eq!(drain(&h, &sinks).await, Vec::<String>::new());
    assert_eq!(requests_to(&zendesk, "PUT", "/api/v2/tickets/35436.json").await.len(), 1);
    assert_eq!(h.state.store.count_decisions().await.expect("count"), 1);
    // The policy's notify actions become rows of the action sinks' kinds
    // (issue 14's other half): each delivered at most once across both deliveries.
    assert!(slack.seen.lock().expect("lock").len() <= 1);
    assert!(email.seen.lock().expect("lock").len() <= 1);
}

#[tokio::test]
async fn forged_stale_and_missing_signatures_are_401_and_cause_nothing() {
    let zendesk = fake_zendesk().await;
    let h = harness(&zendesk, &|t| t).await;
    let stale = "2026-11-24T15:20:00Z";
    let cases = [
        (Some(sign("not-the-secret", NOW, ROUTE)), Some(NOW)),
        (Some(sign(SECRET, stale, ROUTE)), Some(stale)),
        (None, Some(NOW)),
        (Some(sign(SECRET, NOW, ROUTE)), None),
    ];
    for (signature, timestamp) in &cases {
        let answer = webhook(&h, ROUTE, signature.as_deref(), *timestamp).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
        assert_eq!(answer.body["error"]["code"], json!("invalid_webhook_signature"));
    }
    // A body changed under a good signature.
    let forged =
        webhook(&h, r#"{"ticket_id": "1", "event": "created"}"#, Some(&sign(SECRET, NOW, ROUTE)), Some(NOW)).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.state.store.count_decisions().await.expect("count"), 0);
    assert!(requests_to(&zendesk, "GET", "/api/v2/tickets/35436.json").await.is_empty(), "nothing was fetched");
    let metrics = h.state.metrics.render();
    assert!(metrics.contains(r#"routec_requests_rejected_total{reason="invalid_webhook_signature"} 5"#), "{metrics}");
}

#[tokio::test]
async fn shadow_mode_decides_and_logs_but_writes_nothing_back() {
    let zendesk = fake_zendesk().await;
    let shadow =
        |t: String| t.replace("mode = \"enforce\"", "mode = \"shadow\"").replace("gate_tag = \"routec_pending\"", "");
    let h = harness(&zendesk, &shadow).await;
    let answer = signed(&h, ROUTE).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["mode"], json!("shadow"));
    assert_eq!(answer.body["destination"], json!("legal_review"));
    let decision_id = answer.body["decision_id"].as_str().expect("a decision id");
    assert!(h.state.store.decision_outbox(decision_id).await.expect("outbox").is_empty());
    assert!(h.state.store.claim_outbox(10, h.state.now(), Duration::from_secs(60)).await.expect("claim").is_empty());
}

/// https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_metrics/#show-ticket-metrics
#[tokio::test]
async fn an_update_webhook_records_the_outcome_through_the_reverse_group_table() {
    let zendesk = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/35436.json"))
        .and(query_param("include", "users,organizations"))
        .respond_with(ResponseTemplate::new(200).set_body_json(legal_ticket()))
        .mount(&zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/35436.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ticket": {"id": 35436, "group_id": 360001000002u64, "status": "solved"}})),
        )
        .mount(&zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/35436/metrics.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket_metric": {
            "group_stations": 2, "assignee_stations": 1,
            "initially_assigned_at": "2026-11-24T15:40:00Z", "solved_at": "2026-11-24T18:00:00Z"}})))
        .mount(&zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search/count.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 0})))
        .mount(&zendesk)
        .await;
    let h = harness(&zendesk, &|t| t).await;
    let routed = signed(&h, ROUTE).await;
    assert_eq!(routed.status, StatusCode::OK, "{}", routed.body);
    let answer = signed(&h, r#"{"ticket_id": "35436", "event": "updated"}"#).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["decision_id"], routed.body["decision_id"]);
    let outcomes = h.state.store.ticket_outcomes("35436").await.expect("outcomes");
    assert_eq!(outcomes.len(), 1);
    let o = &outcomes[0].outcome;
    assert_eq!(o.final_destination.as_deref(), Some("senior_support"));
    assert_eq!(o.reassignments, Some(1));
    assert_eq!(o.first_assigned_at, Some("2026-11-24T15:40:00Z".parse().expect("time")));
    assert!(o.resolved);
    assert_eq!(o.resolved_at, Some("2026-11-24T18:00:00Z".parse().expect("time")));
    assert_eq!(o.source, "zendesk");
}

/// The open-ticket counts come from Zendesk's search count per mapped group.
#[tokio::test]
async fn the_load_is_refreshed_from_zendesk() {
    let zendesk = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search/count.json"))
        .and(query_param("query", format!("type:ticket status<solved group:{LEGAL_GROUP}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 7})))
        .mount(&zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search/count.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 2})))
        .mount(&zendesk)
        .await;
    let h = harness(&zendesk, &|t| t).await;
    let zd = h.state.helpdesks.first().expect("zendesk").clone();
    let counts = webhooks::refresh_from(&h.state, zd.as_ref()).await.expect("refreshed");
    assert_eq!(counts.get("legal_review"), Some(&7));
    assert_eq!(counts.get("billing"), Some(&2));
    assert_eq!(h.state.load.counts().get("legal_review"), Some(&7));
}

#[tokio::test]
async fn a_mapping_that_does_not_fit_the_policy_stops_the_start() {
    let zendesk = MockServer::start().await;
    let cases: [(&dyn Fn(String) -> String, &str); 3] = [
        (
            &|t: String| t.replace("\"customer.seats\" = ", "\"customer.size\" = "),
            "`helpdesk.zendesk.fields.\"customer.size\"`: the policy's ticket has no field `customer.size`",
        ),
        (
            &|t: String| t.replace("default = \"free\"", "default = \"gold\""),
            "`helpdesk.zendesk.fields.\"customer.tier\"`: the default \"gold\" is not of the schema's type `free | pro | enterprise`",
        ),
        (
            &|t: String| t.replace("legal_review = ", "legal = "),
            "`helpdesk.zendesk.groups.legal`: the policy has no destination `legal`",
        ),
    ];
    for (edit, want) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = config_text(&zendesk, dir.path(), edit);
        let err = start(&text, dir).await.err().expect("refused");
        assert!(err.starts_with(want), "{err}");
    }
}

#[tokio::test]
async fn an_unconfigured_helpdesk_is_404() {
    let zendesk = fake_zendesk().await;
    let h = harness(&zendesk, &|t| t).await;
    let response = h
        .router
        .clone()
        .oneshot(Request::post("/webhooks/freshdesk").body(Body::from("{}")).expect("request"))
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// docs/integrations.md stays true: its example `[helpdesk.zendesk]` table is a valid config.
#[test]
fn the_documented_helpdesk_config_is_valid() {
    let doc = include_str!("../../docs/integrations.md");
    let start = doc.find("```toml\n[helpdesk.zendesk]").expect("a toml block") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("the block ends");
    let file = ConfigFile::parse(&doc[start..end]).expect("the documented config parses");
    let settings = file.helpdesk.resolve(&env, &routec_server::config::parse_duration).expect("it resolves");
    let zendesk = settings.zendesk.expect("a zendesk table");
    assert_eq!(zendesk.groups.get("legal_review").map(String::as_str), Some("360001000001"));
    assert_eq!(zendesk.gate_tag.as_deref(), Some("routec_pending"));
}

/// A small policy for the Freshdesk and Intercom webhooks.
const SMALL_POLICY: &str = r#"policy "desk" version 1
ticket {
  id: string
  subject: text
}
queue legal
queue general
escalate lawyer when subject has ["lawyer"] -> legal priority P1
  tag "legal"
otherwise -> general
"#;

async fn small(config: &str) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("policy.route"), SMALL_POLICY).expect("write the policy");
    let text = format!(
        "db = \"sqlite:{}\"\n[clients.ops]\ntoken = \"ops-token\"\nroutes = [\"route\"]\n{config}",
        dir.path().join("routec.db").display()
    );
    let file = ConfigFile::parse(&text).expect("the config parses");
    let config = Config::resolve(&dir.path().join("policy.route"), file, &env, Overrides::default()).expect("valid");
    let shutdown = Shutdown::new();
    let clock = Arc::new(|| NOW.parse::<jiff::Timestamp>().expect("a time"));
    let service = Service::start(config, clock, shutdown.clone()).await.expect("the service starts");
    let router = api::router(service.state.clone());
    Harness { _dir: dir, state: service.state, router, _shutdown: shutdown }
}

async fn post(h: &Harness, uri: &str, body: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::post(uri).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response =
        h.router.clone().oneshot(request.body(Body::from(body.to_string())).expect("request")).await.expect("answer");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

/// Freshdesk: the shared secret in a header or as the basic-auth password;
/// https://developers.freshdesk.com/api/#view_a_ticket for the fetch.
#[tokio::test]
async fn a_freshdesk_webhook_needs_the_shared_secret() {
    let freshdesk = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/12"))
        .and(query_param("include", "requester,company"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 12, "subject": "My lawyer says", "tags": []})),
        )
        .mount(&freshdesk)
        .await;
    let h = small(&format!(
        "[helpdesk.freshdesk]\napi_url = \"{}\"\napi_key = \"fd-key\"\nwebhook_secret = \"shared-secret\"\n\
         groups = {{ legal = 5001 }}\nload_refresh = \"1h\"\n[helpdesk.freshdesk.fields]\nsubject = \"ticket.subject\"\n",
        freshdesk.uri()
    ))
    .await;
    let body = r#"{"ticket_id": "12", "event": "created"}"#;
    for headers in
        [&[("X-Routec-Secret", "wrong")][..], &[][..], &[("Authorization", "Basic ZnJlc2hkZXNrOndyb25n")][..]]
    {
        let refused = post(&h, "/webhooks/freshdesk", body, headers).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{headers:?}: {}", refused.body);
    }
    assert_eq!(h.state.store.count_decisions().await.expect("count"), 0);
    let answer = post(&h, "/webhooks/freshdesk", body, &[("X-Routec-Secret", "shared-secret")]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["destination"], json!("legal"));
    let rows = h.state.store.decision_outbox(answer.body["decision_id"].as_str().expect("id")).await.expect("outbox");
    assert_eq!(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(), vec!["freshdesk.update"]);
    assert_eq!(rows[0].payload["update"], json!({"group_id": 5001, "priority": 4, "tags": ["legal"]}));
    // "freshdesk:shared-secret" as basic auth: the same ticket, replayed.
    let again =
        post(&h, "/webhooks/freshdesk", body, &[("Authorization", "Basic ZnJlc2hkZXNrOnNoYXJlZC1zZWNyZXQ=")]).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["replayed"], json!(true));
}

/// Intercom: `X-Hub-Signature: sha1=…` over the body
/// (https://developers.intercom.com/docs/webhooks/webhook-notifications#signed-notifications).
#[tokio::test]
async fn an_intercom_notification_is_verified_and_routed_by_topic() {
    let intercom = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/conversations/147"))
        .and(header("authorization", "Bearer ic-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "147", "source": {"subject": "Lawyer"}})))
        .mount(&intercom)
        .await;
    let h = small(&format!(
        "[helpdesk.intercom]\napi_url = \"{}\"\naccess_token = \"ic-token\"\nadmin_id = \"991267\"\n\
         webhook_secret = \"client-secret\"\nteams = {{ legal = 814 }}\nload_refresh = \"1h\"\n\
         [helpdesk.intercom.fields]\nsubject = \"conversation.source.subject\"\n",
        intercom.uri()
    ))
    .await;
    let sign = |body: &str| {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"client-secret").expect("any key length");
        mac.update(body.as_bytes());
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        format!("sha1={hex}")
    };
    let created = r#"{"type": "notification_event", "topic": "conversation.user.created", "data": {"item": {"type": "conversation", "id": "147"}}}"#;
    let forged = post(&h, "/webhooks/intercom", created, &[("X-Hub-Signature", &sign("{}"))]).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{}", forged.body);
    let answer = post(&h, "/webhooks/intercom", created, &[("X-Hub-Signature", &sign(created))]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["destination"], json!("legal"));
    let ping = r#"{"type": "notification_event", "topic": "ping", "data": {"item": {}}}"#;
    let ignored = post(&h, "/webhooks/intercom", ping, &[("X-Hub-Signature", &sign(ping))]).await;
    assert_eq!(ignored.status, StatusCode::OK, "{}", ignored.body);
    assert!(ignored.body["ignored"].is_string(), "{}", ignored.body);
    assert_eq!(h.state.store.count_decisions().await.expect("count"), 1);
}
