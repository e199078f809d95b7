//! Open-ticket load per destination, kept in the transaction of each decision
//! and outcome: the `tickets` table holds where each known ticket is and
//! whether it is open, the `load` table the count per destination, changed
//! by the difference each transaction makes (and overwritten by
//! [`crate::Store::set_load`]).
//!
//! On PostgreSQL the rows of the tickets a transaction touches are created
//! if missing and locked first, in ticket-id order (`FOR UPDATE`), then the
//! `load` rows in destination order, so that replicas racing on the same
//! ticket count it once and never deadlock. SQLite has one writer (`BEGIN
//! IMMEDIATE`): it reads the rows and writes the changed ones, one statement
//! fewer per transaction.

use std::collections::{BTreeMap, HashMap};

use sqlx::AnyConnection;
use sqlx::Row as _;

use crate::sql::{fixed_chunks, parameter_list, value_rows, ShapedSql};
use crate::{Backend, StoreError};

/// One change to a ticket's place, in the order it happened.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TicketMove<'a> {
    /// A fresh decision: the ticket is open at `destination` (or, without
    /// one, open nowhere).
    Decided { ticket_id: &'a str, destination: Option<&'a str> },
    /// An outcome: resolved tickets leave the load; an unresolved one with a
    /// final destination is open there.
    Outcome { ticket_id: &'a str, final_destination: Option<&'a str>, resolved: bool },
}

impl<'a> TicketMove<'a> {
    fn ticket_id(&self) -> &'a str {
        match *self {
            TicketMove::Decided { ticket_id, .. } | TicketMove::Outcome { ticket_id, .. } => ticket_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    destination: Option<String>,
    open: bool,
}

/// Applies `moves` inside the caller's transaction.
pub(crate) async fn apply(
    conn: &mut AnyConnection,
    backend: Backend,
    moves: &[TicketMove<'_>],
    now_ms: i64,
) -> Result<(), StoreError> {
    if moves.is_empty() {
        return Ok(());
    }
    let mut ticket_ids: Vec<&str> = moves.iter().map(TicketMove::ticket_id).collect();
    ticket_ids.sort_unstable();
    ticket_ids.dedup();

    let before = lock_places(conn, backend, &ticket_ids, now_ms).await?;
    let mut after = before.clone();
    let mut deltas: BTreeMap<String, i64> = BTreeMap::new();
    let closed = Place { destination: None, open: false };
    for step in moves {
        let place = after.entry(step.ticket_id().to_owned()).or_insert_with(|| closed.clone());
        let next = match *step {
            TicketMove::Decided { destination, .. } => {
                Place { destination: destination.map(str::to_owned), open: destination.is_some() }
            }
            TicketMove::Outcome { resolved: true, final_destination, .. } => Place {
                destination: final_destination.map(str::to_owned).or_else(|| place.destination.clone()),
                open: false,
            },
            TicketMove::Outcome { final_destination: Some(destination), .. } => {
                Place { destination: Some(destination.to_owned()), open: true }
            }
            TicketMove::Outcome { final_destination: None, .. } => continue,
        };
        if place.open {
            if let Some(from) = &place.destination {
                *deltas.entry(from.clone()).or_default() -= 1;
            }
        }
        if next.open {
            if let Some(to) = &next.destination {
                *deltas.entry(to.clone()).or_default() += 1;
            }
        }
        *place = next;
    }

    // A ticket without a row before (SQLite creates none up front) differs
    // from `None`, so its row is written.
    let changed: Vec<(&String, &Place)> =
        after.iter().filter(|(ticket_id, place)| before.get(*ticket_id) != Some(place)).collect();
    write_places(conn, backend, &changed, now_ms).await?;
    deltas.retain(|_, delta| *delta != 0);
    add_load(conn, backend, &deltas, now_ms).await
}

static CREATE_MISSING_TICKETS: ShapedSql = ShapedSql::new(|_, rows| {
    format!(
        "INSERT INTO tickets (ticket_id, is_open, updated_at) VALUES {} ON CONFLICT (ticket_id) DO NOTHING",
        value_rows(rows, 3)
    )
});

static SELECT_TICKETS: ShapedSql = ShapedSql::new(|backend, rows| {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    format!(
        "SELECT ticket_id, destination, is_open FROM tickets WHERE ticket_id IN ({}) ORDER BY ticket_id{lock}",
        parameter_list(1, rows)
    )
});

static WRITE_TICKETS: ShapedSql = ShapedSql::new(|_, rows| {
    format!(
        "INSERT INTO tickets (ticket_id, destination, is_open, updated_at) VALUES {} \
         ON CONFLICT (ticket_id) DO UPDATE SET destination = excluded.destination, \
         is_open = excluded.is_open, updated_at = excluded.updated_at",
        value_rows(rows, 4)
    )
});

static ADD_LOAD: ShapedSql = ShapedSql::new(|_, rows| {
    format!(
        "INSERT INTO load (destination, open_tickets, updated_at) VALUES {} \
         ON CONFLICT (destination) DO UPDATE SET \
         open_tickets = load.open_tickets + excluded.open_tickets, updated_at = excluded.updated_at",
        value_rows(rows, 3)
    )
});

/// Reads (and on PostgreSQL, creates if missing and locks) the rows of
/// `ticket_ids`; a ticket without a row is not in the answer.
async fn lock_places(
    conn: &mut AnyConnection,
    backend: Backend,
    ticket_ids: &[&str],
    now_ms: i64,
) -> Result<HashMap<String, Place>, StoreError> {
    let mut places = HashMap::with_capacity(ticket_ids.len());
    for chunk in fixed_chunks(ticket_ids) {
        if backend == Backend::Postgres {
            // A missing row cannot be locked: create it (closed, nowhere)
            // first, so that a replica deciding the same new ticket waits
            // for this transaction instead of counting it a second time.
            let mut insert = sqlx::query(CREATE_MISSING_TICKETS.get(backend, chunk.len()));
            for ticket_id in chunk {
                insert = insert.bind(*ticket_id).bind(0_i64).bind(now_ms);
            }
            insert.execute(&mut *conn).await?;
        }
        let mut select = sqlx::query(SELECT_TICKETS.get(backend, chunk.len()));
        for ticket_id in chunk {
            select = select.bind(*ticket_id);
        }
        for row in select.fetch_all(&mut *conn).await? {
            places.insert(
                row.try_get::<String, _>(0)?,
                Place { destination: row.try_get(1)?, open: row.try_get::<i64, _>(2)? != 0 },
            );
        }
    }
    Ok(places)
}

/// Writes the rows whose place changed, and those new to the table.
async fn write_places(
    conn: &mut AnyConnection,
    backend: Backend,
    changed: &[(&String, &Place)],
    now_ms: i64,
) -> Result<(), StoreError> {
    for chunk in fixed_chunks(changed) {
        let mut query = sqlx::query(WRITE_TICKETS.get(backend, chunk.len()));
        for (ticket_id, place) in chunk {
            query = query
                .bind(ticket_id.as_str())
                .bind(place.destination.as_deref())
                .bind(i64::from(place.open))
                .bind(now_ms);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn add_load(
    conn: &mut AnyConnection,
    backend: Backend,
    deltas: &BTreeMap<String, i64>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let entries: Vec<(&String, &i64)> = deltas.iter().collect();
    for chunk in fixed_chunks(&entries) {
        let mut query = sqlx::query(ADD_LOAD.get(backend, chunk.len()));
        for (destination, delta) in chunk {
            query = query.bind(destination.as_str()).bind(**delta).bind(now_ms);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
