//! The issue's end-to-end scenario on the real `routec serve` binary: the
//! example policy with its sample config (`examples/saas-b2b/routec.toml`)
//! pointed at a fake Zendesk on 127.0.0.1 (a small HTTP/1.1 server in this
//! file that records every request), and a signed webhook for the
//! example's legal-threat ticket.
//!
//! Still to add when the outbox delivery worker (issue 14's actions half,
//! `server/src/delivery.rs`) is in the binary: wait (bounded) for the one
//! `PUT /api/v2/tickets/35436.json` with the legal group and `urgent`, the
//! Slack message and the e-mail, and check none repeats after the
//! redelivery. The in-process test `server/tests/webhooks.rs` checks the
//! write-back by draining the outbox through the Zendesk sink.

use super::server::{Backend, Server, Site, TOKEN};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "e2e-zendesk-signing-secret";
const ROUTE: &str = r#"{"ticket_id": "35436", "event": "created"}"#;

/// One request the fake Zendesk received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
}

/// A fake Zendesk: the legal-threat ticket, updates, search counts.
struct FakeZendesk {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeZendesk {
    fn start() -> FakeZendesk {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve_connection(stream, &log));
            }
        });
        FakeZendesk { url, seen }
    }

    fn requests(&self, method: &str, path: &str) -> Vec<Seen> {
        let seen = self.seen.lock().map(|s| s.clone()).unwrap_or_default();
        seen.into_iter().filter(|s| s.method == method && s.path.split('?').next() == Some(path)).collect()
    }
}

fn serve_connection(stream: TcpStream, log: &Mutex<Vec<Seen>>) {
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
        let answer = match (method.as_str(), path.split('?').next().unwrap_or("")) {
            ("GET", "/api/v2/tickets/35436.json") => Some(legal_ticket()),
            ("PUT", "/api/v2/tickets/35436.json") => Some(json!({"ticket": {"id": 35436}})),
            ("GET", "/api/v2/search/count.json") => Some(json!({"count": 0})),
            _ => None,
        };
        if let Ok(mut seen) = log.lock() {
            seen.push(Seen { method, path, authorization });
        }
        let (status, text) = match answer {
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

/// The site with the sample config, its Zendesk URL pointed at the fake.
fn start(zendesk: &FakeZendesk) -> (Site, Server) {
    let site = Site::new(&Backend::Sqlite);
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/saas-b2b/routec.toml");
    let config = std::fs::read_to_string(sample).expect("the sample config");
    let config = config.replace("https://acme.zendesk.com", &zendesk.url);
    std::fs::write(site.path().join("routec.toml"), config).expect("write the config");
    let server = Server::start_with(
        &site,
        &[
            ("ROUTEC_OPS_TOKEN", "e2e-ops-token"),
            ("ZENDESK_API_TOKEN", "e2e-zendesk-api-token"),
            ("ZENDESK_WEBHOOK_SECRET", SECRET),
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
    let zendesk = FakeZendesk::start();
    let (_site, server) = start(&zendesk);
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
