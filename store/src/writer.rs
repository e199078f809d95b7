//! Group commit: one task owns every decision write. It takes all the record
//! requests waiting in its bounded queue, writes them in one transaction
//! (multi-row `INSERT … ON CONFLICT (dedup_key) DO NOTHING RETURNING id` in
//! chunks of fixed shapes, then reads back the keys already stored), commits,
//! and only then answers each caller. One fsync then covers hundreds of
//! decisions.
//!
//! The writer is the one serial step of the service, so everything that can
//! happen before it does, on the callers' tasks: ids are drawn and the JSON
//! documents serialised in [`PreparedDecision::new`]. The writer only runs
//! SQL, and after the commit moves each caller's own record into its answer
//! (no copy of the documents).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection as _, Row as _};
use tokio::sync::{mpsc, oneshot};

use crate::id::IdGenerator;
use crate::sql::{
    bigint, decision_from_row, fixed_chunks, millis, parameter_list, value_rows, ShapedSql, DECISION_COLUMNS,
    DECISION_COLUMN_COUNT,
};
use crate::tickets::{self, TicketMove};
use crate::{Backend, NewDecision, Recorded, StoreError, StoredDecision, WriterStats};

/// A decision ready for the writer: its id drawn and its JSON documents
/// serialised once, by the caller.
pub(crate) struct PreparedDecision {
    id: String,
    source: NewDecision,
    policy_version: i64,
    decided_at: i64,
    decision: String,
    shadow: Option<String>,
    ticket: String,
    /// Each outbox item's id and serialised payload, in `source.outbox` order.
    outbox: Vec<(String, String)>,
}

impl PreparedDecision {
    pub(crate) fn new(ids: &IdGenerator, source: NewDecision) -> Result<PreparedDecision, StoreError> {
        Ok(PreparedDecision {
            id: ids.next("dec"),
            policy_version: bigint(source.policy_version, "policy version")?,
            decided_at: millis(source.decided_at),
            decision: source.decision.to_string(),
            shadow: source.shadow.as_ref().map(ToString::to_string),
            ticket: source.ticket.to_string(),
            outbox: source.outbox.iter().map(|item| (ids.next("obx"), item.payload.to_string())).collect(),
            source,
        })
    }

    /// The decision as a read gives it back, made from the record itself.
    fn into_stored(self) -> StoredDecision {
        let source = self.source;
        StoredDecision {
            id: self.id,
            ticket_id: source.ticket_id,
            dedup_key: source.dedup_key,
            content_hash: source.content_hash,
            policy_hash: source.policy_hash,
            policy_name: source.policy_name,
            policy_version: source.policy_version,
            // What a read gives back: the log keeps milliseconds.
            decided_at: crate::sql::timestamp(self.decided_at).unwrap_or(source.decided_at),
            destination: source.destination,
            priority: source.priority,
            escalation: source.escalation,
            decision: source.decision,
            shadow: source.shadow,
            ticket: source.ticket,
        }
    }
}

/// Where a request's answers go.
pub(crate) type Reply = oneshot::Sender<Result<Vec<Recorded>, StoreError>>;

/// Decisions to record in one transaction, and where to send the answer.
pub(crate) struct RecordRequest {
    pub(crate) decisions: Vec<PreparedDecision>,
    pub(crate) reply: Reply,
}

/// What the transaction did with one decision of a group.
enum Written {
    /// Inserted now.
    Fresh,
    /// Its dedup key was already in the log: the decision stored then.
    Before(Box<StoredDecision>),
    /// The same dedup key as the group's decision at this index, which
    /// comes first.
    SameAs(usize),
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
    pub(crate) counters: Arc<Counters>,
    pub(crate) max_group_rows: usize,
    pub(crate) group_delay: Duration,
    /// The connection the groups commit on, kept from one group to the next
    /// while requests keep coming (taking one from the pool pings the
    /// database first: one more round trip per commit). Given back after an
    /// error, and after [`KEEP_CONNECTION_IDLE`] without requests so that
    /// the pool can close.
    pub(crate) connection: Option<PoolConnection<Any>>,
}

/// How long the writer keeps its connection without a request.
const KEEP_CONNECTION_IDLE: Duration = Duration::from_millis(50);

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
    pub(crate) async fn run(mut self, mut queue: mpsc::Receiver<RecordRequest>) {
        loop {
            let next = if self.connection.is_some() {
                match tokio::time::timeout(KEEP_CONNECTION_IDLE, queue.recv()).await {
                    Ok(next) => next,
                    Err(_idle) => {
                        self.connection = None;
                        continue;
                    }
                }
            } else {
                queue.recv().await
            };
            let Some(first) = next else { break };
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

    async fn commit_group(&mut self, group: Vec<RecordRequest>) {
        let result = {
            let all: Vec<&PreparedDecision> = group.iter().flat_map(|r| r.decisions.iter()).collect();
            self.write(&all).await
        };
        match result {
            Ok(written) => {
                for (reply, recorded) in settle(group, written) {
                    self.answer(reply, Ok(recorded));
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
                    let result = {
                        let one: Vec<&PreparedDecision> = request.decisions.iter().collect();
                        self.write(&one).await
                    };
                    match result {
                        Ok(written) => {
                            for (reply, recorded) in settle(vec![request], written) {
                                self.answer(reply, Ok(recorded));
                            }
                        }
                        Err(error) => self.answer(request.reply, Err(error)),
                    }
                }
            }
        }
    }

    fn answer(&self, reply: Reply, result: Result<Vec<Recorded>, StoreError>) {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        // The caller may have given up (its client disconnected); the
        // decision is committed all the same.
        let _ = reply.send(result);
    }

    /// Writes `decisions` in one transaction on the writer's connection;
    /// says, in their order, what became of each.
    async fn write(&mut self, decisions: &[&PreparedDecision]) -> Result<Vec<Written>, StoreError> {
        let mut connection = match self.connection.take() {
            Some(connection) => connection,
            None => self.pool.acquire().await?,
        };
        let written = write_group(&mut connection, self.backend, decisions).await;
        if let Ok(written) = &written {
            let fresh = written.iter().filter(|w| matches!(w, Written::Fresh)).count();
            self.counters.commits.fetch_add(1, Ordering::Relaxed);
            self.counters.decisions.fetch_add(fresh as u64, Ordering::Relaxed);
            // Kept for the next group; after an error it goes back to the
            // pool, which tests it before handing it out again.
            self.connection = Some(connection);
        }
        written
    }
}

/// One group's transaction.
async fn write_group(
    connection: &mut AnyConnection,
    backend: Backend,
    decisions: &[&PreparedDecision],
) -> Result<Vec<Written>, StoreError> {
    // The first request of each dedup key writes; later ones with the
    // same key (in this group) get its result. Keys in sorted order, so
    // that replicas racing on the same keys wait for each other instead
    // of deadlocking.
    let mut first_with_key: HashMap<&str, usize> = HashMap::with_capacity(decisions.len());
    for (index, decision) in decisions.iter().enumerate() {
        first_with_key.entry(decision.source.dedup_key.as_str()).or_insert(index);
    }
    let mut unique: Vec<&PreparedDecision> = first_with_key.values().map(|index| decisions[*index]).collect();
    unique.sort_unstable_by(|a, b| a.source.dedup_key.cmp(&b.source.dedup_key));

    let mut tx = connection.begin_with(begin_write(backend)).await?;
    let inserted = insert_decisions(&mut tx, backend, &unique).await?;
    let conflicting: Vec<&str> = unique
        .iter()
        .filter(|row| !inserted.contains(row.id.as_str()))
        .map(|row| row.source.dedup_key.as_str())
        .collect();
    let mut stored_before = select_by_dedup_keys(&mut tx, backend, &conflicting).await?;
    // In arrival order, so that a ticket decided twice in one group ends
    // where its later decision sends it.
    let fresh: Vec<&PreparedDecision> = decisions
        .iter()
        .enumerate()
        .filter(|(index, row)| {
            first_with_key.get(row.source.dedup_key.as_str()) == Some(index) && inserted.contains(row.id.as_str())
        })
        .map(|(_, row)| *row)
        .collect();
    // Times come from the decisions (the caller's clock), never from
    // here: replays and tests write the same rows.
    let latest_ms = fresh.iter().map(|row| row.decided_at).max().unwrap_or(0);
    insert_outbox(&mut tx, backend, &fresh).await?;
    let moves: Vec<TicketMove<'_>> = fresh
        .iter()
        .filter_map(|row| {
            Some(TicketMove::Decided {
                ticket_id: row.source.ticket_id.as_deref()?,
                destination: row.source.destination.as_deref(),
            })
        })
        .collect();
    tickets::apply(&mut tx, backend, &moves, latest_ms).await?;
    tx.commit().await?;

    decisions
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let key = row.source.dedup_key.as_str();
            match first_with_key.get(key) {
                Some(first) if *first != index => Ok(Written::SameAs(*first)),
                _ if inserted.contains(row.id.as_str()) => Ok(Written::Fresh),
                // Conflicted, yet gone: purged between the two statements.
                _ => stored_before
                    .remove(key)
                    .map(|stored| Written::Before(Box::new(stored)))
                    .ok_or(StoreError::Database(sqlx::Error::RowNotFound)),
            }
        })
        .collect()
}

/// The answers of a committed group, each request's in its order: a fresh
/// decision becomes its answer as it is (moved, not copied).
fn settle(group: Vec<RecordRequest>, written: Vec<Written>) -> Vec<(Reply, Vec<Recorded>)> {
    let mut recorded: Vec<Recorded> = Vec::with_capacity(written.len());
    let mut replies = Vec::with_capacity(group.len());
    let mut written = written.into_iter();
    for request in group {
        replies.push((request.reply, request.decisions.len()));
        for (row, what) in request.decisions.into_iter().zip(written.by_ref()) {
            let answer = match what {
                Written::Fresh => Recorded { decision: row.into_stored(), fresh: true },
                Written::Before(stored) => Recorded { decision: *stored, fresh: false },
                Written::SameAs(first) => match recorded.get(first) {
                    Some(first) => Recorded { decision: first.decision.clone(), fresh: false },
                    // `write` only points back; kept total all the same.
                    None => Recorded { decision: row.into_stored(), fresh: false },
                },
            };
            recorded.push(answer);
        }
    }
    let mut settled = Vec::with_capacity(replies.len());
    for (reply, count) in replies.into_iter().rev() {
        let tail = recorded.split_off(recorded.len().saturating_sub(count));
        settled.push((reply, tail));
    }
    settled.reverse();
    settled
}

static INSERT_DECISIONS: ShapedSql = ShapedSql::new(|_, rows| {
    format!(
        "INSERT INTO decisions ({DECISION_COLUMNS}) VALUES {} ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
        value_rows(rows, DECISION_COLUMN_COUNT)
    )
});

static SELECT_BY_DEDUP_KEYS: ShapedSql = ShapedSql::new(|_, rows| {
    format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE dedup_key IN ({})", parameter_list(1, rows))
});

static INSERT_OUTBOX: ShapedSql = ShapedSql::new(|_, rows| {
    format!(
        "INSERT INTO outbox (id, decision_id, kind, target, payload, idempotency_key, \
         attempts, next_try_at, state, created_at, updated_at) VALUES {}",
        value_rows(rows, OUTBOX_COLUMN_COUNT)
    )
});

const OUTBOX_COLUMN_COUNT: usize = 11;

/// Inserts what is new; returns the ids actually inserted.
async fn insert_decisions(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[&PreparedDecision],
) -> Result<HashSet<String>, StoreError> {
    let mut inserted = HashSet::with_capacity(rows.len());
    for chunk in fixed_chunks(rows) {
        let mut query = sqlx::query(INSERT_DECISIONS.get(backend, chunk.len()));
        for row in chunk {
            let source = &row.source;
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
    for chunk in fixed_chunks(keys) {
        let mut query = sqlx::query(SELECT_BY_DEDUP_KEYS.get(backend, chunk.len()));
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

async fn insert_outbox(
    conn: &mut AnyConnection,
    backend: Backend,
    fresh: &[&PreparedDecision],
) -> Result<(), StoreError> {
    // Due at once: a new item is due when its decision was made.
    let items: Vec<(&PreparedDecision, &crate::NewOutboxItem, &(String, String))> = fresh
        .iter()
        .flat_map(|row| row.source.outbox.iter().zip(&row.outbox).map(|(item, prepared)| (*row, item, prepared)))
        .collect();
    for chunk in fixed_chunks(&items) {
        let mut query = sqlx::query(INSERT_OUTBOX.get(backend, chunk.len()));
        for (row, item, (id, payload)) in chunk {
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
