//! Generated policies for benchmarks: shaped like `examples/saas-b2b` (a
//! schema, a classifier, priorities, escalations, keyword sets, regexes and a
//! matrix) with as many ordered rules as asked for. Deterministic, so every
//! run measures the same text; used by `routec bench --rules`, the criterion
//! benches and the compiler's examples.

use std::fmt::Write as _;

/// A policy shaped like `examples/saas-b2b`, with `rules` ordered rules.
pub fn policy(rules: usize) -> String {
    let mut s = String::from(
        r#"policy "generated" version 1
ticket {
  id: string
  subject: text
  body: text
  channel: email | chat | web | phone
  page: string?
  waiting: duration?
  ai_turns: int
  customer {
    tier: free | pro | enterprise
    health: number
    seats: int
    vip: bool
  }
}
classifier intent from "models/intent.model" {
  labels billing, technical, account, onboarding, bug_report
  threshold 0.7
  threshold bug_report 0.85
}
priorities P1, P2, P3
priority {
  P1 when text has k0 and customer.tier != free
  P2 when intent == bug_report or text has k1
  P2 when customer.tier == enterprise or body matches re0
  P2 when waiting > 4h
  default P3
}
"#,
    );
    for t in 0..20 {
        let _ = writeln!(s, "team t{t}");
    }
    for k in 0..50 {
        let _ = writeln!(s, "keywords k{k} = [\"word{k}\", \"two words {k}\", \"phrase number {k}\"]");
    }
    for r in 0..10 {
        let _ = writeln!(s, "regex re{r} = \"(?i)code-{r}[0-9]+\"");
    }
    let _ = writeln!(s, "escalate vip when customer.vip or (customer.tier == enterprise and priority == P1) -> t1");
    let _ = writeln!(s, "escalate upset when sentiment < -0.6 and customer.tier != free -> t2");
    let _ = writeln!(s, "escalate unsure when confidence < threshold -> t3");
    let tiers = ["free", "pro", "enterprise"];
    for i in 0..rules {
        let cond = match i % 6 {
            0 => format!("customer.tier == {} and customer.health < {}", tiers[i % 3], i % 100),
            1 => format!("text has k{} or subject matches re{}", i % 50, i % 10),
            2 => format!("intent in [billing, technical] and customer.seats >= {} and not customer.vip", i % 200),
            3 => format!("channel == chat and waiting > {}m or priority == P1", 5 + i % 120),
            4 => format!("page starts_with \"/p{i}\" and confidence < threshold"),
            _ => {
                format!("(customer.tier in [pro, enterprise] or ai_turns > {}) and sentiment < -0.{}", i % 7, 1 + i % 9)
            }
        };
        let rollout = if i % 7 == 0 { " rollout 25%" } else { "" };
        let _ = writeln!(s, "rule r{i} when {cond} -> t{}{rollout}", i % 20);
    }
    s.push_str("matrix intent, customer.tier {\n");
    for intent in ["billing", "technical", "account", "onboarding", "bug_report"] {
        for tier in tiers {
            let _ = writeln!(s, "  {intent}, {tier} -> t{}", (intent.len() + tier.len()) % 20);
        }
    }
    s.push_str("}\notherwise -> t0\n");
    s
}
