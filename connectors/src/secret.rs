//! Secrets in the configuration (API tokens, passwords, webhook URLs): how
//! they are written (`"literal"`, `{ env = "NAME" }`, `{ file = "PATH" }`),
//! resolved once at start, and kept out of every log (`Debug` and `Display`
//! print `[hidden]`).

use serde::Deserialize;

/// A secret as the config file writes it.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum SecretSource {
    /// Written in the file itself.
    Literal(String),
    /// Read from an environment variable at start.
    Env {
        /// The variable's name.
        env: String,
    },
    /// Read from a file at start (trailing line breaks removed), e.g. a
    /// mounted Kubernetes secret.
    File {
        /// The file's path.
        file: String,
    },
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Literal(_) => f.write_str("Literal([hidden])"),
            SecretSource::Env { env } => f.debug_struct("Env").field("env", env).finish(),
            SecretSource::File { file } => f.debug_struct("File").field("file", file).finish(),
        }
    }
}

impl SecretSource {
    /// The secret's value: the environment is read through `env` (so tests
    /// need not touch the process's). The error names where it looked, never
    /// the value.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Secret, String> {
        let value = match self {
            SecretSource::Literal(value) => value.clone(),
            SecretSource::Env { env: name } => {
                env(name).ok_or_else(|| format!("the environment variable `{name}` is not set"))?
            }
            SecretSource::File { file } => std::fs::read_to_string(file)
                .map_err(|error| format!("cannot read the secret file `{file}`: {error}"))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        };
        if value.trim().is_empty() {
            return Err("the secret is empty".to_owned());
        }
        Ok(Secret(value))
    }
}

/// A resolved secret. Only [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value (tests, and values built from other secrets).
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, to put in a request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[hidden]")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[hidden]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder {
        token: SecretSource,
    }

    fn source(toml_text: &str) -> SecretSource {
        let holder: Holder = serde_json::from_str(toml_text).expect("a secret source");
        holder.token
    }

    #[test]
    fn the_three_forms_resolve_and_never_print() {
        let env = |name: &str| (name == "SLACK_TOKEN").then(|| "xoxb-from-env".to_owned());
        let literal = source(r#"{"token": "xoxb-literal"}"#).resolve(&env).expect("literal");
        assert_eq!(literal.expose(), "xoxb-literal");
        let from_env = source(r#"{"token": {"env": "SLACK_TOKEN"}}"#).resolve(&env).expect("env");
        assert_eq!(from_env.expose(), "xoxb-from-env");
        let dir = std::env::temp_dir().join(format!("routec-secret-{}", std::process::id()));
        std::fs::write(&dir, "xoxb-from-file\n").expect("write the secret file");
        let json = serde_json::json!({ "token": { "file": dir.display().to_string() } }).to_string();
        let from_file = source(&json).resolve(&env).expect("file");
        let _ = std::fs::remove_file(&dir);
        assert_eq!(from_file.expose(), "xoxb-from-file");
        for shown in [format!("{literal:?}"), format!("{from_env}"), format!("{:?}", source(r#"{"token": "xoxb-x"}"#))]
        {
            assert!(!shown.contains("xoxb"), "{shown}");
        }
    }

    #[test]
    fn missing_and_empty_secrets_are_refused() {
        let env = |_: &str| Some(" ".to_owned());
        assert_eq!(
            source(r#"{"token": {"env": "NOPE"}}"#).resolve(&|_| None).expect_err("unset"),
            "the environment variable `NOPE` is not set"
        );
        assert_eq!(source(r#"{"token": {"env": "BLANK"}}"#).resolve(&env).expect_err("blank"), "the secret is empty");
    }
}
