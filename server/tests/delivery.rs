//! Issue 14's delivery guarantees end to end: a decision's actions become
//! outbox rows in its transaction; the worker delivers them to local fake
//! vendors (wiremock on 127.0.0.1), honours `Retry-After`, backs off, goes
//! dead after `max_attempts`; dead rows are listed and retried over the API;
//! pending rows survive a restart; two workers on one database deliver each
//! row once. Also CRM enrichment before routing.
//!
//! Time is a clock the test moves, so a retry is due exactly when the test
//! says; the worker runs one batch at a time (`run_once`) except where the
//! test is about the background worker itself.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use routec_server::config::{Config, ConfigFile, Overrides};
use routec_server::delivery::Worker;
use routec_server::shutdown::Shutdown;
use routec_server::state::Shared;
use routec_server::{api, Service};
use routec_store::{NewDecision, NewOutboxItem, OutboxState, Store, StoreOptions};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const POLICY: &str = r##"policy "delivery-test" version 1

ticket {
  id: string?
  subject: text
  tier: free | pro
  customer {
    email: string
    company_id: string?
  }
}

queue legal
queue general

priority {
  P1 when tier == pro
  default P2
}

escalate lawyer when subject has ["lawyer"] -> legal
  notify slack "#legal"
  create_issue jira "LEGAL" severity high area "contracts"
  handoff customer.email

otherwise -> general
"##;

const ADMIN: &str = "admin-token";
const START: i64 = 1_767_798_000_000; // 2026-01-07T15:00:00Z

/// A clock the test moves by hand.
#[derive(Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn new() -> TestClock {
        TestClock(Arc::new(AtomicI64::new(START)))
    }
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.0.load(Ordering::SeqCst)).expect("a time")
    }
    fn advance(&self, by: Duration) {
        self.0.fetch_add(i64::try_from(by.as_millis()).expect("millis"), Ordering::SeqCst);
    }
    fn clock(&self) -> routec_server::state::Clock {
        let inner = Arc::clone(&self.0);
        Arc::new(move || jiff::Timestamp::from_millisecond(inner.load(Ordering::SeqCst)).expect("a time"))
    }
}

struct Harness {
    state: Shared,
    router: Router,
    service_worker: Option<tokio::task::JoinHandle<()>>,
    shutdown: Shutdown,
}

/// The service over `dir` with the vendors at `vendor` and `extra` config.
async fn start(dir: &Path, vendor: &MockServer, extra: &str, clock: &TestClock) -> Harness {
    std::fs::write(dir.join("policy.route"), POLICY).expect("write policy");
    let text = format!(
        r##"
[clients.ops]
token = "{ADMIN}"
routes = ["route", "decisions", "admin", "policy"]

[actions]
ticket_url = "https://acme.zendesk.com/agent/tickets/{{ticket_id}}"

[actions.slack]
api_url = "{uri}/api"
bot_token = {{ env = "SLACK_BOT_TOKEN" }}

[actions.jira]
api_url = "{uri}"
email = "bot@acme.example"
api_token = {{ env = "JIRA_TOKEN" }}
priorities = {{ high = "High" }}

{extra}
"##,
        uri = vendor.uri()
    );
    let file = ConfigFile::parse(&text).expect("config parses");
    let env = |name: &str| match name {
        "SLACK_BOT_TOKEN" => Some("xoxb-test".to_owned()),
        "JIRA_TOKEN" => Some("jira-token".to_owned()),
        _ => None,
    };
    let config = Config::resolve(&dir.join("policy.route"), file, &env, Overrides::default()).expect("config is valid");
    let shutdown = Shutdown::new();
    let service = Service::start(config, clock.clock(), shutdown.clone()).await.expect("service starts");
    let router = api::router(service.state.clone());
    Harness { state: service.state, router, service_worker: service.worker, shutdown }
}

const MANUAL: &str = "[delivery]\nenabled = false\nbackoff = \"10s\"\nmax_attempts = 3";

impl Harness {
    async fn call(&self, method: Method, uri: &str, body: &str) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {ADMIN}"))
            .body(Body::from(body.to_owned()))
            .expect("request");
        let response = self.router.clone().oneshot(request).await.expect("the router answers");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn route(&self, ticket: &Value) -> Value {
        let (status, body) = self.call(Method::POST, "/v1/route", &ticket.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    fn worker(&self) -> Worker {
        let state = &self.state;
        Worker::new(
            state.store.clone(),
            &state.config.actions.sinks,
            state.config.delivery.clone(),
            state.metrics.clone(),
            state.clock.clone(),
        )
    }

    async fn outbox(&self, decision_id: &str) -> Vec<routec_store::OutboxItem> {
        self.state.store.decision_outbox(decision_id).await.expect("outbox")
    }

    async fn stop(self) {
        self.shutdown.trigger();
        if let Some(worker) = self.service_worker {
            worker.await.expect("the worker stops");
        }
        self.state.store.close().await;
    }
}

fn lawyer_ticket(id: &str) -> Value {
    json!({ "id": id, "subject": "my lawyer will call", "tier": "pro", "customer": { "email": "ann@example.com" } })
}

fn slack_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "ok": true, "channel": "C1", "ts": "1.2" }))
}

fn jira_created() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({ "id": "10001", "key": "LEGAL-7", "self": "x" }))
}

// Slack: https://docs.slack.dev/reference/methods/chat.postMessage
// Jira:  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
#[tokio::test]
async fn a_decisions_actions_are_delivered_once_with_their_receipts() {
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(header("authorization", "Bearer xoxb-test"))
        .respond_with(slack_ok())
        .expect(1)
        .mount(&vendor)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue"))
        .and(header("authorization", "Basic Ym90QGFjbWUuZXhhbXBsZTpqaXJhLXRva2Vu"))
        .respond_with(jira_created())
        .expect(1)
        .mount(&vendor)
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = TestClock::new();
    let h = start(dir.path(), &vendor, MANUAL, &clock).await;

    let decision = h.route(&lawyer_ticket("T-1")).await;
    let id = decision["decision_id"].as_str().expect("an id").to_owned();
    let rows = h.outbox(&id).await;
    let kinds: Vec<&str> = rows.iter().map(|row| row.kind.as_str()).collect();
    assert_eq!(kinds, vec!["slack", "jira"], "committed with the decision, before any delivery");
    assert_eq!(rows[0].payload["ticket_url"], "https://acme.zendesk.com/agent/tickets/T-1");
    assert_eq!(rows[0].payload["handoff"], json!({ "customer.email": "ann@example.com" }));
    assert_eq!(rows[1].target, "LEGAL");

    // The same ticket again is a retry: no new rows.
    h.route(&lawyer_ticket("T-1")).await;
    assert_eq!(h.outbox(&id).await.len(), 2);
    // A ticket no action applies to causes none.
    let plain =
        h.route(&json!({ "id": "T-2", "subject": "hello", "tier": "free", "customer": { "email": "b@x" } })).await;
    assert!(h.outbox(plain["decision_id"].as_str().expect("id")).await.is_empty());

    let worker = h.worker();
    assert_eq!(worker.run_once().await.expect("a batch"), 2);
    assert_eq!(worker.run_once().await.expect("a batch"), 0, "nothing is delivered twice");
    let rows = h.outbox(&id).await;
    assert!(rows.iter().all(|row| row.state == OutboxState::Done), "{rows:?}");
    assert_eq!(rows[0].receipt, Some(json!({ "channel": "C1", "ts": "1.2" })));
    assert_eq!(rows[1].receipt.as_ref().map(|r| r["key"].clone()), Some(json!("LEGAL-7")));
    assert_eq!(rows.len(), 2, "an API ticket gets no helpdesk note");

    let metrics = h.state.metrics.render();
    for line in [
        r#"routec_outbox_deliveries_total{kind="slack",result="delivered"} 1"#,
        r#"routec_outbox_deliveries_total{kind="jira",result="delivered"} 1"#,
        "routec_outbox_pending 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "missing `{line}` in:\n{metrics}");
    }
    h.stop().await;
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after_then_delivered() {
    let vendor = MockServer::start().await;
    Mock::given(path("/api/chat.postMessage"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&vendor)
        .await;
    Mock::given(path("/api/chat.postMessage")).respond_with(slack_ok()).expect(1).mount(&vendor).await;
    Mock::given(path("/rest/api/3/issue")).respond_with(jira_created()).expect(1).mount(&vendor).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = TestClock::new();
    let h = start(dir.path(), &vendor, MANUAL, &clock).await;
    let id = h.route(&lawyer_ticket("T-9")).await["decision_id"].as_str().expect("id").to_owned();
    let worker = h.worker();

    worker.run_once().await.expect("a batch");
    let slack = h.outbox(&id).await.into_iter().find(|row| row.kind == "slack").expect("the slack row");
    assert_eq!(slack.state, OutboxState::Pending);
    assert_eq!(slack.attempts, 1);
    assert!(slack.last_error.as_deref().is_some_and(|e| e.contains("429")), "{slack:?}");
    let due = clock.now().checked_add(jiff::SignedDuration::from_secs(120)).expect("time");
    assert_eq!(slack.next_try_at, due, "Retry-After (120 s) beats the 10 s backoff");

    clock.advance(Duration::from_secs(119));
    assert_eq!(worker.run_once().await.expect("a batch"), 0, "not before Retry-After");
    clock.advance(Duration::from_secs(1));
    assert_eq!(worker.run_once().await.expect("a batch"), 1);
    let slack = h.outbox(&id).await.into_iter().find(|row| row.kind == "slack").expect("the slack row");
    assert_eq!((slack.state, slack.attempts), (OutboxState::Done, 2));
    let metrics = h.state.metrics.render();
    assert!(metrics.contains(r#"routec_outbox_deliveries_total{kind="slack",result="retried"} 1"#), "{metrics}");
    h.stop().await;
}

#[tokio::test]
async fn server_errors_back_off_then_go_dead_and_can_be_retried_by_hand() {
    let vendor = MockServer::start().await;
    Mock::given(path("/api/chat.postMessage")).respond_with(ResponseTemplate::new(503)).expect(3).mount(&vendor).await;
    Mock::given(path("/rest/api/3/issue")).respond_with(jira_created()).mount(&vendor).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = TestClock::new();
    let h = start(dir.path(), &vendor, MANUAL, &clock).await;
    let id = h.route(&lawyer_ticket("T-5")).await["decision_id"].as_str().expect("id").to_owned();
    let worker = h.worker();
    let slack_row =
        |rows: Vec<routec_store::OutboxItem>| rows.into_iter().find(|row| row.kind == "slack").expect("row");

    let mut delays = Vec::new();
    for attempt in 1..=3 {
        let before = clock.now();
        worker.run_once().await.expect("a batch");
        let row = slack_row(h.outbox(&id).await);
        assert_eq!(row.attempts, attempt);
        if attempt < 3 {
            assert_eq!(row.state, OutboxState::Pending);
            delays.push(row.next_try_at.duration_since(before));
            clock.advance(Duration::from_secs(3600));
        } else {
            assert_eq!(row.state, OutboxState::Dead);
            assert!(row.last_error.as_deref().is_some_and(|e| e.contains("gave up after 3 attempts")), "{row:?}");
        }
    }
    // backoff 10 s, then 20 s, each jittered into its upper half.
    let secs: Vec<i64> = delays.iter().map(|d| d.as_secs()).collect();
    assert!((5..=10).contains(&secs[0]) && (10..=20).contains(&secs[1]), "{secs:?}");

    let (status, dead) = h.call(Method::GET, "/v1/outbox?state=dead", "").await;
    assert_eq!(status, StatusCode::OK, "{dead}");
    let items = dead["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    let obx = items[0]["id"].as_str().expect("an id").to_owned();
    assert_eq!(items[0]["kind"], "slack");
    let metrics = h.state.metrics.render();
    assert!(metrics.contains(r#"routec_outbox_deliveries_total{kind="slack",result="dead"} 1"#), "{metrics}");

    let (status, retried) = h.call(Method::POST, &format!("/v1/outbox/{obx}/retry"), "").await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!((retried["state"].clone(), retried["attempts"].clone()), (json!("pending"), json!(0)));
    let (status, again) = h.call(Method::POST, &format!("/v1/outbox/{obx}/retry"), "").await;
    assert_eq!((status, again["error"]["code"].clone()), (StatusCode::CONFLICT, json!("not_dead")));
    let (status, _) = h.call(Method::POST, "/v1/outbox/obx_nope/retry", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h.call(Method::GET, "/v1/outbox?state=lost", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    h.stop().await;
}

#[tokio::test]
async fn pending_deliveries_survive_a_restart() {
    let vendor = MockServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = TestClock::new();
    let first = start(dir.path(), &vendor, "[delivery]\nenabled = false", &clock).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(first.route(&lawyer_ticket(&format!("T-{n}"))).await["decision_id"].as_str().expect("id").to_owned());
    }
    first.stop().await;
    assert!(vendor.received_requests().await.unwrap_or_default().is_empty(), "nothing was delivered yet");

    Mock::given(path("/api/chat.postMessage")).respond_with(slack_ok()).expect(3).mount(&vendor).await;
    Mock::given(path("/rest/api/3/issue")).respond_with(jira_created()).expect(3).mount(&vendor).await;
    let second = start(dir.path(), &vendor, "[delivery]\npoll_interval = \"20ms\"", &clock).await;
    assert!(second.service_worker.is_some(), "the worker starts with the service");
    // The background worker, not the test, delivers: wait (bounded) for it.
    let mut delivered = false;
    for _ in 0..500 {
        let mut done = 0;
        for id in &ids {
            done += second.outbox(id).await.iter().filter(|row| row.state == OutboxState::Done).count();
        }
        if done == 6 {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(delivered, "the restarted service delivered every pending row");
    second.stop().await;
}

fn notice_row(n: usize) -> NewOutboxItem {
    NewOutboxItem {
        kind: "slack".into(),
        target: "#legal".into(),
        payload: json!({ "ticket_id": format!("T-{n}"), "priority": "P1" }),
        idempotency_key: Some(format!("k{n}")),
    }
}

fn decision_with_row(n: usize) -> NewDecision {
    NewDecision {
        ticket_id: Some(format!("T-{n}")),
        dedup_key: format!("d{n}"),
        content_hash: "h".into(),
        policy_hash: "p".into(),
        policy_name: "delivery-test".into(),
        policy_version: 1,
        decided_at: jiff::Timestamp::from_millisecond(START).expect("a time"),
        destination: Some("legal".into()),
        priority: "P1".into(),
        escalation: None,
        decision: json!({}),
        shadow: None,
        ticket: json!({}),
        outbox: vec![notice_row(n)],
    }
}

/// Two workers, each with its own pool (two replicas), on one database.
async fn two_workers_deliver_each_row_once(url: &str) {
    const ROWS: usize = 24;
    let vendor = MockServer::start().await;
    Mock::given(path("/api/chat.postMessage"))
        .respond_with(slack_ok().set_delay(Duration::from_millis(30)))
        .expect(ROWS as u64)
        .mount(&vendor)
        .await;
    let env = |_: &str| None;
    let file: routec_connectors::sink::ActionsFile =
        toml::from_str(&format!("[slack]\napi_url = \"{}/api\"\nbot_token = \"xoxb-x\"", vendor.uri())).expect("toml");
    let actions = routec_connectors::sink::Actions::from_file(&file, &env, Duration::from_secs(60)).expect("actions");
    let one = Store::open(url, StoreOptions::default()).await.expect("store one");
    let two = Store::open(url, StoreOptions::default()).await.expect("store two");
    let decisions: Vec<NewDecision> = (0..ROWS).map(decision_with_row).collect();
    one.record_batch(decisions).await.expect("recorded");
    let clock = TestClock::new();
    let settings = routec_server::delivery::DeliverySettings { batch: 5, ..Default::default() };
    let metrics = Arc::new(routec_server::metrics::Metrics::new());
    let worker = |store: &Store| {
        Worker::new(store.clone(), &actions.sinks, settings.clone(), Arc::clone(&metrics), clock.clock())
    };
    let (a, b) = (worker(&one), worker(&two));
    let drain = |w: Worker| async move {
        let mut claimed = 0;
        loop {
            let n = w.run_once().await.expect("a batch");
            if n == 0 {
                return claimed;
            }
            claimed += n;
        }
    };
    let (claimed_a, claimed_b) = tokio::join!(drain(a), drain(b));
    assert_eq!(claimed_a + claimed_b, ROWS, "every row claimed by exactly one worker");
    let texts: std::collections::HashSet<String> = vendor
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|request| serde_json::from_slice::<Value>(&request.body).expect("json")["text"].to_string())
        .collect();
    assert_eq!(texts.len(), ROWS, "each ticket's message sent once");
    one.close().await;
    two.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_sqlite_file_deliver_each_row_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    two_workers_deliver_each_row_once(&format!("sqlite:{}", dir.path().join("routec.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_postgres_database_deliver_each_row_once() {
    use sqlx::Connection as _;
    let Ok(admin) = std::env::var("ROUTEC_TEST_POSTGRES") else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but ROUTEC_TEST_POSTGRES is unset");
        eprintln!("ROUTEC_TEST_POSTGRES unset: PostgreSQL variant not run");
        return;
    };
    let name = format!("routec_delivery_{}_{}", std::process::id(), START % 1000);
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("the admin URL connects");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await.expect("drop");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create");
    let url = with_database(&admin, &name);
    two_workers_deliver_each_row_once(&url).await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await.expect("drop");
}

/// The admin URL with its database replaced by `name` (query kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, query)| (base, Some(query)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    match query {
        Some(query) => format!("{}/{name}?{query}", &base[..path_start]),
        None => format!("{}/{name}", &base[..path_start]),
    }
}

// HubSpot: https://developers.hubspot.com/docs/api-reference/crm-companies-v3/basic/get-crm-v3-objects-companies-companyId
#[tokio::test]
async fn the_crm_fills_fields_before_routing_and_a_timeout_is_recorded() {
    let vendor = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/companies/512"))
        .and(header("authorization", "Bearer pat-test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "512", "properties": { "tier": "Pro" } })))
        .mount(&vendor)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/companies/999"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})).set_delay(Duration::from_secs(5)))
        .mount(&vendor)
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = TestClock::new();
    let enrich = format!(
        "{MANUAL}\n[enrich]\nurl = \"{}/crm/v3/objects/companies/{{customer.company_id}}?properties=tier\"\n\
         bearer_token = \"pat-test\"\ntimeout = \"200ms\"\n[enrich.fields]\n\"tier\" = {{ from = \"/properties/tier\", as = \"lowercase\" }}\n",
        vendor.uri()
    );
    let h = start(dir.path(), &vendor, &enrich, &clock).await;
    let ticket = |id: &str, company: &str| json!({ "id": id, "subject": "hello", "tier": "free", "customer": { "email": "a@b", "company_id": company } });
    let enriched = h.route(&ticket("E-1", "512")).await;
    assert_eq!(enriched["priority"], "P1", "the CRM says pro: {enriched}");
    let stored =
        h.state.store.decision(enriched["decision_id"].as_str().expect("id")).await.expect("read").expect("stored");
    assert_eq!(
        stored.decision["enrichment"],
        json!({ "status": "enriched", "fields": ["tier"], "missing": [], "cached": false })
    );
    assert_eq!(stored.ticket["tier"], "pro");

    let slow = h.route(&ticket("E-2", "999")).await;
    assert_eq!(slow["priority"], "P2", "the ticket's own tier: {slow}");
    let stored =
        h.state.store.decision(slow["decision_id"].as_str().expect("id")).await.expect("read").expect("stored");
    assert_eq!(stored.decision["enrichment"], json!({ "status": "timed_out", "timeout_ms": 200 }));
    h.stop().await;
}

#[test]
fn the_hubspot_example_is_a_valid_enrich_section() {
    let text = format!(
        "[clients.ops]\ntoken = \"t\"\nroutes = [\"route\"]\n{}",
        include_str!("../../examples/enrich/hubspot-companies.toml")
    );
    let file = ConfigFile::parse(&text).expect("the example parses");
    let env = |name: &str| (name == "HUBSPOT_TOKEN").then(|| "pat-x".to_owned());
    let config = Config::resolve(Path::new("policy.route"), file, &env, Overrides::default()).expect("valid");
    let enricher = config.enrich.expect("an enricher");
    let ticket = json!({ "customer": { "hubspot_company_id": "512" } });
    assert_eq!(
        enricher.url_for(&ticket).expect("a url"),
        "https://api.hubapi.com/crm/v3/objects/companies/512?properties=tier,vip,health_score"
    );
}
