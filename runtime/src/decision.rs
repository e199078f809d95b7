//! The decision a policy returns for one ticket, and how it is built from an
//! engine's raw outcome: destination after fallbacks, priority, SLA due
//! times, escalation and handoff, actions, signals, and a trace of every rule
//! tried with the line of source that holds it.
//!
//! Every type here is the runtime's own plain data, not the compiler's, so
//! the compiler can change without changing what embedders see. The JSON
//! form of a [`Decision`] is what the decision log stores: its shape is
//! pinned by a snapshot test (`runtime/tests/decision_json.rs`) and
//! versioned by [`Decision::SCHEMA_VERSION`].

use crate::schedule::Hours;
use crate::signals::Signals;
use crate::ticket::{FieldValue, Ticket};
use crate::Context;
use routec_compiler::syntax::ast;
use routec_compiler::{hir, ir, Compiled};
use serde::Serialize;

/// Where a ticket goes and why.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[non_exhaustive]
pub struct Decision {
    /// The version of this record's JSON shape, [`Decision::SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The ticket's `id` field as text, when the schema has one.
    pub ticket_id: Option<String>,
    /// `None` only when no rule matched and the policy has no `otherwise`.
    pub destination: Option<DestinationRef>,
    /// The priority's name, as declared in the policy.
    pub priority: String,
    /// When a response is due, per SLA of the policy that has a target for this priority.
    pub sla: Vec<SlaDue>,
    /// Set when an escalation decided the ticket.
    pub escalation: Option<Escalation>,
    /// The `when closed` / `when full` fallbacks taken, in order.
    pub fallbacks: Vec<FallbackTaken>,
    /// The side effects the deciding rule asks for.
    pub actions: Vec<Action>,
    /// What the classifier, the detectors and the keyword sets said.
    pub signals: SignalReport,
    /// Every rule tried, in evaluation order, up to the one that matched.
    pub trace: Vec<TraceStep>,
    /// What a human agent gets, when an escalation decided the ticket.
    pub handoff: Option<Handoff>,
    /// `shadow` when the whole policy is in `mode shadow`: every decision is
    /// recorded, none applied. A `shadow` rule does not change this field:
    /// its decision is [`Decision::shadow`], beside the enforced one.
    pub mode: Mode,
    /// What the first matching `shadow` rule would have decided, when one
    /// matched before the rule that decided: recorded beside the enforced
    /// decision (this record's other fields), never applied.
    pub shadow: Option<ShadowDecision>,
    /// The policy that decided.
    pub policy: PolicyRef,
}

/// The decision of a `shadow` rule: where it would have sent the ticket.
/// Its actions are listed, not run.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[non_exhaustive]
pub struct ShadowDecision {
    /// The shadow rule's name (a matrix row is `row N: cells`).
    pub rule: String,
    /// `file:line:column` of the shadow rule.
    pub location: String,
    /// The destination it would have chosen, after fallbacks.
    pub destination: Option<DestinationRef>,
    /// The priority it would have given.
    pub priority: String,
    /// The SLA due times it would have set.
    pub sla: Vec<SlaDue>,
    /// The fallbacks it would have taken.
    pub fallbacks: Vec<FallbackTaken>,
    /// The actions it asks for, not run.
    pub actions: Vec<Action>,
}

/// The destination a ticket is routed to.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[non_exhaustive]
pub struct DestinationRef {
    /// The destination's name in the policy.
    pub name: String,
    /// What kind of destination it is.
    pub kind: DestinationKind,
    /// False when the destination is closed (or full) and has no fallback for it.
    pub available: bool,
}

/// What kind of destination a policy declares.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DestinationKind {
    /// A team of people (`team`).
    Team,
    /// A queue (`queue`).
    Queue,
    /// A role (`role`).
    Role,
    /// An AI agent (`ai`).
    Ai,
}

/// When a response is due under one SLA.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[non_exhaustive]
pub struct SlaDue {
    /// The SLA's name in the policy.
    pub name: String,
    /// The target as written, e.g. `2h`.
    pub target: String,
    /// The target in minutes.
    pub target_minutes: f64,
    /// RFC 3339; `None` when a business-hours SLA finds no open time within a year.
    pub due: Option<String>,
    /// Whether the target counts only the destination's open hours.
    pub business_hours: bool,
}

/// The escalation that decided a ticket.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[non_exhaustive]
pub struct Escalation {
    /// The escalation's name in the policy.
    pub name: String,
    /// The condition that fired, as written in the policy.
    pub reason: String,
    /// `file:line:column` of the escalation.
    pub location: String,
}

/// One fallback taken because a destination was closed or full.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[non_exhaustive]
pub struct FallbackTaken {
    /// The destination that could not take the ticket.
    pub from: String,
    /// The destination the ticket went to instead.
    pub to: String,
    /// Why `from` could not take it.
    pub reason: FallbackReason,
}

/// Why a destination could not take a ticket.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FallbackReason {
    /// Outside its opening hours (`when closed`).
    Closed,
    /// At its capacity under the caller's load (`when full`).
    Full,
}

/// Whether a decision is acted on.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Mode {
    /// The decision routes the ticket.
    Enforce,
    /// The decision is recorded to compare with what happened, not acted on.
    Shadow,
}

/// A side effect a rule asks for; the service carries it out.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Send a message to a channel.
    Notify {
        /// Where to send it.
        channel: NotifyChannel,
        /// The channel name or address, as written in the policy.
        target: String,
    },
    /// Open an issue in a tracker.
    CreateIssue {
        /// Which tracker.
        tracker: Tracker,
        /// The tracker's project.
        project: String,
        /// The issue's severity, when the policy gives one.
        severity: Option<String>,
        /// The issue's area, when the policy gives one.
        area: Option<String>,
    },
    /// Tag the ticket.
    Tag {
        /// The tag.
        tag: String,
    },
    /// Set a field of the ticket in the helpdesk.
    Set {
        /// The helpdesk field.
        field: String,
        /// The value to write.
        value: serde_json::Value,
    },
}

/// Where a notification goes.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum NotifyChannel {
    /// A Slack channel.
    Slack,
    /// An email address.
    Email,
}

/// An issue tracker.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Tracker {
    /// Jira.
    Jira,
    /// Linear.
    Linear,
}

/// What the classifier and the built-in detectors said about a ticket.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[non_exhaustive]
pub struct SignalReport {
    /// The name the policy's classifier is declared with (`classifier
    /// category from …`), which `--explain` shows. Not in the JSON: there the
    /// key stays `intent` whatever the name, so the decision log has one
    /// shape for every policy and readers of stored decisions need no policy.
    #[serde(skip)]
    pub classifier: Option<String>,
    /// The most likely intent, when the policy has a classifier and it (or the ticket) gave one.
    pub intent: Option<String>,
    /// The probability of `intent`.
    pub confidence: Option<f64>,
    /// Other likely intents, best first.
    pub alternatives: Vec<Alternative>,
    /// Sentiment in [-1, 1].
    pub sentiment: f64,
    /// The detected (or given) language.
    pub language: String,
    /// `model`, `ticket` (given in the ticket's `signals`) or `none`.
    pub source: &'static str,
    /// The named keyword sets that matched, with the field they matched in.
    pub keywords: Vec<KeywordHit>,
}

/// An intent the classifier found less likely than the chosen one.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[non_exhaustive]
pub struct Alternative {
    /// The intent's label.
    pub intent: String,
    /// Its probability.
    pub confidence: f64,
}

/// A named keyword set that matched a field, with its first match there.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[non_exhaustive]
pub struct KeywordHit {
    /// The keyword set's name.
    pub set: String,
    /// The dotted path of the field it matched in.
    pub field: String,
    /// The phrase of the set that matched, lower-cased (`"cancel ~2 subscription"`).
    pub phrase: String,
    /// The text it matched, as the ticket wrote it (`"Cancel my subscription"`).
    pub text: String,
    /// Where: the byte range of `text` in the field, `[start, end)`.
    pub span: (usize, usize),
}

/// One rule the engine tried, in order.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[non_exhaustive]
pub struct TraceStep {
    /// Which part of the policy the rule belongs to.
    pub stage: Stage,
    /// The rule's name (a matrix row is `row N: cells`).
    pub name: String,
    /// Whether its condition held.
    pub matched: bool,
    /// A `shadow` rule: when it matched, its decision is
    /// [`Decision::shadow`], and the evaluation went on to the enforced one.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shadow: bool,
    /// `file:line:column` of the rule.
    pub location: String,
    /// Byte range in that file.
    pub span: [u32; 2],
}

/// The parts of a policy, in evaluation order.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Stage {
    /// A priority rule.
    Priority,
    /// An escalation.
    Escalation,
    /// A rule.
    Rule,
    /// A row of a matrix.
    Matrix,
    /// The `otherwise` branch.
    Otherwise,
}

impl Stage {
    /// The stage's name, as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Priority => "priority",
            Stage::Escalation => "escalation",
            Stage::Rule => "rule",
            Stage::Matrix => "matrix",
            Stage::Otherwise => "otherwise",
        }
    }
}

/// What a human agent gets on escalation, so the customer never repeats themselves.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[non_exhaustive]
pub struct Handoff {
    /// The escalation's name.
    pub escalation: String,
    /// The condition that fired, as written in the policy.
    pub reason: String,
    /// The most likely intent.
    pub intent: Option<String>,
    /// The probability of `intent`.
    pub confidence: Option<f64>,
    /// Other likely intents, best first.
    pub alternatives: Vec<Alternative>,
    /// Sentiment in [-1, 1].
    pub sentiment: f64,
    /// The detected (or given) language.
    pub language: String,
    /// The named keyword sets that matched.
    pub keywords: Vec<KeywordHit>,
    /// The names of the routing rules tried before the escalation fired.
    pub rules_tried: Vec<String>,
    /// The ticket fields the agent sees, by dotted path (all structured fields unless the policy names them).
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// The policy that made a decision.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[non_exhaustive]
pub struct PolicyRef {
    /// The name on the policy's `policy` line.
    pub name: String,
    /// The version on the policy's `policy` line.
    pub version: u64,
    /// SHA-256 of the policy's source files.
    pub hash: String,
}

impl Decision {
    /// The version of the JSON shape. Raise it with any change a reader of
    /// stored decisions would notice (a field renamed, removed or retyped).
    pub const SCHEMA_VERSION: u32 = 1;

    /// Whether an escalation decided the ticket.
    pub fn escalated(&self) -> bool {
        self.escalation.is_some()
    }

    /// A human-readable explanation, for `routec route --explain`.
    pub fn explain(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let id = self.ticket_id.as_deref().unwrap_or("(no id)");
        let dest = self
            .destination
            .as_ref()
            .map(|d| format!("{} ({:?})", d.name, d.kind).to_lowercase())
            .unwrap_or_else(|| "NOWHERE".into());
        let _ = writeln!(
            out,
            "ticket {id} → {dest}  priority {}{}",
            self.priority,
            if self.mode == Mode::Shadow { "  [shadow]" } else { "" }
        );
        if let Some(e) = &self.escalation {
            let _ = writeln!(out, "  escalated by `{}` at {}: {}", e.name, e.location, e.reason);
        }
        if let Some(sh) = &self.shadow {
            let dest = sh.destination.as_ref().map(|d| d.name.as_str()).unwrap_or("NOWHERE");
            let _ = writeln!(
                out,
                "  shadow: `{}` at {} would route to {dest} priority {} (recorded, not applied)",
                sh.rule, sh.location, sh.priority
            );
        }
        let s = &self.signals;
        let _ = writeln!(
            out,
            "  signals: {} {} ({}) · sentiment {:.2} · language {}{}",
            s.classifier.as_deref().unwrap_or("intent"),
            s.intent.as_deref().unwrap_or("-"),
            s.confidence.map(|c| format!("{c:.2}")).unwrap_or_else(|| "-".into()),
            s.sentiment,
            s.language,
            if s.keywords.is_empty() {
                String::new()
            } else {
                format!(
                    " · keywords {}",
                    s.keywords
                        .iter()
                        .map(|k| {
                            let text = k.text.split_whitespace().collect::<Vec<_>>().join(" ");
                            format!("{} in {}: \"{text}\" matched \"{}\"", k.set, k.field, k.phrase)
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        for step in &self.trace {
            let mark = if step.matched { "✓" } else { "·" };
            let name = if step.shadow && step.matched { format!("{} [shadow]", step.name) } else { step.name.clone() };
            let _ = writeln!(out, "  {mark} {:<10} {:<28} {}", step.stage.as_str(), name, step.location);
        }
        for f in &self.fallbacks {
            let why = match f.reason {
                FallbackReason::Closed => "closed",
                FallbackReason::Full => "at capacity",
            };
            let _ = writeln!(out, "  fallback: {} is {why} → {}", f.from, f.to);
        }
        for sla in &self.sla {
            let _ = writeln!(
                out,
                "  sla {}: {}{} due {}",
                sla.name,
                sla.target,
                if sla.business_hours { " business" } else { "" },
                sla.due.as_deref().unwrap_or("never (no open hours)")
            );
        }
        for a in &self.actions {
            let _ = writeln!(out, "  action: {}", serde_json::to_string(a).unwrap_or_default());
        }
        out
    }
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
    /// A `shadow` rule's branch.
    shadow: bool,
}

/// What one branch decides, before it is placed in a [`Decision`] (the
/// enforced branch) or a [`ShadowDecision`].
#[derive(Default)]
struct Routed {
    destination: Option<DestinationRef>,
    priority: String,
    sla: Vec<SlaDue>,
    escalation: Option<Escalation>,
    fallbacks: Vec<FallbackTaken>,
    actions: Vec<Action>,
    handoff: Option<Handoff>,
}

/// Everything a decision is built from that does not depend on the ticket,
/// computed once per policy.
pub(crate) struct DecisionBuilder {
    priority_info: Vec<BranchInfo>,
    branch_info: Vec<BranchInfo>,
    /// Indexed like `hir::Policy::schedules`.
    hours: Vec<Hours>,
    policy: PolicyRef,
}

impl DecisionBuilder {
    /// `hash` identifies the policy's sources in every decision.
    pub(crate) fn new(compiled: &Compiled, hash: String) -> DecisionBuilder {
        let hir = &compiled.hir;
        let info =
            |stage: Stage, name: String, span: routec_compiler::Span, when: Option<routec_compiler::Span>| BranchInfo {
                stage,
                name,
                location: location(&compiled.db, span),
                span: [span.start, span.end],
                condition: when
                    .map(|w| compiled.db.slice(w).split_whitespace().collect::<Vec<_>>().join(" "))
                    .unwrap_or_default(),
                shadow: false,
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
            .map(|b| {
                (
                    b,
                    match (b.stage, b.matrix_row()) {
                        (_, Some((matrix, row))) => {
                            let r = &hir.matrices[matrix].rows[row];
                            let text = compiled.db.slice(r.span);
                            let cells =
                                text.split("->").next().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
                            info(Stage::Matrix, format!("row {}: {cells}", row + 1), r.span, None)
                        }
                        (hir::Stage::Escalation, None) => {
                            let r = &hir.escalations[b.source as usize];
                            info(Stage::Escalation, r.name.clone(), r.span, Some(r.when.span))
                        }
                        (hir::Stage::Rule, None) => {
                            let r = &hir.rules[b.source as usize];
                            info(Stage::Rule, r.name.clone(), r.span, Some(r.when.span))
                        }
                        (hir::Stage::Otherwise | hir::Stage::Priority | hir::Stage::Matrix, None) => {
                            let span = hir.otherwise.as_ref().map(|o| o.span).unwrap_or_default();
                            info(Stage::Otherwise, "otherwise".into(), span, None)
                        }
                    },
                )
            })
            .map(|(b, info)| BranchInfo { shadow: b.shadow, ..info })
            .collect();
        DecisionBuilder {
            priority_info,
            branch_info,
            hours: hir.schedules.iter().map(Hours::new).collect(),
            policy: PolicyRef { name: hir.name.clone(), version: hir.version, hash },
        }
    }

    /// The policy every decision names.
    pub(crate) fn policy(&self) -> &PolicyRef {
        &self.policy
    }

    /// The decision for `raw`, which an engine returned for `ticket`'s signal block:
    /// the enforced branch decides, and a `shadow` branch that matched first
    /// is recorded beside it.
    pub(crate) fn build(
        &self,
        compiled: &Compiled,
        ticket: &Ticket,
        ctx: &Context,
        signals: &Signals,
        raw: ir::RawOutcome,
    ) -> Decision {
        let hir = &compiled.hir;
        let none = ir::RawOutcome::NONE;
        let mut trace = Vec::new();
        let tried_priority =
            if raw.priority_rule == none { self.priority_info.len() } else { raw.priority_rule as usize + 1 };
        for (i, info) in self.priority_info.iter().take(tried_priority).enumerate() {
            trace.push(step(info, i as u32 == raw.priority_rule));
        }
        // Up to the enforced branch; a shadow branch that matched before it is
        // shown as matched, and named by its step's `shadow` flag.
        let tried = if raw.enforced_branch == none { self.branch_info.len() } else { raw.enforced_branch as usize + 1 };
        for (i, info) in self.branch_info.iter().take(tried).enumerate() {
            let i = i as u32;
            trace.push(step(info, i == raw.enforced_branch || i == raw.branch));
        }
        let signal_report = signal_report(hir, ticket, signals);
        let enforced = self.routed(compiled, ticket, ctx, raw.priority, raw.enforced_branch, &signal_report, &trace);
        let shadow = (raw.branch != raw.enforced_branch)
            .then(|| {
                let info = self.branch_info.get(raw.branch as usize)?;
                let r = self.routed(compiled, ticket, ctx, raw.priority, raw.branch, &signal_report, &trace);
                Some(ShadowDecision {
                    rule: info.name.clone(),
                    location: info.location.clone(),
                    destination: r.destination,
                    priority: r.priority,
                    sla: r.sla,
                    fallbacks: r.fallbacks,
                    actions: r.actions,
                })
            })
            .flatten();
        Decision {
            schema_version: Decision::SCHEMA_VERSION,
            ticket_id: ticket.id.clone(),
            destination: enforced.destination,
            priority: enforced.priority,
            sla: enforced.sla,
            escalation: enforced.escalation,
            fallbacks: enforced.fallbacks,
            actions: enforced.actions,
            signals: signal_report,
            trace,
            handoff: enforced.handoff,
            mode: match hir.mode {
                Some(ast::Mode::Shadow) => Mode::Shadow,
                Some(ast::Mode::Enforce) | None => Mode::Enforce,
            },
            shadow,
            policy: self.policy.clone(),
        }
    }

    /// What branch `branch` (or none) decides for the ticket: destination
    /// after fallbacks, priority, SLAs, escalation and handoff, actions.
    #[allow(clippy::too_many_arguments)]
    fn routed(
        &self,
        compiled: &Compiled,
        ticket: &Ticket,
        ctx: &Context,
        computed_priority: u32,
        branch: u32,
        signal_report: &SignalReport,
        trace: &[TraceStep],
    ) -> Routed {
        let hir = &compiled.hir;
        let branch_ir = compiled.program.branches.get(branch as usize);
        let outcome = branch_ir.and_then(|b| outcome_of(hir, b));
        let mut routed = Routed::default();
        let mut priority = computed_priority;
        let mut final_dest = None;
        if let (Some(b), Some(o)) = (branch_ir, outcome) {
            if let Some(p) = o.priority {
                priority = p.0;
            }
            routed.actions = o.actions.iter().map(action).collect();
            let (reached, available) = self.follow_fallbacks(hir, o.destination, ctx, &mut routed.fallbacks);
            final_dest = Some(reached.index());
            let d = hir.destination(reached);
            routed.destination =
                Some(DestinationRef { name: d.name.clone(), kind: destination_kind(d.kind), available });
            if b.stage == hir::Stage::Escalation {
                let info = &self.branch_info[branch as usize];
                routed.escalation = Some(Escalation {
                    name: info.name.clone(),
                    reason: info.condition.clone(),
                    location: info.location.clone(),
                });
                routed.handoff = Some(handoff_for(hir, ticket, o, info, signal_report, trace));
            }
        }
        routed.sla = self.slas(hir, ticket, ctx, priority, outcome, final_dest);
        routed.priority = hir.priorities.get(priority as usize).map(|p| p.name.clone()).unwrap_or_default();
        routed
    }

    /// Follow `when closed` / `when full` until an available destination or the end of the chain.
    fn follow_fallbacks(
        &self,
        hir: &hir::Policy,
        start: hir::DestId,
        ctx: &Context,
        taken: &mut Vec<FallbackTaken>,
    ) -> (hir::DestId, bool) {
        let mut current = start;
        let mut visited = vec![start];
        loop {
            let d = hir.destination(current);
            let closed = d.schedule.is_some_and(|s| !self.hours[s.index()].is_open(ctx.now));
            let full = d.capacity.is_some_and(|cap| ctx.load.get(&d.name).copied().unwrap_or(0) >= cap);
            let (reason, taken_reason) = if closed {
                (ast::FallbackReason::Closed, FallbackReason::Closed)
            } else if full {
                (ast::FallbackReason::Full, FallbackReason::Full)
            } else {
                return (current, true);
            };
            let Some(next) = d.fallback(reason) else { return (current, false) };
            // A cycle is a compile error; this guard keeps a bad policy from looping forever.
            if visited.contains(&next.target) {
                return (current, false);
            }
            taken.push(FallbackTaken {
                from: d.name.clone(),
                to: hir.destination(next.target).name.clone(),
                reason: taken_reason,
            });
            visited.push(next.target);
            current = next.target;
        }
    }

    /// One due time per SLA that sets a target for this ticket; the most
    /// specific setting wins (`hir::Policy::sla_target`): the deciding
    /// branch's, the final destination's, the `per` value's, the priority's.
    fn slas(
        &self,
        hir: &hir::Policy,
        ticket: &Ticket,
        ctx: &Context,
        priority: u32,
        outcome: Option<&hir::Outcome>,
        dest: Option<usize>,
    ) -> Vec<SlaDue> {
        let hours = dest.and_then(|d| hir.destinations[d].schedule).map(|s| &self.hours[s.index()]);
        hir.slas
            .iter()
            .enumerate()
            .filter_map(|(index, sla)| {
                let tier = sla.per.and_then(|f| match &ticket.values[f.index()] {
                    FieldValue::Number(n) => Some(*n as u32),
                    _ => None,
                });
                let target = hir.sla_target(index, outcome, dest.map(|d| hir::DestId(d as u32)), priority, tier)?;
                let due = match (target.business, hours) {
                    (true, Some(h)) => h.add_open_minutes(ctx.now, target.minutes),
                    _ => ctx.now.checked_add(jiff::SignedDuration::from_secs_f64(target.minutes * 60.0)).ok(),
                };
                Some(SlaDue {
                    name: sla.name.clone(),
                    target: format_minutes(target.minutes),
                    target_minutes: target.minutes,
                    due: due.map(|d| whole_seconds(d).to_string()),
                    business_hours: target.business,
                })
            })
            .collect()
    }
}

/// A due time without its fraction of a second (the clock's nanoseconds
/// would otherwise show in every decision): cut down, never rounded up, so
/// a due time shown is never later than the target allows.
fn whole_seconds(t: jiff::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_second(t.as_second()).unwrap_or(t)
}

fn signal_report(hir: &hir::Policy, ticket: &Ticket, s: &Signals) -> SignalReport {
    let label = |i: u32| -> Option<String> {
        let c = hir.classifier.as_ref()?;
        hir.enum_def(c.labels).values.get(i as usize).map(|v| v.name.clone())
    };
    SignalReport {
        classifier: hir.classifier.as_ref().map(|c| c.name.clone()),
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
            .map(|m| KeywordHit {
                set: hir.keyword_sets[m.set.index()].name.clone().unwrap_or_default(),
                field: hir.field(m.field).path.clone(),
                phrase: m.phrase.clone(),
                text: match ticket.values.get(m.field.index()) {
                    Some(FieldValue::Text(t)) => t.get(m.span.0..m.span.1).unwrap_or_default().to_string(),
                    _ => String::new(),
                },
                span: m.span,
            })
            .collect(),
    }
}

fn handoff_for(
    hir: &hir::Policy,
    ticket: &Ticket,
    o: &hir::Outcome,
    info: &BranchInfo,
    s: &SignalReport,
    trace: &[TraceStep],
) -> Handoff {
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

/// `file:line:column` of a span's start, the column in characters.
pub(crate) fn location(db: &routec_compiler::SourceDb, span: routec_compiler::Span) -> String {
    let file = db.file(span.file);
    let lc = file.lines.line_col(span.start as usize);
    format!("{}:{}:{}", file.name, lc.line + 1, lc.col_chars)
}

fn step(info: &BranchInfo, matched: bool) -> TraceStep {
    TraceStep {
        stage: info.stage,
        name: info.name.clone(),
        matched,
        shadow: info.shadow,
        location: info.location.clone(),
        span: info.span,
    }
}

fn outcome_of<'h>(hir: &'h hir::Policy, branch: &ir::Branch) -> Option<&'h hir::Outcome> {
    if let Some((matrix, row)) = branch.matrix_row() {
        return hir.matrices.get(matrix)?.rows.get(row).map(|r| &r.outcome);
    }
    match branch.stage {
        hir::Stage::Escalation => hir.escalations.get(branch.source as usize).map(|r| &r.outcome),
        hir::Stage::Rule => hir.rules.get(branch.source as usize).map(|r| &r.outcome),
        hir::Stage::Otherwise => hir.otherwise.as_ref(),
        hir::Stage::Priority | hir::Stage::Matrix => None,
    }
}

fn destination_kind(kind: ast::DestinationKind) -> DestinationKind {
    match kind {
        ast::DestinationKind::Team => DestinationKind::Team,
        ast::DestinationKind::Queue => DestinationKind::Queue,
        ast::DestinationKind::Role => DestinationKind::Role,
        ast::DestinationKind::Ai => DestinationKind::Ai,
    }
}

fn action(a: &hir::Action) -> Action {
    match a {
        hir::Action::Notify { channel, target } => Action::Notify {
            channel: match channel {
                ast::NotifyChannel::Slack => NotifyChannel::Slack,
                ast::NotifyChannel::Email => NotifyChannel::Email,
            },
            target: target.clone(),
        },
        hir::Action::CreateIssue { tracker, project, severity, area } => Action::CreateIssue {
            tracker: match tracker {
                ast::Tracker::Jira => Tracker::Jira,
                ast::Tracker::Linear => Tracker::Linear,
            },
            project: project.clone(),
            severity: severity.clone(),
            area: area.clone(),
        },
        hir::Action::Tag { tag } => Action::Tag { tag: tag.clone() },
        hir::Action::Set { field, value } => Action::Set { field: field.clone(), value: value.clone() },
    }
}
