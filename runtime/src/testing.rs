//! Running a policy's `test` blocks: build the ticket, route it at the
//! test's time and load, compare with the expectation.

use crate::decision::{location, Decision, Mode};
use crate::{Context, Policy, Ticket};

/// Default time for tests without `at`: a Wednesday, 10:00 in New York and
/// 16:00 in Berlin, so business-hours teams on either side are open.
pub const DEFAULT_TEST_TIME: &str = "2026-01-07T15:00:00Z";

/// The result of one `test` block.
#[derive(Clone, Debug)]
pub struct TestOutcome {
    /// The test's name.
    pub name: String,
    /// `file:line:column` of the `test` block.
    pub location: String,
    /// Whether the decision met every expectation of the test.
    pub passed: bool,
    /// What was expected, in the policy's words.
    pub expected: String,
    /// What happened, in the same words.
    pub actual: String,
    /// The decision, when the test ticket was valid.
    pub decision: Option<Decision>,
    /// Set when the test ticket itself was invalid.
    pub error: Option<String>,
}

impl Policy {
    /// Run every `test` block of the policy, in order.
    pub fn run_tests(&self) -> Vec<TestOutcome> {
        let hir = &self.compiled.hir;
        let default_now: jiff::Timestamp = DEFAULT_TEST_TIME.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        hir.tests
            .iter()
            .map(|t| {
                let mut json = t.ticket.clone();
                if let (Some(obj), Some(sig)) = (json.as_object_mut(), t.signals.as_object()) {
                    if !sig.is_empty() {
                        obj.insert("signals".into(), serde_json::Value::Object(sig.clone()));
                    }
                }
                let expected = t.expect.as_ref().map(|e| {
                    let mut s = hir.destination(e.destination).name.clone();
                    if let Some(p) = e.priority {
                        s.push_str(&format!(" priority {}", hir.priority_name(p)));
                    }
                    match e.escalated {
                        Some(true) => s.push_str(" escalated"),
                        Some(false) => s.push_str(" not escalated"),
                        None => {}
                    }
                    if e.shadow {
                        s.push_str(" shadow");
                    }
                    if e.fallback {
                        s.push_str(" fallback");
                    }
                    s
                });
                let ticket = match Ticket::from_json(hir, json) {
                    Ok(t) => t,
                    Err(e) => {
                        return TestOutcome {
                            name: t.name.clone(),
                            location: location(&self.compiled.db, t.span),
                            passed: false,
                            expected: expected.unwrap_or_default(),
                            actual: String::new(),
                            decision: None,
                            error: Some(e.to_string()),
                        }
                    }
                };
                let mut ctx = Context::at(t.at.unwrap_or(default_now));
                for (d, n) in &t.load {
                    ctx.load.insert(hir.destination(*d).name.clone(), *n);
                }
                let decision = self.route(&ticket, &ctx);
                let (passed, actual) = match &t.expect {
                    Some(e) => judge(hir, e, &decision),
                    None => (false, String::new()),
                };
                TestOutcome {
                    name: t.name.clone(),
                    location: location(&self.compiled.db, t.span),
                    passed,
                    expected: expected.unwrap_or_default(),
                    actual,
                    decision: Some(decision),
                    error: None,
                }
            })
            .collect()
    }
}

/// Whether `decision` meets the expectation, and what it was, in the
/// expectation's words. `expect D shadow` is about the decision of the
/// `shadow` rule that matched (or a decision of a policy in `mode shadow`);
/// without `shadow`, about the enforced decision.
fn judge(hir: &routec_compiler::hir::Policy, e: &routec_compiler::hir::Expect, decision: &Decision) -> (bool, String) {
    let policy_shadow = decision.mode == Mode::Shadow;
    let (dest, priority, escalated, fell_back, shadow) = match (&decision.shadow, e.shadow && !policy_shadow) {
        (Some(sh), true) => (sh.destination.as_ref(), &sh.priority, false, !sh.fallbacks.is_empty(), true),
        _ => (
            decision.destination.as_ref(),
            &decision.priority,
            decision.escalated(),
            !decision.fallbacks.is_empty(),
            policy_shadow,
        ),
    };
    let dest = dest.map(|d| d.name.clone()).unwrap_or_else(|| "nowhere".into());
    let mut passed = hir.destination(e.destination).name == dest;
    let mut actual = dest;
    if let Some(p) = e.priority {
        actual.push_str(&format!(" priority {priority}"));
        passed &= hir.priority_name(p) == priority;
    }
    match e.escalated {
        Some(want) => {
            actual.push_str(if escalated { " escalated" } else { " not escalated" });
            passed &= want == escalated;
        }
        None if escalated => actual.push_str(" escalated"),
        None => {}
    }
    if e.shadow || shadow {
        if shadow {
            actual.push_str(" shadow");
        }
        passed &= e.shadow == shadow;
    }
    if e.fallback || fell_back {
        if fell_back {
            actual.push_str(" fallback");
        }
        passed &= !e.fallback || fell_back;
    }
    if let (Some(sh), false) = (&decision.shadow, e.shadow) {
        let to = sh.destination.as_ref().map(|d| d.name.as_str()).unwrap_or("nowhere");
        actual.push_str(&format!(" (shadow rule `{}`: {to})", sh.rule));
    }
    (passed, actual)
}
