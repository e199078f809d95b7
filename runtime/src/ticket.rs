//! Ticket input: JSON validated against the policy's schema. A bad ticket is
//! rejected with the field path, what was expected and what was found —
//! never a panic, never a silent default.

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
    pub(crate) fn from_json_str(policy: &Policy, text: &str) -> Result<Ticket, TicketError> {
        let json: Value = serde_json::from_str(text).map_err(|e| TicketError {
            path: String::new(),
            expected: "a JSON object".into(),
            found: format!("invalid JSON ({e})"),
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
                    expected: describe_ty(policy, &field.ty),
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

fn convert(policy: &Policy, ty: &Ty, v: &Value) -> Option<FieldValue> {
    Some(match ty {
        Ty::Text | Ty::String => FieldValue::Text(v.as_str()?.to_string()),
        Ty::Int => {
            let n = v.as_i64().map(|i| i as f64).or_else(|| v.as_f64().filter(|f| f.fract() == 0.0))?;
            FieldValue::Number(n)
        }
        Ty::Number => FieldValue::Number(v.as_f64()?),
        Ty::Bool => FieldValue::Number(if v.as_bool()? { 1.0 } else { 0.0 }),
        Ty::Enum(e) => FieldValue::Number(policy.enum_def(*e).position(v.as_str()?)? as f64),
        Ty::Time => FieldValue::Number(v.as_str()?.parse::<jiff::Timestamp>().ok()?.as_second() as f64),
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
                    (Ty::String | Ty::Text, Value::String(s)) => out.push(s.clone()),
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
