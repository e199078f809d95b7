//! Document and workspace symbols, folding ranges and semantic tokens.

use super::{json, Answer};
use crate::convert::{self, Locate};
use crate::world::{View, World};
use lsp_types as lsp;
use routec_compiler::ide::{self, Symbol, TOKEN_KINDS};
use std::collections::BTreeSet;

/// Workspace symbols returned at most.
const MAX_WORKSPACE_SYMBOLS: usize = 500;

#[expect(deprecated, reason = "`DocumentSymbol::deprecated` must still be set")]
fn document_symbol(view: &View<'_>, s: Symbol) -> Option<lsp::DocumentSymbol> {
    let range = view.range(s.full_span)?;
    let selection_range = view.range(s.name_span).filter(|r| r.start >= range.start && r.end <= range.end)?;
    let children: Vec<lsp::DocumentSymbol> = s.children.into_iter().filter_map(|c| document_symbol(view, c)).collect();
    Some(lsp::DocumentSymbol {
        name: if s.name.is_empty() { "_".to_string() } else { s.name },
        detail: s.detail,
        kind: convert::symbol_kind(s.kind),
        tags: None,
        deprecated: None,
        range,
        selection_range,
        children: (!children.is_empty()).then_some(children),
    })
}

pub(super) fn document_symbols(world: &mut World, p: lsp::DocumentSymbolParams) -> Answer {
    let view = world.view(&p.text_document.uri)?;
    let symbols: Vec<lsp::DocumentSymbol> =
        view.snap.document_symbols(view.file).into_iter().filter_map(|s| document_symbol(&view, s)).collect();
    json(lsp::DocumentSymbolResponse::Nested(symbols))
}

pub(super) fn workspace_symbols(world: &mut World, p: lsp::WorkspaceSymbolParams) -> Answer {
    let snapshots = world.all_snapshots();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for snap in &snapshots {
        let locator = world.locator(snap);
        for s in snap.workspace_symbols(&p.query) {
            let Some(location) = locator.location(s.name_span) else { continue };
            let key = (location.uri.as_str().to_string(), location.range.start.line, location.range.start.character);
            if !seen.insert(key) || out.len() >= MAX_WORKSPACE_SYMBOLS {
                continue;
            }
            out.push(lsp::WorkspaceSymbol {
                name: s.name,
                kind: convert::symbol_kind(s.kind),
                tags: None,
                container_name: s.container,
                location: lsp::OneOf::Left(location),
                data: None,
            });
        }
    }
    json(lsp::WorkspaceSymbolResponse::Nested(out))
}

pub(super) fn folding_ranges(world: &mut World, p: lsp::FoldingRangeParams) -> Answer {
    let view = world.current_view(&p.text_document.uri)?;
    let folds: Vec<lsp::FoldingRange> = ide::folding_ranges(&view.doc.text)
        .into_iter()
        .map(|f| lsp::FoldingRange {
            start_line: f.start_line,
            end_line: f.end_line,
            kind: Some(convert::fold_kind(f.kind)),
            ..lsp::FoldingRange::default()
        })
        .collect();
    json(folds)
}

pub(super) fn semantic_tokens(world: &mut World, p: lsp::SemanticTokensParams) -> Answer {
    let view = world.view(&p.text_document.uri)?;
    let text = &view.doc.text;
    let mut data = Vec::new();
    let (mut last_line, mut last_col) = (0, 0);
    for t in view.snap.semantic_tokens(view.file, text) {
        let start = convert::position(&view.doc.lines, t.start);
        let length = text.get(t.start..t.end).map_or(0, |s| s.encode_utf16().count()) as u32;
        let delta_line = start.line - last_line;
        let delta_start = if delta_line == 0 { start.character - last_col } else { start.character };
        let token_type = TOKEN_KINDS.iter().position(|k| *k == t.kind).unwrap_or(0) as u32;
        data.push(lsp::SemanticToken {
            delta_line,
            delta_start,
            length,
            token_type,
            token_modifiers_bitset: u32::from(t.declaration),
        });
        (last_line, last_col) = (start.line, start.character);
    }
    json(lsp::SemanticTokens { result_id: None, data })
}
