//! One-line renderings of the small pieces of the language: strings,
//! literals, paths, types, expressions, outcome clauses, matrix cells.
//!
//! These never break lines and never see comments; the layout modules
//! decide where lines break and use these for everything that stays on one
//! line.

use crate::source::Span;
use crate::syntax::ast::*;

/// Width of a rendered piece, in characters (what a reader counts).
pub(super) fn width(text: &str) -> usize {
    text.chars().count()
}

/// A string literal. Re-escaped from its value, except when the source uses
/// an escape the parser does not define (`"\d"`): the parser drops such a
/// backslash, so re-escaping would silently delete it from the user's text.
/// Keeping the source as written leaves that decision to the user.
pub(super) fn string(src: &str, value: &str, span: Span) -> String {
    if let Some(written) = src.get(span.start as usize..span.end as usize) {
        if has_unknown_escape(written) {
            return written.to_string();
        }
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

fn has_unknown_escape(written: &str) -> bool {
    let mut chars = written.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && !matches!(chars.next(), Some('"' | '\\' | 'n' | 't')) {
            return true;
        }
    }
    false
}

pub(super) fn str_lit(src: &str, lit: &StrLit) -> String {
    string(src, &lit.value, lit.span)
}

pub(super) fn string_list(src: &str, items: &[StrLit]) -> String {
    let parts: Vec<String> = items.iter().map(|s| str_lit(src, s)).collect();
    format!("[{}]", parts.join(", "))
}

pub(super) fn idents(list: &[Ident]) -> String {
    list.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
}

pub(super) fn paths(list: &[Path]) -> String {
    list.iter().map(Path::dotted).collect::<Vec<_>>().join(", ")
}

pub(super) fn literal(src: &str, lit: &Literal) -> String {
    match &lit.kind {
        LiteralKind::Str(value) => string(src, value, lit.span),
        LiteralKind::Number(text) | LiteralKind::Duration(text) | LiteralKind::Name(text) => text.clone(),
        LiteralKind::Bool(b) => b.to_string(),
        LiteralKind::List(items) => {
            let parts: Vec<String> = items.iter().map(|l| literal(src, l)).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

pub(super) fn operand(src: &str, op: &Operand) -> String {
    match op {
        Operand::Path(p) => p.dotted(),
        Operand::Literal(l) => literal(src, l),
    }
}

/// An expression on one line. Parentheses are exactly the user's
/// (`ExprKind::Paren`); chains never nest without them, so none are needed.
pub(super) fn expr(src: &str, e: &Expr) -> String {
    match &e.kind {
        ExprKind::Or(parts) => parts.iter().map(|p| expr(src, p)).collect::<Vec<_>>().join(" or "),
        ExprKind::And(parts) => parts.iter().map(|p| expr(src, p)).collect::<Vec<_>>().join(" and "),
        ExprKind::Not(inner) => format!("not {}", expr(src, inner)),
        ExprKind::Paren(inner) => format!("({})", expr(src, inner)),
        ExprKind::Truthy(op) => operand(src, op),
        ExprKind::Compare { lhs, op, rhs } => format!("{} {} {}", operand(src, lhs), op.symbol(), operand(src, rhs)),
        ExprKind::In { lhs, negated, list, .. } => {
            let items: Vec<String> = list.iter().map(|l| literal(src, l)).collect();
            let not = if *negated { "not " } else { "" };
            format!("{} {not}in [{}]", operand(src, lhs), items.join(", "))
        }
        ExprKind::Has { lhs, target } => {
            let target = match target {
                HasTarget::Set(name) => name.name.clone(),
                HasTarget::Inline(items, _) => string_list(src, items),
            };
            format!("{} has {target}", operand(src, lhs))
        }
        ExprKind::Matches { lhs, target } => {
            let target = match target {
                MatchTarget::Named(name) => name.name.clone(),
                MatchTarget::Inline(pattern) => str_lit(src, pattern),
            };
            format!("{} matches {target}", operand(src, lhs))
        }
        ExprKind::StringTest { lhs, op, value } => {
            format!("{} {} {}", operand(src, lhs), op.keyword(), str_lit(src, value))
        }
    }
}

pub(super) fn type_expr(ty: &TypeExpr) -> String {
    let base = match &ty.kind {
        TypeKind::Named(name) => name.name.clone(),
        TypeKind::List(name) => format!("[{}]", name.name),
        TypeKind::Enum(values) => values.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(" | "),
        // Records are blocks; the layout prints them.
        TypeKind::Record(_) => String::from("{}"),
    };
    if ty.optional {
        format!("{base}?")
    } else {
        base
    }
}

/// Where a clause's code starts and ends in the source. For clauses whose
/// span does not cover the keyword (`priority P1` keeps the name's span),
/// the start is the value's: close enough for placing comments.
pub(super) fn clause_bounds(clause: &Clause) -> (usize, usize) {
    let span = match clause {
        Clause::Priority(name) => name.span,
        Clause::Shadow(span)
        | Clause::Notify { span, .. }
        | Clause::CreateIssue { span, .. }
        | Clause::Set { span, .. }
        | Clause::Sla(_, span) => *span,
        Clause::Rollout { percent } => percent.span,
        Clause::Tag(text) => text.span,
        Clause::Handoff(fields) => match (fields.first(), fields.last()) {
            (Some(first), Some(last)) => first.span.to(last.span),
            _ => Span::default(),
        },
    };
    (span.start as usize, span.end as usize)
}

/// Actions and handoffs go on their own lines; `priority`, `shadow`,
/// `rollout` and `sla` qualify the destination and stay on its line (a
/// matrix row with its SLA reads as one line of the routing table).
pub(super) fn clause_has_own_line(clause: &Clause) -> bool {
    !matches!(clause, Clause::Priority(_) | Clause::Shadow(_) | Clause::Rollout { .. } | Clause::Sla(..))
}

pub(super) fn clause(src: &str, clause: &Clause) -> String {
    match clause {
        Clause::Priority(level) => format!("priority {}", level.name),
        Clause::Shadow(_) => String::from("shadow"),
        Clause::Rollout { percent } => format!("rollout {}%", percent.text),
        Clause::Handoff(fields) => format!("handoff {}", paths(fields)),
        Clause::Sla(settings, _) => sla_settings(settings),
        Clause::Notify { channel, target, .. } => {
            let channel = match channel {
                NotifyChannel::Slack => "slack",
                NotifyChannel::Email => "email",
            };
            format!("notify {channel} {}", str_lit(src, target))
        }
        Clause::CreateIssue { tracker, project, severity, area, .. } => {
            let tracker = match tracker {
                Tracker::Jira => "jira",
                Tracker::Linear => "linear",
            };
            let mut out = format!("create_issue {tracker} {}", str_lit(src, project));
            if let Some(severity) = severity {
                out.push_str(&format!(" severity {}", severity.name));
            }
            if let Some(area) = area {
                out.push_str(&format!(" area {}", str_lit(src, area)));
            }
            out
        }
        Clause::Tag(text) => format!("tag {}", str_lit(src, text)),
        Clause::Set { field, value, .. } => format!("set {} = {}", field.dotted(), literal(src, value)),
    }
}

pub(super) fn cell(cell: &Cell) -> String {
    match cell {
        Cell::Wildcard(_) => String::from("_"),
        Cell::Values(values, _) => {
            let parts: Vec<String> = values.iter().map(|v| literal("", v)).collect();
            parts.join(" | ")
        }
    }
}

pub(super) fn expectation(exp: &Expectation) -> String {
    let mut out = format!("expect {}", exp.destination.name);
    if let Some(level) = &exp.priority {
        out.push_str(&format!(" priority {}", level.name));
    }
    match exp.escalated {
        Some(true) => out.push_str(" escalated"),
        Some(false) => out.push_str(" not escalated"),
        None => {}
    }
    if exp.shadow {
        out.push_str(" shadow");
    }
    if exp.fallback {
        out.push_str(" fallback");
    }
    out
}

pub(super) fn field_value(src: &str, field: &FieldValue) -> String {
    format!("{}: {}", field.path.dotted(), literal(src, &field.value))
}

/// A target inside a tier override: `P1 10m`.
pub(super) fn sla_target(target: &SlaTarget) -> String {
    let business = if target.business { " business" } else { "" };
    format!("{} {}{business}", target.priority.name, target.duration.text)
}

/// An `sla` clause of a destination or an outcome: `sla first_response 15m, resolution 8h business`.
pub(super) fn sla_settings(settings: &[SlaSetting]) -> String {
    let parts: Vec<String> = settings
        .iter()
        .map(|s| {
            let business = if s.business { " business" } else { "" };
            format!("{} {}{business}", s.sla.name, s.duration.text)
        })
        .collect();
    format!("sla {}", parts.join(", "))
}

/// A target on its own line: `P3: 8h business`.
pub(super) fn sla_line(target: &SlaTarget) -> String {
    let business = if target.business { " business" } else { "" };
    format!("{}: {}{business}", target.priority.name, target.duration.text)
}

pub(super) fn hours_line(line: &HoursLine) -> String {
    let days: Vec<String> = line
        .days
        .iter()
        .map(|d| match &d.to {
            Some(to) => format!("{}-{}", d.from.name, to.name),
            None => d.from.name.clone(),
        })
        .collect();
    let times: Vec<String> = line.times.iter().map(|t| format!("{}-{}", t.from.value, t.to.value)).collect();
    format!("{} {}", days.join(", "), times.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_re_escaped() {
        let span = Span::default();
        assert_eq!(string("", "a\"b\\c\nd\te", span), r#""a\"b\\c\nd\te""#);
    }

    #[test]
    fn unknown_escapes_are_kept_as_written() {
        let src = r#"regex r = "\d+""#;
        let span = Span::new(crate::source::FileId(0), 10, src.len());
        assert_eq!(string(src, "d+", span), r#""\d+""#);
    }
}
