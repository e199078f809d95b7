//! The service's configuration (`routec.toml`): listen address, store URL
//! and durability, clients and their tokens, limits, retention, redaction,
//! and the connectors' sections (`[helpdesk.*]`, `[actions.*]`,
//! `[delivery]`, `[enrich]`). Layered:
//! built-in defaults, then the file, then `ROUTEC_…` environment variables,
//! then the command line; validated once at start with errors that name the
//! setting.

use crate::redact::{RedactionConfig, Redactor};
use crate::retention::parse_retention;
use routec_store::Durability;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A route group a client may be allowed; every `/v1` route belongs to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `POST /v1/route`, `POST /v1/route/batch`.
    Route,
    /// `GET /v1/decisions/{id}`, `GET /v1/tickets/{id}/decisions`.
    Decisions,
    /// `POST /v1/tickets/{id}/outcome`.
    Outcomes,
    /// `GET` and `PUT /v1/load`.
    Load,
    /// `GET /v1/policy`.
    Policy,
    /// `POST /v1/admin/reload`, `GET /v1/outbox`, `POST /v1/outbox/{id}/retry`.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 6] =
        [Scope::Route, Scope::Decisions, Scope::Outcomes, Scope::Load, Scope::Policy, Scope::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Route => "route",
            Scope::Decisions => "decisions",
            Scope::Outcomes => "outcomes",
            Scope::Load => "load",
            Scope::Policy => "policy",
            Scope::Admin => "admin",
        }
    }
}

/// How the service writes its logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("`{other}` is not a log format (expected `text` or `json`)")),
        }
    }
}

/// A client's token: written in the file, or read from an environment variable.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum TokenSource {
    Literal(String),
    Env { env: String },
}

/// `[clients.NAME]` as written in the file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    pub token: TokenSource,
    pub routes: Vec<Scope>,
}

/// `[limits]` as written in the file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    pub max_body_bytes: Option<usize>,
    pub batch_max: Option<usize>,
    pub request_timeout: Option<String>,
    pub max_concurrency: Option<usize>,
    pub load_refresh: Option<String>,
}

/// `routec.toml` as written: every setting optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub listen: Option<String>,
    pub db: Option<String>,
    /// `full` or `normal`; the default depends on the store (see [`Config::durability`]).
    pub durability: Option<Durability>,
    pub retention: Option<String>,
    pub log_format: Option<LogFormat>,
    #[serde(default)]
    pub clients: BTreeMap<String, ClientFile>,
    #[serde(default)]
    pub limits: LimitsFile,
    #[serde(default)]
    pub redact: RedactionConfig,
    /// `[helpdesk.zendesk]`, `[helpdesk.freshdesk]`, `[helpdesk.intercom]`: see docs/integrations.md.
    #[serde(default)]
    pub helpdesk: routec_connectors::helpdesk::HelpdesksFile,
    #[serde(default)]
    pub actions: routec_connectors::sink::ActionsFile,
    #[serde(default)]
    pub delivery: crate::delivery::DeliveryFile,
    pub enrich: Option<routec_connectors::enrich::EnrichFile>,
}

/// What the command line sets; it wins over the file and the environment.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub db: Option<String>,
    pub retention: Option<String>,
    pub log_format: Option<LogFormat>,
}

/// A named client after its token was resolved.
#[derive(Clone)]
pub struct Client {
    pub name: String,
    pub token: String,
    pub scopes: Vec<Scope>,
}

impl std::fmt::Debug for Client {
    // Tokens never reach a log, not even through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("name", &self.name)
            .field("token", &"[hidden]")
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Request limits.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Larger request bodies get 413.
    pub max_body_bytes: usize,
    /// Most tickets in one `POST /v1/route/batch`.
    pub batch_max: usize,
    /// A request (reading its body included) that takes longer gets 408.
    pub request_timeout: Duration,
    /// Requests served at once; more get 503 at once instead of queueing.
    pub max_concurrency: usize,
    /// How often the open-ticket counts are re-read from the store.
    pub load_refresh: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 4 * 1024 * 1024,
            batch_max: 10_000,
            request_timeout: Duration::from_secs(10),
            max_concurrency: 1024,
            load_refresh: Duration::from_secs(1),
        }
    }
}

/// The validated configuration the service runs with.
#[derive(Clone, Debug)]
pub struct Config {
    pub policy: PathBuf,
    pub listen: SocketAddr,
    /// Store URL: `sqlite:/path/routec.db` or `postgres://…`.
    pub db: String,
    /// How hard each commit pushes to disk. By default `normal` on SQLite
    /// (WAL with `synchronous = NORMAL`: an answered decision survives the
    /// process's crash, not a power cut) and `full` on PostgreSQL
    /// (`synchronous_commit = on`: it also survives the database server's).
    pub durability: Durability,
    pub retention: Option<Duration>,
    pub log_format: LogFormat,
    pub clients: Vec<Client>,
    pub limits: Limits,
    /// What is redacted before a decision is stored.
    pub redact: RedactionConfig,
    pub redactor: Redactor,
    /// The connected helpdesks' settings (secrets resolved; field mappings
    /// are checked against the policy when the service starts).
    pub helpdesks: routec_connectors::helpdesk::Settings,
    /// The action sinks (`[actions.*]`).
    pub actions: std::sync::Arc<routec_connectors::sink::Actions>,
    /// The outbox worker (`[delivery]`).
    pub delivery: crate::delivery::DeliverySettings,
    /// The CRM lookup before routing (`[enrich]`), if configured.
    pub enrich: Option<std::sync::Arc<routec_connectors::enrich::Enricher>>,
}

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("the config file `{path}` is not valid: {reason}")]
    Parse { path: String, reason: String },
    #[error("`{setting}`: {reason}")]
    Invalid { setting: String, reason: String },
}

fn invalid(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { setting: setting.to_string(), reason: reason.into() }
}

/// The address `routec serve` listens on when nothing sets one.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl ConfigFile {
    pub fn read(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read { path: path.display().to_string(), reason: e.to_string() })?;
        ConfigFile::parse(&text).map_err(|reason| ConfigError::Parse { path: path.display().to_string(), reason })
    }

    pub fn parse(text: &str) -> Result<ConfigFile, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
    }
}

impl Config {
    /// Layer the file (if any), the environment (looked up through `env`, so
    /// tests need not touch the process's) and the command line over the
    /// defaults, then validate.
    pub fn resolve(
        policy: &Path,
        file: ConfigFile,
        env: &dyn Fn(&str) -> Option<String>,
        cli: Overrides,
    ) -> Result<Config, ConfigError> {
        let pick = |cli: Option<String>, var: &str, file: Option<String>| cli.or_else(|| env(var)).or(file);

        let listen_text = pick(cli.listen, "ROUTEC_LISTEN", file.listen).unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen = listen_text
            .parse::<SocketAddr>()
            .map_err(|_| invalid("listen", format!("`{listen_text}` is not an address like 127.0.0.1:8080")))?;

        let db = match pick(cli.db, "ROUTEC_DB", file.db) {
            Some(url) => url,
            None => default_db(policy),
        };
        if !(db.starts_with("sqlite:") || db.starts_with("postgres://") || db.starts_with("postgresql://")) {
            return Err(invalid("db", format!("`{db}` is neither `sqlite:PATH` nor `postgres://…`")));
        }

        let durability = match env("ROUTEC_DURABILITY") {
            Some(text) => parse_durability(&text).map_err(|e| invalid("durability", e))?,
            None => {
                file.durability.unwrap_or(if db.starts_with("sqlite:") { Durability::Normal } else { Durability::Full })
            }
        };

        let retention = match pick(cli.retention, "ROUTEC_RETENTION", file.retention) {
            Some(text) => Some(parse_retention(&text).map_err(|e| invalid("retention", e.to_string()))?),
            None => None,
        };

        let log_format = match cli.log_format {
            Some(f) => f,
            None => match env("ROUTEC_LOG_FORMAT") {
                Some(text) => text.parse().map_err(|e: String| invalid("log_format", e))?,
                None => file.log_format.unwrap_or_default(),
            },
        };

        let limits = resolve_limits(file.limits, env)?;
        let delivery = crate::delivery::DeliverySettings::resolve(file.delivery, env)?;
        let actions = routec_connectors::sink::Actions::from_file(&file.actions, env, delivery.max_retry_after)
            .map_err(|e| invalid(&e.setting, e.reason))?;
        let enrich = match &file.enrich {
            Some(section) => Some(std::sync::Arc::new(
                routec_connectors::enrich::Enricher::from_file(section, env)
                    .map_err(|e| invalid(&e.setting, e.reason))?,
            )),
            None => None,
        };
        let mut redact = file.redact;
        if let Some(list) = env("ROUTEC_REDACT") {
            redact.fields = list.split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect();
        }
        if let Some(flag) = env("ROUTEC_REDACT_EMAILS") {
            redact.scrub_emails = parse_bool(&flag).map_err(|e| invalid("redact.scrub_emails", e))?;
        }
        let redactor = Redactor::new(&redact).map_err(|e| invalid("redact.fields", e.to_string()))?;

        let mut clients = Vec::new();
        for (name, client) in file.clients {
            let setting = format!("clients.{name}.token");
            let token = match client.token {
                TokenSource::Literal(t) => t,
                TokenSource::Env { env: var } => env(&var)
                    .ok_or_else(|| invalid(&setting, format!("the environment variable `{var}` is not set")))?,
            };
            if token.trim().is_empty() {
                return Err(invalid(&setting, "the token is empty"));
            }
            if client.routes.is_empty() {
                return Err(invalid(&format!("clients.{name}.routes"), "the client may use no route"));
            }
            clients.push(Client { name, token, scopes: client.routes });
        }
        if let Some(token) = env("ROUTEC_TOKEN") {
            if token.trim().is_empty() {
                return Err(invalid("ROUTEC_TOKEN", "the token is empty"));
            }
            clients.push(Client { name: "ROUTEC_TOKEN".into(), token, scopes: Scope::ALL.to_vec() });
        }
        if clients.is_empty() {
            return Err(invalid(
                "clients",
                "no client may call the API: add a `[clients.NAME]` table to the config file, or set ROUTEC_TOKEN",
            ));
        }
        for (i, a) in clients.iter().enumerate() {
            if let Some(b) = clients[..i].iter().find(|b| b.token == a.token) {
                return Err(invalid(
                    &format!("clients.{}.token", a.name),
                    format!("the same token as `{}`: each client needs its own", b.name),
                ));
            }
        }

        let helpdesks = file.helpdesk.resolve(env, &parse_duration).map_err(|e| match e {
            routec_connectors::helpdesk::HelpdeskError::Config { setting, reason } => invalid(&setting, reason),
            other => invalid("helpdesk", other.to_string()),
        })?;

        Ok(Config {
            policy: policy.to_path_buf(),
            listen,
            db,
            durability,
            retention,
            log_format,
            clients,
            limits,
            redact,
            redactor,
            helpdesks,
            actions: std::sync::Arc::new(actions),
            delivery,
            enrich,
        })
    }
}

fn resolve_limits(file: LimitsFile, env: &dyn Fn(&str) -> Option<String>) -> Result<Limits, ConfigError> {
    let defaults = Limits::default();
    let count = |setting: &str, var: &str, file: Option<usize>, default: usize| -> Result<usize, ConfigError> {
        let n = match env(var) {
            Some(text) => text
                .trim()
                .parse::<usize>()
                .map_err(|_| invalid(setting, format!("`{text}` (from {var}) is not a whole number")))?,
            None => file.unwrap_or(default),
        };
        if n == 0 {
            return Err(invalid(setting, "must be at least 1"));
        }
        Ok(n)
    };
    let duration =
        |setting: &str, var: &str, file: Option<String>, default: Duration| -> Result<Duration, ConfigError> {
            match env(var).or(file) {
                Some(text) => {
                    let d = parse_duration(&text).map_err(|e| invalid(setting, e))?;
                    if d.is_zero() {
                        return Err(invalid(setting, "must be longer than zero"));
                    }
                    Ok(d)
                }
                None => Ok(default),
            }
        };
    Ok(Limits {
        max_body_bytes: count(
            "limits.max_body_bytes",
            "ROUTEC_MAX_BODY_BYTES",
            file.max_body_bytes,
            defaults.max_body_bytes,
        )?,
        batch_max: count("limits.batch_max", "ROUTEC_BATCH_MAX", file.batch_max, defaults.batch_max)?,
        request_timeout: duration(
            "limits.request_timeout",
            "ROUTEC_REQUEST_TIMEOUT",
            file.request_timeout,
            defaults.request_timeout,
        )?,
        max_concurrency: count(
            "limits.max_concurrency",
            "ROUTEC_MAX_CONCURRENCY",
            file.max_concurrency,
            defaults.max_concurrency,
        )?,
        load_refresh: duration("limits.load_refresh", "ROUTEC_LOAD_REFRESH", file.load_refresh, defaults.load_refresh)?,
    })
}

/// The decision log beside the policy: `sqlite:DIR/routec.db`.
pub fn default_db(policy: &Path) -> String {
    let dir = match policy.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    format!("sqlite:{}", dir.join("routec.db").display())
}

/// `500ms`, `10s`, `5m`, `12h`, `90d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 =
        digits.parse().map_err(|_| format!("`{text}` is not a duration like `500ms`, `10s`, `5m`, `12h` or `90d`"))?;
    let secs = |per: u64| n.checked_mul(per).map(Duration::from_secs);
    let d = match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => secs(60),
        "h" => secs(3600),
        "d" => secs(86_400),
        _ => None,
    };
    d.ok_or_else(|| format!("`{text}` is not a duration like `500ms`, `10s`, `5m`, `12h` or `90d`"))
}

fn parse_durability(text: &str) -> Result<Durability, String> {
    match text.trim() {
        "full" => Ok(Durability::Full),
        "normal" => Ok(Durability::Normal),
        other => Err(format!("`{other}` is not `full` or `normal`")),
    }
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        other => Err(format!("`{other}` is not `true` or `false`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Environment variables for a test, as name-value pairs.
    type Env = &'static [(&'static str, &'static str)];

    fn env_of(pairs: Env) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    fn resolve(text: &str, env: Env) -> Result<Config, ConfigError> {
        let file =
            ConfigFile::parse(text).map_err(|reason| ConfigError::Parse { path: "routec.toml".into(), reason })?;
        Config::resolve(Path::new("policies/p.route"), file, &env_of(env), Overrides::default())
    }

    #[test]
    fn defaults_put_the_log_beside_the_policy() {
        let c = resolve("", &[("ROUTEC_TOKEN", "t")]).expect("valid");
        assert_eq!(c.db, "sqlite:policies/routec.db");
        assert_eq!(c.durability, Durability::Normal, "SQLite's default survives a crash of the process");
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.clients.len(), 1);
        assert_eq!(c.clients[0].scopes, Scope::ALL.to_vec());
    }

    #[test]
    fn file_then_env_then_command_line() {
        let text = r#"
            listen = "127.0.0.1:9000"
            db = "sqlite:/tmp/x.db"
            retention = "30d"
            [limits]
            batch_max = 50
            request_timeout = "2s"
            [clients.helpdesk]
            token = { env = "HELPDESK_TOKEN" }
            routes = ["route", "outcomes"]
            [redact]
            fields = ["customer.email"]
        "#;
        let file = ConfigFile::parse(text).expect("parses");
        let env = env_of(&[("HELPDESK_TOKEN", "secret"), ("ROUTEC_DB", "postgres://db/x"), ("ROUTEC_BATCH_MAX", "7")]);
        let cli = Overrides { listen: Some("127.0.0.1:0".into()), ..Overrides::default() };
        let c = Config::resolve(Path::new("p.route"), file, &env, cli).expect("valid");
        assert_eq!(c.listen.to_string(), "127.0.0.1:0");
        assert_eq!(c.db, "postgres://db/x");
        assert_eq!(c.durability, Durability::Full, "PostgreSQL's default survives a crash of the database");
        assert_eq!(c.retention, Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(c.limits.batch_max, 7);
        assert_eq!(c.limits.request_timeout, Duration::from_secs(2));
        assert_eq!(c.clients[0].name, "helpdesk");
        assert_eq!(c.clients[0].token, "secret");
        assert_eq!(c.clients[0].scopes, vec![Scope::Route, Scope::Outcomes]);
        assert_eq!(c.redact.fields, vec!["customer.email".to_string()]);
    }

    #[test]
    fn errors_name_the_setting() {
        let cases: [(&str, Env, &str); 7] = [
            ("", &[], "`clients`: no client may call the API"),
            ("listen = \"here\"", &[("ROUTEC_TOKEN", "t")], "`listen`: `here` is not an address"),
            ("db = \"mysql://x\"", &[("ROUTEC_TOKEN", "t")], "`db`: `mysql://x` is neither"),
            ("retention = \"90 days\"", &[("ROUTEC_TOKEN", "t")], "`retention`: retention `90 days`"),
            ("[limits]\nbatch_max = 0", &[("ROUTEC_TOKEN", "t")], "`limits.batch_max`: must be at least 1"),
            (
                "[clients.a]\ntoken = { env = \"NOPE\" }\nroutes = [\"route\"]",
                &[],
                "`clients.a.token`: the environment variable `NOPE` is not set",
            ),
            (
                "[clients.a]\ntoken = \"x\"\nroutes = [\"route\"]\n[clients.b]\ntoken = \"x\"\nroutes = [\"admin\"]",
                &[],
                "`clients.b.token`: the same token as `a`",
            ),
        ];
        for (text, env, want) in cases {
            let err = resolve(text, env).expect_err(text).to_string();
            assert!(err.starts_with(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn durability_from_the_file_or_the_environment() {
        let c = resolve("durability = \"full\"", &[("ROUTEC_TOKEN", "t")]).expect("valid");
        assert_eq!(c.durability, Durability::Full);
        let c =
            resolve("durability = \"full\"", &[("ROUTEC_TOKEN", "t"), ("ROUTEC_DURABILITY", "normal")]).expect("valid");
        assert_eq!(c.durability, Durability::Normal);
        let err = resolve("", &[("ROUTEC_TOKEN", "t"), ("ROUTEC_DURABILITY", "fast")]).expect_err("refused");
        assert!(err.to_string().starts_with("`durability`: `fast` is not"), "{err}");
        assert!(ConfigFile::parse("durability = \"fast\"").is_err());
    }

    #[test]
    fn unknown_settings_and_routes_are_refused() {
        let err = ConfigFile::parse("listn = \"x\"").expect_err("unknown key");
        assert!(err.contains("unknown field `listn`"), "{err}");
        let err = ConfigFile::parse("[clients.a]\ntoken = \"x\"\nroutes = [\"everything\"]").expect_err("bad scope");
        assert!(err.contains("unknown variant `everything`"), "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("3w").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn tokens_are_not_in_debug_output() {
        let c = resolve("", &[("ROUTEC_TOKEN", "very-secret")]).expect("valid");
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
