//! A minimal LSP client for the end-to-end tests: starts `routec lsp`,
//! frames JSON-RPC over its stdin/stdout, and reads the answers on a thread
//! so every wait has a timeout (a hung server fails the test, it does not
//! hang it).

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Longest wait for one message.
const TIMEOUT: Duration = Duration::from_secs(60);

pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: mpsc::Receiver<Value>,
    /// Notifications that arrived while waiting for something else.
    pending: VecDeque<Value>,
    next_id: i64,
    pub root: PathBuf,
}

fn read_message(input: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length:") {
            length = n.trim().parse().ok();
        }
    }
    let mut body = vec![0; length?];
    input.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    /// Start `routec lsp` with `root` as the workspace folder.
    pub fn start(root: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_routec"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("routec lsp starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Client { child, stdin, incoming, pending: VecDeque::new(), next_id: 0, root: root.to_path_buf() }
    }

    /// Send bytes as they are (for garbage).
    pub fn raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).expect("the server reads its input");
        stdin.flush().expect("the server reads its input");
    }

    /// Send a body with a correct header.
    pub fn frame(&mut self, body: &str) {
        self.raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }

    pub fn send(&mut self, message: Value) {
        self.frame(&message.to_string());
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The next message from the server.
    pub fn next(&mut self) -> Value {
        self.incoming.recv_timeout(TIMEOUT).expect("the server answers in time")
    }

    /// The next message that is a response (with an id) or an error without one.
    pub fn next_response(&mut self) -> Value {
        loop {
            let message = self.next();
            if message.get("method").is_some() {
                self.pending.push_back(message);
            } else {
                return message;
            }
        }
    }

    /// Send a request and wait for its response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.request_noting_others(method, params).1
    }

    /// Send a request and wait for its response; the other responses that
    /// came first (errors about earlier garbage) with it.
    pub fn request_noting_others(&mut self, method: &str, params: Value) -> (Vec<Value>, Value) {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let mut others = Vec::new();
        loop {
            let message = self.next_response();
            if message["id"] == json!(id) {
                return (others, message);
            }
            others.push(message);
        }
    }

    /// Wait for the diagnostics of `uri` at `version`.
    pub fn diagnostics(&mut self, uri: &str, version: i64) -> Value {
        let wanted = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == json!(uri)
                && m["params"]["version"] == json!(version)
        };
        if let Some(at) = self.pending.iter().position(wanted) {
            return self.pending.remove(at).map(|m| m["params"]["diagnostics"].clone()).unwrap_or_default();
        }
        loop {
            let message = self.next();
            if wanted(&message) {
                return message["params"]["diagnostics"].clone();
            }
            self.pending.push_back(message);
        }
    }

    /// The next publication of diagnostics for `uri` at `version` whose
    /// messages `accept` takes; the messages of each one before it.
    pub fn diagnostics_until(
        &mut self,
        uri: &str,
        version: i64,
        accept: impl Fn(&[String]) -> bool,
    ) -> (Vec<String>, Vec<Vec<String>>) {
        let mut before = Vec::new();
        loop {
            let list = self.diagnostics(uri, version);
            let messages: Vec<String> = list
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| d["message"].as_str().unwrap_or_default().to_string())
                .collect();
            if accept(&messages) {
                return (messages, before);
            }
            before.push(messages);
        }
    }

    /// `file://` URI of a file of the workspace.
    pub fn uri(&self, name: &str) -> String {
        format!("file://{}", self.root.join(name).display())
    }

    /// Initialize with the workspace folder; diagnostics come once per change.
    pub fn initialize(&mut self) -> Value {
        self.initialize_with(json!({ "syncProofs": true, "debounceMs": 0 }))
    }

    /// Initialize with the workspace folder and these `initializationOptions`.
    pub fn initialize_with(&mut self, options: Value) -> Value {
        let root = format!("file://{}", self.root.display());
        let answer = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root,
                "capabilities": {},
                "initializationOptions": options,
            }),
        );
        self.notify("initialized", json!({}));
        answer
    }

    /// Shut down and exit; the exit status.
    pub fn finish(mut self) -> ExitStatus {
        let answer = self.request("shutdown", Value::Null);
        assert_eq!(answer["result"], Value::Null, "shutdown succeeds: {answer}");
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        self.child.wait().expect("routec lsp exits")
    }
}
