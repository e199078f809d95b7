//! Redaction: the ticket fields an operator does not want in the decision
//! log (e-mail addresses, free text) are removed, or replaced by
//! `"[redacted]"`, in the stored ticket and in the decision JSON (handoff
//! fields included) before the decision is recorded. The answer is built
//! from the stored decision (a retry must get the same bytes), so what the
//! log never holds is not sent back either.
//!
//! Pure functions over JSON, so they are tested here without a server.

use serde::Deserialize;
use serde_json::{Map, Value};

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";
/// What a scrubbed e-mail address inside free text is replaced with.
pub const REDACTED_EMAIL: &str = "[email]";

/// How a redacted field is stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RedactMode {
    /// The value becomes `"[redacted]"`: the log still shows the field was there.
    #[default]
    Replace,
    /// The field is left out.
    Remove,
}

/// The `[redact]` section of the config file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedactionConfig {
    /// Dotted ticket field paths, e.g. `customer.email`, `body`. A path that
    /// names a group (`customer`) redacts everything in it.
    pub fields: Vec<String>,
    pub mode: RedactMode,
    /// Replace e-mail addresses found in any string of the ticket by `"[email]"`.
    pub scrub_emails: bool,
}

/// A validated [`RedactionConfig`], ready to apply.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    paths: Vec<Vec<String>>,
    mode: RedactMode,
    scrub_emails: bool,
}

/// Why a redaction config was refused.
#[derive(Debug, thiserror::Error)]
#[error("redact: `{path}` is not a field path (expected names separated by dots, e.g. `customer.email`)")]
pub struct RedactConfigError {
    pub path: String,
}

impl Redactor {
    pub fn new(config: &RedactionConfig) -> Result<Redactor, RedactConfigError> {
        let mut paths = Vec::new();
        for path in &config.fields {
            let segments: Vec<String> = path.split('.').map(|s| s.trim().to_string()).collect();
            if segments.iter().any(String::is_empty) {
                return Err(RedactConfigError { path: path.clone() });
            }
            paths.push(segments);
        }
        Ok(Redactor { paths, mode: config.mode, scrub_emails: config.scrub_emails })
    }

    /// Whether applying it can change anything (the server skips the copy otherwise).
    pub fn is_active(&self) -> bool {
        !self.paths.is_empty() || self.scrub_emails
    }

    /// The ticket as it may be stored.
    pub fn ticket(&self, ticket: &mut Value) {
        for path in &self.paths {
            redact_path(ticket, path, self.mode);
        }
        if self.scrub_emails {
            scrub_strings(ticket);
        }
    }

    /// A decision (or shadow decision) as it may be stored: the ticket
    /// fields it copies (`handoff.fields`, keyed by dotted path) are redacted
    /// like the ticket's.
    pub fn decision(&self, decision: &mut Value) {
        // A keyword match quotes the text it matched in its field.
        for keywords in ["/signals/keywords", "/handoff/keywords"] {
            if let Some(Value::Array(hits)) = decision.pointer_mut(keywords) {
                hits.iter_mut().for_each(|hit| self.keyword_hit(hit));
            }
        }
        let Some(fields) = decision.get_mut("handoff").and_then(|h| h.get_mut("fields")).and_then(Value::as_object_mut)
        else {
            return;
        };
        for path in &self.paths {
            redact_flattened(fields, path, self.mode);
        }
        if self.scrub_emails {
            for value in fields.values_mut() {
                scrub_strings(value);
            }
        }
    }
}

impl Redactor {
    /// A keyword match's quoted `text` when its field is redacted (the
    /// phrase and the span stay: they say why the set matched, not what the
    /// customer wrote); e-mail addresses in it when scrubbing.
    fn keyword_hit(&self, hit: &mut Value) {
        let field = hit.get("field").and_then(Value::as_str).unwrap_or_default();
        let segments: Vec<&str> = field.split('.').collect();
        let redacted =
            self.paths.iter().any(|p| p.len() <= segments.len() && p.iter().zip(&segments).all(|(a, b)| a == b));
        let Some(text) = hit.get_mut("text") else { return };
        if redacted {
            *text = Value::String(REDACTED.into());
        } else if self.scrub_emails {
            scrub_strings(text);
        }
    }
}

/// Redact `path` inside `value`; an array on the way applies the rest of the
/// path to each element (`tags`, lists of objects).
fn redact_path(value: &mut Value, path: &[String], mode: RedactMode) {
    let Some((first, rest)) = path.split_first() else { return };
    match value {
        Value::Object(map) => {
            if rest.is_empty() {
                match mode {
                    RedactMode::Remove => {
                        map.remove(first);
                    }
                    RedactMode::Replace => {
                        if let Some(v) = map.get_mut(first) {
                            *v = Value::String(REDACTED.into());
                        }
                    }
                }
            } else if let Some(inner) = map.get_mut(first) {
                redact_path(inner, rest, mode);
            }
        }
        Value::Array(items) => {
            for item in items {
                redact_path(item, path, mode);
            }
        }
        _ => {}
    }
}

/// Redact `path` in a map keyed by dotted paths (the handoff's fields): a
/// key equal to the path or below it is redacted; a key above it has the
/// rest of the path redacted inside its value.
fn redact_flattened(fields: &mut Map<String, Value>, path: &[String], mode: RedactMode) {
    let joined = path.join(".");
    let below = format!("{joined}.");
    let keys: Vec<String> = fields.keys().cloned().collect();
    for key in keys {
        if key == joined || key.starts_with(&below) {
            match mode {
                RedactMode::Remove => {
                    fields.remove(&key);
                }
                RedactMode::Replace => {
                    fields.insert(key, Value::String(REDACTED.into()));
                }
            }
        } else if let Some(rest) = joined.strip_prefix(&format!("{key}.")) {
            let rest: Vec<String> = rest.split('.').map(str::to_string).collect();
            if let Some(value) = fields.get_mut(&key) {
                redact_path(value, &rest, mode);
            }
        }
    }
}

fn scrub_strings(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(scrubbed) = scrub_emails(s) {
                *s = scrubbed;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_strings),
        Value::Object(map) => map.values_mut().for_each(scrub_strings),
        _ => {}
    }
}

/// `text` with every e-mail address replaced by `"[email]"`, or `None` when it has none.
///
/// An address is a local part of letters, digits and `._%+-`, an `@`, and a
/// domain of at least two dot-separated labels ending in letters. Written by
/// hand rather than with a regex: it runs on every stored string.
pub fn scrub_emails(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let is_local = |b: u8| b.is_ascii_alphanumeric() || b"._%+-".contains(&b);
    let is_domain = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'-';
    let mut out = String::new();
    let mut copied = 0;
    let mut search = 0;
    while let Some(at) = text[search..].find('@').map(|i| i + search) {
        search = at + 1;
        let mut start = at;
        while start > copied && is_local(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_domain(bytes[end]) {
            end += 1;
        }
        // A sentence may end right after the address.
        while end > at + 1 && (bytes[end - 1] == b'.' || bytes[end - 1] == b'-') {
            end -= 1;
        }
        let domain = &text[at + 1..end];
        let labels: Vec<&str> = domain.split('.').collect();
        let tld_ok = labels.last().is_some_and(|t| t.len() >= 2 && t.bytes().all(|b| b.is_ascii_alphabetic()));
        if start == at || labels.len() < 2 || labels.iter().any(|l| l.is_empty()) || !tld_ok {
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(REDACTED_EMAIL);
        copied = end;
        search = end;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redactor(fields: &[&str], mode: RedactMode, scrub_emails: bool) -> Redactor {
        let config = RedactionConfig { fields: fields.iter().map(|s| s.to_string()).collect(), mode, scrub_emails };
        Redactor::new(&config).expect("valid paths")
    }

    fn ticket() -> Value {
        json!({
            "id": "T-1",
            "subject": "Invoice",
            "body": "Write to maria@northwind.example or ap@northwind.example.",
            "customer": {"name": "Northwind", "email": "ap@northwind.example", "tier": "pro"},
            "contacts": [{"email": "a@b.example"}, {"email": "c@d.example", "role": "owner"}]
        })
    }

    #[test]
    fn replace_keeps_the_key_and_hides_the_value() {
        let mut t = ticket();
        redactor(&["customer.email", "body"], RedactMode::Replace, false).ticket(&mut t);
        assert_eq!(t["customer"]["email"], json!(REDACTED));
        assert_eq!(t["body"], json!(REDACTED));
        assert_eq!(t["customer"]["name"], json!("Northwind"));
        assert_eq!(t["subject"], json!("Invoice"));
    }

    #[test]
    fn remove_drops_the_key() {
        let mut t = ticket();
        redactor(&["customer.email", "body"], RedactMode::Remove, false).ticket(&mut t);
        assert!(t["customer"].get("email").is_none());
        assert!(t.get("body").is_none());
        assert_eq!(t["customer"]["tier"], json!("pro"));
    }

    #[test]
    fn a_group_path_redacts_the_whole_group_and_arrays_apply_to_each_element() {
        let mut t = ticket();
        redactor(&["customer", "contacts.email"], RedactMode::Replace, false).ticket(&mut t);
        assert_eq!(t["customer"], json!(REDACTED));
        assert_eq!(t["contacts"], json!([{"email": REDACTED}, {"email": REDACTED, "role": "owner"}]));
    }

    #[test]
    fn missing_fields_and_non_objects_are_left_alone() {
        let mut t = json!({"id": "T-2", "customer": "not an object"});
        let before = t.clone();
        redactor(&["customer.email", "nothing.here"], RedactMode::Replace, false).ticket(&mut t);
        assert_eq!(t, before);
    }

    #[test]
    fn handoff_fields_are_redacted_by_dotted_key() {
        let mut d = json!({
            "destination": {"name": "billing"},
            "handoff": {"fields": {
                "customer.email": "ap@northwind.example",
                "customer.tier": "pro",
                "channel": "email",
                "meta": {"secret": "s", "kept": 1}
            }}
        });
        redactor(&["customer", "meta.secret"], RedactMode::Remove, false).decision(&mut d);
        assert_eq!(d["handoff"]["fields"], json!({"channel": "email", "meta": {"kept": 1}}));
        assert_eq!(d["destination"]["name"], json!("billing"));
    }

    #[test]
    fn keyword_matches_do_not_quote_redacted_fields() {
        let hit = |field: &str, text: &str| json!({"set": "churn", "field": field, "phrase": "cancel ~2 subscription", "text": text, "span": [0, 5]});
        let mut d = json!({
            "signals": {"keywords": [hit("body", "cancel my subscription"), hit("subject", "mail ap@northwind.example")]},
            "handoff": {"keywords": [hit("body", "cancel my subscription")], "fields": {}}
        });
        redactor(&["body"], RedactMode::Remove, true).decision(&mut d);
        assert_eq!(d["signals"]["keywords"][0]["text"], json!(REDACTED));
        assert_eq!(d["signals"]["keywords"][0]["phrase"], json!("cancel ~2 subscription"));
        assert_eq!(d["signals"]["keywords"][1]["text"], json!("mail [email]"));
        assert_eq!(d["handoff"]["keywords"][0]["text"], json!(REDACTED));
    }

    #[test]
    fn a_decision_without_handoff_is_unchanged() {
        let mut d = json!({"handoff": null, "priority": "P2"});
        let before = d.clone();
        redactor(&["body"], RedactMode::Replace, true).decision(&mut d);
        assert_eq!(d, before);
    }

    #[test]
    fn scrubbing_replaces_addresses_in_every_string() {
        let mut t = ticket();
        redactor(&[], RedactMode::Replace, true).ticket(&mut t);
        assert_eq!(t["body"], json!("Write to [email] or [email]."));
        assert_eq!(t["customer"]["email"], json!("[email]"));
        assert_eq!(t["contacts"][1]["email"], json!("[email]"));
        assert_eq!(t["subject"], json!("Invoice"));
    }

    #[test]
    fn scrub_emails_leaves_what_is_not_an_address() {
        assert_eq!(scrub_emails("no address here"), None);
        assert_eq!(scrub_emails("meet @ noon"), None);
        assert_eq!(scrub_emails("user@localhost"), None);
        assert_eq!(scrub_emails("@handle on x.com"), None);
        assert_eq!(scrub_emails("price 3@4.50"), None);
        assert_eq!(scrub_emails("Mail j.doe+tag@mail.example.co.uk, thanks").as_deref(), Some("Mail [email], thanks"));
        assert_eq!(scrub_emails("a@b.io@c.example").as_deref(), Some("[email]@c.example"));
        assert_eq!(scrub_emails("é x@y.fr é").as_deref(), Some("é [email] é"));
    }

    #[test]
    fn an_empty_path_segment_is_refused() {
        let config = RedactionConfig { fields: vec!["customer..email".into()], ..Default::default() };
        let err = Redactor::new(&config).expect_err("an empty segment");
        assert_eq!(err.path, "customer..email");
        assert!(!Redactor::default().is_active());
    }
}
