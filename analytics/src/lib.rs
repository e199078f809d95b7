//! routec's analytics, the loop around the router: `audit` a ticket history
//! before writing a policy, `replay` and `diff` policies before they go live,
//! and `report` on what `routec serve` decided and what agents did afterwards.
//! The CLI prints these results; `routec serve` shows the report at
//! `/dashboard`.

pub mod audit;
pub mod diff;
pub mod history;
pub mod init;
pub mod render;
pub mod replay;
pub mod report;
pub mod spike;
mod terms;
pub mod train_log;
