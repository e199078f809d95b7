//! # routec-runtime
//!
//! Embed routec policies in a service: compile or load a `.route` policy,
//! validate tickets against its schema, and route them. Every decision says
//! where the ticket goes, how urgent it is, when the first response is due,
//! whether it escalated, which fallbacks were taken, and which lines of the
//! policy decided it.
//!
//! ```
//! use routec_runtime::{Context, Policy, Ticket};
//!
//! let policy = Policy::compile("inline.route", r#"
//! policy "demo" version 1
//! ticket { subject: text  tier: free | pro }
//! queue general
//! team billing
//! rule invoices when subject has ["invoice", "refund"] -> billing
//! otherwise -> general
//! "#).expect("the policy compiles");
//! let ticket = policy.ticket(r#"{"subject": "Refund please", "tier": "pro"}"#).expect("a valid ticket");
//! let decision = policy.route(&ticket, &Context::at("2026-01-07T15:00:00Z".parse().unwrap()));
//! assert_eq!(decision.destination.unwrap().name, "billing");
//! ```
//!
//! ## The map
//!
//! - [`Policy`] (`policy.rs`): compile or load, choose the [`EngineKind`],
//!   validate a [`Ticket`], [`Policy::route`] it in a [`Context`].
//!   Loading fails with a [`PolicyError`]; choosing an engine with an
//!   [`EngineError`].
//! - `ticket.rs`: JSON → validated [`Ticket`], or a [`TicketError`] with the
//!   field path, what was expected and what was found.
//! - [`decision`]: the [`Decision`] record, the runtime's own plain data,
//!   whose JSON is versioned ([`Decision::SCHEMA_VERSION`]); and how it is
//!   built from an engine's raw outcome.
//! - `signals/`: the ticket's text → the signal block the engines read.
//! - `schedule.rs`: opening hours and business-time SLA arithmetic.
//! - `testing.rs`: [`Policy::run_tests`], a policy's `test` blocks.
//! - [`advanced`]: engine internals for benchmarks and tools; unstable.
//! - [`FsLoader`]: imports and model labels from disk, for the compiler.
//!
//! `Policy::route` never fails for rule-level reasons: a ticket that
//! matches nothing gets `destination: None`, a closed destination without
//! fallback is returned with `available: false`.

#![deny(missing_docs)]

pub mod advanced;
pub mod decision;
mod json;
mod loader;
mod policy;
mod schedule;
mod signals;
mod testing;
mod ticket;
mod url;

pub use decision::{Decision, Mode};
pub use loader::{DiskFs, FsLoader};
pub use policy::{Context, EngineError, EngineKind, LoadOptions, Policy, PolicyError};
pub use routec_compiler::Proofs;
pub use testing::TestOutcome;
pub use ticket::{Ticket, TicketError};
