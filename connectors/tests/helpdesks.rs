//! The helpdesk connectors against local fake vendors (wiremock on
//! 127.0.0.1): each request's method, path, query, auth header and JSON
//! body as the vendor documents it (links beside each test), and how the
//! answers are read (a 429 with `Retry-After`, a 5xx, a 4xx).

use base64::Engine as _;
use routec_connectors::helpdesk::mapping::{FieldKind, Schema, SchemaField};
use routec_connectors::helpdesk::{connect, Helpdesk, HelpdesksFile, Observation};
use routec_connectors::{Delivery, DeliveryOutcome};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn schema() -> Schema {
    let field = |path: &str, kind: FieldKind| SchemaField { path: path.into(), kind, optional: false };
    Schema {
        fields: vec![
            field("id", FieldKind::String),
            field("subject", FieldKind::Text),
            field("customer.tier", FieldKind::Enum(vec!["free".into(), "pro".into(), "enterprise".into()])),
        ],
    }
}

fn connected(config: &str) -> Arc<dyn Helpdesk> {
    let file: HelpdesksFile = toml::from_str(config).expect("the config parses");
    let settings = file
        .resolve(&|_| None, &|text: &str| {
            text.trim_end_matches('s').parse().map(Duration::from_secs).map_err(|_| "not seconds".to_string())
        })
        .expect("the config resolves");
    connect(&settings, &schema()).expect("the mapping fits the schema").remove(0)
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

fn delivery<'a>(kind: &'a str, target: &'a str, payload: &'a Value) -> Delivery<'a> {
    Delivery { id: "obx_1", decision_id: "dec_1", kind, target, payload, idempotency_key: None, attempt: 1 }
}

const DECISION: &str = r#"{
    "destination": {"name": "legal_review", "kind": "queue", "available": true},
    "priority": "P1",
    "escalation": {"name": "legal_threat", "reason": "text has legal", "location": "policy.route:1:1"},
    "actions": [{"kind": "tag", "tag": "legal"}],
    "handoff": {"fields": {"customer.name": "Ada"}},
    "policy": {"name": "saas-b2b", "version": 3, "hash": "h"}
}"#;

fn decision() -> Value {
    serde_json::from_str(DECISION).expect("json")
}

fn zendesk(server: &MockServer) -> Arc<dyn Helpdesk> {
    connected(&format!(
        r#"
        [zendesk]
        api_url = "{}"
        email = "bot@acme.example"
        api_token = "zd-token"
        webhook_secret = "signing-secret"
        gate_tag = "routec_pending"
        groups = {{ legal_review = 360001, billing = 360002 }}
        [zendesk.fields]
        subject = "ticket.subject"
        "customer.tier" = {{ from = "organization.organization_fields.plan", default = "free" }}
        "#,
        server.uri()
    ))
}

/// https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#show-ticket
/// with sideloads (https://developer.zendesk.com/documentation/ticketing/using-the-zendesk-api/side_loading/).
#[tokio::test]
async fn zendesk_fetches_the_ticket_with_its_requester_and_organization() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/35436.json"))
        .and(query_param("include", "users,organizations"))
        .and(header("authorization", basic("bot@acme.example/token", "zd-token").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket": {"id": 35436, "subject": "Our lawyer", "requester_id": 7, "organization_id": 9},
            "users": [{"id": 7, "name": "Ada"}],
            "organizations": [{"id": 9, "organization_fields": {"plan": "Enterprise"}}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let zendesk = zendesk(&server);
    let source = zendesk.fetch("35436").await.expect("fetched");
    assert_eq!(source["requester"]["name"], json!("Ada"));
    let ticket = zendesk.mapping().apply("zendesk", "35436", &source).expect("mapped");
    assert_eq!(ticket, json!({"id": "35436", "subject": "Our lawyer", "customer": {"tier": "enterprise"}}));
}

/// https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket
/// (`additional_tags` / `remove_tags`, a private comment with `"public": false`).
#[tokio::test]
async fn zendesk_writes_back_group_priority_tags_and_a_private_comment() {
    let server = MockServer::start().await;
    let zendesk = zendesk(&server);
    let write = zendesk.write_back("35436", &Value::Null, &decision()).expect("a write-back");
    assert_eq!(write.kind, "zendesk.update");
    let expected = json!({"ticket": {
        "group_id": 360001,
        "priority": "urgent",
        "additional_tags": ["legal"],
        "remove_tags": ["routec_pending"],
        "comment": {"public": false, "body": "routec: legal_review · priority P1 · escalated by `legal_threat`: text has legal (policy saas-b2b v3)\n\nHandoff:\n- customer.name: Ada"}
    }});
    assert_eq!(write.payload, expected);
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/35436.json"))
        .and(header("authorization", basic("bot@acme.example/token", "zd-token").as_str()))
        .and(body_json(&expected))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {"id": 35436}})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = zendesk.sink().deliver(delivery("zendesk.update", "35436", &write.payload)).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered { receipt: json!({"id": 35436}) });
}

/// Zendesk's rate limit answers 429 with `Retry-After` in seconds
/// (https://developer.zendesk.com/api-reference/introduction/rate-limits/).
#[tokio::test]
async fn zendesk_429_and_5xx_are_retried_and_4xx_fails() {
    let server = MockServer::start().await;
    let zendesk = zendesk(&server);
    let payload = json!({"ticket": {"priority": "urgent"}});
    for (status, target) in [(429, "1"), (503, "2"), (422, "3")] {
        let mut answer = ResponseTemplate::new(status).set_body_string("{\"error\": \"x\"}");
        if status == 429 {
            answer = answer.insert_header("Retry-After", "42");
        }
        Mock::given(method("PUT"))
            .and(path(format!("/api/v2/tickets/{target}.json")))
            .respond_with(answer)
            .mount(&server)
            .await;
    }
    let sink = zendesk.sink();
    let outcome = sink.deliver(delivery("zendesk.update", "1", &payload)).await;
    assert!(
        matches!(outcome, DeliveryOutcome::RetryLater { retry_after: Some(d), .. } if d == Duration::from_secs(42)),
        "{outcome:?}"
    );
    let outcome = sink.deliver(delivery("zendesk.update", "2", &payload)).await;
    assert!(matches!(outcome, DeliveryOutcome::RetryLater { retry_after: None, .. }), "{outcome:?}");
    let outcome = sink.deliver(delivery("zendesk.update", "3", &payload)).await;
    assert!(matches!(outcome, DeliveryOutcome::Failed { .. }), "{outcome:?}");
    // A target that is not a ticket id never reaches the network.
    let outcome = sink.deliver(delivery("zendesk.update", "1/../../users", &payload)).await;
    assert!(matches!(outcome, DeliveryOutcome::Failed { .. }), "{outcome:?}");
}

/// https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_metrics/#show-ticket-metrics
#[tokio::test]
async fn zendesk_outcomes_come_from_the_ticket_and_its_metrics() {
    let server = MockServer::start().await;
    let auth = basic("bot@acme.example/token", "zd-token");
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/35436.json"))
        .and(header("authorization", auth.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ticket": {"id": 35436, "group_id": 360002, "status": "solved"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/35436/metrics.json"))
        .and(header("authorization", auth.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket_metric": {
            "group_stations": 2, "assignee_stations": 1,
            "initially_assigned_at": "2026-11-24T15:40:00Z", "solved_at": "2026-11-24T18:00:00Z"}})))
        .mount(&server)
        .await;
    let seen = zendesk(&server).observe("35436").await.expect("observed");
    assert_eq!(
        seen,
        Observation {
            final_destination: Some("billing".into()),
            reassignments: Some(1),
            first_assigned_at: Some("2026-11-24T15:40:00Z".parse().expect("time")),
            resolved: true,
            resolved_at: Some("2026-11-24T18:00:00Z".parse().expect("time")),
        }
    );
}

/// https://developer.zendesk.com/api-reference/ticketing/ticket-management/search/#show-results-count
#[tokio::test]
async fn zendesk_counts_open_tickets_per_group() {
    let server = MockServer::start().await;
    for (group, count) in [("360001", 3), ("360002", 41)] {
        Mock::given(method("GET"))
            .and(path("/api/v2/search/count.json"))
            .and(query_param("query", format!("type:ticket status<solved group:{group}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": count})))
            .expect(1)
            .mount(&server)
            .await;
    }
    let counts = zendesk(&server).open_counts().await.expect("counted");
    assert_eq!(counts.into_iter().collect::<Vec<_>>(), vec![("billing".into(), 41), ("legal_review".into(), 3)]);
}

fn freshdesk(server: &MockServer) -> Arc<dyn Helpdesk> {
    connected(&format!(
        r#"
        [freshdesk]
        api_url = "{}"
        api_key = "fd-key"
        webhook_secret = "shared"
        gate_tag = "routec_pending"
        groups = {{ legal_review = 5001 }}
        [freshdesk.fields]
        subject = "ticket.subject"
        "customer.tier" = {{ from = "company.custom_fields.plan", default = "free" }}
        "#,
        server.uri()
    ))
}

/// https://developers.freshdesk.com/api/#view_a_ticket (`include=requester,company`),
/// https://developers.freshdesk.com/api/#update_ticket, https://developers.freshdesk.com/api/#add_note_to_a_ticket;
/// auth: the API key as the basic-auth user, `X` as the password.
#[tokio::test]
async fn freshdesk_fetches_then_puts_the_update_and_posts_a_private_note() {
    let server = MockServer::start().await;
    let auth = basic("fd-key", "X");
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/12"))
        .and(query_param("include", "requester,company"))
        .and(header("authorization", auth.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 12, "subject": "Lawyer", "tags": ["vip", "routec_pending"],
            "requester": {"id": 3, "name": "Ada"}, "company": {"id": 4, "custom_fields": {"plan": "pro"}}
        })))
        .mount(&server)
        .await;
    let freshdesk = freshdesk(&server);
    let source = freshdesk.fetch("12").await.expect("fetched");
    assert_eq!(
        freshdesk.mapping().apply("freshdesk", "12", &source).expect("mapped"),
        json!({"id": "12", "subject": "Lawyer", "customer": {"tier": "pro"}})
    );
    let write = freshdesk.write_back("12", &source, &decision()).expect("a write-back");
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/12"))
        .and(header("authorization", auth.as_str()))
        .and(body_json(json!({"group_id": 5001, "priority": 4, "tags": ["vip", "legal"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 12})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets/12/notes"))
        .and(header("authorization", auth.as_str()))
        .and(body_json(json!({"private": true, "body": "routec: legal_review · priority P1 · escalated by `legal_threat`: text has legal (policy saas-b2b v3)\n\nHandoff:\n- customer.name: Ada"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 99})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = freshdesk.sink().deliver(delivery("freshdesk.update", "12", &write.payload)).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered { receipt: json!({"id": 99}) });
}

/// https://developers.freshdesk.com/api/#filter_tickets: the query is quoted; the answer has `total`.
#[tokio::test]
async fn freshdesk_counts_open_and_pending_tickets_per_group() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search/tickets"))
        .and(query_param("query", "\"group_id:5001 AND (status:2 OR status:3)\""))
        .and(header("authorization", basic("fd-key", "X").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total": 17, "results": []})))
        .expect(1)
        .mount(&server)
        .await;
    let counts = freshdesk(&server).open_counts().await.expect("counted");
    assert_eq!(counts.get("legal_review"), Some(&17));
}

fn intercom(server: &MockServer) -> Arc<dyn Helpdesk> {
    connected(&format!(
        r#"
        [intercom]
        api_url = "{}"
        access_token = "ic-token"
        admin_id = "991267"
        webhook_secret = "client-secret"
        teams = {{ legal_review = 814 }}
        tags = {{ legal = 17 }}
        [intercom.fields]
        subject = {{ from = "conversation.source.subject", default = "" }}
        "customer.tier" = {{ from = "contact.custom_attributes.plan", default = "free" }}
        "#,
        server.uri()
    ))
}

/// https://developers.intercom.com/docs/references/rest-api/api.intercom.io/conversations/retrieveconversation
/// and …/contacts/showcontact; then …/conversations/manageconversation (assignment to a team),
/// …/conversations/updateconversation (the priority, as a conversation data attribute: the
/// request takes `read`, `title` and `custom_attributes`), …/tags/attachtagtoconversation and
/// …/conversations/replyconversation (an admin note).
#[tokio::test]
async fn intercom_reads_the_conversation_and_contact_then_assigns_tags_and_notes() {
    let server = MockServer::start().await;
    let bearer = "Bearer ic-token";
    Mock::given(method("GET"))
        .and(path("/conversations/147"))
        .and(header("authorization", bearer))
        .and(header("intercom-version", "2.11"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "conversation", "id": "147", "source": {"subject": "Legal"},
            "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "5ba682d23d7cf92bef87bfd4"}]}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts/5ba682d23d7cf92bef87bfd4"))
        .and(header("authorization", bearer))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "5ba682d23d7cf92bef87bfd4", "custom_attributes": {"plan": "Enterprise"}})),
        )
        .mount(&server)
        .await;
    let intercom = intercom(&server);
    let source = intercom.fetch("147").await.expect("fetched");
    assert_eq!(
        intercom.mapping().apply("intercom", "147", &source).expect("mapped"),
        json!({"id": "147", "subject": "Legal", "customer": {"tier": "enterprise"}})
    );
    let write = intercom.write_back("147", &source, &decision()).expect("a write-back");
    Mock::given(method("POST"))
        .and(path("/conversations/147/parts"))
        .and(header("authorization", bearer))
        .and(body_json(
            json!({"message_type": "assignment", "type": "team", "admin_id": "991267", "assignee_id": "814"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "147"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/conversations/147"))
        .and(header("authorization", bearer))
        .and(body_json(json!({"custom_attributes": {"priority": "P1"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"type": "conversation", "id": "147"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/conversations/147/tags"))
        .and(body_json(json!({"id": "17", "admin_id": "991267"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"type": "tag", "id": "17"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/conversations/147/reply"))
        .and(header("authorization", bearer))
        .and(body_json(json!({"message_type": "note", "type": "admin", "admin_id": "991267",
            "body": "routec: legal_review · priority P1 · escalated by `legal_threat`: text has legal (policy saas-b2b v3)\n\nHandoff:\n- customer.name: Ada"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "147"})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = intercom.sink().deliver(delivery("intercom.update", "147", &write.payload)).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered { receipt: json!({"id": "147"}) });
}

/// https://developers.intercom.com/docs/references/rest-api/api.intercom.io/conversations/searchconversations
#[tokio::test]
async fn intercom_counts_open_conversations_per_team() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/conversations/search"))
        .and(header("authorization", "Bearer ic-token"))
        .and(body_json(json!({
            "query": {"operator": "AND", "value": [
                {"field": "team_assignee_id", "operator": "=", "value": "814"},
                {"field": "open", "operator": "=", "value": true}
            ]},
            "pagination": {"per_page": 1}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"type": "conversation.list", "total_count": 5})))
        .expect(1)
        .mount(&server)
        .await;
    let counts = intercom(&server).open_counts().await.expect("counted");
    assert_eq!(counts.get("legal_review"), Some(&5));
}

/// What the outbox worker queues as `<helpdesk>.note` when an issue was
/// created for a helpdesk ticket (server/src/delivery.rs `follow_ups`).
fn issue_note() -> Value {
    json!({
        "body": "routec created Jira issue LEGAL-7: https://acme.atlassian.net/browse/LEGAL-7",
        "issue": {"key": "LEGAL-7", "url": "https://acme.atlassian.net/browse/LEGAL-7"}
    })
}

/// A comment is added through a ticket update, `"public": false` for a private one:
/// https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket
/// and https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_comments/.
#[tokio::test]
async fn zendesk_notes_a_created_issue_as_a_private_comment() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/35436.json"))
        .and(header("authorization", basic("bot@acme.example/token", "zd-token").as_str()))
        .and(body_json(json!({"ticket": {"comment": {
            "body": "routec created Jira issue LEGAL-7: https://acme.atlassian.net/browse/LEGAL-7",
            "public": false
        }}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {"id": 35436}})))
        .expect(1)
        .mount(&server)
        .await;
    let sink = zendesk(&server).sink();
    assert!(sink.kinds().contains(&"zendesk.note"), "{:?}", sink.kinds());
    let outcome = sink.deliver(delivery("zendesk.note", "35436", &issue_note())).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered { receipt: json!({"id": 35436}) });
    // A row without a body is refused without a request (the mock expects exactly one).
    let empty = sink.deliver(delivery("zendesk.note", "35436", &json!({"issue": {}}))).await;
    assert!(matches!(empty, DeliveryOutcome::Failed { .. }), "{empty:?}");
}

/// https://developers.freshdesk.com/api/#add_note_to_a_ticket (`private` defaults to true; sent explicitly).
#[tokio::test]
async fn freshdesk_notes_a_created_issue_as_a_private_note() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets/12/notes"))
        .and(header("authorization", basic("fd-key", "X").as_str()))
        .and(body_json(json!({
            "body": "routec created Jira issue LEGAL-7: https://acme.atlassian.net/browse/LEGAL-7",
            "private": true
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 4711, "private": true})))
        .expect(1)
        .mount(&server)
        .await;
    let sink = freshdesk(&server).sink();
    let outcome = sink.deliver(delivery("freshdesk.note", "12", &issue_note())).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered { receipt: json!({"id": 4711}) });
}

/// https://developers.intercom.com/docs/references/rest-api/api.intercom.io/conversations/replyconversation
/// (an admin reply with `message_type: note`).
#[tokio::test]
async fn intercom_notes_a_created_issue_as_an_admin_note() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/conversations/147/reply"))
        .and(header("authorization", "Bearer ic-token"))
        .and(body_json(json!({
            "message_type": "note", "type": "admin", "admin_id": "991267",
            "body": "routec created Jira issue LEGAL-7: https://acme.atlassian.net/browse/LEGAL-7"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"type": "conversation", "id": "147"})))
        .expect(1)
        .mount(&server)
        .await;
    let sink = intercom(&server).sink();
    let outcome = sink.deliver(delivery("intercom.note", "147", &issue_note())).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered { receipt: json!({"id": "147"}) });
}
