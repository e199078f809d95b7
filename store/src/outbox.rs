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
use crate::{Backend, NewOutboxItem, Store, StoreError};

pub(crate) const PENDING: &str = "pending";
const DELIVERING: &str = "delivering";
const DONE: &str = "done";
const DEAD: &str = "dead";

const OUTBOX_COLUMNS: &str = "id, decision_id, kind, target, payload, idempotency_key, attempts, \
     next_try_at, state, last_error, receipt";

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
    /// The state's name in the store and the API.
    pub fn name(self) -> &'static str {
        match self {
            OutboxState::Pending => PENDING,
            OutboxState::Delivering => DELIVERING,
            OutboxState::Done => DONE,
            OutboxState::Dead => DEAD,
        }
    }

    /// The state named `text` (`pending`, `delivering`, `done`, `dead`).
    pub fn parse(text: &str) -> Result<OutboxState, StoreError> {
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
    /// What the vendor answered when it was delivered (an issue's key and URL).
    pub receipt: Option<serde_json::Value>,
}

fn outbox_from_row(row: &AnyRow) -> Result<OutboxItem, StoreError> {
    let id: String = row.try_get(0)?;
    let payload: String = row.try_get(4)?;
    let attempts: i64 = row.try_get(6)?;
    let state: String = row.try_get(8)?;
    let receipt: Option<String> = row.try_get(10)?;
    Ok(OutboxItem {
        receipt: receipt.map(|text| parse_json(&text, "receipt", &id)).transpose()?,
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

    /// Marks a claimed item delivered, keeps the vendor's `receipt`, and
    /// writes `follow_ups` (side effects of the delivery itself, such as a
    /// note with a created issue's key) for the same decision, all in one
    /// transaction. False, writing nothing, when the item was not claimed
    /// any more.
    pub async fn complete_outbox_with(
        &self,
        id: &str,
        receipt: &serde_json::Value,
        follow_ups: &[NewOutboxItem],
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin_with(begin_write(self.backend())).await?;
        let row = sqlx::query(&format!(
            "UPDATE outbox SET state = '{DONE}', last_error = NULL, receipt = $1, next_try_at = $2, updated_at = $3 \
             WHERE id = $4 AND state = '{DELIVERING}' RETURNING decision_id"
        ))
        .bind(receipt.to_string())
        .bind(millis(now))
        .bind(millis(now))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(false);
        };
        let decision_id: String = row.try_get(0)?;
        for item in follow_ups {
            sqlx::query(&format!(
                "INSERT INTO outbox (id, decision_id, kind, target, payload, idempotency_key, \
                 attempts, next_try_at, state, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 0, $7, '{PENDING}', $8, $9)"
            ))
            .bind(self.inner.ids.next("obx"))
            .bind(decision_id.as_str())
            .bind(item.kind.as_str())
            .bind(item.target.as_str())
            .bind(item.payload.to_string())
            .bind(item.idempotency_key.as_deref())
            .bind(millis(now))
            .bind(millis(now))
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// One outbox item by id.
    pub async fn outbox_item(&self, id: &str) -> Result<Option<OutboxItem>, StoreError> {
        sqlx::query(&format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .map(|row| outbox_from_row(&row))
            .transpose()
    }

    /// Up to `limit` items in `state`, most recently changed first.
    pub async fn outbox_in_state(&self, state: OutboxState, limit: u32) -> Result<Vec<OutboxItem>, StoreError> {
        sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE state = $1 ORDER BY updated_at DESC, id DESC LIMIT $2"
        ))
        .bind(state.name())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(outbox_from_row)
        .collect()
    }

    /// Items per state (states without items are left out).
    pub async fn outbox_counts(&self) -> Result<Vec<(OutboxState, u64)>, StoreError> {
        sqlx::query("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                let state: String = row.try_get(0)?;
                let count: i64 = row.try_get(1)?;
                Ok((OutboxState::parse(&state)?, u64::try_from(count).unwrap_or(0)))
            })
            .collect()
    }

    /// Gives a dead item a new series of attempts: pending, due at `now`,
    /// attempts back to zero (the last error stays for reference). `None`
    /// when there is no such item; `Some(false)` when it is not dead.
    pub async fn requeue_outbox(&self, id: &str, now: Timestamp) -> Result<Option<bool>, StoreError> {
        let done = sqlx::query(&format!(
            "UPDATE outbox SET state = '{PENDING}', attempts = 0, next_try_at = $1, updated_at = $2 \
             WHERE id = $3 AND state = '{DEAD}'"
        ))
        .bind(millis(now))
        .bind(millis(now))
        .bind(id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 1 {
            return Ok(Some(true));
        }
        Ok(self.outbox_item(id).await?.map(|_| false))
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
