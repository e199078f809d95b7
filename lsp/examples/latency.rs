//! Latency of the language server on a generated 5,000-line policy: time
//! from `didChange` to the first `publishDiagnostics` for that version
//! (syntax, names and types), to the second one (with the analysis proofs,
//! computed on the server's prover thread: its sound pass), the first one
//! again while the policy has an error (so no proofs run at all), and the
//! round trip of `hover` and `completion`. A publication counts when it has
//! arrived whole at the client; the example checks once that the second
//! one carries every finding of the analysis.
//!
//! The edits: a tag string (no change to what the policy decides), a rule's
//! destination, and a rule's condition (`intent == account` ↔ `intent ==
//! billing`) in the middle of the rules and in the first rules, where every
//! later branch's proof depends on it, the latter also after a pause long
//! enough for the prover's exact pass (see `prover`). Each edit flips back
//! and forth, so every version differs from the one before.
//!
//! The server runs in this process on in-memory pipes and speaks the same
//! JSON-RPC an editor does. Run it optimised:
//!
//! ```text
//! cargo run --release -p routec-lsp --example latency [-- LINES [DEBOUNCE_MS]]
//! ```

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant};

/// Edits, hovers and completions timed.
const ROUNDS: usize = 30;
/// Edits of a rule's condition timed until the proofs are published.
const PROOF_ROUNDS: usize = 6;
/// Pause before an edit, long enough for the prover's exact pass.
const PAUSE: Duration = Duration::from_millis(1000);

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let target_lines: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5000);
    let debounce_ms: u64 =
        std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(routec_lsp::DEFAULT_DEBOUNCE.as_millis() as u64);
    let policy = routec_compiler::synthetic::editor_policy(target_lines);
    let lines = policy.lines().count();

    // The two steps of the analysis alone, for reference.
    let started = Instant::now();
    let mut db = routec_compiler::SourceDb::new();
    let root = db.add("/bench/policy.route", policy.clone());
    let analysis = routec_compiler::ide::analyze_without_proofs(db, root, &routec_compiler::NoImports);
    let check_time = started.elapsed();
    let started = Instant::now();
    let proofs = routec_compiler::ide::proofs(&analysis);
    let proof_time = started.elapsed();
    let findings = analysis.diagnostics.len() + proofs.len();

    let (server_in, mut to_server) = std::io::pipe()?;
    let (from_server, server_out) = std::io::pipe()?;
    let server = std::thread::spawn(move || {
        routec_lsp::run(BufReader::new(server_in), server_out, routec_lsp::Options::default())
    });
    let mut client =
        Client { out: &mut to_server, input: BufReader::new(from_server), next_id: 0, last_publish: Vec::new() };

    client
        .request("initialize", json!({ "capabilities": {}, "initializationOptions": { "debounceMs": debounce_ms } }))?;
    client.notify("initialized", json!({}))?;
    let uri = "file:///bench/policy.route";
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "route", "version": 1, "text": policy } }),
    )?;
    client.wait_diagnostics(1, 1)?;

    // didChange → publishDiagnostics: flip one character of a tag string back and forth.
    let tag = position_of(&policy, "tag \"t0\"").map(|(l, c)| (l, c + 6)).unwrap_or((0, 0));
    let mut version = 1;
    let edit = |client: &mut Client<'_, _>,
                version: &mut i64,
                (line, col): (usize, usize),
                flip: &mut [&str; 2],
                publishes: usize|
     -> std::io::Result<Duration> {
        *version += 1;
        let version = *version;
        // Replace the text in place with the other one.
        let [old, new] = *flip;
        flip.swap(0, 1);
        let started = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{
                    "range": { "start": { "line": line, "character": col },
                               "end": { "line": line, "character": col + old.encode_utf16().count() } },
                    "text": new,
                }],
            }),
        )?;
        client.wait_diagnostics(version, publishes)?;
        Ok(started.elapsed())
    };
    let mut tag_text = ["0", "1"];
    let mut change_times = Vec::new();
    for _ in 0..ROUNDS {
        change_times.push(edit(&mut client, &mut version, tag, &mut tag_text, 1)?);
    }
    // The same edits until the proofs are published too.
    let mut proof_times = Vec::new();
    for _ in 0..ROUNDS {
        proof_times.push(edit(&mut client, &mut version, tag, &mut tag_text, 2)?);
    }
    // What was timed is the complete publication.
    let published: Value = serde_json::from_slice(&client.last_publish)?;
    let count = published["params"]["diagnostics"].as_array().map_or(0, Vec::len);
    if count != findings {
        return Err(format!("the second publication has {count} diagnostics, the analysis {findings}").into());
    }
    // A rule's destination: `-> team_100` ↔ `-> team_101`.
    let destination = rule_position(&policy, 700, "-> team_").map(|(l, c)| (l, c + 8)).unwrap_or((0, 0));
    let mut destination_text = ["100", "101"];
    let mut destination_times = Vec::new();
    for _ in 0..ROUNDS {
        destination_times.push(edit(&mut client, &mut version, destination, &mut destination_text, 2)?);
    }
    // A rule's condition, in the middle of the rules and near their start.
    let mut condition_times = Vec::new();
    let mut first_condition_times = Vec::new();
    for (rule, times) in [(701, &mut condition_times), (5, &mut first_condition_times)] {
        let at = rule_position(&policy, rule, "account").unwrap_or((0, 0));
        let mut intent_text = ["account", "billing"];
        for _ in 0..PROOF_ROUNDS {
            times.push(edit(&mut client, &mut version, at, &mut intent_text, 2)?);
        }
        // Leave the policy as it was.
        if intent_text[0] != "account" {
            edit(&mut client, &mut version, at, &mut intent_text, 2)?;
        }
    }
    // The same edit of rule 5 after a pause, in which the prover confirms
    // the last proofs with an exact pass: the next sound pass has fewer
    // answers to carry over (those naming rule 5 must be searched again).
    let mut paused_times = Vec::new();
    {
        let at = rule_position(&policy, 5, "account").unwrap_or((0, 0));
        let mut intent_text = ["account", "billing"];
        for _ in 0..PROOF_ROUNDS {
            std::thread::sleep(PAUSE);
            paused_times.push(edit(&mut client, &mut version, at, &mut intent_text, 2)?);
        }
        if intent_text[0] != "account" {
            edit(&mut client, &mut version, at, &mut intent_text, 2)?;
        }
    }

    // The same edits while the policy has an error: no proofs run, so the
    // prover does not compete with the main loop for a core.
    let (dest_line, dest_col) = position_of(&policy, "-> team_3\n").map(|(l, c)| (l, c + 3)).unwrap_or((0, 0));
    version += 1;
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": version },
            "contentChanges": [{
                "range": { "start": { "line": dest_line, "character": dest_col },
                           "end": { "line": dest_line, "character": dest_col } },
                "text": "no_such_",
            }],
        }),
    )?;
    client.wait_diagnostics(version, 1)?;
    std::thread::sleep(Duration::from_secs(3));
    let mut quiet_times = Vec::new();
    for _ in 0..ROUNDS {
        quiet_times.push(edit(&mut client, &mut version, tag, &mut tag_text, 1)?);
    }

    let (dest_line, dest_col) = position_of(&policy, "-> team_4\n").map(|(l, c)| (l, c + 5)).unwrap_or((0, 0));
    let hover_times = client.time(
        ROUNDS,
        "textDocument/hover",
        || json!({ "textDocument": { "uri": uri }, "position": { "line": dest_line, "character": dest_col } }),
    )?;
    let completion_times = client.time(
        ROUNDS,
        "textDocument/completion",
        || json!({ "textDocument": { "uri": uri }, "position": { "line": dest_line, "character": dest_col - 3 } }),
    )?;

    client.request("shutdown", Value::Null)?;
    client.notify("exit", Value::Null)?;
    drop(client);
    drop(to_server);
    let _ = server.join();

    println!("policy: {lines} lines, {} bytes, {findings} findings", policy.len());
    println!("in process, once: names and types {:.2} ms, proofs {:.2} ms", ms(check_time), ms(proof_time));
    println!("didChange -> diagnostics (names, types):  {}  (debounce {} ms)", summary(&mut change_times), debounce_ms);
    println!("didChange -> diagnostics with proofs:     {}", summary(&mut proof_times));
    println!("  same, edit of a rule's destination:     {}", summary(&mut destination_times));
    println!("  same, edit of a condition (rule 701):   {}", summary(&mut condition_times));
    println!("  same, edit of a condition (rule 5):     {}", summary(&mut first_condition_times));
    println!("  same, rule 5 after a {} ms pause:      {}", PAUSE.as_millis(), summary(&mut paused_times));
    println!("same, policy with an error (no proofs):   {}", summary(&mut quiet_times));
    println!("hover round trip:                         {}", summary(&mut hover_times.clone()));
    println!("completion round trip:                    {}", summary(&mut completion_times.clone()));
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(times: &mut [Duration]) -> String {
    times.sort();
    let at = |q: f64| times.get(((times.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default();
    format!("median {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms", ms(at(0.5)), ms(at(0.95)), ms(at(1.0)))
}

/// Zero-based line and UTF-16 column of the first `needle` on the line of rule `rule_N`.
fn rule_position(text: &str, rule: usize, needle: &str) -> Option<(usize, usize)> {
    let start = text.find(&format!("rule rule_{rule} when"))?;
    let line_end = start + text[start..].find('\n')?;
    let at = start + text[start..line_end].find(needle)?;
    let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    Some((text[..at].matches('\n').count(), text[line_start..at].encode_utf16().count()))
}

/// Zero-based line and UTF-16 column of the first `needle`.
fn position_of(text: &str, needle: &str) -> Option<(usize, usize)> {
    let at = text.find(needle)?;
    let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    Some((text[..at].matches('\n').count(), text[line_start..at].encode_utf16().count()))
}

struct Client<'a, R: Read> {
    out: &'a mut std::io::PipeWriter,
    input: BufReader<R>,
    next_id: i64,
    /// The body of the last publication `wait_diagnostics` waited for.
    last_publish: Vec<u8>,
}

/// What `wait_diagnostics` reads of a message; serde skips the rest.
#[derive(serde::Deserialize)]
struct Envelope {
    method: Option<String>,
    params: Option<EnvelopeParams>,
}

#[derive(serde::Deserialize, Default)]
struct EnvelopeParams {
    version: Option<i64>,
}

impl<R: Read> Client<'_, R> {
    fn send(&mut self, message: Value) -> std::io::Result<()> {
        let body = message.to_string();
        write!(self.out, "Content-Length: {}\r\n\r\n{body}", body.len())?;
        self.out.flush()
    }

    fn read(&mut self) -> std::io::Result<Value> {
        let body = self.read_body()?;
        serde_json::from_slice(&body).map_err(std::io::Error::other)
    }

    /// The body of the next message.
    fn read_body(&mut self) -> std::io::Result<Vec<u8>> {
        let mut length = 0;
        loop {
            let mut line = String::new();
            if self.input.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("the server closed its output"));
            }
            let line = line.trim();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length:") {
                length = n.trim().parse().map_err(std::io::Error::other)?;
            }
        }
        let mut body = vec![0; length];
        self.input.read_exact(&mut body)?;
        Ok(body)
    }

    fn notify(&mut self, method: &str, params: Value) -> std::io::Result<()> {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }))
    }

    fn request(&mut self, method: &str, params: Value) -> std::io::Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))?;
        loop {
            let message = self.read()?;
            if message.get("id") == Some(&json!(id)) {
                return Ok(message);
            }
        }
    }

    /// Wait for the `n`th publication of diagnostics for `version`. The clock stops when the message has
    /// arrived: what the editor then does with it is not the server's time,
    /// so only its method and version are read here (a full parse of the
    /// 500 KB publication into a `serde_json::Value` took another 4–9 ms).
    fn wait_diagnostics(&mut self, version: i64, n: usize) -> std::io::Result<()> {
        let mut seen = 0;
        while seen < n {
            let body = self.read_body()?;
            let envelope: Envelope = serde_json::from_slice(&body).map_err(std::io::Error::other)?;
            let params = envelope.params.unwrap_or_default();
            if envelope.method.as_deref() == Some("textDocument/publishDiagnostics") && params.version == Some(version)
            {
                seen += 1;
                self.last_publish = body;
            }
        }
        Ok(())
    }

    fn time(&mut self, n: usize, method: &str, params: impl Fn() -> Value) -> std::io::Result<Vec<Duration>> {
        let mut times = Vec::new();
        for _ in 0..n {
            let started = Instant::now();
            let answer = self.request(method, params())?;
            times.push(started.elapsed());
            if answer.get("error").is_some() {
                return Err(std::io::Error::other(format!("{method} failed: {answer}")));
            }
        }
        Ok(times)
    }
}
