//! Building a policy's JIT module: the host ISA (made once per process and
//! optimisation level, then shared), one `JITModule` per policy, one
//! function in it.
//!
//! Safe code only: the module is handed to [`abi::CodeMemory`] as soon as
//! it exists, so its memory is freed on every path, including errors.

use super::{abi, codegen, JitError, JitOptions, OptLevel};
use crate::ir::Program;
use cranelift_codegen::ir::UserFuncName;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Module};
use std::sync::OnceLock;

static ISA_NONE: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();
static ISA_SPEED: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();

/// The host's ISA with routec's flags, or why Cranelift cannot target it.
pub(super) fn host_isa(opt_level: OptLevel) -> Result<OwnedTargetIsa, JitError> {
    let cell = match opt_level {
        OptLevel::None => &ISA_NONE,
        OptLevel::Speed => &ISA_SPEED,
    };
    cell.get_or_init(|| build_isa(opt_level)).clone().map_err(JitError::UnsupportedHost)
}

fn build_isa(opt_level: OptLevel) -> Result<OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    let level = match opt_level {
        OptLevel::None => "none",
        OptLevel::Speed => "speed",
    };
    // The verifier checks every function in debug builds (and so in tests);
    // release builds skip it to keep compiling a large policy fast.
    let verify = if cfg!(debug_assertions) { "true" } else { "false" };
    let settings =
        [("opt_level", level), ("enable_verifier", verify), ("use_colocated_libcalls", "false"), ("is_pic", "false")];
    for (name, value) in settings {
        flags.set(name, value).map_err(|e| format!("cranelift flag `{name}`: {e}"))?;
    }
    let isa_builder = cranelift_native::builder().map_err(|e| e.to_string())?;
    isa_builder.finish(settings::Flags::new(flags)).map_err(|e| e.to_string())
}

/// Compile `program` into its own module and load it.
pub(super) fn build(program: &Program, options: &JitOptions) -> Result<(abi::LoadedCode, usize), JitError> {
    let isa = host_isa(options.opt_level)?;
    // No helpers and no libcalls: the generated code calls nothing.
    let module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
    let mut memory = abi::CodeMemory::new(module);
    let func = memory.declare_decide()?;
    let code_size = {
        let Some(module) = memory.module_mut() else {
            return Err(JitError::Codegen("the JIT module was already freed".into()));
        };
        let mut ctx = module.make_context();
        ctx.func.signature = module.declarations().get_function_decl(func).signature.clone();
        ctx.func.name = UserFuncName::user(0, func.as_u32());
        let mut builder_ctx = FunctionBuilderContext::new();
        codegen::translate(program, &mut ctx.func, &mut builder_ctx, module.target_config())?;
        module.define_function(func, &mut ctx).map_err(JitError::codegen)?;
        ctx.compiled_code().map_or(0, |code| code.code_buffer().len())
    };
    let code = memory.load(func, program.slot_count())?;
    Ok((code, code_size))
}
