//! Where commands write: standard output and standard error through one
//! writer whose writes return a [`CliError`]. A reader that went away
//! (`routec route … | head -1`) becomes [`CliError::ReaderGone`], which ends
//! the command quietly, where `println!` would panic; any other failure is
//! an error like the others.

use crate::exit::{CliError, Stream};
use std::fmt;
use std::io::{self, BufWriter, Write};

/// A standard stream for one command. `write!` and `writeln!` work on it
/// and return `Result<(), CliError>`.
pub struct Output<W: Write> {
    writer: W,
    stream: Stream,
}

impl Output<io::StdoutLock<'static>> {
    /// Standard output, flushed at each line as `println!` is.
    pub fn stdout() -> Self {
        Output { writer: io::stdout().lock(), stream: Stream::Output }
    }
}

impl Output<BufWriter<io::StdoutLock<'static>>> {
    /// Standard output in blocks, for commands that print a line per input
    /// line; call [`Output::flush`] at the end.
    pub fn stdout_buffered() -> Self {
        Output { writer: BufWriter::new(io::stdout().lock()), stream: Stream::Output }
    }
}

impl Output<io::StderrLock<'static>> {
    /// Standard error, for diagnostics and notes (not for `error:` lines:
    /// those go through [`crate::exit::report`]).
    pub fn stderr() -> Self {
        Output { writer: io::stderr().lock(), stream: Stream::Error }
    }
}

impl<W: Write> Output<W> {
    /// What `write!` calls.
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> Result<(), CliError> {
        let written = self.writer.write_fmt(args);
        written.map_err(|e| self.failed(e))
    }

    /// Write out what is buffered.
    pub fn flush(&mut self) -> Result<(), CliError> {
        let flushed = self.writer.flush();
        flushed.map_err(|e| self.failed(e))
    }

    fn failed(&self, source: io::Error) -> CliError {
        if source.kind() == io::ErrorKind::BrokenPipe {
            CliError::ReaderGone
        } else {
            CliError::Stream { stream: self.stream, source }
        }
    }
}
