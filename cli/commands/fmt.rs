//! `routec fmt`: rewrite policies in the canonical style.
//!
//! Owns the file handling of formatting: reading, rewriting only the files
//! that change, `--check` with a short diff, stdin to stdout, and reporting
//! files that do not parse. The layout itself is `routec_compiler::fmt`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::exit::{CliError, ExitCode, Outcome, Stream};
use crate::output::Output;
use routec_compiler::diagnostic::Rendered;
use routec_compiler::fmt::{format, FormatError};
use routec_compiler::io::FileSystem;
use routec_compiler::SourceDb;
use routec_runtime::DiskFs;

/// Lines of unchanged text shown around a difference.
const CONTEXT: usize = 3;
/// Removed or added lines shown per file before the diff is cut short.
const MAX_DIFF_LINES: usize = 12;

/// Format policies in the canonical style.
#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// Write nothing: list the files that would change, with a diff, and
    /// exit with 1 if there are any.
    #[arg(long)]
    pub check: bool,
    /// Policy files to format in place; `-` or none reads stdin and writes
    /// stdout.
    pub files: Vec<PathBuf>,
}

/// Runs `routec fmt`. Every file is handled even when an earlier one fails.
pub fn run(args: &FmtArgs, outcome: &mut Outcome) -> Result<(), CliError> {
    let mut out = Output::stdout();
    if args.files.is_empty() {
        let handled = stdin(args.check, outcome, &mut out);
        outcome.carry_on(handled)?;
    }
    for path in &args.files {
        let handled = if path.as_os_str() == "-" {
            stdin(args.check, outcome, &mut out)
        } else {
            file(path, args.check, outcome, &mut out)
        };
        outcome.carry_on(handled)?;
    }
    Ok(())
}

/// Formats one file in place (or, with `--check`, says how it would change).
fn file(path: &Path, check: bool, outcome: &mut Outcome, out: &mut Output<impl Write>) -> Result<(), CliError> {
    let name = path.display().to_string();
    // Through `DiskFs`: a regular file, at most the policy size cap.
    let original = DiskFs.read_to_string(path).map_err(|e| CliError::read(path, e))?;
    let formatted = formatted_or_report(&name, &original)?;
    if formatted == original {
        return Ok(());
    }
    if check {
        outcome.earn(ExitCode::Findings);
        writeln!(out, "would reformat {name}")?;
        return write!(out, "{}", diff(&name, &original, &formatted));
    }
    std::fs::write(path, &formatted).map_err(|e| CliError::write(path, e))
}

/// Formats stdin to stdout (or checks it).
fn stdin(check: bool, outcome: &mut Outcome, out: &mut Output<impl Write>) -> Result<(), CliError> {
    let name = "<stdin>";
    let mut original = String::new();
    std::io::stdin()
        .read_to_string(&mut original)
        .map_err(|source| CliError::Stream { stream: Stream::Input, source })?;
    let formatted = formatted_or_report(name, &original)?;
    if check {
        if formatted == original {
            return Ok(());
        }
        outcome.earn(ExitCode::Findings);
        writeln!(out, "would reformat {name}")?;
        return write!(out, "{}", diff(name, &original, &formatted));
    }
    write!(out, "{formatted}")?;
    out.flush()
}

/// The formatted text; when there is none, the syntax errors are rendered
/// first and the error says why.
fn formatted_or_report(name: &str, original: &str) -> Result<String, CliError> {
    match format(original) {
        Ok(text) => Ok(text),
        Err(FormatError::Syntax(diagnostics)) => {
            // `format` parses the text as the first file of a fresh database.
            let mut db = SourceDb::new();
            db.add(name, original);
            let mut err = Output::stderr();
            for diagnostic in diagnostics.clone().into_sorted() {
                writeln!(err, "{:?}", miette::Report::new(Rendered::new(diagnostic, &db)))?;
            }
            Err(CliError::NotFormatted { file: name.to_string(), reason: FormatError::Syntax(diagnostics) })
        }
        Err(reason) => Err(CliError::NotFormatted { file: name.to_string(), reason }),
    }
}

/// A unified diff of the one region where the texts differ: everything
/// between their common first and last lines, with a little context.
fn diff(name: &str, original: &str, formatted: &str) -> String {
    let mut out = format!("--- {name}\n+++ {name} (formatted)\n");
    // Lines are compared without their ending (`lines` drops `\r\n` too);
    // a change of line endings is said once, not shown on every line.
    let crlf = original.contains("\r\n") && !formatted.contains("\r\n");
    let crlf_note = "\\ line endings change from CRLF to LF\n";
    if crlf && original.replace("\r\n", "\n") == formatted {
        out.push_str(crlf_note);
        return out;
    }
    let old: Vec<&str> = original.lines().collect();
    let new: Vec<&str> = formatted.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..].iter().rev().zip(new[prefix..].iter().rev()).take_while(|(a, b)| a == b).count();
    let (old_changed, new_changed) = (&old[prefix..old.len() - suffix], &new[prefix..new.len() - suffix]);
    let start = prefix.saturating_sub(CONTEXT);
    let before = &old[start..prefix];
    let after = &old[old.len() - suffix..(old.len() - suffix + CONTEXT).min(old.len())];

    let old_len = before.len() + old_changed.len() + after.len();
    let new_len = before.len() + new_changed.len() + after.len();
    out.push_str(&format!("@@ -{},{old_len} +{},{new_len} @@\n", start + 1, start + 1));
    for line in before {
        out.push_str(&format!(" {line}\n"));
    }
    push_lines(&mut out, '-', old_changed);
    push_lines(&mut out, '+', new_changed);
    if old_changed.is_empty() && new_changed.is_empty() {
        // Same lines: only the newline at the very end differs.
        out.push_str("\\ the final newline changes\n");
    }
    for line in after {
        out.push_str(&format!(" {line}\n"));
    }
    if crlf {
        out.push_str(crlf_note);
    }
    out
}

fn push_lines(out: &mut String, sign: char, lines: &[&str]) {
    for line in lines.iter().take(MAX_DIFF_LINES) {
        out.push_str(&format!("{sign}{line}\n"));
    }
    if lines.len() > MAX_DIFF_LINES {
        out.push_str(&format!("{sign}… {} more lines\n", lines.len() - MAX_DIFF_LINES));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_the_changed_region_with_context() {
        let diff = diff("p.route", "a\nb\nc\nd\n", "a\nB\nc\nd\n");
        assert_eq!(diff, "--- p.route\n+++ p.route (formatted)\n@@ -1,4 +1,4 @@\n a\n-b\n+B\n c\n d\n");
    }

    #[test]
    fn a_change_of_line_endings_is_said_once() {
        let only_endings = diff("p.route", "a\r\nb\r\n", "a\nb\n");
        assert_eq!(only_endings, "--- p.route\n+++ p.route (formatted)\n\\ line endings change from CRLF to LF\n");
        let one_line_too = diff("p.route", "a\r\nb\r\nc\r\n", "a\nB\nc\n");
        assert_eq!(
            one_line_too,
            "--- p.route\n+++ p.route (formatted)\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n\\ line endings change from CRLF to LF\n"
        );
    }

    #[test]
    fn diff_of_a_missing_final_newline() {
        let diff = diff("p.route", "a", "a\n");
        assert_eq!(diff, "--- p.route\n+++ p.route (formatted)\n@@ -1,1 +1,1 @@\n a\n\\ the final newline changes\n");
    }

    #[test]
    fn diff_of_a_trailing_newline_change() {
        let diff = diff("p.route", "a\n\n", "a\n");
        assert_eq!(diff, "--- p.route\n+++ p.route (formatted)\n@@ -1,2 +1,1 @@\n a\n-\n");
    }
}
