//! # routec-store
//!
//! The decision log: every decision `routec serve` makes, the outcomes
//! helpdesks report afterwards, the outbox of side effects written in the
//! decision's own transaction, and the open-ticket load per destination. One
//! query layer over SQLite (one process) and PostgreSQL (several replicas):
//! sqlx's `Any` driver, numbered `$1` placeholders (both databases read
//! them), portable SQL. The only differences between the backends are the
//! connection settings, `BEGIN IMMEDIATE` on SQLite, and the row locks
//! (`FOR UPDATE`, `FOR UPDATE SKIP LOCKED`) only PostgreSQL needs.
//!
//! ## Using it
//!
//! ```no_run
//! # async fn example() -> Result<(), routec_store::StoreError> {
//! use routec_store::{Store, StoreOptions};
//! let store = Store::open("sqlite:/var/lib/routec/routec.db", StoreOptions::default()).await?;
//! // or Store::open("postgres://routec:secret@db.internal/routec", StoreOptions::default())
//! store.ping().await?;
//! # Ok(()) }
//! ```
//!
//! [`Store::open`] creates a missing SQLite file (not its directory), then
//! runs the embedded migrations (`store/migrations/`, applied once each and
//! recorded in `_sqlx_migrations`; replicas starting together on PostgreSQL
//! serialise on an advisory lock). SQLite connections use WAL,
//! `busy_timeout`, `foreign_keys = ON` and the [`Durability`]'s
//! `synchronous` setting.
//!
//! ## What a successful `record` means
//!
//! [`Store::record`] and [`Store::record_batch`] return only after the
//! transaction holding the decision (and its outbox rows, its load change)
//! is committed, with [`Durability::Full`] on stable storage. One writer
//! task does every decision write: it takes all the requests waiting in a
//! bounded queue, writes them in one transaction and commits once (group
//! commit), so one fsync serves many callers; [`Store::writer_stats`]
//! counts the commits. A full queue makes callers wait (back-pressure).
//!
//! Idempotency: `decisions.dedup_key` is unique. Recording a key already in
//! the log writes nothing and returns the stored decision with
//! `fresh: false`, also when two PostgreSQL replicas race on the same key
//! (the unique constraint makes one wait for the other's commit).
//!
//! ## Load: open tickets per destination
//!
//! A ticket (only decisions with a ticket id count) is open at the
//! destination of its latest fresh decision (a decision without a
//! destination leaves it open nowhere). An outcome with `resolved` closes
//! it; an unresolved outcome with a `final_destination` moves it there
//! (open), whether or not routec decided it before. Every such change
//! adjusts the `load` row of the destinations it leaves and enters, in the
//! same transaction, so [`Store::load`] is one small read.
//!
//! [`Store::set_load`] (an external sync, `PUT /v1/load`) overwrites the
//! count of each destination it names, as of that moment: the sync wins
//! then, and every decision and outcome recorded afterwards moves the count
//! from the synced value, until the next sync replaces it again.
//! Destinations the sync does not name keep their own count. A count never
//! reads below zero (a sync can say 0 while tickets routec knew of are
//! still to resolve).
//!
//! ## Schema
//!
//! Times are `BIGINT` milliseconds since the Unix epoch (UTC), so a
//! [`jiff::Timestamp`] comes back at millisecond precision; ids are `TEXT`
//! with a prefix and a time-ordered unique part (48 bits of milliseconds,
//! 80 random bits); JSON documents are `TEXT`.
//!
//! `decisions`, one row per recorded decision:
//!
//! | column | type | meaning |
//! | --- | --- | --- |
//! | `id` | TEXT, primary key | `dec_…` |
//! | `dedup_key` | TEXT, unique | idempotency key: client `Idempotency-Key`, or ticket id + content hash |
//! | `ticket_id` | TEXT, null | the ticket's id (indexed with `decided_at`) |
//! | `content_hash` | TEXT | hash of the ticket as received |
//! | `policy_hash`, `policy_name`, `policy_version` | TEXT, TEXT, BIGINT | the policy version that decided |
//! | `decided_at` | BIGINT | decision time (indexed: retention) |
//! | `destination`, `priority`, `escalation` | TEXT (null), TEXT, TEXT (null) | the enforced decision, for queries |
//! | `decision` | TEXT (JSON) | the full enforced decision with signals and trace, redacted |
//! | `shadow` | TEXT (JSON), null | the shadow decision beside it |
//! | `ticket` | TEXT (JSON) | the ticket, redacted |
//!
//! `outcomes`, what helpdesks report afterwards: `id` (`out_…`),
//! `ticket_id`, `decision_id` (null; set to null when retention removes the
//! decision), `final_destination`, `reassignments` (BIGINT), the times
//! `first_assigned_at`, `first_response_at`, `resolved_at` (BIGINT, null),
//! `resolved` (BIGINT, 0 or 1), `recorded_at`, `source` (`api`, `zendesk`, …).
//!
//! `outbox`, side effects written in the decision's transaction: `id`
//! (`obx_…`), `decision_id` (removed with its decision), `kind`, `target`,
//! `payload` (JSON), `idempotency_key` (null), `attempts`, `next_try_at`
//! (due time, or a claim's lease end), `state` (`pending`, `delivering`,
//! `done`, `dead`), `last_error`, `created_at`, `updated_at`. See
//! [`Store::claim_outbox`].
//!
//! `tickets`, where each known ticket is: `ticket_id` (primary key),
//! `destination` (null), `is_open` (BIGINT, 0 or 1), `updated_at`.
//!
//! `load`, open tickets per destination: `destination` (primary key),
//! `open_tickets` (BIGINT), `synced_at` (last [`Store::set_load`], null if
//! never), `updated_at`.
//!
//! `policy_versions`, each policy version loaded: `policy_hash` (primary
//! key), `policy_name`, `version`, `loaded_at` (first load), `source`
//! (null).
//!
//! ## Retention
//!
//! [`Store::purge_before`] removes decisions (with their outbox rows) and
//! outcomes older than a time, in chunks so the writer is never blocked
//! long, and forgets closed tickets not touched since. Open tickets keep
//! their row: they still count in the load.

mod error;
mod export;
mod id;
mod model;
mod outbox;
mod sql;
mod tickets;
mod writer;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::str::FromStr as _;
use std::sync::Arc;

use jiff::Timestamp;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions as _, Executor as _, Row as _};
use tokio::sync::{mpsc, oneshot};

pub use error::StoreError;
pub use model::{
    Backend, Durability, NewDecision, NewOutboxItem, NewOutcome, PolicyVersion, Recorded, StoreOptions, StoredDecision,
    StoredOutcome, WriterStats,
};
pub use outbox::{OutboxItem, OutboxState};

use export::{outcome_from_row, OUTCOME_COLUMNS};
use id::IdGenerator;
use sql::{bigint, decision_from_row, dialect, millis, timestamp, DECISION_COLUMNS};
use tickets::TicketMove;
use writer::{begin_write, Counters, RecordRequest, Writer};

/// The migrations, embedded: `(version, description, SQL)`.
const MIGRATIONS: &[(i64, &str, &str)] = &[(1, "decision log", include_str!("../migrations/0001_decision_log.sql"))];

/// Rows one retention statement deletes, so that the writer waits briefly.
const PURGE_CHUNK: i64 = 5_000;

/// The decision log. Cheap to clone: every clone shares one pool and one
/// group-commit writer.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: AnyPool,
    backend: Backend,
    queue: mpsc::Sender<RecordRequest>,
    counters: Arc<Counters>,
    ids: Arc<IdGenerator>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.inner.backend).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating a missing SQLite file) and migrates the store at
    /// `url`: `sqlite:PATH` (`sqlite://PATH` too) or `postgres://…`
    /// (`postgresql://…`). Must run inside a Tokio runtime: it starts the
    /// group-commit writer task.
    pub async fn open(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, connect) = connect_options(url)?;
        let session = session_settings(backend, &options);
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .after_connect(move |conn, _meta| {
                let session = session.clone();
                Box::pin(async move {
                    for statement in session.iter() {
                        conn.execute(statement.as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(connect)
            .await?;
        migrator().run(&pool).await?;

        let counters = Arc::new(Counters::default());
        let ids = Arc::new(IdGenerator::default());
        let (queue, receiver) = mpsc::channel(options.queue_capacity.max(1));
        let writer = Writer {
            pool: pool.clone(),
            backend,
            ids: Arc::clone(&ids),
            counters: Arc::clone(&counters),
            max_group_rows: options.max_group_rows.max(1),
            group_delay: options.group_delay,
        };
        tokio::spawn(writer.run(receiver));
        Ok(Store { inner: Arc::new(Inner { pool, backend, queue, counters, ids }) })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }

    /// Records one decision; returns once it is durably committed (group
    /// commit). A `dedup_key` already in the log writes nothing and returns
    /// the stored decision with `fresh: false`.
    pub async fn record(&self, decision: NewDecision) -> Result<Recorded, StoreError> {
        self.record_batch(vec![decision]).await?.pop().ok_or(StoreError::WriterStopped)
    }

    /// Records decisions in one transaction (all or none); the answers are
    /// in their order. Within the batch, a repeated `dedup_key` is stored once.
    pub async fn record_batch(&self, decisions: Vec<NewDecision>) -> Result<Vec<Recorded>, StoreError> {
        if decisions.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.inner.queue.send(RecordRequest { decisions, reply }).await.map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Counters of the group-commit writer.
    pub fn writer_stats(&self) -> WriterStats {
        self.inner.counters.snapshot()
    }

    /// One decision by id.
    pub async fn decision(&self, id: &str) -> Result<Option<StoredDecision>, StoreError> {
        sqlx::query(&format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .map(|row| decision_from_row(&row))
            .transpose()
    }

    /// Every decision recorded for a ticket, oldest first: the audit trail.
    pub async fn ticket_decisions(&self, ticket_id: &str) -> Result<Vec<StoredDecision>, StoreError> {
        sqlx::query(&format!(
            "SELECT {DECISION_COLUMNS} FROM decisions WHERE ticket_id = $1 \
             ORDER BY decided_at, id"
        ))
        .bind(ticket_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(decision_from_row)
        .collect()
    }

    /// Records an outcome and moves the ticket in the load, in one
    /// transaction. A `decision_id` must name a decision of the same ticket.
    pub async fn record_outcome(&self, outcome: NewOutcome) -> Result<StoredOutcome, StoreError> {
        if let Some(decision_id) = &outcome.decision_id {
            let row = sqlx::query("SELECT ticket_id FROM decisions WHERE id = $1")
                .bind(decision_id.as_str())
                .fetch_optional(self.pool())
                .await?
                .ok_or_else(|| StoreError::UnknownDecision(decision_id.clone()))?;
            let decided_ticket: Option<String> = row.try_get(0)?;
            if decided_ticket.as_deref() != Some(outcome.ticket_id.as_str()) {
                return Err(StoreError::DecisionTicketMismatch {
                    decision_id: decision_id.clone(),
                    decided_ticket: decided_ticket.unwrap_or_default(),
                    ticket_id: outcome.ticket_id.clone(),
                });
            }
        }
        let id = self.inner.ids.next("out");
        let reassignments = outcome.reassignments.map(i64::from);
        let mut tx = self.pool().begin_with(begin_write(self.backend())).await?;
        sqlx::query(
            "INSERT INTO outcomes (id, ticket_id, decision_id, final_destination, reassignments, \
             first_assigned_at, first_response_at, resolved_at, resolved, recorded_at, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id.as_str())
        .bind(outcome.ticket_id.as_str())
        .bind(outcome.decision_id.as_deref())
        .bind(outcome.final_destination.as_deref())
        .bind(reassignments)
        .bind(outcome.first_assigned_at.map(millis))
        .bind(outcome.first_response_at.map(millis))
        .bind(outcome.resolved_at.map(millis))
        .bind(i64::from(outcome.resolved))
        .bind(millis(outcome.recorded_at))
        .bind(outcome.source.as_str())
        .execute(&mut *tx)
        .await?;
        let step = TicketMove::Outcome {
            ticket_id: &outcome.ticket_id,
            final_destination: outcome.final_destination.as_deref(),
            resolved: outcome.resolved,
        };
        tickets::apply(&mut tx, self.backend(), &[step], millis(outcome.recorded_at)).await?;
        tx.commit().await?;
        Ok(StoredOutcome { id, outcome: at_millisecond_precision(outcome)? })
    }

    /// Every outcome recorded for a ticket, oldest first.
    pub async fn ticket_outcomes(&self, ticket_id: &str) -> Result<Vec<StoredOutcome>, StoreError> {
        sqlx::query(&format!("SELECT {OUTCOME_COLUMNS} FROM outcomes WHERE ticket_id = $1 ORDER BY recorded_at, id"))
            .bind(ticket_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(outcome_from_row)
            .collect()
    }

    /// Open tickets per destination (see the crate docs for the arithmetic).
    pub async fn load(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        sqlx::query("SELECT destination, open_tickets FROM load ORDER BY destination")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get::<i64, _>(1)?.max(0))))
            .collect()
    }

    /// Overwrites the count of each destination named, as of `now` (an
    /// external sync). Later decisions and outcomes move it from there.
    pub async fn set_load(&self, counts: BTreeMap<String, i64>, now: Timestamp) -> Result<(), StoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        let entries: Vec<(&String, &i64)> = counts.iter().collect();
        let mut tx = self.pool().begin_with(begin_write(self.backend())).await?;
        for chunk in entries.chunks(sql::MAX_PARAMETERS / 4) {
            let statement = dialect(
                self.backend(),
                format!(
                    "INSERT INTO load (destination, open_tickets, synced_at, updated_at) VALUES {} \
                 ON CONFLICT (destination) DO UPDATE SET open_tickets = excluded.open_tickets, \
                 synced_at = excluded.synced_at, updated_at = excluded.updated_at",
                    sql::value_rows(chunk.len(), 4)
                ),
            );
            let mut query = sqlx::query(&statement);
            for (destination, count) in chunk {
                query = query.bind(destination.as_str()).bind((**count).max(0)).bind(millis(now)).bind(millis(now));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a loaded policy version (once per hash; the first load time
    /// stays).
    pub async fn record_policy_version(&self, version: PolicyVersion) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO policy_versions (policy_hash, policy_name, version, loaded_at, source) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (policy_hash) DO NOTHING",
        )
        .bind(version.policy_hash.as_str())
        .bind(version.policy_name.as_str())
        .bind(bigint(version.version, "policy version")?)
        .bind(millis(version.loaded_at))
        .bind(version.source.as_deref())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The policy versions recorded, oldest load first.
    pub async fn policy_versions(&self) -> Result<Vec<PolicyVersion>, StoreError> {
        sqlx::query(
            "SELECT policy_hash, policy_name, version, loaded_at, source FROM policy_versions \
             ORDER BY loaded_at, policy_hash",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            let version: i64 = row.try_get(2)?;
            Ok(PolicyVersion {
                policy_hash: row.try_get(0)?,
                policy_name: row.try_get(1)?,
                version: u64::try_from(version).map_err(|_| StoreError::OutOfRange("a stored policy version"))?,
                loaded_at: timestamp(row.try_get(3)?)?,
                source: row.try_get(4)?,
            })
        })
        .collect()
    }

    /// Retention: removes decisions decided before `before` (their outbox
    /// rows with them), outcomes recorded before it, and closed tickets not
    /// touched since. Returns how many decisions went.
    pub async fn purge_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        let cutoff = millis(before);
        let chunked = |table: &str, time: &str| {
            format!(
                "DELETE FROM {table} WHERE id IN \
                 (SELECT id FROM {table} WHERE {time} < $1 LIMIT $2)"
            )
        };
        let mut decisions = 0;
        for (statement, counts) in
            [(chunked("decisions", "decided_at"), true), (chunked("outcomes", "recorded_at"), false)]
        {
            loop {
                let deleted =
                    sqlx::query(&statement).bind(cutoff).bind(PURGE_CHUNK).execute(self.pool()).await?.rows_affected();
                if counts {
                    decisions += deleted;
                }
                if deleted < PURGE_CHUNK as u64 {
                    break;
                }
            }
        }
        sqlx::query("DELETE FROM tickets WHERE is_open = 0 AND updated_at < $1")
            .bind(cutoff)
            .execute(self.pool())
            .await?;
        Ok(decisions)
    }

    /// Decisions in the log.
    pub async fn count_decisions(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM decisions").fetch_one(self.pool()).await?.try_get(0)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Closes the pool once every clone's pending work is done. Later calls
    /// fail.
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }
}

/// Parses the store URL into the backend and its connection options.
fn connect_options(url: &str) -> Result<(Backend, AnyConnectOptions), StoreError> {
    let unsupported = || StoreError::UnsupportedUrl(url.to_owned());
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = AnyConnectOptions::from_str(url)?;
        return Ok((Backend::Postgres, options));
    }
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).ok_or_else(unsupported)?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() {
        return Err(unsupported());
    }
    let sqlite = if path == ":memory:" {
        SqliteConnectOptions::from_str("sqlite::memory:")?
    } else {
        // Absolute, so that the URL the `Any` driver gets back is unambiguous.
        let path = std::path::absolute(path).map_err(|_| unsupported())?;
        SqliteConnectOptions::new().filename(path).create_if_missing(true)
    };
    let options = AnyConnectOptions::from_url(&sqlite.to_url_lossy())?;
    Ok((Backend::Sqlite, options))
}

/// Statements every new connection runs.
fn session_settings(backend: Backend, options: &StoreOptions) -> Arc<Vec<String>> {
    let statements = match (backend, options.durability) {
        (Backend::Sqlite, durability) => vec![
            format!("PRAGMA busy_timeout = {}", options.busy_timeout.as_millis()),
            "PRAGMA journal_mode = WAL".to_owned(),
            "PRAGMA foreign_keys = ON".to_owned(),
            match durability {
                Durability::Full => "PRAGMA synchronous = FULL".to_owned(),
                Durability::Normal => "PRAGMA synchronous = NORMAL".to_owned(),
            },
        ],
        (Backend::Postgres, Durability::Full) => Vec::new(),
        (Backend::Postgres, Durability::Normal) => {
            vec!["SET synchronous_commit = off".to_owned()]
        }
    };
    Arc::new(statements)
}

fn migrator() -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, Cow::Borrowed(*sql), false)
        })
        .collect::<Vec<_>>();
    Migrator { migrations: Cow::Owned(migrations), ..Migrator::DEFAULT }
}

/// The outcome as a read gives it back: times at millisecond precision.
fn at_millisecond_precision(mut outcome: NewOutcome) -> Result<NewOutcome, StoreError> {
    let round = |time: Timestamp| timestamp(millis(time));
    outcome.first_assigned_at = outcome.first_assigned_at.map(round).transpose()?;
    outcome.first_response_at = outcome.first_response_at.map(round).transpose()?;
    outcome.resolved_at = outcome.resolved_at.map(round).transpose()?;
    outcome.recorded_at = round(outcome.recorded_at)?;
    Ok(outcome)
}
