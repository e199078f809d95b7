//! Turns pest's parse errors into diagnostics that name what was expected
//! in the policy author's words (`a name`, `` `->` ``), never grammar rule names.

use super::Rule;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

pub fn to_diagnostic(file: FileId, offset: usize, text: &str, error: &pest::error::Error<Rule>) -> Diagnostic {
    let position = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    } + offset;
    let position = position.min(text.len());
    let found_len = token_len(&text[position..]);
    let found = &text[position..position + found_len];
    let span = Span::new(file, position, position + found_len);
    let mut expected: Vec<String> = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| describe(*r)).collect()
        }
        pest::error::ErrorVariant::CustomError { message } => vec![message.clone()],
    };
    expected.sort();
    expected.dedup();
    let found_text = if found.is_empty() { "end of file".to_string() } else { format!("`{found}`") };
    if expected.is_empty() {
        expected.push("an item".to_string());
    }
    let message = if expected.is_empty() {
        format!("unexpected {found_text}")
    } else {
        format!("expected {}, found {found_text}", join_or(&expected))
    };
    let help = hint(&expected, found);
    let mut d = Diagnostic::error(Code::Syntax, message).primary(span, format!("unexpected {found_text}"));
    if let Some(h) = help {
        d = d.help(h);
    }
    d
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

fn hint(expected: &[String], found: &str) -> Option<String> {
    let has = |s: &str| expected.iter().any(|e| e == s);
    if has("`->`") {
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
