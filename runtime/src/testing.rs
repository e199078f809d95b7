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
                let dest = decision.destination.as_ref().map(|d| d.name.clone()).unwrap_or_else(|| "nowhere".into());
                let mut passed = true;
                let mut actual = dest.clone();
                if let Some(e) = &t.expect {
                    passed &= hir.destination(e.destination).name == dest;
                    if let Some(p) = e.priority {
                        actual.push_str(&format!(" priority {}", decision.priority));
                        passed &= hir.priority_name(p) == decision.priority;
                    }
                    match e.escalated {
                        Some(want) => {
                            actual.push_str(if decision.escalated() { " escalated" } else { " not escalated" });
                            passed &= want == decision.escalated();
                        }
                        None => {
                            if decision.escalated() {
                                actual.push_str(" escalated");
                            }
                        }
                    }
                    let shadow = decision.mode == Mode::Shadow;
                    if e.shadow || shadow {
                        if shadow {
                            actual.push_str(" shadow");
                        }
                        passed &= e.shadow == shadow;
                    }
                    let fell_back = !decision.fallbacks.is_empty();
                    if e.fallback || fell_back {
                        if fell_back {
                            actual.push_str(" fallback");
                        }
                        passed &= !e.fallback || fell_back;
                    }
                } else {
                    passed = false;
                }
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
