//! The one error type of the store.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("unsupported store url `{0}`: expected `sqlite:PATH` or `postgres://…`")]
    UnsupportedUrl(String),
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The embedded migrations could not be applied.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A JSON column holds something that does not parse (the log was edited
    /// by hand, or written by a newer routec).
    #[error("stored {column} of `{id}` is not valid JSON: {error}")]
    CorruptJson {
        /// Which column.
        column: &'static str,
        /// The row's id.
        id: String,
        /// The parser's message.
        error: String,
    },
    /// An outcome names a decision that is not in the log.
    #[error("unknown decision `{0}`")]
    UnknownDecision(String),
    /// An outcome names a decision made for another ticket.
    #[error("decision `{decision_id}` is for ticket `{decided_ticket}`, not `{ticket_id}`")]
    DecisionTicketMismatch {
        /// The decision named.
        decision_id: String,
        /// The ticket the decision was made for.
        decided_ticket: String,
        /// The ticket the outcome is about.
        ticket_id: String,
    },
    /// A number does not fit the column (a count above `i64::MAX`).
    #[error("{0} is out of range for the store")]
    OutOfRange(&'static str),
    /// The writer task stopped (the runtime is shutting down).
    #[error("the store's writer has stopped")]
    WriterStopped,
}
