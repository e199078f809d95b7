//! Go to definition, find references and rename. References and renames
//! are collected from every analysis that includes the declaring file (the
//! open policies and the workspace policies importing it), so a team
//! declared in `teams.route` is found and renamed in every policy using it.

use super::info::at;
use super::{json, Answer, LspError};
use crate::convert::Locate;
use crate::world::World;
use lsp_types as lsp;
use routec_compiler::ide::{DefKey, RenameError, Snapshot, TextEdit};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

pub(super) fn definition(world: &mut World, p: lsp::GotoDefinitionParams) -> Answer {
    let pos = p.text_document_position_params;
    let Some((view, offset)) = at(world, &pos.text_document, pos.position)? else { return Ok(Value::Null) };
    let Some(def) = view.snap.definition(view.file, offset) else { return Ok(Value::Null) };
    match view.locator().location(def.name_span) {
        Some(location) => json(lsp::GotoDefinitionResponse::Scalar(location)),
        None => Ok(Value::Null),
    }
}

/// A declaration and the analyses to search for it.
type Target = (DefKey, Vec<Arc<Snapshot>>);

/// The key of the name at a position and the analyses to search for it.
fn target(world: &World, doc: &lsp::TextDocumentIdentifier, pos: lsp::Position) -> Result<Option<Target>, LspError> {
    let Some((view, offset)) = at(world, doc, pos)? else { return Ok(None) };
    let Some(key) = view.snap.def_key_at(view.file, offset) else { return Ok(None) };
    let mut snapshots = world.snapshots_including(&key.file);
    if snapshots.is_empty() {
        snapshots.push(view.snap.clone());
    }
    Ok(Some((key, snapshots)))
}

fn location_key(l: &lsp::Location) -> (String, u32, u32, u32, u32) {
    (l.uri.as_str().to_string(), l.range.start.line, l.range.start.character, l.range.end.line, l.range.end.character)
}

pub(super) fn references(world: &mut World, p: lsp::ReferenceParams) -> Answer {
    let pos = p.text_document_position;
    let Some((key, snapshots)) = target(world, &pos.text_document, pos.position)? else { return Ok(Value::Null) };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for snap in &snapshots {
        let locator = world.locator(snap);
        for r in snap.references(&key, p.context.include_declaration) {
            if let Some(l) = locator.location(r.span) {
                if seen.insert(location_key(&l)) {
                    out.push(l);
                }
            }
        }
    }
    out.sort_by_key(location_key);
    json(out)
}

pub(super) fn prepare_rename(world: &mut World, p: lsp::TextDocumentPositionParams) -> Answer {
    let Some((view, offset)) = at(world, &p.text_document, p.position)? else { return Ok(Value::Null) };
    match view.snap.prepare_rename(view.file, offset) {
        Ok(span) => match view.range(span) {
            Some(range) => json(lsp::PrepareRenameResponse::Range(range)),
            None => Ok(Value::Null),
        },
        Err(RenameError::NoName) => Ok(Value::Null),
        Err(e) => Err(LspError::failed(e.to_string())),
    }
}

#[expect(clippy::mutable_key_type, reason = "`WorkspaceEdit` keys its changes by `Uri`")]
pub(super) fn rename(world: &mut World, p: lsp::RenameParams) -> Answer {
    let pos = p.text_document_position;
    let Some((key, snapshots)) = target(world, &pos.text_document, pos.position)? else {
        return Err(LspError::failed(RenameError::NoName.to_string()));
    };
    let mut changes: HashMap<lsp::Uri, Vec<lsp::TextEdit>> = HashMap::new();
    let mut seen = BTreeSet::new();
    for snap in &snapshots {
        let edits: Vec<TextEdit> = snap.rename(&key, &p.new_name).map_err(|e| LspError::failed(e.to_string()))?;
        let locator = world.locator(snap);
        for edit in edits {
            let Some(l) = locator.location(edit.span) else { continue };
            if seen.insert(location_key(&l)) {
                changes.entry(l.uri).or_default().push(lsp::TextEdit { range: l.range, new_text: edit.new_text });
            }
        }
    }
    json(lsp::WorkspaceEdit { changes: Some(changes), ..lsp::WorkspaceEdit::default() })
}
