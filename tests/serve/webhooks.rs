//! The issue's end-to-end scenario on the real `routec serve` binary: the
//! example policy with its sample config (`examples/saas-b2b/routec.toml`)
//! pointed at fakes on 127.0.0.1 made here (a small HTTP/1.1 server that
//! records every request, acting as Zendesk and as Slack's Web API, and an
//! SMTP listener that records every message), and signed webhooks for the
//! example's legal-threat ticket: one decision, a forged webhook refused;
//! then, with the outbox worker delivering, exactly one write-back `PUT`,
//! one Slack message and one e-mail, none repeated after a redelivery.

use super::server::{postgres, Backend, Server, Site, TOKEN};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "e2e-zendesk-signing-secret";
const SLACK_TOKEN: &str = "xoxb-e2e-slack-token";
const ROUTE: &str = r#"{"ticket_id": "35436", "event": "created"}"#;
/// The example's `legal_review` group in the sample config.
const LEGAL_GROUP: u64 = 360001000001;
/// Every wait for a delivery is bounded by this.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// After the deliveries, nothing more may arrive for this long (many
/// worker polls at the test's 100ms interval).
const QUIET: Duration = Duration::from_secs(2);

/// One request a fake vendor received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Value,
}

/// How a fake vendor answers: `Some(json)` is 200 with it, `None` is 404.
type Answer = fn(method: &str, path: &str) -> Option<Value>;

/// A fake HTTP vendor on 127.0.0.1 that records every request.
struct FakeVendor {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeVendor {
    fn start(answer: Answer) -> FakeVendor {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve_connection(stream, &log, answer));
            }
        });
        FakeVendor { url, seen }
    }

    fn requests(&self, method: &str, path: &str) -> Vec<Seen> {
        let seen = self.seen.lock().map(|s| s.clone()).unwrap_or_default();
        seen.into_iter().filter(|s| s.method == method && s.path.split('?').next() == Some(path)).collect()
    }
}

fn serve_connection(stream: TcpStream, log: &Mutex<Vec<Seen>>, answer: Answer) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    // Keep-alive: several requests may come on one connection.
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
        let (mut length, mut authorization) = (0usize, None);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "authorization" => authorization = Some(value.trim().to_string()),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length.min(1 << 20)];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let reply = answer(&method, path.split('?').next().unwrap_or(""));
        if let Ok(mut seen) = log.lock() {
            let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
            seen.push(Seen { method, path, authorization, body });
        }
        let (status, text) = match reply {
            Some(v) => ("200 OK", v.to_string()),
            None => ("404 Not Found", "{\"error\": \"RecordNotFound\"}".to_string()),
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// Zendesk: the legal-threat ticket, its update, the search counts.
fn zendesk_answer(method: &str, path: &str) -> Option<Value> {
    match (method, path) {
        ("GET", "/api/v2/tickets/35436.json") => Some(legal_ticket()),
        ("PUT", "/api/v2/tickets/35436.json") => Some(json!({"ticket": {"id": 35436}})),
        ("GET", "/api/v2/search/count.json") => Some(json!({"count": 0})),
        _ => None,
    }
}

/// Slack's Web API: `chat.postMessage` answers `ok` with the message's `ts`
/// (https://docs.slack.dev/reference/methods/chat.postMessage).
fn slack_answer(method: &str, path: &str) -> Option<Value> {
    match (method, path) {
        ("POST", "/api/chat.postMessage") => Some(json!({"ok": true, "channel": "C0LEGAL", "ts": "1764000000.000100"})),
        _ => None,
    }
}

/// One message the fake SMTP server accepted.
#[derive(Clone, Debug)]
struct Mail {
    rcpt_to: Vec<String>,
    data: String,
}

/// A minimal RFC 5321 server on 127.0.0.1 (no TLS, no AUTH: the config
/// says `tls = "none"`, allowed for loopback only) that accepts every
/// message of every session and records it.
struct FakeSmtp {
    port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl FakeSmtp {
    fn start() -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("an address").port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let log = mails.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || smtp_session(stream, &log));
            }
        });
        FakeSmtp { port, mails }
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

fn smtp_session(stream: TcpStream, log: &Mutex<Vec<Mail>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    let mut reply = |text: &str| writer.write_all(text.as_bytes()).is_ok();
    if !reply("220 fake.local ESMTP\r\n") {
        return;
    }
    let mut rcpt_to = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        let upper = line.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250-fake.local\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM:") || upper == "RSET" {
            rcpt_to.clear();
            "250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            rcpt_to.push(line["RCPT TO:".len()..].trim().to_string());
            "250 OK\r\n"
        } else if upper == "DATA" {
            if !reply("354 end with <CRLF>.<CRLF>\r\n") {
                return;
            }
            let mut data = String::new();
            loop {
                let mut data_line = String::new();
                if reader.read_line(&mut data_line).unwrap_or(0) == 0 {
                    return;
                }
                if data_line.trim_end() == "." {
                    break;
                }
                data.push_str(&data_line);
            }
            if let Ok(mut mails) = log.lock() {
                mails.push(Mail { rcpt_to: std::mem::take(&mut rcpt_to), data });
            }
            "250 OK queued\r\n"
        } else if upper == "QUIT" {
            let _ = reply("221 bye\r\n");
            return;
        } else if upper == "NOOP" {
            "250 OK\r\n"
        } else {
            "502 not implemented\r\n"
        };
        if !reply(answer) {
            return;
        }
    }
}

/// The example's legal-threat ticket (T-100149) as Zendesk shows it.
fn legal_ticket() -> Value {
    json!({
        "ticket": {
            "id": 35436, "subject": "Breach of contract",
            "description": "Your downtime last week is a breach of contract. Our attorney will be in touch.",
            "via": {"channel": "email"}, "tags": ["routec_pending"], "created_at": "2026-11-24T15:25:00Z",
            "requester_id": 20978392, "organization_id": 509974
        },
        "users": [{"id": 20978392, "name": "Art Vandelay", "email": "art@vandelay.example"}],
        "organizations": [{"id": 509974, "organization_fields": {"plan": "pro", "seats": 24, "health_score": 33}}]
    })
}

/// The site with the sample config, its Zendesk URL pointed at the fake,
/// and `more` appended (the action sinks' sections).
fn start(backend: &Backend, zendesk: &FakeVendor, more: &str) -> (Site, Server) {
    let site = Site::new(backend);
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/saas-b2b/routec.toml");
    let config = std::fs::read_to_string(sample).expect("the sample config");
    let config = format!("{}\n{more}", config.replace("https://acme.zendesk.com", &zendesk.url));
    std::fs::write(site.path().join("routec.toml"), config).expect("write the config");
    let server = Server::start_with(
        &site,
        &[
            ("ROUTEC_OPS_TOKEN", "e2e-ops-token"),
            ("ZENDESK_API_TOKEN", "e2e-zendesk-api-token"),
            ("ZENDESK_WEBHOOK_SECRET", SECRET),
            ("SLACK_BOT_TOKEN", SLACK_TOKEN),
        ],
    );
    (site, server)
}

/// Signed as Zendesk's page documents: base64(HMAC-SHA256(secret, timestamp ‖ body)).
fn signature(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn deliver(server: &Server, secret: &str, timestamp: &str) -> super::server::Reply {
    let signed = signature(secret, timestamp, ROUTE);
    server.request(
        "POST",
        "/webhooks/zendesk",
        None,
        Some(ROUTE),
        &[("X-Zendesk-Webhook-Signature", &signed), ("X-Zendesk-Webhook-Signature-Timestamp", timestamp)],
    )
}

#[test]
fn a_signed_zendesk_webhook_is_one_decision_and_a_forged_one_nothing() {
    let zendesk = FakeVendor::start(zendesk_answer);
    let (_site, server) = start(&Backend::Sqlite, &zendesk, "");
    let now = jiff::Timestamp::now().to_string();

    // Forged first: nothing is fetched, nothing decided.
    let forged = deliver(&server, "not-the-secret", &now);
    assert_eq!(forged.status, 401, "{}", forged.text);
    assert_eq!(forged.json()["error"]["code"], json!("invalid_webhook_signature"));
    assert!(zendesk.requests("GET", "/api/v2/tickets/35436.json").is_empty());

    let first = deliver(&server, SECRET, &now);
    assert_eq!(first.status, 200, "{}; log:\n{}", first.text, server.log());
    let first = first.json();
    assert_eq!(first["destination"], json!("legal_review"));
    assert_eq!(first["priority"], json!("P1"));
    assert_eq!(first["replayed"], json!(false));
    let fetches = zendesk.requests("GET", "/api/v2/tickets/35436.json");
    assert_eq!(fetches.len(), 1);
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("routec-bot@acme.example/token:e2e-zendesk-api-token")
    );
    assert_eq!(fetches[0].authorization.as_deref(), Some(auth.as_str()));
    assert!(fetches[0].path.ends_with("?include=users,organizations"), "{}", fetches[0].path);

    // Redelivered: the same decision.
    let again = deliver(&server, SECRET, &now);
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json()["decision_id"], first["decision_id"]);
    assert_eq!(again.json()["replayed"], json!(true));
    let decisions = server.request("GET", "/v1/tickets/35436/decisions", Some(TOKEN), None, &[]).json();
    assert_eq!(decisions["decisions"].as_array().map(Vec::len), Some(1), "{decisions:#}");

    let metrics = server.request("GET", "/metrics", None, None, &[]).text;
    assert!(metrics.contains(r#"routec_requests_rejected_total{reason="invalid_webhook_signature"} 1"#), "{metrics}");
}

/// Waits (bounded) until `count()` reaches `wanted`, then returns it.
fn wait_for(what: &str, wanted: usize, count: impl Fn() -> usize, server: &Server) -> usize {
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    loop {
        let n = count();
        if n >= wanted {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {n} of {wanted} after {DELIVERY_TIMEOUT:?}; log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The issue's scenario: the example policy escalates the legal threat to
/// `legal_review` at P1 with `notify slack "#legal-escalations"`, `notify
/// email "legal@acme.example"` and `tag "legal"`; the outbox worker makes
/// the write-back and both notifications exactly once, on both stores.
#[test]
fn the_legal_threat_is_written_back_notified_and_mailed_once_even_when_redelivered() {
    for backend in std::iter::once(Backend::Sqlite).chain(postgres()) {
        legal_threat_end_to_end(&backend);
    }
}

fn legal_threat_end_to_end(backend: &Backend) {
    let zendesk = FakeVendor::start(zendesk_answer);
    let slack = FakeVendor::start(slack_answer);
    let smtp = FakeSmtp::start();
    let actions = format!(
        r#"
[actions]
ticket_url = "https://acme.zendesk.com/agent/tickets/{{ticket_id}}"

[actions.slack]
api_url = "{slack}/api"
bot_token = {{ env = "SLACK_BOT_TOKEN" }}

[actions.email]
host = "127.0.0.1"
port = {port}
tls = "none"
from = "routec <routec@acme.example>"

[delivery]
poll_interval = "100ms"
backoff = "1s"
"#,
        slack = slack.url,
        port = smtp.port
    );
    let (_site, server) = start(backend, &zendesk, &actions);
    let now = jiff::Timestamp::now().to_string();

    let first = deliver(&server, SECRET, &now);
    assert_eq!(first.status, 200, "{}; log:\n{}", first.text, server.log());
    let first = first.json();
    assert_eq!((&first["destination"], &first["priority"]), (&json!("legal_review"), &json!("P1")), "{first:#}");

    // The worker delivers the three rows of the decision's outbox.
    let puts = || zendesk.requests("PUT", "/api/v2/tickets/35436.json").len();
    let messages = || slack.requests("POST", "/api/chat.postMessage").len();
    wait_for("the write-back PUT", 1, puts, &server);
    wait_for("the Slack message", 1, messages, &server);
    wait_for("the e-mail", 1, || smtp.mails().len(), &server);

    // Redelivered (Zendesk retries a webhook it thinks failed): the same decision, no new rows.
    let again = deliver(&server, SECRET, &now);
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json()["decision_id"], first["decision_id"]);
    assert_eq!(again.json()["replayed"], json!(true));
    std::thread::sleep(QUIET);
    assert_eq!(puts(), 1, "write-back PUTs");
    assert_eq!(messages(), 1, "Slack messages");
    assert_eq!(smtp.mails().len(), 1, "e-mails");

    // The write-back: the legal group, urgent, the policy's tag, the gate
    // tag removed, a private comment (https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket).
    let put = &zendesk.requests("PUT", "/api/v2/tickets/35436.json")[0];
    let basic = base64::engine::general_purpose::STANDARD.encode("routec-bot@acme.example/token:e2e-zendesk-api-token");
    assert_eq!(put.authorization.as_deref(), Some(format!("Basic {basic}").as_str()));
    let ticket = &put.body["ticket"];
    assert_eq!(ticket["group_id"], json!(LEGAL_GROUP), "{ticket:#}");
    assert_eq!(ticket["priority"], json!("urgent"));
    assert_eq!(ticket["additional_tags"], json!(["legal"]));
    assert_eq!(ticket["remove_tags"], json!(["routec_pending"]));
    assert_eq!(ticket["comment"]["public"], json!(false));
    let comment = ticket["comment"]["body"].as_str().unwrap_or_default();
    assert!(comment.starts_with("routec: legal_review · priority P1 · escalated by `legal_threat`"), "{comment}");

    // The Slack message (chat.postMessage with the bot token, the policy's channel).
    let message = &slack.requests("POST", "/api/chat.postMessage")[0];
    assert_eq!(message.authorization.as_deref(), Some(format!("Bearer {SLACK_TOKEN}").as_str()));
    assert_eq!(message.body["channel"], json!("#legal-escalations"));
    let text = message.body["text"].as_str().unwrap_or_default();
    assert!(text.contains("Ticket 35436: Breach of contract"), "{text}");
    assert!(text.contains("https://acme.zendesk.com/agent/tickets/35436"), "{text}");
    assert!(text.contains("legal_review") && text.contains("P1"), "{text}");

    // The e-mail, to the policy's address.
    let mail = &smtp.mails()[0];
    assert_eq!(mail.rcpt_to, vec!["<legal@acme.example>".to_string()]);
    assert!(mail.data.contains("legal@acme.example"), "{}", mail.data);
    assert!(mail.data.contains("35436"), "{}", mail.data);

    // Nothing is left to deliver and nothing died.
    for state in ["pending", "dead"] {
        let listed = server.request("GET", &format!("/v1/outbox?state={state}"), Some(TOKEN), None, &[]).json();
        assert_eq!(listed["items"], json!([]), "{state}: {listed:#}");
    }
    let done = server.request("GET", "/v1/outbox?state=done", Some(TOKEN), None, &[]).json();
    let mut kinds: Vec<&str> = done["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["kind"].as_str()).collect())
        .unwrap_or_default();
    kinds.sort_unstable();
    assert_eq!(kinds, vec!["email", "slack", "zendesk.update"], "{done:#}");
}
