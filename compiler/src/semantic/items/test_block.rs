//! `test` blocks: the ticket, signals, time and load they give, and what they
//! expect.

use crate::diagnostic::{Code, Diagnostic};
use crate::semantic::{duplicate, hir, Checker};
use crate::source::Span;
use crate::syntax::ast;
use std::collections::HashMap;

impl Checker<'_> {
    pub(in crate::semantic) fn tests(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        let mut names: HashMap<String, Span> = HashMap::new();
        for (_, item) in items {
            let ast::ItemKind::Test(t) = &item.kind else { continue };
            if let Some(first) = names.get(&t.name.value) {
                let first = *first;
                self.error(duplicate("test", &t.name.value, t.name.span, first));
            }
            names.insert(t.name.value.clone(), t.name.span);
            for (word, span) in &t.repeated {
                self.error(
                    Diagnostic::error(Code::Duplicate, format!("test `{}` has a second `{word}`", t.name.value))
                        .primary(*span, "written again here")
                        .help(format!("merge the two `{word}` entries into one")),
                );
            }
            let mut ticket = serde_json::Map::new();
            for fv in &t.ticket {
                if let Some(v) = self.field_value_json(&fv.path, &fv.value) {
                    insert_path(&mut ticket, &fv.path.dotted(), v);
                }
            }
            // Fields the test leaves out get neutral defaults, so tests stay short.
            for f in self.policy.fields.clone() {
                if f.optional || get_path(&ticket, &f.path) {
                    continue;
                }
                insert_path(&mut ticket, &f.path, default_json(&self.policy, &f.ty));
            }
            let mut signals = serde_json::Map::new();
            for fv in &t.signals {
                if let Some((key, v)) = self.signal_value(fv) {
                    signals.insert(key, v);
                }
            }
            let at = t.at.as_ref().and_then(|s| match s.value.parse::<jiff::Timestamp>() {
                Ok(ts) => Some(ts),
                Err(_) => {
                    self.error(
                        Diagnostic::error(Code::BadValue, format!("`{}` is not a time", s.value))
                            .primary(s.span, "expected an RFC 3339 time with an offset")
                            .help("write e.g. \"2026-11-29T03:00:00-05:00\""),
                    );
                    None
                }
            });
            let load = t.load.iter().filter_map(|(d, n)| self.resolve_destination(d).map(|id| (id, *n))).collect();
            let expect = t.expect.as_ref().and_then(|e| {
                let destination = self.resolve_destination(&e.destination);
                let priority = e.priority.as_ref().and_then(|p| self.resolve_priority(p));
                Some(hir::Expect {
                    destination: destination?,
                    priority,
                    escalated: e.escalated,
                    shadow: e.shadow,
                    fallback: e.fallback,
                    span: e.span,
                })
            });
            if t.expect.is_none() {
                self.error(
                    Diagnostic::error(Code::MissingItem, format!("test `{}` expects nothing", t.name.value))
                        .primary(t.name.span, "no `expect` line")
                        .help("add `expect DESTINATION` (optionally `priority P1`, `escalated`)"),
                );
            }
            self.policy.tests.push(hir::Test {
                name: t.name.value.clone(),
                span: item.span,
                ticket: serde_json::Value::Object(ticket),
                signals: serde_json::Value::Object(signals),
                at,
                load,
                expect,
            });
        }
    }

    fn signal_value(&mut self, fv: &ast::FieldValue) -> Option<(String, serde_json::Value)> {
        let key = fv.path.dotted();
        let classifier = self.policy.classifier.as_ref().map(|c| (c.name.clone(), c.labels));
        let ty = match key.as_str() {
            "confidence" => hir::Ty::Number,
            "sentiment" => hir::Ty::Number,
            "language" => hir::Ty::Enum(self.policy.language_enum),
            name if classifier.as_ref().is_some_and(|(n, _)| n == name) => hir::Ty::Enum(classifier.as_ref()?.1),
            _ => {
                let mut known: Vec<String> = vec!["confidence".into(), "sentiment".into(), "language".into()];
                if let Some((n, _)) = &classifier {
                    known.push(n.clone());
                }
                let names: Vec<&str> = known.iter().map(String::as_str).collect();
                let d = Diagnostic::error(Code::UnknownName, format!("unknown signal `{key}`"))
                    .primary(fv.path.span, "not a signal")
                    .did_you_mean("signal", &key, &names);
                self.error(d);
                return None;
            }
        };
        let v = self.literal_json(&ty, &fv.value, &fv.path)?;
        if let Some(n) = v.as_f64() {
            let range = if key == "confidence" { 0.0..=1.0 } else { -1.0..=1.0 };
            if !range.contains(&n) {
                self.error(
                    Diagnostic::error(Code::BadValue, format!("`{key}` {n} is out of range"))
                        .primary(fv.value.span, format!("{key} lies in {}..{}", range.start(), range.end()))
                        .help("give a value in range"),
                );
                return None;
            }
        }
        Some((key, v))
    }
}

fn insert_path(obj: &mut serde_json::Map<String, serde_json::Value>, path: &str, value: serde_json::Value) {
    match path.split_once('.') {
        None => {
            obj.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = obj.entry(head.to_string()).or_insert_with(|| serde_json::Value::Object(Default::default()));
            if let serde_json::Value::Object(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

fn get_path(obj: &serde_json::Map<String, serde_json::Value>, path: &str) -> bool {
    match path.split_once('.') {
        None => obj.contains_key(path),
        Some((head, rest)) => match obj.get(head) {
            Some(serde_json::Value::Object(inner)) => get_path(inner, rest),
            _ => false,
        },
    }
}

fn default_json(policy: &hir::Policy, ty: &hir::Ty) -> serde_json::Value {
    use serde_json::Value;
    match ty {
        hir::Ty::Text | hir::Ty::String | hir::Ty::Url => Value::String(String::new()),
        hir::Ty::Int | hir::Ty::Number => Value::from(0),
        hir::Ty::Bool => Value::Bool(false),
        hir::Ty::Time => Value::String("1970-01-01T00:00:00Z".into()),
        hir::Ty::Duration => Value::from(0),
        hir::Ty::Enum(e) => {
            Value::String(policy.enum_def(*e).values.first().map(|v| v.name.clone()).unwrap_or_default())
        }
        hir::Ty::List(_) => Value::Array(Vec::new()),
    }
}
