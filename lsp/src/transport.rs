//! JSON-RPC framing over a byte stream: `Content-Length` headers, a JSON
//! body. Unlike `lsp_server::Connection::stdio`, a malformed message does
//! not end the connection: the reader reports it, resynchronises at the
//! next `Content-Length` header and keeps reading, so the server can answer
//! with a JSON-RPC error (`-32700` / `-32600`) and go on.
//!
//! Resynchronising relies on one fact: a header line `Content-Length: N`
//! (the digits, then the line's end) can never occur inside a JSON body,
//! since outside strings it is not JSON and inside strings a raw line break
//! is not allowed. So a body declared too long is cut where the next header
//! starts (no waiting for bytes that will never come), and text that is not
//! a frame — a body declared too short, a body without a header, a body
//! declared too large to read — is skipped up to the next header.
//!
//! Reading happens on its own thread so the server can wait for input with a
//! timeout (the diagnostics debounce); writing happens on the caller's.

use lsp_server::Message;
use std::io::{self, Read, Write};
use std::sync::mpsc;

/// Bodies larger than this are skipped and answered with an error.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Header lines longer than this are not headers: they are skipped as garbage.
const MAX_HEADER_LINE: usize = 1024;

/// `Content-Length:` in lower case: the header every frame needs, and
/// where reading resumes after garbage.
const CONTENT_LENGTH: &[u8] = b"content-length:";

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
pub(crate) fn spawn_reader(input: impl Read + Send + 'static, sender: mpsc::Sender<Incoming>) -> io::Result<()> {
    std::thread::Builder::new().name("routec-lsp-reader".into()).spawn(move || read_loop(input, &sender))?;
    Ok(())
}

fn read_loop(input: impl Read, sender: &mpsc::Sender<Incoming>) {
    let mut reader = FrameReader::new(input);
    loop {
        let incoming = match reader.read_frame() {
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

/// Every frame of `input`: its body, or why the input there was not a frame.
pub(crate) fn split_frames(input: impl Read) -> Vec<Result<Vec<u8>, String>> {
    let mut reader = FrameReader::new(input);
    let mut frames = Vec::new();
    while let Ok(Some(frame)) = reader.read_frame() {
        frames.push(match frame {
            Frame::Body(body) => Ok(body),
            Frame::Bad(why) => Err(why),
        });
    }
    frames
}

const PARSE_ERROR: i32 = -32700;
const INVALID_REQUEST: i32 = -32600;

#[derive(Debug, PartialEq)]
pub(crate) enum Frame {
    Body(Vec<u8>),
    /// Input that is not a frame; the text says why. Reading has moved on
    /// to the next `Content-Length` header (or the end of the input).
    Bad(String),
}

/// Splits a byte stream into frames. It keeps the bytes it has read but not
/// yet used, so it can stop a body at a header and start the next frame
/// there.
pub(crate) struct FrameReader<R> {
    input: R,
    /// Read from `input`, not yet used.
    pending: Vec<u8>,
    at_end: bool,
    /// The last frame was bad: drop input up to the next header first.
    skipping: bool,
}

impl<R: Read> FrameReader<R> {
    pub(crate) fn new(input: R) -> FrameReader<R> {
        FrameReader { input, pending: Vec::new(), at_end: false, skipping: false }
    }

    /// Read more input into `pending`; false at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.at_end {
            return Ok(false);
        }
        let mut chunk = [0; 8192];
        let n = loop {
            match self.input.read(&mut chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.pending.extend_from_slice(&chunk[..n]);
        self.at_end = n == 0;
        Ok(n > 0)
    }

    /// The next line without its line break, at most `MAX_HEADER_LINE`
    /// bytes (`Line::TooLong` leaves the line unread); `None` at the end.
    fn line(&mut self) -> io::Result<Option<Line>> {
        let mut searched = 0;
        loop {
            if let Some(i) = self.pending[searched..].iter().position(|&b| b == b'\n') {
                let end = searched + i;
                if end > MAX_HEADER_LINE {
                    return Ok(Some(Line::TooLong));
                }
                let mut line: Vec<u8> = self.pending.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(Line::Text(line)));
            }
            searched = self.pending.len();
            if searched > MAX_HEADER_LINE {
                return Ok(Some(Line::TooLong));
            }
            if !self.fill()? {
                // The last line of the input has no line break: it cannot
                // start a frame, and nothing follows it.
                self.pending.clear();
                return Ok(None);
            }
        }
    }

    /// Read one frame: headers up to a blank line, then the body.
    pub(crate) fn read_frame(&mut self) -> io::Result<Option<Frame>> {
        if self.skipping && !self.skip()? {
            return Ok(None);
        }
        let mut length: Option<usize> = None;
        let mut bad_header = None;
        let mut saw_header = false;
        loop {
            let line = match self.line()? {
                None => return Ok(None),
                Some(Line::TooLong) => return self.skip_to_header("a header line too long".to_string()),
                Some(Line::Text(line)) => line,
            };
            if line.is_empty() {
                if saw_header {
                    break;
                }
                continue;
            }
            saw_header = true;
            let mut with_break = line;
            with_break.push(b'\n');
            if let Some(at) = find_header(&with_break, 1) {
                // Garbage glued to the front of a header: drop the garbage,
                // read the header.
                let mut rest = with_break.split_off(at);
                rest.append(&mut self.pending);
                self.pending = rest;
                return Ok(Some(Frame::Bad(format!("not a header: `{}`", truncate(&with_break)))));
            }
            with_break.pop();
            let line = with_break;
            match split_header(&line) {
                Some((name, value)) if name.eq_ignore_ascii_case("content-length") => match value.parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => bad_header = Some(format!("bad Content-Length `{}`", truncate(value.as_bytes()))),
                },
                Some(_) => {}
                None => return self.skip_to_header(format!("not a header: `{}`", truncate(&line))),
            }
        }
        if let Some(why) = bad_header {
            return self.skip_to_header(why);
        }
        let Some(length) = length else {
            return self.skip_to_header("missing Content-Length header".to_string());
        };
        if length > MAX_BODY {
            return self.skip_to_header(format!("message of {length} bytes is too large"));
        }
        self.body(length)
    }

    /// Read a body of `length` bytes, unless a header starts inside it: then
    /// the length was wrong, and the next frame starts at that header.
    fn body(&mut self, length: usize) -> io::Result<Option<Frame>> {
        let mut searched = 0;
        loop {
            let available = self.pending.len().min(length);
            if let Some(at) = find_header(&self.pending, searched).filter(|&at| at < length) {
                self.pending.drain(..at);
                return Ok(Some(Frame::Bad(format!(
                    "a header after {at} bytes of a body of {length}: the Content-Length is wrong"
                ))));
            }
            if available == length {
                return Ok(Some(Frame::Body(self.pending.drain(..length).collect())));
            }
            // A header line cut off at the end of what has arrived is searched again.
            searched = available.saturating_sub(MAX_HEADER_LINE + CONTENT_LENGTH.len());
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Report `why` now, and drop the input up to the next `Content-Length`
    /// header before the next frame: the client may be waiting for the
    /// answer before it sends more.
    fn skip_to_header(&mut self, why: String) -> io::Result<Option<Frame>> {
        self.skipping = true;
        Ok(Some(Frame::Bad(why)))
    }

    /// Drop input up to the next `Content-Length` header; false if the input ends first.
    fn skip(&mut self) -> io::Result<bool> {
        loop {
            if let Some(at) = find_header(&self.pending, 0) {
                self.pending.drain(..at);
                self.skipping = false;
                return Ok(true);
            }
            // Keep what could be the start of a header cut off by the end of a read.
            let keep = MAX_HEADER_LINE.min(self.pending.len());
            self.pending.drain(..self.pending.len() - keep);
            if !self.fill()? {
                return Ok(false);
            }
        }
    }
}

enum Line {
    Text(Vec<u8>),
    TooLong,
}

/// `Name: value` with a header name (letters, digits, `-`), both trimmed.
fn split_header(line: &[u8]) -> Option<(&str, &str)> {
    let line = std::str::from_utf8(line).ok()?;
    let (name, value) = line.split_once(':')?;
    let name = name.trim();
    let is_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    is_name.then(|| (name, value.trim()))
}

/// Where a complete `Content-Length: N` header line starts in `bytes`, at
/// or after `from`: the name in any case, then digits up to a line break.
fn find_header(bytes: &[u8], from: usize) -> Option<usize> {
    let last = bytes.len().checked_sub(CONTENT_LENGTH.len())?;
    (from..=last).find(|&at| {
        bytes[at..at + CONTENT_LENGTH.len()].eq_ignore_ascii_case(CONTENT_LENGTH)
            && ends_with_digits_and_line_break(&bytes[at + CONTENT_LENGTH.len()..])
    })
}

fn ends_with_digits_and_line_break(rest: &[u8]) -> bool {
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    let rest = &rest[rest.iter().take_while(|b| is_blank(b)).count()..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let rest = &rest[digits..];
    let rest = &rest[rest.iter().take_while(|b| is_blank(b)).count()..];
    digits > 0 && (rest.starts_with(b"\n") || rest.starts_with(b"\r\n"))
}

fn truncate(text: &[u8]) -> String {
    String::from_utf8_lossy(text).chars().take(60).collect()
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

    const HOVER: &str = r#"{"jsonrpc":"2.0","id":9,"method":"textDocument/hover","params":{}}"#;

    /// What the reader makes of `bad` followed by a good hover request: the
    /// hover must always be read, whatever came before it.
    fn after(bad: &str) -> String {
        let read = frames(&format!("{bad}{}", frame(HOVER)));
        let hover = r#"message {"id":9,"method":"textDocument/hover","params":{}}"#.to_string();
        assert_eq!(read.last(), Some(&hover), "the hover after the bad frame was read: {read:?}");
        read[..read.len() - 1].join("\n")
    }

    #[test]
    fn a_content_length_too_short_resyncs_at_the_next_header() {
        insta::assert_snapshot!(after(&format!("Content-Length: 10\r\n\r\n{HOVER}")), @r#"
        error -32700 null: invalid JSON: EOF while parsing an object at line 1 column 10
        error -32700 null: not a header: `:"2.0","id":9,"method":"textDocument/hover","params":{}}`
        "#);
    }

    #[test]
    fn a_content_length_too_long_is_cut_at_the_next_header() {
        insta::assert_snapshot!(after(&format!("Content-Length: 500\r\n\r\n{HOVER}")), @"error -32700 null: a header after 66 bytes of a body of 500: the Content-Length is wrong");
    }

    #[test]
    fn a_missing_content_length_skips_the_body() {
        insta::assert_snapshot!(after(&format!("Content-Type: application/json\r\n\r\n{HOVER}")), @"error -32700 null: missing Content-Length header");
    }

    #[test]
    fn an_oversized_content_length_skips_to_the_next_header_without_reading_it_all() {
        insta::assert_snapshot!(after(&format!("Content-Length: 99999999999\r\n\r\n{HOVER}")), @"error -32700 null: message of 99999999999 bytes is too large");
    }

    #[test]
    fn a_wrong_content_length_skips_the_body() {
        insta::assert_snapshot!(after(&format!("Content-Length: -3\r\n\r\n{HOVER}")), @"error -32700 null: bad Content-Length `-3`");
        insta::assert_snapshot!(after(&format!("Content-Length: 12x\r\n\r\n{HOVER}")), @"error -32700 null: bad Content-Length `12x`");
    }

    #[test]
    fn garbage_glued_to_a_header_is_dropped() {
        insta::assert_snapshot!(after("\u{0}\u{1}garbage without a line break"), @"error -32700 null: not a header: `\0\u{1}garbage without a line break`");
        insta::assert_snapshot!(after(&"x".repeat(5000)), @"error -32700 null: a header line too long");
    }

    #[test]
    fn a_header_inside_a_json_string_is_not_a_header() {
        let body = r#"{"jsonrpc":"2.0","method":"x","params":{"text":"Content-Length: 5\r\n\r\n"}}"#;
        insta::assert_snapshot!(frames(&frame(body)).join("\n"), @r#"message {"method":"x","params":{"text":"Content-Length: 5\r\n\r\n"}}"#);
    }

    #[test]
    fn a_body_split_across_reads_is_read_whole() {
        /// Hands out one byte per read, as a slow pipe might.
        struct Trickle(io::Cursor<Vec<u8>>);
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(1);
                self.0.read(&mut buf[..n])
            }
        }
        let input = format!("Content-Length: 2\r\n\r\n{{}}{}{}", frame(HOVER), frame(HOVER));
        let mut reader = FrameReader::new(Trickle(io::Cursor::new(input.into_bytes())));
        let mut read = Vec::new();
        while let Ok(Some(frame)) = reader.read_frame() {
            read.push(frame);
        }
        let hover = || Frame::Body(HOVER.as_bytes().to_vec());
        assert_eq!(read, [Frame::Body(b"{}".to_vec()), hover(), hover()]);
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
