//! Field mapping: the config's `fields` table, from paths into a helpdesk's
//! JSON (`organization.organization_fields.plan`) to the policy's ticket
//! schema (`customer.tier`). Checked once at start against the schema, with
//! errors naming the config key and the schema's expected type; applied to
//! every fetched ticket, converting values to the schema's types (a Zendesk
//! numeric id to a `string`, `"42"` to an `int`, `Enterprise` to an enum
//! value through a `values` table).
//!
//! The schema arrives as plain data ([`Schema`]) so this crate does not
//! depend on the compiler; the service builds it from the loaded policy.

use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The type of one schema field, as the mapping needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Text,
    String,
    Int,
    Number,
    Bool,
    Time,
    Duration,
    /// The enum's values, in order.
    Enum(Vec<String>),
    List(Box<FieldKind>),
}

impl FieldKind {
    /// How the policy writes the type, for error messages.
    pub fn describe(&self) -> String {
        match self {
            FieldKind::Text => "text".into(),
            FieldKind::String => "string".into(),
            FieldKind::Int => "int".into(),
            FieldKind::Number => "number".into(),
            FieldKind::Bool => "bool".into(),
            FieldKind::Time => "time".into(),
            FieldKind::Duration => "duration".into(),
            FieldKind::Enum(values) => values.join(" | "),
            FieldKind::List(item) => format!("[{}]", item.describe()),
        }
    }
}

/// One leaf field of the policy's ticket schema, by dotted path.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaField {
    pub path: String,
    pub kind: FieldKind,
    pub optional: bool,
}

/// The policy's ticket schema.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    pub fields: Vec<SchemaField>,
}

impl Schema {
    fn field(&self, path: &str) -> Option<&SchemaField> {
        self.fields.iter().find(|f| f.path == path)
    }
}

/// Where a schema field's value comes from, as written in the config: a
/// path, or a table with a path, a translation of values, a default, or a
/// constant.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum FieldSource {
    Path(String),
    Rule(FieldRule),
}

/// `{ from = "…", values = { … }, default = … }` or `{ value = … }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    pub from: Option<String>,
    /// The helpdesk's value (as text) → the schema's value.
    #[serde(default)]
    pub values: BTreeMap<String, toml::Value>,
    /// Used when the path finds nothing.
    pub default: Option<toml::Value>,
    /// A constant: no path.
    pub value: Option<toml::Value>,
}

/// Why a mapping is refused at start, or a ticket could not be mapped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{setting}`: {reason}")]
pub struct MappingError {
    /// The config key, e.g. `helpdesk.zendesk.fields."customer.tier"`.
    pub setting: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    target: String,
    kind: FieldKind,
    from: Option<Vec<String>>,
    values: BTreeMap<String, Value>,
    default: Option<Value>,
}

/// A checked mapping, ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMapping {
    entries: Vec<Entry>,
    /// Filled with the helpdesk's ticket id when the schema has an `id`
    /// field the config does not map, so outcomes meet their decisions.
    id_field: Option<FieldKind>,
}

fn to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::from(s.as_str()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::from(*b),
        toml::Value::Datetime(d) => Value::from(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

impl FieldMapping {
    /// Check `fields` (the `helpdesk.NAME.fields` table) against the
    /// schema: every key a schema field, every path under one of `roots`,
    /// every constant of the field's type, every required field mapped.
    pub fn new(
        helpdesk: &str,
        fields: &BTreeMap<String, FieldSource>,
        roots: &[&str],
        schema: &Schema,
    ) -> Result<FieldMapping, MappingError> {
        let table = format!("helpdesk.{helpdesk}.fields");
        let mut entries = Vec::new();
        for (target, source) in fields {
            let setting = format!("{table}.\"{target}\"");
            let err = |reason: String| MappingError { setting: setting.clone(), reason };
            let field = schema.field(target).ok_or_else(|| {
                let known: Vec<&str> = schema.fields.iter().map(|f| f.path.as_str()).collect();
                err(format!("the policy's ticket has no field `{target}` (its fields: {})", known.join(", ")))
            })?;
            let rule = match source {
                FieldSource::Path(path) => {
                    FieldRule { from: Some(path.clone()), values: BTreeMap::new(), default: None, value: None }
                }
                FieldSource::Rule(rule) => rule.clone(),
            };
            let from = match (&rule.from, &rule.value) {
                (Some(_), Some(_)) => return Err(err("give `from` or `value`, not both".into())),
                (None, None) => return Err(err("give `from` (a path) or `value` (a constant)".into())),
                (Some(path), None) => {
                    let segments: Vec<String> = path.split('.').map(str::to_string).collect();
                    if segments.iter().any(String::is_empty) || !roots.contains(&segments[0].as_str()) {
                        return Err(err(format!(
                            "`{path}` must be a dotted path starting with one of: {}",
                            roots.join(", ")
                        )));
                    }
                    Some(segments)
                }
                (None, Some(_)) => None,
            };
            let expected = field.kind.describe();
            let check = |what: &str, value: &toml::Value| -> Result<Value, MappingError> {
                let json = to_json(value);
                convert(&json, &field.kind)
                    .ok_or_else(|| err(format!("{what} {json} is not of the schema's type `{expected}`")))
            };
            let mut values = BTreeMap::new();
            for (from_value, to) in &rule.values {
                values.insert(from_value.clone(), check(&format!("the value for `{from_value}`"), to)?);
            }
            let default = match (&rule.value, &rule.default) {
                (Some(constant), _) => Some(check("the constant", constant)?),
                (None, Some(default)) => Some(check("the default", default)?),
                (None, None) => None,
            };
            entries.push(Entry { target: target.clone(), kind: field.kind.clone(), from, values, default });
        }
        let id_field = schema.field("id").filter(|_| !fields.contains_key("id")).map(|f| f.kind.clone());
        for field in &schema.fields {
            let mapped = fields.contains_key(&field.path) || (field.path == "id" && id_field.is_some());
            if !field.optional && !mapped {
                return Err(MappingError {
                    setting: table.clone(),
                    reason: format!(
                        "the policy's field `{}` ({}) is required and not mapped: add `\"{}\" = \"…\"`",
                        field.path,
                        field.kind.describe(),
                        field.path
                    ),
                });
            }
        }
        Ok(FieldMapping { entries, id_field })
    }

    /// Build the policy's ticket from the helpdesk's JSON. A value the path
    /// does not find takes the default, else is left out (the policy then
    /// says whether the field was required). A value that cannot take the
    /// field's type is refused with its config key.
    pub fn apply(&self, helpdesk: &str, ticket_id: &str, source: &Value) -> Result<Value, MappingError> {
        let mut ticket = Map::new();
        if let Some(kind) = &self.id_field {
            let id = convert(&Value::from(ticket_id), kind).unwrap_or_else(|| Value::from(ticket_id));
            ticket.insert("id".into(), id);
        }
        for entry in &self.entries {
            let found = entry.from.as_ref().and_then(|path| lookup(source, path)).filter(|v| !v.is_null());
            let value = match found {
                Some(raw) => {
                    let translated = scalar_text(raw).and_then(|text| entry.values.get(&text)).cloned();
                    match translated {
                        Some(v) => v,
                        None => convert(raw, &entry.kind).ok_or_else(|| MappingError {
                            setting: format!("helpdesk.{helpdesk}.fields.\"{}\"", entry.target),
                            reason: format!(
                                "ticket {ticket_id}: {raw} (at `{}`) is not of the schema's type `{}`; \
                                 add a `values` table or a `default`",
                                entry.from.as_ref().map(|p| p.join(".")).unwrap_or_default(),
                                entry.kind.describe()
                            ),
                        })?,
                    }
                }
                None => match &entry.default {
                    Some(default) => default.clone(),
                    None => continue,
                },
            };
            insert(&mut ticket, &entry.target, value);
        }
        Ok(Value::Object(ticket))
    }
}

/// Follow a dotted path through objects (and arrays, by index).
fn lookup<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, segment| match v {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `value` as the schema's `kind`, when it can be read so.
fn convert(value: &Value, kind: &FieldKind) -> Option<Value> {
    match (kind, value) {
        (FieldKind::Text | FieldKind::String, Value::String(_)) => Some(value.clone()),
        (FieldKind::Text | FieldKind::String, Value::Number(n)) => Some(Value::from(n.to_string())),
        (FieldKind::Text | FieldKind::String, Value::Bool(b)) => Some(Value::from(b.to_string())),
        (FieldKind::Int, Value::Number(n)) if n.is_i64() || n.is_u64() => Some(value.clone()),
        (FieldKind::Int, Value::String(s)) => s.trim().parse::<i64>().ok().map(Value::from),
        (FieldKind::Number, Value::Number(_)) => Some(value.clone()),
        (FieldKind::Number, Value::String(s)) => {
            s.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map(Value::from)
        }
        (FieldKind::Bool, Value::Bool(_)) => Some(value.clone()),
        (FieldKind::Bool, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(Value::Bool(true)),
            "false" | "no" | "0" | "" => Some(Value::Bool(false)),
            _ => None,
        },
        (FieldKind::Time | FieldKind::Duration, Value::String(_)) => Some(value.clone()),
        (FieldKind::Duration, Value::Number(_)) => Some(value.clone()),
        (FieldKind::Enum(values), Value::String(s)) => {
            if values.contains(s) {
                Some(value.clone())
            } else {
                let lower = s.trim().to_lowercase();
                values.contains(&lower).then(|| Value::from(lower))
            }
        }
        (FieldKind::List(item), Value::Array(items)) => {
            items.iter().map(|v| convert(v, item)).collect::<Option<Vec<_>>>().map(Value::Array)
        }
        _ => None,
    }
}

fn insert(ticket: &mut Map<String, Value>, path: &str, value: Value) {
    let mut segments = path.split('.').peekable();
    let mut node = ticket;
    while let Some(segment) = segments.next() {
        if segments.peek().is_none() {
            node.insert(segment.to_string(), value);
            return;
        }
        let child = node.entry(segment.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !child.is_object() {
            *child = Value::Object(Map::new());
        }
        match child {
            Value::Object(map) => node = map,
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        let field = |path: &str, kind: FieldKind, optional: bool| SchemaField { path: path.into(), kind, optional };
        let tiers = FieldKind::Enum(vec!["free".into(), "pro".into(), "enterprise".into()]);
        Schema {
            fields: vec![
                field("id", FieldKind::String, false),
                field("subject", FieldKind::Text, false),
                field("customer.tier", tiers, false),
                field("customer.seats", FieldKind::Int, false),
                field("customer.vip", FieldKind::Bool, true),
                field("tags", FieldKind::List(Box::new(FieldKind::String)), true),
            ],
        }
    }

    fn fields(text: &str) -> BTreeMap<String, FieldSource> {
        toml::from_str(text).expect("a fields table")
    }

    const ROOTS: &[&str] = &["ticket", "requester", "organization"];

    #[test]
    fn maps_and_converts_into_the_schema() {
        let mapping = FieldMapping::new(
            "zendesk",
            &fields(
                r#"
                subject = "ticket.subject"
                tags = "ticket.tags"
                "customer.tier" = { from = "organization.organization_fields.plan", values = { "Enterprise plan" = "enterprise" }, default = "free" }
                "customer.seats" = "organization.organization_fields.seats"
                "customer.vip" = { value = false }
                "#,
            ),
            ROOTS,
            &schema(),
        )
        .expect("valid");
        let source = json!({
            "ticket": {"id": 35436, "subject": "Help", "tags": ["a", "b"]},
            "organization": {"organization_fields": {"plan": "Enterprise plan", "seats": "40"}}
        });
        let ticket = mapping.apply("zendesk", "35436", &source).expect("maps");
        assert_eq!(
            ticket,
            json!({"id": "35436", "subject": "Help", "tags": ["a", "b"],
                   "customer": {"tier": "enterprise", "seats": 40, "vip": false}})
        );
        // No organisation: the default; a value of another case: lowercased.
        let source =
            json!({"ticket": {"subject": "Hi"}, "organization": {"organization_fields": {"plan": "Pro", "seats": 3}}});
        let ticket = mapping.apply("zendesk", "7", &source).expect("maps");
        assert_eq!(ticket["customer"]["tier"], json!("pro"));
        let ticket = mapping.apply("zendesk", "7", &json!({"ticket": {"subject": "Hi"}})).expect("maps");
        assert_eq!(ticket["customer"]["tier"], json!("free"));
        // A value the type cannot take names its key.
        let bad = json!({"ticket": {"subject": "x"}, "organization": {"organization_fields": {"seats": "many"}}});
        let err = mapping.apply("zendesk", "7", &bad).expect_err("not an int").to_string();
        assert!(err.starts_with("`helpdesk.zendesk.fields.\"customer.seats\"`: ticket 7: \"many\""), "{err}");
    }

    #[test]
    fn start_errors_name_the_key_and_the_expected_type() {
        let base = "subject = \"ticket.subject\"\n\"customer.seats\" = \"organization.seats\"\n";
        let cases = [
            (
                format!("{base}\"customer.tier\" = \"organization.plan\"\n\"customer.plan\" = \"x.y\""),
                "`helpdesk.zendesk.fields.\"customer.plan\"`: the policy's ticket has no field `customer.plan`",
            ),
            (
                format!("{base}\"customer.tier\" = \"org.plan\""),
                "`helpdesk.zendesk.fields.\"customer.tier\"`: `org.plan` must be a dotted path starting with one of: ticket, requester, organization",
            ),
            (
                format!("{base}\"customer.tier\" = {{ from = \"organization.plan\", default = \"gold\" }}"),
                "`helpdesk.zendesk.fields.\"customer.tier\"`: the default \"gold\" is not of the schema's type `free | pro | enterprise`",
            ),
            (
                "subject = \"ticket.subject\"\n\"customer.tier\" = \"organization.plan\"".to_string(),
                "`helpdesk.zendesk.fields`: the policy's field `customer.seats` (int) is required and not mapped",
            ),
        ];
        for (text, want) in cases {
            let err = FieldMapping::new("zendesk", &fields(&text), ROOTS, &schema()).expect_err(&text).to_string();
            assert!(err.starts_with(want), "{text}\n{err}");
        }
    }
}
