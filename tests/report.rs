//! `routec report` end to end, on a decision log built from the shipped
//! history (`examples/saas-b2b/history.csv`, routed by the example policy):
//! every history row is decided as `routec serve` would have decided it at
//! its creation time (classifier included), and "what the humans finally
//! did" is the decision the same policy makes with the labelled intent,
//! reached after a reassignment when the two differ. Spread over eight
//! weeks with office-hours arrivals and one outage wave of bug reports, so
//! every section has something to show. The log is written as the JSON
//! Lines export `--log` reads; the report's JSON is the snapshot.

use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use routec_classifier::Dataset;
use routec_runtime::{Context, Policy};
use serde_json::{json, Value};

use crate::harness::run;

/// The report's clock: the day after the log's eight weeks.
pub const NOW: &str = "2026-03-02T00:00:00Z";
const START: &str = "2026-01-05T00:00:00Z";
/// Each history row is decided this many times (as different tickets).
const COPIES: usize = 3;

/// SplitMix64: a deterministic stream of pseudo-random numbers per ticket.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn minutes(count: u64) -> SignedDuration {
    SignedDuration::from_mins(i64::try_from(count).expect("small durations"))
}

struct HistoryRow {
    subject: String,
    body: String,
    page: String,
    channel: String,
    tier: String,
    intent: String,
}

fn history() -> Vec<HistoryRow> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = Dataset::load(&[root.join("examples/saas-b2b/history.csv")]).expect("the shipped history loads");
    let column = |name: &str| data.require(name).expect("the history has the column");
    let (subject, body, page, channel, tier, intent) = (
        column("subject"),
        column("body"),
        column("page"),
        column("channel"),
        column("customer.tier"),
        column("intent"),
    );
    (0..data.len())
        .map(|row| {
            let get = |col: usize| data.get(row, col).unwrap_or_default().to_owned();
            HistoryRow {
                subject: get(subject),
                body: get(body),
                page: get(page),
                channel: get(channel),
                tier: get(tier),
                intent: get(intent),
            }
        })
        .collect()
}

/// When ticket `n` arrives: mostly New York office hours on weekdays.
fn arrival(n: u64, start: Timestamp) -> Timestamp {
    let r = mix(n);
    let day = r % 56;
    let hour = if r % 10 < 7 { 13 + (r >> 8) % 10 } else { (r >> 8) % 24 };
    let weekend = matches!(day % 7, 5 | 6);
    let day = if weekend && !r.is_multiple_of(3) { day - 2 } else { day };
    start + minutes(day * 24 * 60 + hour * 60 + (r >> 16) % 60)
}

fn ticket_json(n: u64, row: &HistoryRow, created: Timestamp) -> Value {
    let tier = match row.tier.as_str() {
        "starter" => "free",
        other => other,
    };
    let channel = match row.channel.as_str() {
        "web_form" => "web",
        other => other,
    };
    let mut ticket = json!({
        "id": format!("T-{n:05}"),
        "subject": row.subject,
        "body": row.body,
        "channel": channel,
        "created_at": created.to_string(),
        "ai_turns": 0,
        "ai_resolved": false,
        "customer": {
            "name": format!("Customer {}", n % 97),
            "email": format!("support{}@customer.example", n % 97),
            "tier": tier,
            "vip": n.is_multiple_of(53),
            "health": 40 + n % 60,
            "seats": 5 + n % 400,
            "at_risk": n.is_multiple_of(41),
        },
    });
    if !row.page.is_empty() {
        ticket["page"] = json!(row.page);
    }
    ticket
}

fn decide(policy: &Policy, ticket: Value, at: Timestamp) -> Value {
    let ticket = policy.ticket_from_value(ticket).expect("the history's tickets fit the example's schema");
    serde_json::to_value(policy.route(&ticket, &Context::at(at))).expect("a decision serialises")
}

/// The decision log, as `--log` lines.
pub fn build_log() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let policy = Policy::load(&root.join("examples/saas-b2b/policy.route")).expect("the example policy loads");
    let start: Timestamp = START.parse().expect("a time");
    let now: Timestamp = NOW.parse().expect("a time");
    let rows = history();
    let bug_reports: Vec<usize> = (0..rows.len()).filter(|row| rows[*row].intent == "bug_report").collect();
    // (ticket number, history row, creation time): every row COPIES times,
    // and an outage wave: 24 bug reports on Tuesday of week 7, 15:00-16:00 UTC.
    let mut tickets: Vec<(u64, usize, Timestamp)> = (0..rows.len() * COPIES)
        .map(|n| {
            let n = n as u64;
            (n, (n as usize) % rows.len(), arrival(n, start))
        })
        .collect();
    let wave = start + minutes((6 * 7 + 1) * 24 * 60 + 15 * 60);
    for k in 0..24u64 {
        let n = (rows.len() * COPIES) as u64 + k;
        tickets.push((n, bug_reports[(k as usize * 5) % bug_reports.len()], wave + minutes(k * 2)));
    }
    tickets.sort_by_key(|(n, _, created)| (*created, *n));

    let mut lines = String::new();
    for (n, row, created) in tickets {
        let row = &rows[row];
        let ticket = ticket_json(n, row, created);
        let decided_at = created + SignedDuration::from_secs(1);
        let served = decide(&policy, ticket.clone(), decided_at);
        let mut labelled = ticket.clone();
        labelled["signals"] = json!({"intent": row.intent, "confidence": 0.99, "sentiment": 0.0, "language": "en"});
        let gold = decide(&policy, labelled, decided_at);
        let routed = served["destination"]["name"].as_str().map(str::to_owned);
        let final_destination = gold["destination"]["name"].as_str().map(str::to_owned);
        let decision_id = format!("dec_{n:06}");
        lines.push_str(
            &json!({"decision": {
                "id": decision_id,
                "ticket_id": ticket["id"],
                "dedup_key": format!("{}:{n}", ticket["id"].as_str().unwrap_or_default()),
                "content_hash": format!("{:016x}", mix(n ^ 0xC0FFEE)),
                "policy_hash": served["policy"]["hash"],
                "policy_name": served["policy"]["name"],
                "policy_version": served["policy"]["version"],
                "decided_at": decided_at.to_string(),
                "destination": routed,
                "priority": served["priority"],
                "escalation": served["escalation"]["name"],
                "shadow": served["shadow"],
                "decision": served,
                "ticket": ticket,
            }})
            .to_string(),
        );
        lines.push('\n');

        let r = mix(n ^ 0xABCD);
        let misrouted = routed != final_destination;
        let reassignments = if misrouted { 1 + r % 2 } else { u64::from(r.is_multiple_of(20)) };
        let first_assigned = created + minutes(5 + r % 90 + if misrouted { 150 } else { 0 });
        let resolved_at = first_assigned + minutes(60 + (r >> 8) % (48 * 60) + if misrouted { 24 * 60 } else { 0 });
        let resolved = resolved_at < now;
        let recorded_at = if resolved { resolved_at } else { first_assigned };
        lines.push_str(
            &json!({"outcome": {
                "id": format!("out_{n:06}"),
                "ticket_id": ticket["id"],
                "decision_id": decision_id,
                "final_destination": final_destination,
                "reassignments": reassignments,
                "first_assigned_at": first_assigned.to_string(),
                "first_response_at": (first_assigned + minutes(3)).to_string(),
                "resolved_at": if resolved { Some(resolved_at.to_string()) } else { None },
                "resolved": resolved,
                "recorded_at": recorded_at.to_string(),
                "source": "zendesk",
            }})
            .to_string(),
        );
        lines.push('\n');
    }
    lines
}

/// The log written to a temporary directory, which the caller keeps alive.
pub fn write_log() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("log.jsonl");
    std::fs::write(&path, build_log()).expect("the log is written");
    (dir, path)
}

#[test]
fn report_json_on_the_shipped_history() {
    let (_dir, log) = write_log();
    let log = log.to_string_lossy().into_owned();
    let out = run(&["report", "--log", &log, "--now", NOW, "--since", "60d", "--json"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The source path is a temporary one; the rest is the reviewed report.
    let stdout = out.stdout.replace(&log, "LOG");
    insta::assert_snapshot!(stdout);
    let document: Value = serde_json::from_str(&stdout).expect("--json prints JSON");
    let sections: Vec<&str> =
        document["sections"].as_array().into_iter().flatten().filter_map(|section| section["key"].as_str()).collect();
    assert_eq!(sections, ["summary", "breakdown", "weekly", "misroutes", "shadow", "drift", "volume", "review"]);
}

#[test]
fn report_text_and_html() {
    let (dir, log) = write_log();
    let log = log.to_string_lossy().into_owned();
    let html = dir.path().join("report.html");
    let html_arg = html.to_string_lossy().into_owned();
    let out = run(&["report", "--log", &log, "--now", NOW, "--since", "60d", "--html", &html_arg], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for heading in [
        "── Summary",
        "── Misroutes",
        "── Volume and spikes",
        "misroute rate",
        "▲ bug_report at 2026-02-17: spike 15:00 UTC",
    ] {
        assert!(out.stdout.contains(heading), "`{heading}` missing from\n{}", out.stdout);
    }
    let page = std::fs::read_to_string(&html).expect("--html writes the page");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.matches("<svg").count() >= 6, "every chart is an inline SVG");
}

#[test]
fn the_period_limits_the_report() {
    let (_dir, log) = write_log();
    let log = log.to_string_lossy().into_owned();
    let out = run(&["report", "--log", &log, "--now", NOW, "--since", "7d", "--json"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let document: Value = serde_json::from_str(&out.stdout).expect("JSON");
    let tickets = document["sections"][0]["blocks"][0]["figures"][0]["value"].as_u64().unwrap_or_default();
    let all = run(&["report", "--log", &log, "--now", NOW, "--since", "60d", "--json"], None);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let all: Value = serde_json::from_str(&all.stdout).expect("JSON");
    let total = all["sections"][0]["blocks"][0]["figures"][0]["value"].as_u64().unwrap_or_default();
    // The log spreads its tickets over eight weeks: one week holds about an eighth.
    assert!(tickets > total / 16 && tickets < total / 4, "one week of {total} tickets over eight: {tickets}");
    let before = run(&["report", "--log", &log, "--now", START, "--since", "30d"], None);
    assert_eq!(before.code, 0, "{}", before.stderr);
    assert!(before.stdout.contains("No decision in the period"), "{}", before.stdout);
}

#[test]
fn bad_lines_are_reported_and_the_rest_is_read() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("log.jsonl");
    let first_two: String = build_log().lines().take(2).map(|line| format!("{line}\n")).collect();
    std::fs::write(&path, format!("{{\"neither\": 1}}\nnot json\n{first_two}")).expect("written");
    let path = path.to_string_lossy().into_owned();
    let out = run(&["report", "--log", &path, "--now", NOW, "--since", "60d", "--json"], None);
    assert_eq!(out.code, 3, "bad input is exit code 3: {}", out.stderr);
    assert_eq!(out.stderr.matches("rejected").count(), 2, "{}", out.stderr);
    let document: Value = serde_json::from_str(&out.stdout).expect("the rest is reported");
    assert_eq!(document["sections"][0]["blocks"][0]["figures"][0]["value"], 1);
}

#[test]
fn a_source_is_required() {
    let out = run(&["report"], None);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--db") && out.stderr.contains("--log"), "{}", out.stderr);
}
