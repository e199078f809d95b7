//! JSON-RPC framing over a byte stream: `Content-Length` headers, a JSON
//! body. Unlike `lsp_server::Connection::stdio`, a malformed message does
//! not end the connection: the reader reports it and keeps reading, so the
//! server can answer with a JSON-RPC error (`-32700` / `-32600`) and go on.
//!
//! Reading happens on its own thread so the server can wait for input with a
//! timeout (the diagnostics debounce); writing happens on the caller's.

use lsp_server::Message;
use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc;

/// Bodies larger than this are skipped and answered with an error.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// What the server's main loop receives: from the reader thread, messages
/// and malformed input; from the prover thread, finished proofs.
#[derive(Debug)]
pub(crate) enum Incoming {
    Message(Message),
    /// A body that is not a JSON-RPC message: answer with this error.
    Malformed {
        code: i32,
        message: String,
        id: serde_json::Value,
    },
    /// The proofs of the analysis of this root are done (see `prover`).
    Proved {
        root: String,
    },
}

/// Start reading `input` on a thread, sending what it reads to `sender`;
/// stops at end of input, after `exit`, or on an IO error.
pub(crate) fn spawn_reader(input: impl BufRead + Send + 'static, sender: mpsc::Sender<Incoming>) -> io::Result<()> {
    std::thread::Builder::new().name("routec-lsp-reader".into()).spawn(move || read_loop(input, &sender))?;
    Ok(())
}

fn read_loop(mut input: impl BufRead, sender: &mpsc::Sender<Incoming>) {
    loop {
        let incoming = match read_frame(&mut input) {
            Ok(Some(Frame::Body(body))) => parse(&body),
            Ok(Some(Frame::Bad(message))) => {
                Incoming::Malformed { code: PARSE_ERROR, message, id: serde_json::Value::Null }
            }
            Ok(None) | Err(_) => return,
        };
        let is_exit = matches!(&incoming, Incoming::Message(Message::Notification(n)) if n.method == "exit");
        if sender.send(incoming).is_err() || is_exit {
            return;
        }
    }
}

const PARSE_ERROR: i32 = -32700;
const INVALID_REQUEST: i32 = -32600;

enum Frame {
    Body(Vec<u8>),
    /// The headers were unusable; the text says why.
    Bad(String),
}

/// Read one frame: headers up to a blank line, then the body.
fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Frame>> {
    let mut length: Option<usize> = None;
    let mut bad_header = None;
    let mut saw_header = false;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        match line.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => bad_header = Some(format!("bad Content-Length `{}`", value.trim())),
                }
            }
            Some(_) => {}
            None => bad_header = Some(format!("not a header: `{}`", truncate(line))),
        }
    }
    let Some(length) = length else {
        return Ok(Some(Frame::Bad(bad_header.unwrap_or_else(|| "missing Content-Length header".to_string()))));
    };
    if length > MAX_BODY {
        io::copy(&mut input.by_ref().take(length as u64), &mut io::sink())?;
        return Ok(Some(Frame::Bad(format!("message of {length} bytes is too large"))));
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    Ok(Some(match bad_header {
        Some(why) => Frame::Bad(why),
        None => Frame::Body(body),
    }))
}

fn truncate(text: &str) -> String {
    text.chars().take(60).collect()
}

fn parse(body: &[u8]) -> Incoming {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Incoming::Malformed {
                code: PARSE_ERROR,
                message: format!("invalid JSON: {e}"),
                id: serde_json::Value::Null,
            }
        }
    };
    let id = match value.get("id") {
        Some(id @ (serde_json::Value::Number(_) | serde_json::Value::String(_))) => id.clone(),
        _ => serde_json::Value::Null,
    };
    let is_object_with_method_or_id = value.get("method").is_some_and(serde_json::Value::is_string)
        || (value.get("id").is_some() && (value.get("result").is_some() || value.get("error").is_some()));
    if !is_object_with_method_or_id {
        return Incoming::Malformed { code: INVALID_REQUEST, message: "not a JSON-RPC request".to_string(), id };
    }
    match serde_json::from_value::<Message>(value) {
        Ok(message) => Incoming::Message(message),
        Err(e) => Incoming::Malformed { code: INVALID_REQUEST, message: format!("invalid request: {e}"), id },
    }
}

/// Write one message with its header and flush.
pub(crate) fn write_message(output: &mut impl Write, message: &Message) -> io::Result<()> {
    message.write(output)?;
    output.flush()
}

/// Write an error response with an id the `Message` type cannot hold (`null`).
pub(crate) fn write_error(output: &mut impl Write, id: &serde_json::Value, code: i32, message: &str) -> io::Result<()> {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message },
    })
    .to_string();
    write!(output, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &str) -> Vec<String> {
        let (sender, receiver) = mpsc::channel();
        read_loop(io::Cursor::new(input.as_bytes().to_vec()), &sender);
        receiver
            .try_iter()
            .map(|i| match i {
                Incoming::Message(m) => format!("message {}", serde_json::to_string(&m).unwrap_or_default()),
                Incoming::Malformed { code, message, id } => format!("error {code} {id}: {message}"),
                Incoming::Proved { root } => format!("proved {root}"),
            })
            .collect()
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn garbage_is_reported_and_reading_goes_on() {
        let input = [
            frame("{not json"),
            frame("[1,2]"),
            frame(r#"{"jsonrpc":"2.0","id":7,"method":5}"#),
            "Content-Length: abc\r\n\r\n".to_string(),
            frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#),
        ]
        .concat();
        insta::assert_snapshot!(frames(&input).join("\n"), @r#"
        error -32700 null: invalid JSON: key must be a string at line 1 column 2
        error -32600 null: not a JSON-RPC request
        error -32600 7: not a JSON-RPC request
        error -32700 null: bad Content-Length `abc`
        message {"method":"initialized","params":{}}
        "#);
    }
}
