//! The pieces of SQL text and row decoding shared by every query: numbered
//! placeholders (`$1`, which SQLite and PostgreSQL both read), multi-row
//! statements of a few fixed shapes (so each is prepared once per connection
//! and reused), the decision columns, time and JSON conversions.

use std::fmt::Write as _;
use std::sync::OnceLock;

use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row as _;

use crate::{Backend, StoreError, StoredDecision};

/// Most bind parameters one statement carries (SQLite allows 32,766,
/// PostgreSQL 65,535).
pub(crate) const MAX_PARAMETERS: usize = 30_000;

/// The columns of `decisions`, in the order [`decision_from_row`] reads.
pub(crate) const DECISION_COLUMNS: &str = "id, dedup_key, ticket_id, content_hash, policy_hash, \
     policy_name, policy_version, decided_at, destination, priority, escalation, decision, shadow, ticket";
pub(crate) const DECISION_COLUMN_COUNT: usize = 14;

/// Most rows one multi-row statement carries. A group of rows is cut into
/// chunks of 256, 128, …, 2, 1 rows ([`fixed_chunks`]), so a statement has
/// one of nine shapes whatever the group's size: each shape is prepared once
/// per connection (sqlx caches prepared statements by their text) instead of
/// a new text, parsed and planned anew, for every group size.
pub(crate) const MAX_CHUNK_ROWS: usize = 256;
const SHAPES: usize = MAX_CHUNK_ROWS.trailing_zeros() as usize + 1;

/// `items` cut into chunks whose lengths are powers of two, largest first,
/// none longer than [`MAX_CHUNK_ROWS`]: at most 8 chunks plus one per 256
/// rows.
pub(crate) fn fixed_chunks<T>(mut items: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if items.is_empty() {
            return None;
        }
        let size = chunk_rows(items.len());
        let (chunk, rest) = items.split_at(size);
        items = rest;
        Some(chunk)
    })
}

/// The largest shape that fits `len` rows (`len` ≥ 1).
fn chunk_rows(len: usize) -> usize {
    if len >= MAX_CHUNK_ROWS {
        MAX_CHUNK_ROWS
    } else {
        1 << (usize::BITS - 1 - len.leading_zeros())
    }
}

/// One statement in each chunk shape, its text built once per backend (in
/// the backend's dialect) on first use.
pub(crate) struct ShapedSql {
    build: fn(Backend, usize) -> String,
    sqlite: OnceLock<Vec<String>>,
    postgres: OnceLock<Vec<String>>,
}

impl ShapedSql {
    /// `build(backend, rows)` writes the statement for `rows` rows with `$N`
    /// placeholders.
    pub(crate) const fn new(build: fn(Backend, usize) -> String) -> ShapedSql {
        ShapedSql { build, sqlite: OnceLock::new(), postgres: OnceLock::new() }
    }

    /// The text for a chunk of `rows` rows, as [`fixed_chunks`] cuts them.
    pub(crate) fn get(&self, backend: Backend, rows: usize) -> &str {
        let texts = match backend {
            Backend::Sqlite => &self.sqlite,
            Backend::Postgres => &self.postgres,
        }
        .get_or_init(|| (0..SHAPES).map(|shape| dialect(backend, (self.build)(backend, 1 << shape))).collect());
        // Not a shape (never with `fixed_chunks`): an empty statement, which
        // the database refuses, rather than a panic.
        texts.get(rows.trailing_zeros() as usize).filter(|_| rows.is_power_of_two()).map_or("", String::as_str)
    }
}

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` parameters each.
pub(crate) fn value_rows(rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "${}", row * columns + column + 1);
        }
        sql.push(')');
    }
    sql
}

/// `$first, $first+1, …` (`count` of them), for an `IN (…)` list.
pub(crate) fn parameter_list(first: usize, count: usize) -> String {
    let mut sql = String::with_capacity(count * 5);
    for index in 0..count {
        if index > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "${}", first + index);
    }
    sql
}

/// The statement for `backend`. Statements are written with `$1`, `$2`, …
/// in textual order; SQLite gets plain `?` instead, because it resolves each
/// `$N` (when parsing and when binding) by a linear search of the names seen
/// so far, which makes a multi-row insert quadratic in its parameters.
pub(crate) fn dialect(backend: Backend, sql: String) -> String {
    match backend {
        Backend::Postgres => sql,
        Backend::Sqlite => {
            let mut out = String::with_capacity(sql.len());
            let mut chars = sql.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                    out.push('?');
                    while chars.peek().is_some_and(char::is_ascii_digit) {
                        chars.next();
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

/// Milliseconds since the Unix epoch: how every time is stored.
pub(crate) fn millis(time: Timestamp) -> i64 {
    time.as_millisecond()
}

/// The inverse of [`millis`].
pub(crate) fn timestamp(millis: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(millis).map_err(|_| StoreError::OutOfRange("a stored time"))
}

/// A `u64` count or version as the `BIGINT` columns hold it.
pub(crate) fn bigint(value: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange(what))
}

pub(crate) fn parse_json(text: &str, column: &'static str, id: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::CorruptJson {
        column,
        id: id.to_owned(),
        error: error.to_string(),
    })
}

/// A row selected with [`DECISION_COLUMNS`].
pub(crate) fn decision_from_row(row: &AnyRow) -> Result<StoredDecision, StoreError> {
    let id: String = row.try_get(0)?;
    let policy_version: i64 = row.try_get(6)?;
    let decision: String = row.try_get(11)?;
    let shadow: Option<String> = row.try_get(12)?;
    let ticket: String = row.try_get(13)?;
    Ok(StoredDecision {
        ticket_id: row.try_get(2)?,
        dedup_key: row.try_get(1)?,
        content_hash: row.try_get(3)?,
        policy_hash: row.try_get(4)?,
        policy_name: row.try_get(5)?,
        policy_version: u64::try_from(policy_version).map_err(|_| StoreError::OutOfRange("a stored policy version"))?,
        decided_at: timestamp(row.try_get(7)?)?,
        destination: row.try_get(8)?,
        priority: row.try_get(9)?,
        escalation: row.try_get(10)?,
        decision: parse_json(&decision, "decision", &id)?,
        shadow: shadow.map(|text| parse_json(&text, "shadow", &id)).transpose()?,
        ticket: parse_json(&ticket, "ticket", &id)?,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(parameter_list(4, 3), "$4, $5, $6");
        let sql = "UPDATE t SET a = $1 WHERE b IN ($2, $3) AND c = '$'".to_owned();
        assert_eq!(dialect(Backend::Sqlite, sql.clone()), "UPDATE t SET a = ? WHERE b IN (?, ?) AND c = '$'");
        assert_eq!(dialect(Backend::Postgres, sql.clone()), sql);
    }

    #[test]
    fn chunks_have_few_fixed_shapes() {
        for len in [1, 2, 3, 31, 32, 33, 255, 256, 257, 1000, 4096] {
            let items: Vec<usize> = (0..len).collect();
            let chunks: Vec<&[usize]> = fixed_chunks(&items).collect();
            assert_eq!(chunks.concat(), items, "the chunks of {len} rows keep every row in order");
            assert!(chunks.iter().all(|c| c.len().is_power_of_two() && c.len() <= MAX_CHUNK_ROWS), "{len}");
            assert!(chunks.len() <= 8 + len / MAX_CHUNK_ROWS, "{len} rows in {} chunks", chunks.len());
        }
        assert_eq!(fixed_chunks::<u8>(&[]).count(), 0);
        let statement = ShapedSql::new(|_, rows| format!("INSERT INTO t (a, b) VALUES {}", value_rows(rows, 2)));
        assert_eq!(statement.get(Backend::Postgres, 2), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
        assert_eq!(statement.get(Backend::Sqlite, 1), "INSERT INTO t (a, b) VALUES (?, ?)");
        assert_eq!(statement.get(Backend::Sqlite, 3), "", "3 rows is no shape");
    }
}
