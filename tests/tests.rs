//! Integration tests of the `routec` product surface: they run the real
//! binary or the public crates over data files in this folder. See
//! `tests/README.md` for how to add a case and review snapshots.

mod browser;
mod check;
mod classifier_cli;
mod cli;
mod decisions;
mod fmt;
mod fuzz;
mod harness;
mod history_cli;
mod limits;
mod lsp;
mod parser_props;
mod report;
mod serve;
mod tidy;
mod train_log;
