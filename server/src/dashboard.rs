//! `GET /dashboard`: `routec report` over the last 30 days of this
//! service's decision log, live — the same document (`routec_analytics`)
//! rendered as the same self-contained HTML page, reloading itself every
//! minute. It shows decided tickets (subjects of misrouted examples among
//! them), so it sits behind the `decisions` scope like the decision reads.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use jiff::SignedDuration;
use routec_analytics::render::HtmlOptions;
use routec_analytics::report::{report, Log, ReportOptions};

use crate::error::ApiError;
use crate::state::Shared;

/// The period the dashboard covers, ending now.
pub const PERIOD: SignedDuration = SignedDuration::from_hours(30 * 24);
/// How often the page reloads itself.
pub const REFRESH_SECONDS: u32 = 60;

/// The handler.
pub async fn dashboard(State(state): State<Shared>) -> Result<Response, ApiError> {
    let now = state.now();
    let since = now.checked_sub(PERIOD).unwrap_or(now);
    // The store's window is [from, to): a decision made at `now` counts.
    let end = now.checked_add(SignedDuration::from_millis(1)).unwrap_or(now);
    let log = Log::from_store(&state.store, since, end).await.map_err(ApiError::store)?;
    let policy = state.policy.info();
    let source = format!("routec serve · policy {} v{}", policy.name, policy.version);
    // Joining and sorting a month of decisions is CPU work: off the async workers.
    let page = tokio::task::spawn_blocking(move || {
        let mut options = ReportOptions::new(source, now);
        options.since = Some(since);
        let footer = format!("routec serve · as of {now} · reloads every {REFRESH_SECONDS} s");
        report(&log, &options).to_html(&HtmlOptions { refresh_seconds: Some(REFRESH_SECONDS), footer: Some(footer) })
    })
    .await
    .map_err(|e| failed(&e))?
    .map_err(|e| failed(&e))?;
    Ok(Html(page).into_response())
}

/// A dashboard that could not be built is this service's fault, not the store's.
fn failed(error: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(error = %error, "dashboard failed");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "dashboard_failed", "the dashboard could not be built")
}
