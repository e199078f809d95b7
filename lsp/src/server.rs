//! The main loop: the initialize handshake, notifications that change
//! documents, requests, diagnostics publishing with a debounce, shutdown.
//!
//! One thread owns the [`World`]. Changes mark documents dirty and (re)arm
//! a short timer; when no message arrives before it fires, the affected
//! policies are analysed and their diagnostics published. A request first
//! brings the world up to date, so it is never answered from stale text.
//! The proofs of each analysis run on the prover thread; their diagnostics
//! are published a second time when they arrive. A panic inside a handler
//! or an analysis becomes an `InternalError` answer (or a log line) and the
//! server goes on.

use crate::handlers::{self, LspError, INTERNAL_ERROR};
use crate::transport::{self, Incoming};
use crate::world::{Publish, World};
use crate::{capabilities, paths, prover, Options};
use lsp_server::{Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use serde_json::Value;
use std::io::{self, BufRead, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

const SERVER_NOT_INITIALIZED: i32 = -32002;
const INVALID_REQUEST: i32 = -32600;

/// How the session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `exit` after `shutdown`.
    Clean,
    /// `exit` without `shutdown`, or the input closed.
    Abrupt,
}

#[derive(PartialEq, Eq)]
enum State {
    Uninitialized,
    Running,
    ShuttingDown,
}

struct Server<W: Write> {
    out: W,
    world: World,
    prover: prover::Prover,
    state: State,
    debounce: Duration,
    deadline: Option<Instant>,
}

/// Serve one client: read from `input`, write to `output`, until `exit`.
pub(crate) fn serve(input: impl BufRead + Send + 'static, output: impl Write, options: Options) -> io::Result<Exit> {
    let (sender, receiver) = mpsc::channel();
    transport::spawn_reader(input, sender.clone())?;
    let mut server = Server {
        out: output,
        world: World::new(options.fallback),
        prover: prover::spawn(sender)?,
        state: State::Uninitialized,
        debounce: options.debounce,
        deadline: None,
    };
    loop {
        let incoming = match server.deadline {
            Some(deadline) => match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(incoming) => incoming,
                Err(RecvTimeoutError::Timeout) => {
                    server.deadline = None;
                    server.publish_diagnostics()?;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(Exit::Abrupt),
            },
            None => match receiver.recv() {
                Ok(incoming) => incoming,
                Err(_) => return Ok(Exit::Abrupt),
            },
        };
        match incoming {
            Incoming::Malformed { code, message, id } => transport::write_error(&mut server.out, &id, code, &message)?,
            Incoming::Message(Message::Request(request)) => server.request(request)?,
            Incoming::Message(Message::Notification(n)) if n.method == "exit" => {
                return Ok(if server.state == State::ShuttingDown { Exit::Clean } else { Exit::Abrupt });
            }
            Incoming::Message(Message::Notification(n)) => server.notification(n)?,
            // We send no requests, so there is nothing to match a response to.
            Incoming::Message(Message::Response(_)) => {}
            Incoming::Proved { root } => {
                for p in server.world.proved(&root) {
                    server.publish(p)?;
                }
            }
        }
    }
}

impl<W: Write> Server<W> {
    fn send(&mut self, message: Message) -> io::Result<()> {
        transport::write_message(&mut self.out, &message)
    }

    fn reply(&mut self, id: RequestId, answer: Result<Value, LspError>) -> io::Result<()> {
        let response = match answer {
            Ok(result) => Response { id, result: Some(result), error: None },
            Err(e) => Response::new_err(id, e.code, e.message),
        };
        self.send(Message::Response(response))
    }

    fn request(&mut self, request: Request) -> io::Result<()> {
        let Request { id, method, params } = request;
        match (&self.state, method.as_str()) {
            (State::Uninitialized, "initialize") => {
                let answer = self.initialize(params);
                if answer.is_ok() {
                    self.state = State::Running;
                }
                self.reply(id, answer)
            }
            (State::Uninitialized, _) => self.reply(
                id,
                Err(LspError { code: SERVER_NOT_INITIALIZED, message: "the server is not initialized".into() }),
            ),
            (_, "initialize") => self.reply(
                id,
                Err(LspError { code: INVALID_REQUEST, message: "the server is already initialized".into() }),
            ),
            (State::ShuttingDown, _) => {
                self.reply(id, Err(LspError { code: INVALID_REQUEST, message: "the server is shutting down".into() }))
            }
            (State::Running, "shutdown") => {
                self.state = State::ShuttingDown;
                self.reply(id, Ok(Value::Null))
            }
            (State::Running, _) => {
                // Answer from the current text: analyse pending changes first.
                if self.world.has_dirty() {
                    self.publish_diagnostics()?;
                }
                let world = &mut self.world;
                let answer = catch_unwind(AssertUnwindSafe(|| handlers::request(world, &method, params)))
                    .unwrap_or_else(|_| Err(LspError { code: INTERNAL_ERROR, message: format!("`{method}` failed") }));
                self.reply(id, answer)
            }
        }
    }

    fn initialize(&mut self, params: Value) -> Result<Value, LspError> {
        let params: lsp::InitializeParams = serde_json::from_value(params)
            .map_err(|e| LspError::invalid_params(format!("invalid initialize parameters: {e}")))?;
        let options = params.initialization_options.as_ref();
        if let Some(ms) = options.and_then(|o| o.get("debounceMs")).and_then(Value::as_u64) {
            self.debounce = Duration::from_millis(ms);
        }
        if let Some(sync) = options.and_then(|o| o.get("syncProofs")).and_then(Value::as_bool) {
            self.world.sync_proofs = sync;
        }
        let mut folders: Vec<PathBuf> =
            params.workspace_folders.iter().flatten().map(|f| PathBuf::from(paths::uri_to_name(&f.uri))).collect();
        #[expect(deprecated, reason = "older clients send only `rootUri`")]
        if let (true, Some(root)) = (folders.is_empty(), params.root_uri.as_ref()) {
            folders.push(PathBuf::from(paths::uri_to_name(root)));
        }
        self.world.set_workspace(&folders);
        serde_json::to_value(capabilities::initialize_result())
            .map_err(|e| LspError { code: INTERNAL_ERROR, message: e.to_string() })
    }

    fn notification(&mut self, n: Notification) -> io::Result<()> {
        if self.state != State::Running {
            return Ok(());
        }
        let changed = match n.method.as_str() {
            "textDocument/didOpen" => serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params)
                .map(|p| self.world.open(p.text_document.uri, p.text_document.text, p.text_document.version))
                .is_ok(),
            "textDocument/didChange" => match serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params) {
                Ok(p) => match self.world.change(&p.text_document.uri, p.text_document.version, p.content_changes) {
                    Ok(()) => true,
                    Err(message) => {
                        self.log(&format!("ignored a change: {message}"))?;
                        false
                    }
                },
                Err(_) => false,
            },
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params) {
                    let cleared = self.world.close(&p.text_document.uri);
                    self.publish(cleared)?;
                    self.forget_closed();
                }
                true
            }
            // Open documents are read from the editor, so saving changes nothing.
            "workspace/didChangeWatchedFiles" => {
                self.world.disk_changed();
                true
            }
            // `initialized`, `$/cancelRequest`, `$/setTrace`, unknown notifications.
            _ => false,
        };
        if changed && self.world.has_dirty() {
            self.deadline = Some(Instant::now() + self.debounce);
        }
        Ok(())
    }

    /// Tell the prover which policies are no longer open.
    fn forget_closed(&mut self) {
        for root in self.world.take_closed() {
            self.prover.send(prover::Work::Forget(root));
        }
    }

    fn publish(&mut self, p: Publish) -> io::Result<()> {
        let params = lsp::PublishDiagnosticsParams { uri: p.uri, diagnostics: p.diagnostics, version: p.version };
        // Serialised straight to text: the proofs of a large policy publish
        // hundreds of diagnostics, and building a `Value` tree of them first
        // costs as much again.
        let params = serde_json::to_string(&params).map_err(io::Error::other)?;
        let body = format!(r#"{{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{params}}}"#);
        write!(self.out, "Content-Length: {}\r\n\r\n{body}", body.len())?;
        self.out.flush()
    }

    /// Analyse what changed and publish the diagnostics.
    fn publish_diagnostics(&mut self) -> io::Result<()> {
        self.deadline = None;
        let world = &mut self.world;
        match catch_unwind(AssertUnwindSafe(|| world.flush())) {
            Ok(flushed) => {
                // The prover starts while these diagnostics go out; it
                // only stops when the server does.
                self.forget_closed();
                for job in flushed.jobs {
                    self.prover.send(prover::Work::Prove(job));
                }
                for p in flushed.publishes {
                    self.publish(p)?;
                }
                self.world.free_retired();
                Ok(())
            }
            Err(_) => self.log("the analysis failed on this text (a compiler bug); diagnostics were not updated"),
        }
    }

    fn log(&mut self, message: &str) -> io::Result<()> {
        let params = lsp::LogMessageParams { typ: lsp::MessageType::WARNING, message: message.to_string() };
        let params = serde_json::to_value(params).unwrap_or_default();
        self.send(Message::Notification(Notification { method: "window/logMessage".into(), params }))
    }
}
