//! One module per `routec` verb; each exposes its clap `Args` and `run`.

pub mod audit;
pub mod bench;
pub mod check;
pub mod classify;
pub mod diff;
pub mod eval;
pub mod fmt;
pub mod history_input;
pub mod init;
pub mod lsp;
pub mod policies;
pub mod replay;
pub mod report;
pub mod route;
pub mod serve;
pub mod test;
pub mod train;

/// `--engine` on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineArg {
    /// The reference interpreter.
    Interp,
    /// Native code from Cranelift (the default).
    Jit,
}

impl EngineArg {
    pub fn all() -> Vec<EngineArg> {
        vec![EngineArg::Interp, EngineArg::Jit]
    }
}

impl From<EngineArg> for routec_runtime::EngineKind {
    fn from(e: EngineArg) -> routec_runtime::EngineKind {
        match e {
            EngineArg::Interp => routec_runtime::EngineKind::Interpreter,
            EngineArg::Jit => routec_runtime::EngineKind::Jit,
        }
    }
}
