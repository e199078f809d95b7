//! Reading the log back in bulk for analytics (`routec report`, the
//! `/dashboard` page): the decisions of a time window and the outcomes of
//! their tickets, oldest first, and the one row → [`StoredOutcome`] mapping
//! every outcome read shares.

use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row as _;

use crate::sql::{decision_from_row, millis, timestamp, DECISION_COLUMNS};
use crate::{NewOutcome, Store, StoreError, StoredDecision, StoredOutcome};

/// The `outcomes` columns [`outcome_from_row`] reads, in its order.
pub(crate) const OUTCOME_COLUMNS: &str = "id, ticket_id, decision_id, final_destination, reassignments, \
     first_assigned_at, first_response_at, resolved_at, resolved, recorded_at, source";

/// One `outcomes` row, selected as [`OUTCOME_COLUMNS`].
pub(crate) fn outcome_from_row(row: &AnyRow) -> Result<StoredOutcome, StoreError> {
    let optional_time = |value: Option<i64>| value.map(timestamp).transpose();
    let reassignments: Option<i64> = row.try_get(4)?;
    Ok(StoredOutcome {
        id: row.try_get(0)?,
        outcome: NewOutcome {
            ticket_id: row.try_get(1)?,
            decision_id: row.try_get(2)?,
            final_destination: row.try_get(3)?,
            reassignments: reassignments.map(|count| u32::try_from(count).unwrap_or(u32::MAX)),
            first_assigned_at: optional_time(row.try_get(5)?)?,
            first_response_at: optional_time(row.try_get(6)?)?,
            resolved_at: optional_time(row.try_get(7)?)?,
            resolved: row.try_get::<i64, _>(8)? != 0,
            recorded_at: timestamp(row.try_get(9)?)?,
            source: row.try_get(10)?,
        },
    })
}

impl Store {
    /// Every decision decided in `[from, to)`, oldest first.
    pub async fn decisions_between(&self, from: Timestamp, to: Timestamp) -> Result<Vec<StoredDecision>, StoreError> {
        sqlx::query(&format!(
            "SELECT {DECISION_COLUMNS} FROM decisions WHERE decided_at >= $1 AND decided_at < $2 \
             ORDER BY decided_at, id"
        ))
        .bind(millis(from))
        .bind(millis(to))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(decision_from_row)
        .collect()
    }

    /// Every outcome of the tickets decided in `[from, to)` (whenever it was
    /// recorded), oldest first.
    pub async fn outcomes_of_decisions_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<StoredOutcome>, StoreError> {
        sqlx::query(&format!(
            "SELECT {OUTCOME_COLUMNS} FROM outcomes WHERE ticket_id IN \
             (SELECT ticket_id FROM decisions WHERE decided_at >= $1 AND decided_at < $2 AND ticket_id IS NOT NULL) \
             ORDER BY recorded_at, id"
        ))
        .bind(millis(from))
        .bind(millis(to))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(outcome_from_row)
        .collect()
    }
}
