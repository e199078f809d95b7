//! Action sinks: one module per vendor that a policy's actions reach
//! (`notify slack`, `notify email`, `create_issue jira|linear`), the payload
//! every action's outbox row carries ([`Notice`]), and the `[actions.*]`
//! configuration that builds the sinks ([`ActionsFile`] → [`Actions`]).
//!
//! Outbox kinds: `slack` (target: the channel), `email` (target: the
//! address), `jira` (target: the project key), `linear` (target: the team
//! key). A created issue's receipt is `{ "key", "url" }`.

pub mod email;
pub mod jira;
pub mod linear;
pub mod slack;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::delivery::Sink;
use crate::http::HttpOptions;

/// Outbox kind of `notify slack`.
pub const SLACK: &str = "slack";
/// Outbox kind of `notify email`.
pub const EMAIL: &str = "email";
/// Outbox kind of `create_issue jira`.
pub const JIRA: &str = "jira";
/// Outbox kind of `create_issue linear`.
pub const LINEAR: &str = "linear";

/// The helpdesk ticket a decision came from, so that a created issue's key
/// can be written back to it as a private note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpdeskTicket {
    /// The helpdesk connector: `zendesk`, `freshdesk`, `intercom`.
    pub helpdesk: String,
    /// The ticket's (or conversation's) id in that helpdesk.
    pub ticket_id: String,
}

/// What an action's outbox row carries: the decision as a human needs it,
/// fixed when the decision was recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// The ticket's id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    /// A link to the ticket in the helpdesk (`[actions] ticket_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_url: Option<String>,
    /// The ticket's subject line, when the schema has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Where the ticket was routed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// The decided priority (`P1`…).
    pub priority: String,
    /// The escalation, when one fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
    /// Why: the escalation's condition, or the rule that routed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The handoff fields (dotted path → value), so nobody asks again.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub handoff: serde_json::Map<String, serde_json::Value>,
    /// `create_issue … severity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// `create_issue … area`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// The helpdesk ticket the decision came from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helpdesk: Option<HelpdeskTicket>,
}

impl Notice {
    /// Reads an outbox payload; the error is for `last_error`.
    pub fn from_payload(payload: &serde_json::Value) -> Result<Notice, String> {
        serde_json::from_value(payload.clone()).map_err(|error| format!("the outbox payload is not a notice: {error}"))
    }

    /// A one-line title: `Ticket T-1 → legal (P1)`.
    pub fn title(&self) -> String {
        let ticket = match (&self.ticket_id, &self.subject) {
            (Some(id), Some(subject)) => format!("Ticket {id}: {subject}"),
            (Some(id), None) => format!("Ticket {id}"),
            (None, Some(subject)) => format!("Ticket: {subject}"),
            (None, None) => "A ticket".to_owned(),
        };
        let destination = self.destination.as_deref().unwrap_or("nowhere");
        format!("{ticket} → {destination} ({})", self.priority)
    }

    /// The facts every message shows, as `(label, value)` lines, in order:
    /// ticket, link, destination, priority, escalation, reason, then each
    /// handoff field.
    pub fn facts(&self) -> Vec<(String, String)> {
        let mut facts = Vec::new();
        let mut push = |label: &str, value: Option<&str>| {
            if let Some(value) = value {
                facts.push((label.to_owned(), value.to_owned()));
            }
        };
        push("Ticket", self.ticket_id.as_deref());
        push("Subject", self.subject.as_deref());
        push("Link", self.ticket_url.as_deref());
        push("Destination", self.destination.as_deref());
        push("Priority", Some(&self.priority));
        push("Escalation", self.escalation.as_deref());
        push("Reason", self.reason.as_deref());
        push("Severity", self.severity.as_deref());
        push("Area", self.area.as_deref());
        for (field, value) in &self.handoff {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            facts.push((field.clone(), text));
        }
        facts
    }
}

/// A stable short hash of an idempotency key (hex), for vendors' own ids,
/// labels and message ids.
pub fn key_digest(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().take(16).map(|byte| format!("{byte:02x}")).collect()
}

/// Why the `[actions.*]` configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{setting}`: {reason}")]
pub struct ActionsConfigError {
    /// The setting, e.g. `actions.slack.bot_token`.
    pub setting: String,
    /// What is wrong with it.
    pub reason: String,
}

pub(crate) fn config_error(setting: &str, reason: impl Into<String>) -> ActionsConfigError {
    ActionsConfigError { setting: setting.to_owned(), reason: reason.into() }
}

/// `[actions]` as the config file writes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionsFile {
    /// A link to a ticket in the helpdesk, `{ticket_id}` replaced by the
    /// ticket's id (percent-encoded), e.g.
    /// `https://acme.zendesk.com/agent/tickets/{ticket_id}`.
    pub ticket_url: Option<String>,
    /// The ticket field holding its subject line (default `subject`).
    pub subject_field: Option<String>,
    /// Request timeout of every action sink, e.g. `20s`.
    pub timeout: Option<String>,
    /// `[actions.slack]`.
    pub slack: Option<slack::SlackFile>,
    /// `[actions.email]`.
    pub email: Option<email::EmailFile>,
    /// `[actions.jira]`.
    pub jira: Option<jira::JiraFile>,
    /// `[actions.linear]`.
    pub linear: Option<linear::LinearFile>,
}

/// The action sinks the configuration names, built once at start.
#[derive(Default)]
pub struct Actions {
    /// The ticket link template.
    pub ticket_url: Option<String>,
    /// The ticket field holding its subject line.
    pub subject_field: String,
    /// One sink per configured vendor.
    pub sinks: Vec<Arc<dyn Sink>>,
}

impl std::fmt::Debug for Actions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<&str> = self.sinks.iter().flat_map(|sink| sink.kinds().iter().copied()).collect();
        f.debug_struct("Actions")
            .field("ticket_url", &self.ticket_url)
            .field("subject_field", &self.subject_field)
            .field("kinds", &kinds)
            .finish()
    }
}

impl Actions {
    /// Resolves secrets (through `env`) and builds the configured sinks.
    pub fn from_file(
        file: &ActionsFile,
        env: &dyn Fn(&str) -> Option<String>,
        max_retry_after: Duration,
    ) -> Result<Actions, ActionsConfigError> {
        let mut http = HttpOptions { max_retry_after, ..HttpOptions::default() };
        if let Some(text) = &file.timeout {
            http.request_timeout = parse_seconds(text).map_err(|reason| config_error("actions.timeout", reason))?;
        }
        if let Some(template) = &file.ticket_url {
            if !(template.starts_with("https://") || template.starts_with("http://")) {
                return Err(config_error("actions.ticket_url", "must start with https:// (or http://)"));
            }
        }
        let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
        if let Some(slack) = &file.slack {
            sinks.push(Arc::new(slack::SlackSink::from_file(slack, env, &http)?));
        }
        if let Some(email) = &file.email {
            sinks.push(Arc::new(email::EmailSink::from_file(email, env, &http)?));
        }
        if let Some(jira) = &file.jira {
            sinks.push(Arc::new(jira::JiraSink::from_file(jira, env, &http)?));
        }
        if let Some(linear) = &file.linear {
            sinks.push(Arc::new(linear::LinearSink::from_file(linear, env, &http)?));
        }
        Ok(Actions {
            ticket_url: file.ticket_url.clone(),
            subject_field: file.subject_field.clone().unwrap_or_else(|| "subject".to_owned()),
            sinks,
        })
    }

    /// Whether a sink delivers `kind`.
    pub fn delivers(&self, kind: &str) -> bool {
        self.sinks.iter().any(|sink| sink.kinds().contains(&kind))
    }

    /// The ticket link for `ticket_id`, when a template is configured.
    pub fn ticket_link(&self, ticket_id: &str) -> Option<String> {
        let template = self.ticket_url.as_ref()?;
        let encoded = percent_encoding::utf8_percent_encode(ticket_id, crate::enrich::SEGMENT).to_string();
        Some(template.replace("{ticket_id}", &encoded))
    }
}

/// `20s`, `500ms`, `2m`: the request timeout.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a duration like `500ms`, `20s` or `2m`");
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let duration = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(bad()),
    };
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(duration)
}

/// An `api_url` from the config: trusted (the operator wrote it), but it
/// must be an http(s) URL; the trailing slash is dropped.
pub(crate) fn base_url(setting: &str, url: &str) -> Result<String, ActionsConfigError> {
    let parsed = reqwest::Url::parse(url).map_err(|error| config_error(setting, format!("`{url}`: {error}")))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(config_error(setting, format!("`{url}` is not an http(s) URL")));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice {
        let mut handoff = serde_json::Map::new();
        handoff.insert("customer.email".into(), "ana@example.com".into());
        handoff.insert("customer.seats".into(), 40.into());
        Notice {
            ticket_id: Some("4711".into()),
            ticket_url: Some("https://acme.zendesk.com/agent/tickets/4711".into()),
            subject: Some("Our lawyer will contact you".into()),
            destination: Some("legal".into()),
            priority: "P1".into(),
            escalation: Some("legal_threat".into()),
            reason: Some("subject has legal_words".into()),
            handoff,
            ..Notice::default()
        }
    }

    #[test]
    fn a_notice_round_trips_through_its_payload() {
        let notice = notice();
        let payload = serde_json::to_value(&notice).expect("serialises");
        assert_eq!(Notice::from_payload(&payload), Ok(notice));
        assert!(Notice::from_payload(&serde_json::json!({"ticket_id": 5})).is_err());
    }

    #[test]
    fn title_and_facts() {
        let notice = notice();
        assert_eq!(notice.title(), "Ticket 4711: Our lawyer will contact you → legal (P1)");
        let facts = notice.facts();
        assert_eq!(facts[0], ("Ticket".to_owned(), "4711".to_owned()));
        assert!(facts.contains(&("customer.seats".to_owned(), "40".to_owned())));
        assert!(facts.contains(&("Reason".to_owned(), "subject has legal_words".to_owned())));
    }

    #[test]
    fn ticket_links_encode_the_id() {
        let actions = Actions {
            ticket_url: Some("https://acme.zendesk.com/agent/tickets/{ticket_id}".into()),
            ..Actions::default()
        };
        assert_eq!(
            actions.ticket_link("47/../11").as_deref(),
            Some("https://acme.zendesk.com/agent/tickets/47%2F..%2F11")
        );
    }

    #[test]
    fn key_digests_are_stable_and_short() {
        assert_eq!(key_digest("a"), key_digest("a"));
        assert_ne!(key_digest("a"), key_digest("b"));
        assert_eq!(key_digest("a").len(), 32);
    }
}
