//! The priority block: its rules and its `default`.

use crate::diagnostic::{Code, Diagnostic};
use crate::semantic::{duplicate, hir, Checker};
use crate::source::Span;
use crate::syntax::ast;

impl Checker<'_> {
    pub(in crate::semantic) fn priority_block(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        let mut first: Option<Span> = None;
        for (_, item) in items {
            let ast::ItemKind::Priority(p) = &item.kind else { continue };
            if let Some(first) = first {
                self.error(duplicate("priority block", "priority", item.span, first));
                continue;
            }
            first = Some(item.span);
            for rule in &p.rules {
                let level = self.resolve_priority(&rule.level);
                let when = self.condition(&rule.when, true);
                if let Some(level) = level {
                    self.policy.priority_rules.push(hir::PriorityRule { level, when, span: rule.span });
                }
            }
            match &p.default {
                Some(d) => {
                    self.policy.default_priority = self.resolve_priority(d);
                    self.policy.default_priority_span = Some(d.span);
                }
                None => self.error(
                    Diagnostic::error(Code::MissingItem, "the priority block has no `default`")
                        .primary(item.span, "tickets that match no rule get no priority")
                        .help(format!(
                            "end the block with `default {}`",
                            self.policy.priorities.last().map(|p| p.name.as_str()).unwrap_or("P3")
                        )),
                ),
            }
        }
        if first.is_none() {
            // No priority block: every ticket gets the least urgent priority.
            self.policy.default_priority = Some(hir::PriorityId(self.policy.priorities.len().saturating_sub(1) as u32));
        }
    }
}
