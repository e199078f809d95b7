//! `routec fmt`: rewrite policies in the canonical style.
//!
//! Owns the file handling of formatting: reading, rewriting only the files
//! that change, `--check` with a short diff, stdin to stdout, and reporting
//! files that do not parse. The layout itself is `routec_compiler::fmt`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use routec_compiler::diagnostic::Rendered;
use routec_compiler::fmt::{format, FormatError};
use routec_compiler::SourceDb;

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
pub fn run(args: &FmtArgs) -> ExitCode {
    let mut all_ok = true;
    if args.files.is_empty() {
        all_ok = stdin(args.check);
    }
    for path in &args.files {
        let ok = if path.as_os_str() == "-" { stdin(args.check) } else { file(path, args.check) };
        all_ok &= ok;
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Formats one file in place (or checks it). Returns false when the file
/// failed or, with `--check`, would change.
fn file(path: &Path, check: bool) -> bool {
    let name = path.display().to_string();
    let original = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot read `{name}`: {e}");
            return false;
        }
    };
    let Some(formatted) = formatted_or_report(&name, &original) else {
        return false;
    };
    if formatted == original {
        return true;
    }
    if check {
        println!("would reformat {name}");
        print!("{}", diff(&name, &original, &formatted));
        return false;
    }
    match std::fs::write(path, &formatted) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("error: cannot write `{name}`: {e}");
            false
        }
    }
}

/// Formats stdin to stdout (or checks it).
fn stdin(check: bool) -> bool {
    let name = "<stdin>";
    let mut original = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut original) {
        eprintln!("error: cannot read stdin: {e}");
        return false;
    }
    let Some(formatted) = formatted_or_report(name, &original) else {
        return false;
    };
    if check {
        if formatted == original {
            return true;
        }
        println!("would reformat {name}");
        print!("{}", diff(name, &original, &formatted));
        return false;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(formatted.as_bytes()).and_then(|()| stdout.flush()) {
        eprintln!("error: cannot write stdout: {e}");
        return false;
    }
    true
}

/// The formatted text, or `None` after printing why there is none.
fn formatted_or_report(name: &str, original: &str) -> Option<String> {
    match format(original) {
        Ok(text) => Some(text),
        Err(FormatError::Syntax(diagnostics)) => {
            // `format` parses the text as the first file of a fresh database.
            let mut db = SourceDb::new();
            db.add(name, original);
            for diagnostic in diagnostics.into_sorted() {
                eprintln!("{:?}", miette::Report::new(Rendered::new(diagnostic, &db)));
            }
            eprintln!("error: `{name}` was not formatted because it has syntax errors");
            None
        }
        Err(FormatError::Repeated) => {
            eprintln!(
                "error: `{name}` was not formatted: it repeats a clause that counts only once (two `ticket` \
                 blocks or `expect` lines in one test, or an option given twice), and formatting would \
                 delete all but the last; remove the repetition first"
            );
            None
        }
        Err(FormatError::Unstable) => {
            eprintln!(
                "error: `{name}` was not formatted: the result would not mean the same policy \
                 (a bug in `routec fmt`; please report it with this file)"
            );
            None
        }
    }
}

/// A unified diff of the one region where the texts differ: everything
/// between their common first and last lines, with a little context.
fn diff(name: &str, original: &str, formatted: &str) -> String {
    let old: Vec<&str> = original.lines().collect();
    let new: Vec<&str> = formatted.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..].iter().rev().zip(new[prefix..].iter().rev()).take_while(|(a, b)| a == b).count();
    let (old_changed, new_changed) = (&old[prefix..old.len() - suffix], &new[prefix..new.len() - suffix]);
    let start = prefix.saturating_sub(CONTEXT);
    let before = &old[start..prefix];
    let after = &old[old.len() - suffix..(old.len() - suffix + CONTEXT).min(old.len())];

    let mut out = format!("--- {name}\n+++ {name} (formatted)\n");
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
