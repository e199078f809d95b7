//! SLAs: first-response targets per priority, overrides per value of the
//! `per` field, and the `sla NAME DURATION` settings of destinations and
//! outcomes (resolved here for destinations, by `routing` for outcomes).

use crate::diagnostic::{Code, Diagnostic};
use crate::semantic::expr::parse_duration;
use crate::semantic::schema::describe;
use crate::semantic::{duplicate, hir, Checker};
use crate::source::Span;
use crate::syntax::ast;
use std::collections::HashMap;

impl Checker<'_> {
    pub(in crate::semantic) fn slas(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        let mut names: HashMap<String, Span> = HashMap::new();
        for (_, item) in items {
            let ast::ItemKind::Sla(s) = &item.kind else { continue };
            if let Some(first) = names.get(&s.name.name) {
                let first = *first;
                self.error(duplicate("sla", &s.name.name, s.name.span, first));
                continue;
            }
            names.insert(s.name.name.clone(), s.name.span);
            let per = s.per.as_ref().and_then(|p| {
                let id = self.policy.field_by_path(&p.dotted());
                match id.map(|i| self.policy.field(i).ty.clone()) {
                    Some(hir::Ty::Enum(_)) => id,
                    Some(other) => {
                        let shown = describe(&self.policy, &other);
                        self.error(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                format!("an SLA can only vary by an enum field; `{}` is {shown}", p.dotted()),
                            )
                            .primary(p.span, "not an enum")
                            .help("use a field like `customer.tier: free | pro | enterprise`"),
                        );
                        None
                    }
                    None => {
                        let fields: Vec<&str> = self.policy.fields.iter().map(|f| f.path.as_str()).collect();
                        let d = Diagnostic::error(Code::UnknownField, format!("unknown field `{}`", p.dotted()))
                            .primary(p.span, "not in the ticket schema")
                            .did_you_mean("field", &p.dotted(), &fields);
                        self.error(d);
                        None
                    }
                }
            });
            let mut sla = hir::Sla {
                name: s.name.name.clone(),
                span: s.name.span,
                per,
                targets: vec![None; self.policy.priorities.len()],
                overrides: Vec::new(),
            };
            for entry in &s.entries {
                match entry {
                    ast::SlaEntry::Target(t) => {
                        if let Some((p, target)) = self.sla_target(t) {
                            if let Some(existing) = sla.targets[p.index()] {
                                self.error(duplicate("target for", &t.priority.name, t.span, existing.span));
                            }
                            sla.targets[p.index()] = Some(target);
                        }
                    }
                    ast::SlaEntry::Override { tier, targets, span } => {
                        let Some(per_field) = sla.per else {
                            if s.per.is_none() {
                                self.error(
                                    Diagnostic::error(
                                        Code::MissingItem,
                                        format!("`{}:` overrides need `per FIELD` on the sla", tier.name),
                                    )
                                    .primary(*span, "which field holds this value?")
                                    .help(format!("write `sla {} per customer.tier {{ … }}`", s.name.name)),
                                );
                            }
                            continue;
                        };
                        let hir::Ty::Enum(e) = self.policy.field(per_field).ty.clone() else { continue };
                        let Some(value) = self.policy.enum_def(e).position(&tier.name) else {
                            let path = ast::Path { segments: vec![tier.clone()], span: tier.span };
                            let per_path = s.per.clone().unwrap_or(path);
                            self.unknown_value(e, &tier.name, tier.span, &per_path);
                            continue;
                        };
                        for t in targets {
                            if let Some((p, target)) = self.sla_target(t) {
                                sla.overrides.push((value, p, target));
                            }
                        }
                    }
                }
            }
            self.policy.slas.push(sla);
        }
        self.destination_slas(items);
    }

    /// The `sla` lines of destinations, resolved once every SLA is declared.
    fn destination_slas(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        for (_, item) in items {
            let ast::ItemKind::Destination(d) = &item.kind else { continue };
            let Some(&id) = self.dest_ids.get(&d.name.name) else { continue };
            if self.policy.destinations[id.index()].span != d.name.span {
                continue;
            }
            for entry in d.body.iter().flatten() {
                let ast::DestinationEntry::Sla(settings, _) = entry else { continue };
                let earlier = self.policy.destinations[id.index()].slas.clone();
                let resolved = self.sla_settings(settings, &earlier);
                self.policy.destinations[id.index()].slas.extend(resolved);
            }
        }
    }

    /// Resolve `sla NAME DURATION [business], …` settings against the
    /// declared SLAs; `earlier` are the settings already made on the same
    /// destination or outcome, which a second one for the same SLA would
    /// contradict.
    pub(in crate::semantic) fn sla_settings(
        &mut self,
        settings: &[ast::SlaSetting],
        earlier: &[hir::SlaSetting],
    ) -> Vec<hir::SlaSetting> {
        let mut out: Vec<hir::SlaSetting> = Vec::new();
        for s in settings {
            let Some(index) = self.policy.slas.iter().position(|x| x.name == s.sla.name) else {
                let names: Vec<&str> = self.policy.slas.iter().map(|x| x.name.as_str()).collect();
                let d = Diagnostic::error(Code::UnknownName, format!("unknown sla `{}`", s.sla.name))
                    .primary(s.sla.span, "no `sla` block with this name");
                let d = if names.is_empty() {
                    d.help(format!(
                        "declare it first, with targets per priority or none: `sla {} {{ P1: 1h }}`",
                        s.sla.name
                    ))
                } else {
                    d.did_you_mean("sla", &s.sla.name, &names)
                };
                self.error(d);
                continue;
            };
            if let Some(first) = earlier.iter().chain(&out).find(|x| x.sla == index) {
                let first = first.target.span;
                self.error(
                    Diagnostic::error(Code::Duplicate, format!("sla `{}` is set twice", s.sla.name))
                        .primary(s.span, "set again here")
                        .secondary(first, "first set here")
                        .help(format!("keep one `{}` target", s.sla.name)),
                );
                continue;
            }
            let Some(secs) = parse_duration(&s.duration.text) else {
                self.bad_duration(s.duration.span, &s.duration.text);
                continue;
            };
            out.push(hir::SlaSetting {
                sla: index,
                target: hir::SlaTarget { minutes: secs / 60.0, business: s.business, span: s.span },
            });
        }
        out
    }

    fn sla_target(&mut self, t: &ast::SlaTarget) -> Option<(hir::PriorityId, hir::SlaTarget)> {
        let p = self.resolve_priority(&t.priority);
        let secs = parse_duration(&t.duration.text);
        if secs.is_none() {
            self.bad_duration(t.duration.span, &t.duration.text);
        }
        Some((p?, hir::SlaTarget { minutes: secs? / 60.0, business: t.business, span: t.span }))
    }
}
