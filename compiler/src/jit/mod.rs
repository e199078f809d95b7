//! The Cranelift backend: compiles an [`ir::Program`](crate::ir::Program)
//! into one native function per policy that decides over the same signal
//! block as [`interp::decide`](crate::interp::decide) and must agree with it
//! exactly, NaN semantics included.
//!
//! - `codegen`: IR → Cranelift IR (one branch per rule; small conditions are
//!   evaluated without branches, large ones short-circuit);
//! - `module`: the shared host ISA, one `JITModule` per policy;
//! - `abi`: the fixed `extern "C"` signature, the call, freeing the code —
//!   the only `unsafe` in routec.
//!
//! The JIT decides; it does not scan text. Keyword sets, regexes, the
//! classifier and time zones are evaluated by the runtime into slots before
//! the call (see `docs/dev/jit.md` for the signal block layout and the
//! calling convention). Where Cranelift has no backend for the host,
//! [`host_supported`] is false and callers use the interpreter.

mod abi;
mod codegen;
mod module;

use crate::interp::SignalBlockError;
use crate::ir::{Program, RawOutcome};
use std::fmt;

/// Most slots a program may have: slot offsets are 32-bit byte offsets.
pub const MAX_SLOTS: usize = (i32::MAX / abi::SLOT_BYTES) as usize;
/// Most priority rules, and most branches, a program may have: `u32::MAX` is [`RawOutcome::NONE`].
pub const MAX_RULES: usize = (u32::MAX - 1) as usize;

/// How much Cranelift optimises the generated function.
///
/// `Speed` is the default: on a generated 1,000-rule policy it compiles as
/// fast as `None` (its code is less than half the size, which saves register
/// allocation and emission what the e-graph pass costs) and decides 2 to 4
/// times faster, mostly by sharing slot loads and constants across rules.
/// On small policies the two are equal. `examples/jit_bench.rs` measures both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OptLevel {
    /// No mid-end optimisation.
    None,
    /// Cranelift's `speed` level (e-graph rewrites, GVN, LICM).
    #[default]
    Speed,
}

/// Options for [`JitPolicy::compile_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitOptions {
    pub opt_level: OptLevel,
}

/// Why a program could not be compiled to native code. The interpreter can
/// still run it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JitError {
    /// Cranelift has no backend for this machine.
    UnsupportedHost(String),
    /// The program exceeds a limit of the calling convention.
    TooLarge { what: &'static str, count: usize, limit: usize },
    /// Cranelift rejected the generated function or could not load it.
    Codegen(String),
}

impl JitError {
    fn codegen(error: impl fmt::Debug) -> JitError {
        JitError::Codegen(format!("{error:?}"))
    }
}

impl fmt::Display for JitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JitError::UnsupportedHost(reason) => write!(f, "the JIT does not support this machine: {reason}"),
            JitError::TooLarge { what, count, limit } => {
                write!(f, "the policy has {count} {what}, more than the JIT's limit of {limit}")
            }
            JitError::Codegen(reason) => write!(f, "the JIT could not compile the policy: {reason}"),
        }
    }
}

impl std::error::Error for JitError {}

/// Whether Cranelift can compile for the machine this runs on.
pub fn host_supported() -> bool {
    module::host_isa(OptLevel::default()).is_ok()
}

/// A policy compiled to native code. Dropping it frees the code.
///
/// `Send` and `Sync`: the code is immutable once loaded and reads only what
/// each call lends it, so one `JitPolicy` can serve many threads.
pub struct JitPolicy {
    code: abi::LoadedCode,
    slot_count: usize,
    code_size: usize,
}

// The runtime shares one compiled policy between threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<JitPolicy>();
};

impl JitPolicy {
    /// Compile `program` with the default options.
    pub fn compile(program: &Program) -> Result<JitPolicy, JitError> {
        JitPolicy::compile_with(program, &JitOptions::default())
    }

    /// Compile `program` into one native function.
    pub fn compile_with(program: &Program, options: &JitOptions) -> Result<JitPolicy, JitError> {
        let slot_count = program.slot_count();
        if slot_count > MAX_SLOTS {
            return Err(JitError::TooLarge { what: "slots", count: slot_count, limit: MAX_SLOTS });
        }
        for (what, count) in [("priority rules", program.priority_rules.len()), ("branches", program.branches.len())] {
            if count > MAX_RULES {
                return Err(JitError::TooLarge { what, count, limit: MAX_RULES });
            }
        }
        let (code, code_size) = module::build(program, options)?;
        Ok(JitPolicy { code, slot_count, code_size })
    }

    /// Decide over `block`, which must have exactly `program.slot_count()`
    /// slots; the same contract and result as [`crate::interp::decide`].
    pub fn decide(&self, block: &[f64]) -> Result<RawOutcome, SignalBlockError> {
        self.code.call(block)
    }

    /// The number of slots the signal block must have.
    pub fn slot_count(&self) -> usize {
        self.slot_count
    }

    /// Size of the generated machine code in bytes.
    pub fn code_size(&self) -> usize {
        self.code_size
    }
}

impl fmt::Debug for JitPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JitPolicy").field("slot_count", &self.slot_count).field("code_size", &self.code_size).finish()
    }
}
