//! The name index: every declaration in the parsed files of one analysis and
//! every place that refers to one, with spans.
//!
//! It is built from the AST alone (which has a span on every name), so it
//! also covers the parts of a file that parsed when others did not. References are
//! resolved by name, the way the checker resolves them: destinations,
//! schedules, keyword sets and regexes are global across imported files;
//! an enum value belongs to the field (or classifier, or `priority`) it is
//! compared with. Names that resolve to nothing are not indexed.

use crate::source::Span;
use crate::syntax::ast::{self, DestinationKind};
use std::collections::HashMap;

mod walk;

/// What a declaration declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DefKind {
    /// A leaf field of the ticket schema (`customer.tier`).
    Field,
    /// A record of the ticket schema (`customer`).
    Record,
    /// A value of an enum field (`pro` of `customer.tier`).
    EnumValue,
    /// A label of the classifier (`billing` of `intent`).
    Intent,
    Classifier,
    Priority,
    Schedule,
    Destination,
    KeywordSet,
    Regex,
    Sla,
    Escalation,
    Rule,
    Test,
}

impl DefKind {
    /// The namespace the kind's names live in: two declarations with the
    /// same namespace and name are the same name.
    fn namespace(self) -> DefKind {
        match self {
            DefKind::Record => DefKind::Field,
            DefKind::Escalation => DefKind::Rule,
            other => other,
        }
    }

    /// How the kind reads in messages.
    pub fn word(self) -> &'static str {
        match self {
            DefKind::Field => "field",
            DefKind::Record => "record",
            DefKind::EnumValue => "value",
            DefKind::Intent => "intent",
            DefKind::Classifier => "classifier",
            DefKind::Priority => "priority",
            DefKind::Schedule => "schedule",
            DefKind::Destination => "destination",
            DefKind::KeywordSet => "keyword set",
            DefKind::Regex => "regex",
            DefKind::Sla => "SLA",
            DefKind::Escalation => "escalation",
            DefKind::Rule => "rule",
            DefKind::Test => "test",
        }
    }
}

/// One declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Def {
    pub kind: DefKind,
    /// The name; dotted for fields and records (`customer.tier`).
    pub name: String,
    /// For enum values and intents: the field path or classifier they belong to.
    pub owner: Option<String>,
    /// The name as written in the declaration.
    pub name_span: Span,
    /// The whole declaration.
    pub full_span: Span,
    /// For destinations: team, queue, role or ai.
    pub destination_kind: Option<DestinationKind>,
}

impl Def {
    /// The key that identifies this declaration across analyses.
    pub fn key(&self, file_name: &str) -> DefKey {
        DefKey {
            kind: self.kind.namespace(),
            owner: self.owner.clone(),
            name: self.name.clone(),
            file: file_name.to_string(),
        }
    }
}

/// A declaration named independently of any one analysis: two analyses that
/// include the same file agree on its keys, so references can be collected
/// from every analysis that sees the file.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefKey {
    pub kind: DefKind,
    pub owner: Option<String>,
    pub name: String,
    /// The name of the file that declares it.
    pub file: String,
}

/// A use of a declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ref {
    /// Index into [`NameIndex::defs`].
    pub def: usize,
    pub span: Span,
}

/// Every declaration and reference of one analysis.
#[derive(Clone, Debug, Default)]
pub struct NameIndex {
    pub defs: Vec<Def>,
    /// In source order per file.
    pub refs: Vec<Ref>,
    by_name: HashMap<(DefKind, Option<String>, String), usize>,
    /// Field paths and classifier names that have values, with the kind of those values.
    value_owners: HashMap<String, DefKind>,
}

impl NameIndex {
    /// Index the parsed files of an analysis.
    pub fn build(asts: &[ast::Policy]) -> NameIndex {
        let mut index = NameIndex::default();
        for file in asts {
            walk::declarations(&mut index, file);
        }
        for file in asts {
            walk::references(&mut index, file);
        }
        index.refs.sort_by_key(|r| (r.span.file, r.span.start));
        index
    }

    /// Add a declaration; the first of two with the same name wins lookups.
    pub(super) fn declare(&mut self, def: Def) {
        if def.name_span.is_empty() {
            return;
        }
        let key = (def.kind.namespace(), def.owner.clone(), def.name.clone());
        let idx = self.defs.len();
        self.by_name.entry(key).or_insert(idx);
        if let (DefKind::EnumValue | DefKind::Intent, Some(owner)) = (def.kind, &def.owner) {
            self.value_owners.insert(owner.clone(), def.kind);
        }
        if def.kind == DefKind::Priority {
            self.value_owners.insert("priority".to_string(), DefKind::Priority);
        }
        self.defs.push(def);
    }

    /// The declaration of `name` in the namespace of `kind`.
    pub fn lookup(&self, kind: DefKind, owner: Option<&str>, name: &str) -> Option<usize> {
        self.by_name.get(&(kind.namespace(), owner.map(str::to_string), name.to_string())).copied()
    }

    pub(super) fn refer(&mut self, kind: DefKind, owner: Option<&str>, name: &str, span: Span) -> bool {
        match self.lookup(kind, owner, name) {
            Some(def) => {
                self.refs.push(Ref { def, span });
                true
            }
            None => false,
        }
    }

    /// The declaration whose name, or a reference to it, covers `offset`,
    /// and the span of that occurrence.
    pub fn at(&self, file: crate::FileId, offset: usize) -> Option<(usize, Span)> {
        let covers = |s: Span| s.file == file && s.contains(offset);
        if let Some(r) = self.refs.iter().find(|r| covers(r.span)) {
            return Some((r.def, r.span));
        }
        self.defs.iter().position(|d| covers(d.name_span)).map(|i| (i, self.defs[i].name_span))
    }

    /// The declaration with this key, if this analysis has it.
    pub fn find_key(&self, key: &DefKey, file_name: impl Fn(crate::FileId) -> String) -> Option<usize> {
        let idx = self.lookup(key.kind, key.owner.as_deref(), &key.name)?;
        (file_name(self.defs[idx].name_span.file) == key.file).then_some(idx)
    }

    /// Spans of the references to declaration `def`.
    pub fn refs_of(&self, def: usize) -> impl Iterator<Item = Span> + '_ {
        self.refs.iter().filter(move |r| r.def == def).map(|r| r.span)
    }

    /// The enum a value compared with `path` must come from: `(kind, owner)`.
    pub(super) fn value_owner(&self, path: &str) -> Option<(DefKind, Option<String>)> {
        match self.value_owners.get(path)? {
            DefKind::Priority => Some((DefKind::Priority, None)),
            kind => Some((*kind, Some(path.to_string()))),
        }
    }
}
