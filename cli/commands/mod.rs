//! One module per `routec` verb; each exposes its clap `Args` and `run`.

pub mod check;
pub mod lsp;
pub mod route;
pub mod test;
