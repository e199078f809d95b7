//! Document symbols (the outline of one file) and workspace symbols (every
//! declaration of every file in the analysis, filtered by a query). Read
//! from the AST, so the parts of a file that parse are listed even while
//! another part has a syntax error.

use super::Snapshot;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, ItemKind};

/// What a symbol is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Policy,
    Import,
    Mode,
    Schema,
    Record,
    Field,
    Schedule,
    Destination,
    KeywordSet,
    Regex,
    Classifier,
    Intent,
    Priorities,
    PriorityBlock,
    Sla,
    Escalation,
    Rule,
    Matrix,
    Row,
    Otherwise,
    Test,
}

/// One entry of the outline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole declaration.
    pub full_span: Span,
    /// The part to select (the name, when there is one); inside `full_span`.
    pub name_span: Span,
    /// The symbol this one is nested in, for workspace symbols.
    pub container: Option<String>,
    pub children: Vec<Symbol>,
}

fn symbol(name: impl Into<String>, kind: SymbolKind, full_span: Span, name_span: Span) -> Symbol {
    Symbol { name: name.into(), detail: None, kind, full_span, name_span, container: None, children: Vec::new() }
}

fn with_detail(mut s: Symbol, detail: impl Into<String>) -> Symbol {
    s.detail = Some(detail.into());
    s
}

pub(super) fn document_symbols(snap: &Snapshot, file: FileId) -> Vec<Symbol> {
    let Some(ast) = snap.ast(file) else { return Vec::new() };
    let text = snap.text(file);
    let mut symbols: Vec<Symbol> = ast.items.iter().filter_map(|item| item_symbol(text, item)).collect();
    trim(text, &mut symbols);
    symbols
}

/// Spans without trailing whitespace (pest's spans of items and rows include it).
fn trim(text: &str, symbols: &mut [Symbol]) {
    for s in symbols {
        s.full_span = super::trim_end(text, s.full_span);
        s.name_span = super::trim_end(text, s.name_span);
        trim(text, &mut s.children);
    }
}

fn item_symbol(text: &str, item: &ast::Item) -> Option<Symbol> {
    let span = item.span;
    let slice = |s: Span| text.get(s.start as usize..s.end as usize).unwrap_or("").to_string();
    Some(match &item.kind {
        ItemKind::Policy(p) => {
            let version = p.version.map(|(v, _)| format!(" version {v}")).unwrap_or_default();
            with_detail(symbol(&p.name.value, SymbolKind::Policy, span, p.name.span), format!("policy{version}"))
        }
        ItemKind::Import(path) => symbol(&path.value, SymbolKind::Import, span, path.span),
        ItemKind::Mode(m) => symbol(slice(span), SymbolKind::Mode, span, m.span),
        ItemKind::Ticket(t) => {
            let mut s = symbol("ticket", SymbolKind::Schema, span, span);
            s.children = fields(&t.fields);
            s
        }
        ItemKind::Schedule(s) => with_detail(symbol(&s.name.name, SymbolKind::Schedule, span, s.name.span), "schedule"),
        ItemKind::Destination(d) => {
            with_detail(symbol(&d.name.name, SymbolKind::Destination, span, d.name.span), d.kind.keyword())
        }
        ItemKind::Keywords(k) => {
            with_detail(symbol(&k.name.name, SymbolKind::KeywordSet, span, k.name.span), "keywords")
        }
        ItemKind::Regex(r) => with_detail(symbol(&r.name.name, SymbolKind::Regex, span, r.name.span), "regex"),
        ItemKind::Classifier(c) => {
            let mut s = with_detail(symbol(&c.name.name, SymbolKind::Classifier, span, c.name.span), "classifier");
            for entry in &c.entries {
                if let ast::ClassifierEntry::Labels(labels) = entry {
                    s.children.extend(labels.iter().map(|l| symbol(&l.name, SymbolKind::Intent, l.span, l.span)));
                }
            }
            s
        }
        ItemKind::Priorities(levels) => {
            let names: Vec<&str> = levels.iter().map(|l| l.name.as_str()).collect();
            with_detail(symbol("priorities", SymbolKind::Priorities, span, span), names.join(", "))
        }
        ItemKind::Priority(_) => symbol("priority", SymbolKind::PriorityBlock, span, span),
        ItemKind::Sla(s) => with_detail(symbol(&s.name.name, SymbolKind::Sla, span, s.name.span), "sla"),
        ItemKind::Escalate(r) => with_detail(
            symbol(&r.name.name, SymbolKind::Escalation, span, r.name.span),
            format!("escalate -> {}", r.outcome.destination.name),
        ),
        ItemKind::Rule(r) => with_detail(
            symbol(&r.name.name, SymbolKind::Rule, span, r.name.span),
            format!("rule -> {}", r.outcome.destination.name),
        ),
        ItemKind::Matrix(m) => {
            let dims: Vec<String> = m.dimensions.iter().map(ast::Path::dotted).collect();
            let head = m.dimensions.first().map(|d| d.span).unwrap_or(span);
            let head = m.dimensions.last().map(|d| head.to(d.span)).unwrap_or(head);
            let mut s = symbol(format!("matrix {}", dims.join(", ")), SymbolKind::Matrix, span, head);
            for row in &m.rows {
                let cells: Vec<String> = row.cells.iter().map(|c| slice(c.span()).trim().to_string()).collect();
                let name = format!("{} -> {}", cells.join(", "), row.outcome.destination.name);
                s.children.push(symbol(name, SymbolKind::Row, row.span, row.span));
            }
            s
        }
        ItemKind::Otherwise(o) => {
            with_detail(symbol("otherwise", SymbolKind::Otherwise, span, span), format!("-> {}", o.destination.name))
        }
        ItemKind::Test(t) => with_detail(symbol(&t.name.value, SymbolKind::Test, span, t.name.span), "test"),
        ItemKind::Error => return None,
    })
}

fn fields(decls: &[ast::FieldDecl]) -> Vec<Symbol> {
    decls
        .iter()
        .map(|f| match &f.ty.kind {
            ast::TypeKind::Record(inner) => {
                let mut s = symbol(&f.name.name, SymbolKind::Record, f.span, f.name.span);
                s.children = fields(inner);
                s
            }
            _ => symbol(&f.name.name, SymbolKind::Field, f.span, f.name.span),
        })
        .collect()
}

/// Whether the characters of `query` appear in `name` in order, ignoring case.
fn fuzzy(query: &str, name: &str) -> bool {
    let mut name = name.chars().flat_map(char::to_lowercase);
    query.chars().flat_map(char::to_lowercase).all(|q| name.any(|c| c == q))
}

pub(super) fn workspace_symbols(snap: &Snapshot, query: &str) -> Vec<Symbol> {
    let mut out = Vec::new();
    for ast in &snap.analysis.asts {
        let mut stack: Vec<Symbol> = document_symbols(snap, ast.file);
        stack.reverse();
        while let Some(mut s) = stack.pop() {
            let children = std::mem::take(&mut s.children);
            for mut child in children.into_iter().rev() {
                child.container = Some(s.name.clone());
                stack.push(child);
            }
            if s.kind != SymbolKind::Row && fuzzy(query, &s.name) {
                out.push(s);
            }
        }
    }
    out
}
