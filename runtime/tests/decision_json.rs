//! The JSON shape of a `Decision`, pinned: the decision log stores it, so
//! any change of a field's name, type or place shows up here for review
//! (and raises `Decision::SCHEMA_VERSION` when readers would notice).

use routec_runtime::{Context, Decision, Policy, PolicyError};

/// Every part of a decision at once: a priority rule, an escalation whose
/// destination is closed (a fallback) with a handoff, all four kinds of
/// action, keyword hits, given signals, and SLAs in business and calendar time.
const POLICY: &str = r##"policy "decision-shape" version 7

ticket {
  id: string
  subject: text
  body: text
  customer {
    name: string
    tier: free | pro
    at_risk: bool
  }
}

schedule weekdays {
  timezone "Europe/Berlin"
  mon-fri 09:00-17:00
}

schedule always {
  24x7
}

team billing {
  hours weekdays
  when closed -> oncall
}
team oncall { hours always }
queue general { hours always }

keywords financial = ["chargeback", "charged twice"]
keywords angry = ["unacceptable"]

classifier intent from "intent.model" {
  labels billing, other
}

priority {
  P1 when text has financial
  default P2
}

sla first_response {
  P1: 90m business
  P2: 4h
  P3: 2d business
}

escalate payment_dispute when text has financial and customer.tier == pro -> billing
  notify slack "#billing-escalations"
  notify email "billing@example.com"
  create_issue jira "PAY" severity high area "payments"
  tag "payment-dispute"
  set customer.at_risk = true
  handoff customer.name, customer.tier

rule angry_customers when text has angry -> general
otherwise -> general
"##;

const TICKET: &str = r#"{"id": "T-1001", "subject": "Charged twice", "body": "This is unacceptable, we will file a chargeback.", "customer": {"name": "Ada", "tier": "pro", "at_risk": false}, "signals": {"intent": "billing", "confidence": 0.93, "sentiment": -0.8, "language": "en"}}"#;

/// Saturday 12:00 in Berlin: the billing team is closed.
const NOW: &str = "2026-01-10T11:00:00Z";

#[test]
fn a_full_decision_has_the_reviewed_json_shape() {
    let policy = match Policy::compile("decision-shape.route", POLICY) {
        Ok(p) => p,
        Err(PolicyError::Compile(analysis)) => {
            panic!(
                "the policy does not compile: {:#?}",
                analysis.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
            )
        }
        Err(e) => panic!("{e}"),
    };
    let ticket = policy.ticket(TICKET).expect("the ticket is valid");
    let decision = policy.route(&ticket, &Context::at(NOW.parse().expect("an RFC 3339 time")));
    assert_eq!(decision.schema_version, Decision::SCHEMA_VERSION);
    let json = serde_json::to_string_pretty(&decision).expect("a decision serialises");
    insta::assert_snapshot!(format!("policy:\n{POLICY}\nticket:\n{TICKET}\n\nrouted at {NOW}:\n{json}\n"));
}

/// A `shadow` rule matches first: the enforced decision comes from the next
/// rule that matches, and the shadow rule's decision is kept beside it.
const SHADOW_POLICY: &str = r##"policy "shadow-shape" version 1

ticket {
  id: string
  subject: text
  tier: free | pro
}

team billing
ai assistant
queue general

rule ai_billing when subject has ["invoice"] and tier == free -> assistant
  shadow
  tag "ai-candidate"
rule invoices when subject has ["invoice"] -> billing priority P2
otherwise -> general
"##;

#[test]
fn a_shadow_rule_is_recorded_beside_the_enforced_decision() {
    let policy = Policy::compile("shadow-shape.route", SHADOW_POLICY).expect("the policy compiles");
    let ticket = policy.ticket(r#"{"id": "T-7", "subject": "Invoice copy", "tier": "free"}"#).expect("valid");
    let decision = policy.route(&ticket, &Context::at(NOW.parse().expect("an RFC 3339 time")));
    assert_eq!(decision.destination.as_ref().map(|d| d.name.as_str()), Some("billing"));
    let shadow = decision.shadow.as_ref().expect("the shadow rule matched first");
    assert_eq!(shadow.destination.as_ref().map(|d| d.name.as_str()), Some("assistant"));
    let json = serde_json::to_string_pretty(&decision).expect("a decision serialises");
    insta::assert_snapshot!(format!("policy:\n{SHADOW_POLICY}\nrouted at {NOW}:\n{json}\n"));

    // Without a shadow match there is nothing beside the enforced decision.
    let pro = policy.ticket(r#"{"id": "T-8", "subject": "Invoice copy", "tier": "pro"}"#).expect("valid");
    let decision = policy.route(&pro, &Context::at(NOW.parse().expect("an RFC 3339 time")));
    assert_eq!(decision.destination.as_ref().map(|d| d.name.as_str()), Some("billing"));
    assert!(decision.shadow.is_none());
}
