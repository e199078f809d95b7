//! Reading the log back for retraining (`routec train --from-log`): the
//! tickets resolved since a time, each with the destination a human finally
//! chose and the ticket as routec decided it.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;

use crate::sql::{millis, parse_json, timestamp};
use crate::{Store, StoreError};

/// A resolved ticket and where it ended up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedTicket {
    /// The ticket's id.
    pub ticket_id: String,
    /// The ticket as routec decided it (redacted as it was logged).
    pub ticket: serde_json::Value,
    /// routec's destination for it.
    pub decided_destination: Option<String>,
    /// The destination a human finally chose.
    pub final_destination: String,
    /// When it was resolved (when the outcome was recorded, if the helpdesk
    /// reported no resolution time).
    pub resolved_at: Timestamp,
}

impl Store {
    /// Every ticket resolved at or after `since` with a final destination
    /// and a logged decision, oldest resolution first. The decision is the
    /// one the outcome names, else the ticket's latest. A ticket resolved
    /// more than once (reopened) appears once, at its last resolution.
    pub async fn resolved_since(&self, since: Timestamp) -> Result<Vec<ResolvedTicket>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.ticket_id, o.final_destination, COALESCE(o.resolved_at, o.recorded_at) AS closed_at, \
             d.id, d.ticket, d.destination \
             FROM outcomes o JOIN decisions d ON d.id = COALESCE(o.decision_id, \
               (SELECT d2.id FROM decisions d2 WHERE d2.ticket_id = o.ticket_id \
                ORDER BY d2.decided_at DESC, d2.id DESC LIMIT 1)) \
             WHERE o.resolved = 1 AND o.final_destination IS NOT NULL \
               AND COALESCE(o.resolved_at, o.recorded_at) >= $1 \
             ORDER BY closed_at, o.id",
        )
        .bind(millis(since))
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<ResolvedTicket> = Vec::with_capacity(rows.len());
        let mut at: HashMap<String, usize> = HashMap::new();
        for row in &rows {
            let decision_id: String = row.try_get(3)?;
            let ticket: String = row.try_get(4)?;
            let resolved = ResolvedTicket {
                ticket_id: row.try_get(0)?,
                final_destination: row.try_get(1)?,
                resolved_at: timestamp(row.try_get(2)?)?,
                ticket: parse_json(&ticket, "ticket", &decision_id)?,
                decided_destination: row.try_get(5)?,
            };
            match at.get(&resolved.ticket_id) {
                Some(&k) => out[k] = resolved,
                None => {
                    at.insert(resolved.ticket_id.clone(), out.len());
                    out.push(resolved);
                }
            }
        }
        // A reopened ticket keeps its first place: order by the resolution kept.
        out.sort_by(|a, b| a.resolved_at.cmp(&b.resolved_at).then_with(|| a.ticket_id.cmp(&b.ticket_id)));
        Ok(out)
    }
}
