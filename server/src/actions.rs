//! A decision's actions (`notify slack`, `notify email`, `create_issue
//! jira|linear`) as outbox rows, written in the decision's own transaction
//! (see [`crate::decide`]). Built from the decision JSON after redaction, so
//! a side effect carries nothing the log may not hold.
//!
//! Only actions a sink is configured for become rows (the decision JSON
//! still lists the others); a shadow decision causes none. Each row's
//! idempotency key is the decision's dedup key with the action's place in
//! the decision, so one decision's action is one row, however often the
//! ticket is sent again.

use routec_connectors::sink::{Actions, HelpdeskTicket, Notice, EMAIL, JIRA, LINEAR, SLACK};
use routec_store::NewOutboxItem;
use serde_json::{Map, Value};

/// Where a ticket came from, so that follow-ups can find their way back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// `POST /v1/route` (and batches).
    #[default]
    Api,
    /// A helpdesk's webhook: a created issue's key is written back to this
    /// ticket as a private note.
    Helpdesk(HelpdeskTicket),
}

/// The outbox rows for a decision. `decision` and `ticket` are the JSON as
/// stored (redacted); `dedup_key` is the decision's.
pub fn outbox_items(
    actions: &Actions,
    decision: &Value,
    ticket: &Value,
    dedup_key: &str,
    origin: &Origin,
) -> Vec<NewOutboxItem> {
    if actions.sinks.is_empty() || decision["mode"] == "shadow" {
        return Vec::new();
    }
    let Some(list) = decision["actions"].as_array() else { return Vec::new() };
    let mut items = Vec::new();
    for (index, action) in list.iter().enumerate() {
        let Some((kind, target)) = kind_and_target(action) else { continue };
        if !actions.delivers(kind) {
            tracing::debug!(kind, "no sink configured for this action; it stays in the decision only");
            continue;
        }
        let notice = notice(actions, decision, ticket, action, origin);
        items.push(NewOutboxItem {
            kind: kind.to_owned(),
            target: target.to_owned(),
            payload: serde_json::to_value(&notice).unwrap_or(Value::Null),
            idempotency_key: Some(format!("{dedup_key}#{index}:{kind}")),
        });
    }
    items
}

/// The outbox kind and target of an action as the decision JSON writes it.
fn kind_and_target(action: &Value) -> Option<(&'static str, &str)> {
    match (action["kind"].as_str()?, action["channel"].as_str(), action["tracker"].as_str()) {
        ("notify", Some("slack"), _) => Some((SLACK, action["target"].as_str()?)),
        ("notify", Some("email"), _) => Some((EMAIL, action["target"].as_str()?)),
        ("create_issue", _, Some("jira")) => Some((JIRA, action["project"].as_str()?)),
        ("create_issue", _, Some("linear")) => Some((LINEAR, action["project"].as_str()?)),
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// Why the ticket went where it went: the escalation's condition, or the
/// last rule that matched.
fn reason(decision: &Value) -> Option<String> {
    if let Some(reason) = decision["escalation"]["reason"].as_str() {
        return Some(reason.to_owned());
    }
    let steps = decision["trace"].as_array()?;
    steps
        .iter()
        .rev()
        .find(|step| step["matched"] == true && step["shadow"] != true && step["stage"] != "priority")
        .and_then(|step| Some(format!("{} `{}`", step["stage"].as_str()?, step["name"].as_str()?)))
}

fn notice(actions: &Actions, decision: &Value, ticket: &Value, action: &Value, origin: &Origin) -> Notice {
    let ticket_id = text(&decision["ticket_id"]);
    let subject = actions.subject_field.split('.').try_fold(ticket, |value, key| value.get(key)).and_then(text);
    Notice {
        ticket_url: ticket_id.as_deref().and_then(|id| actions.ticket_link(id)),
        ticket_id,
        subject,
        destination: text(&decision["destination"]["name"]),
        priority: text(&decision["priority"]).unwrap_or_default(),
        escalation: text(&decision["escalation"]["name"]),
        reason: reason(decision),
        handoff: decision["handoff"]["fields"].as_object().cloned().unwrap_or_else(Map::new),
        severity: text(&action["severity"]),
        area: text(&action["area"]),
        helpdesk: match origin {
            Origin::Api => None,
            Origin::Helpdesk(ticket) => Some(ticket.clone()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use routec_connectors::sink::ActionsFile;
    use serde_json::json;
    use std::time::Duration;

    fn actions() -> Actions {
        let file: ActionsFile = toml::from_str(
            r##"
            ticket_url = "https://acme.zendesk.com/agent/tickets/{ticket_id}"
            [slack]
            bot_token = "xoxb-1"
            [jira]
            api_url = "https://acme.atlassian.net"
            email = "bot@acme.example"
            api_token = "t"
            "##,
        )
        .expect("actions parse");
        Actions::from_file(&file, &|_| None, Duration::from_secs(60)).expect("actions build")
    }

    fn decision(mode: &str) -> Value {
        json!({
            "ticket_id": "4711",
            "destination": { "name": "legal" },
            "priority": "P1",
            "escalation": { "name": "legal_threat", "reason": "subject has legal_words" },
            "mode": mode,
            "handoff": { "fields": { "customer.email": "[redacted]" } },
            "actions": [
                { "kind": "notify", "channel": "slack", "target": "#legal" },
                { "kind": "notify", "channel": "email", "target": "legal@acme.example" },
                { "kind": "create_issue", "tracker": "jira", "project": "LEGAL", "severity": "high", "area": "contracts" },
                { "kind": "tag", "tag": "legal" }
            ]
        })
    }

    #[test]
    fn configured_actions_become_rows_with_a_key_each() {
        let origin = Origin::Helpdesk(HelpdeskTicket { helpdesk: "zendesk".into(), ticket_id: "4711".into() });
        let items =
            outbox_items(&actions(), &decision("enforce"), &json!({ "subject": "Sue" }), "ticket:4711:h", &origin);
        let kinds: Vec<(&str, &str)> = items.iter().map(|item| (item.kind.as_str(), item.target.as_str())).collect();
        assert_eq!(kinds, vec![("slack", "#legal"), ("jira", "LEGAL")], "e-mail has no sink, tags are write-back");
        assert_eq!(items[0].idempotency_key.as_deref(), Some("ticket:4711:h#0:slack"));
        assert_eq!(items[1].idempotency_key.as_deref(), Some("ticket:4711:h#2:jira"));
        assert_eq!(
            items[1].payload,
            json!({
                "ticket_id": "4711",
                "ticket_url": "https://acme.zendesk.com/agent/tickets/4711",
                "subject": "Sue",
                "destination": "legal",
                "priority": "P1",
                "escalation": "legal_threat",
                "reason": "subject has legal_words",
                "handoff": { "customer.email": "[redacted]" },
                "severity": "high",
                "area": "contracts",
                "helpdesk": { "helpdesk": "zendesk", "ticket_id": "4711" }
            })
        );
    }

    #[test]
    fn shadow_decisions_and_unconfigured_services_cause_nothing() {
        assert!(outbox_items(&actions(), &decision("shadow"), &json!({}), "k", &Origin::Api).is_empty());
        assert!(outbox_items(&Actions::default(), &decision("enforce"), &json!({}), "k", &Origin::Api).is_empty());
    }

    #[test]
    fn the_reason_is_the_last_matching_rule_without_an_escalation() {
        let decision = json!({ "trace": [
            { "stage": "priority", "name": "P1", "matched": true },
            { "stage": "rule", "name": "invoices", "matched": true },
            { "stage": "rule", "name": "maybe", "matched": true, "shadow": true }
        ] });
        assert_eq!(reason(&decision).as_deref(), Some("rule `invoices`"));
    }
}
