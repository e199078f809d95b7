//! Ticket JSON decoding that refuses duplicate keys: `serde_json` keeps the
//! last of two equal keys silently, so a ticket `{"tier": "free", "tier":
//! "enterprise"}` would be routed on whichever came last. [`parse`] builds
//! the same `serde_json::Value` and stops at the first repeated key, naming
//! its path.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::fmt;

/// Why a text is not one JSON value.
#[derive(Debug)]
pub(crate) enum JsonError {
    /// A key appears twice in one object; its dotted path.
    DuplicateKey(String),
    /// Not JSON at all.
    Syntax(serde_json::Error),
}

/// Parse `text` as one JSON value, refusing duplicate keys.
pub(crate) fn parse(text: &str) -> Result<Value, JsonError> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = StrictValue { path: String::new(), duplicate: &duplicate }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, duplicate.into_inner()) {
        (_, Some(path)) => Err(JsonError::DuplicateKey(path)),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(JsonError::Syntax(e)),
    }
}

/// Decodes one value at `path`; a repeated key is written to `duplicate`.
struct StrictValue<'d> {
    path: String,
    duplicate: &'d RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl StrictValue<'_> {
    fn child(&self, segment: &str) -> StrictValue<'_> {
        let path = if self.path.is_empty() { segment.to_string() } else { format!("{}.{segment}", self.path) };
        StrictValue { path, duplicate: self.duplicate }
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(&items.len().to_string()))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let path = self.child(&key).path;
                *self.duplicate.borrow_mut() = Some(path.clone());
                return Err(de::Error::custom(format!("duplicate key `{path}`")));
            }
            let value = map.next_value_seed(self.child(&key))?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_decode_as_serde_json_decodes_them() {
        let text = r#"{"a": [1, -2, 3.5, true, null, "x"], "b": {"c": {}}, "d": 18446744073709551615}"#;
        let strict = parse(text).expect("valid JSON");
        assert_eq!(strict, serde_json::from_str::<Value>(text).expect("valid JSON"));
    }

    #[test]
    fn a_repeated_key_is_refused_with_its_path() {
        let refused = |text| match parse(text) {
            Err(JsonError::DuplicateKey(path)) => path,
            other => panic!("expected a duplicate key in {text}, got {other:?}"),
        };
        assert_eq!(refused(r#"{"tier": "free", "tier": "pro"}"#), "tier");
        assert_eq!(refused(r#"{"customer": {"tier": "free", "x": 1, "tier": "pro"}}"#), "customer.tier");
        assert_eq!(refused(r#"{"tags": [{"a": 1, "a": 2}]}"#), "tags.0.a");
        assert!(matches!(parse(r#"{"a": 1} {"#), Err(JsonError::Syntax(_))));
        assert!(parse(r#"{"a": 1, "b": 2}"#).is_ok());
    }
}
