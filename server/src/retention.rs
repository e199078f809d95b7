//! Decision log retention (`--retain 90d`, config `retention`): a
//! background task deletes decisions older than the retention period, once
//! at start and then periodically, until shutdown.

use crate::shutdown::Shutdown;
use routec_store::Store;
use std::time::Duration;

/// How often the purge runs after the first one, at most.
const MAX_INTERVAL: Duration = Duration::from_secs(3600);
/// How often the purge runs after the first one, at least.
const MIN_INTERVAL: Duration = Duration::from_secs(60);

/// Why a retention period was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("retention `{text}`: {reason} (expected a whole number and a unit: `90d`, `12w`, `36h`, `30m`)")]
pub struct RetentionError {
    pub text: String,
    pub reason: &'static str,
}

/// `90d` → 90 days. Units: `w` weeks, `d` days, `h` hours, `m` minutes
/// (days are 24 hours: retention is a privacy bound, not a calendar).
pub fn parse_retention(text: &str) -> Result<Duration, RetentionError> {
    let error = |reason| RetentionError { text: text.to_string(), reason };
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| error("no unit"))?;
    let (number, unit) = trimmed.split_at(split);
    let n: u64 = number.parse().map_err(|_| error("no number"))?;
    let unit_secs = match unit.trim() {
        "w" => 7 * 86_400,
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        _ => return Err(error("unknown unit")),
    };
    if n == 0 {
        return Err(error("zero would delete every decision as soon as it is written"));
    }
    n.checked_mul(unit_secs).map(Duration::from_secs).ok_or_else(|| error("too long"))
}

/// The oldest decision time that is kept when it is `now`.
pub fn cutoff(now: jiff::Timestamp, keep: Duration) -> jiff::Timestamp {
    let keep = jiff::SignedDuration::try_from(keep).unwrap_or(jiff::SignedDuration::MAX);
    now.checked_sub(keep).unwrap_or(jiff::Timestamp::MIN)
}

/// How long between purges: a tenth of the period, between a minute and an hour.
pub fn interval(keep: Duration) -> Duration {
    (keep / 10).clamp(MIN_INTERVAL, MAX_INTERVAL)
}

/// Start the retention task: purge now, then every [`interval`], until `shutdown`.
pub fn spawn(store: Store, keep: Duration, shutdown: Shutdown) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = interval(keep);
        let stopped = shutdown.wait();
        tokio::pin!(stopped);
        loop {
            purge_once(&store, keep, jiff::Timestamp::now()).await;
            tokio::select! {
                () = &mut stopped => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    })
}

/// One purge; failures are logged and retried at the next interval (the
/// store being briefly unreachable must not stop retention for good).
pub async fn purge_once(store: &Store, keep: Duration, now: jiff::Timestamp) -> Option<u64> {
    let before = cutoff(now, keep);
    match store.purge_before(before).await {
        Ok(n) => {
            if n > 0 {
                tracing::info!(purged = n, before = %before, "retention: purged old decisions");
            }
            Some(n)
        }
        Err(e) => {
            tracing::warn!(error = %e, "retention: purge failed; will retry");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_periods_with_units() {
        assert_eq!(parse_retention("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_retention(" 2w "), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_retention("36h"), Ok(Duration::from_secs(36 * 3_600)));
        assert_eq!(parse_retention("30m"), Ok(Duration::from_secs(1_800)));
    }

    #[test]
    fn refuses_what_is_not_a_period() {
        for (text, reason) in [
            ("90", "no unit"),
            ("d", "no number"),
            ("90y", "unknown unit"),
            ("90 days", "unknown unit"),
            ("0d", "zero would delete every decision as soon as it is written"),
            ("-1d", "no number"),
            ("99999999999999999999d", "no number"),
            ("9999999999999999w", "too long"),
        ] {
            assert_eq!(parse_retention(text).map_err(|e| e.reason), Err(reason), "{text}");
        }
    }

    #[test]
    fn cutoff_is_now_minus_the_period() {
        let now: jiff::Timestamp = "2026-12-03T12:00:00Z".parse().expect("a timestamp");
        assert_eq!(cutoff(now, Duration::from_secs(90 * 86_400)).to_string(), "2026-09-04T12:00:00Z");
        assert_eq!(cutoff(now, Duration::MAX), jiff::Timestamp::MIN);
    }

    #[test]
    fn interval_is_bounded() {
        assert_eq!(interval(Duration::from_secs(90 * 86_400)), MAX_INTERVAL);
        assert_eq!(interval(Duration::from_secs(300)), MIN_INTERVAL);
        assert_eq!(interval(Duration::from_secs(6_000)), Duration::from_secs(600));
    }

    fn decision(id: &str, decided_at: &str) -> routec_store::NewDecision {
        routec_store::NewDecision {
            ticket_id: Some(id.into()),
            dedup_key: format!("ticket:{id}"),
            content_hash: "c".into(),
            policy_hash: "p".into(),
            policy_name: "demo".into(),
            policy_version: 1,
            decided_at: decided_at.parse().expect("a timestamp"),
            destination: Some("billing".into()),
            priority: "P2".into(),
            escalation: None,
            decision: serde_json::json!({}),
            shadow: None,
            ticket: serde_json::json!({"id": id}),
            outbox: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_purge_deletes_only_what_is_older_than_the_period() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite:{}", dir.path().join("routec.db").display());
        let store = Store::open(&url, routec_store::StoreOptions::default()).await.expect("the store opens");
        let old = store.record(decision("T-old", "2026-01-01T00:00:00Z")).await.expect("recorded");
        let recent = store.record(decision("T-new", "2026-11-30T00:00:00Z")).await.expect("recorded");
        let now: jiff::Timestamp = "2026-12-03T00:00:00Z".parse().expect("a timestamp");
        assert_eq!(purge_once(&store, Duration::from_secs(90 * 86_400), now).await, Some(1));
        assert_eq!(store.decision(&old.decision.id).await.expect("read"), None);
        assert!(store.decision(&recent.decision.id).await.expect("read").is_some());
        assert_eq!(store.count_decisions().await.expect("count"), 1);
        // Nothing left to purge.
        assert_eq!(purge_once(&store, Duration::from_secs(90 * 86_400), now).await, Some(0));
    }

    #[tokio::test]
    async fn the_task_purges_at_start_and_stops_at_shutdown() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite:{}", dir.path().join("routec.db").display());
        let store = Store::open(&url, routec_store::StoreOptions::default()).await.expect("the store opens");
        store.record(decision("T-ancient", "2000-01-01T00:00:00Z")).await.expect("recorded");
        let shutdown = Shutdown::new();
        let task = spawn(store.clone(), Duration::from_secs(86_400), shutdown.clone());
        let mut polls = 0;
        while store.count_decisions().await.expect("count") > 0 && polls < 500 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            polls += 1;
        }
        assert_eq!(store.count_decisions().await.expect("count"), 0);
        shutdown.trigger();
        task.await.expect("the task ends");
    }
}
