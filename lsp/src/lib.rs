//! The routec language server: LSP over stdio on top of the compiler.
//!
//! This is the only crate that knows LSP and JSON-RPC. It keeps the open
//! documents (`world`), runs the compiler's analysis and its `ide`
//! queries, and converts their byte offsets to positions with UTF-16
//! columns (`convert`). It never re-implements a pass.
//!
//! - `transport` frames JSON-RPC and survives malformed input;
//! - `server` runs the handshake, the debounce and the dispatch;
//! - `prover` runs the analysis proofs on their own thread;
//! - `handlers` answer requests, one module per group of features.
//!
//! Start it with [`run_stdio`] (what `routec lsp` does) or [`run`] with any
//! byte streams (what tests and the latency benchmark do).

mod capabilities;
mod convert;
mod handlers;
mod overlay;
mod paths;
mod prover;
mod server;
mod shift;
mod transport;
mod world;

pub use overlay::DiskLoader;
pub use server::Exit;

use routec_compiler::Loader;
use std::io::{BufRead, Write};
use std::time::Duration;

/// How long after the last change diagnostics are computed, unless the
/// client sets `initializationOptions.debounceMs`. None: the main loop
/// applies every change already received before it re-checks, so a burst
/// of changes (a multi-cursor edit, a paste) is checked once anyway, and
/// typing is never slower than the analysis itself.
pub const DEFAULT_DEBOUNCE: Duration = Duration::ZERO;

/// How a server runs.
pub struct Options {
    /// Loads imports (and classifier labels) that are not open in the
    /// editor; open documents always win.
    pub fallback: Box<dyn Loader>,
    pub debounce: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options { fallback: Box::new(DiskLoader), debounce: DEFAULT_DEBOUNCE }
    }
}

/// The error type of the entry points.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Split a byte stream into JSON-RPC frames as the server's reader does:
/// each frame's body, or why the input there was not a frame. For the fuzz
/// targets (`tests/fuzz.rs`); not a stable API.
#[doc(hidden)]
pub fn split_frames(input: impl std::io::Read) -> Vec<Result<Vec<u8>, String>> {
    transport::split_frames(input)
}

/// Serve one client on stdin/stdout until it sends `exit`.
pub fn run_stdio(options: Options) -> Result<Exit, Error> {
    let stdin = std::io::BufReader::new(std::io::stdin());
    let stdout = std::io::stdout();
    run(stdin, stdout.lock(), options)
}

/// Serve one client on the given streams until it sends `exit` or `input` ends.
pub fn run(input: impl BufRead + Send + 'static, output: impl Write, options: Options) -> Result<Exit, Error> {
    Ok(server::serve(input, output, options)?)
}
