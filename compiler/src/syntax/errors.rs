//! Turns pest's parse errors into diagnostics that name what was expected
//! in the policy author's words (`a name`, `` `->` ``), never grammar rule names.

use super::Rule;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// The diagnostic for a parse error in the chunk `chunk` (byte range of
/// `text`; the whole file when it is one chunk). Every one gets a `help:`:
/// a did-you-mean for a misspelled keyword, a hint for common slips, else
/// the form of the item being written.
pub fn to_diagnostic(file: FileId, chunk: (usize, usize), text: &str, error: &pest::error::Error<Rule>) -> Diagnostic {
    let (offset, chunk_end) = (chunk.0.min(text.len()), chunk.1.min(text.len()));
    let position = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    } + offset;
    let position = position.min(text.len());
    let mut expected: Vec<String> = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| describe(*r)).collect()
        }
        pest::error::ErrorVariant::CustomError { message } => vec![message.clone()],
    };
    expected.sort();
    expected.dedup();
    if expected.is_empty() {
        expected.push("an item".to_string());
    }
    let chunk_text = text.get(offset..chunk_end.max(offset)).unwrap_or_default();
    let item = item_keyword(chunk_text);
    // The chunk ended before the item did: what follows belongs to the next
    // item, so the error is at the end of this one, not at the next one.
    let item_end = offset + chunk_text.trim_end().len();
    let at_item_end = position >= item_end && chunk_end < text.len();
    if (at_item_end || position >= text.len()) && expected.iter().any(|e| e == "`}`") {
        if let Some(open) = unclosed_brace(chunk_text) {
            return unclosed(file, offset + open, item_end, item);
        }
    }
    let (found, span) = if at_item_end {
        ("", Span::new(file, item_end, item_end))
    } else {
        let len = token_len(&text[position..]);
        (&text[position..position + len], Span::new(file, position, position + len))
    };
    let found_text = match (found.is_empty(), at_item_end) {
        (false, _) => format!("`{found}`"),
        (true, true) => format!("the end of this `{}`", item.unwrap_or("item")),
        (true, false) => "end of file".to_string(),
    };
    let message = format!("expected {}, found {found_text}", join_or(&expected));
    let label = match (at_item_end, item) {
        (true, Some(item)) => format!("the `{item}` ends here"),
        _ => format!("unexpected {found_text}"),
    };
    let mut d = Diagnostic::error(Code::Syntax, message).primary(span, label);
    if let Some(keyword) = misspelled_keyword(&expected, found) {
        return d.help(format!("did you mean `{keyword}`?")).suggest(keyword.to_string());
    }
    let before = text[..position].trim_end();
    let help = hint(&expected, found, before, at_item_end)
        .or_else(|| item.and_then(item_form).map(|form| format!("{form}; see docs/language.md")))
        .unwrap_or_else(|| "compare the line with the grammar summary in docs/language.md".to_string());
    d = d.help(help);
    d
}

/// The keyword `found` is probably a typo of: one of the keywords expected
/// here, or an item keyword where an item was expected.
fn misspelled_keyword<'a>(expected: &'a [String], found: &str) -> Option<&'a str> {
    if found.is_empty() || !found.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let mut candidates: Vec<&str> = expected
        .iter()
        .filter_map(|e| e.strip_prefix('`')?.strip_suffix('`'))
        .filter(|k| k.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
        .collect();
    if expected.iter().any(|e| e == "an item") {
        candidates.extend(super::ITEM_KEYWORDS.iter().filter(|k| !k.starts_with('@')));
    }
    let found_lower = found.to_lowercase();
    // A keyword written in capitals is the keyword; otherwise one typo away
    // (two in a long word): keywords are short, and a looser match would
    // take `route` for `role`.
    let typos = if found.len() >= 8 { 2 } else { 1 };
    candidates
        .iter()
        .copied()
        .find(|c| *c == found_lower)
        .or_else(|| {
            crate::semantic::suggest::closest(found, candidates.iter().copied())
                .filter(|c| strsim::damerau_levenshtein(&found_lower, c) <= typos)
        })
        .filter(|c| *c != found)
}

/// The first word of a chunk after its `@allow(…)` lines and comments: the
/// item it holds.
fn item_keyword(chunk: &str) -> Option<&'static str> {
    let first =
        chunk.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("@allow"))?;
    let word: String = first.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    super::ITEM_KEYWORDS.iter().copied().find(|k| *k == word)
}

/// How an item is written, for the `help:` of an error inside one.
fn item_form(item: &str) -> Option<&'static str> {
    Some(match item {
        "policy" => "a policy line reads `policy \"NAME\" version N`",
        "import" => "an import reads `import \"teams.route\"`",
        "mode" => "write `mode shadow` or `mode enforce`",
        "ticket" => "the ticket schema reads `ticket { subject: text  tier: free | pro  customer { vip: bool } }`",
        "schedule" => "a schedule reads `schedule NAME { tz \"Europe/Berlin\"  mon-fri 09:00-17:00  holidays [\"2026-12-25\"] }`",
        "team" | "queue" | "role" | "ai" => {
            "a destination reads `team NAME { hours SCHEDULE  capacity 20  when closed -> OTHER  when full -> OTHER }` (the block is optional)"
        }
        "keywords" => "a keyword set reads `keywords NAME = [\"refund*\", \"cancel ~2 subscription\"]`",
        "regex" => "a regex reads `regex NAME = \"PATTERN\"`",
        "classifier" => {
            "a classifier reads `classifier intent from \"models/intent.model\" { labels billing, bug  features subject, body  threshold 0.7 }`"
        }
        "priorities" => "write the priorities most urgent first: `priorities P1, P2, P3`",
        "priority" => "the priority block reads `priority { P1 when CONDITION  P2 when CONDITION  default P3 }`",
        "sla" => "an SLA reads `sla NAME { P1: 15m  P2: 2h business }`",
        "escalate" => "an escalation reads `escalate NAME when CONDITION -> DESTINATION`, then its options",
        "rule" => "a rule reads `rule NAME when CONDITION -> DESTINATION`, then its options (`priority P1`, `notify slack \"#ch\"`, `tag \"x\"`…)",
        "matrix" => "a matrix reads `matrix FIELD, FIELD { VALUE, _ -> DESTINATION }`",
        "otherwise" => "write `otherwise -> DESTINATION`",
        "test" => "a test reads `test \"NAME\" { ticket { subject: \"…\" }  expect DESTINATION }`",
        _ => return None,
    })
}

/// The offset in `chunk` of the `{` that is still open at its end (the
/// innermost), skipping strings and comments.
fn unclosed_brace(chunk: &str) -> Option<usize> {
    let bytes = chunk.as_bytes();
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n') {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' => open.push(i),
            b'}' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    open.pop()
}

fn unclosed(file: FileId, open: usize, item_end: usize, item: Option<&str>) -> Diagnostic {
    let what = item.map(|i| format!("the `{i}` block")).unwrap_or_else(|| "the block".to_string());
    Diagnostic::error(Code::Syntax, "`{` is never closed")
        .primary(Span::new(file, open, open + 1), "this `{` has no matching `}`")
        .secondary(Span::new(file, item_end, item_end), format!("{what} ends here"))
        .help(format!("add `}}` to close {what} after its last entry"))
}

fn token_len(rest: &str) -> usize {
    let mut chars = rest.char_indices();
    match chars.next() {
        None => 0,
        Some((_, c)) if c.is_alphanumeric() || c == '_' => {
            rest.char_indices().find(|(_, c)| !(c.is_alphanumeric() || *c == '_')).map(|(i, _)| i).unwrap_or(rest.len())
        }
        Some((_, c)) if c == '\n' || c == '\r' => 0,
        Some(_) => rest
            .char_indices()
            .find(|(_, c)| c.is_whitespace() || c.is_alphanumeric() || *c == '_' || *c == '"')
            .map(|(i, _)| i)
            .filter(|i| *i > 0)
            .unwrap_or_else(|| rest.chars().next().map(char::len_utf8).unwrap_or(0)),
    }
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {}", rest.join(", "), last),
    }
}

fn hint(expected: &[String], found: &str, before: &str, at_item_end: bool) -> Option<String> {
    let has = |s: &str| expected.iter().any(|e| e == s);
    let condition = has("a condition") || has("a comparison (`==`, `<`…)");
    if found.starts_with('=') && condition {
        return Some(if before.ends_with("==") {
            "`===` is not an operator: compare with `==`".into()
        } else {
            "compare with `==`".into()
        });
    }
    if has("a condition") {
        let last_word = before.rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or_default();
        if matches!(last_word, "and" | "or" | "not") {
            return Some(format!("`{last_word}` needs a condition after it: add one, or remove the `{last_word}`"));
        }
    }
    if has("`->`") && !at_item_end {
        return Some("a rule reads `rule NAME when CONDITION -> DESTINATION`".into());
    }
    if found.is_empty() && has("`}`") {
        return Some("a `{` is never closed: add the matching `}`".into());
    }
    if has("`,`") && has("`]`") {
        return Some("list items are separated by commas; a string may be missing its closing `\"`".into());
    }
    if has("a string") {
        return Some("strings are written in double quotes, e.g. \"#support\"".into());
    }
    if has("an item") {
        return Some(
            "top-level items start with `policy`, `ticket`, `team`, `keywords`, `rule`, `matrix`, `test`…".into(),
        );
    }
    None
}

fn describe(rule: Rule) -> Option<String> {
    let s = match rule {
        Rule::EOI => "end of file",
        Rule::ident | Rule::path => "a name",
        Rule::string | Rule::string_inner => "a string",
        Rule::number => "a number",
        Rule::integer => "a whole number",
        Rule::duration => "a duration like `15m` or `2h`",
        Rule::percent => "a percentage like `25%`",
        Rule::clock => "a time like `09:00`",
        Rule::bool_lit => "`true` or `false`",
        Rule::wildcard => "`_`",
        Rule::compare_op => "a comparison (`==`, `<`…)",
        Rule::string_list => "a list of strings `[\"…\"]`",
        Rule::list_literal => "a list `[…]`",
        Rule::always_open => "`24x7`",
        Rule::allow_attr => "`@allow(…)`",
        Rule::arrow => "`->`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::comma => "`,`",
        Rule::rbracket => "`]`",
        Rule::policy_decl
        | Rule::import_decl
        | Rule::mode_decl
        | Rule::ticket_decl
        | Rule::schedule_decl
        | Rule::dest_decl
        | Rule::keywords_decl
        | Rule::regex_decl
        | Rule::classifier_decl
        | Rule::priorities_decl
        | Rule::priority_decl
        | Rule::sla_decl
        | Rule::escalate_decl
        | Rule::rule_decl
        | Rule::matrix_decl
        | Rule::otherwise_decl
        | Rule::test_decl => "an item",
        Rule::expr | Rule::or_expr | Rule::and_expr | Rule::not_expr | Rule::predicate | Rule::operand => "a condition",
        Rule::literal => "a value",
        Rule::type_expr | Rule::named_type | Rule::enum_type | Rule::list_type => "a type",
        Rule::field_decl => "a field",
        Rule::k_policy => "`policy`",
        Rule::k_version => "`version`",
        Rule::k_import => "`import`",
        Rule::k_mode => "`mode`",
        Rule::k_ticket => "`ticket`",
        Rule::k_schedule => "`schedule`",
        Rule::k_timezone => "`timezone`",
        Rule::k_holidays => "`holidays`",
        Rule::k_team => "`team`",
        Rule::k_queue => "`queue`",
        Rule::k_role => "`role`",
        Rule::k_ai => "`ai`",
        Rule::k_hours => "`hours`",
        Rule::k_capacity => "`capacity`",
        Rule::k_skills => "`skills`",
        Rule::k_when => "`when`",
        Rule::k_closed => "`closed`",
        Rule::k_full => "`full`",
        Rule::k_keywords => "`keywords`",
        Rule::k_regex => "`regex`",
        Rule::k_classifier => "`classifier`",
        Rule::k_from => "`from`",
        Rule::k_labels => "`labels`",
        Rule::k_features => "`features`",
        Rule::k_threshold => "`threshold`",
        Rule::k_priorities => "`priorities`",
        Rule::k_priority => "`priority`",
        Rule::k_default => "`default`",
        Rule::k_sla => "`sla`",
        Rule::k_per => "`per`",
        Rule::k_business => "`business`",
        Rule::k_escalate => "`escalate`",
        Rule::k_rule => "`rule`",
        Rule::k_matrix => "`matrix`",
        Rule::k_otherwise => "`otherwise`",
        Rule::k_shadow => "`shadow`",
        Rule::k_enforce => "`enforce`",
        Rule::k_rollout => "`rollout`",
        Rule::k_handoff => "`handoff`",
        Rule::k_notify => "`notify`",
        Rule::k_slack => "`slack`",
        Rule::k_email => "`email`",
        Rule::k_create_issue => "`create_issue`",
        Rule::k_jira => "`jira`",
        Rule::k_linear => "`linear`",
        Rule::k_severity => "`severity`",
        Rule::k_area => "`area`",
        Rule::k_tag => "`tag`",
        Rule::k_set => "`set`",
        Rule::k_test => "`test`",
        Rule::k_signals => "`signals`",
        Rule::k_at => "`at`",
        Rule::k_load => "`load`",
        Rule::k_expect => "`expect`",
        Rule::k_escalated => "`escalated`",
        Rule::k_fallback => "`fallback`",
        Rule::k_and => "`and`",
        Rule::k_or => "`or`",
        Rule::k_not => "`not`",
        Rule::k_in => "`in`",
        Rule::k_has => "`has`",
        Rule::k_matches => "`matches`",
        Rule::k_starts_with => "`starts_with`",
        Rule::k_ends_with => "`ends_with`",
        Rule::k_contains => "`contains`",
        _ => return None,
    };
    Some(s.to_string())
}
