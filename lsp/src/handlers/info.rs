//! Hover and completion: answered from the last good analysis while the
//! document does not parse (completion reads the current text for what is
//! being typed, and the analysis for which names exist).

use super::{json, Answer};
use crate::convert;
use crate::world::{View, World};
use lsp_types as lsp;
use serde_json::Value;

/// The view and analysed offset of a position: the last good analysis if
/// the position is outside the current edit, else the current analysis.
pub(super) fn at<'w>(
    world: &'w World,
    doc: &lsp::TextDocumentIdentifier,
    pos: lsp::Position,
) -> Result<Option<(View<'w>, usize)>, super::LspError> {
    let view = world.view(&doc.uri)?;
    if let Some(offset) = view.offset(pos)? {
        return Ok(Some((view, offset)));
    }
    let current = world.current_view(&doc.uri)?;
    Ok(current.offset(pos)?.map(|o| (current, o)))
}

pub(super) fn hover(world: &mut World, p: lsp::HoverParams) -> Answer {
    let pos = p.text_document_position_params;
    let Some((view, offset)) = at(world, &pos.text_document, pos.position)? else { return Ok(Value::Null) };
    let Some(hover) = view.snap.hover(view.file, offset) else { return Ok(Value::Null) };
    json(lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: hover.markdown,
        }),
        range: view.range(hover.span),
    })
}

pub(super) fn completion(world: &mut World, p: lsp::CompletionParams) -> Answer {
    let pos = p.text_document_position;
    let view = world.view(&pos.text_document.uri)?;
    let offset = view.doc_offset(pos.position)?;
    let items: Vec<lsp::CompletionItem> = view
        .snap
        .completions(&view.doc.text, offset)
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let range = convert::range(&view.doc.lines, item.replace.start, item.replace.end);
            lsp::CompletionItem {
                label: item.label,
                kind: Some(convert::completion_kind(item.kind)),
                detail: item.detail,
                sort_text: Some(format!("{i:04}")),
                insert_text_format: Some(if item.snippet {
                    lsp::InsertTextFormat::SNIPPET
                } else {
                    lsp::InsertTextFormat::PLAIN_TEXT
                }),
                text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit { range, new_text: item.insert })),
                ..lsp::CompletionItem::default()
            }
        })
        .collect();
    json(lsp::CompletionList { is_incomplete: false, items })
}
