//! The outbound HTTP client every connector uses, and how a vendor's answer
//! becomes a [`DeliveryOutcome`].
//!
//! One builder ([`client`]) so that every connector gets the same rules:
//! rustls, redirects never followed (a 3xx is an answer, not a hop to a host
//! the config did not name), a connect timeout and a whole-request timeout.
//! One classifier ([`classify`]) so that every connector retries alike: 2xx
//! delivered; 408, 429, 5xx, timeouts and connection failures retried (not
//! before a bounded `Retry-After`, in seconds or as an HTTP-date); any other
//! status a permanent failure. Error texts never carry a URL (a Slack
//! webhook URL is a secret) and cut the vendor's body short.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

use crate::delivery::DeliveryOutcome;

/// Most of a response body a connector reads; the rest is not read.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// How much of a vendor's error body goes into `last_error`.
const ERROR_BODY_CHARS: usize = 300;

/// Timeouts and bounds of the outbound client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpOptions {
    /// Until the TCP (and TLS) connection is up.
    pub connect_timeout: Duration,
    /// The whole request, reading the answer included.
    pub request_timeout: Duration,
    /// The longest `Retry-After` honoured: a vendor asking for more is
    /// retried after this long (the worker's dead-letter count still bounds
    /// the attempts).
    pub max_retry_after: Duration,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(15 * 60),
        }
    }
}

/// Why the client could not be built (TLS initialisation).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct ClientError(String);

/// The outbound client: rustls, no redirects, the given timeouts.
pub fn client(options: &HttpOptions) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        .user_agent(concat!("routec/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| ClientError(error.without_url().to_string()))
}

/// A vendor's answer, read (up to [`MAX_RESPONSE_BYTES`]).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as received.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The beginning of the body as text, for an error message.
    pub fn excerpt(&self) -> String {
        excerpt(&String::from_utf8_lossy(&self.body))
    }
}

/// Sends a request and reads the answer. `Ok` for any status the vendor
/// answered with (the caller decides with [`classify`] or its own rules);
/// `Err` with the outcome when no answer came (timeout, connection refused).
/// `vendor` names who was called, for the error text.
pub async fn send(request: reqwest::RequestBuilder, vendor: &str) -> Result<Answer, DeliveryOutcome> {
    let mut response = request.send().await.map_err(|error| transport_outcome(vendor, &error))?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_RESPONSE_BYTES.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= MAX_RESPONSE_BYTES {
                    break;
                }
            }
            Ok(None) => break,
            Err(error) => return Err(transport_outcome(vendor, &error)),
        }
    }
    Ok(Answer { status, headers, body })
}

/// Sends a request and classifies the answer: `Ok` with the answer on a
/// 2xx, `Err` with the retry or failure outcome otherwise.
pub async fn send_expecting_success(
    request: reqwest::RequestBuilder,
    vendor: &str,
    max_retry_after: Duration,
) -> Result<Answer, DeliveryOutcome> {
    let answer = send(request, vendor).await?;
    match classify(vendor, answer.status, &answer.headers, &answer.excerpt(), Timestamp::now(), max_retry_after) {
        None => Ok(answer),
        Some(outcome) => Err(outcome),
    }
}

/// What a status means for a delivery: `None` for a 2xx (the caller builds
/// the receipt), otherwise the retry or the failure. `now` is the time an
/// HTTP-date `Retry-After` is measured from.
pub fn classify(
    vendor: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body_excerpt: &str,
    now: Timestamp,
    max_retry_after: Duration,
) -> Option<DeliveryOutcome> {
    if status.is_success() {
        return None;
    }
    let error = if body_excerpt.is_empty() {
        format!("{vendor} answered {status}")
    } else {
        format!("{vendor} answered {status}: {body_excerpt}")
    };
    let transient =
        status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT || status.is_server_error();
    if transient {
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, now))
            .map(|delay| delay.min(max_retry_after));
        Some(DeliveryOutcome::RetryLater { error, retry_after })
    } else {
        Some(DeliveryOutcome::Failed { error })
    }
}

/// `Retry-After` as seconds (`120`) or as an HTTP-date (`Wed, 21 Oct 2015
/// 07:28:00 GMT`, RFC 9110 §10.2.3); a date in the past means now. `None`
/// when it is neither.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(value).ok()?;
    let ahead = at.duration_since(now);
    Some(Duration::try_from(ahead).unwrap_or(Duration::ZERO))
}

/// No answer came: a timeout or a connection failure is worth a retry; a
/// request that could not even be built is not.
pub fn transport_outcome(vendor: &str, error: &reqwest::Error) -> DeliveryOutcome {
    let error_text = error_chain(error);
    if error.is_builder() {
        DeliveryOutcome::Failed { error: format!("cannot build the request to {vendor}: {error_text}") }
    } else if error.is_timeout() {
        DeliveryOutcome::RetryLater {
            error: format!("{vendor} did not answer in time: {error_text}"),
            retry_after: None,
        }
    } else {
        DeliveryOutcome::RetryLater { error: format!("cannot reach {vendor}: {error_text}"), retry_after: None }
    }
}

/// The error and its causes, without the URL (which may hold a secret).
fn error_chain(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = String::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = error.source();
    while let Some(current) = cause {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&current.to_string());
        cause = current.source();
    }
    if text.is_empty() {
        text = error.to_string();
        if let Some(url) = error.url() {
            text = text.replace(url.as_str(), "[url]");
        }
    }
    excerpt(&text)
}

/// At most 300 characters of `text`, on one line.
pub fn excerpt(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(ERROR_BODY_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn now() -> Timestamp {
        "2026-01-07T15:00:00Z".parse().expect("a time")
    }

    fn headers(retry_after: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(value));
        }
        headers
    }

    fn outcome(status: u16, retry_after: Option<&'static str>) -> Option<DeliveryOutcome> {
        let status = StatusCode::from_u16(status).expect("a status");
        classify("Slack", status, &headers(retry_after), "", now(), Duration::from_secs(600))
    }

    #[test]
    fn success_is_left_to_the_caller() {
        assert_eq!(outcome(200, None), None);
        assert_eq!(outcome(201, None), None);
        assert_eq!(outcome(204, None), None);
    }

    #[test]
    fn rate_limits_and_server_errors_are_retried() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(
                matches!(outcome(status, None), Some(DeliveryOutcome::RetryLater { retry_after: None, .. })),
                "{status} is retried"
            );
        }
    }

    #[test]
    fn other_client_errors_and_redirects_fail() {
        for status in [301, 302, 400, 401, 403, 404, 409, 422] {
            assert!(matches!(outcome(status, None), Some(DeliveryOutcome::Failed { .. })), "{status} fails");
        }
    }

    #[test]
    fn retry_after_in_seconds_is_honoured_and_bounded() {
        assert_eq!(
            outcome(429, Some("30")),
            Some(DeliveryOutcome::RetryLater {
                error: "Slack answered 429 Too Many Requests".into(),
                retry_after: Some(Duration::from_secs(30)),
            })
        );
        let Some(DeliveryOutcome::RetryLater { retry_after, .. }) = outcome(503, Some("86400")) else {
            panic!("a 503 is retried");
        };
        assert_eq!(retry_after, Some(Duration::from_secs(600)), "bounded by max_retry_after");
    }

    #[test]
    fn retry_after_as_an_http_date() {
        assert_eq!(parse_retry_after("Wed, 07 Jan 2026 15:02:00 GMT", now()), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 07 Jan 2026 14:00:00 GMT", now()), Some(Duration::ZERO), "past");
        assert_eq!(parse_retry_after("soon", now()), None);
        assert_eq!(parse_retry_after("-5", now()), None);
        let Some(DeliveryOutcome::RetryLater { retry_after, .. }) = outcome(429, Some("Wed, 07 Jan 2026 15:00:45 GMT"))
        else {
            panic!("a 429 is retried");
        };
        assert_eq!(retry_after, Some(Duration::from_secs(45)));
    }

    #[test]
    fn an_unreadable_retry_after_is_ignored() {
        assert!(matches!(outcome(429, Some("later")), Some(DeliveryOutcome::RetryLater { retry_after: None, .. })));
    }

    #[test]
    fn error_texts_are_one_short_line() {
        let long = "x ".repeat(1000);
        let cut = excerpt(&long);
        assert!(cut.chars().count() <= ERROR_BODY_CHARS + 1);
        assert!(!cut.contains('\n'));
        assert_eq!(excerpt("a\n  b"), "a b");
    }

    #[tokio::test]
    async fn a_refused_connection_is_retried_without_the_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        drop(listener);
        let client = client(&HttpOptions::default()).expect("client");
        let secret_url = format!("http://127.0.0.1:{port}/services/T000/B000/SECRET");
        let outcome = send(client.post(&secret_url), "Slack").await.expect_err("nobody listens");
        let DeliveryOutcome::RetryLater { error, .. } = outcome else { panic!("retried: {outcome:?}") };
        assert!(!error.contains("SECRET"), "{error}");
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        use wiremock::matchers::method;
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(302).insert_header("location", "http://169.254.169.254/"))
            .expect(1)
            .mount(&server)
            .await;
        let client = client(&HttpOptions::default()).expect("client");
        let outcome = send_expecting_success(client.post(server.uri()), "Jira", Duration::from_secs(60))
            .await
            .expect_err("a redirect is not a success");
        assert!(matches!(outcome, DeliveryOutcome::Failed { .. }), "{outcome:?}");
    }
}
