//! "Did you mean `x`?": the closest known name to an unknown one, and the
//! diagnostic builder every unknown-name error uses (`Diagnostic::did_you_mean`).

use crate::diagnostic::Diagnostic;

/// The candidate closest to `name`, if it is close enough to be a likely typo.
///
/// A name more than twice as long as a candidate (plus a few characters) is
/// taken for no typo of it, and comparing them would cost the product of their
/// lengths: such pairs are skipped, so a 20,000-character string compared
/// with every time zone costs nothing.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        if candidate == name || name.len() > 2 * candidate.len() + 8 {
            continue;
        }
        let score = strsim::jaro_winkler(&name.to_lowercase(), &candidate.to_lowercase());
        let close = score >= 0.8 || strsim::damerau_levenshtein(name, candidate) <= (name.len() / 3).max(1);
        if close && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// `help:` text for an unknown name: a suggestion, or the list of what exists.
pub fn help_for(kind: &str, name: &str, candidates: &[&str]) -> (String, Option<String>) {
    match closest(name, candidates.iter().copied()) {
        Some(c) => (format!("did you mean `{c}`?"), Some(c.to_string())),
        None if candidates.is_empty() => (format!("declare the {kind} first"), None),
        None => {
            let mut shown: Vec<&str> = candidates.to_vec();
            shown.sort_unstable();
            let list = shown.iter().take(8).map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
            let more = if shown.len() > 8 { ", …" } else { "" };
            (format!("known {kind}s: {list}{more}"), None)
        }
    }
}

impl Diagnostic {
    /// The `help:` for an unknown `name` of some `kind` ("field",
    /// "schedule"), given the names that exist: "did you mean `x`?" with `x`
    /// as the suggested fix, else the known names, else "declare the … first".
    pub(crate) fn did_you_mean(self, kind: &str, name: &str, candidates: &[&str]) -> Diagnostic {
        let (help, suggestion) = help_for(kind, name, candidates);
        let diagnostic = self.help(help);
        match suggestion {
            Some(s) => diagnostic.suggest(s),
            None => diagnostic,
        }
    }
}
