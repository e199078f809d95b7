//! The `[helpdesk.zendesk]`, `[helpdesk.freshdesk]` and `[helpdesk.intercom]`
//! tables of `routec.toml`: as written ([`HelpdesksFile`]), and resolved
//! ([`Settings`]: secrets read from the environment or a file, URLs and
//! durations checked, errors naming the key). The field mapping is checked
//! later, against the loaded policy ([`super::connect`]).

use super::mapping::FieldSource;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

pub use crate::secret::{Secret, SecretSource};

/// Per connector: decide and write back, or decide and log only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Enforce,
    /// The parallel run before a team trusts the router: decisions are
    /// recorded, nothing is written to the helpdesk and no action runs.
    Shadow,
}

/// A priority as a helpdesk writes it: a name (Zendesk `urgent`), a level
/// (Freshdesk 1–4) or a flag (Intercom `priority`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum PriorityValue {
    Level(u8),
    Flag(bool),
    Name(String),
}

/// One `[helpdesk.NAME]` table as written. The keys are the same for every
/// helpdesk; each vendor says which credentials it needs.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpdeskFile {
    /// The API's base URL, e.g. `https://acme.zendesk.com`.
    pub api_url: Option<String>,
    /// Zendesk: the agent's e-mail for API-token auth.
    pub email: Option<String>,
    /// Zendesk: the API token.
    pub api_token: Option<SecretSource>,
    /// Freshdesk: the API key.
    pub api_key: Option<SecretSource>,
    /// Intercom: the access token.
    pub access_token: Option<SecretSource>,
    /// Intercom: the admin the assignments and notes are made as.
    pub admin_id: Option<String>,
    /// Zendesk: the webhook's signing secret; Freshdesk: the shared secret;
    /// Intercom: the app's client secret.
    pub webhook_secret: Option<SecretSource>,
    /// Freshdesk: the header carrying the shared secret (default `X-Routec-Secret`).
    pub secret_header: Option<String>,
    #[serde(default)]
    pub mode: Mode,
    /// Destination → group (Zendesk, Freshdesk) or team (Intercom) id.
    #[serde(default, alias = "teams")]
    pub groups: BTreeMap<String, toml_id::Id>,
    /// Policy priority (`P1`) → the helpdesk's priority.
    #[serde(default)]
    pub priorities: BTreeMap<String, PriorityValue>,
    /// Intercom: tag name → tag id (Intercom tags by id).
    #[serde(default)]
    pub tags: BTreeMap<String, toml_id::Id>,
    /// The tag a helpdesk trigger adds to keep a new ticket out of native
    /// routing until routec has decided; the write-back removes it.
    pub gate_tag: Option<String>,
    /// How often open-ticket counts are read from the helpdesk (`60s`).
    pub load_refresh: Option<String>,
    /// Schema path → where in the helpdesk's JSON its value is.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldSource>,
}

/// Ids written as numbers or strings in the config (`360001` or `"360001"`).
pub mod toml_id {
    use serde::Deserialize;

    #[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
    #[serde(untagged)]
    pub enum Id {
        Number(u64),
        Text(String),
    }

    impl Id {
        pub fn text(&self) -> String {
            match self {
                Id::Number(n) => n.to_string(),
                Id::Text(s) => s.clone(),
            }
        }
    }
}

/// The `[helpdesk]` table as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpdesksFile {
    pub zendesk: Option<HelpdeskFile>,
    pub freshdesk: Option<HelpdeskFile>,
    pub intercom: Option<HelpdeskFile>,
}

/// One helpdesk after its secrets were read and its values checked.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// `zendesk`, `freshdesk`, `intercom`.
    pub name: &'static str,
    /// Without a trailing slash.
    pub api_url: String,
    /// Zendesk e-mail, or the Intercom admin id.
    pub user: Option<String>,
    /// The API credential (token, key or access token).
    pub credential: Secret,
    pub webhook_secret: Secret,
    pub secret_header: String,
    pub mode: Mode,
    /// Destination → group or team id, as text.
    pub groups: BTreeMap<String, String>,
    pub priorities: BTreeMap<String, PriorityValue>,
    pub tags: BTreeMap<String, String>,
    pub gate_tag: Option<String>,
    pub load_refresh: Duration,
    pub fields: BTreeMap<String, FieldSource>,
}

/// Every configured helpdesk, resolved.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub zendesk: Option<Resolved>,
    pub freshdesk: Option<Resolved>,
    pub intercom: Option<Resolved>,
}

impl Settings {
    pub fn is_empty(&self) -> bool {
        self.zendesk.is_none() && self.freshdesk.is_none() && self.intercom.is_none()
    }
}

/// Why a helpdesk could not be configured, reached or understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HelpdeskError {
    /// A config key is missing or wrong.
    #[error("`{setting}`: {reason}")]
    Config { setting: String, reason: String },
    /// The helpdesk could not be reached, or answered with an error.
    #[error("{0}")]
    Unreachable(String),
    /// The helpdesk's JSON (or a webhook body) is not what its docs describe.
    #[error("{0}")]
    Payload(String),
}

fn config_error(setting: &str, reason: impl Into<String>) -> HelpdeskError {
    HelpdeskError::Config { setting: setting.to_string(), reason: reason.into() }
}

/// Read a secret from where the config says. `env` looks variables up (tests
/// pass their own).
pub fn resolve_secret(
    setting: &str,
    source: &SecretSource,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret, HelpdeskError> {
    source.resolve(env).map_err(|reason| config_error(setting, reason))
}

/// The default interval of the open-ticket count refresh.
pub const DEFAULT_LOAD_REFRESH: Duration = Duration::from_secs(60);

impl HelpdesksFile {
    /// Read every secret and check every value. `parse_duration` is the
    /// service's own (`500ms`, `60s`, `5m`), so all durations read alike.
    pub fn resolve(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        parse_duration: &dyn Fn(&str) -> Result<Duration, String>,
    ) -> Result<Settings, HelpdeskError> {
        let one = |name: &'static str, file: &Option<HelpdeskFile>| -> Result<Option<Resolved>, HelpdeskError> {
            file.as_ref().map(|f| f.resolve(name, env, parse_duration)).transpose()
        };
        Ok(Settings {
            zendesk: one("zendesk", &self.zendesk)?,
            freshdesk: one("freshdesk", &self.freshdesk)?,
            intercom: one("intercom", &self.intercom)?,
        })
    }
}

impl HelpdeskFile {
    fn resolve(
        &self,
        name: &'static str,
        env: &dyn Fn(&str) -> Option<String>,
        parse_duration: &dyn Fn(&str) -> Result<Duration, String>,
    ) -> Result<Resolved, HelpdeskError> {
        let key = |k: &str| format!("helpdesk.{name}.{k}");
        let api_url = self.api_url.as_deref().ok_or_else(|| config_error(&key("api_url"), "missing"))?;
        let api_url = api_url.trim_end_matches('/').to_string();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) || api_url.contains(['?', '#']) {
            return Err(config_error(
                &key("api_url"),
                format!("`{api_url}` is not a base URL like https://acme.{name}.com"),
            ));
        }
        let secret = |k: &str, source: &Option<SecretSource>| -> Result<Secret, HelpdeskError> {
            let source = source.as_ref().ok_or_else(|| config_error(&key(k), "missing"))?;
            resolve_secret(&key(k), source, env)
        };
        let refuse = |k: &str, given: bool| -> Result<(), HelpdeskError> {
            if given {
                Err(config_error(&key(k), format!("not a {name} setting")))
            } else {
                Ok(())
            }
        };
        let (user, credential) = match name {
            "zendesk" => {
                refuse("api_key", self.api_key.is_some())?;
                refuse("access_token", self.access_token.is_some())?;
                let email = self.email.clone().ok_or_else(|| config_error(&key("email"), "missing"))?;
                (Some(email), secret("api_token", &self.api_token)?)
            }
            "freshdesk" => {
                refuse("api_token", self.api_token.is_some())?;
                refuse("access_token", self.access_token.is_some())?;
                (None, secret("api_key", &self.api_key)?)
            }
            _ => {
                refuse("api_token", self.api_token.is_some())?;
                refuse("api_key", self.api_key.is_some())?;
                let admin = self.admin_id.clone().ok_or_else(|| config_error(&key("admin_id"), "missing"))?;
                (Some(admin), secret("access_token", &self.access_token)?)
            }
        };
        let load_refresh = match &self.load_refresh {
            Some(text) => {
                let d = parse_duration(text).map_err(|e| config_error(&key("load_refresh"), e))?;
                if d < Duration::from_secs(1) {
                    return Err(config_error(&key("load_refresh"), "must be at least 1s"));
                }
                d
            }
            None => DEFAULT_LOAD_REFRESH,
        };
        if let Some(tag) = &self.gate_tag {
            if tag.trim().is_empty() || tag.contains(char::is_whitespace) {
                return Err(config_error(&key("gate_tag"), "a tag is one word without spaces"));
            }
        }
        if self.mode == Mode::Shadow && self.gate_tag.is_some() {
            return Err(config_error(
                &key("gate_tag"),
                "a shadow-mode connector writes nothing back, so the gate tag would never be removed and \
                 tickets would never reach native routing: remove the gate trigger and this key for the parallel run",
            ));
        }
        let secret_header = self.secret_header.clone().unwrap_or_else(|| "X-Routec-Secret".to_string());
        if secret_header.is_empty() || !secret_header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(config_error(&key("secret_header"), "a header name is letters, digits and `-`"));
        }
        Ok(Resolved {
            name,
            api_url,
            user,
            credential,
            webhook_secret: secret("webhook_secret", &self.webhook_secret)?,
            secret_header,
            mode: self.mode,
            groups: self.groups.iter().map(|(d, id)| (d.clone(), id.text())).collect(),
            priorities: self.priorities.clone(),
            tags: self.tags.iter().map(|(t, id)| (t.clone(), id.text())).collect(),
            gate_tag: self.gate_tag.clone(),
            load_refresh,
            fields: self.fields.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> HelpdesksFile {
        toml::from_str(text).expect("parses")
    }

    fn seconds(text: &str) -> Result<Duration, String> {
        text.trim_end_matches('s').parse().map(Duration::from_secs).map_err(|_| format!("`{text}` is not a duration"))
    }

    #[test]
    fn secrets_come_from_the_environment_and_are_never_printed() {
        let file = parse(
            r#"
            [zendesk]
            api_url = "https://acme.zendesk.com/"
            email = "bot@acme.example"
            api_token = { env = "ZD_TOKEN" }
            webhook_secret = "signing-secret"
            groups = { legal_review = 360001 }
            "#,
        );
        let env = |name: &str| (name == "ZD_TOKEN").then(|| "token-123".to_string());
        let settings = file.resolve(&env, &seconds).expect("valid");
        let zendesk = settings.zendesk.expect("zendesk");
        assert_eq!(zendesk.api_url, "https://acme.zendesk.com");
        assert_eq!(zendesk.credential.expose(), "token-123");
        assert_eq!(zendesk.groups["legal_review"], "360001");
        let printed = format!("{zendesk:?} {file:?}");
        assert!(!printed.contains("token-123") && !printed.contains("signing-secret"), "{printed}");
    }

    #[test]
    fn errors_name_the_key() {
        let none = |_: &str| None;
        let cases = [
            ("[zendesk]\nemail = \"a\"", "`helpdesk.zendesk.api_url`: missing"),
            (
                "[zendesk]\napi_url = \"https://z\"\nemail = \"a\"\napi_token = { env = \"NOPE\" }\nwebhook_secret = \"s\"",
                "`helpdesk.zendesk.api_token`: the environment variable `NOPE` is not set",
            ),
            (
                "[freshdesk]\napi_url = \"https://f\"\napi_token = \"t\"",
                "`helpdesk.freshdesk.api_token`: not a freshdesk setting",
            ),
            ("[intercom]\napi_url = \"ftp://x\"", "`helpdesk.intercom.api_url`: `ftp://x` is not a base URL"),
            (
                "[freshdesk]\napi_url = \"https://f\"\napi_key = \"k\"\nwebhook_secret = \"s\"\nload_refresh = \"0s\"",
                "`helpdesk.freshdesk.load_refresh`: must be at least 1s",
            ),
            (
                "[freshdesk]\napi_url = \"https://f\"\napi_key = \"k\"\nwebhook_secret = \"s\"\nmode = \"shadow\"\ngate_tag = \"g\"",
                "`helpdesk.freshdesk.gate_tag`: a shadow-mode connector writes nothing back",
            ),
        ];
        for (text, want) in cases {
            let err = parse(text).resolve(&none, &seconds).expect_err(text).to_string();
            assert!(err.starts_with(want), "{text:?}: {err}");
        }
    }
}
