//! The helpdesks' side of the shared outbound HTTP ([`crate::http`]): the
//! client with the helpdesks' timeouts (a ticket is read while a webhook
//! waits), JSON reads whose failures become a [`HelpdeskError`], and a
//! write-back request's answer as a [`DeliveryOutcome`] whose receipt keeps
//! the id the helpdesk gave back (the status and `Retry-After` rules are
//! [`crate::http::classify`]'s, the same as every action sink's).

use super::HelpdeskError;
use crate::http::{self, HttpOptions};
use crate::DeliveryOutcome;
use serde_json::Value;
use std::time::Duration;

/// A whole request, connection included, may take this long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP client every helpdesk connector uses.
pub fn http_client() -> Result<reqwest::Client, HelpdeskError> {
    let options = HttpOptions { request_timeout: REQUEST_TIMEOUT, ..HttpOptions::default() };
    http::client(&options).map_err(|e| HelpdeskError::Unreachable(e.to_string()))
}

/// Send a request and read its JSON answer; a non-2xx answer is an error
/// with the status and the start of the body.
pub async fn json(request: reqwest::RequestBuilder, what: &str) -> Result<Value, HelpdeskError> {
    let answer = http::send_expecting_success(request, what, HttpOptions::default().max_retry_after)
        .await
        .map_err(|outcome| HelpdeskError::Unreachable(outcome_error(outcome)))?;
    serde_json::from_slice(&answer.body)
        .map_err(|e| HelpdeskError::Payload(format!("{what}: the answer is not JSON: {e}")))
}

/// Send a write-back request and classify its answer.
pub async fn deliver(request: reqwest::RequestBuilder, what: &str) -> DeliveryOutcome {
    match http::send_expecting_success(request, what, HttpOptions::default().max_retry_after).await {
        Ok(answer) => DeliveryOutcome::Delivered { receipt: receipt(&answer.json()) },
        Err(outcome) => outcome,
    }
}

fn outcome_error(outcome: DeliveryOutcome) -> String {
    match outcome {
        DeliveryOutcome::RetryLater { error, .. } | DeliveryOutcome::Failed { error } => error,
        DeliveryOutcome::Delivered { .. } => "delivered".to_string(),
    }
}

/// What is worth keeping of a helpdesk's answer: the id it gives back.
fn receipt(answer: &Value) -> Value {
    let pick = |v: &Value| -> Option<Value> {
        let id = v.get("id")?.clone();
        Some(serde_json::json!({ "id": id }))
    };
    ["ticket", "conversation", "note"]
        .iter()
        .find_map(|k| answer.get(k).and_then(pick))
        .or_else(|| pick(answer))
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_receipt_is_the_id_the_helpdesk_gave_back() {
        assert_eq!(receipt(&json!({"ticket": {"id": 7, "subject": "x"}})), json!({"id": 7}));
        assert_eq!(receipt(&json!({"type": "conversation", "id": "147"})), json!({"id": "147"}));
        assert_eq!(receipt(&json!({"ok": true})), Value::Null);
        assert_eq!(receipt(&Value::Null), Value::Null);
    }
}
