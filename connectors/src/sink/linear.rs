//! `create_issue linear "API"`: Linear's GraphQL API
//! (<https://linear.app/developers/graphql>): `POST {api_url}` with a
//! personal API key in `Authorization` (no `Bearer`), the team looked up by
//! its key (`teams(filter: { key: { eq } })`, remembered), then the
//! `issueCreate` mutation.
//!
//! Idempotency: `IssueCreateInput.id` lets the client choose the issue's
//! UUID, so the id is derived from the outbox row's idempotency key; a retry
//! first asks for `issue(id:)` and answers with the issue an earlier attempt
//! created. GraphQL errors come with HTTP 200 or 400: `RATELIMITED`
//! (<https://linear.app/developers/rate-limiting>) is retried, the others
//! fail. The receipt is `{ "key": "API-12", "id", "url" }`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{base_url, config_error, ActionsConfigError, Notice, LINEAR};
use crate::delivery::{BoxFuture, Delivery, DeliveryOutcome, Sink};
use crate::http::{self, HttpOptions};
use crate::secret::{Secret, SecretSource};

const DEFAULT_API_URL: &str = "https://api.linear.app/graphql";

const TEAM_BY_KEY: &str =
    "query TeamByKey($key: String!) { teams(filter: { key: { eq: $key } }) { nodes { id key } } }";
const ISSUE_BY_ID: &str = "query IssueById($id: String!) { issue(id: $id) { id identifier url } }";
const ISSUE_CREATE: &str =
    "mutation IssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id identifier url } } }";

/// `[actions.linear]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearFile {
    /// The GraphQL endpoint (default `https://api.linear.app/graphql`).
    pub api_url: Option<String>,
    /// A personal API key (`lin_api_…`).
    pub api_key: SecretSource,
    /// Decision priority (`P1`…) → Linear priority (1 urgent, 2 high,
    /// 3 normal, 4 low).
    #[serde(default)]
    pub priorities: BTreeMap<String, u8>,
}

/// Delivers `linear` outbox rows.
pub struct LinearSink {
    client: reqwest::Client,
    api_url: String,
    api_key: Secret,
    priorities: BTreeMap<String, u8>,
    team_ids: Mutex<HashMap<String, String>>,
    max_retry_after: Duration,
}

impl LinearSink {
    /// Builds the sink.
    pub fn from_file(
        file: &LinearFile,
        env: &dyn Fn(&str) -> Option<String>,
        options: &HttpOptions,
    ) -> Result<LinearSink, ActionsConfigError> {
        let api_url = base_url("actions.linear.api_url", file.api_url.as_deref().unwrap_or(DEFAULT_API_URL))?;
        let api_key = file.api_key.resolve(env).map_err(|reason| config_error("actions.linear.api_key", reason))?;
        if let Some((name, priority)) = file.priorities.iter().find(|(_, priority)| **priority > 4) {
            return Err(config_error(
                &format!("actions.linear.priorities.{name}"),
                format!("{priority} is not a Linear priority (0 to 4)"),
            ));
        }
        let client = http::client(options).map_err(|error| config_error("actions.linear", error.to_string()))?;
        Ok(LinearSink {
            client,
            api_url,
            api_key,
            priorities: file.priorities.clone(),
            team_ids: Mutex::new(HashMap::new()),
            max_retry_after: options.max_retry_after,
        })
    }

    /// One GraphQL request: `data` on success, the outcome otherwise.
    async fn graphql(&self, query: &str, variables: Value) -> Result<Value, DeliveryOutcome> {
        let request = self
            .client
            .post(&self.api_url)
            .header(reqwest::header::AUTHORIZATION, self.api_key.expose())
            .json(&json!({ "query": query, "variables": variables }));
        let answer = http::send(request, "Linear").await?;
        let body = answer.json();
        if let Some(errors) = body["errors"].as_array().filter(|errors| !errors.is_empty()) {
            let messages: Vec<&str> = errors.iter().filter_map(|error| error["message"].as_str()).collect();
            let error = http::excerpt(&format!("Linear answered {}: {}", answer.status, messages.join("; ")));
            let rate_limited = errors.iter().any(|error| error["extensions"]["code"] == "RATELIMITED");
            return Err(if rate_limited || answer.status.is_server_error() {
                let retry_after = answer
                    .headers
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| http::parse_retry_after(value, jiff::Timestamp::now()))
                    .map(|delay| delay.min(self.max_retry_after));
                DeliveryOutcome::RetryLater { error, retry_after }
            } else {
                DeliveryOutcome::Failed { error }
            });
        }
        if let Some(outcome) = http::classify(
            "Linear",
            answer.status,
            &answer.headers,
            &answer.excerpt(),
            jiff::Timestamp::now(),
            self.max_retry_after,
        ) {
            return Err(outcome);
        }
        Ok(body["data"].clone())
    }

    async fn team_id(&self, key: &str) -> Result<String, DeliveryOutcome> {
        if let Some(id) = self.team_ids.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(key) {
            return Ok(id.clone());
        }
        let data = self.graphql(TEAM_BY_KEY, json!({ "key": key })).await?;
        let id = data["teams"]["nodes"][0]["id"]
            .as_str()
            .ok_or_else(|| DeliveryOutcome::Failed { error: format!("Linear has no team with the key `{key}`") })?
            .to_owned();
        self.team_ids.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(key.to_owned(), id.clone());
        Ok(id)
    }

    fn receipt(issue: &Value) -> Option<DeliveryOutcome> {
        let key = issue["identifier"].as_str()?;
        Some(DeliveryOutcome::Delivered { receipt: json!({ "key": key, "id": issue["id"], "url": issue["url"] }) })
    }

    async fn create(&self, delivery: Delivery<'_>) -> Result<DeliveryOutcome, DeliveryOutcome> {
        let notice = Notice::from_payload(delivery.payload).map_err(|error| DeliveryOutcome::Failed { error })?;
        let issue_id = delivery.idempotency_key.map(issue_uuid);
        if let (Some(id), true) = (&issue_id, delivery.attempt > 1) {
            // "Entity not found" is an error here: only a found issue counts.
            if let Ok(data) = self.graphql(ISSUE_BY_ID, json!({ "id": id })).await {
                if let Some(found) = LinearSink::receipt(&data["issue"]) {
                    return Ok(found);
                }
            }
        }
        let team_id = self.team_id(delivery.target).await?;
        let mut input = json!({
            "teamId": team_id,
            "title": notice.title(),
            "description": markdown(&notice),
        });
        if let Some(id) = issue_id {
            input["id"] = json!(id);
        }
        if let Some(priority) = self.priorities.get(&notice.priority) {
            input["priority"] = json!(priority);
        }
        let data = self.graphql(ISSUE_CREATE, json!({ "input": input })).await?;
        if data["issueCreate"]["success"] != true {
            return Err(DeliveryOutcome::Failed {
                error: "Linear did not create the issue (success: false)".to_owned(),
            });
        }
        LinearSink::receipt(&data["issueCreate"]["issue"]).ok_or_else(|| DeliveryOutcome::Failed {
            error: "Linear created an issue without an identifier".to_owned(),
        })
    }
}

impl Sink for LinearSink {
    fn kinds(&self) -> &[&'static str] {
        &[LINEAR]
    }

    fn deliver<'a>(&'a self, delivery: Delivery<'a>) -> BoxFuture<'a, DeliveryOutcome> {
        Box::pin(async move { self.create(delivery).await.unwrap_or_else(|outcome| outcome) })
    }
}

/// A UUID (version 4 layout) derived from the idempotency key, so every
/// attempt asks Linear for the same issue id.
pub fn issue_uuid(key: &str) -> String {
    let mut bytes: [u8; 16] = [0; 16];
    bytes.copy_from_slice(&Sha256::digest(key.as_bytes())[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Markdown escaping for text from the ticket.
fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The description: one `**Label:** value` line per fact.
pub fn markdown(notice: &Notice) -> String {
    let mut text = String::new();
    for (label, value) in notice.facts() {
        let value = if label == "Link" { format!("<{value}>") } else { escape_markdown(&value) };
        text.push_str(&format!("**{}:** {value}\n\n", escape_markdown(&label)));
    }
    text.push_str("Created by routec for the routing decision above.\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{body_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn sink(server: &MockServer) -> LinearSink {
        let file = LinearFile {
            api_url: Some(format!("{}/graphql", server.uri())),
            api_key: SecretSource::Literal("lin_api_test".into()),
            priorities: BTreeMap::from([("P2".to_owned(), 2)]),
        };
        LinearSink::from_file(&file, &|_| None, &HttpOptions::default()).expect("a valid linear config")
    }

    fn payload() -> Value {
        json!({ "ticket_id": "77", "destination": "procurement", "priority": "P2", "reason": "rule `laptops`" })
    }

    fn delivery<'a>(payload: &'a Value, attempt: u32) -> Delivery<'a> {
        Delivery {
            id: "obx_1",
            decision_id: "dec_1",
            kind: LINEAR,
            target: "PROCURE",
            payload,
            idempotency_key: Some("ticket:77:h/0:linear"),
            attempt,
        }
    }

    // https://linear.app/developers/graphql: POST JSON `{query, variables}`,
    // `Authorization: <API key>`; teams filtered by key; `issueCreate(input:
    // IssueCreateInput!)` with teamId, title, description, priority, id.
    #[tokio::test]
    async fn looks_the_team_up_once_and_creates_the_issue() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .and(header("authorization", "lin_api_test"))
            .and(body_json(json!({ "query": TEAM_BY_KEY, "variables": { "key": "PROCURE" } })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": { "teams": { "nodes": [{ "id": "team-uuid-1", "key": "PROCURE" }] } }
            })))
            .expect(1)
            .mount(&server)
            .await;
        let notice = Notice::from_payload(&payload()).expect("a notice");
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .and(header("authorization", "lin_api_test"))
            .and(body_json(json!({
                "query": ISSUE_CREATE,
                "variables": { "input": {
                    "teamId": "team-uuid-1",
                    "title": "Ticket 77 → procurement (P2)",
                    "description": markdown(&notice),
                    "id": issue_uuid("ticket:77:h/0:linear"),
                    "priority": 2
                } }
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": { "issueCreate": { "success": true, "issue": {
                    "id": issue_uuid("ticket:77:h/0:linear"), "identifier": "PROCURE-12",
                    "url": "https://linear.app/contoso/issue/PROCURE-12"
                } } }
            })))
            .expect(2)
            .mount(&server)
            .await;
        let sink = sink(&server);
        let payload = payload();
        for _ in 0..2 {
            let outcome = sink.deliver(delivery(&payload, 1)).await;
            let DeliveryOutcome::Delivered { receipt } = outcome else { panic!("created: {outcome:?}") };
            assert_eq!(receipt["key"], "PROCURE-12");
            assert_eq!(receipt["url"], "https://linear.app/contoso/issue/PROCURE-12");
        }
    }

    #[tokio::test]
    async fn a_retry_answers_with_the_issue_already_created() {
        let server = MockServer::start().await;
        Mock::given(body_json(json!({ "query": ISSUE_BY_ID, "variables": { "id": issue_uuid("ticket:77:h/0:linear") } })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": { "issue": { "id": "x", "identifier": "PROCURE-12", "url": "https://linear.app/contoso/issue/PROCURE-12" } }
            })))
            .expect(1)
            .mount(&server)
            .await;
        let payload = payload();
        let outcome = sink(&server).deliver(delivery(&payload, 3)).await;
        assert!(
            matches!(&outcome, DeliveryOutcome::Delivered { receipt } if receipt["key"] == "PROCURE-12"),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn rate_limits_retry_and_unknown_teams_fail() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "errors": [{ "message": "Rate limit exceeded", "extensions": { "code": "RATELIMITED" } }]
            })))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": { "teams": { "nodes": [] } } })))
            .mount(&server)
            .await;
        let sink = sink(&server);
        let payload = payload();
        assert!(matches!(sink.deliver(delivery(&payload, 1)).await, DeliveryOutcome::RetryLater { .. }));
        assert_eq!(
            sink.deliver(delivery(&payload, 1)).await,
            DeliveryOutcome::Failed { error: "Linear has no team with the key `PROCURE`".into() }
        );
    }

    #[test]
    fn issue_ids_are_version_4_uuids_stable_per_key() {
        let id = issue_uuid("k");
        assert_eq!(id, issue_uuid("k"));
        assert_ne!(id, issue_uuid("other"));
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
