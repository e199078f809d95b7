//! `notify email "addr"`: one message per action over SMTP (lettre), with a
//! plain-text and an HTML part (multipart/alternative) built from the same
//! facts, HTML-escaped.
//!
//! Transport security: `tls = "starttls"` (the default: submission port 587,
//! the connection must upgrade before credentials or mail are sent, RFC
//! 3207) or `tls = "none"`, accepted only for a server on the loopback
//! interface (a relay on the same host, or a test's listener). SMTP replies
//! 4xx, timeouts and refused connections are retried; 5xx replies and
//! unparsable addresses fail. The `Message-ID` is derived from the
//! idempotency key, so a repeated delivery is recognisable as one.

use std::net::IpAddr;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use serde::Deserialize;
use serde_json::json;

use super::{config_error, key_digest, ActionsConfigError, Notice, EMAIL};
use crate::delivery::{BoxFuture, Delivery, DeliveryOutcome, Sink};
use crate::http::{excerpt, HttpOptions};
use crate::secret::SecretSource;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS; refused if the server
    /// cannot.
    #[default]
    Starttls,
    /// No encryption: only for a server on 127.0.0.1 / ::1 / localhost.
    None,
}

/// `[actions.email]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailFile {
    /// The SMTP server's host name.
    pub host: String,
    /// Its port (default 587).
    pub port: Option<u16>,
    /// `starttls` (default) or `none` (loopback only).
    #[serde(default)]
    pub tls: SmtpTls,
    /// SMTP AUTH user name.
    pub username: Option<String>,
    /// SMTP AUTH password.
    pub password: Option<SecretSource>,
    /// The sender, e.g. `routec <routec@acme.example>`.
    pub from: String,
}

/// Delivers `email` outbox rows.
pub struct EmailSink {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl EmailSink {
    /// Builds the transport (no connection is made until a delivery).
    pub fn from_file(
        file: &EmailFile,
        env: &dyn Fn(&str) -> Option<String>,
        options: &HttpOptions,
    ) -> Result<EmailSink, ActionsConfigError> {
        let from: Mailbox = file
            .from
            .parse()
            .map_err(|error| config_error("actions.email.from", format!("`{}`: {error}", file.from)))?;
        let mut builder = match file.tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&file.host)
                .map_err(|error| config_error("actions.email.host", error.to_string()))?,
            SmtpTls::None => {
                if !is_loopback(&file.host) {
                    return Err(config_error(
                        "actions.email.tls",
                        format!("`none` is only allowed for a server on this host, not `{}`", file.host),
                    ));
                }
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(file.host.as_str()).port(25)
            }
        };
        if let Some(port) = file.port {
            builder = builder.port(port);
        }
        match (&file.username, &file.password) {
            (Some(user), Some(password)) => {
                let password =
                    password.resolve(env).map_err(|reason| config_error("actions.email.password", reason))?;
                builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
            }
            (None, None) => {}
            _ => return Err(config_error("actions.email", "`username` and `password` go together")),
        }
        let transport = builder.timeout(Some(options.request_timeout)).build();
        Ok(EmailSink { transport, from })
    }

    async fn send(&self, delivery: Delivery<'_>) -> DeliveryOutcome {
        let notice = match Notice::from_payload(delivery.payload) {
            Ok(notice) => notice,
            Err(error) => return DeliveryOutcome::Failed { error },
        };
        let to: Mailbox = match delivery.target.parse() {
            Ok(to) => to,
            Err(error) => {
                return DeliveryOutcome::Failed {
                    error: format!("`{}` is not an e-mail address: {error}", delivery.target),
                }
            }
        };
        let message_id =
            delivery.idempotency_key.map(|key| format!("<{}@{}>", key_digest(key), self.from.email.domain()));
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(notice.title())
            .message_id(message_id.clone())
            .multipart(MultiPart::alternative_plain_html(plain_text(&notice), html(&notice)));
        let message = match message {
            Ok(message) => message,
            Err(error) => return DeliveryOutcome::Failed { error: format!("cannot build the e-mail: {error}") },
        };
        match self.transport.send(message).await {
            Ok(response) => DeliveryOutcome::Delivered {
                receipt: json!({ "to": delivery.target, "message_id": message_id, "reply": response.code().to_string() }),
            },
            Err(error) => {
                let text = excerpt(&format!("the SMTP server refused the e-mail to `{}`: {error}", delivery.target));
                if error.is_permanent() {
                    DeliveryOutcome::Failed { error: text }
                } else {
                    DeliveryOutcome::RetryLater { error: text, retry_after: None }
                }
            }
        }
    }
}

impl Sink for EmailSink {
    fn kinds(&self) -> &[&'static str] {
        &[EMAIL]
    }

    fn deliver<'a>(&'a self, delivery: Delivery<'a>) -> BoxFuture<'a, DeliveryOutcome> {
        Box::pin(self.send(delivery))
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The plain-text body: the title, then `Label: value` lines.
pub fn plain_text(notice: &Notice) -> String {
    let mut text = notice.title();
    text.push_str("\n\n");
    for (label, value) in notice.facts() {
        text.push_str(&format!("{label}: {value}\n"));
    }
    text.push_str("\n-- \nSent by routec for the routing decision above.\n");
    text
}

/// HTML with every ticket-controlled text escaped.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML body: the title (linked to the ticket), then a table of facts.
pub fn html(notice: &Notice) -> String {
    let title = escape_html(&notice.title());
    let heading = match &notice.ticket_url {
        Some(url) => format!("<a href=\"{}\">{title}</a>", escape_html(url)),
        None => title.clone(),
    };
    let mut out = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\n<h2>{heading}</h2>\n<table>\n"
    );
    for (label, value) in notice.facts() {
        out.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>\n",
            escape_html(&label),
            escape_html(&value)
        ));
    }
    out.push_str("</table>\n<p>Sent by routec for the routing decision above.</p>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
    use tokio::net::TcpListener;

    /// What the in-test SMTP server received in one session.
    #[derive(Debug, Default)]
    struct Received {
        mail_from: String,
        rcpt_to: Vec<String>,
        data: String,
    }

    /// A minimal RFC 5321 server on 127.0.0.1 for one session: greeting,
    /// EHLO, MAIL, RCPT, DATA (dot-terminated), QUIT. `reject_rcpt` answers
    /// RCPT with that reply instead of 250.
    async fn smtp_server(reject_rcpt: Option<&'static str>) -> (u16, tokio::task::JoinHandle<Received>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let session = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.expect("a client connects");
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            let mut received = Received::default();
            write.write_all(b"220 test.local ESMTP\r\n").await.expect("greet");
            while let Ok(Some(line)) = lines.next_line().await {
                let upper = line.to_ascii_uppercase();
                let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                    b"250-test.local\r\n250 8BITMIME\r\n"
                } else if upper.starts_with("MAIL FROM:") {
                    received.mail_from = line["MAIL FROM:".len()..].to_owned();
                    b"250 OK\r\n"
                } else if upper.starts_with("RCPT TO:") {
                    received.rcpt_to.push(line["RCPT TO:".len()..].to_owned());
                    match reject_rcpt {
                        Some(reply) => reply.as_bytes(),
                        None => b"250 OK\r\n",
                    }
                } else if upper == "DATA" {
                    write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await.expect("reply");
                    while let Ok(Some(data_line)) = lines.next_line().await {
                        if data_line == "." {
                            break;
                        }
                        received.data.push_str(&data_line);
                        received.data.push('\n');
                    }
                    b"250 OK queued\r\n"
                } else if upper == "QUIT" {
                    write.write_all(b"221 bye\r\n").await.expect("reply");
                    break;
                } else if upper == "RSET" || upper == "NOOP" {
                    b"250 OK\r\n"
                } else {
                    b"502 not implemented\r\n"
                };
                write.write_all(reply).await.expect("reply");
            }
            received
        });
        (port, session)
    }

    fn sink(port: u16) -> EmailSink {
        let file = EmailFile {
            host: "127.0.0.1".into(),
            port: Some(port),
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "routec <routec@acme.example>".into(),
        };
        EmailSink::from_file(&file, &|_| None, &HttpOptions::default()).expect("a valid email config")
    }

    fn payload() -> serde_json::Value {
        json!({
            "ticket_id": "4711",
            "ticket_url": "https://acme.zendesk.com/agent/tickets/4711",
            "subject": "Our lawyer <b>will</b> sue",
            "destination": "legal",
            "priority": "P1",
            "reason": "subject has legal_words",
            "handoff": { "customer.email": "ana@example.com" }
        })
    }

    fn delivery<'a>(payload: &'a serde_json::Value, to: &'a str) -> Delivery<'a> {
        Delivery {
            id: "obx_1",
            decision_id: "dec_1",
            kind: EMAIL,
            target: to,
            payload,
            idempotency_key: Some("ticket:4711:abc/1:email"),
            attempt: 1,
        }
    }

    /// Undoes quoted-printable soft breaks and `=XX` escapes, enough to read
    /// the parts lettre wrote.
    fn decode_quoted_printable(text: &str) -> String {
        let joined = text.replace("=\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                if let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                    out.push(byte);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn a_message_reaches_a_local_smtp_server() {
        let (port, session) = smtp_server(None).await;
        let payload = payload();
        let outcome = sink(port).deliver(delivery(&payload, "legal@acme.example")).await;
        let DeliveryOutcome::Delivered { receipt } = outcome else { panic!("delivered: {outcome:?}") };
        assert_eq!(receipt["to"], "legal@acme.example");
        assert_eq!(receipt["reply"], "250");
        let received = tokio::time::timeout(Duration::from_secs(10), session).await.expect("in time").expect("session");
        assert_eq!(received.mail_from, "<routec@acme.example>");
        assert_eq!(received.rcpt_to, vec!["<legal@acme.example>".to_owned()]);
        let data = decode_quoted_printable(&received.data);
        assert!(data.contains("From: routec <routec@acme.example>"), "{data}");
        assert!(data.contains("To: legal@acme.example"), "{data}");
        let message_id = format!("Message-ID: <{}@acme.example>", key_digest("ticket:4711:abc/1:email"));
        assert!(data.contains(&message_id), "{data}");
        assert!(data.contains("multipart/alternative"), "{data}");
        assert!(data.contains("Reason: subject has legal_words"), "plain part: {data}");
        assert!(data.contains("customer.email: ana@example.com"), "handoff in the plain part: {data}");
        assert!(data.contains("Our lawyer &lt;b&gt;will&lt;/b&gt; sue"), "HTML part escaped: {data}");
        assert!(!data.contains("<b>will</b> sue</h2>"), "no markup from the ticket: {data}");
        assert!(data.contains("<a href=\"https://acme.zendesk.com/agent/tickets/4711\">"), "{data}");
    }

    #[tokio::test]
    async fn smtp_replies_decide_between_retry_and_failure() {
        let (port, _session) = smtp_server(Some("550 no such user\r\n")).await;
        let payload = payload();
        let outcome = sink(port).deliver(delivery(&payload, "nobody@acme.example")).await;
        assert!(matches!(outcome, DeliveryOutcome::Failed { .. }), "550 is permanent: {outcome:?}");

        let (port, _session) = smtp_server(Some("451 try again later\r\n")).await;
        let outcome = sink(port).deliver(delivery(&payload, "legal@acme.example")).await;
        assert!(matches!(outcome, DeliveryOutcome::RetryLater { .. }), "451 is transient: {outcome:?}");

        let outcome = sink(port).deliver(delivery(&payload, "not an address")).await;
        assert!(matches!(outcome, DeliveryOutcome::Failed { .. }), "{outcome:?}");
    }

    #[test]
    fn plain_smtp_is_for_this_host_only() {
        let file = |host: &str| EmailFile {
            host: host.into(),
            port: None,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "routec@acme.example".into(),
        };
        for host in ["127.0.0.1", "localhost", "::1"] {
            assert!(EmailSink::from_file(&file(host), &|_| None, &HttpOptions::default()).is_ok(), "{host}");
        }
        let refused = EmailSink::from_file(&file("smtp.acme.example"), &|_| None, &HttpOptions::default());
        assert_eq!(refused.err().map(|error| error.setting), Some("actions.email.tls".to_owned()));
    }

    #[test]
    fn html_escapes_everything_from_the_ticket() {
        assert_eq!(escape_html(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
