//! Keyword sets: empty sets and phrases, repeated phrases.

use crate::diagnostic::{Code, Diagnostic};
use crate::semantic::Checker;
use crate::source::Span;
use crate::syntax::ast;
use std::collections::HashMap;

impl Checker<'_> {
    pub(in crate::semantic) fn keyword_sets(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        for (_, item) in items {
            let ast::ItemKind::Keywords(k) = &item.kind else { continue };
            if k.phrases.is_empty() {
                self.error(
                    Diagnostic::error(Code::EmptyKeywords, format!("keyword set `{}` is empty", k.name.name))
                        .primary(k.name.span, "matches nothing")
                        .help("list the words or phrases to look for"),
                );
            }
            let mut seen: HashMap<String, Span> = HashMap::new();
            for p in &k.phrases {
                let norm = p.value.trim().to_lowercase();
                if norm.is_empty() {
                    self.error(
                        Diagnostic::error(Code::EmptyKeywords, "empty phrase")
                            .primary(p.span, "an empty phrase")
                            .help("remove it"),
                    );
                } else if let Some(first) = seen.get(&norm) {
                    let first = *first;
                    self.error(
                        Diagnostic::warning(Code::Duplicate, format!("phrase `{}` is listed twice", p.value))
                            .primary(p.span, "listed again")
                            .secondary(first, "first listed here")
                            .help("matching ignores case; remove the repeat"),
                    );
                } else {
                    seen.insert(norm, p.span);
                }
            }
        }
    }
}
