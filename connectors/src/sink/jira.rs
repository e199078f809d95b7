//! `create_issue jira "ENG" severity … area …`: Jira Cloud's
//! `POST /rest/api/3/issue`
//! (<https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post>),
//! basic auth with an Atlassian account's e-mail and API token
//! (<https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/>),
//! the description in Atlassian Document Format
//! (<https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/>).
//!
//! Priority comes from the action's severity through `priorities`
//! (severity → Jira priority name), labels from its area (spaces become
//! `-`, Jira labels have none). Jira has no idempotency key, so every issue
//! carries a `routec-<hash of the key>` label, and a retry first searches
//! for it (`GET /rest/api/3/search/jql`): an issue created by an attempt
//! whose answer was lost is found instead of created twice. The receipt is
//! `{ "key", "id", "url" }` (`url` = `{api_url}/browse/{key}`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::{base_url, config_error, key_digest, ActionsConfigError, Notice, JIRA};
use crate::delivery::{BoxFuture, Delivery, DeliveryOutcome, Sink};
use crate::http::{self, HttpOptions};
use crate::secret::{Secret, SecretSource};

/// `[actions.jira]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraFile {
    /// The site, e.g. `https://acme.atlassian.net`.
    pub api_url: String,
    /// The Atlassian account's e-mail.
    pub email: String,
    /// Its API token.
    pub api_token: SecretSource,
    /// The issue type's name (default `Task`).
    pub issue_type: Option<String>,
    /// Severity (as the policy writes it) → Jira priority name.
    #[serde(default)]
    pub priorities: BTreeMap<String, String>,
    /// Labels every issue gets besides the area's.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// Delivers `jira` outbox rows.
pub struct JiraSink {
    client: reqwest::Client,
    api_url: String,
    email: String,
    api_token: Secret,
    issue_type: String,
    priorities: BTreeMap<String, String>,
    labels: Vec<String>,
    max_retry_after: Duration,
}

impl JiraSink {
    /// Builds the sink.
    pub fn from_file(
        file: &JiraFile,
        env: &dyn Fn(&str) -> Option<String>,
        options: &HttpOptions,
    ) -> Result<JiraSink, ActionsConfigError> {
        let api_url = base_url("actions.jira.api_url", &file.api_url)?;
        let api_token = file.api_token.resolve(env).map_err(|reason| config_error("actions.jira.api_token", reason))?;
        if file.email.trim().is_empty() {
            return Err(config_error("actions.jira.email", "is empty"));
        }
        let client = http::client(options).map_err(|error| config_error("actions.jira", error.to_string()))?;
        Ok(JiraSink {
            client,
            api_url,
            email: file.email.clone(),
            api_token,
            issue_type: file.issue_type.clone().unwrap_or_else(|| "Task".to_owned()),
            priorities: file.priorities.clone(),
            labels: file.labels.iter().map(|label| label_of(label)).collect(),
            max_retry_after: options.max_retry_after,
        })
    }

    /// The request body of `POST /rest/api/3/issue`.
    pub fn issue_body(&self, project: &str, notice: &Notice, dedup_label: Option<&str>) -> Value {
        let mut labels = self.labels.clone();
        labels.extend(notice.area.as_deref().map(label_of));
        labels.extend(dedup_label.map(str::to_owned));
        let mut fields = json!({
            "project": { "key": project },
            "issuetype": { "name": self.issue_type },
            "summary": summary(notice),
            "description": description(notice),
            "labels": labels,
        });
        if let Some(priority) = notice.severity.as_ref().and_then(|severity| self.priorities.get(severity)) {
            fields["priority"] = json!({ "name": priority });
        }
        json!({ "fields": fields })
    }

    fn receipt(&self, key: &str, id: &Value) -> DeliveryOutcome {
        DeliveryOutcome::Delivered {
            receipt: json!({ "key": key, "id": id, "url": format!("{}/browse/{key}", self.api_url) }),
        }
    }

    /// An issue an earlier attempt created, found by its label.
    async fn find(&self, label: &str) -> Result<Option<DeliveryOutcome>, DeliveryOutcome> {
        let request = self
            .client
            .get(format!("{}/rest/api/3/search/jql", self.api_url))
            .basic_auth(&self.email, Some(self.api_token.expose()))
            .query(&[
                ("jql", format!("labels = \"{label}\"")),
                ("fields", "key".to_owned()),
                ("maxResults", "1".to_owned()),
            ]);
        let answer = http::send_expecting_success(request, "Jira", self.max_retry_after).await?;
        let found = answer.json();
        Ok(found["issues"][0]["key"].as_str().map(|key| self.receipt(key, &found["issues"][0]["id"])))
    }

    async fn create(&self, delivery: Delivery<'_>) -> DeliveryOutcome {
        let notice = match Notice::from_payload(delivery.payload) {
            Ok(notice) => notice,
            Err(error) => return DeliveryOutcome::Failed { error },
        };
        let dedup_label = delivery.idempotency_key.map(|key| format!("routec-{}", key_digest(key)));
        if let (Some(label), true) = (&dedup_label, delivery.attempt > 1) {
            match self.find(label).await {
                Ok(Some(found)) => return found,
                Ok(None) => {}
                Err(outcome) => return outcome,
            }
        }
        let body = self.issue_body(delivery.target, &notice, dedup_label.as_deref());
        let request = self
            .client
            .post(format!("{}/rest/api/3/issue", self.api_url))
            .basic_auth(&self.email, Some(self.api_token.expose()))
            .json(&body);
        match http::send_expecting_success(request, "Jira", self.max_retry_after).await {
            Ok(answer) => {
                let created = answer.json();
                match created["key"].as_str() {
                    Some(key) => self.receipt(key, &created["id"]),
                    None => DeliveryOutcome::Failed {
                        error: format!("Jira created an issue without a key: {}", answer.excerpt()),
                    },
                }
            }
            Err(outcome) => outcome,
        }
    }
}

impl Sink for JiraSink {
    fn kinds(&self) -> &[&'static str] {
        &[JIRA]
    }

    fn deliver<'a>(&'a self, delivery: Delivery<'a>) -> BoxFuture<'a, DeliveryOutcome> {
        Box::pin(self.create(delivery))
    }
}

/// Jira labels cannot contain spaces.
fn label_of(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join("-")
}

/// Jira's summary is one line of at most 255 characters.
fn summary(notice: &Notice) -> String {
    let title = notice.title().replace(['\r', '\n'], " ");
    match title.char_indices().nth(254) {
        Some((cut, _)) => format!("{}…", &title[..cut]),
        None => title,
    }
}

/// The description as an ADF document: one paragraph per fact, the label
/// in bold, the ticket link as a link mark. ADF text nodes may not be empty.
pub fn description(notice: &Notice) -> Value {
    let mut content = Vec::new();
    for (label, value) in notice.facts() {
        if value.is_empty() {
            continue;
        }
        let value_node = if label == "Link" {
            json!({ "type": "text", "text": value, "marks": [{ "type": "link", "attrs": { "href": value } }] })
        } else {
            json!({ "type": "text", "text": value })
        };
        content.push(json!({
            "type": "paragraph",
            "content": [
                { "type": "text", "text": format!("{label}: "), "marks": [{ "type": "strong" }] },
                value_node
            ]
        }));
    }
    content.push(json!({
        "type": "paragraph",
        "content": [{ "type": "text", "text": "Created by routec for the routing decision above." }]
    }));
    json!({ "type": "doc", "version": 1, "content": content })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn sink(server: &MockServer) -> JiraSink {
        let file = JiraFile {
            api_url: server.uri(),
            email: "bot@acme.example".into(),
            api_token: SecretSource::Env { env: "JIRA_TOKEN".into() },
            issue_type: Some("Bug".into()),
            priorities: BTreeMap::from([("critical".to_owned(), "Highest".to_owned())]),
            labels: vec!["routec".into()],
        };
        let env = |name: &str| (name == "JIRA_TOKEN").then(|| "jira-api-token".to_owned());
        JiraSink::from_file(&file, &env, &HttpOptions::default()).expect("a valid jira config")
    }

    fn payload() -> Value {
        json!({
            "ticket_id": "881",
            "ticket_url": "https://desk.contoso.example/tickets/881",
            "destination": "major_incident",
            "priority": "P1",
            "reason": "subject has outage_words",
            "severity": "critical",
            "area": "core infrastructure"
        })
    }

    fn delivery<'a>(payload: &'a Value, attempt: u32) -> Delivery<'a> {
        Delivery {
            id: "obx_1",
            decision_id: "dec_1",
            kind: JIRA,
            target: "ITOPS",
            payload,
            idempotency_key: Some("ticket:881:h/0:jira"),
            attempt,
        }
    }

    // Basic auth: base64("bot@acme.example:jira-api-token").
    const AUTH: &str = "Basic Ym90QGFjbWUuZXhhbXBsZTpqaXJhLWFwaS10b2tlbg==";

    // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post:
    // `{"fields": {project: {key}, issuetype: {name}, summary, description (ADF), labels, priority: {name}}}`,
    // answered 201 with `{"id", "key", "self"}`.
    #[tokio::test]
    async fn creates_an_issue_with_adf_priority_and_labels() {
        let server = MockServer::start().await;
        let label = format!("routec-{}", key_digest("ticket:881:h/0:jira"));
        let sink = sink(&server);
        let notice = Notice::from_payload(&payload()).expect("a notice");
        let expected = json!({
            "fields": {
                "project": { "key": "ITOPS" },
                "issuetype": { "name": "Bug" },
                "summary": "Ticket 881 → major_incident (P1)",
                "description": description(&notice),
                "labels": ["routec", "core-infrastructure", label],
                "priority": { "name": "Highest" }
            }
        });
        assert_eq!(
            expected["fields"]["description"]["content"][1]["content"][1]["marks"][0]["attrs"]["href"],
            "https://desk.contoso.example/tickets/881",
            "the link is a link mark"
        );
        Mock::given(method("POST"))
            .and(path("/rest/api/3/issue"))
            .and(header("authorization", AUTH))
            .and(body_json(expected))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                "id": "10000", "key": "ITOPS-24", "self": format!("{}/rest/api/3/issue/10000", server.uri())
            })))
            .expect(1)
            .mount(&server)
            .await;
        let payload = payload();
        let outcome = sink.deliver(delivery(&payload, 1)).await;
        assert_eq!(
            outcome,
            DeliveryOutcome::Delivered {
                receipt: json!({ "key": "ITOPS-24", "id": "10000", "url": format!("{}/browse/ITOPS-24", server.uri()) })
            }
        );
    }

    // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get
    #[tokio::test]
    async fn a_retry_finds_the_issue_an_earlier_attempt_created() {
        let server = MockServer::start().await;
        let label = format!("routec-{}", key_digest("ticket:881:h/0:jira"));
        Mock::given(method("GET"))
            .and(path("/rest/api/3/search/jql"))
            .and(header("authorization", AUTH))
            .and(query_param("jql", format!("labels = \"{label}\"")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issues": [{ "id": "10000", "key": "ITOPS-24" }], "isLast": true
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(201)).expect(0).mount(&server).await;
        let payload = payload();
        let outcome = sink(&server).deliver(delivery(&payload, 2)).await;
        assert!(
            matches!(&outcome, DeliveryOutcome::Delivered { receipt } if receipt["key"] == "ITOPS-24"),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn refusals_fail_and_outages_retry() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "errorMessages": [], "errors": { "project": "project is required" }
            })))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
        let sink = sink(&server);
        let payload = payload();
        let refused = sink.deliver(delivery(&payload, 1)).await;
        let DeliveryOutcome::Failed { error } = refused else { panic!("a 400 fails: {refused:?}") };
        assert!(error.contains("project is required"), "{error}");
        assert!(matches!(sink.deliver(delivery(&payload, 1)).await, DeliveryOutcome::RetryLater { .. }));
    }
}
