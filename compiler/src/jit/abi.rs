//! The only `unsafe` code in routec: the one fixed calling convention between
//! Rust and a policy's generated function, the call itself, and freeing the
//! memory the code lives in.
//!
//! **Architecture invariant.** Every generated function has the signature
//! [`signature`], which is the Rust type [`DecideFn`]:
//!
//! ```text
//! extern "C" fn(block: *const f64, out: *mut OutcomeAbi)
//! ```
//!
//! It reads `block[s]` only for `s < slot_count` (codegen turns any other
//! slot into a NaN constant at compile time), writes the four `u32` fields
//! of `*out` and nothing else, calls nothing, allocates nothing and cannot
//! trap. [`LoadedCode::call`] checks `block.len() == slot_count` before every
//! call, so the reads stay inside the slice the caller lent.
//!
//! **Ownership.** [`CodeMemory`] owns the `JITModule` from the moment it is
//! created until it is dropped, and its `Drop` frees the code with
//! `JITModule::free_memory`, also when compilation fails half way. The entry
//! pointer never leaves [`LoadedCode`], which owns the `CodeMemory`, so no
//! pointer to the code can outlive it.
//!
//! This module must not know about the IR: it only knows the ABI.

#![expect(
    unsafe_code,
    reason = "calling JIT-compiled code and freeing its memory cannot be checked by the Rust compiler; each block states its invariant"
)]

use super::JitError;
use crate::interp::SignalBlockError;
use crate::ir::RawOutcome;
use cranelift_codegen::ir::{AbiParam, Signature, Type};
use cranelift_codegen::isa::CallConv;
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module};
use std::mem::offset_of;
use std::sync::{Mutex, PoisonError};

/// What the generated function writes: four `u32` in C layout, the fields
/// of [`RawOutcome`] in its order.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct OutcomeAbi {
    priority: u32,
    priority_rule: u32,
    branch: u32,
    enforced_branch: u32,
}

/// Byte offsets of the [`OutcomeAbi`] fields, for the stores codegen emits.
pub(super) const OUT_PRIORITY: i32 = offset_of!(OutcomeAbi, priority) as i32;
pub(super) const OUT_PRIORITY_RULE: i32 = offset_of!(OutcomeAbi, priority_rule) as i32;
pub(super) const OUT_BRANCH: i32 = offset_of!(OutcomeAbi, branch) as i32;
pub(super) const OUT_ENFORCED_BRANCH: i32 = offset_of!(OutcomeAbi, enforced_branch) as i32;

const _: () = assert!(OUT_PRIORITY == 0 && OUT_PRIORITY_RULE == 4 && OUT_BRANCH == 8 && OUT_ENFORCED_BRANCH == 12);
const _: () = assert!(std::mem::size_of::<OutcomeAbi>() == 16);
const _: () = assert!(std::mem::size_of::<f64>() == SLOT_BYTES as usize);

/// Size of one signal-block slot in bytes.
pub(super) const SLOT_BYTES: i32 = 8;

/// The Rust view of the one generated function a policy has.
type DecideFn = unsafe extern "C" fn(block: *const f64, out: *mut OutcomeAbi);

/// The Cranelift view of [`DecideFn`]: two pointers in, nothing out, in the
/// host's C calling convention.
pub(super) fn signature(pointer: Type, call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(pointer)); // block: *const f64
    sig.params.push(AbiParam::new(pointer)); // out: *mut OutcomeAbi
    sig
}

/// The memory of one policy's code: owns the `JITModule`, frees it on drop.
///
/// The module sits in a `Mutex` only so that `JitPolicy` is `Sync`
/// (`JITModule` is `Send` but not `Sync`); the lock is never taken, since
/// the module is only touched through `&mut self`.
pub(super) struct CodeMemory {
    module: Mutex<Option<JITModule>>,
}

impl CodeMemory {
    pub(super) fn new(module: JITModule) -> CodeMemory {
        CodeMemory { module: Mutex::new(Some(module)) }
    }

    fn module_slot(&mut self) -> &mut Option<JITModule> {
        // Never locked, so never poisoned; if it were, the module is still intact.
        self.module.get_mut().unwrap_or_else(PoisonError::into_inner)
    }

    /// The module, for declaring and defining the function.
    pub(super) fn module_mut(&mut self) -> Option<&mut JITModule> {
        self.module_slot().as_mut()
    }

    /// Declare the decision function with the fixed [`signature`].
    pub(super) fn declare_decide(&mut self) -> Result<FuncId, JitError> {
        let Some(module) = self.module_mut() else { return Err(gone()) };
        let sig = signature(module.target_config().pointer_type(), module.target_config().default_call_conv);
        module.declare_anonymous_function(&sig).map_err(JitError::codegen)
    }

    /// Finalize the module and take the entry point of `func`, which must
    /// have been declared by [`CodeMemory::declare_decide`] and defined.
    pub(super) fn load(mut self, func: FuncId, slot_count: usize) -> Result<LoadedCode, JitError> {
        let Some(module) = self.module_mut() else { return Err(gone()) };
        let expected = signature(module.target_config().pointer_type(), module.target_config().default_call_conv);
        if module.declarations().get_function_decl(func).signature != expected {
            return Err(JitError::Codegen("the decision function does not have the fixed signature".into()));
        }
        module.finalize_definitions().map_err(JitError::codegen)?;
        let code = module.get_finalized_function(func);
        // SAFETY: `func` is defined in this module (`get_finalized_function`
        // panics otherwise) and was declared with `signature`, checked just
        // above, whose two pointer parameters in the target's default C
        // calling convention are exactly `DecideFn`. `finalize_definitions`
        // has applied relocations and made the memory executable. The
        // pointer stays valid until `free_memory`, which only
        // `CodeMemory::drop` calls; it is stored next to its `CodeMemory`
        // in `LoadedCode` and never handed out.
        let entry = unsafe { std::mem::transmute::<*const u8, DecideFn>(code) };
        Ok(LoadedCode { entry, slot_count, _memory: self })
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        if let Some(module) = self.module_slot().take() {
            // SAFETY: we are dropping the only owner of the code. Calls run
            // through `LoadedCode::call(&self)`, so none can be executing
            // while we hold `&mut self`, and the entry pointer dies with
            // the `LoadedCode` that is being dropped.
            unsafe { module.free_memory() };
        }
    }
}

fn gone() -> JitError {
    JitError::Codegen("the JIT module was already freed".into())
}

/// A policy's compiled, callable decision function.
pub(super) struct LoadedCode {
    entry: DecideFn,
    slot_count: usize,
    // Declared last so the pointer field is conceptually dead before the memory goes.
    _memory: CodeMemory,
}

impl LoadedCode {
    /// Run the generated code over `block`, which must have exactly the
    /// program's number of slots.
    pub(super) fn call(&self, block: &[f64]) -> Result<RawOutcome, SignalBlockError> {
        if block.len() != self.slot_count {
            return Err(SignalBlockError { expected: self.slot_count, found: block.len() });
        }
        let mut out = OutcomeAbi::default();
        // SAFETY: `entry` points at live code of type `DecideFn` (see
        // `CodeMemory::load`; the memory is owned by `self`). The code reads
        // `block[s]` only for `s < slot_count` (codegen's invariant), and
        // `block` has exactly `slot_count` initialised, 8-byte aligned
        // `f64`s, checked above, borrowed immutably for the whole call. It
        // writes only the four fields of `out`, a live, exclusive local.
        // It does not unwind, so no panic crosses the `extern "C"` boundary.
        unsafe { (self.entry)(block.as_ptr(), &mut out) };
        Ok(RawOutcome {
            priority: out.priority,
            priority_rule: out.priority_rule,
            branch: out.branch,
            enforced_branch: out.enforced_branch,
        })
    }
}
