//! Ticket input: JSON validated against the policy's schema. A bad ticket is
//! rejected with the field path, what was expected and what was found —
//! never a panic, never a silent default.

use crate::json::JsonError;
use routec_compiler::hir::{Policy, Ty};
use serde_json::Value;

/// One field's value after validation.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// An optional field the ticket does not have (or has as `null`).
    Absent,
    /// Numbers, ints, bools (0/1), enum indices, durations (s), times (epoch s).
    Number(f64),
    /// A `text` or `string` field.
    Text(String),
    /// A list, its items as text.
    List(Vec<String>),
}

/// Signal values the ticket brings itself (`"signals": {...}`), overriding the model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GivenSignals {
    /// The intent, as an index into the classifier's labels.
    pub intent: Option<u32>,
    /// The intent's confidence in [0, 1].
    pub confidence: Option<f64>,
    /// Sentiment in [-1, 1].
    pub sentiment: Option<f64>,
    /// The language, as an index into the policy's language enum.
    pub language: Option<u32>,
}

/// A ticket validated against one policy's schema; route it with that policy.
#[derive(Clone, Debug)]
pub struct Ticket {
    /// The `id` field as text, when the schema has one.
    pub(crate) id: Option<String>,
    /// Indexed like `hir::Policy::fields`.
    pub(crate) values: Vec<FieldValue>,
    pub(crate) signals: GivenSignals,
    /// The JSON as received, for classifier features and handoffs.
    pub(crate) json: Value,
}

/// Why a ticket was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}expected {expected}, found {found}", if path.is_empty() { String::new() } else { format!("`{path}`: ") })]
pub struct TicketError {
    /// Dotted field path (`customer.tier`), empty for the whole ticket.
    pub path: String,
    /// What the schema expects there, in a user's words.
    pub expected: String,
    /// What the ticket has there instead.
    pub found: String,
}

fn describe_json(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => {
            format!("a string \"{}…\"", s.chars().take(40).collect::<String>())
        }
        Value::String(s) => format!("\"{s}\""),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn lookup<'v>(json: &'v Value, path: &str) -> Result<Option<&'v Value>, TicketError> {
    let mut cur = json;
    let mut walked = String::new();
    for seg in path.split('.') {
        match cur {
            Value::Object(map) => match map.get(seg) {
                Some(v) => cur = v,
                None => return Ok(None),
            },
            Value::Null => return Ok(None),
            other => {
                return Err(TicketError { path: walked, expected: "an object".into(), found: describe_json(other) });
            }
        }
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(seg);
    }
    Ok(Some(cur))
}

impl Ticket {
    /// The ticket's `id` field as text, when the schema has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The JSON as received.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// Parse one JSON text.
    /// A byte-order mark before the JSON (an editor's, at the start of a
    /// file) is skipped; a key repeated in one object is refused.
    pub(crate) fn from_json_str(policy: &Policy, text: &str) -> Result<Ticket, TicketError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let json: Value = crate::json::parse(text).map_err(|e| match e {
            JsonError::DuplicateKey(path) => TicketError {
                path,
                expected: "each key once".into(),
                found: "the key twice (which one counts would be a guess)".into(),
            },
            JsonError::Syntax(e) => TicketError {
                path: String::new(),
                expected: "a JSON object".into(),
                found: format!("invalid JSON ({e})"),
            },
        })?;
        Ticket::from_json(policy, json)
    }

    /// Validate a JSON value against the policy's schema.
    pub(crate) fn from_json(policy: &Policy, json: Value) -> Result<Ticket, TicketError> {
        if !json.is_object() {
            return Err(TicketError {
                path: String::new(),
                expected: "a JSON object".into(),
                found: describe_json(&json),
            });
        }
        let mut values = Vec::with_capacity(policy.fields.len());
        for field in &policy.fields {
            if let Some((whole, part)) = field.url_part {
                // The schema lists a `url` field before its parts.
                let value = match values.get(whole.index()) {
                    Some(FieldValue::Text(url)) => {
                        crate::url::part(url, part).map_or(FieldValue::Absent, FieldValue::Text)
                    }
                    _ => FieldValue::Absent,
                };
                values.push(value);
                continue;
            }
            let v = lookup(&json, &field.path)?;
            let value = match v {
                None | Some(Value::Null) if field.optional => FieldValue::Absent,
                None => {
                    return Err(TicketError {
                        path: field.path.clone(),
                        expected: describe_ty(policy, &field.ty),
                        found: "nothing (the field is missing)".into(),
                    })
                }
                Some(v) => convert(policy, &field.ty, v).ok_or_else(|| TicketError {
                    path: field.path.clone(),
                    expected: match (&field.ty, v) {
                        (Ty::Int, Value::Number(_)) => {
                            format!("a whole number from -{MAX_EXACT_INT} to {MAX_EXACT_INT}")
                        }
                        _ => describe_ty(policy, &field.ty),
                    },
                    found: describe_json(v),
                })?,
            };
            values.push(value);
        }
        let id = policy.field_by_path("id").and_then(|f| match &values[f.index()] {
            FieldValue::Text(s) => Some(s.clone()),
            FieldValue::Number(n) => Some(format!("{n}")),
            _ => None,
        });
        let signals = given_signals(policy, &json)?;
        Ok(Ticket { id, values, signals, json })
    }
}

fn given_signals(policy: &Policy, json: &Value) -> Result<GivenSignals, TicketError> {
    let mut out = GivenSignals::default();
    let Some(sig) = json.get("signals") else { return Ok(out) };
    let Value::Object(map) = sig else {
        return Err(TicketError { path: "signals".into(), expected: "an object".into(), found: describe_json(sig) });
    };
    let number = |key: &str, lo: f64, hi: f64| -> Result<Option<f64>, TicketError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
                _ => Err(TicketError {
                    path: format!("signals.{key}"),
                    expected: format!("a number between {lo} and {hi}"),
                    found: describe_json(v),
                }),
            },
        }
    };
    out.confidence = number("confidence", 0.0, 1.0)?;
    out.sentiment = number("sentiment", -1.0, 1.0)?;
    if let Some(classifier) = &policy.classifier {
        let key = classifier.name.as_str();
        if let Some(v) = map.get(key).filter(|v| !v.is_null()) {
            let labels = policy.enum_def(classifier.labels);
            out.intent = Some(v.as_str().and_then(|s| labels.position(s)).ok_or_else(|| TicketError {
                path: format!("signals.{key}"),
                expected: describe_ty(policy, &Ty::Enum(classifier.labels)),
                found: describe_json(v),
            })?);
        }
    }
    if let Some(v) = map.get("language").filter(|v| !v.is_null()) {
        let langs = policy.enum_def(policy.language_enum);
        out.language = Some(v.as_str().and_then(|s| langs.position(s)).ok_or_else(|| TicketError {
            path: "signals.language".into(),
            expected: describe_ty(policy, &Ty::Enum(policy.language_enum)),
            found: describe_json(v),
        })?);
    }
    Ok(out)
}

/// Seconds since the Unix epoch of an RFC 3339 time. jiff's instants end
/// at 9999-12-30T22:00Z; a valid time after that (`9999-12-31T23:59:59Z`,
/// a common "never") is counted from its civil date and offset instead.
fn epoch_seconds(text: &str) -> Option<f64> {
    use jiff::fmt::temporal::{Pieces, PiecesOffset};
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t.as_second() as f64);
    }
    let pieces = Pieces::parse(text).ok()?;
    let offset = match pieces.offset()? {
        PiecesOffset::Zulu => 0,
        PiecesOffset::Numeric(n) => n.offset().seconds(),
        _ => return None,
    };
    let time = pieces.time()?;
    let days = jiff::civil::date(1970, 1, 1).until((jiff::Unit::Day, pieces.date())).ok()?.get_days();
    let seconds = i64::from(days) * 86_400
        + i64::from(time.hour()) * 3600
        + i64::from(time.minute()) * 60
        + i64::from(time.second())
        - i64::from(offset);
    Some(seconds as f64)
}

/// The largest `int` a ticket may give: 2^53, the last whole number an
/// f64 (the signal block's type) holds exactly.
const MAX_EXACT_INT: i64 = 1 << 53;

fn convert(policy: &Policy, ty: &Ty, v: &Value) -> Option<FieldValue> {
    Some(match ty {
        Ty::Text | Ty::String | Ty::Url => FieldValue::Text(v.as_str()?.to_string()),
        Ty::Int => {
            // The engines hold numbers as f64: past 2^53 an int would be
            // rounded (and 1e300 is no int at all), so it is refused.
            let exact = |n: f64| n.abs() <= MAX_EXACT_INT as f64;
            let n = match v.as_i64() {
                Some(i) if i.unsigned_abs() <= MAX_EXACT_INT.unsigned_abs() => i as f64,
                Some(_) => return None,
                None => v.as_f64().filter(|f| f.fract() == 0.0 && exact(*f))?,
            };
            FieldValue::Number(n)
        }
        Ty::Number => FieldValue::Number(v.as_f64()?),
        Ty::Bool => FieldValue::Number(if v.as_bool()? { 1.0 } else { 0.0 }),
        Ty::Enum(e) => FieldValue::Number(policy.enum_def(*e).position(v.as_str()?)? as f64),
        Ty::Time => FieldValue::Number(epoch_seconds(v.as_str()?)?),
        Ty::Duration => match v {
            Value::Number(n) => FieldValue::Number(n.as_f64().filter(|x| *x >= 0.0)?),
            Value::String(s) => FieldValue::Number(routec_compiler::semantic::parse_duration(s)?),
            _ => return None,
        },
        Ty::List(inner) => {
            let items = v.as_array()?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match (&**inner, item) {
                    (Ty::String | Ty::Text | Ty::Url, Value::String(s)) => out.push(s.clone()),
                    (_, Value::Number(n)) => out.push(n.to_string()),
                    (_, Value::Bool(b)) => out.push(b.to_string()),
                    _ => return None,
                }
            }
            FieldValue::List(out)
        }
    })
}

/// What a field expects, in a user's words.
fn describe_ty(policy: &Policy, ty: &Ty) -> String {
    match ty {
        Ty::Text | Ty::String => "a string".into(),
        Ty::Url => "a URL or a path, as a string".into(),
        Ty::Int => "a whole number".into(),
        Ty::Number => "a number".into(),
        Ty::Bool => "true or false".into(),
        Ty::Time => "an RFC 3339 time string".into(),
        Ty::Duration => "a duration (\"2h\" or seconds)".into(),
        Ty::Enum(e) => {
            let values: Vec<String> = policy.enum_def(*e).values.iter().map(|v| format!("\"{}\"", v.name)).collect();
            format!("one of {}", values.join(", "))
        }
        Ty::List(inner) => format!("a list of {}", describe_ty(policy, inner).trim_start_matches("a ")),
    }
}

#[cfg(test)]
mod tests {
    use crate::Policy;

    const POLICY: &str = "policy \"p\" version 1\nticket { id: string  seats: int  customer { tier: free | pro } }\n\
                          queue general\notherwise -> general\n";

    fn rejected(json: &str) -> (String, String) {
        let policy = Policy::compile("p.route", POLICY).expect("the policy compiles");
        let e = policy.ticket(json).expect_err("the ticket is refused");
        let message = e.to_string();
        (e.path, message)
    }

    #[test]
    fn an_int_beyond_what_the_engines_hold_exactly_is_refused_with_its_path() {
        for seats in ["1e300", "9.3e18", "9223372036854775807", "-9007199254740993"] {
            let (path, message) =
                rejected(&format!(r#"{{"id": "T", "seats": {seats}, "customer": {{"tier": "pro"}}}}"#));
            assert_eq!(path, "seats", "{seats}");
            assert!(message.contains("a whole number from -9007199254740992 to 9007199254740992"), "{message}");
        }
        let policy = Policy::compile("p.route", POLICY).expect("the policy compiles");
        let edge = r#"{"id": "T", "seats": 9007199254740992, "customer": {"tier": "pro"}}"#;
        assert!(policy.ticket(edge).is_ok());
    }

    #[test]
    fn times_to_the_end_of_year_9999_are_times() {
        assert_eq!(super::epoch_seconds("9999-12-31T23:59:59Z"), Some(253_402_300_799.0));
        assert_eq!(super::epoch_seconds("9999-12-31T23:59:59+01:00"), Some(253_402_297_199.0));
        assert_eq!(super::epoch_seconds("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(super::epoch_seconds("9999-12-31"), None, "a date is not a time");
        assert_eq!(super::epoch_seconds("9999-12-31T23:59:59"), None, "a time needs its offset");
    }

    #[test]
    fn a_repeated_key_is_refused_not_last_wins() {
        let (path, message) = rejected(r#"{"id": "T", "seats": 1, "customer": {"tier": "free", "tier": "pro"}}"#);
        assert_eq!(path, "customer.tier");
        assert!(message.contains("expected each key once"), "{message}");
    }

    #[test]
    fn a_byte_order_mark_before_the_ticket_is_skipped() {
        let policy = Policy::compile("p.route", POLICY).expect("the policy compiles");
        let ticket = policy.ticket("\u{feff}{\"id\": \"T\", \"seats\": 1, \"customer\": {\"tier\": \"pro\"}}");
        assert_eq!(ticket.expect("a valid ticket").id(), Some("T"));
    }
}
