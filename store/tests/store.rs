//! The decision log against a real SQLite file and, when
//! `ROUTEC_TEST_POSTGRES` names a server, the same tests against PostgreSQL.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{at, decision, loads, outbox_item, TestDb};
use routec_store::{NewOutcome, OutboxState, PolicyVersion, StoreError};
use serde_json::json;

/// Each test function runs once per backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDb::sqlite();
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = super::TestDb::postgres().await {
                        super::$name(&db).await;
                        db.finish().await;
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    same_key_twice_is_one_row_with_one_id,
    concurrent_records_are_all_committed_in_fewer_commits,
    replicas_racing_on_one_key_get_the_same_decision,
    a_batch_is_one_transaction_with_its_outbox,
    a_large_mixed_batch_is_written_in_fixed_shapes,
    decisions_round_trip_with_shadow_and_millisecond_times,
    outcomes_and_sync_move_the_load,
    outcomes_must_name_a_decision_of_their_ticket,
    retention_purges_old_decisions_and_outcomes,
    reopening_reruns_no_migration_and_keeps_everything,
    outbox_items_are_claimed_once_and_finished,
    policy_versions_are_kept_once_per_hash,
);

async fn same_key_twice_is_one_row_with_one_id(db: &TestDb) {
    let store = db.open().await;
    let first = store.record(decision(Some("t1"), "a", Some("billing"))).await.expect("recorded");
    let mut changed = decision(Some("t1"), "a", Some("sales"));
    changed.priority = "high".to_owned();
    let second = store.record(changed).await.expect("recorded again");
    assert!(first.fresh);
    assert!(!second.fresh);
    assert!(first.decision.id.starts_with("dec_"), "{}", first.decision.id);
    assert_eq!(second.decision, first.decision, "the first stored decision comes back");
    assert_eq!(store.count_decisions().await.expect("count"), 1);
    assert_eq!(store.load().await.expect("load"), loads(&[("billing", 1)]));
}

async fn concurrent_records_are_all_committed_in_fewer_commits(db: &TestDb) {
    let store = db.open().await;
    let before = store.writer_stats();
    let tasks: Vec<_> = (0..64)
        .map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..20 {
                    let ticket = format!("t{task}-{n}");
                    let recorded = store.record(decision(Some(&ticket), "x", Some("support"))).await.expect("recorded");
                    assert!(recorded.fresh);
                    ids.push(recorded.decision.id);
                }
                ids
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for task in tasks {
        ids.extend(task.await.expect("the task finishes"));
    }
    assert_eq!(ids.len(), 1280, "every record has its own id");
    assert_eq!(store.count_decisions().await.expect("count"), 1280);
    let stats = store.writer_stats();
    assert_eq!(stats.decisions - before.decisions, 1280);
    let commits = stats.commits - before.commits;
    assert!(commits < 1280, "group commit batched the records: {commits} commits");
    assert_eq!(store.load().await.expect("load"), loads(&[("support", 1280)]));
}

async fn replicas_racing_on_one_key_get_the_same_decision(db: &TestDb) {
    let one = db.open().await;
    let two = db.open().await;
    for round in 0..20 {
        let content = format!("race{round}");
        let (a, b) = tokio::join!(
            one.record(decision(Some("t1"), &content, Some("a"))),
            two.record(decision(Some("t1"), &content, Some("a"))),
        );
        let (a, b) = (a.expect("replica one records"), b.expect("replica two records"));
        assert_eq!(a.decision.id, b.decision.id, "round {round}");
        assert!(a.fresh != b.fresh, "exactly one wrote, round {round}");
    }
    assert_eq!(one.count_decisions().await.expect("count"), 20);
    assert_eq!(one.load().await.expect("load"), loads(&[("a", 1)]));
}

async fn a_batch_is_one_transaction_with_its_outbox(db: &TestDb) {
    let store = db.open().await;
    let before = store.writer_stats();
    let batch: Vec<_> = (0..300)
        .map(|n| {
            let mut d = decision(Some(&format!("t{n}")), "v1", Some(if n % 3 == 0 { "a" } else { "b" }));
            d.outbox = vec![outbox_item("writeback"), outbox_item("slack")];
            d
        })
        .collect();
    let mut with_repeat = batch.clone();
    with_repeat.push(batch[7].clone());
    let recorded = store.record_batch(with_repeat).await.expect("the batch is recorded");
    assert_eq!(recorded.len(), 301);
    assert!(recorded[..300].iter().all(|r| r.fresh));
    assert!(!recorded[300].fresh, "a key repeated within the batch is stored once");
    assert_eq!(recorded[300].decision.id, recorded[7].decision.id);
    for (sent, got) in batch.iter().zip(&recorded) {
        assert_eq!(got.decision.dedup_key, sent.dedup_key, "answers keep the batch's order");
    }
    let stats = store.writer_stats();
    assert_eq!(stats.commits - before.commits, 1, "one transaction");
    assert_eq!(store.count_decisions().await.expect("count"), 300);
    assert_eq!(store.load().await.expect("load"), loads(&[("a", 100), ("b", 200)]));

    let outbox = store.decision_outbox(&recorded[5].decision.id).await.expect("outbox");
    assert_eq!(outbox.len(), 2);
    assert!(outbox.iter().all(|item| item.id.starts_with("obx_") && item.state == OutboxState::Pending));
    assert_eq!(outbox[0].kind, "writeback");
    assert_eq!(outbox[1].payload, json!({"kind": "slack"}));

    let again = store.record_batch(batch).await.expect("the batch is recorded again");
    assert!(again.iter().all(|r| !r.fresh));
    assert_eq!(again[42].decision.id, recorded[42].decision.id);
    assert_eq!(store.count_decisions().await.expect("count"), 300);
    let outbox = store.decision_outbox(&recorded[5].decision.id).await.expect("outbox");
    assert_eq!(outbox.len(), 2, "a repeat writes no side effect");
}

/// 1,000 rows are cut into statements of 256, 128, … rows: every row must
/// come back in its place, whether new, stored before, or repeated.
async fn a_large_mixed_batch_is_written_in_fixed_shapes(db: &TestDb) {
    let store = db.open().await;
    let earlier: Vec<_> = (0..300).step_by(7).map(|n| decision(Some(&format!("t{n}")), "v1", Some("a"))).collect();
    let earlier = store.record_batch(earlier).await.expect("the earlier decisions are recorded");
    let mut batch: Vec<_> = (0..999).map(|n| decision(Some(&format!("t{n}")), "v1", Some("a"))).collect();
    // Decided again with other content, later in the same batch: it ends at `b`.
    batch.push(decision(Some("t5"), "v2", Some("b")));
    let before = store.writer_stats();
    let recorded = store.record_batch(batch.clone()).await.expect("the batch is recorded");
    assert_eq!(store.writer_stats().commits - before.commits, 1, "one transaction");
    assert_eq!(recorded.len(), 1000);
    for (n, (sent, got)) in batch.iter().zip(&recorded).enumerate() {
        assert_eq!(got.decision.dedup_key, sent.dedup_key, "row {n} answers its own decision");
        assert_eq!(got.decision.ticket, sent.ticket, "row {n}");
        let stored_before = n < 999 && n % 7 == 0 && n < 300;
        assert_eq!(got.fresh, !stored_before, "row {n}");
    }
    assert_eq!(recorded[14].decision.id, earlier[2].decision.id, "a key stored before answers that decision");
    assert_eq!(store.count_decisions().await.expect("count"), 1000);
    assert_eq!(store.load().await.expect("load"), loads(&[("a", 998), ("b", 1)]));
}

async fn decisions_round_trip_with_shadow_and_millisecond_times(db: &TestDb) {
    let store = db.open().await;
    let mut first = decision(Some("t9"), "v1", Some("billing"));
    first.decided_at = at(10).checked_add(jiff::SignedDuration::from_micros(1_234_567)).expect("time");
    first.shadow = Some(json!({"destination": "refunds", "rule": "try-refunds"}));
    first.escalation = Some("oncall".to_owned());
    first.ticket_id = Some("t9".to_owned());
    let mut second = decision(Some("t9"), "v2", None);
    second.decided_at = at(20);
    let other = decision(Some("t10"), "v1", Some("billing"));
    for d in [first.clone(), second.clone(), other] {
        store.record(d).await.expect("recorded");
    }
    let trail = store.ticket_decisions("t9").await.expect("trail");
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0].dedup_key, first.dedup_key, "oldest first");
    assert_eq!(trail[0].decided_at, at(11).checked_add(jiff::SignedDuration::from_millis(234)).expect("time"));
    assert_eq!(trail[0].shadow, first.shadow);
    assert_eq!(trail[0].escalation.as_deref(), Some("oncall"));
    assert_eq!(trail[0].decision, first.decision);
    assert_eq!(trail[0].ticket, first.ticket);
    assert_eq!(trail[0].policy_version, 3);
    assert_eq!(trail[1].destination, None);
    let by_id = store.decision(&trail[1].id).await.expect("read").expect("found");
    assert_eq!(by_id, trail[1]);
    assert_eq!(store.decision("dec_missing").await.expect("read"), None);
    // t9's latest decision sends it nowhere: only t10 is open.
    assert_eq!(store.load().await.expect("load"), loads(&[("billing", 1)]));
}

fn outcome(ticket: &str, final_destination: Option<&str>, resolved: bool) -> NewOutcome {
    NewOutcome {
        ticket_id: ticket.to_owned(),
        decision_id: None,
        final_destination: final_destination.map(str::to_owned),
        reassignments: Some(1),
        first_assigned_at: Some(at(5)),
        first_response_at: None,
        resolved_at: resolved.then(|| at(100)),
        resolved,
        recorded_at: at(100),
        source: "api".to_owned(),
    }
}

async fn outcomes_and_sync_move_the_load(db: &TestDb) {
    let store = db.open().await;
    for (ticket, destination) in [("t1", Some("a")), ("t2", Some("a")), ("t3", Some("b")), ("t4", None)] {
        store.record(decision(Some(ticket), "v1", destination)).await.expect("recorded");
    }
    store.record(decision(None, "anonymous", Some("a"))).await.expect("recorded");
    assert_eq!(store.load().await.expect("load"), loads(&[("a", 2), ("b", 1)]));

    store.record(decision(Some("t1"), "v2", Some("b"))).await.expect("re-decided");
    assert_eq!(store.load().await.expect("load"), loads(&[("a", 1), ("b", 2)]));

    let stored = store.record_outcome(outcome("t2", None, true)).await.expect("resolved");
    assert!(stored.id.starts_with("out_"));
    store.record_outcome(outcome("t2", None, true)).await.expect("resolved again");
    assert_eq!(store.load().await.expect("load"), loads(&[("a", 0), ("b", 2)]));

    store.record_outcome(outcome("t3", Some("c"), false)).await.expect("moved");
    assert_eq!(store.load().await.expect("load"), loads(&[("a", 0), ("b", 1), ("c", 1)]));

    store.set_load(loads(&[("b", 10), ("d", 4)]), at(200)).await.expect("synced");
    assert_eq!(store.load().await.expect("load"), loads(&[("a", 0), ("b", 10), ("c", 1), ("d", 4)]));
    store.record(decision(Some("t5"), "v1", Some("b"))).await.expect("recorded");
    store.record_outcome(outcome("t1", None, true)).await.expect("t1 resolved at b");
    store.record_outcome(outcome("t3", None, true)).await.expect("t3 resolved at c");
    assert_eq!(store.load().await.expect("load"), loads(&[("a", 0), ("b", 10), ("c", 0), ("d", 4)]));
    store.set_load(loads(&[("c", 0)]), at(300)).await.expect("synced");
    store.record_outcome(outcome("t5", None, true)).await.expect("t5 resolved at b");
    store.record_outcome(outcome("t9", Some("c"), true)).await.expect("unknown, resolved");
    assert_eq!(store.load().await.expect("load"), loads(&[("a", 0), ("b", 9), ("c", 0), ("d", 4)]));

    let outcomes = store.ticket_outcomes("t2").await.expect("outcomes");
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0].outcome, outcome("t2", None, true));
}

async fn outcomes_must_name_a_decision_of_their_ticket(db: &TestDb) {
    let store = db.open().await;
    let recorded = store.record(decision(Some("t1"), "v1", Some("a"))).await.expect("recorded");
    let mut unknown = outcome("t1", None, true);
    unknown.decision_id = Some("dec_nope".to_owned());
    assert!(matches!(
        store.record_outcome(unknown).await,
        Err(StoreError::UnknownDecision(id)) if id == "dec_nope"
    ));
    let mut other_ticket = outcome("t2", None, true);
    other_ticket.decision_id = Some(recorded.decision.id.clone());
    assert!(matches!(store.record_outcome(other_ticket).await, Err(StoreError::DecisionTicketMismatch { .. })));
    let mut right = outcome("t1", Some("a"), true);
    right.decision_id = Some(recorded.decision.id.clone());
    let stored = store.record_outcome(right.clone()).await.expect("recorded");
    assert_eq!(stored.outcome, right);
    assert_eq!(store.load().await.expect("load"), loads(&[("a", 0)]));
}

async fn retention_purges_old_decisions_and_outcomes(db: &TestDb) {
    let store = db.open().await;
    let mut old_ids = Vec::new();
    for n in 0..30 {
        let mut d = decision(Some(&format!("old{n}")), "v1", Some("a"));
        d.decided_at = at(n);
        d.outbox = vec![outbox_item("writeback")];
        old_ids.push(store.record(d).await.expect("recorded").decision.id);
    }
    let mut new = decision(Some("new"), "v1", Some("a"));
    new.decided_at = at(1000);
    let new = store.record(new).await.expect("recorded").decision;
    let mut old_outcome = outcome("old3", None, true);
    old_outcome.decision_id = Some(old_ids[3].clone());
    old_outcome.recorded_at = at(40);
    store.record_outcome(old_outcome).await.expect("recorded");
    let mut new_outcome = outcome("old4", None, true);
    new_outcome.decision_id = Some(old_ids[4].clone());
    new_outcome.recorded_at = at(2000);
    store.record_outcome(new_outcome).await.expect("recorded");

    assert_eq!(store.purge_before(at(500)).await.expect("purged"), 30);
    assert_eq!(store.count_decisions().await.expect("count"), 1);
    assert_eq!(store.decision(&old_ids[0]).await.expect("read"), None);
    assert_eq!(store.decision(&new.id).await.expect("read"), Some(new));
    assert!(store.decision_outbox(&old_ids[0]).await.expect("outbox").is_empty());
    assert!(store.ticket_outcomes("old3").await.expect("outcomes").is_empty());
    let kept = store.ticket_outcomes("old4").await.expect("outcomes");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].outcome.decision_id, None, "its decision is gone");
    // The 28 old tickets still open keep counting.
    assert_eq!(store.load().await.expect("load"), loads(&[("a", 29)]));
    assert_eq!(store.purge_before(at(500)).await.expect("purged again"), 0);
}

async fn reopening_reruns_no_migration_and_keeps_everything(db: &TestDb) {
    let store = db.open().await;
    let mut batch: Vec<_> = (0..50).map(|n| decision(Some(&format!("t{n}")), "v1", Some("a"))).collect();
    batch[0].outbox = vec![outbox_item("writeback")];
    let recorded = store.record_batch(batch).await.expect("recorded");
    store.record_outcome(outcome("t1", None, true)).await.expect("recorded");
    store.set_load(loads(&[("z", 3)]), at(10)).await.expect("synced");
    store.close().await;
    drop(store);

    let reopened = db.open().await;
    let again = db.open().await;
    assert_eq!(reopened.count_decisions().await.expect("count"), 50);
    assert_eq!(reopened.load().await.expect("load"), loads(&[("a", 49), ("z", 3)]));
    let first = reopened.decision(&recorded[0].decision.id).await.expect("read");
    assert_eq!(first.as_ref(), Some(&recorded[0].decision));
    assert_eq!(reopened.decision_outbox(&recorded[0].decision.id).await.expect("outbox").len(), 1);
    assert_eq!(again.ticket_outcomes("t1").await.expect("outcomes").len(), 1);
    let repeat = again.record(decision(Some("t7"), "v1", Some("a"))).await.expect("recorded");
    assert!(!repeat.fresh, "dedup keys survive the reopen");
}

async fn outbox_items_are_claimed_once_and_finished(db: &TestDb) {
    let one = db.open().await;
    let two = db.open().await;
    for n in 0..10 {
        let mut d = decision(Some(&format!("t{n}")), "v1", Some("a"));
        d.decided_at = at(n);
        d.outbox = vec![outbox_item("writeback")];
        one.record(d).await.expect("recorded");
    }
    let now = jiff::Timestamp::now();
    let lease = Duration::from_secs(30);
    let (a, b) = tokio::join!(one.claim_outbox(6, now, lease), two.claim_outbox(6, now, lease));
    let (a, b) = (a.expect("claimed"), b.expect("claimed"));
    let claimed: HashSet<&str> = a.iter().chain(&b).map(|item| item.id.as_str()).collect();
    assert_eq!(claimed.len(), a.len() + b.len(), "no item claimed twice");
    assert_eq!(claimed.len(), 10);
    assert!(a.iter().chain(&b).all(|item| item.state == OutboxState::Delivering && item.attempts == 1));
    assert!(one.claim_outbox(10, now, lease).await.expect("claimed").is_empty(), "all leased");

    assert!(one.complete_outbox(&a[0].id, now).await.expect("completed"));
    assert!(!one.complete_outbox(&a[0].id, now).await.expect("completed twice"));
    let retry_at = now.checked_add(jiff::SignedDuration::from_secs(5)).expect("time");
    assert!(one.retry_outbox(&a[1].id, "429 from zendesk", retry_at, now).await.expect("retried"));
    assert!(one.dead_outbox(&a[2].id, "404 ticket gone", now).await.expect("dead"));

    let later = now.checked_add(jiff::SignedDuration::from_secs(10)).expect("time");
    let due = one.claim_outbox(10, later, lease).await.expect("claimed");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, a[1].id);
    assert_eq!(due[0].attempts, 2);
    assert_eq!(due[0].last_error.as_deref(), Some("429 from zendesk"));
    let expired = now.checked_add(jiff::SignedDuration::from_secs(60)).expect("time");
    let reclaimed = two.claim_outbox(20, expired, lease).await.expect("claimed");
    assert_eq!(reclaimed.len(), 8, "leases ran out: all but the done and the dead item");
}

async fn policy_versions_are_kept_once_per_hash(db: &TestDb) {
    let store = db.open().await;
    let version = |hash: &str, n: u64, seconds: i64| PolicyVersion {
        policy_hash: hash.to_owned(),
        policy_name: "support".to_owned(),
        version: n,
        loaded_at: at(seconds),
        source: Some("policy support {}".to_owned()),
    };
    store.record_policy_version(version("h1", 1, 0)).await.expect("recorded");
    store.record_policy_version(version("h2", 2, 10)).await.expect("recorded");
    store.record_policy_version(version("h1", 3, 20)).await.expect("recorded again");
    let versions = store.policy_versions().await.expect("read");
    assert_eq!(versions, vec![version("h1", 1, 0), version("h2", 2, 10)]);
}

#[tokio::test]
async fn sqlite_file_is_created_in_wal_mode() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("fresh.db");
    let store = routec_store::Store::open(&format!("sqlite:{}", path.display()), Default::default())
        .await
        .expect("a missing file is created");
    store.record(decision(Some("t1"), "v1", Some("a"))).await.expect("recorded");
    assert!(path.exists());
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display())).await.expect("the file opens");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut conn).await.expect("journal mode");
    assert_eq!(mode, "wal");
    let missing_dir = dir.path().join("no/such/dir/routec.db");
    let refused = routec_store::Store::open(&format!("sqlite:{}", missing_dir.display()), Default::default()).await;
    assert!(matches!(refused, Err(StoreError::Database(_))), "{refused:?}");
    let refused = routec_store::Store::open("mysql://localhost/routec", Default::default()).await;
    assert!(matches!(refused, Err(StoreError::UnsupportedUrl(_))), "{refused:?}");
}
