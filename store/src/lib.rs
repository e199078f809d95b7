//! # routec-store
//!
//! The decision log: every decision `routec serve` makes, the outcomes
//! helpdesks report afterwards, the outbox of side effects written in the
//! decision's own transaction, and the open-ticket load per destination. One
//! query layer over SQLite (one process) and PostgreSQL (several replicas).
