//! The two walks over a parsed file that fill a [`NameIndex`]: first every
//! declaration (of all files), then every reference, resolved against them.

use super::{Def, DefKind, NameIndex};
use crate::source::Span;
use crate::syntax::ast::{self, Cell, ClassifierEntry, Clause, DestinationEntry, ExprKind, ItemKind, LiteralKind};

fn def(kind: DefKind, name: &str, name_span: Span, full_span: Span) -> Def {
    Def { kind, name: name.to_string(), owner: None, name_span, full_span, destination_kind: None }
}

/// Record every declaration of `file`.
pub(super) fn declarations(index: &mut NameIndex, file: &ast::Policy) {
    for item in &file.items {
        let span = item.span;
        match &item.kind {
            ItemKind::Ticket(t) => fields(index, "", &t.fields),
            ItemKind::Schedule(s) => index.declare(def(DefKind::Schedule, &s.name.name, s.name.span, span)),
            ItemKind::Destination(d) => index.declare(Def {
                destination_kind: Some(d.kind),
                ..def(DefKind::Destination, &d.name.name, d.name.span, span)
            }),
            ItemKind::Keywords(k) => index.declare(def(DefKind::KeywordSet, &k.name.name, k.name.span, span)),
            ItemKind::Regex(r) => index.declare(def(DefKind::Regex, &r.name.name, r.name.span, span)),
            ItemKind::Classifier(c) => {
                index.declare(def(DefKind::Classifier, &c.name.name, c.name.span, span));
                for entry in &c.entries {
                    let ClassifierEntry::Labels(labels) = entry else { continue };
                    for label in labels {
                        index.declare(Def {
                            owner: Some(c.name.name.clone()),
                            ..def(DefKind::Intent, &label.name, label.span, label.span)
                        });
                    }
                }
            }
            ItemKind::Priorities(levels) => {
                for level in levels {
                    index.declare(def(DefKind::Priority, &level.name, level.span, level.span));
                }
            }
            ItemKind::Sla(s) => index.declare(def(DefKind::Sla, &s.name.name, s.name.span, span)),
            ItemKind::Escalate(r) => index.declare(def(DefKind::Escalation, &r.name.name, r.name.span, span)),
            ItemKind::Rule(r) => index.declare(def(DefKind::Rule, &r.name.name, r.name.span, span)),
            ItemKind::Test(t) => index.declare(def(DefKind::Test, &t.name.value, t.name.span, span)),
            _ => {}
        }
    }
}

fn fields(index: &mut NameIndex, prefix: &str, decls: &[ast::FieldDecl]) {
    for f in decls {
        let path = if prefix.is_empty() { f.name.name.clone() } else { format!("{prefix}.{}", f.name.name) };
        match &f.ty.kind {
            ast::TypeKind::Record(inner) => {
                index.declare(def(DefKind::Record, &path, f.name.span, f.span));
                fields(index, &path, inner);
            }
            ast::TypeKind::Enum(values) => {
                index.declare(def(DefKind::Field, &path, f.name.span, f.span));
                for v in values {
                    index
                        .declare(Def { owner: Some(path.clone()), ..def(DefKind::EnumValue, &v.name, v.span, v.span) });
                }
            }
            ast::TypeKind::Named(ty) if ty.name == "url" => {
                index.declare(def(DefKind::Field, &path, f.name.span, f.span));
                // `page.host`, `page.path`, `page.query` are read from `page`: they lead to its declaration.
                for part in crate::hir::UrlPart::ALL {
                    index.declare(def(DefKind::Field, &format!("{path}.{}", part.name()), f.name.span, f.span));
                }
            }
            _ => index.declare(def(DefKind::Field, &path, f.name.span, f.span)),
        }
    }
}

/// Record every reference of `file` to a declaration already in the index.
pub(super) fn references(index: &mut NameIndex, file: &ast::Policy) {
    for item in &file.items {
        match &item.kind {
            ItemKind::Destination(d) => {
                for entry in d.body.iter().flatten() {
                    match entry {
                        DestinationEntry::Hours(s) => {
                            index.refer(DefKind::Schedule, None, &s.name, s.span);
                        }
                        DestinationEntry::Fallback { target, .. } => {
                            index.refer(DefKind::Destination, None, &target.name, target.span);
                        }
                        DestinationEntry::Sla(settings, _) => sla_settings(index, settings),
                        DestinationEntry::Capacity(..) | DestinationEntry::Skills(_) => {}
                    }
                }
            }
            ItemKind::Classifier(c) => {
                for entry in &c.entries {
                    match entry {
                        ClassifierEntry::Features(paths) => paths.iter().for_each(|p| path(index, p)),
                        ClassifierEntry::Threshold { label: Some(l), .. } => {
                            index.refer(DefKind::Intent, Some(&c.name.name), &l.name, l.span);
                        }
                        _ => {}
                    }
                }
            }
            ItemKind::Priority(p) => {
                for rule in &p.rules {
                    index.refer(DefKind::Priority, None, &rule.level.name, rule.level.span);
                    expr(index, &rule.when);
                }
                if let Some(d) = &p.default {
                    index.refer(DefKind::Priority, None, &d.name, d.span);
                }
            }
            ItemKind::Sla(s) => sla(index, s),
            ItemKind::Escalate(r) | ItemKind::Rule(r) => {
                expr(index, &r.when);
                outcome(index, &r.outcome);
            }
            ItemKind::Matrix(m) => matrix(index, m),
            ItemKind::Otherwise(o) => outcome(index, o),
            ItemKind::Test(t) => test(index, t),
            _ => {}
        }
    }
}

/// A path that reads a field or signal: each segment refers to its record or field.
fn path(index: &mut NameIndex, p: &ast::Path) {
    let mut dotted = String::new();
    for seg in &p.segments {
        if !dotted.is_empty() {
            dotted.push('.');
        }
        dotted.push_str(&seg.name);
        if !index.refer(DefKind::Field, None, &dotted, seg.span) && p.segments.len() == 1 {
            index.refer(DefKind::Classifier, None, &dotted, seg.span);
        }
    }
}

/// A bare name or literal compared with `owner_path`: a value of its enum.
fn value(index: &mut NameIndex, owner_path: &str, name: &str, span: Span) -> bool {
    match index.value_owner(owner_path) {
        Some((kind, owner)) => index.refer(kind, owner.as_deref(), name, span),
        None => false,
    }
}

fn literal_value(index: &mut NameIndex, owner_path: &str, lit: &ast::Literal) {
    match &lit.kind {
        LiteralKind::Name(n) => {
            value(index, owner_path, n, lit.span);
        }
        LiteralKind::List(items) => items.iter().for_each(|l| literal_value(index, owner_path, l)),
        _ => {}
    }
}

fn operand(index: &mut NameIndex, op: &ast::Operand) {
    if let ast::Operand::Path(p) = op {
        path(index, p);
    }
}

/// The right side of a comparison with `lhs`: a value of its enum, or another path.
fn compared(index: &mut NameIndex, lhs: &ast::Operand, rhs: &ast::Operand) {
    let ast::Operand::Path(lpath) = lhs else { return };
    let owner = lpath.dotted();
    match rhs {
        ast::Operand::Path(p) if p.segments.len() == 1 => {
            if !value(index, &owner, &p.segments[0].name, p.span) {
                path(index, p);
            }
        }
        ast::Operand::Path(p) => path(index, p),
        ast::Operand::Literal(l) => literal_value(index, &owner, l),
    }
}

fn expr(index: &mut NameIndex, e: &ast::Expr) {
    match &e.kind {
        ExprKind::Or(parts) | ExprKind::And(parts) => parts.iter().for_each(|p| expr(index, p)),
        ExprKind::Not(inner) | ExprKind::Paren(inner) => expr(index, inner),
        ExprKind::Truthy(op) => operand(index, op),
        ExprKind::Compare { lhs, rhs, .. } => {
            // The checker reads `LITERAL op path` as `path op' LITERAL`.
            match (lhs, rhs) {
                (ast::Operand::Literal(_), ast::Operand::Path(_)) => {
                    operand(index, rhs);
                    compared(index, rhs, lhs);
                }
                _ => {
                    operand(index, lhs);
                    compared(index, lhs, rhs);
                }
            }
        }
        ExprKind::In { lhs, list, .. } => {
            operand(index, lhs);
            if let ast::Operand::Path(p) = lhs {
                let owner = p.dotted();
                list.iter().for_each(|l| literal_value(index, &owner, l));
            }
        }
        ExprKind::Has { lhs, target } => {
            operand(index, lhs);
            if let ast::HasTarget::Set(name) = target {
                index.refer(DefKind::KeywordSet, None, &name.name, name.span);
            }
        }
        ExprKind::Matches { lhs, target } => {
            operand(index, lhs);
            if let ast::MatchTarget::Named(name) = target {
                index.refer(DefKind::Regex, None, &name.name, name.span);
            }
        }
        ExprKind::StringTest { lhs, .. } => operand(index, lhs),
    }
}

fn outcome(index: &mut NameIndex, o: &ast::Outcome) {
    index.refer(DefKind::Destination, None, &o.destination.name, o.destination.span);
    for clause in &o.clauses {
        match clause {
            Clause::Priority(p) => {
                index.refer(DefKind::Priority, None, &p.name, p.span);
            }
            Clause::Handoff(paths) => paths.iter().for_each(|p| path(index, p)),
            Clause::Sla(settings, _) => sla_settings(index, settings),
            Clause::Set { field, value, .. } => {
                path(index, field);
                literal_value(index, &field.dotted(), value);
            }
            _ => {}
        }
    }
}

/// `sla NAME DURATION, …` on a destination or an outcome: each name refers to an `sla` block.
fn sla_settings(index: &mut NameIndex, settings: &[ast::SlaSetting]) {
    for s in settings {
        index.refer(DefKind::Sla, None, &s.sla.name, s.sla.span);
    }
}

fn sla(index: &mut NameIndex, s: &ast::SlaDecl) {
    let per = s.per.as_ref().map(|p| {
        path(index, p);
        p.dotted()
    });
    for entry in &s.entries {
        match entry {
            ast::SlaEntry::Target(t) => {
                index.refer(DefKind::Priority, None, &t.priority.name, t.priority.span);
            }
            ast::SlaEntry::Override { tier, targets, .. } => {
                if let Some(per) = &per {
                    value(index, per, &tier.name, tier.span);
                }
                for t in targets {
                    index.refer(DefKind::Priority, None, &t.priority.name, t.priority.span);
                }
            }
        }
    }
}

fn matrix(index: &mut NameIndex, m: &ast::MatrixDecl) {
    m.dimensions.iter().for_each(|p| path(index, p));
    let owners: Vec<String> = m.dimensions.iter().map(ast::Path::dotted).collect();
    for row in &m.rows {
        for (cell, owner) in row.cells.iter().zip(&owners) {
            if let Cell::Values(values, _) = cell {
                values.iter().for_each(|l| literal_value(index, owner, l));
            }
        }
        outcome(index, &row.outcome);
    }
}

fn test(index: &mut NameIndex, t: &ast::TestDecl) {
    for fv in t.ticket.iter().chain(&t.signals) {
        path(index, &fv.path);
        literal_value(index, &fv.path.dotted(), &fv.value);
    }
    for (dest, _) in &t.load {
        index.refer(DefKind::Destination, None, &dest.name, dest.span);
    }
    if let Some(e) = &t.expect {
        index.refer(DefKind::Destination, None, &e.destination.name, e.destination.span);
        if let Some(p) = &e.priority {
            index.refer(DefKind::Priority, None, &p.name, p.span);
        }
    }
}
