//! The helpdesks' outbound HTTP: one client (rustls, no redirects, bounded
//! timeouts), JSON reads that turn every failure into a [`HelpdeskError`],
//! and the answer of a write-back request classified as a
//! [`DeliveryOutcome`] (2xx delivered; 408, 429 and 5xx retried, honouring
//! a bounded `Retry-After`; other 4xx failed for good).
//!
//! A private equivalent of the shared `connectors/src/http.rs` the action
//! sinks bring; the two are meant to be unified when both are merged.

use super::HelpdeskError;
use crate::DeliveryOutcome;
use serde_json::Value;
use std::time::Duration;

/// A whole request, connection included, may take this long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `Retry-After` honoured; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);
/// How much of an error body is kept in a message.
const ERROR_BODY_CHARS: usize = 300;

/// The HTTP client every helpdesk connector uses.
pub fn http_client() -> Result<reqwest::Client, HelpdeskError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("routec/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| HelpdeskError::Unreachable(format!("cannot build the HTTP client: {e}")))
}

/// Send a request and read its JSON answer; a non-2xx answer is an error
/// with the status and the start of the body.
pub async fn json(request: reqwest::RequestBuilder, what: &str) -> Result<Value, HelpdeskError> {
    let response = request.send().await.map_err(|e| HelpdeskError::Unreachable(format!("{what}: {}", plain(e))))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(HelpdeskError::Unreachable(format!("{what}: HTTP {status}: {}", excerpt(&body))));
    }
    response.json::<Value>().await.map_err(|e| HelpdeskError::Payload(format!("{what}: the answer is not JSON: {e}")))
}

/// Send a write-back request and classify its answer.
pub async fn deliver(request: reqwest::RequestBuilder, what: &str) -> DeliveryOutcome {
    match request.send().await {
        Err(e) => DeliveryOutcome::RetryLater { error: format!("{what}: {}", plain(e)), retry_after: None },
        Ok(response) => {
            let status = response.status();
            let retry_after = retry_after(response.headers());
            let body = response.text().await.unwrap_or_default();
            classify(status.as_u16(), retry_after, &body, what)
        }
    }
}

/// What a status means for a delivery.
pub fn classify(status: u16, retry_after: Option<Duration>, body: &str, what: &str) -> DeliveryOutcome {
    match status {
        200..=299 => DeliveryOutcome::Delivered {
            receipt: serde_json::from_str::<Value>(body).map(|v| receipt(&v)).unwrap_or(Value::Null),
        },
        408 | 429 | 500..=599 => {
            DeliveryOutcome::RetryLater { error: format!("{what}: HTTP {status}: {}", excerpt(body)), retry_after }
        }
        _ => DeliveryOutcome::Failed { error: format!("{what}: HTTP {status}: {}", excerpt(body)) },
    }
}

/// What is worth keeping of a vendor's answer: the ids it gives back.
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

/// `Retry-After` in seconds (the form Zendesk, Freshdesk and Intercom
/// send), bounded by [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

fn excerpt(body: &str) -> String {
    let trimmed = body.trim();
    match trimmed.char_indices().nth(ERROR_BODY_CHARS) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_string(),
    }
}

/// A transport error without its URL (no credential is ever in a URL here,
/// but searches and ticket ids are not worth logging twice).
fn plain(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    format!("{kind}: {}", error.without_url())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        assert_eq!(
            classify(200, None, r#"{"ticket": {"id": 7, "subject": "x"}}"#, "PUT"),
            DeliveryOutcome::Delivered { receipt: serde_json::json!({"id": 7}) }
        );
        assert!(matches!(
            classify(429, Some(Duration::from_secs(30)), "slow down", "PUT"),
            DeliveryOutcome::RetryLater { retry_after: Some(d), .. } if d == Duration::from_secs(30)
        ));
        assert!(matches!(classify(503, None, "", "PUT"), DeliveryOutcome::RetryLater { retry_after: None, .. }));
        assert!(matches!(classify(422, None, "{\"error\": \"RecordInvalid\"}", "PUT"), DeliveryOutcome::Failed { .. }));
    }

    #[test]
    fn retry_after_is_bounded() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, reqwest::header::HeaderValue::from_static("86400"));
        assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER));
        headers.insert(reqwest::header::RETRY_AFTER, reqwest::header::HeaderValue::from_static("12"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(12)));
    }
}
