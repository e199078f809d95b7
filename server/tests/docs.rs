//! docs/serve.md stays true: its example `routec.toml` is a valid config.

use routec_server::config::{Config, ConfigFile, Overrides, Scope};
use std::path::Path;

#[test]
fn the_documented_config_file_is_valid() {
    let doc = include_str!("../../docs/serve.md");
    let start = doc.find("```toml\n").expect("docs/serve.md has a toml block") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("the toml block ends");
    let file = ConfigFile::parse(&doc[start..end]).expect("the documented config parses");
    let env = |name: &str| name.ends_with("_TOKEN").then(|| format!("token-of-{name}"));
    let config = Config::resolve(Path::new("policy.route"), file, &env, Overrides::default())
        .expect("the documented config is valid");
    let helpdesk = config.clients.iter().find(|c| c.name == "helpdesk").expect("a helpdesk client");
    assert_eq!(helpdesk.scopes, vec![Scope::Route, Scope::Outcomes]);
    assert_eq!(config.limits.batch_max, 10_000);
    assert!(config.redactor.is_active());
}
