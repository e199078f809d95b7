//! `notify slack "#channel"`: a message with the ticket link, priority,
//! reason and handoff fields, sent with the Web API's `chat.postMessage`
//! and a bot token, or to an incoming-webhook URL configured for the
//! channel (a webhook wins for its channel).
//!
//! - `chat.postMessage`: <https://docs.slack.dev/reference/methods/chat.postMessage>
//!   (`POST {api_url}/chat.postMessage`, `Authorization: Bearer xoxb-…`,
//!   JSON body; HTTP 200 with `{"ok": false, "error": …}` on failure, and
//!   `ratelimited` / HTTP 429 with `Retry-After` on rate limits:
//!   <https://docs.slack.dev/apis/web-api/rate-limits>).
//! - Incoming webhooks: <https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks>
//!   (`POST` of `{"text": …}` to the secret URL; `ok` on success).
//!
//! Slack has no idempotency key: a message whose answer was lost is sent
//! again on retry.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{base_url, config_error, ActionsConfigError, Notice, SLACK};
use crate::delivery::{BoxFuture, Delivery, DeliveryOutcome, Sink};
use crate::http::{self, HttpOptions};
use crate::secret::{Secret, SecretSource};

const DEFAULT_API_URL: &str = "https://slack.com/api";

/// Web API errors worth a retry (the rest — `channel_not_found`,
/// `not_in_channel`, `invalid_auth`… — need an operator).
const TRANSIENT_ERRORS: &[&str] =
    &["ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"];

/// `[actions.slack]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackFile {
    /// The Web API's base URL (default `https://slack.com/api`).
    pub api_url: Option<String>,
    /// A bot token (`xoxb-…`) with `chat:write`.
    pub bot_token: Option<SecretSource>,
    /// Channel (as the policy writes it, `#legal`) → incoming-webhook URL.
    #[serde(default)]
    pub webhooks: BTreeMap<String, SecretSource>,
}

/// Delivers `slack` outbox rows.
pub struct SlackSink {
    client: reqwest::Client,
    api_url: String,
    bot_token: Option<Secret>,
    webhooks: BTreeMap<String, Secret>,
    max_retry_after: Duration,
}

impl SlackSink {
    /// Builds the sink; at least a bot token or one webhook is required.
    pub fn from_file(
        file: &SlackFile,
        env: &dyn Fn(&str) -> Option<String>,
        options: &HttpOptions,
    ) -> Result<SlackSink, ActionsConfigError> {
        let api_url = base_url("actions.slack.api_url", file.api_url.as_deref().unwrap_or(DEFAULT_API_URL))?;
        let bot_token = file
            .bot_token
            .as_ref()
            .map(|source| source.resolve(env))
            .transpose()
            .map_err(|reason| config_error("actions.slack.bot_token", reason))?;
        let mut webhooks = BTreeMap::new();
        for (channel, source) in &file.webhooks {
            let setting = format!("actions.slack.webhooks.\"{channel}\"");
            let url = source.resolve(env).map_err(|reason| config_error(&setting, reason))?;
            // The URL is a secret: the error must not quote it.
            if reqwest::Url::parse(url.expose()).map_or(true, |parsed| !matches!(parsed.scheme(), "https" | "http")) {
                return Err(config_error(&setting, "is not an http(s) URL"));
            }
            webhooks.insert(channel.clone(), url);
        }
        if bot_token.is_none() && webhooks.is_empty() {
            return Err(config_error("actions.slack", "needs a `bot_token` or at least one entry in `webhooks`"));
        }
        let client = http::client(options).map_err(|error| config_error("actions.slack", error.to_string()))?;
        Ok(SlackSink { client, api_url, bot_token, webhooks, max_retry_after: options.max_retry_after })
    }

    async fn post(&self, delivery: Delivery<'_>) -> DeliveryOutcome {
        let notice = match Notice::from_payload(delivery.payload) {
            Ok(notice) => notice,
            Err(error) => return DeliveryOutcome::Failed { error },
        };
        let text = message_text(&notice);
        if let Some(webhook) = self.webhooks.get(delivery.target) {
            let request = self.client.post(webhook.expose()).json(&json!({ "text": text }));
            return match http::send_expecting_success(request, "the Slack webhook", self.max_retry_after).await {
                Ok(_) => DeliveryOutcome::Delivered { receipt: json!({ "channel": delivery.target }) },
                Err(outcome) => outcome,
            };
        }
        let Some(token) = &self.bot_token else {
            return DeliveryOutcome::Failed {
                error: format!("no Slack webhook for `{}` and no bot token configured", delivery.target),
            };
        };
        let body = json!({ "channel": delivery.target, "text": text, "unfurl_links": false, "unfurl_media": false });
        let request =
            self.client.post(format!("{}/chat.postMessage", self.api_url)).bearer_auth(token.expose()).json(&body);
        let answer = match http::send_expecting_success(request, "Slack", self.max_retry_after).await {
            Ok(answer) => answer,
            Err(outcome) => return outcome,
        };
        let reply = answer.json();
        if reply["ok"] == true {
            return DeliveryOutcome::Delivered { receipt: json!({ "channel": reply["channel"], "ts": reply["ts"] }) };
        }
        let code = reply["error"].as_str().unwrap_or("an unreadable answer");
        let error = format!("Slack refused the message to `{}`: {code}", delivery.target);
        if TRANSIENT_ERRORS.contains(&code) {
            let retry_after = answer
                .headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| http::parse_retry_after(value, jiff::Timestamp::now()))
                .map(|delay| delay.min(self.max_retry_after));
            DeliveryOutcome::RetryLater { error, retry_after }
        } else {
            DeliveryOutcome::Failed { error }
        }
    }
}

impl Sink for SlackSink {
    fn kinds(&self) -> &[&'static str] {
        &[SLACK]
    }

    fn deliver<'a>(&'a self, delivery: Delivery<'a>) -> BoxFuture<'a, DeliveryOutcome> {
        Box::pin(self.post(delivery))
    }
}

/// Slack's `mrkdwn` needs `&`, `<` and `>` escaped
/// (<https://docs.slack.dev/messaging/formatting-message-text#escaping>).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The message: a bold title linking to the ticket, then one line per fact.
pub fn message_text(notice: &Notice) -> String {
    let title = escape(&notice.title());
    let mut text = match &notice.ticket_url {
        Some(url) => format!("*<{}|{title}>*", url.replace('|', "%7C").replace('>', "%3E")),
        None => format!("*{title}*"),
    };
    for (label, value) in notice.facts() {
        if label == "Link" {
            continue;
        }
        text.push_str(&format!("\n*{}:* {}", escape(&label), escape(&value)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{body_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn notice() -> serde_json::Value {
        json!({
            "ticket_id": "4711",
            "ticket_url": "https://acme.zendesk.com/agent/tickets/4711",
            "subject": "Our lawyer <will> contact you",
            "destination": "legal",
            "priority": "P1",
            "escalation": "legal_threat",
            "reason": "subject has legal_words",
            "handoff": { "customer.email": "ana@example.com" }
        })
    }

    fn delivery<'a>(payload: &'a serde_json::Value, target: &'a str) -> Delivery<'a> {
        Delivery {
            id: "obx_1",
            decision_id: "dec_1",
            kind: SLACK,
            target,
            payload,
            idempotency_key: Some("k"),
            attempt: 1,
        }
    }

    fn sink(file: SlackFile) -> SlackSink {
        let env = |name: &str| (name == "SLACK_BOT_TOKEN").then(|| "xoxb-test-token".to_owned());
        SlackSink::from_file(&file, &env, &HttpOptions::default()).expect("a valid slack config")
    }

    fn bot(server: &MockServer) -> SlackSink {
        sink(SlackFile {
            api_url: Some(format!("{}/api", server.uri())),
            bot_token: Some(SecretSource::Env { env: "SLACK_BOT_TOKEN".into() }),
            webhooks: BTreeMap::new(),
        })
    }

    const EXPECTED_TEXT: &str = "*<https://acme.zendesk.com/agent/tickets/4711|Ticket 4711: Our lawyer &lt;will&gt; contact you → legal (P1)>*\n\
         *Ticket:* 4711\n*Subject:* Our lawyer &lt;will&gt; contact you\n*Destination:* legal\n*Priority:* P1\n\
         *Escalation:* legal_threat\n*Reason:* subject has legal_words\n*customer.email:* ana@example.com";

    // https://docs.slack.dev/reference/methods/chat.postMessage: POST, bearer
    // bot token, JSON body with `channel` and `text`; `ok`, `channel`, `ts`.
    #[tokio::test]
    async fn posts_with_the_bot_token() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/chat.postMessage"))
            .and(header("authorization", "Bearer xoxb-test-token"))
            .and(body_json(json!({
                "channel": "#legal-escalations",
                "text": EXPECTED_TEXT,
                "unfurl_links": false,
                "unfurl_media": false
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "ok": true, "channel": "C123ABC456", "ts": "1503435956.000247"
            })))
            .expect(1)
            .mount(&server)
            .await;
        let payload = notice();
        let outcome = bot(&server).deliver(delivery(&payload, "#legal-escalations")).await;
        assert_eq!(
            outcome,
            DeliveryOutcome::Delivered { receipt: json!({ "channel": "C123ABC456", "ts": "1503435956.000247" }) }
        );
    }

    #[tokio::test]
    async fn ok_false_is_a_failure_and_ratelimited_a_retry() {
        let server = MockServer::start().await;
        Mock::given(path("/api/chat.postMessage"))
            .and(body_json_channel("#nowhere"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({ "ok": false, "error": "channel_not_found" })),
            )
            .mount(&server)
            .await;
        Mock::given(path("/api/chat.postMessage"))
            .and(body_json_channel("#busy"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("retry-after", "7")
                    .set_body_json(json!({ "ok": false, "error": "ratelimited" })),
            )
            .mount(&server)
            .await;
        let sink = bot(&server);
        let payload = notice();
        assert_eq!(
            sink.deliver(delivery(&payload, "#nowhere")).await,
            DeliveryOutcome::Failed { error: "Slack refused the message to `#nowhere`: channel_not_found".into() }
        );
        assert_eq!(
            sink.deliver(delivery(&payload, "#busy")).await,
            DeliveryOutcome::RetryLater {
                error: "Slack refused the message to `#busy`: ratelimited".into(),
                retry_after: Some(Duration::from_secs(7)),
            }
        );
    }

    #[tokio::test]
    async fn http_429_is_retried_after_its_retry_after() {
        let server = MockServer::start().await;
        Mock::given(path("/api/chat.postMessage"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
            .mount(&server)
            .await;
        let payload = notice();
        let outcome = bot(&server).deliver(delivery(&payload, "#legal")).await;
        assert!(
            matches!(outcome, DeliveryOutcome::RetryLater { retry_after: Some(delay), .. } if delay == Duration::from_secs(30)),
            "{outcome:?}"
        );
    }

    // https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks:
    // POST `{"text": …}` to the webhook URL; the body `ok` means delivered.
    #[tokio::test]
    async fn a_channel_with_a_webhook_uses_it() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/services/T000/B000/XXXX"))
            .and(body_json(json!({ "text": EXPECTED_TEXT })))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .expect(1)
            .mount(&server)
            .await;
        let webhook = format!("{}/services/T000/B000/XXXX", server.uri());
        let sink = sink(SlackFile {
            api_url: None,
            bot_token: None,
            webhooks: BTreeMap::from([("#legal-escalations".to_owned(), SecretSource::Literal(webhook))]),
        });
        let payload = notice();
        let outcome = sink.deliver(delivery(&payload, "#legal-escalations")).await;
        assert_eq!(outcome, DeliveryOutcome::Delivered { receipt: json!({ "channel": "#legal-escalations" }) });
        let other = sink.deliver(delivery(&payload, "#general")).await;
        assert!(matches!(other, DeliveryOutcome::Failed { .. }), "no webhook and no token: {other:?}");
    }

    #[test]
    fn a_config_without_credentials_is_refused() {
        let file = SlackFile { api_url: None, bot_token: None, webhooks: BTreeMap::new() };
        let error = SlackSink::from_file(&file, &|_| None, &HttpOptions::default()).err().expect("refused");
        assert_eq!(error.setting, "actions.slack");
    }

    fn body_json_channel(channel: &'static str) -> impl wiremock::Match {
        move |request: &wiremock::Request| {
            serde_json::from_slice::<serde_json::Value>(&request.body).is_ok_and(|body| body["channel"] == channel)
        }
    }
}
