//! The decision a policy returns for one ticket, and how it is built from an
//! engine's raw outcome: destination after fallbacks, priority, SLA due
//! times, escalation and handoff, actions, signals, and a trace of every rule
//! tried with the line of source that holds it.

use routec_compiler::hir::{Action, Stage};
use routec_compiler::syntax::ast::{DestinationKind, FallbackReason, Mode};
use serde::Serialize;

/// Where a ticket goes and why.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Decision {
    pub ticket_id: Option<String>,
    /// `None` only when no rule matched and the policy has no `otherwise`.
    pub destination: Option<DestinationRef>,
    pub priority: String,
    pub sla: Vec<SlaDue>,
    pub escalation: Option<Escalation>,
    pub fallbacks: Vec<FallbackTaken>,
    pub actions: Vec<Action>,
    pub signals: SignalReport,
    pub trace: Vec<TraceStep>,
    pub handoff: Option<Handoff>,
    pub mode: Mode,
    pub policy: PolicyRef,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DestinationRef {
    pub name: String,
    pub kind: DestinationKind,
    /// False when the destination is closed (or full) and has no fallback for it.
    pub available: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SlaDue {
    pub name: String,
    /// The target as written, e.g. `2h`.
    pub target: String,
    pub target_minutes: f64,
    /// RFC 3339; `None` when a business-hours SLA finds no open time within a year.
    pub due: Option<String>,
    pub business_hours: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Escalation {
    pub name: String,
    /// The condition that fired, as written in the policy.
    pub reason: String,
    pub location: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FallbackTaken {
    pub from: String,
    pub to: String,
    pub reason: FallbackReason,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SignalReport {
    pub intent: Option<String>,
    pub confidence: Option<f64>,
    pub alternatives: Vec<Alternative>,
    pub sentiment: f64,
    pub language: String,
    /// `model`, `ticket` (given in the ticket's `signals`) or `none`.
    pub source: &'static str,
    pub keywords: Vec<KeywordHit>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Alternative {
    pub intent: String,
    pub confidence: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KeywordHit {
    pub set: String,
    pub field: String,
}

/// One rule the engine tried, in order.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TraceStep {
    pub stage: Stage,
    pub name: String,
    pub matched: bool,
    /// `file:line:column` of the rule.
    pub location: String,
    /// Byte range in that file.
    pub span: [u32; 2],
}

/// What a human agent gets on escalation, so the customer never repeats themselves.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Handoff {
    pub escalation: String,
    pub reason: String,
    pub intent: Option<String>,
    pub confidence: Option<f64>,
    pub alternatives: Vec<Alternative>,
    pub sentiment: f64,
    pub language: String,
    pub keywords: Vec<KeywordHit>,
    pub rules_tried: Vec<String>,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PolicyRef {
    pub name: String,
    pub version: u64,
    /// SHA-256 of the policy's source files.
    pub hash: String,
}

impl Decision {
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
        let s = &self.signals;
        let _ = writeln!(
            out,
            "  signals: intent {} ({}) · sentiment {:.2} · language {}{}",
            s.intent.as_deref().unwrap_or("-"),
            s.confidence.map(|c| format!("{c:.2}")).unwrap_or_else(|| "-".into()),
            s.sentiment,
            s.language,
            if s.keywords.is_empty() {
                String::new()
            } else {
                format!(
                    " · keywords {}",
                    s.keywords.iter().map(|k| format!("{} in {}", k.set, k.field)).collect::<Vec<_>>().join(", ")
                )
            }
        );
        for step in &self.trace {
            let mark = if step.matched { "✓" } else { "·" };
            let _ = writeln!(
                out,
                "  {mark} {:<10} {:<28} {}",
                format!("{:?}", step.stage).to_lowercase(),
                step.name,
                step.location
            );
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
