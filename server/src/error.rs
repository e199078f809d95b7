//! The one error shape of the API: `{"error": {"code", "message", …}}` with
//! the right status. Handlers, extractors and the limit layers all answer
//! through [`ApiError`], and the response carries its code as an extension so
//! the metrics layer can count rejected requests by reason.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// A refused or failed request.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, machine-readable: `invalid_ticket`, `unauthorized`, ….
    pub code: &'static str,
    pub message: String,
    /// Extra members of the `error` object (`path`, `expected`, `found`, …).
    pub details: Map<String, Value>,
}

/// The error code of a response, for the rejected-requests metric.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), details: Map::new() }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> ApiError {
        self.details.insert(key.to_string(), value.into());
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// The store failed; the request may be retried (idempotency makes that safe).
    pub fn store(err: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %err, "decision store error");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the decision log cannot be written or read; retry later",
        )
    }

    /// A ticket the policy's schema refuses, with the field path.
    pub fn invalid_ticket(e: &routec_runtime::TicketError) -> ApiError {
        ApiError::bad_request("invalid_ticket", e.to_string())
            .with("path", e.path.clone())
            .with("expected", e.expected.clone())
            .with("found", e.found.clone())
    }

    /// The body of the response, without the status.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), Value::from(self.code));
        error.insert("message".into(), Value::from(self.message.clone()));
        for (k, v) in &self.details {
            error.insert(k.clone(), v.clone());
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert("www-authenticate", HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status.as_u16(), self.code, self.message)
    }
}
