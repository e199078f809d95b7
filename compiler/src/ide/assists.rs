//! Code actions (quick fixes) for the analysis's own diagnostics: apply a
//! diagnostic's did-you-mean suggestion, declare a missing destination,
//! keyword set or schedule, and add the rows a non-exhaustive matrix lacks
//! (see [`matrix_rows`](super::matrix_rows)).
//!
//! Actions are computed from the diagnostics of the analysis, never from
//! what the editor sends back, so they always match the current text.

use super::index::DefKind;
use super::matrix_rows;
use super::{Snapshot, TextEdit};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// What an action is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssistKind {
    QuickFix,
}

/// One code action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assist {
    pub title: String,
    pub kind: AssistKind,
    /// Index into [`Snapshot::diagnostics`] of the one this fixes.
    pub diagnostic: Option<usize>,
    /// The action an editor may apply without asking (an exact suggestion).
    pub preferred: bool,
    pub edits: Vec<TextEdit>,
}

fn overlaps(a: Span, b: Span) -> bool {
    a.file == b.file && a.start <= b.end && b.start <= a.end
}

pub(super) fn assists(snap: &Snapshot, file: FileId, range: Span) -> Vec<Assist> {
    let range = Span { file, ..range };
    let mut out = Vec::new();
    for (i, d) in snap.diagnostics().enumerate() {
        let Some(span) = d.span() else { continue };
        if !overlaps(span, range) {
            continue;
        }
        let before = out.len();
        if let Some(replacement) = &d.suggestion {
            let old = snap.analysis.db.slice(span);
            out.push(Assist {
                title: format!("replace `{old}` with `{replacement}`"),
                kind: AssistKind::QuickFix,
                diagnostic: None,
                preferred: true,
                edits: vec![TextEdit { span, new_text: replacement.clone() }],
            });
        }
        if d.code == Code::UnknownName {
            out.extend(declare_missing(snap, d, span));
        }
        if d.code == Code::NonExhaustiveMatrix {
            out.extend(matrix_rows::assists(snap, d, span));
        }
        for a in &mut out[before..] {
            a.diagnostic = Some(i);
        }
    }
    out
}

/// `unknown destination `x``, `unknown keyword set `x``, `unknown schedule `x``:
/// declare it after the last declaration of its kind.
fn declare_missing(snap: &Snapshot, d: &Diagnostic, span: Span) -> Option<Assist> {
    let name = snap.analysis.db.slice(span).to_string();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let (kind, title, decl) = if d.message.starts_with("unknown destination") {
        (DefKind::Destination, format!("create team `{name}`"), format!("team {name}"))
    } else if d.message.starts_with("unknown keyword set") {
        let phrase = name.replace('_', " ");
        (DefKind::KeywordSet, format!("create keyword set `{name}`"), format!("keywords {name} = [\"{phrase}\"]"))
    } else if d.message.starts_with("unknown schedule") {
        (
            DefKind::Schedule,
            format!("create schedule `{name}`"),
            format!("schedule {name} {{\n  timezone \"UTC\"\n  mon-fri 09:00-17:00\n}}"),
        )
    } else {
        return None;
    };
    let last = snap.index().defs.iter().filter(|def| def.kind == kind).max_by_key(|def| {
        // The last declaration in the diagnostic's file, else the last anywhere.
        (def.full_span.file == span.file, def.full_span.file, def.full_span.end)
    });
    let edit = match last {
        Some(def) => insert_after_line(snap, super::trim_end(snap.text(def.full_span.file), def.full_span), &decl),
        None => append(snap, span.file, &decl),
    };
    Some(Assist { title, kind: AssistKind::QuickFix, diagnostic: None, preferred: false, edits: vec![edit] })
}

/// Insert `text` as a new line after the line on which `after` ends.
pub(super) fn insert_after_line(snap: &Snapshot, after: Span, text: &str) -> TextEdit {
    let source = snap.text(after.file);
    let end = after.end as usize;
    match source.get(end..).and_then(|rest| rest.find('\n')) {
        Some(n) => {
            let at = end + n + 1;
            TextEdit { span: Span::new(after.file, at, at), new_text: format!("{text}\n") }
        }
        None => TextEdit { span: Span::new(after.file, source.len(), source.len()), new_text: format!("\n{text}\n") },
    }
}

/// Append `text` as the last line of `file`.
fn append(snap: &Snapshot, file: FileId, text: &str) -> TextEdit {
    let source = snap.text(file);
    let sep = if source.is_empty() || source.ends_with('\n') { "" } else { "\n" };
    TextEdit { span: Span::new(file, source.len(), source.len()), new_text: format!("{sep}\n{text}\n") }
}
