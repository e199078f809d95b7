//! Properties of replay over generated histories: a policy replayed against
//! itself changes no decision, and the report does not depend on how many
//! threads route or how the history is cut into chunks.

use proptest::prelude::*;
use routec_analytics::{history, replay};
use routec_runtime::Policy;

const POLICY: &str = r#"
policy "props" version 1
ticket {
  id: string
  subject: text
  created_at: time
  customer { tier: free | pro | enterprise }
}
schedule office {
  timezone "Europe/Berlin"
  mon-fri 09:00-17:00
}
team billing { hours office  capacity 2  when closed -> oncall }
team support { hours office  when closed -> oncall }
schedule always { 24x7 }
team oncall { hours always }
keywords money = ["invoice", "refund"]
priority {
  P1 when customer.tier == enterprise
  default P2
}
sla resolution { P1: 4h  P2: 8h business  P3: 16h business }
rule money when subject has money -> billing
matrix customer.tier {
  free | pro -> support
  enterprise -> oncall
}
"#;

fn history_csv(rows: &[(u8, u8, u32)]) -> String {
    let mut csv = String::from("id,subject,created_at,customer.tier,final_destination,resolved_at\n");
    for (i, (tier, words, minutes)) in rows.iter().enumerate() {
        let tier = ["free", "pro", "enterprise"][*tier as usize % 3];
        let subject = ["a refund please", "login broken", "invoice, twice", "\"quoted\" problem"][*words as usize % 4];
        let created = jiff::Timestamp::from_second(1_795_000_000 + i64::from(*minutes) * 60).expect("a time");
        let resolved = created + jiff::SignedDuration::from_hours(i64::from(*minutes % 12));
        let fin = ["billing", "support", "oncall"][(*minutes as usize) % 3];
        csv.push_str(&format!("T-{i},\"{}\",{created},{tier},{fin},{resolved}\n", subject.replace('"', "\"\"")));
    }
    csv
}

fn run(policy: &Policy, against: Option<&Policy>, csv: &str, workers: usize, chunk: usize) -> replay::Report {
    let opened = history::open(csv.as_bytes(), history::Format::Csv, history::Mapping::default()).expect("opens");
    let options = replay::Options { workers, chunk, examples: 3 };
    replay::replay(opened, policy, against, &options, &mut |_: u64, _: u64| {}).expect("replays")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_policy_replayed_against_itself_changes_nothing(rows in prop::collection::vec((0u8..3, 0u8..4, 0u32..20_000), 1..200)) {
        let policy = Policy::compile("props.route", POLICY).expect("the policy compiles");
        let report = run(&policy, Some(&policy), &history_csv(&rows), 2, 7);
        let changes = report.changes.expect("--against gives changes");
        prop_assert_eq!(changes.changed, 0);
        prop_assert!(changes.groups.is_empty());
        prop_assert_eq!(changes.old_agreement, report.agreement);
        prop_assert_eq!(report.tickets.replayed, rows.len() as u64);
    }

    #[test]
    fn threads_and_chunks_do_not_change_the_report(rows in prop::collection::vec((0u8..3, 0u8..4, 0u32..20_000), 1..200), chunk in 1usize..50) {
        let policy = Policy::compile("props.route", POLICY).expect("the policy compiles");
        let csv = history_csv(&rows);
        prop_assert_eq!(run(&policy, None, &csv, 1, 4096), run(&policy, None, &csv, 3, chunk));
    }
}
