//! Go to definition and find references, through the [`NameIndex`].
//!
//! References are found per analysis. A declaration is named by a
//! [`DefKey`] (its namespace, name and file), so the language server can ask
//! every analysis that includes the declaring file (the root policy and any
//! policy importing it) and merge the answers.
//!
//! [`NameIndex`]: super::NameIndex

use super::index::{Def, DefKey};
use super::Snapshot;
use crate::source::{FileId, Span};

/// One occurrence of a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    pub span: Span,
    /// True for the name in the declaration itself.
    pub is_definition: bool,
}

pub(super) fn definition(snap: &Snapshot, file: FileId, offset: usize) -> Option<Def> {
    let (def, _) = snap.index().at(file, offset)?;
    snap.index().defs.get(def).cloned()
}

pub(super) fn def_key_at(snap: &Snapshot, file: FileId, offset: usize) -> Option<DefKey> {
    let def = definition(snap, file, offset)?;
    Some(def.key(snap.file_name(def.name_span.file)))
}

pub(super) fn references(snap: &Snapshot, key: &DefKey, include_declaration: bool) -> Vec<Reference> {
    let Some(def) = snap.index().find_key(key, |f| snap.file_name(f).to_string()) else { return Vec::new() };
    let mut out = Vec::new();
    if include_declaration {
        out.push(Reference { span: snap.index().defs[def].name_span, is_definition: true });
    }
    out.extend(snap.index().refs_of(def).map(|span| Reference { span, is_definition: false }));
    out
}
