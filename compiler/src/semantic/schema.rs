//! The `ticket { ... }` block → flat list of typed leaf fields.

use super::hir::*;
use super::{duplicate, suggest, Checker, Parsed};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast;

const TYPE_NAMES: &[&str] = &["text", "string", "int", "number", "bool", "time", "duration", "url"];

impl Checker<'_> {
    pub(super) fn ticket_schema(&mut self, parsed: &Parsed, items: &[(&ast::Policy, &ast::Item)]) {
        let mut first: Option<Span> = None;
        for (_, item) in items {
            let ast::ItemKind::Ticket(t) = &item.kind else { continue };
            if let Some(first) = first {
                self.error(duplicate("ticket schema", "ticket", item.span, first));
                continue;
            }
            first = Some(item.span);
            self.fields("", &t.fields);
        }
        let has_error_items = items.iter().any(|(_, i)| matches!(i.kind, ast::ItemKind::Error));
        if first.is_none() && !has_error_items {
            self.error(
                Diagnostic::error(Code::MissingItem, "the policy has no `ticket` schema")
                    .primary(Span::new(parsed.root, 0, 0), "expected a `ticket { ... }` block")
                    .help("declare the fields tickets carry, e.g. `ticket { subject: text  body: text }`"),
            );
        }
    }

    fn fields(&mut self, prefix: &str, fields: &[ast::FieldDecl]) {
        for f in fields {
            let path = if prefix.is_empty() { f.name.name.clone() } else { format!("{prefix}.{}", f.name.name) };
            if let Some(existing) =
                self.policy.fields.iter().find(|x| x.path == path || x.path.starts_with(&format!("{path}.")))
            {
                let first = existing.span;
                self.error(duplicate("field", &path, f.name.span, first));
                continue;
            }
            if matches!(f.name.name.as_str(), "signals" | "text") && prefix.is_empty() {
                self.error(
                    Diagnostic::error(Code::Duplicate, format!("`{}` is a reserved name", f.name.name))
                        .primary(f.name.span, "reserved by the language")
                        .help("rename the field"),
                );
                continue;
            }
            // A field of a built-in signal's name would silently take the
            // signal's place in every condition that reads it.
            if matches!(f.name.name.as_str(), "sentiment" | "language" | "priority") && prefix.is_empty() {
                let name = &f.name.name;
                self.error(
                    Diagnostic::error(Code::Duplicate, format!("`{name}` is the name of a built-in signal"))
                        .primary(f.name.span, format!("would replace the `{name}` signal in every condition"))
                        .help(format!("rename the field, e.g. `ticket_{name}`")),
                );
                continue;
            }
            let ty = match &f.ty.kind {
                ast::TypeKind::Record(inner) => {
                    self.fields(&path, inner);
                    continue;
                }
                ast::TypeKind::Named(name) => self.named_type(name),
                ast::TypeKind::List(name) => self.named_type(name).map(|t| Ty::List(Box::new(t))),
                ast::TypeKind::Enum(values) => Some(self.enum_type(&path, values)),
            };
            let Some(ty) = ty else { continue };
            let is_url = ty == Ty::Url;
            let id = FieldId(self.policy.fields.len() as u32);
            self.policy.fields.push(Field {
                path: path.clone(),
                ty,
                optional: f.ty.optional,
                span: f.name.span,
                url_part: None,
            });
            if is_url {
                // `page.host`, `page.path`, `page.query`: read from `page`, absent when it has no such part.
                for part in UrlPart::ALL {
                    self.policy.fields.push(Field {
                        path: format!("{path}.{}", part.name()),
                        ty: Ty::String,
                        optional: true,
                        span: f.name.span,
                        url_part: Some((id, part)),
                    });
                }
            }
        }
    }

    fn named_type(&mut self, name: &ast::Ident) -> Option<Ty> {
        Some(match name.name.as_str() {
            "text" => Ty::Text,
            "string" => Ty::String,
            "int" => Ty::Int,
            "number" => Ty::Number,
            "bool" => Ty::Bool,
            "time" => Ty::Time,
            "duration" => Ty::Duration,
            "url" => Ty::Url,
            other => {
                let (help, suggestion) = suggest::help_for("type", other, TYPE_NAMES);
                let help = if suggestion.is_some() { help } else { format!("{help}; an enum is written `a | b | c`") };
                let mut d = Diagnostic::error(Code::UnknownType, format!("unknown type `{other}`"))
                    .primary(name.span, "not a type")
                    .help(help);
                if let Some(s) = suggestion {
                    d = d.suggest(s);
                }
                self.error(d);
                return None;
            }
        })
    }

    pub(super) fn enum_type(&mut self, name: &str, values: &[ast::Ident]) -> Ty {
        let mut named: Vec<Named> = Vec::new();
        for v in values {
            if let Some(first) = named.iter().find(|n| n.name == v.name) {
                let first = first.span;
                self.error(duplicate("enum value", &v.name, v.span, first));
                continue;
            }
            named.push(Named { name: v.name.clone(), span: v.span });
        }
        let id = EnumId(self.policy.enums.len() as u32);
        self.policy.enums.push(EnumDef { name: name.to_string(), values: named });
        Ty::Enum(id)
    }
}

/// How a type reads in a message: `text`, `one of free, pro, enterprise`.
pub fn describe(policy: &Policy, ty: &Ty) -> String {
    match ty {
        Ty::Text => "text".into(),
        Ty::String => "a string".into(),
        Ty::Int => "an int".into(),
        Ty::Number => "a number".into(),
        Ty::Bool => "a bool".into(),
        Ty::Time => "a time".into(),
        Ty::Duration => "a duration".into(),
        Ty::Url => "a URL".into(),
        Ty::Enum(e) => {
            let def = policy.enum_def(*e);
            let values: Vec<&str> = def.values.iter().map(|v| v.name.as_str()).collect();
            if values.len() > 6 {
                format!("an enum ({} | …)", values[..6].join(" | "))
            } else {
                format!("an enum ({})", values.join(" | "))
            }
        }
        Ty::List(inner) => {
            format!("a list of {}", describe(policy, inner).trim_start_matches("a ").trim_start_matches("an "))
        }
    }
}
