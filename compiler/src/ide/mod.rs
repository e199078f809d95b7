//! IDE queries over one [`Analysis`]: hover, completion, go to definition,
//! references, rename, symbols, semantic tokens, folding ranges and code
//! actions.
//!
//! Everything here speaks byte offsets and [`Span`]s and returns plain data;
//! it knows nothing about LSP, JSON or editors (that is `routec-lsp`'s job,
//! which converts offsets to UTF-16 positions at its edge). Queries never
//! re-run a pass: they read the AST, the HIR and the diagnostics that
//! [`crate::analyze`] produced, plus a [`NameIndex`] of every declaration and
//! every reference to it, built once per analysis from the AST's spans.
//!
//! A query takes the text the editor currently shows when it needs it
//! (completion looks at the characters before the cursor), so it can be
//! served from the last analysis without syntax errors while the current
//! text does not parse.

mod assists;
mod complete;
mod context;
pub(crate) mod describe;
mod folding;
mod hover;
mod index;
mod lexer;
mod matrix_rows;
mod navigate;
mod pipeline;
mod rename;
mod symbols;
mod tokens;

#[cfg(test)]
mod tests;

pub use assists::{Assist, AssistKind};
pub use complete::{CompletionItem, CompletionKind};
pub use folding::{Fold, FoldKind};
pub use hover::Hover;
pub use index::{Def, DefKey, DefKind, NameIndex, Ref};
pub use navigate::Reference;
pub use pipeline::{
    analyze_without_proofs, analyze_without_proofs_cached, needs_proofs, proofs, proofs_cached, proofs_with,
    ParseCache, ProofCache, Ran, Reuse, Stop,
};
pub use rename::RenameError;
pub use symbols::{Symbol, SymbolKind};
pub use tokens::{SemanticToken, TokenKind, TOKEN_KINDS};

use crate::source::{FileId, Span};
use crate::{Analysis, Diagnostic};
use std::sync::OnceLock;

/// A replacement of the text in `span` (which names its file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub span: Span,
    pub new_text: String,
}

/// An analysis together with its name index: what every query reads.
///
/// The analysis may come from [`analyze_without_proofs`]; the proofs'
/// diagnostics are then added later with [`Snapshot::set_proofs`], from
/// another thread if need be, and may be replaced once by those of an exact
/// run ([`Snapshot::set_exact_proofs`]) when they came from a sound one
/// (see [`Reuse::Sound`]).
#[derive(Debug)]
pub struct Snapshot {
    pub analysis: Analysis,
    /// Built on first use: publishing diagnostics does not need it.
    index: OnceLock<NameIndex>,
    proofs: OnceLock<Vec<Diagnostic>>,
    /// The exact run's, when they differ from `proofs`.
    exact: OnceLock<Vec<Diagnostic>>,
}

impl Snapshot {
    pub fn new(analysis: Analysis) -> Snapshot {
        Snapshot { analysis, index: OnceLock::new(), proofs: OnceLock::new(), exact: OnceLock::new() }
    }

    /// The names declared and referred to in the analysis.
    pub fn index(&self) -> &NameIndex {
        self.index.get_or_init(|| NameIndex::build(&self.analysis.asts))
    }

    /// Add the proofs' diagnostics (once; later calls are ignored).
    pub fn set_proofs(&self, diagnostics: Vec<Diagnostic>) {
        let _ = self.proofs.set(diagnostics);
    }

    /// Set the diagnostics of an exact run of the proofs, replacing those
    /// of a sound one (once); whether they changed what is published.
    pub fn set_exact_proofs(&self, diagnostics: Vec<Diagnostic>) -> bool {
        match self.proofs.get() {
            None => self.proofs.set(diagnostics).is_ok(),
            Some(sound) if *sound == diagnostics => false,
            Some(_) => self.exact.set(diagnostics).is_ok(),
        }
    }

    /// Whether the proofs have been added.
    pub fn has_proofs(&self) -> bool {
        self.proofs.get().is_some()
    }

    /// Every diagnostic: the analysis's, then the proofs' added later.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        let proofs = self.exact.get().or(self.proofs.get());
        self.analysis.diagnostics.iter().chain(proofs.into_iter().flatten())
    }

    /// The `i`th of [`Snapshot::diagnostics`].
    pub fn diagnostic(&self, i: usize) -> Option<&Diagnostic> {
        self.diagnostics().nth(i)
    }

    /// Whether any file of the analysis has a syntax error.
    pub fn has_syntax_errors(&self) -> bool {
        self.analysis.diagnostics.iter().any(|d| d.code == crate::Code::Syntax)
    }

    /// The id of the file called `name` in this analysis.
    pub fn file_id(&self, name: &str) -> Option<FileId> {
        self.analysis.db.find(name)
    }

    /// The name of a file of this analysis.
    pub fn file_name(&self, file: FileId) -> &str {
        &self.analysis.db.file(file).name
    }

    /// The parsed file `file`, if it belongs to this analysis.
    pub(crate) fn ast(&self, file: FileId) -> Option<&crate::syntax::ast::Policy> {
        self.analysis.asts.iter().find(|a| a.file == file)
    }

    /// The text of `file` as this analysis saw it.
    pub fn text(&self, file: FileId) -> &str {
        self.analysis.db.text(file)
    }

    /// Hover information for the name or keyword at `offset`.
    pub fn hover(&self, file: FileId, offset: usize) -> Option<Hover> {
        hover::hover(self, file, offset)
    }

    /// Completions at `offset` in `text`, the text the editor shows now
    /// (which may differ from the text this snapshot analysed).
    pub fn completions(&self, text: &str, offset: usize) -> Vec<CompletionItem> {
        complete::completions(self, text, offset)
    }

    /// The declaration of the name at `offset`.
    pub fn definition(&self, file: FileId, offset: usize) -> Option<Def> {
        navigate::definition(self, file, offset)
    }

    /// A file-independent key for the declaration of the name at `offset`,
    /// to find its references in other analyses.
    pub fn def_key_at(&self, file: FileId, offset: usize) -> Option<DefKey> {
        navigate::def_key_at(self, file, offset)
    }

    /// The declaration (if `include_declaration`) and every use of `key`.
    pub fn references(&self, key: &DefKey, include_declaration: bool) -> Vec<Reference> {
        navigate::references(self, key, include_declaration)
    }

    /// The span of the name at `offset` that rename would change, if it can
    /// be renamed.
    pub fn prepare_rename(&self, file: FileId, offset: usize) -> Result<Span, RenameError> {
        rename::prepare(self, file, offset)
    }

    /// Edits that rename `key` to `new_name` in this analysis's files.
    pub fn rename(&self, key: &DefKey, new_name: &str) -> Result<Vec<TextEdit>, RenameError> {
        rename::rename(self, key, new_name)
    }

    /// The outline of `file`.
    pub fn document_symbols(&self, file: FileId) -> Vec<Symbol> {
        symbols::document_symbols(self, file)
    }

    /// Declarations in every file of the analysis whose name matches `query`
    /// (case-insensitive, characters in order).
    pub fn workspace_symbols(&self, query: &str) -> Vec<Symbol> {
        symbols::workspace_symbols(self, query)
    }

    /// Semantic tokens of `text` (the current text of `file`), in order.
    pub fn semantic_tokens(&self, file: FileId, text: &str) -> Vec<SemanticToken> {
        tokens::semantic_tokens(self, file, text)
    }

    /// Code actions for the diagnostics of `file` that touch `range`.
    pub fn assists(&self, file: FileId, range: Span) -> Vec<Assist> {
        assists::assists(self, file, range)
    }
}

/// `span` without the whitespace at its end (item spans reach up to the
/// next item).
pub(crate) fn trim_end(text: &str, span: Span) -> Span {
    let slice = text.get(span.start as usize..span.end as usize).unwrap_or("");
    Span { end: span.start + slice.trim_end().len() as u32, ..span }
}

/// Folding ranges of a file's text: multi-line items and blocks, runs of
/// comment lines. Needs no analysis, so it works on any text.
pub fn folding_ranges(text: &str) -> Vec<Fold> {
    folding::folding_ranges(text)
}
