//! Formatting (the formatter of `routec fmt`) and code actions (the
//! compiler's quick fixes for the current diagnostics). Both work on the
//! current text, never on an older analysis.

use super::{json, Answer, LspError};
use crate::convert::{self, Locate};
use crate::shift::Shift;
use crate::world::World;
use lsp_types as lsp;
use routec_compiler::fmt::{format, FormatError};
use routec_compiler::Span;
use serde_json::Value;
use std::collections::HashMap;

pub(super) fn formatting(world: &mut World, p: lsp::DocumentFormattingParams) -> Answer {
    let view = world.current_view(&p.text_document.uri)?;
    let text = &view.doc.text;
    match format(text) {
        Ok(formatted) => {
            // One edit covering only what changed, so the editor keeps the cursor.
            let shift = Shift::between(text, &formatted);
            if shift.is_identity() {
                return json(Vec::<lsp::TextEdit>::new());
            }
            let (old, new) = shift.changed();
            json(vec![lsp::TextEdit {
                range: convert::range(&view.doc.lines, old.start, old.end),
                new_text: formatted[new].to_string(),
            }])
        }
        // Like `routec fmt`: a file with syntax errors is left alone; the
        // errors are already among the diagnostics.
        Err(FormatError::Syntax(_)) => Ok(Value::Null),
        Err(e) => Err(LspError::failed(e.to_string())),
    }
}

#[expect(clippy::mutable_key_type, reason = "`WorkspaceEdit` keys its changes by `Uri`")]
pub(super) fn code_actions(world: &mut World, p: lsp::CodeActionParams) -> Answer {
    let quick_fixes_wanted =
        p.context.only.as_ref().is_none_or(|only| only.iter().any(|k| k.as_str().starts_with("quickfix")));
    if !quick_fixes_wanted {
        return json(Vec::<lsp::CodeAction>::new());
    }
    let view = world.current_view(&p.text_document.uri)?;
    let start = view.doc_offset(p.range.start)?;
    let end = view.doc_offset(p.range.end)?.max(start);
    let snap = &view.snap;
    let locator = view.locator();
    let mut actions = Vec::new();
    for assist in snap.assists(view.file, Span::new(view.file, start, end)) {
        let mut changes: HashMap<lsp::Uri, Vec<lsp::TextEdit>> = HashMap::new();
        for edit in &assist.edits {
            let Some(l) = locator.location(edit.span) else { continue };
            changes.entry(l.uri).or_default().push(lsp::TextEdit { range: l.range, new_text: edit.new_text.clone() });
        }
        let diagnostics = assist.diagnostic.and_then(|i| snap.diagnostic(i)).and_then(|d| {
            let range = view.range(d.span()?)?;
            Some(vec![convert::diagnostic(d, range, &locator)])
        });
        actions.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
            title: assist.title,
            kind: Some(lsp::CodeActionKind::QUICKFIX),
            diagnostics,
            edit: Some(lsp::WorkspaceEdit { changes: Some(changes), ..lsp::WorkspaceEdit::default() }),
            is_preferred: assist.preferred.then_some(true),
            ..lsp::CodeAction::default()
        }));
    }
    json(actions)
}
