//! Engine internals, for benchmarks and tools that measure or inspect the
//! parts of routing separately: the compiler's HIR and program behind a
//! policy, the signal block, the engine's raw outcome, a validated ticket's
//! field values.
//!
//! **Unstable.** Everything here speaks the compiler's types and may change
//! in any release, without notice; services use [`Policy::route`] and the
//! plain data of [`crate::decision`] instead.
//!
//! ```
//! use routec_runtime::advanced::PolicyInternals;
//! use routec_runtime::Policy;
//!
//! let policy = Policy::compile("inline.route", r#"
//! policy "demo" version 1
//! ticket { subject: text }
//! queue general
//! otherwise -> general
//! "#).expect("the policy compiles");
//! let ticket = policy.ticket(r#"{"subject": "hello"}"#).expect("a valid ticket");
//! let mut block = Vec::new();
//! policy.signal_block(&ticket, &mut block);
//! assert_eq!(block.len(), policy.program().slot_count());
//! let raw = policy.decide(&block);
//! assert_eq!(raw.branch, 0);
//! ```

use crate::{Policy, Ticket};
use routec_compiler::{hir, Compiled, Diagnostic, SourceDb};

pub use crate::signals::{KeywordMatch, Signals};
pub use crate::ticket::{FieldValue, GivenSignals};
pub use routec_compiler::ir::{Program, RawOutcome};

mod sealed {
    /// Keeps the internals traits implemented by the runtime's own types only.
    pub trait Sealed {}
    impl Sealed for crate::Policy {}
    impl Sealed for crate::Ticket {}
}

/// A policy's engine internals. Unstable: see the [module](self) doc.
pub trait PolicyInternals: sealed::Sealed {
    /// The checked policy the program was lowered from.
    fn hir(&self) -> &hir::Policy;
    /// The lowered program the engines run.
    fn program(&self) -> &Program;
    /// The policy's source files (the root and its imports).
    fn sources(&self) -> &SourceDb;
    /// Warnings found while compiling.
    fn warnings(&self) -> &[Diagnostic];
    /// Fill `block` (resized to the program's slot count) with the ticket's
    /// signals, as [`Policy::route`] does before deciding.
    fn signal_block(&self, ticket: &Ticket, block: &mut Vec<f64>) -> Signals;
    /// Run the decision logic alone over a filled signal block. A block of
    /// the wrong length decides nothing: the default priority, no branch.
    fn decide(&self, block: &[f64]) -> RawOutcome;
}

impl PolicyInternals for Policy {
    fn hir(&self) -> &hir::Policy {
        &self.compiled.hir
    }

    fn program(&self) -> &Program {
        &self.compiled.program
    }

    fn sources(&self) -> &SourceDb {
        &self.compiled.db
    }

    fn warnings(&self) -> &[Diagnostic] {
        &self.compiled.warnings
    }

    fn signal_block(&self, ticket: &Ticket, block: &mut Vec<f64>) -> Signals {
        self.fill_signal_block(ticket, block)
    }

    fn decide(&self, block: &[f64]) -> RawOutcome {
        self.run_engine(block)
    }
}

/// A validated ticket's internals. Unstable: see the [module](self) doc.
pub trait TicketInternals: sealed::Sealed {
    /// The field values, indexed like `hir::Policy::fields`.
    fn values(&self) -> &[FieldValue];
    /// The signals the ticket brought itself (`"signals": {...}`).
    fn given_signals(&self) -> &GivenSignals;
}

impl TicketInternals for Ticket {
    fn values(&self) -> &[FieldValue] {
        &self.values
    }

    fn given_signals(&self) -> &GivenSignals {
        &self.signals
    }
}

/// Wrap a policy the compiler already compiled, with its classifier model
/// when it has one. The JIT is built when the host supports it.
pub fn from_compiled(compiled: Compiled, model: Option<routec_classifier::Model>) -> Policy {
    Policy::from_compiled(compiled, model)
}
