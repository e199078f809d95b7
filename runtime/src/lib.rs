//! # routec-runtime
//!
//! Embed routec policies in a service: compile or load a `.route` policy,
//! validate tickets against its schema, and route them. Every decision says
//! where the ticket goes, how urgent it is, when the first response is due,
//! whether it escalated, which fallbacks were taken, and which lines of the
//! policy decided it.
//!
//! ```
//! use routec_runtime::{Context, Policy, Ticket};
//!
//! let policy = Policy::compile("inline.route", r#"
//! policy "demo" version 1
//! ticket { subject: text  tier: free | pro }
//! queue general
//! team billing
//! rule invoices when subject has ["invoice", "refund"] -> billing
//! otherwise -> general
//! "#).expect("the policy compiles");
//! let ticket = policy.ticket(r#"{"subject": "Refund please", "tier": "pro"}"#).expect("a valid ticket");
//! let decision = policy.route(&ticket, &Context::at("2026-01-07T15:00:00Z".parse().unwrap()));
//! assert_eq!(decision.destination.unwrap().name, "billing");
//! ```

pub mod decision;
mod loader;
pub mod schedule;
pub mod signals;
mod testing;
pub mod ticket;

pub use decision::Decision;
pub use loader::{DiskFs, FsLoader};
pub use routec_compiler::Proofs;
pub use testing::TestOutcome;
pub use ticket::{Ticket, TicketError};

use decision::*;
use routec_compiler::hir::{self, Stage};
use routec_compiler::ir::RawOutcome;
use routec_compiler::syntax::ast::{FallbackReason, Mode};
use routec_compiler::{Analysis, Compiled, SourceDb};
use sha2::Digest;
use std::collections::HashMap;
use std::path::Path;

/// When and under which load a ticket is routed.
#[derive(Clone, Debug)]
pub struct Context {
    pub now: jiff::Timestamp,
    /// Open tickets per destination name, for capacity fallbacks.
    pub load: HashMap<String, u64>,
}

impl Context {
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
    #[error("the JIT cannot compile this policy: {0}")]
    Jit(String),
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("cannot read `{path}`: {reason}")]
    Io { path: String, reason: String },
    #[error("the policy has {} error(s)", .0.diagnostics.iter().filter(|d| d.is_error()).count())]
    Compile(Box<Analysis>),
    #[error("cannot load the classifier model `{path}`: {reason}")]
    Model { path: String, reason: String },
}

/// Static facts about one branch, computed once so routing stays cheap.
#[derive(Clone, Debug)]
struct BranchInfo {
    stage: Stage,
    name: String,
    location: String,
    span: [u32; 2],
    /// The condition's source text (escalation reasons).
    condition: String,
}

/// A compiled policy, ready to route tickets. Cheap to share across threads.
pub struct Policy {
    compiled: Compiled,
    extractor: signals::Extractor,
    hours: Vec<schedule::Hours>,
    priority_info: Vec<BranchInfo>,
    branch_info: Vec<BranchInfo>,
    hash: String,
    engine: EngineKind,
    /// Present when `engine` is `Jit`.
    jit: Option<routec_compiler::jit::JitPolicy>,
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

    /// Load a policy file, its imports and its classifier model (when the
    /// model file exists), proofs included.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        Self::load_with(path, Proofs::Check)
    }

    /// [`Policy::load`], with the proofs optional.
    pub fn load_with(path: &Path, proofs: Proofs) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyError::Io { path: path.display().to_string(), reason: e.to_string() })?;
        let mut db = SourceDb::new();
        let root = db.add(path.display().to_string(), text);
        let compiled = routec_compiler::compile_with(db, root, &FsLoader, proofs).map_err(PolicyError::Compile)?;
        let model = match &compiled.hir.classifier {
            Some(c) => {
                let model_path = loader::relative_to(&path.display().to_string(), &c.model);
                if model_path.exists() {
                    let model = routec_classifier::Model::load(&model_path).map_err(|e| PolicyError::Model {
                        path: model_path.display().to_string(),
                        reason: e.to_string(),
                    })?;
                    Some(model)
                } else {
                    None
                }
            }
            None => None,
        };
        Ok(Policy::from_compiled(compiled, model))
    }

    /// Wrap an already compiled policy.
    pub fn from_compiled(compiled: Compiled, model: Option<routec_classifier::Model>) -> Policy {
        let hir = &compiled.hir;
        let extractor = signals::Extractor::new(hir, &compiled.program, model);
        let hours = hir.schedules.iter().map(schedule::Hours::new).collect();
        let mut hasher = sha2::Sha256::new();
        for (_, file) in compiled.db.files() {
            hasher.update(file.name.as_bytes());
            hasher.update([0]);
            hasher.update(file.text.as_bytes());
            hasher.update([0]);
        }
        let hash = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let info = |stage: Stage, name: String, span: routec_compiler::Span, when: Option<routec_compiler::Span>| {
            let file = compiled.db.file(span.file);
            let lc = file.lines.line_col(span.start as usize);
            BranchInfo {
                stage,
                name,
                location: format!("{}:{}:{}", file.name, lc.line + 1, lc.col_chars),
                span: [span.start, span.end],
                condition: when
                    .map(|w| compiled.db.slice(w).split_whitespace().collect::<Vec<_>>().join(" "))
                    .unwrap_or_default(),
            }
        };
        let priority_info = hir
            .priority_rules
            .iter()
            .map(|r| info(Stage::Priority, hir.priority_name(r.level).to_string(), r.span, Some(r.when.span)))
            .collect();
        let branch_info = compiled
            .program
            .branches
            .iter()
            .map(|b| match b.stage {
                Stage::Escalation => {
                    let r = &hir.escalations[b.source as usize];
                    info(b.stage, r.name.clone(), r.span, Some(r.when.span))
                }
                Stage::Rule => {
                    let r = &hir.rules[b.source as usize];
                    info(b.stage, r.name.clone(), r.span, Some(r.when.span))
                }
                Stage::Matrix => {
                    let m = (b.source >> 16) as usize;
                    let row = (b.source & 0xffff) as usize;
                    let r = &hir.matrices[m].rows[row];
                    let text = compiled.db.slice(r.span);
                    let cells = text.split("->").next().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
                    info(b.stage, format!("row {}: {cells}", row + 1), r.span, None)
                }
                Stage::Otherwise | Stage::Priority => {
                    let span = hir.otherwise.as_ref().map(|o| o.span).unwrap_or_default();
                    info(Stage::Otherwise, "otherwise".into(), span, None)
                }
            })
            .collect();
        let mut policy = Policy {
            compiled,
            extractor,
            hours,
            priority_info,
            branch_info,
            hash,
            engine: EngineKind::Interpreter,
            jit: None,
        };
        // The JIT is the default; where it cannot run (no Cranelift backend for
        // the host, or a policy past its limits) the interpreter decides.
        if routec_compiler::jit::host_supported() {
            if let Ok(jit) = routec_compiler::jit::JitPolicy::compile(&policy.compiled.program) {
                policy.jit = Some(jit);
                policy.engine = EngineKind::Jit;
            }
        }
        policy
    }

    /// Choose the engine that decides.
    pub fn with_engine(mut self, engine: EngineKind) -> Result<Policy, EngineError> {
        match engine {
            EngineKind::Interpreter => self.jit = None,
            EngineKind::Jit if self.jit.is_none() => {
                if !routec_compiler::jit::host_supported() {
                    return Err(EngineError::Jit("Cranelift has no backend for this machine".into()));
                }
                let jit = routec_compiler::jit::JitPolicy::compile(&self.compiled.program)
                    .map_err(|e| EngineError::Jit(e.to_string()))?;
                self.jit = Some(jit);
            }
            EngineKind::Jit => {}
        }
        self.engine = engine;
        Ok(self)
    }

    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    pub fn hir(&self) -> &hir::Policy {
        &self.compiled.hir
    }

    pub fn program(&self) -> &routec_compiler::ir::Program {
        &self.compiled.program
    }

    pub fn sources(&self) -> &SourceDb {
        &self.compiled.db
    }

    /// Warnings from compiling.
    pub fn warnings(&self) -> &[routec_compiler::Diagnostic] {
        &self.compiled.warnings
    }

    pub fn has_model(&self) -> bool {
        self.extractor.has_model()
    }

    pub fn name(&self) -> &str {
        &self.compiled.hir.name
    }

    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Validate a ticket given as JSON text.
    pub fn ticket(&self, json: &str) -> Result<Ticket, TicketError> {
        Ticket::from_json_str(&self.compiled.hir, json)
    }

    /// Fill the signal block for a ticket (what the engines read).
    pub fn signal_block(&self, ticket: &Ticket, block: &mut Vec<f64>) -> signals::Signals {
        self.extractor.extract(&self.compiled.hir, &self.compiled.program, ticket, block)
    }

    /// Run the decision logic alone over a filled signal block.
    pub fn decide(&self, block: &[f64]) -> RawOutcome {
        let program = &self.compiled.program;
        let decided = match &self.jit {
            Some(jit) => jit.decide(block),
            None => routec_compiler::interp::decide(program, block),
        };
        // The block comes from `signal_block`, which always writes one value
        // per slot; a wrong-sized block from an embedder decides nothing.
        decided.unwrap_or(RawOutcome {
            priority: program.default_priority,
            priority_rule: RawOutcome::NONE,
            branch: RawOutcome::NONE,
        })
    }

    /// Route one ticket. Deterministic for the same ticket, policy and context.
    pub fn route(&self, ticket: &Ticket, ctx: &Context) -> Decision {
        let mut block = Vec::new();
        let signals = self.signal_block(ticket, &mut block);
        let raw = self.decide(&block);
        self.build_decision(ticket, ctx, &signals, raw)
    }

    fn build_decision(&self, ticket: &Ticket, ctx: &Context, signals: &signals::Signals, raw: RawOutcome) -> Decision {
        let hir = &self.compiled.hir;
        let program = &self.compiled.program;
        let mut trace = Vec::new();
        let tried_priority = if raw.priority_rule == RawOutcome::NONE {
            self.priority_info.len()
        } else {
            raw.priority_rule as usize + 1
        };
        for (i, info) in self.priority_info.iter().take(tried_priority).enumerate() {
            trace.push(step(info, i as u32 == raw.priority_rule));
        }
        let tried = if raw.branch == RawOutcome::NONE { self.branch_info.len() } else { raw.branch as usize + 1 };
        for (i, info) in self.branch_info.iter().take(tried).enumerate() {
            trace.push(step(info, i as u32 == raw.branch));
        }
        let branch = program.branches.get(raw.branch as usize);
        let outcome = branch.and_then(|b| outcome_of(hir, b.stage, b.source));
        let mut priority = raw.priority;
        let mut fallbacks = Vec::new();
        let mut destination = None;
        let mut escalation = None;
        let mut handoff = None;
        let mut mode = hir.mode.unwrap_or(Mode::Enforce);
        let mut actions = Vec::new();
        let mut final_dest = None;
        let signal_report = self.signal_report(signals);
        if let (Some(b), Some(o)) = (branch, outcome) {
            if let Some(p) = o.priority {
                priority = p.0;
            }
            if o.shadow {
                mode = Mode::Shadow;
            }
            actions = o.actions.clone();
            let (reached, available) = self.follow_fallbacks(o.destination, ctx, &mut fallbacks);
            final_dest = Some(reached.index());
            let d = hir.destination(reached);
            destination = Some(DestinationRef { name: d.name.clone(), kind: d.kind, available });
            if b.stage == Stage::Escalation {
                let info = &self.branch_info[raw.branch as usize];
                escalation = Some(Escalation {
                    name: info.name.clone(),
                    reason: info.condition.clone(),
                    location: info.location.clone(),
                });
                handoff = Some(self.handoff(ticket, o, info, &signal_report, &trace));
            }
        }
        let sla = self.slas(ticket, ctx, priority, final_dest);
        Decision {
            ticket_id: ticket.id.clone(),
            destination,
            priority: hir.priorities.get(priority as usize).map(|p| p.name.clone()).unwrap_or_default(),
            sla,
            escalation,
            fallbacks,
            actions,
            signals: signal_report,
            trace,
            handoff,
            mode,
            policy: PolicyRef { name: hir.name.clone(), version: hir.version, hash: self.hash.clone() },
        }
    }

    /// Follow `when closed` / `when full` until an available destination or the end of the chain.
    fn follow_fallbacks(
        &self,
        start: hir::DestId,
        ctx: &Context,
        taken: &mut Vec<FallbackTaken>,
    ) -> (hir::DestId, bool) {
        let hir = &self.compiled.hir;
        let mut current = start;
        let mut visited = vec![start];
        loop {
            let d = hir.destination(current);
            let closed = d.schedule.is_some_and(|s| !self.hours[s.index()].is_open(ctx.now));
            let full = d.capacity.is_some_and(|cap| ctx.load.get(&d.name).copied().unwrap_or(0) >= cap);
            let reason = if closed {
                FallbackReason::Closed
            } else if full {
                FallbackReason::Full
            } else {
                return (current, true);
            };
            let Some(next) = d.fallback(reason) else { return (current, false) };
            // A cycle is a compile error; this guard keeps a bad policy from looping forever.
            if visited.contains(&next.target) {
                return (current, false);
            }
            taken.push(FallbackTaken { from: d.name.clone(), to: hir.destination(next.target).name.clone(), reason });
            visited.push(next.target);
            current = next.target;
        }
    }

    fn slas(&self, ticket: &Ticket, ctx: &Context, priority: u32, dest: Option<usize>) -> Vec<SlaDue> {
        let hir = &self.compiled.hir;
        let hours = dest.and_then(|d| hir.destinations[d].schedule).map(|s| &self.hours[s.index()]);
        hir.slas
            .iter()
            .filter_map(|sla| {
                let tier = sla.per.and_then(|f| match &ticket.values[f.index()] {
                    ticket::FieldValue::Number(n) => Some(*n as u32),
                    _ => None,
                });
                let target = sla
                    .overrides
                    .iter()
                    .find(|(t, p, _)| Some(*t) == tier && p.0 == priority)
                    .map(|(_, _, target)| *target)
                    .or_else(|| sla.targets.get(priority as usize).copied().flatten())?;
                let due = match (target.business, hours) {
                    (true, Some(h)) => h.add_open_minutes(ctx.now, target.minutes),
                    _ => ctx.now.checked_add(jiff::SignedDuration::from_secs_f64(target.minutes * 60.0)).ok(),
                };
                Some(SlaDue {
                    name: sla.name.clone(),
                    target: format_minutes(target.minutes),
                    target_minutes: target.minutes,
                    due: due.map(|d| d.to_string()),
                    business_hours: target.business,
                })
            })
            .collect()
    }

    fn signal_report(&self, s: &signals::Signals) -> SignalReport {
        let hir = &self.compiled.hir;
        let label = |i: u32| -> Option<String> {
            let c = hir.classifier.as_ref()?;
            hir.enum_def(c.labels).values.get(i as usize).map(|v| v.name.clone())
        };
        SignalReport {
            intent: s.intent.and_then(label),
            confidence: s.confidence,
            alternatives: s
                .alternatives
                .iter()
                .filter_map(|(i, p)| label(*i).map(|intent| Alternative { intent, confidence: *p }))
                .collect(),
            sentiment: s.sentiment,
            language: hir
                .enum_def(hir.language_enum)
                .values
                .get(s.language as usize)
                .map(|v| v.name.clone())
                .unwrap_or_default(),
            source: s.source,
            keywords: s
                .keyword_hits
                .iter()
                .map(|(set, field)| KeywordHit {
                    set: hir.keyword_sets[set.index()].name.clone().unwrap_or_default(),
                    field: hir.field(*field).path.clone(),
                })
                .collect(),
        }
    }

    fn handoff(
        &self,
        ticket: &Ticket,
        o: &hir::Outcome,
        info: &BranchInfo,
        s: &SignalReport,
        trace: &[TraceStep],
    ) -> Handoff {
        let hir = &self.compiled.hir;
        let field_ids: Vec<hir::FieldId> = if o.handoff.is_empty() {
            // By default an agent sees every structured field; free text is in the ticket itself.
            (0..hir.fields.len() as u32).map(hir::FieldId).filter(|f| !hir.field(*f).ty.is_textual()).collect()
        } else {
            o.handoff.clone()
        };
        let mut fields = serde_json::Map::new();
        for f in field_ids {
            let path = &hir.field(f).path;
            let mut cur = Some(&ticket.json);
            for seg in path.split('.') {
                cur = cur.and_then(|c| c.get(seg));
            }
            fields.insert(path.clone(), cur.cloned().unwrap_or(serde_json::Value::Null));
        }
        Handoff {
            escalation: info.name.clone(),
            reason: info.condition.clone(),
            intent: s.intent.clone(),
            confidence: s.confidence,
            alternatives: s.alternatives.clone(),
            sentiment: s.sentiment,
            language: s.language.clone(),
            keywords: s.keywords.clone(),
            rules_tried: trace.iter().filter(|t| t.stage != Stage::Priority).map(|t| t.name.clone()).collect(),
            fields,
        }
    }
}

/// `90` → `1h30m`, `2400` → `40h`: hours, not days, since "1d" reads like a business day.
fn format_minutes(minutes: f64) -> String {
    let mut secs = (minutes * 60.0).round() as u64;
    let mut out = String::new();
    for (unit, size) in [("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    if out.is_empty() {
        out.push_str("0m");
    }
    out
}

fn step(info: &BranchInfo, matched: bool) -> TraceStep {
    TraceStep { stage: info.stage, name: info.name.clone(), matched, location: info.location.clone(), span: info.span }
}

fn outcome_of(hir: &hir::Policy, stage: Stage, source: u32) -> Option<&hir::Outcome> {
    match stage {
        Stage::Escalation => hir.escalations.get(source as usize).map(|r| &r.outcome),
        Stage::Rule => hir.rules.get(source as usize).map(|r| &r.outcome),
        Stage::Matrix => {
            hir.matrices.get((source >> 16) as usize)?.rows.get((source & 0xffff) as usize).map(|r| &r.outcome)
        }
        Stage::Otherwise => hir.otherwise.as_ref(),
        Stage::Priority => None,
    }
}
