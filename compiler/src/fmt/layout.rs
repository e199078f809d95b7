//! Layout helpers shared by every construct: `{ ... }` blocks, the
//! one-line-or-block choice for settings, string lists that break when
//! long, and `@allow(...)` lines.

use crate::syntax::ast::{Allow, StrLit};

use super::text::{self, width};
use super::{scan, Fmt, INDENT, WIDTH};

/// One entry of a settings body (`{ hours x  capacity 4 }`, a test's
/// `ticket { ... }`), rendered on one line.
pub(super) struct Entry {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) text: String,
}

/// How a body of settings is written.
pub(super) struct SettingsStyle {
    /// Between entries on one line.
    separator: &'static str,
    /// A body with more entries is always a block.
    max_on_one_line: usize,
    /// After each entry of a block.
    line_end: &'static str,
}

/// Destination settings have no separator in the grammar; two spaces keep
/// `hours x  capacity 4` from blurring into one phrase, and more than two
/// settings on one line no longer read as a list.
pub(super) const DESTINATION: SettingsStyle = SettingsStyle { separator: "  ", max_on_one_line: 2, line_end: "" };

/// Values in a test (`ticket { subject: "x", vip: true }`) are a record
/// literal: commas between them, and after each one in a block, as lists.
pub(super) const VALUES: SettingsStyle = SettingsStyle { separator: ", ", max_on_one_line: usize::MAX, line_end: "," };

impl Fmt<'_> {
    /// `{` after the header already on the open line, the entries printed by
    /// `body` (each starts its own line at `indent + INDENT`), then `}`.
    /// `open` is the offset of `{` and `close` the offset of `}`. An empty
    /// block without comments prints as `{}`.
    pub(super) fn block(
        &mut self,
        indent: usize,
        open: usize,
        close: usize,
        empty: bool,
        body: impl FnOnce(&mut Self),
    ) {
        if empty && !self.p.comments_in(open, close) {
            self.p.push(" {}");
            self.p.token("", close + 1);
            return;
        }
        self.p.token(" {", open + 1);
        self.p.end_line();
        self.p.suppress_blank();
        body(self);
        self.p.flush_comments(close, indent + INDENT);
        self.p.suppress_blank();
        self.p.start_line(indent, close);
        self.p.token("}", close + 1);
    }

    /// A body of settings: on the open line as `{ a<sep>b }` when it has
    /// few enough entries, fits and holds no comment; otherwise a block with
    /// one entry per line.
    pub(super) fn settings(
        &mut self,
        indent: usize,
        open: usize,
        close: usize,
        entries: &[Entry],
        style: &SettingsStyle,
    ) {
        let joined: Vec<&str> = entries.iter().map(|e| e.text.as_str()).collect();
        let one_line = format!(" {{ {} }}", joined.join(style.separator));
        let fits = self.p.column() + width(&one_line) <= WIDTH;
        let few = (1..=style.max_on_one_line).contains(&entries.len());
        if few && fits && !self.p.comments_in(open, close) {
            self.p.token(&one_line, close + 1);
            return;
        }
        self.block(indent, open, close, entries.is_empty(), |f| {
            for entry in entries {
                f.p.start_line(indent + INDENT, entry.start);
                f.p.token(&format!("{}{}", entry.text, style.line_end), entry.end);
                f.p.end_line();
            }
        });
    }

    /// A string list ending the open line: `["a", "b"]` when it fits and
    /// holds no comment. Otherwise `[`, the strings, `]` on its own line,
    /// each string followed by a comma. Strings the user wrote on one line
    /// stay on one line (a keyword set grouped by language stays grouped),
    /// wrapped where a line would overflow. `open` is the offset of `[`.
    pub(super) fn string_list(&mut self, indent: usize, open: usize, items: &[StrLit]) {
        let after_items = items.last().map_or(open + 1, |s| s.span.end as usize);
        let close = scan::find(self.src, after_items, b']').unwrap_or(after_items);
        let one_line = text::string_list(self.src, items);
        let fits = self.p.column() + width(&one_line) <= WIDTH;
        if items.is_empty() || (fits && !self.p.comments_in(open, close)) {
            self.p.token(&one_line, close + 1);
            return;
        }
        self.p.token("[", open + 1);
        let mut previous_end = open + 1;
        for (i, item) in items.iter().enumerate() {
            let (start, end) = (item.span.start as usize, item.span.end as usize);
            let element = format!("{},", text::str_lit(self.src, item));
            let new_source_line = self.src.get(previous_end..start).is_none_or(|gap| gap.contains('\n'));
            let first = i == 0;
            if first || new_source_line || self.p.column() + 1 + width(&element) > WIDTH {
                self.p.end_line();
                if first {
                    self.p.suppress_blank();
                }
                self.p.start_line(indent + INDENT, start);
            } else {
                self.p.push(" ");
            }
            self.p.token(&element, end);
            previous_end = end;
        }
        self.p.end_line();
        self.p.flush_comments(close, indent + INDENT);
        self.p.suppress_blank();
        self.p.start_line(indent, close);
        self.p.token("]", close + 1);
    }

    /// Prints `@allow(a, b)` on its own line when there are codes (several
    /// `@allow`s merge into one) and returns where the construct itself
    /// starts.
    pub(super) fn allow_line(&mut self, allows: &[Allow], start: usize, indent: usize) -> usize {
        let Some(last) = allows.last() else {
            return start;
        };
        let codes: Vec<&str> = allows.iter().map(|a| a.code.as_str()).collect();
        let after = last.span.end as usize;
        let close = scan::find(self.src, after, b')').map_or(after, |i| i + 1);
        self.p.start_line(indent, start);
        self.p.token(&format!("@allow({})", codes.join(", ")), close);
        self.p.end_line();
        self.p.suppress_blank();
        close
    }

    /// Offset of the `{` that opens a block, searched from `from`.
    pub(super) fn open_brace(&self, from: usize) -> usize {
        scan::find(self.src, from, b'{').unwrap_or(from)
    }

    /// Offset of the `}` that ends a construct whose span ends at `end`.
    pub(super) fn close_brace(&self, end: usize) -> usize {
        let last = end.saturating_sub(1);
        if self.src.as_bytes().get(last) == Some(&b'}') {
            last
        } else {
            scan::find(self.src, end, b'}').unwrap_or(end)
        }
    }
}
