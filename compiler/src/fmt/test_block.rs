//! `test "name" { ... }` blocks. Their entries keep the user's order (the
//! AST stores them by kind, so the order is recovered from their spans);
//! `ticket`, `signals` and `load` are values and stay on one line when they
//! fit, like destination settings.

use crate::syntax::ast::*;

use super::layout::Entry;
use super::text;
use super::{layout, scan, Fmt, INDENT};

enum TestEntry<'a> {
    Ticket(&'a [FieldValue]),
    Signals(&'a [FieldValue]),
    At(&'a StrLit),
    Load(&'a [(Ident, u64)]),
    Expect(&'a Expectation),
}

impl TestEntry<'_> {
    /// Where the entry's content starts (after its keyword: the AST keeps no
    /// keyword spans), for ordering.
    fn anchor(&self) -> usize {
        let span = match self {
            TestEntry::Ticket(fields) | TestEntry::Signals(fields) => fields.first().map(|f| f.span),
            TestEntry::At(at) => Some(at.span),
            TestEntry::Load(entries) => entries.first().map(|(name, _)| name.span),
            TestEntry::Expect(exp) => Some(exp.span),
        };
        span.map_or(0, |s| s.start as usize)
    }
}

impl Fmt<'_> {
    pub(super) fn test(&mut self, decl: &TestDecl, end: usize) {
        self.p.push(&format!("test {}", text::str_lit(self.src, &decl.name)));
        let open = self.open_brace(decl.name.span.end as usize);
        let close = self.close_brace(end);
        // An empty `ticket {}` is the same test as none; it is dropped.
        let mut entries = Vec::new();
        if !decl.ticket.is_empty() {
            entries.push(TestEntry::Ticket(&decl.ticket));
        }
        if !decl.signals.is_empty() {
            entries.push(TestEntry::Signals(&decl.signals));
        }
        if let Some(at) = &decl.at {
            entries.push(TestEntry::At(at));
        }
        if !decl.load.is_empty() {
            entries.push(TestEntry::Load(&decl.load));
        }
        if let Some(exp) = &decl.expect {
            entries.push(TestEntry::Expect(exp));
        }
        entries.sort_by_key(TestEntry::anchor);
        self.block(0, open, close, entries.is_empty(), |f| {
            let mut cursor = open + 1;
            for entry in &entries {
                cursor = f.test_entry(entry, cursor);
            }
        });
    }

    /// Prints one entry; `cursor` is where the previous entry ended. Returns
    /// where this one ends.
    fn test_entry(&mut self, entry: &TestEntry<'_>, cursor: usize) -> usize {
        let anchor = entry.anchor();
        match entry {
            TestEntry::Ticket(fields) | TestEntry::Signals(fields) => {
                let keyword = if matches!(entry, TestEntry::Ticket(_)) { "ticket" } else { "signals" };
                let rows: Vec<Entry> = fields
                    .iter()
                    .map(|f| Entry {
                        start: f.span.start as usize,
                        end: f.span.end as usize,
                        text: text::field_value(self.src, f),
                    })
                    .collect();
                self.value_block(keyword, cursor, anchor, &rows)
            }
            TestEntry::Load(loads) => {
                let rows: Vec<Entry> = loads
                    .iter()
                    .map(|(name, n)| Entry {
                        start: name.span.start as usize,
                        end: scan::integer_end(self.src, name.span.end as usize),
                        text: format!("{}: {n}", name.name),
                    })
                    .collect();
                self.value_block("load", cursor, anchor, &rows)
            }
            TestEntry::At(at) => {
                self.p.start_line(INDENT, anchor);
                self.p.token(&format!("at {}", text::str_lit(self.src, at)), at.span.end as usize);
                self.p.end_line();
                at.span.end as usize
            }
            TestEntry::Expect(exp) => {
                self.p.start_line(INDENT, anchor);
                self.p.token(&text::expectation(exp), exp.span.end as usize);
                self.p.end_line();
                exp.span.end as usize
            }
        }
    }

    /// `keyword { a: 1, b: 2 }` inside a test: its `{` is the last one
    /// before the first value.
    fn value_block(&mut self, keyword: &str, cursor: usize, first: usize, rows: &[Entry]) -> usize {
        let open = scan::find_last(self.src, cursor, first, b'{').unwrap_or(cursor);
        let after = rows.last().map_or(first, |r| r.end);
        let close = scan::find(self.src, after, b'}').unwrap_or(after);
        self.p.start_line(INDENT, open);
        self.p.push(keyword);
        self.settings(INDENT, open, close, rows, &layout::VALUES);
        self.p.end_line();
        close + 1
    }
}
