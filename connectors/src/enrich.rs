//! CRM enrichment: before a ticket is routed, one HTTP JSON lookup per
//! customer (`[enrich]`), whose answer fills schema fields (tier, vip,
//! health…) through JSON pointers; cached per URL for a TTL; bounded by a
//! timeout after which routing goes on with the ticket's own values. What
//! happened is reported ([`Enrichment::report`]) and recorded in the
//! decision.
//!
//! Ticket data never chooses the host: the URL template is the operator's,
//! and a placeholder (`{customer.id}`) may only stand in the path or the
//! query, after the host, filled with the field's value percent-encoded as
//! one segment (`/`, `?`, `#`, `&`, `=`, `%` and everything outside the
//! unreserved characters are escaped; a value of dots only is refused, as
//! it would climb the path).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::{self, HttpOptions};
use crate::secret::{Secret, SecretSource};

/// What a filled placeholder keeps as is: RFC 3986's unreserved characters.
pub const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// `[enrich]` as the config file writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichFile {
    /// The lookup URL with `{dotted.field}` placeholders in its path or
    /// query, e.g. `https://api.hubapi.com/crm/v3/objects/companies/{customer.company_id}?properties=tier,vip`.
    pub url: String,
    /// Sent as `Authorization: Bearer …`.
    pub bearer_token: Option<SecretSource>,
    /// How long routing waits for the answer (default `300ms`).
    pub timeout: Option<String>,
    /// How long an answer is reused (default `5m`).
    pub ttl: Option<String>,
    /// Most answers kept (default 10 000).
    pub max_entries: Option<usize>,
    /// Schema field (dotted) → where its value is in the answer.
    pub fields: BTreeMap<String, FieldSource>,
}

/// Where a field's value is in the CRM's answer.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum FieldSource {
    /// A JSON pointer (`/properties/tier`), the value taken as it is.
    Pointer(String),
    /// A JSON pointer and a conversion (CRMs often answer strings only).
    Converted {
        /// The JSON pointer.
        from: String,
        /// The conversion.
        #[serde(rename = "as")]
        conversion: Conversion,
    },
}

/// How a CRM value becomes a schema value.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Conversion {
    /// Any scalar as text.
    String,
    /// A number, or text that reads as one.
    Number,
    /// A boolean, or `true`/`false` text (any case).
    Bool,
    /// Text, lowercased (enum values like `Enterprise` → `enterprise`).
    Lowercase,
}

impl FieldSource {
    fn pointer(&self) -> &str {
        match self {
            FieldSource::Pointer(pointer) | FieldSource::Converted { from: pointer, .. } => pointer,
        }
    }

    fn extract(&self, answer: &Value) -> Option<Value> {
        let value = answer.pointer(self.pointer()).filter(|value| !value.is_null())?;
        let FieldSource::Converted { conversion, .. } = self else { return Some(value.clone()) };
        match (conversion, value) {
            (Conversion::String, Value::String(_)) => Some(value.clone()),
            (Conversion::String, Value::Number(_) | Value::Bool(_)) => Some(Value::String(value.to_string())),
            (Conversion::Number, Value::Number(_)) => Some(value.clone()),
            (Conversion::Number, Value::String(text)) => {
                text.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number)
            }
            (Conversion::Bool, Value::Bool(_)) => Some(value.clone()),
            (Conversion::Bool, Value::String(text)) => match text.trim().to_ascii_lowercase().as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            (Conversion::Lowercase, Value::String(text)) => Some(Value::String(text.to_lowercase())),
            _ => None,
        }
    }
}

/// One piece of the URL template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Field(String),
}

/// What a lookup came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrichment {
    /// Schema field (dotted) → value, to set on the ticket.
    pub values: Vec<(String, Value)>,
    /// What happened, for the decision: `status` (`enriched`, `not_found`,
    /// `timed_out`, `failed`, `skipped`), the fields set, whether the
    /// answer came from the cache, the error.
    pub report: Value,
}

impl Enrichment {
    fn without_values(report: Value) -> Enrichment {
        Enrichment { values: Vec::new(), report }
    }

    /// Sets the values on a ticket (creating the objects on the way);
    /// the CRM's value wins over the ticket's own.
    pub fn apply(&self, ticket: &mut Value) {
        for (path, value) in &self.values {
            set_path(ticket, path, value.clone());
        }
    }
}

/// Why `[enrich]` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{setting}`: {reason}")]
pub struct EnrichConfigError {
    /// The setting.
    pub setting: String,
    /// What is wrong with it.
    pub reason: String,
}

fn config_error(setting: &str, reason: impl Into<String>) -> EnrichConfigError {
    EnrichConfigError { setting: setting.to_owned(), reason: reason.into() }
}

struct Cached {
    at: Instant,
    /// `None`: the CRM does not know this customer (404).
    answer: Option<Value>,
}

/// The configured lookup with its cache.
pub struct Enricher {
    client: reqwest::Client,
    template: Vec<Piece>,
    bearer_token: Option<Secret>,
    timeout: Duration,
    ttl: Duration,
    max_entries: usize,
    fields: BTreeMap<String, FieldSource>,
    cache: Mutex<HashMap<String, Cached>>,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("template", &self.template)
            .field("timeout", &self.timeout)
            .field("ttl", &self.ttl)
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl Enricher {
    /// Checks the template and the mapping, resolves the token.
    pub fn from_file(file: &EnrichFile, env: &dyn Fn(&str) -> Option<String>) -> Result<Enricher, EnrichConfigError> {
        let template = parse_template(&file.url).map_err(|reason| config_error("enrich.url", reason))?;
        let duration = |setting: &str, text: &Option<String>, default: Duration| match text {
            Some(text) => parse_duration(text).map_err(|reason| config_error(setting, reason)),
            None => Ok(default),
        };
        let timeout = duration("enrich.timeout", &file.timeout, Duration::from_millis(300))?;
        let ttl = duration("enrich.ttl", &file.ttl, Duration::from_secs(300))?;
        let bearer_token = file
            .bearer_token
            .as_ref()
            .map(|source| source.resolve(env))
            .transpose()
            .map_err(|reason| config_error("enrich.bearer_token", reason))?;
        if file.fields.is_empty() {
            return Err(config_error("enrich.fields", "maps no field: name at least one schema field"));
        }
        for (field, source) in &file.fields {
            if !source.pointer().starts_with('/') {
                return Err(config_error(
                    &format!("enrich.fields.\"{field}\""),
                    format!(
                        "`{}` is not a JSON pointer (they start with `/`, like `/properties/tier`)",
                        source.pointer()
                    ),
                ));
            }
            if field.is_empty() || field.split('.').any(str::is_empty) {
                return Err(config_error(&format!("enrich.fields.\"{field}\""), "is not a dotted field path"));
            }
        }
        // The lookup's own deadline (`tokio::time::timeout` in `enrich`) is
        // what routing waits; the client's is only a backstop.
        let backstop = timeout.saturating_mul(2);
        let options = HttpOptions { connect_timeout: backstop, request_timeout: backstop, ..HttpOptions::default() };
        let client = http::client(&options).map_err(|error| config_error("enrich", error.to_string()))?;
        Ok(Enricher {
            client,
            template,
            bearer_token,
            timeout,
            ttl,
            max_entries: file.max_entries.unwrap_or(10_000).max(1),
            fields: file.fields.clone(),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The lookup URL for a ticket, or why there is none (a placeholder's
    /// field is missing or unusable).
    pub fn url_for(&self, ticket: &Value) -> Result<String, String> {
        let mut url = String::new();
        for piece in &self.template {
            match piece {
                Piece::Literal(text) => url.push_str(text),
                Piece::Field(path) => {
                    let value = match lookup_path(ticket, path) {
                        Some(Value::String(text)) => text.clone(),
                        Some(value @ (Value::Number(_) | Value::Bool(_))) => value.to_string(),
                        _ => return Err(format!("`{path}` is missing")),
                    };
                    if value.is_empty() || value.chars().all(|c| c == '.') {
                        return Err(format!("`{path}` is not usable in a URL"));
                    }
                    url.extend(percent_encoding::utf8_percent_encode(&value, SEGMENT));
                }
            }
        }
        Ok(url)
    }

    /// Looks the ticket's customer up (or reuses a cached answer). Never
    /// fails: a missing key, a timeout or an error leaves the ticket as it is
    /// and says so in the report.
    pub async fn enrich(&self, ticket: &Value) -> Enrichment {
        let url = match self.url_for(ticket) {
            Ok(url) => url,
            Err(reason) => return Enrichment::without_values(json!({ "status": "skipped", "reason": reason })),
        };
        if let Some(answer) = self.cached(&url) {
            return self.read_answer(answer.as_ref(), true);
        }
        let mut request = self.client.get(&url).header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = &self.bearer_token {
            request = request.bearer_auth(token.expose());
        }
        let answer = match tokio::time::timeout(self.timeout, http::send(request, "the CRM")).await {
            Err(_) => None,
            Ok(Err(outcome)) => {
                return Enrichment::without_values(json!({ "status": "failed", "error": outcome_error(&outcome) }))
            }
            Ok(Ok(answer)) => Some(answer),
        };
        let Some(answer) = answer else {
            return Enrichment::without_values(json!({
                "status": "timed_out",
                "timeout_ms": u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
            }));
        };
        if answer.status == reqwest::StatusCode::NOT_FOUND {
            self.remember(url, None);
            return self.read_answer(None, false);
        }
        if !answer.status.is_success() {
            let error = format!("the CRM answered {}: {}", answer.status, answer.excerpt());
            return Enrichment::without_values(json!({ "status": "failed", "error": error }));
        }
        let body = answer.json();
        if body.is_null() {
            return Enrichment::without_values(json!({ "status": "failed", "error": "the CRM's answer is not JSON" }));
        }
        self.remember(url, Some(body.clone()));
        self.read_answer(Some(&body), false)
    }

    fn read_answer(&self, answer: Option<&Value>, cached: bool) -> Enrichment {
        let Some(answer) = answer else {
            return Enrichment::without_values(json!({ "status": "not_found", "cached": cached }));
        };
        let mut values = Vec::new();
        let mut missing = Vec::new();
        for (field, source) in &self.fields {
            match source.extract(answer) {
                Some(value) => values.push((field.clone(), value)),
                None => missing.push(field.clone()),
            }
        }
        let fields: Vec<&String> = values.iter().map(|(field, _)| field).collect();
        let report = json!({ "status": "enriched", "fields": fields, "missing": missing, "cached": cached });
        Enrichment { values, report }
    }

    fn cached(&self, url: &str) -> Option<Option<Value>> {
        let cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.get(url).filter(|entry| entry.at.elapsed() < self.ttl).map(|entry| entry.answer.clone())
    }

    fn remember(&self, url: String, answer: Option<Value>) {
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() >= self.max_entries && !cache.contains_key(&url) {
            cache.retain(|_, entry| entry.at.elapsed() < self.ttl);
            if cache.len() >= self.max_entries {
                let oldest = cache.iter().min_by_key(|(_, entry)| entry.at).map(|(key, _)| key.clone());
                if let Some(oldest) = oldest {
                    cache.remove(&oldest);
                }
            }
        }
        cache.insert(url, Cached { at: Instant::now(), answer });
    }
}

fn outcome_error(outcome: &crate::DeliveryOutcome) -> String {
    match outcome {
        crate::DeliveryOutcome::RetryLater { error, .. } | crate::DeliveryOutcome::Failed { error } => error.clone(),
        crate::DeliveryOutcome::Delivered { .. } => String::new(),
    }
}

/// Splits the template and checks that no placeholder stands before the
/// path: `scheme://host[:port]/` must be literal.
fn parse_template(url: &str) -> Result<Vec<Piece>, String> {
    let first_placeholder = url.find('{').unwrap_or(url.len());
    let after_scheme = url.find("://").map(|at| at + 3).ok_or_else(|| format!("`{url}` is not an absolute URL"))?;
    let path_start = url[after_scheme..]
        .find(['/', '?'])
        .map(|at| at + after_scheme)
        .ok_or_else(|| format!("`{url}` has no path: placeholders may only stand in the path or the query"))?;
    if first_placeholder < path_start {
        return Err("a placeholder may not stand in the scheme or the host; put it in the path or the query".to_owned());
    }
    let mut pieces = Vec::new();
    let mut rest = url;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map(|at| at + open).ok_or_else(|| "a `{` is not closed".to_owned())?;
        let field = &rest[open + 1..close];
        if field.is_empty() || field.split('.').any(|part| part.is_empty() || part.contains(['{', '/', '?', '#'])) {
            return Err(format!("`{{{field}}}` is not a dotted field path"));
        }
        if open > 0 {
            pieces.push(Piece::Literal(rest[..open].to_owned()));
        }
        pieces.push(Piece::Field(field.to_owned()));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err("a `}` has no `{`".to_owned());
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest.to_owned()));
    }
    let sample: String = pieces
        .iter()
        .map(|piece| match piece {
            Piece::Literal(text) => text.as_str(),
            Piece::Field(_) => "x",
        })
        .collect();
    let parsed = reqwest::Url::parse(&sample).map_err(|error| format!("`{url}`: {error}"))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(format!("`{url}` is not an http(s) URL"));
    }
    Ok(pieces)
}

fn lookup_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |value, key| value.get(key))
}

fn set_path(value: &mut Value, path: &str, new: Value) {
    let mut current = value;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if !current.is_object() {
            *current = Value::Object(serde_json::Map::new());
        }
        let Value::Object(map) = current else { return };
        if parts.peek().is_none() {
            map.insert(part.to_owned(), new);
            return;
        }
        current = map.entry(part.to_owned()).or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
}

/// `300ms`, `2s`, `5m`, `1h`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a duration like `300ms`, `2s`, `5m` or `1h`");
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let duration = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(bad()),
    };
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// The HubSpot companies mapping of examples/enrich/hubspot.toml.
    fn hubspot(server: &MockServer, timeout: &str, ttl: &str) -> Enricher {
        let file = EnrichFile {
            url: format!(
                "{}/crm/v3/objects/companies/{{customer.company_id}}?properties=tier,vip,health_score",
                server.uri()
            ),
            bearer_token: Some(SecretSource::Env { env: "HUBSPOT_TOKEN".into() }),
            timeout: Some(timeout.into()),
            ttl: Some(ttl.into()),
            max_entries: Some(2),
            fields: BTreeMap::from([
                (
                    "customer.tier".to_owned(),
                    FieldSource::Converted { from: "/properties/tier".into(), conversion: Conversion::Lowercase },
                ),
                (
                    "customer.vip".to_owned(),
                    FieldSource::Converted { from: "/properties/vip".into(), conversion: Conversion::Bool },
                ),
                (
                    "customer.health".to_owned(),
                    FieldSource::Converted { from: "/properties/health_score".into(), conversion: Conversion::Number },
                ),
            ]),
        };
        let env = |name: &str| (name == "HUBSPOT_TOKEN").then(|| "pat-na1-test".to_owned());
        Enricher::from_file(&file, &env).expect("a valid enrich config")
    }

    fn company() -> Value {
        // https://developers.hubspot.com/docs/api-reference/crm-companies-v3/basic/get-crm-v3-objects-companies-companyId:
        // properties come back as strings.
        json!({
            "id": "512",
            "properties": { "tier": "Enterprise", "vip": "true", "health_score": "72", "hs_object_id": "512" },
            "createdAt": "2025-03-01T10:00:00Z", "updatedAt": "2026-01-02T09:00:00Z", "archived": false
        })
    }

    #[tokio::test]
    async fn a_hubspot_company_fills_the_mapped_fields_once_per_ttl() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/crm/v3/objects/companies/512"))
            .and(query_param("properties", "tier,vip,health_score"))
            .and(header("authorization", "Bearer pat-na1-test"))
            .respond_with(ResponseTemplate::new(200).set_body_json(company()))
            .expect(1)
            .mount(&server)
            .await;
        let enricher = hubspot(&server, "5s", "1h");
        let mut ticket = json!({ "subject": "hi", "customer": { "company_id": "512", "tier": "free" } });
        let first = enricher.enrich(&ticket).await;
        assert_eq!(
            first.report,
            json!({
                "status": "enriched",
                "fields": ["customer.health", "customer.tier", "customer.vip"],
                "missing": [],
                "cached": false
            })
        );
        let second = enricher.enrich(&ticket).await;
        assert_eq!(second.report["cached"], true, "the second lookup is served from the cache");
        first.apply(&mut ticket);
        assert_eq!(
            ticket,
            json!({
                "subject": "hi",
                "customer": { "company_id": "512", "tier": "enterprise", "vip": true, "health": 72.0 }
            })
        );
    }

    #[tokio::test]
    async fn a_slow_crm_times_out_and_leaves_the_ticket_alone() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(company()).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        let enricher = hubspot(&server, "100ms", "1h");
        let outcome = enricher.enrich(&json!({ "customer": { "company_id": "512" } })).await;
        assert_eq!(outcome.values, vec![]);
        assert_eq!(outcome.report, json!({ "status": "timed_out", "timeout_ms": 100 }));
    }

    #[tokio::test]
    async fn unknown_customers_and_errors_are_reported() {
        let server = MockServer::start().await;
        Mock::given(path("/crm/v3/objects/companies/404"))
            .respond_with(ResponseTemplate::new(404))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/crm/v3/objects/companies/500"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;
        let enricher = hubspot(&server, "5s", "1h");
        let unknown = json!({ "customer": { "company_id": "404" } });
        assert_eq!(enricher.enrich(&unknown).await.report, json!({ "status": "not_found", "cached": false }));
        assert_eq!(enricher.enrich(&unknown).await.report, json!({ "status": "not_found", "cached": true }));
        let failing = enricher.enrich(&json!({ "customer": { "company_id": "500" } })).await;
        assert_eq!(failing.report["status"], "failed");
        let skipped = enricher.enrich(&json!({ "customer": {} })).await;
        assert_eq!(skipped.report, json!({ "status": "skipped", "reason": "`customer.company_id` is missing" }));
    }

    #[tokio::test]
    async fn ticket_values_cannot_leave_their_segment() {
        let server = MockServer::start().await;
        let enricher = hubspot(&server, "5s", "1h");
        let base = format!("{}/crm/v3/objects/companies/", server.uri());
        let url = |id: &str| enricher.url_for(&json!({ "customer": { "company_id": id } }));
        assert_eq!(
            url("51 2/../contacts?x=1#y").expect("encoded"),
            format!("{base}51%202%2F..%2Fcontacts%3Fx%3D1%23y?properties=tier,vip,health_score")
        );
        assert_eq!(
            url("@evil.example").expect("encoded"),
            format!("{base}%40evil.example?properties=tier,vip,health_score")
        );
        assert!(url("..").is_err());
        assert!(url("").is_err());
    }

    #[test]
    fn placeholders_may_not_choose_the_host() {
        for bad in
            ["https://{customer.host}/x", "https://crm.example{customer.id}/x", "{customer.url}", "https://crm.example"]
        {
            assert!(parse_template(bad).is_err(), "{bad}");
        }
        assert!(parse_template("https://crm.example/c/{customer.id}?k={customer.key}").is_ok());
        assert!(parse_template("https://crm.example/c/{customer.id").is_err());
        assert!(parse_template("https://crm.example/c/{}").is_err());
    }

    #[test]
    fn conversions() {
        let answer = json!({ "n": "4.5", "b": "FALSE", "s": 3, "bad": "maybe" });
        let converted =
            |pointer: &str, conversion| FieldSource::Converted { from: pointer.into(), conversion }.extract(&answer);
        assert_eq!(converted("/n", Conversion::Number), Some(json!(4.5)));
        assert_eq!(converted("/b", Conversion::Bool), Some(json!(false)));
        assert_eq!(converted("/s", Conversion::String), Some(json!("3")));
        assert_eq!(converted("/bad", Conversion::Bool), None);
        assert_eq!(FieldSource::Pointer("/s".into()).extract(&answer), Some(json!(3)));
        assert_eq!(FieldSource::Pointer("/nothing".into()).extract(&answer), None);
    }

    #[tokio::test]
    async fn the_cache_is_bounded() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(company()))
            .mount(&server)
            .await;
        let enricher = hubspot(&server, "5s", "1h");
        for id in ["1", "2", "3"] {
            enricher.enrich(&json!({ "customer": { "company_id": id } })).await;
        }
        let cache = enricher.cache.lock().expect("cache");
        assert_eq!(cache.len(), 2, "max_entries is 2");
    }
}
