//! Top-level layout: the blank lines between items, and the items whose
//! body is a plain block of declarations (`ticket`, `schedule`,
//! destinations, `classifier`, `sla`, `test`) or a single line.

use crate::syntax::ast::*;

use super::layout::Entry;
use super::text;
use super::{layout, scan, Fmt, INDENT};

/// Items of one group may sit on adjacent lines; a change of group always
/// gets a blank line. `policy` and `mode` are one group, destinations of
/// every kind another, and the two kinds of text pattern a third.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    /// `policy` and `mode`: the policy's own settings.
    Header,
    Import,
    Ticket,
    Schedule,
    Destination,
    Pattern,
    Classifier,
    Priorities,
    Priority,
    Sla,
    Escalate,
    Rule,
    Matrix,
    Otherwise,
    Test,
    Error,
}

/// Items whose body is a `{ }` block (when it is not on one line).
fn has_block(kind: &ItemKind) -> bool {
    matches!(
        kind,
        ItemKind::Ticket(_)
            | ItemKind::Schedule(_)
            | ItemKind::Destination(_)
            | ItemKind::Classifier(_)
            | ItemKind::Priority(_)
            | ItemKind::Sla(_)
            | ItemKind::Matrix(_)
            | ItemKind::Test(_)
    )
}

fn group(kind: &ItemKind) -> Group {
    match kind {
        ItemKind::Policy(_) | ItemKind::Mode(_) => Group::Header,
        ItemKind::Import(_) => Group::Import,
        ItemKind::Ticket(_) => Group::Ticket,
        ItemKind::Schedule(_) => Group::Schedule,
        ItemKind::Destination(_) => Group::Destination,
        ItemKind::Keywords(_) | ItemKind::Regex(_) => Group::Pattern,
        ItemKind::Classifier(_) => Group::Classifier,
        ItemKind::Priorities(_) => Group::Priorities,
        ItemKind::Priority(_) => Group::Priority,
        ItemKind::Sla(_) => Group::Sla,
        ItemKind::Escalate(_) => Group::Escalate,
        ItemKind::Rule(_) => Group::Rule,
        ItemKind::Matrix(_) => Group::Matrix,
        ItemKind::Otherwise(_) => Group::Otherwise,
        ItemKind::Test(_) => Group::Test,
        ItemKind::Error => Group::Error,
    }
}

impl Fmt<'_> {
    /// The whole file. Between two items there is one blank line when their
    /// groups differ or either is a `{ }` block printed over several lines;
    /// otherwise the user's choice (none, or one blank line) is kept, so
    /// rules grouped under one comment stay together.
    pub(super) fn policy(&mut self, policy: &Policy) {
        let mut previous: Option<(Group, bool)> = None;
        for item in &policy.items {
            let gap = self.p.mark();
            self.p.flush_comments(item.span.start as usize, 0);
            let lines = self.p.line_count();
            self.item(item);
            self.p.end_line();
            let block = has_block(&item.kind) && self.p.line_count() - lines > 1;
            let this = (group(&item.kind), block);
            if let Some(prev) = previous {
                if prev.0 != this.0 || prev.1 || this.1 {
                    self.p.ensure_blank_at(gap);
                }
            }
            previous = Some(this);
        }
    }

    fn item(&mut self, item: &Item) {
        let start = self.allow_line(&item.allows, item.span.start as usize, 0);
        let end = item.span.end as usize;
        self.p.start_line(0, start);
        match &item.kind {
            ItemKind::Policy(decl) => {
                let mut line = format!("policy {}", text::str_lit(self.src, &decl.name));
                if let Some((version, _)) = decl.version {
                    line.push_str(&format!(" version {version}"));
                }
                self.p.token(&line, end);
            }
            ItemKind::Import(path) => self.p.token(&format!("import {}", text::str_lit(self.src, path)), end),
            ItemKind::Mode(decl) => {
                let mode = match decl.mode {
                    Mode::Enforce => "enforce",
                    Mode::Shadow => "shadow",
                };
                self.p.token(&format!("mode {mode}"), end);
            }
            ItemKind::Ticket(decl) => {
                self.p.push("ticket");
                self.fields(0, self.open_brace(start), self.close_brace(end), &decl.fields);
            }
            ItemKind::Schedule(decl) => self.schedule(decl, end),
            ItemKind::Destination(decl) => self.destination(decl, end),
            ItemKind::Keywords(decl) => {
                self.p.push(&format!("keywords {} = ", decl.name.name));
                let open = scan::find(self.src, decl.name.span.end as usize, b'[').unwrap_or(end);
                self.string_list(0, open, &decl.phrases);
            }
            ItemKind::Regex(decl) => {
                self.p.token(&format!("regex {} = {}", decl.name.name, text::str_lit(self.src, &decl.pattern)), end);
            }
            ItemKind::Classifier(decl) => self.classifier(decl, end),
            ItemKind::Priorities(levels) => self.p.token(&format!("priorities {}", text::idents(levels)), end),
            ItemKind::Priority(decl) => self.priority(decl, start, end),
            ItemKind::Sla(decl) => self.sla(decl, end),
            ItemKind::Escalate(decl) => self.rule("escalate", decl),
            ItemKind::Rule(decl) => self.rule("rule", decl),
            ItemKind::Matrix(decl) => self.matrix(decl, start, end),
            ItemKind::Otherwise(outcome) => {
                self.p.push("otherwise ");
                self.outcome(outcome, INDENT);
            }
            ItemKind::Test(decl) => self.test(decl, end),
            // `format` refuses files with syntax errors; echo the text so a
            // caller that gets here anyway loses nothing.
            ItemKind::Error => {
                let raw = self.src.get(start..end).unwrap_or("");
                self.p.token(raw.trim_end(), end);
            }
        }
    }

    /// The fields of a `ticket` block or of a record field, as a block.
    fn fields(&mut self, indent: usize, open: usize, close: usize, fields: &[FieldDecl]) {
        self.block(indent, open, close, fields.is_empty(), |f| {
            for field in fields {
                let (start, end) = (field.span.start as usize, field.span.end as usize);
                f.p.start_line(indent + INDENT, start);
                match &field.ty.kind {
                    TypeKind::Record(inner) => {
                        f.p.push(&field.name.name);
                        let open = f.open_brace(field.name.span.end as usize);
                        f.fields(indent + INDENT, open, f.close_brace(end), inner);
                    }
                    _ => f.p.token(&format!("{}: {}", field.name.name, text::type_expr(&field.ty)), end),
                }
                f.p.end_line();
            }
        });
    }

    fn schedule(&mut self, decl: &ScheduleDecl, end: usize) {
        self.p.push(&format!("schedule {}", decl.name.name));
        let open = self.open_brace(decl.name.span.end as usize);
        let close = self.close_brace(end);
        self.block(0, open, close, decl.entries.is_empty(), |f| {
            // The AST keeps no span for a holiday list's brackets; they are
            // the first `[` after the previous entry.
            let mut cursor = open + 1;
            for entry in &decl.entries {
                match entry {
                    ScheduleEntry::TimeZone(zone) => {
                        f.p.start_line(INDENT, zone.span.start as usize);
                        f.p.token(&format!("timezone {}", text::str_lit(f.src, zone)), zone.span.end as usize);
                        cursor = zone.span.end as usize;
                    }
                    ScheduleEntry::AlwaysOpen(span) => {
                        f.p.start_line(INDENT, span.start as usize);
                        f.p.token("24x7", span.end as usize);
                        cursor = span.end as usize;
                    }
                    ScheduleEntry::Holidays(names) => {
                        let list_open = scan::find(f.src, cursor, b'[').unwrap_or(cursor);
                        f.p.start_line(INDENT, list_open);
                        f.p.push("holidays ");
                        f.string_list(INDENT, list_open, names);
                        let after = names.last().map_or(list_open + 1, |s| s.span.end as usize);
                        cursor = scan::find(f.src, after, b']').map_or(after, |i| i + 1);
                    }
                    ScheduleEntry::Hours(line) => {
                        f.p.start_line(INDENT, line.span.start as usize);
                        f.p.token(&text::hours_line(line), line.span.end as usize);
                        cursor = line.span.end as usize;
                    }
                }
                f.p.end_line();
            }
        });
    }

    fn destination(&mut self, decl: &DestinationDecl, end: usize) {
        self.p.token(&format!("{} {}", decl.kind.keyword(), decl.name.name), decl.name.span.end as usize);
        let Some(body) = &decl.body else {
            return;
        };
        let open = self.open_brace(decl.name.span.end as usize);
        let close = self.close_brace(end);
        let mut cursor = open + 1;
        let mut entries = Vec::new();
        for entry in body {
            let (start, entry_end, line) = match entry {
                DestinationEntry::Hours(schedule) => {
                    (schedule.span.start, schedule.span.end, format!("hours {}", schedule.name))
                }
                DestinationEntry::Capacity(n, span) => (span.start, span.end, format!("capacity {n}")),
                DestinationEntry::Skills(skills) => {
                    let list_open = scan::find(self.src, cursor, b'[').unwrap_or(cursor);
                    let after = skills.last().map_or(list_open + 1, |s| s.span.end as usize);
                    let list_close = scan::find(self.src, after, b']').map_or(after, |i| i + 1);
                    (list_open as u32, list_close as u32, format!("skills {}", text::string_list(self.src, skills)))
                }
                DestinationEntry::Fallback { reason, target, span } => {
                    let reason = match reason {
                        FallbackReason::Closed => "closed",
                        FallbackReason::Full => "full",
                    };
                    (span.start, span.end, format!("when {reason} -> {}", target.name))
                }
                DestinationEntry::Sla(settings, span) => (span.start, span.end, text::sla_settings(settings)),
            };
            cursor = entry_end as usize;
            entries.push(Entry { start: start as usize, end: entry_end as usize, text: line });
        }
        self.settings(0, open, close, &entries, &layout::DESTINATION);
    }

    fn classifier(&mut self, decl: &ClassifierDecl, end: usize) {
        self.p.push(&format!("classifier {} from {}", decl.name.name, text::str_lit(self.src, &decl.model)));
        let open = self.open_brace(decl.model.span.end as usize);
        let close = self.close_brace(end);
        self.block(0, open, close, decl.entries.is_empty(), |f| {
            for entry in &decl.entries {
                let (span, line) = match entry {
                    ClassifierEntry::Labels(labels) => {
                        (span_of(labels.iter().map(|l| l.span)), format!("labels {}", text::idents(labels)))
                    }
                    ClassifierEntry::Features(features) => {
                        (span_of(features.iter().map(|p| p.span)), format!("features {}", text::paths(features)))
                    }
                    ClassifierEntry::Threshold { label, value } => {
                        let spans = label.iter().map(|l| l.span).chain(std::iter::once(value.span));
                        let line = match label {
                            Some(label) => format!("threshold {} {}", label.name, value.text),
                            None => format!("threshold {}", value.text),
                        };
                        (span_of(spans), line)
                    }
                };
                f.p.start_line(INDENT, span.0);
                f.p.token(&line, span.1);
                f.p.end_line();
            }
        });
    }

    fn sla(&mut self, decl: &SlaDecl, end: usize) {
        let mut header = format!("sla {}", decl.name.name);
        let mut after_header = decl.name.span.end as usize;
        if let Some(per) = &decl.per {
            header.push_str(&format!(" per {}", per.dotted()));
            after_header = per.span.end as usize;
        }
        self.p.push(&header);
        let open = self.open_brace(after_header);
        let close = self.close_brace(end);
        self.block(0, open, close, decl.entries.is_empty(), |f| {
            for entry in &decl.entries {
                let (span, line) = match entry {
                    SlaEntry::Target(target) => (target.span, text::sla_line(target)),
                    SlaEntry::Override { tier, targets, span } => {
                        let pairs: Vec<String> = targets.iter().map(text::sla_target).collect();
                        (*span, format!("{}: {}", tier.name, pairs.join(", ")))
                    }
                };
                f.p.start_line(INDENT, span.start as usize);
                f.p.token(&line, span.end as usize);
                f.p.end_line();
            }
        });
    }
}

/// Start and end offsets covering a non-empty run of spans.
fn span_of(spans: impl Iterator<Item = crate::source::Span>) -> (usize, usize) {
    let mut bounds: Option<(usize, usize)> = None;
    for s in spans {
        let (start, end) = (s.start as usize, s.end as usize);
        bounds = Some(bounds.map_or((start, end), |(a, b)| (a.min(start), b.max(end))));
    }
    bounds.unwrap_or((0, 0))
}
