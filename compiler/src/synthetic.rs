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

const SUBJECTS: &[&str] = &[
    "Invoice INV-{n} is wrong",
    "Charged twice this month",
    "Cannot log in",
    "The login page just spins forever",
    "API returns error 502",
    "How do I set up SSO with Okta?",
    "Feature request: dark mode",
    "Export to CSV fails",
    "Please add seats to our plan",
    "Our workspace is down",
    "We are not renewing",
    "Question about our contract",
    "Dashboard charts are empty",
    "Import of contacts stuck",
    "Refund for last month",
    "GDPR request for our data",
];

const BODY_WORDS: &str = "hello team we noticed that since yesterday the dashboard shows nothing and our users are \
    confused could you please have a look the invoice total does not match the number of seats we pay for we tried \
    clearing the cache and logging in again but the page keeps loading the integration with salesforce stopped \
    syncing after the last update thanks for your help best regards";

/// `count` tickets for `examples/saas-b2b` as JSON Lines, each about
/// `line_bytes` long, built from the same subjects and body words as
/// `scripts/gen_tickets.py`. Every ticket carries its `signals` (intent,
/// confidence, sentiment, language), so routing them runs no classifier.
pub fn saas_tickets(count: usize, line_bytes: usize) -> Vec<String> {
    let words: Vec<&str> = BODY_WORDS.split_whitespace().collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: usize| -> usize {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    let intents = ["billing", "technical", "onboarding", "feature_request", "bug_report", "account"];
    let tiers = ["free", "pro", "enterprise"];
    let channels = ["email", "chat", "web", "phone"];
    let pages = ["/settings/billing", "/dashboard", "/settings/sso", "/import"];
    (0..count)
        .map(|i| {
            let subject = SUBJECTS[next(SUBJECTS.len())].replace("{n}", &format!("{:06}", next(1_000_000)));
            let page = if next(2) == 0 { format!(r#", "page": "{}""#, pages[next(pages.len())]) } else { String::new() };
            let mut line = format!(
                r#"{{"id": "G-{i:07}", "subject": "{subject}", "channel": "{}", "created_at": "2026-11-23T13:00:00Z", "ai_turns": {}, "ai_resolved": {}, "customer": {{"name": "Customer {}", "email": "c{}@example.com", "tier": "{}", "vip": {}, "health": {}.{}, "seats": {}, "at_risk": false}}{page}, "signals": {{"intent": "{}", "confidence": 0.{}, "sentiment": -0.{}, "language": "en"}}, "body": ""#,
                channels[next(channels.len())],
                [0, 0, 0, 1, 2, 3][next(6)],
                next(5) == 0,
                i % 997,
                i % 997,
                tiers[next(tiers.len())],
                next(33) == 0,
                next(100),
                next(10),
                1 + next(499),
                intents[next(intents.len())],
                30 + next(70),
                next(100),
            );
            let mut first = true;
            while line.len() + 2 < line_bytes {
                if !first {
                    line.push(' ');
                }
                line.push_str(words[next(words.len())]);
                first = false;
            }
            line.push_str("\"}");
            line
        })
        .collect()
}

/// A policy of about `target` lines (what the language server's latency
/// benchmark edits), in the shape of a large real one:
/// a schema with enums, schedules, teams with fallbacks, keyword sets, a
/// classifier, priorities, SLAs, escalations, many rules, a matrix and tests.
pub fn editor_policy(target: usize) -> String {
    let mut s = String::new();
    let intents = ["billing", "technical", "onboarding", "feature_request", "bug_report", "account"];
    let regions = ["us", "eu", "apac", "latam", "mea", "ca", "uk", "anz"];
    s.push_str("policy \"generated\" version 1\nmode enforce\n\n");
    s.push_str("ticket {\n  id: string\n  subject: text\n  body: text\n  channel: email | chat | web | phone\n");
    s.push_str("  page: string?\n  tags: [string]?\n  created_at: time\n  waiting: duration?\n  ai_turns: int\n");
    s.push_str(&format!("  region: {}\n", regions.join(" | ")));
    s.push_str("  customer {\n    name: string\n    tier: free | pro | enterprise\n    vip: bool\n");
    s.push_str("    health: number\n    seats: int\n  }\n}\n\n");
    for i in 0..10 {
        s.push_str(&format!(
            "schedule hours_{i} {{\n  timezone \"America/New_York\"\n  mon-fri 0{}:00-18:00\n  sat 10:00-14:00\n}}\n\n",
            i % 10
        ));
    }
    s.push_str("schedule always { 24x7 }\nteam oncall { hours always }\nqueue human_review\n\n");
    // Per block of the rest: (lines it adds).
    let teams = 120;
    for i in 0..teams {
        s.push_str(&format!(
            "team team_{i} {{\n  hours hours_{}\n  capacity {}\n  skills [\"skill {i}\"]\n  when closed -> oncall\n}}\n",
            i % 10,
            10 + i
        ));
    }
    s.push('\n');
    let sets = 100;
    for i in 0..sets {
        s.push_str(&format!("keywords words_{i} = [\"phrase {i}\", \"other phrase {i}\", \"word{i}\"]\n"));
    }
    s.push_str("\nregex order_number = \"ORD-[0-9]{6}\"\n\n");
    s.push_str(&format!(
        "classifier intent from \"models/intent.model\" {{\n  labels {}\n  features subject, body\n  threshold 0.7\n}}\n\n",
        intents.join(", ")
    ));
    s.push_str("priority {\n  P1 when customer.vip and text has words_0\n  P2 when customer.tier == enterprise\n");
    s.push_str("  P2 when waiting > 4h\n  default P3\n}\n\n");
    s.push_str("sla first_response per customer.tier {\n  P1: 1h\n  P2: 4h\n  P3: 16h business\n");
    s.push_str("  enterprise: P1 15m, P2 1h, P3 4h business\n}\n\n");
    let escalations = 60;
    for i in 0..escalations {
        s.push_str(&format!(
            "escalate esc_{i} when text has words_{} and customer.tier != free -> team_{}\n  priority P1\n  tag \"esc\"\n",
            i % sets,
            i % teams
        ));
    }
    s.push('\n');
    let tests = 150;
    // Lines so far + matrix + otherwise + tests; the rest are rules of 3 lines.
    let test_lines = tests * 6;
    let matrix_lines = intents.len() * 3 + 3;
    let used = s.lines().count() + matrix_lines + 2 + test_lines;
    let rules = target.saturating_sub(used) / 3;
    for i in 0..rules {
        let condition = match i % 4 {
            0 => format!("text has words_{} and region == {}", i % sets, regions[i % regions.len()]),
            1 => format!("intent == {} and customer.seats > {}", intents[i % intents.len()], i % 500),
            2 => format!("subject contains \"case {i}\" or channel == chat"),
            _ => format!("customer.health < {} and region in [eu, uk]", i % 100),
        };
        s.push_str(&format!("rule rule_{i} when {condition} -> team_{}\n  tag \"t{}\"\n\n", i % teams, i % 10));
    }
    s.push_str("matrix intent, customer.tier {\n");
    for (k, intent) in intents.iter().enumerate() {
        for (j, tier) in ["free", "pro", "enterprise"].iter().enumerate() {
            s.push_str(&format!("  {intent}, {tier} -> team_{}\n", (k * 3 + j) % teams));
        }
    }
    s.push_str("}\n\notherwise -> human_review\n\n");
    for i in 0..tests {
        s.push_str(&format!(
            "test \"case {i}\" {{\n  ticket {{ subject: \"case {i}\", customer.tier: pro, region: eu }}\n  signals {{ intent: billing, confidence: 0.9 }}\n  at \"2026-11-24T10:30:00-05:00\"\n  expect team_{}\n}}\n",
            i % teams
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn tickets_are_json_of_the_asked_size() {
        let tickets = super::saas_tickets(50, 1000);
        assert_eq!(tickets.len(), 50);
        for t in &tickets {
            let v: serde_json::Value = serde_json::from_str(t).expect("valid JSON");
            assert!(v["body"].as_str().is_some_and(|b| !b.is_empty()));
            assert!((990..=1010).contains(&t.len()), "{} bytes", t.len());
        }
    }

    #[test]
    fn the_generated_policy_compiles() {
        let mut db = crate::SourceDb::new();
        let root = db.add("generated.route", super::policy(50));
        let compiled = crate::compile_with(db, root, &crate::NoImports, crate::Proofs::Skip);
        assert!(compiled.is_ok(), "{:?}", compiled.err().map(|a| a.diagnostics));
    }
}
