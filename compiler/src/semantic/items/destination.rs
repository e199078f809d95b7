//! Destinations: their schedule, capacity, skills and fallbacks.

use crate::diagnostic::{Code, Diagnostic};
use crate::semantic::{duplicate, hir, Checker};
use crate::syntax::ast;

impl Checker<'_> {
    pub(in crate::semantic) fn destinations(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        for (_, item) in items {
            let ast::ItemKind::Destination(d) = &item.kind else { continue };
            let Some(&id) = self.dest_ids.get(&d.name.name) else { continue };
            if self.policy.destinations[id.index()].span != d.name.span {
                continue;
            }
            let mut dest = self.policy.destinations[id.index()].clone();
            for entry in d.body.iter().flatten() {
                match entry {
                    ast::DestinationEntry::Hours(name) => match self.schedule_ids.get(&name.name) {
                        Some(s) => dest.schedule = Some(*s),
                        None => {
                            let names: Vec<&str> = self.schedule_ids.keys().map(String::as_str).collect();
                            let diag =
                                Diagnostic::error(Code::UnknownName, format!("unknown schedule `{}`", name.name))
                                    .primary(name.span, "no `schedule` with this name")
                                    .did_you_mean("schedule", &name.name, &names);
                            self.error(diag);
                        }
                    },
                    ast::DestinationEntry::Capacity(n, span) => {
                        if *n == 0 {
                            self.error(
                                Diagnostic::error(Code::BadValue, "a capacity of 0 means always full")
                                    .primary(*span, "capacity 0")
                                    .help("give the number of tickets the team can hold, or remove `capacity`"),
                            );
                        }
                        dest.capacity = Some(*n);
                    }
                    // Resolved with the SLAs, which are declared after destinations.
                    ast::DestinationEntry::Sla(..) => {}
                    ast::DestinationEntry::Skills(skills) => dest.skills.extend(skills.iter().map(|s| s.value.clone())),
                    ast::DestinationEntry::Fallback { reason, target, span } => {
                        if let Some(existing) = dest.fallbacks.iter().find(|f| f.reason == *reason) {
                            let first = existing.span;
                            self.error(duplicate("fallback", reason_word(*reason), *span, first));
                            continue;
                        }
                        if target.name == d.name.name {
                            self.error(
                                Diagnostic::error(
                                    Code::FallbackCycle,
                                    format!("`{}` falls back to itself", d.name.name),
                                )
                                .primary(target.span, "the fallback is the destination itself")
                                .help("fall back to another destination, such as an always-open on-call team"),
                            );
                            continue;
                        }
                        if let Some(t) = self.resolve_destination(target) {
                            dest.fallbacks.push(hir::Fallback { reason: *reason, target: t, span: target.span });
                        }
                    }
                }
            }
            if dest.capacity.is_none() {
                if let Some(f) = dest.fallbacks.iter().find(|f| f.reason == ast::FallbackReason::Full) {
                    let span = f.span;
                    self.error(
                        Diagnostic::warning(
                            Code::BadValue,
                            format!("`{}` has a `when full` fallback but no capacity", d.name.name),
                        )
                        .primary(span, "this fallback can never be taken")
                        .help("add `capacity N` to the destination"),
                    );
                }
            }
            self.policy.destinations[id.index()] = dest;
        }
    }
}

fn reason_word(reason: ast::FallbackReason) -> &'static str {
    match reason {
        ast::FallbackReason::Closed => "when closed",
        ast::FallbackReason::Full => "when full",
    }
}
