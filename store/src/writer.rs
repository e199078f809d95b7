//! Group commit: one task owns every decision write. It takes all the record
//! requests waiting in its bounded queue, writes them in one transaction
//! (multi-row `INSERT … ON CONFLICT (dedup_key) DO NOTHING RETURNING id`, then
//! reads back the keys already stored), commits, and only then answers each
//! caller. One fsync then covers hundreds of decisions.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::AnyPool;
use sqlx::Row as _;
use tokio::sync::{mpsc, oneshot};

use crate::id::IdGenerator;
use crate::sql::{
    bigint, decision_from_row, dialect, millis, parameter_list, value_rows, DECISION_COLUMNS, DECISION_COLUMN_COUNT,
    MAX_PARAMETERS,
};
use crate::tickets::{self, TicketMove};
use crate::{Backend, NewDecision, Recorded, StoreError, StoredDecision, WriterStats};

/// Decisions to record in one transaction, and where to send the answer.
pub(crate) struct RecordRequest {
    pub(crate) decisions: Vec<NewDecision>,
    pub(crate) reply: oneshot::Sender<Result<Vec<Recorded>, StoreError>>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    commits: AtomicU64,
    decisions: AtomicU64,
    requests: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> WriterStats {
        WriterStats {
            commits: self.commits.load(Ordering::Relaxed),
            decisions: self.decisions.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
        }
    }
}

pub(crate) struct Writer {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    pub(crate) ids: Arc<IdGenerator>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) max_group_rows: usize,
    pub(crate) group_delay: Duration,
}

/// The statement that opens a write transaction: SQLite takes its write
/// lock at once (a deferred transaction that reads first could fail with
/// `SQLITE_BUSY` instead of waiting).
pub(crate) fn begin_write(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    }
}

impl Writer {
    /// Runs until every sender is gone, answering each request after its
    /// group's commit.
    pub(crate) async fn run(self, mut queue: mpsc::Receiver<RecordRequest>) {
        while let Some(first) = queue.recv().await {
            if !self.group_delay.is_zero() {
                tokio::time::sleep(self.group_delay).await;
            }
            let mut rows = first.decisions.len();
            let mut group = vec![first];
            while rows < self.max_group_rows {
                match queue.try_recv() {
                    Ok(request) => {
                        rows += request.decisions.len();
                        group.push(request);
                    }
                    Err(_) => break,
                }
            }
            self.commit_group(group).await;
        }
    }

    async fn commit_group(&self, group: Vec<RecordRequest>) {
        let result = {
            let all: Vec<&NewDecision> = group.iter().flat_map(|r| r.decisions.iter()).collect();
            self.write(&all).await
        };
        match result {
            Ok(mut recorded) => {
                for request in group.into_iter().rev() {
                    let tail = recorded.split_off(recorded.len() - request.decisions.len());
                    self.answer(request.reply, Ok(tail));
                }
            }
            Err(error) if group.len() == 1 => {
                if let Some(request) = group.into_iter().next() {
                    self.answer(request.reply, Err(error));
                }
            }
            Err(_) => {
                // One bad request must not fail the others: retry each in a
                // transaction of its own (a row that did commit comes back
                // through its dedup key).
                for request in group {
                    let one: Vec<&NewDecision> = request.decisions.iter().collect();
                    let result = self.write(&one).await;
                    self.answer(request.reply, result);
                }
            }
        }
    }

    fn answer(
        &self,
        reply: oneshot::Sender<Result<Vec<Recorded>, StoreError>>,
        result: Result<Vec<Recorded>, StoreError>,
    ) {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        // The caller may have given up (its client disconnected); the
        // decision is committed all the same.
        let _ = reply.send(result);
    }

    /// Writes `decisions` in one transaction; the answers are in their order.
    async fn write(&self, decisions: &[&NewDecision]) -> Result<Vec<Recorded>, StoreError> {
        // The first request of each dedup key writes; later ones with the
        // same key (in this group) get its result. Keys in sorted order, so
        // that replicas racing on the same keys wait for each other instead
        // of deadlocking.
        let mut first_with_key: HashMap<&str, usize> = HashMap::with_capacity(decisions.len());
        for (index, decision) in decisions.iter().enumerate() {
            first_with_key.entry(decision.dedup_key.as_str()).or_insert(index);
        }
        let mut unique: Vec<usize> = first_with_key.values().copied().collect();
        unique.sort_unstable_by(|a, b| decisions[*a].dedup_key.cmp(&decisions[*b].dedup_key));
        let rows: Vec<DecisionRow> = unique
            .iter()
            .map(|index| DecisionRow::new(self.ids.next("dec"), decisions[*index]))
            .collect::<Result<_, _>>()?;

        let mut tx = self.pool.begin_with(begin_write(self.backend)).await?;
        let inserted = insert_decisions(&mut tx, self.backend, &rows).await?;
        let conflicting: Vec<&str> = rows
            .iter()
            .filter(|row| !inserted.contains(row.id.as_str()))
            .map(|row| row.source.dedup_key.as_str())
            .collect();
        let mut stored_before = select_by_dedup_keys(&mut tx, self.backend, &conflicting).await?;
        let fresh: Vec<&DecisionRow> = rows.iter().filter(|row| inserted.contains(row.id.as_str())).collect();
        // Times come from the decisions (the caller's clock), never from
        // here: replays and tests write the same rows.
        let latest_ms = fresh.iter().map(|row| row.decided_at).max().unwrap_or(0);
        insert_outbox(&mut tx, self.backend, &self.ids, &fresh).await?;
        let moves: Vec<TicketMove<'_>> = fresh
            .iter()
            .filter_map(|row| {
                Some(TicketMove::Decided {
                    ticket_id: row.source.ticket_id.as_deref()?,
                    destination: row.source.destination.as_deref(),
                })
            })
            .collect();
        tickets::apply(&mut tx, self.backend, &moves, latest_ms).await?;
        tx.commit().await?;
        self.counters.commits.fetch_add(1, Ordering::Relaxed);
        self.counters.decisions.fetch_add(fresh.len() as u64, Ordering::Relaxed);

        let mut by_key: HashMap<&str, Recorded> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let key = row.source.dedup_key.as_str();
            let recorded = if inserted.contains(row.id.as_str()) {
                Recorded { decision: row.stored(), fresh: true }
            } else {
                let decision = stored_before.remove(key).ok_or_else(|| {
                    // Conflicted, yet gone: purged between the two statements.
                    StoreError::Database(sqlx::Error::RowNotFound)
                })?;
                Recorded { decision, fresh: false }
            };
            by_key.insert(key, recorded);
        }
        decisions
            .iter()
            .enumerate()
            .map(|(index, decision)| {
                let key = decision.dedup_key.as_str();
                let first = first_with_key.get(key).copied() == Some(index);
                let recorded = by_key.get(key).ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
                Ok(Recorded { decision: recorded.decision.clone(), fresh: first && recorded.fresh })
            })
            .collect()
    }
}

/// A decision about to be inserted, its JSON already serialised.
struct DecisionRow<'a> {
    id: String,
    source: &'a NewDecision,
    policy_version: i64,
    decided_at: i64,
    decision: String,
    shadow: Option<String>,
    ticket: String,
}

impl<'a> DecisionRow<'a> {
    fn new(id: String, source: &'a NewDecision) -> Result<DecisionRow<'a>, StoreError> {
        Ok(DecisionRow {
            id,
            source,
            policy_version: bigint(source.policy_version, "policy version")?,
            decided_at: millis(source.decided_at),
            decision: source.decision.to_string(),
            shadow: source.shadow.as_ref().map(ToString::to_string),
            ticket: source.ticket.to_string(),
        })
    }

    fn stored(&self) -> StoredDecision {
        let source = self.source;
        StoredDecision {
            id: self.id.clone(),
            ticket_id: source.ticket_id.clone(),
            dedup_key: source.dedup_key.clone(),
            content_hash: source.content_hash.clone(),
            policy_hash: source.policy_hash.clone(),
            policy_name: source.policy_name.clone(),
            policy_version: source.policy_version,
            // What a read gives back: the log keeps milliseconds.
            decided_at: crate::sql::timestamp(self.decided_at).unwrap_or(source.decided_at),
            destination: source.destination.clone(),
            priority: source.priority.clone(),
            escalation: source.escalation.clone(),
            decision: source.decision.clone(),
            shadow: source.shadow.clone(),
            ticket: source.ticket.clone(),
        }
    }
}

/// Inserts what is new; returns the ids actually inserted.
async fn insert_decisions(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[DecisionRow<'_>],
) -> Result<HashSet<String>, StoreError> {
    let mut inserted = HashSet::with_capacity(rows.len());
    for chunk in rows.chunks(MAX_PARAMETERS / DECISION_COLUMN_COUNT) {
        let sql = dialect(
            backend,
            format!(
                "INSERT INTO decisions ({DECISION_COLUMNS}) VALUES {} \
             ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                value_rows(chunk.len(), DECISION_COLUMN_COUNT)
            ),
        );
        let mut query = sqlx::query(&sql);
        for row in chunk {
            let source = row.source;
            query = query
                .bind(row.id.as_str())
                .bind(source.dedup_key.as_str())
                .bind(source.ticket_id.as_deref())
                .bind(source.content_hash.as_str())
                .bind(source.policy_hash.as_str())
                .bind(source.policy_name.as_str())
                .bind(row.policy_version)
                .bind(row.decided_at)
                .bind(source.destination.as_deref())
                .bind(source.priority.as_str())
                .bind(source.escalation.as_deref())
                .bind(row.decision.as_str())
                .bind(row.shadow.as_deref())
                .bind(row.ticket.as_str());
        }
        for returned in query.fetch_all(&mut *conn).await? {
            inserted.insert(returned.try_get::<String, _>(0)?);
        }
    }
    Ok(inserted)
}

async fn select_by_dedup_keys(
    conn: &mut AnyConnection,
    backend: Backend,
    keys: &[&str],
) -> Result<HashMap<String, StoredDecision>, StoreError> {
    let mut found = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(MAX_PARAMETERS) {
        let sql = dialect(
            backend,
            format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE dedup_key IN ({})", parameter_list(1, chunk.len())),
        );
        let mut query = sqlx::query(&sql);
        for key in chunk {
            query = query.bind(*key);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let decision = decision_from_row(&row)?;
            found.insert(decision.dedup_key.clone(), decision);
        }
    }
    Ok(found)
}

const OUTBOX_COLUMN_COUNT: usize = 11;

async fn insert_outbox(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &IdGenerator,
    fresh: &[&DecisionRow<'_>],
) -> Result<(), StoreError> {
    // Due at once: a new item is due when its decision was made.
    let items: Vec<(String, &DecisionRow<'_>, &crate::NewOutboxItem, String)> = fresh
        .iter()
        .flat_map(|row| row.source.outbox.iter().map(|item| (ids.next("obx"), *row, item, item.payload.to_string())))
        .collect();
    for chunk in items.chunks(MAX_PARAMETERS / OUTBOX_COLUMN_COUNT) {
        let sql = dialect(
            backend,
            format!(
                "INSERT INTO outbox (id, decision_id, kind, target, payload, idempotency_key, \
             attempts, next_try_at, state, created_at, updated_at) VALUES {}",
                value_rows(chunk.len(), OUTBOX_COLUMN_COUNT)
            ),
        );
        let mut query = sqlx::query(&sql);
        for (id, row, item, payload) in chunk {
            query = query
                .bind(id.as_str())
                .bind(row.id.as_str())
                .bind(item.kind.as_str())
                .bind(item.target.as_str())
                .bind(payload.as_str())
                .bind(item.idempotency_key.as_deref())
                .bind(0_i64)
                .bind(row.decided_at)
                .bind(crate::outbox::PENDING)
                .bind(row.decided_at)
                .bind(row.decided_at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
