//! The outbox: side effects of a decision, written in its transaction and
//! delivered afterwards by workers (issue 14). A worker claims due items
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas never claim the same
//! row), delivers them, then marks each done, due again later, or dead.
//!
//! A claim is a lease: the item's `next_try_at` moves to the lease's end, so
//! an item whose worker died is claimed again once the lease runs out.
//! Delivery is therefore at least once.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row as _;

use crate::sql::{dialect, millis, parameter_list, parse_json, timestamp};
use crate::writer::begin_write;
use crate::{Backend, Store, StoreError};

pub(crate) const PENDING: &str = "pending";
const DELIVERING: &str = "delivering";
const DONE: &str = "done";
const DEAD: &str = "dead";

const OUTBOX_COLUMNS: &str = "id, decision_id, kind, target, payload, idempotency_key, attempts, \
     next_try_at, state, last_error";

/// Where an outbox item is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    /// Waiting for its next try.
    Pending,
    /// Claimed by a worker until `next_try_at`.
    Delivering,
    /// Delivered.
    Done,
    /// Given up on: too many attempts or a permanent refusal.
    Dead,
}

impl OutboxState {
    fn parse(text: &str) -> Result<OutboxState, StoreError> {
        match text {
            PENDING => Ok(OutboxState::Pending),
            DELIVERING => Ok(OutboxState::Delivering),
            DONE => Ok(OutboxState::Done),
            DEAD => Ok(OutboxState::Dead),
            _ => Err(StoreError::OutOfRange("an outbox state")),
        }
    }
}

/// An outbox row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// `obx_` and a time-ordered unique id.
    pub id: String,
    /// The decision whose transaction wrote it.
    pub decision_id: String,
    /// What to do.
    pub kind: String,
    /// Where.
    pub target: String,
    /// What to send.
    pub payload: serde_json::Value,
    /// Passed to the receiver so that repeats are harmless.
    pub idempotency_key: Option<String>,
    /// Claims so far (this one included, for a claimed item).
    pub attempts: u32,
    /// When it is due (for a claimed item: when its lease ends).
    pub next_try_at: Timestamp,
    /// Where it is in its delivery.
    pub state: OutboxState,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

fn outbox_from_row(row: &AnyRow) -> Result<OutboxItem, StoreError> {
    let id: String = row.try_get(0)?;
    let payload: String = row.try_get(4)?;
    let attempts: i64 = row.try_get(6)?;
    let state: String = row.try_get(8)?;
    Ok(OutboxItem {
        decision_id: row.try_get(1)?,
        kind: row.try_get(2)?,
        target: row.try_get(3)?,
        payload: parse_json(&payload, "payload", &id)?,
        idempotency_key: row.try_get(5)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        next_try_at: timestamp(row.try_get(7)?)?,
        state: OutboxState::parse(&state)?,
        last_error: row.try_get(9)?,
        id,
    })
}

impl Store {
    /// Claims up to `limit` due items (pending, or claimed by a worker whose
    /// lease ran out), oldest due first, for `lease`: their state becomes
    /// `delivering`, their attempts grow by one.
    pub async fn claim_outbox(
        &self,
        limit: u32,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let lease_end = now
            .checked_add(jiff::SignedDuration::try_from(lease).map_err(|_| StoreError::OutOfRange("an outbox lease"))?)
            .map_err(|_| StoreError::OutOfRange("an outbox lease"))?;
        let skip_locked = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut tx = self.pool().begin_with(begin_write(self.backend())).await?;
        let due: Vec<String> = sqlx::query(&format!(
            "SELECT id FROM outbox WHERE state IN ('{PENDING}', '{DELIVERING}') \
             AND next_try_at <= $1 ORDER BY next_try_at, id LIMIT $2{skip_locked}"
        ))
        .bind(millis(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
        if due.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let sql = dialect(
            self.backend(),
            format!(
                "UPDATE outbox SET state = '{DELIVERING}', attempts = attempts + 1, \
             next_try_at = $1, updated_at = $2 WHERE id IN ({}) RETURNING {OUTBOX_COLUMNS}",
                parameter_list(3, due.len())
            ),
        );
        let mut update = sqlx::query(&sql).bind(millis(lease_end)).bind(millis(now));
        for id in &due {
            update = update.bind(id.as_str());
        }
        let rows = update.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let mut items = rows.iter().map(outbox_from_row).collect::<Result<Vec<_>, _>>()?;
        items.sort_by(|a, b| (a.next_try_at, &a.id).cmp(&(b.next_try_at, &b.id)));
        Ok(items)
    }

    /// Marks a claimed item delivered. False when it was not claimed any
    /// more (its lease ran out and another worker holds it).
    pub async fn complete_outbox(&self, id: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.finish_outbox(id, DONE, None, now, now).await
    }

    /// Puts a claimed item back, due again at `next_try_at`, with the error.
    pub async fn retry_outbox(
        &self,
        id: &str,
        error: &str,
        next_try_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.finish_outbox(id, PENDING, Some(error), next_try_at, now).await
    }

    /// Gives up on a claimed item, keeping the error for operators.
    pub async fn dead_outbox(&self, id: &str, error: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.finish_outbox(id, DEAD, Some(error), now, now).await
    }

    async fn finish_outbox(
        &self,
        id: &str,
        state: &str,
        error: Option<&str>,
        next_try_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(&format!(
            "UPDATE outbox SET state = $1, last_error = $2, next_try_at = $3, updated_at = $4 \
             WHERE id = $5 AND state = '{DELIVERING}'"
        ))
        .bind(state)
        .bind(error)
        .bind(millis(next_try_at))
        .bind(millis(now))
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The outbox rows of one decision, oldest first.
    pub async fn decision_outbox(&self, decision_id: &str) -> Result<Vec<OutboxItem>, StoreError> {
        sqlx::query(&format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE decision_id = $1 ORDER BY id"))
            .bind(decision_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(outbox_from_row)
            .collect()
    }
}
