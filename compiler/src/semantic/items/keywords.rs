//! Keyword sets: empty sets and phrases, repeated phrases, and the phrase
//! marks (`~N` gaps, `word*` prefixes, `word~` typo tolerance) read by
//! [`crate::phrase`], reported at the characters that are wrong.

use crate::diagnostic::{Code, Diagnostic};
use crate::phrase::Phrase;
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
                let norm = p.value.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
                if !self.phrase_is_valid(p) {
                    continue;
                }
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

    /// Reports a phrase whose marks are malformed; true when it is valid.
    pub(in crate::semantic) fn phrase_is_valid(&mut self, phrase: &ast::StrLit) -> bool {
        let Err(e) = Phrase::parse(&phrase.value) else { return true };
        // The error's offsets are into the unescaped text; they are offsets
        // into the source only when the literal has no escapes (same length).
        let inside = phrase.span.start as usize + 1;
        let span = if phrase.span.len().saturating_sub(2) == phrase.value.len() {
            Span::new(phrase.span.file, inside + e.start, inside + e.end)
        } else {
            phrase.span
        };
        self.error(Diagnostic::error(Code::BadPhrase, e.message).primary(span, e.label).help(e.help));
        false
    }
}
