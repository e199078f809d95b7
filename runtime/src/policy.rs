//! `Policy`: compiling or loading a policy (with its imports and classifier
//! model), choosing the engine, and routing a ticket; the `Context` a ticket
//! is routed in; and the errors of loading and of building an engine.

use crate::decision::{Decision, DecisionBuilder};
use crate::loader::{DiskFs, FsLoader};
use routec_compiler::io::{FileSystem, Refusal};

use crate::signals;
use crate::ticket::{Ticket, TicketError};
use routec_compiler::ir::RawOutcome;
use routec_compiler::jit::{JitError, JitPolicy};
use routec_compiler::{Analysis, Compiled, Proofs, SourceDb};
use sha2::Digest;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// When and under which load a ticket is routed.
#[derive(Clone, Debug)]
pub struct Context {
    /// The instant the ticket is routed at: opening hours and SLA due times are computed from it.
    pub now: jiff::Timestamp,
    /// Open tickets per destination name, for capacity fallbacks.
    pub load: HashMap<String, u64>,
}

impl Context {
    /// Route at `now`, with no destination under load.
    pub fn at(now: jiff::Timestamp) -> Context {
        Context { now, load: HashMap::new() }
    }
}

/// Which engine decides. Both return identical decisions; the JIT is faster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EngineKind {
    /// Native code generated with Cranelift (the default where the host is supported).
    #[default]
    Jit,
    /// The reference interpreter.
    Interpreter,
}

/// Why an engine could not be built for a policy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The JIT cannot compile the policy (or run on this machine); the interpreter still can.
    #[error("the JIT cannot compile this policy: {0}")]
    Jit(#[from] JitError),
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The policy file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The policy file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The policy has errors; the analysis holds them and the sources to render them.
    #[error("the policy has {} error(s)", .0.diagnostics.iter().filter(|d| d.is_error()).count())]
    Compile(Box<Analysis>),
    /// The classifier model the policy names is not there, and the
    /// tickets were not said to bring their own signals
    /// ([`LoadOptions::tickets_bring_signals`]): every ticket would go
    /// unclassified.
    #[error("the classifier model `{}` does not exist; train it with `routec train`, or say that tickets bring their own `signals`", path.display())]
    MissingModel {
        /// Where the model was looked for.
        path: PathBuf,
    },
    /// The classifier model the policy names exists but could not be loaded.
    #[error("cannot load the classifier model `{}`: {source}", path.display())]
    Model {
        /// The model file.
        path: PathBuf,
        /// Why it could not be loaded.
        source: routec_classifier::ModelError,
    },
}

/// How [`Policy::load_with_options`] loads a policy. Start from
/// `LoadOptions::default()` (proofs run, the policy's directory as its
/// root, the model required) and change what differs.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    proofs: Proofs,
    root: Option<PathBuf>,
    tickets_bring_signals: bool,
}

impl LoadOptions {
    /// Run the proofs or not (see [`Proofs`]).
    pub fn proofs(mut self, proofs: Proofs) -> LoadOptions {
        self.proofs = proofs;
        self
    }

    /// The directory imports and the model must stay inside (default: the
    /// policy's own directory).
    pub fn root(mut self, root: Option<PathBuf>) -> LoadOptions {
        self.root = root;
        self
    }

    /// Tickets carry their own `signals` (intent and confidence), so a
    /// missing classifier model is not an error.
    pub fn tickets_bring_signals(mut self, yes: bool) -> LoadOptions {
        self.tickets_bring_signals = yes;
        self
    }
}

/// A compiled policy, ready to route tickets. Cheap to share across threads.
pub struct Policy {
    pub(crate) compiled: Compiled,
    pub(crate) extractor: signals::Extractor,
    decisions: DecisionBuilder,
    engine: EngineKind,
    /// Present when `engine` is `Jit`.
    jit: Option<JitPolicy>,
}

impl Policy {
    /// Compile a policy from text (no imports, no classifier model), proofs included.
    pub fn compile(name: &str, source: &str) -> Result<Policy, PolicyError> {
        Self::compile_with(name, source, Proofs::Check)
    }

    /// [`Policy::compile`], with the proofs optional ([`Proofs::Skip`] for a
    /// policy `routec check` already accepted).
    pub fn compile_with(name: &str, source: &str, proofs: Proofs) -> Result<Policy, PolicyError> {
        let mut db = SourceDb::new();
        let root = db.add(name, source);
        let compiled = routec_compiler::compile_with(db, root, &routec_compiler::NoImports, proofs)
            .map_err(PolicyError::Compile)?;
        Ok(Policy::from_compiled(compiled, None))
    }

    /// Load a policy file, its imports and its classifier model, proofs
    /// included; imports and the model must stay inside the policy's
    /// directory, and the model must exist.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        Self::load_with_options(path, &LoadOptions::default())
    }

    /// [`Policy::load`], with the proofs optional.
    pub fn load_with(path: &Path, proofs: Proofs) -> Result<Policy, PolicyError> {
        Self::load_with_options(path, &LoadOptions::default().proofs(proofs))
    }

    /// [`Policy::load`] with every option (see [`LoadOptions`]).
    pub fn load_with_options(path: &Path, options: &LoadOptions) -> Result<Policy, PolicyError> {
        let io_error = |source| PolicyError::Io { path: path.to_path_buf(), source };
        let text = DiskFs.read_to_string(path).map_err(io_error)?;
        let loader = FsLoader::for_policy(path, options.root.as_deref()).map_err(|source| PolicyError::Io {
            path: options.root.clone().unwrap_or_else(|| path.to_path_buf()),
            source,
        })?;
        let mut db = SourceDb::new();
        let name = path.display().to_string();
        let root = db.add(name.clone(), text);
        let compiled =
            routec_compiler::compile_with(db, root, &loader, options.proofs).map_err(PolicyError::Compile)?;
        let model = match &compiled.hir.classifier {
            Some(c) => match loader.model_path(&name, &c.model) {
                Ok(Some(model_path)) => Some(
                    FsLoader::load_model(&model_path)
                        .map_err(|source| PolicyError::Model { path: model_path, source })?,
                ),
                Ok(None) if options.tickets_bring_signals => None,
                Ok(None) => {
                    return Err(PolicyError::MissingModel {
                        path: routec_compiler::workspace::relative_to(&name, &c.model),
                    })
                }
                // The checker refuses such a path already; kept typed for callers that skip it.
                Err(refusal) => {
                    let kind = match &refusal {
                        Refusal::Missing(e) => e.kind(),
                        _ => std::io::ErrorKind::PermissionDenied,
                    };
                    let source = std::io::Error::new(kind, refusal.to_string());
                    let path = PathBuf::from(&c.model);
                    let source = routec_classifier::ModelError::Io { path: path.clone(), source };
                    return Err(PolicyError::Model { path, source });
                }
            },
            None => None,
        };
        Ok(Policy::from_compiled(compiled, model))
    }

    /// Wrap an already compiled policy (see [`crate::advanced::from_compiled`]).
    pub(crate) fn from_compiled(compiled: Compiled, model: Option<routec_classifier::Model>) -> Policy {
        let extractor = signals::Extractor::new(&compiled.hir, &compiled.program, model);
        let mut hasher = sha2::Sha256::new();
        for (_, file) in compiled.db.files() {
            hasher.update(file.name.as_bytes());
            hasher.update([0]);
            hasher.update(file.text.as_bytes());
            hasher.update([0]);
        }
        let hash = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let decisions = DecisionBuilder::new(&compiled, hash);
        // The JIT is the default; where it cannot run (no Cranelift backend for
        // the host, or a policy past its limits) the interpreter decides.
        let jit =
            if routec_compiler::jit::host_supported() { JitPolicy::compile(&compiled.program).ok() } else { None };
        let engine = if jit.is_some() { EngineKind::Jit } else { EngineKind::Interpreter };
        Policy { compiled, extractor, decisions, engine, jit }
    }

    /// Choose the engine that decides.
    pub fn with_engine(mut self, engine: EngineKind) -> Result<Policy, EngineError> {
        match engine {
            EngineKind::Interpreter => self.jit = None,
            EngineKind::Jit if self.jit.is_none() => self.jit = Some(JitPolicy::compile(&self.compiled.program)?),
            EngineKind::Jit => {}
        }
        self.engine = engine;
        Ok(self)
    }

    /// The engine that decides.
    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// Whether a classifier model was loaded (the policy names one and its file exists).
    pub fn has_model(&self) -> bool {
        self.extractor.has_model()
    }

    /// The name on the policy's `policy` line.
    pub fn name(&self) -> &str {
        &self.compiled.hir.name
    }

    /// SHA-256 of the policy's source files (names and text), in hex: the
    /// same in every decision's `policy.hash`.
    pub fn hash(&self) -> &str {
        &self.decisions.policy().hash
    }

    /// The version number of its `policy` line.
    pub fn version(&self) -> u64 {
        self.compiled.hir.version
    }

    /// Every source file of the policy, imports included, as (name, text):
    /// what the hash covers, for an audit of exactly what decided.
    pub fn source_files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.compiled.db.files().map(|(_, file)| (file.name.as_str(), &*file.text))
    }

    /// The classifier model's path as the policy writes it (relative to the
    /// policy file), when the policy declares a classifier.
    pub fn classifier_model(&self) -> Option<&str> {
        self.compiled.hir.classifier.as_ref().map(|c| c.model.as_str())
    }

    /// The names of the destinations the policy declares, in order.
    pub fn destination_names(&self) -> impl Iterator<Item = &str> {
        self.compiled.hir.destinations.iter().map(|d| d.name.as_str())
    }

    /// Validate a ticket given as JSON text.
    pub fn ticket(&self, json: &str) -> Result<Ticket, TicketError> {
        Ticket::from_json_str(&self.compiled.hir, json)
    }

    /// Validate a ticket already parsed as JSON.
    pub fn ticket_from_value(&self, json: serde_json::Value) -> Result<Ticket, TicketError> {
        Ticket::from_json(&self.compiled.hir, json)
    }

    /// Route one ticket. Deterministic for the same ticket, policy and context.
    pub fn route(&self, ticket: &Ticket, ctx: &Context) -> Decision {
        let mut block = Vec::new();
        let signals = self.fill_signal_block(ticket, &mut block);
        let raw = self.run_engine(&block);
        self.decisions.build(&self.compiled, ticket, ctx, &signals, raw)
    }

    /// Fill the signal block for a ticket (what the engines read).
    pub(crate) fn fill_signal_block(&self, ticket: &Ticket, block: &mut Vec<f64>) -> signals::Signals {
        self.extractor.extract(&self.compiled.hir, &self.compiled.program, ticket, block)
    }

    /// Run the decision logic alone over a filled signal block.
    pub(crate) fn run_engine(&self, block: &[f64]) -> RawOutcome {
        let program = &self.compiled.program;
        let decided = match &self.jit {
            Some(jit) => jit.decide(block),
            None => routec_compiler::interp::decide(program, block),
        };
        // The block comes from `fill_signal_block`, which always writes one value
        // per slot; a wrong-sized block from an embedder decides nothing.
        decided.unwrap_or(RawOutcome {
            priority: program.default_priority,
            priority_rule: RawOutcome::NONE,
            branch: RawOutcome::NONE,
            enforced_branch: RawOutcome::NONE,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_policy_keeps_the_io_error() {
        let missing = Path::new("no/such/dir/policy.route");
        match Policy::load(missing) {
            Err(PolicyError::Io { path, source }) => {
                assert_eq!(path, missing);
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            Err(e) => panic!("expected an IO error, got {e}"),
            Ok(_) => panic!("a missing file loaded"),
        }
    }

    #[test]
    fn a_missing_model_fails_the_load_unless_tickets_bring_signals() {
        let dir = std::env::temp_dir().join(format!("routec-policy-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let path = dir.join("p.route");
        let text = "policy \"p\" version 1\nticket { subject: text }\n\
                    classifier intent from \"none.model\" { labels billing, other  features subject }\n\
                    queue general\notherwise -> general\n";
        std::fs::write(&path, text).expect("write the policy");
        match Policy::load(&path) {
            Err(PolicyError::MissingModel { path: model }) => assert!(model.ends_with("none.model")),
            Err(e) => panic!("expected a missing model, got {e}"),
            Ok(_) => panic!("a policy without its model loaded"),
        }
        let options = LoadOptions::default().tickets_bring_signals(true);
        let policy = Policy::load_with_options(&path, &options).expect("tickets bring their own signals");
        assert!(!policy.has_model());
        let _ = std::fs::remove_dir_all(&dir);
    }

    const SMALL: &str = "policy \"small\" version 2\nticket { id: string  subject: text }\n\
                         team billing\nqueue general\n\
                         rule invoices when subject has [\"invoice\"] -> billing\notherwise -> general\n";

    #[test]
    fn destination_names_are_the_declared_ones_in_order() {
        let policy = Policy::compile("small.route", SMALL).expect("the policy compiles");
        assert_eq!(policy.destination_names().collect::<Vec<_>>(), ["billing", "general"]);
        assert_eq!(policy.name(), "small");
    }

    #[test]
    fn a_ticket_from_a_parsed_value_routes_like_one_from_text() {
        let policy = Policy::compile("small.route", SMALL).expect("the policy compiles");
        let text = r#"{"id": "T-7", "subject": "Invoice missing"}"#;
        let from_text = policy.ticket(text).expect("a valid ticket");
        let value: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
        let from_value = policy.ticket_from_value(value).expect("a valid ticket");
        assert_eq!(from_value.id(), Some("T-7"));
        let ctx = Context::at(jiff::Timestamp::UNIX_EPOCH);
        let decision = policy.route(&from_value, &ctx);
        assert_eq!(decision, policy.route(&from_text, &ctx));
        assert_eq!(decision.destination.map(|d| d.name), Some("billing".to_string()));
        assert_eq!(decision.policy.hash, policy.hash());
        let rejected = policy.ticket_from_value(serde_json::json!({"id": "T-8"})).expect_err("no subject");
        assert_eq!(rejected.path, "subject");
    }
}
