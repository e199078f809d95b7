//! How `routec` ends: the exit codes it promises (the README's "Exit codes"
//! table), the one error type its commands return, the exit code a command
//! has earned so far, and the one place that prints `error: …` and turns
//! the outcome into the process's exit status.

use routec_classifier::{DataError, ModelError};
use routec_compiler::fmt::FormatError;
use routec_runtime::{EngineError, PolicyError};
use std::fmt;
use std::io::Write;
use std::path::PathBuf;

/// The exit status of `routec`: one number per kind of ending, so scripts
/// and CI can tell them apart. When a command meets several (a file it
/// cannot read and findings in another), it ends with the largest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitCode {
    /// Done, and nothing wrong was found.
    #[default]
    Success = 0,
    /// Done, and something is wrong with what was examined: `check` errors
    /// (and warnings with `--deny-warnings`), failed policy tests, files
    /// `fmt --check` would change or `fmt` cannot format, a policy `route`,
    /// `test` or `bench` refuses because it does not compile. Also `lsp`
    /// when the editor exits without `shutdown`: the LSP specification asks
    /// for 1 there.
    Findings = 1,
    /// The command line is wrong. 2 because clap already ends its own usage
    /// errors with 2; a value clap cannot check (`--now`, `--load`,
    /// `--holdout`) ends the same way.
    Usage = 2,
    /// Some input lines were rejected (each reported with its line number);
    /// the others were processed.
    BadInput = 3,
    /// A file cannot be read, written or used as what it should be (missing,
    /// unreadable, not a model file, malformed training data), or a standard
    /// stream failed. One number for "fix the file or the path" rather than
    /// sysexits' 66/73/74, kept next to the codes above and apart from an
    /// internal error, because the user can act on it.
    Io = 4,
    /// A bug in routec (the formatter would change a policy's meaning, the
    /// JIT cannot compile a policy that checked): please report it. 70 is
    /// sysexits' `EX_SOFTWARE`, far from the codes above so that no script
    /// takes it for a finding.
    Internal = 70,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> std::process::ExitCode {
        std::process::ExitCode::from(code as u8)
    }
}

/// Whether an [`CliError::Io`] read or wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// A standard stream, for [`CliError::Stream`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Input,
    Output,
    Error,
}

/// Why a command stopped, or why one of the files it handles failed.
#[derive(Debug)]
pub enum CliError {
    /// A command-line value clap cannot check; the message says which and why.
    Usage(String),
    /// Reading or writing a file failed.
    Io { access: Access, path: PathBuf, source: std::io::Error },
    /// Reading or writing a standard stream failed (other than its reader
    /// going away, which is [`CliError::ReaderGone`]).
    Stream { stream: Stream, source: std::io::Error },
    /// A file was read but does not hold what it should.
    Unusable { path: PathBuf, expected: &'static str, source: Box<dyn std::error::Error + Send + Sync> },
    /// A policy, its imports or its model cannot be loaded.
    Policy(PolicyError),
    /// A policy does not compile; its errors were rendered above. `skipped`
    /// says what was not done because of it.
    NotCompiled { path: PathBuf, skipped: Option<&'static str> },
    /// A file `fmt` leaves alone; syntax errors were rendered above.
    NotFormatted { file: String, reason: FormatError },
    /// A classifier model cannot be read, written or used.
    Model(ModelError),
    /// Labelled tickets cannot be read or trained on.
    Data(DataError),
    /// No line of the input is a valid ticket, so there is nothing to work on.
    NoValidTickets { path: PathBuf },
    /// No labelled row can be evaluated.
    NoKnownLabels { field: String },
    /// The engine asked for cannot be built.
    Engine(EngineError),
    /// The language server stopped on an error.
    LanguageServer(routec_lsp::Error),
    /// `routec serve` could not start or stopped on an error.
    Serve(routec_server::ServeError),
    /// Something that cannot happen did: a bug in routec.
    Internal(String),
    /// The reader of standard output or error went away (`| head -1`): the
    /// command stops quietly.
    ReaderGone,
}

impl CliError {
    /// Reading `path` failed.
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> CliError {
        CliError::Io { access: Access::Read, path: path.into(), source }
    }

    /// Writing `path` failed.
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> CliError {
        CliError::Io { access: Access::Write, path: path.into(), source }
    }

    /// The exit code this error ends a command with.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::Usage,
            CliError::Io { .. }
            | CliError::Stream { .. }
            | CliError::Unusable { .. }
            | CliError::Model(_)
            | CliError::NoKnownLabels { .. }
            | CliError::LanguageServer(_) => ExitCode::Io,
            CliError::Policy(PolicyError::Compile(_)) | CliError::NotCompiled { .. } => ExitCode::Findings,
            // Every other load failure is a file that cannot be read or used.
            CliError::Policy(_) => ExitCode::Io,
            CliError::NotFormatted { reason: FormatError::Unstable, .. } => ExitCode::Internal,
            CliError::NotFormatted { .. } => ExitCode::Findings,
            CliError::Data(DataError::Solver(_)) => ExitCode::Internal,
            CliError::Data(_) => ExitCode::Io,
            CliError::NoValidTickets { .. } => ExitCode::BadInput,
            CliError::Engine(_) | CliError::Internal(_) => ExitCode::Internal,
            CliError::ReaderGone => ExitCode::Success,
            // A bad config file or flag value is the command line's fault; a
            // policy that does not compile is a finding; the rest (a port in
            // use, an unreachable decision log) is the machine's.
            CliError::Serve(routec_server::ServeError::Config(_)) => ExitCode::Usage,
            CliError::Serve(routec_server::ServeError::Policy(routec_server::reload::StartError::Policy(_))) => {
                ExitCode::Findings
            }
            CliError::Serve(_) => ExitCode::Io,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) | CliError::Internal(message) => f.write_str(message),
            CliError::Io { access, path, .. } => {
                let verb = match access {
                    Access::Read => "read",
                    Access::Write => "write",
                };
                write!(f, "cannot {verb} `{}`", path.display())
            }
            CliError::Stream { stream, .. } => f.write_str(match stream {
                Stream::Input => "cannot read standard input",
                Stream::Output => "cannot write standard output",
                Stream::Error => "cannot write standard error",
            }),
            CliError::Unusable { path, expected, .. } => write!(f, "`{}` is not {expected}", path.display()),
            CliError::Policy(e) => e.fmt(f),
            CliError::NotCompiled { path, skipped } => {
                write!(f, "`{}` does not compile", path.display())?;
                match skipped {
                    Some(skipped) => write!(f, "; {skipped}"),
                    None => Ok(()),
                }
            }
            CliError::NotFormatted { file, reason } => match reason {
                FormatError::Syntax(_) => write!(f, "`{file}` was not formatted because it has syntax errors"),
                FormatError::Repeated => write!(
                    f,
                    "`{file}` was not formatted: it repeats a clause that counts only once (two `ticket` \
                     blocks or `expect` lines in one test, or an option given twice), and formatting would \
                     delete all but the last; remove the repetition first"
                ),
                FormatError::Unstable => write!(
                    f,
                    "`{file}` was not formatted: the result would not mean the same policy \
                     (a bug in `routec fmt`; please report it with this file)"
                ),
            },
            CliError::Model(e) => e.fmt(f),
            CliError::Data(e) => e.fmt(f),
            CliError::NoValidTickets { path } => write!(f, "no valid tickets in `{}`", path.display()),
            CliError::NoKnownLabels { field } => write!(f, "no rows with a `{field}` label the model knows"),
            CliError::Engine(e) => e.fmt(f),
            CliError::LanguageServer(_) => f.write_str("the language server stopped"),
            CliError::ReaderGone => f.write_str("the reader of the output went away"),
            CliError::Serve(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Io { source, .. } | CliError::Stream { source, .. } => Some(source),
            CliError::Unusable { source, .. } | CliError::LanguageServer(source) => Some(source.as_ref()),
            // These wrap an error whose message is shown as this one's.
            CliError::Policy(e) => e.source(),
            CliError::Model(e) => e.source(),
            CliError::Data(e) => e.source(),
            CliError::Engine(e) => e.source(),
            CliError::Serve(e) => e.source(),
            _ => None,
        }
    }
}

/// The message printed after `error: `: the error, then each cause in turn
/// after a colon, on one line; a cause whose text the message already shows
/// (many errors print their cause themselves) is not repeated.
pub fn message(error: &CliError) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        let said = e.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = e.source();
    }
    text
}

/// Print `error: …` for `error` on standard error (nothing when the reader
/// went away) and return the exit code it earns. The only place the CLI
/// prints an error.
pub fn report(error: &CliError) -> ExitCode {
    if !matches!(error, CliError::ReaderGone) {
        // Standard error itself may be gone; there is nowhere left to say so.
        let _ = writeln!(std::io::stderr(), "error: {}", message(error));
    }
    error.exit_code()
}

/// The exit code a command has earned so far: what it ends with, also when
/// it is stopped early because its reader went away.
#[derive(Debug, Default)]
pub struct Outcome {
    code: ExitCode,
}

impl Outcome {
    /// Keep `code` if it is more serious than what was earned before.
    pub fn earn(&mut self, code: ExitCode) {
        self.code = self.code.max(code);
    }

    /// Report an error that does not stop the command (one file among
    /// several) and earn its code.
    pub fn failed(&mut self, error: CliError) {
        self.earn(report(&error));
    }

    /// [`Outcome::failed`] for the result of one item, to go on with the
    /// next; a reader that went away still stops the command.
    pub fn carry_on(&mut self, result: Result<(), CliError>) -> Result<(), CliError> {
        match result {
            Err(CliError::ReaderGone) => Err(CliError::ReaderGone),
            Err(error) => {
                self.failed(error);
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    /// The exit code earned so far.
    pub fn code(&self) -> ExitCode {
        self.code
    }
}

/// The exit status of a command that returned `result` after earning
/// `outcome`: an error is reported and counts; a reader that went away ends
/// the command quietly with what it had earned until then.
pub fn finish(result: Result<(), CliError>, mut outcome: Outcome) -> std::process::ExitCode {
    if let Err(error) = result {
        outcome.earn(report(&error));
    }
    outcome.code().into()
}

/// The exit status after clap refused the command line (or printed
/// `--help` / `--version`, which clap reports the same way).
pub fn command_line(error: &clap::Error) -> std::process::ExitCode {
    // clap's own message already starts with `error:` and ends with the usage.
    let _ = error.print();
    if error.use_stderr() {
        ExitCode::Usage.into()
    } else {
        ExitCode::Success.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_follow_the_message_once() {
        let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        assert_eq!(message(&CliError::read("a.route", missing)), "cannot read `a.route`: no such file");
        // The classifier's error prints its cause itself: it is not repeated.
        let inner = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let data = DataError::Io { path: "d.csv".into(), source: inner };
        assert_eq!(message(&CliError::Data(data)), "cannot read `d.csv`: no such file");
    }

    #[test]
    fn the_most_serious_code_wins() {
        let mut outcome = Outcome::default();
        outcome.earn(ExitCode::Io);
        outcome.earn(ExitCode::Findings);
        assert_eq!(outcome.code(), ExitCode::Io);
        assert_eq!(outcome.carry_on(Err(CliError::ReaderGone)).map_err(|e| e.exit_code()), Err(ExitCode::Success));
        assert_eq!(outcome.code(), ExitCode::Io, "a reader that went away keeps what was earned");
    }

    #[test]
    fn each_error_ends_with_the_code_the_readme_gives_it() {
        let io = || std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let cases = [
            (CliError::Usage("`--now x`".into()), ExitCode::Usage),
            (CliError::write("out.model", io()), ExitCode::Io),
            (CliError::Stream { stream: Stream::Input, source: io() }, ExitCode::Io),
            (CliError::Model(ModelError::NotAModel), ExitCode::Io),
            (CliError::NotCompiled { path: "p.route".into(), skipped: None }, ExitCode::Findings),
            (CliError::NotFormatted { file: "p.route".into(), reason: FormatError::Repeated }, ExitCode::Findings),
            (CliError::NotFormatted { file: "p.route".into(), reason: FormatError::Unstable }, ExitCode::Internal),
            (CliError::Data(DataError::Solver("diverged".into())), ExitCode::Internal),
            (CliError::NoValidTickets { path: "t.jsonl".into() }, ExitCode::BadInput),
            (CliError::ReaderGone, ExitCode::Success),
        ];
        for (error, code) in cases {
            assert_eq!(error.exit_code(), code, "{error}");
        }
    }

    #[test]
    fn the_documented_codes_are_distinct() {
        let codes = [
            ExitCode::Success,
            ExitCode::Findings,
            ExitCode::Usage,
            ExitCode::BadInput,
            ExitCode::Io,
            ExitCode::Internal,
        ]
        .map(|c| c as u8);
        assert_eq!(codes, [0, 1, 2, 3, 4, 70]);
    }
}
