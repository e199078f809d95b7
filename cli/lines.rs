//! Reading JSON Lines input without an unbounded read: each line is at most
//! [`MAX_LINE_BYTES`]; a longer one is skipped up to its newline (its bytes
//! are read and dropped, never kept) and reported, and the lines after it
//! are read as usual. `route` and `classify` read their tickets through it.

use std::io::BufRead;

/// The longest input line kept (1 MiB): far above any ticket, small enough
/// that `/dev/zero` or a file without newlines cannot exhaust memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Why one line was not returned.
#[derive(Debug)]
pub enum LineError {
    /// The line was longer than [`MAX_LINE_BYTES`]; it was skipped.
    TooLong,
    /// The line is not UTF-8.
    NotUtf8,
    /// Reading failed; the rest of the input is not read.
    Io(std::io::Error),
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::TooLong => write!(f, "the line is longer than {} bytes; skipped", MAX_LINE_BYTES),
            LineError::NotUtf8 => f.write_str("the line is not UTF-8"),
            LineError::Io(e) => write!(f, "cannot read: {e}"),
        }
    }
}

/// The lines of `input`, without their line endings (`\n` or `\r\n`).
pub struct Lines<R> {
    input: R,
    max: usize,
    done: bool,
}

impl<R: BufRead> Lines<R> {
    /// Lines of at most [`MAX_LINE_BYTES`].
    pub fn new(input: R) -> Lines<R> {
        Lines::with_max(input, MAX_LINE_BYTES)
    }

    fn with_max(input: R, max: usize) -> Lines<R> {
        Lines { input, max, done: false }
    }

    /// Read one line into `line`, keeping at most `max` bytes: (whether
    /// there was a line at all, whether it was cut).
    fn read_line(&mut self, line: &mut Vec<u8>) -> std::io::Result<(bool, bool)> {
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                return Ok((any, too_long));
            }
            any = true;
            let (used, found) = match memchr_newline(chunk) {
                Some(at) => (at + 1, true),
                None => (chunk.len(), false),
            };
            let take = if found { used - 1 } else { used };
            if !too_long {
                if line.len() + take > self.max {
                    too_long = true;
                    line.clear();
                } else {
                    line.extend_from_slice(&chunk[..take]);
                }
            }
            self.input.consume(used);
            if found {
                return Ok((true, too_long));
            }
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == b'\n')
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = Result<String, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut line = Vec::new();
        match self.read_line(&mut line) {
            Err(e) => {
                self.done = true;
                Some(Err(LineError::Io(e)))
            }
            Ok((false, _)) => {
                self.done = true;
                None
            }
            Ok((true, true)) => Some(Err(LineError::TooLong)),
            Ok((true, false)) => {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                Some(String::from_utf8(line).map_err(|_| LineError::NotUtf8))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn lines(input: &[u8], max: usize) -> Vec<String> {
        Lines::with_max(std::io::BufReader::with_capacity(4, input), max)
            .map(|l| match l {
                Ok(s) => s,
                Err(e) => format!("<{e:?}>"),
            })
            .collect()
    }

    #[test]
    fn lines_split_on_newlines_and_drop_crlf() {
        assert_eq!(lines(b"a\r\nbb\n\nccc", 10), ["a", "bb", "", "ccc"]);
        assert_eq!(lines(b"", 10), Vec::<String>::new());
        assert_eq!(lines(b"x\n", 10), ["x"]);
    }

    #[test]
    fn a_long_line_is_skipped_and_the_next_ones_are_read() {
        assert_eq!(lines(b"ok\n0123456789abc\nnext\n", 10), ["ok", "<TooLong>", "next"]);
        assert_eq!(lines(b"0123456789", 10), ["0123456789"]);
        assert_eq!(lines(b"0123456789a", 10), ["<TooLong>"]);
    }

    #[test]
    fn an_endless_line_is_read_in_bounded_memory() {
        // 64 MiB of zeros without a newline, with lines at most 1 KiB: the
        // reader drops the bytes as it goes.
        let zeros = std::io::BufReader::new(std::io::repeat(0).take(64 << 20));
        let got: Vec<_> = Lines::with_max(zeros, 1024).collect();
        assert_eq!(got.len(), 1);
        assert!(matches!(got[0], Err(LineError::TooLong)));
    }

    #[test]
    fn bad_utf8_is_one_rejected_line() {
        assert_eq!(lines(b"\xff\xfe\nfine\n", 10), ["<NotUtf8>", "fine"]);
    }
}
